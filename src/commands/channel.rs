//! Channels, subscribed from a private chat with the bot: `/subscribe
//! @channel [source]` (or the channel's `-100…` id) and `/unsubscribe
//! @channel [source]`. Both the bot and the person must be administrators of
//! the channel, and the bot must be allowed to post; each missing piece gets
//! its own reply, saying what to do. The channel's numeric id is what is
//! stored, so a renamed channel keeps its subscription.
//!
//! Every later change to the channel (`/unsubscribe`, and the settings
//! commands that name it) asks Telegram again whether the person
//! administers it ([`theirs`]): who subscribed it is remembered only to find
//! it, and gives no rights.

use chrono::{DateTime, Utc};

use super::reply::{CommandError, Refusal};
use super::subscribe::{note_language, resolve};
use super::{Context, Origin};
use crate::config::Language;
use crate::store::{MAX_CHANNELS_PER_USER, StoreError};
use crate::telegram::lookup::{ChatInfo, ChatKind, ChatRef, LookupError, MemberStatus};
use crate::text::markup::escape;
use crate::tr;

/// How a channel is named in replies: its @username, else its title (in
/// `lang`'s quotes), else its id.
pub(super) fn name_of(info: &ChatInfo, lang: Language) -> String {
    match (&info.username, &info.title) {
        (Some(username), _) => format!("@{}", escape(username)),
        (None, Some(title)) => tr!(lang, "quoted", text = escape(title)),
        (None, None) => info.id.to_string(),
    }
}

/// The person asking (in a private chat only) and the configured source
/// they named; else the reply.
fn who_and_what(
    ctx: &Context,
    origin: &Origin,
    source: Option<&str>,
    lang: Language,
) -> Result<(i64, Option<String>), String> {
    let Some(user) = origin.user.filter(|_| origin.kind == ChatKind::Private) else {
        return Err(tr!(lang, "channel-private-only"));
    };
    let source = source.map(|name| resolve(ctx, name, lang)).transpose()?;
    Ok((user, source.map(|s| s.name.clone())))
}

/// Subscribes `channel` for `origin`'s user, once every check passed.
pub(crate) async fn subscribe(
    ctx: &Context,
    origin: &Origin,
    channel: ChatRef,
    source: Option<&str>,
    now: DateTime<Utc>,
    lang: Language,
) -> Result<String, StoreError> {
    let (user, source) = match who_and_what(ctx, origin, source, lang) {
        Ok(asked) => asked,
        Err(reply) => return Ok(reply),
    };
    let info = match checked(ctx, user, &channel, lang).await {
        Ok(info) => info,
        Err(reply) => return Ok(reply),
    };
    let name = name_of(&info, lang);
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
        return Ok(tr!(lang, "channel-too-many", max = MAX_CHANNELS_PER_USER));
    }
    let changed = ctx.store.subscribe(info.id, source.as_deref(), now).await?;
    // The channel speaks the language of whoever subscribed it.
    note_language(ctx, info.id, origin.language).await?;
    Ok(if !changed {
        tr!(lang, "channel-already", name = name)
    } else if let Some(source) = source {
        tr!(
            lang,
            "channel-subscribed-source",
            name = name,
            source = escape(&source)
        )
    } else {
        tr!(lang, "channel-subscribed-all", name = name)
    })
}

/// Unsubscribes `channel` (from `source`, or from everything) for `origin`'s
/// user, if they administer it now ([`theirs`]).
pub(crate) async fn unsubscribe(
    ctx: &Context,
    origin: &Origin,
    channel: ChatRef,
    source: Option<&str>,
    lang: Language,
) -> Result<String, CommandError> {
    let (user, source) = match who_and_what(ctx, origin, source, lang) {
        Ok(asked) => asked,
        Err(reply) => return Ok(reply),
    };
    let info = theirs(ctx, user, &channel, lang).await?;
    let name = name_of(&info, lang);
    let configured: Vec<String> = ctx.config.sources.iter().map(|s| s.name.clone()).collect();
    let ended = ctx
        .store
        .unsubscribe(info.id, source.as_deref(), &configured)
        .await?;
    if ctx.store.subscription(info.id)?.is_none() {
        ctx.store.forget_channel(user, info.id).await?;
    }
    Ok(match (ended, source) {
        (false, None) => tr!(lang, "channel-not-subscribed", name = name),
        (false, Some(s)) => tr!(
            lang,
            "channel-not-subscribed-to",
            name = name,
            source = escape(&s)
        ),
        (true, None) => tr!(lang, "channel-unsubscribed", name = name),
        (true, Some(s)) => tr!(
            lang,
            "channel-unsubscribed-from",
            name = name,
            source = escape(&s)
        ),
    })
}

/// The channel `channel` names, if it is `user`'s to manage: Telegram says
/// they administer it now (asked as for a group's members, see
/// [`super::access::Access::administers`]); else the refusal saying why
/// not, the same a stranger gets. Having subscribed it once gives no say: a
/// person who left its administrators is a stranger to it. The record of
/// the channels `user` subscribed only finds the channel (a renamed one by
/// its former @username), without asking Telegram what it is.
pub(super) async fn theirs(
    ctx: &Context,
    user: i64,
    channel: &ChatRef,
    lang: Language,
) -> Result<ChatInfo, CommandError> {
    let found = match remembered(ctx, user, channel)? {
        Some(info) => info,
        None => channel_info(ctx, channel, lang)
            .await
            .map_err(Refusal::Channel)?,
    };
    let answer = ctx.access.administers(found.id, user).await;
    Ok(admin_verdict(answer, found, lang).map_err(Refusal::Channel)?)
}

/// The channel `channel` names among those `user` subscribed, as it was
/// when they did (its title and @username then).
fn remembered(ctx: &Context, user: i64, channel: &ChatRef) -> Result<Option<ChatInfo>, StoreError> {
    let found = ctx
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
    Ok(found.map(|(id, note)| ChatInfo {
        id,
        kind: ChatKind::Channel,
        title: note.title,
        username: note.username,
    }))
}

/// The channel `chat` names, once Telegram confirmed that the bot may post
/// there and that `user` administers it; else the reply saying what is missing.
async fn checked(
    ctx: &Context,
    user: i64,
    chat: &ChatRef,
    lang: Language,
) -> Result<ChatInfo, String> {
    let lookup = ctx.access.lookup();
    let info = channel_info(ctx, chat, lang).await?;
    let name = name_of(&info, lang);
    match lookup.member(ChatRef::Id(info.id), lookup.bot_id()).await {
        Ok(MemberStatus::Creator | MemberStatus::Administrator { can_post: true }) => {}
        Ok(MemberStatus::Administrator { can_post: false }) => {
            return Err(tr!(lang, "channel-bot-cannot-post", name = name));
        }
        Ok(_) | Err(LookupError::Refused(_) | LookupError::NotFound) => {
            return Err(tr!(lang, "channel-bot-not-admin", name = name));
        }
        Err(e) => return Err(lookup_trouble(&e, lang)),
    }
    // Asked afresh, not from the cache: subscribing gives the channel to
    // this person's care.
    let answer = lookup.member(ChatRef::Id(info.id), user).await;
    admin_verdict(answer.map(MemberStatus::is_admin), info, lang)
}

/// `info`, if Telegram's `answer` to "does the person administer it?" is
/// yes; else the reply saying so (or that Telegram could not say).
fn admin_verdict(
    answer: Result<bool, LookupError>,
    info: ChatInfo,
    lang: Language,
) -> Result<ChatInfo, String> {
    match answer {
        Ok(true) => Ok(info),
        Ok(false) | Err(LookupError::Refused(_) | LookupError::NotFound) => Err(tr!(
            lang,
            "channel-you-not-admin",
            name = name_of(&info, lang)
        )),
        Err(e) => Err(lookup_trouble(&e, lang)),
    }
}

/// What Telegram knows of `chat`, if it is a channel.
async fn channel_info(ctx: &Context, chat: &ChatRef, lang: Language) -> Result<ChatInfo, String> {
    let shown = escape(&chat.to_string());
    let info = match ctx.access.lookup().chat(chat.clone()).await {
        Ok(info) => info,
        Err(LookupError::NotFound | LookupError::Refused(_)) => {
            return Err(tr!(lang, "channel-not-found", name = shown));
        }
        Err(e) => return Err(lookup_trouble(&e, lang)),
    };
    if info.kind != ChatKind::Channel {
        return Err(tr!(lang, "channel-not-a-channel", name = shown));
    }
    Ok(info)
}

/// The words for a lookup that failed, for replies (Telegram's own
/// description is quoted as it came).
fn lookup_trouble(e: &LookupError, lang: Language) -> String {
    match e {
        LookupError::Unavailable(_) => tr!(lang, "lookup-unavailable"),
        LookupError::NotFound => tr!(lang, "lookup-not-found"),
        LookupError::Refused(reason) => {
            tr!(lang, "lookup-refused", reason = escape(reason))
        }
    }
}
