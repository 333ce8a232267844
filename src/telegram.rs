//! The teloxide edge: building the client, the command menu, and the update
//! handler that feeds [`crate::commands`]. Only this module and [`crate::app`],
//! which runs the dispatcher, see teloxide types. (Pushes take a leaner path:
//! [`crate::sender`].)

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use teloxide::RequestError;
use teloxide::dispatching::{DpHandlerDescription, UpdateFilterExt};
use teloxide::prelude::*;
use teloxide::types::{BotCommand, LinkPreviewOptions, Me, ParseMode};

use crate::commands::{self, Context};
use crate::config::Config;
use crate::limiter::Limiter;
use crate::shutdown::Shutdown;

/// Builds the client from the validated config.
pub fn build_bot(config: &Config, token: &str) -> anyhow::Result<Bot> {
    // The HTTP timeout must outlast a long poll, or every idle poll would fail.
    let client = teloxide::net::default_reqwest_settings()
        .timeout(config.telegram.long_poll + Duration::from_secs(15))
        .build()?;
    let mut bot = Bot::with_client(token, client);
    if let Some(url) = &config.telegram.api_url {
        bot = bot.set_api_url(url.clone());
    }
    Ok(bot)
}

/// Registers the command menu so Telegram clients show it.
pub async fn register_menu(bot: &Bot, config: &Config) -> Result<(), RequestError> {
    let menu = commands::menu(config)
        .into_iter()
        .map(|(name, description)| BotCommand::new(name, description));
    bot.set_my_commands(menu).await.map(|_| ())
}

/// The update handler tree: every message is parsed and answered by [`crate::commands`].
pub fn schema() -> Handler<'static, anyhow::Result<()>, DpHandlerDescription> {
    Update::filter_message().endpoint(on_message)
}

/// What the update handler needs besides the command context.
#[derive(Clone)]
pub struct Replies {
    /// The same limiter pushes use: replies count against Telegram's limits too.
    pub limiter: Arc<Limiter>,
    pub shutdown: Shutdown,
}

async fn on_message(
    bot: Bot,
    msg: Message,
    me: Me,
    ctx: Context,
    replies: Replies,
) -> anyhow::Result<()> {
    let Some(text) = msg.text() else {
        return Ok(());
    };
    let parsed = commands::parse(text, me.username());
    let reply = commands::respond(
        &ctx,
        msg.chat.id.0,
        parsed,
        msg.chat.is_private(),
        Utc::now(),
    )
    .await;
    let reply = match reply {
        Ok(Some(reply)) => reply,
        Ok(None) => return Ok(()),
        Err(e) => {
            if let Some(held_back) = crate::log_limit::allow("command failed") {
                tracing::error!(error = %e, chat = msg.chat.id.0, held_back, "command failed");
            }
            "Sorry, something went wrong on my side. Please try again later.".to_string()
        }
    };
    if !replies
        .limiter
        .acquire(msg.chat.id.0, &replies.shutdown)
        .await
    {
        return Ok(()); // shutting down
    }
    bot.send_message(msg.chat.id, reply)
        .parse_mode(ParseMode::Html)
        .link_preview_options(LinkPreviewOptions {
            is_disabled: true,
            url: None,
            prefer_small_media: false,
            prefer_large_media: false,
            show_above_text: false,
        })
        .await?;
    Ok(())
}
