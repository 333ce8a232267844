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

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::site::FakeSite;
use crate::support::telegram::FakeTelegram;
use crate::support::{BotProcess, fixture, run_binary, source_toml, write_config_sources};

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

// ---------------------------------------------------------------- the command line

/// What `embassy-bot ARGS` prints, which must succeed.
fn help(args: &[&str]) -> String {
    let (code, stdout, stderr) = run_binary(args, &[]);
    assert_eq!(code, Some(0), "embassy-bot {args:?}: {stderr}");
    stdout
}

/// The lines of a `--help` section (`Options:`, `Commands …:`), up to the
/// next heading.
fn help_section<'a>(help: &'a str, heading: &str) -> Vec<&'a str> {
    help.lines()
        .skip_while(|l| !l.starts_with(heading))
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .collect()
}

/// The options of a `--help`, as `--name <VALUE>`, without `--help` and `--version`.
fn help_options(help: &str) -> Vec<String> {
    help_section(help, "Options:")
        .into_iter()
        .map(str::trim)
        .filter(|l| l.starts_with('-'))
        .filter_map(|l| {
            let long = l.split(", ").find(|part| part.starts_with("--"))?;
            let long = long.split("  ").next().unwrap_or(long).trim();
            (!matches!(long, "--help" | "--version")).then(|| long.to_string())
        })
        .collect()
}

/// The synopsis lines `--help` implies: `embassy-bot [--config <PATH>] [COMMAND]`,
/// then one per subcommand with its arguments and its own options.
fn synopsis_from_help() -> BTreeSet<String> {
    let top = help(&["--help"]);
    let global = help_options(&top);
    let mut lines = BTreeSet::new();
    let global_usage: String = global.iter().map(|o| format!(" [{o}]")).collect();
    lines.insert(format!("embassy-bot{global_usage} [COMMAND]"));
    let commands: Vec<&str> = help_section(&top, "Commands")
        .into_iter()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .collect();
    assert!(commands.len() >= 8, "--help lists the commands: {top}");
    for command in commands {
        let text = help(&[command, "--help"]);
        let usage = text
            .lines()
            .find_map(|l| l.strip_prefix("Usage: "))
            .unwrap_or_else(|| panic!("`{command} --help` has a usage line"));
        let mut line = format!("embassy-bot {command}");
        for word in usage.split_whitespace().skip(2) {
            if word != "[OPTIONS]" {
                line.push(' ');
                line.push_str(word);
            }
        }
        for option in help_options(&text) {
            if !global.contains(&option) {
                line.push_str(&format!(" [{option}]"));
            }
        }
        lines.insert(line);
    }
    lines
}

#[test]
fn the_command_line_in_operations_md_is_what_help_prints() {
    let page = read("docs/operations.md");
    let documented: BTreeSet<String> =
        fenced_lines(marked("docs/operations.md", &page, "command line"))
            .into_iter()
            .collect();
    assert_same(
        "The subcommands and options",
        "docs/operations.md (section `command line`)",
        &documented,
        "`embassy-bot --help` and `embassy-bot <command> --help`",
        &synopsis_from_help(),
    );

    // The environment variables: the table's first column against `--help`'s
    // `Environment` section and the `[env: …]` of its options.
    let top = help(&["--help"]);
    let mut from_help: BTreeSet<String> = help_section(&top, "Environment")
        .into_iter()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect();
    for (at, _) in top.match_indices("[env: ") {
        let rest = &top[at + 6..];
        from_help.insert(rest[..rest.find(']').unwrap()].to_string());
    }
    let documented: BTreeSet<String> = marked("docs/operations.md", &page, "environment")
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .map(|l| l[..l.find('`').unwrap()].to_string())
        .collect();
    assert_same(
        "The environment variables",
        "docs/operations.md (section `environment`)",
        &documented,
        "`embassy-bot --help`",
        &from_help,
    );
}

// ---------------------------------------------------------------- the module map

/// The layers of `docs/architecture.md`, lowest first: each a list of
/// top-level entries of `src/` (`config/`, `alerts.rs`); the crate root apart.
struct Layers {
    layers: Vec<Vec<String>>,
    root: Vec<String>,
}

impl Layers {
    fn read() -> Layers {
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
    fn of_module(&self) -> BTreeMap<String, usize> {
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
fn rust_files() -> Vec<PathBuf> {
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

fn relative(path: &Path) -> String {
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

// ---------------------------------------------------------------- the architecture test

/// Rust source with comments removed and string and character literals
/// emptied, so that only code is left to search for paths.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let at = |i: usize, s: &str| {
        s.chars()
            .enumerate()
            .all(|(k, c)| chars.get(i + k) == Some(&c))
    };
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    while i < chars.len() {
        let c = chars[i];
        if at(i, "//") {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if at(i, "/*") {
            let mut depth = 0;
            while i < chars.len() {
                if at(i, "/*") {
                    depth += 1;
                    i += 2;
                } else if at(i, "*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if (c == 'r' || (c == 'b' && chars.get(i + 1) == Some(&'r')))
            && (i == 0 || !ident(chars[i - 1]))
            && {
                let mut j = i + if c == 'b' { 2 } else { 1 };
                while chars.get(j) == Some(&'#') {
                    j += 1;
                }
                chars.get(j) == Some(&'"')
            }
        {
            // A raw string: r"…", r#"…"#, br"…".
            let mut j = i + if c == 'b' { 2 } else { 1 };
            let mut hashes = 0;
            while chars[j] == '#' {
                hashes += 1;
                j += 1;
            }
            let close: String = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            j += 1;
            while j < chars.len() && !at(j, &close) {
                j += 1;
            }
            i = j + close.chars().count();
            out.push_str("\"\"");
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && (chars.get(i + 2) == Some(&'\'') || chars.get(i + 1) == Some(&'\\'))
        {
            // A character literal ('a', '\n', '\u{1F600}'); a lifetime has no closing quote.
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// `code` without the items marked `#[cfg(test)]` (a `mod tests { … }`, a
/// test-only function or `use`): what tests import does not count.
fn without_test_items(code: &str) -> String {
    const MARK: &str = "#[cfg(test)]";
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find(MARK) {
        out.push_str(&rest[..at]);
        rest = &rest[at + MARK.len()..];
        // The item ends at its first `;` outside braces, or with the brace
        // that closes its first `{`, whichever comes first.
        let mut depth = 0usize;
        let mut end = rest.len();
        for (i, c) in rest.char_indices() {
            match c {
                '{' => depth += 1,
                // A `}` before any `{` closes the block the item sat in.
                '}' if depth == 0 => {
                    end = i;
                    break;
                }
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    end = i + 1;
                    break;
                }
                _ => {}
            }
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The first segment of every path through the crate root in `code`:
/// `crate::store::Store` and `use crate::{config::Config, store}` give
/// `store`, `config` and `store`.
fn crate_paths(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        if code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
            continue; // `my_crate::`, not ours
        }
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // The names at the group's first level.
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        names.push(std::mem::take(&mut item));
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            names.push(item);
        } else {
            names.push(rest.to_string());
        }
    }
    names
        .iter()
        .map(|n| {
            n.trim()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .filter(|n| !n.is_empty())
        .collect()
}

/// The top-level module a file under `src/` belongs to (`None` for the crate root).
fn module_of(file: &str) -> Option<String> {
    let inside = file.strip_prefix("src/").unwrap();
    let first = inside.split('/').next().unwrap();
    let module = first.trim_end_matches(".rs");
    (!matches!(module, "lib" | "main")).then(|| module.to_string())
}

/// The import graph between top-level modules: for each module, the modules
/// its files name through `crate::`, with a file that does so. A macro
/// exported at the root (`crate::tr!`) counts as an import of the module that
/// defines it.
fn import_graph(modules: &BTreeSet<String>) -> BTreeMap<String, BTreeMap<String, String>> {
    let files: Vec<(String, String)> = rust_files()
        .iter()
        .map(|p| {
            (
                relative(p),
                without_test_items(&code_only(&std::fs::read_to_string(p).unwrap())),
            )
        })
        .collect();
    let mut macros = BTreeMap::new();
    for (file, code) in &files {
        for (at, _) in code.match_indices("macro_rules!") {
            let name: String = code[at + "macro_rules!".len()..]
                .trim_start()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if let Some(module) = module_of(file) {
                macros.insert(name, module);
            }
        }
    }
    let mut graph: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (file, code) in &files {
        let Some(from) = module_of(file) else {
            continue;
        };
        graph.entry(from.clone()).or_default();
        for name in crate_paths(code) {
            let to = if modules.contains(&name) {
                name
            } else if let Some(module) = macros.get(&name) {
                module.clone()
            } else {
                panic!(
                    "{file} names `crate::{name}`, which is not a top-level module: import it from the module that defines it, so the architecture test sees the dependency"
                );
            };
            if to != from {
                graph
                    .get_mut(&from)
                    .unwrap()
                    .entry(to)
                    .or_insert_with(|| file.clone());
            }
        }
    }
    graph
}

/// A circle in `graph`, as the modules along it, if there is one.
fn find_circle(graph: &BTreeMap<String, BTreeMap<String, String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeMap<String, String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut circle = path[at..].to_vec();
            circle.push(node.to_string());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flat_map(|m| m.keys()) {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn imports_never_run_up_a_layer_nor_round_a_circle() {
    let layers = Layers::read();
    let layer_of = layers.of_module();
    let modules: BTreeSet<String> = layer_of.keys().cloned().collect();
    let graph = import_graph(&modules);
    assert!(
        graph.values().map(BTreeMap::len).sum::<usize>() > 20,
        "the architecture test reads the imports: {graph:#?}"
    );

    let mut upward = Vec::new();
    for (from, imports) in &graph {
        let from_layer = layer_of[from];
        for (to, file) in imports {
            let to_layer = layer_of[to];
            if to_layer > from_layer {
                upward.push(format!(
                    "{file}: `{from}` (layer {from_layer}) imports `{to}` (layer {to_layer})"
                ));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports run up the layers of docs/architecture.md:\n{}",
        upward.join("\n")
    );

    if let Some(circle) = find_circle(&graph) {
        let steps: Vec<String> = circle
            .windows(2)
            .map(|w| format!("{} → {} ({})", w[0], w[1], graph[&w[0]][&w[1]]))
            .collect();
        panic!(
            "an import circle between top-level modules:\n{}",
            steps.join("\n")
        );
    }
}

#[test]
fn the_architecture_test_reads_paths_as_the_compiler_does() {
    let code = code_only(
        "use crate::{config::{A, B}, store}; // crate::http\n\
         /* crate::app /* nested */ crate::cli */\n\
         let s = \"crate::updates\"; let r = r#\"crate::poller\"#; let c = '\"';\n\
         fn f<'a>(x: &'a str) { crate::text::f(x); other_crate::x(); $crate::tr!() }\n",
    );
    assert_eq!(crate_paths(&code), ["config", "store", "text", "tr"]);
    let code = without_test_items(
        "use crate::a;\n#[cfg(test)]\nuse crate::b;\nuse crate::c;\n\
         #[cfg(test)]\nfn f() { crate::d(); }\nfn g() { crate::e(); }\n\
         #[cfg(test)]\nmod tests { use crate::f; mod inner { } }\nuse crate::g;\n",
    );
    assert_eq!(crate_paths(&code), ["a", "c", "e", "g"]);
    let mut graph: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (from, to) in [("a", "b"), ("b", "c"), ("c", "a"), ("a", "d")] {
        graph
            .entry(from.into())
            .or_default()
            .insert(to.into(), String::new());
    }
    assert_eq!(
        find_circle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    graph.get_mut("c").unwrap().clear();
    assert_eq!(find_circle(&graph), None);
}

// ---------------------------------------------------------------- configuration keys

/// One step of a key's path: a table, or an array of tables (`sources[]`).
#[derive(Clone, Debug)]
struct Step {
    name: String,
    array: bool,
}

/// A TOML document that sets `key = value` inside the table `path` leads to.
fn document(path: &[Step], key: &str, value: &str) -> String {
    let mut text = String::new();
    for i in 0..path.len() {
        let name: Vec<&str> = path[..=i].iter().map(|s| s.name.as_str()).collect();
        let name = name.join(".");
        if path[i].array {
            text.push_str(&format!("[[{name}]]\n"));
        } else {
            text.push_str(&format!("[{name}]\n"));
        }
    }
    text.push_str(&format!("{key} = {value}\n"));
    text
}

/// The keys serde accepts in the table `path` leads to, read from its refusal
/// of an unknown key (`unknown field `x`, expected one of `a`, `b``); `None`
/// when `path` does not lead to a table of keys.
fn accepted_keys(path: &[Step]) -> Option<Vec<String>> {
    const PROBE: &str = "no_such_key_here";
    let error = embassy_bot::Config::from_toml(&document(path, PROBE, "1"))
        .err()?
        .to_string();
    let refusal = format!("unknown field `{PROBE}`, expected");
    let at = error.find(&refusal)? + refusal.len();
    Some(
        error[at..]
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect(),
    )
}

/// Every key the configuration accepts, as `docs/configuration.md` writes
/// them: `data_dir`, `telegram.link_preview.push`, `sources[].selectors.item`.
fn config_keys() -> BTreeSet<String> {
    fn walk(path: &mut Vec<Step>, out: &mut BTreeSet<String>) {
        let keys = accepted_keys(path).expect("the path leads to a table");
        for key in keys {
            let mut found = false;
            for array in [false, true] {
                path.push(Step {
                    name: key.clone(),
                    array,
                });
                if accepted_keys(path).is_some() {
                    walk(path, out);
                    found = true;
                }
                path.pop();
                if found {
                    break;
                }
            }
            if !found {
                let mut name = String::new();
                for step in path.iter() {
                    name.push_str(&step.name);
                    name.push_str(if step.array { "[]." } else { "." });
                }
                out.insert(name + &key);
            }
        }
    }
    assert!(
        accepted_keys(&[]).is_some_and(|k| k.contains(&"data_dir".to_string())),
        "the config refuses unknown keys and names the ones it takes"
    );
    let mut keys = BTreeSet::new();
    walk(&mut Vec::new(), &mut keys);
    keys
}

/// The keys `config.example.toml` sets, down to the keys the config takes
/// (`counters[].text`, not its languages).
fn example_keys(known: &BTreeSet<String>) -> BTreeSet<String> {
    fn walk(
        prefix: &str,
        table: &toml::Table,
        known: &BTreeSet<String>,
        out: &mut BTreeSet<String>,
    ) {
        for (key, value) in table {
            let name = format!("{prefix}{key}");
            match value {
                _ if known.contains(&name) => {
                    out.insert(name);
                }
                toml::Value::Table(inner) => walk(&format!("{name}."), inner, known, out),
                toml::Value::Array(items)
                    if items.iter().all(toml::Value::is_table) && !items.is_empty() =>
                {
                    for item in items {
                        walk(&format!("{name}[]."), item.as_table().unwrap(), known, out);
                    }
                }
                _ => {
                    out.insert(name);
                }
            }
        }
    }
    let example: toml::Table =
        toml::from_str(&read("config.example.toml")).expect("the example is TOML");
    let mut keys = BTreeSet::new();
    walk("", &example, known, &mut keys);
    keys
}

#[test]
fn every_config_key_is_documented_and_every_documented_key_exists() {
    let page = read("docs/configuration.md");
    let mut documented = BTreeSet::new();
    for line in marked("docs/configuration.md", &page, "keys").lines() {
        let Some(cell) = line.strip_prefix("| `") else {
            continue;
        };
        let key = &cell[..cell.find('`').expect("a closed `")];
        assert!(
            documented.insert(key.to_string()),
            "docs/configuration.md documents `{key}` twice"
        );
    }
    let accepted = config_keys();
    assert_same(
        "The configuration keys",
        "docs/configuration.md (section `keys`)",
        &documented,
        "the keys the config accepts (src/config/raw.rs)",
        &accepted,
    );
    let example = example_keys(&accepted);
    let undocumented: Vec<_> = example.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "config.example.toml sets keys docs/configuration.md does not document: {undocumented:?}"
    );
    assert!(
        example.len() > 30,
        "the example's keys are read: {example:?}"
    );
}

// ---------------------------------------------------------------- metric names

/// How long the bot may take to start and read its site.
const WAIT: Duration = Duration::from_secs(20);

/// The bot's HTTP address, as it logs it.
async fn listening_address(bot: &BotProcess) -> SocketAddr {
    const LINE: &str = "HTTP server listening address=";
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let log = bot.log();
        if let Some(at) = log.find(LINE)
            && let Some(addr) = log[at + LINE.len()..]
                .split_whitespace()
                .next()
                .and_then(|a| a.parse().ok())
        {
            return addr;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the HTTP server never said where it listens:\n{log}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The names of the samples `/metrics` writes, once the site has been read
/// (some series exist only after a read): `embassy_pushes_sent_total`,
/// `embassy_telegram_send_duration_seconds_bucket`, …
async fn exported_metric_names() -> BTreeSet<String> {
    let telegram = FakeTelegram::start().await;
    let site = FakeSite::start(fixture("rusemb/home-2022-05-23.html")).await;
    let dir = tempfile::tempdir().unwrap();
    let source = source_toml("fake", &site.url, 1, "");
    let config = write_config_sources(
        dir.path(),
        &telegram.url,
        &format!("\n[http]\nlisten = \"127.0.0.1:0\"\n{source}"),
    );
    let bot = BotProcess::spawn(&config, "bot.log");
    let addr = listening_address(&bot).await;
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    let text = loop {
        let text = client
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text.contains("embassy_source_last_success_timestamp_seconds{") {
            break text;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the site was never read:\n{}",
            bot.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    bot.stop_cleanly().await;
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l[..l.find(['{', ' ']).unwrap_or(l.len())].to_string())
        .collect()
}

/// Every `embassy_…` name in `text`.
fn metric_names_in(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (at, _) in text.match_indices("embassy_") {
        if text[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let name: String = text[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        // The bare prefix, as prose names it, is no metric.
        if name != "embassy_" {
            names.insert(name);
        }
    }
    names
}

/// The PromQL expressions of the Grafana dashboard.
fn dashboard_expressions(dashboard: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    match dashboard {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("expr", serde_json::Value::String(expr)) => out.push(expr.clone()),
                    _ => out.extend(dashboard_expressions(value)),
                }
            }
        }
        serde_json::Value::Array(items) => items
            .iter()
            .for_each(|v| out.extend(dashboard_expressions(v))),
        _ => {}
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_rules_and_docs_name_only_metrics_the_bot_exports() {
    let exported = exported_metric_names().await;
    assert!(
        exported.contains("embassy_pushes_sent_total"),
        "{exported:?}"
    );

    let dashboard_file = "contrib/grafana/embassy-bot.json";
    let dashboard: serde_json::Value =
        serde_json::from_str(&read(dashboard_file)).expect("the dashboard is JSON");
    let expressions = dashboard_expressions(&dashboard);
    assert!(
        expressions.len() >= 8,
        "the dashboard's queries are read: {expressions:?}"
    );
    for expr in &expressions {
        assert!(
            !metric_names_in(expr).is_empty(),
            "{dashboard_file}: `{expr}` reads no metric of the bot"
        );
    }

    let mut problems = Vec::new();
    for file in [
        dashboard_file,
        "contrib/prometheus/alerts.yml",
        "contrib/prometheus/alerts_test.yml",
        "docs/operations.md",
    ] {
        let names = metric_names_in(&read(file));
        assert!(
            names.len() >= 4,
            "{file} names the bot's metrics: {names:?}"
        );
        for name in names {
            // A histogram is documented by its family's name.
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .all(|suffix| exported.contains(&format!("{name}{suffix}")));
            if !exported.contains(&name) && !(file.ends_with(".md") && family) {
                problems.push(format!("{file}: `{name}`"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "names that /metrics does not export:\n{}\nexported: {exported:#?}",
        problems.join("\n")
    );

    // And the other way: every metric the bot exports is in the table of
    // docs/operations.md (a histogram by its family's name).
    let documented = metric_names_in(&read("docs/operations.md"));
    let undocumented: Vec<&String> = exported
        .iter()
        .filter(|name| {
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix));
            !documented.contains(*name) && !family.is_some_and(|f| documented.contains(f))
        })
        .collect();
    assert!(
        undocumented.is_empty(),
        "metrics the bot exports that docs/operations.md does not list: {undocumented:?}"
    );
}
