//! What a site cannot make the running bot do, end to end over loopback: follow
//! a redirect to another host or port (and so store an "internal" page, or
//! reveal whether a port is open), or read it again before its `Retry-After`.

use chrono::Utc;

use crate::support::ADMIN;
use crate::support::site::{Behaviour, FakeSite, closed_port};
use crate::support::{TestBot, release_page, source_toml};

/// The part of a `/sources` reply about the source `name`.
fn block<'a>(reply: &'a str, name: &str) -> &'a str {
    let start = reply
        .find(&format!("<b>{name}</b>"))
        .unwrap_or_else(|| panic!("no {name} in {reply}"));
    let rest = &reply[start..];
    &rest[..rest.find("Subscribed:").unwrap_or(rest.len())]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_redirects_store_nothing_and_probe_no_port() {
    let today = Utc::now().date_naive();
    // `inward` sends the bot to an "internal" feed: the same server under another name.
    let inward = FakeSite::start(release_page(&[(900, today, "Internal only")])).await;
    inward.redirect(
        "/",
        format!("http://localhost:{}/internal.xml", inward.port()),
    );
    // `probe` sends it to a port where nothing listens.
    let probe = FakeSite::start("x").await;
    let closed = closed_port().await;
    probe.redirect("/", format!("http://127.0.0.1:{closed}/"));
    // `twin` moved to its www. name: followed.
    let twin = FakeSite::start(release_page(&[(901, today, "Public release")])).await;
    twin.redirect("/", format!("http://www.localhost:{}/list", twin.port()));
    let sources = source_toml("inward", &inward.url, 1, "")
        + &source_toml("probe", &probe.url, 1, "")
        + &source_toml(
            "twin",
            &format!("http://localhost:{}/", twin.port()),
            1,
            "max_age_days = 36500\n",
        );
    let mut bot = TestBot::new().sources(sources).spawn().await;
    let telegram = bot.telegram.clone();

    let reply = bot
        .ask_until(ADMIN, "/sources", |r| {
            r.contains("redirect to http://localhost:")
                && r.contains(&format!("redirect to http://127.0.0.1:{closed}/"))
                && r.matches("Last good read: never").count() == 2
        })
        .await;
    assert!(
        block(&reply, "inward").contains("refused: to another site (localhost)"),
        "{reply}"
    );
    assert!(
        block(&reply, "probe").contains(&format!("refused: to another port ({closed})")),
        "{reply}"
    );
    assert!(
        !block(&reply, "twin").contains("Last good read: never"),
        "{reply}"
    );
    assert!(
        !reply.to_lowercase().contains("connection refused"),
        "{reply}"
    );

    let latest = telegram.ask(999_010, "/latest").await.text;
    assert!(latest.contains("Public release"), "{latest}");
    assert!(!latest.contains("Internal only"), "{latest}");
    assert!(
        inward.paths().iter().all(|p| p == "/"),
        "the internal page was never asked for: {:?}",
        inward.paths()
    );
    let (code, log) = bot.terminate().await;
    assert_eq!(code, Some(0), "{log}");
    assert!(!log.to_lowercase().contains("connection refused"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_that_asks_to_wait_is_not_read_again_before_then() {
    // Both answer 503 and are read every second when healthy; only `patient`
    // says when to come back (in an hour).
    let patient = FakeSite::start("x").await;
    patient.set_status(503, "busy");
    patient.behave(Behaviour {
        retry_after: Some("3600".into()),
        ..Behaviour::default()
    });
    let plain = FakeSite::start("x").await;
    plain.set_status(503, "busy");
    let sources =
        source_toml("patient", &patient.url, 1, "") + &source_toml("plain", &plain.url, 1, "");
    let mut bot = TestBot::new().sources(sources).spawn().await;
    let _telegram = bot.telegram.clone();

    let reply = bot
        .ask_until(ADMIN, "/sources", |r| {
            r.contains("HTTP status 503 (the site asks to wait 3600 s)")
        })
        .await;
    assert!(
        block(&reply, "patient").contains("asks to wait 3600 s"),
        "{reply}"
    );
    // The source without Retry-After is retried meanwhile (within seconds);
    // the one that asked is not, however fast or slow this machine is.
    let plain_before = plain.hits();
    bot.eventually("plain is retried", || plain.hits() >= plain_before + 2)
        .await;
    assert_eq!(patient.hits(), 1, "read again before its Retry-After");
    bot.stop_cleanly().await;
}
