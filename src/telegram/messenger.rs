//! What delivery and alerts need of Telegram: send one message to one chat,
//! and learn how it failed ([`Messenger`]); and what answering people needs
//! besides: buttons, edits in place, answers to button presses ([`Replier`]).
//! The Telegram edge implements both ([`crate::telegram::client::HttpMessenger`]);
//! tests provide scripted ones.

use std::future::Future;
use std::time::Duration;

/// How a send failed, as far as delivery needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// The chat cannot receive messages any more (blocked, kicked, deleted).
    ChatGone(String),
    /// The forum topic the message was for is closed or deleted; the chat
    /// itself, and its other topics, may still receive.
    TopicGone(String),
    /// The group became a supergroup with this id.
    Migrated(i64),
    /// This message can never be sent as it is (Telegram refused its content).
    Rejected(String),
    /// Try again later (flood control, network trouble, server errors).
    Retry {
        after: Option<Duration>,
        reason: String,
    },
}

/// How Telegram should read a message's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Telegram's HTML subset (everything we render).
    Html,
    /// Plain text: the fallback when Telegram refuses our HTML.
    Plain,
}

/// Something that can deliver a message to a chat.
pub trait Messenger: Clone + Send + Sync + 'static {
    /// Sends `text` to `chat`, into forum topic `thread` when one is given
    /// (`None`: the chat itself, or a forum's General topic).
    fn send(
        &self,
        chat: i64,
        thread: Option<i32>,
        text: String,
        format: Format,
    ) -> impl Future<Output = Result<(), SendError>> + Send;

    /// [`Messenger::send`] with `keyboard` under the message (a push's "Full
    /// text" button), telling the id Telegram gave the message, which an edit
    /// names later (`None`: not told). Messengers that cannot tell keep this
    /// default: their messages show no buttons and are never edited.
    fn send_for_id(
        &self,
        chat: i64,
        thread: Option<i32>,
        text: String,
        format: Format,
        keyboard: Option<Keyboard>,
    ) -> impl Future<Output = Result<Option<i32>, SendError>> + Send {
        let _ = keyboard;
        let sent = self.send(chat, thread, text, format);
        async move { sent.await.map(|()| None) }
    }

    /// Replaces the text of the bot's message `message_id` in `chat` (a
    /// release revised after it was pushed), with `keyboard` under it again
    /// (an edit without one would drop a push's "Full text" button); an edit
    /// notifies no one. [`Edited::Unchanged`] when the message already shows
    /// `text`. The default, for messengers that cannot edit, refuses as
    /// Telegram refuses a message it cannot edit.
    fn edit_text(
        &self,
        chat: i64,
        message_id: i32,
        text: String,
        format: Format,
        keyboard: Option<Keyboard>,
    ) -> impl Future<Output = Result<Edited, SendError>> + Send {
        let _ = (chat, message_id, text, format, keyboard);
        async {
            Err(SendError::Rejected(
                "Bad Request: message can't be edited".into(),
            ))
        }
    }
}

/// What an edit Telegram accepted did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edited {
    /// The message shows the new text now.
    Changed,
    /// It showed that text already ("message is not modified"): done.
    Unchanged,
}

/// Buttons under a message: rows of buttons, each sending its data back to
/// the bot when pressed (a `callback_query`). Built by [`crate::commands`];
/// only the Telegram edge knows how Telegram spells it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keyboard {
    pub rows: Vec<Vec<Button>>,
}

/// One button: what it shows, and what it sends back (at most 64 bytes, see
/// [`crate::commands::buttons`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    pub label: String,
    pub data: String,
}

/// What answering people needs of Telegram beyond sending: messages with
/// buttons, editing a message in place, and answering a button press.
pub(crate) trait Replier: Clone + Send + Sync + 'static {
    /// Sends `text` (Telegram HTML) to `chat` (topic `thread`), with `keyboard` under it.
    fn reply(
        &self,
        chat: i64,
        thread: Option<i32>,
        text: String,
        keyboard: Option<Keyboard>,
    ) -> impl Future<Output = Result<(), SendError>> + Send;

    /// Replaces the text and buttons of the bot's message `message_id` in
    /// `chat`. Telegram's "message is not modified" is success: the message
    /// already shows what was asked.
    fn edit(
        &self,
        chat: i64,
        message_id: i32,
        text: String,
        keyboard: Option<Keyboard>,
    ) -> impl Future<Output = Result<(), SendError>> + Send;

    /// Answers button press `callback` (the client's spinner stops): `text`,
    /// if any, shows as a short notice, or as an alert to dismiss when `alert`.
    fn answer(
        &self,
        callback: String,
        text: Option<String>,
        alert: bool,
    ) -> impl Future<Output = Result<(), SendError>> + Send;
}
