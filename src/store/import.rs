//! The way back into sled: `embassy-bot import` rebuilds a store from an
//! export ([`super::export`] describes the format) in an empty data
//! directory, batch by batch, then the indexes' counters, the fan-out log
//! and the high-water mark.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use super::channels::index_key;
use super::export::{
    EXPORT_FORMAT, EXPORT_VERSION, Header, MetaValue, Record, TransferError, TransferSummary,
    io_error, is_derived,
};
use super::fanout_log::FanOutLog;
use super::journal::entry_value;
use super::meta::{META_RETENTION_INDEXED, NEXT_SEQ, kept_count_key, seen_count_key};
use super::retention::source_key;
use super::settings::settings_key;
use super::{Store, StoredItem, Target, chat_key, date_key, encode, target_journal_key};

/// Records written to the database per batch on import.
const BATCH: usize = 1_000;

impl Store {
    /// Rebuilds the state an export describes in `dir`, which must be empty
    /// (or not exist). On any error the directory is left empty again.
    pub fn import(dir: &Path, input: impl BufRead) -> Result<TransferSummary, TransferError> {
        refuse_unless_empty(dir)?;
        let imported = Store::open(dir)
            .map_err(TransferError::from)
            .and_then(|store| {
                let summary = Importer::new(&store).run(input)?;
                store.db.flush()?;
                Ok(summary)
            });
        if imported.is_err() {
            // Handles are dropped; leave the directory as it was found.
            empty_out(dir);
        }
        imported
    }
}

/// An import never mixes with a state already there: `dir` must be empty
/// or not exist yet.
fn refuse_unless_empty(dir: &Path) -> Result<(), TransferError> {
    let empty = match std::fs::read_dir(dir) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(e) => return Err(io_error(&format!("cannot read {}", dir.display()), e)),
    };
    if !empty {
        return Err(TransferError::NotEmpty(dir.to_path_buf()));
    }
    Ok(())
}

/// Removes what a failed import wrote into `dir`, as far as it can.
fn empty_out(dir: &Path) {
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

/// An import in progress: batches per tree, and what the indexes need.
struct Importer<'a> {
    store: &'a Store,
    /// Per tree: the writes not yet applied, and how many.
    batches: HashMap<&'static str, (sled::Batch, usize)>,
    /// Releases kept per source, for the retention counters.
    kept: HashMap<String, u64>,
    /// Pruned ids per source, for the retention counters.
    seen: HashMap<String, u64>,
    /// The fan-out log, encoded, written once at the end.
    handled: Vec<u8>,
    /// The sequence counter, for the high-water mark.
    next_seq: u64,
    summary: TransferSummary,
}

impl<'a> Importer<'a> {
    /// An import into `store`, which is empty.
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

    /// Reads the header, then applies each record; an error names its line.
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

    /// Queues one write to `tree`, applying the tree's batch once it is full.
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

    /// Applies what is queued for the tree called `name`.
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

    /// Writes one record where it belongs, counting it.
    fn apply(&mut self, record: Record) -> Result<(), TransferError> {
        match record {
            Record::Meta { key, value } => self.import_meta(key, value),
            Record::Subscription { chat, subscription } => {
                self.summary.subscriptions += 1;
                self.put(
                    "subscribers",
                    chat_key(chat),
                    encode("subscribers", &subscription)?,
                )
            }
            Record::Release { release } => self.import_release(release),
            Record::Seen {
                source,
                from_seq,
                hashes,
            } => self.import_seen(source, from_seq, &hashes),
            Record::Outbox { key, entry } => {
                self.summary.outbox += 1;
                self.put("outbox", key.to_be_bytes(), encode("outbox", &entry)?)
            }
            Record::Handled { key, chat } => {
                self.summary.handled += 1;
                FanOutLog::encode(&mut self.handled, key, chat);
                Ok(())
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
                )
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
                )
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
                )
            }
        }
    }

    /// A `meta` record, back in its stored form; the sequence counter is
    /// noted for the high-water mark, and derived counters are skipped.
    fn import_meta(&mut self, key: String, value: MetaValue) -> Result<(), TransferError> {
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
        Ok(())
    }

    /// A release, with its entries in the date and source indexes, counted
    /// for its source's retention.
    fn import_release(&mut self, release: StoredItem) -> Result<(), TransferError> {
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
        self.put("items", id.as_bytes(), encode("items", &release)?)
    }

    /// A chunk of pruned releases' id hashes, counted for its source.
    fn import_seen(
        &mut self,
        source: String,
        from_seq: u64,
        hashes: &[String],
    ) -> Result<(), TransferError> {
        let mut chunk = Vec::with_capacity(hashes.len() * 8);
        for hash in hashes {
            let bytes = unhex(hash)
                .filter(|h| h.len() == 8)
                .ok_or_else(|| bad(format!("seen: `{hash}` is not 16 hex digits")))?;
            chunk.extend_from_slice(&bytes);
        }
        self.summary.seen += hashes.len();
        self.put("seen", source_key(&source, from_seq), chunk)?;
        *self.seen.entry(source).or_default() += hashes.len() as u64;
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

/// A record that does not say what it should; its line is filled in by
/// [`Importer::run`].
fn bad(detail: String) -> TransferError {
    TransferError::Format { line: 0, detail }
}

/// The bytes `text` spells in hex, if it does.
fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Refuses anything but an embassy-bot export of a version this build reads.
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
