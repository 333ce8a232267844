//! The feeds a page advertises: `<link rel="alternate">` with an RSS, Atom or
//! JSON Feed type, in page order, resolved against the page's address.

use scraper::Selector;
use url::Url;

use crate::source::MAX_URL_LEN;

/// The media types of the feeds the feed reader reads.
const FEED_TYPES: &[&str] = &[
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
];

/// At most this many advertised feeds are looked at.
pub(crate) const MAX_ADVERTISED: usize = 3;

/// The feeds `html` advertises, as absolute http(s) URLs, first first; at
/// most [`MAX_ADVERTISED`]. Whether one may be read (same host or its `www.`
/// twin) is the caller's to check, with the address guard.
pub(crate) fn advertised_feeds(html: &str, base: &Url) -> Vec<Url> {
    let doc = crate::source::flat::parse_document(html);
    let links = Selector::parse("link[href]").expect("valid selector");
    let mut out: Vec<Url> = Vec::new();
    for link in doc.select(&links) {
        let el = link.value();
        let alternate = el.attr("rel").is_some_and(|rel| {
            rel.split_ascii_whitespace()
                .any(|r| r.eq_ignore_ascii_case("alternate"))
        });
        let feed_type = el.attr("type").is_some_and(|t| {
            let t = t.trim();
            FEED_TYPES.iter().any(|f| t.eq_ignore_ascii_case(f))
        });
        let Some(href) = el.attr("href").filter(|h| h.len() <= MAX_URL_LEN) else {
            continue;
        };
        if !(alternate && feed_type) {
            continue;
        }
        if let Ok(url) = base.join(href.trim())
            && matches!(url.scheme(), "http" | "https")
            && !out.contains(&url)
        {
            out.push(url);
            if out.len() == MAX_ADVERTISED {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feeds_of_every_kind_in_page_order() {
        let base = Url::parse("https://example.org/news/").unwrap();
        let html = r#"<html><head>
            <link rel="stylesheet" href="/s.css">
            <link rel="alternate" hreflang="ru" href="/ru/news/">
            <link rel="alternate" type="application/atom+xml" href="feed.atom">
            <link rel="Alternate" type="application/rss+xml" href="https://example.org/rss">
            <link rel="alternate" type="application/feed+json" href="javascript:x">
            <link rel="alternate" type="application/rss+xml" href="/rss4">
            <link rel="alternate" type="application/rss+xml" href="/rss5">
            </head><body></body></html>"#;
        let feeds: Vec<String> = advertised_feeds(html, &base)
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(
            feeds,
            [
                "https://example.org/news/feed.atom",
                "https://example.org/rss",
                "https://example.org/rss4"
            ]
        );
        assert!(advertised_feeds("<p>no head</p>", &base).is_empty());
    }
}
