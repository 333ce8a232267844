//! The journal: pushes still owed to a chat, one entry per (chat, release),
//! each removed only once Telegram accepted it or it can never be sent.
//!
//! A release reaches most chats straight from its fan-out walk, with no
//! journal entry; a chat is journaled only when its push cannot go then (it is
//! owed older pushes, waiting out a failure, or its send failed).

use std::ops::Bound;

use sled::Transactional;

use super::{Store, StoreError, bump, chat_from_key, chat_key, corrupt, journal_key, read_u64};

/// One journal entry: push release `item_id` (sequence `seq`) to `chat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    pub seq: u64,
    pub chat: i64,
    pub item_id: String,
}

/// Counters operators see in `/status`; they survive restarts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryStats {
    /// Chats unsubscribed because Telegram said they are gone (blocked, kicked, deleted).
    pub chats_removed: u64,
    /// Pushes dropped with those chats.
    pub pushes_dropped: u64,
    /// Pushes given up on because Telegram refused them for good.
    pub given_up: u64,
    /// Groups moved to their new supergroup id.
    pub chats_migrated: u64,
}

// Counter keys in `meta` (their names on disk predate the glossary).
pub(super) const STAT_CHATS_REMOVED: &[u8] = b"stat:chats_removed";
pub(super) const STAT_PUSHES_DROPPED: &[u8] = b"stat:deliveries_dropped";
pub(super) const STAT_GIVEN_UP: &[u8] = b"stat:given_up";
pub(super) const STAT_CHATS_MIGRATED: &[u8] = b"stat:chats_migrated";

impl Store {
    /// Journals `item_id` (sequence `seq`) for `chat`. Not flushed: the caller
    /// flushes before it counts the chat as handled.
    pub fn journal(&self, chat: i64, seq: u64, item_id: &str) -> Result<(), StoreError> {
        self.journal
            .insert(journal_key(chat, seq), item_id.as_bytes())?;
        Ok(())
    }

    /// Up to `max_chats` chats that have journal entries, after chat `after` in
    /// id order, each with its entries oldest first (a chat is never split).
    pub fn pending_chats(
        &self,
        after: Option<i64>,
        max_chats: usize,
    ) -> Result<Vec<(i64, Vec<JournalEntry>)>, StoreError> {
        let start = match after {
            Some(chat) => Bound::Excluded(journal_key(chat, u64::MAX)),
            None => Bound::Unbounded,
        };
        let mut out: Vec<(i64, Vec<JournalEntry>)> = Vec::new();
        for entry in self.journal.range::<[u8; 16], _>((start, Bound::Unbounded)) {
            let entry = decode_entry(entry?)?;
            if let Some((chat, list)) = out.last_mut()
                && *chat == entry.chat
            {
                list.push(entry);
                continue;
            }
            if out.len() >= max_chats {
                break;
            }
            out.push((entry.chat, vec![entry]));
        }
        Ok(out)
    }

    /// Whether `entry` is still in the journal (a listing may be stale by the time it is sent).
    pub fn is_pending(&self, entry: &JournalEntry) -> Result<bool, StoreError> {
        Ok(self
            .journal
            .contains_key(journal_key(entry.chat, entry.seq))?)
    }

    /// The journal entries of one chat, oldest first.
    pub fn pending_for(&self, chat: i64) -> Result<Vec<JournalEntry>, StoreError> {
        self.journal
            .scan_prefix(chat_key(chat))
            .map(|e| decode_entry(e?))
            .collect()
    }

    pub(super) fn pending_keys(&self, chat: i64) -> Result<Vec<sled::IVec>, StoreError> {
        Ok(self
            .journal
            .scan_prefix(chat_key(chat))
            .keys()
            .collect::<Result<_, _>>()?)
    }

    /// How many journal entries there are (walks the tree: for status and tests).
    pub fn pending_count(&self) -> usize {
        self.journal.len()
    }

    /// Removes a journal entry whose push Telegram accepted, or that is no
    /// longer wanted. Not flushed: delivery decides how many removals may wait
    /// for a flush (its crash window) and commits.
    pub fn complete_unflushed(&self, entry: &JournalEntry) -> Result<(), StoreError> {
        self.journal.remove(journal_key(entry.chat, entry.seq))?;
        Ok(())
    }

    /// Gives a journal entry up (Telegram refused the push for good), counted
    /// for operators. Durable on return.
    pub async fn give_up(&self, entry: &JournalEntry) -> Result<(), StoreError> {
        let key = journal_key(entry.chat, entry.seq);
        (&self.journal, &self.meta).transaction(|(journal_t, meta_t)| {
            journal_t.remove(&key)?;
            bump(meta_t, STAT_GIVEN_UP, 1)?;
            Ok(())
        })?;
        self.commit().await
    }

    /// The counters operators see.
    pub fn delivery_stats(&self) -> Result<DeliveryStats, StoreError> {
        let counter = |key| -> Result<u64, StoreError> { read_u64("meta", self.meta.get(key)?) };
        Ok(DeliveryStats {
            chats_removed: counter(STAT_CHATS_REMOVED)?,
            pushes_dropped: counter(STAT_PUSHES_DROPPED)?,
            given_up: counter(STAT_GIVEN_UP)?,
            chats_migrated: counter(STAT_CHATS_MIGRATED)?,
        })
    }
}

pub(super) fn decode_entry(
    (key, value): (sled::IVec, sled::IVec),
) -> Result<JournalEntry, StoreError> {
    if key.len() != 16 {
        return Err(corrupt("deliveries", "key is not 16 bytes"));
    }
    let chat = chat_from_key(&key[..8]).ok_or_else(|| corrupt("deliveries", "bad key"))?;
    let seq = u64::from_be_bytes(
        key[8..]
            .try_into()
            .map_err(|_| corrupt("deliveries", "bad key"))?,
    );
    let item_id = String::from_utf8(value.to_vec()).map_err(|e| corrupt("deliveries", e))?;
    Ok(JournalEntry { seq, chat, item_id })
}
