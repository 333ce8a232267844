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
//! `max_age_days` still stand in the way). `docs/operations.md#retention` says so too.
//!
//! Pruning never touches a release that an outbox or journal entry still
//! needs; those go once their pushes are done (at the next pruning).
//!
//! Storage: `by_source` indexes the kept releases, (source, sequence) → item
//! id, in the order pruning takes them. The seen-set is stored in *chunks*,
//! one per pruning batch: `seen`: (source, first sequence) → the batch's
//! hashes, 8 bytes each, oldest first. One sled record per batch rather than
//! per id: as single records, 50,000 ids cost sled about 40 MB of file. The
//! set is also held in memory (8 bytes and a little a hash), where reads look
//! it up; a lock keeps it in step with the database. Counters in `meta`
//! (`kept:<source>`, `seen:<source>`) spare a count by scanning.

use std::collections::{HashMap, HashSet};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::meta::{META_RETENTION_INDEXED, kept_count_key, seen_count_key};
use super::{Store, StoreError, StoredItem, abort, corrupt, date_key, outbox_key_from, read_u64};
use crate::config::Retention;

/// Releases pruned (or hashes dropped) per transaction: one seen chunk.
const CHUNK: usize = 512;
/// Bytes of one hash in a chunk.
const HASH: usize = 8;

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

/// The seen-set in memory: every remembered hash, with how many chunks hold
/// it (an id can be pruned again after its first hash was dropped).
#[derive(Default)]
pub(super) struct SeenSet {
    hashes: RwLock<HashMap<[u8; HASH], u32>>,
}

impl SeenSet {
    /// Held while a read is recorded, so no pruning moves a release from the
    /// database to the set in the middle of it.
    pub(super) fn read(&self) -> RwLockReadGuard<'_, HashMap<[u8; HASH], u32>> {
        self.hashes.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, HashMap<[u8; HASH], u32>> {
        self.hashes.write().unwrap_or_else(|p| p.into_inner())
    }
}

fn add(set: &mut HashMap<[u8; HASH], u32>, chunk: &[u8]) {
    for hash in hashes(chunk) {
        *set.entry(hash).or_default() += 1;
    }
}

fn remove(set: &mut HashMap<[u8; HASH], u32>, chunk: &[u8]) {
    for hash in hashes(chunk) {
        if let Some(n) = set.get_mut(&hash) {
            *n -= 1;
            if *n == 0 {
                set.remove(&hash);
            }
        }
    }
}

fn hashes(chunk: &[u8]) -> impl Iterator<Item = [u8; HASH]> + '_ {
    chunk.chunks_exact(HASH).filter_map(|h| h.try_into().ok())
}

/// The seen-set's key for a release id: the first 8 bytes of its SHA-256.
/// A site cannot aim a collision at another site's future release (that
/// would take a second preimage of SHA-256), and a chance one is about one
/// in 2^64 / (ids remembered).
pub(super) fn id_hash(id: &str) -> [u8; HASH] {
    let digest = ring::digest::digest(&ring::digest::SHA256, id.as_bytes());
    let mut hash = [0u8; HASH];
    hash.copy_from_slice(&digest.as_ref()[..HASH]);
    hash
}

/// `source`, then a 0 byte: what every key of the source starts with.
pub(super) fn prefix(source: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(source.len() + 9);
    key.extend_from_slice(source.as_bytes());
    key.push(0);
    key
}

/// A key of `by_source` or `seen`: the source, then a sequence number.
pub(super) fn source_key(source: &str, seq: u64) -> Vec<u8> {
    let mut key = prefix(source);
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

/// A [`source_key`] taken apart.
pub(super) fn split_key(key: &[u8]) -> Option<(&str, u64)> {
    let at = key.len().checked_sub(9)?;
    let source = std::str::from_utf8(&key[..at]).ok()?;
    (key[at] == 0).then_some(())?;
    let seq = u64::from_be_bytes(key[at + 1..].try_into().ok()?);
    Some((source, seq))
}

fn seq_of(key: &[u8]) -> Result<u64, StoreError> {
    split_key(key)
        .map(|(_, seq)| seq)
        .ok_or_else(|| corrupt("by_source", "bad key"))
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
    by_source.insert(source_key(source, seq), id.as_bytes())?;
    adjust(meta, &kept_count_key(source), 1)
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
            let dropped = self.drop_oldest_seen(source, excess)?;
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
    pub fn was_pruned(&self, id: &str) -> bool {
        self.seen_set.read().contains_key(&id_hash(id))
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
        for record in self.by_source.scan_prefix(prefix(source)) {
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

    /// Turns kept releases of `source` into one chunk of seen ids, in one
    /// transaction, under the seen-set's lock.
    fn forget_releases(&self, source: &str, batch: &[(u64, String)]) -> Result<usize, StoreError> {
        let Some(first) = batch.iter().map(|(seq, _)| *seq).min() else {
            return Ok(0);
        };
        let mut set = self.seen_set.write();
        let trees = (
            &self.items,
            &self.by_date,
            &self.by_source,
            &self.seen,
            &self.meta,
        );
        let chunk = trees.transaction(|(items, by_date, by_source, seen, meta)| {
            let mut chunk = Vec::with_capacity(batch.len() * HASH);
            for (seq, id) in batch {
                if by_source.remove(source_key(source, *seq))?.is_none() {
                    continue; // pruned meanwhile
                }
                if let Some(bytes) = items.remove(id.as_bytes())? {
                    let stored: StoredItem =
                        serde_json::from_slice(&bytes).map_err(|e| abort("items", e))?;
                    by_date.remove(&date_key(stored.sort_date(), stored.seq))?;
                }
                chunk.extend_from_slice(&id_hash(id));
            }
            let forgotten = (chunk.len() / HASH) as i64;
            if forgotten > 0 {
                seen.insert(source_key(source, first), chunk.as_slice())?;
            }
            adjust(meta, &kept_count_key(source), -forgotten)?;
            adjust(meta, &seen_count_key(source), forgotten)?;
            Ok(chunk)
        })?;
        add(&mut set, &chunk);
        drop(set);
        // Pruned releases leave /search too, and their pages go.
        self.reindex(batch.iter().map(|(_, id)| id.as_str()));
        for (seq, _) in batch {
            self.forget_revisions(*seq)?;
        }
        self.forget_pages(batch.iter().map(|(_, id)| id.as_str()));
        Ok(chunk.len() / HASH)
    }

    /// Drops up to `max` of the oldest seen ids of `source` (whole chunks,
    /// and the oldest part of the next); how many went.
    fn drop_oldest_seen(&self, source: &str, max: usize) -> Result<usize, StoreError> {
        let mut set = self.seen_set.write();
        let mut dropped: Vec<(sled::IVec, Vec<u8>)> = Vec::new();
        let mut kept_part: Option<(sled::IVec, Vec<u8>)> = None;
        let mut left = max;
        for record in self.seen.scan_prefix(prefix(source)) {
            if left == 0 {
                break;
            }
            let (key, chunk) = record?;
            let ids = chunk.len() / HASH;
            if ids <= left {
                left -= ids;
                dropped.push((key, chunk.to_vec()));
            } else {
                let (old, rest) = chunk.split_at(left * HASH);
                dropped.push((key.clone(), old.to_vec()));
                kept_part = Some((key, rest.to_vec()));
                left = 0;
            }
        }
        let count = dropped.iter().map(|(_, c)| c.len() / HASH).sum::<usize>();
        (&self.seen, &self.meta).transaction(|(seen, meta)| {
            for (key, _) in &dropped {
                seen.remove(key)?;
            }
            if let Some((key, rest)) = &kept_part {
                seen.insert(key, rest.as_slice())?;
            }
            adjust(meta, &seen_count_key(source), -(count as i64))
        })?;
        for (_, chunk) in &dropped {
            remove(&mut set, chunk);
        }
        Ok(count)
    }

    /// Reads the seen-set into memory (at open).
    pub(super) fn load_seen_set(&self) -> Result<(), StoreError> {
        let mut set = self.seen_set.write();
        set.clear();
        for chunk in self.seen.iter().values() {
            add(&mut set, &chunk?);
        }
        Ok(())
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
            batch.insert(source_key(&stored.source, stored.seq), id);
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
