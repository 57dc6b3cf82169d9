//! `wire-enricher eval parse`: parse accuracy over the shared corpus and the real news pages.
//!
//! 1. Corpus report: every file in `corpus/raw/` is parsed by the real parse stage and
//!    compared with `corpus/raw/manifest.jsonl` and `corpus/articles.jsonl`: headline exact
//!    match (after folding quotes, dashes, case and spaces), published calendar-date match,
//!    body token F1, and byline / dateline / caption credit where the manifest has them —
//!    per format.
//! 2. Real pages: `data/parse/pages/*.html` and `data/parse/text/*.txt` are parsed, written
//!    as `PRED` jsonl files (`{id, headline, body, published}`) into `--out`, and scored by
//!    `python3 data/parse/score.py`; the same body token F1 is also computed here in Rust
//!    (lower-cased `\w+` tokens, multiset overlap, macro average), with pages per second.
//!
//! Must not: tune anything, or write any shared data into the repository.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::LazyLock;
use std::time::Instant;

use regex::Regex;
use rustc_hash::FxHashMap;
use serde_json::Value;

use super::EvalError;
use crate::enrich::parse::parse;
use crate::enrich::story::Story;
use crate::enrich::{EnrichOptions, RawStory};

/// Arguments of `wire-enricher eval parse`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The shared data folder (default: `$WIRE_ENRICHER_SHARED`, else `../shared`).
    #[arg(long, env = "WIRE_ENRICHER_SHARED")]
    pub shared: Option<PathBuf>,
    /// Where prediction files are written.
    #[arg(long, default_value = "target/eval-parse")]
    pub out: PathBuf,
    /// Skip running `python3 score.py` (the Rust token F1 is still printed).
    #[arg(long)]
    pub no_python: bool,
}

/// Counts and sums for one group of stories.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Stories in the group.
    pub n: usize,
    /// Stories that failed to parse.
    pub errors: usize,
    /// Headline exact matches.
    pub headline_ok: usize,
    /// Stories with a gold date.
    pub date_n: usize,
    /// Calendar-date matches.
    pub date_ok: usize,
    /// Sum of body token F1.
    pub f1_sum: f64,
    /// Stories with a gold byline.
    pub byline_n: usize,
    /// Byline matches (author or agency names it).
    pub byline_ok: usize,
    /// Stories with a gold dateline city.
    pub dateline_n: usize,
    /// Dateline location matches.
    pub dateline_ok: usize,
    /// Stories with a gold caption credit.
    pub credit_n: usize,
    /// Caption credit matches.
    pub credit_ok: usize,
}

impl Tally {
    /// Mean body F1.
    pub fn f1(&self) -> f64 {
        ratio_f(self.f1_sum, self.n)
    }
    /// Headline exact-match rate.
    pub fn headline(&self) -> f64 {
        ratio(self.headline_ok, self.n)
    }
    /// Date match rate.
    pub fn date(&self) -> f64 {
        ratio(self.date_ok, self.date_n)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        f64::NAN
    } else {
        a as f64 / b as f64
    }
}

fn ratio_f(a: f64, b: usize) -> f64 {
    if b == 0 {
        f64::NAN
    } else {
        a / b as f64
    }
}

/// Real-page figures for one input kind.
#[derive(Debug, Default, Clone)]
pub struct PageScore {
    /// Pages.
    pub n: usize,
    /// Mean body token F1 (Rust).
    pub f1: f64,
    /// Pages parsed per second of this thread's CPU time (parse only).
    pub pages_per_sec: f64,
    /// `score.py`'s primary body F1, when it ran.
    pub python_f1: Option<f64>,
}

/// Everything the evaluation measured.
#[derive(Debug, Default, Clone)]
pub struct Report {
    /// Corpus tallies by format (`web`, `wire`, `html`, `ninjs`).
    pub corpus: BTreeMap<String, Tally>,
    /// Real pages from HTML.
    pub pages_html: PageScore,
    /// Real pages from flattened text.
    pub pages_text: PageScore,
}

/// Runs the evaluation and prints the table.
///
/// # Errors
/// I/O and data errors, see [`EvalError`].
pub fn run(args: &Args) -> Result<(), EvalError> {
    let report = evaluate(args)?;
    print!("{}", render(&report));
    Ok(())
}

/// The shared folder: the argument, else `$WIRE_ENRICHER_SHARED`, else `../shared`.
pub fn shared_dir(arg: Option<&Path>) -> Result<PathBuf, EvalError> {
    let dir = arg
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("WIRE_ENRICHER_SHARED").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("../shared"));
    if !dir.join("corpus").is_dir() {
        return Err(EvalError::Other(format!(
            "shared data not found at {} (set --shared or WIRE_ENRICHER_SHARED)",
            dir.display()
        )));
    }
    Ok(dir)
}

/// Measures everything; see the module docs.
///
/// # Errors
/// I/O and data errors, see [`EvalError`].
pub fn evaluate(args: &Args) -> Result<Report, EvalError> {
    let shared = shared_dir(args.shared.as_deref())?;
    std::fs::create_dir_all(&args.out).map_err(|source| EvalError::Io {
        path: args.out.clone(),
        source,
    })?;
    let corpus = corpus_report(&shared)?;
    let gold = shared.join("data/parse/gold.jsonl");
    let gold_rows = read_jsonl(&gold)?;
    let mut pages_html = real_pages(
        &shared,
        &gold_rows,
        "pages",
        &args.out.join("pred_pages.jsonl"),
    )?;
    let mut pages_text = real_pages(
        &shared,
        &gold_rows,
        "text",
        &args.out.join("pred_text.jsonl"),
    )?;
    if !args.no_python {
        pages_html.python_f1 = python_score(&shared, &gold, &args.out.join("pred_pages.jsonl"))?;
        pages_text.python_f1 = python_score(&shared, &gold, &args.out.join("pred_text.jsonl"))?;
    }
    Ok(Report {
        corpus,
        pages_html,
        pages_text,
    })
}

/// Reads a file.
fn read(path: &Path) -> Result<Vec<u8>, EvalError> {
    std::fs::read(path).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a JSONL file into objects.
fn read_jsonl(path: &Path) -> Result<Vec<Value>, EvalError> {
    let bytes = read(path)?;
    let text = String::from_utf8_lossy(&bytes);
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v = serde_json::from_str(line).map_err(|source| EvalError::Json {
            path: path.to_path_buf(),
            line: i + 1,
            source,
        })?;
        rows.push(v);
    }
    Ok(rows)
}

/// Parses one payload with the real parse stage.
fn parse_bytes(bytes: &[u8], name: &str) -> Result<Story, crate::enrich::ParseError> {
    let raw = RawStory {
        bytes,
        message_id: Some(name),
        content_type: None,
        reference_date: None,
    };
    parse(&raw, &EVAL_OPTIONS)
}

/// Real pages run past the daemon's default 1 MiB story limit.
const EVAL_OPTIONS: EnrichOptions = EnrichOptions {
    max_story_bytes: 16 * 1024 * 1024,
};

/// The corpus report, by format.
fn corpus_report(shared: &Path) -> Result<BTreeMap<String, Tally>, EvalError> {
    let articles = read_jsonl(&shared.join("corpus/articles.jsonl"))?;
    let bodies: FxHashMap<&str, &str> = articles
        .iter()
        .filter_map(|a| Some((a.get("id")?.as_str()?, a.get("body")?.as_str()?)))
        .collect();
    let manifest = read_jsonl(&shared.join("corpus/raw/manifest.jsonl"))?;
    let mut out: BTreeMap<String, Tally> = BTreeMap::new();
    for m in &manifest {
        let s = |k: &str| m.get(k).and_then(Value::as_str);
        let (Some(file), Some(format), Some(article)) = (s("file"), s("format"), s("article_id"))
        else {
            continue;
        };
        let bytes = read(&shared.join("corpus/raw").join(file))?;
        let tally = out.entry(format.to_owned()).or_default();
        tally.n += 1;
        let Ok(story) = parse_bytes(&bytes, file) else {
            tally.errors += 1;
            continue;
        };
        let raw = String::from_utf8_lossy(&bytes);
        score_story(
            tally,
            &story,
            m,
            bodies.get(article).copied().unwrap_or(""),
            &raw,
        );
    }
    Ok(out)
}

/// Adds one parsed corpus story to its tally.
///
/// Byline, dateline, caption credit and date are scored only where the raw payload shows
/// them (the gold value, or for the date its year, appears in the raw text outside the
/// generator's `Source:` and copyright lines): the corpus generator records facts some
/// renderings leave out.
fn score_story(t: &mut Tally, story: &Story, m: &Value, gold_body: &str, raw: &str) {
    // The generator's licence note (`Source: … URL`) and copyright lines are not the story.
    // A one-line (minified) JSON item is pretty-printed first, so that dropping its
    // copyright field does not drop every other field with it.
    let pretty = raw
        .trim_start()
        .starts_with('{')
        .then(|| serde_json::from_str::<Value>(raw).ok())
        .flatten()
        .and_then(|v| serde_json::to_string_pretty(&v).ok());
    let raw_lower: String = pretty
        .as_deref()
        .unwrap_or(raw)
        .lines()
        .filter(|l| {
            let l = l.trim_start().to_lowercase();
            !l.starts_with("source:") && !l.contains("copyright") && !l.contains('©')
        })
        .collect::<Vec<_>>()
        .join("\n")
        .to_lowercase();
    let shown = |v: &str| raw_lower.contains(&v.to_lowercase());
    let s = |k: &str| m.get(k).and_then(Value::as_str).filter(|v| shown(v));
    if let (Some(gold), Some(pred)) = (
        m.get("headline").and_then(Value::as_str),
        story.headline.as_deref(),
    ) {
        if fold(gold) == fold(pred) {
            t.headline_ok += 1;
        }
    }
    let gold_date = m.get("published").and_then(Value::as_str).unwrap_or("");
    let date_shown = date_written(&raw_lower, gold_date);
    if let Some(gold) = Some(gold_date).filter(|_| date_shown) {
        t.date_n += 1;
        if story.published.as_deref().and_then(|p| p.get(..10)) == gold.get(..10) {
            t.date_ok += 1;
        }
    }
    t.f1_sum += token_f1(gold_body, &story.body);
    if let Some(gold) = s("byline") {
        t.byline_n += 1;
        let g = fold(gold);
        let hit = story.byline.authors.iter().any(|a| fold(a) == g)
            || story.byline.agency.as_deref().is_some_and(|a| fold(a) == g);
        t.byline_ok += usize::from(hit);
    }
    if let Some(gold) = s("dateline_city") {
        t.dateline_n += 1;
        let g = fold(gold);
        let hit = story
            .dateline
            .as_ref()
            .and_then(|d| d.location.as_deref())
            .is_some_and(|l| fold(l).starts_with(&g));
        t.dateline_ok += usize::from(hit);
    }
    if let Some(gold) = s("caption_credit") {
        t.credit_n += 1;
        let g = fold(gold);
        t.credit_ok += usize::from(
            story
                .media
                .iter()
                .any(|x| x.credit.as_deref().is_some_and(|c| fold(c) == g)),
        );
    }
}

/// Whether `text` (lower-cased) writes the publication date `YYYY-MM-DD…` so that a reader
/// could take it from the story: as one date expression (`may 17, 2012`, `17 may 2012`,
/// `2012-05-17`, `05/17/2012`: day, month and year within three consecutive tokens), or as
/// a month and day (`sept 16`, a dateline's) in a story that writes the year in some date
/// (`in january 2019`). A month/day and a year that merely share a line (`the 2012
/// championship … tomorrow on may 17`) do not date the story.
fn date_written(text: &str, date: &str) -> bool {
    let (Some(year), Some(month), Some(day)) = (
        date.get(..4).and_then(|y| y.parse::<u32>().ok()),
        date.get(5..7).and_then(|m| m.parse::<u32>().ok()),
        date.get(8..10).and_then(|d| d.parse::<u32>().ok()),
    ) else {
        return false;
    };
    let tokens = digit_and_letter_runs(text);
    let full_date = tokens.windows(3).any(|w| {
        let has_year = w.iter().any(|t| number(t) == Some(year));
        let day_at = w.iter().position(|t| number(t) == Some(day));
        let has_month = w.iter().enumerate().any(|(i, t)| {
            month_name(t) == Some(month) || (Some(i) != day_at && number(t) == Some(month))
        });
        has_year && day_at.is_some() && has_month
    });
    let month_day = tokens.windows(2).any(|w| {
        let named = |t: &str| month_name(t) == Some(month);
        (named(w[0]) && number(w[1]) == Some(day)) || (number(w[0]) == Some(day) && named(w[1]))
    });
    let year_in_a_date = tokens.windows(3).any(|w| {
        let has_year = w.iter().any(|t| number(t) == Some(year));
        let named_month = w.iter().any(|t| month_name(t).is_some());
        let iso = number(w[0]) == Some(year)
            && number(w[1]).is_some_and(|m| (1..=12).contains(&m))
            && number(w[2]).is_some_and(|d| (1..=31).contains(&d));
        (has_year && named_month) || iso
    });
    full_date || (month_day && year_in_a_date)
}

/// The maximal runs of digits and of letters in `text` (`2012-05-17t01` → `2012`, `05`,
/// `17`, `t`, `01`).
fn digit_and_letter_runs(text: &str) -> Vec<&str> {
    let class = |c: char| {
        if c.is_ascii_digit() {
            1
        } else if c.is_alphabetic() {
            2
        } else {
            0
        }
    };
    let mut runs = Vec::new();
    let mut start = None;
    let mut previous = 0;
    for (i, c) in text.char_indices() {
        let kind = class(c);
        if kind != previous {
            if let Some(s) = start.take() {
                runs.push(&text[s..i]);
            }
            if kind != 0 {
                start = Some(i);
            }
            previous = kind;
        }
    }
    if let Some(s) = start {
        runs.push(&text[s..]);
    }
    runs
}

/// A token that is a number (`05` → 5).
fn number(token: &str) -> Option<u32> {
    (token.len() <= 4 && token.bytes().all(|b| b.is_ascii_digit()))
        .then(|| token.parse().ok())
        .flatten()
}

/// The month a lower-case token names (`sept`, `september`, `may`), 1-based.
fn month_name(token: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    if token.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| m.starts_with(token))
        .and_then(|i| u32::try_from(i + 1).ok())
}

/// Folds quotes, dashes, case and spaces for exact-match comparisons.
fn fold(s: &str) -> String {
    let mapped: String = s
        .chars()
        .map(|c| match c {
            '‘' | '’' | '‚' | '‛' | '′' | '´' | '`' => '\'',
            '“' | '”' | '„' | '‟' | '″' | '«' | '»' => '"',
            '‐' | '‑' | '‒' | '–' | '—' | '―' | '−' => '-',
            c => c,
        })
        .collect();
    mapped
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

static WORD: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\w+").expect("static regex"));

/// Token F1 of lower-cased `\w+` words, multiset overlap (score.py's primary figure).
pub fn token_f1(gold: &str, pred: &str) -> f64 {
    let count = |s: &str| {
        let lower = s.to_lowercase();
        let mut m: FxHashMap<String, usize> = FxHashMap::default();
        let mut n = 0;
        for w in WORD.find_iter(&lower) {
            *m.entry(w.as_str().to_owned()).or_default() += 1;
            n += 1;
        }
        (m, n)
    };
    let (g, gn) = count(gold);
    let (p, pn) = count(pred);
    if gn == 0 && pn == 0 {
        return 1.0;
    }
    if gn == 0 || pn == 0 {
        return 0.0;
    }
    let tp: usize = p
        .iter()
        .map(|(w, c)| (*c).min(g.get(w).copied().unwrap_or(0)))
        .sum();
    2.0 * tp as f64 / (gn + pn) as f64
}

/// Parses the real pages of one kind, writes predictions and scores them.
fn real_pages(
    shared: &Path,
    gold: &[Value],
    kind: &str,
    pred: &Path,
) -> Result<PageScore, EvalError> {
    let dir = shared.join("data/parse").join(kind);
    let ext = if kind == "pages" { "html" } else { "txt" };
    let mut lines = String::new();
    let mut f1 = 0.0;
    let mut n = 0;
    let mut secs = 0.0;
    for g in gold {
        let (Some(id), Some(file), Some(body)) = (
            g.get("id").and_then(Value::as_str),
            g.get("file").and_then(Value::as_str),
            g.get("body").and_then(Value::as_str),
        ) else {
            continue;
        };
        let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
        let bytes = read(&dir.join(format!("{stem}.{ext}")))?;
        let start = CpuClock::now();
        let story = parse_bytes(&bytes, file).ok();
        secs += start.elapsed_secs();
        let pbody = story.as_ref().map_or("", |s| s.body.as_str());
        f1 += token_f1(body, pbody);
        n += 1;
        let row = serde_json::json!({
            "id": id,
            "headline": story.as_ref().and_then(|s| s.headline.clone()),
            "published": story.as_ref().and_then(|s| s.published.clone()),
            "body": pbody,
        });
        lines.push_str(&row.to_string());
        lines.push('\n');
    }
    std::fs::write(pred, lines).map_err(|source| EvalError::Io {
        path: pred.to_path_buf(),
        source,
    })?;
    Ok(PageScore {
        n,
        f1: ratio_f(f1, n),
        pages_per_sec: if secs > 0.0 {
            n as f64 / secs
        } else {
            f64::NAN
        },
        python_f1: None,
    })
}

/// This thread's CPU time (so pages/s/core is not skewed by other processes on a busy
/// machine); wall time where the platform has no thread clock.
struct CpuClock {
    wall: Instant,
    cpu: Option<f64>,
}

impl CpuClock {
    fn now() -> Self {
        Self {
            wall: Instant::now(),
            cpu: thread_cpu_secs(),
        }
    }

    fn elapsed_secs(&self) -> f64 {
        match (self.cpu, thread_cpu_secs()) {
            (Some(a), Some(b)) => b - a,
            _ => self.wall.elapsed().as_secs_f64(),
        }
    }
}

/// `CLOCK_THREAD_CPUTIME_ID` in seconds.
#[cfg(unix)]
fn thread_cpu_secs() -> Option<f64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the call only writes into it.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0).then(|| ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9)
}

#[cfg(not(unix))]
fn thread_cpu_secs() -> Option<f64> {
    None
}

/// Runs `python3 score.py --json` and reads its primary body F1.
fn python_score(shared: &Path, gold: &Path, pred: &Path) -> Result<Option<f64>, EvalError> {
    let script = shared.join("data/parse/score.py");
    let output = Command::new("python3")
        .arg(&script)
        .arg("--gold")
        .arg(gold)
        .arg("--pred")
        .arg(pred)
        .arg("--json")
        .output();
    let Ok(output) = output else {
        return Ok(None);
    };
    if !output.status.success() {
        return Err(EvalError::Other(format!(
            "score.py failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    let v: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| EvalError::Other(format!("score.py output: {e}")))?;
    Ok(v.pointer("/body/f1").and_then(Value::as_f64))
}

/// The printed table.
pub fn render(r: &Report) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let pct = |x: f64| {
        if x.is_nan() {
            "   -  ".to_owned()
        } else {
            format!("{:6.1}%", 100.0 * x)
        }
    };
    let _ = writeln!(out, "corpus (../shared/corpus/raw)");
    let _ = writeln!(
        out,
        "{:<7} {:>4} {:>4} {:>8} {:>8} {:>8} {:>8} {:>9} {:>8}",
        "format", "n", "err", "headline", "date", "body F1", "byline", "dateline", "credit"
    );
    for (fmt, t) in &r.corpus {
        let _ = writeln!(
            out,
            "{:<7} {:>4} {:>4} {:>8} {:>8} {:>8.4} {:>8} {:>9} {:>8}",
            fmt,
            t.n,
            t.errors,
            pct(t.headline()),
            pct(t.date()),
            t.f1(),
            pct(ratio(t.byline_ok, t.byline_n)),
            pct(ratio(t.dateline_ok, t.dateline_n)),
            pct(ratio(t.credit_ok, t.credit_n)),
        );
    }
    let shown: Vec<String> = r
        .corpus
        .iter()
        .map(|(fmt, t)| format!("{fmt} {}/{}", t.date_n, t.n))
        .collect();
    let _ = writeln!(
        out,
        "(date: scored where the raw text writes it as a date: {})",
        shown.join(", ")
    );
    let _ = writeln!(out, "\nreal pages (../shared/data/parse)");
    for (name, p) in [("html", &r.pages_html), ("text", &r.pages_text)] {
        let py = p
            .python_f1
            .map_or_else(|| "-".to_owned(), |f| format!("{f:.4}"));
        let _ = writeln!(
            out,
            "{name:<5} n={:<3} body F1 {:.4} (score.py: {py})  {:.0} pages/s",
            p.n, p.f1, p.pages_per_sec
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_f1_counts_multisets() {
        assert!((token_f1("a b b c", "a b c") - 6.0 / 7.0).abs() < 1e-9);
        assert_eq!(token_f1("", ""), 1.0);
        assert_eq!(token_f1("a", ""), 0.0);
        assert_eq!(token_f1("The Cat", "the cat."), 1.0);
    }

    #[test]
    fn fold_ignores_quote_style() {
        assert_eq!(
            fold("Syria deal: US, Russia ‘not there yet’"),
            fold("syria deal: US, Russia 'not there  yet'")
        );
    }

    #[test]
    fn a_date_is_written_as_a_date_not_as_scattered_numbers() {
        let d = "2012-05-17T01:31:46Z";
        assert!(date_written("moscow, may 17, 2012 - text", d));
        assert!(date_written("updated 17 may 2012 10:20", d));
        assert!(date_written("2012-05-17t01:31z", d));
        assert!(date_written("05/17/2012", d));
        // A dateline's month and day, with the year written in some date of the story.
        assert!(date_written(
            "moscow, may 17 (agency) - a\nin january 2012 it began",
            d
        ));
        // An event's year and an event's day on one line do not date the story.
        assert!(!date_written(
            "the 2012 world championship, tomorrow on may 17.",
            d
        ));
        assert!(!date_written("may 18, 2012", d));
        assert!(!date_written("no date at all", d));
    }

    #[test]
    fn missing_shared_dir_is_an_error() {
        let e = shared_dir(Some(Path::new("/nonexistent/shared"))).expect_err("missing");
        assert!(e.to_string().contains("shared data not found"));
    }
}
