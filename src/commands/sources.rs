//! `/sources`: every watched page or feed — its name (what `/subscribe <name>`
//! takes), its address, whether this chat (or topic) gets it, and how its
//! reads are going, so a user can see why a source is quiet. The error text
//! itself (it can name internal addresses) is shown to operators only;
//! others see since when a source has been failing.

use chrono::{DateTime, Utc};

use super::Context;
use crate::config::SourceConfig;
use crate::poller::Health;
use crate::redact::Redacted;
use crate::render::{escape, shorten};
use crate::store::{Store, StoreError, Target};

/// The list of sources as `target` sees it; `operator` shows errors whole.
pub fn reply(ctx: &Context, target: Target, operator: bool) -> Result<String, StoreError> {
    let subscription = ctx.store.subscription(target.chat)?;
    let sources = subscription
        .as_ref()
        .and_then(|s| s.sources_of(target.thread));
    let mut text = format!("<b>Sources</b>\nYou get: {}", gets(sources));
    for source in &ctx.config.sources {
        text.push_str("\n\n");
        text.push_str(&source_block(&ctx.store, source, operator)?);
        let wanted = subscription
            .as_ref()
            .is_some_and(|s| s.target_wants(target.thread, &source.name));
        text.push_str(if wanted {
            "\nSubscribed: yes"
        } else {
            "\nSubscribed: no"
        });
    }
    text.push_str("\n\n/subscribe &lt;name&gt; or /unsubscribe &lt;name&gt; picks one source.");
    Ok(text)
}

/// What a target gets, for people: `sources` as [`crate::store::Subscription::sources_of`] gives it.
pub fn gets(sources: Option<&Option<std::collections::BTreeSet<String>>>) -> String {
    match sources {
        None => "nothing yet (/subscribe for every source)".to_string(),
        Some(None) => "every source".to_string(),
        Some(Some(set)) => escape(&set.iter().cloned().collect::<Vec<_>>().join(", ")),
    }
}

/// One source's heading and read history, shared by `/sources` and `/status`:
/// name, URL (redacted), last good read (and how many releases it showed),
/// and the last error (`errors`: operators) or since when it is failing (others).
pub fn source_block(
    store: &Store,
    source: &SourceConfig,
    errors: bool,
) -> Result<String, StoreError> {
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
    if !errors {
        let health: Option<Health> = store.source_state(&source.name)?;
        if let Some(since) = health.and_then(|h| h.failing_since) {
            text.push_str(&format!("\nFailing since {}", when(Some(since))));
        }
        return Ok(text);
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
