//! `/latest [n]`: the newest releases from the store, newest first by the site's date.
//!
//! A page is asked for by its offset ([`page`]), so "older" / "newer" buttons
//! can walk the list ([`view`]).

use super::buttons::{Page, Press, pager};
use crate::render::fit_list_counted;
use crate::store::{ReleasePage, Store, StoreError};

/// The reply's words, in one place (they move to translation files with i18n).
mod text {
    pub const NOTHING_YET: &str = "No releases recorded yet: the site has not been read successfully. Try again in a few minutes.";
    pub const NO_OLDER: &str = "No older releases.";
    pub const LATEST_ONE: &str = "<b>Latest release</b>";

    pub fn latest(n: usize) -> String {
        format!("<b>Latest {n} releases</b>")
    }

    /// A page further down the list: releases `from` to `to` (1-based).
    pub fn older(from: usize, to: usize) -> String {
        format!("<b>Releases {from}–{to}, newest first</b>")
    }
}

/// The newest `n` releases, within Telegram's length limit.
pub fn reply(store: &Store, n: usize) -> Result<String, StoreError> {
    page(store, 0, n)
}

/// `n` releases after the `offset` newest, within Telegram's length limit.
pub fn page(store: &Store, offset: usize, n: usize) -> Result<String, StoreError> {
    Ok(render(&store.latest_page(offset, n)?))
}

/// `n` releases after the `offset` newest, with buttons to the newer and
/// older pages (those that lead somewhere).
pub fn view(store: &Store, offset: usize, n: usize) -> Result<Page, StoreError> {
    let page = store.latest_page(offset, n)?;
    let (text, shown) = render_counted(&page);
    let older = page.has_more || shown < page.items.len();
    let keyboard = pager(
        page.has_newer()
            .then(|| Press::latest(offset.saturating_sub(n), n)),
        older.then(|| Press::latest(offset + shown, n)),
    );
    Ok(Page { text, keyboard })
}

/// A page of releases as the reply shows it.
pub fn render(page: &ReleasePage) -> String {
    render_counted(page).0
}

/// [`render`], and how many releases the text holds.
fn render_counted(page: &ReleasePage) -> (String, usize) {
    let items: Vec<_> = page.items.iter().map(|s| s.item.clone()).collect();
    let header = match (page.offset, items.len()) {
        (0, 0) => return (text::NOTHING_YET.into(), 0),
        (_, 0) => return (text::NO_OLDER.into(), 0),
        (0, 1) => text::LATEST_ONE.to_string(),
        (0, n) => text::latest(n),
        (offset, n) => text::older(offset + 1, offset + n),
    };
    fit_list_counted(&header, &items)
}
