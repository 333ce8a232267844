//! Storage faults: sled's first I/O error is sticky. After a full disk, every
//! later write and flush fails the same way even once space is freed, until
//! the database is opened again — and every [`Store`] clone in the process
//! holds it open. So the store does not try to carry on: it notices the
//! fault and says so once through [`Store::failed`]; the process then
//! stops and exits non-zero, and its supervisor starts it again (`docs/operations.md#storage-faults`).
//!
//! Every fault shows in a flush: sled writes in the background only what it
//! is asked to make durable (its own timed flush is off, see the store), and
//! a flush after a failed background write returns sled's error. So a failed
//! flush records the fault ([`Store::note_flush`]), and [`Store::failed`]
//! waits for that — with no timer, so an idle bot does not wake for it.

use std::sync::Arc;

use super::{Store, StoreError};

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

    /// Records `error` as this store's fault, as a failing disk would.
    #[cfg(test)]
    pub(crate) fn inject_fault(&self, error: std::io::Error) {
        self.fault.record(&sled::Error::Io(error));
    }

    /// Returns once the database has failed (see [`Store::fault`]), with
    /// what went wrong.
    pub async fn failed(&self) -> Arc<str> {
        let mut changes = self.fault.first.subscribe();
        loop {
            if let Some(fault) = self.fault() {
                return fault;
            }
            if changes.changed().await.is_err() {
                // Every handle is gone: no fault can come any more.
                return std::future::pending().await;
            }
        }
    }

    /// `result` of a flush: a failure is a storage fault. A flush that had
    /// nothing new to write succeeds even after sled failed in the
    /// background, so sled's own error flag is looked at too.
    pub(super) fn note_flush<T>(&self, result: Result<T, sled::Error>) -> Result<T, StoreError> {
        let result = result.and_then(|done| self.config.global_error().map(|()| done));
        result.map_err(|error| {
            self.fault.record(&error);
            StoreError::Sled(error)
        })
    }
}
