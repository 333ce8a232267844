//! Chats whose pushes wait for a time (quiet hours, a daily digest): the
//! scheduler passes them by until then, and serving a chat may hold it.
//! Its own file so that serving ([`super::push`]) and scheduling
//! ([`super::schedule`]) both use it without using each other.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::store::JournalEntry;

/// Chats whose journal entries all wait for a time (quiet hours, a daily
/// digest), with when the first comes due: like a chat waiting out a backoff,
/// with a known end. The sweep passes them by while their entries are the
/// ones the hold was made for (a new one, perhaps for a topic without quiet
/// hours, is served at once), and the loop sleeps until the earliest, so a
/// night of held chats costs nothing until morning. In memory only: after a
/// restart the first sweep finds them again.
#[derive(Default)]
pub struct Holds {
    state: Mutex<HoldTimes>,
    /// A hold was lifted early (its chat's settings changed).
    lifted: Notify,
}

/// Which journal entries a hold was made for, so that a new entry (which
/// the hold knows nothing of) ends it: how many there were, and the last
/// one's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Held {
    /// How many entries the chat had.
    count: usize,
    /// The last entry's release sequence and topic.
    last: Option<(u64, Option<i32>)>,
}

impl Held {
    /// The hold of a chat whose journal entries are `entries`, oldest first.
    pub(super) fn of(entries: &[JournalEntry]) -> Held {
        Held {
            count: entries.len(),
            last: entries.last().map(|e| (e.seq, e.thread)),
        }
    }
}

/// When each held chat comes due, both ways round, under one lock.
#[derive(Default)]
struct HoldTimes {
    until: HashMap<i64, (Instant, Held)>,
    /// The same, by time: the earliest first.
    by_time: BTreeSet<(Instant, i64)>,
}

impl Holds {
    fn lock(&self) -> MutexGuard<'_, HoldTimes> {
        // Plain maps kept in step under the lock: still valid after a panic.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `chat`, whose entries are those `entries` describes, has nothing to
    /// send before `until`.
    pub(super) fn hold(&self, chat: i64, until: Instant, entries: Held) {
        let mut state = self.lock();
        if let Some((old, _)) = state.until.insert(chat, (until, entries)) {
            state.by_time.remove(&(old, chat));
        }
        state.by_time.insert((until, chat));
    }

    /// `chat` is being served: its hold, if any, is over.
    pub(super) fn clear(&self, chat: i64) {
        let mut state = self.lock();
        if let Some((old, _)) = state.until.remove(&chat) {
            state.by_time.remove(&(old, chat));
        }
    }

    /// Whether `chat`, whose journal entries are `listed`, must still wait:
    /// it is held, and has no entry the hold was not made for.
    pub(super) fn is_held(&self, chat: i64, now: Instant, listed: &[JournalEntry]) -> bool {
        self.lock()
            .until
            .get(&chat)
            .is_some_and(|(until, entries)| *until > now && *entries == Held::of(listed))
    }

    /// Up to `max` chats whose hold has ended, the earliest first.
    pub(super) fn due(&self, now: Instant, max: usize) -> Vec<i64> {
        self.lock()
            .by_time
            .iter()
            .take_while(|(until, _)| *until <= now)
            .take(max)
            .map(|(_, chat)| *chat)
            .collect()
    }

    /// When the earliest hold ends.
    pub(super) fn next_due(&self) -> Option<Instant> {
        self.lock().by_time.first().map(|(until, _)| *until)
    }

    /// `chat`'s quiet hours or digest changed: whatever it holds is looked at
    /// again now (it may be due at once, or later than it was).
    pub fn lift(&self, chat: i64) {
        self.clear(chat);
        self.lifted.notify_one();
    }

    /// Resolves when a hold has been lifted since the last call.
    pub(super) async fn lifted(&self) {
        self.lifted.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn holds_come_due_earliest_first_and_can_be_lifted() {
        let entry = |seq, thread| JournalEntry {
            seq,
            chat: 1,
            thread,
            item_id: "x".into(),
            journaled_at: None,
            edit: false,
        };
        let one = vec![entry(5, None)];
        let holds = Holds::default();
        let now = Instant::now();
        let (soon, later) = (now + Duration::from_secs(1), now + Duration::from_secs(9));
        holds.hold(1, later, Held::of(&one));
        holds.hold(2, soon, Held::of(&[]));
        holds.hold(3, later, Held::of(&[]));
        assert_eq!(holds.next_due(), Some(soon));
        assert!(holds.is_held(1, now, &one) && !holds.is_held(4, now, &[]));
        // A new entry (here for a topic) is not what the hold was made for.
        let two = vec![entry(5, None), entry(6, Some(3))];
        assert!(!holds.is_held(1, now, &two));
        assert_eq!(holds.due(now, 10), Vec::<i64>::new());
        assert_eq!(holds.due(later, 10), vec![2, 1, 3]);
        assert_eq!(
            holds.due(later, 1),
            vec![2],
            "no more than there is room for"
        );
        holds.hold(2, later, Held::of(&[])); // held again: only the new time counts
        assert_eq!(holds.due(soon, 10), Vec::<i64>::new());
        holds.lift(1);
        holds.clear(3);
        assert_eq!(holds.due(later, 10), vec![2]);
        assert!(!holds.is_held(1, now, &one));
    }
}
