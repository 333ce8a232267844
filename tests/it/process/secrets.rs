//! Secrets stay secret: a config error on the token's line does not print the
//! token, and a source URL with credentials or an API key is used for the
//! request but shown redacted everywhere a person can see it — `check-config`,
//! `check-source`, the log, `/sources`, `/status`, operator alerts, and the
//! links of the releases read from it.

use chrono::Utc;

use crate::support::site::FakeSite;
use crate::support::{ADMIN, TestBot, release_page, run_binary, source_toml};

const SECRETS: [&str; 2] = ["hunter2", "abc123"];

fn assert_no_secret(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} shows `{secret}`:\n{text}");
    }
}

/// A URL on the fake site with user info and an API key in its query.
fn with_credentials(site: &FakeSite) -> String {
    format!(
        "http://reader:hunter2@127.0.0.1:{}/?lang=en&api_key=abc123",
        site.port()
    )
}

fn redacted(site: &FakeSite) -> String {
    format!("http://***@127.0.0.1:{}/?lang=en&api_key=***", site.port())
}

/// [`redacted`] as it appears in the bot's HTML messages.
fn redacted_html(site: &FakeSite) -> String {
    redacted(site).replace('&', "&amp;")
}

#[test]
fn a_config_error_on_the_token_line_never_prints_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    for (text, says) in [
        // Unquoted: a TOML syntax error whose excerpt would be the token.
        (
            "[telegram]\ntoken = 123456:AAE-abc123-hunter2\n",
            "line 2, column 9, at `telegram.token`",
        ),
        // Misspelled key.
        (
            "[telegram]\ntokne = \"123456:AAE-abc123-hunter2\"\n",
            "line 2, column 1, at `telegram.tokne`: unknown field `tokne`",
        ),
        // A wrong type quotes the value in serde's message.
        (
            "[telegram]\nthrottle = \"abc123-hunter2\"\n",
            "at `telegram.throttle`: invalid type: string \"…\", expected a boolean",
        ),
    ] {
        std::fs::write(&config, text).unwrap();
        for command in ["check-config", "run"] {
            let (code, stdout, stderr) =
                run_binary(&["--config", config.to_str().unwrap(), command], &[]);
            assert_eq!(code, Some(1), "{text:?}: {stderr}");
            assert!(stderr.contains(says), "{text:?} gave {stderr}");
            assert_no_secret("the error", &(stdout + &stderr));
        }
    }
}

#[test]
fn check_config_shows_urls_without_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        "[telegram]\napi_url = \"https://bot:hunter2@tg.example/\"\n\
         [[sources]]\nname = \"feed\"\nurl = \"https://reader:hunter2@example.org/rss?lang=en&api_key=abc123\"\n",
    )
    .unwrap();
    let (code, stdout, stderr) =
        run_binary(&["--config", config.to_str().unwrap(), "check-config"], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("https://***@example.org/rss?lang=en&api_key=***"),
        "{stdout}"
    );
    assert!(stdout.contains("api https://***@tg.example/"), "{stdout}");
    assert_no_secret("check-config", &(stdout + &stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_source_uses_the_credentials_but_shows_them_redacted() {
    let today = Utc::now().date_naive();
    let site = FakeSite::start(release_page(&[(1, today, "One"), (2, today, "Two")])).await;
    let url = with_credentials(&site);
    let (code, stdout, stderr) =
        tokio::task::spawn_blocking(move || run_binary(&["check-source", &url], &[]))
            .await
            .unwrap();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.starts_with(&redacted(&site)), "{stdout}");
    // reqwest takes the user info out of the URL it requests (into the header).
    assert!(
        stdout.contains(&format!(
            "HTTP 200 from http://127.0.0.1:{}/?lang=en&api_key=***",
            site.port()
        )),
        "{stdout}"
    );
    assert!(stdout.contains("/fnapr/1"), "{stdout}");
    assert_no_secret("check-source", &(stdout + &stderr));
    // The credentials went to the site, as Basic auth ("reader:hunter2").
    assert_eq!(
        site.requests()[0].header("authorization"),
        Some("Basic cmVhZGVyOmh1bnRlcjI=")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_running_bot_never_shows_a_source_urls_credentials() {
    let today = Utc::now().date_naive();
    let items = [(1, today, "One"), (2, today, "Two"), (3, today, "Three")];
    let site = FakeSite::start(release_page(&items)).await;
    let sources = source_toml("private", &with_credentials(&site), 1, "");
    let mut bot = TestBot::new().sources(sources).spawn().await;
    let telegram = bot.telegram.clone();
    let reader = 5001;
    let latest = bot
        .ask_until(reader, "/latest", |r| r.contains("Three"))
        .await;

    // The page empties (an alert and an error that name the URL), then fails.
    site.set_page("<html><body><p>Nothing here</p></body></html>");
    bot.eventually("the emptied alert", || {
        telegram
            .sent_to(ADMIN)
            .iter()
            .any(|m| m.text.contains("shows no releases any more"))
    })
    .await;
    site.set_status(503, "busy");
    // Errors are for operators; a reader sees since when it fails.
    let sources = bot
        .ask_until(ADMIN, "/sources", |r| r.contains("HTTP status 503"))
        .await;
    let for_reader = telegram.ask(reader, "/sources").await.text;
    assert!(
        for_reader.contains("Failing since") && !for_reader.contains("HTTP status"),
        "{for_reader}"
    );
    // Named in the heading and in the error.
    assert_eq!(
        sources.matches(&redacted_html(&site)).count(),
        2,
        "{sources}"
    );
    let status = telegram.ask(ADMIN, "/status").await.text;
    assert_eq!(status.matches(&redacted_html(&site)).count(), 2, "{status}");
    let alerts: Vec<String> = telegram
        .sent_to(ADMIN)
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert!(
        alerts.iter().any(|a| a.contains(&redacted_html(&site))),
        "{alerts:?}"
    );

    assert_no_secret("/latest", &latest);
    assert_no_secret("/sources", &sources);
    assert_no_secret("/status", &status);
    for message in telegram.sent() {
        assert_no_secret("a message", &message.text);
    }
    let (code, log) = bot.terminate().await;
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("poll failed"), "{log}");
    assert_no_secret("the log", &log);
}
