//! Words: Telegram's HTML and its length limit ([`markup`]), every word said
//! to people per language ([`i18n`]), matching words in release text
//! ([`matching`]), and the site's header clocks and day counters ([`clock`],
//! [`counters`]). Pure functions of their inputs (and `now`); below
//! everything that writes a message, above only [`crate::config`].

pub mod clock;
pub mod counters;
pub(crate) mod i18n;
pub mod markup;
pub mod matching;
