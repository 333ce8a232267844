//! The languages the bot speaks to people, and how a reply picks one.

use serde::{Deserialize, Serialize};

/// The languages a chat may choose (`/language`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    En,
    Ru,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::En, Language::Ru];

    /// The language a chat has before it chooses one.
    pub const DEFAULT: Language = Language::En;

    /// Its code, as `/language` takes it: `en`, `ru`.
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Ru => "ru",
        }
    }

    /// Its own name for itself.
    pub fn name(self) -> &'static str {
        match self {
            Language::En => "English",
            Language::Ru => "Русский",
        }
    }

    /// Reads a code (`en`, `RU`), case-insensitively.
    pub fn from_code(code: &str) -> Option<Language> {
        Language::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(code.trim()))
    }

    /// The language for a Telegram user's `language_code` (an IETF tag such
    /// as `ru` or `ru-RU`): ours when we speak it, else English.
    pub fn from_telegram(code: &str) -> Language {
        let primary = code.split(['-', '_']).next().unwrap_or_default();
        Language::from_code(primary).unwrap_or(Language::DEFAULT)
    }

    /// Its place in [`Language::ALL`], for tables kept per language.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The language a reply takes: what the chat chose, else (in a group or
    /// channel, which speaks as one) the language of whoever subscribed it,
    /// else the sender's own, else the subscriber's, else English.
    pub fn for_reply(
        chosen: Option<Language>,
        inferred: Option<Language>,
        sender: Option<Language>,
        private: bool,
    ) -> Language {
        let found = match private {
            true => chosen.or(sender).or(inferred),
            false => chosen.or(inferred).or(sender),
        };
        found.unwrap_or(Language::DEFAULT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_telegram_language_code_maps_to_ours_or_english() {
        assert_eq!(Language::from_telegram("ru"), Language::Ru);
        assert_eq!(Language::from_telegram("ru-RU"), Language::Ru);
        assert_eq!(Language::from_telegram("RU_ru"), Language::Ru);
        assert_eq!(Language::from_telegram("en-GB"), Language::En);
        assert_eq!(Language::from_telegram("uk"), Language::En);
        assert_eq!(Language::from_telegram(""), Language::En);
        for (i, l) in Language::ALL.into_iter().enumerate() {
            assert_eq!(l.index(), i);
        }
    }
}
