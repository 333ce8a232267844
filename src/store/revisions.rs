//! Revisions: the site corrects a release after publishing it (a title
//! reworded, a lead fixed). The store keeps the new words; what the release
//! said before is kept here, the last [`MAX_REVISIONS`] of them, and the
//! messages already sent for it are edited (an edit outbox entry, queued in
//! the same transaction: see `store/items.rs`).
//!
//! Tree `revisions`: item sequence → the earlier texts (JSON), oldest first.
//! Pruned with the release ([`retention`](super::retention)).
//!
//! A change of whitespace or typography only (quotes, dashes, a no-break
//! space, an ellipsis) is no revision ([`same_words`]): the site's editors
//! and its HTML do that often, and an edit nobody can see is a wasted
//! message.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::{OutboxEntry, Store, StoreError, StoredItem, abort, corrupt};
use crate::source::Item;

/// Earlier texts kept per release.
pub(crate) const MAX_REVISIONS: usize = 5;

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

/// What a release said before one revision, and when it was replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    /// When the new words were read (Unix seconds).
    pub at: i64,
    pub title: String,
    pub lead: String,
}

/// Whether `a` and `b` say the same words: equal once whitespace runs, the
/// no-break space, quotes, dashes and ellipses are each read as one form.
pub(crate) fn same_words(a: &str, b: &str) -> bool {
    plain_typography(a).eq(plain_typography(b))
}

/// `text` with typography folded: whitespace runs as one space (none at the
/// ends), every quote as `"`, apostrophes as `'`, dashes and the minus as
/// `-`, `…` as `...`.
fn plain_typography(text: &str) -> impl Iterator<Item = char> + '_ {
    let mut space = false;
    text.trim()
        .chars()
        .flat_map(|c| {
            let folded: &'static str = match c {
                '«' | '»' | '“' | '”' | '„' | '‟' | '″' => "\"",
                '‘' | '’' | '‚' | '‛' | '′' => "'",
                '–' | '—' | '‒' | '―' | '−' | '‐' | '‑' => "-",
                '…' => "...",
                c if c.is_whitespace() => " ",
                _ => "",
            };
            let out: Vec<char> = if folded.is_empty() {
                vec![c]
            } else {
                folded.chars().collect()
            };
            out
        })
        .filter(move |c| {
            let is_space = *c == ' ';
            let keep = !(is_space && space);
            space = is_space;
            keep
        })
}

/// Whether `seen` revises `old`: its title or lead says other words.
pub(crate) fn is_revision(old: &Item, seen: &Item) -> bool {
    !same_words(&old.title, &seen.title) || !same_words(&old.lead, &seen.lead)
}

/// `stored` is about to take `merged`'s words: if they revise it, what it
/// said goes into its history and it is marked revised at `now`. Whether
/// they did; inside the read's transaction.
pub(super) fn note_if_revised(
    tree: &TransactionalTree,
    stored: &mut StoredItem,
    merged: &Item,
    now: DateTime<Utc>,
) -> TxResult<bool> {
    if !is_revision(&stored.item, merged) {
        return Ok(false);
    }
    note_revision(tree, stored.seq, &stored.item, now.timestamp())?;
    stored.revised_at = Some(now.timestamp());
    Ok(true)
}

/// Queues `entry` (an edit entry) in the outbox under `key`, inside the
/// transaction that recorded the revision.
pub(super) fn queue_edit(outbox: &TransactionalTree, key: u64, entry: OutboxEntry) -> TxResult<()> {
    let bytes = serde_json::to_vec(&entry).map_err(|e| abort("outbox", e))?;
    outbox.insert(&key.to_be_bytes(), bytes)?;
    Ok(())
}

/// Adds `old`'s text to release `seq`'s history, as replaced at `at`,
/// keeping the last [`MAX_REVISIONS`]; inside the read's transaction.
fn note_revision(tree: &TransactionalTree, seq: u64, old: &Item, at: i64) -> TxResult<()> {
    let key = seq.to_be_bytes();
    let mut history: Vec<Revision> = match tree.get(key)? {
        Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| abort("revisions", e))?,
        None => Vec::new(),
    };
    history.push(Revision {
        at,
        title: old.title.clone(),
        lead: old.lead.clone(),
    });
    let extra = history.len().saturating_sub(MAX_REVISIONS);
    history.drain(..extra);
    let bytes = serde_json::to_vec(&history).map_err(|e| abort("revisions", e))?;
    tree.insert(&key, bytes)?;
    Ok(())
}

impl Store {
    /// What release `seq` said before each of its revisions, oldest first
    /// (at most [`MAX_REVISIONS`]).
    pub fn revisions(&self, seq: u64) -> Result<Vec<Revision>, StoreError> {
        match self.revisions.get(seq.to_be_bytes())? {
            Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| corrupt("revisions", e)),
            None => Ok(Vec::new()),
        }
    }

    /// Forgets the history of a pruned release.
    pub(super) fn forget_revisions(&self, seq: u64) -> Result<(), StoreError> {
        self.revisions.remove(seq.to_be_bytes())?;
        Ok(())
    }
}

/// A known release seen again: take the page's edits, but never let a listing
/// that omits the date or lead (another list page, a shorter teaser) erase them.
pub(super) fn merge_seen(old: &Item, seen: &Item) -> Item {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typography_and_whitespace_are_no_revision() {
        assert!(same_words(
            "Statement on the «Skripal case» – updated…",
            "Statement  on the \u{a0}\"Skripal case\" - updated..."
        ));
        assert!(same_words("It’s here", "It's here "));
        assert!(same_words("a—b", "a-b"));
        assert!(!same_words(
            "Statement on Salisbury",
            "Statement on the Salisbury"
        ));
        assert!(!same_words("Title", "Title."));
    }
}
