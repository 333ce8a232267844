//! The site's header clocks as pure functions of an instant.
//!
//! The header shows one calendar date (Moscow's) and several labelled times.
//! Everything takes `now` so tests can pin any instant, DST changes included.

use chrono::{DateTime, Utc};

use crate::config::TimeConfig;

/// What the header shows at one instant: a date line and `label: HH:MM` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clocks {
    /// The date in the configured date zone, as the site writes it ("21 May 2022").
    pub date: String,
    /// `(label, "HH:MM")` pairs in configured order.
    pub times: Vec<(String, String)>,
}

/// Reads the configured clocks at `now`.
pub fn clocks_at(now: DateTime<Utc>, config: &TimeConfig) -> Clocks {
    let date = now
        .with_timezone(&config.date_zone)
        .format("%-d %B %Y")
        .to_string();
    let times = config
        .clocks
        .iter()
        .map(|clock| {
            let local = now.with_timezone(&clock.zone).format("%H:%M").to_string();
            (clock.label.clone(), local)
        })
        .collect();
    Clocks { date, times }
}
