//! The binary's behaviour on bad input: clear one-line errors, never a panic.

use crate::support::{fixture, run_binary};
use embassy_bot::config::{Config, ConfigError};

#[test]
fn missing_token_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        format!("data_dir = \"{}\"\n", dir.path().join("d").display()),
    )
    .unwrap();
    let (code, _, stderr) = run_binary(&["--config", config.to_str().unwrap()], &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("TELOXIDE_TOKEN"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn malformed_token_is_refused_without_echoing_it() {
    let (code, _, stderr) = run_binary(
        &["check-config"],
        &[("TELOXIDE_TOKEN", "not-a-token-secret")],
    );
    assert_eq!(code, Some(1));
    assert!(stderr.contains("telegram.token"), "{stderr}");
    assert!(!stderr.contains("not-a-token-secret"), "{stderr}");
}

#[test]
fn bad_config_values_name_the_key() {
    let cases = [
        ("[telegram]\ntokne = \"1:a\"\n", "tokne"),
        ("colour = 1\n", "colour"),
        (
            "[[sources]]\nurl = \"ftp://example.org/\"\n",
            "sources[0].url",
        ),
        (
            "[[sources]]\nurl = \"https://example.org/\"\ninterval_secs = 0\n",
            "sources[0].interval_secs",
        ),
        (
            "[[sources]]\nurl = \"https://example.org/\"\nlink_patterns = [\"(\"]\n",
            "sources[0].link_patterns[0]",
        ),
        ("[time]\ndate_zone = \"Mars/Olympus\"\n", "time.date_zone"),
        (
            "[[counters]]\ntext = \"no placeholder\"\nsince = \"2018-03-04\"\n",
            "counters[0].text",
        ),
        (
            "[[counters]]\ntext = \"{days}\"\nsince = \"4 March 2018\"\n",
            "counters[0].since",
        ),
        ("[telegram]\napi_url = \"not a url\"\n", "telegram.api_url"),
        ("sources = []\n", "sources"),
    ];
    for (text, key) in cases {
        let err = Config::from_toml(text).expect_err(text);
        assert!(err.to_string().contains(key), "{text:?} gave {err}");
    }
    assert!(matches!(
        Config::from_toml("[[counters]]\ntext=\"x\"\n"),
        Err(ConfigError::Parse { .. })
    ));
}

#[test]
fn check_config_reads_the_example_file() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml");
    let (code, stdout, stderr) = run_binary(&["--config", example, "check-config"], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("configuration is valid"), "{stdout}");
    assert!(stdout.contains("https://www.rusemb.org.uk/"), "{stdout}");
    // The example must spell out exactly the built-in defaults.
    let from_file = Config::load(Some(std::path::Path::new(example))).unwrap();
    assert_eq!(format!("{from_file:?}"), format!("{:?}", Config::default()));
}

#[test]
fn debug_output_never_shows_the_token() {
    let config = Config::from_toml("[telegram]\ntoken = \"123:SECRETsecret\"\n").unwrap();
    assert_eq!(config.require_token().unwrap(), "123:SECRETsecret");
    assert!(!format!("{config:?}").contains("SECRET"));
}

#[test]
fn unknown_arguments_get_usage() {
    let (code, _, stderr) = run_binary(&["frobnicate"], &[]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("unknown command `frobnicate`") && stderr.contains("Usage:"),
        "{stderr}"
    );
}

#[test]
fn preview_of_a_saved_page_needs_no_token() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("page.html");
    std::fs::write(&page, fixture("rusemb/home-2022-05-23.html")).unwrap();
    let (code, stdout, stderr) = run_binary(&["preview", page.to_str().unwrap()], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("11 releases"), "{stdout}");
    assert!(
        stdout.contains("Embassy comment on the “Salisbury incident” questions & the British authorities’ <silence>"),
        "{stdout}"
    );
    assert!(
        stdout.contains("=== /time ===")
            && stdout.contains("Moscow: ")
            && stdout.contains("London: "),
        "{stdout}"
    );
    assert!(
        stdout.contains("days have passed since the Salisbury incident"),
        "{stdout}"
    );
    assert!(
        stdout.contains("+44 (0) 203 161 8868") && stdout.contains("info@rusemb.org.uk"),
        "{stdout}"
    );

    let (code, _, stderr) = run_binary(&["preview", "/nonexistent/page.html"], &[]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("/nonexistent/page.html"), "{stderr}");
}

// ---- check-source -------------------------------------------------------------------------------

use crate::support::site::{Behaviour, FakeSite};

#[test]
fn check_source_on_a_file_shows_items_charset_and_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("ru.html");
    std::fs::write(&page, fixture("rusemb/ru-windows-1251.html")).unwrap();
    let (code, stdout, stderr) = run_binary(&["check-source", page.to_str().unwrap()], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("charset: windows-1251 (from the <meta>"),
        "{stdout}"
    );
    assert!(stdout.contains("4 items:"), "{stdout}");
    assert!(
        stdout.contains("2022-05-21  Комментарий Посольства"),
        "{stdout}"
    );
    assert!(
        stdout.contains("https://www.rusemb.org.uk/fnapr/7153"),
        "{stdout}"
    );
    assert!(stdout.contains("1 of 4 items have no date"), "{stdout}");
    assert!(stdout.contains("max_age_days"), "{stdout}");

    // A page with nothing on it: printed, and exit status 1.
    let empty = dir.path().join("empty.html");
    std::fs::write(&empty, "<html><body><p>Nothing here</p></body></html>").unwrap();
    let (code, stdout, stderr) = run_binary(&["check-source", empty.to_str().unwrap()], &[]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("0 items") && stdout.contains("no items: check"),
        "{stdout}"
    );
    assert!(stderr.contains("no items found"), "{stderr}");
}

#[tokio::test]
async fn check_source_on_a_url_and_on_a_source_name() {
    let site = FakeSite::start(fixture("rusemb/home-2022-05-21.html")).await;
    site.behave(Behaviour {
        etag: Some("\"abc\"".into()),
        cache_control: Some("no-cache".into()),
        ..Behaviour::default()
    });
    let url = site.url.clone();
    let (code, stdout, stderr) =
        tokio::task::spawn_blocking(move || run_binary(&["check-source", &url], &[]))
            .await
            .unwrap();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("HTTP 200"), "{stdout}");
    assert!(
        stdout.contains("ETag: \"abc\"") && stdout.contains("Cache-Control: no-cache"),
        "{stdout}"
    );
    assert!(
        stdout.contains("charset: UTF-8 (from the HTTP Content-Type header)"),
        "{stdout}"
    );
    assert!(stdout.contains("11 items:"), "{stdout}");
    assert!(
        stdout.contains("11 items > max_new_items (8)"),
        "the flood-guard warning: {stdout}"
    );

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        format!(
            "[[sources]]\nname = \"site\"\nurl = \"{}\"\nmax_new_items = 20\n\n[[sources]]\nname = \"other\"\nurl = \"https://example.org/\"\n",
            site.url
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap().to_string();
    let c = config.clone();
    let (code, stdout, stderr) = tokio::task::spawn_blocking(move || {
        run_binary(&["--config", &c, "check-source", "site"], &[])
    })
    .await
    .unwrap();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("source `site`"), "{stdout}");
    assert!(!stdout.contains("max_new_items"), "{stdout}");

    let (code, _, stderr) = tokio::task::spawn_blocking(move || {
        run_binary(&["--config", &config, "check-source", "nosuch"], &[])
    })
    .await
    .unwrap();
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("no source named `nosuch`") && stderr.contains("site, other"),
        "{stderr}"
    );

    // A fetch error: non-zero, one line naming the URL.
    site.set_status(500, "oops");
    let url = site.url.clone();
    let (code, _, stderr) =
        tokio::task::spawn_blocking(move || run_binary(&["check-source", &url], &[]))
            .await
            .unwrap();
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("HTTP status 500") && stderr.contains(&site.url),
        "{stderr}"
    );
}

#[test]
fn check_source_needs_a_target() {
    let (code, _, stderr) = run_binary(&["check-source"], &[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("check-source needs"), "{stderr}");
}
