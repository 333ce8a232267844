//! The feed routes: the stored releases as Atom or JSON Feed ([`crate::http::feed_writer`]),
//! with conditional GET: a strong `ETag` (a hash of the document) and
//! `Last-Modified` (its newest entry), answered with 304 when the client
//! already has it. `If-None-Match` wins over `If-Modified-Since` (RFC 9110).
//! Documents come from [`crate::http::feed_cache`]: built off the async
//! workers, once per change of the store.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use url::Url;

use super::Served;
use crate::config::redact::Redacted;
use crate::config::{Config, SourceConfig};
use crate::http::feed_cache::{Contents, Document, FeedKey, Format};
use crate::http::feed_writer::{Entry, FeedInfo};
use crate::store::StoredItem;

pub(super) async fn all_atom(State(s): State<Served>, headers: HeaderMap) -> Response {
    serve(&s, None, Format::Atom, &headers).await
}

pub(super) async fn all_json(State(s): State<Served>, headers: HeaderMap) -> Response {
    serve(&s, None, Format::Json, &headers).await
}

/// `/feed/<source>.atom` or `/feed/<source>.json`.
pub(super) async fn one(
    State(s): State<Served>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (name, format) = if let Some(name) = file.strip_suffix(".atom") {
        (name, Format::Atom)
    } else if let Some(name) = file.strip_suffix(".json") {
        (name, Format::Json)
    } else {
        return not_found();
    };
    let Some(source) = s.config.source_named(name) else {
        return not_found();
    };
    let name = source.name.clone();
    serve(&s, Some(name), format, &headers).await
}

fn not_found() -> Response {
    // The path is the client's: it is not echoed.
    (
        StatusCode::NOT_FOUND,
        "no such feed: /feed/<source>.atom or .json, for a configured source\n",
    )
        .into_response()
}

/// Answers with the feed `source` (a configured source's name; `None`: every
/// source's) in `format`, or 304 when the client's copy is current.
async fn serve(
    s: &Served,
    source: Option<String>,
    format: Format,
    headers: &HeaderMap,
) -> Response {
    let key = FeedKey { source, format };
    let document = match s
        .feeds
        .document(s.store.clone(), s.config.clone(), key)
        .await
    {
        Ok(document) => document,
        Err(e) => {
            tracing::error!(error = %e, "cannot build a feed");
            return (StatusCode::INTERNAL_SERVER_ERROR, "cannot read the store\n").into_response();
        }
    };
    let mut response = if is_fresh(headers, &document.etag, document.modified) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, format.content_type())],
            document.body.clone(),
        )
            .into_response()
    };
    let out = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&document.etag) {
        out.insert(header::ETAG, value);
    }
    if let Ok(value) = HeaderValue::from_str(&http_date(document.modified)) {
        out.insert(header::LAST_MODIFIED, value);
    }
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    response
}

/// The feed `key` names, made of `stored` (its newest releases, newest
/// first) and ready to serve: the document and its validators.
pub(super) fn render(
    config: &Config,
    key: &FeedKey,
    stored: &[Arc<StoredItem>],
    contents: &Contents,
) -> Document {
    let source = key
        .source
        .as_deref()
        .and_then(|name| config.source_named(name));
    let entries: Vec<Entry> = stored
        .iter()
        .map(|item| {
            let tz = config
                .source_named(&item.source)
                .map_or(chrono_tz::UTC, |s| s.time_zone);
            let mut entry = Entry::from_stored(item, tz);
            entry.content = contents.get(&item.item.id).cloned();
            entry
        })
        .collect();
    let info = feed_info(config, source, key.format);
    let body = match key.format {
        Format::Atom => crate::http::feed_writer::atom(&info, &entries),
        Format::Json => crate::http::feed_writer::json(&info, &entries),
    };
    Document {
        etag: etag(&body),
        modified: crate::http::feed_writer::updated(&info, &entries),
        body: Bytes::from(body),
    }
}

/// Names a feed: title, id, links. With `http.public_url` the feed's own
/// address is its id and `rel="self"` link; without, a tag URI on the
/// watched site's host.
fn feed_info(config: &Config, source: Option<&SourceConfig>, format: Format) -> FeedInfo {
    let first = &config.sources[0];
    let page = source.unwrap_or(first);
    let host = page.url.host_str().unwrap_or("site");
    let host = host.strip_prefix("www.").unwrap_or(host).to_string();
    let (title, path) = match source {
        Some(s) => (
            format!("{host}: {}", s.name),
            format!("feed/{}.{}", s.name, format.extension()),
        ),
        None => (
            format!("{host}: all releases"),
            format!("feed.{}", format.extension()),
        ),
    };
    let self_url = config
        .http
        .public_url
        .as_ref()
        .and_then(|base| base.join(&path).ok());
    let id = match &self_url {
        Some(url) => url.to_string(),
        None => format!(
            "tag:embassy-bot,2024:{host}/{}",
            source.map_or("all", |s| s.name.as_str())
        ),
    };
    FeedInfo {
        title,
        id,
        self_url,
        site_url: public_page(&page.url),
        author: host,
        empty_updated: crate::metrics::get().started_at(),
    }
}

/// The page itself if it carries no secret, else only its origin: a feed is
/// public, a source URL may hold credentials.
fn public_page(url: &Url) -> Url {
    if Redacted(url).to_string() == url.as_str() {
        return url.clone();
    }
    Url::parse(&url.origin().ascii_serialization()).unwrap_or_else(|_| url.clone())
}

/// A strong validator of the exact bytes (the standard hasher with its fixed
/// keys: the same document gives the same tag for as long as the binary is
/// the same).
fn etag(body: &str) -> String {
    let mut hasher = std::hash::DefaultHasher::new();
    body.hash(&mut hasher);
    format!("\"{:016x}{:08x}\"", hasher.finish(), body.len() as u32)
}

/// RFC 9110's IMF-fixdate.
fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Whether the client's copy is current: its `If-None-Match` lists `etag`
/// (or `*`), or, without `If-None-Match`, its `If-Modified-Since` is no
/// earlier than `modified`.
fn is_fresh(headers: &HeaderMap, etag: &str, modified: DateTime<Utc>) -> bool {
    if let Some(tags) = headers.get(header::IF_NONE_MATCH) {
        let Ok(tags) = tags.to_str() else {
            return false;
        };
        return tags.split(',').map(str::trim).any(|tag| {
            // The weak comparison RFC 9110 prescribes for If-None-Match.
            tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag
        });
    }
    let Some(since) = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
    else {
        return false;
    };
    modified.timestamp() <= since.timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn conditional_get_follows_rfc_9110() {
        let t = DateTime::from_timestamp(1_653_300_000, 0).unwrap();
        let tag = etag("doc");
        assert_eq!(tag, etag("doc"));
        assert_ne!(tag, etag("doc2"));
        let date = http_date(t);
        assert_eq!(date, "Mon, 23 May 2022 10:00:00 GMT");
        assert!(is_fresh(
            &headers(&[(header::IF_NONE_MATCH, &tag)]),
            &tag,
            t
        ));
        assert!(is_fresh(
            &headers(&[(header::IF_NONE_MATCH, &format!("\"x\", W/{tag}"))]),
            &tag,
            t
        ));
        assert!(!is_fresh(
            &headers(&[(header::IF_NONE_MATCH, "\"x\"")]),
            &tag,
            t
        ));
        assert!(is_fresh(
            &headers(&[(header::IF_MODIFIED_SINCE, &date)]),
            &tag,
            t
        ));
        let earlier = http_date(t - chrono::Duration::seconds(1));
        assert!(!is_fresh(
            &headers(&[(header::IF_MODIFIED_SINCE, &earlier)]),
            &tag,
            t
        ));
        // If-None-Match wins: a stale tag with a current date is not fresh.
        assert!(!is_fresh(
            &headers(&[
                (header::IF_NONE_MATCH, "\"x\""),
                (header::IF_MODIFIED_SINCE, &date)
            ]),
            &tag,
            t
        ));
        assert!(!is_fresh(&headers(&[]), &tag, t));
    }

    #[test]
    fn a_source_url_with_secrets_is_shown_as_its_origin() {
        let plain = Url::parse("https://www.rusemb.org.uk/newarh/&start=1").unwrap();
        assert_eq!(public_page(&plain), plain);
        let secret = Url::parse("https://u:p@example.org/feed?api_key=k").unwrap();
        assert_eq!(public_page(&secret).as_str(), "https://example.org/");
    }
}
