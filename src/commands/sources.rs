//! `/sources`: every watched page or feed — its name (what `/subscribe <name>`
//! takes), its address, whether this chat (or topic) gets it, and how its
//! reads are going, so a user can see why a source is quiet. The error text
//! itself (it can name internal addresses) is shown only in an operator's
//! private chat; everyone else, and everyone in a group (operators too), sees
//! since when a source has been failing. An operator who asks in a group
//! gets the errors of the failing sources privately ([`errors`]).
//!
//! The list fits Telegram's limit however many sources there are and
//! however long their addresses: an address is shown cut (with "…") past
//! [`MAX_URL_SHOWN`] characters, and a list too long for one message comes
//! in pages ("◀ Back" / "More ▶", turned in place), each with its
//! sources whole. Under a page, one button per source on it shows whether
//! this chat (or topic) gets it, and pressing it subscribes or unsubscribes
//! that source ([`super::buttons`]).

use std::ops::Range;

use chrono::{DateTime, Utc};

use super::Context;
use super::paging::{Page, Press};
use crate::config::Language;
use crate::config::SourceConfig;
use crate::config::redact::Redacted;
use crate::store::{Store, StoreError, Target};
use crate::telegram::messenger::{Button, Keyboard};
use crate::text::markup::{MAX_MESSAGE_UTF16, escape, in_messages, pack, shorten, utf16_len};
use crate::tr;
use crate::watch::poller::Health;

/// At most this many sources on a page, so each has its toggle (Telegram
/// takes 100 buttons under a message; two more turn pages).
pub(crate) const MAX_TOGGLES: usize = 40;

/// A source's address is shown cut to this many characters (ending "…"):
/// enough to tell sources apart, and no address can crowd out the list.
pub(crate) const MAX_URL_SHOWN: usize = 100;

/// What a chat's list of sources names at most, in characters, before
/// "…" (each source also says whether the chat gets it).
const MAX_GETS_SHOWN: usize = 300;

/// The button labels: a mark and the source's name, the same in every
/// language (so they are not in the translation files).
mod text {
    /// A source this chat gets; pressing it unsubscribes.
    pub(super) fn subscribed(name: &str) -> String {
        format!("✅ {name}")
    }

    /// A source this chat does not get; pressing it subscribes.
    pub(super) fn not_subscribed(name: &str) -> String {
        format!("➕ {name}")
    }
}

/// The first page of the list of sources as `target` sees it, in `lang`
/// ([`page`]).
pub(crate) fn reply(
    ctx: &Context,
    target: Target,
    errors: bool,
    lang: Language,
) -> Result<Page, StoreError> {
    page(ctx, target, errors, 0, lang)
}

/// The page of the list of sources that holds the source at place `at` in
/// the config (past the end: the last page), as `target` sees it, in
/// `lang`, with a toggle button per source on it and buttons to the pages
/// beside it; `errors` shows errors whole (an operator, in private).
/// Pages are laid out afresh each time, as many sources to a page as fit
/// (at most [`MAX_TOGGLES`]), so every page fits one message.
pub(crate) fn page(
    ctx: &Context,
    target: Target,
    errors: bool,
    at: usize,
    lang: Language,
) -> Result<Page, StoreError> {
    let subscription = ctx.store.subscription(target.chat)?;
    let wants = |name: &str| {
        subscription
            .as_ref()
            .is_some_and(|s| s.target_wants(target.thread, name))
    };
    let sources = subscription
        .as_ref()
        .and_then(|s| s.sources_of(target.thread));
    let header = tr!(lang, "sources-header", gets = gets(sources, lang));
    let footer = tr!(lang, "sources-pick-one");
    let configured = &ctx.config.sources;
    let blocks = source_blocks(ctx, errors, &wants, lang)?;
    let pages = lay_out(&blocks, &header, &footer, lang);
    let shown = pages
        .iter()
        .position(|page| page.contains(&at))
        .or_else(|| pages.len().checked_sub(1));
    let mut text = header;
    let mut rows = Vec::new();
    if let Some(shown) = shown {
        let range = pages[shown].clone();
        if pages.len() > 1 {
            text.push('\n');
            text.push_str(&tr!(
                lang,
                "sources-range",
                from = range.start + 1,
                to = range.end,
                total = configured.len()
            ));
        }
        for block in &blocks[range.clone()] {
            text.push_str("\n\n");
            text.push_str(block);
        }
        rows = buttons(configured, &pages, shown, &wants, lang);
    }
    text.push_str("\n\n");
    text.push_str(&footer);
    Ok(Page {
        text,
        keyboard: (!rows.is_empty()).then_some(Keyboard { rows }),
    })
}

/// Each configured source as a block of the list, in config order, with
/// whether `wants` says the target gets it.
fn source_blocks(
    ctx: &Context,
    errors: bool,
    wants: &dyn Fn(&str) -> bool,
    lang: Language,
) -> Result<Vec<String>, StoreError> {
    let mut blocks = Vec::with_capacity(ctx.config.sources.len());
    for source in &ctx.config.sources {
        let mut block = source_block(&ctx.store, source, errors, lang)?;
        block.push('\n');
        block.push_str(&tr!(
            lang,
            "sources-subscribed",
            yes = if wants(&source.name) { "yes" } else { "no" }
        ));
        blocks.push(block);
    }
    Ok(blocks)
}

/// The blocks cut into pages that each fit one message beside `header`,
/// `footer` and the widest "Sources x–y of n" line.
fn lay_out(blocks: &[String], header: &str, footer: &str, lang: Language) -> Vec<Range<usize>> {
    let total = blocks.len();
    let widest = tr!(
        lang,
        "sources-range",
        from = total,
        to = total,
        total = total
    );
    let frame = utf16_len(header) + 1 + utf16_len(&widest) + 2 + utf16_len(footer) + 2;
    pack(blocks, MAX_MESSAGE_UTF16.saturating_sub(frame), MAX_TOGGLES)
}

/// The buttons under page `shown`: a toggle per source on it, two to a row
/// (names are short), then Back and More to the pages beside it.
fn buttons(
    configured: &[SourceConfig],
    pages: &[Range<usize>],
    shown: usize,
    wants: &dyn Fn(&str) -> bool,
    lang: Language,
) -> Vec<Vec<Button>> {
    let toggles: Vec<_> = configured[pages[shown].clone()]
        .iter()
        .map(|source| {
            let label = if wants(&source.name) {
                text::subscribed(&source.name)
            } else {
                text::not_subscribed(&source.name)
            };
            Press::toggle(&source.name).button(label)
        })
        .collect();
    let mut rows: Vec<Vec<Button>> = toggles.chunks(2).map(<[_]>::to_vec).collect();
    let mut turn = Vec::new();
    if let Some(before) = shown.checked_sub(1) {
        let back = Press::sources(pages[before].start);
        turn.push(back.button(tr!(lang, "button-back")));
    }
    if let Some(after) = pages.get(shown + 1) {
        let more = Press::sources(after.start);
        turn.push(more.button(tr!(lang, "button-more")));
    }
    if !turn.is_empty() {
        rows.push(turn);
    }
    rows
}

/// The page of the list of sources that holds `source` ([`page`]).
pub(crate) fn page_of(
    ctx: &Context,
    target: Target,
    errors: bool,
    source: &str,
    lang: Language,
) -> Result<Page, StoreError> {
    let at = ctx
        .config
        .sources
        .iter()
        .position(|s| s.name == source)
        .unwrap_or(0);
    page(ctx, target, errors, at, lang)
}

/// The errors of the sources failing now, each under its source's heading,
/// in as many messages as they take (none if no source is failing): what
/// an operator who asked `/sources` in a group is told privately, since the
/// group sees no error text.
pub(crate) fn errors(ctx: &Context, lang: Language) -> Result<Vec<String>, StoreError> {
    let mut blocks = vec![tr!(lang, "sources-errors-header")];
    for source in &ctx.config.sources {
        let health: Option<Health> = ctx.store.source_state(&source.name)?;
        if health.is_some_and(|h| h.failing_since.is_some()) {
            blocks.push(source_block(&ctx.store, source, true, lang)?);
        }
    }
    if blocks.len() == 1 {
        return Ok(Vec::new());
    }
    Ok(in_messages(&blocks))
}

/// What a target gets, for people: `sources` as
/// [`crate::store::Subscription::sources_of`] gives it (a long list of
/// names cut, with "…").
pub(crate) fn gets(
    sources: Option<&Option<std::collections::BTreeSet<String>>>,
    lang: Language,
) -> String {
    match sources {
        None => tr!(lang, "gets-nothing"),
        Some(None) => tr!(lang, "gets-every"),
        Some(Some(set)) => {
            let names = set.iter().cloned().collect::<Vec<_>>().join(", ");
            escape(&shorten(&names, MAX_GETS_SHOWN))
        }
    }
}

/// One source's heading and read history, shared by `/sources` and `/status`:
/// name, URL (redacted, cut past [`MAX_URL_SHOWN`]), last good read (and how many releases it showed),
/// and, for operators (`errors`), the fallback it is read through if any and the last error;
/// for others, since when it is failing.
pub(crate) fn source_block(
    store: &Store,
    source: &SourceConfig,
    errors: bool,
    lang: Language,
) -> Result<String, StoreError> {
    let last_success = store.last_success(&source.name)?;
    let url = Redacted(&source.url).to_string();
    let shown = shorten(&url, MAX_URL_SHOWN);
    let mut text = format!("<b>{}</b> {}\n", escape(&source.name), escape(&shown));
    text.push_str(&tr!(
        lang,
        "source-last-good",
        when = when(last_success, lang)
    ));
    if let Some(count) = store.item_count_of(&source.name)? {
        text.push('\n');
        text.push_str(&tr!(lang, "source-count", count = count));
    }
    if !errors {
        let health: Option<Health> = store.source_state(&source.name)?;
        if let Some(since) = health.and_then(|h| h.failing_since) {
            text.push('\n');
            text.push_str(&tr!(lang, "source-failing", when = when(Some(since), lang)));
        }
        return Ok(text);
    }
    if let Some(repair) = store.repair_of(&source.name)? {
        text.push('\n');
        text.push_str(&tr!(
            lang,
            "source-fallback",
            when = when(DateTime::from_timestamp(repair.since, 0), lang),
            what = escape(&repair.fallback.to_string())
        ));
    }
    if let Some((error, at)) = store.last_failure(&source.name)? {
        // Errors stored by older versions named the URL whole.
        let error = error.replace(source.url.as_str(), &url);
        let recovered = last_success.is_some_and(|ok| ok > at);
        text.push('\n');
        text.push_str(&tr!(
            lang,
            "source-error",
            when = when(Some(at), lang),
            error = escape(&shorten(&error, 300))
        ));
        if recovered {
            text.push(' ');
            text.push_str(&tr!(lang, "source-recovered"));
        }
    }
    Ok(text)
}

/// A stored instant for people (ISO, the same in every language), or "never".
pub(crate) fn when(at: Option<DateTime<Utc>>, lang: Language) -> String {
    at.map_or_else(
        || tr!(lang, "never"),
        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}
