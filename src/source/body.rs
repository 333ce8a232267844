//! A release's own page reduced to its body: the statement itself, as a few
//! kinds of block, each kept as a small, safe HTML fragment and as plain text.
//! Pure; the background reader (`crate::watch::reader`) fetches the page.
//!
//! Where the body is on a page:
//! - `sources[].body_selector`, when configured: the first element it selects;
//! - else the layout the embassy's release pages share (header clocks and
//!   counters, the section heading such as "PRESS RELEASES AND NEWS", the date,
//!   the title, then the paragraphs): the blocks after the first block that
//!   reads as the release's title (a date alone just after it is skipped), up
//!   to the next section heading in capitals (such as "LATEST EVENTS");
//! - else the element whose own paragraphs hold the most text (the core idea
//!   of readability-style extractors, see `docs/sources.md` for why no such
//!   crate is used).
//!
//! Safety: nothing of the page's markup is passed through. The output is
//! *built* from text and an allow-list: paragraphs, headings, list items and
//! quotes as blocks; inside them only `<a href>` (an absolute http(s) address,
//! relative ones resolved against the page), `<b>` and `<i>`. Every text is
//! escaped; no other tag or attribute can appear. The text is bounded by
//! `max_bytes` (cut at a block, or inside the block that passes it).

use ego_tree::iter::Edge;
use scraper::{ElementRef, Html, Node, Selector};
use serde::{Deserialize, Serialize};
use url::Url;

use super::flat::parse_document;
use crate::text::markup::escape;
use crate::text::matching::normalize;

/// Most blocks one body keeps, whatever `max_bytes` allows: a page of
/// thousands of one-word paragraphs is no statement.
pub const MAX_BLOCKS: usize = 2_000;

/// What a block is, for how feeds and Telegram show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BlockKind {
    Paragraph,
    Heading,
    ListItem,
    Quote,
}

/// One block of a body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    pub kind: BlockKind,
    /// Inline HTML: escaped text, `<a href="…">`, `<b>`, `<i>` (what
    /// Telegram's HTML and a feed reader both accept).
    pub html: String,
    /// The same as plain text, whitespace collapsed.
    pub text: String,
}

/// A release's body, in page order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Body {
    pub blocks: Vec<Block>,
}

impl Body {
    /// The plain text, blocks separated by blank lines (search, previews).
    pub fn text(&self) -> String {
        let texts: Vec<&str> = self.blocks.iter().map(|b| b.text.as_str()).collect();
        texts.join("\n\n")
    }

    /// Whether it has no text at all.
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// The body as a feed's HTML content: `<p>`, `<h3>`, `<ul><li>`, `<blockquote>`.
    pub fn feed_html(&self) -> String {
        let mut out = String::new();
        let mut in_list = false;
        for block in &self.blocks {
            let item = block.kind == BlockKind::ListItem;
            if item != in_list {
                out.push_str(if item { "<ul>" } else { "</ul>" });
                in_list = item;
            }
            let (open, close) = match block.kind {
                BlockKind::Paragraph => ("<p>", "</p>"),
                BlockKind::Heading => ("<h3>", "</h3>"),
                BlockKind::ListItem => ("<li>", "</li>"),
                BlockKind::Quote => ("<blockquote>", "</blockquote>"),
            };
            out.push_str(open);
            out.push_str(&block.html);
            out.push_str(close);
        }
        if in_list {
            out.push_str("</ul>");
        }
        out
    }

    /// The blocks as Telegram HTML, one string each: headings bold, list
    /// items after a bullet, quotes in `<blockquote>`.
    pub fn telegram_blocks(&self) -> Vec<String> {
        self.blocks
            .iter()
            .map(|b| match b.kind {
                BlockKind::Paragraph => b.html.clone(),
                BlockKind::Heading => format!("<b>{}</b>", b.html),
                BlockKind::ListItem => format!("• {}", b.html),
                BlockKind::Quote => format!("<blockquote>{}</blockquote>", b.html),
            })
            .collect()
    }
}

/// The body of the release titled `title` on its page `html` (read from
/// `base`), at most `max_bytes` of text; `None` when the page shows none.
pub fn extract_body(
    html: &str,
    base: &Url,
    title: &str,
    selector: Option<&Selector>,
    max_bytes: usize,
) -> Option<Body> {
    let doc = parse_document(html);
    let cap = Cap { max_bytes };
    let blocks = match selector {
        Some(selector) => {
            let root = doc.select(selector).next()?;
            blocks_of(root, base, cap)
        }
        None => after_title(&doc, base, title, cap)
            .or_else(|| densest(&doc).map(|root| blocks_of(root, base, cap)))?,
    };
    let body = Body { blocks };
    (!body.is_empty()).then_some(body)
}

#[derive(Clone, Copy)]
struct Cap {
    max_bytes: usize,
}

/// The release page layout: the blocks after the title, to the next section heading.
fn after_title(doc: &Html, base: &Url, title: &str, cap: Cap) -> Option<Vec<Block>> {
    let wanted = normalize(title);
    if wanted.is_empty() {
        return None;
    }
    // The whole page's blocks, unbounded by `cap` until the title is found.
    let all = blocks_of(
        doc.root_element(),
        base,
        Cap {
            max_bytes: usize::MAX,
        },
    );
    let at = all.iter().position(|b| normalize(&b.text) == wanted)?;
    let mut out = Vec::new();
    let mut used = 0;
    for (n, block) in all.into_iter().skip(at + 1).enumerate() {
        if n == 0 && super::date::parse_date(block.text.trim()).is_some() {
            continue;
        }
        if is_section_heading(&block.text) {
            break;
        }
        if !push_capped(&mut out, &mut used, block, cap) {
            break;
        }
    }
    (!out.is_empty()).then_some(out)
}

/// A short line in capitals ("LATEST EVENTS"): the next section of the page.
fn is_section_heading(text: &str) -> bool {
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    letters >= 4 && text.chars().count() <= 60 && !text.chars().any(char::is_lowercase)
}

/// The element whose own `<p>` children hold the most text (at least 200 bytes).
fn densest(doc: &Html) -> Option<ElementRef<'_>> {
    let p = Selector::parse("p").expect("a valid selector");
    let mut scores: std::collections::HashMap<ego_tree::NodeId, usize> = Default::default();
    for para in doc.select(&p) {
        if let Some(parent) = para.parent() {
            let len: usize = para.text().map(|t| t.trim().len()).sum();
            *scores.entry(parent.id()).or_default() += len;
        }
    }
    let (id, score) = scores.into_iter().max_by_key(|(id, s)| (*s, *id))?;
    if score < 200 {
        return None;
    }
    doc.tree.get(id).and_then(ElementRef::wrap)
}

/// Adds `block` unless the cap is reached: the block that passes it is cut
/// to what is left (as text only). False once full.
fn push_capped(out: &mut Vec<Block>, used: &mut usize, block: Block, cap: Cap) -> bool {
    if out.len() >= MAX_BLOCKS || *used >= cap.max_bytes {
        return false;
    }
    let room = cap.max_bytes - *used;
    if block.text.len() <= room {
        *used += block.text.len();
        out.push(block);
        return true;
    }
    let mut end = room;
    while !block.text.is_char_boundary(end) {
        end -= 1;
    }
    let text = format!("{}…", block.text[..end].trim_end());
    *used = cap.max_bytes;
    out.push(Block {
        kind: block.kind,
        html: escape(&text),
        text,
    });
    false
}

/// Elements whose content is never part of a body.
fn is_skipped(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "noscript"
            | "template"
            | "head"
            | "svg"
            | "iframe"
            | "nav"
            | "footer"
            | "form"
            | "button"
            | "select"
            | "textarea"
            | "object"
            | "embed"
            | "canvas"
    )
}

/// Elements that end a block, and what the block they start is.
fn block_kind(name: &str) -> Option<BlockKind> {
    Some(match name {
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => BlockKind::Heading,
        "li" | "dt" | "dd" => BlockKind::ListItem,
        "blockquote" => BlockKind::Quote,
        "p" | "div" | "br" | "ul" | "ol" | "tr" | "td" | "th" | "table" | "section" | "article"
        | "header" | "main" | "aside" | "pre" | "hr" | "body" | "center" | "figure"
        | "figcaption" | "dl" => BlockKind::Paragraph,
        _ => return None,
    })
}

/// The block being written: its kind, inline HTML, text, and which inline
/// tags are open in it.
struct Writer<'a> {
    base: &'a Url,
    kind: BlockKind,
    html: String,
    text: String,
    space: bool,
    open: Vec<&'static str>,
    blocks: Vec<Block>,
    used: usize,
    cap: Cap,
    full: bool,
}

impl Writer<'_> {
    fn push_text(&mut self, s: &str) {
        for (i, word) in s.split(char::is_whitespace).enumerate() {
            if i > 0 {
                self.space = true;
            }
            if word.is_empty() {
                continue;
            }
            if self.space && !self.text.is_empty() {
                self.text.push(' ');
                self.html.push(' ');
            }
            self.space = false;
            self.text.push_str(word);
            self.html.push_str(&escape(word));
        }
        if s.ends_with(char::is_whitespace) {
            self.space = true;
        }
    }

    fn open_inline(&mut self, tag: &'static str, html: String) {
        // A space owed goes before the tag: "in <a>Hyde Park</a>", not "in<a> Hyde".
        if self.space && !self.text.is_empty() {
            self.text.push(' ');
            self.html.push(' ');
            self.space = false;
        }
        self.html.push_str(&html);
        self.open.push(tag);
    }

    fn close_inline(&mut self, tag: &'static str) {
        if let Some(at) = self.open.iter().rposition(|t| *t == tag) {
            for t in self.open.drain(at..).rev() {
                self.html.push_str(&format!("</{t}>"));
            }
        }
    }

    /// Ends the block in progress (if it has text) and starts one of `kind`.
    fn end_block(&mut self, kind: BlockKind) {
        for t in self.open.drain(..).rev() {
            self.html.push_str(&format!("</{t}>"));
        }
        if !self.text.is_empty() && !self.full {
            let block = Block {
                kind: self.kind,
                html: tidy(std::mem::take(&mut self.html)),
                text: std::mem::take(&mut self.text),
            };
            self.full = !push_capped(&mut self.blocks, &mut self.used, block, self.cap);
        }
        self.html.clear();
        self.text.clear();
        self.space = false;
        self.kind = kind;
    }
}

/// Empty inline pairs left by a link or bold with no text are dropped.
fn tidy(html: String) -> String {
    if !html.contains("></") {
        return html;
    }
    let mut out = html;
    for empty in ["<b></b>", "<i></i>"] {
        out = out.replace(empty, "");
    }
    out
}

/// A link's address, if it may be shown: resolved against `base`, http(s) only.
fn safe_href(href: &str, base: &Url) -> Option<String> {
    let url = base.join(href.trim()).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

/// `root`'s content as blocks, walked iteratively (no recursion).
fn blocks_of(root: ElementRef<'_>, base: &Url, cap: Cap) -> Vec<Block> {
    let mut w = Writer {
        base,
        kind: BlockKind::Paragraph,
        html: String::new(),
        text: String::new(),
        space: false,
        open: Vec::new(),
        blocks: Vec::new(),
        used: 0,
        cap,
        full: false,
    };
    let mut skipping: Option<ego_tree::NodeId> = None;
    for edge in root.traverse() {
        if w.full {
            break;
        }
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Text(text) => w.push_text(text),
                    Node::Element(el) => {
                        let name = el.name();
                        if is_skipped(name) {
                            skipping = Some(node.id());
                        } else if let Some(kind) = block_kind(name) {
                            w.end_block(kind);
                        } else {
                            match name {
                                "a" => {
                                    let href = el.attr("href").and_then(|h| safe_href(h, w.base));
                                    if let Some(href) = href {
                                        let open = format!("<a href=\"{}\">", escape(&href));
                                        w.open_inline("a", open);
                                    }
                                }
                                "b" | "strong" => w.open_inline("b", "<b>".into()),
                                "i" | "em" => w.open_inline("i", "<i>".into()),
                                _ => {}
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
                    let name = el.name();
                    if block_kind(name).is_some() {
                        w.end_block(BlockKind::Paragraph);
                    } else {
                        match name {
                            "a" => w.close_inline("a"),
                            "b" | "strong" => w.close_inline("b"),
                            "i" | "em" => w.close_inline("i"),
                            _ => {}
                        }
                    }
                }
            }
        }
    }
    w.end_block(BlockKind::Paragraph);
    w.blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<html><head><title>Embassy</title><script>var x = 1;</script></head>
<body><div class="top"><p>7 December 2026</p><p>Moscow: 18:00</p><p>London: 15:00</p>
<p>Consular queries: +44 (0) 20 0000 0000</p></div>
<div class="main"><h2>PRESS RELEASES AND NEWS</h2>
<p>06.12.2026</p>
<h1>Embassy statement on the winter lantern fair</h1>
<p>The embassy <b>welcomes</b> visitors to the lantern fair in <a href="/fnapr/9001">Hyde Park</a>.</p>
<p onclick="evil()">Tea, <em>pastries</em> &amp; music <script>alert(1)</script>will be offered.</p>
<ul><li>Opening: 10:00</li><li>Closing: <a href="javascript:alert(1)">dusk</a></li></ul>
<h2>LATEST EVENTS</h2>
<p><a href="/fnapr/9000">05.12.2026 - Another release</a></p></div></body></html>"#;

    fn base() -> Url {
        Url::parse("https://www.example.org/fnapr/9002").unwrap()
    }

    #[test]
    fn the_embassy_layout_gives_the_paragraphs_after_the_title() {
        let title = "Embassy statement on the winter lantern fair";
        let body = extract_body(PAGE, &base(), title, None, 65_536).unwrap();
        let texts: Vec<&str> = body.blocks.iter().map(|b| b.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "The embassy welcomes visitors to the lantern fair in Hyde Park.",
                "Tea, pastries & music will be offered.",
                "Opening: 10:00",
                "Closing: dusk",
            ]
        );
        assert_eq!(
            body.blocks[0].html,
            "The embassy <b>welcomes</b> visitors to the lantern fair in <a href=\"https://www.example.org/fnapr/9001\">Hyde Park</a>."
        );
        assert_eq!(
            body.blocks[1].html,
            "Tea, <i>pastries</i> &amp; music will be offered."
        );
        assert_eq!(body.blocks[3].html, "Closing: dusk", "no javascript: link");
        let html = body.feed_html();
        assert!(html.starts_with("<p>The embassy"), "{html}");
        assert!(html.contains("<ul><li>Opening: 10:00</li><li>Closing: dusk</li></ul>"));
        for bad in ["script", "onclick", "alert", "javascript"] {
            assert!(!html.contains(bad), "{bad} in {html}");
        }
    }

    #[test]
    fn without_the_title_the_densest_paragraphs_are_the_body() {
        let long = "A sentence long enough to count as the text of a statement. ".repeat(5);
        let page = format!(
            "<body><nav><p>Home</p></nav><div><p>Short.</p></div><article><p>{long}</p><p>{long}</p></article></body>"
        );
        let body = extract_body(&page, &base(), "Not on the page", None, 65_536).unwrap();
        assert_eq!(body.blocks.len(), 2);
        assert!(extract_body("<p>tiny</p>", &base(), "x", None, 65_536).is_none());
    }

    #[test]
    fn a_selector_picks_the_body_and_the_cap_bounds_it() {
        let selector = Selector::parse("div.main").unwrap();
        let body = extract_body(PAGE, &base(), "", Some(&selector), 65_536).unwrap();
        assert_eq!(body.blocks[0].text, "PRESS RELEASES AND NEWS");
        assert_eq!(body.blocks[0].kind, BlockKind::Heading);
        let huge = format!("<body><div><p>{}</p></div></body>", "word ".repeat(100_000));
        let sel = Selector::parse("div").unwrap();
        let body = extract_body(&huge, &base(), "", Some(&sel), 1_000).unwrap();
        assert!(
            body.text().len() <= 1_000 + '…'.len_utf8(),
            "{}",
            body.text().len()
        );
        let many = format!(
            "<body><div>{}</div></body>",
            "<p>w</p>".repeat(3 * MAX_BLOCKS)
        );
        let body = extract_body(&many, &base(), "", Some(&sel), 65_536).unwrap();
        assert_eq!(body.blocks.len(), MAX_BLOCKS);
    }
}
