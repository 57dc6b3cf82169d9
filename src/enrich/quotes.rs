//! Quote stage: every quotation in a story, attributed to its speaker.
//!
//! SKELETON: the quotes helper replaces this.
//!
//! Must not: panic on any text, or take more than linear time; every span it returns
//! satisfies `body[start..end] == text` (byte offsets here).

use crate::enrich::record::Quote;
use crate::enrich::story::Story;

/// What the quote stage found.
#[derive(Debug, Clone, Default)]
pub struct Extracted {
    /// Quotes in `body` order (headline quotes first).
    pub quotes: Vec<Quote>,
    /// Things noticed, e.g. `unbalanced quotation mark at 1234`.
    pub warnings: Vec<String>,
}

/// Extracts the quotations of a story.
pub fn extract(_story: &Story) -> Extracted {
    Extracted::default()
}
