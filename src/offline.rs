//! Offline inputs and offline enrichment: what `wire-enricher enrich` and `replay` read,
//! and how `enrich` turns them into records without a bus.
//!
//! [`read_inputs`] turns command-line paths (`-` for stdin, files, directories, JSONL)
//! into [`InputStory`] values; [`enrich_inputs`] runs the core over them on every core and
//! prints one JSON record per line, in input order; [`record_for`] is the pure step both
//! use, so the daemon and the tests can reproduce exactly what `enrich` prints.
//!
//! Must not: talk to NATS, stop a run because one story fails to parse, or give a file
//! story a message id (the record id must come from the payload or the content hash, so
//! replaying a file through the bus and enriching it offline give the same id).

use std::collections::HashSet;
use std::io::{self, Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use thiserror::Error;

use crate::enrich::record::{EnrichedRecord, SourceInfo};
use crate::enrich::{story_id, Enricher, ParseError, RawStory};

/// The name that stands for standard input, as a path argument and as a story name.
pub const STDIN_NAME: &str = "-";

/// Stories handed to one round of worker threads per thread: large enough that thread
/// start-up is noise, small enough that output streams out and memory stays flat.
const STORIES_PER_THREAD_PER_BATCH: usize = 32;

/// One story to enrich, read from a file, a JSONL line or stdin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputStory {
    /// Where it came from: the file path, `path:line` for a JSONL line, or `-` for stdin.
    /// Offline it becomes the record's `source.subject`.
    pub name: String,
    /// The payload exactly as read (a JSONL line without its line break).
    pub bytes: Vec<u8>,
    /// A transport message id, if the input had one; `None` for files and JSONL lines.
    pub message_id: Option<String>,
    /// The day the story was filed (`enrich --reference-date`): the year anchor for a
    /// dateline written without a year. `None` unless the caller sets it.
    pub reference_date: Option<jiff::civil::Date>,
}

/// Why offline inputs could not be read or records not written.
#[derive(Debug, Error)]
pub enum OfflineError {
    /// A file or directory could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The path that failed.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// Standard input could not be read.
    #[error("cannot read standard input")]
    Stdin(#[source] io::Error),
    /// A directory holds no story files (after skipping hidden files, `*.expected.json`,
    /// `manifest.jsonl` and READMEs).
    #[error("no stories found in directory {}", path.display())]
    EmptyDirectory {
        /// The directory.
        path: PathBuf,
    },
    /// Records could not be written (e.g. the reader of stdout went away).
    #[error("cannot write records")]
    Write(#[source] io::Error),
}

/// Reads the stories named by `paths`, in order.
///
/// - `-`: standard input, as one story, or as JSONL when every non-empty line is a JSON
///   object;
/// - a directory: its files, recursively, sorted by name, skipping hidden entries,
///   `*.expected.json`, `manifest.jsonl`, `README*` and `ATTRIBUTION*`;
/// - a `*.jsonl` file: one story per non-empty line;
/// - any other file: one story.
///
/// # Errors
/// [`OfflineError::Read`] / [`OfflineError::Stdin`] when something cannot be read;
/// [`OfflineError::EmptyDirectory`] when a directory has no story files.
pub fn read_inputs(paths: &[PathBuf]) -> Result<Vec<InputStory>, OfflineError> {
    let mut stories = Vec::new();
    for path in paths {
        if path.as_os_str() == STDIN_NAME {
            stories.extend(stories_from_reader(STDIN_NAME, io::stdin().lock())?);
        } else if is_dir(path)? {
            let before = stories.len();
            let mut visited = HashSet::new();
            read_dir_into(path, &mut visited, &mut stories)?;
            if stories.len() == before {
                return Err(OfflineError::EmptyDirectory { path: path.clone() });
            }
        } else {
            read_file_into(path, &mut stories)?;
        }
    }
    Ok(stories)
}

/// The stories in one stream read under `name` (stdin): JSONL when every non-empty line
/// is a JSON object, else the whole stream as one story.
///
/// # Errors
/// [`OfflineError::Stdin`] when the reader fails.
pub(crate) fn stories_from_reader(
    name: &str,
    mut reader: impl Read,
) -> Result<Vec<InputStory>, OfflineError> {
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(OfflineError::Stdin)?;
    if is_jsonl(&bytes) {
        Ok(jsonl_stories(name, &bytes))
    } else {
        Ok(vec![InputStory {
            name: name.to_owned(),
            bytes,
            message_id: None,
            reference_date: None,
        }])
    }
}

/// Whether `bytes` has at least one non-empty line and every non-empty line is a JSON
/// object. A pretty-printed JSON document spreads one object over many lines, so it is
/// not JSONL and stays one story.
fn is_jsonl(bytes: &[u8]) -> bool {
    let mut lines = non_empty_lines(bytes).peekable();
    lines.peek().is_some() && lines.all(|(_, line)| is_json_object(line))
}

fn is_json_object(line: &[u8]) -> bool {
    line.trim_ascii().starts_with(b"{")
        && serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok()
}

/// `(1-based line number, line without its line break)` for every line that is not blank.
fn non_empty_lines(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, line)| (i + 1, line.strip_suffix(b"\r").unwrap_or(line)))
        .filter(|(_, line)| !line.trim_ascii().is_empty())
}

/// One story per non-empty line, named `name:line`.
fn jsonl_stories(name: &str, bytes: &[u8]) -> Vec<InputStory> {
    non_empty_lines(bytes)
        .map(|(number, line)| InputStory {
            name: format!("{name}:{number}"),
            bytes: line.to_vec(),
            message_id: None,
            reference_date: None,
        })
        .collect()
}

fn is_dir(path: &Path) -> Result<bool, OfflineError> {
    std::fs::metadata(path)
        .map(|m| m.is_dir())
        .map_err(|source| read_error(path, source))
}

fn read_error(path: &Path, source: io::Error) -> OfflineError {
    OfflineError::Read {
        path: path.to_owned(),
        source,
    }
}

/// Reads one file given explicitly or found in a directory.
fn read_file_into(path: &Path, stories: &mut Vec<InputStory>) -> Result<(), OfflineError> {
    let bytes = std::fs::read(path).map_err(|source| read_error(path, source))?;
    let name = path.to_string_lossy();
    if path.extension().is_some_and(|ext| ext == "jsonl") {
        stories.extend(jsonl_stories(&name, &bytes));
    } else {
        stories.push(InputStory {
            name: name.into_owned(),
            bytes,
            message_id: None,
            reference_date: None,
        });
    }
    Ok(())
}

/// Reads a directory's story files, recursively, in name order. `visited` holds the
/// canonical paths already walked, so a symlink loop cannot recurse forever.
fn read_dir_into(
    dir: &Path,
    visited: &mut HashSet<PathBuf>,
    stories: &mut Vec<InputStory>,
) -> Result<(), OfflineError> {
    let canonical = dir
        .canonicalize()
        .map_err(|source| read_error(dir, source))?;
    if !visited.insert(canonical) {
        return Ok(());
    }
    let mut entries = std::fs::read_dir(dir)
        .map_err(|source| read_error(dir, source))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| read_error(dir, source))?;
    entries.sort();
    for path in entries {
        if is_skipped(&path) {
            continue;
        }
        if is_dir(&path)? {
            read_dir_into(&path, visited, stories)?;
        } else {
            read_file_into(&path, stories)?;
        }
    }
    Ok(())
}

/// Files in a directory that are not stories: hidden entries, golden expectations,
/// corpus manifests, READMEs and ATTRIBUTION files.
fn is_skipped(path: &Path) -> bool {
    let Some(name) = path.file_name().map(|n| n.to_string_lossy()) else {
        return true;
    };
    name.starts_with('.')
        || name.ends_with(".expected.json")
        || name == "manifest.jsonl"
        || name.starts_with("README")
        || name.starts_with("ATTRIBUTION")
}

/// How `enrich` reports while it runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnrichOutput {
    /// Draw a progress bar on stderr (the caller sets this only for a terminal and
    /// many inputs).
    pub progress: bool,
}

/// What an offline run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Stories read.
    pub stories: usize,
    /// Records printed.
    pub records: usize,
    /// Stories that could not be enriched (reported on stderr).
    pub failed: usize,
}

/// The record offline `enrich` prints for one input, received at `received_at`:
/// `source.subject` is the input's name, `stream` and `stream_sequence` are null.
///
/// # Errors
/// The [`ParseError`] when the story cannot be parsed.
pub fn record_for(
    input: &InputStory,
    enricher: &Enricher,
    received_at: jiff::Timestamp,
) -> Result<EnrichedRecord, ParseError> {
    let raw = RawStory {
        bytes: &input.bytes,
        message_id: input.message_id.as_deref(),
        content_type: None,
        reference_date: input.reference_date,
    };
    let stage1 = enricher.parse(&raw)?;
    let id = story_id(&stage1.story, &raw);
    // The format is only known once the story is parsed, so the source info is built
    // here rather than passed into `Enricher::enrich` up front.
    let source = SourceInfo {
        subject: input.name.clone(),
        stream: None,
        stream_sequence: None,
        format: stage1.story.format,
        received_at: received_at.to_string(),
    };
    let stage3 = enricher.entities(enricher.quotes(stage1));
    Ok(enricher.finish(stage3, id, source))
}

/// Enriches `inputs` on every core and writes one JSON record per line to `out`, in input
/// order. A story that fails prints `error: <name>: <kind>: <message>` on stderr and is
/// counted in [`Summary::failed`]; it never stops the run.
///
/// # Errors
/// [`OfflineError::Write`] when `out` cannot be written (e.g. a closed pipe).
pub fn enrich_inputs(
    inputs: &[InputStory],
    enricher: &Enricher,
    out: &mut dyn Write,
    opts: &EnrichOutput,
) -> Result<Summary, OfflineError> {
    // Not locked: the progress bar writes to stderr from the worker threads too.
    let mut errors = io::stderr();
    enrich_inputs_to(inputs, enricher, out, &mut errors, opts, now)
}

/// The received time for an offline story: now, in UTC, to the millisecond.
fn now() -> jiff::Timestamp {
    let now = jiff::Timestamp::now();
    now.round(jiff::Unit::Millisecond).unwrap_or(now)
}

/// What became of one story.
enum Outcome {
    /// The record as one JSON line (without the line break).
    Record(String),
    /// Why there is no record: `kind: message`.
    Failed { kind: &'static str, message: String },
}

/// [`enrich_inputs`] with the error stream and the clock passed in, for tests.
fn enrich_inputs_to(
    inputs: &[InputStory],
    enricher: &Enricher,
    out: &mut dyn Write,
    errors: &mut dyn Write,
    opts: &EnrichOutput,
    clock: fn() -> jiff::Timestamp,
) -> Result<Summary, OfflineError> {
    let threads = worker_threads(inputs.len());
    let progress = opts.progress.then(|| progress_bar(inputs.len()));
    let mut summary = Summary {
        stories: inputs.len(),
        ..Summary::default()
    };
    for batch in inputs.chunks(threads * STORIES_PER_THREAD_PER_BATCH) {
        let outcomes = enrich_batch(batch, enricher, threads, clock, progress.as_ref());
        for (input, outcome) in batch.iter().zip(outcomes) {
            match outcome {
                Outcome::Record(line) => {
                    writeln!(out, "{line}").map_err(OfflineError::Write)?;
                    summary.records += 1;
                }
                Outcome::Failed { kind, message } => {
                    summary.failed += 1;
                    let mut report =
                        || writeln!(errors, "error: {}: {kind}: {message}", input.name);
                    // Failing to report a failure must not hide the records, so ignore it.
                    let _ = match &progress {
                        Some(bar) => bar.suspend(report),
                        None => report(),
                    };
                }
            }
        }
    }
    out.flush().map_err(OfflineError::Write)?;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    Ok(summary)
}

/// One thread per core, but no more threads than stories.
fn worker_threads(stories: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores.min(stories).max(1)
}

fn progress_bar(len: usize) -> ProgressBar {
    let bar = ProgressBar::new(u64::try_from(len).unwrap_or(u64::MAX));
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40.cyan/blue} {pos}/{len} stories  {per_sec}  eta {eta}")
    {
        bar.set_style(style);
    }
    bar
}

/// Enriches one batch over `threads` scoped threads; the outcomes keep the batch order.
fn enrich_batch(
    batch: &[InputStory],
    enricher: &Enricher,
    threads: usize,
    clock: fn() -> jiff::Timestamp,
    progress: Option<&ProgressBar>,
) -> Vec<Outcome> {
    let per_thread = batch.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = batch
            .chunks(per_thread)
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|input| {
                            let outcome = enrich_one(input, enricher, clock());
                            if let Some(bar) = progress {
                                bar.inc(1);
                            }
                            outcome
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .zip(batch.chunks(per_thread))
            .flat_map(|(worker, chunk)| {
                // `enrich_one` catches panics, so a worker can only fail to join if
                // the progress bar panicked; report its stories as failed.
                worker.join().unwrap_or_else(|_| {
                    chunk
                        .iter()
                        .map(|_| Outcome::Failed {
                            kind: "panic",
                            message: "worker thread panicked".to_owned(),
                        })
                        .collect()
                })
            })
            .collect()
    })
}

/// Enriches one story into its JSON line. A panic in the core (a bug) is caught and
/// reported as this story's failure rather than ending the run.
fn enrich_one(input: &InputStory, enricher: &Enricher, received_at: jiff::Timestamp) -> Outcome {
    let result = catch_unwind(AssertUnwindSafe(|| {
        record_for(input, enricher, received_at)
    }));
    match result {
        Ok(Ok(record)) => match serde_json::to_string(&record) {
            Ok(line) => Outcome::Record(line),
            Err(e) => Outcome::Failed {
                kind: "serialize",
                message: e.to_string(),
            },
        },
        Ok(Err(error)) => Outcome::Failed {
            kind: error.kind(),
            message: error.to_string(),
        },
        Err(_) => Outcome::Failed {
            kind: "panic",
            message: "the enrichment core panicked (a bug; see the panic message above)".to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::EnrichOptions;

    fn write(path: &Path, text: &str) {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, text).expect("write fixture");
    }

    fn names(stories: &[InputStory]) -> Vec<String> {
        stories.iter().map(|s| s.name.clone()).collect()
    }

    fn fixed_clock() -> jiff::Timestamp {
        "2016-09-08T12:00:00Z".parse().expect("valid timestamp")
    }

    fn story(name: &str, text: &str) -> InputStory {
        InputStory {
            name: name.to_owned(),
            bytes: text.as_bytes().to_vec(),
            message_id: None,
            reference_date: None,
        }
    }

    #[test]
    fn directory_is_walked_sorted_and_recursively_skipping_non_stories() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path();
        write(&root.join("b.txt"), "B story");
        write(&root.join("a.html"), "<p>A</p>");
        write(&root.join("a.expected.json"), "{}");
        write(&root.join("manifest.jsonl"), "{\"x\":1}\n");
        write(&root.join("README.md"), "docs");
        write(&root.join("ATTRIBUTION.md"), "credits");
        write(&root.join(".hidden.txt"), "no");
        write(&root.join(".git/objects.txt"), "no");
        write(&root.join("sub/c.txt"), "C story");
        write(
            &root.join("sub/d.jsonl"),
            "{\"body\":\"one\"}\n\n{\"body\":\"two\"}\n",
        );

        let stories = read_inputs(&[root.to_path_buf()]).expect("read");
        let rel: Vec<String> = names(&stories)
            .iter()
            .map(|n| {
                n.strip_prefix(&*root.to_string_lossy())
                    .unwrap_or(n)
                    .to_owned()
            })
            .collect();
        assert_eq!(
            rel,
            [
                "/a.html",
                "/b.txt",
                "/sub/c.txt",
                "/sub/d.jsonl:1",
                "/sub/d.jsonl:3"
            ]
        );
        assert_eq!(stories[3].bytes, b"{\"body\":\"one\"}");
        assert!(stories.iter().all(|s| s.message_id.is_none()));
    }

    #[test]
    fn explicit_files_keep_their_bytes_and_order() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let z = tmp.path().join("z.txt");
        let a = tmp.path().join("a.expected.json");
        write(&z, "Z\r\n");
        write(&a, "{\"body\":\"given explicitly, so read\"}");
        let stories = read_inputs(&[z.clone(), a.clone()]).expect("read");
        assert_eq!(names(&stories), [z.to_string_lossy(), a.to_string_lossy()]);
        assert_eq!(stories[0].bytes, b"Z\r\n");
    }

    #[test]
    fn jsonl_file_strips_crlf_and_skips_blank_lines() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("s.jsonl");
        write(&path, "{\"body\":\"a\"}\r\n   \r\n{\"body\":\"b\"}");
        let stories = read_inputs(&[path]).expect("read");
        assert_eq!(stories.len(), 2);
        assert_eq!(stories[0].bytes, b"{\"body\":\"a\"}");
        assert!(
            stories[1].name.ends_with("s.jsonl:3"),
            "{}",
            stories[1].name
        );
    }

    #[test]
    fn missing_path_and_empty_directory_are_errors() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let missing = tmp.path().join("nope.txt");
        let err = read_inputs(&[missing]).expect_err("missing file");
        assert!(matches!(err, OfflineError::Read { .. }), "{err:?}");
        write(&tmp.path().join("README"), "only docs");
        let err = read_inputs(&[tmp.path().to_path_buf()]).expect_err("no stories");
        assert!(
            matches!(err, OfflineError::EmptyDirectory { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn stdin_with_only_json_object_lines_is_jsonl() {
        let input = "{\"id\":\"1\",\"body\":\"x\"}\n\n{\"id\":\"2\",\"body\":\"y\"}\n";
        let stories = stories_from_reader("-", input.as_bytes()).expect("read");
        assert_eq!(names(&stories), ["-:1", "-:3"]);
        assert_eq!(stories[1].bytes, b"{\"id\":\"2\",\"body\":\"y\"}");
    }

    #[test]
    fn stdin_text_or_pretty_json_is_one_story() {
        let text = "WASHINGTON - Something happened.\n\nMore text.\n";
        let stories = stories_from_reader("-", text.as_bytes()).expect("read");
        assert_eq!(stories, [story("-", text)]);

        let pretty = "{\n  \"body\": \"x\"\n}\n";
        let stories = stories_from_reader("-", pretty.as_bytes()).expect("read");
        assert_eq!(stories, [story("-", pretty)]);

        let mixed = "{\"body\":\"x\"}\nnot json\n";
        assert_eq!(
            stories_from_reader("-", mixed.as_bytes())
                .expect("read")
                .len(),
            1
        );

        let empty = stories_from_reader("-", &b""[..]).expect("read");
        assert_eq!(empty, [story("-", "")]);
    }

    #[test]
    fn record_for_fills_offline_source_info() {
        let enricher = Enricher::with_embedded_model(EnrichOptions::default());
        let input = story("dir/story.txt", "First paragraph.\n\nSecond paragraph.");
        let record = record_for(&input, &enricher, fixed_clock()).expect("parses");
        assert_eq!(record.source.subject, "dir/story.txt");
        assert_eq!(record.source.stream, None);
        assert_eq!(record.source.stream_sequence, None);
        assert_eq!(record.source.received_at, "2016-09-08T12:00:00Z");
        assert_eq!(record.id, crate::enrich::content_hash_id(&input.bytes));
    }

    #[test]
    fn enrich_prints_records_in_order_and_reports_failures() {
        let enricher = Enricher::with_embedded_model(EnrichOptions::default());
        let mut inputs: Vec<InputStory> = (0..150)
            .map(|i| story(&format!("s{i}"), &format!("Story number {i}.\n\nMore.")))
            .collect();
        inputs[7] = story("empty-one", "   \n");
        inputs[120] = InputStory {
            name: "bad-utf8".to_owned(),
            bytes: vec![b'a', 0xff, 0xfe],
            message_id: None,
            reference_date: None,
        };
        let mut out = Vec::new();
        let mut errors = Vec::new();
        let summary = enrich_inputs_to(
            &inputs,
            &enricher,
            &mut out,
            &mut errors,
            &EnrichOutput::default(),
            fixed_clock,
        )
        .expect("run");
        assert_eq!(
            summary,
            Summary {
                stories: 150,
                records: 148,
                failed: 2
            }
        );

        let subjects: Vec<String> = String::from_utf8(out)
            .expect("utf-8")
            .lines()
            .map(|line| {
                let record: EnrichedRecord = serde_json::from_str(line).expect("record line");
                record.source.subject
            })
            .collect();
        let expected: Vec<String> = inputs
            .iter()
            .map(|s| s.name.clone())
            .filter(|n| n != "empty-one" && n != "bad-utf8")
            .collect();
        assert_eq!(subjects, expected);

        let errors = String::from_utf8(errors).expect("utf-8");
        assert!(
            errors.contains("error: empty-one: empty: story is empty"),
            "{errors}"
        );
        assert!(
            errors.contains("error: bad-utf8: invalid_utf8: "),
            "{errors}"
        );
    }

    #[test]
    fn progress_bar_run_reports_failures_and_finishes() {
        // With a bar, failures are reported through `ProgressBar::suspend` while worker
        // threads tick it (the bar itself stays hidden here: stderr is not a terminal).
        // No line may be lost and nothing may block.
        let enricher = Enricher::with_embedded_model(EnrichOptions::default());
        let inputs: Vec<InputStory> = (0..40)
            .map(|i| story(&format!("p{i}"), if i % 10 == 0 { "" } else { "Text." }))
            .collect();
        let mut errors = Vec::new();
        let summary = enrich_inputs_to(
            &inputs,
            &enricher,
            &mut io::sink(),
            &mut errors,
            &EnrichOutput { progress: true },
            fixed_clock,
        )
        .expect("run");
        assert_eq!((summary.records, summary.failed), (36, 4));
        let errors = String::from_utf8(errors).expect("utf-8");
        assert_eq!(errors.lines().count(), 4, "{errors}");
    }

    #[test]
    fn write_failure_is_an_error() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::BrokenPipe, "closed"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let enricher = Enricher::with_embedded_model(EnrichOptions::default());
        let inputs = [story("a", "Some text.")];
        let err = enrich_inputs_to(
            &inputs,
            &enricher,
            &mut Closed,
            &mut io::sink(),
            &EnrichOutput::default(),
            fixed_clock,
        )
        .expect_err("closed output");
        assert!(matches!(err, OfflineError::Write(_)), "{err:?}");
    }
}
