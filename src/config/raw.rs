//! The configuration file's shape, as serde reads it: every key optional,
//! unknown keys refused. [`super::validate`] turns it into a [`super::Config`].

use std::path::PathBuf;

use serde::Deserialize;

use super::SourceKind;
use super::defaults::BuiltinSource;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) data_dir: Option<PathBuf>,
    pub(super) admin_chats: Option<Vec<i64>>,
    pub(super) admin_users: Option<Vec<i64>>,
    pub(super) groups: Option<RawGroups>,
    pub(super) commands: Option<RawCommands>,
    pub(super) site_name: Option<String>,
    pub(super) telegram: Option<RawTelegram>,
    pub(super) sources: Option<Vec<RawSource>>,
    pub(super) time: Option<RawTime>,
    pub(super) counters: Option<Vec<RawCounter>>,
    pub(super) contact: Option<RawContact>,
    pub(super) http: Option<RawHttp>,
    pub(super) store: Option<RawStore>,
    pub(super) edits: Option<RawEdits>,
    pub(super) full_text: Option<RawFullText>,
}

/// `[edits]`: editing sent messages of revised releases.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEdits {
    pub(super) enabled: Option<bool>,
    pub(super) window_hours: Option<u32>,
}

/// `[full_text]`: reading releases' own pages.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFullText {
    pub(super) enabled: Option<bool>,
    pub(super) max_body_bytes: Option<usize>,
    pub(super) delay_secs: Option<u64>,
    pub(super) max_attempts: Option<u32>,
    pub(super) backlog: Option<usize>,
}

/// `[store]`: how the database uses memory.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStore {
    pub(super) cache_mb: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCommands {
    pub(super) per_user_per_minute: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGroups {
    pub(super) who_can_subscribe: Option<super::WhoCanSubscribe>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTelegram {
    pub(super) token: Option<String>,
    pub(super) api_url: Option<String>,
    pub(super) long_poll_secs: Option<u64>,
    pub(super) throttle: Option<bool>,
    pub(super) messages_per_sec: Option<f64>,
    pub(super) send_concurrency: Option<usize>,
    pub(super) allow_paid_broadcast: Option<bool>,
    pub(super) webhook_url: Option<String>,
    pub(super) link_preview: Option<RawLinkPreview>,
}

/// `[telegram.link_preview]`: one key per kind of message.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLinkPreview {
    pub(super) push: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHttp {
    pub(super) listen: Option<String>,
    pub(super) public_url: Option<String>,
    pub(super) feed_entries: Option<usize>,
    pub(super) telegram_silence_secs: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSource {
    pub(super) name: Option<String>,
    pub(super) url: String,
    pub(super) kind: Option<SourceKind>,
    pub(super) interval_secs: Option<u64>,
    pub(super) user_agent: Option<String>,
    pub(super) timeout_secs: Option<u64>,
    pub(super) connect_timeout_secs: Option<u64>,
    pub(super) max_bytes: Option<usize>,
    pub(super) link_patterns: Option<Vec<String>>,
    pub(super) selectors: Option<RawSelectors>,
    pub(super) body_selector: Option<String>,
    pub(super) max_new_items: Option<usize>,
    pub(super) max_age_days: Option<u32>,
    pub(super) alert_after_secs: Option<u64>,
    pub(super) time_zone: Option<String>,
    pub(super) max_items: Option<usize>,
    pub(super) tracking_params: Option<Vec<String>>,
    pub(super) link_hosts: Option<Vec<String>>,
    pub(super) label: Option<String>,
    pub(super) archive: Option<String>,
    pub(super) archive_page_size: Option<u32>,
    pub(super) keep_items: Option<usize>,
    pub(super) keep_seen_ids: Option<usize>,
}

impl RawSource {
    pub(super) fn builtin(source: &BuiltinSource) -> RawSource {
        RawSource {
            name: Some(source.name.into()),
            url: source.url.into(),
            kind: None,
            interval_secs: None,
            user_agent: None,
            timeout_secs: None,
            connect_timeout_secs: None,
            max_bytes: None,
            link_patterns: None,
            selectors: None,
            body_selector: None,
            max_new_items: None,
            max_age_days: None,
            alert_after_secs: None,
            // The embassy dates its pages in Moscow.
            time_zone: Some("Europe/Moscow".into()),
            max_items: None,
            tracking_params: None,
            link_hosts: None,
            label: Some(source.label.into()),
            archive: source.archive.map(str::to_string),
            archive_page_size: None,
            keep_items: None,
            keep_seen_ids: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSelectors {
    pub(super) item: String,
    pub(super) link: Option<String>,
    pub(super) title: Option<String>,
    pub(super) date: Option<String>,
    pub(super) lead: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTime {
    pub(super) date_zone: Option<String>,
    pub(super) clocks: Option<Vec<RawClock>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawClock {
    pub(super) label: RawText,
    pub(super) zone: String,
}

/// Words for people: one string for every language, or a table by language
/// code (checked in [`super::validate`]).
#[derive(Debug, Deserialize)]
#[serde(
    untagged,
    expecting = "a string, or a table of strings by language such as { en = \"…\", ru = \"…\" }"
)]
pub(super) enum RawText {
    Plain(String),
    ByLanguage(std::collections::BTreeMap<String, String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCounter {
    pub(super) text: RawText,
    pub(super) since: String,
    pub(super) zone: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawContact {
    pub(super) phone: Option<String>,
    pub(super) email: Option<String>,
}
