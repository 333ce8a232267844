//! embassy-bot: a Telegram bot that watches a news site (by default the Embassy
//! of the Russian Federation in the UK) and pushes each new release to subscribers.
//!
//! Data flows one way: `source` → `store` → `delivery` → Telegram. Commands
//! read the store, and write only a chat's own subscription and settings.
//!
//! Glossary — one word per thing, in code, comments and README alike:
//! - **release**: one piece of news the site publishes. An *item*
//!   ([`source::Item`]) is a release as one read of a page shows it, keyed by
//!   its canonical URL; a *stored item* ([`store::StoredItem`]) is a release
//!   as the store keeps it.
//! - **subscription**: what a chat asked to get: every source, or some; a
//!   forum topic may have one of its own. A chat or topic that gets pushes is
//!   a *target* ([`store::Target`]).
//! - **origin**: where a command or a button press came from: its chat, forum
//!   topic and sender (`commands::Origin`). A settings command applies to a
//!   *scope* (`commands::settings_command::Scope`): the origin's target, or a
//!   channel it names.
//! - **push**: one message telling one chat about one release.
//! - **outbox entry**: a release queued for its subscribers, written in the
//!   same transaction that records it, until its fan-out walk is finished.
//! - **fan-out walk**: the pass of one outbox entry down the subscriber list,
//!   a page at a time, pushing straight away.
//! - **journal entry**: a push owed to one chat that could not go when the
//!   walk reached it (the chat was owed older pushes, waiting out a failure,
//!   or its send failed); removed once Telegram accepted it.
//! - **settings**: what a target chose beyond its subscription: keyword
//!   filters, quiet hours, a daily digest, and (per chat) its language.
//! - **held** push: a journal entry waiting for its time (the end of quiet
//!   hours, or the digest); a **digest** is one message bringing a target
//!   several releases that came due together.
//!
//! Module map:
//! - [`config`] — the TOML file and environment, validated with errors that name the key.
//! - [`source`] — fetch a page (conditional GET, size cap, charset) and extract items (HTML or feed) and contacts (pure).
//! - [`store`] — the only module that knows sled: items, subscriptions, outbox,
//!   journal, source state, retention and the seen-set, recent searches (for
//!   buttons), export and import, and beside them the fan-out log and the
//!   high-water mark; one file per concern.
//! - [`poller`] — reads each source on its interval and records what it finds, under
//!   the flood guard; backs off on failures and decides what operators hear.
//! - [`alerts`] — rare operator messages to the operators' private chats, sent in the background.
//! - [`delivery`] — the fan-out walk and the journal sweep, oldest first per chat;
//!   owns the crash window (what a `kill -9` may repeat).
//! - [`messenger`] — what delivery needs of Telegram: send one message, learn how it failed;
//!   and what replies need besides: buttons, edits in place, answers to presses.
//! - [`sender`] — pushes and replies as plain Bot API calls, and Telegram's answers classified.
//! - [`limiter`] — Telegram's flood limits (global, per chat, per group) and retry backoff.
//! - [`commands`] — each command a type, parsed once (`commands::parse`) and carried out
//!   by its own file into reply text; usages and refusals are named and said in the chat's
//!   language (`commands::reply`); the settings commands share one path
//!   (`commands::settings_command`); `commands::access` decides who may change a chat's
//!   subscription; `commands::paging` reads a button's data, `commands::buttons` serves a press.
//! - [`conversations`] — per-chat command (and button press) queues, bounded, answered in the limiter's reply slots.
//! - [`lookup`] — `getChatMember` and `getChat`: who administers a chat, which chat a @name is.
//! - [`ttl`] — the expiring, size-capped map behind every per-chat and per-user table.
//! - [`i18n`] — every word said to people, per language, from the translation files in `locales/`.
//! - [`render`] — HTML escaping, shortening and Telegram's length limit.
//! - [`redact`] — source URLs shown without credentials or secret query values.
//! - [`clock`], [`counters`] — the site's header clocks and day counters, pure in `now`;
//!   the bot's own wall clock ([`clock::Clock`]), which tests can start at any instant.
//! - [`settings`] — what a chat or topic chose: keyword filters, quiet hours, a daily
//!   digest, its language; quiet hours and digests as pure functions of `now`.
//! - [`matching`] — words and phrases in release text, for `/search` and keyword filters
//!   alike: case-insensitive, Unicode-aware, on word boundaries, by prefix (pure).
//! - [`telegram`] — the teloxide edge: the client, the command menu, the update handlers
//!   (messages, channel posts, button presses, the bot's own membership).
//! - [`shutdown`] — how every long-running part hears that it should stop.
//! - [`storage`] — a failed database: one alert, a stop, a non-zero exit for the supervisor.
//! - [`log_limit`] — error lines that could repeat many times a second, at most one a second.
//! - [`app`] — wires it all together and handles shutdown; [`preview`] runs one read offline.
//! - [`check_source`] — one read of a source for the operator: items, charset, HTTP, warnings.
//! - [`backfill`] — reads a source's archive pages and records the history silently.
//! - [`cli`] — the command line (`run`, `preview`, `check-source`, `check-config`, `healthcheck`, `backfill`) and logging set-up.
//! - [`http`] — the embedded HTTP server (off by default): health, metrics, feeds, the webhook route.
//! - [`health`] — whether the bot is well and ready, for `/healthz`, `/readyz` and `healthcheck`.
//! - [`metrics`] — every Prometheus metric, declared in one place; parts bump them as they work.
//! - [`feed`] — the stored releases as Atom and JSON Feed (pure).
//! - [`webhook`] — webhook mode, a Telegram edge: the secret, `setWebhook`, the update listener.

#![warn(unreachable_pub)]

mod alerts;
mod app;
mod cli;
mod commands;
mod config;
mod delivery;
mod http;
mod metrics;
mod poller;
mod render;
mod runtime;
mod settings;
mod source;
mod store;
mod telegram;
mod text;
mod updates;

// The program: the command line runs everything else.
pub use cli::Cli;

// What the bot is told, and the plain values it is made of.
pub use config::{
    Config, ConfigError, Language, RateLimits, Retention, SourceConfig, SourceKind, WhoCanSubscribe,
};

// Reading a site: one read, what it yields, and how a source is doing.
pub use poller::{Health, HealthChange, poll_once};
pub use source::{Contacts, ExtractError, Item, MAX_URL_LEN, Page, extract};

// The store and what it answers.
pub use store::{
    JournalEntry, MAX_CHANNELS_PER_USER, MAX_SAVED_QUERIES, MAX_TOPICS, PollOutcome, PollPolicy,
    ReleasePage, Removal, Retained, SearchIndex, Store, StoreError, Target, TransferError,
};

// What a chat chose.
pub use settings::{Filter, QuietHours, parse_time, parse_zone};

// Delivery, and the Telegram it needs.
pub use delivery::{Delivery, FanOut, FanOutPage, FanOutStep};
pub use runtime::shutdown::{Shutdown, ShutdownTrigger};
pub use telegram::limiter::Limiter;
pub use telegram::messenger::{Format, Messenger, SendError};
pub use text::clock::Clock;

/// Pure parts that the integration tests, benchmarks and fuzz targets check
/// from outside, under the paths they have inside the crate. Not an API: it
/// changes whenever the code does.
#[doc(hidden)]
pub mod testing {
    /// The site-reading steps below [`crate::extract`].
    pub mod source {
        pub use crate::source::{charset, date, extract, fetch, guard};
    }
    /// Words: markup, matching, clocks and counters.
    pub mod text {
        pub use crate::text::{clock, counters, markup, matching};
    }
    /// Replies as pure functions of the store and `now`.
    pub mod commands {
        pub use crate::commands::{counters, help, latest, search, time};
    }
    /// Releases as messages.
    pub mod render {
        pub use crate::render::{SourceLabels, push_message};
    }
    /// `check-source`'s report, piece by piece.
    pub mod check_source {
        pub use crate::cli::check_source::{OneRead, describe, read_target, warnings};
    }
}
