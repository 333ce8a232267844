//! The store's counts behind `/metrics`' gauges, kept between scrapes.
//!
//! sled counts a tree by walking it: counting the subscribers, the journal,
//! the outbox and the releases at every scrape made a scrape cost what
//! 100,000 subscribers take to walk, and a flood of scrapes as many walks.
//! So a scrape reads counts kept here:
//!
//! - the releases are counted again when they change (the store's count of
//!   writes to them, [`Store::releases_written`]), by the scrape that finds
//!   them changed: that gauge is exact at every scrape;
//! - subscriptions by kind, journal entries and outbox entries are counted
//!   on a blocking thread, again once the count is [`MAX_AGE`] old: the
//!   scrape that finds it so starts a new count and answers with the last
//!   one at once, so these gauges lag by at most `MAX_AGE` and the time
//!   between two scrapes, however many chats there are;
//! - only the first scrape waits for them; concurrent ones share one count.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::http::ReadError;
use crate::metrics::SubscriptionsByKind;
use crate::store::{Store, StoreError};

/// How old the count of subscriptions, journal and outbox entries may grow
/// before a scrape has it counted again.
pub(crate) const MAX_AGE: Duration = Duration::from_secs(15);

/// The counts a scrape reports.
#[derive(Debug, Clone)]
pub(crate) struct Counts {
    pub releases: usize,
    pub journal_entries: usize,
    pub outbox_entries: usize,
    pub subscriptions: SubscriptionsByKind,
}

/// The counts of one server, kept between scrapes.
#[derive(Default)]
pub(crate) struct StoreCounts {
    /// The release count, and the store's count of writes it was taken at;
    /// held while counting, so concurrent scrapes share one count.
    releases: tokio::sync::Mutex<Option<(u64, usize)>>,
    /// The slower counts, and when they were begun.
    rest: Arc<Mutex<Option<(Instant, Rest)>>>,
    /// Held by the count of `rest` in progress, so only one runs.
    counting: Arc<tokio::sync::Mutex<()>>,
    /// Counts of `rest` so far (tests count them).
    walks: Arc<AtomicU64>,
}

/// What takes a walk of the subscribers, the journal and the outbox.
#[derive(Debug, Clone)]
struct Rest {
    journal_entries: usize,
    outbox_entries: usize,
    subscriptions: SubscriptionsByKind,
}

impl StoreCounts {
    /// The counts for a scrape now (see the module's notes on how fresh).
    pub(crate) async fn counts(&self, store: &Store) -> Result<Counts, ReadError> {
        let releases = self.releases(store).await?;
        let kept = self.lock_rest().clone();
        let rest = match kept {
            Some((at, rest)) => {
                if at.elapsed() >= MAX_AGE {
                    self.count_in_background(store);
                }
                rest
            }
            None => self.count_first(store).await?,
        };
        Ok(Counts {
            releases,
            journal_entries: rest.journal_entries,
            outbox_entries: rest.outbox_entries,
            subscriptions: rest.subscriptions,
        })
    }

    /// The release count, counted again if the releases changed since.
    async fn releases(&self, store: &Store) -> Result<usize, ReadError> {
        let mut counted = self.releases.lock().await;
        // Read before counting: a write during the count is counted again.
        let written = store.releases_written();
        if let Some((at, releases)) = *counted
            && at == written
        {
            return Ok(releases);
        }
        let store = store.clone();
        let releases = tokio::task::spawn_blocking(move || store.item_count()).await?;
        *counted = Some((written, releases));
        Ok(releases)
    }

    /// The first count, which the scrape waits for (and shares with those
    /// that come meanwhile).
    async fn count_first(&self, store: &Store) -> Result<Rest, ReadError> {
        let _counting = self.counting.lock().await;
        if let Some((_, rest)) = self.lock_rest().clone() {
            return Ok(rest);
        }
        let (at, rest) = count(store.clone(), self.walks.clone()).await?;
        *self.lock_rest() = Some((at, rest.clone()));
        Ok(rest)
    }

    /// Starts a new count unless one runs already; the kept one stays until
    /// it is done (and stays on if it fails: the next scrape tries again).
    fn count_in_background(&self, store: &Store) {
        let Ok(counting) = self.counting.clone().try_lock_owned() else {
            return;
        };
        let (store, kept, walks) = (store.clone(), self.rest.clone(), self.walks.clone());
        tokio::spawn(async move {
            let _counting = counting;
            match count(store, walks).await {
                Ok(counted) => *kept.lock().unwrap_or_else(|p| p.into_inner()) = Some(counted),
                Err(e) => {
                    if let Some(held_back) = crate::runtime::log_limit::allow("count for /metrics")
                    {
                        tracing::warn!(error = %e, held_back, "cannot count the store for /metrics; the last count stays");
                    }
                }
            }
        });
    }

    fn lock_rest(&self) -> std::sync::MutexGuard<'_, Option<(Instant, Rest)>> {
        self.rest.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many times the subscribers, journal and outbox have been counted.
    #[cfg(test)]
    pub(crate) fn walks(&self) -> u64 {
        self.walks.load(Ordering::Relaxed)
    }
}

/// Counts the subscribers, the journal and the outbox on a blocking thread;
/// the count's moment is when it began.
async fn count(store: Store, walks: Arc<AtomicU64>) -> Result<(Instant, Rest), ReadError> {
    let began = Instant::now();
    let rest = tokio::task::spawn_blocking(move || {
        walks.fetch_add(1, Ordering::Relaxed);
        Ok::<_, StoreError>(Rest {
            journal_entries: store.journal_count(),
            outbox_entries: store.outbox_len(),
            subscriptions: SubscriptionsByKind::count(store.subscribers()?),
        })
    })
    .await??;
    Ok((began, rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Item;
    use crate::store::PollPolicy;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_first_scrapes_share_one_count_and_releases_are_exact() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let now = chrono::Utc::now();
        for chat in [1, 2, -3, -1_001_234_567_890] {
            store.subscribe(chat, None, now).await.unwrap();
        }
        let counts = StoreCounts::default();
        let all = futures::future::join_all((0..16).map(|_| counts.counts(&store))).await;
        for counted in all {
            let counted = counted.unwrap();
            assert_eq!(
                counted.subscriptions,
                SubscriptionsByKind::count([1, 2, -3, -1_001_234_567_890])
            );
            assert_eq!(counted.releases, 0);
        }
        assert_eq!(counts.walks(), 1, "sixteen scrapes, one walk");

        // A new release shows at the next scrape, without a walk of the rest.
        let item = Item {
            id: "example.org/n/1".into(),
            url: "https://example.org/n/1".into(),
            title: "one".into(),
            date: None,
            lead: String::new(),
        };
        store
            .record_poll("home", &[item], &PollPolicy::unguarded(), now)
            .await
            .unwrap();
        assert_eq!(counts.counts(&store).await.unwrap().releases, 1);
        assert_eq!(counts.walks(), 1);
    }
}
