//! Text normalisation that keeps meaning: Unicode NFC, HTML entities decoded, soft hyphens
//! and zero-width characters dropped, whitespace tidied, paragraphs kept.
//!
//! Must not: change quotation marks or dashes (curly stays curly, `–` stays `–`), reorder
//! text, or — in [`in_place`] — change the length or position of any text.

use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

/// Characters that carry no text and are dropped: soft hyphen, zero-width space, word
/// joiner, BOM, and bidi marks.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{200B}' | '\u{2060}' | '\u{FEFF}' | '\u{200E}' | '\u{200F}'
    )
}

/// Horizontal spaces that become one ASCII space.
fn is_hspace(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

/// Normalises one line or paragraph: entities decoded (when `decode_entities`), invisible
/// characters dropped, control characters removed, runs of horizontal space collapsed,
/// ends trimmed, NFC. Newlines are kept (use [`join_lines`] to unwrap).
pub(crate) fn clean(text: &str, decode_entities: bool) -> String {
    let decoded;
    let text = if decode_entities && text.contains('&') {
        decoded = decode_html_entities(text);
        decoded.as_str()
    } else {
        text
    };
    if text.is_ascii() {
        clean_ascii(text)
    } else {
        clean_chars(text)
    }
}

/// [`clean`] after entity decoding: runs of characters kept as they are are copied whole,
/// the others handled one by one.
fn clean_chars(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let run = plain_run(rest);
        if run > 0 {
            if pending_space && !out.is_empty() && !out.ends_with('\n') {
                out.push(' ');
            }
            pending_space = false;
            out.push_str(&rest[..run]);
            rest = &rest[run..];
            continue;
        }
        rest = &rest[c.len_utf8()..];
        if c == '\n' {
            while out.ends_with(' ') {
                out.pop();
            }
            out.push('\n');
            pending_space = false;
        } else if is_hspace(c) || c == '\r' {
            pending_space = true;
        }
        // Invisible and control characters are dropped.
    }
    let end = out.trim_end().len();
    out.truncate(end);
    let start = out.len() - out.trim_start().len();
    out.drain(..start);
    nfc(out)
}

/// A character [`clean`] keeps as it is: not invisible, a space, a newline or a control.
fn is_plain(c: char) -> bool {
    !(is_invisible(c) || is_hspace(c) || matches!(c, '\n' | '\r') || c.is_control())
}

/// The length in bytes of the run of [`is_plain`] characters that starts `text` (printable
/// ASCII is checked by byte).
fn plain_run(text: &str) -> usize {
    let mut len = 0;
    for (at, c) in text.char_indices() {
        let plain = if c.is_ascii() {
            c.is_ascii_graphic()
        } else {
            is_plain(c)
        };
        if !plain {
            return at;
        }
        len = at + c.len_utf8();
    }
    len
}

/// [`clean`] for ASCII text (most of it), byte by byte: the same rules, where the only
/// horizontal spaces are space and tab, the controls are C0 and DEL, nothing is invisible,
/// and the text is already NFC.
fn clean_ascii(text: &str) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(text.len());
    let mut pending_space = false;
    for &b in text.as_bytes() {
        match b {
            b'\n' => {
                while out.last() == Some(&b' ') {
                    out.pop();
                }
                out.push(b'\n');
                pending_space = false;
            }
            b' ' | b'\t' | b'\r' => pending_space = true,
            0..=0x1f | 0x7f => {}
            _ => {
                if pending_space && !out.is_empty() && out.last() != Some(&b'\n') {
                    out.push(b' ');
                }
                pending_space = false;
                out.push(b);
            }
        }
    }
    // Only spaces and newlines are left to trim.
    while matches!(out.last(), Some(b' ' | b'\n')) {
        out.pop();
    }
    let lead = out.iter().take_while(|b| matches!(b, b' ' | b'\n')).count();
    out.drain(..lead);
    String::from_utf8(out).unwrap_or_default()
}

/// NFC, skipping the work when the text already is.
fn nfc(text: String) -> String {
    if text.is_ascii() || is_nfc_quick(text.chars()) == IsNormalized::Yes {
        text
    } else {
        text.nfc().collect()
    }
}

/// Joins the lines of one paragraph with single spaces.
pub(crate) fn join_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(line);
    }
    out
}

/// Offset-preserving clean-up for text whose offsets must survive (the JSON envelope's
/// body): C0/C1 control characters other than tab, newline and carriage return become one
/// space each, so every **code point** offset (what the record contract and annotators
/// use) still points at the same character. Returns `None` when nothing changed.
pub(crate) fn in_place(text: &str) -> Option<String> {
    let bad = |c: char| c.is_control() && !matches!(c, '\t' | '\n' | '\r');
    if !text.chars().any(bad) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if bad(c) {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// Decodes HTML character references (`&amp;`, `&#8217;`, `&#x2019;` and the common named
/// ones); unknown references are left as written.
pub(crate) fn decode_html_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        rest = &rest[pos..];
        match decode_one(rest) {
            Some((Decoded::Str(s), used)) => {
                out.push_str(s);
                rest = &rest[used..];
            }
            Some((Decoded::Char(c), used)) => {
                out.push(c);
                rest = &rest[used..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// What one character reference stands for.
enum Decoded {
    Str(&'static str),
    Char(char),
}

/// Decodes the reference at the start of `s` (which starts with `&`): the text and the
/// bytes consumed.
fn decode_one(s: &str) -> Option<(Decoded, usize)> {
    let end = s.as_bytes().iter().take(12).position(|&b| b == b';')?;
    let name = s.get(1..end)?;
    if let Some(num) = name.strip_prefix('#') {
        let code = if let Some(hex) = num.strip_prefix('x').or_else(|| num.strip_prefix('X')) {
            u32::from_str_radix(hex, 16).ok()?
        } else {
            num.parse::<u32>().ok()?
        };
        let c = char::from_u32(code).filter(|c| *c != '\0')?;
        return Some((Decoded::Char(c), end + 1));
    }
    Some((Decoded::Str(named_entity(name)?), end + 1))
}

/// The common named references.
fn named_entity(name: &str) -> Option<&'static str> {
    Some(match name {
        "amp" | "AMP" => "&",
        "lt" | "LT" => "<",
        "gt" | "GT" => ">",
        "quot" | "QUOT" => "\"",
        "apos" => "'",
        "nbsp" => "\u{00A0}",
        "shy" => "\u{00AD}",
        "ndash" => "–",
        "mdash" => "—",
        "lsquo" => "‘",
        "rsquo" => "’",
        "ldquo" => "“",
        "rdquo" => "”",
        "sbquo" => "‚",
        "bdquo" => "„",
        "laquo" => "«",
        "raquo" => "»",
        "hellip" => "…",
        "copy" => "©",
        "reg" => "®",
        "trade" => "™",
        "deg" => "°",
        "middot" => "·",
        "bull" => "•",
        "euro" => "€",
        "pound" => "£",
        "yen" => "¥",
        "cent" => "¢",
        "sect" => "§",
        "times" => "×",
        "eacute" => "é",
        "egrave" => "è",
        "aacute" => "á",
        "agrave" => "à",
        "iacute" => "í",
        "oacute" => "ó",
        "uacute" => "ú",
        "ntilde" => "ñ",
        "ccedil" => "ç",
        "uuml" => "ü",
        "ouml" => "ö",
        "auml" => "ä",
        "szlig" => "ß",
        "thinsp" => "\u{2009}",
        "ensp" => "\u{2002}",
        "emsp" => "\u{2003}",
        "zwnj" => "\u{200C}",
        "zwj" => "\u{200D}",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_fast_path_matches_the_general_rules() {
        for s in [
            "",
            "  plain text  ",
            "a\tb\r\nc  \n\n  d \x07e\x7f f",
            "\n\n lead and trail \t\n ",
            "x \n y\n\n\nz",
            " \x01 ",
        ] {
            assert_eq!(clean_ascii(s), clean_chars(s), "{s:?}");
        }
    }

    proptest::proptest! {
        /// Any ASCII text (weighted towards the whitespace and control bytes the rules
        /// treat specially) cleans the same on the fast path as on the general one.
        #[test]
        fn ascii_fast_path_matches_the_general_rules_on_any_ascii(
            s in "[ \\t\\r\\n\\x00-\\x1f\\x7fa-zA-Z.,]{0,64}|[\\x00-\\x7f]{0,64}"
        ) {
            proptest::prop_assert_eq!(clean_ascii(&s), clean_chars(&s));
        }
    }

    #[test]
    fn keeps_curly_quotes_and_dashes() {
        assert_eq!(clean("“Yes” – she said’s", false), "“Yes” – she said’s");
    }

    #[test]
    fn drops_invisible_and_tidies_space() {
        assert_eq!(
            clean("  co\u{00AD}op\u{200B}erate \u{00A0}\t now  ", false),
            "coop".to_owned() + "erate now"
        );
    }

    #[test]
    fn decodes_entities() {
        assert_eq!(
            decode_html_entities("A &amp; B &#8217;s &#x201C;x&rdquo; &bogus; &"),
            "A & B ’s “x” &bogus; &"
        );
    }

    #[test]
    fn composes_nfc() {
        assert_eq!(clean("Cafe\u{0301}", false), "Café");
    }

    #[test]
    fn in_place_keeps_code_point_offsets() {
        let s = "a\u{0001}b\u{0085}c\n";
        let out = in_place(s).unwrap_or_default();
        assert_eq!(out.chars().count(), s.chars().count());
        assert_eq!(out, "a b c\n");
        assert_eq!(in_place("clean\n\ntext"), None);
    }
}
