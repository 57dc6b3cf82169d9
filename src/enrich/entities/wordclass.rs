//! Word classes learned from unlabelled news text, as tagger features.
//!
//! A name the annotated training set never shows (`Magnitogorsk`, `Qasemi`) still gets
//! evidence when open news text uses it in the same contexts as names the tagger knows.
//! [`learn`] describes every frequent word form by the words around it (two to each side:
//! the frequent ones by identity, the rest by shape), clusters those context profiles with
//! spherical k-means into fine classes, and groups the fine classes into coarse ones. The
//! result is compiled compactly (`WEWCL001`: a header, then rows of (word hash, fine class,
//! coarse class), sorted by hash) and read back by [`WordClasses::load`]. Only hashes of
//! word forms are stored, never text.
//!
//! Deterministic: the same texts and [`Options`] give the same bytes (k-means++ seeding
//! from a given seed; every tie broken by order).
//!
//! Must not: do I/O (callers pass the texts), or panic on malformed bytes.

use rustc_hash::FxHashMap;

use super::hash;
use super::tokenize::tokenize;

const MAGIC: &[u8; 8] = b"WEWCL001";
/// Bytes per row: word hash (8), fine class (2), coarse class (2).
const ROW_BYTES: usize = 12;

/// Clustering settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// Number of fine classes.
    pub fine: usize,
    /// Number of coarse classes (groups of fine classes).
    pub coarse: usize,
    /// Word forms seen fewer times than this get no class.
    pub min_count: u32,
    /// How many of the most frequent (lower-cased) words are context features by identity.
    pub context_words: usize,
    /// k-means iterations.
    pub iterations: usize,
    /// Seed of the k-means++ choices.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            fine: 400,
            coarse: 50,
            min_count: 3,
            context_words: 500,
            iterations: 12,
            seed: 20_160_908,
        }
    }
}

/// A word form's classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Classes {
    /// Fine class.
    pub(crate) fine: u16,
    /// Coarse class.
    pub(crate) coarse: u16,
}

/// Loaded word classes: word-form hash to classes.
#[derive(Debug, Default)]
pub struct WordClasses {
    map: FxHashMap<u64, Classes>,
    checksum: u64,
}

/// Errors reading compiled word classes.
#[derive(Debug, thiserror::Error)]
pub enum WordClassError {
    /// The bytes are not compiled word classes.
    #[error("not compiled word classes (bad magic or truncated)")]
    Format,
}

/// The hash a word form is stored under (the tagger's word-form hash).
pub(crate) fn word_hash(word: &str) -> u64 {
    hash::str(0x776f, word)
}

impl WordClasses {
    /// Reads compiled word classes.
    ///
    /// # Errors
    /// [`WordClassError::Format`] when the bytes are not compiled word classes.
    pub fn load(bytes: &[u8]) -> Result<Self, WordClassError> {
        let rest = bytes.strip_prefix(MAGIC).ok_or(WordClassError::Format)?;
        let (n, rows) = rest.split_at_checked(4).ok_or(WordClassError::Format)?;
        let n = u32::from_le_bytes([n[0], n[1], n[2], n[3]]) as usize;
        if rows.len() != n.checked_mul(ROW_BYTES).ok_or(WordClassError::Format)? {
            return Err(WordClassError::Format);
        }
        let mut map = FxHashMap::with_capacity_and_hasher(n, Default::default());
        for r in rows.chunks_exact(ROW_BYTES) {
            let key = u64::from_le_bytes([r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]]);
            let fine = u16::from_le_bytes([r[8], r[9]]);
            let coarse = u16::from_le_bytes([r[10], r[11]]);
            map.insert(key, Classes { fine, coarse });
        }
        Ok(Self {
            map,
            checksum: hash::bytes(2, bytes),
        })
    }

    /// The classes of a word form, by [`word_hash`].
    #[inline]
    pub(crate) fn get(&self, word_hash: u64) -> Option<Classes> {
        self.map.get(&word_hash).copied()
    }

    /// Number of word forms with classes.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no word has a class.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// A checksum of the compiled bytes (a model records the one it was trained with).
    pub fn checksum(&self) -> u64 {
        self.checksum
    }
}

/// Context slots per position: the frequent words, five shapes, and the sentence edge.
fn block_size(opts: &Options) -> usize {
    opts.context_words + 6
}

/// The context slot of a word that is not among the frequent ones: its shape.
fn shape_slot(word: &str, context_words: usize) -> usize {
    let mut chars = word.chars();
    let first = chars.next();
    let has_digit = word.chars().any(|c| c.is_ascii_digit());
    let upper = word.chars().filter(|c| c.is_uppercase()).count();
    let lower = word.chars().filter(|c| c.is_lowercase()).count();
    let kind = if has_digit {
        3
    } else if upper > 1 && lower == 0 {
        1
    } else if first.is_some_and(char::is_uppercase) {
        0
    } else if lower > 0 {
        2
    } else {
        4
    };
    context_words + kind
}

/// Word positions of the context window, with the weight of each.
const WINDOW: [(isize, f32); 4] = [(-2, 0.6), (-1, 1.0), (1, 1.0), (2, 0.6)];

/// A sparse, unit-length context profile.
type Profile = Vec<(u32, f32)>;

/// Learns word classes from `texts` (running text or pre-tokenised lines) and compiles
/// them. Returns the bytes and the number of word forms classed.
pub fn learn(texts: &[&str], opts: &Options) -> (Vec<u8>, usize) {
    let sentences = tokenised(texts);
    let vocab = vocabulary(&sentences, opts.min_count);
    let profiles = profiles(&sentences, &vocab, opts);
    let weights: Vec<f32> = vocab.iter().map(|(_, c)| (1.0 + *c as f32).ln()).collect();
    let dims = block_size(opts) * WINDOW.len();
    let fine = kmeans(
        &profiles,
        &weights,
        dims,
        opts.fine,
        opts.iterations,
        opts.seed,
    );
    // Coarse classes: the fine centroids clustered, each weighted by its members.
    let mut mass = vec![0f32; fine.centroids.len()];
    for (&c, w) in fine.assignment.iter().zip(&weights) {
        mass[c] += w;
    }
    let centroid_profiles: Vec<Profile> = fine
        .centroids
        .iter()
        .map(|c| {
            c.iter()
                .enumerate()
                .filter(|(_, &v)| v != 0.0)
                .map(|(d, &v)| (d as u32, v))
                .collect()
        })
        .collect();
    let coarse = kmeans(
        &centroid_profiles,
        &mass,
        dims,
        opts.coarse,
        opts.iterations,
        opts.seed ^ 0x636f_6172_7365,
    );
    let mut rows: Vec<(u64, u16, u16)> = vocab
        .iter()
        .zip(&fine.assignment)
        .map(|((word, _), &f)| {
            let c = coarse.assignment.get(f).copied().unwrap_or(0);
            (word_hash(word), f as u16, c as u16)
        })
        .collect();
    rows.sort_unstable();
    rows.dedup_by_key(|r| r.0);
    let mut out = Vec::with_capacity(12 + rows.len() * ROW_BYTES);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(rows.len() as u32).to_le_bytes());
    for (h, f, c) in &rows {
        out.extend_from_slice(&h.to_le_bytes());
        out.extend_from_slice(&f.to_le_bytes());
        out.extend_from_slice(&c.to_le_bytes());
    }
    (out, rows.len())
}

/// Every sentence of every text as its token strings.
fn tokenised<'a>(texts: &[&'a str]) -> Vec<Vec<&'a str>> {
    let mut out = Vec::new();
    for &text in texts {
        let tok = tokenize(text);
        for s in &tok.sentences {
            let words: Vec<&str> = tok
                .tokens
                .get(s.clone())
                .unwrap_or(&[])
                .iter()
                .map(|t| t.text(text))
                .collect();
            out.push(words);
        }
    }
    out
}

/// Word forms seen at least `min_count` times with their counts, most frequent first
/// (ties by form), so indices are deterministic.
fn vocabulary<'a>(sentences: &[Vec<&'a str>], min_count: u32) -> Vec<(&'a str, u32)> {
    let mut counts: FxHashMap<&str, u32> = FxHashMap::default();
    for s in sentences {
        for w in s {
            *counts.entry(w).or_insert(0) += 1;
        }
    }
    let mut vocab: Vec<(&str, u32)> = counts
        .into_iter()
        .filter(|&(w, c)| c >= min_count && w.chars().any(char::is_alphabetic))
        .collect();
    vocab.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    vocab
}

/// Per vocabulary word, its context profile: per window position, the square roots of the
/// context slots' relative frequencies (so dot products are Hellinger affinities), scaled
/// by the position's weight, the whole made unit length.
fn profiles(sentences: &[Vec<&str>], vocab: &[(&str, u32)], opts: &Options) -> Vec<Profile> {
    let index: FxHashMap<&str, usize> = vocab
        .iter()
        .enumerate()
        .map(|(i, (w, _))| (*w, i))
        .collect();
    // The most frequent lower-cased forms are context words by identity.
    let mut lower_counts: FxHashMap<String, u32> = FxHashMap::default();
    for s in sentences {
        for w in s {
            *lower_counts.entry(w.to_lowercase()).or_insert(0) += 1;
        }
    }
    let mut frequent: Vec<(String, u32)> = lower_counts.into_iter().collect();
    frequent.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    frequent.truncate(opts.context_words);
    let context: FxHashMap<String, usize> = frequent
        .into_iter()
        .enumerate()
        .map(|(i, (w, _))| (w, i))
        .collect();
    let block = block_size(opts);
    let edge = opts.context_words + 5;
    let mut counts: Vec<FxHashMap<u32, u32>> = vec![FxHashMap::default(); vocab.len()];
    for s in sentences {
        let slots: Vec<usize> = s
            .iter()
            .map(|w| {
                context
                    .get(&w.to_lowercase())
                    .copied()
                    .unwrap_or_else(|| shape_slot(w, opts.context_words))
            })
            .collect();
        for (j, w) in s.iter().enumerate() {
            let Some(&v) = index.get(w) else {
                continue;
            };
            for (k, &(offset, _)) in WINDOW.iter().enumerate() {
                let slot = j
                    .checked_add_signed(offset)
                    .and_then(|i| slots.get(i).copied())
                    .unwrap_or(edge);
                *counts[v].entry((k * block + slot) as u32).or_insert(0) += 1;
            }
        }
    }
    counts
        .into_iter()
        .map(|c| {
            let mut per_position = [0u32; WINDOW.len()];
            for (&d, &n) in &c {
                per_position[d as usize / block] += n;
            }
            let mut p: Profile = c
                .into_iter()
                .map(|(d, n)| {
                    let k = d as usize / block;
                    let share = n as f32 / per_position[k].max(1) as f32;
                    (d, share.sqrt() * WINDOW[k].1)
                })
                .collect();
            p.sort_unstable_by_key(|e| e.0);
            let norm = p.iter().map(|e| e.1 * e.1).sum::<f32>().sqrt().max(1e-12);
            for e in &mut p {
                e.1 /= norm;
            }
            p
        })
        .collect()
}

/// A clustering: the class of every item and the (unit-length) centroids.
struct Clustering {
    assignment: Vec<usize>,
    centroids: Vec<Vec<f32>>,
}

/// xorshift64*: the next value in [0, 1).
fn next_unit(state: &mut u64) -> f64 {
    (hash::xorshift64_star(state) >> 11) as f64 / (1u64 << 53) as f64
}

fn dot(p: &Profile, dense: &[f32]) -> f32 {
    p.iter()
        .map(|&(d, v)| v * dense.get(d as usize).copied().unwrap_or(0.0))
        .sum()
}

/// Spherical k-means (cosine similarity) of weighted unit-length profiles, seeded by
/// k-means++ from `seed`.
fn kmeans(
    items: &[Profile],
    weights: &[f32],
    dims: usize,
    k: usize,
    iterations: usize,
    seed: u64,
) -> Clustering {
    let k = k.min(items.len()).max(1);
    let mut rng = seed.max(1);
    let mut centroids: Vec<Vec<f32>> = Vec::with_capacity(k);
    let to_dense = |p: &Profile| {
        let mut v = vec![0f32; dims];
        for &(d, x) in p {
            if let Some(slot) = v.get_mut(d as usize) {
                *slot = x;
            }
        }
        v
    };
    // k-means++: each next centre drawn in proportion to weight x distance to the nearest.
    let mut nearest = vec![f32::INFINITY; items.len()];
    let mut pick = 0;
    while centroids.len() < k && !items.is_empty() {
        let c = to_dense(&items[pick]);
        for (n, p) in nearest.iter_mut().zip(items) {
            *n = n.min((1.0 - dot(p, &c)).max(0.0));
        }
        centroids.push(c);
        let total: f64 = nearest
            .iter()
            .zip(weights)
            .map(|(&n, &w)| f64::from(n * w))
            .sum();
        if total <= 0.0 {
            break;
        }
        let mut target = next_unit(&mut rng) * total;
        pick = items.len() - 1;
        for (i, (&n, &w)) in nearest.iter().zip(weights).enumerate() {
            target -= f64::from(n * w);
            if target <= 0.0 && n > 0.0 {
                pick = i;
                break;
            }
        }
    }
    let k = centroids.len();
    let mut assignment = vec![0usize; items.len()];
    for _ in 0..iterations {
        // Centroids laid out dimension-major, so a profile scores against all at once.
        let mut by_dim = vec![0f32; dims * k];
        for (c, centroid) in centroids.iter().enumerate() {
            for (d, &x) in centroid.iter().enumerate() {
                by_dim[d * k + c] = x;
            }
        }
        let mut scores = vec![0f32; k];
        let mut changed = 0;
        for (i, p) in items.iter().enumerate() {
            scores.iter_mut().for_each(|s| *s = 0.0);
            for &(d, x) in p {
                let row = &by_dim[d as usize * k..(d as usize + 1) * k];
                for (s, &c) in scores.iter_mut().zip(row) {
                    *s += x * c;
                }
            }
            let mut best = 0;
            for (c, &s) in scores.iter().enumerate() {
                if s > scores[best] {
                    best = c;
                }
            }
            if assignment[i] != best {
                changed += 1;
                assignment[i] = best;
            }
        }
        let mut sums = vec![vec![0f32; dims]; k];
        for ((p, &c), &w) in items.iter().zip(&assignment).zip(weights) {
            for &(d, x) in p {
                sums[c][d as usize] += w * x;
            }
        }
        for (centroid, sum) in centroids.iter_mut().zip(sums) {
            let norm = sum.iter().map(|x| x * x).sum::<f32>().sqrt();
            if norm > 0.0 {
                *centroid = sum.into_iter().map(|x| x / norm).collect();
            }
        }
        if changed == 0 {
            break;
        }
    }
    Clustering {
        assignment,
        centroids,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_in_the_same_contexts_share_a_class() {
        let mut text = String::new();
        for (name, place) in [
            ("Smith", "Paris"),
            ("Jones", "Rome"),
            ("Brown", "Berlin"),
            ("Smith", "Rome"),
            ("Jones", "Berlin"),
            ("Brown", "Paris"),
        ] {
            for _ in 0..3 {
                text.push_str(&format!(
                    "Mr {name} said on Monday .\nThey flew to {place} on Monday .\n"
                ));
            }
        }
        let opts = Options {
            fine: 4,
            coarse: 2,
            min_count: 3,
            context_words: 10,
            iterations: 10,
            seed: 7,
        };
        let (bytes, n) = learn(&[text.as_str()], &opts);
        assert!(n > 6);
        assert_eq!(learn(&[text.as_str()], &opts).0, bytes, "deterministic");
        let classes = WordClasses::load(&bytes).expect("loads");
        let class = |w: &str| classes.get(word_hash(w)).map(|c| c.fine);
        assert_eq!(class("Smith"), class("Jones"));
        assert_eq!(class("Smith"), class("Brown"));
        assert_eq!(class("Paris"), class("Rome"));
        assert_ne!(class("Smith"), class("Paris"));
        assert!(classes.get(word_hash("Unseen")).is_none());
        assert!(WordClasses::load(&bytes[..bytes.len() - 1]).is_err());
        assert!(WordClasses::load(b"garbage").is_err());
    }
}
