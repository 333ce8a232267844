//! How each source's reads went, the contacts the live page showed, and the
//! sequence counter: small records in the `meta` tree.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Store, StoreError, corrupt, encode, read_u64, timestamp_from};
use crate::source::Contacts;

/// The next item sequence number.
pub(super) const NEXT_SEQ: &[u8] = b"next_seq";
const CONTACTS: &[u8] = b"contacts";
/// Written and flushed by health checks.
const HEALTH_PROBE: &[u8] = b"health_probe";

/// Present once the retention index covers every stored release.
pub(super) const META_RETENTION_INDEXED: &[u8] = b"schema:retention";

/// How many releases `source` keeps whole (see `retention`).
pub(super) fn kept_count_key(source: &str) -> Vec<u8> {
    format!("kept:{source}").into_bytes()
}

/// How many ids of `source`'s pruned releases are remembered.
pub(super) fn seen_count_key(source: &str) -> Vec<u8> {
    format!("seen:{source}").into_bytes()
}

/// Present once a source has been read successfully; holds the last success time.
pub(super) fn primed_key(source: &str) -> Vec<u8> {
    format!("{}{source}", primed_prefix()).into_bytes()
}

/// What every [`primed_key`] starts with.
pub(super) fn primed_prefix() -> &'static str {
    "primed:"
}

/// How many items the source's last good read showed (to tell an emptied page from a quiet one).
pub(super) fn item_count_key(source: &str) -> Vec<u8> {
    format!("item_count:{source}").into_bytes()
}

fn source_state_key(source: &str) -> Vec<u8> {
    format!("state:{source}").into_bytes()
}

fn last_error_key(source: &str) -> Vec<u8> {
    format!("last_error:{source}").into_bytes()
}

impl Store {
    /// When `source` was last read successfully.
    pub fn last_success(&self, source: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self
            .meta
            .get(primed_key(source))?
            .and_then(|v| timestamp_from(&v)))
    }

    /// Records a read of `source` that found nothing changed (a 304): the source
    /// is fresh as of `now`, and nothing else moves. A source never read whole
    /// stays unread, so its first full read is still silent. Not flushed: losing
    /// it in a crash costs nothing.
    pub fn record_unchanged(&self, source: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.meta.fetch_and_update(primed_key(source), |old| {
            old.map(|_| now.timestamp().to_be_bytes().to_vec())
        })?;
        Ok(())
    }

    /// How many items the last good read of `source` showed (`None`: never read,
    /// or read before this was counted).
    pub fn item_count_of(&self, source: &str) -> Result<Option<u64>, StoreError> {
        self.meta
            .get(item_count_key(source))?
            .map(|v| read_u64("meta", Some(v)))
            .transpose()
    }

    /// Records that `source` was read and showed no items, and returns how many
    /// the read before showed; later empty reads return 0, so an emptied page
    /// is reported once, not on every read. Nothing else is recorded: releases
    /// that come back are known and are not pushed again.
    pub fn record_empty(&self, source: &str) -> Result<u64, StoreError> {
        let before = self.meta.fetch_and_update(item_count_key(source), |old| {
            old.map(|_| 0u64.to_be_bytes().to_vec())
        })?;
        read_u64("meta", before)
    }

    /// Remembers why `source` last failed, for operators. Not flushed: losing it in
    /// a crash costs nothing.
    pub fn record_failure(
        &self,
        source: &str,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.put_stamped(&last_error_key(source), &error, now)
    }

    /// The last failure of `source` and when it happened.
    pub fn last_failure(
        &self,
        source: &str,
    ) -> Result<Option<(String, DateTime<Utc>)>, StoreError> {
        self.get_stamped(&last_error_key(source))
    }

    /// Remembers a poller's own state for `source` (failure run, alerts sent),
    /// so it survives a restart. Not flushed: losing the latest change costs
    /// at most one repeated or missing operator message.
    pub fn save_source_state<T: Serialize>(
        &self,
        source: &str,
        state: &T,
    ) -> Result<(), StoreError> {
        self.meta
            .insert(source_state_key(source), encode("meta", state)?)?;
        Ok(())
    }

    /// What [`Store::save_source_state`] kept for `source`.
    pub fn source_state<T: DeserializeOwned>(&self, source: &str) -> Result<Option<T>, StoreError> {
        self.meta
            .get(source_state_key(source))?
            .map(|v| serde_json::from_slice(&v).map_err(|e| corrupt("meta", e)))
            .transpose()
    }

    /// Remembers the contacts read from the live page, with when they were read.
    pub async fn save_contacts(
        &self,
        contacts: &Contacts,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.put_stamped(CONTACTS, contacts, now)?;
        self.commit().await
    }

    /// The last contacts read from the live page, and when.
    pub fn contacts(&self) -> Result<Option<(Contacts, DateTime<Utc>)>, StoreError> {
        self.get_stamped(CONTACTS)
    }

    /// Writes a small record and waits for it to be durable: whether the
    /// database can still be written (for health checks; a full or read-only
    /// disk fails here).
    pub async fn probe_writable(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.meta
            .insert(HEALTH_PROBE, &now.timestamp().to_be_bytes())?;
        self.flush().await
    }

    /// Stores `value` in `meta` together with the instant it was observed.
    fn put_stamped<T: Serialize + ?Sized>(
        &self,
        key: &[u8],
        value: &T,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let bytes = encode("meta", &(value, at.timestamp()))?;
        self.meta.insert(key, bytes)?;
        Ok(())
    }

    /// Reads what [`Store::put_stamped`] wrote.
    fn get_stamped<T: DeserializeOwned>(
        &self,
        key: &[u8],
    ) -> Result<Option<(T, DateTime<Utc>)>, StoreError> {
        let Some(bytes) = self.meta.get(key)? else {
            return Ok(None);
        };
        let (value, at): (T, i64) =
            serde_json::from_slice(&bytes).map_err(|e| corrupt("meta", e))?;
        Ok(DateTime::from_timestamp(at, 0).map(|at| (value, at)))
    }
}
