//! Extraction on the fixture pages rebuilt from the seed, and rendering of what it finds.

use chrono::NaiveDate;
use embassy_bot::Config;
use embassy_bot::testing::render::push_message;
use embassy_bot::testing::text::markup::to_plain;
use url::Url;

use crate::support::{extract_at, extract_fixture, fixture_text};

const NEW_TITLE: &str =
    "Embassy comment on the “Salisbury incident” questions & the British authorities’ <silence>";

#[test]
fn home_page_of_21_may() {
    let page = extract_fixture("rusemb/home-2022-05-21.html");
    assert_eq!(page.items.len(), 11, "{:#?}", page.items);

    let featured = &page.items[0];
    assert_eq!(featured.id, "rusemb.org.uk/fnapr/7098");
    assert_eq!(featured.url, "https://www.rusemb.org.uk/fnapr/7098");
    assert_eq!(featured.date, NaiveDate::from_ymd_opt(2022, 1, 28));
    assert_eq!(
        featured.title,
        "Foreign Minister Sergey Lavrov’s answer to a media question, Moscow, January 27, 2022"
    );
    assert!(
        featured
            .lead
            .starts_with("Question: You have received the Americans’ response"),
        "{}",
        featured.lead
    );

    let first_news = &page.items[1];
    assert_eq!(first_news.id, "rusemb.org.uk/fnapr/7153");
    assert_eq!(first_news.date, NaiveDate::from_ymd_opt(2022, 5, 20));
    assert_eq!(
        first_news.title,
        "Embassy comment on recent accusations against Russia of creating a threat of a global food crisis"
    );
    assert!(
        first_news
            .lead
            .starts_with("Recent accusations against Russia"),
        "{}",
        first_news.lead
    );

    let quoted = page
        .items
        .iter()
        .find(|i| i.id.ends_with("/7151"))
        .expect("7151");
    assert_eq!(
        quoted.title,
        "Foreign Ministry Spokeswoman Maria Zakharova’s comment on \"Russian threat to food security\""
    );

    let last = page.items.last().expect("items");
    assert_eq!(last.id, "rusemb.org.uk/fnapr/7134");
    assert_eq!(last.date, NaiveDate::from_ymd_opt(2022, 4, 16));
    // The mid.ru link and the "all messages" archive link are not releases.
    assert!(
        page.items
            .iter()
            .all(|i| i.id.starts_with("rusemb.org.uk/fnapr/"))
    );
    // Every dated title lost its "DD.MM.YYYY - " prefix.
    assert!(
        page.items
            .iter()
            .all(|i| i.date.is_some() && !i.title.starts_with(|c: char| c.is_ascii_digit()))
    );

    assert_eq!(page.contacts.phone.as_deref(), Some("+44 (0) 203 161 8868"));
    // Hidden by Cloudflare in the page; decoded from data-cfemail.
    assert_eq!(page.contacts.email.as_deref(), Some("info@rusemb.org.uk"));
}

#[test]
fn home_page_of_23_may_has_the_new_item_intact() {
    let page = extract_fixture("rusemb/home-2022-05-23.html");
    assert_eq!(page.items.len(), 11);
    let new = &page.items[1];
    assert_eq!(new.id, "rusemb.org.uk/fnapr/7160");
    assert_eq!(new.date, NaiveDate::from_ymd_opt(2022, 5, 23));
    assert_eq!(new.title, NEW_TITLE);
    assert_eq!(
        new.lead,
        "The Embassy notes that no credible information has been provided by the British side. Questions remain unanswered."
    );
    assert!(
        !page.items.iter().any(|i| i.id.ends_with("/7134")),
        "7134 fell off the page"
    );

    let html = push_message(new, "Home page");
    assert!(
        html.contains("Embassy comment on the “Salisbury incident” questions &amp; the British authorities’ &lt;silence&gt;"),
        "{html}"
    );
    assert!(!html.contains("<silence>"));
    assert!(to_plain(&html).contains(NEW_TITLE), "{}", to_plain(&html));
    assert!(
        html.contains("<a href=\"https://www.rusemb.org.uk/fnapr/7160\">"),
        "{html}"
    );
}

#[test]
fn relative_links_resolve_against_the_page_url() {
    let base = Url::parse("http://127.0.0.1:8080/").unwrap();
    let page = extract_at("rusemb/home-2022-05-21.html", &base);
    assert_eq!(page.items.len(), 11);
    assert_eq!(page.items[1].url, "http://127.0.0.1:8080/fnapr/7153");
    assert_eq!(page.items[1].id, "127.0.0.1/fnapr/7153");
}

// ---- every fixture, through the one entry point the poller uses ----------------------------

use embassy_bot::SourceKind;
use embassy_bot::testing::source::charset;
use embassy_bot::testing::source::charset::CharsetFrom;
use embassy_bot::testing::source::date::{find_date, parse_date};
use embassy_bot::{ExtractError, extract};

use crate::support::fixture;

fn source_from(toml: &str) -> embassy_bot::SourceConfig {
    Config::from_toml(toml)
        .unwrap_or_else(|e| panic!("{e}"))
        .sources
        .remove(0)
}

fn default_source() -> embassy_bot::SourceConfig {
    Config::default().sources.remove(0)
}

fn base() -> Url {
    Url::parse("https://www.rusemb.org.uk/").unwrap()
}

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

#[test]
fn every_fixture_yields_items() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rusemb");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("html") {
            continue;
        }
        let body = charset::decode(&std::fs::read(&path).unwrap(), None);
        assert!(body.note.is_none(), "{}: {:?}", path.display(), body.note);
        let page = extract(&default_source(), &body.text, &base()).unwrap();
        assert!(
            page.items.len() >= 4,
            "{}: {:#?}",
            path.display(),
            page.items
        );
        for item in &page.items {
            assert!(
                !item.title.is_empty() && !item.title.contains("<b>"),
                "{item:?}"
            );
            assert_eq!(
                item.title,
                item.title.split_whitespace().collect::<Vec<_>>().join(" ")
            );
        }
        seen += 1;
    }
    assert!(seen >= 3, "fixtures found: {seen}");
}

#[test]
fn russian_windows_1251_page_declared_only_in_meta() {
    let bytes = fixture("rusemb/ru-windows-1251.html");
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "fixture must really be windows-1251"
    );
    let body = charset::decode(&bytes, Some("text/html"));
    assert_eq!(
        (body.charset, body.from),
        ("windows-1251", CharsetFrom::Meta)
    );
    let page = extract(&default_source(), &body.text, &base()).unwrap();
    let got: Vec<_> = page.items.iter().map(|i| (i.id.as_str(), i.date)).collect();
    assert_eq!(
        got,
        vec![
            ("rusemb.org.uk/fnapr/7153", date(2022, 5, 21)),
            ("rusemb.org.uk/fnapr/7151", date(2022, 5, 20)),
            ("rusemb.org.uk/article/512", date(2018, 3, 1)),
            ("rusemb.org.uk/ambarticles/77", None),
        ]
    );
    assert_eq!(
        page.items[0].title,
        "Комментарий Посольства в связи с обвинениями России в создании угрозы продовольственного кризиса"
    );
    assert!(
        page.items[0]
            .lead
            .starts_with("Посольство обращает внимание")
    );
    assert_eq!(page.items[2].title, "Интервью Посла газете «Известия»");
    assert!(page.items[3].lead.starts_with("Текст статьи Посла"));
    // The same page mis-served as UTF-8 by the header: the meta wins, with a note.
    let body = charset::decode(&bytes, Some("text/html; charset=utf-8"));
    assert_eq!(body.charset, "windows-1251");
    assert!(body.note.is_some());
    // And KOI8-R, declared in <meta charset>, decodes too.
    let koi = encoding_rs::KOI8_R
        .encode(&body.text.replace("windows-1251", "koi8-r"))
        .0
        .into_owned();
    let body = charset::decode(&koi, None);
    assert_eq!(body.charset, "KOI8-R");
    assert!(body.text.contains("Интервью Посла"));
}

#[test]
fn site_dates_in_every_form() {
    let utc = chrono_tz::UTC;
    for (text, want) in [
        ("21.05.2022", date(2022, 5, 21)),
        ("21 May 2022", date(2022, 5, 21)),
        ("21 мая 2022", date(2022, 5, 21)),
        ("1 марта 2018", date(2018, 3, 1)),
        ("1 март 2018", date(2018, 3, 1)),
        ("7 ноября 2019 г.", date(2019, 11, 7)),
        ("31 февраля 2020", None),
        ("21 Maya 2022", None),
        ("Москва: 11:16", None),
    ] {
        assert_eq!(parse_date(text).map(|d| d.day_in(utc)), want, "{text}");
    }
    let found = |text| find_date(text).map(|(when, _)| when.day_in(utc));
    assert_eq!(found("Опубликовано 21 мая 2022, 10:00"), date(2022, 5, 21));
    assert_eq!(
        found("Posted on 03.02.2020 by the Embassy"),
        date(2020, 2, 3)
    );
    assert_eq!(found("no date at all"), None);
}

#[test]
fn css_selectors_override_the_patterns() {
    let source = source_from(
        r#"
[[sources]]
name = "sel"
url = "https://example.org/news/"
[sources.selectors]
item = "div.news-item"
title = "h3"
date = ".when"
lead = "p.lead"
"#,
    );
    let html = r#"<body>
      <div class="news-item"><h3>First <b>bold</b> &amp; true</h3><span class="when">Posted 2 June 2023</span>
        <a href="/story?id=1">read</a><p class="lead">Lead   one.</p></div>
      <div class="news-item"><a href="https://example.org/story?id=2">21.05.2022 - Second</a>
        <p>An unselected paragraph that is long enough to be a lead.</p></div>
      <div class="news-item"><h3>No link here</h3></div>
    </body>"#;
    let page = extract(&source, html, &source.url).unwrap();
    let got: Vec<_> = page
        .items
        .iter()
        .map(|i| (i.id.as_str(), i.title.as_str(), i.date, i.lead.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "example.org/story?id=1",
                "First bold & true",
                date(2023, 6, 2),
                "Lead one."
            ),
            // No h3, .when or p.lead inside: each part falls back to the defaults
            // (the link's "date - title", the paragraph after the link).
            (
                "example.org/story?id=2",
                "Second",
                date(2022, 5, 21),
                "An unselected paragraph that is long enough to be a lead."
            ),
        ]
    );
    // Without overrides, the defaults inside an item: link text, its date, the paragraph after.
    let source = source_from(
        "[[sources]]\nname = \"sel\"\nurl = \"https://example.org/\"\n[sources.selectors]\nitem = \".news-item\"\n",
    );
    let page = extract(&source, html, &source.url).unwrap();
    assert_eq!(page.items[1].title, "Second");
    assert_eq!(page.items[1].date, date(2022, 5, 21));
    assert_eq!(
        page.items[1].lead,
        "An unselected paragraph that is long enough to be a lead."
    );
}

#[test]
fn bad_selectors_and_names_are_refused_at_load_time() {
    for (text, key) in [
        (
            "[[sources]]\nurl = \"https://e.org/\"\n[sources.selectors]\nitem = \"div[\"\n",
            "sources[0].selectors.item",
        ),
        (
            "[[sources]]\nurl = \"https://e.org/\"\n[sources.selectors]\nitem = \"div\"\ndate = \"::nope(\"\n",
            "sources[0].selectors.date",
        ),
        (
            "[[sources]]\nname = \"Home Page\"\nurl = \"https://e.org/\"\n",
            "sources[0].name",
        ),
        (
            "[[sources]]\nname = \"a\"\nurl = \"https://e.org/\"\n[[sources]]\nname = \"a\"\nurl = \"https://e.org/x\"\n",
            "sources[1].name",
        ),
        (
            "[[sources]]\nurl = \"https://e.org/\"\nmax_new_items = 0\n",
            "sources[0].max_new_items",
        ),
        (
            "[[sources]]\nurl = \"https://e.org/\"\ntimeout_secs = 5\nconnect_timeout_secs = 6\n",
            "sources[0].connect_timeout_secs",
        ),
    ] {
        let err = Config::from_toml(text).expect_err(text);
        assert!(err.to_string().contains(key), "{text:?} gave {err}");
    }
    assert!(Config::from_toml("[[sources]]\nurl = \"https://e.org/\"\nkind = \"rss\"\n").is_err());
}

#[test]
fn default_sources_keep_the_literal_ampersand_path() {
    let config = Config::default();
    let names: Vec<_> = config.sources.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["home", "press", "informs"]);
    assert_eq!(
        config.sources[1].url.path(),
        "/apress_arh/&start=1&ps=10&ppp=15"
    );
    assert_eq!(config.sources[1].url.query(), None);
    assert_eq!(
        config.sources[2].url.as_str(),
        "https://www.rusemb.org.uk/newarh/&start=1&ps=10&ppp=15"
    );
    assert!(
        config
            .sources
            .iter()
            .all(|s| s.max_new_items == 8 && s.max_age_days == 14)
    );
}

// ---- feeds ------------------------------------------------------------------------------------

const RSS: &str = r#"<?xml version="1.0" encoding="windows-1251"?>
<rss version="2.0"><channel><title>News</title><link>https://www.rusemb.org.uk/</link>
<item><title>Comment on &lt;silence&gt; &amp; more</title><link>http://rusemb.org.uk/fnapr/7160/</link>
<description>&lt;p&gt;The &lt;b&gt;lead&lt;/b&gt; &amp;amp; the rest.&lt;/p&gt;&lt;p&gt;Second paragraph.&lt;/p&gt;</description>
<pubDate>Mon, 23 May 2022 10:00:00 GMT</pubDate><guid>urn:x:1</guid></item>
<item><title>No link</title><guid isPermaLink="false">urn:x:2</guid></item>
</channel></rss>"#;

const ATOM: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><id>urn:a</id><updated>2022-05-21T00:00:00Z</updated>
<entry><title type="html">Title with &lt;i&gt;markup&lt;/i&gt; &amp;amp; entities</title><id>urn:a:1</id>
<link rel="alternate" href="/article/99"/><updated>2022-05-21T08:00:00Z</updated>
<summary type="html">&lt;div&gt;Summary   text&lt;/div&gt;</summary></entry>
</feed>"#;

const JSON_FEED: &str = r#"{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[
 {"id":"j1","url":"https://m.rusemb.org.uk/fnapr/7001","title":"Json item","content_html":"<p>Json lead</p>","date_published":"2021-03-04T12:00:00+03:00"}]}"#;

#[test]
fn feeds_map_to_items() {
    let feed = source_from(
        "[[sources]]\nname = \"f\"\nurl = \"https://www.rusemb.org.uk/rss\"\nkind = \"feed\"\n",
    );
    let page = extract(&feed, RSS, &feed.url).unwrap();
    assert_eq!(page.items.len(), 2, "{:#?}", page.items);
    let first = &page.items[0];
    assert_eq!(first.id, "rusemb.org.uk/fnapr/7160");
    assert_eq!(first.title, "Comment on <silence> & more");
    assert_eq!(first.lead, "The lead & the rest.");
    assert_eq!(first.date, date(2022, 5, 23));
    // No link: the entry's own id, inside the feed's site's namespace.
    assert_eq!(page.items[1].id, "rusemb.org.uk#urn:x:2");
    assert_eq!(page.items[1].url, "https://www.rusemb.org.uk/rss");

    let page = extract(&feed, ATOM, &feed.url).unwrap();
    assert_eq!(page.items[0].id, "rusemb.org.uk/article/99");
    assert_eq!(page.items[0].url, "https://www.rusemb.org.uk/article/99");
    assert_eq!(page.items[0].title, "Title with markup & entities");
    assert_eq!(page.items[0].lead, "Summary text");
    assert_eq!(page.items[0].date, date(2022, 5, 21));

    let page = extract(&feed, JSON_FEED, &feed.url).unwrap();
    assert_eq!(page.items[0].id, "rusemb.org.uk/fnapr/7001");
    assert_eq!(page.items[0].lead, "Json lead");
    assert_eq!(page.items[0].date, date(2021, 3, 4));

    // A feed source given an HTML page fails clearly; `auto` reads either.
    let err = extract(&feed, "<html><body>hi</body></html>", &feed.url).unwrap_err();
    assert!(matches!(err, ExtractError::Feed { .. }));
    assert!(
        err.to_string().contains("https://www.rusemb.org.uk/rss"),
        "{err}"
    );
    let mut auto = feed.clone();
    auto.kind = SourceKind::Auto;
    assert_eq!(extract(&auto, ATOM, &auto.url).unwrap().items.len(), 1);
    let html = fixture_text("rusemb/home-2022-05-21.html");
    assert_eq!(extract(&auto, &html, &base()).unwrap().items.len(), 11);
}

// ---- entries without a title or a link, and every date a feed writes (issue 23) -----------------

/// A feed source of one's own (times in UTC, as the reference reader reads them).
fn news_feed(url: &str) -> embassy_bot::SourceConfig {
    source_from(&format!(
        "[[sources]]\nname = \"news\"\nurl = \"{url}\"\nkind = \"feed\"\n"
    ))
}

#[test]
fn feed_entries_without_a_title_or_a_link_are_read_as_a_feed_reader_shows_them() {
    use embassy_bot::Noticed;
    let feed = news_feed("https://news.example/feed.xml");
    let text = fixture_text("feeds/entries-and-dates.xml");
    let page = extract(&feed, &text, &feed.url).unwrap();
    let got: Vec<_> = page
        .items
        .iter()
        .map(|i| (i.title.as_str(), i.url.as_str(), i.date))
        .collect();
    assert_eq!(
        got,
        [
            // Sun Jan  4 16:29:06 2004: asctime, no zone, so UTC.
            (
                "Ordinary release",
                "https://news.example/releases/1",
                date(2004, 1, 4)
            ),
            // 16:31 ET is 21:31 UTC, the same day; no link: the source's page.
            (
                "Statement without a page of its own",
                "https://news.example/feed.xml",
                date(2004, 1, 26)
            ),
            // 01:31:15 in Korea (+09:00) is 16:31:15 UTC the day before.
            (
                "Notice to visitors",
                "https://news.example/feed.xml",
                date(2004, 5, 27)
            ),
            // No title: the description's first sentence; 03335 is day 335 of 2003.
            (
                "The consulate opens on Saturday",
                "https://news.example/releases/4",
                date(2003, 12, 1)
            ),
            // The entry with neither title nor link is not here.
            ("Undated release", "https://news.example/releases/6", None),
        ]
    );
    assert_eq!(page.items[0].id, "news.example/releases/1");
    assert_eq!(
        page.items[1].id, "news.example#statement-2004-01-26",
        "the feed's guid, in its own site's namespace"
    );
    assert!(
        page.items[2].id.starts_with("news.example/feed.xml#entry-"),
        "no guid: the source and a hash of title and date, {}",
        page.items[2].id
    );
    assert_eq!(page.items[3].id, "news.example/releases/4");
    assert_eq!(
        page.items[3].lead,
        "The consulate opens on Saturday. Queues are expected in the morning."
    );
    // Read again, every item keeps its key.
    assert_eq!(extract(&feed, &text, &feed.url).unwrap().items, page.items);

    let notes: Vec<_> = page
        .notes
        .iter()
        .map(|n| (n.entry, n.item, n.noticed.clone()))
        .collect();
    assert_eq!(notes.len(), 6, "{notes:#?}");
    assert_eq!(notes[0], (2, Some(1), Noticed::LinkToSourcePage));
    assert_eq!(notes[1], (3, Some(2), Noticed::LinkToSourcePage));
    assert_eq!(notes[2], (4, Some(3), Noticed::TitleFromDescription));
    assert!(
        matches!(&notes[3], (5, None, Noticed::DateUnread { text, .. }) if text == "Sun, 99 Jun 2009 12:00:00 GMT")
    );
    assert_eq!(notes[4], (5, None, Noticed::Skipped));
    assert!(
        matches!(&notes[5], (6, Some(4), Noticed::DateUnread { text, .. }) if text == "yesterday at 10:00")
    );
}

#[test]
fn check_source_says_per_entry_which_date_it_could_not_read_and_which_entry_it_skipped() {
    use embassy_bot::testing::check_source::{OneRead, describe};
    let feed = news_feed("https://news.example/feed.xml");
    let body = charset::decode(&fixture("feeds/entries-and-dates.xml"), None);
    let page = extract(&feed, &body.text, &feed.url).unwrap();
    let read = OneRead {
        shown: "entries-and-dates.xml".into(),
        source: feed.clone(),
        base: feed.url.clone(),
        body,
        http: None,
    };
    let report = describe(&read, &page, NaiveDate::from_ymd_opt(2004, 6, 1).unwrap());
    for line in [
        "  2. 2004-01-26  Statement without a page of its own\n     https://news.example/feed.xml\n     note: no link: the item links to the source's page\n",
        "  4. 2003-12-01  The consulate opens on Saturday\n",
        "     note: no title: the description's first sentence stands in\n",
        "  5. no date     Undated release\n     https://news.example/releases/6\n     note: date `yesterday at 10:00` not understood\n",
        "  - entry 5: date `Sun, 99 Jun 2009 12:00:00 GMT` not read: no such day\n",
        "  - entry 5: neither a title nor a link: skipped\n",
        "  - 1 items have a date that could not be read (see their notes above)\n",
        "  - 1 of 5 items have no date\n",
    ] {
        assert!(report.contains(line), "{line:?} not in:\n{report}");
    }
}

#[tokio::test]
async fn title_only_and_link_only_entries_go_through_the_poller_into_the_store_once() {
    use crate::support::site::{Behaviour, FakeSite};
    let site = FakeSite::start("").await;
    site.behave(Behaviour {
        content_type: "application/rss+xml; charset=utf-8".into(),
        ..Behaviour::default()
    });
    // The feed's links on the fake site's own host, as a site's feed links to itself.
    let text =
        fixture_text("feeds/entries-and-dates.xml").replace("https://news.example/", &site.url);
    site.set_page(text.clone());
    let feed = news_feed(&site.url);
    let dir = tempfile::tempdir().unwrap();
    let store = embassy_bot::Store::open(dir.path()).unwrap();
    let client = embassy_bot::testing::source::fetch::client_for(&feed).unwrap();
    let mut validators = embassy_bot::testing::source::fetch::Validators::default();
    let now = chrono::Utc::now();
    let first = embassy_bot::poll_once(&feed, &client, &store, &mut validators, now)
        .await
        .unwrap()
        .expect("a full read");
    assert_eq!(first.new_items.len(), 5, "{:#?}", first.new_items);
    let linkless = first
        .new_items
        .iter()
        .find(|s| s.item.title == "Notice to visitors")
        .expect("a title-only entry is recorded");
    assert_eq!(linkless.item.url, feed.url.to_string());
    let stored = store
        .item(&linkless.item.id)
        .unwrap()
        .expect("stored under its key");
    assert_eq!(stored.item.title, "Notice to visitors");
    let untitled = store
        .item("127.0.0.1/releases/4")
        .unwrap()
        .expect("a link-only entry is stored under its link");
    assert_eq!(untitled.item.title, "The consulate opens on Saturday");

    // The next read shows the same entries and two new title-only ones, alike
    // but for their dates: only those two are new, each under a key of its own.
    let more = text.replacen(
        "<item>",
        "<item><title>Notice to visitors</title><pubDate>Sat, 29 May 2004 10:00:00 GMT</pubDate></item>\n  \
         <item><title>Notice to visitors</title><pubDate>Sun, 30 May 2004 10:00:00 GMT</pubDate></item>\n  <item>",
        1,
    );
    site.set_page(more);
    let later = now + chrono::Duration::minutes(5);
    let second = embassy_bot::poll_once(&feed, &client, &store, &mut validators, later)
        .await
        .unwrap()
        .expect("a full read");
    let new: Vec<_> = second
        .new_items
        .iter()
        .map(|s| (s.item.title.as_str(), s.item.date))
        .collect();
    assert_eq!(new.len(), 2, "only the two new entries are new: {new:?}");
    assert!(new.contains(&("Notice to visitors", date(2004, 5, 29))));
    assert!(new.contains(&("Notice to visitors", date(2004, 5, 30))));
    assert_ne!(second.new_items[0].item.id, second.new_items[1].item.id);
}

// ---- hostile input ------------------------------------------------------------------------------

/// Runs `f` on a thread with the default 2 MiB stack (like a tokio worker), so a
/// recursion that would overflow in production overflows here too.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .expect("no panic")
}

/// Hostile input never panics, overflows the stack or loops forever (how
/// long a hostile page takes is measured by `cargo bench --bench poll`, not
/// asserted here: CI machines differ in speed).
#[test]
fn hostile_pages_never_panic() {
    let html_source = default_source();
    let feed_source = {
        let mut s = default_source();
        s.kind = SourceKind::Feed;
        s
    };
    let mut garbage = Vec::with_capacity(1 << 20);
    let mut x: u32 = 12345;
    for _ in 0..(1 << 20) {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        garbage.push((x >> 16) as u8);
    }
    let truncated = {
        let full = fixture_text("rusemb/home-2022-05-21.html");
        let cut = full.len() * 2 / 3;
        let cut = (0..=cut).rev().find(|&i| full.is_char_boundary(i)).unwrap();
        full[..cut].to_string()
    };
    let big_entry = "<p><a href=\"/fnapr/1\">01.01.2020 - A title &amp; more</a></p><p>Lead paragraph that is long enough to count here.</p>\n";
    let ten_mb = big_entry.repeat(10 * 1024 * 1024 / big_entry.len());
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", truncated.into_bytes()),
        ("binary garbage", garbage),
        ("10 MB page", ten_mb.into_bytes()),
        ("100k nested divs", ("<div>".repeat(100_000) + "<a href='/fnapr/2'>02.02.2020 - Deep</a>").into_bytes()),
        ("100k nested spans", ("<span>".repeat(100_000) + "<a href='/fnapr/2'>x</a>").into_bytes()),
        ("100k nested b", ("<b>".repeat(100_000)).into_bytes()),
        ("100k nested xml", ("<rss><channel><item><title>".to_string() + &"<x>".repeat(100_000)).into_bytes()),
        ("100k json arrays", ("{\"items\":".to_string() + &"[".repeat(100_000)).into_bytes()),
        ("markup title", "<a href='/fnapr/3'>03.03.2021 - <b>Bold</b> &lt;script&gt; &amp;amp; <script>alert(1)</script> &#x41;&#66;&nbsp;c</a>".as_bytes().to_vec()),
        ("wrong charset", b"<meta charset=utf-8><a href='/fnapr/4'>04.04.2021 - \xcf\xf0\xe8\xe2\xe5\xf2</a>".to_vec()),
    ];
    for (name, bytes) in cases {
        let (html_source, feed_source) = (html_source.clone(), feed_source.clone());
        let (items, titles) = on_small_stack(move || {
            let body = charset::decode(&bytes, None);
            let _ = extract(&feed_source, &body.text, &base());
            let page = extract(&html_source, &body.text, &base()).expect("html never errs");
            let titles: Vec<String> = page.items.iter().map(|i| i.title.clone()).collect();
            (page.items.len(), titles)
        });
        for t in &titles {
            assert!(
                !t.contains('<') || t.contains("&lt;") || name == "markup title",
                "{name}: {t}"
            );
        }
        match name {
            "markup title" => assert_eq!(titles, ["Bold <script> &amp; AB c"], "{name}"),
            // Declared UTF-8, nothing else declared, not UTF-8: detected.
            "wrong charset" => assert_eq!(titles, ["Привет"], "{name}"),
            "10 MB page" => assert_eq!(items, 1, "one release linked many times"),
            "100k nested divs" => assert_eq!(titles, ["Deep"]),
            _ => {}
        }
        eprintln!("{name}: {items} items");
    }
}

// ---- links and keys stay on the source's site -----------------------------------------------

/// A neighbour's feed read by the poller before the embassy publishes a
/// release: its entries that link elsewhere, or whose guid is the embassy's
/// URL or key, cannot be recorded as the embassy's release, and nothing it
/// stores links off its own site. When the embassy's page then lists the
/// release, it is new, and the embassy's.
#[tokio::test]
async fn a_feed_cannot_claim_another_sources_release_or_store_third_party_links() {
    use embassy_bot::testing::source::fetch::{Validators, client_for};
    use embassy_bot::{Store, poll_once};

    use crate::support::fixture;
    use crate::support::site::FakeSite;

    // One fake server plays both sites: the embassy at 127.0.0.1, the
    // neighbour at localhost (another host, so another site).
    let site = FakeSite::start(fixture("rusemb/home-2022-05-21.html")).await;
    let port = site.port();
    let embassy = format!("http://127.0.0.1:{port}");
    let neighbour = format!("http://localhost:{port}");
    let feed = fixture_text("feeds/links-elsewhere.xml")
        .replace("@SITE@", &neighbour)
        .replace("@WWW@", &format!("http://www.localhost:{port}"))
        .replace("@EMBASSY_HOST@", "127.0.0.1")
        .replace("@EMBASSY@", &embassy);
    site.set_page_at("/feed.xml", feed);
    let config = Config::from_toml(&format!(
        "[[sources]]\nname = \"home\"\nurl = \"{embassy}/\"\n\
         [[sources]]\nname = \"neighbour\"\nurl = \"{neighbour}/feed.xml\"\nkind = \"feed\"\n"
    ))
    .unwrap();
    let (home, next_door) = (&config.sources[0], &config.sources[1]);

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    // The day the embassy published it, so the release is fresh enough to push.
    let now = chrono::DateTime::parse_from_rfc3339("2022-05-23T12:00:00Z")
        .unwrap()
        .to_utc();
    let read = |source: &embassy_bot::SourceConfig| {
        let store = store.clone();
        let source = source.clone();
        async move {
            let client = client_for(&source).unwrap();
            poll_once(&source, &client, &store, &mut Validators::default(), now)
                .await
                .unwrap()
                .expect("a full read")
        }
    };
    read(home).await; // the embassy's first read: 21 May
    let neighbours = read(next_door).await;
    let embassy_key = "127.0.0.1/fnapr/7160";
    assert!(
        store.item(embassy_key).unwrap().is_none(),
        "the neighbour's feed claimed the embassy's release: {:?}",
        store.item(embassy_key).unwrap()
    );
    for stored in &neighbours.new_items {
        assert_eq!(stored.source, "neighbour");
        assert_ne!(stored.item.id, embassy_key, "{stored:?}");
        let link = Url::parse(&stored.item.url).unwrap();
        assert!(
            matches!(link.host_str(), Some("localhost" | "www.localhost")),
            "a neighbour's release links off its site: {stored:?}"
        );
    }
    assert_eq!(neighbours.new_items.len(), 6, "each entry its own release");

    // The embassy publishes the release the neighbour tried to claim.
    site.set_page(fixture("rusemb/home-2022-05-23.html"));
    let published = read(home).await;
    let new: Vec<(&str, &str)> = published
        .new_items
        .iter()
        .map(|s| (s.item.id.as_str(), s.source.as_str()))
        .collect();
    assert_eq!(new, [(embassy_key, "home")]);
    assert_eq!(published.queued, 1, "pushed to the embassy's followers");
    let stored = store.item(embassy_key).unwrap().unwrap();
    assert!(stored.also_on.is_empty(), "{stored:?}");
    assert_eq!(stored.item.url, format!("{embassy}/fnapr/7160"));
}
