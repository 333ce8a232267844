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

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::Notify;

use super::http::{self, Request, Response};

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
    /// Every sendMessage waits this long before answering (to stretch a fan-out).
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
}

#[derive(Clone)]
pub struct FakeTelegram {
    pub url: String,
    state: Arc<Mutex<State>>,
    changed: Arc<Notify>,
}

impl FakeTelegram {
    pub async fn start() -> FakeTelegram {
        let state = Arc::new(Mutex::new(State {
            next_update_id: 1,
            next_message_id: 1,
            ..State::default()
        }));
        let changed = Arc::new(Notify::new());
        let (s, c) = (state.clone(), changed.clone());
        let handler: http::Handler = Arc::new(move |req| {
            let (s, c) = (s.clone(), c.clone());
            Box::pin(async move { handle(req, s, c).await })
        });
        let addr = http::serve(handler).await;
        FakeTelegram {
            url: format!("http://{addr}"),
            state,
            changed,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("fake telegram state")
    }

    /// A user writes `text` in a private chat (chat id = user id).
    pub fn user_says(&self, user_id: i64, text: &str) {
        let chat = json!({"id": user_id, "type": "private", "first_name": "User", "username": format!("user{user_id}")});
        self.push_message(Some(user_id), chat, text);
    }

    /// A user whose Telegram app speaks `language` (its `language_code`,
    /// such as "ru" or "ru-RU") writes `text` in a private chat.
    pub fn user_says_in(&self, user_id: i64, language: &str, text: &str) {
        let chat = json!({"id": user_id, "type": "private", "first_name": "User", "username": format!("user{user_id}")});
        self.push_edited(Some(user_id), chat, text, |m| {
            m["from"]["language_code"] = json!(language);
        });
    }

    /// Sends `text` as `user_id` speaking `language`, and returns the single reply.
    pub async fn ask_in(&self, user_id: i64, language: &str, text: &str) -> Sent {
        let before = self.sent_to(user_id).len();
        self.user_says_in(user_id, language, text);
        let all = self
            .wait_for(user_id, before + 1, Duration::from_secs(15))
            .await;
        all[before].clone()
    }

    /// A user whose app speaks `language` writes `text` in a group.
    pub fn group_says_in(&self, chat_id: i64, user_id: i64, language: &str, text: &str) {
        let chat = json!({"id": chat_id, "type": "group", "title": "Test group"});
        self.push_edited(Some(user_id), chat, text, |m| {
            m["from"]["language_code"] = json!(language);
        });
    }

    /// A user writes `text` in a group (negative chat id).
    pub fn group_says(&self, chat_id: i64, user_id: i64, text: &str) {
        let chat = json!({"id": chat_id, "type": "group", "title": "Test group"});
        self.push_message(Some(user_id), chat, text);
    }

    /// The update a user's private message `text` makes, without queueing it
    /// (for posting it to the bot in webhook mode).
    pub fn private_update(&self, user_id: i64, text: &str) -> Value {
        let chat = json!({"id": user_id, "type": "private", "first_name": "User", "username": format!("user{user_id}")});
        let mut st = self.lock();
        message_update(&mut st, user_id, chat, text)
    }

    /// The parameters of the last setWebhook call, if any.
    pub fn webhook(&self) -> Option<Value> {
        self.lock().webhook.clone()
    }

    /// A user writes `text` in a supergroup; with `thread`, inside that forum topic.
    pub fn supergroup_says(&self, chat_id: i64, user_id: i64, thread: Option<i64>, text: &str) {
        let mut chat = json!({"id": chat_id, "type": "supergroup", "title": "Test supergroup"});
        if thread.is_some() {
            chat["is_forum"] = json!(true);
        }
        self.push_edited(Some(user_id), chat, text, |m| {
            if let Some(thread) = thread {
                m["message_thread_id"] = json!(thread);
                m["is_topic_message"] = json!(true);
            }
        });
    }

    /// An anonymous administrator writes `text` in a supergroup: Telegram
    /// sends it from GroupAnonymousBot, with the group as `sender_chat`.
    pub fn anonymous_admin_says(&self, chat_id: i64, text: &str) {
        let chat = json!({"id": chat_id, "type": "supergroup", "title": "Test supergroup"});
        self.push_edited(Some(GROUP_ANONYMOUS_BOT), chat.clone(), text, |m| {
            m["from"] = json!({"id": GROUP_ANONYMOUS_BOT, "is_bot": true, "first_name": "Group", "username": "GroupAnonymousBot"});
            m["sender_chat"] = chat;
        });
    }

    /// A message posted in a supergroup on behalf of another channel.
    pub fn channel_speaks_in_group(&self, chat_id: i64, channel_id: i64, text: &str) {
        let chat = json!({"id": chat_id, "type": "supergroup", "title": "Test supergroup"});
        self.push_edited(Some(136_817_688), chat, text, |m| {
            m["from"] = json!({"id": 136_817_688, "is_bot": true, "first_name": "Channel", "username": "Channel_Bot"});
            m["sender_chat"] = json!({"id": channel_id, "type": "channel", "title": "Some channel"});
        });
    }

    /// `text` is posted in a channel (a `channel_post` update, with no `from`).
    pub fn channel_posts(&self, chat_id: i64, text: &str) {
        let chat = json!({"id": chat_id, "type": "channel", "title": "Test channel"});
        self.push_edited(None, chat.clone(), text, |m| m["sender_chat"] = chat);
    }

    /// The bot's own standing in `chat` (of `kind`: "private", "group",
    /// "supergroup", "channel") changed from `old` to `new`, by `by`.
    pub fn bot_membership(&self, chat_id: i64, kind: &str, by: i64, old: Status, new: Status) {
        let chat = if kind == "private" {
            json!({"id": chat_id, "type": "private", "first_name": "User"})
        } else {
            json!({"id": chat_id, "type": kind, "title": "Test chat"})
        };
        self.push_update(
            "my_chat_member",
            json!({
                "chat": chat,
                "from": {"id": by, "is_bot": false, "first_name": "User"},
                "date": 1_653_120_000,
                "old_chat_member": old.json(bot_user()),
                "new_chat_member": new.json(bot_user()),
            }),
        );
    }

    /// Queues an update of `kind` holding `body`; returns its update id.
    fn push_update(&self, kind: &str, body: Value) -> i64 {
        let mut st = self.lock();
        let update_id = st.next_update_id;
        st.next_update_id += 1;
        st.updates.push(json!({"update_id": update_id, kind: body}));
        drop(st);
        self.changed.notify_waiters();
        update_id
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

    /// When each message to `chat_id` was accepted.
    pub fn sent_times(&self, chat_id: i64) -> Vec<tokio::time::Instant> {
        self.lock()
            .sent_at
            .iter()
            .filter(|(c, _)| *c == chat_id)
            .map(|(_, t)| *t)
            .collect()
    }

    /// `user_id` presses the button with `data` under the bot's message
    /// `message_id` in `place`; returns the press's callback id.
    pub fn press(&self, user_id: i64, place: Place, message_id: i64, data: &str) -> String {
        self.press_on(user_id, None, place, message_id, data, false)
    }

    /// [`FakeTelegram::press`] by a user whose app speaks `language`.
    pub fn press_in(
        &self,
        user_id: i64,
        language: &str,
        place: Place,
        message_id: i64,
        data: &str,
    ) -> String {
        self.press_on(user_id, Some(language), place, message_id, data, false)
    }

    /// A press on a message Telegram no longer shows the bot (`date` 0).
    pub fn press_on_inaccessible(&self, user_id: i64, message_id: i64, data: &str) -> String {
        self.press_on(user_id, None, Place::Private, message_id, data, true)
    }

    fn press_on(
        &self,
        user_id: i64,
        language: Option<&str>,
        place: Place,
        message_id: i64,
        data: &str,
        inaccessible: bool,
    ) -> String {
        let (chat, thread) = match place {
            Place::Private => (
                json!({"id": user_id, "type": "private", "first_name": "User"}),
                None,
            ),
            Place::Group(id) => (
                json!({"id": id, "type": "group", "title": "Test group"}),
                None,
            ),
            Place::Channel(id) => (
                json!({"id": id, "type": "channel", "title": "Test channel"}),
                None,
            ),
            Place::Supergroup(id, thread) => {
                let mut chat = json!({"id": id, "type": "supergroup", "title": "Test supergroup"});
                if thread.is_some() {
                    chat["is_forum"] = json!(true);
                }
                (chat, thread)
            }
        };
        let mut st = self.lock();
        let text = st
            .sent
            .iter()
            .find(|m| m.message_id == message_id)
            .map_or(String::new(), |m| m.text.clone());
        let mut message = json!({
            "message_id": message_id, "date": 1_653_120_000, "chat": chat,
            "from": bot_user(), "text": text,
        });
        if let Some(thread) = thread {
            message["message_thread_id"] = json!(thread);
            message["is_topic_message"] = json!(true);
        }
        if inaccessible {
            // How Telegram sends a message the bot can no longer see.
            message = json!({"chat": message["chat"], "message_id": message_id, "date": 0});
        }
        st.next_callback += 1;
        let callback = format!("cb{}", st.next_callback);
        drop(st);
        let mut from = json!({"id": user_id, "is_bot": false, "first_name": "User"});
        if let Some(language) = language {
            from["language_code"] = json!(language);
        }
        self.push_update(
            "callback_query",
            json!({
                "id": callback,
                "from": from,
                "message": message,
                "chat_instance": "1",
                "data": data,
            }),
        );
        callback
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
    pub async fn wait_for_answer(&self, callback: &str, bot: &super::BotProcess) -> Answer {
        let mut found = None;
        super::eventually(
            Duration::from_secs(15),
            &format!("press {callback} answered"),
            bot,
            || {
                found = self.answers().into_iter().find(|a| a.callback == callback);
                found.is_some()
            },
        )
        .await;
        found.expect("found")
    }

    /// Queues a message update; returns its message id.
    fn push_message(&self, user_id: Option<i64>, chat: Value, text: &str) -> i64 {
        self.push_edited(user_id, chat, text, |_| {})
    }

    /// Queues a message update, changed by `edit` before anyone can see it.
    fn push_edited(
        &self,
        user_id: Option<i64>,
        chat: Value,
        text: &str,
        edit: impl FnOnce(&mut Value),
    ) -> i64 {
        let mut st = self.lock();
        let update_id = st.next_update_id;
        st.next_update_id += 1;
        let (message_id, mut message) = new_message(&mut st, user_id, chat, text);
        edit(&mut message);
        let update = if message["chat"]["type"] == json!("channel") {
            json!({"update_id": update_id, "channel_post": message})
        } else {
            json!({"update_id": update_id, "message": message})
        };
        st.updates.push(update);
        drop(st);
        self.changed.notify_waiters();
        message_id
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

    /// Waits until `chat_id` has received at least `count` messages; returns them all.
    pub async fn wait_for(&self, chat_id: i64, count: usize, timeout: Duration) -> Vec<Sent> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let got = self.sent_to(chat_id);
            if got.len() >= count {
                return got;
            }
            if tokio::time::Instant::now() >= deadline {
                panic!(
                    "chat {chat_id}: waited {timeout:?} for {count} messages, got {}: {got:#?}",
                    got.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
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
        let all = self
            .wait_for(user_id, before + 1, Duration::from_secs(15))
            .await;
        all[before].clone()
    }

    /// Sends `text` as `user_id` every 200 ms until the reply satisfies `done`;
    /// returns that reply. After 20 s, panics with the last reply and the log.
    pub async fn ask_until(
        &self,
        user_id: i64,
        text: &str,
        bot: &super::BotProcess,
        done: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let reply = self.ask(user_id, text).await.text;
            if done(&reply) {
                return reply;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out asking {text}; last reply: {reply}\nlog:\n{}",
                bot.log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until the bot is long-polling (it has called getUpdates at least `n` times).
    pub async fn wait_for_polls(&self, n: usize, timeout: Duration, bot: &super::BotProcess) {
        super::eventually(timeout, "the bot never polled getUpdates", bot, || {
            self.calls("getupdates") >= n
        })
        .await;
    }
}

/// The text fields of a multipart/form-data body, as a JSON object.
fn form_fields(body: &str, boundary: &str) -> Value {
    let mut fields = serde_json::Map::new();
    for part in body.split(&format!("--{boundary}")) {
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let Some(name) = head
            .split("name=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
        else {
            continue;
        };
        let value = value.strip_suffix("\r\n").unwrap_or(value);
        fields.insert(name.to_string(), Value::String(value.to_string()));
    }
    Value::Object(fields)
}

/// A new update holding `text` from `user_id` in `chat`, numbered from `st`.
fn message_update(st: &mut State, user_id: i64, chat: Value, text: &str) -> Value {
    let update_id = st.next_update_id;
    st.next_update_id += 1;
    let (_, message) = new_message(st, Some(user_id), chat, text);
    json!({"update_id": update_id, "message": message})
}

/// A new message holding `text` from `user_id` (`None`: nobody, as a
/// channel post) in `chat`, numbered from `st`, a command marked as Telegram
/// marks it; with its id.
fn new_message(st: &mut State, user_id: Option<i64>, chat: Value, text: &str) -> (i64, Value) {
    let message_id = st.next_message_id;
    st.next_message_id += 1;
    let mut message = json!({
        "message_id": message_id,
        "date": 1_653_120_000,
        "chat": chat,
        "text": text,
    });
    if let Some(user_id) = user_id {
        message["from"] =
            json!({"id": user_id, "is_bot": false, "first_name": "User", "language_code": "en"});
    }
    if text.starts_with('/') {
        let len = text
            .split_whitespace()
            .next()
            .unwrap_or("")
            .encode_utf16()
            .count();
        message["entities"] = json!([{"type": "bot_command", "offset": 0, "length": len}]);
    }
    (message_id, message)
}

fn bot_user() -> Value {
    json!({"id": BOT_ID, "is_bot": true, "first_name": "Embassy Test", "username": BOT_USERNAME})
}

fn ok(result: Value) -> Option<Response> {
    Some(Response::json(200, &json!({"ok": true, "result": result})))
}

fn api_error(status: u16, description: &str, parameters: Option<Value>) -> Option<Response> {
    let mut body = json!({"ok": false, "error_code": status, "description": description});
    if let Some(p) = parameters {
        body["parameters"] = p;
    }
    Some(Response::json(status, &body))
}

async fn handle(req: Request, state: Arc<Mutex<State>>, changed: Arc<Notify>) -> Option<Response> {
    let path = req.path.split('?').next().unwrap_or("");
    let Some(rest) = path.strip_prefix("/bot") else {
        return api_error(404, "Not Found", None);
    };
    let (token, method) = rest.split_once('/').unwrap_or((rest, ""));
    if token != TOKEN {
        return api_error(401, "Unauthorized", None);
    }
    let params: Value = if req.body.is_empty() {
        json!({})
    } else if let Some(boundary) = req
        .header("content-type")
        .and_then(|t| t.split_once("boundary="))
        .map(|(_, b)| b.trim_matches('"').to_string())
    {
        // teloxide sends methods that may carry a file (setWebhook) as a form.
        form_fields(&String::from_utf8_lossy(&req.body), &boundary)
    } else {
        serde_json::from_slice(&req.body).unwrap_or(json!({}))
    };
    if req.method != "POST" && req.method != "GET" {
        return api_error(405, "Method Not Allowed", None);
    }
    // Like Telegram, method names are case-insensitive (teloxide sends "GetMe").
    let method = method.to_ascii_lowercase();
    *state
        .lock()
        .unwrap()
        .calls
        .entry(method.clone())
        .or_default() += 1;
    match method.as_str() {
        "getme" => ok(json!({
            "id": BOT_ID, "is_bot": true, "first_name": "Embassy Test", "username": BOT_USERNAME,
            "can_join_groups": true, "can_read_all_group_messages": false,
            "supports_inline_queries": false, "can_connect_to_business": false, "has_main_web_app": false
        })),
        "getwebhookinfo" => {
            let url = state
                .lock()
                .unwrap()
                .webhook
                .as_ref()
                .map_or(json!(""), |w| w["url"].clone());
            ok(json!({"url": url, "has_custom_certificate": false, "pending_update_count": 0}))
        }
        "deletewebhook" => {
            state.lock().unwrap().webhook = None;
            ok(json!(true))
        }
        "setwebhook" => {
            state.lock().unwrap().webhook = Some(params.clone());
            ok(json!(true))
        }
        "setmycommands" => {
            let language = params["language_code"].as_str().map(str::to_string);
            state
                .lock()
                .unwrap()
                .commands
                .insert(language, params["commands"].clone());
            ok(json!(true))
        }
        "getupdates" => {
            if !params["allowed_updates"].is_null() {
                state.lock().unwrap().allowed_updates = Some(params["allowed_updates"].clone());
            }
            let offset = params["offset"].as_i64().unwrap_or(0);
            let timeout = params["timeout"].as_u64().unwrap_or(0).min(5);
            let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
            loop {
                let notified = changed.notified();
                {
                    let mut st = state.lock().unwrap();
                    // Telegram forgets updates below the offset: they are confirmed.
                    st.updates
                        .retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
                    if !st.updates.is_empty() {
                        return ok(Value::Array(st.updates.clone()));
                    }
                }
                if tokio::time::timeout_at(deadline, notified).await.is_err() {
                    return ok(json!([]));
                }
            }
        }
        "sendmessage" => {
            let chat_id = params["chat_id"].as_i64().unwrap_or(0);
            let (fault, delay) = {
                let mut st = state.lock().unwrap();
                let fault = st.faults.get_mut(&chat_id).and_then(|q| q.pop_front());
                (fault, st.send_delay)
            };
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            match fault {
                Some(Fault::Error(status, description)) => {
                    return api_error(status, description, None);
                }
                Some(Fault::RetryAfter(secs)) => {
                    return api_error(
                        429,
                        &format!("Too Many Requests: retry after {secs}"),
                        Some(json!({"retry_after": secs})),
                    );
                }
                Some(Fault::MigrateTo(new_id)) => {
                    return api_error(
                        400,
                        "Bad Request: group chat was upgraded to a supergroup chat",
                        Some(json!({"migrate_to_chat_id": new_id})),
                    );
                }
                Some(Fault::Drop) => return None,
                Some(Fault::Delay(extra)) => tokio::time::sleep(extra).await,
                None => {}
            }
            let text = params["text"].as_str().unwrap_or("").to_string();
            let parse_mode = params["parse_mode"].as_str().map(str::to_string);
            if shown_len(&text, parse_mode.as_deref()) > MAX_MESSAGE_UTF16 {
                return api_error(400, "Bad Request: message is too long", None);
            }
            let paid = params["allow_paid_broadcast"].as_bool().unwrap_or(false);
            let thread = params["message_thread_id"].as_i64();
            let preview_disabled = params["link_preview_options"]["is_disabled"].as_bool();
            let mut st = state.lock().unwrap();
            let now = tokio::time::Instant::now();
            let over = match st.strict.take() {
                Some(mut bucket) => {
                    let over = over_limits(&mut bucket, &st.sent_at, chat_id, now);
                    st.strict = Some(bucket);
                    over
                }
                None => false,
            };
            if over {
                st.too_many += 1;
                return api_error(
                    429,
                    "Too Many Requests: retry after 1",
                    Some(json!({"retry_after": 1})),
                );
            }
            st.sent_at.push((chat_id, now));
            let message_id = st.next_message_id;
            st.next_message_id += 1;
            st.sent.push(Sent {
                chat_id,
                text: text.clone(),
                parse_mode,
                paid,
                thread,
                preview_disabled,
                message_id,
                keyboard: keyboard_of(&params["reply_markup"]),
            });
            let chat = if chat_id < 0 {
                json!({"id": chat_id, "type": "group", "title": "Test group"})
            } else {
                json!({"id": chat_id, "type": "private", "first_name": "User"})
            };
            ok(
                json!({"message_id": message_id, "date": 1_653_120_000, "chat": chat, "from": bot_user(), "text": text}),
            )
        }
        "editmessagetext" => {
            let delay = state.lock().unwrap().send_delay;
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let chat_id = params["chat_id"].as_i64().unwrap_or(0);
            let message_id = params["message_id"].as_i64().unwrap_or(0);
            let text = params["text"].as_str().unwrap_or("").to_string();
            if shown_len(&text, params["parse_mode"].as_str()) > MAX_MESSAGE_UTF16 {
                return api_error(400, "Bad Request: MESSAGE_TOO_LONG", None);
            }
            let keyboard = keyboard_of(&params["reply_markup"]);
            let mut st = state.lock().unwrap();
            let Some(message) = st
                .sent
                .iter_mut()
                .find(|m| m.chat_id == chat_id && m.message_id == message_id)
            else {
                return api_error(400, "Bad Request: message to edit not found", None);
            };
            if message.text == text && message.keyboard == keyboard {
                return api_error(
                    400,
                    "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
                    None,
                );
            }
            message.text = text.clone();
            message.keyboard = keyboard;
            st.edits.push(Edit {
                chat_id,
                message_id,
                text: text.clone(),
            });
            ok(json!({"message_id": message_id, "date": 1_653_120_000,
                "chat": {"id": chat_id, "type": "private", "first_name": "User"},
                "from": bot_user(), "text": text}))
        }
        "answercallbackquery" => {
            let answer = Answer {
                callback: params["callback_query_id"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                text: params["text"].as_str().map(str::to_string),
                alert: params["show_alert"].as_bool().unwrap_or(false),
            };
            state.lock().unwrap().answers.push(answer);
            ok(json!(true))
        }
        "getchat" => {
            let st = state.lock().unwrap();
            if let Some(new) = params["chat_id"]
                .as_i64()
                .and_then(|id| st.upgraded.get(&id))
            {
                return api_error(
                    400,
                    "Bad Request: group chat was upgraded to a supergroup chat",
                    Some(json!({"migrate_to_chat_id": new})),
                );
            }
            match find_chat(&st, &params["chat_id"]) {
                Some(chat) => {
                    let mut out = json!({"id": chat.id, "type": chat.kind, "title": chat.title,
                        "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": {}});
                    if let Some(username) = &chat.username {
                        out["username"] = json!(username);
                    }
                    if chat.is_forum {
                        out["is_forum"] = json!(true);
                    }
                    ok(out)
                }
                None => api_error(400, "Bad Request: chat not found", None),
            }
        }
        "getchatmember" => {
            let st = state.lock().unwrap();
            // A group the test did not declare: an ordinary group.
            let undeclared;
            let chat = match find_chat(&st, &params["chat_id"]) {
                Some(chat) => chat,
                None => match params["chat_id"].as_i64() {
                    Some(id) if id < 0 => {
                        undeclared = ChatSpec {
                            id,
                            kind: "group",
                            title: "Test group".into(),
                            username: None,
                            is_forum: false,
                        };
                        &undeclared
                    }
                    _ => return api_error(400, "Bad Request: chat not found", None),
                },
            };
            let user_id = params["user_id"].as_i64().unwrap_or(0);
            let bot_status = st.members.get(&(chat.id, BOT_ID)).copied();
            let bot_is_admin = matches!(bot_status, Some(Status::Admin { .. } | Status::Creator));
            // In a channel, only an administrator bot may ask about others.
            if chat.kind == "channel" && user_id != BOT_ID && !bot_is_admin {
                return api_error(400, "Bad Request: member list is inaccessible", None);
            }
            let status = st.members.get(&(chat.id, user_id)).copied().unwrap_or(
                if chat.kind == "channel" || user_id == BOT_ID {
                    Status::Left
                } else {
                    Status::Member
                },
            );
            let user = json!({"id": user_id, "is_bot": user_id == BOT_ID, "first_name": "User"});
            ok(status.json(user))
        }
        other => api_error(404, &format!("Not Found: method {other}"), None),
    }
}

/// Telegram's limit on a message's text, in UTF-16 units of what it shows.
pub const MAX_MESSAGE_UTF16: usize = 4096;

/// The length Telegram holds against its limit: UTF-16 units of the text
/// it shows, so with `parse_mode` HTML, tags dropped and entities decoded.
pub fn shown_len(text: &str, parse_mode: Option<&str>) -> usize {
    if parse_mode != Some("HTML") {
        return text.encode_utf16().count();
    }
    let mut shown = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('<') {
        shown.push_str(&rest[..at]);
        rest = rest[at..].split_once('>').map_or("", |(_, after)| after);
    }
    shown.push_str(rest);
    let shown = shown
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    shown.encode_utf16().count()
}

/// An `InlineKeyboardMarkup` as `(label, callback data)` rows.
fn keyboard_of(markup: &Value) -> Vec<Vec<(String, String)>> {
    let Some(rows) = markup["inline_keyboard"].as_array() else {
        return Vec::new();
    };
    rows.iter()
        .map(|row| {
            row.as_array()
                .into_iter()
                .flatten()
                .map(|b| {
                    let field = |k: &str| b[k].as_str().unwrap_or("").to_string();
                    (field("text"), field("callback_data"))
                })
                .collect()
        })
        .collect()
}

/// The chat `chat_id` (a number, or "@username") names, if declared.
fn find_chat<'a>(st: &'a State, chat_id: &Value) -> Option<&'a ChatSpec> {
    match chat_id {
        Value::Number(n) => st.chats.get(&n.as_i64()?),
        Value::String(s) => match s.strip_prefix('@') {
            Some(name) => st.chats.values().find(|c| {
                c.username
                    .as_deref()
                    .is_some_and(|u| u.eq_ignore_ascii_case(name))
            }),
            None => st.chats.get(&s.parse().ok()?),
        },
        _ => None,
    }
}

/// The global limit: 30 messages a second, with bursts of up to [`BURST`].
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: tokio::time::Instant,
}

/// A busy machine bunches sends that left evenly spaced (either process may
/// be descheduled for a moment); a sender that goes over the rate for long
/// still drains the bucket: replies sent on top of a 30/s fan-out (a reply
/// every 1.5 s) would, within 15 s.
const BURST: f64 = 10.0;

/// Whether one more message to `chat` now would break Telegram's limits (and
/// if not, counts it): 30 a second overall (a token bucket), one a second to
/// a chat (0.9 s, for jitter), 20 a minute to a group.
fn over_limits(
    bucket: &mut Bucket,
    sent: &[(i64, tokio::time::Instant)],
    chat: i64,
    now: tokio::time::Instant,
) -> bool {
    bucket.tokens = (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * 30.0).min(BURST);
    bucket.at = now;
    let recent = sent
        .iter()
        .rev()
        .take_while(|(_, t)| now.duration_since(*t) < Duration::from_secs(60))
        .filter(|(c, _)| *c == chat);
    let (mut too_soon, mut in_minute) = (false, 0);
    for (_, t) in recent {
        in_minute += 1;
        too_soon |= now.duration_since(*t) < Duration::from_millis(900);
    }
    if bucket.tokens < 1.0 || too_soon || (chat < 0 && in_minute >= 20) {
        return true;
    }
    bucket.tokens -= 1.0;
    false
}
