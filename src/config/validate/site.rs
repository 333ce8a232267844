//! What the bot says about the site besides its releases: the site's name,
//! the header clocks (`[time]`), the day counters (`[[counters]]`) and the
//! fallback contact (`[contact]`).

use chrono::NaiveDate;

use super::values::{display_name, localized, parse_zone};
use crate::config::defaults::{
    DEFAULT_SITE_NAME, GLUSHKOV, GLUSHKOV_RU, LONDON, MOSCOW, SALISBURY, SALISBURY_RU,
};
use crate::config::raw::{RawClock, RawContact, RawCounter, RawTime};
use crate::config::{
    ClockConfig, ConfigError, ContactConfig, CounterConfig, Language, LocalizedText, SourceConfig,
    TimeConfig, invalid,
};

/// `site_name`, or when unset: the embassy's name for the built-in sources,
/// else each configured source's host once, in the order the sources name them.
pub(super) fn site_name(
    given: Option<String>,
    builtin_sources: bool,
    sources: &[SourceConfig],
) -> Result<String, ConfigError> {
    Ok(match given {
        Some(name) => display_name("site_name", name)?,
        None if builtin_sources => DEFAULT_SITE_NAME.to_string(),
        None => {
            let mut hosts: Vec<&str> = Vec::new();
            for s in sources {
                let host = s.url.host_str().unwrap_or(s.url.as_str());
                if !hosts.contains(&host) {
                    hosts.push(host);
                }
            }
            hosts.join(", ")
        }
    })
}

/// `[time]`: the zone whose date heads the clocks, and the clocks (Moscow
/// and London unless the file lists its own).
pub(super) fn time_from_raw(time: RawTime) -> Result<TimeConfig, ConfigError> {
    let date_zone = parse_zone(
        "time.date_zone",
        time.date_zone.as_deref().unwrap_or("Europe/Moscow"),
    )?;
    let clocks = match time.clocks {
        None => default_clocks(),
        Some(list) => list
            .into_iter()
            .enumerate()
            .map(|(i, c)| clock_from_raw(i, c))
            .collect::<Result<_, _>>()?,
    };
    Ok(TimeConfig { date_zone, clocks })
}

/// The embassy's clocks: Moscow and London.
fn default_clocks() -> Vec<ClockConfig> {
    vec![
        ClockConfig {
            label: LocalizedText::translated(MOSCOW.0, &[(Language::Ru, MOSCOW.1)]),
            zone: chrono_tz::Europe::Moscow,
        },
        ClockConfig {
            label: LocalizedText::translated(LONDON.0, &[(Language::Ru, LONDON.1)]),
            zone: chrono_tz::Europe::London,
        },
    ]
}

/// `time.clocks[i]`: a label in no language empty, and a zone.
fn clock_from_raw(i: usize, c: RawClock) -> Result<ClockConfig, ConfigError> {
    let key = format!("time.clocks[{i}].label");
    let label = localized(&key, c.label)?;
    if label.all().any(|l| l.trim().is_empty()) {
        return Err(invalid(key, "must not be empty"));
    }
    Ok(ClockConfig {
        label,
        zone: parse_zone(&format!("time.clocks[{i}].zone"), &c.zone)?,
    })
}

/// `[[counters]]`: the embassy's two unless the file lists its own.
pub(super) fn counters_from_raw(
    counters: Option<Vec<RawCounter>>,
) -> Result<Vec<CounterConfig>, ConfigError> {
    match counters {
        None => Ok(default_counters()),
        Some(list) => list
            .into_iter()
            .enumerate()
            .map(|(i, c)| counter_from_raw(i, c))
            .collect(),
    }
}

/// The embassy's counters: the days since Salisbury and since Glushkov's death.
fn default_counters() -> Vec<CounterConfig> {
    vec![
        CounterConfig {
            text: LocalizedText::translated(SALISBURY, &[(Language::Ru, SALISBURY_RU)]),
            since: NaiveDate::from_ymd_opt(2018, 3, 4).expect("valid date"),
            zone: chrono_tz::Europe::Moscow,
        },
        CounterConfig {
            text: LocalizedText::translated(GLUSHKOV, &[(Language::Ru, GLUSHKOV_RU)]),
            since: NaiveDate::from_ymd_opt(2018, 3, 12).expect("valid date"),
            zone: chrono_tz::Europe::Moscow,
        },
    ]
}

/// `counters[i]`: a text that says `{days}` in every language, a start date
/// and the zone whose calendar counts.
fn counter_from_raw(i: usize, c: RawCounter) -> Result<CounterConfig, ConfigError> {
    let key = format!("counters[{i}].text");
    let text = localized(&key, c.text)?;
    if text.all().any(|t| !t.contains("{days}")) {
        return Err(invalid(key, "must contain the {days} placeholder"));
    }
    let since = NaiveDate::parse_from_str(c.since.trim(), "%Y-%m-%d").map_err(|_| {
        invalid(
            format!("counters[{i}].since"),
            format!("`{}` is not a date in YYYY-MM-DD form", c.since),
        )
    })?;
    let zone = parse_zone(
        &format!("counters[{i}].zone"),
        c.zone.as_deref().unwrap_or("Europe/Moscow"),
    )?;
    Ok(CounterConfig { text, since, zone })
}

/// `[contact]`: the embassy's phone and e-mail unless the file gives others.
pub(super) fn contact_from_raw(contact: RawContact) -> ContactConfig {
    ContactConfig {
        phone: contact
            .phone
            .unwrap_or_else(|| "+44 (0) 203 161 8858".into()),
        email: contact.email.unwrap_or_else(|| "info@rusemb.org.uk".into()),
    }
}
