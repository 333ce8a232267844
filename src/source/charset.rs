//! Turning a body's bytes into text without guessing wrong.
//!
//! reqwest only honours the Content-Type charset; the site's encoding is unknown
//! (Russian pages may be windows-1251), so we look at the HTTP header, then an
//! in-document declaration (`<meta charset>`, `<meta http-equiv="Content-Type">`
//! or an XML declaration's `encoding=`), then a byte-order mark. With none of
//! those, bytes that are valid UTF-8 are UTF-8, and only bytes that are not are
//! handed to chardetng (Firefox's detector for undeclared legacy pages).
//!
//! Declarations can be wrong. Two cheap checks catch the common mistakes: a
//! declaration of UTF-8 that the bytes contradict gives way to the next
//! declaration that decodes cleanly (or, with none, to detection), and a legacy
//! single-byte declaration over bytes that are valid, non-ASCII UTF-8 gives way
//! to UTF-8 (real windows-1251 or KOI8-R text is practically never valid UTF-8).
//! A UTF-8 page with a few stray bad bytes stays UTF-8: detection would turn
//! every correct character into mojibake to fix a handful.
//! Each correction is reported in [`Decoded::note`] so `check-source` can show it.

use encoding_rs::Encoding;

/// Where the encoding used for a body came from; shown by `check-source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharsetFrom {
    /// The `charset=` parameter of the HTTP Content-Type header.
    Header,
    /// A `<meta>` tag or an XML declaration in the first bytes of the document.
    Meta,
    /// A byte-order mark.
    Bom,
    /// Nothing declared: UTF-8 assumed.
    Default,
    /// A declaration was contradicted by the bytes, which are valid UTF-8.
    Sniffed,
    /// Nothing usable declared and the bytes are not UTF-8: chardetng's guess.
    Detected,
}

impl std::fmt::Display for CharsetFrom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CharsetFrom::Header => "HTTP Content-Type header",
            CharsetFrom::Meta => "<meta>/<?xml?> declaration",
            CharsetFrom::Bom => "byte-order mark",
            CharsetFrom::Default => "default: nothing declared",
            CharsetFrom::Sniffed => "bytes: valid UTF-8, against the declaration",
            CharsetFrom::Detected => "bytes: no usable declaration, and they are not UTF-8",
        })
    }
}

/// A decoded body and how it was decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    /// The WHATWG name of the encoding used, e.g. `windows-1251`.
    pub charset: &'static str,
    pub from: CharsetFrom,
    /// Set when a declaration was overruled or the bytes did not fit the encoding
    /// (invalid sequences became U+FFFD): worth a warning, never an error.
    pub note: Option<String>,
}

/// Decodes `body` given the response's Content-Type (if any). Never fails: the
/// worst case is text with replacement characters and a [`Decoded::note`].
pub fn decode(body: &[u8], content_type: Option<&str>) -> Decoded {
    let mut candidates: Vec<(&'static Encoding, CharsetFrom)> = Vec::with_capacity(3);
    if let Some(enc) = content_type
        .and_then(charset_param)
        .and_then(|label| Encoding::for_label(label.as_bytes()))
    {
        candidates.push((enc, CharsetFrom::Header));
    }
    if let Some(enc) = declared_in_document(body) {
        candidates.push((enc, CharsetFrom::Meta));
    }
    if let Some((enc, _)) = Encoding::for_bom(body) {
        candidates.push((enc, CharsetFrom::Bom));
    }
    let Some(&(first, first_from)) = candidates.first() else {
        return undeclared(body, None);
    };

    if first == encoding_rs::UTF_8 {
        if std::str::from_utf8(strip_utf8_bom(body)).is_ok() {
            return decode_as(body, first, first_from, None);
        }
        // Declared UTF-8 but it is not: a later declaration that decodes cleanly wins.
        for &(enc, from) in &candidates[1..] {
            if enc != encoding_rs::UTF_8 {
                let (text, _, had_errors) = enc.decode(body);
                if !had_errors {
                    let note = format!(
                        "declared UTF-8 ({first_from}) but the bytes are not UTF-8; used {} from the {from}",
                        enc.name()
                    );
                    return Decoded {
                        text: text.into_owned(),
                        charset: enc.name(),
                        from,
                        note: Some(note),
                    };
                }
            }
        }
        return undeclared(body, Some(first_from));
    }

    let single_byte = first.is_single_byte();
    if single_byte && !body.is_ascii() && std::str::from_utf8(strip_utf8_bom(body)).is_ok() {
        let note = format!(
            "declared {} ({first_from}) but the bytes are valid UTF-8; decoded as UTF-8",
            first.name()
        );
        return decode_as(body, encoding_rs::UTF_8, CharsetFrom::Sniffed, Some(note));
    }
    decode_as(body, first, first_from, None)
}

/// Bytes with no usable declaration (none at all, or a UTF-8 one they
/// contradict, named by `declared`): UTF-8 when they are, or nearly are;
/// chardetng's guess otherwise.
fn undeclared(body: &[u8], declared: Option<CharsetFrom>) -> Decoded {
    let (good, bad) = utf8_health(strip_utf8_bom(body));
    if bad == 0 {
        return decode_as(body, encoding_rs::UTF_8, CharsetFrom::Default, None);
    }
    let from = declared.unwrap_or(CharsetFrom::Default);
    // Legacy Cyrillic or CJK text is almost never valid UTF-8 at all; a UTF-8
    // page damaged in a few places has many more good characters than bad bytes.
    if good >= 8 * bad {
        return decode_as(body, encoding_rs::UTF_8, from, None);
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(body, true);
    let guess = detector.guess(None, chardetng::Utf8Detection::Deny);
    let note = declared.map(|from| {
        format!(
            "declared UTF-8 ({from}) but the bytes are not UTF-8; detected {}",
            guess.name()
        )
    });
    decode_as(body, guess, CharsetFrom::Detected, note)
}

/// How many non-ASCII characters of `bytes` are well-formed UTF-8, and how many
/// sequences are not. One linear pass.
fn utf8_health(mut bytes: &[u8]) -> (usize, usize) {
    let lead_bytes = |valid: &[u8]| valid.iter().filter(|&&b| b >= 0xC0).count();
    let (mut good, mut bad) = (0, 0);
    loop {
        match std::str::from_utf8(bytes) {
            Ok(_) => return (good + lead_bytes(bytes), bad),
            Err(e) => {
                let valid = e.valid_up_to();
                good += lead_bytes(&bytes[..valid]);
                bad += 1;
                let skip = e.error_len().unwrap_or(bytes.len() - valid);
                bytes = &bytes[valid + skip..];
            }
        }
    }
}

fn strip_utf8_bom(body: &[u8]) -> &[u8] {
    body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body)
}

fn decode_as(
    body: &[u8],
    encoding: &'static Encoding,
    from: CharsetFrom,
    note: Option<String>,
) -> Decoded {
    // A declared charset never covers a BOM: drop it when it matches.
    let (text, had_errors) = encoding.decode_with_bom_removal(body);
    let note = note.or_else(|| {
        had_errors.then(|| {
            format!(
                "some bytes are not valid {} and were replaced with U+FFFD",
                encoding.name()
            )
        })
    });
    Decoded {
        text: text.into_owned(),
        charset: encoding.name(),
        from,
        note,
    }
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

/// `<meta charset=...>`, `<meta http-equiv="Content-Type" content="...charset=...">`
/// or `<?xml ... encoding="..."?>` in the first 4 KiB, read as ASCII (every
/// charset we care about is ASCII-compatible).
fn declared_in_document(body: &[u8]) -> Option<&'static Encoding> {
    let head = &body[..body.len().min(4096)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let found = xml_encoding(&head).or_else(|| meta_charset(&head))?;
    // A document cannot really be UTF-16 if we could read its declaration as ASCII.
    Some(
        if found == encoding_rs::UTF_16LE || found == encoding_rs::UTF_16BE {
            encoding_rs::UTF_8
        } else {
            found
        },
    )
}

fn xml_encoding(head: &str) -> Option<&'static Encoding> {
    let decl = head.trim_start_matches('\u{feff}').trim_start();
    let decl = decl.strip_prefix("<?xml")?;
    let decl = &decl[..decl.find("?>")?];
    let at = decl.find("encoding")?;
    label_after_equals(&decl[at + "encoding".len()..])
}

fn meta_charset(head: &str) -> Option<&'static Encoding> {
    let mut rest = head;
    while let Some(pos) = rest.find("<meta") {
        rest = &rest[pos + 5..];
        let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
        if let Some(at) = tag.find("charset")
            && let Some(enc) = label_after_equals(&tag[at + "charset".len()..])
        {
            return Some(enc);
        }
    }
    None
}

/// The encoding named by `= "label"` (quotes optional) at the start of `rest`.
fn label_after_equals(rest: &str) -> Option<&'static Encoding> {
    let value = rest
        .trim_start()
        .strip_prefix('=')?
        .trim_start()
        .trim_start_matches(['"', '\'']);
    let label: String = value
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
        .collect();
    Encoding::for_label(label.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRIVET_1251: &[u8] = b"\xcf\xf0\xe8\xe2\xe5\xf2";

    #[test]
    fn header_wins_over_meta() {
        let mut body = b"<meta charset=\"koi8-r\"><p>".to_vec();
        body.extend_from_slice(PRIVET_1251);
        let d = decode(&body, Some("text/html; charset=windows-1251"));
        assert_eq!((d.charset, d.from), ("windows-1251", CharsetFrom::Header));
        assert!(d.text.contains("Привет"));
        let d = decode(
            "<meta charset=windows-1251>".as_bytes(),
            Some("text/html; charset=UTF-8"),
        );
        assert_eq!((d.charset, d.from), ("UTF-8", CharsetFrom::Header));
    }

    #[test]
    fn meta_forms_are_found() {
        let mut body = b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1251\"></head><p>".to_vec();
        body.extend_from_slice(PRIVET_1251);
        let d = decode(&body, Some("text/html"));
        assert_eq!((d.charset, d.from), ("windows-1251", CharsetFrom::Meta));
        assert!(d.text.contains("Привет"), "{}", d.text);
        let d = decode(
            b"<meta charset='koi8-r'><p>\xf0\xd2\xc9\xd7\xc5\xd4</p>",
            None,
        );
        assert_eq!(d.charset, "KOI8-R");
        assert!(d.text.contains("Привет"), "{}", d.text);
        let d = decode(
            b"<?xml version=\"1.0\" encoding=\"windows-1251\"?><rss>\xcf</rss>",
            None,
        );
        assert_eq!((d.charset, d.from), ("windows-1251", CharsetFrom::Meta));
    }

    #[test]
    fn bom_then_utf8() {
        let mut body = vec![0xEF, 0xBB, 0xBF];
        body.extend_from_slice("<p>’ «»</p>".as_bytes());
        let d = decode(&body, None);
        assert_eq!((d.charset, d.from), ("UTF-8", CharsetFrom::Bom));
        assert_eq!(d.text, "<p>’ «»</p>");
        let d = decode("plain – text".as_bytes(), None);
        assert_eq!(
            (d.text.as_str(), d.from),
            ("plain – text", CharsetFrom::Default)
        );
        assert!(d.note.is_none());
    }

    #[test]
    fn wrong_declarations_are_corrected_or_noted() {
        // Declared UTF-8 in the header, really windows-1251 as the meta says.
        let mut body = b"<meta charset=windows-1251><p>".to_vec();
        body.extend_from_slice(PRIVET_1251);
        let d = decode(&body, Some("text/html; charset=utf-8"));
        assert_eq!((d.charset, d.from), ("windows-1251", CharsetFrom::Meta));
        assert!(d.text.contains("Привет") && d.note.is_some());
        // Declared UTF-8 with nothing better: detected, noted.
        let d = decode(&russian_1251(), Some("text/html; charset=utf-8"));
        assert_eq!((d.charset, d.from), ("windows-1251", CharsetFrom::Detected));
        assert!(d.text.contains("Посольство") && d.note.is_some(), "{d:?}");
        // Declared windows-1251 but the bytes are UTF-8.
        let d = decode(
            "<p>Привет</p>".as_bytes(),
            Some("text/html; charset=cp1251"),
        );
        assert_eq!((d.charset, d.from), ("UTF-8", CharsetFrom::Sniffed));
        assert!(d.text.contains("Привет") && d.note.is_some());
        // Plain ASCII under a legacy declaration stays as declared.
        let d = decode(b"<p>Hello</p>", Some("text/html; charset=koi8-r"));
        assert_eq!((d.charset, d.from), ("KOI8-R", CharsetFrom::Header));
    }

    /// A paragraph of Russian in windows-1251, long enough to detect.
    fn russian_1251() -> Vec<u8> {
        let text = "<p>Посольство обращает внимание на заявления британской стороны \
            о продовольственном кризисе и напоминает, что вопросы остаются без ответа.</p>";
        encoding_rs::WINDOWS_1251.encode(text).0.into_owned()
    }

    #[test]
    fn undeclared_legacy_bytes_are_detected() {
        let d = decode(&russian_1251(), None);
        assert_eq!((d.charset, d.from), ("windows-1251", CharsetFrom::Detected));
        assert!(
            d.text.contains("Посольство обращает внимание"),
            "{}",
            d.text
        );
        assert!(d.note.is_none());

        let koi = encoding_rs::KOI8_R
            .encode("<title>Как пережить новогоднюю ночь, не теряя головы</title>")
            .0
            .into_owned();
        let d = decode(&koi, None);
        // chardetng names KOI8-U, which decodes Russian exactly as KOI8-R does.
        assert_eq!((d.charset, d.from), ("KOI8-U", CharsetFrom::Detected));
        assert!(
            d.text.contains("Как пережить новогоднюю ночь"),
            "{}",
            d.text
        );

        let latin = encoding_rs::WINDOWS_1252
            .encode("<title>Últimas Notícias: eleições e simulações de 2º turno</title>")
            .0
            .into_owned();
        let d = decode(&latin, None);
        assert_eq!((d.charset, d.from), ("windows-1252", CharsetFrom::Detected));
        assert!(d.text.contains("Últimas Notícias"), "{}", d.text);
    }

    #[test]
    fn utf8_with_a_stray_byte_stays_utf8() {
        let mut body = "<p>Посольство обращает внимание на заявления – «вопросы»</p>"
            .as_bytes()
            .to_vec();
        body.insert(10, 0xFF);
        let d = decode(&body, None);
        assert_eq!((d.charset, d.from), ("UTF-8", CharsetFrom::Default));
        assert!(d.text.contains("обращает внимание") && d.note.is_some());
        assert_eq!(utf8_health(b"ab\xff\xfe\xc3\xa9"), (1, 2));
        assert_eq!(utf8_health("ёж".as_bytes()), (2, 0));
    }
}
