//! Extraction on the fixture pages rebuilt from the seed, and rendering of what it finds.

use chrono::NaiveDate;
use embassy_bot::config::Config;
use embassy_bot::render::{push_message, to_plain};
use embassy_bot::source::extract::extract_page;
use url::Url;

use crate::support::fixture_text;

const NEW_TITLE: &str =
    "Embassy comment on the “Salisbury incident” questions & the British authorities’ <silence>";

fn extract(name: &str) -> embassy_bot::source::Page {
    extract_at(name, &Config::default().sources[0].url)
}

/// Extracts a fixture as if it had been read from `base`.
fn extract_at(name: &str, base: &Url) -> embassy_bot::source::Page {
    let config = Config::default();
    extract_page(&fixture_text(name), base, &config.sources[0].link_patterns)
}

#[test]
fn home_page_of_21_may() {
    let page = extract("rusemb/home-2022-05-21.html");
    assert_eq!(page.items.len(), 11, "{:#?}", page.items);

    let featured = &page.items[0];
    assert_eq!(featured.id, "rusemb.org.uk/fnapr/7098");
    assert_eq!(featured.url, "https://www.rusemb.org.uk/fnapr/7098");
    assert_eq!(featured.date, NaiveDate::from_ymd_opt(2022, 1, 28));
    assert_eq!(
        featured.title,
        "Foreign Minister Sergey Lavrov’s answer to a media question, Moscow, January 27, 2022"
    );
    assert!(
        featured
            .lead
            .starts_with("Question: You have received the Americans’ response"),
        "{}",
        featured.lead
    );

    let first_news = &page.items[1];
    assert_eq!(first_news.id, "rusemb.org.uk/fnapr/7153");
    assert_eq!(first_news.date, NaiveDate::from_ymd_opt(2022, 5, 20));
    assert_eq!(
        first_news.title,
        "Embassy comment on recent accusations against Russia of creating a threat of a global food crisis"
    );
    assert!(
        first_news
            .lead
            .starts_with("Recent accusations against Russia"),
        "{}",
        first_news.lead
    );

    let quoted = page
        .items
        .iter()
        .find(|i| i.id.ends_with("/7151"))
        .expect("7151");
    assert_eq!(
        quoted.title,
        "Foreign Ministry Spokeswoman Maria Zakharova’s comment on \"Russian threat to food security\""
    );

    let last = page.items.last().expect("items");
    assert_eq!(last.id, "rusemb.org.uk/fnapr/7134");
    assert_eq!(last.date, NaiveDate::from_ymd_opt(2022, 4, 16));
    // The mid.ru link and the "all messages" archive link are not releases.
    assert!(
        page.items
            .iter()
            .all(|i| i.id.starts_with("rusemb.org.uk/fnapr/"))
    );
    // Every dated title lost its "DD.MM.YYYY - " prefix.
    assert!(
        page.items
            .iter()
            .all(|i| i.date.is_some() && !i.title.starts_with(|c: char| c.is_ascii_digit()))
    );

    assert_eq!(page.contacts.phone.as_deref(), Some("+44 (0) 203 161 8868"));
    // Hidden by Cloudflare in the page; decoded from data-cfemail.
    assert_eq!(page.contacts.email.as_deref(), Some("info@rusemb.org.uk"));
}

#[test]
fn home_page_of_23_may_has_the_new_item_intact() {
    let page = extract("rusemb/home-2022-05-23.html");
    assert_eq!(page.items.len(), 11);
    let new = &page.items[1];
    assert_eq!(new.id, "rusemb.org.uk/fnapr/7160");
    assert_eq!(new.date, NaiveDate::from_ymd_opt(2022, 5, 23));
    assert_eq!(new.title, NEW_TITLE);
    assert_eq!(
        new.lead,
        "The Embassy notes that no credible information has been provided by the British side. Questions remain unanswered."
    );
    assert!(
        !page.items.iter().any(|i| i.id.ends_with("/7134")),
        "7134 fell off the page"
    );

    let html = push_message(new);
    assert!(
        html.contains("Embassy comment on the “Salisbury incident” questions &amp; the British authorities’ &lt;silence&gt;"),
        "{html}"
    );
    assert!(!html.contains("<silence>"));
    assert!(to_plain(&html).contains(NEW_TITLE), "{}", to_plain(&html));
    assert!(
        html.contains("<a href=\"https://www.rusemb.org.uk/fnapr/7160\">"),
        "{html}"
    );
}

#[test]
fn relative_links_resolve_against_the_page_url() {
    let base = Url::parse("http://127.0.0.1:8080/").unwrap();
    let page = extract_at("rusemb/home-2022-05-21.html", &base);
    assert_eq!(page.items.len(), 11);
    assert_eq!(page.items[1].url, "http://127.0.0.1:8080/fnapr/7153");
    assert_eq!(page.items[1].id, "127.0.0.1/fnapr/7153");
}
