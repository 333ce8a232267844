//! `/search <words>`: every stored release whose title and lead match, newest
//! first by the site's date, [`PAGE`] at a time. The words match as
//! [`crate::matching`] says (the rules keyword filters share).
//!
//! A page is asked for by its offset ([`page`]), so "older" / "newer" buttons
//! can walk the results ([`view`]); the buttons name the query by the number
//! the store keeps it under.

use super::buttons::{Page, Press, pager};
use crate::matching::Query;
use crate::render::{escape, fit_blocks, utf16_len};
use crate::store::{SearchResults, Store, StoreError};

/// Results shown in one reply.
pub const PAGE: usize = 10;

/// The reply's words, in one place (they move to translation files with i18n).
mod text {
    /// What `/search` takes; the reply to a query it cannot run.
    pub const USAGE: &str = "Usage: /search <words>, for example /search visa London. \
A release is found when its title or lead has every word, at the start of a word \
(visa finds visas); \"a phrase\" in quotes matches as written, and -word leaves out \
releases that have it. At most 10 words and 200 characters.";

    pub fn nothing_found(query: &str) -> String {
        format!(
            "Nothing found for <b>{query}</b>. Every word must be in the title or lead, \
and a word matches at its start (visa finds visas): try fewer or shorter words."
        )
    }

    pub fn found(total: usize, query: &str) -> String {
        match total {
            1 => format!("<b>1 release</b> for <b>{query}</b>"),
            n => format!("<b>{n} releases</b> for <b>{query}</b>, newest first"),
        }
    }

    /// Under a first page that does not show everything.
    pub fn first_of(shown: usize, total: usize) -> String {
        format!("{shown} of {total} shown. Add words to narrow the search.")
    }

    /// Under a later page: releases `from` to `to` (1-based).
    pub fn range_of(from: usize, to: usize, total: usize) -> String {
        format!("{from}–{to} of {total} shown.")
    }

    pub fn past_the_end(total: usize) -> String {
        format!("No more results: all {total} were shown.")
    }
}

pub use text::USAGE;

/// The first page of results for `query`.
pub fn reply(store: &Store, query: &Query) -> Result<String, StoreError> {
    page(store, query, 0)
}

/// The page of results for `query` after the `offset` newest matches.
pub fn page(store: &Store, query: &Query, offset: usize) -> Result<String, StoreError> {
    Ok(render(&store.search(query, offset, PAGE)?, query))
}

/// The page of results for `query` after the `offset` newest matches, with
/// buttons to the newer and older pages (those that lead somewhere).
/// `saved` gives the query's number in the store, and is called only when
/// there is a button to put it in (saving it, for a new search).
pub fn view(
    store: &Store,
    query: &Query,
    offset: usize,
    saved: impl FnOnce() -> Result<u64, StoreError>,
) -> Result<Page, StoreError> {
    let results = store.search(query, offset, PAGE)?;
    let (text, shown) = render_counted(&results, query);
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
    );
    Ok(Page { text, keyboard })
}

/// A page of results as the reply shows it, within Telegram's length limit.
pub fn render(results: &SearchResults, query: &Query) -> String {
    render_counted(results, query).0
}

/// [`render`], and how many results the text holds.
fn render_counted(results: &SearchResults, query: &Query) -> (String, usize) {
    let shown_query = escape(&query.describe());
    let page = &results.page;
    if results.total == 0 {
        return (text::nothing_found(&shown_query), 0);
    }
    if page.items.is_empty() {
        return (text::past_the_end(results.total), 0);
    }
    let items: Vec<_> = page.items.iter().map(|s| s.item.clone()).collect();
    let header = text::found(results.total, &shown_query);
    // Room for the longest line that can follow the blocks.
    let total = results.total;
    let reserve = utf16_len(&text::range_of(total, total, total))
        .max(utf16_len(&text::first_of(total, total)))
        + 2;
    let (mut out, shown) = fit_blocks(&header, &items, reserve);
    let from = page.offset + 1;
    let to = page.offset + shown;
    if page.offset == 0 && to < total {
        out.push_str("\n\n");
        out.push_str(&text::first_of(shown, total));
    } else if page.offset > 0 {
        out.push_str("\n\n");
        out.push_str(&text::range_of(from, to, total));
    }
    (out, shown)
}
