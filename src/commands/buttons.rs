//! Buttons under replies, and what pressing one does: `/latest` and
//! `/search` turn pages ("◀ Newer" / "Older ▶"), `/sources` turns pages
//! ("◀ Back" / "More ▶") and toggles a source for the chat (or forum topic)
//! the message is in. The message is shown anew in place
//! ([`Pressed::page`]); the press itself is always answered
//! ([`Pressed::notice`]). A page of `/sources` shows errors whole only in
//! an operator's private chat: in a group, an operator's press shows the
//! group what everyone sees.
//!
//! What a button's data says, and which buttons a page gets, is
//! [`super::paging`]'s; a press that cannot be read has expired, and is
//! answered so, naming the command to send again.
//!
//! Page buttons only read, and anyone may press them; a toggle changes the
//! subscription, so it passes the same check as `/subscribe`
//! ([`super::access::Access::may_change`]), and a refusal is an alert to the
//! presser alone, not a message in the chat.

use chrono::{DateTime, Utc};

use super::access::Verdict;
use super::paging::{Expired, Page, Press};
use super::{Context, Origin, latest, search, sources, subscribe};
use crate::config::Language;
use crate::render::{FullTextView, SourceLabels, full_text_messages, push_message};
use crate::store::{MAX_TOPICS, StoreError};
use crate::telegram::messenger::Keyboard;
use crate::text::matching::Query;
use crate::tr;

/// What a press comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pressed {
    /// Shown to the presser alone (plain text); `None`: the spinner just stops.
    pub notice: Option<String>,
    /// Show `notice` as an alert to dismiss, not a passing note.
    pub alert: bool,
    /// The message the button is on, shown anew.
    pub page: Option<Page>,
    /// Messages to send after it (Telegram HTML): the rest of a full text.
    pub more: Vec<String>,
}

impl Pressed {
    fn note(text: impl Into<String>) -> Pressed {
        Pressed {
            notice: Some(text.into()),
            alert: false,
            page: None,
            more: Vec::new(),
        }
    }

    fn alert(text: impl Into<String>) -> Pressed {
        Pressed {
            alert: true,
            ..Pressed::note(text)
        }
    }

    fn shown(page: Page) -> Pressed {
        Pressed {
            notice: None,
            alert: false,
            page: Some(page),
            more: Vec::new(),
        }
    }
}

/// Serves a press of a button whose data is `data`, on a message in
/// `origin`'s chat (and topic), by `origin`'s user, answering in `lang`.
pub(crate) async fn press(
    ctx: &Context,
    origin: &Origin,
    data: &str,
    now: DateTime<Utc>,
    lang: Language,
) -> Result<Pressed, StoreError> {
    let press = match Press::parse(data) {
        Ok(press) => press,
        Err(expired) => return Ok(Pressed::note(expired.notice(lang))),
    };
    match press {
        Press::Latest { offset, n } => {
            Ok(Pressed::shown(latest::view(&ctx.store, offset, n, lang)?))
        }
        Press::Search { query: id, offset } => {
            let query = ctx
                .store
                .saved_query(id, origin.chat)?
                .and_then(|text| Query::parse(&text).ok());
            let Some(query) = query else {
                return Ok(Pressed::note(Expired::Search.notice(lang)));
            };
            let page = search::view(&ctx.store, &query, offset, lang, || Ok(id))?;
            Ok(Pressed::shown(page))
        }
        Press::Toggle { source } => toggle(ctx, origin, &source, now, lang).await,
        Press::Sources { at } => {
            let errors = origin.sees_errors(&ctx.config);
            let page = sources::page(ctx, origin.target(), errors, at, lang)?;
            Ok(Pressed::shown(page))
        }
        Press::FullText { seq, view } => full_text(ctx, seq, view, lang),
    }
}

/// Release `seq`'s full text in place of its push (the rest as messages
/// after it), its push again, or (under a list) its full text as new
/// messages. Before its page was read, a short notice says so.
fn full_text(
    ctx: &Context,
    seq: u64,
    view: FullTextView,
    lang: Language,
) -> Result<Pressed, StoreError> {
    let Some((stored, body)) = ctx.store.body_by_seq(seq)? else {
        return Ok(Pressed::note(tr!(lang, "full-text-not-yet")));
    };
    let labels = SourceLabels::from_config(&ctx.config);
    let source = labels.describe(stored.sources());
    let button = |view, label| Keyboard {
        rows: vec![vec![Press::FullText { seq, view }.button(label)]],
    };
    if view == FullTextView::Short {
        let page = Page {
            text: push_message(&stored.item, &source),
            keyboard: Some(button(FullTextView::Full, tr!(lang, "button-full-text"))),
        };
        return Ok(Pressed::shown(page));
    }
    let mut messages = full_text_messages(&stored.item, &source, &body).into_iter();
    let first = messages.next().unwrap_or_default();
    if view == FullTextView::Apart {
        return Ok(Pressed {
            notice: None,
            alert: false,
            page: None,
            more: std::iter::once(first).chain(messages).collect(),
        });
    }
    Ok(Pressed {
        more: messages.collect(),
        ..Pressed::shown(Page {
            text: first,
            keyboard: Some(button(FullTextView::Short, tr!(lang, "button-short"))),
        })
    })
}

/// Subscribes or unsubscribes `origin`'s chat (topic) to `source`, if the
/// presser may, and shows the page of the list of sources holding it anew.
async fn toggle(
    ctx: &Context,
    origin: &Origin,
    source: &str,
    now: DateTime<Utc>,
    lang: Language,
) -> Result<Pressed, StoreError> {
    let Some(source) = ctx.config.source_named(source) else {
        return Ok(Pressed::note(Expired::Sources.notice(lang)));
    };
    match ctx.access.may_change(origin).await {
        Verdict::Allowed => {}
        // Told to the presser alone, so never held back like a chat's refusal.
        Verdict::Refused { .. } => return Ok(Pressed::alert(tr!(lang, "button-admins-only"))),
        Verdict::Unknown(e) => {
            tracing::warn!(chat = origin.chat, error = %e, "cannot check a presser's rights");
            return Ok(Pressed::alert(tr!(lang, "button-cannot-check")));
        }
    }
    let store = &ctx.store;
    let target = origin.target();
    let name = &source.name;
    let wanted = store
        .subscription(target.chat)?
        .is_some_and(|s| s.target_wants(target.thread, name));
    let notice = if wanted {
        let configured: Vec<String> = ctx.config.sources.iter().map(|s| s.name.clone()).collect();
        store.unsubscribe(target, Some(name), &configured).await?;
        tr!(lang, "button-unsubscribed", name = name.as_str())
    } else if subscribe::topics_full(store, target)? {
        return Ok(Pressed::alert(tr!(
            lang,
            "button-topics-full",
            max = MAX_TOPICS
        )));
    } else {
        // As `/subscribe` does: the presser's language becomes the chat's
        // until it chooses one.
        subscribe::note_language(ctx, target.chat, origin.language).await?;
        store.subscribe(target, Some(name), now).await?;
        tr!(lang, "button-subscribed", name = name.as_str())
    };
    let errors = origin.sees_errors(&ctx.config);
    let page = sources::page_of(ctx, target, errors, name, lang)?;
    Ok(Pressed {
        notice: Some(notice),
        alert: false,
        page: Some(page),
        more: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_query_reads_back_as_the_same_query() {
        for typed in [
            "visa",
            "Visa  \"Visa Centre\"  -tax",
            "консульский «отдел» -Визы",
            "ё-mobile 2022",
        ] {
            let query = Query::parse(typed).unwrap();
            assert_eq!(Query::parse(&query.describe()), Ok(query), "{typed}");
        }
    }
}
