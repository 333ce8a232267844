//! The saved searches behind `/search`'s buttons, in the store: the newest
//! kept up to the caps (in all and per chat), across a reopening. The buttons
//! themselves, with the real binary, are in `process/buttons.rs`.

#[tokio::test]
async fn the_store_keeps_the_newest_queries_up_to_its_cap_across_a_restart() {
    use chrono::{TimeZone, Utc};
    use embassy_bot::{MAX_SAVED_QUERIES, Store};

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let now = Utc.with_ymd_and_hms(2024, 5, 1, 9, 0, 0).unwrap();
    let chat = -42;
    // Chats take turns, none over its own cap, so the total cap is what bites.
    let chat_of = |n: usize| chat - (n % 100) as i64 * 1_000;
    let mut ids = Vec::new();
    for n in 0..MAX_SAVED_QUERIES + 10 {
        // The clock may stand still or go back: numbers still only grow.
        let at = now - chrono::Duration::milliseconds((n % 3) as i64);
        ids.push(
            store
                .save_query(chat_of(n), &format!("visa {n}"), at)
                .unwrap(),
        );
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "numbers only grow");
    assert_eq!(store.saved_query_count(), MAX_SAVED_QUERIES);
    for (n, dropped) in ids[..10].iter().enumerate() {
        assert_eq!(store.saved_query(*dropped, chat_of(n)).unwrap(), None);
    }
    let newest = *ids.last().unwrap();
    let last_text = format!("visa {}", MAX_SAVED_QUERIES + 9);
    assert_eq!(
        store
            .saved_query(newest, chat_of(MAX_SAVED_QUERIES + 9))
            .unwrap()
            .as_deref(),
        Some(last_text.as_str())
    );
    assert_eq!(
        store.saved_query(newest, 42).unwrap(),
        None,
        "another chat's number names nothing"
    );

    store.flush().await.unwrap();
    drop(store);
    let store = crate::support::reopen_store(dir.path());
    assert_eq!(store.saved_query_count(), MAX_SAVED_QUERIES);
    assert_eq!(
        store.saved_query(ids[10], chat_of(10)).unwrap().as_deref(),
        Some("visa 10")
    );
    let next = store.save_query(chat, "visa again", now).unwrap();
    assert!(next > newest);
    assert_eq!(store.saved_query_count(), MAX_SAVED_QUERIES);
    assert_eq!(
        store.saved_query(ids[10], chat_of(10)).unwrap(),
        None,
        "the oldest went"
    );
}

#[tokio::test]
async fn one_chat_searching_without_end_expires_only_its_own_buttons() {
    use chrono::{TimeZone, Utc};
    use embassy_bot::{MAX_SAVED_QUERIES, MAX_SAVED_QUERIES_PER_CHAT, Store};

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let now = Utc.with_ymd_and_hms(2024, 5, 1, 9, 0, 0).unwrap();
    let (quiet, busy) = (7, -100);
    let kept = store.save_query(quiet, "visa", now).unwrap();
    let mut busy_ids = Vec::new();
    for n in 0..MAX_SAVED_QUERIES * 2 {
        busy_ids.push(store.save_query(busy, &format!("spam {n}"), now).unwrap());
    }
    assert_eq!(
        store.saved_query(kept, quiet).unwrap().as_deref(),
        Some("visa"),
        "another chat's button still works"
    );
    assert_eq!(store.saved_query_count(), 1 + MAX_SAVED_QUERIES_PER_CHAT);
    let (gone, held) = busy_ids.split_at(busy_ids.len() - MAX_SAVED_QUERIES_PER_CHAT);
    assert_eq!(
        store.saved_query(*gone.last().unwrap(), busy).unwrap(),
        None
    );
    assert!(store.saved_query(held[0], busy).unwrap().is_some());
    // The per-chat record survives a restart.
    store.flush().await.unwrap();
    drop(store);
    let store = crate::support::reopen_store(dir.path());
    store.save_query(busy, "one more", now).unwrap();
    assert_eq!(store.saved_query(held[0], busy).unwrap(), None);
    assert_eq!(store.saved_query_count(), 1 + MAX_SAVED_QUERIES_PER_CHAT);
}
