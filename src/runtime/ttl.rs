//! A map whose entries expire, with a hard cap on its size: what every
//! per-chat and per-user table of the command path uses (member status
//! cache, refusal notices, command budgets), so no chat or user can grow
//! memory without bound.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::Duration;

use tokio::time::Instant;

/// Entries live `ttl` after they were inserted; at most `capacity` are kept
/// (when full, expired entries go first, then the oldest).
pub(crate) struct TtlMap<K, V> {
    entries: HashMap<K, (V, Instant)>,
    ttl: Duration,
    capacity: usize,
}

impl<K: Hash + Eq + Clone, V> TtlMap<K, V> {
    pub(crate) fn new(ttl: Duration, capacity: usize) -> TtlMap<K, V> {
        TtlMap {
            entries: HashMap::new(),
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
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&key) {
            let ttl = self.ttl;
            self.entries
                .retain(|_, (_, at)| now.duration_since(*at) < ttl);
            if self.entries.len() >= self.capacity
                && let Some(oldest) = self
                    .entries
                    .iter()
                    .min_by_key(|(_, (_, at))| *at)
                    .map(|(k, _)| k.clone())
            {
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert(key, (value, now));
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
}
