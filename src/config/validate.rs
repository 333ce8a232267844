//! From the file's shape to a validated [`Config`]: every default applied,
//! every value checked, each error naming its key.

use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveDate;
use chrono_tz::Tz;
use regex::Regex;
use url::Url;

use super::defaults::*;
use super::raw::*;
use super::*;

impl Config {
    pub(super) fn from_raw(raw: RawConfig, env: EnvOverrides) -> Result<Config, ConfigError> {
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
        let allow_paid_broadcast = telegram.allow_paid_broadcast.unwrap_or(false);
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
        let http = http_from_raw(raw.http.unwrap_or_default(), env.http_listen)?;
        if webhook_url.is_some() && http.listen.is_none() {
            return Err(invalid(
                "telegram.webhook_url",
                format!(
                    "webhook mode needs the HTTP server, which receives Telegram's updates: set http.listen (or {HTTP_LISTEN_ENV})"
                ),
            ));
        }

        let builtin_sources = raw.sources.is_none();
        let raw_sources = raw
            .sources
            .unwrap_or_else(|| DEFAULT_SOURCES.iter().map(RawSource::builtin).collect());
        if raw_sources.is_empty() {
            return Err(invalid("sources", "list at least one source to watch"));
        }
        let mut sources = Vec::with_capacity(raw_sources.len());
        for (i, s) in raw_sources.into_iter().enumerate() {
            let source = source_from_raw(i, s)?;
            if let Some(j) = sources
                .iter()
                .position(|o: &SourceConfig| o.name.eq_ignore_ascii_case(&source.name))
            {
                return Err(invalid(
                    format!("sources[{i}].name"),
                    format!(
                        "`{}` is already the name of sources[{j}]; names must be unique (set `name` when two sources share a host)",
                        source.name
                    ),
                ));
            }
            sources.push(source);
        }

        let site_name = match raw.site_name {
            Some(name) => display_name("site_name", name)?,
            None if builtin_sources => DEFAULT_SITE_NAME.to_string(),
            None => {
                // Each host once, in the order the sources name them.
                let mut hosts: Vec<&str> = Vec::new();
                for s in &sources {
                    let host = s.url.host_str().unwrap_or(s.url.as_str());
                    if !hosts.contains(&host) {
                        hosts.push(host);
                    }
                }
                hosts.join(", ")
            }
        };

        let time = raw.time.unwrap_or_default();
        let date_zone = parse_zone(
            "time.date_zone",
            time.date_zone.as_deref().unwrap_or("Europe/Moscow"),
        )?;
        let clocks = match time.clocks {
            None => vec![
                ClockConfig {
                    label: LocalizedText::translated(MOSCOW.0, &[(Language::Ru, MOSCOW.1)]),
                    zone: chrono_tz::Europe::Moscow,
                },
                ClockConfig {
                    label: LocalizedText::translated(LONDON.0, &[(Language::Ru, LONDON.1)]),
                    zone: chrono_tz::Europe::London,
                },
            ],
            Some(list) => list
                .into_iter()
                .enumerate()
                .map(|(i, c)| {
                    let key = format!("time.clocks[{i}].label");
                    let label = localized(&key, c.label)?;
                    if label.all().any(|l| l.trim().is_empty()) {
                        return Err(invalid(key, "must not be empty"));
                    }
                    Ok(ClockConfig {
                        label,
                        zone: parse_zone(&format!("time.clocks[{i}].zone"), &c.zone)?,
                    })
                })
                .collect::<Result<_, _>>()?,
        };

        let counters = match raw.counters {
            None => vec![
                CounterConfig {
                    text: LocalizedText::translated(SALISBURY, &[(Language::Ru, SALISBURY_RU)]),
                    since: NaiveDate::from_ymd_opt(2018, 3, 4).expect("valid date"),
                    zone: chrono_tz::Europe::Moscow,
                },
                CounterConfig {
                    text: LocalizedText::translated(GLUSHKOV, &[(Language::Ru, GLUSHKOV_RU)]),
                    since: NaiveDate::from_ymd_opt(2018, 3, 12).expect("valid date"),
                    zone: chrono_tz::Europe::Moscow,
                },
            ],
            Some(list) => list
                .into_iter()
                .enumerate()
                .map(|(i, c)| {
                    let key = format!("counters[{i}].text");
                    let text = localized(&key, c.text)?;
                    if text.all().any(|t| !t.contains("{days}")) {
                        return Err(invalid(key, "must contain the {days} placeholder"));
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
                    Ok(CounterConfig { text, since, zone })
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

        let mut operators = Vec::new();
        for (key, ids) in [
            ("admin_chats", &raw.admin_chats),
            ("admin_users", &raw.admin_users),
        ] {
            for (i, id) in ids.iter().flatten().enumerate() {
                if *id <= 0 {
                    return Err(invalid(
                        format!("{key}[{i}]"),
                        format!(
                            "{id} is a group or channel id; operators are people: list their user ids (in a private chat with the bot, the chat id is the user id)"
                        ),
                    ));
                }
                if !operators.contains(id) {
                    operators.push(*id);
                }
            }
        }
        let groups = GroupsConfig {
            who_can_subscribe: raw
                .groups
                .and_then(|g| g.who_can_subscribe)
                .unwrap_or(WhoCanSubscribe::Admins),
        };

        let commands_per_user_per_minute = raw
            .commands
            .and_then(|c| c.per_user_per_minute)
            .unwrap_or(DEFAULT_COMMANDS_PER_USER_PER_MINUTE);
        if !(1..=10_000).contains(&commands_per_user_per_minute) {
            return Err(invalid(
                "commands.per_user_per_minute",
                "must be between 1 and 10000",
            ));
        }

        let link_preview = telegram.link_preview.unwrap_or_default();
        Ok(Config {
            data_dir,
            operators,
            groups,
            commands_per_user_per_minute,
            site_name,
            telegram: TelegramConfig {
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
            },
            sources,
            time: TimeConfig { date_zone, clocks },
            counters,
            contact,
            http,
        })
    }
}

/// Words given for every language or per language ([`LocalizedText`]): a
/// table needs `en` (it serves the languages the table lacks), and its other
/// keys must be languages the bot speaks.
fn localized(key: &str, raw: RawText) -> Result<LocalizedText, ConfigError> {
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
fn display_name(key: &str, name: String) -> Result<String, ConfigError> {
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

/// The longest source name: it is typed in `/subscribe <name>`.
pub(crate) const MAX_SOURCE_NAME: usize = 32;

/// True for a usable source name: 1 to 32 of `a-z`, `0-9`, `_`, `-`.
pub(crate) fn is_valid_source_name(name: &str) -> bool {
    (1..=MAX_SOURCE_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// A name for a source that has none: its host, shaped to the name rules.
fn name_from_url(url: &Url) -> String {
    let host = url.host_str().unwrap_or("source");
    let host = host.strip_prefix("www.").unwrap_or(host);
    let name: String = host
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '_' | '-') => c,
            _ => '-',
        })
        .take(MAX_SOURCE_NAME)
        .collect();
    if name.is_empty() {
        "source".into()
    } else {
        name
    }
}

fn source_from_raw(i: usize, s: RawSource) -> Result<SourceConfig, ConfigError> {
    let key = |field: &str| format!("sources[{i}].{field}");
    let url = parse_http_url(&key("url"), &s.url)?;
    let name = s.name.unwrap_or_else(|| name_from_url(&url));
    if !is_valid_source_name(&name) {
        return Err(invalid(
            key("name"),
            format!(
                "`{name}` must be 1 to {MAX_SOURCE_NAME} characters of a-z, 0-9, `_` or `-` (users type it in /subscribe)"
            ),
        ));
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
    let connect_timeout_secs = s
        .connect_timeout_secs
        .unwrap_or(DEFAULT_CONNECT_TIMEOUT_SECS.min(timeout_secs));
    if connect_timeout_secs == 0 || connect_timeout_secs > timeout_secs {
        return Err(invalid(
            key("connect_timeout_secs"),
            format!("must be between 1 and timeout_secs ({timeout_secs})"),
        ));
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
    let selectors = s
        .selectors
        .map(|raw| parse_selectors(&key("selectors"), raw))
        .transpose()?;
    let max_new_items = s.max_new_items.unwrap_or(DEFAULT_MAX_NEW_ITEMS);
    if max_new_items == 0 {
        return Err(invalid(
            key("max_new_items"),
            "must be at least 1 (it is how many new items one poll may push)",
        ));
    }
    let max_age_days = s.max_age_days.unwrap_or(DEFAULT_MAX_AGE_DAYS);
    if max_age_days == 0 {
        return Err(invalid(key("max_age_days"), "must be at least 1"));
    }
    let alert_after_secs = s.alert_after_secs.unwrap_or(DEFAULT_ALERT_AFTER_SECS);
    if !(1..=7 * 24 * 3600).contains(&alert_after_secs) {
        return Err(invalid(
            key("alert_after_secs"),
            "must be between 1 and 604800 (a week)",
        ));
    }
    let time_zone = parse_zone(&key("time_zone"), s.time_zone.as_deref().unwrap_or("UTC"))?;
    let max_items = s.max_items.unwrap_or(DEFAULT_MAX_ITEMS);
    if !(1..=MAX_MAX_ITEMS).contains(&max_items) {
        return Err(invalid(
            key("max_items"),
            format!("must be between 1 and {MAX_MAX_ITEMS}"),
        ));
    }
    let default = Retention::DEFAULT;
    let keep_items = s.keep_items.unwrap_or(default.keep_items.max(max_items));
    if !(max_items..=MAX_KEEP_ITEMS).contains(&keep_items) {
        return Err(invalid(
            key("keep_items"),
            format!(
                "must be between max_items ({max_items}: a read's own releases are never pruned at once) and {MAX_KEEP_ITEMS}"
            ),
        ));
    }
    let keep_seen_ids = s.keep_seen_ids.unwrap_or(default.keep_seen_ids);
    if keep_seen_ids > MAX_KEEP_SEEN_IDS {
        return Err(invalid(
            key("keep_seen_ids"),
            format!("must be at most {MAX_KEEP_SEEN_IDS}"),
        ));
    }
    let tracking_params = s.tracking_params.unwrap_or_default();
    for (j, param) in tracking_params.iter().enumerate() {
        let name = param.strip_suffix('*').unwrap_or(param);
        if name.is_empty()
            || name.len() > 64
            || name
                .chars()
                .any(|c| c.is_whitespace() || matches!(c, '&' | '=' | '#' | '*' | '?'))
        {
            return Err(invalid(
                format!("sources[{i}].tracking_params[{j}]"),
                format!(
                    "`{param}` must be a query parameter name (at most 64 characters, no spaces or & = # ?), optionally ending in * for a prefix"
                ),
            ));
        }
    }
    let label = match s.label {
        Some(label) => display_name(&key("label"), label)?,
        None => name.clone(),
    };
    let archive = s
        .archive
        .map(|template| {
            ArchiveTemplate::new(
                &template,
                s.archive_page_size.unwrap_or(DEFAULT_ARCHIVE_PAGE_SIZE),
            )
            .map_err(|reason| {
                let key = if reason.starts_with("archive_page_size") {
                    key("archive_page_size")
                } else {
                    key("archive")
                };
                invalid(key, reason)
            })
        })
        .transpose()?;
    if archive.is_none() && s.archive_page_size.is_some() {
        return Err(invalid(
            key("archive_page_size"),
            "is used only with `archive` (the archive's URL template)",
        ));
    }
    Ok(SourceConfig {
        name,
        url,
        label,
        archive,
        kind: s.kind.unwrap_or(SourceKind::Html),
        interval: Duration::from_secs(interval_secs),
        user_agent,
        timeout: Duration::from_secs(timeout_secs),
        connect_timeout: Duration::from_secs(connect_timeout_secs),
        max_bytes,
        link_patterns,
        selectors,
        max_new_items,
        max_age_days,
        alert_after: Duration::from_secs(alert_after_secs),
        time_zone,
        max_items,
        tracking_params,
        retention: Retention {
            keep_items,
            keep_seen_ids,
        },
    })
}

fn parse_selectors(key: &str, raw: RawSelectors) -> Result<Selectors, ConfigError> {
    let one = |field: &str, text: &str| {
        let text = text.trim();
        if text.is_empty() {
            return Err(invalid(format!("{key}.{field}"), "must not be empty"));
        }
        Selector::parse(text).map_err(|e| {
            invalid(
                format!("{key}.{field}"),
                format!("`{text}` is not a CSS selector: {e}"),
            )
        })
    };
    let optional = |field: &str, text: Option<String>| text.map(|t| one(field, &t)).transpose();
    Ok(Selectors {
        item: one("item", &raw.item)?,
        link: optional("link", raw.link)?,
        title: optional("title", raw.title)?,
        date: optional("date", raw.date)?,
        lead: optional("lead", raw.lead)?,
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
    let url = Url::parse(text.trim()).map_err(|e| {
        // Echoed only when nothing in it can be a credential or a key.
        let shown = if text.contains(['@', '?', '#']) {
            String::new()
        } else {
            format!("`{text}` ")
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

fn http_from_raw(raw: RawHttp, env_listen: Option<String>) -> Result<HttpConfig, ConfigError> {
    let listen_key = if env_listen.is_some() {
        HTTP_LISTEN_ENV
    } else {
        "http.listen"
    };
    let listen = env_listen
        .or(raw.listen)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.trim().parse::<std::net::SocketAddr>().map_err(|_| {
                invalid(
                    listen_key,
                    format!(
                        "`{l}` is not an address and port such as 127.0.0.1:9184 or [::1]:9184"
                    ),
                )
            })
        })
        .transpose()?;
    let public_url = raw
        .public_url
        .map(|u| parse_http_url("http.public_url", &u))
        .transpose()?
        .map(|mut u| {
            // A base: relative feed paths are joined onto it.
            if !u.path().ends_with('/') {
                u.set_path(&format!("{}/", u.path()));
            }
            u
        });
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

fn parse_zone(key: &str, name: &str) -> Result<Tz, ConfigError> {
    name.trim().parse::<Tz>().map_err(|_| {
        invalid(
            key,
            format!("`{name}` is not an IANA time zone (for example Europe/Moscow)"),
        )
    })
}
