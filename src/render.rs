//! Releases as Telegram messages: a push, a block in a list, a digest, and
//! lists fitted to Telegram's limit (see [`crate::text::markup`] for the
//! escaping and counting underneath).

use std::collections::HashMap;
use std::ops::Range;

use crate::config::Config;
use crate::config::Language;
use crate::source::Item;
use crate::source::body::Body;
use crate::text::markup::{MAX_MESSAGE_UTF16, escape, shorten, utf16_len};
use crate::tr;

/// One release as a block of HTML: bold title, date, lead shortened to
/// `lead_chars`, link (its words in `lang`). Used by `/latest`, `/search`
/// and digests.
pub(crate) fn item_block(item: &Item, lead_chars: usize, lang: Language) -> String {
    let mut out = format!("<b>{}</b>", escape(&shorten(&item.title, 600)));
    if let Some(date) = item.date {
        out.push_str(&format!("\n<i>{}</i>", date.format("%d.%m.%Y")));
    }
    let lead = shorten(&item.lead, lead_chars);
    if !lead.is_empty() {
        out.push('\n');
        out.push_str(&escape(&lead));
    }
    out.push_str(&format!(
        "\n<a href=\"{}\">{}</a>",
        escape(&item.url),
        tr!(lang, "read-on-site")
    ));
    out
}

/// The message pushed to subscribers for a new release, laid out like news:
/// the title in bold as the link, the date and `source` (see
/// [`SourceLabels::describe`]), then the lead. Telegram's preview card, when
/// on, shows the one link: the release's page. It has no words of its own
/// (the site's text is never translated), so every language gets the same.
pub fn push_message(item: &Item, source: &str) -> String {
    let title = if item.title.trim().is_empty() {
        &item.url
    } else {
        &item.title
    };
    let mut out = format!(
        "🆕 <a href=\"{}\"><b>{}</b></a>",
        escape(&item.url),
        escape(&shorten(title, 600))
    );
    let mut byline = Vec::new();
    if let Some(date) = item.date {
        byline.push(format!("<i>{}</i>", date.format("%d.%m.%Y")));
    }
    if !source.is_empty() {
        byline.push(escape(source));
    }
    if !byline.is_empty() {
        out.push('\n');
        out.push_str(&byline.join(" · "));
    }
    let lead = shorten(&item.lead, 1200);
    if !lead.is_empty() {
        out.push_str("\n\n");
        out.push_str(&escape(&lead));
    }
    out
}

/// What a "Full text" button under a release asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FullTextView {
    /// The full text, in place of the push (`f1:<seq>`).
    Full,
    /// The push as it was, title and lead (`f1:<seq>:s`).
    Short,
    /// The full text as new messages, under a list (`f1:<seq>:n`).
    Apart,
}

/// A "Full text" button's data for release `seq` (at most 25 bytes; the
/// commands' paging reads it back).
pub(crate) fn full_text_data(seq: u64, view: FullTextView) -> String {
    match view {
        FullTextView::Full => format!("f1:{seq}"),
        FullTextView::Short => format!("f1:{seq}:s"),
        FullTextView::Apart => format!("f1:{seq}:n"),
    }
}

/// Most messages one full text takes; a longer one ends with "…" (its
/// title is the link to the whole page).
pub(crate) const MAX_FULL_TEXT_MESSAGES: usize = 8;

/// A release's full text as Telegram messages: the push's title, date and
/// `source`, then the body's blocks, packed whole into as few messages as
/// Telegram's 4,096 UTF-16 units allow, at most [`MAX_FULL_TEXT_MESSAGES`].
pub(crate) fn full_text_messages(item: &Item, source: &str, body: &Body) -> Vec<String> {
    let header = push_message(
        &Item {
            lead: String::new(),
            ..item.clone()
        },
        source,
    );
    let mut blocks = vec![header];
    blocks.extend(body.telegram_blocks());
    // Room for the "…" of a cut text.
    let parts = crate::text::markup::pack(&blocks, MAX_MESSAGE_UTF16 - 8, usize::MAX);
    let cut = parts.len() > MAX_FULL_TEXT_MESSAGES;
    let mut out: Vec<String> = parts
        .into_iter()
        .take(MAX_FULL_TEXT_MESSAGES)
        .map(|range| blocks[range].join("\n\n"))
        .collect();
    if cut && let Some(last) = out.last_mut() {
        last.push_str("\n\n…");
    }
    out
}

/// How messages name a release's sources for people: each source's `label`
/// by its name.
#[derive(Debug, Clone, Default)]
pub struct SourceLabels(HashMap<String, String>);

impl SourceLabels {
    /// The configured sources' labels.
    pub fn from_config(config: &Config) -> SourceLabels {
        SourceLabels(
            config
                .sources
                .iter()
                .map(|s| (s.name.clone(), s.label.clone()))
                .collect(),
        )
    }

    /// The labels of `sources`, each once, in order, joined by ", "; a source
    /// no longer configured shows its name.
    pub fn describe<'a>(&'a self, sources: impl IntoIterator<Item = &'a str>) -> String {
        let mut labels: Vec<&str> = Vec::new();
        for name in sources {
            let label = self.0.get(name).map_or(name, String::as_str);
            if !labels.contains(&label) {
                labels.push(label);
            }
        }
        labels.join(", ")
    }
}

/// How much of a release's lead a digest shows (a push shows up to 1,200 characters).
pub(crate) const DIGEST_LEAD_CHARS: usize = 300;

/// Why several releases come in one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DigestKind {
    /// The chat's daily digest (`/digest`).
    Daily,
    /// Releases held during the chat's quiet hours (`/quiet`).
    Quiet,
}

/// The first line of a digest message, in `lang`.
fn digest_header(
    kind: DigestKind,
    releases: usize,
    part: usize,
    parts: usize,
    lang: Language,
) -> String {
    let mut header = match kind {
        DigestKind::Daily => tr!(lang, "digest-daily-header", count = releases),
        DigestKind::Quiet => tr!(lang, "digest-quiet-header", count = releases),
    };
    if parts > 1 {
        header.push_str(&format!(" ({part}/{parts})"));
    }
    header
}

/// Releases that waited, oldest first, in as few messages as Telegram's limit
/// allows: `blocks` (one [`item_block`] per release, in order) packed under
/// a header, each message with the range of blocks it holds. Never more
/// messages than releases; a block too long for any message goes alone (and
/// delivery's plain-text fallback shortens it). The header is in `lang`, the
/// blocks as given (rendered in the same language).
pub(crate) fn digest(
    kind: DigestKind,
    blocks: &[String],
    lang: Language,
) -> Vec<(String, Range<usize>)> {
    let n = blocks.len();
    // Room for the longest header any part can have.
    let budget = MAX_MESSAGE_UTF16.saturating_sub(utf16_len(&digest_header(kind, n, n, n, lang)));
    let mut ranges: Vec<Range<usize>> = Vec::new();
    let mut used = 0;
    for (i, block) in blocks.iter().enumerate() {
        let len = 2 + utf16_len(block); // "\n\n" before it
        match ranges.last_mut() {
            Some(range) if used + len <= budget => {
                range.end = i + 1;
                used += len;
            }
            _ => {
                ranges.push(i..i + 1);
                used = len;
            }
        }
    }
    let parts = ranges.len();
    ranges
        .into_iter()
        .enumerate()
        .map(|(part, range)| {
            let text = digest_part(kind, n, (part + 1, parts), &blocks[range.clone()], lang);
            (text, range)
        })
        .collect()
}

/// One message of a digest of `total` releases: part `part.0` of `part.1`,
/// holding `blocks`. A message edited for a revised release is written
/// again with this, as it was first laid out.
pub(crate) fn digest_part(
    kind: DigestKind,
    total: usize,
    part: (usize, usize),
    blocks: &[String],
    lang: Language,
) -> String {
    let mut text = digest_header(kind, total, part.0, part.1, lang);
    for block in blocks {
        text.push_str("\n\n");
        text.push_str(block);
    }
    text
}

/// Joins blocks under a header, shortening leads (and at worst dropping the
/// oldest blocks) until the message fits Telegram's limit.
pub(crate) fn fit_list(header: &str, items: &[Item], lang: Language) -> String {
    fit_list_counted(header, items, lang).0
}

/// [`fit_list`], and how many blocks the text holds (a page button goes on
/// from there).
pub(crate) fn fit_list_counted(header: &str, items: &[Item], lang: Language) -> (String, usize) {
    let (text, shown) = fit_blocks(header, items, 0, lang);
    if shown == items.len() {
        return (text, shown);
    }
    let note = |shown: usize| {
        format!(
            "\n\n{}",
            tr!(lang, "more-not-shown", count = items.len() - shown)
        )
    };
    let (text, shown) = fit_blocks(header, items, utf16_len(&note(0)), lang);
    (text + &note(shown), shown)
}

/// Blocks under a header, leads shortened (and at worst the last blocks
/// dropped) until the text leaves `reserve` UTF-16 units of Telegram's limit
/// free for a line the caller adds; the text and how many blocks it holds
/// (at least one, if there is any).
pub(crate) fn fit_blocks(
    header: &str,
    items: &[Item],
    reserve: usize,
    lang: Language,
) -> (String, usize) {
    let limit = MAX_MESSAGE_UTF16.saturating_sub(reserve);
    for lead_chars in [300, 160, 80, 0] {
        let text = join_blocks(header, items, lead_chars, lang);
        if utf16_len(&text) <= limit {
            return (text, items.len());
        }
    }
    let mut shown = items.len();
    while shown > 1 {
        shown -= 1;
        let text = join_blocks(header, &items[..shown], 0, lang);
        if utf16_len(&text) <= limit {
            return (text, shown);
        }
    }
    let shown = shown.min(1);
    (join_blocks(header, &items[..shown], 0, lang), shown)
}

fn join_blocks(header: &str, items: &[Item], lead_chars: usize, lang: Language) -> String {
    let mut text = header.to_string();
    for item in items {
        text.push_str("\n\n");
        text.push_str(&item_block(item, lead_chars, lang));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::body::{Block, BlockKind};
    use crate::text::markup::utf16_len;

    #[test]
    fn a_full_text_fills_messages_whole_blocks_at_a_time_and_is_bounded() {
        let item = Item {
            id: "x".into(),
            url: "https://www.rusemb.org.uk/fnapr/1".into(),
            title: "Title".into(),
            date: None,
            lead: "The lead".into(),
        };
        let paragraph = |n: usize| Block {
            kind: BlockKind::Paragraph,
            html: format!("Paragraph {n} {}", "ж".repeat(900)),
            text: String::new(),
        };
        let short = Body {
            blocks: (0..2).map(paragraph).collect(),
        };
        let one = full_text_messages(&item, "Press", &short);
        assert_eq!(one.len(), 1);
        assert!(one[0].contains("<b>Title</b>") && !one[0].contains("The lead"));
        let long = Body {
            blocks: (0..100).map(paragraph).collect(),
        };
        let many = full_text_messages(&item, "Press", &long);
        assert_eq!(many.len(), MAX_FULL_TEXT_MESSAGES);
        assert!(many.iter().all(|m| utf16_len(m) <= MAX_MESSAGE_UTF16));
        assert!(many[1].starts_with("Paragraph"), "whole blocks");
        assert!(many.last().unwrap().ends_with('…'));
    }

    #[test]
    fn long_lists_fit() {
        let item = Item {
            id: "x".into(),
            url: "https://www.rusemb.org.uk/fnapr/1".into(),
            title: "T & <t> ".repeat(100),
            date: None,
            lead: "L ".repeat(2000),
        };
        let text = fit_list("Header", &vec![item; 20], Language::En);
        assert!(
            utf16_len(&text) <= MAX_MESSAGE_UTF16,
            "{}",
            utf16_len(&text)
        );
        assert!(text.starts_with("Header"));
    }

    #[test]
    fn digests_split_at_the_limit_in_order_and_never_exceed_their_releases() {
        let item = |n: usize, lead: usize| Item {
            id: format!("x/{n}"),
            url: format!("https://www.rusemb.org.uk/fnapr/{n}"),
            title: format!("Release {n} «Визы»"),
            date: None,
            lead: "слово ".repeat(lead),
        };
        let blocks: Vec<String> = (0..40)
            .map(|n| item_block(&item(n, 100), DIGEST_LEAD_CHARS, Language::En))
            .collect();
        let parts = digest(DigestKind::Daily, &blocks, Language::En);
        assert!(
            parts.len() > 1 && parts.len() < blocks.len(),
            "{}",
            parts.len()
        );
        let mut next = 0;
        for (i, (text, range)) in parts.iter().enumerate() {
            assert!(utf16_len(text) <= MAX_MESSAGE_UTF16, "{}", utf16_len(text));
            assert_eq!(range.start, next, "in order, nothing skipped");
            next = range.end;
            assert!(text.starts_with(&format!(
                "🗞 Daily digest: 40 new releases ({}/{})",
                i + 1,
                parts.len()
            )));
            for n in range.clone() {
                assert!(text.contains(&format!("Release {n} ")), "{n}");
            }
        }
        assert_eq!(next, blocks.len());
        // Few releases: one message, no part numbers.
        let two = digest(DigestKind::Quiet, &blocks[..2], Language::En);
        assert_eq!(two.len(), 1);
        assert!(
            two[0]
                .0
                .starts_with("🗞 During the quiet hours: 2 new releases\n\n")
        );
        // A block that fits nowhere still goes, alone.
        let huge = vec!["x".repeat(5_000), "y".into(), "z".repeat(5_000)];
        let alone = digest(DigestKind::Daily, &huge, Language::En);
        assert_eq!(
            alone.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>(),
            vec![0..1, 1..2, 2..3]
        );
        assert!(digest(DigestKind::Daily, &[], Language::En).is_empty());
        let ru = digest(DigestKind::Quiet, &blocks[..21], Language::Ru);
        assert!(
            ru[0].0.starts_with("🗞 За тихие часы: 21 новая публикация"),
            "{}",
            ru[0].0
        );
    }
}
