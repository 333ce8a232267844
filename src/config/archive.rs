//! A source's archive: the URL of its older list pages, page by page, from a
//! template (`sources[].archive`). Pure, checked at load.
//!
//! Placeholders, each replaced by a number:
//! - `{page}`: the page, 1 for the newest;
//! - `{start}`: the position of the page's first release, counted from 1:
//!   (page − 1) × `archive_page_size` + 1 — the embassy's `&start=` (1, 11, 21, …);
//! - `{offset}`: the releases before the page: (page − 1) × `archive_page_size` (0, 10, 20, …).

use url::Url;

/// Releases on one archive page when `archive_page_size` is not set (the embassy's).
pub(crate) const DEFAULT_ARCHIVE_PAGE_SIZE: u32 = 10;
/// The largest `archive_page_size`.
pub(crate) const MAX_ARCHIVE_PAGE_SIZE: u32 = 1_000;

const PLACEHOLDERS: [&str; 3] = ["{page}", "{start}", "{offset}"];

/// Pages whose URLs are built when the template is loaded: one of each
/// number of digits a page (and its `{start}` and `{offset}`) can have.
const PAGES_CHECKED: [u32; 4] = [10, 1_000, 100_000, u32::MAX];

/// An archive page whose URL the template cannot make.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("page {page} is not a URL: {reason}")]
pub struct ArchivePageError {
    page: u32,
    reason: url::ParseError,
}

/// The archive's URL template and page size, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveTemplate {
    template: String,
    page_size: u32,
}

impl ArchiveTemplate {
    /// Checks `template`: at least one placeholder, no unknown one, and an
    /// http(s) URL with a host for the first pages. The error is the reason,
    /// for the caller to put after the key.
    pub fn new(template: &str, page_size: u32) -> Result<ArchiveTemplate, String> {
        let template = template.trim().to_string();
        if !(1..=MAX_ARCHIVE_PAGE_SIZE).contains(&page_size) {
            return Err(format!(
                "archive_page_size must be between 1 and {MAX_ARCHIVE_PAGE_SIZE}"
            ));
        }
        if !PLACEHOLDERS.iter().any(|p| template.contains(p)) {
            return Err(
                "must contain {page}, {start} or {offset}, where the page's number goes (otherwise every page is the same URL)"
                    .into(),
            );
        }
        let archive = ArchiveTemplate {
            template,
            page_size,
        };
        let filled = archive.fill(1);
        if let Some(open) = filled.find('{')
            && let Some(len) = filled[open..].find('}')
        {
            return Err(format!(
                "unknown placeholder `{}`: use {{page}}, {{start}} or {{offset}}",
                &filled[open..open + len + 1]
            ));
        }
        let url = Url::parse(&filled).map_err(|e| format!("page 1 is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err("must be an http:// or https:// URL".into());
        }
        // More digits can still break a URL (`http://host:80{page}/` is a
        // port out of range from page 10 on): try pages of every length.
        for page in PAGES_CHECKED {
            archive.url(page).map_err(|e| e.to_string())?;
        }
        Ok(archive)
    }

    /// The template with the numbers of `page` (1 for the newest) put in.
    fn fill(&self, page: u32) -> String {
        let offset = u64::from(page.saturating_sub(1)) * u64::from(self.page_size);
        self.template
            .replace("{page}", &page.to_string())
            .replace("{start}", &(offset + 1).to_string())
            .replace("{offset}", &offset.to_string())
    }

    /// The URL of archive page `page` (1 for the newest). [`ArchiveTemplate::new`]
    /// tried pages of every length, but a `Result` costs nothing and a page
    /// number never takes the program down.
    pub fn url(&self, page: u32) -> Result<Url, ArchivePageError> {
        Url::parse(&self.fill(page)).map_err(|reason| ArchivePageError { page, reason })
    }

    /// The template as configured (may carry credentials: show it redacted).
    pub fn template(&self) -> &str {
        &self.template
    }

    /// Releases on one page, as `{start}` and `{offset}` count them.
    pub fn page_size(&self) -> u32 {
        self.page_size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embassys_start_counts_from_one_in_tens() {
        let press = ArchiveTemplate::new(
            "https://www.rusemb.org.uk/apress_arh/&start={start}&ps=10&ppp=15",
            10,
        )
        .unwrap();
        assert_eq!(
            press.url(1).unwrap().as_str(),
            "https://www.rusemb.org.uk/apress_arh/&start=1&ps=10&ppp=15"
        );
        assert_eq!(
            press.url(2).unwrap().as_str(),
            "https://www.rusemb.org.uk/apress_arh/&start=11&ps=10&ppp=15"
        );
        assert_eq!(
            press.url(15).unwrap().as_str(),
            "https://www.rusemb.org.uk/apress_arh/&start=141&ps=10&ppp=15"
        );
    }

    #[test]
    fn page_and_offset_placeholders() {
        let blog = ArchiveTemplate::new("https://example.org/news/page/{page}/", 10).unwrap();
        assert_eq!(
            blog.url(3).unwrap().as_str(),
            "https://example.org/news/page/3/"
        );
        let api =
            ArchiveTemplate::new("https://example.org/list?offset={offset}&n=25", 25).unwrap();
        assert_eq!(
            api.url(1).unwrap().as_str(),
            "https://example.org/list?offset=0&n=25"
        );
        assert_eq!(
            api.url(3).unwrap().as_str(),
            "https://example.org/list?offset=50&n=25"
        );
        let both = ArchiveTemplate::new("https://example.org/{page}?from={start}", 5).unwrap();
        assert_eq!(
            both.url(4).unwrap().as_str(),
            "https://example.org/4?from=16"
        );
        assert_eq!(
            both.url(u32::MAX).unwrap().as_str(),
            "https://example.org/4294967295?from=21474836471"
        );
    }

    #[test]
    fn bad_templates_say_what_to_fix() {
        let err = |t: &str| ArchiveTemplate::new(t, 10).unwrap_err();
        assert!(err("https://example.org/archive").contains("must contain {page}"));
        assert!(
            err("https://example.org/{pages}?p={page}").contains("unknown placeholder `{pages}`")
        );
        assert!(err("ftp://example.org/{page}").contains("http://"));
        assert!(err("not a url {page}").contains("not a URL"));
        assert!(
            ArchiveTemplate::new("https://example.org/{page}", 0)
                .unwrap_err()
                .contains("archive_page_size")
        );
    }

    #[test]
    fn a_template_that_only_longer_page_numbers_break_is_refused_at_load() {
        // Page 1 makes port 18081; page 10 would make port 180810.
        let err = ArchiveTemplate::new("http://127.0.0.1:1808{page}/list", 10).unwrap_err();
        assert_eq!(err, "page 10 is not a URL: invalid port number");
        // Every page of a template that loads has a URL.
        let fine = ArchiveTemplate::new("http://127.0.0.1:8080/list/{page}", 10).unwrap();
        for page in [1, 9, 10, 99_999, u32::MAX] {
            assert!(fine.url(page).is_ok(), "page {page}");
        }
    }
}
