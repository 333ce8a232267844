//! Releases' own pages, read in the background for their full text.
//!
//! Decoupled from pushing: the poller records a release and delivery pushes
//! it with its lead at once; this task, on its own, notices releases whose
//! page was not read yet (or was read for another title or lead) among the
//! newest `full_text.backlog`, reads each page once, extracts its body
//! (`source/body.rs`) and stores it (`store/bodies.rs`). A page that cannot
//! be read costs nothing but its retries.
//!
//! Bounds: at most `backlog` releases are looked at per pass; one page is
//! read at a time, at least `full_text.delay_secs` apart per source, never
//! before the site's `Retry-After`; a page that keeps failing is retried
//! with doubling waits and given up after `full_text.max_attempts`; a 404 or
//! 410 is given up at once. The page itself is read under the source's
//! size cap, timeouts and redirect and address guard
//! ([`crate::source::fetch::fetch_url`]), and the body kept is at most
//! `full_text.max_body_bytes` of text.
//!
//! When to look: the store counts its writes to releases
//! ([`Store::releases_written`]); a change (a read recorded news, or a
//! listing changed) starts a pass, and so does a retry coming due.

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use tokio::time::Instant;
use url::Url;

use crate::config::{FullTextConfig, SourceConfig};
use crate::runtime::shutdown::Shutdown;
use crate::source::body::extract_body;
use crate::source::fetch::{FetchError, FetchOutcome, Validators, client_for, fetch_url};
use crate::store::{PageRecord, Store, StoreError, StoredItem, listing_hash, wants_read};

/// How often the store's count of writes is looked at (one atomic read).
const LOOK_EVERY: Duration = Duration::from_secs(1);
/// A pass runs at least this often, for retries coming due.
const PASS_AT_LEAST_EVERY: Duration = Duration::from_secs(60);
/// The first retry of a failed page; each next one waits twice as long, up to
/// [`MAX_RETRY_WAIT`].
const FIRST_RETRY_SECS: i64 = 60;
const MAX_RETRY_WAIT_SECS: i64 = 6 * 3_600;

/// One source's client, and when its next page may be read.
struct Site {
    source: SourceConfig,
    client: reqwest::Client,
    next_read: Instant,
}

/// Reads releases' pages until shutdown (see the module doc).
pub(crate) async fn run(
    full_text: FullTextConfig,
    sources: Vec<SourceConfig>,
    store: Store,
    shutdown: Shutdown,
) {
    if !full_text.enabled {
        return;
    }
    let mut sites: HashMap<String, Site> = HashMap::new();
    for source in sources {
        match client_for(&source) {
            Ok(client) => {
                let site = Site {
                    source: source.clone(),
                    client,
                    next_read: Instant::now(),
                };
                sites.insert(source.name, site);
            }
            Err(e) => {
                tracing::warn!(source = %source.name, error = %e, "cannot build an HTTP client; its releases' pages are not read")
            }
        }
    }
    let mut seen_writes = None;
    let mut last_pass = Instant::now();
    loop {
        if shutdown.is_requested() {
            return;
        }
        let writes = store.releases_written();
        if seen_writes != Some(writes) || last_pass.elapsed() >= PASS_AT_LEAST_EVERY {
            seen_writes = Some(writes);
            last_pass = Instant::now();
            match pass(&full_text, &mut sites, &store, &shutdown).await {
                // The bodies this pass wrote are no news for the next one;
                // any other write is.
                Ok(own) => seen_writes = Some(writes + own),
                Err(e) => tracing::warn!(error = %e, "cannot look for releases to read"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(LOOK_EVERY) => {}
            _ = shutdown.requested() => return,
        }
    }
}

/// Reads the pages that are due among the newest `backlog` releases, oldest
/// first; how many writes to releases it made (bodies that changed).
async fn pass(
    full_text: &FullTextConfig,
    sites: &mut HashMap<String, Site>,
    store: &Store,
    shutdown: &Shutdown,
) -> Result<u64, StoreError> {
    let mut own = 0;
    let due = due(store, full_text, Utc::now().timestamp())?;
    for (stored, record) in due.into_iter().rev() {
        let Some(site) = sites.get_mut(&stored.source) else {
            continue; // its source is no longer configured
        };
        tokio::select! {
            _ = tokio::time::sleep_until(site.next_read) => {}
            _ = shutdown.requested() => return Ok(own),
        }
        let (record, wait) = read_page(site, &stored, record, full_text).await;
        site.next_read = Instant::now() + full_text.delay.max(wait.unwrap_or_default());
        if store.save_page_record(&stored.item.id, &record)? {
            own += 1;
        }
    }
    Ok(own)
}

/// The releases among the newest `backlog` whose page should be read now,
/// newest first, with what is known of their pages.
fn due(
    store: &Store,
    full_text: &FullTextConfig,
    now: i64,
) -> Result<Vec<(StoredItem, Option<PageRecord>)>, StoreError> {
    let mut out = Vec::new();
    for stored in store.newest_first().take(full_text.backlog) {
        let stored = stored?;
        let record = store.page_record(&stored.item.id)?;
        let listing = listing_hash(&stored.item.title, &stored.item.lead);
        if wants_read(record.as_ref(), listing, now, full_text.max_attempts) {
            out.push((stored, record));
        }
    }
    Ok(out)
}

/// Reads `stored`'s page once: the record to keep, and how long the site
/// asked us to wait (`Retry-After`).
async fn read_page(
    site: &Site,
    stored: &StoredItem,
    record: Option<PageRecord>,
    full_text: &FullTextConfig,
) -> (PageRecord, Option<Duration>) {
    let listing = listing_hash(&stored.item.title, &stored.item.lead);
    let now = Utc::now().timestamp();
    let mut record = record.unwrap_or_default();
    record.seq = stored.seq;
    if record.listing != listing {
        // A new listing: a read of its own, with attempts of its own.
        record.listing = listing;
        record.done = false;
        record.failures = 0;
    }
    let validators = Validators {
        etag: record.etag.clone(),
        last_modified: record.last_modified.clone(),
    };
    let metrics = crate::metrics::get();
    let result = match Url::parse(&stored.item.url) {
        Ok(url) => fetch_url(&site.client, &site.source, &url, &validators).await,
        Err(_) => {
            record.done = true; // no address to read: nothing to retry
            return (record, None);
        }
    };
    match result {
        Ok(FetchOutcome::NotModified) => {
            metrics.release_pages_read.inc();
            record.done = true;
        }
        Ok(FetchOutcome::Fetched(fetched)) => {
            metrics.release_pages_read.inc();
            let body = extract_body(
                &fetched.body.text,
                &fetched.http.final_url,
                &stored.item.title,
                site.source.body_selector.as_ref(),
                full_text.max_body_bytes,
            );
            match body {
                Some(body) => record.body = Some(body),
                None => {
                    tracing::info!(source = %site.source.name, release = %stored.item.id, "no body found on the release's page")
                }
            }
            record.done = true;
            record.etag = fetched.http.validators.etag;
            record.last_modified = fetched.http.validators.last_modified;
        }
        Err(e) => {
            metrics.release_page_failures.inc();
            record.failures += 1;
            let wait = retry_wait(record.failures, e.retry_after());
            record.retry_at = now + wait;
            if gone(&e) {
                record.failures = full_text.max_attempts;
            }
            tracing::warn!(source = %site.source.name, release = %stored.item.id, failures = record.failures, error = %e, "cannot read a release's page");
            return (record, e.retry_after());
        }
    }
    (record, None)
}

/// A page that is not there (404, 410) is not asked for again.
fn gone(e: &FetchError) -> bool {
    matches!(
        e,
        FetchError::Status {
            status: 404 | 410,
            ..
        }
    )
}

/// Seconds before the next try after `failures` failed reads: doubling from
/// a minute, at most six hours, and never before what the site asked.
fn retry_wait(failures: u32, asked: Option<Duration>) -> i64 {
    let doubled = FIRST_RETRY_SECS.saturating_mul(1 << failures.saturating_sub(1).min(16));
    let asked = asked.map_or(0, |d| d.as_secs() as i64);
    doubled.min(MAX_RETRY_WAIT_SECS).max(asked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_the_newest_backlog_releases_are_looked_at_and_each_once() {
        use crate::source::Item;
        use crate::store::PollPolicy;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let items: Vec<Item> = (1..=10)
            .map(|n| Item {
                id: format!("example.org/n/{n}"),
                url: format!("https://example.org/n/{n}"),
                title: format!("Release {n}"),
                date: chrono::NaiveDate::from_ymd_opt(2026, 12, n),
                lead: String::new(),
            })
            .collect();
        let now = Utc::now();
        store
            .record_poll("s", &items, &PollPolicy::unguarded(), now)
            .await
            .unwrap();
        let full_text = FullTextConfig {
            backlog: 3,
            ..FullTextConfig::default()
        };
        let due = due(&store, &full_text, now.timestamp()).unwrap();
        let titles: Vec<&str> = due.iter().map(|(s, _)| s.item.title.as_str()).collect();
        assert_eq!(titles, ["Release 10", "Release 9", "Release 8"]);
        // Read: not due again, until its listing changes.
        let (stored, _) = &due[0];
        let record = PageRecord {
            seq: stored.seq,
            listing: listing_hash(&stored.item.title, &stored.item.lead),
            done: true,
            ..PageRecord::default()
        };
        store.save_page_record(&stored.item.id, &record).unwrap();
        let due = due_titles(&store, &full_text, now.timestamp());
        assert_eq!(due, ["Release 9", "Release 8"]);
    }

    fn due_titles(store: &Store, full_text: &FullTextConfig, now: i64) -> Vec<String> {
        due(store, full_text, now)
            .unwrap()
            .into_iter()
            .map(|(s, _)| s.item.title)
            .collect()
    }

    #[test]
    fn retries_double_from_a_minute_to_six_hours_and_wait_for_the_site() {
        assert_eq!(retry_wait(1, None), 60);
        assert_eq!(retry_wait(2, None), 120);
        assert_eq!(retry_wait(40, None), MAX_RETRY_WAIT_SECS);
        assert_eq!(retry_wait(1, Some(Duration::from_secs(600))), 600);
    }
}
