//! What the HTTP server costs: the bot's idle memory with and without it, and
//! how many requests a second it answers for `/feed.atom`, `/metrics` and
//! `/healthz`, on this machine. The real binary runs against a fake Bot API and
//! a fake site on loopback (in this process), with a store prepared beforehand
//! (`BENCH_SUBSCRIBERS` chats, 10,000 by default; the fixture page's releases).
//!
//! Two more cases (issue 20): `/healthz` latency while 16 clients (each from a
//! loopback address of its own) fetch a sparse source's feed from a store of
//! `BENCH_RELEASES` releases (100,000 by default; the first requests find no
//! feed built), and what one scrape of `/metrics` costs at each of
//! `BENCH_SCRAPE_SUBSCRIBERS` (1,000 and 100,000; `BENCH_SCRAPE_SECONDS` of
//! scrapes one after another, 40 by default, so counts age and are redone).
//!
//! `cargo bench --bench http` (set `BENCH_SECONDS` for the load phases, 5 by
//! default; `BENCH_CASES` to a comma-separated list of `idle`, `feeds`,
//! `scrape` to run only some, all by default).

#[path = "support/bot.rs"]
mod bot;
#[path = "support/machine.rs"]
mod machine;
mod proc_stats;

#[path = "../tests/it/support/http.rs"]
#[allow(dead_code)]
mod http;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use bot::{spawn_bot, stop};
use http::{Request, Response};
use machine::env_number;

const TOKEN: &str = "123456:BENCH-token";
const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/rusemb/home-2022-05-23.html"
);

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run());
}

async fn run() {
    machine::print_machine();
    let subscribers = env_number("BENCH_SUBSCRIBERS", 10_000) as i64;
    let seconds = Duration::from_secs(env_number("BENCH_SECONDS", 5));
    let cases = std::env::var("BENCH_CASES").unwrap_or_else(|_| "idle,feeds,scrape".into());
    let telegram = serve(Arc::new(|req| Box::pin(answer(req)))).await;
    let page = std::fs::read(FIXTURE).expect("fixture");
    let site = serve(Arc::new(move |_req| {
        let page = page.clone();
        Box::pin(async move { Some(Response::new(200, "text/html; charset=utf-8", page)) })
    }))
    .await;

    if cases.split(',').any(|c| c.trim() == "idle") {
        idle_and_rates(&telegram, &site, subscribers, seconds).await;
    }
    if cases.split(',').any(|c| c.trim() == "feeds") {
        healthz_under_feed_load(&telegram, &site, seconds).await;
    }
    if cases.split(',').any(|c| c.trim() == "scrape") {
        let counts =
            std::env::var("BENCH_SCRAPE_SUBSCRIBERS").unwrap_or_else(|_| "1000,100000".into());
        for n in counts
            .split(',')
            .filter_map(|n| n.trim().parse::<i64>().ok())
        {
            scrape_cost(&telegram, &site, n).await;
        }
    }
}

/// Idle memory without and with the server, then request rates per route.
async fn idle_and_rates(telegram: &str, site: &str, subscribers: i64, seconds: Duration) {
    for round in 1..=3 {
        for with_http in [false, true] {
            let dir = tempfile::tempdir().expect("temp dir");
            prepare(dir.path(), subscribers).await;
            let port = if with_http { Some(free_port()) } else { None };
            write_config(dir.path(), telegram, site, port);
            let mut bot = spawn_bot(dir.path(), TOKEN);
            // Let it connect, read the site once and settle.
            tokio::time::sleep(Duration::from_secs(8)).await;
            let rss = proc_stats::status_kib(bot.id(), "VmRSS:");
            println!(
                "round {round}: idle RSS {} HTTP server: {:.1} MiB",
                if with_http { "with   " } else { "without" },
                rss as f64 / 1024.0
            );
            if let (Some(port), 3) = (port, round) {
                for path in ["/feed.atom", "/metrics", "/healthz"] {
                    for concurrency in [1, 8] {
                        let rate = load(port, path, concurrency, seconds).await;
                        println!(
                            "{path}: {rate:.0} requests/s with {concurrency} client(s) ({subscribers} subscribers)"
                        );
                    }
                }
                let cpu = proc_stats::cpu_seconds(bot.id());
                println!("bot CPU over the run: {cpu:.1} s");
            }
            stop(&mut bot);
        }
    }
}

/// `subscribers` chats in a new store under `dir`.
async fn prepare(dir: &Path, subscribers: i64) {
    let store = embassy_bot::Store::open(&dir.join("data")).expect("store");
    // Many at once: the store's group commit shares their flushes.
    let chats: Vec<i64> = (1..=subscribers).collect();
    for batch in chats.chunks(1_000) {
        let now = chrono::Utc::now();
        let subscribed = batch.iter().map(|&chat| store.subscribe(chat, None, now));
        for result in futures::future::join_all(subscribed).await {
            result.expect("subscribe");
        }
    }
    store.close().await.expect("close");
}

fn write_config(dir: &Path, telegram: &str, site: &str, port: Option<u16>) {
    write_config_with(dir, telegram, site, port, "");
}

/// The bench's config; `more` is appended (more sources, their keys).
fn write_config_with(dir: &Path, telegram: &str, site: &str, port: Option<u16>, more: &str) {
    let http = port.map_or(String::new(), |p| {
        format!("[http]\nlisten = \"127.0.0.1:{p}\"\n")
    });
    let text = format!(
        r#"data_dir = "{data}"

[telegram]
api_url = "{telegram}"
long_poll_secs = 10
throttle = false

{http}
[[sources]]
name = "bench"
url = "{site}/"
interval_secs = 3600
max_age_days = 36500
{more}"#,
        data = dir.join("data").display()
    );
    std::fs::write(dir.join("config.toml"), text).expect("config");
}

/// A store of `releases` releases under `dir`: all but 10 on the busy source
/// `bench`, 10 (the oldest) on the sparse source `sparse`. Recorded as
/// archive pages (silently, as `backfill` does), a thousand at a time.
async fn prepare_releases(dir: &Path, releases: u64) {
    let store = embassy_bot::Store::open(&dir.join("data")).expect("store");
    let now = chrono::Utc::now();
    let day = |i: u64| {
        chrono::NaiveDate::from_ymd_opt(2000, 1, 1)
            .and_then(|d| d.checked_add_days(chrono::Days::new(i / 10)))
    };
    let release = |host: &str, i: u64| embassy_bot::Item {
        id: format!("{host}/press/{i}"),
        url: format!("https://{host}/press/{i}"),
        title: format!("Press release {i}: statement of the Embassy on the questions of the day"),
        date: day(i),
        lead: "A lead paragraph of about two hundred characters, as the site's list pages \
               show under each title, which is what the feed carries as the summary of the \
               release; it is stored with the release."
            .into(),
    };
    let sparse: Vec<_> = (0..10).map(|i| release("sparse.example", i)).collect();
    store
        .record_archive("sparse", &sparse, now)
        .await
        .expect("record sparse");
    let busy = releases.saturating_sub(10);
    for first in (0..busy).step_by(1_000) {
        // Page order: newest first.
        let page: Vec<_> = (first..(first + 1_000).min(busy))
            .rev()
            .map(|i| release("bench.example", 10 + i))
            .collect();
        store
            .record_archive("bench", &page, now)
            .await
            .expect("record a page");
    }
    assert_eq!(store.item_count() as u64, releases);
    store.close().await.expect("close");
}

/// Polls `path` until it answers 200 (at most a minute).
async fn wait_for_200(port: u16, path: &str) {
    let client = client();
    let url = format!("http://127.0.0.1:{port}{path}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(response) = client.get(&url).send().await
            && response.status().as_u16() == 200
        {
            return;
        }
        assert!(Instant::now() < deadline, "{path} never answered 200");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn client() -> reqwest::Client {
    client_from([127, 0, 0, 1])
}

/// A client whose connections come from `address` (any 127.x is loopback):
/// the server counts each address as a client of its own.
fn client_from(address: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .local_address(std::net::IpAddr::from(address))
        .build()
        .expect("client")
}

/// The median, 99th percentile and largest of `times`, in milliseconds.
fn percentiles(times: &mut [Duration]) -> (f64, f64, f64) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let at = |q: usize| ms(times[(times.len() * q / 100).min(times.len() - 1)]);
    (at(50), at(99), ms(times[times.len() - 1]))
}

/// `/healthz` asked one request at a time for `duration`: each one's time.
async fn time_healthz(port: u16, duration: Duration) -> Vec<Duration> {
    let client = client();
    let url = format!("http://127.0.0.1:{port}/healthz");
    let start = Instant::now();
    let mut times = Vec::new();
    while start.elapsed() < duration {
        let asked = Instant::now();
        let response = client.get(&url).send().await.expect("healthz");
        response.bytes().await.expect("healthz body");
        times.push(asked.elapsed());
    }
    times
}

/// `/healthz` alone, then while 16 clients fetch the sparse source's feed
/// (the first of them finding it not built yet).
async fn healthz_under_feed_load(telegram: &str, site: &str, seconds: Duration) {
    let releases = env_number("BENCH_RELEASES", 100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let prepared = Instant::now();
    prepare_releases(dir.path(), releases).await;
    println!(
        "feeds: {releases} releases prepared in {:.1} s",
        prepared.elapsed().as_secs_f64()
    );
    let port = free_port();
    write_config_with(
        dir.path(),
        telegram,
        site,
        Some(port),
        &format!(
            "keep_items = 1000000\n\n[[sources]]\nname = \"sparse\"\nurl = \"{site}/sparse\"\n\
             interval_secs = 3600\nmax_age_days = 36500\nkeep_items = 1000000\n"
        ),
    );
    let mut bot = spawn_bot(dir.path(), TOKEN);
    wait_for_200(port, "/readyz").await;
    // Let the first reads settle.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut alone = time_healthz(port, seconds).await;
    let (p50, p99, max) = percentiles(&mut alone);
    println!(
        "feeds: /healthz alone: p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms ({} requests)",
        alone.len()
    );

    let url = format!("http://127.0.0.1:{port}/feed/sparse.atom");
    let done = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut fetchers = Vec::new();
    for i in 0..16 {
        let (url, done) = (url.clone(), done.clone());
        fetchers.push(tokio::spawn(async move {
            // Sixteen clients, each from an address of its own.
            let client = client_from([127, 0, 1, i]);
            let mut times = Vec::new();
            while start.elapsed() < seconds {
                let asked = Instant::now();
                let response = client.get(&url).send().await.expect("feed");
                assert_eq!(response.status().as_u16(), 200);
                response.bytes().await.expect("feed body");
                times.push(asked.elapsed());
                done.fetch_add(1, Ordering::Relaxed);
            }
            times
        }));
    }
    let mut during = time_healthz(port, seconds).await;
    let mut feed_times = Vec::new();
    for fetcher in fetchers {
        feed_times.extend(fetcher.await.expect("feed client"));
    }
    let rate = done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();
    let (p50, p99, max) = percentiles(&mut during);
    println!(
        "feeds: /healthz while 16 clients fetch /feed/sparse.atom: p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms ({} requests)",
        during.len()
    );
    let (f50, f99, fmax) = percentiles(&mut feed_times);
    println!(
        "feeds: /feed/sparse.atom: {rate:.0} requests/s; p50 {f50:.2} ms, p99 {f99:.2} ms, max (the first, built) {fmax:.1} ms"
    );
    println!(
        "feeds: bot CPU over the run: {:.1} s",
        proc_stats::cpu_seconds(bot.id())
    );
    stop(&mut bot);
}

/// What a scrape of `/metrics` costs with `subscribers` chats: the first
/// (which counts the store), then one scrape after another.
async fn scrape_cost(telegram: &str, site: &str, subscribers: i64) {
    let seconds = Duration::from_secs(env_number("BENCH_SCRAPE_SECONDS", 40));
    let dir = tempfile::tempdir().expect("temp dir");
    prepare(dir.path(), subscribers).await;
    let port = free_port();
    write_config(dir.path(), telegram, site, Some(port));
    let mut bot = spawn_bot(dir.path(), TOKEN);
    wait_for_200(port, "/readyz").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let client = client();
    let url = format!("http://127.0.0.1:{port}/metrics");
    let scrape = || async {
        let asked = Instant::now();
        let response = client.get(&url).send().await.expect("metrics");
        assert_eq!(response.status().as_u16(), 200);
        response.bytes().await.expect("metrics body");
        asked.elapsed()
    };
    let first = scrape().await;
    let cpu_before = proc_stats::cpu_seconds(bot.id());
    let start = Instant::now();
    let mut times = Vec::new();
    while start.elapsed() < seconds {
        times.push(scrape().await);
    }
    let cpu = proc_stats::cpu_seconds(bot.id()) - cpu_before;
    let (p50, p99, max) = percentiles(&mut times);
    println!(
        "scrape: {subscribers} subscribers: first {:.1} ms; then p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms over {} scrapes in {} s ({:.0}/s); bot CPU {cpu:.1} s",
        first.as_secs_f64() * 1e3,
        times.len(),
        seconds.as_secs(),
        times.len() as f64 / start.elapsed().as_secs_f64(),
    );
    stop(&mut bot);
}

/// Requests `path` from `concurrency` keep-alive clients for `duration`;
/// requests answered 200 per second.
async fn load(port: u16, path: &str, concurrency: usize, duration: Duration) -> f64 {
    let url = format!("http://127.0.0.1:{port}{path}");
    let done = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (url, done) = (url.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("client");
            while start.elapsed() < duration {
                let response = client.get(&url).send().await.expect("request");
                assert_eq!(response.status().as_u16(), 200, "{url}");
                response.bytes().await.expect("body");
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for task in tasks {
        task.await.expect("load task");
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

async fn serve(handler: http::Handler) -> String {
    format!("http://{}", http::serve(handler).await)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The Bot API calls the bot makes while idle; a long poll waits its timeout
/// (at most 5 s) and brings nothing.
async fn answer(req: Request) -> Option<Response> {
    let method = req
        .path
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let ok = |result: Value| Some(Response::json(200, &json!({"ok": true, "result": result})));
    match method.as_str() {
        "getme" => ok(json!({"id": 123456, "is_bot": true, "first_name": "Bench",
            "username": "bench_bot", "can_join_groups": true,
            "can_read_all_group_messages": false, "supports_inline_queries": false,
            "can_connect_to_business": false, "has_main_web_app": false})),
        "getwebhookinfo" => {
            ok(json!({"url": "", "has_custom_certificate": false, "pending_update_count": 0}))
        }
        "getupdates" => {
            let params: Value = serde_json::from_slice(&req.body).unwrap_or(json!({}));
            let wait = params["timeout"].as_u64().unwrap_or(0).min(5);
            tokio::time::sleep(Duration::from_secs(wait)).await;
            ok(json!([]))
        }
        _ => ok(json!(true)),
    }
}
