//! Releases as repeated blocks of a page: its `<article>` elements, or the
//! largest group of sibling elements alike (same tag, same first class) that
//! each hold a link and a date: a list of headline links with dates. What a
//! redesign changes is the addresses and the class names, rarely that each
//! release is one block among its likes.
//!
//! A block's link is the one in its heading, else its first link that says
//! something; its date the first `<time datetime>`, else the first date in its
//! text (the forms [`crate::source::date`] reads); its lead the first
//! paragraph after the link.

use std::collections::HashMap;

use ego_tree::NodeId;
use scraper::{ElementRef, Html, Selector};
use url::Url;

use super::found_item;
use crate::config::SourceConfig;
use crate::source::Item;
use crate::source::date::{find_date, parse_date};
use crate::source::flat::{Flat, flatten_node, lead_after, one_line, parse_document};

/// Groups looked at, largest first: the others are smaller than what was found.
const MAX_GROUPS: usize = 20;

/// What the blocks of a page gave: their releases, and CSS that selects them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocks {
    pub items: Vec<Item>,
    /// Selects the blocks (`selectors.item`).
    pub selector: String,
    /// Inside a block, the title link when it sits in a heading (`selectors.link`).
    pub link: Option<String>,
}

/// A group of alike blocks and the CSS that selects them.
struct Group {
    selector: String,
    members: Vec<NodeId>,
}

/// The releases of the page's largest repeated structure whose blocks each
/// hold a dated link (at least two, and at least half of them dated), at most
/// the source's `max_items`; `None` when no structure qualifies.
pub fn block_items(html: &str, base: &Url, source: &SourceConfig) -> Option<Blocks> {
    let doc = parse_document(html);
    let mut groups = groups(&doc);
    groups.sort_by_key(|g| std::cmp::Reverse(g.members.len()));
    for group in groups.into_iter().take(MAX_GROUPS) {
        let mut items = Vec::new();
        let mut in_heading = 0;
        let looked_at = group.members.len().min(source.max_items);
        for id in group.members.iter().take(looked_at) {
            let Some(block) = doc.tree.get(*id).and_then(ElementRef::wrap) else {
                continue;
            };
            if let Some((item, heading)) = block_item(block, base, source) {
                in_heading += usize::from(heading);
                items.push(item);
            }
        }
        let dated = items.iter().filter(|i| i.date.is_some()).count();
        if dated >= 2 && dated * 2 >= looked_at {
            let link = (in_heading * 2 > items.len()).then(|| headings_link().to_string());
            return Some(Blocks {
                items: super::dedup(items, source.max_items),
                selector: group.selector,
                link,
            });
        }
    }
    None
}

/// The page's `<article>` elements as one group, then every set of at
/// least two sibling elements with the same tag and first class.
fn groups(doc: &Html) -> Vec<Group> {
    let mut out = Vec::new();
    let articles = Selector::parse("article").expect("valid selector");
    let members: Vec<NodeId> = doc.select(&articles).map(|a| a.id()).collect();
    if members.len() >= 2 {
        out.push(Group {
            selector: "article".into(),
            members,
        });
    }
    for parent in doc
        .root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
    {
        let mut alike: HashMap<(String, Option<String>), Vec<NodeId>> = HashMap::new();
        let mut order = Vec::new();
        for child in parent.children().filter_map(ElementRef::wrap) {
            let name = child.value().name();
            if matches!(
                name,
                "script" | "style" | "link" | "meta" | "br" | "article"
            ) {
                continue;
            }
            let key = (name.to_string(), first_class(child));
            let entry = alike.entry(key.clone()).or_default();
            if entry.is_empty() {
                order.push(key);
            }
            entry.push(child.id());
        }
        for key in order {
            let members = alike.remove(&key).unwrap_or_default();
            if members.len() >= 2 {
                out.push(Group {
                    selector: selector_for(parent, &key.0, key.1.as_deref()),
                    members,
                });
            }
        }
    }
    out
}

/// The first class of an element, when CSS can name it as written.
fn first_class(element: ElementRef<'_>) -> Option<String> {
    let class = element.value().classes().next()?;
    let plain = !class.is_empty()
        && !class.starts_with(|c: char| c.is_ascii_digit() || c == '-')
        && class
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    plain.then(|| class.to_string())
}

/// CSS for children `tag.class` of `parent`: `tag.class` alone when it has
/// a class, else under the parent's id or class (`ul.news > li`).
fn selector_for(parent: ElementRef<'_>, tag: &str, class: Option<&str>) -> String {
    if let Some(class) = class {
        return format!("{tag}.{class}");
    }
    let by_id = parent.value().id().filter(|id| {
        !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    });
    let parent_css = match (by_id, first_class(parent)) {
        (Some(id), _) if !id.starts_with(|c: char| c.is_ascii_digit()) => {
            format!("{}#{id}", parent.value().name())
        }
        (_, Some(class)) => format!("{}.{class}", parent.value().name()),
        _ => parent.value().name().to_string(),
    };
    format!("{parent_css} > {tag}")
}

/// CSS for a link inside a heading.
fn headings_link() -> &'static str {
    "h1 a[href], h2 a[href], h3 a[href], h4 a[href], h5 a[href], h6 a[href]"
}

/// One block as a release, and whether its link was in a heading.
fn block_item(block: ElementRef<'_>, base: &Url, source: &SourceConfig) -> Option<(Item, bool)> {
    let flat = flatten_node(*block);
    let heading = Selector::parse(headings_link()).expect("valid selector");
    let (href, title, heading_link) = match block.select(&heading).next() {
        Some(link) => (
            link.value().attr("href")?.to_string(),
            one_line(&flatten_node(*link).text),
            true,
        ),
        None => {
            let span = flat.links.iter().find(|l| says_something(&flat, l))?;
            (
                span.href.clone(),
                one_line(&flat.text[span.start..span.end]),
                false,
            )
        }
    };
    let date = flat
        .marks
        .first()
        .map(|m| m.when)
        .or_else(|| find_date(&flat.text).map(|(when, _)| when))
        .map(|when| when.day_in(source.time_zone));
    let lead = lead_of(&flat, &href);
    let item = found_item(&href, &title, date, &lead, base, source)?;
    Some((item, heading_link))
}

/// Whether a link's text could be a title: a few letters, not only a date.
fn says_something(flat: &Flat, link: &crate::source::flat::LinkSpan) -> bool {
    let text = &flat.text[link.start..link.end];
    text.chars().filter(|c| c.is_alphabetic()).count() >= 8 && parse_date(text).is_none()
}

/// The first paragraph after the block's link `href` (or in the block).
fn lead_of(flat: &Flat, href: &str) -> String {
    let after = flat
        .links
        .iter()
        .find(|l| l.href == href)
        .map_or(0, |l| l.end);
    lead_after(&flat.text[after..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://example.org/news").unwrap()
    }

    #[test]
    fn article_blocks_with_headings_and_time() {
        let html = r#"<html><body><nav><a href="/a">About us</a><a href="/b">Contacts</a></nav>
        <main>
        <article class="card"><h2><a href="/stories/new-one">A new release today</a></h2>
          <time datetime="2024-05-03">3 May</time><p>The lead of the new release, in a sentence.</p></article>
        <article class="card"><a href="/stories/x"><img src="x.png"></a><h3><a href="/stories/older">An older release here</a></h3>
          <span>2 May 2024</span></article>
        <article class="card promo"><h2><a href="https://other.example.com/ad">An advert somewhere</a></h2></article>
        </main></body></html>"#;
        let blocks = block_items(html, &base(), &super::super::tests::source()).unwrap();
        assert_eq!(blocks.selector, "article");
        assert!(blocks.link.is_some());
        let got: Vec<(&str, &str, String)> = blocks
            .items
            .iter()
            .map(|i| (i.id.as_str(), i.title.as_str(), format!("{:?}", i.date)))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "example.org/stories/new-one",
                    "A new release today",
                    "Some(2024-05-03)".into()
                ),
                (
                    "example.org/stories/older",
                    "An older release here",
                    "Some(2024-05-02)".into()
                ),
            ]
        );
        assert_eq!(
            blocks.items[0].lead,
            "The lead of the new release, in a sentence."
        );
    }

    #[test]
    fn the_largest_list_of_dated_links_wins() {
        let html = r#"<body>
        <ul class="menu"><li><a href="/x">Menu entry one</a></li><li><a href="/y">Menu entry two</a></li><li><a href="/z">Menu entry three</a></li></ul>
        <ul id="latest">
          <li>04.05.2024 <a href="/n/3">Third release of the week</a></li>
          <li>03.05.2024 <a href="/n/2">Second release of the week</a></li>
          <li>02.05.2024 <a href="/n/1">First release of the week</a></li>
        </ul>
        <div class="pair"><span>01.01.2024</span><a href="/p/1">A lone dated link</a></div>
        <div class="pair"><span>01.01.2024</span><a href="/p/2">Another lone dated link</a></div>
        </body>"#;
        let blocks = block_items(html, &base(), &super::super::tests::source()).unwrap();
        assert_eq!(blocks.selector, "ul#latest > li");
        assert_eq!(blocks.items.len(), 3);
        assert_eq!(blocks.items[0].title, "Third release of the week");
        assert_eq!(blocks.link, None);
    }

    #[test]
    fn undated_lists_and_empty_pages_are_no_blocks() {
        let source = super::super::tests::source();
        let menu = r#"<ul><li><a href="/a">About the embassy</a></li><li><a href="/b">Consular services</a></li></ul>"#;
        assert_eq!(block_items(menu, &base(), &source), None);
        assert_eq!(
            block_items("<h1>Service temporarily unavailable</h1>", &base(), &source),
            None
        );
    }
}
