//! What a button under a reply asks for, and the pages those buttons turn:
//! `/latest` and `/search` turn pages ("◀ Newer" / "Older ▶"), `/sources`
//! turns its pages ("◀ Back" / "More ▶") and toggles a source. Below the
//! commands that make buttons and [`super::buttons`], which serves their
//! presses; it knows none of them.
//!
//! A button's data (Telegram keeps at most [`MAX_DATA`] bytes) is versioned
//! and read strictly:
//! - `l1:<offset>:<n>` — `/latest`'s page after the `offset` newest, `n` a page;
//! - `s1:<number>:<offset>` — a page of the `/search` query the store keeps
//!   under that number ([`crate::store::Store::save_query`]);
//! - `t1:<source>` — subscribe or unsubscribe that source;
//! - `f1:<seq>`, `f1:<seq>:s`, `f1:<seq>:n` — release `seq`'s full text in
//!   place, its short push again, or its full text as new messages (under
//!   `/latest`): [`crate::render::full_text_data`];
//! - `p1:<index>` — the page of `/sources` that holds the source at that
//!   place in the config (pages are laid out afresh each time, so a page
//!   button always leads to the page holding that source).
//!
//! Numbers are plain decimals without leading zeros. A later encoding takes
//! a new version (`l2`, …) and keeps reading these, so buttons sent before an
//! upgrade go on working. Anything else — unreadable, too long, a source no
//! longer configured, a query no longer kept — is answered that the button
//! expired, naming the command to send again; never an error.

use super::LATEST_MAX;
use crate::config::Language;
use crate::render::{FullTextView, full_text_data};
use crate::telegram::messenger::{Button, Keyboard};
use crate::tr;

/// Telegram's limit on a button's data, in bytes.
pub(crate) const MAX_DATA: usize = 64;
/// The furthest page offset a button may ask for.
pub(crate) const MAX_OFFSET: usize = 1_000_000;

/// What a button asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Press {
    /// `/latest`'s page after the `offset` newest, `n` releases a page.
    Latest { offset: usize, n: usize },
    /// The page after the `offset` newest matches of saved query `query`.
    Search { query: u64, offset: usize },
    /// Subscribe or unsubscribe the chat (topic) to `source`.
    Toggle { source: String },
    /// The page of `/sources` holding the source at place `at` in the config.
    Sources { at: usize },
    /// Release `seq`'s full text, or its short push again
    /// ([`crate::render::full_text_data`]).
    FullText { seq: u64, view: FullTextView },
}

/// Which command a button that can no longer be served came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expired {
    Latest,
    Search,
    Sources,
    /// Not one of ours, or unreadable past its first letter.
    Unknown,
}

impl Expired {
    /// What the presser is told, in `lang` (plain text, not HTML).
    pub(crate) fn notice(self, lang: Language) -> String {
        match self {
            Expired::Latest => tr!(lang, "button-expired", command = "/latest"),
            Expired::Search => tr!(lang, "button-expired", command = "/search"),
            Expired::Sources => tr!(lang, "button-expired", command = "/sources"),
            Expired::Unknown => tr!(lang, "button-expired-any"),
        }
    }

    /// The command a button's data came from, by its first letter.
    fn of(data: &str) -> Expired {
        match data.as_bytes().first() {
            Some(b'l') => Expired::Latest,
            Some(b's') => Expired::Search,
            Some(b't' | b'p') => Expired::Sources,
            _ => Expired::Unknown,
        }
    }
}

impl Press {
    pub(crate) fn latest(offset: usize, n: usize) -> Press {
        Press::Latest { offset, n }
    }

    pub(crate) fn search(query: u64, offset: usize) -> Press {
        Press::Search { query, offset }
    }

    pub(crate) fn toggle(source: &str) -> Press {
        Press::Toggle {
            source: source.to_string(),
        }
    }

    pub(crate) fn sources(at: usize) -> Press {
        Press::Sources { at }
    }

    /// The button's data (see the module's list).
    pub(crate) fn data(&self) -> String {
        match self {
            Press::Latest { offset, n } => format!("l1:{offset}:{n}"),
            Press::Search { query, offset } => format!("s1:{query}:{offset}"),
            Press::Toggle { source } => format!("t1:{source}"),
            Press::Sources { at } => format!("p1:{at}"),
            Press::FullText { seq, view } => full_text_data(*seq, *view),
        }
    }

    /// A button labelled `label` that asks for this.
    pub(crate) fn button(&self, label: String) -> Button {
        Button {
            label,
            data: self.data(),
        }
    }

    /// Reads a button's data strictly; what cannot be read has expired.
    pub(crate) fn parse(data: &str) -> Result<Press, Expired> {
        let expired = Expired::of(data);
        if data.len() > MAX_DATA {
            return Err(expired);
        }
        let fields: Vec<&str> = data.split(':').collect();
        let press = match fields.as_slice() {
            ["l1", offset, n] => {
                let n = number(n).filter(|n| (1..=LATEST_MAX as u64).contains(n));
                Press::Latest {
                    offset: offset_of(offset).ok_or(expired)?,
                    n: n.ok_or(expired)? as usize,
                }
            }
            ["s1", query, offset] => Press::Search {
                query: number(query).ok_or(expired)?,
                offset: offset_of(offset).ok_or(expired)?,
            },
            ["t1", source] if crate::config::is_valid_source_name(source) => Press::Toggle {
                source: source.to_string(),
            },
            ["p1", at] => Press::Sources {
                at: offset_of(at).ok_or(expired)?,
            },
            ["f1", seq, rest @ ..] => Press::FullText {
                seq: number(seq).ok_or(expired)?,
                view: match rest {
                    [] => FullTextView::Full,
                    ["s"] => FullTextView::Short,
                    ["n"] => FullTextView::Apart,
                    _ => return Err(expired),
                },
            },
            _ => return Err(expired),
        };
        Ok(press)
    }
}

/// A plain decimal number: digits only, no sign, no leading zero.
fn number(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

fn offset_of(text: &str) -> Option<usize> {
    number(text)
        .and_then(|n| usize::try_from(n).ok())
        .filter(|n| *n <= MAX_OFFSET)
}

/// A message and the buttons under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Telegram HTML.
    pub text: String,
    pub keyboard: Option<Keyboard>,
}

/// "◀ Newer" and "Older ▶" (in `lang`) in one row, those that are given;
/// `None` if neither.
pub(crate) fn pager(
    newer: Option<Press>,
    older: Option<Press>,
    lang: Language,
) -> Option<Keyboard> {
    let mut row = Vec::new();
    if let Some(newer) = newer {
        row.push(newer.button(tr!(lang, "button-newer")));
    }
    if let Some(older) = older {
        row.push(older.button(tr!(lang, "button-older")));
    }
    (!row.is_empty()).then(|| Keyboard { rows: vec![row] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_press_reads_back_as_itself_within_64_bytes() {
        let longest_name = "a".repeat(crate::config::MAX_SOURCE_NAME);
        for press in [
            Press::latest(0, 1),
            Press::latest(MAX_OFFSET, LATEST_MAX),
            Press::search(0, 0),
            Press::search(u64::MAX, MAX_OFFSET),
            Press::toggle("press"),
            Press::toggle(&longest_name),
            Press::sources(0),
            Press::sources(MAX_OFFSET),
            Press::FullText {
                seq: u64::MAX,
                view: FullTextView::Full,
            },
            Press::FullText {
                seq: 0,
                view: FullTextView::Short,
            },
            Press::FullText {
                seq: 7,
                view: FullTextView::Apart,
            },
        ] {
            let data = press.data();
            assert!(data.len() <= MAX_DATA, "{data}");
            assert_eq!(Press::parse(&data), Ok(press), "{data}");
        }
        assert_eq!(Press::latest(20, 5).data(), "l1:20:5");
        assert_eq!(Press::search(17, 10).data(), "s1:17:10");
        assert_eq!(Press::toggle("informs").data(), "t1:informs");
        assert_eq!(Press::sources(40).data(), "p1:40");
    }

    #[test]
    fn anything_else_has_expired_and_says_which_command_to_send() {
        let cases = [
            ("", Expired::Unknown),
            ("garbage", Expired::Unknown),
            ("x1:1", Expired::Unknown),
            ("l1", Expired::Latest),
            ("l1:0", Expired::Latest),
            ("l1:0:0", Expired::Latest),
            ("l1:0:21", Expired::Latest),
            ("l1:-1:5", Expired::Latest),
            ("l1:+1:5", Expired::Latest),
            ("l1:01:5", Expired::Latest),
            ("l1: 1:5", Expired::Latest),
            ("l1:1:5:", Expired::Latest),
            ("l1:1000001:5", Expired::Latest),
            ("l1:99999999999999999999999:5", Expired::Latest),
            ("l2:0:5", Expired::Latest),
            ("s1:abc:0", Expired::Search),
            ("s1:18446744073709551616:0", Expired::Search),
            ("s1:1", Expired::Search),
            ("t1:", Expired::Sources),
            ("t1:Press", Expired::Sources),
            ("t1:press:x", Expired::Sources),
            ("t1:пресса", Expired::Sources),
            ("p1:", Expired::Sources),
            ("p1:07", Expired::Sources),
            ("p1:1:2", Expired::Sources),
            ("p2:1", Expired::Sources),
        ];
        for (data, expired) in cases {
            assert_eq!(Press::parse(data), Err(expired), "{data:?}");
        }
        let oversized = format!("t1:{}", "a".repeat(MAX_DATA));
        assert_eq!(Press::parse(&oversized), Err(Expired::Sources));
        assert_eq!(
            Expired::Latest.notice(Language::En),
            "This button has expired: send /latest again."
        );
        assert_eq!(
            Expired::Search.notice(Language::Ru),
            "Эта кнопка устарела: отправьте /search ещё раз."
        );
    }

    #[test]
    fn a_pager_shows_only_the_buttons_that_lead_somewhere() {
        assert_eq!(pager(None, None, Language::En), None);
        let only_older = pager(None, Some(Press::latest(5, 5)), Language::En).unwrap();
        assert_eq!(only_older.rows.len(), 1);
        assert_eq!(only_older.rows[0].len(), 1);
        assert_eq!(only_older.rows[0][0].label, "Older ▶");
        assert_eq!(only_older.rows[0][0].data, "l1:5:5");
        let both = pager(
            Some(Press::latest(0, 5)),
            Some(Press::latest(10, 5)),
            Language::En,
        )
        .unwrap();
        let labels: Vec<&str> = both.rows[0].iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, ["◀ Newer", "Older ▶"]);
    }
}
