//! Cloudflare's e-mail obfuscation.
//!
//! Since 2022 the site's e-mail reaches us as `data-cfemail="HEX"` (or a
//! `/cdn-cgi/l/email-protection#HEX` link) with "[email protected]" as visible
//! text. The first byte is a key; every later byte XOR the key is the UTF-8 address.

/// Decodes Cloudflare's hex form; `None` when it is not valid hex or not UTF-8.
pub(crate) fn decode(hex: &str) -> Option<String> {
    let hex = hex.trim();
    if hex.len() < 4 || !hex.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<_>>()?;
    let (key, rest) = bytes.split_first()?;
    let decoded: Vec<u8> = rest.iter().map(|b| b ^ key).collect();
    String::from_utf8(decoded)
        .ok()
        .filter(|s| !s.trim().is_empty())
}

/// The HEX part of an `href` such as `/cdn-cgi/l/email-protection#HEX`, if it is one.
pub(crate) fn hex_from_href(href: &str) -> Option<&str> {
    let (path, hex) = href.split_once('#')?;
    path.ends_with("/cdn-cgi/l/email-protection").then_some(hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_embassy_address() {
        assert_eq!(
            decode("5a33343c351a282f293f37387435283d742f31").as_deref(),
            Some("info@rusemb.org.uk")
        );
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(decode("zz"), None);
        assert_eq!(decode("5a3"), None);
        assert_eq!(decode("5aXY"), None);
        assert_eq!(decode(""), None);
    }

    #[test]
    fn finds_hex_in_protection_links() {
        assert_eq!(
            hex_from_href("/cdn-cgi/l/email-protection#abcd"),
            Some("abcd")
        );
        assert_eq!(
            hex_from_href("https://www.rusemb.org.uk/cdn-cgi/l/email-protection#ab"),
            Some("ab")
        );
        assert_eq!(hex_from_href("/fnapr/1#top"), None);
        assert_eq!(hex_from_href("/cdn-cgi/l/email-protection"), None);
    }
}
