//! Shared harness for the golden-record tests (`golden`, `schema`, `seed_gold`): finds the
//! cases in `tests/fixtures/stories/`, runs them through `offline::record_for` with a fixed
//! receive time, and checks record invariants.
//!
//! Must not: read `../shared`, or depend on the machine's clock or locale.

#![allow(dead_code)] // each test binary uses a different part of the harness

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use wire_enricher::enrich::record::{EnrichedRecord, Field};
use wire_enricher::enrich::{EnrichOptions, Enricher};
use wire_enricher::offline::{record_for, InputStory};

/// The fixed `source.received_at` of every golden record, so records are reproducible.
pub(crate) const RECEIVED_AT: &str = "2016-09-08T12:00:00Z";

/// One golden case: `<case>.<ext>` and its `<case>.expected.json`.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    /// `<case>`.
    pub(crate) name: String,
    /// The input file.
    pub(crate) input: PathBuf,
    /// The expected record file (may not exist yet).
    pub(crate) expected: PathBuf,
}

/// `tests/fixtures/stories/`.
pub(crate) fn stories_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stories")
}

/// Every case, sorted by name. Panics (with a clear message) on two inputs sharing one
/// case name, since they would share one expected file.
pub(crate) fn cases() -> Vec<Case> {
    let dir = stories_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let mut cases: Vec<Case> = Vec::new();
    for input in files {
        let file_name = input
            .file_name()
            .expect("file name")
            .to_string_lossy()
            .into_owned();
        if file_name.starts_with('.')
            || file_name.ends_with(".expected.json")
            || file_name.starts_with("README")
            || file_name.starts_with("ATTRIBUTION")
            || file_name == "manifest.jsonl"
        {
            continue;
        }
        let name = match file_name.rsplit_once('.') {
            Some((stem, _ext)) => stem.to_owned(),
            None => file_name.clone(),
        };
        if let Some(other) = cases.iter().find(|c| c.name == name) {
            panic!(
                "golden inputs {} and {} share the case name {name:?}; rename one",
                other.input.display(),
                input.display()
            );
        }
        let expected = dir.join(format!("{name}.expected.json"));
        cases.push(Case {
            name,
            input,
            expected,
        });
    }
    cases
}

/// The enricher every golden test uses: default options, the embedded model.
pub(crate) fn enricher() -> Enricher {
    Enricher::with_embedded_model(EnrichOptions::default())
}

/// The record (or parse error) for a case, exactly as offline `enrich` would print it
/// for a file named like the case's input, received at [`RECEIVED_AT`].
pub(crate) fn run(case: &Case, enricher: &Enricher) -> Result<EnrichedRecord, String> {
    let bytes = std::fs::read(&case.input)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", case.input.display()));
    let input = InputStory {
        name: case
            .input
            .file_name()
            .expect("file name")
            .to_string_lossy()
            .into_owned(),
        bytes,
        message_id: None,
        reference_date: None,
    };
    let received_at = RECEIVED_AT.parse().expect("valid fixed timestamp");
    record_for(&input, enricher, received_at).map_err(|e| format!("{}: {e}", e.kind()))
}

/// The JSON a case is compared as: the record, or `{"error": "<kind>: <message>"}` for
/// a story the core rejects (a golden case may pin down a rejection too).
pub(crate) fn to_json(result: &Result<EnrichedRecord, String>) -> Value {
    match result {
        Ok(record) => serde_json::to_value(record).expect("records serialise"),
        Err(error) => serde_json::json!({ "error": error }),
    }
}

/// Pretty JSON with a trailing newline, fields in the record's own order.
pub(crate) fn to_pretty(result: &Result<EnrichedRecord, String>) -> String {
    let mut text = match result {
        Ok(record) => serde_json::to_string_pretty(record),
        Err(_) => serde_json::to_string_pretty(&to_json(result)),
    }
    .expect("records serialise");
    text.push('\n');
    text
}

/// Reads a case's expected file.
pub(crate) fn read_expected(case: &Case) -> Result<Value, String> {
    let text = std::fs::read_to_string(&case.expected).map_err(|e| {
        format!(
            "cannot read {}: {e} (run `UPDATE_GOLDEN=1 cargo test --test golden` to create it)",
            case.expected.display()
        )
    })?;
    serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", case.expected.display()))
}

/// Removes the fields a golden comparison ignores (`enricher.version`).
pub(crate) fn strip_ignored(value: &mut Value) {
    if let Some(enricher) = value.get_mut("enricher").and_then(Value::as_object_mut) {
        enricher.remove("version");
    }
}

/// Every difference between `expected` and `actual`, as `pointer: expected X, actual Y`.
pub(crate) fn json_diff(expected: &Value, actual: &Value) -> Vec<String> {
    let mut out = Vec::new();
    diff_at("", expected, actual, &mut out);
    out
}

fn diff_at(pointer: &str, expected: &Value, actual: &Value, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (key, ev) in e {
                let child = format!("{pointer}/{}", escape_pointer(key));
                match a.get(key) {
                    Some(av) => diff_at(&child, ev, av, out),
                    None => out.push(format!(
                        "{child}: expected {}, actual is missing",
                        short(ev)
                    )),
                }
            }
            for (key, av) in a.iter().filter(|(k, _)| !e.contains_key(*k)) {
                let child = format!("{pointer}/{}", escape_pointer(key));
                out.push(format!("{child}: not expected, actual {}", short(av)));
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                diff_at(&format!("{pointer}/{i}"), ev, av, out);
            }
            for (i, ev) in e.iter().enumerate().skip(a.len()) {
                out.push(format!(
                    "{pointer}/{i}: expected {}, actual is missing",
                    short(ev)
                ));
            }
            for (i, av) in a.iter().enumerate().skip(e.len()) {
                out.push(format!("{pointer}/{i}: not expected, actual {}", short(av)));
            }
        }
        _ if expected != actual => out.push(format!(
            "{}: expected {}, actual {}",
            if pointer.is_empty() { "/" } else { pointer },
            short(expected),
            short(actual)
        )),
        _ => {}
    }
}

fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// A value as compact JSON, cut to a readable length.
fn short(value: &Value) -> String {
    const MAX_CHARS: usize = 160;
    let text = value.to_string();
    if text.chars().count() <= MAX_CHARS {
        text
    } else {
        let cut: String = text.chars().take(MAX_CHARS).collect();
        format!("{cut}…")
    }
}

/// Checks the record's span invariants: `field[start:end] == text` in code points for
/// every quote, speaker mention and entity mention, and paragraphs that are in bounds,
/// in order, separated by exactly `"\n\n"` and covering `body`.
pub(crate) fn span_problems(record: &EnrichedRecord) -> Vec<String> {
    let body: Vec<char> = record.body.chars().collect();
    let mut fields: HashMap<(Field, Option<usize>), Vec<char>> = HashMap::new();
    let mut problems = Vec::new();
    let mut check = |what: String,
                     field: Option<Field>,
                     media_index: Option<usize>,
                     start: usize,
                     end: usize,
                     text: &str| {
        // Each field's code points are counted once: a field can be long (a feed's
        // envelope or ninjs headline has no length limit) and hold many mentions.
        let chars: &[char] = match field {
            None => &body,
            Some(f) => match fields.entry((f, media_index)) {
                Entry::Occupied(known) => known.into_mut(),
                Entry::Vacant(slot) => match record.field_text(field, media_index) {
                    Some(t) => slot.insert(t.chars().collect()),
                    None => {
                        problems.push(format!(
                            "{what}: points into a missing field {field:?}/{media_index:?}"
                        ));
                        return;
                    }
                },
            },
        };
        if start > end || end > chars.len() {
            problems.push(format!(
                "{what}: span {start}..{end} out of bounds (len {})",
                chars.len()
            ));
            return;
        }
        let slice: String = chars[start..end].iter().collect();
        if slice != text {
            problems.push(format!(
                "{what}: field[{start}:{end}] is {slice:?}, text is {text:?}"
            ));
        }
    };
    for (i, q) in record.quotes.iter().enumerate() {
        check(
            format!("/quotes/{i}"),
            q.field,
            None,
            q.start,
            q.end,
            &q.text,
        );
        if let Some(m) = &q.speaker_mention {
            let what = format!("/quotes/{i}/speaker_mention");
            check(what, m.field, m.media_index, m.start, m.end, &m.text);
        }
    }
    for (i, e) in record.entities.iter().enumerate() {
        for (j, m) in e.mentions.iter().enumerate() {
            let what = format!("/entities/{i}/mentions/{j}");
            check(what, m.field, m.media_index, m.start, m.end, &m.text);
        }
    }
    problems.extend(paragraph_problems(record, &body));
    problems
}

fn paragraph_problems(record: &EnrichedRecord, body: &[char]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut previous_end: Option<usize> = None;
    for (i, p) in record.paragraphs.iter().enumerate() {
        if p.start >= p.end || p.end > body.len() {
            problems.push(format!(
                "/paragraphs/{i}: bad span {}..{} (body len {})",
                p.start,
                p.end,
                body.len()
            ));
            continue;
        }
        let gap_start = previous_end.unwrap_or(0);
        let gap: String = body
            .get(gap_start..p.start)
            .map(|g| g.iter().collect())
            .unwrap_or_default();
        let want_gap = if previous_end.is_some() { "\n\n" } else { "" };
        if gap != want_gap {
            problems.push(format!(
                "/paragraphs/{i}: preceded by {gap:?}, expected {want_gap:?}"
            ));
        }
        previous_end = Some(p.end);
    }
    match previous_end {
        Some(end) if end != body.len() => {
            problems.push(format!(
                "/paragraphs: last paragraph ends at {end}, body has {} chars",
                body.len()
            ));
        }
        None if !body.is_empty() => {
            problems.push("/paragraphs: none, but body is not empty".to_owned())
        }
        _ => {}
    }
    problems
}

/// `../shared` (read-only project data): `$WIRE_ENRICHER_SHARED` if set, else
/// `<repo>/../shared`. Panics with a clear message when it is missing, so a
/// `shared-data` test fails rather than skips.
#[cfg(feature = "shared-data")]
pub(crate) fn shared_dir() -> PathBuf {
    let dir = std::env::var_os("WIRE_ENRICHER_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    assert!(
        dir.is_dir(),
        "the shared-data tests need the shared folder at {}; set WIRE_ENRICHER_SHARED to it",
        dir.display()
    );
    dir
}

/// Enriches `inputs` the way offline `enrich` does and returns the summary and the
/// records it printed.
pub(crate) fn enrich_offline(
    inputs: &[InputStory],
    enricher: &Enricher,
) -> (wire_enricher::offline::Summary, Vec<EnrichedRecord>) {
    let mut out = Vec::new();
    let summary = wire_enricher::offline::enrich_inputs(
        inputs,
        enricher,
        &mut out,
        &wire_enricher::offline::EnrichOutput::default(),
    )
    .expect("writing to memory cannot fail");
    let records = String::from_utf8(out)
        .expect("records are UTF-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("each output line is one record"))
        .collect();
    (summary, records)
}
