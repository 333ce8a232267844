//! What became of a push (or of a chat), told once: one [`Outcome`] feeds
//! the pass's [`PassReport`], the Prometheus metrics ([`PassReport::count`])
//! and, for the outcomes operators see in `/status`, the stored counters
//! ([`Outcome::stored`], written by the journal in the transaction of the
//! removal it counts). Three tallies kept by hand drift apart; one event
//! cannot.

use crate::metrics::{FormatLabel, Metrics, ResultLabel};
use crate::store::{Ended, JournalStats};

/// Totals of delivery's work, for logs and tests.
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
    /// Pushes left in the journal for later (transient errors, shutdown).
    pub deferred: usize,
    /// Pushes left in the journal for their time (quiet hours, a digest).
    pub held: usize,
    /// Pushes dropped at send time because the target's keyword filters,
    /// changed since they were journaled, now refuse them.
    pub filtered: usize,
    /// Digest messages sent (their releases count in `sent`).
    pub digests: usize,
    /// Chats a walked release was handed out to (pushed at once or journaled).
    pub fanned_out: usize,
    /// Sent messages edited to a revised release's words.
    pub edited: usize,
    /// Edits that were not needed (the message showed the words already,
    /// or its id is no longer kept).
    pub edits_not_needed: usize,
    /// Edits given up: the message is gone or cannot be edited.
    pub edits_given_up: usize,
}

/// What became of one edit of a sent message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EditResult {
    /// The message shows the revised words now.
    Edited,
    /// Nothing to change, or nothing known to edit.
    NotNeeded,
    /// Telegram cannot edit it ("message to edit not found", "message can't be edited").
    GivenUp,
}

/// How a message Telegram accepted went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SentAs {
    Html,
    /// Plain text, after Telegram refused the HTML.
    Plain,
}

/// Why a journal entry's push was dropped unsent while its chat stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unwanted {
    /// The chat (or topic) unsubscribed from the release's sources meanwhile.
    Unsubscribed,
    /// The target's keyword filters, changed since, now refuse the release.
    Filtered,
}

/// One thing that happened to a push or a chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "an outcome is counted, or it is lost from the report and the metrics"]
pub(super) enum Outcome {
    /// Telegram accepted one message carrying `releases` pushes; `of_digest`
    /// when it was one of the messages for releases due together.
    Sent {
        releases: usize,
        format: SentAs,
        of_digest: bool,
    },
    /// Telegram refused a push for good (or its release is gone).
    GivenUp,
    /// A push dropped unsent, its chat still subscribed.
    Dropped(Unwanted),
    /// Telegram said the chat is gone: it ended with what it was owed.
    ChatGone(Ended),
    /// Telegram said a forum topic is gone: it ended with what it was owed.
    TopicGone(Ended),
    /// A group moved to its supergroup id.
    Migrated,
    /// A send failed for now; its chat waits (`flood_limited`: a 429).
    Retried { flood_limited: bool },
    /// Pushes left in the journal for a later turn (a failure, shutdown).
    Deferred(usize),
    /// A push left in the journal for its time (quiet hours, a digest).
    Held,
    /// Chats a walked release was handed to (pushed at once or journaled).
    FannedOut(usize),
    /// An edit of a message already sent ended (a revised release).
    Edit(EditResult),
}

impl Outcome {
    /// What it adds to the counters kept in the store.
    pub(super) fn stored(self) -> JournalStats {
        match self {
            Outcome::GivenUp => JournalStats {
                given_up: 1,
                ..JournalStats::default()
            },
            Outcome::ChatGone(ended) | Outcome::TopicGone(ended) => JournalStats::gone(ended),
            Outcome::Migrated => JournalStats {
                chats_migrated: 1,
                ..JournalStats::default()
            },
            _ => JournalStats::default(),
        }
    }
}

impl PassReport {
    /// Counts `outcome` here and in the process's metrics.
    pub(super) fn count(&mut self, outcome: Outcome) {
        let metrics = crate::metrics::get();
        match outcome {
            Outcome::Sent {
                releases,
                format,
                of_digest,
            } => {
                self.sent += releases;
                self.digests += usize::from(of_digest);
                let format = match format {
                    SentAs::Html => "html",
                    SentAs::Plain => {
                        self.sent_plain += 1;
                        "plain"
                    }
                };
                metrics
                    .pushes_sent
                    .get_or_create(&FormatLabel { format })
                    .inc();
            }
            Outcome::GivenUp => {
                self.given_up += 1;
                metrics.pushes_given_up.inc();
            }
            Outcome::Dropped(Unwanted::Unsubscribed) => {
                self.skipped += 1;
                Metrics::reason(&metrics.pushes_dropped, "unsubscribed", 1);
            }
            Outcome::Dropped(Unwanted::Filtered) => {
                self.filtered += 1;
                Metrics::reason(&metrics.pushes_dropped, "filtered", 1);
            }
            Outcome::ChatGone(ended) => {
                self.chats_removed += 1;
                Metrics::reason(&metrics.pushes_dropped, "chat_gone", ended.dropped as u64);
            }
            // Counted as a skipped push; the metrics have never counted it.
            Outcome::TopicGone(_) => self.skipped += 1,
            Outcome::Migrated => {
                self.chats_migrated += 1;
                Metrics::reason(&metrics.pushes_retried, "migrated", 1);
            }
            Outcome::Retried { flood_limited } => {
                let why = if flood_limited {
                    "flood_limited"
                } else {
                    "error"
                };
                Metrics::reason(&metrics.pushes_retried, why, 1);
            }
            Outcome::Deferred(pushes) => self.deferred += pushes,
            Outcome::Held => self.held += 1,
            Outcome::FannedOut(chats) => {
                self.fanned_out += chats;
                metrics.fan_out_chats.inc_by(chats as u64);
            }
            Outcome::Edit(result) => {
                let result = match result {
                    EditResult::Edited => {
                        self.edited += 1;
                        "edited"
                    }
                    EditResult::NotNeeded => {
                        self.edits_not_needed += 1;
                        "not_needed"
                    }
                    EditResult::GivenUp => {
                        self.edits_given_up += 1;
                        "given_up"
                    }
                };
                metrics.edits.get_or_create(&ResultLabel { result }).inc();
            }
        }
    }

    /// Adds `other`'s totals to these.
    pub(super) fn absorb(&mut self, other: PassReport) {
        self.sent += other.sent;
        self.sent_plain += other.sent_plain;
        self.given_up += other.given_up;
        self.skipped += other.skipped;
        self.chats_removed += other.chats_removed;
        self.chats_migrated += other.chats_migrated;
        self.deferred += other.deferred;
        self.held += other.held;
        self.filtered += other.filtered;
        self.digests += other.digests;
        self.fanned_out += other.fanned_out;
        self.edited += other.edited;
        self.edits_not_needed += other.edits_not_needed;
        self.edits_given_up += other.edits_given_up;
    }

    /// Whether anything changed what chats were owed (worth a log line and
    /// a commit when delivery goes idle).
    pub(super) fn did_something(&self) -> bool {
        self.sent
            + self.given_up
            + self.skipped
            + self.filtered
            + self.chats_removed
            + self.chats_migrated
            + self.edited
            + self.edits_not_needed
            + self.edits_given_up
            > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_outcome_feeds_the_report_and_the_stored_counters_alike() {
        let gone = Ended {
            chat_ended: true,
            dropped: 3,
        };
        let mut report = PassReport::default();
        for outcome in [
            Outcome::GivenUp,
            Outcome::ChatGone(gone),
            Outcome::Migrated,
            Outcome::Deferred(2),
        ] {
            report.count(outcome);
        }
        assert_eq!(
            (report.given_up, report.chats_removed, report.chats_migrated),
            (1, 1, 1)
        );
        assert_eq!(report.deferred, 2);
        let stored =
            [Outcome::GivenUp, Outcome::ChatGone(gone), Outcome::Migrated].map(Outcome::stored);
        assert_eq!(stored[0].given_up, 1);
        assert_eq!((stored[1].chats_removed, stored[1].pushes_dropped), (1, 3));
        assert_eq!(stored[2].chats_migrated, 1);
        assert_eq!(Outcome::Deferred(2).stored(), JournalStats::default());
    }
}
