//! Channels a person subscribed from their private chat with the bot: an
//! index from the user to the channels, so `/subscriptions` can list them
//! without walking every subscriber. The subscription itself is an ordinary
//! record in `subscribers`, keyed by the channel's id.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, chat_from_key, chat_key, corrupt, encode};

/// At most this many channels are remembered per person.
pub const MAX_CHANNELS_PER_USER: usize = 20;

/// What is remembered of a channel someone subscribed, to name it in lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelNote {
    pub title: Option<String>,
    /// Its public `@username` (without the `@`), if it has one.
    pub username: Option<String>,
    /// When it was first subscribed through this person (Unix seconds).
    pub since: i64,
}

pub(super) fn index_key(user: i64, channel: i64) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&chat_key(user));
    key[8..].copy_from_slice(&chat_key(channel));
    key
}

impl Store {
    /// Remembers that `user` subscribed `channel`. False (nothing written)
    /// when `user` already has [`MAX_CHANNELS_PER_USER`] others. Durable on return.
    pub async fn remember_channel(
        &self,
        user: i64,
        channel: i64,
        title: Option<&str>,
        username: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let key = index_key(user, channel);
        let known = self.channels.get(key)?;
        if known.is_none() && self.channels_of(user)?.len() >= MAX_CHANNELS_PER_USER {
            return Ok(false);
        }
        let since = known
            .and_then(|v| serde_json::from_slice::<ChannelNote>(&v).ok())
            .map_or(now.timestamp(), |n| n.since);
        let note = ChannelNote {
            title: title.map(str::to_string),
            username: username.map(str::to_string),
            since,
        };
        self.channels.insert(key, encode("channels", &note)?)?;
        self.commit().await?;
        Ok(true)
    }

    /// Forgets that `user` subscribed `channel`. Durable on return.
    pub async fn forget_channel(&self, user: i64, channel: i64) -> Result<(), StoreError> {
        if self.channels.remove(index_key(user, channel))?.is_some() {
            self.commit().await?;
        }
        Ok(())
    }

    /// The channels `user` subscribed, by id.
    pub fn channels_of(&self, user: i64) -> Result<Vec<(i64, ChannelNote)>, StoreError> {
        self.channels
            .scan_prefix(chat_key(user))
            .map(|record| {
                let (key, value) = record?;
                let channel = key
                    .get(8..)
                    .and_then(chat_from_key)
                    .ok_or_else(|| corrupt("channels", "key is not 16 bytes"))?;
                let note = serde_json::from_slice(&value).map_err(|e| corrupt("channels", e))?;
                Ok((channel, note))
            })
            .take(MAX_CHANNELS_PER_USER)
            .collect()
    }
}
