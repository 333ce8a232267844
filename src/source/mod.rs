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
//! longer than [`MAX_URL_LEN`] bytes.

pub mod canonical;
pub mod cfemail;
pub mod charset;
pub mod date;
pub mod extract;
pub mod feed;
pub mod fetch;
mod flat;
pub mod guard;

use chrono::NaiveDate;
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

/// Titles and leads are cut (at a word, with "…") to this many characters: a
/// page cannot make a message, or a stored item, arbitrarily large.
pub const MAX_TEXT_CHARS: usize = 1_000;

/// Links longer than this many bytes are refused: no real release URL is, and
/// the link is part of the key an item is stored under.
pub const MAX_URL_LEN: usize = 2_048;

/// `text` cut to [`MAX_TEXT_CHARS`].
fn cut(text: String) -> String {
    if text.len() <= MAX_TEXT_CHARS {
        text
    } else {
        crate::render::shorten(&text, MAX_TEXT_CHARS)
    }
}

/// The kind a body is read as: the source's, or for `auto` what the body looks like.
pub fn effective_kind(kind: SourceKind, text: &str) -> SourceKind {
    match kind {
        SourceKind::Auto if feed::looks_like_feed(text) => SourceKind::Feed,
        SourceKind::Auto => SourceKind::Html,
        other => other,
    }
}

/// The one entry point from a decoded body to items: feed or HTML (selectors when
/// configured, link patterns otherwise). `base` is where the body came from (after
/// redirects); relative links resolve against it.
pub fn extract(source: &SourceConfig, text: &str, base: &Url) -> Result<Page, ExtractError> {
    match effective_kind(source.kind, text) {
        SourceKind::Feed => Ok(Page {
            items: feed::extract_feed(text, base, source).map_err(|error| ExtractError::Feed {
                url: crate::redact::Redacted(base).to_string(),
                error,
            })?,
            contacts: Contacts::default(),
        }),
        _ => Ok(match &source.selectors {
            Some(selectors) => extract::extract_with_selectors(text, base, selectors, source),
            None => extract::extract_page(text, base, source),
        }),
    }
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
}
