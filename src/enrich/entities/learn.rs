//! Training: an averaged structured perceptron over the tagger's features, with Viterbi
//! decoding, deterministic document shuffling, count-pruned features, and model selection
//! on a development set by entity F1.
//!
//! A pass may train several perceptrons that differ only in their shuffle and dropout
//! seeds and keep the mean of their averaged weights (a seed ensemble folded into one
//! model: every member has the same hashed feature space, so the mean is one weight table
//! of the same size, and tagging costs the same). The chosen epoch then depends on the
//! data, not on the luck of one shuffle.
//!
//! Must not: do I/O (the `train-ner` command reads the files), or use a random seed that is
//! not given.

use rustc_hash::FxHashMap;

use super::augment;
use super::features::Lexicon;
use super::features::{self, Features};
use super::hash;
use super::tagger::{self, Fused, Trans, Viterbi, Weights, LABELS, O};
use super::tokenize::{tokenize, Tokenized};
use crate::enrich::record::EntityType;

/// One annotated document: text and gold entity spans (byte offsets).
#[derive(Debug, Clone)]
pub struct Doc {
    /// The text.
    pub text: String,
    /// Gold entities: byte span and class.
    pub entities: Vec<(usize, usize, EntityType)>,
}

/// Training settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// Passes over the training data.
    pub epochs: usize,
    /// Features seen fewer times than this in training are dropped.
    pub min_count: u32,
    /// Seed of the document shuffle (and of the feature dropout) of the first ensemble
    /// member; the others' seeds are derived from it.
    pub seed: u64,
    /// Perceptrons trained per pass, each with its own shuffle and dropout draws; the pass
    /// keeps the mean of their averaged weights (1: a single perceptron, the model before
    /// ensembles byte for byte).
    pub seeds: usize,
    /// Threads the ensemble members are trained on (at most one per member; the result
    /// does not depend on it).
    pub threads: usize,
    /// Percent of a token's features hidden from each training update, drawn afresh for
    /// every sentence of every epoch (0: none). A regulariser: no single feature (a memorised
    /// word form) can carry a decision alone, so the weights spread over the evidence.
    pub dropout_pct: u32,
    /// Percent of the training documents whose all-caps headline is rewritten in title
    /// case before training (0: none; see [`super::augment`]).
    pub title_case_pct: u32,
    /// The model's name and version.
    pub name: String,
}

/// What training reports per epoch: dev precision, recall, F1 (token-span level).
#[derive(Debug, Clone, Copy)]
pub struct EpochScore {
    /// 1-based epoch.
    pub epoch: usize,
    /// Dev precision.
    pub precision: f64,
    /// Dev recall.
    pub recall: f64,
    /// Dev F1.
    pub f1: f64,
}

/// The result of training.
#[derive(Debug)]
pub struct Trained {
    /// The model file bytes (best dev epoch of each pass).
    pub bytes: Vec<u8>,
    /// The chosen epoch's dev score, per pass.
    pub epochs: Vec<EpochScore>,
    /// Features kept in the model.
    pub features: usize,
    /// Gold entities that did not align with token boundaries.
    pub misaligned: usize,
}

/// A document prepared for training: feature ids and gold labels.
struct Prepared {
    sentences: Vec<std::ops::Range<usize>>,
    ids: Vec<u32>,
    offsets: Vec<u32>,
    gold: Vec<u8>,
}

fn label_of(kind: EntityType) -> u8 {
    match kind {
        EntityType::Per => 1,
        EntityType::Org => 3,
        EntityType::Loc => 5,
        EntityType::Misc => 7,
    }
}

/// Gold BIO labels per token; counts entities whose edges fall inside a token.
fn gold_labels(doc: &Doc, tok: &Tokenized, misaligned: &mut usize) -> Vec<u8> {
    let mut gold = vec![O; tok.tokens.len()];
    for &(start, end, kind) in &doc.entities {
        let first = tok.tokens.partition_point(|t| t.start < start);
        let last = tok.tokens.partition_point(|t| t.end <= end);
        let aligned = first < last
            && tok.tokens.get(first).is_some_and(|t| t.start == start)
            && tok.tokens.get(last - 1).is_some_and(|t| t.end == end);
        if !aligned {
            *misaligned += 1;
            continue;
        }
        let b = label_of(kind);
        gold[first] = b;
        for g in &mut gold[first + 1..last] {
            *g = b + 1;
        }
    }
    gold
}

/// Folds of the jackknife that gives the second pass honest first-pass labels.
const FOLDS: usize = 5;

/// A featurised document.
struct Featurised {
    text_index: usize,
    tok: Tokenized,
    feats: Features,
    gold: Vec<u8>,
}

/// Trains a two-pass model on `train`, choosing each pass's epoch by F1 on `dev`. The
/// second pass sees the first pass's labels; on training documents those come from a
/// 5-fold jackknife so they are as noisy as at run time.
pub fn train(
    train: &[Doc],
    dev: &[Doc],
    lex: &Lexicon<'_>,
    opts: &Options,
    mut progress: impl FnMut(usize, &EpochScore),
) -> Trained {
    let recased: Vec<Doc>;
    let train = if opts.title_case_pct > 0 {
        recased = train
            .iter()
            .enumerate()
            .map(|(i, d)| augment::title_case_headline(d, opts.title_case_pct, opts.seed, i))
            .collect();
        recased.as_slice()
    } else {
        train
    };
    let mut misaligned = 0;
    let mut train_f: Vec<Featurised> = train
        .iter()
        .enumerate()
        .map(|(i, d)| featurise(i, d, lex, None, &mut misaligned))
        .collect();
    let mut dev_misaligned = 0;
    let mut dev_f: Vec<Featurised> = dev
        .iter()
        .enumerate()
        .map(|(i, d)| featurise(i, d, lex, None, &mut dev_misaligned))
        .collect();
    let all: Vec<&Featurised> = train_f.iter().collect();
    let dev_refs: Vec<&Featurised> = dev_f.iter().collect();
    let (first, first_best) = fit(&all, &dev_refs, opts, opts.epochs, lex, &mut |s| {
        progress(1, s)
    });
    // Jackknife first-pass labels for the training documents.
    let mut priors: Vec<Vec<u8>> = vec![Vec::new(); train_f.len()];
    for k in 0..FOLDS {
        let fold_train: Vec<&Featurised> = train_f
            .iter()
            .filter(|d| d.text_index % FOLDS != k)
            .collect();
        let (w, _) = fit(&fold_train, &[], opts, first_best.epoch, lex, &mut |_| {});
        let w = Fused::single(&w);
        for d in train_f.iter().filter(|d| d.text_index % FOLDS == k) {
            priors[d.text_index] = w.tag(0, &d.feats, &d.tok.sentences);
        }
    }
    for d in &mut train_f {
        let text = &train[d.text_index].text;
        features::extract(text, &d.tok, lex, Some(&priors[d.text_index]), &mut d.feats);
    }
    let first_tagger = Fused::single(&first);
    for d in &mut dev_f {
        let prior = first_tagger.tag(0, &d.feats, &d.tok.sentences);
        features::extract(
            &dev[d.text_index].text,
            &d.tok,
            lex,
            Some(&prior),
            &mut d.feats,
        );
    }
    let all: Vec<&Featurised> = train_f.iter().collect();
    let dev_refs: Vec<&Featurised> = dev_f.iter().collect();
    let (second, second_best) = fit(&all, &dev_refs, opts, opts.epochs, lex, &mut |s| {
        progress(2, s)
    });
    let features = first.len() + second.len();
    Trained {
        bytes: tagger::passes_to_bytes(&[first, second]),
        epochs: vec![first_best, second_best],
        features,
        misaligned,
    }
}

/// Trains one pass; returns the weights of the best dev epoch (the last without dev).
fn fit(
    train: &[&Featurised],
    dev: &[&Featurised],
    opts: &Options,
    epochs: usize,
    lex: &Lexicon<'_>,
    progress: &mut dyn FnMut(&EpochScore),
) -> (Weights, EpochScore) {
    let mut counts: FxHashMap<u64, u32> = FxHashMap::default();
    for d in train {
        for &k in &d.feats.keys {
            *counts.entry(k).or_insert(0) += 1;
        }
    }
    let mut keys: Vec<u64> = counts
        .iter()
        .filter(|(_, &c)| c >= opts.min_count)
        .map(|(&k, _)| k)
        .collect();
    keys.sort_unstable();
    drop(counts);
    let index: FxHashMap<u64, u32> = keys
        .iter()
        .enumerate()
        .map(|(i, &k)| (k, i as u32))
        .collect();
    let train_docs: Vec<Prepared> = train.iter().map(|d| prepare(d, &index)).collect();
    let dev_docs: Vec<Prepared> = dev.iter().map(|d| prepare(d, &index)).collect();
    let mut members: Vec<Member> = (0..opts.seeds.max(1))
        .map(|i| {
            Member::new(
                keys.len(),
                train_docs.len(),
                opts.dropout_pct,
                member_seed(opts.seed, i),
            )
        })
        .collect();
    let mut best: Option<(EpochScore, Vec<f32>, Trans)> = None;
    for epoch in 1..=epochs {
        train_epoch(&mut members, &train_docs, opts.threads);
        let keep = dev.is_empty() && epoch == epochs;
        if !dev.is_empty() || keep {
            let (w, trans) = ensemble_mean(&members);
            let s = evaluate(&dev_docs, &w, &trans, epoch);
            progress(&s);
            if keep || best.as_ref().is_none_or(|b| s.f1 > b.0.f1) {
                best = Some((s, w, trans));
            }
        }
    }
    let empty = EpochScore {
        epoch: 0,
        precision: 0.0,
        recall: 0.0,
        f1: 0.0,
    };
    let (score, w, trans) = best.unwrap_or_else(|| {
        let (w, trans) = ensemble_mean(&members);
        (empty, w, trans)
    });
    (
        Weights::quantise(&opts.name, lex.checksum(), keys, &w, trans),
        score,
    )
}

fn featurise(
    i: usize,
    d: &Doc,
    lex: &Lexicon<'_>,
    prior: Option<&[u8]>,
    misaligned: &mut usize,
) -> Featurised {
    let tok = tokenize(&d.text);
    let mut feats = Features::default();
    features::extract(&d.text, &tok, lex, prior, &mut feats);
    let gold = gold_labels(d, &tok, misaligned);
    Featurised {
        text_index: i,
        tok,
        feats,
        gold,
    }
}

fn prepare(d: &Featurised, index: &FxHashMap<u64, u32>) -> Prepared {
    let f = &d.feats;
    let mut ids = Vec::with_capacity(f.keys.len());
    let mut offsets = Vec::with_capacity(f.len() + 1);
    offsets.push(0);
    for i in 0..f.len() {
        ids.extend(f.of(i).iter().filter_map(|k| index.get(k)));
        offsets.push(ids.len() as u32);
    }
    Prepared {
        sentences: d.tok.sentences.clone(),
        ids,
        offsets,
        gold: d.gold.clone(),
    }
}

/// Fisher-Yates with xorshift64*.
fn shuffle(order: &mut [usize], state: &mut u64) {
    for i in (1..order.len()).rev() {
        let r = hash::xorshift64_star(state);
        order.swap(i, (r % (i as u64 + 1)) as usize);
    }
}

/// One member of a seed ensemble: a perceptron with its own document order and draws.
struct Member {
    p: Perceptron,
    order: Vec<usize>,
    rng: u64,
}

impl Member {
    fn new(features: usize, docs: usize, dropout_pct: u32, seed: u64) -> Self {
        Self {
            p: Perceptron::new(features, dropout_pct, seed),
            order: (0..docs).collect(),
            rng: seed.max(1),
        }
    }

    /// One pass over the documents in a fresh shuffle.
    fn epoch(&mut self, docs: &[Prepared]) {
        shuffle(&mut self.order, &mut self.rng);
        for &d in &self.order {
            self.p.train_doc(&docs[d]);
        }
    }
}

/// The seed of ensemble member `i`: the given seed for the first (so a one-member
/// ensemble is the single perceptron), the i-th output of SplitMix64 started at it for the
/// others ([`hash::finish`] of the state after i - 1 steps).
fn member_seed(seed: u64, i: usize) -> u64 {
    if i == 0 {
        return seed;
    }
    let steps = (i as u64 - 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    hash::finish(seed.wrapping_add(steps))
}

/// Trains every member for one epoch, on up to `threads` threads. Members share nothing
/// but the read-only documents, so the result does not depend on the thread count.
fn train_epoch(members: &mut [Member], docs: &[Prepared], threads: usize) {
    let threads = threads.clamp(1, members.len().max(1));
    if threads == 1 {
        for m in members.iter_mut() {
            m.epoch(docs);
        }
        return;
    }
    let queue = std::sync::Mutex::new(members.iter_mut());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let next = match queue.lock() {
                    Ok(mut q) => q.next(),
                    Err(_) => None,
                };
                match next {
                    Some(m) => m.epoch(docs),
                    None => break,
                }
            });
        }
    });
}

/// The mean of the members' averaged weights and transitions (the member's own when
/// there is one, so a one-member ensemble is exactly the single perceptron).
fn ensemble_mean(members: &[Member]) -> (Vec<f32>, Trans) {
    let Some((first, rest)) = members.split_first() else {
        return (Vec::new(), [[0.0; LABELS]; LABELS + 1]);
    };
    let (mut w, mut trans) = first.p.averaged();
    if rest.is_empty() {
        return (w, trans);
    }
    for m in rest {
        let (mw, mt) = m.p.averaged();
        for (x, y) in w.iter_mut().zip(&mw) {
            *x += y;
        }
        for (row, mrow) in trans.iter_mut().zip(&mt) {
            for (x, y) in row.iter_mut().zip(mrow) {
                *x += y;
            }
        }
    }
    let k = members.len() as f32;
    for x in &mut w {
        *x /= k;
    }
    for x in trans.iter_mut().flatten() {
        *x /= k;
    }
    (w, trans)
}

/// Perceptron state with lazy averaging (w - u / c).
struct Perceptron {
    w: Vec<f32>,
    u: Vec<f32>,
    trans: [[f32; LABELS]; LABELS + 1],
    trans_u: [[f32; LABELS]; LABELS + 1],
    c: f32,
    viterbi: Viterbi,
    scores: Vec<[f32; LABELS]>,
    pred: Vec<u8>,
    dropout: Dropout,
    /// The features of the sentence being learned from (after dropout).
    sent: Sentence,
}

/// One sentence's feature ids: token j's are `ids[offsets[j]..offsets[j + 1]]`.
#[derive(Default)]
struct Sentence {
    ids: Vec<u32>,
    offsets: Vec<u32>,
}

impl Sentence {
    fn of(&self, j: usize) -> &[u32] {
        match (self.offsets.get(j), self.offsets.get(j + 1)) {
            (Some(&s), Some(&e)) => self.ids.get(s as usize..e as usize).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// Feature dropout: hides `pct` percent of the feature occurrences, drawn by xorshift64*.
struct Dropout {
    pct: u64,
    state: u64,
}

impl Dropout {
    fn keep(&mut self) -> bool {
        if self.pct == 0 {
            return true;
        }
        let r = hash::xorshift64_star(&mut self.state);
        (r >> 32) % 100 >= self.pct
    }

    /// Copies the features of tokens `s` of `d` into `out`, each kept with probability
    /// `1 - pct / 100`.
    fn sample(&mut self, d: &Prepared, s: std::ops::Range<usize>, out: &mut Sentence) {
        out.ids.clear();
        out.offsets.clear();
        out.offsets.push(0);
        for i in s {
            let (a, b) = (d.offsets[i] as usize, d.offsets[i + 1] as usize);
            for &f in &d.ids[a..b] {
                if self.keep() {
                    out.ids.push(f);
                }
            }
            out.offsets.push(out.ids.len() as u32);
        }
    }
}

impl Perceptron {
    fn new(n: usize, dropout_pct: u32, seed: u64) -> Self {
        Self {
            w: vec![0.0; n * LABELS],
            u: vec![0.0; n * LABELS],
            trans: [[0.0; LABELS]; LABELS + 1],
            trans_u: [[0.0; LABELS]; LABELS + 1],
            c: 1.0,
            viterbi: Viterbi::default(),
            scores: Vec::new(),
            pred: Vec::new(),
            dropout: Dropout {
                pct: u64::from(dropout_pct.min(90)),
                state: (seed ^ 0x9E37_79B9_7F4A_7C15).max(1),
            },
            sent: Sentence::default(),
        }
    }

    fn train_doc(&mut self, d: &Prepared) {
        for s in &d.sentences {
            let gold = &d.gold[s.clone()];
            self.dropout.sample(d, s.clone(), &mut self.sent);
            sentence_emissions(&self.w, &self.sent, gold.len(), &mut self.scores);
            self.pred.clear();
            self.pred.resize(gold.len(), O);
            self.viterbi
                .decode(&self.scores, &tagger::masked(&self.trans), &mut self.pred);
            if self.pred != gold {
                let pred = std::mem::take(&mut self.pred);
                self.update(gold, &pred);
                self.pred = pred;
            }
            self.c += 1.0;
        }
    }

    fn update(&mut self, gold: &[u8], pred: &[u8]) {
        let c = self.c;
        for (j, (&g, &p)) in gold.iter().zip(pred).enumerate() {
            if g != p {
                for &f in self.sent.of(j) {
                    let base = f as usize * LABELS;
                    self.w[base + usize::from(g)] += 1.0;
                    self.u[base + usize::from(g)] += c;
                    self.w[base + usize::from(p)] -= 1.0;
                    self.u[base + usize::from(p)] -= c;
                }
            }
            let (gp, pp) = if j == 0 {
                (LABELS, LABELS)
            } else {
                (usize::from(gold[j - 1]), usize::from(pred[j - 1]))
            };
            if (gp, g) != (pp, p) {
                self.trans[gp][usize::from(g)] += 1.0;
                self.trans_u[gp][usize::from(g)] += c;
                self.trans[pp][usize::from(p)] -= 1.0;
                self.trans_u[pp][usize::from(p)] -= c;
            }
        }
    }

    fn averaged(&self) -> (Vec<f32>, Trans) {
        let w = self
            .w
            .iter()
            .zip(&self.u)
            .map(|(w, u)| w - u / self.c)
            .collect();
        let mut t = self.trans;
        for (row, urow) in t.iter_mut().zip(&self.trans_u) {
            for (x, u) in row.iter_mut().zip(urow) {
                *x -= u / self.c;
            }
        }
        (w, t)
    }
}

/// Emission scores of the `n` tokens of a sampled sentence.
fn sentence_emissions(w: &[f32], sent: &Sentence, n: usize, out: &mut Vec<[f32; LABELS]>) {
    out.clear();
    for j in 0..n {
        let mut e = [0f32; LABELS];
        for &f in sent.of(j) {
            let base = f as usize * LABELS;
            for (x, wv) in e.iter_mut().zip(&w[base..base + LABELS]) {
                *x += wv;
            }
        }
        out.push(e);
    }
}

fn emissions(w: &[f32], d: &Prepared, s: std::ops::Range<usize>, out: &mut Vec<[f32; LABELS]>) {
    out.clear();
    for i in s {
        let mut e = [0f32; LABELS];
        for &f in &d.ids[d.offsets[i] as usize..d.offsets[i + 1] as usize] {
            let base = f as usize * LABELS;
            for (x, wv) in e.iter_mut().zip(&w[base..base + LABELS]) {
                *x += wv;
            }
        }
        out.push(e);
    }
}

/// Entity spans `(start, end, label)` of a BIO sequence (token indices).
pub(crate) fn spans(labels: &[u8]) -> Vec<(usize, usize, u8)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < labels.len() {
        let l = labels[i];
        if l == O {
            i += 1;
            continue;
        }
        let b = if tagger::is_inside(l) { l - 1 } else { l };
        let mut j = i + 1;
        while j < labels.len() && labels[j] == b + 1 {
            j += 1;
        }
        out.push((i, j, b));
        i = j;
    }
    out
}

fn evaluate(docs: &[Prepared], w: &[f32], trans: &Trans, epoch: usize) -> EpochScore {
    let (mut tp, mut np, mut ng) = (0usize, 0usize, 0usize);
    let mut viterbi = Viterbi::default();
    let mut scores = Vec::new();
    let trans = tagger::masked(trans);
    for d in docs {
        let mut pred = vec![O; d.gold.len()];
        for s in &d.sentences {
            emissions(w, d, s.clone(), &mut scores);
            viterbi.decode(&scores, &trans, &mut pred[s.clone()]);
        }
        let gold = spans(&d.gold);
        let pred = spans(&pred);
        ng += gold.len();
        np += pred.len();
        tp += pred.iter().filter(|p| gold.contains(p)).count();
    }
    let precision = if np == 0 { 0.0 } else { tp as f64 / np as f64 };
    let recall = if ng == 0 { 0.0 } else { tp as f64 / ng as f64 };
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    EpochScore {
        epoch,
        precision,
        recall,
        f1,
    }
}

#[cfg(test)]
mod tests {
    use super::super::gazetteer::Gazetteer;
    use super::super::wordclass::WordClasses;
    use super::*;

    /// The first `n` (at most 3) of three tiny documents: a person goes to a place.
    fn tiny_docs(n: usize) -> Vec<Doc> {
        let doc = |t: &str, e: Vec<(usize, usize, EntityType)>| Doc {
            text: t.to_owned(),
            entities: e,
        };
        let mut docs = vec![
            doc(
                "John Smith went to Paris .",
                vec![(0, 10, EntityType::Per), (19, 24, EntityType::Loc)],
            ),
            doc(
                "Mary Jones flew to Rome .",
                vec![(0, 10, EntityType::Per), (19, 23, EntityType::Loc)],
            ),
            doc(
                "Paul Brown drove to Paris .",
                vec![(0, 10, EntityType::Per), (20, 25, EntityType::Loc)],
            ),
        ];
        docs.truncate(n);
        docs
    }

    #[test]
    fn learns_a_tiny_pattern() {
        let train = tiny_docs(3);
        let opts = test_options(5, 1, 0);
        let trained = train_and_check(&train, &opts);
        assert!(
            trained.epochs.last().is_some_and(|e| e.f1 > 0.99),
            "{:?}",
            trained.epochs
        );
        assert_eq!(trained.misaligned, 0);
    }

    #[test]
    fn dropout_is_deterministic_and_still_learns() {
        let train = tiny_docs(2);
        let opts = test_options(30, 1, 25);
        let first = train_and_check(&train, &opts);
        let again = train_and_check(&train, &opts);
        assert_eq!(first.bytes, again.bytes);
        assert!(
            first.epochs.last().is_some_and(|e| e.f1 > 0.99),
            "{:?}",
            first.epochs
        );
    }

    #[test]
    fn a_seed_ensemble_does_not_depend_on_threads() {
        let train = tiny_docs(3);
        let opts = test_options(8, 3, 25);
        let one_thread = train_and_check(&train, &opts);
        let threaded = train_and_check(
            &train,
            &Options {
                threads: 3,
                ..opts.clone()
            },
        );
        assert_eq!(one_thread.bytes, threaded.bytes);
        let single = train_and_check(&train, &Options { seeds: 1, ..opts });
        assert_ne!(
            one_thread.bytes, single.bytes,
            "members differ from the first"
        );
        assert!(one_thread.epochs.last().is_some_and(|e| e.f1 > 0.99));
    }

    #[test]
    fn member_seeds_differ_and_the_first_is_the_given_seed() {
        assert_eq!(member_seed(42, 0), 42);
        // The i-th SplitMix64 output, as the ensembles in the data README were trained.
        for i in 1..5u64 {
            let mut z = 42u64.wrapping_add(i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            assert_eq!(member_seed(42, i as usize), z ^ (z >> 31));
        }
        let seeds: std::collections::HashSet<u64> = (0..5).map(|i| member_seed(42, i)).collect();
        assert_eq!(seeds.len(), 5);
    }

    /// Test settings: min count 1, seed 7, one thread, no title-case headlines.
    fn test_options(epochs: usize, seeds: usize, dropout_pct: u32) -> Options {
        Options {
            epochs,
            min_count: 1,
            seed: 7,
            seeds,
            threads: 1,
            dropout_pct,
            title_case_pct: 0,
            name: "test".to_owned(),
        }
    }

    fn train_and_check(docs: &[Doc], opts: &Options) -> Trained {
        let lex = Lexicon {
            gazetteer: &Gazetteer::default(),
            classes: &WordClasses::default(),
            title_heads: opts.title_case_pct > 0,
        };
        train(docs, docs, &lex, opts, |_, _| {})
    }

    #[test]
    fn spans_of_bio() {
        assert_eq!(
            spans(&[1, 2, 0, 5, 7, 8]),
            vec![(0, 2, 1), (3, 4, 5), (4, 6, 7)]
        );
    }
}
