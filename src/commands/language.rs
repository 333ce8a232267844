//! `/language en|ru`: the chat's language, its own choice, saved. One per
//! chat (a forum's topics share their group's); a channel's is set from a
//! private chat like its other settings. Replies are in English for now;
//! later work renders them in the chat's language ([`crate::store::Store::language`]).

use super::Context;
use super::settings::Place;
use crate::settings::Language;
use crate::store::{StoreError, Target};

/// What `/language` was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Show,
    Set(Language),
}

impl Request {
    /// Whether it changes anything.
    pub fn changes(&self) -> bool {
        *self != Request::Show
    }
}

/// Reads `/language`'s argument; the reply saying what to fix when it is wrong.
pub fn parse(args: &str) -> Result<Request, String> {
    let args = args.trim();
    if args.is_empty() {
        return Ok(Request::Show);
    }
    Language::from_code(args)
        .map(Request::Set)
        .ok_or_else(|| text::USAGE.to_string())
}

/// Runs `/language` for the chat of `place`. Durable before the reply.
pub async fn run(ctx: &Context, place: &Place, request: Request) -> Result<String, StoreError> {
    let chat = Target::from(place.target.chat);
    let name = if place.target.thread.is_some() {
        "this group"
    } else {
        place.object.as_str()
    };
    Ok(match request {
        Request::Show => text::shown(name, ctx.store.language(chat.chat)?),
        Request::Set(language) => {
            ctx.store
                .change_settings(chat, |s| s.language = Some(language))
                .await?;
            text::set(name, language)
        }
    })
}

/// Every reply of `/language`, kept together.
mod text {
    use super::*;

    pub const USAGE: &str = "Usage: /language en for English, /language ru for Russian (Русский); /language shows the one in use.";

    fn named(language: Language) -> String {
        format!("{} ({})", language.name(), language.code())
    }

    pub fn shown(name: &str, chosen: Option<Language>) -> String {
        let language = chosen.unwrap_or(Language::DEFAULT);
        format!(
            "The language of {name}: {}. To change it: /language en or /language ru.",
            named(language)
        )
    }

    pub fn set(name: &str, language: Language) -> String {
        let mut text = format!("The language of {name} is now {}.", named(language));
        if language != Language::En {
            text.push_str(" My replies are still in English for now; that is changing soon.");
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_code() {
        assert_eq!(parse(""), Ok(Request::Show));
        assert_eq!(parse("RU"), Ok(Request::Set(Language::Ru)));
        assert_eq!(parse("en"), Ok(Request::Set(Language::En)));
        assert!(parse("de").unwrap_err().starts_with("Usage"));
        assert!(parse("en ru").unwrap_err().starts_with("Usage"));
    }
}
