//! `/search <words>`: every stored release whose title and lead match, newest
//! first by the site's date, [`PAGE`] at a time. The words match as
//! [`crate::text::matching`] says (the rules keyword filters share).
//!
//! A page is asked for by its offset ([`page`]), so "older" / "newer" buttons
//! can walk the results ([`view`]); the buttons name the query by the number
//! the store keeps it under.

use super::paging::{Page, Press, pager};
use crate::config::Language;
use crate::render::fit_blocks;
use crate::store::{SearchResults, Store, StoreError};
use crate::text::markup::{escape, utf16_len};
use crate::text::matching::Query;
use crate::tr;

/// Results shown in one reply.
pub const PAGE: usize = 10;

/// What `/search` takes: the id of the reply to a query it cannot run.
pub const USAGE: &str = "search-usage";

/// The first page of results for `query`, in `lang`.
pub fn reply(store: &Store, query: &Query, lang: Language) -> Result<String, StoreError> {
    page(store, query, 0, lang)
}

/// The page of results for `query` after the `offset` newest matches.
pub fn page(
    store: &Store,
    query: &Query,
    offset: usize,
    lang: Language,
) -> Result<String, StoreError> {
    Ok(render(&store.search(query, offset, PAGE)?, query, lang))
}

/// The page of results for `query` after the `offset` newest matches, with
/// buttons to the newer and older pages (those that lead somewhere).
/// `saved` gives the query's number in the store, and is called only when
/// there is a button to put it in (saving it, for a new search).
pub fn view(
    store: &Store,
    query: &Query,
    offset: usize,
    lang: Language,
    saved: impl FnOnce() -> Result<u64, StoreError>,
) -> Result<Page, StoreError> {
    let results = store.search(query, offset, PAGE)?;
    let (text, shown) = render_counted(&results, query, lang);
    let newer = offset > 0 && results.total > 0;
    let older = offset + shown < results.total;
    if !newer && !older {
        return Ok(Page {
            text,
            keyboard: None,
        });
    }
    let id = saved()?;
    let keyboard = pager(
        newer.then(|| Press::search(id, offset.min(results.total).saturating_sub(PAGE))),
        older.then(|| Press::search(id, offset + shown)),
        lang,
    );
    Ok(Page { text, keyboard })
}

/// A page of results as the reply shows it, within Telegram's length limit.
pub fn render(results: &SearchResults, query: &Query, lang: Language) -> String {
    render_counted(results, query, lang).0
}

/// [`render`], and how many results the text holds.
fn render_counted(results: &SearchResults, query: &Query, lang: Language) -> (String, usize) {
    let query = escape(&query.describe());
    let page = &results.page;
    let total = results.total;
    if total == 0 {
        return (tr!(lang, "search-nothing", query = query), 0);
    }
    if page.items.is_empty() {
        return (tr!(lang, "search-past-the-end", total = total), 0);
    }
    let items: Vec<_> = page.items.iter().map(|s| s.item.clone()).collect();
    let header = tr!(lang, "search-found", total = total, query = query);
    let first_of = |shown: usize| tr!(lang, "search-first-of", shown = shown, total = total);
    let range_of =
        |from: usize, to: usize| tr!(lang, "search-range-of", from = from, to = to, total = total);
    // Room for the longest line that can follow the blocks.
    let reserve = utf16_len(&range_of(total, total)).max(utf16_len(&first_of(total))) + 2;
    let (mut out, shown) = fit_blocks(&header, &items, reserve, lang);
    let from = page.offset + 1;
    let to = page.offset + shown;
    if page.offset == 0 && to < total {
        out.push_str("\n\n");
        out.push_str(&first_of(shown));
    } else if page.offset > 0 {
        out.push_str("\n\n");
        out.push_str(&range_of(from, to));
    }
    (out, shown)
}
