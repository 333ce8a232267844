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

/// One watched web page.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// Short name shown in logs.
    pub name: String,
    pub url: Url,
    pub interval: Duration,
    pub user_agent: String,
    /// Total time allowed for one fetch.
    pub timeout: Duration,
    /// Bodies larger than this are refused.
    pub max_bytes: usize,
    /// Regexes over a link's path that mark it as a release.
    pub link_patterns: Vec<Regex>,
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
    interval_secs: Option<u64>,
    user_agent: Option<String>,
    timeout_secs: Option<u64>,
    max_bytes: Option<usize>,
    link_patterns: Option<Vec<String>>,
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

/// The embassy's home page, watched when no source is configured.
pub const DEFAULT_SOURCE_URL: &str = "https://www.rusemb.org.uk/";
/// Release links on the embassy site: press releases, articles, ambassador's articles.
pub const DEFAULT_LINK_PATTERNS: &[&str] =
    &[r"^/fnapr/\d+$", r"^/article/\d+$", r"^/ambarticles/\d+$"];
const DEFAULT_INTERVAL_SECS: u64 = 300;
const DEFAULT_TIMEOUT_SECS: u64 = 30;
const DEFAULT_MAX_BYTES: usize = 4 * 1024 * 1024;
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
                    message: e.to_string().trim_end().to_string(),
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
            message: e.to_string().trim_end().to_string(),
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
            vec![RawSource {
                name: None,
                url: DEFAULT_SOURCE_URL.into(),
                interval_secs: None,
                user_agent: None,
                timeout_secs: None,
                max_bytes: None,
                link_patterns: None,
            }]
        });
        if raw_sources.is_empty() {
            return Err(invalid("sources", "list at least one source to watch"));
        }
        let mut sources = Vec::with_capacity(raw_sources.len());
        for (i, s) in raw_sources.into_iter().enumerate() {
            let source = source_from_raw(i, s)?;
            if sources.iter().any(|o: &SourceConfig| o.name == source.name) {
                return Err(invalid(
                    format!("sources[{i}].name"),
                    format!(
                        "`{}` is used by another source; names must be unique",
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

fn source_from_raw(i: usize, s: RawSource) -> Result<SourceConfig, ConfigError> {
    let key = |field: &str| format!("sources[{i}].{field}");
    let url = parse_http_url(&key("url"), &s.url)?;
    let name = s.name.unwrap_or_else(|| {
        url.host_str()
            .unwrap_or("source")
            .trim_start_matches("www.")
            .to_string()
    });
    if name.trim().is_empty() {
        return Err(invalid(key("name"), "must not be empty"));
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
    Ok(SourceConfig {
        name,
        url,
        interval: Duration::from_secs(interval_secs),
        user_agent,
        timeout: Duration::from_secs(timeout_secs),
        max_bytes,
        link_patterns,
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
    let url =
        Url::parse(text.trim()).map_err(|e| invalid(key, format!("`{text}` is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid(
            key,
            format!("`{text}` must be an http:// or https:// URL"),
        ));
    }
    Ok(url)
}

fn parse_zone(key: &str, name: &str) -> Result<Tz, ConfigError> {
    name.trim().parse::<Tz>().map_err(|_| {
        invalid(
            key,
            format!("`{name}` is not an IANA time zone (for example Europe/Moscow)"),
        )
    })
}
