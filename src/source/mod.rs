//! Where releases come from: fetching a page and extracting items and page chrome.
//!
//! Fetching ([`fetch`]) is the only part that does I/O, within what [`guard`]
//! lets a site make us reach; extraction ([`extract()`]
//! dispatching to [`extract`](mod@extract) for HTML and [`feed`] for feeds),
//! character-set decoding ([`charset`]), dates ([`date`]), release keys
//! ([`canonical`]) and Cloudflare e-mail decoding ([`cfemail`]) are pure
//! functions, tested on fixtures and on feeds and pages from the wild.
//!
//! Whatever a page holds, one read yields at most the source's `max_items`
//! items, titles and leads of at most [`MAX_TEXT_CHARS`] characters, and no link
//! longer than [`MAX_URL_LEN`] bytes; and an HTML page is parsed only up to its
//! first [`ANCHORS_PER_ITEM`] × `max_items` links.

pub mod body;
pub(crate) mod canonical;
pub(crate) mod cfemail;
pub mod charset;
pub mod date;
pub mod extract;
pub(crate) mod fallback;
pub(crate) mod feed;
pub mod fetch;
mod flat;
pub mod guard;
pub(crate) mod timestamp;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::{SourceConfig, SourceKind};

/// Why a decoded body yielded no page at all (an HTML page always yields one,
/// possibly empty; only a feed can be unreadable).
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The message carries the feed error's own (it is not a `source`, so an
    /// error chain printed whole does not repeat it).
    #[error("{url}: {error}")]
    Feed { url: String, error: feed::FeedError },
}

use crate::text::markup::MAX_TEXT_CHARS;

/// Links longer than this many bytes are refused: no real release URL is, and
/// the link is part of the key an item is stored under.
pub const MAX_URL_LEN: usize = 2_048;

/// `text` cut to [`MAX_TEXT_CHARS`].
fn cut(text: String) -> String {
    if text.len() <= MAX_TEXT_CHARS {
        text
    } else {
        crate::text::markup::shorten(&text, MAX_TEXT_CHARS)
    }
}

/// The kind a body is read as: the source's, or for `auto` what the body looks like.
pub(crate) fn effective_kind(kind: SourceKind, text: &str) -> SourceKind {
    match kind {
        SourceKind::Auto if feed::looks_like_feed(text) => SourceKind::Feed,
        SourceKind::Auto => SourceKind::Html,
        other => other,
    }
}

/// The one entry point from a decoded body to items: feed or HTML (selectors when
/// configured, link patterns otherwise). `base` is where the body came from (after
/// redirects); relative links resolve against it. Read at the present moment:
/// [`extract_at`] says when.
pub fn extract(source: &SourceConfig, text: &str, base: &Url) -> Result<Page, ExtractError> {
    extract_at(source, text, base, chrono::Utc::now())
}

/// [`extract()`] at `now`, which fills in what a feed's date leaves out (ISO
/// 8601's two-digit years are `now`'s century, a date without a year is in
/// `now`'s: see `source/timestamp.rs`). Pure: the poller and `check-source`
/// pass their clock's time.
pub fn extract_at(
    source: &SourceConfig,
    text: &str,
    base: &Url,
    now: DateTime<Utc>,
) -> Result<Page, ExtractError> {
    match effective_kind(source.kind, text) {
        SourceKind::Feed => {
            feed::extract_feed(text, base, source, now).map_err(|error| ExtractError::Feed {
                url: crate::config::redact::Redacted(base).to_string(),
                error,
            })
        }
        _ => {
            let text = within_anchor_budget(text, source.max_items);
            Ok(match &source.selectors {
                Some(selectors) => extract::extract_with_selectors(text, base, selectors, source),
                None => extract::extract_page(text, base, source),
            })
        }
    }
}

/// An HTML page is parsed up to this many links (`<a` tags) per item a read
/// may take, and no further. Real pages have a few hundred links around their
/// releases; a 4 MB page of 60,000 would cost a 50 MB parse tree for releases
/// that `max_items` leaves untaken anyway.
pub(crate) const ANCHORS_PER_ITEM: usize = 8;

/// `html` up to its `ANCHORS_PER_ITEM × max_items`-th `<a` tag, or whole.
pub fn within_anchor_budget(html: &str, max_items: usize) -> &str {
    let budget = max_items.saturating_mul(ANCHORS_PER_ITEM);
    let bytes = html.as_bytes();
    let mut anchors = 0;
    for (at, _) in html.match_indices('<') {
        let is_anchor = matches!(bytes.get(at + 1), Some(b'a' | b'A'))
            && bytes
                .get(at + 2)
                .is_none_or(|b| b.is_ascii_whitespace() || *b == b'>' || *b == b'/');
        if is_anchor {
            anchors += 1;
            if anchors > budget {
                return &html[..at];
            }
        }
    }
    html
}

/// One release as the site lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// Stable identity: the canonical URL without scheme, `www.`/`m.`, trailing
    /// slash, fragment or tracking parameters, so the same release seen under
    /// different host names or tracking tags is one item ([`canonical`]).
    pub id: String,
    /// Absolute link to the release, as the page gave it less tracking parameters.
    pub url: String,
    pub title: String,
    /// The date the site shows, as a calendar day in the source's `time_zone`;
    /// some releases have none (and a date that cannot be read is none).
    pub date: Option<NaiveDate>,
    /// The lead paragraph (may be empty), whitespace-normalised, not shortened.
    pub lead: String,
}

/// Consular contacts as the live page shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contacts {
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl Contacts {
    /// True when the page gave nothing usable.
    pub fn is_empty(&self) -> bool {
        self.phone.is_none() && self.email.is_none()
    }
}

/// Everything one read of a page yields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    /// Items in page order (the site lists newest first).
    pub items: Vec<Item>,
    pub contacts: Contacts,
    /// What the read noticed about single entries that their items do not
    /// show, in entry order: for `check-source`, which the poller is not.
    pub notes: Vec<EntryNote>,
}

/// Something one read noticed about one feed entry: a date it could not read,
/// a title or link it had to stand in for, or that it skipped the entry.
/// `check-source` says it beside the entry, so an operator sees why a release
/// is undated, titled as it is, or missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryNote {
    /// The entry's place in the feed, from 1.
    pub entry: usize,
    /// The item it became, as an index into [`Page::items`]; `None` when the
    /// entry became none.
    pub item: Option<usize>,
    pub noticed: Noticed,
}

/// What [`EntryNote`] says about its entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Noticed {
    /// A date was written but gives none: the text as written, and why.
    DateUnread { text: String, why: date::Unread },
    /// No title: the first sentence of the entry's description stands in.
    TitleFromDescription,
    /// No title and no description: the link stands in for the title.
    TitleFromLink,
    /// No link: the item links to the source's page.
    LinkToSourcePage,
    /// Neither a title nor a link: nothing a reader could be pointed to, so
    /// no item.
    Skipped,
    /// The entry's id, its only key, is longer than [`MAX_URL_LEN`] bytes: no
    /// item, as for a link that long.
    KeyTooLong,
}

impl std::fmt::Display for Noticed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Noticed::DateUnread { text, why } => write!(f, "date `{text}` {why}"),
            Noticed::TitleFromDescription => {
                f.write_str("no title: the description's first sentence stands in")
            }
            Noticed::TitleFromLink => {
                f.write_str("no title and no description: the link stands in")
            }
            Noticed::LinkToSourcePage => {
                f.write_str("no link: the item links to the source's page")
            }
            Noticed::Skipped => f.write_str("neither a title nor a link: skipped"),
            Noticed::KeyTooLong => write!(f, "its id is longer than {MAX_URL_LEN} bytes: skipped"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_parsed_up_to_its_anchor_budget() {
        let page = "<p><a href=/1>1</a> <A\thref=/2>2</A><abbr>x</abbr><a>3</a></p>";
        // 8 anchors an item: one item allows 8, so all three stay.
        assert_eq!(within_anchor_budget(page, 1), page);
        let many: String = (0..20).map(|n| format!("<a href=/{n}>{n}</a>")).collect();
        let cut = within_anchor_budget(&many, 1);
        assert_eq!(
            cut.matches("<a ").count(),
            8,
            "<abbr> and </a> do not count"
        );
        assert!(cut.ends_with("<a href=/7>7</a>"));
    }
}
