//! The enriched record: the published JSON contract (`../shared/RECORD.md`, v1).
//!
//! These are the only types serialised onto the bus. Fields may be added; none may be
//! renamed, removed or change meaning without bumping [`SCHEMA_VERSION`]. The JSON Schema
//! shipped in the repository is generated from these types (`wire-enricher schema`).
//!
//! Inside the core the span fields (`start`, `end`) hold byte offsets; [`build`] converts
//! every one of them to Unicode code point offsets, which is what the contract promises.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::enrich::story::{ByteSpan, Stage3};

/// The record's `schema_version`.
pub const SCHEMA_VERSION: u32 = 1;

/// The worker's version, written into `enricher.version`.
pub const ENRICHER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// One enriched story.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrichedRecord {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Stable story id; also the output message's `Nats-Msg-Id`.
    pub id: String,
    /// Where the story came from.
    pub source: SourceInfo,
    /// ISO 639-1 code when detected.
    pub language: Option<String>,
    /// The story's title, once.
    pub headline: Option<String>,
    /// Section or category.
    pub section: Option<String>,
    /// Publication time, RFC 3339; no offset when the story gave none.
    pub published: Option<String>,
    /// Authors and agency.
    pub byline: Byline,
    /// The dateline as written in the story.
    pub dateline: Option<Dateline>,
    /// Photo captions and credits.
    pub media: Vec<Media>,
    /// Clean story text, paragraphs joined by `"\n\n"`.
    pub body: String,
    /// Paragraph spans in `body` (code points).
    pub paragraphs: Vec<Span>,
    /// Quotations with speakers.
    pub quotes: Vec<Quote>,
    /// Entities, one per real-world entity.
    pub entities: Vec<Entity>,
    /// What the worker noticed but could live with.
    pub warnings: Vec<String>,
    /// Which worker and model produced this record.
    pub enricher: EnricherInfo,
}

impl EnrichedRecord {
    /// The text a span with this `field` (and `media_index`) points into, in which its
    /// code point offsets count: `body` for `None`; `None` when the record has no such field.
    pub fn field_text(&self, field: Option<Field>, media_index: Option<usize>) -> Option<&str> {
        crate::enrich::story::field_text(
            &self.body,
            self.headline.as_deref(),
            &self.media,
            &self.byline,
            field,
            media_index,
        )
    }
}

/// `source`: transport facts about the input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceInfo {
    /// Input subject (offline: the file path, or `-` for stdin).
    pub subject: String,
    /// JetStream stream name, or null (core NATS, offline).
    pub stream: Option<String>,
    /// JetStream stream sequence, or null.
    pub stream_sequence: Option<u64>,
    /// Detected input format.
    pub format: Format,
    /// When the worker received the story (RFC 3339, UTC).
    pub received_at: String,
}

/// The raw format a story arrived in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Flattened web page text.
    Text,
    /// Agency wire copy.
    Wire,
    /// An HTML page.
    Html,
    /// IPTC ninjs JSON.
    Ninjs,
    /// IPTC NewsML-G2 XML.
    Newsml,
    /// The plain JSON envelope.
    Json,
}

impl Format {
    /// The name used in the record and in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Wire => "wire",
            Format::Html => "html",
            Format::Ninjs => "ninjs",
            Format::Newsml => "newsml",
            Format::Json => "json",
        }
    }
}

/// `byline`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Byline {
    /// Person names.
    pub authors: Vec<String>,
    /// The agency (`Reuters`), if any.
    pub agency: Option<String>,
}

/// `dateline`, as written in the story.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dateline {
    /// The place (`WASHINGTON`).
    pub location: Option<String>,
    /// The date as written (`Sept 8`), if any.
    pub date: Option<String>,
    /// The agency in the dateline (`Reuters`), if any.
    pub agency: Option<String>,
}

/// One photo caption.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Media {
    /// The caption text without its credit.
    pub caption: Option<String>,
    /// The credit (`Jacquelyn Martin/AP`).
    pub credit: Option<String>,
}

/// A `{start, end}` span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Span {
    /// First offset.
    pub start: usize,
    /// One past the last offset.
    pub end: usize,
}

/// Which text field a span points into when it is not `body`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    /// `headline`.
    Headline,
    /// `media[media_index].caption`.
    Caption,
    /// `media[media_index].credit` (a photographer or agency named in a photo credit).
    Credit,
    /// `byline.agency`.
    Agency,
}

/// Whether a quotation is a whole sentence or a phrase inside reported speech.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum QuoteKind {
    /// A sentence or more in quotation marks.
    Direct,
    /// A phrase quoted inside reported speech (`has said "must go"`).
    Partial,
}

/// A span of text with the text itself: a mention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Mention {
    /// First offset into the field (default `body`).
    pub start: usize,
    /// One past the last offset.
    pub end: usize,
    /// `field[start:end]`.
    pub text: String,
    /// The field, when not `body`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<Field>,
    /// With `field: caption` or `credit`: which entry of `media`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_index: Option<usize>,
}

/// One quotation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Quote {
    /// The quoted words, without the marks.
    pub text: String,
    /// Span of `text` in `body` (or in `field`).
    pub start: usize,
    /// End of the span.
    pub end: usize,
    /// Direct or partial.
    pub kind: QuoteKind,
    /// Canonical speaker name.
    pub speaker: Option<String>,
    /// The attributing mention (`Toner`, `he`, `the spokesman`), in `body`.
    pub speaker_mention: Option<Mention>,
    /// `id` of the speaker's entry in `entities`.
    pub speaker_entity: Option<String>,
    /// The attribution verb or phrase.
    pub cue: Option<String>,
    /// The field, when the quote is not in `body` (a headline quote).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<Field>,
}

/// Entity class (CoNLL-2003).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum EntityType {
    /// Person.
    #[serde(rename = "PER")]
    Per,
    /// Organisation.
    #[serde(rename = "ORG")]
    Org,
    /// Location.
    #[serde(rename = "LOC")]
    Loc,
    /// Nationalities, events, works and the like.
    #[serde(rename = "MISC")]
    Misc,
}

impl EntityType {
    /// `PER`, `ORG`, `LOC` or `MISC`.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityType::Per => "PER",
            EntityType::Org => "ORG",
            EntityType::Loc => "LOC",
            EntityType::Misc => "MISC",
        }
    }
}

/// One real-world entity with all its mentions in the story.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Entity {
    /// `e1`, `e2`, ... unique within the record.
    pub id: String,
    /// Canonical name: the fullest form used in the story.
    pub name: String,
    /// Entity class.
    #[serde(rename = "type")]
    pub kind: EntityType,
    /// Every mention.
    pub mentions: Vec<Mention>,
    /// Roles the story gives the entity.
    pub titles: Vec<String>,
    /// 0..1, how central the entity is to the story.
    pub salience: f64,
}

/// `enricher`: which worker and model made the record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnricherInfo {
    /// The worker's version.
    pub version: String,
    /// Name and version of the entity model.
    pub model: String,
}

/// Assembles the record from the last stage's output, converting every span from byte
/// offsets to code point offsets.
/// `source.format` is always set from the parsed story, whatever the caller passed.
pub fn build(stage: Stage3, id: String, mut source: SourceInfo, model: &str) -> EnrichedRecord {
    let story = stage.story;
    source.format = story.format;
    let body_index = CharIndex::new(&story.body);
    let headline_index = story.headline.as_deref().map(CharIndex::new);
    let caption_index: Vec<Option<CharIndex>> = story
        .media
        .iter()
        .map(|m| m.caption.as_deref().map(CharIndex::new))
        .collect();
    let credit_index: Vec<Option<CharIndex>> = story
        .media
        .iter()
        .map(|m| m.credit.as_deref().map(CharIndex::new))
        .collect();
    let agency_index = story.byline.agency.as_deref().map(CharIndex::new);
    let index_for = |field: Option<Field>, media_index: Option<usize>| -> Option<&CharIndex> {
        match field {
            None => Some(&body_index),
            Some(Field::Headline) => headline_index.as_ref(),
            Some(Field::Caption) => caption_index.get(media_index?)?.as_ref(),
            Some(Field::Credit) => credit_index.get(media_index?)?.as_ref(),
            Some(Field::Agency) => agency_index.as_ref(),
        }
    };

    let paragraphs = story
        .paragraphs
        .iter()
        .map(|p: &ByteSpan| Span {
            start: body_index.chars(p.start),
            end: body_index.chars(p.end),
        })
        .collect();

    let quotes = stage
        .quotes
        .into_iter()
        .map(|mut q| {
            if let Some(ix) = index_for(q.field, None) {
                q.start = ix.chars(q.start);
                q.end = ix.chars(q.end);
            }
            if let Some(m) = q.speaker_mention.as_mut() {
                if let Some(ix) = index_for(m.field, m.media_index) {
                    convert_mention(m, ix);
                }
            }
            q
        })
        .collect();

    let entities = stage
        .entities
        .into_iter()
        .map(|mut e| {
            for m in &mut e.mentions {
                if let Some(ix) = index_for(m.field, m.media_index) {
                    convert_mention(m, ix);
                }
            }
            e
        })
        .collect();

    let mut warnings = story.warnings;
    warnings.extend(stage.warnings);

    EnrichedRecord {
        schema_version: SCHEMA_VERSION,
        id,
        source,
        language: story.language,
        headline: story.headline,
        section: story.section,
        published: story.published,
        byline: story.byline,
        dateline: story.dateline,
        media: story.media,
        body: story.body,
        paragraphs,
        quotes,
        entities,
        warnings,
        enricher: EnricherInfo {
            version: ENRICHER_VERSION.to_owned(),
            model: model.to_owned(),
        },
    }
}

fn convert_mention(m: &mut Mention, ix: &CharIndex) {
    m.start = ix.chars(m.start);
    m.end = ix.chars(m.end);
}

/// Byte offset -> code point offset for one string, in O(log n) per lookup.
/// ASCII-only strings (the common case) take the identity fast path.
struct CharIndex {
    /// Byte offsets of every non-ASCII char start, in order; empty for ASCII text.
    non_ascii: Vec<(usize, usize)>,
}

impl CharIndex {
    fn new(s: &str) -> Self {
        let mut non_ascii = Vec::new();
        if !s.is_ascii() {
            // (byte offset just past a multi-byte char, extra bytes so far)
            let mut extra = 0;
            for (b, c) in s.char_indices() {
                let len = c.len_utf8();
                if len > 1 {
                    extra += len - 1;
                    non_ascii.push((b + len, extra));
                }
            }
        }
        Self { non_ascii }
    }

    /// The code point offset of byte offset `byte` (which must be a char boundary).
    fn chars(&self, byte: usize) -> usize {
        let i = self.non_ascii.partition_point(|&(end, _)| end <= byte);
        let extra = if i == 0 { 0 } else { self.non_ascii[i - 1].1 };
        byte - extra
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn char_index_matches_char_count() {
        let s = "a – “quoted” éé x";
        let ix = CharIndex::new(s);
        for (b, _) in s.char_indices().chain(std::iter::once((s.len(), ' '))) {
            assert_eq!(ix.chars(b), s[..b].chars().count(), "byte {b}");
        }
    }
}
