//! `/digest 09:00 [time zone]`: one message a day for the chat, topic or
//! channel, with every release since the one before, instead of one message
//! per release. `/digest off` goes back to one per release; `/digest` shows
//! it. The zone defaults to Europe/London; daylight saving is exact.

use chrono::{DateTime, Utc};

use super::Context;
use super::quiet::{time_arg, zone_arg};
use super::settings::{Place, releases, waiting};
use crate::settings::DigestTime;
use crate::store::StoreError;

/// What `/digest` was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Show,
    Off,
    Set(DigestTime),
}

impl Request {
    /// Whether it changes anything.
    pub fn changes(&self) -> bool {
        *self != Request::Show
    }
}

/// Reads `/digest`'s arguments; the reply saying what to fix when they are wrong.
pub fn parse(args: &str) -> Result<Request, String> {
    let words: Vec<&str> = args.split_whitespace().collect();
    match words.as_slice() {
        [] => Ok(Request::Show),
        [off] if off.eq_ignore_ascii_case("off") => Ok(Request::Off),
        [at] => Ok(Request::Set(DigestTime {
            at: time_arg(at)?,
            zone: zone_arg(None)?,
        })),
        [at, zone] => Ok(Request::Set(DigestTime {
            at: time_arg(at)?,
            zone: zone_arg(Some(zone))?,
        })),
        _ => Err(text::USAGE.into()),
    }
}

/// Runs `/digest` for `place` at `now`. Changes are durable before the
/// reply, and the chat's held pushes are looked at again at once.
pub async fn run(
    ctx: &Context,
    place: &Place,
    request: Request,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let target = place.target;
    match request {
        Request::Show => Ok(match ctx.store.settings(target)?.digest {
            None => text::none(place),
            Some(digest) => text::shown(&digest, now, waiting(ctx, target)?),
        }),
        Request::Set(digest) => {
            ctx.store
                .change_settings(target, |s| s.digest = Some(digest))
                .await?;
            ctx.holds.lift(target.chat);
            Ok(text::set(place, &digest, now))
        }
        Request::Off => {
            let (had, quiet) = ctx
                .store
                .change_settings(target, |s| (s.digest.take().is_some(), s.quiet.is_some()))
                .await?;
            ctx.holds.lift(target.chat);
            let on_their_way = if quiet { 0 } else { waiting(ctx, target)? };
            Ok(text::off(place, had, on_their_way))
        }
    }
}

/// Every reply of `/digest`, kept together.
mod text {
    use super::*;
    use crate::commands::quiet::text::local;
    use crate::settings::hh_mm;

    pub const USAGE: &str = "Usage: /digest 09:00 sends one message a day at 09:00 with every release since the one before; add a time zone to use another than Europe/London (/digest 09:00 Europe/Moscow); /digest off goes back to one message per release; /digest shows it.";

    /// "09:00 (Europe/London)".
    fn when(digest: &DigestTime) -> String {
        format!("{} ({})", hh_mm(digest.at), digest.zone.name())
    }

    /// When the next digest goes: "on 27 March at 09:00".
    fn next(digest: &DigestTime, now: DateTime<Utc>) -> String {
        let at = digest.next_after(now);
        format!(
            "on {} at {}",
            at.with_timezone(&digest.zone).format("%-d %B"),
            local(at, digest.zone)
        )
    }

    pub fn none(place: &Place) -> String {
        format!(
            "{} gets each release on its own. /digest 09:00 sends one message a day instead, with every release since the one before (add a time zone for another than Europe/London).",
            place.subject
        )
    }

    pub fn shown(digest: &DigestTime, now: DateTime<Utc>, waiting: usize) -> String {
        format!(
            "Daily digest at {}: the next {}, with {} so far. /digest off goes back to one message per release.",
            when(digest),
            next(digest, now),
            releases(waiting)
        )
    }

    pub fn set(place: &Place, digest: &DigestTime, now: DateTime<Utc>) -> String {
        format!(
            "Daily digest for {} at {}: one message a day with every release since the one before; the first {}. /digest off goes back to one message per release.",
            place.object,
            when(digest),
            next(digest, now)
        )
    }

    pub fn off(place: &Place, had: bool, on_their_way: usize) -> String {
        if !had {
            return format!("{} gets each release on its own already.", place.subject);
        }
        let mut text = format!(
            "Daily digest off: {} gets each release on its own again.",
            place.object
        );
        match on_their_way {
            0 => {}
            1 => text.push_str(" The 1 release waiting for the digest is on its way."),
            n => text.push_str(&format!(
                " The {n} releases waiting for the digest are on their way."
            )),
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::parse_time;
    use chrono_tz::Europe::{London, Moscow};

    #[test]
    fn parses_a_time_a_zone_and_off() {
        let at = |t: &str, zone| {
            Ok(Request::Set(DigestTime {
                at: parse_time(t).unwrap(),
                zone,
            }))
        };
        assert_eq!(parse(""), Ok(Request::Show));
        assert_eq!(parse("off"), Ok(Request::Off));
        assert_eq!(parse("9:00"), at("09:00", London));
        assert_eq!(parse("18:30 Europe/Moscow"), at("18:30", Moscow));
        assert!(
            parse("09:00 Europe/Moscow now")
                .unwrap_err()
                .starts_with("Usage")
        );
        assert!(parse("9am").unwrap_err().contains("not a time"));
        assert!(parse("09:00 Nowhere").unwrap_err().contains("Nowhere"));
    }
}
