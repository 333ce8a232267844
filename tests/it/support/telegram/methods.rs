//! The fake's Bot API methods: one function per method, found by name in
//! [`METHODS`]. Each reads its parameters and the shared state and answers as
//! Telegram would; [`handle`] routes a request, counts the call and tells
//! waiters ([`super::FakeTelegram::until`]) once it is answered.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::super::http::{Request, Response};
use super::updates::bot_user;
use super::{
    Answer, BOT_ID, BOT_USERNAME, ChatSpec, Edit, Fault, Sent, Shared, State, Status, TOKEN,
};

/// What a method answers; `None` drops the connection.
type Reply = Pin<Box<dyn Future<Output = Option<Response>> + Send>>;
type Method = fn(Arc<Shared>, Value) -> Reply;

fn now(reply: Option<Response>) -> Reply {
    Box::pin(std::future::ready(reply))
}

/// Every method the fake knows, by its lower-case name (Telegram's names are
/// case-insensitive; teloxide sends "GetMe").
const METHODS: &[(&str, Method)] = &[
    ("getme", |_, _| now(get_me())),
    ("getwebhookinfo", |s, _| now(get_webhook_info(&s))),
    ("deletewebhook", |s, _| now(delete_webhook(&s))),
    ("setwebhook", |s, p| now(set_webhook(&s, p))),
    ("setmycommands", |s, p| now(set_my_commands(&s, &p))),
    ("getupdates", |s, p| Box::pin(get_updates(s, p))),
    ("sendmessage", |s, p| Box::pin(send_message(s, p))),
    ("editmessagetext", |s, p| Box::pin(edit_message_text(s, p))),
    ("answercallbackquery", |s, p| {
        now(answer_callback_query(&s, &p))
    }),
    ("getchat", |s, p| now(get_chat(&s, &p))),
    ("getchatmember", |s, p| now(get_chat_member(&s, &p))),
];

/// Routes one HTTP request to its method; waiters are told once it is answered.
pub(super) async fn handle(req: Request, shared: Arc<Shared>) -> Option<Response> {
    let reply = route(req, shared.clone()).await;
    shared.seen.notify_waiters();
    reply
}

async fn route(req: Request, shared: Arc<Shared>) -> Option<Response> {
    let method = req.path.rsplit('/').next().unwrap_or("").to_string();
    let reply = answer(req, shared.clone()).await;
    if let Some(refusal) = reply.as_ref().filter(|r| r.status != 200) {
        let body: Value = serde_json::from_slice(&refusal.body).unwrap_or_default();
        let why = body["description"].as_str().unwrap_or("").to_string();
        shared.lock().refused.push((method, why));
    }
    reply
}

async fn answer(req: Request, shared: Arc<Shared>) -> Option<Response> {
    let path = req.path.split('?').next().unwrap_or("");
    let Some(rest) = path.strip_prefix("/bot") else {
        return api_error(404, "Not Found", None);
    };
    let (token, method) = rest.split_once('/').unwrap_or((rest, ""));
    if token != TOKEN {
        return api_error(401, "Unauthorized", None);
    }
    if req.method != "POST" && req.method != "GET" {
        return api_error(405, "Method Not Allowed", None);
    }
    let params = params_of(&req);
    let method = method.to_ascii_lowercase();
    *shared.lock().calls.entry(method.clone()).or_default() += 1;
    match METHODS.iter().find(|(name, _)| *name == method) {
        Some((_, run)) => run(shared, params).await,
        None => api_error(404, &format!("Not Found: method {method}"), None),
    }
}

/// A request's parameters: a JSON body, or the fields of a form (teloxide
/// sends methods that may carry a file, such as setWebhook, as a form).
fn params_of(req: &Request) -> Value {
    if req.body.is_empty() {
        return json!({});
    }
    match req
        .header("content-type")
        .and_then(|t| t.split_once("boundary="))
    {
        Some((_, boundary)) => form_fields(
            &String::from_utf8_lossy(&req.body),
            boundary.trim_matches('"'),
        ),
        None => serde_json::from_slice(&req.body).unwrap_or(json!({})),
    }
}

fn get_me() -> Option<Response> {
    ok(json!({
        "id": BOT_ID, "is_bot": true, "first_name": "Embassy Test", "username": BOT_USERNAME,
        "can_join_groups": true, "can_read_all_group_messages": false,
        "supports_inline_queries": false, "can_connect_to_business": false, "has_main_web_app": false
    }))
}

fn get_webhook_info(shared: &Shared) -> Option<Response> {
    let url = shared
        .lock()
        .webhook
        .as_ref()
        .map_or(json!(""), |w| w["url"].clone());
    ok(json!({"url": url, "has_custom_certificate": false, "pending_update_count": 0}))
}

fn delete_webhook(shared: &Shared) -> Option<Response> {
    shared.lock().webhook = None;
    ok(json!(true))
}

fn set_webhook(shared: &Shared, params: Value) -> Option<Response> {
    shared.lock().webhook = Some(params);
    ok(json!(true))
}

fn set_my_commands(shared: &Shared, params: &Value) -> Option<Response> {
    let language = params["language_code"].as_str().map(str::to_string);
    shared
        .lock()
        .commands
        .insert(language, params["commands"].clone());
    ok(json!(true))
}

/// Long polling: answers at once with the updates from `offset` on, or when
/// one is queued, or with none after `timeout` (at most 5 s).
async fn get_updates(shared: Arc<Shared>, params: Value) -> Option<Response> {
    if !params["allowed_updates"].is_null() {
        shared.lock().allowed_updates = Some(params["allowed_updates"].clone());
    }
    let offset = params["offset"].as_i64().unwrap_or(0);
    let timeout = params["timeout"].as_u64().unwrap_or(0).min(5);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    loop {
        let queued = shared.queued.notified();
        {
            let mut st = shared.lock();
            // Telegram forgets updates below the offset: they are confirmed.
            st.updates
                .retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
            if !st.updates.is_empty() {
                return ok(Value::Array(st.updates.clone()));
            }
        }
        if tokio::time::timeout_at(deadline, queued).await.is_err() {
            return ok(json!([]));
        }
    }
}

/// The scripted fault for this send, if any, as Telegram's answer; `Err`
/// for a fault that lets the send go on (a delay, already waited out).
async fn fault_answer(fault: Option<Fault>) -> Result<(), Option<Response>> {
    match fault {
        Some(Fault::Error(status, description)) => Err(api_error(status, description, None)),
        Some(Fault::RetryAfter(secs)) => Err(api_error(
            429,
            &format!("Too Many Requests: retry after {secs}"),
            Some(json!({"retry_after": secs})),
        )),
        Some(Fault::MigrateTo(new_id)) => Err(api_error(
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            Some(json!({"migrate_to_chat_id": new_id})),
        )),
        Some(Fault::Drop) => Err(None),
        Some(Fault::Delay(extra)) => {
            tokio::time::sleep(extra).await;
            Ok(())
        }
        None => Ok(()),
    }
}

async fn send_message(shared: Arc<Shared>, params: Value) -> Option<Response> {
    let chat_id = params["chat_id"].as_i64().unwrap_or(0);
    let (fault, delay) = {
        let mut st = shared.lock();
        let fault = st.faults.get_mut(&chat_id).and_then(|q| q.pop_front());
        (fault, st.send_delay)
    };
    if !delay.is_zero() {
        // A busy Telegram, set by the test (`set_send_delay`).
        tokio::time::sleep(delay).await;
    }
    if let Err(answer) = fault_answer(fault).await {
        return answer;
    }
    let text = params["text"].as_str().unwrap_or("").to_string();
    let parse_mode = params["parse_mode"].as_str().map(str::to_string);
    if shown_len(&text, parse_mode.as_deref()) > MAX_MESSAGE_UTF16 {
        return api_error(400, "Bad Request: message is too long", None);
    }
    let mut st = shared.lock();
    let now = tokio::time::Instant::now();
    if over_strict_limits(&mut st, chat_id, now) {
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
        paid: params["allow_paid_broadcast"].as_bool().unwrap_or(false),
        thread: params["message_thread_id"].as_i64(),
        preview_disabled: params["link_preview_options"]["is_disabled"].as_bool(),
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

/// With strict limits on, whether this send breaks them (and if not, it counts).
fn over_strict_limits(st: &mut State, chat_id: i64, now: tokio::time::Instant) -> bool {
    match st.strict.take() {
        Some(mut bucket) => {
            let over = over_limits(&mut bucket, &st.sent_at, chat_id, now);
            st.strict = Some(bucket);
            over
        }
        None => false,
    }
}

async fn edit_message_text(shared: Arc<Shared>, params: Value) -> Option<Response> {
    let delay = shared.lock().send_delay;
    if !delay.is_zero() {
        // A busy Telegram, set by the test (`set_send_delay`), edits as slowly as it sends.
        tokio::time::sleep(delay).await;
    }
    let chat_id = params["chat_id"].as_i64().unwrap_or(0);
    let message_id = params["message_id"].as_i64().unwrap_or(0);
    let text = params["text"].as_str().unwrap_or("").to_string();
    if shown_len(&text, params["parse_mode"].as_str()) > MAX_MESSAGE_UTF16 {
        return api_error(400, "Bad Request: MESSAGE_TOO_LONG", None);
    }
    let keyboard = keyboard_of(&params["reply_markup"]);
    let mut st = shared.lock();
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

fn answer_callback_query(shared: &Shared, params: &Value) -> Option<Response> {
    let answer = Answer {
        callback: params["callback_query_id"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        text: params["text"].as_str().map(str::to_string),
        alert: params["show_alert"].as_bool().unwrap_or(false),
    };
    shared.lock().answers.push(answer);
    ok(json!(true))
}

fn get_chat(shared: &Shared, params: &Value) -> Option<Response> {
    let st = shared.lock();
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
    let Some(chat) = find_chat(&st, &params["chat_id"]) else {
        return api_error(400, "Bad Request: chat not found", None);
    };
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

fn get_chat_member(shared: &Shared, params: &Value) -> Option<Response> {
    let st = shared.lock();
    let chat = match find_chat(&st, &params["chat_id"]) {
        Some(chat) => chat.clone(),
        // A group the test did not declare: an ordinary group.
        None => match params["chat_id"].as_i64() {
            Some(id) if id < 0 => ChatSpec {
                id,
                kind: "group",
                title: "Test group".into(),
                username: None,
                is_forum: false,
            },
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
pub(super) struct Bucket {
    pub(super) tokens: f64,
    pub(super) at: tokio::time::Instant,
}

/// A busy machine bunches sends that left evenly spaced (either process may
/// be descheduled for a moment); a sender that goes over the rate for long
/// still drains the bucket: replies sent on top of a 30/s fan-out (a reply
/// every 1.5 s) would, within 15 s.
pub(super) const BURST: f64 = 10.0;

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
