//! The bot's wall clock, and the site's header clocks as pure functions of
//! an instant.
//!
//! The header shows one calendar date (Moscow's) and several labelled times.
//! Everything takes `now` so tests can pin any instant, DST changes included.
//! Where the running bot needs "now" in wall-clock terms (quiet hours, the
//! digest, commands), it asks its [`Clock`], which tests can start at any
//! instant.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use crate::config::Language;
use crate::config::TimeConfig;

/// The environment variable that starts a test bot's [`Clock`] at an instant
/// (RFC 3339, e.g. `2023-03-25T23:10:00Z`). For tests only: honoured by debug
/// builds, refused by release builds.
pub const TEST_CLOCK_VAR: &str = "EMBASSY_BOT_TEST_CLOCK";

/// The bot's wall clock: the system's, or (in tests) one that starts at a
/// chosen instant and runs at the pace of tokio's time from then on, so a
/// test can put the bot just before a clock change or the end of a quiet
/// night, and paused tokio time moves it too.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// The instant the clock read when tokio's clock read the second.
    origin: Option<(DateTime<Utc>, Instant)>,
}

/// Why [`Clock::from_env`] refuses.
#[derive(Debug, thiserror::Error)]
pub enum ClockError {
    #[error(
        "{TEST_CLOCK_VAR} is set, but it is for tests and only debug builds honour it; unset it"
    )]
    ReleaseBuild,
    #[error("{TEST_CLOCK_VAR} must be an RFC 3339 instant such as 2023-03-25T23:10:00Z: {0}")]
    Unreadable(chrono::ParseError),
}

impl Clock {
    /// The system's clock.
    pub fn system() -> Clock {
        Clock { origin: None }
    }

    /// A clock that reads `at` now and runs with tokio's time.
    pub fn starting_at(at: DateTime<Utc>) -> Clock {
        Clock {
            origin: Some((at, Instant::now())),
        }
    }

    /// The clock the environment asks for: the system's, unless
    /// [`TEST_CLOCK_VAR`] is set in a debug build. A release build with the
    /// variable set is refused rather than ignored, so a variable that leaked
    /// into production is noticed at once and can never move its clock.
    pub fn from_env() -> Result<Clock, ClockError> {
        let Some(value) = std::env::var_os(TEST_CLOCK_VAR) else {
            return Ok(Clock::system());
        };
        if !cfg!(debug_assertions) {
            return Err(ClockError::ReleaseBuild);
        }
        let at = DateTime::parse_from_rfc3339(&value.to_string_lossy())
            .map_err(ClockError::Unreadable)?;
        Ok(Clock::starting_at(at.with_timezone(&Utc)))
    }

    /// Whether this is a test clock.
    pub fn is_test(&self) -> bool {
        self.origin.is_some()
    }

    /// The time now.
    pub fn now(&self) -> DateTime<Utc> {
        match self.origin {
            None => Utc::now(),
            Some((at, since)) => at + Instant::now().saturating_duration_since(since),
        }
    }

    /// The tokio instant at which this clock will read `at` (now, if it has
    /// passed): what delivery sleeps until.
    pub fn instant_at(&self, at: DateTime<Utc>) -> Instant {
        let ahead = (at - self.now()).to_std().unwrap_or(Duration::ZERO);
        Instant::now() + ahead
    }
}

/// What the header shows at one instant: a date line and `label: HH:MM` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clocks {
    /// The date in the configured date zone, as the reader's language writes
    /// it ("21 May 2022", "21 мая 2022 г.").
    pub date: String,
    /// `(label, "HH:MM")` pairs in configured order.
    pub times: Vec<(String, String)>,
}

/// Reads the configured clocks at `now`, for a reader of `language`.
pub fn clocks_at(now: DateTime<Utc>, config: &TimeConfig, language: Language) -> Clocks {
    let date = crate::text::i18n::date(language, now.with_timezone(&config.date_zone).date_naive());
    let times = config
        .clocks
        .iter()
        .map(|clock| {
            let local = now.with_timezone(&clock.zone).format("%H:%M").to_string();
            (clock.label.get(language).to_string(), local)
        })
        .collect();
    Clocks { date, times }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_test_clock_runs_with_tokio_time() {
        let start = "2023-03-26T00:59:00Z".parse::<DateTime<Utc>>().unwrap();
        let clock = Clock::starting_at(start);
        assert_eq!(clock.now(), start);
        let at = start + chrono::Duration::minutes(2);
        let wake = clock.instant_at(at);
        tokio::time::sleep_until(wake).await;
        assert_eq!(clock.now(), at);
        assert_eq!(clock.instant_at(start), Instant::now(), "the past is now");
        assert!(!Clock::system().is_test() && clock.is_test());
    }
}
