//! Releases in a page's structured data: JSON-LD (`<script
//! type="application/ld+json">`) that lists them (`ItemList`) or describes
//! each (`NewsArticle`, `BlogPosting`, `Article`), at the top, in an array or
//! in an `@graph`.

use serde_json::Value;
use url::Url;

use super::found_item;
use crate::config::SourceConfig;
use crate::source::date::parse_date;
use crate::source::{Item, MAX_URL_LEN};

/// A JSON-LD block longer than this is skipped: it is no list of releases.
const MAX_BLOCK_BYTES: usize = 512 * 1024;
/// JSON objects looked at across the page, whatever they hold.
const MAX_NODES: usize = 10_000;
/// How deep into a block releases are looked for.
const MAX_DEPTH: usize = 8;

/// The types that describe one release.
const ARTICLE_TYPES: &[&str] = &["NewsArticle", "BlogPosting", "Article", "Report"];

/// The releases the page's JSON-LD describes, in its order, at most the
/// source's `max_items`, each on the source's own site.
pub fn jsonld_items(html: &str, base: &Url, source: &SourceConfig) -> Vec<Item> {
    let doc = crate::source::flat::parse_document(html);
    let scripts = scraper::Selector::parse("script").expect("valid selector");
    let mut found = Vec::new();
    let mut budget = MAX_NODES;
    for script in doc.select(&scripts) {
        let is_ld = script
            .value()
            .attr("type")
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/ld+json"));
        if !is_ld {
            continue;
        }
        let text: String = script.text().collect();
        if text.len() > MAX_BLOCK_BYTES {
            continue;
        }
        let Ok(value) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        walk(&value, 0, &mut budget, &mut |node| {
            if let Some(item) = node_item(node, base, source) {
                found.push(item);
            }
        });
        if found.len() >= source.max_items || budget == 0 {
            break;
        }
    }
    super::dedup(found, source.max_items)
}

/// Calls `each` on every article-like object under `value`, and on the
/// entries of every `ItemList`, in document order.
fn walk(value: &Value, depth: usize, budget: &mut usize, each: &mut dyn FnMut(&Value)) {
    if depth > MAX_DEPTH || *budget == 0 {
        return;
    }
    *budget -= 1;
    match value {
        Value::Array(values) => {
            for v in values {
                walk(v, depth + 1, budget, each);
            }
        }
        Value::Object(map) => {
            if has_type(value, ARTICLE_TYPES) {
                each(value);
                return;
            }
            if has_type(value, &["ListItem"]) {
                match map.get("item") {
                    Some(inner @ Value::Object(_)) if has_type(inner, ARTICLE_TYPES) => each(inner),
                    Some(inner @ Value::Object(_)) => each(&merged(value, inner)),
                    _ => each(value),
                }
                return;
            }
            for key in ["@graph", "itemListElement", "mainEntity", "hasPart"] {
                if let Some(inner) = map.get(key) {
                    walk(inner, depth + 1, budget, each);
                }
            }
        }
        _ => {}
    }
}

/// A list entry's own fields with its `item`'s over them.
fn merged(entry: &Value, item: &Value) -> Value {
    let mut out = entry.clone();
    if let (Value::Object(out), Value::Object(item)) = (&mut out, item) {
        for (k, v) in item {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// Whether `value`'s `@type` (a string or a list) is one of `types`.
fn has_type(value: &Value, types: &[&str]) -> bool {
    match value.get("@type") {
        Some(Value::String(t)) => types.contains(&t.as_str()),
        Some(Value::Array(ts)) => ts
            .iter()
            .any(|t| t.as_str().is_some_and(|t| types.contains(&t))),
        _ => false,
    }
}

/// The first of `keys` that holds a string (or an object's `@id`/`url`).
fn text_at<'v>(value: &'v Value, keys: &[&str]) -> Option<&'v str> {
    keys.iter().find_map(|key| match value.get(*key)? {
        Value::String(s) => Some(s.as_str()),
        Value::Object(_) => text_at(value.get(*key)?, &["url", "@id"]),
        _ => None,
    })
}

/// One described release as an item, if it has a link and a title.
fn node_item(node: &Value, base: &Url, source: &SourceConfig) -> Option<Item> {
    let href = text_at(node, &["url", "mainEntityOfPage", "@id", "item"])?;
    if href.len() > MAX_URL_LEN {
        return None;
    }
    let title = text_at(node, &["headline", "name"])?;
    let date = text_at(node, &["datePublished", "dateCreated", "dateModified"])
        .and_then(parse_date)
        .map(|when| when.day_in(source.time_zone));
    let lead = text_at(node, &["description", "abstract"]).unwrap_or("");
    found_item(href, title, date, lead, base, source)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(html: &str) -> Vec<Item> {
        let base = Url::parse("https://example.org/news").unwrap();
        jsonld_items(html, &base, &super::super::tests::source())
    }

    #[test]
    fn an_item_list_and_articles_in_a_graph() {
        let html = r#"<html><head><script type="application/ld+json">
        {"@context":"https://schema.org","@type":"ItemList","itemListElement":[
          {"@type":"ListItem","position":1,"item":{"@type":"NewsArticle","headline":"First release","url":"/p/1","datePublished":"2024-05-02T10:00:00+01:00","description":"Lead one."}},
          {"@type":"ListItem","position":2,"url":"https://example.org/p/2","name":"Second release"},
          {"@type":"ListItem","position":3,"url":"https://elsewhere.example.com/p/3","name":"Off the site"}
        ]}</script>
        <script type="application/ld+json">{"@graph":[{"@type":"WebSite","name":"x"},
          {"@type":["BlogPosting"],"headline":"Third release","mainEntityOfPage":{"@id":"https://example.org/p/3"},"datePublished":"2024-05-01"}]}</script>
        <script type="application/ld+json">{not json</script>
        </head></html>"#;
        let found = items(html);
        let shown: Vec<(&str, &str, Option<String>)> = found
            .iter()
            .map(|i| {
                (
                    i.id.as_str(),
                    i.title.as_str(),
                    i.date.map(|d| d.to_string()),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                (
                    "example.org/p/1",
                    "First release",
                    Some("2024-05-02".into())
                ),
                ("example.org/p/2", "Second release", None),
                (
                    "example.org/p/3",
                    "Third release",
                    Some("2024-05-01".into())
                ),
            ]
        );
        assert_eq!(found[0].lead, "Lead one.");
    }

    #[test]
    fn deep_or_huge_data_costs_little() {
        let deep = format!(
            r#"<script type="application/ld+json">{}{{"@type":"NewsArticle","headline":"Deep one","url":"/d"}}{}</script>"#,
            r#"{"@graph":["#.repeat(100),
            "]}".repeat(100)
        );
        assert!(items(&deep).is_empty(), "beyond the depth looked at");
        let many: String = (0..500)
            .map(|n| {
                format!(r#"{{"@type":"NewsArticle","headline":"Release {n}","url":"/n/{n}"}}"#)
            })
            .collect::<Vec<_>>()
            .join(",");
        let html = format!(r#"<script type="application/ld+json">[{many}]</script>"#);
        assert_eq!(items(&html).len(), super::super::tests::source().max_items);
    }
}
