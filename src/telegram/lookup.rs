//! What commands need to know about chats and people, asked of Telegram:
//! who is an administrator of a group or channel (`getChatMember`), and which
//! chat a `@username` names (`getChat`).
//!
//! Plain HTTP, like [`crate::telegram::client`], and only the fields we use are read:
//! teloxide decodes these answers strictly (every `can_*` right of an
//! administrator, every field of a full chat), so a field Telegram adds or
//! drops would turn an answer we can use into an error.

use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;

/// A chat as commands name it: its id, or a public `@username`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ChatRef {
    Id(i64),
    /// Without the `@`.
    Username(String),
}

impl std::fmt::Display for ChatRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChatRef::Id(id) => write!(f, "{id}"),
            ChatRef::Username(name) => write!(f, "@{name}"),
        }
    }
}

/// What kind of chat it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChatKind {
    Private,
    Group,
    Supergroup,
    Channel,
}

/// The parts of `getChat`'s answer we use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChatInfo {
    pub id: i64,
    pub kind: ChatKind,
    pub title: Option<String>,
    pub username: Option<String>,
}

/// Someone's standing in a chat (`getChatMember`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MemberStatus {
    Creator,
    /// An administrator; `can_post` is the right to post in a channel.
    Administrator {
        can_post: bool,
    },
    Member,
    Restricted,
    Left,
    Kicked,
}

impl MemberStatus {
    /// The creator or an administrator: whoever may change the chat's settings.
    pub(crate) fn is_admin(self) -> bool {
        matches!(
            self,
            MemberStatus::Creator | MemberStatus::Administrator { .. }
        )
    }
}

/// Why Telegram could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LookupError {
    /// The chat does not exist or the bot cannot see it ("chat not found").
    #[error("chat not found")]
    NotFound,
    /// Telegram refused: typically the bot is not a member (or not an
    /// administrator) of the chat, or the user is unknown there.
    #[error("Telegram refused: {0}")]
    Refused(String),
    /// Network trouble, a 5xx or a 429: try again later.
    #[error("Telegram could not be asked: {0}")]
    Unavailable(String),
}

/// What commands ask of Telegram. [`HttpLookup`] asks the Bot API; tests
/// script answers.
pub(crate) trait Lookup: Send + Sync + 'static {
    /// The bot's own user id (to ask for its own rights in a channel).
    fn bot_id(&self) -> i64;
    fn chat(&self, chat: ChatRef) -> BoxFuture<'_, Result<ChatInfo, LookupError>>;
    fn member(&self, chat: ChatRef, user: i64) -> BoxFuture<'_, Result<MemberStatus, LookupError>>;
}

/// Asks the Bot API over HTTP.
pub(crate) struct HttpLookup {
    client: reqwest::Client,
    /// `{api}/bot{token}/`: holds the token, never log it.
    base: String,
    bot_id: i64,
}

impl HttpLookup {
    /// `api` is the Bot API base, as for [`crate::telegram::client::HttpMessenger::new`].
    pub(crate) fn new(api: &url::Url, token: &str, bot_id: i64) -> anyhow::Result<HttpLookup> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .build()?;
        Ok(HttpLookup {
            client,
            base: format!("{}/bot{token}/", api.as_str().trim_end_matches('/')),
            bot_id,
        })
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        params: serde_json::Value,
    ) -> Result<T, LookupError> {
        // The URL carries the token: keep it out of every message.
        let network = |e: reqwest::Error| LookupError::Unavailable(e.without_url().to_string());
        let response = self
            .client
            .post(format!("{}{method}", self.base))
            .json(&params)
            .send()
            .await
            .map_err(network)?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(network)?;
        let answer: Answer<T> = serde_json::from_slice(&bytes).map_err(|_| {
            LookupError::Unavailable(format!("HTTP status {status} without a Bot API answer"))
        })?;
        match (answer.ok, answer.result) {
            (true, Some(result)) => Ok(result),
            _ => {
                let description = answer.description.unwrap_or_default();
                Err(classify(status, description))
            }
        }
    }
}

fn classify(status: u16, description: String) -> LookupError {
    let lower = description.to_ascii_lowercase();
    match status {
        400 if lower.contains("chat not found") || lower.contains("username_invalid") => {
            LookupError::NotFound
        }
        400 | 403 => LookupError::Refused(description),
        _ => LookupError::Unavailable(format!("HTTP status {status}: {description}")),
    }
}

#[derive(Deserialize)]
struct Answer<T> {
    #[serde(default)]
    ok: bool,
    result: Option<T>,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
struct RawChat {
    id: i64,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    username: Option<String>,
}

#[derive(Deserialize)]
struct RawMember {
    status: String,
    #[serde(default)]
    can_post_messages: bool,
}

fn chat_id(chat: &ChatRef) -> serde_json::Value {
    match chat {
        ChatRef::Id(id) => serde_json::json!(id),
        ChatRef::Username(name) => serde_json::json!(format!("@{name}")),
    }
}

impl Lookup for HttpLookup {
    fn bot_id(&self) -> i64 {
        self.bot_id
    }

    fn chat(&self, chat: ChatRef) -> BoxFuture<'_, Result<ChatInfo, LookupError>> {
        Box::pin(async move {
            let raw: RawChat = self
                .call("getChat", serde_json::json!({ "chat_id": chat_id(&chat) }))
                .await?;
            let kind = match raw.kind.as_str() {
                "private" => ChatKind::Private,
                "group" => ChatKind::Group,
                "supergroup" => ChatKind::Supergroup,
                "channel" => ChatKind::Channel,
                other => {
                    return Err(LookupError::Unavailable(format!(
                        "unknown chat type {other}"
                    )));
                }
            };
            Ok(ChatInfo {
                id: raw.id,
                kind,
                title: raw.title,
                username: raw.username,
            })
        })
    }

    fn member(&self, chat: ChatRef, user: i64) -> BoxFuture<'_, Result<MemberStatus, LookupError>> {
        Box::pin(async move {
            let raw: RawMember = self
                .call(
                    "getChatMember",
                    serde_json::json!({ "chat_id": chat_id(&chat), "user_id": user }),
                )
                .await?;
            Ok(match raw.status.as_str() {
                "creator" => MemberStatus::Creator,
                "administrator" => MemberStatus::Administrator {
                    can_post: raw.can_post_messages,
                },
                "member" => MemberStatus::Member,
                "restricted" => MemberStatus::Restricted,
                "kicked" => MemberStatus::Kicked,
                _ => MemberStatus::Left,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_and_missing_chats_are_told_apart_from_trouble() {
        assert_eq!(
            classify(400, "Bad Request: chat not found".into()),
            LookupError::NotFound
        );
        assert!(matches!(
            classify(400, "Bad Request: member list is inaccessible".into()),
            LookupError::Refused(_)
        ));
        assert!(matches!(
            classify(
                403,
                "Forbidden: bot is not a member of the channel chat".into()
            ),
            LookupError::Refused(_)
        ));
        assert!(matches!(
            classify(502, "Bad Gateway".into()),
            LookupError::Unavailable(_)
        ));
        assert!(matches!(
            classify(429, "Too Many Requests".into()),
            LookupError::Unavailable(_)
        ));
    }
}
