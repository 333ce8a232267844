//! Revisions, against the real binary and the fake Bot API: a release the
//! site corrects after it was pushed has its messages edited in place in a
//! private chat, a group and a channel, once each and with nothing pushed a
//! second time, and `/latest` shows the corrected words; killed with SIGKILL
//! in the middle of the edits, the bot edits every message once all the same.
//! The same in-process, digests and forum topics included: `library/edits.rs`.

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use embassy_bot::{Store, Target};

use crate::support::site::FakeSite;
use crate::support::{TestBot, poll, release_page};

const PRIVATE: i64 = 1_001;
const GROUP: i64 = -42;
const CHANNEL: i64 = -100_500;

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2022, 5, 23).unwrap()
}

/// The site's list page with release 7001 under `title` (and an older one).
fn page(title: &str) -> String {
    release_page(&[(7001, day(), title), (7000, day(), "An older release")])
}

/// Subscribes `chats` and records the page without release 7001 as read,
/// as the bot configured by `config` reads it.
async fn prepare(config: &std::path::Path, site: &FakeSite, chats: &[Target]) {
    let config = embassy_bot::Config::load(Some(config)).unwrap();
    let store = Store::open(&config.data_dir).unwrap();
    let now = Utc::now();
    for chat in chats {
        store.subscribe(*chat, None, now).await.unwrap();
    }
    let base = url::Url::parse(&site.url).unwrap();
    let older = release_page(&[(7000, day(), "An older release")]);
    let items = embassy_bot::extract(&config.sources[0], &older, &base)
        .unwrap()
        .items;
    poll(&store, "fake", &items, now).await;
    store.flush().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_edits_a_private_chat_a_group_and_a_channel_and_latest_shows_the_correction() {
    let mut bot = TestBot::new()
        .page(page("Statement on Salisbury"))
        .files()
        .await;
    let chats = [PRIVATE, GROUP, CHANNEL].map(Target::from);
    prepare(&bot.config, &bot.site, &chats).await;
    bot.respawn("bot.log").await;
    bot.until("one push each", |t| {
        [PRIVATE, GROUP, CHANNEL]
            .iter()
            .all(|c| t.pushes_to(*c).len() == 1)
    })
    .await;
    bot.site
        .set_page(page("Statement on the Salisbury incident"));
    bot.until("every message edited", |t| t.edits().len() >= 3)
        .await;
    let telegram = &bot.telegram;
    for chat in [PRIVATE, GROUP, CHANNEL] {
        let sent = telegram.sent_to(chat);
        assert_eq!(sent.len(), 1, "no second push to {chat}");
        assert!(
            sent[0].text.contains("Statement on the Salisbury incident"),
            "{}",
            sent[0].text
        );
    }
    let latest = telegram.ask(PRIVATE, "/latest").await;
    assert!(
        latest.text.contains("Statement on the Salisbury incident"),
        "{}",
        latest.text
    );
    assert!(!latest.text.contains("Statement on Salisbury"));
    assert_eq!(telegram.edits().len(), 3, "each message edited once");
    bot.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_in_the_middle_of_the_edits_edits_every_message_and_pushes_nothing_twice() {
    const CHATS: i64 = 600;
    let mut bot = TestBot::new()
        .page(page("Statement on Salisbury"))
        .files()
        .await;
    let telegram = bot.telegram.clone();
    let chats: Vec<Target> = (1..=CHATS).map(Target::from).collect();
    prepare(&bot.config, &bot.site, &chats).await;
    bot.respawn("bot1.log").await;
    bot.until("every chat pushed", |t| t.sent_count() >= CHATS as usize)
        .await;
    // Answers slow down, so the edits last long enough to be interrupted.
    telegram.set_send_delay(Duration::from_millis(10));
    bot.site
        .set_page(page("Statement on the Salisbury incident"));
    bot.until("edits under way", |t| t.edits().len() >= CHATS as usize / 3)
        .await;
    bot.kill().await;
    let at_kill = telegram.edits().len();
    assert!(
        at_kill < CHATS as usize,
        "killed before the end ({at_kill})"
    );
    bot.respawn("bot2.log").await;
    bot.until("every message edited", |t| {
        t.sent()
            .iter()
            .all(|m| m.text.contains("Statement on the Salisbury incident"))
    })
    .await;
    bot.stop_cleanly().await;
    assert_eq!(
        telegram.sent_count(),
        CHATS as usize,
        "nothing pushed twice"
    );
    // Each message changed once; an edit repeated after the kill found it
    // changed already ("message is not modified").
    assert_eq!(telegram.edits().len(), CHATS as usize);
    eprintln!(
        "{} editMessageText calls for {CHATS} messages across one kill",
        telegram.calls("editMessageText")
    );
}
