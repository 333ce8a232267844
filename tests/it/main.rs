//! Integration tests: one binary, modules by topic. Nothing here reaches the
//! internet: Telegram and the site are fakes on loopback owned by the tests.

mod backfill;
mod buttons;
mod chats;
mod cli;
mod clocks;
mod crash;
mod delivery;
mod disk;
mod docker;
mod docs;
mod e2e;
mod edits;
mod export;
mod extraction;
mod fanout;
mod fetch;
mod flood;
mod fulltext;
mod language;
mod reading;
mod realworld;
mod repair;
mod retention;
mod search;
mod secrets;
mod service;
mod settings;
mod site_rules;
mod sources;
mod store;
mod support;
