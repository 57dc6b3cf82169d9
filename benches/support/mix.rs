//! The fixed story mix every bench runs over: the files of `tests/fixtures/stories/`
//! (always there, the seed among them) plus the raw feed items of
//! `<shared>/corpus/raw/` when that folder exists (`WIRE_ENRICHER_SHARED`, else
//! `../shared` beside the repository).
//!
//! Must not: copy shared data anywhere, change a story's bytes, or depend on the order
//! the file system lists files in (the mix is sorted by path so every run is the same).

use std::path::{Path, PathBuf};

/// One story of the mix: its bytes exactly as on disk.
#[derive(Debug, Clone)]
pub(crate) struct MixStory {
    /// Where it came from, relative to its folder (for messages only).
    #[allow(dead_code)] // read by the core bench only
    pub(crate) name: String,
    /// The raw bytes.
    pub(crate) bytes: Vec<u8>,
}

/// The whole mix and a one-line description of where it came from.
#[derive(Debug, Clone)]
pub(crate) struct Mix {
    /// The stories, fixtures first, each group sorted by file name.
    pub(crate) stories: Vec<MixStory>,
    /// Which folders were used and how many stories each gave.
    pub(crate) description: String,
}

/// The repository's fixture stories folder.
pub(crate) fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stories")
}

/// The shared data folder: `WIRE_ENRICHER_SHARED`, else `../shared` beside the repo.
pub(crate) fn shared_dir() -> PathBuf {
    match std::env::var_os("WIRE_ENRICHER_SHARED") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"),
    }
}

/// Loads the mix. Fixtures are required; the shared corpus is used when present.
///
/// # Errors
/// A message when the fixtures folder cannot be read or holds no story.
pub(crate) fn load() -> Result<Mix, String> {
    let fixtures = fixtures_dir();
    let mut stories = read_story_files(&fixtures)
        .map_err(|e| format!("cannot read {}: {e}", fixtures.display()))?;
    if stories.is_empty() {
        return Err(format!("no story files in {}", fixtures.display()));
    }
    let fixture_count = stories.len();
    let corpus = shared_dir().join("corpus/raw");
    let corpus_part = if corpus.is_dir() {
        let more = read_story_files(&corpus)
            .map_err(|e| format!("cannot read {}: {e}", corpus.display()))?;
        let part = format!(" + {} from {}", more.len(), corpus.display());
        stories.extend(more);
        part
    } else {
        format!(" (no corpus: {} is missing)", corpus.display())
    };
    let total: usize = stories.iter().map(|s| s.bytes.len()).sum();
    let description = format!(
        "{} stories, {:.2} MB: {fixture_count} from {}{corpus_part}",
        stories.len(),
        total as f64 / 1e6,
        fixtures.display(),
    );
    Ok(Mix {
        stories,
        description,
    })
}

/// The story files of one folder, sorted by name. Skips hidden files, gold files
/// (`*.expected.json`), manifests and notes (`*.jsonl`, `*.md`).
fn read_story_files(dir: &Path) -> std::io::Result<Vec<MixStory>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file() && is_story_file(path))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path)?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            Ok(MixStory { name, bytes })
        })
        .collect()
}

fn is_story_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    !(name.starts_with('.')
        || name.ends_with(".expected.json")
        || name.ends_with(".jsonl")
        || name.ends_with(".md"))
}
