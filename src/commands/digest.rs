//! `/digest 09:00 [time zone]`: one message a day for the chat, topic or
//! channel, with every release since the one before, instead of one message
//! per release. `/digest off` goes back to one per release; `/digest` shows
//! it. The zone defaults to Europe/London; daylight saving is exact.

use chrono::{DateTime, Utc};

use super::Context;
use super::holds::{change_hold, end_hold, releases, waiting};
use super::quiet::{time_arg, zone_arg};
use super::reply::Usage;
use super::settings_command::{self, Scope, SettingsCommand};
use crate::config::Language;
use crate::settings::DigestTime;
use crate::store::StoreError;

/// What `/digest` was asked to do: show, end or set the daily digest.
pub(crate) type Request = settings_command::Request<DigestTime>;

/// Reads `/digest`'s arguments; the usage saying what to fix when they are
/// wrong.
pub(crate) fn parse(args: &str) -> Result<Request, Usage> {
    Request::read(args, read_time)
}

/// A digest's time as typed: "09:00", or "09:00 Zone".
fn read_time(args: &str) -> Result<DigestTime, Usage> {
    let words: Vec<&str> = args.split_whitespace().collect();
    match words.as_slice() {
        [at] => Ok(DigestTime {
            at: time_arg(at)?,
            zone: zone_arg(None)?,
        }),
        [at, zone] => Ok(DigestTime {
            at: time_arg(at)?,
            zone: zone_arg(Some(zone))?,
        }),
        _ => Err(Usage::of("digest-usage")),
    }
}

/// `/digest` for a scope at `now`: changes are durable before the reply,
/// and the chat's held pushes are looked at again at once.
impl SettingsCommand for Request {
    fn changes(&self) -> bool {
        *self != Request::Show
    }

    async fn apply(
        self,
        ctx: &Context,
        scope: &Scope,
        now: DateTime<Utc>,
        lang: Language,
    ) -> Result<String, StoreError> {
        let target = scope.target;
        match self {
            Request::Show => Ok(match ctx.store.settings(target)?.digest {
                None => text::none(scope, lang),
                Some(digest) => text::shown(&digest, now, waiting(ctx, target)?, lang),
            }),
            Request::Set(digest) => {
                change_hold(ctx, target, |s| s.digest = Some(digest)).await?;
                Ok(text::set(scope, &digest, now, lang))
            }
            Request::Off(()) => {
                let (had, on_their_way) =
                    end_hold(ctx, target, |s| s.digest.take().is_some()).await?;
                Ok(text::off(scope, had, on_their_way, lang))
            }
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

    pub(super) fn none(scope: &Scope, lang: Language) -> String {
        tr!(
            lang,
            "digest-none",
            place = scope.kind,
            name = scope.name.as_str()
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
        scope: &Scope,
        digest: &DigestTime,
        now: DateTime<Utc>,
        lang: Language,
    ) -> String {
        tr!(
            lang,
            "digest-set",
            place = scope.kind,
            name = scope.name.as_str(),
            when = when(digest),
            next = next(digest, now, lang)
        )
    }

    pub(super) fn off(scope: &Scope, had: bool, on_their_way: usize, lang: Language) -> String {
        let (p, name) = (scope.kind, scope.name.as_str());
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
        let said = |args: &str| parse(args).unwrap_err().words(Language::En);
        assert_eq!(parse(""), Ok(Request::Show));
        assert_eq!(parse("off"), Ok(Request::Off(())));
        assert_eq!(parse("9:00"), at("09:00", London));
        assert_eq!(parse("18:30 Europe/Moscow"), at("18:30", Moscow));
        assert!(said("09:00 Europe/Moscow now").starts_with("Usage"));
        assert!(said("9am").contains("not a time"));
        assert!(said("09:00 Nowhere").contains("Nowhere"));
    }
}
