//! Telegram's HTML and its length limit: escaping, shortening, counting as
//! Telegram counts (UTF-16 units), and reading our HTML back as plain text.
//!
//! Every reply uses Telegram's HTML parse mode, so all site text passes through
//! [`escape`]. Pure; below everything that writes a message.

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
    fn shortens_at_words() {
        assert_eq!(shorten("short", 10), "short");
        assert_eq!(shorten("one two three four", 12), "one two…");
        assert_eq!(shorten("abcdefghij", 5), "abcd…");
        assert!(shorten(&"слово ".repeat(100), 50).chars().count() <= 50);
    }
}
