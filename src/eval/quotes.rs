//! `wire-enricher eval quotes`: runs the enrichment core over a quotes dev file (PolNeAR
//! JSONL: `{"id", "text", ...}` per line) and writes the predictions the scorer
//! `../shared/data/score.py --task quotes` reads, then runs the scorer when `python3` is
//! there and prints its figures.
//!
//! The story is handed to the core as a [`Story`] whose body is the gold text itself
//! (paragraphs split on blank lines, body byte-identical), and then runs the real quote and
//! entity stages and `finish` (which converts offsets to code points). The JSON envelope
//! path through `parse` does not keep the body byte-identical yet, so it is not used here.
//!
//! Conventions bridged here, not in the core: the gold gives one quote per paragraph of a
//! multi-paragraph quote, so a predicted quote running over paragraphs is written as one
//! prediction per paragraph; the gold holds attributed quotations only, so quotes
//! without a speaker (scare quotes, titles) are left out unless `--all-segments` is given;
//! and the gold `speaker` is the PolNeAR *Source* span as annotated (a mention, often with
//! its apposition: `Graham, a former candidate,`), not a canonical name, so when the
//! attributing mention is a short form of the canonical speaker (`Graham` for `Lindsey
//! Graham`) the prediction's `speaker` is that mention, the same kind of string the gold
//! holds. A pronoun or role noun (`he`, `the spokesman`) writes the resolved canonical
//! speaker, which the gold resolves through its `speaker_aliases`. The record's own
//! `speaker` stays the canonical name; it is written as `canonical` for error analysis.
//!
//! Must not: tune anything, or read the gold quotes before the predictions are written.

use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::json;

use super::EvalError;
use crate::enrich::record::EnrichedRecord;
use crate::enrich::{EnrichOptions, Enricher};

/// Arguments of `wire-enricher eval quotes`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The gold JSONL (`polnear-dev.jsonl`); a bare file name is looked up in
    /// `$WIRE_ENRICHER_SHARED/data/quotes` (default `../shared/data/quotes`).
    #[arg(long)]
    pub input: PathBuf,
    /// Where to write the predictions (JSONL).
    #[arg(long)]
    pub out: PathBuf,
    /// Also write quotes that have no speaker (scare quotes, titles).
    #[arg(long)]
    pub all_segments: bool,
    /// Do not run the scorer.
    #[arg(long)]
    pub no_score: bool,
}

/// One gold line: only what the worker may see.
#[derive(Debug, Deserialize)]
struct GoldLine {
    id: String,
    text: String,
}

/// Runs the evaluation.
///
/// # Errors
/// I/O and data errors, see [`EvalError`].
pub fn run(args: &Args) -> Result<(), EvalError> {
    let input = resolve_input(&args.input);
    let enricher = Enricher::with_embedded_model(EnrichOptions::default());
    let file = std::fs::File::open(&input).map_err(|source| EvalError::Io {
        path: input.clone(),
        source,
    })?;
    let out_io = |source| EvalError::Io {
        path: args.out.clone(),
        source,
    };
    let mut out = BufWriter::new(std::fs::File::create(&args.out).map_err(out_io)?);
    let mut docs = 0usize;
    let mut bytes = 0usize;
    let started = std::time::Instant::now();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|source| EvalError::Io {
            path: input.clone(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let gold: GoldLine = serde_json::from_str(&line).map_err(|source| EvalError::Json {
            path: input.clone(),
            line: n + 1,
            source,
        })?;
        let record = super::enrich_envelope(&enricher, &gold.id, &gold.text)?;
        let pred = predictions(&gold.id, &record, args.all_segments);
        serde_json::to_writer(&mut out, &pred).map_err(|e| out_io(e.into()))?;
        out.write_all(b"\n").map_err(out_io)?;
        docs += 1;
        bytes += gold.text.len();
    }
    out.flush().map_err(out_io)?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{docs} documents, {:.1} KB in {secs:.2}s -> {}",
        bytes as f64 / 1024.0,
        args.out.display()
    );
    if !args.no_score {
        super::score("quotes", &input, &args.out)?;
    }
    Ok(())
}

/// A bare file name is looked up in the shared quotes folder.
fn resolve_input(input: &Path) -> PathBuf {
    if input.exists() || input.components().count() > 1 {
        return input.to_path_buf();
    }
    super::shared_dir().join("data/quotes").join(input)
}

/// The prediction line for one record: body quotes in code points, a multi-paragraph
/// quote split at its paragraph (line) breaks. `kind`, `mention` and `cue` are for error
/// analysis; the scorer reads only the span and `speaker`.
fn predictions(id: &str, record: &EnrichedRecord, all_segments: bool) -> serde_json::Value {
    let chars: Vec<char> = record.body.chars().collect();
    let mut quotes = Vec::new();
    for q in record.quotes.iter().filter(|q| q.field.is_none()) {
        if q.speaker.is_none() && !all_segments {
            continue;
        }
        let mention = q.speaker_mention.as_ref().map(|m| m.text.as_str());
        let speaker = scored_speaker(q.speaker.as_deref(), mention);
        for (s, e) in split_paragraphs(&chars, q.start, q.end) {
            let text: String = chars[s..e].iter().collect();
            quotes.push(json!({
                "start": s, "end": e, "text": text, "speaker": speaker,
                "canonical": q.speaker, "kind": q.kind, "mention": mention, "cue": q.cue,
            }));
        }
    }
    json!({"id": id, "quotes": quotes})
}

/// The speaker string in the gold's convention: the attributing mention when it is a short
/// form of the canonical speaker (every word of it, possessive `'s` aside, is a word of the
/// canonical name), else the canonical speaker.
fn scored_speaker<'a>(canonical: Option<&'a str>, mention: Option<&'a str>) -> Option<&'a str> {
    let (Some(canonical), Some(mention)) = (canonical, mention) else {
        return canonical;
    };
    let names: Vec<String> = speaker_words(canonical).collect();
    let mut words = speaker_words(mention).peekable();
    let short_form = words.peek().is_some() && words.all(|w| names.contains(&w));
    if short_form {
        Some(mention)
    } else {
        Some(canonical)
    }
}

/// The lower-cased words of a speaker string, a possessive `'s` / `’s` dropped.
fn speaker_words(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| w != "s")
}

/// `[start, end)` cut at every line break, each piece trimmed of whitespace.
fn split_paragraphs(chars: &[char], start: usize, end: usize) -> Vec<(usize, usize)> {
    let end = end.min(chars.len());
    let mut out = Vec::new();
    let mut a = start;
    let mut i = start;
    while i < end {
        if chars[i] == '\n' {
            out.push((a, i));
            a = i + 1;
        }
        i += 1;
    }
    out.push((a, end));
    out.into_iter()
        .map(|(mut s, mut e)| {
            while s < e && chars[s].is_whitespace() {
                s += 1;
            }
            while e > s && chars[e - 1].is_whitespace() {
                e -= 1;
            }
            (s, e)
        })
        .filter(|(s, e)| s < e)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_form_mention_is_the_scored_speaker() {
        let short = scored_speaker(Some("Lindsey Graham"), Some("Graham"));
        assert_eq!(short, Some("Graham"));
        let owner = scored_speaker(Some("Marco Rubio"), Some("Rubio’s"));
        assert_eq!(owner, Some("Rubio’s"));
        let pronoun = scored_speaker(Some("Lindsey Graham"), Some("he"));
        assert_eq!(pronoun, Some("Lindsey Graham"));
        let role = scored_speaker(Some("Harry Reid"), Some("the senator"));
        assert_eq!(role, Some("Harry Reid"));
        assert_eq!(scored_speaker(None, Some("he")), None);
        assert_eq!(scored_speaker(Some("Reid"), None), Some("Reid"));
    }

    #[test]
    fn multi_paragraph_quotes_split_at_blank_lines() {
        let chars: Vec<char> = "“One.\n\n“Two.”".chars().collect();
        assert_eq!(split_paragraphs(&chars, 1, 12), [(1, 5), (7, 12)]);
    }
}
