//! Polling sources: fetch each on its interval, extract, and record in the store.
//!
//! A failed read (network, HTTP status, a page with no releases on it) records
//! nothing and is retried with backoff and jitter ([`read_retry_delay`]): soon at
//! first, then less often than a healthy source is read, and never before the
//! site's `Retry-After`; one source never waits for another. Operators ([`Alerts`]) hear once when a source has been
//! failing for `alert_after_secs` and once when it recovers, at once when a page
//! that had releases shows none, and when one read brings more new items than
//! the flood guard allows. A page whose configured extraction stopped finding
//! its releases is first read through a fallback ([`crate::watch::repair`]); only
//! when none works is it the emptied page above.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::alerts::Alerts;
use crate::config::SourceConfig;
use crate::config::redact::Redacted;
use crate::runtime::shutdown::Shutdown;
use crate::source::fetch::{FetchError, FetchOutcome, Validators, fetch};
use crate::source::{ExtractError, extract_at};
use crate::store::{PollOutcome, PollPolicy, Store, StoreError};
use crate::text::markup::escape;
use crate::watch::repair::{Change, Fetched};

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
    /// `had` is how many the last good read showed (0 once reported).
    #[error(
        "{url}: no releases found on the page (links matching sources[].link_patterns); nothing recorded"
    )]
    NoItems { url: String, had: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl PollError {
    /// A short fixed name for the kind of failure (a metrics label).
    pub fn kind(&self) -> &'static str {
        match self {
            PollError::Fetch(e) => match e {
                FetchError::Client(_) => "client",
                FetchError::Connect { .. } => "connect",
                FetchError::Timeout { .. } => "timeout",
                FetchError::Redirect { .. } => "redirect_refused",
                FetchError::LocalAddress { .. } => "local_address",
                FetchError::Network { .. } => "network",
                FetchError::Status { .. } => "http_status",
                FetchError::TooLarge { .. } => "too_large",
                FetchError::File { .. } => "file",
            },
            PollError::Extract(_) => "unreadable",
            PollError::NoItems { .. } => "no_items",
            PollError::Store(_) => "store",
        }
    }
}

/// Reads `source` once (conditionally, with `validators` from the last good read)
/// and records what it shows, under the source's flood guard at `now`.
/// `Ok(None)` means 304 Not Modified: a successful read with nothing to record
/// but the time. `validators` are replaced only once the new page has been
/// recorded, so a page that failed to record is fetched whole again.
pub async fn poll_once(
    source: &SourceConfig,
    client: &reqwest::Client,
    store: &Store,
    validators: &mut Validators,
    now: DateTime<Utc>,
) -> Result<Option<PollOutcome>, PollError> {
    Ok(poll_read(source, client, store, validators, now).await?.0)
}

/// [`poll_once`], and whether the source began or stopped reading through a
/// fallback ([`crate::watch::repair`]), for operators.
async fn poll_read(
    source: &SourceConfig,
    client: &reqwest::Client,
    store: &Store,
    validators: &mut Validators,
    now: DateTime<Utc>,
) -> Result<(Option<PollOutcome>, Option<Change>), PollError> {
    let fetched = match fetch(client, source, validators).await? {
        FetchOutcome::NotModified => {
            store.record_unchanged(&source.name, now)?;
            return Ok((None, None));
        }
        FetchOutcome::Fetched(fetched) => *fetched,
    };
    let crate::source::fetch::Fetched { body, http } = fetched;
    let base = &http.final_url;
    let mut page = extract_at(source, &body.text, base, now)?;
    let text = &body.text;
    let configured = std::mem::take(&mut page.items);
    let read = crate::watch::repair::read(
        source,
        client,
        store,
        Fetched { text, base },
        configured,
        now,
    )
    .await?;
    // The page (up to `max_bytes`, decoded) is not needed past extraction:
    // freed before the store's transaction, not held through its peak.
    drop(body);
    page.items = read.items;
    let keep = read.keep;
    if page.items.is_empty() {
        return Err(PollError::NoItems {
            url: Redacted(&source.url).to_string(),
            had: store.record_empty(&source.name)?,
        });
    }
    if !page.contacts.is_empty() {
        store.save_contacts(&page.contacts, now).await?;
    }
    let policy = PollPolicy::new(source.max_new_items, source.max_age_days, now.date_naive())
        .retaining(source.retention)
        .editing(source.edit_revisions);
    let outcome = store
        .record_poll(&source.name, &page.items, &policy, now)
        .await?;
    crate::watch::repair::keep(store, &source.name, keep)?;
    *validators = http.validators;
    Ok((Some(outcome), read.change))
}

/// A page that showed at least this many releases and then none is reported
/// to operators: fewer could be a quiet feed emptying out on its own.
pub(crate) const EMPTY_ALERT_MIN: u64 = 3;

/// Backoff beyond [`BACKOFF_INTERVALS`] intervals stops here, unless the
/// interval is over half of it (then at 2 intervals), or the site asked for
/// longer (`Retry-After`): a failing source still notices recovery soon.
pub(crate) const RETRY_CAP: Duration = Duration::from_secs(3_600);

/// A failing source backs off to at most this many intervals, so once backed
/// off it is read less often than a healthy one, never more often.
pub(crate) const BACKOFF_INTERVALS: u32 = 4;

/// The first retry of a failing source comes after about this long (or the
/// interval, if shorter): most failures are passing blips.
pub(crate) const FIRST_RETRY: Duration = Duration::from_secs(10);

/// Polls `source` until shutdown, waking delivery when pushes were
/// journaled and telling operators through `alerts` what needs a human.
pub(crate) async fn run(
    source: SourceConfig,
    store: Store,
    delivery_wake: Arc<Notify>,
    alerts: Alerts,
    shutdown: Shutdown,
) {
    let client = match crate::source::fetch::client_for(&source) {
        Ok(client) => client,
        Err(e) => {
            tracing::error!(source = %source.name, error = %e, "cannot build an HTTP client; this source is not watched");
            return;
        }
    };
    let mut health: Health = match store.source_state(&source.name) {
        Ok(saved) => saved.unwrap_or_default(),
        Err(e) => {
            tracing::warn!(source = %source.name, error = %e, "cannot read the source's saved health; starting afresh");
            Health::default()
        }
    };
    // In memory only: after a restart the first read is unconditional.
    let mut validators = Validators::default();
    loop {
        if shutdown.is_requested() {
            return;
        }
        let now = Utc::now();
        let health_before = health.clone();
        let started = std::time::Instant::now();
        let result = poll_read(&source, &client, &store, &mut validators, now).await;
        let result = result.map(|(outcome, change)| {
            if let Some(change) = change {
                tracing::warn!(source = %source.name, ?change, "the source's reading changed");
                alerts.send(crate::watch::repair::message(&source, &change));
            }
            outcome
        });
        count_poll(&source.name, &result, started.elapsed());
        let delay = match result {
            Ok(outcome) => {
                if let Some(outcome) = outcome {
                    report(&source, &outcome, &alerts);
                    if outcome.revised > 0 {
                        tracing::info!(source = %source.name, revised = outcome.revised, edits_queued = outcome.edits_queued, "releases revised");
                    }
                    if outcome.queued + outcome.edits_queued > 0 {
                        delivery_wake.notify_one();
                    }
                } else {
                    tracing::debug!(source = %source.name, "not modified");
                }
                if let Some(change) = health.succeeded(now) {
                    alerts.send(health_message(&source, &change));
                }
                source.interval
            }
            Err(e) => {
                let error = e.to_string();
                let asked = match &e {
                    PollError::Fetch(fetch) => fetch.retry_after(),
                    _ => None,
                };
                if let Err(store_error) = store.record_failure(&source.name, &error, now) {
                    tracing::error!(error = %store_error, "cannot record the failure");
                }
                if let PollError::NoItems { had, .. } = e
                    && had >= EMPTY_ALERT_MIN
                {
                    // Reported now, not after alert_after: this is no passing outage.
                    health.mark_alerted();
                    alerts.send(emptied_message(&source, had));
                }
                let change = health.failed(now, source.alert_after, &error);
                tracing::warn!(source = %source.name, error = %error, failures = health.failures, "poll failed");
                if let Some(change) = change {
                    alerts.send(health_message(&source, &change));
                }
                let seed = u64::from(now.timestamp_subsec_nanos()) ^ u64::from(health.failures);
                read_retry_delay(health.failures, source.interval, asked, seed)
            }
        };
        if health != health_before
            && let Err(e) = store.save_source_state(&source.name, &health)
        {
            tracing::warn!(source = %source.name, error = %e, "cannot save the source's health");
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.requested() => {}
        }
    }
}

/// Counts one read in the metrics: its duration, result and what it recorded.
fn count_poll(source: &str, result: &Result<Option<PollOutcome>, PollError>, took: Duration) {
    let metrics = crate::metrics::get();
    let kind = match result {
        Ok(Some(outcome)) => {
            let stored = outcome.new_items.len() as u64;
            crate::metrics::Metrics::per_source(&metrics.releases_stored, source, stored);
            let queued = outcome.queued as u64;
            crate::metrics::Metrics::per_source(&metrics.releases_announced, source, queued);
            "ok"
        }
        Ok(None) => "not_modified",
        Err(e) => e.kind(),
    };
    metrics.poll(source, kind, took);
}

/// Logs what a recorded read brought, and tells operators about a flood.
fn report(source: &SourceConfig, outcome: &PollOutcome, alerts: &Alerts) {
    let name = &source.name;
    let new = outcome.new_items.len();
    if outcome.first_poll {
        tracing::info!(source = %name, items = new, "first read recorded; nothing pushed");
    } else if outcome.flood {
        tracing::warn!(source = %name, new, max = source.max_new_items, "flood guard: new releases recorded, none pushed");
        alerts.send(format!(
            "⚠️ Source <b>{}</b> ({}): {new} new releases in one read, more than max_new_items ({}). \
             They are recorded but nobody was sent them: most likely the page's address or layout changed. \
             <code>check-source {}</code> shows what the bot reads.",
            escape(name),
            escape(&Redacted(&source.url).to_string()),
            source.max_new_items,
            escape(name),
        ));
    } else if new > 0 {
        tracing::info!(source = %name, new, queued = outcome.queued, too_old = outcome.too_old, "new releases");
    }
}

/// Where one source stands across reads, to decide what operators hear.
/// Pure: every call takes `now`. Kept in the store, so an outage that spans a
/// restart still ends with its recovery message.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Health {
    /// Consecutive failed reads.
    pub failures: u32,
    /// When the current run of failures began.
    pub failing_since: Option<DateTime<Utc>>,
    /// Whether operators were told about the current run (so they hear of its end).
    pub alerted: bool,
}

/// What operators should hear after a read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthChange {
    /// Failing for `failing_for` by now; the last error.
    Failing {
        failing_for: Duration,
        error: String,
    },
    /// Reading again after failing for `failed_for`.
    Recovered { failed_for: Duration },
}

impl Health {
    /// Records a failed read; says `Failing` once, when the run of failures
    /// first reaches `alert_after`.
    pub fn failed(
        &mut self,
        now: DateTime<Utc>,
        alert_after: Duration,
        error: &str,
    ) -> Option<HealthChange> {
        self.failures = self.failures.saturating_add(1);
        let since = *self.failing_since.get_or_insert(now);
        let failing_for = (now - since).to_std().unwrap_or_default();
        if self.alerted || failing_for < alert_after {
            return None;
        }
        self.alerted = true;
        Some(HealthChange::Failing {
            failing_for,
            error: error.to_string(),
        })
    }

    /// Records a good read; says `Recovered` if operators were told of the failures.
    pub fn succeeded(&mut self, now: DateTime<Utc>) -> Option<HealthChange> {
        let before = std::mem::take(self);
        let since = before.failing_since?;
        before.alerted.then(|| HealthChange::Recovered {
            failed_for: (now - since).to_std().unwrap_or_default(),
        })
    }

    /// Another alert already covers the current run of failures: do not
    /// repeat it, but do tell of the recovery.
    pub fn mark_alerted(&mut self) {
        self.alerted = true;
    }
}

fn health_message(source: &SourceConfig, change: &HealthChange) -> String {
    let name = escape(&source.name);
    match change {
        HealthChange::Failing { failing_for, error } => format!(
            "⚠️ Source <b>{name}</b> has been failing for {}: {}\nRetrying with backoff; you will hear when it reads again.",
            span(*failing_for),
            escape(&crate::text::markup::shorten(error, 300)),
        ),
        HealthChange::Recovered { failed_for } => format!(
            "✅ Source <b>{name}</b> reads again, after failing for {}.",
            span(*failed_for)
        ),
    }
}

fn emptied_message(source: &SourceConfig, had: u64) -> String {
    format!(
        "⚠️ Source <b>{}</b> ({}) shows no releases any more; its last good read had {had}. \
         Its address or layout has probably changed. Nothing is recorded meanwhile, and releases \
         already seen will not be sent again when they come back. You will hear when it reads again.",
        escape(&source.name),
        escape(&Redacted(&source.url).to_string()),
    )
}

/// A duration for people: seconds, minutes or hours.
fn span(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0..120 => format!("{secs} s"),
        120..7_200 => format!("{} min", secs / 60),
        _ => format!("{:.1} h", secs as f64 / 3600.0),
    }
}

/// The wait before reading a source again after its `failures`-th failure in a
/// row: 10 s (or the interval, if shorter) doubling up to
/// [`BACKOFF_INTERVALS`] × the interval, but no more than [`RETRY_CAP`] or
/// 2 × the interval, whichever is longer; jittered down to between half and
/// all of that step (from `seed`), so sources failing together do not retry
/// together. So the last steps are never shorter than the interval. Never
/// sooner than the site's `Retry-After` (`asked`, capped at an hour by fetch).
pub(crate) fn read_retry_delay(
    failures: u32,
    interval: Duration,
    asked: Option<Duration>,
    seed: u64,
) -> Duration {
    let cap = (interval * BACKOFF_INTERVALS).min(RETRY_CAP.max(interval * 2));
    let backoff =
        crate::runtime::backoff::jittered_backoff(FIRST_RETRY.min(interval), failures, cap, seed);
    asked.map_or(backoff, |asked| backoff.max(asked))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delay_doubles_with_jitter_beyond_the_interval_up_to_four_of_them() {
        let five_min = Duration::from_secs(300);
        for seed in 0..200u64 {
            let first = read_retry_delay(1, five_min, None, seed);
            assert!((Duration::from_secs(5)..Duration::from_secs(10)).contains(&first));
            let third = read_retry_delay(3, five_min, None, seed);
            assert!((Duration::from_secs(20)..Duration::from_secs(40)).contains(&third));
            // After a run of failures the site is read less often than when healthy.
            let late = read_retry_delay(30, five_min, None, seed);
            assert!(
                (2 * five_min..4 * five_min).contains(&late),
                "{late:?}: beyond the interval, within 4 of them"
            );
            // Capped at an hour, or at two intervals when they are longer.
            let quarter = read_retry_delay(30, Duration::from_secs(900), None, seed);
            assert!((RETRY_CAP / 2..RETRY_CAP).contains(&quarter), "{quarter:?}");
            let day = Duration::from_secs(86_400);
            let daily = read_retry_delay(30, day, None, seed);
            assert!((day..2 * day).contains(&daily), "{daily:?}");
            // A one-second interval starts at one second.
            let short = read_retry_delay(1, Duration::from_secs(1), None, seed);
            assert!(short < Duration::from_secs(1) && short >= Duration::from_millis(500));
            assert!(
                read_retry_delay(9, Duration::from_secs(1), None, seed) < Duration::from_secs(4)
            );
        }
        let spread: std::collections::HashSet<_> = (0..50u64)
            .map(|s| read_retry_delay(2, five_min, None, s))
            .collect();
        assert!(spread.len() > 40, "jitter spreads retries");
    }

    #[test]
    fn retry_delay_never_comes_before_the_sites_retry_after() {
        let ten = Some(Duration::from_secs(10));
        for seed in 0..200u64 {
            for failures in 1..12 {
                // A 1 s interval would retry within a second or four: the site said 10 s.
                let fast = read_retry_delay(failures, Duration::from_secs(1), ten, seed);
                assert!(fast >= Duration::from_secs(10), "{fast:?}");
                let hour =
                    read_retry_delay(failures, Duration::from_secs(60), Some(RETRY_CAP), seed);
                assert_eq!(hour, RETRY_CAP);
            }
            // A backoff already longer than asked stays as it is.
            let late = read_retry_delay(30, Duration::from_secs(300), ten, seed);
            assert!(late >= Duration::from_secs(600), "{late:?}");
        }
    }

    #[test]
    fn operators_hear_once_after_alert_after_and_once_on_recovery() {
        let t0 = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let at = |secs| t0 + chrono::Duration::seconds(secs);
        let after = Duration::from_secs(60);
        let mut health = Health::default();
        assert_eq!(health.succeeded(t0), None, "nothing to recover from");
        assert_eq!(health.failed(at(0), after, "e"), None);
        assert_eq!(health.failed(at(30), after, "e"), None);
        assert_eq!(
            health.failed(at(61), after, "boom"),
            Some(HealthChange::Failing {
                failing_for: Duration::from_secs(61),
                error: "boom".into()
            })
        );
        assert_eq!(health.failed(at(200), after, "e"), None, "told once");
        assert_eq!(health.failures, 4);
        assert_eq!(
            health.succeeded(at(300)),
            Some(HealthChange::Recovered {
                failed_for: Duration::from_secs(300)
            })
        );
        assert_eq!(health, Health::default());
        assert_eq!(health.succeeded(at(301)), None, "told once");

        // A short outage stays quiet at both ends.
        assert_eq!(health.failed(at(400), after, "e"), None);
        assert_eq!(health.succeeded(at(410)), None);

        // Another alert (an emptied page) covers the outage, and its end is told.
        health.failed(at(500), after, "e");
        health.mark_alerted();
        assert_eq!(health.failed(at(600), after, "e"), None);
        assert!(matches!(
            health.succeeded(at(700)),
            Some(HealthChange::Recovered { .. })
        ));
    }

    #[test]
    fn spans_read_naturally() {
        assert_eq!(span(Duration::from_secs(45)), "45 s");
        assert_eq!(span(Duration::from_secs(900)), "15 min");
        assert_eq!(span(Duration::from_secs(5_400)), "90 min");
        assert_eq!(span(Duration::from_secs(36_000)), "10.0 h");
    }
}
