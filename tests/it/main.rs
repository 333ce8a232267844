//! Integration tests: one binary, modules by how they run the bot. Nothing here
//! reaches the internet: Telegram and the site are fakes on loopback owned by
//! the tests (`support/`).
//!
//! - `library/`: the library called in-process (store, delivery, extraction,
//!   fetching), often in paused time; no bot process.
//! - `process/`: the real binary, started with [`support::TestBot`] against
//!   the fakes, or run as a command.
//! - `docs`: the drift tests that keep the docs true.
//!
//! `cargo test --test it <name>` runs a module (`chats`), a folder
//! (`process::`) or a test. How to write one: docs/testing.md.

mod docs;
mod library;
mod process;
mod support;
