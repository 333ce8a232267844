//! Reading a message's text, once, into a [`Command`] with its arguments
//! parsed, or what else it is: another bot's command, an unknown one, a
//! known one whose arguments cannot be used (and the [`Usage`] that says
//! how), or plain text. Parsing knows no language and no store.

use super::reply::Usage;
use super::{Command, LATEST_DEFAULT, LATEST_MAX, digest, filter, language, quiet, search};
use crate::telegram::lookup::ChatRef;
use crate::text::matching::Query;

/// The outcome of reading a message's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Parsed {
    /// A command for us.
    Command(Command),
    /// `/cmd@otherbot`: not ours, stay silent.
    NotForUs,
    /// A command we do not know; `addressed` when it named us with `@`.
    Unknown { name: String, addressed: bool },
    /// A known command with arguments we cannot use: the usage says why.
    BadArgs(Usage),
    /// Plain text.
    NotACommand,
}

/// Whether a message needs any work at all: what a group's chatter and
/// other bots' commands are, so they never take a place in a queue.
pub(crate) fn needs_answer(parsed: &Parsed, private_chat: bool) -> bool {
    match parsed {
        Parsed::Command(_) | Parsed::BadArgs(_) => true,
        Parsed::NotForUs => false,
        Parsed::Unknown { addressed, .. } => private_chat || *addressed,
        Parsed::NotACommand => private_chat,
    }
}

// Usages are named by their message ids (`locales/*.ftl`); the reply is in
// the chat's language.
const LATEST_USAGE: &str = "latest-usage";
const SUBSCRIBE_USAGE: &str = "subscribe-usage";
const UNSUBSCRIBE_USAGE: &str = "unsubscribe-usage";
const FILTER_USAGE: &str = "filter-args-usage";
const QUIET_USAGE: &str = "quiet-args-usage";
const DIGEST_USAGE: &str = "digest-args-usage";
const LANGUAGE_USAGE: &str = "language-args-usage";

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
    match command(&name, args) {
        Some(parsed) => parsed,
        None => Parsed::Unknown { name, addressed },
    }
}

/// The command `name` (lowercased) with its arguments `args`; `None`: not
/// one we know.
fn command(name: &str, args: &str) -> Option<Parsed> {
    let no_args = |command: Command, usage: &'static str| {
        if args.is_empty() {
            Parsed::Command(command)
        } else {
            Parsed::BadArgs(Usage::of(usage))
        }
    };
    Some(match name {
        "start" => Parsed::Command(Command::Start), // deep-link payloads are allowed and ignored
        "help" => no_args(Command::Help, "help-usage"),
        "latest" => latest(args),
        "search" => match Query::parse(args) {
            Ok(query) => Parsed::Command(Command::Search(query)),
            Err(_) => Parsed::BadArgs(Usage::of(search::USAGE)),
        },
        "subscribe" => subscription_args(args).map_or(
            Parsed::BadArgs(Usage::of(SUBSCRIBE_USAGE)),
            |(channel, source)| Parsed::Command(Command::Subscribe { channel, source }),
        ),
        "unsubscribe" => subscription_args(args).map_or(
            Parsed::BadArgs(Usage::of(UNSUBSCRIBE_USAGE)),
            |(channel, source)| Parsed::Command(Command::Unsubscribe { channel, source }),
        ),
        "sources" => no_args(Command::Sources, "sources-usage"),
        "subscriptions" => no_args(Command::Subscriptions, "subscriptions-usage"),
        "time" => no_args(Command::Time, "time-usage"),
        "counters" => no_args(Command::Counters, "counters-usage"),
        "contact" | "contacts" => no_args(Command::Contact, "contact-usage"),
        "status" => no_args(Command::Status, "status-usage"),
        "filter" | "filters" => {
            settings_command(args, FILTER_USAGE, filter::parse, |channel, request| {
                Command::Filter {
                    channel,
                    request: Box::new(request),
                }
            })
        }
        "quiet" => settings_command(args, QUIET_USAGE, quiet::parse, |channel, request| {
            Command::Quiet { channel, request }
        }),
        "digest" => settings_command(args, DIGEST_USAGE, digest::parse, |channel, request| {
            Command::Digest { channel, request }
        }),
        "language" | "lang" => {
            settings_command(args, LANGUAGE_USAGE, language::parse, |channel, request| {
                Command::Language { channel, request }
            })
        }
        _ => return None,
    })
}

/// `/latest [n]`: `n` from 1 to [`LATEST_MAX`], [`LATEST_DEFAULT`] if not given.
fn latest(args: &str) -> Parsed {
    if args.is_empty() {
        return Parsed::Command(Command::Latest(LATEST_DEFAULT));
    }
    match args.parse::<usize>() {
        Ok(n) if (1..=LATEST_MAX).contains(&n) => Parsed::Command(Command::Latest(n)),
        _ => Parsed::BadArgs(Usage::of(LATEST_USAGE)),
    }
}

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

/// Splits a channel (`@name` or a `-100…` id) off the front of a settings
/// command's `args`, and the rest; `None` when the first word looks like
/// one but is not a valid name.
fn split_channel(args: &str) -> Option<(Option<ChatRef>, &str)> {
    let args = args.trim();
    let (first, rest) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
    let numeric = first
        .strip_prefix('-')
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
    if first.starts_with('@') || numeric {
        return Some((Some(channel_ref(first)?), rest.trim()));
    }
    Some((None, args))
}

/// A settings command: a channel may come first (else `channel_usage`);
/// the rest is its request, as `read` reads it.
fn settings_command<R>(
    args: &str,
    channel_usage: &'static str,
    read: fn(&str) -> Result<R, Usage>,
    command: fn(Option<ChatRef>, R) -> Command,
) -> Parsed {
    let Some((channel, rest)) = split_channel(args) else {
        return Parsed::BadArgs(Usage::of(channel_usage));
    };
    match read(rest) {
        Ok(request) => Parsed::Command(command(channel, request)),
        Err(usage) => Parsed::BadArgs(usage),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::settings_command::Request;
    use crate::settings::{Filter, QuietHours, parse_time};

    #[test]
    fn a_channel_may_come_first() {
        let p = |s| split_channel(s);
        assert_eq!(
            p("@embassy_news add visa"),
            Some((Some(ChatRef::Username("embassy_news".into())), "add visa"))
        );
        assert_eq!(
            p("-1001234567890 off").unwrap().0,
            Some(ChatRef::Id(-1_001_234_567_890))
        );
        assert_eq!(p("add -visa").unwrap().0, None);
        assert_eq!(p("add -visa").unwrap().1, "add -visa");
        assert_eq!(p("").unwrap().1, "");
        assert_eq!(p("@x add visa"), None, "too short for a username");
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
        assert_eq!(p("/latest 0"), Parsed::BadArgs(Usage::of(LATEST_USAGE)));
        assert_eq!(p("/latest 21"), Parsed::BadArgs(Usage::of(LATEST_USAGE)));
        assert_eq!(p("/latest lots"), Parsed::BadArgs(Usage::of(LATEST_USAGE)));
        assert_eq!(p("/start payload"), Parsed::Command(Command::Start));
        assert!(matches!(p("/time now"), Parsed::BadArgs(_)));
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
            Parsed::BadArgs(Usage::of(SUBSCRIBE_USAGE))
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
            assert!(matches!(p(bad), Parsed::BadArgs(_)), "{bad}");
        }
        assert_eq!(p("/subscriptions"), Parsed::Command(Command::Subscriptions));
        assert_eq!(
            p("/search visa “visa centre”"),
            Parsed::Command(Command::Search(
                Query::parse("visa \"visa centre\"").unwrap()
            ))
        );
        for bad in ["/search", "/search  ?! ", "/search -visa"] {
            assert_eq!(p(bad), Parsed::BadArgs(Usage::of(search::USAGE)), "{bad}");
        }
        let too_long = format!("/search {}", "visa ".repeat(50));
        assert!(matches!(p(&too_long), Parsed::BadArgs(_)));
        assert_eq!(
            p("/filter @embassy_news add visa"),
            Parsed::Command(Command::Filter {
                channel: Some(ChatRef::Username("embassy_news".into())),
                request: Box::new(filter::Request::Add(Filter::parse("visa").unwrap()))
            })
        );
        assert_eq!(
            p("/quiet@EmbassyBot 23:00-07:00"),
            Parsed::Command(Command::Quiet {
                channel: None,
                request: Request::Set(QuietHours {
                    from: parse_time("23:00").unwrap(),
                    to: parse_time("07:00").unwrap(),
                    zone: chrono_tz::Europe::London,
                })
            })
        );
        assert_eq!(
            p("/quiet@EmbassyBot 23:00"),
            Parsed::BadArgs(Usage::of("quiet-usage")),
            "the request is read as the command is"
        );
        assert_eq!(
            p("/digest @no off"),
            Parsed::BadArgs(Usage::of(DIGEST_USAGE))
        );
        assert_eq!(p("/sources"), Parsed::Command(Command::Sources));
        assert!(matches!(p("/sources all"), Parsed::BadArgs(_)));
    }
}
