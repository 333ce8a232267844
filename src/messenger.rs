//! What delivery and alerts need of Telegram: send one message to one chat,
//! and learn how it failed. The Telegram edge implements it
//! ([`crate::sender::HttpMessenger`]); tests provide scripted ones.

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
}
