//! Quiet hours and the daily digest in a chat's own time zone, with daylight
//! saving exact (chrono-tz): pure functions of an instant.
//!
//! Local times that a clock change skips or repeats are read as people read
//! them: a time skipped in spring ("01:30" on the night London goes from
//! 01:00 to 02:00) is the moment the clocks change; a time repeated in
//! autumn is its first occurrence.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::TargetSettings;

/// The zone `/quiet` and `/digest` use when none is named.
pub(crate) const DEFAULT_ZONE: Tz = chrono_tz::Europe::London;

/// Pushes in these hours are held; `from` to `to` in `zone`, across midnight
/// when `to` comes first (23:00–07:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuietHours {
    #[serde(with = "hhmm")]
    pub from: NaiveTime,
    #[serde(with = "hhmm")]
    pub to: NaiveTime,
    #[serde(with = "zone")]
    pub zone: Tz,
}

/// One message a day at `at` in `zone`, with every release since the one before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestTime {
    #[serde(with = "hhmm")]
    pub at: NaiveTime,
    #[serde(with = "zone")]
    pub zone: Tz,
}

/// Whether a push may go now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuietState {
    Open,
    /// Not before this instant (the end of the quiet hours, or the digest's time).
    HeldUntil(DateTime<Utc>),
}

impl QuietHours {
    /// Whether `now` falls in these hours, and if so until when.
    pub fn state(&self, now: DateTime<Utc>) -> QuietState {
        let today = now.with_timezone(&self.zone).date_naive();
        // The hours that began yesterday may still run (across midnight).
        for start_day in [today.pred_opt(), Some(today)].into_iter().flatten() {
            let end_day = if self.from < self.to {
                Some(start_day)
            } else {
                start_day.succ_opt()
            };
            let Some(end_day) = end_day else { continue };
            let start = instant(self.zone, start_day, self.from);
            let end = instant(self.zone, end_day, self.to);
            if start <= now && now < end {
                return QuietState::HeldUntil(end);
            }
        }
        QuietState::Open
    }
}

impl DigestTime {
    /// The first digest strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        let day = t.with_timezone(&self.zone).date_naive();
        (0..=3)
            .filter_map(|n| {
                day.checked_sub_days(Days::new(1))?
                    .checked_add_days(Days::new(n))
            })
            .map(|d| instant(self.zone, d, self.at))
            .find(|at| *at > t)
            // Only past the end of chrono's calendar; never in practice.
            .unwrap_or(t)
    }
}

/// Whether a push to a target with `settings`, journaled at `journaled_at`
/// (`None`: by a version that did not record it), may go at `now`.
///
/// With a digest, a push waits for the first digest after it was journaled:
/// a digest holds "everything since the last one". Quiet hours hold
/// whatever falls due inside them, a digest included, until they end.
pub(crate) fn quiet_state(
    now: DateTime<Utc>,
    settings: &TargetSettings,
    journaled_at: Option<DateTime<Utc>>,
) -> QuietState {
    if let (Some(digest), Some(journaled)) = (&settings.digest, journaled_at) {
        let due = digest.next_after(journaled);
        if due > now {
            return QuietState::HeldUntil(due);
        }
    }
    match &settings.quiet {
        Some(quiet) => quiet.state(now),
        None => QuietState::Open,
    }
}

/// The instant a clock in `zone` shows `time` on `day`: a time the clocks
/// skip is the moment they change; a repeated time, its first occurrence.
fn instant(zone: Tz, day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let local = day.and_time(time);
    // A gap is at most a few hours long: walk forward a minute at a time to
    // the first local time that exists, the moment the clocks changed.
    for minutes in 0..=(24 * 60) {
        let Some(t) = local.checked_add_signed(chrono::Duration::minutes(minutes)) else {
            break;
        };
        if let Some(at) = zone.from_local_datetime(&t).earliest() {
            return at.with_timezone(&Utc);
        }
    }
    Utc.from_utc_datetime(&local)
}

/// Reads `HH:MM` (or `H:MM`), 00:00 to 23:59.
pub fn parse_time(text: &str) -> Option<NaiveTime> {
    let (h, m) = text.trim().split_once(':')?;
    let digits = |s: &str, len: std::ops::RangeInclusive<usize>| {
        len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(h, 1..=2) || !digits(m, 2..=2) {
        return None;
    }
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
}

/// Reads an IANA time zone name (`Europe/London`), case-insensitively.
pub fn parse_zone(text: &str) -> Option<Tz> {
    let text = text.trim();
    if text.is_empty() || text.len() > 64 {
        return None;
    }
    text.parse::<Tz>().ok().or_else(|| {
        chrono_tz::TZ_VARIANTS
            .iter()
            .find(|z| z.name().eq_ignore_ascii_case(text))
            .copied()
    })
}

/// `HH:MM`, as users type it.
mod hhmm {
    use chrono::{NaiveTime, Timelike};
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(t: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{:02}:{:02}", t.hour(), t.minute()))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_time(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("not a time: {text}")))
    }
}

/// An IANA zone by its name.
mod zone {
    use chrono_tz::Tz;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(z: &Tz, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(z.name())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Tz, D::Error> {
        let name = String::deserialize(d)?;
        super::parse_zone(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown time zone: {name}")))
    }
}

/// `HH:MM` of a time, for replies.
pub(crate) fn hh_mm(t: NaiveTime) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::{London, Moscow};

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    fn hours(from: &str, to: &str, zone: Tz) -> QuietHours {
        QuietHours {
            from: parse_time(from).unwrap(),
            to: parse_time(to).unwrap(),
            zone,
        }
    }

    fn quiet(from: &str, to: &str) -> TargetSettings {
        TargetSettings {
            quiet: Some(hours(from, to, London)),
            ..TargetSettings::default()
        }
    }

    fn held(at: DateTime<Utc>) -> QuietState {
        QuietState::HeldUntil(at)
    }

    #[test]
    fn quiet_hours_across_midnight() {
        // A summer night: London is UTC+1.
        let night = quiet("23:00", "07:00");
        let s = |h, mi, s| quiet_state(utc(2023, 6, 10, h, mi, s), &night, None);
        assert_eq!(s(21, 59, 59), QuietState::Open, "22:59:59 London");
        assert_eq!(s(22, 0, 0), held(utc(2023, 6, 11, 6, 0, 0)), "23:00 London");
        assert_eq!(
            s(23, 0, 0),
            held(utc(2023, 6, 11, 6, 0, 0)),
            "midnight London"
        );
        let next = |h, mi| quiet_state(utc(2023, 6, 11, h, mi, 0), &night, None);
        assert_eq!(next(5, 59), held(utc(2023, 6, 11, 6, 0, 0)), "06:59 London");
        assert_eq!(next(6, 0), QuietState::Open, "07:00 London: over");
        assert_eq!(next(12, 0), QuietState::Open);
    }

    #[test]
    fn quiet_hours_within_a_day_and_in_another_zone() {
        let afternoon = TargetSettings {
            quiet: Some(hours("13:00", "14:30", Moscow)),
            ..TargetSettings::default()
        };
        let s = |h, mi| quiet_state(utc(2023, 6, 10, h, mi, 0), &afternoon, None);
        assert_eq!(s(9, 59), QuietState::Open, "12:59 Moscow");
        assert_eq!(s(10, 0), held(utc(2023, 6, 10, 11, 30, 0)));
        assert_eq!(s(11, 30), QuietState::Open);
        assert_eq!(s(21, 0), QuietState::Open, "00:00 Moscow next day");
    }

    #[test]
    fn quiet_hours_on_the_night_the_clocks_go_forward() {
        // 26 March 2023: London goes from 01:00 GMT to 02:00 BST at 01:00 UTC.
        let night = quiet("23:00", "07:00");
        let s = |d, h, mi| quiet_state(utc(2023, 3, d, h, mi, 0), &night, None);
        // Begins at 23:00 GMT = 23:00 UTC on the 25th; ends at 07:00 BST = 06:00 UTC.
        assert_eq!(s(25, 22, 59), QuietState::Open);
        assert_eq!(s(25, 23, 0), held(utc(2023, 3, 26, 6, 0, 0)));
        assert_eq!(s(26, 0, 59), held(utc(2023, 3, 26, 6, 0, 0)), "just before");
        assert_eq!(s(26, 1, 0), held(utc(2023, 3, 26, 6, 0, 0)), "just after");
        assert_eq!(s(26, 5, 59), held(utc(2023, 3, 26, 6, 0, 0)));
        assert_eq!(s(26, 6, 0), QuietState::Open, "07:00 BST");
        // The next night begins at 23:00 BST = 22:00 UTC.
        assert_eq!(s(26, 21, 59), QuietState::Open);
        assert_eq!(s(26, 22, 0), held(utc(2023, 3, 27, 6, 0, 0)));

        // Hours that end inside the skipped hour end when the clocks change.
        let short = quiet("00:30", "01:30");
        assert_eq!(
            quiet_state(utc(2023, 3, 26, 0, 45, 0), &short, None),
            held(utc(2023, 3, 26, 1, 0, 0))
        );
        assert_eq!(
            quiet_state(utc(2023, 3, 26, 1, 0, 0), &short, None),
            QuietState::Open
        );
        // Hours wholly inside it do not happen that night.
        let skipped = quiet("01:10", "01:50");
        for minute in 0..=59 {
            assert_eq!(
                quiet_state(utc(2023, 3, 26, 1, minute, 0), &skipped, None),
                QuietState::Open
            );
        }
    }

    #[test]
    fn quiet_hours_on_the_night_the_clocks_go_back() {
        // 29 October 2023: London goes from 02:00 BST back to 01:00 GMT at 01:00 UTC.
        let night = quiet("23:00", "07:00");
        let s = |d, h, mi| quiet_state(utc(2023, 10, d, h, mi, 0), &night, None);
        // Begins at 23:00 BST = 22:00 UTC on the 28th; ends at 07:00 GMT = 07:00 UTC.
        assert_eq!(s(28, 21, 59), QuietState::Open);
        assert_eq!(s(28, 22, 0), held(utc(2023, 10, 29, 7, 0, 0)));
        assert_eq!(s(29, 0, 30), held(utc(2023, 10, 29, 7, 0, 0)), "01:30 BST");
        assert_eq!(s(29, 1, 30), held(utc(2023, 10, 29, 7, 0, 0)), "01:30 GMT");
        assert_eq!(s(29, 6, 59), held(utc(2023, 10, 29, 7, 0, 0)));
        assert_eq!(s(29, 7, 0), QuietState::Open);
        // A time the clocks show twice ends the hours the first time.
        let early = quiet("00:00", "01:30");
        assert_eq!(
            quiet_state(utc(2023, 10, 28, 23, 30, 0), &early, None),
            held(utc(2023, 10, 29, 0, 30, 0)),
            "01:30 BST, not 01:30 GMT"
        );
        assert_eq!(
            quiet_state(utc(2023, 10, 29, 1, 0, 0), &early, None),
            QuietState::Open,
            "01:00 GMT, the second time round, is after 01:30 BST"
        );
    }

    #[test]
    fn a_digest_holds_each_push_until_the_first_digest_after_it() {
        let daily = TargetSettings {
            digest: Some(DigestTime {
                at: parse_time("09:00").unwrap(),
                zone: London,
            }),
            ..TargetSettings::default()
        };
        let nine = utc(2023, 6, 10, 8, 0, 0); // 09:00 BST
        let nine_next = utc(2023, 6, 11, 8, 0, 0);
        let before = utc(2023, 6, 10, 7, 59, 59);
        assert_eq!(quiet_state(before, &daily, Some(before)), held(nine));
        assert_eq!(quiet_state(nine, &daily, Some(before)), QuietState::Open);
        assert_eq!(
            quiet_state(nine_next, &daily, Some(before)),
            QuietState::Open,
            "late is still due"
        );
        assert_eq!(
            quiet_state(nine, &daily, Some(nine)),
            held(nine_next),
            "strictly after"
        );
        let evening = utc(2023, 6, 10, 20, 0, 0);
        assert_eq!(quiet_state(evening, &daily, Some(evening)), held(nine_next));
        // Unknown journaling time: due now.
        assert_eq!(quiet_state(evening, &daily, None), QuietState::Open);
        // Across the autumn change: 09:00 GMT is 09:00 UTC.
        let saturday = utc(2023, 10, 28, 12, 0, 0);
        assert_eq!(
            quiet_state(saturday, &daily, Some(saturday)),
            held(utc(2023, 10, 29, 9, 0, 0))
        );
        // And the spring one: 09:00 BST is 08:00 UTC.
        let spring = utc(2023, 3, 25, 12, 0, 0);
        assert_eq!(
            quiet_state(spring, &daily, Some(spring)),
            held(utc(2023, 3, 26, 8, 0, 0))
        );
    }

    #[test]
    fn a_digest_in_quiet_hours_waits_for_them_to_end() {
        let both = TargetSettings {
            digest: Some(DigestTime {
                at: parse_time("06:00").unwrap(),
                zone: London,
            }),
            quiet: Some(hours("23:00", "07:00", London)),
            ..TargetSettings::default()
        };
        let evening = utc(2023, 6, 10, 18, 0, 0);
        let six = utc(2023, 6, 11, 5, 0, 0);
        assert_eq!(quiet_state(evening, &both, Some(evening)), held(six));
        assert_eq!(
            quiet_state(six, &both, Some(evening)),
            held(utc(2023, 6, 11, 6, 0, 0))
        );
    }

    #[test]
    fn times_and_zones_as_typed() {
        assert_eq!(parse_time("7:05"), NaiveTime::from_hms_opt(7, 5, 0));
        assert_eq!(parse_time("23:59"), NaiveTime::from_hms_opt(23, 59, 0));
        for bad in [
            "24:00", "7", "7:5", "07:60", "-1:00", "07:00:00", "", "ab:cd", "007:00",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
        assert_eq!(parse_zone("Europe/London"), Some(London));
        assert_eq!(parse_zone("europe/moscow"), Some(Moscow));
        assert_eq!(parse_zone("UTC"), Some(chrono_tz::UTC));
        assert_eq!(parse_zone("Europe/Londn"), None);
        assert_eq!(parse_zone(&"a".repeat(100)), None);
        let json = serde_json::to_string(&hours("23:00", "07:00", London)).unwrap();
        assert_eq!(
            json,
            r#"{"from":"23:00","to":"07:00","zone":"Europe/London"}"#
        );
        assert_eq!(
            serde_json::from_str::<QuietHours>(&json).unwrap(),
            hours("23:00", "07:00", London)
        );
    }
}
