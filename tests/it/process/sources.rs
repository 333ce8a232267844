//! Several sources end to end, over loopback: subscriptions per source,
//! `/sources`, the flood guard, old releases, an emptied page, and a failing
//! source that alerts operators once, recovers, and never holds up the others.

use std::time::Duration;

use chrono::{NaiveDate, Utc};

use crate::support::site::FakeSite;
use crate::support::telegram::{FakeTelegram, MAX_MESSAGE_UTF16, Place, shown_len};
use crate::support::{ADMIN, Bot, TestBot, admin_told, days_ago, release_page, source_toml};

const WAIT: Duration = Duration::from_secs(20);

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// Starts the bot on two fake sites `alpha` and `beta` (with extra keys each)
/// and waits until both have been read once.
async fn start_two(
    alpha_page: String,
    beta_page: String,
    alpha_extra: &str,
) -> (FakeTelegram, FakeSite, FakeSite, Bot) {
    let alpha = FakeSite::start(alpha_page).await;
    let beta = FakeSite::start(beta_page).await;
    let sources =
        source_toml("alpha", &alpha.url, 1, alpha_extra) + &source_toml("beta", &beta.url, 1, "");
    let bot = TestBot::new()
        .site(alpha.clone())
        .sources(sources)
        .spawn()
        .await;
    bot.ask_until(999_002, "/sources", |r| {
        !r.contains("Last good read: never")
    })
    .await;
    (bot.telegram.clone(), alpha, beta, bot)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_per_source_and_the_sources_list() {
    let alpha_items = vec![(100, today(), "Alpha one")];
    let beta_items = vec![(200, today(), "Beta one")];
    let (telegram, alpha, beta, mut bot) =
        start_two(release_page(&alpha_items), release_page(&beta_items), "").await;
    let (only_beta, everything) = (2001, 2002);

    let reply = telegram.ask(only_beta, "/subscribe BETA").await.text;
    assert!(reply.starts_with("Subscribed to beta"), "{reply}");
    let reply = telegram.ask(everything, "/subscribe").await.text;
    assert!(reply.starts_with("Subscribed"), "{reply}");
    let reply = telegram.ask(everything, "/subscribe alpha").await.text;
    assert!(reply.contains("already get every source"), "{reply}");
    let reply = telegram.ask(only_beta, "/subscribe gamma").await.text;
    assert!(
        reply.contains("no source called “gamma”") && reply.contains("alpha, beta"),
        "{reply}"
    );
    let reply = telegram.ask(only_beta, "/unsubscribe <b>x</b>").await.text;
    assert!(reply.contains("&lt;b&gt;x&lt;/b&gt;"), "escaped: {reply}");

    let list = telegram.ask(only_beta, "/sources").await;
    assert_eq!(list.parse_mode.as_deref(), Some("HTML"));
    let text = list.text;
    assert!(text.contains("You get: beta"), "{text}");
    assert!(
        text.contains("<b>alpha</b>") && text.contains(&alpha.url),
        "{text}"
    );
    assert!(
        text.contains("<b>beta</b>") && text.contains(&beta.url),
        "{text}"
    );
    let alpha_part = text.split("<b>beta</b>").next().unwrap();
    assert!(alpha_part.contains("Subscribed: no"), "{text}");
    assert!(
        text.split("<b>beta</b>")
            .nth(1)
            .unwrap()
            .contains("Subscribed: yes"),
        "{text}"
    );
    assert!(!text.contains("Last good read: never"), "{text}");
    assert!(text.contains("Releases on the page then: 1"), "{text}");

    // A release on each site: the all-sources chat gets both, the other only beta's.
    let mut alpha_items = alpha_items;
    let mut beta_items = beta_items;
    alpha_items.insert(0, (101, today(), "Alpha two"));
    beta_items.insert(0, (201, today(), "Beta two"));
    alpha.set_page(release_page(&alpha_items));
    beta.set_page(release_page(&beta_items));
    bot.eventually("both pushes", || telegram.pushes_to(everything).len() >= 2)
        .await;
    bot.eventually("beta's push", || !telegram.pushes_to(only_beta).is_empty())
        .await;
    let got = telegram.pushes_to(only_beta);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].contains("Beta two"), "{got:?}");

    // Dropping one source of "every source" keeps the other; dropping the last ends it.
    let reply = telegram.ask(everything, "/unsubscribe alpha").await.text;
    assert!(reply.contains("You still get: beta"), "{reply}");
    let reply = telegram.ask(only_beta, "/unsubscribe beta").await.text;
    assert!(reply.contains("that was your last source"), "{reply}");
    let reply = telegram.ask(only_beta, "/unsubscribe beta").await.text;
    assert!(reply.contains("not subscribed to beta"), "{reply}");

    alpha_items.insert(0, (102, today(), "Alpha three"));
    beta_items.insert(0, (202, today(), "Beta three"));
    alpha.set_page(release_page(&alpha_items));
    beta.set_page(release_page(&beta_items));
    bot.eventually("beta's second push", || {
        telegram.pushes_to(everything).len() >= 3
    })
    .await;
    let alpha_hits = alpha.hits();
    alpha.wait_for_hits(alpha_hits, 1, WAIT).await;
    let got = telegram.pushes_to(everything);
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(got[2].contains("Beta three"), "{got:?}");
    assert_eq!(telegram.pushes_to(only_beta).len(), 1);
    bot.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guards_and_alerts_keep_floods_old_news_and_outages_from_users() {
    let mut alpha_items = vec![
        (300, today(), "Alpha a"),
        (301, today(), "Alpha b"),
        (302, today(), "Alpha c"),
    ];
    let mut beta_items = vec![(400, today(), "Beta a")];
    let (telegram, alpha, beta, mut bot) = start_two(
        release_page(&alpha_items),
        release_page(&beta_items),
        "max_new_items = 3\nalert_after_secs = 2\n",
    )
    .await;
    let reader = 3001;
    telegram.ask(reader, "/subscribe").await;

    // Flood: five new releases at once on alpha. Nobody is sent them, the
    // operator hears once, and the next reads are quiet.
    for id in 310..315 {
        alpha_items.insert(0, (id, today(), "Alpha flood"));
    }
    let hits = alpha.hits();
    alpha.set_page(release_page(&alpha_items));
    bot.eventually("flood alert", || {
        admin_told(&telegram, "5 new releases in one read") == 1
    })
    .await;
    alpha.wait_for_hits(hits, 2, WAIT).await;
    assert_eq!(admin_told(&telegram, "new releases in one read"), 1);
    assert!(telegram.pushes_to(reader).is_empty());

    // An old release that surfaces is recorded, not pushed; a fresh one is.
    alpha_items.insert(0, (320, today(), "Alpha fresh"));
    alpha_items.insert(1, (321, days_ago(30), "Alpha from last month"));
    alpha.set_page(release_page(&alpha_items));
    bot.eventually("fresh push", || !telegram.pushes_to(reader).is_empty())
        .await;
    let got = telegram.pushes_to(reader);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].contains("Alpha fresh"), "{got:?}");
    let latest = telegram.ask(reader, "/latest 20").await.text;
    assert!(
        latest.contains("Alpha from last month"),
        "recorded: {latest}"
    );

    // alpha fails for longer than alert_after_secs: one alert; beta keeps working.
    alpha.set_status(500, "down");
    beta_items.insert(0, (401, today(), "Beta during the outage"));
    beta.set_page(release_page(&beta_items));
    bot.eventually("beta's push during the outage", || {
        telegram.pushes_to(reader).len() >= 2
    })
    .await;
    bot.eventually("failure alert", || {
        admin_told(&telegram, "has been failing") == 1
    })
    .await;
    let hits = alpha.hits();
    alpha.wait_for_hits(hits, 2, WAIT).await;
    assert_eq!(admin_told(&telegram, "has been failing"), 1, "told once");
    let sources = telegram.ask(reader, "/sources").await.text;
    assert!(
        sources.contains("Failing since") && !sources.contains("500"),
        "a reader sees no error text: {sources}"
    );
    let sources = telegram.ask(ADMIN, "/sources").await.text;
    assert!(
        sources.contains("Last error:") && sources.contains("500"),
        "{sources}"
    );
    alpha.set_page(release_page(&alpha_items));
    bot.eventually("recovery message", || {
        admin_told(&telegram, "reads again") == 1
    })
    .await;

    // alpha shows no releases any more: the operator hears once, at once.
    let hits = alpha.hits();
    alpha.set_page("<html><body><p>Under maintenance</p></body></html>");
    bot.eventually("emptied alert", || {
        admin_told(&telegram, "shows no releases any more") == 1
    })
    .await;
    alpha.wait_for_hits(hits, 4, WAIT).await;
    assert_eq!(admin_told(&telegram, "shows no releases any more"), 1);
    assert_eq!(
        admin_told(&telegram, "has been failing"),
        1,
        "no second alert"
    );
    // The releases come back: none is sent again, and the operator hears of it.
    alpha.set_page(release_page(&alpha_items));
    bot.eventually("second recovery message", || {
        admin_told(&telegram, "reads again") == 2
    })
    .await;
    let hits = alpha.hits();
    alpha.wait_for_hits(hits, 1, WAIT).await;
    assert_eq!(telegram.pushes_to(reader).len(), 2, "nothing re-announced");
    assert!(
        telegram
            .sent_to(ADMIN)
            .iter()
            .all(|m| m.parse_mode.as_deref() == Some("HTML"))
    );
    bot.stop_cleanly().await;
}

/// Starts the bot on `count` sources `s01`, `s02`, … whose addresses (all on
/// one fake site) are `url_len` characters long; waits until it answers.
async fn start_many(count: usize, url_len: usize) -> (FakeTelegram, FakeSite, Bot) {
    let site = FakeSite::start(release_page(&[(100, today(), "One release")])).await;
    let sources: String = (1..=count)
        .map(|n| {
            let head = format!("{}{n:02}/", site.url);
            let url = format!("{head}{}", "a".repeat(url_len - head.len()));
            source_toml(&format!("s{n:02}"), &url, 600, "")
        })
        .collect();
    let bot = TestBot::new()
        .site(site.clone())
        .sources(sources)
        .spawn()
        .await;
    bot.ask_until(999_003, "/time", |r| r.contains("Moscow"))
        .await;
    (bot.telegram.clone(), site, bot)
}

/// Asserts that Telegram would take `text` (sent as HTML) and that it holds
/// at most 4,096 UTF-16 units even counted with its markup.
fn fits(text: &str) {
    assert!(
        shown_len(text, Some("HTML")) <= MAX_MESSAGE_UTF16,
        "{} units shown",
        shown_len(text, Some("HTML"))
    );
    assert!(text.encode_utf16().count() <= MAX_MESSAGE_UTF16);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fourteen_sources_with_long_addresses_fit_one_message() {
    // The case: /sources came to 5,479 units and Telegram refused it.
    let (telegram, _site, mut bot) = start_many(14, 300).await;
    let list = telegram.ask(3101, "/sources").await;
    fits(&list.text);
    for n in 1..=14 {
        assert!(
            list.text.contains(&format!("<b>s{n:02}</b>")),
            "{}",
            list.text
        );
    }
    assert!(
        list.text.contains("aaa…"),
        "addresses cut visibly: {}",
        list.text
    );
    assert_eq!(list.labels().len(), 14, "a toggle for each");
    let before = telegram.sent_to(ADMIN).len();
    telegram.user_says(ADMIN, "/status");
    let status = telegram.wait_for(ADMIN, before + 1, WAIT).await;
    fits(&status[before].text);
    bot.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_sources_come_in_pages_and_status_in_several_messages() {
    let count = 60;
    let (telegram, _site, mut bot) = start_many(count, 300).await;
    let names: Vec<String> = (1..=count).map(|n| format!("s{n:02}")).collect();
    let shown = |text: &str| -> Vec<String> {
        names
            .iter()
            .filter(|n| text.contains(&format!("<b>{n}</b>")))
            .cloned()
            .collect()
    };

    // /sources: pages, each with the toggles of its sources, turned in place.
    let user = 3102;
    let first = telegram.ask(user, "/sources").await;
    fits(&first.text);
    let mut seen = shown(&first.text);
    assert!(!seen.is_empty() && seen.len() < count, "{}", first.text);
    assert!(first.button("More").is_some(), "{:?}", first.labels());
    assert!(first.button("◀").is_none(), "{:?}", first.labels());
    let mut page = first.clone();
    let mut pages = 1;
    while let Some(more) = page.button("More") {
        let edits = telegram.edits().len();
        let callback = telegram.press(user, Place::Private, page.message_id, &more);
        telegram.wait_for_answer(&callback).await;
        bot.eventually("the next page", || telegram.edits().len() > edits)
            .await;
        page = telegram.message(page.message_id).expect("the message");
        fits(&page.text);
        let on_page = shown(&page.text);
        let toggles: Vec<String> = page
            .labels()
            .into_iter()
            .filter(|l| l.starts_with('➕') || l.starts_with('✅'))
            .map(|l| l[l.find(' ').unwrap() + 1..].to_string())
            .collect();
        assert_eq!(toggles, on_page, "a toggle for each source on the page");
        assert!(page.button("◀").is_some(), "{:?}", page.labels());
        seen.extend(on_page);
        pages += 1;
        assert!(pages <= count, "pages never end");
    }
    assert_eq!(
        seen, names,
        "every source once, in order, over {pages} pages"
    );

    // A toggle on a later page subscribes, and shows that page again.
    let last = names.last().unwrap();
    let edits = telegram.edits().len();
    let callback = telegram.press(user, Place::Private, page.message_id, &format!("t1:{last}"));
    let answer = telegram.wait_for_answer(&callback).await;
    assert!(
        answer
            .text
            .unwrap_or_default()
            .starts_with(&format!("Subscribed to {last}"))
    );
    bot.eventually("the page shown anew", || telegram.edits().len() > edits)
        .await;
    let page = telegram.message(page.message_id).expect("the message");
    assert!(
        page.labels().contains(&format!("✅ {last}")),
        "{:?}",
        page.labels()
    );

    // /status: every source, in as many messages as it takes.
    let before = telegram.sent_to(ADMIN).len();
    telegram.user_says(ADMIN, "/status");
    telegram.user_says(ADMIN, "/time");
    // Answered in order: once /time is, every part of /status is.
    bot.eventually("the /time after /status", || {
        telegram
            .sent_to(ADMIN)
            .last()
            .is_some_and(|m| m.text.contains("Moscow"))
    })
    .await;
    let got = telegram.sent_to(ADMIN);
    let status: Vec<&str> = got[before..got.len() - 1]
        .iter()
        .map(|m| m.text.as_str())
        .collect();
    assert!(status.len() > 1, "{status:?}");
    assert!(status[0].starts_with("<b>Status</b>"), "{}", status[0]);
    let mut listed = Vec::new();
    for text in &status {
        fits(text);
        listed.extend(shown(text));
    }
    assert_eq!(listed, names, "every source once, in order");
    bot.stop_cleanly().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_group_an_operator_sees_the_sources_everyone_sees_and_gets_the_errors_privately() {
    let alpha_items = vec![(500, today(), "Alpha one")];
    let beta_items = vec![(600, today(), "Beta one")];
    let (telegram, alpha, _beta, mut bot) =
        start_two(release_page(&alpha_items), release_page(&beta_items), "").await;
    let t = &telegram;
    alpha.set_status(500, "down");
    let reader = 3201;
    bot.ask_until(reader, "/sources", |r| r.contains("Failing since"))
        .await;
    let (group, member) = (-3_200, 3202);
    t.set_member(group, ADMIN, crate::support::telegram::Status::Creator);
    // Read times move on between two answers: compare the rest.
    let steady = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| !l.starts_with("Last good read"))
            .map(str::to_string)
            .collect()
    };
    let leaks = |text: &str| text.contains("Last error") || text.contains("HTTP status 500");

    let asked = |user: i64| async move {
        let before = t.sent_to(group).len();
        t.group_says(group, user, "/sources");
        t.wait_for(group, before + 1, WAIT).await[before].clone()
    };
    let members = asked(member).await;
    let operators = asked(ADMIN).await;
    assert!(!leaks(&operators.text), "{}", operators.text);
    assert!(
        operators.text.contains("Failing since"),
        "{}",
        operators.text
    );
    assert_eq!(steady(&operators.text), steady(&members.text));
    assert_eq!(operators.labels(), members.labels());
    // The errors reach the operator alone, in their private chat.
    let private = |t: &FakeTelegram| {
        t.sent_to(ADMIN)
            .into_iter()
            .find(|m| m.text.starts_with("<b>Sources failing now</b>"))
    };
    bot.eventually("the errors, privately", || private(t).is_some())
        .await;
    let details = private(t).unwrap().text;
    assert!(
        details.contains("<b>alpha</b>") && leaks(&details),
        "{details}"
    );
    assert!(
        !details.contains("<b>beta</b>"),
        "failing sources only: {details}"
    );

    // The operator's press on the member's list shows the group the same.
    let edits = t.edits().len();
    let callback = t.press(ADMIN, Place::Group(group), members.message_id, "t1:beta");
    let answer = t.wait_for_answer(&callback).await;
    assert!(
        answer
            .text
            .unwrap_or_default()
            .starts_with("Subscribed to beta")
    );
    bot.eventually("the list shown anew", || t.edits().len() > edits)
        .await;
    let shown = t.message(members.message_id).expect("the list");
    assert!(!leaks(&shown.text), "{}", shown.text);
    assert!(shown.text.contains("Failing since"), "{}", shown.text);
    assert!(
        t.sent_to(group).iter().all(|m| !leaks(&m.text)),
        "nothing in the group names an error"
    );

    // In the operator's private chat, the errors stay in the list.
    let own = t.ask(ADMIN, "/sources").await.text;
    assert!(
        own.contains("Last error") && own.contains("HTTP status 500"),
        "{own}"
    );
    bot.stop_cleanly().await;
}
