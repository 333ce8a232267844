//! What a monitoring system scrapes at `/metrics`: counters and histograms that
//! the parts of the bot bump as they work, and gauges of what the store holds,
//! which the HTTP server reads at scrape time and hands over as plain numbers
//! ([`StoreGauges`]), written in the Prometheus text format (0.0.4) by
//! Prometheus' own client library. Metrics know nothing of the store or the
//! configuration: every part may import them.
//!
//! One process-wide set ([`get`]), so a part records an event with one line
//! and no handle threaded through its constructor; recording costs an atomic
//! add, whether or not anything scrapes. Every metric is declared here, with
//! its help text and labels, so the whole list reads in one place. Labels take
//! only a few values each (a configured source's name, a result, a reason):
//! never a chat id, a URL or an error message.
//!
//! Names follow Prometheus conventions: an `embassy_` prefix, base units
//! (`_seconds`), and `_total` on counters (added by the library).

use std::sync::atomic::AtomicU64;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

/// The `Content-Type` of what [`Metrics::encode`] writes.
pub(crate) const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// A configured source, by name.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct SourceLabel {
    pub source: String,
}

/// One read of a source and how it ended: `ok`, `not_modified`, or an error
/// kind (see [`crate::watch::poller::PollError::kind`]).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct PollLabels {
    pub source: String,
    pub result: &'static str,
}

/// Why something happened, from a short fixed list.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ReasonLabel {
    pub reason: &'static str,
}

/// How something ended, from a short fixed list.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ResultLabel {
    pub result: &'static str,
}

/// How a push went out: `html`, or `plain` after Telegram refused the HTML.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct FormatLabel {
    pub format: &'static str,
}

/// A kind of chat: `private`, `group` or `supergroup_or_channel` (told apart by
/// the id's range, as Telegram assigns them).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ChatKindLabel {
    pub chat_kind: &'static str,
}

/// A webhook request and what became of it: `accepted`, `bad_secret`,
/// `unreadable`, `busy` (the queue stayed full), `stopping`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct WebhookLabel {
    pub result: &'static str,
}

type Seconds = Gauge<f64, AtomicU64>;
type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// Every metric of the process. Counters and histograms are public for the
/// parts to bump; gauges that mirror the store are set by [`Metrics::encode`].
pub(crate) struct Metrics {
    /// New releases recorded, per source that first listed them.
    pub releases_stored: Family<SourceLabel, Counter>,
    /// Releases queued for their subscribers (not the first read, not held
    /// back by the flood or age guard), per source.
    pub releases_announced: Family<SourceLabel, Counter>,
    /// Pushes Telegram accepted.
    pub pushes_sent: Family<FormatLabel, Counter>,
    /// Pushes that failed for now and wait for a retry: `flood_limited` (a
    /// 429 with `retry_after`) or `error` (network, 5xx, no answer).
    pub pushes_retried: Family<ReasonLabel, Counter>,
    /// Pushes Telegram refused for good (or whose release is no longer stored).
    pub pushes_given_up: Counter,
    /// Pushes dropped without a send: `chat_gone` (the chat blocked the bot,
    /// was deleted, ...: everything it was owed), `unsubscribed` (it left
    /// meanwhile) or `filtered` (journaled, then refused by keyword filters
    /// changed since).
    pub pushes_dropped: Family<ReasonLabel, Counter>,
    /// Edits of messages already sent, for revised releases, by result:
    /// `edited` (the message shows the new words), `not_needed` (it showed
    /// them already, or its id is no longer kept) or `given_up` (the message
    /// is gone or cannot be edited).
    pub edits: Family<ResultLabel, Counter>,
    /// Chats a fan-out walk handed a release to (pushed at once or journaled):
    /// its rate is the fan-out's progress.
    pub fan_out_chats: Counter,
    /// Time from a push's request to Telegram's answer, whatever the answer.
    pub send_duration: Histogram,
    /// Answers of 429 (Too Many Requests) to a push or an alert.
    pub flood_limited: Counter,
    /// The `retry_after` seconds those 429s asked for, added up.
    pub retry_after_seconds: Counter<f64, AtomicU64>,
    /// One read of a source, from request to recorded result.
    pub poll_duration: HistogramFamily<SourceLabel>,
    /// Reads of a source by result.
    pub polls: Family<PollLabels, Counter>,
    /// The global send rate the limiter allows now (messages per second).
    pub send_rate: Seconds,
    /// Webhook requests by what became of them.
    pub webhook_requests: Family<WebhookLabel, Counter>,
    /// Releases' own pages read (a body, none found, or 304), for their full text.
    pub release_pages_read: Counter,
    /// Reads of a release's own page that failed (network, status, size, guard).
    pub release_page_failures: Counter,

    releases: Gauge,
    subscriptions: Family<ChatKindLabel, Gauge>,
    journal_depth: Gauge,
    outbox_depth: Gauge,
    last_success: Family<SourceLabel, Seconds>,
    telegram_last_answer: Seconds,
    uptime: Seconds,
    start_time: Seconds,

    registry: Registry,
    started: Instant,
    /// When the process started, as health reports it.
    started_at: DateTime<Utc>,
    /// Unix milliseconds of Telegram's last answer; 0: none yet.
    telegram_answered_ms: std::sync::atomic::AtomicI64,
    /// One scrape at a time, so gauges set for one are the ones it writes.
    scrape: Mutex<()>,
}

/// The process's metrics.
pub(crate) fn get() -> &'static Metrics {
    static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);
    &METRICS
}

fn poll_histogram() -> Histogram {
    // From a fast 304 to a read that hits its 30 s timeout.
    Histogram::new([0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0])
}

impl Metrics {
    /// Every metric declared, registered under its name and help, and every
    /// series that can appear created at 0.
    fn new() -> Metrics {
        let mut m = Metrics::unregistered();
        m.register_releases();
        m.register_pushes();
        m.register_telegram();
        m.register_sources();
        m.register_process();
        m.start_time
            .set(Utc::now().timestamp_millis() as f64 / 1000.0);
        m.declare_fixed_series();
        m
    }

    /// Every metric at its start, none yet in the registry.
    fn unregistered() -> Metrics {
        Metrics {
            releases_stored: Family::default(),
            releases_announced: Family::default(),
            pushes_sent: Family::default(),
            pushes_retried: Family::default(),
            pushes_given_up: Counter::default(),
            pushes_dropped: Family::default(),
            edits: Family::default(),
            fan_out_chats: Counter::default(),
            // From a loopback answer to Telegram's slowest; the send timeout is 30 s.
            send_duration: Histogram::new([
                0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            ]),
            flood_limited: Counter::default(),
            retry_after_seconds: Counter::default(),
            poll_duration: Family::new_with_constructor(poll_histogram),
            polls: Family::default(),
            send_rate: Gauge::default(),
            webhook_requests: Family::default(),
            release_pages_read: Counter::default(),
            release_page_failures: Counter::default(),
            releases: Gauge::default(),
            subscriptions: Family::default(),
            journal_depth: Gauge::default(),
            outbox_depth: Gauge::default(),
            last_success: Family::default(),
            telegram_last_answer: Gauge::default(),
            uptime: Gauge::default(),
            start_time: Gauge::default(),
            registry: Registry::with_prefix("embassy"),
            started: Instant::now(),
            started_at: Utc::now(),
            telegram_answered_ms: std::sync::atomic::AtomicI64::new(0),
            scrape: Mutex::new(()),
        }
    }

    /// Releases and subscriptions: what the store records. (The order of
    /// registration is the order of the scrape's text.)
    fn register_releases(&mut self) {
        let r = &mut self.registry;
        r.register(
            "releases_stored",
            "New releases recorded, by the source that first listed them",
            self.releases_stored.clone(),
        );
        r.register(
            "releases_announced",
            "Releases queued for their subscribers, by source",
            self.releases_announced.clone(),
        );
        r.register("releases", "Releases in the store", self.releases.clone());
        r.register(
            "subscriptions",
            "Subscribed chats by kind (private, group, supergroup_or_channel)",
            self.subscriptions.clone(),
        );
    }

    /// Pushes and the fan-out: what delivery does and what it still owes.
    fn register_pushes(&mut self) {
        let r = &mut self.registry;
        r.register(
            "pushes_sent",
            "Pushes Telegram accepted, by format (plain: after Telegram refused the HTML)",
            self.pushes_sent.clone(),
        );
        r.register(
            "pushes_retried",
            "Pushes that failed for now and wait for a retry, by reason (flood_limited, error)",
            self.pushes_retried.clone(),
        );
        r.register(
            "pushes_given_up",
            "Pushes Telegram refused for good, or whose release is gone",
            self.pushes_given_up.clone(),
        );
        r.register(
            "pushes_dropped",
            "Pushes dropped unsent, by reason (chat_gone, unsubscribed, filtered)",
            self.pushes_dropped.clone(),
        );
        r.register(
            "edits",
            "Edits of sent messages for revised releases, by result (edited, not_needed, given_up)",
            self.edits.clone(),
        );
        r.register(
            "journal_entries",
            "Pushes owed to chats, waiting in the journal",
            self.journal_depth.clone(),
        );
        r.register(
            "outbox_entries",
            "Releases whose fan-out walk has not finished",
            self.outbox_depth.clone(),
        );
        r.register(
            "fan_out_chats",
            "Chats a fan-out walk handed a release to",
            self.fan_out_chats.clone(),
        );
    }

    /// Telegram: how fast it answers, how often it asks us to slow down,
    /// when it last answered, and the webhook's requests.
    fn register_telegram(&mut self) {
        let r = &mut self.registry;
        r.register_with_unit(
            "telegram_send_duration",
            "Time from a push's sendMessage request to Telegram's answer",
            Unit::Seconds,
            self.send_duration.clone(),
        );
        r.register(
            "telegram_flood_limited",
            "Answers of 429 Too Many Requests to a push or an alert",
            self.flood_limited.clone(),
        );
        r.register_with_unit(
            "telegram_retry_after",
            "Seconds that 429 answers asked to wait (retry_after), added up",
            Unit::Seconds,
            self.retry_after_seconds.clone(),
        );
        r.register_with_unit(
            "telegram_last_answer_timestamp",
            "When Telegram last answered a request (Unix time; 0: not yet)",
            Unit::Seconds,
            self.telegram_last_answer.clone(),
        );
        r.register(
            "telegram_send_rate",
            "The global send rate allowed now, in messages per second",
            self.send_rate.clone(),
        );
        r.register(
            "webhook_requests",
            "Webhook requests, by result (accepted, bad_secret, unreadable, busy, stopping)",
            self.webhook_requests.clone(),
        );
    }

    /// Sources: each read, how long it took, and the last that succeeded.
    fn register_sources(&mut self) {
        let r = &mut self.registry;
        r.register_with_unit(
            "source_poll_duration",
            "Time one read of a source took, by source",
            Unit::Seconds,
            self.poll_duration.clone(),
        );
        r.register(
            "source_polls",
            "Reads of a source, by source and result (ok, not_modified, or an error kind)",
            self.polls.clone(),
        );
        r.register(
            "release_pages_read",
            "Releases' own pages read for their full text (a body, none found, or not modified)",
            self.release_pages_read.clone(),
        );
        r.register(
            "release_page_failures",
            "Reads of a release's own page that failed (network, HTTP status, size, refused address)",
            self.release_page_failures.clone(),
        );
        r.register_with_unit(
            "source_last_success_timestamp",
            "When a source was last read successfully (Unix time)",
            Unit::Seconds,
            self.last_success.clone(),
        );
    }

    /// The process: since when it runs, and which build it is.
    fn register_process(&mut self) {
        let r = &mut self.registry;
        r.register_with_unit(
            "uptime",
            "Time since the process started",
            Unit::Seconds,
            self.uptime.clone(),
        );
        r.register_with_unit(
            "process_start_time",
            "When the process started (Unix time)",
            Unit::Seconds,
            self.start_time.clone(),
        );
        r.register(
            "build",
            "The running build",
            Info::new(vec![
                ("version", env!("CARGO_PKG_VERSION")),
                ("name", env!("CARGO_PKG_NAME")),
            ]),
        );
    }

    /// Every series with a fixed set of labels exists from the start, at 0,
    /// so a rate or an alert sees it before its first event.
    fn declare_fixed_series(&self) {
        for format in ["html", "plain"] {
            self.pushes_sent
                .get_or_create(&FormatLabel { format })
                .inc_by(0);
        }
        for reason in ["flood_limited", "error", "migrated"] {
            self.pushes_retried
                .get_or_create(&ReasonLabel { reason })
                .inc_by(0);
        }
        for reason in ["chat_gone", "unsubscribed", "filtered"] {
            self.pushes_dropped
                .get_or_create(&ReasonLabel { reason })
                .inc_by(0);
        }
        for result in ["edited", "not_needed", "given_up"] {
            self.edits.get_or_create(&ResultLabel { result }).inc_by(0);
        }
        for result in ["accepted", "bad_secret", "unreadable", "busy", "stopping"] {
            self.webhook_requests
                .get_or_create(&WebhookLabel { result })
                .inc_by(0);
        }
    }

    /// Creates the per-source series of `sources` at 0 (the configured
    /// sources are known only once the configuration is read).
    pub(crate) fn declare_sources<'a>(&self, sources: impl IntoIterator<Item = &'a str>) {
        for source in sources {
            let label = SourceLabel {
                source: source.to_string(),
            };
            self.releases_stored.get_or_create(&label).inc_by(0);
            self.releases_announced.get_or_create(&label).inc_by(0);
            let _ = self.poll_duration.get_or_create(&label);
        }
    }

    /// Records that Telegram answered a request at `now` (any Bot API answer,
    /// an error included: the service is reachable). Health reads it back.
    pub(crate) fn telegram_answered(&self, now: DateTime<Utc>) {
        let ms = now.timestamp_millis();
        let latest = self
            .telegram_answered_ms
            .fetch_max(ms, std::sync::atomic::Ordering::Relaxed)
            .max(ms);
        self.telegram_last_answer.set(latest as f64 / 1000.0);
    }

    /// When Telegram last answered, if it has.
    pub(crate) fn telegram_last_answer(&self) -> Option<DateTime<Utc>> {
        match self
            .telegram_answered_ms
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            0 => None,
            ms => DateTime::from_timestamp_millis(ms),
        }
    }

    /// When the process started (when metrics were first touched, at start).
    pub(crate) fn started_at(&self) -> DateTime<Utc> {
        self.started_at
    }

    /// Records one read of `source` that took `took` and ended as `result`.
    pub(crate) fn poll(&self, source: &str, result: &'static str, took: Duration) {
        self.poll_duration
            .get_or_create(&SourceLabel {
                source: source.to_string(),
            })
            .observe(took.as_secs_f64());
        self.polls
            .get_or_create(&PollLabels {
                source: source.to_string(),
                result,
            })
            .inc();
    }

    /// Counts `n` of a per-source counter.
    pub(crate) fn per_source(family: &Family<SourceLabel, Counter>, source: &str, n: u64) {
        if n > 0 {
            family
                .get_or_create(&SourceLabel {
                    source: source.to_string(),
                })
                .inc_by(n);
        }
    }

    /// Counts one of a counter by reason.
    pub(crate) fn reason(family: &Family<ReasonLabel, Counter>, reason: &'static str, n: u64) {
        family.get_or_create(&ReasonLabel { reason }).inc_by(n);
    }
}

/// Chat kind by id: users are positive, basic groups negative, supergroups
/// and channels below -10^12 (`-100…` ids).
pub(crate) fn chat_kind(chat: i64) -> &'static str {
    if chat > 0 {
        "private"
    } else if chat > -1_000_000_000_000 {
        "group"
    } else {
        "supergroup_or_channel"
    }
}

/// What the store holds at a scrape, read by the part that owns the store
/// (the HTTP server) and handed over as plain numbers.
#[derive(Debug, Default)]
pub(crate) struct StoreGauges {
    /// Releases in the store.
    pub releases: usize,
    /// Pushes owed to chats, waiting in the journal.
    pub journal_entries: usize,
    /// Releases whose fan-out walk has not finished.
    pub outbox_entries: usize,
    /// Subscribed chats by kind, as [`chat_kind`] names them.
    pub subscriptions: SubscriptionsByKind,
    /// When each source that has been read successfully last was.
    pub last_success: Vec<(String, DateTime<Utc>)>,
}

/// Subscribed chats counted by kind; every kind is reported, at 0 if none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SubscriptionsByKind([(&'static str, i64); 3]);

impl Default for SubscriptionsByKind {
    fn default() -> Self {
        SubscriptionsByKind([("private", 0), ("group", 0), ("supergroup_or_channel", 0)])
    }
}

impl SubscriptionsByKind {
    /// `chats` counted by [`chat_kind`].
    pub(crate) fn count(chats: impl IntoIterator<Item = i64>) -> SubscriptionsByKind {
        let mut kinds = SubscriptionsByKind::default();
        for chat in chats {
            let kind = chat_kind(chat);
            if let Some(slot) = kinds.0.iter_mut().find(|(k, _)| *k == kind) {
                slot.1 += 1;
            }
        }
        kinds
    }
}

impl Metrics {
    /// Every metric in the Prometheus text format, with the gauges that
    /// mirror the store set from `store` and the uptime from now.
    pub(crate) fn encode(&self, store: &StoreGauges) -> String {
        let _one = self.scrape.lock().unwrap_or_else(|p| p.into_inner());
        self.set_store_gauges(store);
        self.uptime.set(self.started.elapsed().as_secs_f64());
        let mut text = String::with_capacity(16 * 1024);
        prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }

    /// The gauges that mirror the store, as read for this scrape.
    fn set_store_gauges(&self, store: &StoreGauges) {
        self.releases.set(store.releases as i64);
        self.journal_depth.set(store.journal_entries as i64);
        self.outbox_depth.set(store.outbox_entries as i64);
        for &(chat_kind, n) in &store.subscriptions.0 {
            self.subscriptions
                .get_or_create(&ChatKindLabel { chat_kind })
                .set(n);
        }
        for (source, at) in &store.last_success {
            self.last_success
                .get_or_create(&SourceLabel {
                    source: source.clone(),
                })
                .set(at.timestamp() as f64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_kinds_follow_telegrams_id_ranges() {
        assert_eq!(chat_kind(42), "private");
        assert_eq!(chat_kind(-4242), "group");
        assert_eq!(chat_kind(-1_001_234_567_890), "supergroup_or_channel");
    }

    #[test]
    fn subscriptions_are_counted_by_kind_and_every_kind_is_reported() {
        let counted = SubscriptionsByKind::count([1, 2, -5, -1_001_234_567_890]);
        assert_eq!(
            counted.0,
            [("private", 2), ("group", 1), ("supergroup_or_channel", 1)]
        );
        assert_eq!(
            SubscriptionsByKind::count([]),
            SubscriptionsByKind::default()
        );
    }
}
