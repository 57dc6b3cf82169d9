//! Parse-stage throughput: the golden fixtures (every format), and — when the shared data is
//! there (`$WIRE_ENRICHER_SHARED`, else `../shared`) — the 54 real news pages of
//! `data/parse/pages/` (read at run time, never copied into the repository).
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

/// The real pages, when the shared data folder is present.
fn real_pages() -> Vec<Vec<u8>> {
    let shared = std::env::var_os("WIRE_ENRICHER_SHARED")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../shared").into());
    let Ok(rd) = std::fs::read_dir(shared.join("data/parse/pages")) else {
        return Vec::new();
    };
    let mut paths: Vec<_> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| std::fs::read(p).ok())
        .collect()
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
                    reference_date: None,
                };
                let _ = std::hint::black_box(parse(&raw, &options));
            }
        });
    });
    let pages = real_pages();
    if !pages.is_empty() {
        let options = EnrichOptions {
            max_story_bytes: 16 * 1024 * 1024,
        };
        group.throughput(Throughput::Elements(pages.len() as u64));
        group.bench_function("real_html_pages", |b| {
            b.iter(|| {
                for bytes in &pages {
                    let raw = RawStory {
                        bytes,
                        message_id: None,
                        content_type: None,
                        reference_date: None,
                    };
                    let _ = std::hint::black_box(parse(&raw, &options));
                }
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
