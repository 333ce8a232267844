//! What a disk can do to the bot: its files stay private, a full disk ends
//! in a prompt exit (and a clean restart once there is room), a database
//! that opens behind what it held announces nothing again, and an export
//! rebuilds the whole state.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use crate::support::{TestBot, reopen_store};

/// Every directory and file under `dir` with a mode other than 0700 / 0600.
fn not_private(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    if mode(dir) != 0o700 {
        found.push(format!("{} {:o}", dir.display(), mode(dir)));
    }
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(not_private(&path));
        } else if mode(&path) != 0o600 {
            found.push(format!("{} {:o}", path.display(), mode(&path)));
        }
    }
    found
}

/// Makes everything under `dir` world-readable, as older versions left it.
fn open_up(dir: &Path) {
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            open_up(&path);
        } else {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_directory_is_private_and_older_ones_are_made_so() {
    let mut bot = TestBot::new().interval(3_600).log("bot1.log").start().await;
    let (telegram, site) = (bot.telegram.clone(), bot.site.clone());
    let data = bot.data_dir();
    telegram.ask(7, "/subscribe").await;
    bot.stop_cleanly().await;
    let files = std::fs::read_dir(data.join("db")).unwrap().count();
    assert!(files >= 2, "sled wrote its files");
    assert_eq!(not_private(&data), Vec::<String>::new());

    // A directory an older version left world-readable is made private.
    open_up(&data);
    assert!(!not_private(&data).is_empty());
    bot.respawn("bot2.log").await;
    bot.eventually("the second run's read", || site.hits() >= 2)
        .await;
    bot.stop_cleanly().await;
    assert_eq!(not_private(&data), Vec::<String>::new());
    assert!(reopen_store(&data).is_subscribed(7).unwrap());
}

/// Copies the directory `from` to `to` (which must not exist).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_opens_behind_what_it_held_announces_nothing_again() {
    // The first read (silent) and a subscriber, then a copy of the database.
    let mut bot = TestBot::new().log("bot1.log").start().await;
    let (telegram, site) = (bot.telegram.clone(), bot.site.clone());
    let data = bot.data_dir();
    telegram.ask(7, "/subscribe").await;
    bot.stop_cleanly().await;
    let early = bot.dir.path().join("early-db");
    copy_dir(&data.join("db"), &early);

    // Two new releases reach the subscriber.
    site.set_page(crate::support::page_with_extra_item());
    bot.respawn("bot2.log").await;
    let pushed = telegram.wait_for(7, 3, Duration::from_secs(30)).await;
    assert_eq!(pushed.len(), 3, "the reply to /subscribe and two pushes");
    bot.stop_cleanly().await;

    // The disk gives back the earlier database (as a truncated log with its
    // snapshot gone did): it holds neither release.
    std::fs::remove_dir_all(data.join("db")).unwrap();
    copy_dir(&early, &data.join("db"));
    bot.respawn("bot3.log").await;
    let hits = site.hits();
    site.wait_for_hits(hits, 2, Duration::from_secs(30)).await;
    assert_eq!(telegram.sent_to(7).len(), 3, "nothing announced again");
    let alert = telegram
        .wait_for(crate::support::ADMIN, 1, Duration::from_secs(10))
        .await;
    assert!(
        alert[0].text.contains("high-water mark"),
        "operators hear of it: {}",
        alert[0].text
    );

    // Later releases are announced as ever.
    site.set_page(crate::support::page_with_extra_item().replacen(
        "/fnapr/7161\">24.05.2022 - Embassy statement on a later day",
        "/fnapr/7162\">25.05.2022 - Embassy statement on the next day</a><p>A lead.</p><a href=\"/fnapr/7161\">24.05.2022 - Embassy statement on a later day",
        1,
    ));
    let pushed = telegram.wait_for(7, 4, Duration::from_secs(30)).await;
    assert!(pushed[3].text.contains("/fnapr/7162"), "{}", pushed[3].text);
    bot.stop_cleanly().await;
    assert_eq!(telegram.sent_to(7).len(), 4);
}

/// A small tmpfs mounted for one test (we run as root in CI); unmounted on drop.
struct Tmpfs {
    path: std::path::PathBuf,
}

impl Tmpfs {
    /// `None` (with a message) where mounting is not allowed.
    fn mount(path: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(path).unwrap();
        let mounted = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(path)
            .output();
        match mounted {
            Ok(out) if out.status.success() => Some(Tmpfs {
                path: path.to_path_buf(),
            }),
            Ok(out) => {
                eprintln!(
                    "SKIPPED: cannot mount a tmpfs here ({}); the full-disk test needs root",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("SKIPPED: cannot run mount ({e}); the full-disk test needs root");
                None
            }
        }
    }

    /// Fills what is left of the file system; the filler's path.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write as _;
        let filler = self.path.join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 * 1024];
        while file.write_all(&block).is_ok() {}
        let small = [0u8; 512];
        while file.write_all(&small).is_ok() {}
        let _ = file.write_all(&[0u8]);
        let _ = file.sync_all();
        filler
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.path)
            .status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_ends_in_a_prompt_exit_and_a_restart_carries_on() {
    let mut bot = TestBot::new().files().await;
    let Some(disk) = Tmpfs::mount(&bot.data_dir(), "8m") else {
        return;
    };
    let (telegram, site) = (bot.telegram.clone(), bot.site.clone());
    bot.restart("bot1.log").await;
    telegram.ask(7, "/subscribe").await;
    let filler = disk.fill();
    // Two new releases to record, and a hundred chats subscribing: sled
    // runs out of room within a page or two of its file, and fails.
    site.set_page(crate::support::page_with_extra_item());
    for chat in 100..200 {
        telegram.user_says(chat, "/subscribe");
    }
    let (code, log) = bot.wait_exit().await;
    let lines = log.lines().count();
    eprintln!("exit {code:?}, {lines} log lines:\n{log}");
    assert_ne!(code, Some(0), "a failed disk is not a clean stop:\n{log}");
    assert!(log.contains("the database failed"), "{log}");
    // The finding's 6,062 lines in 20 s were one error, repeated.
    assert!(lines < 40, "{lines} log lines:\n{log}");
    let alert = telegram
        .wait_for(crate::support::ADMIN, 1, Duration::from_secs(5))
        .await;
    assert!(
        alert[0].text.contains("database failed"),
        "{}",
        alert[0].text
    );

    // Room again: a restart delivers what was missed, once.
    std::fs::remove_file(filler).unwrap();
    bot.respawn("bot2.log").await;
    let pushed = telegram.wait_for(7, 3, Duration::from_secs(30)).await;
    assert!(pushed[1..].iter().all(|m| m.text.contains("/fnapr/")));
    telegram.ask(8, "/subscribe").await;
    bot.stop_cleanly().await;
    let store = reopen_store(&bot.data_dir());
    assert!(store.is_subscribed(8).unwrap());
    assert_eq!(telegram.sent_to(7).len(), 3, "each release once");
}
