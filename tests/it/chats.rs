//! Every kind of chat, with the real binary against the fake Bot API: group
//! administrators decide (anonymous ones too), channels are subscribed from a
//! private chat, forum topics get their own pushes, a bot that is removed
//! sends nothing more, operators are people, and no chat can stall the others.

use std::path::PathBuf;
use std::time::Duration;

use tokio::time::Instant;

use crate::support::site::FakeSite;
use crate::support::telegram::{BOT_ID, ChatSpec, FakeTelegram, Fault, Status};
use crate::support::{ADMIN, BotProcess, eventually, fixture, page_with_extra_item, write_config};

const WAIT: Duration = Duration::from_secs(20);

struct Running {
    telegram: FakeTelegram,
    site: FakeSite,
    _dir: tempfile::TempDir,
    config: PathBuf,
    bot: BotProcess,
}

/// Starts the fakes and the bot (after `prepare` may change the config file
/// and the data directory), and waits until the first read is recorded.
async fn start(prepare: impl FnOnce(PathBuf)) -> Running {
    let telegram = FakeTelegram::start().await;
    let site = FakeSite::start(fixture("rusemb/home-2022-05-21.html")).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &telegram.url, &site.url, 1);
    prepare(config.clone());
    let bot = BotProcess::spawn(&config, "bot.log");
    telegram.wait_for_polls(1, WAIT, &bot).await;
    // A new probe user each time: no budget is spent twice.
    for probe in 0..100 {
        let reply = telegram.ask(990_000 + probe, "/latest 1").await;
        if reply.text.contains("Read on the site") {
            return Running {
                telegram,
                site,
                _dir: dir,
                config,
                bot,
            };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the bot never recorded the site; log:\n{}", bot.log());
}

/// Rewrites the test config: `from` → `to`.
fn edit_config(config: &std::path::Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(config).unwrap();
    assert!(text.contains(from), "{from} in {text}");
    std::fs::write(config, text.replace(from, to)).unwrap();
}

/// Publishes a new release and waits until each of `chats` has `count` pushes.
async fn publish_and_wait(run: &Running, page: Vec<u8>, chats: &[i64], count: usize) {
    run.site.set_page(page);
    let what = format!("{chats:?} get {count} pushes");
    eventually(WAIT, &what, &run.bot, || {
        chats
            .iter()
            .all(|c| run.telegram.pushes_to(*c).len() >= count)
    })
    .await;
    // A few more reads: anything else that would go, has gone.
    let hits = run.site.hits();
    run.site.wait_for_hits(hits, 3, WAIT).await;
}

/// Waits a little for anything more to reach `chat`; its messages since `before`.
async fn quiet(telegram: &FakeTelegram, chat: i64, before: usize) -> Vec<String> {
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    telegram.sent_to(chat)[before..]
        .iter()
        .map(|m| m.text.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_group_administrators_decide_and_others_are_refused_once() {
    let run = start(|_| {}).await;
    let t = &run.telegram;
    let (group, admin, member) = (-100_500, 501, 502);
    t.set_member(group, admin, Status::Admin { can_post: false });

    // A member's /subscribe: one polite refusal, nothing subscribed.
    t.supergroup_says(group, member, None, "/subscribe");
    let refusal = t.wait_for(group, 1, WAIT).await;
    assert!(
        refusal[0].text.contains("Only this group's administrators"),
        "{refusal:?}"
    );
    // Again within the minute (and /unsubscribe): no second refusal.
    t.supergroup_says(group, member, None, "/subscribe");
    t.supergroup_says(group, member, None, "/unsubscribe");
    // Read-only commands stay open to all.
    t.supergroup_says(group, member, None, "/sources");
    let got = t.wait_for(group, 2, WAIT).await;
    assert!(
        got[1].text.contains("You get: nothing yet"),
        "not subscribed, and the repeats were silent: {got:?}"
    );

    // An administrator's works.
    t.supergroup_says(group, admin, None, "/subscribe");
    let got = t.wait_for(group, 3, WAIT).await;
    assert!(got[2].text.starts_with("Subscribed"), "{got:?}");
    // A member's /unsubscribe changes nothing (and says nothing this minute).
    t.supergroup_says(group, member, None, "/unsubscribe");
    // Nor does a message sent on behalf of some channel.
    t.channel_speaks_in_group(group, -100_999, "/unsubscribe");
    t.supergroup_says(group, member, None, "/sources");
    let got = t.wait_for(group, 4, WAIT).await;
    assert!(got[3].text.contains("You get: every source"), "{got:?}");
    // Member status is cached: one getChatMember per person, not per command.
    assert_eq!(t.calls("getChatMember"), 2);

    // An anonymous administrator (posting as the group) may.
    t.anonymous_admin_says(group, "/unsubscribe");
    let got = t.wait_for(group, 5, WAIT).await;
    assert!(got[4].text.starts_with("Unsubscribed"), "{got:?}");

    // /status from someone who is not an operator: not a word in the group.
    let before = t.sent_to(group).len();
    t.supergroup_says(group, member, None, "/status");
    // From an operator: the answer goes to the operator's private chat.
    t.supergroup_says(group, ADMIN, None, "/status");
    let private = t.wait_for(ADMIN, 1, WAIT).await;
    assert!(private[0].text.starts_with("<b>Status</b>"), "{private:?}");
    assert!(
        quiet(t, group, before).await.is_empty(),
        "nothing was said in the group"
    );
    run.bot.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_may_let_anyone_subscribe() {
    let run = start(|config| {
        let mut text = std::fs::read_to_string(&config).unwrap();
        text = text.replace(
            "[commands]",
            "[groups]\nwho_can_subscribe = \"anyone\"\n\n[commands]",
        );
        std::fs::write(&config, text).unwrap();
    })
    .await;
    let t = &run.telegram;
    t.group_says(-600, 601, "/subscribe");
    let got = t.wait_for(-600, 1, WAIT).await;
    assert!(got[0].text.starts_with("Subscribed"), "{got:?}");
    assert_eq!(t.calls("getChatMember"), 0);
    run.bot.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_is_subscribed_from_a_private_chat_and_each_missing_right_is_named() {
    let run = start(|_| {}).await;
    let t = &run.telegram;
    let (channel, user) = (-100_900, 901);
    t.add_chat(ChatSpec {
        id: channel,
        kind: "channel",
        title: "Embassy News".into(),
        username: Some("embassy_news".into()),
        is_forum: false,
    });
    t.add_chat(ChatSpec {
        id: -100_901,
        kind: "supergroup",
        title: "A group".into(),
        username: Some("a_public_group".into()),
        is_forum: false,
    });
    let ask = |text: &'static str| async move { t.ask(user, text).await.text };

    let reply = ask("/subscribe @no_such_channel").await;
    assert!(
        reply.contains("I cannot find the channel @no_such_channel"),
        "{reply}"
    );
    let reply = ask("/subscribe @a_public_group").await;
    assert!(reply.contains("is not a channel"), "{reply}");
    let reply = ask("/subscribe @embassy_news").await;
    assert!(
        reply.contains("I am not an administrator of @embassy_news"),
        "{reply}"
    );
    t.set_member(channel, BOT_ID, Status::Admin { can_post: false });
    let reply = ask("/subscribe @embassy_news").await;
    assert!(reply.contains("may not post messages there"), "{reply}");
    t.set_member(channel, BOT_ID, Status::Admin { can_post: true });
    let reply = ask("/subscribe @embassy_news").await;
    assert!(
        reply.contains("You are not an administrator of @embassy_news"),
        "{reply}"
    );
    let reply = ask("/subscribe @embassy_news nosuchsource").await;
    assert!(reply.contains("There is no source called"), "{reply}");
    t.set_member(channel, user, Status::Admin { can_post: true });
    let reply = ask("/subscribe @embassy_news").await;
    assert!(reply.starts_with("Subscribed @embassy_news"), "{reply}");
    let reply = ask("/subscriptions").await;
    assert!(reply.contains("@embassy_news: every source"), "{reply}");

    // Not from a group.
    t.set_member(-700, 702, Status::Creator);
    t.group_says(-700, 702, "/subscribe @embassy_news");
    let got = t.wait_for(-700, 1, WAIT).await;
    assert!(got[0].text.contains("from a private chat"), "{got:?}");

    // The channel gets the next push, posted without a topic.
    publish_and_wait(&run, fixture("rusemb/home-2022-05-23.html"), &[channel], 1).await;
    assert_eq!(t.pushes_to(channel).len(), 1);

    // A post in the channel itself is answered there (whoever posts is an admin).
    t.channel_posts(channel, "/time");
    let got = t.wait_for(channel, 2, WAIT).await;
    assert!(got[1].text.contains("Moscow:"), "{got:?}");

    let reply = ask("/unsubscribe @embassy_news").await;
    assert!(reply.starts_with("Unsubscribed @embassy_news"), "{reply}");
    publish_and_wait(&run, page_with_extra_item().into_bytes(), &[], 0).await;
    assert_eq!(t.pushes_to(channel).len(), 1, "nothing after unsubscribing");
    let reply = ask("/subscriptions").await;
    assert!(reply.contains("Channels you subscribed: none"), "{reply}");
    run.bot.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_gets_its_pushes_in_the_topic_and_a_closed_topic_ends_alone() {
    let run = start(|_| {}).await;
    let t = &run.telegram;
    let (forum, admin) = (-100_700, 701);
    t.set_member(forum, admin, Status::Creator);
    for thread in [42, 43] {
        t.supergroup_says(forum, admin, Some(thread), "/subscribe");
    }
    let got = t.wait_for(forum, 2, WAIT).await;
    assert!(
        got.iter().all(|m| m.text.starts_with("Subscribed")),
        "{got:?}"
    );
    assert_eq!(
        got.iter().map(|m| m.thread).collect::<Vec<_>>(),
        vec![Some(42), Some(43)],
        "each reply in the topic it answers"
    );
    t.supergroup_says(forum, admin, Some(7), "/time");
    let got = t.wait_for(forum, 3, WAIT).await;
    assert_eq!(got[2].thread, Some(7));

    publish_and_wait(&run, fixture("rusemb/home-2022-05-23.html"), &[forum], 2).await;
    let pushes: Vec<Option<i64>> = t
        .sent_to(forum)
        .iter()
        .filter(|m| m.text.starts_with("🆕"))
        .map(|m| m.thread)
        .collect();
    assert_eq!(
        pushes,
        vec![Some(42), Some(43)],
        "one push per topic, in the topic"
    );

    // Topic 42 is closed: Telegram refuses the next push there.
    t.fail_next(forum, Fault::Error(400, "Bad Request: TOPIC_CLOSED"));
    publish_and_wait(&run, page_with_extra_item().into_bytes(), &[forum], 3).await;
    let pushes: Vec<Option<i64>> = t
        .sent_to(forum)
        .iter()
        .filter(|m| m.text.starts_with("🆕"))
        .map(|m| m.thread)
        .collect();
    assert_eq!(pushes, vec![Some(42), Some(43), Some(43)]);
    t.supergroup_says(forum, admin, Some(42), "/subscriptions");
    t.supergroup_says(forum, admin, Some(43), "/subscriptions");
    let got = t.wait_for(forum, 8, WAIT).await;
    let gets = |thread| {
        got.iter()
            .find(|m| m.thread == Some(thread) && m.text.contains("This topic gets"))
            .map(|m| m.text.clone())
            .unwrap_or_default()
    };
    assert!(gets(42).contains("This topic gets: nothing yet"), "{got:?}");
    assert!(
        gets(43).contains("This topic gets: every source"),
        "{got:?}"
    );
    run.bot.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_or_blocked_bot_sends_nothing_more_and_a_new_group_hears_a_welcome() {
    let run = start(|_| {}).await;
    let t = &run.telegram;
    // The update kinds the bot handles, exactly.
    let kinds = t
        .allowed_updates()
        .expect("getUpdates named its update kinds");
    let mut kinds: Vec<&str> = kinds
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "callback_query",
            "channel_post",
            "message",
            "my_chat_member"
        ]
    );

    let (group, admin, blocker, stayer) = (-100_800, 801, 802, 803);
    t.bot_membership(group, "supergroup", admin, Status::Left, Status::Member);
    let welcome = t.wait_for(group, 1, WAIT).await;
    assert!(
        welcome[0]
            .text
            .contains("An administrator of this group can send /subscribe"),
        "{welcome:?}"
    );
    t.set_member(group, admin, Status::Creator);
    t.supergroup_says(group, admin, None, "/subscribe");
    t.wait_for(group, 2, WAIT).await;
    for user in [blocker, stayer] {
        assert!(
            t.ask(user, "/subscribe")
                .await
                .text
                .starts_with("Subscribed")
        );
    }
    // Kicked from the group, blocked by a user: both end at once.
    t.bot_membership(group, "supergroup", admin, Status::Member, Status::Kicked);
    t.bot_membership(blocker, "private", blocker, Status::Member, Status::Kicked);
    eventually(WAIT, "both removals are recorded", &run.bot, || {
        run.bot
            .log()
            .matches("the bot was removed from the chat")
            .count()
            == 2
    })
    .await;
    // A basic group that became a supergroup: the bot "leaves" the old id,
    // but the subscription moves with the next push instead of ending.
    let (old_group, new_group) = (-901, -100_901);
    t.set_member(old_group, 804, Status::Creator);
    t.group_says(old_group, 804, "/subscribe");
    t.wait_for(old_group, 1, WAIT).await;
    t.upgrade(old_group, new_group);
    t.bot_membership(old_group, "group", 804, Status::Member, Status::Left);
    eventually(WAIT, "the bot asks about the old group", &run.bot, || {
        t.calls("getChat") >= 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    t.fail_next(old_group, Fault::MigrateTo(new_group));
    publish_and_wait(
        &run,
        fixture("rusemb/home-2022-05-23.html"),
        &[stayer, new_group],
        1,
    )
    .await;
    assert!(t.pushes_to(group).is_empty(), "{:?}", t.sent_to(group));
    assert!(t.pushes_to(blocker).is_empty());
    let status = t.ask(ADMIN, "/status").await.text;
    assert!(
        status.contains("Chats removed (blocked, kicked, gone): 2"),
        "{status}"
    );
    run.bot.stop_cleanly().await;
}

/// p50, p99 and max of `samples`, for the log (BENCHMARKS.md records them).
fn spread(samples: &mut [Duration]) -> String {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    format!(
        "n={} p50={:?} p99={:?} max={:?}",
        samples.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    )
}

/// Asks `/time` as `user` and returns how long the reply took to reach the fake.
async fn reply_latency(t: &FakeTelegram, user: i64) -> Duration {
    let before = t.sent_to(user).len();
    let asked = Instant::now();
    t.user_says(user, "/time");
    t.wait_for(user, before + 1, WAIT).await;
    t.sent_times(user)[before] - asked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_from_one_chat_leaves_another_answered_at_once() {
    // Telegram's limits on, and the default budget of 20 commands a minute.
    let run = start(|config| {
        edit_config(&config, "throttle = false", "throttle = true");
        edit_config(
            &config,
            "per_user_per_minute = 1000",
            "per_user_per_minute = 20",
        );
    })
    .await;
    let t = &run.telegram;
    let mut latencies = Vec::new();
    for round in 0..10 {
        // One forward of 100 messages is one user action: 100 updates at once.
        let (flooder, other) = (300 + round, 200 + round);
        for n in 0..100 {
            t.user_says(flooder, if n % 2 == 0 { "/time" } else { "/counters" });
        }
        latencies.push(reply_latency(t, other).await);
    }
    let summary = spread(&mut latencies);
    eprintln!("reply latency behind a 100-message flood: {summary}");
    // What bounds it: one getUpdates batch, microseconds per flooded update,
    // one reply slot. Seconds would mean the flood held the others up.
    assert!(
        latencies.iter().all(|l| *l < Duration::from_secs(2)),
        "{summary}"
    );
    // A flooder gets about its queue's worth (8, plus what was answered while
    // the flood arrived), and one "slow down"; never 100 answers.
    let flooder = 300;
    let slow_down = |t: &FakeTelegram| {
        t.sent_to(flooder)
            .iter()
            .filter(|m| m.text.contains("Too many messages at once"))
            .count()
    };
    eventually(WAIT, "the flooder's 'slow down'", &run.bot, || {
        slow_down(t) >= 1
    })
    .await;
    let got = quiet(t, flooder, 0).await;
    assert_eq!(slow_down(t), 1, "{got:?}");
    assert!(got.len() <= 12, "{} answers: {got:?}", got.len());
    run.bot.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn during_a_throttled_fan_out_a_command_is_answered_within_a_slot_and_telegram_refuses_nothing()
 {
    let chats = 600;
    let mut run = start(|_| {}).await;
    // 600 private chats subscribe (quickly: no limits yet), then the bot
    // restarts with Telegram's limits on.
    for chat in 1..=chats {
        run.telegram.user_says(chat, "/subscribe");
    }
    eventually(WAIT, "600 subscriptions", &run.bot, || {
        run.telegram.chats_told(1..=chats) == chats as usize
    })
    .await;
    run.bot.stop_cleanly().await;
    edit_config(&run.config, "throttle = false", "throttle = true");
    run.bot = BotProcess::spawn(&run.config, "bot2.log");
    let polls = run.telegram.calls("getUpdates");
    run.telegram.wait_for_polls(polls + 1, WAIT, &run.bot).await;
    let t = &run.telegram;
    t.set_strict();
    run.site.set_page(fixture("rusemb/home-2022-05-23.html"));
    eventually(WAIT, "the fan-out starts", &run.bot, || {
        t.pushes_to(1).len() == 1
    })
    .await;
    let mut latencies = Vec::new();
    let mut probe = 5_000;
    // While it lasts (600 chats at 30/s: about 20 s), one probe a second.
    while t.chats_pushed(1..=chats) < chats as usize - 60 {
        probe += 1;
        latencies.push(reply_latency(t, probe).await);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eventually(
        Duration::from_secs(60),
        "every chat got the release",
        &run.bot,
        || (1..=chats).all(|c| t.pushes_to(c).len() == 1),
    )
    .await;
    let summary = spread(&mut latencies);
    eprintln!("reply latency during a 30/s fan-out to {chats} chats: {summary}");
    assert!(latencies.len() >= 5, "{summary}");
    // A reply waits for at most a few push slots (100 ms of them), not for
    // the pushes booked before it: without that priority, it waited behind
    // `send_concurrency` (32) booked slots, 1.07 s at 30/s, every time. So the
    // bound is below that (the issue asks for 1.5 s), and still several times
    // what a busy 2-core machine measured (BENCHMARKS.md).
    assert!(
        latencies.iter().all(|l| *l < Duration::from_millis(1_000)),
        "{summary}"
    );
    assert_eq!(t.too_many(), 0, "Telegram answered 429");
    run.bot.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_former_channel_administrator_gets_the_refusal_a_stranger_gets() {
    let run = start(|_| {}).await;
    let t = &run.telegram;
    let (channel, former, stranger, successor) = (-100_888, 50, 51, 52);
    t.add_chat(ChatSpec {
        id: channel,
        kind: "channel",
        title: "Former News".into(),
        username: Some("former_news".into()),
        is_forum: false,
    });
    t.set_member(channel, BOT_ID, Status::Admin { can_post: true });
    t.set_member(channel, former, Status::Admin { can_post: true });
    let reply = t.ask(former, "/subscribe -100888").await.text;
    assert!(reply.starts_with("Subscribed @former_news"), "{reply}");

    // User 50 leaves the channel's administrators: a subscriber now.
    t.set_member(channel, former, Status::Member);
    let changes = [
        "/unsubscribe -100888",
        "/filter -100888 add -the",
        "/quiet -100888 00:00-23:59",
        "/unsubscribe @former_news",
    ];
    let asked = t.calls("getChatMember");
    for command in changes {
        let theirs = t.ask(former, command).await.text;
        if command == changes[0] {
            assert!(t.calls("getChatMember") > asked, "Telegram was asked again");
        }
        let strangers = t.ask(stranger, command).await.text;
        assert_eq!(theirs, strangers, "{command}: the refusal a stranger gets");
        assert!(
            theirs.contains("You are not an administrator of @former_news"),
            "{command}: {theirs}"
        );
    }

    // Nothing changed: the channel's administrator of today finds it as it was.
    t.set_member(channel, successor, Status::Creator);
    let filters = t.ask(successor, "/filter -100888").await.text;
    assert!(filters.contains("no keyword filters"), "{filters}");
    let quiet = t.ask(successor, "/quiet -100888").await.text;
    assert!(quiet.contains("no quiet hours"), "{quiet}");
    let reply = t.ask(successor, "/unsubscribe -100888").await.text;
    assert!(reply.starts_with("Unsubscribed @former_news"), "{reply}");
    run.bot.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_sent_as_a_chat_counts_against_that_chats_budget() {
    let run = start(|config| {
        edit_config(
            &config,
            "per_user_per_minute = 1000",
            "per_user_per_minute = 3",
        );
    })
    .await;
    let t = &run.telegram;
    // One "send as" channel asks /time in ten groups; an anonymous
    // administrator of another group asks it five times there.
    let channel = -100_777;
    let groups: Vec<i64> = (1..=10).map(|n| -100_600 - n).collect();
    for group in &groups {
        t.channel_speaks_in_group(*group, channel, "/time");
    }
    let anonymous = -100_650;
    for _ in 0..5 {
        t.anonymous_admin_says(anonymous, "/time");
    }
    // Then a person asks /help in each: a chat's commands are answered in
    // order, so once every /help is answered, every /time that would be is.
    let everywhere: Vec<i64> = groups.iter().copied().chain([anonymous]).collect();
    for (n, group) in everywhere.iter().enumerate() {
        t.supergroup_says(*group, 700 + n as i64, None, "/help");
    }
    let times = |group: i64| {
        t.sent_to(group)
            .iter()
            .filter(|m| m.text.contains("Moscow:"))
            .count()
    };
    eventually(WAIT, "every group's /help answered", &run.bot, || {
        everywhere
            .iter()
            .all(|g| t.sent_to(*g).iter().any(|m| m.text.contains("/subscribe")))
    })
    .await;
    let channel_answers: usize = groups.iter().map(|g| times(*g)).sum();
    assert_eq!(channel_answers, 3, "the channel's budget, across groups");
    assert_eq!(times(anonymous), 3, "the group's budget");
    for group in &everywhere {
        assert!(
            t.sent_to(*group)
                .iter()
                .all(|m| !m.text.contains("many commands")),
            "a budget is never announced in a group"
        );
    }
    run.bot.stop_cleanly().await;
}
