//! Bot commands: parsing the text a user sent, and one file per command that
//! turns a request into reply text (Telegram HTML). Nothing here knows teloxide,
//! so every command is testable without Telegram.

pub mod contact;
pub mod counters;
pub mod help;
pub mod latest;
pub mod search;
pub mod sources;
pub mod status;
pub mod subscribe;
pub mod time;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::store::{Store, StoreError};

/// What a command handler may read or change.
#[derive(Clone)]
pub struct Context {
    pub store: Store,
    pub config: Arc<Config>,
    /// Telegram's limits as the bot currently keeps them (for `/status`).
    pub limiter: Arc<crate::limiter::Limiter>,
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
    /// against the config when run, since parsing does not know it).
    Subscribe(Option<String>),
    Unsubscribe(Option<String>),
    /// The watched sources, this chat's subscription, and how reads are going.
    Sources,
    Time,
    Counters,
    Contact,
    /// Operators only (`admin_chats`); not in the public menu.
    Status,
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
const SUBSCRIBE_USAGE: &str =
    "Usage: /subscribe for every source, or /subscribe <name> for one (/sources lists them).";
const UNSUBSCRIBE_USAGE: &str =
    "Usage: /unsubscribe for every source, or /unsubscribe <name> for one (/sources lists them).";

/// No argument, or one word: the optional source name of `/subscribe` and `/unsubscribe`.
fn optional_source(args: &str) -> Option<Option<String>> {
    match args {
        "" => Some(None),
        _ if args.contains(char::is_whitespace) => None,
        name => Some(Some(name.to_lowercase())),
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
        "subscribe" => optional_source(args).map_or(
            Parsed::BadArgs {
                usage: SUBSCRIBE_USAGE,
            },
            |source| Parsed::Command(Command::Subscribe(source)),
        ),
        "unsubscribe" => optional_source(args).map_or(
            Parsed::BadArgs {
                usage: UNSUBSCRIBE_USAGE,
            },
            |source| Parsed::Command(Command::Unsubscribe(source)),
        ),
        "sources" => no_args(Command::Sources, "Usage: /sources (no arguments)"),
        "time" => no_args(Command::Time, "Usage: /time (no arguments)"),
        "counters" => no_args(Command::Counters, "Usage: /counters (no arguments)"),
        "contact" | "contacts" => no_args(Command::Contact, "Usage: /contact (no arguments)"),
        "status" => no_args(Command::Status, "Usage: /status (no arguments)"),
        _ => Parsed::Unknown { name, addressed },
    }
}

/// The reply to a parsed message, or `None` to stay silent. In groups the bot
/// answers only commands, and unknown ones only when addressed to it.
pub async fn respond(
    ctx: &Context,
    chat: i64,
    parsed: Parsed,
    private_chat: bool,
    now: DateTime<Utc>,
) -> Result<Option<String>, StoreError> {
    let reply = match parsed {
        Parsed::Command(command) => execute(ctx, chat, command, now).await?,
        Parsed::NotForUs => return Ok(None),
        Parsed::BadArgs { usage } => crate::render::escape(usage),
        Parsed::Unknown { name, addressed } => {
            if !private_chat && !addressed {
                return Ok(None);
            }
            format!(
                "I don't know /{}. Send /help for the list of commands.",
                crate::render::escape(&crate::render::shorten(&name, 40))
            )
        }
        Parsed::NotACommand => {
            if !private_chat {
                return Ok(None);
            }
            "I answer commands only. Send /help to see them.".to_string()
        }
    };
    Ok(Some(reply))
}

/// Runs one command.
pub async fn execute(
    ctx: &Context,
    chat: i64,
    command: Command,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    Ok(match command {
        Command::Start | Command::Help => help::reply(&ctx.config),
        Command::Latest(n) => latest::reply(&ctx.store, n)?,
        Command::Search(query) => search::reply(&ctx.store, &query)?,
        Command::Subscribe(source) => {
            subscribe::subscribe(ctx, chat, source.as_deref(), now).await?
        }
        Command::Unsubscribe(source) => {
            subscribe::unsubscribe(ctx, chat, source.as_deref()).await?
        }
        Command::Sources => sources::reply(ctx, chat)?,
        Command::Time => time::reply(now, &ctx.config.time),
        Command::Counters => counters::reply(now, &ctx.config.counters),
        Command::Contact => contact::reply(ctx.store.contacts()?, &ctx.config.contact),
        Command::Status => status::reply(ctx, chat)?,
    })
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
        assert_eq!(p("/subscribe"), Parsed::Command(Command::Subscribe(None)));
        assert_eq!(
            p("/subscribe Press"),
            Parsed::Command(Command::Subscribe(Some("press".into())))
        );
        assert_eq!(
            p("/unsubscribe@EmbassyBot informs"),
            Parsed::Command(Command::Unsubscribe(Some("informs".into())))
        );
        assert_eq!(
            p("/subscribe press informs"),
            Parsed::BadArgs {
                usage: SUBSCRIBE_USAGE
            }
        );
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
        assert_eq!(p("/sources"), Parsed::Command(Command::Sources));
        assert!(matches!(p("/sources all"), Parsed::BadArgs { .. }));
    }
}
