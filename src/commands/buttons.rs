//! Buttons under replies, and what pressing one does: `/latest` and
//! `/search` turn pages ("◀ Newer" / "Older ▶"), `/sources` toggles a
//! source for the chat (or forum topic) the message is in. The message is
//! shown anew in place ([`Pressed::page`]); the press itself is always
//! answered ([`Pressed::notice`]).
//!
//! A button's data (Telegram keeps at most [`MAX_DATA`] bytes) is versioned
//! and read strictly:
//! - `l1:<offset>:<n>` — `/latest`'s page after the `offset` newest, `n` a page;
//! - `s1:<number>:<offset>` — a page of the `/search` query the store keeps
//!   under that number ([`crate::store::Store::save_query`]);
//! - `t1:<source>` — subscribe or unsubscribe that source.
//!
//! Numbers are plain decimals without leading zeros. A later encoding takes
//! a new version (`l2`, …) and keeps reading these, so buttons sent before an
//! upgrade go on working. Anything else — unreadable, too long, a source no
//! longer configured, a query no longer kept — is answered that the button
//! expired, naming the command to send again; never an error.
//!
//! Page buttons only read, and anyone may press them; a toggle changes the
//! subscription, so it passes the same check as `/subscribe`
//! ([`super::access::Access::may_change`]), and a refusal is an alert to the
//! presser alone, not a message in the chat.

use chrono::{DateTime, Utc};

use super::access::Verdict;
use super::{Context, LATEST_MAX, Origin, latest, search, sources, subscribe};
use crate::config::Language;
use crate::store::{MAX_TOPICS, StoreError};
use crate::telegram::messenger::{Button, Keyboard};
use crate::text::matching::Query;
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
            Some(b't') => Expired::Sources,
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

    /// The button's data (see the module's list).
    pub(crate) fn data(&self) -> String {
        match self {
            Press::Latest { offset, n } => format!("l1:{offset}:{n}"),
            Press::Search { query, offset } => format!("s1:{query}:{offset}"),
            Press::Toggle { source } => format!("t1:{source}"),
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

/// What a press comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pressed {
    /// Shown to the presser alone (plain text); `None`: the spinner just stops.
    pub notice: Option<String>,
    /// Show `notice` as an alert to dismiss, not a passing note.
    pub alert: bool,
    /// The message the button is on, shown anew.
    pub page: Option<Page>,
}

impl Pressed {
    fn note(text: impl Into<String>) -> Pressed {
        Pressed {
            notice: Some(text.into()),
            alert: false,
            page: None,
        }
    }

    fn alert(text: impl Into<String>) -> Pressed {
        Pressed {
            alert: true,
            ..Pressed::note(text)
        }
    }

    fn shown(page: Page) -> Pressed {
        Pressed {
            notice: None,
            alert: false,
            page: Some(page),
        }
    }
}

/// Serves a press of a button whose data is `data`, on a message in
/// `origin`'s chat (and topic), by `origin`'s user, answering in `lang`.
pub(crate) async fn press(
    ctx: &Context,
    origin: &Origin,
    data: &str,
    now: DateTime<Utc>,
    lang: Language,
) -> Result<Pressed, StoreError> {
    let press = match Press::parse(data) {
        Ok(press) => press,
        Err(expired) => return Ok(Pressed::note(expired.notice(lang))),
    };
    match press {
        Press::Latest { offset, n } => {
            Ok(Pressed::shown(latest::view(&ctx.store, offset, n, lang)?))
        }
        Press::Search { query: id, offset } => {
            let query = ctx
                .store
                .saved_query(id, origin.chat)?
                .and_then(|text| Query::parse(&text).ok());
            let Some(query) = query else {
                return Ok(Pressed::note(Expired::Search.notice(lang)));
            };
            let page = search::view(&ctx.store, &query, offset, lang, || Ok(id))?;
            Ok(Pressed::shown(page))
        }
        Press::Toggle { source } => toggle(ctx, origin, &source, now, lang).await,
    }
}

/// Subscribes or unsubscribes `origin`'s chat (topic) to `source`, if the
/// presser may, and shows the list of sources anew.
async fn toggle(
    ctx: &Context,
    origin: &Origin,
    source: &str,
    now: DateTime<Utc>,
    lang: Language,
) -> Result<Pressed, StoreError> {
    let Some(source) = ctx.config.source_named(source) else {
        return Ok(Pressed::note(Expired::Sources.notice(lang)));
    };
    match ctx.access.may_change(origin).await {
        Verdict::Allowed => {}
        // Told to the presser alone, so never held back like a chat's refusal.
        Verdict::Refused { .. } => return Ok(Pressed::alert(tr!(lang, "button-admins-only"))),
        Verdict::Unknown(e) => {
            tracing::warn!(chat = origin.chat, error = %e, "cannot check a presser's rights");
            return Ok(Pressed::alert(tr!(lang, "button-cannot-check")));
        }
    }
    let store = &ctx.store;
    let target = origin.target();
    let name = &source.name;
    let wanted = store
        .subscription(target.chat)?
        .is_some_and(|s| s.target_wants(target.thread, name));
    let notice = if wanted {
        let configured: Vec<String> = ctx.config.sources.iter().map(|s| s.name.clone()).collect();
        store.unsubscribe(target, Some(name), &configured).await?;
        tr!(lang, "button-unsubscribed", name = name.as_str())
    } else if subscribe::topics_full(store, target)? {
        return Ok(Pressed::alert(tr!(
            lang,
            "button-topics-full",
            max = MAX_TOPICS
        )));
    } else {
        // As `/subscribe` does: the presser's language becomes the chat's
        // until it chooses one.
        subscribe::note_language(ctx, target.chat, origin.language).await?;
        store.subscribe(target, Some(name), now).await?;
        tr!(lang, "button-subscribed", name = name.as_str())
    };
    let page = sources::reply(ctx, target, origin.is_operator(&ctx.config), lang)?;
    Ok(Pressed {
        notice: Some(notice),
        alert: false,
        page: Some(page),
    })
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
        ] {
            let data = press.data();
            assert!(data.len() <= MAX_DATA, "{data}");
            assert_eq!(Press::parse(&data), Ok(press), "{data}");
        }
        assert_eq!(Press::latest(20, 5).data(), "l1:20:5");
        assert_eq!(Press::search(17, 10).data(), "s1:17:10");
        assert_eq!(Press::toggle("informs").data(), "t1:informs");
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

    #[test]
    fn a_saved_query_reads_back_as_the_same_query() {
        for typed in [
            "visa",
            "Visa  \"Visa Centre\"  -tax",
            "консульский «отдел» -Визы",
            "ё-mobile 2022",
        ] {
            let query = Query::parse(typed).unwrap();
            assert_eq!(Query::parse(&query.describe()), Ok(query), "{typed}");
        }
    }
}
