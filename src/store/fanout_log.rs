//! The fan-out log: an append-only file beside sled naming the chats a
//! fan-out walk has handled beyond its saved cursor, 16 bytes a chat (the
//! outbox key, then the chat key).
//!
//! Why a plain file: a sled write per chat was most of what a push cost beyond
//! its HTTP request, while `write(2)` to a file survives `kill -9` without an
//! fsync. When to write, sync and empty it is decided by the walk (delivery's
//! `FanOut`); this type only knows the format.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use super::{StoreError, chat_from_key, chat_key};

/// Bytes per record: the outbox key, then the chat key.
const RECORD: usize = 16;

/// Handle to the log file; cheap to clone.
#[derive(Clone)]
pub(crate) struct FanOutLog {
    file: Arc<std::fs::File>,
    path: Arc<Path>,
}

impl FanOutLog {
    /// Bytes per record.
    pub(crate) const RECORD: usize = RECORD;

    /// Opens (creating) the log and cuts off a torn last record.
    pub(super) fn open(path: &Path) -> Result<FanOutLog, StoreError> {
        let file = super::files::private_append(path).map_err(|source| StoreError::Log {
            path: path.to_path_buf(),
            source,
        })?;
        let log = FanOutLog {
            file: Arc::new(file),
            path: path.into(),
        };
        log.align()?;
        Ok(log)
    }

    /// Appends the record for `chat` handled in the walk of outbox entry `key`
    /// to `buffer` (written later by [`FanOutLog::append`]).
    pub(crate) fn encode(buffer: &mut Vec<u8>, key: u64, chat: i64) {
        buffer.extend_from_slice(&key.to_be_bytes());
        buffer.extend_from_slice(&chat_key(chat));
    }

    /// Writes whole records with one `write(2)`.
    pub(crate) fn append(&self, records: &[u8]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        if let Err(e) = (&*self.file).write_all(records) {
            // Part of it may have gone: keep the records that did, whole, so
            // the ones written after this stay aligned.
            self.align()?;
            return Err(self.error(e));
        }
        Ok(())
    }

    /// Chats after `after` that the log records as handled for outbox entry `key`.
    pub(crate) fn chats_handled(
        &self,
        key: u64,
        after: Option<i64>,
    ) -> Result<HashSet<i64>, StoreError> {
        Ok(self
            .records()?
            .into_iter()
            .filter(|(k, chat)| *k == key && after.is_none_or(|a| *chat > a))
            .map(|(_, chat)| chat)
            .collect())
    }

    /// Every record in the log: (outbox key, chat), oldest first.
    pub(crate) fn records(&self) -> Result<Vec<(u64, i64)>, StoreError> {
        let bytes = std::fs::read(&self.path).map_err(|e| self.error(e))?;
        // The log is kept whole records long (see `align`).
        Ok(bytes
            .chunks_exact(RECORD)
            .filter_map(|r| {
                let key = u64::from_be_bytes(r[..8].try_into().ok()?);
                Some((key, chat_from_key(&r[8..])?))
            })
            .collect())
    }

    /// Empties the log (its walk's outbox entry is gone, durably).
    pub(crate) fn clear(&self) -> Result<(), StoreError> {
        self.file.set_len(0).map_err(|e| self.error(e))
    }

    /// Makes the written records survive a power cut (`kill -9` cannot lose
    /// them even without this).
    pub(crate) fn sync(&self) -> Result<(), StoreError> {
        self.file.sync_data().map_err(|e| self.error(e))
    }

    /// Cuts a torn record (power loss, a failed write) off the end of the log.
    fn align(&self) -> Result<(), StoreError> {
        let len = self.file.metadata().map_err(|e| self.error(e))?.len();
        if len % RECORD as u64 != 0 {
            self.file
                .set_len(len - len % RECORD as u64)
                .map_err(|e| self.error(e))?;
        }
        Ok(())
    }

    fn error(&self, source: std::io::Error) -> StoreError {
        StoreError::Log {
            path: self.path.to_path_buf(),
            source,
        }
    }
}
