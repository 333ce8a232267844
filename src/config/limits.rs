//! Plain values that modules below and above config alike borrow: how much
//! of a source's history the store keeps, and Telegram's rate limits.

use std::time::Duration;

/// How much of one source's history the store keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// The newest releases (first seen last) kept whole.
    pub keep_items: usize,
    /// Ids of pruned releases remembered beyond those, so that none is
    /// announced again.
    pub keep_seen_ids: usize,
}

impl Retention {
    /// About three years of the embassy's releases kept whole, and ten times
    /// as many ids remembered: a few MB a source at most.
    pub const DEFAULT: Retention = Retention {
        keep_items: 5_000,
        keep_seen_ids: 50_000,
    };
}

impl Default for Retention {
    fn default() -> Self {
        Retention::DEFAULT
    }
}

/// Telegram's flood limits to respect; `None` in
/// [`crate::telegram::limiter::Limiter::new`] means none at all (tests, benchmarks).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimits {
    /// Messages per second over all chats.
    pub per_second: f64,
    /// Minimum gap between two messages to one private chat.
    pub private_gap: Duration,
    /// Minimum gap between two messages to one group (20 per minute).
    pub group_gap: Duration,
}

impl RateLimits {
    /// Telegram's documented limits at `per_second` overall, with a little
    /// margin on the per-chat gaps so network jitter cannot squeeze two sends
    /// into Telegram's window.
    pub fn telegram(per_second: f64) -> RateLimits {
        RateLimits {
            per_second,
            private_gap: Duration::from_millis(1_050),
            group_gap: Duration::from_millis(3_050),
        }
    }

    /// The least time between two messages to `chat`.
    pub fn gap_for(&self, chat: i64) -> Duration {
        // Group and supergroup ids are negative; private chats positive.
        if chat < 0 {
            self.group_gap
        } else {
            self.private_gap
        }
    }
}
