//! Mention clustering: groups the tagger's mentions of one real entity into one entry.
//!
//! Must not: panic on any input, or compare more than each mention against each entity.

use crate::enrich::record::{Entity, EntityType, Field, Mention, Quote};
use crate::enrich::story::Story;

use super::gazetteer::Gazetteer;

/// One tagged span before clustering (byte offsets into its field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// The field (`None` = body).
    pub field: Option<Field>,
    /// With `field: caption`: which media entry.
    pub media_index: Option<usize>,
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// The tagged type.
    pub kind: EntityType,
}

/// Groups mentions into entities.
pub fn cluster(story: &Story, found: &[Found], _gaz: &Gazetteer) -> Vec<Entity> {
    let mut out: Vec<Entity> = Vec::new();
    for f in found {
        let Some(text) =
            field_text(story, f.field, f.media_index).and_then(|t| t.get(f.start..f.end))
        else {
            continue;
        };
        let mention = Mention {
            start: f.start,
            end: f.end,
            text: text.to_owned(),
            field: f.field,
            media_index: f.media_index,
        };
        if let Some(e) = out.iter_mut().find(|e| e.name == text && e.kind == f.kind) {
            e.mentions.push(mention);
        } else {
            out.push(Entity {
                id: format!("e{}", out.len() + 1),
                name: text.to_owned(),
                kind: f.kind,
                mentions: vec![mention],
                titles: Vec::new(),
                salience: 0.0,
            });
        }
    }
    out
}

/// The text of a field.
pub(crate) fn field_text(
    story: &Story,
    field: Option<Field>,
    media_index: Option<usize>,
) -> Option<&str> {
    match field {
        None => Some(&story.body),
        Some(Field::Headline) => story.headline.as_deref(),
        Some(Field::Caption) => story.media.get(media_index?)?.caption.as_deref(),
    }
}

/// Links quote speakers to entities.
pub fn link_speakers(_story: &Story, _entities: &[Entity], _quotes: &mut [Quote]) {}
