//! How long a user waits for an answer: from the moment the fake Bot API
//! hands out a user's command to the moment the bot's reply reaches it, on
//! the release binary against the tests' fake Bot API and fake site on
//! loopback (in this process). The figures the integration tests used to
//! assert; they count sends now, and this measures the time (BENCHMARKS.md).
//!
//! Cases (`BENCH_CASES`, comma-separated, all by default):
//!
//! - `commands`: `/time`, `/latest` and `/contact`, each asked `BENCH_SAMPLES`
//!   times (200 by default) by users of their own, one at a time, 50 ms apart
//!   (so Telegram's limits, on as in production, never hold a reply back);
//! - `flood`: in each of `BENCH_ROUNDS` rounds (30), one private chat sends
//!   100 commands at once (one forward of 100 messages), then another user
//!   asks `/time`; the default budget of 20 commands a minute;
//! - `fanout`: 600 private chats subscribed, a new release goes out at 30
//!   messages a second (about 20 s) while a probe user asks `/time` every
//!   0.5 s; the fake refuses with 429 anything over Telegram's limits, and
//!   the count of those is printed.
//!
//! `cargo bench --bench replies`; `BENCH_BOT_BIN` runs another build.

#[path = "support/bot.rs"]
mod bot;
#[path = "support/machine.rs"]
mod machine;

#[path = "../tests/it/support/http.rs"]
#[allow(dead_code)]
mod http;
#[path = "../tests/it/support/site.rs"]
#[allow(dead_code)]
mod site;
#[path = "../tests/it/support/telegram/mod.rs"]
#[allow(dead_code, unused_imports)]
mod telegram;

use std::path::Path;
use std::time::{Duration, Instant};

use machine::env_number;
use site::FakeSite;
use telegram::FakeTelegram;

const FIXTURE_21: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/rusemb/home-2022-05-21.html"
);
const FIXTURE_23: &str = concat!(
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
    let cases = std::env::var("BENCH_CASES").unwrap_or_else(|_| "commands,flood,fanout".into());
    for case in cases.split(',').map(str::trim) {
        match case {
            "commands" => commands(env_number("BENCH_SAMPLES", 200) as usize).await,
            "flood" => flood(env_number("BENCH_ROUNDS", 30) as usize).await,
            "fanout" => fanout().await,
            other => panic!("unknown case {other} (commands, flood, fanout)"),
        }
    }
}

/// The fakes and the bot's directory; the bot started on them, its first
/// read recorded.
struct Running {
    telegram: FakeTelegram,
    site: FakeSite,
    _dir: tempfile::TempDir,
    bot: std::process::Child,
}

impl Running {
    async fn start(per_user_per_minute: u32) -> Running {
        let telegram = FakeTelegram::start().await;
        let site = FakeSite::start(std::fs::read(FIXTURE_21).expect("fixture")).await;
        let dir = tempfile::tempdir().expect("temporary directory");
        write_config(dir.path(), &telegram.url, &site.url, per_user_per_minute);
        let bot = bot::spawn_bot(dir.path(), telegram::TOKEN);
        let running = Running {
            telegram,
            site,
            _dir: dir,
            bot,
        };
        // Recorded once /latest shows a release.
        for probe in 0.. {
            let reply = running.telegram.ask(990_000 + probe, "/latest 1").await;
            if reply.text.contains("Read on the site") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        running
    }

    fn stop(mut self) {
        bot::stop(&mut self.bot);
    }
}

/// The production defaults but for what points at the fakes: Telegram's
/// limits on, the fixture's releases counted as fresh.
fn write_config(dir: &Path, telegram_url: &str, site_url: &str, per_user_per_minute: u32) {
    let text = format!(
        r#"data_dir = "{data}"
admin_chats = [4242]

[commands]
per_user_per_minute = {per_user_per_minute}

[telegram]
api_url = "{telegram_url}"
long_poll_secs = 1

[[sources]]
name = "fake"
url = "{site_url}"
interval_secs = 1
max_age_days = 36500
"#,
        data = dir.join("data").display()
    );
    std::fs::write(dir.join("config.toml"), text).expect("write config");
}

/// Asks `text` as `user`: the time until the reply reached the fake.
async fn reply_time(telegram: &FakeTelegram, user: i64, text: &str) -> Duration {
    let before = telegram.sent_to(user).len();
    let asked = Instant::now();
    telegram.user_says(user, text);
    telegram
        .wait_for(user, before + 1, Duration::from_secs(60))
        .await;
    asked.elapsed()
}

/// `n=… p50=… p99=… max=…` of `samples`, in milliseconds.
fn spread(samples: &mut [Duration]) -> String {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    format!(
        "n={} p50={:.1} ms p99={:.1} ms max={:.1} ms",
        samples.len(),
        ms(at(0.5)),
        ms(at(0.99)),
        ms(at(1.0))
    )
}

async fn commands(samples: usize) {
    let run = Running::start(1_000).await;
    let mut user = 100_000;
    for command in ["/time", "/latest", "/contact"] {
        let mut times = Vec::with_capacity(samples);
        for _ in 0..samples {
            user += 1;
            times.push(reply_time(&run.telegram, user, command).await);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        println!("{command:<9} idle: {}", spread(&mut times));
    }
    run.stop();
}

async fn flood(rounds: usize) {
    let run = Running::start(20).await;
    let mut times = Vec::with_capacity(rounds);
    for round in 0..rounds as i64 {
        let (flooder, other) = (300_000 + round, 200_000 + round);
        for n in 0..100 {
            let text = if n % 2 == 0 { "/time" } else { "/counters" };
            run.telegram.user_says(flooder, text);
        }
        times.push(reply_time(&run.telegram, other, "/time").await);
    }
    println!(
        "/time     behind a 100-message flood: {}",
        spread(&mut times)
    );
    run.stop();
}

async fn fanout() {
    let chats = 600;
    let run = Running::start(1_000).await;
    let t = &run.telegram;
    for chat in 1..=chats {
        t.user_says(chat, "/subscribe");
    }
    t.until("600 subscriptions", |t| {
        (t.chats_told(1..=chats) == chats as usize).then_some(())
    })
    .await;
    t.set_strict();
    run.site
        .set_page(std::fs::read(FIXTURE_23).expect("fixture"));
    t.until("the fan-out starts", |t| {
        (!t.pushes_to(1).is_empty()).then_some(())
    })
    .await;
    let mut times = Vec::new();
    let mut probe = 500_000;
    while t.chats_pushed(1..=chats) < chats as usize - 60 {
        probe += 1;
        times.push(reply_time(t, probe, "/time").await);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    println!(
        "/time     during a 30/s fan-out to {chats} chats: {} (429s: {})",
        spread(&mut times),
        t.too_many()
    );
    run.stop();
}
