//! What every long-running part uses, whatever it does: the stop signal
//! ([`shutdown`]), one retry backoff ([`backoff`]), error lines limited to one
//! a second ([`log_limit`]), and the expiring, size-capped map behind every
//! per-chat and per-user table ([`ttl`]). Imports nothing of ours.

pub(crate) mod backoff;
pub(crate) mod log_limit;
pub(crate) mod shutdown;
pub(crate) mod ttl;
