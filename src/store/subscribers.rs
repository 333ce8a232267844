//! Subscriptions: which chats (and forum topics) get which sources, and chats
//! that leave (by their own wish, or because Telegram says they are gone).
//! Chats that move (a group that became a supergroup) are in
//! [`migration`](super::migration).
//!
//! One record per chat, keyed by the chat id: the chat's own subscription and
//! those of its forum topics live in it together, so the fan-out walk, its
//! cursor and its log stay per chat (Telegram's rate limits are per chat too).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sled::Transactional;

use super::{
    Ended, JournalStats, Store, StoreError, chat_from_key, chat_key, corrupt, encode, entry_key,
};

/// Where pushes go: a chat, or one forum topic of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target {
    pub chat: i64,
    /// The topic's `message_thread_id`; `None`: the chat itself (in a forum,
    /// its General topic, which Telegram addresses without a thread id).
    pub thread: Option<i32>,
}

impl Target {
    /// One forum topic of `chat`.
    pub fn topic(chat: i64, thread: i32) -> Target {
        Target {
            chat,
            thread: Some(thread),
        }
    }
}

impl From<i64> for Target {
    fn from(chat: i64) -> Target {
        Target { chat, thread: None }
    }
}

/// At most this many forum topics of one chat subscribe on their own: a
/// chat's record, and the pushes one release makes for it, stay small.
pub const MAX_TOPICS: usize = 32;

/// What a chat asked for: every source, or only some; and what each of its
/// forum topics that subscribed on its own asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// When the chat first subscribed (Unix seconds).
    pub since: i64,
    /// `None`: every source, including ones added to the config later.
    pub sources: Option<BTreeSet<String>>,
    /// Whether the chat itself gets pushes; false when only some of its
    /// topics subscribed (then `since` and `sources` mean nothing). Records
    /// written before topics existed lack it: they are whole-chat ones.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub whole_chat: bool,
    /// Forum topics subscribed on their own, by thread id (at most [`MAX_TOPICS`]).
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        with = "thread_keys"
    )]
    pub topics: BTreeMap<i32, Topic>,
}

/// What one forum topic asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topic {
    pub since: i64,
    /// `None`: every source.
    pub sources: Option<BTreeSet<String>>,
}

/// Topics keyed by thread id, written as JSON writes any map (keys as
/// strings) and read from strings explicitly: serde's buffered paths (an
/// export record's tag) cannot turn a string key back into a number by
/// themselves. The stored bytes are the same either way.
mod thread_keys {
    use std::collections::BTreeMap;

    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Topic;

    pub(super) fn serialize<S: Serializer>(
        topics: &BTreeMap<i32, Topic>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let keyed: BTreeMap<String, &Topic> =
            topics.iter().map(|(k, v)| (k.to_string(), v)).collect();
        keyed.serialize(serializer)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<i32, Topic>, D::Error> {
        BTreeMap::<String, Topic>::deserialize(deserializer)?
            .into_iter()
            .map(|(k, v)| {
                k.parse::<i32>()
                    .map(|k| (k, v))
                    .map_err(|_| D::Error::custom(format!("`{k}` is not a topic's thread id")))
            })
            .collect()
    }
}

fn yes() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}

fn picks(sources: &Option<BTreeSet<String>>, source: &str) -> bool {
    sources.as_ref().is_none_or(|s| s.contains(source))
}

impl Subscription {
    /// Whether releases of `source` go to the chat itself.
    pub fn wants(&self, source: &str) -> bool {
        self.whole_chat && picks(&self.sources, source)
    }

    /// The sources `thread` (`None`: the chat itself) asked for, if it is subscribed:
    /// `Some(None)` means every source.
    pub fn sources_of(&self, thread: Option<i32>) -> Option<&Option<BTreeSet<String>>> {
        match thread {
            None => self.whole_chat.then_some(&self.sources),
            Some(t) => self.topics.get(&t).map(|topic| &topic.sources),
        }
    }

    /// Whether releases of `source` go to `thread` (`None`: the chat itself).
    pub fn target_wants(&self, thread: Option<i32>, source: &str) -> bool {
        self.sources_of(thread)
            .is_some_and(|sources| picks(sources, source))
    }

    /// Neither the chat nor any topic is subscribed: the record can go.
    fn is_empty(&self) -> bool {
        !self.whole_chat && self.topics.is_empty()
    }
}

/// Adds `source` (`None`: every source) to what a target gets; `fresh` when
/// the target was not subscribed before.
fn widen(sources: &mut Option<BTreeSet<String>>, fresh: bool, source: Option<&str>) {
    match (fresh, source) {
        (_, None) => *sources = None,
        (true, Some(s)) => *sources = Some(BTreeSet::from([s.to_string()])),
        (false, Some(s)) => {
            if let Some(set) = sources.as_mut() {
                set.insert(s.to_string());
            }
        }
    }
}

/// Why a chat's subscription ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// The user asked (`/unsubscribe`).
    ByUser,
    /// Telegram said the chat can never receive messages again.
    ChatGone,
}

impl Removal {
    /// What an ending for this reason adds to the stored counters, when no
    /// one else counts it (delivery counts its own, see its `Outcome`): a
    /// chat that leaves by its own wish is not a loss operators hear of.
    fn counted(self, ended: Ended) -> JournalStats {
        match self {
            Removal::ByUser => JournalStats::default(),
            Removal::ChatGone => JournalStats::gone(ended),
        }
    }
}

/// Reads a subscriber record; a bare 8-byte timestamp is the first format (all sources).
pub(super) fn decode_subscription(bytes: &[u8]) -> Result<Subscription, StoreError> {
    if let Ok(raw) = <[u8; 8]>::try_from(bytes) {
        return Ok(Subscription {
            since: i64::from_be_bytes(raw),
            sources: None,
            whole_chat: true,
            topics: BTreeMap::new(),
        });
    }
    serde_json::from_slice(bytes).map_err(|e| corrupt("subscribers", e))
}

impl Store {
    /// Subscribes `target` (a chat, or one forum topic of it) to `source`
    /// (`None`: every source). Returns false when nothing changed, or when the
    /// chat already has [`MAX_TOPICS`] topics subscribed. Durable on return.
    pub async fn subscribe(
        &self,
        target: impl Into<Target>,
        source: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let target = target.into();
        let mut changed = false;
        self.subscribers
            .fetch_and_update(chat_key(target.chat), |old| {
                let old = old.and_then(|b| decode_subscription(b).ok());
                let mut next = old.clone().unwrap_or(Subscription {
                    since: now.timestamp(),
                    sources: None,
                    whole_chat: false,
                    topics: BTreeMap::new(),
                });
                match target.thread {
                    None => {
                        let fresh = !next.whole_chat;
                        if fresh {
                            next.since = now.timestamp();
                            next.whole_chat = true;
                        }
                        widen(&mut next.sources, fresh, source);
                    }
                    Some(thread) => {
                        let fresh = !next.topics.contains_key(&thread);
                        if !(fresh && next.topics.len() >= MAX_TOPICS) {
                            let topic = next.topics.entry(thread).or_insert(Topic {
                                since: now.timestamp(),
                                sources: None,
                            });
                            widen(&mut topic.sources, fresh, source);
                        }
                    }
                }
                if next.is_empty() {
                    // A topic over the limit of a chat with no record: nothing to keep.
                    changed = false;
                    return None;
                }
                changed = old.as_ref() != Some(&next);
                serde_json::to_vec(&next).ok()
            })?;
        self.commit().await?;
        Ok(changed)
    }

    /// Ends `target`'s subscription to `source` (`None`: all of it) and drops
    /// the pushes no longer wanted. A target subscribed to every source that
    /// drops one keeps the rest of `configured` (every configured source name,
    /// including ones never read yet). Returns false when there was nothing
    /// to end. Durable on return.
    pub async fn unsubscribe(
        &self,
        target: impl Into<Target>,
        source: Option<&str>,
        configured: &[String],
    ) -> Result<bool, StoreError> {
        let target = target.into();
        let Some(current) = self.subscription(target.chat)? else {
            return Ok(false);
        };
        let Some(sources) = current.sources_of(target.thread) else {
            return Ok(false);
        };
        let remaining = match (source, sources.clone()) {
            (None, _) => None,
            (Some(s), Some(mut set)) => {
                if !set.remove(s) {
                    return Ok(false);
                }
                (!set.is_empty()).then_some(set)
            }
            // Subscribed to everything, leaving one: keep the others.
            (Some(s), None) => {
                let set: BTreeSet<String> = configured
                    .iter()
                    .filter(|name| *name != s)
                    .cloned()
                    .collect();
                (!set.is_empty()).then_some(set)
            }
        };
        match remaining {
            None => {
                self.remove_target(target, Removal::ByUser).await?;
            }
            Some(set) => {
                let mut record = current;
                match target.thread {
                    None => record.sources = Some(set),
                    Some(t) => {
                        if let Some(topic) = record.topics.get_mut(&t) {
                            topic.sources = Some(set);
                        }
                    }
                }
                self.subscribers
                    .insert(chat_key(target.chat), encode("subscribers", &record)?)?;
                self.subscriptions_changed();
                // Pushes of the dropped source are skipped at send time.
                self.commit().await?;
            }
        }
        Ok(true)
    }

    /// Ends one target's subscription and drops the journal entries owed to
    /// it, in one transaction; the chat's other targets keep theirs. The last
    /// target of a chat ends as [`Store::remove_chat`] does. Returns how many
    /// pushes were dropped. Durable on return.
    pub async fn remove_target(&self, target: Target, why: Removal) -> Result<usize, StoreError> {
        let ended = self.end_target(target, why, &|ended| why.counted(ended))?;
        self.commit().await?;
        Ok(ended.dropped)
    }

    /// [`Store::remove_target`] without the flush, adding what `counted` says
    /// to the stored counters in each transaction: the crash window's owner
    /// counts and commits its own.
    pub(super) fn end_target(
        &self,
        target: Target,
        why: Removal,
        counted: &dyn Fn(Ended) -> JournalStats,
    ) -> Result<Ended, StoreError> {
        let Some(current) = self.subscription(target.chat)? else {
            return Ok(Ended::default());
        };
        let mut next = current.clone();
        match target.thread {
            None => next.whole_chat = false,
            Some(t) => {
                next.topics.remove(&t);
            }
        }
        if next.is_empty() {
            return self.end_chat(target.chat, why, counted);
        }
        if next == current {
            return Ok(Ended::default());
        }
        let keys: Vec<sled::IVec> = self
            .journal_for(target.chat)?
            .iter()
            .filter(|e| e.thread == target.thread)
            .map(|e| sled::IVec::from(entry_key(e).as_ref()))
            .collect();
        let record = encode("subscribers", &next)?;
        let key = chat_key(target.chat);
        // A topic that is gone takes its settings along (never the chat's own:
        // the chat is still there).
        let settings_key = (why == Removal::ChatGone && target.thread.is_some())
            .then(|| super::settings::settings_key(target));
        let ended = Ended {
            chat_ended: false,
            dropped: keys.len(),
        };
        (&self.subscribers, &self.journal, &self.meta, &self.settings).transaction(
            |(subs_t, journal_t, meta_t, settings_t)| {
                subs_t.insert(&key, record.clone())?;
                for k in &keys {
                    journal_t.remove(k.as_ref())?;
                }
                if let Some(k) = &settings_key {
                    settings_t.remove(k.as_slice())?;
                }
                counted(ended).add_to(meta_t)
            },
        )?;
        self.subscriptions_changed();
        Ok(ended)
    }

    /// What `chat` is subscribed to, if anything.
    pub fn subscription(&self, chat: i64) -> Result<Option<Subscription>, StoreError> {
        self.subscribers
            .get(chat_key(chat))?
            .map(|v| decode_subscription(&v))
            .transpose()
    }

    /// Whether `chat` (or any of its topics) is subscribed to anything.
    pub fn is_subscribed(&self, chat: i64) -> Result<bool, StoreError> {
        Ok(self.subscribers.contains_key(chat_key(chat))?)
    }

    /// All subscribed chats in id order (for tests and tools; the bot itself
    /// never holds the whole list).
    pub fn subscribers(&self) -> Result<Vec<i64>, StoreError> {
        self.subscribers
            .iter()
            .keys()
            .map(|k| {
                let k = k?;
                chat_from_key(&k).ok_or_else(|| corrupt("subscribers", "key is not 8 bytes"))
            })
            .collect()
    }

    /// How many chats are subscribed.
    pub fn subscriber_count(&self) -> usize {
        self.subscribers.len()
    }

    /// How many subscription changes (endings, narrowings, moves) there have
    /// been since the store was opened: a page of chats read at one count must
    /// check a chat again before sending to it at another.
    pub fn subscription_changes(&self) -> u64 {
        self.subscription_changes.load(Ordering::SeqCst)
    }

    pub(super) fn subscriptions_changed(&self) {
        self.subscription_changes.fetch_add(1, Ordering::SeqCst);
    }

    /// Ends `chat`'s subscription and drops every journal entry still owed to
    /// it, in one transaction; a gone chat is counted for operators. Returns how
    /// many pushes were dropped. Durable on return.
    pub async fn remove_chat(&self, chat: i64, why: Removal) -> Result<usize, StoreError> {
        let ended = self.end_chat(chat, why, &|ended| why.counted(ended))?;
        self.commit().await?;
        Ok(ended.dropped)
    }

    /// [`Store::remove_chat`] without the flush, adding what `counted` says
    /// to the stored counters in each transaction (see [`Store::end_target`]).
    pub(super) fn end_chat(
        &self,
        chat: i64,
        why: Removal,
        counted: &dyn Fn(Ended) -> JournalStats,
    ) -> Result<Ended, StoreError> {
        let mut ended = Ended::default();
        let mut first = true;
        // The fan-out may journal a push for the chat between our listing and
        // our transaction: a second look catches those stragglers. One that
        // comes later still (from a page read before the removal) is dropped
        // by the journal sweep, which finds no subscription for it.
        // A chat that is gone for good takes its settings along; one that
        // unsubscribed keeps them for when it comes back.
        let settings = match why {
            Removal::ChatGone => self.settings_keys(chat)?,
            Removal::ByUser => Vec::new(),
        };
        loop {
            let keys = self.journal_keys(chat)?;
            if !first && keys.is_empty() {
                break;
            }
            let was_subscribed = (&self.subscribers, &self.journal, &self.meta, &self.settings)
                .transaction(|(subs_t, journal_t, meta_t, settings_t)| {
                    let was_subscribed = first && subs_t.remove(&chat_key(chat))?.is_some();
                    for key in &keys {
                        journal_t.remove(key.as_ref())?;
                    }
                    if first {
                        for key in &settings {
                            settings_t.remove(key.as_ref())?;
                        }
                    }
                    let round = Ended {
                        chat_ended: was_subscribed,
                        dropped: keys.len(),
                    };
                    counted(round).add_to(meta_t)?;
                    Ok(was_subscribed)
                })?;
            ended.chat_ended |= was_subscribed;
            ended.dropped += keys.len();
            if first {
                self.subscriptions_changed();
            }
            first = false;
        }
        Ok(ended)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_of_earlier_versions_read_as_whole_chat_subscriptions() {
        // The first format: a bare timestamp.
        let first = decode_subscription(&1_653_120_000i64.to_be_bytes()).unwrap();
        assert!(first.whole_chat && first.sources.is_none() && first.topics.is_empty());
        // The format before topics, as that version wrote it.
        let before = decode_subscription(br#"{"since":1653120000,"sources":["press"]}"#).unwrap();
        assert_eq!(before.since, 1_653_120_000);
        assert!(before.whole_chat && before.wants("press") && !before.wants("home"));
        // A record without topics is written exactly as before.
        assert_eq!(
            serde_json::to_string(&before).unwrap(),
            r#"{"since":1653120000,"sources":["press"]}"#
        );
        // A topic-only record reads back.
        let mut topics = before.clone();
        topics.whole_chat = false;
        topics.topics.insert(
            7,
            Topic {
                since: 1,
                sources: None,
            },
        );
        let again = decode_subscription(&serde_json::to_vec(&topics).unwrap()).unwrap();
        assert_eq!(again, topics);
        assert!(!again.wants("press") && again.target_wants(Some(7), "home"));
    }
}
