//! Storage faults: sled's first I/O error is sticky. After a full disk, every
//! later write and flush fails the same way even once space is freed, until
//! the database is opened again — and every [`Store`] clone in the process
//! holds it open. So the store does not try to carry on: it notices the
//! fault (a failed flush, or sled's own error flag, looked at four times a
//! second) and says so once through [`Store::failed`]; the process then
//! stops and exits non-zero, and its supervisor starts it again (README
//! "Storage faults").

use std::sync::Arc;
use std::time::Duration;

use super::{Store, StoreError};

/// How often sled's error flag is looked at: a fault in sled's background
/// flush shows up there before any caller of ours sees it.
const PROBE_EVERY: Duration = Duration::from_millis(250);

/// The first storage fault of this process, if any; shared by every clone.
pub(super) struct Fault {
    first: tokio::sync::watch::Sender<Option<Arc<str>>>,
}

impl Default for Fault {
    fn default() -> Self {
        Fault {
            first: tokio::sync::watch::Sender::new(None),
        }
    }
}

impl Fault {
    /// Records `error` as the fault unless one was recorded before.
    pub(super) fn record(&self, error: &sled::Error) {
        let described: Arc<str> = error.to_string().into();
        self.first.send_if_modified(|first| {
            if first.is_some() {
                return false;
            }
            *first = Some(described);
            true
        });
    }
}

impl Store {
    /// The storage fault this process has met, if any: the database cannot
    /// be written until it is opened again.
    pub fn fault(&self) -> Option<Arc<str>> {
        if let Some(first) = self.fault.first.borrow().clone() {
            return Some(first);
        }
        // sled keeps the first error of its background writes in its config.
        if let Err(error) = self.config.global_error() {
            self.fault.record(&error);
        }
        self.fault.first.borrow().clone()
    }

    /// Returns once the database has failed (see [`Store::fault`]), with
    /// what went wrong.
    pub async fn failed(&self) -> Arc<str> {
        let mut changes = self.fault.first.subscribe();
        loop {
            if let Some(fault) = self.fault() {
                return fault;
            }
            tokio::select! {
                _ = changes.changed() => {}
                _ = tokio::time::sleep(PROBE_EVERY) => {}
            }
        }
    }

    /// `result` of a flush: a failure is a storage fault.
    pub(super) fn note_flush<T>(&self, result: Result<T, sled::Error>) -> Result<T, StoreError> {
        result.map_err(|error| {
            self.fault.record(&error);
            StoreError::Sled(error)
        })
    }
}
