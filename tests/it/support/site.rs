//! A fake web site over loopback: serves whatever page the test sets, counts requests.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::http::{self, Response};

#[derive(Clone)]
pub struct FakeSite {
    pub url: String,
    page: Arc<Mutex<(u16, Vec<u8>)>>,
    hits: Arc<AtomicUsize>,
    user_agent: Arc<Mutex<Option<String>>>,
}

impl FakeSite {
    pub async fn start(page: impl Into<Vec<u8>>) -> FakeSite {
        let page = Arc::new(Mutex::new((200u16, page.into())));
        let hits = Arc::new(AtomicUsize::new(0));
        let user_agent = Arc::new(Mutex::new(None));
        let (p, h, ua) = (page.clone(), hits.clone(), user_agent.clone());
        let handler: http::Handler = Arc::new(move |req| {
            let (p, h, ua) = (p.clone(), h.clone(), ua.clone());
            Box::pin(async move {
                *ua.lock().unwrap() = req.header("user-agent").map(str::to_string);
                let (status, body) = p.lock().unwrap().clone();
                h.fetch_add(1, Ordering::SeqCst);
                Some(Response::new(status, "text/html; charset=utf-8", body))
            })
        });
        let addr = http::serve(handler).await;
        FakeSite {
            url: format!("http://{addr}/"),
            page,
            hits,
            user_agent,
        }
    }

    pub fn set_page(&self, body: impl Into<Vec<u8>>) {
        *self.page.lock().unwrap() = (200, body.into());
    }

    pub fn set_status(&self, status: u16, body: impl Into<Vec<u8>>) {
        *self.page.lock().unwrap() = (status, body.into());
    }

    /// The User-Agent of the last request.
    pub fn user_agent(&self) -> Option<String> {
        self.user_agent.lock().unwrap().clone()
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// Waits until the site has been fetched `n` more times than `since`, plus a moment
    /// for the bot to record what it read.
    pub async fn wait_for_hits(&self, since: usize, n: usize, timeout: std::time::Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.hits() < since + n {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the site was not polled in time"
            );
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
}
