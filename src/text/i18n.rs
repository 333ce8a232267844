//! Every word the bot says to people, in each [`Language`], kept in
//! translation files (Fluent: `locales/<code>.ftl`) compiled into the binary,
//! so the bot still runs from one file and one image.
//!
//! Code names a message by its id and passes its arguments ([`tr!`]); the
//! words, plural rules (CLDR: 1 день, 2 дня, 5 дней, 21 день) and date forms
//! live in the files. Arguments that hold text for Telegram HTML are escaped
//! by the caller; the messages keep their own tags.
//!
//! Looking a message up never panics: one missing in a language falls back
//! to English, and one missing in English shows its id; both are logged.
//! A unit test keeps the files in step (the same ids, the same arguments,
//! every message formatting cleanly), so neither happens in a release.

use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

use crate::config::Language;

/// The translation file of `language`. A new language is a new file here
/// and a new [`Language`] variant.
fn source(language: Language) -> &'static str {
    match language {
        Language::En => include_str!("../../locales/en.ftl"),
        Language::Ru => include_str!("../../locales/ru.ftl"),
    }
}

/// One language's messages, parsed once.
struct Bundle(FluentBundle<FluentResource>);

fn load(language: Language) -> Bundle {
    let locale = language
        .code()
        .parse()
        .unwrap_or_else(|_| unic_langid::LanguageIdentifier::default());
    let mut bundle = FluentBundle::new_concurrent(vec![locale]);
    // Without this, Fluent wraps every argument in Unicode isolation marks,
    // which Telegram shows (and which split HTML entities).
    bundle.set_use_isolating(false);
    let resource = match FluentResource::try_new(source(language).to_string()) {
        Ok(resource) => resource,
        Err((resource, errors)) => {
            tracing::error!(
                language = language.code(),
                ?errors,
                "a translation file has syntax errors; the messages around them are missing"
            );
            resource
        }
    };
    if let Err(errors) = bundle.add_resource(resource) {
        tracing::error!(
            language = language.code(),
            ?errors,
            "a translation file defines a message twice"
        );
    }
    Bundle(bundle)
}

static BUNDLES: LazyLock<Vec<Bundle>> =
    LazyLock::new(|| Language::ALL.into_iter().map(load).collect());

fn bundle(language: Language) -> &'static Bundle {
    &BUNDLES[language.index()]
}

/// One argument of a message: text or a number (numbers choose plural forms).
pub(crate) type Arg<'a> = FluentValue<'a>;

/// Makes an argument of anything Fluent takes (`&str`, `String`, integers).
pub(crate) fn arg<'a>(value: impl Into<FluentValue<'a>>) -> FluentValue<'a> {
    value.into()
}

impl Bundle {
    /// The message `id` with `args`, if this language has it.
    fn format(&self, id: &str, args: &FluentArgs) -> Option<String> {
        let pattern = self.0.get_message(id)?.value()?;
        let mut errors = Vec::new();
        let text = self.0.format_pattern(pattern, Some(args), &mut errors);
        if !errors.is_empty() {
            tracing::error!(id, ?errors, "a message did not format cleanly");
        }
        Some(text.into_owned())
    }
}

/// The message `id` in `language`, with `args`; see [`tr!`] for the short
/// form. Never fails: see the module's doc.
pub(crate) fn tr(language: Language, id: &str, args: &[(&str, Arg<'_>)]) -> String {
    let mut fluent_args = FluentArgs::with_capacity(args.len());
    for (name, value) in args {
        fluent_args.set(*name, value.clone());
    }
    if let Some(text) = bundle(language).format(id, &fluent_args) {
        return text;
    }
    if language != Language::En
        && let Some(text) = bundle(Language::En).format(id, &fluent_args)
    {
        tracing::error!(
            id,
            language = language.code(),
            "a message is missing in a translation; said in English"
        );
        return text;
    }
    tracing::error!(id, "a message is missing in every translation");
    id.to_string()
}

/// `tr!(language, "message-id", name = value, …)`: the message with its
/// arguments ([`tr`]).
#[macro_export]
macro_rules! tr {
    ($language:expr, $id:expr $(, $name:ident = $value:expr)* $(,)?) => {
        $crate::text::i18n::tr($language, $id, &[$((stringify!($name), $crate::text::i18n::arg($value))),*])
    };
}

/// A calendar date as `language` writes it in a sentence ("29 November 2026",
/// "29 ноября 2026 г.": the month in the genitive).
pub(crate) fn date(language: Language, date: NaiveDate) -> String {
    tr!(
        language,
        "date",
        day = date.day(),
        month = date.month(),
        year = date.year()
    )
}

/// A day and month without the year ("27 March", "27 марта").
pub(crate) fn day_month(language: Language, date: NaiveDate) -> String {
    tr!(
        language,
        "day-month",
        day = date.day(),
        month = date.month()
    )
}

/// Items joined as a list ends in `language`: "a, b and c", "a, b и c".
pub(crate) fn and_list(language: Language, items: &[String]) -> String {
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => tr!(
            language,
            "list-and",
            rest = rest.join(", "),
            last = last.as_str()
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    /// Each message's id and the variables it uses, read off the file's text
    /// (a message starts at the line's start; its continuation is indented).
    fn messages(language: Language) -> BTreeMap<String, BTreeSet<String>> {
        let variable = regex::Regex::new(r"\$([a-zA-Z][a-zA-Z0-9_-]*)").unwrap();
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut current: Option<String> = None;
        for line in source(language).lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            if !line.starts_with([' ', '\t', '[', '*', '}', '.']) {
                let (id, _) = line.split_once('=').expect("a message line has `=`");
                let id = id.trim().to_string();
                assert!(
                    out.insert(id.clone(), BTreeSet::new()).is_none(),
                    "{id} is defined twice in {}",
                    language.code()
                );
                current = Some(id);
            }
            let id = current.as_ref().expect("a message comes first");
            let vars = out.get_mut(id).expect("inserted");
            for found in variable.captures_iter(line) {
                vars.insert(found[1].to_string());
            }
        }
        out
    }

    #[test]
    fn both_languages_have_the_same_messages_with_the_same_arguments() {
        let en = messages(Language::En);
        assert!(en.len() > 100, "the file was read: {}", en.len());
        for language in Language::ALL {
            let other = messages(language);
            let missing: Vec<_> = en.keys().filter(|id| !other.contains_key(*id)).collect();
            let extra: Vec<_> = other.keys().filter(|id| !en.contains_key(*id)).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{}: missing {missing:?}, not in English {extra:?}",
                language.code()
            );
            for (id, vars) in &en {
                assert_eq!(
                    vars,
                    &other[id],
                    "{id} takes other arguments in {}",
                    language.code()
                );
            }
        }
    }

    #[test]
    fn every_message_formats_cleanly_with_any_count() {
        for language in Language::ALL {
            let bundle = bundle(language);
            for (id, vars) in messages(language) {
                let pattern = bundle
                    .0
                    .get_message(&id)
                    .and_then(|m| m.value())
                    .unwrap_or_else(|| panic!("{id} did not parse in {}", language.code()));
                let samples: [FluentValue; 8] = [
                    0.into(),
                    1.into(),
                    2.into(),
                    5.into(),
                    11.into(),
                    21.into(),
                    12.into(),
                    "text".into(),
                ];
                for sample in samples {
                    let mut args = FluentArgs::new();
                    for var in &vars {
                        args.set(var.clone(), sample.clone());
                    }
                    let mut errors = Vec::new();
                    let text = bundle.0.format_pattern(pattern, Some(&args), &mut errors);
                    assert!(errors.is_empty(), "{id} in {}: {errors:?}", language.code());
                    assert!(
                        !text.contains(['\u{2068}', '\u{2069}']),
                        "{id}: isolation marks"
                    );
                }
            }
        }
    }

    #[test]
    fn every_message_the_code_names_exists() {
        // `tr!(language, "id"` anywhere in the sources, and the ids kept in
        // constants (usages), which name messages by their `-usage` suffix.
        let called = regex::Regex::new(r#"tr!\(\s*[^,()]+,\s*"([a-z0-9-]+)""#).unwrap();
        let constant = regex::Regex::new(r#""([a-z0-9-]+-usage)""#).unwrap();
        let en = messages(Language::En);
        let mut named = 0;
        let mut dirs = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src"
        ))];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                if path.ends_with("i18n.rs") {
                    continue; // its own calls are tested above, and its docs name examples
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for found in called
                    .captures_iter(&text)
                    .chain(constant.captures_iter(&text))
                {
                    named += 1;
                    assert!(
                        en.contains_key(&found[1]),
                        "{} names {}, which no translation has",
                        path.display(),
                        &found[1]
                    );
                }
            }
        }
        assert!(named > 0, "the sources were read: {named}");
    }

    #[test]
    fn plurals_dates_and_lists_follow_each_language() {
        let days = |language, n: i64| tr!(language, "days-word", days = n);
        let ru: Vec<String> = [1, 2, 5, 11, 21, 22, 111]
            .iter()
            .map(|n| days(Language::Ru, *n))
            .collect();
        assert_eq!(ru, ["день", "дня", "дней", "дней", "день", "дня", "дней"]);
        assert_eq!(days(Language::En, 1), "day");
        assert_eq!(days(Language::En, 21), "days");
        let d = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        assert_eq!(date(Language::En, d), "29 November 2026");
        assert_eq!(date(Language::Ru, d), "29 ноября 2026 г.");
        assert_eq!(day_month(Language::Ru, d), "29 ноября");
        let list = ["a".to_string(), "b".into(), "c".into()];
        assert_eq!(and_list(Language::En, &list), "a, b and c");
        assert_eq!(and_list(Language::Ru, &list[1..]), "b и c");
        assert_eq!(and_list(Language::Ru, &list[..1]), "a");
    }

    #[test]
    fn counts_in_sentences_agree_in_russian() {
        let more = |n: usize| tr!(Language::Ru, "more-not-shown", count = n);
        for n in [1, 21, 31] {
            assert!(more(n).contains("не поместилась"), "{}", more(n));
        }
        for n in [2, 5, 11, 32] {
            assert!(more(n).contains("не поместились"), "{}", more(n));
        }
        let end = |lang, n: usize| tr!(lang, "search-past-the-end", total = n);
        assert!(
            !end(Language::Ru, 1).contains("все 1"),
            "{}",
            end(Language::Ru, 1)
        );
        assert!(
            !end(Language::En, 1).contains("all 1"),
            "{}",
            end(Language::En, 1)
        );
        assert!(end(Language::Ru, 21).contains("все 21"));
        assert!(end(Language::En, 21).contains("all 21"));
        let full = |n: usize| tr!(Language::Ru, "settings-topics-full", max = n);
        assert!(full(21).contains("для 21 темы"), "{}", full(21));
        assert!(full(32).contains("для 32 тем;"), "{}", full(32));
    }

    #[test]
    fn a_missing_message_falls_back_and_never_panics() {
        assert_eq!(tr!(Language::Ru, "no-such-message"), "no-such-message");
        assert_eq!(
            tr!(Language::En, "list-and", rest = "a", last = "<b>"),
            "a and <b>",
            "arguments go in as they are, with no isolation marks"
        );
    }
}
