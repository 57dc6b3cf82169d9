//! Parse-stage throughput on the golden fixtures (every format), one story per iteration.
#![allow(missing_docs)] // criterion's macros generate undocumented functions

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wire_enricher::enrich::parse::parse;
use wire_enricher::enrich::{EnrichOptions, RawStory};

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/parse");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    let n = p.to_string_lossy();
                    !n.ends_with(".parse.json") && !n.ends_with("ATTRIBUTION")
                })
                .filter_map(|p| {
                    Some((
                        p.file_name()?.to_string_lossy().into_owned(),
                        std::fs::read(&p).ok()?,
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn bench_parse(c: &mut Criterion) {
    let options = EnrichOptions::default();
    let all = fixtures();
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(all.len() as u64));
    group.bench_function("all_fixtures", |b| {
        b.iter(|| {
            for (_, bytes) in &all {
                let raw = RawStory {
                    bytes,
                    message_id: None,
                    content_type: None,
                };
                let _ = std::hint::black_box(parse(&raw, &options));
            }
        });
    });
    group.finish();
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
