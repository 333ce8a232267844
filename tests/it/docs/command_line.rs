//! The command line in `docs/operations.md` against what `--help` prints.

use std::collections::BTreeSet;

use super::{assert_same, fenced_lines, marked, read};
use crate::support::run_binary;

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
