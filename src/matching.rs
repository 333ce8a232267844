//! Words and phrases found in release text, the way a reader means them:
//! case-insensitive and Unicode-aware (Cyrillic "Визы" is "визы"; "ё" is
//! "е"), on word boundaries, each word matching as a prefix ("visa" finds
//! "visas" and "visa-free", not "advisable"); a phrase is its words in a row.
//!
//! Pure: used by the keyword filters (`/filter`), and meant to serve any
//! other search over releases with the same rules.
//!
//! A *word* is a run of letters and digits ([`char::is_alphanumeric`]);
//! everything else separates words, so "COVID-19" is the two words "covid"
//! and "19", and a query typed that way is the phrase "covid 19".

use std::fmt;

/// The longest query a user may type, in characters.
pub const MAX_QUERY_CHARS: usize = 64;

/// A word or a phrase to look for, normalized (lowercase words).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Query {
    words: Vec<String>,
}

/// Why a typed query cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("it has no letters or digits")]
    Empty,
    #[error("it is longer than {MAX_QUERY_CHARS} characters")]
    TooLong,
    /// Several words separated by spaces, without quotes: a phrase or a slip?
    #[error("several words need quotes to make a phrase")]
    Unquoted,
    #[error("a quote is not closed")]
    Unclosed,
}

/// Quote pairs a phrase may be written in: straight, English and Russian typography.
const QUOTES: [(char, char); 4] = [('"', '"'), ('“', '”'), ('«', '»'), ('„', '“')];

impl Query {
    /// Reads what a user typed: one word (`visa`), or a phrase in quotes
    /// (`"visa centre"`, `“…”`, `«…»`). A single token that holds
    /// punctuation (`visa-free`) is the phrase of its words.
    pub fn parse(input: &str) -> Result<Query, QueryError> {
        let input = input.trim();
        if input.chars().count() > MAX_QUERY_CHARS {
            return Err(QueryError::TooLong);
        }
        let quoted = QUOTES.iter().find_map(|(open, close)| {
            input
                .strip_prefix(*open)
                .map(|rest| rest.strip_suffix(*close))
        });
        let inner = match quoted {
            Some(Some(inner)) => inner,
            Some(None) => return Err(QueryError::Unclosed),
            None => {
                if input.split_whitespace().nth(1).is_some() {
                    return Err(QueryError::Unquoted);
                }
                input
            }
        };
        let words: Vec<String> = words(inner).collect();
        if words.is_empty() {
            return Err(QueryError::Empty);
        }
        Ok(Query { words })
    }

    /// Whether `text` holds this word or phrase.
    pub fn matches(&self, text: &str) -> bool {
        self.matches_text(&Text::new(text))
    }

    /// Whether `text`, split once for many queries, holds this word or phrase.
    pub fn matches_text(&self, text: &Text) -> bool {
        let n = self.words.len();
        text.words.len() >= n
            && text.words.windows(n).any(|run| {
                run.iter()
                    .zip(&self.words)
                    .all(|(word, wanted)| word.starts_with(wanted.as_str()))
            })
    }
}

/// The normalized form: the word, or the phrase in straight quotes. Parsing
/// it gives the same query back.
impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.words.as_slice() {
            [word] => f.write_str(word),
            words => write!(f, "\"{}\"", words.join(" ")),
        }
    }
}

/// Text split into normalized words once, to test many queries against it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Text {
    words: Vec<String>,
}

impl Text {
    pub fn new(text: &str) -> Text {
        Text {
            words: words(text).collect(),
        }
    }
}

/// The words of `text`, lowercased, "ё" read as "е".
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            w.chars()
                .flat_map(char::to_lowercase)
                .map(|c| if c == 'ё' { 'е' } else { c })
                .collect()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Query {
        Query::parse(s).unwrap()
    }

    #[test]
    fn words_match_case_insensitively_as_prefixes_on_word_boundaries() {
        assert!(q("visa").matches("New VISA rules"));
        assert!(q("visa").matches("Visas for students"));
        assert!(q("visa").matches("a visa-free regime"));
        assert!(
            !q("visa").matches("It is advisable"),
            "only at a word's start"
        );
        assert!(
            !q("visas").matches("a visa"),
            "the query is the prefix, not the text"
        );
        assert!(q("Визы").matches("О выдаче визы"), "Cyrillic case");
        assert!(q("виз").matches("ВИЗОВЫЙ центр"));
        assert!(!q("виза").matches("визы"), "a prefix, not a stem");
        assert!(q("ёлка").matches("Новогодняя елка"), "ё is е");
        assert!(q("елка").matches("Новогодняя Ёлка"));
        assert!(q("2022").matches("on 21.05.2022 -"));
        assert!(!q("visa").matches(""));
    }

    #[test]
    fn phrases_are_words_in_a_row() {
        let centre = q("\"visa centre\"");
        assert!(centre.matches("The Visa Centres in London"));
        assert!(
            centre.matches("visa, centre"),
            "punctuation between is a boundary"
        );
        assert!(!centre.matches("centre of visa"));
        assert!(!centre.matches("visa application centre"));
        assert!(q("«консульские сбор»").matches("Консульские сборы выросли"));
        assert!(q("“visa centre”").matches("visa centre"));
        assert!(
            !q("«консульский сбор»").matches("Консульские сборы"),
            "each word a prefix"
        );
        assert_eq!(q("visa-free"), q("\"visa free\""));
        assert!(q("covid-19").matches("COVID-19 rules"));
    }

    #[test]
    fn bad_queries_say_why() {
        assert_eq!(Query::parse("  "), Err(QueryError::Empty));
        assert_eq!(Query::parse("\"--\""), Err(QueryError::Empty));
        assert_eq!(Query::parse("\"\""), Err(QueryError::Empty));
        assert_eq!(Query::parse("visa centre"), Err(QueryError::Unquoted));
        assert_eq!(Query::parse("\"visa centre"), Err(QueryError::Unclosed));
        assert_eq!(Query::parse("\""), Err(QueryError::Unclosed));
        assert_eq!(Query::parse(&"я".repeat(65)), Err(QueryError::TooLong));
        assert!(
            Query::parse(&"я".repeat(64)).is_ok(),
            "characters, not bytes"
        );
    }

    #[test]
    fn the_normal_form_reads_back_as_the_same_query() {
        for typed in ["Visa", "«Визовый Центр»", "visa-free", "  sanctions "] {
            let query = q(typed);
            assert_eq!(
                Query::parse(&query.to_string()),
                Ok(query.clone()),
                "{typed}"
            );
        }
        assert_eq!(q("Visa").to_string(), "visa");
        assert_eq!(q("«Визовый Центр»").to_string(), "\"визовый центр\"");
    }

    #[test]
    fn one_split_serves_many_queries() {
        let text = Text::new("Консульский отдел: новые правила выдачи виз");
        assert!(q("виз").matches_text(&text));
        assert!(q("\"новые правила\"").matches_text(&text));
        assert!(!q("visa").matches_text(&text));
    }
}
