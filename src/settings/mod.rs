//! What a chat (or one forum topic of it, or a channel) chose beyond its
//! subscription: keyword filters, quiet hours, a daily digest, and the chat's
//! language. Pure data with its rules; the store keeps it
//! ([`crate::store::Store::settings`]) and delivery obeys it.
//!
//! A target with no settings has no record at all: it costs the fan-out walk
//! nothing.

mod hours;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

pub(crate) use hours::{DEFAULT_ZONE, DigestTime, QuietState, hh_mm, quiet_state};
pub use hours::{QuietHours, parse_time, parse_zone};

use crate::config::Language;
use crate::text::matching::{Normalized, Pattern, PatternError, release_words};

/// At most this many filters per target: a record, and the work of one
/// release against it, stay small.
pub(crate) const MAX_FILTERS: usize = 50;

/// One keyword filter: a word or phrase that a release must mention
/// (include) or must not (exclude), in its title or lead.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Filter {
    pub pattern: Pattern,
    pub exclude: bool,
}

impl Filter {
    /// Reads a filter as typed after `/filter add`: a word or a quoted
    /// phrase, a leading `-` to exclude it.
    pub fn parse(input: &str) -> Result<Filter, PatternError> {
        let input = input.trim();
        match input.strip_prefix('-') {
            Some(rest) => Ok(Filter {
                pattern: Pattern::parse(rest)?,
                exclude: true,
            }),
            None => Ok(Filter {
                pattern: Pattern::parse(input)?,
                exclude: false,
            }),
        }
    }
}

/// As typed: `visa`, `-visa`, `"visa centre"`, `-"visa centre"`.
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.exclude {
            f.write_str("-")?;
        }
        self.pattern.fmt(f)
    }
}

impl TryFrom<String> for Filter {
    type Error = PatternError;
    fn try_from(s: String) -> Result<Filter, PatternError> {
        Filter::parse(&s)
    }
}

impl From<Filter> for String {
    fn from(f: Filter) -> String {
        f.to_string()
    }
}

/// Whether a release whose title and lead make `text` passes `filters`: it
/// mentions one of the includes (or there is none) and none of the excludes.
pub(crate) fn admits(filters: &[Filter], text: &Normalized) -> bool {
    let mut includes = filters.iter().filter(|f| !f.exclude).peekable();
    let included = includes.peek().is_none() || includes.any(|f| f.pattern.matches(text));
    included && !filters.iter().any(|f| f.exclude && f.pattern.matches(text))
}

/// The text filters look at: a release's title and lead.
pub(crate) fn filter_text(title: &str, lead: &str) -> Normalized {
    release_words(title, lead)
}

/// What one target (a chat, or one forum topic of it) chose. Every field is
/// optional; the default is "nothing chosen", which is never stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetSettings {
    /// Keyword filters, in the order they were added (at most [`MAX_FILTERS`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Filter>,
    /// Pushes in these hours are held, and sent together when they end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet: Option<QuietHours>,
    /// One message a day, at this time, instead of one per release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<DigestTime>,
    /// The chat's language: kept on the chat's own record, never on a topic's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
    /// The Telegram language of whoever last ran `/subscribe` for the chat,
    /// spoken until the chat chooses one ([`TargetSettings::language`]
    /// wins). Kept only when it is not the default, so most chats still
    /// have no record; on the chat's own record, never on a topic's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inferred_language: Option<Language>,
}

impl TargetSettings {
    /// These settings, with what they leave unchosen taken from `other`
    /// (a group's settings joining its supergroup's).
    pub fn or(self, other: TargetSettings) -> TargetSettings {
        TargetSettings {
            filters: if self.filters.is_empty() {
                other.filters
            } else {
                self.filters
            },
            quiet: self.quiet.or(other.quiet),
            digest: self.digest.or(other.digest),
            language: self.language.or(other.language),
            inferred_language: self.inferred_language.or(other.inferred_language),
        }
    }

    /// Nothing chosen: the record can go.
    pub fn is_empty(&self) -> bool {
        *self == TargetSettings::default()
    }

    /// Whether pushes may wait for a time (quiet hours or a digest): then the
    /// ones due together go as one digest message.
    pub fn holds(&self) -> bool {
        self.quiet.is_some() || self.digest.is_some()
    }

    /// Whether a release whose filter text is `text` reaches this target
    /// (`None`: the release cannot be read; it is let through, and delivery
    /// deals with it as with any unreadable release).
    pub fn admits(&self, text: Option<&Normalized>) -> bool {
        match text {
            Some(text) if !self.filters.is_empty() => admits(&self.filters, text),
            _ => true,
        }
    }
}

/// The settings of one chat: its own (`None`) and its forum topics', by thread id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatSettings {
    pub targets: BTreeMap<Option<i32>, TargetSettings>,
}

impl ChatSettings {
    /// What `thread` (`None`: the chat itself) chose, if anything.
    pub fn of(&self, thread: Option<i32>) -> Option<&TargetSettings> {
        self.targets.get(&thread)
    }

    /// The language the chat chose, if it did.
    pub fn language(&self) -> Option<Language> {
        self.of(None).and_then(|s| s.language)
    }

    /// The language the chat's pushes and digests take: its choice, else
    /// the language of whoever subscribed it, else English.
    pub fn push_language(&self) -> Language {
        self.of(None)
            .and_then(|s| s.language.or(s.inferred_language))
            .unwrap_or(Language::DEFAULT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filters(list: &[&str]) -> Vec<Filter> {
        list.iter().map(|f| Filter::parse(f).unwrap()).collect()
    }

    fn passes(list: &[&str], title: &str, lead: &str) -> bool {
        admits(&filters(list), &filter_text(title, lead))
    }

    #[test]
    fn a_release_needs_one_include_and_no_exclude() {
        assert!(passes(&[], "Anything", ""), "no filters: everything");
        assert!(passes(&["visa", "визы"], "New visas", ""));
        assert!(passes(&["visa", "визы"], "Выдача визы", ""));
        assert!(!passes(&["visa", "визы"], "Sanctions", "nothing else"));
        assert!(
            passes(&["visa"], "Statement", "on visa-free travel"),
            "the lead counts"
        );
        assert!(!passes(&["visa", "-sanctions"], "Visas and sanctions", ""));
        assert!(
            passes(&["-sanctions"], "Visas", ""),
            "only excludes: the rest passes"
        );
        assert!(!passes(&["-\"visa centre\""], "The Visa Centre closes", ""));
        assert!(passes(&["-\"visa centre\""], "A centre for visas", ""));
    }

    #[test]
    fn filters_are_stored_as_typed_and_read_back() {
        let list = filters(&["Visa", "-«Визовый центр»", "-sanctions"]);
        let json = serde_json::to_string(&list).unwrap();
        assert_eq!(json, r#"["visa","-\"визовый центр\"","-sanctions"]"#);
        assert_eq!(serde_json::from_str::<Vec<Filter>>(&json).unwrap(), list);
        assert!(serde_json::from_str::<Vec<Filter>>(r#"["--"]"#).is_err());
    }

    #[test]
    fn nothing_chosen_is_stored_as_nothing() {
        assert_eq!(
            serde_json::to_string(&TargetSettings::default()).unwrap(),
            "{}"
        );
        assert!(TargetSettings::default().is_empty());
        let language = TargetSettings {
            language: Some(Language::Ru),
            ..TargetSettings::default()
        };
        assert_eq!(
            serde_json::to_string(&language).unwrap(),
            r#"{"language":"ru"}"#
        );
        assert_eq!(Language::from_code(" RU "), Some(Language::Ru));
        assert_eq!(Language::from_code("de"), None);
    }

    #[test]
    fn a_reply_speaks_the_choice_then_the_sender_or_the_subscriber() {
        use Language::{En, Ru};
        let r = Language::for_reply;
        assert_eq!(r(Some(En), Some(Ru), Some(Ru), true), En, "a choice wins");
        assert_eq!(r(None, Some(En), Some(Ru), true), Ru, "private: the sender");
        assert_eq!(
            r(None, Some(Ru), Some(En), false),
            Ru,
            "group: who subscribed it"
        );
        assert_eq!(
            r(None, None, Some(Ru), false),
            Ru,
            "group, not subscribed: the sender"
        );
        assert_eq!(r(None, Some(Ru), None, true), Ru);
        assert_eq!(r(None, None, None, false), En);
        let mut chat = ChatSettings::default();
        assert_eq!(chat.push_language(), En);
        chat.targets.insert(
            None,
            TargetSettings {
                inferred_language: Some(Ru),
                ..TargetSettings::default()
            },
        );
        assert_eq!(chat.push_language(), Ru);
        chat.targets.get_mut(&None).unwrap().language = Some(En);
        assert_eq!(chat.push_language(), En);
    }
}
