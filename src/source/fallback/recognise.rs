//! One release at a new address: a redesign moves URLs (new paths, a new
//! domain), and a release is keyed by its URL, so without this every release
//! would look new. The same normalised title on the same date (or a title a
//! few characters apart on the same date) is the same release.
//!
//! A release recognised here keeps its key (so its feed entry id, which is
//! made from the key, stays too) and takes the new address as its link: the
//! store's update of a known release moves it, and nothing is queued.

use std::collections::HashSet;

use super::Known;
use crate::source::Item;

/// Titles are compared on at most this many characters: enough to tell
/// releases apart, and it bounds the edit distance's cost.
const COMPARED_CHARS: usize = 160;

/// A title folded for comparison: lowercase, letters and digits only, words
/// split by single spaces; `ё` read as `е`, typographic quotes, dashes and
/// every other punctuation gone.
pub(crate) fn normalise_title(title: &str) -> String {
    let mut out = String::with_capacity(title.len());
    let mut space = false;
    for c in title.chars().flat_map(char::to_lowercase) {
        let c = if c == 'ё' { 'е' } else { c };
        if c.is_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        } else {
            space = true;
        }
        if out.len() >= COMPARED_CHARS * 4 {
            break;
        }
    }
    out.chars().take(COMPARED_CHARS).collect()
}

/// Whether two normalised titles name the same release: equal, or, when
/// both are long enough to tell, at most one edit in twenty apart with the
/// same numbers in the same order ("Release 1" and "Release 2" are two).
pub(crate) fn near_identical(a: &str, b: &str) -> bool {
    if a == b {
        return !a.is_empty();
    }
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    if digits(a) != digits(b) {
        return false;
    }
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let longest = a.len().max(b.len());
    let allowed = longest / 20;
    if a.len().min(b.len()) < 20 || a.len().abs_diff(b.len()) > allowed {
        return false;
    }
    within_distance(&a, &b, allowed)
}

/// Whether the Levenshtein distance of `a` and `b` is at most `k`: only the
/// band of cells within `k` of the diagonal is computed (Ukkonen), and a row
/// whose cells all exceed `k` ends it, so a pair costs about `len × 2k`.
fn within_distance(a: &[char], b: &[char], k: usize) -> bool {
    const FAR: usize = usize::MAX / 2;
    let (n, m) = (a.len(), b.len());
    if n.abs_diff(m) > k {
        return false;
    }
    let mut prev = vec![FAR; m + 2];
    for (j, cell) in prev.iter_mut().enumerate().take(m.min(k) + 1) {
        *cell = j;
    }
    let mut row = vec![FAR; m + 2];
    for i in 1..=n {
        let lo = i.saturating_sub(k);
        let hi = (i + k).min(m);
        let mut best = FAR;
        if lo == 0 {
            row[0] = i;
            best = i;
        } else {
            row[lo - 1] = FAR;
        }
        for j in lo.max(1)..=hi {
            let swap = prev[j - 1] + usize::from(a[i - 1] != b[j - 1]);
            let cell = swap.min(prev[j] + 1).min(row[j - 1] + 1);
            row[j] = cell;
            best = best.min(cell);
        }
        row[hi + 1] = FAR;
        if best > k {
            return false;
        }
        std::mem::swap(&mut prev, &mut row);
    }
    prev[m] <= k
}

/// Items of one read whose titles are compared with an edit distance, at
/// most: an exact (normalised) match costs nothing, a near one up to
/// [`COMPARED_CHARS`]² steps a pair, and a hostile page could make every
/// item a candidate.
const MAX_FUZZY: usize = 32;

/// The known releases with their titles normalised once.
struct Index<'k> {
    known: Vec<(String, &'k Known)>,
    /// Near-identical comparisons still allowed ([`MAX_FUZZY`] items).
    fuzzy_left: usize,
}

impl<'k> Index<'k> {
    fn new(known: &'k [Known]) -> Index<'k> {
        Index {
            known: known
                .iter()
                .map(|k| (normalise_title(&k.title), k))
                .collect(),
            fuzzy_left: MAX_FUZZY,
        }
    }

    /// The known release `item` is, if it is one at another address: dated,
    /// on the same date, with the same (or a near-identical) title, and not
    /// itself on the page.
    fn known_as(&mut self, item: &Item, on_page: &HashSet<&str>) -> Option<&'k Known> {
        let date = item.date?;
        let title = normalise_title(&item.title);
        let mut same_day = self
            .known
            .iter()
            .filter(|(_, k)| k.date == Some(date) && !on_page.contains(k.id.as_str()));
        if let Some((_, k)) = same_day.clone().find(|(t, _)| *t == title && !t.is_empty()) {
            return Some(k);
        }
        if self.fuzzy_left == 0 {
            return None;
        }
        self.fuzzy_left -= 1;
        same_day
            .find(|(t, _)| near_identical(t, &title))
            .map(|(_, k)| *k)
    }
}

/// Gives each item of a read that is not stored (`is_stored` says) but is a
/// known release at a new address that release's key, so recording the read
/// moves the release instead of announcing it again. Each known release is
/// claimed once. Returns how many moved.
pub fn rekey_moved(items: &mut [Item], known: &[Known], is_stored: impl Fn(&str) -> bool) -> usize {
    let ids: Vec<String> = items.iter().map(|i| i.id.clone()).collect();
    let on_page: HashSet<&str> = ids.iter().map(String::as_str).collect();
    let mut index = Index::new(known);
    let mut claimed: HashSet<String> = HashSet::new();
    let mut moved = 0;
    for item in items.iter_mut() {
        if is_stored(&item.id) {
            continue;
        }
        let Some(found) = index.known_as(item, &on_page) else {
            continue;
        };
        if claimed.insert(found.id.clone()) {
            item.id = found.id.clone();
            moved += 1;
        }
    }
    moved
}

/// How many of `items` are releases the source knew ([`known_among`]).
pub(crate) fn recognised(items: &[Item], known: &[Known]) -> usize {
    known_among(items, known).iter().filter(|k| **k).count()
}

/// For each of `items`, whether it is a release the source knew, by key or
/// by title and date.
pub(crate) fn known_among(items: &[Item], known: &[Known]) -> Vec<bool> {
    let ids: HashSet<&str> = known.iter().map(|k| k.id.as_str()).collect();
    let mut index = Index::new(known);
    let none = HashSet::new();
    items
        .iter()
        .map(|item| ids.contains(item.id.as_str()) || index.known_as(item, &none).is_some())
        .collect()
}

/// How many known releases a fallback must recognise before it is trusted:
/// half of those the page last showed, at least one and at most three.
pub(crate) fn needed(had: usize, known: usize) -> usize {
    (had.min(known) / 2).clamp(1, 3)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn day(d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(2024, 5, d)
    }

    fn item(id: &str, title: &str, date: Option<NaiveDate>) -> Item {
        Item {
            id: id.into(),
            url: format!("https://{id}"),
            title: title.into(),
            date,
            lead: String::new(),
        }
    }

    fn known(id: &str, title: &str, date: Option<NaiveDate>) -> Known {
        Known {
            id: id.into(),
            title: title.into(),
            date,
        }
    }

    #[test]
    fn titles_fold_case_typography_and_punctuation() {
        assert_eq!(
            normalise_title("  «Ambassador’s  Statement» — on Ёлка, 2024!"),
            "ambassador s statement on елка 2024"
        );
        assert_eq!(
            normalise_title("Ambassador's statement on елка 2024"),
            normalise_title("AMBASSADOR’S STATEMENT ON ЁЛКА (2024)")
        );
    }

    #[test]
    fn near_identical_titles_differ_by_a_typo_at_most() {
        let a = normalise_title("Comment by the Embassy on the situation in the region");
        let b = normalise_title("Comment by the Embassy on the situation in the regoin");
        assert!(near_identical(&a, &b));
        let c = normalise_title("Comment by the Embassy on the elections in the country");
        assert!(!near_identical(&a, &c));
        assert!(
            !near_identical("short one", "short two"),
            "too short to tell"
        );
        assert!(!near_identical("", ""));
        let one = normalise_title("Release number 1 of the flood, on its way");
        let two = normalise_title("Release number 2 of the flood, on its way");
        assert!(!near_identical(&one, &two), "numbers tell releases apart");
    }

    #[test]
    fn a_release_at_a_new_address_takes_its_old_key() {
        let known = vec![
            known("e.org/fnapr/1", "Press release on the anniversary", day(1)),
            known("e.org/fnapr/2", "Statement on the visa rules", day(2)),
        ];
        let mut items = vec![
            item("e.org/news/3-new", "A new release", day(3)),
            item("e.org/news/2-visa", "Statement on the visa rules.", day(2)),
            item(
                "e.org/news/1-anniv",
                "Press release on the anniversary",
                day(1),
            ),
            // Same title, another day: another release.
            item("e.org/news/9", "Statement on the visa rules", day(9)),
        ];
        let moved = rekey_moved(&mut items, &known, |_| false);
        assert_eq!(moved, 2);
        let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "e.org/news/3-new",
                "e.org/fnapr/2",
                "e.org/fnapr/1",
                "e.org/news/9"
            ]
        );
        assert_eq!(
            items[1].url, "https://e.org/news/2-visa",
            "the new address stays"
        );
        assert_eq!(recognised(&items, &known), 2);
    }

    #[test]
    fn a_release_still_at_its_old_address_is_not_claimed_twice() {
        let known = vec![known(
            "e.org/fnapr/1",
            "Press release on the anniversary",
            day(1),
        )];
        let mut items = vec![
            item("e.org/fnapr/1", "Press release on the anniversary", day(1)),
            item(
                "e.org/en/fnapr/1",
                "Press release on the anniversary",
                day(1),
            ),
        ];
        assert_eq!(
            rekey_moved(&mut items, &known, |id| id == "e.org/fnapr/1"),
            0
        );
        // Two copies at new addresses: the first takes the key, the other stays apart.
        let mut items = vec![
            item("e.org/a/1", "Press release on the anniversary", day(1)),
            item("e.org/b/1", "Press release on the anniversary", day(1)),
        ];
        assert_eq!(rekey_moved(&mut items, &known, |_| false), 1);
        assert_eq!(items[1].id, "e.org/b/1");
        // Undated releases are never matched by title alone.
        let mut items = vec![item("e.org/a/1", "Press release on the anniversary", None)];
        assert_eq!(rekey_moved(&mut items, &known, |_| false), 0);
    }

    #[test]
    fn near_matches_are_tried_for_a_bounded_number_of_items() {
        let title = "Comment by the Embassy on the situation in the region";
        let known = vec![known("e.org/fnapr/1", title, day(1))];
        let near = "Comment by the Embassy on the situation in the regoin";
        let mut items: Vec<Item> = (0..MAX_FUZZY)
            .map(|n| {
                item(
                    &format!("e.org/x/{n}"),
                    &format!("Nothing like it, {n}"),
                    day(1),
                )
            })
            .collect();
        items.push(item("e.org/near", near, day(1)));
        assert_eq!(
            rekey_moved(&mut items.clone(), &known, |_| false),
            0,
            "past the budget"
        );
        items.push(item("e.org/same", title, day(1)));
        assert_eq!(
            rekey_moved(&mut items, &known, |_| false),
            1,
            "an exact match still counts"
        );
        assert_eq!(items.last().unwrap().id, "e.org/fnapr/1");
        let mut near_first = vec![item("e.org/near", near, day(1))];
        assert_eq!(rekey_moved(&mut near_first, &known, |_| false), 1);
        assert_eq!(near_first[0].id, "e.org/fnapr/1", "within the budget");
    }

    #[test]
    fn the_banded_distance_agrees_with_the_whole_one() {
        fn whole(a: &[char], b: &[char]) -> usize {
            let mut prev: Vec<usize> = (0..=b.len()).collect();
            for (i, ca) in a.iter().enumerate() {
                let mut row = vec![i + 1; b.len() + 1];
                for (j, cb) in b.iter().enumerate() {
                    row[j + 1] = (prev[j] + usize::from(ca != cb))
                        .min(prev[j + 1] + 1)
                        .min(row[j] + 1);
                }
                prev = row;
            }
            prev[b.len()]
        }
        let words = [
            "", "a", "ab", "ba", "abc", "kitten", "sitting", "flaw", "lawn", "abcdefgh",
            "bcdefgha", "aaaa",
        ];
        for x in words {
            for y in words {
                let (a, b): (Vec<char>, Vec<char>) = (x.chars().collect(), y.chars().collect());
                let d = whole(&a, &b);
                for k in 0..6 {
                    assert_eq!(within_distance(&a, &b, k), d <= k, "{x} {y} {k}");
                }
            }
        }
    }

    #[test]
    fn trust_needs_a_few_known_releases() {
        assert_eq!(needed(10, 30), 3);
        assert_eq!(needed(4, 30), 2);
        assert_eq!(needed(1, 30), 1);
        assert_eq!(needed(0, 0), 1);
    }
}
