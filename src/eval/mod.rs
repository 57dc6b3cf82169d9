//! Offline accuracy evaluations against the development data in `../shared/data`.
//!
//! Each submodule runs the real enrichment core (`Enricher::enrich` over JSON-envelope or
//! raw bytes, exactly what the daemon runs) over a dev file and writes predictions in the
//! form the scorers in `../shared/data` read. They are tooling at the edge: they do I/O,
//! and report failures through [`EvalError`].

pub mod ner;
pub mod parse;
pub mod quotes;

use std::path::PathBuf;

use thiserror::Error;

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
