//! Webhook mode, a Telegram edge like [`crate::updates`]: Telegram posts
//! updates to the bot's HTTP server ([`crate::http`]) instead of the bot
//! long-polling `getUpdates`. Commands are handled exactly as with polling:
//! the posted updates feed the same dispatcher through an update listener.
//!
//! Each start draws a new random secret token (48 characters of
//! `A-Za-z0-9_-`) and registers it with `setWebhook`; Telegram sends it back
//! in `X-Telegram-Bot-Api-Secret-Token`, and a request without it is refused
//! before its body is read. Updates wait in a bounded queue; when the
//! dispatcher cannot keep up, Telegram is asked to come back later (503) and
//! retries on its own. Switching back to polling deletes the webhook (the
//! polling listener calls `deleteWebhook` first: `getUpdates` does not work
//! while one is set).
//!
//! Why our own route rather than teloxide's `webhooks-axum` feature: one
//! server serves health, metrics, feeds and the webhook; the queue is bounded
//! (teloxide's is not); the secret is compared in constant time; and no extra
//! crates (tower-http, tokio-stream) are compiled.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use futures::{Stream, StreamExt};
use teloxide::prelude::*;
use teloxide::stop::{StopFlag, StopToken, mk_stop_token};
use teloxide::types::{AllowedUpdate, Update};
use teloxide::update_listeners::{StatefulListener, UpdateListener};
use tokio::sync::mpsc;
use url::Url;

use crate::config::redact::{Redacted, hide_tokens};
use crate::runtime::backoff::jittered_backoff_now;

/// The header Telegram sends the secret token in.
pub(crate) const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";
/// Updates waiting for the dispatcher.
const QUEUE: usize = 256;
/// How long a request waits for room in the queue before Telegram is told
/// to retry later.
const QUEUE_WAIT: Duration = Duration::from_secs(5);
/// The largest update body read; Telegram's are a few kilobytes.
pub(crate) const MAX_BODY: usize = 1024 * 1024;
/// Characters of the secret token (Telegram allows 1 to 256 of `A-Za-z0-9_-`).
const SECRET_LEN: usize = 48;

/// Why a posted update was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The queue stayed full: Telegram should retry later.
    Busy,
    /// The dispatcher has stopped.
    Stopping,
}

/// Where the HTTP route hands posted updates; cheap to clone.
#[derive(Clone)]
pub(crate) struct Inbox {
    secret: std::sync::Arc<str>,
    queue: mpsc::Sender<Update>,
}

/// Draws a secret token from the operating system's random source.
pub(crate) fn new_secret() -> anyhow::Result<String> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    let mut bytes = [0u8; SECRET_LEN];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| anyhow::anyhow!("cannot draw a webhook secret: {e}"))?;
    // 64 symbols divide 256 evenly: every symbol is equally likely.
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[usize::from(b & 63)] as char)
        .collect())
}

/// Equal without telling by its timing how much of a guess was right.
fn same_secret(given: &[u8], secret: &[u8]) -> bool {
    given.len() == secret.len()
        && given
            .iter()
            .zip(secret)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

impl Inbox {
    /// Whether `given` (the header's value) is the secret.
    pub(crate) fn is_authorized(&self, given: Option<&[u8]>) -> bool {
        given.is_some_and(|g| same_secret(g, self.secret.as_bytes()))
    }

    /// Queues one update's JSON: `Ok(true)` when queued. An update that
    /// cannot be read is logged and dropped (`Ok(false)`): Telegram would only
    /// send it again.
    pub(crate) async fn deliver(&self, body: &[u8]) -> Result<bool, Refusal> {
        let update: Update = match serde_json::from_slice(body) {
            Ok(update) => update,
            Err(e) => {
                tracing::warn!(error = %e, bytes = body.len(), "cannot read an update Telegram posted; dropping it");
                return Ok(false);
            }
        };
        match self.queue.send_timeout(update, QUEUE_WAIT).await {
            Ok(()) => Ok(true),
            Err(mpsc::error::SendTimeoutError::Timeout(_)) => Err(Refusal::Busy),
            Err(mpsc::error::SendTimeoutError::Closed(_)) => Err(Refusal::Stopping),
        }
    }
}

/// What the listener needs to register the webhook and hand updates on.
pub(crate) struct Listening {
    bot: Bot,
    url: Url,
    secret: String,
    allowed: Vec<AllowedUpdate>,
    registered: bool,
    queue: mpsc::Receiver<Update>,
    stop_token: StopToken,
    stop_flag: StopFlag,
}

/// The route's [`Inbox`] and the dispatcher's update listener for webhook
/// mode at `url` with `secret`. The listener registers the webhook (with the
/// update kinds the dispatcher asks for) when dispatching starts, retrying
/// until Telegram accepts it.
pub(crate) fn channel(
    bot: Bot,
    url: Url,
    secret: String,
) -> (Inbox, impl UpdateListener<Err = Infallible> + Send) {
    let (tx, rx) = mpsc::channel(QUEUE);
    let (stop_token, stop_flag) = mk_stop_token();
    let inbox = Inbox {
        secret: secret.as_str().into(),
        queue: tx,
    };
    let state = Listening {
        bot,
        url,
        secret,
        allowed: Vec::new(),
        registered: false,
        queue: rx,
        stop_token,
        stop_flag,
    };
    let listener = StatefulListener::new_with_hints(
        state,
        updates,
        |state: &mut Listening| state.stop_token.clone(),
        Some(
            |state: &mut Listening, hint: &mut dyn Iterator<Item = AllowedUpdate>| {
                state.allowed = hint.collect();
            },
        ),
    );
    (inbox, listener)
}

/// The dispatcher's stream: register the webhook once, then every queued
/// update until the listener is stopped.
fn updates(state: &mut Listening) -> impl Stream<Item = Result<Update, Infallible>> + Send + '_ {
    let Listening {
        bot,
        url,
        secret,
        allowed,
        registered,
        queue,
        stop_flag,
        ..
    } = state;
    let register = register(bot, url, secret, allowed, registered, stop_flag.clone());
    let mut flag = stop_flag.clone();
    let queued = futures::stream::poll_fn(move |cx| {
        if Pin::new(&mut flag).poll(cx).is_ready() {
            return std::task::Poll::Ready(None);
        }
        queue.poll_recv(cx).map(|u| u.map(Ok))
    });
    futures::stream::once(register)
        .filter_map(|()| futures::future::ready(None))
        .chain(queued)
}

/// How many connections Telegram may hold open at once to post updates
/// (its default is 40): no more than the HTTP server serves one client at
/// once, so Telegram's posts never queue behind each other at our door.
pub(crate) const TELEGRAM_CONNECTIONS: u8 = 8;

/// The first wait before `setWebhook` is asked again, doubling (with jitter)
/// up to [`REGISTER_RETRY_CAP`].
const REGISTER_RETRY: Duration = Duration::from_secs(1);
/// The longest wait between two `setWebhook` attempts.
const REGISTER_RETRY_CAP: Duration = Duration::from_secs(60);

/// Calls `setWebhook` until Telegram accepts it (or the listener stops),
/// waiting on the program's one backoff between attempts.
async fn register(
    bot: &Bot,
    url: &Url,
    secret: &str,
    allowed: &[AllowedUpdate],
    registered: &mut bool,
    stop: StopFlag,
) {
    let mut failures: u32 = 0;
    while !*registered {
        let request = bot
            .set_webhook(url.clone())
            .secret_token(secret.to_string())
            .max_connections(TELEGRAM_CONNECTIONS)
            .allowed_updates(allowed.to_vec());
        match request.await {
            Ok(_) => {
                tracing::info!(
                    url = %Redacted(url),
                    "webhook set; Telegram posts updates to the HTTP server"
                );
                *registered = true;
                return;
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                let delay = jittered_backoff_now(REGISTER_RETRY, failures, REGISTER_RETRY_CAP);
                tracing::warn!(
                    error = %hide_tokens(&e.to_string()),
                    retry_in = ?delay,
                    "Telegram refused setWebhook"
                );
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = stop.clone() => return,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_of_telegrams_alphabet() {
        let a = new_secret().unwrap();
        let b = new_secret().unwrap();
        assert_eq!(a.len(), SECRET_LEN);
        assert_ne!(a, b);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        );
    }

    #[test]
    fn the_secret_must_match_whole() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abd", b"abc"));
        assert!(!same_secret(b"ab", b"abc"));
        assert!(!same_secret(b"", b"abc"));
    }
}
