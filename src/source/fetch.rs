//! Fetching one page: the only I/O in the source module.
//!
//! Bodies are read as bytes under a size cap and decoded by [`super::charset`];
//! errors say which URL failed and how, so the watcher can log and retry.

use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE};

use crate::config::SourceConfig;

/// Why a page could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: {source}")]
    Network { url: String, source: reqwest::Error },
    #[error("{url}: HTTP status {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: body larger than the {limit}-byte cap (sources[].max_bytes)")]
    TooLarge { url: String, limit: usize },
    #[error("cannot read {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
}

/// A page's decoded text and how it was decoded.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub text: String,
    pub charset: &'static str,
}

/// An HTTP client configured for one source (user agent, timeouts, redirects).
pub fn client_for(source: &SourceConfig) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(source.user_agent.clone())
        .timeout(source.timeout)
        .connect_timeout(source.timeout.min(std::time::Duration::from_secs(10)))
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()
}

/// GETs `url`, refusing bodies over `max_bytes` without reading them whole.
pub async fn fetch(
    client: &reqwest::Client,
    url: &str,
    max_bytes: usize,
) -> Result<Fetched, FetchError> {
    let network = |source| FetchError::Network {
        url: url.to_string(),
        source,
    };
    let mut response = client.get(url).send().await.map_err(network)?;
    let status = response.status();
    if !status.is_success() {
        return Err(FetchError::Status {
            url: url.to_string(),
            status: status.as_u16(),
        });
    }
    let too_large = || FetchError::TooLarge {
        url: url.to_string(),
        limit: max_bytes,
    };
    let declared = response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max_bytes as u64) {
        return Err(too_large());
    }
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(network)? {
        if body.len() + chunk.len() > max_bytes {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    let (text, charset) = super::charset::decode(&body, content_type.as_deref());
    Ok(Fetched { text, charset })
}

/// Reads a saved page from disk (for `preview`), decoded the same way.
pub fn read_file(path: &std::path::Path) -> Result<Fetched, FetchError> {
    let body = std::fs::read(path).map_err(|source| FetchError::File {
        path: path.display().to_string(),
        source,
    })?;
    let (text, charset) = super::charset::decode(&body, None);
    Ok(Fetched { text, charset })
}
