//! A fake Telegram Bot API over loopback, speaking the real JSON shapes so the
//! unchanged binary works against it: getMe, getWebhookInfo, deleteWebhook,
//! setMyCommands, getUpdates (long polling with offset), sendMessage. Faults can
//! be queued per chat to imitate Telegram's errors.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::Notify;

use super::http::{self, Request, Response};

pub const TOKEN: &str = "123456:TEST-token_ok";
pub const BOT_USERNAME: &str = "embassy_test_bot";
const BOT_ID: i64 = 123456;

/// One message the bot sent.
#[derive(Debug, Clone)]
pub struct Sent {
    pub chat_id: i64,
    pub text: String,
    pub parse_mode: Option<String>,
    /// `link_preview_options.is_disabled` as sent (`None`: not sent).
    pub preview_disabled: Option<bool>,
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
    commands: Option<Value>,
    faults: HashMap<i64, VecDeque<Fault>>,
    calls: HashMap<String, usize>,
    /// Every sendMessage waits this long before answering (to stretch a fan-out).
    send_delay: Duration,
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
        self.push_message(user_id, chat, text);
    }

    /// A user writes `text` in a group (negative chat id).
    pub fn group_says(&self, chat_id: i64, user_id: i64, text: &str) {
        let chat = json!({"id": chat_id, "type": "group", "title": "Test group"});
        self.push_message(user_id, chat, text);
    }

    fn push_message(&self, user_id: i64, chat: Value, text: &str) {
        let mut st = self.lock();
        let update_id = st.next_update_id;
        st.next_update_id += 1;
        let message_id = st.next_message_id;
        st.next_message_id += 1;
        let mut message = json!({
            "message_id": message_id,
            "date": 1_653_120_000,
            "chat": chat,
            "from": {"id": user_id, "is_bot": false, "first_name": "User", "language_code": "en"},
            "text": text,
        });
        if text.starts_with('/') {
            let len = text
                .split_whitespace()
                .next()
                .unwrap_or("")
                .encode_utf16()
                .count();
            message["entities"] = json!([{"type": "bot_command", "offset": 0, "length": len}]);
        }
        st.updates
            .push(json!({"update_id": update_id, "message": message}));
        drop(st);
        self.changed.notify_waiters();
    }

    pub fn fail_next(&self, chat_id: i64, fault: Fault) {
        self.lock()
            .faults
            .entry(chat_id)
            .or_default()
            .push_back(fault);
    }

    /// Makes every sendMessage take `delay` (as a busy Telegram would).
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

    pub fn commands(&self) -> Option<Value> {
        self.lock().commands.clone()
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
            ok(json!({"url": "", "has_custom_certificate": false, "pending_update_count": 0}))
        }
        "deletewebhook" => ok(json!(true)),
        "setmycommands" => {
            state.lock().unwrap().commands = Some(params["commands"].clone());
            ok(json!(true))
        }
        "getupdates" => {
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
            let preview_disabled = params["link_preview_options"]["is_disabled"].as_bool();
            let mut st = state.lock().unwrap();
            let message_id = st.next_message_id;
            st.next_message_id += 1;
            st.sent.push(Sent {
                chat_id,
                text: text.clone(),
                parse_mode,
                preview_disabled,
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
        other => api_error(404, &format!("Not Found: method {other}"), None),
    }
}
