//! The layers and the file list of `docs/architecture.md` against `src/`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::{assert_same, fenced_lines, marked, read, repo};

/// The layers of `docs/architecture.md`, lowest first: each a list of
/// top-level entries of `src/` (`config/`, `alerts.rs`); the crate root apart.
pub(super) struct Layers {
    pub(super) layers: Vec<Vec<String>>,
    pub(super) root: Vec<String>,
}

impl Layers {
    pub(super) fn read() -> Layers {
        let page = read("docs/architecture.md");
        let mut layers = Vec::new();
        let mut root = Vec::new();
        for line in fenced_lines(marked("docs/architecture.md", &page, "layers")) {
            let (head, names) = line
                .split_once(':')
                .unwrap_or_else(|| panic!("a layer line reads `layer N: a/ b.rs`: {line}"));
            let names: Vec<String> = names.split_whitespace().map(str::to_string).collect();
            if head == "crate root" {
                root = names;
                continue;
            }
            let n: usize = head
                .strip_prefix("layer ")
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("a layer line reads `layer N: a/ b.rs`: {line}"));
            assert_eq!(
                n,
                layers.len() + 1,
                "layers are numbered 1, 2, … from the bottom: {line}"
            );
            layers.push(names);
        }
        assert!(layers.len() >= 3, "docs/architecture.md lists its layers");
        Layers { layers, root }
    }

    /// Each module's layer, by module name (`config`, `alerts`).
    pub(super) fn of_module(&self) -> BTreeMap<String, usize> {
        let mut map = BTreeMap::new();
        for (i, names) in self.layers.iter().enumerate() {
            for name in names {
                let module = name
                    .trim_end_matches('/')
                    .trim_end_matches(".rs")
                    .to_string();
                assert!(
                    map.insert(module, i + 1).is_none(),
                    "{name} is in two layers"
                );
            }
        }
        map
    }
}

/// The top-level entries of `src/`: folders as `name/`, files as `name.rs`.
fn top_level_of_src() -> BTreeSet<String> {
    std::fs::read_dir(repo().join("src"))
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            if e.file_type().unwrap().is_dir() {
                format!("{name}/")
            } else {
                name
            }
        })
        .collect()
}

/// Every `.rs` file under `src/`, as `src/a/b.rs`.
pub(super) fn rust_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&repo().join("src"), &mut files);
    files.sort();
    files
}

pub(super) fn relative(path: &Path) -> String {
    path.strip_prefix(repo())
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/")
}

#[test]
fn the_module_map_names_exactly_the_folders_and_files_of_src() {
    let layers = Layers::read();
    let mut named = BTreeSet::new();
    for name in layers.layers.iter().flatten().chain(&layers.root) {
        assert!(
            named.insert(name.clone()),
            "docs/architecture.md names {name} twice"
        );
    }
    assert_same(
        "The top-level folders and files of src/",
        "docs/architecture.md (section `layers`)",
        &named,
        "src/",
        &top_level_of_src(),
    );

    // The file list: one line per file, `- `src/…` — what it holds`.
    let page = read("docs/architecture.md");
    let listed: BTreeSet<String> = marked("docs/architecture.md", &page, "files")
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- `"))
        .map(|l| l[..l.find('`').expect("a closed `")].to_string())
        .collect();
    let files: BTreeSet<String> = rust_files().iter().map(|p| relative(p)).collect();
    assert_same(
        "The files of src/",
        "docs/architecture.md (section `files`)",
        &listed,
        "src/",
        &files,
    );
}
