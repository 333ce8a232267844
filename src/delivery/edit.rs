//! Edits of messages already sent, for a release the site revised (a title
//! reworded, a lead fixed): the message each chat got is edited in place,
//! with `editMessageText` on the id Telegram gave it, and nobody is notified
//! again.
//!
//! Edits travel like pushes. A revision queues an edit outbox entry (in the
//! transaction that records it, after the read's new releases); its walk
//! goes down the chats that were sent the release (`store/sent.rs`) and
//! journals an edit for each message, under the same cursor, fan-out log
//! and crash window as a push walk ([`super::FanOut`]); the journal sweep
//! sends them through the same limiter, after the chat's pushes, and each
//! completes like a push. What Telegram answers is read as for a push (a
//! chat gone, a migration, a 429), except that "message is not modified"
//! is done, and a message that cannot be edited (deleted, too old) ends
//! that edit quietly.
//!
//! Message ids are kept only for releases first sent within
//! `edits.window_hours`, pruned whenever delivery is idle.

use std::sync::Arc;

use super::Delivery;
use super::digest::DigestPart;
use super::outcome::{EditResult, Outcome, PassReport};
use super::push::Rendered;
use crate::render::{DIGEST_LEAD_CHARS, DigestKind, digest_part, item_block};
use crate::runtime::shutdown::Shutdown;
use crate::store::{DigestNote, JournalEntry, SentMessage, StoreError, Target};
use crate::telegram::messenger::{Edited, Format, Keyboard, Messenger, SendError};
use crate::text::markup::{shorten, to_plain};

impl<M: Messenger> Delivery<M> {
    /// Remembers the id of the message `to` got for release `seq` (edits on,
    /// and Telegram said it). Losing it costs only an edit: logged, not fatal.
    pub(super) fn note_sent(&self, to: Target, seq: u64, message_id: Option<i32>) {
        let (Some(_), Some(id)) = (self.edits, message_id) else {
            return;
        };
        if let Err(e) = self.store.record_sent(to, seq, id, false, self.clock.now()) {
            note_failed(&e);
        }
    }

    /// Remembers a digest message: what it listed, and that it carries each
    /// of `entries`' releases.
    pub(super) fn note_digest(
        &self,
        to: Target,
        layout: &DigestPart,
        entries: &[(JournalEntry, Arc<Rendered>)],
        message_id: Option<i32>,
    ) {
        let (Some(_), Some(id)) = (self.edits, message_id) else {
            return;
        };
        let now = self.clock.now();
        let note = DigestNote {
            daily: layout.kind == DigestKind::Daily,
            lang: layout.lang,
            part: layout.part.0,
            parts: layout.part.1,
            total: layout.total,
            items: entries.iter().map(|(e, _)| e.item_id.clone()).collect(),
            at: now.timestamp(),
        };
        let seqs: Vec<u64> = entries.iter().map(|(e, _)| e.seq).collect();
        if let Err(e) = self.store.record_digest(to, id, &note, &seqs, now) {
            note_failed(&e);
        }
    }

    /// Forgets the ids of messages sent before the window (delivery is idle).
    pub(super) fn prune_sent(&self) {
        let Some(window) = self.edits else {
            return;
        };
        if let Err(e) = self.store.prune_sent(self.clock.now() - window)
            && let Some(held_back) = crate::runtime::log_limit::allow("prune sent message ids")
        {
            tracing::warn!(error = %e, held_back, "cannot forget the ids of old messages; trying again later");
        }
    }

    /// Edits the messages of a chat's edit entries in order; false when the
    /// chat must stop for now (a failure, or shutdown).
    pub(super) async fn edit_all(
        &self,
        edits: &[JournalEntry],
        report: &mut PassReport,
        shutdown: &Shutdown,
    ) -> Result<bool, StoreError> {
        for (done, entry) in edits.iter().enumerate() {
            if !self
                .edit_journaled(entry, edits.len() - done, report, shutdown)
                .await?
            {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Edits the message of one edit entry to its release's current words;
    /// `remaining` counts it and the chat's entries after it. True when the
    /// chat's next entry may go; false when the chat must stop for now (a
    /// failure, or shutdown).
    async fn edit_journaled(
        &self,
        entry: &JournalEntry,
        remaining: usize,
        report: &mut PassReport,
        shutdown: &Shutdown,
    ) -> Result<bool, StoreError> {
        if !self.store.is_journaled(entry)? {
            return Ok(true); // done since it was listed
        }
        let journal = self.fan_out.journal();
        let to = entry.target();
        let sent = match self.edits {
            Some(_) => self.store.sent_message(to, entry.seq)?,
            None => None, // edits turned off since it was journaled
        };
        let text = match sent {
            Some(sent) => self.edit_text_of(to, entry, sent)?,
            None => None,
        };
        let (Some(sent), Some(text)) = (sent, text) else {
            // Its id left the window, or its release is gone: nothing to edit.
            journal.complete(entry).await?;
            report.count(Outcome::Edit(EditResult::NotNeeded));
            return Ok(true);
        };
        let Some(result) = self.edit_once(to, sent, text, shutdown).await else {
            report.count(Outcome::Deferred(remaining)); // shutting down
            return Ok(false);
        };
        let result = match result {
            Ok(Edited::Changed) => EditResult::Edited,
            Ok(Edited::Unchanged) => EditResult::NotNeeded,
            // Deleted, too old, or otherwise beyond editing; a closed topic
            // keeps its subscription: an edit is no push.
            Err(SendError::Rejected(reason) | SendError::TopicGone(reason)) => {
                tracing::debug!(chat = to.chat, item = %entry.item_id, %reason, "cannot edit the message; leaving it");
                EditResult::GivenUp
            }
            Err(error) => {
                return self.settle_failure(entry, error, remaining, report).await;
            }
        };
        journal.complete(entry).await?;
        self.backoff.clear(to.chat);
        report.count(Outcome::Edit(result));
        Ok(true)
    }

    /// What `sent` should show now: the release's push with its buttons, or
    /// the digest it was part of, written again. `None` when it cannot be told.
    fn edit_text_of(
        &self,
        to: Target,
        entry: &JournalEntry,
        sent: SentMessage,
    ) -> Result<Option<Shown>, StoreError> {
        if !sent.digest {
            let Some(rendered) = self.rendered(&entry.item_id)? else {
                return Ok(None);
            };
            let lang = self.store.chat_settings(to.chat)?.push_language();
            return Ok(Some(Shown {
                keyboard: self.full_text_button(&rendered, lang),
                html: rendered.html.clone(),
            }));
        }
        let Some(note) = self.store.digest_note(to.chat, sent.message_id)? else {
            return Ok(None);
        };
        let mut blocks = Vec::with_capacity(note.items.len());
        for id in &note.items {
            if let Some(stored) = self.store.item(id)? {
                blocks.push(item_block(&stored.item, DIGEST_LEAD_CHARS, note.lang));
            }
        }
        let kind = match note.daily {
            true => DigestKind::Daily,
            false => DigestKind::Quiet,
        };
        let part = (note.part, note.parts);
        Ok(Some(Shown {
            html: digest_part(kind, note.total, part, &blocks, note.lang),
            keyboard: None,
        }))
    }

    /// One edit through the limiter, again as plain text if Telegram refuses
    /// the HTML of a push (never a digest's: shortened, it would cut
    /// releases off). `None` when shutdown came first.
    async fn edit_once(
        &self,
        to: Target,
        sent: SentMessage,
        shown: Shown,
        shutdown: &Shutdown,
    ) -> Option<Result<Edited, SendError>> {
        let Shown { html, keyboard } = shown;
        let result = self
            .edit_as(
                to,
                sent.message_id,
                html.clone(),
                Format::Html,
                keyboard.clone(),
                shutdown,
            )
            .await;
        if let Some(Err(SendError::Rejected(reason))) = &result
            && !sent.digest
            && super::push::needs_plain_text(reason)
        {
            let plain = shorten(&to_plain(&html), 2_048);
            return self
                .edit_as(
                    to,
                    sent.message_id,
                    plain,
                    Format::Plain,
                    keyboard,
                    shutdown,
                )
                .await;
        }
        result
    }

    async fn edit_as(
        &self,
        to: Target,
        message_id: i32,
        text: String,
        format: Format,
        keyboard: Option<Keyboard>,
        shutdown: &Shutdown,
    ) -> Option<Result<Edited, SendError>> {
        // Edits count against Telegram's limits like sends.
        if !self.limiter.acquire(to.chat, shutdown).await {
            return None;
        }
        Some(
            self.messenger
                .edit_text(to.chat, message_id, text, format, keyboard)
                .await,
        )
    }
}

/// What an edited message shows: its text, and the buttons under it.
struct Shown {
    html: String,
    keyboard: Option<Keyboard>,
}

/// A message id that could not be kept: that message will not be edited.
fn note_failed(error: &StoreError) {
    if let Some(held_back) = crate::runtime::log_limit::allow("keep a sent message id") {
        tracing::warn!(%error, held_back, "cannot keep a sent message's id; it will not be edited if its release is revised");
    }
}
