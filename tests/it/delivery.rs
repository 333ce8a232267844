//! Delivery against a scripted messenger: per-chat order, isolation of one chat's
//! failure, unsubscribing gone chats, migration, giving up on refused messages.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use embassy_bot::delivery::{Delivery, Messenger, SendError};
use embassy_bot::source::Item;
use embassy_bot::store::Store;
use tokio::sync::watch;

#[derive(Clone, Default)]
struct Scripted {
    sent: Arc<Mutex<Vec<(i64, String)>>>,
    failures: Arc<Mutex<HashMap<i64, VecDeque<SendError>>>>,
}

impl Scripted {
    fn fail(&self, chat: i64, error: SendError) {
        self.failures
            .lock()
            .unwrap()
            .entry(chat)
            .or_default()
            .push_back(error);
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
    async fn send_html(&self, chat: i64, html: String) -> Result<(), SendError> {
        if let Some(error) = self
            .failures
            .lock()
            .unwrap()
            .get_mut(&chat)
            .and_then(|q| q.pop_front())
        {
            return Err(error);
        }
        self.sent.lock().unwrap().push((chat, html));
        Ok(())
    }
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
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store
        .record_poll("s", &[item(1)], Utc::now())
        .await
        .unwrap();
    for chat in chats {
        store.subscribe(*chat, Utc::now()).await.unwrap();
    }
    let outcome = store
        .record_poll("s", &[item(4), item(3), item(2), item(1)], Utc::now())
        .await
        .unwrap();
    assert_eq!(outcome.deliveries, 3 * chats.len());
    (dir, store)
}

fn retry() -> SendError {
    SendError::Retry {
        after: Some(Duration::from_millis(10)),
        reason: "500".into(),
    }
}

#[tokio::test]
async fn each_chat_gets_items_oldest_first_and_failures_stay_local() {
    let (_dir, store) = store_with_three_new(&[1, 2, 3, -4]).await;
    let messenger = Scripted::default();
    messenger.fail(2, retry()); // chat 2: first attempt fails
    messenger.fail(
        3,
        SendError::ChatGone("Forbidden: bot was blocked by the user".into()),
    );
    messenger.fail(-4, SendError::Migrated(-1004));
    let delivery = Delivery::new(store.clone(), messenger.clone(), 4);
    let (_tx, shutdown) = watch::channel(false);

    let first = delivery.deliver_pending(&shutdown).await.unwrap();
    assert_eq!(first.chats_removed, 1);
    assert!(first.deferred >= 3 + 3, "{first:?}");
    assert_eq!(messenger.titles(1), vec!["Item 2", "Item 3", "Item 4"]);
    assert!(
        messenger.titles(2).is_empty(),
        "a failed chat does not skip ahead"
    );
    assert!(!store.is_subscribed(3).unwrap());

    let second = delivery.deliver_pending(&shutdown).await.unwrap();
    assert_eq!(second.sent, 6, "{second:?}");
    assert_eq!(messenger.titles(2), vec!["Item 2", "Item 3", "Item 4"]);
    assert_eq!(messenger.titles(-1004), vec!["Item 2", "Item 3", "Item 4"]);
    assert!(messenger.titles(-4).is_empty() && messenger.titles(3).is_empty());
    assert_eq!(messenger.titles(1).len(), 3, "nothing sent twice");
    assert_eq!(store.pending_count(), 0);
    assert_eq!(store.subscribers().unwrap(), vec![-1004, 1, 2]);
}

#[tokio::test]
async fn refused_messages_are_given_up_not_retried_forever() {
    let (_dir, store) = store_with_three_new(&[7]).await;
    let messenger = Scripted::default();
    messenger.fail(
        7,
        SendError::Rejected("Bad Request: message is too long".into()),
    );
    let delivery = Delivery::new(store.clone(), messenger.clone(), 1);
    let (_tx, shutdown) = watch::channel(false);
    let report = delivery.deliver_pending(&shutdown).await.unwrap();
    assert_eq!((report.given_up, report.sent), (1, 2));
    assert_eq!(messenger.titles(7), vec!["Item 3", "Item 4"]);
    assert_eq!(store.pending_count(), 0);
}

#[tokio::test]
async fn shutdown_leaves_unsent_pushes_journaled() {
    let (dir, store) = store_with_three_new(&[8, 9]).await;
    let messenger = Scripted::default();
    let delivery = Delivery::new(store.clone(), messenger.clone(), 2);
    let (tx, shutdown) = watch::channel(false);
    tx.send(true).unwrap();
    let report = delivery.deliver_pending(&shutdown).await.unwrap();
    assert_eq!((report.sent, report.deferred), (0, 6));
    drop((delivery, store));
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.pending_count(), 6);
}
