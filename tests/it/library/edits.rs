//! Revisions, in-process: a release the site corrects after it was pushed has
//! the messages already sent for it edited in place — in private chats,
//! groups, forum topics, channels and digests — once each, after any new
//! push, with nothing pushed a second time; the store keeps the corrected
//! words and a bounded history. Against a recording phone (a `Messenger`),
//! digests and held pushes in paused time. The real binary's edits, and a
//! SIGKILL in their middle: `process/edits.rs`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use embassy_bot::{
    Clock, Delivery, Edited, Format, Item, Keyboard, Limiter, Messenger, PollPolicy, SendError,
    Shutdown, Store, Target,
};

use crate::support::poll;

/// What a chat's screen shows: each message the bot sent, by id.
#[derive(Debug, Clone)]
struct Shown {
    to: Target,
    text: String,
    edits: usize,
    /// The data of the buttons under it.
    buttons: Vec<String>,
    /// Their labels.
    labels: Vec<String>,
}

/// ("send" | "edit", chat, text).
type Event = (&'static str, i64, String);

/// A Telegram that gives each message an id and lets the bot edit it, with a
/// log of what happened in order.
#[derive(Clone, Default)]
struct Phone {
    messages: Arc<Mutex<HashMap<i32, Shown>>>,
    /// What happened, in order.
    log: Arc<Mutex<Vec<Event>>>,
}

impl Phone {
    fn sends(&self) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.0 == "send")
            .count()
    }

    fn shown(&self, to: impl Into<Target>) -> Vec<Shown> {
        let to = to.into();
        let mut shown: Vec<(i32, Shown)> = self
            .messages
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, m)| m.to == to)
            .map(|(id, m)| (*id, m.clone()))
            .collect();
        shown.sort_by_key(|(id, _)| *id);
        shown.into_iter().map(|(_, m)| m).collect()
    }

    /// The person deletes every message in `chat`.
    fn delete_all(&self, chat: i64) {
        self.messages
            .lock()
            .unwrap()
            .retain(|_, m| m.to.chat != chat);
    }
}

impl Messenger for Phone {
    async fn send(
        &self,
        chat: i64,
        thread: Option<i32>,
        text: String,
        format: Format,
    ) -> Result<(), SendError> {
        self.send_for_id(chat, thread, text, format, None)
            .await
            .map(|_| ())
    }

    async fn send_for_id(
        &self,
        chat: i64,
        thread: Option<i32>,
        text: String,
        _format: Format,
        keyboard: Option<Keyboard>,
    ) -> Result<Option<i32>, SendError> {
        let mut messages = self.messages.lock().unwrap();
        let id = messages
            .keys()
            .max()
            .copied()
            .unwrap_or(0)
            .max(self.sends() as i32)
            + 1;
        let to = Target { chat, thread };
        messages.insert(
            id,
            Shown {
                to,
                text: text.clone(),
                edits: 0,
                labels: button_labels(keyboard.as_ref()),
                buttons: button_data(keyboard),
            },
        );
        self.log.lock().unwrap().push(("send", chat, text));
        Ok(Some(id))
    }

    async fn edit_text(
        &self,
        chat: i64,
        message_id: i32,
        text: String,
        _format: Format,
        keyboard: Option<Keyboard>,
    ) -> Result<Edited, SendError> {
        let mut messages = self.messages.lock().unwrap();
        let Some(shown) = messages.get_mut(&message_id).filter(|m| m.to.chat == chat) else {
            return Err(SendError::Rejected(
                "Bad Request: message to edit not found".into(),
            ));
        };
        if shown.text == text {
            return Ok(Edited::Unchanged);
        }
        shown.text = text.clone();
        shown.edits += 1;
        shown.labels = button_labels(keyboard.as_ref());
        shown.buttons = button_data(keyboard);
        self.log.lock().unwrap().push(("edit", chat, text));
        Ok(Edited::Changed)
    }
}

fn button_labels(keyboard: Option<&Keyboard>) -> Vec<String> {
    keyboard
        .into_iter()
        .flat_map(|k| k.rows.iter().flatten())
        .map(|b| b.label.clone())
        .collect()
}

fn button_data(keyboard: Option<Keyboard>) -> Vec<String> {
    keyboard
        .into_iter()
        .flat_map(|k| k.rows)
        .flatten()
        .map(|b| b.data)
        .collect()
}

fn item(n: u32, title: &str) -> Item {
    Item {
        id: format!("site/fnapr/{n}"),
        url: format!("https://site/fnapr/{n}"),
        title: title.to_string(),
        date: NaiveDate::from_ymd_opt(2023, 6, 10),
        lead: format!("The lead of release {n}."),
    }
}

const PRIVATE: i64 = 1_001;
const GROUP: i64 = -42;
const CHANNEL: i64 = -100_500;
const FORUM: i64 = -100_700;
const TOPIC: Target = Target {
    chat: FORUM,
    thread: Some(5),
};

/// A store where every kind of chat follows source `s`, which has been read once.
async fn subscribed(now: DateTime<Utc>) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    poll(&store, "s", &[item(1, "First")], now).await;
    for target in [
        Target::from(PRIVATE),
        Target::from(GROUP),
        Target::from(CHANNEL),
        TOPIC,
    ] {
        store.subscribe(target, None, now).await.unwrap();
    }
    (dir, store)
}

fn delivery(store: &Store, phone: &Phone, clock: Clock) -> Delivery<Phone> {
    Delivery::new(
        store.clone(),
        phone.clone(),
        Arc::new(Limiter::new(None)),
        4,
    )
    .with_clock(clock)
}

async fn pass(delivery: &Delivery<Phone>) {
    let (_trigger, shutdown) = Shutdown::new();
    delivery.deliver_pending(&shutdown).await.unwrap();
}

#[tokio::test]
async fn a_revised_title_edits_each_kind_of_chat_once_and_pushes_nothing_twice() {
    let now = Utc::now();
    let (_dir, store) = subscribed(now).await;
    let phone = Phone::default();
    let delivery = delivery(&store, &phone, Clock::system());
    poll(
        &store,
        "s",
        &[item(2, "Statement on Salisbury"), item(1, "First")],
        now,
    )
    .await;
    pass(&delivery).await;
    assert_eq!(phone.sends(), 4, "one push to each target");

    // Typography only: no revision, nothing edited.
    let typographic = item(2, "Statement  on\u{a0}Salisbury");
    let outcome = poll(&store, "s", &[typographic, item(1, "First")], now).await;
    assert_eq!((outcome.revised, outcome.edits_queued), (0, 0));

    let revised = item(2, "Statement on the Salisbury incident");
    let outcome = poll(&store, "s", &[revised, item(1, "First")], now).await;
    assert_eq!((outcome.revised, outcome.edits_queued), (1, 1));
    let (_trigger, shutdown) = Shutdown::new();
    let report = delivery.deliver_pending(&shutdown).await.unwrap();
    assert_eq!(report.edited, 4);
    assert_eq!(report.sent, 0, "no second push");
    assert_eq!(phone.sends(), 4);
    for target in [
        Target::from(PRIVATE),
        Target::from(GROUP),
        Target::from(CHANNEL),
        TOPIC,
    ] {
        let shown = phone.shown(target);
        assert_eq!(shown.len(), 1, "{target:?}");
        assert_eq!(shown[0].edits, 1, "{target:?} edited once");
        assert!(
            shown[0]
                .text
                .contains("Statement on the Salisbury incident")
        );
    }
    // The store keeps the new words, and what they replaced.
    let stored = store.item("site/fnapr/2").unwrap().unwrap();
    assert_eq!(stored.item.title, "Statement on the Salisbury incident");
    assert!(stored.revised_at.is_some());
    let history = store.revisions(stored.seq).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].title, "Statement  on\u{a0}Salisbury");
    assert_eq!(store.journal_count() + store.outbox_len(), 0);
    // A second pass has nothing more to do.
    pass(&delivery).await;
    assert_eq!(phone.log.lock().unwrap().len(), 8);
}

#[tokio::test]
async fn an_edited_push_keeps_its_full_text_button() {
    let now = Utc::now();
    let (_dir, store) = subscribed(now).await;
    let phone = Phone::default();
    let delivery = delivery(&store, &phone, Clock::system()).with_full_text_button(true);
    poll(&store, "s", &[item(2, "Statement"), item(1, "First")], now).await;
    pass(&delivery).await;
    let before = phone.shown(PRIVATE);
    assert_eq!(before[0].buttons.len(), 1, "the push offers its full text");

    poll(
        &store,
        "s",
        &[item(2, "Statement, corrected"), item(1, "First")],
        now,
    )
    .await;
    pass(&delivery).await;
    let after = phone.shown(PRIVATE);
    assert_eq!(after[0].edits, 1);
    // Telegram drops the buttons of a message edited without them.
    assert_eq!(after[0].buttons, before[0].buttons);
}

#[tokio::test]
async fn a_push_s_full_text_button_speaks_its_chat_s_language() {
    let now = Utc::now();
    let (_dir, store) = subscribed(now).await;
    store
        .change_settings(Target::from(GROUP), |s| {
            s.language = Some(embassy_bot::Language::Ru)
        })
        .await
        .unwrap();
    let phone = Phone::default();
    let delivery = delivery(&store, &phone, Clock::system()).with_full_text_button(true);
    poll(&store, "s", &[item(2, "Statement"), item(1, "First")], now).await;
    pass(&delivery).await;
    // Both went straight from the walk, each labelled in its chat's language.
    assert_eq!(phone.shown(GROUP)[0].labels, ["📄 Полный текст"]);
    assert_eq!(phone.shown(PRIVATE)[0].labels, ["📄 Full text"]);
}

#[tokio::test]
async fn new_news_goes_before_an_edit_and_a_release_s_history_is_bounded() {
    let now = Utc::now();
    let (_dir, store) = subscribed(now).await;
    let phone = Phone::default();
    let delivery = delivery(&store, &phone, Clock::system());
    poll(&store, "s", &[item(2, "Two"), item(1, "First")], now).await;
    pass(&delivery).await;
    // One read brings a new release and revises the one before.
    let read = [
        item(3, "Three"),
        item(2, "Two, corrected"),
        item(1, "First"),
    ];
    let outcome = poll(&store, "s", &read, now).await;
    assert_eq!((outcome.queued, outcome.edits_queued), (1, 1));
    pass(&delivery).await;
    let log = phone.log.lock().unwrap().clone();
    let private: Vec<_> = log.iter().filter(|e| e.1 == PRIVATE).collect();
    assert_eq!(private.len(), 3);
    assert_eq!(private[1].0, "send", "the new release first");
    assert!(private[1].2.contains("Three"));
    assert_eq!(private[2].0, "edit");
    assert!(private[2].2.contains("Two, corrected"));

    // Many corrections: only the last five earlier texts are kept.
    for n in 0..8 {
        let title = format!("Two, correction {n}");
        poll(
            &store,
            "s",
            &[item(3, "Three"), item(2, &title), item(1, "First")],
            now,
        )
        .await;
    }
    let seq = store.item("site/fnapr/2").unwrap().unwrap().seq;
    let history = store.revisions(seq).unwrap();
    assert_eq!(history.len(), 5);
    assert_eq!(history[4].title, "Two, correction 6");
}

#[tokio::test]
async fn a_deleted_message_ends_its_edit_quietly_and_one_already_right_is_done() {
    let now = Utc::now();
    let (_dir, store) = subscribed(now).await;
    let phone = Phone::default();
    let delivery = delivery(&store, &phone, Clock::system());
    poll(&store, "s", &[item(2, "Two"), item(1, "First")], now).await;
    pass(&delivery).await;
    phone.delete_all(GROUP);
    // The channel's message already shows the corrected words.
    let corrected = item(2, "Two, corrected");
    {
        let mut messages = phone.messages.lock().unwrap();
        let shown = messages
            .values_mut()
            .find(|m| m.to.chat == CHANNEL)
            .unwrap();
        shown.text = shown.text.replace("Two", "Two, corrected");
    }
    poll(&store, "s", &[corrected, item(1, "First")], now).await;
    let (_trigger, shutdown) = Shutdown::new();
    let report = delivery.deliver_pending(&shutdown).await.unwrap();
    assert_eq!(
        (
            report.edited,
            report.edits_not_needed,
            report.edits_given_up
        ),
        (2, 1, 1)
    );
    assert_eq!(report.chats_removed, 0, "the group stays subscribed");
    assert_eq!(store.subscriber_count(), 4);
    assert_eq!(store.journal_count(), 0);
    assert_eq!(phone.sends(), 4);
}

#[tokio::test]
async fn with_edits_off_nothing_is_queued_and_the_store_still_takes_the_new_words() {
    let now = Utc::now();
    let (_dir, store) = subscribed(now).await;
    let phone = Phone::default();
    let delivery = delivery(&store, &phone, Clock::system()).with_edits(None);
    poll(&store, "s", &[item(2, "Two"), item(1, "First")], now).await;
    pass(&delivery).await;
    assert_eq!(store.sent_count(), 0, "no message ids kept");
    let off = PollPolicy::unguarded().editing(false);
    let read = [item(2, "Two, corrected"), item(1, "First")];
    let outcome = store.record_poll("s", &read, &off, now).await.unwrap();
    assert_eq!((outcome.revised, outcome.edits_queued), (1, 0));
    assert_eq!(store.latest(1).unwrap()[0].item.title, "Two, corrected");
    assert_eq!(store.outbox_len(), 0);
}

// ---- digests and held pushes, on a test clock --------------------------------------

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_digest_is_written_again_whole_and_a_held_push_goes_out_revised() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    // 06:58 in London: two minutes of quiet left.
    let clock = Clock::starting_at(utc("2023-06-11T05:58:00Z"));
    let now = clock.now();
    poll(&store, "s", &[item(1, "First")], now).await;
    let (sleeper, late) = (7, 8);
    let quiet = embassy_bot::QuietHours {
        from: embassy_bot::parse_time("23:00").unwrap(),
        to: embassy_bot::parse_time("07:00").unwrap(),
        zone: chrono_tz::Europe::London,
    };
    for chat in [sleeper, late] {
        store.subscribe(chat, None, now).await.unwrap();
        store
            .change_settings(Target::from(chat), |s| s.quiet = Some(quiet))
            .await
            .unwrap();
    }
    let phone = Phone::default();
    let delivery = delivery(&store, &phone, clock);
    let read = [item(3, "Three"), item(2, "Two"), item(1, "First")];
    poll(&store, "s", &read, now).await;
    pass(&delivery).await;
    assert_eq!(phone.sends(), 0, "held for the quiet hours");
    // Revised while held: it goes out in its new words, nothing to edit.
    let read = [
        item(3, "Three"),
        item(2, "Two, corrected"),
        item(1, "First"),
    ];
    poll(&store, "s", &read, now).await;
    pass(&delivery).await;
    assert_eq!(phone.sends(), 0);
    tokio::time::advance(Duration::from_secs(180)).await;
    pass(&delivery).await;
    let digest = phone.shown(sleeper);
    assert_eq!(digest.len(), 1, "one digest");
    assert!(digest[0].text.contains("Two, corrected") && digest[0].text.contains("Three"));
    assert_eq!(digest[0].edits, 0);

    // A release in the digest is revised: the digest is written again,
    // header and the other release included.
    let read = [
        item(3, "Three, corrected"),
        item(2, "Two, corrected"),
        item(1, "First"),
    ];
    poll(&store, "s", &read, clock.now()).await;
    pass(&delivery).await;
    let digest = phone.shown(sleeper);
    assert_eq!(digest.len(), 1);
    assert_eq!(digest[0].edits, 1);
    assert!(
        digest[0].text.contains("Three, corrected") && digest[0].text.contains("Two, corrected")
    );
    assert!(digest[0].text.starts_with("🗞"), "{}", digest[0].text);
    assert_eq!(phone.sends(), 2, "nothing pushed twice");
    let _ = late;
}

#[tokio::test]
async fn more_revisions_in_one_read_than_the_flood_guard_allows_edit_nothing() {
    let now = Utc::now();
    let (_dir, store) = subscribed(now).await;
    let read: Vec<Item> = (1..=3)
        .rev()
        .map(|n| item(n, &format!("Release {n}")))
        .collect();
    poll(&store, "s", &read, now).await;
    // A new layout rewords every title at once: not corrections.
    let guard = PollPolicy::new(2, 36_500, now.date_naive());
    let reworded: Vec<Item> = (1..=3)
        .rev()
        .map(|n| item(n, &format!("Release number {n}")))
        .collect();
    let outcome = store
        .record_poll("s", &reworded, &guard, now)
        .await
        .unwrap();
    assert_eq!((outcome.revised, outcome.edits_queued), (3, 0));
    // Two at once are corrections, and are edited.
    let two: Vec<Item> = (1..=3)
        .rev()
        .map(|n| match n {
            3 => item(n, "Release number 3"),
            _ => item(n, &format!("Release no. {n}")),
        })
        .collect();
    let outcome = store.record_poll("s", &two, &guard, now).await.unwrap();
    assert_eq!((outcome.revised, outcome.edits_queued), (2, 2));
}
