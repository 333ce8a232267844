//! Recent `/search` queries, kept so that a page button can name its query
//! by number: a button's data holds 64 bytes, too few for a query of up to
//! 200 characters. Kept in sled, so a button still works after a restart;
//! capped at [`MAX_SAVED_QUERIES`], the oldest dropped first, so a button on
//! a search that old answers that it expired.
//!
//! Not carried by export and import ([`super::export`]): they are a
//! convenience for buttons, and a restored bot's old buttons answer that
//! they expired. Numbers start from the clock (milliseconds), never below
//! the last one, so a restored store cannot hand an old button's number to
//! a new query.

use chrono::{DateTime, Utc};

use super::{Store, StoreError, chat_key};

/// At most this many queries are kept.
pub const MAX_SAVED_QUERIES: usize = 4_096;

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
        // One writer at a time: numbers are unique, and the count stays true.
        let mut count = self.saved_queries.lock().unwrap_or_else(|p| p.into_inner());
        let last = match self.queries.last()? {
            Some((key, _)) => <[u8; 8]>::try_from(key.as_ref())
                .map(u64::from_be_bytes)
                .map_err(|_| super::corrupt("queries", "key is not 8 bytes"))?,
            None => 0,
        };
        let id = (last + 1).max(u64::try_from(now.timestamp_millis()).unwrap_or(0));
        let mut value = Vec::with_capacity(8 + query.len());
        value.extend_from_slice(&chat_key(chat));
        value.extend_from_slice(query.as_bytes());
        self.queries.insert(id.to_be_bytes(), value)?;
        *count += 1;
        while *count > MAX_SAVED_QUERIES {
            if self.queries.pop_min()?.is_none() {
                *count = 0;
                break;
            }
            *count -= 1;
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
        *self.saved_queries.lock().unwrap_or_else(|p| p.into_inner())
    }
}
