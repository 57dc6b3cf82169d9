//! `wire-enricher eval ner`: runs the entity stage over a CoNLL-style JSONL file (such as
//! `../shared/data/ner/dev.jsonl`) and writes every entity mention as a prediction that
//! `../shared/data/score.py --task ner` scores.
//!
//! Each document's text is sent through the whole core as a JSON envelope
//! (`super::enrich_envelope`), exactly as a producer would send it, so offsets are the
//! record's code point offsets into the text. With `--score` (and `--out` a file) the
//! predictions are scored by `../shared/data/score.py --task ner`.
//!
//! Must not: look at the gold entities while predicting.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;

use super::EvalError;
use crate::enrich::entities::Model;
use crate::enrich::{EnrichOptions, Enricher};

/// Arguments of `wire-enricher eval ner`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The JSONL file to tag (`{"id","text",...}` per line).
    #[arg(long, default_value_os_t = crate::train::default_data_dir().join("ner/dev.jsonl"))]
    pub input: PathBuf,
    /// Where to write predictions (`-` for stdout).
    #[arg(long, default_value = "-")]
    pub out: PathBuf,
    /// A model file to use instead of the embedded one.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Score the predictions with `../shared/data/score.py` (needs `--out FILE`).
    #[arg(long)]
    pub score: bool,
}

/// One prediction line.
#[derive(Debug, Serialize)]
struct PredLine {
    id: String,
    entities: Vec<PredEntity>,
}

#[derive(Debug, Serialize)]
struct PredEntity {
    start: usize,
    end: usize,
    label: &'static str,
    text: String,
}

/// Runs the evaluation.
///
/// # Errors
/// I/O and data errors, see [`EvalError`].
pub fn run(args: &Args) -> Result<(), EvalError> {
    let model = match &args.model {
        Some(p) => {
            let bytes = std::fs::read(p).map_err(|source| EvalError::Io {
                path: p.clone(),
                source,
            })?;
            Model::load(&bytes).map_err(|e| EvalError::Other(format!("{}: {e}", p.display())))?
        }
        None => Model::embedded(),
    };
    let enricher = Enricher::new(EnrichOptions::default(), model);
    let lines = crate::train::read_lines(&args.input)?;
    let started = Instant::now();
    let mut tokens = 0usize;
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        tokens += line.text.split_whitespace().count();
        out.push(predict(&enricher, line.id, &line.text)?);
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{} documents, {tokens} tokens in {secs:.3} s: {:.0} tokens/s (model {})",
        out.len(),
        tokens as f64 / secs.max(1e-9),
        enricher.model_name()
    );
    write_predictions(args, &out)?;
    if args.score {
        if args.out.as_os_str() == "-" {
            return Err(EvalError::Other("--score needs --out FILE".to_owned()));
        }
        super::score("ner", &args.input, &args.out)?;
    }
    Ok(())
}

fn predict(enricher: &Enricher, id: String, text: &str) -> Result<PredLine, EvalError> {
    let record = super::enrich_envelope(enricher, &id, text)?;
    let mut entities = Vec::new();
    for e in record.entities {
        for m in e.mentions.into_iter().filter(|m| m.field.is_none()) {
            entities.push(PredEntity {
                start: m.start,
                end: m.end,
                label: e.kind.as_str(),
                text: m.text,
            });
        }
    }
    entities.sort_by_key(|e| (e.start, e.end));
    Ok(PredLine { id, entities })
}

fn write_predictions(args: &Args, out: &[PredLine]) -> Result<(), EvalError> {
    let mut buf = Vec::new();
    for line in out {
        serde_json::to_writer(&mut buf, line).map_err(|e| EvalError::Other(e.to_string()))?;
        buf.push(b'\n');
    }
    if args.out.as_os_str() == "-" {
        std::io::stdout()
            .write_all(&buf)
            .map_err(|source| EvalError::Io {
                path: args.out.clone(),
                source,
            })
    } else {
        std::fs::write(&args.out, buf).map_err(|source| EvalError::Io {
            path: args.out.clone(),
            source,
        })
    }
}
