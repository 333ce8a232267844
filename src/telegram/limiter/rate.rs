//! The global send rate, found by trying: the configured `messages_per_sec`
//! is a ceiling, and what Telegram actually accepts moves (link previews, a
//! new bot, other bots on the same address, a self-hosted Bot API server).
//!
//! A refusal that looks global (a second in which we sent nearly all our rate
//! allows, or two chats refused within a second) lowers the rate to just
//! under what the server took in the second before it (or, when too little
//! went through to tell, by a fifth). Each quiet
//! second raises it again by a small step, up to just under that level, and
//! only after quiet minutes beyond it. So a stricter server costs a refusal
//! or two, not one a second. Pure: every call takes `now`.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// Never slower than this, whatever the server says.
const MIN_RATE: f64 = 1.0;
/// After a refusal: this share of what the server took in the second before.
const AFTER_REFUSAL: f64 = 0.95;
/// After a global refusal in a second that was not full: this share of the rate.
const AFTER_QUIET_REFUSAL: f64 = 0.8;
/// The rate stays at this share of the ceiling, or of the level a refusal
/// revealed: paced at exactly a server's limit, any network jitter squeezes
/// one message too many into its second. At 30/s, 2.5 % leaves 25 ms.
const HEADROOM: f64 = 0.975;
/// What a quiet second adds, as a share of the ceiling.
const RAISE_PER_QUIET_SECOND: f64 = 0.01;
/// What each quiet minute adds to the level a refusal revealed (the server
/// may have become more generous).
const LEVEL_RISE_PER_QUIET_MINUTE: f64 = 0.05;
/// A second in which we sent at least this share of the rate is a full one:
/// a refusal then is the global limit, not one chat's.
const FULL_SECOND: f64 = 0.9;
/// A second in which the server took at least this share of the rate shows
/// its level; with less, a refusal is not taken as a measure.
const TRUSTED_SECOND: f64 = 0.5;

/// The current global rate and what it is based on.
#[derive(Debug, Clone)]
pub(super) struct AdaptiveRate {
    ceiling: f64,
    current: f64,
    /// What the server took in the second before its last global refusal.
    level: Option<f64>,
    last_refusal: Option<Instant>,
    /// Quiet seconds are counted from here.
    raised_at: Instant,
    /// Send slots handed out, the last second's worth (and planned ones).
    recent: VecDeque<Instant>,
    /// Refusals, the last second's worth.
    refusals: VecDeque<Instant>,
}

impl AdaptiveRate {
    /// Starts just under the ceiling (messages per second).
    pub(super) fn new(ceiling: f64, now: Instant) -> AdaptiveRate {
        let ceiling = ceiling.max(MIN_RATE);
        AdaptiveRate {
            ceiling,
            current: (ceiling * HEADROOM).max(MIN_RATE),
            level: None,
            last_refusal: None,
            raised_at: now,
            recent: VecDeque::new(),
            refusals: VecDeque::new(),
        }
    }

    /// The rate to pace at now, with the quiet seconds since the last change counted in.
    pub(super) fn current(&mut self, now: Instant) -> f64 {
        let quiet = now.saturating_duration_since(self.raised_at).as_secs();
        if quiet >= 1 {
            let cap = self.cap(now);
            if self.current < cap {
                let step = self.ceiling * RAISE_PER_QUIET_SECOND * quiet as f64;
                self.current = (self.current + step).min(cap);
            }
            self.raised_at += Duration::from_secs(quiet);
        }
        self.current
    }

    /// A send slot was handed out for `at` (possibly a little ahead).
    pub(super) fn sent(&mut self, at: Instant) {
        self.recent.push_back(at);
    }

    /// A slot handed out by [`AdaptiveRate::sent`] was given back unused.
    pub(super) fn unsent(&mut self, at: Instant) {
        if let Some(i) = self.recent.iter().rposition(|t| *t == at) {
            self.recent.remove(i);
        }
    }

    /// Telegram refused a send with 429 at `now`; `other_chat_too` when a
    /// different chat was refused within the last second. Returns whether the
    /// refusal was taken as global (the rate was lowered, or had just been).
    pub(super) fn refused(&mut self, now: Instant, other_chat_too: bool) -> bool {
        if let Some(second_ago) = now.checked_sub(Duration::from_secs(1)) {
            while self.recent.front().is_some_and(|t| *t <= second_ago) {
                self.recent.pop_front();
            }
            while self.refusals.front().is_some_and(|t| *t <= second_ago) {
                self.refusals.pop_front();
            }
        }
        self.refusals.push_back(now);
        let sent = self.recent.iter().filter(|t| **t <= now).count() as f64;
        // What the server took in the last second: our sends less its refusals.
        let accepted = sent - self.refusals.len() as f64;
        let current = self.current(now);
        let full = sent >= FULL_SECOND * current;
        if !full && !other_chat_too {
            return false;
        }
        let just_lowered = self
            .last_refusal
            .is_some_and(|t| now.saturating_duration_since(t) < Duration::from_secs(1));
        self.last_refusal = Some(now);
        self.raised_at = now;
        if just_lowered {
            return true; // the same overload: one step down is enough
        }
        if full || accepted >= TRUSTED_SECOND * current {
            // Enough went through to show what the server takes in a second.
            let level = accepted.max(MIN_RATE);
            self.level = Some(level);
            self.current = (current.min(level) * AFTER_REFUSAL).max(MIN_RATE);
        } else {
            // Too little was sent to tell: step down, and find out.
            self.current = (current * AFTER_QUIET_REFUSAL).max(MIN_RATE);
        }
        true
    }

    /// How high quiet seconds may take the rate: just under the ceiling, or
    /// under the level the last refusal revealed, which rises with quiet minutes.
    fn cap(&self, now: Instant) -> f64 {
        let limit = match (self.level, self.last_refusal) {
            (Some(level), Some(at)) => {
                let minutes = now.saturating_duration_since(at).as_secs() / 60;
                let rise = (1.0 + LEVEL_RISE_PER_QUIET_MINUTE).powi(minutes.min(100) as i32);
                (level * rise).min(self.ceiling)
            }
            _ => self.ceiling,
        };
        (limit * HEADROOM).max(MIN_RATE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Paces `rate` against a server that takes `limit` in any second, from
    /// `start` for `secs` seconds: (accepted, refused).
    fn run(rate: &mut AdaptiveRate, limit: usize, start: Instant, secs: u64) -> (usize, usize) {
        let mut window: VecDeque<Instant> = VecDeque::new();
        let (mut accepted, mut refused) = (0, 0);
        let mut now = start;
        let mut paused_until = start;
        let mut last_refused: Option<Instant> = None;
        while now < start + Duration::from_secs(secs) {
            now = now.max(paused_until);
            while window
                .front()
                .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
            {
                window.pop_front();
            }
            rate.sent(now);
            if window.len() >= limit {
                refused += 1;
                // Every send goes to another chat; two refused within a
                // second pause everyone, as the limiter does.
                let other = last_refused.is_some_and(|t| now - t < Duration::from_secs(1));
                last_refused = Some(now);
                rate.refused(now, other);
                if other {
                    paused_until = now + Duration::from_secs(1);
                }
            } else {
                window.push_back(now);
                accepted += 1;
            }
            now += Duration::from_secs_f64(1.0 / rate.current(now));
        }
        (accepted, refused)
    }

    #[test]
    fn a_stricter_server_costs_a_refusal_or_two_and_is_then_used_to_95_percent() {
        let start = Instant::now();
        let mut rate = AdaptiveRate::new(30.0, start);
        let (accepted, refused) = run(&mut rate, 20, start, 60);
        assert!(refused <= 3, "{refused} refusals");
        assert!(
            accepted as f64 >= 0.95 * 20.0 * 59.0,
            "{accepted} in a minute"
        );
        let now = start + Duration::from_secs(60);
        let settled = rate.current(now);
        assert!((19.0..20.0).contains(&settled), "{settled}");
    }

    #[test]
    fn at_the_ceiling_a_jittery_refusal_lowers_the_rate_a_little() {
        let start = Instant::now();
        let mut rate = AdaptiveRate::new(30.0, start);
        for i in 0..30 {
            rate.sent(start + Duration::from_millis(33 * i));
        }
        let now = start + Duration::from_millis(990);
        assert!(rate.refused(now, false), "a full second: global");
        let lowered = rate.current(now);
        assert!((27.0..29.0).contains(&lowered), "{lowered}");
        // Quiet seconds bring it back to just under what was accepted, not beyond.
        let later = rate.current(now + Duration::from_secs(30));
        assert!(later > lowered && later < 29.0, "{later}");
        // Quiet minutes let it try just under the ceiling again.
        assert_eq!(
            rate.current(now + Duration::from_secs(600)),
            30.0 * HEADROOM
        );
    }

    #[test]
    fn one_chats_refusal_in_a_quiet_second_leaves_the_rate_alone() {
        let start = Instant::now();
        let mut rate = AdaptiveRate::new(30.0, start);
        rate.sent(start);
        rate.sent(start + Duration::from_millis(100));
        let at_start = rate.current(start);
        assert_eq!(at_start, 30.0 * HEADROOM, "just under the ceiling");
        assert!(!rate.refused(start + Duration::from_millis(200), false));
        assert_eq!(rate.current(start + Duration::from_millis(200)), at_start);
        // Two chats refused within a second is global, however quiet: a fifth less.
        assert!(rate.refused(start + Duration::from_millis(300), true));
        assert_eq!(
            rate.current(start + Duration::from_millis(300)),
            at_start * 0.8
        );
        // Refusals in the same second lower it once.
        let once = rate.current(start + Duration::from_millis(300));
        assert!(rate.refused(start + Duration::from_millis(400), true));
        assert_eq!(rate.current(start + Duration::from_millis(400)), once);
    }

    #[test]
    fn the_rate_never_falls_below_one_a_second() {
        let start = Instant::now();
        let mut rate = AdaptiveRate::new(30.0, start);
        for i in 0..20 {
            rate.refused(start + Duration::from_secs(2 * i), true);
        }
        assert!(rate.current(start + Duration::from_secs(40)) >= MIN_RATE);
    }
}
