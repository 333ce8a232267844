//! `/start` and `/help`: what the bot does and how to use it.

use crate::config::Config;
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
    if config.sources.len() > 1 {
        text.push_str(&format!(
            "\n\nSources: {}. /subscribe &lt;name&gt; gets one of them only.",
            super::subscribe::source_names(config)
        ));
    }
    text
}
