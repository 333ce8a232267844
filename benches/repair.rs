//! What reading a redesigned page costs: `cargo bench --bench repair`.
//!
//! The fallbacks run only on a read whose configured extraction found nothing,
//! but then on every such read, so their cost is per read. Measured here,
//! pure (no I/O, no store), CPU time of this process:
//!
//! - the repeated-blocks fallback on the `<article>` redesign fixture, and the
//!   JSON-LD fallback on the structured-data one (`tests/fixtures/redesign/`);
//! - the blocks fallback on a hostile 4 MB page of 60,000 dated links that
//!   match no pattern, as the bot parses it (cut at the anchor budget,
//!   8 × `max_items`) and, for comparison, whole;
//! - recognising releases at new addresses at its worst: 500 new items
//!   against 100 known releases, all on one day, every title a near-identical
//!   candidate (same length, same numbers), so the bounded edit distances all
//!   run.

#[path = "support/machine.rs"]
mod machine;

use std::time::Duration;

use chrono::NaiveDate;
use embassy_bot::testing::fallback::{
    Known, block_items, jsonld_items, rekey_moved, within_anchor_budget,
};
use embassy_bot::{Config, Item};
use url::Url;

fn cpu_time() -> Duration {
    // SAFETY: getrusage fills the struct we pass; RUSAGE_SELF is always valid.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe {
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
    }
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// Average CPU time of `runs` calls of `f`.
fn measure(runs: u32, mut f: impl FnMut()) -> Duration {
    f();
    let start = cpu_time();
    for _ in 0..runs {
        f();
    }
    (cpu_time() - start) / runs
}

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/redesign/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).expect("fixture");
    let mut text = text.replace("{base}", "https://example.org");
    for n in 0..5 {
        text = text
            .replace(&format!("{{iso:{n}}}"), &format!("2024-05-0{}", 9 - n))
            .replace(&format!("{{rfc:{n}}}"), "Thu, 09 May 2024 10:00:00 +0000");
    }
    text
}

fn main() {
    machine::print_machine();
    let source =
        Config::from_toml("[[sources]]\nname = \"news\"\nurl = \"https://example.org/news\"\n")
            .expect("config")
            .sources
            .remove(0);
    let base = Url::parse("https://example.org/news").unwrap();

    let articles = fixture("articles.html");
    let took = measure(300, || {
        let found = block_items(&articles, &base, &source).expect("blocks");
        assert_eq!(found.items.len(), 6);
    });
    println!(
        "blocks, article fixture ({} bytes): {took:?} a read",
        articles.len()
    );
    let jsonld = fixture("jsonld.html");
    let took = measure(300, || {
        assert_eq!(jsonld_items(&jsonld, &base, &source).len(), 5)
    });
    println!("JSON-LD fixture ({} bytes): {took:?} a read", jsonld.len());

    let mut hostile = String::from("<html><body><div class=\"list\">\n");
    for n in 0..60_000 {
        hostile.push_str(&format!(
            "<p><a href=\"/x/{n}\">21.05.2022 - Release number {n} of the flood</a></p>\n"
        ));
    }
    hostile.push_str("</div></body></html>\n");
    let cut = within_anchor_budget(&hostile, source.max_items);
    let took = measure(5, || {
        let found = block_items(cut, &base, &source).expect("blocks");
        assert_eq!(found.items.len(), source.max_items);
    });
    println!(
        "blocks, hostile page ({} bytes, cut at {} bytes by the anchor budget): {took:?} a read",
        hostile.len(),
        cut.len()
    );
    let took = measure(3, || {
        block_items(&hostile, &base, &source).expect("blocks");
    });
    println!("blocks, the same page whole (what the budget saves): {took:?} a read");

    let day = NaiveDate::from_ymd_opt(2024, 5, 1);
    // No digits, equal lengths: every pair passes the cheap checks, and each
    // comparison the budget allows runs a whole edit distance.
    let letters = |n: usize| -> String {
        [n / 26 % 26, n % 26]
            .iter()
            .map(|&d| char::from(b'a' + d as u8))
            .collect()
    };
    let title = |n: usize, tail: &str| format!("Statement on the matter of {}{tail}", letters(n));
    let known: Vec<Known> = (0..100)
        .map(|n| Known {
            id: format!("example.org/old/{n}"),
            title: title(n, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
            date: day,
        })
        .collect();
    let items: Vec<Item> = (0..500)
        .map(|n| Item {
            id: format!("example.org/new/{n}"),
            url: format!("https://example.org/new/{n}"),
            title: title(n % 100, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"),
            date: day,
            lead: String::new(),
        })
        .collect();
    let took = measure(20, || {
        let mut items = items.clone();
        assert_eq!(rekey_moved(&mut items, &known, |_| false), 0);
    });
    println!("recognising 500 items against 100 known, all near candidates: {took:?} a read");
}
