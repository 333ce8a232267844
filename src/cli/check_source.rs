//! `embassy-bot check-source <source name | URL | file>`: the operator's tool for
//! tuning link patterns and selectors. It reads the page once, exactly as the
//! poller would (same fetch, charset detection and extraction), and prints every
//! item, how the body was decoded, the HTTP caching headers, and warnings about
//! what would go wrong in production. No token, no Telegram, no database.
//!
//! [`read_target`] is shared with `preview`, which reads a page the same way.

use std::fmt::Write as _;
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use url::Url;

use crate::config::redact::Redacted;
use crate::config::{Config, SourceConfig, SourceKind, is_valid_source_name};
use crate::source::charset::{CharsetFrom, Decoded};
use crate::source::fallback::suggest::{Reading, Suggestion, for_page, toml_block};
use crate::source::fetch::{FetchOutcome, HttpMeta, Validators, client_for, fetch, read_file};
use crate::source::{EntryNote, Item, Noticed, Page, effective_kind, extract_at};
use crate::store::PollPolicy;
use crate::text::markup::shorten;

/// A page read once on the operator's request.
#[derive(Debug, Clone)]
pub struct OneRead {
    /// What the operator asked for, as shown back (a URL redacted).
    pub shown: String,
    /// The settings used: the named source's, or the first source's with kind
    /// `auto` for a bare URL or file.
    pub source: SourceConfig,
    /// Where relative links resolve: the final URL, or the first source's URL for a file.
    pub base: Url,
    pub body: Decoded,
    /// `None` for a file.
    pub http: Option<HttpMeta>,
}

/// Reads `target` — a configured source's name, an http(s) URL, or a saved file;
/// by default the first configured source. An unknown name is an error that lists
/// the configured ones.
pub async fn read_target(config: &Config, target: Option<&str>) -> anyhow::Result<OneRead> {
    let first = config
        .sources
        .first()
        .ok_or_else(|| anyhow::anyhow!("no source is configured"))?;
    // A URL or file not in the config: read like the first source, kind detected.
    let adhoc = || SourceConfig {
        kind: SourceKind::Auto,
        selectors: None,
        ..first.clone()
    };
    let source = match target {
        None => first.clone(),
        Some(t) if t.starts_with("http://") || t.starts_with("https://") => {
            // Not echoed: the operator's URL may carry credentials.
            let url = Url::parse(t).map_err(|e| anyhow::anyhow!("not a valid URL: {e}"))?;
            let mut adhoc = config
                .sources
                .iter()
                .find(|s| s.url == url)
                .cloned()
                .unwrap_or_else(adhoc);
            adhoc.url = url;
            adhoc
        }
        Some(t) => match config.source_named(t) {
            Some(source) => source.clone(),
            None if is_valid_source_name(t) && !Path::new(t).exists() => {
                let names: Vec<&str> = config.sources.iter().map(|s| s.name.as_str()).collect();
                anyhow::bail!(
                    "no source named `{t}`; configured sources: {} (or give a URL or a file)",
                    names.join(", ")
                );
            }
            None => {
                // A saved page: resolve its links against the first configured site.
                let body = read_file(Path::new(t))?;
                return Ok(OneRead {
                    shown: t.to_string(),
                    source: adhoc(),
                    base: first.url.clone(),
                    body,
                    http: None,
                });
            }
        },
    };
    let client = client_for(&source)?;
    let outcome = fetch(&client, &source, &Validators::default()).await?;
    let fetched = match outcome {
        FetchOutcome::Fetched(fetched) => *fetched,
        // We sent no validators, so a 304 is the server's confusion.
        FetchOutcome::NotModified => anyhow::bail!(
            "{}: 304 Not Modified to an unconditional request",
            Redacted(&source.url)
        ),
    };
    Ok(OneRead {
        shown: match target {
            Some(name) if config.source_named(name).is_some() => name.to_string(),
            _ => Redacted(&source.url).to_string(),
        },
        base: fetched.http.final_url.clone(),
        body: fetched.body,
        http: Some(fetched.http),
        source,
    })
}

/// What `check-source` prints, and whether it found anything.
#[derive(Debug, Clone)]
pub(crate) struct Report {
    pub text: String,
    pub items: usize,
}

/// Reads `target` once and describes what the poller would make of it.
pub(crate) async fn run(
    config: &Config,
    target: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Report> {
    let read = read_target(config, Some(target)).await?;
    let page = extract_at(&read.source, &read.body.text, &read.base, now)?;
    let mut text = describe(&read, &page, now.date_naive());
    text.push_str(&suggestion(&read, &page));
    Ok(Report {
        text,
        items: page.items.len(),
    })
}

/// A `[[sources]]` block that reads this page, and what it was made from:
/// for a feed, the feed itself; for HTML, the feed the page advertises, its
/// repeated blocks, or link patterns from its releases' paths
/// ([`crate::source::fallback::suggest::for_page`]). Said for any page, so a
/// redesigned one, or one no pattern is configured for yet, gets a start.
fn suggestion(read: &OneRead, page: &Page) -> String {
    let source = &read.source;
    let found = if effective_kind(source.kind, &read.body.text) == SourceKind::Feed {
        Some(Suggestion {
            from: "the feed itself".into(),
            reading: Reading::Feed(read.base.clone()),
        })
    } else {
        for_page(&read.body.text, &read.base, source, &page.items)
    };
    match found {
        Some(found) => format!(
            "\nsuggested config (from {}):\n{}",
            found.from,
            toml_block(source, &found.reading)
        ),
        None => "\nno config to suggest: the page has no feed, no repeated blocks with dates and no release links\n".into(),
    }
}

/// The printed report: where the page came from, HTTP, charset, items, warnings.
pub fn describe(read: &OneRead, page: &Page, today: NaiveDate) -> String {
    let source = &read.source;
    let kind = effective_kind(source.kind, &read.body.text);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} — source `{}`, read as {kind}{}",
        read.shown,
        source.name,
        match (kind, &source.selectors) {
            (SourceKind::Feed, _) => "",
            (_, Some(_)) => " with CSS selectors",
            (_, None) => " with link patterns",
        }
    );
    match &read.http {
        Some(http) => {
            let _ = writeln!(
                out,
                "HTTP {} from {}",
                http.status,
                Redacted(&http.final_url)
            );
            let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
            let _ = writeln!(
                out,
                "  ETag: {}\n  Last-Modified: {}\n  Cache-Control: {}\n  Expires: {}",
                shown(&http.validators.etag),
                shown(&http.validators.last_modified),
                shown(&http.cache_control),
                shown(&http.expires),
            );
            if http.validators.is_empty() {
                let _ = writeln!(
                    out,
                    "  (no ETag or Last-Modified: every poll downloads the whole page)"
                );
            }
        }
        None => {
            let _ = writeln!(
                out,
                "read from a file; links resolve against {}",
                Redacted(&read.base)
            );
        }
    }
    let _ = match read.body.from {
        CharsetFrom::Detected => writeln!(
            out,
            "charset: detected {} (no usable declaration, and the bytes are not UTF-8)",
            read.body.charset
        ),
        from => writeln!(out, "charset: {} (from the {from})", read.body.charset),
    };
    if let Some(note) = &read.body.note {
        let _ = writeln!(out, "  note: {note}");
    }
    let _ = writeln!(out, "\n{} items:", page.items.len());
    for (n, item) in page.items.iter().enumerate() {
        let date = item
            .date
            .map_or_else(|| "no date   ".to_string(), |d| d.to_string());
        let _ = writeln!(
            out,
            "{:>3}. {date}  {}\n     {}",
            n + 1,
            item.title,
            item.url
        );
        if !item.lead.is_empty() {
            let _ = writeln!(out, "     {}", shorten(&item.lead, 120));
        }
        for note in page.notes.iter().filter(|note| note.item == Some(n)) {
            let _ = writeln!(out, "     note: {}", note.noticed);
        }
    }
    let mut warnings = warnings(source, &page.items, today);
    warnings.extend(entry_warnings(&page.notes));
    if warnings.is_empty() {
        let _ = writeln!(out, "\nno warnings");
    } else {
        let _ = writeln!(out, "\nwarnings:");
        for w in warnings {
            let _ = writeln!(out, "  - {w}");
        }
    }
    out
}

/// What the notes of a read say that the items cannot: entries that became
/// no item, each with why, and how many items a date that did not read left
/// undated or dated by another of their dates.
fn entry_warnings(notes: &[EntryNote]) -> Vec<String> {
    let mut out: Vec<String> = notes
        .iter()
        .filter(|note| note.item.is_none())
        .map(|note| format!("entry {}: {}", note.entry, note.noticed))
        .collect();
    let mut with_unread: Vec<usize> = notes
        .iter()
        .filter(|note| matches!(note.noticed, Noticed::DateUnread { .. }))
        .filter_map(|note| note.item)
        .collect();
    with_unread.dedup();
    if !with_unread.is_empty() {
        out.push(format!(
            "{} items have a date that could not be read (see their notes above)",
            with_unread.len()
        ));
    }
    out
}

/// What would go wrong if the poller read this page: nothing found, no dates,
/// entries without a link of the site's, the flood guard, items too old to
/// push. Pure, for tests.
pub fn warnings(source: &SourceConfig, items: &[Item], today: NaiveDate) -> Vec<String> {
    let mut out = Vec::new();
    if items.is_empty() {
        out.push(match &source.selectors {
            Some(_) => "no items: check sources[].selectors (item, link)".to_string(),
            None => "no items: check sources[].link_patterns, or set sources[].selectors, or kind"
                .to_string(),
        });
        return out;
    }
    let undated = items.iter().filter(|i| i.date.is_none()).count();
    if undated == items.len() {
        out.push(
            "no item has a date: /latest cannot order them and max_age_days cannot apply"
                .to_string(),
        );
    } else if undated > 0 {
        out.push(format!("{undated} of {} items have no date", items.len()));
    }
    // Only an entry with no link the source may give gets a key with a `#`
    // (its own id, in the feed's namespace): it links to the feed itself.
    let unlinked = items.iter().filter(|i| i.id.contains('#')).count();
    if unlinked > 0 {
        out.push(format!(
            "{unlinked} of {} items link to the feed itself: their entries have no link, or one to a host that is neither the source's own nor in sources[].link_hosts",
            items.len()
        ));
    }
    if items.len() >= source.max_items {
        out.push(format!(
            "{} items = max_items: the read stopped there, and the page may hold more",
            items.len()
        ));
    }
    // The poller's own guard, so what is said here is what it would do.
    let policy = PollPolicy::new(source.max_new_items, source.max_age_days, today);
    if policy.is_flood(items.len()) {
        out.push(format!(
            "{} items > max_new_items ({}): if all were new at once the flood guard would hold them back",
            items.len(),
            source.max_new_items
        ));
    }
    let old = items.iter().filter(|i| !policy.is_fresh(i)).count();
    if old > 0 {
        out.push(format!(
            "{old} items are dated more than {} days ago (max_age_days): they would be recorded but not pushed",
            source.max_age_days
        ));
    }
    out
}
