//! Outbox entries — releases being fanned out — and what a fan-out walk reads
//! and writes as it goes down the subscriber list. Purely persistent: the walk
//! itself, and the rules on when its progress is saved, flushed and synced,
//! live in [`crate::delivery`]'s `FanOut`, the only holder of the
//! [`CrashWindow`] these reads and unflushed writes belong to.

use std::collections::HashSet;
use std::ops::Bound;

use serde::{Deserialize, Serialize};

use super::subscribers::decode_subscription;
use super::{
    CrashWindow, Store, StoreError, Subscription, chat_from_key, chat_key, corrupt, encode,
    journal_key, outbox_key_from,
};

/// A release whose fan-out walk is not finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct OutboxEntry {
    pub item_id: String,
    /// The source whose followers are told.
    pub source: String,
    /// Every subscriber up to this one is done (sent, journaled, or no longer
    /// wanting it); `None` before the first. Saved now and then, not per chat.
    pub after_chat: Option<i64>,
    /// The item's sequence number when it differs from the entry's key: a known
    /// release that a further source lists is queued again, for that source's
    /// followers only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_seq: Option<u64>,
    /// Sources that queued the release before: their followers have it already.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub already_told: Vec<String>,
    /// An edit entry: the release was revised, and its walk goes down the
    /// chats that were sent it (`store/sent.rs`), not the subscriber list,
    /// journaling an edit for each.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub edit: bool,
}

impl OutboxEntry {
    /// An entry for `item_id` as `source` lists it, before the walk starts.
    /// `item_seq` and `already_told` are set when an earlier source queued it.
    pub(crate) fn new(
        item_id: &str,
        source: &str,
        item_seq: Option<u64>,
        already_told: Vec<String>,
    ) -> OutboxEntry {
        OutboxEntry {
            item_id: item_id.to_string(),
            source: source.to_string(),
            after_chat: None,
            item_seq,
            already_told,
            edit: false,
        }
    }

    /// An edit entry for release `item_id` (sequence `item_seq`), revised.
    pub(crate) fn edit(item_id: &str, source: &str, item_seq: u64) -> OutboxEntry {
        OutboxEntry {
            edit: true,
            ..OutboxEntry::new(item_id, source, Some(item_seq), Vec::new())
        }
    }

    /// The item's sequence number (a journal key's second half): its own
    /// field for a repeat, else the outbox key the entry is stored under.
    pub(crate) fn item_seq_under(&self, key: u64) -> u64 {
        self.item_seq.unwrap_or(key)
    }

    /// Whether a chat with `subscription` should get this release from this
    /// entry, in the chat itself.
    pub(crate) fn reaches(&self, subscription: &Subscription) -> bool {
        self.reaches_target(subscription, None)
    }

    /// Whether `thread` of a chat with `subscription` (`None`: the chat
    /// itself) should get this release from this entry.
    pub(crate) fn reaches_target(&self, subscription: &Subscription, thread: Option<i32>) -> bool {
        subscription.target_wants(thread, &self.source)
            && !self
                .already_told
                .iter()
                .any(|s| subscription.target_wants(thread, s))
    }

    /// Every target of a chat with `subscription` this entry reaches: the
    /// chat itself (`None`) first, then its topics in thread order.
    pub(crate) fn targets(&self, subscription: &Subscription) -> Vec<Option<i32>> {
        std::iter::once(None)
            .chain(subscription.topics.keys().map(|t| Some(*t)))
            .filter(|thread| self.reaches_target(subscription, *thread))
            .collect()
    }
}

/// Subscribers read for one page of a walk.
#[derive(Debug, Default)]
pub(crate) struct SubscriberPage {
    /// In id order.
    pub chats: Vec<(i64, Subscription)>,
    /// The last chat id read (the next page starts after it); `None`: no more.
    pub last: Option<i64>,
    /// Records that could not be read, and were left out.
    pub skipped_corrupt: usize,
}

impl Store {
    /// How many releases are still being fanned out.
    pub fn outbox_len(&self) -> usize {
        self.outbox.len()
    }
}

impl CrashWindow {
    /// The oldest outbox entry and its key.
    pub(crate) fn first_outbox_entry(&self) -> Result<Option<(u64, OutboxEntry)>, StoreError> {
        let Some((key, value)) = self.store.outbox.first()? else {
            return Ok(None);
        };
        let entry = serde_json::from_slice(&value).map_err(|e| corrupt("outbox", e))?;
        Ok(Some((outbox_key_from(&key)?, entry)))
    }

    /// Saves an entry's cursor. Not flushed: the fan-out log covers the chats
    /// it lags behind.
    pub(crate) fn save_outbox_entry(
        &self,
        key: u64,
        entry: &OutboxEntry,
    ) -> Result<(), StoreError> {
        self.store
            .outbox
            .insert(key.to_be_bytes(), encode("outbox", entry)?)?;
        Ok(())
    }

    /// Removes a finished entry. Not flushed: the walk flushes before it
    /// empties the fan-out log.
    pub(crate) fn finish_outbox_entry(&self, key: u64) -> Result<(), StoreError> {
        self.store.outbox.remove(key.to_be_bytes())?;
        Ok(())
    }

    /// At most `max` subscribers after chat `after`, in id order.
    pub(crate) fn subscribers_after(
        &self,
        after: Option<i64>,
        max: usize,
    ) -> Result<SubscriberPage, StoreError> {
        let start = match after {
            Some(chat) => Bound::Excluded(chat_key(chat)),
            None => Bound::Unbounded,
        };
        let mut page = SubscriberPage::default();
        let mut last_key_bad = false;
        for record in self
            .store
            .subscribers
            .range::<[u8; 8], _>((start, Bound::Unbounded))
            .take(max)
        {
            let (key, value) = record?;
            // A damaged record must not block a release for everyone else.
            let Some(chat) = chat_from_key(&key) else {
                page.skipped_corrupt += 1;
                last_key_bad = true;
                continue;
            };
            last_key_bad = false;
            page.last = Some(chat);
            match decode_subscription(&value) {
                Ok(subscription) => page.chats.push((chat, subscription)),
                Err(_) => page.skipped_corrupt += 1,
            }
        }
        if last_key_bad {
            // The next page could not start after it.
            return Err(corrupt("subscribers", "bad key"));
        }
        Ok(page)
    }

    /// The chats from `first` to `last` (inclusive) that have journal entries:
    /// one range read for a page of a walk.
    pub(crate) fn chats_with_entries(
        &self,
        first: i64,
        last: i64,
    ) -> Result<HashSet<i64>, StoreError> {
        let mut owed = HashSet::new();
        let (from, to) = (journal_key(first, 0), journal_key(last, u64::MAX));
        for key in self.store.journal.range(from..=to).keys() {
            if let Some(chat) = chat_from_key(&key?[..8]) {
                owed.insert(chat);
            }
        }
        Ok(owed)
    }
}
