//! `/subscribe [source]` and `/unsubscribe [source]`: every source, or one by
//! its configured name (case-insensitive), for the chat or the forum topic the
//! command came from. Idempotent, durable before the reply is sent.

use chrono::{DateTime, Utc};

use super::Context;
use crate::config::{Config, SourceConfig};
use crate::render::{escape, shorten};
use crate::store::{MAX_TOPICS, Store, StoreError, Target};

/// The configured source a user named, or the reply listing the valid names.
pub fn resolve<'a>(ctx: &'a Context, name: &str) -> Result<&'a SourceConfig, String> {
    ctx.config.source_named(name).ok_or_else(|| {
        format!(
            "There is no source called “{}”. The sources are: {}. /sources shows them.",
            escape(&shorten(name, 40)),
            source_names(&ctx.config)
        )
    })
}

/// Every configured name, comma-separated and escaped, for replies.
pub fn source_names(config: &Config) -> String {
    let names: Vec<String> = config.sources.iter().map(|s| escape(&s.name)).collect();
    names.join(", ")
}

/// Whether `target` is a forum topic that cannot subscribe: its chat has
/// [`MAX_TOPICS`] others subscribed already.
pub fn topics_full(store: &Store, target: Target) -> Result<bool, StoreError> {
    let Some(thread) = target.thread else {
        return Ok(false);
    };
    Ok(store
        .subscription(target.chat)?
        .is_some_and(|s| s.topics.len() >= MAX_TOPICS && !s.topics.contains_key(&thread)))
}

/// Subscribes the target to every source (`None`) or to one, and says what changed.
pub async fn subscribe(
    ctx: &Context,
    target: Target,
    source: Option<&str>,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let store = &ctx.store;
    if topics_full(store, target)? {
        return Ok(format!(
            "{MAX_TOPICS} topics of this group are subscribed already; /unsubscribe in one of them first."
        ));
    }
    let Some(name) = source else {
        return Ok(if store.subscribe(target, None, now).await? {
            "Subscribed: every new release will arrive here. /unsubscribe stops it.".into()
        } else {
            "You are already subscribed. /unsubscribe stops the messages.".into()
        });
    };
    let source = match resolve(ctx, name) {
        Ok(source) => source,
        Err(reply) => return Ok(reply),
    };
    let name = escape(&source.name);
    if store
        .subscription(target.chat)?
        .is_some_and(|s| s.sources_of(target.thread) == Some(&None))
    {
        return Ok(format!(
            "You already get every source, {name} included. To get only {name}, send /unsubscribe and then /subscribe {name}."
        ));
    }
    Ok(if store.subscribe(target, Some(&source.name), now).await? {
        format!(
            "Subscribed to {name}: its new releases will arrive here. /sources shows what you get; /unsubscribe {name} stops it."
        )
    } else {
        format!("You are already subscribed to {name}. /unsubscribe {name} stops it.")
    })
}

/// Unsubscribes the target from everything (`None`) or from one source, and
/// says what it still gets.
pub async fn unsubscribe(
    ctx: &Context,
    target: Target,
    source: Option<&str>,
) -> Result<String, StoreError> {
    let store = &ctx.store;
    let configured: Vec<String> = ctx.config.sources.iter().map(|s| s.name.clone()).collect();
    let Some(name) = source else {
        return Ok(if store.unsubscribe(target, None, &configured).await? {
            "Unsubscribed: no more release messages. /subscribe brings them back.".into()
        } else {
            "You were not subscribed. /subscribe to get every new release.".into()
        });
    };
    let source = match resolve(ctx, name) {
        Ok(source) => source,
        Err(reply) => return Ok(reply),
    };
    let name = escape(&source.name);
    if !store
        .unsubscribe(target, Some(&source.name), &configured)
        .await?
    {
        return Ok(format!(
            "You were not subscribed to {name}. /subscribe {name} to get it."
        ));
    }
    let left = store
        .subscription(target.chat)?
        .and_then(|s| s.sources_of(target.thread).cloned().flatten());
    Ok(match left {
        Some(left) => format!(
            "Unsubscribed from {name}. You still get: {}.",
            escape(&left.into_iter().collect::<Vec<_>>().join(", "))
        ),
        None => format!(
            "Unsubscribed from {name}; that was your last source, so no more release messages. /subscribe brings them back."
        ),
    })
}
