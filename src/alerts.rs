//! Operator alerts: a short message to every operator (`admin_users`) in their private chat when a source
//! needs a human (failing for a while, recovered, emptied, flooded, read through a fallback).
//!
//! Alerts are rare and best effort, so they skip the push journal: each one is
//! sent on its own task, failures are logged, and the poller that raised it
//! never waits for Telegram.

use std::sync::Arc;

use futures::future::BoxFuture;

use crate::telegram::messenger::{Format, Messenger, SendError};

/// Sends one message to one chat; what [`Alerts`] is built on.
type SendFn = dyn Fn(i64, String) -> BoxFuture<'static, Result<(), SendError>> + Send + Sync;

/// A cheap-to-clone handle that tells every admin chat. Holds a boxed sender
/// rather than a [`Messenger`] type parameter so pollers stay non-generic.
#[derive(Clone)]
pub(crate) struct Alerts {
    admins: Arc<[i64]>,
    send: Arc<SendFn>,
}

impl Alerts {
    /// Alerts that go to `admins` through `messenger`, as Telegram HTML.
    pub(crate) fn new<M: Messenger>(messenger: M, admins: &[i64]) -> Alerts {
        Alerts {
            admins: admins.into(),
            send: Arc::new(move |chat, text| {
                let messenger = messenger.clone();
                Box::pin(async move { messenger.send(chat, None, text, Format::Html).await })
            }),
        }
    }

    /// Sends `html` to every admin chat and waits for the sends, at most
    /// `within` (the process is about to end).
    pub(crate) async fn send_and_wait(&self, html: String, within: std::time::Duration) {
        let sends = self.admins.iter().map(|&chat| {
            let send = (self.send)(chat, html.clone());
            async move {
                if let Err(e) = send.await {
                    tracing::warn!(chat, error = ?e, "could not send an operator alert");
                }
            }
        });
        if tokio::time::timeout(within, futures::future::join_all(sends))
            .await
            .is_err()
        {
            tracing::warn!("operator alerts did not go out in time");
        }
    }

    /// Sends `html` to every admin chat in the background; returns at once.
    /// Must be called inside a tokio runtime.
    pub(crate) fn send(&self, html: String) {
        for &chat in self.admins.iter() {
            let send = self.send.clone();
            let text = html.clone();
            tokio::spawn(async move {
                if let Err(e) = send(chat, text).await {
                    tracing::warn!(chat, error = ?e, "could not send an operator alert");
                }
            });
        }
    }
}
