//! Configuration: a TOML file (optional) plus environment overrides.
//!
//! Everything that ties the engine to one web site — sources, clocks, counters,
//! the fallback contact — lives here, so the same binary can watch another site.
//! [`Config::default`] is the embassy, so the bot runs with no file at all.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;
use chrono_tz::Tz;
use regex::Regex;
use scraper::Selector;
use serde::Deserialize;
use url::Url;

/// Environment variable holding the bot token; wins over the file so secrets
/// need not be written to disk.
pub const TOKEN_ENV: &str = "TELOXIDE_TOKEN";
/// Environment variable naming the Bot API server (self-hosted, or a test fake).
pub const API_URL_ENV: &str = "TELOXIDE_API_URL";
/// Environment variable overriding `data_dir` (the Docker image points it at its volume).
pub const DATA_DIR_ENV: &str = "EMBASSY_BOT_DATA_DIR";

/// Values from the environment that win over the file.
#[derive(Debug, Default)]
struct EnvOverrides {
    token: Option<String>,
    api_url: Option<String>,
    data_dir: Option<PathBuf>,
}

/// Why the configuration cannot be used; each variant names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file named with `--config` could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is not valid TOML, has an unknown key, or a value of the wrong type.
    /// The message gives the line, column and key, never the line's text.
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    /// A key has a value of the right type but an unusable meaning.
    #[error("config key `{key}`: {reason}")]
    Invalid { key: String, reason: String },
    /// No token in the environment nor in the file.
    #[error(
        "no bot token: set {TOKEN_ENV} (get one from @BotFather) or `telegram.token` in the config file"
    )]
    MissingToken,
}

fn invalid(key: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        reason: reason.into(),
    }
}

/// The whole validated configuration of one bot process.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where sled keeps items, subscribers and the delivery journal.
    pub data_dir: PathBuf,
    /// Chats that may see operator information (`/status`).
    pub admin_chats: Vec<i64>,
    pub telegram: TelegramConfig,
    pub sources: Vec<SourceConfig>,
    pub time: TimeConfig,
    pub counters: Vec<CounterConfig>,
    pub contact: ContactConfig,
}

/// Telegram's own Bot API server: where `telegram.api_url` points when unset.
pub const TELEGRAM_API: &str = "https://api.telegram.org";

/// How to reach Telegram. Its `Debug` never shows the token.
#[derive(Clone)]
pub struct TelegramConfig {
    /// Bot token; `None` until [`Config::require_token`] checks it.
    pub token: Option<String>,
    /// Bot API base URL; `None` means Telegram's own.
    pub api_url: Option<Url>,
    /// Long-polling timeout for getUpdates.
    pub long_poll: Duration,
    /// Respect Telegram's flood limits client-side (off only for tests/benchmarks).
    pub throttle: bool,
    /// The global send rate when `throttle` is on (Telegram allows about 30/s).
    pub messages_per_sec: f64,
    /// How many chats pushes go to at once.
    pub send_concurrency: usize,
}

impl TelegramConfig {
    /// The limits every send respects; `None` when throttling is off.
    pub fn rate_limits(&self) -> Option<crate::limiter::RateLimits> {
        self.throttle
            .then(|| crate::limiter::RateLimits::telegram(self.messages_per_sec))
    }
}

impl std::fmt::Debug for TelegramConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelegramConfig")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("api_url", &self.api_url)
            .field("long_poll", &self.long_poll)
            .field("throttle", &self.throttle)
            .field("messages_per_sec", &self.messages_per_sec)
            .field("send_concurrency", &self.send_concurrency)
            .finish()
    }
}

/// One watched web page or feed.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// Short lowercase name (`[a-z0-9_-]{1,32}`): shown in logs, keyed in the
    /// database and typed by users in `/subscribe <name>`, hence the strict shape.
    pub name: String,
    pub url: Url,
    /// How the body is read: an HTML page or a feed.
    pub kind: SourceKind,
    pub interval: Duration,
    /// Some sites (mid.ru) reset connections from default user agents.
    pub user_agent: String,
    /// Total time allowed for one fetch, body included.
    pub timeout: Duration,
    /// Time allowed to open the connection; shorter than `timeout` so a dead
    /// host fails fast.
    pub connect_timeout: Duration,
    /// Bodies larger than this (after gzip decoding) are refused.
    pub max_bytes: usize,
    /// Regexes over a link's path that mark it as a release (HTML without selectors).
    pub link_patterns: Vec<Regex>,
    /// CSS selectors that replace the link-pattern heuristics for this source.
    pub selectors: Option<Selectors>,
    /// Flood guard: more new items than this in one poll are held back, not pushed.
    pub max_new_items: usize,
    /// Items dated more than this many days ago are recorded but not pushed.
    pub max_age_days: u32,
    /// Admins hear once when the source has been failing this long (and once
    /// when it recovers); shorter outages are normal and stay in the logs.
    pub alert_after: Duration,
    /// Where the source publishes: a time written without a zone is wall-clock
    /// time here, and an item's date is its calendar day here.
    pub time_zone: Tz,
    /// At most this many items per read: a page or feed cannot make a read cost
    /// more than this, whatever it holds.
    pub max_items: usize,
    /// Query parameters (beyond the built-in `utm_*`, `fbclid`, ...) that only
    /// track readers: dropped before an item is keyed, so rotating them does
    /// not make a release new. A trailing `*` matches a prefix.
    pub tracking_params: Vec<String>,
}

/// How a source's body is turned into items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// An HTML page: link patterns, or `selectors` when given.
    Html,
    /// RSS 2.0/1.0, Atom or JSON Feed.
    Feed,
    /// Decide from the body itself (a feed if it starts like one, else HTML);
    /// what `check-source` uses for a bare URL or file.
    Auto,
}

impl std::fmt::Display for SourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SourceKind::Html => "html",
            SourceKind::Feed => "feed",
            SourceKind::Auto => "auto",
        })
    }
}

/// CSS selectors for pages whose layout the link patterns do not fit. Parsed
/// once at load time, so a typo stops the start with the key named.
#[derive(Debug, Clone)]
pub struct Selectors {
    /// Each match is one release.
    pub item: Selector,
    /// Inside an item: the element whose `href` is the release link
    /// (default: the item itself if it is a link, else its first `a[href]`).
    pub link: Option<Selector>,
    /// Inside an item: the title (default: the link's text).
    pub title: Option<Selector>,
    /// Inside an item: the date (default: the first date in the item's text).
    pub date: Option<Selector>,
    /// Inside an item: the lead (default: the first paragraph after the link).
    pub lead: Option<Selector>,
}

/// The site's header clocks.
#[derive(Debug, Clone)]
pub struct TimeConfig {
    /// Zone whose calendar date heads the clocks (the site shows Moscow's).
    pub date_zone: Tz,
    pub clocks: Vec<ClockConfig>,
}

/// One labelled clock, e.g. "Moscow" in Europe/Moscow.
#[derive(Debug, Clone)]
pub struct ClockConfig {
    pub label: String,
    pub zone: Tz,
}

/// One "N days have passed since ..." line.
#[derive(Debug, Clone)]
pub struct CounterConfig {
    /// Text with a `{days}` placeholder.
    pub text: String,
    pub since: NaiveDate,
    /// Zone whose calendar date counts (the site counts on Moscow's).
    pub zone: Tz,
}

/// Contact shown by /contact when the live page has not been read.
#[derive(Debug, Clone)]
pub struct ContactConfig {
    pub phone: String,
    pub email: String,
}

// ---- the file's shape -------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    data_dir: Option<PathBuf>,
    admin_chats: Option<Vec<i64>>,
    telegram: Option<RawTelegram>,
    sources: Option<Vec<RawSource>>,
    time: Option<RawTime>,
    counters: Option<Vec<RawCounter>>,
    contact: Option<RawContact>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTelegram {
    token: Option<String>,
    api_url: Option<String>,
    long_poll_secs: Option<u64>,
    throttle: Option<bool>,
    messages_per_sec: Option<f64>,
    send_concurrency: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    name: Option<String>,
    url: String,
    kind: Option<SourceKind>,
    interval_secs: Option<u64>,
    user_agent: Option<String>,
    timeout_secs: Option<u64>,
    connect_timeout_secs: Option<u64>,
    max_bytes: Option<usize>,
    link_patterns: Option<Vec<String>>,
    selectors: Option<RawSelectors>,
    max_new_items: Option<usize>,
    max_age_days: Option<u32>,
    alert_after_secs: Option<u64>,
    time_zone: Option<String>,
    max_items: Option<usize>,
    tracking_params: Option<Vec<String>>,
}

impl RawSource {
    fn at(name: &str, url: &str) -> RawSource {
        RawSource {
            name: Some(name.into()),
            url: url.into(),
            kind: None,
            interval_secs: None,
            user_agent: None,
            timeout_secs: None,
            connect_timeout_secs: None,
            max_bytes: None,
            link_patterns: None,
            selectors: None,
            max_new_items: None,
            max_age_days: None,
            alert_after_secs: None,
            // The embassy dates its pages in Moscow.
            time_zone: Some("Europe/Moscow".into()),
            max_items: None,
            tracking_params: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSelectors {
    item: String,
    link: Option<String>,
    title: Option<String>,
    date: Option<String>,
    lead: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTime {
    date_zone: Option<String>,
    clocks: Option<Vec<RawClock>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClock {
    label: String,
    zone: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCounter {
    text: String,
    since: String,
    zone: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContact {
    phone: Option<String>,
    email: Option<String>,
}

// ---- the embassy defaults ---------------------------------------------------------------

/// The embassy's home page, watched (with its two lists) when no source is configured.
pub const DEFAULT_SOURCE_URL: &str = "https://www.rusemb.org.uk/";
/// The built-in sources: the home page, the press archive and "Embassy informs".
/// The lists' odd paths (a literal `&` right after the path, no `?`) are the site's own.
pub const DEFAULT_SOURCES: &[(&str, &str)] = &[
    ("home", DEFAULT_SOURCE_URL),
    (
        "press",
        "https://www.rusemb.org.uk/apress_arh/&start=1&ps=10&ppp=15",
    ),
    (
        "informs",
        "https://www.rusemb.org.uk/newarh/&start=1&ps=10&ppp=15",
    ),
];
/// Release links on the embassy site: press releases, articles, ambassador's articles.
pub const DEFAULT_LINK_PATTERNS: &[&str] =
    &[r"^/fnapr/\d+$", r"^/article/\d+$", r"^/ambarticles/\d+$"];
const DEFAULT_INTERVAL_SECS: u64 = 300;
const DEFAULT_TIMEOUT_SECS: u64 = 30;
const DEFAULT_CONNECT_TIMEOUT_SECS: u64 = 10;
const DEFAULT_MAX_NEW_ITEMS: usize = 8;
const DEFAULT_MAX_AGE_DAYS: u32 = 14;
const DEFAULT_ALERT_AFTER_SECS: u64 = 900;
const DEFAULT_MAX_BYTES: usize = 4 * 1024 * 1024;
const DEFAULT_MAX_ITEMS: usize = 500;
const MAX_MAX_ITEMS: usize = 10_000;
const DEFAULT_LONG_POLL_SECS: u64 = 10;
const DEFAULT_MESSAGES_PER_SEC: f64 = 30.0;
const DEFAULT_SEND_CONCURRENCY: usize = 32;
const DEFAULT_USER_AGENT: &str = concat!("embassy-bot/", env!("CARGO_PKG_VERSION"));
const SALISBURY: &str = "{days} days have passed since the Salisbury incident - no credible information or response from the British authorities";
const GLUSHKOV: &str = "{days} days have passed since the death of Nikolay Glushkov on British soil - no credible information or response from the British authorities";

impl Default for Config {
    fn default() -> Self {
        // Built from an empty file so defaults live in exactly one place.
        Config::from_raw(RawConfig::default(), EnvOverrides::default())
            .expect("built-in defaults are valid")
    }
}

impl Config {
    /// The source a user or operator named; names are case-insensitive.
    pub fn source_named(&self, name: &str) -> Option<&SourceConfig> {
        self.sources
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
    }

    /// Reads `path` (or uses the defaults when `None`) and applies environment overrides.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let raw = match path {
            None => RawConfig::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                toml::from_str(&text).map_err(|e| ConfigError::Parse {
                    path: path.to_path_buf(),
                    message: toml_error(&text, &e),
                })?
            }
        };
        let var = |name| {
            std::env::var(name)
                .ok()
                .filter(|v: &String| !v.trim().is_empty())
        };
        let env = EnvOverrides {
            token: var(TOKEN_ENV),
            api_url: var(API_URL_ENV),
            data_dir: var(DATA_DIR_ENV).map(PathBuf::from),
        };
        Config::from_raw(raw, env)
    }

    /// Parses TOML text without touching the environment (for tests and `check`).
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: PathBuf::from("<inline>"),
            message: toml_error(text, &e),
        })?;
        Config::from_raw(raw, EnvOverrides::default())
    }

    /// The token, or the one-line error that tells the operator how to supply it.
    pub fn require_token(&self) -> Result<&str, ConfigError> {
        self.telegram
            .token
            .as_deref()
            .ok_or(ConfigError::MissingToken)
    }

    fn from_raw(raw: RawConfig, env: EnvOverrides) -> Result<Config, ConfigError> {
        let telegram = raw.telegram.unwrap_or_default();
        let token = env
            .token
            .or(telegram.token.filter(|t| !t.trim().is_empty()));
        if let Some(token) = &token {
            validate_token(token)?;
        }
        let api_key = if env.api_url.is_some() {
            API_URL_ENV
        } else {
            "telegram.api_url"
        };
        let api_url = env
            .api_url
            .or(telegram.api_url)
            .map(|u| parse_http_url(api_key, &u))
            .transpose()?;
        let long_poll_secs = telegram.long_poll_secs.unwrap_or(DEFAULT_LONG_POLL_SECS);
        if long_poll_secs > 50 {
            return Err(invalid(
                "telegram.long_poll_secs",
                "must be at most 50 (Telegram closes longer polls)",
            ));
        }
        let messages_per_sec = telegram
            .messages_per_sec
            .unwrap_or(DEFAULT_MESSAGES_PER_SEC);
        if !(messages_per_sec > 0.0 && messages_per_sec <= 1_000.0) {
            return Err(invalid(
                "telegram.messages_per_sec",
                "must be above 0 and at most 1000 (Telegram allows about 30)",
            ));
        }
        let send_concurrency = telegram
            .send_concurrency
            .unwrap_or(DEFAULT_SEND_CONCURRENCY);
        if !(1..=1_024).contains(&send_concurrency) {
            return Err(invalid(
                "telegram.send_concurrency",
                "must be between 1 and 1024",
            ));
        }

        let raw_sources = raw.sources.unwrap_or_else(|| {
            DEFAULT_SOURCES
                .iter()
                .map(|(name, url)| RawSource::at(name, url))
                .collect()
        });
        if raw_sources.is_empty() {
            return Err(invalid("sources", "list at least one source to watch"));
        }
        let mut sources = Vec::with_capacity(raw_sources.len());
        for (i, s) in raw_sources.into_iter().enumerate() {
            let source = source_from_raw(i, s)?;
            if let Some(j) = sources
                .iter()
                .position(|o: &SourceConfig| o.name.eq_ignore_ascii_case(&source.name))
            {
                return Err(invalid(
                    format!("sources[{i}].name"),
                    format!(
                        "`{}` is already the name of sources[{j}]; names must be unique (set `name` when two sources share a host)",
                        source.name
                    ),
                ));
            }
            sources.push(source);
        }

        let time = raw.time.unwrap_or_default();
        let date_zone = parse_zone(
            "time.date_zone",
            time.date_zone.as_deref().unwrap_or("Europe/Moscow"),
        )?;
        let clocks = match time.clocks {
            None => vec![
                ClockConfig {
                    label: "Moscow".into(),
                    zone: chrono_tz::Europe::Moscow,
                },
                ClockConfig {
                    label: "London".into(),
                    zone: chrono_tz::Europe::London,
                },
            ],
            Some(list) => list
                .into_iter()
                .enumerate()
                .map(|(i, c)| {
                    if c.label.trim().is_empty() {
                        return Err(invalid(
                            format!("time.clocks[{i}].label"),
                            "must not be empty",
                        ));
                    }
                    Ok(ClockConfig {
                        label: c.label,
                        zone: parse_zone(&format!("time.clocks[{i}].zone"), &c.zone)?,
                    })
                })
                .collect::<Result<_, _>>()?,
        };

        let counters = match raw.counters {
            None => vec![
                CounterConfig {
                    text: SALISBURY.into(),
                    since: NaiveDate::from_ymd_opt(2018, 3, 4).expect("valid date"),
                    zone: chrono_tz::Europe::Moscow,
                },
                CounterConfig {
                    text: GLUSHKOV.into(),
                    since: NaiveDate::from_ymd_opt(2018, 3, 12).expect("valid date"),
                    zone: chrono_tz::Europe::Moscow,
                },
            ],
            Some(list) => list
                .into_iter()
                .enumerate()
                .map(|(i, c)| {
                    if !c.text.contains("{days}") {
                        return Err(invalid(
                            format!("counters[{i}].text"),
                            "must contain the {days} placeholder",
                        ));
                    }
                    let since =
                        NaiveDate::parse_from_str(c.since.trim(), "%Y-%m-%d").map_err(|_| {
                            invalid(
                                format!("counters[{i}].since"),
                                format!("`{}` is not a date in YYYY-MM-DD form", c.since),
                            )
                        })?;
                    let zone = parse_zone(
                        &format!("counters[{i}].zone"),
                        c.zone.as_deref().unwrap_or("Europe/Moscow"),
                    )?;
                    Ok(CounterConfig {
                        text: c.text,
                        since,
                        zone,
                    })
                })
                .collect::<Result<_, _>>()?,
        };

        let contact = raw.contact.unwrap_or_default();
        let contact = ContactConfig {
            phone: contact
                .phone
                .unwrap_or_else(|| "+44 (0) 203 161 8858".into()),
            email: contact.email.unwrap_or_else(|| "info@rusemb.org.uk".into()),
        };

        let data_dir = env
            .data_dir
            .or(raw.data_dir)
            .unwrap_or_else(|| PathBuf::from("data"));
        if data_dir.as_os_str().is_empty() {
            return Err(invalid("data_dir", "must not be empty"));
        }

        Ok(Config {
            data_dir,
            admin_chats: raw.admin_chats.unwrap_or_default(),
            telegram: TelegramConfig {
                token,
                api_url,
                long_poll: Duration::from_secs(long_poll_secs),
                throttle: telegram.throttle.unwrap_or(true),
                messages_per_sec,
                send_concurrency,
            },
            sources,
            time: TimeConfig { date_zone, clocks },
            counters,
            contact,
        })
    }
}

/// The longest source name: it is typed in `/subscribe <name>`.
pub const MAX_SOURCE_NAME: usize = 32;

/// True for a usable source name: 1 to 32 of `a-z`, `0-9`, `_`, `-`.
pub fn is_valid_source_name(name: &str) -> bool {
    (1..=MAX_SOURCE_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// A name for a source that has none: its host, shaped to the name rules.
fn name_from_url(url: &Url) -> String {
    let host = url.host_str().unwrap_or("source");
    let host = host.strip_prefix("www.").unwrap_or(host);
    let name: String = host
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '_' | '-') => c,
            _ => '-',
        })
        .take(MAX_SOURCE_NAME)
        .collect();
    if name.is_empty() {
        "source".into()
    } else {
        name
    }
}

fn source_from_raw(i: usize, s: RawSource) -> Result<SourceConfig, ConfigError> {
    let key = |field: &str| format!("sources[{i}].{field}");
    let url = parse_http_url(&key("url"), &s.url)?;
    let name = s.name.unwrap_or_else(|| name_from_url(&url));
    if !is_valid_source_name(&name) {
        return Err(invalid(
            key("name"),
            format!(
                "`{name}` must be 1 to {MAX_SOURCE_NAME} characters of a-z, 0-9, `_` or `-` (users type it in /subscribe)"
            ),
        ));
    }
    let interval_secs = s.interval_secs.unwrap_or(DEFAULT_INTERVAL_SECS);
    if interval_secs == 0 {
        return Err(invalid(
            key("interval_secs"),
            "must be at least 1 (the default is 300; be kind to the site)",
        ));
    }
    let timeout_secs = s.timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS);
    if timeout_secs == 0 {
        return Err(invalid(key("timeout_secs"), "must be at least 1"));
    }
    let connect_timeout_secs = s
        .connect_timeout_secs
        .unwrap_or(DEFAULT_CONNECT_TIMEOUT_SECS.min(timeout_secs));
    if connect_timeout_secs == 0 || connect_timeout_secs > timeout_secs {
        return Err(invalid(
            key("connect_timeout_secs"),
            format!("must be between 1 and timeout_secs ({timeout_secs})"),
        ));
    }
    let max_bytes = s.max_bytes.unwrap_or(DEFAULT_MAX_BYTES);
    if max_bytes < 1024 {
        return Err(invalid(key("max_bytes"), "must be at least 1024"));
    }
    let user_agent = s
        .user_agent
        .unwrap_or_else(|| DEFAULT_USER_AGENT.to_string());
    if user_agent.trim().is_empty() || reqwest::header::HeaderValue::from_str(&user_agent).is_err()
    {
        return Err(invalid(
            key("user_agent"),
            "must be non-empty printable ASCII",
        ));
    }
    let patterns: Vec<String> = s.link_patterns.unwrap_or_else(|| {
        DEFAULT_LINK_PATTERNS
            .iter()
            .map(|p| p.to_string())
            .collect()
    });
    if patterns.is_empty() {
        return Err(invalid(key("link_patterns"), "list at least one pattern"));
    }
    let link_patterns = patterns
        .iter()
        .enumerate()
        .map(|(j, p)| {
            Regex::new(p)
                .map_err(|e| invalid(format!("sources[{i}].link_patterns[{j}]"), e.to_string()))
        })
        .collect::<Result<_, _>>()?;
    let selectors = s
        .selectors
        .map(|raw| parse_selectors(&key("selectors"), raw))
        .transpose()?;
    let max_new_items = s.max_new_items.unwrap_or(DEFAULT_MAX_NEW_ITEMS);
    if max_new_items == 0 {
        return Err(invalid(
            key("max_new_items"),
            "must be at least 1 (it is how many new items one poll may push)",
        ));
    }
    let max_age_days = s.max_age_days.unwrap_or(DEFAULT_MAX_AGE_DAYS);
    if max_age_days == 0 {
        return Err(invalid(key("max_age_days"), "must be at least 1"));
    }
    let alert_after_secs = s.alert_after_secs.unwrap_or(DEFAULT_ALERT_AFTER_SECS);
    if !(1..=7 * 24 * 3600).contains(&alert_after_secs) {
        return Err(invalid(
            key("alert_after_secs"),
            "must be between 1 and 604800 (a week)",
        ));
    }
    let time_zone = parse_zone(&key("time_zone"), s.time_zone.as_deref().unwrap_or("UTC"))?;
    let max_items = s.max_items.unwrap_or(DEFAULT_MAX_ITEMS);
    if !(1..=MAX_MAX_ITEMS).contains(&max_items) {
        return Err(invalid(
            key("max_items"),
            format!("must be between 1 and {MAX_MAX_ITEMS}"),
        ));
    }
    let tracking_params = s.tracking_params.unwrap_or_default();
    for (j, param) in tracking_params.iter().enumerate() {
        let name = param.strip_suffix('*').unwrap_or(param);
        if name.is_empty()
            || name.len() > 64
            || name
                .chars()
                .any(|c| c.is_whitespace() || matches!(c, '&' | '=' | '#' | '*' | '?'))
        {
            return Err(invalid(
                format!("sources[{i}].tracking_params[{j}]"),
                format!(
                    "`{param}` must be a query parameter name (at most 64 characters, no spaces or & = # ?), optionally ending in * for a prefix"
                ),
            ));
        }
    }
    Ok(SourceConfig {
        name,
        url,
        kind: s.kind.unwrap_or(SourceKind::Html),
        interval: Duration::from_secs(interval_secs),
        user_agent,
        timeout: Duration::from_secs(timeout_secs),
        connect_timeout: Duration::from_secs(connect_timeout_secs),
        max_bytes,
        link_patterns,
        selectors,
        max_new_items,
        max_age_days,
        alert_after: Duration::from_secs(alert_after_secs),
        time_zone,
        max_items,
        tracking_params,
    })
}

fn parse_selectors(key: &str, raw: RawSelectors) -> Result<Selectors, ConfigError> {
    let one = |field: &str, text: &str| {
        let text = text.trim();
        if text.is_empty() {
            return Err(invalid(format!("{key}.{field}"), "must not be empty"));
        }
        Selector::parse(text).map_err(|e| {
            invalid(
                format!("{key}.{field}"),
                format!("`{text}` is not a CSS selector: {e}"),
            )
        })
    };
    let optional = |field: &str, text: Option<String>| text.map(|t| one(field, &t)).transpose();
    Ok(Selectors {
        item: one("item", &raw.item)?,
        link: optional("link", raw.link)?,
        title: optional("title", raw.title)?,
        date: optional("date", raw.date)?,
        lead: optional("lead", raw.lead)?,
    })
}

fn validate_token(token: &str) -> Result<(), ConfigError> {
    // Telegram tokens look like `123456:ABC-def_...`; catching typos here beats a 401 later.
    let ok = token.split_once(':').is_some_and(|(id, secret)| {
        !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_digit())
            && !secret.is_empty()
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    });
    if ok {
        Ok(())
    } else {
        // Never echo the token itself: it is a secret.
        Err(invalid(
            "telegram.token",
            format!(
                "the token (from {TOKEN_ENV} or the file) is not of the form <digits>:<letters> given by @BotFather"
            ),
        ))
    }
}

fn parse_http_url(key: &str, text: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(text.trim()).map_err(|e| {
        // Echoed only when nothing in it can be a credential or a key.
        let shown = if text.contains(['@', '?', '#']) {
            String::new()
        } else {
            format!("`{text}` ")
        };
        invalid(key, format!("{shown}is not a URL: {e}"))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid(
            key,
            format!(
                "`{}` must be an http:// or https:// URL",
                crate::redact::Redacted(&url)
            ),
        ));
    }
    Ok(url)
}

/// A TOML error as "line L, column C, at `key`: what is wrong" — without the
/// excerpt of the file that toml's own message adds, since that line may hold
/// the token or a URL with credentials. For the same reason, text the message
/// quotes from a value (serde's `invalid type: string "…"`) is masked; key
/// names, which are no secret, stay.
fn toml_error(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim().replace('\n', "; ");
    let Some(span) = error.span() else {
        return message;
    };
    let start = span.start.min(text.len());
    let before = text.get(..start).unwrap_or_default();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |i| line_start + i);
    let line = &text[line_start..line_end];
    let number = before.matches('\n').count() + 1;
    let column = before[line_start..].chars().count() + 1;
    let header = line.trim_start().starts_with('[');
    let in_key = header || line.find('=').is_some_and(|eq| start - line_start < eq);
    let message = if in_key {
        message
    } else {
        mask_quoted(&message, text.get(span).unwrap_or(line))
    };
    // `token = 123:ABC` fails as a malformed time, which says little.
    let bare = line
        .split_once('=')
        .map(|(_, v)| v.trim())
        .is_some_and(|v| {
            !v.starts_with(['"', '\'', '[', '{'])
                && v.parse::<f64>().is_err()
                && !matches!(v, "true" | "false")
        });
    let hint = if bare && !in_key {
        " (if this is text, put it in quotes)"
    } else {
        ""
    };
    let key = key_at(&text[..line_end], line)
        .map(|key| format!(", at `{key}`"))
        .unwrap_or_default();
    format!("line {number}, column {column}{key}: {message}{hint}")
}

/// `message` with each `quoted` or "quoted" part that occurs in `value` masked.
fn mask_quoted(message: &str, value: &str) -> String {
    let mut out = message.to_string();
    for quote in ['`', '"'] {
        out = out
            .split(quote)
            .enumerate()
            .map(|(i, part)| {
                if i % 2 == 1 && !part.is_empty() && value.contains(part) {
                    "…"
                } else {
                    part
                }
            })
            .collect::<Vec<_>>()
            .join(&quote.to_string());
    }
    out
}

/// The dotted key that `line` (the last line of `upto`) sets, as errors name
/// keys (`sources[1].url`), or the table it opens; `None` when the line has
/// no plain key (a quoted key, or a line inside a multi-line value).
fn key_at(upto: &str, line: &str) -> Option<String> {
    let mut arrays: std::collections::HashMap<String, usize> = Default::default();
    let mut table = String::new();
    for l in upto.lines() {
        let l = l.trim();
        let (name, array) = match l.strip_prefix("[[") {
            Some(rest) => (rest.split("]]").next()?, true),
            None => match l.strip_prefix('[') {
                Some(rest) => (rest.split(']').next()?, false),
                None => continue,
            },
        };
        let name = name.split('.').map(str::trim).collect::<Vec<_>>().join(".");
        if array {
            *arrays.entry(name.clone()).or_default() += 1;
        }
        // `[sources.selectors]` belongs to the latest `[[sources]]`.
        table = name.clone();
        if let Some((prefix, n)) = arrays
            .iter()
            .filter(|(p, _)| name == **p || name.starts_with(&format!("{p}.")))
            .max_by_key(|(p, _)| p.len())
        {
            table = format!("{prefix}[{}]{}", n - 1, &name[prefix.len()..]);
        }
    }
    let line = line.trim();
    if line.starts_with('[') {
        return Some(table);
    }
    let key = line.split_once('=')?.0.trim();
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ' ');
    if key.is_empty() || !key.chars().all(plain) {
        return None;
    }
    let key = key.split('.').map(str::trim).collect::<Vec<_>>().join(".");
    Some(if table.is_empty() {
        key
    } else {
        format!("{table}.{key}")
    })
}

fn parse_zone(key: &str, name: &str) -> Result<Tz, ConfigError> {
    name.trim().parse::<Tz>().map_err(|_| {
        invalid(
            key,
            format!("`{name}` is not an IANA time zone (for example Europe/Moscow)"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_errors_name_line_and_key_but_never_echo_a_value() {
        // (file, what the error says, what it must not show)
        let cases = [
            (
                "admin_chats = [1]\n[telegram]\ntoken = 123456:AAEsecretTOKEN\n",
                "line 3, column 9, at `telegram.token`: invalid time, expected minute (if this is text, put it in quotes)",
                "secretTOKEN",
            ),
            (
                "[telegram]\ntoken = 123456\n",
                "at `telegram.token`: invalid type: integer `…`, expected a string",
                "123456",
            ),
            (
                "[telegram]\ntoken = \"123:unterminated\n",
                "line 2",
                "unterminated",
            ),
            (
                "[[sources]]\nurl = \"https://a.example/\"\n[[sources]]\nurl = \"https://b.example/\"\nkind = \"https://u:hunter2@x/\"\n",
                "line 5, column 8, at `sources[1].kind`: unknown variant `…`, expected one of",
                "hunter2",
            ),
            (
                "[[sources]]\nurl = \"https://a.example/\"\n[sources.selectors]\nitme = \"a\"\n",
                "at `sources[0].selectors.itme`: unknown field `itme`",
                "\"a\"",
            ),
            (
                "[telegram]\ntokne = \"1:A\"\n",
                "unknown field `tokne`, expected one of `token`",
                "1:A",
            ),
            (
                "[[sources]]\nname = 'a'\n",
                "line 1, column 1, at `sources[0]`: missing field `url`",
                "'a'",
            ),
            (
                "admin_chats = [\n  1,\n  \"secretvalue\",\n]\n",
                "line 3, column 3: invalid type: string \"…\", expected i64",
                "secretvalue",
            ),
        ];
        for (text, says, hides) in cases {
            let err = Config::from_toml(text).unwrap_err().to_string();
            assert!(err.contains(says), "{text:?} gave {err}");
            assert!(!err.contains(hides), "{text:?} gave {err}");
        }
    }

    #[test]
    fn url_errors_show_no_credentials() {
        for (url, says) in [
            (
                "ftp://user:hunter2@example.org/?token=abc",
                "`ftp://***@example.org/?token=***` must be an http:// or https:// URL",
            ),
            (
                "https://user:hunter2@[bad/",
                "sources[0].url`: is not a URL",
            ),
            ("not a url", "`not a url` is not a URL"),
        ] {
            let text = format!("[[sources]]\nurl = \"{url}\"\n");
            let err = Config::from_toml(&text).unwrap_err().to_string();
            assert!(err.contains(says), "{url} gave {err}");
            assert!(!err.contains("hunter2") && !err.contains("abc"), "{err}");
        }
    }
}
