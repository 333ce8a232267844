//! Bot commands: parsing the text a user sent, and one file per command that
//! turns a request into reply text (Telegram HTML). Nothing here knows teloxide,
//! so every command is testable without Telegram.

pub(crate) mod access;
pub(crate) mod buttons;
pub(crate) mod channel;
pub(crate) mod contact;
pub mod counters;
pub(crate) mod digest;
pub(crate) mod filter;
pub mod help;
pub(crate) mod language;
pub mod latest;
pub(crate) mod paging;
pub(crate) mod quiet;
pub mod search;
pub(crate) mod settings;
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
use crate::telegram::lookup::{ChatKind, ChatRef, LookupError};
use crate::text::clock::Clock;
use crate::tr;
use access::{Access, Verdict};
use settings::SettingsArgs;

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
pub(crate) struct Reply {
    /// Telegram HTML.
    pub text: String,
    /// Send it to the sender's private chat, not where the command came from
    /// (operator information asked for in a group).
    pub privately: bool,
    /// Buttons under it ([`buttons`]).
    pub keyboard: Option<crate::telegram::messenger::Keyboard>,
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
    fn page(page: paging::Page) -> Reply {
        Reply {
            keyboard: page.keyboard,
            ..Reply::here(page.text)
        }
    }
}

/// A command the bot understands, with its arguments parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    Start,
    Help,
    Latest(usize),
    /// Stored releases whose title and lead match, newest first.
    Search(crate::text::matching::Query),
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
pub(crate) enum Parsed {
    /// A command for us.
    Command(Command),
    /// `/cmd@otherbot`: not ours, stay silent.
    NotForUs,
    /// A command we do not know; `addressed` when it named us with `@`.
    Unknown { name: String, addressed: bool },
    /// A known command with arguments we cannot use; `usage` is the id of
    /// the message that says how to use it.
    BadArgs { usage: &'static str },
    /// Plain text.
    NotACommand,
}

/// The menu registered with setMyCommands, and listed by `/help`:
/// (command, description) in `lang`. The clocks are named as configured.
pub(crate) fn menu(config: &Config, lang: Language) -> Vec<(&'static str, String)> {
    let time = &config.time;
    // The date's zone by the label of a clock in it, else by its own name.
    let date_label = time
        .clocks
        .iter()
        .find(|c| c.zone == time.date_zone)
        .map_or_else(
            || time.date_zone.name().to_string(),
            |c| c.label.get(lang).to_string(),
        );
    let clock_labels: Vec<String> = time
        .clocks
        .iter()
        .map(|c| c.label.get(lang).to_string())
        .collect();
    let time = match clock_labels.is_empty() {
        true => tr!(lang, "menu-time-no-clocks", date = date_label),
        false => tr!(
            lang,
            "menu-time",
            date = date_label,
            clocks = crate::text::i18n::and_list(lang, &clock_labels)
        ),
    };
    vec![
        ("latest", tr!(lang, "menu-latest")),
        ("search", tr!(lang, "menu-search")),
        ("subscribe", tr!(lang, "menu-subscribe")),
        ("unsubscribe", tr!(lang, "menu-unsubscribe")),
        ("sources", tr!(lang, "menu-sources")),
        ("subscriptions", tr!(lang, "menu-subscriptions")),
        ("filter", tr!(lang, "menu-filter")),
        ("quiet", tr!(lang, "menu-quiet")),
        ("digest", tr!(lang, "menu-digest")),
        ("language", tr!(lang, "menu-language")),
        ("contact", tr!(lang, "menu-contact")),
        ("time", time),
        ("counters", tr!(lang, "menu-counters")),
        ("help", tr!(lang, "menu-help")),
    ]
}

/// Default and maximum for `/latest [n]`.
pub(crate) const LATEST_DEFAULT: usize = 5;
pub(crate) const LATEST_MAX: usize = 20;

// Usages are named by their message ids (`locales/*.ftl`); the reply is in
// the chat's language.
const LATEST_USAGE: &str = "latest-usage";
const SUBSCRIBE_USAGE: &str = "subscribe-usage";
const UNSUBSCRIBE_USAGE: &str = "unsubscribe-usage";

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

const FILTER_USAGE: &str = "filter-args-usage";
const QUIET_USAGE: &str = "quiet-args-usage";
const DIGEST_USAGE: &str = "digest-args-usage";
const LANGUAGE_USAGE: &str = "language-args-usage";

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
pub(crate) fn parse(text: &str, bot_username: &str) -> Parsed {
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
        "help" => no_args(Command::Help, "help-usage"),
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
        "search" => match crate::text::matching::Query::parse(args) {
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
        "sources" => no_args(Command::Sources, "sources-usage"),
        "subscriptions" => no_args(Command::Subscriptions, "subscriptions-usage"),
        "time" => no_args(Command::Time, "time-usage"),
        "counters" => no_args(Command::Counters, "counters-usage"),
        "contact" | "contacts" => no_args(Command::Contact, "contact-usage"),
        "status" => no_args(Command::Status, "status-usage"),
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
        Parsed::BadArgs { usage } => tr!(lang, usage),
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

/// Whether a message needs any work at all: what a group's chatter and
/// other bots' commands are, so they never take a place in a queue.
pub(crate) fn needs_answer(parsed: &Parsed, private_chat: bool) -> bool {
    match parsed {
        Parsed::Command(_) | Parsed::BadArgs { .. } => true,
        Parsed::NotForUs => false,
        Parsed::Unknown { addressed, .. } => private_chat || *addressed,
        Parsed::NotACommand => private_chat,
    }
}

/// Runs one command, answering in `lang`.
pub(crate) async fn execute(
    ctx: &Context,
    origin: &Origin,
    command: Command,
    now: DateTime<Utc>,
    lang: Language,
) -> Result<Option<Reply>, StoreError> {
    let text = match command {
        Command::Start | Command::Help => help::reply(&ctx.config, lang),
        Command::Latest(n) => {
            return Ok(Some(Reply::page(latest::view(&ctx.store, 0, n, lang)?)));
        }
        Command::Subscribe {
            channel: Some(channel),
            source,
        } => channel::subscribe(ctx, origin, channel, source.as_deref(), now, lang).await?,
        Command::Unsubscribe {
            channel: Some(channel),
            source,
        } => channel::unsubscribe(ctx, origin, channel, source.as_deref(), lang).await?,
        Command::Subscribe {
            channel: None,
            source,
        } => match may_change(ctx, origin, lang).await {
            Ok(()) => {
                subscribe::note_language(ctx, origin.chat, origin.language).await?;
                subscribe::subscribe(ctx, origin.target(), source.as_deref(), now, lang).await?
            }
            Err(refusal) => return Ok(refusal),
        },
        Command::Unsubscribe {
            channel: None,
            source,
        } => match may_change(ctx, origin, lang).await {
            Ok(()) => subscribe::unsubscribe(ctx, origin.target(), source.as_deref(), lang).await?,
            Err(refusal) => return Ok(refusal),
        },
        Command::Sources => {
            let operator = origin.is_operator(&ctx.config);
            return Ok(Some(Reply::page(sources::reply(
                ctx,
                origin.target(),
                operator,
                lang,
            )?)));
        }
        Command::Subscriptions => subscriptions::reply(ctx, origin, lang)?,
        Command::Search(query) => {
            let save = || ctx.store.save_query(origin.chat, &query.describe(), now);
            return Ok(Some(Reply::page(search::view(
                &ctx.store, &query, 0, lang, save,
            )?)));
        }
        Command::Time => time::reply(now, &ctx.config.time, lang),
        Command::Counters => counters::reply(now, &ctx.config.counters, lang),
        Command::Contact => contact::reply(ctx.store.contacts()?, &ctx.config.contact, lang),
        Command::Status => {
            if origin.is_operator(&ctx.config) {
                // In a group, operator information goes to the operator alone.
                return Ok(Some(Reply {
                    text: status::reply(ctx, lang)?,
                    privately: !origin.is_private(),
                    keyboard: None,
                }));
            }
            if !origin.is_private() {
                return Ok(None); // others' /status in a group: not a word
            }
            tr!(lang, "status-refusal")
        }
        Command::Filter(a) => match filter::parse(&a.args, lang) {
            Err(usage) => usage,
            Ok(request) => {
                match settings::place(ctx, origin, a.channel, request.changes(), lang).await? {
                    Ok(place) => match settings::no_room(ctx, &place, request.changes(), lang)? {
                        Some(refusal) => refusal,
                        None => filter::run(ctx, &place, request, lang).await?,
                    },
                    Err(refusal) => return Ok(refusal),
                }
            }
        },
        Command::Quiet(a) => match quiet::parse(&a.args, lang) {
            Err(usage) => usage,
            Ok(request) => {
                match settings::place(ctx, origin, a.channel, request.changes(), lang).await? {
                    Ok(place) => match settings::no_room(ctx, &place, request.changes(), lang)? {
                        Some(refusal) => refusal,
                        None => quiet::run(ctx, &place, request, now, lang).await?,
                    },
                    Err(refusal) => return Ok(refusal),
                }
            }
        },
        Command::Digest(a) => match digest::parse(&a.args, lang) {
            Err(usage) => usage,
            Ok(request) => {
                match settings::place(ctx, origin, a.channel, request.changes(), lang).await? {
                    Ok(place) => match settings::no_room(ctx, &place, request.changes(), lang)? {
                        Some(refusal) => refusal,
                        None => digest::run(ctx, &place, request, now, lang).await?,
                    },
                    Err(refusal) => return Ok(refusal),
                }
            }
        },
        Command::Language(a) => match language::parse(&a.args, lang) {
            Err(usage) => usage,
            Ok(request) => {
                match settings::place(ctx, origin, a.channel, request.changes(), lang).await? {
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
async fn may_change(ctx: &Context, origin: &Origin, lang: Language) -> Result<(), Option<Reply>> {
    match ctx.access.may_change(origin).await {
        Verdict::Allowed => Ok(()),
        Verdict::Refused { tell } => Err(tell.then(|| Reply::here(tr!(lang, "admins-only")))),
        Verdict::Unknown(e) => {
            tracing::warn!(chat = origin.chat, error = %e, "cannot check a sender's rights");
            Err(Some(Reply::here(tr!(lang, "rights-unknown"))))
        }
    }
}

/// The words for a lookup that failed, for replies (Telegram's own
/// description is quoted as it came).
pub(crate) fn lookup_trouble(e: &LookupError, lang: Language) -> String {
    match e {
        LookupError::Unavailable(_) => tr!(lang, "lookup-unavailable"),
        LookupError::NotFound => tr!(lang, "lookup-not-found"),
        LookupError::Refused(reason) => {
            tr!(
                lang,
                "lookup-refused",
                reason = crate::text::markup::escape(reason)
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_menu_names_the_configured_clocks() {
        let default = menu(&Config::default(), Language::En);
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
            time(&menu(&config, Language::En)).as_deref(),
            Some("Asia/Tokyo date, Moscow time")
        );
        assert_eq!(
            time(&menu(&Config::default(), Language::Ru)).as_deref(),
            Some("Дата (Москва) и время (Москва и Лондон)")
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
                crate::text::matching::Query::parse("visa \"visa centre\"").unwrap()
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
