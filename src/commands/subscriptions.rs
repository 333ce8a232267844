//! `/subscriptions`: what this chat (or forum topic) gets, the topics of a
//! forum subscribed on their own, and, in a private chat, the channels the
//! user subscribed from it.

use super::sources::gets;
use super::{Context, Origin};
use crate::lookup::ChatKind;
use crate::render::escape;
use crate::store::StoreError;

/// The list as `origin` sees it.
pub fn reply(ctx: &Context, origin: &Origin) -> Result<String, StoreError> {
    let store = &ctx.store;
    let record = store.subscription(origin.chat)?;
    let here = match (origin.kind, origin.thread) {
        (_, Some(_)) => "This topic gets",
        (ChatKind::Private, None) => "You get",
        _ => "This chat gets",
    };
    let mut text = format!(
        "<b>Subscriptions</b>\n{here}: {}",
        gets(record.as_ref().and_then(|s| s.sources_of(origin.thread)))
    );
    if origin.thread.is_none()
        && let Some(topics) = record.as_ref().map(|s| s.topics.len()).filter(|n| *n > 0)
    {
        text.push_str(&format!(
            "\nTopics subscribed on their own: {topics} (/subscriptions in a topic shows what it gets)"
        ));
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
                (None, Some(t)) => format!("“{}” ({id})", escape(t)),
                (None, None) => id.to_string(),
            };
            lines.push(format!("{name}: {}", gets(subscription.sources_of(None))));
        }
        if lines.is_empty() {
            text.push_str("\n\nChannels you subscribed: none. /subscribe @channel [source] subscribes a channel you administer (add me there as an administrator first).");
        } else {
            text.push_str("\n\n<b>Channels you subscribed</b>\n");
            text.push_str(&lines.join("\n"));
            text.push_str("\n/unsubscribe @channel stops one.");
        }
    }
    Ok(text)
}
