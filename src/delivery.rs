//! Sends each new release to its subscribers, and the pushes the store has
//! journaled; marks each one done only after Telegram accepted it (or it can
//! never be sent).
//!
//! One worker loop serves two kinds of work, up to `send_concurrency` chats at
//! once: a new release goes straight down the subscriber list, a page of chats
//! at a time ([`Store::fan_out_page`]); pushes that could not go out then (the
//! chat was owed older ones, or waiting out a failure, or its send failed) are
//! journaled, and a sweep of the journal serves them chat by chat. Within a
//! chat, pushes go out oldest first and one at a time. Every send waits for
//! the [`Limiter`], so Telegram's flood limits hold.
//!
//! Failures stay with their chat: a transient one (network, 5xx, 429) defers
//! that chat alone, with backoff and jitter ([`Backoff`]); a permanent chat
//! error (blocked, kicked, not found) unsubscribes it and drops what it was
//! owed; a group that became a supergroup moves, pushes and all; a message
//! Telegram cannot parse or finds too long is re-sent as plain text.
//!
//! Crash safety: a fan-out records each chat it reached only after Telegram
//! accepted the push (in the store's fan-out log), and a journaled push is
//! removed only after Telegram accepted it, so a crash loses nothing. It
//! repeats at most the sends in flight at that moment (one per concurrently
//! served chat), plus fan-out records not yet written and journal completions
//! not yet flushed (each held to half as many): at most 2 × `send_concurrency`
//! repeats per crash, without an fsync per message.
//!
//! Releases are fanned out one at a time, oldest first: the next starts when
//! the last send of the one before has ended, so a slow answer (at most the
//! send timeout) can hold the next release back by that long.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use std::collections::{HashMap, HashSet, VecDeque};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use crate::limiter::{Backoff, Limiter};
use crate::render::{push_message, shorten, to_plain};
use crate::store::{FanOutPage, FanOutStep, PendingDelivery, Release, Removal, Store, StoreError};

/// How a send failed, as far as delivery needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// The chat cannot receive messages any more (blocked, kicked, deleted).
    ChatGone(String),
    /// The group became a supergroup with this id.
    Migrated(i64),
    /// This message can never be sent as it is (Telegram refused its content).
    Rejected(String),
    /// Try again later (flood control, network trouble, server errors).
    Retry {
        after: Option<Duration>,
        reason: String,
    },
}

/// How Telegram should read a message's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Telegram's HTML subset (everything we render).
    Html,
    /// Plain text: the fallback when Telegram refuses our HTML.
    Plain,
}

/// Something that can deliver a message to a chat.
/// Implemented by the Telegram edge; tests may provide their own.
pub trait Messenger: Clone + Send + Sync + 'static {
    fn send(
        &self,
        chat: i64,
        text: String,
        format: Format,
    ) -> impl Future<Output = Result<(), SendError>> + Send;
}

/// Totals of one delivery pass, for logs and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Pushes Telegram accepted.
    pub sent: usize,
    /// Of those, how many went as plain text after Telegram refused the HTML.
    pub sent_plain: usize,
    /// Pushes given up on (Telegram refused them for good).
    pub given_up: usize,
    /// Pushes dropped because the chat no longer wants them (unsubscribed meanwhile).
    pub skipped: usize,
    /// Chats unsubscribed because Telegram said they are gone.
    pub chats_removed: usize,
    /// Groups moved to their supergroup id.
    pub chats_migrated: usize,
    /// Pushes left in the journal for a later pass (transient errors, shutdown).
    pub deferred: usize,
    /// Chats a new release was handed out to (sent at once or journaled).
    pub fanned_out: usize,
}

impl PassReport {
    fn absorb(&mut self, other: PassReport) {
        self.sent += other.sent;
        self.sent_plain += other.sent_plain;
        self.given_up += other.given_up;
        self.skipped += other.skipped;
        self.chats_removed += other.chats_removed;
        self.chats_migrated += other.chats_migrated;
        self.deferred += other.deferred;
        self.fanned_out += other.fanned_out;
    }

    fn did_something(&self) -> bool {
        self.sent + self.given_up + self.skipped + self.chats_removed + self.chats_migrated > 0
    }
}

/// The delivery worker.
#[derive(Clone)]
pub struct Delivery<M> {
    store: Store,
    messenger: M,
    limiter: Arc<Limiter>,
    backoff: Arc<Backoff>,
    /// How many chats are served at once.
    concurrency: usize,
    /// Items being pushed, rendered once: a fan-out sends one release to every chat.
    rendered: Arc<Mutex<HashMap<String, Arc<Push>>>>,
}

/// What a slot in the scheduler is busy with.
enum Job {
    /// A release being fanned out, for one chat.
    Fresh(Release, Arc<Push>),
    /// A chat's journaled pushes: as a sweep listed them, or to be read.
    Journaled(Option<Vec<PendingDelivery>>),
}

/// The page of a release being fanned out, with the release rendered.
struct Fresh {
    page: FanOutPage,
    push: Arc<Push>,
}

/// One release as every chat receives it.
struct Push {
    /// Every source that listed it: a chat following any of them wants it.
    sources: Vec<String>,
    html: String,
}

/// Subscribers read at a time when a release is fanned out.
const FAN_OUT_PAGE: usize = 256;
/// Chats read from the journal at a time during a sweep.
const SWEEP_PAGE: usize = 256;
/// Rendered items kept while pushing (a burst of releases is rarely larger).
const RENDERED_CACHE: usize = 64;
/// How often completions are flushed in the background.
const FLUSH_EVERY: Duration = Duration::from_millis(2);
/// How often the fan-out log is synced to disk (sled flushes every 500 ms too).
const SYNC_LOG_EVERY: Duration = Duration::from_millis(500);
/// Wait after a store error before trying again.
const STORE_RETRY: Duration = Duration::from_secs(5);

impl<M: Messenger> Delivery<M> {
    pub fn new(store: Store, messenger: M, limiter: Arc<Limiter>, concurrency: usize) -> Self {
        Delivery {
            store,
            messenger,
            limiter,
            backoff: Arc::default(),
            concurrency: concurrency.max(1),
            rendered: Arc::default(),
        }
    }

    /// How many completions may run ahead of what a crash remembers, of each
    /// kind: journal removals not yet flushed, and fan-out log records not yet
    /// written. Half the sends in flight each, so a crash repeats at most twice
    /// as many pushes as there are sends in flight.
    fn crash_window(&self) -> usize {
        (self.concurrency / 2).max(1)
    }

    /// The rendered push for `item_id`, from the cache or the store.
    fn push_for(&self, item_id: &str) -> Result<Option<Arc<Push>>, StoreError> {
        if let Some(push) = self.rendered_cache().get(item_id) {
            return Ok(Some(push.clone()));
        }
        let Some(stored) = self.store.item(item_id)? else {
            return Ok(None);
        };
        let push = Arc::new(Push {
            html: push_message(&stored.item),
            sources: stored.sources().map(str::to_string).collect(),
        });
        let mut cache = self.rendered_cache();
        if cache.len() >= RENDERED_CACHE {
            cache.clear();
        }
        cache.insert(item_id.to_string(), push.clone());
        Ok(Some(push))
    }

    fn rendered_cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Push>>> {
        // A plain map: if a holder panicked, its content is still valid.
        self.rendered.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs until `shutdown` turns true. Work never waits for a pass to end:
    /// a new item is fanned out as soon as `wake` says so, a chat whose backoff
    /// ends is retried at once, and a slow chat holds only its own slot.
    pub async fn run(self, wake: Arc<Notify>, shutdown: watch::Receiver<bool>) {
        let flusher = tokio::spawn(flush_regularly(self.store.clone(), shutdown.clone()));
        self.serve(wake, shutdown).await;
        let _ = flusher.await;
    }

    async fn serve(&self, wake: Arc<Notify>, shutdown: watch::Receiver<bool>) {
        loop {
            match self.drive(Some(&wake), &shutdown).await {
                Ok(report) => {
                    tracing::info!(?report, "delivery stopped");
                    return;
                }
                Err(e) => {
                    tracing::error!(error = %e, "delivery failed; retrying shortly");
                    let mut shutdown = shutdown.clone();
                    tokio::select! {
                        _ = tokio::time::sleep(STORE_RETRY) => {}
                        _ = shutdown.wait_for(|stop| *stop) => return,
                    }
                }
            }
        }
    }

    /// One pass, for tests and tools: fan out what the outbox holds, then send
    /// what the journal holds once over, skipping chats that are waiting out a
    /// failure.
    pub async fn deliver_pending(
        &self,
        shutdown: &watch::Receiver<bool>,
    ) -> Result<PassReport, StoreError> {
        self.drive(None, shutdown).await
    }

    /// The scheduler behind [`Delivery::run`] (with `wake`: until shutdown) and
    /// [`Delivery::deliver_pending`] (without: until nothing is left that can
    /// go now). It keeps up to `concurrency` chats in flight, reads the
    /// subscribers and the journal a page of chats at a time (memory stays
    /// bounded however many chats there are), and never serves one chat twice
    /// at once.
    async fn drive(
        &self,
        wake: Option<&Notify>,
        shutdown: &watch::Receiver<bool>,
    ) -> Result<PassReport, StoreError> {
        let mut report = PassReport::default();
        let mut since_idle = PassReport::default();
        let mut in_flight = FuturesUnordered::new();
        let mut busy: HashSet<i64> = HashSet::new();
        // Chats a sweep found busy: served again when their current task ends.
        let mut revisit: HashSet<i64> = HashSet::new();
        let mut page: VecDeque<(i64, Vec<PendingDelivery>)> = VecDeque::new();
        let mut after: Option<i64> = None;
        let mut exhausted = false; // this sweep reached the end of the journal
        let mut rescan = false; // the journal changed behind the sweep's cursor
        // The release being fanned out, and the chats of its page not yet served.
        let mut release: Option<Arc<Fresh>> = None;
        let mut fresh: VecDeque<i64> = VecDeque::new();
        let mut walking = true; // the outbox may hold releases to fan out
        // Sends of an earlier run that ended in an error are unaccounted for:
        // resume from what the store recorded, as after a crash.
        self.store.fan_out_start(self.crash_window())?;
        let mut shutdown_rx = shutdown.clone();
        loop {
            // A closed channel means nobody can ask us to stop any more: stop now.
            let stopping = *shutdown.borrow() || shutdown.has_changed().is_err();
            if !stopping && wake.is_some() {
                // Chats whose backoff has ended go first, wherever the sweep is.
                for chat in self.backoff.due(Instant::now()) {
                    if in_flight.len() >= self.concurrency {
                        break;
                    }
                    if busy.insert(chat) {
                        in_flight.push(self.serve_chat(chat, Job::Journaled(None), shutdown));
                    }
                }
            }
            while !stopping && in_flight.len() < self.concurrency {
                if page.is_empty() && exhausted && rescan {
                    (after, exhausted, rescan) = (None, false, false);
                }
                if page.is_empty() && !exhausted {
                    let next = self.store.pending_chats(after, SWEEP_PAGE)?;
                    match next.last() {
                        Some((chat, _)) => after = Some(*chat),
                        None => exhausted = true,
                    }
                    page.extend(next);
                }
                let Some((chat, list)) = page.pop_front() else {
                    break;
                };
                if self.backoff.is_waiting(chat, Instant::now()) {
                    continue; // its turn comes when the backoff ends
                }
                if busy.insert(chat) {
                    in_flight.push(self.serve_chat(chat, Job::Journaled(Some(list)), shutdown));
                } else {
                    // Being served from an older listing that may lack this
                    // push: serve it again as soon as that finishes.
                    revisit.insert(chat);
                }
            }
            while !stopping && walking && in_flight.len() < self.concurrency {
                let (Some(chat), Some(current)) = (fresh.front().copied(), release.as_ref()) else {
                    let now = Instant::now();
                    let waiting = |chat| self.backoff.is_waiting(chat, now);
                    match self.store.fan_out_page(FAN_OUT_PAGE, waiting).await? {
                        FanOutStep::Page(mut next) => {
                            since_idle.fanned_out += next.chats.len() + next.journaled;
                            rescan |= next.journaled > 0;
                            let chats = std::mem::take(&mut next.chats);
                            let Some(push) = self.push_for(&next.release.item_id)? else {
                                // Unreadable: the journal sweep gives it up, counted.
                                self.store.fan_out_defer_all(&next, chats).await?;
                                rescan = true;
                                break;
                            };
                            release = Some(Arc::new(Fresh { page: next, push }));
                            if chats.is_empty() {
                                // Nothing to send from this page: let the rest of
                                // the runtime in before reading the next.
                                break;
                            }
                            fresh = chats.into();
                        }
                        FanOutStep::Draining | FanOutStep::Idle => walking = false,
                    }
                    continue;
                };
                fresh.pop_front();
                if !self.store.fan_out_take(&current.page, chat)? {
                    continue; // unsubscribed since the page was read
                }
                if busy.contains(&chat) || self.backoff.is_waiting(chat, Instant::now()) {
                    // Served from the journal right now (a backoff ended since
                    // the page was read), or waiting: the sweep takes it from here.
                    self.store
                        .fan_out_defer(&current.page.release, chat)
                        .await?;
                    if busy.contains(&chat) {
                        revisit.insert(chat);
                    }
                    rescan = true;
                    continue;
                };
                busy.insert(chat);
                let job = Job::Fresh(current.page.release.clone(), current.push.clone());
                in_flight.push(self.serve_chat(chat, job, shutdown));
            }
            let sweep_done = page.is_empty() && exhausted && !rescan && !walking;
            let idle = in_flight.is_empty() && (stopping || sweep_done);
            if idle {
                self.store.fan_out_save()?;
                if since_idle.did_something() {
                    tracing::info!(report = ?since_idle, "deliveries done for now");
                    // Completions may have run ahead of the last flush; settle them,
                    // and forget rendered items (they may be edited before next time).
                    self.store.commit().await?;
                    self.rendered_cache().clear();
                }
                report.absorb(std::mem::take(&mut since_idle));
                if wake.is_none() || stopping {
                    return Ok(report); // one pass only, or shutting down
                }
                // Nothing to do: the wait below ends with a new item, a chat
                // whose backoff ended, or shutdown; then look again.
            }
            let due = self
                .backoff
                .next_due(Instant::now())
                .filter(|_| wake.is_some());
            // Sends in flight are polled first on every turn.
            tokio::select! {
                biased;
                done = in_flight.next(), if !in_flight.is_empty() => {
                    if let Some((chat, fanned, result)) = done {
                        busy.remove(&chat);
                        // A release waiting for its last sends may be finished now.
                        walking |= fanned;
                        if revisit.remove(&chat) && !stopping {
                            busy.insert(chat);
                            in_flight.push(self.serve_chat(chat, Job::Journaled(None), shutdown));
                        }
                        match result {
                            Ok(chat_report) => {
                                if chat_report.chats_migrated > 0 {
                                    rescan = true; // the new id may sit behind the cursor
                                }
                                since_idle.absorb(chat_report);
                            }
                            Err(e) if fanned => {
                                // The walk cannot tell whether this chat was
                                // handled: start it again from what the store
                                // recorded, as after a crash.
                                return Err(e);
                            }
                            Err(e) => {
                                // One chat's trouble with the store stays with that chat.
                                let until = self.backoff.defer(chat, None);
                                tracing::error!(chat, error = %e, retry_in = ?until.saturating_duration_since(Instant::now()), "delivery to this chat failed");
                            }
                        }
                    }
                }
                _ = wait_for(wake), if wake.is_some() => walking = true,
                _ = sleep_until_some(due) => {}
                _ = shutdown_rx.wait_for(|stop| *stop), if !stopping => {}
                // More to fan out or sweep, and a slot is free: go on, after
                // letting the rest of the runtime in.
                _ = tokio::task::yield_now(), if (walking || rescan) && !idle && !stopping && in_flight.len() < self.concurrency => {}
            }
            if idle {
                rescan = true;
            }
        }
    }

    /// Serves one chat: `job` is a fan-out send or the chat's journaled pushes.
    /// Returns the chat, whether it was a fan-out send, and the outcome.
    async fn serve_chat(
        &self,
        chat: i64,
        job: Job,
        shutdown: &watch::Receiver<bool>,
    ) -> (i64, bool, Result<PassReport, StoreError>) {
        match job {
            Job::Fresh(release, push) => (
                chat,
                true,
                self.deliver_fresh(chat, &release, &push, shutdown).await,
            ),
            Job::Journaled(listed) => {
                (chat, false, self.deliver_chat(chat, listed, shutdown).await)
            }
        }
    }

    /// Sends a release being fanned out to `chat`; if it cannot go now, it is
    /// journaled and the failure handled as for any journaled push.
    async fn deliver_fresh(
        &self,
        chat: i64,
        release: &Release,
        push: &Push,
        shutdown: &watch::Receiver<bool>,
    ) -> Result<PassReport, StoreError> {
        let mut report = PassReport::default();
        let result = self
            .send_push(chat, &release.item_id, push, &mut report, shutdown)
            .await;
        if let Some(Ok(())) = result {
            self.store.fan_out_sent(release, chat)?;
            report.sent += 1;
            return Ok(report);
        }
        let delivery = self.store.fan_out_defer(release, chat).await?;
        match result {
            Some(Err(error)) => {
                self.settle_failure(&delivery, error, 1, &mut report)
                    .await?;
            }
            _ => report.deferred += 1, // shutting down
        }
        Ok(report)
    }

    /// Sends one chat's journaled pushes in order, stopping at the first failure.
    /// `listed` is what a sweep read for the chat; `None` reads it now. A
    /// listing may be stale, so each push is checked again just before it goes.
    async fn deliver_chat(
        &self,
        chat: i64,
        listed: Option<Vec<PendingDelivery>>,
        shutdown: &watch::Receiver<bool>,
    ) -> Result<PassReport, StoreError> {
        let mut report = PassReport::default();
        let list = match listed {
            Some(list) => list,
            None => self.store.pending_for(chat)?,
        };
        if list.is_empty() {
            self.backoff.clear(chat);
        }
        let total = list.len();
        for (done, delivery) in list.iter().enumerate() {
            if !self.store.is_pending(delivery)? {
                continue; // sent or dropped since it was listed
            }
            let push = match self.push_for(&delivery.item_id)? {
                Some(push) => push,
                None => {
                    tracing::warn!(item = %delivery.item_id, "journaled item is missing; dropping the push");
                    self.store.give_up(delivery).await?;
                    report.given_up += 1;
                    continue;
                }
            };
            // The chat may have unsubscribed (from this source) since fan-out.
            if !self
                .store
                .subscription(chat)?
                .is_some_and(|s| push.sources.iter().any(|source| s.wants(source)))
            {
                self.store
                    .complete(delivery, self.crash_window() as u64)
                    .await?;
                report.skipped += 1;
                continue;
            }
            let result = self
                .send_push(chat, &delivery.item_id, &push, &mut report, shutdown)
                .await;
            let Some(result) = result else {
                report.deferred += total - done; // shutting down
                return Ok(report);
            };
            match result {
                Ok(()) => {
                    self.store
                        .complete(delivery, self.crash_window() as u64)
                        .await?;
                    self.backoff.clear(chat);
                    report.sent += 1;
                }
                Err(error) => {
                    if !self
                        .settle_failure(delivery, error, total - done, &mut report)
                        .await?
                    {
                        return Ok(report);
                    }
                }
            }
        }
        Ok(report)
    }

    /// Sends `push` to `chat`, again as plain text if Telegram refuses the HTML.
    /// `None` when shutdown came first.
    async fn send_push(
        &self,
        chat: i64,
        item_id: &str,
        push: &Push,
        report: &mut PassReport,
        shutdown: &watch::Receiver<bool>,
    ) -> Option<Result<(), SendError>> {
        let html = &push.html;
        let mut result = self.send(chat, html.clone(), Format::Html, shutdown).await;
        if let Some(Err(SendError::Rejected(reason))) = &result
            && needs_plain_text(reason)
        {
            tracing::warn!(chat, item = %item_id, %reason, "Telegram refused the HTML; re-sending as plain text");
            // 2,048 characters are at most 4,096 UTF-16 units: always within the limit.
            let plain = shorten(&to_plain(html), 2_048);
            result = self.send(chat, plain, Format::Plain, shutdown).await;
            if matches!(result, Some(Ok(()))) {
                report.sent_plain += 1;
            }
        }
        result
    }

    /// Acts on a journaled push that failed with `error`; `remaining` counts it
    /// and the chat's pushes after it. True when the chat's next push may still
    /// go (only this message was refused).
    async fn settle_failure(
        &self,
        delivery: &PendingDelivery,
        error: SendError,
        remaining: usize,
        report: &mut PassReport,
    ) -> Result<bool, StoreError> {
        let chat = delivery.chat;
        match error {
            SendError::Rejected(reason) => {
                tracing::error!(chat, item = %delivery.item_id, %reason, "Telegram refused the push for good; giving up on it");
                self.store.give_up(delivery).await?;
                report.given_up += 1;
                Ok(true)
            }
            SendError::ChatGone(reason) => {
                let dropped = self.store.remove_chat(chat, Removal::ChatGone).await?;
                tracing::warn!(chat, %reason, dropped, "chat can no longer receive messages; unsubscribed it");
                report.chats_removed += 1;
                Ok(false)
            }
            SendError::Migrated(new_chat) => {
                tracing::info!(
                    from = chat,
                    to = new_chat,
                    "group migrated to a supergroup; moving its subscription"
                );
                self.store.migrate_chat(chat, new_chat).await?;
                // The new id is served as a chat of its own (the sweep
                // comes back for it), never by this task alongside another.
                report.chats_migrated += 1;
                report.deferred += remaining;
                Ok(false)
            }
            SendError::Retry { after, reason } => {
                if let Some(after) = after {
                    self.limiter.flood_limited(chat, after);
                }
                let until = self.backoff.defer(chat, after);
                tracing::warn!(chat, %reason, retry_in = ?until.saturating_duration_since(Instant::now()), "push deferred");
                report.deferred += remaining;
                Ok(false)
            }
        }
    }

    /// One send through the limiter; `None` when shutdown came first.
    async fn send(
        &self,
        chat: i64,
        text: String,
        format: Format,
        shutdown: &watch::Receiver<bool>,
    ) -> Option<Result<(), SendError>> {
        if !self.limiter.acquire(chat, shutdown).await {
            return None;
        }
        Some(self.messenger.send(chat, text, format).await)
    }
}

/// Flushes completions in the background every [`FLUSH_EVERY`], so senders
/// rarely reach the unflushed window and wait for an fsync themselves; and
/// syncs the fan-out log every [`SYNC_LOG_EVERY`], so a power cut repeats
/// about as much of a fan-out as sled's own half-second flush lets it.
async fn flush_regularly(store: Store, mut shutdown: watch::Receiver<bool>) {
    let mut last_sync = Instant::now();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(FLUSH_EVERY) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
        if store.unflushed() > 0
            && let Err(e) = store.commit().await
        {
            tracing::error!(error = %e, "cannot flush delivery progress");
        }
        if last_sync.elapsed() >= SYNC_LOG_EVERY {
            last_sync = Instant::now();
            let store = store.clone();
            let synced = tokio::task::spawn_blocking(move || store.sync_fan_out_log()).await;
            if let Ok(Err(e)) = synced {
                tracing::error!(error = %e, "cannot sync the fan-out log");
            }
        }
    }
}

/// Sleeps until `at`, or forever when there is nothing to wait for.
async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Waits for a wake-up, or forever without a notifier.
async fn wait_for(wake: Option<&Notify>) {
    match wake {
        Some(wake) => wake.notified().await,
        None => std::future::pending().await,
    }
}

/// Refusals that plain text fixes: our HTML did not parse, or Telegram
/// measured the text longer than we did.
fn needs_plain_text(reason: &str) -> bool {
    let reason = reason.to_ascii_lowercase();
    reason.contains("can't parse entities") || reason.contains("message is too long")
}
