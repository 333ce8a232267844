//! Delivery against a scripted messenger: per-chat order, isolation of one chat's
//! failure, unsubscribing gone chats, migration, plain-text fallback, giving up
//! on refused messages, bounded fan-out, and the flood limits (in paused time).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use embassy_bot::Item;
use embassy_bot::Limiter;
use embassy_bot::RateLimits;
use embassy_bot::Shutdown;
use embassy_bot::Store;
use embassy_bot::{Delivery, FanOut};
use embassy_bot::{Format, Messenger, SendError};

use crate::support::{journal_outbox, journal_page, poll, reopen_store};

#[derive(Clone, Default)]
struct Scripted {
    sent: Arc<Mutex<Vec<(i64, String)>>>,
    failures: Arc<Mutex<HashMap<i64, VecDeque<Option<SendError>>>>>,
}

impl Scripted {
    /// Scripts the next attempt to `chat` to fail with `error`.
    fn fail(&self, chat: i64, error: SendError) {
        self.script(chat, Some(error));
    }
    /// Scripts the next attempt to `chat` to succeed (to place a failure after it).
    fn succeed(&self, chat: i64) {
        self.script(chat, None);
    }
    fn script(&self, chat: i64, outcome: Option<SendError>) {
        self.failures
            .lock()
            .unwrap()
            .entry(chat)
            .or_default()
            .push_back(outcome);
    }
    /// The item titles each chat received, in order.
    fn titles(&self, chat: i64) -> Vec<String> {
        self.sent
            .lock()
            .unwrap()
            .iter()
            .filter(|(c, _)| *c == chat)
            .map(|(_, html)| {
                html.split("<b>")
                    .nth(1)
                    .and_then(|t| t.split("</b>").next())
                    .unwrap_or("")
                    .to_string()
            })
            .collect()
    }
}

impl Messenger for Scripted {
    async fn send(
        &self,
        chat: i64,
        _thread: Option<i32>,
        html: String,
        _format: Format,
    ) -> Result<(), SendError> {
        if let Some(error) = self
            .failures
            .lock()
            .unwrap()
            .get_mut(&chat)
            .and_then(|q| q.pop_front())
            .flatten()
        {
            return Err(error);
        }
        self.sent.lock().unwrap().push((chat, html));
        Ok(())
    }
}

fn unlimited() -> Arc<Limiter> {
    Arc::new(Limiter::new(None))
}

fn item(n: u32) -> Item {
    Item {
        id: format!("site/fnapr/{n}"),
        url: format!("https://site/fnapr/{n}"),
        title: format!("Item {n}"),
        date: NaiveDate::from_ymd_opt(2022, 5, n),
        lead: String::new(),
    }
}

/// A store primed with item 1, chats subscribed, then items 4, 3, 2 (page order) new.
async fn store_with_three_new(chats: &[i64]) -> (tempfile::TempDir, Store) {
    let (dir, store) = primed_store().await;
    for chat in chats {
        store.subscribe(*chat, None, Utc::now()).await.unwrap();
    }
    let outcome = poll(
        &store,
        "s",
        &[item(4), item(3), item(2), item(1)],
        Utc::now(),
    )
    .await;
    assert_eq!(outcome.queued, 3);
    (dir, store)
}

/// A store that has read source "s" once (item 1), so later items are announced.
async fn primed_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    poll(&store, "s", &[item(1)], Utc::now()).await;
    (dir, store)
}

fn retry(after_ms: Option<u64>) -> SendError {
    SendError::Retry {
        after: after_ms.map(Duration::from_millis),
        reason: "500".into(),
    }
}

// Paused time: the pass takes no time on the clock the backoff reads, so chat 2
// is still waiting when the pass ends however slowly the machine runs it (with
// real time and a 300 ms retry, a pass slower than that would let the sweep
// send chat 2's pushes). The retry is long too, should a timer ever let paused
// time jump during the pass.
#[tokio::test(start_paused = true)]
async fn each_chat_gets_items_oldest_first_and_failures_stay_local() {
    let (_dir, store) = store_with_three_new(&[1, 2, 3, -4]).await;
    let messenger = Scripted::default();
    messenger.fail(2, retry(Some(30_000))); // chat 2: first attempt fails, retry in 30 s
    messenger.fail(
        3,
        SendError::ChatGone("Forbidden: bot was blocked by the user".into()),
    );
    messenger.fail(-4, SendError::Migrated(-1004));
    let delivery = Delivery::new(store.clone(), messenger.clone(), unlimited(), 4);
    let (_trigger, shutdown) = Shutdown::new();

    let first = delivery.deliver_pending(&shutdown).await.unwrap();
    // Item 2 reached four chats; items 3 and 4 the three left (3 is gone, -4 moved).
    assert_eq!(first.fanned_out, 4 + 3 + 3);
    assert_eq!((first.chats_removed, first.chats_migrated), (1, 1));
    assert_eq!(
        first.deferred, 2,
        "chat 2's first push and the migrating group's: {first:?}"
    );
    assert_eq!(messenger.titles(1), vec!["Item 2", "Item 3", "Item 4"]);
    // The group is served under its new id in the same pass, all three in order.
    assert_eq!(messenger.titles(-1004), vec!["Item 2", "Item 3", "Item 4"]);
    assert_eq!(first.sent, 6, "{first:?}");
    assert!(
        messenger.titles(2).is_empty(),
        "a failed chat does not skip ahead"
    );
    assert_eq!(store.journal_for(2).unwrap().len(), 3, "all three wait");
    assert!(!store.is_subscribed(3).unwrap());
    assert_eq!(store.journal_stats().unwrap().pushes_dropped, 1);

    // Once its backoff ends (30 s and up to 10 % jitter), the failed chat gets
    // its three, oldest first.
    tokio::time::sleep(Duration::from_secs(34)).await;
    let second = delivery.deliver_pending(&shutdown).await.unwrap();
    assert_eq!(second.sent, 3, "{second:?}");
    assert_eq!(messenger.titles(2), vec!["Item 2", "Item 3", "Item 4"]);
    assert!(messenger.titles(-4).is_empty() && messenger.titles(3).is_empty());
    assert_eq!(messenger.titles(1).len(), 3, "nothing sent twice");
    assert_eq!(store.journal_count(), 0);
    assert_eq!(store.subscribers().unwrap(), vec![-1004, 1, 2]);
}

#[tokio::test]
async fn unparsable_html_goes_as_plain_text_and_refusals_are_given_up() {
    let (_dir, store) = store_with_three_new(&[7]).await;
    let messenger = Scripted::default();
    messenger.fail(
        7,
        SendError::Rejected("Bad Request: can't parse entities: unexpected end tag".into()),
    );
    messenger.succeed(7); // the plain-text copy of item 2
    messenger.fail(
        7,
        SendError::Rejected("Bad Request: message must be non-empty".into()),
    );
    let delivery = Delivery::new(store.clone(), messenger.clone(), unlimited(), 1);
    let (_trigger, shutdown) = Shutdown::new();
    let report = delivery.deliver_pending(&shutdown).await.unwrap();
    assert_eq!(
        (report.sent, report.sent_plain, report.given_up),
        (2, 1, 1),
        "{report:?}"
    );
    let sent = messenger.sent.lock().unwrap().clone();
    assert!(
        sent[0].1.starts_with("🆕 Item 2") && !sent[0].1.contains('<'),
        "the first push went as plain text: {}",
        sent[0].1
    );
    assert_eq!(messenger.titles(7)[1..], ["Item 4".to_string()]);
    assert_eq!(store.journal_count(), 0);
    assert_eq!(store.journal_stats().unwrap().given_up, 1);
}

#[tokio::test]
async fn shutdown_leaves_unsent_pushes_journaled() {
    let (dir, store) = store_with_three_new(&[8, 9]).await;
    let fan_out = FanOut::new(store.clone(), 1);
    assert_eq!(journal_outbox(&fan_out).await, 6);
    let messenger = Scripted::default();
    let delivery = Delivery::new(store.clone(), messenger.clone(), unlimited(), 2);
    let (trigger, shutdown) = Shutdown::new();
    trigger.trigger();
    let report = delivery.deliver_pending(&shutdown).await.unwrap();
    assert_eq!(report.sent, 0);
    drop((delivery, fan_out, store));
    let store = reopen_store(dir.path());
    assert_eq!(store.journal_count(), 6);
}

#[tokio::test]
async fn fan_out_goes_in_bounded_pages_and_follows_subscriptions() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let fan_out = FanOut::new(store.clone(), 1);
    let now = Utc::now();
    poll(&store, "a", &[item(1)], now).await;
    poll(&store, "b", &[item(20)], now).await;
    for chat in 1..=2_500 {
        store.subscribe(chat, None, now).await.unwrap();
    }
    store.subscribe(-5, Some("b"), now).await.unwrap();
    poll(&store, "a", &[item(2), item(1)], now).await;
    poll(&store, "b", &[item(21), item(20)], now).await;
    assert_eq!(store.outbox_len(), 2);

    // Item 2 (source a): three pages of at most 1,000 subscribers, -5 left out.
    let mut steps = Vec::new();
    for _ in 0..3 {
        steps.push(journal_page(&fan_out, 1_000).await.unwrap());
    }
    assert_eq!(
        steps,
        vec![999, 1_000, 501],
        "-5 sorts first and is skipped"
    );
    assert_eq!(store.outbox_len(), 2, "finished only when the end is seen");
    // Item 21 (source b) reaches -5 too; a chat that unsubscribes before its
    // page is read gets nothing (and loses what it was owed).
    assert_eq!(journal_page(&fan_out, 1_000).await, Some(1_000));
    assert_eq!(store.outbox_len(), 1);
    store.unsubscribe(2_000, None, &[]).await.unwrap();
    assert_eq!(journal_outbox(&fan_out).await, 1_500);
    assert_eq!(store.journal_for(-5).unwrap().len(), 1, "-5 follows b only");
    assert_eq!(store.journal_for(7).unwrap().len(), 2);
    assert_eq!(store.journal_for(2_400).unwrap().len(), 2);
    assert!(store.journal_for(2_000).unwrap().is_empty());
    assert_eq!(store.outbox_len(), 0);
}

/// Records when each message was sent, in (paused) Tokio time.
#[derive(Clone, Default)]
struct Clocked {
    at: Arc<Mutex<Vec<(i64, tokio::time::Instant)>>>,
}

impl Messenger for Clocked {
    async fn send(
        &self,
        chat: i64,
        _thread: Option<i32>,
        _text: String,
        _format: Format,
    ) -> Result<(), SendError> {
        self.at
            .lock()
            .unwrap()
            .push((chat, tokio::time::Instant::now()));
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn flood_limits_space_sends_globally_and_per_chat() {
    let (_dir, store) = store_with_three_new(&[1, 2, 3, 4, 5, -6]).await;
    let messenger = Clocked::default();
    let limiter = Arc::new(Limiter::new(Some(RateLimits::telegram(4.0))));
    let delivery = Delivery::new(store.clone(), messenger.clone(), limiter, 8);
    let (_trigger, shutdown) = Shutdown::new();
    let report = delivery.deliver_pending(&shutdown).await.unwrap();
    assert_eq!(report.sent, 18);
    let at = messenger.at.lock().unwrap().clone();
    let mut times: Vec<_> = at.iter().map(|(_, t)| *t).collect();
    times.sort();
    for pair in times.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(249),
            "global gap {:?}",
            pair[1] - pair[0]
        );
    }
    for chat in [1, 2, 3, 4, 5, -6] {
        let mine: Vec<_> = at
            .iter()
            .filter(|(c, _)| *c == chat)
            .map(|(_, t)| *t)
            .collect();
        let gap = if chat < 0 { 3_050 } else { 1_050 };
        for pair in mine.windows(2) {
            assert!(
                pair[1] - pair[0] >= Duration::from_millis(gap),
                "chat {chat}"
            );
        }
    }
    // 18 messages at 4/s need at least 17 gaps of 250 ms. (How close to the
    // rate delivery gets is measured by the fan-out benchmark, not here.)
    assert!(times[17] - times[0] >= Duration::from_millis(4_250));
}

#[tokio::test(start_paused = true)]
async fn transient_failures_back_off_without_delaying_other_chats() {
    let (_dir, store) = store_with_three_new(&[1, 2]).await;
    let messenger = Scripted::default();
    for _ in 0..3 {
        messenger.fail(1, retry(None));
    }
    messenger.fail(2, retry(Some(30_000))); // a 429 with retry_after = 30 s
    let delivery = Delivery::new(store.clone(), messenger.clone(), unlimited(), 4);
    let wake = Arc::new(tokio::sync::Notify::new());
    let (trigger, shutdown) = Shutdown::new();
    let worker = tokio::spawn(delivery.run(wake, shutdown));
    let start = tokio::time::Instant::now();
    // Backoff 0.5–1 s, 1–2 s, 2–4 s: chat 1 is done long before chat 2 has
    // waited its 30 s. (Paused time jumps ahead whenever the runtime idles on
    // a real fsync, so only lower bounds and order are exact here.)
    wait_until(|| messenger.titles(1).len() == 3).await;
    assert_eq!(messenger.titles(1), vec!["Item 2", "Item 3", "Item 4"]);
    assert!(
        messenger.titles(2).is_empty(),
        "chat 2 is still waiting out its 429"
    );
    wait_until(|| messenger.titles(2).len() == 3).await;
    let waited = tokio::time::Instant::now() - start;
    assert!(waited >= Duration::from_secs(30), "{waited:?}");
    assert_eq!(messenger.titles(2), vec!["Item 2", "Item 3", "Item 4"]);
    trigger.trigger();
    worker.await.unwrap();
    assert_eq!(store.journal_count(), 0);
}

async fn wait_until(done: impl Fn() -> bool) {
    for _ in 0..100_000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition never became true");
}

#[tokio::test]
async fn a_release_listed_by_a_second_source_reaches_that_sources_followers_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let fan_out = FanOut::new(store.clone(), 1);
    let now = Utc::now();
    poll(&store, "home", &[item(1)], now).await;
    poll(&store, "press", &[item(1)], now).await;
    let (everything, press_only, home_only) = (1, 2, 3);
    store.subscribe(everything, None, now).await.unwrap();
    store
        .subscribe(press_only, Some("press"), now)
        .await
        .unwrap();
    store.subscribe(home_only, Some("home"), now).await.unwrap();

    // The home page shows release 5 first: its followers are told.
    let first = poll(&store, "home", &[item(5), item(1)], now).await;
    assert_eq!(first.queued, 1);
    journal_outbox(&fan_out).await;
    let owed = |chat| store.journal_for(chat).unwrap().len();
    assert_eq!(
        (owed(everything), owed(press_only), owed(home_only)),
        (1, 0, 1)
    );

    // The press archive lists it a poll later: only press-only followers are told.
    let second = poll(&store, "press", &[item(5), item(1)], now).await;
    assert!(second.new_items.is_empty(), "not a new release");
    assert_eq!(second.queued, 1);
    journal_outbox(&fan_out).await;
    assert_eq!(
        (owed(everything), owed(press_only), owed(home_only)),
        (1, 1, 1)
    );

    // Delivered once each; seen again on either page, it is never announced again.
    let messenger = Scripted::default();
    let delivery = Delivery::new(store.clone(), messenger.clone(), unlimited(), 4);
    let (_trigger, shutdown) = Shutdown::new();
    let report = delivery.deliver_pending(&shutdown).await.unwrap();
    assert_eq!(report.sent, 3, "{report:?}");
    for source in ["home", "press"] {
        let again = poll(&store, source, &[item(5), item(1)], now).await;
        assert_eq!(again.queued, 0);
    }
    assert_eq!(journal_outbox(&fan_out).await, 0);
    assert_eq!(
        store.item("site/fnapr/5").unwrap().unwrap().also_on,
        std::collections::BTreeSet::from(["press".to_string()])
    );
}

#[tokio::test]
async fn a_migration_never_doubles_or_drops_a_push() {
    let (_dir, store) = primed_store().await;
    let fan_out = FanOut::new(store.clone(), 1);
    let now = Utc::now();
    let (group, supergroup, other_group, other_super) = (-40, -1_000_040, -50, -1_000_050);
    for chat in [group, supergroup, other_group] {
        store.subscribe(chat, None, now).await.unwrap();
    }
    poll(&store, "s", &[item(2), item(1)], now).await;

    // Fan out only as far as past -1_000_040 (the first page: -1_000_040 alone).
    assert_eq!(journal_page(&fan_out, 1).await, Some(1));
    // `other_group` becomes `other_super`, which sorts before the cursor:
    // the announcement in progress must still reach it.
    fan_out
        .migrate_chat(other_group, other_super)
        .await
        .unwrap();
    // `group` becomes `supergroup`, which subscribed on its own: one copy only.
    journal_outbox(&fan_out).await;
    assert_eq!(store.journal_for(group).unwrap().len(), 1);
    fan_out.migrate_chat(group, supergroup).await.unwrap();

    assert_eq!(store.journal_for(other_super).unwrap().len(), 1, "not lost");
    assert!(store.journal_for(other_group).unwrap().is_empty());
    assert_eq!(
        store.journal_for(supergroup).unwrap().len(),
        1,
        "not doubled"
    );
    assert!(store.journal_for(group).unwrap().is_empty());
    assert_eq!(store.subscribers().unwrap(), vec![other_super, supergroup]);
}

/// Answers every send after a pause, like a busy Telegram.
#[derive(Clone, Default)]
struct Slow {
    sent: Arc<Mutex<usize>>,
}

impl Messenger for Slow {
    async fn send(
        &self,
        _chat: i64,
        _thread: Option<i32>,
        _text: String,
        _format: Format,
    ) -> Result<(), SendError> {
        tokio::time::sleep(Duration::from_millis(20)).await;
        *self.sent.lock().unwrap() += 1;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_in_the_middle_of_a_fan_out_returns_promptly() {
    let (_dir, store) = primed_store().await;
    let now = Utc::now();
    let subscribing = (1..=20_000).map(|chat| {
        let store = store.clone();
        async move { store.subscribe(chat, None, now).await.unwrap() }
    });
    futures::future::join_all(subscribing).await;
    poll(&store, "s", &[item(2), item(1)], now).await;

    let messenger = Slow::default();
    let delivery = Delivery::new(store.clone(), messenger.clone(), unlimited(), 4);
    let (trigger, shutdown) = Shutdown::new();
    let worker = tokio::spawn(delivery.run(Arc::new(tokio::sync::Notify::new()), shutdown));
    while *messenger.sent.lock().unwrap() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(
        store.outbox_len() > 0,
        "shutdown comes while the fan-out is still going"
    );
    trigger.trigger();
    tokio::time::timeout(Duration::from_secs(5), worker)
        .await
        .expect("delivery stops within seconds of shutdown")
        .unwrap();
    let sent = *messenger.sent.lock().unwrap();
    assert!(sent < 20_000, "stopped mid-way ({sent} sent)");
    // What was not sent is still owed (journaled or still in the outbox).
    assert!(store.journal_count() + store.outbox_len() > 0);
}

/// Records titles per chat; the first send to each chat waits at a gate the
/// test opens, and says when it has begun: the test acts while it is in flight.
#[derive(Clone)]
struct GatedFirst {
    sent: Arc<Mutex<Vec<(i64, String)>>>,
    /// A permit for each first send that has begun.
    begun: Arc<tokio::sync::Semaphore>,
    /// A permit lets a waiting first send finish.
    gate: Arc<tokio::sync::Semaphore>,
}

impl GatedFirst {
    fn new() -> GatedFirst {
        GatedFirst {
            sent: Arc::default(),
            begun: Arc::new(tokio::sync::Semaphore::new(0)),
            gate: Arc::new(tokio::sync::Semaphore::new(0)),
        }
    }
}

impl Messenger for GatedFirst {
    async fn send(
        &self,
        chat: i64,
        _thread: Option<i32>,
        text: String,
        _format: Format,
    ) -> Result<(), SendError> {
        let first = !self.sent.lock().unwrap().iter().any(|(c, _)| *c == chat);
        if first {
            self.begun.add_permits(1);
            self.gate
                .acquire()
                .await
                .expect("the gate stays open")
                .forget();
        }
        self.sent.lock().unwrap().push((chat, text));
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_queued_while_its_chat_is_busy_still_goes_out() {
    let (_dir, store) = primed_store().await;
    let now = Utc::now();
    store.subscribe(7, None, now).await.unwrap();
    let messenger = GatedFirst::new();
    let delivery = Delivery::new(store.clone(), messenger.clone(), unlimited(), 4);
    let wake = Arc::new(tokio::sync::Notify::new());
    let (trigger, shutdown) = Shutdown::new();
    let worker = tokio::spawn(delivery.run(wake.clone(), shutdown));

    // Release 2 goes out; release 3 is queued while that send is in flight
    // (begun, held at the gate), then the send is let through.
    poll(&store, "s", &[item(2), item(1)], now).await;
    wake.notify_one();
    messenger.begun.acquire().await.unwrap().forget();
    poll(&store, "s", &[item(3), item(2), item(1)], now).await;
    wake.notify_one();
    messenger.gate.add_permits(1);

    // A generous bound: only a failure waits it out.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while messenger.sent.lock().unwrap().len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "release 3 never went out"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    trigger.trigger();
    worker.await.unwrap();
    let sent = messenger.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent[0].1.contains("Item 2") && sent[1].1.contains("Item 3"));
}
