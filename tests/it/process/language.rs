//! English and Russian, with the real binary against the fake Bot API: a
//! Russian-speaking user is answered in Russian until the chat chooses
//! English (kept across a restart); a group speaks the language of the
//! administrator who subscribed it, its digests included; `/time` and
//! `/counters` in Russian on a pinned clock (months in the genitive, day
//! counts with Russian plurals); the command menu registered for both.

use std::time::Duration;

use super::settings::{FIRST, page, restart, start, start_with};
use crate::support::Bot;
use crate::support::telegram::Status;

const WAIT: Duration = Duration::from_secs(20);

async fn ask_in(bot: &Bot, user: i64, language: &str, text: &str) -> String {
    bot.telegram.ask_in(user, language, text).await.text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_russian_speaker_is_answered_in_russian_until_the_chat_chooses_english() {
    let mut bot = start("first.log", None).await;
    let user = 6001;
    let start_ru = ask_in(&bot, user, "ru", "/start").await;
    assert!(start_ru.starts_with("Я слежу за сайтом <b>"), "{start_ru}");
    assert!(
        start_ru.contains("/latest — Свежие публикации")
            && start_ru.contains("/time — Дата (Москва) и время (Москва и Лондон)"),
        "the command list in Russian: {start_ru}"
    );
    assert!(
        ask_in(&bot, user, "ru-RU", "/latest 1")
            .await
            .contains("Читать на сайте"),
        "a regional tag counts"
    );
    assert!(
        ask_in(&bot, user, "ru", "/nonsense")
            .await
            .starts_with("Я не знаю команды /nonsense")
    );
    // Another language the bot does not speak: English.
    assert!(
        ask_in(&bot, 6002, "de", "/start")
            .await
            .starts_with("I watch <b>")
    );

    let set = ask_in(&bot, user, "ru", "/language en").await;
    assert_eq!(set, "The language of this chat is now English (en).");
    assert!(
        ask_in(&bot, user, "ru", "/start")
            .await
            .starts_with("I watch <b>"),
        "the choice wins over the app's language"
    );
    bot.stop_cleanly().await;

    restart(&mut bot, "second.log", None).await;
    assert!(
        ask_in(&bot, user, "ru", "/start")
            .await
            .starts_with("I watch <b>"),
        "the choice outlives a restart"
    );
    let back = ask_in(&bot, user, "en", "/language ru").await;
    assert_eq!(back, "Теперь язык этого чата: Русский (ru).");
    assert!(
        ask_in(&bot, user, "en", "/start")
            .await
            .starts_with("Я слежу за сайтом")
    );
    bot.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_speaks_the_language_of_the_admin_who_subscribed_it_in_replies_and_digests() {
    let mut bot = start("evening.log", Some("2023-06-01T22:10:00Z")).await;
    let t = bot.telegram.clone();
    let t = &t;
    let (group, admin, member, control) = (-7001, 7002, 7003, 7004);
    t.set_member(group, admin, Status::Admin { can_post: false });
    // 23:10 in London: the group's quiet hours have begun.
    t.ask(control, "/subscribe").await;

    t.group_says_in(group, admin, "ru", "/subscribe");
    let got = t.wait_for(group, 1, WAIT).await;
    assert!(got[0].text.starts_with("Подписка оформлена"), "{got:?}");
    // A member whose app speaks English hears the group's language.
    t.group_says_in(group, member, "en", "/sources");
    let got = t.wait_for(group, 2, WAIT).await;
    assert!(
        got[1]
            .text
            .starts_with("<b>Источники</b>\nВы получаете: все источники"),
        "{got:?}"
    );
    t.group_says_in(group, admin, "ru", "/quiet 23:00-07:00");
    let got = t.wait_for(group, 3, WAIT).await;
    assert!(
        got[2]
            .text
            .starts_with("Тихие часы для этого чата: 23:00–07:00 (Europe/London).")
            && got[2].text.contains("Сейчас тихо, до 07:00."),
        "{got:?}"
    );

    bot.site.set_page(page(&[
        (202, "Second of the night"),
        (201, "First of the night"),
        FIRST,
    ]));
    bot.eventually("the control chat's two pushes", || {
        t.pushes_to(control).len() == 2
    })
    .await;
    bot.stop_cleanly().await;

    // 06:59:57 in London: the night's releases come as one digest, framed in Russian.
    restart(&mut bot, "morning.log", Some("2023-06-02T05:59:57Z")).await;
    let digest = || {
        t.sent_to(group)
            .into_iter()
            .map(|m| m.text)
            .find(|m| m.starts_with("🗞"))
    };
    bot.eventually("the group's digest", || digest().is_some())
        .await;
    bot.stop_cleanly().await;
    let digest = digest().unwrap_or_default();
    assert!(
        digest.starts_with("🗞 За тихие часы: 2 новые публикации\n\n"),
        "{digest}"
    );
    assert_eq!(digest.matches("Читать на сайте").count(), 2, "{digest}");
    assert!(
        digest.contains("First of the night") && digest.contains("Second of the night"),
        "the site's own text is never translated: {digest}"
    );
    // The control chat (no language) got the same releases one by one,
    // pushes having no words of their own.
    assert_eq!(t.pushes_to(control).len(), 2);
}

/// Counters started 1, 2, 5, 11 and 21 days before 29 November 2026 (Moscow).
const COUNTERS: &str = r#"
[[counters]]
text = { en = "{days} {days_word} since one", ru = "{days} {days_word} с первого" }
since = "2026-11-28"

[[counters]]
text = { en = "{days} {days_word} since two", ru = "{days} {days_word} со второго" }
since = "2026-11-27"

[[counters]]
text = { en = "{days} {days_word} since five", ru = "{days} {days_word} с пятого" }
since = "2026-11-24"

[[counters]]
text = { en = "{days} {days_word} since eleven", ru = "{days} {days_word} с одиннадцатого" }
since = "2026-11-18"

[[counters]]
text = "{days} {days_word} (one text for all)"
since = "2026-11-08"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_and_counters_in_russian_use_the_genitive_and_russian_plurals() {
    // 12:00 in Moscow, 09:00 in London.
    let mut bot = start_with(COUNTERS, "clock.log", Some("2026-11-29T09:00:00Z")).await;
    let time = ask_in(&bot, 8001, "ru", "/time").await;
    assert_eq!(
        time,
        "<b>29 ноября 2026 г.</b>\nМосква: 12:00\nЛондон: 09:00"
    );
    let counters = ask_in(&bot, 8001, "ru", "/counters").await;
    assert_eq!(
        counters,
        "1 день с первого\n\n2 дня со второго\n\n5 дней с пятого\n\n11 дней с одиннадцатого\n\n21 день (one text for all)"
    );
    let time = ask_in(&bot, 8002, "en", "/time").await;
    assert_eq!(
        time,
        "<b>29 November 2026</b>\nMoscow: 12:00\nLondon: 09:00"
    );
    let counters = ask_in(&bot, 8002, "en", "/counters").await;
    assert!(
        counters.starts_with("1 day since one\n\n2 days since two")
            && counters.ends_with("21 days (one text for all)"),
        "{counters}"
    );
    bot.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_menu_is_registered_in_english_and_in_russian() {
    let mut bot = start("menu.log", None).await;
    bot.stop_cleanly().await;
    let t = &bot.telegram;
    assert_eq!(t.menu_languages(), [None, Some("ru".to_string())]);
    let pairs = |menu: serde_json::Value| -> Vec<(String, String)> {
        menu.as_array()
            .expect("a list of commands")
            .iter()
            .map(|c| {
                (
                    c["command"].as_str().unwrap().to_string(),
                    c["description"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let en = pairs(t.commands().expect("the default menu"));
    let ru = pairs(t.commands_in("ru").expect("the Russian menu"));
    let names = |menu: &[(String, String)]| menu.iter().map(|c| c.0.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&en),
        names(&ru),
        "the same commands, in the same order"
    );
    let said = |menu: &[(String, String)], name: &str| {
        menu.iter()
            .find(|c| c.0 == name)
            .map(|c| c.1.clone())
            .unwrap_or_default()
    };
    assert_eq!(
        said(&en, "latest"),
        "Newest releases: /latest [n], n up to 20"
    );
    assert_eq!(
        said(&ru, "latest"),
        "Свежие публикации: /latest [n], n до 20"
    );
    assert_eq!(said(&ru, "time"), "Дата (Москва) и время (Москва и Лондон)");
    for (name, description) in &ru {
        assert!(
            description.chars().count() <= 256 && !description.is_empty(),
            "Telegram takes 1-256 characters: {name}"
        );
    }
}
