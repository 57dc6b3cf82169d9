//! Throughput of the quote stage (`enrich::quotes::extract`) in bytes of story text per
//! second, on one core. Uses synthetic wire copy; set `QUOTES_BENCH_JSONL` to a JSONL file
//! with a `text` field per line (e.g. PolNeAR train) to measure on real stories too.
// criterion's macros generate undocumented public functions.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wire_enricher::enrich::quotes::extract;
use wire_enricher::enrich::record::Format;
use wire_enricher::enrich::story::Story;

/// Paragraphs in the shapes news uses: attributions before, after and around quotes,
/// pronouns, role nouns, partial and scare quotes, and plain reporting.
const PARAGRAPHS: &[&str] = &[
    "WASHINGTON – The United States and Russia have not reached a ceasefire deal for Syria, the State Department said on Wednesday, saying it could not confirm the announcement.",
    "\"We're not there yet,\" State Department spokesman Mark Toner told a briefing after Secretary of State John Kerry and Foreign Minister Sergei Lavrov spoke by phone for 45 minutes.",
    "“We have not been able to reach a clear understanding on a way forward,” Toner said, adding: “I can't say there is a big hope for success, we're just continuing to work at it.”",
    "Kerry has long expressed frustration with the lack of progress and faced criticism for trying to make a deal with Russia, an ally of President Bashar al-Assad, whom President Barack Obama has said “must go”.",
    "Speaking in Hangzhou, Obama said the talks had been complicated by “gaps of trust” between Washington and Moscow, which back opposite sides in the war.",
    "Russian and American experts have worked since July on details to halt the violence in areas where moderate opposition groups and government forces have been battling.",
    "“It is going well so far,” Police Commissioner Richard Ross said. “Police are out there doing their jobs and even getting accolades from some of the protesters.”",
    "“The so-called ‘peace dividend’ never came,” he added. The spokesman said the “roadmap” was still on the table, according to the ministry.",
];

fn synthetic(kb: usize) -> Story {
    let mut paras = Vec::new();
    let mut size = 0;
    while size < kb * 1024 {
        for p in PARAGRAPHS {
            paras.push(*p);
            size += p.len() + 2;
        }
    }
    Story::from_paragraphs(Format::Text, &paras)
}

fn real_stories() -> Vec<Story> {
    let Some(path) = std::env::var_os("QUOTES_BENCH_JSONL") else {
        return Vec::new();
    };
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v.get("text").and_then(|t| t.as_str()).map(str::to_owned))
        .map(|t| {
            let paras: Vec<&str> = t.split("\n\n").collect();
            Story::from_paragraphs(Format::Text, &paras)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("quotes");
    let story = synthetic(64);
    group.throughput(Throughput::Bytes(story.body.len() as u64));
    group.bench_function("synthetic_64k", |b| {
        b.iter(|| extract(std::hint::black_box(&story)))
    });
    let stories = real_stories();
    if !stories.is_empty() {
        let bytes: usize = stories.iter().map(|s| s.body.len()).sum();
        group.throughput(Throughput::Bytes(bytes as u64));
        group.sample_size(10);
        group.bench_function("jsonl_corpus", |b| {
            b.iter(|| {
                for s in &stories {
                    std::hint::black_box(extract(s));
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
