//! A fake Telegram Bot API over loopback, speaking the real JSON shapes so the
//! unchanged binary works against it: getMe, getWebhookInfo, setWebhook (its
//! parameters recorded), deleteWebhook,
//! setMyCommands, getUpdates (long polling with offset), sendMessage (with
//! `message_thread_id`), getChat and getChatMember over chats the test
//! declares; `reply_markup` recorded, editMessageText (with Telegram's
//! "message is not modified") and answerCallbackQuery. Updates: messages in
//! private chats, groups and forum topics, from anonymous admins
//! (`sender_chat`), channel posts, `my_chat_member`, and `callback_query`
//! (a button pressed). Faults can be queued per chat to imitate Telegram's errors.
//! Like Telegram, it refuses a text longer than 4,096 UTF-16 units of what it
//! shows ("message is too long").
//!
//! The methods are in `methods.rs` (one function each), what users do in
//! `updates.rs`. Tests wait on the fake's state, never on the bot's log:
//! [`FakeTelegram::until`] re-checks a condition whenever the fake has
//! answered a request or queued an update.

mod methods;
mod updates;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::Notify;

use super::http;
use methods::{BURST, Bucket};
pub use methods::{MAX_MESSAGE_UTF16, shown_len};

/// The only failure bound of a wait on the fake: generous, so a busy machine
/// never fails a test that would pass, and no test measures time with it.
pub const BOUND: Duration = Duration::from_secs(60);

pub const TOKEN: &str = "123456:TEST-token_ok";
pub const BOT_USERNAME: &str = "embassy_test_bot";
pub const BOT_ID: i64 = 123456;
/// Telegram's service account that anonymous group admins post as.
const GROUP_ANONYMOUS_BOT: i64 = 1_087_968_824;

/// One message the bot sent.
#[derive(Debug, Clone)]
pub struct Sent {
    pub chat_id: i64,
    pub text: String,
    pub parse_mode: Option<String>,
    /// Sent with `allow_paid_broadcast: true`.
    pub paid: bool,
    /// The forum topic it went to.
    pub thread: Option<i64>,
    /// `link_preview_options.is_disabled` as sent (`None`: not sent).
    pub preview_disabled: Option<bool>,
    /// The id Telegram gave it.
    pub message_id: i64,
    /// Its buttons, `(label, callback data)` by row; changed by edits.
    pub keyboard: Vec<Vec<(String, String)>>,
}

impl Sent {
    /// The data of the button whose label starts with `label`, if it has one.
    pub fn button(&self, label: &str) -> Option<String> {
        self.keyboard
            .iter()
            .flatten()
            .find(|(l, _)| l.starts_with(label))
            .map(|(_, data)| data.clone())
    }

    /// Every button's label, in order.
    pub fn labels(&self) -> Vec<String> {
        self.keyboard
            .iter()
            .flatten()
            .map(|(l, _)| l.clone())
            .collect()
    }
}

/// One editMessageText the bot made (that changed something).
#[derive(Debug, Clone)]
pub struct Edit {
    pub chat_id: i64,
    pub message_id: i64,
    pub text: String,
}

/// One answerCallbackQuery.
#[derive(Debug, Clone)]
pub struct Answer {
    pub callback: String,
    pub text: Option<String>,
    pub alert: bool,
}

/// Where a pressed button's message is, as the `callback_query` names it.
#[derive(Debug, Clone, Copy)]
pub enum Place {
    Private,
    Group(i64),
    /// A supergroup; with a thread, a forum topic in it.
    Supergroup(i64, Option<i64>),
    Channel(i64),
}

/// A chat getChat knows.
#[derive(Debug, Clone)]
pub struct ChatSpec {
    pub id: i64,
    /// "group", "supergroup" or "channel".
    pub kind: &'static str,
    pub title: String,
    pub username: Option<String>,
    pub is_forum: bool,
}

/// Someone's standing in a chat, as getChatMember answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Creator,
    /// An administrator; `can_post` is the channel right to post.
    Admin {
        can_post: bool,
    },
    Member,
    Left,
    Kicked,
}

impl Status {
    fn json(self, user: Value) -> Value {
        match self {
            Status::Creator => json!({"user": user, "status": "creator", "is_anonymous": false}),
            Status::Admin { can_post } => json!({
                "user": user, "status": "administrator", "can_be_edited": false,
                "is_anonymous": false, "can_manage_chat": true, "can_delete_messages": true,
                "can_manage_video_chats": true, "can_restrict_members": true,
                "can_promote_members": false, "can_change_info": true, "can_invite_users": true,
                "can_post_stories": false, "can_edit_stories": false, "can_delete_stories": false,
                "can_post_messages": can_post, "can_edit_messages": can_post,
                "can_pin_messages": true, "can_manage_topics": false
            }),
            Status::Member => json!({"user": user, "status": "member"}),
            Status::Left => json!({"user": user, "status": "left"}),
            Status::Kicked => json!({"user": user, "status": "kicked", "until_date": 0}),
        }
    }
}

/// A scripted failure for the next sendMessage to a chat.
#[derive(Debug, Clone)]
pub enum Fault {
    /// HTTP status and Telegram's description, e.g. (403, "Forbidden: bot was blocked by the user").
    Error(u16, &'static str),
    /// 429 with parameters.retry_after.
    RetryAfter(u64),
    /// 400 with parameters.migrate_to_chat_id.
    MigrateTo(i64),
    /// Close the connection without answering.
    Drop,
    /// Answer normally, but only after this long (a slow Telegram).
    Delay(Duration),
}

#[derive(Default)]
struct State {
    updates: Vec<Value>,
    next_update_id: i64,
    next_message_id: i64,
    sent: Vec<Sent>,
    /// The menu of each setMyCommands, by its `language_code` (`None`: the default menu).
    commands: HashMap<Option<String>, Value>,
    faults: HashMap<i64, VecDeque<Fault>>,
    calls: HashMap<String, usize>,
    /// Every sendMessage and editMessageText waits this long before answering
    /// (to stretch a fan-out, or a pass of edits).
    send_delay: Duration,
    /// The parameters of the last setWebhook call.
    webhook: Option<Value>,
    /// Chats getChat knows, by id.
    chats: HashMap<i64, ChatSpec>,
    /// (chat, user) → standing; anyone else in a known group is a member.
    members: HashMap<(i64, i64), Status>,
    /// Basic groups that became supergroups: old id → new id.
    upgraded: HashMap<i64, i64>,
    /// The `allowed_updates` of the last getUpdates that named them.
    allowed_updates: Option<Value>,
    /// When each sendMessage was accepted, by chat.
    sent_at: Vec<(i64, tokio::time::Instant)>,
    /// Refuse sends over Telegram's limits with 429s, counted (see `over_limits`).
    strict: Option<Bucket>,
    too_many: usize,
    edits: Vec<Edit>,
    answers: Vec<Answer>,
    next_callback: u64,
    /// Every request answered with an error: (method, Telegram's description).
    refused: Vec<(String, String)>,
}

/// The state and the two bells: `queued` rings getUpdates when an update is
/// queued, `seen` rings [`FakeTelegram::until`] after every answered request.
struct Shared {
    state: Mutex<State>,
    queued: Notify,
    seen: Notify,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("fake telegram state")
    }
}

#[derive(Clone)]
pub struct FakeTelegram {
    pub url: String,
    shared: Arc<Shared>,
}

impl FakeTelegram {
    pub async fn start() -> FakeTelegram {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                next_update_id: 1,
                next_message_id: 1,
                ..State::default()
            }),
            queued: Notify::new(),
            seen: Notify::new(),
        });
        let s = shared.clone();
        let handler: http::Handler = Arc::new(move |req| {
            let s = s.clone();
            Box::pin(async move { methods::handle(req, s).await })
        });
        let addr = http::serve(handler).await;
        FakeTelegram {
            url: format!("http://{addr}"),
            shared,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.lock()
    }

    /// Tells the bot an update is waiting, and waiters that the state changed.
    fn queued(&self) {
        self.shared.queued.notify_waiters();
        self.shared.seen.notify_waiters();
    }

    /// Waits until `check` finds what it looks for in the fake's state, and
    /// returns it. Re-checked after every request the fake answers (and every
    /// 100 ms, for conditions on other things); `None` after [`BOUND`].
    pub async fn try_until<T>(
        &self,
        mut check: impl FnMut(&FakeTelegram) -> Option<T>,
    ) -> Option<T> {
        let deadline = tokio::time::Instant::now() + BOUND;
        loop {
            let seen = self.shared.seen.notified();
            tokio::pin!(seen);
            seen.as_mut().enable();
            if let Some(found) = check(self) {
                return Some(found);
            }
            let tick = tokio::time::Instant::now() + Duration::from_millis(100);
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            let _ = tokio::time::timeout_at(tick.min(deadline), seen).await;
        }
    }

    /// [`FakeTelegram::try_until`], panicking with `what` and the messages
    /// sent so far after [`BOUND`].
    pub async fn until<T>(&self, what: &str, check: impl FnMut(&FakeTelegram) -> Option<T>) -> T {
        match self.try_until(check).await {
            Some(found) => found,
            None => panic!("waited {BOUND:?} for {what}; sent: {:#?}", self.sent()),
        }
    }

    /// Every request the fake answered with an error, in order: (method,
    /// Telegram's description); faults the test queued included.
    pub fn refused(&self) -> Vec<(String, String)> {
        self.lock().refused.clone()
    }

    /// Sends `text` as `user_id` speaking `language`, and returns the single reply.
    pub async fn ask_in(&self, user_id: i64, language: &str, text: &str) -> Sent {
        let before = self.sent_to(user_id).len();
        self.user_says_in(user_id, language, text);
        let all = self.wait_for(user_id, before + 1, BOUND).await;
        all[before].clone()
    }

    /// The parameters of the last setWebhook call, if any.
    pub fn webhook(&self) -> Option<Value> {
        self.lock().webhook.clone()
    }

    /// Declares a chat getChat answers for (by id, and by @username if it has one).
    pub fn add_chat(&self, chat: ChatSpec) {
        self.lock().chats.insert(chat.id, chat);
    }

    /// Basic group `old` became supergroup `new`: getChat on the old id says so.
    pub fn upgrade(&self, old: i64, new: i64) {
        self.lock().upgraded.insert(old, new);
    }

    /// Sets `user`'s standing in `chat` (the bot's: user [`BOT_ID`]).
    pub fn set_member(&self, chat: i64, user: i64, status: Status) {
        self.lock().members.insert((chat, user), status);
    }

    /// The `allowed_updates` the bot last asked getUpdates for.
    pub fn allowed_updates(&self) -> Option<Value> {
        self.lock().allowed_updates.clone()
    }

    /// Enforce Telegram's send limits with 429s (see [`FakeTelegram::too_many`]).
    pub fn set_strict(&self) {
        self.lock().strict = Some(Bucket {
            tokens: BURST,
            at: tokio::time::Instant::now(),
        });
    }

    /// How many sends were refused with 429 for going over the limits.
    pub fn too_many(&self) -> usize {
        self.lock().too_many
    }

    /// The edits the bot made that changed a message, in order.
    pub fn edits(&self) -> Vec<Edit> {
        self.lock().edits.clone()
    }

    /// The answers to button presses, in order.
    pub fn answers(&self) -> Vec<Answer> {
        self.lock().answers.clone()
    }

    /// The message the bot sent as `message_id`, as it reads now.
    pub fn message(&self, message_id: i64) -> Option<Sent> {
        self.lock()
            .sent
            .iter()
            .find(|m| m.message_id == message_id)
            .cloned()
    }

    /// Waits for the answer to press `callback`.
    pub async fn wait_for_answer(&self, callback: &str) -> Answer {
        self.until(&format!("press {callback} answered"), |t| {
            t.answers().into_iter().find(|a| a.callback == callback)
        })
        .await
    }

    pub fn fail_next(&self, chat_id: i64, fault: Fault) {
        self.lock()
            .faults
            .entry(chat_id)
            .or_default()
            .push_back(fault);
    }

    /// Makes every sendMessage (and editMessageText) take `delay` (as a busy Telegram would).
    pub fn set_send_delay(&self, delay: Duration) {
        self.lock().send_delay = delay;
    }

    /// How many messages the bot has sent so far.
    pub fn sent_count(&self) -> usize {
        self.lock().sent.len()
    }

    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    pub fn sent(&self) -> Vec<Sent> {
        self.lock().sent.clone()
    }

    pub fn sent_to(&self, chat_id: i64) -> Vec<Sent> {
        self.sent()
            .into_iter()
            .filter(|m| m.chat_id == chat_id)
            .collect()
    }

    /// The default menu (setMyCommands without a `language_code`).
    pub fn commands(&self) -> Option<Value> {
        self.lock().commands.get(&None).cloned()
    }

    /// The menu registered for users whose app speaks `language`.
    pub fn commands_in(&self, language: &str) -> Option<Value> {
        self.lock()
            .commands
            .get(&Some(language.to_string()))
            .cloned()
    }

    /// The `language_code`s menus were registered with (`None`: the default).
    pub fn menu_languages(&self) -> Vec<Option<String>> {
        let mut languages: Vec<_> = self.lock().commands.keys().cloned().collect();
        languages.sort();
        languages
    }

    pub fn calls(&self, method: &str) -> usize {
        self.lock()
            .calls
            .get(&method.to_ascii_lowercase())
            .copied()
            .unwrap_or(0)
    }

    /// Waits until `chat_id` has received at least `count` messages; returns
    /// them all. `timeout` is the failure bound.
    pub async fn wait_for(&self, chat_id: i64, count: usize, timeout: Duration) -> Vec<Sent> {
        let found = tokio::time::timeout(
            timeout,
            self.try_until(|t| {
                let got = t.sent_to(chat_id);
                (got.len() >= count).then_some(got)
            }),
        )
        .await;
        match found {
            Ok(Some(got)) => got,
            _ => {
                let got = self.sent_to(chat_id);
                panic!(
                    "chat {chat_id}: waited {timeout:?} for {count} messages, got {}: {got:#?}",
                    got.len()
                )
            }
        }
    }

    /// Whether `message` is the answer to `/help` (the usual probe), in English.
    pub fn is_help(message: &Sent) -> bool {
        message.text.starts_with("I watch ")
    }

    /// A barrier for what `chat` must not have been sent: `probe` makes a
    /// command be said in `chat` after the ones under test, and this waits for
    /// the first new message `is_answer` recognises. A chat's commands are
    /// answered in order, so whatever the earlier ones were to bring has
    /// come by then: the messages since the `before`-th, that answer left out.
    pub async fn after_probe(
        &self,
        chat: i64,
        before: usize,
        probe: impl FnOnce(&FakeTelegram),
        is_answer: impl Fn(&Sent) -> bool,
    ) -> Vec<Sent> {
        probe(self);
        let mut got = self
            .until(&format!("the probe's answer in chat {chat}"), |t| {
                let since: Vec<Sent> = t.sent_to(chat).split_off(before.min(t.sent_to(chat).len()));
                since.iter().any(&is_answer).then_some(since)
            })
            .await;
        let at = got
            .iter()
            .position(&is_answer)
            .expect("the answer is there");
        got.remove(at);
        got
    }

    /// How many distinct chats in `chats` received at least one push.
    pub fn chats_pushed(&self, chats: std::ops::RangeInclusive<i64>) -> usize {
        let st = self.lock();
        let pushed: std::collections::HashSet<i64> = st
            .sent
            .iter()
            .filter(|m| chats.contains(&m.chat_id) && m.text.starts_with("🆕"))
            .map(|m| m.chat_id)
            .collect();
        pushed.len()
    }

    /// How many distinct chats in `chats` received anything.
    pub fn chats_told(&self, chats: std::ops::RangeInclusive<i64>) -> usize {
        let st = self.lock();
        let told: std::collections::HashSet<i64> = st
            .sent
            .iter()
            .filter(|m| chats.contains(&m.chat_id))
            .map(|m| m.chat_id)
            .collect();
        told.len()
    }

    /// The pushes (release messages, not command replies) `chat_id` received, in order.
    pub fn pushes_to(&self, chat_id: i64) -> Vec<String> {
        self.sent_to(chat_id)
            .into_iter()
            .map(|m| m.text)
            .filter(|t| t.starts_with("🆕"))
            .collect()
    }

    /// Sends `text` as `user_id` and returns the single reply it produced.
    pub async fn ask(&self, user_id: i64, text: &str) -> Sent {
        let before = self.sent_to(user_id).len();
        self.user_says(user_id, text);
        let all = self.wait_for(user_id, before + 1, BOUND).await;
        all[before].clone()
    }
}
