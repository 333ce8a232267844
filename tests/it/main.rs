//! Integration tests: one binary, modules by topic. Nothing here reaches the
//! internet: Telegram and the site are fakes on loopback owned by the tests.

mod chats;
mod cli;
mod clocks;
mod crash;
mod delivery;
mod docker;
mod e2e;
mod extraction;
mod fanout;
mod fetch;
mod flood;
mod realworld;
mod secrets;
mod service;
mod settings;
mod site_rules;
mod sources;
mod store;
mod support;
