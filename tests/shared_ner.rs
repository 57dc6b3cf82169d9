//! Entity accuracy on the CoNLL-2003 development set (`../shared/data/ner/dev.jsonl`).
//!
//! Needs the shared data: run with `--features shared-data`, and `WIRE_ENRICHER_SHARED`
//! pointing at it when it is not at `../shared`. Fails (never skips) when it is missing.
#![cfg(feature = "shared-data")]

mod ner_support;

use std::collections::HashSet;
use std::path::PathBuf;

use ner_support::{gold_spans, Score, Span};

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
    let mut score = Score::default();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let doc: serde_json::Value = serde_json::from_str(line).expect("dev line is JSON");
        let mut story = Story::new(Format::Json);
        story.body = doc["text"].as_str().expect("text").to_owned();
        let mut predicted: HashSet<Span> = HashSet::new();
        for e in extract(&story, &mut [], &model) {
            for m in e.mentions.iter().filter(|m| m.field.is_none()) {
                let s = cp(&story.body, m.start);
                let t = cp(&story.body, m.end);
                predicted.insert((s, t, e.kind.as_str().to_owned()));
            }
        }
        score.add(&predicted, &gold_spans(&doc));
    }
    eprintln!("dev: {score}");
    assert!(
        score.gold > 5000,
        "dev set looks truncated: {} entities",
        score.gold
    );
    let f1 = score.f1();
    assert!(f1 >= 0.925, "dev F1 {f1:.4} fell below 0.925");
}
