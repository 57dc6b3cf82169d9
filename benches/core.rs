//! Core throughput: parse, quotes, entities, finish (record + JSON) and the whole `enrich`
//! over the fixed story mix (`support/mix.rs`), single-threaded, so every figure is per
//! core. Criterion reports stories/s per stage; a closing summary table adds MB/s of raw
//! input per core for each stage.
//!
//! Run: `cargo bench --bench core` (add `-- --quick` for a short run).
//!
//! Must not: touch the network or the clock inside the measured code, assert on timings,
//! or measure the loading of the model (that is done once, outside every measurement).

#[path = "support/mix.rs"]
mod mix;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput};
use wire_enricher::enrich::record::SourceInfo;
use wire_enricher::enrich::story::{Stage1, Stage2, Stage3};
use wire_enricher::enrich::{story_id, EnrichOptions, Enricher, RawStory};

/// The allocator the `wire-enricher` binary uses (src/main.rs), so the figures here are
/// the shipped binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The mix prepared once: raw stories plus each stage's input, for the stories that parse.
struct Prepared {
    raws: Vec<Vec<u8>>,
    names: Vec<String>,
    stage1: Vec<(Stage1, String)>,
    stage2: Vec<(Stage2, String)>,
    stage3: Vec<(Stage3, String)>,
    raw_bytes: u64,
    parsed_bytes: u64,
}

fn raw_story<'a>(bytes: &'a [u8], name: &'a str) -> RawStory<'a> {
    RawStory {
        bytes,
        message_id: Some(name),
        content_type: None,
        reference_date: None,
    }
}

fn source_info(stage: &Stage3) -> SourceInfo {
    SourceInfo {
        subject: "bench".to_owned(),
        stream: None,
        stream_sequence: None,
        format: stage.story.format,
        received_at: "2026-01-01T00:00:00Z".to_owned(),
    }
}

fn prepare(enricher: &Enricher, mix: &mix::Mix) -> Prepared {
    let raws: Vec<Vec<u8>> = mix.stories.iter().map(|s| s.bytes.clone()).collect();
    let names: Vec<String> = mix.stories.iter().map(|s| s.name.clone()).collect();
    let mut stage1 = Vec::new();
    let mut parsed_bytes = 0u64;
    for (bytes, name) in raws.iter().zip(&names) {
        let raw = raw_story(bytes, name);
        match enricher.parse(&raw) {
            Ok(stage) => {
                parsed_bytes += bytes.len() as u64;
                let id = story_id(&stage.story, &raw);
                stage1.push((stage, id));
            }
            Err(error) => {
                eprintln!("core bench: {name} does not parse ({error}); only parse sees it")
            }
        }
    }
    let stage2: Vec<(Stage2, String)> = stage1
        .iter()
        .map(|(s, id)| (enricher.quotes(s.clone()), id.clone()))
        .collect();
    let stage3: Vec<(Stage3, String)> = stage2
        .iter()
        .map(|(s, id)| (enricher.entities(s.clone()), id.clone()))
        .collect();
    Prepared {
        raw_bytes: raws.iter().map(|r| r.len() as u64).sum(),
        raws,
        names,
        stage1,
        stage2,
        stage3,
        parsed_bytes,
    }
}

fn parse_all(enricher: &Enricher, p: &Prepared) -> usize {
    p.raws
        .iter()
        .zip(&p.names)
        .filter(|(bytes, name)| enricher.parse(&raw_story(bytes, name)).is_ok())
        .count()
}

fn quotes_all(enricher: &Enricher, input: Vec<(Stage1, String)>) -> usize {
    input
        .into_iter()
        .map(|(s, _)| enricher.quotes(s).quotes.len())
        .sum()
}

fn entities_all(enricher: &Enricher, input: Vec<(Stage2, String)>) -> usize {
    input
        .into_iter()
        .map(|(s, _)| enricher.entities(s).entities.len())
        .sum()
}

fn finish_all(enricher: &Enricher, input: Vec<(Stage3, String)>) -> usize {
    input
        .into_iter()
        .map(|(s, id)| {
            let source = source_info(&s);
            let record = enricher.finish(s, id, source);
            serde_json::to_vec(&record).map_or(0, |json| json.len())
        })
        .sum()
}

/// What the daemon does per story: enrich, then serialise the record.
fn enrich_all(enricher: &Enricher, p: &Prepared) -> usize {
    p.raws
        .iter()
        .zip(&p.names)
        .filter_map(|(bytes, name)| {
            let raw = raw_story(bytes, name);
            let source = SourceInfo {
                subject: "bench".to_owned(),
                stream: None,
                stream_sequence: None,
                format: wire_enricher::enrich::record::Format::Text,
                received_at: "2026-01-01T00:00:00Z".to_owned(),
            };
            let record = enricher.enrich(&raw, source).ok()?;
            serde_json::to_vec(&record).ok().map(|j| j.len())
        })
        .sum()
}

fn benches(c: &mut Criterion) {
    let mix = mix::load().unwrap_or_else(|e| panic!("core bench: {e}"));
    println!("core bench mix: {}", mix.description);
    let enricher = Enricher::with_embedded_model(EnrichOptions::default());
    let p = prepare(&enricher, &mix);
    let all = p.raws.len() as u64;
    let parsed = p.stage1.len() as u64;
    println!(
        "core bench: {parsed} of {all} stories parse ({:.2} MB of {:.2} MB); model {}",
        p.parsed_bytes as f64 / 1e6,
        p.raw_bytes as f64 / 1e6,
        enricher.model_name()
    );

    let mut group = c.benchmark_group("core");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(all));
    group.bench_function("parse", |b| b.iter(|| black_box(parse_all(&enricher, &p))));
    group.throughput(Throughput::Elements(parsed));
    group.bench_function("quotes", |b| {
        b.iter_batched(
            || p.stage1.clone(),
            |input| black_box(quotes_all(&enricher, input)),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("entities", |b| {
        b.iter_batched(
            || p.stage2.clone(),
            |input| black_box(entities_all(&enricher, input)),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("finish_json", |b| {
        b.iter_batched(
            || p.stage3.clone(),
            |input| black_box(finish_all(&enricher, input)),
            BatchSize::LargeInput,
        )
    });
    group.throughput(Throughput::Elements(all));
    group.bench_function("enrich", |b| {
        b.iter(|| black_box(enrich_all(&enricher, &p)))
    });
    group.finish();

    // `cargo test --benches` runs each bench once as a smoke test (no `--bench` flag):
    // the timed summary is only for real bench runs.
    if std::env::args().any(|a| a == "--bench") {
        summary(&enricher, &p);
    }
}

/// Best of `PASSES` timed runs of `run`, each on a fresh input from `setup` (not timed).
fn best_of<T>(setup: impl Fn() -> T, run: impl Fn(T) -> usize) -> Duration {
    (0..PASSES)
        .map(|_| {
            let input = setup();
            let started = Instant::now();
            black_box(run(input));
            started.elapsed()
        })
        .min()
        .unwrap_or_default()
}

const PASSES: usize = 5;

/// Best of a few timed passes per stage, printed as stories/s and MB/s per core.
fn summary(enricher: &Enricher, p: &Prepared) {
    let rows = [
        (
            "parse",
            best_of(|| (), |()| parse_all(enricher, p)),
            p.raws.len(),
            p.raw_bytes,
        ),
        (
            "quotes",
            best_of(|| p.stage1.clone(), |i| quotes_all(enricher, i)),
            p.stage1.len(),
            p.parsed_bytes,
        ),
        (
            "entities",
            best_of(|| p.stage2.clone(), |i| entities_all(enricher, i)),
            p.stage2.len(),
            p.parsed_bytes,
        ),
        (
            "finish+json",
            best_of(|| p.stage3.clone(), |i| finish_all(enricher, i)),
            p.stage3.len(),
            p.parsed_bytes,
        ),
        (
            "enrich (all)",
            best_of(|| (), |()| enrich_all(enricher, p)),
            p.raws.len(),
            p.raw_bytes,
        ),
    ];
    println!();
    println!("core summary: one thread, best of {PASSES} passes over the mix");
    println!(
        "{:<14} {:>8} {:>12} {:>10} {:>12}",
        "stage", "stories", "stories/s", "MB/s", "us/story"
    );
    for (name, elapsed, stories, bytes) in rows {
        let secs = elapsed.as_secs_f64().max(1e-9);
        println!(
            "{:<14} {:>8} {:>12.0} {:>10.2} {:>12.1}",
            name,
            stories,
            stories as f64 / secs,
            bytes as f64 / 1e6 / secs,
            secs * 1e6 / (stories.max(1) as f64),
        );
    }
}

/// Runs the benches with criterion's command-line configuration (`-- --quick`, filters).
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    benches(&mut criterion);
    criterion.final_summary();
}
