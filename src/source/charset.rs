//! Turning a body's bytes into text without guessing wrong.
//!
//! reqwest only honours the Content-Type charset; the site's encoding is unknown
//! (Russian pages may be windows-1251), so we look at the HTTP header, then a
//! `<meta>` declaration, then a byte-order mark, and only then assume UTF-8.

use encoding_rs::Encoding;

/// Decodes `body`; returns the text and the name of the encoding used.
pub fn decode(body: &[u8], content_type: Option<&str>) -> (String, &'static str) {
    let encoding = content_type
        .and_then(charset_param)
        .and_then(|label| Encoding::for_label(label.as_bytes()))
        .or_else(|| meta_charset(body))
        .or_else(|| Encoding::for_bom(body).map(|(enc, _)| enc))
        .unwrap_or(encoding_rs::UTF_8);
    // A declared charset never covers a BOM: drop it when it matches.
    let (text, _) = encoding.decode_with_bom_removal(body);
    (text.into_owned(), encoding.name())
}

/// The `charset=` parameter of a Content-Type value.
fn charset_param(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(['"', '\'']).to_string())
    })
}

/// `<meta charset=...>` or `<meta http-equiv="Content-Type" content="...charset=...">`
/// in the first 4 KiB, read as ASCII (every charset we care about is ASCII-compatible).
fn meta_charset(body: &[u8]) -> Option<&'static Encoding> {
    let head = &body[..body.len().min(4096)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let mut rest = head.as_str();
    while let Some(pos) = rest.find("<meta") {
        rest = &rest[pos + 5..];
        let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
        if let Some(at) = tag.find("charset") {
            let value = tag[at + "charset".len()..]
                .trim_start()
                .strip_prefix('=')
                .map(|v| v.trim_start().trim_start_matches(['"', '\'']))
                .unwrap_or("");
            let label: String = value
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
                .collect();
            if let Some(enc) = Encoding::for_label(label.as_bytes()) {
                // A page cannot really be UTF-16 if we could read its meta as ASCII.
                return Some(
                    if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
                        encoding_rs::UTF_8
                    } else {
                        enc
                    },
                );
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_wins_over_meta() {
        let body = b"<meta charset=\"windows-1251\"><p>\xcf\xf0\xe8\xe2\xe5\xf2</p>";
        let (text, name) = decode(body, Some("text/html; charset=windows-1251"));
        assert_eq!(name, "windows-1251");
        assert!(text.contains("Привет"));
        let (_, name) = decode(
            "<meta charset=windows-1251>".as_bytes(),
            Some("text/html; charset=UTF-8"),
        );
        assert_eq!(name, "UTF-8");
    }

    #[test]
    fn meta_forms_are_found() {
        let body = b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1251\"></head><p>\xcf\xf0\xe8\xe2\xe5\xf2</p>";
        let (text, name) = decode(body, Some("text/html"));
        assert_eq!(name, "windows-1251");
        assert!(text.contains("Привет"), "{text}");
        let body = b"<meta charset='koi8-r'><p>\xf0\xd2\xc9\xd7\xc5\xd4</p>";
        let (text, name) = decode(body, None);
        assert_eq!(name, "KOI8-R");
        assert!(text.contains("Привет"), "{text}");
    }

    #[test]
    fn bom_then_utf8() {
        let mut body = vec![0xEF, 0xBB, 0xBF];
        body.extend_from_slice("<p>’ «»</p>".as_bytes());
        let (text, name) = decode(&body, None);
        assert_eq!(name, "UTF-8");
        assert_eq!(text, "<p>’ «»</p>");
        let (text, _) = decode("plain – text".as_bytes(), None);
        assert_eq!(text, "plain – text");
    }
}
