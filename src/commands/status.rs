//! `/status`: what an operator needs to know at a glance — counts, pending
//! pushes, and each source's last success (with how many releases it showed)
//! and last failure. Only for operators (`admin_users`, `admin_chats`: people,
//! by user id), who also get alerts when a source fails for long, empties or
//! floods (see [`crate::poller`]). Asked in a group, it answers privately.

use super::Context;
use crate::config::Language;
use crate::store::StoreError;
use crate::tr;

/// The status report in `lang` (a person who is not an operator hears
/// `status-refusal` instead, and only in a private chat); the caller checks
/// that an operator asked.
pub(crate) fn reply(ctx: &Context, lang: Language) -> Result<String, StoreError> {
    let store = &ctx.store;
    let stats = store.journal_stats()?;
    let mut text = tr!(
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
    text.push('\n');
    text.push_str(&match ctx.limiter.current_rate() {
        Some(rate) => tr!(
            lang,
            "status-rate",
            rate = format!("{rate:.1}"),
            max = ctx.config.telegram.messages_per_sec.to_string()
        ),
        None => tr!(lang, "status-rate-off"),
    });
    for source in &ctx.config.sources {
        text.push_str("\n\n");
        text.push_str(&super::sources::source_block(store, source, true, lang)?);
    }
    Ok(text)
}
