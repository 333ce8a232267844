//! `/time`: the site's header clocks — the date in `time.date_zone` (Moscow's by
//! default), then each configured clock (Moscow and London).

use chrono::{DateTime, Utc};

use crate::config::Language;
use crate::config::TimeConfig;
use crate::text::clock::clocks_at;
use crate::text::markup::escape;

/// The clocks at `now`, laid out like the site's header, in `lang`.
pub fn reply(now: DateTime<Utc>, config: &TimeConfig, lang: Language) -> String {
    let clocks = clocks_at(now, config, lang);
    let mut text = format!("<b>{}</b>", escape(&clocks.date));
    for (label, time) in &clocks.times {
        text.push_str(&format!("\n{}: {}", escape(label), time));
    }
    text
}
