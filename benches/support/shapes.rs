//! How the benches send the story mix so that every message makes its own record.
//!
//! A record's id is the story's own id when the payload has one (ninjs items, JSON
//! envelopes), else the message's `Nats-Msg-Id`. Sent again and again, a story with its
//! own id would collapse into one record in the output stream's de-duplication, so such
//! stories are sent as a JSON envelope of their parsed headline and body under the bench's
//! unique id instead; every other story is sent as it is.

#![allow(dead_code)]

use bytes::Bytes;
use wire_enricher::enrich::{story_id, Enricher, RawStory};

use crate::mix;

/// How one mix story is sent so that its record id is the bench's unique id.
pub(crate) enum Shape {
    /// The raw bytes with `Nats-Msg-Id` = the id: the record id is the message id because
    /// the payload has none of its own (or it does not parse and becomes a dead letter,
    /// which carries the message id as `Wire-Enricher-Original-Id`).
    Raw(Bytes),
    /// The payload carries an id of its own (ninjs, envelopes), which would repeat across
    /// copies and collapse in the output's de-duplication, so the parsed story is sent as
    /// a JSON envelope with the unique id.
    Envelope {
        body: String,
        headline: Option<String>,
    },
}

/// The mix, shaped for sending, and how many stories took each shape.
pub(crate) struct Plan {
    shapes: Vec<Shape>,
    /// The mix and how many stories took each shape, for the run's header line.
    pub(crate) description: String,
}

impl Plan {
    pub(crate) fn new(enricher: &Enricher, mix: &mix::Mix) -> Self {
        const PROBE: &str = "bench-probe-id";
        let (mut raw, mut enveloped, mut failing) = (0, 0, 0);
        let shapes = mix
            .stories
            .iter()
            .map(|story| {
                let probe = RawStory {
                    bytes: &story.bytes,
                    message_id: Some(PROBE),
                    content_type: None,
                    reference_date: None,
                };
                match enricher.parse(&probe) {
                    Ok(stage) if story_id(&stage.story, &probe) != PROBE => {
                        enveloped += 1;
                        Shape::Envelope {
                            body: stage.story.body.clone(),
                            headline: stage.story.headline.clone(),
                        }
                    }
                    Ok(_) => {
                        raw += 1;
                        Shape::Raw(Bytes::from(story.bytes.clone()))
                    }
                    Err(_) => {
                        failing += 1;
                        Shape::Raw(Bytes::from(story.bytes.clone()))
                    }
                }
            })
            .collect();
        let description = format!(
            "{}; sent as: {raw} raw, {enveloped} re-wrapped as JSON envelopes (own ids), \
             {failing} that do not parse (dead letters)",
            mix.description
        );
        Self {
            shapes,
            description,
        }
    }

    /// `count` messages `(id, payload)` cycling through the mix, ids `{prefix}-{i}`.
    pub(crate) fn messages(&self, prefix: &str, count: usize) -> Vec<(String, Bytes)> {
        (0..count).map(|i| self.message(prefix, i)).collect()
    }

    /// The `i`-th message of the cycle through the mix, id `{prefix}-{i}`.
    pub(crate) fn message(&self, prefix: &str, i: usize) -> (String, Bytes) {
        let id = format!("{prefix}-{i}");
        let payload = match &self.shapes[i % self.shapes.len()] {
            Shape::Raw(bytes) => bytes.clone(),
            Shape::Envelope { body, headline } => {
                let envelope = serde_json::json!({
                    "id": id, "headline": headline, "body": body,
                });
                Bytes::from(envelope.to_string())
            }
        };
        (id, payload)
    }
}
