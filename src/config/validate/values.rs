//! Values that several sections read alike: URLs, time zones, names shown
//! to people, and words given per language.

use chrono_tz::Tz;
use url::Url;

use crate::config::defaults::MAX_DISPLAY_NAME;
use crate::config::raw::RawText;
use crate::config::{ConfigError, Language, LocalizedText, invalid};

/// Words given for every language or per language ([`LocalizedText`]): a
/// table needs `en` (it serves the languages the table lacks), and its other
/// keys must be languages the bot speaks.
pub(super) fn localized(key: &str, raw: RawText) -> Result<LocalizedText, ConfigError> {
    let table = match raw {
        RawText::Plain(text) => return Ok(LocalizedText::plain(text)),
        RawText::ByLanguage(table) => table,
    };
    let codes = || {
        Language::ALL
            .iter()
            .map(|l| l.code())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut plain = None;
    let mut by_language = Vec::new();
    for (code, text) in table {
        let Some(language) = Language::from_code(&code).filter(|l| l.code() == code) else {
            return Err(invalid(
                format!("{key}.{code}"),
                format!(
                    "`{code}` is not a language the bot speaks; use one of: {}",
                    codes()
                ),
            ));
        };
        if language == Language::En {
            plain = Some(text);
        } else {
            by_language.push((language, text));
        }
    }
    let Some(plain) = plain else {
        return Err(invalid(
            key,
            "a table of texts by language needs `en`: it is said in every language the table has no text for",
        ));
    };
    Ok(LocalizedText { plain, by_language })
}

/// A name shown to people (`site_name`, `sources[].label`): one line, not empty, not long.
pub(super) fn display_name(key: &str, name: String) -> Result<String, ConfigError> {
    let name = name.trim().to_string();
    if name.is_empty() || name.chars().count() > MAX_DISPLAY_NAME || name.contains(char::is_control)
    {
        return Err(invalid(
            key,
            format!("must be 1 to {MAX_DISPLAY_NAME} characters on one line"),
        ));
    }
    Ok(name)
}

/// A web address the bot will request (a source, the Bot API, the public
/// URL); an error shows it only without what could be a secret.
pub(super) fn parse_http_url(key: &str, text: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(text.trim()).map_err(|e| {
        // Echoed only when nothing in it can be a credential or a key (a
        // bot token in the path is masked like anywhere else).
        let shown = if text.contains(['@', '?', '#']) {
            String::new()
        } else {
            format!("`{}` ", crate::config::redact::hide_tokens(text))
        };
        invalid(key, format!("{shown}is not a URL: {e}"))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid(
            key,
            format!(
                "`{}` must be an http:// or https:// URL",
                crate::config::redact::Redacted(&url)
            ),
        ));
    }
    Ok(url)
}

/// An IANA time zone by name (`Europe/Moscow`).
pub(super) fn parse_zone(key: &str, name: &str) -> Result<Tz, ConfigError> {
    name.trim().parse::<Tz>().map_err(|_| {
        invalid(
            key,
            format!("`{name}` is not an IANA time zone (for example Europe/Moscow)"),
        )
    })
}
