//! Settings per target ([`TargetSettings`]): keyword filters, quiet hours,
//! the daily digest, and (on a chat's own record) its language.
//!
//! Kept apart from subscriptions, in a tree of their own: they outlive an
//! `/unsubscribe` (a chat that comes back finds its filters), and a chat
//! that never subscribed may still choose its language. A target that chose
//! nothing has no record, so a fan-out walk reads a page's settings in one
//! range read ([`Store::settings_between`]) that costs nothing per chat
//! without them. A chat that Telegram says is gone loses its settings with
//! its subscription; a group that became a supergroup takes them along.
//!
//! A record that cannot be read is logged and read as "nothing chosen": a
//! release is never held back by a damaged record, and the next change
//! writes a good one.

use std::collections::HashMap;

use sled::transaction::ConflictableTransactionError;

use super::{
    MAX_TOPICS, Store, StoreError, Target, chat_from_key, chat_key, corrupt, thread_from_key,
    thread_key,
};
use crate::config::Language;
use crate::settings::{ChatSettings, TargetSettings};

/// A settings key: the chat (8 bytes), then for a forum topic its thread (4 more).
pub(super) fn settings_key(target: Target) -> Vec<u8> {
    let mut key = chat_key(target.chat).to_vec();
    if let Some(thread) = target.thread {
        key.extend_from_slice(&thread_key(thread));
    }
    key
}

pub(super) fn target_of(key: &[u8]) -> Option<Target> {
    let chat = chat_from_key(key.get(..8)?)?;
    let thread = match key.len() {
        8 => None,
        12 => Some(thread_from_key(&key[8..])?),
        _ => return None,
    };
    Some(Target { chat, thread })
}

/// Reads a record; a damaged one is logged and read as empty.
pub(super) fn decode(key: &[u8], value: &[u8]) -> TargetSettings {
    serde_json::from_slice(value).unwrap_or_else(|e| {
        tracing::error!(target = ?target_of(key), error = %e, "a settings record cannot be read; it counts as empty until changed");
        TargetSettings::default()
    })
}

impl Store {
    /// What `target` chose (the default when nothing).
    pub fn settings(&self, target: Target) -> Result<TargetSettings, StoreError> {
        let key = settings_key(target);
        Ok(self
            .settings
            .get(&key)?
            .map(|v| decode(&key, &v))
            .unwrap_or_default())
    }

    /// What `chat` and each of its forum topics chose: one prefix read.
    pub fn chat_settings(&self, chat: i64) -> Result<ChatSettings, StoreError> {
        let mut out = ChatSettings::default();
        for record in self.settings.scan_prefix(chat_key(chat)) {
            let (key, value) = record?;
            let Some(target) = target_of(&key) else {
                tracing::error!("a settings key is damaged; skipped");
                continue;
            };
            out.targets.insert(target.thread, decode(&key, &value));
        }
        Ok(out)
    }

    /// The settings of every chat from `first` to `last` (inclusive) that has
    /// any: one range read for a page of a fan-out walk.
    pub fn settings_between(
        &self,
        first: i64,
        last: i64,
    ) -> Result<HashMap<i64, ChatSettings>, StoreError> {
        let mut out: HashMap<i64, ChatSettings> = HashMap::new();
        for record in self.settings.range(chat_key(first)..) {
            let (key, value) = record?;
            let Some(target) = target_of(&key) else {
                tracing::error!("a settings key is damaged; skipped");
                continue;
            };
            if target.chat > last {
                break;
            }
            out.entry(target.chat)
                .or_default()
                .targets
                .insert(target.thread, decode(&key, &value));
        }
        Ok(out)
    }

    /// The language `chat` chose, if it did.
    pub fn language(&self, chat: i64) -> Result<Option<Language>, StoreError> {
        Ok(self.settings(chat.into())?.language)
    }

    /// Changes what `target` chose with `change`, which may run more than
    /// once (it must only compute), and returns what it returned. A target
    /// left with nothing chosen loses its record. Durable on return.
    pub async fn change_settings<R>(
        &self,
        target: Target,
        change: impl Fn(&mut TargetSettings) -> R,
    ) -> Result<R, StoreError> {
        let key = settings_key(target);
        let result = self.settings.transaction(|tree| {
            let mut settings = tree
                .get(&key)?
                .map(|v| decode(&key, &v))
                .unwrap_or_default();
            let result = change(&mut settings);
            if settings.is_empty() {
                tree.remove(key.as_slice())?;
            } else {
                let value = serde_json::to_vec(&settings)
                    .map_err(|e| ConflictableTransactionError::Abort(corrupt("settings", e)))?;
                tree.insert(key.as_slice(), value)?;
            }
            Ok(result)
        })?;
        self.commit().await?;
        Ok(result)
    }

    /// Whether `target` may keep settings: a chat always may; a forum topic
    /// may when it has some already or its chat keeps them for fewer than
    /// [`MAX_TOPICS`] topics. Topics cost their creator nothing, so without
    /// this bound one group could fill the store with records.
    pub fn may_keep_settings(&self, target: Target) -> Result<bool, StoreError> {
        if target.thread.is_none() || self.settings.contains_key(settings_key(target))? {
            return Ok(true);
        }
        let topics = self
            .settings_keys(target.chat)?
            .iter()
            .filter(|key| key.len() > 8)
            .count();
        Ok(topics < MAX_TOPICS)
    }

    /// The keys of `chat`'s settings records (its own and its topics').
    pub(super) fn settings_keys(&self, chat: i64) -> Result<Vec<sled::IVec>, StoreError> {
        Ok(self
            .settings
            .scan_prefix(chat_key(chat))
            .keys()
            .collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_a_chat_before_its_topics_and_read_back() {
        let chat = Target::from(-1_005);
        let topic = Target::topic(-1_005, 7);
        assert!(settings_key(chat) < settings_key(topic));
        assert!(settings_key(topic) < settings_key(Target::from(-1_004)));
        assert_eq!(target_of(&settings_key(chat)), Some(chat));
        assert_eq!(target_of(&settings_key(topic)), Some(topic));
        assert_eq!(target_of(&[0; 9]), None);
    }
}
