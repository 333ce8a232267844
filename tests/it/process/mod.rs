//! Tests that run the real binary: the bot started with
//! [`crate::support::TestBot`] against the fake Bot API and the fake site, or a
//! command (`cli`, `export`, `backfill`) run to its end.

mod backfill;
mod buttons;
mod chats;
mod cli;
mod crash;
mod disk;
mod docker;
mod e2e;
mod edits;
mod export;
mod fulltext;
mod language;
mod reading;
mod repair;
mod retention;
mod search;
mod secrets;
mod service;
mod settings;
mod site_rules;
mod sources;
