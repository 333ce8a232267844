//! Bot commands: parsing the text a user sent, and one file per command that
//! turns a request into reply text (Telegram HTML). Nothing here knows teloxide,
//! so every command is testable without Telegram.

pub mod access;
pub mod buttons;
pub mod channel;
pub mod contact;
pub mod counters;
pub mod digest;
pub mod filter;
pub mod help;
pub mod language;
pub mod latest;
pub mod quiet;
pub mod search;
pub mod settings;
pub mod sources;
pub mod status;
pub mod subscribe;
pub mod subscriptions;
pub mod time;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::clock::Clock;
use crate::config::Config;
use crate::delivery::Holds;
use crate::lookup::{ChatKind, ChatRef, LookupError};
use crate::store::{Store, StoreError, Target};
use access::{Access, Verdict};
use settings::SettingsArgs;

/// What a command handler may read or change.
#[derive(Clone)]
pub struct Context {
    pub store: Store,
    pub config: Arc<Config>,
    /// Telegram's limits as the bot currently keeps them (for `/status`).
    pub limiter: Arc<crate::limiter::Limiter>,
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
pub struct Origin {
    pub chat: i64,
    /// The forum topic it was sent in (`None`: not a forum, or its General topic).
    pub thread: Option<i32>,
    pub kind: ChatKind,
    /// The person who sent it (or pressed a button under the bot's message):
    /// `None` for a channel post, or a message sent on behalf of a chat.
    pub user: Option<i64>,
    /// Sent by an anonymous administrator: `sender_chat` is the group itself.
    pub anonymous_admin: bool,
}

impl Origin {
    /// A private chat with `user` (its chat id is the user id).
    pub fn private(user: i64) -> Origin {
        Origin {
            chat: user,
            thread: None,
            kind: ChatKind::Private,
            user: Some(user),
            anonymous_admin: false,
        }
    }

    /// Where this chat's pushes go: the chat, or the topic the command came from.
    pub fn target(&self) -> Target {
        Target {
            chat: self.chat,
            thread: self.thread,
        }
    }

    fn is_private(&self) -> bool {
        self.kind == ChatKind::Private
    }

    /// Whether the sender is one of the bot's operators (a person, by user id).
    fn is_operator(&self, config: &Config) -> bool {
        self.user.is_some_and(|u| config.is_operator(u))
    }
}

/// What to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Telegram HTML.
    pub text: String,
    /// Send it to the sender's private chat, not where the command came from
    /// (operator information asked for in a group).
    pub privately: bool,
    /// Buttons under it ([`buttons`]).
    pub keyboard: Option<crate::messenger::Keyboard>,
}

impl Reply {
    fn here(text: String) -> Reply {
        Reply {
            text,
            privately: false,
            keyboard: None,
        }
    }

    /// A reply with buttons, where the command came from.
    fn page(page: buttons::Page) -> Reply {
        Reply {
            keyboard: page.keyboard,
            ..Reply::here(page.text)
        }
    }
}

/// A command the bot understands, with its arguments parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Start,
    Help,
    Latest(usize),
    /// Stored releases whose title and lead match, newest first.
    Search(crate::matching::Query),
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
    /// in a private chat; the rest is read by [`filter::parse`].
    Filter(SettingsArgs),
    /// Quiet hours ([`quiet::parse`]).
    Quiet(SettingsArgs),
    /// The daily digest ([`digest::parse`]).
    Digest(SettingsArgs),
    /// The chat's language ([`language::parse`]).
    Language(SettingsArgs),
}

/// The outcome of reading a message's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// A command for us.
    Command(Command),
    /// `/cmd@otherbot`: not ours, stay silent.
    NotForUs,
    /// A command we do not know; `addressed` when it named us with `@`.
    Unknown { name: String, addressed: bool },
    /// A known command with arguments we cannot use.
    BadArgs { usage: &'static str },
    /// Plain text.
    NotACommand,
}

/// The menu registered with setMyCommands, and listed by `/help`:
/// (command, description). The clocks are named as configured.
pub fn menu(config: &Config) -> Vec<(&'static str, String)> {
    let time = &config.time;
    // The date's zone by the label of a clock in it, else by its own name.
    let date_label = time
        .clocks
        .iter()
        .find(|c| c.zone == time.date_zone)
        .map_or_else(|| time.date_zone.name().to_string(), |c| c.label.clone());
    let clock_labels: Vec<&str> = time.clocks.iter().map(|c| c.label.as_str()).collect();
    let clocks = match clock_labels.split_last() {
        Some((last, [])) => format!(", {last} time"),
        Some((last, rest)) => format!(", {} and {last} time", rest.join(", ")),
        None => String::new(),
    };
    vec![
        ("latest", "Newest releases: /latest [n], n up to 20".into()),
        (
            "search",
            "Find releases: /search words or \"a phrase\"".into(),
        ),
        (
            "subscribe",
            "Get new releases: /subscribe [source], all by default".into(),
        ),
        (
            "unsubscribe",
            "Stop them: /unsubscribe [source], all by default".into(),
        ),
        ("sources", "Watched pages, what you get, last reads".into()),
        (
            "subscriptions",
            "What this chat gets, and channels you subscribed".into(),
        ),
        (
            "filter",
            "Only releases that mention a word: /filter add visa".into(),
        ),
        (
            "quiet",
            "Quiet hours: /quiet 23:00-07:00 [time zone]".into(),
        ),
        (
            "digest",
            "One message a day: /digest 09:00 [time zone]".into(),
        ),
        (
            "language",
            "This chat's language: /language en or ru".into(),
        ),
        ("contact", "Phone and e-mail as the site shows them".into()),
        ("time", format!("{date_label} date{clocks}")),
        ("counters", "The site's day counters".into()),
        ("help", "What this bot does".into()),
    ]
}

/// Default and maximum for `/latest [n]`.
pub const LATEST_DEFAULT: usize = 5;
pub const LATEST_MAX: usize = 20;

const LATEST_USAGE: &str = "Usage: /latest [n], where n is a number from 1 to 20 (default 5).";
const SUBSCRIBE_USAGE: &str = "Usage: /subscribe for every source, or /subscribe <name> for one (/sources lists them). For a channel: /subscribe @channel [name], in a private chat with me.";
const UNSUBSCRIBE_USAGE: &str = "Usage: /unsubscribe for every source, or /unsubscribe <name> for one (/sources lists them). For a channel: /unsubscribe @channel [name], in a private chat with me.";

/// A channel as typed: `@username` or a `-100…` id.
fn channel_ref(word: &str) -> Option<ChatRef> {
    if let Some(name) = word.strip_prefix('@') {
        // Telegram usernames: 5–32 of A–Z, a–z, 0–9 and _.
        let valid = (5..=32).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        return valid.then(|| ChatRef::Username(name.to_string()));
    }
    word.strip_prefix('-')
        .filter(|digits| digits.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|_| word.parse::<i64>().ok())
        .map(ChatRef::Id)
}

/// The arguments of `/subscribe` and `/unsubscribe`: an optional channel
/// (`@username` or a `-100…` id), then an optional source name.
fn subscription_args(args: &str) -> Option<(Option<ChatRef>, Option<String>)> {
    let words: Vec<&str> = args.split_whitespace().collect();
    let channel = channel_ref;
    let looks_like_channel = |word: &str| word.starts_with('@') || word.starts_with('-');
    match words.as_slice() {
        [] => Some((None, None)),
        [one] if looks_like_channel(one) => Some((Some(channel(one)?), None)),
        [one] => Some((None, Some(one.to_lowercase()))),
        [chan, source] if looks_like_channel(chan) => {
            Some((Some(channel(chan)?), Some(source.to_lowercase())))
        }
        _ => None,
    }
}

const FILTER_USAGE: &str = "Usage: /filter [add word | add -word | remove word | clear]; for a channel, in a private chat with me: /filter @channel …";
const QUIET_USAGE: &str = "Usage: /quiet 23:00-07:00 [time zone] or /quiet off; for a channel, in a private chat with me: /quiet @channel …";
const DIGEST_USAGE: &str = "Usage: /digest 09:00 [time zone] or /digest off; for a channel, in a private chat with me: /digest @channel …";
const LANGUAGE_USAGE: &str = "Usage: /language en or /language ru; for a channel, in a private chat with me: /language @channel …";

/// A settings command: a channel may come first; the rest is its command's to read.
fn settings_command(
    args: &str,
    command: fn(SettingsArgs) -> Command,
    usage: &'static str,
) -> Parsed {
    match SettingsArgs::parse(args) {
        Some(args) => Parsed::Command(command(args)),
        None => Parsed::BadArgs { usage },
    }
}

/// Reads `text` as a command. `bot_username` decides whether `/cmd@name` is ours.
pub fn parse(text: &str, bot_username: &str) -> Parsed {
    let text = text.trim();
    let Some(rest) = text.strip_prefix('/') else {
        return Parsed::NotACommand;
    };
    let (head, args) = match rest.split_once(char::is_whitespace) {
        Some((head, args)) => (head, args.trim()),
        None => (rest, ""),
    };
    let (name, addressed) = match head.split_once('@') {
        Some((name, mention)) => {
            if !mention.eq_ignore_ascii_case(bot_username) {
                return Parsed::NotForUs;
            }
            (name, true)
        }
        None => (head, false),
    };
    if name.is_empty() {
        return Parsed::NotACommand;
    }
    let name = name.to_lowercase();
    let no_args = |command: Command, usage: &'static str| {
        if args.is_empty() {
            Parsed::Command(command)
        } else {
            Parsed::BadArgs { usage }
        }
    };
    match name.as_str() {
        "start" => Parsed::Command(Command::Start), // deep-link payloads are allowed and ignored
        "help" => no_args(Command::Help, "Usage: /help"),
        "latest" => {
            if args.is_empty() {
                return Parsed::Command(Command::Latest(LATEST_DEFAULT));
            }
            match args.parse::<usize>() {
                Ok(n) if (1..=LATEST_MAX).contains(&n) => Parsed::Command(Command::Latest(n)),
                _ => Parsed::BadArgs {
                    usage: LATEST_USAGE,
                },
            }
        }
        "search" => match crate::matching::Query::parse(args) {
            Ok(query) => Parsed::Command(Command::Search(query)),
            Err(_) => Parsed::BadArgs {
                usage: search::USAGE,
            },
        },
        "subscribe" => subscription_args(args).map_or(
            Parsed::BadArgs {
                usage: SUBSCRIBE_USAGE,
            },
            |(channel, source)| Parsed::Command(Command::Subscribe { channel, source }),
        ),
        "unsubscribe" => subscription_args(args).map_or(
            Parsed::BadArgs {
                usage: UNSUBSCRIBE_USAGE,
            },
            |(channel, source)| Parsed::Command(Command::Unsubscribe { channel, source }),
        ),
        "sources" => no_args(Command::Sources, "Usage: /sources (no arguments)"),
        "subscriptions" => no_args(
            Command::Subscriptions,
            "Usage: /subscriptions (no arguments)",
        ),
        "time" => no_args(Command::Time, "Usage: /time (no arguments)"),
        "counters" => no_args(Command::Counters, "Usage: /counters (no arguments)"),
        "contact" | "contacts" => no_args(Command::Contact, "Usage: /contact (no arguments)"),
        "status" => no_args(Command::Status, "Usage: /status (no arguments)"),
        "filter" | "filters" => settings_command(args, Command::Filter, FILTER_USAGE),
        "quiet" => settings_command(args, Command::Quiet, QUIET_USAGE),
        "digest" => settings_command(args, Command::Digest, DIGEST_USAGE),
        "language" | "lang" => settings_command(args, Command::Language, LANGUAGE_USAGE),
        _ => Parsed::Unknown { name, addressed },
    }
}

/// The reply to a parsed message, or `None` to stay silent. In groups and
/// channels the bot answers only commands, unknown ones only when addressed
/// to it, and operator commands only to operators.
pub async fn respond(
    ctx: &Context,
    origin: &Origin,
    parsed: Parsed,
    now: DateTime<Utc>,
) -> Result<Option<Reply>, StoreError> {
    let text = match parsed {
        Parsed::Command(command) => return execute(ctx, origin, command, now).await,
        Parsed::NotForUs => return Ok(None),
        Parsed::BadArgs { usage } => crate::render::escape(usage),
        Parsed::Unknown { name, addressed } => {
            if !origin.is_private() && !addressed {
                return Ok(None);
            }
            format!(
                "I don't know /{}. Send /help for the list of commands.",
                crate::render::escape(&crate::render::shorten(&name, 40))
            )
        }
        Parsed::NotACommand => {
            if !origin.is_private() {
                return Ok(None);
            }
            "I answer commands only. Send /help to see them.".to_string()
        }
    };
    Ok(Some(Reply::here(text)))
}

/// Whether a message needs any work at all: what a group's chatter and
/// other bots' commands are, so they never take a place in a queue.
pub fn needs_answer(parsed: &Parsed, private_chat: bool) -> bool {
    match parsed {
        Parsed::Command(_) | Parsed::BadArgs { .. } => true,
        Parsed::NotForUs => false,
        Parsed::Unknown { addressed, .. } => private_chat || *addressed,
        Parsed::NotACommand => private_chat,
    }
}

/// What a chat that may not change its subscription hears (at most once a minute).
const ADMINS_ONLY: &str =
    "Only this group's administrators can change what it gets. /sources shows what it gets now.";

/// Runs one command.
pub async fn execute(
    ctx: &Context,
    origin: &Origin,
    command: Command,
    now: DateTime<Utc>,
) -> Result<Option<Reply>, StoreError> {
    let text = match command {
        Command::Start | Command::Help => help::reply(&ctx.config),
        Command::Latest(n) => return Ok(Some(Reply::page(latest::view(&ctx.store, 0, n)?))),
        Command::Subscribe {
            channel: Some(channel),
            source,
        } => channel::subscribe(ctx, origin, channel, source.as_deref(), now).await?,
        Command::Unsubscribe {
            channel: Some(channel),
            source,
        } => channel::unsubscribe(ctx, origin, channel, source.as_deref()).await?,
        Command::Subscribe {
            channel: None,
            source,
        } => match may_change(ctx, origin).await {
            Ok(()) => subscribe::subscribe(ctx, origin.target(), source.as_deref(), now).await?,
            Err(refusal) => return Ok(refusal),
        },
        Command::Unsubscribe {
            channel: None,
            source,
        } => match may_change(ctx, origin).await {
            Ok(()) => subscribe::unsubscribe(ctx, origin.target(), source.as_deref()).await?,
            Err(refusal) => return Ok(refusal),
        },
        Command::Sources => {
            let operator = origin.is_operator(&ctx.config);
            return Ok(Some(Reply::page(sources::reply(
                ctx,
                origin.target(),
                operator,
            )?)));
        }
        Command::Subscriptions => subscriptions::reply(ctx, origin)?,
        Command::Search(query) => {
            let save = || ctx.store.save_query(origin.chat, &query.describe(), now);
            return Ok(Some(Reply::page(search::view(
                &ctx.store, &query, 0, save,
            )?)));
        }
        Command::Time => time::reply(now, &ctx.config.time),
        Command::Counters => counters::reply(now, &ctx.config.counters),
        Command::Contact => contact::reply(ctx.store.contacts()?, &ctx.config.contact),
        Command::Status => {
            if origin.is_operator(&ctx.config) {
                // In a group, operator information goes to the operator alone.
                return Ok(Some(Reply {
                    text: status::reply(ctx)?,
                    privately: !origin.is_private(),
                    keyboard: None,
                }));
            }
            if !origin.is_private() {
                return Ok(None); // others' /status in a group: not a word
            }
            status::REFUSAL.to_string()
        }
        Command::Filter(a) => match filter::parse(&a.args) {
            Err(usage) => usage,
            Ok(request) => {
                match settings::place(ctx, origin, a.channel, request.changes()).await? {
                    Ok(place) => filter::run(ctx, &place, request).await?,
                    Err(refusal) => return Ok(refusal),
                }
            }
        },
        Command::Quiet(a) => match quiet::parse(&a.args) {
            Err(usage) => usage,
            Ok(request) => {
                match settings::place(ctx, origin, a.channel, request.changes()).await? {
                    Ok(place) => quiet::run(ctx, &place, request, now).await?,
                    Err(refusal) => return Ok(refusal),
                }
            }
        },
        Command::Digest(a) => match digest::parse(&a.args) {
            Err(usage) => usage,
            Ok(request) => {
                match settings::place(ctx, origin, a.channel, request.changes()).await? {
                    Ok(place) => digest::run(ctx, &place, request, now).await?,
                    Err(refusal) => return Ok(refusal),
                }
            }
        },
        Command::Language(a) => match language::parse(&a.args) {
            Err(usage) => usage,
            Ok(request) => {
                match settings::place(ctx, origin, a.channel, request.changes()).await? {
                    Ok(place) => language::run(ctx, &place, request).await?,
                    Err(refusal) => return Ok(refusal),
                }
            }
        },
    };
    Ok(Some(Reply::here(text)))
}

/// `Ok` when the sender may change this chat's subscription; else the reply
/// to give (`None`: stay silent, the chat was told a moment ago).
async fn may_change(ctx: &Context, origin: &Origin) -> Result<(), Option<Reply>> {
    match ctx.access.may_change(origin).await {
        Verdict::Allowed => Ok(()),
        Verdict::Refused { tell } => Err(tell.then(|| Reply::here(ADMINS_ONLY.to_string()))),
        Verdict::Unknown(e) => {
            tracing::warn!(chat = origin.chat, error = %e, "cannot check a sender's rights");
            Err(Some(Reply::here(
                "I could not check your rights in this chat (Telegram did not answer). Please try again in a minute.".to_string(),
            )))
        }
    }
}

/// The words for a lookup that failed, for replies.
pub(crate) fn lookup_trouble(e: &LookupError) -> String {
    match e {
        LookupError::Unavailable(_) => {
            "Telegram did not answer my question; please try again in a minute.".to_string()
        }
        other => crate::render::escape(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_menu_names_the_configured_clocks() {
        let default = menu(&Config::default());
        let time = |menu: &[(&str, String)]| {
            menu.iter()
                .find(|(name, _)| *name == "time")
                .map(|(_, d)| d.clone())
        };
        assert_eq!(
            time(&default).as_deref(),
            Some("Moscow date, Moscow and London time")
        );
        let mut config = Config::default();
        config.time.date_zone = chrono_tz::Asia::Tokyo;
        config.time.clocks.truncate(1);
        assert_eq!(
            time(&menu(&config)).as_deref(),
            Some("Asia/Tokyo date, Moscow time")
        );
        assert!(
            default.iter().all(|(_, d)| !d.contains("Salisbury")),
            "nothing site-specific is hard-coded"
        );
    }

    #[test]
    fn parses_commands_and_mentions() {
        let p = |t| parse(t, "EmbassyBot");
        assert_eq!(p("/latest"), Parsed::Command(Command::Latest(5)));
        assert_eq!(p("/latest 12"), Parsed::Command(Command::Latest(12)));
        assert_eq!(
            p("/latest@embassybot 3"),
            Parsed::Command(Command::Latest(3))
        );
        assert_eq!(p("/LATEST"), Parsed::Command(Command::Latest(5)));
        assert_eq!(p("/latest@otherbot"), Parsed::NotForUs);
        assert_eq!(
            p("/latest 0"),
            Parsed::BadArgs {
                usage: LATEST_USAGE
            }
        );
        assert_eq!(
            p("/latest 21"),
            Parsed::BadArgs {
                usage: LATEST_USAGE
            }
        );
        assert_eq!(
            p("/latest lots"),
            Parsed::BadArgs {
                usage: LATEST_USAGE
            }
        );
        assert_eq!(p("/start payload"), Parsed::Command(Command::Start));
        assert!(matches!(p("/time now"), Parsed::BadArgs { .. }));
        assert_eq!(
            p("/foo"),
            Parsed::Unknown {
                name: "foo".into(),
                addressed: false
            }
        );
        assert_eq!(
            p("/foo@EmbassyBot"),
            Parsed::Unknown {
                name: "foo".into(),
                addressed: true
            }
        );
        assert_eq!(p("hello"), Parsed::NotACommand);
        assert_eq!(p("/"), Parsed::NotACommand);
        assert_eq!(p("  /help  "), Parsed::Command(Command::Help));
        let subscribe = |channel: Option<ChatRef>, source: Option<&str>| {
            Parsed::Command(Command::Subscribe {
                channel,
                source: source.map(str::to_string),
            })
        };
        assert_eq!(p("/subscribe"), subscribe(None, None));
        assert_eq!(p("/subscribe Press"), subscribe(None, Some("press")));
        assert_eq!(
            p("/unsubscribe@EmbassyBot informs"),
            Parsed::Command(Command::Unsubscribe {
                channel: None,
                source: Some("informs".into())
            })
        );
        assert_eq!(
            p("/subscribe press informs"),
            Parsed::BadArgs {
                usage: SUBSCRIBE_USAGE
            }
        );
        let news = || Some(ChatRef::Username("embassy_news".into()));
        assert_eq!(p("/subscribe @embassy_news"), subscribe(news(), None));
        assert_eq!(
            p("/subscribe @embassy_news Press"),
            subscribe(news(), Some("press"))
        );
        assert_eq!(
            p("/subscribe -1001234567890 press"),
            subscribe(Some(ChatRef::Id(-1_001_234_567_890)), Some("press"))
        );
        for bad in [
            "/subscribe @abc",
            "/subscribe @has-dash",
            "/subscribe -12x",
            "/subscribe @embassy_news press extra",
            "/subscribe press @embassy_news",
        ] {
            assert!(matches!(p(bad), Parsed::BadArgs { .. }), "{bad}");
        }
        assert_eq!(p("/subscriptions"), Parsed::Command(Command::Subscriptions));
        assert_eq!(
            p("/search visa “visa centre”"),
            Parsed::Command(Command::Search(
                crate::matching::Query::parse("visa \"visa centre\"").unwrap()
            ))
        );
        for bad in ["/search", "/search  ?! ", "/search -visa"] {
            assert_eq!(
                p(bad),
                Parsed::BadArgs {
                    usage: search::USAGE
                },
                "{bad}"
            );
        }
        let too_long = format!("/search {}", "visa ".repeat(50));
        assert!(matches!(p(&too_long), Parsed::BadArgs { .. }));
        assert_eq!(
            p("/filter @embassy_news add visa"),
            Parsed::Command(Command::Filter(SettingsArgs {
                channel: Some(ChatRef::Username("embassy_news".into())),
                args: "add visa".into()
            }))
        );
        assert_eq!(
            p("/quiet@EmbassyBot 23:00-07:00"),
            Parsed::Command(Command::Quiet(SettingsArgs {
                channel: None,
                args: "23:00-07:00".into()
            }))
        );
        assert_eq!(
            p("/digest @no off"),
            Parsed::BadArgs {
                usage: DIGEST_USAGE
            }
        );
        assert_eq!(p("/sources"), Parsed::Command(Command::Sources));
        assert!(matches!(p("/sources all"), Parsed::BadArgs { .. }));
    }
}
