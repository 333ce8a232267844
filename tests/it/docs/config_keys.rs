//! The keys of `docs/configuration.md` against the keys the configuration
//! accepts and those `config.example.toml` sets.

use std::collections::BTreeSet;

use super::{assert_same, marked, read};

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
