//! Clocks and counters at pinned instants: the seed's own moment, Moscow past
//! midnight while London is not, and both sides of London's DST changes.

use chrono::{DateTime, TimeZone, Utc};
use embassy_bot::Config;
use embassy_bot::Language;
use embassy_bot::testing::commands;
use embassy_bot::testing::text::clock::clocks_at;
use embassy_bot::testing::text::counters::counter_lines;

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn times(now: DateTime<Utc>) -> (String, String, String) {
    let clocks = clocks_at(now, &Config::default().time, Language::En);
    assert_eq!(clocks.times[0].0, "Moscow");
    assert_eq!(clocks.times[1].0, "London");
    (
        clocks.date,
        clocks.times[0].1.clone(),
        clocks.times[1].1.clone(),
    )
}

fn days(now: DateTime<Utc>) -> Vec<i64> {
    Config::default()
        .counters
        .iter()
        .map(|c| embassy_bot::testing::text::counters::days_since(now, c))
        .collect()
}

#[test]
fn the_seed_page_moment() {
    // The seed shows 21 May 2022, Moscow 11:16, London 09:16, and 1539 / 1531 days.
    let now = at(2022, 5, 21, 8, 16);
    assert_eq!(
        times(now),
        ("21 May 2022".into(), "11:16".into(), "09:16".into())
    );
    assert_eq!(days(now), vec![1539, 1531]);
    let lines = counter_lines(now, &Config::default().counters, Language::En);
    assert_eq!(
        lines[0],
        "1539 days have passed since the Salisbury incident - no credible information or response from the British authorities"
    );
    assert_eq!(
        lines[1],
        "1531 days have passed since the death of Nikolay Glushkov on British soil - no credible information or response from the British authorities"
    );
    assert_eq!(
        commands::time::reply(now, &Config::default().time, Language::En),
        "<b>21 May 2022</b>\nMoscow: 11:16\nLondon: 09:16"
    );
}

#[test]
fn moscow_is_already_tomorrow() {
    // 21:30 UTC on 21 May: London 22:30 on the 21st, Moscow 00:30 on the 22nd.
    let now = at(2022, 5, 21, 21, 30);
    assert_eq!(
        times(now),
        ("22 May 2022".into(), "00:30".into(), "22:30".into())
    );
    assert_eq!(
        days(now),
        vec![1540, 1532],
        "counters count on the Moscow date"
    );
    // One minute earlier Moscow is still on the 21st.
    assert_eq!(days(at(2022, 5, 21, 20, 59)), vec![1539, 1531]);
}

#[test]
fn london_spring_forward() {
    // Clocks go forward at 01:00 UTC on 27 March 2022; Moscow has no DST.
    assert_eq!(
        times(at(2022, 3, 27, 0, 59)),
        ("27 March 2022".into(), "03:59".into(), "00:59".into())
    );
    assert_eq!(
        times(at(2022, 3, 27, 1, 0)),
        ("27 March 2022".into(), "04:00".into(), "02:00".into())
    );
}

#[test]
fn london_fall_back() {
    // Clocks go back at 01:00 UTC on 30 October 2022: 01:30 happens twice in London.
    assert_eq!(
        times(at(2022, 10, 30, 0, 30)),
        ("30 October 2022".into(), "03:30".into(), "01:30".into())
    );
    assert_eq!(
        times(at(2022, 10, 30, 1, 30)),
        ("30 October 2022".into(), "04:30".into(), "01:30".into())
    );
    assert_eq!(times(at(2022, 10, 30, 2, 0)).2, "02:00");
}

#[test]
fn configured_clocks_and_counters() {
    let config = Config::from_toml(
        r#"
[time]
date_zone = "Asia/Tokyo"
clocks = [{ label = "Tokyo", zone = "Asia/Tokyo" }, { label = "New York", zone = "America/New_York" }]

[[counters]]
text = "Day {days} since launch"
since = "2022-05-20"
zone = "Asia/Tokyo"
"#,
    )
    .unwrap();
    let now = at(2022, 5, 21, 16, 0); // Tokyo: 22 May 01:00
    assert_eq!(
        commands::time::reply(now, &config.time, Language::En),
        "<b>22 May 2022</b>\nTokyo: 01:00\nNew York: 12:00"
    );
    assert_eq!(
        commands::counters::reply(now, &config.counters, Language::En),
        "Day 2 since launch"
    );
}
