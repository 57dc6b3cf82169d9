//! `wire-enricher train-ner`: compiles the gazetteers and trains the entity model.
//!
//! Reads `../shared/data/gazetteers/*.tsv`, `../shared/corpus/articles.jsonl` and
//! `../shared/data/ner/{train,dev}.jsonl`; writes the compiled gazetteer, the word classes
//! (learned from the open articles and the CoNLL training text, never dev or test text)
//! and the model file (by default into `src/enrich/entities/data/`, where the binary embeds
//! them). Deterministic: the same data, options and seed give the same bytes.
//!
//! Must not: read CoNLL test data, learn from dev text, or tune on anything but `dev.jsonl`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::enrich::entities::features::Lexicon;
use crate::enrich::entities::gazetteer::{self, Gazetteer, Sources};
use crate::enrich::entities::learn::{self, Doc, Options};
use crate::enrich::entities::wordclass::{self, WordClasses};
use crate::enrich::record::EntityType;
use crate::eval::EvalError;

/// Arguments of `wire-enricher train-ner`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The shared data folder (holds `ner/` and `gazetteers/`).
    #[arg(long, env = "WIRE_ENRICHER_SHARED_DATA", default_value_os_t = default_data_dir())]
    pub data: PathBuf,
    /// Where to write the model file.
    #[arg(long, default_value = "src/enrich/entities/data/model.bin")]
    pub out: PathBuf,
    /// Where to write the compiled gazetteer.
    #[arg(long, default_value = "src/enrich/entities/data/gazetteer.bin")]
    pub gazetteer_out: PathBuf,
    /// Open news text the word classes are learned from (JSONL with a `body` per line).
    #[arg(long, default_value_os_t = default_corpus())]
    pub corpus: PathBuf,
    /// Where to write the word classes.
    #[arg(long, default_value = "src/enrich/entities/data/wordclasses.bin")]
    pub classes_out: PathBuf,
    /// Number of fine word classes (0: no word-class features). Off by default: on dev,
    /// 100/400/1000 classes moved F1 by -0.1/-0.2/+0.2, within noise (see the data README).
    #[arg(long, default_value_t = 0)]
    pub classes: usize,
    /// Number of coarse word classes.
    #[arg(long, default_value_t = 100)]
    pub coarse_classes: usize,
    /// Passes over the training data (the best dev epoch is kept).
    #[arg(long, default_value_t = 60)]
    pub epochs: usize,
    /// Drop features seen fewer times than this.
    #[arg(long, default_value_t = 2)]
    pub min_count: u32,
    /// Shuffle (and dropout) seed of the first ensemble member; the others' are derived
    /// from it.
    #[arg(long, default_value_t = 20_160_908)]
    pub seed: u64,
    /// Perceptrons trained per pass with different shuffle and dropout seeds; the model
    /// keeps the mean of their weights (same features, same size, same tagging speed).
    /// 1: a single perceptron, the model before ensembles byte for byte.
    #[arg(long, default_value_t = 1)]
    pub seeds: usize,
    /// Threads for the ensemble members (0: one per member, at most the cores). The model
    /// does not depend on it.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Percent of features hidden from each training update (feature dropout, a
    /// regulariser that lets longer training help held-out folds; 0: none, the model
    /// before it).
    #[arg(long, default_value_t = 25)]
    pub dropout: u32,
    /// Percent of the training documents whose all-caps headline is rewritten in title
    /// case (`Soccer - Japan Get Lucky Win`) before training, so the model also sees
    /// title-case headlines, and learns keys for title-case headlines from them (0: none,
    /// the model before it byte for byte; see the data README for 50 and 100).
    #[arg(long, default_value_t = 0)]
    pub title_case: u32,
    /// Model name written into records (`enricher.model`).
    #[arg(long, default_value = "conll03-perceptron-2")]
    pub name: String,
    /// Only compile the gazetteer and stop (no training). The model records the
    /// gazetteer's checksum, which covers the names only: recompiling the same lists keeps
    /// the committed model valid; changed lists need a retrained model.
    #[arg(long)]
    pub gazetteer_only: bool,
}

/// `$WIRE_ENRICHER_SHARED/data`, else `../shared/data`.
pub fn default_data_dir() -> PathBuf {
    std::env::var_os("WIRE_ENRICHER_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared"))
        .join("data")
}

/// `$WIRE_ENRICHER_SHARED/corpus/articles.jsonl`, else `../shared/corpus/articles.jsonl`.
pub fn default_corpus() -> PathBuf {
    std::env::var_os("WIRE_ENRICHER_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared"))
        .join("corpus/articles.jsonl")
}

/// One line of the open corpus.
#[derive(Debug, Deserialize)]
struct Article {
    #[serde(default)]
    body: String,
}

/// One line of a CoNLL JSONL file.
#[derive(Debug, Deserialize)]
pub(crate) struct NerLine {
    /// Document id.
    pub(crate) id: String,
    /// Tokenised text.
    pub(crate) text: String,
    /// Gold entities (code point offsets).
    #[serde(default)]
    pub(crate) entities: Vec<NerSpan>,
}

/// One gold entity.
#[derive(Debug, Deserialize)]
pub(crate) struct NerSpan {
    start: usize,
    end: usize,
    label: String,
}

/// Trains the entity model.
///
/// # Errors
/// I/O and data errors.
pub fn run(args: &Args) -> Result<(), EvalError> {
    let gaz_dir = args.data.join("gazetteers");
    let bytes = gazetteer::compile(&read_sources(&gaz_dir)?);
    write(&args.gazetteer_out, &bytes)?;
    let gaz = Gazetteer::load(&bytes).map_err(|e| EvalError::Other(e.to_string()))?;
    eprintln!(
        "gazetteer: {} entries, {} bytes -> {}",
        gaz.len(),
        bytes.len(),
        args.gazetteer_out.display()
    );
    if args.gazetteer_only {
        return Ok(());
    }
    let train = read_docs(&args.data.join("ner/train.jsonl"))?;
    let dev = read_docs(&args.data.join("ner/dev.jsonl"))?;
    let class_bytes = word_classes(args, &train)?;
    write(&args.classes_out, &class_bytes)?;
    let classes = WordClasses::load(&class_bytes).map_err(|e| EvalError::Other(e.to_string()))?;
    let lexicon = Lexicon {
        gazetteer: &gaz,
        classes: &classes,
        title_heads: args.title_case > 0,
    };
    eprintln!(
        "training on {} documents, selecting on {} dev documents",
        train.len(),
        dev.len()
    );
    let opts = Options {
        epochs: args.epochs,
        min_count: args.min_count,
        seed: args.seed,
        seeds: args.seeds.max(1),
        threads: training_threads(args),
        dropout_pct: args.dropout,
        title_case_pct: args.title_case,
        name: args.name.clone(),
    };
    let trained = learn::train(&train, &dev, &lexicon, &opts, |pass, s| {
        eprintln!(
            "pass {pass} epoch {:>2}: dev P {:.4} R {:.4} F1 {:.4}",
            s.epoch, s.precision, s.recall, s.f1
        );
    });
    write(&args.out, &trained.bytes)?;
    eprintln!(
        "model: {} features, {} bytes -> {} ({} gold entities not on token boundaries)",
        trained.features,
        trained.bytes.len(),
        args.out.display(),
        trained.misaligned
    );
    Ok(())
}

/// `--threads`, with 0 meaning one per ensemble member, at most the available cores.
fn training_threads(args: &Args) -> usize {
    if args.threads > 0 {
        return args.threads;
    }
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    args.seeds.clamp(1, cores)
}

/// Learns the word classes from the open corpus and the training text (`--classes 0`:
/// an empty class file, no word-class features).
fn word_classes(args: &Args, train: &[Doc]) -> Result<Vec<u8>, EvalError> {
    let opts = wordclass::Options {
        fine: args.classes,
        coarse: args.coarse_classes,
        seed: args.seed,
        ..wordclass::Options::default()
    };
    if opts.fine == 0 {
        return Ok(wordclass::learn(&[], &opts).0);
    }
    let corpus = read(&args.corpus)?;
    let mut bodies = Vec::new();
    for (n, line) in corpus
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let a: Article = serde_json::from_str(line).map_err(|source| EvalError::Json {
            path: args.corpus.clone(),
            line: n + 1,
            source,
        })?;
        bodies.push(a.body);
    }
    let texts: Vec<&str> = bodies
        .iter()
        .map(String::as_str)
        .chain(train.iter().map(|d| d.text.as_str()))
        .collect();
    let started = std::time::Instant::now();
    let (bytes, words) = wordclass::learn(&texts, &opts);
    eprintln!(
        "word classes: {words} word forms in {} fine / {} coarse classes from {} texts, {} bytes in {:.1} s -> {}",
        opts.fine,
        opts.coarse,
        texts.len(),
        bytes.len(),
        started.elapsed().as_secs_f64(),
        args.classes_out.display()
    );
    Ok(bytes)
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), EvalError> {
    std::fs::write(path, bytes).map_err(|source| EvalError::Io {
        path: path.to_owned(),
        source,
    })
}

fn read(path: &Path) -> Result<String, EvalError> {
    std::fs::read_to_string(path).map_err(|source| EvalError::Io {
        path: path.to_owned(),
        source,
    })
}

fn read_sources(dir: &Path) -> Result<Sources, EvalError> {
    Ok(Sources {
        countries: read(&dir.join("countries.tsv"))?,
        cities: read(&dir.join("cities.tsv"))?,
        regions: read(&dir.join("regions.tsv"))?,
        given_names: read(&dir.join("given_names.tsv"))?,
        surnames: read(&dir.join("surnames.tsv"))?,
        organisations: read(&dir.join("organisations.tsv"))?,
        org_keywords: read(&dir.join("org_keywords.tsv"))?,
        org_suffixes: read(&dir.join("org_suffixes.tsv"))?,
        misc_groups: read(&dir.join("misc_groups.tsv"))?,
    })
}

/// Reads a CoNLL JSONL file.
pub(crate) fn read_lines(path: &Path) -> Result<Vec<NerLine>, EvalError> {
    let text = read(path)?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            serde_json::from_str(l).map_err(|source| EvalError::Json {
                path: path.to_owned(),
                line: n + 1,
                source,
            })
        })
        .collect()
}

fn read_docs(path: &Path) -> Result<Vec<Doc>, EvalError> {
    read_lines(path)?
        .into_iter()
        .map(|l| to_doc(l, path))
        .collect()
}

/// Byte offset of code point offset `cp` in `text`.
pub(crate) fn byte_offset(text: &str, cp: usize) -> Option<usize> {
    if cp == text.chars().count() {
        return Some(text.len());
    }
    text.char_indices().nth(cp).map(|(b, _)| b)
}

fn to_doc(line: NerLine, path: &Path) -> Result<Doc, EvalError> {
    let mut entities = Vec::with_capacity(line.entities.len());
    for e in &line.entities {
        let kind = match e.label.as_str() {
            "PER" => EntityType::Per,
            "ORG" => EntityType::Org,
            "LOC" => EntityType::Loc,
            "MISC" => EntityType::Misc,
            other => {
                return Err(EvalError::Other(format!(
                    "{}: {}: unknown label {other}",
                    path.display(),
                    line.id
                )))
            }
        };
        let (Some(s), Some(t)) = (
            byte_offset(&line.text, e.start),
            byte_offset(&line.text, e.end),
        ) else {
            return Err(EvalError::Other(format!(
                "{}: {}: span out of range",
                path.display(),
                line.id
            )));
        };
        entities.push((s, t, kind));
    }
    Ok(Doc {
        text: line.text,
        entities,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_points_to_bytes() {
        assert_eq!(byte_offset("aé b", 2), Some(3));
        assert_eq!(byte_offset("aé b", 4), Some(5));
        assert_eq!(byte_offset("aé b", 5), None);
    }
}
