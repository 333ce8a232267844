//! The embassy: what the bot watches and shows when the file says nothing.

/// The embassy's home page, watched (with its two lists) when no source is configured.
pub(crate) const DEFAULT_SOURCE_URL: &str = "https://www.rusemb.org.uk/";
/// What `/start` calls the site when no source is configured.
pub(crate) const DEFAULT_SITE_NAME: &str = "the Embassy of the Russian Federation in the UK";

/// One of the sources watched when none is configured.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BuiltinSource {
    pub name: &'static str,
    pub url: &'static str,
    /// How pushes and `/start` name it.
    pub label: &'static str,
    /// Its older list pages (`sources[].archive`), for `backfill`.
    pub archive: Option<&'static str>,
}

/// The built-in sources: the home page, the press archive and "Embassy informs".
/// The lists' odd paths (a literal `&` right after the path, no `?`) are the
/// site's own; their pages go on at `start` = 11, 21, … (`sources[].archive`).
pub(crate) const DEFAULT_SOURCES: &[BuiltinSource] = &[
    BuiltinSource {
        name: "home",
        url: DEFAULT_SOURCE_URL,
        label: "Home page",
        archive: None,
    },
    BuiltinSource {
        name: "press",
        url: "https://www.rusemb.org.uk/apress_arh/&start=1&ps=10&ppp=15",
        label: "Press releases",
        archive: Some("https://www.rusemb.org.uk/apress_arh/&start={start}&ps=10&ppp=15"),
    },
    BuiltinSource {
        name: "informs",
        url: "https://www.rusemb.org.uk/newarh/&start=1&ps=10&ppp=15",
        label: "Embassy informs",
        archive: Some("https://www.rusemb.org.uk/newarh/&start={start}&ps=10&ppp=15"),
    },
];
/// Release links on the embassy site: press releases, articles, ambassador's articles.
pub(crate) const DEFAULT_LINK_PATTERNS: &[&str] =
    &[r"^/fnapr/\d+$", r"^/article/\d+$", r"^/ambarticles/\d+$"];
pub(super) const DEFAULT_INTERVAL_SECS: u64 = 300;
pub(super) const DEFAULT_TIMEOUT_SECS: u64 = 30;
pub(super) const DEFAULT_CONNECT_TIMEOUT_SECS: u64 = 10;
pub(super) const DEFAULT_MAX_NEW_ITEMS: usize = 8;
pub(super) const DEFAULT_MAX_AGE_DAYS: u32 = 14;
pub(super) const DEFAULT_ALERT_AFTER_SECS: u64 = 900;
pub(super) const DEFAULT_MAX_BYTES: usize = 4 * 1024 * 1024;
pub(super) const DEFAULT_MAX_ITEMS: usize = 500;
pub(super) const MAX_MAX_ITEMS: usize = 10_000;
pub(super) const MAX_KEEP_ITEMS: usize = 1_000_000;
pub(super) const MAX_KEEP_SEEN_IDS: usize = 10_000_000;
pub(super) const DEFAULT_LONG_POLL_SECS: u64 = 10;
pub(super) const DEFAULT_MESSAGES_PER_SEC: f64 = 30.0;
pub(super) const DEFAULT_SEND_CONCURRENCY: usize = 32;
/// Telegram's free broadcast rate; more needs `allow_paid_broadcast`.
pub(super) const FREE_MESSAGES_PER_SEC: f64 = 30.0;
/// What Telegram allows with `allow_paid_broadcast`.
pub(super) const MAX_PAID_MESSAGES_PER_SEC: f64 = 1_000.0;
pub(super) const DEFAULT_FEED_ENTRIES: usize = 50;
pub(super) const MAX_FEED_ENTRIES: usize = 500;
pub(super) const DEFAULT_TELEGRAM_SILENCE_SECS: u64 = 300;
/// sled's page cache (`store.cache_mb`), measured under a hostile site's churn
/// in BENCHMARKS.md ("Hostile reads"): 4, 16 and 64 MiB peak alike (about
/// 52 MiB), and 16 keeps the releases of a large store in memory.
pub(super) const DEFAULT_STORE_CACHE_MB: u64 = 16;
/// The most text one release's body keeps (`full_text.max_body_bytes`): far
/// more than any statement the embassy publishes (a few KB).
pub(super) const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;
/// The most `full_text.max_body_bytes` may be: a body lives in the search index.
pub(super) const MAX_MAX_BODY_BYTES: usize = 1024 * 1024;
/// The least time between two release-page reads of one source: a person
/// reading the site clicks no faster.
pub(super) const DEFAULT_FULL_TEXT_DELAY_SECS: u64 = 5;
/// Failed reads of one release page before it is given up.
pub(super) const DEFAULT_FULL_TEXT_ATTEMPTS: u32 = 4;
/// The newest releases looked at for a missing body.
pub(super) const DEFAULT_FULL_TEXT_BACKLOG: usize = 50;
/// The most of them `full_text.backlog` may ask for.
pub(super) const MAX_FULL_TEXT_BACKLOG: usize = 1_000;
/// The most `store.cache_mb` may ask for: sled's own default, 1 GiB, which is
/// far more than our working set and than the small hosts the bot runs on.
pub(super) const MAX_STORE_CACHE_MB: u64 = 1024;
/// Hours message ids are kept for edits: the site's corrections come within
/// a day or two; the cost is measured in BENCHMARKS.md ("Edits").
pub(super) const DEFAULT_EDIT_WINDOW_HOURS: u32 = 48;
/// At most a month of message ids (`edits.window_hours`).
pub(super) const MAX_EDIT_WINDOW_HOURS: u32 = 720;
/// Longest `site_name` and `sources[].label`: they head messages.
pub(super) const MAX_DISPLAY_NAME: usize = 100;
pub(super) const DEFAULT_USER_AGENT: &str = concat!("embassy-bot/", env!("CARGO_PKG_VERSION"));
pub(super) const SALISBURY: &str = "{days} days have passed since the Salisbury incident - no credible information or response from the British authorities";
pub(super) const SALISBURY_RU: &str = "{days} {days_word} с момента инцидента в Солсбери — ни достоверной информации, ни ответа от британских властей";
pub(super) const GLUSHKOV: &str = "{days} days have passed since the death of Nikolay Glushkov on British soil - no credible information or response from the British authorities";
pub(super) const GLUSHKOV_RU: &str = "{days} {days_word} со дня гибели Николая Глушкова на британской земле — ни достоверной информации, ни ответа от британских властей";
/// The default clocks' labels: English, then Russian.
pub(super) const MOSCOW: (&str, &str) = ("Moscow", "Москва");
pub(super) const LONDON: (&str, &str) = ("London", "Лондон");

/// Commands one user may send per minute, over all chats.
pub(super) const DEFAULT_COMMANDS_PER_USER_PER_MINUTE: u32 = 20;
