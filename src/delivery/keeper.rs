//! The crash window's background half: the fan-out log's records as they
//! wait to be written ([`LogWriter`]), and the keeper ([`keep_durable`])
//! that writes them, flushes journal completions that wait, and syncs the
//! log.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

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
/// How often the fan-out log is synced to disk (sled flushes every 500 ms too).
pub(super) const SYNC_LOG_EVERY: Duration = Duration::from_millis(500);

/// The fan-out log's writer: records wait here, at most `crash_window` of
/// them and at most [`FLUSH_EVERY`].
pub(super) struct LogWriter {
    log: FanOutLog,
    /// How many records may wait in memory.
    crash_window: usize,
    state: Mutex<Buffered>,
}

/// What the writer holds back.
#[derive(Default)]
struct Buffered {
    /// Records not yet written (fewer than the crash window).
    unwritten: Vec<u8>,
    /// When the log was last written to.
    last_write: Option<Instant>,
}

impl LogWriter {
    /// A writer for `log` holding back at most `crash_window` records.
    pub(super) fn new(log: FanOutLog, crash_window: usize) -> LogWriter {
        LogWriter {
            log,
            crash_window: crash_window.max(1),
            state: Mutex::default(),
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
        buffered.last_write = Some(Instant::now());
        Ok(())
    }

    /// Empties the log, records held back included: the walked entry's
    /// removal is durable, so nothing in it can matter again (an older
    /// entry's records that a crash leaves are told apart by their key).
    pub(super) fn clear(&self) -> Result<(), StoreError> {
        self.lock().unwritten.clear();
        self.log.clear()
    }

    /// Syncs the log to disk.
    async fn sync(&self) -> Result<(), StoreError> {
        let log = self.log.clone();
        match tokio::task::spawn_blocking(move || log.sync()).await {
            Ok(synced) => synced,
            Err(join) => Err(StoreError::Sled(sled::Error::ReportableBug(format!(
                "the log's sync thread ended abnormally: {join}"
            )))),
        }
    }
}

/// Keeps delivery's progress durable until `shutdown`: writes held-back log
/// records and flushes journal completions every [`FLUSH_EVERY`], so
/// senders rarely reach the crash window and wait for an fsync themselves,
/// and syncs the fan-out log every [`SYNC_LOG_EVERY`], so a power cut
/// repeats about as much of a fan-out as sled's own half-second flush lets it.
pub(super) async fn keep_durable(log: &LogWriter, journal: &Journal, shutdown: Shutdown) {
    let mut last_sync = Instant::now();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(FLUSH_EVERY) => {}
            _ = shutdown.requested() => return,
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
        if last_sync.elapsed() >= SYNC_LOG_EVERY {
            last_sync = Instant::now();
            if let Err(e) = log.sync().await
                && let Some(held_back) = log_limit::allow("sync the fan-out log")
            {
                tracing::error!(error = %e, held_back, "cannot sync the fan-out log");
            }
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
