//! Entity stage: people, organisations, places and other names, one entry per real entity.
//!
//! The headline, captions and body are tokenised ([`tokenize`]), featurised ([`features`],
//! with [`gazetteer`] hits), tagged by an averaged-perceptron sequence model with Viterbi
//! decoding ([`tagger`], trained by [`learn`] via `wire-enricher train-ner`), and the
//! mentions are clustered into entities with canonical names, titles and salience
//! ([`cluster`]); quote speakers are then linked to entities.
//!
//! The model and the compiled gazetteer are embedded in the binary (`data/`); another
//! model file can be loaded with [`Model::load`].
//!
//! Must not: panic on any text, or take more than linear time.

pub mod cluster;
pub mod features;
pub mod gazetteer;
mod hash;
pub mod learn;
pub mod tagger;
pub mod tokenize;

use std::sync::OnceLock;

use crate::enrich::record::{Entity, EntityType, Field, Quote};
use crate::enrich::story::Story;

pub use gazetteer::Gazetteer;
pub use tagger::ModelError;

/// The compiled gazetteer (see `data/README.md` for provenance).
static GAZETTEER_BYTES: &[u8] = include_bytes!("data/gazetteer.bin");
/// The trained model (see `data/README.md`).
static MODEL_BYTES: &[u8] = include_bytes!("data/model.bin");

static GAZETTEER: OnceLock<Gazetteer> = OnceLock::new();

/// The gazetteer compiled into the binary (loaded once).
pub fn embedded_gazetteer() -> &'static Gazetteer {
    GAZETTEER.get_or_init(|| Gazetteer::load(GAZETTEER_BYTES).unwrap_or_default())
}

/// A loaded entity model.
#[derive(Debug)]
pub struct Model {
    weights: tagger::Weights,
    gazetteer: &'static Gazetteer,
}

impl Model {
    /// The model compiled into the binary. Falls back to an empty model (no entities)
    /// only if the embedded bytes were corrupted at build time.
    pub fn embedded() -> Self {
        Self::load(MODEL_BYTES).unwrap_or_else(|_| Self::empty())
    }

    /// A model that tags nothing (what you get without a trained model).
    pub fn empty() -> Self {
        let trans = [[0.0; tagger::LABELS]; tagger::LABELS + 1];
        let gazetteer = embedded_gazetteer();
        Self {
            weights: tagger::Weights::quantise(
                "none",
                gazetteer.checksum(),
                Vec::new(),
                &[],
                trans,
            ),
            gazetteer,
        }
    }

    /// Loads a model file written by `wire-enricher train-ner`.
    ///
    /// # Errors
    /// [`ModelError`] when the bytes are not a model file or the model was trained with a
    /// different gazetteer than the one compiled into this binary.
    pub fn load(bytes: &[u8]) -> Result<Self, ModelError> {
        let weights = tagger::Weights::from_bytes(bytes)?;
        let gazetteer = embedded_gazetteer();
        if weights.gazetteer != gazetteer.checksum() {
            return Err(ModelError::Gazetteer {
                expected: weights.gazetteer,
                found: gazetteer.checksum(),
            });
        }
        Ok(Self { weights, gazetteer })
    }

    /// The model's name and version.
    pub fn name(&self) -> &str {
        &self.weights.name
    }

    /// Number of weighted features.
    pub fn features(&self) -> usize {
        self.weights.len()
    }

    /// Tags one text: entity spans `(byte start, byte end, type)`.
    pub fn tag(&self, text: &str) -> Vec<(usize, usize, EntityType)> {
        let tok = tokenize::tokenize(text);
        let mut feats = features::Features::default();
        features::extract(text, &tok, self.gazetteer, &mut feats);
        let labels = self.weights.tag(&feats, &tok.sentences);
        learn::spans(&labels)
            .into_iter()
            .filter_map(|(a, b, l)| {
                let start = tok.tokens.get(a)?.start;
                let end = tok.tokens.get(b.checked_sub(1)?)?.end;
                Some((start, end, type_of(l)))
            })
            .collect()
    }
}

/// The entity type of a `B-` label.
fn type_of(label: u8) -> EntityType {
    match tagger::class_of(label) {
        0 => EntityType::Per,
        1 => EntityType::Org,
        2 => EntityType::Loc,
        _ => EntityType::Misc,
    }
}

/// Finds the story's entities and links quote speakers to them.
pub fn extract(story: &Story, quotes: &mut [Quote], model: &Model) -> Vec<Entity> {
    let mut found = Vec::new();
    for (start, end, kind) in model.tag(&story.body) {
        found.push(cluster::Found {
            field: None,
            media_index: None,
            start,
            end,
            kind,
        });
    }
    if let Some(h) = story.headline.as_deref() {
        for (start, end, kind) in model.tag(h) {
            found.push(cluster::Found {
                field: Some(Field::Headline),
                media_index: None,
                start,
                end,
                kind,
            });
        }
    }
    for (i, m) in story.media.iter().enumerate() {
        let Some(c) = m.caption.as_deref() else {
            continue;
        };
        for (start, end, kind) in model.tag(c) {
            found.push(cluster::Found {
                field: Some(Field::Caption),
                media_index: Some(i),
                start,
                end,
                kind,
            });
        }
    }
    let entities = cluster::cluster(story, &found, model.gazetteer);
    cluster::link_speakers(story, &entities, quotes);
    entities
}
