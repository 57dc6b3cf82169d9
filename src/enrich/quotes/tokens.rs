//! A light tokeniser for attribution: words and punctuation with byte spans, which
//! paragraph each token is in, and which quoted segment (if any) holds it.
//!
//! Must not: allocate per token beyond the token vector, or look back more than a few
//! characters (linear time).

use super::marks::Segment;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Letters or digits, with inner `'`, `’`, `-`, `.` and `&` (`We're`, `al-Assad`, `U.S.`).
    Word,
    /// One punctuation or symbol char.
    Punct(char),
    /// A period that does not end a sentence: followed by a comma, a lower-case word or
    /// the like (`R-Wis., said`).
    InnerDot,
}

/// One token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tok {
    /// First byte.
    pub(crate) start: usize,
    /// One past the last byte.
    pub(crate) end: usize,
    /// Word or punctuation.
    pub(crate) kind: Kind,
    /// Paragraph (line) index.
    pub(crate) para: u32,
    /// Index of the segment whose content holds the token, if any.
    pub(crate) quote: Option<u32>,
}

impl Tok {
    /// The token's text.
    pub(crate) fn text<'a>(&self, body: &'a str) -> &'a str {
        body.get(self.start..self.end).unwrap_or("")
    }

    /// Whether the token is a word.
    pub(crate) fn is_word(&self) -> bool {
        self.kind == Kind::Word
    }

    /// Whether the token is the punctuation `c`.
    pub(crate) fn is(&self, c: char) -> bool {
        self.kind == Kind::Punct(c)
    }

    /// Whether the token ends a sentence (`.`, `!`, `?`).
    pub(crate) fn ends_sentence(&self) -> bool {
        matches!(self.kind, Kind::Punct('.' | '!' | '?'))
    }
}

/// Abbreviations whose final period does not end a sentence.
fn is_abbreviation(word: &str) -> bool {
    let w = word.trim_end_matches('.');
    (w.len() == 1 && w.chars().all(|c| c.is_ascii_uppercase()))
        || w.contains('.')
        || [
            "Mr", "Mrs", "Ms", "Dr", "Sen", "Rep", "Gov", "Gen", "Lt", "Col", "Sgt", "Adm", "Rev",
            "Prof", "Jr", "Sr", "St", "Inc", "Corp", "Co", "Ltd", "Jan", "Feb", "Mar", "Apr",
            "Aug", "Sept", "Sep", "Oct", "Nov", "Dec", "No", "vs", "Mt", "Ft", "Gov",
        ]
        .contains(&w)
}

/// Splits `text` into tokens; `segments` are the quoted segments, in order. Each line is
/// its own paragraph: many texts break paragraphs with one newline, and a story's
/// paragraphs never span a line break.
pub(crate) fn tokenize(text: &str, segments: &[Segment]) -> Vec<Tok> {
    let mut out = Vec::with_capacity(text.len() / 5);
    let bytes = text.as_bytes();
    let mut line = 0u32;
    let mut line_has_token = false;
    let mut seg = 0usize;
    let mut i = 0usize;
    while i < bytes.len() {
        let c = if bytes[i].is_ascii() {
            bytes[i] as char
        } else {
            match text.get(i..).and_then(|s| s.chars().next()) {
                Some(c) => c,
                None => break,
            }
        };
        let len = c.len_utf8();
        if c.is_whitespace() {
            if c == '\n' && line_has_token {
                line += 1;
                line_has_token = false;
            }
            i += len;
            continue;
        }
        line_has_token = true;
        let (start, end, kind) = if c.is_alphanumeric() {
            let end = word_end(text, i);
            (i, end, Kind::Word)
        } else if c == '.' && continues_sentence(&text[i + 1..]) {
            (i, i + 1, Kind::InnerDot)
        } else {
            (i, i + len, Kind::Punct(c))
        };
        while seg < segments.len() && segments[seg].content.end <= start {
            seg += 1;
        }
        let quote = segments
            .get(seg)
            .filter(|s| s.content.start <= start && end <= s.content.end)
            .map(|_| seg as u32);
        out.push(Tok {
            start,
            end,
            kind,
            para: line,
            quote,
        });
        i = end;
    }
    out
}

/// Whether the text after a period goes on with the same sentence: a comma, semicolon or
/// lower-case word on the same line.
fn continues_sentence(rest: &str) -> bool {
    let next = rest.chars().find(|c| *c != ' ');
    next.is_some_and(|c| c.is_lowercase() || ",;)".contains(c))
}

/// The end of the word starting at `i`.
fn word_end(text: &str, i: usize) -> usize {
    // Fast path over ASCII letters and digits.
    let bytes = text.as_bytes();
    let mut end = i;
    while end < bytes.len() && bytes[end].is_ascii_alphanumeric() {
        end += 1;
    }
    if end == i {
        return word_end_slow(text, i, i);
    }
    match bytes.get(end) {
        Some(b) if b.is_ascii() && !matches!(b, b'\'' | b'-' | b'.' | b'&') => end,
        None => end,
        _ => word_end_slow(text, i, end),
    }
}

/// The general case of [`word_end`]: the word starts at `i` and runs at least to `end`.
fn word_end_slow(text: &str, i: usize, from: usize) -> usize {
    let mut end = from;
    let mut chars = text[from..].char_indices().peekable();
    let i0 = from;
    while let Some((rel, c)) = chars.next() {
        if c.is_alphanumeric() {
            end = i0 + rel + c.len_utf8();
            continue;
        }
        let joins = matches!(c, '\'' | '’' | '-' | '.' | '&');
        let next_alnum = chars.peek().is_some_and(|(_, n)| n.is_alphanumeric());
        if joins && next_alnum {
            continue;
        }
        if c == '.' && is_abbreviation(&text[i..end]) {
            end = i0 + rel + 1;
        }
        break;
    }
    end
}

/// Whether `c` is a dash: hyphen-minus, en dash, em dash or horizontal bar (`―`, which
/// some publishers set for the em dash).
pub(crate) fn is_dash(c: char) -> bool {
    matches!(c, '-' | '–' | '—' | '―')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<&str> {
        tokenize(text, &[]).iter().map(|t| t.text(text)).collect()
    }

    #[test]
    fn words_keep_inner_marks_and_abbreviations() {
        assert_eq!(
            words("Mr. Toner's al-Assad U.S. said, “yes.”"),
            ["Mr.", "Toner's", "al-Assad", "U.S.", "said", ",", "“", "yes", ".", "”"]
        );
    }
}
