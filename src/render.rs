//! Telegram message text: HTML escaping, shortening, and the 4096-character limit.
//!
//! Every reply uses Telegram's HTML parse mode, so all site text passes through
//! [`escape`]; lengths are checked in UTF-16 units, the way Telegram counts.

use std::collections::HashMap;

use crate::config::Config;
use crate::source::Item;

/// Telegram's limit on one message's text.
pub const MAX_MESSAGE_UTF16: usize = 4096;

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

/// One release as a block of HTML: bold title, date, lead shortened to
/// `lead_chars`, link. Used by `/latest` and `/search`.
pub fn item_block(item: &Item, lead_chars: usize) -> String {
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
        "\n<a href=\"{}\">Read on the site</a>",
        escape(&item.url)
    ));
    out
}

/// The message pushed to subscribers for a new release, laid out like news:
/// the title in bold as the link, the date and `source` (see
/// [`SourceLabels::describe`]), then the lead. Telegram's preview card, when
/// on, shows the one link: the release's page.
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

/// Joins blocks under a header, shortening leads (and at worst dropping the
/// oldest blocks) until the message fits Telegram's limit.
pub fn fit_list(header: &str, items: &[Item]) -> String {
    fit_list_counted(header, items).0
}

/// [`fit_list`], and how many blocks the text holds (a page button goes on
/// from there).
pub fn fit_list_counted(header: &str, items: &[Item]) -> (String, usize) {
    let (text, shown) = fit_blocks(header, items, 0);
    if shown == items.len() {
        return (text, shown);
    }
    let note = |shown: usize| {
        format!(
            "\n\n({} more not shown: ask for fewer)",
            items.len() - shown
        )
    };
    let (text, shown) = fit_blocks(header, items, utf16_len(&note(0)));
    (text + &note(shown), shown)
}

/// Blocks under a header, leads shortened (and at worst the last blocks
/// dropped) until the text leaves `reserve` UTF-16 units of Telegram's limit
/// free for a line the caller adds; the text and how many blocks it holds
/// (at least one, if there is any).
pub fn fit_blocks(header: &str, items: &[Item], reserve: usize) -> (String, usize) {
    let limit = MAX_MESSAGE_UTF16.saturating_sub(reserve);
    for lead_chars in [300, 160, 80, 0] {
        let text = join_blocks(header, items, lead_chars);
        if utf16_len(&text) <= limit {
            return (text, items.len());
        }
    }
    let mut shown = items.len();
    while shown > 1 {
        shown -= 1;
        let text = join_blocks(header, &items[..shown], 0);
        if utf16_len(&text) <= limit {
            return (text, shown);
        }
    }
    let shown = shown.min(1);
    (join_blocks(header, &items[..shown], 0), shown)
}

fn join_blocks(header: &str, items: &[Item], lead_chars: usize) -> String {
    let mut text = header.to_string();
    for item in items {
        text.push_str("\n\n");
        text.push_str(&item_block(item, lead_chars));
    }
    text
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
        } else if tag == "/a" {
            if let Some(href) = open_link.take() {
                out.push_str(&format!(" ({})", unescape(href)));
            }
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

    #[test]
    fn long_lists_fit() {
        let item = Item {
            id: "x".into(),
            url: "https://www.rusemb.org.uk/fnapr/1".into(),
            title: "T & <t> ".repeat(100),
            date: None,
            lead: "L ".repeat(2000),
        };
        let text = fit_list("Header", &vec![item; 20]);
        assert!(
            utf16_len(&text) <= MAX_MESSAGE_UTF16,
            "{}",
            utf16_len(&text)
        );
        assert!(text.starts_with("Header"));
    }
}
