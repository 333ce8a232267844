//! `/sources`: every watched page or feed — its name (what `/subscribe <name>`
//! takes), its address, whether this chat gets it, and how its reads are going,
//! so a user can see why a source is quiet.

use chrono::{DateTime, Utc};

use super::Context;
use crate::config::SourceConfig;
use crate::redact::Redacted;
use crate::render::{escape, shorten};
use crate::store::{Store, StoreError, Subscription};

/// The list of sources as `chat` sees it.
pub fn reply(ctx: &Context, chat: i64) -> Result<String, StoreError> {
    let subscription = ctx.store.subscription(chat)?;
    let mut text = format!(
        "<b>Sources</b>\nYou get: {}",
        match &subscription {
            None => "nothing yet (/subscribe for every source)".to_string(),
            Some(Subscription { sources: None, .. }) => "every source".to_string(),
            Some(Subscription {
                sources: Some(set), ..
            }) => escape(&set.iter().cloned().collect::<Vec<_>>().join(", ")),
        }
    );
    for source in &ctx.config.sources {
        text.push_str("\n\n");
        text.push_str(&source_block(&ctx.store, source)?);
        let wanted = subscription.as_ref().is_some_and(|s| s.wants(&source.name));
        text.push_str(if wanted {
            "\nSubscribed: yes"
        } else {
            "\nSubscribed: no"
        });
    }
    text.push_str("\n\n/subscribe &lt;name&gt; or /unsubscribe &lt;name&gt; picks one source.");
    Ok(text)
}

/// One source's heading and read history, shared by `/sources` and `/status`:
/// name, URL (redacted), last good read (and how many releases it showed), last error.
pub fn source_block(store: &Store, source: &SourceConfig) -> Result<String, StoreError> {
    let last_success = store.last_success(&source.name)?;
    let url = Redacted(&source.url).to_string();
    let mut text = format!(
        "<b>{}</b> {}\nLast good read: {}",
        escape(&source.name),
        escape(&url),
        when(last_success)
    );
    if let Some(count) = store.item_count_of(&source.name)? {
        text.push_str(&format!("\nReleases on the page then: {count}"));
    }
    if let Some((error, at)) = store.last_failure(&source.name)? {
        // Errors stored by older versions named the URL whole.
        let error = error.replace(source.url.as_str(), &url);
        let recovered = last_success.is_some_and(|ok| ok > at);
        text.push_str(&format!(
            "\nLast error: {} — {}{}",
            when(Some(at)),
            escape(&shorten(&error, 300)),
            if recovered { " (read fine since)" } else { "" }
        ));
    }
    Ok(text)
}

/// A stored instant for people, or "never".
pub fn when(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(
        || "never".to_string(),
        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}
