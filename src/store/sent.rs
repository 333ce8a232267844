//! The ids Telegram gave the messages we sent, kept for releases of the last
//! `edits.window_hours`, so that a revised release can be edited in place
//! in every chat that has it.
//!
//! Trees (keys big-endian):
//! - `sent`: (item sequence, chat[, topic thread]) → message id (4 bytes),
//!   when it was sent (8 bytes, Unix seconds), and one byte: 0 a push, 1 a
//!   digest message. Keyed by release first, so an edit walk reads one
//!   release's messages in chat order, a page at a time, like the
//!   subscriber list;
//! - `sent_releases`: item sequence → when its first message was sent:
//!   pruning reads it from the start and stops at the first release still in
//!   the window, so it costs nothing while nothing is due;
//! - `sent_digests`: (chat, message id) → [`DigestNote`]: which releases a
//!   digest message listed, so that it can be written again whole.
//!
//! None of it is flushed by its writer: a record lost to a crash costs one
//! edit of a message (and a crash repeats that push anyway, recording it
//! again). A record is 29 bytes of key and value for a chat, 33 for a topic.

use std::ops::Bound;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    CrashWindow, Store, StoreError, Target, chat_from_key, chat_key, corrupt, encode, thread_key,
    timestamp_from,
};
use crate::config::Language;

/// Bytes of a `sent` value: message id, time, kind.
const VALUE: usize = 13;

/// One message the bot sent for a release, as an edit needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SentMessage {
    pub(crate) message_id: i32,
    /// A digest message (several releases): written again whole.
    pub(crate) digest: bool,
}

/// What a digest message listed, to write it again with a release revised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DigestNote {
    /// The daily digest (else releases held over quiet hours).
    pub(crate) daily: bool,
    pub(crate) lang: Language,
    /// Its place among the digest's messages (1-based), and how many there were.
    pub(crate) part: usize,
    pub(crate) parts: usize,
    /// How many releases the whole digest brought.
    pub(crate) total: usize,
    /// The releases this message listed, in order.
    pub(crate) items: Vec<String>,
    /// When it was sent (Unix seconds), for pruning.
    pub(crate) at: i64,
}

/// A page of an edit walk: chats with messages for one release.
#[derive(Debug, Default)]
pub(crate) struct SentPage {
    /// In chat order, each with the targets (chat itself `None`, topics) it has a message in.
    pub(crate) chats: Vec<(i64, Vec<Option<i32>>)>,
    /// The last chat read; `None`: no more.
    pub(crate) last: Option<i64>,
}

/// A `sent` key: the release, the chat, then the topic if any.
fn sent_key(seq: u64, target: Target) -> Vec<u8> {
    let mut key = Vec::with_capacity(20);
    key.extend_from_slice(&seq.to_be_bytes());
    key.extend_from_slice(&chat_key(target.chat));
    if let Some(thread) = target.thread {
        key.extend_from_slice(&thread_key(thread));
    }
    key
}

fn digest_key(chat: i64, message_id: i32) -> [u8; 12] {
    let mut key = [0u8; 12];
    key[..8].copy_from_slice(&chat_key(chat));
    key[8..].copy_from_slice(&message_id.to_be_bytes());
    key
}

fn sent_value(message_id: i32, at: i64, digest: bool) -> [u8; VALUE] {
    let mut value = [0u8; VALUE];
    value[..4].copy_from_slice(&message_id.to_be_bytes());
    value[4..12].copy_from_slice(&at.to_be_bytes());
    value[12] = u8::from(digest);
    value
}

fn decode_value(value: &[u8]) -> Result<SentMessage, StoreError> {
    let id: [u8; 4] = value
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| corrupt("sent", "value too short"))?;
    Ok(SentMessage {
        message_id: i32::from_be_bytes(id),
        digest: value.get(12) == Some(&1),
    })
}

impl Store {
    /// Remembers that `target`'s message `message_id` carries release `seq`.
    /// Not flushed (see the module's note).
    pub(crate) fn record_sent(
        &self,
        target: Target,
        seq: u64,
        message_id: i32,
        digest: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let at = now.timestamp();
        self.sent.insert(
            sent_key(seq, target),
            &sent_value(message_id, at, digest)[..],
        )?;
        let release = seq.to_be_bytes();
        if !self.sent_releases.contains_key(release)? {
            self.sent_releases.insert(release, &at.to_be_bytes())?;
        }
        Ok(())
    }

    /// Remembers a digest message: what it listed (`note`), and for each
    /// release (`seqs`) that `target`'s message `message_id` carries it.
    pub(crate) fn record_digest(
        &self,
        target: Target,
        message_id: i32,
        note: &DigestNote,
        seqs: &[u64],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.sent_digests.insert(
            digest_key(target.chat, message_id),
            encode("sent_digests", note)?,
        )?;
        for seq in seqs {
            self.record_sent(target, *seq, message_id, true, now)?;
        }
        Ok(())
    }

    /// The message `target` got for release `seq`, if it is kept.
    pub(crate) fn sent_message(
        &self,
        target: Target,
        seq: u64,
    ) -> Result<Option<SentMessage>, StoreError> {
        self.sent
            .get(sent_key(seq, target))?
            .map(|v| decode_value(&v))
            .transpose()
    }

    /// What digest message `message_id` in `chat` listed.
    pub(crate) fn digest_note(
        &self,
        chat: i64,
        message_id: i32,
    ) -> Result<Option<DigestNote>, StoreError> {
        self.sent_digests
            .get(digest_key(chat, message_id))?
            .map(|v| serde_json::from_slice(&v).map_err(|e| corrupt("sent_digests", e)))
            .transpose()
    }

    /// Forgets the messages of releases first sent before `before`, and
    /// digest notes older than that; how many message records went. Reads
    /// nothing beyond the first release still kept.
    pub(crate) fn prune_sent(&self, before: DateTime<Utc>) -> Result<usize, StoreError> {
        let mut pruned = 0;
        while let Some((release, at)) = self.sent_releases.first()? {
            let at = timestamp_from(&at).ok_or_else(|| corrupt("sent_releases", "bad time"))?;
            if at >= before {
                break;
            }
            for key in self.sent.scan_prefix(&release).keys() {
                self.sent.remove(key?)?;
                pruned += 1;
            }
            self.sent_releases.remove(release)?;
        }
        if pruned > 0 {
            for record in self.sent_digests.iter() {
                let (key, value) = record?;
                let old = serde_json::from_slice::<DigestNote>(&value)
                    .map_or(true, |note| note.at < before.timestamp());
                if old {
                    self.sent_digests.remove(key)?;
                }
            }
        }
        Ok(pruned)
    }

    /// What delivery keeps per push to a chat (release `seq`, message
    /// `message_id`), as benchmarks measure it.
    pub fn keep_message_id(
        &self,
        chat: i64,
        seq: u64,
        message_id: i32,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.record_sent(Target::from(chat), seq, message_id, false, now)
    }

    /// How many sent messages are kept (walks the tree: for tests and benchmarks).
    pub fn sent_count(&self) -> usize {
        self.sent.len()
    }

    /// Bytes of keys and values the kept message ids take, before sled's own
    /// overhead (walks the tree: for benchmarks).
    pub fn sent_bytes(&self) -> usize {
        self.sent
            .iter()
            .filter_map(Result::ok)
            .map(|(k, v)| k.len() + v.len())
            .sum()
    }
}

impl CrashWindow {
    /// At most `max` chats after `after` with a message for release `seq`,
    /// in chat order, each with its targets: one page of an edit walk.
    pub(crate) fn sent_after(
        &self,
        seq: u64,
        after: Option<i64>,
        max: usize,
    ) -> Result<SentPage, StoreError> {
        let release = seq.to_be_bytes();
        let start = match after {
            Some(i64::MAX) => return Ok(SentPage::default()),
            Some(chat) => {
                let mut key = release.to_vec();
                key.extend_from_slice(&chat_key(chat + 1));
                Bound::Included(key)
            }
            None => Bound::Included(release.to_vec()),
        };
        let end = match seq.checked_add(1) {
            Some(next) => Bound::Excluded(next.to_be_bytes().to_vec()),
            None => Bound::Unbounded,
        };
        let mut page = SentPage::default();
        for key in self.store.sent.range::<Vec<u8>, _>((start, end)).keys() {
            let key = key?;
            let chat = key
                .get(8..16)
                .and_then(chat_from_key)
                .ok_or_else(|| corrupt("sent", "bad key"))?;
            let thread = match key.len() {
                16 => None,
                20 => Some(
                    super::thread_from_key(&key[16..]).ok_or_else(|| corrupt("sent", "bad key"))?,
                ),
                _ => return Err(corrupt("sent", "key is neither 16 nor 20 bytes")),
            };
            if let Some((last, targets)) = page.chats.last_mut()
                && *last == chat
            {
                targets.push(thread);
                continue;
            }
            if page.chats.len() >= max {
                break;
            }
            page.chats.push((chat, vec![thread]));
            page.last = Some(chat);
        }
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_walk_reads_one_release_in_chat_order_and_pruning_keeps_the_window() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let t0 = DateTime::from_timestamp(1_653_120_000, 0).unwrap();
        let chat = |chat| Target { chat, thread: None };
        for c in [-5, 3, 9] {
            store
                .record_sent(chat(c), 7, c as i32 + 100, false, t0)
                .unwrap();
        }
        store
            .record_sent(
                Target {
                    chat: -5,
                    thread: Some(2),
                },
                7,
                1,
                false,
                t0,
            )
            .unwrap();
        store
            .record_sent(chat(4), 8, 50, false, t0 + chrono::Duration::hours(1))
            .unwrap();
        let window = CrashWindow::over(&store);
        let page = window.sent_after(7, None, 2).unwrap();
        assert_eq!(page.chats, vec![(-5, vec![None, Some(2)]), (3, vec![None])]);
        let rest = window.sent_after(7, page.last, 2).unwrap();
        assert_eq!(rest.chats, vec![(9, vec![None])]);
        assert!(window.sent_after(7, rest.last, 2).unwrap().chats.is_empty());
        assert_eq!(
            store.sent_message(chat(3), 7).unwrap(),
            Some(SentMessage {
                message_id: 103,
                digest: false
            })
        );
        // Release 7 leaves the window first; release 8 stays.
        let pruned = store
            .prune_sent(t0 + chrono::Duration::minutes(30))
            .unwrap();
        assert_eq!((pruned, store.sent_count()), (4, 1));
        assert_eq!(store.prune_sent(t0).unwrap(), 0);
        assert!(store.sent_message(chat(4), 8).unwrap().is_some());
    }
}
