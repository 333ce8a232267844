//! Durable state in sled — the only module that knows sled.
//!
//! One `impl Store` block per concern, one file each:
//! - [`items`](self::items): releases as read (`items`, and `by_date` for `/latest`), and
//!   recording a read of a source, which also queues new releases in the outbox;
//! - [`subscribers`](self::subscribers): who gets what, and chats that leave;
//! - [`migration`](self::migration): a group that became a supergroup moves,
//!   as the walk in progress (delivery's, asked through [`WalkAhead`]) requires;
//! - [`journal`](self::journal): journal entries, the pushes still owed to a chat;
//! - [`outbox`](self::outbox): outbox entries, the releases being fanned out, with
//!   their cursors: the persistent half of the fan-out walk;
//! - [`window`](self::window): the crash window's writes, reached only through
//!   the [`CrashWindow`] delivery's `FanOut` holds;
//! - [`meta`](self::meta): how each source's reads went, contacts, and counters;
//! - [`channels`](self::channels): which channels each person subscribed;
//! - `settings`: what each chat or topic chose (filters, quiet
//!   hours, digest, language);
//! - [`fanout_log`](self::fanout_log): the file beside sled that records chats a walk reached
//!   beyond its saved cursor;
//! - [`bodies`](self::bodies): releases' own pages as read, their full text;
//! - [`search`](self::search): pages of releases for `/latest` and `/search`, and the
//!   search index in memory. **Every write to `items` (or removal from it) must pass
//!   the ids it touched to `Store::reindex` after its transaction**, or `/search`
//!   goes on showing what it was;
//! - [`queries`](self::queries): recent `/search` queries, by number, for page buttons;
//! - [`retention`](self::retention): how much of each source's history is kept,
//!   and the seen-set that remembers what was pruned;
//! - [`highwater`](self::highwater): the file beside sled that tells a database which
//!   lost recent writes from a sound one;
//! - [`export`](self::export): the whole state as JSON Lines and back, a way out of sled;
//!   [`staging`](self::staging): an import built aside and moved in only once whole;
//! - [`fault`](self::fault): noticing sled's sticky I/O errors;
//! - [`revisions`](self::revisions): what a revised release said before;
//! - [`sent`](self::sent): the ids of the messages sent for recent releases,
//!   which edits name.
//!
//! Trees (keys big-endian so iteration order means something):
//! - `items`: item id → [`StoredItem`] (JSON);
//! - `by_date`: (site date, sequence) → item id;
//! - `subscribers`: chat id → [`Subscription`] (JSON);
//! - `outbox`: outbox key → [`OutboxEntry`], written in the same transaction that
//!   records the release, so it cannot be lost between the two;
//! - `deliveries` ([`JOURNAL_TREE`]): (chat id, item sequence[, topic]) → item id
//!   [, 0, journaled at], the journal (the tree keeps the name it was first
//!   written under). Keyed by chat first, so a chat's entries are contiguous and
//!   oldest first; an entry for a forum topic has the topic's thread id after
//!   the sequence (20 bytes instead of 16), so it sorts right after the chat's
//!   own entry for the same release. The value is the item id, then (entries
//!   written since settings existed) a zero byte and the Unix second it was
//!   journaled, 8 bytes big-endian;
//! - `meta`: per-source read state, the sequence counter, contacts, counters;
//! - `channels`: (user id, channel id) → [`ChannelNote`]: the channels a person
//!   subscribed from a private chat (their subscriptions are in `subscribers`);
//! - `queries`: number → (chat, `/search` query), the newest [`MAX_SAVED_QUERIES`];
//! - `by_source`, `seen`: which releases each source keeps, and hashes of the
//!   ids of those pruned, a chunk a pruning ([`retention`](self::retention)).
//! - `bodies`: item id → [`PageRecord`] (JSON): a release's own page as read,
//!   its full text ([`bodies`](self::bodies)); `body_seqs`: sequence → item
//!   id of those with a body, for the "Full text" button;
//! - `settings`: chat id [, topic thread id] → [`TargetSettings`](crate::settings::TargetSettings)
//!   (JSON); 8 bytes for a chat itself, 12 for one of its forum topics, so a
//!   chat's record sorts just before its topics'.
//! - `revisions`: item sequence → earlier texts ([`revisions`](self::revisions));
//! - `sent`, `sent_releases`, `sent_digests`: messages sent for recent
//!   releases ([`sent`](self::sent)). A journal entry for an *edit* has a
//!   21-byte key: the 16 of a push, the topic's thread id (zeros for the
//!   chat itself), then 0 (the chat) or 1 (a topic).
//!
//! Durability: every call that changes what a user was told or what is owed
//! waits for a flush before it returns, except where the caller owns the crash
//! window ([`crate::delivery`], see `docs/architecture.md#crash-repeats`): journal removals
//! and outbox cursors may run a little ahead of the last flush. Those writes
//! are not [`Store`] methods: they belong to [`CrashWindow`], which only the
//! window's owner holds. Flushes are
//! grouped ([`Store::commit`]): whoever arrives while one is running shares the
//! next, so fifty concurrent completions cost one fsync.
//!
//! Nothing is flushed on a timer (sled's background flush is off): an idle
//! bot writes nothing. Writes whose loss costs nothing (a source read that
//! found nothing new, the last failure, a poller's alert state, a saved
//! `/search` query) are not flushed by their callers; they become durable
//! with the next flush anyone makes, or at a clean stop.

mod bodies;
mod body_index;
mod channels;
mod export;
mod fanout_log;
mod fault;
mod files;
mod highwater;
mod import;
mod items;
mod journal;
mod meta;
mod migration;
mod outbox;
mod queries;
mod repair;
mod retention;
mod revisions;
mod search;
mod sent;
mod settings;
mod staging;
mod subscribers;
mod window;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use crate::config::StoreConfig;

pub(crate) use bodies::{PageRecord, listing_hash, wants_read};
pub(crate) use channels::ChannelNote;
pub use channels::MAX_CHANNELS_PER_USER;
pub use export::TransferError;
pub(crate) use fanout_log::FanOutLog;
pub(crate) use files::{private_create, restrict_umask};
pub(crate) use highwater::Rollback;
pub(crate) use items::StoredItem;
pub use items::{PollOutcome, PollPolicy};
pub use journal::JournalEntry;
pub(crate) use journal::{Ended, JournalStats};
pub(crate) use migration::WalkAhead;
pub(crate) use outbox::OutboxEntry;
pub use queries::{MAX_SAVED_QUERIES, MAX_SAVED_QUERIES_PER_CHAT};
pub(crate) use retention::Pruned;
pub use retention::Retained;
pub use revisions::Revision;
pub(crate) use search::SearchResults;
pub use search::{ReleasePage, SearchIndex};
pub(crate) use sent::{DigestNote, SentMessage};
pub(crate) use subscribers::Subscription;
pub use subscribers::{MAX_TOPICS, Removal, Target};
pub(crate) use window::CrashWindow;

/// The journal's sled tree, under the name it was first written with (before
/// the glossary called its entries journal entries). A tree's name is part of
/// the data format: renamed, every existing database would open with an
/// empty journal and its owed pushes lost; so the code says journal and the
/// disk keeps saying deliveries. Errors name the tree as it is on disk.
const JOURNAL_TREE: &str = "deliveries";

/// Why the store cannot do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process has the data directory open.
    #[error(
        "the data directory {0} is in use by another embassy-bot process; stop it first or use another `data_dir`"
    )]
    Locked(PathBuf),
    #[error("cannot create the data directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Sled(#[from] sled::Error),
    #[error("cannot use the fan-out log {path}: {source}")]
    Log {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("corrupt record in tree `{tree}`: {detail}")]
    Corrupt { tree: &'static str, detail: String },
    /// sled met an I/O error earlier; it will not write again until the
    /// database is opened again (see `fault`).
    #[error(
        "the database failed ({0}) and cannot be written until embassy-bot restarts; free space or fix the disk"
    )]
    Failed(Arc<str>),
    #[error("cannot write the high-water mark {path}: {source}")]
    HighWater {
        path: PathBuf,
        source: std::io::Error,
    },
    /// An import stopped part-way left its staging directory in the data
    /// directory, and it can be neither finished nor removed.
    #[error(
        "cannot finish or remove what an interrupted import left in {path}: {source}; remove it and import again"
    )]
    ImportLeftover {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl From<TransactionError<StoreError>> for StoreError {
    fn from(e: TransactionError<StoreError>) -> Self {
        match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => StoreError::Sled(e),
        }
    }
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    /// sled's configuration, which keeps the first error of its background writes.
    config: sled::Config,
    fault: Arc<fault::Fault>,
    items: sled::Tree,
    by_date: sled::Tree,
    subscribers: sled::Tree,
    outbox: sled::Tree,
    /// The journal ([`JOURNAL_TREE`] on disk).
    journal: sled::Tree,
    meta: sled::Tree,
    /// Who subscribed which channel ([`channels`](self::channels)).
    channels: sled::Tree,
    by_source: sled::Tree,
    seen: sled::Tree,
    /// Recent `/search` queries ([`queries`](self::queries)).
    queries: sled::Tree,
    /// How many `queries` holds; its lock orders the writers.
    saved_queries: Arc<std::sync::Mutex<queries::SavedQueries>>,
    /// The seen-set in memory, where reads look it up.
    seen_set: Arc<retention::SeenSet>,
    /// What each target chose ([`settings`](self::settings)).
    settings: sled::Tree,
    /// Earlier texts of revised releases ([`revisions`](self::revisions)).
    revisions: sled::Tree,
    /// Messages sent for recent releases ([`sent`](self::sent)).
    sent: sled::Tree,
    sent_releases: sled::Tree,
    sent_digests: sled::Tree,
    commits: Arc<GroupCommit>,
    fan_out_log: FanOutLog,
    high_water: Arc<highwater::HighWater>,
    /// Set when the database opened behind its high-water mark.
    rollback: Option<Rollback>,
    /// Counts subscription changes that can end a chat's wish for a release,
    /// so a page of chats read earlier knows when to look again. In memory:
    /// no listing outlives the process.
    subscription_changes: Arc<AtomicU64>,
    /// Every release's words for `/search`, built at the first search.
    search: Arc<search::SharedIndex>,
    /// Told of every write to releases (with [`Store::releases_written`]),
    /// so a background task waits for one instead of looking on a timer.
    release_changes: Arc<tokio::sync::watch::Sender<()>>,
    /// Releases' own pages as read ([`bodies`](self::bodies)).
    bodies: sled::Tree,
    /// A read body's release by sequence number: seq → item id.
    body_seqs: sled::Tree,
}

/// Hands the log buffers this thread retired to the collector, so they are
/// freed soon rather than when this thread next touches sled.
///
/// sled does not free a written 512 KiB log buffer: it defers the drop to
/// crossbeam's epoch collector, in a bag local to the thread that retired it,
/// and that bag reaches the collector only when the thread pins again. Every
/// flush retires a buffer on one of tokio's blocking threads, which may then
/// idle or never run sled again; under a site rotating its ids the buffers
/// parked this way were half the process's peak (99 MiB with them, 50 without;
/// see BENCHMARKS.md, "Hostile reads").
fn reclaim_retired_buffers() {
    crossbeam_epoch::pin().flush();
}

/// sled's cache capacity for `options`, in bytes: the configuration counts in
/// MiB, which operators read off `ps` and dashboards.
fn cache_bytes(options: &StoreConfig) -> u64 {
    options.cache_mb.saturating_mul(1024 * 1024)
}

/// Coalesces flushes: `written` counts writes that want to be durable,
/// `durable` how many are known to be; `flushing` lets one flush run at a time.
#[derive(Default)]
struct GroupCommit {
    written: AtomicU64,
    durable: AtomicU64,
    flushing: std::sync::Mutex<()>,
    /// Flushes made, for tests that an idle bot makes none.
    #[cfg(test)]
    flushes: AtomicU64,
}

impl Store {
    /// Opens (creating if needed) the database under `dir`. A second process on
    /// the same directory gets [`StoreError::Locked`].
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Store::open_with(dir, &StoreConfig::default())
    }

    /// Like [`Store::open`], with the memory the configuration allows
    /// (`[store]`): the bot and its tools open the store this way.
    pub fn open_with(dir: &Path, options: &StoreConfig) -> Result<Store, StoreError> {
        // An import killed while moving its files in is finished first.
        staging::settle(dir)?;
        let sled_dir = dir.join("db");
        for private in [dir, &sled_dir] {
            files::private_dir(private).map_err(|source| StoreError::CreateDir {
                path: private.to_path_buf(),
                source,
            })?;
        }
        let config = sled::Config::new()
            .path(&sled_dir)
            // sled's default cache is 1 GiB; our working set is small, and
            // a site that rotates its ids must not grow us past our target.
            .cache_capacity(cache_bytes(options))
            // No background flush: it woke twice a second and fsynced even
            // with nothing written. Every write that matters is flushed by
            // its caller (see "Durability" above), and the rest rides along.
            .flush_every_ms(None);
        let db = config.open().map_err(|e| match e {
            sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
                StoreError::Locked(dir.to_path_buf())
            }
            other => StoreError::Sled(other),
        })?;
        // After sled's lock, which keeps a second process out of the directory:
        // files an older version created world-readable become private.
        if let Err(e) = files::tighten_tree(&sled_dir) {
            tracing::warn!(dir = %sled_dir.display(), error = %e, "cannot make the database files private (0600)");
        }
        let fan_out_log = FanOutLog::open(&dir.join("fanout.log"))?;
        let (high_water, mark) = highwater::HighWater::open(&dir.join("highwater"));
        let queries = db.open_tree("queries")?;
        // At most a few thousand short records: read once here.
        let saved_queries = queries::SavedQueries::load(&queries)?;
        let mut store = Store {
            items: db.open_tree("items")?,
            by_date: db.open_tree("by_date")?,
            subscribers: db.open_tree("subscribers")?,
            outbox: db.open_tree("outbox")?,
            journal: db.open_tree(JOURNAL_TREE)?,
            meta: db.open_tree("meta")?,
            channels: db.open_tree("channels")?,
            by_source: db.open_tree("by_source")?,
            seen: db.open_tree("seen")?,
            settings: db.open_tree("settings")?,
            revisions: db.open_tree("revisions")?,
            sent: db.open_tree("sent")?,
            sent_releases: db.open_tree("sent_releases")?,
            sent_digests: db.open_tree("sent_digests")?,
            bodies: db.open_tree("bodies")?,
            body_seqs: db.open_tree("body_seqs")?,
            queries,
            saved_queries: Arc::new(std::sync::Mutex::new(saved_queries)),
            db,
            config,
            fault: Arc::default(),
            seen_set: Arc::default(),
            commits: Arc::default(),
            fan_out_log,
            high_water: Arc::new(high_water),
            rollback: None,
            subscription_changes: Arc::default(),
            search: Arc::default(),
            release_changes: Arc::new(tokio::sync::watch::Sender::new(())),
        };
        store.index_for_retention()?;
        store.load_seen_set()?;
        store.rollback = store.check_high_water(mark)?;
        Ok(store)
    }

    /// Makes every write so far durable.
    pub async fn flush(&self) -> Result<(), StoreError> {
        // Counted like a write of its own: a flush that starts after this covers
        // every write made before it.
        let ticket = self.commits.written.fetch_add(1, Ordering::SeqCst) + 1;
        self.flush_through(ticket).await
    }

    /// The last step of a clean stop, once every writer has finished: makes
    /// the database and the fan-out log durable.
    /// After a storage fault it syncs what it can and returns
    /// [`StoreError::Failed`].
    pub async fn close(&self) -> Result<(), StoreError> {
        let synced = self.fan_out_log.sync();
        if let Some(fault) = self.fault() {
            return Err(StoreError::Failed(fault));
        }
        synced?;
        self.flush().await
    }

    /// Makes the caller's writes durable, sharing the fsync with every caller
    /// that wrote before it started: the group commit behind per-message completions.
    pub async fn commit(&self) -> Result<(), StoreError> {
        self.commit_within(0).await
    }

    /// Like [`Store::commit`], but returns at once while at most `max_unflushed`
    /// writes (the caller's included) are not yet durable; a later commit
    /// covers them. Only the crash window's owner may leave writes waiting
    /// (see [`CrashWindow::commit_within`]).
    pub(super) async fn commit_within(&self, max_unflushed: u64) -> Result<(), StoreError> {
        // Counted after the caller's write, so a flush that starts after this
        // increment covers it.
        let mine = self.commits.written.fetch_add(1, Ordering::SeqCst) + 1;
        if mine.saturating_sub(self.commits.durable.load(Ordering::SeqCst)) <= max_unflushed {
            return Ok(());
        }
        self.flush_through(mine).await
    }

    /// Returns once the counted write `ticket` is durable.
    ///
    /// One flush runs at a time, on a blocking thread of its own, and whoever
    /// finds that a flush which started after their write has finished is
    /// done without another. Two reasons for the thread: progress never
    /// depends on the caller's task being polled (delivery awaits a flush
    /// while sends it holds are not polled, and they may wait for one too),
    /// and sled's own thread pool stays free: many concurrent
    /// `flush_async` calls filled it with flushes waiting for I/O buffers that
    /// only that pool could write, and every write stopped (a storm of 429s
    /// journaling pushes at once did exactly that).
    async fn flush_through(&self, ticket: u64) -> Result<(), StoreError> {
        if self.commits.durable.load(Ordering::SeqCst) >= ticket {
            return Ok(());
        }
        if let Some(fault) = self.fault() {
            return Err(StoreError::Failed(fault));
        }
        let db = self.db.clone();
        let commits = self.commits.clone();
        let flushed = tokio::task::spawn_blocking(move || {
            let _one_at_a_time = commits.flushing.lock().unwrap_or_else(|p| p.into_inner());
            if commits.durable.load(Ordering::SeqCst) >= ticket {
                return Ok(()); // a flush that started after our write has finished
            }
            let upto = commits.written.load(Ordering::SeqCst);
            db.flush()?;
            reclaim_retired_buffers();
            #[cfg(test)]
            commits.flushes.fetch_add(1, Ordering::SeqCst);
            commits.durable.fetch_max(upto, Ordering::SeqCst);
            Ok::<_, sled::Error>(())
        })
        .await;
        match flushed {
            Ok(result) => self.note_flush(result),
            Err(join) => Err(StoreError::Sled(sled::Error::ReportableBug(format!(
                "the flush thread ended abnormally: {join}"
            )))),
        }
    }

    /// How many times the database has been flushed since it was opened.
    #[cfg(test)]
    pub(crate) fn flushes(&self) -> u64 {
        self.commits.flushes.load(Ordering::SeqCst)
    }

    /// How many counted writes are not yet known to be durable.
    pub(super) fn unflushed(&self) -> u64 {
        self.commits
            .written
            .load(Ordering::SeqCst)
            .saturating_sub(self.commits.durable.load(Ordering::SeqCst))
    }
}

// ---- keys and records shared by the concerns ------------------------------------------

/// Chat ids are signed (groups are negative); flip the sign bit so byte order is numeric order.
fn chat_key(chat: i64) -> [u8; 8] {
    ((chat as u64) ^ (1 << 63)).to_be_bytes()
}

fn chat_from_key(bytes: &[u8]) -> Option<i64> {
    let arr: [u8; 8] = bytes.try_into().ok()?;
    Some((u64::from_be_bytes(arr) ^ (1 << 63)) as i64)
}

/// A journal entry's key: the chat, then the item's sequence number.
fn journal_key(chat: i64, seq: u64) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&chat_key(chat));
    key[8..].copy_from_slice(&seq.to_be_bytes());
    key
}

/// A journal entry's key, for the chat itself (16 bytes, the first format) or
/// for one of its forum topics (20 bytes: the thread id follows).
struct EntryKey {
    bytes: [u8; 21],
    len: usize,
}

impl AsRef<[u8]> for EntryKey {
    fn as_ref(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// An edit's journal entry key (21 bytes, see the module's note).
fn edit_journal_key(chat: i64, thread: Option<i32>, seq: u64) -> EntryKey {
    let mut bytes = [0u8; 21];
    bytes[..16].copy_from_slice(&journal_key(chat, seq));
    if let Some(t) = thread {
        bytes[16..20].copy_from_slice(&thread_key(t));
        bytes[20] = 1;
    }
    EntryKey { bytes, len: 21 }
}

fn target_journal_key(chat: i64, thread: Option<i32>, seq: u64) -> EntryKey {
    let mut bytes = [0u8; 21];
    bytes[..16].copy_from_slice(&journal_key(chat, seq));
    let len = match thread {
        None => 16,
        Some(t) => {
            bytes[16..20].copy_from_slice(&thread_key(t));
            20
        }
    };
    EntryKey { bytes, len }
}

fn entry_key(entry: &JournalEntry) -> EntryKey {
    if entry.edit {
        return edit_journal_key(entry.chat, entry.thread, entry.seq);
    }
    target_journal_key(entry.chat, entry.thread, entry.seq)
}

/// Thread ids are signed like chat ids: the same flip keeps byte order numeric.
fn thread_key(thread: i32) -> [u8; 4] {
    ((thread as u32) ^ (1 << 31)).to_be_bytes()
}

fn thread_from_key(bytes: &[u8]) -> Option<i32> {
    let arr: [u8; 4] = bytes.try_into().ok()?;
    Some((u32::from_be_bytes(arr) ^ (1 << 31)) as i32)
}

/// The key an outbox entry is stored under, as a number.
fn outbox_key_from(key: &[u8]) -> Result<u64, StoreError> {
    <[u8; 8]>::try_from(key)
        .map(u64::from_be_bytes)
        .map_err(|_| corrupt("outbox", "key is not 8 bytes"))
}

fn date_key(date: NaiveDate, seq: u64) -> [u8; 12] {
    let days = (date.num_days_from_ce() as i64 + i32::MAX as i64) as u32;
    let mut key = [0u8; 12];
    key[..4].copy_from_slice(&days.to_be_bytes());
    key[4..].copy_from_slice(&seq.to_be_bytes());
    key
}

fn timestamp_from(bytes: &[u8]) -> Option<DateTime<Utc>> {
    let secs = i64::from_be_bytes(bytes.try_into().ok()?);
    DateTime::from_timestamp(secs, 0)
}

fn corrupt(tree: &'static str, detail: impl ToString) -> StoreError {
    StoreError::Corrupt {
        tree,
        detail: detail.to_string(),
    }
}

/// Aborts a transaction with a corrupt-record error.
fn abort(tree: &'static str, detail: impl ToString) -> ConflictableTransactionError<StoreError> {
    ConflictableTransactionError::Abort(corrupt(tree, detail))
}

fn encode<T: Serialize>(tree: &'static str, value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| corrupt(tree, e))
}

fn read_u64(tree: &'static str, bytes: Option<sled::IVec>) -> Result<u64, StoreError> {
    match bytes {
        None => Ok(0),
        Some(v) => Ok(u64::from_be_bytes(
            v.as_ref()
                .try_into()
                .map_err(|_| corrupt(tree, "counter is not 8 bytes"))?,
        )),
    }
}

/// Adds `by` to a counter in `meta`, inside a transaction.
fn bump(
    meta: &sled::transaction::TransactionalTree,
    key: &[u8],
    by: u64,
) -> Result<(), ConflictableTransactionError<StoreError>> {
    if by == 0 {
        return Ok(());
    }
    let current = read_u64("meta", meta.get(key)?).map_err(ConflictableTransactionError::Abort)?;
    meta.insert(key, &(current + by).to_be_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sled_flushes_only_when_asked() {
        // A timed background flush would wake an idle bot and write to disk
        // twice a second: durability comes from the callers' flushes.
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.config.flush_every_ms, None);
    }

    #[test]
    fn the_configured_cache_reaches_sled() {
        // The cache is what bounds the store's memory under a site's churn:
        // the operator's `store.cache_mb` must be what sled is given.
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_with(dir.path(), &StoreConfig { cache_mb: 5 }).unwrap();
        assert_eq!(store.config.cache_capacity, 5 * 1024 * 1024);
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(
            store.config.cache_capacity,
            StoreConfig::default().cache_mb * 1024 * 1024
        );
    }
}
