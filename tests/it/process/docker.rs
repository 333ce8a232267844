//! The Docker image's build stage: the files its `COPY` lines bring in must be
//! enough for cargo. Cargo refuses a manifest whose declared targets (such as
//! `[[bench]]`) have no file, and `--locked` refuses a stale Cargo.lock; both
//! are checked here in a fraction of a second, without compiling anything, so a
//! broken image build shows up in `cargo test` rather than after minutes of
//! `docker build`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One `COPY` (or `ADD`) from the build context: its sources and where they go,
/// relative to the build stage's `WORKDIR`.
#[derive(Debug)]
struct Copy {
    sources: Vec<String>,
    dest: String,
}

/// The Dockerfile's instructions, with line continuations joined and comments dropped.
fn instructions(dockerfile: &str) -> Vec<String> {
    let mut instructions = Vec::new();
    let mut current = String::new();
    for line in dockerfile.lines() {
        let trimmed = line.trim();
        if current.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(head) => {
                current.push_str(head);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                instructions.push(std::mem::take(&mut current));
            }
        }
    }
    instructions
}

/// The build stage: from the first `FROM` up to the next.
fn build_stage(dockerfile: &str) -> Vec<String> {
    let is_from = |i: &String| i.to_ascii_uppercase().starts_with("FROM ");
    instructions(dockerfile)
        .into_iter()
        .skip_while(|i| !is_from(i))
        .enumerate()
        .take_while(|(n, i)| *n == 0 || !is_from(i))
        .map(|(_, i)| i)
        .collect()
}

/// The build stage's `WORKDIR` and its copies from the build context (a copy
/// `--from` another stage or image is not from the context and is left out).
fn context_copies(stage: &[String]) -> (String, Vec<Copy>) {
    let mut workdir = "/".to_string();
    let mut copies = Vec::new();
    for instruction in stage {
        let (keyword, args) = instruction
            .split_once(char::is_whitespace)
            .unwrap_or((instruction, ""));
        match keyword.to_ascii_uppercase().as_str() {
            "WORKDIR" => workdir = args.trim().to_string(),
            "COPY" | "ADD" => {
                let words: Vec<String> = args.split_whitespace().map(str::to_string).collect();
                let (flags, rest): (Vec<_>, Vec<_>) =
                    words.into_iter().partition(|w| w.starts_with("--"));
                if flags.iter().any(|f| f.starts_with("--from")) {
                    continue;
                }
                let mut paths: Vec<String> = if rest.first().is_some_and(|w| w.starts_with('[')) {
                    serde_json::from_str(&rest.join(" ")).expect("a COPY in JSON form")
                } else {
                    rest
                };
                let dest = paths.pop().expect("COPY has a destination");
                assert!(!paths.is_empty(), "COPY without a source: {instruction}");
                copies.push(Copy {
                    sources: paths,
                    dest,
                });
            }
            _ => {}
        }
    }
    (workdir, copies)
}

/// Whether `.dockerignore` keeps `path` out of the build context. Only the
/// forms our file uses: a path (and everything under it) and `*.ext`.
fn ignored(dockerignore: &str, path: &str) -> bool {
    let path = path.trim_start_matches("./").trim_end_matches('/');
    dockerignore
        .lines()
        .map(str::trim)
        .filter(|p| !p.is_empty() && !p.starts_with('#'))
        .any(|pattern| {
            assert!(
                !pattern.starts_with('!') && !pattern.trim_start_matches('*').contains('*'),
                "teach tests/it/process/docker.rs the .dockerignore pattern `{pattern}`"
            );
            match pattern.strip_prefix('*') {
                Some(suffix) => path.ends_with(suffix),
                None => {
                    let pattern = pattern.trim_matches('/');
                    path == pattern || path.starts_with(&format!("{pattern}/"))
                }
            }
        })
}

fn copy_recursively(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            copy_recursively(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from, to).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
    }
}

/// Lays out what the build stage's `WORKDIR` holds when its `RUN` starts
/// (that `.dockerignore` lets each source through is checked on its own).
fn build_stage_tree(root: &Path, into: &Path) -> Vec<String> {
    let dockerfile = std::fs::read_to_string(root.join("Dockerfile")).unwrap();
    let (workdir, copies) = context_copies(&build_stage(&dockerfile));
    assert!(!copies.is_empty(), "no COPY in the build stage");
    let mut copied = Vec::new();
    for copy in copies {
        // The destination relative to WORKDIR: `./src`, `src/`, `/src/src`.
        let dest = match copy.dest.strip_prefix('/') {
            Some(absolute) => {
                let Some(inside) = Path::new("/")
                    .join(absolute)
                    .strip_prefix(&workdir)
                    .ok()
                    .map(Path::to_path_buf)
                else {
                    continue; // outside the project: not cargo's business
                };
                inside
            }
            None => PathBuf::from(&copy.dest),
        };
        let into_dir = copy.sources.len() > 1 || copy.dest.ends_with('/');
        for source in &copy.sources {
            let from = root.join(source);
            assert!(
                from.exists(),
                "the build stage copies `{source}`, which does not exist"
            );
            let to = if into_dir && from.is_file() {
                into.join(&dest).join(from.file_name().unwrap())
            } else {
                into.join(&dest) // a directory's contents, or a file to a file name
            };
            copy_recursively(&from, &to);
            copied.push(source.clone());
        }
    }
    copied
}

/// `cargo fetch --offline --locked` for the host: it reads the manifest with
/// every declared target, and the lock file, like `cargo build --locked` does
/// before compiling, but compiles nothing and downloads nothing (the crates
/// are in the local cache since this test binary was built with them).
fn cargo_accepts(dir: &Path) -> Result<(), String> {
    let cargo = env!("CARGO");
    let version = Command::new(cargo).arg("-vV").output().unwrap();
    let host = String::from_utf8_lossy(&version.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .expect("cargo -vV names the host");
    let out = Command::new(cargo)
        .args(["fetch", "--offline", "--locked", "--target", &host])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .output()
        .unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).to_string())
    }
}

#[test]
fn the_build_stage_copies_what_cargo_needs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let copied = build_stage_tree(root, dir.path());
    if let Err(stderr) = cargo_accepts(dir.path()) {
        panic!("cargo refuses the build stage's files ({copied:?}):\n{stderr}");
    }
}

/// Every `include_str!` / `include_bytes!` path in the Rust files under `dir`,
/// resolved against the including file, that does not exist.
fn missing_includes(dir: &Path) -> Vec<String> {
    let include = regex::Regex::new(r#"include_(?:str|bytes)!\(\s*"([^"]+)"\s*\)"#).unwrap();
    let mut missing = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for found in include.captures_iter(&text) {
                    let included = path.parent().unwrap().join(&found[1]);
                    if !included.exists() {
                        missing.push(format!("{} includes {}", path.display(), &found[1]));
                    }
                }
            }
        }
    }
    missing
}

#[test]
fn the_build_stage_copies_the_files_the_code_compiles_in() {
    // The translation files (locales/) are compiled into the binary: cargo
    // fetch does not notice them missing, the build would.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let copied = build_stage_tree(root, dir.path());
    let missing = missing_includes(&dir.path().join("src"));
    assert!(missing.is_empty(), "copied {copied:?}, yet {missing:?}");
    // The check catches a tree that has src/ without locales/.
    let bare = tempfile::tempdir().unwrap();
    copy_recursively(&root.join("src"), &bare.path().join("src"));
    assert!(!missing_includes(&bare.path().join("src")).is_empty());
}

#[test]
fn every_stage_copies_only_files_the_context_holds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dockerfile = std::fs::read_to_string(root.join("Dockerfile")).unwrap();
    let dockerignore = std::fs::read_to_string(root.join(".dockerignore")).unwrap();
    let (_, copies) = context_copies(&instructions(&dockerfile));
    for source in copies.iter().flat_map(|c| &c.sources) {
        assert!(root.join(source).exists(), "`{source}` does not exist");
        assert!(
            !ignored(&dockerignore, source),
            ".dockerignore leaves out `{source}`, which the Dockerfile copies"
        );
    }
    for kept_out in [".git", "target/release", "data/db", "fuzz/target"] {
        assert!(ignored(&dockerignore, kept_out), "{kept_out}");
    }
}

#[test]
fn a_missing_bench_file_is_caught() {
    // The check itself must fail the way the image build did before benches/
    // was copied: the manifest declares a bench whose file is not there.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    build_stage_tree(root, dir.path());
    let benches = dir.path().join("benches");
    if benches.exists() {
        std::fs::remove_dir_all(benches).unwrap();
    }
    let stderr = cargo_accepts(dir.path()).expect_err("cargo accepted a missing bench");
    assert!(
        stderr.contains("can't find") && stderr.contains("bench"),
        "{stderr}"
    );
}

#[test]
fn copies_are_read_from_the_build_stage_only() {
    let dockerfile = "\
# comment
FROM rust AS build
WORKDIR /src
COPY a.toml \\
     b.lock ./
COPY --chown=1:1 [\"src\", \"/src/src\"]
COPY --from=other /x /y
FROM debian
COPY config.toml /etc/
";
    let (workdir, copies) = context_copies(&build_stage(dockerfile));
    assert_eq!(workdir, "/src");
    let found: Vec<_> = copies
        .iter()
        .map(|c| (c.sources.clone(), c.dest.as_str()))
        .collect();
    assert_eq!(
        found,
        vec![
            (vec!["a.toml".to_string(), "b.lock".to_string()], "./"),
            (vec!["src".to_string()], "/src/src"),
        ]
    );
    assert!(ignored("target\n*.profraw\n", "target/debug"));
    assert!(ignored("/target/\n", "./target"));
    assert!(ignored("*.profraw", "x.profraw"));
    assert!(!ignored("target\n# src\n", "src"));
    assert!(!ignored("target", "targets"));
}
