//! Feeds (RSS 0.9x/1.0/2.0, Atom, JSON Feed) through feed-rs, mapped to [`Item`]s.
//!
//! The parser is maintained elsewhere; what is ours is the mapping: an entry's
//! identity is the canonical URL of its link (so a feed and an HTML page naming
//! the same release agree), else of its id when that is a URL, else its id
//! inside the feed's own site's namespace (`site#id`). Only links to the
//! feed's own site or to the source's `link_hosts` count: any other is
//! dropped, so a feed can neither push a third-party link nor give an entry
//! another site's key and be recorded first as that site's release. Titles and leads
//! are plain text whatever markup the feed carried; timestamps go through our
//! date reader ([`super::date`]), which knows the wild's forms and the source's
//! time zone.
//!
//! feed-rs 3.0 picks its RSS parser by the root's `version` and reads RSS
//! elements only in no namespace (or RSS 1.0's), so it refuses an `<rss>` root
//! without a version and finds nothing under one that declares a default
//! namespace (`xmlns="http://backend.userland.com/rss2"`, common in Russian CMS
//! feeds). [`readable_root`] rewrites just the root's start tag before parsing.
//! (feed-rs fixed the missing version upstream in PR #280, unreleased as of 3.0.0.)

use std::borrow::Cow;

use url::Url;

use super::canonical::{canonical_id, may_link, namespaced_id, without_tracking};
use super::flat::{first_paragraph, one_line, plain_text};
use super::{Item, MAX_URL_LEN, cut, date};
use crate::config::SourceConfig;

/// Why a body could not be read as a feed.
#[derive(Debug, thiserror::Error)]
#[error("not a readable feed: {0}")]
pub struct FeedError(String);

/// Items of the feed in `text` (already decoded), in feed order, at most
/// `source.max_items`; relative links resolve against `base`. Entries without
/// a title are dropped.
pub(crate) fn extract_feed(
    text: &str,
    base: &Url,
    source: &SourceConfig,
) -> Result<Vec<Item>, FeedError> {
    // The text is already UTF-8: an XML declaration naming another encoding would
    // make the parser decode it a second time.
    let body = readable_root(strip_xml_declaration(text));
    let zone = source.time_zone;
    let feed = feed_rs::parser::Builder::new()
        .base_uri(Some(base.as_str()))
        .timestamp_parser(move |text| date::parse_timestamp(text, zone))
        .build()
        .parse(body.as_bytes())
        .map_err(|e| FeedError(e.to_string()))?;
    // A link is kept only if it is a web link of a sane length on a host
    // the source may link to; otherwise the entry is read as if it had none.
    let web = |url: Url| {
        (matches!(url.scheme(), "http" | "https")
            && url.as_str().len() <= MAX_URL_LEN
            && may_link(&url, base, &source.link_hosts))
        .then_some(url)
    };
    let items = feed
        .entries
        .into_iter()
        .take(source.max_items)
        .filter_map(|entry| {
            let link = entry
                .links
                .iter()
                .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
                .or_else(|| entry.links.first())
                .filter(|l| l.href.len() <= MAX_URL_LEN)
                .and_then(|l| base.join(l.href.trim()).ok())
                .and_then(web);
            let title = entry.title.as_ref().map(text_of).unwrap_or_default();
            if title.is_empty() {
                return None;
            }
            let entry_id = entry.id.trim();
            let shown = link.or_else(|| Url::parse(entry_id).ok().and_then(web));
            let id = match &shown {
                Some(url) => canonical_id(url, &source.tracking_params)?,
                None if entry_id.is_empty() => return None,
                None => namespaced_id(base, entry_id)?,
            };
            if id.len() > MAX_URL_LEN {
                return None;
            }
            let url = shown
                .map_or_else(
                    || base.clone(),
                    |u| without_tracking(&u, &source.tracking_params),
                )
                .to_string();
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
                title: cut(title),
                date: entry
                    .published
                    .or(entry.updated)
                    .map(|d| d.with_timezone(&zone).date_naive()),
                lead: cut(lead),
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

/// `text` from after its byte-order mark and XML declaration on.
fn strip_xml_declaration(text: &str) -> &str {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with("<?xml")
        && let Some(end) = trimmed.find("?>")
    {
        return &trimmed[end + 2..];
    }
    trimmed
}

/// Where the root element's start tag begins: after comments, processing
/// instructions and a doctype. `None` when the text ends first.
fn root_start(text: &str) -> Option<usize> {
    let mut at = 0;
    loop {
        let rest = &text[at..];
        let trimmed = rest.trim_start();
        at += rest.len() - trimmed.len();
        if let Some(after) = trimmed.strip_prefix("<!--") {
            at += 4 + after.find("-->")? + 3;
        } else if trimmed.starts_with("<?") || trimmed.starts_with("<!") {
            at += trimmed.find('>')? + 1;
        } else {
            return Some(at);
        }
    }
}

/// True when `text` starts like a feed (an RSS, RDF or Atom root, or a JSON
/// object) rather than an HTML page; used when a source's kind is `auto`.
pub(crate) fn looks_like_feed(text: &str) -> bool {
    let text = strip_xml_declaration(text);
    root_start(text).is_some_and(|at| is_feed_root(&text[at..]))
}

/// How a JSON Feed starts: the body is one JSON object.
const JSON_OBJECT: char = '{';
/// How the roots of RSS 2.0, Atom and RDF (RSS 1.0 and 0.90) start, in lowercase.
const XML_FEED_ROOTS: [&str; 3] = ["<rss", "<feed", "<rdf:rdf"];

/// Whether `root`, the text from the root element (or value) on, is a feed's.
fn is_feed_root(root: &str) -> bool {
    if root.starts_with(JSON_OBJECT) {
        return true;
    }
    let head: String = root
        .chars()
        .take(16)
        .collect::<String>()
        .to_ascii_lowercase();
    XML_FEED_ROOTS.iter().any(|start| head.starts_with(start))
}

/// RSS 0.90's namespace, which feed-rs does not know.
const NETSCAPE_RSS: &str = "http://my.netscape.com/rdf/simple/0.9/";
/// RSS 1.0's namespace, which feed-rs reads as RSS, as an attribute value.
const RSS_1_QUOTED: &str = "\"http://purl.org/rss/1.0/\"";

/// `text` with its root start tag rewritten so feed-rs reads RSS of any
/// version: an `<rss>` root loses a default namespace and says `version="2.0"`
/// unless it says 0.91 or 0.92 (feed-rs's other RSS parser); an RSS 0.90
/// `<rdf:RDF>` root declares RSS 1.0's namespace instead of Netscape's.
/// Anything else is returned untouched.
fn readable_root(text: &str) -> Cow<'_, str> {
    let Some(start) = root_start(text) else {
        return Cow::Borrowed(text);
    };
    let Some(tag) = StartTag::parse(&text[start..]) else {
        return Cow::Borrowed(text);
    };
    let mut attrs = tag.attrs.clone();
    match tag.name {
        "rss" => {
            attrs.retain(|(name, _)| *name != "xmlns");
            let version = attrs
                .iter()
                .find(|(name, _)| *name == "version")
                .map(|(_, v)| v.trim_matches(['"', '\'']).trim());
            if !matches!(version, Some("0.91" | "0.92" | "2.0")) {
                attrs.retain(|(name, _)| *name != "version");
                attrs.push(("version", "\"2.0\""));
            }
        }
        name if name == "RDF" || name.ends_with(":RDF") => {
            for (name, value) in attrs.iter_mut() {
                if *name == "xmlns" && value.trim_matches(['"', '\'']) == NETSCAPE_RSS {
                    *value = RSS_1_QUOTED;
                }
            }
        }
        _ => return Cow::Borrowed(text),
    }
    if attrs == tag.attrs {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    out.push_str(&text[..start]);
    out.push('<');
    out.push_str(tag.name);
    for (name, value) in &attrs {
        out.push(' ');
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out.push_str(if tag.empty { "/>" } else { ">" });
    out.push_str(&text[start + tag.len..]);
    Cow::Owned(out)
}

/// An XML start tag, read just well enough to rewrite its attributes.
struct StartTag<'a> {
    name: &'a str,
    /// Names and values as written (values with their quotes).
    attrs: Vec<(&'a str, &'a str)>,
    /// `<x/>`.
    empty: bool,
    /// Bytes from `<` to `>` inclusive.
    len: usize,
}

impl<'a> StartTag<'a> {
    /// The start tag at the beginning of `text`, or `None` if it is not one
    /// (or has an attribute without a quoted value, which XML forbids).
    fn parse(text: &'a str) -> Option<StartTag<'a>> {
        let is_name = |c: char| !c.is_whitespace() && !matches!(c, '=' | '>' | '/' | '"' | '\'');
        let rest = text.strip_prefix('<')?;
        let name_len = rest.find(|c: char| !is_name(c)).unwrap_or(rest.len());
        let name = &rest[..name_len];
        if name.is_empty() {
            return None;
        }
        let mut at = 1 + name_len;
        let mut attrs = Vec::new();
        loop {
            let rest = &text[at..];
            let trimmed = rest.trim_start();
            at += rest.len() - trimmed.len();
            if trimmed.starts_with('>') {
                return Some(StartTag {
                    name,
                    attrs,
                    empty: false,
                    len: at + 1,
                });
            }
            if trimmed.starts_with("/>") {
                return Some(StartTag {
                    name,
                    attrs,
                    empty: true,
                    len: at + 2,
                });
            }
            let attr_len = trimmed.find(|c: char| !is_name(c)).unwrap_or(trimmed.len());
            if attr_len == 0 {
                return None;
            }
            let attr = &trimmed[..attr_len];
            let after = trimmed[attr_len..].trim_start();
            let after = after.strip_prefix('=')?.trim_start();
            let quote = after.chars().next().filter(|q| matches!(q, '"' | '\''))?;
            let close = after[1..].find(quote)? + 2;
            let value = &after[..close];
            attrs.push((attr, value));
            at = text.len() - after.len() + close;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> SourceConfig {
        let mut source = crate::config::Config::default().sources.remove(0);
        source.time_zone = chrono_tz::UTC;
        source
    }

    fn items(xml: &str) -> Vec<Item> {
        extract_feed(xml, &Url::parse("https://e.org/feed").unwrap(), &source()).unwrap()
    }

    /// A neighbour's feed at `https://news.example/feed.xml` whose entries
    /// link to its own host, its www. twin and a third party, and try to pass
    /// for the embassy's release by a guid that is its URL, one shaped like
    /// its key, and a link (`tests/fixtures/feeds/links-elsewhere.xml`, which
    /// the poller's test reads, says the same; the Docker build copies no
    /// test fixtures, so the unit test has its own).
    fn neighbour_feed() -> String {
        let entries = [
            "<link>https://news.example/news/1</link><guid isPermaLink=\"false\">neighbour-1</guid>",
            "<link>https://www.news.example/news/2/?utm_source=rss</link><guid isPermaLink=\"false\">neighbour-2</guid>",
            "<link>https://tracker.example/out?to=3</link><guid isPermaLink=\"false\">neighbour-3</guid>",
            "<guid isPermaLink=\"true\">https://www.rusemb.org.uk/fnapr/7160</guid>",
            "<guid isPermaLink=\"false\">rusemb.org.uk/fnapr/7160</guid>",
            "<link>https://www.rusemb.org.uk/fnapr/7160</link><guid isPermaLink=\"false\">neighbour-6</guid>",
        ];
        let items: String = entries
            .iter()
            .enumerate()
            .map(|(n, entry)| format!("<item><title>Entry {n}</title>{entry}</item>"))
            .collect();
        format!(
            "<rss version=\"2.0\"><channel><title>Neighbour news</title>{items}</channel></rss>"
        )
    }

    /// Ids and links of the neighbour's feed, read by a source that may also
    /// link to `link_hosts`.
    fn neighbour_items(link_hosts: &[&str]) -> Vec<(String, String)> {
        let mut source = source();
        source.link_hosts = link_hosts.iter().map(|h| h.to_string()).collect();
        let base = Url::parse("https://news.example/feed.xml").unwrap();
        extract_feed(&neighbour_feed(), &base, &source)
            .unwrap()
            .into_iter()
            .map(|item| (item.id, item.url))
            .collect()
    }

    #[test]
    fn links_stay_on_the_feeds_own_site_and_ids_in_its_namespace() {
        let feed = "https://news.example/feed.xml";
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(id, url)| (id.to_string(), url.to_string()))
                .collect()
        };
        assert_eq!(
            neighbour_items(&[]),
            pairs(&[
                ("news.example/news/1", "https://news.example/news/1"),
                ("news.example/news/2", "https://www.news.example/news/2/"),
                // Links elsewhere are dropped: the entry links to the feed,
                // and keeps its own id, inside the feed's site's namespace.
                ("news.example#neighbour-3", feed),
                ("news.example#https://www.rusemb.org.uk/fnapr/7160", feed),
                ("news.example#rusemb.org.uk/fnapr/7160", feed),
                ("news.example#neighbour-6", feed),
            ])
        );
        // A host the source lists is one it may link to, whether the entry
        // names it by its link or by a guid that is a URL; an id that only
        // looks like another site's key stays in the feed's namespace.
        let listed = neighbour_items(&["tracker.example", "rusemb.org.uk"]);
        assert_eq!(
            listed[2..],
            pairs(&[
                (
                    "tracker.example/out?to=3",
                    "https://tracker.example/out?to=3"
                ),
                (
                    "rusemb.org.uk/fnapr/7160",
                    "https://www.rusemb.org.uk/fnapr/7160"
                ),
                ("news.example#rusemb.org.uk/fnapr/7160", feed),
                (
                    "rusemb.org.uk/fnapr/7160",
                    "https://www.rusemb.org.uk/fnapr/7160"
                ),
            ])[..]
        );
    }

    const ITEM: &str = "<channel><title>C</title><item><title>One</title><link>https://e.org/1</link><pubDate>2018-09-18 14:38:10</pubDate></item></channel>";

    #[test]
    fn rss_roots_of_every_kind_are_read() {
        for root in [
            "<rss version=\"2.0\">",
            "<rss>",
            "<rss version='0.94'>",
            "<rss version=\"2.0\" xmlns=\"http://backend.userland.com/rss2\" xmlns:yandex=\"http://news.yandex.ru\">",
            "<rss xmlns='http://backend.userland.com/rss'\n\n>",
            "<rss version=\"0.91\">",
        ] {
            let got = items(&format!(
                "<?xml version=\"1.0\"?>\n<!-- c -->\n{root}{ITEM}</rss>"
            ));
            assert_eq!(got.len(), 1, "{root}");
            assert_eq!(got[0].title, "One");
            assert_eq!(got[0].id, "e.org/1");
            assert_eq!(got[0].date, chrono::NaiveDate::from_ymd_opt(2018, 9, 18));
        }
        // RSS 0.90: RDF with Netscape's namespace, items beside the channel.
        let rss090 = "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns=\"http://my.netscape.com/rdf/simple/0.9/\">\
            <channel><title>C</title><link>https://e.org/</link><description>d</description></channel>\
            <item><title>Ninety</title><link>https://e.org/90</link></item></rdf:RDF>";
        let got = items(rss090);
        assert_eq!((got.len(), got[0].title.as_str()), (1, "Ninety"));
    }

    #[test]
    fn root_tags_are_rewritten_minimally() {
        assert!(matches!(
            readable_root("<feed xmlns=\"http://www.w3.org/2005/Atom\">"),
            Cow::Borrowed(_)
        ));
        assert!(matches!(
            readable_root("<rss version=\"2.0\" xmlns:a=\"x\">"),
            Cow::Borrowed(_)
        ));
        assert_eq!(
            readable_root("<!-- > --><rss xmlns=\"u\" a:b='>'\n>x"),
            "<!-- > --><rss a:b='>' version=\"2.0\">x"
        );
        // Not XML enough to touch: left to the parser's own error.
        assert_eq!(readable_root("<rss version=2.0>"), "<rss version=2.0>");
        assert_eq!(readable_root("<rss"), "<rss");
        assert!(looks_like_feed(
            "\u{feff}<?xml version='1.0'?><!DOCTYPE x><rss>"
        ));
        assert!(!looks_like_feed("<!-- unterminated"));
    }
}
