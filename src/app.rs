//! Running the bot: open the store, start pollers and delivery, dispatch
//! updates, and shut down cleanly on SIGTERM or SIGINT (flush, exit 0).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use teloxide::dispatching::{Dispatcher, ShutdownToken};
use teloxide::error_handlers::LoggingErrorHandler;
use teloxide::prelude::*;
use teloxide::update_listeners::Polling;
use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::alerts::Alerts;
use crate::commands::Context;
use crate::config::{Config, TELEGRAM_API};
use crate::delivery::Delivery;
use crate::limiter::Limiter;
use crate::sender::HttpMessenger;
use crate::shutdown::{Shutdown, ShutdownTrigger};
use crate::store::Store;
use crate::telegram;

/// A push that takes longer than this is retried (Telegram may have sent it: a
/// possible duplicate, but never a loss).
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// How long shutdown waits for in-flight work before cutting it short (what
/// it was doing stays journaled, and its progress is saved as it is dropped).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(8);

/// Runs the bot until a termination signal.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let token = config.require_token()?.to_string();
    let store = Store::open(&config.data_dir)?;
    let bot = telegram::build_bot(&config, &token)?;
    let (trigger, shutdown) = Shutdown::new();
    let trigger = Arc::new(trigger);
    let signals = tokio::spawn(wait_for_signal(trigger.clone()));

    let Some(me) = connect(&bot, &shutdown).await? else {
        store.close().await?;
        return Ok(());
    };
    tracing::info!(username = %me.username(), "connected to Telegram");
    if let Err(e) = telegram::register_menu(&bot, &config).await {
        tracing::warn!(error = %e, "could not register the command menu; commands still work");
    }

    let config = Arc::new(config);
    let wake = Arc::new(Notify::new());
    let telegram_api = url::Url::parse(TELEGRAM_API)?;
    let messenger = HttpMessenger::new(
        config.telegram.api_url.as_ref().unwrap_or(&telegram_api),
        &token,
        SEND_TIMEOUT,
    )?;
    let alerts = Alerts::new(messenger.clone(), &config.admin_chats);
    if let Some(rollback) = store.rollback() {
        alerts.send(format!(
            "⚠️ {}",
            crate::render::escape(&rollback.to_string())
        ));
    }
    tokio::spawn(crate::storage::stop_on_fault(
        store.clone(),
        alerts.clone(),
        trigger.clone(),
    ));
    let mut workers = JoinSet::new();
    for source in &config.sources {
        workers.spawn(crate::poller::run(
            source.clone(),
            store.clone(),
            wake.clone(),
            alerts.clone(),
            shutdown.clone(),
        ));
    }
    let limiter = Arc::new(Limiter::new(config.telegram.rate_limits()));
    let delivery = Delivery::new(
        store.clone(),
        messenger,
        limiter.clone(),
        config.telegram.send_concurrency,
    );
    // Pushes journaled before a restart go out now.
    wake.notify_one();
    workers.spawn(delivery.run(wake.clone(), shutdown.clone()));

    let ctx = Context {
        store: store.clone(),
        config: config.clone(),
    };
    let mut dispatcher = Dispatcher::builder(bot.clone(), telegram::schema())
        .dependencies(dptree::deps![
            ctx,
            telegram::Replies {
                limiter,
                shutdown: shutdown.clone(),
            }
        ])
        .default_handler(|_| async {})
        .error_handler(LoggingErrorHandler::with_custom_text(
            "error in a command handler",
        ))
        .build();
    let listener = Polling::builder(bot.clone())
        .timeout(config.telegram.long_poll)
        .delete_webhook()
        .await
        .build();
    tokio::spawn(stop_dispatcher_on_shutdown(
        dispatcher.shutdown_token(),
        shutdown.clone(),
    ));
    dispatcher
        .try_dispatch_with_listener(
            listener,
            LoggingErrorHandler::with_custom_text("error while polling Telegram"),
        )
        .await
        .context("cannot start receiving updates from Telegram")?;

    // The dispatcher only returns once shutdown began; make sure everyone hears it.
    trigger.trigger();
    signals.abort();
    let finished = async { while workers.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE, finished)
        .await
        .is_err()
    {
        tracing::warn!("some work did not finish in time; it stays journaled");
        workers.shutdown().await;
    }
    store.close().await?;
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Waits for getMe to succeed; `None` if shutdown came first. A rejected token is fatal.
async fn connect(bot: &Bot, shutdown: &Shutdown) -> anyhow::Result<Option<teloxide::types::Me>> {
    let mut delay = Duration::from_secs(1);
    loop {
        match bot.get_me().await {
            Ok(me) if me.user.username.is_some() => return Ok(Some(me)),
            Ok(_) => anyhow::bail!("Telegram's getMe returned a bot without a username"),
            Err(teloxide::RequestError::Api(teloxide::ApiError::InvalidToken)) => {
                anyhow::bail!(
                    "Telegram rejected the bot token (Unauthorized): check TELOXIDE_TOKEN"
                )
            }
            Err(e) => tracing::warn!(error = %e, retry_in = ?delay, "cannot reach Telegram yet"),
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.requested() => return Ok(None),
        }
        delay = (delay * 2).min(Duration::from_secs(60));
    }
}

async fn wait_for_signal(trigger: Arc<ShutdownTrigger>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => tracing::info!("SIGTERM received; shutting down"),
                    _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received; shutting down"),
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops the bot");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    trigger.trigger();
}

/// Asks the dispatcher to stop once shutdown begins (retrying while it is still starting).
async fn stop_dispatcher_on_shutdown(token: ShutdownToken, shutdown: Shutdown) {
    shutdown.requested().await;
    loop {
        match token.shutdown() {
            Ok(done) => {
                done.await;
                return;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}
