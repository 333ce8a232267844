//! Retry schedules: one backoff, doubling with jitter, for everything that
//! retries (pushes, source reads, reconnecting to Telegram).

use std::time::Duration;

/// The `attempt`-th step of a backoff that starts at `base` and doubles up to
/// `cap`, spread over the upper half of the step (between half and all of it)
/// so many waiting parties do not retry together. Every backoff in the program
/// (pushes in [`crate::telegram::limiter`], source reads in [`crate::watch::poller`],
/// reconnecting to Telegram in [`crate::app`]) uses it.
pub(crate) fn jittered_backoff(base: Duration, attempt: u32, cap: Duration, seed: u64) -> Duration {
    let step = base
        .saturating_mul(1 << attempt.saturating_sub(1).min(20))
        .min(cap);
    step.mul_f64(0.5 + 0.5 * jitter(seed))
}

/// A cheap, well-mixed number in [0, 1) from a seed (splitmix64).
pub(crate) fn jitter(seed: u64) -> f64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// [`jittered_backoff`] seeded from the clock and `attempt`, for a caller with
/// no seed of its own (reconnecting to Telegram, registering the webhook).
pub(crate) fn jittered_backoff_now(base: Duration, attempt: u32, cap: Duration) -> Duration {
    jittered_backoff(base, attempt, cap, clock_seed() ^ u64::from(attempt))
}

/// A seed that differs from one call to the next: the wall clock's nanoseconds.
pub(crate) fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}
