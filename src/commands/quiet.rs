//! `/quiet 23:00-07:00 [time zone]`: quiet hours for the chat, topic or
//! channel. Pushes that fall due in them are held (journaled, like any
//! deferred push) and sent when they end, several as one digest message.
//! `/quiet off` ends them; `/quiet` shows them. The zone defaults to
//! Europe/London; daylight saving is exact.

use chrono::{DateTime, NaiveTime, Utc};
use chrono_tz::Tz;

use super::Context;
use super::settings::{Place, change_hold, end_hold, releases, waiting};
use crate::config::Language;
use crate::settings::{DEFAULT_ZONE, QuietHours, QuietState, hh_mm, parse_time, parse_zone};
use crate::store::StoreError;
use crate::text::markup::escape;
use crate::tr;

/// What `/quiet` was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Request {
    Show,
    Off,
    Set(QuietHours),
}

impl Request {
    /// Whether it changes anything.
    pub(crate) fn changes(&self) -> bool {
        *self != Request::Show
    }
}

/// Reads `/quiet`'s arguments; the reply (in `lang`) saying what to fix
/// when they are wrong.
pub(crate) fn parse(args: &str, lang: Language) -> Result<Request, String> {
    let args = args.trim();
    if args.is_empty() {
        return Ok(Request::Show);
    }
    if args.eq_ignore_ascii_case("off") {
        return Ok(Request::Off);
    }
    // "23:00-07:00 Zone", "23:00 - 07:00 Zone", with a hyphen or a dash.
    let spaced = args.replace(['–', '—'], "-").replacen('-', " - ", 1);
    let words: Vec<&str> = spaced.split_whitespace().collect();
    let (from, to, zone) = match words.as_slice() {
        [from, "-", to] => (*from, *to, None),
        [from, "-", to, zone] => (*from, *to, Some(*zone)),
        _ => return Err(tr!(lang, "quiet-usage")),
    };
    let (from, to, zone) = (
        time_arg(from, lang)?,
        time_arg(to, lang)?,
        zone_arg(zone, lang)?,
    );
    if from == to {
        return Err(tr!(lang, "quiet-same-times"));
    }
    Ok(Request::Set(QuietHours { from, to, zone }))
}

/// A time of day as typed, or the reply saying how to write one.
pub(super) fn time_arg(typed: &str, lang: Language) -> Result<NaiveTime, String> {
    parse_time(typed).ok_or_else(|| text::bad_time(typed, lang))
}

/// A time zone as typed (`None`: the default), or the reply saying how to name one.
pub(super) fn zone_arg(typed: Option<&str>, lang: Language) -> Result<Tz, String> {
    match typed {
        None => Ok(DEFAULT_ZONE),
        Some(name) => parse_zone(name).ok_or_else(|| text::bad_zone(name, lang)),
    }
}

/// Runs `/quiet` for `place` at `now`. Changes are durable before the reply,
/// and the chat's held pushes are looked at again at once.
pub(crate) async fn run(
    ctx: &Context,
    place: &Place,
    request: Request,
    now: DateTime<Utc>,
    lang: Language,
) -> Result<String, StoreError> {
    let target = place.target;
    match request {
        Request::Show => {
            let settings = ctx.store.settings(target)?;
            Ok(match settings.quiet {
                None => text::none(place, lang),
                Some(quiet) => text::shown(&quiet, quiet.state(now), waiting(ctx, target)?, lang),
            })
        }
        Request::Set(quiet) => {
            change_hold(ctx, target, |s| s.quiet = Some(quiet)).await?;
            Ok(text::set(place, &quiet, quiet.state(now), lang))
        }
        Request::Off => {
            let (had, on_their_way) = end_hold(ctx, target, |s| s.quiet.take().is_some()).await?;
            Ok(text::off(place, had, on_their_way, lang))
        }
    }
}

/// Every reply of `/quiet`, kept together (and the words for times and
/// zones that `/digest` shares).
pub(super) mod text {
    use super::*;
    use crate::tr;

    pub(crate) fn bad_time(typed: &str, lang: Language) -> String {
        tr!(
            lang,
            "bad-time",
            typed = escape(&crate::text::markup::shorten(typed, 20))
        )
    }

    pub(crate) fn bad_zone(typed: &str, lang: Language) -> String {
        tr!(
            lang,
            "bad-zone",
            typed = escape(&crate::text::markup::shorten(typed, 40))
        )
    }

    /// "23:00–07:00 (Europe/London)": the same in every language.
    pub(crate) fn hours(quiet: &QuietHours) -> String {
        format!(
            "{}–{} ({})",
            hh_mm(quiet.from),
            hh_mm(quiet.to),
            quiet.zone.name()
        )
    }

    /// The local time `at` in `zone`, as HH:MM.
    pub(crate) fn local(at: DateTime<Utc>, zone: Tz) -> String {
        at.with_timezone(&zone).format("%H:%M").to_string()
    }

    pub(crate) fn none(place: &Place, lang: Language) -> String {
        tr!(
            lang,
            "quiet-none",
            place = place.kind,
            name = place.name.as_str()
        )
    }

    pub(crate) fn shown(
        quiet: &QuietHours,
        now: QuietState,
        waiting: usize,
        lang: Language,
    ) -> String {
        match now {
            QuietState::HeldUntil(end) => tr!(
                lang,
                "quiet-shown-held",
                hours = hours(quiet),
                until = local(end, quiet.zone),
                waiting = releases(waiting, lang)
            ),
            QuietState::Open => tr!(lang, "quiet-shown-open", hours = hours(quiet)),
        }
    }

    pub(crate) fn set(
        place: &Place,
        quiet: &QuietHours,
        now: QuietState,
        lang: Language,
    ) -> String {
        let mut text = tr!(
            lang,
            "quiet-set",
            place = place.kind,
            name = place.name.as_str(),
            hours = hours(quiet)
        );
        if let QuietState::HeldUntil(end) = now {
            text.push(' ');
            text.push_str(&tr!(lang, "quiet-now", until = local(end, quiet.zone)));
        }
        text
    }

    pub(crate) fn off(place: &Place, had: bool, on_their_way: usize, lang: Language) -> String {
        if !had {
            return tr!(
                lang,
                "quiet-off-none",
                place = place.kind,
                name = place.name.as_str()
            );
        }
        let mut text = tr!(lang, "quiet-off");
        if on_their_way > 0 {
            text.push(' ');
            text.push_str(&tr!(lang, "quiet-off-on-way", count = on_their_way));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::{London, Moscow};

    fn hours(from: &str, to: &str, zone: Tz) -> Request {
        Request::Set(QuietHours {
            from: parse_time(from).unwrap(),
            to: parse_time(to).unwrap(),
            zone,
        })
    }

    #[test]
    fn parses_hours_zones_and_off() {
        assert_eq!(parse("", Language::En), Ok(Request::Show));
        assert_eq!(parse("OFF", Language::En), Ok(Request::Off));
        assert_eq!(
            parse("23:00-07:00", Language::En),
            Ok(hours("23:00", "07:00", London))
        );
        assert_eq!(
            parse("23:00 – 7:00", Language::En),
            Ok(hours("23:00", "07:00", London))
        );
        assert_eq!(
            parse("22:30-06:15 europe/moscow", Language::En),
            Ok(hours("22:30", "06:15", Moscow))
        );
        assert!(
            parse("23:00", Language::En)
                .unwrap_err()
                .starts_with("Usage")
        );
        assert!(
            parse("23:00-07:00 Europe/London extra", Language::En)
                .unwrap_err()
                .starts_with("Usage")
        );
        assert!(
            parse("25:00-07:00", Language::En)
                .unwrap_err()
                .contains("“25:00” is not a time")
        );
        assert!(
            parse("23:00-07:00 Mars/Olympus", Language::En)
                .unwrap_err()
                .contains("Mars/Olympus")
        );
        assert!(
            parse("07:00-07:00", Language::En)
                .unwrap_err()
                .contains("different times")
        );
        assert!(
            parse("<b>-07:00", Language::En)
                .unwrap_err()
                .contains("&lt;b&gt;"),
            "what the user typed is escaped"
        );
    }
}
