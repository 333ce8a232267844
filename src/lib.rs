//! embassy-bot: a Telegram bot that watches a news site (by default the Embassy
//! of the Russian Federation in the UK) and pushes each new release to subscribers.
//!
//! Data flows one way: `source` → `store` → `delivery` → Telegram. Commands
//! read the store, and write only a chat's own subscription and settings.
//!
//! The module map in layers (a module imports only from its own layer and
//! those below, never round a circle), the file list, the crash rules and the
//! glossary are in `docs/architecture.md`, said once there; `tests/it/docs.rs`
//! checks the map and every `crate::` import against it.
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
mod render;
mod runtime;
mod settings;
mod source;
mod store;
mod telegram;
mod text;
mod updates;
mod watch;

// The program: the command line runs everything else.
pub use cli::{Cli, error_text};

// What the bot is told, and the plain values it is made of.
pub use config::{
    Config, ConfigError, EditsConfig, Language, RateLimits, Retention, SourceConfig, SourceKind,
    StoreConfig, WhoCanSubscribe,
};

// Reading a site: one read, what it yields, and how a source is doing.
pub use source::{
    Contacts, EntryNote, ExtractError, Item, MAX_URL_LEN, Noticed, Page, extract, extract_at,
};
pub use watch::poller::{Health, HealthChange, poll_once};

// The store and what it answers.
pub use store::{
    JournalEntry, MAX_CHANNELS_PER_USER, MAX_SAVED_QUERIES, MAX_SAVED_QUERIES_PER_CHAT, MAX_TOPICS,
    PollOutcome, PollPolicy, ReleasePage, Removal, Retained, Revision, SearchIndex, Store,
    StoreError, Target, TransferError,
};

// What a chat chose.
pub use settings::{Filter, QuietHours, parse_time, parse_zone};

// Delivery, and the Telegram it needs.
pub use delivery::{Delivery, FanOut, FanOutPage, FanOutStep};
pub use runtime::shutdown::{Shutdown, ShutdownTrigger};
pub use telegram::limiter::Limiter;
pub use telegram::messenger::{Button, Edited, Format, Keyboard, Messenger, SendError};
pub use text::clock::Clock;

/// Pure parts that the integration tests, benchmarks and fuzz targets check
/// from outside, under the paths they have inside the crate. Not an API: it
/// changes whenever the code does.
#[doc(hidden)]
pub mod testing {
    /// The site-reading steps below [`crate::extract`].
    pub mod source {
        pub use crate::source::{body, charset, date, extract, fetch, guard};
    }
    /// The fallbacks a redesigned page is read through, and recognising
    /// releases at new addresses.
    pub mod fallback {
        pub use crate::source::fallback::Known;
        pub use crate::source::fallback::blocks::block_items;
        pub use crate::source::fallback::jsonld::jsonld_items;
        pub use crate::source::fallback::recognise::rekey_moved;
        pub use crate::source::within_anchor_budget;
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
