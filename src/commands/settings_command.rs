//! What the settings commands (`/filter`, `/quiet`, `/digest`, `/language`)
//! share: the request to show, end or set one setting, the [`Scope`] a
//! command applies to, and the one path every one of them takes there
//! ([`run`]): scope, permission, room, apply.
//!
//! A settings command applies to the chat or forum topic it is sent in (in
//! a group, reading is open to all and changing follows
//! `groups.who_can_subscribe`, as for `/subscribe`; in a channel, whoever
//! posts is an administrator), or, named first in a private chat, to a
//! channel the sender manages (`/quiet @channel 23:00-07:00`), checked as
//! for `/unsubscribe @channel`.

use std::convert::Infallible;

use chrono::{DateTime, Utc};

use super::reply::{CommandError, Refusal, Reply, Usage};
use super::{Context, Origin, channel};
use crate::config::Language;
use crate::store::{StoreError, Target};
use crate::telegram::lookup::{ChatKind, ChatRef};

/// What a settings command asks of one setting: say what it is, end it, or
/// set it. `Off` is `()` for a setting that can be ended, and
/// [`Infallible`] for one that cannot (a chat always speaks some language).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Request<T, Off = ()> {
    Show,
    Off(Off),
    Set(T),
}

impl<T> Request<T> {
    /// Reads a settings command's arguments: none shows the setting, `off`
    /// ends it, anything else is `value`'s to read.
    pub(crate) fn read(
        args: &str,
        value: impl FnOnce(&str) -> Result<T, Usage>,
    ) -> Result<Request<T>, Usage> {
        let args = args.trim();
        if args.is_empty() {
            return Ok(Request::Show);
        }
        if args.eq_ignore_ascii_case("off") {
            return Ok(Request::Off(()));
        }
        value(args).map(Request::Set)
    }
}

impl<T> Request<T, Infallible> {
    /// Reads the arguments of a settings command whose setting cannot be
    /// ended: none shows it, anything else is `value`'s to read.
    pub(crate) fn read(
        args: &str,
        value: impl FnOnce(&str) -> Result<T, Usage>,
    ) -> Result<Request<T, Infallible>, Usage> {
        let args = args.trim();
        if args.is_empty() {
            return Ok(Request::Show);
        }
        value(args).map(Request::Set)
    }
}

/// A settings command's request, as the one path ([`run`]) carries it out.
pub(crate) trait SettingsCommand {
    /// Whether it changes anything (then only those who may, may, and a
    /// forum topic needs room for its settings).
    fn changes(&self) -> bool;

    /// What the request applies to, within the scope the command came to:
    /// that scope, unless the setting is one the whole chat shares.
    fn narrow(scope: Scope) -> Scope {
        scope
    }

    /// Carries the request out for `scope` at `now`, answering in `lang`.
    /// Changes are durable before the reply.
    fn apply(
        self,
        ctx: &Context,
        scope: &Scope,
        now: DateTime<Utc>,
        lang: Language,
    ) -> impl Future<Output = Result<String, StoreError>> + Send;
}

/// The target a settings command applies to, and how replies name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scope {
    pub target: Target,
    /// What it is, as the translation files choose their words for it
    /// (`$place`): "chat", "topic" or "channel" (and "group" for the
    /// whole of a forum, see [`Scope::whole_chat`]).
    pub kind: &'static str,
    /// A channel's name ("@news", escaped; `$name`); empty for the others.
    pub name: String,
}

impl Scope {
    /// The chat or forum topic `origin` is in.
    fn here(origin: &Origin) -> Scope {
        let target = origin.target();
        Scope {
            target,
            kind: if target.thread.is_some() {
                "topic"
            } else {
                "chat"
            },
            name: String::new(),
        }
    }

    /// The channel `channel` names, if the sender of `origin` (in a private
    /// chat) manages it: a channel is not even shown to others.
    async fn channel(
        ctx: &Context,
        origin: &Origin,
        channel: &ChatRef,
        lang: Language,
    ) -> Result<Scope, CommandError> {
        let Some(user) = origin.user.filter(|_| origin.kind == ChatKind::Private) else {
            return Err(Refusal::ChannelsFromPrivate.into());
        };
        let info = channel::theirs(ctx, user, channel, lang).await?;
        Ok(Scope {
            target: Target::from(info.id),
            kind: "channel",
            name: channel::name_of(&info, lang),
        })
    }

    /// The whole chat this scope is in: a forum topic's group (named so),
    /// else the scope itself.
    pub(crate) fn whole_chat(self) -> Scope {
        Scope {
            target: Target::from(self.target.chat),
            kind: match self.kind {
                "topic" => "group",
                other => other,
            },
            name: self.name,
        }
    }
}

/// The one path of every settings command from `origin`: the scope it
/// applies to (`channel`: the one it names, which must be the sender's),
/// whether its sender may change it, whether a forum topic has room for
/// settings ([`crate::store::Store::may_keep_settings`]), then the request.
pub(crate) async fn run<C: SettingsCommand>(
    ctx: &Context,
    origin: &Origin,
    channel: Option<ChatRef>,
    request: C,
    now: DateTime<Utc>,
    lang: Language,
) -> Result<Reply, CommandError> {
    let changes = request.changes();
    let scope = match channel {
        Some(channel) => Scope::channel(ctx, origin, &channel, lang).await?,
        None => {
            if changes {
                ctx.access.permit(origin).await?;
            }
            Scope::here(origin)
        }
    };
    let scope = C::narrow(scope);
    if changes && !ctx.store.may_keep_settings(scope.target)? {
        return Err(Refusal::TopicsFull.into());
    }
    let text = request.apply(ctx, &scope, now, lang).await?;
    Ok(Reply::here(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(usage: Usage) -> String {
        usage.words(Language::En)
    }

    #[test]
    fn no_arguments_show_off_ends_and_the_rest_is_the_settings() {
        let value = |args: &str| match args {
            "7" => Ok(7),
            _ => Err(Usage::of("quiet-usage")),
        };
        assert_eq!(Request::<u8>::read("  ", value), Ok(Request::Show));
        assert_eq!(Request::<u8>::read(" OFF ", value), Ok(Request::Off(())));
        assert_eq!(Request::<u8>::read("7", value), Ok(Request::Set(7)));
        assert!(words(Request::<u8>::read("8", value).unwrap_err()).starts_with("Usage"));
        let no_off = Request::<u8, Infallible>::read("off", value).unwrap_err();
        assert!(words(no_off).starts_with("Usage"), "off is a value there");
    }

    #[test]
    fn a_forum_topic_shares_its_group_s_whole_chat_settings() {
        let topic = Scope {
            target: Target {
                chat: -100,
                thread: Some(7),
            },
            kind: "topic",
            name: String::new(),
        };
        let whole = topic.whole_chat();
        assert_eq!(whole.target, Target::from(-100));
        assert_eq!(whole.kind, "group");
        let channel = Scope {
            target: Target::from(-200),
            kind: "channel",
            name: "@news".into(),
        };
        assert_eq!(channel.clone().whole_chat(), channel);
    }
}
