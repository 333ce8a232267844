//! embassy-bot: a Telegram bot that watches a news site (by default the Embassy
//! of the Russian Federation in the UK) and pushes each new release to subscribers.
//!
//! Data flows one way: `source` → `store` → `delivery` → Telegram. Commands
//! read the store, and write only a chat's own subscription and settings.
//!
//! Glossary — one word per thing, in code, comments and README alike:
//! - **release**: one piece of news the site publishes. An *item*
//!   ([`Item`]) is a release as one read of a page shows it, keyed by
//!   its canonical URL; a *stored item* (`store::StoredItem`) is a release
//!   as the store keeps it.
//! - **subscription**: what a chat asked to get: every source, or some; a
//!   forum topic may have one of its own. A chat or topic that gets pushes is
//!   a *target* ([`Target`]).
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
//! Module map, in layers: a module imports only from the layers below it
//! (and its own folder), so data flows up this list and nothing runs back.
//!
//! 1. Plain values and plumbing, importing nothing of ours:
//!    - `config` — the TOML file and environment, validated with errors
//!      that name the key; the plain values others borrow ([`Language`],
//!      [`Retention`], [`RateLimits`]) and URLs shown without their secrets.
//!    - `runtime` — what every long-running part uses: the stop signal,
//!      one retry backoff, error lines at most once a second, and the
//!      expiring, size-capped map behind every per-chat and per-user table.
//! 2. Words and counts:
//!    - `text` — Telegram's HTML and its length limit, every word said to
//!      people per language (`locales/`), matching words for `/search` and
//!      filters, the site's clocks and day counters (pure in `now`).
//!    - `metrics` — every Prometheus metric, declared in one place; parts
//!      bump them as they work.
//! 3. Reading and choosing:
//!    - `source` — fetch a page (conditional GET, size cap, charset) and
//!      extract releases (HTML or feed) and contacts (pure).
//!    - `settings` — what a target chose: keyword filters, quiet hours, a
//!      daily digest, its language; quiet hours and digests pure in `now`.
//!    - `render` — releases as Telegram messages: a push, a list, a digest.
//! 4. `store` — the only module that knows sled: releases, subscriptions,
//!    outbox, journal, source state, retention and the seen-set, saved
//!    searches, export and import; one file per concern.
//! 5. `telegram` — the Bot API as we call it (outbound only): sending and
//!    classifying Telegram's answers, who administers a chat, and Telegram's
//!    flood limits kept on our side.
//! 6. Working:
//!    - `alerts` — rare operator messages, sent in the background.
//!    - `poller` — reads each source on its interval and records what it
//!      finds, under the flood guard; backs off on failures and decides what
//!      operators hear.
//!    - `delivery` — the fan-out walk and the journal sweep, oldest first
//!      per chat; owns the crash window (what a `kill -9` may repeat).
//! 7. `commands` — one file per bot command: each parses its request and
//!    answers from the store; who may change a chat's subscription; buttons.
//! 8. The edges:
//!    - `updates` — updates in from Telegram (teloxide): the handlers, the
//!      webhook listener, and the per-chat queues that answer commands in
//!      the limiter's reply slots.
//!    - `http` — the embedded HTTP server (off by default): health,
//!      metrics, the Atom and JSON feeds, the webhook route.
//! 9. `app` — wires it all together and stops it in order; `cli` — the
//!    command line (`run`, `preview`, `check-source`, `check-config`,
//!    `healthcheck`, `backfill`, `export`, `import`) and logging.
//!
//! The library's API is the short list re-exported below; [`testing`] opens
//! the pure parts that tests, benchmarks and fuzz targets check from outside.

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
