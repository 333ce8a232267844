//! A source that repairs itself when its site is redesigned: the poller's
//! side of [`crate::source::fallback`].
//!
//! After each read of a page, [`read`] decides what is recorded:
//!
//! - When the configured extraction (link patterns or selectors) finds
//!   nothing, or under a third of what the last good read showed, on a page
//!   that had releases and is not really empty (an outage or error page, see
//!   [`looks_empty`]), the fallbacks are tried in order: the advertised feed,
//!   JSON-LD, repeated blocks, the sitemap. The first whose releases include
//!   enough of those the source knew ([`needed`]) is read instead, and keeps
//!   being read until the configured extraction works again or the source's
//!   config changes ([`Repair`] in the store). Operators hear once when a
//!   fallback begins (what broke, what is read now, the config that would
//!   say so) and once when it ends.
//! - Whatever was read, a release that is not stored but is one the source
//!   knew at another address (same title and date: a redesign, a domain move)
//!   takes its old key ([`rekey_moved`]): recording the read moves its
//!   address, and nothing is pushed again.
//!
//! The feed and the sitemap are fetched with the source's own client, and
//! only on its own host or its `www.` twin, over the same scheme and port
//! ([`check_redirect`], the redirect guard): a fallback never widens where
//! the bot reads. The flood guard (`max_new_items`) applies to what a
//! fallback brings as to any read.

use chrono::{DateTime, Utc};
use url::Url;

use crate::config::redact::Redacted;
use crate::config::{SourceConfig, SourceKind};
use crate::source::fallback::advertised::advertised_feeds;
use crate::source::fallback::blocks::block_items;
use crate::source::fallback::jsonld::jsonld_items;
use crate::source::fallback::recognise::{needed, recognised, rekey_moved};
use crate::source::fallback::sitemap::{beside_known, sitemap_items, sitemap_url};
use crate::source::fallback::suggest::{for_fallback, toml_block};
use crate::source::fallback::{Fallback, Known, Repair, config_hash, looks_empty};
use crate::source::fetch::{FetchOutcome, Validators, fetch};
use crate::source::guard::check_redirect;
use crate::source::{Item, effective_kind, within_anchor_budget};
use crate::store::{Store, StoreError};
use crate::text::markup::escape;

/// Known releases looked at to recognise a read's: a page shows the newest.
const KNOWN: usize = 100;

/// The configured extraction counts as broken when it finds fewer than one
/// in this many of the releases the last good read showed.
const FAR_FEWER: usize = 3;

/// A page that showed fewer releases than this and then fewer still is not
/// taken for broken unless it shows none: a quiet list may shrink.
const FEW: u64 = 3;

/// What one read gives to record, and what operators should hear of it.
#[derive(Debug)]
pub(crate) struct Read {
    pub items: Vec<Item>,
    pub change: Option<Change>,
    /// The fallback to keep for the source once the read is recorded
    /// (`Some(None)`: none any more); `None` leaves it as it is.
    pub keep: Option<Option<Repair>>,
}

/// A source began or stopped reading through a fallback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    Began {
        fallback: Fallback,
        /// Releases the last good read showed (0 when unknown).
        had: u64,
        /// Known releases recognised in what the fallback read.
        recognised: usize,
        /// The `[[sources]]` block that would make it explicit.
        suggestion: String,
    },
    Ended {
        fallback: Fallback,
    },
}

/// The page a read fetched: its text and where it came from.
pub(crate) struct Fetched<'a> {
    pub text: &'a str,
    pub base: &'a Url,
}

/// Decides what a read of `source` records: the configured extraction's
/// `configured` items, or a fallback's, with known releases at new
/// addresses given their old keys (see the module doc).
pub(crate) async fn read(
    source: &SourceConfig,
    client: &reqwest::Client,
    store: &Store,
    page: Fetched<'_>,
    configured: Vec<Item>,
    now: DateTime<Utc>,
) -> Result<Read, StoreError> {
    let name = source.name.as_str();
    let hash = config_hash(source);
    let saved = store.repair_of(name)?;
    let state = saved.clone().filter(|r| r.config == hash);
    if saved.is_some() && state.is_none() {
        // The config changed: what was found under the old one ends here.
        store.save_repair(name, None)?;
    }
    let had = store.item_count_of(name)?.unwrap_or(0);
    let html = effective_kind(source.kind, page.text) != SourceKind::Feed;
    let broken = html && store.last_success(name)?.is_some() && is_broken(configured.len(), had);
    let mut known: Option<Vec<Known>> = None;
    // Parsed no further than the configured extraction parses it.
    let page = Fetched {
        text: within_anchor_budget(page.text, source.max_items),
        base: page.base,
    };
    let (mut items, change, keep) = if broken && !looks_empty(page.text) {
        let knew = store.known_releases(name, KNOWN)?;
        let found = fallback(source, client, &page, &knew, had, configured.len(), now).await;
        known = Some(knew);
        match found {
            Some((fallback, items, recognised)) => {
                let change = began(source, state.as_ref(), &fallback, had, recognised, &items);
                let keep = change.is_some().then(|| {
                    Some(Repair {
                        fallback,
                        since: now.timestamp(),
                        config: hash,
                    })
                });
                (items, change, keep)
            }
            None => (configured, None, None),
        }
    } else if !broken
        && !configured.is_empty()
        && let Some(state) = state
    {
        let change = Change::Ended {
            fallback: state.fallback,
        };
        (configured, Some(change), Some(None))
    } else {
        (configured, None, None)
    };
    let mut stored = std::collections::HashSet::new();
    for item in &items {
        if store.item(&item.id)?.is_some() {
            stored.insert(item.id.clone());
        }
    }
    if stored.len() < items.len() {
        let known = match known {
            Some(known) => known,
            None => store.known_releases(name, KNOWN)?,
        };
        let moved = rekey_moved(&mut items, &known, |id| stored.contains(id));
        if moved > 0 {
            tracing::info!(source = %name, moved, "releases recognised at new addresses; their addresses move");
        }
    }
    Ok(Read {
        items,
        change,
        keep,
    })
}

/// Keeps what a read decided about the source's fallback, once the read is
/// recorded: so a read that failed to record is decided, and told, again.
pub(crate) fn keep(
    store: &Store,
    source: &str,
    read_keep: Option<Option<Repair>>,
) -> Result<(), StoreError> {
    match read_keep {
        Some(repair) => store.save_repair(source, repair.as_ref()),
        None => Ok(()),
    }
}

/// Whether `found` releases are a broken reading of a page whose last good
/// read showed `had`: none at all, or far fewer than a page that had a few.
fn is_broken(found: usize, had: u64) -> bool {
    found == 0 || had >= FEW && (found as u64).saturating_mul(FAR_FEWER as u64) < had
}

/// `Began` when `fallback` is not what `state` already reads.
fn began(
    source: &SourceConfig,
    state: Option<&Repair>,
    fallback: &Fallback,
    had: u64,
    recognised: usize,
    items: &[Item],
) -> Option<Change> {
    if state.is_some_and(|s| s.fallback.kind() == fallback.kind()) {
        return None;
    }
    Some(Change::Began {
        fallback: fallback.clone(),
        had,
        recognised,
        suggestion: toml_block(source, &for_fallback(fallback, items)),
    })
}

/// The first fallback whose releases are consistent with what the source
/// knew: more than the configured extraction found, with [`needed`] of the
/// known releases among them. With how many were recognised.
async fn fallback(
    source: &SourceConfig,
    client: &reqwest::Client,
    page: &Fetched<'_>,
    known: &[Known],
    had: u64,
    configured: usize,
    now: DateTime<Utc>,
) -> Option<(Fallback, Vec<Item>, usize)> {
    if known.is_empty() {
        return None;
    }
    let shown = if had > 0 { had as usize } else { known.len() };
    let need = needed(shown, known.len());
    let consistent = |items: &[Item]| {
        let recognised = recognised(items, known);
        (items.len() > configured && recognised >= need).then_some(recognised)
    };
    for url in advertised_feeds(page.text, page.base) {
        if let Some((base, text)) = fetch_beside(source, client, &url).await
            && let Ok(read) = crate::source::feed::extract_feed(&text, &base, source, now)
            && let Some(n) = consistent(&read.items)
        {
            let fallback = Fallback::Feed {
                url: Redacted(&url).to_string(),
            };
            return Some((fallback, read.items, n));
        }
    }
    let structured = jsonld_items(page.text, page.base, source);
    if let Some(n) = consistent(&structured) {
        return Some((Fallback::JsonLd, structured, n));
    }
    if let Some(blocks) = block_items(page.text, page.base, source)
        && let Some(n) = consistent(&blocks.items)
    {
        let fallback = Fallback::Blocks {
            selector: blocks.selector,
            link: blocks.link,
        };
        return Some((fallback, blocks.items, n));
    }
    let url = sitemap_url(page.base)?;
    let (base, text) = fetch_beside(source, client, &url).await?;
    let items = beside_known(sitemap_items(&text, &base, source), known, source.max_items);
    let n = consistent(&items)?;
    let fallback = Fallback::Sitemap {
        url: Redacted(&url).to_string(),
    };
    Some((fallback, items, n))
}

/// Fetches `url` with the source's client and limits, when the address
/// guard lets the source reach it (its own host or `www.` twin, no
/// downgrade, the same port); its final address and text. Failures are
/// only logged: the next fallback is tried.
async fn fetch_beside(
    source: &SourceConfig,
    client: &reqwest::Client,
    url: &Url,
) -> Option<(Url, String)> {
    if let Err(refusal) = check_redirect(&source.url, &[], url) {
        tracing::info!(source = %source.name, url = %Redacted(url), %refusal, "a fallback elsewhere is not read");
        return None;
    }
    let at = SourceConfig {
        url: url.clone(),
        ..source.clone()
    };
    match fetch(client, &at, &Validators::default()).await {
        Ok(FetchOutcome::Fetched(fetched)) => Some((fetched.http.final_url, fetched.body.text)),
        Ok(FetchOutcome::NotModified) => None,
        Err(e) => {
            tracing::debug!(source = %source.name, error = %e, "a fallback could not be read");
            None
        }
    }
}

/// What operators hear of a change, in Telegram HTML.
pub(crate) fn message(source: &SourceConfig, change: &Change) -> String {
    let name = escape(&source.name);
    let configured = if source.selectors.is_some() {
        "CSS selectors"
    } else {
        "link patterns"
    };
    match change {
        Change::Began {
            fallback,
            had,
            recognised,
            suggestion,
        } => {
            let last = if *had > 0 {
                format!(" (its last good read showed {had})")
            } else {
                String::new()
            };
            format!(
                "🔧 Source <b>{name}</b> ({url}): its configured {configured} find no releases on the page any more{last}; \
                 the site was probably redesigned. The bot now reads {what}, where it recognised {recognised} of the releases \
                 it knew: those are not sent again, and new ones go out as usual. {explicit}\n<pre>{block}</pre>\
                 You will hear when the configured {configured} work again.",
                url = escape(&Redacted(&source.url).to_string()),
                what = escape(&fallback.to_string()),
                explicit = explicit(fallback),
                block = escape(suggestion),
            )
        }
        Change::Ended { fallback } => format!(
            "✅ Source <b>{name}</b>: its configured {configured} find the releases again; the bot reads the page as \
             configured and no longer {what}.",
            what = escape(&fallback.to_string()),
        ),
    }
}

/// What the suggested block does for `fallback`: says it outright, or, where
/// no config reads what the bot reads now, comes as close as config can.
fn explicit(fallback: &Fallback) -> &'static str {
    match fallback {
        Fallback::Feed { .. } | Fallback::Blocks { .. } => "To make this explicit, configure:",
        Fallback::JsonLd | Fallback::Sitemap { .. } => {
            "No configuration reads this, so the bot keeps doing so; if the page links its releases, \
             these link patterns match their new addresses (though without their dates):"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_means_none_or_far_fewer_than_a_few() {
        assert!(is_broken(0, 0));
        assert!(is_broken(0, 10));
        assert!(is_broken(3, 10));
        assert!(!is_broken(4, 10));
        assert!(
            !is_broken(1, 2),
            "a short list shrinking is news, not a redesign"
        );
    }

    #[test]
    fn operators_read_what_is_read_now_and_the_config() {
        let source = crate::config::Config::default().sources.remove(0);
        let fallback = Fallback::Feed {
            url: "https://example.org/rss".into(),
        };
        let text = message(
            &source,
            &Change::Began {
                fallback: fallback.clone(),
                had: 10,
                recognised: 9,
                suggestion: "[[sources]]\nname = \"x\"\nkind = \"feed\"\n".into(),
            },
        );
        assert!(
            text.contains("the feed the page advertises, https://example.org/rss"),
            "{text}"
        );
        assert!(
            text.contains("recognised 9") && text.contains("showed 10"),
            "{text}"
        );
        assert!(
            text.contains("<pre>[[sources]]\nname = &quot;x&quot;"),
            "{text}"
        );
        let text = message(&source, &Change::Ended { fallback });
        assert!(text.contains("find the releases again"), "{text}");
    }
}
