//! Channels, subscribed from a private chat with the bot: `/subscribe
//! @channel [source]` (or the channel's `-100…` id) and `/unsubscribe
//! @channel [source]`. Both the bot and the person must be administrators of
//! the channel, and the bot must be allowed to post; each missing piece gets
//! its own reply, saying what to do. The channel's numeric id is what is
//! stored, so a renamed channel keeps its subscription.

use chrono::{DateTime, Utc};

use super::subscribe::resolve;
use super::{Context, Origin, lookup_trouble};
use crate::lookup::{ChatInfo, ChatKind, ChatRef, LookupError, MemberStatus};
use crate::render::escape;
use crate::store::{MAX_CHANNELS_PER_USER, StoreError};

/// Where channels are subscribed from.
const PRIVATE_ONLY: &str = "Channels are subscribed from a private chat with me: open it, and send /subscribe @channel there (you must be an administrator of the channel).";

/// How a channel is named in replies: its @username, else its title, else its id.
pub(super) fn name_of(info: &ChatInfo) -> String {
    match (&info.username, &info.title) {
        (Some(username), _) => format!("@{}", escape(username)),
        (None, Some(title)) => format!("“{}”", escape(title)),
        (None, None) => info.id.to_string(),
    }
}

/// The person asking (in a private chat only) and the configured source
/// they named; else the reply.
fn who_and_what(
    ctx: &Context,
    origin: &Origin,
    source: Option<&str>,
) -> Result<(i64, Option<String>), String> {
    let Some(user) = origin.user.filter(|_| origin.kind == ChatKind::Private) else {
        return Err(PRIVATE_ONLY.into());
    };
    let source = source.map(|name| resolve(ctx, name)).transpose()?;
    Ok((user, source.map(|s| s.name.clone())))
}

/// Subscribes `channel` for `origin`'s user, once every check passed.
pub async fn subscribe(
    ctx: &Context,
    origin: &Origin,
    channel: ChatRef,
    source: Option<&str>,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let (user, source) = match who_and_what(ctx, origin, source) {
        Ok(asked) => asked,
        Err(reply) => return Ok(reply),
    };
    let info = match checked(ctx, user, &channel).await {
        Ok(info) => info,
        Err(reply) => return Ok(reply),
    };
    let name = name_of(&info);
    let remembered = ctx
        .store
        .remember_channel(
            user,
            info.id,
            info.title.as_deref(),
            info.username.as_deref(),
            now,
        )
        .await?;
    if !remembered {
        return Ok(format!(
            "You have subscribed {MAX_CHANNELS_PER_USER} channels already; /unsubscribe one of them first (/subscriptions lists them)."
        ));
    }
    let changed = ctx.store.subscribe(info.id, source.as_deref(), now).await?;
    let what = source.map_or("every new release".to_string(), |s| {
        format!("every new release of {}", escape(&s))
    });
    Ok(if changed {
        format!(
            "Subscribed {name}: {what} will be posted there. /unsubscribe {name} stops it; /subscriptions lists your channels."
        )
    } else {
        format!("{name} is subscribed already. /unsubscribe {name} stops it.")
    })
}

/// Unsubscribes `channel` (from `source`, or from everything) for `origin`'s
/// user: one who subscribed it, or an administrator of it.
pub async fn unsubscribe(
    ctx: &Context,
    origin: &Origin,
    channel: ChatRef,
    source: Option<&str>,
) -> Result<String, StoreError> {
    let (user, source) = match who_and_what(ctx, origin, source) {
        Ok(asked) => asked,
        Err(reply) => return Ok(reply),
    };
    let info = match theirs(ctx, user, &channel).await? {
        Ok(info) => info,
        Err(reply) => return Ok(reply),
    };
    let name = name_of(&info);
    let configured: Vec<String> = ctx.config.sources.iter().map(|s| s.name.clone()).collect();
    let ended = ctx
        .store
        .unsubscribe(info.id, source.as_deref(), &configured)
        .await?;
    if ctx.store.subscription(info.id)?.is_none() {
        ctx.store.forget_channel(user, info.id).await?;
    }
    Ok(match (ended, source) {
        (false, None) => format!("{name} was not subscribed."),
        (false, Some(s)) => format!("{name} was not subscribed to {}.", escape(&s)),
        (true, None) => format!("Unsubscribed {name}: no more release posts there."),
        (true, Some(s)) => format!("Unsubscribed {name} from {}.", escape(&s)),
    })
}

/// The channel `channel` names, if it is `user`'s to manage: one they
/// subscribed (even if the bot can no longer ask Telegram about it), or one
/// Telegram says they administer; else the reply saying why not.
pub(super) async fn theirs(
    ctx: &Context,
    user: i64,
    channel: &ChatRef,
) -> Result<Result<ChatInfo, String>, StoreError> {
    let known = ctx
        .store
        .channels_of(user)?
        .into_iter()
        .find(|(id, note)| match channel {
            ChatRef::Id(wanted) => id == wanted,
            ChatRef::Username(wanted) => note
                .username
                .as_ref()
                .is_some_and(|u| u.eq_ignore_ascii_case(wanted)),
        });
    Ok(match known {
        Some((id, note)) => Ok(ChatInfo {
            id,
            kind: ChatKind::Channel,
            title: note.title,
            username: note.username,
        }),
        None => administered(ctx, user, channel).await,
    })
}

/// The channel `chat` names, once Telegram confirmed that the bot may post
/// there and that `user` administers it; else the reply saying what is missing.
async fn checked(ctx: &Context, user: i64, chat: &ChatRef) -> Result<ChatInfo, String> {
    let lookup = ctx.access.lookup();
    let info = channel_info(ctx, chat).await?;
    let name = name_of(&info);
    match lookup.member(ChatRef::Id(info.id), lookup.bot_id()).await {
        Ok(MemberStatus::Creator | MemberStatus::Administrator { can_post: true }) => {}
        Ok(MemberStatus::Administrator { can_post: false }) => {
            return Err(format!(
                "I am an administrator of {name}, but may not post messages there. Give me the “Post messages” right (channel settings → Administrators → me), then send this again."
            ));
        }
        Ok(_) | Err(LookupError::Refused(_) | LookupError::NotFound) => {
            return Err(format!(
                "I am not an administrator of {name}. Add me as an administrator allowed to post messages (channel settings → Administrators → Add Admin), then send this again."
            ));
        }
        Err(e) => return Err(lookup_trouble(&e)),
    }
    admin_check(ctx, user, info).await
}

/// The channel `chat` names, if `user` administers it (no check of the bot's rights).
async fn administered(ctx: &Context, user: i64, chat: &ChatRef) -> Result<ChatInfo, String> {
    let info = channel_info(ctx, chat).await?;
    admin_check(ctx, user, info).await
}

async fn admin_check(ctx: &Context, user: i64, info: ChatInfo) -> Result<ChatInfo, String> {
    let name = name_of(&info);
    match ctx.access.lookup().member(ChatRef::Id(info.id), user).await {
        Ok(status) if status.is_admin() => Ok(info),
        Ok(_) | Err(LookupError::Refused(_) | LookupError::NotFound) => Err(format!(
            "You are not an administrator of {name}: only its administrators can change what it gets."
        )),
        Err(e) => Err(lookup_trouble(&e)),
    }
}

/// What Telegram knows of `chat`, if it is a channel.
async fn channel_info(ctx: &Context, chat: &ChatRef) -> Result<ChatInfo, String> {
    let shown = escape(&chat.to_string());
    let info = match ctx.access.lookup().chat(chat.clone()).await {
        Ok(info) => info,
        Err(LookupError::NotFound | LookupError::Refused(_)) => {
            return Err(format!(
                "I cannot find the channel {shown}. Check the name (a public channel's @username, or a private channel's id, -100…), and add me to the channel as an administrator."
            ));
        }
        Err(e) => return Err(lookup_trouble(&e)),
    };
    if info.kind != ChatKind::Channel {
        return Err(format!(
            "{shown} is not a channel. To subscribe a group, add me to it and send /subscribe there."
        ));
    }
    Ok(info)
}
