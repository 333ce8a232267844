//! `/start` and `/help`: what the bot does and how to use it.

use crate::config::{Config, WhoCanSubscribe};
use crate::render::escape;

/// The reply's words, in one place (they move to translation files with i18n).
mod text {
    /// The first line: the site, named once.
    pub fn intro(site: &str) -> String {
        format!("I watch <b>{site}</b> and can send you every new release the moment it appears.")
    }

    pub const SOURCES: &str = "Sources:";

    /// One source in the list: its label, and the name `/subscribe` takes.
    pub fn source(label: &str, name: &str) -> String {
        format!("• {label} ({name})")
    }

    pub const PICK_ONE: &str = "/subscribe &lt;name&gt; gets one of them only.";

    pub const GROUPS_AND_CHANNELS: &str = "In a group, an administrator sends /subscribe there (in a forum, inside the topic that should get the releases). For a channel you administer, add me there as an administrator allowed to post, then send /subscribe @channel here. /filter, /quiet, /digest and /language work the same way: in the chat or topic they are for, or here with the channel first (/quiet @channel 23:00-07:00).";

    /// The one message a group gets when the bot is added.
    pub fn welcome(site: &str, who: &str) -> String {
        format!(
            "Hello! I post every new release of <b>{site}</b> in the chats that subscribe. {who} can send /subscribe to get them here (in a forum, inside the topic that should get them). /help lists my commands."
        )
    }

    pub fn command(name: &str, description: &str) -> String {
        format!("/{name} — {description}")
    }
}

/// The introduction: the watched site named once, its sources as a short list
/// under it, then every command.
pub fn reply(config: &Config) -> String {
    let mut text = text::intro(&escape(&config.site_name));
    text.push_str("\n\n");
    text.push_str(text::SOURCES);
    for source in &config.sources {
        text.push('\n');
        text.push_str(&text::source(&escape(&source.label), &escape(&source.name)));
    }
    if config.sources.len() > 1 {
        text.push('\n');
        text.push_str(text::PICK_ONE);
    }
    text.push_str("\n\n");
    text.push_str(text::GROUPS_AND_CHANNELS);
    text.push('\n');
    for (name, description) in super::menu(config) {
        text.push('\n');
        text.push_str(&text::command(name, &escape(&description)));
    }
    text
}

/// The one message a group gets when the bot is added: how to subscribe it.
pub fn welcome(config: &Config, who: WhoCanSubscribe) -> String {
    let who = match who {
        WhoCanSubscribe::Admins => "An administrator of this group",
        WhoCanSubscribe::Anyone => "Anyone here",
    };
    text::welcome(&escape(&config.site_name), who)
}
