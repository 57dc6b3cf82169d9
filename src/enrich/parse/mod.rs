//! Parse stage: raw bytes -> a clean [`Story`], or a typed [`ParseError`].
//!
//! [`parse`] checks the limits (size, UTF-8, binary), detects the format from the content
//! (a `Content-Type` hint only breaks ties), hands the text to the format's parser, and
//! finishes the story (language, paragraph spans, no empty body). [`sniff`] (detection
//! alone) and [`parse_as`] (one given parser, no detection) are public for the fuzz
//! targets in `fuzz/`.
//!
//! Submodules: `detect` (format sniffing), `normalize` (meaning-preserving text clean-up),
//! `envelope` (the JSON envelope), `dates`, `byline`, `lang`.
//!
//! Must not: panic on any input, or take more than linear time in the input's length.

mod byline;
mod dates;
mod detect;
mod envelope;
mod furniture;
mod html;
mod lang;
mod newsml;
mod ninjs;
mod normalize;
mod prescan;
mod text;

use thiserror::Error;

use crate::enrich::story::Story;
use crate::enrich::{EnrichOptions, RawStory};

pub use detect::{sniff, Sniffed};

/// Why a story could not be parsed. [`ParseError::kind`] is the stable dead-letter reason.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    /// The payload is empty or only whitespace.
    #[error("story is empty")]
    Empty,
    /// The payload is larger than `limits.max_story_bytes`.
    #[error("story is {size} bytes, over the limit of {limit}")]
    TooLarge {
        /// Payload size in bytes.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The payload is not valid UTF-8.
    #[error("story is not valid UTF-8 (first bad byte at {offset})")]
    InvalidUtf8 {
        /// Byte offset of the first invalid sequence.
        offset: usize,
    },
    /// The payload looks like binary data, not text.
    #[error("story looks like binary data")]
    Binary,
    /// JSON that does not parse (truncated, broken).
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// Well-formed JSON that is not a story (no `body`, not ninjs, not an object).
    #[error("JSON is not a story: {0}")]
    NotAStory(String),
    /// HTML with no recoverable article.
    #[error("malformed HTML: {0}")]
    MalformedHtml(String),
    /// XML that does not parse or is not a NewsML-G2 item.
    #[error("malformed XML: {0}")]
    MalformedXml(String),
    /// The input parsed but has no body text.
    #[error("story has no body text")]
    NoBody,
}

impl ParseError {
    /// The stable reason, used as the `Wire-Enricher-Error` header and the metrics label.
    pub fn kind(&self) -> &'static str {
        match self {
            ParseError::Empty => "empty",
            ParseError::TooLarge { .. } => "too_large",
            ParseError::InvalidUtf8 { .. } => "invalid_utf8",
            ParseError::Binary => "binary",
            ParseError::MalformedJson(_) => "malformed_json",
            ParseError::NotAStory(_) => "not_a_story",
            ParseError::MalformedHtml(_) => "malformed_html",
            ParseError::MalformedXml(_) => "malformed_xml",
            ParseError::NoBody => "no_body",
        }
    }
}

/// Parses one raw story.
///
/// # Errors
/// See [`ParseError`].
pub fn parse(raw: &RawStory<'_>, options: &EnrichOptions) -> Result<Story, ParseError> {
    let text = check_limits(raw.bytes, options)?;
    parse_kind(text, sniff(text, raw.content_type), raw.reference_date)
}

/// Parses one raw story with the parser of `kind`, skipping format detection (the limits
/// and the finishing steps still apply). For fuzzing each parser on its own (`fuzz/`);
/// the worker itself always calls [`parse`].
///
/// # Errors
/// See [`ParseError`].
pub fn parse_as(
    raw: &RawStory<'_>,
    options: &EnrichOptions,
    kind: Sniffed,
) -> Result<Story, ParseError> {
    let text = check_limits(raw.bytes, options)?;
    parse_kind(text, kind, raw.reference_date)
}

/// A story still undated whose dateline writes a month and day without a year (`DHAKA,
/// May 9 (Agency) -`) takes the latest year that does not put that day after the
/// reference date (the bus's store time; a day's slack for time zones): a story is filed
/// on its dateline's day, so `Dec 31` received on 2 January is last year's and `May 9`
/// received in December is this year's. Without a reference nothing is guessed.
fn date_from_reference(story: &mut Story, reference: Option<jiff::civil::Date>) {
    let Some(reference) = reference else { return };
    if story.published.is_some() {
        return;
    }
    let Some(written) = story.dateline.as_ref().and_then(|d| d.date.as_deref()) else {
        return;
    };
    let Some((month, day)) = dates::month_day(written) else {
        return;
    };
    let latest = reference.tomorrow().unwrap_or(reference);
    // Four years back at most: 29 February needs a leap year.
    story.published = (0..=4)
        .map(|back| latest.year() - back)
        .find(|&year| jiff::civil::Date::new(year, month, day).is_ok_and(|d| d <= latest))
        .and_then(|year| dates::from_ymd(year, month, day))
        .map(dates::ParsedDate::to_rfc3339);
}

/// Hands checked text to the parser of `kind`, then finishes the story (dating a yearless
/// dateline by `reference` when nothing else dated it).
fn parse_kind(
    text: &str,
    kind: Sniffed,
    reference: Option<jiff::civil::Date>,
) -> Result<Story, ParseError> {
    let mut story = match kind {
        Sniffed::Json => match parse_json(text) {
            // `[1936822]` then more lines: a text dump that happens to open with brackets.
            Err(ParseError::MalformedJson(_))
                if !text.trim_start().starts_with('{') && !json_truncated(text) =>
            {
                text::parse(text)
            }
            other => other?,
        },
        Sniffed::Text => text::parse(text),
        Sniffed::Html => html::parse(text)?,
        Sniffed::Xml => newsml::parse(text)?,
    };
    finish(&mut story)?;
    date_from_reference(&mut story, reference);
    Ok(story)
}

/// Size, UTF-8, binary and emptiness checks; the text without a byte-order mark.
fn check_limits<'a>(bytes: &'a [u8], options: &EnrichOptions) -> Result<&'a str, ParseError> {
    if bytes.len() > options.max_story_bytes {
        return Err(ParseError::TooLarge {
            size: bytes.len(),
            limit: options.max_story_bytes,
        });
    }
    if detect::looks_binary(bytes) {
        return Err(ParseError::Binary);
    }
    let text = std::str::from_utf8(bytes).map_err(|e| ParseError::InvalidUtf8 {
        offset: e.valid_up_to(),
    })?;
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    Ok(text)
}

/// Whether JSON parsing ran out of input (truncated) rather than meeting bad syntax.
fn json_truncated(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text)
        .err()
        .is_some_and(|e| e.classify() == serde_json::error::Category::Eof)
}

/// A JSON payload: the ninjs item or the envelope.
fn parse_json(text: &str) -> Result<Story, ParseError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| ParseError::MalformedJson(e.to_string()))?;
    let serde_json::Value::Object(obj) = value else {
        return Err(ParseError::NotAStory(
            "a JSON value that is not an object".to_owned(),
        ));
    };
    if ninjs::is_ninjs(&obj) {
        return ninjs::parse(&obj);
    }
    if obj.contains_key("body") {
        return envelope::parse(&obj);
    }
    Err(ParseError::NotAStory(
        "a JSON object with no `body` (not an envelope or ninjs item)".to_owned(),
    ))
}

/// Common last steps: an empty body is an error; the language is detected when the
/// payload did not give it.
fn finish(story: &mut Story) -> Result<(), ParseError> {
    if story.body.trim().is_empty() || story.paragraphs.is_empty() {
        return Err(ParseError::NoBody);
    }
    if story.language.is_none() {
        story.language = lang::detect(&story.body);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::record::Format;

    fn run(bytes: &[u8]) -> Result<Story, ParseError> {
        let raw = RawStory {
            bytes,
            message_id: None,
            content_type: None,
            reference_date: None,
        };
        parse(&raw, &EnrichOptions::default())
    }

    #[test]
    fn envelope_body_is_byte_identical() {
        let body = "EU rejects German call to boycott British lamb .\n\nPeter Blackburn\n\nBRUSSELS 1996-08-22\n";
        let json = serde_json::json!({"id": "conll-1", "body": body}).to_string();
        let s = run(json.as_bytes()).expect("story");
        assert_eq!(s.body, body);
        assert_eq!(s.format, Format::Json);
        assert_eq!(s.paragraphs.len(), 3);
    }

    #[test]
    fn truncated_json_is_malformed() {
        let err = run(br#"{"id": "x", "body": "Some te"#).expect_err("error");
        assert_eq!(err.kind(), "malformed_json");
    }

    #[test]
    fn json_without_body_is_not_a_story() {
        assert_eq!(
            run(br#"{"id": "x", "title": "t"}"#).expect_err("e").kind(),
            "not_a_story"
        );
        assert_eq!(run(b"[1, 2]").expect_err("e").kind(), "not_a_story");
    }

    fn run_received(text: &str, reference: Option<&str>) -> Story {
        let raw = RawStory {
            bytes: text.as_bytes(),
            message_id: None,
            content_type: None,
            reference_date: reference.map(|d| d.parse().expect("a date")),
        };
        parse(&raw, &EnrichOptions::default()).expect("story")
    }

    #[test]
    fn a_yearless_dateline_takes_its_year_from_the_reference() {
        let wire = "Cinemas close\n\nDHAKA, Dec 31 (Continental News Agency) - Theatres are closing one by one across the city, owners say.\n";
        assert_eq!(
            run_received(wire, None).published,
            None,
            "no year is guessed"
        );
        let same_year = run_received(wire, Some("2026-12-31")).published;
        assert_eq!(same_year.as_deref(), Some("2026-12-31"));
        // Received two days later, across the new year: last year's 31 December.
        let next_year = run_received(wire, Some("2027-01-02")).published;
        assert_eq!(next_year.as_deref(), Some("2026-12-31"));
        // Never a date after the reference (a day's slack for time zones).
        let may = wire.replace("Dec 31", "May 9");
        let late = run_received(&may, Some("2026-12-05")).published;
        assert_eq!(
            late.as_deref(),
            Some("2026-05-09"),
            "this May, not next May"
        );
        let eve = run_received(&may, Some("2026-05-08")).published;
        assert_eq!(
            eve.as_deref(),
            Some("2026-05-09"),
            "a day ahead is a time zone"
        );
        let leap = wire.replace("Dec 31", "Feb 29");
        let leap = run_received(&leap, Some("2027-03-01")).published;
        assert_eq!(leap.as_deref(), Some("2024-02-29"));
        // A date the story writes with a year wins over the reference.
        let dated = wire.replace("say.", "say. In December 2019 two more shut.");
        let story = run_received(&dated, Some("2027-01-02"));
        assert_eq!(story.published.as_deref(), Some("2019-12-31"));
    }

    #[test]
    fn limits() {
        assert_eq!(run(b"  \n ").expect_err("e").kind(), "empty");
        assert_eq!(run(b"\xff\xfeabc").expect_err("e").kind(), "invalid_utf8");
        assert_eq!(
            run(b"\x00\x01\x02PNG\x00\x00").expect_err("e").kind(),
            "binary"
        );
        let raw = RawStory {
            bytes: b"0123456789",
            message_id: None,
            content_type: None,
            reference_date: None,
        };
        let opts = EnrichOptions { max_story_bytes: 4 };
        assert_eq!(parse(&raw, &opts).expect_err("e").kind(), "too_large");
    }
}
