//! Arbitrary bytes through everything a fetched body goes through: charset
//! detection and decoding, then extraction as HTML (link patterns and CSS
//! selectors) and as a feed. Nothing may panic, overflow the stack or hang.
#![no_main]

use std::sync::LazyLock;

use embassy_bot::{Config, SourceConfig, SourceKind};
use embassy_bot::testing::source::charset;
use embassy_bot::extract;
use libfuzzer_sys::fuzz_target;
use url::Url;

static SOURCES: LazyLock<(SourceConfig, SourceConfig, SourceConfig)> = LazyLock::new(|| {
    let html = Config::default().sources.remove(0);
    let selectors = Config::from_toml(
        "[[sources]]\nname = \"s\"\nurl = \"https://www.rusemb.org.uk/\"\n\
         [sources.selectors]\nitem = \"div, li\"\ntitle = \"h3, a\"\ndate = \".date\"\n",
    )
    .expect("valid config")
    .sources
    .remove(0);
    let mut feed = html.clone();
    feed.kind = SourceKind::Feed;
    (html, selectors, feed)
});

fuzz_target!(|data: &[u8]| {
    let base = Url::parse("https://www.rusemb.org.uk/").expect("valid URL");
    // The first byte picks a Content-Type header, so header parsing is fuzzed too.
    let (content_type, body) = match data.split_first() {
        Some((0, rest)) => (Some("text/html; charset=windows-1251"), rest),
        Some((1, rest)) => (Some("text/html; charset=utf-8"), rest),
        Some((2, rest)) => (Some("application/rss+xml; charset=\"koi8-r\""), rest),
        _ => (None, data),
    };
    let decoded = charset::decode(body, content_type);
    let (html, selectors, feed) = &*SOURCES;
    for source in [html, selectors, feed] {
        if let Ok(page) = extract(source, &decoded.text, &base) {
            for item in page.items {
                assert!(!item.title.is_empty());
            }
        }
    }
});
