//! What happens on Telegram's side: users and admins writing in private chats,
//! groups, forum topics and channels, buttons pressed, the bot's own standing
//! changed. Each queues an update for the bot's next getUpdates.

use serde_json::{Value, json};

use super::{BOT_ID, BOT_USERNAME, FakeTelegram, GROUP_ANONYMOUS_BOT, Place, State, Status};

impl FakeTelegram {
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
        self.queued();
        update_id
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
        self.queued();
        message_id
    }
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

pub(super) fn bot_user() -> Value {
    json!({"id": BOT_ID, "is_bot": true, "first_name": "Embassy Test", "username": BOT_USERNAME})
}
