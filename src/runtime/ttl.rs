//! A map whose entries expire, with a hard cap on its size: what every
//! per-chat and per-user table of the command path uses (member status
//! cache, refusal notices, command budgets), so no chat or user can grow
//! memory without bound.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::time::Duration;

use tokio::time::Instant;

/// Entries live `ttl` after they were inserted; at most `capacity` are kept
/// (when full, expired entries go first, then the oldest).
///
/// Every entry lives equally long, so insertion order is expiry order: a
/// queue of insertions finds the entry to drop in O(1) (amortised) instead
/// of a scan of the whole map, which at the limit table's 100,000 entries
/// cost every insert into a full map a full walk.
pub(crate) struct TtlMap<K, V> {
    entries: HashMap<K, (V, Instant)>,
    /// Keys in insertion order with the instant they were inserted; a key
    /// renewed or removed since leaves a stale record here, skipped (and
    /// dropped) when it reaches the front.
    order: VecDeque<(K, Instant)>,
    ttl: Duration,
    capacity: usize,
}

impl<K: Hash + Eq + Clone, V> TtlMap<K, V> {
    pub(crate) fn new(ttl: Duration, capacity: usize) -> TtlMap<K, V> {
        TtlMap {
            entries: HashMap::new(),
            order: VecDeque::new(),
            ttl,
            capacity: capacity.max(1),
        }
    }

    /// The value for `key`, unless it expired by `now`.
    pub(crate) fn get(&self, key: &K, now: Instant) -> Option<&V> {
        self.entries
            .get(key)
            .filter(|(_, at)| now.duration_since(*at) < self.ttl)
            .map(|(v, _)| v)
    }

    /// The live value for `key`, to change in place (its age is kept).
    pub(crate) fn get_mut(&mut self, key: &K, now: Instant) -> Option<&mut V> {
        let ttl = self.ttl;
        self.entries
            .get_mut(key)
            .filter(|(_, at)| now.duration_since(*at) < ttl)
            .map(|(v, _)| v)
    }

    /// Inserts (or renews) `key`, making room if the map is full.
    pub(crate) fn insert(&mut self, key: K, value: V, now: Instant) {
        self.drop_expired(now);
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&key) {
            self.drop_oldest();
        }
        self.entries.insert(key.clone(), (value, now));
        self.order.push_back((key, now));
        if self.order.len() > 2 * self.capacity {
            self.compact();
        }
    }

    /// Drops entries that expired by `now`, from the front of the queue.
    fn drop_expired(&mut self, now: Instant) {
        while let Some((_, at)) = self.order.front() {
            if now.duration_since(*at) < self.ttl {
                break;
            }
            self.drop_oldest();
        }
    }

    /// Drops the entry inserted longest ago (skipping stale queue records).
    fn drop_oldest(&mut self) {
        while let Some((key, at)) = self.order.pop_front() {
            if self.entries.get(&key).is_some_and(|(_, held)| *held == at) {
                self.entries.remove(&key);
                return;
            }
        }
    }

    /// Rebuilds the queue from the live entries once stale records (renewed
    /// or removed keys) make up half of it, so it stays within twice the cap.
    fn compact(&mut self) {
        let entries = &self.entries;
        self.order
            .retain(|(key, at)| entries.get(key).is_some_and(|(_, held)| held == at));
    }

    /// Keeps only the entries whose key passes `keep`.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&K) -> bool) {
        self.entries.retain(|k, _| keep(k));
    }

    /// How many entries are held, expired ones included.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn entries_expire_and_the_size_never_passes_the_cap() {
        let mut map = TtlMap::new(Duration::from_secs(60), 3);
        let start = Instant::now();
        for k in 0..10 {
            map.insert(k, k * 10, start + Duration::from_millis(k as u64));
            assert!(map.len() <= 3);
        }
        // The newest three are kept.
        let now = start + Duration::from_millis(10);
        assert_eq!(map.get(&9, now), Some(&90));
        assert_eq!(map.get(&7, now), Some(&70));
        assert_eq!(map.get(&6, now), None);
        let later = start + Duration::from_secs(61);
        assert_eq!(map.get(&9, later), None, "expired");
        // A full map of expired entries makes room without dropping a live one.
        map.insert(100, 1, later);
        map.insert(101, 2, later);
        assert_eq!(
            (map.get(&100, later), map.get(&101, later)),
            (Some(&1), Some(&2))
        );
        if let Some(v) = map.get_mut(&100, later) {
            *v += 1;
        }
        assert_eq!(map.get(&100, later), Some(&2));
    }

    #[tokio::test(start_paused = true)]
    async fn renewals_and_removals_keep_the_queue_bounded_and_the_order_right() {
        let mut map = TtlMap::new(Duration::from_secs(60), 4);
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        // One key renewed many times: the queue is compacted, never unbounded.
        for i in 0..1_000 {
            map.insert(1, i, at(i));
            assert!(map.order.len() <= 8, "{}", map.order.len());
        }
        map.insert(2, 0, at(1_000));
        map.insert(3, 0, at(1_001));
        map.insert(4, 0, at(1_002));
        // Renewing 1 made it the newest: 2 is now the oldest and goes first.
        map.insert(1, 7, at(1_003));
        map.insert(5, 0, at(1_004));
        assert_eq!(map.get(&2, at(1_004)), None);
        assert_eq!(map.get(&1, at(1_004)), Some(&7));
        // A key removed by `retain` leaves a stale record that is skipped.
        map.retain(|k| *k != 3);
        map.insert(6, 0, at(1_005));
        assert_eq!(map.len(), 4);
        for k in [1, 4, 5, 6] {
            assert!(map.get(&k, at(1_005)).is_some(), "{k} kept");
        }
    }
}
