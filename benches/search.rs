//! `/search` over many stored releases, measured: `cargo bench --bench search`.
//!
//! Fills a temporary store with `BENCH_RELEASES` (default 20,000) releases —
//! titles of 8–16 words and leads of 30–70 words drawn from the words of the
//! embassy's own page, one in five in Russian — through `Store::record_archive`
//! (what `backfill` does), then measures:
//! - the first search, which builds the index from the store;
//! - each query's whole `/search` reply (parse, index scan, the page's
//!   releases read from sled, rendering), many times: median, 99th percentile, max;
//! - a plain scan (every release read from sled, decoded and matched), the
//!   alternative the index replaces;
//! - the index's memory: its own estimate, and the RSS an index built from
//!   releases already in memory adds to the process.

#[path = "support/machine.rs"]
mod machine;

use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use embassy_bot::Item;
use embassy_bot::Language;
use embassy_bot::testing::commands::search;
use embassy_bot::testing::text::matching::{Query, normalize};
use embassy_bot::{SearchIndex, Store};

const RUSSIAN: &[&str] = &[
    "посольство",
    "России",
    "Великобритании",
    "заявление",
    "визы",
    "визовый",
    "центр",
    "консульский",
    "отдел",
    "граждан",
    "Лондоне",
    "министерство",
    "иностранных",
    "дел",
    "комментарий",
    "официального",
    "представителя",
    "вопрос",
    "ответ",
    "СМИ",
    "британской",
    "стороны",
    "информации",
    "сотрудничество",
    "Солсбери",
    "инцидент",
    "расследование",
    "встреча",
    "посла",
    "переговоры",
    "санкции",
    "экономика",
    "культура",
    "выставка",
    "концерт",
    "годовщина",
    "Победы",
    "память",
    "ветеранов",
    "соотечественников",
];

/// A small deterministic generator (xorshift), so every run measures the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The words of the embassy's home page (the fixture), as a vocabulary.
fn english_words() -> Vec<String> {
    let page = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/rusemb/home-2022-05-21.html"
    ))
    .expect("fixture page");
    let text = regex::Regex::new(r"<[^>]*>")
        .expect("regex")
        .replace_all(&page, " ");
    let mut words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3 && !w.chars().all(|c| c.is_ascii_digit()))
        .map(str::to_string)
        .collect();
    words.sort();
    words.dedup();
    words
}

fn sentence(rng: &mut Rng, words: &[String], min: usize, max: usize) -> String {
    let n = min + rng.below(max - min + 1);
    (0..n)
        .map(|_| words[rng.below(words.len())].as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn releases(n: usize) -> Vec<Item> {
    let english = english_words();
    let russian: Vec<String> = RUSSIAN.iter().map(|w| w.to_string()).collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let first = NaiveDate::from_ymd_opt(2016, 1, 1).expect("date");
    (0..n)
        .map(|i| {
            let words = if i % 5 == 0 { &russian } else { &english };
            Item {
                id: format!("rusemb.org.uk/fnapr/{}", 100_000 + i),
                url: format!("https://www.rusemb.org.uk/fnapr/{}", 100_000 + i),
                title: sentence(&mut rng, words, 8, 16),
                date: first.checked_add_days(chrono::Days::new((i / 4) as u64)),
                lead: sentence(&mut rng, words, 30, 70),
            }
        })
        .collect()
}

fn rss_bytes() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<usize>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// One query's line: its matches, and the median, 99th percentile and
/// slowest of its `times`.
fn report(text: &str, total: usize, times: &mut [Duration]) {
    times.sort();
    let n = times.len();
    println!(
        "  {text:<62} {total:>6} matches  median {}  p99 {}  max {}",
        ms(times[n / 2]),
        ms(times[n * 99 / 100]),
        ms(times[n - 1])
    );
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}

async fn run() {
    machine::print_machine();
    let n: usize = std::env::var("BENCH_RELEASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("store");
    let all = releases(n);
    let started = Instant::now();
    for page in all.chunks(100) {
        store
            .record_archive("press", page, Utc::now())
            .await
            .expect("record");
    }
    let recorded = started.elapsed();
    let text_bytes: usize = all.iter().map(|i| i.title.len() + i.lead.len()).sum();
    println!(
        "{n} releases recorded in {:.1} s (pages of 100, as backfill does); titles and leads {:.1} MB, {} bytes a release on average",
        recorded.as_secs_f64(),
        text_bytes as f64 / 1e6,
        text_bytes / n
    );
    drop(all);

    let queries = [
        "statement",
        "embassy russian",
        "\"foreign office\"",
        "визы",
        "консульский отдел -санкции",
        "zzzz",
        "a",
        "the embassy of the russian federation in the united kingdom",
    ];
    let build = Instant::now();
    store
        .search(&Query::parse("warm").expect("query"), 0, search::PAGE)
        .expect("search");
    println!(
        "first search (builds the index from the store): {}",
        ms(build.elapsed())
    );
    let size = store.search_index_size().expect("built");
    println!(
        "index estimate: {} releases, {:.1} MB ({} bytes a release)",
        size.releases,
        size.bytes as f64 / 1e6,
        size.bytes / size.releases.max(1)
    );

    const RUNS: usize = 200;
    println!("\n/search reply, {RUNS} runs each (parse, scan, read the page from sled, render):");
    for text in queries {
        let query = Query::parse(text).expect("query");
        let total = store.search(&query, 0, search::PAGE).expect("search").total;
        let mut times: Vec<Duration> = (0..RUNS)
            .map(|_| {
                let t = Instant::now();
                let reply = search::reply(&store, &query, Language::En).expect("reply");
                let took = t.elapsed();
                assert!(!reply.is_empty());
                took
            })
            .collect();
        report(text, total, &mut times);
    }

    let query = Query::parse("embassy russian").expect("query");
    let scan = Instant::now();
    let everything = store.latest(usize::MAX).expect("latest");
    let matched = everything
        .iter()
        .filter(|s| {
            let mut words = normalize(&s.item.title);
            words.push(&s.item.lead);
            query.matches(&words)
        })
        .count();
    println!(
        "\nplain scan instead (read and decode every release from sled, then match): {} for {matched} matches",
        ms(scan.elapsed())
    );

    // The index alone: built from releases already in memory, so the RSS it
    // adds is its own (the store's cache is not in the difference).
    let before = rss_bytes();
    let mut index = SearchIndex::default();
    for stored in &everything {
        index.insert(stored);
    }
    let after = rss_bytes();
    let size = index.size();
    println!(
        "index built in memory: RSS +{:.1} MB for {} releases ({} bytes a release; estimate {})",
        after.saturating_sub(before) as f64 / 1e6,
        size.releases,
        after.saturating_sub(before) / size.releases.max(1),
        size.bytes / size.releases.max(1)
    );
    for releases in [5_000usize, 15_000, 20_000, 50_000] {
        println!(
            "  at {releases} releases: about {:.1} MB",
            (size.bytes / size.releases.max(1) * releases) as f64 / 1e6
        );
    }
    drop(index);

    let bodies = bodies(everything.len());
    let before = rss_bytes();
    let mut index = SearchIndex::default();
    for (stored, body) in everything.iter().zip(&bodies) {
        index.insert_with_body(stored, Some(body));
    }
    let added = rss_bytes().saturating_sub(before);
    with_bodies(&index, &bodies, added, &queries);
}

/// The index with every release's full text (issue 21): a body of
/// `BENCH_BODY_WORDS` words (default 500, about 3.5 KB, a long statement of
/// the embassy's) in paragraphs of 50, drawn from the same words. Measures
/// the index scan alone (`SearchIndex::find`, title and lead matches ranked
/// first), which is what bodies add to a reply, and the memory.
fn bodies(n: usize) -> Vec<embassy_bot::testing::source::body::Body> {
    use embassy_bot::testing::source::body::{Block, BlockKind, Body};
    let words_per_body: usize = body_words();
    let english = english_words();
    let russian: Vec<String> = RUSSIAN.iter().map(|w| w.to_string()).collect();
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    (0..n)
        .map(|i| {
            let words = if i % 5 == 0 { &russian } else { &english };
            let blocks = (0..words_per_body.div_ceil(50))
                .map(|_| {
                    let text = sentence(&mut rng, words, 50, 50);
                    Block {
                        kind: BlockKind::Paragraph,
                        html: text.clone(),
                        text,
                    }
                })
                .collect();
            Body { blocks }
        })
        .collect()
}

fn body_words() -> usize {
    std::env::var("BENCH_BODY_WORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500)
}

/// The index with every release's full text (issue 21): a body of
/// `BENCH_BODY_WORDS` words (default 500, about 3.5 KB, a long statement of
/// the embassy's) in paragraphs of 50, drawn from the same words. Measures
/// the index scan alone (`SearchIndex::find`, title and lead matches ranked
/// first), which is what bodies add to a reply, and the memory.
fn with_bodies(
    index: &SearchIndex,
    bodies: &[embassy_bot::testing::source::body::Body],
    added: usize,
    queries: &[&str],
) {
    let words_per_body = body_words();
    let body_bytes: usize = bodies.iter().map(|b| b.text().len()).sum();
    let size = index.size();
    println!(
        "\nwith full text: bodies of {words_per_body} words, {:.1} MB in all ({} bytes a release); index RSS +{:.1} MB (estimate {:.1} MB)",
        body_bytes as f64 / 1e6,
        body_bytes / bodies.len().max(1),
        added as f64 / 1e6,
        size.bytes as f64 / 1e6
    );
    const RUNS: usize = 100;
    println!("index scan with bodies, {RUNS} runs each (SearchIndex::find, a page of 10):");
    for text in queries {
        let query = Query::parse(text).expect("query");
        let mut total = 0;
        let mut times: Vec<Duration> = (0..RUNS)
            .map(|_| {
                let t = Instant::now();
                total = index.find(&query, 0, 10).total;
                t.elapsed()
            })
            .collect();
        report(text, total, &mut times);
    }
}
