//! What a reader sees first and most: `/start` naming the site once with its
//! sources under it, and pushes laid out like news (title as the link, date and
//! source, lead) with link previews as configured.

use chrono::NaiveDate;
use embassy_bot::Config;
use embassy_bot::Item;
use embassy_bot::Language;
use embassy_bot::testing::commands::help;
use embassy_bot::testing::render::{SourceLabels, push_message};
use embassy_bot::testing::text::markup::to_plain;

use crate::support::{TestBot, release_page};

#[test]
fn start_names_the_embassy_once_with_its_sources_under_it() {
    let text = help::reply(&Config::default(), Language::En);
    assert!(
        text.starts_with(
            "I watch <b>the Embassy of the Russian Federation in the UK</b> and can send you"
        ),
        "{text}"
    );
    assert!(
        !text.contains("rusemb.org.uk"),
        "no host, once or thrice: {text}"
    );
    assert!(
        text.contains("Sources:\n• Home page (home)\n• Press releases (press)\n• Embassy informs (informs)\n/subscribe &lt;name&gt; gets one of them only."),
        "{text}"
    );
    for command in [
        "/latest",
        "/search",
        "/subscribe",
        "/sources",
        "/time",
        "/help",
    ] {
        assert!(text.contains(command), "{command}: {text}");
    }
}

#[test]
fn site_name_and_labels_are_configurable() {
    // Sources of one's own: the site is named by their hosts, each once.
    let own = Config::from_toml(
        "[[sources]]\nurl = \"https://example.org/news\"\n\
         [[sources]]\nname = \"blog\"\nurl = \"https://example.org/blog\"\nlabel = \"The blog\"\n\
         [[sources]]\nurl = \"https://other.example/feed\"\n",
    )
    .unwrap();
    assert_eq!(own.site_name, "example.org, other.example");
    let text = help::reply(&own, Language::En);
    assert!(
        text.starts_with("I watch <b>example.org, other.example</b>"),
        "{text}"
    );
    assert!(
        text.contains("• example-org (example-org)\n• The blog (blog)"),
        "{text}"
    );

    let named = Config::from_toml(
        "site_name = \"  Our <Consulate> & Co \"\n[[sources]]\nname = \"news\"\nurl = \"https://example.org/\"\n",
    )
    .unwrap();
    let text = help::reply(&named, Language::En);
    assert!(
        text.starts_with("I watch <b>Our &lt;Consulate&gt; &amp; Co</b>"),
        "{text}"
    );
    assert!(!text.contains("one of them only"), "one source: {text}");

    for (toml, key) in [
        ("site_name = \"\"\n", "site_name"),
        ("site_name = \"two\\nlines\"\n", "site_name"),
        (
            "[[sources]]\nurl = \"https://example.org/\"\nlabel = \"  \"\n",
            "sources[0].label",
        ),
        (
            &format!(
                "[[sources]]\nurl = \"https://example.org/\"\nlabel = \"{}\"\n",
                "x".repeat(101)
            ),
            "sources[0].label",
        ),
        ("[telegram.link_preview]\ndigests = true\n", "digests"),
    ] {
        let err = Config::from_toml(toml).expect_err(toml).to_string();
        assert!(err.contains(key), "{toml}: {err}");
    }
    assert!(Config::default().telegram.link_preview.push);
    let off = Config::from_toml("[telegram.link_preview]\npush = false\n").unwrap();
    assert!(!off.telegram.link_preview.push);
}

fn item(title: &str, lead: &str) -> Item {
    Item {
        id: "rusemb.org.uk/fnapr/7160".into(),
        url: "https://www.rusemb.org.uk/fnapr/7160?a=1&b=2".into(),
        title: title.into(),
        date: NaiveDate::from_ymd_opt(2022, 5, 23),
        lead: lead.into(),
    }
}

#[test]
fn a_push_reads_like_news() {
    let html = push_message(
        &item("Comment on <silence> & more", "The Embassy notes."),
        "Press releases",
    );
    assert_eq!(
        html,
        "🆕 <a href=\"https://www.rusemb.org.uk/fnapr/7160?a=1&amp;b=2\"><b>Comment on &lt;silence&gt; &amp; more</b></a>\n\
         <i>23.05.2022</i> · Press releases\n\nThe Embassy notes."
    );
    // The plain-text fallback (Telegram refusing the HTML) keeps every part.
    assert_eq!(
        to_plain(&html),
        "🆕 Comment on <silence> & more (https://www.rusemb.org.uk/fnapr/7160?a=1&b=2)\n\
         23.05.2022 · Press releases\n\nThe Embassy notes."
    );
    // No date, no lead, no title: what is there, and the link still has text.
    let mut bare = item("", "");
    bare.date = None;
    let html = push_message(&bare, "");
    assert_eq!(
        html,
        "🆕 <a href=\"https://www.rusemb.org.uk/fnapr/7160?a=1&amp;b=2\"><b>https://www.rusemb.org.uk/fnapr/7160?a=1&amp;b=2</b></a>"
    );
}

#[test]
fn a_push_names_every_source_that_listed_it_once() {
    let config = Config::default();
    let labels = SourceLabels::from_config(&config);
    assert_eq!(
        labels.describe(["home", "press", "home"]),
        "Home page, Press releases"
    );
    assert_eq!(
        labels.describe(["gone"]),
        "gone",
        "a source no longer configured"
    );
    assert_eq!(SourceLabels::default().describe(["press"]), "press");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_show_a_preview_unless_configured_off_and_replies_never() {
    let day = |d| NaiveDate::from_ymd_opt(2022, 5, d).unwrap();
    let mut releases = vec![(7001, day(20), "First release")];
    let alice = 1001;
    // The site named, the source labelled.
    let mut bot = TestBot::new()
        .page(release_page(&releases))
        .source_keys("label = \"Press releases\"")
        .edit_config(|text| format!("site_name = \"the Test Embassy\"\n{text}"))
        .spawn()
        .await;
    let (telegram, site) = (bot.telegram.clone(), bot.site.clone());
    let start = telegram.ask(alice, "/start").await;
    assert!(
        start.text.starts_with("I watch <b>the Test Embassy</b>"),
        "{}",
        start.text
    );
    assert!(
        start.text.contains("• Press releases (fake)"),
        "{}",
        start.text
    );
    assert_eq!(
        start.preview_disabled,
        Some(true),
        "replies list links: no card"
    );
    bot.ask_until(alice, "/latest 1", |r| r.contains("First release"))
        .await;
    assert!(
        telegram
            .ask(alice, "/subscribe")
            .await
            .text
            .starts_with("Subscribed")
    );
    releases.insert(0, (7002, day(21), "Second release"));
    site.set_page(release_page(&releases));
    bot.eventually("the second release is pushed", || {
        !telegram.pushes_to(alice).is_empty()
    })
    .await;
    let push = telegram
        .sent_to(alice)
        .into_iter()
        .find(|m| m.text.starts_with("🆕"))
        .expect("a push");
    assert_eq!(
        push.preview_disabled,
        Some(false),
        "a push shows its page's card"
    );
    assert!(
        push.text.starts_with(&format!(
            "🆕 <a href=\"{}fnapr/7002\"><b>Second release</b></a>\n<i>21.05.2022</i> · Press releases\n\nA lead", site.url
        )),
        "{}",
        push.text
    );
    bot.stop_cleanly().await;

    // Off in the file: pushes go without a card.
    let text = std::fs::read_to_string(&bot.config).unwrap();
    std::fs::write(
        &bot.config,
        format!("{text}\n[telegram.link_preview]\npush = false\n"),
    )
    .unwrap();
    let polls = telegram.calls("getUpdates");
    bot.respawn("bot2.log").await;
    bot.until("the bot polling again", |t| t.calls("getUpdates") > polls)
        .await;
    releases.insert(0, (7003, day(22), "Third release"));
    site.set_page(release_page(&releases));
    bot.eventually("the third release is pushed", || {
        telegram.pushes_to(alice).len() >= 2
    })
    .await;
    let third = telegram
        .sent_to(alice)
        .into_iter()
        .rfind(|m| m.text.starts_with("🆕"))
        .unwrap();
    assert!(third.text.contains("Third release"), "{}", third.text);
    assert_eq!(third.preview_disabled, Some(true));
    bot.stop_cleanly().await;
}
