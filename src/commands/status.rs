//! `/status`: what an operator needs to know at a glance — counts, pending
//! pushes, and each source's last success (with how many releases it showed)
//! and last failure. Only for operators (`admin_users`, `admin_chats`: people,
//! by user id), who also get alerts when a source fails for long, empties or
//! floods (see [`crate::watch::poller`]). Asked in a group, it answers privately.
//! However many sources there are, it fits Telegram's limit: as many
//! messages as it takes, each source whole in one of them.

use super::reply::Reply;
use super::{Context, Origin};
use crate::config::Language;
use crate::store::StoreError;
use crate::text::markup::in_messages;
use crate::tr;

/// `/status` as `origin` asked it, in `lang`: the report for an operator
/// (asked in a group, it goes to the operator alone); others hear
/// `status-refusal` in a private chat, and nothing in a group.
pub(crate) fn run(
    ctx: &Context,
    origin: &Origin,
    lang: Language,
) -> Result<Option<Reply>, StoreError> {
    if origin.is_operator(&ctx.config) {
        let parts = reply(ctx, lang)?;
        return Ok(Some(Reply::messages(parts, !origin.is_private())));
    }
    if !origin.is_private() {
        return Ok(None); // others' /status in a group: not a word
    }
    Ok(Some(Reply::here(tr!(lang, "status-refusal"))))
}

/// The status report in `lang`, once an operator asked: the counts, then
/// every source's block, in as many messages as Telegram's limit needs.
fn reply(ctx: &Context, lang: Language) -> Result<Vec<String>, StoreError> {
    let store = &ctx.store;
    let stats = store.journal_stats()?;
    let mut head = tr!(
        lang,
        "status-report",
        items = store.item_count(),
        subscribers = store.subscriber_count(),
        pending = store.journal_count(),
        outbox = store.outbox_len(),
        removed = stats.chats_removed,
        dropped = stats.pushes_dropped,
        given_up = stats.given_up,
        migrated = stats.chats_migrated,
    );
    head.push('\n');
    head.push_str(&match ctx.limiter.current_rate() {
        Some(rate) => tr!(
            lang,
            "status-rate",
            rate = format!("{rate:.1}"),
            max = ctx.config.telegram.messages_per_sec.to_string()
        ),
        None => tr!(lang, "status-rate-off"),
    });
    let mut blocks = vec![head];
    for source in &ctx.config.sources {
        blocks.push(super::sources::source_block(store, source, true, lang)?);
    }
    Ok(in_messages(&blocks))
}
