//! Throughput of the entity stage: tokenising, tagging, and the whole stage (tagging,
//! clustering, titles, salience) over news stories, in tokens per second.
//!
//! Reads up to 300 stories from `$WIRE_ENRICHER_SHARED/corpus/articles.jsonl` (else
//! `../shared/corpus/articles.jsonl`); without the corpus it uses a built-in story so the
//! bench still runs.
//!
//! `tag` and `stage` are timed in CPU time of the benchmarking thread, not wall time, so
//! their throughput is tokens per CPU-second (one core) and holds on a shared machine where
//! other jobs take turns on the cores.

// criterion's macros generate undocumented functions.
#![allow(missing_docs)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wire_enricher::enrich::entities::{self, tokenize::tokenize, Model};
use wire_enricher::enrich::record::Format;
use wire_enricher::enrich::story::Story;

#[path = "support/cpu.rs"]
mod cpu;
use cpu::thread_cpu_time;

/// A story written for this bench (no third-party text).
const FALLBACK: &[&str] = &[
    "GENEVA – Foreign ministers from France and Germany met U.N. envoy Maria Lopez on Tuesday \
     to discuss the ceasefire, the French Foreign Ministry said in a statement.",
    "\"We are not there yet,\" ministry spokesman Jean-Paul Dubois told reporters after the \
     two-hour meeting at the Palais des Nations, adding that talks with Moscow's delegation \
     would resume in Vienna next week.",
    "Lopez, a former Chilean diplomat, has led the United Nations mission since 2019. German \
     Chancellor Olaf Weber said Berlin backed the plan, while the European Union pledged \
     $1.2 billion in aid through the World Food Programme.",
];

fn corpus() -> Vec<Story> {
    let root = std::env::var_os("WIRE_ENRICHER_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared")));
    let stories: Vec<Story> = std::fs::read_to_string(root.join("corpus/articles.jsonl"))
        .map(|text| {
            text.lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .filter_map(|v| v.get("body")?.as_str().map(str::to_owned))
                .take(300)
                .map(|body| {
                    let paragraphs: Vec<&str> = body.split("\n\n").collect();
                    Story::from_paragraphs(Format::Json, &paragraphs)
                })
                .collect()
        })
        .unwrap_or_default();
    if stories.is_empty() {
        vec![Story::from_paragraphs(Format::Json, FALLBACK)]
    } else {
        stories
    }
}

/// Runs `routine` `iters` times and returns the thread CPU time it took.
fn cpu_time_of(iters: u64, mut routine: impl FnMut()) -> Duration {
    let start = thread_cpu_time();
    for _ in 0..iters {
        routine();
    }
    thread_cpu_time().saturating_sub(start)
}

fn bench(c: &mut Criterion) {
    let stories = corpus();
    let model = Model::embedded();
    let tokens: usize = stories.iter().map(|s| tokenize(&s.body).tokens.len()).sum();
    let mut group = c.benchmark_group("entities");
    group.throughput(Throughput::Elements(tokens as u64));
    group.sample_size(20);
    group.bench_function("tokenize", |b| {
        b.iter(|| {
            for s in &stories {
                black_box(tokenize(black_box(&s.body)));
            }
        })
    });
    group.bench_function("tag", |b| {
        b.iter_custom(|iters| {
            cpu_time_of(iters, || {
                for s in &stories {
                    black_box(model.tag(black_box(&s.body)));
                }
            })
        })
    });
    group.bench_function("stage", |b| {
        b.iter_custom(|iters| {
            cpu_time_of(iters, || {
                for s in &stories {
                    black_box(entities::extract(black_box(s), &mut [], &model));
                }
            })
        })
    });
    group.finish();
    c.bench_function("entities/model_load", |b| {
        b.iter(|| black_box(Model::embedded()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
