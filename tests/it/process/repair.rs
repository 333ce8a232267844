//! A site redesigned under a running bot (issue 22): the configured link
//! patterns stop matching, and the bot reads a fallback instead (the feed the
//! page advertises, `<article>` blocks, JSON-LD, the sitemap), recognises the
//! releases it knew at their new addresses, pushes only the new one, and
//! tells the operator once what it reads now. An outage page is not
//! "repaired", a feed on another host is not read, and a fallback that
//! brings too many new releases is held back by the flood guard.
//! Fixtures: `tests/fixtures/redesign/` (see its README).

use std::time::Duration;

use chrono::{Days, NaiveDate, Utc};

use crate::support::site::FakeSite;
use crate::support::telegram::FakeTelegram;
use crate::support::{
    ADMIN, BotProcess, eventually, fixture_text, release_page, run_binary, source_toml,
    write_config_sources,
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

fn days_ago(n: u64) -> NaiveDate {
    Utc::now()
        .date_naive()
        .checked_sub_days(Days::new(n))
        .unwrap()
}

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

/// How many admin messages contain `needle`.
fn admin_told(telegram: &FakeTelegram, needle: &str) -> usize {
    telegram
        .sent_to(ADMIN)
        .iter()
        .filter(|m| m.text.contains(needle))
        .count()
}

/// How many pushes `READER` got that name `title`.
fn pushed(telegram: &FakeTelegram, title: &str) -> usize {
    telegram
        .pushes_to(READER)
        .iter()
        .filter(|t| t.contains(title))
        .count()
}

struct Running {
    telegram: FakeTelegram,
    site: FakeSite,
    dir: tempfile::TempDir,
    bot: BotProcess,
}

/// The bot on the original page, `READER` subscribed, the page read once.
async fn start(extra: &str) -> Running {
    let telegram = FakeTelegram::start().await;
    let site = FakeSite::start(original_page()).await;
    let dir = tempfile::tempdir().unwrap();
    let sources = source_toml("site", &site.url, 1, extra);
    let config = write_config_sources(dir.path(), &telegram.url, &sources);
    let bot = BotProcess::spawn(&config, "bot.log");
    telegram.wait_for_polls(1, WAIT, &bot).await;
    let reply = telegram.ask(READER, "/subscribe").await.text;
    assert!(reply.starts_with("Subscribed"), "{reply}");
    for _ in 0..200 {
        let reply = telegram.ask(ADMIN, "/sources").await.text;
        if reply.contains("Releases on the page then: 4") {
            return Running {
                telegram,
                site,
                dir,
                bot,
            };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the bot never read the page; log:\n{}", bot.log());
}

/// Waits for a few more reads, then: `new` pushed once, no known release
/// pushed at all, and the operator told once of what is read now.
async fn settled(run: &Running, new: &str, reads_now: &str) {
    eventually(WAIT, "the new release's push", &run.bot, || {
        pushed(&run.telegram, new) == 1
    })
    .await;
    eventually(WAIT, "the operator's message", &run.bot, || {
        admin_told(&run.telegram, reads_now) == 1
    })
    .await;
    let hits = run.site.hits();
    run.site.wait_for_hits(hits, 6, WAIT).await;
    assert_eq!(pushed(&run.telegram, new), 1, "pushed once");
    for known in &TITLES[1..5] {
        assert_eq!(
            pushed(&run.telegram, known),
            0,
            "{known} is not pushed again"
        );
    }
    assert_eq!(admin_told(&run.telegram, reads_now), 1, "told once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redesigned_twice_under_a_running_bot() {
    let run = start("").await;
    // 1. Links moved to /news/<slug>, a feed advertised.
    run.site
        .set_page_at("/feed.xml", page("feed.xml", &run.site));
    run.site.set_page(page("feed-page.html", &run.site));
    settled(&run, TITLES[0], "the feed the page advertises").await;
    let told = run.telegram.sent_to(ADMIN);
    let told = told.iter().find(|m| m.text.contains("🔧")).unwrap();
    assert!(
        told.text.contains("kind = &quot;feed&quot;") && told.text.contains("/feed.xml"),
        "the config that says so: {}",
        told.text
    );
    assert!(told.text.contains("recognised 4"), "{}", told.text);
    let status = run.telegram.ask(ADMIN, "/sources").await.text;
    assert!(
        status.contains("the bot reads the feed the page advertises"),
        "{status}"
    );

    // 2. <article> blocks at /articles/<slug>, no feed.
    run.site.set_page(page("articles.html", &run.site));
    settled(&run, TITLES[5], "repeated blocks (`article`)").await;
    assert_eq!(
        pushed(&run.telegram, TITLES[0]),
        1,
        "the first new one is not repeated"
    );
    assert_eq!(run.telegram.pushes_to(READER).len(), 2);

    // The stored addresses moved: /latest links the new ones.
    let latest = run.telegram.ask(READER, "/latest").await.text;
    assert!(
        latest.contains("/articles/ambassador-meets-students-from-the-russian-school")
            && !latest.contains("/fnapr/101"),
        "{latest}"
    );

    // check-source suggests a config that reads the redesigned page.
    let config = run.dir.path().join("check.toml");
    std::fs::write(
        &config,
        source_toml("site", &run.site.url, 1, "").trim_start(),
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
    run.bot.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn structured_data_only() {
    let mut run = start("").await;
    run.site.set_page(page("jsonld.html", &run.site));
    settled(&run, TITLES[0], "structured data (JSON-LD)").await;
    // A restart keeps reading the same way, and tells nobody again.
    run.bot.stop_cleanly().await;
    let hits = run.site.hits();
    run.bot = BotProcess::spawn(&run.dir.path().join("config.toml"), "bot2.log");
    run.site.wait_for_hits(hits, 4, WAIT).await;
    assert_eq!(
        admin_told(&run.telegram, "🔧"),
        1,
        "told once, before the restart"
    );
    assert_eq!(run.telegram.pushes_to(READER).len(), 1);
    // The configured patterns find the releases again: the operator hears so, once.
    let mut back: Vec<(u32, NaiveDate, &str)> = (0..5)
        .map(|n| (100 + n as u32, days_ago(n as u64), TITLES[n]))
        .collect();
    back[0].0 = 105;
    run.site.set_page(release_page(&back));
    eventually(
        WAIT,
        "the message that the configured patterns work again",
        &run.bot,
        || admin_told(&run.telegram, "find the releases again") == 1,
    )
    .await;
    let hits = run.site.hits();
    run.site.wait_for_hits(hits, 4, WAIT).await;
    assert_eq!(admin_told(&run.telegram, "find the releases again"), 1);
    assert_eq!(
        run.telegram.pushes_to(READER).len(),
        1,
        "nothing pushed again"
    );
    run.bot.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sitemap_only() {
    let run = start("").await;
    run.site
        .set_page_at("/sitemap.xml", page("sitemap.xml", &run.site));
    run.site.set_page(page("sitemap-page.html", &run.site));
    settled(&run, TITLES[0], "the site's sitemap").await;
    // Its other pages are no releases.
    assert!(
        !run.telegram
            .pushes_to(READER)
            .iter()
            .any(|t| t.contains("About") || t.contains("Opening hours")),
        "{:?}",
        run.telegram.pushes_to(READER)
    );
    run.bot.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_page_is_not_repaired() {
    let run = start("").await;
    // Everything a fallback could read is there, but the page is an error page.
    run.site
        .set_page_at("/feed.xml", page("feed.xml", &run.site));
    run.site
        .set_page_at("/sitemap.xml", page("sitemap.xml", &run.site));
    let hits = run.site.hits();
    run.site.set_page(page("outage.html", &run.site));
    eventually(WAIT, "the emptied-page alert", &run.bot, || {
        admin_told(&run.telegram, "shows no releases any more") == 1
    })
    .await;
    run.site.wait_for_hits(hits, 4, WAIT).await;
    assert!(run.telegram.pushes_to(READER).is_empty());
    assert_eq!(admin_told(&run.telegram, "🔧"), 0, "nothing read instead");
    let paths = run.site.paths();
    assert!(
        !paths
            .iter()
            .any(|p| p == "/sitemap.xml" || p == "/feed.xml"),
        "no fallback was even fetched: {paths:?}"
    );
    // The site comes back redesigned: the release is read then.
    run.site.set_page(page("articles.html", &run.site));
    settled(&run, TITLES[5], "repeated blocks").await;
    run.bot.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_on_another_host_is_not_read() {
    let run = start("").await;
    let elsewhere = FakeSite::start(page("feed.xml", &run.site)).await;
    let hits = run.site.hits();
    let moved = page("feed-page.html", &run.site).replace(
        "href=\"/feed.xml\"",
        &format!(
            "href=\"{}feed.xml\"",
            elsewhere.url.replace("127.0.0.1", "localhost")
        ),
    );
    run.site.set_page(moved);
    eventually(WAIT, "the emptied-page alert", &run.bot, || {
        admin_told(&run.telegram, "shows no releases any more") == 1
    })
    .await;
    run.site.wait_for_hits(hits, 4, WAIT).await;
    assert_eq!(elsewhere.hits(), 0, "the other host is never asked");
    assert!(run.telegram.pushes_to(READER).is_empty());
    run.bot.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fallback_that_brings_too_much_is_held_back() {
    // At most one new release a read: the second redesign's blocks bring two.
    let run = start("max_new_items = 1\n").await;
    run.site.set_page(page("articles.html", &run.site));
    eventually(WAIT, "the flood alert", &run.bot, || {
        admin_told(&run.telegram, "more than max_new_items") == 1
    })
    .await;
    eventually(WAIT, "the operator's message", &run.bot, || {
        admin_told(&run.telegram, "repeated blocks") == 1
    })
    .await;
    let hits = run.site.hits();
    run.site.wait_for_hits(hits, 4, WAIT).await;
    assert!(
        run.telegram.pushes_to(READER).is_empty(),
        "recorded silently"
    );
    assert_eq!(admin_told(&run.telegram, "more than max_new_items"), 1);
    run.bot.stop_cleanly().await;
}
