//! The scheduler's parts: [`Slots`] (the chats being served), [`JournalSweep`]
//! (journal entries, a page of chats at a time) and [`FanOutCursor`] (the
//! chats of the walked release still to hand out); beside them
//! [`super::holds`] (chats whose pushes wait for a time).
//! [`super::Delivery`]'s loop asks each for a chat's next work while a slot
//! is free.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures::StreamExt;
use futures::stream::FuturesUnordered;

use super::fanout::FanOutPage;
use super::push::{Rendered, Served};
use crate::store::{JournalEntry, Store, StoreError};

/// Chats read from the journal at a time during a sweep.
const SWEEP_PAGE: usize = 256;

/// Work for one chat, running.
pub(super) type Running<'a> = Pin<Box<dyn Future<Output = Served> + Send + 'a>>;

/// Up to `capacity` chats served at once, never one chat twice at once.
pub(super) struct Slots<'a> {
    running: FuturesUnordered<Running<'a>>,
    busy: HashSet<i64>,
    /// Chats found busy by a sweep: served again when their current work ends.
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

    /// Starts `work` for `chat`, unless the chat is being served already.
    pub(super) fn start(&mut self, chat: i64, work: impl FnOnce() -> Running<'a>) -> bool {
        if !self.busy.insert(chat) {
            return false;
        }
        self.running.push(work());
        true
    }

    /// `chat` is being served from an older listing that may lack a push:
    /// serve it again as soon as that ends.
    pub(super) fn revisit(&mut self, chat: i64) {
        self.revisit.insert(chat);
    }

    /// The next work to end (`None` when none runs), and whether its chat
    /// must be served again.
    pub(super) async fn next_done(&mut self) -> Option<(Served, bool)> {
        let served = self.running.next().await?;
        self.busy.remove(&served.chat);
        let again = self.revisit.remove(&served.chat);
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
            let next = store.journal_chats(self.after, SWEEP_PAGE)?;
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

/// A page of the walk with its release rendered, shared by the page's pushes.
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
