//! Feeds (RSS 2.0/1.0, Atom, JSON Feed) through feed-rs, mapped to [`Item`]s.
//!
//! The parser is maintained elsewhere; what is ours is the mapping: an entry's
//! identity is the canonical URL of its link (so a feed and an HTML page naming
//! the same release agree), falling back to the entry's own id; titles and leads
//! are plain text whatever markup the feed carried.

use url::Url;

use super::Item;
use super::extract::{canonical_id, first_paragraph, one_line, plain_text};

/// Why a body could not be read as a feed.
#[derive(Debug, thiserror::Error)]
#[error("not a readable feed: {0}")]
pub struct FeedError(String);

/// Items of the feed in `text` (already decoded), in feed order; relative links
/// resolve against `base`. Entries without a title are dropped.
pub fn extract_feed(text: &str, base: &Url) -> Result<Vec<Item>, FeedError> {
    // The text is already UTF-8: an XML declaration naming another encoding would
    // make the parser decode it a second time.
    let body = strip_xml_declaration(text);
    let feed = feed_rs::parser::Builder::new()
        .base_uri(Some(base.as_str()))
        .build()
        .parse(body.as_bytes())
        .map_err(|e| FeedError(e.to_string()))?;
    let items = feed
        .entries
        .into_iter()
        .filter_map(|entry| {
            let link = entry
                .links
                .iter()
                .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
                .or_else(|| entry.links.first())
                .and_then(|l| base.join(l.href.trim()).ok())
                .filter(|u| matches!(u.scheme(), "http" | "https"));
            let title = entry.title.as_ref().map(text_of).unwrap_or_default();
            if title.is_empty() {
                return None;
            }
            let id_url = Url::parse(entry.id.trim())
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"));
            let id = link
                .as_ref()
                .and_then(canonical_id)
                .unwrap_or_else(|| entry.id.trim().to_string());
            if id.is_empty() {
                return None;
            }
            let url = link.or(id_url).unwrap_or_else(|| base.clone()).to_string();
            let lead = entry
                .summary
                .as_ref()
                .map(|s| first_paragraph(&s.content))
                .filter(|s| !s.is_empty())
                .or_else(|| {
                    entry
                        .content
                        .as_ref()
                        .and_then(|c| c.body.as_deref())
                        .map(first_paragraph)
                })
                .unwrap_or_default();
            Some(Item {
                id,
                url,
                title,
                // feed-rs gives UTC; the UTC calendar day is the honest reading.
                date: entry.published.or(entry.updated).map(|d| d.date_naive()),
                lead,
            })
        })
        .collect();
    Ok(items)
}

/// A feed text's plain-text form: HTML-typed text loses its markup; plain text
/// keeps its characters (a literal `<silence>` stays) with whitespace normalised.
fn text_of(text: &feed_rs::model::Text) -> String {
    let kind = text.content_type.to_string();
    if kind.contains("html") {
        plain_text(&text.content)
    } else {
        one_line(&text.content)
    }
}

fn strip_xml_declaration(text: &str) -> &str {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with("<?xml") {
        if let Some(end) = trimmed.find("?>") {
            return &trimmed[end + 2..];
        }
    }
    trimmed
}

/// True when `text` starts like a feed (an RSS, RDF or Atom root, or a JSON
/// object) rather than an HTML page; used when a source's kind is `auto`.
pub fn looks_like_feed(text: &str) -> bool {
    let mut rest = strip_xml_declaration(text);
    // Skip comments, processing instructions and a doctype before the root.
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix("<!--") {
            match after.find("-->") {
                Some(end) => rest = &after[end + 3..],
                None => return false,
            }
        } else if rest.starts_with("<?") || rest.starts_with("<!") {
            match rest.find('>') {
                Some(end) => rest = &rest[end + 1..],
                None => return false,
            }
        } else {
            break;
        }
    }
    if rest.starts_with('{') {
        return true;
    }
    let head: String = rest
        .chars()
        .take(16)
        .collect::<String>()
        .to_ascii_lowercase();
    ["<rss", "<feed", "<rdf:rdf"]
        .iter()
        .any(|root| head.starts_with(root))
}
