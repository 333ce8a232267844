//! Tests that call the library in-process: no bot process, the fakes only
//! where a module reads a site. Time is paused wherever a test is about timing.

mod clocks;
mod delivery;
mod edits;
mod extraction;
mod fanout;
mod fetch;
mod flood;
mod realworld;
mod saved_queries;
mod settings;
mod store;
