//! The high-water mark: the item sequence counter as it was last known to be
//! durable, kept in a small file beside sled (`highwater`), written with
//! fsync whenever it grows.
//!
//! sled can open a damaged or restored database without a word, holding less
//! than it did (a truncated log with its snapshot gone opened with 3 of 7
//! releases). Releases it lost would then be announced again as new. The
//! counter only ever grows, so a database that opens behind the mark has
//! rolled back: [`Store::open`](super::Store::open) says so loudly and makes
//! every source's next read silent (see [`Rollback`]).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::meta::{NEXT_SEQ, primed_prefix};
use super::{StoreError, files, read_u64};

/// Keeps the mark; cheap to share behind an `Arc`.
pub(super) struct HighWater {
    path: PathBuf,
    /// The mark as written (0: none yet).
    mark: Mutex<u64>,
}

/// What opening the store found: the database holds less than it once did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollback {
    /// The next item sequence number the database holds.
    pub found: u64,
    /// The mark it should have reached.
    pub mark: u64,
    /// Releases that were being fanned out, dropped: they may have gone out already.
    pub outbox_dropped: usize,
    /// Journal entries dropped, for the same reason.
    pub journal_dropped: usize,
}

impl std::fmt::Display for Rollback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the database opened behind its high-water mark (item sequence {} instead of at least {}): \
             it lost recent writes (a damaged, truncated or restored disk). Every source's next read \
             is recorded silently, so no release is announced twice; {} releases being fanned out and \
             {} pending pushes from before were dropped (they may have been sent already), and \
             subscriptions changed since may be lost",
            self.found, self.mark, self.outbox_dropped, self.journal_dropped
        )
    }
}

impl HighWater {
    /// Reads the mark at `path` (`None` when there is none yet, or it cannot
    /// be read: then the database is trusted and the mark written afresh).
    pub(super) fn open(path: &Path) -> (HighWater, Option<u64>) {
        let recorded = match std::fs::read_to_string(path) {
            Ok(text) => match text.trim().parse::<u64>() {
                Ok(mark) => Some(mark),
                Err(_) => {
                    tracing::warn!(path = %path.display(), "the high-water mark is unreadable; writing it afresh");
                    None
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot read the high-water mark; writing it afresh");
                None
            }
        };
        if let Err(e) = files::tighten_file(path) {
            tracing::warn!(path = %path.display(), error = %e, "cannot make the high-water mark private (0600)");
        }
        let water = HighWater {
            path: path.to_path_buf(),
            mark: Mutex::new(recorded.unwrap_or(0)),
        };
        (water, recorded)
    }

    /// Raises the mark to `next_seq` if it is higher, durably: a new file,
    /// synced, renamed over the old one, and the directory synced.
    pub(super) fn raise(&self, next_seq: u64) -> std::io::Result<()> {
        let mut mark = self.mark.lock().unwrap_or_else(|p| p.into_inner());
        if next_seq <= *mark {
            return Ok(());
        }
        let tmp = self.path.with_extension("tmp");
        let mut file = files::private_create(&tmp)?;
        file.write_all(format!("{next_seq}\n").as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        *mark = next_seq;
        Ok(())
    }
}

impl super::Store {
    /// Compares the database with the mark it was opened with (`recorded`).
    /// Behind it: logs loudly, makes every source's next read a first read
    /// (silent), drops the outbox, the journal and the fan-out log (they may
    /// describe pushes that went out after the point the database fell back
    /// to), and only then moves the counter up to the mark — so a crash
    /// during this runs it again on the next open. Otherwise the mark
    /// follows the database.
    pub(super) fn check_high_water(
        &self,
        recorded: Option<u64>,
    ) -> Result<Option<Rollback>, StoreError> {
        let found = self.next_seq()?;
        let mark = match recorded {
            Some(mark) if found < mark => mark,
            _ => {
                self.raise_high_water_now(found)?;
                return Ok(None);
            }
        };
        let rollback = Rollback {
            found,
            mark,
            outbox_dropped: self.outbox.len(),
            journal_dropped: self.journal.len(),
        };
        tracing::error!("{rollback}");
        self.outbox.clear()?;
        self.journal.clear()?;
        let mut unprime = sled::Batch::default();
        for key in self.meta.scan_prefix(primed_prefix()).keys() {
            unprime.remove(key?);
        }
        self.meta.apply_batch(unprime)?;
        self.db.flush()?;
        self.fan_out_log.clear()?;
        self.fan_out_log.sync()?;
        self.meta.insert(NEXT_SEQ, &mark.to_be_bytes())?;
        self.db.flush()?;
        self.raise_high_water_now(mark)?;
        Ok(Some(rollback))
    }

    /// Set when this store opened behind its high-water mark (operators
    /// should hear of it).
    pub fn rollback(&self) -> Option<&Rollback> {
        self.rollback.as_ref()
    }

    /// Raises the mark to `next_seq`, which the caller has made durable in
    /// the database first (a mark ahead of the database is a false alarm).
    pub(super) async fn raise_high_water(&self, next_seq: u64) -> Result<(), StoreError> {
        let water = self.high_water.clone();
        let raised = tokio::task::spawn_blocking(move || water.raise(next_seq)).await;
        match raised {
            Ok(result) => result.map_err(|source| self.high_water_error(source)),
            Err(join) => Err(self.high_water_error(std::io::Error::other(join.to_string()))),
        }
    }

    pub(super) fn raise_high_water_now(&self, next_seq: u64) -> Result<(), StoreError> {
        self.high_water
            .raise(next_seq)
            .map_err(|source| self.high_water_error(source))
    }

    fn high_water_error(&self, source: std::io::Error) -> StoreError {
        StoreError::HighWater {
            path: self.high_water.path.clone(),
            source,
        }
    }

    /// The next item sequence number the database will hand out.
    fn next_seq(&self) -> Result<u64, StoreError> {
        Ok(match self.meta.get(NEXT_SEQ)? {
            Some(v) => read_u64("meta", Some(v))?,
            None => 1,
        })
    }
}
