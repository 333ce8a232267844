//! Serving one chat: a push from the fan-out walk, or the chat's journal
//! entries oldest first (those due together for a target that holds pushes
//! as one digest); and what each kind of failure does to that chat.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use super::Delivery;
use super::holds::Held;
use super::outcome::{Outcome, PassReport, SentAs, Unwanted};
use super::walk::WalkedRelease;
use crate::config::Language;
use crate::render::{
    DIGEST_LEAD_CHARS, DigestKind, FullTextView, full_text_data, item_block, push_message,
};
use crate::runtime::shutdown::Shutdown;
use crate::settings::{ChatSettings, QuietState, TargetSettings, filter_text, quiet_state};
use crate::store::{JournalEntry, StoreError, Target};
use crate::telegram::messenger::{Button, Format, Keyboard, Messenger, SendError};
use crate::text::markup::{shorten, to_plain};
use crate::text::matching::Normalized;
use crate::tr;

/// Rendered releases kept while pushing (a burst of releases is rarely larger).
const RENDERED_CACHE: usize = 64;

/// One release as every chat receives it.
pub(super) struct Rendered {
    /// Every source that listed it: a chat following any of them wants it.
    sources: Vec<String>,
    pub(super) html: String,
    /// Its block in a digest, in each language (by [`Language::index`]).
    pub(super) blocks: Vec<String>,
    /// Its title and lead as keyword filters read them.
    text: Normalized,
    /// Its sequence number, which its "Full text" button names.
    seq: u64,
}

/// Releases being pushed, rendered once: a fan-out sends one to every chat.
#[derive(Default)]
pub(super) struct RenderCache {
    rendered: Mutex<HashMap<String, Arc<Rendered>>>,
    /// The store's count of release writes when the cache was filled: a
    /// release revised since must not go out in its old words.
    written: std::sync::atomic::AtomicU64,
}

impl RenderCache {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<Rendered>>> {
        // A plain map: if a holder panicked, its content is still valid.
        self.rendered.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets everything (releases may be edited before they are pushed again).
    pub(super) fn clear(&self) {
        self.lock().clear();
    }
}

/// What a slot serves a chat with (a name of its own: the update side's
/// queued closures are jobs).
pub(super) enum ChatWork {
    /// The walked release, for one chat.
    FanOut(WalkedRelease, Arc<Rendered>, Language),
    /// A chat's journal entries: as a sweep listed them, or to be read.
    Journal(Option<Vec<JournalEntry>>),
}

/// Finished [`ChatWork`], as the scheduler takes it back: whose it was, and
/// whether the walk waits for it to end.
pub(super) struct Served {
    pub(super) chat: i64,
    /// It pushed the walked release: the walk cannot finish that release
    /// before this ends.
    pub(super) walked: bool,
    pub(super) result: Result<PassReport, StoreError>,
}

impl<M: Messenger> Delivery<M> {
    /// The rendered release `item_id`, from the cache or the store.
    pub(super) fn rendered(&self, item_id: &str) -> Result<Option<Arc<Rendered>>, StoreError> {
        {
            let mut cache = self.render_cache.lock();
            let written = self.store.releases_written();
            let seen = &self.render_cache.written;
            if seen.swap(written, std::sync::atomic::Ordering::SeqCst) != written {
                cache.clear(); // releases were written (perhaps revised) since
            }
            if let Some(rendered) = cache.get(item_id) {
                return Ok(Some(rendered.clone()));
            }
        }
        let Some(stored) = self.store.item(item_id)? else {
            return Ok(None);
        };
        let rendered = Arc::new(Rendered {
            html: push_message(&stored.item, &self.labels.describe(stored.sources())),
            blocks: Language::ALL
                .into_iter()
                .map(|lang| item_block(&stored.item, DIGEST_LEAD_CHARS, lang))
                .collect(),
            text: filter_text(&stored.item.title, &stored.item.lead),
            sources: stored.sources().map(str::to_string).collect(),
            seq: stored.seq,
        });
        let mut cache = self.render_cache.lock();
        if cache.len() >= RENDERED_CACHE {
            cache.clear();
        }
        cache.insert(item_id.to_string(), rendered.clone());
        Ok(Some(rendered))
    }

    /// Serves one chat.
    pub(super) async fn serve_chat(
        &self,
        chat: i64,
        work: ChatWork,
        shutdown: &Shutdown,
    ) -> Served {
        let (walked, result) = match work {
            ChatWork::FanOut(release, rendered, lang) => (
                true,
                self.push_walked(chat, &release, &rendered, lang, shutdown)
                    .await,
            ),
            ChatWork::Journal(listed) => (false, self.push_journaled(chat, listed, shutdown).await),
        };
        Served {
            chat,
            walked,
            result,
        }
    }

    /// Pushes the walked release to `chat`; if it cannot go now, it is
    /// journaled and the failure handled as for any journal entry.
    async fn push_walked(
        &self,
        chat: i64,
        release: &WalkedRelease,
        rendered: &Rendered,
        lang: Language,
        shutdown: &Shutdown,
    ) -> Result<PassReport, StoreError> {
        let mut report = PassReport::default();
        let keyboard = self.full_text_button(rendered, lang);
        let result = self
            .send_html(
                chat.into(),
                &release.item_id,
                &rendered.html,
                keyboard,
                shutdown,
            )
            .await;
        if let Some(Ok((format, message_id))) = result {
            self.note_sent(chat.into(), release.item_seq, message_id);
            self.fan_out.sent(release, chat)?;
            report.count(Outcome::Sent {
                releases: 1,
                format,
                of_digest: false,
            });
            return Ok(report);
        }
        let entry = self.fan_out.defer(release, chat).await?;
        match result.map(|r| r.map(|_| ())) {
            Some(Err(error)) => {
                self.settle_failure(&entry, error, 1, &mut report).await?;
            }
            _ => report.count(Outcome::Deferred(1)), // shutting down
        }
        Ok(report)
    }

    /// Pushes one chat's journal entries in order, stopping at the first
    /// failure. `listed` is what a sweep read for the chat; `None` reads it
    /// now. A listing may be stale, so each entry is checked again just before
    /// its push goes. Entries of a target that holds pushes (quiet hours, a
    /// digest) go when their time has come, those due together as one
    /// digest; the rest wait, and the chat is held until the first is due.
    async fn push_journaled(
        &self,
        chat: i64,
        listed: Option<Vec<JournalEntry>>,
        shutdown: &Shutdown,
    ) -> Result<PassReport, StoreError> {
        let mut report = PassReport::default();
        let list = match listed {
            Some(list) => list,
            None => self.store.journal_for(chat)?,
        };
        if list.is_empty() {
            self.backoff.clear(chat);
        }
        let settings = self.store.chat_settings(chat)?;
        let now = self.clock.now();
        let mut due_together: BTreeMap<Option<i32>, Vec<(JournalEntry, Arc<Rendered>)>> =
            BTreeMap::new();
        let mut held_until: Option<DateTime<Utc>> = None;
        let mut held = Vec::new();
        let total = list.len();
        // Edits go after the chat's pushes: new news first.
        let (edits, list): (Vec<JournalEntry>, Vec<JournalEntry>) =
            list.into_iter().partition(|e| e.edit);
        for (done, entry) in list.iter().enumerate() {
            let Some(rendered) = self.still_wanted(entry, &settings, &mut report).await? else {
                continue;
            };
            if let Some(chosen) = settings.of(entry.thread).filter(|s| s.holds()) {
                match quiet_state(now, chosen, journaled_at(entry)) {
                    QuietState::HeldUntil(at) => {
                        held_until = Some(held_until.map_or(at, |t| t.min(at)));
                        held.push(entry.clone());
                        report.count(Outcome::Held);
                    }
                    QuietState::Open => due_together
                        .entry(entry.thread)
                        .or_default()
                        .push((entry.clone(), rendered)),
                }
                continue;
            }
            let lang = settings.push_language();
            if !self
                .push_one(entry, &rendered, lang, total - done, &mut report, shutdown)
                .await?
            {
                return Ok(report);
            }
        }
        for (thread, due) in due_together {
            let kind = match settings.of(thread) {
                Some(TargetSettings {
                    digest: Some(_), ..
                }) => DigestKind::Daily,
                _ => DigestKind::Quiet,
            };
            let lang = settings.push_language();
            if !self
                .push_together(due, kind, lang, &mut report, shutdown)
                .await?
            {
                return Ok(report);
            }
        }
        if !self.edit_all(&edits, &mut report, shutdown).await? {
            return Ok(report);
        }
        if let Some(at) = held_until {
            let until = self.clock.instant_at(at);
            self.holds.hold(chat, until, Held::of(&held));
        }
        Ok(report)
    }

    /// Pushes `entry`'s release to its target now; `remaining` counts it and
    /// the chat's entries after it. False when the chat must stop for now (a
    /// failure, or shutdown).
    async fn push_one(
        &self,
        entry: &JournalEntry,
        rendered: &Rendered,
        lang: Language,
        remaining: usize,
        report: &mut PassReport,
        shutdown: &Shutdown,
    ) -> Result<bool, StoreError> {
        let keyboard = self.full_text_button(rendered, lang);
        let (to, html) = (entry.target(), &rendered.html);
        let sent = self.send_html(to, &entry.item_id, html, keyboard, shutdown);
        let Some(result) = sent.await else {
            report.count(Outcome::Deferred(remaining)); // shutting down
            return Ok(false);
        };
        match result {
            Ok((format, message_id)) => {
                self.note_sent(to, entry.seq, message_id);
                self.fan_out.journal().complete(entry).await?;
                self.backoff.clear(entry.chat);
                report.count(Outcome::Sent {
                    releases: 1,
                    format,
                    of_digest: false,
                });
                Ok(true)
            }
            Err(error) => self.settle_failure(entry, error, remaining, report).await,
        }
    }

    /// The release of `entry` if its push is still wanted; else the entry is
    /// settled (already gone, given up as unreadable, or dropped because its
    /// target unsubscribed or its keyword filters now refuse it).
    async fn still_wanted(
        &self,
        entry: &JournalEntry,
        settings: &ChatSettings,
        report: &mut PassReport,
    ) -> Result<Option<Arc<Rendered>>, StoreError> {
        if !self.store.is_journaled(entry)? {
            return Ok(None); // sent or dropped since it was listed
        }
        let journal = self.fan_out.journal();
        let Some(rendered) = self.rendered(&entry.item_id)? else {
            tracing::warn!(item = %entry.item_id, "journaled item is missing; dropping the push");
            journal.give_up(entry, report).await?;
            return Ok(None);
        };
        // The chat (or topic) may have unsubscribed (from this source) since fan-out.
        if !self.store.subscription(entry.chat)?.is_some_and(|s| {
            rendered
                .sources
                .iter()
                .any(|source| s.target_wants(entry.thread, source))
        }) {
            journal
                .drop_unwanted(entry, Unwanted::Unsubscribed, report)
                .await?;
            return Ok(None);
        }
        // Its filters may have changed since it was journaled: they decide now.
        if !settings
            .of(entry.thread)
            .is_none_or(|s| s.admits(Some(&rendered.text)))
        {
            journal
                .drop_unwanted(entry, Unwanted::Filtered, report)
                .await?;
            return Ok(None);
        }
        Ok(Some(rendered))
    }

    /// The "Full text" button under a push of `rendered`, in `lang`; `None`
    /// when full text is off.
    pub(super) fn full_text_button(&self, rendered: &Rendered, lang: Language) -> Option<Keyboard> {
        self.full_text.then(|| Keyboard {
            rows: vec![vec![Button {
                label: tr!(lang, "button-full-text"),
                data: full_text_data(rendered.seq, FullTextView::Full),
            }]],
        })
    }

    /// Sends `html` to `to`, again as plain text if Telegram refuses the
    /// HTML; `what` names it in the log. How it went once accepted, and the
    /// message's id if Telegram said; `None` when shutdown came first.
    pub(super) async fn send_html(
        &self,
        to: Target,
        what: &str,
        html: &str,
        keyboard: Option<Keyboard>,
        shutdown: &Shutdown,
    ) -> Option<Result<(SentAs, Option<i32>), SendError>> {
        let chat = to.chat;
        let result = self
            .send(
                to,
                html.to_string(),
                Format::Html,
                keyboard.clone(),
                shutdown,
            )
            .await;
        if let Some(Err(SendError::Rejected(reason))) = &result
            && needs_plain_text(reason)
        {
            tracing::warn!(chat, item = %what, %reason, "Telegram refused the HTML; re-sending as plain text");
            // 2,048 characters are at most 4,096 UTF-16 units: always within the limit.
            let plain = shorten(&to_plain(html), 2_048);
            let result = self
                .send(to, plain, Format::Plain, keyboard, shutdown)
                .await;
            return result.map(|sent| sent.map(|id| (SentAs::Plain, id)));
        }
        result.map(|sent| sent.map(|id| (SentAs::Html, id)))
    }

    /// Acts on a journal entry whose push failed with `error`; `remaining`
    /// counts it and the chat's entries after it. True when the chat's next
    /// push may still go (only this message was refused).
    pub(super) async fn settle_failure(
        &self,
        entry: &JournalEntry,
        error: SendError,
        remaining: usize,
        report: &mut PassReport,
    ) -> Result<bool, StoreError> {
        let chat = entry.chat;
        let journal = self.fan_out.journal();
        match error {
            SendError::TopicGone(reason) if entry.thread.is_some() => {
                let dropped = journal.topic_gone(entry.target(), report).await?;
                tracing::warn!(chat, thread = entry.thread, %reason, dropped, "forum topic is closed or deleted; its subscription ended");
                // The chat's other targets go on.
                Ok(true)
            }
            SendError::Rejected(reason) | SendError::TopicGone(reason) => {
                tracing::error!(chat, item = %entry.item_id, %reason, "Telegram refused the push for good; giving up on it");
                journal.give_up(entry, report).await?;
                Ok(true)
            }
            SendError::ChatGone(reason) => {
                let dropped = journal.chat_gone(chat, report).await?;
                tracing::warn!(chat, %reason, dropped, "chat can no longer receive messages; unsubscribed it");
                Ok(false)
            }
            SendError::Migrated(new_chat) => {
                tracing::info!(
                    from = chat,
                    to = new_chat,
                    "group migrated to a supergroup; moving its subscription"
                );
                self.fan_out.migrate(chat, new_chat, report).await?;
                // The new id is served as a chat of its own (the sweep
                // comes back for it), never by this task alongside another.
                report.count(Outcome::Deferred(remaining));
                Ok(false)
            }
            SendError::Retry { after, reason } => {
                report.count(Outcome::Retried {
                    flood_limited: after.is_some(),
                });
                if let Some(after) = after {
                    self.limiter.flood_limited(chat, after);
                }
                let until = self.backoff.defer(chat, after);
                tracing::warn!(chat, %reason, retry_in = ?until.saturating_duration_since(Instant::now()), "push deferred");
                report.count(Outcome::Deferred(remaining));
                Ok(false)
            }
        }
    }

    /// One send through the limiter, with the message's id if Telegram
    /// said; `None` when shutdown came first.
    pub(super) async fn send(
        &self,
        to: Target,
        text: String,
        format: Format,
        keyboard: Option<Keyboard>,
        shutdown: &Shutdown,
    ) -> Option<Result<Option<i32>, SendError>> {
        // Telegram's limits are per chat, whichever topic a message goes to.
        if !self.limiter.acquire(to.chat, shutdown).await {
            return None;
        }
        Some(
            self.messenger
                .send_for_id(to.chat, to.thread, text, format, keyboard)
                .await,
        )
    }
}

/// Refusals that plain text fixes: our HTML did not parse, or Telegram
/// measured the text longer than we did.
pub(super) fn needs_plain_text(reason: &str) -> bool {
    let reason = reason.to_ascii_lowercase();
    reason.contains("can't parse entities") || reason.contains("message is too long")
}

/// When `entry` was journaled, if known.
fn journaled_at(entry: &JournalEntry) -> Option<DateTime<Utc>> {
    entry
        .journaled_at
        .and_then(|secs| DateTime::from_timestamp(secs, 0))
}
