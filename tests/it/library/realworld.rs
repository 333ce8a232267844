//! The web as it is: feeds and listing pages captured from the wild, the date
//! layouts of news listings, and the bounds on what one read may cost.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use embassy_bot::testing::check_source::{OneRead, describe, read_target, warnings};
use embassy_bot::testing::source::charset;
use embassy_bot::testing::source::charset::CharsetFrom;
use embassy_bot::testing::text::markup::MAX_TEXT_CHARS;
use embassy_bot::{Config, SourceConfig, SourceKind};
use embassy_bot::{MAX_URL_LEN, Page, extract};
use serde::Deserialize;
use url::Url;

// ---- the conformance test over ../shared/realworld ---------------------------------------------

#[derive(Deserialize)]
struct ManifestEntry {
    file: String,
    base: String,
    link_patterns: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct Expected {
    files: Vec<ExpectedFile>,
}

#[derive(Deserialize)]
struct ExpectedFile {
    file: String,
    charset: Option<String>,
    charset_from: Option<String>,
    /// Set when the file must be refused (an ill-formed feed).
    error: Option<String>,
    /// The hosts besides its own the source may link to (`link_hosts`),
    /// for a feed whose entries legitimately link elsewhere.
    #[serde(default)]
    link_hosts: Vec<String>,
    items: Vec<ExpectedItem>,
}

#[derive(Deserialize, PartialEq, Debug)]
struct ExpectedItem {
    title: String,
    url: String,
    date: Option<NaiveDate>,
}

/// The captured files live beside the repository (`../shared/realworld`), not in it.
fn realworld_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/realworld");
    dir.join("manifest.json").is_file().then_some(dir)
}

fn from_name(from: CharsetFrom) -> &'static str {
    match from {
        CharsetFrom::Header => "header",
        CharsetFrom::Meta => "meta",
        CharsetFrom::Bom => "bom",
        CharsetFrom::Default => "default",
        CharsetFrom::Sniffed => "sniffed",
        CharsetFrom::Detected => "detected",
    }
}

/// What `check-source FILE` reads: the file decoded as a fetch would be, with
/// a config whose only source has the file's original URL and link patterns,
/// and may link to `link_hosts` besides its own site.
async fn check_source_read(
    dir: &Path,
    entry: &ManifestEntry,
    link_hosts: &[String],
) -> anyhow::Result<(Page, String, &'static str)> {
    let quoted = |list: &[String]| {
        let quoted: Vec<String> = list.iter().map(|p| format!("'{p}'")).collect();
        quoted.join(", ")
    };
    let patterns = entry.link_patterns.as_ref().map_or(String::new(), |list| {
        format!("link_patterns = [{}]\n", quoted(list))
    });
    let config = Config::from_toml(&format!(
        "[[sources]]\nname = \"wild\"\nurl = \"{}\"\n{patterns}link_hosts = [{}]\n",
        entry.base,
        quoted(link_hosts)
    ))?;
    let path = dir.join(&entry.file);
    let read = read_target(&config, Some(&path.to_string_lossy())).await?;
    let page = extract(&read.source, &read.body.text, &read.base)?;
    Ok((
        page,
        read.body.charset.to_string(),
        from_name(read.body.from),
    ))
}

#[tokio::test]
async fn every_realworld_file_reads_as_a_mature_reader_does() {
    let Some(dir) = realworld_dir() else {
        eprintln!("skipped: ../shared/realworld is not present beside the repository");
        return;
    };
    let manifest: Vec<ManifestEntry> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let expected: Expected = serde_json::from_str(include_str!("../../realworld-expected.json"))
        .expect("expectations parse");
    assert_eq!(
        manifest.iter().map(|e| &e.file).collect::<Vec<_>>(),
        expected.files.iter().map(|e| &e.file).collect::<Vec<_>>(),
        "tests/realworld-expected.json must cover the manifest's files, in order"
    );

    let mut failures = Vec::new();
    for (entry, want) in manifest.iter().zip(&expected.files) {
        let file = &entry.file;
        let (page, charset, from) = match check_source_read(&dir, entry, &want.link_hosts).await {
            Ok(read) => read,
            Err(e) => {
                let text = format!("{e:#}");
                match &want.error {
                    Some(error) if text.contains(error.as_str()) => {}
                    _ => failures.push(format!("{file}: unexpected error: {text}")),
                }
                continue;
            }
        };
        if want.error.is_some() {
            failures.push(format!(
                "{file}: read as {} items, expected refused",
                page.items.len()
            ));
            continue;
        }
        if (Some(charset.as_str()), Some(from))
            != (want.charset.as_deref(), want.charset_from.as_deref())
        {
            failures.push(format!(
                "{file}: charset {charset} from {from}, expected {:?} from {:?}",
                want.charset, want.charset_from
            ));
        }
        let got: Vec<ExpectedItem> = page
            .items
            .iter()
            .map(|i| ExpectedItem {
                title: i.title.clone(),
                url: i.url.clone(),
                date: i.date,
            })
            .collect();
        if got.len() != want.items.len() {
            failures.push(format!(
                "{file}: {} items, expected {}",
                got.len(),
                want.items.len()
            ));
        }
        for (n, (got, want)) in got.iter().zip(&want.items).enumerate() {
            let normal = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
            if normal(&got.title) != normal(&want.title)
                || got.url != want.url
                || got.date != want.date
            {
                failures.push(format!(
                    "{file} item {}: got {got:?}\n    expected {want:?}",
                    n + 1
                ));
            }
        }
        for item in &page.items {
            assert!(
                Url::parse(&item.url).is_ok(),
                "{file}: {} is not absolute",
                item.url
            );
            assert!(
                !item.title.contains('\u{fffd}') && !item.title.contains("</"),
                "{file}: {}",
                item.title
            );
        }
        // Without the hosts it lists, the source keeps every entry but links
        // only to its own site: the entries whose links went elsewhere link
        // to the feed itself.
        if !want.link_hosts.is_empty() {
            let (own, _, _) = check_source_read(&dir, entry, &[]).await.unwrap();
            let titles = |page: &Page| {
                page.items
                    .iter()
                    .map(|i| i.title.clone())
                    .collect::<Vec<_>>()
            };
            assert_eq!(titles(&own), titles(&page), "{file}");
            let base_site = site_of(&entry.base);
            for item in &own.items {
                assert_eq!(site_of(&item.url), base_site, "{file}: {item:?}");
            }
            assert!(
                own.items.iter().any(|i| i.url == entry.base),
                "{file}: lists link_hosts it does not need"
            );
            let source = Config::from_toml(&format!(
                "[[sources]]\nurl = \"{}\"\nmax_new_items = 100\n",
                entry.base
            ))
            .unwrap()
            .sources
            .remove(0);
            let today = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
            let said = warnings(&source, &own.items, today);
            assert!(
                said.iter()
                    .any(|w| w.contains("link to the feed itself")
                        && w.contains("sources[].link_hosts")),
                "{file}: check-source says why: {said:?}"
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A URL's host without the `www.` or `m.` that names the same site.
fn site_of(url: &str) -> String {
    let url = Url::parse(url).unwrap();
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let site = host
        .strip_prefix("www.")
        .or_else(|| host.strip_prefix("m."))
        .unwrap_or(&host);
    site.to_string()
}

// ---- date layouts of news listings ---------------------------------------------------------

fn embassy() -> SourceConfig {
    Config::default().sources.remove(0)
}

/// The embassy's settings, reading feeds.
fn feed_source() -> SourceConfig {
    SourceConfig {
        kind: SourceKind::Feed,
        ..embassy()
    }
}

fn base() -> Url {
    Url::parse("https://www.rusemb.org.uk/").unwrap()
}

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

fn titles_and_dates(html: &str) -> Vec<(String, Option<NaiveDate>)> {
    extract(&embassy(), html, &base())
        .unwrap()
        .items
        .into_iter()
        .map(|i| (i.title, i.date))
        .collect()
}

fn pairs(list: &[(&str, Option<NaiveDate>)]) -> Vec<(String, Option<NaiveDate>)> {
    list.iter().map(|(t, d)| (t.to_string(), *d)).collect()
}

#[test]
fn a_date_in_its_own_element_before_the_link_belongs_to_it() {
    // Issue 11.8's layout: every release used to come out undated.
    let html = r#"<ul>
        <li><span>20.05.2022</span> - <a href="/fnapr/7153/">Embassy comment on food security</a></li>
        <li><span class="d">19.05.2022</span><a href="/fnapr/7152/">No separator at all</a></li>
        <li><b>18.05.2022</b> – <a href="/fnapr/7151/">An en dash</a></li>
        <li><a href="/fnapr/7150/">Undated release</a></li>
    </ul>"#;
    assert_eq!(
        titles_and_dates(html),
        pairs(&[
            ("Embassy comment on food security", date(2022, 5, 20)),
            ("No separator at all", date(2022, 5, 19)),
            ("An en dash", date(2022, 5, 18)),
            ("Undated release", None),
        ])
    );
}

#[test]
fn a_date_after_the_title_on_the_same_line_belongs_to_it() {
    let html = r#"<ul>
        <li><a href="/fnapr/1">First</a> 20.05.2022</li>
        <li><a href="/fnapr/2">Second</a> (19.05.2022)</li>
        <li><a href="/fnapr/3">Third – 18.05.2022</a></li>
    </ul>
    <p><a href="/fnapr/4">Fourth</a> 17.05.2022 · <a href="/fnapr/5">Fifth</a> 16.05.2022</p>"#;
    assert_eq!(
        titles_and_dates(html),
        pairs(&[
            ("First", date(2022, 5, 20)),
            ("Second", date(2022, 5, 19)),
            ("Third", date(2022, 5, 18)),
            // Links sharing a line: the page dates its links after them.
            ("Fourth", date(2022, 5, 17)),
            ("Fifth", date(2022, 5, 16)),
        ])
    );
    // The same shared line with dates first reads the other way.
    let html = r#"<p>17.05.2022 <a href="/fnapr/4">Fourth</a> 16.05.2022 <a href="/fnapr/5">Fifth</a></p>"#;
    assert_eq!(
        titles_and_dates(html),
        pairs(&[("Fourth", date(2022, 5, 17)), ("Fifth", date(2022, 5, 16))])
    );
}

#[test]
fn time_elements_date_the_release_on_their_side() {
    // <time> after each headline: the lines between two headlines hold the first
    // one's date, and the page's side (after) gives it to the first.
    let after = r#"
        <article><h2><a href="/fnapr/1">One</a></h2><time datetime="2022-05-20T23:30:00Z">late on Friday</time>
          <p>A lead paragraph that is long enough to count as one.</p></article>
        <article><h2><a href="/fnapr/2">Two</a></h2><time datetime="2022-05-19">Thursday</time>
          <p>Another lead paragraph that is long enough to count.</p></article>"#;
    // 23:30 UTC is already Saturday in Moscow, the embassy's time zone.
    assert_eq!(
        titles_and_dates(after),
        pairs(&[("One", date(2022, 5, 21)), ("Two", date(2022, 5, 19))])
    );
    let before = r#"
        <article><time datetime="2022-05-20">Friday</time><h2><a href="/fnapr/1">One</a></h2>
          <p>A lead paragraph that is long enough to count as one.</p></article>
        <article><time datetime="2022-05-19">Thursday</time><h2><a href="/fnapr/2">Two</a></h2>
          <p>Another lead paragraph that is long enough to count.</p></article>"#;
    assert_eq!(
        titles_and_dates(before),
        pairs(&[("One", date(2022, 5, 20)), ("Two", date(2022, 5, 19))])
    );
    // Inside the link, the time is the date and the rest the title.
    let inside = r#"<p><a href="/fnapr/1"><time datetime="2022-05-20">20 May</time> Title after the time</a></p>"#;
    assert_eq!(
        titles_and_dates(inside),
        pairs(&[("Title after the time", date(2022, 5, 20))])
    );
}

#[test]
fn the_other_layouts_keep_working() {
    let html = r#"
        <p>21.05.2022</p><p><a href="/fnapr/1">Date on the line before</a></p>
        <p><a href="/fnapr/2">20.05.2022 - Date in the link text</a></p>
        <h2><a href="/article/3">Headline of a post</a></h2>
        <p>Body of the post, which mentions 1 March 2018 in passing and goes on.</p>
        <p><a href="/article/3">Posted on September  3, 2019 at  6:09 AM</a> • <a href="/article/3#comments">3 Comments</a></p>
        <p>Read the guidelines <a href="/article/4">here</a>.</p>"#;
    assert_eq!(
        titles_and_dates(html),
        pairs(&[
            ("Date on the line before", date(2022, 5, 21)),
            ("Date in the link text", date(2022, 5, 20)),
            ("Headline of a post", date(2019, 9, 3)),
        ])
    );
}

#[test]
fn tracking_parameters_make_no_new_release() {
    let html = r#"
        <a href="/fnapr/1?utm_source=tg&amp;utm_medium=social">Tagged once</a>
        <a href="https://rusemb.org.uk/fnapr/1/?fbclid=x#comments">Tagged twice</a>
        <a href="/fnapr/2?id=7&amp;hpt=hp_t4">Own parameter</a>
        <a href="/fnapr/2?id=8&amp;ref=rss">Another article</a>"#;
    let page = extract(&embassy(), html, &base()).unwrap();
    let got: Vec<_> = page
        .items
        .iter()
        .map(|i| (i.id.as_str(), i.url.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("rusemb.org.uk/fnapr/1", "https://www.rusemb.org.uk/fnapr/1"),
            (
                "rusemb.org.uk/fnapr/2?id=7",
                "https://www.rusemb.org.uk/fnapr/2?id=7"
            ),
            (
                "rusemb.org.uk/fnapr/2?id=8&ref=rss",
                "https://www.rusemb.org.uk/fnapr/2?id=8&ref=rss"
            ),
        ]
    );
    // A source can name its own tracking parameters.
    let mut source = embassy();
    source.tracking_params = vec!["ref".into()];
    let page = extract(&source, html, &base()).unwrap();
    assert_eq!(page.items[2].id, "rusemb.org.uk/fnapr/2?id=8");
}

// ---- bounds on one read (issue 11.1) ---------------------------------------------------------

#[test]
fn a_read_yields_at_most_max_items() {
    // About 4 MB: 60,000 distinct release links.
    let mut html = String::with_capacity(4 << 20);
    for n in 0..60_000 {
        html.push_str(&format!(
            "<p><a href=\"/fnapr/{n}\">21.05.2022 - Release number {n} of the flood</a></p>\n"
        ));
    }
    assert!(html.len() > 3_500_000, "{}", html.len());
    let page = extract(&embassy(), &html, &base()).unwrap();
    assert_eq!(page.items.len(), 500);
    assert_eq!(page.items[0].id, "rusemb.org.uk/fnapr/0");
    assert_eq!(page.items[499].id, "rusemb.org.uk/fnapr/499");

    // The cap is per source, and holds for feeds and selectors too.
    let mut small = embassy();
    small.max_items = 3;
    let capped = extract(&small, &html, &base()).unwrap().items;
    assert_eq!(capped.len(), 3);
    let today = NaiveDate::from_ymd_opt(2022, 5, 21).unwrap();
    assert!(
        warnings(&small, &capped, today)
            .iter()
            .any(|w| w.contains("max_items")),
        "check-source says the read was cut"
    );
    let mut feed = String::from("<rss version=\"2.0\"><channel><title>F</title>");
    for n in 0..1_000 {
        feed.push_str(&format!(
            "<item><title>Entry {n}</title><link>https://e.org/{n}</link></item>"
        ));
    }
    feed.push_str("</channel></rss>");
    assert_eq!(
        extract(&feed_source(), &feed, &base()).unwrap().items.len(),
        500
    );
    small.kind = SourceKind::Feed;
    assert_eq!(extract(&small, &feed, &base()).unwrap().items.len(), 3);
    let selectors = Config::from_toml(
        "[[sources]]\nurl = \"https://www.rusemb.org.uk/\"\nmax_items = 7\n[sources.selectors]\nitem = \"p\"\n",
    )
    .unwrap()
    .sources
    .remove(0);
    assert_eq!(extract(&selectors, &html, &base()).unwrap().items.len(), 7);
}

#[test]
fn long_titles_are_cut_and_long_urls_refused() {
    let title = "word ".repeat(2_000); // 10,000 characters
    let long_query = "x".repeat(5_000);
    let html = format!(
        "<p><a href=\"/fnapr/1\">{title}</a></p><p>{title}</p>\
         <p><a href=\"/fnapr/2?q={long_query}\">A 5,000-character link</a></p>\
         <p><a href=\"/fnapr/3\">A short one</a></p>"
    );
    let page = extract(&embassy(), &html, &base()).unwrap();
    let ids: Vec<_> = page.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["rusemb.org.uk/fnapr/1", "rusemb.org.uk/fnapr/3"]);
    let cut = &page.items[0];
    assert!(
        cut.title.chars().count() <= MAX_TEXT_CHARS && cut.title.ends_with('…'),
        "{}",
        cut.title.len()
    );
    assert!(cut.lead.chars().count() <= MAX_TEXT_CHARS && cut.lead.ends_with('…'));

    // A feed entry whose link is too long falls back to its guid.
    let feed = format!(
        "<rss version=\"2.0\"><channel><title>F</title><item><title>{title}</title>\
         <link>https://www.rusemb.org.uk/a?q={long_query}</link><guid>https://www.rusemb.org.uk/a/1</guid></item></channel></rss>"
    );
    let page = extract(&feed_source(), &feed, &base()).unwrap();
    assert_eq!(page.items[0].url, "https://www.rusemb.org.uk/a/1");
    assert!(page.items[0].url.len() <= MAX_URL_LEN);
    assert!(page.items[0].title.chars().count() <= MAX_TEXT_CHARS);
}

#[test]
fn the_new_source_keys_are_checked_at_load_time() {
    for (text, key) in [
        (
            "[[sources]]\nurl = \"https://e.org/\"\nmax_items = 0\n",
            "sources[0].max_items",
        ),
        (
            "[[sources]]\nurl = \"https://e.org/\"\nmax_items = 10001\n",
            "sources[0].max_items",
        ),
        (
            "[[sources]]\nurl = \"https://e.org/\"\ntime_zone = \"Moscow\"\n",
            "sources[0].time_zone",
        ),
        (
            "[[sources]]\nurl = \"https://e.org/\"\ntracking_params = [\"a=b\"]\n",
            "sources[0].tracking_params[0]",
        ),
        (
            "[[sources]]\nurl = \"https://e.org/\"\ntracking_params = [\"*\"]\n",
            "sources[0].tracking_params[0]",
        ),
        (
            "[[sources]]\nurl = \"https://e.org/\"\nlink_hosts = [\"ok.org\", \"https://cdn.e.org/\"]\n",
            "sources[0].link_hosts[1]",
        ),
        (
            "[[sources]]\nurl = \"https://e.org/\"\nlink_hosts = [\"cdn.e.org:8080\"]\n",
            "sources[0].link_hosts[0]",
        ),
        (
            "[[sources]]\nurl = \"https://e.org/\"\nlink_hosts = [\"*.org\"]\n",
            "sources[0].link_hosts[0]",
        ),
        (
            "[[sources]]\nurl = \"https://e.org/\"\nlink_hosts = [\"cdn.*.org\"]\n",
            "sources[0].link_hosts[0]",
        ),
        (
            "[[sources]]\nurl = \"https://e.org/\"\nlink_hosts = [\" \"]\n",
            "sources[0].link_hosts[0]",
        ),
    ] {
        let err = Config::from_toml(text).expect_err(text);
        assert!(err.to_string().contains(key), "{text:?} gave {err}");
    }
    // Built-in embassy sources read times in Moscow; a source of one's own in UTC.
    assert_eq!(embassy().time_zone, chrono_tz::Europe::Moscow);
    let own = Config::from_toml("[[sources]]\nurl = \"https://e.org/\"\n").unwrap();
    assert_eq!(own.sources[0].time_zone, chrono_tz::UTC);
    assert_eq!(own.sources[0].max_items, 500);
    // Hosts are kept as links spell them, so they compare equal.
    let listed = Config::from_toml(
        "[[sources]]\nurl = \"https://e.org/\"\nlink_hosts = [\"WWW.Example.ORG.\", \"*.Feeds.E.org\", \"пример.рф\", \"192.0.2.7\"]\n",
    )
    .unwrap();
    assert_eq!(
        listed.sources[0].link_hosts,
        [
            "www.example.org",
            "*.feeds.e.org",
            "xn--e1afmkfd.xn--p1ai",
            "192.0.2.7"
        ]
    );
    assert!(own.sources[0].link_hosts.is_empty());
}

#[test]
fn undeclared_legacy_charsets_are_detected_and_said_so() {
    let text = "<rss><channel><item><title>Посольство России в Великобритании сообщает о новом порядке приёма документов</title>\
                <link>https://e.org/1</link><pubDate>2018-09-18 14:38:10</pubDate></item></channel></rss>";
    let bytes = encoding_rs::WINDOWS_1251.encode(text).0.into_owned();
    let body = charset::decode(&bytes, None);
    assert_eq!(
        (body.charset, body.from),
        ("windows-1251", CharsetFrom::Detected)
    );
    let page = extract(&feed_source(), &body.text, &base()).unwrap();
    assert!(page.items[0].title.starts_with("Посольство России"));
    // No zone: 14:38 in Moscow, the same calendar day.
    assert_eq!(page.items[0].date, date(2018, 9, 18));
    // check-source says where the charset came from.
    let read = OneRead {
        shown: "saved.xml".into(),
        source: feed_source(),
        base: base(),
        body,
        http: None,
    };
    let report = describe(&read, &page, NaiveDate::from_ymd_opt(2018, 9, 19).unwrap());
    assert!(
        report.contains(
            "charset: detected windows-1251 (no usable declaration, and the bytes are not UTF-8)"
        ),
        "{report}"
    );
}
