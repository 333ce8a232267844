//! `/status`: what an operator needs to know at a glance — counts, pending
//! pushes, and each source's last success (with how many releases it showed)
//! and last failure. Only for `admin_chats`, who also get alerts when a source
//! fails for long, empties or floods (see [`crate::poller`]).

use super::Context;
use crate::store::StoreError;

/// The status report, or a refusal for chats that are not operators.
pub fn reply(ctx: &Context, chat: i64) -> Result<String, StoreError> {
    if !ctx.config.admin_chats.contains(&chat) {
        return Ok("/status is for the bot's operators (the admin_chats setting).".into());
    }
    let store = &ctx.store;
    let stats = store.delivery_stats()?;
    let mut text = format!(
        "<b>Status</b>\nReleases stored: {}\nSubscribers: {}\nPushes pending: {}\nReleases still being fanned out: {}\n\
         Chats removed (blocked, kicked, gone): {}, pushes dropped with them: {}\n\
         Pushes Telegram refused for good: {}\nGroups moved to a supergroup: {}",
        store.item_count(),
        store.subscriber_count(),
        store.pending_count(),
        store.outbox_len(),
        stats.chats_removed,
        stats.pushes_dropped,
        stats.given_up,
        stats.chats_migrated,
    );
    text.push_str(&match ctx.limiter.current_rate() {
        Some(rate) => format!(
            "\nSend rate now: {rate:.1} messages/s (at most {}; lowered when Telegram answers 429)",
            ctx.config.telegram.messages_per_sec
        ),
        None => "\nSend rate: not limited (telegram.throttle = false)".to_string(),
    });
    for source in &ctx.config.sources {
        text.push_str("\n\n");
        text.push_str(&super::sources::source_block(store, source)?);
    }
    Ok(text)
}
