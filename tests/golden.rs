//! Golden records: every story in `tests/fixtures/stories/` must enrich to exactly its
//! `<case>.expected.json` (ignoring `enricher.version`), and every record must keep the
//! span invariant `field[start:end] == text` (code points).
//!
//! `UPDATE_GOLDEN=1 cargo test --test golden` rewrites the expected files; review the
//! diff like an API change, since the record is the published contract.

mod golden_support;

use golden_support::{cases, enricher, json_diff, read_expected, run, span_problems};

/// At most this many differences are printed per case; the rest are counted.
const MAX_DIFFS_SHOWN: usize = 40;

fn updating() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| !v.is_empty() && v != "0")
}

#[test]
fn golden_records_match_expected_files() {
    let cases = cases();
    assert!(
        !cases.is_empty(),
        "no golden cases in {}",
        golden_support::stories_dir().display()
    );
    let enricher = enricher();
    let mut failures = Vec::new();
    for case in &cases {
        let result = run(case, &enricher);
        if updating() {
            std::fs::write(&case.expected, golden_support::to_pretty(&result))
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", case.expected.display()));
            continue;
        }
        let mut expected = match read_expected(case) {
            Ok(value) => value,
            Err(message) => {
                failures.push(format!("case {}: {message}", case.name));
                continue;
            }
        };
        let mut actual = golden_support::to_json(&result);
        golden_support::strip_ignored(&mut expected);
        golden_support::strip_ignored(&mut actual);
        let diffs = json_diff(&expected, &actual);
        if !diffs.is_empty() {
            let shown: Vec<&str> = diffs
                .iter()
                .take(MAX_DIFFS_SHOWN)
                .map(String::as_str)
                .collect();
            let more = diffs.len().saturating_sub(MAX_DIFFS_SHOWN);
            failures.push(format!(
                "case {} ({}): {} difference(s){}\n  {}",
                case.name,
                case.expected.display(),
                diffs.len(),
                if more > 0 {
                    format!(", first {MAX_DIFFS_SHOWN} shown")
                } else {
                    String::new()
                },
                shown.join("\n  ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "golden mismatch (expected file vs actual record):\n\n{}\n\n\
         If the change is intended, run `UPDATE_GOLDEN=1 cargo test --test golden` and review \
         the diff of tests/fixtures/stories/*.expected.json.",
        failures.join("\n\n")
    );
}

#[test]
fn every_golden_record_keeps_the_span_invariant() {
    let enricher = enricher();
    let mut failures = Vec::new();
    for case in cases() {
        if let Ok(record) = run(&case, &enricher) {
            let problems = span_problems(&record);
            if !problems.is_empty() {
                failures.push(format!("case {}:\n  {}", case.name, problems.join("\n  ")));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "span invariant broken:\n{}",
        failures.join("\n")
    );
}

#[test]
fn the_diff_names_the_paths_that_differ() {
    // The harness itself: a diff that fails silently would let any record pass.
    let expected = serde_json::json!({"a": [1, {"b": "x"}], "c": 1, "gone": true});
    let actual = serde_json::json!({"a": [1, {"b": "y"}, 3], "c": 1, "new": null});
    let diffs = json_diff(&expected, &actual);
    assert_eq!(
        diffs,
        [
            "/a/1/b: expected \"x\", actual \"y\"",
            "/a/2: not expected, actual 3",
            "/gone: expected true, actual is missing",
            "/new: not expected, actual null",
        ]
    );
    assert!(json_diff(&expected, &expected).is_empty());
}

#[test]
fn the_span_check_catches_shifted_spans() {
    // The harness itself, on a hand-made record: "é" makes byte and code point offsets differ.
    let record: wire_enricher::enrich::record::EnrichedRecord = serde_json::from_value(serde_json::json!({
        "schema_version": 1, "id": "x",
        "source": {"subject": "-", "stream": null, "stream_sequence": null, "format": "text",
                   "received_at": golden_support::RECEIVED_AT},
        "language": null, "headline": "Toner speaks", "section": null, "published": null,
        "byline": {"authors": [], "agency": null}, "dateline": null,
        "media": [{"caption": "Mark Toner in Genève", "credit": null}],
        "body": "Café: Mark Toner said.\n\n\"Yes,\" he said.",
        "paragraphs": [{"start": 0, "end": 22}, {"start": 24, "end": 39}],
        "quotes": [{"text": "Yes,", "start": 25, "end": 29, "kind": "direct", "speaker": "Mark Toner",
                    "speaker_mention": {"start": 31, "end": 33, "text": "he"},
                    "speaker_entity": "e1", "cue": "said"}],
        "entities": [{"id": "e1", "name": "Mark Toner", "type": "PER", "titles": [], "salience": 1.0,
                      "mentions": [{"start": 6, "end": 16, "text": "Mark Toner"},
                                   {"start": 0, "end": 5, "text": "Toner", "field": "headline"},
                                   {"start": 0, "end": 10, "text": "Mark Toner", "field": "caption", "media_index": 0}]}],
        "warnings": [], "enricher": {"version": "0", "model": "none"}
    }))
    .expect("a valid hand-made record");
    assert_eq!(span_problems(&record), Vec::<String>::new());

    let mut shifted = record.clone();
    shifted.entities[0].mentions[0].start += 1;
    shifted.entities[0].mentions[2].media_index = Some(1);
    shifted.quotes[0].end += 1;
    shifted.paragraphs[1].start += 1;
    let problems = span_problems(&shifted);
    for path in [
        "/entities/0/mentions/0",
        "/entities/0/mentions/2",
        "/quotes/0",
        "/paragraphs/1",
    ] {
        assert!(
            problems.iter().any(|p| p.starts_with(path)),
            "{path} not reported: {problems:#?}"
        );
    }
}

/// The 200 raw feed items of the shared corpus (four formats), through the offline path:
/// every story ends as a record or a reported failure, ids are unique, and every record
/// keeps the span invariant.
#[cfg(feature = "shared-data")]
#[test]
fn shared_corpus_raw_items_enrich_with_intact_spans() {
    use wire_enricher::offline::read_inputs;

    let raw = golden_support::shared_dir().join("corpus/raw");
    let inputs = read_inputs(&[raw]).expect("the raw corpus is readable");
    assert_eq!(
        inputs.len(),
        200,
        "manifest.jsonl must be skipped, every item read"
    );
    let started = std::time::Instant::now();
    let (summary, records) = golden_support::enrich_offline(&inputs, &enricher());
    eprintln!(
        "{} stories: {} records, {} failed in {:.2?}",
        summary.stories,
        summary.records,
        summary.failed,
        started.elapsed()
    );
    assert_eq!(summary.records + summary.failed, inputs.len());
    assert_eq!(records.len(), summary.records);

    let mut ids = std::collections::HashSet::new();
    let mut failures = Vec::new();
    for record in &records {
        if !ids.insert(record.id.clone()) {
            failures.push(format!(
                "{}: duplicate id {}",
                record.source.subject, record.id
            ));
        }
        for problem in span_problems(record) {
            failures.push(format!("{}: {problem}", record.source.subject));
        }
    }
    assert!(
        failures.is_empty(),
        "corpus records broke invariants:\n{}",
        failures.join("\n")
    );
}

#[test]
fn offline_enrich_reads_exactly_the_golden_inputs() {
    // `wire-enricher enrich tests/fixtures/stories` must see the same stories as this
    // harness (no expected files, no README), and print the same records.
    let dir = golden_support::stories_dir();
    let inputs = wire_enricher::offline::read_inputs(&[dir]).expect("fixtures are readable");
    let read: Vec<String> = inputs.iter().map(|s| s.name.clone()).collect();
    let inputs_of_cases: Vec<String> = cases()
        .iter()
        .map(|c| c.input.to_string_lossy().into_owned())
        .collect();
    assert_eq!(read, inputs_of_cases);

    let enricher = enricher();
    let (_, printed) = golden_support::enrich_offline(&inputs, &enricher);
    let harness: Vec<_> = cases()
        .iter()
        .filter_map(|c| run(c, &enricher).ok())
        .collect();
    let strip = |r: &wire_enricher::enrich::record::EnrichedRecord| {
        // Offline names a story by its path and stamps the current time; the harness
        // uses the file name and a fixed time. Everything else must agree.
        let mut r = r.clone();
        r.source.subject.clear();
        r.source.received_at.clear();
        r
    };
    assert_eq!(
        printed.iter().map(strip).collect::<Vec<_>>(),
        harness.iter().map(strip).collect::<Vec<_>>()
    );
}
