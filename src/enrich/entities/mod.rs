//! Entity stage: people, organisations, places and other names, one entry per real entity.
//!
//! SKELETON: the entities helper replaces this with the tokeniser, the trained tagger,
//! gazetteers and mention clustering.
//!
//! Must not: panic on any text, or take more than linear time.

use crate::enrich::record::{Entity, Quote};
use crate::enrich::story::Story;

/// A loaded entity model.
#[derive(Debug)]
pub struct Model {
    name: String,
}

impl Model {
    /// The model compiled into the binary.
    pub fn embedded() -> Self {
        Self {
            name: "none".to_owned(),
        }
    }

    /// The model's name and version.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Finds the story's entities and links quote speakers to them.
pub fn extract(_story: &Story, _quotes: &mut [Quote], _model: &Model) -> Vec<Entity> {
    Vec::new()
}
