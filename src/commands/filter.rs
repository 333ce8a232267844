//! `/filter`: keyword filters for the chat, topic or channel. `/filter`
//! lists them; `/filter add visa`, `/filter add "visa centre"`, `/filter add
//! -visa` (exclude), `/filter remove visa`, `/filter clear`. A release
//! reaches the target only if it mentions one of its includes (or there is
//! none) and none of its excludes, in its title or lead (see
//! [`crate::text::matching`] for what "mentions" means). `/latest` shows every
//! release regardless.

use chrono::{DateTime, Utc};

use super::Context;
use super::reply::Usage;
use super::settings_command::{Scope, SettingsCommand};
use crate::config::Language;
use crate::settings::{Filter, MAX_FILTERS, TargetSettings};
use crate::store::StoreError;
use crate::text::markup::escape;
use crate::text::matching::PatternError;

/// What `/filter` was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Request {
    Show,
    Add(Filter),
    /// The filter on this word or phrase, included or excluded.
    Remove(Filter),
    Clear,
}

/// Reads `/filter`'s arguments; the usage saying what to fix when they are
/// wrong.
pub(crate) fn parse(args: &str) -> Result<Request, Usage> {
    let args = args.trim();
    if args.is_empty() {
        return Ok(Request::Show);
    }
    let (verb, rest) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
    let rest = rest.trim();
    let filter = || match rest {
        "" => Err(Usage::of(USAGE)),
        _ => Filter::parse(rest).map_err(|e| bad_filter(&e)),
    };
    match verb.to_lowercase().as_str() {
        "add" => filter().map(Request::Add),
        "remove" | "delete" => filter().map(Request::Remove),
        "clear" if rest.is_empty() => Ok(Request::Clear),
        _ => Err(Usage::of(USAGE)),
    }
}

/// How to use `/filter` (the message id).
const USAGE: &str = "filter-usage";

/// What is wrong with a filter as typed.
fn bad_filter(e: &PatternError) -> Usage {
    match e {
        PatternError::Empty => Usage::of("filter-empty"),
        PatternError::TooLong => Usage::of("filter-too-long")
            .with_number("max", crate::text::matching::MAX_PATTERN_CHARS),
        PatternError::Unquoted => Usage::of("filter-unquoted"),
        PatternError::Unclosed => Usage::of("filter-unclosed"),
    }
}

/// What adding a filter did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Added {
    New,
    Already,
    /// The same word was there with the other sign; it was turned around.
    Turned,
    Full,
}

fn add(settings: &mut TargetSettings, filter: &Filter) -> Added {
    if settings.filters.contains(filter) {
        return Added::Already;
    }
    if let Some(same) = settings
        .filters
        .iter_mut()
        .find(|f| f.pattern == filter.pattern)
    {
        *same = filter.clone();
        return Added::Turned;
    }
    if settings.filters.len() >= MAX_FILTERS {
        return Added::Full;
    }
    settings.filters.push(filter.clone());
    Added::New
}

/// Removes the filter on `filter`'s word or phrase (either sign); the one removed.
fn remove(settings: &mut TargetSettings, filter: &Filter) -> Option<Filter> {
    let at = settings
        .filters
        .iter()
        .position(|f| f.pattern == filter.pattern)?;
    Some(settings.filters.remove(at))
}

/// `/filter` for a scope: changes are durable before the reply.
impl SettingsCommand for Request {
    fn changes(&self) -> bool {
        *self != Request::Show
    }

    async fn apply(
        self,
        ctx: &Context,
        scope: &Scope,
        _now: DateTime<Utc>,
        lang: Language,
    ) -> Result<String, StoreError> {
        let store = &ctx.store;
        let target = scope.target;
        Ok(match self {
            Request::Show => text::list(scope, &store.settings(target)?.filters, lang),
            Request::Add(filter) => {
                let added = store.change_settings(target, |s| add(s, &filter)).await?;
                text::added(scope, &filter, added, lang)
            }
            Request::Remove(filter) => {
                let removed = store
                    .change_settings(target, |s| remove(s, &filter))
                    .await?;
                text::removed(scope, &filter, removed.as_ref(), lang)
            }
            Request::Clear => {
                let had = store
                    .change_settings(target, |s| std::mem::take(&mut s.filters).len())
                    .await?;
                text::cleared(scope, had, lang)
            }
        })
    }
}

/// Every reply of `/filter`, kept together.
mod text {
    use super::*;
    use crate::tr;

    fn code(text: &str) -> String {
        format!("<code>{}</code>", escape(text))
    }

    fn shown(filters: &[&Filter]) -> String {
        let words: Vec<String> = filters
            .iter()
            .map(|f| code(&f.pattern.to_string()))
            .collect();
        words.join(", ")
    }

    pub(super) fn list(scope: &Scope, filters: &[Filter], lang: Language) -> String {
        let (p, name) = (scope.kind, scope.name.as_str());
        if filters.is_empty() {
            return tr!(lang, "filter-list-none", place = p, name = name);
        }
        let includes: Vec<&Filter> = filters.iter().filter(|f| !f.exclude).collect();
        let excludes: Vec<&Filter> = filters.iter().filter(|f| f.exclude).collect();
        let mut text = match includes.is_empty() {
            true => tr!(lang, "filter-list-every", place = p, name = name),
            false => tr!(
                lang,
                "filter-list-only",
                place = p,
                name = name,
                words = shown(&includes)
            ),
        };
        if !excludes.is_empty() {
            text.push_str(&tr!(lang, "filter-list-except", words = shown(&excludes)));
        }
        text.push_str(".\n");
        text.push_str(&tr!(
            lang,
            "filter-list-count",
            count = filters.len(),
            max = MAX_FILTERS
        ));
        text
    }

    pub(super) fn added(scope: &Scope, filter: &Filter, added: Added, lang: Language) -> String {
        let (p, name) = (scope.kind, scope.name.as_str());
        let word = code(&filter.pattern.to_string());
        match (added, filter.exclude) {
            (Added::Full, _) => tr!(
                lang,
                "filter-full",
                place = p,
                name = name,
                max = MAX_FILTERS
            ),
            (Added::Already, _) => tr!(lang, "filter-already", word = word),
            (Added::New | Added::Turned, false) => tr!(
                lang,
                "filter-included",
                word = word,
                place = p,
                name = name,
                again = if added == Added::Turned { "yes" } else { "no" }
            ),
            (Added::New | Added::Turned, true) => {
                tr!(lang, "filter-excluded", word = word, place = p, name = name)
            }
        }
    }

    pub(super) fn removed(
        scope: &Scope,
        asked: &Filter,
        removed: Option<&Filter>,
        lang: Language,
    ) -> String {
        let (p, name) = (scope.kind, scope.name.as_str());
        match removed {
            Some(f) => tr!(
                lang,
                "filter-removed",
                filter = code(&f.to_string()),
                place = p,
                name = name
            ),
            None => tr!(
                lang,
                "filter-not-there",
                place = p,
                name = name,
                word = code(&asked.pattern.to_string())
            ),
        }
    }

    pub(super) fn cleared(scope: &Scope, had: usize, lang: Language) -> String {
        let (p, name) = (scope.kind, scope.name.as_str());
        match had {
            0 => tr!(lang, "filter-cleared-none", place = p, name = name),
            _ => tr!(lang, "filter-cleared", place = p, name = name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(s: &str) -> Filter {
        Filter::parse(s).unwrap()
    }

    #[test]
    fn parses_what_users_type() {
        let said = |args: &str| parse(args).unwrap_err().words(Language::En);
        assert_eq!(parse(""), Ok(Request::Show));
        assert_eq!(parse("add Visa"), Ok(Request::Add(filter("visa"))));
        assert_eq!(parse("ADD -визы"), Ok(Request::Add(filter("-визы"))));
        assert_eq!(
            parse("add \"visa centre\""),
            Ok(Request::Add(filter("\"visa centre\"")))
        );
        assert_eq!(parse("remove -visa"), Ok(Request::Remove(filter("-visa"))));
        assert_eq!(parse("clear"), Ok(Request::Clear));
        assert!(said("clear all").starts_with("Usage"));
        assert!(said("add").starts_with("Usage"));
        assert!(said("visa").starts_with("Usage"));
        assert!(said("add visa centre").contains("quotes"));
        assert!(said(&format!("add {}", "a".repeat(65))).contains("at most 64"));
    }

    #[test]
    fn adding_counts_turns_around_and_stops_at_the_limit() {
        let mut s = TargetSettings::default();
        assert_eq!(add(&mut s, &filter("visa")), Added::New);
        assert_eq!(add(&mut s, &filter("visa")), Added::Already);
        assert_eq!(add(&mut s, &filter("-visa")), Added::Turned);
        assert_eq!(s.filters, vec![filter("-visa")]);
        for n in 1..MAX_FILTERS {
            assert_eq!(add(&mut s, &filter(&format!("w{n}"))), Added::New);
        }
        assert_eq!(add(&mut s, &filter("one-more")), Added::Full);
        assert_eq!(s.filters.len(), MAX_FILTERS);
        assert_eq!(remove(&mut s, &filter("visa")), Some(filter("-visa")));
        assert_eq!(remove(&mut s, &filter("visa")), None);
    }
}
