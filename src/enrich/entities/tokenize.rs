//! News-text tokeniser and sentence splitter with exact byte offsets.
//!
//! Reproduces CoNLL-2003 (Penn-style) tokenisation on running text: punctuation and quote
//! marks are split off, clitics (`'s`, `n't`, `'re` ...) become their own tokens, while
//! abbreviations (`U.S.`, `Gen.`, `Jan.`), initials, numbers (`1,000`, `3.5`) and
//! hyphenated words (`Abul-Gheit`, `al-Assad`) stay whole. Pre-tokenised text (one
//! sentence per line, tokens separated by spaces) comes back unchanged.
//!
//! Must not: allocate per character, panic on any input, or return a span that is not on a
//! char boundary of the input. Time is linear in the input length.

use std::ops::Range;

/// One token: a byte span of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Token {
    /// The token's text in `text`.
    pub fn text<'a>(&self, text: &'a str) -> &'a str {
        text.get(self.start..self.end).unwrap_or("")
    }
}

/// Tokens of a text and its sentences (ranges of token indices).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tokenized {
    /// Every token, in order.
    pub tokens: Vec<Token>,
    /// Sentences as ranges into `tokens`; they cover all tokens, in order.
    pub sentences: Vec<Range<usize>>,
}

/// Longest sentence handed to the tagger; longer runs are cut (keeps decoding bounded).
const MAX_SENTENCE_TOKENS: usize = 256;

/// Abbreviations that keep their period (lower-cased, without the period), sorted for
/// binary search (a linear scan of them was 4% of the entity stage, in `memcmp`).
const ABBREVIATIONS: &[&str] = &[
    "adm", "al", "ala", "alta", "approx", "apr", "ariz", "ark", "assn", "aug", "ave", "blvd",
    "bros", "calif", "capt", "cf", "cmdr", "co", "col", "colo", "conn", "corp", "cpl", "dec",
    "del", "dept", "dr", "est", "etc", "feb", "fig", "fla", "fri", "ft", "ga", "gen", "gov", "hon",
    "ill", "inc", "ind", "jan", "jr", "jul", "jun", "kan", "kans", "ky", "la", "lt", "ltd", "maj",
    "man", "mar", "mass", "md", "mich", "minn", "miss", "mo", "mon", "mont", "mr", "mrs", "ms",
    "mt", "neb", "nev", "no", "nos", "nov", "oct", "okla", "ont", "op", "ore", "pa", "plc", "pp",
    "pres", "prof", "que", "rd", "rep", "rev", "sask", "sat", "sen", "sep", "sept", "sgt", "sr",
    "st", "sun", "tenn", "tex", "thu", "thur", "thurs", "tue", "tues", "univ", "v", "va", "vol",
    "vs", "vt", "wash", "wed", "wis", "wyo",
];

/// Whether `word` (without its final period) is an abbreviation that keeps the period.
fn is_abbreviation(word: &str) -> bool {
    if word.is_empty() || word.len() > 8 {
        return false;
    }
    // Initials and dotted acronyms: `J`, `U.S`, `a.m`, `F.C`.
    let dotted = word
        .split('.')
        .all(|part| part.chars().count() == 1 && part.chars().all(char::is_alphabetic));
    if dotted {
        return true;
    }
    let mut buf = [0u8; 8];
    let Some(lower) = ascii_lower(word, &mut buf) else {
        return false;
    };
    // `No. 1` but not `no.` at the end of a sentence.
    (lower != "no" || word.starts_with('N')) && ABBREVIATIONS.binary_search(&lower).is_ok()
}

/// Lower-cases a short ASCII word into `buf`; `None` for non-ASCII or long words.
fn ascii_lower<'b>(word: &str, buf: &'b mut [u8; 8]) -> Option<&'b str> {
    let bytes = word.as_bytes();
    if bytes.len() > buf.len() || !word.is_ascii() {
        return None;
    }
    for (d, s) in buf.iter_mut().zip(bytes) {
        *d = s.to_ascii_lowercase();
    }
    std::str::from_utf8(&buf[..bytes.len()]).ok()
}

fn is_open_punct(c: char) -> bool {
    matches!(
        c,
        '"' | '\''
            | '`'
            | '('
            | '['
            | '{'
            | '<'
            | '“'
            | '‘'
            | '«'
            | '‹'
            | '„'
            | '¿'
            | '¡'
            | '”'
            | '’'
    )
}

fn is_close_punct(c: char) -> bool {
    matches!(
        c,
        '"' | '\''
            | ','
            | ';'
            | ':'
            | '!'
            | '?'
            | ')'
            | ']'
            | '}'
            | '>'
            | '”'
            | '’'
            | '“'
            | '»'
            | '›'
            | '…'
    )
}

fn is_dash(c: char) -> bool {
    matches!(c, '—' | '–' | '―' | '−')
}

/// Clitics split off the end of a word (lower-case, straight apostrophe).
const CLITICS: &[&str] = &["n't", "'s", "'re", "'ve", "'ll", "'d", "'m"];

/// Tokenises `text` and splits it into sentences.
pub fn tokenize(text: &str) -> Tokenized {
    let mut out = Tokenized::default();
    // Token indices that follow a line break.
    let mut breaks = Vec::new();
    let mut pos = 0;
    while pos < text.len() {
        let (chunk_start, saw_newline) = skip_space(text, pos);
        if saw_newline {
            breaks.push(out.tokens.len());
        }
        if chunk_start >= text.len() {
            break;
        }
        let chunk_end = chunk_end(text, chunk_start);
        let line_start = saw_newline || out.tokens.is_empty();
        split_chunk(text, chunk_start, chunk_end, line_start, &mut out.tokens);
        pos = chunk_end;
    }
    out.sentences = sentences(text, &out.tokens, &breaks);
    out
}

/// Returns the first non-space byte at or after `pos`, and whether a newline was skipped.
fn skip_space(text: &str, pos: usize) -> (usize, bool) {
    let mut newline = false;
    let rest = text.get(pos..).unwrap_or("");
    for (i, c) in rest.char_indices() {
        if !c.is_whitespace() {
            return (pos + i, newline);
        }
        if c == '\n' || c == '\u{2029}' {
            newline = true;
        }
    }
    (text.len(), newline)
}

/// The end of the whitespace-free chunk starting at `start`.
fn chunk_end(text: &str, start: usize) -> usize {
    let rest = text.get(start..).unwrap_or("");
    rest.char_indices()
        .find(|(_, c)| c.is_whitespace())
        .map_or(text.len(), |(i, _)| start + i)
}

/// Sentence ranges: a line break always ends one; so does final punctuation (with its
/// closing quote) before a token that can start a sentence.
fn sentences(text: &str, tokens: &[Token], breaks: &[usize]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut next_break = breaks.iter().peekable();
    let mut in_quote = false;
    let mut after_final = false;
    for (i, tok) in tokens.iter().enumerate() {
        let t = tok.text(text);
        let mut hard = false;
        while next_break.peek().is_some_and(|&&b| b <= i) {
            hard |= next_break.next() == Some(&i);
        }
        if hard {
            in_quote = false;
        }
        let closing_quote = is_closing_quote(t, in_quote);
        let soft = after_final && !closing_quote && starts_sentence(t);
        if i > start && (hard || soft || i - start >= MAX_SENTENCE_TOKENS) {
            out.push(start..i);
            start = i;
        }
        if is_quote_mark(t) {
            in_quote = !closing_quote;
        }
        after_final = is_sentence_final(t) || (after_final && closing_quote);
    }
    if tokens.len() > start {
        out.push(start..tokens.len());
    }
    out
}

fn is_quote_mark(t: &str) -> bool {
    matches!(t, "\"" | "“" | "”" | "«" | "»" | "``" | "''")
}

fn is_closing_quote(t: &str, in_quote: bool) -> bool {
    match t {
        "”" | "»" | "''" => true,
        "\"" => in_quote,
        "’" | "'" => true,
        _ => false,
    }
}

fn is_sentence_final(t: &str) -> bool {
    matches!(t, "." | "!" | "?" | "..." | "…")
}

fn starts_sentence(t: &str) -> bool {
    t.chars()
        .next()
        .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit() || is_open_punct(c))
}

/// Splits one whitespace-free chunk `text[start..end]` into tokens.
fn split_chunk(text: &str, start: usize, end: usize, line_start: bool, out: &mut Vec<Token>) {
    let mut s = start;
    let mut e = end;
    // Leading punctuation, one char at a time.
    while let Some(c) = text.get(s..e).and_then(|w| w.chars().next()) {
        if e - s > c.len_utf8() && (is_open_punct(c) || is_dash(c)) && !is_clitic_at(text, s, e) {
            out.push(Token {
                start: s,
                end: s + c.len_utf8(),
            });
            s += c.len_utf8();
        } else {
            break;
        }
    }
    // Trailing punctuation and clitics, collected back to front.
    let mut tail: Vec<Token> = Vec::new();
    while let Some(word) = text.get(s..e) {
        let Some(c) = word.chars().next_back() else {
            break;
        };
        if word.len() == c.len_utf8() {
            break;
        }
        if word.ends_with("...") && word.len() > 3 {
            tail.push(Token {
                start: e - 3,
                end: e,
            });
            e -= 3;
        } else if is_close_punct(c) || is_dash(c) {
            tail.push(Token {
                start: e - c.len_utf8(),
                end: e,
            });
            e -= c.len_utf8();
        } else if c == '.' && !keeps_period(&word[..word.len() - 1], line_start && s == start) {
            tail.push(Token {
                start: e - 1,
                end: e,
            });
            e -= 1;
        } else if let Some(n) = clitic_len(word) {
            tail.push(Token {
                start: e - n,
                end: e,
            });
            e -= n;
        } else {
            break;
        }
    }
    split_inner(text, s, e, out);
    out.extend(tail.into_iter().rev());
}

/// Whether the text at `s` is a clitic like `'s` that belongs to the previous chunk.
fn is_clitic_at(text: &str, s: usize, e: usize) -> bool {
    text.get(s..e).is_some_and(|w| {
        CLITICS.iter().any(|c| {
            w.eq_ignore_ascii_case(c)
                || c.strip_prefix('\'')
                    .zip(w.strip_prefix('’'))
                    .is_some_and(|(c, w)| c.eq_ignore_ascii_case(w))
        })
    })
}

/// Whether a word keeps its final period: abbreviations, and list numbers (`3.`) that open
/// a line.
fn keeps_period(word: &str, line_start: bool) -> bool {
    if is_abbreviation(word) {
        return true;
    }
    line_start && !word.is_empty() && word.len() <= 3 && word.bytes().all(|b| b.is_ascii_digit())
}

/// Byte length of a clitic that ends `word`, if any (`'s`, `’s`, `n't`, `'re` ...).
fn clitic_len(word: &str) -> Option<usize> {
    let bytes = word.as_bytes();
    if !ends_near_an_apostrophe(bytes) {
        return None;
    }
    for clitic in CLITICS {
        let n = clitic.len();
        if bytes.len() > n && bytes[bytes.len() - n..].eq_ignore_ascii_case(clitic.as_bytes()) {
            return Some(n);
        }
        // Curly apostrophe: `’` is 3 bytes in place of 1.
        if let Some(tail) = curly_clitic(word, clitic) {
            return Some(tail);
        }
    }
    None
}

/// Whether one of the last six bytes of a word is `'` or the last byte of `’`: every
/// clitic holds an apostrophe no further than that from the end (`n’t` is 5 bytes), so a
/// word without one has no clitic (most words; the check saves trying seven of them).
fn ends_near_an_apostrophe(bytes: &[u8]) -> bool {
    let tail = bytes.get(bytes.len().saturating_sub(6)..).unwrap_or(bytes);
    tail.iter().any(|&b| b == b'\'' || b == 0x99)
}

/// Byte length of `clitic` written with `’` at the end of `word`.
fn curly_clitic(word: &str, clitic: &str) -> Option<usize> {
    let apos = clitic.find('\'')?;
    let (before, after) = (clitic.get(..apos)?, clitic.get(apos + 1..)?);
    let n = clitic.len() + 2;
    let start = word.len().checked_sub(n).filter(|&s| s > 0)?;
    let tail = word.get(start..)?;
    let a = tail.get(..before.len())?;
    let b = tail.get(before.len()..)?.strip_prefix('’')?;
    (a.eq_ignore_ascii_case(before) && b.eq_ignore_ascii_case(after)).then_some(n)
}

/// Splits the core of a chunk on inner dashes (`word—word`, `word--word`).
fn split_inner(text: &str, s: usize, e: usize, out: &mut Vec<Token>) {
    let Some(word) = text.get(s..e) else { return };
    if word.is_empty() {
        return;
    }
    let mut piece_start = s;
    let mut iter = word.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        let at = s + i;
        let double_hyphen = c == '-' && word[i..].starts_with("--") && at > piece_start;
        if is_dash(c) || double_hyphen {
            let mut dash_end = at + c.len_utf8();
            while let Some(&(j, '-')) = iter.peek() {
                dash_end = s + j + 1;
                iter.next();
            }
            if at > piece_start {
                out.push(Token {
                    start: piece_start,
                    end: at,
                });
            }
            out.push(Token {
                start: at,
                end: dash_end,
            });
            piece_start = dash_end;
        }
    }
    if e > piece_start {
        out.push(Token {
            start: piece_start,
            end: e,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abbreviations_are_sorted_for_binary_search() {
        assert!(ABBREVIATIONS.windows(2).all(|w| w[0] < w[1]));
        assert!(is_abbreviation("Gen") && is_abbreviation("Calif") && !is_abbreviation("said"));
    }

    fn toks(text: &str) -> Vec<&str> {
        tokenize(text).tokens.iter().map(|t| t.text(text)).collect()
    }

    #[test]
    fn every_clitic_passes_the_apostrophe_check_straight_or_curly() {
        for c in CLITICS {
            let curly = c.replace('\'', "’");
            for form in [c.to_string(), curly, c.to_uppercase()] {
                let word = format!("Word{form}");
                assert!(ends_near_an_apostrophe(word.as_bytes()), "{word}");
                assert_eq!(clitic_len(&word), Some(form.len()), "{word}");
            }
        }
        assert_eq!(clitic_len("Wordsmith"), None);
        assert_eq!(clitic_len("’"), None);
    }

    #[test]
    fn splits_possessives_and_punctuation() {
        assert_eq!(
            toks("Iran's Foreign Ministry said, \"no.\""),
            ["Iran", "'s", "Foreign", "Ministry", "said", ",", "\"", "no", ".", "\""]
        );
        assert_eq!(toks("Moscow’s plan"), ["Moscow", "’s", "plan"]);
        assert_eq!(toks("We won't go"), ["We", "wo", "n't", "go"]);
    }

    #[test]
    fn keeps_abbreviations_initials_numbers_and_hyphens() {
        assert_eq!(
            toks("Gen. J. Smith of the U.S. paid $1,000.50 to al-Assad on Jan. 5."),
            [
                "Gen.",
                "J.",
                "Smith",
                "of",
                "the",
                "U.S.",
                "paid",
                "$1,000.50",
                "to",
                "al-Assad",
                "on",
                "Jan.",
                "5",
                "."
            ]
        );
        assert_eq!(toks("Ahmed Abul-Gheit"), ["Ahmed", "Abul-Gheit"]);
    }

    #[test]
    fn splits_dashes() {
        assert_eq!(toks("WASHINGTON – The"), ["WASHINGTON", "–", "The"]);
        assert_eq!(toks("yes--no"), ["yes", "--", "no"]);
        assert_eq!(toks("end—start"), ["end", "—", "start"]);
    }

    #[test]
    fn pretokenised_conll_text_is_unchanged() {
        let text =
            "Bitar 's goal , 6-4 in 1996-08-30 .\nU.S. officials said \" no \" .\n3. Pete Sampras";
        let got = toks(text);
        let want: Vec<&str> = text.split_whitespace().collect();
        assert_eq!(got, want);
        assert_eq!(tokenize(text).sentences.len(), 3);
        assert_eq!(toks("It rose 3."), ["It", "rose", "3", "."]);
    }

    #[test]
    fn splits_sentences_on_final_punctuation() {
        let text = "He left. She stayed! \"Why?\" he asked.\nNext line";
        let t = tokenize(text);
        assert_eq!(t.sentences, [0..3, 3..6, 6..13, 13..15]);
    }

    #[test]
    fn offsets_are_exact() {
        let text = "«Zürich» — Ça va? “Yes,” said O’Neill’s aide.";
        for t in tokenize(text).tokens {
            assert!(text.is_char_boundary(t.start) && text.is_char_boundary(t.end));
            assert!(t.start < t.end);
            assert!(!t.text(text).trim().is_empty());
        }
    }
}
