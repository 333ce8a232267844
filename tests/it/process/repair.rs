//! A site redesigned under a running bot (issue 22): the configured link
//! patterns stop matching, and the bot reads a fallback instead (the feed the
//! page advertises, `<article>` blocks, JSON-LD, the sitemap), recognises the
//! releases it knew at their new addresses, pushes only the new one, and
//! tells the operator once what it reads now. An outage page is not
//! "repaired", a feed on another host is not read, and a fallback that
//! brings too many new releases is held back by the flood guard.
//! Fixtures: `tests/fixtures/redesign/` (see its README).

use std::time::Duration;

use chrono::NaiveDate;

use crate::support::site::FakeSite;
use crate::support::telegram::FakeTelegram;
use crate::support::{
    ADMIN, Bot, TestBot, admin_told, days_ago, fixture_text, release_page, run_binary, source_toml,
};

const WAIT: Duration = Duration::from_secs(30);
const READER: i64 = 7001;

/// The releases of the fixtures, newest first: 0 is new in the first
/// redesign, 5 in the second; 1 to 4 are known before either.
const TITLES: [&str; 6] = [
    "Embassy statement on the new consular rules",
    "Ambassador meets students from the Russian school",
    "Press release on the anniversary of the embassy",
    "Comment on the situation with visas for journalists",
    "Reception on the occasion of Russia Day",
    "Exhibition of Russian photography opens in London",
];

/// A fixture of `redesign/` with its placeholders filled for `site`.
fn page(name: &str, site: &FakeSite) -> String {
    let mut text = fixture_text(&format!("redesign/{name}"));
    text = text.replace("{base}", site.url.trim_end_matches('/'));
    for n in 0..5u64 {
        let day = days_ago(n);
        let noon = day.and_hms_opt(10, 0, 0).unwrap().and_utc();
        text = text
            .replace(&format!("{{iso:{n}}}"), &day.format("%Y-%m-%d").to_string())
            .replace(&format!("{{dmy:{n}}}"), &day.format("%d.%m.%Y").to_string())
            .replace(&format!("{{rfc:{n}}}"), &noon.to_rfc2822());
    }
    text
}

/// The page the bot first reads: releases 1 to 4 at `/fnapr/N`.
fn original_page() -> String {
    let items: Vec<(u32, NaiveDate, &str)> = (1..5)
        .map(|n| (100 + n as u32, days_ago(n as u64), TITLES[n]))
        .collect();
    release_page(&items)
}

/// How many pushes `READER` got that name `title`.
fn pushed(telegram: &FakeTelegram, title: &str) -> usize {
    telegram
        .pushes_to(READER)
        .iter()
        .filter(|t| t.contains(title))
        .count()
}

/// The bot on the original page (source `site`, `extra` its keys),
/// `READER` subscribed, the page read once.
async fn start(extra: &str) -> Bot {
    let site = FakeSite::start(original_page()).await;
    let bot = TestBot::new()
        .site(site)
        .sources(source_toml("site", "{site}", 1, extra))
        .spawn()
        .await;
    bot.until("the bot polling getUpdates", |t| t.calls("getUpdates") >= 1)
        .await;
    let reply = bot.telegram.ask(READER, "/subscribe").await.text;
    assert!(reply.starts_with("Subscribed"), "{reply}");
    bot.ask_until(ADMIN, "/sources", |r| {
        r.contains("Releases on the page then: 4")
    })
    .await;
    bot
}

/// Waits for a few more reads, then: `new` pushed once, no known release
/// pushed at all, and the operator told once of what is read now.
async fn settled(bot: &Bot, new: &str, reads_now: &str) {
    bot.until("the new release's push", |t| pushed(t, new) == 1)
        .await;
    bot.until("the operator's message", |t| admin_told(t, reads_now) == 1)
        .await;
    let hits = bot.site.hits();
    bot.site.wait_for_hits(hits, 5, WAIT).await;
    assert_eq!(pushed(&bot.telegram, new), 1, "pushed once");
    for known in &TITLES[1..5] {
        assert_eq!(
            pushed(&bot.telegram, known),
            0,
            "{known} is not pushed again"
        );
    }
    assert_eq!(admin_told(&bot.telegram, reads_now), 1, "told once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redesigned_twice_under_a_running_bot() {
    let mut bot = start("").await;
    // 1. Links moved to /news/<slug>, a feed advertised.
    bot.site
        .set_page_at("/feed.xml", page("feed.xml", &bot.site));
    bot.site.set_page(page("feed-page.html", &bot.site));
    settled(&bot, TITLES[0], "the feed the page advertises").await;
    let told = bot.telegram.sent_to(ADMIN);
    let told = told.iter().find(|m| m.text.contains("🔧")).unwrap();
    assert!(
        told.text.contains("kind = &quot;feed&quot;") && told.text.contains("/feed.xml"),
        "the config that says so: {}",
        told.text
    );
    assert!(told.text.contains("recognised 4"), "{}", told.text);
    let status = bot.telegram.ask(ADMIN, "/sources").await.text;
    assert!(
        status.contains("the bot reads the feed the page advertises"),
        "{status}"
    );

    // 2. <article> blocks at /articles/<slug>, no feed.
    bot.site.set_page(page("articles.html", &bot.site));
    settled(&bot, TITLES[5], "repeated blocks (`article`)").await;
    assert_eq!(
        pushed(&bot.telegram, TITLES[0]),
        1,
        "the first new one is not repeated"
    );
    assert_eq!(bot.telegram.pushes_to(READER).len(), 2);

    // The stored addresses moved: /latest links the new ones.
    let latest = bot.telegram.ask(READER, "/latest").await.text;
    assert!(
        latest.contains("/articles/ambassador-meets-students-from-the-russian-school")
            && !latest.contains("/fnapr/101"),
        "{latest}"
    );

    // check-source suggests a config that reads the redesigned page.
    let config = bot.dir.path().join("check.toml");
    std::fs::write(
        &config,
        source_toml("site", &bot.site.url, 1, "").trim_start(),
    )
    .unwrap();
    let c = config.to_str().unwrap().to_string();
    let (code, stdout, _) = tokio::task::spawn_blocking(move || {
        run_binary(&["--config", &c, "check-source", "site"], &[])
    })
    .await
    .unwrap();
    assert_eq!(
        code,
        Some(1),
        "the configured patterns find nothing: {stdout}"
    );
    let suggested = stdout
        .split_once("suggested config (from 6 repeated blocks with dated links):\n")
        .map(|(_, block)| block.to_string())
        .unwrap_or_else(|| panic!("a suggestion: {stdout}"));
    assert!(suggested.contains("item = \"article\""), "{suggested}");
    std::fs::write(&config, &suggested).unwrap();
    let c = config.to_str().unwrap().to_string();
    let (code, stdout, stderr) = tokio::task::spawn_blocking(move || {
        run_binary(&["--config", &c, "check-source", "site"], &[])
    })
    .await
    .unwrap();
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("6 items:") && stdout.contains(TITLES[5]),
        "{stdout}"
    );
    bot.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn structured_data_only() {
    let mut bot = start("").await;
    bot.site.set_page(page("jsonld.html", &bot.site));
    settled(&bot, TITLES[0], "structured data (JSON-LD)").await;
    // A restart keeps reading the same way, and tells nobody again.
    bot.stop_cleanly().await;
    let hits = bot.site.hits();
    bot.respawn("bot2.log").await;
    bot.site.wait_for_hits(hits, 3, WAIT).await;
    assert_eq!(
        admin_told(&bot.telegram, "🔧"),
        1,
        "told once, before the restart"
    );
    assert_eq!(bot.telegram.pushes_to(READER).len(), 1);
    // The configured patterns find the releases again: the operator hears so, once.
    let mut back: Vec<(u32, NaiveDate, &str)> = (0..5)
        .map(|n| (100 + n as u32, days_ago(n as u64), TITLES[n]))
        .collect();
    back[0].0 = 105;
    bot.site.set_page(release_page(&back));
    bot.until("the message that the configured patterns work again", |t| {
        admin_told(t, "find the releases again") == 1
    })
    .await;
    let hits = bot.site.hits();
    bot.site.wait_for_hits(hits, 3, WAIT).await;
    assert_eq!(admin_told(&bot.telegram, "find the releases again"), 1);
    assert_eq!(
        bot.telegram.pushes_to(READER).len(),
        1,
        "nothing pushed again"
    );
    bot.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sitemap_only() {
    let mut bot = start("").await;
    bot.site
        .set_page_at("/sitemap.xml", page("sitemap.xml", &bot.site));
    bot.site.set_page(page("sitemap-page.html", &bot.site));
    settled(&bot, TITLES[0], "the site's sitemap").await;
    // Its other pages are no releases.
    assert!(
        !bot.telegram
            .pushes_to(READER)
            .iter()
            .any(|t| t.contains("About") || t.contains("Opening hours")),
        "{:?}",
        bot.telegram.pushes_to(READER)
    );
    bot.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_page_is_not_repaired() {
    let mut bot = start("").await;
    // Everything a fallback could read is there, but the page is an error page.
    bot.site
        .set_page_at("/feed.xml", page("feed.xml", &bot.site));
    bot.site
        .set_page_at("/sitemap.xml", page("sitemap.xml", &bot.site));
    let hits = bot.site.hits();
    bot.site.set_page(page("outage.html", &bot.site));
    bot.until("the emptied-page alert", |t| {
        admin_told(t, "shows no releases any more") == 1
    })
    .await;
    bot.site.wait_for_hits(hits, 3, WAIT).await;
    assert!(bot.telegram.pushes_to(READER).is_empty());
    assert_eq!(admin_told(&bot.telegram, "🔧"), 0, "nothing read instead");
    let paths = bot.site.paths();
    assert!(
        !paths
            .iter()
            .any(|p| p == "/sitemap.xml" || p == "/feed.xml"),
        "no fallback was even fetched: {paths:?}"
    );
    // The site comes back redesigned: the release is read then.
    bot.site.set_page(page("articles.html", &bot.site));
    settled(&bot, TITLES[5], "repeated blocks").await;
    bot.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_on_another_host_is_not_read() {
    let mut bot = start("").await;
    let elsewhere = FakeSite::start(page("feed.xml", &bot.site)).await;
    let hits = bot.site.hits();
    let moved = page("feed-page.html", &bot.site).replace(
        "href=\"/feed.xml\"",
        &format!(
            "href=\"{}feed.xml\"",
            elsewhere.url.replace("127.0.0.1", "localhost")
        ),
    );
    bot.site.set_page(moved);
    bot.until("the emptied-page alert", |t| {
        admin_told(t, "shows no releases any more") == 1
    })
    .await;
    bot.site.wait_for_hits(hits, 3, WAIT).await;
    assert_eq!(elsewhere.hits(), 0, "the other host is never asked");
    assert!(bot.telegram.pushes_to(READER).is_empty());
    bot.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fallback_that_brings_too_much_is_held_back() {
    // At most one new release a read: the second redesign's blocks bring two.
    let mut bot = start("max_new_items = 1\n").await;
    bot.site.set_page(page("articles.html", &bot.site));
    bot.until("the flood alert", |t| {
        admin_told(t, "more than max_new_items") == 1
    })
    .await;
    bot.until("the operator's message", |t| {
        admin_told(t, "repeated blocks") == 1
    })
    .await;
    let hits = bot.site.hits();
    bot.site.wait_for_hits(hits, 3, WAIT).await;
    assert!(
        bot.telegram.pushes_to(READER).is_empty(),
        "recorded silently"
    );
    assert_eq!(admin_told(&bot.telegram, "more than max_new_items"), 1);
    bot.stop_cleanly().await;
}
