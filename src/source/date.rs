//! Dates as pages and feeds write them, read without guessing wrong.
//!
//! One reader serves HTML listings, `<time datetime>` attributes and feed
//! timestamps (feed-rs hands every timestamp to [`parse_timestamp`]). The forms
//! seen in the wild:
//!
//! - RFC 822 with or without seconds or weekday, with a zone name (`GMT`, `EDT`,
//!   `MSK`), a numeric zone, `Z`, or none; two-digit years after a time;
//! - ISO 8601 with or without a time, with or without a zone
//!   (`2018-09-18 14:38:10`, `2023-01-25T19:03:02+01:00`, `2023-12-16`);
//! - `DD.MM.YYYY`, `D Month YYYY` and `Month D, YYYY`, the month in English or
//!   Russian (or the abbreviations of the usual Western European languages, as
//!   in `mer, 16 nov 2022` or `Seg, 24 Set 2018`), with an optional time, 12-hour
//!   clocks included (`at 6:09 AM`, `02:02:33 PM`).
//!
//! A time without a zone is wall-clock time where the source publishes: its
//! `time_zone`. A date that cannot be read is no date (the item stays undated);
//! an unknown zone name or an impossible day is never guessed around.

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

/// A feed timestamp in any form [`parse_date`] reads, as an instant; a time
/// without a zone is wall-clock time in `zone`. What feed-rs is given.
pub fn parse_timestamp(text: &str, zone: Tz) -> Option<DateTime<Utc>> {
    parse_date(text).map(|when| when.instant_in(zone))
}

/// Reads `text` when all of it is one date (surrounding spaces, a leading
/// weekday, a trailing `г.` or full stop allowed).
pub fn parse_date(text: &str) -> Option<When> {
    let text = text.trim().trim_end_matches('.');
    let text = WEEKDAY.find(text).map_or(text, |m| &text[m.end()..]);
    if text.len() > 80 || !text.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    let c = DATE.captures(text)?;
    let whole = c.get(0)?;
    (whole.start() == 0 && text[whole.end()..].trim().is_empty())
        .then(|| read(&c))
        .flatten()
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

/// Every date form, then an optional time and zone. One regex, so text is
/// scanned once; word boundaries are ASCII (`(?-u:\b)`), which keeps the
/// regex crate on its fast engines for Cyrillic text too. The forms:
/// ISO 8601 (`2018-09-18`, `2023-01-25T19:03:02+01:00`); `DD.MM.YYYY`;
/// `D Month YYYY` (`21 May 2022`, `1 марта 2018 г.`, `Wed, 22 Jan 2014`,
/// `07 Dec 17 10:00`); `Month D, YYYY` (`September 3, 2019`, `Dec 16 2023`).
static DATE: LazyLock<Regex> = LazyLock::new(|| {
    let iso = r"(?<iy>\d{4})[-/](?<im>\d{1,2})[-/](?<id>\d{1,2})";
    let dmy = r"(?<nd>\d{1,2})\.(?<nm>\d{1,2})\.(?<ny>\d{4})(?-u:\b)";
    let day_first = r"(?<dd>\d{1,2})(?:\.|st|nd|rd|th)?\s+(?<dm>\p{L}{3,12})\.?,?\s+(?<dy>\d{4}|\d{2})(?-u:\b)(?:\s*(?:года|г\.?))?";
    let month_first =
        r"(?<mm>\p{L}{3,12})\.?\s+(?<md>\d{1,2})(?:st|nd|rd|th)?,?\s+(?<my>\d{4})(?-u:\b)";
    let time = r"(?:(?:\s*[,T|–—-]\s*|\s+)(?:(?:at|в|um|à)\s+)?(?<hour>\d{1,2}):(?<minute>\d{2})(?::(?<second>\d{2})(?:[.,]\d{1,9})?)?(?:\s*(?<ampm>(?i:[ap]\.?m)(?-u:\b)\.?))?(?:\s*(?<zone>[+-]\d{1,2}(?::?\d{2})?|(?:UTC|GMT|UT)(?:[+-]\d{1,2}(?::?\d{2})?)?|Z|[ECMP][SD]T|AK[SD]T|HST|MS[KD]|BST|CES?T|EES?T|WES?T|JST|KST)(?-u:\b))?)?";
    Regex::new(&format!(
        r"(?-u:\b)(?:{iso}|{dmy}|{day_first}|{month_first}){time}"
    ))
    .expect("valid regex")
});

/// A date from the captures, or `None` when they name no real date.
fn read(c: &Captures<'_>) -> Option<When> {
    let any = |names: &[&str]| names.iter().find_map(|name| c.name(name));
    let has_time = c.name("hour").is_some();
    let year = match any(&["iy", "ny", "dy", "my"])?.as_str() {
        // Two-digit years only in RFC 822 timestamps (a time follows).
        y if y.len() == 2 && has_time => {
            let y: i32 = y.parse().ok()?;
            if y < 50 { 2000 + y } else { 1900 + y }
        }
        y if y.len() == 4 => y.parse().ok()?,
        _ => return None,
    };
    if !(1900..=2199).contains(&year) {
        return None;
    }
    let month = match any(&["dm", "mm"]) {
        Some(name) => month_number(name.as_str())?,
        None => any(&["im", "nm"])?.as_str().parse().ok()?,
    };
    let day = any(&["id", "nd", "dd", "md"])?.as_str().parse().ok()?;
    let day = NaiveDate::from_ymd_opt(year, month, day)?;
    if !has_time {
        return Some(When::Day(day));
    }
    let Some(time) = time_of_day(c) else {
        // A day with an impossible time ("24:00", "13:00 PM"): the day stands.
        return Some(When::Day(day));
    };
    let local = day.and_time(time);
    Some(match c.name("zone") {
        None => When::Local(local),
        Some(zone) => When::At(in_zone(local, zone.as_str())?),
    })
}

fn time_of_day(c: &Captures<'_>) -> Option<NaiveTime> {
    let number = |name: &str| {
        c.name(name)
            .map_or(Some(0), |m| m.as_str().parse::<u32>().ok())
    };
    let mut hour = number("hour")?;
    if let Some(ampm) = c.name("ampm") {
        if !(1..=12).contains(&hour) {
            return None;
        }
        let pm = ampm.as_str().to_ascii_lowercase().starts_with('p');
        hour = match (hour, pm) {
            (12, false) => 0,
            (12, true) => 12,
            (h, true) => h + 12,
            (h, false) => h,
        };
    }
    NaiveTime::from_hms_opt(hour, number("minute")?, number("second")?.min(59))
}

/// `local` read in the named zone: an offset, or a name whose offset is fixed
/// (US zones, as RFC 822 defines them) or looked up for that day (`MSK`).
fn in_zone(local: NaiveDateTime, zone: &str) -> Option<DateTime<FixedOffset>> {
    let fixed = |hours: i32| FixedOffset::east_opt(hours * 3600);
    let offset = match zone {
        "Z" | "UT" | "UTC" | "GMT" | "WET" => fixed(0),
        "BST" | "CET" | "WEST" => fixed(1),
        "CEST" | "EET" => fixed(2),
        "EEST" => fixed(3),
        "EDT" => fixed(-4),
        "EST" | "CDT" => fixed(-5),
        "CST" | "MDT" => fixed(-6),
        "MST" | "PDT" => fixed(-7),
        "PST" | "AKDT" => fixed(-8),
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

/// A month's number from its name: English (full or abbreviated), Russian
/// (nominative, genitive or abbreviated), or the abbreviations RFC 822 dates
/// carry in French, German, Italian, Spanish and Portuguese feeds. No name is
/// in two months' lists.
fn month_number(word: &str) -> Option<u32> {
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
        ],
        &["march", "mar", "март", "марта", "мар", "mars", "mär", "mrz"],
        &["april", "apr", "апрель", "апреля", "апр", "avr", "abr"],
        &["may", "май", "мая", "mai", "mag"],
        &["june", "jun", "июнь", "июня", "июн", "juin", "giu"],
        &["july", "jul", "июль", "июля", "июл", "juil", "lug"],
        &["august", "aug", "август", "августа", "авг", "août", "ago"],
        &[
            "september",
            "sep",
            "sept",
            "сентябрь",
            "сентября",
            "сен",
            "сент",
            "set",
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
        ],
        &["november", "nov", "ноябрь", "ноября", "ноя"],
        &[
            "december",
            "dec",
            "декабрь",
            "декабря",
            "дек",
            "déc",
            "dez",
            "dic",
        ],
    ];
    if word.len() > 24 {
        return None;
    }
    let word = word.to_lowercase();
    MONTHS
        .iter()
        .position(|names| names.contains(&word.as_str()))
        .map(|i| i as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> Option<String> {
        parse_timestamp(text, chrono_tz::UTC).map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
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
    }
}
