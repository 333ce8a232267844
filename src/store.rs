//! Durable state in sled — the only module that knows sled.
//!
//! Trees (keys big-endian so iteration order means something):
//! - `items`: item id → [`StoredItem`] (JSON);
//! - `by_date`: (site date, sequence) → item id, the order of `/latest`;
//! - `subscribers`: chat id → [`Subscription`] (JSON);
//! - `outbox`: item sequence → [`OutboxEntry`]: a new item still being fanned out,
//!   with a cursor over the subscribers. It is written in the same transaction
//!   that records the item, so an announcement cannot be lost between the two;
//! - `deliveries`: (chat id, item sequence) → item id, the journal of pushes
//!   that could not go out when the release was fanned out (the chat was owed
//!   older pushes, waiting out a failure, or its send failed). Keyed by chat
//!   first, so a chat's pushes are contiguous and oldest first;
//! - `meta`: which sources have been read (and when last), how many items each
//!   source's last good read showed (0 once an emptied page was reported), the
//!   sequence counter, contacts, source errors, and counters operators see in `/status`.
//!
//! Beside sled, `fanout.log` records which chats the release being fanned out
//! has reached beyond the saved cursor (module `fanout`): a release goes straight
//! down the subscriber list a page at a time, so 100,000 subscribers need
//! neither one giant transaction, nor a list in memory, nor a write per chat.
//!
//! Durability: every call that changes what a user was told or what is owed
//! waits for a flush before it returns, with two bounded exceptions that only
//! let a crash repeat a few pushes: journal completions may run a few writes
//! ahead of the last flush ([`Store::commit_within`]), and a fan-out records
//! its progress in the log a few chats at a time, saving its cursor unflushed.
//! Flushes are grouped ([`Store::commit`]): whoever arrives while one is
//! running shares the next, so fifty concurrent completions cost one fsync.

use std::collections::BTreeSet;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use crate::source::{Contacts, Item};

mod fanout;
pub use fanout::{FanOutPage, FanOutStep, Release};

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
}

impl From<TransactionError<StoreError>> for StoreError {
    fn from(e: TransactionError<StoreError>) -> Self {
        match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => StoreError::Sled(e),
        }
    }
}

/// An item plus what the store knows about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredItem {
    #[serde(flatten)]
    pub item: Item,
    /// The source that first reported it.
    pub source: String,
    /// Other sources that listed it later (the home page and the press archive
    /// show the same releases); chats that follow only one of them get it too.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub also_on: BTreeSet<String>,
    /// When we first saw it (Unix seconds); orders undated items.
    pub first_seen: i64,
    /// Increasing in discovery order (oldest first within one poll).
    pub seq: u64,
}

impl StoredItem {
    /// Every source that has listed this item.
    pub fn sources(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.source.as_str()).chain(self.also_on.iter().map(String::as_str))
    }

    /// Whether `source` has listed this item.
    pub fn listed_on(&self, source: &str) -> bool {
        self.sources().any(|s| s == source)
    }

    /// The date `/latest` sorts by: the site's date, or the day we first saw it.
    pub fn sort_date(&self) -> NaiveDate {
        self.item.date.unwrap_or_else(|| {
            DateTime::from_timestamp(self.first_seen, 0).map_or(NaiveDate::MIN, |t| t.date_naive())
        })
    }
}

/// What a chat asked for: every source, or only some.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// When the chat first subscribed (Unix seconds).
    pub since: i64,
    /// `None`: every source, including ones added to the config later.
    pub sources: Option<BTreeSet<String>>,
}

impl Subscription {
    /// Whether items of `source` go to this chat.
    pub fn wants(&self, source: &str) -> bool {
        self.sources.as_ref().is_none_or(|s| s.contains(source))
    }
}

/// A new item whose announcement is still being fanned out to the subscribers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub item_id: String,
    /// The source whose subscribers are told.
    pub source: String,
    /// Every subscriber up to this one is done (sent, journaled, or no longer
    /// wanting it); `None` before the first. Saved now and then, not per chat.
    pub after_chat: Option<i64>,
    /// The item's sequence number when it differs from the entry's key: a known
    /// item that a further source lists is announced again, to that source's
    /// followers only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_seq: Option<u64>,
    /// Sources that announced the item before: their followers have it already.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub already_told: Vec<String>,
}

impl OutboxEntry {
    /// The item's sequence number (the journal key's second half): its own
    /// field for a repeat announcement, else the outbox key it is stored under.
    fn seq_under(&self, key: &[u8]) -> Result<u64, StoreError> {
        match self.item_seq {
            Some(seq) => Ok(seq),
            None => outbox_seq(key),
        }
    }

    /// Whether a chat with `subscription` should get this announcement.
    fn reaches(&self, subscription: &Subscription) -> bool {
        subscription.wants(&self.source) && !self.already_told.iter().any(|s| subscription.wants(s))
    }
}

/// What recording one poll changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollOutcome {
    /// Items never seen before, oldest first.
    pub new_items: Vec<StoredItem>,
    /// True when this was the source's first successful poll: nothing is announced.
    pub first_poll: bool,
    /// How many of the new items were queued for announcement.
    pub queued: usize,
    /// True when more new items came at once than [`PollPolicy::max_new`]: all were
    /// recorded and none announced (a layout or URL change, not news).
    pub flood: bool,
    /// New items recorded but not announced because they are dated before
    /// [`PollPolicy::oldest_date`] (an old release that surfaced on the page).
    pub too_old: usize,
}

/// The flood guard one poll is recorded under, decided inside the same
/// transaction that records the items, so what is announced always matches
/// what the store knew at that instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollPolicy {
    /// More new items than this in one poll: none is announced.
    pub max_new: usize,
    /// New items dated before this day are recorded but not announced; undated
    /// items always count as fresh (their age cannot be told).
    pub oldest_date: Option<NaiveDate>,
}

impl PollPolicy {
    /// A source's guard on `today`: at most `max_new` new items a poll, none
    /// dated more than `max_age_days` before it.
    pub fn new(max_new: usize, max_age_days: u32, today: NaiveDate) -> PollPolicy {
        PollPolicy {
            max_new,
            oldest_date: today.checked_sub_days(chrono::Days::new(u64::from(max_age_days))),
        }
    }

    /// No guard at all: every new item is announced (tests and tools).
    pub fn unguarded() -> PollPolicy {
        PollPolicy {
            max_new: usize::MAX,
            oldest_date: None,
        }
    }

    /// Whether `new` new items in one poll are too many to be news.
    pub fn is_flood(&self, new: usize) -> bool {
        new > self.max_new
    }

    /// Whether `item` is recent enough to be announced.
    pub fn is_fresh(&self, item: &Item) -> bool {
        match (item.date, self.oldest_date) {
            (Some(date), Some(oldest)) => date >= oldest,
            _ => true,
        }
    }
}

/// One journaled push: send item `item_id` to `chat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingDelivery {
    pub seq: u64,
    pub chat: i64,
    pub item_id: String,
}

/// Why a chat's subscription ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// The user asked (`/unsubscribe`).
    ByUser,
    /// Telegram said the chat can never receive messages again.
    ChatGone,
}

/// Counters operators see in `/status`; they survive restarts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryStats {
    /// Chats unsubscribed because Telegram said they are gone (blocked, kicked, deleted).
    pub chats_removed: u64,
    /// Pushes dropped with those chats.
    pub deliveries_dropped: u64,
    /// Pushes given up on because Telegram refused them for good.
    pub given_up: u64,
    /// Groups moved to their new supergroup id.
    pub chats_migrated: u64,
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    items: sled::Tree,
    by_date: sled::Tree,
    subscribers: sled::Tree,
    outbox: sled::Tree,
    deliveries: sled::Tree,
    meta: sled::Tree,
    commits: Arc<GroupCommit>,
    /// Where the fan-out of the oldest outbox release stands (module `fanout`).
    walk: Arc<Mutex<fanout::Walk>>,
    fan_out_log: Arc<std::fs::File>,
    fan_out_log_path: Arc<Path>,
    /// Counts subscription changes that can end a chat's wish for a release,
    /// so a page of chats read earlier knows when to look again.
    epoch: Arc<AtomicU64>,
}

/// Coalesces flushes: `written` counts writes that want to be durable,
/// `durable` how many are known to be; `flushing` lets one flush run at a time.
#[derive(Default)]
struct GroupCommit {
    written: AtomicU64,
    durable: AtomicU64,
    flushing: tokio::sync::Mutex<()>,
}

const NEXT_SEQ: &[u8] = b"next_seq";
const CONTACTS: &[u8] = b"contacts";
const STAT_CHATS_REMOVED: &[u8] = b"stat:chats_removed";
const STAT_DELIVERIES_DROPPED: &[u8] = b"stat:deliveries_dropped";
const STAT_GIVEN_UP: &[u8] = b"stat:given_up";
const STAT_CHATS_MIGRATED: &[u8] = b"stat:chats_migrated";

/// Present once a source has been read successfully; holds the last success time.
fn primed_key(source: &str) -> Vec<u8> {
    format!("primed:{source}").into_bytes()
}

/// How many items the source's last good read showed (to tell an emptied page from a quiet one).
fn item_count_key(source: &str) -> Vec<u8> {
    format!("item_count:{source}").into_bytes()
}

fn source_state_key(source: &str) -> Vec<u8> {
    format!("state:{source}").into_bytes()
}

fn last_error_key(source: &str) -> Vec<u8> {
    format!("last_error:{source}").into_bytes()
}

fn timestamp_from(bytes: &[u8]) -> Option<DateTime<Utc>> {
    let secs = i64::from_be_bytes(bytes.try_into().ok()?);
    DateTime::from_timestamp(secs, 0)
}

/// Chat ids are signed (groups are negative); flip the sign bit so byte order is numeric order.
fn chat_key(chat: i64) -> [u8; 8] {
    ((chat as u64) ^ (1 << 63)).to_be_bytes()
}

fn chat_from_key(bytes: &[u8]) -> Option<i64> {
    let arr: [u8; 8] = bytes.try_into().ok()?;
    Some((u64::from_be_bytes(arr) ^ (1 << 63)) as i64)
}

fn delivery_key(chat: i64, seq: u64) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&chat_key(chat));
    key[8..].copy_from_slice(&seq.to_be_bytes());
    key
}

/// The sequence number an outbox entry is stored under.
fn outbox_seq(key: &[u8]) -> Result<u64, StoreError> {
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

/// Reads a subscriber record; a bare 8-byte timestamp is the first format (all sources).
fn decode_subscription(bytes: &[u8]) -> Result<Subscription, StoreError> {
    if let Ok(raw) = <[u8; 8]>::try_from(bytes) {
        return Ok(Subscription {
            since: i64::from_be_bytes(raw),
            sources: None,
        });
    }
    serde_json::from_slice(bytes).map_err(|e| corrupt("subscribers", e))
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

impl Store {
    /// Opens (creating if needed) the database under `dir`. A second process on
    /// the same directory gets [`StoreError::Locked`].
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
        let db = sled::Config::new()
            .path(dir.join("db"))
            // sled's default cache is 1 GiB; our working set is small.
            .cache_capacity(16 * 1024 * 1024)
            .flush_every_ms(Some(500))
            .open()
            .map_err(|e| match e {
                sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
                    StoreError::Locked(dir.to_path_buf())
                }
                other => StoreError::Sled(other),
            })?;
        // Opened after sled, whose lock keeps a second process out of the directory.
        let fan_out_log_path: Arc<Path> = dir.join("fanout.log").into();
        let fan_out_log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&fan_out_log_path)
            .map_err(|source| StoreError::Log {
                path: fan_out_log_path.to_path_buf(),
                source,
            })?;
        let store = Store {
            items: db.open_tree("items")?,
            by_date: db.open_tree("by_date")?,
            subscribers: db.open_tree("subscribers")?,
            outbox: db.open_tree("outbox")?,
            deliveries: db.open_tree("deliveries")?,
            meta: db.open_tree("meta")?,
            db,
            commits: Arc::default(),
            walk: Arc::default(),
            fan_out_log: Arc::new(fan_out_log),
            fan_out_log_path,
            epoch: Arc::default(),
        };
        store.align_log()?;
        Ok(store)
    }

    /// Makes every write so far durable.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.db.flush_async().await?;
        Ok(())
    }

    /// Makes the caller's writes durable, sharing the fsync with every caller
    /// that wrote before it started: the group commit behind per-message completions.
    pub async fn commit(&self) -> Result<(), StoreError> {
        self.commit_within(0).await
    }

    /// Like [`Store::commit`], but returns at once while at most `max_unflushed`
    /// writes (the caller's included) are not yet durable; a later commit, or
    /// sled's own flush within half a second, covers them. Bounds what a crash
    /// can undo without paying an fsync per write.
    async fn commit_within(&self, max_unflushed: u64) -> Result<(), StoreError> {
        // Counted after the caller's write, so a flush that starts after this
        // increment covers it.
        let mine = self.commits.written.fetch_add(1, Ordering::SeqCst) + 1;
        if mine.saturating_sub(self.commits.durable.load(Ordering::SeqCst)) <= max_unflushed {
            return Ok(());
        }
        let _flushing = self.commits.flushing.lock().await;
        if self.commits.durable.load(Ordering::SeqCst) >= mine {
            return Ok(()); // a flush that started after our write has finished
        }
        let upto = self.commits.written.load(Ordering::SeqCst);
        self.db.flush_async().await?;
        self.commits.durable.store(upto, Ordering::SeqCst);
        Ok(())
    }

    /// How many counted writes are not yet known to be durable.
    pub fn unflushed(&self) -> u64 {
        self.commits
            .written
            .load(Ordering::SeqCst)
            .saturating_sub(self.commits.durable.load(Ordering::SeqCst))
    }

    /// Records one successful read of `source`: new items are stored and, unless
    /// this is the source's first poll or `policy` holds them back (a flood of
    /// new items, or old ones), queued in the outbox for announcement — all in
    /// one transaction. Known items are updated in place (edited titles) and
    /// never announced again. `items` is in page order (newest first); new items
    /// get sequence numbers oldest first. The read's item count is remembered
    /// ([`Store::item_count_of`]).
    pub async fn record_poll(
        &self,
        source: &str,
        items: &[Item],
        policy: &PollPolicy,
        now: DateTime<Utc>,
    ) -> Result<PollOutcome, StoreError> {
        // Oldest first: reverse page order, then by date (undated ones count as newest).
        let mut ordered: Vec<&Item> = items.iter().rev().collect();
        ordered.sort_by_key(|i| i.date.unwrap_or(NaiveDate::MAX));
        let primed_key = primed_key(source);
        let count_key = item_count_key(source);

        let outcome = (&self.items, &self.by_date, &self.outbox, &self.meta).transaction(
            |(items_t, by_date_t, outbox_t, meta_t)| {
                let first_poll = meta_t.get(&primed_key)?.is_none();
                // New to this source: never seen, or seen only on other sources.
                let mut new_count = 0;
                for item in &ordered {
                    let known_here = match items_t.get(item.id.as_bytes())? {
                        Some(old) => serde_json::from_slice::<StoredItem>(&old)
                            .map_err(|e| abort("items", e))?
                            .listed_on(source),
                        None => false,
                    };
                    if !known_here {
                        new_count += 1;
                    }
                }
                let flood = !first_poll && policy.is_flood(new_count);
                let mut next_seq = match meta_t.get(NEXT_SEQ)? {
                    Some(v) => u64::from_be_bytes(
                        v.as_ref()
                            .try_into()
                            .map_err(|_| abort("meta", "next_seq is not 8 bytes"))?,
                    ),
                    None => 1,
                };
                let mut outcome = PollOutcome {
                    first_poll,
                    flood,
                    ..PollOutcome::default()
                };
                for item in &ordered {
                    let stored = match items_t.get(item.id.as_bytes())? {
                        Some(old) => {
                            let mut stored: StoredItem =
                                serde_json::from_slice(&old).map_err(|e| abort("items", e))?;
                            let merged = merge_item(&stored.item, item);
                            let first_time_here = !stored.listed_on(source);
                            if stored.item == merged && !first_time_here {
                                continue;
                            }
                            if first_time_here {
                                // Followers of this source alone have not had it yet.
                                let fresh = policy.is_fresh(item);
                                if !first_poll && !flood && fresh {
                                    let entry = OutboxEntry {
                                        item_id: item.id.clone(),
                                        source: source.to_string(),
                                        after_chat: None,
                                        item_seq: Some(stored.seq),
                                        already_told: stored
                                            .sources()
                                            .map(str::to_string)
                                            .collect(),
                                    };
                                    let bytes = serde_json::to_vec(&entry)
                                        .map_err(|e| abort("outbox", e))?;
                                    outbox_t.insert(&next_seq.to_be_bytes(), bytes)?;
                                    next_seq += 1;
                                    outcome.queued += 1;
                                } else if !first_poll && !flood {
                                    outcome.too_old += 1;
                                }
                                stored.also_on.insert(source.to_string());
                            }
                            by_date_t.remove(&date_key(stored.sort_date(), stored.seq))?;
                            stored.item = merged;
                            stored
                        }
                        None => {
                            let stored = StoredItem {
                                item: (*item).clone(),
                                source: source.to_string(),
                                also_on: BTreeSet::new(),
                                first_seen: now.timestamp(),
                                seq: next_seq,
                            };
                            next_seq += 1;
                            let fresh = policy.is_fresh(item);
                            if !first_poll && !flood && !fresh {
                                outcome.too_old += 1;
                            }
                            if !first_poll && !flood && fresh {
                                let entry = OutboxEntry {
                                    item_id: item.id.clone(),
                                    source: source.to_string(),
                                    after_chat: None,
                                    item_seq: None,
                                    already_told: Vec::new(),
                                };
                                let bytes =
                                    serde_json::to_vec(&entry).map_err(|e| abort("outbox", e))?;
                                outbox_t.insert(&stored.seq.to_be_bytes(), bytes)?;
                                outcome.queued += 1;
                            }
                            outcome.new_items.push(stored.clone());
                            stored
                        }
                    };
                    by_date_t.insert(
                        &date_key(stored.sort_date(), stored.seq),
                        item.id.as_bytes(),
                    )?;
                    let bytes = serde_json::to_vec(&stored).map_err(|e| abort("items", e))?;
                    items_t.insert(item.id.as_bytes(), bytes)?;
                }
                meta_t.insert(NEXT_SEQ, &next_seq.to_be_bytes())?;
                meta_t.insert(primed_key.as_slice(), &now.timestamp().to_be_bytes())?;
                meta_t.insert(count_key.as_slice(), &(items.len() as u64).to_be_bytes())?;
                Ok(outcome)
            },
        )?;
        self.commit().await?;
        Ok(outcome)
    }

    /// How many subscription changes (endings, narrowings, moves) there have been.
    fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Notes a subscription change that a page of chats read earlier must see.
    fn subscriptions_changed(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
    }

    /// How many new items are still being fanned out.
    pub fn outbox_len(&self) -> usize {
        self.outbox.len()
    }

    /// One stored item by id.
    pub fn item(&self, id: &str) -> Result<Option<StoredItem>, StoreError> {
        self.items
            .get(id.as_bytes())?
            .map(|v| serde_json::from_slice(&v).map_err(|e| corrupt("items", e)))
            .transpose()
    }

    /// The newest `n` items by the site's date, newest first.
    pub fn latest(&self, n: usize) -> Result<Vec<StoredItem>, StoreError> {
        let mut out = Vec::with_capacity(n.min(100));
        for entry in self.by_date.iter().rev() {
            if out.len() >= n {
                break;
            }
            let (_, id) = entry?;
            let id = String::from_utf8(id.to_vec()).map_err(|e| corrupt("by_date", e))?;
            if let Some(item) = self.item(&id)? {
                out.push(item);
            }
        }
        Ok(out)
    }

    /// How many items are stored.
    pub fn item_count(&self) -> usize {
        self.items.len()
    }

    /// Subscribes `chat` to `source` (`None`: every source). Returns false when
    /// nothing changed. Durable on return.
    pub async fn subscribe(
        &self,
        chat: i64,
        source: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut changed = false;
        self.subscribers.fetch_and_update(chat_key(chat), |old| {
            let old = old.and_then(|b| decode_subscription(b).ok());
            let next = match (old.clone(), source) {
                (None, None) => Subscription {
                    since: now.timestamp(),
                    sources: None,
                },
                (None, Some(s)) => Subscription {
                    since: now.timestamp(),
                    sources: Some(BTreeSet::from([s.to_string()])),
                },
                (Some(sub), None) => Subscription {
                    sources: None,
                    ..sub
                },
                (Some(mut sub), Some(s)) => {
                    if let Some(set) = sub.sources.as_mut() {
                        set.insert(s.to_string());
                    }
                    sub
                }
            };
            changed = old.as_ref() != Some(&next);
            serde_json::to_vec(&next).ok()
        })?;
        self.commit().await?;
        Ok(changed)
    }

    /// Ends `chat`'s subscription to `source` (`None`: all of it) and drops the
    /// pushes no longer wanted. A chat subscribed to every source that drops one
    /// keeps the rest of `configured` (every configured source name, including
    /// ones never read yet). Returns false when there was nothing to end.
    /// Durable on return.
    pub async fn unsubscribe(
        &self,
        chat: i64,
        source: Option<&str>,
        configured: &[String],
    ) -> Result<bool, StoreError> {
        let Some(current) = self.subscription(chat)? else {
            return Ok(false);
        };
        let remaining = match (source, current.sources.clone()) {
            (None, _) => None,
            (Some(s), Some(mut set)) => {
                if !set.remove(s) {
                    return Ok(false);
                }
                (!set.is_empty()).then_some(set)
            }
            // Subscribed to everything, leaving one: keep the others.
            (Some(s), None) => {
                let set: BTreeSet<String> = configured
                    .iter()
                    .filter(|name| *name != s)
                    .cloned()
                    .collect();
                (!set.is_empty()).then_some(set)
            }
        };
        match remaining {
            None => {
                self.remove_chat(chat, Removal::ByUser).await?;
            }
            Some(set) => {
                let record = Subscription {
                    sources: Some(set),
                    ..current
                };
                self.subscribers
                    .insert(chat_key(chat), encode("subscribers", &record)?)?;
                self.subscriptions_changed();
                // Pushes of the dropped source are skipped at send time.
                self.commit().await?;
            }
        }
        Ok(true)
    }

    /// What `chat` is subscribed to, if anything.
    pub fn subscription(&self, chat: i64) -> Result<Option<Subscription>, StoreError> {
        self.subscribers
            .get(chat_key(chat))?
            .map(|v| decode_subscription(&v))
            .transpose()
    }

    /// Whether `chat` is subscribed to anything.
    pub fn is_subscribed(&self, chat: i64) -> Result<bool, StoreError> {
        Ok(self.subscribers.contains_key(chat_key(chat))?)
    }

    /// All subscribed chats in id order (for tests and tools; the bot itself
    /// never holds the whole list).
    pub fn subscribers(&self) -> Result<Vec<i64>, StoreError> {
        self.subscribers
            .iter()
            .keys()
            .map(|k| {
                let k = k?;
                chat_from_key(&k).ok_or_else(|| corrupt("subscribers", "key is not 8 bytes"))
            })
            .collect()
    }

    /// How many chats are subscribed.
    pub fn subscriber_count(&self) -> usize {
        self.subscribers.len()
    }

    /// Ends `chat`'s subscription and drops every push still owed to it, in one
    /// transaction; a gone chat is counted for operators. Returns how many
    /// pushes were dropped. Durable on return.
    pub async fn remove_chat(&self, chat: i64, why: Removal) -> Result<usize, StoreError> {
        let mut dropped = 0;
        let mut first = true;
        // The fan-out may journal a push for the chat between our listing and
        // our transaction: a second look catches those stragglers. One that
        // comes later still (from a page read before the removal) is dropped
        // by the journal sweep, which finds no subscription for it.
        loop {
            let keys = self.pending_keys(chat)?;
            if !first && keys.is_empty() {
                break;
            }
            (&self.subscribers, &self.deliveries, &self.meta).transaction(
                |(subs_t, deliveries_t, meta_t)| {
                    let was_subscribed = first && subs_t.remove(&chat_key(chat))?.is_some();
                    for key in &keys {
                        deliveries_t.remove(key.as_ref())?;
                    }
                    if why == Removal::ChatGone {
                        if was_subscribed {
                            bump(meta_t, STAT_CHATS_REMOVED, 1)?;
                        }
                        bump(meta_t, STAT_DELIVERIES_DROPPED, keys.len() as u64)?;
                    }
                    Ok(())
                },
            )?;
            dropped += keys.len();
            if first {
                self.subscriptions_changed();
            }
            first = false;
        }
        self.commit().await?;
        Ok(dropped)
    }

    /// Moves a group's subscription and pending pushes to its new supergroup id,
    /// in one transaction. If the supergroup subscribed on its own, it keeps its
    /// own record and pushes, and the group's are dropped (no double sends).
    /// Durable on return.
    pub async fn migrate_chat(&self, from: i64, to: i64) -> Result<(), StoreError> {
        self.move_chat(from, to)?;
        self.commit().await
    }

    fn move_chat(&self, from: i64, to: i64) -> Result<(), StoreError> {
        let outbox_keys: Vec<sled::IVec> = self.outbox.iter().keys().collect::<Result<_, _>>()?;
        let pending = self.pending_for(from)?;
        // The walk may not move while we decide what it will and will not reach.
        let walk = self.walk();
        let position =
            |key: &sled::IVec| outbox_seq(key).ok().and_then(|key| walk.position_of(key));
        // Pushes the fan-out in progress will make to the new id by itself: the
        // group's copy of that release must not be moved there too.
        let reached_by_walk = |seq: u64, subscription: &Subscription| {
            outbox_keys.iter().filter_map(position).any(|at| {
                at.item_seq == seq
                    && at.page_end.is_none_or(|end| to > end)
                    && at.entry.reaches(subscription)
            })
        };
        let to_had_own = (
            &self.subscribers,
            &self.deliveries,
            &self.outbox,
            &self.meta,
        )
            .transaction(|(subs_t, deliveries_t, outbox_t, meta_t)| {
                let moved = subs_t.remove(&chat_key(from))?;
                let to_had_own = subs_t.get(chat_key(to))?.is_some();
                let moved = match moved.filter(|_| !to_had_own) {
                    Some(record) => Some((
                        decode_subscription(&record)
                            .map_err(ConflictableTransactionError::Abort)?,
                        record,
                    )),
                    None => None,
                };
                if let Some((subscription, record)) = &moved {
                    subs_t.insert(&chat_key(to), record.clone())?;
                    // Announcements being fanned out that already passed the new
                    // id but will not serve the old one would reach neither:
                    // journal them for the new id now.
                    for key in &outbox_keys {
                        let Some(value) = outbox_t.get(key.as_ref())? else {
                            continue;
                        };
                        let entry: OutboxEntry =
                            serde_json::from_slice(&value).map_err(|e| abort("outbox", e))?;
                        let seq = entry
                            .seq_under(key)
                            .map_err(ConflictableTransactionError::Abort)?;
                        // Chats up to `taken` are served (or will never be:
                        // `from` is unsubscribed now); chats up to `page_end`
                        // were read before `to` subscribed.
                        let (taken, page_end) = position(key)
                            .map_or((entry.after_chat, entry.after_chat), |at| {
                                (at.taken, at.page_end)
                            });
                        let passed_to = page_end.is_some_and(|end| to <= end);
                        let serves_from = taken.is_some_and(|t| from <= t);
                        if passed_to && !serves_from && entry.reaches(subscription) {
                            deliveries_t
                                .insert(&delivery_key(to, seq), entry.item_id.as_bytes())?;
                        }
                    }
                }
                for d in &pending {
                    deliveries_t.remove(&delivery_key(from, d.seq))?;
                    if let Some((subscription, _)) = &moved
                        && !reached_by_walk(d.seq, subscription)
                    {
                        deliveries_t.insert(&delivery_key(to, d.seq), d.item_id.as_bytes())?;
                    }
                }
                bump(meta_t, STAT_CHATS_MIGRATED, 1)?;
                Ok(to_had_own)
            })?;
        self.subscriptions_changed();
        drop(walk);
        // Stragglers journaled between our listing and the transaction (none
        // can come after it: the old id is unsubscribed). The fan-out runs on
        // the delivery task that calls this, so it cannot add any today; the
        // second look keeps that from being a silent assumption.
        loop {
            let left = self.pending_for(from)?;
            if left.is_empty() {
                break;
            }
            self.deliveries.transaction(|deliveries_t| {
                for d in &left {
                    deliveries_t.remove(&delivery_key(from, d.seq))?;
                    if !to_had_own {
                        deliveries_t.insert(&delivery_key(to, d.seq), d.item_id.as_bytes())?;
                    }
                }
                Ok::<_, ConflictableTransactionError<StoreError>>(())
            })?;
        }
        Ok(())
    }

    /// Up to `max_chats` chats that have pushes owed, after chat `after` in id
    /// order, each with its pushes oldest first (a chat is never split).
    pub fn pending_chats(
        &self,
        after: Option<i64>,
        max_chats: usize,
    ) -> Result<Vec<(i64, Vec<PendingDelivery>)>, StoreError> {
        let start = match after {
            Some(chat) => Bound::Excluded(delivery_key(chat, u64::MAX)),
            None => Bound::Unbounded,
        };
        let mut out: Vec<(i64, Vec<PendingDelivery>)> = Vec::new();
        for entry in self
            .deliveries
            .range::<[u8; 16], _>((start, Bound::Unbounded))
        {
            let delivery = decode_delivery(entry?)?;
            if let Some((chat, list)) = out.last_mut()
                && *chat == delivery.chat
            {
                list.push(delivery);
                continue;
            }
            if out.len() >= max_chats {
                break;
            }
            out.push((delivery.chat, vec![delivery]));
        }
        Ok(out)
    }

    /// Whether `delivery` is still owed (a listing may be stale by the time it is sent).
    pub fn is_pending(&self, delivery: &PendingDelivery) -> Result<bool, StoreError> {
        Ok(self
            .deliveries
            .contains_key(delivery_key(delivery.chat, delivery.seq))?)
    }

    /// The pushes owed to one chat, oldest first.
    pub fn pending_for(&self, chat: i64) -> Result<Vec<PendingDelivery>, StoreError> {
        self.deliveries
            .scan_prefix(chat_key(chat))
            .map(|e| decode_delivery(e?))
            .collect()
    }

    fn pending_keys(&self, chat: i64) -> Result<Vec<sled::IVec>, StoreError> {
        Ok(self
            .deliveries
            .scan_prefix(chat_key(chat))
            .keys()
            .collect::<Result<_, _>>()?)
    }

    /// How many per-chat pushes are journaled (walks the tree: for status and tests).
    pub fn pending_count(&self) -> usize {
        self.deliveries.len()
    }

    /// Marks one push as done: Telegram accepted it, or it is no longer wanted.
    /// Returns once at most `max_unflushed` completions are not yet durable
    /// (see [`Store::commit_within`]); 0 makes this one durable on return.
    pub async fn complete(
        &self,
        delivery: &PendingDelivery,
        max_unflushed: u64,
    ) -> Result<(), StoreError> {
        self.deliveries
            .remove(delivery_key(delivery.chat, delivery.seq))?;
        self.commit_within(max_unflushed).await
    }

    /// Marks one push as given up (Telegram refused it for good), counted for operators.
    pub async fn give_up(&self, delivery: &PendingDelivery) -> Result<(), StoreError> {
        let key = delivery_key(delivery.chat, delivery.seq);
        (&self.deliveries, &self.meta).transaction(|(deliveries_t, meta_t)| {
            deliveries_t.remove(&key)?;
            bump(meta_t, STAT_GIVEN_UP, 1)?;
            Ok(())
        })?;
        self.commit().await
    }

    /// The counters operators see.
    pub fn delivery_stats(&self) -> Result<DeliveryStats, StoreError> {
        Ok(DeliveryStats {
            chats_removed: read_u64("meta", self.meta.get(STAT_CHATS_REMOVED)?)?,
            deliveries_dropped: read_u64("meta", self.meta.get(STAT_DELIVERIES_DROPPED)?)?,
            given_up: read_u64("meta", self.meta.get(STAT_GIVEN_UP)?)?,
            chats_migrated: read_u64("meta", self.meta.get(STAT_CHATS_MIGRATED)?)?,
        })
    }

    /// When `source` was last read successfully.
    pub fn last_success(&self, source: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self
            .meta
            .get(primed_key(source))?
            .and_then(|v| timestamp_from(&v)))
    }

    /// Records a read of `source` that found nothing changed (a 304): the source
    /// is fresh as of `now`, and nothing else moves. A source never read whole
    /// stays unread, so its first full read is still silent. Not flushed: losing
    /// it in a crash costs nothing.
    pub fn record_unchanged(&self, source: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.meta.fetch_and_update(primed_key(source), |old| {
            old.map(|_| now.timestamp().to_be_bytes().to_vec())
        })?;
        Ok(())
    }

    /// How many items the last good read of `source` showed (`None`: never read,
    /// or read before this was counted).
    pub fn item_count_of(&self, source: &str) -> Result<Option<u64>, StoreError> {
        self.meta
            .get(item_count_key(source))?
            .map(|v| read_u64("meta", Some(v)))
            .transpose()
    }

    /// Records that `source` was read and showed no items, and returns how many
    /// the read before showed; later empty reads return 0, so an emptied page
    /// is reported once, not on every poll. Nothing else is recorded: items
    /// that come back are known and are not announced again.
    pub fn record_empty(&self, source: &str) -> Result<u64, StoreError> {
        let before = self.meta.fetch_and_update(item_count_key(source), |old| {
            old.map(|_| 0u64.to_be_bytes().to_vec())
        })?;
        read_u64("meta", before)
    }

    /// Remembers why `source` last failed, for operators. Not flushed: losing it in
    /// a crash costs nothing.
    pub fn record_failure(
        &self,
        source: &str,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.put_stamped(&last_error_key(source), &error, now)
    }

    /// The last failure of `source` and when it happened.
    pub fn last_failure(
        &self,
        source: &str,
    ) -> Result<Option<(String, DateTime<Utc>)>, StoreError> {
        self.get_stamped(&last_error_key(source))
    }

    /// Remembers a watcher's own state for `source` (failure run, alerts sent),
    /// so it survives a restart. Not flushed: losing the latest change costs
    /// at most one repeated or missing operator message.
    pub fn save_source_state<T: Serialize>(
        &self,
        source: &str,
        state: &T,
    ) -> Result<(), StoreError> {
        self.meta
            .insert(source_state_key(source), encode("meta", state)?)?;
        Ok(())
    }

    /// What [`Store::save_source_state`] kept for `source`.
    pub fn source_state<T: serde::de::DeserializeOwned>(
        &self,
        source: &str,
    ) -> Result<Option<T>, StoreError> {
        self.meta
            .get(source_state_key(source))?
            .map(|v| serde_json::from_slice(&v).map_err(|e| corrupt("meta", e)))
            .transpose()
    }

    /// Remembers the contacts read from the live page, with when they were read.
    pub async fn save_contacts(
        &self,
        contacts: &Contacts,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.put_stamped(CONTACTS, contacts, now)?;
        self.commit().await
    }

    /// The last contacts read from the live page, and when.
    pub fn contacts(&self) -> Result<Option<(Contacts, DateTime<Utc>)>, StoreError> {
        self.get_stamped(CONTACTS)
    }

    /// Stores `value` in `meta` together with the instant it was observed.
    fn put_stamped<T: Serialize + ?Sized>(
        &self,
        key: &[u8],
        value: &T,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let bytes = encode("meta", &(value, at.timestamp()))?;
        self.meta.insert(key, bytes)?;
        Ok(())
    }

    /// Reads what [`Store::put_stamped`] wrote.
    fn get_stamped<T: serde::de::DeserializeOwned>(
        &self,
        key: &[u8],
    ) -> Result<Option<(T, DateTime<Utc>)>, StoreError> {
        let Some(bytes) = self.meta.get(key)? else {
            return Ok(None);
        };
        let (value, at): (T, i64) =
            serde_json::from_slice(&bytes).map_err(|e| corrupt("meta", e))?;
        Ok(DateTime::from_timestamp(at, 0).map(|at| (value, at)))
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

/// A known item seen again: take the page's edits, but never let a listing that
/// omits the date or lead (another list page, a shorter teaser) erase them.
fn merge_item(old: &Item, seen: &Item) -> Item {
    Item {
        id: old.id.clone(),
        url: seen.url.clone(),
        title: if seen.title.is_empty() {
            old.title.clone()
        } else {
            seen.title.clone()
        },
        date: seen.date.or(old.date),
        lead: if seen.lead.is_empty() {
            old.lead.clone()
        } else {
            seen.lead.clone()
        },
    }
}

fn decode_delivery((key, value): (sled::IVec, sled::IVec)) -> Result<PendingDelivery, StoreError> {
    if key.len() != 16 {
        return Err(corrupt("deliveries", "key is not 16 bytes"));
    }
    let chat = chat_from_key(&key[..8]).ok_or_else(|| corrupt("deliveries", "bad key"))?;
    let seq = u64::from_be_bytes(
        key[8..]
            .try_into()
            .map_err(|_| corrupt("deliveries", "bad key"))?,
    );
    let item_id = String::from_utf8(value.to_vec()).map_err(|e| corrupt("deliveries", e))?;
    Ok(PendingDelivery { seq, chat, item_id })
}
