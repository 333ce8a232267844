//! The crash window's background half: the fan-out log's records as they
//! wait to be written and synced ([`LogWriter`]), and the keeper
//! ([`keep_durable`]) that writes them, flushes journal completions that
//! wait, and syncs the log — when, and only when, something waits. An idle
//! bot has nothing buffered, nothing unflushed and a synced log, and the
//! keeper sleeps without a timer until the next push wakes it.

#[cfg(test)]
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::journal::Journal;
use crate::runtime::log_limit;
use crate::runtime::shutdown::Shutdown;
use crate::store::{FanOutLog, StoreError};

/// How long journal completions, and buffered log records, may wait to be
/// flushed or written.
pub(super) const FLUSH_EVERY: Duration = Duration::from_millis(2);
/// A log record is written as soon as its send is confirmed when the log was
/// last written at least this long ago: below a thousand sends a second the
/// writes cost nothing, and a crash repeats only the sends in flight.
pub(super) const WRITE_AT_ONCE_AFTER: Duration = Duration::from_millis(1);
/// How long written log records may wait for a sync to disk (what a power
/// cut may repeat); at most two syncs a second however fast the walk goes.
pub(super) const SYNC_LOG_EVERY: Duration = Duration::from_millis(500);

/// The fan-out log's writer: records wait here, at most `crash_window` of
/// them and at most [`FLUSH_EVERY`], and written records wait for a sync.
pub(super) struct LogWriter {
    log: FanOutLog,
    /// How many records may wait in memory.
    crash_window: usize,
    state: Mutex<Buffered>,
    /// Wakes the keeper when a record waits to be written or synced.
    waiting: Arc<Notify>,
    /// What the keeper did, for tests that an idle bot does nothing.
    #[cfg(test)]
    pub(super) tally: Tally,
}

/// The keeper's work, counted.
#[cfg(test)]
#[derive(Default)]
pub(super) struct Tally {
    /// Times the keeper woke.
    pub(super) turns: std::sync::atomic::AtomicU64,
    /// Syncs of the log.
    pub(super) syncs: std::sync::atomic::AtomicU64,
}

/// What the writer holds back.
#[derive(Default)]
struct Buffered {
    /// Records not yet written (fewer than the crash window).
    unwritten: Vec<u8>,
    /// When the first of them was buffered.
    since: Option<Instant>,
    /// When the log was last written to.
    last_write: Option<Instant>,
    /// When the log was first written after its last sync (`None`: synced).
    unsynced_since: Option<Instant>,
}

impl LogWriter {
    /// A writer for `log` holding back at most `crash_window` records;
    /// `waiting` hears of every record that waits.
    pub(super) fn new(log: FanOutLog, crash_window: usize, waiting: Arc<Notify>) -> LogWriter {
        LogWriter {
            log,
            crash_window: crash_window.max(1),
            state: Mutex::default(),
            waiting,
            #[cfg(test)]
            tally: Tally::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Buffered> {
        // Plain buffers: still consistent after a panic elsewhere.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records `chat` handled in the walk of outbox entry `key`: written at
    /// once when the log has been quiet (sparse sends), else held back with
    /// others until the window is full or the keeper writes them.
    pub(super) fn record(&self, key: u64, chat: i64) -> Result<(), StoreError> {
        let mut buffered = self.lock();
        FanOutLog::encode(&mut buffered.unwritten, key, chat);
        let sparse = buffered
            .last_write
            .is_none_or(|at| at.elapsed() >= WRITE_AT_ONCE_AFTER);
        if sparse || buffered.unwritten.len() >= self.crash_window * FanOutLog::RECORD {
            return self.write_locked(&mut buffered);
        }
        if buffered.since.is_none() {
            buffered.since = Some(Instant::now());
            self.waiting.notify_one();
        }
        Ok(())
    }

    /// Writes the records held back.
    pub(super) fn write(&self) -> Result<(), StoreError> {
        self.write_locked(&mut self.lock())
    }

    fn write_locked(&self, buffered: &mut Buffered) -> Result<(), StoreError> {
        if buffered.unwritten.is_empty() {
            return Ok(());
        }
        self.log.append(&buffered.unwritten)?;
        buffered.unwritten.clear();
        buffered.since = None;
        let now = Instant::now();
        buffered.last_write = Some(now);
        if buffered.unsynced_since.is_none() {
            buffered.unsynced_since = Some(now);
            self.waiting.notify_one();
        }
        Ok(())
    }

    /// Empties the log, records held back included: the walked entry's
    /// removal is durable, so nothing in it can matter again (an older
    /// entry's records that a crash leaves are told apart by their key).
    pub(super) fn clear(&self) -> Result<(), StoreError> {
        let mut buffered = self.lock();
        buffered.unwritten.clear();
        buffered.since = None;
        buffered.unsynced_since = None;
        self.log.clear()
    }

    /// When the held-back records must be written, and when the log must be
    /// synced; `None` when nothing waits.
    fn due(&self) -> (Option<Instant>, Option<Instant>) {
        let buffered = self.lock();
        (
            buffered.since.map(|at| at + FLUSH_EVERY),
            buffered.unsynced_since.map(|at| at + SYNC_LOG_EVERY),
        )
    }

    /// Syncs the log if its first unsynced write is [`SYNC_LOG_EVERY`] old.
    async fn sync_if_due(&self) -> Result<(), StoreError> {
        let now = Instant::now();
        {
            let mut buffered = self.lock();
            if buffered
                .unsynced_since
                .is_none_or(|at| at + SYNC_LOG_EVERY > now)
            {
                return Ok(());
            }
            // Writes from here on wait for the next sync.
            buffered.unsynced_since = None;
        }
        #[cfg(test)]
        self.tally.syncs.fetch_add(1, Ordering::SeqCst);
        let log = self.log.clone();
        let synced = match tokio::task::spawn_blocking(move || log.sync()).await {
            Ok(synced) => synced,
            Err(join) => Err(StoreError::Sled(sled::Error::ReportableBug(format!(
                "the log's sync thread ended abnormally: {join}"
            )))),
        };
        if synced.is_err() {
            // Tried again a sync period from now, not in a tight loop.
            let mut buffered = self.lock();
            buffered.unsynced_since.get_or_insert(now);
        }
        synced
    }
}

/// Keeps the crash window's promises until `shutdown`: log records held
/// back are written within [`FLUSH_EVERY`], completions that wait for a
/// flush are flushed within [`FLUSH_EVERY`] (so senders rarely reach the
/// window and pay an fsync themselves), and written records are synced
/// within [`SYNC_LOG_EVERY`] (what a power cut may repeat). With nothing
/// waiting it waits for `waiting`, with no timer at all.
pub(super) async fn keep_durable(
    log: &LogWriter,
    journal: &Journal,
    waiting: &Notify,
    shutdown: Shutdown,
) {
    loop {
        let (write_at, sync_at) = log.due();
        let flush_at = journal
            .has_unflushed()
            .then(|| Instant::now() + FLUSH_EVERY);
        let soon = write_at.or(flush_at);
        let due = [soon, sync_at].into_iter().flatten().min();
        let due_now = tokio::select! {
            _ = sleep_until_some(due) => true,
            // Woken by new work only while none is due soon: under load the
            // keeper runs every few milliseconds, not once per push.
            _ = waiting.notified(), if soon.is_none() => false,
            _ = shutdown.requested() => return,
        };
        #[cfg(test)]
        log.tally.turns.fetch_add(1, Ordering::SeqCst);
        if !due_now {
            continue;
        }
        if let Err(e) = log.write()
            && let Some(held_back) = log_limit::allow("write the fan-out log")
        {
            tracing::error!(error = %e, held_back, "cannot write the fan-out log");
        }
        if let Err(e) = journal.flush_waiting().await
            && let Some(held_back) = log_limit::allow("flush delivery progress")
        {
            tracing::error!(error = %e, held_back, "cannot flush delivery progress");
        }
        if let Err(e) = log.sync_if_due().await
            && let Some(held_back) = log_limit::allow("sync the fan-out log")
        {
            tracing::error!(error = %e, held_back, "cannot sync the fan-out log");
        }
    }
}

/// Sleeps until `at`, or forever when there is nothing to wait for.
pub(super) async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::FanOut;
    use crate::store::Store;

    // Paused time: the keeper's timers fire as they would in real time, at once.
    #[tokio::test(start_paused = true)]
    async fn written_records_are_synced_once_then_the_keeper_sleeps() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let fan_out = FanOut::new(store, 4);
        let (trigger, shutdown) = Shutdown::new();
        let keeper = tokio::spawn(fan_out.keep_durable(shutdown));
        let log = fan_out.inner_log();
        let synced = || log.tally.syncs.load(Ordering::SeqCst);

        // The log has been quiet: the record is written at once, and synced
        // within a sync period, not before.
        log.record(7, 1).unwrap();
        tokio::time::sleep(SYNC_LOG_EVERY / 2).await;
        assert_eq!(synced(), 0);
        tokio::time::sleep(SYNC_LOG_EVERY).await;
        assert_eq!(synced(), 1);
        // A burst after it: held back, written within a few milliseconds,
        // all synced together.
        for chat in 2..=4 {
            log.record(7, chat).unwrap();
        }
        tokio::time::sleep(FLUSH_EVERY * 2).await;
        assert_eq!(log.lock().unwritten.len(), 0);
        tokio::time::sleep(SYNC_LOG_EVERY).await;
        assert_eq!(synced(), 2);

        let turns = log.tally.turns.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(3_600)).await;
        assert_eq!(synced(), 2);
        assert_eq!(
            log.tally.turns.load(Ordering::SeqCst),
            turns,
            "asleep while idle"
        );
        trigger.trigger();
        keeper.await.unwrap();
    }
}
