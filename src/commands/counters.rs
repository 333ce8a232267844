//! `/counters`: the "N days have passed since ..." lines, each counted on the
//! date of its configured zone (Moscow's for the embassy's).

use chrono::{DateTime, Utc};

use crate::config::CounterConfig;
use crate::counters::counter_lines;
use crate::render::escape;

/// Every configured counter at `now`.
pub fn reply(now: DateTime<Utc>, counters: &[CounterConfig]) -> String {
    let lines = counter_lines(now, counters);
    if lines.is_empty() {
        return "No counters are configured.".into();
    }
    lines
        .iter()
        .map(|l| escape(l))
        .collect::<Vec<_>>()
        .join("\n\n")
}
