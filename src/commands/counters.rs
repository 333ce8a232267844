//! `/counters`: the "N days have passed since ..." lines, each counted on the
//! date of its configured zone (Moscow's for the embassy's).

use chrono::{DateTime, Utc};

use crate::config::CounterConfig;
use crate::config::Language;
use crate::text::counters::counter_lines;
use crate::text::markup::escape;
use crate::tr;

/// Every configured counter at `now`, in `lang`.
pub fn reply(now: DateTime<Utc>, counters: &[CounterConfig], lang: Language) -> String {
    let lines = counter_lines(now, counters, lang);
    if lines.is_empty() {
        return tr!(lang, "counters-none");
    }
    lines
        .iter()
        .map(|l| escape(l))
        .collect::<Vec<_>>()
        .join("\n\n")
}
