//! The embassy: what the bot watches and shows when the file says nothing.

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
pub(super) const DEFAULT_USER_AGENT: &str = concat!("embassy-bot/", env!("CARGO_PKG_VERSION"));
pub(super) const SALISBURY: &str = "{days} days have passed since the Salisbury incident - no credible information or response from the British authorities";
pub(super) const GLUSHKOV: &str = "{days} days have passed since the death of Nikolay Glushkov on British soil - no credible information or response from the British authorities";
