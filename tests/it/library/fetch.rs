//! Fetch behaviour against a fake site over loopback: conditional GET and 304,
//! gzip, the size cap (declared, chunked, gzip bomb), timeouts, the redirect
//! rules (count, host, port, the www twin) and the address guard, `Retry-After`,
//! the user agent, and the site's literal-`&` list paths.

use std::time::Duration;

use embassy_bot::Store;
use embassy_bot::testing::source::fetch::{
    FetchError, FetchOutcome, Fetched, MAX_RETRY_AFTER, Validators, client_for,
    client_with_resolver, fetch,
};
use embassy_bot::testing::source::guard::{MAX_REDIRECTS, RedirectRefusal};
use embassy_bot::{Config, SourceConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;

use crate::support::fixture;
use crate::support::site::{Behaviour, FakeSite, closed_port};

fn source(url: &str, extra: &str) -> SourceConfig {
    Config::from_toml(&format!(
        "[[sources]]\nname = \"t\"\nurl = \"{url}\"\ntimeout_secs = 5\n{extra}\n"
    ))
    .unwrap_or_else(|e| panic!("{e}"))
    .sources
    .remove(0)
}

async fn get(source: &SourceConfig, validators: &Validators) -> Result<FetchOutcome, FetchError> {
    let client = client_for(source).expect("client");
    fetch(&client, source, validators).await
}

fn fetched(outcome: FetchOutcome) -> Fetched {
    match outcome {
        FetchOutcome::Fetched(f) => *f,
        FetchOutcome::NotModified => panic!("unexpected 304"),
    }
}

#[tokio::test]
async fn validators_make_the_second_get_conditional_and_304_is_not_modified() {
    let site = FakeSite::start(fixture("rusemb/home-2022-05-21.html")).await;
    site.behave(Behaviour {
        etag: Some("\"v1\"".into()),
        last_modified: Some("Sat, 21 May 2022 08:00:00 GMT".into()),
        cache_control: Some("max-age=60".into()),
        ..Behaviour::default()
    });
    let src = source(&site.url, "");
    let first = fetched(get(&src, &Validators::default()).await.unwrap());
    assert_eq!(first.http.status, 200);
    assert_eq!(first.http.validators.etag.as_deref(), Some("\"v1\""));
    assert_eq!(first.http.cache_control.as_deref(), Some("max-age=60"));
    assert!(first.body.text.contains("fnapr/7153"));

    let second = get(&src, &first.http.validators).await.unwrap();
    assert!(matches!(second, FetchOutcome::NotModified), "{second:?}");
    let requests = site.requests();
    assert_eq!(requests[0].header("if-none-match"), None);
    assert_eq!(requests[1].header("if-none-match"), Some("\"v1\""));
    assert_eq!(
        requests[1].header("if-modified-since"),
        Some("Sat, 21 May 2022 08:00:00 GMT")
    );
}

#[tokio::test]
async fn the_poller_keeps_validators_in_memory_and_treats_304_as_success() {
    let site = FakeSite::start(fixture("rusemb/home-2022-05-21.html")).await;
    site.behave(Behaviour {
        etag: Some("\"v1\"".into()),
        ..Behaviour::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let src = source(&site.url, "");
    let client = client_for(&src).unwrap();
    let mut validators = Validators::default();
    let now = chrono::Utc::now();
    let first = embassy_bot::poll_once(&src, &client, &store, &mut validators, now)
        .await
        .unwrap();
    assert_eq!(first.expect("a full read").new_items.len(), 11);
    assert_eq!(validators.etag.as_deref(), Some("\"v1\""));
    let later = now + chrono::Duration::minutes(5);
    let second = embassy_bot::poll_once(&src, &client, &store, &mut validators, later)
        .await
        .unwrap();
    assert!(second.is_none(), "304 records nothing");
    assert_eq!(
        store
            .last_success(&src.name)
            .unwrap()
            .map(|t| t.timestamp()),
        Some(later.timestamp()),
        "but counts as a fresh read"
    );
    // A changed page (new validator) is read whole again.
    site.behave(Behaviour {
        etag: Some("\"v2\"".into()),
        ..Behaviour::default()
    });
    site.set_page(fixture("rusemb/home-2022-05-23.html"));
    let third = embassy_bot::poll_once(&src, &client, &store, &mut validators, now)
        .await
        .unwrap()
        .expect("a full read");
    assert_eq!(third.new_items.len(), 1);
    assert_eq!(validators.etag.as_deref(), Some("\"v2\""));
}

#[tokio::test]
async fn gzip_bodies_are_decoded_and_the_user_agent_is_sent() {
    let site = FakeSite::start(fixture("rusemb/ru-windows-1251.html")).await;
    site.behave(Behaviour {
        gzip: true,
        content_type: "text/html".into(),
        ..Behaviour::default()
    });
    let src = source(&site.url, "user_agent = \"Mozilla/5.0 (test)\"");
    let got = fetched(get(&src, &Validators::default()).await.unwrap());
    assert_eq!(got.body.charset, "windows-1251");
    assert!(got.body.text.contains("Интервью Посла"));
    let req = &site.requests()[0];
    assert!(req.header("accept-encoding").unwrap_or("").contains("gzip"));
    assert_eq!(site.user_agent().as_deref(), Some("Mozilla/5.0 (test)"));
}

#[tokio::test]
async fn a_gzip_bomb_is_refused_by_the_cap_on_decoded_bytes() {
    let site = FakeSite::start(vec![b' '; 16 * 1024 * 1024]).await;
    site.behave(Behaviour {
        gzip: true,
        ..Behaviour::default()
    });
    let src = source(&site.url, "max_bytes = 1048576");
    let err = get(&src, &Validators::default()).await.unwrap_err();
    assert!(
        matches!(err, FetchError::TooLarge { limit: 1048576, .. }),
        "{err}"
    );
    assert!(err.to_string().contains(&site.url), "{err}");
}

#[tokio::test]
async fn a_slow_site_times_out_with_a_clear_error() {
    let site = FakeSite::start("late").await;
    site.behave(Behaviour {
        delay: Some(Duration::from_secs(4)),
        ..Behaviour::default()
    });
    let src = source(&site.url, "").clone();
    let src = SourceConfig {
        timeout: Duration::from_millis(500),
        ..src
    };
    // The site answers after 4 s: a timeout error means we did not wait for it.
    let err = get(&src, &Validators::default()).await.unwrap_err();
    assert!(matches!(err, FetchError::Timeout { .. }), "{err:?}");
    assert!(err.to_string().contains("timeout_secs"), "{err}");
}

#[tokio::test]
async fn a_redirect_loop_ends_after_five_redirects_with_a_clear_error() {
    let site = FakeSite::start("loop").await;
    site.behave(Behaviour {
        redirect_to: Some("/again".into()),
        ..Behaviour::default()
    });
    let src = source(&site.url, "");
    let err = get(&src, &Validators::default()).await.unwrap_err();
    assert!(
        matches!(
            err,
            FetchError::Redirect {
                refusal: RedirectRefusal::TooMany,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("more than 5 redirects"), "{err}");
    assert_eq!(
        site.hits(),
        1 + MAX_REDIRECTS,
        "the first read and 5 redirects"
    );
}

#[tokio::test]
async fn a_redirect_to_another_host_is_refused_before_it_is_read() {
    let site = FakeSite::start(fixture("rusemb/home-2022-05-21.html")).await;
    // The same server under another name: only the configured host is followed.
    site.redirect(
        "/",
        format!("http://localhost:{}/internal.xml", site.port()),
    );
    let src = source(&site.url, "");
    let err = get(&src, &Validators::default()).await.unwrap_err();
    assert!(
        matches!(
            &err,
            FetchError::Redirect {
                refusal: RedirectRefusal::OtherSite { .. },
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("redirect to http://localhost:") && text.contains("another site"),
        "{text}"
    );
    assert_eq!(site.paths(), ["/"], "the internal page was never asked for");
}

#[tokio::test]
async fn a_redirect_to_another_port_is_refused_without_connecting() {
    let site = FakeSite::start("x").await;
    let other = FakeSite::start(fixture("rusemb/home-2022-05-21.html")).await;
    let src = source(&site.url, "");
    for port in [other.port(), closed_port().await] {
        site.redirect("/", format!("http://127.0.0.1:{port}/"));
        let err = get(&src, &Validators::default()).await.unwrap_err();
        assert!(
            matches!(
                err,
                FetchError::Redirect {
                    refusal: RedirectRefusal::OtherPort { .. },
                    ..
                }
            ),
            "{err:?}"
        );
        // Refused before connecting: an open port and a closed one read alike.
        let text = err.to_string();
        assert!(text.contains(&format!("another port ({port})")), "{text}");
        assert!(
            !text.to_lowercase().contains("connection refused"),
            "{text}"
        );
    }
    assert_eq!(other.hits(), 0);
}

#[tokio::test]
async fn a_redirect_to_the_www_twin_is_followed() {
    let site = FakeSite::start(fixture("rusemb/home-2022-05-21.html")).await;
    let port = site.port();
    site.redirect("/", format!("http://www.localhost:{port}/list"));
    let src = source(&format!("http://localhost:{port}/"), "");
    let got = fetched(get(&src, &Validators::default()).await.unwrap());
    assert_eq!(
        got.http.final_url.as_str(),
        format!("http://www.localhost:{port}/list")
    );
    assert!(got.body.text.contains("fnapr/7153"));
    assert_eq!(site.paths(), ["/", "/list"]);
    assert_eq!(
        site.requests()[1].header("host"),
        Some(format!("www.localhost:{port}").as_str())
    );
}

/// A stand-in for DNS that answers every name with one address.
struct Dns(std::net::IpAddr);

impl reqwest::dns::Resolve for Dns {
    fn resolve(&self, _: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let addr = std::net::SocketAddr::new(self.0, 0);
        Box::pin(async move { Ok(Box::new(std::iter::once(addr)) as reqwest::dns::Addrs) })
    }
}

#[tokio::test]
async fn a_public_name_that_resolves_to_loopback_is_refused_before_connecting() {
    // news.example looks public; its DNS answer (the fake's loopback address)
    // is what DNS rebinding would give. The guard refuses it.
    let site = FakeSite::start(fixture("rusemb/home-2022-05-21.html")).await;
    let src = source(&format!("http://news.example:{}/", site.port()), "");
    let dns = std::sync::Arc::new(Dns("127.0.0.1".parse().unwrap()));
    let client = client_with_resolver(&src, dns).unwrap();
    let err = fetch(&client, &src, &Validators::default())
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::LocalAddress { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("news.example resolves only to loopback, private or link-local"),
        "{text}"
    );
    assert_eq!(site.hits(), 0);
}

#[tokio::test]
async fn retry_after_comes_back_with_429_and_503_capped_at_an_hour() {
    let site = FakeSite::start("x").await;
    let src = source(&site.url, "");
    let answer = |status: u16, retry_after: String| {
        site.set_status(status, "busy");
        site.behave(Behaviour {
            retry_after: Some(retry_after),
            ..Behaviour::default()
        });
        let src = src.clone();
        async move { get(&src, &Validators::default()).await.unwrap_err() }
    };
    let err = answer(503, "10".into()).await;
    assert_eq!(err.retry_after(), Some(Duration::from_secs(10)));
    assert!(
        err.to_string()
            .contains("HTTP status 503 (the site asks to wait 10 s)"),
        "{err}"
    );

    let at = chrono::Utc::now() + chrono::Duration::seconds(600);
    let err = answer(429, at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()).await;
    let wait = err.retry_after().expect("an HTTP date");
    assert!(
        wait <= Duration::from_secs(600) && wait >= Duration::from_secs(500),
        "{wait:?}"
    );

    assert_eq!(
        answer(503, "86400".into()).await.retry_after(),
        Some(MAX_RETRY_AFTER)
    );
    assert_eq!(
        answer(500, "10".into()).await.retry_after(),
        None,
        "only 429 and 503"
    );
    assert_eq!(answer(503, "later".into()).await.retry_after(), None);
}

#[tokio::test]
async fn error_statuses_name_the_url() {
    let site = FakeSite::start("x").await;
    site.set_status(503, "busy");
    let src = source(&site.url, "");
    let err = get(&src, &Validators::default()).await.unwrap_err();
    assert!(matches!(
        err,
        FetchError::Status {
            status: 503,
            retry_after: None,
            ..
        }
    ));
    assert!(err.to_string().contains(&site.url), "{err}");
}

#[tokio::test]
async fn list_paths_with_a_literal_ampersand_are_requested_as_is() {
    let site = FakeSite::start(fixture("rusemb/home-2022-05-21.html")).await;
    let url = format!("{}apress_arh/&start=1&ps=10&ppp=15", site.url);
    let src = source(&url, "");
    fetched(get(&src, &Validators::default()).await.unwrap());
    assert_eq!(site.requests()[0].path, "/apress_arh/&start=1&ps=10&ppp=15");
}

/// A server that answers every request with `head` and then, if `stream`, an
/// endless chunked body (bounded at 256 MiB), else nothing more while it waits.
async fn raw_server(head: &'static str, stream: bool) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                if sock.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                if stream {
                    let chunk = format!("10000\r\n{}\r\n", "x".repeat(0x10000));
                    for _ in 0..4096 {
                        if sock.write_all(chunk.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                } else {
                    tokio::time::sleep(Duration::from_secs(10)).await;
                }
            });
        }
    });
    format!("http://{addr}/")
}

#[tokio::test]
async fn a_declared_length_over_the_cap_is_refused_without_reading() {
    let url = raw_server(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 104857600\r\n\r\n<html>",
        false,
    )
    .await;
    let src = source(&url, "");
    // The server never sends the body: reading it would end in a timeout,
    // so `TooLarge` with the declared length means it was refused unread.
    let err = get(&src, &Validators::default()).await.unwrap_err();
    assert!(
        matches!(
            err,
            FetchError::TooLarge {
                declared: Some(104857600),
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_chunked_body_over_the_cap_is_cut_off() {
    let url = raw_server(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n",
        true,
    )
    .await;
    let src = source(&url, "max_bytes = 2097152");
    let err = get(&src, &Validators::default()).await.unwrap_err();
    assert!(
        matches!(
            err,
            FetchError::TooLarge {
                declared: None,
                limit: 2097152,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn default_list_urls_parse_with_the_ampersand_in_the_path() {
    let url = Url::parse("https://www.rusemb.org.uk/newarh/&start=1&ps=10&ppp=15").unwrap();
    assert_eq!(url.path(), "/newarh/&start=1&ps=10&ppp=15");
}
