//! Sends each new release to its subscribers, and the pushes the journal
//! holds; counts a push done only after Telegram accepted it (or it can
//! never be sent).
//!
//! One loop ([`Delivery::run`]) keeps up to `send_concurrency` chats in
//! flight ([`schedule::Slots`]) and asks its parts for work while a slot is
//! free: chats whose retry is due, the journal ([`schedule::JournalSweep`],
//! a page of chats at a time) and the walked release
//! ([`schedule::FanOutCursor`] over [`FanOut`], a page of subscribers at a
//! time). Within a chat, pushes go out oldest first and one at a time
//! ([`push`]). Every send waits for the [`Limiter`], so Telegram's flood
//! limits hold. Memory stays bounded however many chats there are.
//!
//! Failures stay with their chat: a transient one (network, 5xx, 429) defers
//! that chat alone, with backoff and jitter ([`Backoff`]); a permanent chat
//! error (blocked, kicked, not found) unsubscribes it and drops what it was
//! owed; a group that became a supergroup moves, pushes and all; a message
//! Telegram cannot parse or finds too long is re-sent as plain text.
//!
//! What a crash can lose (nothing) and repeat (at most 2 × `send_concurrency`
//! pushes) is decided in one place, [`FanOut`], and explained in `docs/architecture.md#crash-repeats`. The fan-out holds the store's
//! crash window, the walk ([`walk`]), the fan-out log's writer and its
//! keeper ([`keeper`], which sleeps while nothing waits), and the
//! [`journal`] through which every removal of a journal entry, and every
//! flush, goes. What became of each push is one [`outcome`], counted in the
//! pass's report, the metrics and the stored counters alike.
//!
//! Releases are fanned out one at a time, oldest first: the next starts when
//! the last send of the one before has ended, so a slow answer (at most the
//! send timeout) can hold the next release back by that long.
//!
//! A chat's settings are obeyed twice: when the walk reaches it (a release
//! its keyword filters refuse is passed over; in its quiet hours or on a
//! digest it is journaled) and when the journal sweep serves it (an entry
//! journaled before the filters changed is dropped if they now refuse it; an
//! entry whose time has not come waits, its chat [held](Holds) until then; the
//! entries of a target that are due together go as one digest message).

mod digest;
mod edit;
mod fanout;
mod holds;
mod journal;
mod keeper;
mod outcome;
mod push;
mod schedule;
mod walk;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

pub use fanout::{FanOut, FanOutPage, FanOutStep};
pub(crate) use holds::Holds;

use crate::render::SourceLabels;
use crate::runtime::shutdown::Shutdown;
use crate::store::{Store, StoreError};
use crate::telegram::limiter::{Backoff, Limiter};
use crate::telegram::messenger::Messenger;
use crate::text::clock::Clock;
use keeper::sleep_until_some;
use outcome::{Outcome, PassReport};
use push::{ChatWork, RenderCache, Served};
use schedule::{FanOutCursor, JournalSweep, Slots};

/// Subscribers read at a time when a release is fanned out.
const FAN_OUT_PAGE: usize = 256;
/// Wait after a store error before trying again.
const STORE_RETRY: Duration = Duration::from_secs(5);
/// How long message ids are kept for edits unless told (`edits.window_hours`).
const DEFAULT_EDIT_WINDOW_HOURS: i64 = 48;

/// The delivery worker.
#[derive(Clone)]
pub struct Delivery<M> {
    store: Store,
    messenger: M,
    limiter: Arc<Limiter>,
    backoff: Arc<Backoff>,
    /// How many chats are served at once.
    concurrency: usize,
    fan_out: FanOut,
    render_cache: Arc<RenderCache>,
    /// How pushes name their sources.
    labels: Arc<SourceLabels>,
    /// Wall-clock time, for quiet hours and digests.
    clock: Clock,
    /// Chats whose pushes wait for a time.
    holds: Arc<Holds>,
    /// How long sent messages' ids are kept for edits; `None`: edits off.
    edits: Option<chrono::Duration>,
    /// Pushes carry a "Full text" button (`full_text.enabled`).
    full_text: bool,
}

/// What the loop has done: in all, and since it was last idle (logged then).
#[derive(Default)]
struct Reports {
    total: PassReport,
    since_idle: PassReport,
}

impl<M: Messenger> Delivery<M> {
    /// Delivery over `store` with at most `concurrency` chats served at once.
    pub fn new(store: Store, messenger: M, limiter: Arc<Limiter>, concurrency: usize) -> Self {
        let concurrency = concurrency.max(1);
        Delivery {
            // Half the sends in flight may wait as log records, and half as
            // journal completions: see `docs/architecture.md#crash-repeats`.
            fan_out: FanOut::new(store.clone(), concurrency / 2),
            store,
            messenger,
            limiter,
            backoff: Arc::default(),
            concurrency,
            render_cache: Arc::default(),
            labels: Arc::default(),
            clock: Clock::system(),
            holds: Arc::default(),
            edits: Some(chrono::Duration::hours(DEFAULT_EDIT_WINDOW_HOURS)),
            full_text: false,
        }
    }

    /// Keeps the ids of messages sent within `window` so that a revised
    /// release's messages can be edited (`edits.window_hours`); `None` keeps
    /// none and edits nothing (`edits.enabled = false`).
    pub fn with_edits(mut self, window: Option<std::time::Duration>) -> Self {
        self.edits = window.and_then(|w| chrono::Duration::from_std(w).ok());
        self
    }

    /// Pushes carry a "Full text" button, in the chat's language, that shows
    /// the release's full text in place once its page was read.
    pub fn with_full_text_button(mut self, on: bool) -> Self {
        self.full_text = on;
        self
    }

    /// Pushes name their sources by these labels (by default, by their names).
    pub fn with_source_labels(mut self, labels: SourceLabels) -> Self {
        self.labels = Arc::new(labels);
        self
    }

    /// Tells quiet hours and digests by `clock` (a test's); call before `run`.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.fan_out = FanOut::with_clock(self.store.clone(), self.concurrency / 2, clock);
        self.clock = clock;
        self
    }

    /// Chats waiting for a time; commands lift a hold when a chat changes
    /// its quiet hours or digest.
    pub fn holds(&self) -> Arc<Holds> {
        self.holds.clone()
    }

    /// Runs until shutdown. Work never waits for a pass to end: a new release
    /// is fanned out as soon as `wake` says so, a chat whose backoff ends is
    /// retried at once, and a slow chat holds only its own slot.
    pub async fn run(self, wake: Arc<Notify>, shutdown: Shutdown) {
        let durable = tokio::spawn(self.fan_out.keep_durable(shutdown.clone()));
        // Cut short (shutdown's grace ran out), the walk still saves where it stands.
        let _save = SaveOnDrop(self.fan_out.clone());
        loop {
            match self.drive(Some(&wake), &shutdown).await {
                Ok(report) => {
                    tracing::info!(?report, "delivery stopped");
                    break;
                }
                Err(e) => {
                    if let Some(held_back) = crate::runtime::log_limit::allow("delivery failed") {
                        tracing::error!(error = %e, held_back, "delivery failed; retrying shortly");
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(STORE_RETRY) => {}
                        _ = shutdown.requested() => break,
                    }
                }
            }
        }
        let _ = durable.await;
    }

    /// One pass, for tests and tools: fan out what the outbox holds, then push
    /// what the journal holds once over, skipping chats that are waiting out a
    /// failure.
    pub async fn deliver_pending(&self, shutdown: &Shutdown) -> Result<PassReport, StoreError> {
        self.drive(None, shutdown).await
    }

    /// The loop behind [`Delivery::run`] (with `wake`: until shutdown) and
    /// [`Delivery::deliver_pending`] (without: until nothing is left that can
    /// go now).
    async fn drive(
        &self,
        wake: Option<&Notify>,
        shutdown: &Shutdown,
    ) -> Result<PassReport, StoreError> {
        let continuous = wake.is_some();
        let mut slots = Slots::new(self.concurrency);
        let mut sweep = JournalSweep::default();
        let mut cursor = FanOutCursor::new();
        let mut reports = Reports::default();
        // Sends of an earlier run that ended in an error are unaccounted for:
        // resume from what the store recorded, as after a crash.
        self.fan_out.restart()?;
        loop {
            let stopping = shutdown.is_requested();
            if !stopping {
                if continuous {
                    // Chats whose backoff has ended go first, wherever the sweep is.
                    self.start_due_retries(&mut slots, shutdown);
                }
                self.start_from_journal(&mut slots, &mut sweep, shutdown)?;
                self.start_from_walk(&mut slots, &mut cursor, &mut sweep, &mut reports, shutdown)
                    .await?;
            }
            let idle = slots.is_empty() && (stopping || (sweep.is_done() && !cursor.active));
            if idle {
                self.settle_idle(&mut reports).await?;
                if !continuous || stopping {
                    return Ok(reports.total);
                }
                // Nothing to do: the wait below ends with a new release, a
                // chat whose backoff ended, or shutdown; then look again.
            }
            let due = [self.backoff.next_due(Instant::now()), self.holds.next_due()]
                .into_iter()
                .flatten()
                .min()
                .filter(|_| continuous);
            let more_now = (cursor.active || sweep.has_more()) && !idle && !stopping;
            tokio::select! {
                // Sends in flight are polled first on every turn.
                biased;
                done = slots.next_done(), if !slots.is_empty() => {
                    if let Some((served, again)) = done {
                        // A chat whose push just failed waits out its backoff:
                        // its due retry serves it then, not this revisit.
                        if again && !stopping && !self.backoff.is_waiting(served.chat, Instant::now()) {
                            let chat = served.chat;
                            slots.start(chat, || Box::pin(self.serve_chat(chat, ChatWork::Journal(None), shutdown)));
                        }
                        self.on_done(served, &mut cursor, &mut sweep, &mut reports)?;
                    }
                }
                _ = wait_for(wake), if continuous => cursor.active = true,
                _ = self.holds.lifted(), if continuous => sweep.rescan(),
                _ = sleep_until_some(due) => {}
                _ = shutdown.requested(), if !stopping => {}
                // More to fan out or sweep, and a slot is free: go on, after
                // letting the rest of the runtime in.
                _ = tokio::task::yield_now(), if more_now && slots.has_room() => {}
            }
            if idle {
                sweep.rescan();
            }
        }
    }

    /// Starts the chats whose backoff or hold has ended, while slots are free.
    fn start_due_retries<'a>(&'a self, slots: &mut Slots<'a>, shutdown: &'a Shutdown) {
        let now = Instant::now();
        for chat in self.backoff.due(now) {
            if !slots.has_room() {
                return;
            }
            slots.start(chat, || {
                Box::pin(self.serve_chat(chat, ChatWork::Journal(None), shutdown))
            });
        }
        for chat in self.holds.due(now, self.concurrency) {
            if !slots.has_room() {
                return;
            }
            // Served now, or (busy) again when its current work ends; either
            // way it is looked at afresh, and held again if it must wait.
            self.holds.clear(chat);
            if !slots.start(chat, || {
                Box::pin(self.serve_chat(chat, ChatWork::Journal(None), shutdown))
            }) {
                slots.revisit(chat);
            }
        }
    }

    /// Starts chats with journal entries, as the sweep lists them, while slots
    /// are free.
    fn start_from_journal<'a>(
        &'a self,
        slots: &mut Slots<'a>,
        sweep: &mut JournalSweep,
        shutdown: &'a Shutdown,
    ) -> Result<(), StoreError> {
        while slots.has_room() {
            let Some((chat, list)) = sweep.next_chat(&self.store)? else {
                return Ok(());
            };
            let now = Instant::now();
            if self.backoff.is_waiting(chat, now) || self.holds.is_held(chat, now, &list) {
                continue; // its turn comes when the backoff or hold ends
            }
            let work = ChatWork::Journal(Some(list));
            if !slots.start(chat, || Box::pin(self.serve_chat(chat, work, shutdown))) {
                // Being served from an older listing that may lack this entry.
                slots.revisit(chat);
            }
        }
        Ok(())
    }

    /// Hands the walked release out to chats, a page at a time, while slots
    /// are free. A chat that is busy or waiting out a failure is journaled
    /// instead, so the sweep serves it in order.
    async fn start_from_walk<'a>(
        &'a self,
        slots: &mut Slots<'a>,
        cursor: &mut FanOutCursor,
        sweep: &mut JournalSweep,
        reports: &mut Reports,
        shutdown: &'a Shutdown,
    ) -> Result<(), StoreError> {
        while cursor.active && slots.has_room() {
            let Some((chat, page)) = cursor.next_chat() else {
                if !self.read_next_page(cursor, sweep, reports).await? {
                    return Ok(());
                }
                continue;
            };
            let (page, rendered) = &*page;
            if !self.fan_out.take(page, chat)? {
                continue; // unsubscribed since the page was read
            }
            if slots.is_busy(chat) || self.backoff.is_waiting(chat, Instant::now()) {
                // Served from the journal right now (a backoff ended since
                // the page was read), or waiting: the sweep takes it from here.
                self.fan_out.defer(&page.release, chat).await?;
                if slots.is_busy(chat) {
                    slots.revisit(chat);
                }
                sweep.rescan();
                continue;
            }
            let lang = page.language_of(chat);
            let work = ChatWork::FanOut(page.release.clone(), rendered.clone(), lang);
            slots.start(chat, || Box::pin(self.serve_chat(chat, work, shutdown)));
        }
        Ok(())
    }

    /// Loads the walk's next page into `cursor`. False when there is nothing
    /// to hand out now (the walk is idle or draining, or the page was empty:
    /// let the rest of the runtime in before reading another).
    async fn read_next_page(
        &self,
        cursor: &mut FanOutCursor,
        sweep: &mut JournalSweep,
        reports: &mut Reports,
    ) -> Result<bool, StoreError> {
        let now = Instant::now();
        let waiting = |chat| self.backoff.is_waiting(chat, now);
        let mut page = match self.fan_out.next_page(FAN_OUT_PAGE, waiting).await? {
            FanOutStep::Page(page) => page,
            FanOutStep::Draining | FanOutStep::Idle => {
                cursor.active = false;
                return Ok(false);
            }
        };
        reports
            .since_idle
            .count(Outcome::FannedOut(page.chats.len() + page.journaled));
        if page.journaled > 0 {
            sweep.rescan();
        }
        let chats = std::mem::take(&mut page.chats);
        let Some(rendered) = self.rendered(&page.release.item_id)? else {
            // Unreadable: the journal sweep gives it up, counted.
            self.fan_out.defer_all(&page, chats).await?;
            sweep.rescan();
            return Ok(false);
        };
        let any = !chats.is_empty();
        cursor.load(page, rendered, chats);
        Ok(any)
    }

    /// Takes in finished work.
    fn on_done(
        &self,
        served: Served,
        cursor: &mut FanOutCursor,
        sweep: &mut JournalSweep,
        reports: &mut Reports,
    ) -> Result<(), StoreError> {
        let Served {
            chat,
            walked,
            result,
        } = served;
        // A release waiting for its last sends may be finished now.
        cursor.active |= walked;
        match result {
            Ok(report) => {
                if report.chats_migrated > 0 {
                    sweep.rescan(); // the new id may sit behind the cursor
                }
                reports.since_idle.absorb(report);
            }
            // The walk cannot tell whether this chat was handled: start it
            // again from what the store recorded, as after a crash.
            Err(e) if walked => return Err(e),
            Err(e) => {
                // One chat's trouble with the store stays with that chat.
                let until = self.backoff.defer(chat, None);
                tracing::error!(chat, error = %e, retry_in = ?until.saturating_duration_since(Instant::now()), "delivery to this chat failed");
            }
        }
        Ok(())
    }

    /// Nothing is in flight: the fan-out settles its crash window (progress
    /// saved, completions that ran ahead of the last flush flushed), and
    /// what was done since the last idle moment is logged.
    async fn settle_idle(&self, reports: &mut Reports) -> Result<(), StoreError> {
        self.fan_out.settle().await?;
        self.prune_sent();
        if reports.since_idle.did_something() {
            tracing::info!(report = ?reports.since_idle, "deliveries done for now");
            // Rendered releases may be edited before next time.
            self.render_cache.clear();
        }
        reports
            .total
            .absorb(std::mem::take(&mut reports.since_idle));
        Ok(())
    }
}

/// Saves the walk's progress when [`Delivery::run`] ends, however it ends.
struct SaveOnDrop(FanOut);

impl Drop for SaveOnDrop {
    fn drop(&mut self) {
        if let Err(e) = self.0.save() {
            tracing::error!(error = %e, "cannot save where the fan-out stands; a restart repeats a few pushes");
        }
    }
}

/// Waits for a wake-up, or forever without a notifier.
async fn wait_for(wake: Option<&Notify>) {
    match wake {
        Some(wake) => wake.notified().await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::source::Item;
    use crate::store::PollPolicy;
    use crate::telegram::messenger::{Format, SendError};

    /// Takes every push at once, counting them.
    #[derive(Clone, Default)]
    struct Counting(Arc<AtomicUsize>);

    impl Messenger for Counting {
        async fn send(
            &self,
            _chat: i64,
            _thread: Option<i32>,
            _text: String,
            _format: Format,
        ) -> Result<(), SendError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    fn item(n: u32) -> Item {
        Item {
            id: format!("site/fnapr/{n}"),
            url: format!("https://site/fnapr/{n}"),
            title: format!("Item {n}"),
            date: None,
            lead: String::new(),
        }
    }

    // Paused time: the idle hour passes at once, and a timer anywhere in
    // delivery would fire in it as often as it would in an hour of real time.
    #[tokio::test(start_paused = true)]
    async fn an_idle_hour_wakes_nothing_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let now = chrono::Utc::now();
        let policy = PollPolicy::unguarded();
        store
            .record_poll("s", &[item(1)], &policy, now)
            .await
            .unwrap();
        for chat in 1..=3 {
            store.subscribe(chat, None, now).await.unwrap();
        }
        store
            .record_poll("s", &[item(2), item(1)], &policy, now)
            .await
            .unwrap();
        let sent = Counting::default();
        let delivery = Delivery::new(store.clone(), sent.clone(), Arc::new(Limiter::new(None)), 4);
        let fan_out = delivery.fan_out.clone();
        let wake = Arc::new(Notify::new());
        let (trigger, shutdown) = Shutdown::new();
        let running = tokio::spawn(delivery.run(wake.clone(), shutdown));
        wake.notify_one();
        while sent.0.load(Ordering::SeqCst) < 3 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // What the release left to make durable (records, completions, the
        // log's sync) is done within a sync period; then nothing is owed.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let log = dir.path().join("fanout.log");
        assert_eq!(
            std::fs::metadata(&log).unwrap().len(),
            0,
            "release finished"
        );
        let tally = &fan_out.inner_log().tally;
        let (flushes, turns, syncs) = (
            store.flushes(),
            tally.turns.load(Ordering::SeqCst),
            tally.syncs.load(Ordering::SeqCst),
        );

        tokio::time::sleep(Duration::from_secs(3_600)).await;
        assert_eq!(store.flushes(), flushes, "no flush while idle");
        assert_eq!(
            tally.syncs.load(Ordering::SeqCst),
            syncs,
            "no sync while idle"
        );
        assert_eq!(
            tally.turns.load(Ordering::SeqCst),
            turns,
            "the keeper slept through the idle hour"
        );
        assert_eq!((store.journal_count(), store.outbox_len()), (0, 0));

        // Work wakes it again: a release queued now goes out, and is made durable.
        store
            .record_poll("s", &[item(3), item(2), item(1)], &policy, now)
            .await
            .unwrap();
        wake.notify_one();
        while sent.0.load(Ordering::SeqCst) < 6 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(store.flushes() > flushes);
        assert_eq!((store.journal_count(), store.outbox_len()), (0, 0));
        trigger.trigger();
        running.await.unwrap();
    }
}
