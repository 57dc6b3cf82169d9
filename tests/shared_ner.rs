//! Entity accuracy on the CoNLL-2003 development set (`../shared/data/ner/dev.jsonl`).
//!
//! Needs the shared data: run with `--features shared-data`, and `WIRE_ENRICHER_SHARED`
//! pointing at it when it is not at `../shared`. Fails (never skips) when it is missing.
#![cfg(feature = "shared-data")]

use std::collections::HashSet;
use std::path::PathBuf;

use wire_enricher::enrich::entities::{extract, Model};
use wire_enricher::enrich::record::Format;
use wire_enricher::enrich::story::Story;

fn shared() -> PathBuf {
    let dir = std::env::var_os("WIRE_ENRICHER_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared")));
    assert!(
        dir.join("data/ner/dev.jsonl").is_file(),
        "shared data not found at {} (set WIRE_ENRICHER_SHARED)",
        dir.display()
    );
    dir
}

fn cp(text: &str, byte: usize) -> usize {
    text.get(..byte).map_or(0, |s| s.chars().count())
}

#[test]
fn dev_f1_beats_the_floor() {
    let path = shared().join("data/ner/dev.jsonl");
    let text = std::fs::read_to_string(&path).expect("read dev.jsonl");
    let model = Model::embedded();
    let (mut tp, mut pred, mut gold) = (0usize, 0usize, 0usize);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let doc: serde_json::Value = serde_json::from_str(line).expect("dev line is JSON");
        let body = doc["text"].as_str().expect("text").to_owned();
        let gold_set: HashSet<(u64, u64, String)> = doc["entities"]
            .as_array()
            .expect("entities")
            .iter()
            .map(|e| {
                (
                    e["start"].as_u64().unwrap_or(0),
                    e["end"].as_u64().unwrap_or(0),
                    e["label"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        let mut story = Story::new(Format::Json);
        story.body = body;
        let mut pred_set = HashSet::new();
        for e in extract(&story, &mut [], &model) {
            for m in e.mentions.iter().filter(|m| m.field.is_none()) {
                let s = cp(&story.body, m.start) as u64;
                let t = cp(&story.body, m.end) as u64;
                pred_set.insert((s, t, e.kind.as_str().to_owned()));
            }
        }
        tp += pred_set.intersection(&gold_set).count();
        pred += pred_set.len();
        gold += gold_set.len();
    }
    let p = tp as f64 / pred.max(1) as f64;
    let r = tp as f64 / gold.max(1) as f64;
    let f1 = 2.0 * p * r / (p + r).max(1e-9);
    eprintln!("dev: P {p:.4} R {r:.4} F1 {f1:.4} ({tp} of {pred} predicted, {gold} gold)");
    assert!(gold > 5000, "dev set looks truncated: {gold} entities");
    assert!(f1 >= 0.925, "dev F1 {f1:.4} fell below 0.925");
}
