//! Entity accuracy on the out-of-domain check set `tests/fixtures/ner-ood/stories.jsonl`
//! (14 hand-labelled Wikinews and Global Voices articles, see its README). Needs no
//! shared data.
//!
//! The stories go through the whole core, the same path as `wire-enricher eval ner`.
//! Scoring is exact span and label, micro-averaged over all mentions, as
//! `shared/data/score.py --task ner` does. The embedded model measured 77.06 F1 when
//! the set was made. The floor sits a few points under that. On 277 mentions, one
//! mention moves F1 by about 0.36.

mod ner_support;

use std::collections::HashSet;

use ner_support::{gold_spans, Score, Span};
use wire_enricher::enrich::entities::Model;
use wire_enricher::enrich::{EnrichOptions, Enricher};
use wire_enricher::eval::enrich_envelope;

const STORIES: &str = include_str!("fixtures/ner-ood/stories.jsonl");
const GOLD_MENTIONS: usize = 277;
const F1_FLOOR: f64 = 0.74;

fn predicted_spans(enricher: &Enricher, id: &str, text: &str) -> HashSet<Span> {
    let record = enrich_envelope(enricher, id, text).expect("the core takes the story");
    let mut spans = HashSet::new();
    for entity in record.entities {
        for m in entity.mentions.iter().filter(|m| m.field.is_none()) {
            spans.insert((m.start, m.end, entity.kind.as_str().to_owned()));
        }
    }
    spans
}

#[test]
fn out_of_domain_f1_stays_above_the_floor() {
    let enricher = Enricher::new(EnrichOptions::default(), Model::embedded());
    let mut score = Score::default();
    for line in STORIES.lines().filter(|l| !l.trim().is_empty()) {
        let doc: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        let id = doc["id"].as_str().expect("id");
        let text = doc["text"].as_str().expect("text");
        score.add(&predicted_spans(&enricher, id, text), &gold_spans(&doc));
    }
    eprintln!("ner-ood: {score}");
    assert_eq!(
        score.gold, GOLD_MENTIONS,
        "the check set changed; update the README and the floor"
    );
    let f1 = score.f1();
    assert!(
        f1 >= F1_FLOOR,
        "out-of-domain F1 {f1:.4} fell below {F1_FLOOR}"
    );
}
