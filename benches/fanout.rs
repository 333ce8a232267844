//! Fan-out benchmark: `cargo bench --bench fanout`.
//!
//! Runs the real binary against a fake Bot API and a fake site on loopback and prints:
//! - time and messages/s to push one new release to 10,000 and 100,000
//!   subscribers with rate limits off (the best of three releases, each pushed
//!   by a fresh bot process), and the bot's peak RSS (the highest of the three);
//! - the same number of sendMessage requests sent by a bare HTTP loop with the
//!   same concurrency and no journal (what this machine and the fake can do;
//!   also the best of three), and the ratio of the two;
//! - with limits on (30 messages/s): the achieved rate against the configured
//!   one, and how many 429s the fake answered. The fake enforces Telegram's
//!   limits: a token bucket of 30 messages/s (bursts of up to 5) overall, and
//!   one message per second to a chat;
//! - against a strict server (at most N accepted messages in any one-second
//!   window, one a second per chat), one release to 1,000 subscribers: at
//!   30/s and at 20/s with the bot configured for 30/s (the adaptive rate must
//!   find the stricter limit), and at 30/s with throttling off (every push
//!   delivered, and the longest pause between two accepted pushes).
//!
//! `BENCH_SUBSCRIBERS=10000,100000` and `BENCH_LIMITED=1000` change the sizes.
//!
//! `BENCH_EDITS_OFF=1` turns edits (no message ids kept) and full text (no
//! release page read) off: the push path as it was before issue 21, for
//! comparison.
//!
//! `BENCH_EDITS=10000,100000` runs the edit mode alone (issue 21): one release
//! pushed to that many subscribers, then its title revised and the bot
//! started again: time and edits/s until every message is edited (limits
//! off), the bot's CPU per edit, and the message ids the push kept (bytes of
//! key and value per id, and the database's growth); then, in-process, the
//! disk taken by the ids of `BENCH_EDIT_RELEASES` (10) releases to 100,000
//! chats each: a 48-hour window of a busy site.
//! Results go to stdout; BENCHMARKS.md records them with the machine.

#[path = "support/bot.rs"]
mod bot;
mod proc_stats;

#[path = "../tests/it/support/http.rs"]
#[allow(dead_code)]
mod http;
#[path = "support/machine.rs"]
mod machine;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};

use bot::{spawn_bot, stop};
use embassy_bot::Store;
use http::{Request, Response};

const TOKEN: &str = "123456:BENCH-token";
const CONCURRENCY: usize = 32;
const LIMITED_RATE: f64 = 30.0;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let args: Vec<String> = std::env::args().collect();
    // Child mode: the bare loop runs in its own process, like the bot does.
    if let Some(at) = args.iter().position(|a| a == "--bare-loop") {
        let url = &args[at + 1];
        let n: usize = args[at + 2].parse().expect("request count");
        let took = runtime.block_on(bare_loop(url, n));
        println!(
            "{} {}",
            took.as_nanos(),
            proc_stats::cpu_seconds(std::process::id())
        );
        return;
    }
    if let Ok(sizes) = std::env::var("BENCH_EDITS") {
        runtime.block_on(edits_mode(&sizes));
        return;
    }
    runtime.block_on(run());
}

/// The edit mode: see the module's note.
async fn edits_mode(sizes: &str) {
    machine::print_machine();
    for n in sizes.split(',').filter_map(|s| s.trim().parse().ok()) {
        edits(n).await;
    }
    let releases: usize = std::env::var("BENCH_EDIT_RELEASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    window_storage(100_000, releases).await;
}

/// One release to `n` subscribers, then a revision of its title: how fast
/// the edits go out, and what keeping the ids cost.
async fn edits(n: usize) {
    let telegram = FakeTelegram::start(Enforce::Nothing).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let site = FakeSite::start().await;
    prepare(dir.path(), &telegram, &site, n, false).await;
    let db = dir.path().join("data").join("db");
    let before = dir_bytes(&db);
    site.add_release();
    let mut bot = spawn_bot(dir.path(), TOKEN);
    telegram.wait_for(n, Duration::from_secs(300)).await;
    stop(&mut bot);
    let grown = dir_bytes(&db).saturating_sub(before);
    let (kept, kept_bytes) = {
        let store = Store::open(&dir.join_data()).expect("open store");
        (store.sent_count(), store.sent_bytes())
    };
    site.revise_newest();
    let started = Instant::now();
    let mut bot = spawn_bot(dir.path(), TOKEN);
    telegram.wait_for_edits(n, Duration::from_secs(600)).await;
    let wall = started.elapsed();
    let cpu = proc_stats::cpu_seconds(bot.id());
    stop(&mut bot);
    let (first, last) = *telegram.edit_times.lock().unwrap();
    let editing = last.expect("a last edit") - first.expect("a first edit");
    println!(
        "edits to {n} subscribers, limits off: {:.2} s editing ({:.2} s from process start), {:.0} edits/s, bot CPU {:.1} µs/edit (start and read included); {} pushes in all (no second push)",
        editing.as_secs_f64(),
        wall.as_secs_f64(),
        n as f64 / editing.as_secs_f64(),
        cpu * 1e6 / n as f64,
        telegram.count(),
    );
    println!(
        "message ids kept for {n} pushes: {kept} ids, {:.1} bytes of key and value per id; the database grew {:.1} bytes per push over the push itself",
        kept_bytes as f64 / kept.max(1) as f64,
        grown as f64 / n as f64,
    );
}

/// Disk taken by the message ids of `releases` releases pushed to `chats`
/// chats each, written as delivery writes them (in-process, then flushed).
async fn window_storage(chats: usize, releases: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open store");
    store.flush().await.expect("flush");
    let db = dir.path().join("db");
    let before = dir_bytes(&db);
    let started = Instant::now();
    let now = chrono::Utc::now();
    for release in 0..releases as u64 {
        for chat in 1..=chats as i64 {
            store
                .keep_message_id(chat, 1_000 + release, chat as i32, now)
                .expect("record");
        }
        store.flush().await.expect("flush");
    }
    let took = started.elapsed();
    let grown = dir_bytes(&db).saturating_sub(before);
    println!(
        "ids of {releases} releases x {chats} chats = {} ids: {:.1} MB on disk ({:.1} bytes an id), written at {:.0} ids/s",
        store.sent_count(),
        grown as f64 / 1e6,
        grown as f64 / store.sent_count().max(1) as f64,
        store.sent_count() as f64 / took.as_secs_f64(),
    );
}

/// Bytes of the files under `dir`.
fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// The data directory of a bench's temporary directory.
trait DataDir {
    fn join_data(&self) -> std::path::PathBuf;
}

impl DataDir for tempfile::TempDir {
    fn join_data(&self) -> std::path::PathBuf {
        self.path().join("data")
    }
}

async fn run() {
    machine::print_machine();
    let sizes: Vec<usize> = std::env::var("BENCH_SUBSCRIBERS")
        .unwrap_or_else(|_| "10000,100000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    for n in sizes {
        unlimited(n).await;
    }
    let limited_chats: usize = std::env::var("BENCH_LIMITED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000);
    if std::env::var_os("BENCH_STRICT_ONLY").is_none() {
        limited(limited_chats).await;
    }
    strict(limited_chats, 30, true).await;
    strict(limited_chats, 20, true).await;
    strict(limited_chats, 30, false).await;
}

/// One new release to `n` subscribers against a server that accepts at most
/// `per_second` messages in any one-second window, the bot configured for
/// 30/s with throttling `throttle`.
async fn strict(n: usize, per_second: usize, throttle: bool) {
    let telegram = FakeTelegram::start(Enforce::Window(per_second)).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let site = FakeSite::start().await;
    prepare(dir.path(), &telegram, &site, n, throttle).await;
    site.add_release();
    let mut bot = spawn_bot(dir.path(), TOKEN);
    telegram
        .wait_for(n, Duration::from_secs(60 + 2 * n as u64))
        .await;
    stop(&mut bot);
    let accepted = telegram.accepted_times();
    let span = (accepted[accepted.len() - 1] - accepted[0]).as_secs_f64();
    let rate = (accepted.len() - 1) as f64 / span;
    let longest = accepted
        .windows(2)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap_or_default();
    println!(
        "strict server {per_second}/s, bot at 30/s with throttle = {throttle}, {n} subscribers: {} delivered, {rate:.2} msg/s = {:.1} % of the server's limit, {} answered 429, longest pause {:.2} s",
        accepted.len(),
        100.0 * rate / per_second as f64,
        telegram.too_many.load(Ordering::SeqCst),
        longest.as_secs_f64()
    );
}

/// Fans one release out to `n` subscribers with limits off, then sends the same
/// requests with a bare loop.
async fn unlimited(n: usize) {
    let telegram = FakeTelegram::start(Enforce::Nothing).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let site = FakeSite::start().await;
    prepare(dir.path(), &telegram, &site, n, false).await;

    // Three releases, one bot process each; the best run counts, as for the
    // bare loop below, so noise on this shared machine hits both sides alike.
    let mut best: Option<BotRun> = None;
    let mut peak_rss_kb = 0;
    for run in 1..=3 {
        site.add_release();
        telegram.reset_times();
        let started = Instant::now();
        let mut bot = spawn_bot(dir.path(), TOKEN);
        telegram.wait_for(run * n, Duration::from_secs(300)).await;
        let wall = started.elapsed();
        peak_rss_kb = peak_rss_kb.max(proc_stats::status_kib(bot.id(), "VmHWM:"));
        let cpu = proc_stats::cpu_seconds(bot.id());
        stop(&mut bot);
        assert_eq!(
            telegram.count(),
            run * n,
            "every subscriber got exactly one message per release"
        );
        let (first, last) = telegram.first_and_last();
        let this = BotRun {
            sending: last - first,
            wall,
            cpu,
        };
        if best.as_ref().is_none_or(|b| this.sending < b.sending) {
            best = Some(this);
        }
    }
    let Some(BotRun { sending, wall, cpu }) = best else {
        unreachable!("three runs")
    };
    let bot_rate = n as f64 / sending.as_secs_f64();

    // The machine's limit: the best of three bare loops, each in its own
    // process (as the bot is) against a fresh fake.
    let mut bare = (Duration::MAX, 0.0);
    for _ in 0..3 {
        let fake = FakeTelegram::start(Enforce::Nothing).await;
        let run = bare_loop_process(&fake.url, n).await;
        if run.0 < bare.0 {
            bare = run;
        }
    }
    let (bare, bare_cpu) = bare;
    let bare_rate = n as f64 / bare.as_secs_f64();
    println!(
        "fan-out to {n} subscribers, limits off (best of 3 releases): {:.2} s sending ({:.2} s from process start), {bot_rate:.0} msg/s, bot CPU {:.1} µs/msg; peak RSS {:.1} MB (highest of the 3)",
        sending.as_secs_f64(),
        wall.as_secs_f64(),
        cpu * 1e6 / n as f64,
        peak_rss_kb as f64 / 1024.0
    );
    println!(
        "bare HTTP loop, {n} requests, concurrency {CONCURRENCY} (best of 3): {:.2} s, {bare_rate:.0} msg/s, client CPU {:.1} µs/msg; ratio bot/bare = {:.2}",
        bare.as_secs_f64(),
        bare_cpu * 1e6 / n as f64,
        bot_rate / bare_rate
    );
}

/// Two new releases to `n` subscribers at 30 messages/s against a fake that enforces the limits.
async fn limited(n: usize) {
    let telegram = FakeTelegram::start(Enforce::TokenBucket).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let site = FakeSite::start().await;
    prepare(dir.path(), &telegram, &site, n, true).await;
    site.add_release();
    site.add_release();
    let mut bot = spawn_bot(dir.path(), TOKEN);
    let expected = 2 * n;
    telegram
        .wait_for(expected, Duration::from_secs(expected as u64))
        .await;
    stop(&mut bot);
    let (first, last) = telegram.first_and_last();
    // n messages span n-1 intervals.
    let rate = (expected - 1) as f64 / (last - first).as_secs_f64();
    println!(
        "limits on ({LIMITED_RATE}/s), {n} subscribers x 2 releases: {rate:.2} msg/s = {:.1} % of the configured rate, {} answered 429",
        100.0 * rate / LIMITED_RATE,
        telegram.too_many.load(Ordering::SeqCst)
    );
}

/// Writes the config, subscribes `n` chats and lets the bot read the site once
/// (the first read is silent), so the next start has exactly one thing to push.
async fn prepare(dir: &Path, telegram: &FakeTelegram, site: &FakeSite, n: usize, throttle: bool) {
    std::fs::write(
        dir.join("config.toml"),
        format!(
            r#"data_dir = "{data}"

[telegram]
api_url = "{api}"
long_poll_secs = 1
throttle = {throttle}
messages_per_sec = {LIMITED_RATE}
send_concurrency = {CONCURRENCY}

[[sources]]
name = "bench"
url = "{site}"
interval_secs = 3600
# The bench site's releases are dated May 2022: let the age guard pass them.
max_age_days = 36500
{edits}"#,
            data = dir.join("data").display(),
            edits = match std::env::var("BENCH_EDITS_OFF").is_ok() {
                true => "\n[edits]\nenabled = false\n\n[full_text]\nenabled = false\n",
                false => "",
            },
            api = telegram.url,
            site = site.url,
        ),
    )
    .expect("write config");
    // The first read of a source is silent: do it once with nobody subscribed.
    let mut bot = spawn_bot(dir, TOKEN);
    site.wait_for_hits(1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop(&mut bot);
    let store = Store::open(&dir.join("data")).expect("open store");
    let now = chrono::Utc::now();
    let chats: Vec<i64> = (1..=n as i64).collect();
    for chunk in chats.chunks(5_000) {
        let subscribing = chunk.iter().map(|chat| {
            let store = store.clone();
            async move { store.subscribe(*chat, None, now).await.expect("subscribe") }
        });
        futures::future::join_all(subscribing).await;
    }
    store.flush().await.expect("flush");
    assert_eq!(store.subscriber_count(), n);
    assert!(store.item_count() > 0, "the bot recorded the first read");
}

/// Runs [`bare_loop`] in a child process; returns its time and CPU seconds.
async fn bare_loop_process(url: &str, n: usize) -> (Duration, f64) {
    let exe = std::env::current_exe().expect("own path");
    let out = tokio::process::Command::new(exe)
        .args(["--bare-loop", url, &n.to_string()])
        .output()
        .await
        .expect("run the bare loop");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.split_whitespace();
    let nanos: u64 = parts
        .next()
        .and_then(|v| v.parse().ok())
        .expect("bare loop time");
    let cpu: f64 = parts.next().and_then(|v| v.parse().ok()).unwrap_or(0.0);
    (Duration::from_nanos(nanos), cpu)
}

/// The same sendMessage requests the bot makes, from a plain reqwest loop.
async fn bare_loop(api: &str, n: usize) -> Duration {
    let client = reqwest::Client::new();
    let url = format!("{api}/bot{TOKEN}/sendMessage");
    // The same text the bot sends for the bench site's new release.
    let text = "🆕 <a href=\"http://127.0.0.1/fnapr/9011\"><b>Embassy statement number 11</b></a>\n<i>12.05.2022</i> · bench\n\nA lead paragraph for statement 11, long enough to count as a lead.";
    let started = Instant::now();
    let mut requests = futures::stream::iter(1..=n as i64)
        .map(|chat| {
            let body = json!({"chat_id": chat, "text": text, "parse_mode": "HTML",
                "link_preview_options": {"is_disabled": false}})
            .to_string();
            let request = client
                .post(&url)
                .header("content-type", "application/json")
                .body(body)
                .send();
            async move {
                let response = request.await.expect("send");
                let _ = response.bytes().await.expect("read answer");
            }
        })
        .buffer_unordered(CONCURRENCY);
    while requests.next().await.is_some() {}
    started.elapsed()
}

// ---- fakes ----------------------------------------------------------------------------------

/// What the fake Bot API enforces.
#[derive(Clone, Copy, PartialEq)]
enum Enforce {
    Nothing,
    /// 30 messages/s with bursts of up to 5.
    TokenBucket,
    /// At most this many accepted messages in any one-second window.
    Window(usize),
}

struct Limits {
    tokens: f64,
    refilled: Instant,
    /// Accepted sends of the last second (for `Enforce::Window`).
    window: std::collections::VecDeque<Instant>,
    last_per_chat: HashMap<i64, Instant>,
    /// When each message was accepted.
    accepted: Vec<Instant>,
}

/// One bot process pushing one release.
struct BotRun {
    sending: Duration,
    wall: Duration,
    cpu: f64,
}

#[derive(Clone)]
struct FakeTelegram {
    url: String,
    sent: Arc<AtomicUsize>,
    edits: Arc<AtomicUsize>,
    edit_times: Arc<Mutex<(Option<Instant>, Option<Instant>)>>,
    too_many: Arc<AtomicUsize>,
    times: Arc<Mutex<(Option<Instant>, Option<Instant>)>>,
    limits: Arc<Mutex<Limits>>,
}

impl FakeTelegram {
    async fn start(enforce: Enforce) -> FakeTelegram {
        let sent = Arc::new(AtomicUsize::new(0));
        let too_many = Arc::new(AtomicUsize::new(0));
        let times = Arc::new(Mutex::new((None, None)));
        let limits = Arc::new(Mutex::new(Limits {
            tokens: 5.0,
            refilled: Instant::now(),
            window: Default::default(),
            last_per_chat: HashMap::new(),
            accepted: Vec::new(),
        }));
        let edits = Arc::new(AtomicUsize::new(0));
        let edit_times = Arc::new(Mutex::new((None, None)));
        let (s, t, tm, l) = (
            sent.clone(),
            too_many.clone(),
            times.clone(),
            limits.clone(),
        );
        let (e, et) = (edits.clone(), edit_times.clone());
        let handler: http::Handler = Arc::new(move |req| {
            let (s, t, tm, l) = (s.clone(), t.clone(), tm.clone(), l.clone());
            let (e, et) = (e.clone(), et.clone());
            Box::pin(async move {
                if req.path.to_ascii_lowercase().ends_with("/editmessagetext") {
                    return edited(&req, &e, &et);
                }
                answer(req, &s, &t, &tm, enforce, &l).await
            })
        });
        let addr = http::serve(handler).await;
        FakeTelegram {
            url: format!("http://{addr}"),
            sent,
            edits,
            edit_times,
            too_many,
            times,
            limits,
        }
    }

    /// When each push was accepted, in order (kept only while enforcing limits).
    fn accepted_times(&self) -> Vec<Instant> {
        self.limits.lock().unwrap().accepted.clone()
    }

    fn count(&self) -> usize {
        self.sent.load(Ordering::SeqCst)
    }

    /// Starts timing afresh (for the next release).
    fn reset_times(&self) {
        *self.times.lock().unwrap() = (None, None);
    }

    fn first_and_last(&self) -> (Instant, Instant) {
        let (first, last) = *self.times.lock().unwrap();
        (first.expect("a first send"), last.expect("a last send"))
    }

    async fn wait_for_edits(&self, n: usize, timeout: Duration) {
        let started = Instant::now();
        while self.edits.load(Ordering::SeqCst) < n {
            assert!(
                started.elapsed() < timeout,
                "only {} of {n} edits arrived",
                self.edits.load(Ordering::SeqCst)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn wait_for(&self, n: usize, timeout: Duration) {
        let started = Instant::now();
        while self.count() < n {
            assert!(
                started.elapsed() < timeout,
                "only {} of {n} messages arrived",
                self.count()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// An `editMessageText`, taken and counted.
fn edited(
    req: &Request,
    edits: &AtomicUsize,
    times: &Mutex<(Option<Instant>, Option<Instant>)>,
) -> Option<Response> {
    let params: Value = serde_json::from_slice(&req.body).unwrap_or(json!({}));
    let now = Instant::now();
    {
        let mut t = times.lock().unwrap();
        t.0.get_or_insert(now);
        t.1 = Some(now);
    }
    edits.fetch_add(1, Ordering::SeqCst);
    ok(
        json!({"message_id": params["message_id"], "date": 1_653_120_000,
        "chat": {"id": params["chat_id"], "type": "private", "first_name": "U"},
        "text": params["text"]}),
    )
}

fn ok(result: Value) -> Option<Response> {
    Some(Response::json(200, &json!({"ok": true, "result": result})))
}

async fn answer(
    req: Request,
    sent: &AtomicUsize,
    too_many: &AtomicUsize,
    times: &Mutex<(Option<Instant>, Option<Instant>)>,
    enforce: Enforce,
    limits: &Mutex<Limits>,
) -> Option<Response> {
    let method = req
        .path
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let params: Value = serde_json::from_slice(&req.body).unwrap_or(json!({}));
    let bot = json!({"id": 123456, "is_bot": true, "first_name": "Bench", "username": "bench_bot",
        "can_join_groups": true, "can_read_all_group_messages": false, "supports_inline_queries": false,
        "can_connect_to_business": false, "has_main_web_app": false});
    match method.as_str() {
        "getme" => ok(bot),
        "getwebhookinfo" => {
            ok(json!({"url": "", "has_custom_certificate": false, "pending_update_count": 0}))
        }
        "deletewebhook" | "setmycommands" => ok(json!(true)),
        "getupdates" => {
            let wait = params["timeout"].as_u64().unwrap_or(0).min(1);
            tokio::time::sleep(Duration::from_secs(wait)).await;
            ok(json!([]))
        }
        "sendmessage" => {
            let chat = params["chat_id"].as_i64().unwrap_or(0);
            let now = Instant::now();
            // The unlimited runs never touch the lock: the fake stays as fast as before.
            if enforce != Enforce::Nothing {
                let mut l = limits.lock().unwrap();
                l.tokens = (l.tokens + now.duration_since(l.refilled).as_secs_f64() * LIMITED_RATE)
                    .min(5.0);
                l.refilled = now;
                while l
                    .window
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
                {
                    l.window.pop_front();
                }
                let over = match enforce {
                    Enforce::Window(per_second) => l.window.len() >= per_second,
                    _ => l.tokens < 1.0,
                };
                let chat_too_soon = l
                    .last_per_chat
                    .get(&chat)
                    .is_some_and(|t| now.duration_since(*t) < Duration::from_secs(1));
                if over || chat_too_soon {
                    too_many.fetch_add(1, Ordering::SeqCst);
                    return Some(Response::json(
                        429,
                        &json!({"ok": false, "error_code": 429,
                            "description": "Too Many Requests: retry after 1",
                            "parameters": {"retry_after": 1}}),
                    ));
                }
                l.tokens -= 1.0;
                l.window.push_back(now);
                l.accepted.push(now);
                l.last_per_chat.insert(chat, now);
            }
            {
                let mut t = times.lock().unwrap();
                t.0.get_or_insert(now);
                t.1 = Some(now);
            }
            let id = sent.fetch_add(1, Ordering::SeqCst) + 1;
            ok(json!({"message_id": id, "date": 1_653_120_000,
                "chat": {"id": chat, "type": "private", "first_name": "U"},
                "from": bot, "text": params["text"]}))
        }
        other => Some(Response::json(
            404,
            &json!({"ok": false, "error_code": 404, "description": format!("Not Found: {other}")}),
        )),
    }
}

/// A site whose front page lists releases; `add_release` puts a new one on top.
struct FakeSite {
    url: String,
    releases: Arc<AtomicUsize>,
    /// The newest release's title says this is its revision.
    revision: Arc<AtomicUsize>,
    hits: Arc<AtomicUsize>,
}

impl FakeSite {
    async fn start() -> FakeSite {
        let releases = Arc::new(AtomicUsize::new(10));
        let revision = Arc::new(AtomicUsize::new(0));
        let hits = Arc::new(AtomicUsize::new(0));
        let (r, h, v) = (releases.clone(), hits.clone(), revision.clone());
        let handler: http::Handler = Arc::new(move |_req| {
            let page = front_page(r.load(Ordering::SeqCst), v.load(Ordering::SeqCst));
            h.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move { Some(Response::new(200, "text/html; charset=utf-8", page)) })
        });
        let addr = http::serve(handler).await;
        FakeSite {
            url: format!("http://{addr}/"),
            releases,
            revision,
            hits,
        }
    }

    fn add_release(&self) {
        self.releases.fetch_add(1, Ordering::SeqCst);
    }

    /// The newest release's title is reworded.
    fn revise_newest(&self) {
        self.revision.fetch_add(1, Ordering::SeqCst);
    }

    async fn wait_for_hits(&self, n: usize) {
        while self.hits.load(Ordering::SeqCst) < n {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// `count` releases, newest first, in the site's "DD.MM.YYYY - Title" layout;
/// the newest one's title carries its `revision` (none at 0).
fn front_page(count: usize, revision: usize) -> String {
    let mut html =
        String::from("<html><head><meta charset=\"utf-8\"></head><body><h1>Press releases</h1>\n");
    for n in (1..=count).rev() {
        let revised = match revision {
            r if r > 0 && n == count => format!(", revised {r}"),
            _ => String::new(),
        };
        html.push_str(&format!(
            "<div><a href=\"/fnapr/{id}\">{day:02}.05.2022 - Embassy statement number {n}{revised}</a>\n<p>A lead paragraph for statement {n}, long enough to count as a lead.</p></div>\n",
            id = 9000 + n,
            day = 1 + n % 28,
        ));
    }
    html.push_str("</body></html>");
    html
}
