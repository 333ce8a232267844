//! `/status`: what an operator needs to know at a glance — counts, pending
//! pushes, and each source's last success (with how many releases it showed)
//! and last failure. Only for operators (`admin_users`, `admin_chats`: people,
//! by user id), who also get alerts when a source fails for long, empties or
//! floods (see [`crate::poller`]). Asked in a group, it answers privately.

use super::Context;
use crate::store::StoreError;

/// What a person who is not an operator hears in a private chat (in a
/// group: nothing).
pub const REFUSAL: &str = "/status is for the bot's operators (the admin_users setting).";

/// The status report; the caller checks that an operator asked.
pub fn reply(ctx: &Context) -> Result<String, StoreError> {
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
        text.push_str(&super::sources::source_block(store, source, true)?);
    }
    Ok(text)
}
