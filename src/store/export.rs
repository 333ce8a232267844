//! A way out of sled: the whole state as JSON Lines, and back.
//!
//! `embassy-bot export` writes one header line, then one line per record:
//! `meta` (sequence counter, each source's read state, contacts, counters),
//! `subscription`, `release`, `seen` (the id hashes of pruned releases),
//! `outbox` (releases being fanned out, with their cursors), `handled` (the
//! fan-out log), `journal` (pushes owed, with when they were journaled, which
//! digests go by), `channel` (who subscribed which channel) and `settings`
//! (each chat's or topic's filters, quiet hours, digest and language).
//! `embassy-bot import` rebuilds a
//! store from that in an empty data directory: exactly the same state, so
//! nothing is announced or pushed twice, and nothing owed is lost. The
//! indexes (`by_date`, `by_source`, the retention counters) are derived, so
//! they are rebuilt rather than carried. Saved `/search` queries
//! (`queries`) are not carried either: they only serve page buttons, and a
//! restored bot's old buttons answer that they expired.
//!
//! The format is versioned ([`EXPORT_VERSION`]); a later version must keep
//! reading the earlier ones. Meta values are carried as they are stored:
//! 8-byte counters as numbers, JSON as JSON, anything else as hex.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::channels::index_key;
use super::fanout_log::FanOutLog;
use super::journal::{decode_entry, entry_value};
use super::meta::{META_RETENTION_INDEXED, NEXT_SEQ, kept_count_key, seen_count_key};
use super::retention::{source_key, split_key};
use super::settings::{settings_key, target_of};
use super::subscribers::decode_subscription;
use super::{
    ChannelNote, OutboxEntry, Store, StoreError, StoredItem, Subscription, Target, chat_from_key,
    chat_key, corrupt, date_key, encode, outbox_key_from, target_journal_key,
};
use crate::settings::TargetSettings;

/// What the header's `format` says.
pub(crate) const EXPORT_FORMAT: &str = "embassy-bot-export";
/// The version this build writes, and the newest it reads.
pub(crate) const EXPORT_VERSION: u32 = 1;

/// Records written to the database per batch on import.
const BATCH: usize = 1_000;

/// Why an export or import failed.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error(
        "the data directory {0} is not empty: import only into an empty one (move the old one aside first)"
    )]
    NotEmpty(PathBuf),
    #[error("line {line}: {detail}")]
    Format { line: usize, detail: String },
}

/// The first line of an export.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    exported_at: DateTime<Utc>,
}

/// One line after the header.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Record {
    Meta {
        key: String,
        #[serde(flatten)]
        value: MetaValue,
    },
    Subscription {
        chat: i64,
        #[serde(flatten)]
        subscription: Subscription,
    },
    Release {
        #[serde(flatten)]
        release: StoredItem,
    },
    /// The hashes of the ids of releases pruned together, oldest first.
    Seen {
        source: String,
        /// The sequence number of the oldest of them.
        from_seq: u64,
        /// 16 hex digits each.
        hashes: Vec<String>,
    },
    Outbox {
        key: u64,
        #[serde(flatten)]
        entry: OutboxEntry,
    },
    Handled {
        key: u64,
        chat: i64,
    },
    Journal {
        chat: i64,
        seq: u64,
        /// The forum topic it is owed to, if not the chat itself.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        thread: Option<i32>,
        item_id: String,
        /// When it was journaled (Unix seconds); absent for entries of
        /// versions that did not record it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        journaled_at: Option<i64>,
    },
    /// What a chat, or one forum topic of it, chose.
    Settings {
        chat: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        thread: Option<i32>,
        settings: TargetSettings,
    },
    /// A channel a person subscribed from a private chat.
    Channel {
        user: i64,
        channel: i64,
        #[serde(flatten)]
        note: ChannelNote,
    },
}

/// A `meta` value as it is stored.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum MetaValue {
    /// An 8-byte big-endian counter or timestamp.
    U64(u64),
    /// JSON (written back in serde_json's own layout: the same value).
    Json(serde_json::Value),
    /// Anything else.
    Hex(String),
}

/// How many records of each kind an export or import carried.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TransferSummary {
    pub subscriptions: usize,
    pub releases: usize,
    pub seen: usize,
    pub outbox: usize,
    pub handled: usize,
    pub journal: usize,
    pub channels: usize,
    pub settings: usize,
    pub meta: usize,
}

impl std::fmt::Display for TransferSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} subscriptions, {} releases, {} seen ids, {} releases being fanned out ({} chats handled), {} pending pushes, {} channels noted, {} chats' and topics' settings, {} state records",
            self.subscriptions,
            self.releases,
            self.seen,
            self.outbox,
            self.handled,
            self.journal,
            self.channels,
            self.settings,
            self.meta
        )
    }
}

/// Meta keys whose values are 8-byte big-endian numbers.
fn is_counter(key: &[u8]) -> bool {
    key == NEXT_SEQ
        || [&b"primed:"[..], b"item_count:", b"stat:"]
            .iter()
            .any(|p| key.starts_with(p))
}

/// Meta keys rebuilt on import rather than carried.
fn is_derived(key: &[u8]) -> bool {
    key == META_RETENTION_INDEXED || key.starts_with(b"kept:") || key.starts_with(b"seen:")
}

fn meta_value(key: &[u8], bytes: &[u8]) -> MetaValue {
    if is_counter(key)
        && let Ok(raw) = <[u8; 8]>::try_from(bytes)
    {
        return MetaValue::U64(u64::from_be_bytes(raw));
    }
    if let Ok(value) = serde_json::from_slice(bytes) {
        return MetaValue::Json(value);
    }
    MetaValue::Hex(hex(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

impl Store {
    /// Writes the whole state to `out` as JSON Lines (see the module doc).
    /// The store must not change meanwhile: the bot is stopped (sled's lock
    /// keeps a running one's directory from being opened at all).
    pub fn export(
        &self,
        out: &mut impl Write,
        now: DateTime<Utc>,
    ) -> Result<TransferSummary, TransferError> {
        let mut lines = Lines {
            out,
            summary: TransferSummary::default(),
        };
        lines.write(&Header {
            format: EXPORT_FORMAT.into(),
            version: EXPORT_VERSION,
            exported_at: now,
        })?;
        for record in self.meta.iter() {
            let (key, value) = record?;
            if is_derived(&key) {
                continue;
            }
            let name = String::from_utf8(key.to_vec()).map_err(|e| corrupt("meta", e))?;
            lines.summary.meta += 1;
            lines.record(&Record::Meta {
                value: meta_value(&key, &value),
                key: name,
            })?;
        }
        for record in self.subscribers.iter() {
            let (key, value) = record?;
            let chat = chat_from_key(&key).ok_or_else(|| corrupt("subscribers", "bad key"))?;
            lines.summary.subscriptions += 1;
            lines.record(&Record::Subscription {
                chat,
                subscription: decode_subscription(&value)?,
            })?;
        }
        for record in self.items.iter() {
            let (_, value) = record?;
            let release: StoredItem =
                serde_json::from_slice(&value).map_err(|e| corrupt("items", e))?;
            lines.summary.releases += 1;
            lines.record(&Record::Release { release })?;
        }
        for record in self.seen.iter() {
            let (key, chunk) = record?;
            let (source, from_seq) = split_key(&key).ok_or_else(|| corrupt("seen", "bad key"))?;
            let hashes: Vec<String> = chunk.chunks_exact(8).map(hex).collect();
            lines.summary.seen += hashes.len();
            lines.record(&Record::Seen {
                source: source.to_string(),
                from_seq,
                hashes,
            })?;
        }
        for record in self.outbox.iter() {
            let (key, value) = record?;
            let entry: OutboxEntry =
                serde_json::from_slice(&value).map_err(|e| corrupt("outbox", e))?;
            lines.summary.outbox += 1;
            lines.record(&Record::Outbox {
                key: outbox_key_from(&key)?,
                entry,
            })?;
        }
        for (key, chat) in self.fan_out_log.records()? {
            lines.summary.handled += 1;
            lines.record(&Record::Handled { key, chat })?;
        }
        for record in self.journal.iter() {
            let entry = decode_entry(record?)?;
            lines.summary.journal += 1;
            lines.record(&Record::Journal {
                chat: entry.chat,
                seq: entry.seq,
                thread: entry.thread,
                item_id: entry.item_id,
                journaled_at: entry.journaled_at,
            })?;
        }
        for record in self.settings.iter() {
            let (key, value) = record?;
            let target = target_of(&key).ok_or_else(|| corrupt("settings", "bad key"))?;
            let settings: TargetSettings =
                serde_json::from_slice(&value).map_err(|e| corrupt("settings", e))?;
            lines.summary.settings += 1;
            lines.record(&Record::Settings {
                chat: target.chat,
                thread: target.thread,
                settings,
            })?;
        }
        for record in self.channels.iter() {
            let (key, value) = record?;
            let (Some(user), Some(channel)) = (
                key.get(..8).and_then(chat_from_key),
                key.get(8..).and_then(chat_from_key),
            ) else {
                return Err(corrupt("channels", "key is not 16 bytes").into());
            };
            let note: ChannelNote =
                serde_json::from_slice(&value).map_err(|e| corrupt("channels", e))?;
            lines.summary.channels += 1;
            lines.record(&Record::Channel {
                user,
                channel,
                note,
            })?;
        }
        lines
            .out
            .flush()
            .map_err(|source| io_error("cannot write the export", source))?;
        Ok(lines.summary)
    }

    /// Rebuilds the state an export describes in `dir`, which must be empty
    /// (or not exist). On any error the directory is left empty again.
    pub fn import(dir: &Path, input: impl BufRead) -> Result<TransferSummary, TransferError> {
        let empty = match std::fs::read_dir(dir) {
            Ok(mut entries) => entries.next().is_none(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
            Err(e) => return Err(io_error(&format!("cannot read {}", dir.display()), e)),
        };
        if !empty {
            return Err(TransferError::NotEmpty(dir.to_path_buf()));
        }
        let imported = Store::open(dir)
            .map_err(TransferError::from)
            .and_then(|store| {
                let summary = Importer::new(&store).run(input)?;
                store.db.flush()?;
                Ok(summary)
            });
        if imported.is_err() {
            // Handles are dropped; leave the directory as it was found.
            if let Ok(entries) = std::fs::read_dir(dir) {
                for entry in entries.flatten() {
                    let path = entry.path();
                    let _ = if path.is_dir() {
                        std::fs::remove_dir_all(&path)
                    } else {
                        std::fs::remove_file(&path)
                    };
                }
            }
        }
        imported
    }
}

impl From<sled::Error> for TransferError {
    fn from(e: sled::Error) -> Self {
        TransferError::Store(StoreError::Sled(e))
    }
}

fn io_error(what: &str, source: std::io::Error) -> TransferError {
    TransferError::Io {
        what: what.to_string(),
        source,
    }
}

/// The export being written.
struct Lines<'a, W: Write> {
    out: &'a mut W,
    summary: TransferSummary,
}

impl<W: Write> Lines<'_, W> {
    fn write<T: Serialize>(&mut self, value: &T) -> Result<(), TransferError> {
        serde_json::to_writer(&mut *self.out, value)
            .map_err(|e| io_error("cannot write the export", e.into()))?;
        self.out
            .write_all(b"\n")
            .map_err(|source| io_error("cannot write the export", source))
    }

    fn record(&mut self, record: &Record) -> Result<(), TransferError> {
        self.write(record)
    }
}

/// An import in progress: batches per tree, and what the indexes need.
struct Importer<'a> {
    store: &'a Store,
    batches: HashMap<&'static str, (sled::Batch, usize)>,
    kept: HashMap<String, u64>,
    seen: HashMap<String, u64>,
    handled: Vec<u8>,
    next_seq: u64,
    summary: TransferSummary,
}

impl<'a> Importer<'a> {
    fn new(store: &'a Store) -> Importer<'a> {
        Importer {
            store,
            batches: HashMap::new(),
            kept: HashMap::new(),
            seen: HashMap::new(),
            handled: Vec::new(),
            next_seq: 1,
            summary: TransferSummary::default(),
        }
    }

    fn run(mut self, input: impl BufRead) -> Result<TransferSummary, TransferError> {
        let mut lines = input.lines();
        let header = lines
            .next()
            .transpose()
            .map_err(|e| io_error("cannot read the export", e))?
            .ok_or(TransferError::Format {
                line: 1,
                detail: "the file is empty, not an embassy-bot export".into(),
            })?;
        check_header(&header)?;
        for (n, line) in lines.enumerate() {
            let line_no = n + 2;
            let line = line.map_err(|e| io_error("cannot read the export", e))?;
            if line.trim().is_empty() {
                continue;
            }
            let record: Record =
                serde_json::from_str(&line).map_err(|e| TransferError::Format {
                    line: line_no,
                    detail: format!("not a record of this export format: {e}"),
                })?;
            self.apply(record).map_err(|e| match e {
                TransferError::Format { detail, .. } => TransferError::Format {
                    line: line_no,
                    detail,
                },
                other => other,
            })?;
        }
        self.finish()
    }

    fn put(
        &mut self,
        tree: &'static str,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) -> Result<(), TransferError> {
        let (batch, len) = self.batches.entry(tree).or_default();
        batch.insert(key.as_ref(), value.as_ref());
        *len += 1;
        if *len >= BATCH {
            self.flush_tree(tree)?;
        }
        Ok(())
    }

    fn flush_tree(&mut self, name: &'static str) -> Result<(), TransferError> {
        let Some((batch, _)) = self.batches.remove(name) else {
            return Ok(());
        };
        let tree = match name {
            "meta" => &self.store.meta,
            "subscribers" => &self.store.subscribers,
            "items" => &self.store.items,
            "by_date" => &self.store.by_date,
            "by_source" => &self.store.by_source,
            "seen" => &self.store.seen,
            "outbox" => &self.store.outbox,
            "channels" => &self.store.channels,
            "settings" => &self.store.settings,
            _ => &self.store.journal,
        };
        tree.apply_batch(batch)?;
        Ok(())
    }

    fn apply(&mut self, record: Record) -> Result<(), TransferError> {
        let bad = |detail: String| TransferError::Format { line: 0, detail };
        match record {
            Record::Meta { key, value } => {
                let bytes = match value {
                    MetaValue::U64(n) => n.to_be_bytes().to_vec(),
                    MetaValue::Json(value) => encode("meta", &value)?,
                    MetaValue::Hex(text) => {
                        unhex(&text).ok_or_else(|| bad(format!("meta `{key}`: bad hex")))?
                    }
                };
                if key.as_bytes() == NEXT_SEQ {
                    let raw: [u8; 8] = bytes
                        .as_slice()
                        .try_into()
                        .map_err(|_| bad("next_seq is not 8 bytes".into()))?;
                    self.next_seq = u64::from_be_bytes(raw);
                }
                if !is_derived(key.as_bytes()) {
                    self.summary.meta += 1;
                    self.put("meta", key.as_bytes(), bytes)?;
                }
            }
            Record::Subscription { chat, subscription } => {
                self.summary.subscriptions += 1;
                self.put(
                    "subscribers",
                    chat_key(chat),
                    encode("subscribers", &subscription)?,
                )?;
            }
            Record::Release { release } => {
                self.summary.releases += 1;
                let id = release.item.id.clone();
                self.put(
                    "by_date",
                    date_key(release.sort_date(), release.seq),
                    id.as_bytes(),
                )?;
                self.put(
                    "by_source",
                    source_key(&release.source, release.seq),
                    id.as_bytes(),
                )?;
                *self.kept.entry(release.source.clone()).or_default() += 1;
                self.put("items", id.as_bytes(), encode("items", &release)?)?;
            }
            Record::Seen {
                source,
                from_seq,
                hashes,
            } => {
                let mut chunk = Vec::with_capacity(hashes.len() * 8);
                for hash in &hashes {
                    let bytes = unhex(hash)
                        .filter(|h| h.len() == 8)
                        .ok_or_else(|| bad(format!("seen: `{hash}` is not 16 hex digits")))?;
                    chunk.extend_from_slice(&bytes);
                }
                self.summary.seen += hashes.len();
                self.put("seen", source_key(&source, from_seq), chunk)?;
                *self.seen.entry(source).or_default() += hashes.len() as u64;
            }
            Record::Outbox { key, entry } => {
                self.summary.outbox += 1;
                self.put("outbox", key.to_be_bytes(), encode("outbox", &entry)?)?;
            }
            Record::Handled { key, chat } => {
                self.summary.handled += 1;
                FanOutLog::encode(&mut self.handled, key, chat);
            }
            Record::Journal {
                chat,
                seq,
                thread,
                item_id,
                journaled_at,
            } => {
                self.summary.journal += 1;
                self.put(
                    "journal",
                    target_journal_key(chat, thread, seq),
                    entry_value(&item_id, journaled_at),
                )?;
            }
            Record::Settings {
                chat,
                thread,
                settings,
            } => {
                self.summary.settings += 1;
                self.put(
                    "settings",
                    settings_key(Target { chat, thread }),
                    encode("settings", &settings)?,
                )?;
            }
            Record::Channel {
                user,
                channel,
                note,
            } => {
                self.summary.channels += 1;
                self.put(
                    "channels",
                    index_key(user, channel),
                    encode("channels", &note)?,
                )?;
            }
        }
        Ok(())
    }

    /// Writes what is left, the derived counters, the fan-out log and the
    /// high-water mark.
    fn finish(mut self) -> Result<TransferSummary, TransferError> {
        let names: Vec<&'static str> = self.batches.keys().copied().collect();
        for name in names {
            self.flush_tree(name)?;
        }
        let mut meta = sled::Batch::default();
        for (source, count) in &self.kept {
            meta.insert(kept_count_key(source), &count.to_be_bytes());
        }
        for (source, count) in &self.seen {
            meta.insert(seen_count_key(source), &count.to_be_bytes());
        }
        meta.insert(META_RETENTION_INDEXED, &[1]);
        self.store.meta.apply_batch(meta)?;
        self.store.fan_out_log.append(&self.handled)?;
        self.store.fan_out_log.sync()?;
        self.store.db.flush()?;
        self.store.raise_high_water_now(self.next_seq)?;
        self.store.load_seen_set()?;
        Ok(self.summary)
    }
}

fn check_header(line: &str) -> Result<(), TransferError> {
    let not_ours = || TransferError::Format {
        line: 1,
        detail: format!(
            "not an embassy-bot export (the first line should be a header with \"format\": \"{EXPORT_FORMAT}\")"
        ),
    };
    let header: Header = serde_json::from_str(line).map_err(|_| not_ours())?;
    if header.format != EXPORT_FORMAT {
        return Err(not_ours());
    }
    if header.version == 0 || header.version > EXPORT_VERSION {
        return Err(TransferError::Format {
            line: 1,
            detail: format!(
                "export format version {} is not one this embassy-bot reads (1 to {EXPORT_VERSION}); use a newer embassy-bot",
                header.version
            ),
        });
    }
    Ok(())
}
