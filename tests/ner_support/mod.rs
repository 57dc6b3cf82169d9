//! Shared scoring of the entity accuracy tests (`ner_ood`, `shared_ner`): gold mentions
//! read from a CoNLL-style JSON line, and exact span + label precision, recall and F1,
//! micro-averaged over all mentions as `shared/data/score.py --task ner` counts them (a
//! mention predicted twice counts once).
//!
//! Must not: read `../shared` or run the model (each test gets its predictions its own way).

#![allow(dead_code)] // each test binary uses a different part of the harness

use std::collections::HashSet;
use std::fmt;

/// A mention: code point start and end, and label (`PER`, `ORG`, `LOC`, `MISC`).
pub(crate) type Span = (usize, usize, String);

/// The gold mentions of one document line (`{"entities": [{"start","end","label"}]}`).
/// Panics on a malformed line, naming what is wrong.
pub(crate) fn gold_spans(doc: &serde_json::Value) -> HashSet<Span> {
    doc["entities"]
        .as_array()
        .expect("entities is an array")
        .iter()
        .map(|e| {
            let offset = |k: &str| {
                let n = e[k].as_u64().unwrap_or_else(|| panic!("{k} is an offset"));
                usize::try_from(n).expect("offset fits usize")
            };
            let label = e["label"].as_str().expect("label is a string").to_owned();
            (offset("start"), offset("end"), label)
        })
        .collect()
}

/// Exact span + label counts over a set of documents.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Score {
    /// Predicted mentions that are gold mentions.
    pub(crate) true_positives: usize,
    /// Predicted mentions.
    pub(crate) predicted: usize,
    /// Gold mentions.
    pub(crate) gold: usize,
}

impl Score {
    /// Adds one document's predicted and gold mentions.
    pub(crate) fn add(&mut self, predicted: &HashSet<Span>, gold: &HashSet<Span>) {
        self.true_positives += predicted.intersection(gold).count();
        self.predicted += predicted.len();
        self.gold += gold.len();
    }

    /// True positives over predictions (0 without predictions).
    pub(crate) fn precision(&self) -> f64 {
        ratio(self.true_positives, self.predicted)
    }

    /// True positives over gold mentions (0 without gold mentions).
    pub(crate) fn recall(&self) -> f64 {
        ratio(self.true_positives, self.gold)
    }

    /// The harmonic mean of precision and recall (0 when both are 0).
    pub(crate) fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

fn ratio(n: usize, d: usize) -> f64 {
    if d == 0 {
        0.0
    } else {
        n as f64 / d as f64
    }
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "P {:.4} R {:.4} F1 {:.4} ({} of {} predicted, {} gold)",
            self.precision(),
            self.recall(),
            self.f1(),
            self.true_positives,
            self.predicted,
            self.gold
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_count_exact_span_and_label() {
        let span = |s: usize, e: usize, l: &str| (s, e, l.to_owned());
        let gold: HashSet<Span> = [span(0, 4, "PER"), span(9, 14, "LOC")].into();
        let predicted: HashSet<Span> = [span(0, 4, "PER"), span(9, 14, "ORG")].into();
        let mut score = Score::default();
        score.add(&predicted, &gold);
        assert_eq!(
            (score.true_positives, score.predicted, score.gold),
            (1, 2, 2)
        );
        assert!((score.f1() - 0.5).abs() < 1e-12);
        assert_eq!(Score::default().f1(), 0.0);
        let line = serde_json::json!({"entities": [{"start": 0, "end": 4, "label": "PER"}]});
        assert_eq!(gold_spans(&line), [span(0, 4, "PER")].into());
    }
}
