//! Attribution: for each quoted segment, the cue that introduces it, the mention that
//! says it (`Toner`, `he`, `the spokesman`, `the State Department`) and the speaker name
//! that mention resolves to.
//!
//! Positions tried, in order: a cue right after the quote (`"…," Toner said`,
//! `"…," said Toner`), a cue before it in the same sentence (`Toner said: "…"`,
//! `according to the ministry, "…"`), a cue further on in the sentence, the other quotes
//! of the paragraph, and the previous paragraph's speaker for a paragraph that is only a
//! quote.
//!
//! Must not: scan more than a bounded window of tokens around each quote (linear time),
//! or give a speaker to a scare quote with no speech context.

use crate::enrich::record::QuoteKind;

use super::cues::{self, CueKind, PronounKind};
use super::marks::Segment;
use super::names::{is_capitalised, strip_possessive, Gender, Name, NameKind, NameTable};
use super::tokens::{self, Kind, Tok};

/// How many tokens a context window may span.
const WINDOW: usize = 40;
/// How far after a quote a cue may be and still be read as the quote's own attribution.
const NEAR: usize = 14;
/// How many tokens before a quote an utterance noun (`statement`, `words`) may be.
const MAX_GAP: usize = 10;
/// How many earlier quotes of its paragraph a quote looks back over for a cued one
/// (without a bound, a paragraph of 40,000 uncued quotes took 49 s: quadratic).
const MAX_QUOTES_BACK: usize = 64;

/// The attribution of one quote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Attribution {
    /// The resolved speaker name (or the noun phrase when it cannot be resolved).
    pub(crate) speaker: Option<String>,
    /// Byte span of the attributing mention.
    pub(crate) mention: Option<(usize, usize)>,
    /// Byte span of the cue.
    pub(crate) cue: Option<(usize, usize)>,
    /// Whether the speaker is a person (for pronoun antecedents).
    pub(crate) person: bool,
    /// Gender of a person speaker, when known.
    pub(crate) gender: Option<Gender>,
}

/// Everything attribution looks at.
pub(crate) struct Context<'a> {
    /// The text.
    pub(crate) body: &'a str,
    /// Its tokens.
    pub(crate) toks: &'a [Tok],
    /// The quoted segments.
    pub(crate) segs: &'a [Segment],
    /// Token range `[first, last)` of each segment's content.
    pub(crate) seg_toks: Vec<(usize, usize)>,
    /// The story's names.
    pub(crate) names: &'a NameTable,
}

/// A noun phrase found as a cue's subject: token range.
#[derive(Debug, Clone, Copy)]
struct Np {
    first: usize,
    last: usize,
}

/// A cue found in a window: token range and kind.
#[derive(Debug, Clone, Copy)]
struct Cue {
    first: usize,
    last: usize,
    kind: CueKind,
}

impl<'a> Context<'a> {
    /// Builds the context, indexing each segment's tokens.
    pub(crate) fn new(
        body: &'a str,
        toks: &'a [Tok],
        segs: &'a [Segment],
        names: &'a NameTable,
    ) -> Self {
        let mut seg_toks = vec![(usize::MAX, 0usize); segs.len()];
        for (i, t) in toks.iter().enumerate() {
            if let Some(q) = t.quote.and_then(|q| seg_toks.get_mut(q as usize)) {
                q.0 = q.0.min(i);
                q.1 = i + 1;
            }
        }
        for (k, st) in seg_toks.iter_mut().enumerate() {
            if st.0 == usize::MAX {
                // A segment with no word tokens: place it by offset.
                let pos = toks.partition_point(|t| t.start < segs[k].content.start);
                *st = (pos, pos);
            }
        }
        Self {
            body,
            toks,
            segs,
            seg_toks,
            names,
        }
    }

    fn word(&self, i: usize) -> &'a str {
        self.toks.get(i).map_or("", |t| t.text(self.body))
    }

    fn is_word(&self, i: usize) -> bool {
        self.toks
            .get(i)
            .is_some_and(|t| t.is_word() && t.quote.is_none())
    }

    /// The cue starting at token `i`, if any.
    fn cue_at(&self, i: usize) -> Option<Cue> {
        if !self.is_word(i) {
            return None;
        }
        let w = self.word(i);
        let next = |k: usize| {
            if self.is_word(i + k) {
                self.word(i + k)
            } else {
                ""
            }
        };
        if w.eq_ignore_ascii_case("according") && next(1).eq_ignore_ascii_case("to") {
            return Some(Cue {
                first: i,
                last: i + 2,
                kind: CueKind::Source,
            });
        }
        if w.eq_ignore_ascii_case("quoted")
            && next(1).eq_ignore_ascii_case("as")
            && next(2).eq_ignore_ascii_case("saying")
        {
            return Some(Cue {
                first: i,
                last: i + 3,
                kind: CueKind::Verb,
            });
        }
        // `As Vulture put it, "…"`.
        if w.eq_ignore_ascii_case("put") && next(1).eq_ignore_ascii_case("it") {
            return Some(Cue {
                first: i,
                last: i + 2,
                kind: CueKind::Verb,
            });
        }
        if w.eq_ignore_ascii_case("by")
            && i > 0
            && self.is_word(i - 1)
            && cues::is_speech_noun(self.word(i - 1))
        {
            return Some(Cue {
                first: i - 1,
                last: i + 1,
                kind: CueKind::Source,
            });
        }
        // A capitalised cue only at a sentence start (`Said Trump: …`, not `United States`).
        if is_capitalised(w)
            && i > 0
            && !self.toks[i - 1].ends_sentence()
            && self.toks[i - 1].para == self.toks[i].para
        {
            return None;
        }
        let kind = cues::cue_word(w)?;
        // `pointed out`, `went on`, `summed up`: the particle is part of the cue, when there
        // is one (the word can end the text).
        let last = if ["pointed", "went", "summed"]
            .iter()
            .any(|p| p.eq_ignore_ascii_case(w))
            && self.is_word(i + 1)
        {
            i + 2
        } else {
            i + 1
        };
        Some(Cue {
            first: i,
            last,
            kind,
        })
    }

    /// Attributes quote `k`. `previous` holds the attributions of earlier quotes.
    pub(crate) fn attribute(
        &self,
        k: usize,
        kind: QuoteKind,
        previous: &[Attribution],
    ) -> Attribution {
        let (a, b) = self.seg_toks[k];
        if let Some(att) = self
            .signed_below(k, previous)
            .or_else(|| self.signed_after_dash(k, previous))
        {
            return att;
        }
        let right = self.right_window(k, b);
        let left = self.left_window(a);
        let mut right_far: Option<Cue> = None;
        // `allegations by X` names the speaker of what follows it, never of what precedes.
        let right_cue = (right.0..right.1).filter_map(|i| self.cue_at(i)).find(|c| {
            c.kind != CueKind::Framing
                && !(c.kind == CueKind::Source
                    && self.is_word(c.first)
                    && cues::is_speech_noun(self.word(c.first)))
        });
        // After a quote that closes its sentence (`"…." Later, she revised …`), only a
        // plain `Name said` clause attributes it.
        let closed = self.body[self.segs[k].content.start..self.segs[k].content.end]
            .ends_with(['.', '!', '?'])
            && self.is_word(right.0)
            && is_capitalised(self.word(right.0));
        // `"…?" Miller, a retired worker, said`: the subject (with its apposition) opens
        // the clause, so the cue is still the quote's own.
        let plain = |c: &Cue| {
            c.kind == CueKind::Verb
                && (!(right.0..c.first).any(|i| self.toks[i].is(','))
                    || self
                        .subject_left(c.first, right.0)
                        .is_some_and(|np| np.first == right.0))
        };
        let mut own_clause: Option<Cue> = None;
        if let Some(c) = right_cue.filter(|c| !closed || plain(c)) {
            if closed && self.opens_own_clause(c) {
                own_clause = Some(c);
            } else if c.first - right.0 <= NEAR {
                if let Some(att) = self.attribution_of_cue(c, right.0, previous, k) {
                    return att;
                }
            } else {
                right_far = Some(c);
            }
        }
        if let Some(att) = self
            .possessive_source(left, previous)
            .or_else(|| self.publisher(left, previous))
        {
            return att;
        }
        let mut hi = left.1;
        while let Some(c) = self.last_cue(left.0, hi) {
            if let Some(att) = self.attribution_of_cue(c, left.0, previous, k) {
                return att;
            }
            hi = c.first;
        }
        let colon = self.toks[left.1..a.min(self.toks.len())]
            .iter()
            .any(|t| t.is(':'));
        if colon {
            if let Some(att) = self.colon_speaker(left) {
                return att;
            }
            // `She then addressed the supporters again: "…"`: the sentence's subject.
            if let Some(np) = self.sentence_subject(left.1) {
                return self.resolve(np, previous);
            }
        }
        if let Some(c) = own_clause {
            if let Some(att) = self.previous_in_paragraph(k, previous) {
                return att;
            }
            if let Some(att) = self.attribution_of_cue(c, right.0, previous, k) {
                return att;
            }
        }
        if kind == QuoteKind::Direct {
            if let Some(c) = right_far {
                if let Some(att) = self.attribution_of_cue(c, right.0, previous, k) {
                    return att;
                }
            }
        }
        Attribution::default()
    }

    /// `From Bush's Facebook post: "…"`, `in Forbes' words, "…"`, `Clinton's response
    /// was: "…"`, `his famous demand in Berlin: "…"`: the owner of an utterance noun
    /// shortly before the quote is its speaker.
    fn possessive_source(
        &self,
        left: (usize, usize),
        previous: &[Attribution],
    ) -> Option<Attribution> {
        let (lo, hi) = left;
        let noun = (lo..hi)
            .rev()
            .take(MAX_GAP)
            .find(|&n| self.is_word(n) && cues::is_utterance_noun(self.word(n)))?;
        let owner = (lo.max(noun.saturating_sub(3))..noun)
            .rev()
            .find(|&o| self.is_possessive(o))?;
        // `Trump said Clinton's remarks were "…"`, `In a meeting with the Post's editorial
        // board, Trump said: "…"`: a speech cue in the sentence names the speaker instead.
        let other_cue = (lo..hi)
            .filter(|&i| i != noun)
            .filter_map(|i| self.cue_at(i))
            .any(|c| c.kind != CueKind::Framing && !(c.first..c.last).contains(&noun));
        if other_cue {
            return None;
        }
        let w = self.word(owner);
        let mut att = if is_plural_possessive(w) {
            self.resolve_pronoun(
                PronounKind::Plural,
                self.toks[owner].start,
                self.toks[owner].end,
                previous,
            )
        } else if matches!(
            cues::pronoun(w),
            Some(PronounKind::Male | PronounKind::Female)
        ) {
            let np = Np {
                first: owner,
                last: owner + 1,
            };
            self.resolve(np, previous)
        } else if is_capitalised(w) {
            self.resolve(self.np_ending_at(owner + 1, lo)?, previous)
        } else {
            return None;
        };
        att.speaker.as_ref()?;
        att.cue = Some((self.toks[noun].start, self.toks[noun].end));
        Some(att)
    }

    /// Whether token `o` is a possessive: `Bush's`, `Forbes'`, `his`, `her`, `its`.
    fn is_possessive(&self, o: usize) -> bool {
        if !self.is_word(o) {
            return false;
        }
        let w = self.word(o);
        let apostrophe_s = strip_possessive(w) != w;
        let bare_apostrophe = w.ends_with('s')
            && is_capitalised(w)
            && self
                .toks
                .get(o + 1)
                .is_some_and(|t| t.is('’') || t.is('\''));
        apostrophe_s
            || bare_apostrophe
            || is_plural_possessive(w)
            || matches!(w, "his" | "her" | "His" | "Her")
    }

    /// `Trump issued a statement, "…"`, `Obama released a statement Thursday condemning
    /// "…"`, `she released a statement saying, "…"`: the subject of the verb that put the
    /// statement out.
    fn publisher(&self, left: (usize, usize), previous: &[Attribution]) -> Option<Attribution> {
        let (lo, hi) = left;
        let noun = (lo..hi)
            .rev()
            .take(MAX_GAP)
            .find(|&n| self.is_word(n) && cues::is_document_noun(self.word(n)))?;
        let verb = (lo.max(noun.saturating_sub(4))..noun)
            .rev()
            .find(|&v| self.is_word(v) && cues::is_publishing_verb(self.word(v)))?;
        let np = self.subject_left(verb, lo)?;
        let mut att = self.resolve(np, previous);
        att.speaker.as_ref()?;
        att.cue = Some((self.toks[verb].start, self.toks[noun].end));
        Some(att)
    }

    /// `"…" ¶ — Bernie Sanders.`: a quote that ends its paragraph, signed by a short
    /// next paragraph that opens with a dash and a name (quote boxes, fact checks).
    fn signed_below(&self, k: usize, previous: &[Attribution]) -> Option<Attribution> {
        let (_, b) = self.seg_toks[k];
        let close = self.segs[k].close_end;
        let para = self.toks.get(b.checked_sub(1)?)?.para;
        let mut i = b;
        while i < self.toks.len() && self.toks[i].start < close {
            i += 1;
        }
        while i < self.toks.len() && self.toks[i].para == para {
            if self.toks[i].is_word() || self.toks[i].quote.is_some() {
                return None;
            }
            i += 1;
        }
        let dash = self.toks.get(i)?;
        if dash.para != para + 1 {
            return None;
        }
        if !matches!(dash.kind, Kind::Punct(c) if tokens::is_dash(c)) {
            return self.signature_line(k, i, previous);
        }
        let words = self.toks[i + 1..]
            .iter()
            .take_while(|t| t.para == dash.para)
            .take(40)
            .filter(|t| t.is_word())
            .count();
        if words > 16 {
            return None;
        }
        let np = self.subject_right(i + 1)?;
        let att = self.resolve(np, previous);
        att.speaker.is_some().then_some(att)
    }

    /// `"…" — Jane Doe`: a quote followed on its own line by a dash and a short signature
    /// with no verb, a name (or role) that ends the line or is followed by a comma and an
    /// affiliation.
    fn signed_after_dash(&self, k: usize, previous: &[Attribution]) -> Option<Attribution> {
        let (_, b) = self.seg_toks[k];
        let close = self.segs[k].close_end;
        let mut i = b;
        while i < self.toks.len() && self.toks[i].start < close {
            i += 1;
        }
        let dash = self.toks.get(i)?;
        if !matches!(dash.kind, Kind::Punct(c) if tokens::is_dash(c))
            || dash.para != self.toks.get(b.checked_sub(1)?)?.para
        {
            return None;
        }
        let line = dash.para;
        let end = i
            + 1
            + self.toks[i + 1..]
                .iter()
                .take(16)
                .take_while(|t| t.para == line && t.quote.is_none())
                .count();
        let words = (i + 1..end).filter(|&j| self.is_word(j)).count();
        let line_ends = self.toks.get(end).is_none_or(|t| t.para != line);
        if words == 0 || words > 12 || !line_ends || !is_capitalised(self.word(i + 1)) {
            return None;
        }
        if (i + 1..end).any(|j| self.cue_at(j).is_some()) {
            return None;
        }
        let np = self.subject_right(i + 1)?;
        let after = self.toks.get(np.last);
        let signed = np.last >= end || after.is_some_and(|t| t.is(',') || t.ends_sentence());
        if !signed {
            return None;
        }
        let att = self.resolve(np, previous);
        att.speaker.is_some().then_some(att)
    }

    /// `"…" ¶ Josh Bivens, Economic Policy Institute."`: a pull quote that opens its line,
    /// signed by the next line: a name (or role) alone or followed by a comma and an
    /// affiliation, with no verb. The signature sits in the quote's own paragraph (one
    /// line break), or the box's closing mark ends it.
    fn signature_line(&self, k: usize, i: usize, previous: &[Attribution]) -> Option<Attribution> {
        let seg = &self.segs[k];
        if !(seg.open == 0 || self.body[..seg.open].ends_with('\n')) {
            return None;
        }
        let line = self.toks[i].para;
        let end = i + self.toks[i..]
            .iter()
            .take(30)
            .take_while(|t| t.para == line)
            .count();
        let sig = &self.toks[i..end];
        let words = sig.iter().filter(|t| t.is_word()).count();
        let ends_with_mark = sig
            .last()
            .is_some_and(|t| matches!(t.text(self.body), "\"" | "”") || t.quote.is_some());
        let same_paragraph = !self
            .body
            .get(seg.close_end..self.toks[i].start)
            .unwrap_or("\n\n")
            .contains("\n\n");
        if words == 0 || words > 12 || !(ends_with_mark || same_paragraph) {
            return None;
        }
        if (i..end).any(|j| self.cue_at(j).is_some()) {
            return None;
        }
        let np = self.subject_right(i)?;
        // The name ends the line or is followed by a comma and an affiliation.
        let after = self.toks.get(np.last);
        let signed = after.is_none_or(|t| t.para != line || t.is(',') || t.ends_sentence());
        if !signed || !is_capitalised(self.word(i)) {
            return None;
        }
        let att = self.resolve(np, previous);
        att.speaker.is_some().then_some(att)
    }

    /// Tokens after the quote up to the end of its sentence (or the next quote).
    fn right_window(&self, k: usize, b: usize) -> (usize, usize) {
        let close = self.segs[k].close_end;
        let mut i = b;
        while i < self.toks.len() && self.toks[i].start < close {
            i += 1;
        }
        while i < self.toks.len()
            && matches!(
                self.toks[i].kind,
                super::tokens::Kind::Punct(c) if c == ',' || c == ';' || tokens::is_dash(c)
            )
        {
            i += 1;
        }
        let para = self.toks.get(b.saturating_sub(1)).map_or(0, |t| t.para);
        let start = i;
        while i < self.toks.len() && i - start < WINDOW {
            let t = &self.toks[i];
            if t.para != para
                || t.quote.is_some()
                || t.ends_sentence()
                || is_open_mark(t, self.body)
            {
                break;
            }
            i += 1;
        }
        (start, i)
    }

    /// Tokens before the quote back to the start of its sentence (or the previous quote).
    fn left_window(&self, a: usize) -> (usize, usize) {
        // Skip the opening mark and a colon, comma or dash before it, never a full stop.
        let mut end = a;
        while end > 0 && a - end < 3 {
            let t = &self.toks[end - 1];
            if t.is_word() || t.quote.is_some() || t.ends_sentence() {
                break;
            }
            end -= 1;
        }
        let para = self.toks.get(a).map_or(0, |t| t.para);
        let mut i = end;
        while i > 0 && end - i < WINDOW {
            let t = &self.toks[i - 1];
            // A short quoted phrase earlier in the sentence (`called his "claim of right"
            // "significant"`) is part of the sentence, not its end.
            let short_quote = t.quote.is_some_and(|q| self.is_short(q as usize));
            if t.para != para
                || (t.quote.is_some() && !short_quote)
                || (t.ends_sentence() && t.quote.is_none())
                || is_close_mark(t, self.body)
            {
                break;
            }
            i -= 1;
        }
        (i, end)
    }

    /// Whether segment `q` is a phrase of at most four words.
    fn is_short(&self, q: usize) -> bool {
        self.segs.get(q).is_some_and(|s| {
            self.body[s.content.start..s.content.end]
                .split_whitespace()
                .nth(4)
                .is_none()
        })
    }

    /// `Carl Bialik: "…"`, `Bush: "…"` (after `Jeb Bush`): a person's name right before
    /// the colon that opens the quote; a one-word name only when it is all the clause.
    fn colon_speaker(&self, left: (usize, usize)) -> Option<Attribution> {
        let (lo, hi) = left;
        let np = self.np_ending_at(hi, lo)?;
        let last = self.word(np.last - 1);
        if !is_capitalised(last) || np.last - np.first > 5 {
            return None;
        }
        let name = self.name_in(np)?;
        // A one-word name only as a label that opens the clause (`Bush: "…"`), never as
        // the end of one (`delivered a blunt message to Trump: "…"`).
        let opens_clause = self
            .toks
            .get(lo..np.first)
            .is_some_and(|ts| ts.iter().all(|t| !t.is_word()));
        let label = opens_clause && self.is_person_like(name);
        (name.kind == NameKind::Person || label)
            .then(|| self.speaker_of_name(name, self.toks[np.first].start))
    }

    fn last_cue(&self, lo: usize, hi: usize) -> Option<Cue> {
        (lo..hi)
            .rev()
            .find_map(|i| self.cue_at(i).filter(|c| c.last <= hi))
    }

    /// The attribution a cue gives, its subject searched no further left than `lo`.
    fn attribution_of_cue(
        &self,
        c: Cue,
        lo: usize,
        previous: &[Attribution],
        k: usize,
    ) -> Option<Attribution> {
        let np = match c.kind {
            CueKind::Source => self.subject_right(c.last),
            CueKind::Participle => return self.participle_subject(c, lo, previous, k),
            CueKind::Verb | CueKind::Framing => {
                if c.first == lo {
                    self.subject_right(c.last)
                        .or_else(|| self.subject_left(c.first, lo))
                } else if self.takes_object(c) {
                    // `X told POLITICO`: what follows `told` is the hearer, never the speaker.
                    self.subject_left(c.first, lo)
                } else {
                    self.subject_left(c.first, lo)
                        .or_else(|| self.subject_right(c.last))
                }
            }
        }?;
        let mut att = self.resolve(np, previous);
        att.cue = Some((self.toks[c.first].start, self.toks[c.last - 1].end));
        Some(att)
    }

    /// `"…." Kasich said he would have …`, `"…." He also said Trump's …`: a speech verb
    /// after a closed quote that opens its own reported clause (`that`, a subject pronoun,
    /// or a name after a verb that takes no hearer) reports other words, not the quote.
    fn opens_own_clause(&self, c: Cue) -> bool {
        let i = c.last;
        if !self.is_word(i) {
            return false;
        }
        let w = self.word(i);
        let name = is_capitalised(w)
            && !cues::is_not_name(strip_possessive(w))
            && !self.takes_object(c)
            && c.kind == CueKind::Verb;
        cues::opens_reported_clause(w) || name
    }

    /// The attribution of the nearest earlier quote in quote `k`'s paragraph that has a
    /// cue of its own (`"…," Cruz told reporters. "…"`), its cue dropped; looks back at
    /// most [`MAX_QUOTES_BACK`] quotes.
    fn previous_in_paragraph(&self, k: usize, previous: &[Attribution]) -> Option<Attribution> {
        let para = self.para_of(self.segs.get(k)?.open);
        (0..k.min(previous.len()))
            .rev()
            .take(MAX_QUOTES_BACK)
            .take_while(|&j| self.para_of(self.segs[j].open) == para)
            .find(|&j| previous[j].cue.is_some() && previous[j].speaker.is_some())
            .map(|j| Attribution {
                cue: None,
                ..previous[j].clone()
            })
    }

    /// Whether the cue is `tell` in some form, whose object is the hearer.
    fn takes_object(&self, c: Cue) -> bool {
        let w = self.word(c.first);
        ["told", "tells", "tell", "telling"]
            .iter()
            .any(|t| t.eq_ignore_ascii_case(w))
    }

    /// `…, adding: "…"`: the subject of the clause the participle continues.
    fn participle_subject(
        &self,
        c: Cue,
        lo: usize,
        previous: &[Attribution],
        k: usize,
    ) -> Option<Attribution> {
        let cue = Some((self.toks[c.first].start, self.toks[c.last - 1].end));
        // An earlier cue in the same sentence, even across a quote.
        let mut i = c.first;
        let mut steps = 0;
        while i > 0 && steps < WINDOW {
            i -= 1;
            steps += 1;
            let t = &self.toks[i];
            if t.ends_sentence() && t.quote.is_none() {
                break;
            }
            if let Some(c2) = self.cue_at(i).filter(|c2| c2.kind == CueKind::Verb) {
                let np = self
                    .subject_left(c2.first, i.saturating_sub(12))
                    .or_else(|| self.subject_right(c2.last));
                if let Some(np) = np {
                    let mut att = self.resolve(np, previous);
                    att.cue = cue;
                    return Some(att);
                }
            }
        }
        let after_comma = c.first > 0 && self.toks[c.first - 1].is(',');
        let np = if after_comma {
            None
        } else {
            self.subject_left(c.first, lo)
        };
        if let Some(np) = np.or_else(|| self.sentence_subject(c.first)) {
            let mut att = self.resolve(np, previous);
            att.cue = cue;
            return Some(att);
        }
        let prev = k
            .checked_sub(1)
            .and_then(|p| previous.get(p))
            .filter(|p| p.speaker.is_some())?;
        let mut att = prev.clone();
        att.cue = cue;
        Some(att)
    }

    /// The subject of the sentence holding token `i`: its first subject pronoun, or its
    /// first name that is neither after a preposition nor a possessive modifier.
    fn sentence_subject(&self, i: usize) -> Option<Np> {
        let para = self.toks.get(i)?.para;
        let mut start = i;
        while start > 0 && i - start < 60 {
            let t = &self.toks[start - 1];
            if t.para != para || (t.ends_sentence() && t.quote.is_none()) {
                break;
            }
            start -= 1;
        }
        let mut k = self.past_fronted_adjunct(start, i);
        while k < i {
            if !self.is_word(k) {
                k += 1;
                continue;
            }
            let w = self.word(k);
            if let Some(name) = self.named_in_apposition(k, i) {
                return Some(name);
            }
            if matches!(
                cues::pronoun(w),
                Some(PronounKind::Male | PronounKind::Female | PronounKind::Plural)
            ) && w != "it"
                && w != "It"
            {
                return Some(Np {
                    first: k,
                    last: k + 1,
                });
            }
            let ni = self.names.index_at(self.toks[k].start);
            if let Some(n) = self.names.names.get(ni).filter(|n| n.first == k) {
                let possessive = strip_possessive(self.word(n.last - 1)) != self.word(n.last - 1);
                if !possessive && !self.is_object(n) {
                    return Some(Np {
                        first: n.first,
                        last: n.last,
                    });
                }
                k = n.last;
                continue;
            }
            k += 1;
        }
        None
    }

    /// Past a fronted adjunct that opens the sentence at `start` (`At a fair in Dayton,
    /// Ohio, on Monday, …`, `Like Lopez, the senator's former aide, …`, `Noting that …,
    /// …`): the token after it, or `start` when the sentence opens otherwise. Names in
    /// such an adjunct are places, objects or modifiers, never the sentence's subject.
    fn past_fronted_adjunct(&self, start: usize, end: usize) -> usize {
        if !self.is_word(start) || !cues::opens_fronted_adjunct(self.word(start)) {
            return start;
        }
        let Some(mut k) = self.chunk_end(start, end, 20).filter(|&k| k > start + 2) else {
            return start;
        };
        // Further comma-closed chunks: a place after a place (`Dayton, Ohio,`), an
        // apposition to a name (`Lopez, the former aide,`), another adjunct.
        while let Some(next) = self.chunk_end(k, end, 12) {
            let after_name = is_capitalised(self.word(k - 2));
            let w = self.word(k);
            let ni = self.names.index_at(self.toks[k].start);
            let lone_name = self
                .names
                .names
                .get(ni)
                .is_some_and(|n| n.first == k && n.last + 1 == next && !self.is_person_like(n));
            let adjunct = cues::is_adjunct_preposition(w) && !is_capitalised(w);
            let apposition = cues::is_determiner(w) && !is_capitalised(w);
            if !(adjunct || (after_name && (lone_name || apposition))) {
                break;
            }
            k = next;
        }
        k
    }

    /// One past the comma that closes the chunk of words starting at `from` (at most
    /// `max` tokens, before `end`), when the chunk holds no cue and no quote.
    fn chunk_end(&self, from: usize, end: usize, max: usize) -> Option<usize> {
        let limit = end.min(from + max);
        let comma = (from..limit).find(|&x| self.toks[x].is(','))?;
        let clean = comma > from
            && (from..comma).all(|x| self.toks[x].quote.is_none() && self.cue_at(x).is_none());
        clean.then_some(comma + 1)
    }

    /// Whether a one-word name stands for a person: a longer form in the story, a
    /// personal title, or a person name already.
    fn is_person_like(&self, n: &Name) -> bool {
        n.kind == NameKind::Person
            || self
                .names
                .full_name(self.body, n.text(self.body), n.start)
                .is_some()
            || self.has_person_title(n)
    }

    /// `his wife, Ann,`, `Her father, Tom, 39,`: the name that a possessive role phrase
    /// starting at token `k` puts in apposition.
    fn named_in_apposition(&self, k: usize, end: usize) -> Option<Np> {
        if !cues::is_possessive_pronoun(self.word(k)) {
            return None;
        }
        let mut j = k + 1;
        while j < end && j - k <= 3 && self.is_word(j) && !is_capitalised(self.word(j)) {
            j += 1;
        }
        let role = j > k + 1 && cues::is_person_role(self.word(j - 1));
        if !role || !self.toks.get(j).is_some_and(|t| t.is(',')) {
            return None;
        }
        let ni = self.names.index_at(self.toks.get(j + 1)?.start);
        let n = self.names.names.get(ni).filter(|n| n.first == j + 1)?;
        let closed = self.toks.get(n.last).is_some_and(|t| t.is(','));
        closed.then_some(Np {
            first: n.first,
            last: n.last,
        })
    }

    /// The subject noun phrase ending just before token `c` (not before `lo`).
    fn subject_left(&self, c: usize, lo: usize) -> Option<Np> {
        let mut j = c;
        // Auxiliaries and adverbs: `has long said`, `was quoted as saying`.
        while j > lo
            && self.is_word(j - 1)
            && !is_capitalised(self.word(j - 1))
            && cues::is_aux_or_adverb(self.word(j - 1))
        {
            j -= 1;
        }
        j = self.skip_adjunct_left(j, lo);
        j = self.skip_parenthesis_left(j, lo);
        let mut inner_name = None;
        if j > lo && self.toks[j - 1].is(',') {
            let comma = j - 1;
            j = self.skip_apposition_left(j, lo)?;
            // `Hunter's chief of staff, Joe Kasper, told`: the name between the commas
            // when the phrase before them is no subject.
            let inner_end = self.skip_parenthesis_left(comma, j + 1);
            inner_name = self
                .np_ending_at(inner_end, j + 1)
                .filter(|np| np.first == j + 1 && is_capitalised(self.word(np.last - 1)));
        }
        // `…, after winning Ohio in the primary, Gov. John Kasich (R-OH), said`: a
        // person's name set off by commas is the subject over the phrase before it.
        let inner_person = inner_name.filter(|&np| {
            self.name_in(np)
                .is_some_and(|n| n.kind == NameKind::Person && n.last == np.last)
        });
        inner_person
            .or_else(|| self.np_ending_at(j, lo))
            .or(inner_name)
            .or_else(|| self.before_relative_clause(j, lo))
            .or_else(|| {
                let coordinated =
                    j > 0 && self.is_word(j - 1) && ["and", "but"].contains(&self.word(j - 1));
                if coordinated {
                    self.sentence_subject(j)
                        .or_else(|| self.coordinated_subject(j))
                } else {
                    self.coordinated_subject(j)
                }
            })
    }

    /// `a White House official who spoke anonymously … said`: the phrase before `who`.
    fn before_relative_clause(&self, j: usize, lo: usize) -> Option<Np> {
        let mut k = j;
        while k > lo && j - k < 15 {
            k -= 1;
            if !self.is_word(k) {
                if self.toks[k].is(',') {
                    continue;
                }
                return None;
            }
            if ["who", "which", "whose"].contains(&self.word(k)) {
                let end = if k > lo && self.toks[k - 1].is(',') {
                    k - 1
                } else {
                    k
                };
                return self.np_ending_at(end, lo);
            }
        }
        None
    }

    /// `he laughed and said`, `which Trump had called … and promised to`: the nearest
    /// pronoun or name before a coordinated verb, in the same sentence.
    fn coordinated_subject(&self, j: usize) -> Option<Np> {
        let mut k = j;
        let mut steps = 0;
        let mut saw_and = false;
        while k > 0 && steps < 16 {
            k -= 1;
            steps += 1;
            let t = &self.toks[k];
            if t.quote.is_some() || !t.is_word() {
                if t.ends_sentence() && t.quote.is_none() {
                    return None;
                }
                continue;
            }
            let w = self.word(k);
            if w == "and" || w == "but" || w == "then" {
                saw_and = true;
                continue;
            }
            if !saw_and {
                continue;
            }
            if matches!(
                cues::pronoun(w),
                Some(PronounKind::Male | PronounKind::Female | PronounKind::Plural)
            ) {
                return Some(Np {
                    first: k,
                    last: k + 1,
                });
            }
            if is_capitalised(w) && !cues::is_not_name(strip_possessive(w)) {
                return self.np_ending_at(k + 1, k.saturating_sub(6));
            }
        }
        None
    }

    /// `Sen. Chuck Schumer (D-N.Y.) said`: the position before the parenthesis.
    fn skip_parenthesis_left(&self, j: usize, lo: usize) -> usize {
        if j == lo || !self.toks[j - 1].is(')') {
            return j;
        }
        let mut k = j - 1;
        while k > lo && j - k < 12 {
            k -= 1;
            if self.toks[k].is('(') {
                return k;
            }
        }
        j
    }

    /// `on Wednesday`, `in a statement`, `last week` between a subject and its verb.
    fn skip_adjunct_left(&self, j: usize, lo: usize) -> usize {
        if j == lo || !self.is_word(j - 1) || !is_adjunct_head(self.word(j - 1)) {
            return j;
        }
        let mut k = j - 1;
        while k > lo && j - k < 5 {
            k -= 1;
            if !self.is_word(k) {
                return j;
            }
            if cues::is_adjunct_preposition(self.word(k)) && !is_capitalised(self.word(k)) {
                return k;
            }
        }
        j
    }

    /// `Toner, a spokesman, said`: the position after the subject before the apposition.
    fn skip_apposition_left(&self, j: usize, lo: usize) -> Option<usize> {
        let mut k = j - 1;
        while k > lo && j - k < 25 {
            k -= 1;
            let t = &self.toks[k];
            if t.is(',') {
                return Some(k);
            }
            if t.quote.is_some()
                || !(t.is_word()
                    || t.kind == Kind::InnerDot
                    || matches!(
                        t.kind,
                        Kind::Punct('\'' | '’' | '-' | '(' | ')' | '&' | '/')
                    ))
            {
                return None;
            }
        }
        None
    }

    /// The noun phrase whose last token is `j - 1`.
    fn np_ending_at(&self, j: usize, lo: usize) -> Option<Np> {
        if j <= lo || !self.is_word(j - 1) {
            return None;
        }
        let last = j;
        let w = self.word(j - 1);
        if cues::pronoun(w).is_some() {
            return Some(Np { first: j - 1, last });
        }
        let mut first = j;
        let mut has_head = false;
        let mut lower_run = 0;
        while first > lo && last - first < 9 {
            let i = first - 1;
            if !self.is_word(i) {
                break;
            }
            let w = self.word(i);
            if cues::is_determiner(w) {
                first = i;
                // `the release`, `the boy`: a determiner phrase, not a lone `his`.
                has_head |= last - i <= 4 && last - i >= 2;
                break;
            }
            if is_capitalised(w) && !cues::is_not_name(strip_possessive(w)) {
                has_head = true;
                lower_run = 0;
                first = i;
                continue;
            }
            let connector = cues::is_np_connector(w);
            if connector && has_head && i > lo && self.is_word(i - 1) {
                first = i;
                continue;
            }
            if !is_capitalised(w)
                && cues::cue_word(w).is_none()
                && !cues::is_not_name(w)
                && lower_run < 3
                && !cues::is_aux_or_adverb(w)
            {
                if cues::is_person_role(w) || cues::is_org_noun(w) {
                    has_head = true;
                }
                lower_run += 1;
                first = i;
                continue;
            }
            break;
        }
        // Trim leading lower-case words that are not part of a determiner phrase.
        while first < last - 1
            && !is_capitalised(self.word(first))
            && !cues::is_determiner(self.word(first))
            && !cues::is_person_role(self.word(first))
            && !cues::is_org_noun(self.word(first))
        {
            first += 1;
        }
        if !has_head && !is_capitalised(self.word(last - 1)) {
            return None;
        }
        (first < last).then_some(Np { first, last })
    }

    /// The subject noun phrase starting at token `i` (`said Toner`, `according to X`).
    fn subject_right(&self, i: usize) -> Option<Np> {
        if !self.is_word(i) {
            return None;
        }
        let w = self.word(i);
        if cues::pronoun(w).is_some()
            && !(cues::is_possessive_pronoun(w) && self.role_before_name(i + 1))
        {
            return Some(Np {
                first: i,
                last: i + 1,
            });
        }
        if cues::is_adjunct_preposition(w) && !is_capitalised(w) {
            return None;
        }
        let mut j = i;
        let mut has_head = false;
        while j < self.toks.len() && j - i < 10 && self.is_word(j) {
            let w = self.word(j);
            let head = (is_capitalised(w) && !cues::is_not_name(strip_possessive(w)))
                || cues::is_person_role(w)
                || cues::is_org_noun(w);
            let determiner = cues::is_determiner(w) && j == i;
            let connector = cues::is_np_connector(w)
                && has_head
                && self.toks.get(j + 1).is_some_and(|n| n.is_word());
            let plain = !cues::is_not_name(w)
                && cues::cue_word(w).is_none()
                && !cues::is_adjunct_preposition(w);
            // `said Clinton ally James Carville`: lower-case words before a name.
            let before_name = plain
                && (j + 1..(j + 4).min(self.toks.len()))
                    .take_while(|&x| self.is_word(x))
                    .any(|x| {
                        let n = self.word(x);
                        is_capitalised(n) && !cues::is_not_name(n)
                    });
            // `said Smith's longtime senior legal adviser Mary Jones`: the owner's role words.
            let owners_role = j > i
                && strip_possessive(self.word(j - 1)) != self.word(j - 1)
                && self.role_before_name(j);
            let modifier = plain && ((!has_head && j - i < 4) || before_name || owners_role);
            if !(head || determiner || connector || modifier) {
                break;
            }
            has_head |= head;
            j += 1;
        }
        // `the boy`, `the printed Cruz slate card`: a determiner phrase is a subject.
        if cues::is_determiner(w) && !has_head {
            has_head = j - i >= 2;
        } else if cues::is_determiner(w) && has_head {
            while j < self.toks.len() && j - i < 8 && self.is_word(j) {
                let x = self.word(j);
                if is_capitalised(x)
                    || cues::is_not_name(x)
                    || cues::cue_word(x).is_some()
                    || cues::is_adjunct_preposition(x)
                    || cues::is_aux_or_adverb(x)
                {
                    break;
                }
                j += 1;
            }
        }
        // Do not end on a connector.
        while j > i && cues::is_np_connector(self.word(j - 1)) {
            j -= 1;
        }
        (has_head && j > i).then_some(Np { first: i, last: j })
    }

    /// Whether the words from token `j` are a few lower-case modifiers ending in a person
    /// role noun, right before a name (`senior legal adviser Mary Jones`,
    /// `campaign manager John Doe`): the role of the name, owned by what precedes `j`.
    fn role_before_name(&self, j: usize) -> bool {
        let mut k = j;
        let mut role = false;
        while k < self.toks.len() && k - j < 6 && self.is_word(k) {
            let w = self.word(k);
            if is_capitalised(w) {
                return role && !cues::is_not_name(strip_possessive(w));
            }
            if cues::cue_word(w).is_some()
                || cues::is_adjunct_preposition(w)
                || cues::is_determiner(w)
                || cues::is_aux_or_adverb(w)
            {
                return false;
            }
            role = cues::is_person_role(w);
            k += 1;
        }
        false
    }

    /// Turns a subject noun phrase into a speaker: a name (resolved to its full form), a
    /// pronoun or role noun (resolved to an antecedent), or the phrase itself.
    fn resolve(&self, np: Np, previous: &[Attribution]) -> Attribution {
        let start = self.toks[np.first].start;
        let end = self.toks[np.last - 1].end;
        let words: Vec<&str> = (np.first..np.last).map(|i| self.word(i)).collect();
        if let (1, Some(kind)) = (words.len(), cues::pronoun(words[0])) {
            return self.resolve_pronoun(kind, start, end, previous);
        }
        let of_phrase = words
            .iter()
            .position(|w| ["for", "of", "at"].contains(w))
            .is_some_and(|p| {
                p > 0
                    && (cues::is_person_role(words[p - 1]) || cues::is_org_noun(words[p - 1]))
                    && !is_capitalised(words[p - 1])
            });
        let head_is_name = words.last().is_some_and(|w| is_capitalised(w)) && !of_phrase;
        if let Some(name) = self.name_in(np).filter(|_| head_is_name) {
            return self.speaker_of_name(name, start);
        }
        self.resolve_role(&words, start, end, previous)
    }

    /// The best name inside a noun phrase: the last person, else the last organisation.
    fn name_in(&self, np: Np) -> Option<&'a Name> {
        let names = self.names;
        let from = names.index_at(self.toks[np.first].start);
        let inside: Vec<&Name> = names.names[from..]
            .iter()
            .take_while(|n| n.first < np.last)
            .filter(|n| n.last <= np.last)
            .collect();
        inside
            .iter()
            .rev()
            .find(|n| n.kind == NameKind::Person)
            .or_else(|| inside.iter().rev().find(|n| n.kind == NameKind::Org))
            .or_else(|| inside.last())
            .copied()
    }

    /// A speaker from a name occurrence: the full form of a short name, an organisation
    /// with its possessive owner (`Iran's Foreign Ministry`).
    fn speaker_of_name(&self, name: &Name, np_start: usize) -> Attribution {
        let mut mention = (name.start, name.end);
        let text = strip_possessive(name.text(self.body));
        let mut speaker = text.to_owned();
        let mut person = name.kind == NameKind::Person;
        let mut gender = name.gender;
        if name.kind == NameKind::Org && name.first > 0 {
            let owner = self.toks[name.first - 1];
            let ow = owner.text(self.body);
            if owner.is_word()
                && owner.start >= np_start
                && strip_possessive(ow) != ow
                && is_capitalised(ow)
            {
                mention.0 = owner.start;
                speaker = self.body[owner.start..name.end].to_owned();
            }
        } else if let Some(full) = self.names.full_name(self.body, text, name.start) {
            speaker = strip_possessive(full.text(self.body)).to_owned();
            person = true;
            gender = full.gender;
        }
        if name.kind == NameKind::Other && !person {
            person = true; // a single capitalised word that speaks is most likely a person
        }
        Attribution {
            speaker: Some(speaker),
            mention: Some(mention),
            cue: None,
            person,
            gender: Some(gender),
        }
    }

    /// `he`, `she`, `they`: the most recent fitting antecedent.
    fn resolve_pronoun(
        &self,
        kind: PronounKind,
        start: usize,
        end: usize,
        previous: &[Attribution],
    ) -> Attribution {
        let text = self.body[start..end].to_owned();
        let unresolved = Attribution {
            speaker: Some(text),
            mention: Some((start, end)),
            cue: None,
            person: kind != PronounKind::Plural,
            gender: None,
        };
        let fits = |g: Gender| match kind {
            PronounKind::Male => g != Gender::Female,
            PronounKind::Female => g != Gender::Male,
            _ => true,
        };
        let para = self.para_of(start);
        match kind {
            // `you` addresses someone: nobody in particular speaks.
            PronounKind::Speaker if text_is_you(&self.body[start..end]) => Attribution::default(),
            PronounKind::Speaker => unresolved,
            PronounKind::Plural => {
                let org = self.names.names[..self.names.index_at(start)]
                    .iter()
                    .rev()
                    .take(30)
                    .find(|n| n.kind == NameKind::Org && !n.quoted);
                match org {
                    Some(n) => Attribution {
                        mention: Some((start, end)),
                        ..self.speaker_of_name(n, n.start)
                    },
                    None => unresolved,
                }
            }
            PronounKind::Male | PronounKind::Female => {
                match self.antecedent(start, para, &fits, previous) {
                    Some(Antecedent::Name(n)) => Attribution {
                        mention: Some((start, end)),
                        ..self.speaker_of_name(n, n.start)
                    },
                    Some(Antecedent::Speaker(p)) => Attribution {
                        mention: Some((start, end)),
                        cue: None,
                        ..p.clone()
                    },
                    None => unresolved,
                }
            }
        }
    }

    /// The antecedent of `he`/`she` at `pos`: the latest person named as the subject of a
    /// speech verb in this or the previous paragraph; else the latest person named or
    /// quoted, whichever is later.
    fn antecedent<'p>(
        &self,
        pos: usize,
        para: u32,
        fits: &dyn Fn(Gender) -> bool,
        previous: &'p [Attribution],
    ) -> Option<Antecedent<'a, 'p>> {
        let before = &self.names.names[..self.names.index_at(pos)];
        // A single capitalised word that speaks (`Cruz openly admitted …`) is most likely
        // a person too.
        let person = |n: &&Name| {
            n.kind == NameKind::Person
                || (n.kind == NameKind::Other
                    && (self
                        .names
                        .full_name(self.body, n.text(self.body), n.start)
                        .is_some()
                        || self.is_speech_subject(n)
                        || self.has_person_title(n)
                        || self.follows_role_noun(n)))
        };
        let candidates = || {
            before
                .iter()
                .rev()
                .take(40)
                .filter(|n| !n.quoted && person(n) && fits(self.gender_of(n)))
        };
        if let Some(n) = self.recent_subject(pos, para, &|n| person(&n) && fits(self.gender_of(n)))
        {
            return Some(Antecedent::Name(n));
        }
        let speech_subject = candidates()
            .take_while(|n| para.saturating_sub(self.para_of(n.start)) <= 1)
            .find(|n| self.is_speech_subject(n) && !self.is_object(n));
        if let Some(n) = speech_subject {
            return Some(Antecedent::Name(n));
        }
        // The subject of a recent sentence (`Petrilli, who …, called the law …`).
        let sentence_subject = candidates()
            .take(12)
            .take_while(|n| para.saturating_sub(self.para_of(n.start)) <= 1)
            .find(|n| {
                self.sentence_subject(n.last.saturating_sub(1))
                    .is_some_and(|np| np.first == n.first)
            });
        if let Some(n) = sentence_subject {
            return Some(Antecedent::Name(n));
        }
        let name = candidates().find(|n| !self.is_object(n));
        let speaker = previous.iter().rev().take(8).find(|p| {
            p.person
                && p.mention.is_some()
                && fits(p.gender.unwrap_or(Gender::Unknown))
                && p.speaker
                    .as_deref()
                    .is_none_or(|s| cues::pronoun(s).is_none())
        });
        match (name, speaker) {
            (Some(n), Some(p)) if p.mention.is_some_and(|m| m.0 > n.start) => {
                Some(Antecedent::Speaker(p))
            }
            (Some(n), _) => Some(Antecedent::Name(n)),
            (None, Some(p)) => Some(Antecedent::Speaker(p)),
            (None, None) => None,
        }
    }

    /// Whether name `n` stands in apposition to a role noun (`Her father, Tom, …`).
    fn follows_role_noun(&self, n: &Name) -> bool {
        n.first >= 2
            && self.toks[n.first - 1].is(',')
            && self.is_word(n.first - 2)
            && !is_capitalised(self.word(n.first - 2))
            && cues::is_person_role(self.word(n.first - 2))
    }

    /// Whether one-word name `n` carries a personal title in this or a recent occurrence
    /// (`President Obama` … `And Obama, …, seems to agree`), bounded to the 60 names
    /// before it.
    fn has_person_title(&self, n: &Name) -> bool {
        let text = strip_possessive(n.text(self.body));
        let upto = self.names.index_at(n.end);
        self.names.names[..upto]
            .iter()
            .rev()
            .take(60)
            .filter(|m| strip_possessive(m.text(self.body)) == text)
            .any(|m| {
                m.title
                    .split(' ')
                    .any(|w| !w.is_empty() && cues::is_title(w.trim_end_matches('.')))
            })
    }

    /// The subject of the nearest earlier sentence that names a fitting person (`Cruz
    /// admitted it. "…," he said`): up to three sentences back, in the pronoun's paragraph
    /// or the one before. A sentence whose subject is itself a pronoun is passed over (it
    /// continues the same referent, and lets the search reach one paragraph further back);
    /// one whose subject is a name that does not fit ends the search, since the pronoun
    /// then most likely refers further back by other cues.
    fn recent_subject(
        &self,
        pos: usize,
        para: u32,
        fits: &dyn Fn(&Name) -> bool,
    ) -> Option<&'a Name> {
        let mut j = self.toks.partition_point(|t| t.start < pos);
        let mut sentences = 0;
        let mut steps = 0;
        let mut chained = false;
        while j > 0 && sentences < 3 && steps < 160 {
            j -= 1;
            steps += 1;
            let t = &self.toks[j];
            if para.saturating_sub(t.para) > 1 + u32::from(chained) {
                return None;
            }
            let para_end = self.toks.get(j + 1).is_some_and(|n| n.para != t.para);
            if !(para_end || (t.ends_sentence() && t.quote.is_none())) {
                continue;
            }
            sentences += 1;
            // `Trump, Sexton said, has created …`: the one who speaks in the sentence.
            let speaker = self
                .sentence_names(j)
                .rev()
                .find(|n| !n.quoted && fits(n) && self.is_speech_subject(n) && !self.is_object(n));
            if speaker.is_some() {
                return speaker;
            }
            let Some(np) = self.sentence_subject(j) else {
                continue;
            };
            if np.last - np.first == 1 && cues::pronoun(self.word(np.first)).is_some() {
                // `He nodded to …. ¶ "…," he said`: the same referent, so the search may
                // reach one paragraph further back, unless that pronoun speaks itself
                // (`"…," he told Hannity`), whose referent its own quote settled.
                chained = !self.cue_follows(np.last);
                continue;
            }
            let ni = self.names.index_at(self.toks[np.first].start);
            let name = self.names.names.get(ni).filter(|n| n.first == np.first)?;
            return (!name.quoted && fits(name)).then_some(name);
        }
        None
    }

    /// The names of the sentence that ends at token `end` (exclusive), outside quotes.
    fn sentence_names(&self, end: usize) -> impl DoubleEndedIterator<Item = &'a Name> {
        let para = self.toks.get(end).map_or(0, |t| t.para);
        let mut start = end;
        while start > 0 && end - start < 60 {
            let t = &self.toks[start - 1];
            if t.para != para || (t.ends_sentence() && t.quote.is_none()) {
                break;
            }
            start -= 1;
        }
        let names: &'a [Name] = &self.names.names;
        let lo = self
            .names
            .index_at(self.toks.get(start).map_or(0, |t| t.start));
        let hi = self
            .names
            .index_at(self.toks.get(end).map_or(self.body.len(), |t| t.start));
        names[lo..hi.max(lo)].iter()
    }

    /// Whether a cue verb follows the name (`Earnest said`, `Trump, who ..., told`).
    fn is_speech_subject(&self, n: &Name) -> bool {
        self.cue_follows(n.last)
    }

    /// Whether a speech cue follows token `end` (past an aside, auxiliaries, adverbs and
    /// short adjuncts).
    fn cue_follows(&self, end: usize) -> bool {
        let mut k = self.skip_aside_right(end);
        let mut steps = 0;
        while k < self.toks.len() && steps < 4 {
            if let Some(c) = self.cue_at(k) {
                return matches!(c.kind, CueKind::Verb | CueKind::Framing);
            }
            if !self.is_word(k)
                || !(cues::is_aux_or_adverb(self.word(k))
                    || is_adjunct_head(self.word(k))
                    || cues::is_adjunct_preposition(self.word(k)))
            {
                return false;
            }
            k += 1;
            steps += 1;
        }
        false
    }

    /// Past an apposition or parenthesis that starts at token `k` (`, an Obama
    /// supporter,` or `(R)`), bounded; `k` itself when there is none.
    fn skip_aside_right(&self, k: usize) -> usize {
        let Some(open) = self.toks.get(k) else {
            return k;
        };
        let close = if open.is(',') {
            ','
        } else if open.is('(') {
            ')'
        } else {
            return k;
        };
        let mut j = k + 1;
        while j < self.toks.len() && j - k < 14 {
            let t = &self.toks[j];
            if t.is(close) {
                return j + 1;
            }
            if t.quote.is_some() || t.ends_sentence() {
                break;
            }
            j += 1;
        }
        k
    }

    /// A name's gender, through its full form when it is a surname.
    fn gender_of(&self, n: &Name) -> Gender {
        if n.gender != Gender::Unknown {
            return n.gender;
        }
        self.names
            .full_name(self.body, n.text(self.body), n.start)
            .map_or(Gender::Unknown, |f| f.gender)
    }

    /// Whether a name follows a preposition (an object, rarely the antecedent of `he`).
    fn is_object(&self, n: &Name) -> bool {
        let mut k = n.first;
        while k > 0 && self.is_word(k - 1) && cues::is_title(self.word(k - 1)) {
            k -= 1;
        }
        k > 0 && self.is_word(k - 1) && cues::is_object_preposition(self.word(k - 1))
    }

    /// `the spokesman`, `the ministry`: the latest name with that role, else the phrase.
    fn resolve_role(
        &self,
        words: &[&str],
        start: usize,
        end: usize,
        previous: &[Attribution],
    ) -> Attribution {
        let phrase = Attribution {
            speaker: Some(self.body[start..end].to_owned()),
            mention: Some((start, end)),
            cue: None,
            person: false,
            gender: None,
        };
        let definite = words
            .first()
            .is_some_and(|w| ["the", "The", "his", "her", "its"].contains(w));
        let head = words
            .iter()
            .rev()
            .find(|w| cues::is_person_role(w) || cues::is_org_noun(w));
        let Some(head) = head.filter(|_| definite && words.len() <= 4) else {
            return phrase;
        };
        let head_l = head.to_lowercase();
        let before = &self.names.names[..self.names.index_at(start)];
        if cues::is_org_noun(head) {
            let org = before.iter().rev().take(40).find(|n| {
                n.kind == NameKind::Org && n.text(self.body).to_lowercase().contains(&head_l)
            });
            return match org {
                Some(n) => Attribution {
                    mention: Some((start, end)),
                    ..self.speaker_of_name(n, n.start)
                },
                None => phrase,
            };
        }
        let titled =
            before.iter().rev().take(40).find(|n| {
                n.kind == NameKind::Person && n.title.contains(head_l.trim_end_matches('s'))
            });
        if let Some(n) = titled {
            return Attribution {
                mention: Some((start, end)),
                ..self.speaker_of_name(n, n.start)
            };
        }
        let _ = previous;
        phrase
    }

    /// The speaker of reported speech earlier in quote `k`'s own paragraph
    /// (`Bystrom agreed. "…"`), outside quotes.
    pub(crate) fn reported_speaker_before(
        &self,
        k: usize,
        previous: &[Attribution],
    ) -> Option<Attribution> {
        let (a, _) = self.seg_toks[k];
        let para = self.toks.get(a)?.para;
        let lo = self.toks.partition_point(|t| t.para < para);
        let mut i = a;
        while i > lo && a - i < 80 {
            i -= 1;
            let Some(c) = self.cue_at(i).filter(|c| c.kind == CueKind::Verb) else {
                continue;
            };
            if let Some(np) = self.subject_left(c.first, lo.max(c.first.saturating_sub(12))) {
                let att = self.resolve(np, previous);
                if att.speaker.is_some() {
                    return Some(att);
                }
            }
        }
        None
    }

    /// The speaker of the last reported speech (`Kerry said that …`) in line `para`,
    /// outside quotes.
    pub(crate) fn reported_speaker(
        &self,
        para: u32,
        previous: &[Attribution],
    ) -> Option<Attribution> {
        let lo = self.toks.partition_point(|t| t.para < para);
        let hi = self.toks.partition_point(|t| t.para <= para);
        let mut i = hi;
        while i > lo && hi - i < 120 {
            i -= 1;
            let Some(c) = self.cue_at(i).filter(|c| c.kind == CueKind::Verb) else {
                continue;
            };
            let np = self
                .subject_left(c.first, lo.max(c.first.saturating_sub(12)))
                .or_else(|| self.subject_right(c.last));
            if let Some(np) = np {
                let att = self.resolve(np, previous);
                if att.speaker.is_some() {
                    return Some(att);
                }
            }
        }
        None
    }

    pub(crate) fn para_of(&self, pos: usize) -> u32 {
        let i = self.toks.partition_point(|t| t.start < pos);
        self.toks.get(i).map_or(0, |t| t.para)
    }
}

fn text_is_you(w: &str) -> bool {
    w.eq_ignore_ascii_case("you")
}

/// What a pronoun refers to.
enum Antecedent<'n, 'p> {
    /// A name in the text.
    Name(&'n Name),
    /// An earlier quote's speaker.
    Speaker(&'p Attribution),
}

/// Words that end a time or setting adjunct (`on Wednesday`, `in a statement`, `2016`).
fn is_adjunct_head(word: &str) -> bool {
    cues::is_not_name(word) && is_capitalised(word)
        || cues::is_adjunct_head_word(word)
        || word.chars().all(|c| c.is_ascii_digit())
}

/// `its` or `their` (as written in running text or at a sentence start), which
/// `cues::pronoun` does not list.
fn is_plural_possessive(word: &str) -> bool {
    matches!(word, "its" | "their" | "Its" | "Their")
}

fn is_open_mark(t: &Tok, body: &str) -> bool {
    matches!(t.text(body), "“" | "\"" | "«" | "„" | "‘")
}

fn is_close_mark(t: &Tok, body: &str) -> bool {
    matches!(t.text(body), "”" | "»")
}
