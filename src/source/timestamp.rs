//! Feed timestamps: every form a mature feed reader reads, and why one is not.
//!
//! A feed's `pubDate`, `updated`, `published` or `dc:date` is one date and
//! nothing else, so it is read whole and strictly: an impossible time is no
//! date, where a listing's date would stand without its clock. Beyond what
//! [`super::date`] reads on pages, feeds write two more families of forms,
//! read here as the reference feed reader (Python's feedparser) reads them:
//!
//! - asctime, with or without a zone before the year (`Sun Jan  4 16:29:06
//!   2004`, `Sun Jul 15 01:16:00 +0000 2012`): the same parts as RFC 822 in
//!   another order, so they are put back in RFC 822's and read as that;
//! - ISO 8601's short and truncated forms ([`iso_short`]): no separators
//!   (`20031231`), two-digit years (`031231`, `03-12-31`), a year and month
//!   (`-0312`, `-03-12`, `2003-12`: the 1st), ordinal days (`03335`,
//!   `2003-335`), a day of this year (`--12-31`, `-335`), and a producer's bug,
//!   a three-digit month (`2003-012-31T10:14:55+00:00`).
//!
//! feed-rs hands every timestamp to the parser we give it and keeps what comes
//! back; [`Stamps`] keeps the texts instead, so each entry's dates are read
//! afterwards, knowing `now` and able to say why a date is none.

use std::sync::LazyLock;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use regex::Regex;

use super::date::{Unread, When, read_whole, without_weekday};

/// `text`, a feed's timestamp, as a date, or why it is none. `now` is for the
/// parts the form leaves out ([`iso_short`]); nothing else depends on it.
pub(crate) fn read_timestamp(text: &str, now: DateTime<Utc>) -> Result<When, Unread> {
    let first = match read_whole(text) {
        Ok(when) => return Ok(when),
        Err(why) => why,
    };
    let rest = without_weekday(text).ok_or(Unread::NotUnderstood)?;
    let second = match asctime_as_rfc_822(rest).map(|text| read_whole(&text)) {
        Some(Ok(when)) => return Ok(when),
        Some(Err(why)) => why,
        None => Unread::NotUnderstood,
    };
    let third = match iso_short(rest, now) {
        Some(Ok(when)) => return Ok(when),
        Some(Err(why)) => why,
        None => Unread::NotUnderstood,
    };
    // The most telling reason: a form that fitted but named no real day or
    // time says more than a form that stopped short, which says more than none.
    Err([first, second, third]
        .into_iter()
        .max_by_key(|why| match why {
            Unread::NotUnderstood => 0,
            Unread::Trailing(_) => 1,
            _ => 2,
        })
        .unwrap_or(Unread::NotUnderstood))
}

/// asctime's parts (`Jan 4 16:29:06 [zone] 2004`, the weekday already gone) in
/// RFC 822's order (`4 Jan 2004 16:29:06 [zone]`); `None` when `text` does not
/// have asctime's shape. Whether the parts are a real date is RFC 822's reader's
/// to say.
fn asctime_as_rfc_822(text: &str) -> Option<String> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let (month, day, time, zone, year) = match parts[..] {
        [month, day, time, year] => (month, day, time, None, year),
        [month, day, time, zone, year] => (month, day, time, Some(zone), year),
        _ => return None,
    };
    let digits = |s: &str, lengths: &[usize]| {
        lengths.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    let shaped = month.chars().all(char::is_alphabetic)
        && digits(day, &[1, 2])
        && time.contains(':')
        && digits(year, &[4]);
    shaped.then(|| match zone {
        Some(zone) => format!("{day} {month} {year} {time} {zone}"),
        None => format!("{day} {month} {year} {time}"),
    })
}

/// ISO 8601's short forms, whole, in the reference reader's order of trial
/// (the first that fits wins: `031231` is a two-digit year, month and day, not
/// a year `0312`), then an optional time after `T` or a space, and an optional
/// zone. Group names: `y` a four-digit year, `yy` a two-digit one, `m` month,
/// `d` day, `o` day of the year.
static ISO_SHORT: LazyLock<Regex> = LazyLock::new(|| {
    let forms = [
        r"(?<y1>\d{4})-?(?<m1>\d{2})-?(?<d1>\d{2})",
        // A month written with three digits, `2003-012-31`: a known producer bug.
        r"(?<y2>\d{4})-0(?<m2>\d{2})-(?<d2>\d{2})",
        r"(?<y3>\d{4})-(?<m3>\d{2})",
        r"(?<y4>\d{4})-?(?<o4>\d{3})",
        r"(?<yy5>\d{2})-?(?<m5>\d{2})-?(?<d5>\d{2})",
        r"(?<yy6>\d{2})-?(?<o6>\d{3})",
        r"-(?<yy7>\d{2})-?(?<m7>\d{2})",
        r"-(?<o8>\d{3})",
        r"--(?<m9>\d{2})-?(?<d9>\d{2})",
    ];
    let time = r"(?:(?:T|\s+)(?<hour>\d{1,2}):(?<minute>\d{2})(?::(?<second>\d{2})(?:[.,]\d{1,9})?)?\s*(?<zone>Z|[+-]\d{2}(?::?\d{2})?)?)?";
    Regex::new(&format!(r"^(?:{}){time}$", forms.join("|"))).expect("valid regex")
});

/// `text` read as one of ISO 8601's short forms ([`ISO_SHORT`]); `None` when
/// it is none of them. What the form leaves out is filled in as the reference
/// feed reader fills it in:
///
/// - a two-digit year is in the century of `now` (`03` is 2003 until 2100:
///   ISO 8601's reading, unlike RFC 822's two-digit years);
/// - no year at all (`--12-31`, `-335`) is `now`'s year;
/// - no day (`-0312`, `2003-12`) is the 1st of the month;
/// - no time is a calendar day ([`When::Day`]: the reference's midnight UTC
///   is that day), and no zone is the source's `time_zone` ([`When::Local`]:
///   UTC unless the source says otherwise, as the reference assumes).
///
/// Forms with less than a month (a year, a century, a day of an unnamed
/// month) are not read: they would date a release by a guess.
fn iso_short(text: &str, now: DateTime<Utc>) -> Option<Result<When, Unread>> {
    let c = ISO_SHORT.captures(text)?;
    let number = |names: &[&str]| -> Option<u32> {
        names
            .iter()
            .find_map(|name| c.name(name))
            .and_then(|m| m.as_str().parse().ok())
    };
    let century = now.year() / 100 * 100;
    let year = match (
        number(&["y1", "y2", "y3", "y4"]),
        number(&["yy5", "yy6", "yy7"]),
    ) {
        (Some(year), _) => i32::try_from(year).ok()?,
        (None, Some(short)) => century + i32::try_from(short).ok()?,
        (None, None) => now.year(),
    };
    if !(1900..=2199).contains(&year) {
        return Some(Err(Unread::YearOutOfRange));
    }
    let day = match number(&["o4", "o6", "o8"]) {
        Some(ordinal) => NaiveDate::from_yo_opt(year, ordinal),
        None => NaiveDate::from_ymd_opt(
            year,
            number(&["m1", "m2", "m3", "m5", "m7", "m9"])?,
            number(&["d1", "d2", "d5", "d9"]).unwrap_or(1),
        ),
    };
    let Some(day) = day else {
        return Some(Err(Unread::NoSuchDay));
    };
    let Some(hour) = c.name("hour") else {
        return Some(Ok(When::Day(day)));
    };
    let part = |name: &str| c.name(name).map_or(Some(0), |m| m.as_str().parse().ok());
    let time = hour
        .as_str()
        .parse()
        .ok()
        .zip(part("minute"))
        .zip(part("second"))
        .and_then(|((h, m), s): ((u32, u32), u32)| NaiveTime::from_hms_opt(h, m, s));
    let Some(time) = time else {
        return Some(Err(Unread::NoSuchTime));
    };
    let local = day.and_time(time);
    Some(match c.name("zone").map(|z| z.as_str()) {
        None => Ok(When::Local(local)),
        Some("Z") => Ok(When::At(Utc.from_utc_datetime(&local).fixed_offset())),
        Some(offset) => iso_offset(offset)
            .and_then(|offset| offset.from_local_datetime(&local).single())
            .map(When::At)
            .ok_or(Unread::NoSuchOffset),
    })
}

/// `+08`, `-0500`, `+05:30`: at most 14 hours either way.
fn iso_offset(text: &str) -> Option<FixedOffset> {
    let sign = if text.starts_with('-') { -1 } else { 1 };
    let digits: String = text[1..].chars().filter(char::is_ascii_digit).collect();
    let hours: i32 = digits.get(..2)?.parse().ok()?;
    let minutes: i32 = match digits.get(2..) {
        Some("") | None => 0,
        Some(minutes) => minutes.parse().ok()?,
    };
    if hours > 14 || minutes > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

/// The timestamps of one feed as written, in the order feed-rs met them.
///
/// feed-rs reads a timestamp with the function we give it and keeps the
/// instant it returns. [`Stamps::recorder`] keeps the text instead and returns
/// a stand-in: an instant more than 200,000 years before any date, its
/// distance in seconds from the earliest instant chrono knows being the text's
/// place here. [`Stamps::read`] turns a stand-in back into its text and reads
/// that, with `now` and a reason when it is no date.
#[derive(Debug, Clone, Default)]
pub(crate) struct Stamps(Arc<Mutex<Vec<String>>>);

/// A timestamp is at most this many characters as kept (a date is far shorter;
/// the rest would only be shown).
const KEPT_CHARS: usize = 100;

impl Stamps {
    /// The timestamp parser to give feed-rs: keeps `text`, returns its stand-in.
    pub(crate) fn recorder(
        &self,
    ) -> impl Fn(&str) -> Option<DateTime<Utc>> + Send + Sync + 'static {
        let texts = Arc::clone(&self.0);
        move |text: &str| {
            let mut texts = texts.lock().unwrap_or_else(PoisonError::into_inner);
            let at = i64::try_from(texts.len()).ok()?;
            texts.push(text.trim().chars().take(KEPT_CHARS).collect());
            DateTime::<Utc>::MIN_UTC.checked_add_signed(chrono::TimeDelta::seconds(at))
        }
    }

    /// The text behind `stand_in` and what it reads as; `None` for an instant
    /// that is no stand-in of these stamps.
    pub(crate) fn read(
        &self,
        stand_in: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<(String, Result<When, Unread>)> {
        let at = usize::try_from((stand_in - DateTime::<Utc>::MIN_UTC).num_seconds()).ok()?;
        let text = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(at)?
            .clone();
        let read = read_timestamp(&text, now);
        Some((text, read))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// When the reference's tests and ours were written: its two-digit ISO
    /// years are in this century.
    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, 13, 0, 0).unwrap()
    }

    /// The instant `text` names, in UTC to the second, a zone-less time read
    /// in UTC (a source's default `time_zone`, and the reference's reading).
    fn utc(text: &str) -> Result<String, Unread> {
        read_timestamp(text, now())
            .map(|when| when_in_utc(when).format("%Y-%m-%dT%H:%M:%SZ").to_string())
    }

    /// A bare day as the reference gives it, midnight UTC; any other date as
    /// its instant.
    fn when_in_utc(when: When) -> DateTime<Utc> {
        match when {
            When::Day(day) => Utc.from_utc_datetime(&day.and_time(NaiveTime::MIN)),
            other => other.instant_in(chrono_tz::UTC),
        }
    }

    fn check(cases: &[(&str, &str)]) {
        for (text, want) in cases {
            assert_eq!(utc(text).as_deref(), Ok(*want), "{text}");
        }
    }

    // Each expected instant below is worked out from the reference reader's
    // rules, and was checked against feedparser 6.0.14's own date handlers;
    // the few cases where we read more than it does say so.

    #[test]
    fn asctime_with_and_without_a_zone() {
        check(&[
            // No zone: UTC, as the reference reads it.
            ("Sun Jan  4 16:29:06 2004", "2004-01-04T16:29:06Z"),
            ("Sun Jul 15 01:16:00 +0000 2012", "2012-07-15T01:16:00Z"),
            // A zone before the year moves the instant.
            ("Sun Jan  4 16:29:06 +0100 2004", "2004-01-04T15:29:06Z"),
            ("Sun Jan  4 16:29:06 PST 2004", "2004-01-05T00:29:06Z"),
            // The weekday is not checked against the date (here it is wrong).
            ("Mon Jan  4 16:29:06 2004", "2004-01-04T16:29:06Z"),
        ]);
        assert_eq!(
            utc("Sun Jan 32 16:29:06 2004"),
            Err(Unread::NoSuchDay),
            "asctime's shape, but no such day"
        );
    }

    #[test]
    fn weekday_and_month_before_the_day_with_the_zone_after_the_year() {
        check(&[
            ("Thu Aug 30 2012 17:26:16 +0200", "2012-08-30T15:26:16Z"),
            (
                "Thursday Aug 30 2012 17:26:16 GMT+0200",
                "2012-08-30T15:26:16Z",
            ),
            ("Aug 30 2012 17:26:16 -0700", "2012-08-31T00:26:16Z"),
        ]);
    }

    #[test]
    fn long_month_names_with_north_american_zone_letters() {
        // The bare letters are standard time all year, as the reference has it.
        check(&[
            ("Mon, 26 January 2004 16:31:00 ET", "2004-01-26T21:31:00Z"),
            ("Mon, 26 January 2004 16:31:00 AT", "2004-01-26T20:31:00Z"),
            ("Mon, 26 January 2004 16:31:00 CT", "2004-01-26T22:31:00Z"),
            ("Mon, 26 January 2004 16:31:00 MT", "2004-01-26T23:31:00Z"),
            ("Mon, 26 January 2004 16:31:00 PT", "2004-01-27T00:31:00Z"),
            ("Mon, 26 July 2004 16:31:00 ET", "2004-07-26T21:31:00Z"),
            ("Mon, 26 January 2004 16:31:00 EST", "2004-01-26T21:31:00Z"),
            ("Mon, 26 January 2004 16:31:00 EDT", "2004-01-26T20:31:00Z"),
            ("Mon, 26 January 2004 16:31:00 AST", "2004-01-26T20:31:00Z"),
            ("Mon, 26 January 2004 16:31:00 ADT", "2004-01-26T19:31:00Z"),
            ("Mon, 26 January 2004 16:31:00 CST", "2004-01-26T22:31:00Z"),
            ("Mon, 26 January 2004 16:31:00 CDT", "2004-01-26T21:31:00Z"),
            ("Mon, 26 January 2004 16:31:00 MST", "2004-01-26T23:31:00Z"),
            ("Mon, 26 January 2004 16:31:00 MDT", "2004-01-26T22:31:00Z"),
            ("Mon, 26 January 2004 16:31:00 PST", "2004-01-27T00:31:00Z"),
            ("Mon, 26 January 2004 16:31:00 PDT", "2004-01-26T23:31:00Z"),
            ("Mon, 26 January 2004 16:31 ET", "2004-01-26T21:31:00Z"),
        ]);
    }

    #[test]
    fn met_mest_and_etc_gmt() {
        check(&[
            ("Thu, 30 Apr 2015 08:57:00 MET", "2015-04-30T07:57:00Z"),
            ("Thu, 30 Apr 2015 08:57:00 MEST", "2015-04-30T06:57:00Z"),
            ("Thu, 01 Jan 2004 19:48:21 MET", "2004-01-01T18:48:21Z"),
            ("Wed, 19 Aug 2009 18:28:00 Etc/GMT", "2009-08-19T18:28:00Z"),
            ("Wed, 19 Aug 2009 18:28:00 Etc/UTC", "2009-08-19T18:28:00Z"),
        ]);
    }

    #[test]
    fn iso_8601_short_forms() {
        check(&[
            // Two-digit years are this century's (now is 2026).
            ("031231", "2003-12-31T00:00:00Z"),
            ("03-12-31", "2003-12-31T00:00:00Z"),
            // A two-digit year and a month: the 1st.
            ("-03-12", "2003-12-01T00:00:00Z"),
            ("-0312", "2003-12-01T00:00:00Z"),
            // Day 335 of 2003 (not a leap year) is 1 December.
            ("03335", "2003-12-01T00:00:00Z"),
            ("2003335", "2003-12-01T00:00:00Z"),
            ("2003-335", "2003-12-01T00:00:00Z"),
            ("2004-335", "2004-11-30T00:00:00Z"),
            ("20031231", "2003-12-31T00:00:00Z"),
            ("2003-12", "2003-12-01T00:00:00Z"),
            ("99-12-31", "2099-12-31T00:00:00Z"),
            // The three-digit month of a known producer bug.
            ("2003-012-31T10:14:55+00:00", "2003-12-31T10:14:55Z"),
            // With a time, a zone or both.
            ("031231T10:14:55Z", "2003-12-31T10:14:55Z"),
            ("03-12-31T10:14-08:00", "2003-12-31T18:14:00Z"),
            ("20031231T10:14:55.25+0100", "2003-12-31T09:14:55Z"),
            ("2003335T10:14", "2003-12-01T10:14:00Z"),
            // No year: now's.
            ("--12-31", "2026-12-31T00:00:00Z"),
            ("--1231", "2026-12-31T00:00:00Z"),
            ("-335", "2026-12-01T00:00:00Z"),
        ]);
        // The century is now's: in 2101, `03` is 2103.
        let later = Utc.with_ymd_and_hms(2101, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(
            read_timestamp("031231", later),
            Ok(When::Day(NaiveDate::from_ymd_opt(2103, 12, 31).unwrap()))
        );
    }

    #[test]
    fn greek_hungarian_and_korean_months_and_layouts() {
        check(&[
            ("Κυρ, 11 Ιούλ 2004 12:00:00 EST", "2004-07-11T17:00:00Z"),
            ("Τρι, 11 Μάι 2004 12:00:00 +0300", "2004-05-11T09:00:00Z"),
            // Beyond the reference, whose table has only the accented
            // abbreviations: without accents, and in capitals.
            ("Κυρ, 11 Ιουλ 2004 12:00:00 GMT", "2004-07-11T12:00:00Z"),
            ("Τετ, 1 ΔΕΚ 2004 08:00:00 +0200", "2004-12-01T06:00:00Z"),
            ("2004-július-13T9:15-05:00", "2004-07-13T14:15:00Z"),
            // Beyond the reference, which wants no seconds here.
            ("2004-május-13T09:15:00+02:00", "2004-05-13T07:15:00Z"),
            // Korean dates are Korea's time, +09:00, with no zone written.
            ("2004-05-25 오후 11:23:17", "2004-05-25T14:23:17Z"),
            ("2004-05-25 오전 11:23:17", "2004-05-25T02:23:17Z"),
            ("2004년 05월 28일  01:31:15", "2004-05-27T16:31:15Z"),
            // Beyond the reference, which wants two digits each.
            ("2004년 5월 8일 1:31:15", "2004-05-07T16:31:15Z"),
            // A 12-hour clock's twelve: 오전 12 is just after midnight, 오후
            // 12 just after noon (the reference takes the first for noon and
            // reads no time in the second).
            ("2004-05-25 오전 12:23:17", "2004-05-24T15:23:17Z"),
            ("2004-05-25 오후 12:23:17", "2004-05-25T03:23:17Z"),
        ]);
    }

    #[test]
    fn two_digit_years_after_a_day_and_month_as_the_reference_reads_them() {
        check(&[
            ("Thu, 01 Jan 04 19:48:21 GMT", "2004-01-01T19:48:21Z"),
            ("Sun, 06 Nov 94 08:49:37 GMT", "1994-11-06T08:49:37Z"),
            ("Sun, 06 Nov 89 08:49:37 GMT", "2089-11-06T08:49:37Z"),
            ("Sun, 06 Nov 90 08:49:37 GMT", "1990-11-06T08:49:37Z"),
        ]);
    }

    #[test]
    fn the_forms_read_before_still_read() {
        check(&[
            ("Wed, 22 Jan 2014 20:31:31 +0600", "2014-01-22T14:31:31Z"),
            ("2003-12-31T10:14:55Z", "2003-12-31T10:14:55Z"),
            ("2003-12-31T10:14:55-08:00", "2003-12-31T18:14:55Z"),
            ("2007-04-23T23:25:47.538+10:00", "2007-04-23T13:25:47Z"),
            ("2003-12-31", "2003-12-31T00:00:00Z"),
            ("2004-07-08 23:56:58", "2004-07-08T23:56:58Z"),
            (
                "Wed, 19 Feb 2012 22:40:00 GMT-01:01",
                "2012-02-19T23:41:00Z",
            ),
            ("Mon, 13 Feb, 2012 06:28:00 UTC", "2012-02-13T06:28:00Z"),
            ("Thu,  5 Apr 2012 10:00:00 GMT", "2012-04-05T10:00:00Z"),
            ("Thu, 01 Jan 2004", "2004-01-01T00:00:00Z"),
        ]);
    }

    #[test]
    fn what_is_no_date_stays_none_and_says_why() {
        for (text, why) in [
            ("Sun, 99 Jun 2009 12:00:00 GMT", Unread::NoSuchDay),
            ("2004-02-30T10:00:00Z", Unread::NoSuchDay),
            ("031331", Unread::NoSuchDay),
            ("03366", Unread::NoSuchDay),
            ("2003-12-31T25:14:55Z", Unread::NoSuchTime),
            ("2003-12-31T10:61:55Z", Unread::NoSuchTime),
            ("2003-12-31T10:14:61Z", Unread::NoSuchTime),
            ("Thu, 01 Jan 2004 25:48:21 GMT", Unread::NoSuchTime),
            ("031231T25:00", Unread::NoSuchTime),
            (
                "Sun, 16 Dec 2012 11:47:32 +zz:00",
                Unread::Trailing("+zz:00".into()),
            ),
            (
                "Sun, 16 Dec 2012 11:47:32 +00:zz",
                Unread::Trailing(":zz".into()),
            ),
            ("Thu, 01 Aug 2019 16:15 XYZ", Unread::Trailing("XYZ".into())),
            ("9999-12-31T23:59:59-99:99", Unread::YearOutOfRange),
            ("Thu, 01 Jan 0100 00:00:01 +0100", Unread::YearOutOfRange),
            ("Sun, 16 zzz 2012 11:47:32 GMT", Unread::NotUnderstood),
            ("Sun, Dec x 2012 11:47:32 GMT", Unread::NotUnderstood),
            (
                "Sun, 16 Dec 2012 1:2:3:4 GMT",
                Unread::Trailing("1:2:3:4 GMT".into()),
            ),
            (
                "2013-01-28T11:30:00-06:00Textra",
                Unread::Trailing(":00Textra".into()),
            ),
            ("2013-xx-27", Unread::NotUnderstood),
            ("013", Unread::NotUnderstood),
            ("2013-01-27-01", Unread::Trailing("-01".into())),
            ("2003", Unread::NotUnderstood),
            ("---31", Unread::NotUnderstood),
            (
                "Thu Aug 30 2012 17:26:16 +0200 junk",
                Unread::Trailing("junk".into()),
            ),
            ("2004-februári-13T9:15-05:00", Unread::NotUnderstood),
            ("yesterday", Unread::NotUnderstood),
            ("", Unread::NotUnderstood),
        ] {
            assert_eq!(utc(text), Err(why), "{text}");
        }
        assert_eq!(
            Unread::Trailing("XYZ".into()).to_string(),
            "not understood: `XYZ` after the date"
        );
    }

    #[test]
    fn stand_ins_go_back_to_their_texts() {
        let stamps = Stamps::default();
        let record = stamps.recorder();
        let first = record(" 2004-05-25 오후 11:23:17 ").unwrap();
        let second = record("not a date").unwrap();
        assert!(first < second && second.year() < -200_000);
        let (text, read) = stamps.read(first, now()).unwrap();
        assert_eq!(text, "2004-05-25 오후 11:23:17");
        assert_eq!(
            read.map(when_in_utc).map(|t| t.to_rfc3339()),
            Ok("2004-05-25T14:23:17+00:00".to_string())
        );
        assert_eq!(
            stamps.read(second, now()),
            Some(("not a date".to_string(), Err(Unread::NotUnderstood)))
        );
        assert_eq!(stamps.read(now(), now()), None, "no stand-in");
    }
}
