//! `/subscribe` and `/unsubscribe`: idempotent, durable before the reply is sent.

use chrono::{DateTime, Utc};

use crate::store::{Store, StoreError};

/// Subscribes the chat and says whether it already was.
pub async fn subscribe(store: &Store, chat: i64, now: DateTime<Utc>) -> Result<String, StoreError> {
    Ok(if store.subscribe(chat, None, now).await? {
        "Subscribed: every new release will arrive here. /unsubscribe stops it.".into()
    } else {
        "You are already subscribed. /unsubscribe stops the messages.".into()
    })
}

/// Unsubscribes the chat and says whether it was subscribed.
pub async fn unsubscribe(store: &Store, chat: i64) -> Result<String, StoreError> {
    Ok(if store.unsubscribe(chat, None).await? {
        "Unsubscribed: no more release messages. /subscribe brings them back.".into()
    } else {
        "You were not subscribed. /subscribe to get every new release.".into()
    })
}
