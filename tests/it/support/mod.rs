//! Shared test machinery: loopback fakes of Telegram and the site, fixtures,
//! and running the real binary. Tests start the bot with [`TestBot`] only.

pub mod bot;
pub mod http;
pub mod site;
pub mod telegram;

pub use bot::{Bot, TestBot};

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// Release `n` of a site, undated, with no lead: for tests where only its
/// identity matters.
pub fn item(n: u32) -> embassy_bot::Item {
    embassy_bot::Item {
        id: format!("site/fnapr/{n}"),
        url: format!("https://site/fnapr/{n}"),
        title: format!("Item {n}"),
        date: None,
        lead: String::new(),
    }
}

/// Records a read of `source` with the guards off (for tests about what is
/// announced and delivered, not about the flood guard).
pub async fn poll(
    store: &embassy_bot::Store,
    source: &str,
    items: &[embassy_bot::Item],
    now: chrono::DateTime<chrono::Utc>,
) -> embassy_bot::PollOutcome {
    store
        .record_poll(source, items, &embassy_bot::PollPolicy::unguarded(), now)
        .await
        .unwrap()
}

/// The next page of at most `max` chats of the fan-out, `defer` naming the
/// chats to journal instead; `None` once the outbox is empty. The tests
/// settle every send they take, so the walk never waits for one.
pub async fn fan_out_page(
    fan_out: &embassy_bot::FanOut,
    max: usize,
    defer: impl Fn(i64) -> bool,
) -> Option<embassy_bot::FanOutPage> {
    use embassy_bot::FanOutStep;
    match fan_out.next_page(max, defer).await.unwrap() {
        FanOutStep::Page(page) => Some(page),
        FanOutStep::Draining => panic!("nothing is in flight"),
        FanOutStep::Idle => None,
    }
}

/// Fans the next page of at most `max` chats of the outbox out into the
/// journal, as a fan-out does when every chat must wait: how many were journaled,
/// or `None` once the outbox is empty.
pub async fn journal_page(fan_out: &embassy_bot::FanOut, max: usize) -> Option<usize> {
    let page = fan_out_page(fan_out, max, |_| true).await?;
    assert!(page.chats.is_empty(), "every chat was deferred");
    Some(page.journaled)
}

/// Journals every release of the outbox for every chat it reaches; how many pushes.
pub async fn journal_outbox(fan_out: &embassy_bot::FanOut) -> usize {
    let mut total = 0;
    while let Some(n) = journal_page(fan_out, 1_000).await {
        total += n;
    }
    total
}

/// A fixture page's bytes (copied from shared/fixtures into the repository).
pub fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

pub fn fixture_text(name: &str) -> String {
    String::from_utf8(fixture(name)).expect("fixture is UTF-8")
}

/// Extracts a fixture page with the default link patterns, as read from the embassy.
pub fn extract_fixture(name: &str) -> embassy_bot::Page {
    extract_at(name, &embassy_bot::Config::default().sources[0].url)
}

/// Extracts a fixture as if it had been read from `base`.
pub fn extract_at(name: &str, base: &url::Url) -> embassy_bot::Page {
    let config = embassy_bot::Config::default();
    embassy_bot::testing::source::extract::extract_page(
        &fixture_text(name),
        base,
        &config.sources[0],
    )
}

/// The 23 May page with one more release on top, for "new item after restart".
pub fn page_with_extra_item() -> String {
    fixture_text("rusemb/home-2022-05-23.html").replacen(
        "<div class=\"news-item\">",
        "<div class=\"news-item\">\n      <a class=\"news-link\" href=\"/fnapr/7161\">24.05.2022 - Embassy statement on a later day</a>\n      <p class=\"lead\">A lead paragraph for the later statement, long enough to count.</p>\n    </div>\n    <div class=\"news-item\">",
        1,
    )
}

/// The operator's chat in test configs.
pub const ADMIN: i64 = 4242;

/// How many messages to the operator ([`ADMIN`]) contain `needle`.
pub fn admin_told(telegram: &telegram::FakeTelegram, needle: &str) -> usize {
    telegram
        .sent_to(ADMIN)
        .iter()
        .filter(|m| m.text.contains(needle))
        .count()
}

/// The date `n` days before today (UTC), for releases fresh enough to push.
pub fn days_ago(n: u64) -> chrono::NaiveDate {
    chrono::Utc::now()
        .date_naive()
        .checked_sub_days(chrono::Days::new(n))
        .expect("a date in range")
}

/// One `[[sources]]` block for a fake site; `extra` adds keys (one per line).
pub fn source_toml(name: &str, url: &str, interval_secs: u64, extra: &str) -> String {
    format!(
        "\n[[sources]]\nname = \"{name}\"\nurl = \"{url}\"\ninterval_secs = {interval_secs}\ntimeout_secs = 5\n{extra}"
    )
}

/// Writes a config for a bot that talks to our fakes, with the given
/// `[[sources]]` blocks ([`source_toml`]); returns its path.
pub fn write_config_sources(dir: &Path, telegram_url: &str, sources: &str) -> PathBuf {
    let path = dir.join("config.toml");
    let text = format!(
        r#"data_dir = "{data}"
admin_chats = [{ADMIN}]

# These tests poll with repeated commands (until a read is recorded): a
# budget far above the default's 20 a minute keeps that from counting.
[commands]
per_user_per_minute = 1000

# Releases' own pages are read only by the tests about full text
# (process/fulltext.rs): elsewhere the fake site's request counts are the
# poller's alone.
[full_text]
enabled = false

[telegram]
api_url = "{telegram_url}"
long_poll_secs = 1
throttle = false
{sources}"#,
        data = dir.join("data").display()
    );
    std::fs::write(&path, text).expect("write config");
    path
}

/// A list page in the site's layout (`DD.MM.YYYY - Title` links to `/fnapr/N`,
/// lead after), newest first as given: `(id, date, title)`.
pub fn release_page<T: AsRef<str>>(items: &[(u32, chrono::NaiveDate, T)]) -> String {
    let mut html = String::from("<html><head><meta charset=\"utf-8\"></head><body>\n");
    for (id, date, title) in items {
        let title = title.as_ref();
        html.push_str(&format!(
            "<div class=\"news-item\"><a href=\"/fnapr/{id}\">{} - {title}</a>\n<p>A lead paragraph for release {id}, long enough to count.</p></div>\n",
            date.format("%d.%m.%Y")
        ));
    }
    html.push_str("</body></html>\n");
    html
}

/// Opens a store that this process just dropped. sled lets go of its lock
/// when its last background job ends, a moment after the handle is dropped.
pub fn reopen_store(dir: &Path) -> embassy_bot::Store {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match embassy_bot::Store::open(dir) {
            Ok(store) => return store,
            Err(embassy_bot::StoreError::Locked(_)) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("reopening the store: {e}"),
        }
    }
}

/// The real binary, running against the fakes: [`TestBot`] starts it, and
/// [`Bot::spawn_another`] for a second process on the same data.
pub struct BotProcess {
    child: tokio::process::Child,
    log: PathBuf,
}

impl BotProcess {
    /// The bot with `env` set on top of the tests' clean environment.
    pub(super) fn spawn_with_env(
        config: &Path,
        log_name: &str,
        token: &str,
        env: &[(&str, &str)],
    ) -> BotProcess {
        let log = config.with_file_name(log_name);
        let log_file = std::fs::File::create(&log).expect("create log");
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_embassy-bot"))
            .arg("--config")
            .arg(config)
            .env("TELOXIDE_TOKEN", token)
            .env_remove("TELOXIDE_API_URL")
            .env_remove("EMBASSY_BOT_CONFIG")
            .env_remove("EMBASSY_BOT_DATA_DIR")
            .env_remove("EMBASSY_BOT_HTTP_LISTEN")
            .env_remove(embassy_bot::testing::text::clock::TEST_CLOCK_VAR)
            .envs(env.iter().copied())
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .expect("spawn embassy-bot");
        BotProcess { child, log }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, as `docker stop` sends; returns the exit code.
    pub async fn terminate(mut self) -> (Option<i32>, String) {
        let pid = self.child.id().expect("bot is running");
        // SAFETY: plain kill(2) on our own child's pid.
        let rc = unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
        assert_eq!(rc, 0, "kill(SIGTERM) failed");
        let exit = tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "bot did not exit within 10 s of SIGTERM; log:\n{}",
                    self.log()
                )
            })
            .expect("wait for bot");
        (exit.code(), self.log())
    }

    /// SIGKILL: no chance to flush or say goodbye, as in a power cut or an OOM kill.
    pub async fn kill(mut self) {
        self.child.kill().await.expect("SIGKILL the bot");
    }

    /// Waits for the process to exit on its own.
    pub async fn wait_exit(mut self, timeout: Duration) -> (Option<i32>, String) {
        let exit = tokio::time::timeout(timeout, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("bot did not exit; log:\n{}", self.log()))
            .expect("wait for bot");
        (exit.code(), self.log())
    }
}

/// Runs the binary to completion with `args` and `env`, returning (code, stdout, stderr).
pub fn run_binary(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_embassy-bot"));
    cmd.args(args)
        .env_remove("TELOXIDE_TOKEN")
        .env_remove("TELOXIDE_API_URL")
        .env_remove("EMBASSY_BOT_CONFIG")
        .env_remove("EMBASSY_BOT_DATA_DIR")
        .env_remove("EMBASSY_BOT_HTTP_LISTEN")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run embassy-bot");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}
