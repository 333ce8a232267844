//! `/quiet 23:00-07:00 [time zone]`: quiet hours for the chat, topic or
//! channel. Pushes that fall due in them are held (journaled, like any
//! deferred push) and sent when they end, several as one digest message.
//! `/quiet off` ends them; `/quiet` shows them. The zone defaults to
//! Europe/London; daylight saving is exact.

use chrono::{DateTime, NaiveTime, Utc};
use chrono_tz::Tz;

use super::Context;
use super::holds::{change_hold, end_hold, releases, waiting};
use super::reply::Usage;
use super::settings_command::{self, Scope, SettingsCommand};
use crate::config::Language;
use crate::settings::{DEFAULT_ZONE, QuietHours, QuietState, hh_mm, parse_time, parse_zone};
use crate::store::StoreError;
use crate::text::markup::{escape, shorten};

/// What `/quiet` was asked to do: show, end or set the quiet hours.
pub(crate) type Request = settings_command::Request<QuietHours>;

/// Reads `/quiet`'s arguments; the usage saying what to fix when they are
/// wrong.
pub(crate) fn parse(args: &str) -> Result<Request, Usage> {
    Request::read(args, read_hours)
}

/// Quiet hours as typed: "23:00-07:00 Zone", "23:00 - 07:00 Zone", with a
/// hyphen or a dash.
fn read_hours(args: &str) -> Result<QuietHours, Usage> {
    let spaced = args.replace(['–', '—'], "-").replacen('-', " - ", 1);
    let words: Vec<&str> = spaced.split_whitespace().collect();
    let (from, to, zone) = match words.as_slice() {
        [from, "-", to] => (*from, *to, None),
        [from, "-", to, zone] => (*from, *to, Some(*zone)),
        _ => return Err(Usage::of("quiet-usage")),
    };
    let (from, to, zone) = (time_arg(from)?, time_arg(to)?, zone_arg(zone)?);
    if from == to {
        return Err(Usage::of("quiet-same-times"));
    }
    Ok(QuietHours { from, to, zone })
}

/// A time of day as typed, or the usage saying how to write one.
pub(super) fn time_arg(typed: &str) -> Result<NaiveTime, Usage> {
    parse_time(typed)
        .ok_or_else(|| Usage::of("bad-time").with_text("typed", escape(&shorten(typed, 20))))
}

/// A time zone as typed (`None`: the default), or the usage saying how to
/// name one.
pub(super) fn zone_arg(typed: Option<&str>) -> Result<Tz, Usage> {
    match typed {
        None => Ok(DEFAULT_ZONE),
        Some(name) => parse_zone(name)
            .ok_or_else(|| Usage::of("bad-zone").with_text("typed", escape(&shorten(name, 40)))),
    }
}

/// `/quiet` for a scope at `now`: changes are durable before the reply, and
/// the chat's held pushes are looked at again at once.
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
            Request::Show => {
                let settings = ctx.store.settings(target)?;
                Ok(match settings.quiet {
                    None => text::none(scope, lang),
                    Some(quiet) => {
                        text::shown(&quiet, quiet.state(now), waiting(ctx, target)?, lang)
                    }
                })
            }
            Request::Set(quiet) => {
                change_hold(ctx, target, |s| s.quiet = Some(quiet)).await?;
                Ok(text::set(scope, &quiet, quiet.state(now), lang))
            }
            Request::Off(()) => {
                let (had, on_their_way) =
                    end_hold(ctx, target, |s| s.quiet.take().is_some()).await?;
                Ok(text::off(scope, had, on_their_way, lang))
            }
        }
    }
}

/// Every reply of `/quiet`, kept together (and the local time of day that
/// `/digest` shares).
pub(super) mod text {
    use super::*;
    use crate::tr;

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

    pub(crate) fn none(scope: &Scope, lang: Language) -> String {
        tr!(
            lang,
            "quiet-none",
            place = scope.kind,
            name = scope.name.as_str()
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
        scope: &Scope,
        quiet: &QuietHours,
        now: QuietState,
        lang: Language,
    ) -> String {
        let mut text = tr!(
            lang,
            "quiet-set",
            place = scope.kind,
            name = scope.name.as_str(),
            hours = hours(quiet)
        );
        if let QuietState::HeldUntil(end) = now {
            text.push(' ');
            text.push_str(&tr!(lang, "quiet-now", until = local(end, quiet.zone)));
        }
        text
    }

    pub(crate) fn off(scope: &Scope, had: bool, on_their_way: usize, lang: Language) -> String {
        if !had {
            return tr!(
                lang,
                "quiet-off-none",
                place = scope.kind,
                name = scope.name.as_str()
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
        let said = |args: &str| parse(args).unwrap_err().words(Language::En);
        assert_eq!(parse(""), Ok(Request::Show));
        assert_eq!(parse("OFF"), Ok(Request::Off(())));
        assert_eq!(parse("23:00-07:00"), Ok(hours("23:00", "07:00", London)));
        assert_eq!(parse("23:00 – 7:00"), Ok(hours("23:00", "07:00", London)));
        assert_eq!(
            parse("22:30-06:15 europe/moscow"),
            Ok(hours("22:30", "06:15", Moscow))
        );
        assert!(said("23:00").starts_with("Usage"));
        assert!(said("23:00-07:00 Europe/London extra").starts_with("Usage"));
        assert!(said("25:00-07:00").contains("“25:00” is not a time"));
        assert!(said("23:00-07:00 Mars/Olympus").contains("Mars/Olympus"));
        assert!(said("07:00-07:00").contains("different times"));
        assert!(
            said("<b>-07:00").contains("&lt;b&gt;"),
            "what the user typed is escaped"
        );
    }
}
