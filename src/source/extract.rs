//! Pure extraction of releases and contacts from a page's HTML.
//!
//! The real site's markup is unknown (our fixtures rebuild its text with invented
//! tags), so by default nothing here looks at class names. The page is flattened
//! into lines of text with the positions of its links; a release is a link whose
//! path matches a configured pattern, its date is in the link text
//! ("DD.MM.YYYY - Title") or on a line just before it, and its lead is the first
//! paragraph after it. When an operator configures CSS selectors for a source,
//! [`extract_with_selectors`] uses them instead, with the same fallbacks inside
//! each selected item.
//!
//! Hostile pages must not hurt: the tree is walked iteratively (no recursion, so
//! 100 000 nested tags cannot overflow the stack), every pass is linear in the
//! page, and selector mode looks at no more than [`MAX_SELECTED_ITEMS`] items.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::NaiveDate;
use ego_tree::iter::Edge;
use regex::Regex;
use scraper::{Html, Node};
use url::Url;

use super::{Contacts, Item, Page, cfemail};
use crate::config::Selectors;

/// Selector mode stops after this many item matches: no list page has more, and
/// nested matches on a hostile page would otherwise cost quadratic time.
pub const MAX_SELECTED_ITEMS: usize = 200;

/// Extracts items and contacts. `base` is the page's URL: it resolves relative
/// links and tells which host names belong to the site.
pub fn extract_page(html: &str, base: &Url, link_patterns: &[Regex]) -> Page {
    let flat = flatten(html);
    Page {
        items: extract_items(&flat, base, link_patterns),
        contacts: extract_contacts(&flat.text),
    }
}

/// The identity of a release URL: host without `www.`/`m.`, path without a
/// trailing slash, the query if any; scheme and fragment ignored.
pub fn canonical_id(url: &Url) -> Option<String> {
    let host = site_host(url)?;
    let path = url.path().trim_end_matches('/');
    Some(match url.query() {
        Some(q) if !q.is_empty() => format!("{host}{path}?{q}"),
        _ => format!("{host}{path}"),
    })
}

/// The host with the prefixes that name the same site stripped.
fn site_host(url: &Url) -> Option<String> {
    let host = url.host_str()?.to_ascii_lowercase();
    let host = host
        .strip_prefix("www.")
        .or_else(|| host.strip_prefix("m."))
        .unwrap_or(&host);
    Some(host.to_string())
}

/// Parses the date forms the site uses: `DD.MM.YYYY` and `D Month YYYY`, the
/// month in English or Russian (nominative or genitive: "21 мая 2022", "1 март
/// 2018"), optionally followed by "г." or "года". The whole text must be a date.
pub fn parse_site_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%d.%m.%Y") {
        return Some(date);
    }
    let c = WORDY_DATE.captures(text)?;
    if c.get(0)?.len() != text.len() {
        return None;
    }
    wordy_date(&c)
}

/// The first date of a site form found anywhere in `text` ("Published 21 May 2022, 10:00").
pub fn find_date(text: &str) -> Option<NaiveDate> {
    ANY_DATE.captures_iter(text).find_map(|c| {
        if let Some(numeric) = c.name("numeric") {
            NaiveDate::parse_from_str(numeric.as_str(), "%d.%m.%Y").ok()
        } else {
            wordy_date(&c)
        }
    })
}

static WORDY_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?<day>\d{1,2})\s+(?<month>\p{L}+)\.?,?\s+(?<year>\d{4})(?:\s*(?:г\.?|года))?")
        .expect("valid regex")
});

static ANY_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\b(?<numeric>\d{1,2}\.\d{1,2}\.\d{4})\b|\b(?<day>\d{1,2})\s+(?<month>\p{L}+)\.?,?\s+(?<year>\d{4})\b",
    )
    .expect("valid regex")
});

fn wordy_date(c: &regex::Captures<'_>) -> Option<NaiveDate> {
    let day: u32 = c.name("day")?.as_str().parse().ok()?;
    let month = month_number(c.name("month")?.as_str())?;
    let year: i32 = c.name("year")?.as_str().parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

/// A month's number from its English name (full or three letters) or its Russian
/// name (nominative, genitive, or the usual abbreviations).
fn month_number(word: &str) -> Option<u32> {
    const MONTHS: [(&[&str], u32); 12] = [
        (&["january", "jan", "январь", "января", "янв"], 1),
        (&["february", "feb", "февраль", "февраля", "фев"], 2),
        (&["march", "mar", "март", "марта", "мар"], 3),
        (&["april", "apr", "апрель", "апреля", "апр"], 4),
        (&["may", "май", "мая"], 5),
        (&["june", "jun", "июнь", "июня", "июн"], 6),
        (&["july", "jul", "июль", "июля", "июл"], 7),
        (&["august", "aug", "август", "августа", "авг"], 8),
        (
            &[
                "september",
                "sep",
                "sept",
                "сентябрь",
                "сентября",
                "сен",
                "сент",
            ],
            9,
        ),
        (&["october", "oct", "октябрь", "октября", "окт"], 10),
        (&["november", "nov", "ноябрь", "ноября", "ноя"], 11),
        (&["december", "dec", "декабрь", "декабря", "дек"], 12),
    ];
    if word.len() > 24 {
        return None;
    }
    let word = word.to_lowercase();
    MONTHS
        .iter()
        .find(|(names, _)| names.contains(&word.as_str()))
        .map(|&(_, n)| n)
}

/// Text of an HTML fragment (a feed summary, a title with markup): tags dropped,
/// entities decoded, whitespace normalised to single spaces on one line.
pub fn plain_text(fragment: &str) -> String {
    let doc = parse_fragment(fragment);
    one_line(&flatten_node(doc.tree.root()).text)
}

/// The first paragraph-like line of an HTML fragment (a feed entry's summary).
pub fn first_paragraph(fragment: &str) -> String {
    let doc = parse_fragment(fragment);
    let flat = flatten_node(doc.tree.root());
    let lead = lead_after(&flat.text);
    if lead.is_empty() {
        one_line(flat.text.lines().next().unwrap_or(""))
    } else {
        lead
    }
}

// ---- flattening ---------------------------------------------------------------------------

/// A page as lines of normalised text plus where each link's text sits in it.
struct Flat {
    text: String,
    links: Vec<LinkSpan>,
}

struct LinkSpan {
    start: usize,
    end: usize,
    href: String,
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "br"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "li"
            | "ul"
            | "ol"
            | "tr"
            | "td"
            | "th"
            | "table"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "nav"
            | "main"
            | "aside"
            | "blockquote"
            | "dl"
            | "dt"
            | "dd"
            | "pre"
            | "hr"
            | "form"
            | "body"
            | "center"
            | "figure"
            | "figcaption"
    )
}

fn is_skipped(name: &str) -> bool {
    matches!(
        name,
        "script" | "style" | "noscript" | "template" | "head" | "svg" | "iframe"
    )
}

struct Builder {
    text: String,
    pending_space: bool,
}

impl Builder {
    fn push_text(&mut self, s: &str) {
        for c in s.chars() {
            if c.is_whitespace() {
                self.pending_space = true;
            } else {
                if self.pending_space && !self.text.is_empty() && !self.text.ends_with('\n') {
                    self.text.push(' ');
                }
                self.pending_space = false;
                self.text.push(c);
            }
        }
    }

    fn push_break(&mut self) {
        self.pending_space = false;
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            self.text.push('\n');
        }
    }
}

fn flatten(html: &str) -> Flat {
    let doc = parse_document(html);
    flatten_node(doc.tree.root())
}

// ---- parsing with bounded nesting ----------------------------------------------------------

/// Nesting deeper than this is flattened before parsing. Real pages nest a few
/// dozen levels; html5ever scans its stack of open elements for many start tags
/// (every `<div>` looks for an open `<p>`), so 100 000 nested blocks cost
/// quadratic time — minutes — unless the depth is bounded first.
pub const MAX_NESTING: usize = 256;

/// Parses a document after [`tame_nesting`].
fn parse_document(html: &str) -> Html {
    Html::parse_document(&tame_nesting(html))
}

/// Parses a fragment (a feed summary) after [`tame_nesting`].
fn parse_fragment(html: &str) -> Html {
    Html::parse_fragment(&tame_nesting(html))
}

/// Elements that never have content, and those whose end tag is optional (they
/// close each other), do not deepen a real page; neither counts.
fn is_shallow(name: &str) -> bool {
    matches!(
        name,
        "area"
            | "base"
            | "br"
            | "col"
            | "embed"
            | "hr"
            | "img"
            | "input"
            | "link"
            | "meta"
            | "param"
            | "source"
            | "track"
            | "wbr"
            | "p"
            | "li"
            | "dt"
            | "dd"
            | "tr"
            | "td"
            | "th"
            | "option"
            | "optgroup"
            | "thead"
            | "tbody"
            | "tfoot"
            | "colgroup"
            | "rb"
            | "rt"
            | "rp"
            | "html"
            | "head"
            | "body"
    )
}

/// The input, or when its tags nest deeper than [`MAX_NESTING`], a copy without
/// the start tags past that depth (except links, which carry the releases). One
/// linear pass over the bytes with a rough tag scanner; pages within the bound
/// are returned untouched.
pub fn tame_nesting(html: &str) -> std::borrow::Cow<'_, str> {
    let bytes = html.as_bytes();
    let mut depth: usize = 0;
    let mut out: Option<String> = None;
    let mut copied = 0; // bytes of `html` already copied into `out`
    let mut i = 0;
    while let Some(off) = memchr_lt(&bytes[i..]) {
        let start = i + off;
        let rest = &bytes[start + 1..];
        // Comments, doctypes and processing instructions: skip whole.
        if rest.starts_with(b"!--") {
            i = find(bytes, start + 4, b"-->").map_or(bytes.len(), |e| e + 3);
            continue;
        }
        if rest.first().is_some_and(|&b| b == b'!' || b == b'?') {
            i = find(bytes, start + 1, b">").map_or(bytes.len(), |e| e + 1);
            continue;
        }
        let closing = rest.first() == Some(&b'/');
        let name_start = start + 1 + usize::from(closing);
        let name_len = bytes[name_start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        if name_len == 0 || !bytes[name_start].is_ascii_alphabetic() {
            i = start + 1;
            continue;
        }
        let name = html[name_start..name_start + name_len].to_ascii_lowercase();
        let end = find(bytes, name_start + name_len, b">").map_or(bytes.len(), |e| e + 1);
        let self_closing = end >= 2 && bytes[end - 2] == b'/';
        if closing {
            if !is_shallow(&name) {
                depth = depth.saturating_sub(1);
            }
        } else if matches!(
            name.as_str(),
            "script" | "style" | "textarea" | "title" | "xmp"
        ) {
            // Raw text: tags inside are not tags. Jump to the end tag.
            let close = format!("</{name}");
            i = find_ignore_case(bytes, end, close.as_bytes()).unwrap_or(bytes.len());
            continue;
        } else if !self_closing && !is_shallow(&name) {
            if depth >= MAX_NESTING && name != "a" {
                let buf = out.get_or_insert_with(|| String::with_capacity(html.len()));
                buf.push_str(&html[copied..start]);
                copied = end;
            } else {
                depth += 1;
            }
        }
        i = end;
    }
    match out {
        None => std::borrow::Cow::Borrowed(html),
        Some(mut buf) => {
            buf.push_str(&html[copied..]);
            std::borrow::Cow::Owned(buf)
        }
    }
}

fn memchr_lt(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'<')
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

fn find_ignore_case(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| p + from)
}

/// Flattens the subtree under `root` (iteratively: the tree may be very deep).
fn flatten_node(root: ego_tree::NodeRef<'_, Node>) -> Flat {
    let mut out = Builder {
        text: String::new(),
        pending_space: false,
    };
    let mut links = Vec::new();
    let mut open_links: Vec<(ego_tree::NodeId, usize, String)> = Vec::new();
    let mut skipping: Option<ego_tree::NodeId> = None;

    for edge in root.traverse() {
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Text(t) => out.push_text(t),
                    Node::Element(el) => {
                        let name = el.name();
                        if is_skipped(name) {
                            skipping = Some(node.id());
                            continue;
                        }
                        // Cloudflare hides e-mail: trust the attribute, not the visible text.
                        let protected = el
                            .attr("data-cfemail")
                            .or_else(|| el.attr("href").and_then(cfemail::hex_from_href));
                        if let Some(hex) = protected {
                            if let Some(email) = cfemail::decode(hex) {
                                out.push_text(" ");
                                out.push_text(&email);
                                out.pending_space = true;
                            }
                            skipping = Some(node.id());
                            continue;
                        }
                        if is_block(name) {
                            out.push_break();
                        }
                        if name == "a" {
                            if let Some(href) = el.attr("href") {
                                open_links.push((node.id(), out.text.len(), href.to_string()));
                            }
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if skipping == Some(node.id()) {
                    skipping = None;
                    continue;
                }
                if skipping.is_some() {
                    continue;
                }
                if let Node::Element(el) = node.value() {
                    if el.name() == "a" {
                        if let Some(pos) =
                            open_links.iter().rposition(|(id, _, _)| *id == node.id())
                        {
                            let (_, start, href) = open_links.remove(pos);
                            links.push(LinkSpan {
                                start,
                                end: out.text.len(),
                                href,
                            });
                        }
                    }
                    if is_block(el.name()) {
                        out.push_break();
                    }
                }
            }
        }
    }
    links.sort_by_key(|l| l.start);
    Flat {
        text: out.text,
        links,
    }
}

// ---- items --------------------------------------------------------------------------------

static DATED_TITLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(\d{1,2}\.\d{1,2}\.\d{4}|\d{1,2}\s+\p{L}+\.?,?\s+\d{4}(?:\s*г\.)?)\s*[-–—]\s*(.+)$",
    )
    .expect("valid regex")
});

/// Splits "DD.MM.YYYY - Title" (or "D Month YYYY - Title") into date and title;
/// text that does not start with a real date is all title.
fn split_dated_title(text: &str) -> (Option<NaiveDate>, String) {
    if let Some(c) = DATED_TITLE.captures(text) {
        if let Some(date) = parse_site_date(&c[1]) {
            return (Some(date), c[2].trim().to_string());
        }
    }
    (None, text.to_string())
}

/// `s` on one line, its runs of whitespace made single spaces.
pub(super) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn extract_items(flat: &Flat, base: &Url, patterns: &[Regex]) -> Vec<Item> {
    let Some(base_host) = site_host(base) else {
        return Vec::new();
    };
    // Release links in page order, with their resolved URL and identity.
    let candidates: Vec<(&LinkSpan, Url, String)> = flat
        .links
        .iter()
        .filter_map(|link| {
            let url = base.join(link.href.trim()).ok()?;
            if !matches!(url.scheme(), "http" | "https") || site_host(&url)? != base_host {
                return None;
            }
            let path = url.path().trim_end_matches('/');
            if !patterns.iter().any(|p| p.is_match(path)) {
                return None;
            }
            let id = canonical_id(&url)?;
            Some((link, url, id))
        })
        .collect();

    let mut items: Vec<Item> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut previous_end = 0;
    for (k, (link, url, id)) in candidates.iter().enumerate() {
        let next_start = candidates
            .get(k + 1)
            .map_or(flat.text.len(), |(l, _, _)| l.start);
        let before = &flat.text[previous_end.min(link.start)..link.start];
        let after = &flat.text[link.end..next_start.max(link.end)];
        previous_end = link.end;

        let link_text = one_line(&flat.text[link.start..link.end]);
        let (date, title) = match split_dated_title(&link_text) {
            (Some(date), title) => (Some(date), title),
            (None, title) => (date_just_before(before), title),
        };
        let lead = lead_after(after);
        merge_item(&mut items, &mut index, id, url, title, date, lead);
    }
    items.retain(|item| !item.title.is_empty());
    items
}

/// Adds a release, or fills the gaps of one already seen under the same id
/// (the same release linked twice: title and "read more").
fn merge_item(
    items: &mut Vec<Item>,
    index: &mut HashMap<String, usize>,
    id: &str,
    url: &Url,
    title: String,
    date: Option<NaiveDate>,
    lead: String,
) {
    match index.get(id) {
        Some(&i) => {
            let item = &mut items[i];
            if item.title.is_empty() {
                item.title = title;
            }
            if item.date.is_none() {
                item.date = date;
            }
            if item.lead.is_empty() {
                item.lead = lead;
            }
        }
        None => {
            index.insert(id.to_string(), items.len());
            items.push(Item {
                id: id.to_string(),
                url: url.to_string(),
                title,
                date,
                lead,
            });
        }
    }
}

// ---- selectors ----------------------------------------------------------------------------

/// Extracts items with an operator's CSS selectors, and contacts as usual. Link
/// patterns do not apply: the selectors already say what a release is. Each
/// missing part falls back to the heuristics used without selectors.
pub fn extract_with_selectors(html: &str, base: &Url, selectors: &Selectors) -> Page {
    let doc = parse_document(html);
    let contacts = extract_contacts(&flatten_node(doc.tree.root()).text);
    let any_link = scraper::Selector::parse("a[href]").expect("valid selector");
    let mut items = Vec::new();
    let mut index = HashMap::new();
    for element in doc.select(&selectors.item).take(MAX_SELECTED_ITEMS) {
        let link = match &selectors.link {
            Some(sel) => element.select(sel).next(),
            None if element.value().name() == "a" && element.value().attr("href").is_some() => {
                Some(element)
            }
            None => element.select(&any_link).next(),
        };
        let Some(link) = link else { continue };
        let Some(href) = link.value().attr("href") else {
            continue;
        };
        let Ok(url) = base.join(href.trim()) else {
            continue;
        };
        if !matches!(url.scheme(), "http" | "https") {
            continue;
        }
        let Some(id) = canonical_id(&url) else {
            continue;
        };
        let flat = flatten_node(*element);
        let text_of = |sel: &Option<scraper::Selector>| {
            sel.as_ref()
                .and_then(|s| element.select(s).next())
                .map(|e| one_line(&flatten_node(*e).text))
        };
        let title_text =
            text_of(&selectors.title).unwrap_or_else(|| one_line(&flatten_node(*link).text));
        let (title_date, title) = split_dated_title(&title_text);
        let date = match text_of(&selectors.date) {
            Some(text) => find_date(&text),
            None => title_date.or_else(|| find_date(&flat.text)),
        };
        let lead = text_of(&selectors.lead).unwrap_or_else(|| {
            flat.links
                .iter()
                .find(|l| l.href == href)
                .map(|l| lead_after(&flat.text[l.end..]))
                .unwrap_or_default()
        });
        merge_item(&mut items, &mut index, &id, &url, title, date, lead);
    }
    items.retain(|item| !item.title.is_empty());
    Page { items, contacts }
}

/// A date standing alone on one of the two lines right before a link.
fn date_just_before(before: &str) -> Option<NaiveDate> {
    before
        .lines()
        .rev()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(2)
        .find_map(parse_site_date)
}

/// The first line after a link that reads like a paragraph rather than a heading.
fn lead_after(after: &str) -> String {
    after
        .lines()
        .map(str::trim)
        .find(|line| {
            let letters = line.chars().filter(|c| c.is_alphabetic()).take(20).count();
            letters >= 20 && line.chars().any(char::is_lowercase) && parse_site_date(line).is_none()
        })
        .unwrap_or("")
        .to_string()
}

// ---- contacts -----------------------------------------------------------------------------

static PHONE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\+?\d[\d ()\-]{6,}\d").expect("valid regex"));
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}").expect("valid regex")
});

/// Phone and e-mail that follow the "Consular queries" label in the header.
fn extract_contacts(text: &str) -> Contacts {
    let lower = text.to_lowercase();
    let Some(at) = lower.find("consular queries") else {
        return Contacts::default();
    };
    // `to_lowercase` can change byte lengths for some scripts; fall back safely.
    let start = if text.is_char_boundary(at) { at } else { 0 };
    let window: String = text[start..].chars().take(300).collect();
    Contacts {
        phone: PHONE.find(&window).map(|m| m.as_str().trim().to_string()),
        email: EMAIL.find(&window).map(|m| m.as_str().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patterns() -> Vec<Regex> {
        crate::config::DEFAULT_LINK_PATTERNS
            .iter()
            .map(|p| Regex::new(p).unwrap())
            .collect()
    }

    fn base() -> Url {
        Url::parse("https://www.rusemb.org.uk/").unwrap()
    }

    #[test]
    fn canonical_ids_ignore_host_variants() {
        let ids: Vec<_> = [
            "https://www.rusemb.org.uk/fnapr/7160",
            "http://rusemb.org.uk/fnapr/7160/",
            "https://m.rusemb.org.uk/fnapr/7160#top",
        ]
        .iter()
        .map(|u| canonical_id(&Url::parse(u).unwrap()).unwrap())
        .collect();
        assert!(
            ids.iter().all(|id| id == "rusemb.org.uk/fnapr/7160"),
            "{ids:?}"
        );
    }

    #[test]
    fn dates_in_both_site_forms() {
        assert_eq!(
            parse_site_date("28.01.2022"),
            NaiveDate::from_ymd_opt(2022, 1, 28)
        );
        assert_eq!(
            parse_site_date(" 21 May 2022 "),
            NaiveDate::from_ymd_opt(2022, 5, 21)
        );
        assert_eq!(parse_site_date("32.01.2022"), None);
        assert_eq!(parse_site_date("Moscow: 11:16"), None);
    }

    #[test]
    fn siblings_without_wrappers_and_foreign_links() {
        let html = r#"<body>
            <p><a href="/fnapr/1">01.02.2020 - First &amp; foremost</a></p>
            <p>The first lead paragraph is long enough to count.</p>
            <p>03.02.2020</p><p><a href="http://rusemb.org.uk/article/5/">Undated-link title</a></p>
            <a href="https://example.com/fnapr/2">02.02.2020 - Not ours</a>
            <a href="/fnapr/1">more</a>
            <a href="/fnapr/x">01.01.2020 - Not a release</a>
            <p>No date here</p><a href="/ambarticles/9">Ambassador writes</a>
        </body>"#;
        let page = extract_page(html, &base(), &patterns());
        let got: Vec<_> = page
            .items
            .iter()
            .map(|i| (i.id.as_str(), i.title.as_str(), i.date))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "rusemb.org.uk/fnapr/1",
                    "First & foremost",
                    NaiveDate::from_ymd_opt(2020, 2, 1)
                ),
                (
                    "rusemb.org.uk/article/5",
                    "Undated-link title",
                    NaiveDate::from_ymd_opt(2020, 2, 3)
                ),
                ("rusemb.org.uk/ambarticles/9", "Ambassador writes", None),
            ]
        );
        assert_eq!(
            page.items[0].lead,
            "The first lead paragraph is long enough to count."
        );
        assert_eq!(page.items[1].url, "http://rusemb.org.uk/article/5/");
    }

    #[test]
    fn garbage_gives_nothing_and_does_not_panic() {
        for input in [
            "",
            "\u{0}\u{1}binary\u{fffd}",
            "<a href='/fnapr/1'>",
            "<<<>>>&&&",
            "<div><div><div>",
        ] {
            let page = extract_page(input, &base(), &patterns());
            assert!(page.items.len() <= 1);
            assert!(page.contacts.is_empty());
        }
        let deep = "<div>".repeat(5000) + "<a href='/fnapr/3'>03.03.2021 - Deep</a>";
        let page = extract_page(&deep, &base(), &patterns());
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.items[0].title, "Deep");
    }

    #[test]
    fn contacts_in_plain_and_protected_forms() {
        let plain = "<p>Consular queries: +44 (0) 203 668 7474 <a href='mailto:info@rusemb.org.uk'>info@rusemb.org.uk</a></p>";
        let c = extract_contacts(&flatten(plain).text);
        assert_eq!(c.phone.as_deref(), Some("+44 (0) 203 668 7474"));
        assert_eq!(c.email.as_deref(), Some("info@rusemb.org.uk"));

        let link = "<p>Consular queries:<br>+44 (0) 203 161 8858<br><a href=\"/cdn-cgi/l/email-protection#5a33343c351a282f293f37387435283d742f31\">[email&#160;protected]</a></p>";
        let c = extract_contacts(&flatten(link).text);
        assert_eq!(c.phone.as_deref(), Some("+44 (0) 203 161 8858"));
        assert_eq!(c.email.as_deref(), Some("info@rusemb.org.uk"));
    }
}
