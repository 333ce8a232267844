//! `[[sources]]`: each watched page or feed, checked key by key in the
//! order a source's table lists them; the embassy's three when the file
//! lists none.

use std::time::Duration;

use regex::Regex;
use scraper::Selector;
use url::Url;

use super::values::{display_name, parse_http_url, parse_zone};
use crate::config::defaults::{
    DEFAULT_ALERT_AFTER_SECS, DEFAULT_CONNECT_TIMEOUT_SECS, DEFAULT_INTERVAL_SECS,
    DEFAULT_LINK_PATTERNS, DEFAULT_MAX_AGE_DAYS, DEFAULT_MAX_BYTES, DEFAULT_MAX_ITEMS,
    DEFAULT_MAX_NEW_ITEMS, DEFAULT_SOURCES, DEFAULT_TIMEOUT_SECS, DEFAULT_USER_AGENT,
    MAX_KEEP_ITEMS, MAX_KEEP_SEEN_IDS, MAX_MAX_ITEMS,
};
use crate::config::raw::{RawSelectors, RawSource};
use crate::config::{
    ArchiveTemplate, ConfigError, DEFAULT_ARCHIVE_PAGE_SIZE, Retention, Selectors, SourceConfig,
    SourceKind, invalid,
};

/// The longest source name: it is typed in `/subscribe <name>`.
pub(crate) const MAX_SOURCE_NAME: usize = 32;

/// True for a usable source name: 1 to 32 of `a-z`, `0-9`, `_`, `-`.
pub(crate) fn is_valid_source_name(name: &str) -> bool {
    (1..=MAX_SOURCE_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// The sources, or the embassy's when the file lists none: at least one,
/// and no two with the same name (users tell them apart by it).
pub(super) fn sources_from_raw(
    raw: Option<Vec<RawSource>>,
) -> Result<Vec<SourceConfig>, ConfigError> {
    let raw_sources =
        raw.unwrap_or_else(|| DEFAULT_SOURCES.iter().map(RawSource::builtin).collect());
    if raw_sources.is_empty() {
        return Err(invalid("sources", "list at least one source to watch"));
    }
    let mut sources = Vec::with_capacity(raw_sources.len());
    for (i, s) in raw_sources.into_iter().enumerate() {
        let source = source_from_raw(i, s)?;
        refuse_taken_name(i, &source, &sources)?;
        sources.push(source);
    }
    Ok(sources)
}

/// Names are case-insensitive, so `Home` after `home` is taken too.
fn refuse_taken_name(
    i: usize,
    source: &SourceConfig,
    before: &[SourceConfig],
) -> Result<(), ConfigError> {
    match before
        .iter()
        .position(|o| o.name.eq_ignore_ascii_case(&source.name))
    {
        Some(j) => Err(invalid(
            source_key(i, "name"),
            format!(
                "`{}` is already the name of sources[{j}]; names must be unique (set `name` when two sources share a host)",
                source.name
            ),
        )),
        None => Ok(()),
    }
}

/// The key of `field` in the `i`-th source, as errors name it: `sources[2].url`.
fn source_key(i: usize, field: &str) -> String {
    format!("sources[{i}].{field}")
}

/// `sources[i]` checked, with every default applied.
fn source_from_raw(i: usize, s: RawSource) -> Result<SourceConfig, ConfigError> {
    let url = parse_http_url(&source_key(i, "url"), &s.url)?;
    let name = source_name(i, s.name, &url)?;
    let timing = Timing::from_raw(i, s.interval_secs, s.timeout_secs, s.connect_timeout_secs)?;
    let max_bytes = s.max_bytes.unwrap_or(DEFAULT_MAX_BYTES);
    if max_bytes < 1024 {
        return Err(invalid(source_key(i, "max_bytes"), "must be at least 1024"));
    }
    let user_agent = user_agent(i, s.user_agent)?;
    let link_patterns = link_patterns(i, s.link_patterns)?;
    let selectors = s
        .selectors
        .map(|raw| parse_selectors(&source_key(i, "selectors"), raw))
        .transpose()?;
    let body_selector = s
        .body_selector
        .map(|text| parse_one_selector(&source_key(i, "body_selector"), &text))
        .transpose()?;
    let guards = Guards::from_raw(i, s.max_new_items, s.max_age_days, s.alert_after_secs)?;
    let time_zone = parse_zone(
        &source_key(i, "time_zone"),
        s.time_zone.as_deref().unwrap_or("UTC"),
    )?;
    let (max_items, retention) = history(i, s.max_items, s.keep_items, s.keep_seen_ids)?;
    let tracking_params = tracking_params(i, s.tracking_params.unwrap_or_default())?;
    let link_hosts = link_hosts(i, s.link_hosts.unwrap_or_default())?;
    let label = match s.label {
        Some(label) => display_name(&source_key(i, "label"), label)?,
        None => name.clone(),
    };
    let archive = archive(i, s.archive, s.archive_page_size)?;
    Ok(SourceConfig {
        name,
        url,
        label,
        archive,
        kind: s.kind.unwrap_or(SourceKind::Html),
        interval: timing.interval,
        user_agent,
        timeout: timing.timeout,
        connect_timeout: timing.connect_timeout,
        max_bytes,
        link_patterns,
        selectors,
        body_selector,
        max_new_items: guards.max_new_items,
        max_age_days: guards.max_age_days,
        alert_after: guards.alert_after,
        time_zone,
        max_items,
        tracking_params,
        link_hosts,
        retention,
        // `[edits]` is read after the sources: it sets this for each.
        edit_revisions: true,
    })
}

/// The source's name as given, or one made from its host; either way in
/// the shape users can type.
fn source_name(i: usize, given: Option<String>, url: &Url) -> Result<String, ConfigError> {
    let name = given.unwrap_or_else(|| name_from_url(url));
    if !is_valid_source_name(&name) {
        return Err(invalid(
            source_key(i, "name"),
            format!(
                "`{name}` must be 1 to {MAX_SOURCE_NAME} characters of a-z, 0-9, `_` or `-` (users type it in /subscribe)"
            ),
        ));
    }
    Ok(name)
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

/// How often a source is read and how long one read may take.
struct Timing {
    interval: Duration,
    timeout: Duration,
    connect_timeout: Duration,
}

impl Timing {
    /// `interval_secs`, `timeout_secs` and `connect_timeout_secs`: none
    /// zero, and connecting no longer than the whole read may take.
    fn from_raw(
        i: usize,
        interval_secs: Option<u64>,
        timeout_secs: Option<u64>,
        connect_timeout_secs: Option<u64>,
    ) -> Result<Timing, ConfigError> {
        let interval_secs = interval_secs.unwrap_or(DEFAULT_INTERVAL_SECS);
        if interval_secs == 0 {
            return Err(invalid(
                source_key(i, "interval_secs"),
                "must be at least 1 (the default is 300; be kind to the site)",
            ));
        }
        let timeout_secs = timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS);
        if timeout_secs == 0 {
            return Err(invalid(source_key(i, "timeout_secs"), "must be at least 1"));
        }
        let connect_timeout_secs =
            connect_timeout_secs.unwrap_or(DEFAULT_CONNECT_TIMEOUT_SECS.min(timeout_secs));
        if connect_timeout_secs == 0 || connect_timeout_secs > timeout_secs {
            return Err(invalid(
                source_key(i, "connect_timeout_secs"),
                format!("must be between 1 and timeout_secs ({timeout_secs})"),
            ));
        }
        Ok(Timing {
            interval: Duration::from_secs(interval_secs),
            timeout: Duration::from_secs(timeout_secs),
            connect_timeout: Duration::from_secs(connect_timeout_secs),
        })
    }
}

/// The `User-Agent` the source is read as: something a header can carry.
fn user_agent(i: usize, given: Option<String>) -> Result<String, ConfigError> {
    let user_agent = given.unwrap_or_else(|| DEFAULT_USER_AGENT.to_string());
    if user_agent.trim().is_empty() || reqwest::header::HeaderValue::from_str(&user_agent).is_err()
    {
        return Err(invalid(
            source_key(i, "user_agent"),
            "must be non-empty printable ASCII",
        ));
    }
    Ok(user_agent)
}

/// The regexes that mark a link as a release (the embassy's by default),
/// each compiled now so a typo names its place in the list.
fn link_patterns(i: usize, given: Option<Vec<String>>) -> Result<Vec<Regex>, ConfigError> {
    let patterns: Vec<String> = given.unwrap_or_else(|| {
        DEFAULT_LINK_PATTERNS
            .iter()
            .map(|p| p.to_string())
            .collect()
    });
    if patterns.is_empty() {
        return Err(invalid(
            source_key(i, "link_patterns"),
            "list at least one pattern",
        ));
    }
    patterns
        .iter()
        .enumerate()
        .map(|(j, p)| {
            Regex::new(p)
                .map_err(|e| invalid(format!("sources[{i}].link_patterns[{j}]"), e.to_string()))
        })
        .collect()
}

/// One CSS selector, the value of `key`.
fn parse_one_selector(key: &str, text: &str) -> Result<Selector, ConfigError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(invalid(key, "must not be empty"));
    }
    Selector::parse(text).map_err(|e| invalid(key, format!("`{text}` is not a CSS selector: {e}")))
}

/// The CSS selectors of `key` (a source's `selectors`), each parsed now.
fn parse_selectors(key: &str, raw: RawSelectors) -> Result<Selectors, ConfigError> {
    let one = |field: &str, text: &str| parse_one_selector(&format!("{key}.{field}"), text);
    let optional = |field: &str, text: Option<String>| text.map(|t| one(field, &t)).transpose();
    Ok(Selectors {
        item: one("item", &raw.item)?,
        link: optional("link", raw.link)?,
        title: optional("title", raw.title)?,
        date: optional("date", raw.date)?,
        lead: optional("lead", raw.lead)?,
    })
}

/// What keeps a source from flooding chats or failing unheard.
struct Guards {
    max_new_items: usize,
    max_age_days: u32,
    alert_after: Duration,
}

impl Guards {
    /// `max_new_items` and `max_age_days` at least 1; `alert_after_secs`
    /// from a second to a week.
    fn from_raw(
        i: usize,
        max_new_items: Option<usize>,
        max_age_days: Option<u32>,
        alert_after_secs: Option<u64>,
    ) -> Result<Guards, ConfigError> {
        let max_new_items = max_new_items.unwrap_or(DEFAULT_MAX_NEW_ITEMS);
        if max_new_items == 0 {
            return Err(invalid(
                source_key(i, "max_new_items"),
                "must be at least 1 (it is how many new items one poll may push)",
            ));
        }
        let max_age_days = max_age_days.unwrap_or(DEFAULT_MAX_AGE_DAYS);
        if max_age_days == 0 {
            return Err(invalid(source_key(i, "max_age_days"), "must be at least 1"));
        }
        let alert_after_secs = alert_after_secs.unwrap_or(DEFAULT_ALERT_AFTER_SECS);
        if !(1..=7 * 24 * 3600).contains(&alert_after_secs) {
            return Err(invalid(
                source_key(i, "alert_after_secs"),
                "must be between 1 and 604800 (a week)",
            ));
        }
        Ok(Guards {
            max_new_items,
            max_age_days,
            alert_after: Duration::from_secs(alert_after_secs),
        })
    }
}

/// How many items one read may yield (`max_items`) and how much of the
/// source's history the store keeps: never fewer releases than one read
/// brings, so a read's own releases are not pruned at once.
fn history(
    i: usize,
    max_items: Option<usize>,
    keep_items: Option<usize>,
    keep_seen_ids: Option<usize>,
) -> Result<(usize, Retention), ConfigError> {
    let max_items = max_items.unwrap_or(DEFAULT_MAX_ITEMS);
    if !(1..=MAX_MAX_ITEMS).contains(&max_items) {
        return Err(invalid(
            source_key(i, "max_items"),
            format!("must be between 1 and {MAX_MAX_ITEMS}"),
        ));
    }
    let default = Retention::DEFAULT;
    let keep_items = keep_items.unwrap_or(default.keep_items.max(max_items));
    if !(max_items..=MAX_KEEP_ITEMS).contains(&keep_items) {
        return Err(invalid(
            source_key(i, "keep_items"),
            format!(
                "must be between max_items ({max_items}: a read's own releases are never pruned at once) and {MAX_KEEP_ITEMS}"
            ),
        ));
    }
    let keep_seen_ids = keep_seen_ids.unwrap_or(default.keep_seen_ids);
    if keep_seen_ids > MAX_KEEP_SEEN_IDS {
        return Err(invalid(
            source_key(i, "keep_seen_ids"),
            format!("must be at most {MAX_KEEP_SEEN_IDS}"),
        ));
    }
    let retention = Retention {
        keep_items,
        keep_seen_ids,
    };
    Ok((max_items, retention))
}

/// Query parameters that only track readers: each a plain parameter name,
/// or a prefix ending in `*`.
fn tracking_params(i: usize, params: Vec<String>) -> Result<Vec<String>, ConfigError> {
    for (j, param) in params.iter().enumerate() {
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
    Ok(params)
}

/// Hosts the source's releases may link to besides its own site: each a bare
/// host name or address, or `*.` and a name with a dot in it (that site and
/// every host under it), kept as the URL parser writes hosts (lowercase,
/// punycode) so a link's host compares equal. A URL, a `host:port` or a
/// wildcard over a whole top-level domain is a mistake worth stopping for:
/// the first two would match nothing, the last everything.
fn link_hosts(i: usize, hosts: Vec<String>) -> Result<Vec<String>, ConfigError> {
    hosts
        .iter()
        .enumerate()
        .map(|(j, given)| {
            let refused = || {
                invalid(
                    format!("sources[{i}].link_hosts[{j}]"),
                    format!(
                        "`{given}` must be a host name such as `example.org`, or `*.example.org` for that site and every host under it (no scheme, port or path)"
                    ),
                )
            };
            let written = given.trim();
            let (wildcard, host) = match written.strip_prefix("*.") {
                Some(parent) => (true, parent),
                None => (false, written),
            };
            if host.is_empty()
                || host.chars().any(|c| {
                    c.is_whitespace() || matches!(c, '/' | '\\' | '@' | '*' | '?' | '#')
                })
            {
                return Err(refused());
            }
            let host = match url::Host::parse(host).map_err(|_| refused())? {
                url::Host::Domain(name) => name.trim_end_matches('.').to_ascii_lowercase(),
                _ if wildcard => return Err(refused()),
                address => address.to_string(),
            };
            if wildcard && !host.contains('.') {
                return Err(refused());
            }
            Ok(if wildcard { format!("*.{host}") } else { host })
        })
        .collect()
}

/// The source's archive pages (`archive`, `archive_page_size`), for
/// `backfill`; a page size alone means the template was forgotten.
fn archive(
    i: usize,
    template: Option<String>,
    page_size: Option<u32>,
) -> Result<Option<ArchiveTemplate>, ConfigError> {
    let archive = template
        .map(|template| {
            ArchiveTemplate::new(&template, page_size.unwrap_or(DEFAULT_ARCHIVE_PAGE_SIZE)).map_err(
                |reason| {
                    let field = if reason.starts_with("archive_page_size") {
                        "archive_page_size"
                    } else {
                        "archive"
                    };
                    invalid(source_key(i, field), reason)
                },
            )
        })
        .transpose()?;
    if archive.is_none() && page_size.is_some() {
        return Err(invalid(
            source_key(i, "archive_page_size"),
            "is used only with `archive` (the archive's URL template)",
        ));
    }
    Ok(archive)
}
