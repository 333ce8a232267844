//! Sends the pushes the store has journaled, and marks each one done only after
//! Telegram accepted it (or it can never be sent).
//!
//! Per chat, pushes go out oldest first and one at a time; chats are served
//! concurrently, and one chat's failure never stops the others: a transient
//! error leaves that chat's remaining pushes journaled for the next pass, a
//! permanent one (blocked, kicked, chat gone) unsubscribes the chat.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::{Notify, watch};

use crate::render::push_message;
use crate::store::{PendingDelivery, Store, StoreError};

/// How a send failed, as far as delivery needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// The chat cannot receive messages any more (blocked, kicked, deleted).
    ChatGone(String),
    /// The group became a supergroup with this id.
    Migrated(i64),
    /// This message can never be sent (Telegram refused its content).
    Rejected(String),
    /// Try again later (flood control, network trouble, server errors).
    Retry {
        after: Option<Duration>,
        reason: String,
    },
}

/// Something that can deliver a Telegram-HTML message to a chat.
/// Implemented by the Telegram edge; tests may provide their own.
pub trait Messenger: Clone + Send + Sync + 'static {
    fn send_html(
        &self,
        chat: i64,
        html: String,
    ) -> impl Future<Output = Result<(), SendError>> + Send;
}

/// Totals of one delivery pass, for logs and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassReport {
    pub sent: usize,
    pub given_up: usize,
    pub chats_removed: usize,
    pub deferred: usize,
    /// Longest wait Telegram asked for, if any.
    pub retry_after: Option<Duration>,
}

impl PassReport {
    fn absorb(&mut self, other: PassReport) {
        self.sent += other.sent;
        self.given_up += other.given_up;
        self.chats_removed += other.chats_removed;
        self.deferred += other.deferred;
        self.retry_after = self.retry_after.max(other.retry_after);
    }
}

/// The delivery worker.
#[derive(Clone)]
pub struct Delivery<M> {
    store: Store,
    messenger: M,
    /// How many chats are served at once.
    concurrency: usize,
}

/// How many journal entries one pass reads; the rest wait for the next pass.
const PASS_BATCH: usize = 5_000;
/// Wait before retrying deferred pushes when Telegram gave no hint.
const RETRY_DELAY: Duration = Duration::from_secs(5);

impl<M: Messenger> Delivery<M> {
    pub fn new(store: Store, messenger: M, concurrency: usize) -> Self {
        Delivery {
            store,
            messenger,
            concurrency: concurrency.max(1),
        }
    }

    /// Runs until `shutdown` turns true: a pass whenever `wake` is notified,
    /// and again after a delay while anything is deferred.
    pub async fn run(self, wake: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                return;
            }
            let delay = match self.deliver_pending(&shutdown).await {
                Ok(report) => {
                    if report.sent + report.given_up + report.chats_removed > 0 {
                        tracing::info!(?report, "delivery pass");
                    }
                    if report.deferred > 0 {
                        Some(
                            report
                                .retry_after
                                .unwrap_or(RETRY_DELAY)
                                .max(Duration::from_millis(200)),
                        )
                    } else if self.store.pending_count() > 0 {
                        Some(Duration::ZERO) // more than one batch was waiting
                    } else {
                        None
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "delivery pass failed");
                    Some(RETRY_DELAY)
                }
            };
            tokio::select! {
                _ = wake.notified() => {}
                _ = shutdown.changed() => {}
                _ = async {
                    match delay {
                        Some(d) => tokio::time::sleep(d).await,
                        None => std::future::pending().await,
                    }
                } => {}
            }
        }
    }

    /// Sends what the journal holds (one batch), chats concurrently, each chat in order.
    pub async fn deliver_pending(
        &self,
        shutdown: &watch::Receiver<bool>,
    ) -> Result<PassReport, StoreError> {
        let pending = self.store.pending(PASS_BATCH)?;
        let mut order: Vec<i64> = Vec::new();
        let mut by_chat: HashMap<i64, Vec<PendingDelivery>> = HashMap::new();
        for delivery in pending {
            by_chat
                .entry(delivery.chat)
                .or_insert_with(|| {
                    order.push(delivery.chat);
                    Vec::new()
                })
                .push(delivery);
        }
        let mut results =
            futures::stream::iter(order.into_iter().filter_map(|chat| by_chat.remove(&chat)))
                .map(|list| self.deliver_chat(list, shutdown))
                .buffer_unordered(self.concurrency);
        let mut report = PassReport::default();
        while let Some(result) = results.next().await {
            report.absorb(result?);
        }
        Ok(report)
    }

    async fn deliver_chat(
        &self,
        list: Vec<PendingDelivery>,
        shutdown: &watch::Receiver<bool>,
    ) -> Result<PassReport, StoreError> {
        let mut report = PassReport::default();
        let total = list.len();
        for (done, delivery) in list.into_iter().enumerate() {
            if *shutdown.borrow() {
                report.deferred += total - done;
                break;
            }
            let Some(stored) = self.store.item(&delivery.item_id)? else {
                tracing::warn!(item = %delivery.item_id, "journaled item is missing; dropping the push");
                self.store.complete(&delivery).await?;
                report.given_up += 1;
                continue;
            };
            match self
                .messenger
                .send_html(delivery.chat, push_message(&stored.item))
                .await
            {
                Ok(()) => {
                    self.store.complete(&delivery).await?;
                    report.sent += 1;
                }
                Err(SendError::Rejected(reason)) => {
                    tracing::error!(chat = delivery.chat, item = %delivery.item_id, %reason, "Telegram refused the push; giving up on it");
                    self.store.complete(&delivery).await?;
                    report.given_up += 1;
                }
                Err(SendError::ChatGone(reason)) => {
                    tracing::warn!(chat = delivery.chat, %reason, "chat can no longer receive messages; unsubscribing it");
                    self.store.unsubscribe(delivery.chat).await?;
                    report.chats_removed += 1;
                    break;
                }
                Err(SendError::Migrated(new_chat)) => {
                    tracing::info!(
                        from = delivery.chat,
                        to = new_chat,
                        "group migrated to a supergroup; moving its subscription"
                    );
                    self.store.migrate_chat(delivery.chat, new_chat).await?;
                    report.deferred += total - done;
                    report.retry_after = Some(Duration::ZERO);
                    break;
                }
                Err(SendError::Retry { after, reason }) => {
                    tracing::warn!(chat = delivery.chat, %reason, ?after, "push deferred");
                    report.deferred += total - done;
                    report.retry_after = report.retry_after.max(after);
                    break;
                }
            }
        }
        Ok(report)
    }
}
