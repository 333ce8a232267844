//! Configuration: a TOML file (optional) plus environment overrides.
//!
//! Everything that ties the engine to one web site — sources, clocks, counters,
//! the fallback contact — lives here, so the same binary can watch another site.
//! [`Config::default`] is the embassy, so the bot runs with no file at all.

mod archive;
mod defaults;
mod language;
mod limits;
mod raw;
pub(crate) mod redact;
mod toml_error;
mod validate;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;
use chrono_tz::Tz;
use regex::Regex;
use scraper::Selector;
use serde::Deserialize;
use url::Url;

use raw::RawConfig;
use toml_error::toml_error;

pub(crate) use archive::{ArchiveTemplate, DEFAULT_ARCHIVE_PAGE_SIZE};
pub use language::Language;
pub use limits::{RateLimits, Retention};
#[cfg(test)]
pub(crate) use validate::MAX_SOURCE_NAME;
pub(crate) use validate::is_valid_source_name;

/// Environment variable holding the bot token; wins over the file so secrets
/// need not be written to disk.
pub(crate) const TOKEN_ENV: &str = "TELOXIDE_TOKEN";
/// Environment variable naming the Bot API server (self-hosted, or a test fake).
pub(crate) const API_URL_ENV: &str = "TELOXIDE_API_URL";
/// Environment variable overriding `data_dir` (the Docker image points it at its volume).
pub(crate) const DATA_DIR_ENV: &str = "EMBASSY_BOT_DATA_DIR";
/// Environment variable overriding `http.listen` (the Docker image turns the
/// HTTP server on with it, so its health check works with any config file).
pub(crate) const HTTP_LISTEN_ENV: &str = "EMBASSY_BOT_HTTP_LISTEN";

/// Values from the environment that win over the file.
#[derive(Debug, Default)]
struct EnvOverrides {
    token: Option<String>,
    api_url: Option<String>,
    data_dir: Option<PathBuf>,
    http_listen: Option<String>,
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
    /// Operators: the user ids of `admin_users` and `admin_chats` together.
    /// They may use `/status`, see sources' errors, and get alerts in their
    /// private chats with the bot. People, never groups: a group's members
    /// are not all operators.
    pub operators: Vec<i64>,
    /// Who may change a group's subscription.
    pub groups: GroupsConfig,
    /// How many commands a user may send per minute, over all chats
    /// (`commands.per_user_per_minute`); the rest go unanswered.
    pub commands_per_user_per_minute: u32,
    /// What `/start` calls the watched site, once ("the Embassy of the Russian
    /// Federation in the UK"); by default the sources' hosts when they are configured.
    pub site_name: String,
    pub telegram: TelegramConfig,
    pub sources: Vec<SourceConfig>,
    pub time: TimeConfig,
    pub counters: Vec<CounterConfig>,
    pub contact: ContactConfig,
    pub http: HttpConfig,
    pub store: StoreConfig,
    /// Editing messages already sent when a release is revised (`[edits]`).
    pub edits: EditsConfig,
    /// Reading each release's own page for its full text (`[full_text]`).
    pub full_text: FullTextConfig,
}

/// Edits of messages already sent when a release is revised (`[edits]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EditsConfig {
    /// Whether revised releases' messages are edited (`edits.enabled`).
    pub enabled: bool,
    /// How long the ids of sent messages are kept, in hours
    /// (`edits.window_hours`): a release revised later is not edited.
    pub window_hours: u32,
}

impl EditsConfig {
    /// How long message ids are kept; `None` when edits are off.
    pub fn window(&self) -> Option<std::time::Duration> {
        self.enabled
            .then(|| std::time::Duration::from_secs(u64::from(self.window_hours) * 3_600))
    }
}

impl Default for EditsConfig {
    fn default() -> Self {
        EditsConfig {
            enabled: true,
            window_hours: defaults::DEFAULT_EDIT_WINDOW_HOURS,
        }
    }
}

/// Reading releases' own pages (`[full_text]`): one read per release (and
/// one per change of its title or lead), in the background, never before a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FullTextConfig {
    /// `full_text.enabled`: off, no release page is read and nothing offers a full text.
    pub enabled: bool,
    /// `full_text.max_body_bytes`: the most text of one body kept (bytes of UTF-8).
    pub max_body_bytes: usize,
    /// `full_text.delay_secs`: the least time between two page reads of one source.
    pub delay: Duration,
    /// `full_text.max_attempts`: reads of one page that failed before it is given up.
    pub max_attempts: u32,
    /// `full_text.backlog`: how many of the newest releases are looked at for a
    /// missing body (older ones are never read).
    pub backlog: usize,
}

impl Default for FullTextConfig {
    fn default() -> Self {
        FullTextConfig {
            enabled: true,
            max_body_bytes: defaults::DEFAULT_MAX_BODY_BYTES,
            delay: Duration::from_secs(defaults::DEFAULT_FULL_TEXT_DELAY_SECS),
            max_attempts: defaults::DEFAULT_FULL_TEXT_ATTEMPTS,
            backlog: defaults::DEFAULT_FULL_TEXT_BACKLOG,
        }
    }
}

/// How the database may use memory (`[store]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreConfig {
    /// sled's page cache, in MiB (`store.cache_mb`): a soft bound on the
    /// pages sled keeps decoded in memory, most of the store's memory under
    /// churn.
    pub cache_mb: u64,
}

impl Default for StoreConfig {
    /// The measured default, for callers with no configuration (tests, tools).
    fn default() -> Self {
        StoreConfig {
            cache_mb: defaults::DEFAULT_STORE_CACHE_MB,
        }
    }
}

/// The embedded HTTP server: health, metrics, feeds and the webhook. Off
/// unless `listen` is set.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Where to listen (`None`: no server).
    pub listen: Option<std::net::SocketAddr>,
    /// The server's public address (behind a reverse proxy): feeds name
    /// themselves by it (`rel="self"` link and feed id).
    pub public_url: Option<Url>,
    /// How many releases a feed shows, newest first.
    pub feed_entries: usize,
    /// `/healthz` reports Telegram as unreachable once it has answered
    /// nothing for this long.
    pub telegram_silence: Duration,
}

/// Who may change what a group or supergroup gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WhoCanSubscribe {
    /// The group's creator and administrators (anonymous ones included).
    Admins,
    /// Every member.
    Anyone,
}

impl std::fmt::Display for WhoCanSubscribe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WhoCanSubscribe::Admins => "admins",
            WhoCanSubscribe::Anyone => "anyone",
        })
    }
}

/// How the bot behaves in groups and supergroups (`[groups]`).
#[derive(Debug, Clone)]
pub struct GroupsConfig {
    /// Who may `/subscribe` and `/unsubscribe` a group (`groups.who_can_subscribe`).
    pub who_can_subscribe: WhoCanSubscribe,
}

impl Config {
    /// Whether `user` is one of the bot's operators.
    pub fn is_operator(&self, user: i64) -> bool {
        self.operators.contains(&user)
    }
}

/// Telegram's own Bot API server: where `telegram.api_url` points when unset.
pub(crate) const TELEGRAM_API: &str = "https://api.telegram.org";

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
    /// Pushes are sent with `allow_paid_broadcast`: beyond the free ~30/s,
    /// up to 1,000/s, paid in Telegram Stars per message.
    pub allow_paid_broadcast: bool,
    /// Telegram posts updates here (webhook mode) instead of the bot long-polling.
    pub webhook_url: Option<Url>,
    /// Which kinds of message show a preview card of their link.
    pub link_preview: LinkPreviews,
}

/// Whether Telegram shows a preview card under a message's first link, per
/// kind of message (`[telegram.link_preview]`, a key per kind). A push is one
/// release, so its card is the release's page; a message listing many
/// releases would preview only the first, so lists go without.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkPreviews {
    /// A push of one release (`link_preview.push`, default on).
    pub push: bool,
}

impl TelegramConfig {
    /// The limits every send respects; `None` when throttling is off.
    pub fn rate_limits(&self) -> Option<RateLimits> {
        self.throttle
            .then(|| RateLimits::telegram(self.messages_per_sec))
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
            .field("allow_paid_broadcast", &self.allow_paid_broadcast)
            .field("webhook_url", &self.webhook_url)
            .field("link_preview", &self.link_preview)
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
    /// How pushes and `/start` name the source for people ("Press releases").
    pub label: String,
    /// Its older list pages, page by page, for `backfill`.
    pub archive: Option<ArchiveTemplate>,
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
    /// Where a release's own page holds its body (`body_selector`); `None`:
    /// found as `source/body.rs` says.
    pub body_selector: Option<Selector>,
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
    /// Hosts besides the source's own site (its host, with or without `www.`
    /// or `m.`) that its releases may link to, each as a site host (lowercase,
    /// without `www.`/`m.`). A link anywhere else is dropped: a feed must not
    /// push third-party links or claim another site's releases.
    pub link_hosts: Vec<String>,
    /// How much of the source's history the store keeps (`keep_items`,
    /// `keep_seen_ids`): a site that rotates its ids cannot fill the disk.
    pub retention: Retention,
    /// Whether a revised release's sent messages are edited (`edits.enabled`,
    /// copied to each source, whose reads queue the edits).
    pub edit_revisions: bool,
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
    pub label: LocalizedText,
    pub zone: Tz,
}

/// One "N days have passed since ..." line.
#[derive(Debug, Clone)]
pub struct CounterConfig {
    /// Text with a `{days}` placeholder (the number) and optionally
    /// `{days_word}` (the word for "days" that agrees with it in the reader's
    /// language: 1 день, 2 дня, 5 дней).
    pub text: LocalizedText,
    pub since: NaiveDate,
    /// Zone whose calendar date counts (the site counts on Moscow's).
    pub zone: Tz,
}

/// Words the operator writes for people (a clock's label, a counter's
/// text): one text for every language, or one per language. In the file,
/// a plain string or a table such as `{ en = "Moscow", ru = "Москва" }`,
/// whose `en` is required and serves every language the table lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalizedText {
    /// For every language without its own (a table's `en`).
    pub plain: String,
    /// Per language, where the file gave one.
    pub by_language: Vec<(Language, String)>,
}

impl LocalizedText {
    /// The same words in every language.
    pub fn plain(text: impl Into<String>) -> LocalizedText {
        LocalizedText {
            plain: text.into(),
            by_language: Vec::new(),
        }
    }

    /// English words, with a translation.
    pub fn translated(en: &str, others: &[(Language, &str)]) -> LocalizedText {
        LocalizedText {
            plain: en.to_string(),
            by_language: others.iter().map(|(l, t)| (*l, t.to_string())).collect(),
        }
    }

    /// The words for `language`.
    pub fn get(&self, language: Language) -> &str {
        self.by_language
            .iter()
            .find(|(l, _)| *l == language)
            .map_or(self.plain.as_str(), |(_, t)| t.as_str())
    }

    /// Every text it holds, for checks that apply to all.
    pub fn all(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.plain.as_str()).chain(self.by_language.iter().map(|(_, t)| t.as_str()))
    }
}

/// As `check-config` shows it: `Moscow [ru: Москва]`.
impl std::fmt::Display for LocalizedText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.plain)?;
        for (language, text) in &self.by_language {
            write!(f, " [{}: {text}]", language.code())?;
        }
        Ok(())
    }
}

/// Contact shown by /contact when the live page has not been read.
#[derive(Debug, Clone)]
pub struct ContactConfig {
    pub phone: String,
    pub email: String,
}

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
            http_listen: var(HTTP_LISTEN_ENV),
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(toml: &str) -> String {
        Config::from_toml(toml).unwrap_err().to_string()
    }

    #[test]
    fn words_for_people_may_be_given_per_language() {
        let config = Config::from_toml(
            r#"
[time]
clocks = [{ label = { en = "Tokyo", ru = "Токио" }, zone = "Asia/Tokyo" }, { label = "UTC", zone = "UTC" }]

[[counters]]
text = { en = "{days} days", ru = "{days} {days_word}" }
since = "2020-01-01"
"#,
        )
        .unwrap();
        let tokyo = &config.time.clocks[0].label;
        assert_eq!(tokyo.get(Language::Ru), "Токио");
        assert_eq!(tokyo.get(Language::En), "Tokyo");
        assert_eq!(config.time.clocks[1].label.get(Language::Ru), "UTC");
        assert_eq!(tokyo.to_string(), "Tokyo [ru: Токио]");
        assert_eq!(
            config.counters[0].text.get(Language::Ru),
            "{days} {days_word}"
        );
    }

    #[test]
    fn a_bad_table_of_texts_is_named() {
        let bad_key = error(
            "[[counters]]\ntext = { en = \"{days}\", de = \"{days} Tage\" }\nsince = \"2020-01-01\"\n",
        );
        assert_eq!(
            bad_key,
            "config key `counters[0].text.de`: `de` is not a language the bot speaks; use one of: en, ru"
        );
        let no_en = error("[[counters]]\ntext = { ru = \"{days}\" }\nsince = \"2020-01-01\"\n");
        assert!(
            no_en.starts_with(
                "config key `counters[0].text`: a table of texts by language needs `en`"
            ),
            "{no_en}"
        );
        let placeholder = error(
            "[[counters]]\ntext = { en = \"{days} days\", ru = \"дни\" }\nsince = \"2020-01-01\"\n",
        );
        assert!(placeholder.contains("counters[0].text") && placeholder.contains("{days}"));
        let empty =
            error("[time]\nclocks = [{ label = { en = \"A\", ru = \" \" }, zone = \"UTC\" }]\n");
        assert!(empty.contains("time.clocks[0].label"), "{empty}");
        let wrong_type = error("[[counters]]\ntext = 5\nsince = \"2020-01-01\"\n");
        assert!(
            wrong_type.contains("a string, or a table of strings by language"),
            "{wrong_type}"
        );
    }
}
