//! The fan-out walk ([`FanOut`]) against a real store: after a crash it resumes from the
//! saved cursor and skips the chats its log recorded, so only sends that were
//! in flight (or whose record was not written yet) go out again; a migration
//! in the middle of a walk neither doubles nor drops the release.

use chrono::Utc;
use embassy_bot::Store;
use embassy_bot::{FanOut, FanOutPage};

use crate::support::{fan_out_page, item, journal_page, poll, reopen_store};

/// A store with `chats` subscribed and one release queued for them.
async fn one_release_for(chats: impl IntoIterator<Item = i64>) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let now = Utc::now();
    poll(&store, "s", &[item(1)], now).await;
    for chat in chats {
        store.subscribe(chat, None, now).await.unwrap();
    }
    let queued = poll(&store, "s", &[item(2), item(1)], now).await.queued;
    assert_eq!(queued, 1);
    (dir, store)
}

/// The walk over `store`'s outbox, writing each log record at once.
fn walk(store: &Store) -> FanOut {
    FanOut::new(store.clone(), 1)
}

/// The next page of the walk, with nobody deferred.
async fn next_page(fan_out: &FanOut, max: usize) -> Option<FanOutPage> {
    fan_out_page(fan_out, max, |_| false).await
}

/// Takes `chats` of `page` and reports each sent, as delivery does.
fn send(fan_out: &FanOut, page: &FanOutPage, chats: impl IntoIterator<Item = i64>) {
    for chat in chats {
        assert!(fan_out.take(page, chat).unwrap());
        fan_out.sent(&page.release, chat).unwrap();
    }
}

/// Every chat the rest of the walk offers, each page sent in full.
async fn walk_to_the_end(fan_out: &FanOut) -> Vec<i64> {
    let mut offered = Vec::new();
    while let Some(page) = next_page(fan_out, 10).await {
        send(fan_out, &page, page.chats.clone());
        offered.extend(&page.chats);
    }
    offered
}

// Paused time: the sends below come all at once, as under load, so their
// log records are batched (sparse sends write theirs at once, see below).
#[tokio::test(start_paused = true)]
async fn a_crash_mid_walk_resends_only_what_the_log_had_not_recorded() {
    let (dir, store) = one_release_for(1..=100).await;
    let fan_out = FanOut::new(store.clone(), 32); // log records are written 32 at a time
    let page = next_page(&fan_out, 100).await.unwrap();
    assert_eq!(page.chats, (1..=100).collect::<Vec<_>>());
    // 40 accepted: the first record written at once (the log was idle), the
    // next 32 together, 7 still buffered; 5 in flight.
    send(&fan_out, &page, 1..=40);
    for chat in 41..=45 {
        assert!(fan_out.take(&page, chat).unwrap());
    }
    drop((page, fan_out, store)); // the crash: nothing saved, the buffered records lost

    // A power cut had also torn a record at the end of the log.
    let log = dir.path().join("fanout.log");
    let mut bytes = std::fs::read(&log).unwrap();
    assert_eq!(bytes.len(), 33 * 16);
    bytes.extend_from_slice(&[0xAB; 5]);
    std::fs::write(&log, bytes).unwrap();

    let store = reopen_store(dir.path());
    let fan_out = walk(&store);
    let page = next_page(&fan_out, 100).await.unwrap();
    assert_eq!(
        page.chats,
        (34..=100).collect::<Vec<_>>(),
        "the 33 recorded chats are skipped; the 7 unrecorded and the 5 in flight go again"
    );
    // Records written after the torn one still count after the next crash.
    send(&fan_out, &page, 34..=50);
    drop((page, fan_out, store));
    let store = reopen_store(dir.path());
    let fan_out = walk(&store);
    assert_eq!(
        walk_to_the_end(&fan_out).await,
        (51..=100).collect::<Vec<_>>()
    );
    assert_eq!(store.outbox_len(), 0, "the release is finished");
    assert_eq!(
        std::fs::metadata(dir.path().join("fanout.log"))
            .unwrap()
            .len(),
        0,
        "a finished release leaves nothing in the log"
    );
    assert!(walk_to_the_end(&fan_out).await.is_empty());
}

#[tokio::test(start_paused = true)]
async fn the_saved_cursor_carries_the_walk_past_a_crash() {
    let (dir, store) = one_release_for(1..=100).await;
    let fan_out = FanOut::new(store.clone(), 32);
    let page = next_page(&fan_out, 100).await.unwrap();
    for chat in 1..=75 {
        assert!(fan_out.take(&page, chat).unwrap());
    }
    // The 64th completion saves the cursor below the lowest send in flight
    // (65). The log holds 65 too (its record went with the second batch of
    // 32), not 66..=70 (still buffered).
    for chat in 1..=70 {
        fan_out.sent(&page.release, chat).unwrap();
    }
    drop((page, fan_out, store));

    let store = reopen_store(dir.path());
    assert_eq!(
        walk_to_the_end(&walk(&store)).await,
        (66..=100).collect::<Vec<_>>()
    );
}

#[tokio::test(start_paused = true)]
async fn sparse_sends_have_their_records_written_at_once_and_a_burst_batches_them() {
    let (dir, store) = one_release_for(1..=100).await;
    let fan_out = FanOut::new(store.clone(), 32);
    let page = next_page(&fan_out, 100).await.unwrap();
    // Thirty sends a second, as at Telegram's rate: each record is written
    // as its send is confirmed.
    for chat in 1..=10 {
        send(&fan_out, &page, [chat]);
        tokio::time::advance(std::time::Duration::from_millis(33)).await;
    }
    let log = dir.path().join("fanout.log");
    assert_eq!(std::fs::metadata(&log).unwrap().len(), 10 * 16);
    // A burst: the first record goes at once, the rest wait for a batch.
    send(&fan_out, &page, 11..=20);
    assert_eq!(std::fs::metadata(&log).unwrap().len(), 11 * 16);
    drop((page, fan_out, store));

    let store = reopen_store(dir.path());
    assert_eq!(
        walk_to_the_end(&walk(&store)).await,
        (12..=100).collect::<Vec<_>>(),
        "a crash now repeats only the burst's buffered sends"
    );
}

#[tokio::test]
async fn a_chat_owed_older_pushes_or_deferred_is_journaled_behind_them() {
    let (_dir, store) = one_release_for([1, 2, 3, 4]).await;
    let fan_out = walk(&store);
    let page = fan_out_page(&fan_out, 10, |chat| chat == 4).await.unwrap();
    assert_eq!(page.chats, vec![1, 2, 3]);
    assert_eq!(page.journaled, 1);
    assert_eq!(store.journal_for(4).unwrap().len(), 1);
    // Chat 2's send fails: journaled, served later by the journal sweep.
    send(&fan_out, &page, [1, 3]);
    assert!(fan_out.take(&page, 2).unwrap());
    let owed = fan_out.defer(&page.release, 2).await.unwrap();
    assert_eq!((owed.chat, owed.item_id.as_str()), (2, "site/fnapr/2"));
    assert!(next_page(&fan_out, 10).await.is_none());

    // The next release finds chats 2 and 4 owed this one: it queues behind it.
    let now = Utc::now();
    poll(&store, "s", &[item(3), item(2), item(1)], now).await;
    let page = next_page(&fan_out, 10).await.unwrap();
    assert_eq!((page.chats.clone(), page.journaled), (vec![1, 3], 2));
    let titles = |chat| {
        store
            .journal_for(chat)
            .unwrap()
            .into_iter()
            .map(|d| d.item_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(titles(2), vec!["site/fnapr/2", "site/fnapr/3"]);
    assert_eq!(titles(4), vec!["site/fnapr/2", "site/fnapr/3"]);
}

#[tokio::test]
async fn a_chat_that_unsubscribes_after_its_page_was_read_is_not_sent_to() {
    let (_dir, store) = one_release_for([1, 2, 3]).await;
    let fan_out = walk(&store);
    let page = next_page(&fan_out, 10).await.unwrap();
    store.unsubscribe(2, None, &[]).await.unwrap();
    assert!(fan_out.take(&page, 1).unwrap());
    assert!(!fan_out.take(&page, 2).unwrap(), "unsubscribed meanwhile");
    assert!(fan_out.take(&page, 3).unwrap());
}

#[tokio::test]
async fn a_group_that_migrates_ahead_of_the_walk_gets_the_release_once() {
    // The new id sorts after the page being sent: the walk reaches it itself.
    let (group, supergroup) = (-40, 100);
    let (_dir, store) = one_release_for([group, 5]).await;
    let fan_out = walk(&store);
    let page = next_page(&fan_out, 1).await.unwrap();
    assert_eq!(page.chats, vec![group]);
    assert!(fan_out.take(&page, group).unwrap());
    // The send to the group fails with "migrated": journaled, then moved.
    fan_out.defer(&page.release, group).await.unwrap();
    fan_out.migrate_chat(group, supergroup).await.unwrap();
    assert!(
        store.journal_for(supergroup).unwrap().is_empty(),
        "the walk will reach the new id: no journaled copy as well"
    );
    assert_eq!(walk_to_the_end(&fan_out).await, vec![5, supergroup]);
    assert_eq!(store.journal_count(), 0);
}

#[tokio::test]
async fn a_migration_keeps_a_push_that_a_repeat_announcement_will_not_make() {
    // Release 2 is announced on "a"; later "b" lists it too, and that repeat
    // announcement is for followers of "b" only. The group follows "a".
    let (group, supergroup, b_only) = (-40, 100, 5);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let now = Utc::now();
    for source in ["a", "b"] {
        poll(&store, source, &[item(1)], now).await;
    }
    store.subscribe(group, Some("a"), now).await.unwrap();
    store.subscribe(b_only, Some("b"), now).await.unwrap();
    poll(&store, "a", &[item(2), item(1)], now).await;
    poll(&store, "b", &[item(2), item(1)], now).await;
    assert_eq!(store.outbox_len(), 2);
    let fan_out = walk(&store);
    // The group's copy of the first outbox entry waits in the journal.
    assert_eq!(journal_page(&fan_out, 10).await, Some(1));
    // The repeat entry's walk has read a page ending before the new id.
    let page = next_page(&fan_out, 1).await.unwrap();
    assert!(page.chats.is_empty(), "the group is not told twice");
    // The group's journaled push fails with "migrated".
    fan_out.migrate_chat(group, supergroup).await.unwrap();
    let owed: Vec<_> = store
        .journal_for(supergroup)
        .unwrap()
        .into_iter()
        .map(|d| d.item_id)
        .collect();
    assert_eq!(
        owed,
        vec!["site/fnapr/2"],
        "moved: the walk will not reach it"
    );
    assert_eq!(walk_to_the_end(&fan_out).await, vec![b_only]);
}
