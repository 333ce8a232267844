//! `/latest [n]`: the newest releases from the store, newest first by the site's date.
//!
//! A page is asked for by its offset ([`page`]), so "older" / "newer" buttons
//! can walk the list.

use crate::render::fit_list;
use crate::settings::Language;
use crate::store::{ReleasePage, Store, StoreError};
use crate::tr;

/// The newest `n` releases in `lang`, within Telegram's length limit.
pub fn reply(store: &Store, n: usize, lang: Language) -> Result<String, StoreError> {
    page(store, 0, n, lang)
}

/// `n` releases after the `offset` newest, within Telegram's length limit.
pub fn page(store: &Store, offset: usize, n: usize, lang: Language) -> Result<String, StoreError> {
    Ok(render(&store.latest_page(offset, n)?, lang))
}

/// A page of releases as the reply shows it.
pub fn render(page: &ReleasePage, lang: Language) -> String {
    let items: Vec<_> = page.items.iter().map(|s| s.item.clone()).collect();
    let header = match (page.offset, items.len()) {
        (0, 0) => return tr!(lang, "latest-nothing-yet"),
        (_, 0) => return tr!(lang, "latest-no-older"),
        (0, 1) => tr!(lang, "latest-one"),
        (0, n) => tr!(lang, "latest-many", count = n),
        (offset, n) => tr!(lang, "latest-older", from = offset + 1, to = offset + n),
    };
    fit_list(&header, &items, lang)
}
