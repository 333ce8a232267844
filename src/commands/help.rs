//! `/start` and `/help`: what the bot does and how to use it.

use crate::config::{Config, WhoCanSubscribe};
use crate::render::escape;

/// The introduction, naming the watched site(s) and every command.
pub fn reply(config: &Config) -> String {
    let sites: Vec<String> = config
        .sources
        .iter()
        .map(|s| escape(s.url.host_str().unwrap_or(s.url.as_str())))
        .collect();
    let mut text = format!(
        "I watch <b>{}</b> and can send you every new release the moment it appears.\n",
        sites.join(", ")
    );
    for (name, description) in super::menu(config) {
        text.push_str(&format!("\n/{name} — {}", escape(&description)));
    }
    text.push_str(
        "\n\nIn a group, an administrator sends /subscribe there (in a forum, inside the topic that should get the releases). For a channel you administer, add me there as an administrator allowed to post, then send /subscribe @channel here. /filter, /quiet, /digest and /language work the same way: in the chat or topic they are for, or here with the channel first (/quiet @channel 23:00-07:00).",
    );
    if config.sources.len() > 1 {
        text.push_str(&format!(
            "\n\nSources: {}. /subscribe &lt;name&gt; gets one of them only.",
            super::subscribe::source_names(config)
        ));
    }
    text
}

/// The one message a group gets when the bot is added: how to subscribe it.
pub fn welcome(config: &Config, who: WhoCanSubscribe) -> String {
    let sites: Vec<String> = config
        .sources
        .iter()
        .map(|s| escape(s.url.host_str().unwrap_or(s.url.as_str())))
        .collect();
    let who = match who {
        WhoCanSubscribe::Admins => "An administrator of this group",
        WhoCanSubscribe::Anyone => "Anyone here",
    };
    format!(
        "Hello! I post every new release of <b>{}</b> in the chats that subscribe. {who} can send /subscribe to get them here (in a forum, inside the topic that should get them). /help lists my commands.",
        sites.join(", ")
    )
}
