//! Recent `/search` queries, kept so that a page button can name its query
//! by number: a button's data holds 64 bytes, too few for a query of up to
//! 200 characters. Kept in sled, so a button still works after a restart;
//! capped at [`MAX_SAVED_QUERIES`] in all and [`MAX_SAVED_QUERIES_PER_CHAT`]
//! per chat, the oldest dropped first, so a button on a search that old
//! answers that it expired — and one chat searching without end expires only
//! its own buttons, never everyone's.
//!
//! Not carried by export and import ([`super::export`]): they are a
//! convenience for buttons, and a restored bot's old buttons answer that
//! they expired. Numbers start from the clock (milliseconds), never below
//! the last one, so a restored store cannot hand an old button's number to
//! a new query.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};

use super::{Store, StoreError, chat_from_key, chat_key};

/// At most this many queries are kept in all.
pub const MAX_SAVED_QUERIES: usize = 4_096;

/// At most this many queries are kept for one chat: more searches than a
/// person pages back through, few enough that 64 chats' worth fit the total.
pub const MAX_SAVED_QUERIES_PER_CHAT: usize = 64;

/// Which numbers each chat holds, oldest first: read once at open (a few
/// thousand short records), then kept beside the tree so a save finds the
/// chat's oldest without a scan.
#[derive(Debug, Default)]
pub(crate) struct SavedQueries {
    count: usize,
    by_chat: HashMap<i64, VecDeque<u64>>,
}

impl SavedQueries {
    /// The numbers `tree` holds, by chat.
    pub(super) fn load(tree: &sled::Tree) -> Result<SavedQueries, StoreError> {
        let mut saved = SavedQueries::default();
        for record in tree.iter() {
            let (key, value) = record?;
            let (Some(id), Some(chat)) =
                (number_of(&key), chat_from_key(&value[..value.len().min(8)]))
            else {
                return Err(super::corrupt(
                    "queries",
                    "a record is not a number and a chat",
                ));
            };
            saved.by_chat.entry(chat).or_default().push_back(id);
            saved.count += 1;
        }
        Ok(saved)
    }

    /// Forgets `id` of `chat` (dropped from the tree by the caller).
    fn forget(&mut self, chat: i64, id: u64) {
        if let Some(ids) = self.by_chat.get_mut(&chat) {
            ids.retain(|held| *held != id);
            if ids.is_empty() {
                self.by_chat.remove(&chat);
            }
        }
        self.count = self.count.saturating_sub(1);
    }
}

/// A key of the tree as its number.
fn number_of(key: &[u8]) -> Option<u64> {
    <[u8; 8]>::try_from(key).ok().map(u64::from_be_bytes)
}

impl Store {
    /// Keeps `query` (as [`crate::text::matching::Query::describe`] writes it),
    /// asked in `chat`; returns its number. Not flushed: a crash may lose the
    /// last half second's, whose buttons then answer that they expired.
    pub fn save_query(
        &self,
        chat: i64,
        query: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        // One writer at a time: numbers are unique, and the counts stay true.
        let mut saved = self.saved_queries.lock().unwrap_or_else(|p| p.into_inner());
        let last = match self.queries.last()? {
            Some((key, _)) => {
                number_of(&key).ok_or_else(|| super::corrupt("queries", "key is not 8 bytes"))?
            }
            None => 0,
        };
        let id = (last + 1).max(u64::try_from(now.timestamp_millis()).unwrap_or(0));
        let mut value = Vec::with_capacity(8 + query.len());
        value.extend_from_slice(&chat_key(chat));
        value.extend_from_slice(query.as_bytes());
        self.queries.insert(id.to_be_bytes(), value)?;
        saved.by_chat.entry(chat).or_default().push_back(id);
        saved.count += 1;
        // This chat's oldest first: its own searches make room for it.
        while let Some(oldest) = saved
            .by_chat
            .get(&chat)
            .filter(|ids| ids.len() > MAX_SAVED_QUERIES_PER_CHAT)
            .and_then(|ids| ids.front().copied())
        {
            self.queries.remove(oldest.to_be_bytes())?;
            saved.forget(chat, oldest);
        }
        // Then everyone's oldest, while the total is over.
        while saved.count > MAX_SAVED_QUERIES {
            let Some((key, value)) = self.queries.pop_min()? else {
                *saved = SavedQueries::default();
                break;
            };
            match (number_of(&key), chat_from_key(&value[..value.len().min(8)])) {
                (Some(oldest), Some(owner)) => saved.forget(owner, oldest),
                _ => saved.count = saved.count.saturating_sub(1),
            }
        }
        Ok(id)
    }

    /// The query numbered `id`, if it is still kept and was asked in `chat`
    /// (a number from another chat's button names nothing here).
    pub fn saved_query(&self, id: u64, chat: i64) -> Result<Option<String>, StoreError> {
        let Some(value) = self.queries.get(id.to_be_bytes())? else {
            return Ok(None);
        };
        let (owner, text) = value.split_at(value.len().min(8));
        if owner != chat_key(chat) {
            return Ok(None);
        }
        let text = std::str::from_utf8(text).map_err(|e| super::corrupt("queries", e))?;
        Ok(Some(text.to_string()))
    }

    /// How many queries are kept (for tests).
    pub fn saved_query_count(&self) -> usize {
        self.saved_queries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .count
    }
}
