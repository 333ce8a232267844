//! The data directory's files are private: they hold chat ids.
//!
//! The directory is made 0700 and every file the store keeps in it 0600,
//! including those an older version left 0644. sled creates files of its own
//! later (snapshots, blobs) with the process's umask: [`restrict_umask`] makes
//! those private too, and the binary calls it before opening the store.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};

/// Mode of the data directory and the directories in it.
#[cfg(unix)]
const DIR_MODE: u32 = 0o700;
/// Mode of every file in the data directory.
#[cfg(unix)]
const FILE_MODE: u32 = 0o600;

/// Files created by this process from now on are readable by their owner
/// only, whoever creates them (sled does, for its snapshots).
pub(crate) fn restrict_umask() {
    #[cfg(unix)]
    // SAFETY: umask(2) only sets the process's file mode mask; it cannot fail.
    unsafe {
        libc::umask(0o077);
    }
}

/// Creates `dir` (and its parents) if needed, and makes it private. A
/// directory this process may write in but not change the mode of (a volume
/// owned by someone else) is used as it is, with a warning.
pub(super) fn private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(DIR_MODE);
    builder.create(dir)?;
    if let Err(e) = tighten(dir, true) {
        tracing::warn!(dir = %dir.display(), error = %e, "cannot make the data directory private (0700)");
    }
    Ok(())
}

/// Opens `path` for appending, creating it private if needed.
pub(super) fn private_append(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    options.mode(FILE_MODE);
    let file = options.open(path)?;
    tighten(path, false)?;
    Ok(file)
}

/// Creates (or truncates) `path` for writing, private (the data directory's
/// files, and exports of it, hold chat ids).
pub(crate) fn private_create(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).write(true).truncate(true);
    #[cfg(unix)]
    options.mode(FILE_MODE);
    let file = options.open(path)?;
    tighten(path, false)?;
    Ok(file)
}

/// Makes the file at `path` private if it exists.
pub(super) fn tighten_file(path: &Path) -> io::Result<()> {
    match tighten(path, false) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Makes everything under `dir` private: directories 0700, files 0600
/// (databases written by versions that did not).
pub(super) fn tighten_tree(dir: &Path) -> io::Result<()> {
    tighten(dir, true)?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            tighten_tree(&entry.path())?;
        } else if kind.is_file() {
            tighten(&entry.path(), false)?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn tighten(path: &Path, is_dir: bool) -> io::Result<()> {
    let mode = if is_dir { DIR_MODE } else { FILE_MODE };
    let current = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if current != mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn tighten(_path: &Path, _is_dir: bool) -> io::Result<()> {
    Ok(())
}
