//! Dates as pages and feeds write them, read without guessing wrong.
//!
//! One reader serves HTML listings, `<time datetime>` attributes and feed
//! timestamps (the forms only feeds write, and the reasons a timestamp is not
//! read, are in `source/timestamp.rs`). The forms seen in the wild:
//!
//! - RFC 822 with or without seconds or weekday, with a zone name (`GMT`, `EDT`,
//!   `MSK`, North America's bare letters `ET`, `PT`, …, `MET`, `Etc/GMT`), a
//!   numeric zone, `Z`, or none; two-digit years after a time; a weekday and the
//!   month before the day (`Thu Aug 30 2012 17:26:16 +0200`);
//! - ISO 8601 with or without a time, with or without a zone
//!   (`2018-09-18 14:38:10`, `2023-01-25T19:03:02+01:00`, `2023-12-16`), and
//!   with the month as a word (Hungarian feeds: `2004-július-13T9:15-05:00`);
//! - `DD.MM.YYYY`, `D Month YYYY` and `Month D, YYYY`, the month in English,
//!   Russian, Greek or Hungarian (or the abbreviations of the usual Western
//!   European languages, as in `mer, 16 nov 2022` or `Seg, 24 Set 2018`), with
//!   an optional time, 12-hour clocks included (`at 6:09 AM`, `02:02:33 PM`);
//! - Korean: `2004년 05월 28일 01:31:15`, and `2004-05-25 오후 11:23:17` with
//!   the morning or afternoon written before the time.
//!
//! A time without a zone is wall-clock time where the source publishes: its
//! `time_zone` (UTC unless the source says otherwise, which is what the
//! reference feed reader, Python's feedparser, assumes for every zone-less
//! time); a Korean date without a zone is Korea's time (+09:00), as there. A
//! date that cannot be read is no date (the item stays undated); an unknown
//! zone name or an impossible day is never guessed around.

use std::ops::Range;
use std::sync::LazyLock;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use regex::{Captures, Regex};

/// A date as written: a day, a wall-clock time with no zone, or an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// A calendar day and nothing more (`21.05.2022`, `2023-12-16`).
    Day(NaiveDate),
    /// A time of day with no zone: the source's `time_zone` says where it was.
    Local(NaiveDateTime),
    /// A time with its zone.
    At(DateTime<FixedOffset>),
}

impl When {
    /// The calendar day in `zone`: a day or a zone-less time is taken as
    /// written there; an instant is converted (what the source's readers see).
    pub fn day_in(self, zone: Tz) -> NaiveDate {
        match self {
            When::Day(day) => day,
            When::Local(time) => time.date(),
            When::At(time) => time.with_timezone(&zone).date_naive(),
        }
    }

    /// The instant: a zone-less time is wall-clock time in `zone`, and a bare
    /// day counts from its noon there (so converting back gives the same day).
    pub fn instant_in(self, zone: Tz) -> DateTime<Utc> {
        let local = match self {
            When::At(time) => return time.with_timezone(&Utc),
            When::Local(time) => time,
            When::Day(day) => day.and_time(NaiveTime::from_hms_opt(12, 0, 0).unwrap_or_default()),
        };
        match zone.from_local_datetime(&local).earliest() {
            Some(time) => time.with_timezone(&Utc),
            // In a daylight-saving gap: the wall clock skipped this hour.
            None => zone
                .from_local_datetime(&(local + chrono::Duration::hours(1)))
                .earliest()
                .map_or_else(|| Utc.from_utc_datetime(&local), |t| t.with_timezone(&Utc)),
        }
    }
}

/// Reads `text` when all of it is one date (surrounding spaces, a leading
/// weekday, a trailing `г.` or full stop allowed). An impossible time of day
/// leaves the day ("24:00" on a listing still dates its release).
pub fn parse_date(text: &str) -> Option<When> {
    let text = without_weekday(text)?;
    let c = DATE.captures(text)?;
    let whole = c.get(0)?;
    (whole.start() == 0 && text[whole.end()..].trim().is_empty())
        .then(|| read(&c))
        .flatten()
}

/// Why a text meant as a date gives none: for `check-source`, which says so
/// beside the entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unread {
    /// No form we know reads it.
    NotUnderstood,
    /// A date, then words that are none of its parts (an unknown zone name,
    /// an offset that is no number).
    Trailing(String),
    /// The form reads, but the calendar has no such day (`31 Feb`, day 99).
    NoSuchDay,
    /// The form reads, but the clock has no such time (25 o'clock, minute 61).
    NoSuchTime,
    /// A numeric zone more than 14 hours from UTC.
    NoSuchOffset,
    /// A year outside 1900–2199: no release of ours is dated there.
    YearOutOfRange,
}

impl std::fmt::Display for Unread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unread::NotUnderstood => f.write_str("not understood"),
            Unread::Trailing(rest) => write!(f, "not understood: `{rest}` after the date"),
            Unread::NoSuchDay => f.write_str("not read: no such day"),
            Unread::NoSuchTime => f.write_str("not read: no such time of day"),
            Unread::NoSuchOffset => f.write_str("not read: no such zone offset"),
            Unread::YearOutOfRange => f.write_str("not read: a year outside 1900-2199"),
        }
    }
}

/// Reads `text` when all of it is one date, as [`parse_date`] does but strictly:
/// an impossible time is no date, and a text that is none says why. What feed
/// timestamps get (a feed's date has no listing around it to fall back on).
pub(crate) fn read_whole(text: &str) -> Result<When, Unread> {
    let text = without_weekday(text).ok_or(Unread::NotUnderstood)?;
    let c = DATE.captures(text).ok_or(Unread::NotUnderstood)?;
    let whole = c.get(0).ok_or(Unread::NotUnderstood)?;
    if whole.start() != 0 {
        return Err(Unread::NotUnderstood);
    }
    let when = read_strict(&c)?;
    match text[whole.end()..].trim() {
        "" => Ok(when),
        rest => Err(Unread::Trailing(rest.chars().take(40).collect())),
    }
}

/// `text` trimmed, less a trailing full stop and a leading weekday; `None` when
/// what is left is too long or has no digit, so cannot be a date.
pub(crate) fn without_weekday(text: &str) -> Option<&str> {
    let text = text.trim().trim_end_matches('.');
    let text = WEEKDAY
        .find(text)
        .or_else(|| BARE_WEEKDAY.find(text))
        .map_or(text, |m| &text[m.end()..]);
    (text.len() <= 80 && text.bytes().any(|b| b.is_ascii_digit())).then_some(text)
}

/// The first date anywhere in `text` ("Published 21 May 2022, 10:00"), and
/// where it is. A match that is no real date ("31.02.2020") is passed over.
pub fn find_date(text: &str) -> Option<(When, Range<usize>)> {
    // Every form has digits; most text searched (titles, short lines) has none.
    if !text.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    DATE.captures_iter(text)
        .find_map(|c| Some((read(&c)?, c.get(0)?.range())))
}

// ---- the forms ---------------------------------------------------------------------------

/// An optional weekday before a date, in any language: "Wed, ", "mer, ", "Seg, ".
static WEEKDAY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\p{L}{2,12}\.?,\s*").expect("valid regex"));

/// An English weekday without a comma, as asctime and JavaScript's
/// `Date.toString` write it ("Sun Jan  4 …", "Thu Aug 30 2012 …"). Only English
/// names: without the comma, any other word could be the month.
static BARE_WEEKDAY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?i:mon|tue|wed|thu|fri|sat|sun)(?i:day|sday|nesday|rsday|urday|rs|s)?\.?\s+")
        .expect("valid regex")
});

/// Every date form, then an optional time and zone. One regex, so text is
/// scanned once; word boundaries are ASCII (`(?-u:\b)`), which keeps the
/// regex crate on its fast engines for Cyrillic text too. The forms:
/// ISO 8601 (`2018-09-18`, `2023-01-25T19:03:02+01:00`), also with the month
/// as a word (`2004-július-13`); `DD.MM.YYYY`; `D Month YYYY` (`21 May 2022`,
/// `1 марта 2018 г.`, `Wed, 22 Jan 2014`, `07 Dec 17 10:00`); `Month D, YYYY`
/// (`September 3, 2019`, `Dec 16 2023`); Korean `YYYY년 MM월 DD일`. Korean
/// clocks write the half of the day before the time (`오후 11:23:17`). The
/// bare zone letters (`ET`, `PT`, …) count only where the text ends: in running
/// text, "10:00 AT THE EMBASSY" has no zone.
static DATE: LazyLock<Regex> = LazyLock::new(|| {
    let iso = r"(?<iy>\d{4})[-/](?<im>\d{1,2})[-/](?<id>\d{1,2})";
    let iso_word = r"(?<hy>\d{4})-(?<hm>\p{L}{3,12})\.?-(?<hd>\d{1,2})";
    let korean = r"(?<ky>\d{4})년\s*(?<km>\d{1,2})월\s*(?<kd>\d{1,2})일";
    let dmy = r"(?<nd>\d{1,2})\.(?<nm>\d{1,2})\.(?<ny>\d{4})(?-u:\b)";
    let day_first = r"(?<dd>\d{1,2})(?:\.|st|nd|rd|th)?\s+(?<dm>\p{L}{3,12})\.?,?\s+(?<dy>\d{4}|\d{2})(?-u:\b)(?:\s*(?:года|г\.?))?";
    let month_first =
        r"(?<mm>\p{L}{3,12})\.?\s+(?<md>\d{1,2})(?:st|nd|rd|th)?,?\s+(?<my>\d{4})(?-u:\b)";
    let zone = r"[+-]\d{1,2}(?::?\d{2})?|(?:UTC|GMT|UT)(?:[+-]\d{1,2}(?::?\d{2})?)?|Z|[AECMP][SD]T|[AECMP]T$|AK[SD]T|HST|MS[KD]|BST|CES?T|EES?T|WES?T|MES?T|JST|KST|Etc/(?:GMT|UTC)";
    let time = format!(
        r"(?:(?:\s*[,T|–—-]\s*|\s+)(?:(?:at|в|um|à)\s+|(?<kampm>오전|오후)\s*)?(?<hour>\d{{1,2}}):(?<minute>\d{{2}})(?::(?<second>\d{{2}})(?:[.,]\d{{1,9}})?)?(?:\s*(?<ampm>(?i:[ap]\.?m)(?-u:\b)\.?))?(?:\s*(?<zone>{zone})(?-u:\b))?)?"
    );
    Regex::new(&format!(
        r"(?-u:\b)(?:{iso}|{iso_word}|{korean}|{dmy}|{day_first}|{month_first}){time}"
    ))
    .expect("valid regex")
});

/// A date from the captures, or `None` when they name no real date. A day
/// with an impossible time ("24:00", "13:00 PM") is that day: a listing's
/// date stands without its clock.
fn read(c: &Captures<'_>) -> Option<When> {
    match read_strict(c) {
        Ok(when) => Some(when),
        Err(Unread::NoSuchTime) => read_day(c).ok().map(When::Day),
        Err(_) => None,
    }
}

/// A date from the captures, or why they name none.
fn read_strict(c: &Captures<'_>) -> Result<When, Unread> {
    let day = read_day(c)?;
    if c.name("hour").is_none() {
        return Ok(When::Day(day));
    }
    let local = day.and_time(time_of_day(c).ok_or(Unread::NoSuchTime)?);
    let korean = c.name("ky").is_some() || c.name("kampm").is_some();
    match c.name("zone") {
        Some(zone) => in_zone(local, zone.as_str())
            .map(When::At)
            .ok_or(Unread::NoSuchOffset),
        // Korean dates are Korea's time: the reference reader's reading too.
        None if korean => FixedOffset::east_opt(9 * 3600)
            .and_then(|kst| kst.from_local_datetime(&local).single())
            .map(When::At)
            .ok_or(Unread::NoSuchOffset),
        None => Ok(When::Local(local)),
    }
}

/// The calendar day the captures name.
fn read_day(c: &Captures<'_>) -> Result<NaiveDate, Unread> {
    let any = |names: &[&str]| names.iter().find_map(|name| c.name(name));
    let has_time = c.name("hour").is_some();
    let year = match any(&["iy", "hy", "ky", "ny", "dy", "my"])
        .ok_or(Unread::NotUnderstood)?
        .as_str()
    {
        // Two-digit years only in RFC 822 timestamps (a time follows), read
        // as the reference feed reader reads them: 90-99 are the 1990s, and
        // 00-89 this century's.
        y if y.len() == 2 && has_time => {
            let y: i32 = y.parse().map_err(|_| Unread::NotUnderstood)?;
            if y < 90 { 2000 + y } else { 1900 + y }
        }
        y if y.len() == 4 => y.parse().map_err(|_| Unread::NotUnderstood)?,
        _ => return Err(Unread::NotUnderstood),
    };
    if !(1900..=2199).contains(&year) {
        return Err(Unread::YearOutOfRange);
    }
    let month = match any(&["dm", "mm", "hm"]) {
        Some(name) => month_number(name.as_str()).ok_or(Unread::NotUnderstood)?,
        None => any(&["im", "km", "nm"])
            .ok_or(Unread::NotUnderstood)?
            .as_str()
            .parse()
            .map_err(|_| Unread::NotUnderstood)?,
    };
    let day = any(&["id", "hd", "kd", "nd", "dd", "md"])
        .ok_or(Unread::NotUnderstood)?
        .as_str()
        .parse()
        .map_err(|_| Unread::NotUnderstood)?;
    NaiveDate::from_ymd_opt(year, month, day).ok_or(Unread::NoSuchDay)
}

fn time_of_day(c: &Captures<'_>) -> Option<NaiveTime> {
    let number = |name: &str| {
        c.name(name)
            .map_or(Some(0), |m| m.as_str().parse::<u32>().ok())
    };
    let mut hour = number("hour")?;
    let half = match (c.name("ampm"), c.name("kampm")) {
        (Some(ampm), None) => Some(ampm.as_str().to_ascii_lowercase().starts_with('p')),
        // 오후 is the afternoon, 오전 the morning.
        (None, Some(half)) => Some(half.as_str() == "오후"),
        (None, None) => None,
        // Both halves named: no clock reads that.
        (Some(_), Some(_)) => return None,
    };
    if let Some(pm) = half {
        if !(1..=12).contains(&hour) {
            return None;
        }
        hour = match (hour, pm) {
            (12, false) => 0,
            (12, true) => 12,
            (h, true) => h + 12,
            (h, false) => h,
        };
    }
    // A leap second (60) is the last second of its minute; 61 is no second.
    let second = number("second")?;
    if second > 60 {
        return None;
    }
    NaiveTime::from_hms_opt(hour, number("minute")?, second.min(59))
}

/// `local` read in the named zone: an offset, or a name whose offset is fixed
/// (US zones, as RFC 822 defines them, and the bare letters `ET`, `AT`, `CT`,
/// `MT`, `PT`, which the reference feed reader takes as standard time all
/// year; Middle European `MET`/`MEST`) or looked up for that day (`MSK`).
fn in_zone(local: NaiveDateTime, zone: &str) -> Option<DateTime<FixedOffset>> {
    let fixed = |hours: i32| FixedOffset::east_opt(hours * 3600);
    let offset = match zone {
        "Z" | "UT" | "UTC" | "GMT" | "WET" | "Etc/GMT" | "Etc/UTC" => fixed(0),
        "BST" | "CET" | "WEST" | "MET" => fixed(1),
        "CEST" | "EET" | "MEST" => fixed(2),
        "EEST" => fixed(3),
        "ADT" => fixed(-3),
        "AT" | "AST" | "EDT" => fixed(-4),
        "ET" | "EST" | "CDT" => fixed(-5),
        "CT" | "CST" | "MDT" => fixed(-6),
        "MT" | "MST" | "PDT" => fixed(-7),
        "PT" | "PST" | "AKDT" => fixed(-8),
        "AKST" => fixed(-9),
        "HST" => fixed(-10),
        "JST" | "KST" => fixed(9),
        // Moscow's offset changed (+4 in 2011-2014): ask the zone database.
        "MSK" | "MSD" => {
            let moscow = chrono_tz::Europe::Moscow;
            return moscow
                .from_local_datetime(&local)
                .earliest()
                .map(|t| t.fixed_offset());
        }
        numeric => numeric_offset(
            numeric
                .trim_start_matches("UTC")
                .trim_start_matches("GMT")
                .trim_start_matches("UT"),
        ),
    }?;
    offset.from_local_datetime(&local).single()
}

/// `+0600`, `-08:00`, `+03`, `+3`: at most 14 hours either way.
fn numeric_offset(text: &str) -> Option<FixedOffset> {
    let (sign, digits) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let digits = digits.replace(':', "");
    let (hours, minutes) = match digits.len() {
        1 | 2 => (digits.parse::<i32>().ok()?, 0),
        4 => (digits[..2].parse().ok()?, digits[2..].parse::<i32>().ok()?),
        _ => return None,
    };
    if hours > 14 || minutes > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

/// Month names by month: English (full or abbreviated), Russian (nominative,
/// genitive or abbreviated), the abbreviations RFC 822 dates carry in French,
/// German, Italian, Spanish and Portuguese feeds, Hungarian (full or
/// abbreviated), and Greek (nominative, genitive or abbreviated, written here
/// without accents, as [`month_number`] compares them). No name is in two
/// months' lists.
const MONTHS: [&[&str]; 12] = [
    &[
        "january",
        "jan",
        "январь",
        "января",
        "янв",
        "janv",
        "gen",
        "ene",
        "jän",
        "január",
        "ιανουαριοσ",
        "ιανουαριου",
        "ιαν",
    ],
    &[
        "february",
        "feb",
        "февраль",
        "февраля",
        "фев",
        "févr",
        "fev",
        "fév",
        "február",
        "febr",
        "φεβρουαριοσ",
        "φεβρουαριου",
        "φεβ",
    ],
    &[
        "march",
        "mar",
        "март",
        "марта",
        "мар",
        "mars",
        "mär",
        "mrz",
        "március",
        "márc",
        "μαρτιοσ",
        "μαρτιου",
        "μαρ",
    ],
    &[
        "april",
        "apr",
        "апрель",
        "апреля",
        "апр",
        "avr",
        "abr",
        "április",
        "ápr",
        "απριλιοσ",
        "απριλιου",
        "απρ",
    ],
    &[
        "may",
        "май",
        "мая",
        "mai",
        "mag",
        "május",
        "máj",
        "μαιοσ",
        "μαιου",
        "μαι",
    ],
    &[
        "june",
        "jun",
        "июнь",
        "июня",
        "июн",
        "juin",
        "giu",
        "június",
        "jún",
        "ιουνιοσ",
        "ιουνιου",
        "ιουν",
        "ιον",
    ],
    &[
        "july",
        "jul",
        "июль",
        "июля",
        "июл",
        "juil",
        "lug",
        "július",
        "júl",
        "ιουλιοσ",
        "ιουλιου",
        "ιουλ",
        "ιολ",
    ],
    &[
        "august",
        "aug",
        "август",
        "августа",
        "авг",
        "août",
        "ago",
        "augusztus",
        "αυγουστοσ",
        "αυγουστου",
        "αυγ",
    ],
    &[
        "september",
        "sep",
        "sept",
        "сентябрь",
        "сентября",
        "сен",
        "сент",
        "set",
        "szeptember",
        "szept",
        "σεπτεμβριοσ",
        "σεπτεμβριου",
        "σεπ",
        "σεπτ",
    ],
    &[
        "october",
        "oct",
        "октябрь",
        "октября",
        "окт",
        "okt",
        "ott",
        "out",
        "október",
        "οκτωβριοσ",
        "οκτωβριου",
        "οκτ",
    ],
    &[
        "november",
        "nov",
        "ноябрь",
        "ноября",
        "ноя",
        "νοεμβριοσ",
        "νοεμβριου",
        "νοε",
        "νοεμ",
    ],
    &[
        "december",
        "dec",
        "декабрь",
        "декабря",
        "дек",
        "déc",
        "dez",
        "dic",
        "δεκεμβριοσ",
        "δεκεμβριου",
        "δεκ",
    ],
];

/// A month's number from its name in [`MONTHS`], whatever its case; Greek
/// names with or without their accents (feeds write `Ιούλ`, `Ιουλ` and `ΙΟΥΛ`).
fn month_number(word: &str) -> Option<u32> {
    if word.len() > 24 {
        return None;
    }
    let word: String = word
        .to_lowercase()
        .chars()
        .map(without_greek_accent)
        .collect();
    MONTHS
        .iter()
        .position(|names| names.contains(&word.as_str()))
        .map(|i| i as u32 + 1)
}

/// A lowercase Greek letter without its tonos or dialytika, and final sigma as
/// sigma; any other character as it is.
fn without_greek_accent(c: char) -> char {
    match c {
        'ά' => 'α',
        'έ' => 'ε',
        'ή' => 'η',
        'ί' | 'ϊ' | 'ΐ' => 'ι',
        'ό' => 'ο',
        'ύ' | 'ϋ' | 'ΰ' => 'υ',
        'ώ' => 'ω',
        'ς' => 'σ',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> Option<String> {
        parse_date(text).map(|when| {
            when.instant_in(chrono_tz::UTC)
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string()
        })
    }

    #[test]
    fn rfc_822_in_its_wild_forms() {
        for (text, want) in [
            ("Wed, 22 Jan 2014 20:31:31 +0600", "2014-01-22T14:31:31Z"),
            ("Thu, 01 Aug 2019 16:15 EDT", "2019-08-01T20:15:00Z"),
            ("Tue, 15 Nov 2022 20:15:04 Z", "2022-11-15T20:15:04Z"),
            ("Thu, 07 Dec 17 10:00:29 -0800", "2017-12-07T18:00:29Z"),
            ("Wed, 17 Jan 2018 15:50:00 EST", "2018-01-17T20:50:00Z"),
            ("Wed, 03 Jan 2018 13:47:00 GMT", "2018-01-03T13:47:00Z"),
            ("Sat, 6 Feb 2021 23:01:00 +0000", "2021-02-06T23:01:00Z"),
            ("mer, 16 nov 2022 00:38:15 +0100", "2022-11-15T23:38:15Z"),
            ("Seg, 24 Set 2018 19:42:40 -0300", "2018-09-24T22:42:40Z"),
            ("Thurs, 13 Jul 2011 07:38:00 GMT", "2011-07-13T07:38:00Z"),
            ("Mon, 12 Mar 2012 10:00:00 MSK", "2012-03-12T06:00:00Z"),
            ("Mon, 12 Mar 2018 10:00:00 MSK", "2018-03-12T07:00:00Z"),
            ("Sat, Dec 16 2023 02:02:33 PM", "2023-12-16T14:02:33Z"),
            ("Fri, 31 May 2019 12:17:58 -0700", "2019-05-31T19:17:58Z"),
            ("12 May 2022 10:00 UTC+03:00", "2022-05-12T07:00:00Z"),
        ] {
            assert_eq!(utc(text).as_deref(), Some(want), "{text}");
        }
    }

    #[test]
    fn iso_8601_with_and_without_zone() {
        for (text, want) in [
            ("2023-01-25T19:03:02+01:00", "2023-01-25T18:03:02Z"),
            ("2017-11-08T18:15:58.123-05:00", "2017-11-08T23:15:58Z"),
            ("2020-05-18T05:44:47+0000", "2020-05-18T05:44:47Z"),
            ("2018-09-18 14:38:10", "2018-09-18T14:38:10Z"),
            ("2023-12-16", "2023-12-16T12:00:00Z"),
        ] {
            assert_eq!(utc(text).as_deref(), Some(want), "{text}");
        }
        // No zone: the source's own. 14:38 in Moscow is 11:38 UTC, same day.
        let moscow = chrono_tz::Europe::Moscow;
        let when = parse_date("2018-09-18 14:38:10").unwrap();
        assert_eq!(
            when.instant_in(moscow).to_rfc3339(),
            "2018-09-18T11:38:10+00:00"
        );
        // Late evening in New York is the next day in UTC, the same day there.
        let when = parse_date("Wed, 17 Jan 2018 22:50:00 EST").unwrap();
        assert_eq!(
            when.day_in(chrono_tz::UTC),
            NaiveDate::from_ymd_opt(2018, 1, 18).unwrap()
        );
        assert_eq!(
            when.day_in(chrono_tz::America::New_York),
            NaiveDate::from_ymd_opt(2018, 1, 17).unwrap()
        );
        // A bare day stays that day wherever it is read.
        let day = parse_date("2023-12-16").unwrap();
        for zone in [
            chrono_tz::Pacific::Kiritimati,
            chrono_tz::Pacific::Pago_Pago,
        ] {
            assert_eq!(
                day.instant_in(zone).with_timezone(&zone).date_naive(),
                day.day_in(zone)
            );
        }
    }

    #[test]
    fn words_and_twelve_hour_clocks() {
        let day = |y, m, d| When::Day(NaiveDate::from_ymd_opt(y, m, d).unwrap());
        let local = |y, m, d, h, min| {
            When::Local(
                NaiveDate::from_ymd_opt(y, m, d)
                    .unwrap()
                    .and_hms_opt(h, min, 0)
                    .unwrap(),
            )
        };
        for (text, want) in [
            ("21.05.2022", Some(day(2022, 5, 21))),
            ("21 May 2022", Some(day(2022, 5, 21))),
            ("21 мая 2022", Some(day(2022, 5, 21))),
            ("1 марта 2018 г.", Some(day(2018, 3, 1))),
            ("7 ноября 2019 года", Some(day(2019, 11, 7))),
            ("September  3, 2019", Some(day(2019, 9, 3))),
            ("Sept. 3, 2019", Some(day(2019, 9, 3))),
            (
                "September 3, 2019 at 6:09 AM",
                Some(local(2019, 9, 3, 6, 9)),
            ),
            (
                "August 30, 2019 at  4:09 PM",
                Some(local(2019, 8, 30, 16, 9)),
            ),
            (
                "December 1, 2019 at 12:30 a.m.",
                Some(local(2019, 12, 1, 0, 30)),
            ),
            ("21 мая 2022 г., 10:00", Some(local(2022, 5, 21, 10, 0))),
            ("20.05.2022 14:30", Some(local(2022, 5, 20, 14, 30))),
            ("31 февраля 2020", None),
            ("32.01.2022", None),
            ("21 Maya 2022", None),
            ("Москва: 11:16", None),
            ("Thu, 01 Aug 2019 16:15 XYZ", None),
            ("7 Dec 17", None),
            ("2019", None),
            ("heute, 18:00 Uhr", None),
        ] {
            assert_eq!(parse_date(text), want, "{text}");
        }
        // Hours a clock cannot show leave the day.
        assert_eq!(parse_date("2019-09-03 24:00"), Some(day(2019, 9, 3)));
        assert_eq!(
            parse_date("September 3, 2019 at 13:09 PM"),
            Some(day(2019, 9, 3))
        );
    }

    #[test]
    fn no_month_name_is_in_two_months_and_greek_accents_do_not_matter() {
        let mut seen = std::collections::HashMap::new();
        for (month, names) in MONTHS.iter().enumerate() {
            for name in *names {
                assert_eq!(name.to_lowercase(), *name, "{name}: lower case");
                if let Some(other) = seen.insert(*name, month) {
                    panic!("{name} is in months {} and {}", other + 1, month + 1);
                }
            }
        }
        for (name, month) in [
            ("Ιούλ", 7),
            ("ΙΟΥΛ", 7),
            ("Μαΐου", 5),
            ("Μαϊ", 5),
            ("Δεκεμβρίου", 12),
            ("július", 7),
            ("Szept", 9),
        ] {
            assert_eq!(month_number(name), Some(month), "{name}");
        }
    }

    #[test]
    fn dates_are_found_inside_text() {
        let (when, span) = find_date("Posted on September  3, 2019 at  6:09 AM by Bruce").unwrap();
        assert_eq!(
            when.day_in(chrono_tz::UTC),
            NaiveDate::from_ymd_opt(2019, 9, 3).unwrap()
        );
        assert_eq!(span, 10..40);
        let (when, _) = find_date("Опубликовано 21 мая 2022, 10:00").unwrap();
        assert_eq!(
            when.day_in(chrono_tz::UTC),
            NaiveDate::from_ymd_opt(2022, 5, 21).unwrap()
        );
        // Of two dates, the first; a non-date that looks like one is skipped.
        let (when, _) = find_date("on 31.02.2020 or 03.02.2020, and 21 May 2022").unwrap();
        assert_eq!(
            when,
            When::Day(NaiveDate::from_ymd_opt(2020, 2, 3).unwrap())
        );
        assert_eq!(find_date("no date at all, 10:00, 2022"), None);
        // A bare zone letter in running text is a word, not a zone.
        let (when, _) = find_date("21.05.2022 22:00 AT THE EMBASSY").unwrap();
        assert!(matches!(when, When::Local(_)), "{when:?}");
        let (when, _) = find_date("21.05.2022 22:00 AT").unwrap();
        assert!(matches!(when, When::At(_)), "{when:?}");
    }
}
