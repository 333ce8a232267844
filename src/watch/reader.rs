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
//! When to look: the store tells of every write to releases
//! ([`Store::watch_releases`]); a change (a read recorded news, or a
//! listing changed) starts a pass, and so does the next retry coming due.
//! Nothing else wakes it: an idle bot stays asleep.

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
    let mut changes = store.watch_releases();
    loop {
        if shutdown.is_requested() {
            return;
        }
        // Writes from here on (the pass's own bodies among them) wake the
        // next wait; that extra pass finds nothing due and costs one look.
        changes.borrow_and_update();
        let next_retry = match pass(&full_text, &mut sites, &store, &shutdown).await {
            Ok(next_retry) => next_retry,
            Err(e) => {
                tracing::warn!(error = %e, "cannot look for releases to read");
                Some(Utc::now().timestamp() + FIRST_RETRY_SECS)
            }
        };
        let retry_in = next_retry
            .map(|at| Duration::from_secs(u64::try_from(at - Utc::now().timestamp()).unwrap_or(0)));
        tokio::select! {
            changed = changes.changed() => {
                if changed.is_err() {
                    return; // the store is gone
                }
            }
            _ = tokio::time::sleep(retry_in.unwrap_or_default()), if retry_in.is_some() => {}
            _ = shutdown.requested() => return,
        }
    }
}

/// Reads the pages that are due among the newest `backlog` releases, oldest
/// first; when the next failed read comes due for a retry, if one will.
async fn pass(
    full_text: &FullTextConfig,
    sites: &mut HashMap<String, Site>,
    store: &Store,
    shutdown: &Shutdown,
) -> Result<Option<i64>, StoreError> {
    let (due, mut next_retry) = due(store, full_text, Utc::now().timestamp())?;
    for (stored, record) in due.into_iter().rev() {
        let Some(site) = sites.get_mut(&stored.source) else {
            continue; // its source is no longer configured
        };
        tokio::select! {
            _ = tokio::time::sleep_until(site.next_read) => {}
            _ = shutdown.requested() => return Ok(next_retry),
        }
        let (record, wait) = read_page(site, &stored, record, full_text).await;
        site.next_read = Instant::now() + full_text.delay.max(wait.unwrap_or_default());
        store.save_page_record(&stored.item.id, &record)?;
        let listing = listing_hash(&stored.item.title, &stored.item.lead);
        next_retry = earliest(
            next_retry,
            retry_at(&record, listing, full_text.max_attempts),
        );
    }
    Ok(next_retry)
}

/// When `record`'s page will want another read for `listing`, if it will
/// (a failed read with attempts left).
fn retry_at(record: &PageRecord, listing: u64, max_attempts: u32) -> Option<i64> {
    let wants = record.listing != listing || (!record.done && record.failures < max_attempts);
    wants.then_some(record.retry_at)
}

fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A release whose page is due, with what is known of it.
type Due = (StoredItem, Option<PageRecord>);

/// The releases among the newest `backlog` whose page should be read now,
/// newest first, with what is known of their pages; and when the first of
/// the others comes due for a retry, if one will.
fn due(
    store: &Store,
    full_text: &FullTextConfig,
    now: i64,
) -> Result<(Vec<Due>, Option<i64>), StoreError> {
    let mut out = Vec::new();
    let mut next_retry = None;
    for stored in store.newest_first().take(full_text.backlog) {
        let stored = stored?;
        let record = store.page_record(&stored.item.id)?;
        let listing = listing_hash(&stored.item.title, &stored.item.lead);
        if wants_read(record.as_ref(), listing, now, full_text.max_attempts) {
            out.push((stored, record));
        } else if let Some(record) = &record {
            next_retry = earliest(
                next_retry,
                retry_at(record, listing, full_text.max_attempts),
            );
        }
    }
    Ok((out, next_retry))
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
        let (due, next_retry) = due(&store, &full_text, now.timestamp()).unwrap();
        assert_eq!(next_retry, None, "nothing failed: no timer");
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
        let titles = due_titles(&store, &full_text, now.timestamp());
        assert_eq!(titles, ["Release 9", "Release 8"]);
        // A failed read waits for its retry, and says when that comes.
        let (failed, _) = &due[1];
        let retry_at = now.timestamp() + 120;
        let record = PageRecord {
            seq: failed.seq,
            listing: listing_hash(&failed.item.title, &failed.item.lead),
            failures: 1,
            retry_at,
            ..PageRecord::default()
        };
        store.save_page_record(&failed.item.id, &record).unwrap();
        let (left, next_retry) = super::due(&store, &full_text, now.timestamp()).unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(next_retry, Some(retry_at));
    }

    fn due_titles(store: &Store, full_text: &FullTextConfig, now: i64) -> Vec<String> {
        due(store, full_text, now)
            .unwrap()
            .0
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
