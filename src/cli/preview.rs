//! `embassy-bot preview [URL or file]`: read a page once and print what the bot's
//! commands would answer — no token, no Telegram, no database.

use chrono::{DateTime, Utc};

use crate::cli::check_source::read_target;
use crate::commands::{self, LATEST_DEFAULT};
use crate::config::Config;
use crate::config::Language;
use crate::render::fit_list;
use crate::source::extract_at;
use crate::text::markup::to_plain;
use crate::tr;

/// The operator's terminal speaks English.
const EN: Language = Language::En;

/// Reads `target` (a source name, a URL, a file, or by default the first
/// configured source) and returns the report to print.
pub(crate) async fn run(
    config: &Config,
    target: Option<&str>,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let read = read_target(config, target).await?;
    let page = extract_at(&read.source, &read.body.text, &read.base, now)?;
    let shown = &read.shown;

    let mut out = format!(
        "Read {shown} ({} decoded): {} releases, contacts {}\n",
        read.body.charset,
        page.items.len(),
        if page.contacts.is_empty() {
            "not found"
        } else {
            "found"
        }
    );
    let section = |out: &mut String, title: &str, html: &str| {
        out.push_str(&format!("\n=== {title} ===\n{}\n", to_plain(html)));
    };
    let latest = if page.items.is_empty() {
        "No releases found on this page: check sources[].link_patterns.".to_string()
    } else {
        let n = page.items.len().min(LATEST_DEFAULT);
        let mut items = page.items.clone();
        // /latest orders by the site's date, newest first (undated last).
        items.sort_by_key(|i| std::cmp::Reverse(i.date));
        fit_list(&tr!(EN, "latest-many", count = n), &items[..n], EN)
    };
    section(&mut out, "/latest", &latest);
    section(
        &mut out,
        "/time",
        &commands::time::reply(now, &config.time, EN),
    );
    section(
        &mut out,
        "/counters",
        &commands::counters::reply(now, &config.counters, EN),
    );
    let live = (!page.contacts.is_empty()).then(|| (page.contacts.clone(), now));
    section(
        &mut out,
        "/contact",
        &commands::contact::reply(live, &config.contact, EN),
    );
    Ok(out)
}
