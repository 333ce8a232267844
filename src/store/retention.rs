//! Retention: how much of each source's history is kept, so that a site that
//! rotates its ids cannot fill the disk.
//!
//! Each source keeps its newest [`Retention::keep_items`] releases whole (by
//! the order they were first seen; a release counts under the source that
//! reported it first). Older ones are pruned: the record goes, and only an
//! 8-byte hash of its id stays in the *seen-set*, so it is never announced
//! again. The seen-set is bounded too, at [`Retention::keep_seen_ids`] ids a
//! source, oldest dropped first. The trade-off: a release dropped from both
//! would be new again if its page showed it once more — which takes a site
//! that shows a release again after that many newer ones (the flood guard and
//! `max_age_days` still stand in the way). README "Retention" says so too.
//!
//! Pruning never touches a release that an outbox or journal entry still
//! needs; those go once their pushes are done (at the next pruning).
//!
//! Trees: `by_source`: (source, kind, sequence) → the item id (kind
//! [`KEPT`]) or its hash ([`SEEN`]), in the order pruning takes them;
//! `seen`: hash → (sequence, source), for the lookup. Counters in `meta`
//! (`kept:<source>`, `seen:<source>`) spare a count by scanning.

use std::collections::{HashMap, HashSet};

use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::meta::{META_RETENTION_INDEXED, kept_count_key, seen_count_key};
use super::{Store, StoreError, StoredItem, abort, corrupt, date_key, outbox_key_from, read_u64};

/// Kind byte of a kept release in `by_source`.
pub(super) const KEPT: u8 = b'k';
/// Kind byte of a pruned release's hash in `by_source`.
pub(super) const SEEN: u8 = b's';
/// Releases pruned (or hashes dropped) per transaction.
const CHUNK: usize = 512;

/// How much of one source's history the store keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// The newest releases (first seen last) kept whole.
    pub keep_items: usize,
    /// Ids of pruned releases remembered beyond those, so that none is
    /// announced again.
    pub keep_seen_ids: usize,
}

impl Retention {
    /// About three years of the embassy's releases kept whole, and ten times
    /// as many ids remembered: a few MB a source at most.
    pub const DEFAULT: Retention = Retention {
        keep_items: 5_000,
        keep_seen_ids: 50_000,
    };
}

impl Default for Retention {
    fn default() -> Self {
        Retention::DEFAULT
    }
}

/// What one pruning did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Releases whose records went (their ids stay in the seen-set).
    pub releases: usize,
    /// Ids dropped from the seen-set.
    pub seen_ids: usize,
}

/// How many releases a source keeps whole, and how many ids of pruned ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retained {
    pub kept: u64,
    pub seen: u64,
}

/// The seen-set's key for a release id: the first 8 bytes of its SHA-256.
/// A site cannot aim a collision at another site's future release (that
/// would take a second preimage of SHA-256), and a chance one is about one
/// in 2^64 / (ids remembered).
pub(super) fn id_hash(id: &str) -> [u8; 8] {
    let digest = ring::digest::digest(&ring::digest::SHA256, id.as_bytes());
    let mut hash = [0u8; 8];
    hash.copy_from_slice(&digest.as_ref()[..8]);
    hash
}

fn prefix(source: &str, kind: u8) -> Vec<u8> {
    let mut key = Vec::with_capacity(source.len() + 10);
    key.extend_from_slice(source.as_bytes());
    key.push(0);
    key.push(kind);
    key
}

pub(super) fn by_source_key(source: &str, kind: u8, seq: u64) -> Vec<u8> {
    let mut key = prefix(source, kind);
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

/// A `by_source` key taken apart: (source, kind, sequence).
pub(super) fn split_key(key: &[u8]) -> Option<(&str, u8, u64)> {
    let at = key.len().checked_sub(10)?;
    let source = std::str::from_utf8(&key[..at]).ok()?;
    (key[at] == 0).then_some(())?;
    let seq = u64::from_be_bytes(key[at + 2..].try_into().ok()?);
    Some((source, key[at + 1], seq))
}

fn seq_of(key: &[u8]) -> Result<u64, StoreError> {
    key.len()
        .checked_sub(8)
        .and_then(|at| key[at..].try_into().ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| corrupt("by_source", "key too short"))
}

/// A `seen` record: the sequence number, then the source.
pub(super) fn seen_value(seq: u64, source: &str) -> Vec<u8> {
    let mut value = seq.to_be_bytes().to_vec();
    value.extend_from_slice(source.as_bytes());
    value
}

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

/// Inside a transaction: counts a new release under `source`.
pub(super) fn index_new(
    by_source: &TransactionalTree,
    meta: &TransactionalTree,
    source: &str,
    seq: u64,
    id: &str,
) -> TxResult<()> {
    by_source.insert(by_source_key(source, KEPT, seq), id.as_bytes())?;
    adjust(meta, &kept_count_key(source), 1)
}

/// Inside a transaction: whether `id` is a pruned release.
pub(super) fn was_pruned(seen: &TransactionalTree, id: &str) -> TxResult<bool> {
    Ok(seen.get(id_hash(id))?.is_some())
}

/// Adds `delta` to a counter in `meta` (never below zero).
fn adjust(meta: &TransactionalTree, key: &[u8], delta: i64) -> TxResult<()> {
    let current = read_u64("meta", meta.get(key)?).map_err(ConflictableTransactionError::Abort)?;
    let next = current.saturating_add_signed(delta);
    meta.insert(key, &next.to_be_bytes())?;
    Ok(())
}

impl Store {
    /// Prunes `source` down to `retention`: the oldest releases beyond
    /// `keep_items` leave their id's hash in the seen-set, and the oldest
    /// hashes beyond `keep_seen_ids` go. Not flushed: the caller commits.
    pub(super) fn prune(&self, source: &str, retention: &Retention) -> Result<Pruned, StoreError> {
        let mut pruned = Pruned::default();
        if self.retained(source)?.kept > retention.keep_items as u64 {
            let needed = self.seqs_still_needed()?;
            while let Some(excess) = self.excess(&kept_count_key(source), retention.keep_items)? {
                let batch = self.oldest_kept(source, excess.min(CHUNK), &needed)?;
                if batch.is_empty() {
                    break; // the rest is still needed
                }
                pruned.releases += self.forget_releases(source, &batch)?;
            }
        }
        while let Some(excess) = self.excess(&seen_count_key(source), retention.keep_seen_ids)? {
            let dropped = self.drop_oldest_seen(source, excess.min(CHUNK))?;
            if dropped == 0 {
                break;
            }
            pruned.seen_ids += dropped;
        }
        Ok(pruned)
    }

    /// How many releases `source` keeps whole, and how many ids of pruned ones.
    pub fn retained(&self, source: &str) -> Result<Retained, StoreError> {
        Ok(Retained {
            kept: read_u64("meta", self.meta.get(kept_count_key(source))?)?,
            seen: read_u64("meta", self.meta.get(seen_count_key(source))?)?,
        })
    }

    /// Whether `id` is a release that was pruned and is remembered as seen.
    pub fn was_pruned(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self.seen.contains_key(id_hash(id))?)
    }

    /// How far the counter `key` is over `limit`, if it is.
    fn excess(&self, key: &[u8], limit: usize) -> Result<Option<usize>, StoreError> {
        let count = read_u64("meta", self.meta.get(key)?)?;
        Ok((count > limit as u64).then(|| (count - limit as u64) as usize))
    }

    /// Sequence numbers of releases that outbox or journal entries still
    /// need. The outbox is read first: a walk journals a chat before its
    /// entry goes, so a release leaving the one is found in the other.
    fn seqs_still_needed(&self) -> Result<HashSet<u64>, StoreError> {
        let mut needed = HashSet::new();
        for record in self.outbox.iter() {
            let (key, value) = record?;
            let entry: super::OutboxEntry =
                serde_json::from_slice(&value).map_err(|e| corrupt("outbox", e))?;
            needed.insert(entry.item_seq_under(outbox_key_from(&key)?));
        }
        for key in self.journal.iter().keys() {
            let key = key?;
            if let Some(seq) = key.get(8..16).and_then(|s| s.try_into().ok()) {
                needed.insert(u64::from_be_bytes(seq));
            }
        }
        Ok(needed)
    }

    /// Up to `max` of the oldest releases `source` keeps whole that nothing
    /// needs any more: (sequence, id).
    fn oldest_kept(
        &self,
        source: &str,
        max: usize,
        needed: &HashSet<u64>,
    ) -> Result<Vec<(u64, String)>, StoreError> {
        let mut batch = Vec::with_capacity(max);
        for record in self.by_source.scan_prefix(prefix(source, KEPT)) {
            if batch.len() >= max {
                break;
            }
            let (key, id) = record?;
            let seq = seq_of(&key)?;
            if needed.contains(&seq) {
                continue;
            }
            let id = String::from_utf8(id.to_vec()).map_err(|e| corrupt("by_source", e))?;
            batch.push((seq, id));
        }
        Ok(batch)
    }

    /// Turns kept releases of `source` into seen ids, in one transaction.
    fn forget_releases(&self, source: &str, batch: &[(u64, String)]) -> Result<usize, StoreError> {
        let trees = (
            &self.items,
            &self.by_date,
            &self.by_source,
            &self.seen,
            &self.meta,
        );
        let forgotten = trees.transaction(|(items, by_date, by_source, seen, meta)| {
            let mut forgotten = 0i64;
            for (seq, id) in batch {
                if by_source
                    .remove(by_source_key(source, KEPT, *seq))?
                    .is_none()
                {
                    continue; // pruned meanwhile
                }
                if let Some(bytes) = items.remove(id.as_bytes())? {
                    let stored: StoredItem =
                        serde_json::from_slice(&bytes).map_err(|e| abort("items", e))?;
                    by_date.remove(&date_key(stored.sort_date(), stored.seq))?;
                }
                let hash = id_hash(id);
                by_source.insert(by_source_key(source, SEEN, *seq), &hash)?;
                seen.insert(&hash, seen_value(*seq, source))?;
                forgotten += 1;
            }
            adjust(meta, &kept_count_key(source), -forgotten)?;
            adjust(meta, &seen_count_key(source), forgotten)?;
            Ok(forgotten as usize)
        })?;
        Ok(forgotten)
    }

    /// Drops the `max` oldest seen ids of `source`; how many went.
    fn drop_oldest_seen(&self, source: &str, max: usize) -> Result<usize, StoreError> {
        let batch: Vec<(sled::IVec, sled::IVec)> = self
            .by_source
            .scan_prefix(prefix(source, SEEN))
            .take(max)
            .collect::<Result<_, _>>()?;
        let dropped =
            (&self.by_source, &self.seen, &self.meta).transaction(|(by_source, seen, meta)| {
                let mut dropped = 0i64;
                for (key, hash) in &batch {
                    if by_source.remove(key)?.is_none() {
                        continue;
                    }
                    let seq = seq_of(key).map_err(ConflictableTransactionError::Abort)?;
                    // The same id may have been seen, dropped, recorded and
                    // pruned again since: only this entry's own record goes.
                    if seen
                        .get(hash)?
                        .is_some_and(|v| v == seen_value(seq, source))
                    {
                        seen.remove(hash)?;
                    }
                    dropped += 1;
                }
                adjust(meta, &seen_count_key(source), -dropped)?;
                Ok(dropped as usize)
            })?;
        Ok(dropped)
    }

    /// Builds the retention index of a database written before it existed
    /// (every release counted under its first source); does nothing once done.
    /// Safe to cut short: it starts again from scratch on the next open.
    pub(super) fn index_for_retention(&self) -> Result<(), StoreError> {
        if self.meta.contains_key(META_RETENTION_INDEXED)? {
            return Ok(());
        }
        self.by_source.clear()?;
        self.seen.clear()?;
        let mut counts: HashMap<String, u64> = HashMap::new();
        let mut batch = sled::Batch::default();
        let mut batched = 0;
        for record in self.items.iter() {
            let (id, bytes) = record?;
            let Ok(stored) = serde_json::from_slice::<StoredItem>(&bytes) else {
                tracing::warn!(id = %String::from_utf8_lossy(&id), "an unreadable release record is left out of retention");
                continue;
            };
            batch.insert(by_source_key(&stored.source, KEPT, stored.seq), id);
            *counts.entry(stored.source).or_default() += 1;
            batched += 1;
            if batched == CHUNK {
                self.by_source.apply_batch(std::mem::take(&mut batch))?;
                batched = 0;
            }
        }
        self.by_source.apply_batch(batch)?;
        let mut meta = sled::Batch::default();
        for key in self.meta.scan_prefix(b"kept:").keys() {
            meta.remove(key?);
        }
        for key in self.meta.scan_prefix(b"seen:").keys() {
            meta.remove(key?);
        }
        for (source, count) in &counts {
            meta.insert(kept_count_key(source), &count.to_be_bytes());
        }
        meta.insert(META_RETENTION_INDEXED, &[1]);
        self.meta.apply_batch(meta)?;
        self.db.flush()?;
        Ok(())
    }
}
