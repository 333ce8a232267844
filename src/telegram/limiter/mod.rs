//! Telegram's flood limits, kept on our side so pushes never earn a 429:
//! a global rate (30 messages/s by default), one message per second to a chat,
//! and 20 per minute to a group. Plus the retry schedule for failed sends.
//!
//! The global limit hands out send slots one interval apart (no bursts); a
//! sender first waits until its chat may receive again, and only then takes a
//! global slot, so a chat that must wait never holds up the others. The
//! interval follows an adaptive rate ([`rate`]): the configured one is a
//! ceiling, and Telegram's refusals find what it accepts.

mod rate;

use crate::config::RateLimits;
use crate::runtime::backoff::{clock_seed, jitter, jittered_backoff};

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::runtime::shutdown::Shutdown;
use rate::AdaptiveRate;

/// Shared by every sender (pushes and command replies).
pub struct Limiter {
    limits: Option<RateLimits>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The earliest instant the next global slot may start.
    next_slot: Option<Instant>,
    /// When each recently served chat last got a slot (pruned as it grows).
    last_sent: HashMap<i64, Instant>,
    /// A global pause after Telegram flood-limited more than one chat.
    paused_until: Option<Instant>,
    /// The last 429: which chat and when, to tell a global flood from a chat's.
    last_flood: Option<(i64, Instant)>,
    /// The global rate in force; made at the first send (it reads the clock).
    rate: Option<AdaptiveRate>,
    /// How many global pauses there have been: a slot handed out before one
    /// began is void.
    pauses: u64,
}

impl State {
    fn rate(&mut self, limits: &RateLimits, now: Instant) -> &mut AdaptiveRate {
        self.rate
            .get_or_insert_with(|| AdaptiveRate::new(limits.per_second, now))
    }
}

/// Prune the per-chat table when it grows past this; only recent chats matter.
const PRUNE_AT: usize = 4_096;

/// How far ahead a push may book a global slot. Replies book past at most
/// this much of pushes (a few slots at 30/s), whatever the fan-out's size;
/// and a global pause finds few slots already handed out.
const PUSH_HORIZON: Duration = Duration::from_millis(100);

/// What one look at the state gave a sender.
enum Booking {
    /// Send at `at`, unless a global pause begins first (`pauses` tells);
    /// `before` is when the chat was last sent to, to restore if it does.
    Slot {
        at: Instant,
        pauses: u64,
        before: Option<Instant>,
    },
    /// Another sender to the chat got there first: wait for its gap again.
    ChatTaken,
    /// A push would book too far ahead: look again at this instant.
    TooFarAhead(Instant),
}

/// Who is asking for a slot: a reply jumps the pushes that wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Priority {
    Push,
    Reply,
}

impl Limiter {
    pub fn new(limits: Option<RateLimits>) -> Limiter {
        Limiter {
            limits,
            state: Mutex::new(State::default()),
        }
    }

    /// Waits until a push to `chat` may go out. Returns false if `shutdown`
    /// turned true while waiting (the caller then sends nothing).
    pub async fn acquire(&self, chat: i64, shutdown: &Shutdown) -> bool {
        self.acquire_as(chat, Priority::Push, shutdown).await
    }

    /// Waits until a command reply to `chat` may go out: like
    /// [`Limiter::acquire`], but ahead of every push still waiting for a
    /// global slot, so a user who asks during a large fan-out is answered
    /// within a few slots, not after the pushes queued before.
    pub async fn acquire_reply(&self, chat: i64, shutdown: &Shutdown) -> bool {
        self.acquire_as(chat, Priority::Reply, shutdown).await
    }

    async fn acquire_as(&self, chat: i64, priority: Priority, shutdown: &Shutdown) -> bool {
        let Some(limits) = self.limits else {
            return !shutdown.is_requested();
        };
        // First the chat's own gap, without reserving a global slot meanwhile;
        // then, if nobody served the chat while we waited, a global slot.
        loop {
            let chat_ready = {
                let state = self.lock();
                let mut ready = state
                    .last_sent
                    .get(&chat)
                    .map(|t| *t + limits.gap_for(chat));
                if let Some(paused) = state.paused_until {
                    ready = Some(ready.map_or(paused, |r| r.max(paused)));
                }
                ready
            };
            if let Some(at) = chat_ready
                && !sleep_until(at, shutdown).await
            {
                return false;
            }
            let booked = self.book(chat, priority, &limits);
            let (slot, pauses, before) = match booked {
                Booking::Slot { at, pauses, before } => (at, pauses, before),
                Booking::ChatTaken => continue,
                Booking::TooFarAhead(retry_at) => {
                    if !sleep_until(retry_at, shutdown).await {
                        return false;
                    }
                    continue;
                }
            };
            if !sleep_until(slot, shutdown).await {
                return false;
            }
            let mut state = self.lock();
            if state.pauses == pauses {
                return true;
            }
            // A global pause began while this slot waited: it is void, and
            // the chat has not been sent to after all. Queue again behind it.
            if let Some(rate) = state.rate.as_mut() {
                rate.unsent(slot);
            }
            if state.last_sent.get(&chat) == Some(&slot) {
                match before {
                    Some(before) => state.last_sent.insert(chat, before),
                    None => state.last_sent.remove(&chat),
                };
            }
        }
    }

    /// One look at the state: a global slot for `chat`, or why not yet.
    fn book(&self, chat: i64, priority: Priority, limits: &RateLimits) -> Booking {
        let mut state = self.lock();
        let now = Instant::now();
        if state
            .last_sent
            .get(&chat)
            .is_some_and(|t| *t + limits.gap_for(chat) > now)
        {
            return Booking::ChatTaken; // another sender to this chat got there first
        }
        let mut slot = now;
        if let Some(next) = state.next_slot {
            slot = slot.max(next);
        }
        if let Some(paused) = state.paused_until {
            slot = slot.max(paused);
        }
        // Pushes book no further ahead than PUSH_HORIZON: a reply that comes
        // meanwhile books the next slot past those few, ahead of every push
        // still waiting here.
        if priority == Priority::Push && slot > now + PUSH_HORIZON {
            return Booking::TooFarAhead(slot - PUSH_HORIZON);
        }
        let rate = state.rate(limits, now);
        rate.sent(slot);
        let per_second = rate.current(now);
        crate::metrics::get().send_rate.set(per_second);
        state.next_slot = Some(slot + Duration::from_secs_f64(1.0 / per_second));
        if state.last_sent.len() >= PRUNE_AT {
            let horizon = limits.private_gap.max(limits.group_gap);
            state.last_sent.retain(|_, t| *t + horizon > now);
        }
        let before = state.last_sent.insert(chat, slot);
        Booking::Slot {
            at: slot,
            pauses: state.pauses,
            before,
        }
    }

    /// Telegram answered 429 for `chat`. The chat itself is retried later by
    /// its sender. If the limit looks global — another chat was refused moments
    /// ago, or we had sent about all our rate allows in the last second — the
    /// global rate is lowered ([`rate`]); if another chat was refused too,
    /// every send also pauses for `after` (the longest pause asked for wins,
    /// never longer). A lone refusal at our own pace (jitter squeezed one send
    /// too many into Telegram's second) costs no pause: the lower rate fixes it.
    pub fn flood_limited(&self, chat: i64, after: Duration) {
        let now = Instant::now();
        let mut state = self.lock();
        let other_chat_too = state.last_flood.is_some_and(|(other, at)| {
            other != chat && now.duration_since(at) < Duration::from_secs(1)
        });
        state.last_flood = Some((chat, now));
        if let Some(limits) = self.limits {
            let rate = state.rate(&limits, now);
            let before = rate.current(now);
            rate.refused(now, other_chat_too);
            let after = rate.current(now);
            crate::metrics::get().send_rate.set(after);
            if after < before {
                tracing::info!(
                    from = format!("{before:.1}/s"),
                    to = format!("{after:.1}/s"),
                    "Telegram refused a send (429): the global send rate is lowered"
                );
            }
        }
        if other_chat_too {
            let until = now + after;
            let until = state.paused_until.map_or(until, |p| p.max(until));
            state.paused_until = Some(until);
            // Slots handed out before the pause are void; after it, sends
            // start again at the (lowered) rate.
            state.pauses += 1;
            state.next_slot = Some(until);
        }
    }

    /// The global rate in force (messages per second), for operators; `None`
    /// when there are no limits.
    pub fn current_rate(&self) -> Option<f64> {
        let limits = self.limits?;
        let now = Instant::now();
        Some(self.lock().rate(&limits, now).current(now))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state stays consistent even if a holder panicked: every update is one assignment.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Sleeps until `at`; false if shutdown came first.
async fn sleep_until(at: Instant, shutdown: &Shutdown) -> bool {
    if shutdown.is_requested() {
        return false;
    }
    if at <= Instant::now() {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep_until(at) => true,
        _ = shutdown.requested() => false,
    }
}

/// How long to wait before retrying a chat after its `attempt`-th consecutive
/// transient failure: Telegram's own `retry_after` when it gave one, else 1 s
/// doubling up to 5 minutes; either way with jitter so retries of many chats
/// do not arrive together.
pub(crate) fn push_retry_delay(
    attempt: u32,
    retry_after: Option<Duration>,
    jitter_seed: u64,
) -> Duration {
    let unit = jitter(jitter_seed); // in [0, 1)
    match retry_after {
        // Never earlier than Telegram asked; up to 10 % later.
        Some(after) => after + after.mul_f64(0.1 * unit) + Duration::from_millis(50),
        None => jittered_backoff(
            Duration::from_secs(1),
            attempt,
            Duration::from_secs(300),
            jitter_seed,
        ),
    }
}

/// Retry state per chat, only for chats that failed recently (memory follows
/// failures, not subscribers).
#[derive(Default)]
pub(crate) struct Backoff {
    chats: Mutex<HashMap<i64, (u32, Instant)>>,
}

impl Backoff {
    /// Records a transient failure; returns when the chat may be tried again.
    pub(crate) fn defer(&self, chat: i64, retry_after: Option<Duration>) -> Instant {
        let mut chats = self.lock();
        let attempt = chats.get(&chat).map_or(1, |(a, _)| a.saturating_add(1));
        let seed = clock_seed() ^ (chat as u64).rotate_left(17) ^ u64::from(attempt);
        let until = Instant::now() + push_retry_delay(attempt, retry_after, seed);
        chats.insert(chat, (attempt, until));
        until
    }

    /// The chat delivered successfully: forget its failures.
    pub(crate) fn clear(&self, chat: i64) {
        self.lock().remove(&chat);
    }

    /// Whether `chat` must still wait.
    pub(crate) fn is_waiting(&self, chat: i64, now: Instant) -> bool {
        self.lock()
            .get(&chat)
            .is_some_and(|(_, until)| *until > now)
    }

    /// Chats whose wait has ended but that have not succeeded since.
    pub(crate) fn due(&self, now: Instant) -> Vec<i64> {
        let chats = self.lock();
        if chats.is_empty() {
            return Vec::new(); // the common case: nothing failed
        }
        chats
            .iter()
            .filter(|(_, (_, until))| *until <= now)
            .map(|(chat, _)| *chat)
            .collect()
    }

    /// The earliest instant after `now` at which a waiting chat may be retried.
    pub(crate) fn next_due(&self, now: Instant) -> Option<Instant> {
        self.lock()
            .values()
            .map(|(_, until)| *until)
            .filter(|until| *until > now)
            .min()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, (u32, Instant)>> {
        self.chats.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_grow_with_jitter_and_respect_retry_after() {
        for seed in 0..200u64 {
            let first = push_retry_delay(1, None, seed);
            assert!(first >= Duration::from_millis(500) && first <= Duration::from_secs(1));
            let fifth = push_retry_delay(5, None, seed);
            assert!(fifth >= Duration::from_secs(8) && fifth <= Duration::from_secs(16));
            let capped = push_retry_delay(40, None, seed);
            assert!(capped <= Duration::from_secs(300));
            let asked = push_retry_delay(1, Some(Duration::from_secs(7)), seed);
            assert!(asked >= Duration::from_secs(7) && asked <= Duration::from_millis(7_800));
        }
        let spread: std::collections::HashSet<_> =
            (0..50u64).map(|s| push_retry_delay(3, None, s)).collect();
        assert!(spread.len() > 40, "jitter spreads retries");
    }

    #[tokio::test(start_paused = true)]
    async fn global_slots_are_spaced_and_chat_gaps_kept() {
        let limiter = Limiter::new(Some(RateLimits::telegram(10.0)));
        let (_trigger, shutdown) = Shutdown::new();
        let start = Instant::now();
        // Paced just under the configured 10/s (see `rate`).
        let interval = Duration::from_secs_f64(1.0 / limiter.current_rate().unwrap());
        assert!(interval > Duration::from_millis(100) && interval < Duration::from_millis(104));
        let about = |got: Duration, want: Duration| {
            assert!(
                got.abs_diff(want) < Duration::from_millis(1),
                "{got:?}, not {want:?}"
            );
        };
        for chat in 1..=5 {
            assert!(limiter.acquire(chat, &shutdown).await);
        }
        // Five chats: the fifth slot starts four intervals after the first.
        about(Instant::now() - start, interval * 4);
        assert!(limiter.acquire(1, &shutdown).await);
        // Chat 1 got its first slot at 0 ms, so it waits for its 1.05 s gap.
        about(Instant::now() - start, Duration::from_millis(1_050));
        assert!(limiter.acquire(-7, &shutdown).await);
        assert!(limiter.acquire(-7, &shutdown).await);
        about(
            Instant::now() - start,
            Duration::from_millis(1_050 + 3_050) + interval,
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_flood_on_two_chats_pauses_everyone_but_one_chat_pauses_nobody() {
        let limiter = Limiter::new(Some(RateLimits::telegram(1000.0)));
        let (_trigger, shutdown) = Shutdown::new();
        limiter.flood_limited(1, Duration::from_secs(5));
        let start = Instant::now();
        assert!(limiter.acquire(2, &shutdown).await);
        assert!(Instant::now() - start < Duration::from_millis(10));
        limiter.flood_limited(3, Duration::from_secs(5));
        assert!(limiter.acquire(4, &shutdown).await);
        assert!(Instant::now() - start >= Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn two_senders_to_one_chat_keep_its_gap() {
        let limiter = std::sync::Arc::new(Limiter::new(Some(RateLimits::telegram(100.0))));
        let (_trigger, shutdown) = Shutdown::new();
        assert!(limiter.acquire(-5, &shutdown).await);
        let start = Instant::now();
        let (a, b) = tokio::join!(
            limiter.acquire(-5, &shutdown),
            limiter.acquire(-5, &shutdown)
        );
        assert!(a && b);
        // A reply and a push to one group: 3.05 s apart, not both after the first gap.
        assert!(Instant::now() - start >= Duration::from_millis(2 * 3_050 - 10));
    }

    #[tokio::test(start_paused = true)]
    async fn a_reply_jumps_the_pushes_waiting_for_a_global_slot() {
        let limiter = std::sync::Arc::new(Limiter::new(Some(RateLimits::telegram(30.0))));
        let (_trigger, shutdown) = Shutdown::new();
        let start = Instant::now();
        // 64 pushes to distinct chats want slots at once: over 2 s of slots at 30/s.
        let mut pushes = tokio::task::JoinSet::new();
        for chat in 1..=64 {
            let (limiter, shutdown) = (limiter.clone(), shutdown.clone());
            pushes.spawn(async move {
                assert!(limiter.acquire(chat, &shutdown).await);
                Instant::now()
            });
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(limiter.acquire_reply(10_000, &shutdown).await);
        let waited = Instant::now() - start - Duration::from_millis(500);
        // Past the pushes booked within the horizon (100 ms), not the 1.6 s left.
        assert!(waited <= Duration::from_millis(150), "{waited:?}");
        let mut times = Vec::new();
        while let Some(at) = pushes.join_next().await {
            times.push(at.unwrap());
        }
        times.sort();
        // The global pace holds for pushes and the reply together.
        times.push(start + Duration::from_millis(500) + waited);
        times.sort();
        for pair in times.windows(2) {
            assert!(pair[1] - pair[0] >= Duration::from_millis(33), "{pair:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_interrupts_a_wait() {
        let limiter = Limiter::new(Some(RateLimits::telegram(0.001)));
        let (trigger, shutdown) = Shutdown::new();
        assert!(limiter.acquire(1, &shutdown).await);
        let waiting = limiter.acquire(2, &shutdown);
        trigger.trigger();
        assert!(!waiting.await);
    }
}
