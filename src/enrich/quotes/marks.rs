//! Quotation marks: finds the quoted segments of a text and nothing else.
//!
//! Knows every mark news uses (straight and curly double quotes, guillemets, low-9 openers,
//! and single quotes where a text uses them as its quotation marks), tells apostrophes
//! (`We're`, `leaders'`, `'90s`) from single quotes, joins quotes that run over several
//! paragraphs, and recovers from unbalanced marks with a warning.
//!
//! Must not: attribute anything, panic on any text, or look at a character more than a
//! bounded number of times (linear time). Every span it returns lies on char boundaries.

use crate::enrich::story::ByteSpan;

/// One quoted segment: the content inside the marks, trimmed of whitespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Segment {
    /// Byte offset of the opening mark (or the content start when the mark is missing).
    pub(crate) open: usize,
    /// The content, marks excluded and trimmed.
    pub(crate) content: ByteSpan,
    /// Byte offset just past the closing mark (or the content end when it is missing).
    pub(crate) close_end: usize,
    /// Whether the quote runs over more than one paragraph.
    pub(crate) multi_paragraph: bool,
}

/// Which kind of mark opened the segment that is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// `"` or `“`.
    Double,
    /// `„`, closed by `“` or `”`.
    LowNine,
    /// `«`.
    Guillemet,
    /// `‘` or `'`.
    Single,
}

/// Whether single marks count as quotation marks in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SingleMarks {
    /// Single marks are apostrophes or nested quotes (part of the outer quote's text).
    Ignore,
    /// Single marks are the text's quotation marks (headlines, British style).
    Quote,
}

/// Decides whether `text` uses single marks as its quotation marks: it has no double marks
/// at all (nor `''`, which some archives write for a double mark) but has an opening
/// single mark.
pub(crate) fn single_marks_policy(text: &str) -> SingleMarks {
    let has_double = text
        .chars()
        .any(|c| matches!(c, '"' | '“' | '”' | '«' | '»' | '„'))
        || text.contains("''");
    if has_double {
        return SingleMarks::Ignore;
    }
    let has_single_open = text
        .char_indices()
        .any(|(i, c)| matches!(c, '‘' | '\'') && opens_single(text, i, c));
    if has_single_open {
        SingleMarks::Quote
    } else {
        SingleMarks::Ignore
    }
}

/// The char before byte `i`, if any.
fn char_before(text: &str, i: usize) -> Option<char> {
    text.get(..i).and_then(|s| s.chars().next_back())
}

/// The char at byte `i + len` (just after a mark of `len` bytes), if any.
fn char_after(text: &str, i: usize, c: char) -> Option<char> {
    text.get(i + c.len_utf8()..).and_then(|s| s.chars().next())
}

/// A single mark at `i` that opens a quote: at a word start, followed by a word, and not an
/// elided year or word (`'90s`, `'em`, `'til`).
fn opens_single(text: &str, i: usize, c: char) -> bool {
    let before_ok =
        char_before(text, i).is_none_or(|b| b.is_whitespace() || "([{—–-\"“/".contains(b));
    let after = char_after(text, i, c);
    let after_ok = after.is_some_and(|a| a.is_alphanumeric() || "“\"$…".contains(a));
    if !(before_ok && after_ok) {
        return false;
    }
    let rest = &text[i + c.len_utf8()..];
    !is_elision(rest)
}

/// `90s`, `em`, `til`, `n'`: what follows an apostrophe that elides the start of a word.
fn is_elision(rest: &str) -> bool {
    let b = rest.as_bytes();
    let digits = b.iter().take_while(|x| x.is_ascii_digit()).count();
    if digits == 2
        && b.get(2)
            .is_none_or(|x| *x == b's' || !x.is_ascii_alphanumeric())
    {
        return true;
    }
    let word: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric())
        .take(5)
        .collect::<String>()
        .to_lowercase();
    matches!(word.as_str(), "em" | "til" | "cause" | "n" | "tis" | "twas")
}

/// A single mark at `i` that closes a quote: after a non-space, and not inside a word
/// (`We're`). A mark after `s` (`leaders'`) closes only when `in_quote` says a single
/// quote is open.
fn closes_single(text: &str, i: usize, c: char) -> bool {
    let before = char_before(text, i);
    let after = char_after(text, i, c);
    let before_ok = before.is_some_and(|b| !b.is_whitespace());
    let inside_word =
        before.is_some_and(char::is_alphanumeric) && after.is_some_and(char::is_alphanumeric);
    before_ok && !inside_word
}

/// Finds the quoted segments of `text`, whose paragraphs are `paragraphs` (byte spans in
/// order; the whole text when empty). Warnings go to `warnings`.
pub(crate) fn segments(
    text: &str,
    paragraphs: &[ByteSpan],
    singles: SingleMarks,
    warnings: &mut Vec<String>,
) -> Vec<Segment> {
    let whole = [ByteSpan {
        start: 0,
        end: text.len(),
    }];
    let paragraphs = if paragraphs.is_empty() {
        &whole[..]
    } else {
        paragraphs
    };
    let mut out: Vec<Segment> = Vec::new();
    // A quote left open at the end of the previous paragraph: its segment index and style.
    let mut carried: Option<(usize, Style)> = None;
    for para in paragraphs {
        let Some(ptext) = text.get(para.start..para.end) else {
            continue;
        };
        let lead = ptext.len() - ptext.trim_start().len();
        let first = ptext[lead..].chars().next();
        let continues =
            carried.filter(|(_, style)| first.is_some_and(|c| opener_matches(c, *style)));
        if let Some((idx, _)) = carried.take() {
            if continues.is_none() {
                warnings.push(format!("unbalanced quotation mark at {}", out[idx].open));
            }
        }
        scan_paragraph(
            text,
            *para,
            singles,
            continues.map(|(i, _)| i),
            &mut out,
            warnings,
            &mut carried,
        );
    }
    if let Some((idx, _)) = carried {
        warnings.push(format!("unbalanced quotation mark at {}", out[idx].open));
    }
    out
}

/// Whether `c`, opening a paragraph, continues a quote of `style`.
fn opener_matches(c: char, style: Style) -> bool {
    match style {
        Style::Double | Style::LowNine => matches!(c, '"' | '“' | '„'),
        Style::Guillemet => matches!(c, '«' | '»'),
        Style::Single => matches!(c, '‘' | '\''),
    }
}

/// Scans one paragraph. `continuing` is the index of a segment from the previous paragraph
/// that this paragraph's first mark continues.
fn scan_paragraph(
    text: &str,
    para: ByteSpan,
    singles: SingleMarks,
    mut continuing: Option<usize>,
    out: &mut Vec<Segment>,
    warnings: &mut Vec<String>,
    carried: &mut Option<(usize, Style)>,
) {
    let mut open: Option<(usize, usize, Style)> = None; // (mark offset, content start, style)
    let ptext = &text[para.start..para.end];
    for (rel, c) in ptext.char_indices() {
        // Fast path: plain ASCII other than the two marks never does anything.
        if c.is_ascii() && c != '"' && c != '\'' {
            continue;
        }
        let i = para.start + rel;
        let after = i + c.len_utf8();
        let action = classify(text, i, c, open.map(|o| o.2), singles);
        match action {
            Action::None => {}
            Action::Open(style) => {
                if let Some((mark, start, _)) = open.take() {
                    warnings.push(format!("unbalanced quotation mark at {mark}"));
                    push_segment(text, out, mark, start, i, i, &mut continuing);
                }
                open = Some((i, after, style));
            }
            Action::Close => {
                if let Some((mark, start, _)) = open.take() {
                    push_segment(text, out, mark, start, i, after, &mut continuing);
                }
            }
            Action::StrayClose => warnings.push(format!("unbalanced quotation mark at {i}")),
        }
    }
    if let Some((mark, start, style)) = open {
        if push_segment(text, out, mark, start, para.end, para.end, &mut continuing) {
            *carried = Some((out.len() - 1, style));
        }
    }
}

/// What a mark does given what is open.
enum Action {
    None,
    Open(Style),
    Close,
    StrayClose,
}

fn classify(text: &str, i: usize, c: char, open: Option<Style>, singles: SingleMarks) -> Action {
    match (c, open) {
        ('"', Some(Style::Double | Style::LowNine)) => Action::Close,
        ('"', None) => Action::Open(Style::Double),
        ('“', Some(Style::LowNine)) => Action::Close,
        // A misdirected closer: `“It's unusual,“ said Noble`.
        ('“', Some(Style::Double)) if is_closing_position(text, i, c) => Action::Close,
        ('“', Some(Style::Double)) => Action::Open(Style::Double),
        ('“', None) => Action::Open(Style::Double),
        ('”', Some(Style::Double | Style::LowNine)) => Action::Close,
        // A misdirected opener: `”We won,” he said`.
        ('”', None) if is_opening_position(text, i, c) => Action::Open(Style::Double),
        ('”', None) => Action::StrayClose,
        ('„', None) => Action::Open(Style::LowNine),
        ('«', None) => Action::Open(Style::Guillemet),
        ('»', Some(Style::Guillemet)) => Action::Close,
        ('‘' | '\'', None) if singles == SingleMarks::Quote && opens_single(text, i, c) => {
            Action::Open(Style::Single)
        }
        ('’' | '\'', Some(Style::Single)) if closes_single(text, i, c) => Action::Close,
        _ => Action::None,
    }
}

/// After a non-space and before a space, punctuation or the end: where a closer goes.
fn is_closing_position(text: &str, i: usize, c: char) -> bool {
    let before = char_before(text, i).is_some_and(|b| !b.is_whitespace());
    let after = char_after(text, i, c).is_none_or(|a| a.is_whitespace() || ",.;:!?)".contains(a));
    before && after
}

/// After a space or the start and before a letter or digit: where an opener goes.
fn is_opening_position(text: &str, i: usize, c: char) -> bool {
    let before = char_before(text, i).is_none_or(|b| b.is_whitespace() || "([—–".contains(b));
    let after = char_after(text, i, c).is_some_and(char::is_alphanumeric);
    before && after
}

/// Adds the segment `[start, end)` (trimmed), or extends the continued one.
fn push_segment(
    text: &str,
    out: &mut Vec<Segment>,
    mark: usize,
    start: usize,
    end: usize,
    close_end: usize,
    continuing: &mut Option<usize>,
) -> bool {
    let Some(span) = trim(text, start, end) else {
        return false;
    };
    if let Some(idx) = continuing.take() {
        if let Some(seg) = out.get_mut(idx) {
            seg.content.end = span.end;
            seg.close_end = close_end;
            seg.multi_paragraph = true;
            return true;
        }
    }
    out.push(Segment {
        open: mark,
        content: span,
        close_end,
        multi_paragraph: false,
    });
    true
}

/// `[start, end)` without surrounding whitespace; `None` when nothing is left.
fn trim(text: &str, start: usize, end: usize) -> Option<ByteSpan> {
    let s = text.get(start..end)?;
    let lead = s.len() - s.trim_start().len();
    let inner = s.trim();
    if inner.is_empty() {
        return None;
    }
    Some(ByteSpan {
        start: start + lead,
        end: start + lead + inner.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<String> {
        let mut w = Vec::new();
        let paras = paragraphs(text);
        let singles = single_marks_policy(text);
        segments(text, &paras, singles, &mut w)
            .iter()
            .map(|s| text[s.content.start..s.content.end].to_owned())
            .collect()
    }

    fn paragraphs(text: &str) -> Vec<ByteSpan> {
        let mut out = Vec::new();
        let mut start = 0;
        for (i, _) in text.match_indices("\n\n") {
            out.push(ByteSpan { start, end: i });
            start = i + 2;
        }
        out.push(ByteSpan {
            start,
            end: text.len(),
        });
        out
    }

    #[test]
    fn curly_and_straight_double_marks() {
        assert_eq!(texts("“We won,” he said. \"Yes.\""), ["We won,", "Yes."]);
    }

    #[test]
    fn guillemets_and_low_nine() {
        assert_eq!(texts("Er sagte „Nein“ und «oui»."), ["Nein", "oui"]);
    }

    #[test]
    fn apostrophes_are_not_quotes_in_double_marked_text() {
        assert_eq!(texts("We're the leaders' \"best\" of the '90s"), ["best"]);
    }

    #[test]
    fn single_marks_quote_when_no_double_marks() {
        assert_eq!(
            texts("Syria deal: US, Russia 'not there yet'"),
            ["not there yet"]
        );
        assert_eq!(
            texts("‘We’re not there,’ he said of the leaders’ summit in the ’90s"),
            ["We’re not there,"]
        );
    }

    #[test]
    fn nested_single_quotes_stay_inside() {
        assert_eq!(
            texts("“He called it ‘a farce’ today,” she said."),
            ["He called it ‘a farce’ today,"]
        );
    }

    #[test]
    fn multi_paragraph_quote_is_one_segment() {
        let t = "“First part.\n\n“Second part,” he said.";
        assert_eq!(texts(t), ["First part.\n\n“Second part,"]);
    }

    #[test]
    fn unbalanced_open_runs_to_paragraph_end_with_warning() {
        let t = "“Open and never closed.\n\nNext paragraph.";
        let mut w = Vec::new();
        let s = segments(t, &paragraphs(t), SingleMarks::Ignore, &mut w);
        assert_eq!(s.len(), 1);
        assert_eq!(
            &t[s[0].content.start..s[0].content.end],
            "Open and never closed."
        );
        assert!(w[0].starts_with("unbalanced quotation mark at 0"));
    }

    #[test]
    fn doubled_apostrophes_do_not_make_single_marks_quotes() {
        // Archive text with `''` for double marks: ambiguous, so no single-mark quotes.
        assert!(texts("''It's 'fine' now,'' said Ross.").is_empty());
    }

    #[test]
    fn misdirected_marks_are_read_by_position() {
        assert_eq!(
            texts("“It's unusual,“ said Noble. ”We won,” he said."),
            ["It's unusual,", "We won,"]
        );
    }

    #[test]
    fn stray_close_is_a_warning() {
        let mut w = Vec::new();
        let t = "no open” here";
        assert!(segments(t, &[], SingleMarks::Ignore, &mut w).is_empty());
        assert_eq!(w.len(), 1);
    }
}
