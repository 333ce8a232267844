//! The teloxide edge: building the client, the command menu, and the update
//! handlers that feed [`crate::commands`] (through [`Conversations`], so no
//! handler ever waits for Telegram) — commands and button presses — and
//! follow the bot's own membership.
//! Only this module and [`crate::app`], which runs the dispatcher, see
//! teloxide types. (Replies and pushes are sent over a leaner path:
//! [`crate::telegram::client`].)

pub(crate) mod conversations;
pub(crate) mod webhook;

use std::time::Duration;

use teloxide::RequestError;
use teloxide::dispatching::{DpHandlerDescription, UpdateFilterExt};
use teloxide::prelude::*;
use teloxide::types::{BotCommand, CallbackQuery, ChatMemberKind, ChatMemberUpdated, Me};

use crate::commands::{self, Context, Origin, buttons, paging};
use crate::config::Config;
use crate::config::Language;
use crate::store::{Removal, Target};
use crate::telegram::lookup::{ChatKind, ChatRef, LookupError};
use crate::text::markup::MessageText;
use crate::tr;
use crate::updates::conversations::{Accepted, Conversations, Outgoing, Sender, Work};

/// Builds the client from the validated config.
pub(crate) fn build_bot(config: &Config, token: &str) -> anyhow::Result<Bot> {
    // The HTTP timeout must outlast a long poll, or every idle poll would fail.
    let client = teloxide::net::default_reqwest_settings()
        .timeout(config.telegram.long_poll + Duration::from_secs(15))
        .build()?;
    let mut bot = Bot::with_client(token, client);
    if let Some(url) = &config.telegram.api_url {
        bot = bot.set_api_url(url.clone());
    }
    Ok(bot)
}

/// Registers the command menu so Telegram clients show it: once without a
/// language (English, what everyone sees by default), then once for each
/// other language, which Telegram shows to users whose app speaks it.
pub(crate) async fn register_menu(bot: &Bot, config: &Config) -> Result<(), RequestError> {
    for language in Language::ALL {
        let menu = commands::help::menu(config, language)
            .into_iter()
            .map(|(name, description)| BotCommand::new(name, description));
        let request = bot.set_my_commands(menu);
        if language == Language::DEFAULT {
            request.await?;
        } else {
            request.language_code(language.code()).await?;
        }
    }
    Ok(())
}

/// The update handler tree: messages and channel posts are commands for
/// [`crate::commands`], and `callback_query` a press of one of their
/// buttons, queued per chat by [`Conversations`]; `my_chat_member` tells the
/// bot it was added to or removed from a chat. teloxide asks getUpdates (and
/// the webhook) for exactly these kinds (it reads them off this tree).
pub(crate) fn schema() -> Handler<'static, anyhow::Result<()>, DpHandlerDescription> {
    dptree::entry()
        .branch(Update::filter_message().endpoint(on_message))
        .branch(Update::filter_channel_post().endpoint(on_message))
        .branch(Update::filter_callback_query().endpoint(on_callback))
        .branch(Update::filter_my_chat_member().endpoint(on_my_chat_member))
}

/// Telegram's service account that anonymous group administrators post as.
const GROUP_ANONYMOUS_BOT: u64 = 1_087_968_824;

/// Where a message came from and who sent it, as commands see it.
fn origin_of(msg: &Message) -> Origin {
    // Only a message posted as the group itself comes from an anonymous
    // administrator; one posted on behalf of a channel comes from nobody we
    // can check.
    let anonymous_admin = msg
        .sender_chat
        .as_ref()
        .is_some_and(|c| c.id == msg.chat.id);
    let user = match (&msg.sender_chat, &msg.from) {
        (None, Some(from)) if from.id.0 != GROUP_ANONYMOUS_BOT => i64::try_from(from.id.0).ok(),
        _ => None,
    };
    // The person's app language; an anonymous admin's or a channel's is unknown.
    let language = msg
        .from
        .as_ref()
        .filter(|_| user.is_some())
        .and_then(|from| from.language_code.as_deref())
        .map(Language::from_telegram);
    Origin {
        user,
        anonymous_admin,
        language,
        ..chat_origin(msg)
    }
}

/// Whose budget `msg` counts against ([`Sender`]): the person who sent it,
/// else the chat it was sent as (a channel speaking in a group, or the group
/// itself for its anonymous administrators), else (a channel's own post with
/// no `sender_chat`) its chat.
fn sender_of(msg: &Message, origin: &Origin) -> Sender {
    match (origin.user, &msg.sender_chat) {
        (Some(user), _) => Sender::Person(user),
        (None, Some(as_chat)) => Sender::Chat(as_chat.id.0),
        (None, None) => Sender::Chat(msg.chat.id.0),
    }
}

/// The origin of `msg` as far as its chat and topic go: no sender yet (so
/// no sender's language); a button press names its presser instead.
fn chat_origin(msg: &Message) -> Origin {
    let chat = &msg.chat;
    let kind = if chat.is_private() {
        ChatKind::Private
    } else if chat.is_channel() {
        ChatKind::Channel
    } else if chat.is_supergroup() {
        ChatKind::Supergroup
    } else {
        ChatKind::Group
    };
    // Replies in a non-forum group have a thread id too; only a forum
    // topic's messages are answered there.
    let thread = msg
        .is_topic_message
        .then(|| msg.thread_id.map(|t| t.0.0))
        .flatten();
    Origin {
        chat: chat.id.0,
        thread,
        kind,
        user: None,
        anonymous_admin: false,
        language: None,
    }
}

async fn on_message(
    msg: Message,
    me: Me,
    ctx: Context,
    conversations: Conversations,
) -> anyhow::Result<()> {
    let Some(text) = msg.text() else {
        return Ok(());
    };
    let origin = origin_of(&msg);
    let sender = sender_of(&msg, &origin);
    let parsed = commands::parse(text, me.username());
    if !commands::needs_answer(&parsed, origin.kind == ChatKind::Private) {
        return Ok(());
    }
    let (chat, thread) = (origin.chat, origin.thread);
    let lang = origin.language.unwrap_or(Language::DEFAULT);
    let work: Work = Box::new(move || {
        Box::pin(async move {
            let now = ctx.clock.now();
            let reply = match commands::respond(&ctx, &origin, parsed, now).await {
                Ok(Some(reply)) => reply,
                Ok(None) => return Vec::new(),
                Err(e) => {
                    if let Some(held_back) = crate::runtime::log_limit::allow("command failed") {
                        tracing::error!(error = %e, chat = origin.chat, held_back, "command failed");
                    }
                    // The store failed: the sender's own language, not the chat's.
                    let lang = origin.language.unwrap_or(Language::DEFAULT);
                    commands::Reply::here(tr!(lang, "sorry"))
                }
            };
            reply
                .parts
                .into_iter()
                .filter_map(|part| {
                    // What is for the sender alone goes to them, or nowhere.
                    let (chat, thread) = match (part.privately, origin.user) {
                        (true, Some(user)) => (user, None),
                        (true, None) => return None,
                        (false, _) => (origin.chat, origin.thread),
                    };
                    Some(Outgoing::Message {
                        chat,
                        thread,
                        text: MessageText::fit(part.text),
                        keyboard: part.keyboard,
                    })
                })
                .collect()
        })
    });
    let accepted = conversations.accept(chat, thread, sender, lang, work);
    if accepted != Accepted::Queued {
        tracing::debug!(chat, ?accepted, "command not queued");
    }
    Ok(())
}

/// A button under one of the bot's messages was pressed: served in turn
/// with the chat's commands, within the presser's budget, and always
/// answered (see [`Conversations::accept_press`]).
async fn on_callback(
    query: CallbackQuery,
    ctx: Context,
    conversations: Conversations,
) -> anyhow::Result<()> {
    let callback = query.id.0;
    let user = i64::try_from(query.from.id.0).unwrap_or(0);
    let presser_language = query
        .from
        .language_code
        .as_deref()
        .map(Language::from_telegram);
    // Refusals before the press is read (a full queue, the budget) are in
    // the presser's own language; the answer itself in the chat's.
    let lang = presser_language.unwrap_or(Language::DEFAULT);
    let Some(message) = query.message.as_ref().and_then(|m| m.regular_message()) else {
        // A message Telegram no longer shows us, or one sent in inline mode
        // (not ours): nothing to show anew; the press is still answered.
        let chat = query.message.as_ref().map_or(user, |m| m.chat().id.0);
        let expired = Outgoing::Answer {
            callback: callback.clone(),
            text: Some(paging::Expired::Unknown.notice(lang)),
            alert: false,
        };
        let work: Work = Box::new(move || Box::pin(async move { vec![expired] }));
        conversations.accept_press(chat, user, callback, lang, work);
        return Ok(());
    };
    let origin = Origin {
        user: Some(user),
        language: presser_language,
        ..chat_origin(message)
    };
    let chat = origin.chat;
    let message_id = message.id.0;
    let data = query.data.unwrap_or_default();
    let answer_to = callback.clone();
    let work: Work = Box::new(move || {
        Box::pin(async move {
            let now = ctx.clock.now();
            let pressed = match commands::reply_language(&ctx, &origin) {
                Ok(lang) => buttons::press(&ctx, &origin, &data, now, lang).await,
                Err(e) => Err(e),
            };
            let pressed = match pressed {
                Ok(pressed) => pressed,
                Err(e) => {
                    if let Some(held_back) = crate::runtime::log_limit::allow("button failed") {
                        tracing::error!(error = %e, chat = origin.chat, held_back, "a button press failed");
                    }
                    buttons::Pressed {
                        notice: Some(tr!(lang, "sorry")),
                        alert: false,
                        page: None,
                        more: Vec::new(),
                    }
                }
            };
            // Answered first: the spinner stops while the edit waits its turn.
            let mut out = vec![Outgoing::Answer {
                callback: answer_to,
                text: pressed.notice,
                alert: pressed.alert,
            }];
            if let Some(page) = pressed.page {
                out.push(Outgoing::Edit {
                    chat: origin.chat,
                    message_id,
                    text: MessageText::fit(page.text),
                    keyboard: page.keyboard,
                });
            }
            for text in pressed.more {
                out.push(Outgoing::message(origin.chat, origin.thread, text));
            }
            out
        })
    });
    let accepted = conversations.accept_press(chat, user, callback, lang, work);
    if accepted != Accepted::Queued {
        tracing::debug!(chat, ?accepted, "button press not queued");
    }
    Ok(())
}

/// The bot's own membership changed: removed, kicked or blocked ends the
/// chat's subscription and whatever it was owed, at once; added to a group
/// gets one short welcome.
async fn on_my_chat_member(
    update: ChatMemberUpdated,
    ctx: Context,
    conversations: Conversations,
) -> anyhow::Result<()> {
    let chat = update.chat.id.0;
    let out =
        |kind: &ChatMemberKind| matches!(kind, ChatMemberKind::Left | ChatMemberKind::Banned(_));
    if out(&update.new_chat_member.kind) {
        if update.chat.is_group()
            && matches!(update.new_chat_member.kind, ChatMemberKind::Left)
            && upgraded(&ctx, chat).await
        {
            // The group became a supergroup: its subscription moves with the
            // next push (see delivery), not ends.
            return Ok(());
        }
        conversations.forget(chat);
        ctx.access.forget_chat(chat);
        let dropped = ctx.store.remove_chat(chat, Removal::ChatGone).await?;
        tracing::info!(
            chat,
            dropped,
            "the bot was removed from the chat (or blocked); its subscription ended"
        );
        return Ok(());
    }
    let joined = out(&update.old_chat_member.kind);
    if joined && (update.chat.is_group() || update.chat.is_supergroup()) {
        // The group's own language if it has one (it may have had the bot
        // before), else the language of whoever added the bot.
        let chosen = ctx.store.settings(Target::from(chat))?;
        let adder = update
            .from
            .language_code
            .as_deref()
            .map(Language::from_telegram);
        let lang = Language::for_reply(chosen.language, chosen.inferred_language, adder, false);
        conversations.notify(
            chat,
            None,
            commands::help::welcome(&ctx.config, ctx.access.who(), lang),
        );
    }
    Ok(())
}

/// Whether basic group `chat` was upgraded to a supergroup (Telegram then
/// says so when asked about the old id).
async fn upgraded(ctx: &Context, chat: i64) -> bool {
    match ctx.access.lookup().chat(ChatRef::Id(chat)).await {
        Err(LookupError::Refused(description)) => description
            .to_ascii_lowercase()
            .contains("upgraded to a supergroup"),
        _ => false,
    }
}
