//! Fan-out by cursor: a new release goes straight down the subscriber list,
//! with no journal entry per chat unless that chat's send cannot go out now.
//!
//! Why: a journal entry written and removed per chat was most of what a push
//! cost beyond the HTTP request. Here the common case appends a 16-byte record
//! per chat to a plain file (a few records per `write(2)`), and sled sees one
//! small write per [`SAVE_EVERY`] chats.
//!
//! What makes it crash-safe:
//! - the outbox entry's cursor (`after_chat`) only ever passes chats that are
//!   handled: sent, journaled, or no longer subscribed;
//! - every chat handled beyond the cursor gets a record in the fan-out log
//!   after its send was accepted, or after its journal entry was flushed.
//!   Records are written with `write(2)` (they survive `kill -9` without an
//!   fsync), a few at a time: the sender says how many may wait
//!   ([`Store::fan_out_start`]);
//! - so after a crash the walk resumes at the saved cursor and skips the chats
//!   the log names: only the sends in flight at the crash, and the few whose
//!   records were not written yet, go out twice.
//!
//! The log is emptied once the walked release's outbox entry is removed and
//! the removal flushed; records of an older release left by a crash at that
//! moment are told apart by their key and ignored.

use std::collections::{BTreeSet, HashSet};
use std::io::Write;
use std::ops::Bound;

use super::{
    OutboxEntry, PendingDelivery, Store, StoreError, chat_from_key, chat_key, corrupt,
    decode_subscription, delivery_key, encode, outbox_seq,
};

/// Bytes per log record: the outbox key, then the chat key.
const RECORD: usize = 16;
/// The cursor is saved (not flushed) after this many chats; the log covers the rest.
const SAVE_EVERY: usize = 64;

/// The release being walked, as its sends need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// Its outbox key: one per announcement (a release that a second source
    /// lists later is announced again, under a new key).
    pub key: u64,
    /// The item's sequence number, the second half of a journal key.
    pub item_seq: u64,
    pub item_id: String,
}

/// Chats to send the release to now, in id order.
#[derive(Debug)]
pub struct FanOutPage {
    pub release: Release,
    pub chats: Vec<i64>,
    /// Chats of this page that were journaled instead (they are owed older
    /// pushes, or the caller deferred them): the journal sweep serves them.
    pub journaled: usize,
    /// The subscriber changes seen when the page was read.
    epoch: u64,
}

/// What the walk has for the caller next.
#[derive(Debug)]
pub enum FanOutStep {
    Page(FanOutPage),
    /// Every chat of the release has been handed out; some sends are still in
    /// flight, and the release is finished only once they end.
    Draining,
    /// The outbox is empty.
    Idle,
}

/// In-memory progress of the walk (see [`Store::fan_out_page`]).
#[derive(Default)]
pub(super) struct Walk {
    current: Option<Walking>,
    /// Log records not yet written (fewer than `max_unwritten`).
    unwritten: Vec<u8>,
    /// How many records may wait before they are written: a `write(2)` per
    /// push was a visible share of its cost, and each waiting record is a push
    /// a crash would repeat.
    max_unwritten: usize,
}

/// Where the walk of one outbox release stands, for [`Store::migrate_chat`].
pub(super) struct WalkPosition<'a> {
    /// Chats up to here are handled, in flight, or (if they unsubscribe) never will be.
    pub taken: Option<i64>,
    /// Chats up to here were read into a page: one subscribing there later is missed.
    pub page_end: Option<i64>,
    pub item_seq: u64,
    pub entry: &'a OutboxEntry,
}

struct Walking {
    release: Release,
    entry: OutboxEntry,
    /// Chats beyond the saved cursor that the log says are handled (a restart).
    handled: HashSet<i64>,
    /// The last chat read into a page.
    page_end: Option<i64>,
    /// The last chat handed to a sender (or skipped).
    taken: Option<i64>,
    /// Chats whose send is in flight: the cursor stays below the lowest.
    in_flight: BTreeSet<i64>,
    unsaved: usize,
}

impl Walking {
    /// The highest chat such that every chat up to it is handled.
    fn cursor(&self) -> Option<i64> {
        match self.in_flight.first() {
            Some(lowest) => Some(lowest.saturating_sub(1)),
            None => self.taken,
        }
    }
}

enum Next {
    Page(FanOutPage, Vec<i64>),
    Finished,
    Draining,
    Idle,
}

impl Walk {
    /// The walk position of the outbox entry under `key`, if it is being walked.
    pub(super) fn position_of(&self, key: u64) -> Option<WalkPosition<'_>> {
        self.current
            .as_ref()
            .filter(|w| w.release.key == key)
            .map(|w| WalkPosition {
                taken: w.taken,
                page_end: w.page_end,
                item_seq: w.release.item_seq,
                entry: &w.entry,
            })
    }
}

impl Store {
    pub(super) fn walk(&self) -> std::sync::MutexGuard<'_, Walk> {
        // The walk's state stays consistent between statements: a panic
        // elsewhere does not invalidate it.
        self.walk.lock().unwrap_or_else(|p| p.into_inner())
    }

    // The fan-out flushes on its own rather than through the group commit
    // ([`Store::commit`]): its caller may hold sends whose commits it is not
    // polling while it waits, and they must not wait for each other.

    /// The next page of at most `max` chats to send the oldest outbox release
    /// to. Chats owed older pushes, and chats `defer` names (waiting out a
    /// failure, or busy), are journaled instead, so each chat still gets its
    /// pushes oldest first; the journal entries are durable before this returns.
    /// The caller takes every chat of a page ([`Store::fan_out_take`]) before
    /// asking for the next. A release whose chats have all been handled is
    /// removed from the outbox, and the walk moves on to the next.
    pub async fn fan_out_page(
        &self,
        max: usize,
        defer: impl Fn(i64) -> bool,
    ) -> Result<FanOutStep, StoreError> {
        loop {
            let next = self.next_page(max.max(1), &defer)?;
            match next {
                Next::Page(page, journaled) => {
                    if !journaled.is_empty() {
                        self.flush().await?;
                        let mut walk = self.walk();
                        for chat in journaled {
                            self.log_handled(&mut walk, page.release.key, chat)?;
                        }
                    }
                    return Ok(FanOutStep::Page(page));
                }
                Next::Finished => {
                    // Once the entry's removal is durable, the log is obsolete.
                    self.flush().await?;
                    self.walk().unwritten.clear();
                    self.fan_out_log.set_len(0).map_err(|e| self.log_error(e))?;
                }
                Next::Draining => return Ok(FanOutStep::Draining),
                Next::Idle => return Ok(FanOutStep::Idle),
            }
        }
    }

    fn next_page(&self, max: usize, defer: &impl Fn(i64) -> bool) -> Result<Next, StoreError> {
        let mut walk = self.walk();
        if walk.current.is_none() {
            let Some((key, value)) = self.outbox.first()? else {
                return Ok(Next::Idle);
            };
            let entry: OutboxEntry =
                serde_json::from_slice(&value).map_err(|e| corrupt("outbox", e))?;
            let release = Release {
                key: outbox_seq(&key)?,
                item_seq: entry.seq_under(&key)?,
                item_id: entry.item_id.clone(),
            };
            let handled = self.read_log(release.key, entry.after_chat)?;
            walk.current = Some(Walking {
                release,
                handled,
                page_end: entry.after_chat,
                taken: entry.after_chat,
                entry,
                in_flight: BTreeSet::new(),
                unsaved: 0,
            });
        }
        let Some(w) = walk.current.as_mut() else {
            return Ok(Next::Idle);
        };
        // The caller took the whole previous page.
        w.taken = w.taken.max(w.page_end);
        let epoch = self.epoch();
        let start = match w.page_end {
            Some(chat) => Bound::Excluded(chat_key(chat)),
            None => Bound::Unbounded,
        };
        let listed: Vec<(sled::IVec, sled::IVec)> = self
            .subscribers
            .range::<[u8; 8], _>((start, Bound::Unbounded))
            .take(max)
            .collect::<Result<_, _>>()?;
        let (Some((first, _)), Some((last, _))) = (listed.first(), listed.last()) else {
            if !w.in_flight.is_empty() {
                return Ok(Next::Draining);
            }
            let key = w.release.key.to_be_bytes();
            self.outbox.remove(key)?;
            walk.current = None;
            return Ok(Next::Finished);
        };
        let last = chat_from_key(last).ok_or_else(|| corrupt("subscribers", "bad key"))?;
        // Chats of this page owed older pushes: one range read for the page.
        let mut owed: HashSet<i64> = HashSet::new();
        let end = delivery_key(last, u64::MAX);
        for key in self.deliveries.range(first.as_ref()..=&end[..]).keys() {
            if let Some(chat) = chat_from_key(&key?[..8]) {
                owed.insert(chat);
            }
        }
        let mut chats = Vec::with_capacity(listed.len());
        let mut journaled = Vec::new();
        let mut skipped_corrupt = 0;
        for (key, record) in &listed {
            let Some(chat) = chat_from_key(key) else {
                skipped_corrupt += 1;
                continue;
            };
            if w.handled.remove(&chat) {
                continue;
            }
            // A damaged record must not block the release for everyone else.
            let Ok(subscription) = decode_subscription(record) else {
                skipped_corrupt += 1;
                continue;
            };
            if !w.entry.reaches(&subscription) {
                continue;
            }
            if owed.contains(&chat) || defer(chat) {
                self.journal(&w.release, chat)?;
                journaled.push(chat);
            } else {
                chats.push(chat);
            }
        }
        if skipped_corrupt > 0 {
            tracing::error!(
                skipped_corrupt,
                item = %w.release.item_id,
                "damaged subscriber records were skipped during fan-out"
            );
        }
        w.page_end = Some(last);
        let page = FanOutPage {
            release: w.release.clone(),
            journaled: journaled.len(),
            chats,
            epoch,
        };
        Ok(Next::Page(page, journaled))
    }

    /// Claims `chat` of `page` for sending. False when it no longer wants the
    /// release (it unsubscribed since the page was read) or the walk was reset.
    pub fn fan_out_take(&self, page: &FanOutPage, chat: i64) -> Result<bool, StoreError> {
        let mut walk = self.walk();
        let Some(w) = walk.current.as_mut().filter(|w| w.release == page.release) else {
            return Ok(false);
        };
        w.taken = Some(chat);
        if self.epoch() != page.epoch
            && !self
                .subscription(chat)?
                .is_some_and(|s| w.entry.reaches(&s))
        {
            return Ok(false);
        }
        w.in_flight.insert(chat);
        Ok(true)
    }

    /// Telegram accepted `release` for `chat`.
    pub fn fan_out_sent(&self, release: &Release, chat: i64) -> Result<(), StoreError> {
        self.settle_taken(release, chat)
    }

    /// `release` could not go to `chat` now (a failure, shutdown, or the chat is
    /// busy): it is journaled, durably, and served like any other journaled push.
    pub async fn fan_out_defer(
        &self,
        release: &Release,
        chat: i64,
    ) -> Result<PendingDelivery, StoreError> {
        self.journal(release, chat)?;
        self.flush().await?;
        self.settle_taken(release, chat)?;
        Ok(PendingDelivery {
            seq: release.item_seq,
            chat,
            item_id: release.item_id.clone(),
        })
    }

    /// The item of `page` cannot be read: its remaining `chats` are journaled
    /// in one go (the journal sweep gives the push up, counted), not sent.
    pub async fn fan_out_defer_all(
        &self,
        page: &FanOutPage,
        chats: impl IntoIterator<Item = i64>,
    ) -> Result<(), StoreError> {
        let mut journaled = Vec::new();
        for chat in chats {
            if self.fan_out_take(page, chat)? {
                self.journal(&page.release, chat)?;
                journaled.push(chat);
            }
        }
        self.flush().await?;
        for chat in journaled {
            self.settle_taken(&page.release, chat)?;
        }
        Ok(())
    }

    /// Saves the walk's cursor (not flushed: the log covers what it lags behind).
    pub fn fan_out_save(&self) -> Result<(), StoreError> {
        let mut walk = self.walk();
        self.write_log(&mut walk)?;
        match walk.current.as_mut() {
            Some(w) => self.save_cursor(w),
            None => Ok(()),
        }
    }

    /// Makes the written log records survive a power cut (`kill -9` cannot
    /// lose them even without this).
    pub fn sync_fan_out_log(&self) -> Result<(), StoreError> {
        self.fan_out_log.sync_data().map_err(|e| self.log_error(e))
    }

    /// (Re)starts the walk for a sender that lets at most `max_unwritten` log
    /// records wait (each is a push a crash would repeat). Any walk in memory
    /// is forgotten: the next page starts again from the saved cursor and the
    /// log, so a sender that lost track of its sends (restarted after an
    /// error) sends those that were in flight again, as after a crash.
    pub fn fan_out_start(&self, max_unwritten: usize) -> Result<(), StoreError> {
        let mut walk = self.walk();
        walk.current = None;
        walk.max_unwritten = max_unwritten;
        self.write_log(&mut walk)
    }

    /// Journals `release` for `chat` (not flushed).
    fn journal(&self, release: &Release, chat: i64) -> Result<(), StoreError> {
        self.deliveries.insert(
            delivery_key(chat, release.item_seq),
            release.item_id.as_bytes(),
        )?;
        Ok(())
    }

    /// `chat` is handled for `release`: logged, and no longer in flight.
    fn settle_taken(&self, release: &Release, chat: i64) -> Result<(), StoreError> {
        let mut walk = self.walk();
        self.log_handled(&mut walk, release.key, chat)?;
        let Some(w) = walk.current.as_mut().filter(|w| w.release == *release) else {
            return Ok(());
        };
        w.in_flight.remove(&chat);
        w.unsaved += 1;
        if w.unsaved >= SAVE_EVERY {
            self.save_cursor(w)?;
        }
        Ok(())
    }

    fn save_cursor(&self, w: &mut Walking) -> Result<(), StoreError> {
        let cursor = w.cursor();
        if cursor != w.entry.after_chat {
            w.entry.after_chat = cursor;
            self.outbox
                .insert(w.release.key.to_be_bytes(), encode("outbox", &w.entry)?)?;
        }
        w.unsaved = 0;
        Ok(())
    }

    fn log_handled(&self, walk: &mut Walk, key: u64, chat: i64) -> Result<(), StoreError> {
        walk.unwritten.extend_from_slice(&key.to_be_bytes());
        walk.unwritten.extend_from_slice(&chat_key(chat));
        if walk.unwritten.len() >= walk.max_unwritten.max(1) * RECORD {
            self.write_log(walk)?;
        }
        Ok(())
    }

    fn write_log(&self, walk: &mut Walk) -> Result<(), StoreError> {
        if walk.unwritten.is_empty() {
            return Ok(());
        }
        // One write to a file opened for appending.
        if let Err(e) = (&*self.fan_out_log).write_all(&walk.unwritten) {
            // Part of it may have gone: keep the records that did, whole, so
            // the ones written after this stay aligned.
            self.align_log()?;
            return Err(self.log_error(e));
        }
        walk.unwritten.clear();
        Ok(())
    }

    /// Cuts a torn record (power loss, a failed write) off the end of the log.
    pub(super) fn align_log(&self) -> Result<(), StoreError> {
        let len = self
            .fan_out_log
            .metadata()
            .map_err(|e| self.log_error(e))?
            .len();
        if len % RECORD as u64 != 0 {
            self.fan_out_log
                .set_len(len - len % RECORD as u64)
                .map_err(|e| self.log_error(e))?;
        }
        Ok(())
    }

    /// Chats after `after` that the log records as handled for `key`.
    fn read_log(&self, key: u64, after: Option<i64>) -> Result<HashSet<i64>, StoreError> {
        let bytes = std::fs::read(&self.fan_out_log_path).map_err(|e| self.log_error(e))?;
        // The log is kept whole records long (see `align_log`).
        Ok(bytes
            .chunks_exact(RECORD)
            .filter(|r| r[..8] == key.to_be_bytes())
            .filter_map(|r| chat_from_key(&r[8..]))
            .filter(|chat| after.is_none_or(|a| *chat > a))
            .collect())
    }

    fn log_error(&self, source: std::io::Error) -> StoreError {
        StoreError::Log {
            path: self.fan_out_log_path.to_path_buf(),
            source,
        }
    }
}
