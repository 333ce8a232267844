//! Telegram's HTML and its length limit: escaping, shortening, counting as
//! Telegram counts (UTF-16 units), and reading our HTML back as plain text.
//!
//! Every reply uses Telegram's HTML parse mode, so all site text passes through
//! [`escape`]. Pure; below everything that writes a message.

use std::ops::Range;

/// Telegram's limit on one message's text.
pub const MAX_MESSAGE_UTF16: usize = 4096;

/// Titles and leads are cut (at a word, with "…") to this many characters: a
/// page cannot make a message, or a stored item, arbitrarily large.
pub const MAX_TEXT_CHARS: usize = 1_000;

/// Escapes text for Telegram HTML (text and attribute values alike).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// Length as Telegram counts it.
pub fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Cuts `text` to at most `max_chars` characters, at a word boundary when one
/// is near, ending with "…" when anything was cut.
pub fn shorten(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    if max_chars == 0 {
        return String::new();
    }
    let cut: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    let at_word = match cut.rfind(' ') {
        Some(pos) if pos > cut.len() / 2 => &cut[..pos],
        _ => cut.as_str(),
    };
    format!(
        "{}…",
        at_word.trim_end_matches([' ', ',', ';', ':', '-', '–'])
    )
}

/// Telegram HTML that fits one message: at most [`MAX_MESSAGE_UTF16`]
/// units, counted on the markup itself (Telegram counts only what it shows,
/// so this errs on the safe side). Every reply and every edit is one of
/// these on its way out, so none can be refused as too long: whatever
/// builds a reply should fit it on purpose (pages, parts), and a text that
/// still does not fit is cut visibly here rather than lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MessageText(String);

impl MessageText {
    /// `html`, or, if it is too long, as much of it as fits, ending with
    /// "…" and its open tags closed ([`cut_html`]); a cut is logged, since
    /// it means a reply was built too long.
    pub(crate) fn fit(html: String) -> MessageText {
        if utf16_len(&html) <= MAX_MESSAGE_UTF16 {
            return MessageText(html);
        }
        tracing::warn!(
            units = utf16_len(&html),
            max = MAX_MESSAGE_UTF16,
            "a reply was too long for one message and was cut"
        );
        MessageText(cut_html(&html, MAX_MESSAGE_UTF16))
    }

    pub(crate) fn into_string(self) -> String {
        self.0
    }
}

/// As much of `html` (our Telegram HTML) as fits in `max` UTF-16 units with
/// a closing "…" and the tags still open closed after it; `html` itself if
/// it fits. Tags and entities are never split, so the result parses as the
/// whole did. `max` below 1 gives "".
pub(crate) fn cut_html(html: &str, max: usize) -> String {
    if utf16_len(html) <= max {
        return html.to_string();
    }
    if max == 0 {
        return String::new();
    }
    const ELLIPSIS: usize = 1;
    let mut out = String::with_capacity(html.len().min(max * 4));
    let mut used = 0;
    // Names of the open tags, innermost last, and what closing them takes.
    let mut open: Vec<&str> = Vec::new();
    let mut closing = 0;
    let mut rest = html;
    while let Some(first) = rest.chars().next() {
        let token = match first {
            '<' => match rest.find('>') {
                Some(end) => &rest[..=end],
                None => break, // not our markup: stop before it
            },
            '&' => match rest.find(';') {
                Some(end) if end <= 10 => &rest[..=end],
                _ => &rest[..1],
            },
            c => &rest[..c.len_utf8()],
        };
        let len = utf16_len(token);
        if let Some(name) = token.strip_prefix("</") {
            let name = name.trim_end_matches('>').trim();
            if open.last() == Some(&name) {
                // Closing it here costs what closing it later would have.
                open.pop();
                closing -= len;
            } else if used + len + closing + ELLIPSIS > max {
                break;
            }
        } else if let Some(tag) = token.strip_prefix('<') {
            let name = tag
                .trim_end_matches('>')
                .split(|c: char| c.is_whitespace())
                .next()
                .unwrap_or("");
            let close = utf16_len(name) + 3; // "</name>"
            if used + len + closing + close + ELLIPSIS > max {
                break;
            }
            open.push(name);
            closing += close;
        } else if used + len + closing + ELLIPSIS > max {
            break;
        }
        out.push_str(token);
        used += len;
        rest = &rest[token.len()..];
    }
    out.push('…');
    for name in open.iter().rev() {
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    }
    out
}

/// Blocks of text in as few messages as `room` UTF-16 units each allow,
/// each message holding at most `most` blocks, joined by a blank line
/// ("\n\n", counted): the range of blocks each message holds, in order,
/// every block once. A block longer than `room` goes alone (and is cut
/// when sent, see [`MessageText`]). No blocks, no messages.
pub(crate) fn pack<S: AsRef<str>>(blocks: &[S], room: usize, most: usize) -> Vec<Range<usize>> {
    let mut parts: Vec<Range<usize>> = Vec::new();
    let mut used = 0;
    for (i, block) in blocks.iter().enumerate() {
        let len = utf16_len(block.as_ref());
        match parts.last_mut() {
            Some(part) if part.len() < most && used + 2 + len <= room => {
                part.end = i + 1;
                used += 2 + len;
            }
            _ => {
                parts.push(i..i + 1);
                used = len;
            }
        }
    }
    parts
}

/// Blocks joined by blank lines into as few messages as Telegram's limit
/// allows ([`pack`]): a long report sent as several messages, each block
/// whole in one of them.
pub(crate) fn in_messages<S: AsRef<str>>(blocks: &[S]) -> Vec<String> {
    pack(blocks, MAX_MESSAGE_UTF16, usize::MAX)
        .into_iter()
        .map(|range| {
            let texts: Vec<&str> = blocks[range].iter().map(AsRef::as_ref).collect();
            texts.join("\n\n")
        })
        .collect()
}

/// What Telegram shows for our HTML: tags dropped (a link's address follows its
/// text in parentheses), entities decoded. For terminals (`preview`) and tests.
pub fn to_plain(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    let mut open_link: Option<&str> = None;
    while let Some(open) = rest.find('<') {
        out.push_str(&unescape(&rest[..open]));
        let Some(len) = rest[open..].find('>') else {
            rest = &rest[open..];
            break;
        };
        let tag = &rest[open + 1..open + len];
        if let Some(href) = tag
            .strip_prefix("a href=\"")
            .and_then(|t| t.strip_suffix('"'))
        {
            open_link = Some(href);
        } else if tag == "/a"
            && let Some(href) = open_link.take()
        {
            out.push_str(&format!(" ({})", unescape(href)));
        }
        rest = &rest[open + len + 1..];
    }
    out.push_str(&unescape(rest));
    out
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_telegram_parses() {
        assert_eq!(escape(r#"a & <b> "c""#), "a &amp; &lt;b&gt; &quot;c&quot;");
        assert_eq!(escape("’ “ ” « » –\u{a0}"), "’ “ ” « » –\u{a0}");
    }

    #[test]
    fn plain_text_is_what_telegram_shows() {
        let html = format!(
            "<b>{}</b> <a href=\"{}\">site</a>",
            escape("a & <b>"),
            escape("https://x/?a=1&b=2")
        );
        assert_eq!(to_plain(&html), "a & <b> site (https://x/?a=1&b=2)");
        assert_eq!(to_plain("&amp;lt;"), "&lt;");
    }

    #[test]
    fn a_cut_fits_keeps_tags_and_entities_whole_and_closes_what_is_open() {
        let html = format!(
            "<b>Sources</b>\n<a href=\"{}\">{}</a> &amp; <i>{}</i>",
            escape("https://x/?a=1&b=2"),
            "word ".repeat(50),
            "слово 😀 ".repeat(50)
        );
        assert_eq!(cut_html(&html, 10_000), html, "what fits is untouched");
        for max in [1, 2, 5, 9, 15, 40, 80, 81, 200, 301, 302, 303, 500] {
            let cut = cut_html(&html, max);
            assert!(utf16_len(&cut) <= max, "{max}: {cut}");
            assert!(cut.ends_with('…') || cut.ends_with('>'), "{max}: {cut}");
            // Balanced: every tag opened is closed, in order.
            let mut open = Vec::new();
            for tag in cut.split('<').skip(1) {
                let tag = tag.split('>').next().unwrap();
                match tag.strip_prefix('/') {
                    Some(name) => assert_eq!(open.pop(), Some(name.to_string()), "{cut}"),
                    None => open.push(tag.split(' ').next().unwrap().to_string()),
                }
            }
            assert!(open.is_empty(), "{max}: {cut}");
            // No entity cut in two.
            let last_amp = cut.rfind('&');
            assert!(last_amp.is_none_or(|at| cut[at..].contains(';')), "{cut}");
        }
        assert_eq!(cut_html(&html, 40), "<b>Sources</b>\n…");
        assert_eq!(cut_html("<b>abcdef</b>", 10), "<b>ab…</b>");
        assert_eq!(cut_html("abc", 0), "");
        let fitted = MessageText::fit("x".repeat(5_000)).into_string();
        assert_eq!(utf16_len(&fitted), MAX_MESSAGE_UTF16);
        assert_eq!(MessageText::fit("short".into()).into_string(), "short");
    }

    #[test]
    fn blocks_are_packed_in_order_within_the_room_and_the_count() {
        let blocks = ["aaaa", "bb", "cccccc", "d", "eeeeeeeeeeeee", "f"];
        // Lengths 4, 2, 6, 1, 13, 1: "aaaa\n\nbb" is 8.
        assert_eq!(pack(&blocks, 10, 10), vec![0..2, 2..4, 4..5, 5..6]);
        assert_eq!(pack(&blocks, 100, 2), vec![0..2, 2..4, 4..6]);
        assert_eq!(pack(&blocks, 100, 10), vec![0..6]);
        assert!(pack::<&str>(&[], 100, 10).is_empty());
        // Too long for any message: alone.
        assert_eq!(pack(&["x", "yyyyyy", "z"], 3, 10), vec![0..1, 1..2, 2..3]);
    }

    #[test]
    fn shortens_at_words() {
        assert_eq!(shorten("short", 10), "short");
        assert_eq!(shorten("one two three four", 12), "one two…");
        assert_eq!(shorten("abcdefghij", 5), "abcd…");
        assert!(shorten(&"слово ".repeat(100), 50).chars().count() <= 50);
    }
}
