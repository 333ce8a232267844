//! Retention: a source keeps its newest releases whole and remembers the ids
//! of older ones in a bounded seen-set, so a site that rotates its ids cannot
//! fill the disk, and a pruned release is never announced again.

use std::time::Duration;

use chrono::Utc;
use embassy_bot::FanOut;
use embassy_bot::Item;
use embassy_bot::Retention;
use embassy_bot::{PollPolicy, Retained, Store};

use crate::support::{TestBot, fan_out_page, reopen_store, source_toml};

fn item(n: u64) -> Item {
    Item {
        id: format!("site/fnapr/{n}"),
        url: format!("https://site/fnapr/{n}"),
        title: format!("Release {n}"),
        date: None,
        lead: String::new(),
    }
}

/// Items `from..to`, newest first as a page lists them.
fn page(from: u64, to: u64) -> Vec<Item> {
    (from..to).rev().map(item).collect()
}

const SMALL: Retention = Retention {
    keep_items: 10,
    keep_seen_ids: 20,
};

/// Records a read of source `s` that queues every new release.
async fn read(store: &Store, items: &[Item]) -> embassy_bot::PollOutcome {
    record(store, items, PollPolicy::unguarded()).await
}

/// Records a read of source `s` that the flood guard holds back (nothing
/// queued, as with a site rotating its ids).
async fn flood(store: &Store, items: &[Item]) -> embassy_bot::PollOutcome {
    let today = Utc::now().date_naive();
    record(store, items, PollPolicy::new(0, 36_500, today)).await
}

async fn record(store: &Store, items: &[Item], policy: PollPolicy) -> embassy_bot::PollOutcome {
    store
        .record_poll("s", items, &policy.retaining(SMALL), Utc::now())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_source_keeps_its_newest_releases_and_remembers_the_ids_of_older_ones() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.subscribe(1, None, Utc::now()).await.unwrap();
    read(&store, &page(0, 10)).await; // first read: silent
    let outcome = read(&store, &page(10, 16)).await;
    assert_eq!(outcome.queued, 6);
    assert_eq!(outcome.pruned.releases, 6, "the six oldest go");
    assert_eq!(store.item_count(), 10);
    assert_eq!(store.retained("s").unwrap(), Retained { kept: 10, seen: 6 });
    assert!(store.item("site/fnapr/5").unwrap().is_none());
    assert!(store.was_pruned("site/fnapr/5"));
    assert!(store.item("site/fnapr/6").unwrap().is_some());
    let latest: Vec<String> = store
        .latest(100)
        .unwrap()
        .into_iter()
        .map(|s| s.item.id)
        .collect();
    assert_eq!(latest.len(), 10, "/latest shows only what is kept");
    assert!(!latest.contains(&"site/fnapr/5".to_string()));

    // The page shows pruned releases again: nothing is recorded or queued.
    let outbox_before = store.outbox_len();
    let again = read(&store, &page(0, 16)).await;
    assert_eq!(again.pruned_before, 6);
    assert!(again.new_items.is_empty());
    assert_eq!(again.queued, 0);
    assert_eq!(store.outbox_len(), outbox_before);
    assert!(store.item("site/fnapr/5").unwrap().is_none());
}

#[tokio::test]
async fn the_seen_set_is_bounded_and_drops_its_oldest_ids_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    flood(&store, &page(0, 10)).await;
    // A site that rotates its ids, 10 new ones a read.
    for round in 1..=5u64 {
        flood(&store, &page(round * 10, round * 10 + 10)).await;
        let retained = store.retained("s").unwrap();
        assert_eq!(retained.kept, 10);
        assert!(retained.seen <= 20, "{retained:?} after round {round}");
    }
    assert_eq!(store.item_count(), 10);
    assert_eq!(
        store.retained("s").unwrap(),
        Retained { kept: 10, seen: 20 }
    );
    // 50..60 are kept, the ids of 30..50 remembered; 0..30 were dropped,
    // oldest first.
    assert!(store.item("site/fnapr/50").unwrap().is_some());
    assert!(store.was_pruned("site/fnapr/30"));
    assert!(store.was_pruned("site/fnapr/49"));
    assert!(!store.was_pruned("site/fnapr/29"));
    // The trade-off: an id dropped from the seen-set is new again if shown.
    let back = flood(&store, &[item(29)]).await;
    assert_eq!(back.new_items.len(), 1);
}

#[tokio::test]
async fn the_seen_set_holds_exactly_its_cap_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let cap = Retention {
        keep_items: 10,
        keep_seen_ids: 15,
    };
    {
        let store = Store::open(dir.path()).unwrap();
        let today = Utc::now().date_naive();
        for round in 0..5u64 {
            let policy = PollPolicy::new(0, 36_500, today).retaining(cap);
            let items = page(round * 10, round * 10 + 10);
            store
                .record_poll("s", &items, &policy, Utc::now())
                .await
                .unwrap();
        }
        // 40..50 kept; of the 40 pruned, the newest 15 (25..40) remembered:
        // the batch of 20..30 was cut in the middle.
        assert_eq!(
            store.retained("s").unwrap(),
            Retained { kept: 10, seen: 15 }
        );
    }
    let store = reopen_store(dir.path());
    assert_eq!(
        store.retained("s").unwrap(),
        Retained { kept: 10, seen: 15 }
    );
    assert!(!store.was_pruned("site/fnapr/24"));
    assert!(store.was_pruned("site/fnapr/25"));
    assert!(store.was_pruned("site/fnapr/39"));
    assert!(store.item("site/fnapr/40").unwrap().is_some());
}

#[tokio::test]
async fn pruning_spares_releases_that_still_have_pushes_owed() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.subscribe(1, None, Utc::now()).await.unwrap();
    read(&store, &page(0, 10)).await;
    // Release 10 is queued; its fan-out journals it for chat 1 (owed).
    assert_eq!(read(&store, &page(10, 11)).await.queued, 1);
    let fan_out = FanOut::new(store.clone(), 1);
    let page_of_chats = fan_out_page(&fan_out, 100, |_| true).await.unwrap();
    assert_eq!(page_of_chats.journaled, 1);
    // Twenty more releases: the oldest 20 go, but not 10, whose push is owed.
    let outcome = flood(&store, &page(11, 31)).await;
    assert_eq!(outcome.pruned.releases, 20);
    assert!(store.item("site/fnapr/10").unwrap().is_some());
    assert!(store.item("site/fnapr/11").unwrap().is_none());
    assert_eq!(store.retained("s").unwrap().kept, 10);
    // Once the push went, the next pruning takes it.
    let entry = store.journal_for(1).unwrap().remove(0);
    assert_eq!(entry.item_id, "site/fnapr/10");
    fan_out.journal().complete(&entry).await.unwrap();
    assert!(fan_out_page(&fan_out, 100, |_| true).await.is_none());
    flood(&store, &page(31, 32)).await;
    assert!(store.item("site/fnapr/10").unwrap().is_none());
    assert!(store.was_pruned("site/fnapr/10"));
    assert_eq!(store.retained("s").unwrap().kept, 10);
}

#[tokio::test]
async fn a_database_written_before_retention_is_indexed_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        let unbounded = PollPolicy::unguarded().retaining(Retention {
            keep_items: 1_000,
            keep_seen_ids: 0,
        });
        store
            .record_poll("s", &page(0, 30), &unbounded, Utc::now())
            .await
            .unwrap();
        store.flush().await.unwrap();
    }
    // Take the database back to what an older version wrote: no index.
    {
        let db = sled::open(dir.path().join("db")).unwrap();
        db.open_tree("by_source").unwrap().clear().unwrap();
        let meta = db.open_tree("meta").unwrap();
        meta.remove("schema:retention").unwrap();
        meta.remove("kept:s").unwrap();
        db.flush().unwrap();
    }
    let store = reopen_store(dir.path());
    assert_eq!(store.retained("s").unwrap(), Retained { kept: 30, seen: 0 });
    assert_eq!(store.item_count(), 30);
    flood(&store, &page(30, 31)).await;
    assert_eq!(store.item_count(), 10);
    assert_eq!(
        store.retained("s").unwrap(),
        Retained { kept: 10, seen: 20 }
    );
    assert!(store.was_pruned("site/fnapr/20"));
}

/// A page of `links` release links with ids from `first`, about 70 bytes
/// each: 60,000 of them make the 4 MB page of the finding.
fn flood_page(first: u64, links: u64) -> String {
    let mut html = String::with_capacity(links as usize * 72);
    html.push_str("<html><body>\n");
    for n in first..first + links {
        html.push_str(&format!(
            "<p><a href=\"/fnapr/{n}\">21.05.2022 - Release number {n} of the flood</a></p>\n"
        ));
    }
    html.push_str("</body></html>\n");
    html
}

fn dir_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let meta = e.metadata().unwrap();
            if meta.is_dir() {
                dir_size(&e.path())
            } else {
                meta.len()
            }
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_rotating_the_ids_of_a_4_mb_page_cannot_grow_the_database() {
    let source = source_toml(
        "flood",
        "{site}",
        1,
        "max_bytes = 8388608\nkeep_items = 500\nkeep_seen_ids = 500\n",
    );
    let mut bot = TestBot::new()
        .page(flood_page(0, 60_000))
        .sources(source)
        .spawn()
        .await;
    let site = bot.site.clone();
    // Each read shows 60,000 links with ids never shown before; the bot takes
    // max_items (500) of them, and keeps 500 releases and 500 seen ids.
    const READS: u64 = 4;
    for read in 1..=READS {
        let hits = site.hits();
        site.wait_for_hits(hits, 1, Duration::from_secs(60)).await;
        site.set_page(flood_page(read * 60_000, 60_000));
    }
    // The read of the last page set may be under way: let it end.
    let hits = site.hits();
    site.wait_for_hits(hits, 1, Duration::from_secs(60)).await;
    bot.stop_cleanly().await;
    let store = reopen_store(&bot.data_dir());
    assert_eq!(store.item_count(), 500);
    assert_eq!(
        store.retained("flood").unwrap(),
        Retained {
            kept: 500,
            seen: 500
        }
    );
    assert_eq!(
        store.outbox_len(),
        0,
        "the flood guard held every read back"
    );
    let size = dir_size(&bot.data_dir());
    eprintln!("database after {READS}+ hostile reads: {size} bytes");
    assert!(size < 16 << 20, "the database grew to {size} bytes");
}
