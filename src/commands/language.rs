//! `/language en|ru`: the chat's language, its own choice, saved. One per
//! chat (a forum's topics share their group's); a channel's is set from a
//! private chat like its other settings. Until a chat chooses, it hears the
//! language of whoever subscribed it, or the sender's
//! ([`Language::for_reply`]).

use super::Context;
use super::settings::Place;
use crate::config::Language;
use crate::store::{StoreError, Target};
use crate::tr;

/// What `/language` was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Request {
    Show,
    Set(Language),
}

impl Request {
    /// Whether it changes anything.
    pub(crate) fn changes(&self) -> bool {
        *self != Request::Show
    }
}

/// Reads `/language`'s argument; the reply (in `lang`) saying what to fix when it is wrong.
pub(crate) fn parse(args: &str, lang: Language) -> Result<Request, String> {
    let args = args.trim();
    if args.is_empty() {
        return Ok(Request::Show);
    }
    Language::from_code(args)
        .map(Request::Set)
        .ok_or_else(|| tr!(lang, "language-usage"))
}

/// Runs `/language` for the chat of `place`. Durable before the reply, which
/// is in the language it leaves the chat with.
pub(crate) async fn run(
    ctx: &Context,
    place: &Place,
    request: Request,
) -> Result<String, StoreError> {
    let chat = Target::from(place.target.chat);
    // A forum's topics share their group's language.
    let kind = match place.kind {
        "topic" => "group",
        other => other,
    };
    let name = place.name.as_str();
    Ok(match request {
        Request::Show => {
            let settings = ctx.store.settings(chat)?;
            let language = settings
                .language
                .or(settings.inferred_language)
                .unwrap_or(Language::DEFAULT);
            tr!(
                language,
                "language-shown",
                place = kind,
                name = name,
                language = named(language)
            )
        }
        Request::Set(language) => {
            ctx.store
                .change_settings(chat, |s| s.language = Some(language))
                .await?;
            tr!(
                language,
                "language-set",
                place = kind,
                name = name,
                language = named(language)
            )
        }
    })
}

/// "English (en)", "Русский (ru)".
fn named(language: Language) -> String {
    format!("{} ({})", language.name(), language.code())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_code() {
        let en = Language::En;
        assert_eq!(parse("", en), Ok(Request::Show));
        assert_eq!(parse("RU", en), Ok(Request::Set(Language::Ru)));
        assert_eq!(parse("en", en), Ok(Request::Set(Language::En)));
        assert!(parse("de", en).unwrap_err().starts_with("Usage"));
        assert!(parse("en ru", en).unwrap_err().starts_with("Usage"));
        assert!(
            parse("de", Language::Ru)
                .unwrap_err()
                .starts_with("Как пользоваться")
        );
    }
}
