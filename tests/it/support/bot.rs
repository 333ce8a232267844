//! [`TestBot`]: the one way tests start the bot. A builder says what differs
//! from the usual run (the site's page or the sources, config keys, the test
//! clock, the token, the HTTP server); [`TestBot::start`] starts the fakes and
//! the real binary against them and waits until the bot has read its site,
//! [`TestBot::spawn`] only starts it. The [`Bot`] it gives holds the fakes,
//! the temporary directory and the process, and restarts, stops and kills it.
//!
//! ```ignore
//! let bot = TestBot::new().page(fixture("rusemb/home-2022-05-21.html")).start().await;
//! let reply = bot.telegram.ask(1, "/subscribe").await;
//! bot.until("a push", |t| !t.pushes_to(1).is_empty()).await;
//! bot.stop_cleanly().await;
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use super::site::FakeSite;
use super::telegram::{self, BOUND, FakeTelegram};
use super::{BotProcess, fixture, source_toml, write_config_sources};

/// How a [`TestBot`] is set up; every method says what differs from the usual
/// run: one source `fake` at the fake site, read every second, the fixture
/// page of 21 May 2022, polling Telegram with the test token, no HTTP server.
pub struct TestBot {
    page: Vec<u8>,
    site: Option<FakeSite>,
    telegram: Option<FakeTelegram>,
    sources: Option<String>,
    interval_secs: u64,
    source_keys: String,
    section_text: String,
    edits: Vec<Box<dyn FnOnce(String) -> String + Send>>,
    http: bool,
    how: How,
}

/// What the process is started with, kept for restarts.
#[derive(Clone)]
struct How {
    token: String,
    env: Vec<(String, String)>,
    clock: Option<String>,
    log: String,
}

impl Default for TestBot {
    fn default() -> Self {
        TestBot::new()
    }
}

impl TestBot {
    pub fn new() -> TestBot {
        TestBot {
            page: fixture("rusemb/home-2022-05-21.html"),
            site: None,
            telegram: None,
            sources: None,
            interval_secs: 1,
            source_keys: String::new(),
            section_text: String::new(),
            edits: Vec::new(),
            http: false,
            how: How {
                token: telegram::TOKEN.into(),
                env: Vec::new(),
                clock: None,
                log: "bot.log".into(),
            },
        }
    }

    /// The page the fake site serves at first.
    pub fn page(mut self, page: impl Into<Vec<u8>>) -> TestBot {
        self.page = page.into();
        self
    }

    /// A fake site the test set up itself (its page is then the test's).
    pub fn site(mut self, site: FakeSite) -> TestBot {
        self.site = Some(site);
        self
    }

    /// A fake Telegram the test set up itself (chats declared, faults queued).
    pub fn telegram(mut self, telegram: FakeTelegram) -> TestBot {
        self.telegram = Some(telegram);
        self
    }

    /// The `[[sources]]` blocks instead of the one source `fake`
    /// ([`source_toml`]); `{site}` in them stands for the fake site's URL.
    pub fn sources(mut self, blocks: impl Into<String>) -> TestBot {
        self.sources = Some(blocks.into());
        self
    }

    /// How often source `fake` is read (1 s unless said).
    pub fn interval(mut self, secs: u64) -> TestBot {
        self.interval_secs = secs;
        self
    }

    /// More keys for source `fake`, one a line (`alert_after_secs = 2`).
    pub fn source_keys(mut self, keys: &str) -> TestBot {
        self.source_keys.push_str(keys);
        self.source_keys.push('\n');
        self
    }

    /// Text after the `[telegram]` keys: more `[telegram]` keys, or sections of
    /// their own (`[digest]\n...`).
    pub fn config_text(mut self, text: &str) -> TestBot {
        self.section_text.push_str(text);
        self.section_text.push('\n');
        self
    }

    /// Replaces `from` (which must be there) with `to` in the config file.
    pub fn replace(self, from: &str, to: &str) -> TestBot {
        let (from, to) = (from.to_string(), to.to_string());
        self.edit_config(move |text| {
            assert!(text.contains(&from), "{from} in {text}");
            text.replace(&from, &to)
        })
    }

    /// Any other change to the config file's text.
    pub fn edit_config(mut self, edit: impl FnOnce(String) -> String + Send + 'static) -> TestBot {
        self.edits.push(Box::new(edit));
        self
    }

    /// Telegram's limits on (`throttle = true`).
    pub fn throttled(self) -> TestBot {
        self.replace("throttle = false", "throttle = true")
    }

    /// The HTTP server on a loopback port of the bot's choosing ([`Bot::url`]).
    pub fn http(mut self) -> TestBot {
        self.http = true;
        self
    }

    /// The bot's clock starts at `now` (RFC 3339), as `EMBASSY_BOT_TEST_CLOCK` says.
    pub fn clock(mut self, now: &str) -> TestBot {
        self.how.clock = Some(now.into());
        self
    }

    /// Another bot token than the one the fake accepts.
    pub fn token(mut self, token: &str) -> TestBot {
        self.how.token = token.into();
        self
    }

    /// An environment variable on top of the tests' clean environment.
    pub fn env(mut self, key: &str, value: &str) -> TestBot {
        self.how.env.push((key.into(), value.into()));
        self
    }

    /// The log file's name in the test's directory (`bot.log` unless said).
    pub fn log(mut self, name: &str) -> TestBot {
        self.how.log = name.into();
        self
    }

    /// Starts the fakes and the bot, and waits until it has recorded its
    /// first read of the site (a `/latest` says "Read on the site"); with
    /// [`TestBot::http`], also until it says where it listens.
    pub async fn start(self) -> Bot {
        let bot = self.spawn().await;
        bot.wait_until_read().await;
        bot
    }

    /// Starts the fakes and the bot without waiting for anything more than
    /// the HTTP address (with [`TestBot::http`]): for bots that are to fail,
    /// wait on a broken site, or take updates by webhook.
    pub async fn spawn(self) -> Bot {
        let http = self.http;
        let mut bot = self.files().await;
        bot.process = Some(bot.spawn_process(&bot.how));
        if http {
            bot.http = Some(bot.listening_address().await);
        }
        bot
    }

    /// The fakes, the directory and the config file, with the bot not yet
    /// started: for tests that lay out its data first (a backfill, a store
    /// written in-process). Start it with [`Bot::respawn`] or [`Bot::restart`].
    pub async fn files(self) -> Bot {
        let telegram = match self.telegram {
            Some(t) => t,
            None => FakeTelegram::start().await,
        };
        let site = match self.site {
            Some(s) => s,
            None => FakeSite::start(self.page).await,
        };
        let dir = tempfile::tempdir().expect("a temporary directory");
        let sources = match self.sources {
            Some(blocks) => blocks.replace("{site}", &site.url),
            // The fixtures are pages of May 2022: let their releases count as fresh.
            None => source_toml(
                "fake",
                &site.url,
                self.interval_secs,
                &format!("max_age_days = 36500\n{}", self.source_keys),
            ),
        };
        let http = if self.http {
            "\n[http]\nlisten = \"127.0.0.1:0\"\n"
        } else {
            ""
        };
        let config = write_config_sources(
            dir.path(),
            &telegram.url,
            &format!("{}{http}{sources}", self.section_text),
        );
        let mut text = std::fs::read_to_string(&config).expect("read config");
        for edit in self.edits {
            text = edit(text);
        }
        std::fs::write(&config, text).expect("write config");
        Bot {
            telegram,
            site,
            dir,
            config,
            process: None,
            how: self.how,
            // Known once the process says it (`respawn` asks again).
            http: self.http.then(|| SocketAddr::from(([127, 0, 0, 1], 0))),
            probes: AtomicI64::new(990_000),
        }
    }
}

/// A running bot (or one stopped between runs), with its fakes and files.
pub struct Bot {
    pub telegram: FakeTelegram,
    pub site: FakeSite,
    pub dir: tempfile::TempDir,
    /// The config file (in `dir`); the data directory is `dir/data`.
    pub config: PathBuf,
    process: Option<BotProcess>,
    how: How,
    http: Option<SocketAddr>,
    /// The next throwaway user for probes (no budget is spent twice).
    probes: AtomicI64,
}

impl Bot {
    fn spawn_process(&self, how: &How) -> BotProcess {
        let mut env: Vec<(&str, &str)> = how
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        if let Some(now) = &how.clock {
            env.push((embassy_bot::testing::text::clock::TEST_CLOCK_VAR, now));
        }
        BotProcess::spawn_with_env(&self.config, &how.log, &how.token, &env)
    }

    /// The data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The running process's log (stderr) so far.
    pub fn log(&self) -> String {
        self.process
            .as_ref()
            .map(BotProcess::log)
            .unwrap_or_default()
    }

    /// Rewrites the config file: `from` (which must be there) → `to`; read at
    /// the next start.
    pub fn edit_config(&self, from: &str, to: &str) {
        let text = std::fs::read_to_string(&self.config).unwrap();
        assert!(text.contains(from), "{from} in {text}");
        std::fs::write(&self.config, text.replace(from, to)).unwrap();
    }

    /// Starts the bot again (after a stop or a kill) with the same settings,
    /// logging to `log`; waits for nothing.
    pub async fn respawn(&mut self, log: &str) {
        assert!(
            self.process.is_none(),
            "stop the bot before starting it again"
        );
        self.how.log = log.into();
        self.process = Some(self.spawn_process(&self.how));
        if self.http.is_some() {
            self.http = Some(self.listening_address().await);
        }
    }

    /// [`Bot::respawn`], then waits until it has read its site.
    pub async fn restart(&mut self, log: &str) {
        self.respawn(log).await;
        self.wait_until_read().await;
    }

    /// [`Bot::restart`] on a test clock starting at `now` (RFC 3339).
    pub async fn restart_at(&mut self, log: &str, now: &str) {
        self.how.clock = Some(now.into());
        self.restart(log).await;
    }

    /// Another process on the same config and data, next to this one (for
    /// the lock on the data directory): the test owns it.
    pub fn spawn_another(&self, log: &str) -> BotProcess {
        BotProcess::spawn_with_env(&self.config, log, &self.how.token, &[])
    }

    /// SIGTERM; the bot must flush and exit 0 with its goodbye in the log.
    pub async fn stop_cleanly(&mut self) {
        let (code, log) = self.terminate().await;
        assert_eq!(code, Some(0), "log:\n{log}");
        assert!(log.contains("stopped cleanly"), "{log}");
    }

    /// SIGTERM, as `docker stop` sends; the exit code and the log.
    pub async fn terminate(&mut self) -> (Option<i32>, String) {
        let process = self.process.take().expect("the bot is running");
        process.terminate().await
    }

    /// SIGKILL: no chance to flush or say goodbye.
    pub async fn kill(&mut self) {
        let process = self.process.take().expect("the bot is running");
        process.kill().await;
    }

    /// Waits for the bot to exit on its own: its exit code and log.
    pub async fn wait_exit(&mut self) -> (Option<i32>, String) {
        let process = self.process.take().expect("the bot is running");
        process.wait_exit(BOUND).await
    }

    /// Waits until `check` holds, re-checked whenever the fake Telegram
    /// answers a request (and every 100 ms); panics with `what` and the log
    /// after [`BOUND`]. Prefer this to reading the log.
    pub async fn until(&self, what: &str, mut check: impl FnMut(&FakeTelegram) -> bool) {
        if self
            .telegram
            .try_until(|t| check(t).then_some(()))
            .await
            .is_none()
        {
            panic!("waited {BOUND:?} for {what}; log:\n{}", self.log());
        }
    }

    /// [`Bot::until`] for a condition on anything (the site, files).
    pub async fn eventually(&self, what: &str, mut check: impl FnMut() -> bool) {
        self.until(what, |_| check()).await;
    }

    /// Asks `text` as `user` until the reply satisfies `done` (a state of
    /// the bot only its answers tell); returns that reply. Panics with the
    /// last reply and the log after [`BOUND`].
    pub async fn ask_until(&self, user: i64, text: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + BOUND;
        loop {
            let reply = self.telegram.ask(user, text).await.text;
            if done(&reply) {
                return reply;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "asked {text} for {BOUND:?}; last reply: {reply}\nlog:\n{}",
                self.log()
            );
            // Asking again at once would only spend the budget.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A user no test uses, for probes.
    pub fn probe_user(&self) -> i64 {
        self.probes.fetch_add(1, Ordering::Relaxed)
    }

    /// Waits until the bot is long-polling and has recorded a read of its
    /// site: a `/latest 1` (from a fresh user each time) says "Read on the site".
    pub async fn wait_until_read(&self) {
        let t = &self.telegram;
        self.until("the bot polling getUpdates", |t| t.calls("getupdates") >= 1)
            .await;
        let deadline = tokio::time::Instant::now() + BOUND;
        loop {
            let reply = t.ask(self.probe_user(), "/latest 1").await.text;
            if reply.contains("Read on the site") {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the bot never recorded the site; last reply: {reply}\nlog:\n{}",
                self.log()
            );
            // Not a wait for an absence: the next read is a second away.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The address of the bot's HTTP server ([`TestBot::http`]).
    pub fn addr(&self) -> SocketAddr {
        self.http.expect("started with TestBot::http")
    }

    /// `http://<addr><path>` on the bot's HTTP server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr())
    }

    /// GETs `path` from the bot's HTTP server: the status and the body.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client");
        let response = client.get(self.url(path)).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// GETs `path` until it answers `status`; returns the body.
    pub async fn wait_for_status(&self, path: &str, status: u16) -> String {
        let deadline = tokio::time::Instant::now() + BOUND;
        loop {
            let (got, body) = self.get(path).await;
            if got == status {
                return body;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{path} kept answering {got} ({body}), not {status}; log:\n{}",
                self.log()
            );
            // Waiting for a state the bot shows only there.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `embassy-bot healthcheck` against this bot: its exit code and output.
    pub fn healthcheck(&self) -> (Option<i32>, String) {
        let listen = self.addr().to_string();
        let config = self.config.to_str().unwrap();
        let (code, stdout, stderr) = super::run_binary(
            &["--config", config, "healthcheck"],
            &[("EMBASSY_BOT_HTTP_LISTEN", &listen)],
        );
        (code, stdout + &stderr)
    }

    /// The address the bot's HTTP server took. A log wait, and the only one
    /// the harness makes: the port is the bot's choice and only its log says it.
    async fn listening_address(&self) -> SocketAddr {
        const LINE: &str = "HTTP server listening address=";
        let find = || {
            let log = self.log();
            let at = log.find(LINE)? + LINE.len();
            log[at..].split_whitespace().next()?.parse().ok()
        };
        let mut found = None;
        self.eventually("the HTTP server saying where it listens", || {
            found = find();
            found.is_some()
        })
        .await;
        found.expect("just found")
    }
}
