//! The metric names of the dashboard, the alert rules and `docs/operations.md`
//! against what `/metrics` exports.

use std::collections::BTreeSet;
use std::time::Duration;

use super::read;
use crate::support::{TestBot, fixture};

/// How long the bot may take to start and read its site.
const WAIT: Duration = Duration::from_secs(20);

/// The names of the samples `/metrics` writes, once the site has been read
/// (some series exist only after a read): `embassy_pushes_sent_total`,
/// `embassy_telegram_send_duration_seconds_bucket`, …
async fn exported_metric_names() -> BTreeSet<String> {
    let mut bot = TestBot::new()
        .page(fixture("rusemb/home-2022-05-23.html"))
        .http()
        .spawn()
        .await;
    let addr = bot.addr();
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    let text = loop {
        let text = client
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        // The read's time is stored a moment before it is counted: wait for both.
        if text.contains("embassy_source_last_success_timestamp_seconds{")
            && text.contains("embassy_source_polls_total{")
        {
            break text;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the site was never read:\n{}",
            bot.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    bot.stop_cleanly().await;
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l[..l.find(['{', ' ']).unwrap_or(l.len())].to_string())
        .collect()
}

/// Every `embassy_…` name in `text`.
fn metric_names_in(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (at, _) in text.match_indices("embassy_") {
        if text[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let name: String = text[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        // The bare prefix, as prose names it, is no metric.
        if name != "embassy_" {
            names.insert(name);
        }
    }
    names
}

/// The PromQL expressions of the Grafana dashboard.
fn dashboard_expressions(dashboard: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    match dashboard {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("expr", serde_json::Value::String(expr)) => out.push(expr.clone()),
                    _ => out.extend(dashboard_expressions(value)),
                }
            }
        }
        serde_json::Value::Array(items) => items
            .iter()
            .for_each(|v| out.extend(dashboard_expressions(v))),
        _ => {}
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_rules_and_docs_name_only_metrics_the_bot_exports() {
    let exported = exported_metric_names().await;
    assert!(
        exported.contains("embassy_pushes_sent_total"),
        "{exported:?}"
    );

    let dashboard_file = "contrib/grafana/embassy-bot.json";
    let dashboard: serde_json::Value =
        serde_json::from_str(&read(dashboard_file)).expect("the dashboard is JSON");
    let expressions = dashboard_expressions(&dashboard);
    assert!(
        expressions.len() >= 8,
        "the dashboard's queries are read: {expressions:?}"
    );
    for expr in &expressions {
        assert!(
            !metric_names_in(expr).is_empty(),
            "{dashboard_file}: `{expr}` reads no metric of the bot"
        );
    }

    let mut problems = Vec::new();
    for file in [
        dashboard_file,
        "contrib/prometheus/alerts.yml",
        "contrib/prometheus/alerts_test.yml",
        "docs/operations.md",
    ] {
        let names = metric_names_in(&read(file));
        assert!(
            names.len() >= 4,
            "{file} names the bot's metrics: {names:?}"
        );
        for name in names {
            // Queries name samples; the docs name a histogram by its family.
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .all(|suffix| exported.contains(&format!("{name}{suffix}")));
            let known = exported.contains(&name) || (file.ends_with(".md") && family);
            if !known {
                problems.push(format!("{file}: `{name}`"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "names that /metrics does not export:\n{}\nexported: {exported:#?}",
        problems.join("\n")
    );

    // And the other way: every metric the bot exports is in the table of
    // docs/operations.md (a histogram by its family's name).
    let documented = metric_names_in(&read("docs/operations.md"));
    let undocumented: Vec<&String> = exported
        .iter()
        .filter(|name| {
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix));
            !documented.contains(*name) && !family.is_some_and(|f| documented.contains(f))
        })
        .collect();
    assert!(
        undocumented.is_empty(),
        "metrics the bot exports that docs/operations.md does not list: {undocumented:?}"
    );
}
