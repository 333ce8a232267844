//! The embedded HTTP server, on when `http.listen` is set: health for
//! container runtimes, metrics for Prometheus, the site's releases as feeds,
//! and in webhook mode the route Telegram posts updates to.
//!
//! | route | answer |
//! | --- | --- |
//! | `GET /healthz` | 200 or 503, JSON: [`crate::http::health::Verdict`] |
//! | `GET /readyz` | 200 once every source has been read, else 503; the unread and failing ones |
//! | `GET /metrics` | Prometheus text ([`crate::metrics`], with the store's gauges from `gauges.rs`) |
//! | `GET /feed.atom`, `/feed.json` | every source's releases (`feeds.rs`) |
//! | `GET /feed/<source>.atom`, `.json` | one source's |
//! | `POST <path of telegram.webhook_url>` | updates from Telegram ([`crate::updates::webhook`]) |
//!
//! Bounds, so that no client can starve the rest without logging in: at
//! most [`MAX_CONNECTIONS`] connections served at once (more wait to be
//! accepted), at most [`PER_CLIENT`] of them from one client (its next
//! [`PER_CLIENT_WAITING`] wait their turn holding no slot, more are closed as
//! they come), a request's header must arrive within [`HEADER_READ`] however
//! it trickles in, a connection that moves no byte for [`IDLE`] is closed, a
//! webhook body may hold at most [`crate::updates::webhook::MAX_BODY`] bytes;
//! other routes read no body. Meant for loopback or a private network, behind
//! a reverse proxy for anything public (`docs/operations.md#the-http-server`).

mod feed_cache;
pub(crate) mod feed_writer;
mod feeds;
mod gauges;
pub(crate) mod health;
mod listener;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Config;
use crate::metrics::StoreGauges;
use crate::runtime::shutdown::Shutdown;
use crate::store::{Store, StoreError};
use crate::updates::webhook::{Inbox, Refusal};
use listener::{Guarded, GuardedStream};

/// Connections served at once; more wait in the kernel's backlog.
pub(crate) const MAX_CONNECTIONS: usize = 128;
/// Connections one client is served on at once, so one client cannot take
/// the slots `/healthz` and Telegram's posts need. A client is an IPv4
/// address or an IPv6 /64 ([`client_of`]). More wait for one of these to end
/// ([`PER_CLIENT_WAITING`]): a reverse proxy, whose every request comes from
/// its one address, sees a burst wait rather than fail.
pub(crate) const PER_CLIENT: usize = 8;
// Telegram's webhook connections all come from one client as we count them.
const _: () = assert!(crate::updates::webhook::TELEGRAM_CONNECTIONS as usize <= PER_CLIENT);
/// Connections one client may have waiting for its turn; more are closed as
/// they come. Waiting ones hold no slot of [`MAX_CONNECTIONS`], only a file.
pub(crate) const PER_CLIENT_WAITING: usize = 32;
/// Connections waiting, of every client together; more are closed as they come.
pub(crate) const MAX_WAITING: usize = 128;
/// A request's header must have arrived this long after the server began
/// waiting for it (a new connection, or the answer before on a kept-alive
/// one); bytes trickled in do not extend it, so a client cannot hold a
/// connection by sending a byte now and then. It also ends idle keep-alives.
pub(crate) const HEADER_READ: Duration = Duration::from_secs(10);
/// A connection that neither sends nor takes a byte for this long is closed
/// (a client that stops reading its answer, or a stalled webhook body).
pub(crate) const IDLE: Duration = Duration::from_secs(60);

/// What every route reads.
#[derive(Clone)]
struct Served {
    store: Store,
    config: Arc<Config>,
    webhook: Option<Inbox>,
    /// Feeds, built once per change of the releases.
    feeds: Arc<feed_cache::FeedCache>,
    /// The store's counts for `/metrics`, kept between scrapes.
    counts: Arc<gauges::StoreCounts>,
}

/// Why what a route reads from the store off the async workers could not be
/// had.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The reading task ended without an answer (a panic).
    #[error("reading the store failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Binds `addr` now, so a port in use stops the start with a clear error.
pub(crate) async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} (http.listen)"))
}

/// Whether the server listens wider than the config file asked: the file
/// names a loopback address, and the address in force (the environment's
/// `EMBASSY_BOT_HTTP_LISTEN` wins over the file) is not loopback. The Docker
/// image sets the variable for every container, so a file that meant to keep
/// the server private would be overridden without a word.
pub(crate) fn widened(in_file: SocketAddr, in_force: SocketAddr) -> bool {
    let loopback = |a: SocketAddr| a.ip().to_canonical().is_loopback();
    loopback(in_file) && !loopback(in_force)
}

/// Serves until `shutdown`; `webhook` is the inbox for Telegram's posts in
/// webhook mode (its route is the path of `telegram.webhook_url`).
pub(crate) async fn serve(
    listener: TcpListener,
    store: Store,
    config: Arc<Config>,
    webhook: Option<Inbox>,
    shutdown: Shutdown,
) {
    let router = router(store, config, webhook);
    match listener.local_addr() {
        Ok(address) => tracing::info!(%address, "HTTP server listening"),
        Err(e) => tracing::warn!(error = %e, "HTTP server listening on an unknown address"),
    }
    let mut listener = Guarded::new(listener, MAX_CONNECTIONS, PER_CLIENT);
    let service = TowerToHyperService::new(router);
    // Every connection holds a receiver: told to finish at shutdown, and
    // waited for until the last one is dropped.
    let (finish, connections) = watch::channel(());
    loop {
        let stream = tokio::select! {
            () = shutdown.requested() => break,
            stream = listener.accept() => stream,
        };
        tokio::spawn(serve_connection(
            stream,
            service.clone(),
            connections.clone(),
        ));
    }
    drop(listener);
    drop(connections);
    let _ = finish.send(());
    finish.closed().await;
}

/// Serves one connection's requests (HTTP/1.1, kept alive) until the client
/// closes it, a bound ends it, or shutdown lets its request in progress finish.
async fn serve_connection(
    stream: GuardedStream,
    service: TowerToHyperService<Router>,
    mut finish: watch::Receiver<()>,
) {
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ)
        .serve_connection(TokioIo::new(stream), service);
    let mut connection = std::pin::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        _ = finish.changed() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = result {
        // A client that went away or ran out of time: theirs, not ours.
        tracing::debug!(error = %e, "HTTP connection ended");
    }
}

fn router(store: Store, config: Arc<Config>, webhook: Option<Inbox>) -> Router {
    let webhook_path = config
        .telegram
        .webhook_url
        .as_ref()
        .filter(|_| webhook.is_some())
        .map(|u| u.path().to_string());
    let mut router = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/feed.atom", get(feeds::all_atom))
        .route("/feed.json", get(feeds::all_json))
        .route("/feed/{file}", get(feeds::one));
    if let Some(path) = webhook_path {
        router = router.route(&path, post(telegram_update));
    }
    router
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found\n") })
        .with_state(Served {
            store,
            config,
            webhook,
            feeds: Arc::new(feed_cache::FeedCache::new(feeds::render)),
            counts: Arc::default(),
        })
}

fn json_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body + "\n",
    )
        .into_response()
}

async fn healthz(State(s): State<Served>) -> Response {
    let verdict = crate::http::health::check(&s.store, &s.config, chrono::Utc::now()).await;
    let status = if verdict.healthy() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    json_response(status, serde_json::to_string(&verdict).unwrap_or_default())
}

async fn readyz(State(s): State<Served>) -> Response {
    let verdict = crate::http::health::check(&s.store, &s.config, chrono::Utc::now()).await;
    let status = if verdict.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    json_response(status, verdict.readiness().to_string())
}

async fn metrics(State(s): State<Served>) -> Response {
    let counts = match s.counts.counts(&s.store).await {
        Ok(counts) => counts,
        Err(e) => {
            tracing::error!(error = %e, "cannot count the store for /metrics");
            return (StatusCode::INTERNAL_SERVER_ERROR, "cannot read the store\n").into_response();
        }
    };
    // Reads each source's last success and encodes: off the async workers.
    let rendered = tokio::task::spawn_blocking(move || {
        store_gauges(&s.store, &s.config, counts)
            .map(|gauges| crate::metrics::get().encode(&gauges))
    })
    .await;
    match rendered {
        Ok(Ok(text)) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
            )],
            text,
        )
            .into_response(),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "cannot read the store for /metrics");
            (StatusCode::INTERNAL_SERVER_ERROR, "cannot read the store\n").into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "/metrics failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The gauges of a scrape: the store's `counts` (kept between scrapes,
/// [`gauges`]) and when each source last read well (one record each).
fn store_gauges(
    store: &Store,
    config: &Config,
    counts: gauges::Counts,
) -> Result<StoreGauges, StoreError> {
    let mut last_success = Vec::with_capacity(config.sources.len());
    for source in &config.sources {
        if let Some(at) = store.last_success(&source.name)? {
            last_success.push((source.name.clone(), at));
        }
    }
    Ok(StoreGauges {
        releases: counts.releases,
        journal_entries: counts.journal_entries,
        outbox_entries: counts.outbox_entries,
        subscriptions: counts.subscriptions,
        last_success,
    })
}

/// Telegram posts one update. The secret is checked before the body is read.
async fn telegram_update(State(s): State<Served>, request: Request) -> Response {
    let Some(inbox) = s.webhook else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let count = |result| {
        crate::metrics::get()
            .webhook_requests
            .get_or_create(&crate::metrics::WebhookLabel { result })
            .inc();
    };
    let given = request
        .headers()
        .get(crate::updates::webhook::SECRET_HEADER)
        .map(HeaderValue::as_bytes);
    if !inbox.is_authorized(given) {
        count("bad_secret");
        return (StatusCode::UNAUTHORIZED, "wrong or missing secret token\n").into_response();
    }
    let body =
        match axum::body::to_bytes(request.into_body(), crate::updates::webhook::MAX_BODY).await {
            Ok(body) => body,
            Err(_) => {
                count("unreadable");
                return (StatusCode::PAYLOAD_TOO_LARGE, "update too large\n").into_response();
            }
        };
    crate::metrics::get().telegram_answered(chrono::Utc::now());
    match inbox.deliver(&body).await {
        Ok(queued) => {
            count(if queued { "accepted" } else { "unreadable" });
            StatusCode::OK.into_response()
        }
        Err(Refusal::Busy) => {
            count("busy");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
        Err(Refusal::Stopping) => {
            count("stopping");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::listener::*;
    use super::*;
    use std::net::IpAddr;
    use std::sync::Arc;
    use std::task::Poll;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpStream;
    use tokio::time::Instant;

    async fn guarded(slots: usize) -> (Guarded, SocketAddr) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        (Guarded::new(listener, slots, PER_CLIENT), addr)
    }

    #[test]
    fn only_a_loopback_address_in_the_file_made_wider_counts_as_widened() {
        let at = |a: &str| a.parse::<SocketAddr>().unwrap();
        assert!(widened(at("127.0.0.1:9184"), at("0.0.0.0:9184")));
        assert!(widened(at("[::1]:9184"), at("[::]:9184")));
        assert!(widened(at("127.0.0.1:9184"), at("192.168.1.5:9184")));
        assert!(!widened(at("127.0.0.1:9184"), at("127.0.0.1:9184")));
        assert!(!widened(at("127.0.0.1:9184"), at("[::ffff:127.0.0.1]:80")));
        assert!(
            !widened(at("0.0.0.0:9184"), at("10.0.0.1:9184")),
            "not loopback before"
        );
    }

    #[test]
    fn a_client_is_an_ipv4_address_or_an_ipv6_64() {
        let ip = |a: &str| a.parse::<IpAddr>().unwrap();
        assert_eq!(client_of(ip("203.0.113.7")), ip("203.0.113.7"));
        assert_eq!(client_of(ip("::ffff:203.0.113.7")), ip("203.0.113.7"));
        assert_eq!(
            client_of(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd")),
            ip("2001:db8:1:2::")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_that_moves_no_byte_is_closed_after_idle() {
        let (mut listener, addr) = guarded(1).await;
        let _client = TcpStream::connect(addr).await.unwrap();
        let mut stream = listener.accept().await;
        let started = Instant::now();
        let error = stream.read(&mut [0u8; 8]).await.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
        assert!(Instant::now() - started >= IDLE);
    }

    #[tokio::test(start_paused = true)]
    async fn connections_past_the_limit_wait_for_a_slot() {
        let (mut listener, addr) = guarded(1).await;
        let _first = TcpStream::connect(addr).await.unwrap();
        let held = listener.accept().await;
        let _second = TcpStream::connect(addr).await.unwrap();
        let waiting = tokio::time::timeout(Duration::from_secs(5), listener.accept()).await;
        assert!(waiting.is_err(), "no slot while the first is open");
        drop(held);
        let next = tokio::time::timeout(Duration::from_secs(5), listener.accept()).await;
        assert!(next.is_ok(), "a slot came free");
    }

    /// The whole server on loopback, in the test's runtime (so paused time
    /// drives its timers), over a fresh store and the built-in config.
    struct Running {
        addr: SocketAddr,
        _store: Store,
        _dir: tempfile::TempDir,
        stop: crate::runtime::shutdown::ShutdownTrigger,
        served: tokio::task::JoinHandle<()>,
    }

    async fn running() -> Running {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, shutdown) = Shutdown::new();
        let served = tokio::spawn(serve(
            listener,
            store.clone(),
            Arc::new(Config::default()),
            None,
            shutdown,
        ));
        Running {
            addr,
            _store: store,
            _dir: dir,
            stop,
            served,
        }
    }

    /// A connection from `from`, one of loopback's many addresses: a client
    /// of its own as the server counts them.
    async fn connect_from(from: [u8; 4], to: SocketAddr) -> TcpStream {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket
            .bind(SocketAddr::from((from, 0)))
            .expect("any 127.x address is loopback");
        socket.connect(to).await.unwrap()
    }

    /// `GET path` on a connection of its own from 127.0.0.1: the whole answer.
    async fn get(addr: SocketAddr, path: &str) -> String {
        let mut stream = connect_from([127, 0, 0, 1], addr).await;
        let request = format!("GET {path} HTTP/1.1\r\nHost: bot\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        String::from_utf8_lossy(&answer).into_owned()
    }

    /// Whether the server has closed `stream` (or answered on it): the
    /// client's read ends or brings something, rather than waiting.
    fn closed_by_server(stream: &TcpStream) -> bool {
        match stream.try_read(&mut [0u8; 512]) {
            Ok(_) => true,
            Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
        }
    }

    /// Half a request: a client that stalls before the end of its header.
    const HALF: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: bot\r\n";

    #[tokio::test(start_paused = true)]
    async fn healthz_answers_while_slow_clients_hold_every_slot_they_can() {
        let server = running().await;
        let mut slow = Vec::new();
        for _ in 0..MAX_CONNECTIONS {
            let mut stream = connect_from([127, 0, 0, 2], server.addr).await;
            // Refused connections may already be closed: the write may fail.
            let _ = stream.write_all(HALF).await;
            slow.push(stream);
        }
        let answer = tokio::time::timeout(Duration::from_secs(5), get(server.addr, "/healthz"))
            .await
            .expect("/healthz answers within 5 s while slow clients are held");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }

    #[tokio::test(start_paused = true)]
    async fn slow_clients_from_many_addresses_delay_healthz_by_the_header_timeout_at_most() {
        let server = running().await;
        let mut slow = Vec::new();
        for i in 0..MAX_CONNECTIONS {
            let client = [127, 0, 1, (i / PER_CLIENT) as u8];
            let mut stream = connect_from(client, server.addr).await;
            stream.write_all(HALF).await.unwrap();
            slow.push(stream);
        }
        let started = Instant::now();
        let answer = tokio::time::timeout(HEADER_READ * 2, get(server.addr, "/healthz"))
            .await
            .expect("/healthz answers once the slow clients' time is up");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        let waited = Instant::now() - started;
        assert!(waited <= HEADER_READ + Duration::from_secs(1), "{waited:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_waits_for_open_connections_no_longer_than_their_header_time() {
        let server = running().await;
        let mut slow = connect_from([127, 0, 0, 5], server.addr).await;
        slow.write_all(HALF).await.unwrap();
        let idle = connect_from([127, 0, 0, 6], server.addr).await;
        tokio::task::yield_now().await;
        server.stop.trigger();
        tokio::time::timeout(HEADER_READ + Duration::from_secs(1), server.served)
            .await
            .expect("the server stops")
            .unwrap();
        drop(idle);
    }

    #[tokio::test(start_paused = true)]
    async fn a_header_trickled_a_byte_a_second_is_cut_off_at_the_header_timeout() {
        let server = running().await;
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        let started = Instant::now();
        let mut request = HALF.to_vec();
        request.extend(std::iter::repeat_n(b'a', 60));
        let mut cut_off = None;
        for byte in request {
            if stream.write_all(&[byte]).await.is_err() || closed_by_server(&stream) {
                cut_off = Some(Instant::now() - started);
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let cut_off = cut_off.expect("the connection outlived a minute of trickling");
        // At the timeout, give or take the second between two bytes.
        assert!(
            cut_off >= HEADER_READ - Duration::from_secs(1)
                && cut_off <= HEADER_READ + Duration::from_secs(1),
            "cut off after {cut_off:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn one_client_is_served_on_a_few_connections_and_others_still_get_in() {
        let server = running().await;
        let mut held = Vec::new();
        for _ in 0..PER_CLIENT {
            let mut stream = connect_from([127, 0, 0, 3], server.addr).await;
            stream.write_all(HALF).await.unwrap();
            held.push(stream);
        }
        // One more from the same client waits its turn: no answer yet.
        let mut next = connect_from([127, 0, 0, 3], server.addr).await;
        next.write_all(b"GET /healthz HTTP/1.1\r\nHost: bot\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = Vec::new();
        let waited =
            tokio::time::timeout(Duration::from_secs(2), next.read_to_end(&mut answer)).await;
        assert!(waited.is_err(), "served only once a share comes free");
        // Another client is served meanwhile.
        let other = tokio::time::timeout(Duration::from_secs(2), get(server.addr, "/healthz"))
            .await
            .expect("another address is served");
        assert!(other.starts_with("HTTP/1.1 200"), "{other}");
        // One of the first goes away: the waiting one is served.
        drop(held.pop());
        tokio::time::timeout(Duration::from_secs(2), next.read_to_end(&mut answer))
            .await
            .expect("its turn came")
            .unwrap();
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }

    #[tokio::test(start_paused = true)]
    async fn connections_beyond_a_clients_waiting_room_are_closed_at_once() {
        let server = running().await;
        let mut open = Vec::new();
        for _ in 0..PER_CLIENT + PER_CLIENT_WAITING {
            let mut stream = connect_from([127, 0, 0, 4], server.addr).await;
            stream.write_all(HALF).await.unwrap();
            open.push(stream);
        }
        let mut more = connect_from([127, 0, 0, 4], server.addr).await;
        let _ = more.write_all(HALF).await;
        let mut end = [0u8; 64];
        let refused = tokio::time::timeout(Duration::from_secs(1), more.read(&mut end)).await;
        assert!(
            matches!(refused, Ok(Ok(0) | Err(_))),
            "closed at once: {refused:?}"
        );
        for stream in &open {
            assert!(!closed_by_server(stream), "served or waiting, still open");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_that_waited_past_the_header_time_is_closed_not_served() {
        let server = running().await;
        let mut held = Vec::new();
        for _ in 0..PER_CLIENT {
            let mut stream = connect_from([127, 0, 0, 7], server.addr).await;
            stream.write_all(HALF).await.unwrap();
            held.push(stream);
        }
        let mut late = connect_from([127, 0, 0, 7], server.addr).await;
        late.write_all(HALF).await.unwrap();
        // The served ones finish their requests late and stay kept alive, so
        // their shares come free only after the waiting one's header time.
        tokio::time::sleep(HEADER_READ - Duration::from_secs(1)).await;
        for stream in &mut held {
            stream.write_all(b"\r\n").await.unwrap();
            let mut answer = [0u8; 12];
            stream.read_exact(&mut answer).await.unwrap();
            assert_eq!(&answer, b"HTTP/1.1 200");
        }
        let mut end = Vec::new();
        tokio::time::timeout(HEADER_READ * 2, late.read_to_end(&mut end))
            .await
            .expect("closed")
            .ok();
        assert!(
            end.is_empty(),
            "not served: {}",
            String::from_utf8_lossy(&end)
        );
        // The client's count is clear again.
        drop(held);
        let mut stream = connect_from([127, 0, 0, 7], server.addr).await;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: bot\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut answer))
            .await
            .expect("served again")
            .unwrap();
        assert!(answer.starts_with(b"HTTP/1.1 200"));
    }

    #[tokio::test]
    async fn a_feed_is_built_off_the_async_worker_and_then_served_from_the_cache() {
        use hyper::service::Service as _;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let service = TowerToHyperService::new(router(store, Arc::new(Config::default()), None));
        let request = || {
            axum::http::Request::get("/feed/home.atom")
                .body(axum::body::Body::empty())
                .unwrap()
        };
        let mut first = std::pin::pin!(service.call(request()));
        let polled = std::future::poll_fn(|cx| Poll::Ready(first.as_mut().poll(cx))).await;
        assert!(
            polled.is_pending(),
            "the first request waits for a build elsewhere, leaving its worker free"
        );
        assert_eq!(first.await.unwrap().status(), StatusCode::OK);
        let mut second = std::pin::pin!(service.call(request()));
        let polled = std::future::poll_fn(|cx| Poll::Ready(second.as_mut().poll(cx))).await;
        match polled {
            Poll::Ready(Ok(response)) => assert_eq!(response.status(), StatusCode::OK),
            _ => panic!("the store has not changed: the feed comes from the cache at once"),
        }
    }

    /// `/metrics` through the router: the value of the sample `series`.
    async fn scraped(service: &TowerToHyperService<Router>, series: &str) -> f64 {
        use hyper::service::Service as _;
        let request = axum::http::Request::get("/metrics")
            .body(axum::body::Body::empty())
            .unwrap();
        let response = service.call(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        let line = text
            .lines()
            .find(|l| l.starts_with(series))
            .unwrap_or_else(|| panic!("no {series} in\n{text}"));
        line[series.len()..].trim().parse().unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn a_scrape_counts_the_subscribers_again_only_once_the_count_has_aged() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let service =
            TowerToHyperService::new(router(store.clone(), Arc::new(Config::default()), None));
        const PRIVATE: &str = "embassy_subscriptions{chat_kind=\"private\"}";
        let now = chrono::Utc::now();
        for chat in 1..=3 {
            store.subscribe(chat, None, now).await.unwrap();
        }
        assert_eq!(scraped(&service, PRIVATE).await, 3.0);
        for chat in 4..=5 {
            store.subscribe(chat, None, now).await.unwrap();
        }
        for _ in 0..20 {
            assert_eq!(
                scraped(&service, PRIVATE).await,
                3.0,
                "scrapes within the count's age do not walk the subscribers"
            );
        }
        tokio::time::sleep(gauges::MAX_AGE).await;
        let mut seen = scraped(&service, PRIVATE).await;
        for _ in 0..100 {
            if seen == 5.0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            seen = scraped(&service, PRIVATE).await;
        }
        assert_eq!(seen, 5.0, "an aged count is counted again");
    }
}
