//! A page (or a feed's HTML fragment) as lines of plain text, with where each
//! link and each `<time datetime>` sits in that text: what extraction reads.
//!
//! Hostile pages must not hurt: nesting is bounded before parsing
//! ([`tame_nesting`]), the tree is walked iteratively (no recursion, so 100 000
//! nested tags cannot overflow the stack), and every pass is linear in the page.

use std::ops::Range;

use ego_tree::iter::Edge;
use scraper::{Html, Node};

use super::cfemail;
use super::date::{When, parse_date};

pub(super) fn plain_text(fragment: &str) -> String {
    let doc = parse_fragment(fragment);
    one_line(&flatten_node(doc.tree.root()).text)
}

/// The first paragraph-like line of an HTML fragment (a feed entry's summary).
pub(super) fn first_paragraph(fragment: &str) -> String {
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
pub(super) struct Flat {
    pub text: String,
    /// In text order.
    pub links: Vec<LinkSpan>,
    /// `<time>` elements whose `datetime` reads as a date, in text order.
    pub marks: Vec<DateMark>,
}

/// Where a link's text is in [`Flat::text`], and its `href` as written.
pub(super) struct LinkSpan {
    pub start: usize,
    pub end: usize,
    pub href: String,
}

/// A `<time datetime>` element: its text's place and the date its attribute says.
pub(super) struct DateMark {
    pub span: Range<usize>,
    pub when: When,
}

impl Flat {
    /// The date of the first `<time datetime>` whose text starts in `range`.
    pub(super) fn mark_in(&self, range: Range<usize>) -> Option<&DateMark> {
        let first = self.marks.partition_point(|m| m.span.start < range.start);
        self.marks.get(first).filter(|m| m.span.start < range.end)
    }
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
    /// Appends `s` with its runs of whitespace made one space (none at the start
    /// of a line). Word by word: this runs over every character of the page.
    fn push_text(&mut self, s: &str) {
        let mut rest = s;
        loop {
            let word = rest.trim_start();
            if word.len() != rest.len() {
                self.pending_space = true;
            }
            if word.is_empty() {
                return;
            }
            let end = word.find(char::is_whitespace).unwrap_or(word.len());
            if self.pending_space && !self.text.is_empty() && !self.text.ends_with('\n') {
                self.text.push(' ');
            }
            self.pending_space = false;
            self.text.push_str(&word[..end]);
            rest = &word[end..];
        }
    }

    fn push_break(&mut self) {
        self.pending_space = false;
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            self.text.push('\n');
        }
    }
}

pub(super) fn flatten(html: &str) -> Flat {
    let doc = parse_document(html);
    flatten_node(doc.tree.root())
}

// ---- parsing with bounded nesting ----------------------------------------------------------

/// Nesting deeper than this is flattened before parsing. Real pages nest a few
/// dozen levels; html5ever scans its stack of open elements for many start tags
/// (every `<div>` looks for an open `<p>`), so 100 000 nested blocks cost
/// quadratic time — minutes — unless the depth is bounded first.
pub(super) const MAX_NESTING: usize = 256;

/// Parses a document after [`tame_nesting`].
pub(super) fn parse_document(html: &str) -> Html {
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
pub(super) fn tame_nesting(html: &str) -> std::borrow::Cow<'_, str> {
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
pub(super) fn flatten_node(root: ego_tree::NodeRef<'_, Node>) -> Flat {
    let mut out = Builder {
        text: String::new(),
        pending_space: false,
    };
    let mut links = Vec::new();
    let mut open_links: Vec<(ego_tree::NodeId, usize, String)> = Vec::new();
    let mut marks = Vec::new();
    let mut open_marks: Vec<(ego_tree::NodeId, usize, When)> = Vec::new();
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
                        if name == "a"
                            && let Some(href) = el.attr("href")
                        {
                            open_links.push((node.id(), out.text.len(), href.to_string()));
                        }
                        if name == "time"
                            && let Some(when) = el.attr("datetime").and_then(parse_date)
                        {
                            open_marks.push((node.id(), out.text.len(), when));
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
                    if el.name() == "a"
                        && let Some(pos) =
                            open_links.iter().rposition(|(id, _, _)| *id == node.id())
                    {
                        let (_, start, href) = open_links.remove(pos);
                        links.push(LinkSpan {
                            start,
                            end: out.text.len(),
                            href,
                        });
                    }
                    if el.name() == "time"
                        && open_marks.last().is_some_and(|(id, _, _)| *id == node.id())
                        && let Some((_, start, when)) = open_marks.pop()
                    {
                        marks.push(DateMark {
                            span: start..out.text.len(),
                            when,
                        });
                    }
                    if is_block(el.name()) {
                        out.push_break();
                    }
                }
            }
        }
    }
    links.sort_by_key(|l| l.start);
    marks.sort_by_key(|m| m.span.start);
    Flat {
        text: out.text,
        links,
        marks,
    }
}

/// `s` on one line, its runs of whitespace made single spaces.
pub(super) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first line after a link that reads like a paragraph rather than a heading.
pub(super) fn lead_after(after: &str) -> String {
    after
        .lines()
        .map(str::trim)
        .find(|line| {
            let letters = line.chars().filter(|c| c.is_alphabetic()).take(20).count();
            letters >= 20 && line.chars().any(char::is_lowercase) && parse_date(line).is_none()
        })
        .unwrap_or("")
        .to_string()
}
