//! embassy-bot: a Telegram bot that watches a news site (by default the Embassy
//! of the Russian Federation in the UK) and pushes each new release to subscribers.
//!
//! Data flows one way: `source` → `store` → `delivery` → Telegram; commands only
//! read the store. Module map:
//!
//! - [`config`] — the TOML file and environment, validated with errors that name the key.
//! - [`source`] — fetch a page (conditional GET, size cap, charset) and extract items (HTML or feed) and contacts (pure).
//! - [`store`] — the only module that knows sled: items, subscribers, outbox, delivery journal,
//!   and the fan-out walk over the subscribers with its crash log.
//! - [`watch`] — polls each source on its interval and records what it finds, under
//!   the flood guard; backs off on failures and decides what operators hear.
//! - [`alerts`] — rare operator messages to `admin_chats`, sent in the background.
//! - [`delivery`] — sends each new item down the subscriber list and the journaled pushes,
//!   oldest first per chat, marking each done only after Telegram accepted it.
//! - [`limiter`] — Telegram's flood limits (global, per chat, per group) and retry backoff.
//! - [`commands`] — one file per bot command; each turns a request into reply text.
//! - [`render`] — HTML escaping, shortening and Telegram's length limit.
//! - [`redact`] — source URLs shown without credentials or secret query values.
//! - [`clock`], [`counters`] — the site's header clocks and day counters, pure in `now`.
//! - [`telegram`] — the teloxide edge: the client, the command menu, the update handler.
//! - [`sender`] — pushes as plain `sendMessage` calls, and Telegram's answers classified.
//! - [`app`] — wires it all together and handles shutdown; [`preview`] runs one read offline.
//! - [`check_source`] — one read of a source for the operator: items, charset, HTTP, warnings.
//! - [`cli`] — the command line (`run`, `preview`, `check-source`, `check-config`) and logging set-up.

pub mod alerts;
pub mod app;
pub mod check_source;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod counters;
pub mod delivery;
pub mod limiter;
pub mod preview;
pub mod redact;
pub mod render;
pub mod sender;
pub mod source;
pub mod store;
pub mod telegram;
pub mod watch;
