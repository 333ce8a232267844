//! What the process does when its database fails (see [`crate::store`]'s
//! fault): one log line, one operator alert, a stop, and a non-zero exit
//! within seconds, so that the supervisor (Docker's restart policy, systemd)
//! starts it again on a database opened afresh. `docs/operations.md#storage-faults`.

use std::sync::Arc;
use std::time::Duration;

use crate::alerts::Alerts;
use crate::runtime::shutdown::ShutdownTrigger;
use crate::store::Store;
use crate::text::markup::escape;

/// How long the operator alert may take before the stop goes on without it.
const ALERT_WITHIN: Duration = Duration::from_secs(3);
/// The stop after a fault: what is still running after this is cut short
/// and the process exits 1 all the same.
const EXIT_WITHIN: Duration = Duration::from_secs(5);

/// Waits for a storage fault; then tells operators, stops the bot and makes
/// sure the process ends non-zero within [`EXIT_WITHIN`] even if a part of
/// it is stuck (the clean path ends in [`Store::close`], which fails).
pub(crate) async fn stop_on_fault(store: Store, alerts: Alerts, trigger: Arc<ShutdownTrigger>) {
    let fault = store.failed().await;
    tracing::error!(
        error = %fault,
        "the database failed and cannot be written until it is opened again; stopping (exit 1) so that the supervisor restarts the bot"
    );
    let alert = format!(
        "⚠️ The bot's database failed: {}. The bot stops now and exits non-zero, so that its \
         supervisor restarts it; if the disk is full, free space. Nothing recorded before is lost.",
        escape(&fault)
    );
    alerts.send_and_wait(alert, ALERT_WITHIN).await;
    trigger.trigger();
    tokio::time::sleep(EXIT_WITHIN).await;
    tracing::error!("the stop after the database failure did not finish in time; exiting 1");
    std::process::exit(1);
}
