//! Pages of releases, newest first: the newest ones (`/latest`) and the ones
//! a query matches (`/search`), each page with whether older ones follow, so
//! "older" / "newer" buttons can ask for the next one by its offset.
//!
//! Search runs over an index in memory: each release's title and lead as words
//! ([`Normalized`]), in `by_date` order. A scan of the `items` tree would decode
//! 20,000 JSON records per query; the index answers in a few milliseconds
//! (BENCHMARKS.md). It is built from `items` at the first search, so a process
//! nobody searches (or a tool such as `backfill`) pays nothing, and from then
//! on every write to `items` passes its ids to [`Store::reindex`].
//!
//! Bodies (full text) are not scanned: their words are in a [`BodyIndex`]
//! (a sorted vocabulary and, per word, the releases that have it), which
//! answers each query term once; a title and lead stay words scanned with
//! `memmem`, as they are short.
//!
//! Memory: the words of a title and a lead (each at most
//! [`MAX_TEXT_CHARS`] characters, however old the record) plus about
//! [`ENTRY_OVERHEAD`] bytes of bookkeeping per release; and, once a
//! release's page was read, its body's words as ids (one to three bytes a
//! word, at most `full_text.max_body_bytes` of text) and four bytes per
//! distinct word in the postings, plus the vocabulary. The total grows with
//! the releases stored, which retention bounds.
//! [`Store::search_index_size`] reports it.
//!
//! Ranking: releases whose title and lead match come first, then those that
//! match only with their body's words; newest first within each.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::body_index::{Bits, BodyIndex, Slot};
use super::{Store, StoreError, StoredItem, date_key};
use crate::source::body::Body;
use crate::text::matching::{Normalized, Query, normalize, release_words};

/// Bookkeeping per indexed release beyond its words: the id (twice, shared),
/// the `by_date` key (twice), and the nodes of the two maps — an estimate
/// checked against the process's RSS in the search benchmark.
pub(super) const ENTRY_OVERHEAD: usize = 240;

/// Some releases, newest first, and where they sit in the whole list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReleasePage {
    /// Newest first by the site's date.
    pub items: Vec<StoredItem>,
    /// How many newer releases come before this page (0: it starts at the newest).
    pub offset: usize,
    /// Whether older releases follow this page.
    pub has_more: bool,
}

impl ReleasePage {
    /// Whether newer releases come before this page.
    pub fn has_newer(&self) -> bool {
        self.offset > 0
    }
}

/// A page of search results, and how many releases match in all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchResults {
    /// The page asked for.
    pub page: ReleasePage,
    /// How many releases match in all.
    pub total: usize,
}

/// How much the search index holds (for benchmarks and operators).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexSize {
    /// Releases indexed.
    pub releases: usize,
    /// Bytes of words held, plus [`ENTRY_OVERHEAD`] per release.
    pub bytes: usize,
}

/// The ids a query matched on one page, and how many match in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hits {
    /// The page's releases, newest first.
    pub ids: Vec<Arc<str>>,
    /// How many releases match in all.
    pub total: usize,
}

/// Every release's words, in `by_date` order. Pure: knows nothing of sled.
#[derive(Debug, Default)]
pub struct SearchIndex {
    /// By `by_date` key (site date, sequence): from the back, newest first.
    entries: BTreeMap<[u8; 12], Entry>,
    /// Where each release sits in `entries`, to move it when its date changes.
    keys: HashMap<Arc<str>, [u8; 12]>,
    /// Bytes of titles' and leads' words held.
    word_bytes: usize,
    /// The words of bodies, by their entries' slots.
    bodies: BodyIndex,
}

#[derive(Debug)]
struct Entry {
    id: Arc<str>,
    words: Normalized,
    /// Where the words of its body (full text) are in the [`BodyIndex`],
    /// once its page was read.
    body: Option<Slot>,
}

/// What a release is searched by: its title and lead, each as long as
/// extraction lets a new one be.
fn words_of(stored: &StoredItem) -> Normalized {
    release_words(&stored.item.title, &stored.item.lead).shrink()
}

impl SearchIndex {
    /// Adds `stored`, or brings its entry up to date.
    pub fn insert(&mut self, stored: &StoredItem) {
        self.insert_with_body(stored, None);
    }

    /// Adds `stored` with the words of its body (bounded by
    /// `full_text.max_body_bytes` when it was read), or brings its entry up to date.
    pub fn insert_with_body(&mut self, stored: &StoredItem, body: Option<&Body>) {
        self.remove(&stored.item.id);
        let id: Arc<str> = Arc::from(stored.item.id.as_str());
        let key = date_key(stored.sort_date(), stored.seq);
        let words = words_of(stored);
        let body = body.map(|b| {
            let mut body = normalize("");
            for block in &b.blocks {
                body.push(&block.text);
            }
            self.bodies.insert(&body)
        });
        self.word_bytes += words.capacity();
        let entry = Entry {
            id: id.clone(),
            words,
            body,
        };
        self.keys.insert(id, key);
        self.entries.insert(key, entry);
    }

    /// Forgets the release `id` (it is no longer stored).
    pub fn remove(&mut self, id: &str) {
        if let Some(key) = self.keys.remove(id)
            && let Some(old) = self.entries.remove(&key)
        {
            self.word_bytes -= old.words.capacity();
            if let Some(slot) = old.body {
                self.bodies.remove(slot);
            }
        }
    }

    /// The releases matching `query`: those whose title and lead match first,
    /// then those that match only with their body's words, each group newest
    /// first; `limit` of them after skipping `offset`, and how many match in all.
    ///
    /// Each term's bodies are looked up once in the [`BodyIndex`]; then a
    /// release matches when every included term is in its title and lead or
    /// its body (a phrase never runs from one into the other) and no
    /// excluded one is in either.
    pub fn find(&self, query: &Query, offset: usize, limit: usize) -> Hits {
        let wanted = offset.saturating_add(limit);
        let (mut head, mut rest) = (Vec::new(), Vec::new());
        let (mut head_total, mut rest_total) = (0, 0);
        let excludes = query.excludes();
        let terms = query.terms();
        let in_bodies: Vec<Bits> = terms
            .iter()
            .map(|t| self.bodies.matching(&t.pattern))
            .collect();
        for entry in self.entries.values().rev() {
            let in_head = query.matches(&entry.words);
            let matched = match entry.body {
                None => in_head.then_some(true),
                Some(_) if in_head && !excludes => Some(true),
                Some(slot) => terms
                    .iter()
                    .zip(&in_bodies)
                    .all(|(t, bodies)| {
                        (bodies.get(slot) || t.pattern.matches(&entry.words)) != t.exclude
                    })
                    .then_some(in_head),
            };
            match matched {
                Some(true) => {
                    if head.len() < wanted {
                        head.push(entry.id.clone());
                    }
                    head_total += 1;
                }
                Some(false) => {
                    if rest.len() < wanted {
                        rest.push(entry.id.clone());
                    }
                    rest_total += 1;
                }
                None => {}
            }
        }
        head.extend(rest);
        let ids = head.into_iter().skip(offset).take(limit).collect();
        Hits {
            ids,
            total: head_total + rest_total,
        }
    }

    /// How much it holds.
    pub fn size(&self) -> IndexSize {
        IndexSize {
            releases: self.entries.len(),
            bytes: self.word_bytes + self.bodies.bytes() + self.entries.len() * ENTRY_OVERHEAD,
        }
    }
}

/// The index behind a store: `None` until the first search builds it; and
/// a count of the writes to `items` that passed through [`Store::reindex`].
#[derive(Default)]
pub(super) struct SharedIndex(RwLock<Option<SearchIndex>>, AtomicU64);

impl SharedIndex {
    fn read(&self) -> RwLockReadGuard<'_, Option<SearchIndex>> {
        // The index is rebuilt from sled when in doubt; a panic elsewhere
        // leaves it as consistent as any write in progress allows.
        self.0.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Option<SearchIndex>> {
        self.0.write().unwrap_or_else(|p| p.into_inner())
    }
}

impl Store {
    /// The releases matching `query`, newest first by the site's date: at most
    /// `limit` after skipping `offset`, with how many match in all.
    pub fn search(
        &self,
        query: &Query,
        offset: usize,
        limit: usize,
    ) -> Result<SearchResults, StoreError> {
        let hits = loop {
            if let Some(index) = self.search.read().as_ref() {
                break index.find(query, offset, limit);
            }
            let mut building = self.search.write();
            if building.is_none() {
                *building = Some(self.build_index()?);
            }
        };
        let mut items = Vec::with_capacity(hits.ids.len());
        for id in &hits.ids {
            // Gone since the index was read (pruned): skipped.
            if let Some(stored) = self.item(id)? {
                items.push(stored);
            }
        }
        Ok(SearchResults {
            page: ReleasePage {
                has_more: offset + hits.ids.len() < hits.total,
                items,
                offset,
            },
            total: hits.total,
        })
    }

    /// The newest releases by the site's date: at most `limit` after skipping
    /// the `offset` newest.
    pub fn latest_page(&self, offset: usize, limit: usize) -> Result<ReleasePage, StoreError> {
        let mut items = Vec::with_capacity(limit.min(100));
        let mut has_more = false;
        for entry in self.by_date.iter().rev().skip(offset) {
            if items.len() >= limit {
                has_more = true;
                break;
            }
            let (_, id) = entry?;
            let id = String::from_utf8(id.to_vec()).map_err(|e| super::corrupt("by_date", e))?;
            if let Some(item) = self.item(&id)? {
                items.push(item);
            }
        }
        Ok(ReleasePage {
            items,
            offset,
            has_more,
        })
    }

    /// How many times releases were written (added, changed or pruned) since
    /// the store opened: whatever is built from them (a feed) is current while
    /// this stays the same. Read it before reading the releases.
    pub(crate) fn releases_written(&self) -> u64 {
        self.search.1.load(Ordering::SeqCst)
    }

    /// Changes each time releases are written (see [`Store::releases_written`]).
    pub(crate) fn watch_releases(&self) -> tokio::sync::watch::Receiver<()> {
        self.release_changes.subscribe()
    }

    /// Every release, newest first by the site's date, read as the walk goes
    /// (so it may stop early); one pruned meanwhile is passed over.
    pub(crate) fn newest_first(&self) -> impl Iterator<Item = Result<StoredItem, StoreError>> {
        let store = self.clone();
        self.by_date.iter().rev().filter_map(move |entry| {
            let read = || {
                let (_, id) = entry?;
                let id = std::str::from_utf8(&id).map_err(|e| super::corrupt("by_date", e))?;
                store.item(id)
            };
            read().transpose()
        })
    }

    /// The search index's size, once a search has built it.
    pub fn search_index_size(&self) -> Option<IndexSize> {
        self.search.read().as_ref().map(SearchIndex::size)
    }

    /// Brings the search index up to date with the `items` tree for `ids`,
    /// which were just written (or removed). Every write to `items` calls it
    /// after its transaction. It reads the committed records under the
    /// index's lock, so two writers of one release leave the later version.
    /// It never fails: when a record cannot be read, the index is dropped and
    /// the next search rebuilds it.
    pub(super) fn reindex<'a>(&self, ids: impl IntoIterator<Item = &'a str>) {
        let mut ids = ids.into_iter().peekable();
        if ids.peek().is_some() {
            self.search.1.fetch_add(1, Ordering::SeqCst);
            self.release_changes.send_replace(());
        }
        let mut guard = self.search.write();
        let Some(index) = guard.as_mut() else {
            return; // not built yet: the build will read what was committed
        };
        for id in ids {
            match self.item(id).and_then(|s| Ok(s.zip(Some(self.body(id)?)))) {
                Ok(Some((stored, body))) => index.insert_with_body(&stored, body.as_ref()),
                Ok(None) => index.remove(id),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot update the search index; it is rebuilt at the next search");
                    *guard = None;
                    return;
                }
            }
        }
    }

    /// Reads every stored release into a new index. A record that cannot be
    /// decoded is left out (and logged) rather than breaking every search.
    fn build_index(&self) -> Result<SearchIndex, StoreError> {
        let started = std::time::Instant::now();
        let mut index = SearchIndex::default();
        let mut unreadable = 0usize;
        for entry in self.items.iter() {
            let (_, bytes) = entry?;
            match serde_json::from_slice::<StoredItem>(&bytes) {
                Ok(stored) => {
                    let body = self.body(&stored.item.id).unwrap_or_default();
                    index.insert_with_body(&stored, body.as_ref());
                }
                Err(_) => unreadable += 1,
            }
        }
        let size = index.size();
        tracing::info!(
            releases = size.releases,
            bytes = size.bytes,
            unreadable,
            took_ms = started.elapsed().as_millis() as u64,
            "search index built"
        );
        Ok(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Item;
    use crate::text::markup::MAX_TEXT_CHARS;
    use chrono::NaiveDate;

    fn stored(seq: u64, day: u32, title: &str, lead: &str) -> StoredItem {
        StoredItem {
            item: Item {
                id: format!("x/{seq}"),
                url: format!("https://x/{seq}"),
                title: title.into(),
                date: NaiveDate::from_ymd_opt(2022, 5, day),
                lead: lead.into(),
            },
            source: "s".into(),
            also_on: Default::default(),
            first_seen: 0,
            seq,
            revised_at: None,
        }
    }

    fn ids(hits: &Hits) -> Vec<&str> {
        hits.ids.iter().map(|id| &**id).collect()
    }

    #[test]
    fn finds_newest_first_by_the_sites_date_and_pages() {
        let mut index = SearchIndex::default();
        // Sequence order is not date order: the site's date decides.
        index.insert(&stored(1, 20, "Visa rules", ""));
        index.insert(&stored(2, 10, "Old visa news", ""));
        index.insert(&stored(3, 25, "Concert", "No visas needed"));
        index.insert(&stored(4, 22, "Trade", "Nothing here"));
        let visa = Query::parse("visa").unwrap();
        let all = index.find(&visa, 0, 10);
        assert_eq!(ids(&all), ["x/3", "x/1", "x/2"]);
        assert_eq!(all.total, 3);
        let second = index.find(&visa, 1, 1);
        assert_eq!((ids(&second), second.total), (vec!["x/1"], 3));
        assert!(index.find(&visa, 3, 10).ids.is_empty());
    }

    #[test]
    fn an_edited_release_moves_and_a_removed_one_goes() {
        let mut index = SearchIndex::default();
        index.insert(&stored(1, 20, "Visa rules", ""));
        index.insert(&stored(2, 21, "Visa fees", ""));
        let bytes = index.size().bytes;
        // Re-dated and retitled: one entry, at its new place.
        index.insert(&stored(1, 23, "Visa rules changed", ""));
        let visa = Query::parse("visa").unwrap();
        assert_eq!(ids(&index.find(&visa, 0, 10)), ["x/1", "x/2"]);
        assert_eq!(index.size().releases, 2);
        assert!(index.size().bytes > bytes);
        assert_eq!(
            ids(&index.find(&Query::parse("changed").unwrap(), 0, 10)),
            ["x/1"]
        );
        index.remove("x/1");
        index.remove("x/unknown");
        assert_eq!(ids(&index.find(&visa, 0, 10)), ["x/2"]);
        index.remove("x/2");
        assert_eq!(index.size().bytes, 0);
    }

    fn body(text: &str) -> Body {
        use crate::source::body::{Block, BlockKind};
        Body {
            blocks: vec![Block {
                kind: BlockKind::Paragraph,
                html: text.into(),
                text: text.into(),
            }],
        }
    }

    #[test]
    fn title_and_lead_matches_come_before_body_matches() {
        let mut index = SearchIndex::default();
        index.insert_with_body(&stored(1, 20, "Visa rules", ""), Some(&body("forms")));
        index.insert_with_body(
            &stored(2, 25, "Concert", ""),
            Some(&body("visa centre hours")),
        );
        index.insert(&stored(3, 10, "Old visa news", ""));
        index.insert_with_body(&stored(4, 26, "Trade", ""), Some(&body("nothing here")));
        let visa = Query::parse("visa").unwrap();
        let all = index.find(&visa, 0, 10);
        assert_eq!((ids(&all), all.total), (vec!["x/1", "x/3", "x/2"], 3));
        assert_eq!(
            ids(&index.find(&visa, 2, 10)),
            ["x/2"],
            "paged across the groups"
        );
        // Words across title and body; an excluded word in the body; a phrase
        // only in the body; a start only the body has.
        let q = |text| ids(&index.find(&Query::parse(text).unwrap(), 0, 10)).join(",");
        assert_eq!(q("concert hours"), "x/2");
        assert_eq!(q("visa -forms"), "x/3,x/2");
        assert_eq!(q("\"visa cent\""), "x/2");
        assert_eq!(
            q("\"rules forms\""),
            "",
            "no phrase from the title into the body"
        );
        assert_eq!(q("hou"), "x/2");
        assert_eq!(q("zz"), "");
        assert_eq!(q("n"), "x/3,x/4", "a one-letter start scans every body");
    }

    #[test]
    fn the_words_held_are_bounded_whatever_the_record() {
        let mut index = SearchIndex::default();
        let huge = "слово ".repeat(10 * MAX_TEXT_CHARS);
        index.insert(&stored(1, 1, &huge, &huge));
        // Two texts of at most MAX_TEXT_CHARS characters, two bytes each.
        assert!(index.size().bytes <= 4 * MAX_TEXT_CHARS + ENTRY_OVERHEAD + 16);
    }

    /// The rules before the body index: each body's text scanned, a term
    /// matching in the title and lead or in the body, never across.
    fn reference(
        releases: &HashMap<String, (StoredItem, Option<String>)>,
        query: &Query,
    ) -> Vec<String> {
        let mut all: Vec<_> = releases.values().collect();
        all.sort_by_key(|(s, _)| std::cmp::Reverse(date_key(s.sort_date(), s.seq)));
        let (mut head, mut rest) = (Vec::new(), Vec::new());
        for (stored, text) in all {
            let words = words_of(stored);
            let in_head = query.matches(&words);
            let matched = match text {
                None => in_head,
                Some(text) => query.matches_any(&[&words, &normalize(text)]),
            };
            match (matched, in_head) {
                (true, true) => head.push(stored.item.id.clone()),
                (true, false) => rest.push(stored.item.id.clone()),
                _ => {}
            }
        }
        head.extend(rest);
        head
    }

    #[test]
    fn bodies_match_as_a_scan_of_their_text_would_whatever_the_updates() {
        const WORDS: &[&str] = &[
            "visa", "visas", "vis", "visit", "centre", "center", "the", "they", "a", "an", "визы",
            "виз", "Ёлка", "елки", "covid-19", "19", "x", "london", "lon", "in",
        ];
        let mut rng = 0x2545_F491_4F6C_DD1Du64;
        let mut below = move |n: usize| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng % n as u64) as usize
        };
        let text = |below: &mut dyn FnMut(usize) -> usize, max: usize| {
            let n = below(max + 1);
            (0..n)
                .map(|_| WORDS[below(WORDS.len())])
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut index = SearchIndex::default();
        let mut releases = HashMap::new();
        for round in 0..600 {
            let seq = below(300) as u64;
            if below(10) == 0 {
                index.remove(&format!("x/{seq}"));
                releases.remove(&format!("x/{seq}"));
            } else {
                let item = stored(
                    seq,
                    1 + below(28) as u32,
                    &text(&mut below, 3),
                    &text(&mut below, 4),
                );
                let body = (below(4) != 0).then(|| {
                    let blocks = 1 + below(3);
                    (0..blocks).map(|_| text(&mut below, 8)).collect::<Vec<_>>()
                });
                let as_body = body.as_ref().map(|blocks| Body {
                    blocks: blocks
                        .iter()
                        .map(|b| self::body(b).blocks.remove(0))
                        .collect(),
                });
                index.insert_with_body(&item, as_body.as_ref());
                releases.insert(item.item.id.clone(), (item, body.map(|b| b.join(" "))));
            }
            if round % 20 != 19 {
                continue;
            }
            for _ in 0..40 {
                let mut typed = Vec::new();
                for _ in 0..1 + below(3) {
                    let minus = if below(4) == 0 { "-" } else { "" };
                    let mut word = WORDS[below(WORDS.len())].to_string();
                    if below(3) == 0 {
                        word = word.chars().take(1 + below(3)).collect();
                    }
                    if below(3) == 0 {
                        let more = text(&mut below, 2);
                        typed.push(format!("{minus}\"{word} {more}\""));
                    } else {
                        typed.push(format!("{minus}{word}"));
                    }
                }
                let Ok(query) = Query::parse(&typed.join(" ")) else {
                    continue;
                };
                let want = reference(&releases, &query);
                let all = index.find(&query, 0, usize::MAX);
                assert_eq!(
                    (ids(&all), all.total),
                    (want.iter().map(|s| &**s).collect(), want.len()),
                    "{typed:?}"
                );
                let page = index.find(&query, 3, 5);
                let want_page: Vec<&str> = want.iter().skip(3).take(5).map(|s| &**s).collect();
                assert_eq!(ids(&page), want_page, "{typed:?}");
            }
        }
        for id in releases.keys() {
            index.remove(id);
        }
        assert!(
            index.bodies.bytes() <= index.bodies.slots_bytes(),
            "nothing left but free slots"
        );
    }
}
