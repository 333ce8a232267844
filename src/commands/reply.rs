//! What a command answers, and what stops it short of its answer: a usage
//! message (its arguments cannot be used) or a refusal (its sender may not,
//! or its chat has no room). Usages and refusals are named, not pre-rendered:
//! they are put into words when they are said, in the language of the chat
//! they are said to.

use super::paging::Page;
use crate::config::Language;
use crate::store::{MAX_TOPICS, StoreError};
use crate::telegram::messenger::Keyboard;
use crate::text::i18n::{self, Arg, arg};
use crate::tr;

/// What to answer: one message or more, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    pub parts: Vec<Part>,
}

/// One message of a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    /// Telegram HTML, fitted to one message by whoever made it (see
    /// [`crate::text::markup::MessageText`] for what happens otherwise).
    pub text: String,
    /// Send it to the sender's private chat, not where the command came from
    /// (operator information asked for in a group); never into the chat.
    pub privately: bool,
    /// Buttons under it ([`super::buttons`]).
    pub keyboard: Option<Keyboard>,
}

impl Reply {
    /// A reply of plain text, where the command came from.
    pub(crate) fn here(text: String) -> Reply {
        Reply {
            parts: vec![Part {
                text,
                privately: false,
                keyboard: None,
            }],
        }
    }

    /// A reply with buttons, where the command came from.
    pub(crate) fn page(page: Page) -> Reply {
        Reply {
            parts: vec![Part {
                text: page.text,
                privately: false,
                keyboard: page.keyboard,
            }],
        }
    }

    /// `texts` as messages, in order: for the sender alone (in their
    /// private chat) when `privately`, else where the command came from.
    pub(crate) fn messages(texts: Vec<String>, privately: bool) -> Reply {
        Reply {
            parts: texts
                .into_iter()
                .map(|text| Part {
                    text,
                    privately,
                    keyboard: None,
                })
                .collect(),
        }
    }

    /// This reply, then `texts` for the sender alone.
    pub(crate) fn and_privately(mut self, texts: Vec<String>) -> Reply {
        self.parts.extend(Reply::messages(texts, true).parts);
        self
    }
}

/// Why a command's arguments cannot be used: the message that says what to
/// fix, by its id in `locales/*.ftl`, with its arguments. Parsing knows no
/// language; the words are chosen when the usage is said ([`Usage::words`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Usage {
    id: &'static str,
    args: Vec<(&'static str, UsageArg)>,
}

/// One argument of a usage message: text (Telegram HTML, escaped by whoever
/// made it) or a number (numbers choose plural forms).
#[derive(Debug, Clone, PartialEq, Eq)]
enum UsageArg {
    Text(String),
    Number(usize),
}

impl Usage {
    /// The message `id`, with no arguments (most say how to use a command).
    pub(crate) fn of(id: &'static str) -> Usage {
        Usage {
            id,
            args: Vec::new(),
        }
    }

    /// The same message, with argument `name` set to `text` (escaped HTML).
    pub(crate) fn with_text(mut self, name: &'static str, text: String) -> Usage {
        self.args.push((name, UsageArg::Text(text)));
        self
    }

    /// The same message, with argument `name` set to `number`.
    pub(crate) fn with_number(mut self, name: &'static str, number: usize) -> Usage {
        self.args.push((name, UsageArg::Number(number)));
        self
    }

    /// The message in `lang`.
    pub(crate) fn words(&self, lang: Language) -> String {
        let args: Vec<(&str, Arg<'_>)> = self
            .args
            .iter()
            .map(|(name, value)| {
                let value = match value {
                    UsageArg::Text(text) => arg(text.as_str()),
                    UsageArg::Number(number) => arg(*number),
                };
                (*name, value)
            })
            .collect();
        i18n::tr(lang, self.id, &args)
    }
}

/// Why a command that changes a chat's subscription or settings is not
/// carried out: said instead of its answer (or, to a crowd, not at all).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Refusal {
    /// Only the chat's administrators may change it; `tell` is false when
    /// the chat heard so a moment ago (then nothing is said).
    #[error("only administrators may change this chat")]
    AdminsOnly { tell: bool },
    /// Telegram could not say whether the sender may.
    #[error("the sender's rights could not be checked")]
    RightsUnknown,
    /// A channel's settings are changed from a private chat with the bot only.
    #[error("a channel's settings are changed from a private chat")]
    ChannelsFromPrivate,
    /// A channel named in a command is not the sender's to manage, or
    /// Telegram could not say: the words say which, already in the chat's
    /// language (they name the channel as that language quotes it).
    #[error("the channel named cannot be managed by the sender")]
    Channel(String),
    /// A change would give settings to one more forum topic than the group
    /// may keep ([`MAX_TOPICS`]).
    #[error("the group keeps settings for as many topics as it may")]
    TopicsFull,
}

impl Refusal {
    /// What the chat is told, in `lang`; `None`: nothing.
    pub(crate) fn words(&self, lang: Language) -> Option<String> {
        Some(match self {
            Refusal::AdminsOnly { tell: false } => return None,
            Refusal::AdminsOnly { tell: true } => tr!(lang, "admins-only"),
            Refusal::RightsUnknown => tr!(lang, "rights-unknown"),
            Refusal::ChannelsFromPrivate => tr!(lang, "channels-from-private"),
            Refusal::Channel(words) => words.clone(),
            Refusal::TopicsFull => tr!(lang, "settings-topics-full", max = MAX_TOPICS),
        })
    }
}

/// What stops a command short of its answer: a refusal, which is said, or
/// a failed store, which is logged (and the sender hears "sorry").
#[derive(Debug, thiserror::Error)]
pub(crate) enum CommandError {
    #[error("refused: {0}")]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_usage_is_said_in_the_language_of_the_chat() {
        let usage = Usage::of("filter-too-long").with_number("max", 64);
        assert_eq!(
            usage.words(Language::En),
            "A filter may be at most 64 characters long."
        );
        assert!(usage.words(Language::Ru).contains("64"));
        let bad = Usage::of("bad-time").with_text("typed", "25:00".into());
        assert!(bad.words(Language::En).contains("“25:00” is not a time"));
    }

    #[test]
    fn a_refusal_heard_a_moment_ago_is_not_said_again() {
        assert_eq!(
            Refusal::AdminsOnly { tell: false }.words(Language::En),
            None
        );
        assert!(
            Refusal::AdminsOnly { tell: true }
                .words(Language::En)
                .is_some_and(|w| w.starts_with("Only this group's administrators"))
        );
    }
}
