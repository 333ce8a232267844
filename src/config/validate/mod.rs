//! From the file's shape to a validated [`Config`]: every default applied,
//! every value checked, each error naming its key.
//!
//! One file per section of the file: [`telegram`], [`http`], [`sources`],
//! [`site`] (what the bot says about the site: its name, clocks, counters,
//! contact) and [`access`] (operators, groups, the command budget); the
//! checks that several sections share are in [`values`]. Sections are
//! checked in the file's order, so a file with several mistakes always
//! reports the same one first.

mod access;
mod edits;
mod http;
mod site;
mod sources;
mod store;
mod telegram;
mod values;

use std::path::PathBuf;

use super::raw::RawConfig;
use super::{
    Config, ConfigError, EnvOverrides, HTTP_LISTEN_ENV, HttpConfig, TelegramConfig, invalid,
};

#[cfg(test)]
pub(crate) use sources::MAX_SOURCE_NAME;
pub(crate) use sources::is_valid_source_name;

impl Config {
    /// The configuration `raw` and `env` describe, or the first thing wrong
    /// with them. The environment wins over the file.
    pub(super) fn from_raw(raw: RawConfig, env: EnvOverrides) -> Result<Config, ConfigError> {
        let telegram =
            telegram::telegram_from_raw(raw.telegram.unwrap_or_default(), env.token, env.api_url)?;
        let http = http::http_from_raw(raw.http.unwrap_or_default(), env.http_listen)?;
        require_server_for_webhook(&telegram, &http)?;
        let builtin_sources = raw.sources.is_none();
        let mut sources = sources::sources_from_raw(raw.sources)?;
        let site_name = site::site_name(raw.site_name, builtin_sources, &sources)?;
        let time = site::time_from_raw(raw.time.unwrap_or_default())?;
        let counters = site::counters_from_raw(raw.counters)?;
        let contact = site::contact_from_raw(raw.contact.unwrap_or_default());
        let data_dir = data_dir(env.data_dir.or(raw.data_dir))?;
        let operators = access::operators(raw.admin_chats.as_deref(), raw.admin_users.as_deref())?;
        let groups = access::groups_from_raw(raw.groups);
        let commands_per_user_per_minute = access::commands_per_user_per_minute(raw.commands)?;
        let store = store::store_from_raw(raw.store.unwrap_or_default())?;
        let edits = edits::edits_from_raw(raw.edits.unwrap_or_default())?;
        for source in &mut sources {
            source.edit_revisions = edits.enabled;
        }
        let full_text = store::full_text_from_raw(raw.full_text.unwrap_or_default())?;
        Ok(Config {
            data_dir,
            operators,
            groups,
            commands_per_user_per_minute,
            site_name,
            telegram,
            sources,
            time,
            counters,
            contact,
            http,
            store,
            edits,
            full_text,
        })
    }
}

/// Webhook mode receives Telegram's updates on the HTTP server: a webhook
/// without a server would never hear a thing.
fn require_server_for_webhook(
    telegram: &TelegramConfig,
    http: &HttpConfig,
) -> Result<(), ConfigError> {
    if telegram.webhook_url.is_some() && http.listen.is_none() {
        return Err(invalid(
            "telegram.webhook_url",
            format!(
                "webhook mode needs the HTTP server, which receives Telegram's updates: set http.listen (or {HTTP_LISTEN_ENV})"
            ),
        ));
    }
    Ok(())
}

/// Where the store lives (`data_dir`, or the environment's): `data` by default.
fn data_dir(given: Option<PathBuf>) -> Result<PathBuf, ConfigError> {
    let data_dir = given.unwrap_or_else(|| PathBuf::from("data"));
    if data_dir.as_os_str().is_empty() {
        return Err(invalid("data_dir", "must not be empty"));
    }
    Ok(data_dir)
}
