//! Crash safety of the fan-out: the bot is killed with SIGKILL several times in
//! the middle of pushing one release to thousands of chats. After the last
//! restart every chat has its copy, and the only repeats are sends that were in
//! flight at a kill (one per concurrently served chat), plus fan-out log records
//! not yet written and journal completions not yet flushed (delivery holds
//! those to half as many each, and at Telegram's rate writes each at once).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::Utc;
use embassy_bot::Store;
use url::Url;

use crate::support::site::FakeSite;
use crate::support::telegram::FakeTelegram;
use crate::support::{BotProcess, extract_at, fixture, poll, write_config};

const CHATS: i64 = 3_000;
const KILLS: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_a_fan_out_loses_nothing() {
    let telegram = FakeTelegram::start().await;
    // Every answer takes a little while, so a fan-out lasts long enough to be interrupted.
    telegram.set_send_delay(Duration::from_millis(15));
    let site = FakeSite::start(fixture("rusemb/home-2022-05-23.html")).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &telegram.url, &site.url, 3_600);

    // Thousands of subscribers, and the 21 May page already read, straight into the store.
    subscribe_and_read(&dir.path().join("data"), &site, CHATS).await;

    // The bot sees the 23 May page (one new release) and starts fanning out;
    // kill it at several points of the fan-out.
    let total = CHATS as usize;
    for kill in 1..=KILLS {
        let bot = BotProcess::spawn(&config, &format!("bot{kill}.log"));
        kill_at(bot, &telegram, kill * total / (KILLS + 1)).await;
    }
    let bot = BotProcess::spawn(&config, "bot-final.log");
    every_chat_gets_it(&telegram, CHATS, &bot, Duration::from_secs(90)).await;
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

/// SIGKILLs `bot` as soon as the fake Telegram has taken `sends` messages in all.
async fn kill_at(bot: BotProcess, telegram: &FakeTelegram, sends: usize) {
    let start = Instant::now();
    while telegram.sent_count() < sends {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the fan-out stalled at {} sends; log:\n{}",
            telegram.sent_count(),
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
async fn every_chat_gets_it(
    telegram: &FakeTelegram,
    chats: i64,
    bot: &BotProcess,
    within: Duration,
) {
    let start = Instant::now();
    loop {
        let copies = copies_per_chat(telegram);
        if (1..=chats).all(|chat| copies.get(&chat).copied().unwrap_or(0) >= 1) {
            return;
        }
        assert!(
            start.elapsed() < within,
            "{} of {chats} chats still lack the release; log:\n{}",
            (1..=chats).filter(|c| !copies.contains_key(c)).count(),
            bot.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Kills a bot fanning out at Telegram's rate this many times.
const THROTTLED_KILLS: usize = 10;
/// Sends between two kills at 30 a second (a little under a second).
const SENDS_BETWEEN_KILLS: usize = 25;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_telegrams_rate_a_kill_repeats_only_the_sends_in_flight() {
    let telegram = FakeTelegram::start().await;
    // About what Telegram takes to answer from nearby.
    telegram.set_send_delay(Duration::from_millis(15));
    let site = FakeSite::start(fixture("rusemb/home-2022-05-23.html")).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &telegram.url, &site.url, 3_600);
    let throttled = std::fs::read_to_string(&config)
        .unwrap()
        .replace("throttle = false", "throttle = true\nmessages_per_sec = 30");
    std::fs::write(&config, throttled).unwrap();
    let chats = ((THROTTLED_KILLS + 1) * SENDS_BETWEEN_KILLS) as i64;
    subscribe_and_read(&dir.path().join("data"), &site, chats).await;

    for kill in 1..=THROTTLED_KILLS {
        let bot = BotProcess::spawn(&config, &format!("bot{kill}.log"));
        let target = telegram.sent_count() + SENDS_BETWEEN_KILLS;
        kill_at(bot, &telegram, target).await;
    }
    let bot = BotProcess::spawn(&config, "bot-final.log");
    every_chat_gets_it(&telegram, chats, &bot, Duration::from_secs(60)).await;
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
