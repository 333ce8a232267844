//! Whether the bot is well, as `/healthz` and `/readyz` tell a container
//! runtime or a load balancer, and `embassy-bot healthcheck` tells Docker.
//!
//! Unhealthy means a human (or a restart) is needed: the store cannot be
//! written, Telegram has answered nothing for `http.telegram_silence_secs`, or
//! a source has been failing for longer than its `alert_after_secs` (the same
//! moment operators hear of it). Ready means every source has been read
//! successfully at least once, so the feeds show what the site shows.
//!
//! The verdict is a pure function of what [`Vitals`] and the store hold,
//! given `now` ([`assess`]).
//!
//! Anyone who can reach the server may ask, so a failing source is named with
//! when its failures began, never with its error or its address: an error
//! carries internal hosts, statuses and URL paths that may hold secrets.
//! Operators read why in `/status`.

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::Config;
use crate::store::Store;
use crate::watch::poller::Health;

/// A store probe is reused for this long, so a flood of `/healthz` requests
/// costs one write and flush, not one each.
pub(crate) const PROBE_REUSE: Duration = Duration::from_secs(10);

/// The last store probe, kept so a flood of `/healthz` requests costs one
/// write and flush, not one each. When the process started and when Telegram
/// last answered are kept by [`crate::metrics`], where the parts that see them
/// record them.
pub(crate) struct Vitals {
    /// When the store was last probed, and the error if it failed.
    probe: Mutex<Option<(DateTime<Utc>, Option<String>)>>,
}

/// The process's vitals, shared by whoever records or reads them.
pub(crate) fn vitals() -> &'static Vitals {
    static VITALS: std::sync::LazyLock<Vitals> = std::sync::LazyLock::new(|| Vitals {
        probe: Mutex::new(None),
    });
    &VITALS
}

impl Vitals {
    /// Whether the store can be written: a small record written and flushed,
    /// or the result of a probe less than [`PROBE_REUSE`] old.
    pub(crate) async fn store_problem(&self, store: &Store, now: DateTime<Utc>) -> Option<String> {
        if let Some((at, result)) = self.lock_probe().clone()
            && (now - at).to_std().is_ok_and(|age| age < PROBE_REUSE)
        {
            return result;
        }
        let result = store.probe_writable(now).await.err().map(|e| {
            if let Some(held_back) = crate::runtime::log_limit::allow("health probe of the store") {
                tracing::warn!(error = %e, held_back, "the health probe cannot write the store");
            }
            // The error may name the data directory: the log has it, the
            // public answer only says where to look.
            SEE_THE_LOG.to_string()
        });
        *self.lock_probe() = Some((now, result.clone()));
        result
    }

    fn lock_probe(&self) -> std::sync::MutexGuard<'_, Option<(DateTime<Utc>, Option<String>)>> {
        self.probe.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What `/healthz` says of a store error, which is logged instead of shown.
const SEE_THE_LOG: &str = "the bot's log says why";

/// Everything [`assess`] weighs, gathered at one instant.
#[derive(Debug, Clone)]
pub(crate) struct Inputs {
    pub started: DateTime<Utc>,
    pub telegram_last_answer: Option<DateTime<Utc>>,
    pub telegram_silence: Duration,
    /// Why the store cannot be written, if it cannot.
    pub store_problem: Option<String>,
    pub sources: Vec<SourceInputs>,
}

/// One source as health sees it.
#[derive(Debug, Clone)]
pub(crate) struct SourceInputs {
    pub name: String,
    pub alert_after: Duration,
    /// The poller's record of the current run of failures.
    pub health: Health,
    pub last_success: Option<DateTime<Utc>>,
}

/// The answer of `/healthz` and `/readyz`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Verdict {
    /// `ok` or `unhealthy`.
    pub status: &'static str,
    /// What is wrong, one sentence each; empty when healthy.
    pub problems: Vec<String>,
    /// Every source has been read successfully at least once.
    pub ready: bool,
    /// Sources never read successfully yet.
    pub unread: Vec<String>,
    pub uptime_secs: i64,
    /// Seconds since Telegram last answered (`None`: not yet).
    pub telegram_answered_secs_ago: Option<i64>,
    /// Sources failing now, past `alert_after_secs` or not: for the reason a
    /// source is unread, or soon a problem. Named, never with their error.
    pub failing: Vec<Failing>,
}

/// A source in a run of failed reads.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Failing {
    pub source: String,
    /// When the run began (RFC 3339, UTC).
    pub since: String,
}

impl Verdict {
    pub(crate) fn healthy(&self) -> bool {
        self.problems.is_empty()
    }

    /// What `/readyz` answers: whether every source has been read, those
    /// never read, and those failing now.
    pub(crate) fn readiness(&self) -> serde_json::Value {
        serde_json::json!({
            "ready": self.ready,
            "unread": self.unread,
            "failing": self.failing,
        })
    }
}

/// An instant as `/healthz` writes it: RFC 3339, UTC, to the second.
fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Weighs `inputs` at `now`.
pub(crate) fn assess(inputs: &Inputs, now: DateTime<Utc>) -> Verdict {
    let secs = |since: DateTime<Utc>| (now - since).num_seconds().max(0);
    let mut problems = Vec::new();
    if let Some(problem) = &inputs.store_problem {
        problems.push(format!("the store cannot be written: {problem}"));
    }
    let silent_since = inputs.telegram_last_answer.unwrap_or(inputs.started);
    let silence = secs(silent_since);
    if silence as u64 >= inputs.telegram_silence.as_secs() {
        problems.push(match inputs.telegram_last_answer {
            Some(_) => format!(
                "Telegram has not answered for {silence} s (http.telegram_silence_secs is {})",
                inputs.telegram_silence.as_secs()
            ),
            None => format!("Telegram has not answered since the start, {silence} s ago"),
        });
    }
    let mut failing = Vec::new();
    for source in &inputs.sources {
        let Some(since) = source.health.failing_since else {
            continue;
        };
        failing.push(Failing {
            source: source.name.clone(),
            since: timestamp(since),
        });
        let failing_for = secs(since);
        if failing_for as u64 >= source.alert_after.as_secs() {
            problems.push(format!(
                "source `{}` has been failing since {} ({failing_for} s; alert_after_secs is {})",
                source.name,
                timestamp(since),
                source.alert_after.as_secs()
            ));
        }
    }
    let unread: Vec<String> = inputs
        .sources
        .iter()
        .filter(|s| s.last_success.is_none())
        .map(|s| s.name.clone())
        .collect();
    Verdict {
        status: if problems.is_empty() {
            "ok"
        } else {
            "unhealthy"
        },
        problems,
        ready: unread.is_empty(),
        unread,
        uptime_secs: secs(inputs.started),
        telegram_answered_secs_ago: inputs.telegram_last_answer.map(secs),
        failing,
    }
}

/// Gathers the inputs for `config`'s sources from the store and [`vitals`],
/// probing the store, and weighs them at `now`.
pub(crate) async fn check(store: &Store, config: &Config, now: DateTime<Utc>) -> Verdict {
    let vitals = vitals();
    let mut store_problem = vitals.store_problem(store, now).await;
    let mut sources = Vec::with_capacity(config.sources.len());
    for source in &config.sources {
        let read = || -> Result<SourceInputs, crate::store::StoreError> {
            Ok(SourceInputs {
                name: source.name.clone(),
                alert_after: source.alert_after,
                health: store.source_state(&source.name)?.unwrap_or_default(),
                last_success: store.last_success(&source.name)?,
            })
        };
        match read() {
            Ok(inputs) => sources.push(inputs),
            Err(e) => {
                if let Some(held_back) =
                    crate::runtime::log_limit::allow("health read of the store")
                {
                    tracing::warn!(error = %e, held_back, "the health check cannot read the store");
                }
                store_problem.get_or_insert_with(|| SEE_THE_LOG.to_string());
            }
        }
    }
    let inputs = Inputs {
        started: crate::metrics::get().started_at(),
        telegram_last_answer: crate::metrics::get().telegram_last_answer(),
        telegram_silence: config.http.telegram_silence,
        store_problem,
        sources,
    };
    assess(&inputs, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_failing_store_is_reported_without_its_error_text() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.inject_fault(std::io::Error::other(
            "/srv/secret-data/db/conf: disk on fire",
        ));
        let vitals = Vitals {
            probe: Mutex::new(None),
        };
        let problem = vitals.store_problem(&store, at(0)).await;
        assert_eq!(problem.as_deref(), Some(SEE_THE_LOG));
        let verdict = assess(
            &Inputs {
                store_problem: problem,
                ..inputs()
            },
            at(1),
        );
        let shown = serde_json::to_string(&verdict).unwrap();
        assert!(shown.contains("the store cannot be written"), "{shown}");
        assert!(
            !shown.contains("secret") && !shown.contains("fire"),
            "{shown}"
        );
    }

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap()
    }

    fn inputs() -> Inputs {
        Inputs {
            started: at(0),
            telegram_last_answer: Some(at(0)),
            telegram_silence: Duration::from_secs(300),
            store_problem: None,
            sources: vec![SourceInputs {
                name: "home".into(),
                alert_after: Duration::from_secs(900),
                health: Health::default(),
                last_success: Some(at(0)),
            }],
        }
    }

    #[test]
    fn a_source_is_a_problem_once_it_fails_past_alert_after() {
        let mut i = inputs();
        i.telegram_last_answer = Some(at(990));
        i.sources[0].health.failing_since = Some(at(100));
        assert!(assess(&i, at(999)).healthy(), "899 s < 900 s");
        let v = assess(&i, at(1_000));
        assert_eq!(v.status, "unhealthy");
        assert_eq!(
            v.problems,
            [
                "source `home` has been failing since 2023-11-14T22:15:00Z (900 s; alert_after_secs is 900)"
            ]
        );
        assert!(v.ready, "failing now, but it was read once");
    }

    #[test]
    fn telegram_silence_counts_from_the_last_answer_or_the_start() {
        let mut i = inputs();
        i.telegram_last_answer = Some(at(50));
        assert!(assess(&i, at(349)).healthy());
        assert!(!assess(&i, at(350)).healthy());
        i.telegram_last_answer = None;
        assert!(
            assess(&i, at(299)).healthy(),
            "a grace period after the start"
        );
        let v = assess(&i, at(300));
        assert!(v.problems[0].contains("since the start"), "{v:?}");
    }

    #[test]
    fn the_store_and_unread_sources() {
        let mut i = inputs();
        i.store_problem = Some("No space left on device".into());
        i.sources[0].last_success = None;
        let v = assess(&i, at(1));
        assert!(!v.healthy() && v.problems[0].contains("No space left"));
        assert!(!v.ready);
        assert_eq!(v.unread, vec!["home".to_string()]);
    }

    /// A source behind a URL with a secret-looking path fails with an error
    /// that names it: `/healthz` names the source and when its failures began,
    /// and says neither the address nor the error.
    #[tokio::test]
    async fn a_failing_source_is_named_with_since_when_never_its_error_or_url() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let config = Config::from_toml(
            r#"
[[sources]]
name = "intranet"
url = "https://feeds.example.org/hooks/Zk3q9-s3cr3t-p4th/list"
alert_after_secs = 60
"#,
        )
        .unwrap();
        let since = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let now = since + chrono::Duration::seconds(3_600);
        store
            .save_source_state(
                "intranet",
                &Health {
                    failures: 12,
                    failing_since: Some(since),
                    alerted: true,
                },
            )
            .unwrap();
        store
            .record_failure(
                "intranet",
                "HTTP status 502 from https://feeds.example.org/hooks/Zk3q9-s3cr3t-p4th/list (upstream 10.0.0.7)",
                now,
            )
            .unwrap();
        let verdict = check(&store, &config, now).await;
        let body = serde_json::to_string(&verdict).unwrap();
        assert_eq!(verdict.status, "unhealthy", "{body}");
        assert!(body.contains("`intranet`"), "names the source: {body}");
        assert!(
            body.contains("2023-11-14T22:13:20Z"),
            "says since when: {body}"
        );
        let ready = verdict.readiness().to_string();
        assert_eq!(
            ready,
            r#"{"failing":[{"since":"2023-11-14T22:13:20Z","source":"intranet"}],"ready":false,"unread":["intranet"]}"#
        );
        for secret in ["s3cr3t", "feeds.example.org", "502", "upstream", "10.0.0.7"] {
            assert!(!body.contains(secret), "{secret} leaked: {body}");
        }
    }
}
