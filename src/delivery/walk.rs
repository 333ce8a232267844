//! Where the fan-out walk of one outbox entry stands, and the walk's rules
//! for a group that becomes a supergroup under it: which release the new id
//! must be journaled now (the walk passed it), and which of the group's
//! journaled pushes must not move (the walk will reach the new id itself).
//! The store carries a migration out in one transaction; these rules are
//! the walk's, so they live with it ([`WalkHeldStill`] answers the store's
//! [`WalkAhead`]).

use std::collections::{BTreeSet, HashSet};

use crate::store::{JournalEntry, OutboxEntry, Subscription, WalkAhead};
use crate::text::matching::Normalized;

/// The release a walk is pushing, as its sends need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkedRelease {
    /// Its outbox key: one per outbox entry (a release that a second source
    /// lists later gets a second entry).
    pub key: u64,
    /// The item's sequence number, the second half of a journal key.
    pub item_seq: u64,
    pub item_id: String,
}

/// Where the walk of one outbox entry stands.
pub(super) struct Walking {
    pub(super) release: WalkedRelease,
    pub(super) entry: OutboxEntry,
    /// Chats beyond the saved cursor that the log says are handled (a restart).
    pub(super) handled: HashSet<i64>,
    /// The last chat read into a page: one subscribing there later is missed.
    pub(super) page_end: Option<i64>,
    /// The last chat handed to a sender (or skipped): chats up to here are
    /// handled, in flight, or (if they unsubscribe) never will be.
    pub(super) taken: Option<i64>,
    /// Chats whose send is in flight: the cursor stays below the lowest.
    pub(super) in_flight: BTreeSet<i64>,
    /// Chats settled since the cursor was last saved.
    pub(super) unsaved: usize,
    /// The release's title and lead, as keyword filters read them (`None`:
    /// the release cannot be read).
    pub(super) text: Option<Normalized>,
}

impl Walking {
    /// The highest chat such that every chat up to it is handled.
    pub(super) fn cursor(&self) -> Option<i64> {
        match self.in_flight.first() {
            Some(lowest) => Some(lowest.saturating_sub(1)),
            None => self.taken,
        }
    }
}

/// The walk in progress (if any), held still while a migration asks it what
/// it will do.
pub(super) struct WalkHeldStill<'a>(pub(super) Option<&'a Walking>);

impl WalkAhead for WalkHeldStill<'_> {
    fn owes_new_id(
        &self,
        key: u64,
        entry: &OutboxEntry,
        (from, to): (i64, i64),
        subscription: &Subscription,
    ) -> bool {
        // Chats up to `taken` are served (or will never be: `from` is
        // unsubscribed now); chats up to `page_end` were read before `to`
        // subscribed. An entry not being walked resumes at its saved cursor.
        let (taken, page_end) = match self.0.filter(|w| w.release.key == key) {
            Some(w) => (w.taken, w.page_end),
            None => (entry.after_chat, entry.after_chat),
        };
        let passed_to = page_end.is_some_and(|end| to <= end);
        let serves_from = taken.is_some_and(|t| from <= t);
        passed_to && !serves_from && !entry.edit && entry.reaches(subscription)
    }

    fn will_push(&self, entry: &JournalEntry, to: i64, subscription: &Subscription) -> bool {
        // The walk pushes to a chat itself; a topic's push is always journaled.
        entry.thread.is_none()
            && self.0.is_some_and(|w| {
                w.release.item_seq == entry.seq
                    && w.page_end.is_none_or(|end| to > end)
                    && w.entry.reaches(subscription)
            })
    }
}
