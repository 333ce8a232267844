//! Buttons, with the real binary against the fake Bot API: `/latest` and
//! `/search` turn pages in place (and a search's buttons outlive a restart),
//! `/sources` toggles a source for the chat or topic the message is in,
//! group administrators decide, anything stale or forged is answered as
//! expired, and a mashed button stays within the presser's budget.

use std::time::Duration;

use chrono::NaiveDate;

use crate::support::telegram::{BOT_ID, ChatSpec, FakeTelegram, Place, Sent, Status};
use crate::support::{Bot, TestBot, release_page, source_toml};

const WAIT: Duration = Duration::from_secs(20);

/// `count` releases, newest first: "Visa notice N" (dated a day apart).
fn releases(count: u32) -> String {
    let titles: Vec<(u32, NaiveDate, String)> = (1..=count)
        .rev()
        .map(|n| {
            let date = NaiveDate::from_ymd_opt(2022, 1, 1).unwrap() + chrono::Days::new(n.into());
            (7000 + n, date, format!("Visa notice {n}"))
        })
        .collect();
    release_page(&titles)
}

/// Starts the fakes and the bot watching `alpha` (and `beta`, the same page
/// at another path) with `count` releases; `prepare` may change the config
/// text. Waits until the first read is recorded.
async fn start(count: u32, prepare: impl FnOnce(String) -> String + Send + 'static) -> Bot {
    let keep = "max_age_days = 36500\n";
    let sources =
        source_toml("alpha", "{site}", 60, keep) + &source_toml("beta", "{site}beta", 60, keep);
    TestBot::new()
        .page(releases(count))
        .sources(sources)
        .edit_config(prepare)
        .start()
        .await
}

/// Presses the button labelled `label` on `message`, which must change
/// the message; returns the press's answer and the message once edited.
async fn press(
    run: &Bot,
    user: i64,
    place: Place,
    message: &Sent,
    label: &str,
) -> (Option<String>, Sent) {
    let data = message
        .button(label)
        .unwrap_or_else(|| panic!("no {label} button in {:?}", message.labels()));
    let t = &run.telegram;
    let edits = t.edits().len();
    let answer = press_data(run, user, place, message, &data).await;
    run.until("the message edited", |t| t.edits().len() > edits)
        .await;
    (answer, t.message(message.message_id).expect("the message"))
}

/// Presses a button with `data` on `message`; returns the answer.
async fn press_data(
    run: &Bot,
    user: i64,
    place: Place,
    message: &Sent,
    data: &str,
) -> Option<String> {
    let t = &run.telegram;
    let callback = t.press(user, place, message.message_id, data);
    t.wait_for_answer(&callback).await.text
}

/// Sends `text` to `chat` as `user` (a group) and waits for the one reply.
async fn group_ask(t: &FakeTelegram, chat: i64, user: i64, text: &str) -> Sent {
    let before = t.sent_to(chat).len();
    t.group_says(chat, user, text);
    t.wait_for(chat, before + 1, WAIT).await[before].clone()
}

/// Sends `text` in forum topic `thread` of supergroup `chat` and waits for the reply.
async fn topic_ask(
    t: &FakeTelegram,
    chat: i64,
    user: i64,
    thread: Option<i64>,
    text: &str,
) -> Sent {
    let before = t.sent_to(chat).len();
    t.supergroup_says(chat, user, thread, text);
    t.wait_for(chat, before + 1, WAIT).await[before].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buttons_and_their_answers_speak_the_chats_language() {
    let run = start(7, |c| c).await;
    let t = &run.telegram;
    let user = 521;
    let first = t.ask_in(user, "ru", "/latest 3").await;
    assert_eq!(first.labels(), ["Раньше ▶"], "{}", first.text);

    let edits = t.edits().len();
    let data = first.button("Раньше").expect("an older button");
    let callback = t.press_in(user, "ru", Place::Private, first.message_id, &data);
    assert_eq!(t.wait_for_answer(&callback).await.text, None);
    run.eventually("the page turned", || t.edits().len() > edits)
        .await;
    let second = t.message(first.message_id).expect("the message");
    assert!(
        second
            .text
            .starts_with("<b>Публикации 4–6, сначала новые</b>"),
        "{}",
        second.text
    );
    assert_eq!(second.labels(), ["◀ Новее", "Раньше ▶"]);

    let stale = t.press_in(user, "ru", Place::Private, first.message_id, "l9:0:3");
    assert_eq!(
        t.wait_for_answer(&stale).await.text.as_deref(),
        Some("Эта кнопка устарела: отправьте /latest ещё раз.")
    );
    // The chat's own choice wins over the presser's app.
    assert_eq!(
        t.ask_in(user, "ru", "/language en").await.text,
        "The language of this chat is now English (en)."
    );
    let stale = t.press_in(user, "ru", Place::Private, first.message_id, "l9:0:3");
    assert_eq!(
        t.wait_for_answer(&stale).await.text.as_deref(),
        Some("This button has expired: send /latest again.")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latest_pages_older_then_newer_in_place() {
    let mut run = start(7, |c| c).await;
    let t = &run.telegram;
    let user = 501;
    let first = t.ask(user, "/latest 3").await;
    assert!(first.text.contains("Visa notice 7"), "{}", first.text);
    assert_eq!(first.labels(), ["Older ▶"], "no newer page at the top");

    let (answer, second) = press(&run, user, Place::Private, &first, "Older").await;
    assert_eq!(answer, None, "a page turn needs no words");
    assert!(
        second.text.starts_with("<b>Releases 4–6, newest first</b>"),
        "{}",
        second.text
    );
    assert!(second.text.contains("Visa notice 4") && !second.text.contains("Visa notice 7"));
    assert_eq!(second.labels(), ["◀ Newer", "Older ▶"]);

    let (_, third) = press(&run, user, Place::Private, &second, "Older").await;
    assert!(third.text.starts_with("<b>Releases 7–7"), "{}", third.text);
    assert_eq!(third.labels(), ["◀ Newer"], "nothing older");

    let (_, back) = press(&run, user, Place::Private, &third, "◀ Newer").await;
    assert!(back.text.starts_with("<b>Releases 4–6"), "{}", back.text);
    let (_, top) = press(&run, user, Place::Private, &back, "◀ Newer").await;
    assert!(
        top.text.starts_with("<b>Latest 3 releases</b>"),
        "{}",
        top.text
    );

    // Pressing a button whose page is already shown: Telegram says "not
    // modified", and that is no error.
    let answer = press_data(&run, user, Place::Private, &top, "l1:0:3").await;
    assert_eq!(answer, None);
    // Served in turn with the chat's commands: once /time is answered, the
    // press has done all it would.
    assert!(t.ask(user, "/time").await.text.contains("Moscow"));
    assert_eq!(t.message(top.message_id).unwrap().text, top.text);
    assert_eq!(
        t.sent_to(user).len(),
        2,
        "every page went into the one message (the other is /time's reply)"
    );
    let edits = t.edits();
    assert_eq!(edits.len(), 4);
    assert!(
        edits
            .iter()
            .all(|e| e.chat_id == user && e.message_id == first.message_id),
        "{edits:?}"
    );
    assert_eq!(edits[3].text, top.text);
    let refused = t.refused();
    assert!(
        refused
            .iter()
            .all(|(_, why)| why.contains("message is not modified")),
        "{refused:?}"
    );
    run.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_results_page_with_buttons_that_still_work_after_a_restart() {
    let mut run = start(12, |c| c).await;
    let t = &run.telegram;
    let user = 502;
    let found = t.ask(user, "/search visa notice").await;
    assert!(
        found.text.starts_with("<b>12 releases</b>"),
        "{}",
        found.text
    );
    assert!(found.text.contains("10 of 12 shown"), "{}", found.text);
    assert_eq!(found.labels(), ["Older ▶"]);
    let one_page = t.ask(user, "/search \"visa notice 12\"").await;
    assert!(one_page.keyboard.is_empty(), "one page: no buttons");

    run.stop_cleanly().await;
    run.respawn("bot-again.log").await;
    let (answer, older) = press(&run, user, Place::Private, &found, "Older").await;
    assert_eq!(answer, None);
    assert!(older.text.contains("11–12 of 12 shown."), "{}", older.text);
    assert!(older.text.contains("Visa notice 1"), "{}", older.text);
    assert_eq!(older.labels(), ["◀ Newer"]);
    let (_, newer) = press(&run, user, Place::Private, &older, "◀ Newer").await;
    assert!(newer.text.contains("10 of 12 shown"), "{}", newer.text);

    // The same button pressed in another chat names no query there.
    let data = found.button("Older").unwrap();
    let answer = press_data(&run, 503, Place::Private, &found, &data).await;
    assert_eq!(
        answer.as_deref(),
        Some("This button has expired: send /search again.")
    );
    // A number the store never gave (or has dropped).
    let answer = press_data(&run, user, Place::Private, &found, "s1:1:10").await;
    assert_eq!(
        answer.as_deref(),
        Some("This button has expired: send /search again.")
    );
    run.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_buttons_subscribe_and_unsubscribe_a_private_chat() {
    let mut run = start(2, |c| c).await;
    let t = &run.telegram;
    let user = 504;
    let list = t.ask(user, "/sources").await;
    assert_eq!(list.labels(), ["➕ alpha", "➕ beta"]);

    let (answer, list) = press(&run, user, Place::Private, &list, "➕ alpha").await;
    assert_eq!(
        answer.as_deref(),
        Some("Subscribed to alpha: its new releases will arrive here.")
    );
    assert_eq!(list.labels(), ["✅ alpha", "➕ beta"]);
    assert!(list.text.contains("You get: alpha"), "{}", list.text);
    let gets = t.ask(user, "/subscriptions").await.text;
    assert!(gets.contains("alpha") && !gets.contains("beta"), "{gets}");

    let (_, list) = press(&run, user, Place::Private, &list, "➕ beta").await;
    assert_eq!(list.labels(), ["✅ alpha", "✅ beta"]);
    let (answer, list) = press(&run, user, Place::Private, &list, "✅ alpha").await;
    assert_eq!(answer.as_deref(), Some("Unsubscribed from alpha."));
    assert_eq!(list.labels(), ["➕ alpha", "✅ beta"]);
    let (_, list) = press(&run, user, Place::Private, &list, "✅ beta").await;
    assert_eq!(list.labels(), ["➕ alpha", "➕ beta"]);
    assert!(list.text.contains("You get: nothing yet"), "{}", list.text);
    run.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_group_only_administrators_toggle_and_anyone_turns_pages() {
    let mut run = start(7, |c| c).await;
    let t = &run.telegram;
    let (group, admin, member) = (-600, 601, 602);
    t.set_member(group, admin, Status::Admin { can_post: false });
    let list = group_ask(t, group, member, "/sources").await;
    assert_eq!(
        list.labels(),
        ["➕ alpha", "➕ beta"],
        "everyone sees the state"
    );

    let edits = t.edits().len();
    let callback = t.press(member, Place::Group(group), list.message_id, "t1:alpha");
    let refused = t.wait_for_answer(&callback).await;
    assert!(refused.alert, "a refusal is an alert to the presser alone");
    assert_eq!(
        refused.text.as_deref(),
        Some("Only this chat's administrators can change what it gets; nothing was changed.")
    );
    // Served in turn: once the next command is answered, the press has
    // done all it would.
    let again = group_ask(t, group, member, "/sources").await;
    assert_eq!(t.edits().len(), edits, "nothing changed");
    assert_eq!(
        t.sent_to(group).len(),
        2,
        "no message in the group but the replies"
    );
    assert_eq!(again.labels(), ["➕ alpha", "➕ beta"]);

    let (answer, list) = press(&run, admin, Place::Group(group), &again, "➕ alpha").await;
    assert!(answer.unwrap().starts_with("Subscribed to alpha"));
    assert_eq!(list.labels(), ["✅ alpha", "➕ beta"]);

    // Page buttons only read: open to all.
    let latest = group_ask(t, group, admin, "/latest 3").await;
    let (_, older) = press(&run, member, Place::Group(group), &latest, "Older").await;
    assert!(older.text.starts_with("<b>Releases 4–6"), "{}", older.text);
    run.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_channel_a_reader_cannot_toggle_and_an_administrator_can() {
    let mut run = start(2, |c| c).await;
    let t = &run.telegram;
    let (channel, admin, reader) = (-1_000_800, 801, 802);
    t.add_chat(ChatSpec {
        id: channel,
        kind: "channel",
        title: "Embassy News".into(),
        username: None,
        is_forum: false,
    });
    t.set_member(channel, BOT_ID, Status::Admin { can_post: true });
    t.set_member(channel, admin, Status::Admin { can_post: true });
    t.channel_posts(channel, "/sources");
    let list = t.wait_for(channel, 1, WAIT).await[0].clone();
    assert_eq!(list.labels(), ["➕ alpha", "➕ beta"]);
    let callback = t.press(reader, Place::Channel(channel), list.message_id, "t1:alpha");
    let refused = t.wait_for_answer(&callback).await;
    assert!(refused.alert, "{refused:?}");
    assert!(t.edits().is_empty());
    let (answer, list) = press(&run, admin, Place::Channel(channel), &list, "➕ alpha").await;
    assert!(answer.unwrap().starts_with("Subscribed to alpha"));
    assert_eq!(list.labels(), ["✅ alpha", "➕ beta"]);
    run.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_toggle_in_a_forum_topic_changes_that_topics_subscription() {
    let mut run = start(2, |c| c).await;
    let t = &run.telegram;
    let (forum, admin, topic) = (-1_000_700, 701, 55);
    t.set_member(forum, admin, Status::Creator);
    let list = topic_ask(t, forum, admin, Some(topic), "/sources").await;
    assert_eq!(list.thread, Some(topic), "answered in the topic");
    let (_, list) = press(
        &run,
        admin,
        Place::Supergroup(forum, Some(topic)),
        &list,
        "➕ beta",
    )
    .await;
    assert_eq!(list.labels(), ["➕ alpha", "✅ beta"]);
    let in_topic = topic_ask(t, forum, admin, Some(topic), "/sources").await;
    assert_eq!(in_topic.labels(), ["➕ alpha", "✅ beta"]);
    let in_general = topic_ask(t, forum, admin, None, "/sources").await;
    assert_eq!(
        in_general.labels(),
        ["➕ alpha", "➕ beta"],
        "the chat itself is not subscribed"
    );
    run.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_oversized_and_stale_buttons_are_answered_as_expired() {
    let mut run = start(3, |c| c).await;
    let t = &run.telegram;
    let user = 505;
    let list = t.ask(user, "/sources").await;
    let oversized = format!("l1:0:5{}", " ".repeat(100));
    let cases = [
        ("garbage", "send the command again"),
        ("", "send the command again"),
        (oversized.as_str(), "send /latest again"),
        ("l1:01:5", "send /latest again"),
        ("l9:0:5", "send /latest again"),
        ("s1:99999999999999:0", "send /search again"),
        ("t1:gamma", "send /sources again"),
        ("t1:ALPHA", "send /sources again"),
    ];
    for (data, says) in cases {
        let answer = press_data(&run, user, Place::Private, &list, data).await;
        let answer = answer.unwrap_or_default();
        assert!(
            answer.starts_with("This button has expired"),
            "{data:?}: {answer}"
        );
        assert!(answer.contains(says), "{data:?}: {answer}");
    }
    let callback = t.press_on_inaccessible(user, list.message_id, "l1:0:5");
    let answer = t.wait_for_answer(&callback).await;
    assert!(
        answer
            .text
            .unwrap_or_default()
            .starts_with("This button has expired"),
        "a message the bot can no longer see"
    );
    assert!(t.edits().is_empty());
    assert_eq!(
        t.answers().len(),
        cases.len() + 1,
        "each press answered once"
    );
    assert!(t.refused().is_empty(), "{:?}", t.refused());
    run.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mashed_button_is_answered_every_time_within_the_users_budget() {
    let mut run = start(7, |c| {
        c.replace("per_user_per_minute = 1000", "per_user_per_minute = 5")
    })
    .await;
    let t = &run.telegram;
    let (masher, other) = (506, 507);
    let latest = t.ask(masher, "/latest 1").await;
    let data = latest.button("Older").unwrap();
    let presses: Vec<String> = (0..60)
        .map(|_| t.press(masher, Place::Private, latest.message_id, &data))
        .collect();
    // Another user is answered meanwhile.
    let time = t.ask(other, "/time").await;
    assert!(time.text.contains("Moscow"), "{}", time.text);
    run.eventually("every press answered", || {
        t.answers().len() >= presses.len()
    })
    .await;
    let answers = t.answers();
    let served = answers.iter().filter(|a| a.text.is_none()).count();
    assert_eq!(served, 4, "the budget of 5, less the /latest");
    let later = answers
        .iter()
        .filter(|a| a.text.as_deref().is_some_and(|s| s.contains("press again")))
        .count();
    assert_eq!(later, 56);
    assert_eq!(t.sent_to(masher).len(), 1, "presses send no messages");
    assert_eq!(t.edits().len(), 1, "the same page, shown once");
    run.stop_cleanly().await;
}
