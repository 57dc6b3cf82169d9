//! Domain types that travel between the core's stages.
//!
//! A [`Story`] is what the parse stage makes of a raw payload; [`Stage1`] to [`Stage3`]
//! are what each pipeline stage hands to the next. All spans here are **byte** offsets
//! into the string they name; `record::build` turns them into code point offsets.

use crate::enrich::record::{Byline, Dateline, Entity, Field, Format, Media, Quote};

/// A byte span `[start, end)` into a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ByteSpan {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// A parsed story: the parse stage's output, the input of quotes and entities.
#[derive(Debug, Clone, PartialEq)]
pub struct Story {
    /// The story's own id from the payload (ninjs `uri`, NewsML-G2 `guid`, envelope `id`).
    pub id: Option<String>,
    /// The detected input format.
    pub format: Format,
    /// ISO 639-1 code when detected (or given by the payload).
    pub language: Option<String>,
    /// The title, once.
    pub headline: Option<String>,
    /// Section or category.
    pub section: Option<String>,
    /// Publication time, RFC 3339 (no offset when the story gave none).
    pub published: Option<String>,
    /// Authors and agency.
    pub byline: Byline,
    /// The dateline as written (`WASHINGTON`, `LONDON, Sept 8 (Reuters)`).
    pub dateline: Option<Dateline>,
    /// Photo captions with their credits.
    pub media: Vec<Media>,
    /// Clean body text; paragraphs joined by `"\n\n"`.
    pub body: String,
    /// Byte spans of the paragraphs in `body`.
    pub paragraphs: Vec<ByteSpan>,
    /// What the parser noticed but could live with.
    pub warnings: Vec<String>,
}

impl Story {
    /// The text a span with this `field` (and `media_index`) points into: `body` for
    /// `None`; `None` when the story has no such field.
    pub fn field_text(&self, field: Option<Field>, media_index: Option<usize>) -> Option<&str> {
        field_text(
            &self.body,
            self.headline.as_deref(),
            &self.media,
            &self.byline,
            field,
            media_index,
        )
    }

    /// An empty story of the given format: a starting point for parsers and tests.
    pub fn new(format: Format) -> Self {
        Self {
            id: None,
            format,
            language: None,
            headline: None,
            section: None,
            published: None,
            byline: Byline::default(),
            dateline: None,
            media: Vec::new(),
            body: String::new(),
            paragraphs: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// A story whose body is `paragraphs` joined by blank lines, with paragraph spans set.
    pub fn from_paragraphs<S: AsRef<str>>(format: Format, paragraphs: &[S]) -> Self {
        let mut story = Self::new(format);
        story.set_body_from_paragraphs(paragraphs);
        story
    }

    /// Replaces `body` with `paragraphs` joined by `"\n\n"` and records their spans.
    /// Empty paragraphs are skipped.
    pub fn set_body_from_paragraphs<S: AsRef<str>>(&mut self, paragraphs: &[S]) {
        self.body.clear();
        self.paragraphs.clear();
        for p in paragraphs
            .iter()
            .map(AsRef::as_ref)
            .filter(|p| !p.is_empty())
        {
            if !self.body.is_empty() {
                self.body.push_str("\n\n");
            }
            let start = self.body.len();
            self.body.push_str(p);
            self.paragraphs.push(ByteSpan {
                start,
                end: self.body.len(),
            });
        }
    }
}

/// After the parse stage.
#[derive(Debug, Clone)]
pub struct Stage1 {
    /// The parsed story.
    pub story: Story,
}

/// After the quotes stage.
#[derive(Debug, Clone)]
pub struct Stage2 {
    /// The parsed story.
    pub story: Story,
    /// Quotes with byte offsets (into `body`, or the field a quote names).
    pub quotes: Vec<Quote>,
    /// Warnings of the quote stage.
    pub warnings: Vec<String>,
}

/// After the entities stage.
#[derive(Debug, Clone)]
pub struct Stage3 {
    /// The parsed story.
    pub story: Story,
    /// Quotes, speakers linked to entities where possible.
    pub quotes: Vec<Quote>,
    /// Entities with byte-offset mentions.
    pub entities: Vec<Entity>,
    /// Warnings of the quote and entity stages.
    pub warnings: Vec<String>,
}

/// The text of `field` among a story's or record's fields (they share these fields), so
/// every place that resolves a span's field agrees on what each `Field` names.
pub(crate) fn field_text<'a>(
    body: &'a str,
    headline: Option<&'a str>,
    media: &'a [Media],
    byline: &'a Byline,
    field: Option<Field>,
    media_index: Option<usize>,
) -> Option<&'a str> {
    match field {
        None => Some(body),
        Some(Field::Headline) => headline,
        Some(Field::Caption) => media.get(media_index?)?.caption.as_deref(),
        Some(Field::Credit) => media.get(media_index?)?.credit.as_deref(),
        Some(Field::Agency) => byline.agency.as_deref(),
    }
}
