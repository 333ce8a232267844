//! When a page's configured extraction (link patterns or selectors) finds
//! nothing on a page that had releases, the site was most likely redesigned.
//! These are the other ways to read the same releases, tried in this order:
//!
//! 1. a feed the page advertises (`<link rel="alternate">`, [`advertised`]),
//!    read by the feed reader;
//! 2. structured data: JSON-LD `ItemList`, `NewsArticle`, `BlogPosting`
//!    ([`jsonld`]);
//! 3. repeated blocks: `<article>` elements, or the largest group of
//!    sibling blocks that each hold a link and a date ([`blocks`]);
//! 4. the site's `sitemap.xml` with `lastmod` ([`sitemap`]).
//!
//! All of it is pure: the poller fetches the feed or sitemap (through the
//! same guarded client, on the source's own host or its `www.` twin only) and
//! passes the text in, with the releases the source knew ([`Known`]), which
//! decide whether what a fallback found is the same list ([`recognise`]).
//! [`suggest`] turns what was found into a `[[sources]]` block that makes it
//! explicit.

pub(crate) mod advertised;
pub(crate) mod blocks;
pub(crate) mod jsonld;
pub(crate) mod recognise;
pub(crate) mod sitemap;
pub(crate) mod suggest;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use url::Url;

use super::canonical::{canonical_id, may_link, without_tracking};
use super::{Item, MAX_URL_LEN, cut};
use crate::config::SourceConfig;

/// What the bot reads instead of a source's configured extraction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Fallback {
    /// A feed the page advertises, at `url`.
    Feed { url: String },
    /// JSON-LD structured data in the page.
    JsonLd,
    /// Repeated blocks of the page; `selector` is CSS that selects them,
    /// `link` the title link inside one when it is in a heading.
    Blocks {
        selector: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        link: Option<String>,
    },
    /// The site's sitemap, at `url`.
    Sitemap { url: String },
}

impl Fallback {
    /// Which fallback this is, whatever it found (a metrics label, a
    /// comparison that ignores where exactly a feed lives).
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Fallback::Feed { .. } => "feed",
            Fallback::JsonLd => "json_ld",
            Fallback::Blocks { .. } => "blocks",
            Fallback::Sitemap { .. } => "sitemap",
        }
    }
}

impl std::fmt::Display for Fallback {
    /// What the bot reads now, for operators.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fallback::Feed { url } => write!(f, "the feed the page advertises, {url}"),
            Fallback::JsonLd => f.write_str("the page's structured data (JSON-LD)"),
            Fallback::Blocks { selector, .. } => {
                write!(f, "the page's repeated blocks (`{selector}`)")
            }
            Fallback::Sitemap { url } => write!(f, "the site's sitemap, {url}"),
        }
    }
}

/// A source's fallback as the store keeps it, so a restart keeps reading the
/// same way and operators are not told again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Repair {
    pub fallback: Fallback,
    /// When it began (Unix seconds).
    pub since: i64,
    /// [`config_hash`] of the source when it began: a changed config ends it.
    pub config: u64,
}

/// A release the source knew: what recognising it elsewhere needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    pub id: String,
    pub title: String,
    pub date: Option<NaiveDate>,
}

/// A hash of what decides how a source's page is read (its address, kind,
/// link patterns and selectors): when it changes, a fallback taken under the
/// old settings ends. FNV-1a, so it is the same on every run.
pub(crate) fn config_hash(source: &SourceConfig) -> u64 {
    let patterns: Vec<&str> = source.link_patterns.iter().map(|p| p.as_str()).collect();
    let text = format!(
        "{}\n{}\n{:?}\n{:?}",
        source.url, source.kind, patterns, source.selectors
    );
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A release found by a fallback, checked as extraction checks a link: a web
/// link of a sane length on the source's own site (or its `link_hosts`),
/// keyed canonically, with a title that says something. `None` otherwise.
pub(crate) fn found_item(
    href: &str,
    title: &str,
    date: Option<NaiveDate>,
    lead: &str,
    base: &Url,
    source: &SourceConfig,
) -> Option<Item> {
    if href.len() > MAX_URL_LEN {
        return None;
    }
    let url = base.join(href.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https")
        || url.as_str().len() > MAX_URL_LEN
        || !may_link(&url, base, &source.link_hosts)
    {
        return None;
    }
    let title = super::flat::one_line(title);
    if title.chars().filter(|c| c.is_alphanumeric()).count() < 3 {
        return None;
    }
    Some(Item {
        id: canonical_id(&url, &source.tracking_params)?,
        url: without_tracking(&url, &source.tracking_params).to_string(),
        title: cut(title),
        date,
        lead: cut(super::flat::one_line(lead)),
    })
}

/// `items` without repeats of one id (the first stays), at most `max`.
pub(crate) fn dedup(items: Vec<Item>, max: usize) -> Vec<Item> {
    let mut seen = std::collections::HashSet::new();
    items
        .into_iter()
        .filter(|item| seen.insert(item.id.clone()))
        .take(max)
        .collect()
}

/// Whether a page is really empty (an outage or error page, a maintenance
/// notice): hardly any links, no feed advertised, no structured data. Such a
/// page is never "repaired": it shows no releases because there are none.
pub(crate) fn looks_empty(html: &str) -> bool {
    let lower = html.to_ascii_lowercase();
    let links = lower.matches("<a ").count() + lower.matches("<a\n").count();
    links < 3 && !lower.contains("application/ld+json") && !lower.contains("rel=\"alternate\"")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn source() -> SourceConfig {
        crate::config::Config::from_toml(
            "[[sources]]\nname = \"news\"\nurl = \"https://example.org/news\"\n",
        )
        .expect("config")
        .sources
        .remove(0)
    }

    #[test]
    fn a_found_item_stays_on_the_site_and_says_something() {
        let base = Url::parse("https://example.org/news").unwrap();
        let s = source();
        let day = NaiveDate::from_ymd_opt(2024, 5, 1);
        let item = found_item("/a/1?utm_source=x", "A  title", day, "", &base, &s).unwrap();
        assert_eq!(item.id, "example.org/a/1");
        assert_eq!(item.url, "https://example.org/a/1");
        assert_eq!(item.title, "A title");
        assert!(
            found_item(
                "https://www.example.org/a/2",
                "Twin host",
                day,
                "",
                &base,
                &s
            )
            .is_some()
        );
        assert!(
            found_item(
                "https://evil.example.com/a/1",
                "Elsewhere",
                day,
                "",
                &base,
                &s
            )
            .is_none()
        );
        assert!(found_item("javascript:alert(1)", "Script", day, "", &base, &s).is_none());
        assert!(found_item("/a/3", " - ", day, "", &base, &s).is_none());
    }

    #[test]
    fn the_config_hash_follows_what_decides_reading() {
        let a = source();
        let mut b = a.clone();
        assert_eq!(config_hash(&a), config_hash(&b));
        b.link_patterns = vec![regex::Regex::new("^/x/").unwrap()];
        assert_ne!(config_hash(&a), config_hash(&b));
    }

    #[test]
    fn an_outage_page_looks_empty() {
        assert!(looks_empty(
            "<html><body><h1>Service temporarily unavailable</h1><a href=/>Home</a></body></html>"
        ));
        let list: String = (0..5).map(|n| format!("<a href=/n/{n}>{n}</a>")).collect();
        assert!(!looks_empty(&list));
    }
}
