//! Parse stage: raw bytes -> a clean [`Story`], or a typed [`ParseError`].
//!
//! SKELETON: only input validation and blank-line paragraphs for now; the parse helper
//! replaces this with format detection and the per-format parsers.
//!
//! Must not: panic on any input, or take more than linear time in the input's length.

use thiserror::Error;

use crate::enrich::record::Format;
use crate::enrich::story::Story;
use crate::enrich::{EnrichOptions, RawStory};

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
    /// JSON that does not parse, or is not a story object.
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
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
    if raw.bytes.len() > options.max_story_bytes {
        return Err(ParseError::TooLarge {
            size: raw.bytes.len(),
            limit: options.max_story_bytes,
        });
    }
    let text = std::str::from_utf8(raw.bytes).map_err(|e| ParseError::InvalidUtf8 {
        offset: e.valid_up_to(),
    })?;
    if text.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    let paragraphs: Vec<&str> = text
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    Ok(Story::from_paragraphs(Format::Text, &paragraphs))
}
