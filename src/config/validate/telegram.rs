//! `[telegram]`: the token, where the Bot API is, how fast to send, and
//! whether updates come by long polling or a webhook.

use std::time::Duration;

use url::Url;

use super::values::parse_http_url;
use crate::config::defaults::{
    DEFAULT_LONG_POLL_SECS, DEFAULT_MESSAGES_PER_SEC, DEFAULT_SEND_CONCURRENCY,
    FREE_MESSAGES_PER_SEC, MAX_PAID_MESSAGES_PER_SEC,
};
use crate::config::raw::RawTelegram;
use crate::config::{API_URL_ENV, ConfigError, LinkPreviews, TOKEN_ENV, TelegramConfig, invalid};

/// `[telegram]` checked, with the environment's token and API URL winning
/// over the file's.
pub(super) fn telegram_from_raw(
    telegram: RawTelegram,
    env_token: Option<String>,
    env_api_url: Option<String>,
) -> Result<TelegramConfig, ConfigError> {
    let token = env_token.or(telegram.token.filter(|t| !t.trim().is_empty()));
    if let Some(token) = &token {
        validate_token(token)?;
    }
    let api_url = api_url(env_api_url, telegram.api_url)?;
    let long_poll_secs = telegram.long_poll_secs.unwrap_or(DEFAULT_LONG_POLL_SECS);
    if long_poll_secs > 50 {
        return Err(invalid(
            "telegram.long_poll_secs",
            "must be at most 50 (Telegram closes longer polls)",
        ));
    }
    let allow_paid_broadcast = telegram.allow_paid_broadcast.unwrap_or(false);
    let messages_per_sec = messages_per_sec(telegram.messages_per_sec, allow_paid_broadcast)?;
    let send_concurrency = telegram
        .send_concurrency
        .unwrap_or(DEFAULT_SEND_CONCURRENCY);
    if !(1..=1_024).contains(&send_concurrency) {
        return Err(invalid(
            "telegram.send_concurrency",
            "must be between 1 and 1024",
        ));
    }
    let webhook_url = telegram
        .webhook_url
        .filter(|u| !u.trim().is_empty())
        .map(|u| parse_webhook_url(&u))
        .transpose()?;
    let link_preview = telegram.link_preview.unwrap_or_default();
    Ok(TelegramConfig {
        token,
        api_url,
        long_poll: Duration::from_secs(long_poll_secs),
        throttle: telegram.throttle.unwrap_or(true),
        messages_per_sec,
        send_concurrency,
        allow_paid_broadcast,
        webhook_url,
        link_preview: LinkPreviews {
            push: link_preview.push.unwrap_or(true),
        },
    })
}

/// The Bot API server, if not Telegram's own; an error names where the URL
/// came from (the environment or the file).
fn api_url(
    from_env: Option<String>,
    from_file: Option<String>,
) -> Result<Option<Url>, ConfigError> {
    let key = if from_env.is_some() {
        API_URL_ENV
    } else {
        "telegram.api_url"
    };
    from_env
        .or(from_file)
        .map(|u| parse_http_url(key, &u))
        .transpose()
}

/// The global send rate: within what Telegram allows at all, and beyond its
/// free rate only when paid broadcasts were allowed (they cost Stars).
fn messages_per_sec(given: Option<f64>, allow_paid_broadcast: bool) -> Result<f64, ConfigError> {
    let messages_per_sec = given.unwrap_or(DEFAULT_MESSAGES_PER_SEC);
    if !(messages_per_sec > 0.0 && messages_per_sec <= MAX_PAID_MESSAGES_PER_SEC) {
        return Err(invalid(
            "telegram.messages_per_sec",
            "must be above 0 and at most 1000 (Telegram allows about 30, up to 1000 with allow_paid_broadcast)",
        ));
    }
    if messages_per_sec > FREE_MESSAGES_PER_SEC && !allow_paid_broadcast {
        return Err(invalid(
            "telegram.messages_per_sec",
            format!(
                "{messages_per_sec} is more than Telegram's free {FREE_MESSAGES_PER_SEC} a second: set telegram.allow_paid_broadcast = true (paid in Telegram Stars) or lower it"
            ),
        ));
    }
    Ok(messages_per_sec)
}

/// Telegram tokens look like `123456:ABC-def_...`; catching typos here beats
/// a 401 later.
fn validate_token(token: &str) -> Result<(), ConfigError> {
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

/// Paths the HTTP server answers itself; a webhook path may not take one.
const SERVER_PATHS: &[&str] = &[
    "/healthz",
    "/readyz",
    "/metrics",
    "/feed.atom",
    "/feed.json",
];

/// Telegram's webhook rules: HTTPS, on port 443, 80, 88 or 8443; no query or
/// fragment (the path alone routes the request on our server).
fn parse_webhook_url(text: &str) -> Result<Url, ConfigError> {
    const KEY: &str = "telegram.webhook_url";
    let url = parse_http_url(KEY, text)?;
    if url.scheme() != "https" {
        return Err(invalid(
            KEY,
            "must be an https:// URL (Telegram posts only over HTTPS)",
        ));
    }
    let port = url.port_or_known_default().unwrap_or(443);
    if ![443, 80, 88, 8443].contains(&port) {
        return Err(invalid(
            KEY,
            format!("port {port}: Telegram posts only to ports 443, 80, 88 and 8443"),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(invalid(
            KEY,
            "must have no query, fragment or user info (the secret goes in a header)",
        ));
    }
    let path = url.path();
    if path == "/" || SERVER_PATHS.contains(&path) || path.starts_with("/feed/") {
        return Err(invalid(
            KEY,
            format!(
                "its path `{path}` is where updates arrive on the bot's HTTP server: pick one of its own, such as /telegram"
            ),
        ));
    }
    Ok(url)
}
