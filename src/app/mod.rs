//! Running the bot: open the store, start the HTTP server (when configured),
//! pollers and delivery, dispatch updates (long polling, or the webhook), and
//! shut down cleanly on SIGTERM or SIGINT (flush, exit 0).

pub(crate) mod store_fault;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use teloxide::dispatching::{DefaultKey, Dispatcher, ShutdownToken};
use teloxide::error_handlers::LoggingErrorHandler;
use teloxide::prelude::*;
use teloxide::stop::StopToken;
use teloxide::update_listeners::{Polling, UpdateListener};
use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::alerts::Alerts;
use crate::commands::Context;
use crate::commands::access::Access;
use crate::config::{Config, TELEGRAM_API};
use crate::delivery::{Delivery, Holds};
use crate::render::SourceLabels;
use crate::runtime::backoff::jittered_backoff_now;
use crate::runtime::shutdown::{Shutdown, ShutdownTrigger};
use crate::store::Store;
use crate::telegram::client::HttpMessenger;
use crate::telegram::limiter::Limiter;
use crate::telegram::lookup::HttpLookup;
use crate::text::clock::{Clock, TEST_CLOCK_VAR};
use crate::updates;
use crate::updates::conversations::{Conversations, Limits};

/// A push that takes longer than this is retried (Telegram may have sent it: a
/// possible duplicate, but never a loss).
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// The first wait before asking Telegram again when it cannot be reached at start.
const CONNECT_RETRY: Duration = Duration::from_secs(1);
/// The longest wait between those tries.
const CONNECT_RETRY_CAP: Duration = Duration::from_secs(60);
/// How long shutdown waits for in-flight work before cutting it short (what
/// it was doing stays journaled, and its progress is saved as it is dropped).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(8);

/// Runs the bot until a termination signal: opens the store, starts the
/// HTTP server, connects to Telegram, starts the parts, dispatches updates
/// until shutdown, then stops everything in order.
pub(crate) async fn run(config: Config) -> anyhow::Result<()> {
    let mut running = Running::open(config)?;
    let signals = tokio::spawn(wait_for_signal(running.trigger.clone()));
    let webhook = running.start_http().await?;
    declare_metrics(&running.config);

    let Some(me) = connect(&running.bot, &running.shutdown).await? else {
        return finish(running.workers, &running.store).await;
    };
    tracing::info!(username = %me.username(), "connected to Telegram");
    if let Err(e) = updates::register_menu(&running.bot, &running.config).await {
        tracing::warn!(error = %e, "could not register the command menu; commands still work");
    }

    let (ctx, conversations) = running.start_parts(&me)?;
    running
        .receive_updates(ctx, conversations, webhook)
        .await
        .context("cannot start receiving updates from Telegram")?;

    // The dispatcher only returns once shutdown began; make sure everyone hears it.
    running.trigger.trigger();
    signals.abort();
    finish(running.workers, &running.store).await
}

/// The bot while it runs: what its parts share, and the workers they run as
/// (each waited for at shutdown).
struct Running {
    config: Arc<Config>,
    store: Store,
    bot: Bot,
    token: String,
    clock: Clock,
    trigger: Arc<ShutdownTrigger>,
    shutdown: Shutdown,
    workers: JoinSet<()>,
}

impl Running {
    /// The token checked, the clock read, the store opened and the bot
    /// built: what must be right before anything starts.
    fn open(config: Config) -> anyhow::Result<Running> {
        let token = config.require_token()?.to_string();
        // Read once, before anything looks at the time (see `Clock::from_env`).
        let clock = Clock::from_env()?;
        if clock.is_test() {
            tracing::warn!(now = %clock.now(), "running on a test clock ({TEST_CLOCK_VAR}); never do this in production");
        }
        let store = Store::open_with(&config.data_dir, &config.store)?;
        let bot = updates::build_bot(&config, &token)?;
        let (trigger, shutdown) = Shutdown::new();
        Ok(Running {
            config: Arc::new(config),
            store,
            bot,
            token,
            clock,
            trigger: Arc::new(trigger),
            shutdown,
            workers: JoinSet::new(),
        })
    }

    /// Starts the HTTP server when `http.listen` is set: up before Telegram
    /// is reached, since health, metrics and feeds do not need it. In webhook
    /// mode it gets the route's inbox, and the listener for the dispatcher
    /// is returned.
    async fn start_http(
        &mut self,
    ) -> anyhow::Result<Option<impl UpdateListener<Err = Infallible> + Send + use<>>> {
        let Running {
            config,
            store,
            bot,
            shutdown,
            workers,
            ..
        } = self;
        let (inbox, webhook) = match &config.telegram.webhook_url {
            Some(url) => {
                let (inbox, listener) = crate::updates::webhook::channel(
                    bot.clone(),
                    url.clone(),
                    crate::updates::webhook::new_secret()?,
                );
                (Some(inbox), Some(listener))
            }
            None => (None, None),
        };
        if let Some(addr) = config.http.listen {
            let listener = crate::http::bind(addr).await?;
            workers.spawn(crate::http::serve(
                listener,
                store.clone(),
                config.clone(),
                inbox,
                shutdown.clone(),
            ));
            workers.spawn(keep_in_touch(
                bot.clone(),
                config.http.telegram_silence,
                shutdown.clone(),
            ));
        }
        Ok(webhook)
    }

    /// Once Telegram answers: alerts, the store's watch, the pollers and
    /// delivery start; what command handlers need is returned.
    fn start_parts(
        &mut self,
        me: &teloxide::types::Me,
    ) -> anyhow::Result<(Context, Conversations)> {
        let wake = Arc::new(Notify::new());
        let telegram_api = url::Url::parse(TELEGRAM_API)?;
        let messenger = HttpMessenger::new(
            self.config
                .telegram
                .api_url
                .as_ref()
                .unwrap_or(&telegram_api),
            &self.token,
            SEND_TIMEOUT,
        )?;
        // Operators are people: alerts go to their private chats with the bot.
        // Alerts and command replies are never paid broadcasts; pushes may be.
        let alerts = Alerts::new(messenger.clone(), &self.config.operators);
        let replies = messenger.clone();
        let messenger = messenger.paid_broadcast(self.config.telegram.allow_paid_broadcast);
        self.watch_the_store(&alerts);
        self.start_pollers(&wake, &alerts);
        let limiter = Arc::new(Limiter::new(self.config.telegram.rate_limits()));
        let conversations = Conversations::new(
            replies,
            limiter.clone(),
            Limits {
                user_budget: self.config.commands_per_user_per_minute,
                ..Limits::default()
            },
            self.shutdown.clone(),
        );
        let holds = self.start_delivery(messenger, &limiter, &wake);
        let ctx = self.command_context(me, &telegram_api, limiter, holds)?;
        Ok((ctx, conversations))
    }

    /// Tells operators of a rollback found at open, and stops the bot if the
    /// database fails later.
    fn watch_the_store(&self, alerts: &Alerts) {
        if let Some(rollback) = self.store.rollback() {
            alerts.send(format!(
                "⚠️ {}",
                crate::text::markup::escape(&rollback.to_string())
            ));
        }
        tokio::spawn(crate::app::store_fault::stop_on_fault(
            self.store.clone(),
            alerts.clone(),
            self.trigger.clone(),
        ));
    }

    /// One poller per source, each waking delivery when it records news;
    /// and the reader of releases' own pages.
    fn start_pollers(&mut self, wake: &Arc<Notify>, alerts: &Alerts) {
        let Running {
            config,
            store,
            shutdown,
            workers,
            ..
        } = self;
        workers.spawn(crate::watch::reader::run(
            config.full_text,
            config.sources.clone(),
            store.clone(),
            shutdown.clone(),
        ));
        for source in &config.sources {
            workers.spawn(crate::watch::poller::run(
                source.clone(),
                store.clone(),
                wake.clone(),
                alerts.clone(),
                shutdown.clone(),
            ));
        }
    }

    /// Starts delivery (the fan-out walks and the journal sweep); returns the
    /// holds that settings commands lift.
    fn start_delivery(
        &mut self,
        messenger: HttpMessenger,
        limiter: &Arc<Limiter>,
        wake: &Arc<Notify>,
    ) -> Arc<Holds> {
        let Running {
            config,
            store,
            clock,
            shutdown,
            workers,
            ..
        } = self;
        let delivery = Delivery::new(
            store.clone(),
            messenger.with_link_preview(config.telegram.link_preview.push),
            limiter.clone(),
            config.telegram.send_concurrency,
        )
        .with_source_labels(SourceLabels::from_config(config))
        .with_edits(config.edits.window())
        .with_full_text_button(config.full_text.enabled)
        .with_clock(*clock);
        let holds = delivery.holds();
        // Pushes journaled before a restart go out now.
        wake.notify_one();
        workers.spawn(delivery.run(wake.clone(), shutdown.clone()));
        holds
    }

    /// What every command handler reads: the store, the configuration, the
    /// limits, who may change what, the clock and the holds.
    fn command_context(
        &self,
        me: &teloxide::types::Me,
        telegram_api: &url::Url,
        limiter: Arc<Limiter>,
        holds: Arc<Holds>,
    ) -> anyhow::Result<Context> {
        let bot_id = i64::try_from(me.user.id.0).context("the bot's user id is out of range")?;
        let lookup = HttpLookup::new(
            self.config
                .telegram
                .api_url
                .as_ref()
                .unwrap_or(telegram_api),
            &self.token,
            bot_id,
        )?;
        Ok(Context {
            store: self.store.clone(),
            config: self.config.clone(),
            limiter,
            access: Arc::new(Access::new(
                Arc::new(lookup),
                self.config.groups.who_can_subscribe,
            )),
            clock: self.clock,
            holds,
        })
    }

    /// Hands updates to the command handlers until shutdown: from the
    /// webhook's listener, or by long polling.
    async fn receive_updates(
        &self,
        ctx: Context,
        conversations: Conversations,
        webhook: Option<impl UpdateListener<Err = Infallible> + Send>,
    ) -> Result<(), teloxide::RequestError> {
        let Running {
            config,
            bot,
            shutdown,
            ..
        } = self;
        // Handlers only queue work (see `Conversations`): a chat's queue in the
        // dispatcher never fills, so no chat can hold up the others.
        let mut dispatcher = Dispatcher::builder(bot.clone(), updates::schema())
            .dependencies(dptree::deps![ctx, conversations])
            .default_handler(|_| async {})
            .error_handler(LoggingErrorHandler::with_custom_text(
                "error in a command handler",
            ))
            .build();
        match webhook {
            Some(listener) => {
                dispatch(
                    &mut dispatcher,
                    listener,
                    shutdown.clone(),
                    "error while receiving webhook updates",
                )
                .await
            }
            None => {
                // Deleting the webhook first is what switches a bot back to polling.
                let listener = Polling::builder(bot.clone())
                    .timeout(config.telegram.long_poll)
                    .delete_webhook()
                    .await
                    .build();
                dispatch(
                    &mut dispatcher,
                    listener,
                    shutdown.clone(),
                    "error while polling Telegram",
                )
                .await
            }
        }
    }
}

/// Creates the per-source series and shows the send rate from the start.
fn declare_metrics(config: &Config) {
    let metrics = crate::metrics::get();
    metrics.declare_sources(config.sources.iter().map(|s| s.name.as_str()));
    // The limiter keeps it current from its first send; 0 means no limits.
    metrics
        .send_rate
        .set(config.telegram.rate_limits().map_or(0.0, |l| l.per_second));
}

/// Waits for every worker (cut short after [`SHUTDOWN_GRACE`]), then closes the store.
async fn finish(mut workers: JoinSet<()>, store: &Store) -> anyhow::Result<()> {
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

/// Asks Telegram for `getMe` whenever it has answered nothing for a while, so
/// health knows whether Telegram is reachable even when no push or update
/// has gone either way (a quiet day, or webhook mode with nobody writing).
async fn keep_in_touch(bot: Bot, silence: Duration, shutdown: Shutdown) {
    let every = (silence / 3).min(Duration::from_secs(60));
    let vitals = crate::metrics::get();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.requested() => return,
        }
        let now = chrono::Utc::now();
        let quiet = vitals
            .telegram_last_answer()
            // Half a period: a wake just short of a full one still asks.
            .is_none_or(|at| (now - at).to_std().is_ok_and(|d| d >= every / 2));
        if quiet {
            match bot.get_me().await {
                Ok(_) => vitals.telegram_answered(chrono::Utc::now()),
                Err(e) => tracing::debug!(error = %e, "Telegram did not answer getMe"),
            }
        }
    }
}

/// Waits for getMe to succeed, retrying on the program's one backoff
/// ([`jittered_backoff_now`]: 1 s doubling up to a minute); `None` if shutdown
/// came first. A rejected token is fatal.
async fn connect(bot: &Bot, shutdown: &Shutdown) -> anyhow::Result<Option<teloxide::types::Me>> {
    let mut failures: u32 = 0;
    loop {
        let answer = bot.get_me().await;
        if answer.is_ok() {
            crate::metrics::get().telegram_answered(chrono::Utc::now());
        }
        let delay = match answer {
            Ok(me) if me.user.username.is_some() => return Ok(Some(me)),
            Ok(_) => anyhow::bail!("Telegram's getMe returned a bot without a username"),
            Err(teloxide::RequestError::Api(teloxide::ApiError::InvalidToken)) => {
                anyhow::bail!(
                    "Telegram rejected the bot token (Unauthorized): check TELOXIDE_TOKEN"
                )
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                let delay = jittered_backoff_now(CONNECT_RETRY, failures, CONNECT_RETRY_CAP);
                tracing::warn!(error = %e, retry_in = ?delay, "cannot reach Telegram yet");
                delay
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.requested() => return Ok(None),
        }
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

/// Hands `listener`'s updates to `dispatcher` until shutdown ends them (see
/// [`stop_dispatcher_on_shutdown`]); `failing` is what a listener error is logged as.
async fn dispatch<L>(
    dispatcher: &mut Dispatcher<Bot, anyhow::Error, DefaultKey>,
    mut listener: L,
    shutdown: Shutdown,
    failing: &'static str,
) -> Result<(), teloxide::RequestError>
where
    L: UpdateListener + Send,
    L::Err: std::fmt::Debug,
{
    tokio::spawn(stop_dispatcher_on_shutdown(
        dispatcher.shutdown_token(),
        listener.stop_token(),
        shutdown,
    ));
    dispatcher
        .try_dispatch_with_listener(listener, LoggingErrorHandler::with_custom_text(failing))
        .await
}

/// Stops receiving updates once shutdown begins. The listener's own stop
/// token ends its stream after the request in flight, which ends the
/// dispatcher; teloxide's `ShutdownToken` alone can miss its wake-up when
/// shutdown comes while the dispatcher is busy or still starting (its
/// `Notify::notify_waiters` keeps no permit), and then the dispatcher waits
/// for an update that may never come. The token is still told, so the
/// dispatcher logs the stop as a shutdown rather than the stream's end.
async fn stop_dispatcher_on_shutdown(
    token: ShutdownToken,
    listener: StopToken,
    shutdown: Shutdown,
) {
    shutdown.requested().await;
    listener.stop();
    // While the dispatcher is still starting the token refuses; a few tries
    // cover that, and the listener's stop ends dispatching regardless.
    for _ in 0..100 {
        if token.shutdown().is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
