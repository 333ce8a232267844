//! Full text (issue 21, part 2): each release's own page is read once in the
//! background (and once more when its title or lead changes), its body is
//! found by `/search` and carried by both feeds. The release pages are our
//! own text, laid out as the embassy's are: the header clocks and counter,
//! "PRESS RELEASES AND NEWS", the date, the title, paragraphs, then
//! "LATEST EVENTS".

use std::time::Duration;

use chrono::NaiveDate;

use crate::support::site::FakeSite;
use crate::support::telegram::{Answer, Place};
use crate::support::{Bot, TestBot, release_page};

const WAIT: Duration = Duration::from_secs(30);
const USER: i64 = 777;

/// A release page in the site's layout, with `words` in its second paragraph.
fn article(date: &str, title: &str, words: &str) -> String {
    format!(
        r#"<html><head><meta charset="utf-8"><title>Embassy</title></head><body>
<div class="clocks"><span>7 December 2026</span><span>Moscow: 18:02</span><span>London: 15:02</span></div>
<div class="consular">Consular queries: <b>+44 (0) 20 0000 0001</b></div>
<div class="counter">2000 days have passed since an imaginary event</div>
<div class="content">
<h2>PRESS RELEASES AND NEWS</h2>
<div class="date">{date}</div>
<h1>{title}</h1>
<p>The embassy invites compatriots to a winter evening of music and reading at its residence.</p>
<p>Guests will hear {words} performed by a string quartet; details on the <a href="/fnapr/1">programme page</a>.</p>
<h2>LATEST EVENTS</h2>
<p><a href="/fnapr/2">01.12.2026 - An older release</a></p>
</div></body></html>"#
    )
}

/// The bot against `site` (as source `fake`), with full text on (the shared
/// config has it off) and no delay between page reads; with `http`, its
/// HTTP server too. Waits for nothing more (the HTTP address).
async fn start(site: &FakeSite, http: bool) -> Bot {
    let bot = TestBot::new().site(site.clone()).replace(
        "[full_text]\nenabled = false",
        "[full_text]\nenabled = true\ndelay_secs = 0",
    );
    let bot = if http { bot.http() } else { bot };
    bot.spawn().await
}

/// The feed `file` once it holds every one of `words`.
async fn feed_with(bot: &Bot, file: &str, words: &[&str]) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (_, body) = bot.get(&format!("/{file}")).await;
        if words.iter().all(|w| body.contains(w)) {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{file} never carried {words:?}: {body}\nlog:\n{}",
            bot.log()
        );
        // A state only the bot's feeds show: asked again after a pause.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn reads_of(site: &FakeSite, path: &str) -> usize {
    site.paths().iter().filter(|p| *p == path).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_word_only_the_release_page_has_is_searchable_and_in_both_feeds() {
    let day = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
    let earlier = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
    let list = |first_title: &str| {
        release_page(&[(9101, day, first_title), (9102, earlier, "Second notice")])
    };
    let site = FakeSite::start(list("Winter evening at the residence")).await;
    site.set_page_at(
        "/fnapr/9101",
        article(
            "06.12.2026",
            "Winter evening at the residence",
            "balalaikas",
        ),
    );
    site.set_page_at(
        "/fnapr/9102",
        article("05.12.2026", "Second notice", "gusli"),
    );
    let mut bot = start(&site, true).await;

    // The word is on the release's page only, not in its title or lead.
    let reply = bot
        .ask_until(USER, "/search balalaikas", |r| r.contains("Winter evening"))
        .await;
    assert!(!reply.contains("Second notice"), "{reply}");
    for feed in ["feed.atom", "feed.json"] {
        let body = feed_with(&bot, feed, &["balalaikas", "gusli"]).await;
        // Relative links made absolute; no page chrome.
        assert!(body.contains(&format!("{}fnapr/1", site.url)), "{body}");
        assert!(!body.contains("LATEST EVENTS"), "{body}");
        assert!(!body.contains("Moscow: 18:02"), "{body}");
    }

    // More reads of the list change nothing: each page was read once.
    let polls = reads_of(&site, "/");
    bot.eventually("three more reads of the list", || {
        reads_of(&site, "/") >= polls + 3
    })
    .await;
    assert_eq!(reads_of(&site, "/fnapr/9101"), 1, "{:?}", site.paths());
    assert_eq!(reads_of(&site, "/fnapr/9102"), 1);

    // A revised title: its page is read once more, and only once.
    site.set_page(list("Winter evening at the residence (updated)"));
    site.set_page_at(
        "/fnapr/9101",
        article(
            "06.12.2026",
            "Winter evening at the residence (updated)",
            "domras",
        ),
    );
    bot.eventually("the revised release's page to be read again", || {
        reads_of(&site, "/fnapr/9101") == 2
    })
    .await;
    bot.ask_until(USER, "/search domras", |r| r.contains("updated"))
        .await;
    let polls = reads_of(&site, "/");
    bot.eventually("three more reads of the list", || {
        reads_of(&site, "/") >= polls + 3
    })
    .await;
    assert_eq!(reads_of(&site, "/fnapr/9101"), 2, "{:?}", site.paths());
    assert_eq!(reads_of(&site, "/fnapr/9102"), 1);
    bot.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_cannot_be_read_delays_no_push_and_is_given_up() {
    let day = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
    let site = FakeSite::start(release_page(&[(9201, day, "First")])).await;
    let mut bot = start(&site, false).await;
    let telegram = bot.telegram.clone();
    bot.ask_until(USER, "/subscribe", |r| !r.is_empty()).await;
    // Its page answers 404: the release still goes out at once, with its lead.
    site.set_status(404, "gone");
    site.set_page_at(
        "/",
        release_page(&[(9202, day, "Second"), (9201, day, "First")]),
    );
    let pushes = telegram.wait_for(USER, 2, WAIT).await;
    assert!(
        pushes
            .iter()
            .any(|m| m.text.contains("Second") && m.text.contains("A lead paragraph")),
        "{pushes:?}"
    );
    bot.eventually("the missing page to be tried", || {
        reads_of(&site, "/fnapr/9202") >= 1
    })
    .await;
    let polls = reads_of(&site, "/");
    bot.eventually("three more reads of the list", || {
        reads_of(&site, "/") >= polls + 3
    })
    .await;
    assert_eq!(
        reads_of(&site, "/fnapr/9202"),
        1,
        "a 404 is not asked again"
    );
    bot.stop_cleanly().await;
}

/// A release page whose body is long: `paragraphs` paragraphs of about 200
/// characters, the last ending with `last`.
fn long_article(title: &str, paragraphs: usize, last: &str) -> String {
    let body: String = (1..=paragraphs)
        .map(|n| {
            let end = if n == paragraphs { last } else { "onwards" };
            format!(
                "<p>Paragraph {n} of the statement describes the zither recital in the embassy garden and the many guests who came from afar, then {end}.</p>\n"
            )
        })
        .collect();
    article("06.12.2026", title, "a zither").replace(
        "<h2>LATEST EVENTS</h2>",
        &format!("{body}<h2>LATEST EVENTS</h2>"),
    )
}

/// Presses `data` on `message_id` until the press changes something (it is
/// not answered that the full text is not read yet); the answer.
async fn press_until_read(bot: &Bot, message_id: i64, data: &str) -> Answer {
    let telegram = &bot.telegram;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let callback = telegram.press(USER, Place::Private, message_id, data);
        let answer = telegram.wait_for_answer(&callback).await;
        if !answer
            .text
            .as_deref()
            .unwrap_or("")
            .contains("not been read")
        {
            return answer;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never read; log:\n{}",
            bot.log()
        );
        // A state only the bot's answers show: pressed again after a pause.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_offers_its_full_text_in_place_and_back_and_latest_per_entry() {
    let day = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
    let site = FakeSite::start(release_page(&[(9301, day, "Earlier")])).await;
    let mut bot = start(&site, false).await;
    let telegram = bot.telegram.clone();
    bot.ask_until(USER, "/subscribe", |r| !r.is_empty()).await;
    // A button whose release has no full text (yet) says so and changes nothing.
    let callback = telegram.press(USER, Place::Private, 1, "f1:999999");
    let answer = telegram.wait_for_answer(&callback).await;
    let notice = answer.text.unwrap_or_default();
    assert!(notice.contains("not been read"), "{notice}");

    let title = "Zither recital in the garden";
    site.set_page_at("/fnapr/9302", long_article(title, 40, "finally ends"));
    site.set_page(release_page(&[(9302, day, title), (9301, day, "Earlier")]));
    let before = telegram.sent_to(USER).len();
    let sent = telegram.wait_for(USER, before + 1, WAIT).await;
    let push = sent[before].clone();
    assert!(push.text.contains(title), "{push:?}");
    let data = push.button("📄").expect("a Full text button");

    press_until_read(&bot, push.message_id, &data).await;
    // In place: the title, then the body; the rest follows as messages.
    let shown = telegram
        .until("the push to show its full text", |t| {
            t.message(push.message_id)
                .filter(|m| m.text.contains("Paragraph 1 "))
        })
        .await;
    assert!(shown.text.contains(title));
    assert!(!shown.text.contains("A lead paragraph"), "{}", shown.text);
    let back = shown.button("◀").expect("a way back");
    let all = telegram.wait_for(USER, before + 2, WAIT).await;
    bot.until("the rest of the full text", |t| {
        t.sent_to(USER)
            .iter()
            .any(|m| m.text.contains("finally ends"))
    })
    .await;
    assert!(all.len() >= before + 2);

    // Back: the push as it was, with its button again.
    let callback = telegram.press(USER, Place::Private, push.message_id, &back);
    telegram.wait_for_answer(&callback).await;
    bot.until("the short push again", |t| {
        t.message(push.message_id)
            .is_some_and(|m| m.text.contains("A lead paragraph") && m.button("📄").is_some())
    })
    .await;

    // /latest: a button per entry whose page was read.
    let latest = telegram.ask(USER, "/latest").await;
    let data = latest
        .button("📄 1")
        .expect("a full text button for the newest");
    let before = telegram.sent_to(USER).len();
    let callback = telegram.press(USER, Place::Private, latest.message_id, &data);
    telegram.wait_for_answer(&callback).await;
    let sent = telegram.wait_for(USER, before + 1, WAIT).await;
    assert!(
        sent[before].text.contains("Paragraph 1 "),
        "{:?}",
        sent[before]
    );
    bot.stop_cleanly().await;
}
