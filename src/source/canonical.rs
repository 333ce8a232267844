//! One release, one key: the canonical form of a release URL.
//!
//! The same release is linked under `www.` and `m.` hosts, over http and https,
//! with and without a trailing slash, with a `#comments` fragment, and with
//! tracking parameters that a site may rotate on every page view
//! (`?hpt=hp_t4`, `?utm_source=rss`). Keyed naively, each would be a new release
//! and be announced again. The key drops all of those and keeps every other
//! query parameter, in the page's order and spelling: some sites' article ids
//! live there (`/story?id=1`).
//!
//! Keys of URLs without tracking parameters are exactly what they were before
//! tracking parameters were dropped, so stored releases keep their keys.

use url::Url;

/// Query parameters that only say where a reader came from. A trailing `*`
/// matches any name with that prefix. Sources add their own with
/// `tracking_params`.
pub(crate) const TRACKING_PARAMS: &[&str] = &[
    "utm_*", "fbclid", "gclid", "yclid", "mc_cid", "mc_eid", "_ga", "hpt",
];

/// The identity of a release URL: host without `www.`/`m.`, path without a
/// trailing slash, the query without tracking parameters (built-in and
/// `extra`); scheme and fragment ignored.
pub(crate) fn canonical_id(url: &Url, extra: &[String]) -> Option<String> {
    let host = site_host(url)?;
    let path = url.path().trim_end_matches('/');
    Some(match kept_query(url, extra) {
        Some(q) if !q.is_empty() => format!("{host}{path}?{q}"),
        _ => format!("{host}{path}"),
    })
}

/// `url` without its tracking parameters (built-in and `extra`): the link a
/// release is shown with. The fragment stays; it is the page's own.
pub(crate) fn without_tracking(url: &Url, extra: &[String]) -> Url {
    let mut clean = url.clone();
    if url.query().is_some_and(|q| has_tracking(q, extra)) {
        let kept = kept_query(url, extra).filter(|q| !q.is_empty());
        clean.set_query(kept.as_deref());
    }
    clean
}

/// The host with the prefixes that name the same site stripped.
fn site_host(url: &Url) -> Option<String> {
    Some(same_site(&url.host_str()?.to_ascii_lowercase()).to_string())
}

/// A lowercase host without the `www.` or `m.` that names the same site.
fn same_site(host: &str) -> &str {
    host.strip_prefix("www.")
        .or_else(|| host.strip_prefix("m."))
        .unwrap_or(host)
}

/// Whether a release read from `base` may link to `url`: it is on the same
/// site (as [`canonical_id`] counts sites: `www.` and `m.` twins are one), or
/// on a host the source lists in `link_hosts` (`*.example.org`: that site and
/// every host under it). Anything else would let a page push a third-party
/// link, or give a release another site's key and so claim that site's
/// release before its own source reads it.
pub(crate) fn may_link(url: &Url, base: &Url, link_hosts: &[String]) -> bool {
    let Some(host) = site_host(url) else {
        return false;
    };
    site_host(base).is_some_and(|own| own == host)
        || link_hosts
            .iter()
            .any(|listed| match listed.strip_prefix("*.") {
                Some(parent) => {
                    let parent = same_site(parent);
                    host == parent
                        || host
                            .strip_suffix(parent)
                            .is_some_and(|sub| sub.ends_with('.'))
                }
                None => same_site(listed) == host,
            })
}

/// The key of a release a feed names only by its entry id (no link it may
/// give): the id inside the feed's own site's namespace, `site#id`. No
/// [`canonical_id`] contains `#` (a URL's fragment is dropped, and a `#`
/// inside a path or query is percent-encoded), so such a key can never be
/// another site's release, whatever the entry claims.
pub(crate) fn namespaced_id(base: &Url, entry_id: &str) -> Option<String> {
    Some(format!("{}#{entry_id}", site_host(base)?))
}

/// The query as written, less its tracking parameters; `None` for no query.
/// A query without tracking parameters is returned untouched.
fn kept_query<'a>(url: &'a Url, extra: &[String]) -> Option<std::borrow::Cow<'a, str>> {
    let query = url.query()?;
    if !has_tracking(query, extra) {
        return Some(query.into());
    }
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| !is_tracking(param_name(pair), extra))
        .collect();
    Some(kept.join("&").into())
}

fn has_tracking(query: &str, extra: &[String]) -> bool {
    query
        .split('&')
        .any(|pair| is_tracking(param_name(pair), extra))
}

fn param_name(pair: &str) -> &str {
    pair.split_once('=').map_or(pair, |(name, _)| name)
}

fn is_tracking(name: &str, extra: &[String]) -> bool {
    let matches = |pattern: &str| match pattern.strip_suffix('*') {
        Some(prefix) => {
            name.len() >= prefix.len() && name[..prefix.len()].eq_ignore_ascii_case(prefix)
        }
        None => name.eq_ignore_ascii_case(pattern),
    };
    !name.is_empty()
        && (TRACKING_PARAMS.iter().any(|p| matches(p)) || extra.iter().any(|p| matches(p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(url: &str, extra: &[&str]) -> String {
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        canonical_id(&Url::parse(url).unwrap(), &extra).unwrap()
    }

    /// The key as it was computed before tracking parameters were dropped.
    fn old_id(url: &str) -> String {
        let url = Url::parse(url).unwrap();
        let host = site_host(&url).unwrap();
        let path = url.path().trim_end_matches('/');
        match url.query() {
            Some(q) if !q.is_empty() => format!("{host}{path}?{q}"),
            _ => format!("{host}{path}"),
        }
    }

    #[test]
    fn host_variants_slash_and_fragment_are_one_release() {
        for url in [
            "https://www.rusemb.org.uk/fnapr/7160",
            "http://rusemb.org.uk/fnapr/7160/",
            "https://m.rusemb.org.uk/fnapr/7160#top",
            "https://www.rusemb.org.uk/fnapr/7160?utm_source=tg&utm_medium=social",
            "https://www.rusemb.org.uk/fnapr/7160/?fbclid=IwAR0x#comments",
        ] {
            assert_eq!(id(url, &[]), "rusemb.org.uk/fnapr/7160", "{url}");
        }
    }

    #[test]
    fn tracking_parameters_go_and_the_others_stay_in_order() {
        let cnn = "http://edition.cnn.com/2014/07/24/world/africa/italy-sudan-apostasy/index.html";
        assert_eq!(
            id(&format!("{cnn}?hpt=hp_inthenews"), &[]),
            id(&format!("{cnn}?hpt=hp_t4"), &[])
        );
        assert_eq!(
            id(
                "https://e.org/story?UTM_Source=x&id=7&gclid=1&page=2&_ga=3&yclid=4&mc_cid=5&mc_eid=6",
                &[]
            ),
            "e.org/story?id=7&page=2"
        );
        // A site's own parameter can be declared tracking.
        assert_eq!(id("https://e.org/a?id=7&ref=rss", &["ref"]), "e.org/a?id=7");
        assert_eq!(
            id("https://e.org/a?id=7&src_x=1&src_y=2", &["src_*"]),
            "e.org/a?id=7"
        );
        // Names are matched whole: `hpts` and `xutm_source` are not tracking.
        assert_eq!(
            id("https://e.org/a?hpts=1&xutm_source=2", &[]),
            "e.org/a?hpts=1&xutm_source=2"
        );
        let clean = without_tracking(
            &Url::parse("https://e.org/a?utm_source=x&id=7#c").unwrap(),
            &[],
        );
        assert_eq!(clean.as_str(), "https://e.org/a?id=7#c");
        let clean = without_tracking(&Url::parse("https://e.org/a/?utm_source=x").unwrap(), &[]);
        assert_eq!(clean.as_str(), "https://e.org/a/");
    }

    #[test]
    fn links_may_go_to_the_site_its_twins_and_the_hosts_listed() {
        let base = Url::parse("https://rss.news.example/feed.xml").unwrap();
        let listed = [
            "www.partner.example".to_string(),
            "*.news.example".to_string(),
        ];
        let may = |url: &str, hosts: &[String]| may_link(&Url::parse(url).unwrap(), &base, hosts);
        for url in [
            "https://rss.news.example/1",
            "http://www.rss.news.example/2",
            "https://m.rss.news.example/3",
        ] {
            assert!(may(url, &[]), "{url}");
        }
        for url in [
            "https://news.example/1",
            "https://partner.example/1",
            "https://tracker.example/1",
        ] {
            assert!(!may(url, &[]), "{url}");
        }
        for url in [
            "https://partner.example/1",
            "https://m.partner.example/1",
            "https://news.example/1",
            "https://www.news.example/1",
            "https://a.b.news.example/1",
        ] {
            assert!(may(url, &listed), "{url}");
        }
        for url in [
            "https://sub.partner.example/1",
            "https://othernews.example/1",
            "https://news.example.evil.org/1",
            "https://tracker.example/1",
        ] {
            assert!(!may(url, &listed), "{url}");
        }
        // An id only the feed's namespace can hold: no URL's key has a `#`.
        let claimed = namespaced_id(&base, "rusemb.org.uk/fnapr/7160").unwrap();
        assert_eq!(claimed, "rss.news.example#rusemb.org.uk/fnapr/7160");
        let with_hash = Url::parse("https://e.org/a%23b?c=%23#frag").unwrap();
        assert!(!canonical_id(&with_hash, &[]).unwrap().contains('#'));
    }

    #[test]
    fn keys_without_tracking_parameters_are_unchanged() {
        for url in [
            "https://www.rusemb.org.uk/fnapr/7160",
            "https://www.rusemb.org.uk/article/512/",
            "https://m.rusemb.org.uk/ambarticles/77",
            "https://www.rusemb.org.uk/newarh/&start=1&ps=10&ppp=15",
            "https://e.org/story?id=1",
            "https://e.org/story?a=1&&b=&c",
            "https://e.org/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8?q=%D0%B0#x",
            "https://e.org/story?",
        ] {
            assert_eq!(id(url, &[]), old_id(url), "{url}");
            let parsed = Url::parse(url).unwrap();
            assert_eq!(without_tracking(&parsed, &[]), parsed);
        }
    }
}
