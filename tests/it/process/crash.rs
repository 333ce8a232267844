//! Crash safety of the fan-out: the bot is killed with SIGKILL several times in
//! the middle of pushing one release to thousands of chats. After the last
//! restart every chat has its copy, and the only repeats are sends that were in
//! flight at a kill (one per concurrently served chat), plus fan-out log records
//! not yet written and journal completions not yet flushed (delivery holds
//! those to half as many each, and at Telegram's rate writes each at once).

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use embassy_bot::Store;
use url::Url;

use crate::support::site::FakeSite;
use crate::support::telegram::BOUND;
use crate::support::telegram::FakeTelegram;
use crate::support::{Bot, TestBot, extract_at, fixture, poll};

const CHATS: i64 = 3_000;
const KILLS: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_a_fan_out_loses_nothing() {
    let mut bot = TestBot::new()
        .page(fixture("rusemb/home-2022-05-23.html"))
        .interval(3_600)
        .files()
        .await;
    let telegram = bot.telegram.clone();
    // Every answer takes a little while, so a fan-out lasts long enough to be interrupted.
    telegram.set_send_delay(Duration::from_millis(15));

    // Thousands of subscribers, and the 21 May page already read, straight into the store.
    subscribe_and_read(&bot.data_dir(), &bot.site, CHATS).await;

    // The bot sees the 23 May page (one new release) and starts fanning out;
    // kill it at several points of the fan-out.
    let total = CHATS as usize;
    for kill in 1..=KILLS {
        bot.respawn(&format!("bot{kill}.log")).await;
        kill_at(&mut bot, kill * total / (KILLS + 1)).await;
    }
    bot.respawn("bot-final.log").await;
    every_chat_gets_it(&bot, CHATS).await;
    bot.stop_cleanly().await;

    let copies = copies_per_chat(&telegram);
    let repeats: usize = copies.values().map(|n| n - 1).sum();
    // The config leaves `send_concurrency` at its default: at most this many
    // sends are in flight.
    let in_flight = embassy_bot::Config::default().telegram.send_concurrency;
    eprintln!("{repeats} repeated sends after {KILLS} kills");
    assert!(
        repeats <= KILLS * 2 * in_flight,
        "{repeats} repeated sends after {KILLS} kills; the bound is {} (2 x {in_flight} per kill)",
        KILLS * 2 * in_flight
    );
    assert!(copies.keys().all(|chat| (1..=CHATS).contains(chat)));
    // One release only, and it is the new one.
    assert!(
        telegram
            .sent()
            .iter()
            .all(|m| m.text.contains("/fnapr/7160"))
    );
}

/// SIGKILLs `bot` once the fake Telegram has taken `sends` messages in all.
/// Polled every 2 ms, not woken by the fake ([`Bot::until`]): woken, the kill
/// would land just as a send is answered, every time (the worst moment: that
/// send is repeated); a poll lands anywhere, as a crash does.
async fn kill_at(bot: &mut Bot, sends: usize) {
    let deadline = tokio::time::Instant::now() + BOUND;
    while bot.telegram.sent_count() < sends {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the fan-out stalled at {} sends; log:\n{}",
            bot.telegram.sent_count(),
            bot.log()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    bot.kill().await;
}

/// How many pushes each chat received.
fn copies_per_chat(telegram: &FakeTelegram) -> HashMap<i64, usize> {
    let mut copies = HashMap::new();
    for message in telegram.sent() {
        *copies.entry(message.chat_id).or_insert(0) += 1;
    }
    copies
}

/// Subscribes chats `1..=chats` and records the 21 May page as read, straight
/// into the store at `data`: the bot will find the 23 May page's release new.
async fn subscribe_and_read(data: &std::path::Path, site: &FakeSite, chats: i64) {
    let store = Store::open(data).unwrap();
    let now = Utc::now();
    let subscribing = (1..=chats).map(|chat| {
        let store = store.clone();
        async move { store.subscribe(chat, None, now).await.unwrap() }
    });
    futures::future::join_all(subscribing).await;
    let page = extract_at(
        "rusemb/home-2022-05-21.html",
        &Url::parse(&site.url).unwrap(),
    );
    poll(&store, "fake", &page.items, now).await;
    store.flush().await.unwrap();
}

/// Waits until every chat in `1..=chats` has the release.
async fn every_chat_gets_it(bot: &Bot, chats: i64) {
    bot.until("every chat has the release", |t| {
        let copies = copies_per_chat(t);
        (1..=chats).all(|chat| copies.get(&chat).copied().unwrap_or(0) >= 1)
    })
    .await;
}

/// Kills a bot fanning out at Telegram's rate this many times.
const THROTTLED_KILLS: usize = 10;
/// Sends between two kills at 30 a second (a little under a second).
const SENDS_BETWEEN_KILLS: usize = 25;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_telegrams_rate_a_kill_repeats_only_the_sends_in_flight() {
    let mut bot = TestBot::new()
        .page(fixture("rusemb/home-2022-05-23.html"))
        .interval(3_600)
        .replace("throttle = false", "throttle = true\nmessages_per_sec = 30")
        .files()
        .await;
    let telegram = bot.telegram.clone();
    // About what Telegram takes to answer from nearby.
    telegram.set_send_delay(Duration::from_millis(15));
    let chats = ((THROTTLED_KILLS + 1) * SENDS_BETWEEN_KILLS) as i64;
    subscribe_and_read(&bot.data_dir(), &bot.site, chats).await;

    for kill in 1..=THROTTLED_KILLS {
        bot.respawn(&format!("bot{kill}.log")).await;
        let target = telegram.sent_count() + SENDS_BETWEEN_KILLS;
        kill_at(&mut bot, target).await;
    }
    bot.respawn("bot-final.log").await;
    every_chat_gets_it(&bot, chats).await;
    bot.stop_cleanly().await;

    let copies = copies_per_chat(&telegram);
    let repeats: usize = copies.values().map(|n| n - 1).sum();
    let per_kill = repeats as f64 / THROTTLED_KILLS as f64;
    eprintln!(
        "{repeats} repeated sends after {THROTTLED_KILLS} kills at 30/s ({per_kill:.1} per kill)"
    );
    assert!(
        per_kill <= 3.0,
        "{repeats} repeated sends after {THROTTLED_KILLS} kills at 30 messages a second: more than the sends in flight"
    );
    assert!(copies.keys().all(|chat| (1..=chats).contains(chat)));
}
