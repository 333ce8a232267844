//! `/subscriptions`: what this chat (or forum topic) gets, the topics of a
//! forum subscribed on their own, and, in a private chat, the channels the
//! user subscribed from it.

use super::sources::gets;
use super::{Context, Origin};
use crate::config::Language;
use crate::store::StoreError;
use crate::telegram::lookup::ChatKind;
use crate::text::markup::escape;
use crate::tr;

/// The list as `origin` sees it, in `lang`.
pub(crate) fn reply(ctx: &Context, origin: &Origin, lang: Language) -> Result<String, StoreError> {
    let store = &ctx.store;
    let record = store.subscription(origin.chat)?;
    let here = match (origin.kind, origin.thread) {
        (_, Some(_)) => "topic",
        (ChatKind::Private, None) => "private",
        _ => "chat",
    };
    let mut text = tr!(lang, "subscriptions-header");
    text.push('\n');
    text.push_str(&tr!(
        lang,
        "subscriptions-here",
        where = here,
        gets = gets(record.as_ref().and_then(|s| s.sources_of(origin.thread)), lang)
    ));
    if origin.thread.is_none()
        && let Some(topics) = record.as_ref().map(|s| s.topics.len()).filter(|n| *n > 0)
    {
        text.push('\n');
        text.push_str(&tr!(lang, "subscriptions-topics", count = topics));
    }
    if origin.kind == ChatKind::Private
        && let Some(user) = origin.user
    {
        let channels = store.channels_of(user)?;
        let mut lines = Vec::new();
        for (id, note) in channels {
            let Some(subscription) = store.subscription(id)? else {
                continue; // ended since (the bot was removed, or it was unsubscribed)
            };
            let name = match (&note.username, &note.title) {
                (Some(u), _) => format!("@{}", escape(u)),
                (None, Some(t)) => format!("{} ({id})", tr!(lang, "quoted", text = escape(t))),
                (None, None) => id.to_string(),
            };
            lines.push(format!(
                "{name}: {}",
                gets(subscription.sources_of(None), lang)
            ));
        }
        text.push_str("\n\n");
        if lines.is_empty() {
            text.push_str(&tr!(lang, "subscriptions-no-channels"));
        } else {
            text.push_str(&tr!(lang, "subscriptions-channels"));
            text.push('\n');
            text.push_str(&lines.join("\n"));
            text.push('\n');
            text.push_str(&tr!(lang, "subscriptions-unsubscribe-one"));
        }
    }
    Ok(text)
}
