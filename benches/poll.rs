//! One poll cycle, measured: `cargo bench --bench poll`.
//!
//! A fake site runs in a child process (this same binary, re-executed), so the
//! CPU time read with `getrusage(RUSAGE_SELF)` is the poller's alone. Two cases,
//! each through `poller::poll_once`, the code the bot runs:
//!
//! - unchanged: a conditional GET answered 304 (nothing decoded, nothing stored);
//! - changed: a full 200 body, decoded, extracted and recorded in a temporary store.
//!
//! Then extraction alone (no I/O, no store), where the work of reading the page
//! is: the same page decoded and extracted, and a hostile 4 MB page of 60,000
//! release links (the source's `max_items` stops it at 500), with the peak RSS.
//!
//! Last, hostile reads: a site that serves that 4 MB page with 60,000 new ids
//! on every read, read again and again through `poll_once` into a store, once
//! with the default retention and once with retention out of the way; the
//! database's size as it grows and the peak RSS, each run in a process of
//! its own (`BENCH_HOSTILE_READS` reads, 120 by default), run the way we
//! ship: with `MALLOC_ARENA_MAX=2` (as the Docker image and the systemd
//! example set it) unless the bench's environment says otherwise, and on a
//! multi-threaded runtime as the bot's.
//!
//! Knobs for the hostile reads: `BENCH_HOSTILE_ONLY=1` skips the rest,
//! `BENCH_HOSTILE_CACHE_MB=4,16,64` measures each `store.cache_mb` (the
//! default's alone otherwise), `BENCH_HOSTILE_KEEP_ITEMS=5000` measures one
//! retention only (5,000 and 1,000,000 otherwise). Reads follow one another
//! without a pause.

#[allow(dead_code)]
#[path = "../tests/it/support/http.rs"]
mod http;

use std::io::{BufRead, BufReader, Write as _};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use embassy_bot::Config;
use embassy_bot::Store;
use embassy_bot::StoreConfig;
use embassy_bot::poll_once;
use embassy_bot::testing::source::fetch::{Validators, client_for};

const SERVER_ENV: &str = "POLL_BENCH_SERVER";
/// Set in the child that serves the flood page with new ids on every request.
const FLOOD_SERVER_ENV: &str = "POLL_BENCH_FLOOD_SERVER";
/// Set in the child that reads the flood: `keep_items:reads:cache_mb`.
const HOSTILE_ENV: &str = "POLL_BENCH_HOSTILE";
const ETAG: &str = "\"bench-v1\"";
const CYCLES: u32 = 300;
const WARMUP: u32 = 20;

fn page() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/rusemb/home-2022-05-21.html"
    );
    std::fs::read(path).expect("fixture page")
}

/// The child: serve the page (304 when the ETag matches) until stdin closes.
fn serve() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let body = Arc::new(page());
        let handler: http::Handler = Arc::new(move |req| {
            let body = body.clone();
            Box::pin(async move {
                if req.header("if-none-match") == Some(ETAG) {
                    return Some(http::Response {
                        status: 304,
                        headers: vec![("ETag".into(), ETAG.into())],
                        body: Vec::new(),
                    });
                }
                let mut resp =
                    http::Response::new(200, "text/html; charset=utf-8", body.as_ref().clone());
                resp.headers.push(("ETag".into(), ETAG.into()));
                Some(resp)
            })
        });
        serve_until_stdin_closes(handler).await;
    });
}

/// Serves with `handler`, prints the address, and serves until the parent
/// closes our stdin.
async fn serve_until_stdin_closes(handler: http::Handler) {
    let addr = http::serve(handler).await;
    println!("{addr}");
    std::io::stdout().flush().expect("stdout");
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
    })
    .await
    .expect("stdin watcher");
}

/// A page of 60,000 release links with ids from `first` (about 4.5 MB).
fn flood_page(first: u64) -> String {
    let mut flood = String::with_capacity(5 << 20);
    for n in first..first + 60_000 {
        flood.push_str(&format!(
            "<p><a href=\"/fnapr/{n}\">21.05.2022 - Release number {n} of the flood</a></p>\n"
        ));
    }
    flood
}

/// The child: serve the flood page, with ids never shown before on every
/// request, until stdin closes.
fn serve_flood() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let served = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let handler: http::Handler = Arc::new(move |_req| {
            let n = served.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Box::pin(async move {
                let body = flood_page(n * 60_000).into_bytes();
                Some(http::Response::new(200, "text/html; charset=utf-8", body))
            })
        });
        serve_until_stdin_closes(handler).await;
    });
}

/// Starts this binary as a child with `env` set; the address it prints.
fn start_child(env: &str) -> (std::process::Child, String) {
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .env(env, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the fake site");
    let mut addr = String::new();
    BufReader::new(child.stdout.take().expect("child stdout"))
        .read_line(&mut addr)
        .expect("site address");
    (child, format!("http://{}/", addr.trim()))
}

/// Bytes of every file under `dir`.
fn size_of(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => size_of(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// The child that reads the flood `reads` times into a store with a cache of
/// `cache_mb`, keeping `keep_items` releases (the rest of the source's
/// settings are the defaults, but for `max_bytes`, raised to let the page
/// in), and prints what it cost.
fn read_the_flood(keep_items: usize, reads: u32, cache_mb: u64) {
    let (mut site, url) = start_child(FLOOD_SERVER_ENV);
    let config = Config::from_toml(&format!(
        "[[sources]]\nname = \"flood\"\nurl = \"{url}\"\nmax_bytes = 8388608\nkeep_items = {keep_items}\n"
    ))
    .expect("config");
    let source = &config.sources[0];
    let dir = tempfile::tempdir().expect("temp dir");
    // The bot's runtime: its threads, and the malloc arenas they bring, are
    // part of what the memory costs.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let store = Store::open_with(dir.path(), &StoreConfig { cache_mb }).expect("store");
    let client = client_for(source).expect("client");
    let cpu0 = cpu_time();
    let mut sizes = Vec::new();
    let mut rss = Vec::new();
    for read in 1..=reads {
        let mut validators = Validators::default();
        runtime
            .block_on(poll_once(
                source,
                &client,
                &store,
                &mut validators,
                chrono::Utc::now(),
            ))
            .expect("poll");
        if read % (reads / 6).max(1) == 0 || read == reads {
            runtime.block_on(store.flush()).expect("flush");
            sizes.push(format!(
                "{read}: {:.1} MB",
                size_of(dir.path()) as f64 / 1e6
            ));
            let (now, peak) = rss_mib();
            rss.push(format!("{read}: {now:.0}/{peak:.0}"));
        }
    }
    let cpu = cpu_time() - cpu0;
    let retained = store.retained("flood").expect("retained");
    println!(
        "cache_mb {cache_mb}, keep_items {keep_items}: after {reads} reads {} releases kept, {} seen ids; database {}; RSS now/peak MiB {}; CPU {:.1} ms/read; peak RSS {:.0} MiB",
        retained.kept,
        retained.seen,
        sizes.join(", "),
        rss.join(", "),
        cpu.as_secs_f64() * 1e3 / f64::from(reads),
        peak_rss_mib()
    );
    drop(site.stdin.take());
    let _ = site.wait();
}

/// Hostile reads, each retention in a process of its own.
fn hostile_reads() {
    let reads: u32 = std::env::var("BENCH_HOSTILE_READS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(120);
    let caches: Vec<u64> =
        list_env("BENCH_HOSTILE_CACHE_MB").unwrap_or_else(|| vec![StoreConfig::default().cache_mb]);
    let keeps: Vec<u64> =
        list_env("BENCH_HOSTILE_KEEP_ITEMS").unwrap_or_else(|| vec![5_000, 1_000_000]);
    let arenas = std::env::var("MALLOC_ARENA_MAX").unwrap_or_else(|_| "2".into());
    println!(
        "hostile reads: 60,000 new ids a read (500 taken, max_items), {reads} reads, MALLOC_ARENA_MAX={arenas}, database size as it grows"
    );
    for cache_mb in &caches {
        for keep_items in &keeps {
            let status = Command::new(std::env::current_exe().expect("own path"))
                .env(HOSTILE_ENV, format!("{keep_items}:{reads}:{cache_mb}"))
                .env("MALLOC_ARENA_MAX", &arenas)
                .status()
                .expect("hostile child");
            assert!(status.success(), "the hostile-reads child failed");
        }
    }
}

/// A comma-separated list of numbers from the environment variable `name`.
fn list_env(name: &str) -> Option<Vec<u64>> {
    let text = std::env::var(name).ok()?;
    Some(
        text.split(',')
            .map(|n| n.trim().parse().expect("a comma-separated list of numbers"))
            .collect(),
    )
}

/// This process's resident set now and at its peak (`VmRSS`, `VmHWM`), in MiB.
fn rss_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// User + system CPU time of this process so far.
fn cpu_time() -> Duration {
    // SAFETY: getrusage fills the struct we pass; RUSAGE_SELF is always valid.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn main() {
    if std::env::var_os(SERVER_ENV).is_some() {
        serve();
        return;
    }
    if std::env::var_os(FLOOD_SERVER_ENV).is_some() {
        serve_flood();
        return;
    }
    if let Ok(args) = std::env::var(HOSTILE_ENV) {
        let mut parts = args.split(':');
        let mut next = || parts.next().expect("keep:reads:cache_mb");
        let (keep, reads, cache) = (next(), next(), next());
        read_the_flood(
            keep.parse().expect("keep"),
            reads.parse().expect("reads"),
            cache.parse().expect("cache_mb"),
        );
        return;
    }
    if std::env::var_os("BENCH_HOSTILE_ONLY").is_some() {
        hostile_reads();
        return;
    }
    let (mut child, url) = start_child(SERVER_ENV);

    let config = Config::from_toml(&format!("[[sources]]\nname = \"bench\"\nurl = \"{url}\"\n"))
        .expect("config");
    let source = &config.sources[0];
    let dir = tempfile::tempdir().expect("temp dir");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let store = Store::open(dir.path()).expect("store");
    let client = client_for(source).expect("client");

    println!(
        "poll cycle over loopback, page {} bytes, {CYCLES} cycles each (after {WARMUP} warm-up)",
        page().len()
    );
    println!("{:<34} {:>14} {:>14}", "case", "CPU/cycle", "wall/cycle");
    for (name, conditional) in [
        ("unchanged page (304)", true),
        ("changed page (200, full cycle)", false),
    ] {
        let run = |n: u32| {
            runtime.block_on(async {
                for _ in 0..n {
                    let mut validators = if conditional {
                        Validators {
                            etag: Some(ETAG.into()),
                            last_modified: None,
                        }
                    } else {
                        Validators::default()
                    };
                    let outcome =
                        poll_once(source, &client, &store, &mut validators, chrono::Utc::now())
                            .await
                            .expect("poll");
                    assert_eq!(outcome.is_none(), conditional);
                }
            })
        };
        run(WARMUP);
        let (cpu0, wall0) = (cpu_time(), Instant::now());
        run(CYCLES);
        let (cpu, wall) = (cpu_time() - cpu0, wall0.elapsed());
        println!(
            "{name:<34} {:>11.1} µs {:>11.1} µs",
            cpu.as_secs_f64() * 1e6 / f64::from(CYCLES),
            wall.as_secs_f64() * 1e6 / f64::from(CYCLES)
        );
    }
    drop(child.stdin.take());
    let _ = child.wait();
    extraction(source);
    hostile_reads();
}

/// Peak resident set size of this process so far, in MiB.
fn peak_rss_mib() -> f64 {
    // SAFETY: as in `cpu_time`.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    usage.ru_maxrss as f64 / 1024.0
}

/// Decoding and extraction alone, on the embassy page and on a flood page.
fn extraction(source: &embassy_bot::SourceConfig) {
    use embassy_bot::extract;
    use embassy_bot::testing::source::charset;
    println!(
        "peak RSS of the bench process before: {:.0} MiB",
        peak_rss_mib()
    );
    let base = source.url.clone();
    let embassy = page();
    let flood = flood_page(0);
    println!(
        "{:<34} {:>14} {:>14}",
        "extraction only", "CPU/read", "items"
    );
    for (name, bytes, reads) in [
        ("embassy page (13 KB)", embassy, CYCLES),
        ("flood page (4 MB, 60,000 links)", flood.into_bytes(), 5),
    ] {
        let read = || {
            let body = charset::decode(&bytes, Some("text/html; charset=utf-8"));
            extract(source, &body.text, &base)
                .expect("html")
                .items
                .len()
        };
        read();
        let cpu0 = cpu_time();
        let mut items = 0;
        for _ in 0..reads {
            items = read();
        }
        let cpu = cpu_time() - cpu0;
        println!(
            "{name:<34} {:>11.1} µs {:>14}",
            cpu.as_secs_f64() * 1e6 / f64::from(reads),
            items
        );
    }
    println!("peak RSS of the bench process: {:.0} MiB", peak_rss_mib());
}
