//! A fake web site over loopback: serves whatever page the test sets, counts and
//! records requests, and can behave like a real server (validators and 304, gzip,
//! slowness, redirects, `Retry-After`) when a test asks for it with [`Behaviour`].

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::http::{self, Request, Response};

/// How the fake site answers, beyond the page itself. The default is a plain 200.
#[derive(Debug, Clone)]
pub struct Behaviour {
    pub content_type: String,
    /// Sent as `ETag`; a request whose `If-None-Match` equals it gets 304.
    pub etag: Option<String>,
    /// Sent as `Last-Modified`; a request whose `If-Modified-Since` equals it gets 304.
    pub last_modified: Option<String>,
    pub cache_control: Option<String>,
    /// Compress the body and say `Content-Encoding: gzip`.
    pub gzip: bool,
    /// Wait this long before answering.
    pub delay: Option<Duration>,
    /// Answer every request with a 302 to this path (itself: a loop).
    pub redirect_to: Option<String>,
    /// Answer a request for the first path with a 302 to the second (any URL).
    pub redirects: Vec<(String, String)>,
    /// Sent as `Retry-After` with every answer that is not a redirect.
    pub retry_after: Option<String>,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            content_type: "text/html; charset=utf-8".into(),
            etag: None,
            last_modified: None,
            cache_control: None,
            gzip: false,
            delay: None,
            redirect_to: None,
            redirects: Vec::new(),
            retry_after: None,
        }
    }
}

#[derive(Clone)]
pub struct FakeSite {
    pub url: String,
    page: Arc<Mutex<(u16, Vec<u8>)>>,
    /// Pages served at their own paths (query included), instead of `page`.
    pages: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    hits: Arc<AtomicUsize>,
    behaviour: Arc<Mutex<Behaviour>>,
    requests: Arc<Mutex<Vec<Request>>>,
}

/// gzip-compresses `body` (for the fake's `Content-Encoding: gzip`).
pub fn gzip(body: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(body).expect("gzip in memory");
    enc.finish().expect("gzip in memory")
}

impl FakeSite {
    pub async fn start(page: impl Into<Vec<u8>>) -> FakeSite {
        let page = Arc::new(Mutex::new((200u16, page.into())));
        let pages: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
        let hits = Arc::new(AtomicUsize::new(0));
        let behaviour = Arc::new(Mutex::new(Behaviour::default()));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (p, ps, h, b, r) = (
            page.clone(),
            pages.clone(),
            hits.clone(),
            behaviour.clone(),
            requests.clone(),
        );
        let handler: http::Handler = Arc::new(move |req| {
            let (p, ps, h, b, r) = (p.clone(), ps.clone(), h.clone(), b.clone(), r.clone());
            Box::pin(async move {
                let how = b.lock().unwrap().clone();
                let conditional_hit = how
                    .etag
                    .as_deref()
                    .is_some_and(|e| req.header("if-none-match") == Some(e))
                    || how
                        .last_modified
                        .as_deref()
                        .is_some_and(|d| req.header("if-modified-since") == Some(d));
                let redirect = how.redirect_to.clone().or_else(|| {
                    how.redirects
                        .iter()
                        .find(|(from, _)| *from == req.path)
                        .map(|(_, to)| to.clone())
                });
                let at_path = ps.lock().unwrap().get(&req.path).cloned();
                r.lock().unwrap().push(req);
                if let Some(delay) = how.delay {
                    tokio::time::sleep(delay).await;
                }
                let (status, body) = match at_path {
                    Some(body) => (200, body),
                    None => p.lock().unwrap().clone(),
                };
                h.fetch_add(1, Ordering::SeqCst);
                if let Some(to) = redirect {
                    let mut resp = Response::new(302, "text/plain", "moved");
                    resp.headers.push(("Location".into(), to));
                    return Some(resp);
                }
                if conditional_hit {
                    return Some(Response {
                        status: 304,
                        headers: Vec::new(),
                        body: Vec::new(),
                    });
                }
                let body = if how.gzip { gzip(&body) } else { body };
                let mut resp = Response::new(status, &how.content_type, body);
                let mut add = |k: &str, v: Option<String>| {
                    if let Some(v) = v {
                        resp.headers.push((k.into(), v));
                    }
                };
                add("ETag", how.etag);
                add("Last-Modified", how.last_modified);
                add("Cache-Control", how.cache_control);
                add("Content-Encoding", how.gzip.then(|| "gzip".into()));
                add("Retry-After", how.retry_after);
                Some(resp)
            })
        });
        let addr = http::serve(handler).await;
        FakeSite {
            url: format!("http://{addr}/"),
            page,
            pages,
            hits,
            behaviour,
            requests,
        }
    }

    /// From the next request on, answers `from` with a 302 to `to` (and
    /// everything else with the page).
    pub fn redirect(&self, from: &str, to: String) {
        self.behave(Behaviour {
            redirects: vec![(from.into(), to)],
            ..Behaviour::default()
        });
    }

    /// Changes how the site answers from the next request on.
    pub fn behave(&self, behaviour: Behaviour) {
        *self.behaviour.lock().unwrap() = behaviour;
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    pub fn set_page(&self, body: impl Into<Vec<u8>>) {
        *self.page.lock().unwrap() = (200, body.into());
    }

    /// Serves `body` at `path` (with its query, as requested: `/list/&start=11`),
    /// and the page set with [`FakeSite::set_page`] everywhere else.
    pub fn set_page_at(&self, path: &str, body: impl Into<Vec<u8>>) {
        self.pages
            .lock()
            .unwrap()
            .insert(path.to_string(), body.into());
    }

    pub fn set_status(&self, status: u16, body: impl Into<Vec<u8>>) {
        *self.page.lock().unwrap() = (status, body.into());
    }

    /// The paths requested so far, in order.
    pub fn paths(&self) -> Vec<String> {
        self.requests().into_iter().map(|r| r.path).collect()
    }

    /// The port the site listens on (its URL is `http://127.0.0.1:<port>/`).
    pub fn port(&self) -> u16 {
        self.url
            .trim_end_matches('/')
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("the fake's URL ends in its port")
    }

    /// The User-Agent of the last request.
    pub fn user_agent(&self) -> Option<String> {
        let requests = self.requests.lock().unwrap();
        requests.last()?.header("user-agent").map(str::to_string)
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// Waits until the bot has read the site `n` more times than `since`
    /// hits and recorded the last of those reads: a source is read, recorded,
    /// then read again, so the read after them has begun. `timeout` is the
    /// failure bound. (A source that reads several pages a time counts each.)
    pub async fn wait_for_hits(&self, since: usize, n: usize, timeout: std::time::Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.hits() < since + n + 1 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the site was not read {n} times in {timeout:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }
}

/// A loopback port nothing listens on (bound, then let go).
pub async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    listener.local_addr().expect("local addr").port()
}
