//! Fetching one page: the only I/O in the source module.
//!
//! One call, [`fetch`], does a conditional GET (the validators of the last good
//! read go out as `If-None-Match` / `If-Modified-Since`, and a 304 comes back as
//! [`FetchOutcome::NotModified`]), accepts gzip, and reads the body as bytes
//! under a size cap that applies to the *decoded* bytes, so a gzip bomb is
//! refused like any other oversized page. A Content-Length over the cap is
//! refused before the body is read. Bodies are decoded by [`super::charset`].
//! Errors name the URL (redacted: [`crate::config::redact`]) and say what happened, so
//! the poller can log and store them as they are; a 429 or 503 carries the
//! site's `Retry-After` for the poller to honour.
//!
//! What a site can make us reach is bounded by [`super::guard`]: redirects
//! stay on the configured site, and names never resolve into the inside network.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use reqwest::StatusCode;
use reqwest::dns::Resolve;
use reqwest::header::{
    CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, ETAG, EXPIRES, HeaderMap, IF_MODIFIED_SINCE,
    IF_NONE_MATCH, LAST_MODIFIED, RETRY_AFTER,
};
use url::Url;

use super::charset::{self, Decoded};
use super::guard::{
    GuardedResolver, RedirectRefusal, RefusedAddress, RefusedRedirect, SystemResolver,
};
use crate::config::SourceConfig;
use crate::config::redact::Redacted;

/// The longest wait a site's `Retry-After` can impose: a larger value (or a
/// date further ahead) counts as this, so a site cannot silence a source for days.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3_600);

/// Why a page could not be read. URLs in it are redacted.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The HTTP client could not be built from the source's settings.
    #[error("cannot build an HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    #[error("{url}: no connection: {detail}")]
    Connect {
        url: String,
        detail: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{url}: no complete answer within {after:?} (sources[].timeout_secs)")]
    Timeout { url: String, after: Duration },
    /// A redirect broke the rules of [`super::guard`]; nothing was read from its target.
    #[error("{url}: redirect to {to} refused: {refusal}")]
    Redirect {
        url: String,
        to: String,
        refusal: RedirectRefusal,
    },
    /// A host name resolved only to addresses a public source may not reach.
    #[error(
        "{url}: {host} resolves only to loopback, private or link-local addresses, which a source at a public address may not reach; refused before connecting"
    )]
    LocalAddress { url: String, host: String },
    #[error("{url}: {detail}")]
    Network {
        url: String,
        detail: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{url}: HTTP status {status}{}",
        .retry_after.map(|d| format!(" (the site asks to wait {} s)", d.as_secs())).unwrap_or_default())]
    Status {
        url: String,
        status: u16,
        /// The site's `Retry-After` on a 429 or 503, at most [`MAX_RETRY_AFTER`].
        retry_after: Option<Duration>,
    },
    #[error("{url}: body larger than the {limit}-byte cap (sources[].max_bytes){}",
        .declared.map(|d| format!("; Content-Length says {d}")).unwrap_or_default())]
    TooLarge {
        url: String,
        limit: usize,
        declared: Option<u64>,
    },
    #[error("cannot read {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
}

impl FetchError {
    /// How long the site asked us to wait before reading again, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// The validators of a good read, sent back to make the next GET conditional.
/// Kept in memory by the poller; empty means "unconditional".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// `ETag`, sent back as `If-None-Match`.
    pub etag: Option<String>,
    /// `Last-Modified`, sent back as `If-Modified-Since`.
    pub last_modified: Option<String>,
}

impl Validators {
    /// True when the next request would be unconditional.
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// What one conditional GET gave.
#[derive(Debug, Clone)]
pub enum FetchOutcome {
    /// 304: the page is as it was at the last good read; keep the old validators.
    NotModified,
    /// A full body (boxed: it dwarfs the other variant).
    Fetched(Box<Fetched>),
}

/// A page's decoded text, how it was decoded, and what HTTP said about it.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub body: Decoded,
    pub http: HttpMeta,
}

/// What the response's status line and headers said, beyond the body.
#[derive(Debug, Clone)]
pub struct HttpMeta {
    pub status: u16,
    /// Where the body came from after redirects: relative links resolve against it.
    pub final_url: Url,
    /// To store (in memory) for the next conditional GET.
    pub validators: Validators,
    /// `Cache-Control`, shown by `check-source`.
    pub cache_control: Option<String>,
    /// `Expires`, shown by `check-source`.
    pub expires: Option<String>,
}

/// An HTTP client configured for one source: user agent, connect and total
/// timeouts, gzip, and the redirect and address rules of [`super::guard`].
pub fn client_for(source: &SourceConfig) -> Result<reqwest::Client, FetchError> {
    client_with_resolver(source, Arc::new(SystemResolver))
}

/// [`client_for`] with `names` standing in for the system's resolver (tests
/// give a table); the address guard applies to whatever it answers.
pub fn client_with_resolver(
    source: &SourceConfig,
    names: Arc<dyn Resolve>,
) -> Result<reqwest::Client, FetchError> {
    reqwest::Client::builder()
        .user_agent(source.user_agent.clone())
        .timeout(source.timeout)
        .connect_timeout(source.connect_timeout)
        .redirect(super::guard::redirect_policy(&source.url))
        .dns_resolver(Arc::new(GuardedResolver::new(&source.url, names)))
        // A proxy would resolve names itself, out of the guard's reach.
        .no_proxy()
        .gzip(true)
        .build()
        .map_err(FetchError::Client)
}

/// The message of an error and of its causes, so "error sending request" says why.
fn chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut next = error.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = cause.source();
    }
    out
}

/// The first error in `error`'s chain of causes that is a `T`.
fn find_cause<T: std::error::Error + 'static>(error: &reqwest::Error) -> Option<&T> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = next {
        if let Some(found) = cause.downcast_ref::<T>() {
            return Some(found);
        }
        next = cause.source();
    }
    None
}

fn classify(url: &Url, timeout: Duration, source: reqwest::Error) -> FetchError {
    // reqwest's errors end with the URL, unredacted: drop it, ours is in front.
    let source = source.without_url();
    let url = Redacted(url).to_string();
    if let Some(refused) = find_cause::<RefusedRedirect>(&source) {
        FetchError::Redirect {
            url,
            to: refused.to.clone(),
            refusal: refused.refusal.clone(),
        }
    } else if let Some(refused) = find_cause::<RefusedAddress>(&source) {
        FetchError::LocalAddress {
            url,
            host: refused.host.clone(),
        }
    } else if source.is_timeout() {
        FetchError::Timeout {
            url,
            after: timeout,
        }
    } else if source.is_connect() {
        FetchError::Connect {
            url,
            detail: chain(&source),
            source,
        }
    } else {
        FetchError::Network {
            url,
            detail: chain(&source),
            source,
        }
    }
}

/// A `Retry-After` value — seconds, or an HTTP date (IMF-fixdate, RFC 850 or
/// asctime) — as a wait from `now`, at most [`MAX_RETRY_AFTER`]; a date in
/// the past is no wait. `None` when it is neither.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    let wait = if let Ok(secs) = value.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let at = DateTime::parse_from_rfc2822(value)
            .map(|d| d.with_timezone(&Utc))
            .ok()
            .or_else(|| {
                ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
                    .iter()
                    .find_map(|f| NaiveDateTime::parse_from_str(value, f).ok())
                    .map(|d| d.and_utc())
            })?;
        (at - now).to_std().unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

fn header(headers: &HeaderMap, name: reqwest::header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// GETs `source`'s URL with `client` (made by [`client_for`], which enforces
/// the timeouts), conditionally when `validators` hold anything. Bodies over
/// `max_bytes` are refused without being read whole.
pub async fn fetch(
    client: &reqwest::Client,
    source: &SourceConfig,
    validators: &Validators,
) -> Result<FetchOutcome, FetchError> {
    fetch_url(client, source, &source.url, validators).await
}

/// [`fetch`] of another page of `source`'s site (a release's own page): the
/// same client, timeouts, size cap and redirect rules, and the same first
/// rule a redirect must keep ([`super::guard::check_redirect`]): `url` is on
/// the source's host or its `www.` twin, over http(s), never a downgrade.
pub async fn fetch_url(
    client: &reqwest::Client,
    source: &SourceConfig,
    url: &Url,
    validators: &Validators,
) -> Result<FetchOutcome, FetchError> {
    if url != &source.url
        && let Err(refusal) = super::guard::check_redirect(&source.url, &[], url)
    {
        return Err(FetchError::Redirect {
            url: Redacted(&source.url).to_string(),
            to: Redacted(url).to_string(),
            refusal,
        });
    }
    let max_bytes = source.max_bytes;
    let shown = || Redacted(url).to_string();
    let fail = |e| classify(url, source.timeout, e);
    let mut request = client.get(url.clone());
    if let Some(etag) = &validators.etag {
        request = request.header(IF_NONE_MATCH, etag.as_str());
    }
    if let Some(date) = &validators.last_modified {
        request = request.header(IF_MODIFIED_SINCE, date.as_str());
    }
    let mut response = request.send().await.map_err(fail)?;
    let status = response.status();
    if status == StatusCode::NOT_MODIFIED {
        return Ok(FetchOutcome::NotModified);
    }
    if !status.is_success() {
        let asks_to_wait = matches!(
            status,
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
        );
        return Err(FetchError::Status {
            url: shown(),
            status: status.as_u16(),
            retry_after: header(response.headers(), RETRY_AFTER)
                .filter(|_| asks_to_wait)
                .and_then(|v| parse_retry_after(&v, Utc::now())),
        });
    }
    let too_large = |declared| FetchError::TooLarge {
        url: shown(),
        limit: max_bytes,
        declared,
    };
    // With gzip reqwest drops Content-Length (it describes the compressed bytes);
    // the loop below then caps the decoded bytes instead.
    let declared = response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(len) = declared.filter(|&len| len > max_bytes as u64) {
        return Err(too_large(Some(len)));
    }
    let headers = response.headers();
    let content_type = header(headers, CONTENT_TYPE);
    let validators = Validators {
        etag: header(headers, ETAG),
        last_modified: header(headers, LAST_MODIFIED),
    };
    let cache_control = header(headers, CACHE_CONTROL);
    let expires = header(headers, EXPIRES);
    let final_url = response.url().clone();

    let mut body = Vec::with_capacity(declared.map_or(64 * 1024, |d| d as usize));
    while let Some(chunk) = response.chunk().await.map_err(fail)? {
        if body.len() + chunk.len() > max_bytes {
            return Err(too_large(None));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(FetchOutcome::Fetched(Box::new(Fetched {
        body: charset::decode(&body, content_type.as_deref()),
        http: HttpMeta {
            status: status.as_u16(),
            final_url,
            validators,
            cache_control,
            expires,
        },
    })))
}

/// Reads a saved page from disk (for `preview` and `check-source`), decoded the
/// same way as a fetched one but with no HTTP header to go by.
pub fn read_file(path: &std::path::Path) -> Result<Decoded, FetchError> {
    let body = std::fs::read(path).map_err(|source| FetchError::File {
        path: path.display().to_string(),
        source,
    })?;
    Ok(charset::decode(&body, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_release_page_off_the_sources_site_is_refused_before_connecting() {
        let config = crate::config::Config::from_toml(
            "[[sources]]\nname = \"s\"\nurl = \"https://example.org/news\"\n",
        )
        .unwrap();
        let source = &config.sources[0];
        let client = client_for(source).unwrap();
        for url in [
            "https://elsewhere.example.net/fnapr/1",
            "http://example.org/fnapr/1",
            "https://127.0.0.1/fnapr/1",
        ] {
            let url = Url::parse(url).unwrap();
            let error = fetch_url(&client, source, &url, &Validators::default())
                .await
                .unwrap_err();
            assert!(
                matches!(error, FetchError::Redirect { .. }),
                "{url}: {error}"
            );
        }
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date_capped_at_an_hour() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:27:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let parse = |v| parse_retry_after(v, now);
        assert_eq!(parse("10"), Some(Duration::from_secs(10)));
        assert_eq!(parse(" 0 "), Some(Duration::ZERO));
        assert_eq!(parse("86400"), Some(MAX_RETRY_AFTER));
        assert_eq!(
            parse("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse("Wednesday, 21-Oct-15 07:28:30 GMT"),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            parse("Wed Oct 21 07:29:00 2015"),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse("Wed, 21 Oct 2015 07:00:00 GMT"),
            Some(Duration::ZERO),
            "past"
        );
        assert_eq!(
            parse("Thu, 22 Oct 2015 07:28:00 GMT"),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(parse("soon"), None);
        assert_eq!(parse("-5"), None);
    }
}
