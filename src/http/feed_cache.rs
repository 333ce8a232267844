//! Feeds built once per change of the store, off the async workers.
//!
//! A source's feed is its newest releases, and a source with few of them is
//! found only by reading every release (a release lists the sources that
//! showed it; no index says which releases a source showed after another
//! source had them). At 100,000 releases that is a third of a second, and the
//! same runtime serves polling, commands, pushes and `/healthz`. So:
//!
//! - one walk of the releases, newest first, fills the lists of every feed
//!   at once (all sources', and each configured source's), stopping once
//!   every list is full; it runs on a blocking thread;
//! - the lists and each document made from them are kept until the store's
//!   releases change ([`Store::releases_written`]), so the walk is paid once
//!   per change of the store, not once per request;
//! - requests that arrive while a build runs wait for it and share it, and a
//!   build goes on when its client leaves, for whoever asks next.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::http::ReadError;
use crate::store::{Store, StoreError, StoredItem};

/// How a feed's document is made from its releases (newest first): the
/// server's feeds module, handed to the cache so the cache does not import it.
pub(crate) type Render = fn(&Config, &FeedKey, &[Arc<StoredItem>], &Contents) -> Document;

/// The full text of the releases in the lists, by release id, as a feed's
/// HTML content (`Body::feed_html`): releases whose page was not read yet
/// have none, and their entries carry only the lead. A body that arrives
/// counts as a change of the releases ([`Store::releases_written`]).
pub(crate) type Contents = HashMap<String, String>;

/// The two formats, by file extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Format {
    Atom,
    Json,
}

impl Format {
    pub(super) fn extension(self) -> &'static str {
        match self {
            Format::Atom => "atom",
            Format::Json => "json",
        }
    }

    pub(super) fn content_type(self) -> &'static str {
        match self {
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Json => "application/feed+json; charset=utf-8",
        }
    }
}

/// Which feed: every source's (`source` is `None`) or one configured
/// source's, by its configured name, in one format.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct FeedKey {
    pub source: Option<String>,
    pub format: Format,
}

/// A feed as served: the document and its validators.
#[derive(Debug)]
pub(crate) struct Document {
    pub body: Bytes,
    /// A strong validator of `body`'s bytes.
    pub etag: String,
    /// The newest entry's time (`Last-Modified`).
    pub modified: DateTime<Utc>,
}

/// The feeds of one server, kept between requests.
pub(crate) struct FeedCache {
    /// Makes a document of a feed's releases.
    render: Render,
    /// Held while a build runs, so that concurrent requests share it.
    built: tokio::sync::Mutex<Built>,
    /// Walks of the releases so far (tests count them).
    walks: AtomicU64,
}

/// What was built from the releases as they were at one count of writes.
#[derive(Default)]
struct Built {
    /// [`Store::releases_written`] when the walk began (`None`: nothing built).
    written: Option<u64>,
    lists: Option<Arc<Lists>>,
    documents: HashMap<FeedKey, Arc<Document>>,
}

/// The newest releases of every feed, newest first, from one walk.
struct Lists {
    all: Vec<Arc<StoredItem>>,
    /// By configured source name.
    by_source: HashMap<String, Vec<Arc<StoredItem>>>,
    /// The full text of those that have one.
    contents: Contents,
}

impl FeedCache {
    /// An empty cache whose documents `render` makes.
    pub(crate) fn new(render: Render) -> FeedCache {
        FeedCache {
            render,
            built: tokio::sync::Mutex::default(),
            walks: AtomicU64::new(0),
        }
    }

    /// The feed `key` as the store holds it now: from the cache while the
    /// releases are unchanged, else built on a blocking thread.
    pub(crate) async fn document(
        self: &Arc<Self>,
        store: Store,
        config: Arc<Config>,
        key: FeedKey,
    ) -> Result<Arc<Document>, ReadError> {
        {
            let built = self.built.lock().await;
            if built.written == Some(store.releases_written())
                && let Some(document) = built.documents.get(&key)
            {
                return Ok(document.clone());
            }
        }
        // A task of its own: a client that leaves does not waste the build.
        let cache = self.clone();
        tokio::spawn(async move { cache.build(store, config, key).await }).await?
    }

    /// Builds `key`'s document (and the lists, if the releases changed since
    /// they were read), holding the cache so no other build runs meanwhile.
    async fn build(
        self: Arc<Self>,
        store: Store,
        config: Arc<Config>,
        key: FeedKey,
    ) -> Result<Arc<Document>, ReadError> {
        let mut built = self.built.lock().await;
        // Read before the releases are: a write that lands during the walk
        // counts after it, and the next request builds again.
        let written = store.releases_written();
        if built.written != Some(written) {
            *built = Built {
                written: Some(written),
                ..Built::default()
            };
        }
        if let Some(document) = built.documents.get(&key) {
            return Ok(document.clone()); // built while this request waited
        }
        let lists = built.lists.clone();
        let cache = self.clone();
        let render = self.render;
        let build_key = key.clone();
        let (lists, document) = tokio::task::spawn_blocking(move || {
            let lists = match lists {
                Some(lists) => lists,
                None => {
                    cache.walks.fetch_add(1, Ordering::Relaxed);
                    Arc::new(Lists::read(&store, &config)?)
                }
            };
            let stored = lists.of(&build_key);
            let document = render(&config, &build_key, stored, &lists.contents);
            Ok::<_, StoreError>((lists, Arc::new(document)))
        })
        .await??;
        built.lists = Some(lists);
        built.documents.insert(key, document.clone());
        Ok(document)
    }

    /// How many times the releases have been walked.
    #[cfg(test)]
    pub(crate) fn walks(&self) -> u64 {
        self.walks.load(Ordering::Relaxed)
    }
}

impl Lists {
    /// Walks the releases newest first until every feed has
    /// `http.feed_entries` of them, or the releases end.
    fn read(store: &Store, config: &Config) -> Result<Lists, StoreError> {
        let n = config.http.feed_entries;
        let mut all = Vec::with_capacity(n);
        let mut by_source: HashMap<String, Vec<Arc<StoredItem>>> = config
            .sources
            .iter()
            .map(|s| (s.name.clone(), Vec::new()))
            .collect();
        let mut short = by_source.len() + 1;
        for stored in store.newest_first() {
            let stored = Arc::new(stored?);
            if all.len() < n {
                all.push(stored.clone());
                if all.len() == n {
                    short -= 1;
                }
            }
            for source in stored.sources() {
                if let Some(list) = by_source.get_mut(source)
                    && list.len() < n
                {
                    list.push(stored.clone());
                    if list.len() == n {
                        short -= 1;
                    }
                }
            }
            if short == 0 {
                break;
            }
        }
        let mut contents = Contents::new();
        for stored in all.iter().chain(by_source.values().flatten()) {
            let id = &stored.item.id;
            if !contents.contains_key(id)
                && let Some(body) = store.body(id)?
            {
                contents.insert(id.clone(), body.feed_html());
            }
        }
        Ok(Lists {
            all,
            by_source,
            contents,
        })
    }

    /// The releases of the feed `key`, newest first.
    fn of(&self, key: &FeedKey) -> &[Arc<StoredItem>] {
        match &key.source {
            None => &self.all,
            Some(name) => self.by_source.get(name).map_or(&[], Vec::as_slice),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Item;
    use crate::store::PollPolicy;
    use chrono::NaiveDate;

    const CONFIG: &str = r#"
[http]
feed_entries = 5

[[sources]]
name = "home"
url = "https://example.org/"

[[sources]]
name = "consulate"
url = "https://consulate.example.org/news"
"#;

    fn item(host: &str, n: u32, day: u32) -> Item {
        Item {
            id: format!("{host}/n/{n}"),
            url: format!("https://{host}/n/{n}"),
            title: format!("release {n} of {host}"),
            date: NaiveDate::from_ymd_opt(2024, 1, day),
            lead: String::new(),
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_720_000_000, 0).unwrap()
    }

    /// A busy `home` (200 releases over the month) and a sparse `consulate`:
    /// two of its own, and one of `home`'s that it listed later.
    async fn store() -> (tempfile::TempDir, Store, Arc<Config>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let config = Arc::new(Config::from_toml(CONFIG).unwrap());
        let policy = PollPolicy::unguarded();
        let home: Vec<Item> = (0..200)
            .map(|n| item("example.org", n, 1 + n % 28))
            .collect();
        store
            .record_poll("home", &home, &policy, now())
            .await
            .unwrap();
        let consulate = vec![
            item("consulate.example.org", 1, 3),
            item("consulate.example.org", 2, 9),
            item("example.org", 5, 6),
        ];
        store
            .record_poll("consulate", &consulate, &policy, now())
            .await
            .unwrap();
        (dir, store, config)
    }

    fn key(source: Option<&str>, format: Format) -> FeedKey {
        FeedKey {
            source: source.map(str::to_string),
            format,
        }
    }

    fn text(document: &Document) -> &str {
        std::str::from_utf8(&document.body).unwrap()
    }

    #[tokio::test]
    async fn every_feed_has_the_newest_releases_its_source_listed() {
        let (_dir, store, config) = store().await;
        let cache = Arc::new(FeedCache::new(crate::http::feeds::render));
        let lists = Lists::read(&store, &config).unwrap();
        let ids = |list: &[Arc<StoredItem>]| -> Vec<String> {
            list.iter().map(|s| s.item.id.clone()).collect()
        };
        // What a filter over every release finds, walking them all.
        let consulate = store
            .latest_matching(5, |s| s.listed_on("consulate"))
            .unwrap();
        let home = store.latest_matching(5, |s| s.listed_on("home")).unwrap();
        assert_eq!(
            ids(lists.of(&key(Some("consulate"), Format::Atom))),
            consulate
                .iter()
                .map(|s| s.item.id.clone())
                .collect::<Vec<_>>()
        );
        assert_eq!(
            ids(lists.of(&key(Some("consulate"), Format::Atom))).len(),
            3
        );
        assert_eq!(
            ids(lists.of(&key(Some("home"), Format::Json))),
            home.iter().map(|s| s.item.id.clone()).collect::<Vec<_>>()
        );
        assert_eq!(
            ids(lists.of(&key(None, Format::Atom))),
            store
                .latest(5)
                .unwrap()
                .iter()
                .map(|s| s.item.id.clone())
                .collect::<Vec<_>>()
        );
        let atom = cache
            .document(
                store.clone(),
                config.clone(),
                key(Some("consulate"), Format::Atom),
            )
            .await
            .unwrap();
        assert!(text(&atom).contains("release 2 of consulate.example.org"));
        assert!(
            text(&atom).contains("release 5 of example.org"),
            "listed later"
        );
    }

    #[tokio::test]
    async fn a_body_that_arrives_renews_the_feeds_with_their_content() {
        use crate::source::body::{Block, BlockKind, Body};
        use crate::store::{PageRecord, listing_hash};
        let (_dir, store, config) = store().await;
        let cache = Arc::new(FeedCache::new(crate::http::feeds::render));
        let atom = key(Some("consulate"), Format::Atom);
        let json = key(Some("consulate"), Format::Json);
        let before = cache
            .document(store.clone(), config.clone(), atom.clone())
            .await
            .unwrap();
        assert!(!text(&before).contains("<content"));
        let id = "consulate.example.org/n/2";
        let stored = store.item(id).unwrap().unwrap();
        let record = PageRecord {
            seq: stored.seq,
            listing: listing_hash(&stored.item.title, &stored.item.lead),
            body: Some(Body {
                blocks: vec![Block {
                    kind: BlockKind::Paragraph,
                    html: "A <a href=\"https://consulate.example.org/x\">samovar</a> &amp; tea"
                        .into(),
                    text: "A samovar & tea".into(),
                }],
            }),
            done: true,
            ..PageRecord::default()
        };
        assert!(store.save_page_record(id, &record).unwrap());
        let after = cache
            .document(store.clone(), config.clone(), atom)
            .await
            .unwrap();
        let after = text(&after);
        assert!(after.contains("<content type=\"html\">"), "{after}");
        assert!(
            after.contains("&lt;p&gt;A &lt;a href=&quot;https://consulate.example.org/x&quot;&gt;samovar&lt;/a&gt; &amp;amp; tea&lt;/p&gt;"),
            "{after}"
        );
        let json = cache.document(store, config, json).await.unwrap();
        let feed: serde_json::Value = serde_json::from_slice(&json.body).unwrap();
        let html = feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .find_map(|i| i["content_html"].as_str())
            .unwrap();
        assert_eq!(
            html,
            "<p>A <a href=\"https://consulate.example.org/x\">samovar</a> &amp; tea</p>"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_requests_share_one_walk_kept_until_the_releases_change() {
        let (_dir, store, config) = store().await;
        let cache = Arc::new(FeedCache::new(crate::http::feeds::render));
        let ask = |key: FeedKey| cache.document(store.clone(), config.clone(), key);
        let answers =
            futures::future::join_all((0..16).map(|_| ask(key(Some("consulate"), Format::Atom))))
                .await;
        let first = answers[0].as_ref().unwrap().clone();
        for answer in &answers {
            assert!(
                Arc::ptr_eq(answer.as_ref().unwrap(), &first),
                "one document"
            );
        }
        assert_eq!(cache.walks(), 1, "sixteen requests, one walk");
        // Other feeds come from the same walk.
        ask(key(None, Format::Json)).await.unwrap();
        ask(key(Some("home"), Format::Atom)).await.unwrap();
        assert_eq!(cache.walks(), 1);

        // A read that changes nothing keeps the cache.
        let same = vec![item("consulate.example.org", 1, 3)];
        let policy = PollPolicy::unguarded();
        store
            .record_poll("consulate", &same, &policy, now())
            .await
            .unwrap();
        let again = ask(key(Some("consulate"), Format::Atom)).await.unwrap();
        assert!(Arc::ptr_eq(&again, &first));
        assert_eq!(cache.walks(), 1);

        // A new release: the next request walks again and shows it.
        let new = vec![item("consulate.example.org", 3, 20)];
        store
            .record_poll("consulate", &new, &policy, now())
            .await
            .unwrap();
        let fresh = ask(key(Some("consulate"), Format::Atom)).await.unwrap();
        assert_eq!(cache.walks(), 2);
        assert!(text(&fresh).contains("release 3 of consulate.example.org"));
        assert_ne!(fresh.etag, first.etag);
    }
}
