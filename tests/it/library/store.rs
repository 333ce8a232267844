//! The store: first poll announces nothing, later new items are journaled per
//! subscriber oldest first, known items are never journaled again, state
//! survives reopening, and a second opener is refused.

use chrono::{NaiveDate, TimeZone, Utc};
use embassy_bot::FanOut;
use embassy_bot::Item;
use embassy_bot::{JournalEntry, PollPolicy, Store, StoreError};

use crate::support::{extract_fixture, journal_outbox, poll};

fn page(name: &str) -> Vec<Item> {
    extract_fixture(name).items
}

/// Journals the whole outbox, then lists every journaled push.
async fn journal_all(store: &Store) -> Vec<JournalEntry> {
    journal_outbox(&FanOut::new(store.clone(), 1)).await;
    store
        .journal_chats(None, usize::MAX)
        .unwrap()
        .into_iter()
        .flat_map(|(_, list)| list)
        .collect()
}

fn item(id: &str, date: Option<(i32, u32, u32)>) -> Item {
    Item {
        id: id.into(),
        url: format!("https://{id}"),
        title: format!("Title {id}"),
        date: date.and_then(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d)),
        lead: String::new(),
    }
}

#[tokio::test]
async fn first_poll_is_silent_then_new_items_are_journaled() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let now = Utc.with_ymd_and_hms(2022, 5, 21, 8, 16, 0).unwrap();
    store.subscribe(1, None, now).await.unwrap();
    store.subscribe(-100, None, now).await.unwrap();

    let first = poll(&store, "home", &page("rusemb/home-2022-05-21.html"), now).await;
    assert!(first.first_poll);
    assert_eq!(first.new_items.len(), 11);
    assert_eq!(first.queued, 0);
    assert_eq!(store.journal_count(), 0);

    let again = poll(&store, "home", &page("rusemb/home-2022-05-21.html"), now).await;
    assert!(!again.first_poll);
    assert!(again.new_items.is_empty());

    let second = poll(&store, "home", &page("rusemb/home-2022-05-23.html"), now).await;
    assert_eq!(second.new_items.len(), 1);
    assert_eq!(second.new_items[0].item.id, "rusemb.org.uk/fnapr/7160");
    assert_eq!(second.queued, 1, "one new item queued for announcement");
    let journaled = journal_all(&store).await;
    assert_eq!(
        journaled.iter().map(|p| p.chat).collect::<Vec<_>>(),
        vec![-100, 1]
    );
    assert!(
        journaled
            .iter()
            .all(|p| p.item_id == "rusemb.org.uk/fnapr/7160")
    );

    // The item that fell off the page is still known; the page coming back does not re-announce.
    let back = poll(&store, "home", &page("rusemb/home-2022-05-21.html"), now).await;
    assert!(back.new_items.is_empty());
    assert_eq!(journal_all(&store).await.len(), 2);

    let latest = store.latest(3).unwrap();
    let ids: Vec<_> = latest.iter().map(|s| s.item.id.as_str()).collect();
    assert_eq!(
        ids,
        vec![
            "rusemb.org.uk/fnapr/7160",
            "rusemb.org.uk/fnapr/7153",
            "rusemb.org.uk/fnapr/7151"
        ]
    );
}

#[tokio::test]
async fn several_new_items_go_out_oldest_first_and_edits_are_silent() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let now = Utc::now();
    poll(&store, "s", &[item("a/1", Some((2022, 1, 1)))], now).await;
    store.subscribe(7, None, now).await.unwrap();
    // Page order is newest first; ids say nothing about dates.
    let newer = vec![
        item("a/3", Some((2022, 1, 3))),
        item("a/9", Some((2022, 1, 2))),
        item("a/1", Some((2022, 1, 1))),
    ];
    let outcome = poll(&store, "s", &newer, now).await;
    assert_eq!(
        outcome
            .new_items
            .iter()
            .map(|s| s.item.id.as_str())
            .collect::<Vec<_>>(),
        vec!["a/9", "a/3"]
    );
    let journaled: Vec<_> = journal_all(&store)
        .await
        .into_iter()
        .map(|p| p.item_id)
        .collect();
    assert_eq!(journaled, vec!["a/9", "a/3"]);

    let mut edited = newer.clone();
    edited[0].title = "Corrected title".into();
    let outcome = poll(&store, "s", &edited, now).await;
    assert!(outcome.new_items.is_empty());
    assert_eq!(
        store.item("a/3").unwrap().unwrap().item.title,
        "Corrected title"
    );
    assert_eq!(journal_all(&store).await.len(), 2);

    // A listing without date or lead (another list page, a teaser) does not erase them.
    let mut with_lead = item("a/9", Some((2022, 1, 2)));
    with_lead.lead = "The lead".into();
    poll(&store, "s", &[with_lead], now).await;
    let mut teaser = item("a/9", None);
    teaser.title = "Teaser title".into();
    let outcome = poll(&store, "other", &[teaser], now).await;
    assert!(outcome.new_items.is_empty());
    let known = store.item("a/9").unwrap().unwrap().item;
    assert_eq!(known.title, "Teaser title");
    assert_eq!(known.date, NaiveDate::from_ymd_opt(2022, 1, 2));
    assert_eq!(known.lead, "The lead");
    assert_eq!(
        journal_all(&store).await.len(),
        2,
        "nothing new was journaled"
    );
}

#[tokio::test]
async fn undated_items_are_kept_and_sorted_by_first_sight() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let now = Utc.with_ymd_and_hms(2022, 6, 1, 12, 0, 0).unwrap();
    poll(
        &store,
        "s",
        &[item("b/undated", None), item("b/old", Some((2022, 5, 1)))],
        now,
    )
    .await;
    let ids: Vec<_> = store
        .latest(5)
        .unwrap()
        .into_iter()
        .map(|s| s.item.id)
        .collect();
    assert_eq!(ids, vec!["b/undated", "b/old"]);
}

#[tokio::test]
async fn state_survives_reopening_and_a_second_opener_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let now = Utc::now();
    {
        let store = Store::open(dir.path()).unwrap();
        assert!(store.subscribe(42, None, now).await.unwrap());
        assert!(
            !store.subscribe(42, None, now).await.unwrap(),
            "subscribing twice is idempotent"
        );
        poll(&store, "s", &[item("c/1", None)], now).await;
        store.subscribe(43, None, now).await.unwrap();
        poll(&store, "s", &[item("c/2", None), item("c/1", None)], now).await;
        match Store::open(dir.path()) {
            Err(StoreError::Locked(path)) => assert_eq!(path, dir.path()),
            Err(other) => panic!("expected Locked, got {other}"),
            Ok(_) => panic!("a second store opened the same directory"),
        }
    }
    let store = crate::support::reopen_store(dir.path());
    assert_eq!(store.subscribers().unwrap(), vec![42, 43]);
    assert_eq!(store.item_count(), 2);
    assert_eq!(journal_all(&store).await.len(), 2);

    // Unsubscribing drops what was owed; migrating moves it.
    assert!(store.unsubscribe(42, None, &[]).await.unwrap());
    assert!(!store.unsubscribe(42, None, &[]).await.unwrap());
    FanOut::new(store.clone(), 1)
        .migrate_chat(43, -1001)
        .await
        .unwrap();
    assert_eq!(store.subscribers().unwrap(), vec![-1001]);
    let journaled = journal_all(&store).await;
    assert_eq!(journaled.len(), 1);
    assert_eq!(journaled[0].chat, -1001);
}

#[tokio::test]
async fn the_flood_guard_absorbs_a_burst_and_holds_back_old_items() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let now = Utc.with_ymd_and_hms(2022, 6, 1, 12, 0, 0).unwrap();
    let policy = PollPolicy::new(2, 14, now.date_naive());
    store.subscribe(7, None, now).await.unwrap();
    store
        .record_poll("s", &[item("f/1", Some((2022, 6, 1)))], &policy, now)
        .await
        .unwrap();

    // Three new at once (more than 2): recorded, none queued.
    let burst: Vec<Item> = (2..=4)
        .map(|n| item(&format!("f/{n}"), Some((2022, 6, 1))))
        .collect();
    let outcome = store.record_poll("s", &burst, &policy, now).await.unwrap();
    assert!(outcome.flood);
    assert_eq!((outcome.new_items.len(), outcome.queued), (3, 0));
    assert_eq!(store.item_count(), 4);
    // Absorbed: the same page again is quiet.
    let again = store.record_poll("s", &burst, &policy, now).await.unwrap();
    assert!(!again.flood && again.new_items.is_empty());

    // Two new, one dated before 18 May (14 days): only the fresh and the undated go out.
    let page = vec![
        item("f/5", Some((2022, 5, 18))),
        item("f/6", Some((2022, 5, 17))),
        item("f/7", None),
    ];
    let outcome = store
        .record_poll("s", &page, &PollPolicy::new(3, 14, now.date_naive()), now)
        .await
        .unwrap();
    assert!(!outcome.flood);
    assert_eq!((outcome.queued, outcome.too_old), (2, 1));
    let journaled: Vec<_> = journal_all(&store)
        .await
        .into_iter()
        .map(|p| p.item_id)
        .collect();
    assert_eq!(journaled, vec!["f/5", "f/7"]);
    assert_eq!(store.item_count_of("s").unwrap(), Some(3));
}

#[test]
fn poll_policy_decides_floods_and_freshness() {
    let now = Utc.with_ymd_and_hms(2022, 6, 1, 23, 59, 0).unwrap();
    let policy = PollPolicy::new(8, 14, now.date_naive());
    assert!(!policy.is_flood(8) && policy.is_flood(9));
    assert!(policy.is_fresh(&item("p/1", Some((2022, 5, 18)))));
    assert!(!policy.is_fresh(&item("p/2", Some((2022, 5, 17)))));
    assert!(
        policy.is_fresh(&item("p/3", None)),
        "undated counts as fresh"
    );
    let open = PollPolicy::unguarded();
    assert!(!open.is_flood(usize::MAX) && open.is_fresh(&item("p/4", Some((1990, 1, 1)))));
}

#[tokio::test]
async fn empty_reads_and_304s_touch_only_what_they_should() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let t0 = Utc.with_ymd_and_hms(2022, 6, 1, 12, 0, 0).unwrap();
    let t1 = Utc.with_ymd_and_hms(2022, 6, 1, 13, 0, 0).unwrap();
    // A 304 for a source never read whole leaves it unread (its first read stays silent).
    store.record_unchanged("s", t1).unwrap();
    assert_eq!(store.last_success("s").unwrap(), None);
    assert_eq!(store.record_empty("s").unwrap(), 0);

    let page: Vec<Item> = (1..=4).map(|n| item(&format!("e/{n}"), None)).collect();
    poll(&store, "s", &page, t0).await;
    store.record_unchanged("s", t1).unwrap();
    assert_eq!(store.last_success("s").unwrap(), Some(t1));
    // The first empty read reports what the page had; later ones do not repeat it.
    assert_eq!(store.record_empty("s").unwrap(), 4);
    assert_eq!(store.record_empty("s").unwrap(), 0);
    assert_eq!(
        store.last_success("s").unwrap(),
        Some(t1),
        "not a good read"
    );
    // The same releases coming back are not new.
    let back = poll(&store, "s", &page, t1).await;
    assert!(back.new_items.is_empty());
    assert_eq!(store.item_count_of("s").unwrap(), Some(4));
}

#[tokio::test]
async fn leaving_one_source_keeps_every_other_configured_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let now = Utc::now();
    let configured: Vec<String> = ["home", "press", "informs"].map(String::from).to_vec();
    // Only `home` has ever been read; `press` and `informs` must not be lost.
    poll(&store, "home", &[item("u/1", None)], now).await;
    store.subscribe(9, None, now).await.unwrap();
    assert!(
        store
            .unsubscribe(9, Some("home"), &configured)
            .await
            .unwrap()
    );
    let left = store.subscription(9).unwrap().unwrap().sources.unwrap();
    assert_eq!(
        left.into_iter().collect::<Vec<_>>(),
        vec!["informs", "press"]
    );
    assert!(
        !store
            .unsubscribe(9, Some("home"), &configured)
            .await
            .unwrap()
    );
    assert!(
        store
            .unsubscribe(9, Some("press"), &configured)
            .await
            .unwrap()
    );
    assert!(
        store
            .unsubscribe(9, Some("informs"), &configured)
            .await
            .unwrap()
    );
    assert_eq!(store.subscription(9).unwrap(), None, "last source ends it");
}

#[tokio::test]
async fn an_outage_that_spans_a_restart_still_ends_with_its_recovery_message() {
    use embassy_bot::{Health, HealthChange};
    let dir = tempfile::tempdir().unwrap();
    let start = Utc.with_ymd_and_hms(2022, 6, 1, 12, 0, 0).unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        let mut health = Health::default();
        let alert_after = std::time::Duration::from_secs(60);
        assert!(health.failed(start, alert_after, "HTTP 500").is_none());
        let later = start + chrono::Duration::seconds(120);
        assert!(matches!(
            health.failed(later, alert_after, "HTTP 500"),
            Some(HealthChange::Failing { .. })
        ));
        store.save_source_state("home", &health).unwrap();
        store.flush().await.unwrap();
    }
    let store = crate::support::reopen_store(dir.path());
    let mut health: Health = store.source_state("home").unwrap().unwrap();
    let back = start + chrono::Duration::seconds(600);
    assert_eq!(
        health.succeeded(back),
        Some(HealthChange::Recovered {
            failed_for: std::time::Duration::from_secs(600)
        })
    );
    assert!(store.source_state::<Health>("press").unwrap().is_none());
}

#[tokio::test]
async fn a_forum_topic_is_a_target_of_its_own_beside_its_chat() {
    use embassy_bot::{MAX_TOPICS, Removal, Target};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let now = Utc::now();
    let forum = -100_777;
    poll(&store, "s", &[item("t/1", None)], now).await;
    assert!(
        store
            .subscribe(Target::topic(forum, 5), None, now)
            .await
            .unwrap()
    );
    assert!(
        store
            .subscribe(Target::topic(forum, 9), None, now)
            .await
            .unwrap()
    );
    assert!(store.subscribe(forum, None, now).await.unwrap());
    assert!(store.subscribe(1, None, now).await.unwrap());
    let record = store.subscription(forum).unwrap().unwrap();
    assert!(record.whole_chat && record.topics.len() == 2);
    assert_eq!(
        store.subscribers().unwrap(),
        vec![forum, 1],
        "one record per chat"
    );

    // A release reaches the chat, then each topic, as journal entries in order.
    poll(&store, "s", &[item("t/2", None), item("t/1", None)], now).await;
    let journaled = journal_all(&store).await;
    let targets: Vec<Target> = journaled.iter().map(JournalEntry::target).collect();
    assert_eq!(
        targets,
        vec![
            Target::from(forum),
            Target::topic(forum, 5),
            Target::topic(forum, 9),
            Target::from(1),
        ]
    );

    // A topic that is gone ends alone, with what it was owed.
    let dropped = store
        .remove_target(Target::topic(forum, 5), Removal::ChatGone)
        .await
        .unwrap();
    assert_eq!(dropped, 1);
    let left: Vec<Option<i32>> = store
        .journal_for(forum)
        .unwrap()
        .iter()
        .map(|e| e.thread)
        .collect();
    assert_eq!(left, vec![None, Some(9)]);
    // The chat itself leaves; its topic stays subscribed.
    assert!(store.unsubscribe(forum, None, &[]).await.unwrap());
    let record = store.subscription(forum).unwrap().unwrap();
    assert!(!record.whole_chat && record.topics.keys().eq([&9]));
    assert_eq!(store.journal_for(forum).unwrap().len(), 1);
    // Its last topic leaving ends the record.
    assert!(
        store
            .unsubscribe(Target::topic(forum, 9), None, &[])
            .await
            .unwrap()
    );
    assert!(store.subscription(forum).unwrap().is_none());
    assert!(store.journal_for(forum).unwrap().is_empty());

    // Topics of one chat are bounded.
    for thread in 0..MAX_TOPICS as i32 + 3 {
        store
            .subscribe(Target::topic(-5, thread + 1), None, now)
            .await
            .unwrap();
    }
    let record = store.subscription(-5).unwrap().unwrap();
    assert_eq!(record.topics.len(), MAX_TOPICS);
    assert!(
        !store
            .subscribe(Target::topic(-5, 10_000), None, now)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn the_channels_a_person_subscribed_are_remembered_up_to_a_bound() {
    use embassy_bot::MAX_CHANNELS_PER_USER;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let now = Utc::now();
    let user = 77;
    for n in 0..MAX_CHANNELS_PER_USER as i64 {
        let channel = -1_000_000_000_000 - n;
        assert!(
            store
                .remember_channel(user, channel, Some("A channel"), None, now)
                .await
                .unwrap()
        );
    }
    // One more is refused; one already known is renamed, not added.
    assert!(
        !store
            .remember_channel(user, -5, Some("One too many"), None, now)
            .await
            .unwrap()
    );
    assert!(
        store
            .remember_channel(
                user,
                -1_000_000_000_000,
                Some("Renamed"),
                Some("renamed"),
                now
            )
            .await
            .unwrap()
    );
    let channels = store.channels_of(user).unwrap();
    assert_eq!(channels.len(), MAX_CHANNELS_PER_USER);
    assert!(
        channels
            .iter()
            .any(|(id, note)| *id == -1_000_000_000_000
                && note.username.as_deref() == Some("renamed"))
    );
    assert!(store.channels_of(78).unwrap().is_empty(), "per person");
    store
        .forget_channel(user, -1_000_000_000_000)
        .await
        .unwrap();
    assert_eq!(
        store.channels_of(user).unwrap().len(),
        MAX_CHANNELS_PER_USER - 1
    );
}
