//! TOML errors an operator can act on, without echoing a secret.

/// A TOML error as "line L, column C, at `key`: what is wrong" — without the
/// excerpt of the file that toml's own message adds, since that line may hold
/// the token or a URL with credentials. For the same reason, text the message
/// quotes from a value (serde's `invalid type: string "…"`) is masked; key
/// names, which are no secret, stay.
pub(super) fn toml_error(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim().replace('\n', "; ");
    let Some(span) = error.span() else {
        return message;
    };
    let at = Place::of(text, span.start);
    let in_key = at.in_key();
    let message = if in_key {
        message
    } else {
        mask_quoted(&message, text.get(span).unwrap_or(at.line))
    };
    let hint = if !in_key && is_unquoted_text(at.line) {
        " (if this is text, put it in quotes)"
    } else {
        ""
    };
    let key = key_at(&text[..at.line_end], at.line)
        .map(|key| format!(", at `{key}`"))
        .unwrap_or_default();
    format!(
        "line {}, column {}{key}: {message}{hint}",
        at.number, at.column
    )
}

/// Where in the file an error starts, as an editor counts it.
struct Place<'a> {
    /// The whole line, without its newline.
    line: &'a str,
    /// The byte offset in the file where that line ends.
    line_end: usize,
    /// Its line number, from 1.
    number: usize,
    /// Its column in characters, from 1.
    column: usize,
    /// Bytes from the line's start to the error.
    offset: usize,
}

impl<'a> Place<'a> {
    /// The place of byte `start` of `text` (clamped to the text).
    fn of(text: &'a str, start: usize) -> Place<'a> {
        let start = start.min(text.len());
        let before = text.get(..start).unwrap_or_default();
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[line_start..]
            .find('\n')
            .map_or(text.len(), |i| line_start + i);
        Place {
            line: &text[line_start..line_end],
            line_end,
            number: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
            offset: start - line_start,
        }
    }

    /// Whether the error is in a table header or a key rather than in a
    /// value: only values can hold secrets.
    fn in_key(&self) -> bool {
        let header = self.line.trim_start().starts_with('[');
        header || self.line.find('=').is_some_and(|eq| self.offset < eq)
    }
}

/// How a TOML value that is not a number or a boolean must start: a quoted
/// string, an array or an inline table.
const VALUE_OPENERS: [char; 4] = ['"', '\'', '[', '{'];

/// Whether `line` sets a key to bare words (`token = 123:ABC`), which TOML
/// reads as a malformed date or time — an error that says little.
fn is_unquoted_text(line: &str) -> bool {
    line.split_once('=')
        .map(|(_, v)| v.trim())
        .is_some_and(|v| {
            !v.starts_with(VALUE_OPENERS)
                && v.parse::<f64>().is_err()
                && !matches!(v, "true" | "false")
        })
}

/// `message` with each `quoted` or "quoted" part that occurs in `value` masked.
fn mask_quoted(message: &str, value: &str) -> String {
    let mut out = message.to_string();
    for quote in ['`', '"'] {
        out = out
            .split(quote)
            .enumerate()
            .map(|(i, part)| {
                if i % 2 == 1 && !part.is_empty() && value.contains(part) {
                    "…"
                } else {
                    part
                }
            })
            .collect::<Vec<_>>()
            .join(&quote.to_string());
    }
    out
}

/// The dotted key that `line` (the last line of `upto`) sets, as errors name
/// keys (`sources[1].url`), or the table it opens; `None` when the line has
/// no plain key (a quoted key, or a line inside a multi-line value).
fn key_at(upto: &str, line: &str) -> Option<String> {
    let mut arrays: std::collections::HashMap<String, usize> = Default::default();
    let mut table = String::new();
    for l in upto.lines() {
        let l = l.trim();
        let (name, array) = match l.strip_prefix("[[") {
            Some(rest) => (rest.split("]]").next()?, true),
            None => match l.strip_prefix('[') {
                Some(rest) => (rest.split(']').next()?, false),
                None => continue,
            },
        };
        let name = name.split('.').map(str::trim).collect::<Vec<_>>().join(".");
        if array {
            *arrays.entry(name.clone()).or_default() += 1;
        }
        // `[sources.selectors]` belongs to the latest `[[sources]]`.
        table = name.clone();
        if let Some((prefix, n)) = arrays
            .iter()
            .filter(|(p, _)| name == **p || name.starts_with(&format!("{p}.")))
            .max_by_key(|(p, _)| p.len())
        {
            table = format!("{prefix}[{}]{}", n - 1, &name[prefix.len()..]);
        }
    }
    let line = line.trim();
    if line.starts_with('[') {
        return Some(table);
    }
    let key = line.split_once('=')?.0.trim();
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ' ');
    if key.is_empty() || !key.chars().all(plain) {
        return None;
    }
    let key = key.split('.').map(str::trim).collect::<Vec<_>>().join(".");
    Some(if table.is_empty() {
        key
    } else {
        format!("{table}.{key}")
    })
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn toml_errors_name_line_and_key_but_never_echo_a_value() {
        // (file, what the error says, what it must not show)
        let cases = [
            (
                "admin_chats = [1]\n[telegram]\ntoken = 123456:AAEsecretTOKEN\n",
                "line 3, column 9, at `telegram.token`: invalid time, expected minute (if this is text, put it in quotes)",
                "secretTOKEN",
            ),
            (
                "[telegram]\ntoken = 123456\n",
                "at `telegram.token`: invalid type: integer `…`, expected a string",
                "123456",
            ),
            (
                "[telegram]\ntoken = \"123:unterminated\n",
                "line 2",
                "unterminated",
            ),
            (
                "[[sources]]\nurl = \"https://a.example/\"\n[[sources]]\nurl = \"https://b.example/\"\nkind = \"https://u:hunter2@x/\"\n",
                "line 5, column 8, at `sources[1].kind`: unknown variant `…`, expected one of",
                "hunter2",
            ),
            (
                "[[sources]]\nurl = \"https://a.example/\"\n[sources.selectors]\nitme = \"a\"\n",
                "at `sources[0].selectors.itme`: unknown field `itme`",
                "\"a\"",
            ),
            (
                "[telegram]\ntokne = \"1:A\"\n",
                "unknown field `tokne`, expected one of `token`",
                "1:A",
            ),
            (
                "[[sources]]\nname = 'a'\n",
                "line 1, column 1, at `sources[0]`: missing field `url`",
                "'a'",
            ),
            (
                "admin_chats = [\n  1,\n  \"secretvalue\",\n]\n",
                "line 3, column 3: invalid type: string \"…\", expected i64",
                "secretvalue",
            ),
        ];
        for (text, says, hides) in cases {
            let err = Config::from_toml(text).unwrap_err().to_string();
            assert!(err.contains(says), "{text:?} gave {err}");
            assert!(!err.contains(hides), "{text:?} gave {err}");
        }
    }

    #[test]
    fn url_errors_show_no_credentials() {
        for (url, says) in [
            (
                "ftp://user:hunter2@example.org/?token=abc",
                "`ftp://***@example.org/?token=***` must be an http:// or https:// URL",
            ),
            (
                "https://user:hunter2@[bad/",
                "sources[0].url`: is not a URL",
            ),
            ("not a url", "`not a url` is not a URL"),
        ] {
            let text = format!("[[sources]]\nurl = \"{url}\"\n");
            let err = Config::from_toml(&text).unwrap_err().to_string();
            assert!(err.contains(says), "{url} gave {err}");
            assert!(!err.contains("hunter2") && !err.contains("abc"), "{err}");
        }
    }
}
