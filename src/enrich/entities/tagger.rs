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

use super::features::Features;

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
    /// The model was trained with another gazetteer than the one compiled in.
    #[error("model was trained with gazetteer {expected:016x}, this build has {found:016x}")]
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

/// One slot of the weight table: a 32-bit fingerprint of the key (0 = empty) and its row.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    tag: u32,
    row: [i16; LABELS],
}

/// The fingerprint stored for a key: its high 32 bits, never 0.
#[inline]
fn fingerprint(key: u64) -> u32 {
    ((key >> 32) as u32) | 1
}

/// Quantised weights and transitions, ready to decode.
#[derive(Debug, Clone)]
pub(crate) struct Weights {
    keys: Vec<u64>,
    rows: Vec<i16>,
    /// Open addressing over slots that carry their weight row, so a lookup touches one
    /// cache line.
    table: Vec<Slot>,
    mask: usize,
    inv_scale: f32,
    /// `trans[LABELS]` is the start row.
    trans: [[f32; LABELS]; LABELS + 1],
    /// Checksum of the gazetteer the model was trained with.
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
        Self::assemble(
            name.to_owned(),
            gazetteer,
            kept_keys,
            kept_rows,
            1.0 / scale,
            trans,
        )
    }

    fn assemble(
        name: String,
        gazetteer: u64,
        keys: Vec<u64>,
        rows: Vec<i16>,
        inv_scale: f32,
        trans: [[f32; LABELS]; LABELS + 1],
    ) -> Self {
        let cap = (keys.len() * 3 / 2 + 1).next_power_of_two().max(16);
        let mut table = vec![Slot::default(); cap];
        let mask = cap - 1;
        for (k, row) in keys.iter().zip(rows.chunks_exact(LABELS)) {
            let mut slot = (*k as usize) & mask;
            while table[slot].tag != 0 {
                slot = (slot + 1) & mask;
            }
            table[slot].tag = fingerprint(*k);
            table[slot].row.copy_from_slice(row);
        }
        Self {
            keys,
            rows,
            table,
            mask,
            inv_scale,
            trans,
            gazetteer,
            name,
        }
    }

    /// Number of features with weights.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The weight row of a key. Keys are matched by slot position and a 32-bit fingerprint;
    /// a false match needs a 1-in-2^31 coincidence on an unseen feature.
    #[inline]
    fn row(&self, key: u64) -> Option<&[i16; LABELS]> {
        let tag = fingerprint(key);
        let mut slot = (key as usize) & self.mask;
        loop {
            let entry = self.table.get(slot)?;
            if entry.tag == tag {
                return Some(&entry.row);
            }
            if entry.tag == 0 {
                return None;
            }
            slot = (slot + 1) & self.mask;
        }
    }

    /// Emission scores of one token.
    pub(crate) fn emission(&self, keys: &[u64]) -> [f32; LABELS] {
        let mut acc = [0i32; LABELS];
        for &k in keys {
            if let Some(row) = self.row(k) {
                for (a, &w) in acc.iter_mut().zip(row) {
                    *a += i32::from(w);
                }
            }
        }
        acc.map(|a| a as f32 * self.inv_scale)
    }

    /// Tags every sentence; returns one label per token.
    pub(crate) fn tag(&self, feats: &Features, sentences: &[Range<usize>]) -> Vec<u8> {
        let mut labels = vec![O; feats.len()];
        let mut scores = Vec::new();
        let mut decoder = Viterbi::default();
        for s in sentences {
            scores.clear();
            scores.extend(s.clone().map(|i| self.emission(feats.of(i))));
            if let Some(out) = labels.get_mut(s.clone()) {
                decoder.decode(&scores, &self.trans, out);
            }
        }
        labels
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
        Ok(Self::assemble(
            name, gazetteer, keys, rows, inv_scale, trans,
        ))
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

/// First-order Viterbi with the BIO constraint; keeps its buffers between sentences.
#[derive(Debug, Default)]
pub(crate) struct Viterbi {
    back: Vec<[u8; LABELS]>,
}

impl Viterbi {
    /// Best label sequence for `scores` (one row per token) into `out`.
    pub(crate) fn decode(
        &mut self,
        scores: &[[f32; LABELS]],
        trans: &[[f32; LABELS]; LABELS + 1],
        out: &mut [u8],
    ) {
        let n = scores.len().min(out.len());
        if n == 0 {
            return;
        }
        self.back.clear();
        self.back.resize(n, [0; LABELS]);
        let mut delta = [f32::NEG_INFINITY; LABELS];
        for (l, d) in delta.iter_mut().enumerate() {
            if allowed(None, l as u8) {
                *d = trans[LABELS][l] + scores[0][l];
            }
        }
        for (t, row) in scores.iter().enumerate().take(n).skip(1) {
            let mut next = [f32::NEG_INFINITY; LABELS];
            for (l, nx) in next.iter_mut().enumerate() {
                let mut best = f32::NEG_INFINITY;
                let mut arg = 0u8;
                for (p, &dp) in delta.iter().enumerate() {
                    if !ALLOWED[p][l] {
                        continue;
                    }
                    let s = dp + trans[p][l];
                    if s > best {
                        best = s;
                        arg = p as u8;
                    }
                }
                *nx = best + row[l];
                self.back[t][l] = arg;
            }
            delta = next;
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
        let trans = [[0f32; LABELS]; LABELS + 1];
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
        let e = back.emission(&[11, 22, 33]);
        assert!((e[1] - 2.0).abs() < 1e-3 && (e[3] + 1.0).abs() < 1e-3);
        assert!(Weights::from_bytes(b"WENERM01").is_err());
        assert!(Weights::from_bytes(&w.to_bytes()[..40]).is_err());
        let two = passes_to_bytes(&[w.clone(), w]);
        assert_eq!(passes_from_bytes(&two).map(|p| p.len()).ok(), Some(2));
        assert!(passes_from_bytes(&two[..two.len() - 1]).is_err());
    }
}
