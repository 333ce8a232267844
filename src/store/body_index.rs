//! The words of releases' bodies (full text) as an inverted index, for
//! `/search`: a sorted vocabulary (word → id), and for each word the sorted
//! slots of the bodies that have it. A query's word matches at word starts,
//! so it is a range of the vocabulary (every word it begins) and the union of
//! their slots; a phrase is the slots having all its words, each checked
//! against that body's words in order, kept as word ids (LEB128, one to three
//! bytes a word). Pure: knows nothing of sled.
//!
//! Scanning every body's text per query cost up to 15 ms (median) at 20,000
//! releases at a load average of 2, over 120 ms at the 99th percentile on a
//! busier machine, and held the whole text (~100 MB); this answers in 3–7 ms and
//! holds about half (BENCHMARKS.md, "Bodies through an inverted index").
//!
//! Updates are eager: a body replaced or removed takes its slot out of the
//! postings of its distinct words (read back from its word ids); a word no
//! body has any more leaves the vocabulary, and its id and the slot are reused.

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::text::matching::{Normalized, Pattern};

/// Where one body sits in the index, while it is indexed.
pub(crate) type Slot = u32;

/// Bookkeeping per word of the vocabulary beyond its letters: the map's
/// node share, the id, the [`Word`] (its copy of the letters and postings).
const WORD_OVERHEAD: usize = 96;

/// Which slots (or word ids) are in a set: one bit each.
#[derive(Debug, Clone, Default)]
pub(crate) struct Bits(Vec<u64>);

impl Bits {
    fn with_len(len: usize) -> Bits {
        Bits(vec![0; len.div_ceil(64)])
    }

    fn set(&mut self, at: u32) {
        let at = at as usize;
        self.0[at / 64] |= 1 << (at % 64);
    }

    /// Whether `at` is in the set.
    pub(crate) fn get(&self, at: u32) -> bool {
        let at = at as usize;
        self.0
            .get(at / 64)
            .is_some_and(|w| w & (1 << (at % 64)) != 0)
    }
}

/// One word of the vocabulary: its letters (to leave the map when no body
/// has it) and the slots of the bodies that have it, ascending.
#[derive(Debug, Default)]
struct Word {
    text: Box<str>,
    postings: Vec<Slot>,
}

/// Every indexed body's words.
#[derive(Debug, Default)]
pub(crate) struct BodyIndex {
    /// Every word some body has, sorted by bytes: the words a prefix
    /// begins are one range.
    vocab: BTreeMap<Box<str>, u32>,
    /// By word id.
    words: Vec<Word>,
    free_words: Vec<u32>,
    /// By slot: the body's word ids in order (LEB128); `None` when free.
    bodies: Vec<Option<Box<[u8]>>>,
    free_slots: Vec<Slot>,
    /// Bytes of word ids held.
    sequence_bytes: usize,
    /// Slots held in postings.
    postings: usize,
    /// Bytes of the vocabulary's words.
    vocab_bytes: usize,
}

fn encode(mut id: u32, out: &mut Vec<u8>) {
    while id >= 0x80 {
        out.push((id as u8 & 0x7f) | 0x80);
        id >>= 7;
    }
    out.push(id as u8);
}

fn decode(bytes: &[u8], out: &mut Vec<u32>) {
    out.clear();
    let (mut id, mut shift) = (0u32, 0);
    for &b in bytes {
        id |= u32::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            out.push(id);
            (id, shift) = (0, 0);
        } else {
            shift += 7;
        }
    }
}

/// The first word id of `bytes`, if one is there whole.
fn decode_one(bytes: &[u8]) -> Option<u32> {
    let mut id = 0u32;
    for (i, &b) in bytes.iter().enumerate().take(5) {
        id |= u32::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some(id);
        }
    }
    None
}

impl BodyIndex {
    /// Indexes `body`'s words; the slot to find them by.
    pub(crate) fn insert(&mut self, body: &Normalized) -> Slot {
        let slot = self.free_slots.pop().unwrap_or_else(|| {
            self.bodies.push(None);
            (self.bodies.len() - 1) as Slot
        });
        let mut sequence = Vec::new();
        let mut distinct = Vec::new();
        for word in body.as_str().split(' ').filter(|w| !w.is_empty()) {
            let id = self.word_id(word);
            encode(id, &mut sequence);
            distinct.push(id);
        }
        distinct.sort_unstable();
        distinct.dedup();
        for id in distinct {
            let postings = &mut self.words[id as usize].postings;
            if let Err(at) = postings.binary_search(&slot) {
                postings.insert(at, slot);
                self.postings += 1;
            }
        }
        self.sequence_bytes += sequence.len();
        self.bodies[slot as usize] = Some(sequence.into_boxed_slice());
        slot
    }

    fn word_id(&mut self, word: &str) -> u32 {
        if let Some(&id) = self.vocab.get(word) {
            return id;
        }
        let entry = Word {
            text: word.into(),
            postings: Vec::new(),
        };
        let id = match self.free_words.pop() {
            Some(id) => {
                self.words[id as usize] = entry;
                id
            }
            None => {
                self.words.push(entry);
                (self.words.len() - 1) as u32
            }
        };
        self.vocab_bytes += word.len();
        self.vocab.insert(word.into(), id);
        id
    }

    /// Forgets the body at `slot` (replaced or its release gone).
    pub(crate) fn remove(&mut self, slot: Slot) {
        let Some(sequence) = self.bodies.get_mut(slot as usize).and_then(Option::take) else {
            return;
        };
        self.sequence_bytes -= sequence.len();
        self.free_slots.push(slot);
        let mut ids = Vec::new();
        decode(&sequence, &mut ids);
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            let word = &mut self.words[id as usize];
            if let Ok(at) = word.postings.binary_search(&slot) {
                word.postings.remove(at);
                self.postings -= 1;
            }
            if word.postings.is_empty() {
                let word = std::mem::take(word);
                self.vocab.remove(&word.text);
                self.vocab_bytes -= word.text.len();
                self.free_words.push(id);
            }
        }
    }

    /// The slots whose body has `pattern`: a word as the start of one of
    /// its words; a phrase's words in a row, the last also as a start.
    pub(crate) fn matching(&self, pattern: &Pattern) -> Bits {
        let mut found = Bits::with_len(self.bodies.len());
        let words: Vec<&str> = pattern.text().split(' ').collect();
        let Some((last, whole)) = words.split_last() else {
            return found;
        };
        let starting: Vec<u32> = self
            .vocab
            .range::<str, _>((Bound::Included(*last), Bound::Unbounded))
            .take_while(|(word, _)| word.starts_with(last))
            .map(|(_, &id)| id)
            .collect();
        let mut with_last = Bits::with_len(self.bodies.len());
        for &id in &starting {
            for &slot in &self.words[id as usize].postings {
                with_last.set(slot);
            }
        }
        if whole.is_empty() {
            return with_last;
        }
        let Some(ids) = whole
            .iter()
            .map(|w| self.vocab.get(*w).copied())
            .collect::<Option<Vec<u32>>>()
        else {
            return found; // a whole word no body has
        };
        let mut last_ids = Bits::with_len(self.words.len());
        for &id in &starting {
            last_ids.set(id);
        }
        let postings = |id: u32| &self.words[id as usize].postings;
        let rarest = ids.iter().copied().min_by_key(|&id| postings(id).len());
        // The whole words' ids as stored, searched for in each candidate's
        // bytes: a varint ends on a byte below 0x80, so a hit after such a
        // byte (or at the start) is the phrase's first word.
        let mut needle = Vec::new();
        for &id in &ids {
            encode(id, &mut needle);
        }
        let finder = memchr::memmem::Finder::new(&needle);
        for &slot in rarest.map_or(&[][..], |id| &postings(id)[..]) {
            let candidate = with_last.get(slot)
                && ids
                    .iter()
                    .all(|&id| postings(id).binary_search(&slot).is_ok());
            let Some(Some(bytes)) = self.bodies.get(slot as usize).filter(|_| candidate) else {
                continue;
            };
            let in_a_row = finder.find_iter(bytes).any(|at| {
                (at == 0 || bytes[at - 1] < 0x80)
                    && decode_one(&bytes[at + needle.len()..]).is_some_and(|id| last_ids.get(id))
            });
            if in_a_row {
                found.set(slot);
            }
        }
        found
    }

    /// Bytes held: word ids, postings, the vocabulary.
    pub(crate) fn bytes(&self) -> usize {
        self.sequence_bytes
            + self.postings * std::mem::size_of::<Slot>()
            + self.vocab_bytes * 2
            + self.vocab.len() * WORD_OVERHEAD
            + self.slots_bytes()
    }

    /// Bytes of the slots' table, free or not.
    pub(crate) fn slots_bytes(&self) -> usize {
        self.bodies.len() * std::mem::size_of::<Option<Box<[u8]>>>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::matching::normalize;

    fn pattern(text: &str) -> Pattern {
        Pattern::new(text).expect("words")
    }

    fn slots(index: &BodyIndex, text: &str) -> Vec<Slot> {
        let found = index.matching(&pattern(text));
        (0..index.bodies.len() as Slot)
            .filter(|&s| found.get(s))
            .collect()
    }

    const NONE: [Slot; 0] = [];

    #[test]
    fn words_match_at_their_start_and_phrases_in_a_row() {
        let mut index = BodyIndex::default();
        let a = index.insert(&normalize("The visa centre, in London."));
        let b = index.insert(&normalize("Centre for visas; ВИЗЫ и Ёлки"));
        assert_eq!(slots(&index, "visa"), [a, b]);
        assert_eq!(slots(&index, "visas"), [b]);
        assert_eq!(slots(&index, "isa"), NONE);
        assert_eq!(slots(&index, "виз"), [b]);
        assert_eq!(slots(&index, "елки"), [b]);
        assert_eq!(slots(&index, "visa cent"), [a], "the last word as a start");
        assert_eq!(slots(&index, "vis centre"), NONE, "the others whole");
        assert_eq!(slots(&index, "centre visa"), NONE);
        assert_eq!(slots(&index, "london centre"), NONE);
        assert_eq!(slots(&index, "visas визы и е"), [b], "across punctuation");
        assert_eq!(slots(&index, "zzz"), NONE);
    }

    #[test]
    fn a_replaced_or_removed_body_leaves_nothing_behind() {
        let mut index = BodyIndex::default();
        assert_eq!(index.bytes(), 0);
        let a = index.insert(&normalize("visa rules"));
        let b = index.insert(&normalize("visa fees"));
        index.remove(a);
        index.remove(a); // twice: nothing more
        assert_eq!(slots(&index, "visa"), [b]);
        assert_eq!(slots(&index, "rules"), NONE);
        assert!(
            !index.vocab.contains_key("rules"),
            "a word no body has goes"
        );
        // The slot and the word's id are reused.
        let c = index.insert(&normalize("new rules for visa"));
        assert_eq!(c, a);
        assert_eq!(slots(&index, "visa"), [c, b]);
        assert_eq!(slots(&index, "rules for"), [c]);
        index.remove(b);
        index.remove(c);
        assert!(index.vocab.is_empty());
        assert_eq!(
            (index.postings, index.sequence_bytes, index.vocab_bytes),
            (0, 0, 0)
        );
        assert_eq!(index.bytes(), index.slots_bytes());
        let empty = index.insert(&normalize(" — "));
        assert_eq!(slots(&index, "a"), NONE);
        index.remove(empty);
    }

    #[test]
    fn a_phrase_is_found_only_at_a_word_ids_start() {
        let mut index = BodyIndex::default();
        let many: Vec<String> = (0..200).map(|i| format!("w{i}")).collect();
        index.insert(&normalize(&many.join(" ")));
        // "w129" is stored as the bytes 0x81 0x01, and "w1" as 0x01.
        let tricky = index.insert(&normalize("w129 w5 w1"));
        let plain = index.insert(&normalize("w129 w1 w5"));
        assert_eq!(slots(&index, "w1 w5"), [plain]);
        assert!(!slots(&index, "w1 w5").contains(&tricky));
        assert_eq!(slots(&index, "w129 w5"), [tricky]);
    }

    #[test]
    fn word_ids_of_any_size_read_back() {
        let mut bytes = Vec::new();
        let ids = [0, 1, 127, 128, 300, 16_383, 16_384, u32::MAX];
        for id in ids {
            encode(id, &mut bytes);
        }
        let mut back = Vec::new();
        decode(&bytes, &mut back);
        assert_eq!(back, ids);
        assert_eq!(decode_one(&bytes[2..]), Some(127));
        assert_eq!(decode_one(&bytes[bytes.len() - 5..]), Some(u32::MAX));
        assert_eq!(decode_one(&bytes[bytes.len() - 5..bytes.len() - 1]), None);
    }
}
