//! A way out of sled: the whole state as JSON Lines, and back.
//!
//! `embassy-bot export` writes one header line, then one line per record:
//! `meta` (sequence counter, each source's read state, contacts, counters),
//! `subscription`, `release`, `seen` (the id hashes of pruned releases),
//! `outbox` (releases being fanned out, with their cursors), `handled` (the
//! fan-out log), `journal` (pushes owed, with when they were journaled, which
//! digests go by), `channel` (who subscribed which channel) and `settings`
//! (each chat's or topic's filters, quiet hours, digest and language).
//! The last line, `end`, carries how many records of each kind came
//! before it: a file cut short (a full disk, `head`, a copy that stopped)
//! lacks it or disagrees with it, and import refuses it rather than
//! rebuilding part of the state.
//! `embassy-bot import` ([`super::import`]) rebuilds a
//! store from that in an empty data directory: exactly the same state, so
//! nothing is announced or pushed twice, and nothing owed is lost. The
//! indexes (`by_date`, `by_source`, the retention counters) are derived, so
//! they are rebuilt rather than carried. Saved `/search` queries
//! (`queries`) are not carried either: they only serve page buttons, and a
//! restored bot's old buttons answer that they expired.
//!
//! The format is versioned ([`EXPORT_VERSION`]); a later version must keep
//! reading the earlier ones. Version 2 added the `end` line; version 1 files
//! have none, so whether one is whole cannot be told, and import takes them
//! only when told to ([`LEGACY_VERSION`]). Meta values are carried as they
//! are stored: 8-byte counters as numbers, JSON as JSON, anything else as hex.

use std::io::Write;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::journal::decode_entry;
use super::meta::{META_RETENTION_INDEXED, NEXT_SEQ};
use super::retention::split_key;
use super::settings::target_of;
use super::subscribers::decode_subscription;
use super::{
    ChannelNote, OutboxEntry, Store, StoreError, StoredItem, Subscription, chat_from_key, corrupt,
    outbox_key_from,
};
use crate::settings::TargetSettings;

/// What the header's `format` says.
pub(crate) const EXPORT_FORMAT: &str = "embassy-bot-export";
/// The version this build writes, and the newest it reads.
pub(crate) const EXPORT_VERSION: u32 = 2;
/// The version written before exports ended with their record counts: its
/// files cannot be checked for being whole.
pub(crate) const LEGACY_VERSION: u32 = 1;

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
    /// The file lacks its closing record counts, or holds other counts than
    /// they say: it was cut short (or spliced), and importing it would lose
    /// what is missing without a word.
    #[error("truncated export: {0}; nothing was imported: take the export again")]
    Truncated(String),
    /// A version 1 export, which carries no record counts, offered to an
    /// import that was not told to take one unchecked.
    #[error(
        "the export is in format version {LEGACY_VERSION}, written before exports ended with their record counts, so whether it is whole cannot be checked; if you know it is (it is not cut short), import it with `import --unchecked-legacy-export`"
    )]
    Unchecked,
}

/// The first line of an export.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Header {
    pub(super) format: String,
    pub(super) version: u32,
    pub(super) exported_at: DateTime<Utc>,
}

/// One line after the header.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(super) enum Record {
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
    /// The last line (version 2 on): how many of each kind came before it.
    End {
        counts: TransferSummary,
    },
}

/// A `meta` value as it is stored.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum MetaValue {
    /// An 8-byte big-endian counter or timestamp.
    U64(u64),
    /// JSON (written back in serde_json's own layout: the same value).
    Json(serde_json::Value),
    /// Anything else.
    Hex(String),
}

/// How many records of each kind an export or import carried (`seen`
/// counts ids, the others lines); an export's last line carries its own.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

impl TransferSummary {
    /// Each count that differs between what an export's last line says
    /// (`self`) and what the file held (`found`), as "12 releases counted,
    /// 7 found".
    pub(super) fn differences(&self, found: &TransferSummary) -> Vec<String> {
        let pairs = [
            ("subscriptions", self.subscriptions, found.subscriptions),
            ("releases", self.releases, found.releases),
            ("seen ids", self.seen, found.seen),
            ("releases being fanned out", self.outbox, found.outbox),
            ("chats handled", self.handled, found.handled),
            ("pending pushes", self.journal, found.journal),
            ("channels", self.channels, found.channels),
            ("settings", self.settings, found.settings),
            ("state records", self.meta, found.meta),
        ];
        pairs
            .into_iter()
            .filter(|(_, said, held)| said != held)
            .map(|(what, said, held)| format!("{said} {what} counted, {held} found"))
            .collect()
    }
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
pub(super) fn is_derived(key: &[u8]) -> bool {
    key == META_RETENTION_INDEXED || key.starts_with(b"kept:") || key.starts_with(b"seen:")
}

/// A `meta` value as the export carries it: counters as numbers, JSON as
/// JSON, so a person can read them; anything else as hex.
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

/// Bytes as lowercase hex, two digits each.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
        self.export_meta(&mut lines)?;
        self.export_subscriptions(&mut lines)?;
        self.export_releases(&mut lines)?;
        self.export_seen(&mut lines)?;
        self.export_outbox(&mut lines)?;
        self.export_fan_out_log(&mut lines)?;
        self.export_journal(&mut lines)?;
        self.export_settings(&mut lines)?;
        self.export_channels(&mut lines)?;
        let counts = lines.summary.clone();
        lines.record(&Record::End { counts })?;
        lines
            .out
            .flush()
            .map_err(|source| io_error("cannot write the export", source))?;
        Ok(lines.summary)
    }

    /// `meta` records: the state that is carried, not the indexes' counters
    /// (import rebuilds those).
    fn export_meta(&self, lines: &mut Lines<'_, impl Write>) -> Result<(), TransferError> {
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
        Ok(())
    }

    /// `subscription` records: what each chat asked to get.
    fn export_subscriptions(&self, lines: &mut Lines<'_, impl Write>) -> Result<(), TransferError> {
        for record in self.subscribers.iter() {
            let (key, value) = record?;
            let chat = chat_from_key(&key).ok_or_else(|| corrupt("subscribers", "bad key"))?;
            lines.summary.subscriptions += 1;
            lines.record(&Record::Subscription {
                chat,
                subscription: decode_subscription(&value)?,
            })?;
        }
        Ok(())
    }

    /// `release` records: every stored release.
    fn export_releases(&self, lines: &mut Lines<'_, impl Write>) -> Result<(), TransferError> {
        for record in self.items.iter() {
            let (_, value) = record?;
            let release: StoredItem =
                serde_json::from_slice(&value).map_err(|e| corrupt("items", e))?;
            lines.summary.releases += 1;
            lines.record(&Record::Release { release })?;
        }
        Ok(())
    }

    /// `seen` records: the id hashes of pruned releases, a chunk per line.
    fn export_seen(&self, lines: &mut Lines<'_, impl Write>) -> Result<(), TransferError> {
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
        Ok(())
    }

    /// `outbox` records: releases being fanned out, with their cursors.
    fn export_outbox(&self, lines: &mut Lines<'_, impl Write>) -> Result<(), TransferError> {
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
        Ok(())
    }

    /// `handled` records: the fan-out log, chats a walk already handed a release to.
    fn export_fan_out_log(&self, lines: &mut Lines<'_, impl Write>) -> Result<(), TransferError> {
        for (key, chat) in self.fan_out_log.records()? {
            lines.summary.handled += 1;
            lines.record(&Record::Handled { key, chat })?;
        }
        Ok(())
    }

    /// `journal` records: pushes owed.
    fn export_journal(&self, lines: &mut Lines<'_, impl Write>) -> Result<(), TransferError> {
        for record in self.journal.iter() {
            let entry = decode_entry(record?)?;
            if entry.edit {
                // An edit names a message by its id, which is not exported:
                // imported, it would be a second push.
                continue;
            }
            lines.summary.journal += 1;
            lines.record(&Record::Journal {
                chat: entry.chat,
                seq: entry.seq,
                thread: entry.thread,
                item_id: entry.item_id,
                journaled_at: entry.journaled_at,
            })?;
        }
        Ok(())
    }

    /// `settings` records: what each chat or topic chose.
    fn export_settings(&self, lines: &mut Lines<'_, impl Write>) -> Result<(), TransferError> {
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
        Ok(())
    }

    /// `channel` records: who subscribed which channel from a private chat.
    fn export_channels(&self, lines: &mut Lines<'_, impl Write>) -> Result<(), TransferError> {
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
        Ok(())
    }
}

impl From<sled::Error> for TransferError {
    fn from(e: sled::Error) -> Self {
        TransferError::Store(StoreError::Sled(e))
    }
}

/// A read or write of the export file that failed, saying which.
pub(super) fn io_error(what: &str, source: std::io::Error) -> TransferError {
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
    /// One line of JSON.
    fn write<T: Serialize>(&mut self, value: &T) -> Result<(), TransferError> {
        serde_json::to_writer(&mut *self.out, value)
            .map_err(|e| io_error("cannot write the export", e.into()))?;
        self.out
            .write_all(b"\n")
            .map_err(|source| io_error("cannot write the export", source))
    }

    /// One record after the header.
    fn record(&mut self, record: &Record) -> Result<(), TransferError> {
        self.write(record)
    }
}
