//! Durable state in sled — the only module that knows sled.
//!
//! Trees (keys big-endian so iteration order means something):
//! - `items`: item id → [`StoredItem`] (JSON);
//! - `by_date`: (site date, sequence) → item id, the order of `/latest`;
//! - `subscribers`: chat id → subscription time;
//! - `deliveries`: (item sequence, chat id) → item id, the journal of pushes still
//!   owed. Entries are written in the same transaction that records the item and
//!   removed (and flushed) only after Telegram accepted the message, so a crash
//!   loses nothing and repeats at most the sends that were in flight;
//! - `meta`: which sources have been seen once, the sequence counter, contacts.
//!
//! Every mutating call flushes before it returns: once a caller has told a user
//! "subscribed", a crash cannot take it back.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::ConflictableTransactionError;

use crate::source::{Contacts, Item};

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
    #[error("corrupt record in tree `{tree}`: {detail}")]
    Corrupt { tree: &'static str, detail: String },
}

/// An item plus what the store knows about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredItem {
    #[serde(flatten)]
    pub item: Item,
    /// The source that first reported it.
    pub source: String,
    /// When we first saw it (Unix seconds); orders undated items.
    pub first_seen: i64,
    /// Increasing in discovery order (oldest first within one poll).
    pub seq: u64,
}

impl StoredItem {
    /// The date `/latest` sorts by: the site's date, or the day we first saw it.
    pub fn sort_date(&self) -> NaiveDate {
        self.item.date.unwrap_or_else(|| {
            DateTime::from_timestamp(self.first_seen, 0).map_or(NaiveDate::MIN, |t| t.date_naive())
        })
    }
}

/// What recording one poll changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollOutcome {
    /// Items never seen before, oldest first.
    pub new_items: Vec<StoredItem>,
    /// True when this was the source's first successful poll: nothing is announced.
    pub first_poll: bool,
    /// How many push deliveries were journaled.
    pub deliveries: usize,
}

/// One journaled push: send item `item_id` to `chat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingDelivery {
    pub seq: u64,
    pub chat: i64,
    pub item_id: String,
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    items: sled::Tree,
    by_date: sled::Tree,
    subscribers: sled::Tree,
    deliveries: sled::Tree,
    meta: sled::Tree,
}

const NEXT_SEQ: &[u8] = b"next_seq";
const CONTACTS: &[u8] = b"contacts";

/// Present once a source has been read successfully; holds the last success time.
fn primed_key(source: &str) -> Vec<u8> {
    format!("primed:{source}").into_bytes()
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

fn delivery_key(seq: u64, chat: i64) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&seq.to_be_bytes());
    key[8..].copy_from_slice(&chat_key(chat));
    key
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
            // sled's default cache is 1 GiB; our working set is tiny.
            .cache_capacity(16 * 1024 * 1024)
            .flush_every_ms(Some(500))
            .open()
            .map_err(|e| match e {
                sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
                    StoreError::Locked(dir.to_path_buf())
                }
                other => StoreError::Sled(other),
            })?;
        Ok(Store {
            items: db.open_tree("items")?,
            by_date: db.open_tree("by_date")?,
            subscribers: db.open_tree("subscribers")?,
            deliveries: db.open_tree("deliveries")?,
            meta: db.open_tree("meta")?,
            db,
        })
    }

    /// Makes every write so far durable.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.db.flush_async().await?;
        Ok(())
    }

    /// Records one successful read of `source`: new items are stored and, unless
    /// this is the source's first poll, a delivery is journaled for every
    /// subscriber — all in one transaction. Known items are updated in place
    /// (edited titles) and never announced again. `items` is in page order
    /// (newest first); new items get sequence numbers oldest first.
    pub async fn record_poll(
        &self,
        source: &str,
        items: &[Item],
        now: DateTime<Utc>,
    ) -> Result<PollOutcome, StoreError> {
        let subscribers = self.subscribers()?;
        // Oldest first: reverse page order, then by date (undated ones count as newest).
        let mut ordered: Vec<&Item> = items.iter().rev().collect();
        ordered.sort_by_key(|i| i.date.unwrap_or(NaiveDate::MAX));
        let primed_key = primed_key(source);

        let outcome = (&self.items, &self.by_date, &self.deliveries, &self.meta)
            .transaction(|(items_t, by_date_t, deliveries_t, meta_t)| {
                let abort =
                    |e: serde_json::Error| ConflictableTransactionError::Abort(corrupt("items", e));
                let first_poll = meta_t.get(&primed_key)?.is_none();
                let mut next_seq = match meta_t.get(NEXT_SEQ)? {
                    Some(v) => u64::from_be_bytes(v.as_ref().try_into().map_err(|_| {
                        ConflictableTransactionError::Abort(corrupt(
                            "meta",
                            "next_seq is not 8 bytes",
                        ))
                    })?),
                    None => 1,
                };
                let mut outcome = PollOutcome {
                    first_poll,
                    ..PollOutcome::default()
                };
                for item in &ordered {
                    match items_t.get(item.id.as_bytes())? {
                        Some(old) => {
                            let mut stored: StoredItem =
                                serde_json::from_slice(&old).map_err(abort)?;
                            let merged = merge_item(&stored.item, item);
                            if stored.item != merged {
                                by_date_t.remove(&date_key(stored.sort_date(), stored.seq))?;
                                stored.item = merged;
                                by_date_t.insert(
                                    &date_key(stored.sort_date(), stored.seq),
                                    item.id.as_bytes(),
                                )?;
                                items_t.insert(
                                    item.id.as_bytes(),
                                    serde_json::to_vec(&stored).map_err(abort)?,
                                )?;
                            }
                        }
                        None => {
                            let stored = StoredItem {
                                item: (*item).clone(),
                                source: source.to_string(),
                                first_seen: now.timestamp(),
                                seq: next_seq,
                            };
                            next_seq += 1;
                            items_t.insert(
                                item.id.as_bytes(),
                                serde_json::to_vec(&stored).map_err(abort)?,
                            )?;
                            by_date_t.insert(
                                &date_key(stored.sort_date(), stored.seq),
                                item.id.as_bytes(),
                            )?;
                            if !first_poll {
                                for chat in &subscribers {
                                    deliveries_t.insert(
                                        &delivery_key(stored.seq, *chat),
                                        item.id.as_bytes(),
                                    )?;
                                    outcome.deliveries += 1;
                                }
                            }
                            outcome.new_items.push(stored);
                        }
                    }
                }
                meta_t.insert(NEXT_SEQ, &next_seq.to_be_bytes())?;
                meta_t.insert(primed_key.as_slice(), &now.timestamp().to_be_bytes())?;
                Ok(outcome)
            })
            .map_err(|e| match e {
                sled::transaction::TransactionError::Abort(e) => e,
                sled::transaction::TransactionError::Storage(e) => StoreError::Sled(e),
            })?;
        self.flush().await?;
        Ok(outcome)
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
        let mut out = Vec::with_capacity(n);
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

    /// Subscribes `chat`; returns false when it already was. Durable on return.
    pub async fn subscribe(&self, chat: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let old = self
            .subscribers
            .insert(chat_key(chat), &now.timestamp().to_be_bytes())?;
        self.flush().await?;
        Ok(old.is_none())
    }

    /// Unsubscribes `chat` and drops what was still owed to it; returns false
    /// when it was not subscribed. Durable on return.
    pub async fn unsubscribe(&self, chat: i64) -> Result<bool, StoreError> {
        let old = self.subscribers.remove(chat_key(chat))?;
        self.drop_pending_for(chat)?;
        self.flush().await?;
        Ok(old.is_some())
    }

    /// Whether `chat` is subscribed.
    pub fn is_subscribed(&self, chat: i64) -> Result<bool, StoreError> {
        Ok(self.subscribers.contains_key(chat_key(chat))?)
    }

    /// All subscribed chats in id order.
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

    /// Moves a group's subscription and pending pushes to its new supergroup id.
    pub async fn migrate_chat(&self, from: i64, to: i64) -> Result<(), StoreError> {
        if let Some(since) = self.subscribers.remove(chat_key(from))? {
            self.subscribers.insert(chat_key(to), since)?;
        }
        for pending in self.pending_for(from)? {
            self.deliveries
                .insert(delivery_key(pending.seq, to), pending.item_id.as_bytes())?;
            self.deliveries.remove(delivery_key(pending.seq, from))?;
        }
        self.flush().await
    }

    /// Up to `limit` journaled pushes, oldest item first.
    pub fn pending(&self, limit: usize) -> Result<Vec<PendingDelivery>, StoreError> {
        self.deliveries
            .iter()
            .take(limit)
            .map(|e| decode_delivery(e?))
            .collect()
    }

    /// How many pushes are still owed.
    pub fn pending_count(&self) -> usize {
        self.deliveries.len()
    }

    /// Marks one push as done (Telegram accepted it, or it can never be sent). Durable on return.
    pub async fn complete(&self, delivery: &PendingDelivery) -> Result<(), StoreError> {
        self.deliveries
            .remove(delivery_key(delivery.seq, delivery.chat))?;
        self.flush().await
    }

    fn pending_for(&self, chat: i64) -> Result<Vec<PendingDelivery>, StoreError> {
        let mut out = Vec::new();
        for entry in self.deliveries.iter() {
            let delivery = decode_delivery(entry?)?;
            if delivery.chat == chat {
                out.push(delivery);
            }
        }
        Ok(out)
    }

    fn drop_pending_for(&self, chat: i64) -> Result<usize, StoreError> {
        let pending = self.pending_for(chat)?;
        for d in &pending {
            self.deliveries.remove(delivery_key(d.seq, d.chat))?;
        }
        Ok(pending.len())
    }

    /// When `source` was last read successfully.
    pub fn last_success(&self, source: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self
            .meta
            .get(primed_key(source))?
            .and_then(|v| timestamp_from(&v)))
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

    /// How many chats are subscribed.
    pub fn subscriber_count(&self) -> usize {
        self.subscribers.len()
    }

    /// Remembers the contacts read from the live page, with when they were read.
    pub async fn save_contacts(
        &self,
        contacts: &Contacts,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.put_stamped(CONTACTS, contacts, now)?;
        self.flush().await
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
        let bytes = serde_json::to_vec(&(value, at.timestamp())).map_err(|e| corrupt("meta", e))?;
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
    let seq = u64::from_be_bytes(
        key[..8]
            .try_into()
            .map_err(|_| corrupt("deliveries", "bad key"))?,
    );
    let chat = chat_from_key(&key[8..]).ok_or_else(|| corrupt("deliveries", "bad key"))?;
    let item_id = String::from_utf8(value.to_vec()).map_err(|e| corrupt("deliveries", e))?;
    Ok(PendingDelivery { seq, chat, item_id })
}
