//! `/latest [n]`: the newest releases from the store, newest first by the site's date.
//!
//! A page is asked for by its offset ([`page`]), so "older" / "newer" buttons
//! can walk the list ([`view`]).

use super::paging::{Page, Press, pager};
use crate::config::Language;
use crate::render::FullTextView;
use crate::render::fit_list_counted;
use crate::store::{ReleasePage, Store, StoreError, StoredItem};
use crate::telegram::messenger::{Button, Keyboard};
use crate::tr;

/// The newest `n` releases in `lang`, within Telegram's length limit.
pub fn reply(store: &Store, n: usize, lang: Language) -> Result<String, StoreError> {
    page(store, 0, n, lang)
}

/// `n` releases after the `offset` newest, within Telegram's length limit.
pub fn page(store: &Store, offset: usize, n: usize, lang: Language) -> Result<String, StoreError> {
    Ok(render(&store.latest_page(offset, n)?, lang))
}

/// `n` releases after the `offset` newest, with buttons to the newer and
/// older pages (those that lead somewhere).
pub fn view(store: &Store, offset: usize, n: usize, lang: Language) -> Result<Page, StoreError> {
    let page = store.latest_page(offset, n)?;
    let (text, shown) = render_counted(&page, lang);
    let older = page.has_more || shown < page.items.len();
    let mut keyboard = pager(
        page.has_newer()
            .then(|| Press::latest(offset.saturating_sub(n), n)),
        older.then(|| Press::latest(offset + shown, n)),
        lang,
    );
    let full_text = full_text_rows(store, &page.items[..shown.min(page.items.len())], lang)?;
    if !full_text.is_empty() {
        let rows = &mut keyboard.get_or_insert_with(Keyboard::default).rows;
        rows.splice(0..0, full_text);
    }
    Ok(Page { text, keyboard })
}

/// Buttons "📄 1", "📄 2", … for the entries shown whose full text was read,
/// five to a row: each sends that release's full text as new messages, so
/// the list stays as it is (a button per entry, as a reader points at one).
fn full_text_rows(
    store: &Store,
    shown: &[StoredItem],
    lang: Language,
) -> Result<Vec<Vec<Button>>, StoreError> {
    let mut buttons = Vec::new();
    for (i, stored) in shown.iter().enumerate() {
        if store.body(&stored.item.id)?.is_some() {
            let press = Press::FullText {
                seq: stored.seq,
                view: FullTextView::Apart,
            };
            buttons.push(press.button(tr!(lang, "button-full-text-n", n = i + 1)));
        }
    }
    Ok(buttons.chunks(5).map(<[Button]>::to_vec).collect())
}

/// A page of releases as the reply shows it.
pub fn render(page: &ReleasePage, lang: Language) -> String {
    render_counted(page, lang).0
}

/// [`render`], and how many releases the text holds.
fn render_counted(page: &ReleasePage, lang: Language) -> (String, usize) {
    let items: Vec<_> = page.items.iter().map(|s| s.item.clone()).collect();
    let header = match (page.offset, items.len()) {
        (0, 0) => return (tr!(lang, "latest-nothing-yet"), 0),
        (_, 0) => return (tr!(lang, "latest-no-older"), 0),
        (0, 1) => tr!(lang, "latest-one"),
        (0, n) => tr!(lang, "latest-many", count = n),
        (offset, n) => tr!(lang, "latest-older", from = offset + 1, to = offset + n),
    };
    fit_list_counted(&header, &items, lang)
}
