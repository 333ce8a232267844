//! The crash window's side of the store: writes that return before they are
//! durable, for one owner to flush when its rules say so. That owner is
//! delivery's `FanOut` (`docs/architecture.md`, "Crash repeats"): the walk's
//! outbox cursor and page reads, removals of journal entries, ends and
//! moves of subscriptions that delivery learns of from Telegram, the
//! fan-out log, and the group commit's "flush only past this many" form.
//!
//! None of it is a [`Store`] method: it is reached only through a
//! [`CrashWindow`], which delivery's `FanOut` makes for itself and keeps.
//! Everything else uses [`Store`], whose writes are durable on return
//! unless they say losing them costs nothing.

use super::{Ended, FanOutLog, JournalStats, Removal, Store, StoreError, Target};

/// The store as the owner of the crash window uses it: every write here
/// may be lost by a crash until the owner commits. Cheap to clone.
#[derive(Clone)]
pub(crate) struct CrashWindow {
    pub(super) store: Store,
}

impl CrashWindow {
    /// The window over `store`, for delivery's `FanOut`, which makes the one
    /// it uses and hands it to no one. (Rust cannot limit a constructor to a
    /// sibling module; that this is the only way to these writes is what
    /// keeps them in one place.)
    pub(crate) fn over(store: &Store) -> CrashWindow {
        CrashWindow {
            store: store.clone(),
        }
    }

    /// The rest of the store: reads, and writes that are durable on return.
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// The fan-out log kept beside the database: the walk's record of the
    /// chats it handled beyond its saved cursor.
    pub(crate) fn fan_out_log(&self) -> &FanOutLog {
        &self.store.fan_out_log
    }

    /// Ends `chat`'s subscription with every journal entry it was owed, as
    /// [`Store::remove_chat`] does, but adding what `counted` says to the
    /// stored counters, and not flushed.
    pub(crate) fn end_chat(
        &self,
        chat: i64,
        why: Removal,
        counted: &dyn Fn(Ended) -> JournalStats,
    ) -> Result<Ended, StoreError> {
        self.store.end_chat(chat, why, counted)
    }

    /// Ends one target's subscription with the journal entries owed to it,
    /// as [`Store::remove_target`] does, but adding what `counted` says to
    /// the stored counters, and not flushed.
    pub(crate) fn end_target(
        &self,
        target: Target,
        why: Removal,
        counted: &dyn Fn(Ended) -> JournalStats,
    ) -> Result<Ended, StoreError> {
        self.store.end_target(target, why, counted)
    }

    /// Makes every write so far durable (see [`Store::commit`]).
    pub(crate) async fn commit(&self) -> Result<(), StoreError> {
        self.store.commit().await
    }

    /// Like [`CrashWindow::commit`], but returns at once while at most
    /// `max_unflushed` counted writes (the caller's included) are not yet
    /// durable; the owner's next commit covers them. Bounds what a crash can
    /// undo without paying an fsync per write.
    pub(crate) async fn commit_within(&self, max_unflushed: u64) -> Result<(), StoreError> {
        self.store.commit_within(max_unflushed).await
    }

    /// How many counted writes are not yet known to be durable.
    pub(crate) fn unflushed(&self) -> u64 {
        self.store.unflushed()
    }
}
