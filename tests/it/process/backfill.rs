//! `backfill`: the archive read page by page into the store, silently, and the
//! live poller's state left as it was; the real binary against the fake site.

use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use embassy_bot::Config;
use embassy_bot::Item;
use embassy_bot::{PollPolicy, Store};

use crate::support::site::FakeSite;
use crate::support::{TestBot, release_page, run_binary, source_toml, write_config_sources};

const WAIT: Duration = Duration::from_secs(20);
const LIST: &str = "apress_arh/&start={start}&ps=10&ppp=15";

/// The path of archive page `page` (1 is the live list).
fn list_path(page: u32) -> String {
    format!(
        "/{}",
        LIST.replace("{start}", &((page - 1) * 10 + 1).to_string())
    )
}

/// Archive page `page`: ten releases, ids 7100 down on page 1, a day each.
fn archive_page(page: u32) -> String {
    let releases: Vec<(u32, NaiveDate, String)> = (0..10)
        .map(|i| {
            let n = (page - 1) * 10 + i; // 0 is the newest
            let id = 7100 - n;
            let date = NaiveDate::from_ymd_opt(2022, 5, 31).unwrap() - chrono::Days::new(n.into());
            let title = if id == 7075 {
                "Statement on the archived visa case".to_string()
            } else {
                format!("Statement {id} on trade")
            };
            (id, date, title)
        })
        .collect();
    release_page(&releases)
}

/// A site whose press list has archive pages 1–3, then a page 4 that lists
/// page 2's releases again (nothing new), and a page 5 that must never be read.
async fn archive_site() -> FakeSite {
    let site = FakeSite::start(archive_page(1)).await;
    for page in 1..=3 {
        site.set_page_at(&list_path(page), archive_page(page));
    }
    site.set_page_at(&list_path(4), archive_page(2));
    site.set_page_at(&list_path(5), archive_page(5));
    site
}

fn config(dir: &std::path::Path, telegram_url: &str, site: &FakeSite) -> std::path::PathBuf {
    let source = source_toml(
        "fake",
        &format!("{}{}", site.url, LIST.replace("{start}", "1")),
        1,
        &format!("max_age_days = 36500\narchive = \"{}{LIST}\"\n", site.url),
    );
    write_config_sources(dir, telegram_url, &source)
}

fn backfill(config: &std::path::Path, extra: &[&str]) -> (Option<i32>, String, String) {
    let config = config.to_str().unwrap();
    let mut args = vec!["--config", config, "backfill", "--pace-ms", "10"];
    args.extend_from_slice(extra);
    run_binary(&args, &[])
}

fn archive_paths(site: &FakeSite) -> Vec<String> {
    site.paths()
        .into_iter()
        .filter(|p| p.starts_with("/apress_arh/"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_brings_the_history_silently_and_stops_at_nothing_new() {
    let site = archive_site().await;
    let source = source_toml(
        "fake",
        &format!("{}{}", site.url, LIST.replace("{start}", "1")),
        1,
        &format!("max_age_days = 36500\narchive = \"{}{LIST}\"\n", site.url),
    );
    let alice = 1001;

    // The bot has read the live list once and alice is subscribed.
    let mut bot = TestBot::new()
        .site(site.clone())
        .sources(source)
        .spawn()
        .await;
    let (telegram, path) = (bot.telegram.clone(), bot.config.clone());
    bot.ask_until(alice, "/latest 1", |r| r.contains("Statement 7100"))
        .await;
    assert!(
        telegram
            .ask(alice, "/subscribe")
            .await
            .text
            .starts_with("Subscribed")
    );
    bot.stop_cleanly().await;
    let live_reads = site.hits();

    let (code, stdout, stderr) = backfill(&path, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout,
        "fake: pages 2–4 read; 20 new releases recorded, 0 already known from other sources, 10 already known; stopped: page 4 brought nothing new\n"
    );
    // Page 1 is the live poller's; page 5 comes after the page with nothing new.
    assert_eq!(
        archive_paths(&site)[live_reads..],
        [list_path(2), list_path(3), list_path(4)]
    );
    assert!(
        stderr.contains("fake: page 2 · 10 new, 0 known\n"),
        "{stderr}"
    );
    assert!(
        stderr.contains("fake: page 4 · 20 new, 10 known\n"),
        "{stderr}"
    );

    // The bot again: the history is there, and nobody was sent any of it.
    let polls = telegram.calls("getUpdates");
    bot.respawn("bot2.log").await;
    bot.until("the bot polling again", |t| t.calls("getUpdates") > polls)
        .await;
    let hits = site.hits();
    site.wait_for_hits(hits, 1, WAIT).await;
    let latest = telegram.ask(alice, "/latest 20").await.text;
    assert!(latest.contains("Statement 7081 on trade"), "{latest}");
    let found = telegram.ask(alice, "/search archived visa").await.text;
    assert!(
        found.contains("Statement on the archived visa case"),
        "{found}"
    );
    assert!(found.contains("/fnapr/7075"), "{found}");
    assert!(
        telegram.pushes_to(alice).is_empty(),
        "{:?}",
        telegram.pushes_to(alice)
    );
    bot.stop_cleanly().await;
    let store = crate::support::reopen_store(&bot.data_dir());
    assert_eq!(store.outbox_len(), 0);
    assert_eq!(store.journal_count(), 0);
    assert_eq!(store.item_count(), 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_of_a_source_never_read_starts_at_page_one_and_keeps_to_pages() {
    let site = archive_site().await;
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), "http://127.0.0.1:9", &site);
    let (code, stdout, stderr) = backfill(&path, &["fake", "--pages", "2"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout,
        "fake: pages 1–2 read; 20 new releases recorded, 0 already known from other sources, 0 already known; stopped: the limit of 2 pages\n"
    );
    assert_eq!(archive_paths(&site), [list_path(1), list_path(2)]);
    assert!(
        stderr.contains("fake: page 2 [####################] 2/2 · 20 new, 0 known"),
        "{stderr}"
    );

    // Bad requests say what to do.
    let (code, _, stderr) = backfill(&path, &["nosuch"]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("no source named `nosuch`; configured sources: fake"),
        "{stderr}"
    );
    let (code, _, stderr) = backfill(&path, &["--pages", "0"]);
    assert_eq!(code, Some(2), "{stderr}");

    // While the bot (here: this process) holds the data directory.
    let store = Store::open(&dir.path().join("data")).unwrap();
    let (code, _, stderr) = backfill(&path, &[]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("is in use by a running embassy-bot")
            && stderr.contains("stop the bot first"),
        "{stderr}"
    );
    drop(store);
}

#[test]
fn a_source_without_an_archive_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(
        &path,
        format!(
            "data_dir = \"{}\"\n[[sources]]\nname = \"news\"\nurl = \"http://127.0.0.1:9/\"\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let (code, _, stderr) = run_binary(&["--config", path.to_str().unwrap(), "backfill"], &[]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("no source has an archive"), "{stderr}");
    let (code, _, stderr) = run_binary(
        &["--config", path.to_str().unwrap(), "backfill", "news"],
        &[],
    );
    assert_eq!(code, Some(1));
    assert!(stderr.contains("source `news` has no archive"), "{stderr}");
    // The built-in sources: press and informs have archives, the home page not.
    let (code, _, stderr) = run_binary(
        &["backfill", "home"],
        &[(
            "EMBASSY_BOT_DATA_DIR",
            dir.path().join("d2").to_str().unwrap(),
        )],
    );
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("sources with one: press, informs"),
        "{stderr}"
    );
}

#[test]
fn archive_keys_are_checked_at_load() {
    for (extra, key) in [
        (
            "archive = \"https://example.org/archive\"\n",
            "sources[0].archive",
        ),
        (
            "archive = \"https://example.org/{pages}/{page}\"\n",
            "sources[0].archive",
        ),
        (
            "archive = \"https://example.org/{page}\"\narchive_page_size = 0\n",
            "sources[0].archive_page_size",
        ),
        ("archive_page_size = 10\n", "sources[0].archive_page_size"),
    ] {
        let toml = format!("[[sources]]\nurl = \"https://example.org/\"\n{extra}");
        let err = Config::from_toml(&toml).expect_err(&toml).to_string();
        assert!(err.contains(key), "{toml}: {err}");
    }
    let config = Config::default();
    let press = config.source_named("press").unwrap();
    let archive = press.archive.as_ref().unwrap();
    assert_eq!(
        archive.url(1).unwrap(),
        press.url,
        "page 1 is the live list"
    );
    assert_eq!(
        archive.url(3).unwrap().as_str(),
        "https://www.rusemb.org.uk/apress_arh/&start=21&ps=10&ppp=15"
    );
    assert!(config.source_named("home").unwrap().archive.is_none());
}

fn item(n: u32, day: u32) -> Item {
    Item {
        id: format!("example.org/fnapr/{n}"),
        url: format!("https://example.org/fnapr/{n}"),
        title: format!("Release {n}"),
        date: NaiveDate::from_ymd_opt(2022, 5, day),
        lead: String::new(),
    }
}

#[tokio::test]
async fn recording_the_archive_leaves_the_pollers_state_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let now = Utc.with_ymd_and_hms(2022, 5, 30, 9, 0, 0).unwrap();
    store.subscribe(1, None, now).await.unwrap();

    // Archive first, on sources never read: the first live read stays silent.
    let archive: Vec<Item> = (1..=20).rev().map(|n| item(n, n)).collect();
    let recorded = store.record_archive("press", &archive, now).await.unwrap();
    assert_eq!((recorded.new, recorded.known), (20, 0));
    assert_eq!(store.outbox_len(), 0);
    assert_eq!(store.last_success("press").unwrap(), None);
    assert_eq!(store.item_count_of("press").unwrap(), None);
    let live = [item(22, 22), item(21, 21), item(20, 20)];
    let first = crate::support::poll(&store, "press", &live, now).await;
    assert!(first.first_poll);
    assert_eq!(first.queued, 0);
    assert_eq!(store.item_count_of("press").unwrap(), Some(3));

    // Again after the live read: read state, counts and the flood guard as they were.
    let before = store.last_success("press").unwrap();
    let older: Vec<Item> = (101..=130).rev().map(|n| item(n, 1 + n % 28)).collect();
    store.record_archive("press", &older, now).await.unwrap();
    assert_eq!(store.outbox_len(), 0);
    assert_eq!(store.last_success("press").unwrap(), before);
    assert_eq!(store.item_count_of("press").unwrap(), Some(3));
    // The next live read with one new release: news, not a flood, not a first read.
    let policy = PollPolicy::new(8, 36500, now.date_naive());
    let next = store
        .record_poll(
            "press",
            &[item(23, 23), item(22, 22), item(21, 21)],
            &policy,
            now,
        )
        .await
        .unwrap();
    assert!(!next.first_poll && !next.flood);
    assert_eq!(next.queued, 1);

    // A release another source had is now listed here too: the live poller
    // of this source will not take it for news.
    let home = store
        .record_archive("informs", &[item(22, 22)], now)
        .await
        .unwrap();
    assert_eq!((home.new, home.new_here), (0, 1));
    let informs = store
        .record_poll("informs", &[item(22, 22)], &PollPolicy::unguarded(), now)
        .await
        .unwrap();
    assert!(informs.new_items.is_empty());
    assert_eq!(informs.queued, 0);
}

#[tokio::test]
async fn an_undated_archive_release_sits_with_its_neighbours() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let now = Utc.with_ymd_and_hms(2022, 5, 30, 9, 0, 0).unwrap();
    store
        .record_poll("press", &[item(50, 29)], &PollPolicy::unguarded(), now)
        .await
        .unwrap();
    let mut undated = item(11, 1);
    undated.date = None;
    let page = [item(12, 12), undated, item(10, 10)];
    store.record_archive("press", &page, now).await.unwrap();
    let order: Vec<String> = store
        .latest(10)
        .unwrap()
        .into_iter()
        .map(|s| s.item.title)
        .collect();
    assert_eq!(
        order,
        ["Release 50", "Release 12", "Release 11", "Release 10"]
    );
}
