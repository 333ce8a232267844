//! Releases in the site's `sitemap.xml`: its `<url>` entries with a `<loc>`
//! on the site and a `<lastmod>`, newest first. A sitemap names no titles, so
//! an entry's title is made from the last part of its path (the slug most
//! sites make from the title); an entry whose slug is only digits has none and
//! is left out. A sitemap lists every page of a site, so only entries beside
//! the releases the source knew (in the same folder as one of them) are kept
//! ([`beside_known`]). A sitemap index (`<sitemapindex>`) is not followed.

use url::Url;

use super::{Known, found_item};
use crate::config::SourceConfig;
use crate::source::Item;
use crate::source::date::parse_date;

/// Entries read at most: the sitemap protocol's own limit per file.
const MAX_ENTRIES: usize = 50_000;

/// Where a site's sitemap is by convention.
pub(crate) fn sitemap_url(page: &Url) -> Option<Url> {
    page.join("/sitemap.xml").ok()
}

/// The dated entries of `xml` on the source's site as releases, newest
/// `lastmod` first, at most the source's `max_items` (before [`beside_known`]
/// narrows them, so at most `max_items` × 4 are kept here).
pub(crate) fn sitemap_items(xml: &str, base: &Url, source: &SourceConfig) -> Vec<Item> {
    let mut items = Vec::new();
    let mut rest = xml;
    let mut entries = 0;
    while let Some(start) = rest.find("<url>") {
        let Some(len) = rest[start..].find("</url>") else {
            break;
        };
        let entry = &rest[start + 5..start + len];
        rest = &rest[start + len + 6..];
        entries += 1;
        if entries > MAX_ENTRIES {
            break;
        }
        let (Some(loc), Some(lastmod)) = (element(entry, "loc"), element(entry, "lastmod")) else {
            continue;
        };
        let Some(date) = parse_date(lastmod).map(|w| w.day_in(source.time_zone)) else {
            continue;
        };
        let loc = unescape(loc);
        let Some(title) = Url::parse(&loc).ok().and_then(|u| slug_title(&u)) else {
            continue;
        };
        if let Some(item) = found_item(&loc, &title, Some(date), "", base, source) {
            items.push(item);
        }
    }
    // Newest first; the sort is stable, so one day keeps the sitemap's order.
    items.sort_by_key(|i| std::cmp::Reverse(i.date));
    super::dedup(items, source.max_items.saturating_mul(4))
}

/// Only the entries in a folder where a known release is (by key, or by
/// title and date), at most `max`: a sitemap's other pages are no releases.
pub(crate) fn beside_known(items: Vec<Item>, known: &[Known], max: usize) -> Vec<Item> {
    let folder = |url: &str| url.rsplit_once('/').map(|(dir, _)| dir.to_string());
    let is_known = super::recognise::known_among(&items, known);
    let folders: std::collections::HashSet<String> = items
        .iter()
        .zip(is_known)
        .filter(|(_, known)| *known)
        .filter_map(|(i, _)| folder(i.url.trim_end_matches('/')))
        .collect();
    items
        .into_iter()
        .filter(|i| folder(i.url.trim_end_matches('/')).is_some_and(|f| folders.contains(&f)))
        .take(max)
        .collect()
}

/// The text of `<name>…</name>` in `entry`, trimmed.
fn element<'a>(entry: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = entry.find(&open)? + open.len();
    let len = entry[start..].find(&close)?;
    Some(entry[start..start + len].trim())
}

/// XML's five escapes, undone.
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// A title from the last part of `url`'s path: `embassy-statement.html` reads
/// "Embassy statement"; `None` for digits only or nothing.
fn slug_title(url: &Url) -> Option<String> {
    let last = url.path_segments()?.rev().find(|s| !s.is_empty())?;
    let last = [".html", ".htm", ".php", ".aspx"]
        .iter()
        .find_map(|ext| last.strip_suffix(ext))
        .unwrap_or(last);
    let decoded: String = url::form_urlencoded::parse(last.as_bytes())
        .map(|(k, v)| {
            if v.is_empty() {
                k.into_owned()
            } else {
                format!("{k}={v}")
            }
        })
        .collect();
    let words: Vec<&str> = decoded
        .split(['-', '_', ' '])
        .filter(|w| !w.is_empty())
        .collect();
    if words.iter().all(|w| w.chars().all(|c| c.is_ascii_digit())) {
        return None;
    }
    let text = words.join(" ");
    let mut chars = text.chars();
    let first = chars.next()?;
    Some(first.to_uppercase().chain(chars).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    const XML: &str = r#"<?xml version="1.0"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
 <url><loc>https://example.org/about</loc><lastmod>2024-05-04</lastmod></url>
 <url><loc>https://example.org/press/statement-on-the-visa-rules</loc><lastmod>2024-05-02T09:00:00+00:00</lastmod></url>
 <url><loc>https://example.org/press/a-new-release?x=1&amp;y=2</loc><lastmod>2024-05-03</lastmod></url>
 <url><loc>https://example.org/press/12345</loc><lastmod>2024-05-03</lastmod></url>
 <url><loc>https://example.org/press/undated-one</loc></url>
 <url><loc>https://elsewhere.example.com/press/foreign</loc><lastmod>2024-05-03</lastmod></url>
</urlset>"#;

    #[test]
    fn dated_entries_on_the_site_newest_first_with_slug_titles() {
        let base = Url::parse("https://example.org/news").unwrap();
        let items = sitemap_items(XML, &base, &super::super::tests::source());
        let got: Vec<(&str, &str)> = items
            .iter()
            .map(|i| (i.id.as_str(), i.title.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("example.org/about", "About"),
                ("example.org/press/a-new-release?x=1&y=2", "A new release"),
                (
                    "example.org/press/statement-on-the-visa-rules",
                    "Statement on the visa rules"
                ),
            ]
        );
        let known = [Known {
            id: "example.org/fnapr/2".into(),
            title: "Statement on the visa rules".into(),
            date: NaiveDate::from_ymd_opt(2024, 5, 2),
        }];
        let kept = beside_known(items, &known, 10);
        let ids: Vec<&str> = kept.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "example.org/press/a-new-release?x=1&y=2",
                "example.org/press/statement-on-the-visa-rules"
            ],
            "the about page is not beside a release"
        );
        assert_eq!(
            sitemap_url(&base).unwrap().as_str(),
            "https://example.org/sitemap.xml"
        );
    }

    #[test]
    fn a_sitemap_index_or_garbage_gives_nothing() {
        let base = Url::parse("https://example.org/").unwrap();
        let source = super::super::tests::source();
        let index =
            "<sitemapindex><sitemap><loc>https://example.org/s1.xml</loc></sitemap></sitemapindex>";
        assert!(sitemap_items(index, &base, &source).is_empty());
        assert!(sitemap_items("<url><loc>", &base, &source).is_empty());
        assert!(sitemap_items("<html>Service unavailable</html>", &base, &source).is_empty());
    }
}
