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
    for (name, description) in menu(config, lang) {
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

/// The menu registered with setMyCommands, and listed by `/help`:
/// (command, description) in `lang`. The clocks are named as configured.
pub(crate) fn menu(config: &Config, lang: Language) -> Vec<(&'static str, String)> {
    let time = &config.time;
    // The date's zone by the label of a clock in it, else by its own name.
    let date_label = time
        .clocks
        .iter()
        .find(|c| c.zone == time.date_zone)
        .map_or_else(
            || time.date_zone.name().to_string(),
            |c| c.label.get(lang).to_string(),
        );
    let clock_labels: Vec<String> = time
        .clocks
        .iter()
        .map(|c| c.label.get(lang).to_string())
        .collect();
    let time = match clock_labels.is_empty() {
        true => tr!(lang, "menu-time-no-clocks", date = date_label),
        false => tr!(
            lang,
            "menu-time",
            date = date_label,
            clocks = crate::text::i18n::and_list(lang, &clock_labels)
        ),
    };
    vec![
        ("latest", tr!(lang, "menu-latest")),
        ("search", tr!(lang, "menu-search")),
        ("subscribe", tr!(lang, "menu-subscribe")),
        ("unsubscribe", tr!(lang, "menu-unsubscribe")),
        ("sources", tr!(lang, "menu-sources")),
        ("subscriptions", tr!(lang, "menu-subscriptions")),
        ("filter", tr!(lang, "menu-filter")),
        ("quiet", tr!(lang, "menu-quiet")),
        ("digest", tr!(lang, "menu-digest")),
        ("language", tr!(lang, "menu-language")),
        ("contact", tr!(lang, "menu-contact")),
        ("time", time),
        ("counters", tr!(lang, "menu-counters")),
        ("help", tr!(lang, "menu-help")),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_menu_names_the_configured_clocks() {
        let default = menu(&Config::default(), Language::En);
        let time = |menu: &[(&str, String)]| {
            menu.iter()
                .find(|(name, _)| *name == "time")
                .map(|(_, d)| d.clone())
        };
        assert_eq!(
            time(&default).as_deref(),
            Some("Moscow date, Moscow and London time")
        );
        let mut config = Config::default();
        config.time.date_zone = chrono_tz::Asia::Tokyo;
        config.time.clocks.truncate(1);
        assert_eq!(
            time(&menu(&config, Language::En)).as_deref(),
            Some("Asia/Tokyo date, Moscow time")
        );
        assert_eq!(
            time(&menu(&Config::default(), Language::Ru)).as_deref(),
            Some("Дата (Москва) и время (Москва и Лондон)")
        );
        assert!(
            default.iter().all(|(_, d)| !d.contains("Salisbury")),
            "nothing site-specific is hard-coded"
        );
    }
}
