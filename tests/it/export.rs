//! A way out of sled: `export` writes the whole state as JSON Lines and
//! `import` rebuilds it exactly in an empty data directory — subscriptions,
//! releases, ids of pruned releases, a fan-out walk half done, pushes owed
//! (to chats and to forum topics), the channels people subscribed, what each
//! chat and topic chose (filters, quiet hours, language), and each
//! source's state — through the store and through the binary.

use chrono::{DateTime, Utc};
use embassy_bot::FanOut;
use embassy_bot::Health;
use embassy_bot::Retention;
use embassy_bot::{Contacts, Item};
use embassy_bot::{PollPolicy, Removal, Store, Target, TransferError};

use embassy_bot::Language;

use embassy_bot::{Filter, QuietHours, parse_time, parse_zone};

use crate::support::{fan_out_page, reopen_store, run_binary};

fn item(n: u32) -> Item {
    Item {
        id: format!("site/fnapr/{n}"),
        url: format!("https://site/fnapr/{n}"),
        title: format!("Release {n} with \"quotes\" & <marks>"),
        date: chrono::NaiveDate::from_ymd_opt(2022, 5, n.clamp(1, 28)),
        lead: format!("Lead of {n}"),
    }
}

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap()
}

fn topic_target() -> Target {
    Target {
        chat: -200,
        thread: Some(7),
    }
}

/// A store holding a little of everything the bot keeps.
async fn busy_store(dir: &std::path::Path) -> Store {
    let store = Store::open(dir).unwrap();
    let small = Retention {
        keep_items: 4,
        keep_seen_ids: 10,
    };
    let policy = PollPolicy::unguarded().retaining(small);
    let read = |source: &'static str, items: Vec<Item>, t: i64| {
        let store = store.clone();
        async move {
            store
                .record_poll(source, &items, &policy, at(t))
                .await
                .unwrap()
        }
    };
    read("a", (1..=6).rev().map(item).collect(), 0).await;
    read("b", vec![item(6)], 1).await;
    for chat in [1, 2, 3, 4, 5] {
        store.subscribe(chat, None, at(2)).await.unwrap();
    }
    store.subscribe(7, Some("b"), at(3)).await.unwrap();
    store.subscribe(-100, Some("a"), at(3)).await.unwrap();
    // Two new releases on "a", one of which "b" lists too; old ones pruned.
    read("a", (1..=8).rev().map(item).collect(), 10).await;
    read("b", vec![item(8), item(6)], 11).await;
    assert!(store.retained("a").unwrap().seen > 0, "some were pruned");
    // The first walk half done: chats -100 and 2 sent, 3 journaled (its
    // send failed), 1 still in flight: the cursor stays below it, and the
    // fan-out log names the chats done beyond it.
    let fan_out = FanOut::new(store.clone(), 1);
    let page = fan_out_page(&fan_out, 4, |_| false).await.unwrap();
    assert_eq!(page.chats, vec![-100, 1, 2, 3]);
    for chat in &page.chats {
        assert!(fan_out.take(&page, *chat).unwrap());
    }
    for chat in [-100, 2] {
        fan_out.sent(&page.release, chat).unwrap();
    }
    fan_out.defer(&page.release, 3).await.unwrap();
    fan_out.save().unwrap();
    // A forum topic subscribed on its own, owed a push; a channel someone
    // subscribed from their private chat.
    let topic = topic_target();
    store.subscribe(topic, None, at(4)).await.unwrap();
    let owed = store.item("site/fnapr/8").unwrap().unwrap();
    store
        .journal(topic, owed.seq, &owed.item.id, at(4))
        .unwrap();
    // What a topic and a chat chose: a filter, quiet hours, a language.
    store
        .change_settings(topic, |s| {
            s.filters.push(Filter::parse("-\"visa centre\"").unwrap());
            s.quiet = Some(QuietHours {
                from: parse_time("23:00").unwrap(),
                to: parse_time("07:00").unwrap(),
                zone: parse_zone("Europe/London").unwrap(),
            });
        })
        .await
        .unwrap();
    store
        .change_settings(Target::from(3), |s| s.language = Some(Language::Ru))
        .await
        .unwrap();
    store
        .remember_channel(5_001, -1_009, Some("News"), Some("news"), at(5))
        .await
        .unwrap();
    // Each source's state, contacts and counters.
    store.record_failure("b", "HTTP 503", at(20)).unwrap();
    let health = Health {
        failures: 2,
        failing_since: Some(at(15)),
        alerted: false,
    };
    store.save_source_state("b", &health).unwrap();
    let contacts = Contacts {
        phone: Some("+44 (0) 203 161 8858".into()),
        email: Some("info@rusemb.org.uk".into()),
    };
    store.save_contacts(&contacts, at(21)).await.unwrap();
    store.remove_chat(5, Removal::ChatGone).await.unwrap();
    store.flush().await.unwrap();
    store
}

fn export(store: &Store) -> String {
    let mut out = Vec::new();
    store.export(&mut out, at(100)).unwrap();
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn an_export_imported_into_an_empty_directory_rebuilds_the_same_state() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first");
    let store = busy_store(&first).await;
    let exported = export(&store);
    assert!(exported.starts_with("{\"format\":\"embassy-bot-export\",\"version\":1"));
    for kind in [
        "meta",
        "subscription",
        "release",
        "seen",
        "outbox",
        "handled",
        "journal",
        "channel",
        "settings",
    ] {
        assert!(
            exported.contains(&format!("{{\"kind\":\"{kind}\"")),
            "no {kind} record in:\n{exported}"
        );
    }

    let second = dir.path().join("second");
    let summary = Store::import(&second, exported.as_bytes()).unwrap();
    assert_eq!(summary.subscriptions, 7);
    assert_eq!(summary.channels, 1);
    let copy = reopen_store(&second);
    assert_eq!(export(&copy), exported, "the same state, line for line");

    // And it behaves the same: what users see, what is owed, what is known.
    assert_eq!(copy.latest(20).unwrap(), store.latest(20).unwrap());
    assert_eq!(
        copy.subscription(7).unwrap(),
        store.subscription(7).unwrap()
    );
    assert_eq!(copy.journal_for(3).unwrap(), store.journal_for(3).unwrap());
    assert_eq!(
        copy.journal_for(-200).unwrap(),
        store.journal_for(-200).unwrap()
    );
    assert_eq!(copy.journal_for(-200).unwrap()[0].thread, Some(7));
    assert_eq!(
        copy.channels_of(5_001).unwrap(),
        store.channels_of(5_001).unwrap()
    );
    assert_eq!(copy.journal_count(), 2);
    assert!(exported.contains("\"journaled_at\":1700000004"));
    assert_eq!(
        copy.settings(topic_target()).unwrap(),
        store.settings(topic_target()).unwrap()
    );
    assert_eq!(
        copy.settings(Target::from(3)).unwrap().language,
        Some(Language::Ru)
    );
    assert_eq!(summary.settings, 2);
    assert_eq!(copy.retained("a").unwrap(), store.retained("a").unwrap());
    assert!(copy.was_pruned("site/fnapr/1"));
    assert_eq!(
        copy.item_count_of("b").unwrap(),
        store.item_count_of("b").unwrap()
    );
    assert_eq!(
        copy.last_failure("b").unwrap(),
        store.last_failure("b").unwrap()
    );
    assert_eq!(
        copy.source_state::<Health>("b").unwrap(),
        store.source_state::<Health>("b").unwrap()
    );
    assert_eq!(copy.contacts().unwrap(), store.contacts().unwrap());
    assert_eq!(
        copy.journal_stats().unwrap(),
        store.journal_stats().unwrap()
    );
    // The walk resumes where it stood in both: the chats the log names are
    // skipped, the one in flight goes again, and chat 3 waits in the journal.
    for one in [&store, &copy] {
        let fan_out = FanOut::new(one.clone(), 1);
        let page = fan_out_page(&fan_out, 10, |chat| chat == 3).await.unwrap();
        assert_eq!((page.chats, page.journaled), (vec![1, 4], 0));
    }
    // A release found later gets a sequence number after every earlier one.
    let next = copy
        .record_poll("a", &[item(9)], &PollPolicy::unguarded(), at(200))
        .await
        .unwrap();
    assert!(
        next.new_items[0].seq
            > store
                .latest(20)
                .unwrap()
                .iter()
                .map(|s| s.seq)
                .max()
                .unwrap()
    );
}

#[tokio::test]
async fn import_refuses_a_directory_in_use_and_a_file_that_is_no_export_and_leaves_nothing_behind()
{
    let dir = tempfile::tempdir().unwrap();
    let store = busy_store(&dir.path().join("first")).await;
    let exported = export(&store);

    let taken = dir.path().join("first");
    assert!(matches!(
        Store::import(&taken, exported.as_bytes()),
        Err(TransferError::NotEmpty(_))
    ));

    let target = dir.path().join("target");
    let wrong = Store::import(&target, "{\"hello\": 1}\n".as_bytes()).unwrap_err();
    assert!(
        wrong
            .to_string()
            .contains("line 1: not an embassy-bot export"),
        "{wrong}"
    );
    let newer = exported.replacen("\"version\":1", "\"version\":7", 1);
    let err = Store::import(&target, newer.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("version 7"), "{err}");
    let mut lines: Vec<&str> = exported.lines().collect();
    lines.insert(3, "{\"kind\":\"release\",\"id\":");
    let broken = lines.join("\n");
    let err = Store::import(&target, broken.as_bytes()).unwrap_err();
    assert!(err.to_string().starts_with("line 4:"), "{err}");
    let left = std::fs::read_dir(&target).map_or(0, |d| d.count());
    assert_eq!(left, 0, "a failed import leaves the directory empty");
    // ... so the import can simply be run again.
    Store::import(&target, exported.as_bytes()).unwrap();
}

#[tokio::test]
async fn the_binary_exports_and_imports_and_says_why_it_cannot_while_the_bot_runs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = busy_store(&data).await;
    let expected = export(&store);

    // While another process holds the database, export says so.
    let file = dir.path().join("backup.jsonl");
    let env = |d: &std::path::Path| vec![("EMBASSY_BOT_DATA_DIR", d.to_str().unwrap().to_string())];
    let run = |args: &[&str], d: &std::path::Path| {
        let env = env(d);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        run_binary(args, &env)
    };
    let (code, _, stderr) = run(&["export", file.to_str().unwrap()], &data);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("in use by another embassy-bot process"),
        "{stderr}"
    );
    assert!(!file.exists());
    drop(store);
    reopen_store(&data); // waits until sled has let go of its lock

    let (code, _, stderr) = run(&["export", file.to_str().unwrap()], &data);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("exported 7 subscriptions"), "{stderr}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "an export holds chat ids");
    let restored = dir.path().join("restored");
    let (code, _, stderr) = run(&["import", file.to_str().unwrap()], &restored);
    assert_eq!(code, Some(0), "{stderr}");
    let (code, again, _) = run(&["export"], &restored);
    assert_eq!(code, Some(0));
    // The same state; only the export's own time differs.
    let body = |text: &str| text.lines().skip(1).map(str::to_string).collect::<Vec<_>>();
    assert_eq!(body(&again), body(&expected));

    let (code, _, stderr) = run(&["import", file.to_str().unwrap()], &restored);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("is not empty"), "{stderr}");
}
