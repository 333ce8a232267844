//! Running it like a service: the HTTP server's health checks, Prometheus
//! metrics, Atom and JSON feeds, webhook mode and paid broadcasts, against the
//! real binary with the fake Telegram and the fake site.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use embassy_bot::Config;

use crate::support::site::FakeSite;
use crate::support::{Bot, TestBot, extract_at, fixture, page_with_extra_item, run_binary};

const WAIT: Duration = Duration::from_secs(20);
const NEW_TITLE: &str =
    "Embassy comment on the “Salisbury incident” questions & the British authorities’ <silence>";

/// A bot with the HTTP server on a port of its choosing, watching `site` as
/// source `fake`; `telegram_extra` and `source_extra` add keys (one per line).
async fn start(page: Vec<u8>, telegram_extra: &str, source_extra: &str) -> Bot {
    start_on(FakeSite::start(page).await, telegram_extra, source_extra).await
}

/// [`start`] with a site the test has set up; waits for nothing more than
/// the HTTP server's address.
async fn start_on(site: FakeSite, telegram_extra: &str, source_extra: &str) -> Bot {
    TestBot::new()
        .site(site)
        .config_text(telegram_extra)
        .source_keys(source_extra)
        .http()
        .spawn()
        .await
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_turns_503_past_alert_after_and_200_again_on_recovery() {
    // The site fails from the start: never read, so not ready.
    let site = FakeSite::start(Vec::new()).await;
    site.set_status(500, "down");
    let mut s = start_on(site, "", "alert_after_secs = 2\n").await;
    let (status, body) = s.get("/readyz").await;
    assert_eq!(status, 503, "{body}");
    let ready: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ready["unread"], serde_json::json!(["fake"]));

    // Failing for longer than alert_after_secs: unhealthy, with the reason.
    let body = s.wait_for_status("/healthz", 503).await;
    let verdict: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(verdict["status"], "unhealthy");
    let problems = verdict["problems"].to_string();
    // Named, with since when; never the error (`HTTP status 500`) or the address.
    assert!(
        problems.contains("source `fake` has been failing since"),
        "{problems}"
    );
    assert!(
        !problems.contains("500") && !problems.contains(&s.site.url),
        "{problems}"
    );
    let (code, out) = s.healthcheck();
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("unhealthy"), "{out}");
    assert!(!out.contains("500") && !out.contains(&s.site.url), "{out}");

    // The site comes back: healthy and ready once it is read.
    s.site.set_page(fixture("rusemb/home-2022-05-21.html"));
    let body = s.wait_for_status("/healthz", 200).await;
    assert!(body.contains("\"status\":\"ok\""), "{body}");
    s.wait_for_status("/readyz", 200).await;
    let (code, out) = s.healthcheck();
    assert_eq!(code, Some(0), "{out}");
    s.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_environment_that_widens_a_loopback_listen_is_said_in_the_log() {
    let mut bot = TestBot::new()
        .page(fixture("rusemb/home-2022-05-23.html"))
        .interval(60)
        .http()
        .env("EMBASSY_BOT_HTTP_LISTEN", "0.0.0.0:0")
        .spawn()
        .await;
    let addr = bot.addr();
    assert!(addr.ip().is_unspecified(), "the environment wins: {addr}");
    let log = bot.log();
    let warning = log
        .lines()
        .find(|l| l.contains("WARN") && l.contains("EMBASSY_BOT_HTTP_LISTEN"))
        .unwrap_or_else(|| panic!("no warning about the wider address:\n{log}"));
    assert!(
        warning.contains("127.0.0.1:0") && warning.contains("0.0.0.0:0"),
        "{warning}"
    );
    bot.stop_cleanly().await;
}

#[test]
fn healthcheck_without_a_server_says_what_to_set() {
    let (code, _, stderr) = run_binary(&["healthcheck"], &[]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("http.listen"), "{stderr}");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let nobody = format!("127.0.0.1:{port}");
    let (code, _, stderr) = run_binary(
        &["healthcheck", "--timeout", "2"],
        &[("EMBASSY_BOT_HTTP_LISTEN", &nobody)],
    );
    assert_eq!(code, Some(1));
    assert!(stderr.contains("no answer from"), "{stderr}");
}

/// The samples of `/metrics`, parsed as the Prometheus text format.
async fn scrape(s: &Bot) -> Vec<prometheus_parse::Sample> {
    let response = client().get(s.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    let lines = text.lines().map(|l| Ok(l.to_string()));
    prometheus_parse::Scrape::parse(lines)
        .unwrap_or_else(|e| panic!("not Prometheus text ({e}):\n{text}"))
        .samples
}

/// The sum of `name`'s samples whose labels include `labels`.
fn value(samples: &[prometheus_parse::Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.metric == name)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_and_count_exactly_the_pushes_telegram_received() {
    let mut s = start(fixture("rusemb/home-2022-05-23.html"), "", "").await;
    s.wait_for_status("/readyz", 200).await;
    let users = [3001, 3002, 3003];
    for user in users {
        assert!(
            s.telegram
                .ask(user, "/subscribe")
                .await
                .text
                .contains("ubscribed")
        );
    }
    let before = scrape(&s).await;
    let sent_before = value(&before, "embassy_pushes_sent_total", &[]);

    s.site.set_page(page_with_extra_item());
    s.eventually("every subscriber gets the new release", || {
        users.iter().all(|&u| s.telegram.pushes_to(u).len() == 1)
    })
    .await;
    let received: usize = users.iter().map(|&u| s.telegram.pushes_to(u).len()).sum();
    // The counters are bumped as the answers come in: wait for the last one.
    let mut after = scrape(&s).await;
    for _ in 0..50 {
        if value(&after, "embassy_pushes_sent_total", &[]) - sent_before >= received as f64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        after = scrape(&s).await;
    }
    eprintln!(
        "{:#?}",
        after
            .iter()
            .filter(|s| s.metric.contains("releases"))
            .collect::<Vec<_>>()
    );
    let sent = value(&after, "embassy_pushes_sent_total", &[]) - sent_before;
    assert_eq!(
        sent, received as f64,
        "pushes counted vs pushes Telegram got"
    );
    assert_eq!(
        value(&after, "embassy_pushes_sent_total", &[("format", "html")]) - sent_before,
        3.0
    );
    assert_eq!(value(&after, "embassy_pushes_given_up_total", &[]), 0.0);
    assert_eq!(
        value(&after, "embassy_subscriptions", &[("chat_kind", "private")]),
        3.0
    );
    assert_eq!(
        value(
            &after,
            "embassy_releases_announced_total",
            &[("source", "fake")]
        ),
        1.0
    );
    // Every release stored was counted once: the page's, then the new one.
    let page = extract_at(
        "rusemb/home-2022-05-23.html",
        &url::Url::parse(&s.site.url).unwrap(),
    );
    let stored = (page.items.len() + 1) as f64;
    assert_eq!(
        value(
            &after,
            "embassy_releases_stored_total",
            &[("source", "fake")]
        ),
        stored
    );
    assert_eq!(value(&after, "embassy_releases", &[]), stored);
    assert!(value(&after, "embassy_source_polls_total", &[("result", "ok")]) >= 2.0);
    assert!(
        value(
            &after,
            "embassy_source_last_success_timestamp_seconds",
            &[("source", "fake")]
        ) > 1.6e9
    );
    assert!(value(&after, "embassy_uptime_seconds", &[]) > 0.0);
    assert!(
        value(
            &after,
            "embassy_telegram_last_answer_timestamp_seconds",
            &[]
        ) > 1.6e9
    );
    assert_eq!(value(&after, "embassy_journal_entries", &[]), 0.0);
    assert_eq!(
        value(
            &after,
            "embassy_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        1.0
    );
    // Histograms: every push's answer, every read.
    let histogram_count = |name: &str| -> u64 {
        after
            .iter()
            .filter(|s| s.metric == name)
            .map(|s| match &s.value {
                prometheus_parse::Value::Histogram(buckets) => {
                    buckets.iter().map(|b| b.count as u64).max().unwrap_or(0)
                }
                _ => 0,
            })
            .sum()
    };
    assert!(histogram_count("embassy_telegram_send_duration_seconds") >= received as u64);
    assert!(histogram_count("embassy_source_poll_duration_seconds") >= 2);

    // Low cardinality: only these labels exist, and no value looks like a chat id.
    let allowed: HashSet<&str> = [
        "source",
        "result",
        "reason",
        "format",
        "chat_kind",
        "version",
        "name",
        "le",
        "quantile",
    ]
    .into_iter()
    .collect();
    for sample in &after {
        assert!(
            sample.metric.starts_with("embassy_"),
            "{}: every name has the prefix",
            sample.metric
        );
        for (key, value) in sample.labels.iter() {
            assert!(
                allowed.contains(key.as_str()),
                "{}: label {key}",
                sample.metric
            );
            for user in users {
                assert_ne!(
                    value,
                    &user.to_string(),
                    "{}: a chat id as a label",
                    sample.metric
                );
            }
        }
    }
    s.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn atom_feed_has_the_releases_escaped_newest_first_and_answers_304() {
    let mut s = start(fixture("rusemb/home-2022-05-23.html"), "", "").await;
    s.wait_for_status("/readyz", 200).await;
    let response = client().get(s.url("/feed.atom")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let headers = response.headers().clone();
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/atom+xml")
    );
    let etag = headers["etag"].to_str().unwrap().to_string();
    let modified = headers["last-modified"].to_str().unwrap().to_string();
    let body = response.bytes().await.unwrap();
    let feed = feed_rs::parser::parse(&body[..]).expect("feed-rs reads the Atom feed");
    assert_eq!(feed.feed_type, feed_rs::model::FeedType::Atom);

    // RFC 4287's required elements, absolute links, stable ids.
    assert!(!feed.id.is_empty() && feed.title.is_some() && feed.updated.is_some());
    assert!(!feed.authors.is_empty(), "a feed-level author");
    let page = extract_at(
        "rusemb/home-2022-05-23.html",
        &url::Url::parse(&s.site.url).unwrap(),
    );
    assert_eq!(feed.entries.len(), page.items.len());
    let mut by_link = std::collections::HashMap::new();
    for entry in &feed.entries {
        assert!(entry.id.starts_with("https://"), "{}", entry.id);
        assert!(entry.updated.is_some() && entry.title.is_some());
        let link = &entry.links[0].href;
        assert!(url::Url::parse(link).is_ok(), "absolute link: {link}");
        by_link.insert(link.clone(), entry);
    }
    for item in &page.items {
        let entry = by_link
            .get(&item.url)
            .unwrap_or_else(|| panic!("{} in the feed", item.url));
        assert_eq!(entry.title.as_ref().unwrap().content, item.title);
        assert_eq!(entry.id, format!("https://{}", item.id));
        if !item.lead.is_empty() {
            assert_eq!(entry.summary.as_ref().unwrap().content, item.lead);
        }
    }
    // The 23 May title with `&`, quotes and `<silence>` comes back exactly.
    assert_eq!(feed.entries[0].title.as_ref().unwrap().content, NEW_TITLE);
    let raw = String::from_utf8(body.to_vec()).unwrap();
    assert!(
        raw.contains("&amp;") && raw.contains("&lt;silence&gt;"),
        "escaped in the XML"
    );
    let times: Vec<_> = feed.entries.iter().map(|e| e.updated.unwrap()).collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {times:?}"
    );

    // Conditional GET: the same document is not sent again.
    let again = |header: &'static str, value: String| {
        let url = s.url("/feed.atom");
        async move {
            client()
                .get(url)
                .header(header, value)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(again("if-none-match", etag.clone()).await, 304);
    assert_eq!(again("if-modified-since", modified).await, 304);
    assert_eq!(again("if-none-match", "\"other\"".into()).await, 200);

    // The source's own feed, and the JSON Feed, read by feed-rs too.
    let (status, one) = s.get("/feed/fake.atom").await;
    assert_eq!(status, 200);
    let one = feed_rs::parser::parse(one.as_bytes()).unwrap();
    assert_eq!(one.entries.len(), page.items.len());
    let (status, json) = s.get("/feed.json").await;
    assert_eq!(status, 200);
    let json = feed_rs::parser::parse(json.as_bytes()).expect("a JSON Feed");
    assert_eq!(json.feed_type, feed_rs::model::FeedType::JSON);
    assert_eq!(json.entries[0].title.as_ref().unwrap().content, NEW_TITLE);
    assert_eq!(s.get("/feed/nope.atom").await.0, 404);
    assert_eq!(s.get("/feed/fake.rss").await.0, 404);
    assert_eq!(s.get("/elsewhere").await.0, 404);
    s.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_mode_answers_commands_only_with_the_secret() {
    let mut s = start(
        fixture("rusemb/home-2022-05-21.html"),
        "webhook_url = \"https://bot.example.org/telegram\"",
        "",
    )
    .await;
    s.eventually("the bot calls setWebhook", || {
        s.telegram.webhook().is_some()
    })
    .await;
    let webhook = s.telegram.webhook().unwrap();
    assert_eq!(webhook["url"], "https://bot.example.org/telegram");
    // No more connections than the HTTP server serves one client at once.
    assert_eq!(webhook["max_connections"], "8", "{webhook}");
    let secret = webhook["secret_token"].as_str().unwrap().to_string();
    assert!(secret.len() >= 32);
    assert!(
        secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    );

    let post = |update: serde_json::Value, secret: Option<String>| {
        let url = s.url("/telegram");
        async move {
            let mut request = client().post(url).json(&update);
            if let Some(secret) = secret {
                request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
            }
            request.send().await.unwrap().status().as_u16()
        }
    };
    let user = 4001;
    // Refused before anything is queued: no reply can come of them.
    assert_eq!(
        post(s.telegram.private_update(user, "/start"), None).await,
        401
    );
    let wrong = Some(format!("{}x", &secret[1..]));
    assert_eq!(
        post(s.telegram.private_update(user, "/time"), wrong).await,
        401
    );
    assert_eq!(
        post(
            s.telegram.private_update(user, "/latest 1"),
            Some(secret.clone())
        )
        .await,
        200
    );
    // The refused ones got their 401 before anything was queued: the one
    // reply that comes is the answer to the update with the secret.
    let replies = s.telegram.wait_for(user, 1, WAIT).await;
    assert!(
        replies[0].text.contains("Latest") || replies[0].text.contains("recorded"),
        "{}",
        replies[0].text
    );
    assert_eq!(
        s.telegram.sent_to(user).len(),
        1,
        "only the update with the secret was answered"
    );
    assert_eq!(
        s.telegram.calls("getupdates"),
        0,
        "no polling while a webhook is set"
    );
    assert_eq!(s.get("/telegram").await.0, 405, "only POST");
    // Bounds: a body past 1 MiB is refused; one that is no update is dropped.
    let huge = client()
        .post(s.url("/telegram"))
        .header("X-Telegram-Bot-Api-Secret-Token", &secret)
        .body(vec![b' '; 1024 * 1024 + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status().as_u16(), 413);
    let garbage = client()
        .post(s.url("/telegram"))
        .header("X-Telegram-Bot-Api-Secret-Token", &secret)
        .body("{\"not\": \"an update\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(
        garbage.status().as_u16(),
        200,
        "Telegram must not send it again"
    );
    let samples = scrape(&s).await;
    assert_eq!(
        value(
            &samples,
            "embassy_webhook_requests_total",
            &[("result", "bad_secret")]
        ),
        2.0
    );
    assert_eq!(
        value(
            &samples,
            "embassy_webhook_requests_total",
            &[("result", "accepted")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &samples,
            "embassy_webhook_requests_total",
            &[("result", "unreadable")]
        ),
        2.0
    );
    s.stop_cleanly().await;

    // Back to long polling: the webhook is deleted, then getUpdates works.
    s.edit_config("webhook_url = \"https://bot.example.org/telegram\"", "");
    s.respawn("bot2.log").await;
    s.until("the bot polling", |t| t.calls("getUpdates") >= 1)
        .await;
    assert!(s.telegram.calls("deletewebhook") >= 1);
    assert!(
        s.telegram.webhook().is_none(),
        "deleteWebhook came after setWebhook"
    );
    assert!(s.telegram.ask(user, "/time").await.text.contains("London"));
    s.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paid_broadcasts_are_asked_for_on_pushes_only_when_configured() {
    let mut s = start(
        fixture("rusemb/home-2022-05-21.html"),
        "allow_paid_broadcast = true\nmessages_per_sec = 200.0",
        "",
    )
    .await;
    s.wait_for_status("/readyz", 200).await;
    let user = 5001;
    let reply = s.telegram.ask(user, "/subscribe").await;
    assert!(!reply.paid, "a command reply is no broadcast");
    s.site.set_page(page_with_extra_item());
    s.eventually("the push arrives", || {
        !s.telegram.pushes_to(user).is_empty()
    })
    .await;
    let push = s
        .telegram
        .sent_to(user)
        .into_iter()
        .find(|m| m.text.starts_with("🆕"))
        .unwrap();
    assert!(push.paid, "the push carries allow_paid_broadcast");
    s.stop_cleanly().await;
}

#[test]
fn service_keys_are_checked_with_errors_that_name_them() {
    let cases = [
        (
            "[telegram]\nmessages_per_sec = 100.0\n",
            "allow_paid_broadcast",
        ),
        (
            "[telegram]\nwebhook_url = \"https://bot.example.org/hook\"\n",
            "http.listen",
        ),
        (
            "[http]\nlisten = \"127.0.0.1:9184\"\n[telegram]\nwebhook_url = \"http://bot.example.org/hook\"\n",
            "https://",
        ),
        (
            "[http]\nlisten = \"127.0.0.1:9184\"\n[telegram]\nwebhook_url = \"https://bot.example.org:8080/hook\"\n",
            "8443",
        ),
        (
            "[http]\nlisten = \"127.0.0.1:9184\"\n[telegram]\nwebhook_url = \"https://bot.example.org/metrics\"\n",
            "/metrics",
        ),
        ("[http]\nlisten = \"localhost\"\n", "http.listen"),
        ("[http]\nfeed_entries = 0\n", "http.feed_entries"),
        (
            "[http]\ntelegram_silence_secs = 5\n",
            "http.telegram_silence_secs",
        ),
        ("[http]\npublic_url = \"ftp://x/\"\n", "http.public_url"),
    ];
    for (text, named) in cases {
        let err = Config::from_toml(text).expect_err(text).to_string();
        assert!(err.contains(named), "{text:?} gave {err}");
    }
    let paid =
        Config::from_toml("[telegram]\nmessages_per_sec = 1000.0\nallow_paid_broadcast = true\n")
            .unwrap();
    assert!(paid.telegram.allow_paid_broadcast);
    let http = Config::from_toml(
        "[http]\nlisten = \"[::1]:9184\"\npublic_url = \"https://feeds.example.org/embassy\"\n",
    )
    .unwrap();
    assert_eq!(
        http.http.public_url.unwrap().as_str(),
        "https://feeds.example.org/embassy/",
        "a base URL"
    );
    assert!(Config::default().http.listen.is_none(), "off by default");
}

#[test]
fn the_image_turns_the_server_on_and_checks_its_own_health() {
    let dockerfile =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Dockerfile")).unwrap();
    let joined = dockerfile.replace("\\\n", " ");
    let health = joined
        .lines()
        .find(|l| l.starts_with("HEALTHCHECK"))
        .expect("a HEALTHCHECK");
    assert!(
        health.contains(r#"CMD ["/usr/local/bin/embassy-bot", "healthcheck"]"#),
        "{health}"
    );
    let listen = joined
        .lines()
        .find_map(|l| l.strip_prefix("ENV EMBASSY_BOT_HTTP_LISTEN="))
        .expect("the image turns the HTTP server on");
    assert!(listen.parse::<SocketAddr>().is_ok(), "{listen}");
}

#[test]
fn check_config_shows_the_http_server_and_webhook_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(
        &path,
        "[telegram]\nwebhook_url = \"https://bot.example.org/telegram\"\n[http]\nlisten = \"127.0.0.1:9184\"\n",
    )
    .unwrap();
    let (code, stdout, stderr) =
        run_binary(&["--config", path.to_str().unwrap(), "check-config"], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("webhook at https://bot.example.org/telegram"),
        "{stdout}"
    );
    assert!(
        stdout.contains("http: listening on 127.0.0.1:9184"),
        "{stdout}"
    );
    let (_, stdout, _) = run_binary(&["check-config"], &[]);
    assert!(stdout.contains("http: off"), "{stdout}");
}
