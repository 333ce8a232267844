//! Pure extraction of releases and contacts from a page's HTML.
//!
//! The real site's markup is unknown (our fixtures rebuild its text with invented
//! tags), so by default nothing here looks at class names. The page is flattened
//! into lines of text with the positions of its links ([`super::flat`]); a
//! release is a link whose path matches a configured pattern, and its lead is
//! the first paragraph after it. Its date, in this order of trust:
//!
//! 1. in the link text: `DD.MM.YYYY - Title`, `Title – DD.MM.YYYY`, a
//!    `<time datetime>` inside the link, or a link that is only a date
//!    (`Posted on September 3, 2019`, which then gives no title);
//! 2. on the link's own line: just before it (`<span>20.05.2022</span> - <a>`,
//!    with a dash or nothing between) or just after it (`<a>Title</a> (20.05.2022)`);
//! 3. on a line of its own (a date with a few words around it, or a
//!    `<time datetime>`) among the two lines before the link or the two after.
//!
//! Where links share a line (2) or the lines between two links hold one date
//! (3), the date could be either neighbour's: the side on which the page's links
//! find their dates more often wins, since a page lays out every release alike.
//! Links that say nothing ("here", "read more", "3 Comments") give no title; a
//! release needs one from some link.
//!
//! When an operator configures CSS selectors for a source,
//! [`extract_with_selectors`] uses them instead, with the same fallbacks inside
//! each selected item. Either way a read yields at most the source's
//! `max_items`, and every pass is linear in the page.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;
use url::Url;

use super::canonical::{canonical_id, may_link, without_tracking};
use super::date::{When, find_date};
use super::flat::{Flat, LinkSpan, flatten, flatten_node, lead_after, one_line, parse_document};
use super::{Contacts, Item, MAX_URL_LEN, Page, cut};
use crate::config::{Selectors, SourceConfig};

/// Extracts items (with `source`'s link patterns, time zone, tracking
/// parameters and item cap) and contacts. `base` is the page's URL: it
/// resolves relative links and tells which host names belong to the site.
pub fn extract_page(html: &str, base: &Url, source: &SourceConfig) -> Page {
    let flat = flatten(html);
    Page {
        items: extract_items(&flat, base, source),
        contacts: extract_contacts(&flat.text),
        notes: Vec::new(),
    }
}

// ---- items --------------------------------------------------------------------------------

/// A link that names a release.
struct Candidate<'a> {
    link: &'a LinkSpan,
    url: Url,
    id: String,
}

/// What one release link says about its release.
#[derive(Default)]
struct Found {
    title: String,
    /// From the link text itself: the surest.
    in_link: Option<When>,
    same_before: Option<When>,
    same_after: Option<When>,
    /// Another release link shares the link's line.
    shares_line: bool,
    own_before: Option<When>,
    own_after: Option<When>,
    lead: String,
}

/// The release links of the page in page order, up to the one that would be
/// the `max_items + 1`-th release.
fn candidates<'a>(flat: &'a Flat, base: &Url, source: &SourceConfig) -> Vec<Candidate<'a>> {
    let mut out = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for link in &flat.links {
        let Some(url) = release_url(&link.href, base, source) else {
            continue;
        };
        let path = url.path().trim_end_matches('/');
        if !source.link_patterns.iter().any(|p| p.is_match(path)) {
            continue;
        }
        let Some(id) = canonical_id(&url, &source.tracking_params) else {
            continue;
        };
        if !seen.contains(&id) {
            if seen.len() == source.max_items {
                break;
            }
            seen.insert(id.clone());
        }
        let url = without_tracking(&url, &source.tracking_params);
        out.push(Candidate { link, url, id });
    }
    out
}

/// `href` resolved against `base`, when it is a web link of a sane length
/// on a host the source may link to (its own site, or its `link_hosts`): a
/// release is the site's own, so a link elsewhere names none.
fn release_url(href: &str, base: &Url, source: &SourceConfig) -> Option<Url> {
    if href.len() > MAX_URL_LEN {
        return None;
    }
    let url = base.join(href.trim()).ok()?;
    (matches!(url.scheme(), "http" | "https")
        && url.as_str().len() <= MAX_URL_LEN
        && may_link(&url, base, &source.link_hosts))
    .then_some(url)
}

fn extract_items(flat: &Flat, base: &Url, source: &SourceConfig) -> Vec<Item> {
    let candidates = candidates(flat, base, source);
    let found: Vec<Found> = (0..candidates.len())
        .map(|k| {
            let window_start = k.checked_sub(1).map_or(0, |p| candidates[p].link.end);
            let window_end = candidates
                .get(k + 1)
                .map_or(flat.text.len(), |c| c.link.start);
            read_link(flat, candidates[k].link, window_start..window_end)
        })
        .collect();
    // The side on which this page's dates sit, for dates two links could claim.
    let count = |side: fn(&Found) -> bool| found.iter().filter(|f| side(f)).count();
    let same_after = count(|f| f.shares_line && f.same_after.is_some())
        > count(|f| f.shares_line && f.same_before.is_some());
    let own_after = count(|f| f.own_after.is_some()) > count(|f| f.own_before.is_some());

    let mut items: Vec<Item> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (candidate, f) in candidates.iter().zip(found) {
        let same_line = match (f.shares_line, same_after) {
            (false, _) => f.same_before.or(f.same_after),
            (true, false) => f.same_before,
            (true, true) => f.same_after,
        };
        let own_line = if own_after { f.own_after } else { f.own_before };
        let date = f.in_link.or(same_line).or(own_line);
        let item = Item {
            id: candidate.id.clone(),
            url: candidate.url.to_string(),
            title: f.title,
            date: date.map(|d| d.day_in(source.time_zone)),
            lead: f.lead,
        };
        merge_item(&mut items, &mut index, item);
    }
    items.retain(|item| !item.title.is_empty());
    items
}

/// Reads one release link whose neighbours' links end at `window.start` and
/// start at `window.end`.
fn read_link(flat: &Flat, link: &LinkSpan, window: Range<usize>) -> Found {
    let text = &flat.text;
    // Links never overlap in a parsed tree; should one ever, its window shrinks.
    let window = window.start.min(link.start)..window.end.max(link.end);
    let (title, in_link) = link_text(flat, link);
    // The link's line: from the line break before it (or the previous link)
    // to the line break after it (or the next link).
    let before = &text[window.start..link.start];
    let line_start = before.rfind('\n').map(|i| window.start + i + 1);
    let after = &text[link.end..window.end];
    let line_end = after.find('\n').map(|i| link.end + i);
    let same_start = line_start.unwrap_or(window.start);
    let same_end = line_end.unwrap_or(window.end);

    let own_before = line_start.and_then(|start| {
        lines_of(text, window.start..start)
            .rev()
            .take(2)
            .find_map(|line| date_of_line(flat, line))
    });
    let own_after = line_end.and_then(|end| {
        lines_of(text, end..window.end)
            .take(2)
            .find_map(|line| date_of_line(flat, line))
    });
    Found {
        title,
        in_link,
        same_before: date_ending(flat, same_start..link.start),
        same_after: date_starting(flat, link.end..same_end),
        shares_line: line_start.is_none() && window.start > 0
            || line_end.is_none() && window.end < text.len(),
        own_before,
        own_after,
        lead: lead_after(after),
    }
}

/// The non-empty lines within `range` of `text`, as ranges of `text`.
fn lines_of(text: &str, range: Range<usize>) -> impl DoubleEndedIterator<Item = Range<usize>> + '_ {
    let origin = text.as_ptr() as usize;
    text[range]
        .split('\n')
        .filter(|line| !line.trim().is_empty())
        .map(move |line| {
            let start = line.as_ptr() as usize - origin;
            start..start + line.len()
        })
}

/// Lines longer than this are paragraphs, not dates: not searched for one.
const MAX_DATE_LINE: usize = 160;

/// A line of its own that is a date: a `<time datetime>`, or a date with at
/// most three words before it ("Posted on", "Опубликовано:") and one after
/// ("Uhr"). A dated title ("01.01.2020 - Another release") is not a date line.
fn date_of_line(flat: &Flat, line: Range<usize>) -> Option<When> {
    if let Some(mark) = flat.mark_in(line.clone()) {
        return Some(mark.when);
    }
    date_line(&flat.text[line])
}

fn date_line(text: &str) -> Option<When> {
    if text.len() > MAX_DATE_LINE {
        return None;
    }
    let (when, span) = find_date(text)?;
    alone(text, &span).then_some(when)
}

/// Whether the date at `span` stands nearly alone in `text`: at most three
/// words before it and one after.
fn alone(text: &str, span: &Range<usize>) -> bool {
    let words = |part: &str| {
        part.split(|c: char| !c.is_alphanumeric())
            .filter(|word| !word.is_empty())
            .count()
    };
    words(&text[..span.start]) <= 3 && words(&text[span.end..]) <= 1
}

/// Separators between a date and a title: dashes, bars, bullets, colons.
fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '-' | '–' | '—' | '|' | '•' | '·' | ':' | '/')
}

/// A date ending `range` (separators may follow), or a `<time datetime>` in it.
fn date_ending(flat: &Flat, range: Range<usize>) -> Option<When> {
    if let Some(mark) = flat.mark_in(range.clone()) {
        return Some(mark.when);
    }
    let text = tail(&flat.text[range], MAX_DATE_LINE);
    date_at_end(text.trim_end_matches(is_separator)).map(|(when, _)| when)
}

/// A date starting `range` (after separators or an opening bracket), or a
/// `<time datetime>` in it.
fn date_starting(flat: &Flat, range: Range<usize>) -> Option<When> {
    if let Some(mark) = flat.mark_in(range.clone()) {
        return Some(mark.when);
    }
    let text = head(&flat.text[range], MAX_DATE_LINE);
    let text = text.trim_start_matches(|c| is_separator(c) || matches!(c, '(' | '[' | ','));
    find_date(text)
        .filter(|(_, span)| span.start == 0)
        .map(|(when, _)| when)
}

/// The last date in `text` when nothing but closing brackets, full stops and
/// spaces follow it; with where it starts.
fn date_at_end(text: &str) -> Option<(When, usize)> {
    let mut from = 0;
    while let Some((when, span)) = find_date(&text[from..]) {
        let (start, end) = (from + span.start, from + span.end);
        if text[end..]
            .trim_matches(|c: char| c.is_whitespace() || matches!(c, ')' | ']' | '.'))
            .is_empty()
        {
            return Some((when, start));
        }
        from = end;
    }
    None
}

/// At most the last `max` bytes of `text`, cut at a character boundary.
fn tail(text: &str, max: usize) -> &str {
    let mut at = text.len().saturating_sub(max);
    while !text.is_char_boundary(at) {
        at += 1;
    }
    &text[at..]
}

/// At most the first `max` bytes of `text`, cut at a character boundary.
fn head(text: &str, max: usize) -> &str {
    let mut at = text.len().min(max);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    &text[..at]
}

/// The title and date a link's own text gives.
fn link_text(flat: &Flat, link: &LinkSpan) -> (String, Option<When>) {
    if let Some(mark) = flat.mark_in(link.start..link.end) {
        // `<a><time datetime="…">20 May</time> Title</a>`: the title is the rest.
        let outside = format!(
            "{} {}",
            &flat.text[link.start..mark.span.start],
            &flat.text[mark.span.end.min(link.end)..link.end]
        );
        let title = one_line(&outside);
        let title = title.trim_matches(is_separator);
        return (tidy_title(title), Some(mark.when));
    }
    let (title, date) = split_dated_title(&one_line(&flat.text[link.start..link.end]));
    (tidy_title(&title), date)
}

/// Splits the date off a link text: "DD.MM.YYYY - Title", "Title – DD.MM.YYYY",
/// "Title (DD.MM.YYYY)", or a text that is only a date (no title then). Any
/// other text is all title, even when it mentions a date.
fn split_dated_title(text: &str) -> (String, Option<When>) {
    let Some((first, span)) = find_date(text) else {
        return (text.to_string(), None);
    };
    if span.start == 0 {
        let rest = text[span.end..].trim_start();
        if rest.is_empty() {
            return (String::new(), Some(first));
        }
        if rest.starts_with(['-', '–', '—', '|', ':']) {
            return (
                rest.trim_start_matches(is_separator).to_string(),
                Some(first),
            );
        }
    }
    let end = tail(text, MAX_DATE_LINE);
    if let Some((when, start)) = date_at_end(end) {
        let title = text[..text.len() - end.len() + start].trim_end();
        if let Some(title) = title.strip_suffix(['-', '–', '—', '|', '(', '[']) {
            return (title.trim_end_matches(is_separator).to_string(), Some(when));
        }
    }
    if text.len() <= MAX_DATE_LINE && alone(text, &span) {
        return (String::new(), Some(first));
    }
    (text.to_string(), None)
}

/// Link texts that name no release: "read more" links, comment counts.
static SAYS_NOTHING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(?:here|click here|more|read more|read on|continue reading|full story|details|\d*\s*comments?|mehr|weiterlesen|plus|lire la suite|leggi tutto|leer más|leia mais|подробнее|далее|читать далее|читать полностью|ещё|еще)$",
    )
    .expect("valid regex")
});

/// A link text as a title: empty when it says nothing about the release.
fn tidy_title(text: &str) -> String {
    let core = text.trim_matches(|c: char| !c.is_alphanumeric());
    if core.is_empty() || core.len() < 40 && SAYS_NOTHING.is_match(core) {
        String::new()
    } else {
        text.to_string()
    }
}

/// Adds a release, or fills the gaps of one already seen under the same id
/// (the same release linked twice: title and "read more"). Titles and leads
/// are cut to [`super::MAX_TEXT_CHARS`].
fn merge_item(items: &mut Vec<Item>, index: &mut HashMap<String, usize>, new: Item) {
    match index.get(&new.id) {
        Some(&i) => {
            let item = &mut items[i];
            if item.title.is_empty() {
                item.title = cut(new.title);
            }
            if item.date.is_none() {
                item.date = new.date;
            }
            if item.lead.is_empty() {
                item.lead = cut(new.lead);
            }
        }
        None => {
            index.insert(new.id.clone(), items.len());
            items.push(Item {
                title: cut(new.title),
                lead: cut(new.lead),
                ..new
            });
        }
    }
}

// ---- selectors ----------------------------------------------------------------------------

/// Extracts items with an operator's CSS selectors, and contacts as usual. Link
/// patterns do not apply: the selectors already say what a release is; but, as
/// without selectors, an item whose link leaves the site (and the source's
/// `link_hosts`) is none, since its link and key would be another site's. Each
/// missing part falls back to the heuristics used without selectors. At most
/// `max_items` matches are looked at: nested matches on a hostile page would
/// otherwise cost quadratic time.
pub fn extract_with_selectors(
    html: &str,
    base: &Url,
    selectors: &Selectors,
    source: &SourceConfig,
) -> Page {
    let doc = parse_document(html);
    let contacts = extract_contacts(&flatten_node(doc.tree.root()).text);
    let any_link = scraper::Selector::parse("a[href]").expect("valid selector");
    let mut items = Vec::new();
    let mut index = HashMap::new();
    for element in doc.select(&selectors.item).take(source.max_items) {
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
        let Some(url) = release_url(href, base, source) else {
            continue;
        };
        let Some(id) = canonical_id(&url, &source.tracking_params) else {
            continue;
        };
        let flat = flatten_node(*element);
        let text_of = |sel: &Option<scraper::Selector>| {
            sel.as_ref()
                .and_then(|s| element.select(s).next())
                .map(|e| flatten_node(*e))
        };
        let (title, title_date) = match text_of(&selectors.title) {
            Some(title) => split_dated_title(&one_line(&title.text)),
            None => {
                let own = flatten_node(*link);
                match own.links.first() {
                    Some(span) => link_text(&own, span),
                    None => split_dated_title(&one_line(&own.text)),
                }
            }
        };
        let date = match text_of(&selectors.date) {
            Some(date) => first_date(&date),
            None => title_date.or_else(|| first_date(&flat)),
        };
        let lead = text_of(&selectors.lead)
            .map(|lead| one_line(&lead.text))
            .unwrap_or_else(|| {
                flat.links
                    .iter()
                    .find(|l| l.href == href)
                    .map(|l| lead_after(&flat.text[l.end..]))
                    .unwrap_or_default()
            });
        let item = Item {
            id,
            url: without_tracking(&url, &source.tracking_params).to_string(),
            title: tidy_title(&title),
            date: date.map(|d| d.day_in(source.time_zone)),
            lead,
        };
        merge_item(&mut items, &mut index, item);
    }
    items.retain(|item| !item.title.is_empty());
    Page {
        items,
        contacts,
        notes: Vec::new(),
    }
}

/// The first `<time datetime>` of a flattened element, else the first date in its text.
fn first_date(flat: &Flat) -> Option<When> {
    flat.marks
        .first()
        .map(|mark| mark.when)
        .or_else(|| find_date(&flat.text).map(|(when, _)| when))
}

// ---- contacts -----------------------------------------------------------------------------

/// The header label the contacts follow, in any letter case.
static CONSULAR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)consular\s+queries").expect("valid regex"));
static PHONE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\+?\d[\d ()\-]{6,}\d").expect("valid regex"));
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}").expect("valid regex")
});

/// Phone and e-mail that follow the "Consular queries" label in the header.
fn extract_contacts(text: &str) -> Contacts {
    let Some(label) = CONSULAR.find(text) else {
        return Contacts::default();
    };
    let window: String = text[label.start()..].chars().take(300).collect();
    Contacts {
        phone: PHONE.find(&window).map(|m| m.as_str().trim().to_string()),
        email: EMAIL.find(&window).map(|m| m.as_str().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn source() -> SourceConfig {
        crate::config::Config::default().sources.remove(0)
    }

    fn base() -> Url {
        Url::parse("https://www.rusemb.org.uk/").unwrap()
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
        let page = extract_page(html, &base(), &source());
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
    fn selected_items_linking_off_the_site_are_none_unless_the_host_is_listed() {
        let html = r#"<body>
            <div class="n"><a href="/news/1">On the site</a></div>
            <div class="n"><a href="https://m.news.example/news/2">On its m. twin</a></div>
            <div class="n"><a href="https://www.rusemb.org.uk/fnapr/7160">The embassy's release</a></div>
            <div class="n"><a href="https://tracker.example/3">A third party</a></div>
        </body>"#;
        let read = |extra: &str| {
            let config = crate::config::Config::from_toml(&format!(
                "[[sources]]\nurl = \"https://www.news.example/\"\n{extra}[sources.selectors]\nitem = \".n\"\n"
            ))
            .unwrap();
            let source = &config.sources[0];
            let selectors = source.selectors.as_ref().unwrap();
            extract_with_selectors(html, &source.url, selectors, source)
                .items
                .into_iter()
                .map(|i| i.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(read(""), ["news.example/news/1", "news.example/news/2"]);
        assert_eq!(
            read("link_hosts = [\"TRACKER.example\"]\n"),
            [
                "news.example/news/1",
                "news.example/news/2",
                "tracker.example/3"
            ]
        );
    }

    #[test]
    fn link_texts_that_are_dates_or_say_nothing_give_no_title() {
        for (text, title, dated) in [
            ("20.05.2022 - Title", "Title", true),
            ("Title – 20.05.2022", "Title", true),
            ("Title (21 May 2022)", "Title", true),
            ("Posted on September 3, 2019 at 6:09 AM", "", true),
            (
                "Answer to a question, Moscow, January 27, 2022",
                "Answer to a question, Moscow, January 27, 2022",
                false,
            ),
            (
                "21 May 2022 marks an anniversary",
                "21 May 2022 marks an anniversary",
                false,
            ),
        ] {
            let (got, date) = split_dated_title(text);
            assert_eq!((got.as_str(), date.is_some()), (title, dated), "{text}");
        }
        for text in [
            "here",
            "Read more »",
            "mehr...",
            "3 Comments",
            "Подробнее",
            "…",
        ] {
            assert_eq!(tidy_title(text), "", "{text}");
        }
        assert_eq!(tidy_title("Here and now"), "Here and now");
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
            let page = extract_page(input, &base(), &source());
            assert!(page.items.len() <= 1);
            assert!(page.contacts.is_empty());
        }
        let deep = "<div>".repeat(5000) + "<a href='/fnapr/3'>03.03.2021 - Deep</a>";
        let page = extract_page(&deep, &base(), &source());
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
