//! The scheduler's parts: [`Slots`] (the chats being served), [`JournalSweep`]
//! (journal entries, a page of chats at a time), [`FanOutCursor`] (the
//! chats of the walked release still to hand out) and [`Holds`] (chats whose
//! pushes wait for a time). [`super::Delivery`]'s loop asks each for its next
//! job while a slot is free.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::fanout::FanOutPage;
use super::push::{Rendered, Served};
use crate::store::{JournalEntry, Store, StoreError};

/// Chats read from the journal at a time during a sweep.
const SWEEP_PAGE: usize = 256;

/// A job for one chat, running.
pub(super) type Running<'a> = Pin<Box<dyn Future<Output = Served> + Send + 'a>>;

/// Up to `capacity` chats served at once, never one chat twice at once.
pub(super) struct Slots<'a> {
    running: FuturesUnordered<Running<'a>>,
    busy: HashSet<i64>,
    /// Chats found busy by a sweep: served again when their current job ends.
    revisit: HashSet<i64>,
    capacity: usize,
}

impl<'a> Slots<'a> {
    pub(super) fn new(capacity: usize) -> Slots<'a> {
        Slots {
            running: FuturesUnordered::new(),
            busy: HashSet::new(),
            revisit: HashSet::new(),
            capacity,
        }
    }

    pub(super) fn has_room(&self) -> bool {
        self.running.len() < self.capacity
    }

    pub(super) fn is_empty(&self) -> bool {
        self.running.is_empty()
    }

    pub(super) fn is_busy(&self, chat: i64) -> bool {
        self.busy.contains(&chat)
    }

    /// Starts `job` for `chat`, unless the chat is being served already.
    pub(super) fn start(&mut self, chat: i64, job: impl FnOnce() -> Running<'a>) -> bool {
        if !self.busy.insert(chat) {
            return false;
        }
        self.running.push(job());
        true
    }

    /// `chat` is being served from an older listing that may lack a push:
    /// serve it again as soon as that ends.
    pub(super) fn revisit(&mut self, chat: i64) {
        self.revisit.insert(chat);
    }

    /// The next job to end (`None` when none runs), and whether its chat must
    /// be served again.
    pub(super) async fn next_done(&mut self) -> Option<(Served, bool)> {
        let served = self.running.next().await?;
        self.busy.remove(&served.0);
        let again = self.revisit.remove(&served.0);
        Some((served, again))
    }
}

/// A pass over the journal in chat order, a page of chats at a time, that
/// starts over when the journal changed behind it.
#[derive(Default)]
pub(super) struct JournalSweep {
    listed: VecDeque<(i64, Vec<JournalEntry>)>,
    after: Option<i64>,
    /// This pass reached the end of the journal.
    exhausted: bool,
    /// The journal changed behind the pass's cursor: pass again once done.
    rescan: bool,
}

impl JournalSweep {
    /// The next chat with journal entries, with its entries oldest first.
    pub(super) fn next_chat(
        &mut self,
        store: &Store,
    ) -> Result<Option<(i64, Vec<JournalEntry>)>, StoreError> {
        if self.listed.is_empty() && self.exhausted && self.rescan {
            *self = JournalSweep::default();
        }
        if self.listed.is_empty() && !self.exhausted {
            let next = store.pending_chats(self.after, SWEEP_PAGE)?;
            match next.last() {
                Some((chat, _)) => self.after = Some(*chat),
                None => self.exhausted = true,
            }
            self.listed.extend(next);
        }
        Ok(self.listed.pop_front())
    }

    /// Entries were added where this pass may have passed: pass again.
    pub(super) fn rescan(&mut self) {
        self.rescan = true;
    }

    /// Whether this pass has served everything, with nothing to pass again for.
    pub(super) fn is_done(&self) -> bool {
        self.listed.is_empty() && self.exhausted && !self.rescan
    }

    /// Whether there is more to do right away.
    pub(super) fn has_more(&self) -> bool {
        self.rescan
    }
}

/// A page of the walk with its release rendered, shared by the page's jobs.
pub(super) type RenderedPage = Arc<(FanOutPage, Arc<Rendered>)>;

/// The page of the walked release being handed out, and its chats not yet served.
pub(super) struct FanOutCursor {
    /// The page read last.
    pub(super) page: Option<RenderedPage>,
    pub(super) chats: VecDeque<i64>,
    /// The outbox may hold releases to fan out.
    pub(super) active: bool,
}

impl FanOutCursor {
    pub(super) fn new() -> FanOutCursor {
        FanOutCursor {
            page: None,
            chats: VecDeque::new(),
            active: true,
        }
    }

    /// The next chat of the current page, with the page; `None` when the
    /// page is used up (read the next).
    pub(super) fn next_chat(&mut self) -> Option<(i64, RenderedPage)> {
        let page = self.page.clone()?;
        let chat = self.chats.pop_front()?;
        Some((chat, page))
    }

    /// Hands out `chats` of `page` next.
    pub(super) fn load(&mut self, page: FanOutPage, rendered: Arc<Rendered>, chats: Vec<i64>) {
        self.page = Some(Arc::new((page, rendered)));
        self.chats = chats.into();
    }
}

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

/// Which entries a hold was made for: how many, and the last one's key.
pub(super) type Held = (usize, Option<(u64, Option<i32>)>);

/// The [`Held`] of a chat whose journal entries are `entries`, oldest first.
pub(super) fn held(entries: &[JournalEntry]) -> Held {
    (entries.len(), entries.last().map(|e| (e.seq, e.thread)))
}

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
            .is_some_and(|(until, entries)| *until > now && *entries == held(listed))
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
        };
        let one = vec![entry(5, None)];
        let holds = Holds::default();
        let now = Instant::now();
        let (soon, later) = (now + Duration::from_secs(1), now + Duration::from_secs(9));
        holds.hold(1, later, held(&one));
        holds.hold(2, soon, held(&[]));
        holds.hold(3, later, held(&[]));
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
        holds.hold(2, later, held(&[])); // held again: only the new time counts
        assert_eq!(holds.due(soon, 10), Vec::<i64>::new());
        holds.lift(1);
        holds.clear(3);
        assert_eq!(holds.due(later, 10), vec![2]);
        assert!(!holds.is_held(1, now, &one));
    }
}
