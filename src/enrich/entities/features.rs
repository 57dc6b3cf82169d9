//! Feature extraction for the tagger: hashed keys for every token of a document.
//!
//! Token features (word, lower case, shape, affixes), context (neighbouring words and
//! shapes), sentence position, gazetteer hits, and document-level evidence (how the same
//! word is written elsewhere in the story, which handles all-caps headlines). Features are
//! 64-bit hashes of (template, parts); the model maps them to weights. When tagging, the
//! keys that depend on one word alone (its own, and those it gives its neighbours) are made
//! once per distinct word of the document, as word groups whose weights the tagger sums
//! once per word; training takes every token's keys whole.
//!
//! Must not: allocate per feature, panic on any text, or look further than the document.

use std::ops::Range;

use rustc_hash::FxHashMap;

use super::gazetteer::{self, Gazetteer};
use super::hash;
use super::tokenize::Tokenized;
use super::wordclass::{self, WordClasses};

/// The word lists a model's features look words up in (the gazetteer and the word
/// classes), and whether the optional title-case headline keys are made.
#[derive(Debug, Clone, Copy)]
pub struct Lexicon<'a> {
    /// Compiled gazetteer.
    pub gazetteer: &'a Gazetteer,
    /// Word classes learned from open text (empty: no word-class features).
    pub classes: &'a WordClasses,
    /// Whether a title-case first line (a headline) gets its own keys: in training only
    /// when the model is shown title-case headlines (`train-ner --title-case`), so that
    /// `--title-case 0` reproduces the models trained before them; when tagging, only
    /// when the loaded model has weights for them ([`all_title_head_keys`]), so a model
    /// without them costs no work for them.
    pub title_heads: bool,
}

impl Lexicon<'_> {
    /// The checksum a model records: the gazetteer's, mixed with the word classes' when
    /// there are any (so models trained without classes keep their checksum).
    pub fn checksum(&self) -> u64 {
        if self.classes.is_empty() {
            self.gazetteer.checksum()
        } else {
            hash::finish(hash::mix(
                self.gazetteer.checksum(),
                self.classes.checksum(),
            ))
        }
    }
}

/// Hashed feature keys for every token, flattened.
#[derive(Debug, Default, Clone)]
pub(crate) struct Features {
    /// All keys.
    pub(crate) keys: Vec<u64>,
    /// `keys[offsets[i]..offsets[i + 1]]` are token i's keys.
    pub(crate) offsets: Vec<u32>,
    /// When tagging ([`Doc::sentence_tagging`]): [`ROLES`] word groups per token, whose
    /// keys ([`Doc::word_keys`]) count as token i's too; empty otherwise.
    pub(crate) groups: Vec<u32>,
}

/// The roles a word plays in the keys of the tokens of its sentence: its own keys, and the
/// keys it gives the token one or two places to its right or left. Each role's keys depend
/// on the word and the sentence's capitals bit alone, so a document makes them once per
/// distinct word and the tagger sums their weights once per word ([`Doc::word_keys`]).
pub(crate) const ROLES: usize = 5;
/// The token's own word.
const OWN: usize = 0;
/// The word just before the token (`m1` in [`each_key`]).
const BEFORE1: usize = 1;
/// The word just after it (`p1`).
const AFTER1: usize = 2;
/// Two words before (`m2`).
const BEFORE2: usize = 3;
/// Two words after (`p2`).
const AFTER2: usize = 4;

impl Features {
    /// Empties the keys for a new batch of tokens.
    pub(crate) fn clear(&mut self) {
        self.keys.clear();
        self.offsets.clear();
        self.offsets.push(0);
        self.groups.clear();
    }

    /// Token `i`'s word groups (empty unless built for tagging).
    pub(crate) fn groups_of(&self, i: usize) -> &[u32] {
        self.groups.get(i * ROLES..(i + 1) * ROLES).unwrap_or(&[])
    }

    /// Token `i`'s keys.
    pub(crate) fn of(&self, i: usize) -> &[u64] {
        self.keys.get(self.of_range(i)).unwrap_or(&[])
    }

    /// Where token `i`'s keys sit in `keys` (empty when out of range).
    pub(crate) fn of_range(&self, i: usize) -> Range<usize> {
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&s), Some(&e)) if s <= e => s as usize..e as usize,
            _ => 0..0,
        }
    }

    /// Number of tokens.
    pub(crate) fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }
}

const F_TITLE: u8 = 1;
const F_CAPS: u8 = 2;
const F_LOWER: u8 = 4;
const F_DIGIT: u8 = 8;
const F_HYPHEN: u8 = 16;
const F_PERIOD: u8 = 32;
const F_ALPHA: u8 = 64;

/// What is computed once per token.
#[derive(Debug, Clone, Copy, Default)]
struct Info {
    word: u64,
    lower: u64,
    gaz_token: u64,
    shape: u64,
    short_shape: u64,
    prefix: [u64; 4],
    suffix: [u64; 4],
    flags: u8,
    class: u8,
    gaz_begin: u16,
    gaz_inside: u16,
    long_begin: u16,
    long_inside: u16,
    /// Word classes: 0 outside the sentence, 1 a word without a class, else class + 2.
    fine: u16,
    coarse: u16,
}

/// Template ids (the first part of every key).
mod t {
    pub(super) const BIAS: u64 = 1;
    pub(super) const WORD: u64 = 2;
    pub(super) const LOWER: u64 = 3;
    pub(super) const SHAPE: u64 = 4;
    pub(super) const SHORT_SHAPE: u64 = 5;
    pub(super) const PREFIX: u64 = 6;
    pub(super) const SUFFIX: u64 = 10;
    pub(super) const LOWER_M1: u64 = 14;
    pub(super) const LOWER_P1: u64 = 15;
    pub(super) const LOWER_M2: u64 = 16;
    pub(super) const LOWER_P2: u64 = 17;
    pub(super) const SHAPE_M1: u64 = 18;
    pub(super) const SHAPE_P1: u64 = 19;
    pub(super) const BIGRAM_M1: u64 = 20;
    pub(super) const BIGRAM_P1: u64 = 21;
    pub(super) const SHAPE3: u64 = 22;
    pub(super) const FIRST: u64 = 23;
    pub(super) const CAPS_SENT: u64 = 24;
    pub(super) const GAZ_BEGIN: u64 = 25;
    pub(super) const GAZ_INSIDE: u64 = 26;
    pub(super) const GAZ_M1: u64 = 27;
    pub(super) const GAZ_P1: u64 = 28;
    pub(super) const GAZ_CLASS: u64 = 29;
    pub(super) const DOC_TITLE: u64 = 30;
    pub(super) const DOC_LOWER: u64 = 31;
    pub(super) const DOC_WORD: u64 = 32;
    pub(super) const WORD_M1: u64 = 33;
    pub(super) const WORD_P1: u64 = 34;
    pub(super) const CLASS_M1_W: u64 = 35;
    pub(super) const LEN: u64 = 36;
    pub(super) const GAZ_SPAN: u64 = 37;
    pub(super) const PRIOR_SELF: u64 = 38;
    pub(super) const PRIOR_M1: u64 = 39;
    pub(super) const PRIOR_P1: u64 = 40;
    pub(super) const DOC_PRIOR: u64 = 41;
    pub(super) const DOC_PRIOR_O: u64 = 42;
    pub(super) const GAZ_LONG_BEGIN: u64 = 43;
    pub(super) const GAZ_LONG_INSIDE: u64 = 44;
    pub(super) const WC_FINE: u64 = 45;
    pub(super) const WC_COARSE: u64 = 46;
    pub(super) const WC_FINE_CLASS: u64 = 47;
    pub(super) const WC_M1: u64 = 48;
    pub(super) const WC_P1: u64 = 49;
    pub(super) const WC_M1_W: u64 = 50;
    pub(super) const WC_W_P1: u64 = 51;
    pub(super) const TITLE_HEAD: u64 = 52;
}

#[inline]
fn key1(tmpl: u64, a: u64) -> u64 {
    hash::finish(hash::mix(hash::mix(0x5eed, tmpl), a))
}

#[inline]
fn key2(tmpl: u64, a: u64, b: u64) -> u64 {
    hash::finish(hash::mix(hash::mix(hash::mix(0x5eed, tmpl), a), b))
}

#[inline]
fn key3(tmpl: u64, a: u64, b: u64, c: u64) -> u64 {
    hash::finish(hash::mix(
        hash::mix(hash::mix(hash::mix(0x5eed, tmpl), a), b),
        c,
    ))
}

/// Capitalisation class: 0 other, 1 Title, 2 CAPS, 3 lower, 4 number.
fn class_of(flags: u8) -> u8 {
    if flags & F_TITLE != 0 {
        1
    } else if flags & F_CAPS != 0 {
        2
    } else if flags & F_LOWER != 0 {
        3
    } else if flags & F_DIGIT != 0 {
        4
    } else {
        0
    }
}

/// Shape hashes (`Xxxxx` capped, and `Xx` with repeats collapsed) and flags of a word.
fn shape_of(word: &str) -> (u64, u64, u8) {
    let mut long = hash::mix(0, 0x5348);
    let mut short = hash::mix(0, 0x5353);
    let mut last = 0u8;
    let mut flags = 0u8;
    let (mut upper, mut lower, mut n) = (0usize, 0usize, 0usize);
    for (i, c) in word.chars().enumerate() {
        let s = if c.is_uppercase() {
            upper += 1;
            b'X'
        } else if c.is_lowercase() {
            lower += 1;
            b'x'
        } else if c.is_ascii_digit() {
            flags |= F_DIGIT;
            b'd'
        } else if c == '-' {
            flags |= F_HYPHEN;
            b'-'
        } else if c == '.' {
            flags |= F_PERIOD;
            b'.'
        } else if c.is_ascii() {
            c as u8
        } else if c.is_alphabetic() {
            b'a'
        } else {
            b'o'
        };
        if i < 12 {
            long = hash::mix(long, u64::from(s));
        }
        if s != last {
            short = hash::mix(short, u64::from(s));
            last = s;
        }
        n += 1;
    }
    let first_upper = word.chars().next().is_some_and(char::is_uppercase);
    if upper + lower > 0 {
        flags |= F_ALPHA;
    }
    if upper > 0 && lower == 0 && (upper > 1 || n == 1) {
        flags |= F_CAPS;
    } else if first_upper {
        flags |= F_TITLE;
    } else if lower > 0 && upper == 0 {
        flags |= F_LOWER;
    }
    (hash::finish(long), hash::finish(short), flags)
}

/// Lower-cases `word` into `buf` (cleared first).
fn lower_into(word: &str, buf: &mut String) {
    buf.clear();
    if word.is_ascii() {
        buf.extend(word.bytes().map(|b| char::from(b.to_ascii_lowercase())));
    } else {
        buf.extend(word.chars().flat_map(char::to_lowercase));
    }
}

fn affixes(lower: &str) -> ([u64; 4], [u64; 4]) {
    let mut prefix = [0u64; 4];
    let mut suffix = [0u64; 4];
    // Byte ends of the first 4 chars and byte starts of the last 4.
    let mut ends = [lower.len(); 4];
    for (k, (i, c)) in lower.char_indices().take(4).enumerate() {
        ends[k] = i + c.len_utf8();
    }
    let mut starts = [0usize; 4];
    for (k, (i, _)) in lower.char_indices().rev().take(4).enumerate() {
        starts[k] = i;
    }
    let n = lower.chars().take(4).count();
    for k in 0..4 {
        let end = if k < n { ends[k] } else { lower.len() };
        let start = if k < n { starts[k] } else { 0 };
        prefix[k] = hash::str(0x7072 + k as u64, lower.get(..end).unwrap_or(lower));
        suffix[k] = hash::str(0x7375 + k as u64, lower.get(start..).unwrap_or(lower));
    }
    (prefix, suffix)
}

/// Whether most words of the sentence are in capitals (a headline or a sports table).
fn is_caps_sentence(infos: &[Info]) -> bool {
    mostly_caps(infos.iter().map(|i| i.flags))
}

/// Whether most of `words` are in capitals, by the rule the tagger's features use for a
/// sentence (a CoNLL headline or a sports table).
pub(crate) fn is_caps_line<'a>(words: impl IntoIterator<Item = &'a str>) -> bool {
    mostly_caps(words.into_iter().map(|w| shape_of(w).2))
}

/// Whether the sentence is written in title case (`Red Shirts Back in the Streets`): not
/// in capitals, at least two capitalised words and 60% of the words with letters.
fn is_title_sentence(infos: &[Info]) -> bool {
    let alpha = infos.iter().filter(|i| i.flags & F_ALPHA != 0).count();
    let title = infos.iter().filter(|i| i.flags & F_TITLE != 0).count();
    !is_caps_sentence(infos) && title >= 2 && title * 10 >= alpha * 6
}

/// At least two words in capitals, and at least 60% of the words with letters.
fn mostly_caps(flags: impl Iterator<Item = u8>) -> bool {
    let (mut alpha, mut caps) = (0usize, 0usize);
    for f in flags {
        alpha += usize::from(f & F_ALPHA != 0);
        caps += usize::from(f & F_CAPS != 0);
    }
    caps >= 2 && caps * 10 >= alpha * 6
}

/// How a lower-cased word is written elsewhere in the document.
#[derive(Debug, Clone, Copy, Default)]
struct DocCase {
    title_mid: u16,
    lower: u16,
    /// The word hash of a mixed-case spelling seen in a normal sentence.
    cased_word: u64,
    /// Capitalised after the first word of a sentence other than a title-case headline.
    title_running: u16,
}

/// Computes the features of every token of `text` at once (training). `prior` holds a
/// first tagging pass's labels (one per token) for the second pass's document-level
/// features.
pub(crate) fn extract(
    text: &str,
    tok: &Tokenized,
    lex: &Lexicon<'_>,
    prior: Option<&[u8]>,
    out: &mut Features,
) {
    let doc = Doc::new(text, tok, lex);
    match prior {
        Some(p) => doc.with_prior(p, out),
        None => doc.base(out),
    }
}

/// A document's per-token facts and document-level evidence, from which the keys of one
/// sentence at a time are built: tagging never holds every token's keys at once (about
/// 50 keys of 8 bytes per token would be 70 MB for a 900 KB story).
#[derive(Debug)]
pub(crate) struct Doc {
    infos: Vec<Info>,
    /// Per token: the id of its word among the document's distinct words (0 is the empty
    /// word that stands beyond a sentence's ends; [`NO_WORD`] past [`MAX_WORDS`]).
    word_ids: Vec<u32>,
    /// Per word group: the keys of one word in one role.
    word_keys: Features,
    /// Per word id and capitals bit (`id * 2 + caps`): the group of its [`OWN`] keys, the
    /// other roles' following in order; [`NO_GROUP`] when no sentence uses them.
    group_base: Vec<u32>,
    sentences: Vec<Range<usize>>,
    caps_sentence: Vec<bool>,
    /// Whether the first sentence is a title-case headline.
    title_head: bool,
    cases: FxHashMap<u64, DocCase>,
    classes: bool,
}

/// Per lower-cased word: how often a first tagging pass gave each class in the document
/// (see [`Doc::prior_counts`]).
#[derive(Debug, Default)]
pub(crate) struct PriorCounts(FxHashMap<u64, [u16; 5]>);

impl Doc {
    /// Computes the token facts and the document-level evidence.
    pub(crate) fn new(text: &str, tok: &Tokenized, lex: &Lexicon<'_>) -> Self {
        let (infos, word_ids, words) = token_infos(text, tok, lex);
        let caps_sentence: Vec<bool> = tok
            .sentences
            .iter()
            .map(|s| is_caps_sentence(infos.get(s.clone()).unwrap_or(&[])))
            .collect();
        let classes = !lex.classes.is_empty();
        let (word_keys, group_base) =
            word_group_keys(&words, &word_ids, &tok.sentences, &caps_sentence, classes);
        let title_head = lex.title_heads
            && tok
                .sentences
                .first()
                .is_some_and(|s| is_title_sentence(infos.get(s.clone()).unwrap_or(&[])));
        let cases = doc_cases(&infos, &tok.sentences, &caps_sentence, title_head);
        Self {
            infos,
            word_ids,
            word_keys,
            group_base,
            sentences: tok.sentences.clone(),
            caps_sentence,
            title_head,
            cases,
            classes,
        }
    }

    /// The keys of every word group: `word_keys().of(g)` for a group `g` of
    /// [`Features::groups_of`].
    pub(crate) fn word_keys(&self) -> &Features {
        &self.word_keys
    }

    /// Sentence `s`'s first-pass keys as the tagger takes them (`out` is cleared first):
    /// per token, the keys that depend on more than one word or on the document, and the
    /// [`ROLES`] word groups that hold the rest. Together they are exactly the keys of
    /// [`Doc::sentence_base`], as a multiset.
    pub(crate) fn sentence_tagging(&self, s: usize, out: &mut Features) {
        out.clear();
        let sent = self.sentence(s);
        let ids = self
            .sentences
            .get(s)
            .and_then(|r| self.word_ids.get(r.clone()))
            .unwrap_or(&[]);
        let caps = self.caps_sentence.get(s).copied().unwrap_or(false);
        let title_head = s == 0 && self.title_head;
        let none = Info::default();
        // Token j + d - 2's word (the empty word beyond the sentence) and its id.
        let word_at = |j: usize, d: usize| {
            let k = (j + d).checked_sub(2);
            match k.and_then(|k| Some((sent.get(k)?, *ids.get(k)?))) {
                Some((info, id)) => (info, id),
                None => (&none, 0),
            }
        };
        for j in 0..sent.len() {
            token_keys(
                sent,
                j,
                caps,
                self.classes,
                &self.cases,
                Some(Part::Context),
                &mut out.keys,
            );
            if title_head {
                title_head_keys(&sent[j], j, &self.cases, &mut out.keys);
            }
            for (role, d) in [
                (OWN, 2),
                (BEFORE1, 1),
                (AFTER1, 3),
                (BEFORE2, 0),
                (AFTER2, 4),
            ] {
                let (info, id) = word_at(j, d);
                let group = self.group(id, caps, role);
                if group == NO_GROUP {
                    word_role_keys(info, role, caps, self.classes, &mut out.keys);
                }
                out.groups.push(group);
            }
            out.offsets.push(out.keys.len() as u32);
        }
    }

    /// The group of word `id`'s keys in role `role` under capitals bit `caps`, or
    /// [`NO_GROUP`].
    fn group(&self, id: u32, caps: bool, role: usize) -> u32 {
        let slot = (id as usize).checked_mul(2).map(|i| i + usize::from(caps));
        match slot.and_then(|i| self.group_base.get(i)) {
            Some(&base) if base != NO_GROUP => base + role as u32,
            _ => NO_GROUP,
        }
    }

    /// The tokens of sentence `s` (empty when there is no such sentence).
    fn sentence(&self, s: usize) -> &[Info] {
        self.sentences
            .get(s)
            .and_then(|r| self.infos.get(r.clone()))
            .unwrap_or(&[])
    }

    /// The first pass's keys of sentence `s`, one entry per token of the sentence
    /// (`out` is cleared first).
    pub(crate) fn sentence_base(&self, s: usize, out: &mut Features) {
        out.clear();
        self.push_sentence_base(s, out);
    }

    fn push_sentence_base(&self, s: usize, out: &mut Features) {
        let sent = self.sentence(s);
        let caps = self.caps_sentence.get(s).copied().unwrap_or(false);
        let title_head = s == 0 && self.title_head;
        for j in 0..sent.len() {
            token_keys(
                sent,
                j,
                caps,
                self.classes,
                &self.cases,
                None,
                &mut out.keys,
            );
            if title_head {
                title_head_keys(&sent[j], j, &self.cases, &mut out.keys);
            }
            out.offsets.push(out.keys.len() as u32);
        }
    }

    /// The first pass's keys of every token (training).
    pub(crate) fn base(&self, out: &mut Features) {
        out.clear();
        for s in 0..self.sentences.len() {
            self.push_sentence_base(s, out);
        }
    }

    /// Counts what a first pass said about each word; `None` when `prior` does not have
    /// one label per token.
    pub(crate) fn prior_counts(&self, prior: &[u8]) -> Option<PriorCounts> {
        (prior.len() == self.infos.len()).then(|| PriorCounts(prior_counts(&self.infos, prior)))
    }

    /// The keys of sentence `s` built from a previous pass's labels (`prior`, one per
    /// token of the document), one entry per token of the sentence. The tagger carries
    /// the base keys' weights over from the first pass.
    pub(crate) fn sentence_prior(
        &self,
        s: usize,
        prior: &[u8],
        counts: &PriorCounts,
        out: &mut Features,
    ) {
        out.clear();
        self.push_sentence_prior(s, prior, counts, out);
    }

    fn push_sentence_prior(
        &self,
        s: usize,
        prior: &[u8],
        counts: &PriorCounts,
        out: &mut Features,
    ) {
        let sent = self.sentence(s);
        let labels = self
            .sentences
            .get(s)
            .and_then(|r| prior.get(r.clone()))
            .unwrap_or(&[]);
        for j in 0..sent.len() {
            prior_keys(sent, j, labels, &counts.0, &mut out.keys);
            out.offsets.push(out.keys.len() as u32);
        }
    }

    /// The base keys plus the keys from a previous pass's labels for every token (what a
    /// later pass is trained on). Only the base keys when `prior` does not fit.
    pub(crate) fn with_prior(&self, prior: &[u8], out: &mut Features) {
        let counts = self.prior_counts(prior);
        out.clear();
        let mut base = Features::default();
        let mut own = Features::default();
        for s in 0..self.sentences.len() {
            self.sentence_base(s, &mut base);
            match &counts {
                Some(c) => self.sentence_prior(s, prior, c, &mut own),
                None => {
                    own.keys.clear();
                    own.offsets.clear();
                    own.offsets.resize(base.offsets.len(), 0);
                }
            }
            for i in 0..base.len() {
                out.keys.extend_from_slice(base.of(i));
                out.keys.extend_from_slice(own.of(i));
                out.offsets.push(out.keys.len() as u32);
            }
        }
    }
}

/// The class slot of a label: 0 for `O`, 1..=4 for PER, ORG, LOC, MISC.
fn prior_class(label: u8) -> usize {
    if label == 0 {
        0
    } else {
        1 + usize::from((label - 1) / 2).min(3)
    }
}

/// Per lower-cased word: how often the first pass gave each class in the document.
fn prior_counts(infos: &[Info], prior: &[u8]) -> FxHashMap<u64, [u16; 5]> {
    let mut counts: FxHashMap<u64, [u16; 5]> = FxHashMap::default();
    for (info, &l) in infos.iter().zip(prior) {
        if info.flags & F_ALPHA == 0 {
            continue;
        }
        let c = counts.entry(info.lower).or_default();
        let slot = &mut c[prior_class(l)];
        *slot = slot.saturating_add(1);
    }
    counts
}

/// Second-pass keys: the first pass's labels here and nearby, and what it said about the
/// same word elsewhere in the document.
fn prior_keys(
    sent: &[Info],
    j: usize,
    labels: &[u8],
    counts: &FxHashMap<u64, [u16; 5]>,
    keys: &mut Vec<u64>,
) {
    let w = &sent[j];
    let own = labels.get(j).copied().unwrap_or(0);
    let m1 = if j >= 1 {
        labels.get(j - 1).copied().unwrap_or(9)
    } else {
        9
    };
    let p1 = labels.get(j + 1).copied().unwrap_or(9);
    keys.push(key1(t::PRIOR_SELF, u64::from(own)));
    keys.push(key2(t::PRIOR_M1, u64::from(m1), u64::from(own)));
    keys.push(key2(t::PRIOR_P1, u64::from(p1), u64::from(own)));
    if w.flags & F_ALPHA == 0 {
        return;
    }
    let Some(c) = counts.get(&w.lower) else {
        return;
    };
    let mut others = *c;
    let own_slot = &mut others[prior_class(own)];
    *own_slot = own_slot.saturating_sub(1);
    let best = (1..5)
        .max_by_key(|&k| (others[k], std::cmp::Reverse(k)))
        .unwrap_or(1);
    if others[best] > 0 {
        keys.push(key3(
            t::DOC_PRIOR,
            best as u64,
            u64::from(w.class),
            prior_class(own) as u64,
        ));
    } else if others[0] > 0 {
        keys.push(key2(
            t::DOC_PRIOR_O,
            u64::from(w.class),
            prior_class(own) as u64,
        ));
    }
}

/// Per token: its facts and the id of its word; and per distinct word (id 0: the empty
/// word beyond a sentence's ends), the facts that depend on the word alone, worked out
/// once however often the document repeats it.
fn token_infos(text: &str, tok: &Tokenized, lex: &Lexicon<'_>) -> (Vec<Info>, Vec<u32>, Vec<Info>) {
    let mut infos = Vec::with_capacity(tok.tokens.len());
    let mut ids = Vec::with_capacity(tok.tokens.len());
    let mut words = vec![Info::default()];
    let mut seen: FxHashMap<&str, u32> = FxHashMap::default();
    let mut lower = String::new();
    for t in &tok.tokens {
        let word = t.text(text);
        let known = seen.get(word).copied();
        let id = match known {
            Some(id) => id,
            None if words.len() < MAX_WORDS => {
                let id = words.len() as u32;
                words.push(word_info(word, lex, &mut lower));
                seen.insert(word, id);
                id
            }
            None => NO_WORD,
        };
        ids.push(id);
        infos.push(match words.get(id as usize) {
            Some(&info) => info,
            None => word_info(word, lex, &mut lower),
        });
    }
    mark_gazetteer(&mut infos, &tok.sentences, lex.gazetteer);
    (infos, ids, words)
}

/// The facts of one word that do not depend on where it stands (`lower` is a buffer).
fn word_info(word: &str, lex: &Lexicon<'_>, lower: &mut String) -> Info {
    lower_into(word, lower);
    let (shape, short_shape, flags) = shape_of(word);
    let (prefix, suffix) = affixes(lower);
    let word_hash = wordclass::word_hash(word);
    let (fine, coarse) = match lex.classes.get(word_hash) {
        Some(c) => (c.fine.saturating_add(2), c.coarse.saturating_add(2)),
        None => (1, 1),
    };
    Info {
        word: word_hash,
        lower: hash::str(0x6c77, lower),
        gaz_token: gazetteer::token_hash(lower),
        shape,
        short_shape,
        prefix,
        suffix,
        flags,
        class: class_of(flags),
        gaz_begin: 0,
        gaz_inside: 0,
        long_begin: 0,
        long_inside: 0,
        fine,
        coarse,
    }
}

/// Most distinct words a document keeps word groups for: enough for any news story (a
/// long one has a few thousand), and a bound on the memory a hostile one can take. Later
/// words get their keys inline.
const MAX_WORDS: usize = 1 << 13;
/// The id of a word past [`MAX_WORDS`].
const NO_WORD: u32 = u32::MAX;
/// No word group: the keys are among the token's own.
pub(crate) const NO_GROUP: u32 = u32::MAX;

/// The keys of every word group the document's sentences use (each distinct word, and the
/// empty word, in every role, under the capitals bit of each sentence it occurs in), and
/// per word id and capitals bit the first of its groups ([`Doc::group`]).
fn word_group_keys(
    words: &[Info],
    word_ids: &[u32],
    sentences: &[Range<usize>],
    caps_sentence: &[bool],
    classes: bool,
) -> (Features, Vec<u32>) {
    let mut base = vec![NO_GROUP; words.len() * 2];
    for (s, range) in sentences.iter().enumerate() {
        let caps = usize::from(caps_sentence.get(s).copied().unwrap_or(false));
        let ids = word_ids.get(range.clone()).unwrap_or(&[]);
        for w in ids.iter().map(|&w| w as usize).chain([0]) {
            if let Some(b) = w.checked_mul(2).and_then(|i| base.get_mut(i + caps)) {
                *b = 0;
            }
        }
    }
    let mut out = Features::default();
    out.offsets.push(0);
    let mut groups = 0u32;
    for (i, b) in base.iter_mut().enumerate() {
        let Some(w) = words.get(i / 2) else { break };
        if *b == NO_GROUP {
            continue;
        }
        *b = groups;
        for role in 0..ROLES {
            word_role_keys(w, role, i % 2 == 1, classes, &mut out.keys);
            out.offsets.push(out.keys.len() as u32);
        }
        groups += ROLES as u32;
    }
    (out, base)
}

fn mark_gazetteer(infos: &mut [Info], sentences: &[Range<usize>], gaz: &Gazetteer) {
    let mut hashes = Vec::new();
    let mut bufs: [Vec<u16>; 4] = Default::default();
    for s in sentences {
        let Some(sent) = infos.get_mut(s.clone()) else {
            continue;
        };
        hashes.clear();
        hashes.extend(sent.iter().map(|i| i.gaz_token));
        for b in &mut bufs {
            b.clear();
            b.resize(sent.len(), 0);
        }
        let [begin, inside, long_begin, long_inside] = &mut bufs;
        gaz.mark(&hashes, (begin, inside), (long_begin, long_inside));
        for (k, info) in sent.iter_mut().enumerate() {
            info.gaz_begin = begin[k];
            info.gaz_inside = inside[k];
            info.long_begin = long_begin[k];
            info.long_inside = long_inside[k];
        }
    }
}

fn doc_cases(
    infos: &[Info],
    sentences: &[Range<usize>],
    caps_sentence: &[bool],
    title_head: bool,
) -> FxHashMap<u64, DocCase> {
    let mut doc: FxHashMap<u64, DocCase> = FxHashMap::default();
    for (s, range) in sentences.iter().enumerate() {
        if caps_sentence.get(s).copied().unwrap_or(false) {
            continue;
        }
        for (j, info) in infos[range.clone()].iter().enumerate() {
            if info.flags & F_ALPHA == 0 {
                continue;
            }
            let d = doc.entry(info.lower).or_default();
            if info.flags & F_TITLE != 0 && j > 0 {
                d.title_mid = d.title_mid.saturating_add(1);
                d.cased_word = info.word;
                if !(s == 0 && title_head) {
                    d.title_running = d.title_running.saturating_add(1);
                }
            } else if info.flags & F_LOWER != 0 {
                d.lower = d.lower.saturating_add(1);
            } else if info.flags & F_CAPS != 0 && d.cased_word == 0 {
                d.cased_word = info.word;
            }
        }
    }
    doc
}

/// What a key depends on: one word in one of its [`ROLES`] (with the capitals bit), which
/// a document makes once per distinct word, or the token's context (two or more words, its
/// place in the sentence, the document).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Part {
    /// The word in role `.0` ([`OWN`], [`BEFORE1`], ...).
    Word(usize),
    /// Anything else.
    Context,
}

/// Where [`each_key`] puts the keys it makes: all of them (training), or one part's.
struct Keys<'a> {
    /// The part wanted; `None` wants every key.
    part: Option<Part>,
    keys: &'a mut Vec<u64>,
}

impl Keys<'_> {
    #[inline(always)]
    fn wants(&self, part: Part) -> bool {
        self.part.is_none_or(|wanted| wanted == part)
    }

    #[inline(always)]
    fn push(&mut self, key: u64) {
        self.keys.push(key);
    }
}

/// A token and what its keys look at: its word, the words up to two places either side
/// (the empty word beyond the sentence), its place, its sentence and the document.
struct Window<'a> {
    w: &'a Info,
    m1: &'a Info,
    m2: &'a Info,
    p1: &'a Info,
    p2: &'a Info,
    j: usize,
    sentence_len: usize,
    caps: bool,
    classes: bool,
    /// The document's casing facts; `None` for a lone word ([`word_role_keys`]), whose
    /// context keys are never asked for.
    doc: Option<&'a FxHashMap<u64, DocCase>>,
}

impl<'a> Window<'a> {
    /// Token `j` of `sent`.
    fn around(
        sent: &'a [Info],
        j: usize,
        caps: bool,
        classes: bool,
        doc: &'a FxHashMap<u64, DocCase>,
        none: &'a Info,
    ) -> Self {
        let at = |k: Option<usize>| k.and_then(|k| sent.get(k)).unwrap_or(none);
        Self {
            w: &sent[j],
            m1: at(j.checked_sub(1)),
            m2: at(j.checked_sub(2)),
            p1: at(Some(j + 1)),
            p2: at(Some(j + 2)),
            j,
            sentence_len: sent.len(),
            caps,
            classes,
            doc: Some(doc),
        }
    }

    /// Word `w` in every role at once, for its word-role keys.
    fn lone(w: &'a Info, caps: bool, classes: bool) -> Self {
        Self {
            w,
            m1: w,
            m2: w,
            p1: w,
            p2: w,
            j: 0,
            sentence_len: 1,
            caps,
            classes,
            doc: None,
        }
    }
}

/// The templates: every key of the token at `v` that `out` wants, in the order training
/// has always used (feature dropout draws per key in this order, so the committed model is
/// reproduced byte for byte). Training takes them all ([`token_keys`] with `None`); tagging
/// takes the word-role part once per distinct word ([`word_role_keys`]) and the context
/// part per token ([`token_keys`] with `Part::Context`). A new template goes here, under its
/// part.
#[inline(always)]
fn each_key(v: &Window<'_>, out: &mut Keys<'_>) {
    let (w, m1, m2, p1, p2) = (v.w, v.m1, v.m2, v.p1, v.p2);
    let own = out.wants(Part::Word(OWN));
    let before1 = out.wants(Part::Word(BEFORE1));
    let after1 = out.wants(Part::Word(AFTER1));
    let before2 = out.wants(Part::Word(BEFORE2));
    let after2 = out.wants(Part::Word(AFTER2));
    let context = out.wants(Part::Context);
    debug_assert!(
        !context || v.doc.is_some(),
        "context keys need the document (a lone word's window has none)"
    );
    let caps_bit = u64::from(v.caps);
    if own {
        out.push(key1(t::BIAS, 0));
    }
    if v.classes {
        if own {
            out.push(key1(t::WC_FINE, u64::from(w.fine)));
            out.push(key1(t::WC_COARSE, u64::from(w.coarse)));
            out.push(key2(
                t::WC_FINE_CLASS,
                u64::from(w.fine),
                u64::from(w.class),
            ));
        }
        if before1 {
            out.push(key1(t::WC_M1, u64::from(m1.fine)));
        }
        if after1 {
            out.push(key1(t::WC_P1, u64::from(p1.fine)));
        }
        if context {
            out.push(key2(t::WC_M1_W, u64::from(m1.coarse), u64::from(w.coarse)));
            out.push(key2(t::WC_W_P1, u64::from(w.coarse), u64::from(p1.coarse)));
        }
    }
    if own {
        out.push(key2(t::WORD, w.word, caps_bit));
        out.push(key1(t::LOWER, w.lower));
        out.push(key2(t::SHAPE, w.shape, caps_bit));
        out.push(key2(t::SHORT_SHAPE, w.short_shape, caps_bit));
        for k in 0..4 {
            out.push(key1(t::PREFIX + k as u64, w.prefix[k]));
            out.push(key1(t::SUFFIX + k as u64, w.suffix[k]));
        }
    }
    if before1 {
        out.push(key1(t::LOWER_M1, m1.lower));
    }
    if after1 {
        out.push(key1(t::LOWER_P1, p1.lower));
    }
    if before2 {
        out.push(key1(t::LOWER_M2, m2.lower));
    }
    if after2 {
        out.push(key1(t::LOWER_P2, p2.lower));
    }
    if before1 {
        out.push(key2(t::SHAPE_M1, m1.short_shape, caps_bit));
    }
    if after1 {
        out.push(key2(t::SHAPE_P1, p1.short_shape, caps_bit));
    }
    if context {
        out.push(key2(t::BIGRAM_M1, m1.lower, w.lower));
        out.push(key2(t::BIGRAM_P1, w.lower, p1.lower));
        out.push(key3(
            t::SHAPE3,
            m1.short_shape,
            w.short_shape,
            p1.short_shape,
        ));
        out.push(key2(t::WORD_M1, m1.word, u64::from(w.class)));
        out.push(key2(t::WORD_P1, p1.word, u64::from(w.class)));
        out.push(key3(
            t::CLASS_M1_W,
            u64::from(m1.class),
            u64::from(w.class),
            w.lower,
        ));
        out.push(key2(t::FIRST, u64::from(v.j == 0), w.short_shape));
    }
    if own {
        out.push(key2(t::CAPS_SENT, caps_bit, u64::from(w.class)));
    }
    if context {
        out.push(key2(
            t::LEN,
            (v.sentence_len.min(8)) as u64,
            u64::from(v.j == 0),
        ));
        gazetteer_keys(w, m1, p1, out.keys);
        if let Some(doc) = v.doc {
            document_keys(w, v.j, v.caps, doc, out.keys);
        }
    }
}

/// Appends token `j`'s keys of `part`, or all of them in training's order with `None`
/// (training). `Some(Part::Context)` is what tagging takes per token: the keys that depend
/// on more than one word, on the token's place or on the document.
fn token_keys(
    sent: &[Info],
    j: usize,
    caps: bool,
    classes: bool,
    doc: &FxHashMap<u64, DocCase>,
    part: Option<Part>,
    keys: &mut Vec<u64>,
) {
    let none = Info::default();
    let window = Window::around(sent, j, caps, classes, doc, &none);
    each_key(&window, &mut Keys { part, keys });
}

/// Appends the keys word `w` gives a token in role `role` ([`OWN`], [`BEFORE1`], ...) in a
/// sentence with capitals bit `caps`: the part of [`token_keys`] that depends on one word
/// alone.
fn word_role_keys(w: &Info, role: usize, caps: bool, classes: bool, keys: &mut Vec<u64>) {
    let part = Some(Part::Word(role));
    each_key(&Window::lone(w, caps, classes), &mut Keys { part, keys });
}

fn gazetteer_keys(w: &Info, m1: &Info, p1: &Info, keys: &mut Vec<u64>) {
    let any = w.gaz_begin | w.gaz_inside;
    for bit in 0..gazetteer::BITS {
        let mask = 1u16 << bit;
        let b = u64::from(bit);
        if w.gaz_begin & mask != 0 {
            keys.push(key1(t::GAZ_BEGIN, b));
            keys.push(key2(t::GAZ_CLASS, b, u64::from(w.class)));
        }
        if w.long_begin & mask != 0 {
            keys.push(key2(t::GAZ_LONG_BEGIN, b, u64::from(w.class)));
        }
        if w.long_inside & mask != 0 {
            keys.push(key2(t::GAZ_LONG_INSIDE, b, u64::from(w.class)));
        }
        if w.gaz_inside & mask != 0 {
            keys.push(key1(t::GAZ_INSIDE, b));
        }
        if (m1.gaz_begin | m1.gaz_inside) & mask != 0 {
            keys.push(key2(t::GAZ_M1, b, u64::from(w.class)));
        }
        if (p1.gaz_begin | p1.gaz_inside) & mask != 0 {
            keys.push(key2(t::GAZ_P1, b, u64::from(w.class)));
        }
    }
    if any != 0 {
        keys.push(key2(
            t::GAZ_SPAN,
            u64::from(w.gaz_begin),
            u64::from(w.gaz_inside),
        ));
    }
}

/// The key of a word of a title-case headline, where capitals say little: whether the
/// story capitalises the word in running text, writes it in lower case, or the gazetteer
/// knows it (`Saves` in `The Circus that Saves Children's Lives` is none of them).
fn title_head_keys(w: &Info, j: usize, doc: &FxHashMap<u64, DocCase>, keys: &mut Vec<u64>) {
    if w.flags & F_ALPHA == 0 {
        return;
    }
    let d = doc.get(&w.lower).copied().unwrap_or_default();
    let evidence = u64::from(d.title_running > 0)
        | u64::from(d.lower > 0) << 1
        | u64::from(w.gaz_begin | w.gaz_inside != 0) << 2;
    keys.push(title_head_key(u64::from(w.class), evidence, j == 0));
}

/// The title-case headline key of a word of casing class `class` (see [`class_of`]) with
/// `evidence` bits (0..8), first in its line or not.
fn title_head_key(class: u64, evidence: u64, first: bool) -> u64 {
    key3(t::TITLE_HEAD, class, evidence, u64::from(first))
}

/// Every key [`title_head_keys`] can make (5 casing classes x 8 evidence values x first
/// or not): a model has weights for some of them exactly when it was trained with
/// title-case headlines.
pub(crate) fn all_title_head_keys() -> impl Iterator<Item = u64> {
    (0..=4u64).flat_map(|class| {
        (0..8u64).flat_map(move |evidence| {
            [false, true]
                .into_iter()
                .map(move |first| title_head_key(class, evidence, first))
        })
    })
}

fn document_keys(
    w: &Info,
    j: usize,
    caps: bool,
    doc: &FxHashMap<u64, DocCase>,
    keys: &mut Vec<u64>,
) {
    if w.flags & F_ALPHA == 0 {
        return;
    }
    let d = doc.get(&w.lower).copied().unwrap_or_default();
    let seen_title = d.title_mid > 0;
    let seen_lower = d.lower > 0;
    keys.push(key3(
        t::DOC_TITLE,
        u64::from(seen_title),
        u64::from(w.class),
        u64::from(j == 0),
    ));
    keys.push(key3(
        t::DOC_LOWER,
        u64::from(seen_lower),
        u64::from(w.class),
        u64::from(caps),
    ));
    if caps && d.cased_word != 0 {
        keys.push(key1(t::DOC_WORD, d.cased_word));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tokenize::tokenize;
    use super::*;

    fn empty_lexicon() -> Lexicon<'static> {
        static GAZ: std::sync::OnceLock<Gazetteer> = std::sync::OnceLock::new();
        static CLASSES: std::sync::OnceLock<WordClasses> = std::sync::OnceLock::new();
        Lexicon {
            gazetteer: GAZ.get_or_init(Gazetteer::default),
            classes: CLASSES.get_or_init(WordClasses::default),
            title_heads: true,
        }
    }

    /// The tokens of `text` and their first-pass keys, with an empty lexicon.
    fn base_features(text: &str) -> (Tokenized, Features) {
        let tok = tokenize(text);
        let mut f = Features::default();
        extract(text, &tok, &empty_lexicon(), None, &mut f);
        (tok, f)
    }

    #[test]
    fn every_token_gets_features_and_shapes_differ() {
        let text = "John Kerry met Lavrov .\nKERRY MEETS LAVROV";
        let (tok, f) = base_features(text);
        assert_eq!(f.len(), tok.tokens.len());
        assert!(f.of(0).len() > 20);
        assert_ne!(shape_of("Kerry").0, shape_of("kerry").0);
        assert_eq!(shape_of("Kerry").2 & F_TITLE, F_TITLE);
        assert_eq!(shape_of("US").2 & F_CAPS, F_CAPS);
    }

    #[test]
    fn caps_headline_borrows_the_cased_form() {
        let text = "KERRY MEETS LAVROV IN GENEVA\nThen Kerry met Lavrov .";
        let (_, f) = base_features(text);
        let kerry_cased = key1(t::DOC_WORD, hash::str(0x776f, "Kerry"));
        assert!(f.of(0).contains(&kerry_cased));
    }

    #[test]
    fn a_title_case_headline_asks_how_the_story_writes_its_words() {
        let text = "The Circus that Saves Red Shirts\nThe Red Shirts said the circus saves lives .";
        let (tok, mut f) = base_features(text);
        let title = 1;
        // `Saves`: lower case in the story (bit 1), never capitalised in running text.
        let saves = key3(t::TITLE_HEAD, title, 0b010, 0);
        // `Red`: capitalised in the running text (bit 0).
        let red = key3(t::TITLE_HEAD, title, 0b001, 0);
        assert!(f.of(3).contains(&saves));
        assert!(f.of(4).contains(&red));
        // The body is not a headline.
        let body = tok.sentences[1].clone();
        assert!(body.flat_map(|i| f.of(i)).all(|&k| k != saves && k != red));
        // A headline in capitals or in sentence case gets no such keys.
        for plain in [
            "THE CIRCUS THAT SAVES LIVES",
            "The circus that saves Red Shirts",
        ] {
            let tok = tokenize(plain);
            extract(plain, &tok, &empty_lexicon(), None, &mut f);
            assert!(f.keys.iter().all(|&k| k != saves && k != red), "{plain}");
        }
    }

    #[test]
    fn sentence_keys_are_the_documents_keys_in_pieces() {
        let text = "KERRY MEETS LAVROV\nJohn Kerry met Sergei Lavrov in Geneva. Kerry said so.";
        let tok = tokenize(text);
        assert!(tok.sentences.len() >= 2);
        let doc = Doc::new(text, &tok, &empty_lexicon());
        let mut all = Features::default();
        doc.base(&mut all);
        let prior: Vec<u8> = (0..tok.tokens.len()).map(|i| (i % 3) as u8).collect();
        let mut full = Features::default();
        doc.with_prior(&prior, &mut full);
        let counts = doc.prior_counts(&prior).expect("one label per token");
        let (mut base, mut own) = (Features::default(), Features::default());
        for (s, range) in tok.sentences.iter().enumerate() {
            doc.sentence_base(s, &mut base);
            doc.sentence_prior(s, &prior, &counts, &mut own);
            assert_eq!((base.len(), own.len()), (range.len(), range.len()));
            for (j, i) in range.clone().enumerate() {
                assert_eq!(base.of(j), all.of(i));
                assert_eq!([base.of(j), own.of(j)].concat(), full.of(i));
            }
        }
        assert!(doc.prior_counts(&prior[1..]).is_none());
    }

    /// Sentence `s`'s tagging keys with its word groups expanded, per token, sorted.
    fn expanded_tagging_keys(doc: &Doc, s: usize) -> Vec<Vec<u64>> {
        let mut f = Features::default();
        doc.sentence_tagging(s, &mut f);
        (0..f.len())
            .map(|j| {
                assert_eq!(f.groups_of(j).len(), ROLES);
                let mut keys = f.of(j).to_vec();
                for &g in f.groups_of(j) {
                    keys.extend_from_slice(doc.word_keys().of(g as usize));
                }
                keys.sort_unstable();
                keys
            })
            .collect()
    }

    /// Asserts that every sentence's tagging keys are its training keys, as multisets.
    fn assert_split_matches(text: &str, lex: &Lexicon<'_>) {
        let tok = tokenize(text);
        let doc = Doc::new(text, &tok, lex);
        let mut base = Features::default();
        for s in 0..tok.sentences.len() {
            doc.sentence_base(s, &mut base);
            let split = expanded_tagging_keys(&doc, s);
            assert_eq!(split.len(), base.len(), "sentence {s}");
            for (j, got) in split.iter().enumerate() {
                let mut want = base.of(j).to_vec();
                want.sort_unstable();
                assert_eq!(got, &want, "sentence {s} token {j} of {text:.60}");
            }
        }
    }

    #[test]
    fn split_keys_are_the_full_keys() {
        let texts = [
            "KERRY MEETS LAVROV\nJohn Kerry met Sergei Lavrov in Geneva. Kerry said so.",
            "The Circus that Saves Red Shirts\nThe Red Shirts said the circus saves lives .",
            "A\n\nB . C D E F G H , \"quoted\" U.S. al-Qaeda 1,200 ( Reuters ) -",
            "",
        ];
        let embedded = super::super::embedded_lexicon();
        let with_heads = Lexicon {
            title_heads: true,
            ..embedded
        };
        for text in texts {
            assert_split_matches(text, &empty_lexicon());
            assert_split_matches(text, &with_heads);
        }
    }

    #[test]
    fn words_past_the_group_limit_keep_their_keys_inline() {
        let mut text = String::from("Alpha beta Alpha beta.\n");
        for i in 0..MAX_WORDS + 50 {
            text.push_str(&format!("w{i} "));
            if i % 20 == 19 {
                text.push_str(". Alpha beta .\n");
            }
        }
        let tok = tokenize(&text);
        let doc = Doc::new(&text, &tok, &empty_lexicon());
        assert!(doc.word_keys().len() <= (MAX_WORDS * 2) * ROLES);
        let last = tok.sentences.len() - 1;
        let mut f = Features::default();
        doc.sentence_tagging(last, &mut f);
        assert!(
            f.groups.contains(&NO_GROUP),
            "the last words are past the limit"
        );
        assert_split_matches(&text, &empty_lexicon());
    }
}
