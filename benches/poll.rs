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

#[allow(dead_code)]
#[path = "../tests/it/support/http.rs"]
mod http;

use std::io::{BufRead, BufReader, Write as _};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use embassy_bot::config::Config;
use embassy_bot::poller::poll_once;
use embassy_bot::source::fetch::{Validators, client_for};
use embassy_bot::store::Store;

const SERVER_ENV: &str = "POLL_BENCH_SERVER";
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
        let addr = http::serve(handler).await;
        println!("{addr}");
        std::io::stdout().flush().expect("stdout");
        // Serve until the parent closes our stdin.
        tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        })
        .await
        .expect("stdin watcher");
    });
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
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .env(SERVER_ENV, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the fake site");
    let mut addr = String::new();
    BufReader::new(child.stdout.take().expect("child stdout"))
        .read_line(&mut addr)
        .expect("site address");
    let url = format!("http://{}/", addr.trim());

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
fn extraction(source: &embassy_bot::config::SourceConfig) {
    use embassy_bot::source::{charset, extract};
    let base = source.url.clone();
    let embassy = page();
    let mut flood = String::with_capacity(4 << 20);
    for n in 0..60_000 {
        flood.push_str(&format!(
            "<p><a href=\"/fnapr/{n}\">21.05.2022 - Release number {n} of the flood</a></p>\n"
        ));
    }
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
