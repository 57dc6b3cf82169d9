//! Offline accuracy evaluations against the development data in `../shared/data`.
//!
//! Each submodule runs the real enrichment core (`Enricher::enrich` over JSON-envelope or
//! raw bytes, exactly what the daemon runs) over a dev file and writes predictions in the
//! form the scorers in `../shared/data` read. They are tooling at the edge: they do I/O,
//! and report failures through [`EvalError`].

pub mod ner;
pub mod parse;
pub mod quotes;

use std::path::{Path, PathBuf};
use std::process::Command;

use thiserror::Error;

use crate::enrich::record::{EnrichedRecord, Format, SourceInfo};
use crate::enrich::{Enricher, RawStory};

/// What can go wrong in an evaluation run.
#[derive(Debug, Error)]
pub enum EvalError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A line of a JSONL file is not the expected JSON.
    #[error("{path}:{line}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// Anything else, said in words (missing ../shared, scorer failure, ...).
    #[error("{0}")]
    Other(String),
}

/// `$WIRE_ENRICHER_SHARED`, else `../shared` (relative to the working directory).
pub fn shared_dir() -> PathBuf {
    std::env::var_os("WIRE_ENRICHER_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared"))
}

/// Runs the whole core over `text` sent as a JSON envelope `{"id", "body"}`, exactly as
/// a producer would send it to the worker. The envelope keeps `body` code point for code
/// point (control characters become spaces; checked here), so record offsets are offsets
/// into the gold text.
///
/// # Errors
/// [`EvalError::Other`] when the core rejects the story or moves its text.
pub fn enrich_envelope(
    enricher: &Enricher,
    id: &str,
    text: &str,
) -> Result<EnrichedRecord, EvalError> {
    let envelope = serde_json::json!({ "id": id, "body": text }).to_string();
    let raw = RawStory {
        bytes: envelope.as_bytes(),
        message_id: None,
        content_type: Some("application/json"),
        reference_date: None,
    };
    let source = SourceInfo {
        subject: "eval".to_owned(),
        stream: None,
        stream_sequence: None,
        format: Format::Json,
        received_at: "1970-01-01T00:00:00Z".to_owned(),
    };
    let record = enricher
        .enrich(&raw, source)
        .map_err(|e| EvalError::Other(format!("{id}: {e}")))?;
    if record.body.chars().count() != text.chars().count() {
        return Err(EvalError::Other(format!(
            "{id}: the envelope body changed in parsing; offsets would not map back"
        )));
    }
    Ok(record)
}

/// Scores `pred` against `gold` with `../shared/data/score.py --task TASK` and prints
/// its report; when python3 is missing the predictions stay unscored (said on stdout).
///
/// # Errors
/// [`EvalError::Other`] when the scorer is missing or fails.
pub fn score(task: &str, gold: &Path, pred: &Path) -> Result<(), EvalError> {
    let scorer = shared_dir().join("data/score.py");
    if !scorer.exists() {
        return Err(EvalError::Other(format!(
            "scorer {} not found: set WIRE_ENRICHER_SHARED",
            scorer.display()
        )));
    }
    let output = Command::new("python3")
        .arg(&scorer)
        .arg("--gold")
        .arg(gold)
        .arg("--pred")
        .arg(pred)
        .args(["--task", task])
        .output();
    match output {
        Ok(o) if o.status.success() => {
            print!("{}", String::from_utf8_lossy(&o.stdout));
            Ok(())
        }
        Ok(o) => Err(EvalError::Other(format!(
            "scorer failed: {}",
            String::from_utf8_lossy(&o.stderr)
        ))),
        Err(e) => {
            println!("python3 not available ({e}); predictions written, not scored");
            Ok(())
        }
    }
}
