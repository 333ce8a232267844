//! The architecture test: the imports between top-level modules, read from
//! every `crate::` path under `src/`, against the layers of
//! `docs/architecture.md`.

use std::collections::{BTreeMap, BTreeSet};

use super::module_map::{Layers, relative, rust_files};

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
    let layer_of = Layers::read().of_module();
    let modules: BTreeSet<String> = rust_files()
        .iter()
        .filter_map(|p| module_of(&relative(p)))
        .collect();
    let unplaced: Vec<&String> = modules
        .iter()
        .filter(|m| !layer_of.contains_key(*m))
        .collect();
    assert!(
        unplaced.is_empty(),
        "modules in no layer of docs/architecture.md: {unplaced:?}"
    );
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
         let s = \"crate::updates\"; let r = r#\"crate::watch::poller\"#; let c = '\"';\n\
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
