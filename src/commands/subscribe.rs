//! `/subscribe [source]` and `/unsubscribe [source]`: every source, or one by
//! its configured name (case-insensitive). Idempotent, durable before the reply
//! is sent.

use chrono::{DateTime, Utc};

use super::Context;
use crate::config::{Config, SourceConfig};
use crate::render::{escape, shorten};
use crate::store::StoreError;

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

/// Subscribes the chat to every source (`None`) or to one, and says what changed.
pub async fn subscribe(
    ctx: &Context,
    chat: i64,
    source: Option<&str>,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let store = &ctx.store;
    let Some(name) = source else {
        return Ok(if store.subscribe(chat, None, now).await? {
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
        .subscription(chat)?
        .is_some_and(|s| s.sources.is_none())
    {
        return Ok(format!(
            "You already get every source, {name} included. To get only {name}, send /unsubscribe and then /subscribe {name}."
        ));
    }
    Ok(if store.subscribe(chat, Some(&source.name), now).await? {
        format!(
            "Subscribed to {name}: its new releases will arrive here. /sources shows what you get; /unsubscribe {name} stops it."
        )
    } else {
        format!("You are already subscribed to {name}. /unsubscribe {name} stops it.")
    })
}

/// Unsubscribes the chat from everything (`None`) or from one source, and says
/// what it still gets.
pub async fn unsubscribe(
    ctx: &Context,
    chat: i64,
    source: Option<&str>,
) -> Result<String, StoreError> {
    let store = &ctx.store;
    let configured: Vec<String> = ctx.config.sources.iter().map(|s| s.name.clone()).collect();
    let Some(name) = source else {
        return Ok(if store.unsubscribe(chat, None, &configured).await? {
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
        .unsubscribe(chat, Some(&source.name), &configured)
        .await?
    {
        return Ok(format!(
            "You were not subscribed to {name}. /subscribe {name} to get it."
        ));
    }
    Ok(match store.subscription(chat)?.and_then(|s| s.sources) {
        Some(left) => format!(
            "Unsubscribed from {name}. You still get: {}.",
            escape(&left.into_iter().collect::<Vec<_>>().join(", "))
        ),
        None => format!(
            "Unsubscribed from {name}; that was your last source, so no more release messages. /subscribe brings them back."
        ),
    })
}
