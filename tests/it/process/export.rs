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
    assert!(exported.starts_with("{\"format\":\"embassy-bot-export\",\"version\":2"));
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
        "end",
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
    let newer = exported.replacen("\"version\":2", "\"version\":7", 1);
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

// ---- all or nothing --------------------------------------------------------------------------

/// What is in `dir`, by name; `None` when it does not exist.
fn entries(dir: &std::path::Path) -> Option<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Some(names)
}

/// `embassy-bot ARGS` with `data` as the data directory.
fn run_on(data: &std::path::Path, args: &[&str]) -> (Option<i32>, String, String) {
    run_binary(args, &[("EMBASSY_BOT_DATA_DIR", data.to_str().unwrap())])
}

#[tokio::test]
async fn a_truncated_export_is_refused_and_leaves_the_data_directory_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let store = busy_store(&dir.path().join("first")).await;
    let exported = export(&store);
    let lines: Vec<&str> = exported.lines().collect();
    let absent = dir.path().join("absent");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();

    // `head -n 7`: the header and six state records, and nothing else.
    let head = lines[..7].join("\n") + "\n";
    // Cut in the middle of a line (a full disk, a copy that stopped).
    let cut = &exported[..exported.len() - 40];
    // A record lost from the middle, the counts still at the end.
    let holed: String = lines
        .iter()
        .filter(|l| !l.contains("\"id\":\"site/fnapr/6\""))
        .map(|l| format!("{l}\n"))
        .collect();
    for (name, text, says) in [
        (
            "head -n 7",
            head.as_str(),
            "ends after line 7 without the record counts",
        ),
        ("cut", cut, "ends in the middle of line"),
        ("holed", holed.as_str(), "4 releases counted, 3 found"),
    ] {
        for data in [&absent, &empty] {
            let err = Store::import(data, text.as_bytes())
                .map(|summary| format!("imported {summary}"))
                .unwrap_or_else(|e| e.to_string());
            assert!(err.starts_with("truncated export: "), "{name}: {err}");
            assert!(err.contains(says), "{name}: {err}");
        }
        assert_eq!(entries(&absent), None, "{name}: still absent");
        assert_eq!(entries(&empty), Some(vec![]), "{name}: still empty");
        assert_eq!(
            entries(dir.path()),
            Some(vec!["empty".to_string(), "first".to_string()]),
            "{name}: nothing left beside them"
        );
    }

    // Through the binary: exit 1, the reason, nothing written.
    let file = dir.path().join("head.jsonl");
    std::fs::write(&file, &head).unwrap();
    let (code, _, stderr) = run_on(&absent, &["import", file.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("truncated export: the file ends after line 7"),
        "{stderr}"
    );
    assert_eq!(entries(&absent), None);
    std::fs::remove_file(&file).unwrap();
    // The whole file imports into the same places.
    for data in [&absent, &empty] {
        Store::import(data, exported.as_bytes()).unwrap();
        assert_eq!(export(&reopen_store(data)), exported);
    }
}

/// An export as builds before record counts wrote it: format version 1, no
/// `end` line, the same records.
fn legacy(exported: &str) -> String {
    let mut lines: Vec<&str> = exported.lines().collect();
    assert!(lines.pop().unwrap().starts_with("{\"kind\":\"end\""));
    let header = lines[0].replacen("\"version\":2", "\"version\":1", 1);
    lines[0] = &header;
    lines.join("\n") + "\n"
}

#[tokio::test]
async fn an_export_from_before_record_counts_is_imported_only_when_asked_unchecked() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = busy_store(&data).await;
    let exported = export(&store);
    drop(store);
    let old = legacy(&exported);
    let file = dir.path().join("old.jsonl");
    std::fs::write(&file, &old).unwrap();

    let restored = dir.path().join("restored");
    let (code, _, stderr) = run_on(&restored, &["import", file.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("format version 1"), "{stderr}");
    assert!(stderr.contains("cannot be checked"), "{stderr}");
    assert!(stderr.contains("--unchecked-legacy-export"), "{stderr}");
    assert_eq!(entries(&restored), None);

    let (code, _, stderr) = run_on(
        &restored,
        &[
            "import",
            "--unchecked-legacy-export",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("imported 7 subscriptions"), "{stderr}");
    let again = export(&reopen_store(&restored));
    assert_eq!(
        again, exported,
        "the same state as the current export gives"
    );

    // The flag takes nothing unchecked that can be checked.
    let cut = dir.path().join("cut.jsonl");
    std::fs::write(
        &cut,
        exported.lines().take(7).collect::<Vec<_>>().join("\n"),
    )
    .unwrap();
    let other = dir.path().join("other");
    let (code, _, stderr) = run_on(
        &other,
        &["import", "--unchecked-legacy-export", cut.to_str().unwrap()],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("truncated export: "), "{stderr}");
    assert_eq!(entries(&other), None);
}

/// SIGKILLs `embassy-bot import /dev/stdin` into `data` while it is half way
/// through an export: it has read part of the file and waits for the rest.
async fn kill_an_import_half_way(data: &std::path::Path, exported: &str) {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_embassy-bot"))
        .args(["import", "/dev/stdin"])
        .env_remove("EMBASSY_BOT_CONFIG")
        .env("EMBASSY_BOT_DATA_DIR", data)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start embassy-bot import");
    let mut stdin = child.stdin.take().unwrap();
    // The export's first records, then thousands of releases: several of
    // the import's batches written, and the file not over.
    let mut part: String = exported
        .lines()
        .take(20)
        .map(|l| format!("{l}\n"))
        .collect();
    for n in 1_000..6_000 {
        part.push_str(&format!(
            "{{\"kind\":\"release\",\"id\":\"site/bulk/{n}\",\"url\":\"https://site/bulk/{n}\",\"title\":\"Bulk {n}\",\"date\":null,\"lead\":\"\",\"source\":\"a\",\"first_seen\":1700000000,\"seq\":{n}}}\n"
        ));
    }
    stdin.write_all(part.as_bytes()).await.unwrap();
    stdin.flush().await.unwrap();
    // The import has its database open once one is on disk, in the data
    // directory or beside it (a name that contains the data directory's).
    let parent = data.parent().unwrap();
    let name = data.file_name().unwrap().to_str().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let ours = |path: &std::path::Path| {
        path.strip_prefix(parent)
            .ok()
            .and_then(|rest| rest.iter().next())
            .is_some_and(|first| first.to_string_lossy().contains(name))
    };
    let started = || walk(parent).iter().any(|p| p.ends_with("db/db") && ours(p));
    while !started() {
        assert!(
            std::time::Instant::now() < deadline,
            "the import opened no database; files: {:?}",
            walk(parent)
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import ended early"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    child.kill().await.expect("SIGKILL the import");
    drop(stdin);
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(read) = std::fs::read_dir(dir) {
        for entry in read.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}

#[tokio::test]
async fn a_killed_import_leaves_the_data_directory_as_it_was_and_the_next_one_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let store = busy_store(&dir.path().join("first")).await;
    let exported = export(&store);
    let file = dir.path().join("backup.jsonl");
    std::fs::write(&file, &exported).unwrap();

    // A data directory that does not exist yet stays absent.
    let absent = dir.path().join("absent");
    kill_an_import_half_way(&absent, &exported).await;
    assert_eq!(entries(&absent), None, "files: {:?}", walk(dir.path()));
    // One that exists (a Docker volume) holds no state: at most what the
    // import left aside, which the next import or start clears away.
    let volume = dir.path().join("volume");
    std::fs::create_dir(&volume).unwrap();
    kill_an_import_half_way(&volume, &exported).await;
    let left = entries(&volume).unwrap();
    assert!(
        left.iter()
            .all(|name| name.starts_with('.') && name.contains("import")),
        "the killed import left state in the data directory: {left:?}"
    );

    for data in [&absent, &volume] {
        let (code, _, stderr) = run_on(data, &["import", file.to_str().unwrap()]);
        assert_eq!(code, Some(0), "{stderr}");
        assert!(stderr.contains("imported 7 subscriptions"), "{stderr}");
        let (code, again, stderr) = run_on(data, &["export"]);
        assert_eq!(code, Some(0), "{stderr}");
        let body = |text: &str| text.lines().skip(1).map(str::to_string).collect::<Vec<_>>();
        assert_eq!(body(&again), body(&exported), "the same state");
    }
    // Nothing is left beside them either.
    let mut names = entries(dir.path()).unwrap();
    names.retain(|n| n.contains("import"));
    assert!(names.is_empty(), "{names:?}");
}
