//! `embassy-bot backfill [source] [--pages N]`: read a source's archive — its
//! older list pages, from `sources[].archive` — and record every release
//! silently, so `/latest` and `/search` have the history.
//!
//! Nothing is pushed and the live poller's state is left alone
//! ([`Store::record_archive`]). One request a second, however many sources.
//! The walk ([`walk`]) begins at page 1 of a source never read, and at page 2
//! of one the bot has read: page 1 is the live page, and a release published
//! there since the bot stopped is still the poller's to push. It ends:
//! - at the first page that brings nothing new, once a page has brought
//!   something new (pages already known before that are walked through, so a
//!   second run fills a gap further down the archive, and a cut-short run
//!   goes on where it stopped);
//! - at a page with no releases, or with exactly the releases of the page
//!   before it (how archives end: an empty page, or the last one repeated);
//! - after `--pages` pages (default [`DEFAULT_MAX_PAGES`]).
//!
//! A page that cannot be read stops the walk with an error; every page read
//! before it stays recorded.

use std::fmt::Write as _;
use std::future::Future;
use std::io::{IsTerminal, Write};
use std::time::Duration;

use anyhow::Context as _;
use chrono::Utc;
use tokio::time::Instant;

use crate::config::{ArchiveTemplate, Config, SourceConfig};
use crate::source::fetch::{FetchOutcome, Validators, client_for, fetch};
use crate::source::{Item, extract};
use crate::store::{Store, StoreError};

/// Pages read per source when `--pages` is not given.
pub(crate) const DEFAULT_MAX_PAGES: u32 = 1_000;
/// The largest `--pages`.
pub(crate) const MAX_PAGES: u32 = 10_000;
/// Time between two requests to the site: a polite reader's pace.
pub(crate) const PACE: Duration = Duration::from_secs(1);

/// What the operator asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Options {
    /// One source by name; `None`: every source with an archive.
    pub source: Option<String>,
    /// At most this many pages per source; `None`: [`DEFAULT_MAX_PAGES`].
    pub pages: Option<u32>,
    /// Time between requests ([`PACE`]; shorter only in tests).
    pub pace: Duration,
}

/// Why a walk ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WalkEnd {
    /// A page brought nothing new after earlier pages did.
    NothingNew,
    /// A page with no releases, or the same releases as the page before.
    ArchiveEnd,
    /// The page limit was reached.
    PageLimit,
}

/// What a walk over one source's archive did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WalkReport {
    /// The source's name.
    pub source: String,
    /// The page the walk began at (1, or 2 when the live poller owns page 1).
    pub first_page: u32,
    /// Pages read (a page that ended the walk by repeating the one before included).
    pub pages: u32,
    /// Releases the store did not have.
    pub new: usize,
    /// Releases another source had, now listed on this one too.
    pub new_here: usize,
    /// Releases this source had listed before.
    pub known: usize,
    /// Why it stopped.
    pub end: WalkEnd,
}

/// Reads one archive page: its releases in page order (the network in the
/// bot, a table in tests).
pub(crate) trait PageReader {
    /// Archive page `page` (1 for the newest).
    fn read(&mut self, page: u32) -> impl Future<Output = anyhow::Result<Vec<Item>>>;
}

/// Keeps requests [`Options::pace`] apart, across sources too.
#[derive(Debug)]
pub(crate) struct Pacer {
    every: Duration,
    last: Option<Instant>,
}

impl Pacer {
    /// Requests at least `every` apart.
    pub(crate) fn new(every: Duration) -> Pacer {
        Pacer { every, last: None }
    }

    /// Returns when the next request may start.
    pub(crate) async fn wait(&mut self) {
        if let Some(last) = self.last {
            tokio::time::sleep_until(last + self.every).await;
        }
        self.last = Some(Instant::now());
    }
}

/// Walks the archive of the source `name` from `first_page`, at most
/// `max_pages` pages, recording each page silently; the rules are the
/// module's. `progress` hears of every page.
pub(crate) async fn walk(
    store: &Store,
    name: &str,
    reader: &mut impl PageReader,
    first_page: u32,
    max_pages: u32,
    pacer: &mut Pacer,
    progress: &mut Progress,
) -> anyhow::Result<WalkReport> {
    let mut report = WalkReport {
        source: name.to_string(),
        first_page,
        pages: 0,
        new: 0,
        new_here: 0,
        known: 0,
        end: WalkEnd::PageLimit,
    };
    let mut found_new = false;
    let mut previous: Option<Vec<String>> = None;
    while report.pages < max_pages {
        let page = first_page.saturating_add(report.pages);
        pacer.wait().await;
        let items = reader.read(page).await.with_context(|| {
            format!("{name}: archive page {page}: {}", recorded_so_far(&report))
        })?;
        report.pages += 1;
        let ids: Vec<String> = items.iter().map(|i| i.id.clone()).collect();
        if items.is_empty() || previous.as_ref() == Some(&ids) {
            report.end = WalkEnd::ArchiveEnd;
            progress.page(&report, page);
            return Ok(report);
        }
        let outcome = store.record_archive(name, &items, Utc::now()).await?;
        report.new += outcome.new;
        report.new_here += outcome.new_here;
        report.known += outcome.known;
        progress.page(&report, page);
        if outcome.anything_new() {
            found_new = true;
        } else if found_new {
            report.end = WalkEnd::NothingNew;
            return Ok(report);
        }
        previous = Some(ids);
    }
    Ok(report)
}

fn recorded_so_far(report: &WalkReport) -> String {
    match report.pages {
        0 => "nothing recorded".to_string(),
        n => format!(
            "the {n} pages before it are recorded ({} new releases); run backfill again to go on",
            report.new + report.new_here
        ),
    }
}

/// Reads archive pages over HTTP exactly as the poller reads a source (same
/// client settings, redirect and address rules, charset detection, extraction).
struct HttpReader {
    client: reqwest::Client,
    /// The source, its URL set to the page being read.
    source: SourceConfig,
    template: ArchiveTemplate,
}

impl HttpReader {
    fn new(source: &SourceConfig, template: &ArchiveTemplate) -> anyhow::Result<HttpReader> {
        let source = SourceConfig {
            url: template.url(1)?,
            ..source.clone()
        };
        Ok(HttpReader {
            client: client_for(&source)?,
            source,
            template: template.clone(),
        })
    }
}

impl PageReader for HttpReader {
    async fn read(&mut self, page: u32) -> anyhow::Result<Vec<Item>> {
        self.source.url = self.template.url(page)?;
        let fetched = match fetch(&self.client, &self.source, &Validators::default()).await? {
            FetchOutcome::Fetched(fetched) => *fetched,
            // We sent no validators.
            FetchOutcome::NotModified => {
                anyhow::bail!("304 Not Modified to an unconditional request")
            }
        };
        Ok(extract(&self.source, &fetched.body.text, &fetched.http.final_url)?.items)
    }
}

/// Runs `backfill`: every chosen source's archive, one after another; the
/// summary to print.
pub(crate) async fn run(config: &Config, options: &Options) -> anyhow::Result<String> {
    let sources = chosen(config, options.source.as_deref())?;
    let store = Store::open_with(&config.data_dir, &config.store).map_err(|e| match e {
        StoreError::Locked(dir) => anyhow::anyhow!(
            "the data directory {} is in use by a running embassy-bot: backfill writes to the same \
             database, so stop the bot first (Ctrl-C, or `docker stop`), run backfill, then start \
             the bot again",
            dir.display()
        ),
        other => other.into(),
    })?;
    let max_pages = options.pages.unwrap_or(DEFAULT_MAX_PAGES);
    let mut pacer = Pacer::new(options.pace);
    let mut progress = Progress::stderr(options.pages);
    let mut summary = String::new();
    let mut result = Ok(());
    for (source, template) in sources {
        let first_page = if store.last_success(&source.name)?.is_some() {
            2
        } else {
            1
        };
        let mut reader = HttpReader::new(source, template)?;
        let walked = walk(
            &store,
            &source.name,
            &mut reader,
            first_page,
            max_pages,
            &mut pacer,
            &mut progress,
        )
        .await;
        progress.done();
        match walked {
            Ok(report) => {
                let _ = writeln!(summary, "{}", describe(&report));
            }
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    store.close().await?;
    result.map(|()| summary)
}

/// The sources to walk with their archives: the one named, or every source
/// with an archive. Errors name what is configured.
fn chosen<'a>(
    config: &'a Config,
    name: Option<&str>,
) -> anyhow::Result<Vec<(&'a SourceConfig, &'a ArchiveTemplate)>> {
    let with_archive: Vec<_> = config
        .sources
        .iter()
        .filter_map(|s| s.archive.as_ref().map(|a| (s, a)))
        .collect();
    let names = |list: &[(&SourceConfig, &ArchiveTemplate)]| {
        list.iter()
            .map(|(s, _)| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(name) = name else {
        if with_archive.is_empty() {
            anyhow::bail!(
                "no source has an archive: set `archive` (a URL template with {{page}} or {{start}}) on a source in the configuration"
            );
        }
        return Ok(with_archive);
    };
    let Some(source) = config.source_named(name) else {
        let all: Vec<&str> = config.sources.iter().map(|s| s.name.as_str()).collect();
        anyhow::bail!(
            "no source named `{name}`; configured sources: {}",
            all.join(", ")
        );
    };
    match &source.archive {
        Some(template) => Ok(vec![(source, template)]),
        None if with_archive.is_empty() => anyhow::bail!(
            "source `{}` has no archive: set its `archive` (a URL template with {{page}} or {{start}})",
            source.name
        ),
        None => anyhow::bail!(
            "source `{}` has no archive; sources with one: {}",
            source.name,
            names(&with_archive)
        ),
    }
}

/// One line for the summary.
pub(crate) fn describe(report: &WalkReport) -> String {
    let last = report.first_page + report.pages.saturating_sub(1);
    let pages = match report.pages {
        0 => "no page read".to_string(),
        1 => format!("page {} read", report.first_page),
        _ => format!("pages {}–{last} read", report.first_page),
    };
    let end = match report.end {
        WalkEnd::NothingNew => format!("page {last} brought nothing new"),
        WalkEnd::ArchiveEnd => format!("the archive ends at page {last}"),
        WalkEnd::PageLimit => format!("the limit of {} pages", report.pages),
    };
    format!(
        "{}: {pages}; {} new releases recorded, {} already known from other sources, {} already known; stopped: {end}",
        report.source, report.new, report.new_here, report.known
    )
}

/// The progress line on stderr: redrawn in place on a terminal, a line per
/// page otherwise (a log keeps every step). A bar when the page limit was
/// given; without one the walk's length is unknown.
pub(crate) struct Progress {
    out: Box<dyn Write + Send>,
    terminal: bool,
    limit: Option<u32>,
    drawn: bool,
}

impl Progress {
    /// On stderr.
    pub(crate) fn stderr(limit: Option<u32>) -> Progress {
        Progress::to(
            Box::new(std::io::stderr()),
            std::io::stderr().is_terminal(),
            limit,
        )
    }

    /// To `out` (tests give a buffer).
    pub(crate) fn to(out: Box<dyn Write + Send>, terminal: bool, limit: Option<u32>) -> Progress {
        Progress {
            out,
            terminal,
            limit,
            drawn: false,
        }
    }

    fn page(&mut self, report: &WalkReport, page: u32) {
        let bar = self.limit.map_or(String::new(), |limit| {
            const WIDTH: u32 = 20;
            let done = (report.pages.min(limit) * WIDTH).div_ceil(limit.max(1));
            format!(
                " [{}{}] {}/{limit}",
                "#".repeat(done as usize),
                ".".repeat((WIDTH - done) as usize),
                report.pages
            )
        });
        let line = format!(
            "{}: page {page}{bar} · {} new, {} known",
            report.source,
            report.new + report.new_here,
            report.known
        );
        // A failed write to stderr must not stop the walk.
        let _ = if self.terminal {
            write!(self.out, "\r{line}\x1b[K")
        } else {
            writeln!(self.out, "{line}")
        };
        let _ = self.out.flush();
        self.drawn = true;
    }

    /// Ends a source's line (on a terminal).
    fn done(&mut self) {
        if self.terminal && self.drawn {
            let _ = writeln!(self.out);
        }
        self.drawn = false;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use chrono::NaiveDate;

    use super::*;

    /// Archive pages from a table; records when each was asked for.
    struct Table {
        pages: HashMap<u32, Vec<Item>>,
        asked: Vec<(u32, Instant)>,
    }

    impl PageReader for Table {
        async fn read(&mut self, page: u32) -> anyhow::Result<Vec<Item>> {
            self.asked.push((page, Instant::now()));
            match self.pages.get(&page) {
                Some(items) => Ok(items.clone()),
                None if page == 99 => anyhow::bail!("HTTP status 500"),
                None => Ok(Vec::new()),
            }
        }
    }

    fn release(n: u32) -> Item {
        Item {
            id: format!("example.org/fnapr/{n}"),
            url: format!("https://example.org/fnapr/{n}"),
            title: format!("Release {n}"),
            date: NaiveDate::from_ymd_opt(2020, 1, 1 + n % 28),
            lead: String::new(),
        }
    }

    /// Page p holds releases 10p..10p+9, newest first.
    fn table(pages: impl IntoIterator<Item = u32>) -> Table {
        Table {
            pages: pages
                .into_iter()
                .map(|p| (p, (10 * p..10 * p + 10).rev().map(release).collect()))
                .collect(),
            asked: Vec::new(),
        }
    }

    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn quiet() -> Progress {
        Progress::to(Box::new(std::io::sink()), false, None)
    }

    #[tokio::test(start_paused = true)]
    async fn one_request_a_second_and_the_end_of_the_archive() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut reader = table(1..=3);
        let mut pacer = Pacer::new(PACE);
        let started = Instant::now();
        let report = walk(
            &store,
            "press",
            &mut reader,
            1,
            100,
            &mut pacer,
            &mut quiet(),
        )
        .await
        .unwrap();
        assert_eq!(
            (report.pages, report.new, report.end),
            (4, 30, WalkEnd::ArchiveEnd)
        );
        let asked: Vec<u32> = reader.asked.iter().map(|(p, _)| *p).collect();
        assert_eq!(asked, [1, 2, 3, 4]);
        for pair in reader.asked.windows(2) {
            assert_eq!(pair[1].1 - pair[0].1, PACE, "requests a second apart");
        }
        assert_eq!(started.elapsed(), 3 * PACE, "and no slower");
        // The pacer keeps the pace across sources too.
        let mut other = table([1]);
        walk(
            &store,
            "informs",
            &mut other,
            1,
            1,
            &mut pacer,
            &mut quiet(),
        )
        .await
        .unwrap();
        assert_eq!(other.asked[0].1 - reader.asked[3].1, PACE);
        assert_eq!(store.latest(40).unwrap().len(), 30);
    }

    #[tokio::test(start_paused = true)]
    async fn known_pages_are_walked_through_until_something_new_then_it_stops() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut pacer = Pacer::new(PACE);
        // Pages 2 and 5 are known already; 3 and 4 are not.
        for page in [2, 5] {
            let items: Vec<Item> = (10 * page..10 * page + 10).rev().map(release).collect();
            store
                .record_archive("press", &items, Utc::now())
                .await
                .unwrap();
        }
        let mut reader = table(2..=9);
        let report = walk(
            &store,
            "press",
            &mut reader,
            2,
            100,
            &mut pacer,
            &mut quiet(),
        )
        .await
        .unwrap();
        assert_eq!(report.end, WalkEnd::NothingNew);
        assert_eq!((report.first_page, report.pages), (2, 4));
        assert_eq!((report.new, report.known), (20, 20));
        assert_eq!(
            describe(&report),
            "press: pages 2–5 read; 20 new releases recorded, 0 already known from other sources, 20 already known; stopped: page 5 brought nothing new"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_repeated_page_ends_the_archive_and_the_limit_holds() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut pacer = Pacer::new(PACE);
        let mut repeating = table(1..=2);
        let last = repeating.pages[&2].clone();
        repeating.pages.insert(3, last.clone());
        repeating.pages.insert(4, last);
        let report = walk(
            &store,
            "a",
            &mut repeating,
            1,
            100,
            &mut pacer,
            &mut quiet(),
        )
        .await
        .unwrap();
        assert_eq!((report.pages, report.end), (3, WalkEnd::ArchiveEnd));

        let buffer = Arc::new(Mutex::new(Vec::new()));
        let mut progress = Progress::to(Box::new(Shared(buffer.clone())), false, Some(2));
        let mut long = table(1..=50);
        let report = walk(&store, "b", &mut long, 1, 2, &mut pacer, &mut progress)
            .await
            .unwrap();
        assert_eq!((report.pages, report.end), (2, WalkEnd::PageLimit));
        assert_eq!(long.asked.len(), 2);
        let lines = String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
        assert_eq!(
            lines,
            "b: page 1 [##########..........] 1/2 · 10 new, 0 known\n\
             b: page 2 [####################] 2/2 · 20 new, 0 known\n"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_page_that_cannot_be_read_keeps_what_came_before() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut reader = table(97..=98);
        let error = walk(
            &store,
            "press",
            &mut reader,
            97,
            100,
            &mut Pacer::new(PACE),
            &mut quiet(),
        )
        .await
        .unwrap_err();
        assert_eq!(
            format!("{error:#}"),
            "press: archive page 99: the 2 pages before it are recorded (20 new releases); run backfill again to go on: HTTP status 500"
        );
        assert_eq!(store.latest(100).unwrap().len(), 20);
    }
}
