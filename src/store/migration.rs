//! A group that became a supergroup: its subscription, settings and journal
//! entries move to the new id in one transaction. Which pushes the move owes
//! the new id beyond the group's own entries depends on where a fan-out walk
//! in progress stands; that is the walk's rule, not the store's, so the
//! store asks it ([`WalkAhead`], answered by delivery).

use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::journal::{entry_value, value_of};
use super::settings::decode as settings_decode;
use super::subscribers::decode_subscription;
use super::{
    CrashWindow, JournalEntry, JournalStats, OutboxEntry, Store, StoreError, Subscription, abort,
    chat_key, entry_key, journal_key, outbox_key_from,
};

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

/// A settings record's key, and the key a migration moves it to.
type SettingsMove = (sled::IVec, Vec<u8>);

/// What a fan-out walk in progress will still do, as a migration from one
/// chat id to another must respect it. Asked inside the migration's
/// transaction (perhaps more than once), so answers depend only on the
/// arguments and on a walk held still meanwhile.
pub(crate) trait WalkAhead {
    /// Whether the release of outbox entry `key` (`entry`) must be journaled
    /// for the new id now, a chat with `subscription` (`from_to`: the old id
    /// and the new): the walk has passed the new id and will not reach the
    /// old one either, so it would reach neither.
    fn owes_new_id(
        &self,
        key: u64,
        entry: &OutboxEntry,
        from_to: (i64, i64),
        subscription: &Subscription,
    ) -> bool;

    /// Whether the walk will push the release of `entry` (owed to the group)
    /// to `to` by itself: then the group's journaled copy must not move too.
    fn will_push(&self, entry: &JournalEntry, to: i64, subscription: &Subscription) -> bool;
}

impl CrashWindow {
    /// Moves a group's subscription and journal entries to its new supergroup
    /// id, in one transaction, adding `counted` to the stored counters. If the
    /// supergroup subscribed on its own, it keeps its own record and entries,
    /// and the group's are dropped (no double sends). `walk` answers for the
    /// fan-out walk in progress, which must not move until this returns. Not
    /// flushed: the window's owner commits.
    pub(crate) fn migrate_chat(
        &self,
        (from, to): (i64, i64),
        walk: &dyn WalkAhead,
        counted: &JournalStats,
    ) -> Result<(), StoreError> {
        let store = &self.store;
        let outbox_keys: Vec<u64> = store
            .outbox
            .iter()
            .keys()
            .map(|k| outbox_key_from(&k?))
            .collect::<Result<_, _>>()?;
        let owed = store.journal_for(from)?;
        let settings = store.settings_moves(from, to)?;
        let trees = (
            &store.subscribers,
            &store.journal,
            &store.outbox,
            &store.meta,
            &store.settings,
        );
        let to_had_own =
            trees.transaction(|(subs_t, journal_t, outbox_t, meta_t, settings_t)| {
                move_settings(settings_t, &settings)?;
                let (to_had_own, moved) = move_subscription(subs_t, from, to)?;
                if let Some(subscription) = &moved {
                    for key in &outbox_keys {
                        let Some(value) = outbox_t.get(key.to_be_bytes())? else {
                            continue;
                        };
                        let entry: OutboxEntry =
                            serde_json::from_slice(&value).map_err(|e| abort("outbox", e))?;
                        if walk.owes_new_id(*key, &entry, (from, to), subscription) {
                            // Journaled now, in effect: no time is known inside the
                            // transaction, so a digest would send it at once (quiet
                            // hours still hold it).
                            journal_t.insert(
                                &journal_key(to, entry.item_seq_under(*key)),
                                entry_value(&entry.item_id, None),
                            )?;
                        }
                    }
                }
                for entry in &owed {
                    journal_t.remove(entry_key(entry).as_ref())?;
                    // An edit names a message of the old group: it stays behind.
                    if let Some(subscription) = &moved
                        && !entry.edit
                        && !walk.will_push(entry, to, subscription)
                    {
                        let moved = JournalEntry {
                            chat: to,
                            ..entry.clone()
                        };
                        journal_t.insert(entry_key(&moved).as_ref(), value_of(&moved))?;
                    }
                }
                counted.add_to(meta_t)?;
                Ok(to_had_own)
            })?;
        store.subscriptions_changed();
        store.move_stragglers(from, to, to_had_own)
    }
}

impl Store {
    /// How a migration moves settings: each of `from`'s keys (the chat's and
    /// its topics'), and the key it moves to under `to`.
    fn settings_moves(&self, from: i64, to: i64) -> Result<Vec<SettingsMove>, StoreError> {
        Ok(self
            .settings_keys(from)?
            .into_iter()
            .map(|key| {
                let mut new = chat_key(to).to_vec();
                new.extend_from_slice(&key[8..]);
                (key, new)
            })
            .collect())
    }

    /// Journal entries made for the old id between our listing and the
    /// migration (none can come after it: the old id is unsubscribed). The
    /// fan-out runs on the task that migrates, so it cannot add any today; the
    /// second look keeps that from being a silent assumption.
    fn move_stragglers(&self, from: i64, to: i64, to_had_own: bool) -> Result<(), StoreError> {
        loop {
            let left: Vec<JournalEntry> = self.journal_for(from)?;
            if left.is_empty() {
                return Ok(());
            }
            self.journal.transaction(|journal_t| {
                for entry in &left {
                    journal_t.remove(entry_key(entry).as_ref())?;
                    if !to_had_own && !entry.edit {
                        let moved = JournalEntry {
                            chat: to,
                            ..entry.clone()
                        };
                        journal_t.insert(entry_key(&moved).as_ref(), value_of(&moved))?;
                    }
                }
                Ok::<_, ConflictableTransactionError<StoreError>>(())
            })?;
        }
    }
}

/// Moves the group's settings records (`moves`) to the new id. What the
/// supergroup chose already (it may have been asked before the bot saw the
/// upgrade) wins, field by field; the group's choices fill the rest.
fn move_settings(settings_t: &TransactionalTree, moves: &[SettingsMove]) -> TxResult<()> {
    for (old, new) in moves {
        let Some(value) = settings_t.remove(old.as_ref())? else {
            continue;
        };
        let moved = settings_decode(old, &value);
        let merged = match settings_t.get(new.as_slice())? {
            Some(own) => settings_decode(new, &own).or(moved),
            None => moved,
        };
        let value = serde_json::to_vec(&merged).map_err(|e| abort("settings", e))?;
        settings_t.insert(new.as_slice(), value)?;
    }
    Ok(())
}

/// Moves the subscriber record from `from` to `to`, unless `to` has its own.
/// Whether `to` had its own, and the subscription moved (if any).
fn move_subscription(
    subs_t: &TransactionalTree,
    from: i64,
    to: i64,
) -> TxResult<(bool, Option<Subscription>)> {
    let record = subs_t.remove(&chat_key(from))?;
    if subs_t.get(chat_key(to))?.is_some() {
        return Ok((true, None));
    }
    let Some(record) = record else {
        return Ok((false, None));
    };
    let subscription = decode_subscription(&record).map_err(ConflictableTransactionError::Abort)?;
    subs_t.insert(&chat_key(to), record)?;
    Ok((false, Some(subscription)))
}
