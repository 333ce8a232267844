//! `[http]`: the embedded server's address, its public URL, and what its
//! feeds and health report.

use std::time::Duration;

use url::Url;

use super::values::parse_http_url;
use crate::config::defaults::{
    DEFAULT_FEED_ENTRIES, DEFAULT_TELEGRAM_SILENCE_SECS, MAX_FEED_ENTRIES,
};
use crate::config::raw::RawHttp;
use crate::config::{ConfigError, HTTP_LISTEN_ENV, HttpConfig, invalid};

/// `[http]` checked, with the environment's listen address winning over the file's.
pub(super) fn http_from_raw(
    raw: RawHttp,
    env_listen: Option<String>,
) -> Result<HttpConfig, ConfigError> {
    let listen = listen(env_listen, raw.listen)?;
    let public_url = raw
        .public_url
        .map(|u| parse_http_url("http.public_url", &u))
        .transpose()?
        .map(as_base);
    let feed_entries = raw.feed_entries.unwrap_or(DEFAULT_FEED_ENTRIES);
    if !(1..=MAX_FEED_ENTRIES).contains(&feed_entries) {
        return Err(invalid(
            "http.feed_entries",
            format!("must be between 1 and {MAX_FEED_ENTRIES}"),
        ));
    }
    let silence = raw
        .telegram_silence_secs
        .unwrap_or(DEFAULT_TELEGRAM_SILENCE_SECS);
    if !(30..=7 * 24 * 3600).contains(&silence) {
        return Err(invalid(
            "http.telegram_silence_secs",
            "must be between 30 and 604800 (a week)",
        ));
    }
    Ok(HttpConfig {
        listen,
        public_url,
        feed_entries,
        telegram_silence: Duration::from_secs(silence),
    })
}

/// Where the server listens (`None`: no server); an error names where the
/// address came from (the environment or the file).
fn listen(
    from_env: Option<String>,
    from_file: Option<String>,
) -> Result<Option<std::net::SocketAddr>, ConfigError> {
    let key = if from_env.is_some() {
        HTTP_LISTEN_ENV
    } else {
        "http.listen"
    };
    from_env
        .or(from_file)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.trim().parse::<std::net::SocketAddr>().map_err(|_| {
                invalid(
                    key,
                    format!(
                        "`{l}` is not an address and port such as 127.0.0.1:9184 or [::1]:9184"
                    ),
                )
            })
        })
        .transpose()
}

/// `url` as a base: relative feed paths are joined onto it, so it ends in `/`.
fn as_base(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        url.set_path(&format!("{}/", url.path()));
    }
    url
}
