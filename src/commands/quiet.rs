//! `/quiet 23:00-07:00 [time zone]`: quiet hours for the chat, topic or
//! channel. Pushes that fall due in them are held (journaled, like any
//! deferred push) and sent when they end, several as one digest message.
//! `/quiet off` ends them; `/quiet` shows them. The zone defaults to
//! Europe/London; daylight saving is exact.

use chrono::{DateTime, NaiveTime, Utc};
use chrono_tz::Tz;

use super::Context;
use super::settings::{Place, releases, waiting};
use crate::render::escape;
use crate::settings::{DEFAULT_ZONE, QuietHours, QuietState, hh_mm, parse_time, parse_zone};
use crate::store::StoreError;

/// What `/quiet` was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Show,
    Off,
    Set(QuietHours),
}

impl Request {
    /// Whether it changes anything.
    pub fn changes(&self) -> bool {
        *self != Request::Show
    }
}

/// Reads `/quiet`'s arguments; the reply saying what to fix when they are wrong.
pub fn parse(args: &str) -> Result<Request, String> {
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
        _ => return Err(text::USAGE.into()),
    };
    let (from, to, zone) = (time_arg(from)?, time_arg(to)?, zone_arg(zone)?);
    if from == to {
        return Err(text::SAME_TIMES.into());
    }
    Ok(Request::Set(QuietHours { from, to, zone }))
}

/// A time of day as typed, or the reply saying how to write one.
pub(super) fn time_arg(typed: &str) -> Result<NaiveTime, String> {
    parse_time(typed).ok_or_else(|| text::bad_time(typed))
}

/// A time zone as typed (`None`: the default), or the reply saying how to name one.
pub(super) fn zone_arg(typed: Option<&str>) -> Result<Tz, String> {
    match typed {
        None => Ok(DEFAULT_ZONE),
        Some(name) => parse_zone(name).ok_or_else(|| text::bad_zone(name)),
    }
}

/// Runs `/quiet` for `place` at `now`. Changes are durable before the reply,
/// and the chat's held pushes are looked at again at once.
pub async fn run(
    ctx: &Context,
    place: &Place,
    request: Request,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let target = place.target;
    match request {
        Request::Show => {
            let settings = ctx.store.settings(target)?;
            Ok(match settings.quiet {
                None => text::none(place),
                Some(quiet) => text::shown(&quiet, quiet.state(now), waiting(ctx, target)?),
            })
        }
        Request::Set(quiet) => {
            ctx.store
                .change_settings(target, |s| s.quiet = Some(quiet))
                .await?;
            ctx.holds.lift(target.chat);
            Ok(text::set(place, &quiet, quiet.state(now)))
        }
        Request::Off => {
            let (had, digest) = ctx
                .store
                .change_settings(target, |s| (s.quiet.take().is_some(), s.digest.is_some()))
                .await?;
            ctx.holds.lift(target.chat);
            let on_their_way = if digest { 0 } else { waiting(ctx, target)? };
            Ok(text::off(place, had, on_their_way))
        }
    }
}

/// Every reply of `/quiet`, kept together (and the words for times and
/// zones that `/digest` shares).
pub(super) mod text {
    use super::*;

    pub const USAGE: &str = "Usage: /quiet 23:00-07:00 holds releases overnight and sends them together at 07:00; add a time zone to use another than Europe/London (/quiet 23:00-07:00 Europe/Moscow); /quiet off ends them; /quiet shows them.";
    pub const SAME_TIMES: &str =
        "Quiet hours must start and end at different times, for example /quiet 23:00-07:00.";

    pub fn bad_time(typed: &str) -> String {
        format!(
            "“{}” is not a time of day: write it as HH:MM, from 00:00 to 23:59 (for example 07:00).",
            escape(&crate::render::shorten(typed, 20))
        )
    }

    pub fn bad_zone(typed: &str) -> String {
        format!(
            "I don't know the time zone “{}”. Use a name from the time zone database, such as Europe/London, Europe/Moscow or Asia/Dubai.",
            escape(&crate::render::shorten(typed, 40))
        )
    }

    pub fn hours(quiet: &QuietHours) -> String {
        format!(
            "{}–{} ({})",
            hh_mm(quiet.from),
            hh_mm(quiet.to),
            quiet.zone.name()
        )
    }

    /// The local time `at` in `zone`, as HH:MM.
    pub fn local(at: DateTime<Utc>, zone: Tz) -> String {
        at.with_timezone(&zone).format("%H:%M").to_string()
    }

    pub fn none(place: &Place) -> String {
        format!(
            "{} has no quiet hours: releases arrive as they are published. /quiet 23:00-07:00 holds them overnight and sends them together in the morning (add a time zone for another than Europe/London).",
            place.subject
        )
    }

    pub fn shown(quiet: &QuietHours, now: QuietState, waiting: usize) -> String {
        let state = match now {
            QuietState::HeldUntil(end) => format!(
                "It is quiet now, until {}; {} waiting.",
                local(end, quiet.zone),
                releases(waiting)
            ),
            QuietState::Open => {
                "Releases published in them arrive together when they end.".to_string()
            }
        };
        format!(
            "Quiet hours: {}. {state} /quiet off ends them.",
            hours(quiet)
        )
    }

    pub fn set(place: &Place, quiet: &QuietHours, now: QuietState) -> String {
        let mut text = format!(
            "Quiet hours set for {}: {}. Releases published then are held and arrive together when they end. /quiet off ends them.",
            place.object,
            hours(quiet)
        );
        if let QuietState::HeldUntil(end) = now {
            text.push_str(&format!(
                " It is quiet now, until {}.",
                local(end, quiet.zone)
            ));
        }
        text
    }

    pub fn off(place: &Place, had: bool, on_their_way: usize) -> String {
        if !had {
            return format!("{} has no quiet hours.", place.subject);
        }
        let mut text = "Quiet hours are off: releases arrive as they are published.".to_string();
        match on_their_way {
            0 => {}
            1 => text.push_str(" The 1 release held is on its way."),
            n => text.push_str(&format!(" The {n} releases held are on their way.")),
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
        assert_eq!(parse(""), Ok(Request::Show));
        assert_eq!(parse("OFF"), Ok(Request::Off));
        assert_eq!(parse("23:00-07:00"), Ok(hours("23:00", "07:00", London)));
        assert_eq!(parse("23:00 – 7:00"), Ok(hours("23:00", "07:00", London)));
        assert_eq!(
            parse("22:30-06:15 europe/moscow"),
            Ok(hours("22:30", "06:15", Moscow))
        );
        assert!(parse("23:00").unwrap_err().starts_with("Usage"));
        assert!(
            parse("23:00-07:00 Europe/London extra")
                .unwrap_err()
                .starts_with("Usage")
        );
        assert!(
            parse("25:00-07:00")
                .unwrap_err()
                .contains("“25:00” is not a time")
        );
        assert!(
            parse("23:00-07:00 Mars/Olympus")
                .unwrap_err()
                .contains("Mars/Olympus")
        );
        assert_eq!(parse("07:00-07:00"), Err(text::SAME_TIMES.into()));
        assert!(
            parse("<b>-07:00").unwrap_err().contains("&lt;b&gt;"),
            "what the user typed is escaped"
        );
    }
}
