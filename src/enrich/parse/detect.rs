//! Format sniffing: which parser a payload goes to, from its content (and a `Content-Type`
//! hint when the content alone does not tell).
//!
//! Must not: read more than the payload's first few kilobytes, or trust the hint over
//! clear evidence in the content.

/// The broad kind of a payload, before a parser looks closer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// A JSON value (envelope or ninjs).
    Json,
    /// An HTML document or fragment.
    Html,
    /// An XML document (NewsML-G2).
    Xml,
    /// Plain text: flattened web text or wire copy.
    Text,
}

/// Decides the payload kind.
pub fn sniff(text: &str, content_type: Option<&str>) -> Sniffed {
    let start = text.trim_start();
    let head = prefix(start, 4096).to_ascii_lowercase();
    if looks_like_json(start) {
        return Sniffed::Json;
    }
    if start.starts_with('<') {
        let g2 = head.contains("<newsitem")
            || head.contains("<newsmessage")
            || head.contains("<packageitem");
        let xmlish = g2 || head.starts_with("<?xml");
        let htmlish =
            head.contains("<!doctype html") || head.contains("<html") || head.contains("<body");
        if g2 || xmlish && !htmlish {
            return Sniffed::Xml;
        }
        // A text dump may open with a stray tag; a fragment of markup has many.
        let markup = htmlish || tag_count(&head) >= 8;
        if markup || hint(content_type).is_some_and(|h| h != Sniffed::Text) {
            return match hint(content_type) {
                Some(Sniffed::Xml) if !htmlish => Sniffed::Xml,
                _ => Sniffed::Html,
            };
        }
    }
    match hint(content_type) {
        Some(Sniffed::Html) if head.contains("<p") || head.contains("<div") => Sniffed::Html,
        _ => Sniffed::Text,
    }
}

/// How many tags (`<` then a letter, `/` or `!`) the text has.
fn tag_count(head: &str) -> usize {
    head.as_bytes()
        .windows(2)
        .filter(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || w[1] == b'/' || w[1] == b'!'))
        .count()
}

/// An object, or an array whose first element is a JSON value (`[white-logo]` at the top
/// of a text dump is not JSON).
fn looks_like_json(start: &str) -> bool {
    if start.starts_with('{') {
        return true;
    }
    let Some(rest) = start.strip_prefix('[') else {
        return false;
    };
    let next = rest.trim_start();
    next.starts_with(['{', '[', '"', '-'])
        || next.starts_with(|c: char| c.is_ascii_digit())
        || ["true", "false", "null"]
            .iter()
            .any(|k| next.starts_with(k))
}

/// The kind a `Content-Type` names, if any.
fn hint(content_type: Option<&str>) -> Option<Sniffed> {
    let ct = content_type?.to_ascii_lowercase();
    if ct.contains("json") {
        Some(Sniffed::Json)
    } else if ct.contains("html") {
        Some(Sniffed::Html)
    } else if ct.contains("xml") || ct.contains("g2") {
        Some(Sniffed::Xml)
    } else if ct.starts_with("text/") {
        Some(Sniffed::Text)
    } else {
        None
    }
}

/// The first `max` bytes of `text`, at a character boundary.
fn prefix(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Binary data: NUL bytes, or many control bytes other than the ANPA transmission marks
/// (SOH, STX, ETX, EOT), tab, newline, form feed and carriage return, in the first 8 KiB.
pub(crate) fn looks_binary(bytes: &[u8]) -> bool {
    let sample = &bytes[..bytes.len().min(8192)];
    if sample.contains(&0) {
        return true;
    }
    let odd = sample
        .iter()
        .filter(|&&b| {
            b < 0x20 && !matches!(b, 0x01..=0x04 | b'\t' | b'\n' | 0x0c | b'\r' | 0x1e | 0x1f)
        })
        .count();
    odd * 50 > sample.len().max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_kinds() {
        assert_eq!(sniff("  {\"body\": \"x\"}", None), Sniffed::Json);
        assert_eq!(
            sniff("<!DOCTYPE html><html><body><p>x</p></body></html>", None),
            Sniffed::Html
        );
        assert_eq!(
            sniff("<?xml version=\"1.0\"?><newsItem/>", None),
            Sniffed::Xml
        );
        assert_eq!(sniff("Home > Asia\nHeadline", None), Sniffed::Text);
        assert_eq!(sniff("[white-logo]\n  • Home", None), Sniffed::Text);
        assert_eq!(sniff("[{\"a\": 1}]", None), Sniffed::Json);
        assert_eq!(
            sniff("<img src=x>\n\n  • Politics\n  • Policy\nText.", None),
            Sniffed::Text
        );
        assert_eq!(sniff("<p>Fragment</p>", Some("text/html")), Sniffed::Html);
    }

    #[test]
    fn binary() {
        assert!(looks_binary(b"\x89PNG\r\n\x1a\n\x00\x00"));
        assert!(!looks_binary(b"\x01 1234 r i BC-x\x02Headline\n\x03"));
    }
}
