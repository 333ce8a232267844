//! Where a settings command (`/filter`, `/quiet`, `/digest`, `/language`)
//! applies, and whether its sender may change it: the chat or forum topic it
//! is sent in (in a group, reading is open to all and changing follows
//! `groups.who_can_subscribe`, as for `/subscribe`; in a channel, whoever
//! posts is an administrator), or, named first in a private chat, a channel
//! the sender manages (`/quiet @channel 23:00-07:00`), checked as for
//! `/unsubscribe @channel`.

use super::{Context, Origin, Reply, channel, may_change};
use crate::config::Language;
use crate::settings::TargetSettings;
use crate::store::{MAX_TOPICS, StoreError, Target};
use crate::telegram::lookup::{ChatKind, ChatRef};
use crate::tr;

/// A settings command's arguments: a channel named first, and the rest as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SettingsArgs {
    pub channel: Option<ChatRef>,
    pub args: String,
}

impl SettingsArgs {
    /// Splits a channel (`@name` or a `-100…` id) off the front of `args`;
    /// `None` when the first word looks like one but is not a valid name.
    pub(crate) fn parse(args: &str) -> Option<SettingsArgs> {
        let args = args.trim();
        let (first, rest) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
        let numeric = first
            .strip_prefix('-')
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
        if first.starts_with('@') || numeric {
            return Some(SettingsArgs {
                channel: Some(super::channel_ref(first)?),
                args: rest.trim().to_string(),
            });
        }
        Some(SettingsArgs {
            channel: None,
            args: args.to_string(),
        })
    }
}

/// The target a settings command applies to, and how replies name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Place {
    pub target: Target,
    /// What it is, as the translation files choose their words for it
    /// (`$place`): "chat", "topic" or "channel".
    pub kind: &'static str,
    /// A channel's name ("@news", escaped; `$name`); empty for the others.
    pub name: String,
}

/// Where a settings command from `origin` applies (`channel`: the one it
/// names), if its sender may see it, and change it when `changes`; else the
/// reply to give instead (`None`: stay silent).
pub(crate) async fn place(
    ctx: &Context,
    origin: &Origin,
    channel: Option<ChatRef>,
    changes: bool,
    lang: Language,
) -> Result<Result<Place, Option<Reply>>, StoreError> {
    if let Some(channel) = channel {
        let Some(user) = origin.user.filter(|_| origin.kind == ChatKind::Private) else {
            return Ok(Err(Some(Reply::here(tr!(lang, "channels-from-private")))));
        };
        return Ok(match channel::theirs(ctx, user, &channel, lang).await? {
            Ok(info) => Ok(Place {
                target: Target::from(info.id),
                kind: "channel",
                name: channel::name_of(&info, lang),
            }),
            Err(reply) => Err(Some(Reply::here(reply))),
        });
    }
    if changes && let Err(refusal) = may_change(ctx, origin, lang).await {
        return Ok(Err(refusal));
    }
    let target = origin.target();
    Ok(Ok(Place {
        target,
        kind: if target.thread.is_some() {
            "topic"
        } else {
            "chat"
        },
        name: String::new(),
    }))
}

/// The refusal when a change would give settings to a forum topic whose
/// group keeps them for [`MAX_TOPICS`] topics already (see
/// [`crate::store::Store::may_keep_settings`]); `None`: go on.
pub(crate) fn no_room(
    ctx: &Context,
    place: &Place,
    changes: bool,
    lang: Language,
) -> Result<Option<String>, StoreError> {
    if !changes || ctx.store.may_keep_settings(place.target)? {
        return Ok(None);
    }
    Ok(Some(tr!(lang, "settings-topics-full", max = MAX_TOPICS)))
}

/// Changes how `target` holds its pushes (`/quiet`, `/digest`), durably,
/// then has the chat's held pushes looked at again at once: a hold that
/// ended or moved must not wait for the next release to be noticed.
pub(crate) async fn change_hold<R>(
    ctx: &Context,
    target: Target,
    change: impl Fn(&mut TargetSettings) -> R,
) -> Result<R, StoreError> {
    let changed = ctx.store.change_settings(target, change).await?;
    ctx.holds.lift(target.chat);
    Ok(changed)
}

/// Ends one way `target` holds its pushes (`take` clears it, saying whether
/// it was on); returns whether it was, and how many pushes are now on their
/// way (none while the other way still holds them).
pub(crate) async fn end_hold(
    ctx: &Context,
    target: Target,
    take: impl Fn(&mut TargetSettings) -> bool,
) -> Result<(bool, usize), StoreError> {
    let (had, still_held) = change_hold(ctx, target, |s| (take(s), s.holds())).await?;
    let on_their_way = if still_held { 0 } else { waiting(ctx, target)? };
    Ok((had, on_their_way))
}

/// How many pushes are owed to `target` (waiting for its quiet hours to end
/// or its digest, or for a retry).
pub(crate) fn waiting(ctx: &Context, target: Target) -> Result<usize, StoreError> {
    Ok(ctx
        .store
        .journal_for(target.chat)?
        .iter()
        .filter(|e| e.thread == target.thread)
        .count())
}

/// "1 release", "3 releases" in `lang`.
pub(crate) fn releases(n: usize, lang: Language) -> String {
    tr!(lang, "releases-count", count = n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_may_come_first() {
        let p = |s| SettingsArgs::parse(s);
        assert_eq!(
            p("@embassy_news add visa"),
            Some(SettingsArgs {
                channel: Some(ChatRef::Username("embassy_news".into())),
                args: "add visa".into()
            })
        );
        assert_eq!(
            p("-1001234567890 off").unwrap().channel,
            Some(ChatRef::Id(-1_001_234_567_890))
        );
        assert_eq!(p("add -visa").unwrap().channel, None);
        assert_eq!(p("add -visa").unwrap().args, "add -visa");
        assert_eq!(p("").unwrap().args, "");
        assert_eq!(p("@x add visa"), None, "too short for a username");
    }
}
