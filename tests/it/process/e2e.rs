//! The built binary against a fake Telegram Bot API and a fake site, both on
//! loopback: commands, pushes, restarts, failures.

use std::time::Duration;

use chrono::Utc;
use embassy_bot::Config;
use embassy_bot::Language;
use embassy_bot::testing::text::markup::to_plain;

use crate::support::site::FakeSite;
use crate::support::telegram::{BOT_USERNAME, FakeTelegram, Fault, Status};
use crate::support::{ADMIN, Bot, TestBot, fixture, page_with_extra_item};

const WAIT: Duration = Duration::from_secs(20);
const NEW_TITLE: &str =
    "Embassy comment on the “Salisbury incident” questions & the British authorities’ <silence>";

/// Starts fakes and the bot on `page`, and waits until the first read of the
/// site is recorded; the fakes are cloned out for the test's convenience.
async fn start(page: &[u8]) -> (FakeTelegram, FakeSite, Bot) {
    let bot = TestBot::new().page(page.to_vec()).start().await;
    (bot.telegram.clone(), bot.site.clone(), bot)
}

/// Waits until each chat has received at least `count` pushes.
async fn wait_for_pushes(bot: &Bot, chats: &[i64], count: usize) {
    let what = format!("each of {chats:?} gets at least {count} pushes");
    bot.until(&what, |t| {
        chats.iter().all(|&chat| t.pushes_to(chat).len() >= count)
    })
    .await;
}

/// Asks `command` and returns the reply with what `reply` gives at both ends of
/// the request (a clock may tick over a minute or midnight meanwhile).
async fn ask_around(
    telegram: &FakeTelegram,
    user: i64,
    command: &str,
    reply: impl Fn(chrono::DateTime<Utc>) -> String,
) -> (String, Vec<String>) {
    let before = Utc::now();
    let got = telegram.ask(user, command).await.text;
    let after = Utc::now();
    (got, vec![reply(before), reply(after)])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_pushes_and_restart() {
    let (telegram, site, mut bot) = start(&fixture("rusemb/home-2022-05-21.html")).await;
    let (alice, bob, carol, dave, group) = (1001, 1002, 1003, 1004, -5003);

    // The command menu was registered.
    let menu = telegram.commands().expect("setMyCommands was called");
    let names: Vec<_> = menu
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["command"].as_str().unwrap().to_string())
        .collect();
    for name in [
        "latest",
        "subscribe",
        "unsubscribe",
        "contact",
        "time",
        "counters",
        "help",
    ] {
        assert!(names.contains(&name.to_string()), "{names:?}");
    }

    let start = telegram.ask(alice, "/start").await;
    assert_eq!(start.parse_mode.as_deref(), Some("HTML"));
    for command in [
        "/latest",
        "/subscribe",
        "/unsubscribe",
        "/contact",
        "/time",
        "/counters",
    ] {
        assert!(start.text.contains(command), "{}", start.text);
    }
    assert_eq!(telegram.ask(alice, "/help").await.text, start.text);

    let latest = telegram.ask(alice, "/latest").await.text;
    assert!(latest.starts_with("<b>Latest 5 releases</b>"), "{latest}");
    let titles = [
        "Embassy comment on recent accusations against Russia",
        "Maria Zakharova’s comment on &quot;Russian threat to food security&quot;",
        "withdrawal of the Russian Federation from the Council of the Baltic Sea States",
        "Ambassador Andrei Kelin laid a wreath",
        "Address by the President of Russia",
    ];
    let positions: Vec<usize> = titles
        .iter()
        .map(|t| latest.find(t).unwrap_or_else(|| panic!("{t} in {latest}")))
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "newest first: {positions:?}"
    );
    assert!(latest.contains("<i>20.05.2022</i>"), "{latest}");
    assert!(
        latest.contains(&format!("<a href=\"{}fnapr/7153\">", site.url)),
        "{latest}"
    );
    assert!(
        !latest.contains("Lavrov’s answer"),
        "the January item is older than the top 5"
    );
    assert_eq!(
        telegram
            .ask(alice, "/latest 2")
            .await
            .text
            .matches("Read on the site")
            .count(),
        2
    );
    assert!(
        telegram
            .ask(alice, "/latest 99")
            .await
            .text
            .contains("from 1 to 20")
    );
    assert!(
        telegram
            .ask(alice, "/latest many")
            .await
            .text
            .starts_with("Usage: /latest")
    );

    assert!(
        telegram
            .ask(alice, "/subscribe")
            .await
            .text
            .starts_with("Subscribed")
    );
    assert!(
        telegram
            .ask(alice, "/subscribe")
            .await
            .text
            .contains("already subscribed")
    );
    assert!(
        telegram
            .ask(bob, "/subscribe")
            .await
            .text
            .starts_with("Subscribed")
    );
    assert!(
        telegram
            .ask(carol, "/subscribe")
            .await
            .text
            .starts_with("Subscribed")
    );
    assert!(
        telegram
            .ask(carol, "/unsubscribe")
            .await
            .text
            .starts_with("Unsubscribed")
    );
    assert!(
        telegram
            .ask(carol, "/unsubscribe")
            .await
            .text
            .contains("not subscribed")
    );
    telegram.set_member(group, 77, Status::Creator);
    telegram.group_says(group, 77, &format!("/subscribe@{BOT_USERNAME}"));
    assert!(
        telegram.wait_for(group, 1, WAIT).await[0]
            .text
            .starts_with("Subscribed")
    );

    let (time, expected) = ask_around(&telegram, dave, "/time", |t| {
        embassy_bot::testing::commands::time::reply(t, &Config::default().time, Language::En)
    })
    .await;
    assert!(expected.contains(&time), "{time} not in {expected:?}");

    let (counters, expected) = ask_around(&telegram, dave, "/counters", |t| {
        embassy_bot::testing::commands::counters::reply(
            t,
            &Config::default().counters,
            Language::En,
        )
    })
    .await;
    assert!(
        expected.contains(&counters),
        "{counters} not in {expected:?}"
    );
    assert!(counters.contains("days have passed since the Salisbury incident"));

    let contact = telegram.ask(dave, "/contact").await.text;
    assert!(contact.contains("Phone: +44 (0) 203 161 8868"), "{contact}");
    assert!(contact.contains("E-mail: info@rusemb.org.uk"), "{contact}");
    assert!(contact.contains("As shown on the site"), "{contact}");

    // Another bot's command is ignored; the next reply belongs to the next command.
    telegram.user_says(dave, "/latest@some_other_bot");
    assert!(
        telegram
            .ask(dave, "/frobnicate")
            .await
            .text
            .contains("I don't know /frobnicate")
    );
    assert!(
        telegram
            .ask(dave, "hello there")
            .await
            .text
            .contains("/help")
    );
    // In a group, unaddressed unknown commands and chatter are left to others.
    let group_before = telegram.sent_to(group).len();
    telegram.group_says(group, 77, "/frobnicate");
    telegram.group_says(group, 77, "just chatting");
    telegram.group_says(group, 77, "/time");
    let group_msgs = telegram.wait_for(group, group_before + 1, WAIT).await;
    assert!(
        group_msgs[group_before].text.contains("Moscow:"),
        "{:?}",
        group_msgs[group_before]
    );

    // Nobody was pushed anything for what the first read found.
    for chat in [alice, bob, carol, dave, group] {
        assert!(
            telegram.pushes_to(chat).is_empty(),
            "chat {chat} got a push for old items"
        );
    }

    // The site publishes a new release.
    site.set_page(fixture("rusemb/home-2022-05-23.html"));
    wait_for_pushes(&bot, &[alice, bob, group], 1).await;
    let hits = site.hits();
    site.wait_for_hits(hits, 2, WAIT).await;
    for chat in [alice, bob, group] {
        let got = telegram.pushes_to(chat);
        assert_eq!(got.len(), 1, "chat {chat}: {got:#?}");
        let html = &got[0];
        assert!(
            html.contains("questions &amp; the British authorities’ &lt;silence&gt;"),
            "{html}"
        );
        assert!(to_plain(html).contains(NEW_TITLE), "{}", to_plain(html));
        assert!(
            html.contains(&format!("<a href=\"{}fnapr/7160\">", site.url)),
            "{html}"
        );
        assert!(html.contains("<i>23.05.2022</i>"), "{html}");
    }
    assert!(telegram.pushes_to(carol).is_empty() && telegram.pushes_to(dave).is_empty());
    let push = telegram
        .sent_to(alice)
        .into_iter()
        .find(|m| m.text.starts_with("🆕"))
        .unwrap();
    assert_eq!(push.parse_mode.as_deref(), Some("HTML"));
    assert!(
        telegram
            .ask(dave, "/latest 1")
            .await
            .text
            .contains("&lt;silence&gt;")
    );

    // docker stop: SIGTERM → clean exit 0.
    bot.stop_cleanly().await;

    // After a restart nothing is sent again, and subscriptions are still there.
    let polls = telegram.calls("getUpdates");
    bot.respawn("bot2.log").await;
    bot.until("the bot polling again", |t| t.calls("getUpdates") > polls)
        .await;
    let hits = site.hits();
    site.wait_for_hits(hits, 2, WAIT).await;
    for chat in [alice, bob, group] {
        assert_eq!(
            telegram.pushes_to(chat).len(),
            1,
            "chat {chat} got a push again after restart"
        );
    }
    assert!(
        telegram
            .ask(alice, "/subscribe")
            .await
            .text
            .contains("already subscribed")
    );

    // And what is new after the restart still arrives, once.
    site.set_page(page_with_extra_item());
    wait_for_pushes(&bot, &[alice, bob, group], 2).await;
    let hits = site.hits();
    site.wait_for_hits(hits, 1, WAIT).await;
    for chat in [alice, bob, group] {
        let got = telegram.pushes_to(chat);
        assert_eq!(got.len(), 2, "chat {chat}: {got:#?}");
        assert!(got[1].contains("Embassy statement on a later day"));
    }
    bot.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_faults_and_pending_pushes_across_restart() {
    let (telegram, site, mut bot) = start(&fixture("rusemb/home-2022-05-21.html")).await;
    let (ok, blocked, failing, dropped, flooded, group, supergroup) =
        (2001, 2002, 2003, 2005, 2006, -2004, -1_002_004);
    let (not_found, slow) = (2007, 2008);
    for user in [ok, blocked, failing, dropped, flooded, not_found, slow] {
        assert!(
            telegram
                .ask(user, "/subscribe")
                .await
                .text
                .starts_with("Subscribed")
        );
    }
    telegram.set_member(group, 9, Status::Admin { can_post: false });
    telegram.set_member(supergroup, 9, Status::Admin { can_post: false });
    telegram.group_says(group, 9, "/subscribe");
    telegram.wait_for(group, 1, WAIT).await;

    telegram.fail_next(
        blocked,
        Fault::Error(403, "Forbidden: bot was blocked by the user"),
    );
    for _ in 0..10_000 {
        telegram.fail_next(failing, Fault::Error(500, "Internal Server Error"));
    }
    telegram.fail_next(group, Fault::MigrateTo(supergroup));
    telegram.fail_next(dropped, Fault::Drop);
    telegram.fail_next(flooded, Fault::RetryAfter(1));
    telegram.fail_next(not_found, Fault::Error(400, "Bad Request: chat not found"));
    telegram.fail_next(slow, Fault::Delay(Duration::from_secs(4)));

    site.set_page(fixture("rusemb/home-2022-05-23.html"));
    // A slow answer for one chat holds up nobody else.
    wait_for_pushes(&bot, &[ok, flooded], 1).await;
    assert!(
        telegram.pushes_to(slow).is_empty(),
        "the slow chat's answer is still on its way"
    );
    wait_for_pushes(&bot, &[ok, supergroup, dropped, flooded, slow], 1).await;
    for chat in [ok, supergroup, dropped, flooded, slow] {
        assert_eq!(telegram.pushes_to(chat).len(), 1, "chat {chat}");
    }
    assert!(
        telegram.pushes_to(group).is_empty(),
        "the old group id gets nothing"
    );
    assert!(telegram.pushes_to(blocked).is_empty());
    assert!(telegram.pushes_to(failing).is_empty());
    assert!(telegram.pushes_to(not_found).is_empty());
    // Blocked and vanished chats were unsubscribed; the migrated group is
    // subscribed under its new id; operators see the count.
    for gone in [blocked, not_found] {
        assert!(
            telegram
                .ask(gone, "/unsubscribe")
                .await
                .text
                .contains("not subscribed"),
            "chat {gone}"
        );
    }
    telegram.group_says(supergroup, 9, "/subscribe");
    let reply = telegram.wait_for(supergroup, 2, WAIT).await;
    assert!(reply[1].text.contains("already subscribed"), "{reply:?}");
    let status = telegram.ask(ADMIN, "/status").await.text;
    assert!(
        status.contains("Chats removed (blocked, kicked, gone): 2")
            && status.contains("Groups moved to a supergroup: 1"),
        "{status}"
    );

    // Stop while the failing chat's push is still owed; it must survive the restart.
    bot.stop_cleanly().await;
    telegram.clear_faults();
    bot.respawn("bot2.log").await;
    wait_for_pushes(&bot, &[failing], 1).await;
    assert!(telegram.pushes_to(failing)[0].contains("&lt;silence&gt;"));
    let hits = site.hits();
    site.wait_for_hits(hits, 1, WAIT).await;
    for chat in [ok, supergroup, dropped, flooded, slow, failing] {
        assert_eq!(
            telegram.pushes_to(chat).len(),
            1,
            "chat {chat} after restart"
        );
    }
    bot.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_instance_on_the_same_data_is_refused() {
    let (telegram, _site, mut bot) = start(&fixture("rusemb/home-2022-05-21.html")).await;
    let second = bot.spawn_another("second.log");
    let (code, log) = second.wait_exit(WAIT).await;
    assert_eq!(code, Some(1), "{log}");
    assert!(
        log.contains("in use by another embassy-bot process"),
        "{log}"
    );
    // The first instance is unharmed.
    assert!(
        telegram
            .ask(1, "/latest 1")
            .await
            .text
            .contains("Read on the site")
    );
    bot.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_site_records_nothing_until_it_recovers() {
    let site = FakeSite::start(Vec::new()).await;
    site.set_status(500, "oops");
    let mut bot = TestBot::new().site(site.clone()).spawn().await;
    let telegram = bot.telegram.clone();
    bot.until("the bot polling", |t| t.calls("getUpdates") >= 1)
        .await;
    assert!(
        telegram
            .ask(3001, "/subscribe")
            .await
            .text
            .starts_with("Subscribed")
    );
    site.wait_for_hits(0, 1, WAIT).await;
    assert!(
        telegram
            .ask(3001, "/latest")
            .await
            .text
            .starts_with("No releases recorded yet")
    );
    let contact = telegram.ask(3001, "/contact").await.text;
    assert!(
        contact.contains("+44 (0) 203 161 8858") && contact.contains("configuration"),
        "{contact}"
    );

    // Garbage with status 200: still nothing recorded, nothing announced.
    site.set_page(b"\x00\x9f\x92\x96 not a page <<<".to_vec());
    let hits = site.hits();
    site.wait_for_hits(hits, 1, WAIT).await;
    assert!(
        telegram
            .ask(3001, "/latest")
            .await
            .text
            .starts_with("No releases recorded yet")
    );
    assert_eq!(
        site.user_agent().as_deref(),
        Some(concat!("embassy-bot/", env!("CARGO_PKG_VERSION")))
    );
    let status = telegram.ask(ADMIN, "/status").await.text;
    assert!(status.contains("Last good read: never"), "{status}");
    assert!(
        status.contains("Last error: ") && status.contains("no releases found"),
        "{status}"
    );
    assert!(
        telegram
            .ask(3001, "/status")
            .await
            .text
            .contains("for the bot's operators")
    );

    // Recovery: the first good read is recorded silently.
    site.set_page(fixture("rusemb/home-2022-05-21.html"));
    bot.wait_until_read().await;
    let hits = site.hits();
    site.wait_for_hits(hits, 1, WAIT).await;
    assert!(
        telegram.pushes_to(3001).is_empty(),
        "old items must not be pushed"
    );
    let status = telegram.ask(ADMIN, "/status").await.text;
    assert!(
        status.contains("Releases stored: 11") && status.contains("Subscribers: 1"),
        "{status}"
    );
    assert!(!status.contains("Last good read: never"), "{status}");
    // The test config turns throttling off: /status says the rate is free.
    assert!(status.contains("Send rate: not limited"), "{status}");
    bot.stop_cleanly().await;
}

/// Runs `embassy-bot preview URL` off the runtime, so the fake site keeps serving.
async fn preview(url: &str) -> (Option<i32>, String, String) {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || crate::support::run_binary(&["preview", &url], &[]))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_reads_a_url_without_a_token() {
    let site = FakeSite::start(fixture("rusemb/home-2022-05-21.html")).await;
    let (code, stdout, stderr) = preview(&site.url).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("11 releases"), "{stdout}");
    assert!(
        stdout.contains(&format!("({}fnapr/7153)", site.url)),
        "{stdout}"
    );
    assert!(stdout.contains("E-mail: info@rusemb.org.uk"), "{stdout}");
    assert_eq!(site.hits(), 1);

    site.set_status(503, "down");
    let (code, _, stderr) = preview(&site.url).await;
    assert_eq!(code, Some(1));
    assert!(stderr.contains("HTTP status 503"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_telegram_rejects_stops_the_start() {
    let mut bot = TestBot::new().token("999:revoked-token").spawn().await;
    let (code, log) = bot.wait_exit().await;
    assert_eq!(code, Some(1), "{log}");
    assert!(log.contains("Telegram rejected the bot token"), "{log}");
    assert!(
        !log.contains("revoked-token"),
        "the token must not be logged: {log}"
    );
    assert!(!log.contains("panicked"), "{log}");
}

/// SIGTERM at any moment after the bot connects stops it cleanly, even while
/// it answers a command or its dispatcher is still starting: teloxide's own
/// shutdown token can miss its wake-up then, and the bot would wait for an
/// update that never comes (seen under load as "did not exit within 10 s").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_at_any_moment_after_connecting_stops_the_bot() {
    let telegram = FakeTelegram::start().await;
    let mut bot = TestBot::new()
        .telegram(telegram.clone())
        .interval(60)
        .log("bot-0.log")
        .spawn()
        .await;
    for round in 0..16u64 {
        if round > 0 {
            // Counted before the start: the new process's getMe comes after.
            let asked = telegram.calls("getMe");
            bot.respawn(&format!("bot-{round}.log")).await;
            bot.until("the bot connected", |t| t.calls("getMe") > asked)
                .await;
        } else {
            bot.until("the bot connected", |t| t.calls("getMe") > 0)
                .await;
        }
        // Commands in flight at odd moments, then the signal. (The sleep
        // spreads the signal's moment; it proves nothing by itself.)
        telegram.user_says(7_000 + round as i64, "/time");
        tokio::time::sleep(Duration::from_millis(round * 15)).await;
        telegram.user_says(7_100 + round as i64, "/help");
        bot.stop_cleanly().await;
    }
}
