//! What a chat chose, with the real binary against the fake Bot API: keyword
//! filters in English and Russian (includes, excludes, prefixes, phrases),
//! quiet hours across midnight on both nights the clocks change with a
//! restart and a `kill -9` inside them, the daily digest, the chat's
//! language kept across restarts, and who may change a group's or a
//! channel's settings. The bot runs on a test clock (`EMBASSY_BOT_TEST_CLOCK`)
//! started at the instant each step needs.

use std::time::Duration;

use chrono::NaiveDate;

use crate::support::telegram::{BOT_ID, ChatSpec, FakeTelegram, Sent, Status};
use crate::support::{Bot, TestBot, release_page};

const WAIT: Duration = Duration::from_secs(20);

/// Releases for the fake site: (id, title), newest first as a page lists them.
pub(crate) fn page(releases: &[(u32, &str)]) -> String {
    let date = NaiveDate::from_ymd_opt(2022, 5, 20).unwrap();
    let items: Vec<(u32, NaiveDate, &str)> = releases
        .iter()
        .map(|(id, title)| (*id, date, *title))
        .collect();
    release_page(&items)
}

pub(crate) const FIRST: (u32, &str) = (100, "Statement on an earlier day");

/// Starts the bot on [`FIRST`] (on a test clock reading `now`, if given),
/// logging to `log`, and waits until it has read the site (shared with
/// `language.rs`).
pub(crate) async fn start(log: &str, now: Option<&str>) -> Bot {
    start_with("", log, now).await
}

/// [`start`] with `extra` in the config file (sections of its own).
pub(crate) async fn start_with(extra: &str, log: &str, now: Option<&str>) -> Bot {
    let bot = TestBot::new()
        .page(page(&[FIRST]))
        .config_text(extra)
        .log(log);
    match now {
        Some(now) => bot.clock(now),
        None => bot,
    }
    .start()
    .await
}

/// Starts `bot` again, logging to `log`, on a test clock reading `now` if given.
pub(crate) async fn restart(bot: &mut Bot, log: &str, now: Option<&str>) {
    match now {
        Some(now) => bot.restart_at(log, now).await,
        None => bot.restart(log).await,
    }
}

/// Sends `text` as `user` in a private chat and returns the reply's text.
async fn ask(bot: &Bot, user: i64, text: &str) -> String {
    bot.telegram.ask(user, text).await.text
}

/// Like [`ask`], when pushes may arrive around the reply: the first new
/// message that is not a push or a digest.
async fn ask_amid_pushes(bot: &Bot, user: i64, text: &str) -> String {
    let before = bot.telegram.sent_to(user).len();
    bot.telegram.user_says(user, text);
    let reply = || {
        bot.telegram.sent_to(user)[before..]
            .iter()
            .map(|m| m.text.clone())
            .find(|t| !t.starts_with("🆕") && !t.starts_with("🗞"))
    };
    bot.eventually(&format!("a reply to {text}"), || reply().is_some())
        .await;
    reply().unwrap_or_default()
}

/// Publishes `releases` (on top of what the page shows) and waits until
/// `control`, a chat with no settings, has `pushes` pushes: the walk has
/// then passed every chat, and journaled those it held.
async fn publish(bot: &Bot, releases: &[(u32, &str)], control: i64, pushes: usize) {
    bot.site.set_page(page(releases));
    let what = format!("chat {control} gets {pushes} pushes");
    bot.eventually(&what, || bot.telegram.pushes_to(control).len() >= pushes)
        .await;
    // A few more reads: anything else that would go, has gone.
    let hits = bot.site.hits();
    bot.site.wait_for_hits(hits, 2, WAIT).await;
}

/// The digests (`🗞 …`) `chat` received.
fn digests(telegram: &FakeTelegram, chat: i64) -> Vec<String> {
    telegram
        .sent_to(chat)
        .into_iter()
        .map(|m: Sent| m.text)
        .filter(|t| t.starts_with("🗞"))
        .collect()
}

/// The titles of `chat`'s pushes, in order.
fn titles(telegram: &FakeTelegram, chat: i64) -> Vec<String> {
    telegram
        .pushes_to(chat)
        .iter()
        .map(|t| {
            t.split("<b>")
                .nth(1)
                .and_then(|t| t.split("</b>").next())
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyword_filters_in_english_and_russian_with_excludes_and_prefixes() {
    let mut bot = start("bot.log", None).await;
    let (english, russian, phrase, everything) = (2001, 2002, 2003, 2004);
    for chat in [english, russian, phrase, everything] {
        assert!(
            ask(&bot, chat, "/subscribe")
                .await
                .starts_with("Subscribed")
        );
    }
    let added = ask(&bot, english, "/filter add Visa").await;
    assert!(
        added.contains("releases that mention <code>visa</code> reach this chat"),
        "{added}"
    );
    ask(&bot, english, "/filter add Визы").await;
    ask(&bot, russian, "/filter add виз").await;
    let excluded = ask(&bot, russian, "/filter add -Sanctions").await;
    assert!(excluded.contains("no longer reach this chat"), "{excluded}");
    ask(&bot, phrase, "/filter add -\"visa rules\"").await;
    let listed = ask(&bot, english, "/filter").await;
    assert!(
        listed.contains("gets only the releases that mention <code>visa</code>, <code>визы</code>"),
        "{listed}"
    );
    let listed = ask(&bot, russian, "/filter").await;
    assert!(
        listed.contains("except those that mention <code>sanctions</code>"),
        "{listed}"
    );
    assert!(
        ask(&bot, english, "/filter add visa centre")
            .await
            .contains("quotes"),
        "a phrase needs quotes"
    );

    let releases = [
        (105, "Консульский отдел: о ВИЗАХ"),
        (104, "Visas and sanctions"),
        (103, "Sanctions statement"),
        (102, "Визы для студентов"),
        (101, "New visa rules for students"),
        FIRST,
    ];
    publish(&bot, &releases, everything, 5).await;

    assert_eq!(
        titles(&bot.telegram, english),
        [
            "New visa rules for students",
            "Визы для студентов",
            "Visas and sanctions"
        ],
        "visa, and визы as a prefix of nothing but визы"
    );
    assert_eq!(
        titles(&bot.telegram, russian),
        ["Визы для студентов", "Консульский отдел: о ВИЗАХ"],
        "виз in any case, but not with sanctions"
    );
    assert_eq!(
        titles(&bot.telegram, phrase),
        [
            "Визы для студентов",
            "Sanctions statement",
            "Visas and sanctions",
            "Консульский отдел: о ВИЗАХ"
        ],
        "all but the phrase"
    );
    assert_eq!(titles(&bot.telegram, everything).len(), 5);
    // Filtered releases still show in /latest.
    let latest = ask(&bot, russian, "/latest 6").await;
    assert!(latest.contains("Sanctions statement"), "{latest}");

    // Cleared, the chat gets everything again.
    assert!(
        ask(&bot, english, "/filter clear")
            .await
            .contains("gets every release again")
    );
    publish(
        &bot,
        &[(106, "Sanctions again"), releases[0], releases[1]],
        everything,
        6,
    )
    .await;
    assert_eq!(
        titles(&bot.telegram, english).last().unwrap(),
        "Sanctions again"
    );
    assert_eq!(titles(&bot.telegram, russian).len(), 2, "still excluded");
    bot.stop_cleanly().await;
}

/// One quiet night: the chat sets quiet hours 23:00–07:00 London at
/// `evening`; two releases come, the bot is restarted at `night` and a third
/// comes, it is killed with SIGKILL, started again at `dawn` (still quiet: it
/// must say so, and hold), and at `end_soon`, three seconds before the hours
/// end: the three arrive then as one digest, oldest first, once.
async fn quiet_night(evening: &str, night: &str, dawn: &str, end_soon: &str) {
    let (sleeper, control) = (3001, 3002);
    let mut bot = start("evening.log", Some(evening)).await;
    for chat in [sleeper, control] {
        ask(&bot, chat, "/subscribe").await;
    }
    let set = ask(&bot, sleeper, "/quiet 23:00-07:00").await;
    assert!(
        set.contains("23:00–07:00 (Europe/London)")
            && set.contains("It is quiet now, until 07:00."),
        "{set}"
    );
    let second = [
        (202, "Second of the night"),
        (201, "First of the night"),
        FIRST,
    ];
    publish(&bot, &second, control, 2).await;
    let shown = ask(&bot, sleeper, "/quiet").await;
    assert!(
        shown.contains("It is quiet now, until 07:00; 2 releases waiting."),
        "{shown}"
    );
    bot.stop_cleanly().await;

    restart(&mut bot, "night.log", Some(night)).await;
    let third = [(203, "Third of the night"), second[0], second[1], FIRST];
    publish(&bot, &third, control, 3).await;
    let shown = ask(&bot, sleeper, "/quiet").await;
    assert!(
        shown.contains("until 07:00; 3 releases waiting."),
        "{shown}"
    );
    bot.kill().await;

    restart(&mut bot, "dawn.log", Some(dawn)).await;
    let shown = ask(&bot, sleeper, "/quiet").await;
    assert!(
        shown.contains("It is quiet now, until 07:00; 3 releases waiting."),
        "{shown}"
    );
    bot.kill().await;

    restart(&mut bot, "morning.log", Some(end_soon)).await;
    let what = "the sleeper gets the night's releases";
    bot.eventually(what, || !digests(&bot.telegram, sleeper).is_empty())
        .await;
    bot.stop_cleanly().await;

    assert!(
        bot.telegram.pushes_to(sleeper).is_empty(),
        "nothing went one by one"
    );
    let got = digests(&bot.telegram, sleeper);
    assert_eq!(got.len(), 1, "one digest, once: {got:#?}");
    let digest = &got[0];
    assert!(
        digest.starts_with("🗞 During the quiet hours: 3 new releases"),
        "{digest}"
    );
    let at = |title| {
        digest
            .find(title)
            .unwrap_or_else(|| panic!("{title} in {digest}"))
    };
    assert!(at("First of the night") < at("Second of the night"));
    assert!(at("Second of the night") < at("Third of the night"));
    assert_eq!(bot.telegram.pushes_to(control).len(), 3);
}

// 26 March 2023: London goes from 01:00 GMT to 02:00 BST at 01:00 UTC. The
// hours begin at 23:00 UTC and end at 07:00 BST = 06:00 UTC; a bot that
// ignored the change would hold the digest an hour longer (and the test
// would time out).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_hours_across_midnight_on_the_spring_night_with_a_restart_and_a_kill() {
    quiet_night(
        "2023-03-25T23:10:00Z", // 23:10 GMT
        "2023-03-26T01:30:00Z", // 02:30 BST, after the change
        "2023-03-26T05:30:00Z", // 06:30 BST
        "2023-03-26T05:59:57Z", // 06:59:57 BST
    )
    .await;
}

// 29 October 2023: London goes from 02:00 BST back to 01:00 GMT at 01:00 UTC.
// The hours begin at 22:00 UTC and end at 07:00 GMT = 07:00 UTC; a bot that
// ignored the change would say 06:30 UTC is 07:30, after the hours.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_hours_across_midnight_on_the_autumn_night_with_a_restart_and_a_kill() {
    quiet_night(
        "2023-10-28T22:10:00Z", // 23:10 BST
        "2023-10-29T01:30:00Z", // 01:30 GMT, the second time round
        "2023-10-29T06:30:00Z", // 06:30 GMT
        "2023-10-29T06:59:57Z", // 06:59:57 GMT
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daily_digest_holds_a_day_of_releases_for_one_message() {
    let (reader, control) = (4001, 4002);
    // 07:00 BST on 1 June.
    let mut bot = start("morning.log", Some("2023-06-01T06:00:00Z")).await;
    for chat in [reader, control] {
        ask(&bot, chat, "/subscribe").await;
    }
    let set = ask(&bot, reader, "/digest 09:00").await;
    assert!(set.contains("the first on 1 June at 09:00"), "{set}");
    let two = [(302, "Second of the day"), (301, "First of the day"), FIRST];
    publish(&bot, &two, control, 2).await;
    let shown = ask(&bot, reader, "/digest").await;
    assert!(
        shown.contains("the next on 1 June at 09:00, with 2 releases so far"),
        "{shown}"
    );
    assert!(bot.telegram.pushes_to(reader).is_empty());
    bot.stop_cleanly().await;

    // 08:59:57 BST: the digest goes at 09:00.
    restart(&mut bot, "nine.log", Some("2023-06-01T07:59:57Z")).await;
    bot.eventually("the digest", || !digests(&bot.telegram, reader).is_empty())
        .await;
    let digest = digests(&bot.telegram, reader).remove(0);
    assert!(
        digest.starts_with("🗞 Daily digest: 2 new releases"),
        "{digest}"
    );
    assert!(digest.find("First of the day") < digest.find("Second of the day"));

    // A release after the digest waits for tomorrow's.
    let three = [(303, "After the digest"), two[0], two[1], FIRST];
    publish(&bot, &three, control, 3).await;
    let shown = ask(&bot, reader, "/digest").await;
    assert!(
        shown.contains("the next on 2 June at 09:00, with 1 release so far"),
        "{shown}"
    );
    assert_eq!(digests(&bot.telegram, reader).len(), 1);
    assert!(bot.telegram.pushes_to(reader).is_empty());

    // Back to one message per release: the waiting one goes now.
    let off = ask_amid_pushes(&bot, reader, "/digest off").await;
    assert!(
        off.contains("The 1 release waiting for the digest is on its way."),
        "{off}"
    );
    bot.eventually("the waiting release", || {
        bot.telegram.pushes_to(reader).len() == 1
    })
    .await;
    assert_eq!(titles(&bot.telegram, reader), ["After the digest"]);
    bot.stop_cleanly().await;
    assert_eq!(digests(&bot.telegram, reader).len(), 1, "no digest twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chats_language_is_saved_across_restarts() {
    let mut bot = start("first.log", None).await;
    let user = 5001;
    assert!(ask(&bot, user, "/language").await.contains("English (en)"));
    let set = ask(&bot, user, "/language RU").await;
    assert!(
        set.contains("Теперь язык этого чата: Русский (ru)"),
        "{set}"
    );
    assert!(
        ask(&bot, user, "/language de")
            .await
            .starts_with("Как пользоваться: /language en"),
        "a chosen language answers from then on"
    );
    bot.stop_cleanly().await;
    restart(&mut bot, "second.log", None).await;
    assert!(ask(&bot, user, "/language").await.contains("Русский (ru)"));
    assert!(
        ask(&bot, 5002, "/language").await.contains("English (en)"),
        "per chat"
    );
    bot.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_settings_are_for_administrators_and_channels_are_set_from_a_private_chat() {
    let mut bot = start("bot.log", None).await;
    let t = &bot.telegram;
    let (group, admin, member) = (-100_700, 701, 702);
    t.set_member(group, admin, Status::Admin { can_post: false });

    // A member may look, not change.
    t.supergroup_says(group, member, None, "/filter add visa");
    let refusal = t.wait_for(group, 1, WAIT).await;
    assert!(
        refusal[0].text.contains("Only this group's administrators"),
        "{refusal:?}"
    );
    t.supergroup_says(group, member, None, "/filter");
    let got = t.wait_for(group, 2, WAIT).await;
    assert!(got[1].text.contains("no keyword filters"), "{got:?}");
    // An administrator may, in the group and in one of its topics.
    t.supergroup_says(group, admin, None, "/subscribe");
    t.supergroup_says(group, admin, None, "/filter add visa");
    let got = t.wait_for(group, 4, WAIT).await;
    assert!(got[3].text.contains("reach this chat"), "{got:?}");
    t.supergroup_says(group, admin, Some(9), "/quiet 23:00-07:00 Europe/Moscow");
    let got = t.wait_for(group, 5, WAIT).await;
    assert!(
        got[4].text.contains("Quiet hours set for this topic"),
        "{got:?}"
    );
    assert_eq!(got[4].thread, Some(9));
    t.supergroup_says(group, admin, None, "/quiet");
    let got = t.wait_for(group, 6, WAIT).await;
    assert!(
        got[5].text.contains("no quiet hours"),
        "the topic's are its own: {got:?}"
    );

    // A channel: set from a private chat by one of its administrators.
    let (channel, owner, stranger) = (-100_800, 801, 802);
    t.add_chat(ChatSpec {
        id: channel,
        kind: "channel",
        title: "Embassy news".into(),
        username: Some("embassy_chan".into()),
        is_forum: false,
    });
    t.set_member(channel, BOT_ID, Status::Admin { can_post: true });
    t.set_member(channel, owner, Status::Creator);
    assert!(
        ask(&bot, owner, "/subscribe @embassy_chan")
            .await
            .starts_with("Subscribed @embassy_chan")
    );
    let added = ask(&bot, owner, "/filter @embassy_chan add visa").await;
    assert!(added.contains("reach @embassy_chan"), "{added}");
    let refused = ask(&bot, stranger, "/filter @embassy_chan clear").await;
    assert!(
        refused.contains("not an administrator of @embassy_chan"),
        "{refused}"
    );
    t.supergroup_says(group, admin, None, "/filter @embassy_chan");
    let got = t.wait_for(group, 7, WAIT).await;
    assert!(got[6].text.contains("from a private chat"), "{got:?}");

    // The filters hold for the group and the channel alike.
    let releases = [(402, "Sanctions statement"), (401, "Visa news"), FIRST];
    publish(&bot, &releases, channel, 1).await;
    assert_eq!(titles(t, channel), ["Visa news"]);
    assert_eq!(titles(t, group), ["Visa news"]);
    bot.stop_cleanly().await;
}
