//! The plain JSON envelope `{id, body, headline, section, published, language, url, byline}`
//! (RECORD.md, "The JSON input envelope").
//!
//! Must not: move any text of `body` — tools that annotate body offsets map them back to
//! the input, so `body` is returned byte for byte (only control characters become one space
//! each, so code point offsets into it stay valid). Optional fields are validated; a bad one is dropped with a warning.

use serde_json::{Map, Value};

use super::{byline, dates, lang, normalize, ParseError};
use crate::enrich::record::Format;
use crate::enrich::story::{ByteSpan, Story};

/// Builds a story from an envelope object (`obj` has a `body` key).
pub(crate) fn parse(obj: &Map<String, Value>) -> Result<Story, ParseError> {
    let body = match obj.get("body") {
        Some(Value::String(s)) => s,
        Some(Value::Null) | None => return Err(ParseError::NoBody),
        Some(_) => {
            return Err(ParseError::NotAStory(
                "envelope `body` is not a string".to_owned(),
            ))
        }
    };
    let mut story = Story::new(Format::Json);
    story.body = normalize::in_place(body).unwrap_or_else(|| body.clone());
    story.paragraphs = blank_line_paragraphs(&story.body);
    if story.paragraphs.is_empty() {
        return Err(ParseError::NoBody);
    }
    story.id = string_field(obj, "id", &mut story.warnings).or_else(|| number_id(obj));
    story.headline = string_field(obj, "headline", &mut story.warnings)
        .map(|h| normalize::join_lines(&normalize::clean(&h, false)));
    story.section =
        string_field(obj, "section", &mut story.warnings).map(|s| normalize::clean(&s, false));
    if let Some(p) = string_field(obj, "published", &mut story.warnings) {
        match dates::parse(&p) {
            Some(d) => story.published = Some(d.to_rfc3339()),
            None => story
                .warnings
                .push(format!("envelope `published` is not a date: {p:?}")),
        }
    }
    if let Some(code) = string_field(obj, "language", &mut story.warnings) {
        story.language = lang::normalise_code(&code);
        if story.language.is_none() {
            story.warnings.push(format!(
                "envelope `language` is not a language code: {code:?}"
            ));
        }
    }
    read_byline(obj.get("byline"), &mut story);
    Ok(story)
}

/// A string field; a value of another type is dropped with a warning.
fn string_field(obj: &Map<String, Value>, key: &str, warnings: &mut Vec<String>) -> Option<String> {
    match obj.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::String(_) | Value::Null => None,
        _ => {
            warnings.push(format!("envelope `{key}` is not a string; ignored"));
            None
        }
    }
}

/// An integer `id` is accepted as its decimal text.
fn number_id(obj: &Map<String, Value>) -> Option<String> {
    match obj.get("id")? {
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `byline`: a string or a list of strings, split like a byline in text.
fn read_byline(value: Option<&Value>, story: &mut Story) {
    match value {
        Some(Value::String(s)) => byline::split_into(s, &mut story.byline),
        Some(Value::Array(items)) => {
            for item in items {
                if let Value::String(s) = item {
                    byline::split_into(s, &mut story.byline);
                }
            }
        }
        Some(Value::Null) | None => {}
        Some(_) => story
            .warnings
            .push("envelope `byline` is neither a string nor a list; ignored".to_owned()),
    }
}

/// Spans of the paragraphs of `text`: runs of lines separated by blank (or whitespace-only)
/// lines, without their surrounding whitespace.
pub(crate) fn blank_line_paragraphs(text: &str) -> Vec<ByteSpan> {
    let mut spans = Vec::new();
    let mut current: Option<ByteSpan> = None;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let start = pos;
        pos += line.len();
        let trimmed = line.trim();
        if trimmed.is_empty() {
            spans.extend(current.take());
            continue;
        }
        let lead = line.len() - line.trim_start().len();
        let s = start + lead;
        let e = s + trimmed.len();
        current = Some(match current {
            Some(span) => ByteSpan {
                start: span.start,
                end: e,
            },
            None => ByteSpan { start: s, end: e },
        });
    }
    spans.extend(current);
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn body_is_kept_byte_for_byte() {
        let body = "  First para,\nsame para.\n\n\n Second “para” – ok. \n";
        let s = parse(&obj(serde_json::json!({"id": "x1", "body": body}))).expect("story");
        assert_eq!(s.body, body);
        assert_eq!(s.id.as_deref(), Some("x1"));
        let texts: Vec<&str> = s
            .paragraphs
            .iter()
            .map(|p| &s.body[p.start..p.end])
            .collect();
        assert_eq!(
            texts,
            vec!["First para,\nsame para.", "Second “para” – ok."]
        );
    }

    #[test]
    fn optional_fields_are_validated() {
        let s = parse(&obj(serde_json::json!({
            "body": "Text.", "headline": "H", "published": "2019-01-04", "language": "en",
            "byline": ["By Jane Doe", "Reuters"], "section": 5
        })))
        .expect("story");
        assert_eq!(s.published.as_deref(), Some("2019-01-04"));
        assert_eq!(s.language.as_deref(), Some("en"));
        assert_eq!(s.byline.authors, vec!["Jane Doe"]);
        assert_eq!(s.byline.agency.as_deref(), Some("Reuters"));
        assert_eq!(s.section, None);
        assert_eq!(s.warnings.len(), 1);
    }

    #[test]
    fn missing_or_blank_body_is_an_error() {
        assert_eq!(
            parse(&obj(serde_json::json!({"id": "x"}))),
            Err(ParseError::NoBody)
        );
        assert_eq!(
            parse(&obj(serde_json::json!({"body": " \n "}))),
            Err(ParseError::NoBody)
        );
    }
}
