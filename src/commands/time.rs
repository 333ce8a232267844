//! `/time`: the site's header clocks — the date in `time.date_zone` (Moscow's by
//! default), then each configured clock (Moscow and London).

use chrono::{DateTime, Utc};

use crate::clock::clocks_at;
use crate::config::TimeConfig;
use crate::render::escape;

/// The clocks at `now`, laid out like the site's header.
pub fn reply(now: DateTime<Utc>, config: &TimeConfig) -> String {
    let clocks = clocks_at(now, config);
    let mut text = format!("<b>{}</b>", escape(&clocks.date));
    for (label, time) in &clocks.times {
        text.push_str(&format!("\n{}: {}", escape(label), time));
    }
    text
}
