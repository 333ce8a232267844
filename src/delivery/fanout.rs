//! The fan-out walk and the one home of delivery's durability rules.
//!
//! A new release goes straight down the subscriber list, a page at a time,
//! with no journal entry per chat unless that chat's push cannot go now (it is
//! owed older pushes, waiting out a failure, or its send failed). [`FanOut`]
//! owns everything that makes that crash-safe, so no caller has to know the
//! order of saves, flushes and syncs:
//! - the outbox entry's cursor only ever passes chats that are handled (sent,
//!   journaled and flushed, or no longer subscribed); it is saved, unflushed,
//!   every [`SAVE_EVERY`] chats;
//! - every chat handled beyond the cursor gets a record in the fan-out log,
//!   after its send was accepted or its journal entry flushed. When sends are
//!   sparse (the log was last written [`WRITE_AT_ONCE_AFTER`] ago or more, as
//!   at Telegram's 30 a second) the record is written at once: a `write(2)`
//!   then costs nothing. Under load records wait in memory ([`LogWriter`]),
//!   at most `crash_window` at a time and at most [`FLUSH_EVERY`] long;
//! - journal completions ([`Journal::complete`]) may run at most
//!   `crash_window` removals ahead of the last flush; every other removal
//!   delivery makes is durable on return ([`Journal`] owns them all);
//! - [`FanOut::keep_durable`] writes held-back records and flushes waiting
//!   completions within [`FLUSH_EVERY`], and syncs written records within
//!   [`SYNC_LOG_EVERY`] — only while something waits, so an idle bot does
//!   not wake for it; [`FanOut::settle`] writes what is held back, saves the
//!   cursor and flushes what waits (delivery calls it whenever it is idle),
//!   and [`FanOut::save`] the same without the flush (when it stops).
//!
//! The fan-out holds the store's [`CrashWindow`], the only way to these
//! unflushed writes, and the [`Journal`] built on it: every flush and
//! commit delivery asks for is made here or there.
//!
//! What that bounds — at most 2 × `send_concurrency` repeats per crash — is
//! explained once, in `docs/architecture.md#crash-repeats`.
//!
//! The walk also applies each target's settings, read with its page of
//! subscribers (one range read; chats without settings cost nothing): a
//! release that a target's keyword filters refuse is simply passed over, with
//! no journal entry, and a target in its quiet hours or on a daily digest is
//! journaled, for the journal sweep to send when its time comes.
//!
//! After a crash the walk resumes at the saved cursor and skips the chats the
//! log names. The log is emptied once the walked outbox entry is removed and
//! the removal flushed; records of an older entry left by a crash at that
//! moment are told apart by their key and ignored.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

use super::journal::Journal;
#[cfg(doc)]
use super::keeper::{FLUSH_EVERY, SYNC_LOG_EVERY, WRITE_AT_ONCE_AFTER};
use super::keeper::{LogWriter, keep_durable};
use super::outcome::{Outcome, PassReport};
use super::walk::WalkedRelease;
use super::walk::{WalkHeldStill, Walking};
use crate::config::Language;
use crate::runtime::shutdown::Shutdown;
use crate::settings::{ChatSettings, QuietState, filter_text, quiet_state};
use crate::store::{CrashWindow, JournalEntry, Store, StoreError, Subscription, Target};
use crate::text::clock::Clock;
use crate::text::matching::Normalized;

/// The cursor is saved (not flushed) after this many chats; the log covers the rest.
const SAVE_EVERY: usize = 64;

/// Chats to push the walked release to now, in id order.
#[derive(Debug)]
pub struct FanOutPage {
    pub release: WalkedRelease,
    pub chats: Vec<i64>,
    /// Chats of this page that were journaled instead (they are owed older
    /// pushes, or the caller deferred them): the journal sweep serves them.
    pub journaled: usize,
    /// [`Store::subscription_changes`] when the page was read.
    changes: u64,
    /// The push language of each chat in `chats` that has settings, read
    /// with the page (the rest push in [`Language::DEFAULT`]).
    languages: HashMap<i64, Language>,
}

impl FanOutPage {
    /// The language `chat`'s push is in (its "Full text" button).
    pub(crate) fn language_of(&self, chat: i64) -> Language {
        self.languages
            .get(&chat)
            .copied()
            .unwrap_or(Language::DEFAULT)
    }
}

/// A page sorted: chats to push to now, chats journaled, and the push
/// language of those to push to that chose one.
type SortedPage = (Vec<i64>, Vec<i64>, HashMap<i64, Language>);

/// What the walk has for the caller next.
#[derive(Debug)]
pub enum FanOutStep {
    Page(FanOutPage),
    /// Every chat of the release has been handed out; some sends are still in
    /// flight, and the release is finished only once they end.
    Draining,
    /// The outbox is empty.
    Idle,
}

/// The fan-out walk with its crash window; cheap to clone.
#[derive(Clone)]
pub struct FanOut {
    inner: Arc<Inner>,
}

struct Inner {
    window: CrashWindow,
    journal: Journal,
    log: LogWriter,
    /// Wakes the keeper: a log record or a journal completion waits.
    waiting: Arc<Notify>,
    /// Whether a target is in its quiet hours is a question of wall-clock time.
    clock: Clock,
    /// Where the walk stands; `None` between releases (or after a restart).
    walk: Mutex<Option<Walking>>,
}

/// A page read by a walk: the last chat read, and the page sorted.
type PageRead = (i64, SortedPage);

enum Next {
    Page(FanOutPage, Vec<i64>),
    Finished,
    Draining,
    Idle,
}

impl FanOut {
    /// The walk over `store`'s outbox, letting at most `crash_window` log
    /// records and journal completions wait (each is a push a crash repeats).
    pub fn new(store: Store, crash_window: usize) -> FanOut {
        FanOut::with_clock(store, crash_window, Clock::system())
    }

    /// The same, telling quiet hours and digests by `clock`.
    pub fn with_clock(store: Store, crash_window: usize, clock: Clock) -> FanOut {
        let window = CrashWindow::over(&store);
        let waiting = Arc::new(Notify::new());
        FanOut {
            inner: Arc::new(Inner {
                journal: Journal::new(window.clone(), crash_window, waiting.clone()),
                log: LogWriter::new(window.fan_out_log().clone(), crash_window, waiting.clone()),
                window,
                waiting,
                clock,
                walk: Mutex::default(),
            }),
        }
    }

    /// The log's writer, whose tally tests read.
    #[cfg(test)]
    pub(super) fn inner_log(&self) -> &LogWriter {
        &self.inner.log
    }

    fn window(&self) -> &CrashWindow {
        &self.inner.window
    }

    fn store(&self) -> &Store {
        self.inner.window.store()
    }

    /// The journal as delivery changes it: every removal, and every flush,
    /// goes through it.
    pub fn journal(&self) -> &Journal {
        &self.inner.journal
    }

    fn walk(&self) -> MutexGuard<'_, Option<Walking>> {
        // The walk's state stays consistent between statements: a panic
        // elsewhere does not invalidate it.
        self.inner.walk.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets the walk in memory: the next page starts again from the saved
    /// cursor and the log, so a sender that lost track of its sends (restarted
    /// after an error) sends those that were in flight again, as after a crash.
    pub fn restart(&self) -> Result<(), StoreError> {
        let mut walk = self.walk();
        *walk = None;
        self.inner.log.write()
    }

    /// The next page of at most `max` chats to push the oldest outbox release
    /// to. Chats owed older pushes, and chats `defer` names (waiting out a
    /// failure, or busy), are journaled instead, so each chat still gets its
    /// pushes oldest first; the journal entries are durable before this
    /// returns. The caller takes every chat of a page ([`FanOut::take`])
    /// before asking for the next. A release whose chats have all been handled
    /// is removed from the outbox, and the walk moves on to the next.
    pub async fn next_page(
        &self,
        max: usize,
        defer: impl Fn(i64) -> bool,
    ) -> Result<FanOutStep, StoreError> {
        loop {
            match self.read_page(max.max(1), &defer)? {
                Next::Page(page, journaled) => {
                    if !journaled.is_empty() {
                        self.journal().commit().await?;
                        for chat in journaled {
                            self.inner.log.record(page.release.key, chat)?;
                        }
                    }
                    return Ok(FanOutStep::Page(page));
                }
                Next::Finished => {
                    // Once the entry's removal is durable, the log is obsolete.
                    self.journal().commit().await?;
                    self.inner.log.clear()?;
                }
                Next::Draining => return Ok(FanOutStep::Draining),
                Next::Idle => return Ok(FanOutStep::Idle),
            }
        }
    }

    fn read_page(&self, max: usize, defer: &impl Fn(i64) -> bool) -> Result<Next, StoreError> {
        let mut walk = self.walk();
        if walk.is_none() {
            let Some(walking) = self.begin_walk()? else {
                return Ok(Next::Idle);
            };
            *walk = Some(walking);
        }
        let Some(w) = walk.as_mut() else {
            return Ok(Next::Idle);
        };
        // The caller took the whole previous page.
        w.taken = w.taken.max(w.page_end);
        let changes = self.store().subscription_changes();
        let read = match w.entry.edit {
            true => self.edit_page(w, max)?,
            false => self.push_page(w, max, defer)?,
        };
        let Some((last, (chats, journaled, languages))) = read else {
            if !w.in_flight.is_empty() {
                return Ok(Next::Draining);
            }
            self.window().finish_outbox_entry(w.release.key)?;
            *walk = None;
            return Ok(Next::Finished);
        };
        w.page_end = Some(last);
        let page = FanOutPage {
            release: w.release.clone(),
            journaled: journaled.len(),
            chats,
            changes,
            languages,
        };
        Ok(Next::Page(page, journaled))
    }

    /// The next page of subscribers of a push walk, sorted ([`Self::sort_page`]):
    /// the last chat read, chats to push to now, chats journaled; `None` at the end.
    fn push_page(
        &self,
        w: &mut Walking,
        max: usize,
        defer: &impl Fn(i64) -> bool,
    ) -> Result<Option<PageRead>, StoreError> {
        let listed = self.window().subscribers_after(w.page_end, max)?;
        let Some(last) = listed.last else {
            return Ok(None);
        };
        let sorted = self.sort_page(w, &listed.chats, last, defer)?;
        if listed.skipped_corrupt > 0 {
            tracing::error!(
                skipped = listed.skipped_corrupt,
                item = %w.release.item_id,
                "damaged subscriber records were skipped during fan-out"
            );
        }
        Ok(Some((last, sorted)))
    }

    /// The next page of an edit walk: the chats sent the revised release
    /// (`store/sent.rs`), each journaled an edit per message, for the journal
    /// sweep to send through the limiter like any journal entry (after the
    /// chat's pushes). Chats the log names are passed over. `None` at the end.
    fn edit_page(&self, w: &mut Walking, max: usize) -> Result<Option<PageRead>, StoreError> {
        let listed = self
            .window()
            .sent_after(w.release.item_seq, w.page_end, max)?;
        let Some(last) = listed.last else {
            return Ok(None);
        };
        let now = self.inner.clock.now();
        let mut journaled = Vec::with_capacity(listed.chats.len());
        for (chat, threads) in listed.chats {
            if w.handled.remove(&chat) {
                continue;
            }
            for thread in threads {
                let target = Target { chat, thread };
                self.journal()
                    .add_edit(target, w.release.item_seq, &w.release.item_id, now)?;
            }
            journaled.push(chat);
        }
        Ok(Some((last, (Vec::new(), journaled, HashMap::new()))))
    }

    /// Sorts a page of subscribers (up to chat `last`) into chats to push to
    /// now and chats journaled instead (returned in that order, with the push
    /// language of those to push to that have settings), applying each
    /// target's settings; passes over the chats the log says are handled, and
    /// those the release does not reach.
    fn sort_page(
        &self,
        w: &mut Walking,
        listed: &[(i64, Subscription)],
        last: i64,
        defer: &impl Fn(i64) -> bool,
    ) -> Result<SortedPage, StoreError> {
        let (owed, settings) = match listed.first() {
            Some((first, _)) => (
                self.window().chats_with_entries(*first, last)?,
                self.store().settings_between(*first, last)?,
            ),
            None => Default::default(), // nothing but damaged records
        };
        let now = self.inner.clock.now();
        let mut chats = Vec::with_capacity(listed.len());
        let mut journaled = Vec::new();
        let mut languages = HashMap::new();
        for (chat, subscription) in listed {
            let chat = *chat;
            if w.handled.remove(&chat) {
                continue;
            }
            // Forum topics of their own go through the journal: a chat with
            // several targets is then served one push at a time, each
            // completion inside the crash window like any other.
            let mut targets = if subscription.topics.is_empty() {
                if w.entry.reaches(subscription) {
                    vec![None]
                } else {
                    continue;
                }
            } else {
                w.entry.targets(subscription)
            };
            let mut held = false;
            if let Some(chosen) = settings.get(&chat) {
                held = apply_settings(&mut targets, chosen, w.text.as_ref(), now);
            }
            if targets.is_empty() {
                continue;
            }
            if targets == [None] && !held && !owed.contains(&chat) && !defer(chat) {
                if let Some(chosen) = settings.get(&chat) {
                    languages.insert(chat, chosen.push_language());
                }
                chats.push(chat);
            } else {
                for thread in targets {
                    let target = Target { chat, thread };
                    self.journal()
                        .add(target, w.release.item_seq, &w.release.item_id, now)?;
                }
                journaled.push(chat);
            }
        }
        Ok((chats, journaled, languages))
    }

    /// The walk of the oldest outbox entry, resumed from its saved cursor and
    /// the log; `None` when the outbox is empty.
    fn begin_walk(&self) -> Result<Option<Walking>, StoreError> {
        let Some((key, entry)) = self.window().first_outbox_entry()? else {
            return Ok(None);
        };
        let release = WalkedRelease {
            key,
            item_seq: entry.item_seq_under(key),
            item_id: entry.item_id.clone(),
        };
        let handled = self
            .window()
            .fan_out_log()
            .chats_handled(key, entry.after_chat)?;
        // Read once per release for every target's filters; an unreadable
        // release is left to the journal sweep, which gives it up.
        let text = match self.store().item(&entry.item_id) {
            Ok(Some(stored)) => Some(filter_text(&stored.item.title, &stored.item.lead)),
            Ok(None) | Err(_) => None,
        };
        Ok(Some(Walking {
            release,
            handled,
            page_end: entry.after_chat,
            taken: entry.after_chat,
            entry,
            in_flight: BTreeSet::new(),
            unsaved: 0,
            text,
        }))
    }

    /// Claims `chat` of `page` for sending. False when it no longer wants the
    /// release (it unsubscribed since the page was read) or the walk was reset.
    pub fn take(&self, page: &FanOutPage, chat: i64) -> Result<bool, StoreError> {
        let mut walk = self.walk();
        let Some(w) = walk.as_mut().filter(|w| w.release == page.release) else {
            return Ok(false);
        };
        w.taken = Some(chat);
        if self.store().subscription_changes() != page.changes
            && !self
                .store()
                .subscription(chat)?
                .is_some_and(|s| w.entry.reaches(&s))
        {
            return Ok(false);
        }
        w.in_flight.insert(chat);
        Ok(true)
    }

    /// Telegram accepted `release` for `chat`.
    pub fn sent(&self, release: &WalkedRelease, chat: i64) -> Result<(), StoreError> {
        self.settle_taken(release, chat)
    }

    /// `release` could not go to `chat` now (a failure, shutdown, or the chat is
    /// busy): it is journaled, durably, and served like any other journal entry.
    pub async fn defer(
        &self,
        release: &WalkedRelease,
        chat: i64,
    ) -> Result<JournalEntry, StoreError> {
        let now = self.inner.clock.now();
        self.journal()
            .add(chat, release.item_seq, &release.item_id, now)?;
        self.journal().commit().await?;
        self.settle_taken(release, chat)?;
        Ok(JournalEntry {
            seq: release.item_seq,
            chat,
            thread: None,
            item_id: release.item_id.clone(),
            journaled_at: Some(now.timestamp()),
            edit: false,
        })
    }

    /// The item of `page` cannot be read: its remaining `chats` are journaled
    /// in one go (the journal sweep gives the push up, counted), not sent.
    pub async fn defer_all(
        &self,
        page: &FanOutPage,
        chats: impl IntoIterator<Item = i64>,
    ) -> Result<(), StoreError> {
        let mut journaled = Vec::new();
        let now = self.inner.clock.now();
        for chat in chats {
            if self.take(page, chat)? {
                self.journal()
                    .add(chat, page.release.item_seq, &page.release.item_id, now)?;
                journaled.push(chat);
            }
        }
        self.journal().commit().await?;
        for chat in journaled {
            self.settle_taken(&page.release, chat)?;
        }
        Ok(())
    }

    /// Moves a group's subscription and journal entries to its supergroup id,
    /// so that the walk in progress neither doubles nor drops a push to it.
    /// Durable on return. (Delivery counts the move in its pass's report;
    /// this form, for tests and tools, only in the metrics and `/status`.)
    pub async fn migrate_chat(&self, from: i64, to: i64) -> Result<(), StoreError> {
        self.migrate(from, to, &mut PassReport::default()).await
    }

    /// [`FanOut::migrate_chat`], counted in `report`.
    pub(super) async fn migrate(
        &self,
        from: i64,
        to: i64,
        report: &mut PassReport,
    ) -> Result<(), StoreError> {
        let outcome: Outcome = {
            // The walk may not move while the store decides what it will reach.
            let walk = self.walk();
            self.journal()
                .migrate(from, to, &WalkHeldStill(walk.as_ref()))?
        };
        self.journal().commit().await?;
        report.count(outcome);
        Ok(())
    }

    /// Writes the held-back log records and saves the cursor (not flushed:
    /// the log covers what it lags behind). Delivery calls it when it stops.
    pub fn save(&self) -> Result<(), StoreError> {
        let mut walk = self.walk();
        self.inner.log.write()?;
        match walk.as_mut() {
            Some(w) => self.save_cursor(w),
            None => Ok(()),
        }
    }

    /// Nothing is in flight: [`FanOut::save`], then flushes the journal
    /// completions that wait, so an idle bot owes its crash window nothing
    /// (the keeper syncs the log within its period). Delivery calls it
    /// whenever it is idle.
    pub(super) async fn settle(&self) -> Result<(), StoreError> {
        self.save()?;
        self.journal().flush_waiting().await
    }

    /// Keeps delivery's progress durable until `shutdown` (the keeper, in
    /// `delivery/keeper.rs`): held-back log records written and waiting
    /// completions flushed within milliseconds, written records synced
    /// within half a second, and nothing at all while nothing waits.
    pub fn keep_durable(&self, shutdown: Shutdown) -> impl Future<Output = ()> + Send + 'static {
        let fan_out = self.clone();
        async move {
            let inner = &fan_out.inner;
            keep_durable(&inner.log, &inner.journal, &inner.waiting, shutdown).await;
        }
    }

    /// `chat` is handled for `release`: logged, and no longer in flight.
    fn settle_taken(&self, release: &WalkedRelease, chat: i64) -> Result<(), StoreError> {
        let mut walk = self.walk();
        self.inner.log.record(release.key, chat)?;
        let Some(w) = walk.as_mut().filter(|w| w.release == *release) else {
            return Ok(());
        };
        w.in_flight.remove(&chat);
        w.unsaved += 1;
        if w.unsaved >= SAVE_EVERY {
            self.save_cursor(w)?;
        }
        Ok(())
    }

    fn save_cursor(&self, w: &mut Walking) -> Result<(), StoreError> {
        let cursor = w.cursor();
        if cursor != w.entry.after_chat {
            w.entry.after_chat = cursor;
            self.window().save_outbox_entry(w.release.key, &w.entry)?;
        }
        w.unsaved = 0;
        Ok(())
    }
}

/// Applies a chat's settings to the `targets` a release reaches: drops those
/// whose keyword filters refuse it (`text`: the release's filter text), and
/// says whether any that remain must wait (quiet hours, a digest) at `now`.
fn apply_settings(
    targets: &mut Vec<Option<i32>>,
    chosen: &ChatSettings,
    text: Option<&Normalized>,
    now: chrono::DateTime<chrono::Utc>,
) -> bool {
    targets.retain(|thread| chosen.of(*thread).is_none_or(|s| s.admits(text)));
    targets.iter().any(|thread| {
        chosen
            .of(*thread)
            .is_some_and(|s| quiet_state(now, s, Some(now)) != QuietState::Open)
    })
}
