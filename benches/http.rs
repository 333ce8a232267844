//! What the HTTP server costs: the bot's idle memory with and without it, and
//! how many requests a second it answers for `/feed.atom`, `/metrics` and
//! `/healthz`, on this machine. The real binary runs against a fake Bot API and
//! a fake site on loopback (in this process), with a store prepared beforehand
//! (`BENCH_SUBSCRIBERS` chats, 10,000 by default; the fixture page's releases).
//!
//! `cargo bench --bench http` (set `BENCH_SECONDS` for the load phases, 5 by default).

#[path = "support/bot.rs"]
mod bot;
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

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn run() {
    let subscribers = env_number("BENCH_SUBSCRIBERS", 10_000) as i64;
    let seconds = Duration::from_secs(env_number("BENCH_SECONDS", 5));
    let telegram = serve(Arc::new(|req| Box::pin(answer(req)))).await;
    let page = std::fs::read(FIXTURE).expect("fixture");
    let site = serve(Arc::new(move |_req| {
        let page = page.clone();
        Box::pin(async move { Some(Response::new(200, "text/html; charset=utf-8", page)) })
    }))
    .await;

    for round in 1..=3 {
        for with_http in [false, true] {
            let dir = tempfile::tempdir().expect("temp dir");
            prepare(dir.path(), subscribers).await;
            let port = if with_http { Some(free_port()) } else { None };
            write_config(dir.path(), &telegram, &site, port);
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
"#,
        data = dir.join("data").display()
    );
    std::fs::write(dir.join("config.toml"), text).expect("config");
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
