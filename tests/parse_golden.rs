//! Golden tests of the parse stage: every fixture in `tests/fixtures/parse/` has a
//! hand-checked `<case>.parse.json` listing the fields the parser must produce; plus
//! property tests (arbitrary bytes, mutated fixtures) that the parser never panics.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::Value;
use wire_enricher::enrich::parse::parse;
use wire_enricher::enrich::story::Story;
use wire_enricher::enrich::{EnrichOptions, RawStory};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parse")
}

/// The story fixtures, where an expectation without an input of its own here finds it
/// (the same file is not kept twice).
fn story_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stories")
}

/// The input `<stem>.<ext>` (not an expectation) among `entries`.
fn input_for<'a>(entries: &'a [PathBuf], stem: &str) -> Option<&'a PathBuf> {
    entries.iter().find(|p| {
        let n = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        n.starts_with(&format!("{stem}."))
            && !n.ends_with(".parse.json")
            && !n.ends_with(".expected.json")
    })
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("fixtures folder")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    entries
}

/// Every (input, expectation) pair.
fn cases() -> Vec<(PathBuf, PathBuf)> {
    let entries = sorted_entries(&fixtures());
    let stories = sorted_entries(&story_fixtures());
    let mut out = Vec::new();
    for exp in entries
        .iter()
        .filter(|p| p.to_string_lossy().ends_with(".parse.json"))
    {
        let name = exp.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let stem = name.trim_end_matches(".parse.json");
        let input = input_for(&entries, stem)
            .or_else(|| input_for(&stories, stem))
            .unwrap_or_else(|| panic!("no input file for {name}"));
        out.push((input.clone(), exp.clone()));
    }
    out
}

fn run(bytes: &[u8]) -> Result<Story, wire_enricher::enrich::ParseError> {
    let raw = RawStory {
        bytes,
        message_id: None,
        content_type: None,
        reference_date: None,
    };
    parse(&raw, &EnrichOptions::default())
}

/// The story's fields as JSON, for comparison with an expectation.
fn fields(s: &Story) -> Value {
    serde_json::json!({
        "id": s.id, "format": s.format.as_str(), "language": s.language, "headline": s.headline,
        "section": s.section, "published": s.published, "byline": s.byline, "dateline": s.dateline,
        "media": s.media,
    })
}

fn check(input: &Path, exp_path: &Path) -> Vec<String> {
    let bytes = std::fs::read(input).expect("input");
    let exp: Value =
        serde_json::from_slice(&std::fs::read(exp_path).expect("expectation")).expect("json");
    let name = input
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_owned();
    let story = match run(&bytes) {
        Ok(s) => s,
        Err(e) => return vec![format!("{name}: parse error {e}")],
    };
    let got = fields(&story);
    let mut errors = Vec::new();
    let Value::Object(exp) = exp else {
        return vec![format!("{name}: expectation is not an object")];
    };
    for (key, want) in &exp {
        let paragraphs: Vec<&str> = story
            .paragraphs
            .iter()
            .map(|p| &story.body[p.start..p.end])
            .collect();
        let ok = match key.as_str() {
            "paragraph_count" => want.as_u64() == Some(paragraphs.len() as u64),
            "first_paragraph_starts_with" => paragraphs
                .first()
                .is_some_and(|p| p.starts_with(want.as_str().unwrap_or("\u{0}"))),
            "last_paragraph_ends_with" => paragraphs
                .last()
                .is_some_and(|p| p.ends_with(want.as_str().unwrap_or("\u{0}"))),
            "not_in_body" => {
                let bad: Vec<&str> = want
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .filter(|s| story.body.contains(s))
                    .collect();
                if !bad.is_empty() {
                    errors.push(format!("{name}: furniture in body: {bad:?}"));
                }
                true
            }
            other => got.get(other) == Some(want),
        };
        if !ok {
            let actual = match key.as_str() {
                "paragraph_count" => Value::from(paragraphs.len()),
                "first_paragraph_starts_with" => {
                    Value::from(paragraphs.first().copied().unwrap_or(""))
                }
                "last_paragraph_ends_with" => Value::from(paragraphs.last().copied().unwrap_or("")),
                other => got.get(other).cloned().unwrap_or(Value::Null),
            };
            errors.push(format!("{name}: {key}: want {want}, got {actual}"));
        }
    }
    for p in &story.paragraphs {
        if story.body.get(p.start..p.end).is_none() {
            errors.push(format!("{name}: paragraph span {p:?} is not in body"));
        }
    }
    errors
}

#[test]
fn fixtures_match_their_hand_checked_fields() {
    let cases = cases();
    assert!(
        cases.len() >= 20,
        "expected at least 20 fixtures, found {}",
        cases.len()
    );
    let errors: Vec<String> = cases.iter().flat_map(|(i, e)| check(i, e)).collect();
    assert!(
        errors.is_empty(),
        "{} mismatches:\n{}",
        errors.len(),
        errors.join("\n")
    );
}

#[test]
fn every_format_is_covered() {
    let mut formats = std::collections::BTreeSet::new();
    for (input, _) in cases() {
        let story = run(&std::fs::read(&input).expect("input")).expect("parses");
        formats.insert(story.format.as_str());
    }
    let want = ["html", "json", "newsml", "ninjs", "text", "wire"];
    assert_eq!(formats.into_iter().collect::<Vec<_>>(), want);
}

#[test]
fn envelope_bodies_are_byte_identical() {
    for (input, _) in cases() {
        let bytes = std::fs::read(&input).expect("input");
        let story = run(&bytes).expect("parses");
        if story.format.as_str() != "json" {
            continue;
        }
        let v: Value = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(
            Some(story.body.as_str()),
            v["body"].as_str(),
            "{}",
            input.display()
        );
    }
}

#[test]
fn bad_inputs_have_typed_errors() {
    let kind = |b: &[u8]| run(b).expect_err("should fail").kind();
    assert_eq!(kind(br#"{"id": "a", "body": "Trunc"#), "malformed_json");
    assert_eq!(kind(br#"{"id": "a", "title": "no body"}"#), "not_a_story");
    assert_eq!(kind(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "binary");
    assert_eq!(kind(b"caf\xc3"), "invalid_utf8");
    assert_eq!(
        kind(b"<?xml version=\"1.0\"?><newsItem guid=\"x\"><contentSet>"),
        "malformed_xml"
    );
    assert_eq!(kind(b"   \n\n  "), "empty");
}

/// Fixture bytes, for mutation.
fn fixture_bytes() -> Vec<Vec<u8>> {
    cases()
        .into_iter()
        .map(|(i, _)| std::fs::read(i).expect("input"))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = run(&bytes);
    }

    #[test]
    fn never_panics_on_mutated_fixtures(
        which in 0usize..64,
        cut in 0.0f64..1.0,
        edits in proptest::collection::vec((0.0f64..1.0, any::<u8>()), 0..8),
    ) {
        let all = fixture_bytes();
        let mut bytes = all[which % all.len()].clone();
        for (at, b) in edits {
            let i = ((bytes.len() as f64) * at) as usize;
            if i < bytes.len() {
                bytes[i] = b;
            }
        }
        bytes.truncate(((bytes.len() as f64) * cut) as usize + 1);
        if let Ok(story) = run(&bytes) {
            for p in &story.paragraphs {
                prop_assert!(story.body.get(p.start..p.end).is_some());
            }
        }
    }
}

#[test]
fn time_is_linear_in_input_size() {
    // A pathological page: deeply nested markup and many short lines.
    let unit = "<div><p>Some words, and more words here.</p>".repeat(200) + &"</div>".repeat(200);
    let small = unit.repeat(2);
    let large = unit.repeat(16);
    let time = |s: &str| {
        let start = std::time::Instant::now();
        let _ = run(s.as_bytes());
        start.elapsed().as_secs_f64()
    };
    let _ = time(&small);
    let t_small = time(&small).max(1e-4);
    let t_large = time(&large);
    assert!(
        t_large < t_small * 8.0 * 4.0,
        "8x input took {:.1}x time",
        t_large / t_small
    );
}
