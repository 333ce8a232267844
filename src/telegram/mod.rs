//! The Bot API as we call it: what delivery and replies need of Telegram
//! ([`messenger`]), its implementation over plain HTTP ([`client`]), who
//! administers a chat and which chat a `@name` is ([`lookup`]), and
//! Telegram's flood limits kept on our side ([`limiter`]).
//!
//! Outbound only: updates come in through [`crate::updates`], which sits
//! above the commands they feed.

pub(crate) mod client;
pub(crate) mod limiter;
pub(crate) mod lookup;
pub(crate) mod messenger;
