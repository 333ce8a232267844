//! `/start` and `/help`: what the bot does and how to use it.

use crate::config::Language;
use crate::config::{Config, WhoCanSubscribe};
use crate::text::markup::escape;
use crate::tr;

/// The introduction in `lang`: the watched site named once, its sources as
/// a short list under it, then every command.
pub fn reply(config: &Config, lang: Language) -> String {
    let mut text = tr!(lang, "help-intro", site = escape(&config.site_name));
    text.push_str("\n\n");
    text.push_str(&tr!(lang, "help-sources"));
    for source in &config.sources {
        text.push('\n');
        text.push_str(&tr!(
            lang,
            "help-source",
            label = escape(&source.label),
            name = escape(&source.name)
        ));
    }
    if config.sources.len() > 1 {
        text.push('\n');
        text.push_str(&tr!(lang, "help-pick-one"));
    }
    text.push_str("\n\n");
    text.push_str(&tr!(lang, "help-groups-and-channels"));
    text.push('\n');
    for (name, description) in super::menu(config, lang) {
        text.push('\n');
        text.push_str(&tr!(
            lang,
            "help-command",
            name = name,
            description = escape(&description)
        ));
    }
    text
}

/// The one message a group gets when the bot is added: how to subscribe it.
pub fn welcome(config: &Config, who: WhoCanSubscribe, lang: Language) -> String {
    let who = match who {
        WhoCanSubscribe::Admins => "admins",
        WhoCanSubscribe::Anyone => "anyone",
    };
    tr!(lang, "welcome", site = escape(&config.site_name), who = who)
}
