//! The journal: pushes still owed to a chat, one entry per (chat, release),
//! each removed only once Telegram accepted it or it can never be sent.
//!
//! A release reaches most chats straight from its fan-out walk, with no
//! journal entry; a chat is journaled only when its push cannot go then (it is
//! owed older pushes, waiting out a failure, or its send failed).

use std::ops::Bound;

use chrono::{DateTime, Utc};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::{
    CrashWindow, JOURNAL_TREE, Store, StoreError, Target, bump, chat_from_key, chat_key, corrupt,
    entry_key, read_u64, target_journal_key, thread_from_key,
};

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

/// One journal entry: push release `item_id` (sequence `seq`) to `chat`, or
/// to its forum topic `thread`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    pub seq: u64,
    pub chat: i64,
    /// `None`: the chat itself.
    pub thread: Option<i32>,
    pub item_id: String,
    /// When it was journaled (Unix seconds): a digest holds what came since
    /// the one before. `None` for entries of versions that did not record it.
    pub journaled_at: Option<i64>,
    /// An edit of the message already sent (the release was revised), not a push.
    pub edit: bool,
}

impl JournalEntry {
    /// Where the push goes.
    pub fn target(&self) -> Target {
        Target {
            chat: self.chat,
            thread: self.thread,
        }
    }
}

/// What became of journal entries that never went, and of the chats they
/// were for: the counters operators see in `/status`, kept in `meta` so
/// they survive restarts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalStats {
    /// Chats unsubscribed because Telegram said they are gone (blocked, kicked, deleted).
    pub chats_removed: u64,
    /// Pushes dropped with those chats.
    pub pushes_dropped: u64,
    /// Pushes given up on because Telegram refused them for good.
    pub given_up: u64,
    /// Groups moved to their new supergroup id.
    pub chats_migrated: u64,
}

impl JournalStats {
    /// What a chat's (or a topic's) end counts, when Telegram said it is
    /// gone: the chat, if its record ended, and the pushes it was owed.
    pub(crate) fn gone(ended: Ended) -> JournalStats {
        JournalStats {
            chats_removed: u64::from(ended.chat_ended),
            pushes_dropped: ended.dropped as u64,
            ..JournalStats::default()
        }
    }

    /// Adds these counts to the stored counters, inside the transaction of
    /// the change they count (so a crash keeps both or neither).
    pub(super) fn add_to(&self, meta: &TransactionalTree) -> TxResult<()> {
        bump(meta, STAT_CHATS_REMOVED, self.chats_removed)?;
        bump(meta, STAT_PUSHES_DROPPED, self.pushes_dropped)?;
        bump(meta, STAT_GIVEN_UP, self.given_up)?;
        bump(meta, STAT_CHATS_MIGRATED, self.chats_migrated)
    }

    fn is_zero(&self) -> bool {
        *self == JournalStats::default()
    }
}

/// What ending a subscription (a chat's, or one topic's) removed, for the
/// counters it adds to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Ended {
    /// The chat's record ended (a second ending finds nothing left).
    pub(crate) chat_ended: bool,
    /// Journal entries dropped with it.
    pub(crate) dropped: usize,
}

// Counter keys in `meta` (their names on disk predate the glossary).
pub(super) const STAT_CHATS_REMOVED: &[u8] = b"stat:chats_removed";
pub(super) const STAT_PUSHES_DROPPED: &[u8] = b"stat:deliveries_dropped";
pub(super) const STAT_GIVEN_UP: &[u8] = b"stat:given_up";
pub(super) const STAT_CHATS_MIGRATED: &[u8] = b"stat:chats_migrated";

impl Store {
    /// Journals `item_id` (sequence `seq`) for `target` (a chat, or one of its
    /// topics), as of `now`. Not flushed: the caller flushes before it counts
    /// the chat as handled.
    pub fn journal(
        &self,
        target: impl Into<Target>,
        seq: u64,
        item_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let target = target.into();
        self.journal.insert(
            target_journal_key(target.chat, target.thread, seq).as_ref(),
            entry_value(item_id, Some(now.timestamp())),
        )?;
        Ok(())
    }

    /// Journals an edit of the message `target` got for release `item_id`
    /// (sequence `seq`), revised. Not flushed, like [`Store::journal`].
    pub(crate) fn journal_edit(
        &self,
        target: Target,
        seq: u64,
        item_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.journal.insert(
            super::edit_journal_key(target.chat, target.thread, seq).as_ref(),
            entry_value(item_id, Some(now.timestamp())),
        )?;
        Ok(())
    }

    /// Up to `max_chats` chats that have journal entries, after chat `after` in
    /// id order, each with its entries oldest first (a chat is never split).
    pub fn journal_chats(
        &self,
        after: Option<i64>,
        max_chats: usize,
    ) -> Result<Vec<(i64, Vec<JournalEntry>)>, StoreError> {
        // Past every key of chat `after`, its topics' entries included.
        let start = match after {
            Some(i64::MAX) => return Ok(Vec::new()),
            Some(chat) => Bound::Included(chat_key(chat + 1)),
            None => Bound::Unbounded,
        };
        let mut out: Vec<(i64, Vec<JournalEntry>)> = Vec::new();
        for entry in self.journal.range::<[u8; 8], _>((start, Bound::Unbounded)) {
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
    pub fn is_journaled(&self, entry: &JournalEntry) -> Result<bool, StoreError> {
        Ok(self.journal.contains_key(entry_key(entry))?)
    }

    /// The journal entries of one chat (its topics' included), oldest first.
    pub fn journal_for(&self, chat: i64) -> Result<Vec<JournalEntry>, StoreError> {
        self.journal
            .scan_prefix(chat_key(chat))
            .map(|e| decode_entry(e?))
            .collect()
    }

    pub(super) fn journal_keys(&self, chat: i64) -> Result<Vec<sled::IVec>, StoreError> {
        Ok(self
            .journal
            .scan_prefix(chat_key(chat))
            .keys()
            .collect::<Result<_, _>>()?)
    }

    /// How many journal entries there are (walks the tree: for status and tests).
    pub fn journal_count(&self) -> usize {
        self.journal.len()
    }

    /// The counters operators see.
    pub fn journal_stats(&self) -> Result<JournalStats, StoreError> {
        let counter = |key| -> Result<u64, StoreError> { read_u64("meta", self.meta.get(key)?) };
        Ok(JournalStats {
            chats_removed: counter(STAT_CHATS_REMOVED)?,
            pushes_dropped: counter(STAT_PUSHES_DROPPED)?,
            given_up: counter(STAT_GIVEN_UP)?,
            chats_migrated: counter(STAT_CHATS_MIGRATED)?,
        })
    }
}

impl CrashWindow {
    /// Removes a journal entry (its push went, is no longer wanted, or was
    /// given up), adding `counted` to the stored counters in the same
    /// transaction. Not flushed: the window's owner decides when.
    pub(crate) fn remove(
        &self,
        entry: &JournalEntry,
        counted: &JournalStats,
    ) -> Result<(), StoreError> {
        let key = entry_key(entry);
        if counted.is_zero() {
            self.store.journal.remove(key)?;
            return Ok(());
        }
        (&self.store.journal, &self.store.meta).transaction(|(journal_t, meta_t)| {
            journal_t.remove(key.as_ref())?;
            counted.add_to(meta_t)
        })?;
        Ok(())
    }
}

/// A journal entry's value: the item id, then (since settings) a zero byte
/// and when it was journaled, 8 bytes big-endian. Item ids are URLs, which
/// never hold a zero byte, so values of earlier versions (the id alone) read
/// back as they were.
pub(super) fn entry_value(item_id: &str, journaled_at: Option<i64>) -> Vec<u8> {
    let mut value = Vec::with_capacity(item_id.len() + 9);
    value.extend_from_slice(item_id.as_bytes());
    if let Some(at) = journaled_at {
        value.push(0);
        value.extend_from_slice(&at.to_be_bytes());
    }
    value
}

/// The value `entry` is stored with.
pub(super) fn value_of(entry: &JournalEntry) -> Vec<u8> {
    entry_value(&entry.item_id, entry.journaled_at)
}

fn decode_value(value: &[u8]) -> Result<(String, Option<i64>), StoreError> {
    let (id, at) = match value.len().checked_sub(9) {
        Some(split) if value[split] == 0 => {
            let at: [u8; 8] = value[split + 1..]
                .try_into()
                .map_err(|_| corrupt(JOURNAL_TREE, "bad value"))?;
            (&value[..split], Some(i64::from_be_bytes(at)))
        }
        _ => (value, None),
    };
    let id = String::from_utf8(id.to_vec()).map_err(|e| corrupt(JOURNAL_TREE, e))?;
    Ok((id, at))
}

pub(super) fn decode_entry(
    (key, value): (sled::IVec, sled::IVec),
) -> Result<JournalEntry, StoreError> {
    // 16 bytes: the chat itself (the first format); 20: one of its topics;
    // 21: an edit, of the chat's message or a topic's.
    let topic =
        |bytes: &[u8]| thread_from_key(bytes).ok_or_else(|| corrupt(JOURNAL_TREE, "bad key"));
    let (thread, edit) = match key.len() {
        16 => (None, false),
        20 => (Some(topic(&key[16..])?), false),
        21 if key[20] == 1 => (Some(topic(&key[16..20])?), true),
        21 => (None, true),
        _ => return Err(corrupt(JOURNAL_TREE, "key is not 16, 20 or 21 bytes")),
    };
    let chat = chat_from_key(&key[..8]).ok_or_else(|| corrupt(JOURNAL_TREE, "bad key"))?;
    let seq = u64::from_be_bytes(
        key[8..16]
            .try_into()
            .map_err(|_| corrupt(JOURNAL_TREE, "bad key"))?,
    );
    let (item_id, journaled_at) = decode_value(&value)?;
    Ok(JournalEntry {
        seq,
        chat,
        thread,
        item_id,
        journaled_at,
        edit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::journal_key;

    #[test]
    fn entries_of_earlier_versions_read_back_and_topics_sort_after_their_chat() {
        // A 16-byte key, as every version before topics wrote it.
        let old = decode_entry((journal_key(-42, 7).as_ref().into(), b"site/1".into())).unwrap();
        assert_eq!(
            old,
            JournalEntry {
                seq: 7,
                chat: -42,
                thread: None,
                item_id: "site/1".into(),
                journaled_at: None,
                edit: false,
            }
        );
        // A value with its journaling time reads back with it.
        let value = entry_value("site/1", Some(1_653_120_000));
        let timed = decode_entry((journal_key(-42, 7).as_ref().into(), value.into())).unwrap();
        assert_eq!(timed.item_id, "site/1");
        assert_eq!(timed.journaled_at, Some(1_653_120_000));
        let topic = JournalEntry {
            thread: Some(3),
            ..old.clone()
        };
        let key = entry_key(&topic);
        assert_eq!(key.as_ref().len(), 20);
        assert_eq!(
            decode_entry((key.as_ref().into(), b"site/1".into())).unwrap(),
            topic
        );
        // The chat's own entry, then its topics', then the next release.
        let next = JournalEntry {
            seq: 8,
            ..old.clone()
        };
        assert!(entry_key(&old).as_ref() < key.as_ref());
        assert!(key.as_ref() < entry_key(&next).as_ref());
        assert!(decode_entry((vec![0u8; 12].into(), b"x".into())).is_err());
        // An edit sorts with its release, apart from the push's own key.
        for thread in [None, Some(3)] {
            let edit = JournalEntry {
                thread,
                edit: true,
                ..old.clone()
            };
            let key = entry_key(&edit);
            assert_eq!(key.as_ref().len(), 21);
            assert_eq!(
                decode_entry((key.as_ref().into(), b"site/1".into())).unwrap(),
                edit
            );
            assert!(entry_key(&old).as_ref() < key.as_ref());
            assert!(key.as_ref() < entry_key(&next).as_ref());
        }
    }
}
