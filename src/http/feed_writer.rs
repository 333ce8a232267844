//! The feed the site lacks: the releases the bot has stored, as Atom
//! (RFC 4287) and JSON Feed 1.1, newest first. Pure: the HTTP layer
//! ([`crate::http`]) reads the store and hands the releases in.
//!
//! Each entry's id is the release's canonical URL (its key in the store with
//! `https://` before it, so the `www.`, `m.` and `http://` forms of one
//! release are one entry, forever); its link is the URL the site gave; its
//! time is when the release was published as well as we know it
//! ([`entry_time`]); its summary is the lead. Text is escaped by quick-xml,
//! and characters XML 1.0 cannot carry at all are dropped.

use chrono::{DateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use serde::Serialize;
use url::Url;

use crate::store::StoredItem;

/// A feed's own description.
#[derive(Debug, Clone)]
pub(crate) struct FeedInfo {
    pub title: String,
    /// A permanent, absolute identifier for the feed.
    pub id: String,
    /// Where the feed itself is served, when the public address is known.
    pub self_url: Option<Url>,
    /// The page the feed stands for (the source, or the first source's site).
    pub site_url: Url,
    /// Named as the feed's author (Atom requires one).
    pub author: String,
    /// `updated` of a feed with no entries (it cannot come from them).
    pub empty_updated: DateTime<Utc>,
}

/// One release as a feed shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub id: String,
    pub title: String,
    pub link: String,
    pub summary: String,
    /// The full text as HTML built from the release's own page (absolute
    /// links, allow-listed tags only: `source/body.rs`); `None` until read.
    pub content: Option<String>,
    pub time: DateTime<Utc>,
    /// When its words last changed: its revision, else [`Entry::time`].
    pub updated: DateTime<Utc>,
}

impl Entry {
    /// `stored` as an entry; `tz` is the time zone of the source that listed
    /// it (where its date is a calendar day).
    pub(crate) fn from_stored(stored: &StoredItem, tz: Tz) -> Entry {
        let time = entry_time(stored, tz);
        Entry {
            id: format!("https://{}", stored.item.id),
            title: stored.item.title.clone(),
            link: stored.item.url.clone(),
            summary: stored.item.lead.clone(),
            content: None,
            time,
            updated: stored
                .revised_at
                .and_then(|at| DateTime::from_timestamp(at, 0))
                .map_or(time, |revised| revised.max(time)),
        }
    }
}

/// When a release was published, as well as we know: the moment we first saw
/// it if that was on the day the site dates it (in the source's zone), else
/// the start of that day (a release found later than its date); with no date
/// on the site, the moment we first saw it.
pub(crate) fn entry_time(stored: &StoredItem, tz: Tz) -> DateTime<Utc> {
    let seen = DateTime::from_timestamp(stored.first_seen, 0).unwrap_or_default();
    let Some(date) = stored.item.date else {
        return seen;
    };
    if seen.with_timezone(&tz).date_naive() == date {
        return seen;
    }
    date.and_time(NaiveTime::MIN)
        .and_local_timezone(tz)
        .earliest()
        .map_or(seen, |t| t.with_timezone(&Utc))
}

/// The feed's `updated`: its newest entry's time, or its latest revision.
pub(crate) fn updated(info: &FeedInfo, entries: &[Entry]) -> DateTime<Utc> {
    entries
        .iter()
        .map(|e| e.updated)
        .max()
        .unwrap_or(info.empty_updated)
}

/// Text XML 1.0 can carry: C0 controls other than tab, line feed and
/// carriage return, and U+FFFE/U+FFFF are dropped (escaping cannot save them).
fn xml_safe(text: &str) -> std::borrow::Cow<'_, str> {
    let allowed = |c: char| {
        (c >= ' ' || matches!(c, '\t' | '\n' | '\r')) && !matches!(c, '\u{FFFE}' | '\u{FFFF}')
    };
    if text.chars().all(allowed) {
        text.into()
    } else {
        text.chars()
            .filter(|c| allowed(*c))
            .collect::<String>()
            .into()
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The Atom document.
pub(crate) fn atom(info: &FeedInfo, entries: &[Entry]) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing into a Vec cannot fail.
    write_atom(&mut w, info, entries).expect("writing XML into memory");
    String::from_utf8(w.into_inner()).expect("quick-xml writes the UTF-8 it is given")
}

fn text_element(w: &mut Writer<Vec<u8>>, name: &str, text: &str) -> std::io::Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::new(&xml_safe(text)))?;
    Ok(())
}

fn write_atom(w: &mut Writer<Vec<u8>>, info: &FeedInfo, entries: &[Entry]) -> std::io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))?;
    w.create_element("feed")
        .with_attribute(("xmlns", "http://www.w3.org/2005/Atom"))
        .write_inner_content(|w| {
            text_element(w, "id", &info.id)?;
            text_element(w, "title", &info.title)?;
            text_element(w, "updated", &rfc3339(updated(info, entries)))?;
            w.create_element("author")
                .write_inner_content(|w| text_element(w, "name", &info.author))?;
            if let Some(url) = &info.self_url {
                w.create_element("link")
                    .with_attribute(("rel", "self"))
                    .with_attribute(("type", "application/atom+xml"))
                    .with_attribute(("href", url.as_str()))
                    .write_empty()?;
            }
            w.create_element("link")
                .with_attribute(("rel", "alternate"))
                .with_attribute(("type", "text/html"))
                .with_attribute(("href", info.site_url.as_str()))
                .write_empty()?;
            w.create_element("generator")
                .with_attribute(("version", env!("CARGO_PKG_VERSION")))
                .write_text_content(BytesText::new("embassy-bot"))?;
            for entry in entries {
                w.create_element("entry").write_inner_content(|w| {
                    let time = rfc3339(entry.time);
                    text_element(w, "id", &entry.id)?;
                    text_element(w, "title", &entry.title)?;
                    w.create_element("link")
                        .with_attribute(("rel", "alternate"))
                        .with_attribute(("type", "text/html"))
                        .with_attribute(("href", xml_safe(&entry.link).as_ref()))
                        .write_empty()?;
                    text_element(w, "published", &time)?;
                    text_element(w, "updated", &rfc3339(entry.updated))?;
                    if !entry.summary.is_empty() {
                        text_element(w, "summary", &entry.summary)?;
                    }
                    if let Some(content) = &entry.content {
                        w.create_element("content")
                            .with_attribute(("type", "html"))
                            .write_text_content(BytesText::new(&xml_safe(content)))?;
                    }
                    Ok(())
                })?;
            }
            Ok(())
        })?;
    Ok(())
}

/// The JSON Feed 1.1 document.
pub(crate) fn json(info: &FeedInfo, entries: &[Entry]) -> String {
    #[derive(Serialize)]
    struct Feed<'a> {
        version: &'static str,
        title: &'a str,
        home_page_url: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        feed_url: Option<&'a str>,
        authors: [Author<'a>; 1],
        items: Vec<Item<'a>>,
    }
    #[derive(Serialize)]
    struct Author<'a> {
        name: &'a str,
    }
    #[derive(Serialize)]
    struct Item<'a> {
        id: &'a str,
        url: &'a str,
        title: &'a str,
        #[serde(skip_serializing_if = "str::is_empty")]
        content_text: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        content_html: Option<&'a str>,
        #[serde(skip_serializing_if = "str::is_empty")]
        summary: &'a str,
        date_published: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        date_modified: Option<String>,
    }
    let feed = Feed {
        version: "https://jsonfeed.org/version/1.1",
        title: &info.title,
        home_page_url: info.site_url.as_str(),
        feed_url: info.self_url.as_ref().map(Url::as_str),
        authors: [Author { name: &info.author }],
        items: entries
            .iter()
            .map(|e| Item {
                id: &e.id,
                url: &e.link,
                title: &e.title,
                // JSON Feed needs content; the lead is all the bot has.
                content_text: if e.summary.is_empty() {
                    &e.title
                } else {
                    &e.summary
                },
                content_html: e.content.as_deref(),
                summary: &e.summary,
                date_published: rfc3339(e.time),
                date_modified: (e.updated != e.time).then(|| rfc3339(e.updated)),
            })
            .collect(),
    };
    serde_json::to_string_pretty(&feed).expect("a feed serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Item;
    use chrono::NaiveDate;

    fn stored(date: Option<NaiveDate>, first_seen: i64) -> StoredItem {
        StoredItem {
            item: Item {
                id: "rusemb.org.uk/fnapr/1".into(),
                url: "https://www.rusemb.org.uk/fnapr/1".into(),
                title: "A \u{7}bell & <b>".into(),
                date,
                lead: String::new(),
            },
            source: "home".into(),
            also_on: Default::default(),
            first_seen,
            seq: 1,
            revised_at: None,
        }
    }

    #[test]
    fn a_revision_moves_the_entry_s_and_the_feed_s_updated_but_not_published() {
        let info = FeedInfo {
            id: "urn:x".into(),
            title: "t".into(),
            author: "a".into(),
            self_url: None,
            site_url: url::Url::parse("https://www.rusemb.org.uk/").unwrap(),
            empty_updated: DateTime::from_timestamp(0, 0).unwrap(),
        };
        let mut revised = stored(None, 1_653_120_000);
        revised.revised_at = Some(1_653_206_400);
        let entry = Entry::from_stored(&revised, chrono_tz::Europe::London);
        assert_eq!(entry.time.timestamp(), 1_653_120_000);
        assert_eq!(entry.updated.timestamp(), 1_653_206_400);
        assert_eq!(updated(&info, std::slice::from_ref(&entry)), entry.updated);
        let atom = atom(&info, std::slice::from_ref(&entry));
        assert!(
            atom.contains("<published>2022-05-21T08:00:00Z</published>"),
            "{atom}"
        );
        assert!(
            atom.contains("<updated>2022-05-22T08:00:00Z</updated>"),
            "{atom}"
        );
        let json = json(&info, &[entry]);
        assert!(
            json.contains("\"date_modified\": \"2022-05-22T08:00:00Z\""),
            "{json}"
        );
    }

    #[test]
    fn entry_time_is_first_seen_on_the_day_else_the_days_start() {
        let moscow = chrono_tz::Europe::Moscow;
        let may23 = NaiveDate::from_ymd_opt(2022, 5, 23);
        // 2022-05-23 10:00 UTC is 13:00 in Moscow: seen on its day.
        let seen = 1_653_300_000;
        assert_eq!(entry_time(&stored(may23, seen), moscow).timestamp(), seen);
        // Seen a year later: the day's start in Moscow, 21:00 UTC the day before.
        let later = seen + 365 * 86_400;
        assert_eq!(
            rfc3339(entry_time(&stored(may23, later), moscow)),
            "2022-05-22T21:00:00Z"
        );
        assert_eq!(entry_time(&stored(None, later), moscow).timestamp(), later);
    }

    #[test]
    fn controls_xml_cannot_carry_are_dropped_and_the_rest_escaped() {
        let entry = Entry::from_stored(&stored(None, 1_653_300_000), chrono_tz::UTC);
        let info = FeedInfo {
            title: "t".into(),
            id: "tag:x,2024:y".into(),
            self_url: None,
            site_url: Url::parse("https://www.rusemb.org.uk/").unwrap(),
            author: "a".into(),
            empty_updated: DateTime::from_timestamp(0, 0).unwrap(),
        };
        let xml = atom(&info, &[entry]);
        assert!(
            xml.contains("<title>A bell &amp; &lt;b&gt;</title>"),
            "{xml}"
        );
        assert!(!xml.contains('\u{7}'));
    }
}
