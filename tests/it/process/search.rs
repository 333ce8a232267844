//! `/search`: the store's pages of matches (newest first, offsets, the index
//! kept current by every read), `/latest`'s pages, and the real binary
//! answering `/search` over what it read.

use chrono::{NaiveDate, TimeZone, Utc};
use embassy_bot::Item;
use embassy_bot::Language;
use embassy_bot::Store;
use embassy_bot::testing::commands::search;
use embassy_bot::testing::text::matching::Query;

use crate::support::{TestBot, poll};

fn release(n: u32, day: u32, title: &str, lead: &str) -> Item {
    Item {
        id: format!("example.org/fnapr/{n}"),
        url: format!("https://example.org/fnapr/{n}"),
        title: title.into(),
        date: NaiveDate::from_ymd_opt(2022, 5, day),
        lead: lead.into(),
    }
}

fn ids(store: &Store, query: &str, offset: usize, limit: usize) -> (Vec<String>, usize, bool) {
    let results = store
        .search(&Query::parse(query).unwrap(), offset, limit)
        .unwrap();
    let ids = results
        .page
        .items
        .iter()
        .map(|s| {
            s.item
                .id
                .trim_start_matches("example.org/fnapr/")
                .to_string()
        })
        .collect();
    (ids, results.total, results.page.has_more)
}

#[tokio::test]
async fn search_pages_newest_first_and_follows_every_read() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let now = Utc.with_ymd_and_hms(2022, 5, 30, 9, 0, 0).unwrap();
    let page = vec![
        release(
            5,
            25,
            "Консульский отдел: визы",
            "Оформление ВИЗ в Лондоне.",
        ),
        release(4, 24, "Trade talks", "Nothing about travel."),
        release(3, 22, "Visa-free travel ends", "Visas are needed again."),
        release(2, 20, "Statement on visas", "The visa centre is closed."),
        release(1, 10, "Old news", "An antivisa campaign."),
    ];
    poll(&store, "press", &page, now).await;

    assert_eq!(
        ids(&store, "visa", 0, 10),
        (vec!["3".into(), "2".into()], 2, false)
    );
    assert_eq!(ids(&store, "Визы", 0, 10), (vec!["5".into()], 1, false));
    assert_eq!(ids(&store, "\"visa centre\"", 0, 10).0, ["2"]);
    assert_eq!(ids(&store, "visa -centre", 0, 10).0, ["3"]);
    assert_eq!(ids(&store, "visa", 0, 1), (vec!["3".into()], 2, true));
    assert_eq!(ids(&store, "visa", 1, 1), (vec!["2".into()], 2, false));
    assert_eq!(ids(&store, "nothing-like-this", 0, 10).1, 0);

    // The index, built by the first search, follows later reads: a new
    // release, an edited title, a release re-dated to the top.
    let mut next = page.clone();
    next.insert(0, release(6, 28, "Visa fees", ""));
    next[4].title = "Statement on consular fees".into(); // no longer says visas
    next[4].lead = "The consulate is closed.".into();
    next[5].date = NaiveDate::from_ymd_opt(2022, 5, 29); // "Old news" re-dated
    next[5].title = "Old news about visas".into();
    poll(&store, "press", &next, now).await;
    assert_eq!(
        ids(&store, "visa", 0, 10).0,
        ["1", "6", "3"],
        "newest first by the site's date"
    );

    // After a restart the index is built again from the store.
    drop(store);
    let store = crate::support::reopen_store(dir.path());
    assert_eq!(ids(&store, "visa", 0, 10).0, ["1", "6", "3"]);
    let size = store.search_index_size().expect("built by the search");
    assert_eq!(size.releases, 6);
    assert!(size.bytes > 0);
}

#[tokio::test]
async fn latest_pages_say_whether_older_ones_follow() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let now = Utc.with_ymd_and_hms(2022, 5, 30, 9, 0, 0).unwrap();
    let page: Vec<Item> = (1..=5)
        .rev()
        .map(|n| release(n, n, &format!("Release {n}"), ""))
        .collect();
    poll(&store, "press", &page, now).await;
    let first = store.latest_page(0, 2).unwrap();
    let titles = |p: &embassy_bot::ReleasePage| {
        p.items
            .iter()
            .map(|s| s.item.title.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(titles(&first), ["Release 5", "Release 4"]);
    assert!(first.has_more && !first.has_newer());
    let last = store.latest_page(4, 2).unwrap();
    assert_eq!(titles(&last), ["Release 1"]);
    assert!(!last.has_more && last.has_newer());
    assert!(store.latest_page(5, 2).unwrap().items.is_empty());
    let reply = embassy_bot::testing::commands::latest::page(&store, 2, 2, Language::En).unwrap();
    assert!(
        reply.starts_with("<b>Releases 3–4, newest first</b>"),
        "{reply}"
    );
}

#[tokio::test]
async fn a_search_reply_shows_ten_and_says_how_many_match() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let now = Utc.with_ymd_and_hms(2022, 5, 30, 9, 0, 0).unwrap();
    let page: Vec<Item> = (1..=27)
        .rev()
        .map(|n| {
            release(
                n,
                1 + n % 28,
                &format!("Visa notice {n}"),
                &"Long lead. ".repeat(60),
            )
        })
        .collect();
    poll(&store, "press", &page, now).await;
    let query = Query::parse("visa").unwrap();
    let reply = search::reply(&store, &query, Language::En).unwrap();
    assert!(
        reply.starts_with("<b>27 releases</b> for <b>visa</b>"),
        "{reply}"
    );
    assert_eq!(reply.matches("Read on the site").count(), 10, "{reply}");
    assert!(
        reply.ends_with("10 of 27 shown. Add words to narrow the search."),
        "{reply}"
    );
    assert!(embassy_bot::testing::text::markup::utf16_len(&reply) <= 4096);
    let later = search::page(&store, &query, 20, Language::En).unwrap();
    assert!(later.ends_with("21–27 of 27 shown."), "{later}");
    assert!(
        search::page(&store, &query, 30, Language::En)
            .unwrap()
            .contains("all 27 were shown")
    );
    let none = search::reply(
        &store,
        &Query::parse("<tax> \"no such\"").unwrap(),
        Language::En,
    )
    .unwrap();
    assert!(
        none.starts_with("Nothing found for <b>tax &quot;no such&quot;</b>"),
        "{none}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_answers_search_over_what_it_read() {
    let day = |d| NaiveDate::from_ymd_opt(2022, 5, d).unwrap();
    let page = crate::support::release_page(&[
        (7003, day(23), "Визовый центр закрыт"),
        (7002, day(22), "Statement on visas for journalists"),
        (7001, day(21), "Trade & investment"),
    ]);
    let mut bot = TestBot::new().page(page).interval(60).spawn().await;
    let telegram = bot.telegram.clone();
    let user = 1001;
    let found = bot
        .ask_until(user, "/search визовый", |r| r.contains("1 release"))
        .await;
    assert!(found.contains("Визовый центр закрыт"), "{found}");
    assert!(found.contains("/fnapr/7003"), "{found}");
    let visas = telegram.ask(user, "/search VISA journalist").await.text;
    assert!(
        visas.contains("Statement on visas for journalists"),
        "{visas}"
    );
    assert!(!visas.contains("Визовый"), "{visas}");
    let none = telegram.ask(user, "/search visa -journalists").await.text;
    assert!(none.starts_with("Nothing found"), "{none}");
    let usage = telegram.ask(user, "/search").await.text;
    assert!(usage.starts_with("Usage: /search &lt;words&gt;"), "{usage}");
    let too_long = format!("/search {}", "visa ".repeat(11));
    assert!(
        telegram
            .ask(user, &too_long)
            .await
            .text
            .starts_with("Usage: /search")
    );
    let too_many_chars = format!("/search {}", "в".repeat(201));
    assert!(
        telegram
            .ask(user, &too_many_chars)
            .await
            .text
            .contains("At most 10 words and 200 characters")
    );
    let menu = telegram.commands().expect("menu registered");
    assert!(menu.to_string().contains("\"search\""), "{menu}");
    bot.stop_cleanly().await;
}
