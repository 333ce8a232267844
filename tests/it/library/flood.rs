//! Telegram's flood control as a strict server enforces it: a storm of 429s
//! never stalls delivery, deferred pushes come back when their `retry_after`
//! ends, and the send rate finds what the server accepts (paused time).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use embassy_bot::Delivery;
use embassy_bot::Limiter;
use embassy_bot::RateLimits;
use embassy_bot::Shutdown;
use embassy_bot::Store;
use embassy_bot::{Format, Messenger, SendError};
use tokio::time::Instant;

use crate::support::{item, poll};

/// A Bot API as strict as Telegram's: at most `per_second` accepted messages
/// in any one-second window overall, and one a second to a chat; anything
/// more is refused with 429 and `retry_after` = 1 s.
#[derive(Clone)]
struct StrictServer {
    state: Arc<Mutex<Strict>>,
}

struct Strict {
    per_second: usize,
    /// Accepted sends in the last second, oldest first.
    window: VecDeque<Instant>,
    last_to: HashMap<i64, Instant>,
    /// Every accepted send: (chat, when).
    accepted: Vec<(i64, Instant)>,
    refused: usize,
    /// While set, every send is refused (a storm).
    storm_until: Option<Instant>,
    /// Chats whose next send fails with a 500.
    fail_once: Vec<i64>,
}

impl StrictServer {
    fn new(per_second: usize) -> StrictServer {
        StrictServer {
            state: Arc::new(Mutex::new(Strict {
                per_second,
                window: VecDeque::new(),
                last_to: HashMap::new(),
                accepted: Vec::new(),
                refused: 0,
                storm_until: None,
                fail_once: Vec::new(),
            })),
        }
    }

    fn accepted(&self) -> Vec<(i64, Instant)> {
        self.state.lock().unwrap().accepted.clone()
    }

    fn refused(&self) -> usize {
        self.state.lock().unwrap().refused
    }

    fn storm_for(&self, length: Duration) {
        self.state.lock().unwrap().storm_until = Some(Instant::now() + length);
    }
}

impl Messenger for StrictServer {
    async fn send(
        &self,
        chat: i64,
        _thread: Option<i32>,
        _text: String,
        _format: Format,
    ) -> Result<(), SendError> {
        let now = Instant::now();
        let mut s = self.state.lock().unwrap();
        while s
            .window
            .front()
            .is_some_and(|t| now - *t >= Duration::from_secs(1))
        {
            s.window.pop_front();
        }
        if let Some(i) = s.fail_once.iter().position(|c| *c == chat) {
            s.fail_once.remove(i);
            return Err(SendError::Retry {
                after: None,
                reason: "Internal Server Error".into(),
            });
        }
        let storm = s.storm_until.is_some_and(|until| now < until);
        let chat_too_soon = s
            .last_to
            .get(&chat)
            .is_some_and(|t| now - *t < Duration::from_secs(1));
        if storm || s.window.len() >= s.per_second || chat_too_soon {
            s.refused += 1;
            return Err(SendError::Retry {
                after: Some(Duration::from_secs(1)),
                reason: "Too Many Requests: retry after 1".into(),
            });
        }
        s.window.push_back(now);
        s.last_to.insert(chat, now);
        s.accepted.push((chat, now));
        Ok(())
    }
}

/// A store with `chats` subscribed and one new release queued for them.
async fn one_release_for(chats: std::ops::RangeInclusive<i64>) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let now = Utc::now();
    poll(&store, "s", &[item(1)], now).await;
    for chat in chats {
        store.subscribe(chat, None, now).await.unwrap();
    }
    assert_eq!(poll(&store, "s", &[item(2), item(1)], now).await.queued, 1);
    (dir, store)
}

/// Runs delivery until `server` accepted `expected` pushes (or, in virtual
/// time, twice what the server's rate needs plus half a minute passed), then
/// stops it. Returns what the server accepted meanwhile.
async fn deliver_until(
    store: &Store,
    server: &StrictServer,
    limiter: Arc<Limiter>,
    expected: usize,
) -> Vec<(i64, Instant)> {
    let delivery = Delivery::new(store.clone(), server.clone(), limiter, 32);
    let wake = Arc::new(tokio::sync::Notify::new());
    let (trigger, shutdown) = Shutdown::new();
    let worker = tokio::spawn(delivery.run(wake.clone(), shutdown));
    wake.notify_one();
    let per_second = server.state.lock().unwrap().per_second;
    let deadline = Instant::now() + Duration::from_secs(30 + 2 * (expected / per_second) as u64);
    while server.accepted().len() < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let accepted = server.accepted();
    trigger.trigger();
    // A delivery wedged in a store call would never stop: fail, do not hang.
    let stopped = tokio::time::timeout(Duration::from_secs(30), worker).await;
    assert!(
        accepted.len() >= expected,
        "only {} of {expected} pushes went out",
        accepted.len()
    );
    assert!(stopped.is_ok(), "delivery did not stop");
    accepted
}

/// The longest time between two accepted pushes.
fn longest_pause(accepted: &[(i64, Instant)]) -> Duration {
    let mut times: Vec<Instant> = accepted.iter().map(|(_, t)| *t).collect();
    times.sort();
    times
        .windows(2)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap_or_default()
}

#[tokio::test(start_paused = true)]
async fn without_throttling_a_storm_of_429s_delays_but_never_stalls_the_fan_out() {
    let (_dir, store) = one_release_for(1..=1_000).await;
    let server = StrictServer::new(30);
    let accepted = deliver_until(&store, &server, Arc::new(Limiter::new(None)), 1_000).await;
    let mut chats: Vec<i64> = accepted.iter().map(|(c, _)| *c).collect();
    chats.sort();
    chats.dedup();
    assert_eq!(chats.len(), 1_000, "every chat got the release");
    assert_eq!(accepted.len(), 1_000, "and only once");
    let pause = longest_pause(&accepted);
    // The largest retry_after is 1 s; with jitter, never more than 1 s more.
    assert!(pause <= Duration::from_secs(2), "a pause of {pause:?}");
    assert_eq!(store.journal_count(), 0);
    assert_eq!(store.outbox_len(), 0);
}

#[tokio::test(start_paused = true)]
async fn after_a_storm_every_deferred_push_comes_back_when_its_retry_after_ends() {
    let (_dir, store) = one_release_for(1..=300).await;
    let server = StrictServer::new(30);
    // Telegram refuses everything for three seconds, whoever asks.
    let storm = Duration::from_secs(3);
    let storm_ends = Instant::now() + storm;
    server.storm_for(storm);
    let limiter = Arc::new(Limiter::new(Some(RateLimits::telegram(30.0))));
    let accepted = deliver_until(&store, &server, limiter, 300).await;
    assert!(server.refused() > 0, "the storm refused sends");
    let first = accepted.iter().map(|(_, t)| *t).min().unwrap();
    // Pushes refused at the storm's end come back after their retry_after
    // (1 s, plus at most 10 % jitter), not later.
    assert!(
        first <= storm_ends + Duration::from_millis(1_200),
        "the first push went {:?} after the storm",
        first - storm_ends
    );
    let pause = longest_pause(&accepted);
    assert!(pause <= Duration::from_secs(2), "a pause of {pause:?}");
    assert_eq!(accepted.len(), 300, "each chat once");
}

/// Pushes per second from the first accepted push to the last.
fn achieved_rate(accepted: &[(i64, Instant)]) -> f64 {
    let mut times: Vec<Instant> = accepted.iter().map(|(_, t)| *t).collect();
    times.sort();
    let span = (times[times.len() - 1] - times[0]).as_secs_f64();
    (times.len() - 1) as f64 / span
}

#[tokio::test(start_paused = true)]
async fn the_send_rate_converges_on_what_a_stricter_server_accepts() {
    let (_dir, store) = one_release_for(1..=1_000).await;
    // Configured for Telegram's 30/s; this server takes 20.
    let server = StrictServer::new(20);
    let limiter = Arc::new(Limiter::new(Some(RateLimits::telegram(30.0))));
    let accepted = deliver_until(&store, &server, limiter.clone(), 1_000).await;
    assert_eq!(accepted.len(), 1_000);
    let refused = server.refused();
    assert!(refused <= 5, "{refused} pushes refused with 429");
    let rate = achieved_rate(&accepted);
    assert!(rate >= 0.95 * 20.0, "{rate:.2} pushes a second");
    assert!(rate <= 20.0, "{rate:.2} pushes a second");
    let settled = limiter.current_rate().unwrap();
    eprintln!("refused {refused}, achieved {rate:.2}/s, settled at {settled:.2}/s");
    assert!(
        (19.0..20.0).contains(&settled),
        "the rate settled at {settled:.2}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_500_in_the_middle_of_a_fan_out_delays_only_that_chat() {
    let (_dir, store) = one_release_for(1..=300).await;
    let server = StrictServer::new(30);
    server.state.lock().unwrap().fail_once.push(150);
    let limiter = Arc::new(Limiter::new(Some(RateLimits::telegram(30.0))));
    let accepted = deliver_until(&store, &server, limiter, 300).await;
    assert_eq!(
        accepted.len(),
        300,
        "every chat, the failed one included, once"
    );
    let when = |chat| accepted.iter().find(|(c, _)| *c == chat).unwrap().1;
    // The others went on at the server's pace, in chat order, without it.
    let others: Vec<Instant> = (1..=300).filter(|c| *c != 150).map(when).collect();
    assert!(others.windows(2).all(|w| w[0] <= w[1]), "in order");
    assert!(longest_pause(&accepted) < Duration::from_millis(500));
    assert_eq!(server.refused(), 0, "no 429 at all");
    // Chat 150 came back after its backoff (0.5–1 s) and a place in the
    // send queue (32 sends in flight at 30/s: about 1.1 s), not at the end.
    let retried = when(150) - when(149);
    assert!(
        (Duration::from_millis(500)..Duration::from_secs(3)).contains(&retried),
        "{retried:?}"
    );
    assert!(when(150) < when(300), "long before the walk ended");
}
