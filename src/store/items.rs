//! Releases as the sources show them, and recording one read of a source:
//! new releases are stored and queued in the outbox in one transaction.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::meta::{NEXT_SEQ, item_count_key, primed_key};
use super::retention::{id_hash, index_new};
use super::revisions::{merge_seen, note_if_revised, queue_edit};
use super::{OutboxEntry, Store, StoreError, abort, corrupt, date_key};
use crate::config::Retention;
use crate::source::Item;

/// A release plus what the store knows about it.
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
    /// Increasing in discovery order (oldest first within one read).
    pub seq: u64,
    /// When its title or lead was last revised (Unix seconds; see
    /// `store/revisions.rs`); feeds show it as the entry's `updated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revised_at: Option<i64>,
}

impl StoredItem {
    /// Every source that has listed this release.
    pub fn sources(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.source.as_str()).chain(self.also_on.iter().map(String::as_str))
    }

    /// Whether `source` has listed this release.
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

/// What recording one read changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollOutcome {
    /// Releases never seen before, oldest first.
    pub new_items: Vec<StoredItem>,
    /// True when this was the source's first successful read: nothing is queued.
    pub first_poll: bool,
    /// How many releases were queued in the outbox for their subscribers.
    pub queued: usize,
    /// True when more new releases came at once than [`PollPolicy::max_new`]: all
    /// were recorded and none queued (a layout or URL change, not news).
    pub flood: bool,
    /// New releases recorded but not queued because they are dated before
    /// [`PollPolicy::oldest_date`] (an old release that surfaced on the page).
    pub too_old: usize,
    /// Releases on the page that were pruned long ago and are remembered
    /// only as seen: not recorded again, never queued.
    pub pruned_before: usize,
    /// What keeping the source within [`PollPolicy::retention`] pruned.
    pub pruned: super::Pruned,
    /// Known releases whose title or lead the read revised.
    pub revised: usize,
    /// How many of those were queued to have their sent messages edited
    /// (none on a first read, in a flood, or with edits off).
    pub edits_queued: usize,
}

/// What recording one page of a source's archive changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArchiveOutcome {
    /// Releases the store did not have.
    pub new: usize,
    /// Releases stored before from another source, listed on this one for the first time.
    pub new_here: usize,
    /// Releases this source had listed before.
    pub known: usize,
}

impl ArchiveOutcome {
    /// Whether the page told the store anything about this source it did not know.
    pub fn anything_new(&self) -> bool {
        self.new + self.new_here > 0
    }
}

/// The flood guard one read is recorded under, decided inside the same
/// transaction that records the releases, so what is queued always matches
/// what the store knew at that instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollPolicy {
    /// More new releases than this in one read: none is queued.
    pub max_new: usize,
    /// New releases dated before this day are recorded but not queued; undated
    /// ones always count as fresh (their age cannot be told).
    pub oldest_date: Option<NaiveDate>,
    /// How much of the source's history is kept once the read is recorded.
    pub retention: Retention,
    /// Whether revised releases are queued for their sent messages to be
    /// edited (`edits.enabled`).
    pub edits: bool,
}

impl PollPolicy {
    /// A source's guard on `today`: at most `max_new` new releases a read, none
    /// dated more than `max_age_days` before it.
    pub fn new(max_new: usize, max_age_days: u32, today: NaiveDate) -> PollPolicy {
        PollPolicy {
            max_new,
            oldest_date: today.checked_sub_days(chrono::Days::new(u64::from(max_age_days))),
            retention: Retention::DEFAULT,
            edits: true,
        }
    }

    /// The same guard, editing sent messages of revised releases or not.
    pub fn editing(self, edits: bool) -> PollPolicy {
        PollPolicy { edits, ..self }
    }

    /// The same guard, keeping `retention` of the source's history.
    pub fn retaining(self, retention: Retention) -> PollPolicy {
        PollPolicy { retention, ..self }
    }

    /// No guard at all: every new release is queued (tests and tools).
    pub fn unguarded() -> PollPolicy {
        PollPolicy {
            max_new: usize::MAX,
            oldest_date: None,
            retention: Retention::DEFAULT,
            edits: true,
        }
    }

    /// Whether `new` new releases in one read are too many to be news.
    pub fn is_flood(&self, new: usize) -> bool {
        new > self.max_new
    }

    /// Whether `item` is recent enough to be pushed.
    pub fn is_fresh(&self, item: &Item) -> bool {
        match (item.date, self.oldest_date) {
            (Some(date), Some(oldest)) => date >= oldest,
            _ => true,
        }
    }
}

impl Store {
    /// Records one successful read of `source`: new releases are stored and,
    /// unless this is the source's first read or `policy` holds them back (a
    /// flood, or old ones), queued in the outbox — all in one transaction.
    /// Known releases are updated in place (edited titles) and never queued
    /// again for the same source. `items` is in page order (newest first); new
    /// releases get sequence numbers oldest first. The read's item count is
    /// remembered ([`Store::item_count_of`]). Releases pruned long ago are
    /// known by their id's hash and stay quiet; when the read brought new
    /// releases, the source is pruned down to `policy.retention`.
    pub async fn record_poll(
        &self,
        source: &str,
        items: &[Item],
        policy: &PollPolicy,
        now: DateTime<Utc>,
    ) -> Result<PollOutcome, StoreError> {
        let ordered = oldest_first(items);
        let mut outcome = self
            .record_read(source, policy, now, |read| {
                read.judge_flood(&ordered)?;
                for item in &ordered {
                    read.record(item)?;
                }
                read.finish(items.len())
            })
            .await?;
        if !outcome.new_items.is_empty() {
            outcome.pruned = self.prune(source, &policy.retention)?;
            self.commit().await?;
        }
        Ok(outcome)
    }

    /// Records one page of `source`'s archive, silently: its releases are
    /// stored (or their edits taken) like a read's, but nothing is queued for
    /// anyone, and the source's read state — whether it was ever read, how
    /// many releases its page showed, which the poller's first-read rule and
    /// emptied-page alert rely on — is left to the live poller. A release
    /// another source had is marked as listed here too, so the live poller
    /// does not take it for news later. `items` is in page order (newest
    /// first); an undated new release is placed at the date of its nearest
    /// dated neighbour on the page (the one after it, else before it), since
    /// when we first saw it says nothing about its age.
    pub async fn record_archive(
        &self,
        source: &str,
        items: &[Item],
        now: DateTime<Utc>,
    ) -> Result<ArchiveOutcome, StoreError> {
        let ordered = oldest_first(items);
        let undated_at = place_undated(items);
        self.record_read(source, &PollPolicy::unguarded(), now, |read| {
            read.silent = true;
            read.undated_at = undated_at.clone();
            let mut outcome = ArchiveOutcome::default();
            for item in &ordered {
                match read.stored(&item.id)? {
                    None => outcome.new += 1,
                    Some(known) if known.listed_on(source) => outcome.known += 1,
                    Some(_) => outcome.new_here += 1,
                }
                read.record(item)?;
            }
            read.trees
                .meta
                .insert(NEXT_SEQ, &read.next_seq.to_be_bytes())?;
            Ok(outcome)
        })
        .await
    }

    /// Runs `body` over one read of `source` inside the transaction that
    /// records it (sled may run it more than once), then makes it durable,
    /// raises the high-water mark to the sequence counter it left, and brings
    /// the search index up to date with what it wrote.
    async fn record_read<T>(
        &self,
        source: &str,
        policy: &PollPolicy,
        now: DateTime<Utc>,
        body: impl Fn(&mut ReadInProgress<'_>) -> TxResult<T>,
    ) -> Result<T, StoreError> {
        let trees = (
            &self.items,
            &self.by_date,
            &self.outbox,
            &self.meta,
            &self.by_source,
            &self.revisions,
        );
        let (result, written, next_seq) = {
            // No pruning moves a release into the seen-set meanwhile.
            let seen = self.seen_set.read();
            let pruned = |id: &str| seen.contains_key(&id_hash(id));
            trees.transaction(|(items, by_date, outbox, meta, by_source, revisions)| {
                let trees = PollTrees {
                    items,
                    by_date,
                    outbox,
                    meta,
                    by_source,
                    revisions,
                };
                let mut read = ReadInProgress::begin(trees, &pruned, source, policy, now)?;
                let result = body(&mut read)?;
                Ok((result, std::mem::take(&mut read.written), read.next_seq))
            })?
        };
        self.commit().await?;
        // Only once the counter this read wrote is durable. A mark that
        // cannot be raised costs only the check it allows: the read stands.
        if let Err(e) = self.raise_high_water(next_seq).await
            && let Some(held_back) = crate::runtime::log_limit::allow("raise the high-water mark")
        {
            tracing::warn!(error = %e, held_back, "cannot raise the high-water mark; a rollback to before this read would go unnoticed");
        }
        self.reindex(written.iter().map(String::as_str));
        Ok(result)
    }

    /// One stored release by id.
    pub fn item(&self, id: &str) -> Result<Option<StoredItem>, StoreError> {
        self.items
            .get(id.as_bytes())?
            .map(|v| serde_json::from_slice(&v).map_err(|e| corrupt("items", e)))
            .transpose()
    }

    /// The newest `n` releases by the site's date, newest first.
    pub fn latest(&self, n: usize) -> Result<Vec<StoredItem>, StoreError> {
        Ok(self.latest_page(0, n)?.items)
    }

    /// The newest `n` releases for which `wanted` holds (a source's feed),
    /// newest first.
    pub fn latest_matching(
        &self,
        n: usize,
        wanted: impl Fn(&StoredItem) -> bool,
    ) -> Result<Vec<StoredItem>, StoreError> {
        let mut out = Vec::with_capacity(n.min(100));
        for entry in self.by_date.iter().rev() {
            if out.len() >= n {
                break;
            }
            let (_, id) = entry?;
            let id = String::from_utf8(id.to_vec()).map_err(|e| corrupt("by_date", e))?;
            if let Some(item) = self.item(&id)?
                && wanted(&item)
            {
                out.push(item);
            }
        }
        Ok(out)
    }

    /// How many releases are stored.
    pub fn item_count(&self) -> usize {
        self.items.len()
    }
}

/// When each undated release of a page (in page order) should count as first
/// seen: midnight UTC of its nearest dated neighbour, the older one (after it)
/// first. Releases with no dated neighbour are left out (they count as seen now).
fn place_undated(items: &[Item]) -> HashMap<String, i64> {
    let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp());
    let mut out = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        if item.date.is_some() {
            continue;
        }
        let after = items[i + 1..].iter().find_map(|o| o.date);
        let before = items[..i].iter().rev().find_map(|o| o.date);
        if let Some(at) = after.or(before).and_then(midnight) {
            out.insert(item.id.clone(), at);
        }
    }
    out
}

/// Oldest first: reverse page order, then by date (undated ones count as newest).
fn oldest_first(items: &[Item]) -> Vec<&Item> {
    let mut ordered: Vec<&Item> = items.iter().rev().collect();
    ordered.sort_by_key(|i| i.date.unwrap_or(NaiveDate::MAX));
    ordered
}

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

/// The trees one read is recorded in.
struct PollTrees<'t> {
    items: &'t TransactionalTree,
    by_date: &'t TransactionalTree,
    outbox: &'t TransactionalTree,
    meta: &'t TransactionalTree,
    by_source: &'t TransactionalTree,
    revisions: &'t TransactionalTree,
}

/// One read being recorded, inside its transaction (which sled may run more
/// than once: nothing here does I/O of its own).
struct ReadInProgress<'a> {
    trees: PollTrees<'a>,
    /// Whether an id is in the seen-set (a release pruned long ago).
    was_pruned: &'a dyn Fn(&str) -> bool,
    source: &'a str,
    policy: &'a PollPolicy,
    now: DateTime<Utc>,
    next_seq: u64,
    outcome: PollOutcome,
    /// Ids of the releases written, for the search index.
    written: Vec<String>,
    /// An archive page: nothing is queued ([`Store::record_archive`]).
    silent: bool,
    /// For an archive page: when undated new releases count as first seen.
    undated_at: HashMap<String, i64>,
    /// Known releases this read revised: (sequence, id, first source), for
    /// their edit entries, queued after the read's new releases.
    revised: Vec<(u64, String, String)>,
}

impl<'a> ReadInProgress<'a> {
    fn begin(
        trees: PollTrees<'a>,
        was_pruned: &'a dyn Fn(&str) -> bool,
        source: &'a str,
        policy: &'a PollPolicy,
        now: DateTime<Utc>,
    ) -> TxResult<ReadInProgress<'a>> {
        let first_poll = trees.meta.get(primed_key(source))?.is_none();
        let next_seq = match trees.meta.get(NEXT_SEQ)? {
            Some(v) => u64::from_be_bytes(
                v.as_ref()
                    .try_into()
                    .map_err(|_| abort("meta", "next_seq is not 8 bytes"))?,
            ),
            None => 1,
        };
        Ok(ReadInProgress {
            trees,
            was_pruned,
            source,
            policy,
            now,
            next_seq,
            outcome: PollOutcome {
                first_poll,
                ..PollOutcome::default()
            },
            written: Vec::new(),
            silent: false,
            undated_at: HashMap::new(),
            revised: Vec::new(),
        })
    }

    fn stored(&self, id: &str) -> TxResult<Option<StoredItem>> {
        match self.trees.items.get(id.as_bytes())? {
            Some(bytes) => Ok(Some(
                serde_json::from_slice(&bytes).map_err(|e| abort("items", e))?,
            )),
            None => Ok(None),
        }
    }

    /// Counts the releases new to this source (never seen, or seen only on
    /// other sources) and decides whether they are too many to be news.
    fn judge_flood(&mut self, ordered: &[&Item]) -> TxResult<()> {
        let mut new_here = 0;
        for item in ordered {
            let new = match self.stored(&item.id)? {
                Some(stored) => !stored.listed_on(self.source),
                None => !(self.was_pruned)(&item.id),
            };
            if new {
                new_here += 1;
            }
        }
        self.outcome.flood = !self.outcome.first_poll && self.policy.is_flood(new_here);
        Ok(())
    }

    /// Whether a release new to this source may be queued: not on the first
    /// read, not in a flood, and not too old (counted when it is).
    fn may_queue(&mut self, item: &Item) -> bool {
        if self.silent || self.outcome.first_poll || self.outcome.flood {
            return false;
        }
        let fresh = self.policy.is_fresh(item);
        if !fresh {
            self.outcome.too_old += 1;
        }
        fresh
    }

    fn record(&mut self, item: &Item) -> TxResult<()> {
        let stored = match self.stored(&item.id)? {
            Some(known) => match self.update_known(known, item)? {
                Some(updated) => updated,
                None => return Ok(()), // unchanged
            },
            None if (self.was_pruned)(&item.id) => {
                self.outcome.pruned_before += 1;
                return Ok(());
            }
            None => self.add_new(item)?,
        };
        self.trees.by_date.insert(
            &date_key(stored.sort_date(), stored.seq),
            item.id.as_bytes(),
        )?;
        let bytes = serde_json::to_vec(&stored).map_err(|e| abort("items", e))?;
        self.trees.items.insert(item.id.as_bytes(), bytes)?;
        self.written.push(item.id.clone());
        Ok(())
    }

    /// A release never seen before: stored under the next sequence number.
    fn add_new(&mut self, item: &Item) -> TxResult<StoredItem> {
        let stored = StoredItem {
            item: item.clone(),
            source: self.source.to_string(),
            also_on: BTreeSet::new(),
            first_seen: self
                .undated_at
                .get(&item.id)
                .copied()
                .unwrap_or_else(|| self.now.timestamp()),
            seq: self.take_seq(),
            revised_at: None,
        };
        index_new(
            self.trees.by_source,
            self.trees.meta,
            self.source,
            stored.seq,
            &item.id,
        )?;
        if self.may_queue(item) {
            // Its outbox key is its own sequence number.
            let entry = OutboxEntry::new(&item.id, self.source, None, Vec::new());
            self.queue(stored.seq, &entry)?;
        }
        self.outcome.new_items.push(stored.clone());
        Ok(stored)
    }

    /// A known release seen again: the page's edits are taken, and if this
    /// source lists it for the first time, its followers who have not had it
    /// from another source are told. `None` when nothing changed.
    fn update_known(
        &mut self,
        mut stored: StoredItem,
        seen: &Item,
    ) -> TxResult<Option<StoredItem>> {
        let merged = merge_seen(&stored.item, seen);
        let first_time_here = !stored.listed_on(self.source);
        if stored.item == merged && !first_time_here {
            return Ok(None);
        }
        if first_time_here {
            if self.may_queue(seen) {
                let already_told = stored.sources().map(str::to_string).collect();
                let entry = OutboxEntry::new(&seen.id, self.source, Some(stored.seq), already_told);
                let key = self.take_seq();
                self.queue(key, &entry)?;
            }
            stored.also_on.insert(self.source.to_string());
        }
        if note_if_revised(self.trees.revisions, &mut stored, &merged, self.now)? {
            self.outcome.revised += 1;
            self.revised
                .push((stored.seq, seen.id.clone(), stored.source.clone()));
        }
        // Its date may have changed: the old `by_date` key goes.
        self.trees
            .by_date
            .remove(&date_key(stored.sort_date(), stored.seq))?;
        stored.item = merged;
        Ok(Some(stored))
    }

    fn take_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    fn queue(&mut self, key: u64, entry: &OutboxEntry) -> TxResult<()> {
        let bytes = serde_json::to_vec(entry).map_err(|e| abort("outbox", e))?;
        self.trees.outbox.insert(&key.to_be_bytes(), bytes)?;
        self.outcome.queued += 1;
        Ok(())
    }

    /// Queues an edit entry for each release this read revised, after its
    /// new releases (new news first): not on a first read or in a flood,
    /// nor when more were revised at once than [`PollPolicy::max_new`] (a
    /// change of layout or extraction, not corrections), nor with edits off.
    fn queue_edits(&mut self) -> TxResult<()> {
        let revised = std::mem::take(&mut self.revised);
        if !self.policy.edits
            || self.silent
            || self.outcome.first_poll
            || self.outcome.flood
            || self.policy.is_flood(revised.len())
        {
            return Ok(());
        }
        for (seq, id, source) in revised {
            let key = self.take_seq();
            queue_edit(self.trees.outbox, key, OutboxEntry::edit(&id, &source, seq))?;
            self.outcome.edits_queued += 1;
        }
        Ok(())
    }

    /// Saves the counters and the source's read state; the read's outcome.
    fn finish(&mut self, items_on_page: usize) -> TxResult<PollOutcome> {
        self.queue_edits()?;
        let meta = self.trees.meta;
        meta.insert(NEXT_SEQ, &self.next_seq.to_be_bytes())?;
        meta.insert(primed_key(self.source), &self.now.timestamp().to_be_bytes())?;
        meta.insert(
            item_count_key(self.source),
            &(items_on_page as u64).to_be_bytes(),
        )?;
        Ok(std::mem::take(&mut self.outcome))
    }
}
