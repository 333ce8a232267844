//! Matching words against a release's text: the one set of rules behind
//! `/search` and the keyword filters of `/filter`. Pure.
//!
//! The rules, which `docs/usage.md` ("Search") states for users:
//! - Text is compared as **words**: runs of letters and digits in any script,
//!   lowercased the Unicode way ("Визы" is "визы"), with `ё` read as `е`.
//!   Everything else (spaces, punctuation, quotes, dashes) only separates words.
//! - A word matches at the **start** of a word: `visa` matches "visas" and
//!   "Visa-free", never "antivisa".
//! - A **phrase** in quotes (`"visa centre"`, also `“…”` and `«…»`, which phones
//!   type) matches its words in a row: each whole, the last also as a start
//!   (`"visa appl"` matches "visa applications").
//! - A word with punctuation inside (`covid-19`, `Lavrov's`) is the phrase of its parts.
//!
//! Both sides go through [`normalize`], which writes the words between single
//! spaces (" visa free travel "): a pattern is then a plain substring, a space
//! and its words (" visa free"), so matching is one `memmem` search over
//! bytes — fast enough to scan 20,000 titles and leads per `/search`
//! (BENCHMARKS.md). Releases' bodies, 5–10 times longer, are not scanned:
//! the search index keeps their words in a vocabulary (`store/body_index.rs`)
//! and applies these same rules word by word — a pattern's words but the
//! last equal to a body's words in a row, the last one's start.

use std::fmt;
use std::hash::{Hash, Hasher};

use memchr::memmem::Finder;

/// Text reduced to its words: lowercase, `ё` as `е`, each word preceded and
/// followed by one space. What a [`Pattern`] is searched in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized(String);

impl Normalized {
    /// The words between single spaces, with a space at each end.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Bytes held (for the search index's memory account).
    pub fn capacity(&self) -> usize {
        self.0.capacity()
    }

    /// Whether the text has no words at all.
    pub fn is_empty(&self) -> bool {
        self.0.len() <= 1
    }

    /// Adds `text`'s words after the ones already held.
    pub fn push(&mut self, text: &str) {
        for c in text.chars() {
            if c.is_alphanumeric() {
                for lower in c.to_lowercase() {
                    self.0.push(if lower == 'ё' { 'е' } else { lower });
                }
            } else if !self.0.ends_with(' ') {
                self.0.push(' ');
            }
        }
        if !self.0.ends_with(' ') {
            self.0.push(' ');
        }
    }

    /// Gives back unused capacity (the index keeps thousands of these).
    pub fn shrink(mut self) -> Normalized {
        self.0.shrink_to_fit();
        self
    }
}

/// `text` as words ([`Normalized`]).
pub fn normalize(text: &str) -> Normalized {
    let mut out = Normalized(String::with_capacity(text.len() + 2));
    out.0.push(' ');
    out.push(text);
    out
}

/// What a release is matched by, for `/search` and keyword filters alike: its
/// title and lead, each cut to what extraction lets a new release have (older
/// records may be longer).
pub fn release_words(title: &str, lead: &str) -> Normalized {
    let max = crate::text::markup::MAX_TEXT_CHARS;
    let capped = |text: &str| text.chars().take(max).collect::<String>();
    let mut words = normalize(&capped(title));
    words.push(&capped(lead));
    words
}

/// One word or phrase, ready to be searched for.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The words, each after a space, no space at the end: " visa free".
    needle: String,
    words: usize,
    finder: Finder<'static>,
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.needle == other.needle
    }
}

impl Eq for Pattern {}

impl Hash for Pattern {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.needle.hash(state);
    }
}

/// The normal form: the word, or the phrase in straight quotes
/// (`"visa centre"`). [`Pattern::parse`] reads it back as the same pattern.
impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.words > 1 {
            write!(f, "\"{}\"", self.text())
        } else {
            f.write_str(self.text())
        }
    }
}

/// Longest single word or phrase (a keyword filter), in characters.
pub const MAX_PATTERN_CHARS: usize = 64;

/// Why a word or phrase typed on its own (a keyword filter) cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("it has no letters or digits")]
    Empty,
    #[error("it is longer than {MAX_PATTERN_CHARS} characters")]
    TooLong,
    /// Several words separated by spaces, without quotes: a phrase or a slip?
    #[error("several words need quotes to make a phrase")]
    Unquoted,
    #[error("a quote is not closed")]
    Unclosed,
}

/// Quote pairs a phrase typed on its own may be written in: straight,
/// English and Russian typography.
const QUOTE_PAIRS: [(char, char); 4] = [('"', '"'), ('“', '”'), ('«', '»'), ('„', '“')];

impl Pattern {
    /// The pattern for a word or phrase as typed; `None` when it has no word
    /// in it (only punctuation).
    pub fn new(text: &str) -> Option<Pattern> {
        let normalized = normalize(text);
        let needle = normalized.0.trim_end().to_string();
        if needle.is_empty() {
            return None;
        }
        let words = needle.split(' ').filter(|w| !w.is_empty()).count();
        let finder = Finder::new(needle.as_bytes()).into_owned();
        Some(Pattern {
            needle,
            words,
            finder,
        })
    }

    /// Reads one word (`visa`) or one phrase in quotes (`"visa centre"`,
    /// `“…”`, `«…»`) typed on its own, strictly: unlike a query's [`terms`],
    /// several unquoted words or an unclosed quote are an error to show, since
    /// a filter that silently means something else would hide releases.
    pub fn parse(input: &str) -> Result<Pattern, PatternError> {
        let input = input.trim();
        if input.chars().count() > MAX_PATTERN_CHARS {
            return Err(PatternError::TooLong);
        }
        let quoted = QUOTE_PAIRS.iter().find_map(|(open, close)| {
            input
                .strip_prefix(*open)
                .map(|rest| rest.strip_suffix(*close))
        });
        let inner = match quoted {
            Some(Some(inner)) => inner,
            Some(None) => return Err(PatternError::Unclosed),
            None if input.split_whitespace().nth(1).is_some() => {
                return Err(PatternError::Unquoted);
            }
            None => input,
        };
        Pattern::new(inner).ok_or(PatternError::Empty)
    }

    /// Whether the words occur in `text`, the last one possibly as a word's start.
    pub fn matches(&self, text: &Normalized) -> bool {
        self.finder.find(text.0.as_bytes()).is_some()
    }

    /// How many words it has (a phrase has several).
    pub fn words(&self) -> usize {
        self.words
    }

    /// The words as they are matched, separated by spaces ("visa free").
    pub fn text(&self) -> &str {
        self.needle.trim_start()
    }
}

/// One term of a query: a pattern, and whether it must be absent (`-word`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub pattern: Pattern,
    /// Written with a leading `-`: the text must not match it.
    pub exclude: bool,
}

/// Characters that open or close a phrase: the ASCII quote, and the quotes
/// phones substitute for it.
fn is_quote(c: char) -> bool {
    matches!(c, '"' | '“' | '”' | '„' | '«' | '»')
}

/// Splits what a user typed into terms: words, `"phrases"` and `-excluded`
/// ones, in order. Text with no word in it gives no term. An unclosed quote
/// runs to the end.
pub fn terms(text: &str) -> Vec<Term> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(&first) = chars.peek() else {
            return out;
        };
        let mut exclude = false;
        if first == '-' {
            chars.next();
            exclude = true;
        }
        let mut raw = String::new();
        if chars.next_if(|&c| is_quote(c)).is_some() {
            for c in chars.by_ref() {
                if is_quote(c) {
                    break;
                }
                raw.push(c);
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace() && !is_quote(*c)) {
                raw.push(c);
            }
        }
        if let Some(pattern) = Pattern::new(&raw) {
            out.push(Term { pattern, exclude });
        }
    }
}

/// Longest `/search` query, in characters: a query is a few words, and each
/// costs a scan of the index.
pub const MAX_QUERY_CHARS: usize = 200;
/// Most words in one `/search` query, phrases' words included.
pub const MAX_QUERY_WORDS: usize = 10;

/// Why a query cannot be run; the usage reply says what to type instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("no words to search for")]
    NoWords,
    #[error("only excluded words: say what to look for too")]
    OnlyExcluded,
    #[error("longer than {MAX_QUERY_CHARS} characters")]
    TooLong,
    #[error("more than {MAX_QUERY_WORDS} words")]
    TooManyWords,
}

/// A search: every included term must match, no excluded one may.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    terms: Vec<Term>,
}

impl Query {
    /// Reads a query as typed, within [`MAX_QUERY_CHARS`] and [`MAX_QUERY_WORDS`].
    pub fn parse(text: &str) -> Result<Query, QueryError> {
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(QueryError::TooLong);
        }
        let terms = terms(text);
        if terms.is_empty() {
            return Err(QueryError::NoWords);
        }
        if terms.iter().all(|t| t.exclude) {
            return Err(QueryError::OnlyExcluded);
        }
        if terms.iter().map(|t| t.pattern.words()).sum::<usize>() > MAX_QUERY_WORDS {
            return Err(QueryError::TooManyWords);
        }
        Ok(Query { terms })
    }

    /// Whether `text` has every included term and none of the excluded.
    pub fn matches(&self, text: &Normalized) -> bool {
        self.terms
            .iter()
            .all(|t| t.pattern.matches(text) != t.exclude)
    }

    /// Whether the texts together have every included term (each in one of
    /// them) and none has an excluded one: a release's title and lead, and
    /// its body, matched apart so that no phrase runs from one into the other.
    pub fn matches_any(&self, texts: &[&Normalized]) -> bool {
        self.terms.iter().all(|t| {
            let found = texts.iter().any(|text| t.pattern.matches(text));
            found != t.exclude
        })
    }

    /// Whether any term is excluded (`-word`).
    pub fn excludes(&self) -> bool {
        self.terms.iter().any(|t| t.exclude)
    }

    /// The terms, in the order typed.
    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// The query as it is matched, for showing back: `visa "visa centre" -tax`.
    pub fn describe(&self) -> String {
        self.terms
            .iter()
            .map(|t| {
                let words = t.pattern.to_string();
                if t.exclude {
                    format!("-{words}")
                } else {
                    words
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, text: &str) -> bool {
        Pattern::new(pattern)
            .expect("a pattern with words")
            .matches(&normalize(text))
    }

    #[test]
    fn normalizing_keeps_words_between_single_spaces() {
        assert_eq!(normalize("").as_str(), " ");
        assert!(normalize(" — !").is_empty());
        assert_eq!(
            normalize("  Visa-free, travel!  ").as_str(),
            " visa free travel "
        );
        assert_eq!(normalize("ВИЗЫ и Ёлки").as_str(), " визы и елки ");
        assert_eq!(normalize("Lavrov’s talks").as_str(), " lavrov s talks ");
        assert_eq!(normalize("20.05.2022").as_str(), " 20 05 2022 ");
        let mut two = normalize("Title.");
        two.push("Lead");
        assert_eq!(two.as_str(), " title lead ");
    }

    #[test]
    fn words_match_case_insensitively_in_any_script() {
        assert!(matches("Визы", "Оформление визы в Лондоне"));
        assert!(matches("визы", "ВИЗЫ"));
        assert!(matches("VISA", "visa applications"));
        assert!(matches("ёлка", "Елка"));
        assert!(matches("елка", "Ёлка"));
        assert!(matches("Ελλάδα", "ΕΛΛΆΔΑ"));
    }

    #[test]
    fn a_word_matches_at_the_start_of_a_word_only() {
        assert!(matches("visa", "visas"));
        assert!(matches("visa", "Visa-free travel"));
        assert!(matches("виз", "визовый режим"));
        assert!(!matches("visa", "antivisa campaign"));
        assert!(!matches("visas", "visa"));
        assert!(!matches("isa", "visa"));
        assert!(matches("2022", "on 20.05.2022"));
    }

    #[test]
    fn a_phrase_matches_its_words_in_a_row() {
        assert!(matches("visa centre", "The Visa Centre in London"));
        assert!(matches("visa appl", "visa applications"));
        assert!(!matches("visa centre", "centre for visa"));
        assert!(!matches("visa centre", "visa and the centre"));
        // Every word but the last is whole.
        assert!(!matches("vis centre", "visa centre"));
        assert!(matches("covid-19", "COVID 19 restrictions"));
        assert!(matches("Lavrov's", "Sergey Lavrov’s interview"));
    }

    #[test]
    fn terms_read_words_phrases_and_exclusions() {
        let shown = |text: &str| {
            terms(text)
                .iter()
                .map(|t| format!("{}{}", if t.exclude { "-" } else { "" }, t.pattern.text()))
                .collect::<Vec<_>>()
        };
        assert_eq!(shown("visa  London"), ["visa", "london"]);
        assert_eq!(shown("\"visa centre\" -tax"), ["visa centre", "-tax"]);
        assert_eq!(
            shown("“визовый центр” «посольство»"),
            ["визовый центр", "посольство"]
        );
        assert_eq!(shown("-\"visa centre\""), ["-visa centre"]);
        assert_eq!(shown("\"unclosed phrase"), ["unclosed phrase"]);
        assert_eq!(shown("visa\"centre\""), ["visa", "centre"]);
        assert!(shown("  -- ! \"\" ").is_empty());
    }

    #[test]
    fn a_query_needs_every_word_and_none_excluded() {
        let q = Query::parse("visa london -tax").unwrap();
        assert!(q.matches(&normalize("Visas issued in London")));
        assert!(!q.matches(&normalize("Visas issued in Moscow")));
        assert!(!q.matches(&normalize("Visa tax in London")));
        assert_eq!(q.describe(), "visa london -tax");
        assert_eq!(
            Query::parse("“Visa Centre”").unwrap().describe(),
            "\"visa centre\""
        );
    }

    #[test]
    fn a_pattern_typed_on_its_own_is_strict_and_reads_back() {
        let p = |s: &str| Pattern::parse(s);
        assert_eq!(p("  "), Err(PatternError::Empty));
        assert_eq!(p("\"--\""), Err(PatternError::Empty));
        assert_eq!(p("visa centre"), Err(PatternError::Unquoted));
        assert_eq!(p("\"visa centre"), Err(PatternError::Unclosed));
        assert_eq!(p("\""), Err(PatternError::Unclosed));
        assert_eq!(p(&"я".repeat(65)), Err(PatternError::TooLong));
        assert!(p(&"я".repeat(64)).is_ok(), "characters, not bytes");
        assert_eq!(p("visa-free"), p("\"visa free\""));
        for typed in ["Visa", "«Визовый Центр»", "visa-free", "  sanctions "] {
            let pattern = p(typed).unwrap();
            assert_eq!(p(&pattern.to_string()), Ok(pattern.clone()), "{typed}");
        }
        assert_eq!(
            p("«Визовый Центр»").unwrap().to_string(),
            "\"визовый центр\""
        );
    }

    #[test]
    fn queries_are_bounded() {
        assert_eq!(Query::parse(""), Err(QueryError::NoWords));
        assert_eq!(Query::parse("?! —"), Err(QueryError::NoWords));
        assert_eq!(Query::parse("-tax"), Err(QueryError::OnlyExcluded));
        let long = "a".repeat(MAX_QUERY_CHARS + 1);
        assert_eq!(Query::parse(&long), Err(QueryError::TooLong));
        assert!(Query::parse(&"я".repeat(MAX_QUERY_CHARS)).is_ok());
        let ten = "w ".repeat(MAX_QUERY_WORDS);
        assert!(Query::parse(&ten).is_ok());
        assert_eq!(
            Query::parse(&format!("{ten} eleven")),
            Err(QueryError::TooManyWords)
        );
        // A phrase's words count too.
        assert_eq!(
            Query::parse(&format!("\"{ten}\" x")),
            Err(QueryError::TooManyWords)
        );
    }
}
