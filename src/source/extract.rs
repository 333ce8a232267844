//! Pure extraction of releases and contacts from a page's HTML.
//!
//! The real site's markup is unknown (our fixtures rebuild its text with invented
//! tags), so nothing here looks at class names. The page is flattened into lines
//! of text with the positions of its links; a release is a link whose path
//! matches a configured pattern, its date is in the link text
//! ("DD.MM.YYYY - Title") or on a line just before it, and its lead is the first
//! paragraph after it.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::NaiveDate;
use ego_tree::iter::Edge;
use regex::Regex;
use scraper::{Html, Node};
use url::Url;

use super::{Contacts, Item, Page, cfemail};

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

/// Parses the date forms the site uses: `DD.MM.YYYY` and `D Month YYYY`.
pub fn parse_site_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    NaiveDate::parse_from_str(text, "%d.%m.%Y")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d %B %Y"))
        .ok()
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
    let doc = Html::parse_document(html);
    let mut out = Builder {
        text: String::new(),
        pending_space: false,
    };
    let mut links = Vec::new();
    let mut open_links: Vec<(ego_tree::NodeId, usize, String)> = Vec::new();
    let mut skipping: Option<ego_tree::NodeId> = None;

    for edge in doc.tree.root().traverse() {
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
    Regex::new(r"^(\d{1,2}\.\d{1,2}\.\d{4})\s*[-–—]\s*(.+)$").expect("valid regex")
});

fn one_line(s: &str) -> String {
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
        let (date, title) = match DATED_TITLE.captures(&link_text) {
            Some(c) => (parse_site_date(&c[1]), c[2].trim().to_string()),
            None => (date_just_before(before), link_text),
        };
        let lead = lead_after(after);

        match index.get(id) {
            Some(&i) => {
                // The same release linked twice (title and "read more"): fill gaps only.
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
                index.insert(id.clone(), items.len());
                items.push(Item {
                    id: id.clone(),
                    url: url.to_string(),
                    title,
                    date,
                    lead,
                });
            }
        }
    }
    items.retain(|item| !item.title.is_empty());
    items
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
            let letters = line.chars().filter(|c| c.is_alphabetic()).count();
            let is_heading = line.chars().all(|c| !c.is_lowercase());
            letters >= 20 && !is_heading && parse_site_date(line).is_none()
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
