//! `/digest 09:00 [time zone]`: one message a day for the chat, topic or
//! channel, with every release since the one before, instead of one message
//! per release. `/digest off` goes back to one per release; `/digest` shows
//! it. The zone defaults to Europe/London; daylight saving is exact.

use chrono::{DateTime, Utc};

use super::Context;
use super::quiet::{time_arg, zone_arg};
use super::settings::{Place, change_hold, end_hold, releases, waiting};
use crate::config::Language;
use crate::settings::DigestTime;
use crate::store::StoreError;

/// What `/digest` was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Request {
    Show,
    Off,
    Set(DigestTime),
}

impl Request {
    /// Whether it changes anything.
    pub(crate) fn changes(&self) -> bool {
        *self != Request::Show
    }
}

/// Reads `/digest`'s arguments; the reply (in `lang`) saying what to fix
/// when they are wrong.
pub(crate) fn parse(args: &str, lang: Language) -> Result<Request, String> {
    let words: Vec<&str> = args.split_whitespace().collect();
    match words.as_slice() {
        [] => Ok(Request::Show),
        [off] if off.eq_ignore_ascii_case("off") => Ok(Request::Off),
        [at] => Ok(Request::Set(DigestTime {
            at: time_arg(at, lang)?,
            zone: zone_arg(None, lang)?,
        })),
        [at, zone] => Ok(Request::Set(DigestTime {
            at: time_arg(at, lang)?,
            zone: zone_arg(Some(zone), lang)?,
        })),
        _ => Err(crate::tr!(lang, "digest-usage")),
    }
}

/// Runs `/digest` for `place` at `now`. Changes are durable before the
/// reply, and the chat's held pushes are looked at again at once.
pub(crate) async fn run(
    ctx: &Context,
    place: &Place,
    request: Request,
    now: DateTime<Utc>,
    lang: Language,
) -> Result<String, StoreError> {
    let target = place.target;
    match request {
        Request::Show => Ok(match ctx.store.settings(target)?.digest {
            None => text::none(place, lang),
            Some(digest) => text::shown(&digest, now, waiting(ctx, target)?, lang),
        }),
        Request::Set(digest) => {
            change_hold(ctx, target, |s| s.digest = Some(digest)).await?;
            Ok(text::set(place, &digest, now, lang))
        }
        Request::Off => {
            let (had, on_their_way) = end_hold(ctx, target, |s| s.digest.take().is_some()).await?;
            Ok(text::off(place, had, on_their_way, lang))
        }
    }
}

/// Every reply of `/digest`, kept together.
mod text {
    use super::*;
    use crate::commands::quiet::text::local;
    use crate::settings::hh_mm;
    use crate::tr;

    /// "09:00 (Europe/London)".
    fn when(digest: &DigestTime) -> String {
        format!("{} ({})", hh_mm(digest.at), digest.zone.name())
    }

    /// When the next digest goes: "on 27 March at 09:00".
    fn next(digest: &DigestTime, now: DateTime<Utc>, lang: Language) -> String {
        let at = digest.next_after(now);
        tr!(
            lang,
            "digest-next",
            date = crate::text::i18n::day_month(lang, at.with_timezone(&digest.zone).date_naive()),
            time = local(at, digest.zone)
        )
    }

    pub(super) fn none(place: &Place, lang: Language) -> String {
        tr!(
            lang,
            "digest-none",
            place = place.kind,
            name = place.name.as_str()
        )
    }

    pub(super) fn shown(
        digest: &DigestTime,
        now: DateTime<Utc>,
        waiting: usize,
        lang: Language,
    ) -> String {
        tr!(
            lang,
            "digest-shown",
            when = when(digest),
            next = next(digest, now, lang),
            waiting = releases(waiting, lang)
        )
    }

    pub(super) fn set(
        place: &Place,
        digest: &DigestTime,
        now: DateTime<Utc>,
        lang: Language,
    ) -> String {
        tr!(
            lang,
            "digest-set",
            place = place.kind,
            name = place.name.as_str(),
            when = when(digest),
            next = next(digest, now, lang)
        )
    }

    pub(super) fn off(place: &Place, had: bool, on_their_way: usize, lang: Language) -> String {
        let (p, name) = (place.kind, place.name.as_str());
        if !had {
            return tr!(lang, "digest-off-none", place = p, name = name);
        }
        let mut text = tr!(lang, "digest-off", place = p, name = name);
        if on_their_way > 0 {
            text.push(' ');
            text.push_str(&tr!(lang, "digest-off-on-way", count = on_their_way));
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
        assert_eq!(parse("", Language::En), Ok(Request::Show));
        assert_eq!(parse("off", Language::En), Ok(Request::Off));
        assert_eq!(parse("9:00", Language::En), at("09:00", London));
        assert_eq!(
            parse("18:30 Europe/Moscow", Language::En),
            at("18:30", Moscow)
        );
        assert!(
            parse("09:00 Europe/Moscow now", Language::En)
                .unwrap_err()
                .starts_with("Usage")
        );
        assert!(
            parse("9am", Language::En)
                .unwrap_err()
                .contains("not a time")
        );
        assert!(
            parse("09:00 Nowhere", Language::En)
                .unwrap_err()
                .contains("Nowhere")
        );
    }
}
