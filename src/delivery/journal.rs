//! The journal as delivery changes it. Every removal of a journal entry that
//! delivery makes goes through [`Journal`] — a push completed (sent, or no
//! longer wanted), given up, dropped with its chat or topic, moved with a
//! migrating group — and so does every flush delivery asks of the store.
//! Each kind of removal has one rule for how durable it is on return:
//! - a completion may wait for a flush, at most `crash_window` of them at a
//!   time (each is a push a `kill -9` repeats) and only briefly: the fan-out's
//!   keeper ([`super::FanOut::keep_durable`]) flushes them within
//!   milliseconds;
//! - anything that changes what is owed for good (giving up, a chat or topic
//!   gone, a migration) is durable on return, and counted for operators in
//!   the same transaction.
//!
//! What a removal was is one [`Outcome`]: its stored part goes into the
//! removal's transaction, the rest into the pass's report and the metrics
//! once the removal is durable.
//!
//! The journal belongs to the fan-out ([`super::FanOut`] makes it, with the
//! store's crash window, and hands it to delivery): one owner for the crash
//! window, `docs/architecture.md#crash-repeats`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use super::outcome::{Outcome, PassReport, Unwanted};
use crate::store::{
    CrashWindow, JournalEntry, JournalStats, Removal, Store, StoreError, Target, WalkAhead,
};

/// Journal entries as delivery adds, removes and flushes them; cheap to
/// clone. Reached through [`super::FanOut::journal`].
#[derive(Clone)]
pub struct Journal {
    window: CrashWindow,
    /// How many completions may wait for a flush.
    crash_window: u64,
    /// Wakes the fan-out's keeper when a completion waits for a flush.
    waiting: Arc<Notify>,
}

impl Journal {
    /// The journal over `window`, letting at most `crash_window` completions
    /// wait for a flush; `waiting` is told whenever one does.
    pub(super) fn new(window: CrashWindow, crash_window: usize, waiting: Arc<Notify>) -> Journal {
        Journal {
            window,
            crash_window: crash_window.max(1) as u64,
            waiting,
        }
    }

    fn store(&self) -> &Store {
        self.window.store()
    }

    /// Journals release `item_id` (sequence `seq`) for `target`, as of
    /// `now`. Not durable until [`Journal::commit`]: the walk commits before
    /// it counts the chat handled.
    pub(super) fn add(
        &self,
        target: impl Into<Target>,
        seq: u64,
        item_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.store().journal(target, seq, item_id, now)
    }

    /// Journals an edit of the message `target` got for release `item_id`
    /// (sequence `seq`), revised since. Not durable until [`Journal::commit`].
    pub(super) fn add_edit(
        &self,
        target: Target,
        seq: u64,
        item_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.store().journal_edit(target, seq, item_id, now)
    }

    /// Makes every write so far durable.
    pub(super) async fn commit(&self) -> Result<(), StoreError> {
        self.window.commit().await
    }

    /// Whether completions wait for a flush.
    pub(super) fn has_unflushed(&self) -> bool {
        self.window.unflushed() > 0
    }

    /// Flushes the completions that wait, if any.
    pub(super) async fn flush_waiting(&self) -> Result<(), StoreError> {
        if self.has_unflushed() {
            self.commit().await?;
        }
        Ok(())
    }

    /// Removes an entry whose push went, returning once at most
    /// `crash_window` removals are not yet durable.
    pub async fn complete(&self, entry: &JournalEntry) -> Result<(), StoreError> {
        self.window.remove(entry, &JournalStats::default())?;
        self.window.commit_within(self.crash_window).await?;
        if self.has_unflushed() {
            self.waiting.notify_one();
        }
        Ok(())
    }

    /// Drops an entry whose push is no longer wanted (`why`), as a completion.
    pub(super) async fn drop_unwanted(
        &self,
        entry: &JournalEntry,
        why: Unwanted,
        report: &mut PassReport,
    ) -> Result<(), StoreError> {
        self.complete(entry).await?;
        report.count(Outcome::Dropped(why));
        Ok(())
    }

    /// Gives an entry up (Telegram refused its push for good, or its release
    /// is gone). Durable on return.
    pub(super) async fn give_up(
        &self,
        entry: &JournalEntry,
        report: &mut PassReport,
    ) -> Result<(), StoreError> {
        let outcome = Outcome::GivenUp;
        self.window.remove(entry, &outcome.stored())?;
        self.commit().await?;
        report.count(outcome);
        Ok(())
    }

    /// Telegram says `chat` is gone: its subscription ends with everything
    /// it was owed. Durable on return; how many pushes were dropped.
    pub(super) async fn chat_gone(
        &self,
        chat: i64,
        report: &mut PassReport,
    ) -> Result<usize, StoreError> {
        let counted = |ended| Outcome::ChatGone(ended).stored();
        let ended = self.window.end_chat(chat, Removal::ChatGone, &counted)?;
        self.commit().await?;
        report.count(Outcome::ChatGone(ended));
        Ok(ended.dropped)
    }

    /// Telegram says a forum topic is gone: its subscription ends with what
    /// it was owed (the whole chat's, if it was the chat's last target).
    /// Durable on return; how many pushes were dropped.
    pub(super) async fn topic_gone(
        &self,
        target: Target,
        report: &mut PassReport,
    ) -> Result<usize, StoreError> {
        let counted = |ended| Outcome::TopicGone(ended).stored();
        let ended = self
            .window
            .end_target(target, Removal::ChatGone, &counted)?;
        self.commit().await?;
        report.count(Outcome::TopicGone(ended));
        Ok(ended.dropped)
    }

    /// Moves a group's subscription and journal entries to its supergroup id
    /// as `walk` (held still meanwhile) requires. Not durable until
    /// [`Journal::commit`]; the outcome is counted once it is.
    pub(super) fn migrate(
        &self,
        from: i64,
        to: i64,
        walk: &dyn WalkAhead,
    ) -> Result<Outcome, StoreError> {
        let outcome = Outcome::Migrated;
        self.window
            .migrate_chat((from, to), walk, &outcome.stored())?;
        Ok(outcome)
    }
}
