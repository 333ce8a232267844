//! Releases' own pages as read: the body (full text) of each release, and
//! how reading its page went, in the `bodies` tree (item id → [`PageRecord`],
//! JSON). Apart from `items`, so a release is recorded and pushed without
//! waiting for its page, and a body never makes the records `/latest` and
//! the fan-out read any larger.
//!
//! Each record says which listing (title and lead, [`listing_hash`]) its
//! page was read for: when the listing changes, the page is read once more
//! (conditionally), and the older body serves until then. Failed reads are
//! counted per listing and given up after `full_text.max_attempts`.
//!
//! A body written here reaches `/search` (the index holds its words) and the
//! feeds (through [`Store::releases_written`]). Writes are not flushed: a
//! body lost in a crash costs one more read of its page. Pruned releases
//! lose their records with them (`retention`). `body_seqs` maps a release's
//! sequence number to its id, for the "Full text" button. Export leaves bodies out:
//! they are read again.

use serde::{Deserialize, Serialize};

use super::{Store, StoreError, StoredItem, corrupt};
use crate::source::body::Body;

/// How reading one release's page went.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PageRecord {
    /// The release's sequence number, by which a "Full text" button names it
    /// (its id can be longer than a button's 64 bytes).
    #[serde(default)]
    pub seq: u64,
    /// [`listing_hash`] of the title and lead the page was last read (or
    /// tried) for.
    pub listing: u64,
    /// The body of the last good read, for this listing or an earlier one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
    /// Whether the page was read for `listing` (or given up for it).
    #[serde(default)]
    pub done: bool,
    /// Failed reads for `listing` so far.
    #[serde(default)]
    pub failures: u32,
    /// Unix second before which it is not tried again (backoff, `Retry-After`).
    #[serde(default)]
    pub retry_at: i64,
    /// The last good read's `ETag` and `Last-Modified`, for a conditional re-read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

/// What a release's listing says that its page is read for: a change of
/// either means one more read. FNV-1a (64 bit): stable across builds and
/// platforms, unlike std's hasher, since it is stored.
pub(crate) fn listing_hash(title: &str, lead: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in title.bytes().chain([0u8]).chain(lead.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// Whether a release whose listing hashes to `listing`, with `record` (if
/// any) saying how its page went, should be read at `now` (Unix seconds),
/// giving up after `max_attempts` failures. Pure.
pub(crate) fn wants_read(
    record: Option<&PageRecord>,
    listing: u64,
    now: i64,
    max_attempts: u32,
) -> bool {
    match record {
        None => true,
        Some(r) if r.listing != listing => r.retry_at <= now,
        Some(r) => !r.done && r.failures < max_attempts && r.retry_at <= now,
    }
}

impl Store {
    /// How reading the page of release `id` went, if it was ever tried.
    pub(crate) fn page_record(&self, id: &str) -> Result<Option<PageRecord>, StoreError> {
        self.bodies
            .get(id.as_bytes())?
            .map(|v| serde_json::from_slice(&v).map_err(|e| corrupt("bodies", e)))
            .transpose()
    }

    /// The full text of release `id`, once its page was read.
    pub(crate) fn body(&self, id: &str) -> Result<Option<Body>, StoreError> {
        Ok(self.page_record(id)?.and_then(|r| r.body))
    }

    /// Records how reading release `id`'s page went. A release pruned
    /// meanwhile gets no record. When the body changed, the search index and
    /// the feeds follow: true then (one more of [`Store::releases_written`]).
    pub(crate) fn save_page_record(
        &self,
        id: &str,
        record: &PageRecord,
    ) -> Result<bool, StoreError> {
        if !self.items.contains_key(id.as_bytes())? {
            return Ok(false);
        }
        let bytes = serde_json::to_vec(record).map_err(|e| corrupt("bodies", e))?;
        let old = self.bodies.insert(id.as_bytes(), bytes)?;
        if record.body.is_some() {
            self.body_seqs
                .insert(record.seq.to_be_bytes(), id.as_bytes())?;
        }
        let old_body = old
            .and_then(|v| serde_json::from_slice::<PageRecord>(&v).ok())
            .and_then(|r| r.body);
        let changed = old_body != record.body;
        if changed {
            self.reindex([id]);
        }
        Ok(changed)
    }

    /// The release whose sequence number is `seq` and its body, once its
    /// page was read (what a "Full text" button shows).
    pub(crate) fn body_by_seq(&self, seq: u64) -> Result<Option<(StoredItem, Body)>, StoreError> {
        let Some(id) = self.body_seqs.get(seq.to_be_bytes())? else {
            return Ok(None);
        };
        let id = std::str::from_utf8(&id).map_err(|e| corrupt("body_seqs", e))?;
        let (Some(stored), Some(body)) = (self.item(id)?, self.body(id)?) else {
            return Ok(None);
        };
        Ok(Some((stored, body)))
    }

    /// Forgets the pages of releases no longer stored.
    pub(super) fn forget_pages<'a>(&self, ids: impl IntoIterator<Item = &'a str>) {
        for id in ids {
            let forget = || -> Result<(), StoreError> {
                if let Some(record) = self.page_record(id)? {
                    self.body_seqs.remove(record.seq.to_be_bytes())?;
                }
                self.bodies.remove(id.as_bytes())?;
                Ok(())
            };
            if let Err(e) = forget() {
                tracing::warn!(error = %e, "cannot forget a pruned release's page");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_read_once_per_listing_and_given_up_after_its_attempts() {
        let listing = listing_hash("Title", "Lead");
        assert_ne!(listing, listing_hash("Title", "Lead changed"));
        assert_ne!(listing_hash("ab", "c"), listing_hash("a", "bc"));
        assert!(wants_read(None, listing, 0, 3));
        let read = PageRecord {
            listing,
            done: true,
            ..PageRecord::default()
        };
        assert!(!wants_read(Some(&read), listing, 0, 3));
        assert!(wants_read(Some(&read), listing + 1, 0, 3), "revised");
        let failing = PageRecord {
            listing,
            failures: 2,
            retry_at: 100,
            ..PageRecord::default()
        };
        assert!(!wants_read(Some(&failing), listing, 99, 3), "backing off");
        assert!(wants_read(Some(&failing), listing, 100, 3));
        let given_up = PageRecord {
            failures: 3,
            ..failing
        };
        assert!(!wants_read(Some(&given_up), listing, 1_000, 3));
    }
}
