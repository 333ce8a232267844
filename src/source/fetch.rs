//! Fetching one page: the only I/O in the source module.
//!
//! One call, [`fetch`], does a conditional GET (the validators of the last good
//! read go out as `If-None-Match` / `If-Modified-Since`, and a 304 comes back as
//! [`FetchOutcome::NotModified`]), accepts gzip, and reads the body as bytes
//! under a size cap that applies to the *decoded* bytes, so a gzip bomb is
//! refused like any other oversized page. A Content-Length over the cap is
//! refused before the body is read. Bodies are decoded by [`super::charset`].
//! Errors name the URL and say what happened, so the watcher can log them as is.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{
    CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, ETAG, EXPIRES, HeaderMap, IF_MODIFIED_SINCE,
    IF_NONE_MATCH, LAST_MODIFIED,
};
use url::Url;

use super::charset::{self, Decoded};
use crate::config::SourceConfig;

/// Redirects followed before giving up; a loop ends here with a clear error.
pub const MAX_REDIRECTS: usize = 5;

/// Why a page could not be read.
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
    #[error("{url}: more than {limit} redirects (a redirect loop?)")]
    Redirects { url: String, limit: usize },
    #[error("{url}: {detail}")]
    Network {
        url: String,
        detail: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{url}: HTTP status {status}")]
    Status { url: String, status: u16 },
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

/// The validators of a good read, sent back to make the next GET conditional.
/// Kept in memory by the watcher; empty means "unconditional".
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
/// timeouts, gzip, and at most [`MAX_REDIRECTS`] redirects.
pub fn client_for(source: &SourceConfig) -> Result<reqwest::Client, FetchError> {
    reqwest::Client::builder()
        .user_agent(source.user_agent.clone())
        .timeout(source.timeout)
        .connect_timeout(source.connect_timeout)
        .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
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

fn classify(url: &Url, timeout: Duration, source: reqwest::Error) -> FetchError {
    let url = url.to_string();
    if source.is_timeout() {
        FetchError::Timeout {
            url,
            after: timeout,
        }
    } else if source.is_redirect() {
        FetchError::Redirects {
            url,
            limit: MAX_REDIRECTS,
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
    let (url, max_bytes) = (&source.url, source.max_bytes);
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
        return Err(FetchError::Status {
            url: url.to_string(),
            status: status.as_u16(),
        });
    }
    let too_large = |declared| FetchError::TooLarge {
        url: url.to_string(),
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
