//! The embedded HTTP server, on when `http.listen` is set: health for
//! container runtimes, metrics for Prometheus, the site's releases as feeds,
//! and in webhook mode the route Telegram posts updates to.
//!
//! | route | answer |
//! | --- | --- |
//! | `GET /healthz` | 200 or 503, JSON: [`crate::http::health::Verdict`] |
//! | `GET /readyz` | 200 once every source has been read, else 503 |
//! | `GET /metrics` | Prometheus text ([`crate::metrics`], with the store's gauges read here) |
//! | `GET /feed.atom`, `/feed.json` | every source's releases (`feeds.rs`) |
//! | `GET /feed/<source>.atom`, `.json` | one source's |
//! | `POST <path of telegram.webhook_url>` | updates from Telegram ([`crate::updates::webhook`]) |
//!
//! Bounds: at most [`MAX_CONNECTIONS`] connections at once (more wait to be
//! accepted), a connection that moves no byte for [`IDLE`] is closed, a
//! webhook body may hold at most [`crate::updates::webhook::MAX_BODY`] bytes; other
//! routes read no body. Meant for loopback or a private network, behind a
//! reverse proxy for anything public (`docs/operations.md#the-http-server`).

pub(crate) mod feed_writer;
mod feeds;
pub(crate) mod health;

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

use crate::config::Config;
use crate::metrics::{StoreGauges, SubscriptionsByKind};
use crate::runtime::shutdown::Shutdown;
use crate::store::{Store, StoreError};
use crate::updates::webhook::{Inbox, Refusal};

/// Connections served at once; more wait in the kernel's backlog.
pub(crate) const MAX_CONNECTIONS: usize = 128;
/// A connection that neither sends nor takes a byte for this long is closed
/// (an idle keep-alive, or a client that stalls on purpose).
pub(crate) const IDLE: Duration = Duration::from_secs(60);

/// What every route reads.
#[derive(Clone)]
struct Served {
    store: Store,
    config: Arc<Config>,
    webhook: Option<Inbox>,
}

/// Binds `addr` now, so a port in use stops the start with a clear error.
pub(crate) async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} (http.listen)"))
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
    let listener = Guarded {
        listener,
        slots: Arc::new(Semaphore::new(MAX_CONNECTIONS)),
    };
    let stop = async move { shutdown.requested().await };
    if let Err(e) = axum::serve(listener, router)
        .with_graceful_shutdown(stop)
        .await
    {
        tracing::error!(error = %e, "the HTTP server stopped");
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
    let body = serde_json::json!({ "ready": verdict.ready, "unread": verdict.unread });
    json_response(status, body.to_string())
}

async fn metrics(State(s): State<Served>) -> Response {
    // Walks the subscriber list and the journal: off the async workers.
    let rendered = tokio::task::spawn_blocking(move || {
        store_gauges(&s.store, &s.config).map(|gauges| crate::metrics::get().encode(&gauges))
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

/// What the store holds now, for the gauges of a scrape. Walks the
/// subscriber list and the journal: a scrape costs about as much as `/status`.
fn store_gauges(store: &Store, config: &Config) -> Result<StoreGauges, StoreError> {
    let releases = store.item_count();
    let journal_entries = store.journal_count();
    let outbox_entries = store.outbox_len();
    let subscriptions = SubscriptionsByKind::count(store.subscribers()?);
    let mut last_success = Vec::with_capacity(config.sources.len());
    for source in &config.sources {
        if let Some(at) = store.last_success(&source.name)? {
            last_success.push((source.name.clone(), at));
        }
    }
    Ok(StoreGauges {
        releases,
        journal_entries,
        outbox_entries,
        subscriptions,
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

/// A TCP listener that serves at most [`MAX_CONNECTIONS`] at once and closes
/// connections idle for [`IDLE`].
struct Guarded {
    listener: TcpListener,
    slots: Arc<Semaphore>,
}

impl axum::serve::Listener for Guarded {
    type Io = GuardedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok(permit) = self.slots.clone().acquire_owned().await else {
                // Never closed; wait rather than spin if it ever were.
                std::future::pending::<()>().await;
                continue;
            };
            match self.listener.accept().await {
                Ok((stream, addr)) => {
                    let _ = stream.set_nodelay(true);
                    return (
                        GuardedStream {
                            stream,
                            idle: Box::pin(tokio::time::sleep(IDLE)),
                            _slot: permit,
                        },
                        addr,
                    );
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "cannot accept an HTTP connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

/// One accepted connection, holding its slot until it closes.
struct GuardedStream {
    stream: TcpStream,
    idle: Pin<Box<Sleep>>,
    _slot: OwnedSemaphorePermit,
}

impl GuardedStream {
    /// After a poll of the stream: progress restarts the idle clock; no
    /// progress past it ends the connection.
    fn watch<T>(
        &mut self,
        cx: &mut Context<'_>,
        poll: Poll<std::io::Result<T>>,
    ) -> Poll<std::io::Result<T>> {
        match poll {
            Poll::Ready(result) => {
                self.idle.as_mut().reset(Instant::now() + IDLE);
                Poll::Ready(result)
            }
            Poll::Pending => match self.idle.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "HTTP connection idle too long",
                ))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl AsyncRead for GuardedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let poll = Pin::new(&mut self.stream).poll_read(cx, buf);
        self.watch(cx, poll)
    }
}

impl AsyncWrite for GuardedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.watch(cx, poll)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let poll = Pin::new(&mut self.stream).poll_flush(cx);
        self.watch(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::serve::Listener as _;
    use tokio::io::AsyncReadExt as _;

    async fn guarded(slots: usize) -> (Guarded, SocketAddr) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let slots = Arc::new(Semaphore::new(slots));
        (Guarded { listener, slots }, addr)
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_that_moves_no_byte_is_closed_after_idle() {
        let (mut listener, addr) = guarded(1).await;
        let _client = TcpStream::connect(addr).await.unwrap();
        let (mut stream, _) = listener.accept().await;
        let started = Instant::now();
        let error = stream.read(&mut [0u8; 8]).await.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
        assert!(Instant::now() - started >= IDLE);
    }

    #[tokio::test(start_paused = true)]
    async fn connections_past_the_limit_wait_for_a_slot() {
        let (mut listener, addr) = guarded(1).await;
        let _first = TcpStream::connect(addr).await.unwrap();
        let (held, _) = listener.accept().await;
        let _second = TcpStream::connect(addr).await.unwrap();
        let waiting = tokio::time::timeout(Duration::from_secs(5), listener.accept()).await;
        assert!(waiting.is_err(), "no slot while the first is open");
        drop(held);
        let next = tokio::time::timeout(Duration::from_secs(5), listener.accept()).await;
        assert!(next.is_ok(), "a slot came free");
    }
}
