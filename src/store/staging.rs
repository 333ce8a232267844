//! An import is all or nothing: its store is built aside, in a staging
//! directory, and moved into the data directory only once it is complete and
//! closed. A killed or failed import leaves the data directory as it found it
//! (absent, or empty), and the next import (or the bot) tidies up after it.
//!
//! Where the staging directory goes depends on the data directory:
//! - **Absent**: beside it (`.NAME.import-in-progress` in its parent), and
//!   one `rename(2)` makes it the data directory: the import appears whole or
//!   not at all.
//! - **Present** (and empty, as import requires): inside it
//!   (`.import-in-progress`), since the directory itself may be a mount point
//!   (a Docker volume), which no rename can replace and whose parent may be
//!   another file system, read-only, or not ours to write. Its entries are
//!   moved in one by one; a marker written first (`complete`) says the
//!   import has happened, so whoever finds the marker, the next import or
//!   [`Store::open`](super::Store::open), finishes the move rather than
//!   starting afresh over half of it.
//!
//! While it runs, the import holds an advisory lock (`flock(2)`) on its
//! staging directory: a second import, or a bot starting on the same data
//! directory, is refused as the data directory's own lock refuses it, and a
//! staging directory nobody holds is a dead import's, safe to remove.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::StoreError;
use super::export::{TransferError, io_error};

/// The staging directory's name inside a data directory; beside one, the
/// data directory's name with a dot before and this after.
pub(super) const STAGING: &str = ".import-in-progress";
/// Written into a staging directory inside the data directory once its
/// store is complete and closed: from then on the import has happened.
const COMPLETE: &str = "complete";
/// The longest wait for sled to let go of a store the import has closed (it
/// does when its last background job ends, usually within milliseconds).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(60);

/// A staging directory being filled by this import; removed when dropped
/// before [`Staging::publish`] made it the data directory's content.
pub(super) struct Staging {
    /// The data directory the import is for.
    data_dir: PathBuf,
    /// Where the store is built.
    path: PathBuf,
    /// Inside the data directory (present) rather than beside it (absent).
    inside: bool,
    /// Held while the import runs.
    _lock: Lock,
    /// Set once the import has happened: nothing is removed any more.
    published: bool,
}

impl Staging {
    /// A fresh staging directory for an import into `data_dir`, which is
    /// empty or absent; a dead import's leftover is removed first, and a
    /// running import's refuses this one.
    pub(super) fn begin(data_dir: &Path) -> Result<Staging, TransferError> {
        let inside = data_dir.exists();
        let path = if inside {
            data_dir.join(STAGING)
        } else {
            let name = data_dir.file_name().ok_or_else(|| TransferError::Io {
                what: format!("cannot import into {}", data_dir.display()),
                source: io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "name the data directory itself (data_dir)",
                ),
            })?;
            let parent = match data_dir.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent,
                _ => Path::new("."),
            };
            create_private(parent, true)
                .map_err(|e| io_error(&format!("cannot create {}", parent.display()), e))?;
            let mut sibling = std::ffi::OsString::from(".");
            sibling.push(name);
            sibling.push(STAGING);
            parent.join(sibling)
        };
        if inside {
            settle(data_dir)?;
        } else {
            remove_dead(&path, data_dir)?;
        }
        create_private(&path, false)
            .map_err(|e| io_error(&format!("cannot create {}", path.display()), e))?;
        let lock = match Lock::try_take(&path)
            .map_err(|e| io_error(&format!("cannot lock {}", path.display()), e))?
        {
            Some(lock) => lock,
            None => return Err(StoreError::Locked(data_dir.to_path_buf()).into()),
        };
        Ok(Staging {
            data_dir: data_dir.to_path_buf(),
            path,
            inside,
            _lock: lock,
            published: false,
        })
    }

    /// Where the import builds its store.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Makes the complete, closed store the data directory's content (see
    /// the module doc); from the first durable step on, the import has
    /// happened, whatever becomes of this process.
    pub(super) fn publish(mut self) -> Result<(), TransferError> {
        wait_until_closed(&self.path)?;
        if self.inside {
            let marker = self.path.join(COMPLETE);
            File::create(&marker)
                .and_then(|f| f.sync_all())
                .and_then(|()| sync_dir(&self.path))
                .map_err(|e| io_error(&format!("cannot write {}", marker.display()), e))?;
            self.published = true;
            finish_moving(&self.path, &self.data_dir).map_err(|e| {
                io_error(
                    &format!("cannot move the import into {}", self.data_dir.display()),
                    e,
                )
            })
        } else {
            std::fs::rename(&self.path, &self.data_dir).map_err(|e| {
                io_error(
                    &format!(
                        "cannot move the import into {} (did a bot start on it meanwhile?)",
                        self.data_dir.display()
                    ),
                    e,
                )
            })?;
            self.published = true;
            let parent = self.path.parent().unwrap_or(Path::new("."));
            sync_dir(parent).map_err(|e| io_error(&format!("cannot sync {}", parent.display()), e))
        }
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.published {
            // A failed import: what it built goes, once sled has let go of it.
            let _ = wait_until_closed(&self.path);
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// What an import stopped part-way left inside `data_dir`, dealt with before
/// anything opens it: a complete import is moved in, an unfinished one
/// removed, and one still running refuses the caller as a running bot would.
pub(super) fn settle(data_dir: &Path) -> Result<(), StoreError> {
    let path = data_dir.join(STAGING);
    if !path.is_dir() {
        return Ok(());
    }
    let leftover = |source| StoreError::ImportLeftover {
        path: path.clone(),
        source,
    };
    let Some(_lock) = Lock::try_take(&path).map_err(leftover)? else {
        return Err(StoreError::Locked(data_dir.to_path_buf()));
    };
    if path.join(COMPLETE).exists() {
        tracing::warn!(dir = %data_dir.display(), "finishing an import that was stopped while moving its files in");
        finish_moving(&path, data_dir).map_err(leftover)
    } else {
        tracing::info!(dir = %path.display(), "removing what an interrupted import left");
        std::fs::remove_dir_all(&path).map_err(leftover)
    }
}

/// Removes a staging directory a dead import left at `path`; one whose import
/// still runs refuses this one.
fn remove_dead(path: &Path, data_dir: &Path) -> Result<(), TransferError> {
    if !path.is_dir() {
        return Ok(());
    }
    let cannot = |e| io_error(&format!("cannot remove {}", path.display()), e);
    let Some(_lock) = Lock::try_take(path).map_err(cannot)? else {
        return Err(StoreError::Locked(data_dir.to_path_buf()).into());
    };
    tracing::info!(dir = %path.display(), "removing what an interrupted import left");
    std::fs::remove_dir_all(path).map_err(cannot)
}

/// Moves every entry of the staging directory `from` (the marker aside, and
/// the database last) into `to`, then removes the marker and `from`. Each
/// step can be repeated after a crash: an entry already moved is not there
/// to move again. An entry of the same name already in `to` is an error:
/// something else wrote there, and the import must not mix with it.
fn finish_moving(from: &Path, to: &Path) -> io::Result<()> {
    let mut names: Vec<std::ffi::OsString> = std::fs::read_dir(from)?
        .map(|entry| entry.map(|e| e.file_name()))
        .collect::<io::Result<_>>()?;
    names.retain(|name| name != COMPLETE);
    names.sort_by_key(|name| name == "db");
    for name in names {
        let target = to.join(&name);
        if target.exists() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "{} already exists beside the import's; move one of them away",
                    target.display()
                ),
            ));
        }
        std::fs::rename(from.join(&name), target)?;
    }
    sync_dir(to)?;
    std::fs::remove_file(from.join(COMPLETE))?;
    std::fs::remove_dir(from)?;
    sync_dir(to)
}

/// Creates `dir` readable by its owner only (the store's directories are);
/// `recursive` also creates missing parents, and accepts one that exists.
fn create_private(dir: &Path, recursive: bool) -> io::Result<()> {
    if recursive && dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(recursive);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Makes the entries of `dir` (created, renamed, removed) durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Waits until sled has let go of the store built in `path`: it closes its
/// files when its last background job ends, a moment after the last handle
/// is dropped, and the store must not move while it may still write.
fn wait_until_closed(path: &Path) -> Result<(), TransferError> {
    let database = path.join("db").join("db");
    if !database.exists() {
        return Ok(());
    }
    let cannot = |e| io_error(&format!("cannot close {}", database.display()), e);
    let started = std::time::Instant::now();
    loop {
        if Lock::try_take(&database).map_err(cannot)?.is_some() {
            return Ok(());
        }
        if started.elapsed() > CLOSE_TIMEOUT {
            return Err(cannot(io::Error::new(
                io::ErrorKind::TimedOut,
                "the database stayed open after the import closed it",
            )));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// An exclusive advisory lock on a file or directory, held while alive.
struct Lock {
    _held: File,
}

impl Lock {
    /// The lock on `path`, or `None` when another open file holds it (in
    /// this process or another).
    fn try_take(path: &Path) -> io::Result<Option<Lock>> {
        let file = File::open(path)?;
        #[cfg(unix)]
        {
            use std::os::unix::io::AsRawFd;
            // SAFETY: flock(2) on a descriptor `file` owns and keeps open; it
            // touches no memory of ours.
            let taken = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if taken != 0 {
                let error = io::Error::last_os_error();
                return match error.raw_os_error() {
                    Some(libc::EWOULDBLOCK) => Ok(None),
                    _ => Err(error),
                };
            }
        }
        Ok(Some(Lock { _held: file }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    /// A store with chat 42 subscribed, built in `path` and closed, as an
    /// import leaves its staging directory before publishing it.
    async fn built_in(path: &Path) {
        let store = Store::open(path).unwrap();
        store.subscribe(42, None, chrono::Utc::now()).await.unwrap();
        store.flush().await.unwrap();
        drop(store);
        wait_until_closed(path).unwrap();
    }

    #[tokio::test]
    async fn an_import_killed_while_moving_in_is_finished_by_the_next_open() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let staging = data.join(STAGING);
        built_in(&staging).await;
        // Killed after the marker and the first move.
        File::create(staging.join(COMPLETE)).unwrap();
        std::fs::rename(staging.join("highwater"), data.join("highwater")).unwrap();

        let store = Store::open(&data).unwrap();
        assert!(
            store.subscription(42).unwrap().is_some(),
            "the import's state"
        );
        assert!(!staging.exists());
        let mut names: Vec<String> = std::fs::read_dir(&data)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["db", "fanout.log", "highwater"]);
    }

    #[tokio::test]
    async fn an_unfinished_import_is_removed_and_a_running_one_refuses_the_opener() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let staging = data.join(STAGING);
        built_in(&staging).await;

        // While the import runs (it holds the lock), nobody else comes in.
        let running = Lock::try_take(&staging).unwrap().unwrap();
        assert!(matches!(Store::open(&data), Err(StoreError::Locked(_))));
        assert!(matches!(
            Staging::begin(&data),
            Err(TransferError::Store(StoreError::Locked(_)))
        ));
        assert!(
            staging.join("db").exists(),
            "a running import is left alone"
        );

        // Killed before it was complete: its leftover is not the state.
        drop(running);
        let store = Store::open(&data).unwrap();
        assert!(store.subscription(42).unwrap().is_none());
        assert!(!staging.exists());
    }

    #[tokio::test]
    async fn a_dead_imports_leftover_beside_an_absent_data_directory_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let beside = dir.path().join(format!(".data{STAGING}"));
        built_in(&beside).await;
        let staging = Staging::begin(&data).unwrap();
        assert_eq!(staging.path(), beside);
        assert!(!beside.join("db").exists(), "begun afresh");
        drop(staging);
        assert!(
            !beside.exists() && !data.exists(),
            "a failed import leaves nothing"
        );
    }
}
