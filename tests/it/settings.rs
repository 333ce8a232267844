//! What a chat chose, with the real binary against the fake Bot API: keyword
//! filters in English and Russian (includes, excludes, prefixes, phrases),
//! quiet hours across midnight on both nights the clocks change with a
//! restart and a `kill -9` inside them, the daily digest, the chat's
//! language kept across restarts, and who may change a group's or a
//! channel's settings. The bot runs on a test clock (`EMBASSY_BOT_TEST_CLOCK`)
//! started at the instant each step needs.

use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveDate;

use crate::support::site::FakeSite;
use crate::support::telegram::{BOT_ID, ChatSpec, FakeTelegram, Sent, Status};
use crate::support::{BotProcess, eventually, release_page, write_config};

const WAIT: Duration = Duration::from_secs(20);

/// The fakes one bot talks to, and its config file (shared with `language.rs`).
pub(crate) struct Fakes {
    pub(crate) telegram: FakeTelegram,
    pub(crate) site: FakeSite,
    _dir: tempfile::TempDir,
    pub(crate) config: PathBuf,
}

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

pub(crate) async fn fakes() -> Fakes {
    let telegram = FakeTelegram::start().await;
    let site = FakeSite::start(page(&[FIRST])).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &telegram.url, &site.url, 1);
    Fakes {
        telegram,
        site,
        _dir: dir,
        config,
    }
}

/// Starts the bot (on a test clock reading `now`, if given) and waits until
/// it has read the site.
pub(crate) async fn start(f: &Fakes, log: &str, now: Option<&str>) -> BotProcess {
    let bot = match now {
        Some(now) => BotProcess::spawn_at(&f.config, log, now),
        None => BotProcess::spawn(&f.config, log),
    };
    f.telegram.wait_for_polls(1, WAIT, &bot).await;
    f.telegram
        .ask_until(990_001, "/latest 1", &bot, |r| {
            r.contains("Read on the site")
        })
        .await;
    bot
}

/// Sends `text` as `user` in a private chat and returns the reply's text.
async fn ask(f: &Fakes, user: i64, text: &str) -> String {
    f.telegram.ask(user, text).await.text
}

/// Like [`ask`], when pushes may arrive around the reply: the first new
/// message that is not a push or a digest.
async fn ask_amid_pushes(f: &Fakes, bot: &BotProcess, user: i64, text: &str) -> String {
    let before = f.telegram.sent_to(user).len();
    f.telegram.user_says(user, text);
    let reply = || {
        f.telegram.sent_to(user)[before..]
            .iter()
            .map(|m| m.text.clone())
            .find(|t| !t.starts_with("🆕") && !t.starts_with("🗞"))
    };
    eventually(WAIT, &format!("a reply to {text}"), bot, || {
        reply().is_some()
    })
    .await;
    reply().unwrap_or_default()
}

/// Publishes `releases` (on top of what the page shows) and waits until
/// `control`, a chat with no settings, has `pushes` pushes: the walk has
/// then passed every chat, and journaled those it held.
async fn publish(
    f: &Fakes,
    bot: &BotProcess,
    releases: &[(u32, &str)],
    control: i64,
    pushes: usize,
) {
    f.site.set_page(page(releases));
    let what = format!("chat {control} gets {pushes} pushes");
    eventually(WAIT, &what, bot, || {
        f.telegram.pushes_to(control).len() >= pushes
    })
    .await;
    // A few more reads: anything else that would go, has gone.
    let hits = f.site.hits();
    f.site.wait_for_hits(hits, 3, WAIT).await;
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
    let f = fakes().await;
    let bot = start(&f, "bot.log", None).await;
    let (english, russian, phrase, everything) = (2001, 2002, 2003, 2004);
    for chat in [english, russian, phrase, everything] {
        assert!(ask(&f, chat, "/subscribe").await.starts_with("Subscribed"));
    }
    let added = ask(&f, english, "/filter add Visa").await;
    assert!(
        added.contains("releases that mention <code>visa</code> reach this chat"),
        "{added}"
    );
    ask(&f, english, "/filter add Визы").await;
    ask(&f, russian, "/filter add виз").await;
    let excluded = ask(&f, russian, "/filter add -Sanctions").await;
    assert!(excluded.contains("no longer reach this chat"), "{excluded}");
    ask(&f, phrase, "/filter add -\"visa rules\"").await;
    let listed = ask(&f, english, "/filter").await;
    assert!(
        listed.contains("gets only the releases that mention <code>visa</code>, <code>визы</code>"),
        "{listed}"
    );
    let listed = ask(&f, russian, "/filter").await;
    assert!(
        listed.contains("except those that mention <code>sanctions</code>"),
        "{listed}"
    );
    assert!(
        ask(&f, english, "/filter add visa centre")
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
    publish(&f, &bot, &releases, everything, 5).await;

    assert_eq!(
        titles(&f.telegram, english),
        [
            "New visa rules for students",
            "Визы для студентов",
            "Visas and sanctions"
        ],
        "visa, and визы as a prefix of nothing but визы"
    );
    assert_eq!(
        titles(&f.telegram, russian),
        ["Визы для студентов", "Консульский отдел: о ВИЗАХ"],
        "виз in any case, but not with sanctions"
    );
    assert_eq!(
        titles(&f.telegram, phrase),
        [
            "Визы для студентов",
            "Sanctions statement",
            "Visas and sanctions",
            "Консульский отдел: о ВИЗАХ"
        ],
        "all but the phrase"
    );
    assert_eq!(titles(&f.telegram, everything).len(), 5);
    // Filtered releases still show in /latest.
    let latest = ask(&f, russian, "/latest 6").await;
    assert!(latest.contains("Sanctions statement"), "{latest}");

    // Cleared, the chat gets everything again.
    assert!(
        ask(&f, english, "/filter clear")
            .await
            .contains("gets every release again")
    );
    publish(
        &f,
        &bot,
        &[(106, "Sanctions again"), releases[0], releases[1]],
        everything,
        6,
    )
    .await;
    assert_eq!(
        titles(&f.telegram, english).last().unwrap(),
        "Sanctions again"
    );
    assert_eq!(titles(&f.telegram, russian).len(), 2, "still excluded");
    bot.stop_cleanly().await;
}

/// One quiet night: the chat sets quiet hours 23:00–07:00 London at
/// `evening`; two releases come, the bot is restarted at `night` and a third
/// comes, it is killed with SIGKILL, started again at `dawn` (still quiet: it
/// must say so, and hold), and at `end_soon`, three seconds before the hours
/// end: the three arrive then as one digest, oldest first, once.
async fn quiet_night(evening: &str, night: &str, dawn: &str, end_soon: &str) {
    let f = fakes().await;
    let (sleeper, control) = (3001, 3002);
    let bot = start(&f, "evening.log", Some(evening)).await;
    for chat in [sleeper, control] {
        ask(&f, chat, "/subscribe").await;
    }
    let set = ask(&f, sleeper, "/quiet 23:00-07:00").await;
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
    publish(&f, &bot, &second, control, 2).await;
    let shown = ask(&f, sleeper, "/quiet").await;
    assert!(
        shown.contains("It is quiet now, until 07:00; 2 releases waiting."),
        "{shown}"
    );
    bot.stop_cleanly().await;

    let bot = start(&f, "night.log", Some(night)).await;
    let third = [(203, "Third of the night"), second[0], second[1], FIRST];
    publish(&f, &bot, &third, control, 3).await;
    let shown = ask(&f, sleeper, "/quiet").await;
    assert!(
        shown.contains("until 07:00; 3 releases waiting."),
        "{shown}"
    );
    bot.kill().await;

    let bot = start(&f, "dawn.log", Some(dawn)).await;
    let shown = ask(&f, sleeper, "/quiet").await;
    assert!(
        shown.contains("It is quiet now, until 07:00; 3 releases waiting."),
        "{shown}"
    );
    bot.kill().await;

    let bot = start(&f, "morning.log", Some(end_soon)).await;
    let what = "the sleeper gets the night's releases";
    eventually(WAIT, what, &bot, || {
        !digests(&f.telegram, sleeper).is_empty()
    })
    .await;
    bot.stop_cleanly().await;

    assert!(
        f.telegram.pushes_to(sleeper).is_empty(),
        "nothing went one by one"
    );
    let got = digests(&f.telegram, sleeper);
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
    assert_eq!(f.telegram.pushes_to(control).len(), 3);
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
    let f = fakes().await;
    let (reader, control) = (4001, 4002);
    // 07:00 BST on 1 June.
    let bot = start(&f, "morning.log", Some("2023-06-01T06:00:00Z")).await;
    for chat in [reader, control] {
        ask(&f, chat, "/subscribe").await;
    }
    let set = ask(&f, reader, "/digest 09:00").await;
    assert!(set.contains("the first on 1 June at 09:00"), "{set}");
    let two = [(302, "Second of the day"), (301, "First of the day"), FIRST];
    publish(&f, &bot, &two, control, 2).await;
    let shown = ask(&f, reader, "/digest").await;
    assert!(
        shown.contains("the next on 1 June at 09:00, with 2 releases so far"),
        "{shown}"
    );
    assert!(f.telegram.pushes_to(reader).is_empty());
    bot.stop_cleanly().await;

    // 08:59:57 BST: the digest goes at 09:00.
    let bot = start(&f, "nine.log", Some("2023-06-01T07:59:57Z")).await;
    eventually(WAIT, "the digest", &bot, || {
        !digests(&f.telegram, reader).is_empty()
    })
    .await;
    let digest = digests(&f.telegram, reader).remove(0);
    assert!(
        digest.starts_with("🗞 Daily digest: 2 new releases"),
        "{digest}"
    );
    assert!(digest.find("First of the day") < digest.find("Second of the day"));

    // A release after the digest waits for tomorrow's.
    let three = [(303, "After the digest"), two[0], two[1], FIRST];
    publish(&f, &bot, &three, control, 3).await;
    let shown = ask(&f, reader, "/digest").await;
    assert!(
        shown.contains("the next on 2 June at 09:00, with 1 release so far"),
        "{shown}"
    );
    assert_eq!(digests(&f.telegram, reader).len(), 1);
    assert!(f.telegram.pushes_to(reader).is_empty());

    // Back to one message per release: the waiting one goes now.
    let off = ask_amid_pushes(&f, &bot, reader, "/digest off").await;
    assert!(
        off.contains("The 1 release waiting for the digest is on its way."),
        "{off}"
    );
    eventually(WAIT, "the waiting release", &bot, || {
        f.telegram.pushes_to(reader).len() == 1
    })
    .await;
    assert_eq!(titles(&f.telegram, reader), ["After the digest"]);
    bot.stop_cleanly().await;
    assert_eq!(digests(&f.telegram, reader).len(), 1, "no digest twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chats_language_is_saved_across_restarts() {
    let f = fakes().await;
    let bot = start(&f, "first.log", None).await;
    let user = 5001;
    assert!(ask(&f, user, "/language").await.contains("English (en)"));
    let set = ask(&f, user, "/language RU").await;
    assert!(
        set.contains("Теперь язык этого чата: Русский (ru)"),
        "{set}"
    );
    assert!(
        ask(&f, user, "/language de")
            .await
            .starts_with("Как пользоваться: /language en"),
        "a chosen language answers from then on"
    );
    bot.stop_cleanly().await;
    let bot = start(&f, "second.log", None).await;
    assert!(ask(&f, user, "/language").await.contains("Русский (ru)"));
    assert!(
        ask(&f, 5002, "/language").await.contains("English (en)"),
        "per chat"
    );
    bot.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_settings_are_for_administrators_and_channels_are_set_from_a_private_chat() {
    let f = fakes().await;
    let bot = start(&f, "bot.log", None).await;
    let t = &f.telegram;
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
        ask(&f, owner, "/subscribe @embassy_chan")
            .await
            .starts_with("Subscribed @embassy_chan")
    );
    let added = ask(&f, owner, "/filter @embassy_chan add visa").await;
    assert!(added.contains("reach @embassy_chan"), "{added}");
    let refused = ask(&f, stranger, "/filter @embassy_chan clear").await;
    assert!(
        refused.contains("not an administrator of @embassy_chan"),
        "{refused}"
    );
    t.supergroup_says(group, admin, None, "/filter @embassy_chan");
    let got = t.wait_for(group, 7, WAIT).await;
    assert!(got[6].text.contains("from a private chat"), "{got:?}");

    // The filters hold for the group and the channel alike.
    let releases = [(402, "Sanctions statement"), (401, "Visa news"), FIRST];
    publish(&f, &bot, &releases, channel, 1).await;
    assert_eq!(titles(t, channel), ["Visa news"]);
    assert_eq!(titles(t, group), ["Visa news"]);
    bot.stop_cleanly().await;
}

// ---- delivery against a recording messenger, in paused time -------------------

mod paused {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use chrono::{DateTime, NaiveDate, Utc};
    use embassy_bot::Clock;
    use embassy_bot::Delivery;
    use embassy_bot::Item;
    use embassy_bot::Limiter;
    use embassy_bot::Shutdown;
    use embassy_bot::testing::text::markup::{MAX_MESSAGE_UTF16, utf16_len};
    use embassy_bot::{Filter, parse_time};
    use embassy_bot::{Format, Messenger, SendError};
    use embassy_bot::{Store, Target};
    use tokio::time::Instant;

    use crate::support::poll;

    /// Every message sent: to whom, what, and when (tokio's paused clock).
    #[derive(Clone, Default)]
    struct Recorder {
        sent: Arc<Mutex<Vec<(Target, String, Instant)>>>,
        /// Refuse every digest sent as HTML, as Telegram does HTML it
        /// cannot parse.
        refuse_digest_html: bool,
    }

    impl Recorder {
        fn to(&self, target: impl Into<Target>) -> Vec<(String, Instant)> {
            let target = target.into();
            self.sent
                .lock()
                .unwrap()
                .iter()
                .filter(|(t, _, _)| *t == target)
                .map(|(_, text, at)| (text.clone(), *at))
                .collect()
        }
    }

    impl Messenger for Recorder {
        async fn send(
            &self,
            chat: i64,
            thread: Option<i32>,
            text: String,
            format: Format,
        ) -> Result<(), SendError> {
            if self.refuse_digest_html && format == Format::Html && text.starts_with("🗞") {
                return Err(SendError::Rejected(
                    "Bad Request: can't parse entities: unsupported start tag".into(),
                ));
            }
            let target = Target { chat, thread };
            self.sent
                .lock()
                .unwrap()
                .push((target, text, Instant::now()));
            Ok(())
        }
    }

    fn item(n: u32) -> Item {
        let parity = if n.is_multiple_of(2) { "even" } else { "odd" };
        Item {
            id: format!("site/fnapr/{n}"),
            url: format!("https://site/fnapr/{n}"),
            // Long enough that 30 of them cannot share one message.
            title: format!("Release {n} {parity}: {}", "a long title ".repeat(12)),
            date: NaiveDate::from_ymd_opt(2023, 6, 10),
            lead: "A lead that runs on. ".repeat(20),
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn held_pushes_go_when_the_quiet_hours_end_as_one_digest_split_at_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        // 06:58 BST: two minutes of quiet left.
        let clock = Clock::starting_at(utc("2023-06-11T05:58:00Z"));
        let now = clock.now();
        poll(&store, "s", &[item(0)], now).await;
        let (sleeper, picky, control) = (1, 2, 3);
        for chat in [sleeper, picky, control] {
            store.subscribe(chat, None, now).await.unwrap();
        }
        let quiet = embassy_bot::QuietHours {
            from: parse_time("23:00").unwrap(),
            to: parse_time("07:00").unwrap(),
            zone: chrono_tz::Europe::London,
        };
        for chat in [sleeper, picky] {
            store
                .change_settings(Target::from(chat), |s| s.quiet = Some(quiet))
                .await
                .unwrap();
        }
        let items: Vec<Item> = (0..=30).rev().map(item).collect();
        assert_eq!(poll(&store, "s", &items, now).await.queued, 30);

        let recorder = Recorder::default();
        let (_wake, trigger, worker) = deliver(&store, &recorder, clock);
        while recorder.to(control).len() < 30 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Journaled with the old filters; the new ones decide when it is sent.
        store
            .change_settings(Target::from(picky), |s| {
                s.filters.push(Filter::parse("-even").unwrap())
            })
            .await
            .unwrap();
        let end = clock.instant_at(utc("2023-06-11T06:00:00Z"));
        tokio::time::sleep_until(end - Duration::from_secs(1)).await;
        assert!(recorder.to(sleeper).is_empty() && recorder.to(picky).is_empty());
        tokio::time::sleep(Duration::from_secs(2)).await;

        let parts = recorder.to(sleeper);
        assert!(
            parts.len() > 1 && parts.len() < 30,
            "{} messages",
            parts.len()
        );
        let mut next = 1;
        for (i, (text, at)) in parts.iter().enumerate() {
            assert!(*at >= end, "not before the hours end");
            assert!(utf16_len(text) <= MAX_MESSAGE_UTF16);
            assert!(text.starts_with(&format!(
                "🗞 During the quiet hours: 30 new releases ({}/{})",
                i + 1,
                parts.len()
            )));
            // Oldest first, across the parts, none twice, none left out.
            for block in text.split("\n\n").skip(1) {
                assert!(
                    block.contains(&format!("Release {next} ")),
                    "{next}: {block}"
                );
                next += 1;
            }
        }
        assert_eq!(next, 31);
        let picked = recorder.to(picky);
        let all: String = picked.iter().map(|(t, _)| t.as_str()).collect();
        assert!(all.contains("15 new releases"), "{all}");
        assert!(all.contains("Release 29 odd") && !all.contains(" even:"));
        assert!(
            recorder
                .to(control)
                .iter()
                .all(|(t, _)| t.starts_with("🆕"))
        );
        assert_eq!(store.journal_count(), 0, "every entry completed");
        trigger.trigger();
        worker.await.unwrap();
    }
    #[tokio::test(start_paused = true)]
    async fn a_digest_telegram_refuses_as_html_loses_none_of_its_releases() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        // 06:58 BST: two minutes of quiet left.
        let clock = Clock::starting_at(utc("2023-06-11T05:58:00Z"));
        let now = clock.now();
        poll(&store, "s", &[item(0)], now).await;
        let sleeper = 1;
        store.subscribe(sleeper, None, now).await.unwrap();
        let quiet = embassy_bot::QuietHours {
            from: parse_time("23:00").unwrap(),
            to: parse_time("07:00").unwrap(),
            zone: chrono_tz::Europe::London,
        };
        store
            .change_settings(Target::from(sleeper), |s| s.quiet = Some(quiet))
            .await
            .unwrap();
        let items: Vec<Item> = (0..=12).rev().map(item).collect();
        assert_eq!(poll(&store, "s", &items, now).await.queued, 12);

        let recorder = Recorder {
            refuse_digest_html: true,
            ..Recorder::default()
        };
        let (_wake, trigger, worker) = deliver(&store, &recorder, clock);
        let end = clock.instant_at(utc("2023-06-11T06:00:00Z"));
        tokio::time::sleep_until(end + Duration::from_secs(60)).await;

        let all: String = recorder
            .to(sleeper)
            .iter()
            .map(|(t, _)| t.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        for n in 1..=12 {
            assert!(
                all.contains(&format!("Release {n} ")),
                "release {n} lost: {all}"
            );
        }
        assert_eq!(store.journal_count(), 0, "every entry completed");
        trigger.trigger();
        worker.await.unwrap();
    }

    /// Starts delivery on `store` with `clock`; the trigger stops it.
    fn deliver(
        store: &Store,
        recorder: &Recorder,
        clock: Clock,
    ) -> (
        Arc<tokio::sync::Notify>,
        embassy_bot::ShutdownTrigger,
        tokio::task::JoinHandle<()>,
    ) {
        let delivery = Delivery::new(
            store.clone(),
            recorder.clone(),
            Arc::new(Limiter::new(None)),
            4,
        )
        .with_clock(clock);
        let wake = Arc::new(tokio::sync::Notify::new());
        let (trigger, shutdown) = Shutdown::new();
        let worker = tokio::spawn(delivery.run(wake.clone(), shutdown));
        wake.notify_one();
        (wake, trigger, worker)
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_topic_holds_its_own_pushes_and_never_its_neighbours() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        // 06:50 BST: ten minutes of quiet left.
        let clock = Clock::starting_at(utc("2023-06-11T05:50:00Z"));
        let now = clock.now();
        poll(&store, "s", &[item(0)], now).await;
        let forum = -1_001;
        let (quiet_topic, busy_topic) = (Target::topic(forum, 1), Target::topic(forum, 2));
        for topic in [quiet_topic, busy_topic] {
            store.subscribe(topic, None, now).await.unwrap();
        }
        let quiet = embassy_bot::QuietHours {
            from: parse_time("23:00").unwrap(),
            to: parse_time("07:00").unwrap(),
            zone: chrono_tz::Europe::London,
        };
        store
            .change_settings(quiet_topic, |s| s.quiet = Some(quiet))
            .await
            .unwrap();
        let recorder = Recorder::default();
        let (wake, trigger, worker) = deliver(&store, &recorder, clock);
        poll(&store, "s", &[item(1), item(0)], now).await;
        wake.notify_one();
        while recorder.to(busy_topic).is_empty() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // A minute later, the next release: the busy topic gets it at once,
        // though the chat holds the quiet topic's first.
        tokio::time::sleep(Duration::from_secs(60)).await;
        let second = Instant::now();
        poll(&store, "s", &[item(2), item(1), item(0)], now).await;
        wake.notify_one();
        while recorder.to(busy_topic).len() < 2 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(recorder.to(busy_topic)[1].1 - second < Duration::from_secs(5));
        assert!(recorder.to(quiet_topic).is_empty());
        let end = clock.instant_at(utc("2023-06-11T06:00:00Z"));
        tokio::time::sleep_until(end + Duration::from_secs(1)).await;
        let digest = recorder.to(quiet_topic);
        assert_eq!(digest.len(), 1);
        assert!(
            digest[0]
                .0
                .starts_with("🗞 During the quiet hours: 2 new releases")
        );
        assert!(digest[0].1 >= end);
        trigger.trigger();
        worker.await.unwrap();
    }
}

// ---- the store and the walk ---------------------------------------------------

mod kept {
    use chrono::{NaiveDate, Utc};
    use embassy_bot::FanOut;
    use embassy_bot::Filter;
    use embassy_bot::Item;
    use embassy_bot::Language;
    use embassy_bot::{Removal, Store, Target};

    use crate::support::{fan_out_page, poll, reopen_store};

    fn item(n: u32, title: &str) -> Item {
        Item {
            id: format!("site/fnapr/{n}"),
            url: format!("https://site/fnapr/{n}"),
            title: title.into(),
            date: NaiveDate::from_ymd_opt(2023, 6, 10),
            lead: "Nothing in particular.".into(),
        }
    }

    async fn set(store: &Store, target: Target, filter: &str) {
        store
            .change_settings(target, |s| s.filters.push(Filter::parse(filter).unwrap()))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn settings_outlive_an_unsubscribe_and_a_restart_but_not_a_chat_that_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let now = Utc::now();
        let (stays, leaves, gone, forum) = (1, 2, 3, -1_009);
        for chat in [stays, leaves, gone, forum] {
            store.subscribe(chat, None, now).await.unwrap();
            set(&store, chat.into(), "visa").await;
        }
        store
            .subscribe(Target::topic(forum, 4), None, now)
            .await
            .unwrap();
        set(&store, Target::topic(forum, 4), "-visa").await;
        store
            .change_settings(stays.into(), |s| s.language = Some(Language::Ru))
            .await
            .unwrap();
        // A chat that never subscribed may still choose its language.
        store
            .change_settings(7.into(), |s| s.language = Some(Language::Ru))
            .await
            .unwrap();

        assert!(store.unsubscribe(leaves, None, &[]).await.unwrap());
        store.remove_chat(gone, Removal::ChatGone).await.unwrap();
        store
            .remove_target(Target::topic(forum, 4), Removal::ChatGone)
            .await
            .unwrap();
        drop(store);
        let store = reopen_store(dir.path());
        assert_eq!(store.language(stays).unwrap(), Some(Language::Ru));
        assert_eq!(store.language(7).unwrap(), Some(Language::Ru));
        assert_eq!(store.language(leaves).unwrap(), None);
        assert_eq!(
            store.settings(leaves.into()).unwrap().filters.len(),
            1,
            "kept"
        );
        assert!(
            store.settings(gone.into()).unwrap().is_empty(),
            "gone with it"
        );
        assert!(store.settings(Target::topic(forum, 4)).unwrap().is_empty());
        assert_eq!(store.settings(forum.into()).unwrap().filters.len(), 1);

        // A group that becomes a supergroup takes its settings along, even
        // when the supergroup was given a language of its own first (someone
        // sent /subscribe there before the bot saw the upgrade): what the
        // supergroup chose wins, the group's choices fill the rest.
        let supergroup = -1_001_009;
        store
            .change_settings(forum.into(), |s| s.language = Some(Language::Ru))
            .await
            .unwrap();
        store
            .change_settings(supergroup.into(), |s| {
                s.inferred_language = Some(Language::Ru);
                s.language = Some(Language::En);
            })
            .await
            .unwrap();
        FanOut::new(store.clone(), 1)
            .migrate_chat(forum, supergroup)
            .await
            .unwrap();
        assert!(store.chat_settings(forum).unwrap().targets.is_empty());
        let moved = store.settings(supergroup.into()).unwrap();
        assert_eq!(moved.filters.len(), 1, "the group's filter came along");
        assert_eq!(moved.language, Some(Language::En), "the supergroup's own");
        assert_eq!(moved.inferred_language, Some(Language::Ru));
        store
            .change_settings(supergroup.into(), |s| {
                s.language = None;
                s.inferred_language = None;
            })
            .await
            .unwrap();
        // Nothing chosen any more: no record.
        store
            .change_settings(supergroup.into(), |s| s.filters.clear())
            .await
            .unwrap();
        assert!(store.chat_settings(supergroup).unwrap().targets.is_empty());
    }

    #[tokio::test]
    async fn a_group_keeps_settings_for_at_most_max_topics_topics() {
        use embassy_bot::MAX_TOPICS;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let forum = -1_007;
        for thread in 1..=MAX_TOPICS as i32 {
            let topic = Target::topic(forum, thread);
            assert!(store.may_keep_settings(topic).unwrap(), "{thread}");
            set(&store, topic, "visa").await;
        }
        let one_more = Target::topic(forum, MAX_TOPICS as i32 + 1);
        assert!(
            !store.may_keep_settings(one_more).unwrap(),
            "past the bound"
        );
        assert!(
            store.may_keep_settings(Target::topic(forum, 1)).unwrap(),
            "a topic that has settings may change them"
        );
        assert!(
            store.may_keep_settings(forum.into()).unwrap(),
            "the chat itself"
        );
        assert!(store.may_keep_settings(Target::topic(-1_008, 1)).unwrap());
        // A topic that lets go of its settings makes room.
        store
            .change_settings(Target::topic(forum, 1), |s| s.filters.clear())
            .await
            .unwrap();
        drop(store);
        let store = reopen_store(dir.path());
        assert!(store.may_keep_settings(one_more).unwrap());
    }

    #[tokio::test]
    async fn the_walk_passes_over_filtered_releases_and_journals_held_targets() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let now = Utc::now();
        poll(&store, "s", &[item(1, "Old")], now).await;
        let (wants, refuses, sleeps, plain) = (10, 20, 30, 40);
        for chat in [wants, refuses, sleeps, plain] {
            store.subscribe(chat, None, now).await.unwrap();
        }
        set(&store, wants.into(), "визы").await;
        set(&store, refuses.into(), "-визы").await;
        // Quiet all day but a minute: held whenever the test runs.
        let quiet = embassy_bot::QuietHours {
            from: now.time(),
            to: now.time() - chrono::Duration::minutes(1),
            zone: chrono_tz::UTC,
        };
        store
            .change_settings(sleeps.into(), |s| s.quiet = Some(quiet))
            .await
            .unwrap();
        poll(&store, "s", &[item(2, "Новые ВИЗЫ"), item(1, "Old")], now).await;

        let fan_out = FanOut::new(store.clone(), 1);
        let page = fan_out_page(&fan_out, 100, |_| false).await.unwrap();
        assert_eq!(page.chats, vec![wants, plain]);
        assert_eq!(page.journaled, 1, "the sleeper, for later");
        assert!(
            store.journal_for(refuses).unwrap().is_empty(),
            "no entry at all"
        );
        let held = store.journal_for(sleeps).unwrap();
        assert_eq!(held.len(), 1);
        assert!(
            held[0]
                .journaled_at
                .is_some_and(|at| (at - now.timestamp()).abs() < 60)
        );
    }
}
