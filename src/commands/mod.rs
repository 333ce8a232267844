//! Bot commands: each command a type, parsed once from the text a user sent
//! ([`parse()`]) and carried out by its own file, which turns it into reply
//! text (Telegram HTML). Usages and refusals are named ([`reply`]) and put
//! into words when said. The settings commands share one path
//! ([`settings_command`]); buttons read their data in [`paging`], below the
//! commands that make them, and [`buttons`] serves their presses. Nothing
//! here knows teloxide, so every command is testable without Telegram.

pub(crate) mod access;
pub(crate) mod buttons;
pub(crate) mod channel;
pub(crate) mod contact;
pub mod counters;
pub(crate) mod digest;
pub(crate) mod filter;
pub mod help;
pub(crate) mod holds;
pub(crate) mod language;
pub mod latest;
pub(crate) mod paging;
pub(crate) mod parse;
pub(crate) mod quiet;
pub(crate) mod reply;
pub mod search;
pub(crate) mod settings_command;
pub(crate) mod sources;
pub(crate) mod status;
pub(crate) mod subscribe;
pub(crate) mod subscriptions;
pub mod time;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::config::Language;
use crate::delivery::Holds;
use crate::store::{Store, StoreError, Target};
use crate::telegram::lookup::{ChatKind, ChatRef};
use crate::text::clock::Clock;
use crate::text::matching::Query;
use crate::tr;
use access::Access;
pub(crate) use parse::{Parsed, needs_answer, parse};
use reply::CommandError;
pub(crate) use reply::Reply;

/// What a command handler may read or change.
#[derive(Clone)]
pub(crate) struct Context {
    pub store: Store,
    pub config: Arc<Config>,
    /// Telegram's limits as the bot currently keeps them (for `/status`).
    pub limiter: Arc<crate::telegram::limiter::Limiter>,
    /// Who may change what, and what Telegram says about chats and people.
    pub access: Arc<Access>,
    /// The bot's wall clock (a test's may start at any instant).
    pub clock: Clock,
    /// Chats whose pushes wait for their quiet hours or digest: a change of
    /// either lifts the chat's hold, so delivery looks at it again at once.
    pub holds: Arc<Holds>,
}

/// Where a command came from, and who sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    pub chat: i64,
    /// The forum topic it was sent in (`None`: not a forum, or its General topic).
    pub thread: Option<i32>,
    pub kind: ChatKind,
    /// The person who sent it (or pressed a button under the bot's message):
    /// `None` for a channel post, or a message sent on behalf of a chat.
    pub user: Option<i64>,
    /// Sent by an anonymous administrator: `sender_chat` is the group itself.
    pub anonymous_admin: bool,
    /// The sender's language as their Telegram app reports it (`None`: not
    /// reported, or no person sent it); see [`Language::for_reply`].
    pub language: Option<Language>,
}

impl Origin {
    /// Where this chat's pushes go: the chat, or the topic the command came from.
    pub(crate) fn target(&self) -> Target {
        Target {
            chat: self.chat,
            thread: self.thread,
        }
    }

    /// Whether it came from a private chat with the bot.
    fn is_private(&self) -> bool {
        self.kind == ChatKind::Private
    }

    /// Whether the sender is one of the bot's operators (a person, by user id).
    fn is_operator(&self, config: &Config) -> bool {
        self.user.is_some_and(|u| config.is_operator(u))
    }

    /// Whether what is shown here may hold operator-only text (a source's
    /// error, which can name internal addresses): only in an operator's
    /// private chat. In a group, everyone sees the same, operators too.
    fn sees_errors(&self, config: &Config) -> bool {
        self.is_private() && self.is_operator(config)
    }
}

/// A command the bot understands, with its arguments parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    Start,
    Help,
    /// The newest releases, `n` a page.
    Latest(usize),
    /// Stored releases whose title and lead match, newest first.
    Search(Query),
    /// Every source (`None`) or one, by the name as typed (lowercased; checked
    /// against the config when run, since parsing does not know it); for this
    /// chat, or for a channel named in a private chat.
    Subscribe {
        channel: Option<ChatRef>,
        source: Option<String>,
    },
    Unsubscribe {
        channel: Option<ChatRef>,
        source: Option<String>,
    },
    /// The watched sources, this chat's subscription, and how reads are going.
    Sources,
    /// What this chat (or topic) gets, and in a private chat the channels
    /// the user subscribed.
    Subscriptions,
    Time,
    Counters,
    Contact,
    /// Operators only (`admin_users`, `admin_chats`); not in the public menu.
    Status,
    /// Keyword filters of this chat or topic, or of a channel named first
    /// in a private chat (as are the other settings commands'). Boxed: a
    /// filter is large beside every other command.
    Filter {
        channel: Option<ChatRef>,
        request: Box<filter::Request>,
    },
    /// Quiet hours.
    Quiet {
        channel: Option<ChatRef>,
        request: quiet::Request,
    },
    /// The daily digest.
    Digest {
        channel: Option<ChatRef>,
        request: digest::Request,
    },
    /// The chat's language.
    Language {
        channel: Option<ChatRef>,
        request: language::Request,
    },
}

impl Command {
    /// Carries the command out for `origin` at `now`, answering in `lang`;
    /// `None`: stay silent. Each command's own file does the work.
    async fn run(
        self,
        ctx: &Context,
        origin: &Origin,
        now: DateTime<Utc>,
        lang: Language,
    ) -> Result<Option<Reply>, CommandError> {
        let (store, config) = (&ctx.store, &ctx.config);
        let text = match self {
            Command::Start | Command::Help => help::reply(config, lang),
            Command::Latest(n) => return Ok(Some(Reply::page(latest::view(store, 0, n, lang)?))),
            Command::Search(query) => {
                let save = || store.save_query(origin.chat, &query.describe(), now);
                let page = search::view(store, &query, 0, lang, save)?;
                return Ok(Some(Reply::page(page)));
            }
            Command::Subscribe {
                channel: Some(channel),
                source,
            } => channel::subscribe(ctx, origin, channel, source.as_deref(), now, lang).await?,
            Command::Subscribe {
                channel: None,
                source,
            } => subscribe::subscribe_here(ctx, origin, source.as_deref(), now, lang).await?,
            Command::Unsubscribe {
                channel: Some(channel),
                source,
            } => channel::unsubscribe(ctx, origin, channel, source.as_deref(), lang).await?,
            Command::Unsubscribe {
                channel: None,
                source,
            } => subscribe::unsubscribe_here(ctx, origin, source.as_deref(), lang).await?,
            Command::Sources => {
                let errors = origin.sees_errors(config);
                let reply = Reply::page(sources::reply(ctx, origin.target(), errors, lang)?);
                if origin.is_operator(config) && !errors {
                    // Asked in a group: the errors go to the operator alone,
                    // as /status does.
                    return Ok(Some(reply.and_privately(sources::errors(ctx, lang)?)));
                }
                return Ok(Some(reply));
            }
            Command::Subscriptions => subscriptions::reply(ctx, origin, lang)?,
            Command::Time => time::reply(now, &config.time, lang),
            Command::Counters => counters::reply(now, &config.counters, lang),
            Command::Contact => contact::reply(store.contacts()?, &config.contact, lang),
            Command::Status => return Ok(status::run(ctx, origin, lang)?),
            Command::Filter { channel, request } => {
                return run_settings(ctx, origin, channel, *request, now, lang).await;
            }
            Command::Quiet { channel, request } => {
                return run_settings(ctx, origin, channel, request, now, lang).await;
            }
            Command::Digest { channel, request } => {
                return run_settings(ctx, origin, channel, request, now, lang).await;
            }
            Command::Language { channel, request } => {
                return run_settings(ctx, origin, channel, request, now, lang).await;
            }
        };
        Ok(Some(Reply::here(text)))
    }
}

/// A settings command, by the one path they all take.
async fn run_settings<C: settings_command::SettingsCommand>(
    ctx: &Context,
    origin: &Origin,
    channel: Option<ChatRef>,
    request: C,
    now: DateTime<Utc>,
    lang: Language,
) -> Result<Option<Reply>, CommandError> {
    settings_command::run(ctx, origin, channel, request, now, lang)
        .await
        .map(Some)
}

/// Default and maximum for `/latest [n]`.
pub(crate) const LATEST_DEFAULT: usize = 5;
pub(crate) const LATEST_MAX: usize = 20;

/// The reply to a parsed message, or `None` to stay silent. In groups and
/// channels the bot answers only commands, unknown ones only when addressed
/// to it, and operator commands only to operators.
pub(crate) async fn respond(
    ctx: &Context,
    origin: &Origin,
    parsed: Parsed,
    now: DateTime<Utc>,
) -> Result<Option<Reply>, StoreError> {
    if parsed == Parsed::NotForUs {
        return Ok(None);
    }
    let lang = reply_language(ctx, origin)?;
    let text = match parsed {
        Parsed::Command(command) => return execute(ctx, origin, command, now, lang).await,
        Parsed::NotForUs => return Ok(None),
        Parsed::BadArgs(usage) => usage.words(lang),
        Parsed::Unknown { name, addressed } => {
            if !origin.is_private() && !addressed {
                return Ok(None);
            }
            tr!(
                lang,
                "unknown-command",
                name = crate::text::markup::escape(&crate::text::markup::shorten(&name, 40))
            )
        }
        Parsed::NotACommand => {
            if !origin.is_private() {
                return Ok(None);
            }
            tr!(lang, "not-a-command")
        }
    };
    Ok(Some(Reply::here(text)))
}

/// The language of replies to `origin` ([`Language::for_reply`]): one read
/// of the chat's own settings record.
pub(crate) fn reply_language(ctx: &Context, origin: &Origin) -> Result<Language, StoreError> {
    let chat = ctx.store.settings(Target::from(origin.chat))?;
    Ok(Language::for_reply(
        chat.language,
        chat.inferred_language,
        origin.language,
        origin.is_private(),
    ))
}

/// Runs one command, answering in `lang`: a refusal is said here (or, to
/// a crowd, not at all); only a failed store is an error.
pub(crate) async fn execute(
    ctx: &Context,
    origin: &Origin,
    command: Command,
    now: DateTime<Utc>,
    lang: Language,
) -> Result<Option<Reply>, StoreError> {
    match command.run(ctx, origin, now, lang).await {
        Ok(reply) => Ok(reply),
        Err(CommandError::Refused(refusal)) => Ok(refusal.words(lang).map(Reply::here)),
        Err(CommandError::Store(e)) => Err(e),
    }
}
