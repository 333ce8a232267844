//! Watching sources: fetch each on its interval, extract, and record in the store.
//!
//! A failed read (network, HTTP status, a page with no releases on it) records
//! nothing and is retried sooner, with backoff; one source never waits for another.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, watch};

use crate::config::SourceConfig;
use crate::source::fetch::{FetchError, FetchOutcome, Validators, fetch};
use crate::source::{ExtractError, extract};
use crate::store::{PollOutcome, Store, StoreError};

/// Why one poll recorded nothing.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The body could not be read as the source's kind (an unparsable feed).
    #[error(transparent)]
    Extract(#[from] ExtractError),
    /// The page was read but held no release links: a layout change, an error
    /// page served with status 200, or a wrong URL. Nothing is recorded.
    #[error(
        "{url}: no releases found on the page (links matching sources[].link_patterns); nothing recorded"
    )]
    NoItems { url: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads `source` once (conditionally, with `validators` from the last good read)
/// and records what it shows. `Ok(None)` means 304 Not Modified: a successful
/// read with nothing to record. `validators` are replaced only once the new page
/// has been recorded, so a page that failed to record is fetched whole again.
pub async fn poll_once(
    source: &SourceConfig,
    client: &reqwest::Client,
    store: &Store,
    validators: &mut Validators,
    now: DateTime<Utc>,
) -> Result<Option<PollOutcome>, PollError> {
    let fetched = match fetch(
        client,
        &source.url,
        source.max_bytes,
        source.timeout,
        validators,
    )
    .await?
    {
        FetchOutcome::NotModified => return Ok(None),
        FetchOutcome::Fetched(fetched) => *fetched,
    };
    let page = extract(source, &fetched.body.text, &fetched.http.final_url)?;
    if page.items.is_empty() {
        return Err(PollError::NoItems {
            url: source.url.to_string(),
        });
    }
    if !page.contacts.is_empty() {
        store.save_contacts(&page.contacts, now).await?;
    }
    let outcome = store.record_poll(&source.name, &page.items, now).await?;
    *validators = fetched.http.validators;
    Ok(Some(outcome))
}

/// Polls `source` until `shutdown` turns true, waking delivery when pushes were journaled.
pub async fn run(
    source: SourceConfig,
    store: Store,
    delivery_wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    let client = match crate::source::fetch::client_for(&source) {
        Ok(client) => client,
        Err(e) => {
            tracing::error!(source = %source.name, error = %e, "cannot build an HTTP client; this source is not watched");
            return;
        }
    };
    let mut failures: u32 = 0;
    // In memory only: after a restart the first read is unconditional.
    let mut validators = Validators::default();
    loop {
        if *shutdown.borrow() {
            return;
        }
        let delay = match poll_once(&source, &client, &store, &mut validators, Utc::now()).await {
            Ok(None) => {
                failures = 0;
                tracing::debug!(source = %source.name, "not modified");
                source.interval
            }
            Ok(Some(outcome)) => {
                failures = 0;
                if outcome.first_poll {
                    tracing::info!(source = %source.name, items = outcome.new_items.len(), "first read recorded; nothing announced");
                } else if !outcome.new_items.is_empty() {
                    tracing::info!(source = %source.name, new = outcome.new_items.len(), queued = outcome.queued, "new releases");
                }
                if outcome.queued > 0 {
                    delivery_wake.notify_one();
                }
                source.interval
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::warn!(source = %source.name, error = %e, failures, "poll failed");
                if let Err(store_error) =
                    store.record_failure(&source.name, &e.to_string(), Utc::now())
                {
                    tracing::error!(error = %store_error, "cannot record the failure");
                }
                retry_delay(failures, source.interval)
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// Backoff after `failures` consecutive failures: 10 s doubling, never above the interval.
pub fn retry_delay(failures: u32, interval: Duration) -> Duration {
    let exp = failures.saturating_sub(1).min(16);
    Duration::from_secs(10u64 << exp).min(interval)
}
