//! Pushes of one target that came due together (quiet hours ended, a
//! digest's hour): one alone as a push, several as a digest, and how a
//! refused digest falls back to one push per release.

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Arc;

use super::Delivery;
use super::outcome::{Outcome, PassReport, SentAs};
use super::push::{Rendered, needs_plain_text};
use crate::config::Language;
use crate::render::{DigestKind, digest};
use crate::runtime::shutdown::Shutdown;
use crate::store::{JournalEntry, StoreError, Target};
use crate::telegram::messenger::{Format, Messenger, SendError};

/// How a digest message was laid out, to write it again when one of its
/// releases is revised.
pub(super) struct DigestPart {
    pub(super) kind: DigestKind,
    pub(super) lang: Language,
    /// Its place among the digest's messages (1-based), and how many there were.
    pub(super) part: (usize, usize),
    /// How many releases the whole digest brought.
    pub(super) total: usize,
}

impl<M: Messenger> Delivery<M> {
    /// Sends one target's pushes that came due together: one alone as it
    /// is, several as a digest (as few messages as Telegram's limit allows,
    /// oldest first; a digest Telegram refuses as HTML goes as one push per
    /// release instead, never shortened). Each message's entries are
    /// completed once Telegram accepted it, through the crash window like any push, so a crash
    /// repeats at most the messages the window allows (`docs/architecture.md#crash-repeats`). False when the chat must stop for now (a failure, or shutdown).
    pub(super) async fn push_together(
        &self,
        due: Vec<(JournalEntry, Arc<Rendered>)>,
        kind: DigestKind,
        lang: Language,
        report: &mut PassReport,
        shutdown: &Shutdown,
    ) -> Result<bool, StoreError> {
        let total = due.len();
        let to = match due.first() {
            Some((entry, _)) => entry.target(),
            None => return Ok(true),
        };
        let messages = if total == 1 {
            vec![(due[0].1.html.clone(), 0..1)]
        } else {
            let blocks: Vec<String> = due
                .iter()
                .map(|(_, r)| r.blocks[lang.index()].clone())
                .collect();
            digest(kind, &blocks, lang)
        };
        let parts = messages.len();
        let mut messages: VecDeque<(String, Range<usize>, usize)> = messages
            .into_iter()
            .enumerate()
            .map(|(i, (text, range))| (text, range, i + 1))
            .collect();
        while let Some((text, range, part_no)) = messages.pop_front() {
            // A message of one release may fall back to shortened plain
            // text; one of several may not (shortening would cut releases
            // off unsent): refused as HTML, its releases go one by one.
            let several = range.len() > 1;
            let sent = match several {
                true => self.send_whole(to, text, shutdown).await,
                false => {
                    let what = &due[range.start].0.item_id;
                    self.send_html(to, what, &text, None, shutdown).await
                }
            };
            let Some(result) = sent else {
                report.count(Outcome::Deferred(total - range.start)); // shutting down
                return Ok(false);
            };
            let part = &due[range.clone()];
            match result {
                Ok((format, message_id)) => {
                    // A message of a digest (header and all), or a push alone.
                    if total > 1 && part_no > 0 {
                        let note = DigestPart {
                            kind,
                            lang,
                            part: (part_no, parts),
                            total,
                        };
                        self.note_digest(to, &note, part, message_id);
                    } else {
                        self.note_sent(to, part[0].0.seq, message_id);
                    }
                    for (entry, _) in part {
                        self.fan_out.journal().complete(entry).await?;
                    }
                    self.backoff.clear(to.chat);
                    report.count(Outcome::Sent {
                        releases: part.len(),
                        format,
                        of_digest: total > 1,
                    });
                }
                Err(SendError::Rejected(reason)) if several && needs_plain_text(&reason) => {
                    tracing::warn!(chat = to.chat, %reason, releases = part.len(), "Telegram refused a digest's HTML; sending its releases one by one");
                    for i in range.rev() {
                        messages.push_front((due[i].1.html.clone(), i..i + 1, 0));
                    }
                }
                // Refused even as plain text: every release in it is given up.
                Err(SendError::Rejected(reason)) => {
                    tracing::error!(chat = to.chat, %reason, releases = part.len(), "Telegram refused a digest for good; giving up on its releases");
                    for (entry, _) in part {
                        self.fan_out.journal().give_up(entry, report).await?;
                    }
                }
                Err(error) => {
                    let first = &part[0].0;
                    return self
                        .settle_failure(first, error, total - range.start, report)
                        .await;
                }
            }
        }
        Ok(true)
    }

    /// Sends `html` to `to` as it is, with no plain-text fallback (see
    /// [`Self::send_html`]). `None` when shutdown came first.
    async fn send_whole(
        &self,
        to: Target,
        html: String,
        shutdown: &Shutdown,
    ) -> Option<Result<(SentAs, Option<i32>), SendError>> {
        let result = self.send(to, html, Format::Html, None, shutdown).await;
        result.map(|sent| sent.map(|id| (SentAs::Html, id)))
    }
}
