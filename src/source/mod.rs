//! Where releases come from: fetching a page and extracting items and page chrome.
//!
//! Fetching ([`fetch`]) is the only part that does I/O; extraction ([`extract`]),
//! character-set decoding ([`charset`]) and Cloudflare e-mail decoding ([`cfemail`])
//! are pure functions, tested on fixtures.

pub mod cfemail;
pub mod charset;
pub mod extract;
pub mod fetch;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

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
