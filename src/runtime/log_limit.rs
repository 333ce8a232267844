//! Error lines a broken disk or network would repeat many times a second are
//! let through at most once a second per kind, with a count of those held back.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

/// At most one line per kind in this long.
const PERIOD: Duration = Duration::from_secs(1);

/// Per kind: when a line last went out, and how many were held back since.
static LAST: LazyLock<Mutex<HashMap<&'static str, (Instant, u64)>>> = LazyLock::new(Mutex::default);

/// Whether a line of `kind` may be logged now: `Some(held_back)` with how
/// many lines of that kind were not logged since the last one, or `None`
/// (this one is held back and counted).
pub(crate) fn allow(kind: &'static str) -> Option<u64> {
    allow_at(kind, Instant::now())
}

fn allow_at(kind: &'static str, now: Instant) -> Option<u64> {
    let mut last = LAST.lock().unwrap_or_else(|p| p.into_inner());
    match last.get_mut(kind) {
        Some((at, held)) if now.saturating_duration_since(*at) < PERIOD => {
            *held += 1;
            None
        }
        Some((at, held)) => {
            *at = now;
            Some(std::mem::take(held))
        }
        None => {
            last.insert(kind, (now, 0));
            Some(0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_a_second_per_kind_and_the_rest_counted() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        assert_eq!(allow_at("test-a", at(0)), Some(0));
        assert_eq!(allow_at("test-a", at(3)), None);
        assert_eq!(allow_at("test-a", at(999)), None);
        assert_eq!(allow_at("test-b", at(10)), Some(0), "kinds are apart");
        assert_eq!(allow_at("test-a", at(1_000)), Some(2), "two held back");
        assert_eq!(allow_at("test-a", at(1_500)), None);
        assert_eq!(allow_at("test-a", at(2_600)), Some(1));
    }
}
