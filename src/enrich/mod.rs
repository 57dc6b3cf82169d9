//! Pure enrichment core: one raw wire story in, an enriched record out.
//!
//! `enrich()` = [`parse`], then [`quotes`], then [`entities`], then the conversion to the
//! published [`record::EnrichedRecord`]. The pipeline runs the same three steps as separate
//! stages (see `crate::pipeline`), through [`Enricher::parse`], [`Enricher::quotes`],
//! [`Enricher::entities`] and [`Enricher::finish`], so offline `enrich` and the daemon
//! produce the very same record.
//!
//! Must not: do I/O, read the clock or the environment, use async, or know NATS exists.
//! Callers pass in everything (bytes, source metadata, the receive time).
//!
//! Offsets: inside the core every span is a **byte** offset into the Rust string it names;
//! [`Enricher::finish`] converts all of them to Unicode code point offsets, which is what
//! the record contract promises.

pub mod entities;
pub mod parse;
pub mod quotes;
pub mod record;
pub mod story;

use record::{EnrichedRecord, SourceInfo};
use story::{Stage1, Stage2, Story};

pub use parse::ParseError;

/// Knobs of the core that come from configuration.
#[derive(Debug, Clone)]
pub struct EnrichOptions {
    /// Stories larger than this (in bytes) are rejected with [`ParseError::TooLarge`].
    pub max_story_bytes: usize,
}

impl Default for EnrichOptions {
    fn default() -> Self {
        Self {
            max_story_bytes: 1024 * 1024,
        }
    }
}

/// One raw input story with what the transport knows about it.
#[derive(Debug, Clone, Copy)]
pub struct RawStory<'a> {
    /// The payload exactly as received.
    pub bytes: &'a [u8],
    /// The input message's `Nats-Msg-Id` header (or a file name offline), used as the
    /// record id when the payload has no id of its own.
    pub message_id: Option<&'a str>,
    /// A `Content-Type` header or configured hint; format detection still checks content.
    pub content_type: Option<&'a str>,
    /// When the story was filed or received (the daemon: the JetStream message's store
    /// time; offline: `--reference-date`). It only anchors the year of a dateline written
    /// without one (`LONDON, Sept 8 (Reuters) -`) when the story writes no dated mention
    /// of its own; nothing else reads it.
    pub reference_date: Option<jiff::civil::Date>,
}

/// The loaded enrichment core: the entity model plus options. Cheap to share (`Arc`) across
/// threads; every method takes `&self`.
#[derive(Debug)]
pub struct Enricher {
    options: EnrichOptions,
    model: entities::Model,
}

impl Enricher {
    /// Builds an enricher around an already loaded entity model.
    pub fn new(options: EnrichOptions, model: entities::Model) -> Self {
        Self { options, model }
    }

    /// Builds an enricher with the entity model embedded in the binary.
    pub fn with_embedded_model(options: EnrichOptions) -> Self {
        Self::new(options, entities::Model::embedded())
    }

    /// The options this enricher was built with.
    pub fn options(&self) -> &EnrichOptions {
        &self.options
    }

    /// The entity model's name and version, as written into `enricher.model`.
    pub fn model_name(&self) -> &str {
        self.model.name()
    }

    /// Stage 1: raw bytes to a clean [`Story`].
    ///
    /// # Errors
    /// A [`ParseError`] whose [`ParseError::kind`] is the dead-letter reason.
    pub fn parse(&self, raw: &RawStory<'_>) -> Result<Stage1, ParseError> {
        let story = parse::parse(raw, &self.options)?;
        Ok(Stage1 { story })
    }

    /// Stage 2: quotations with their (provisional) speakers.
    pub fn quotes(&self, stage: Stage1) -> Stage2 {
        let extracted = quotes::extract(&stage.story);
        Stage2 {
            story: stage.story,
            quotes: extracted.quotes,
            warnings: extracted.warnings,
        }
    }

    /// Stage 3: entities, and the link from each quote's speaker to its entity.
    pub fn entities(&self, mut stage: Stage2) -> story::Stage3 {
        let entities = entities::extract(&stage.story, &mut stage.quotes, &self.model);
        story::Stage3 {
            story: stage.story,
            quotes: stage.quotes,
            entities,
            warnings: stage.warnings,
        }
    }

    /// Builds the published record: ids, source info, and byte -> code point offsets.
    pub fn finish(&self, stage: story::Stage3, id: String, source: SourceInfo) -> EnrichedRecord {
        record::build(stage, id, source, self.model.name())
    }

    /// The whole core in one call: what offline `enrich` runs, and what the pipeline's
    /// stages run one step at a time.
    ///
    /// # Errors
    /// A [`ParseError`] when the story cannot be parsed (the dead-letter reason).
    pub fn enrich(
        &self,
        raw: &RawStory<'_>,
        source: SourceInfo,
    ) -> Result<EnrichedRecord, ParseError> {
        let stage1 = self.parse(raw)?;
        let id = story_id(&stage1.story, raw);
        let stage3 = self.entities(self.quotes(stage1));
        Ok(self.finish(stage3, id, source))
    }
}

/// The record id: the payload's own id, else the message id, else a hash of the raw bytes.
pub fn story_id(story: &Story, raw: &RawStory<'_>) -> String {
    if let Some(id) = story.id.as_deref().filter(|s| !s.trim().is_empty()) {
        return id.to_owned();
    }
    if let Some(id) = raw.message_id.filter(|s| !s.trim().is_empty()) {
        return id.to_owned();
    }
    content_hash_id(raw.bytes)
}

/// `sha256:` + the first 32 hex digits of the SHA-256 of the raw bytes: stable across
/// redeliveries and replays of the same payload.
pub fn content_hash_id(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    use std::fmt::Write;
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(7 + 32);
    out.push_str("sha256:");
    for b in &digest[..16] {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Test support shared by the core's unit tests.
#[cfg(test)]
pub(crate) mod test_support {
    use super::{parse, EnrichOptions, RawStory};
    use crate::enrich::story::Story;

    /// The seed story (`tests/fixtures/stories/syria-deal.txt`) as the parse stage gives
    /// it, so stage tests start from what the pipeline really hands them.
    ///
    /// # Panics
    /// If the committed seed fixture stops parsing: that is a test failure.
    pub(crate) fn seed_story() -> Story {
        const SEED: &str = include_str!("../../tests/fixtures/stories/syria-deal.txt");
        let raw = RawStory {
            bytes: SEED.as_bytes(),
            message_id: None,
            content_type: None,
            reference_date: None,
        };
        parse::parse(&raw, &EnrichOptions::default()).expect("the seed fixture parses")
    }
}
