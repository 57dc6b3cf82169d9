//! The sequence tagger: BIO labels, quantised feature weights, and first-order Viterbi
//! decoding with the BIO constraint (`I-X` only after `B-X`/`I-X`).
//!
//! Also the model file format (`WENERM01`): header, transition scores (f32), then feature
//! keys (u64) with one row of i16 weights per key, little-endian.
//!
//! Must not: panic on a corrupt model file (it returns [`ModelError`]), or allocate per token
//! while decoding beyond the per-sentence buffers.

use std::ops::Range;

use thiserror::Error;

use super::features::{Features, NO_GROUP};

/// Number of labels: `O` and `B-`/`I-` for PER, ORG, LOC, MISC.
pub(crate) const LABELS: usize = 9;
/// The `O` label.
pub(crate) const O: u8 = 0;

const MAGIC: &[u8; 8] = b"WENERM01";

/// Rows whose largest quantised weight is at most this are dropped. Pruning harder shrinks
/// the table but costs accuracy (1000 of 32767: 93k -> 62k features, dev F1 -0.2), so only
/// all-zero rows go.
const PRUNE_BELOW: i32 = 0;

/// Errors loading a model file.
#[derive(Debug, Error)]
pub enum ModelError {
    /// Wrong magic bytes, or the file is truncated or inconsistent.
    #[error("not an entity model file: {0}")]
    Format(&'static str),
    /// The model was trained with another gazetteer or other word classes than the ones
    /// compiled in.
    #[error("model was trained with lexicon {expected:016x} (gazetteer and word classes), this build has {found:016x}")]
    Gazetteer {
        /// Checksum stored in the model.
        expected: u64,
        /// Checksum of the gazetteer in this build.
        found: u64,
    },
    /// The compiled gazetteer is unreadable.
    #[error(transparent)]
    GazetteerFormat(#[from] super::gazetteer::GazetteerError),
}

/// Whether label `l` is an `I-` label.
pub(crate) fn is_inside(l: u8) -> bool {
    l != O && l % 2 == 0
}

/// The class index (0 PER, 1 ORG, 2 LOC, 3 MISC) of a non-`O` label.
pub(crate) fn class_of(l: u8) -> usize {
    usize::from(l.saturating_sub(1) / 2)
}

/// Whether `prev -> next` is a legal BIO transition (`prev` = `None` at sentence start).
pub(crate) fn allowed(prev: Option<u8>, next: u8) -> bool {
    if !is_inside(next) {
        return true;
    }
    prev.is_some_and(|p| p != O && class_of(p) == class_of(next))
}

/// `ALLOWED[prev][next]`: the BIO constraint as a table.
const ALLOWED: [[bool; LABELS]; LABELS] = {
    let mut t = [[true; LABELS]; LABELS];
    let mut p = 0;
    while p < LABELS {
        let mut n = 2;
        while n < LABELS {
            // `I-X` (even, non-zero) only after `B-X` (n - 1) or `I-X` (n).
            t[p][n] = p == n || p + 1 == n;
            n += 2;
        }
        p += 1;
    }
    t
};

/// Quantised weights and transitions of one pass, as trained and stored.
#[derive(Debug, Clone)]
pub(crate) struct Weights {
    keys: Vec<u64>,
    rows: Vec<i16>,
    inv_scale: f32,
    /// `trans[LABELS]` is the start row.
    trans: [[f32; LABELS]; LABELS + 1],
    /// Checksum of the lexicon (gazetteer and word classes) the model was trained with.
    pub(crate) gazetteer: u64,
    /// Name and version, e.g. `conll-perceptron-1`.
    pub(crate) name: String,
}

impl Weights {
    /// Builds weights from float rows (keys[i] owns `rows[i * LABELS..]`), quantising to i16.
    pub(crate) fn quantise(
        name: &str,
        gazetteer: u64,
        keys: Vec<u64>,
        rows: &[f32],
        trans: [[f32; LABELS]; LABELS + 1],
    ) -> Self {
        let max = rows.iter().fold(0f32, |m, w| m.max(w.abs())).max(1e-6);
        let scale = 32767.0 / max;
        let mut kept_keys = Vec::new();
        let mut kept_rows = Vec::new();
        for (k, row) in keys.iter().zip(rows.chunks_exact(LABELS)) {
            let q: Vec<i16> = row.iter().map(|w| (w * scale).round() as i16).collect();
            if q.iter().any(|&x| i32::from(x).abs() > PRUNE_BELOW) {
                kept_keys.push(*k);
                kept_rows.extend(q);
            }
        }
        Self {
            keys: kept_keys,
            rows: kept_rows,
            inv_scale: 1.0 / scale,
            trans,
            gazetteer,
            name: name.to_owned(),
        }
    }

    /// Number of features with weights.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Serialises to the model file format.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.keys.len() * (8 + 2 * LABELS));
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(self.name.len() as u32).to_le_bytes());
        out.extend_from_slice(self.name.as_bytes());
        out.extend_from_slice(&self.gazetteer.to_le_bytes());
        out.extend_from_slice(&(LABELS as u32).to_le_bytes());
        out.extend_from_slice(&self.inv_scale.to_le_bytes());
        for row in &self.trans {
            for w in row {
                out.extend_from_slice(&w.to_le_bytes());
            }
        }
        out.extend_from_slice(&(self.keys.len() as u32).to_le_bytes());
        for k in &self.keys {
            out.extend_from_slice(&k.to_le_bytes());
        }
        for w in &self.rows {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out
    }

    /// Reads the model file format.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        let mut r = Reader(bytes);
        if r.take(8)? != MAGIC {
            return Err(ModelError::Format("bad magic"));
        }
        let name_len = r.u32()? as usize;
        let name = std::str::from_utf8(r.take(name_len)?)
            .map_err(|_| ModelError::Format("name is not UTF-8"))?
            .to_owned();
        let gazetteer = r.u64()?;
        if r.u32()? as usize != LABELS {
            return Err(ModelError::Format("label count"));
        }
        let inv_scale = r.f32()?;
        let mut trans = [[0f32; LABELS]; LABELS + 1];
        for row in &mut trans {
            for w in row.iter_mut() {
                *w = r.f32()?;
            }
        }
        let n = r.u32()? as usize;
        let key_bytes = r.take(n.checked_mul(8).ok_or(ModelError::Format("size"))?)?;
        let keys: Vec<u64> = key_bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect();
        let row_bytes = r.take(
            n.checked_mul(2 * LABELS)
                .ok_or(ModelError::Format("size"))?,
        )?;
        let rows: Vec<i16> = row_bytes
            .chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]))
            .collect();
        if !r.0.is_empty() {
            return Err(ModelError::Format("trailing bytes"));
        }
        Ok(Self {
            keys,
            rows,
            inv_scale,
            trans,
            gazetteer,
            name,
        })
    }
}

const PASSES_MAGIC: &[u8; 8] = b"WENERP02";

/// Serialises a multi-pass model: `WENERP02`, pass count, then each pass's length and bytes.
pub(crate) fn passes_to_bytes(passes: &[Weights]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(PASSES_MAGIC);
    out.extend_from_slice(&(passes.len() as u32).to_le_bytes());
    for p in passes {
        let b = p.to_bytes();
        out.extend_from_slice(&(b.len() as u64).to_le_bytes());
        out.extend_from_slice(&b);
    }
    out
}

/// Reads a multi-pass model (or a single-pass `WENERM01` file).
pub(crate) fn passes_from_bytes(bytes: &[u8]) -> Result<Vec<Weights>, ModelError> {
    let mut r = Reader(bytes);
    if r.take(8)? != PASSES_MAGIC {
        return Ok(vec![Weights::from_bytes(bytes)?]);
    }
    let n = r.u32()? as usize;
    if n == 0 || n > 4 {
        return Err(ModelError::Format("pass count"));
    }
    let mut passes = Vec::with_capacity(n);
    for _ in 0..n {
        let len = usize::try_from(r.u64()?).map_err(|_| ModelError::Format("size"))?;
        passes.push(Weights::from_bytes(r.take(len)?)?);
    }
    if !r.0.is_empty() {
        return Err(ModelError::Format("trailing bytes"));
    }
    Ok(passes)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ModelError> {
        if self.0.len() < n {
            return Err(ModelError::Format("truncated"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u32(&mut self) -> Result<u32, ModelError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn f32(&mut self) -> Result<f32, ModelError> {
        Ok(f32::from_bits(self.u32()?))
    }
    fn u64(&mut self) -> Result<u64, ModelError> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes([
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
        ]))
    }
}

/// Transition scores, `[prev][next]`, with row `LABELS` the start row.
pub(crate) type Trans = [[f32; LABELS]; LABELS + 1];

/// `trans` with the BIO constraint folded in: illegal transitions score minus infinity, so
/// the decoder needs no branch on legality.
pub(crate) fn masked(trans: &Trans) -> Trans {
    let mut out = *trans;
    for (p, row) in out.iter_mut().enumerate() {
        for (n, w) in row.iter_mut().enumerate() {
            let legal = if p == LABELS {
                allowed(None, n as u8)
            } else {
                ALLOWED[p][n]
            };
            if !legal {
                *w = f32::NEG_INFINITY;
            }
        }
    }
    out
}

/// First-order Viterbi; keeps its buffers between sentences.
#[derive(Debug, Default)]
pub(crate) struct Viterbi {
    back: Vec<[u8; LABELS]>,
}

impl Viterbi {
    /// Best label sequence for `scores` (one row per token) into `out`, under transitions
    /// `trans` that have been [`masked`] (so the result obeys BIO).
    pub(crate) fn decode(&mut self, scores: &[[f32; LABELS]], trans: &Trans, out: &mut [u8]) {
        let n = scores.len().min(out.len());
        if n == 0 {
            return;
        }
        self.back.clear();
        self.back.resize(n, [0; LABELS]);
        let mut delta = [0f32; LABELS];
        for (l, d) in delta.iter_mut().enumerate() {
            *d = trans[LABELS][l] + scores[0][l];
        }
        for (row, back) in scores[1..n].iter().zip(&mut self.back[1..n]) {
            // For every next label at once: the best previous label, first one on ties.
            let mut best = [f32::NEG_INFINITY; LABELS];
            let mut arg = [0u8; LABELS];
            for (p, (&dp, tp)) in delta.iter().zip(trans.iter()).enumerate() {
                for l in 0..LABELS {
                    let s = dp + tp[l];
                    if s > best[l] {
                        best[l] = s;
                        arg[l] = p as u8;
                    }
                }
            }
            for l in 0..LABELS {
                delta[l] = best[l] + row[l];
            }
            *back = arg;
        }
        let mut last = 0u8;
        let mut best = f32::NEG_INFINITY;
        for (l, &d) in delta.iter().enumerate() {
            if d > best {
                best = d;
                last = l as u8;
            }
        }
        out[n - 1] = last;
        for t in (1..n).rev() {
            last = self.back[t][usize::from(last)];
            out[t - 1] = last;
        }
    }
}

/// Most passes a model may have: the fused row holds the weights of all of them.
pub(crate) const MAX_PASSES: usize = 2;
/// Width of a fused row.
const ROW: usize = LABELS * MAX_PASSES;

/// Table slots for `keys` keys: a power of two, at most two-thirds full.
fn capacity_for(keys: usize) -> usize {
    (keys * 3 / 2 + 1).next_power_of_two().max(16)
}

/// The fingerprint stored for a key: its high 32 bits, never 0.
#[inline]
fn fingerprint(key: u64) -> u32 {
    ((key >> 32) as u32) | 1
}

/// How many keys ahead [`Fused::sum_prefetching`] fetches table slots (8 and 32 measured
/// no better: `cargo bench --bench entities`, alternating twice).
const PREFETCH_AHEAD: usize = 16;

/// Asks the CPU to bring the cache line at `p` into L1 (a hint; no-op off x86_64).
#[inline(always)]
fn prefetch_line(p: *const i8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: PREFETCHT0 is a hint. It does not read memory architecturally and never
    // faults, whatever the address (it is always a valid one here: a slot of our own
    // vectors); the SSE feature it requires is part of the x86_64 baseline, so it is
    // available on every CPU this code runs on.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Every pass's weights in one open-addressed table, ready to decode.
///
/// One probe of a key yields the weight rows of all passes side by side (`[i16; 18]`), so
/// the features the passes share (all of the first pass's) are hashed and looked up once
/// per token, not once per pass; the later pass then only adds its own few keys to the sum
/// carried over. Fingerprints live apart from the rows, so a miss reads a few bytes of the
/// small fingerprint array and never touches a row; but five in six probes hit (measured
/// over the entities bench), so the row loads are what the tagger waits for. A row sits at
/// its slot's position, so its address is known before the fingerprint arrives and both
/// loads go out together. (Packing the rows behind a slot that holds their position
/// halved the table's memory but made every hit two dependent loads: the whole `enrich`
/// was 2-5% slower in the core bench. i8 rows were 3-6% faster at tagging but moved
/// entities in the golden stories the wrong way.)
#[derive(Debug, Clone)]
pub(crate) struct Fused {
    /// Per slot: the key's fingerprint, 0 when empty. Linear probing.
    tags: Vec<u32>,
    /// Per slot: the weights of every pass.
    rows: Vec<[i16; ROW]>,
    mask: usize,
    passes: usize,
    features: usize,
    inv_scale: [f32; MAX_PASSES],
    /// Per pass, [`masked`].
    trans: [Trans; MAX_PASSES],
}

/// Per-document buffers of the decoder, reused between sentences.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    viterbi: Viterbi,
    scores: Vec<[f32; LABELS]>,
    /// Per token of the document: the later pass's weight sum over the first pass's keys.
    carry: Vec<[i32; LABELS]>,
    /// Per word group of the document ([`Fused::sum_word_groups`]): its summed fused rows.
    word_sums: Vec<[i32; ROW]>,
}

impl Scratch {
    /// Buffers for a document of `tokens` tokens.
    pub(crate) fn for_tokens(tokens: usize) -> Self {
        Self {
            carry: vec![[0; LABELS]; tokens],
            ..Self::default()
        }
    }
}

impl Fused {
    /// Fuses the passes of a model (one or two).
    ///
    /// # Errors
    /// [`ModelError::Format`] for zero or more than [`MAX_PASSES`] passes.
    pub(crate) fn new(passes: &[Weights]) -> Result<Self, ModelError> {
        if passes.is_empty() || passes.len() > MAX_PASSES {
            return Err(ModelError::Format("pass count"));
        }
        Ok(Self::build(passes))
    }

    /// A one-pass tagger.
    pub(crate) fn single(pass: &Weights) -> Self {
        Self::build(std::slice::from_ref(pass))
    }

    /// Fuses 1..=[`MAX_PASSES`] passes (checked by the callers).
    fn build(passes: &[Weights]) -> Self {
        let total: usize = passes.iter().take(MAX_PASSES).map(Weights::len).sum();
        let (mut tags, mut rows, mut mask, unique) = Self::fill(passes, capacity_for(total));
        // Keys the passes share take one slot: size the table for the distinct keys.
        if capacity_for(unique) < tags.len() {
            (tags, rows, mask, _) = Self::fill(passes, capacity_for(unique));
        }
        let mut inv_scale = [0f32; MAX_PASSES];
        let mut trans = [[[0f32; LABELS]; LABELS + 1]; MAX_PASSES];
        for (p, w) in passes.iter().enumerate().take(MAX_PASSES) {
            inv_scale[p] = w.inv_scale;
            trans[p] = masked(&w.trans);
        }
        Self {
            tags,
            rows,
            mask,
            passes: passes.len().min(MAX_PASSES),
            features: passes.iter().map(Weights::len).sum(),
            inv_scale,
            trans,
        }
    }

    /// Open-addressed fingerprints and fused rows of `cap` (a power of two) slots; also
    /// the mask and the number of distinct keys.
    #[allow(clippy::type_complexity)]
    fn fill(passes: &[Weights], cap: usize) -> (Vec<u32>, Vec<[i16; ROW]>, usize, usize) {
        let mask = cap - 1;
        let mut tags = vec![0u32; cap];
        let mut rows = vec![[0i16; ROW]; cap];
        // Full keys while building, so keys the passes share get one slot.
        let mut full = vec![0u64; cap];
        let mut unique = 0;
        for (p, w) in passes.iter().enumerate().take(MAX_PASSES) {
            for (&k, src) in w.keys.iter().zip(w.rows.chunks_exact(LABELS)) {
                let mut slot = (k as usize) & mask;
                while tags[slot] != 0 && full[slot] != k {
                    slot = (slot + 1) & mask;
                }
                if tags[slot] == 0 {
                    unique += 1;
                }
                tags[slot] = fingerprint(k);
                full[slot] = k;
                if let Some(dst) = rows[slot].get_mut(p * LABELS..(p + 1) * LABELS) {
                    dst.copy_from_slice(src);
                }
            }
        }
        (tags, rows, mask, unique)
    }

    /// Number of passes.
    pub(crate) fn passes(&self) -> usize {
        self.passes
    }

    /// Whether any of `keys` has weights in any pass.
    pub(crate) fn knows_any(&self, mut keys: impl Iterator<Item = u64>) -> bool {
        keys.any(|k| self.row(k).is_some())
    }

    /// Number of weighted features, summed over the passes.
    pub(crate) fn features(&self) -> usize {
        self.features
    }

    /// The fused row of a key. Keys are matched by slot position and a 32-bit fingerprint;
    /// a false match needs a 1-in-2^31 coincidence on an unseen feature.
    #[inline]
    fn row(&self, key: u64) -> Option<&[i16; ROW]> {
        let tag = fingerprint(key);
        let mut slot = (key as usize) & self.mask;
        loop {
            let t = *self.tags.get(slot)?;
            if t == tag {
                return self.rows.get(slot);
            }
            if t == 0 {
                return None;
            }
            slot = (slot + 1) & self.mask;
        }
    }

    /// The summed fused rows of `keys`.
    #[inline]
    fn sum(&self, keys: &[u64]) -> [i32; ROW] {
        let mut acc = [0i32; ROW];
        for &k in keys {
            if let Some(row) = self.row(k) {
                for (a, &w) in acc.iter_mut().zip(row) {
                    *a += i32::from(w);
                }
            }
        }
        acc
    }

    /// The summed fused rows of `all[range]`, hinting the CPU to fetch the table slots of
    /// the key [`PREFETCH_AHEAD`] places further on in `all` while each key is added.
    ///
    /// Most of the tagger's time went to waiting for the table (the 9 MB of rows and 1 MB
    /// of fingerprints do not stay in cache): one probe is a cache miss, and the probe
    /// loop's branches keep the CPU from running far enough ahead to overlap many of them.
    /// Fetching a few keys ahead turns that wait into overlapped fetches.
    #[inline]
    fn sum_prefetching(&self, range: Range<usize>, all: &[u64]) -> [i32; ROW] {
        let mut acc = [0i32; ROW];
        for j in range {
            if let Some(&ahead) = all.get(j + PREFETCH_AHEAD) {
                self.prefetch(ahead);
            }
            let Some(&k) = all.get(j) else { break };
            if let Some(row) = self.row(k) {
                for (a, &w) in acc.iter_mut().zip(row) {
                    *a += i32::from(w);
                }
            }
        }
        acc
    }

    /// Hints the CPU to fetch the first slot `key` probes (its fingerprint and its row).
    #[inline]
    fn prefetch(&self, key: u64) {
        let slot = (key as usize) & self.mask;
        if let (Some(tag), Some(row)) = (self.tags.get(slot), self.rows.get(slot)) {
            prefetch_line(std::ptr::from_ref(tag).cast());
            prefetch_line(row.as_ptr().cast());
        }
    }

    /// Sums the fused rows of every word group of a document (`words.of(g)`: group g's
    /// keys) into `scratch`, once, for [`Fused::first_pass`] to add to the tokens that
    /// hold the group: a word the story repeats is looked up once, not once per token.
    pub(crate) fn sum_word_groups(&self, words: &Features, scratch: &mut Scratch) {
        scratch.word_sums.clear();
        scratch
            .word_sums
            .extend((0..words.len()).map(|g| self.sum_prefetching(words.of_range(g), &words.keys)));
    }

    /// Emission scores of one token under pass `pass` alone (for training-time tagging).
    pub(crate) fn emission(&self, pass: usize, keys: &[u64]) -> [f32; LABELS] {
        let acc = self.sum(keys);
        let p = pass.min(MAX_PASSES - 1);
        let scale = self.inv_scale[p];
        std::array::from_fn(|l| acc[p * LABELS + l] as f32 * scale)
    }

    /// The first pass over one sentence whose first token is token `first` of the
    /// document: labels its tokens from their base keys (`keys`, one entry per token of
    /// the sentence, with the word groups summed by [`Fused::sum_word_groups`]), and keeps each token's sum of the later pass's weights over the same
    /// keys in `scratch` for [`Fused::second_pass`].
    pub(crate) fn first_pass(
        &self,
        keys: &Features,
        first: usize,
        labels: &mut [u8],
        scratch: &mut Scratch,
    ) {
        self.sentence_pass(0, keys, first, labels, scratch);
    }

    /// The second pass over one sentence whose first token is token `first`: the carried
    /// sums plus the weights of the keys derived from the first pass's labels (`keys`, one
    /// entry per token of the sentence), decoded with the second pass's transitions.
    pub(crate) fn second_pass(
        &self,
        keys: &Features,
        first: usize,
        labels: &mut [u8],
        scratch: &mut Scratch,
    ) {
        self.sentence_pass(1, keys, first, labels, scratch);
    }

    /// Scores one sentence's tokens under pass `pass` (0: its own keys, carrying the
    /// second pass's share; 1: the carried share plus its own keys) and decodes them.
    fn sentence_pass(
        &self,
        pass: usize,
        keys: &Features,
        first: usize,
        labels: &mut [u8],
        scratch: &mut Scratch,
    ) {
        let Scratch {
            viterbi,
            scores,
            carry,
            word_sums,
        } = scratch;
        let p = pass.min(MAX_PASSES - 1);
        let scale = self.inv_scale[p];
        scores.clear();
        let all = keys.keys.as_slice();
        for i in 0..keys.len() {
            let mut acc = self.sum_prefetching(keys.of_range(i), all);
            for &g in keys.groups_of(i) {
                debug_assert!(
                    g == NO_GROUP || (g as usize) < word_sums.len(),
                    "word groups are summed (Fused::sum_word_groups) before the first pass"
                );
                if let Some(sum) = word_sums.get(g as usize) {
                    for (a, &w) in acc.iter_mut().zip(sum) {
                        *a += w;
                    }
                }
            }
            let carried = carry.get_mut(first + i);
            let raw: [i32; LABELS] = if p == 0 {
                if let Some(c) = carried {
                    *c = std::array::from_fn(|l| acc[LABELS + l]);
                }
                std::array::from_fn(|l| acc[l])
            } else {
                let base = carried.map(|c| *c).unwrap_or_default();
                std::array::from_fn(|l| base[l] + acc[LABELS + l])
            };
            scores.push(std::array::from_fn(|l| raw[l] as f32 * scale));
        }
        if labels.len() == scores.len() {
            viterbi.decode(scores, &self.trans[p], labels);
        }
    }

    /// Tags every sentence with pass `pass` alone over full keys `feats` (training-time
    /// tagging of one pass); returns one label per token.
    pub(crate) fn tag(&self, pass: usize, feats: &Features, sentences: &[Range<usize>]) -> Vec<u8> {
        let mut labels = vec![O; feats.len()];
        let mut scores = Vec::new();
        let mut viterbi = Viterbi::default();
        let p = pass.min(MAX_PASSES - 1);
        for s in sentences {
            scores.clear();
            scores.extend(s.clone().map(|i| self.emission(p, feats.of(i))));
            if let Some(out) = labels.get_mut(s.clone()) {
                viterbi.decode(&scores, &self.trans[p], out);
            }
        }
        labels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_table_matches_rule() {
        for p in 0..LABELS as u8 {
            for n in 0..LABELS as u8 {
                assert_eq!(
                    ALLOWED[usize::from(p)][usize::from(n)],
                    allowed(Some(p), n),
                    "{p}->{n}"
                );
            }
        }
    }

    #[test]
    fn viterbi_respects_bio() {
        let mut scores = vec![[0f32; LABELS]; 2];
        scores[0][O as usize] = 10.0;
        scores[1][2] = 5.0; // I-PER after O is illegal
        scores[1][1] = 1.0;
        let trans = masked(&[[0f32; LABELS]; LABELS + 1]);
        let mut out = [0u8; 2];
        Viterbi::default().decode(&scores, &trans, &mut out);
        assert_eq!(out, [O, 1]);
    }

    #[test]
    fn model_bytes_round_trip_and_reject_garbage() {
        let mut rows = vec![0f32; 2 * LABELS];
        rows[1] = 2.0;
        rows[LABELS + 3] = -1.0;
        let trans = [[0.5f32; LABELS]; LABELS + 1];
        let w = Weights::quantise("t", 7, vec![11, 22], &rows, trans);
        let back = Weights::from_bytes(&w.to_bytes()).expect("round trip");
        assert_eq!(back.len(), 2);
        assert_eq!(back.gazetteer, 7);
        let fused = Fused::single(&back);
        let e = fused.emission(0, &[11, 22, 33]);
        assert!((e[1] - 2.0).abs() < 1e-3 && (e[3] + 1.0).abs() < 1e-3);
        assert!(Weights::from_bytes(b"WENERM01").is_err());
        assert!(Weights::from_bytes(&w.to_bytes()[..40]).is_err());
        let two = passes_to_bytes(&[w.clone(), w]);
        assert_eq!(passes_from_bytes(&two).map(|p| p.len()).ok(), Some(2));
        assert!(passes_from_bytes(&two[..two.len() - 1]).is_err());
    }

    #[test]
    fn fused_passes_score_like_separate_passes() {
        let trans = [[0f32; LABELS]; LABELS + 1];
        let mut first = vec![0f32; 2 * LABELS];
        first[1] = 1.0;
        first[LABELS + 5] = 2.0;
        let mut second = vec![0f32; 2 * LABELS];
        second[3] = -0.5;
        second[LABELS + 7] = 4.0;
        let p1 = Weights::quantise("a", 0, vec![11, 22], &first, trans);
        // The second pass shares key 11 and has its own prior key 33.
        let p2 = Weights::quantise("a", 0, vec![11, 33], &second, trans);
        let fused = Fused::new(&[p1.clone(), p2.clone()]).expect("two passes");
        assert_eq!(fused.features(), 4);
        let feats = |keys: Vec<u64>| Features {
            offsets: vec![0, keys.len() as u32],
            keys,
            groups: Vec::new(),
        };
        let (base, prior, full) = (
            feats(vec![11, 22]),
            feats(vec![33]),
            feats(vec![11, 22, 33]),
        );
        // One sentence holding token 0 (a slice of ranges, as the tagger takes it).
        #[allow(clippy::single_range_in_vec_init)]
        let sentences = [0..1];
        let mut labels = [O];
        let mut scratch = Scratch::for_tokens(1);
        fused.first_pass(&base, 0, &mut labels, &mut scratch);
        assert_eq!(
            scratch.scores[0],
            Fused::single(&p1).emission(0, base.of(0))
        );
        assert_eq!(
            labels.to_vec(),
            Fused::single(&p1).tag(0, &base, &sentences)
        );
        fused.second_pass(&prior, 0, &mut labels, &mut scratch);
        let alone = Fused::single(&p2).emission(0, full.of(0));
        for (a, b) in scratch.scores[0].iter().zip(alone) {
            assert!((a - b).abs() < 1e-6, "{:?} vs {alone:?}", scratch.scores[0]);
        }
        assert_eq!(labels, [7]);
        assert!(Fused::new(&[p1.clone(), p1.clone(), p1]).is_err());
    }
}
