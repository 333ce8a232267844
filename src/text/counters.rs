//! The site's "N days have passed since ..." counters.
//!
//! The site counts on the calendar date of a configured zone (Moscow), not on
//! the reader's: near midnight Moscow is already a day ahead of London.
//! The text is the configured one for the reader's language; `{days_word}`
//! in it becomes the word for "days" that agrees with the number there
//! (1 день, 2 дня, 5 дней, 21 день).

use chrono::{DateTime, Utc};

use crate::config::CounterConfig;
use crate::config::Language;
use crate::tr;

/// Whole days from the counter's start date to `now`'s date in the counter's zone.
pub fn days_since(now: DateTime<Utc>, counter: &CounterConfig) -> i64 {
    let today = now.with_timezone(&counter.zone).date_naive();
    (today - counter.since).num_days()
}

/// The counter's text in `language` with `{days}` (and `{days_word}`) filled
/// in for `now`.
pub fn counter_line(now: DateTime<Utc>, counter: &CounterConfig, language: Language) -> String {
    let days = days_since(now, counter);
    counter
        .text
        .get(language)
        .replace("{days_word}", &tr!(language, "days-word", days = days))
        .replace("{days}", &days.to_string())
}

/// Every configured counter line at `now` in `language`, in configured order.
pub fn counter_lines(
    now: DateTime<Utc>,
    counters: &[CounterConfig],
    language: Language,
) -> Vec<String> {
    counters
        .iter()
        .map(|c| counter_line(now, c, language))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LocalizedText;
    use chrono::NaiveDate;

    #[test]
    fn russian_days_agree_with_the_number() {
        let since = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let counter = CounterConfig {
            text: LocalizedText::translated(
                "{days} days",
                &[(Language::Ru, "{days} {days_word} прошло")],
            ),
            since,
            zone: chrono_tz::Europe::Moscow,
        };
        let at = |days: i64| {
            (since + chrono::Days::new(days as u64))
                .and_hms_opt(12, 0, 0)
                .unwrap()
                .and_utc()
        };
        let ru: Vec<String> = [1, 2, 5, 11, 21]
            .into_iter()
            .map(|d| counter_line(at(d), &counter, Language::Ru))
            .collect();
        assert_eq!(
            ru,
            [
                "1 день прошло",
                "2 дня прошло",
                "5 дней прошло",
                "11 дней прошло",
                "21 день прошло"
            ]
        );
        assert_eq!(counter_line(at(2), &counter, Language::En), "2 days");
    }
}
