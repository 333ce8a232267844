//! The push path to Telegram: `sendMessage` over plain HTTP, and the reading
//! of Telegram's answers into what delivery can act on ([`SendError`]).
//! Replies take the same path, with buttons, edits (`editMessageText`) and
//! answers to button presses (`answerCallbackQuery`): see [`Replier`].
//!
//! Updates arrive through teloxide (see [`crate::updates`]); pushes and replies
//! do not go out through it, because a fan-out to 100,000 chats is hot: decoding every answer into
//! teloxide's full `Message` type and re-parsing the endpoint URL per request
//! cost more CPU than the rest of delivery together. Answers are classified by
//! HTTP status, `parameters` and the description's prefix, so new Telegram
//! wording ("Forbidden: ...") still lands in the right class.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::telegram::messenger::{Edited, Format, Keyboard, Messenger, Replier, SendError};

/// Sends pushes to one bot's `sendMessage` endpoint.
#[derive(Clone)]
pub(crate) struct HttpMessenger {
    client: reqwest::Client,
    /// The methods' addresses, parsed once. They hold the token: never log them.
    endpoints: std::sync::Arc<Endpoints>,
    /// Send with `allow_paid_broadcast` (`telegram.allow_paid_broadcast`).
    paid_broadcast: bool,
    /// Whether Telegram may show a preview card of the message's first link.
    link_preview: bool,
}

impl HttpMessenger {
    /// `api` is the Bot API base (Telegram's or a local one), without the `/bot` part.
    /// Fails only if the token makes the address invalid.
    pub(crate) fn new(
        api: &url::Url,
        token: &str,
        timeout: Duration,
    ) -> anyhow::Result<HttpMessenger> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10))
            // Answers are small JSON; no decompression layer on the hot path.
            .no_gzip()
            .build()?;
        let method = |name: &str| {
            let url = format!("{}/bot{token}/{name}", api.as_str().trim_end_matches('/'));
            // Never put the URL in the error: it carries the token.
            reqwest::Url::parse(&url)
                .map_err(|e| anyhow::anyhow!("the Bot API address does not form a valid URL: {e}"))
        };
        let endpoints = Endpoints {
            send: method("sendMessage")?,
            edit: method("editMessageText")?,
            answer: method("answerCallbackQuery")?,
        };
        Ok(HttpMessenger {
            client,
            endpoints: std::sync::Arc::new(endpoints),
            paid_broadcast: false,
            link_preview: false,
        })
    }

    /// The same messenger, sending with `allow_paid_broadcast` when `paid`:
    /// Telegram then lets pushes past its free ~30 a second (up to 1,000),
    /// charging the bot's Stars balance for those beyond the free rate.
    pub(crate) fn paid_broadcast(mut self, paid: bool) -> HttpMessenger {
        self.paid_broadcast = paid;
        self
    }

    /// The same messenger (one connection pool) for a kind of message that
    /// shows link previews, or not (`telegram.link_preview`); off by default.
    pub(crate) fn with_link_preview(&self, show: bool) -> HttpMessenger {
        HttpMessenger {
            link_preview: show,
            ..self.clone()
        }
    }
}

impl Messenger for HttpMessenger {
    async fn send(
        &self,
        chat: i64,
        thread: Option<i32>,
        text: String,
        format: Format,
    ) -> Result<(), SendError> {
        self.send_message(chat, thread, &text, format, None)
            .await
            .map(|_| ())
    }

    async fn send_for_id(
        &self,
        chat: i64,
        thread: Option<i32>,
        text: String,
        format: Format,
        keyboard: Option<Keyboard>,
    ) -> Result<Option<i32>, SendError> {
        let markup = keyboard.as_ref().map(Markup::of);
        self.send_message(chat, thread, &text, format, markup).await
    }

    async fn edit_text(
        &self,
        chat: i64,
        message_id: i32,
        text: String,
        format: Format,
        keyboard: Option<Keyboard>,
    ) -> Result<Edited, SendError> {
        let body = EditMessageText {
            chat_id: chat,
            message_id,
            text: &text,
            parse_mode: (format == Format::Html).then_some("HTML"),
            link_preview_options: LinkPreview {
                is_disabled: !self.link_preview,
            },
            reply_markup: keyboard.as_ref().map(Markup::of),
        };
        match self.post(&self.endpoints.edit, &body).await {
            Ok(_) => Ok(Edited::Changed),
            Err(SendError::Rejected(description)) if not_modified(&description) => {
                Ok(Edited::Unchanged)
            }
            Err(other) => Err(other),
        }
    }
}

/// Telegram's answer to an edit that would change nothing.
fn not_modified(description: &str) -> bool {
    description.contains("message is not modified")
}

impl Replier for HttpMessenger {
    async fn reply(
        &self,
        chat: i64,
        thread: Option<i32>,
        text: String,
        keyboard: Option<Keyboard>,
    ) -> Result<(), SendError> {
        let markup = keyboard.as_ref().map(Markup::of);
        self.send_message(chat, thread, &text, Format::Html, markup)
            .await
            .map(|_| ())
    }

    async fn edit(
        &self,
        chat: i64,
        message_id: i32,
        text: String,
        keyboard: Option<Keyboard>,
    ) -> Result<(), SendError> {
        let body = EditMessageText {
            chat_id: chat,
            message_id,
            text: &text,
            parse_mode: Some("HTML"),
            link_preview_options: LinkPreview {
                is_disabled: !self.link_preview,
            },
            reply_markup: keyboard.as_ref().map(Markup::of),
        };
        match self.post(&self.endpoints.edit, &body).await {
            // Pressed twice, or the page did not change: it shows what was asked.
            Err(SendError::Rejected(description)) if not_modified(&description) => Ok(()),
            other => other.map(|_| ()),
        }
    }

    async fn answer(
        &self,
        callback: String,
        text: Option<String>,
        alert: bool,
    ) -> Result<(), SendError> {
        let body = AnswerCallbackQuery {
            callback_query_id: &callback,
            text: text.as_deref(),
            show_alert: alert,
        };
        self.post(&self.endpoints.answer, &body).await.map(|_| ())
    }
}

impl HttpMessenger {
    async fn send_message(
        &self,
        chat: i64,
        thread: Option<i32>,
        text: &str,
        format: Format,
        reply_markup: Option<Markup<'_>>,
    ) -> Result<Option<i32>, SendError> {
        let body = SendMessage {
            chat_id: chat,
            message_thread_id: thread,
            text,
            parse_mode: (format == Format::Html).then_some("HTML"),
            link_preview_options: LinkPreview {
                is_disabled: !self.link_preview,
            },
            allow_paid_broadcast: self.paid_broadcast,
            reply_markup,
        };
        self.post(&self.endpoints.send, &body).await
    }

    /// Calls one Bot API method with a JSON body and classifies the answer;
    /// on success, the id of the message it sent or edited, if it says.
    async fn post<B: Serialize>(
        &self,
        endpoint: &reqwest::Url,
        body: &B,
    ) -> Result<Option<i32>, SendError> {
        let body = serde_json::to_vec(body)
            .map_err(|e| SendError::Rejected(format!("cannot encode the request: {e}")))?;
        let network = |e: reqwest::Error| SendError::Retry {
            after: None,
            // The URL carries the token: keep it out of the message.
            reason: e.without_url().to_string(),
        };
        let started = std::time::Instant::now();
        let response = self
            .client
            .post(endpoint.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(network)?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(network)?;
        let answer: Answer = serde_json::from_slice(&bytes).unwrap_or_default();
        let result = classify(status, &answer);
        observe(status, &answer, &result, started.elapsed());
        result.map(|()| answer.message_id)
    }
}

/// The Bot API methods' addresses.
struct Endpoints {
    send: reqwest::Url,
    edit: reqwest::Url,
    answer: reqwest::Url,
}

/// Counts one answer in the metrics and, when it is the Bot API's own,
/// records that Telegram answered (for health).
fn observe(status: u16, answer: &Answer, result: &Result<(), SendError>, took: Duration) {
    let metrics = crate::metrics::get();
    metrics.send_duration.observe(took.as_secs_f64());
    if answer.ok || answer.description.is_some() {
        crate::metrics::get().telegram_answered(chrono::Utc::now());
    }
    if status == 429 {
        metrics.flood_limited.inc();
        if let Err(SendError::Retry {
            after: Some(after), ..
        }) = result
        {
            metrics.retry_after_seconds.inc_by(after.as_secs_f64());
        }
    }
}

/// The `sendMessage` request body.
#[derive(Serialize)]
struct SendMessage<'a> {
    chat_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    message_thread_id: Option<i32>,
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    parse_mode: Option<&'static str>,
    link_preview_options: LinkPreview,
    /// Only sent when on, so a request is unchanged for bots that do not pay.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    allow_paid_broadcast: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_markup: Option<Markup<'a>>,
}

/// The `editMessageText` request body.
#[derive(Serialize)]
struct EditMessageText<'a> {
    chat_id: i64,
    message_id: i32,
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    parse_mode: Option<&'static str>,
    link_preview_options: LinkPreview,
    /// Left out, Telegram removes the buttons.
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_markup: Option<Markup<'a>>,
}

/// The `answerCallbackQuery` request body.
#[derive(Serialize)]
struct AnswerCallbackQuery<'a> {
    callback_query_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    show_alert: bool,
}

/// Telegram's `InlineKeyboardMarkup`, buttons with callback data only.
#[derive(Serialize)]
struct Markup<'a> {
    inline_keyboard: Vec<Vec<InlineButton<'a>>>,
}

#[derive(Serialize)]
struct InlineButton<'a> {
    text: &'a str,
    callback_data: &'a str,
}

impl Markup<'_> {
    fn of(keyboard: &Keyboard) -> Markup<'_> {
        Markup {
            inline_keyboard: keyboard
                .rows
                .iter()
                .map(|row| {
                    row.iter()
                        .map(|b| InlineButton {
                            text: &b.label,
                            callback_data: &b.data,
                        })
                        .collect()
                })
                .collect(),
        }
    }
}

/// Telegram's `link_preview_options`, as much of it as we set.
#[derive(Serialize)]
struct LinkPreview {
    is_disabled: bool,
}

/// The parts of a Bot API answer that matter to delivery; `result` is skipped.
#[derive(Debug, Default, Deserialize)]
struct Answer {
    #[serde(default)]
    pub ok: bool,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub parameters: Option<Parameters>,
    /// `result.message_id` when the result is a message; the rest of the
    /// message is skipped unread.
    #[serde(default, rename = "result", deserialize_with = "message_id_of")]
    pub message_id: Option<i32>,
}

/// Reads only `message_id` out of a result: a message's other fields (and
/// a result that is not a message, such as `true`) are skipped without
/// being built.
fn message_id_of<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
    struct Id;
    impl<'de> serde::de::Visitor<'de> for Id {
        type Value = Option<i32>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a Bot API result")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut id = None;
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if key == "message_id" {
                    id = map.next_value::<Option<i32>>()?;
                } else {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
            Ok(id)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(Id)
}

/// Telegram's `ResponseParameters`.
#[derive(Debug, Default, Deserialize)]
struct Parameters {
    #[serde(default)]
    pub migrate_to_chat_id: Option<i64>,
    #[serde(default)]
    pub retry_after: Option<u64>,
}

/// Descriptions of 400 answers that mean the forum topic is closed or
/// deleted: only that topic's subscription ends.
const TOPIC_GONE_400: &[&str] = &[
    "message thread not found",
    "topic_closed",
    "topic_deleted",
    "topic closed",
    "topic deleted",
    "topic not found",
];

/// Descriptions of 400 answers that mean the chat itself is gone for good.
/// ("not enough rights" is left out on purpose: a restricted bot may be
/// allowed to post again, so that message is given up, the chat kept.)
const GONE_400: &[&str] = &[
    "chat not found",
    "user not found",
    "peer_id_invalid",
    "group chat was deactivated",
    "bot was kicked",
];

/// Telegram asks for pauses of seconds or minutes; a larger figure is a bug
/// somewhere, and obeying it would stop every push for days.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3_600);

/// Reads one answer: success, or what kind of failure it is.
fn classify(status: u16, answer: &Answer) -> Result<(), SendError> {
    if answer.ok && (200..300).contains(&status) {
        return Ok(());
    }
    // Only the Bot API's own JSON can say a chat is gone: a proxy's or a
    // firewall's 403 page must never unsubscribe anybody.
    let Some(description) = answer.description.clone() else {
        return Err(SendError::Retry {
            after: None,
            reason: format!("HTTP status {status} without a Bot API answer"),
        });
    };
    let parameters = answer.parameters.as_ref();
    if let Some(to) = parameters.and_then(|p| p.migrate_to_chat_id) {
        return Err(SendError::Migrated(to));
    }
    if let Some(secs) = parameters.and_then(|p| p.retry_after) {
        return Err(SendError::Retry {
            after: Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER)),
            reason: description,
        });
    }
    let lower = description.to_ascii_lowercase();
    match status {
        429 => Err(SendError::Retry {
            after: None,
            reason: description,
        }),
        403 if lower.starts_with("forbidden") => Err(SendError::ChatGone(description)),
        400 if GONE_400.iter().any(|g| lower.contains(g)) => Err(SendError::ChatGone(description)),
        400 if TOPIC_GONE_400.iter().any(|g| lower.contains(g)) => {
            Err(SendError::TopicGone(description))
        }
        // Our request was refused as it is: bad markup, too long, no rights, and so on.
        400 | 403 => Err(SendError::Rejected(description)),
        // A wrong token is the operator's to fix; keep the pushes meanwhile.
        401 | 404 => Err(SendError::Retry {
            after: Some(Duration::from_secs(60)),
            reason: description,
        }),
        // 5xx, gateways, and anything else.
        _ => Err(SendError::Retry {
            after: None,
            reason: description,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(json: &str) -> Answer {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn classifies_telegram_answers() {
        let ok = answer(r#"{"ok":true,"result":{"chat":{"id":1},"message_id":17}}"#);
        assert_eq!(classify(200, &ok), Ok(()));
        assert_eq!(ok.message_id, Some(17), "the sent message's id is read");
        let plain = answer(r#"{"ok":true,"result":true}"#);
        assert_eq!((plain.ok, plain.message_id), (true, None));
        let gone = |status, text: &str| {
            let a = answer(&format!(
                r#"{{"ok":false,"error_code":{status},"description":"{text}"}}"#
            ));
            classify(status, &a)
        };
        for (status, text) in [
            (403, "Forbidden: bot was blocked by the user"),
            (403, "Forbidden: user is deactivated"),
            (403, "Forbidden: some wording Telegram adds next year"),
            (400, "Bad Request: chat not found"),
            (400, "Bad Request: PEER_ID_INVALID"),
        ] {
            assert!(
                matches!(gone(status, text), Err(SendError::ChatGone(_))),
                "{text}"
            );
        }
        for text in [
            "Bad Request: message thread not found",
            "Bad Request: TOPIC_CLOSED",
            "Bad Request: TOPIC_DELETED",
        ] {
            assert!(
                matches!(gone(400, text), Err(SendError::TopicGone(_))),
                "{text}"
            );
        }
        assert!(matches!(
            gone(400, "Bad Request: can't parse entities: unclosed tag"),
            Err(SendError::Rejected(_))
        ));
        assert!(matches!(
            gone(500, "Internal Server Error"),
            Err(SendError::Retry { after: None, .. })
        ));
        let flood = answer(
            r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}"#,
        );
        assert_eq!(
            classify(429, &flood),
            Err(SendError::Retry {
                after: Some(Duration::from_secs(7)),
                reason: "Too Many Requests: retry after 7".into()
            })
        );
        let moved = answer(
            r#"{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-100123}}"#,
        );
        assert_eq!(classify(400, &moved), Err(SendError::Migrated(-100123)));
        // A proxy's HTML error page: not JSON at all. Never "chat gone".
        for status in [403, 400, 502] {
            assert!(matches!(
                classify(status, &Answer::default()),
                Err(SendError::Retry { .. })
            ));
        }
        // A restricted bot keeps the chat; only this message is given up.
        assert!(matches!(
            gone(
                400,
                "Bad Request: not enough rights to send text messages to the chat"
            ),
            Err(SendError::Rejected(_))
        ));
        let absurd = answer(
            r#"{"ok":false,"error_code":429,"description":"Too Many Requests","parameters":{"retry_after":18446744073709551615}}"#,
        );
        assert!(matches!(
            classify(429, &absurd),
            Err(SendError::Retry { after: Some(d), .. }) if d == Duration::from_secs(3_600)
        ));
    }
}
