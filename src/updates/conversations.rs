//! The command path, which nothing can stall: each chat's commands wait in a
//! short queue of their own, are answered in order by a task of their own,
//! and every reply waits for the limiter there, never in teloxide's
//! dispatcher (whose per-chat queue, once full, stops every chat).
//!
//! Every table is bounded: a chat queues at most [`Limits::per_chat`]
//! commands (the rest of a flood is dropped, with one "slow down" notice);
//! at most [`Limits::max_chats`] chats wait at once; a command older than
//! [`Limits::max_age`] when its turn comes is dropped unanswered; a
//! [`Sender`] gets [`Limits::user_budget`] commands per
//! [`Limits::budget_window`], across all chats: a person, or a chat that
//! speaks as itself (a channel sending as itself in groups, a group's
//! anonymous administrators), so speaking as a chat is no way around it. Replies take the limiter's reply slots
//! ([`Limiter::acquire_reply`]), ahead of pushes.
//!
//! Button presses ([`Conversations::accept_press`]) take the same queues and
//! the same budget as commands, so mashing a button costs no more than
//! typing. Telegram shows a spinner until a press is answered, so every
//! press is answered: by its work when it runs, else at once (over budget, a
//! full queue, waited too long) through a short queue of answers of its own
//! ([`ANSWERS_WAITING`] at most), which needs no reply slot.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::time::Instant;

use crate::config::Language;
use crate::runtime::shutdown::Shutdown;
use crate::runtime::ttl::TtlMap;
use crate::telegram::limiter::Limiter;
use crate::telegram::messenger::{Keyboard, Replier, SendError};
use crate::text::markup::MessageText;
use crate::tr;

/// One thing to say in answer. A message's text is a [`MessageText`]: no
/// reply or edit can be too long for Telegram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outgoing {
    /// A new message.
    Message {
        chat: i64,
        /// The forum topic the command came from, if any.
        thread: Option<i32>,
        text: MessageText,
        keyboard: Option<Keyboard>,
    },
    /// The bot's message `message_id` in `chat`, shown anew (a button turned a page).
    Edit {
        chat: i64,
        message_id: i32,
        text: MessageText,
        keyboard: Option<Keyboard>,
    },
    /// The answer to a button press (plain text; an alert when `alert`).
    Answer {
        callback: String,
        text: Option<String>,
        alert: bool,
    },
}

impl Outgoing {
    /// A message of `text` (Telegram HTML, fitted: [`MessageText::fit`])
    /// with no buttons.
    pub(crate) fn message(chat: i64, thread: Option<i32>, text: String) -> Outgoing {
        Outgoing::Message {
            chat,
            thread,
            text: MessageText::fit(text),
            keyboard: None,
        }
    }

    /// The chat whose reply slots it takes (`None`: an answer, which takes none).
    fn chat(&self) -> Option<i64> {
        match self {
            Outgoing::Message { chat, .. } | Outgoing::Edit { chat, .. } => Some(*chat),
            Outgoing::Answer { .. } => None,
        }
    }
}

/// A command's (or a button press's) work: run when its turn comes, it yields
/// what to send.
pub(crate) type Work = Box<dyn FnOnce() -> BoxFuture<'static, Vec<Outgoing>> + Send>;

/// Sends one thing; what [`Conversations`] is built on.
type SendFn = dyn Fn(Outgoing) -> BoxFuture<'static, Result<(), SendError>> + Send + Sync;

/// Answers to button presses waiting to go at once (beyond it, a press is
/// left to the client's own timeout: the bound on work a flood can cause).
pub(crate) const ANSWERS_WAITING: usize = 256;

/// The bounds of the command path.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    /// Commands one chat may have waiting.
    pub per_chat: usize,
    /// Chats that may have commands waiting at once.
    pub max_chats: usize,
    /// A command that waited longer is dropped: its answer would come too late.
    pub max_age: Duration,
    /// Commands a [`Sender`] may send per window, over all chats (a chat
    /// speaking as itself has a person's budget: `commands.per_user_per_minute`).
    pub user_budget: u32,
    pub budget_window: Duration,
    /// Senders whose budget is tracked at once.
    pub max_users: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            per_chat: 8,
            max_chats: 10_000,
            max_age: Duration::from_secs(60),
            user_budget: 20,
            budget_window: Duration::from_secs(60),
            max_users: 100_000,
        }
    }
}

/// The answer to a chat that floods, once per flood (the message id; in
/// the language of the sender whose message went past the bound).
pub(crate) const SLOW_DOWN: &str = "too-fast";
/// The answer to a user over their budget, once per window, in private
/// chats (the message id; in the user's language).
pub(crate) const OVER_BUDGET: &str = "over-budget";
/// The answer to a press that will not be served: over budget, a flood, a
/// busy bot (the message id; in the presser's language).
pub(crate) const PRESS_LATER: &str = "press-later";

/// What [`Conversations::accept`] did with a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Accepted {
    Queued,
    /// The chat's queue was full (a flood).
    ChatFull,
    /// The user used up their budget.
    OverBudget,
    /// Too many chats are waiting, or the bot is stopping.
    Busy,
}

/// Whose budget a command counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Sender {
    /// A person, by user id: their commands and presses, in every chat.
    Person(i64),
    /// A chat speaking as itself, by chat id: a channel sending as itself
    /// (in any group, or posting in itself), or a group's anonymous
    /// administrators, who all post as the group and so share its budget.
    Chat(i64),
}

/// The per-chat command queues; cheap to clone.
#[derive(Clone)]
pub(crate) struct Conversations {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    send: Arc<SendFn>,
    /// Answers to presses that go at once (see [`ANSWERS_WAITING`]).
    answers: tokio::sync::mpsc::Sender<Outgoing>,
    limiter: Arc<Limiter>,
    shutdown: Shutdown,
    limits: Limits,
}

struct State {
    /// A chat is here while its task runs: from its first queued command
    /// until its queue is empty.
    chats: HashMap<i64, ChatQueue>,
    /// Commands each sender sent in the current window, and whether they
    /// were told they are over budget.
    budgets: TtlMap<Sender, (u32, bool)>,
}

#[derive(Default)]
struct ChatQueue {
    waiting: VecDeque<Waiting>,
    /// The "slow down" notice of this flood is queued or sent.
    warned: bool,
    /// The bot was removed from the chat: send nothing more.
    forgotten: bool,
}

/// Work waiting its turn, and what to say if it never runs (a press still needs its answer).
struct Waiting {
    at: Instant,
    work: Work,
    unrun: Option<Outgoing>,
}

impl Conversations {
    /// Queues that answer through `replier`, within `limiter`'s reply slots.
    /// Starts the task that sends answers to presses (call it in a runtime).
    pub(crate) fn new<R: Replier>(
        replier: R,
        limiter: Arc<Limiter>,
        limits: Limits,
        shutdown: Shutdown,
    ) -> Conversations {
        let send: Arc<SendFn> = Arc::new(move |outgoing| {
            let replier = replier.clone();
            Box::pin(async move {
                match outgoing {
                    Outgoing::Message {
                        chat,
                        thread,
                        text,
                        keyboard,
                    } => {
                        replier
                            .reply(chat, thread, text.into_string(), keyboard)
                            .await
                    }
                    Outgoing::Edit {
                        chat,
                        message_id,
                        text,
                        keyboard,
                    } => {
                        replier
                            .edit(chat, message_id, text.into_string(), keyboard)
                            .await
                    }
                    Outgoing::Answer {
                        callback,
                        text,
                        alert,
                    } => replier.answer(callback, text, alert).await,
                }
            })
        });
        let (answers, waiting) = tokio::sync::mpsc::channel(ANSWERS_WAITING);
        tokio::spawn(send_answers(waiting, send.clone(), shutdown.clone()));
        Conversations {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    chats: HashMap::new(),
                    budgets: TtlMap::new(limits.budget_window, limits.max_users),
                }),
                send,
                answers,
                limiter,
                shutdown,
                limits,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Plain tables: a panicked holder leaves them usable.
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a command from `sender` in `chat`, topic `thread`, within the
    /// sender's budget; returns at once. Never waits. A refusal is said in
    /// `lang`, the sender's language.
    pub(crate) fn accept(
        &self,
        chat: i64,
        thread: Option<i32>,
        sender: Sender,
        lang: Language,
        work: Work,
    ) -> Accepted {
        if self.inner.shutdown.is_requested() {
            return Accepted::Busy;
        }
        let now = Instant::now();
        let mut state = self.lock();
        if let Some(told) = Self::spend(&self.inner.limits, &mut state, sender, now) {
            // Told once per window, and only a person in their private chat:
            // in a group it would be noise to everyone else.
            let tell = !*told && sender == Sender::Person(chat);
            *told |= tell;
            if tell {
                self.over_budget(&mut state, chat, thread, lang, now);
            }
            return Accepted::OverBudget;
        }
        self.queue(&mut state, chat, Waiting::new(work, now), lang)
    }

    /// Queues the work of `user`'s press of button `callback` on a message
    /// in `chat`, within the same bounds and budget as commands; returns at
    /// once. The work's output should answer the press; a press that is not
    /// queued, or waits too long, is answered [`PRESS_LATER`] here, in `lang`.
    pub(crate) fn accept_press(
        &self,
        chat: i64,
        user: i64,
        callback: String,
        lang: Language,
        work: Work,
    ) -> Accepted {
        let later = Outgoing::Answer {
            callback,
            text: Some(tr!(lang, PRESS_LATER)),
            alert: false,
        };
        let accepted = if self.inner.shutdown.is_requested() {
            Accepted::Busy
        } else {
            let now = Instant::now();
            let mut state = self.lock();
            let presser = Sender::Person(user);
            if Self::spend(&self.inner.limits, &mut state, presser, now).is_some() {
                Accepted::OverBudget
            } else {
                let waiting = Waiting {
                    unrun: Some(later.clone()),
                    ..Waiting::new(work, now)
                };
                self.queue(&mut state, chat, waiting, lang)
            }
        };
        if accepted != Accepted::Queued {
            self.answer_soon(later);
        }
        accepted
    }

    /// Counts one command (or press) against `sender`'s budget: `None` when
    /// it is within it; else whether the sender was told so this window.
    fn spend<'s>(
        limits: &Limits,
        state: &'s mut State,
        sender: Sender,
        now: Instant,
    ) -> Option<&'s mut bool> {
        let over = match state.budgets.get_mut(&sender, now) {
            Some((used, _)) if *used >= limits.user_budget => true,
            Some((used, _)) => {
                *used += 1;
                false
            }
            None => {
                state.budgets.insert(sender, (1, false), now);
                false
            }
        };
        if !over {
            return None;
        }
        state.budgets.get_mut(&sender, now).map(|(_, told)| told)
    }

    /// Sends the answer to a press without waiting: dropped when
    /// [`ANSWERS_WAITING`] answers wait already.
    fn answer_soon(&self, answer: Outgoing) {
        if self.inner.answers.try_send(answer).is_err() {
            tracing::debug!("too many answers to button presses waiting; one is dropped");
        }
    }

    /// Queues a message of the bot's own (a welcome) for `chat`, in turn
    /// with its commands and within the same bounds; counts against no user.
    pub(crate) fn notify(&self, chat: i64, thread: Option<i32>, text: String) -> Accepted {
        if self.inner.shutdown.is_requested() {
            return Accepted::Busy;
        }
        let now = Instant::now();
        let mut state = self.lock();
        self.queue(
            &mut state,
            chat,
            Waiting::new(notice(chat, thread, text), now),
            Language::DEFAULT,
        )
    }

    /// Drops what `chat` has waiting (the bot was removed from it).
    pub(crate) fn forget(&self, chat: i64) {
        if let Some(queue) = self.lock().chats.get_mut(&chat) {
            for waiting in queue.waiting.drain(..) {
                if let Some(answer) = waiting.unrun {
                    self.answer_soon(answer);
                }
            }
            queue.forgotten = true;
        }
    }

    /// How many chats have commands waiting or being answered (for tests).
    #[cfg(test)]
    pub(crate) fn busy_chats(&self) -> usize {
        self.lock().chats.len()
    }

    fn queue(&self, state: &mut State, chat: i64, queued: Waiting, lang: Language) -> Accepted {
        let limits = &self.inner.limits;
        let chats_waiting = state.chats.len();
        match state.chats.get_mut(&chat) {
            Some(queue) if queue.waiting.len() >= limits.per_chat => {
                // Presses are answered instead: a notice in the chat would
                // be noise to everyone else in it.
                if !queue.warned && queued.unrun.is_none() {
                    queue.warned = true;
                    // One past the bound, once per flood.
                    let slow_down = notice(chat, None, tr!(lang, SLOW_DOWN));
                    queue.waiting.push_back(Waiting::new(slow_down, queued.at));
                }
                Accepted::ChatFull
            }
            Some(queue) => {
                queue.waiting.push_back(queued);
                Accepted::Queued
            }
            None if chats_waiting >= limits.max_chats => Accepted::Busy,
            None => {
                let mut queue = ChatQueue::default();
                queue.waiting.push_back(queued);
                state.chats.insert(chat, queue);
                tokio::spawn(self.clone().answer(chat));
                Accepted::Queued
            }
        }
    }

    /// Tells a user over their budget so, in `lang`.
    fn over_budget(
        &self,
        state: &mut State,
        chat: i64,
        thread: Option<i32>,
        lang: Language,
        now: Instant,
    ) {
        let text = tr!(lang, OVER_BUDGET);
        let _ = self.queue(
            state,
            chat,
            Waiting::new(notice(chat, thread, text), now),
            lang,
        );
    }

    /// The task of one chat: answers its commands in order until its queue
    /// is empty (or the bot stops).
    async fn answer(self, chat: i64) {
        loop {
            let next = {
                let mut state = self.lock();
                let queue = state.chats.get_mut(&chat);
                match queue.and_then(|q| q.waiting.pop_front()) {
                    Some(next) if !self.inner.shutdown.is_requested() => next,
                    next => {
                        // Stopping: presses that will not run are answered still.
                        let rest = state.chats.remove(&chat).map(|q| q.waiting);
                        for waiting in next.into_iter().chain(rest.into_iter().flatten()) {
                            if let Some(answer) = waiting.unrun {
                                self.answer_soon(answer);
                            }
                        }
                        return;
                    }
                }
            };
            if next.at.elapsed() > self.inner.limits.max_age {
                tracing::debug!(chat, "a command waited too long; dropped unanswered");
                if let Some(answer) = next.unrun {
                    self.answer_soon(answer);
                }
                continue;
            }
            for outgoing in (next.work)().await {
                self.send(outgoing).await;
            }
        }
    }

    /// Sends one reply within the reply slots (an answer to a press takes
    /// none); one retry after a short flood wait, else the reply is dropped
    /// (logged).
    async fn send(&self, outgoing: Outgoing) {
        let inner = &self.inner;
        let Some(chat) = outgoing.chat() else {
            if let Err(e) = (inner.send)(outgoing).await {
                tracing::debug!(error = ?e, "could not answer a button press");
            }
            return;
        };
        for attempt in 0..2 {
            if !inner.limiter.acquire_reply(chat, &inner.shutdown).await {
                return;
            }
            let forgotten = self.lock().chats.get(&chat).is_some_and(|q| q.forgotten);
            if forgotten {
                return;
            }
            match (inner.send)(outgoing.clone()).await {
                Ok(()) => return,
                Err(SendError::Retry {
                    after: Some(after), ..
                }) if attempt == 0 && after <= Duration::from_secs(10) => {
                    inner.limiter.flood_limited(chat, after);
                    tokio::select! {
                        _ = tokio::time::sleep(after) => {}
                        _ = inner.shutdown.requested() => return,
                    }
                }
                Err(e) => {
                    tracing::warn!(chat, error = ?e, "could not send a reply");
                    return;
                }
            }
        }
    }
}

impl Waiting {
    fn new(work: Work, at: Instant) -> Waiting {
        Waiting {
            at,
            work,
            unrun: None,
        }
    }
}

/// Sends answers to presses as they come, one at a time, until shutdown.
async fn send_answers(
    mut waiting: tokio::sync::mpsc::Receiver<Outgoing>,
    send: Arc<SendFn>,
    shutdown: Shutdown,
) {
    loop {
        let answer = tokio::select! {
            biased;
            answer = waiting.recv() => answer,
            _ = shutdown.requested() => break,
        };
        let Some(answer) = answer else { return };
        if let Err(e) = send(answer).await {
            tracing::debug!(error = ?e, "could not answer a button press");
        }
    }
    // Stopping: presses still coming in (refused, or dropped from their
    // chat's queue) are answered while they come, or a client spins on.
    while let Ok(Some(answer)) = tokio::time::timeout(ANSWER_GRACE, waiting.recv()).await {
        if let Err(e) = send(answer).await {
            tracing::debug!(error = ?e, "could not answer a button press");
        }
    }
}

/// How long answers to presses still go once the bot is stopping, after
/// the last one.
const ANSWER_GRACE: Duration = Duration::from_secs(1);

/// Work that only sends `text`.
fn notice(chat: i64, thread: Option<i32>, text: String) -> Work {
    Box::new(move || Box::pin(async move { vec![Outgoing::message(chat, thread, text)] }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RateLimits;

    /// One message sent: chat, topic, text, when.
    type Record = (i64, Option<i32>, String, Instant);
    /// One press answered: its id, and what it was told.
    type Answered = (String, Option<String>);

    /// Records what was sent, and when; answers to presses apart.
    #[derive(Clone, Default)]
    struct Recorder {
        sent: Arc<Mutex<Vec<Record>>>,
        answers: Arc<Mutex<Vec<Answered>>>,
    }

    impl Replier for Recorder {
        async fn reply(
            &self,
            chat: i64,
            thread: Option<i32>,
            text: String,
            _keyboard: Option<Keyboard>,
        ) -> Result<(), SendError> {
            self.sent
                .lock()
                .unwrap()
                .push((chat, thread, text, Instant::now()));
            Ok(())
        }

        async fn edit(
            &self,
            chat: i64,
            message_id: i32,
            text: String,
            keyboard: Option<Keyboard>,
        ) -> Result<(), SendError> {
            self.reply(chat, None, format!("edit {message_id}: {text}"), keyboard)
                .await
        }

        async fn answer(
            &self,
            callback: String,
            text: Option<String>,
            _alert: bool,
        ) -> Result<(), SendError> {
            self.answers.lock().unwrap().push((callback, text));
            Ok(())
        }
    }

    impl Recorder {
        fn to(&self, chat: i64) -> Vec<(String, Instant)> {
            self.sent
                .lock()
                .unwrap()
                .iter()
                .filter(|m| m.0 == chat)
                .map(|m| (m.2.clone(), m.3))
                .collect()
        }
    }

    fn echo(chat: i64, text: &str) -> Work {
        let text = text.to_string();
        Box::new(move || Box::pin(async move { vec![Outgoing::message(chat, None, text)] }))
    }

    /// A press's work: answers it, and edits message 1 in `chat`.
    fn turn_page(chat: i64, callback: &str) -> Work {
        let callback = callback.to_string();
        Box::new(move || {
            Box::pin(async move {
                vec![
                    Outgoing::Answer {
                        callback,
                        text: None,
                        alert: false,
                    },
                    Outgoing::Edit {
                        chat,
                        message_id: 1,
                        text: MessageText::fit("page".into()),
                        keyboard: None,
                    },
                ]
            })
        })
    }

    fn conversations(
        limits: Limits,
    ) -> (
        Conversations,
        Recorder,
        crate::runtime::shutdown::ShutdownTrigger,
    ) {
        let recorder = Recorder::default();
        let (trigger, shutdown) = Shutdown::new();
        let limiter = Arc::new(Limiter::new(Some(RateLimits::telegram(30.0))));
        (
            Conversations::new(recorder.clone(), limiter, limits, shutdown),
            recorder,
            trigger,
        )
    }

    async fn settle() {
        tokio::time::sleep(Duration::from_secs(120)).await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_flooding_chat_keeps_a_few_and_hears_slow_down_once_while_others_are_answered() {
        let (talks, recorder, _stop) = conversations(Limits::default());
        let start = Instant::now();
        let (flooder, other) = (1, 2);
        let mut outcomes = Vec::new();
        for n in 0..100 {
            // A hundred people at once: no one's budget is what stops this flood.
            outcomes.push(talks.accept(
                flooder,
                None,
                Sender::Person(1_000 + n),
                Language::En,
                echo(flooder, &format!("{n}")),
            ));
        }
        assert_eq!(
            talks.accept(
                other,
                None,
                Sender::Person(2),
                Language::En,
                echo(other, "time")
            ),
            Accepted::Queued
        );
        let queued = outcomes.iter().filter(|a| **a == Accepted::Queued).count();
        assert_eq!(queued, 8);
        assert!(outcomes[8..].iter().all(|a| *a == Accepted::ChatFull));
        settle().await;
        let answered = recorder.to(other);
        assert_eq!(answered.len(), 1);
        // Within a few global slots, not behind the flooder's one-a-second replies.
        assert!(
            answered[0].1 - start <= Duration::from_millis(100),
            "{:?}",
            answered[0].1 - start
        );
        let flood: Vec<String> = recorder.to(flooder).into_iter().map(|m| m.0).collect();
        assert_eq!(flood.len(), 9, "{flood:?}");
        assert_eq!(
            flood[..8],
            (0..8).map(|n| n.to_string()).collect::<Vec<_>>()
        );
        assert_eq!(flood[8], tr!(Language::En, SLOW_DOWN));
        assert_eq!(talks.busy_chats(), 0, "finished chats leave the table");
    }

    #[tokio::test(start_paused = true)]
    async fn a_user_has_a_budget_across_chats() {
        let (talks, recorder, _stop) = conversations(Limits {
            per_chat: 100,
            ..Limits::default()
        });
        let user = 7;
        let mut queued = 0;
        for n in 0..30 {
            // Alternating between a group and the private chat.
            let chat = if n % 2 == 0 { -50 } else { user };
            if talks.accept(
                chat,
                None,
                Sender::Person(user),
                Language::En,
                echo(chat, "x"),
            ) == Accepted::Queued
            {
                queued += 1;
            }
        }
        assert_eq!(queued, 20);
        settle().await;
        let private: Vec<String> = recorder.to(user).into_iter().map(|m| m.0).collect();
        assert_eq!(
            private
                .iter()
                .filter(|t| **t == tr!(Language::En, OVER_BUDGET))
                .count(),
            1,
            "{private:?}"
        );
        assert!(
            recorder
                .to(-50)
                .iter()
                .all(|m| m.0 != tr!(Language::En, OVER_BUDGET)),
            "never told in a group"
        );
        // A new window, a new budget.
        assert_eq!(
            talks.accept(
                user,
                None,
                Sender::Person(user),
                Language::En,
                echo(user, "y")
            ),
            Accepted::Queued
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_chat_speaking_as_itself_has_a_budget_across_groups_and_is_never_told() {
        let (talks, recorder, _stop) = conversations(Limits::default());
        // A channel "sends as" itself in 30 groups, a person in the 31st.
        let channel = Sender::Chat(-100_999);
        let outcomes: Vec<Accepted> = (0..30)
            .map(|n| {
                let group = -200 - n;
                talks.accept(group, None, channel, Language::En, echo(group, "time"))
            })
            .collect();
        let queued = outcomes.iter().filter(|a| **a == Accepted::Queued).count();
        assert_eq!(queued, 20, "the default budget");
        assert!(outcomes[20..].iter().all(|a| *a == Accepted::OverBudget));
        // The chat's budget is its own: the group's, or a person's, is untouched.
        assert_eq!(
            talks.accept(
                -200,
                None,
                Sender::Chat(-200),
                Language::En,
                echo(-200, "a")
            ),
            Accepted::Queued
        );
        assert_eq!(
            talks.accept(-201, None, Sender::Person(7), Language::En, echo(-201, "b")),
            Accepted::Queued
        );
        settle().await;
        let sent = recorder.sent.lock().unwrap().clone();
        assert_eq!(sent.len(), 22, "{sent:?}");
        assert!(
            sent.iter().all(|m| m.2 != tr!(Language::En, OVER_BUDGET)),
            "never told: no chat of its own to tell it in"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_number_of_waiting_chats_is_bounded_and_stale_commands_are_dropped() {
        let (talks, recorder, _stop) = conversations(Limits {
            max_chats: 3,
            max_age: Duration::from_secs(5),
            ..Limits::default()
        });
        // Each chat's first reply goes at once; its second waits a second.
        for chat in 1..=3 {
            assert_eq!(
                talks.accept(
                    chat,
                    None,
                    Sender::Chat(chat),
                    Language::En,
                    echo(chat, "a")
                ),
                Accepted::Queued
            );
        }
        assert_eq!(
            talks.accept(4, None, Sender::Chat(4), Language::En, echo(4, "a")),
            Accepted::Busy
        );
        // A chat whose replies must wait for its one-a-second gap: the 8th
        // waits about 7 s, past max_age, and is dropped.
        for n in 0..7 {
            talks.accept(
                1,
                None,
                Sender::Chat(1),
                Language::En,
                echo(1, &format!("{n}")),
            );
        }
        settle().await;
        let to_one = recorder.to(1);
        assert!(to_one.len() < 8, "{} answers", to_one.len());
        assert!(to_one.len() >= 5, "{} answers", to_one.len());
        assert_eq!(talks.busy_chats(), 0);
        assert_eq!(
            talks.accept(4, None, Sender::Chat(4), Language::En, echo(4, "a")),
            Accepted::Queued
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_forgotten_chat_gets_nothing_more() {
        let (talks, recorder, _stop) = conversations(Limits::default());
        for n in 0..5 {
            talks.accept(
                -9,
                None,
                Sender::Chat(-9),
                Language::En,
                echo(-9, &format!("{n}")),
            );
        }
        tokio::task::yield_now().await;
        talks.forget(-9);
        settle().await;
        assert!(recorder.to(-9).len() <= 1, "{:?}", recorder.to(-9));
    }

    #[tokio::test(start_paused = true)]
    async fn a_mashed_button_is_answered_every_time_but_served_within_the_budget() {
        let (talks, recorder, _stop) = conversations(Limits {
            per_chat: 100,
            ..Limits::default()
        });
        let start = Instant::now();
        let (masher, other) = (7, 8);
        let outcomes: Vec<Accepted> = (0..100)
            .map(|n| {
                let id = format!("q{n}");
                talks.accept_press(
                    masher,
                    masher,
                    id.clone(),
                    Language::En,
                    turn_page(masher, &id),
                )
            })
            .collect();
        assert_eq!(
            talks.accept(
                other,
                None,
                Sender::Person(other),
                Language::En,
                echo(other, "time")
            ),
            Accepted::Queued
        );
        let served = outcomes.iter().filter(|a| **a == Accepted::Queued).count();
        assert_eq!(served, 20, "the default budget");
        assert!(outcomes[20..].iter().all(|a| *a == Accepted::OverBudget));
        settle().await;
        let answered = recorder.answers.lock().unwrap().clone();
        assert_eq!(answered.len(), 100, "every press is answered");
        let later = answered
            .iter()
            .filter(|(_, text)| text.as_deref() == Some(tr!(Language::En, PRESS_LATER).as_str()))
            .count();
        assert_eq!(later, 80);
        assert_eq!(recorder.to(masher).len(), 20, "one edit per served press");
        assert!(
            recorder
                .to(masher)
                .iter()
                .all(|m| m.0 != tr!(Language::En, OVER_BUDGET)),
            "presses are answered, not told in the chat"
        );
        let to_other = recorder.to(other);
        assert_eq!(to_other.len(), 1);
        assert!(to_other[0].1 - start <= Duration::from_millis(100));
    }

    #[tokio::test(start_paused = true)]
    async fn a_press_that_waits_too_long_or_finds_the_queue_full_is_still_answered() {
        let (talks, recorder, _stop) = conversations(Limits {
            max_age: Duration::from_secs(5),
            ..Limits::default()
        });
        // Eight pages edited in one chat take eight of its one-a-second
        // slots: the last ones wait past max_age; the rest find it full.
        let outcomes: Vec<Accepted> = (0..12)
            .map(|n| {
                let id = format!("q{n}");
                talks.accept_press(-5, 100 + n, id.clone(), Language::En, turn_page(-5, &id))
            })
            .collect();
        assert_eq!(
            outcomes
                .iter()
                .filter(|a| **a == Accepted::ChatFull)
                .count(),
            4
        );
        settle().await;
        let answered = recorder.answers.lock().unwrap().clone();
        assert_eq!(answered.len(), 12, "{answered:?}");
        let mut ids: Vec<&str> = answered.iter().map(|(id, _)| id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 12, "each press answered once");
        assert!(
            recorder
                .to(-5)
                .iter()
                .all(|m| m.0 != tr!(Language::En, SLOW_DOWN)),
            "no slow-down notice for presses"
        );
        assert!(recorder.to(-5).len() < 8, "some waited too long");
    }

    #[tokio::test(start_paused = true)]
    async fn presses_waiting_or_arriving_when_the_bot_stops_are_still_answered() {
        let (talks, recorder, stop) = conversations(Limits {
            per_chat: 100,
            ..Limits::default()
        });
        // Pages edited in one chat go one a second: most still wait when the
        // bot is told to stop.
        for n in 0..6 {
            let id = format!("q{n}");
            talks.accept_press(-5, 100 + n, id.clone(), Language::En, turn_page(-5, &id));
        }
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        stop.trigger();
        let late = talks.accept_press(-5, 200, "late".into(), Language::En, turn_page(-5, "late"));
        assert_eq!(late, Accepted::Busy);
        settle().await;
        let answered = recorder.answers.lock().unwrap().clone();
        let mut ids: Vec<&str> = answered.iter().map(|(id, _)| id.as_str()).collect();
        ids.sort();
        assert_eq!(
            ids,
            ["late", "q0", "q1", "q2", "q3", "q4", "q5"],
            "each press answered once: {answered:?}"
        );
    }
}
