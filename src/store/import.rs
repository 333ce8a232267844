//! The way back into sled: `embassy-bot import` rebuilds a store from an
//! export ([`super::export`] describes the format) for an empty data
//! directory, batch by batch, then the indexes' counters, the fan-out log
//! and the high-water mark. The store is built aside and moved in only once
//! the file proved whole and the store is closed ([`super::staging`]): a
//! truncated file, an error or a `kill -9` leaves the data directory as it
//! was.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use super::channels::index_key;
use super::export::{
    EXPORT_FORMAT, EXPORT_VERSION, Header, LEGACY_VERSION, MetaValue, Record, TransferError,
    TransferSummary, io_error, is_derived,
};
use super::fanout_log::FanOutLog;
use super::journal::entry_value;
use super::meta::{META_RETENTION_INDEXED, NEXT_SEQ, kept_count_key, seen_count_key};
use super::retention::source_key;
use super::settings::settings_key;
use super::staging::{Staging, settle};
use super::{Store, StoredItem, Target, chat_key, date_key, encode, target_journal_key};

/// Records written to the database per batch on import.
const BATCH: usize = 1_000;

/// What an import does with an export of format version 1, which carries no
/// record counts to check it against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Legacy {
    /// Refuses it ([`TransferError::Unchecked`]).
    Refuse,
    /// Imports it, trusting that it is whole.
    Unchecked,
}

impl Store {
    /// Rebuilds the state an export describes in `dir`, which must be empty
    /// (or not exist). The file must end with its record counts and hold
    /// what they say ([`TransferError::Truncated`] otherwise); an export of
    /// format version 1, which has none, is refused
    /// ([`TransferError::Unchecked`]). On any error, or if the process is
    /// killed, `dir` is left as it was.
    pub fn import(dir: &Path, input: impl BufRead) -> Result<TransferSummary, TransferError> {
        import_into(dir, input, Legacy::Refuse)
    }

    /// Like [`Store::import`], but also takes an export of format version 1
    /// (written before exports ended with their record counts), whose being
    /// whole cannot be checked: for `import --unchecked-legacy-export`.
    /// Current exports are checked all the same.
    pub fn import_unchecked_legacy(
        dir: &Path,
        input: impl BufRead,
    ) -> Result<TransferSummary, TransferError> {
        import_into(dir, input, Legacy::Unchecked)
    }
}

/// Builds the store aside, checks the file was whole, then moves it in.
fn import_into(
    dir: &Path,
    input: impl BufRead,
    legacy: Legacy,
) -> Result<TransferSummary, TransferError> {
    settle(dir)?;
    refuse_unless_empty(dir)?;
    let staging = Staging::begin(dir)?;
    let summary = {
        let store = Store::open(staging.path())?;
        let summary = Importer::new(&store, legacy).run(input)?;
        store.db.flush()?;
        summary
    };
    staging.publish()?;
    Ok(summary)
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
    /// What to do with a version 1 export.
    legacy: Legacy,
}

impl<'a> Importer<'a> {
    /// An import into `store`, which is empty.
    fn new(store: &'a Store, legacy: Legacy) -> Importer<'a> {
        Importer {
            store,
            batches: HashMap::new(),
            kept: HashMap::new(),
            seen: HashMap::new(),
            handled: Vec::new(),
            next_seq: 1,
            summary: TransferSummary::default(),
            legacy,
        }
    }

    /// Reads the header, then applies each record; an error names its line.
    /// A current export must end with its record counts, and they must be
    /// what the file held: checked before anything is finished, so a
    /// truncated file costs only the staging directory.
    fn run(mut self, input: impl BufRead) -> Result<TransferSummary, TransferError> {
        let mut lines = input.lines().peekable();
        let header = lines
            .next()
            .transpose()
            .map_err(|e| io_error("cannot read the export", e))?
            .ok_or(TransferError::Format {
                line: 1,
                detail: "the file is empty, not an embassy-bot export".into(),
            })?;
        let checked = match check_header(&header)? {
            LEGACY_VERSION if self.legacy == Legacy::Refuse => {
                return Err(TransferError::Unchecked);
            }
            LEGACY_VERSION => false,
            _ => true,
        };
        let mut last_line = 1;
        let mut end: Option<(usize, TransferSummary)> = None;
        while let Some(line) = lines.next() {
            last_line += 1;
            let line_no = last_line;
            let line = line.map_err(|e| io_error("cannot read the export", e))?;
            if line.trim().is_empty() {
                continue;
            }
            if let Some((at, _)) = &end {
                return Err(TransferError::Format {
                    line: line_no,
                    detail: format!(
                        "a record after the record counts of line {at}, which end an export (two files joined?)"
                    ),
                });
            }
            let record: Record = match serde_json::from_str(&line) {
                Ok(record) => record,
                // The last line, cut in the middle: the file was cut short.
                Err(_) if checked && lines.peek().is_none() => {
                    return Err(TransferError::Truncated(format!(
                        "the file ends in the middle of line {line_no}"
                    )));
                }
                Err(e) => {
                    return Err(TransferError::Format {
                        line: line_no,
                        detail: format!("not a record of this export format: {e}"),
                    });
                }
            };
            if let Record::End { counts } = record {
                if !checked {
                    return Err(TransferError::Format {
                        line: line_no,
                        detail: format!(
                            "record counts in a format version {LEGACY_VERSION} export, which has none"
                        ),
                    });
                }
                end = Some((line_no, counts));
                continue;
            }
            self.apply(record).map_err(|e| match e {
                TransferError::Format { detail, .. } => TransferError::Format {
                    line: line_no,
                    detail,
                },
                other => other,
            })?;
        }
        if checked {
            match end {
                None => {
                    return Err(TransferError::Truncated(format!(
                        "the file ends after line {last_line} without the record counts every export ends with"
                    )));
                }
                Some((at, counts)) if counts != self.summary => {
                    return Err(TransferError::Truncated(format!(
                        "the record counts of line {at} disagree with what the file holds ({})",
                        counts.differences(&self.summary).join(", ")
                    )));
                }
                Some(_) => {}
            }
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
            // Read by `run`, never applied.
            Record::End { .. } => Ok(()),
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

/// Refuses anything but an embassy-bot export of a version this build
/// reads; the version.
fn check_header(line: &str) -> Result<u32, TransferError> {
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
    Ok(header.version)
}
