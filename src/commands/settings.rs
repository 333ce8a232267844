//! Where a settings command (`/filter`, `/quiet`, `/digest`, `/language`)
//! applies, and whether its sender may change it: the chat or forum topic it
//! is sent in (in a group, reading is open to all and changing follows
//! `groups.who_can_subscribe`, as for `/subscribe`; in a channel, whoever
//! posts is an administrator), or, named first in a private chat, a channel
//! the sender manages (`/quiet @channel 23:00-07:00`), checked as for
//! `/unsubscribe @channel`.

use super::{Context, Origin, Reply, channel, may_change};
use crate::lookup::{ChatKind, ChatRef};
use crate::store::{StoreError, Target};

/// A settings command's arguments: a channel named first, and the rest as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsArgs {
    pub channel: Option<ChatRef>,
    pub args: String,
}

impl SettingsArgs {
    /// Splits a channel (`@name` or a `-100…` id) off the front of `args`;
    /// `None` when the first word looks like one but is not a valid name.
    pub fn parse(args: &str) -> Option<SettingsArgs> {
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
pub struct Place {
    pub target: Target,
    /// At the start of a sentence: "This chat", "This topic", "@channel".
    pub subject: String,
    /// Inside one: "this chat", "this topic", "@channel".
    pub object: String,
}

/// The words replies use for places, kept together.
mod text {
    pub const THIS_CHAT: (&str, &str) = ("This chat", "this chat");
    pub const THIS_TOPIC: (&str, &str) = ("This topic", "this topic");
    pub const CHANNELS_FROM_PRIVATE: &str = "A channel's settings are changed from a private chat with me: send the command there, with the channel first (for example /quiet @channel 23:00-07:00).";
}

/// Where a settings command from `origin` applies (`channel`: the one it
/// names), if its sender may see it, and change it when `changes`; else the
/// reply to give instead (`None`: stay silent).
pub async fn place(
    ctx: &Context,
    origin: &Origin,
    channel: Option<ChatRef>,
    changes: bool,
) -> Result<Result<Place, Option<Reply>>, StoreError> {
    if let Some(channel) = channel {
        let Some(user) = origin.user.filter(|_| origin.kind == ChatKind::Private) else {
            return Ok(Err(Some(Reply::here(text::CHANNELS_FROM_PRIVATE.into()))));
        };
        return Ok(match channel::theirs(ctx, user, &channel).await? {
            Ok(info) => {
                let name = channel::name_of(&info);
                Ok(Place {
                    target: Target::from(info.id),
                    subject: name.clone(),
                    object: name,
                })
            }
            Err(reply) => Err(Some(Reply::here(reply))),
        });
    }
    if changes && let Err(refusal) = may_change(ctx, origin).await {
        return Ok(Err(refusal));
    }
    let target = origin.target();
    let (subject, object) = match target.thread {
        None => text::THIS_CHAT,
        Some(_) => text::THIS_TOPIC,
    };
    Ok(Ok(Place {
        target,
        subject: subject.into(),
        object: object.into(),
    }))
}

/// How many pushes are owed to `target` (waiting for its quiet hours to end
/// or its digest, or for a retry).
pub fn waiting(ctx: &Context, target: Target) -> Result<usize, StoreError> {
    Ok(ctx
        .store
        .pending_for(target.chat)?
        .iter()
        .filter(|e| e.thread == target.thread)
        .count())
}

/// "1 release", "3 releases".
pub fn releases(n: usize) -> String {
    if n == 1 {
        "1 release".into()
    } else {
        format!("{n} releases")
    }
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
