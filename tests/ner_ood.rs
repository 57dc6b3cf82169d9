//! Entity accuracy on the out-of-domain check set `tests/fixtures/ner-ood/stories.jsonl`
//! (14 hand-labelled Wikinews and Global Voices articles, see its README). Needs no
//! shared data.
//!
//! The stories go through the whole core, the same path as `wire-enricher eval ner`.
//! Scoring is exact span and label, micro-averaged over all mentions, as
//! `shared/data/score.py --task ner` does. The embedded model measured 77.06 F1 when
//! the set was made. The floor sits a few points under that. On 277 mentions, one
//! mention moves F1 by about 0.36.

use std::collections::HashSet;

use wire_enricher::enrich::entities::Model;
use wire_enricher::enrich::{EnrichOptions, Enricher};
use wire_enricher::eval::enrich_envelope;

const STORIES: &str = include_str!("fixtures/ner-ood/stories.jsonl");
const GOLD_MENTIONS: usize = 277;
const F1_FLOOR: f64 = 0.74;

type Span = (usize, usize, String);

fn gold_spans(doc: &serde_json::Value) -> HashSet<Span> {
    doc["entities"]
        .as_array()
        .expect("entities is an array")
        .iter()
        .map(|e| {
            let offset = |k: &str| e[k].as_u64().expect("offset") as usize;
            let label = e["label"].as_str().expect("label").to_owned();
            (offset("start"), offset("end"), label)
        })
        .collect()
}

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
    let (mut tp, mut pred, mut gold) = (0usize, 0usize, 0usize);
    for line in STORIES.lines().filter(|l| !l.trim().is_empty()) {
        let doc: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        let id = doc["id"].as_str().expect("id");
        let text = doc["text"].as_str().expect("text");
        let gold_set = gold_spans(&doc);
        let pred_set = predicted_spans(&enricher, id, text);
        tp += pred_set.intersection(&gold_set).count();
        pred += pred_set.len();
        gold += gold_set.len();
    }
    let p = tp as f64 / pred.max(1) as f64;
    let r = tp as f64 / gold.max(1) as f64;
    let f1 = 2.0 * p * r / (p + r).max(1e-9);
    eprintln!("ner-ood: P {p:.4} R {r:.4} F1 {f1:.4} ({tp} of {pred} predicted, {gold} gold)");
    assert_eq!(
        gold, GOLD_MENTIONS,
        "the check set changed; update the README and the floor"
    );
    assert!(
        f1 >= F1_FLOOR,
        "out-of-domain F1 {f1:.4} fell below {F1_FLOOR}"
    );
}
