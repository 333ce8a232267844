//! The site's "N days have passed since ..." counters.
//!
//! The site counts on the calendar date of a configured zone (Moscow), not on
//! the reader's: near midnight Moscow is already a day ahead of London.

use chrono::{DateTime, Utc};

use crate::config::CounterConfig;

/// Whole days from the counter's start date to `now`'s date in the counter's zone.
pub fn days_since(now: DateTime<Utc>, counter: &CounterConfig) -> i64 {
    let today = now.with_timezone(&counter.zone).date_naive();
    (today - counter.since).num_days()
}

/// The counter's text with `{days}` filled in for `now`.
pub fn counter_line(now: DateTime<Utc>, counter: &CounterConfig) -> String {
    counter
        .text
        .replace("{days}", &days_since(now, counter).to_string())
}

/// Every configured counter line at `now`, in configured order.
pub fn counter_lines(now: DateTime<Utc>, counters: &[CounterConfig]) -> Vec<String> {
    counters.iter().map(|c| counter_line(now, c)).collect()
}
