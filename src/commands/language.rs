//! `/language en|ru`: the chat's language, its own choice, saved. One per
//! chat (a forum's topics share their group's); a channel's is set from a
//! private chat like its other settings. Until a chat chooses, it hears the
//! language of whoever subscribed it, or the sender's
//! ([`Language::for_reply`]).

use std::convert::Infallible;

use chrono::{DateTime, Utc};

use super::Context;
use super::reply::Usage;
use super::settings_command::{self, Scope, SettingsCommand};
use crate::config::Language;
use crate::store::StoreError;
use crate::tr;

/// What `/language` was asked to do: show or set the chat's language (a
/// chat always speaks one, so it cannot be ended).
pub(crate) type Request = settings_command::Request<Language, Infallible>;

/// Reads `/language`'s argument; the usage saying what to fix when it is wrong.
pub(crate) fn parse(args: &str) -> Result<Request, Usage> {
    Request::read(args, |code| {
        Language::from_code(code).ok_or(Usage::of("language-usage"))
    })
}

/// `/language` for the chat of a scope: durable before the reply, which is
/// in the language it leaves the chat with.
impl SettingsCommand for Request {
    fn changes(&self) -> bool {
        *self != Request::Show
    }

    /// A forum's topics share their group's language.
    fn narrow(scope: Scope) -> Scope {
        scope.whole_chat()
    }

    async fn apply(
        self,
        ctx: &Context,
        scope: &Scope,
        _now: DateTime<Utc>,
        _lang: Language,
    ) -> Result<String, StoreError> {
        let (chat, kind, name) = (scope.target, scope.kind, scope.name.as_str());
        Ok(match self {
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
            Request::Off(never) => match never {},
        })
    }
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
        let said = |args: &str, lang| parse(args).unwrap_err().words(lang);
        let en = Language::En;
        assert_eq!(parse(""), Ok(Request::Show));
        assert_eq!(parse("RU"), Ok(Request::Set(Language::Ru)));
        assert_eq!(parse("en"), Ok(Request::Set(Language::En)));
        assert!(said("de", en).starts_with("Usage"));
        assert!(said("en ru", en).starts_with("Usage"));
        assert!(
            said("off", en).starts_with("Usage"),
            "a chat always speaks one"
        );
        assert!(said("de", Language::Ru).starts_with("Как пользоваться"));
    }
}
