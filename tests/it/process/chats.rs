//! Every kind of chat, with the real binary against the fake Bot API: group
//! administrators decide (anonymous ones too), channels are subscribed from a
//! private chat, forum topics get their own pushes, a bot that is removed
//! sends nothing more, operators are people, and no chat can stall the others.

use std::time::Duration;

use crate::support::telegram::{BOT_ID, ChatSpec, FakeTelegram, Fault, Status};
use crate::support::{ADMIN, Bot, TestBot, fixture, page_with_extra_item};

const WAIT: Duration = Duration::from_secs(20);

/// The bot on the 21 May page, with `with` applied to the usual set-up;
/// waits until it has read the site.
async fn start(with: impl FnOnce(TestBot) -> TestBot) -> Bot {
    with(TestBot::new()).start().await
}

/// Publishes a new release and waits until each of `chats` has `count` pushes.
async fn publish_and_wait(run: &Bot, page: Vec<u8>, chats: &[i64], count: usize) {
    run.site.set_page(page);
    let what = format!("{chats:?} get {count} pushes");
    run.eventually(&what, || {
        chats
            .iter()
            .all(|c| run.telegram.pushes_to(*c).len() >= count)
    })
    .await;
    // A few more reads: anything else that would go, has gone.
    let hits = run.site.hits();
    run.site.wait_for_hits(hits, 2, WAIT).await;
}

/// What reached `chat` since its `before`-th message, once a probe said
/// after the commands under test (`/help` by `user` in the supergroup
/// `chat`) has been answered: a chat's commands are answered in order.
async fn said_before_probe(t: &FakeTelegram, chat: i64, user: i64, before: usize) -> Vec<String> {
    t.after_probe(
        chat,
        before,
        |t| t.supergroup_says(chat, user, None, "/help"),
        FakeTelegram::is_help,
    )
    .await
    .into_iter()
    .map(|m| m.text)
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_group_administrators_decide_and_others_are_refused_once() {
    let mut run = start(|b| b).await;
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
        said_before_probe(t, group, member, before).await.is_empty(),
        "nothing was said in the group"
    );
    run.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_may_let_anyone_subscribe() {
    let mut run = start(|b| {
        b.replace(
            "[commands]",
            "[groups]\nwho_can_subscribe = \"anyone\"\n\n[commands]",
        )
    })
    .await;
    let t = &run.telegram;
    t.group_says(-600, 601, "/subscribe");
    let got = t.wait_for(-600, 1, WAIT).await;
    assert!(got[0].text.starts_with("Subscribed"), "{got:?}");
    assert_eq!(t.calls("getChatMember"), 0);
    run.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_is_subscribed_from_a_private_chat_and_each_missing_right_is_named() {
    let mut run = start(|b| b).await;
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
    run.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_gets_its_pushes_in_the_topic_and_a_closed_topic_ends_alone() {
    let mut run = start(|b| b).await;
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
    run.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_or_blocked_bot_sends_nothing_more_and_a_new_group_hears_a_welcome() {
    let mut run = start(|b| b).await;
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
    // Recorded: the operator's /status counts them (the fake cannot tell).
    run.ask_until(ADMIN, "/status", |status| {
        status.contains("Chats removed (blocked, kicked, gone): 2")
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
    run.eventually("the bot asks about the old group", || {
        t.calls("getChat") >= 1
    })
    .await;
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
    run.stop_cleanly().await;
}

/// Asks `/time` as `user`: how many messages the bot sent to other chats
/// between the question and its answer (the wait counted in sends, not in
/// time: how long replies take is measured by `benches/replies.rs`).
async fn sends_before_reply(t: &FakeTelegram, user: i64) -> usize {
    let before = t.sent_to(user).len();
    let asked = t.sent_count();
    t.user_says(user, "/time");
    let reply = t.wait_for(user, before + 1, WAIT).await[before].message_id;
    t.sent()[asked..]
        .iter()
        .take_while(|m| m.message_id != reply)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_from_one_chat_leaves_another_answered() {
    // Telegram's limits on, and the default budget of 20 commands a minute.
    let mut run = start(|b| {
        b.throttled()
            .replace("per_user_per_minute = 1000", "per_user_per_minute = 20")
    })
    .await;
    let t = &run.telegram;
    for round in 0..10 {
        // One forward of 100 messages is one user action: 100 updates at once.
        let (flooder, other) = (300 + round, 200 + round);
        for n in 0..100 {
            t.user_says(flooder, if n % 2 == 0 { "/time" } else { "/counters" });
        }
        // Answered however the flood stands (how soon: benches/replies.rs).
        let reply = t.ask(other, "/time").await;
        assert!(!reply.text.contains("Too many"), "{reply:?}");
    }
    // A flooder gets about its queue's worth (8, plus what was answered while
    // the flood arrived), and one "slow down"; never 100 answers.
    let flooder = 300;
    let slow_down = |t: &FakeTelegram| {
        t.sent_to(flooder)
            .iter()
            .filter(|m| m.text.contains("Too many messages at once"))
            .count()
    };
    run.until("the flooder's 'slow down'", |t| slow_down(t) >= 1)
        .await;
    // The barrier: once the bot has exited, nothing more can come. (A probe
    // from the flooder would be over its budget, and go unanswered.)
    run.stop_cleanly().await;
    let t = &run.telegram;
    let got: Vec<String> = t.sent_to(flooder).into_iter().map(|m| m.text).collect();
    assert_eq!(slow_down(t), 1, "{got:?}");
    assert!(got.len() <= 12, "{} answers: {got:?}", got.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn during_a_throttled_fan_out_a_command_is_answered_within_a_slot_and_telegram_refuses_nothing()
 {
    let chats = 600;
    let mut run = start(|b| b).await;
    // 600 private chats subscribe (quickly: no limits yet), then the bot
    // restarts with Telegram's limits on.
    for chat in 1..=chats {
        run.telegram.user_says(chat, "/subscribe");
    }
    run.eventually("600 subscriptions", || {
        run.telegram.chats_told(1..=chats) == chats as usize
    })
    .await;
    run.stop_cleanly().await;
    run.edit_config("throttle = false", "throttle = true");
    let polls = run.telegram.calls("getUpdates");
    run.respawn("bot2.log").await;
    run.until("the bot polling again", |t| t.calls("getUpdates") > polls)
        .await;
    let t = &run.telegram;
    t.set_strict();
    run.site.set_page(fixture("rusemb/home-2022-05-23.html"));
    run.eventually("the fan-out starts", || t.pushes_to(1).len() == 1)
        .await;
    let mut waits = Vec::new();
    let mut probe = 5_000;
    // While it lasts (600 chats at 30/s: about 20 s), probe after probe.
    while t.chats_pushed(1..=chats) < chats as usize - 60 {
        probe += 1;
        waits.push(sends_before_reply(t, probe).await);
    }
    run.until("every chat got the release", |t| {
        (1..=chats).all(|c| t.pushes_to(c).len() == 1)
    })
    .await;
    assert!(waits.len() >= 5, "{waits:?}");
    // A reply waits for at most a few push slots, not for the pushes booked
    // before it: without that priority, it waited behind `send_concurrency`
    // (32) booked slots every time. Counted in sends, so a slow machine slows
    // both sides alike; the time it takes is measured by benches/replies.rs.
    assert!(
        waits.iter().all(|w| *w < 32),
        "pushes before each reply: {waits:?}"
    );
    assert_eq!(t.too_many(), 0, "Telegram answered 429");
    run.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_former_channel_administrator_gets_the_refusal_a_stranger_gets() {
    let mut run = start(|b| b).await;
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
    run.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_sent_as_a_chat_counts_against_that_chats_budget() {
    let mut run =
        start(|b| b.replace("per_user_per_minute = 1000", "per_user_per_minute = 3")).await;
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
    run.eventually("every group's /help answered", || {
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
    run.stop_cleanly().await;
}
