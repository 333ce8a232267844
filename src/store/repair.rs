//! What a source's self-repair needs of the store: the releases it knew
//! (their titles and dates, to recognise them at new addresses) and the
//! fallback it reads while its configured extraction finds nothing, kept in
//! `meta` so a restart reads the same way and tells operators nothing twice.

use super::retention::prefix;
use super::{Store, StoreError, corrupt, encode};
use crate::source::fallback::{Known, Repair};

fn repair_key(source: &str) -> Vec<u8> {
    format!("repair:{source}").into_bytes()
}

impl Store {
    /// The newest `n` releases `source` first reported, newest first (by
    /// when they were found), as what recognising them needs.
    pub(crate) fn known_releases(&self, source: &str, n: usize) -> Result<Vec<Known>, StoreError> {
        let mut out = Vec::with_capacity(n.min(256));
        for record in self.by_source.scan_prefix(prefix(source)).rev() {
            if out.len() >= n {
                break;
            }
            let (_, id) = record?;
            let id = String::from_utf8(id.to_vec()).map_err(|e| corrupt("by_source", e))?;
            if let Some(stored) = self.item(&id)? {
                out.push(Known {
                    id,
                    title: stored.item.title,
                    date: stored.item.date,
                });
            }
        }
        Ok(out)
    }

    /// The fallback `source` reads now, if any.
    pub(crate) fn repair_of(&self, source: &str) -> Result<Option<Repair>, StoreError> {
        self.meta
            .get(repair_key(source))?
            .map(|v| serde_json::from_slice(&v).map_err(|e| corrupt("meta", e)))
            .transpose()
    }

    /// Remembers the fallback `source` reads (`None`: it reads as configured).
    /// Not flushed: losing the latest change costs one repeated operator message.
    pub(crate) fn save_repair(
        &self,
        source: &str,
        repair: Option<&Repair>,
    ) -> Result<(), StoreError> {
        match repair {
            Some(repair) => {
                self.meta
                    .insert(repair_key(source), encode("meta", repair)?)?;
            }
            None => {
                self.meta.remove(repair_key(source))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDate};

    use crate::source::Item;
    use crate::source::fallback::{Fallback, Repair};
    use crate::store::{PollPolicy, Store};

    #[tokio::test]
    async fn known_releases_newest_first_and_the_repair_record() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let item = |n: u32| Item {
            id: format!("e.org/n/{n}"),
            url: format!("https://e.org/n/{n}"),
            title: format!("Release {n}"),
            date: NaiveDate::from_ymd_opt(2024, 5, n),
            lead: String::new(),
        };
        let policy = PollPolicy::unguarded();
        store
            .record_poll("a", &[item(2), item(1)], &policy, now)
            .await
            .unwrap();
        store
            .record_poll("b", &[item(9)], &policy, now)
            .await
            .unwrap();
        store
            .record_poll("a", &[item(3), item(2)], &policy, now)
            .await
            .unwrap();
        let known = store.known_releases("a", 2).unwrap();
        let ids: Vec<&str> = known.iter().map(|k| k.id.as_str()).collect();
        assert_eq!(ids, ["e.org/n/3", "e.org/n/2"]);
        assert_eq!(known[0].title, "Release 3");

        assert_eq!(store.repair_of("a").unwrap(), None);
        let repair = Repair {
            fallback: Fallback::Feed {
                url: "https://e.org/rss".into(),
            },
            since: 1,
            config: 7,
        };
        store.save_repair("a", Some(&repair)).unwrap();
        assert_eq!(store.repair_of("a").unwrap(), Some(repair));
        assert_eq!(store.repair_of("ab").unwrap(), None);
        store.save_repair("a", None).unwrap();
        assert_eq!(store.repair_of("a").unwrap(), None);
    }
}
