//! A `[[sources]]` block that reads a page the way a fallback found works:
//! the advertised feed as a feed source, repeated blocks as CSS selectors,
//! links as link patterns made from the paths of the releases found. What
//! operators are told when a fallback begins, and what `check-source` prints.

use std::fmt::Write as _;

use url::Url;

use super::Fallback;
use super::blocks::block_items;
use crate::config::SourceConfig;
use crate::config::redact::Redacted;
use crate::source::Item;

/// At most this many link patterns are suggested.
const MAX_PATTERNS: usize = 3;

/// How a suggested block reads the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reading {
    /// As a feed, at this address.
    Feed(Url),
    /// With CSS selectors: the blocks, and the link inside one.
    Selectors { item: String, link: Option<String> },
    /// With link patterns over the releases' paths.
    Patterns(Vec<String>),
}

/// A suggestion, and what it was made from (for people).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Suggestion {
    pub from: String,
    pub reading: Reading,
}

/// `value` as a TOML basic string.
fn toml_str(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The `[[sources]]` block for `source` read as `reading` (its name, label
/// and other keys as they are; the address without secrets).
pub(crate) fn toml_block(source: &SourceConfig, reading: &Reading) -> String {
    let mut out = String::from("[[sources]]\n");
    let _ = writeln!(out, "name = {}", toml_str(&source.name));
    let url = match reading {
        Reading::Feed(url) => url,
        _ => &source.url,
    };
    let _ = writeln!(out, "url = {}", toml_str(&Redacted(url).to_string()));
    match reading {
        Reading::Feed(_) => out.push_str("kind = \"feed\"\n"),
        Reading::Patterns(patterns) => {
            let list: Vec<String> = patterns.iter().map(|p| toml_str(p)).collect();
            let _ = writeln!(out, "link_patterns = [{}]", list.join(", "));
        }
        Reading::Selectors { item, link } => {
            let _ = writeln!(out, "[sources.selectors]\nitem = {}", toml_str(item));
            if let Some(link) = link {
                let _ = writeln!(out, "link = {}", toml_str(link));
            }
        }
    }
    out
}

/// Link patterns that match the paths of `items` (each path's numbers as
/// `\d+`, its last part as any one part), most common first.
pub(crate) fn link_patterns(items: &[Item]) -> Vec<String> {
    let mut counted: Vec<(String, usize)> = Vec::new();
    for item in items {
        let Ok(url) = Url::parse(&item.url) else {
            continue;
        };
        let pattern = path_pattern(url.path());
        match counted.iter_mut().find(|(p, _)| *p == pattern) {
            Some((_, n)) => *n += 1,
            None => counted.push((pattern, 1)),
        }
    }
    counted.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    counted
        .into_iter()
        .take(MAX_PATTERNS)
        .map(|(p, _)| p)
        .collect()
}

/// `/news/2024/05/some-title/` → `^/news/\d+/\d+/[^/]+$`.
fn path_pattern(path: &str) -> String {
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let last = parts.len().saturating_sub(1);
    let mut out = String::from("^");
    for (i, part) in parts.iter().enumerate() {
        out.push('/');
        if !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(r"\d+");
        } else if i == last {
            out.push_str("[^/]+");
        } else {
            out.push_str(&regex::escape(part));
        }
    }
    out.push('$');
    out
}

/// How to make a fallback explicit in the config, given what it read.
pub(crate) fn for_fallback(fallback: &Fallback, items: &[Item]) -> Reading {
    match fallback {
        Fallback::Feed { url } => match Url::parse(url) {
            Ok(url) => Reading::Feed(url),
            Err(_) => Reading::Patterns(link_patterns(items)),
        },
        Fallback::Blocks { selector, link } => Reading::Selectors {
            item: selector.clone(),
            link: link.clone(),
        },
        Fallback::JsonLd | Fallback::Sitemap { .. } => Reading::Patterns(link_patterns(items)),
    }
}

/// What would read `html` best, for `check-source`: the feed it advertises,
/// else its repeated blocks, else link patterns made from the releases its
/// structured data names or the configured extraction found (`found`).
pub(crate) fn for_page(
    html: &str,
    base: &Url,
    source: &SourceConfig,
    found: &[Item],
) -> Option<Suggestion> {
    if let Some(feed) = super::advertised::advertised_feeds(html, base)
        .into_iter()
        .next()
    {
        return Some(Suggestion {
            from: "the feed the page advertises".into(),
            reading: Reading::Feed(feed),
        });
    }
    if let Some(blocks) = block_items(html, base, source) {
        return Some(Suggestion {
            from: format!("{} repeated blocks with dated links", blocks.items.len()),
            reading: Reading::Selectors {
                item: blocks.selector,
                link: blocks.link,
            },
        });
    }
    let structured = super::jsonld::jsonld_items(html, base, source);
    let (from, items) = if structured.is_empty() {
        ("the releases found", found)
    } else {
        (
            "the releases in the page's structured data",
            &structured[..],
        )
    };
    let patterns = link_patterns(items);
    (!patterns.is_empty()).then(|| Suggestion {
        from: from.into(),
        reading: Reading::Patterns(patterns),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(url: &str) -> Item {
        Item {
            id: url.into(),
            url: url.into(),
            title: "t".into(),
            date: None,
            lead: String::new(),
        }
    }

    #[test]
    fn patterns_from_paths() {
        let items = [
            item("https://e.org/news/2024/05/one-title/"),
            item("https://e.org/news/2024/06/another"),
            item("https://e.org/fnapr/123"),
        ];
        assert_eq!(
            link_patterns(&items),
            [r"^/news/\d+/\d+/[^/]+$", r"^/fnapr/\d+$"]
        );
        assert_eq!(path_pattern("/a.b/x"), r"^/a\.b/[^/]+$");
    }

    #[test]
    fn blocks_that_configure_what_was_found() {
        let source = super::super::tests::source();
        let feed = toml_block(
            &source,
            &Reading::Feed(Url::parse("https://example.org/rss?token=s3cret").unwrap()),
        );
        assert!(
            feed.contains("kind = \"feed\"") && !feed.contains("s3cret"),
            "{feed}"
        );
        let selectors = toml_block(
            &source,
            &Reading::Selectors {
                item: "article".into(),
                link: Some("h2 a[href]".into()),
            },
        );
        assert_eq!(
            selectors,
            "[[sources]]\nname = \"news\"\nurl = \"https://example.org/news\"\n[sources.selectors]\nitem = \"article\"\nlink = \"h2 a[href]\"\n"
        );
        let patterns = toml_block(&source, &Reading::Patterns(vec![r#"^/a"b\d+$"#.into()]));
        assert!(
            patterns.contains(r#"link_patterns = ["^/a\"b\\d+$"]"#),
            "{patterns}"
        );
        // What is suggested is valid config.
        let config = format!(
            "{selectors}\n{}",
            patterns.replace("name = \"news\"", "name = \"other\"")
        );
        crate::config::Config::from_toml(&config).expect("a suggestion is valid config");
    }
}
