//! Showing a configured URL without the secrets it may carry.
//!
//! A source URL can hold credentials (`https://user:pass@host/`) or an API key
//! in its query (`?api_key=…`). Everything that shows a source URL to a person —
//! logs, errors stored for `/sources` and `/status`, alerts to operators,
//! `check-config`, `check-source` — goes through [`Redacted`], so the secret is
//! used for the request and never shown.
//!
//! A bot token (`123456:` and 35 characters) can sit anywhere in a URL, the
//! path included (`https://bot.example.org/123456:AA…/` as a webhook path,
//! `/bot123456:AA…/getMe` in the Bot API's own): [`Redacted`] hides it
//! wherever it is, and [`hide_tokens`] does the same for any text (an
//! error, a value that did not parse as a URL).

use std::borrow::Cow;
use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use url::Url;

/// What replaces a secret.
pub(crate) const MASK: &str = "***";

/// A URL for display: user info replaced by `***`, and the values of query
/// (and fragment) parameters whose names look secret ([`is_secret_key`]) too.
/// Everything else is shown as is, so the operator still recognises the URL.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Redacted<'a>(pub &'a Url);

impl fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = self.0;
        let has_user = !url.username().is_empty() || url.password().is_some();
        let secret_in = |part: Option<&str>| part.is_some_and(|p| redact_pairs(p).is_some());
        if !has_user && !secret_in(url.query()) && !secret_in(url.fragment()) {
            return f.write_str(&hide_tokens(url.as_str()));
        }
        let mut shown = url.clone();
        if has_user {
            // Cannot fail: an http(s) URL with user info has a host.
            let _ = shown.set_password(None);
            let _ = shown.set_username(MASK);
        }
        if let Some(query) = url.query().and_then(redact_pairs) {
            shown.set_query(Some(&query));
        }
        if let Some(fragment) = url.fragment().and_then(redact_pairs) {
            shown.set_fragment(Some(&fragment));
        }
        f.write_str(&hide_tokens(shown.as_str()))
    }
}

/// A Telegram bot token: the bot's id, a colon, and its secret (35
/// characters today; any 30 or more of the secret's alphabet are taken).
static BOT_TOKEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[0-9]{3,}:[A-Za-z0-9_-]{30,}").expect("a constant pattern"));

/// `text` with every bot token in it replaced by [`MASK`]; borrowed when it
/// holds none (the common case costs no copy).
pub(crate) fn hide_tokens(text: &str) -> Cow<'_, str> {
    BOT_TOKEN.replace_all(text, MASK)
}

/// `pairs` (`a=1&token=x`) with the values of secret-looking keys masked;
/// `None` when nothing needed masking.
fn redact_pairs(pairs: &str) -> Option<String> {
    let mut changed = false;
    let out: Vec<String> = pairs
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) if value != MASK && is_secret_key(&decode(key)) => {
                changed = true;
                format!("{key}={MASK}")
            }
            _ => pair.to_string(),
        })
        .collect();
    changed.then(|| out.join("&"))
}

fn decode(key: &str) -> String {
    url::form_urlencoded::parse(key.as_bytes())
        .next()
        .map_or_else(|| key.to_string(), |(k, _)| k.into_owned())
}

/// Words that mark a parameter or config key as secret when they make up its
/// name or one of its `_`/`-`/`.`-separated parts (`api_key`, `X-Auth-Token`).
const SECRET_WORDS: &[&str] = &[
    "key",
    "apikey",
    "token",
    "secret",
    "password",
    "passwd",
    "pass",
    "pwd",
    "auth",
    "authorization",
    "credential",
    "credentials",
    "signature",
    "sig",
    "session",
    "sessionid",
];

/// Whether a parameter or config key of this name probably holds a secret:
/// one of its words is in the list (`key`, `token`, `secret`, `password`, …),
/// or it contains `token`, `secret`, `password` or `apikey` anywhere
/// (`accesstoken`). Cheap to over-match: a masked harmless value costs nothing.
pub(crate) fn is_secret_key(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase();
    name.split(['_', '-', '.', ' '])
        .any(|word| SECRET_WORDS.contains(&word))
        || ["token", "secret", "password", "apikey"]
            .iter()
            .any(|w| name.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(url: &str) -> String {
        Redacted(&Url::parse(url).unwrap()).to_string()
    }

    #[test]
    fn user_info_and_secret_parameters_are_masked() {
        assert_eq!(
            shown("https://user:hunter2@example.org/feed"),
            "https://***@example.org/feed"
        );
        assert_eq!(
            shown("https://:hunter2@example.org/"),
            "https://***@example.org/"
        );
        assert_eq!(
            shown("https://example.org/rss?lang=en&api_key=abc123&Token=x&page=2"),
            "https://example.org/rss?lang=en&api_key=***&Token=***&page=2"
        );
        assert_eq!(
            shown("https://example.org/?access_token=a&X-Api-Key=b&client_secret=c&sig=d"),
            "https://example.org/?access_token=***&X-Api-Key=***&client_secret=***&sig=***"
        );
        assert_eq!(
            shown("https://example.org/cb#access_token=abc&state=1"),
            "https://example.org/cb#access_token=***&state=1"
        );
        assert_eq!(
            shown("https://example.org/?api%5Fkey=zz"),
            "https://example.org/?api%5Fkey=***"
        );
    }

    #[test]
    fn ordinary_urls_are_shown_unchanged() {
        for url in [
            "https://www.rusemb.org.uk/",
            "https://www.rusemb.org.uk/newarh/&start=1&ps=10&ppp=15",
            "https://example.org/search?q=monkey&keyword=x&page=2",
            "http://127.0.0.1:8080/feed.xml",
        ] {
            assert_eq!(shown(url), url);
        }
    }

    #[test]
    fn a_bot_token_is_hidden_wherever_it_sits_in_a_url() {
        let token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
        for (url, expected) in [
            (
                format!("https://bot.example.org/{token}"),
                "https://bot.example.org/***",
            ),
            (
                format!("https://api.telegram.org/bot{token}/getMe"),
                "https://api.telegram.org/bot***/getMe",
            ),
            (
                format!("https://u:p@example.org/hook/{token}/x?token=1"),
                "https://***@example.org/hook/***/x?token=***",
            ),
        ] {
            let parsed = Url::parse(&url).unwrap();
            assert_eq!(shown(&url), expected);
            assert!(!Redacted(&parsed).to_string().contains("AAHdq"));
        }
        // In any text, too; and text without a token is passed through.
        assert_eq!(
            hide_tokens(&format!("`not a url {token}` is bad")),
            "`not a url ***` is bad"
        );
        assert!(matches!(
            hide_tokens("nothing here: 12:30"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn secret_key_names() {
        for name in [
            "key",
            "token",
            "secret",
            "password",
            "api_key",
            "apiKey",
            "access_token",
            "X-Auth-Token",
            "passwd",
        ] {
            assert!(is_secret_key(name), "{name}");
        }
        for name in [
            "q", "page", "lang", "keyword", "monkey", "start", "ps", "url", "name",
        ] {
            assert!(!is_secret_key(name), "{name}");
        }
    }
}
