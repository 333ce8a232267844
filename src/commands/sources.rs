//! `/sources`: every watched page or feed — its name (what `/subscribe <name>`
//! takes), its address, whether this chat (or topic) gets it, and how its
//! reads are going, so a user can see why a source is quiet. The error text
//! itself (it can name internal addresses) is shown to operators only;
//! others see since when a source has been failing.
//!
//! Under the list, one button per source shows whether this chat (or topic)
//! gets it, and pressing it subscribes or unsubscribes that source
//! ([`super::buttons`]).

use chrono::{DateTime, Utc};

use super::Context;
use super::paging::{Page, Press};
use crate::config::Language;
use crate::config::SourceConfig;
use crate::config::redact::Redacted;
use crate::poller::Health;
use crate::store::{Store, StoreError, Target};
use crate::text::markup::{escape, shorten};
use crate::tr;

/// At most this many toggle buttons (Telegram takes 100 buttons at most);
/// sources past them are still named in the list, for `/subscribe <name>`.
pub(crate) const MAX_TOGGLES: usize = 40;

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

/// The list of sources as `target` sees it, in `lang`, with a toggle button
/// per source; `operator` shows errors whole.
pub(crate) fn reply(
    ctx: &Context,
    target: Target,
    operator: bool,
    lang: Language,
) -> Result<Page, StoreError> {
    let subscription = ctx.store.subscription(target.chat)?;
    let sources = subscription
        .as_ref()
        .and_then(|s| s.sources_of(target.thread));
    let mut text = tr!(lang, "sources-header", gets = gets(sources, lang));
    let mut toggles = Vec::new();
    for source in &ctx.config.sources {
        text.push_str("\n\n");
        text.push_str(&source_block(&ctx.store, source, operator, lang)?);
        let wanted = subscription
            .as_ref()
            .is_some_and(|s| s.target_wants(target.thread, &source.name));
        text.push('\n');
        text.push_str(&tr!(
            lang,
            "sources-subscribed",
            yes = if wanted { "yes" } else { "no" }
        ));
        if toggles.len() < MAX_TOGGLES {
            let label = if wanted {
                text::subscribed(&source.name)
            } else {
                text::not_subscribed(&source.name)
            };
            toggles.push(Press::toggle(&source.name).button(label));
        }
    }
    text.push_str("\n\n");
    text.push_str(&tr!(lang, "sources-pick-one"));
    // Two to a row: names are short.
    let rows = toggles.chunks(2).map(<[_]>::to_vec).collect();
    Ok(Page {
        text,
        keyboard: (!toggles.is_empty()).then_some(crate::telegram::messenger::Keyboard { rows }),
    })
}

/// What a target gets, for people: `sources` as [`crate::store::Subscription::sources_of`] gives it.
pub(crate) fn gets(
    sources: Option<&Option<std::collections::BTreeSet<String>>>,
    lang: Language,
) -> String {
    match sources {
        None => tr!(lang, "gets-nothing"),
        Some(None) => tr!(lang, "gets-every"),
        Some(Some(set)) => escape(&set.iter().cloned().collect::<Vec<_>>().join(", ")),
    }
}

/// One source's heading and read history, shared by `/sources` and `/status`:
/// name, URL (redacted), last good read (and how many releases it showed),
/// and the last error (`errors`: operators) or since when it is failing (others).
pub(crate) fn source_block(
    store: &Store,
    source: &SourceConfig,
    errors: bool,
    lang: Language,
) -> Result<String, StoreError> {
    let last_success = store.last_success(&source.name)?;
    let url = Redacted(&source.url).to_string();
    let mut text = format!("<b>{}</b> {}\n", escape(&source.name), escape(&url));
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
