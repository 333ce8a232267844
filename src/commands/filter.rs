//! `/filter`: keyword filters for the chat, topic or channel. `/filter`
//! lists them; `/filter add visa`, `/filter add "visa centre"`, `/filter add
//! -visa` (exclude), `/filter remove visa`, `/filter clear`. A release
//! reaches the target only if it mentions one of its includes (or there is
//! none) and none of its excludes, in its title or lead (see
//! [`crate::matching`] for what "mentions" means). `/latest` shows every
//! release regardless.

use super::Context;
use super::settings::Place;
use crate::matching::PatternError;
use crate::render::escape;
use crate::settings::{Filter, MAX_FILTERS, TargetSettings};
use crate::store::StoreError;

/// What `/filter` was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Show,
    Add(Filter),
    /// The filter on this word or phrase, included or excluded.
    Remove(Filter),
    Clear,
}

impl Request {
    /// Whether it changes anything (then only those who may, may).
    pub fn changes(&self) -> bool {
        *self != Request::Show
    }
}

/// Reads `/filter`'s arguments; the reply saying what to fix when they are wrong.
pub fn parse(args: &str) -> Result<Request, String> {
    let args = args.trim();
    if args.is_empty() {
        return Ok(Request::Show);
    }
    let (verb, rest) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
    let rest = rest.trim();
    let filter = || match rest {
        "" => Err(text::USAGE.to_string()),
        _ => Filter::parse(rest).map_err(|e| text::bad_filter(&e)),
    };
    match verb.to_lowercase().as_str() {
        "add" => filter().map(Request::Add),
        "remove" | "delete" => filter().map(Request::Remove),
        "clear" if rest.is_empty() => Ok(Request::Clear),
        _ => Err(text::USAGE.to_string()),
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

/// Runs `/filter` for `place`. Changes are durable before the reply.
pub async fn run(ctx: &Context, place: &Place, request: Request) -> Result<String, StoreError> {
    let store = &ctx.store;
    Ok(match request {
        Request::Show => text::list(place, &store.settings(place.target)?.filters),
        Request::Add(filter) => {
            let added = store
                .change_settings(place.target, |s| add(s, &filter))
                .await?;
            text::added(place, &filter, added)
        }
        Request::Remove(filter) => {
            let removed = store
                .change_settings(place.target, |s| remove(s, &filter))
                .await?;
            text::removed(place, &filter, removed.as_ref())
        }
        Request::Clear => {
            let had = store
                .change_settings(place.target, |s| std::mem::take(&mut s.filters).len())
                .await?;
            text::cleared(place, had)
        }
    })
}

/// Every reply of `/filter`, kept together.
mod text {
    use super::*;

    pub const USAGE: &str = "Usage: /filter lists the keyword filters; /filter add visa gets only releases that mention “visa” (or “visas”…); /filter add \"visa centre\" for a phrase; /filter add -visa leaves out releases that mention it; /filter remove visa; /filter clear.";

    pub fn bad_filter(e: &PatternError) -> String {
        match e {
            PatternError::Empty => "A filter needs a word: letters or digits, for example /filter add visa.".into(),
            PatternError::TooLong => format!(
                "A filter may be at most {} characters long.",
                crate::matching::MAX_PATTERN_CHARS
            ),
            PatternError::Unquoted => "Put a phrase in quotes: /filter add \"visa centre\". To get releases that mention either word, add each on its own.".into(),
            PatternError::Unclosed => "A quote is not closed: /filter add \"visa centre\".".into(),
        }
    }

    fn shown(filters: &[&Filter]) -> String {
        let words: Vec<String> = filters
            .iter()
            .map(|f| format!("<code>{}</code>", escape(&f.pattern.to_string())))
            .collect();
        words.join(", ")
    }

    pub fn list(place: &Place, filters: &[Filter]) -> String {
        if filters.is_empty() {
            return format!(
                "{} gets every release: it has no keyword filters.\n/filter add visa gets only the releases that mention “visa” (or “visas”…) in the title or lead; /filter add -visa leaves them out; a phrase goes in quotes.",
                place.subject
            );
        }
        let includes: Vec<&Filter> = filters.iter().filter(|f| !f.exclude).collect();
        let excludes: Vec<&Filter> = filters.iter().filter(|f| f.exclude).collect();
        let mut text = match includes.is_empty() {
            true => format!("{} gets every release", place.subject),
            false => format!(
                "{} gets only the releases that mention {}",
                place.subject,
                shown(&includes)
            ),
        };
        if !excludes.is_empty() {
            text.push_str(&format!(", except those that mention {}", shown(&excludes)));
        }
        text.push_str(&format!(
            ".\n{} of {MAX_FILTERS} filters. /filter remove visa drops one, /filter clear all; /latest shows every release all the same.",
            filters.len()
        ));
        text
    }

    pub fn added(place: &Place, filter: &Filter, added: Added) -> String {
        let word = format!("<code>{}</code>", escape(&filter.pattern.to_string()));
        match (added, filter.exclude) {
            (Added::Full, _) => format!(
                "{} has {MAX_FILTERS} filters, the most it may have: /filter remove one first.",
                place.subject
            ),
            (Added::Already, _) => format!("{word} is a filter here already. /filter lists them."),
            (Added::New | Added::Turned, false) => format!(
                "Done: releases that mention {word} reach {}{}. /filter lists the filters.",
                place.object,
                if added == Added::Turned { " again" } else { "" }
            ),
            (Added::New | Added::Turned, true) => format!(
                "Done: releases that mention {word} no longer reach {}. /filter lists the filters.",
                place.object
            ),
        }
    }

    pub fn removed(place: &Place, asked: &Filter, removed: Option<&Filter>) -> String {
        match removed {
            Some(f) => format!(
                "Removed the filter {}. /filter lists what {} has left.",
                format_args!("<code>{}</code>", escape(&f.to_string())),
                place.object
            ),
            None => format!(
                "{} has no filter <code>{}</code>. /filter lists them.",
                place.subject,
                escape(&asked.pattern.to_string())
            ),
        }
    }

    pub fn cleared(place: &Place, had: usize) -> String {
        match had {
            0 => format!("{} had no filters: it gets every release.", place.subject),
            _ => format!(
                "Filters cleared: {} gets every release again.",
                place.object
            ),
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
        assert_eq!(parse(""), Ok(Request::Show));
        assert_eq!(parse("add Visa"), Ok(Request::Add(filter("visa"))));
        assert_eq!(parse("ADD -визы"), Ok(Request::Add(filter("-визы"))));
        assert_eq!(
            parse("add \"visa centre\""),
            Ok(Request::Add(filter("\"visa centre\"")))
        );
        assert_eq!(parse("remove -visa"), Ok(Request::Remove(filter("-visa"))));
        assert_eq!(parse("clear"), Ok(Request::Clear));
        assert!(parse("clear all").unwrap_err().starts_with("Usage"));
        assert!(parse("add").unwrap_err().starts_with("Usage"));
        assert!(parse("visa").unwrap_err().starts_with("Usage"));
        assert!(parse("add visa centre").unwrap_err().contains("quotes"));
        assert!(
            parse(&format!("add {}", "a".repeat(65)))
                .unwrap_err()
                .contains("at most 64")
        );
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
