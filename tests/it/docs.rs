//! The docs say what the code does. Each test here reads a page of `docs/`
//! (or the README, or `contrib/`) and the thing it describes, and fails on the
//! first difference:
//! - the command line in `docs/operations.md` against `--help`;
//! - the module map and file list in `docs/architecture.md` against `src/`;
//! - the keys in `docs/configuration.md` against the keys the config accepts
//!   and those `config.example.toml` sets;
//! - the layers in `docs/architecture.md` against the `crate::` paths of
//!   `src/` (the architecture test: no import runs up a layer, no circle);
//! - the metric names the dashboard, the alert rules and `docs/operations.md`
//!   use against what `/metrics` exports.
//!
//! The machine-read parts of a page sit between `<!-- begin: NAME -->` and
//! `<!-- end: NAME -->`; everything else is prose, read by people only.

mod command_line;
mod config_keys;
mod imports;
mod metrics;
mod module_map;

use std::collections::BTreeSet;
use std::path::Path;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The text between `<!-- begin: NAME -->` and `<!-- end: NAME -->` of `page`.
fn marked<'a>(page: &'a str, text: &'a str, name: &str) -> &'a str {
    let begin = format!("<!-- begin: {name} -->");
    let end = format!("<!-- end: {name} -->");
    let start = text
        .find(&begin)
        .unwrap_or_else(|| panic!("{page} has no `{begin}`"))
        + begin.len();
    let len = text[start..]
        .find(&end)
        .unwrap_or_else(|| panic!("{page} has no `{end}` after `{begin}`"));
    &text[start..start + len]
}

/// The lines of a marked section's fenced code block, without the fences.
fn fenced_lines(section: &str) -> Vec<String> {
    section
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("```"))
        .map(str::to_string)
        .collect()
}

/// Fails with what is only on one side, each side named.
fn assert_same(
    what: &str,
    left_name: &str,
    left: &BTreeSet<String>,
    right_name: &str,
    right: &BTreeSet<String>,
) {
    let only_left: Vec<_> = left.difference(right).collect();
    let only_right: Vec<_> = right.difference(left).collect();
    assert!(
        only_left.is_empty() && only_right.is_empty(),
        "{what} differ.\nOnly in {left_name}: {only_left:#?}\nOnly in {right_name}: {only_right:#?}"
    );
}

// ---------------------------------------------------------------- README

#[test]
fn the_readme_is_short_and_starts_with_running_and_testing() {
    let readme = read("README.md");
    let lines: Vec<&str> = readme.lines().collect();
    assert!(
        lines.len() <= 250,
        "README.md has {} lines; keep it to 250 and move reference into docs/",
        lines.len()
    );
    let top = lines[..60.min(lines.len())].join("\n");
    assert!(
        top.contains("## Contents"),
        "the table of contents is in README's first 60 lines"
    );
    // The test command is exactly what CI runs.
    let ci = read(".ci/run");
    let ci_test = ci
        .lines()
        .map(str::trim)
        .rfind(|l| l.starts_with("cargo test"))
        .expect(".ci/run runs cargo test");
    assert!(
        top.lines().any(|l| l.trim() == ci_test),
        "README's first 60 lines show `{ci_test}`, the test command .ci/run runs"
    );
    assert!(
        top.contains("cargo run --release"),
        "README's first 60 lines show how to run the bot"
    );
    // Every link into docs/ leads to a page that exists.
    for (at, _) in readme.match_indices("](docs/") {
        let target = &readme[at + 2..];
        let target = &target[..target.find([')', '#']).expect("a closed link")];
        assert!(
            repo().join(target).is_file(),
            "README links to {target}, which does not exist"
        );
    }
}
