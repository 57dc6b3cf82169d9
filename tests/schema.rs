//! The committed JSON Schema of the record (`deploy/schema/record.v1.schema.json`) is
//! exactly what the Rust types generate, and every golden record validates against it.
//!
//! `UPDATE_SCHEMA=1 cargo test --test schema` regenerates the schema file.

mod golden_support;

use std::path::PathBuf;

use serde_json::Value;
use wire_enricher::enrich::record::EnrichedRecord;

fn schema_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("deploy/schema/record.v1.schema.json")
}

/// The schema the types generate, as committed: pretty JSON plus a final newline.
fn generated_schema() -> String {
    let schema = schemars::schema_for!(EnrichedRecord);
    let mut text = serde_json::to_string_pretty(&schema).expect("schemas serialise");
    text.push('\n');
    text
}

fn committed_schema() -> String {
    std::fs::read_to_string(schema_path()).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; run `UPDATE_SCHEMA=1 cargo test --test schema` to create it",
            schema_path().display()
        )
    })
}

#[test]
fn committed_schema_matches_the_record_types() {
    let generated = generated_schema();
    if std::env::var_os("UPDATE_SCHEMA").is_some_and(|v| !v.is_empty() && v != "0") {
        std::fs::write(schema_path(), &generated).expect("write schema");
    }
    let committed = committed_schema();
    assert!(
        committed == generated,
        "{} is out of date with src/enrich/record.rs.\n\
         Differences (committed vs generated):\n  {}\n\
         Regenerate with `UPDATE_SCHEMA=1 cargo test --test schema` and review it: \
         a removed or renamed field needs a new schema_version.",
        schema_path().display(),
        golden_support::json_diff(
            &serde_json::from_str(&committed).unwrap_or(Value::Null),
            &serde_json::from_str(&generated).expect("generated schema is JSON"),
        )
        .join("\n  ")
    );
}

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(&committed_schema()).expect("schema file is JSON");
    jsonschema::validator_for(&schema).expect("the committed schema is a valid JSON Schema")
}

fn schema_errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path))
        .collect()
}

#[test]
fn golden_records_validate_against_the_schema() {
    let validator = validator();
    let enricher = golden_support::enricher();
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in golden_support::cases() {
        // What the core produces now...
        if let Ok(record) = golden_support::run(&case, &enricher) {
            let value = serde_json::to_value(&record).expect("records serialise");
            for error in schema_errors(&validator, &value) {
                failures.push(format!("case {} (actual record) {error}", case.name));
            }
            checked += 1;
        }
        // ...and what is committed as expected (unless it pins down a rejection).
        if let Ok(expected) = golden_support::read_expected(&case) {
            if expected.get("error").is_none() {
                for error in schema_errors(&validator, &expected) {
                    failures.push(format!(
                        "case {} ({}) {error}",
                        case.name,
                        case.expected.display()
                    ));
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 0, "no golden record was validated");
    assert!(
        failures.is_empty(),
        "records that break the schema:\n{}",
        failures.join("\n")
    );
}

#[test]
fn the_schema_rejects_a_broken_record() {
    // Guards the validation test itself: a schema that accepts anything would pass it.
    let validator = validator();
    let broken = serde_json::json!({"schema_version": "one", "id": 7, "surprise": true});
    let errors = schema_errors(&validator, &broken);
    assert!(errors.len() >= 3, "{errors:#?}");
}

/// Every record made from the shared corpus's raw feed items validates against the schema.
#[cfg(feature = "shared-data")]
#[test]
fn shared_corpus_records_validate_against_the_schema() {
    let raw = golden_support::shared_dir().join("corpus/raw");
    let inputs = wire_enricher::offline::read_inputs(&[raw]).expect("the raw corpus is readable");
    let (_, records) = golden_support::enrich_offline(&inputs, &golden_support::enricher());
    assert!(!records.is_empty(), "no corpus story produced a record");
    let validator = validator();
    let failures: Vec<String> = records
        .iter()
        .flat_map(|record| {
            let value = serde_json::to_value(record).expect("records serialise");
            schema_errors(&validator, &value)
                .into_iter()
                .map(|e| format!("{}: {e}", record.source.subject))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        failures.is_empty(),
        "records that break the schema:\n{}",
        failures.join("\n")
    );
}
