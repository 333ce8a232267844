//! The binary's behaviour on bad input: clear one-line errors, never a panic.

use crate::support::{fixture, run_binary};
use embassy_bot::{Config, ConfigError};

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
fn a_bot_token_in_a_url_path_is_never_printed() {
    let secret = "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{}\"\n[http]\nlisten = \"127.0.0.1:0\"\n[telegram]\nwebhook_url = \"https://bot.example.org/123456789:{secret}/\"\n",
            dir.path().join("d").display()
        ),
    )
    .unwrap();
    let (code, stdout, stderr) =
        run_binary(&["--config", config.to_str().unwrap(), "check-config"], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("webhook at https://bot.example.org/***/"),
        "{stdout}"
    );
    assert!(
        !stdout.contains(secret) && !stderr.contains(secret),
        "{stdout}{stderr}"
    );

    // An api_url that does not parse is echoed to say what is wrong, its token masked.
    let (code, _, stderr) = run_binary(
        &["check-config"],
        &[(
            "TELOXIDE_API_URL",
            &format!("not a url/bot123456789:{secret}"),
        )],
    );
    assert_eq!(code, Some(1));
    assert!(stderr.contains("is not a URL"), "{stderr}");
    assert!(!stderr.contains(secret), "{stderr}");
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
        ("admin_chats = [4242, -1001234]\n", "admin_chats[1]"),
        ("admin_users = [-5]\n", "admin_users[0]"),
        (
            "[groups]\nwho_can_subscribe = \"everyone\"\n",
            "who_can_subscribe",
        ),
        (
            "[commands]\nper_user_per_minute = 0\n",
            "commands.per_user_per_minute",
        ),
        // Page 1 is a URL; page 10 makes a port out of range (backfill panicked there).
        (
            "[[sources]]\nurl = \"http://127.0.0.1:18081/list\"\narchive = \"http://127.0.0.1:1808{page}/list\"\n",
            "sources[0].archive",
        ),
    ];
    for (text, key) in cases {
        let err = Config::from_toml(text).expect_err(text);
        assert!(err.to_string().contains(key), "{text:?} gave {err}");
    }
    assert!(matches!(
        Config::from_toml("[[counters]]\ntext=\"x\"\n"),
        Err(ConfigError::Parse { .. })
    ));
    // A group in admin_chats is refused with what to do instead.
    let err = Config::from_toml("admin_chats = [-1001234]\n").unwrap_err();
    assert!(err.to_string().contains("operators are people"), "{err}");
}

#[test]
fn operators_are_people_from_both_keys() {
    let config = Config::from_toml(
        "admin_chats = [7, 8]\nadmin_users = [8, 9]\n[groups]\nwho_can_subscribe = \"anyone\"\n",
    )
    .unwrap();
    assert_eq!(config.operators, vec![7, 8, 9]);
    assert!(config.is_operator(9) && !config.is_operator(-1));
    assert_eq!(
        config.groups.who_can_subscribe,
        embassy_bot::WhoCanSubscribe::Anyone
    );
    let default = Config::default();
    assert_eq!(
        default.groups.who_can_subscribe,
        embassy_bot::WhoCanSubscribe::Admins
    );
    assert_eq!(default.commands_per_user_per_minute, 20);
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
fn unknown_commands_and_flags_are_usage_errors_that_name_them() {
    for args in [
        &["frobnicate"][..],
        &["--frobnicate"],
        &["check-config", "--frobnicate"],
        &["preview", "a.html", "b.html"],
    ] {
        let (code, stdout, stderr) = run_binary(args, &[]);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        let named = args.last().unwrap();
        assert!(
            stderr.contains(&format!("'{named}'")) && stderr.contains("Usage: embassy-bot"),
            "{args:?}: {stderr}"
        );
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
    }
}

const COMMANDS: [&str; 6] = [
    "run",
    "preview",
    "check-source",
    "check-config",
    "healthcheck",
    "backfill",
];

#[test]
fn help_lists_the_commands_and_the_environment_but_no_values() {
    let secret = "123:SECRETsecret";
    for flag in ["--help", "-h"] {
        let (code, stdout, stderr) = run_binary(
            &[flag],
            &[
                ("TELOXIDE_TOKEN", secret),
                ("EMBASSY_BOT_CONFIG", "/secret/c.toml"),
            ],
        );
        assert_eq!(code, Some(0), "{stderr}");
        for command in COMMANDS {
            assert!(
                stdout.contains(&format!("  {command} ")),
                "{command}: {stdout}"
            );
        }
        for name in [
            "--config",
            "EMBASSY_BOT_CONFIG",
            "TELOXIDE_TOKEN",
            "EMBASSY_BOT_DATA_DIR",
        ] {
            assert!(stdout.contains(name), "{name}: {stdout}");
        }
        assert!(
            !stdout.contains("SECRET") && !stdout.contains("/secret/"),
            "{stdout}"
        );
    }
}

#[test]
fn each_command_has_its_own_help() {
    for command in COMMANDS {
        for args in [[command, "--help"], ["help", command]] {
            let (code, stdout, stderr) = run_binary(&args, &[]);
            assert_eq!(code, Some(0), "{args:?}: {stderr}");
            assert!(
                stdout.contains(&format!("Usage: embassy-bot {command} [OPTIONS]"))
                    && stdout.contains("--config <PATH>"),
                "{args:?}: {stdout}"
            );
        }
    }
    let (_, stdout, _) = run_binary(&["check-source", "--help"], &[]);
    assert!(
        stdout.contains("<TARGET>") && stdout.contains("a saved file"),
        "{stdout}"
    );
}

#[test]
fn version_prints_the_package_version() {
    let (code, stdout, _) = run_binary(&["--version"], &[]);
    assert_eq!(code, Some(0));
    assert_eq!(
        stdout.trim(),
        concat!("embassy-bot ", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn config_comes_from_the_flag_before_or_after_the_command_or_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let config = |name: &str| {
        let path = dir.path().join(format!("{name}.toml"));
        std::fs::write(&path, format!("data_dir = \"{name}-data\"\n")).unwrap();
        path.to_str().unwrap().to_string()
    };
    let (flag, env) = (config("flag"), config("env"));
    let data_dir = |args: &[&str], vars: &[(&str, &str)]| {
        let (code, stdout, stderr) = run_binary(args, vars);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        stdout
            .lines()
            .find_map(|l| l.strip_prefix("data_dir = "))
            .unwrap_or_default()
            .to_string()
    };
    let from_env = [("EMBASSY_BOT_CONFIG", env.as_str())];
    assert_eq!(
        data_dir(&["--config", &flag, "check-config"], &[]),
        "flag-data"
    );
    assert_eq!(data_dir(&["check-config", "-c", &flag], &[]), "flag-data");
    assert_eq!(data_dir(&["check-config"], &from_env), "env-data");
    assert_eq!(
        data_dir(&["check-config", "--config", &flag], &from_env),
        "flag-data"
    );
    assert_eq!(
        data_dir(&["check-config"], &[("EMBASSY_BOT_CONFIG", "")]),
        "data",
        "an empty variable means the built-in settings"
    );
    // The data directory's variable still wins over the file.
    assert_eq!(
        data_dir(
            &["check-config"],
            &[from_env[0], ("EMBASSY_BOT_DATA_DIR", "/volume")]
        ),
        "/volume"
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

    // Each cause is said once (it was "Is a directory (os error 21): Is a directory (os error 21)").
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run_binary(&["preview", dir.path().to_str().unwrap()], &[]);
    assert_eq!(code, Some(1));
    assert_eq!(stderr.matches("os error 21").count(), 1, "{stderr}");
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
    assert!(
        stderr.contains("<TARGET>") && stderr.contains("Usage: embassy-bot check-source"),
        "{stderr}"
    );
}
