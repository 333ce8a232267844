//! Watching the sites: each source read on its interval ([`poller`]), read
//! through a fallback when a redesign broke its configured extraction
//! ([`repair`]), and each new release's own page read once for its full text
//! ([`reader`]). What they find goes to the store; nothing here sends.

pub(crate) mod poller;
pub(crate) mod reader;
pub(crate) mod repair;
