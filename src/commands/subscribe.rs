//! `/subscribe [source]` and `/unsubscribe [source]`: every source, or one by
//! its configured name (case-insensitive), for the chat or the forum topic the
//! command came from. Idempotent, durable before the reply is sent.

use chrono::{DateTime, Utc};

use super::reply::CommandError;
use super::{Context, Origin};
use crate::config::Language;
use crate::config::{Config, SourceConfig};
use crate::store::{MAX_TOPICS, Store, StoreError, Target};
use crate::text::markup::{escape, shorten};
use crate::tr;

/// The configured source a user named, or the reply listing the valid names.
pub(crate) fn resolve<'a>(
    ctx: &'a Context,
    name: &str,
    lang: Language,
) -> Result<&'a SourceConfig, String> {
    ctx.config.source_named(name).ok_or_else(|| {
        tr!(
            lang,
            "no-such-source",
            name = escape(&shorten(name, 40)),
            names = source_names(&ctx.config)
        )
    })
}

/// Every configured name, comma-separated and escaped, for replies.
pub(crate) fn source_names(config: &Config) -> String {
    let names: Vec<String> = config.sources.iter().map(|s| escape(&s.name)).collect();
    names.join(", ")
}

/// Whether `target` is a forum topic that cannot subscribe: its chat has
/// [`MAX_TOPICS`] others subscribed already.
pub(crate) fn topics_full(store: &Store, target: Target) -> Result<bool, StoreError> {
    let Some(thread) = target.thread else {
        return Ok(false);
    };
    Ok(store
        .subscription(target.chat)?
        .is_some_and(|s| s.topics.len() >= MAX_TOPICS && !s.topics.contains_key(&thread)))
}

/// Records the language of whoever subscribes `chat` (their Telegram app's,
/// `None`: unknown, nothing changes), spoken to the chat until it chooses
/// one. Only a change is written, and the default is kept as no record.
pub(crate) async fn note_language(
    ctx: &Context,
    chat: i64,
    language: Option<Language>,
) -> Result<(), StoreError> {
    let Some(language) = language else {
        return Ok(());
    };
    let inferred = (language != Language::DEFAULT).then_some(language);
    let target = Target::from(chat);
    if ctx.store.settings(target)?.inferred_language != inferred {
        ctx.store
            .change_settings(target, |s| s.inferred_language = inferred)
            .await?;
    }
    Ok(())
}

/// `/subscribe` in the chat (or topic) it came from, if its sender may: the
/// sender's language becomes the chat's until it chooses one.
pub(crate) async fn subscribe_here(
    ctx: &Context,
    origin: &Origin,
    source: Option<&str>,
    now: DateTime<Utc>,
    lang: Language,
) -> Result<String, CommandError> {
    ctx.access.permit(origin).await?;
    note_language(ctx, origin.chat, origin.language).await?;
    Ok(subscribe(ctx, origin.target(), source, now, lang).await?)
}

/// `/unsubscribe` in the chat (or topic) it came from, if its sender may.
pub(crate) async fn unsubscribe_here(
    ctx: &Context,
    origin: &Origin,
    source: Option<&str>,
    lang: Language,
) -> Result<String, CommandError> {
    ctx.access.permit(origin).await?;
    Ok(unsubscribe(ctx, origin.target(), source, lang).await?)
}

/// Subscribes the target to every source (`None`) or to one, and says what changed.
async fn subscribe(
    ctx: &Context,
    target: Target,
    source: Option<&str>,
    now: DateTime<Utc>,
    lang: Language,
) -> Result<String, StoreError> {
    let store = &ctx.store;
    if topics_full(store, target)? {
        return Ok(tr!(lang, "subscribe-topics-full", max = MAX_TOPICS));
    }
    let Some(name) = source else {
        return Ok(if store.subscribe(target, None, now).await? {
            tr!(lang, "subscribe-all-done")
        } else {
            tr!(lang, "subscribe-all-already")
        });
    };
    let source = match resolve(ctx, name, lang) {
        Ok(source) => source,
        Err(reply) => return Ok(reply),
    };
    let name = escape(&source.name);
    if store
        .subscription(target.chat)?
        .is_some_and(|s| s.sources_of(target.thread) == Some(&None))
    {
        return Ok(tr!(lang, "subscribe-has-all", name = name));
    }
    Ok(if store.subscribe(target, Some(&source.name), now).await? {
        tr!(lang, "subscribe-source-done", name = name)
    } else {
        tr!(lang, "subscribe-source-already", name = name)
    })
}

/// Unsubscribes the target from everything (`None`) or from one source, and
/// says what it still gets.
async fn unsubscribe(
    ctx: &Context,
    target: Target,
    source: Option<&str>,
    lang: Language,
) -> Result<String, StoreError> {
    let store = &ctx.store;
    let configured: Vec<String> = ctx.config.sources.iter().map(|s| s.name.clone()).collect();
    let Some(name) = source else {
        return Ok(if store.unsubscribe(target, None, &configured).await? {
            tr!(lang, "unsubscribe-all-done")
        } else {
            tr!(lang, "unsubscribe-all-not")
        });
    };
    let source = match resolve(ctx, name, lang) {
        Ok(source) => source,
        Err(reply) => return Ok(reply),
    };
    let name = escape(&source.name);
    if !store
        .unsubscribe(target, Some(&source.name), &configured)
        .await?
    {
        return Ok(tr!(lang, "unsubscribe-source-not", name = name));
    }
    let left = store
        .subscription(target.chat)?
        .and_then(|s| s.sources_of(target.thread).cloned().flatten());
    Ok(match left {
        Some(left) => tr!(
            lang,
            "unsubscribe-source-left",
            name = name,
            left = escape(&left.into_iter().collect::<Vec<_>>().join(", "))
        ),
        None => tr!(lang, "unsubscribe-source-last", name = name),
    })
}
