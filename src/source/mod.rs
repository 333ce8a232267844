//! Where releases come from: fetching a page and extracting items and page chrome.
//!
//! Fetching ([`fetch`]) is the only part that does I/O, within what [`guard`]
//! lets a site make us reach; extraction ([`extract()`]
//! dispatching to [`extract`](mod@extract) for HTML and [`feed`] for feeds),
//! character-set decoding ([`charset`]) and Cloudflare e-mail decoding
//! ([`cfemail`]) are pure functions, tested on fixtures.

pub mod cfemail;
pub mod charset;
pub mod extract;
pub mod feed;
pub mod fetch;
pub mod guard;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::{SourceConfig, SourceKind};

/// Why a decoded body yielded no page at all (an HTML page always yields one,
/// possibly empty; only a feed can be unreadable).
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("{url}: {source}")]
    Feed {
        url: String,
        source: feed::FeedError,
    },
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
            items: feed::extract_feed(text, base).map_err(|source| ExtractError::Feed {
                url: crate::redact::Redacted(base).to_string(),
                source,
            })?,
            contacts: Contacts::default(),
        }),
        _ => Ok(match &source.selectors {
            Some(selectors) => extract::extract_with_selectors(text, base, selectors),
            None => extract::extract_page(text, base, &source.link_patterns),
        }),
    }
}

/// One release as the site lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// Stable identity: the canonical URL without scheme, `www.`/`m.` or trailing slash,
    /// so the same release seen under different host names is one item.
    pub id: String,
    /// Absolute link to the release, as the page gave it.
    pub url: String,
    pub title: String,
    /// The date the site shows; some releases have none.
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
