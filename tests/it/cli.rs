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
