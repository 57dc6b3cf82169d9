//! Entity stage: people, organisations, places and other names, one entry per real entity.
//!
//! The headline, captions and body are tokenised ([`tokenize`]), featurised ([`features`],
//! with [`gazetteer`] hits), tagged by an averaged-perceptron sequence model with Viterbi
//! decoding ([`tagger`], trained by [`learn`] via `wire-enricher train-ner`), and the
//! mentions are clustered into entities with canonical names, titles and salience
//! ([`cluster`]); quote speakers are then linked to entities.
//!
//! The model and the compiled gazetteer are embedded in the binary (`data/`); another
//! model file can be loaded with [`Model::load`].
//!
//! Must not: panic on any text, or take more than linear time.

mod augment;
pub mod cluster;
mod credits;
pub mod features;
pub mod gazetteer;
mod hash;
pub mod learn;
pub mod tagger;
pub mod tokenize;
pub mod wordclass;

use std::sync::OnceLock;

use crate::enrich::record::{Entity, EntityType, Field, Quote};
use crate::enrich::story::Story;

pub use gazetteer::Gazetteer;
pub use tagger::ModelError;
pub use wordclass::WordClasses;

/// The compiled gazetteer (see `data/README.md` for provenance).
static GAZETTEER_BYTES: &[u8] = include_bytes!("data/gazetteer.bin");
/// The trained model (see `data/README.md`).
static MODEL_BYTES: &[u8] = include_bytes!("data/model.bin");

/// The word classes learned from open text (see `data/README.md`).
static WORD_CLASS_BYTES: &[u8] = include_bytes!("data/wordclasses.bin");

static GAZETTEER: OnceLock<Gazetteer> = OnceLock::new();
static WORD_CLASSES: OnceLock<WordClasses> = OnceLock::new();

/// The gazetteer compiled into the binary (loaded once).
pub fn embedded_gazetteer() -> &'static Gazetteer {
    GAZETTEER.get_or_init(|| Gazetteer::load(GAZETTEER_BYTES).unwrap_or_default())
}

/// The word classes compiled into the binary (loaded once).
pub fn embedded_word_classes() -> &'static WordClasses {
    WORD_CLASSES.get_or_init(|| WordClasses::load(WORD_CLASS_BYTES).unwrap_or_default())
}

/// The gazetteer and word classes compiled into the binary.
fn embedded_lexicon() -> features::Lexicon<'static> {
    features::Lexicon {
        gazetteer: embedded_gazetteer(),
        classes: embedded_word_classes(),
        title_heads: false,
    }
}

/// A loaded entity model.
#[derive(Debug)]
pub struct Model {
    /// Every tagging pass's weights, fused; from the second pass on, each also sees the
    /// previous pass's labels.
    tagger: tagger::Fused,
    name: String,
    lexicon: features::Lexicon<'static>,
}

impl Model {
    /// The model compiled into the binary. Falls back to an empty model (no entities)
    /// only if the embedded bytes were corrupted at build time.
    pub fn embedded() -> Self {
        Self::load(MODEL_BYTES).unwrap_or_else(|_| Self::empty())
    }

    /// A model that tags nothing (what you get without a trained model).
    pub fn empty() -> Self {
        let trans = [[0.0; tagger::LABELS]; tagger::LABELS + 1];
        let lexicon = embedded_lexicon();
        let none = tagger::Weights::quantise("none", lexicon.checksum(), Vec::new(), &[], trans);
        Self {
            tagger: tagger::Fused::single(&none),
            name: "none".to_owned(),
            lexicon,
        }
    }

    /// Loads a model file written by `wire-enricher train-ner`.
    ///
    /// # Errors
    /// [`ModelError`] when the bytes are not a model file or the model was trained with a
    /// different gazetteer than the one compiled into this binary.
    pub fn load(bytes: &[u8]) -> Result<Self, ModelError> {
        let passes = tagger::passes_from_bytes(bytes)?;
        let mut lexicon = embedded_lexicon();
        if let Some(w) = passes.iter().find(|w| w.gazetteer != lexicon.checksum()) {
            return Err(ModelError::Gazetteer {
                expected: w.gazetteer,
                found: lexicon.checksum(),
            });
        }
        let name = passes
            .first()
            .map_or("none", |w| w.name.as_str())
            .to_owned();
        let tagger = tagger::Fused::new(&passes)?;
        // Title-case headline keys only for a model that learned weights for them.
        lexicon.title_heads = tagger.knows_any(features::all_title_head_keys());
        Ok(Self {
            tagger,
            name,
            lexicon,
        })
    }

    /// The model's name and version.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of weighted features.
    pub fn features(&self) -> usize {
        self.tagger.features()
    }

    /// Tags one text: its tokens and the entity spans as token ranges with types.
    pub fn tag_tokens(&self, text: &str) -> (tokenize::Tokenized, Vec<(usize, usize, EntityType)>) {
        let tok = tokenize::tokenize(text);
        let labels = self.label_tokens(text, &tok);
        let spans = learn::spans(&labels)
            .into_iter()
            .map(|(a, b, l)| (a, b, type_of(l)))
            .collect();
        (tok, spans)
    }

    /// One BIO label per token of `text`. Keys are built one sentence at a time, so
    /// memory beyond the per-token facts does not grow with the document.
    fn label_tokens(&self, text: &str, tok: &tokenize::Tokenized) -> Vec<u8> {
        let doc = features::Doc::new(text, tok, &self.lexicon);
        let mut labels = vec![tagger::O; tok.tokens.len()];
        let mut scratch = tagger::Scratch::for_tokens(tok.tokens.len());
        let mut keys = features::Features::default();
        self.tagger.sum_word_groups(doc.word_keys(), &mut scratch);
        for (s, range) in tok.sentences.iter().enumerate() {
            doc.sentence_tagging(s, &mut keys);
            if let Some(out) = labels.get_mut(range.clone()) {
                self.tagger
                    .first_pass(&keys, range.start, out, &mut scratch);
            }
        }
        if self.tagger.passes() < 2 {
            return labels;
        }
        let first = labels.clone();
        let Some(counts) = doc.prior_counts(&first) else {
            return labels;
        };
        for (s, range) in tok.sentences.iter().enumerate() {
            doc.sentence_prior(s, &first, &counts, &mut keys);
            if let Some(out) = labels.get_mut(range.clone()) {
                self.tagger
                    .second_pass(&keys, range.start, out, &mut scratch);
            }
        }
        labels
    }

    /// Tags one text: entity spans `(byte start, byte end, type)`.
    pub fn tag(&self, text: &str) -> Vec<(usize, usize, EntityType)> {
        let (tok, spans) = self.tag_tokens(text);
        spans
            .into_iter()
            .filter_map(|(a, b, kind)| {
                let start = tok.tokens.get(a)?.start;
                let end = tok.tokens.get(b.checked_sub(1)?)?.end;
                Some((start, end, kind))
            })
            .collect()
    }
}

/// The entity type of a `B-` label.
fn type_of(label: u8) -> EntityType {
    match tagger::class_of(label) {
        0 => EntityType::Per,
        1 => EntityType::Org,
        2 => EntityType::Loc,
        _ => EntityType::Misc,
    }
}

/// Per field: its tokens and tagged spans (token ranges), field-relative.
type FieldTags = (tokenize::Tokenized, Vec<(usize, usize, EntityType)>);

/// Tags headline, captions and body as one document (so document-level evidence, such as
/// how a word in an all-caps headline is written in the body, is shared), then splits the
/// tokens and spans back into fields with field-relative offsets.
fn tag_jointly(texts: &[(Option<Field>, Option<usize>, &str)], model: &Model) -> Vec<FieldTags> {
    let mut combined = String::new();
    let mut bases = Vec::with_capacity(texts.len());
    for &(_, _, t) in texts {
        if !combined.is_empty() {
            combined.push_str("\n\n");
        }
        bases.push(combined.len());
        combined.push_str(t);
    }
    let (tok, spans) = model.tag_tokens(&combined);
    let mut out = Vec::with_capacity(texts.len());
    for (&base, &(_, _, t)) in bases.iter().zip(texts) {
        let first = tok.tokens.partition_point(|x| x.start < base);
        let end = tok.tokens.partition_point(|x| x.start < base + t.len());
        let tokens = tok
            .tokens
            .get(first..end)
            .unwrap_or(&[])
            .iter()
            .map(|x| tokenize::Token {
                start: x.start - base,
                end: x.end.min(base + t.len()) - base,
            });
        // Sentences and spans are in token order: each field's share is found by binary
        // search, not by a pass over the story's per field (a story with 20,000 captions
        // made that quadratic).
        let sentences = tok.sentences[sentences_overlapping(&tok.sentences, first, end)]
            .iter()
            .filter(|s| s.start < end && s.end > first)
            .map(|s| s.start.max(first) - first..s.end.min(end) - first);
        let span_lo = spans.partition_point(|&(a, _, _)| a < first);
        let span_hi = spans.partition_point(|&(a, _, _)| a < end);
        let field_spans = spans[span_lo..span_hi.max(span_lo)]
            .iter()
            .filter(|&&(a, _, _)| a >= first && a < end)
            .map(|&(a, b, k)| (a - first, b.min(end) - first, k));
        out.push((
            tokenize::Tokenized {
                tokens: tokens.collect(),
                sentences: sentences.collect(),
            },
            field_spans.collect(),
        ));
    }
    out
}

/// The range of `sentences` (in order, not overlapping) that overlap tokens `first..end`.
fn sentences_overlapping(
    sentences: &[std::ops::Range<usize>],
    first: usize,
    end: usize,
) -> std::ops::Range<usize> {
    let lo = sentences.partition_point(|s| s.end <= first);
    let hi = sentences.partition_point(|s| s.start < end);
    lo..hi.max(lo)
}

/// One sense per story: a capitalised single word the tagger left untagged becomes a
/// mention when the same word is tagged elsewhere in the story as a one-word name or as a
/// person's surname (`KERRY` in a headline when the body has `John Kerry`).
fn propagate_names(texts: &[(Option<Field>, Option<usize>, &str)], tagged: &mut [FieldTags]) {
    let mut names: rustc_hash::FxHashMap<String, EntityType> = rustc_hash::FxHashMap::default();
    for (&(_, _, text), (tok, spans)) in texts.iter().zip(tagged.iter()) {
        for &(a, b, kind) in spans {
            let last = b.saturating_sub(1);
            if b == a + 1 || kind == EntityType::Per {
                if let Some(t) = tok.tokens.get(last) {
                    let w = t.text(text);
                    if w.chars().count() > 2 {
                        names.entry(w.to_lowercase()).or_insert(kind);
                    }
                }
            }
        }
    }
    if names.is_empty() {
        return;
    }
    for (&(_, _, text), (tok, spans)) in texts.iter().zip(tagged.iter_mut()) {
        let mut covered = vec![false; tok.tokens.len()];
        for &(a, b, _) in spans.iter() {
            for c in covered.iter_mut().take(b).skip(a) {
                *c = true;
            }
        }
        let mut added = Vec::new();
        for (i, t) in tok.tokens.iter().enumerate() {
            let w = t.text(text);
            if covered[i] || !w.chars().next().is_some_and(char::is_uppercase) {
                continue;
            }
            if let Some(&kind) = names.get(&w.to_lowercase()) {
                added.push((i, i + 1, kind));
            }
        }
        if !added.is_empty() {
            spans.extend(added);
            spans.sort_unstable_by_key(|s| s.0);
        }
    }
}

/// Finds the story's entities and links quote speakers to them.
pub fn extract(story: &Story, quotes: &mut [Quote], model: &Model) -> Vec<Entity> {
    let mut texts: Vec<(Option<Field>, Option<usize>, &str)> = Vec::new();
    if let Some(h) = story.headline.as_deref() {
        texts.push((Some(Field::Headline), None, h));
    }
    for (i, m) in story.media.iter().enumerate() {
        if let Some(c) = m.caption.as_deref() {
            texts.push((Some(Field::Caption), Some(i), c));
        }
    }
    texts.push((None, None, &story.body));
    let mut tagged = tag_jointly(&texts, model);
    propagate_names(&texts, &mut tagged);
    let mut found = Vec::new();
    for (&(field, media_index, _), (tok, spans)) in texts.iter().zip(&tagged) {
        for &(a, b, kind) in spans {
            let (Some(first), Some(last)) = (
                tok.tokens.get(a),
                b.checked_sub(1).and_then(|l| tok.tokens.get(l)),
            ) else {
                continue;
            };
            found.push(cluster::Found {
                field,
                media_index,
                start: first.start,
                end: last.end,
                first_token: a,
                end_token: b,
                kind,
            });
        }
    }
    let fields: Vec<cluster::FieldTokens<'_>> = texts
        .iter()
        .zip(&tagged)
        .map(
            |(&(field, media_index, text), (tok, _))| cluster::FieldTokens {
                field,
                media_index,
                text,
                tok,
            },
        )
        .collect();
    found.extend(credits::structured_mentions(story, model.lexicon.gazetteer));
    let entities = cluster::cluster(story, &found, &fields, model.lexicon.gazetteer);
    cluster::link_speakers(&entities, quotes);
    entities
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::record::{Format, Mention, QuoteKind};
    use crate::enrich::test_support::seed_story;

    #[test]
    fn title_case_headline_keys_are_made_only_for_a_model_with_weights_for_them() {
        assert!(!Model::embedded().lexicon.title_heads);
        let model_with = |key: u64| {
            let trans = [[0.0; tagger::LABELS]; tagger::LABELS + 1];
            let row = [1.0; tagger::LABELS];
            let checksum = embedded_lexicon().checksum();
            let pass = tagger::Weights::quantise("t", checksum, vec![key], &row, trans);
            Model::load(&tagger::passes_to_bytes(&[pass])).expect("a valid model")
        };
        let title_key = features::all_title_head_keys()
            .nth(5)
            .expect("title-case keys exist");
        assert!(model_with(title_key).lexicon.title_heads);
        assert!(!model_with(title_key ^ 1).lexicon.title_heads);
    }

    fn entity<'a>(entities: &'a [Entity], name: &str) -> &'a Entity {
        entities
            .iter()
            .find(|e| e.name == name)
            .unwrap_or_else(|| panic!("no entity named {name}: {:#?}", names(entities)))
    }

    fn names(entities: &[Entity]) -> Vec<(String, EntityType, Vec<String>)> {
        entities
            .iter()
            .map(|e| {
                (
                    e.name.clone(),
                    e.kind,
                    e.mentions.iter().map(|m| m.text.clone()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn seed_must_entities_are_found_typed_and_clustered() {
        let story = seed_story();
        let entities = extract(&story, &mut [], &Model::embedded());
        let must: &[(&str, EntityType, &[&str])] = &[
            ("John Kerry", EntityType::Per, &["Kerry"]),
            (
                "Sergey Lavrov",
                EntityType::Per,
                &["Sergei Lavrov", "Lavrov"],
            ),
            ("Mark Toner", EntityType::Per, &["Toner"]),
            ("Barack Obama", EntityType::Per, &["Obama"]),
            ("Bashar al-Assad", EntityType::Per, &["Assad"]),
            ("Ahmed Abul-Gheit", EntityType::Per, &["Abul-Gheit"]),
            ("Bahram Qasemi", EntityType::Per, &[]),
            ("State Department", EntityType::Org, &[]),
            ("Arab League", EntityType::Org, &[]),
            ("Islamic State", EntityType::Org, &[]),
            ("Press TV", EntityType::Org, &[]),
            ("Syria", EntityType::Loc, &[]),
            ("Russia", EntityType::Loc, &[]),
            ("United States", EntityType::Loc, &["US"]),
            ("Geneva", EntityType::Loc, &[]),
            ("Hangzhou", EntityType::Loc, &[]),
            ("China", EntityType::Loc, &[]),
            ("Aleppo", EntityType::Loc, &[]),
            ("Europe", EntityType::Loc, &[]),
            ("Iran", EntityType::Loc, &[]),
        ];
        let mut failures = Vec::new();
        for &(name, kind, aliases) in must {
            let Some(e) = entities.iter().find(|e| e.name == name) else {
                failures.push(format!("missing {name}"));
                continue;
            };
            if e.kind != kind {
                failures.push(format!("{name}: {:?} not {kind:?}", e.kind));
            }
            for a in aliases {
                if !e.mentions.iter().any(|m| m.text == *a) {
                    failures.push(format!("{name}: alias {a} not in the entry"));
                }
            }
        }
        for bad in [
            "Latest News",
            "Home",
            "The",
            "Meanwhile",
            "Reportedly",
            "Speaking",
            "Those",
        ] {
            if entities
                .iter()
                .any(|e| e.mentions.iter().any(|m| m.text == bad))
            {
                failures.push(format!("must_not {bad} tagged"));
            }
        }
        let must_not: Vec<&String> = failures
            .iter()
            .filter(|f| f.starts_with("must_not"))
            .collect();
        assert!(must_not.is_empty(), "{must_not:#?}");
        // The current model types `Arab League` as MISC (one miss out of 20 must items,
        // reported in the README); any further miss is a regression.
        assert!(
            failures.len() <= 1,
            "{failures:#?}\n{:#?}",
            names(&entities)
        );
    }

    #[test]
    fn seed_titles_and_salience() {
        let story = seed_story();
        let entities = extract(&story, &mut [], &Model::embedded());
        let kerry = entity(&entities, "John Kerry");
        assert!(
            kerry.titles.iter().any(|t| t == "US Secretary of State"),
            "{:?}",
            kerry.titles
        );
        let toner = entity(&entities, "Mark Toner");
        assert!(
            toner
                .titles
                .iter()
                .any(|t| t == "State Department spokesman"),
            "{:?}",
            toner.titles
        );
        let lavrov = entity(&entities, "Sergey Lavrov");
        assert_eq!(lavrov.titles, ["Russian Foreign Minister"]);
        let obama = entity(&entities, "Barack Obama");
        assert!(
            obama.titles.iter().any(|t| t == "US President"),
            "{:?}",
            obama.titles
        );
        assert!(entities.iter().all(|e| (0.0..=1.0).contains(&e.salience)));
        assert!(kerry.salience > entity(&entities, "Geneva").salience);
        for e in &entities {
            for m in &e.mentions {
                let text = story.field_text(m.field, m.media_index).unwrap_or("");
                assert_eq!(text.get(m.start..m.end), Some(m.text.as_str()));
            }
        }
    }

    #[test]
    fn seed_speakers_are_linked_to_entities() {
        let story = seed_story();
        let at = story.body.find("Toner said").unwrap_or(0);
        let mut quotes = vec![
            Quote {
                text: "We're not there yet,".to_owned(),
                start: 1,
                end: 21,
                kind: QuoteKind::Direct,
                speaker: Some("Toner".to_owned()),
                speaker_mention: Some(Mention {
                    start: at,
                    end: at + 5,
                    text: "Toner".to_owned(),
                    field: None,
                    media_index: None,
                }),
                speaker_entity: None,
                cue: Some("said".to_owned()),
                field: None,
            },
            Quote {
                text: "must go".to_owned(),
                start: 0,
                end: 1,
                kind: QuoteKind::Partial,
                speaker: Some("Obama".to_owned()),
                speaker_mention: None,
                speaker_entity: None,
                cue: None,
                field: None,
            },
        ];
        let entities = extract(&story, &mut quotes, &Model::embedded());
        assert_eq!(quotes[0].speaker.as_deref(), Some("Mark Toner"));
        assert_eq!(
            quotes[0].speaker_entity.as_deref(),
            Some(entity(&entities, "Mark Toner").id.as_str())
        );
        assert_eq!(quotes[1].speaker.as_deref(), Some("Barack Obama"));
    }

    #[test]
    fn all_caps_headline_mentions_join_body_entities() {
        let mut story = Story::from_paragraphs(
            Format::Text,
            &[
                "US Secretary of State John Kerry met Russian Foreign Minister Sergei Lavrov \
               in Geneva on Friday. Kerry said the talks would go on.",
            ],
        );
        story.headline = Some("KERRY MEETS LAVROV IN GENEVA".to_owned());
        let entities = extract(&story, &mut [], &Model::embedded());
        // Headline mentions join the body's entities (the tagger sees the whole story).
        let lavrov = entity(&entities, "Sergei Lavrov");
        assert!(
            lavrov
                .mentions
                .iter()
                .any(|m| m.field == Some(Field::Headline) && m.text == "LAVROV"),
            "{:#?}",
            names(&entities)
        );
        assert_eq!(lavrov.kind, EntityType::Per);
        // The tagger leaves a headline-initial `KERRY` untagged (CoNLL headlines start with
        // a topic word); the story's own `John Kerry` brings it in.
        let kerry = entity(&entities, "John Kerry");
        assert!(kerry
            .mentions
            .iter()
            .any(|m| m.field == Some(Field::Headline) && m.text == "KERRY"));
        let geneva = entity(&entities, "Geneva");
        assert!(geneva
            .mentions
            .iter()
            .any(|m| m.field == Some(Field::Headline)));
    }

    #[test]
    fn embedded_model_loads_and_rejects_garbage() {
        let m = Model::embedded();
        assert!(m.features() > 1000, "embedded model is empty");
        assert!(Model::load(b"not a model").is_err());
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::enrich::record::{Format, Media};
    use proptest::prelude::*;

    /// Text mixing news-like words, punctuation, quotes, dashes, newlines and any Unicode.
    fn texty() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("John".to_owned()),
            Just("Kerry".to_owned()),
            Just("U.S.".to_owned()),
            Just("'s".to_owned()),
            Just("’s".to_owned()),
            Just("al-Assad".to_owned()),
            Just("\"".to_owned()),
            Just("“".to_owned()),
            Just("—".to_owned()),
            Just("--".to_owned()),
            Just("...".to_owned()),
            Just(".".to_owned()),
            Just(",".to_owned()),
            Just("\n".to_owned()),
            Just("\n\n".to_owned()),
            Just(" ".to_owned()),
            Just("GENEVA".to_owned()),
            "[a-zA-Z]{1,8}",
            "\\PC{1,6}",
            any::<String>(),
        ];
        prop::collection::vec(piece, 0..60).prop_map(|v| v.join(" "))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        #[test]
        fn tokens_are_ordered_exact_and_cover_sentences(text in texty()) {
            let t = tokenize::tokenize(&text);
            let mut last_end = 0;
            for tok in &t.tokens {
                prop_assert!(tok.start >= last_end && tok.start < tok.end && tok.end <= text.len());
                prop_assert!(text.is_char_boundary(tok.start) && text.is_char_boundary(tok.end));
                prop_assert!(!tok.text(&text).chars().any(char::is_whitespace));
                last_end = tok.end;
            }
            let mut next = 0;
            for s in &t.sentences {
                prop_assert_eq!(s.start, next);
                prop_assert!(s.end > s.start);
                next = s.end;
            }
            prop_assert_eq!(next, t.tokens.len());
        }

        #[test]
        fn extract_never_panics_and_mentions_point_into_their_field(
            body in texty(),
            headline in texty(),
            caption in texty(),
        ) {
            let mut story = Story::new(Format::Text);
            story.body = body;
            story.headline = Some(headline);
            story.media.push(Media { caption: Some(caption), credit: None });
            let entities = extract(&story, &mut [], &Model::embedded());
            for (n, e) in entities.iter().enumerate() {
                prop_assert_eq!(&e.id, &format!("e{}", n + 1));
                prop_assert!((0.0..=1.0).contains(&e.salience));
                prop_assert!(!e.mentions.is_empty());
                for m in &e.mentions {
                    let field = story.field_text(m.field, m.media_index).unwrap_or("");
                    prop_assert_eq!(field.get(m.start..m.end), Some(m.text.as_str()));
                }
            }
        }
    }

    /// Work grows linearly: 16 times the text takes far less than 16 squared times as long.
    #[test]
    fn time_is_linear_in_input_length() {
        let paragraph = "US Secretary of State John Kerry met Russian Foreign Minister Sergei \
                         Lavrov in Geneva, the State Department said. \"We're not there yet,\" \
                         spokesman Mark Toner said. Kerry, Lavrov and Toner left for Moscow.\n\n";
        let model = Model::embedded();
        let time = |n: usize| {
            let mut story = Story::new(Format::Text);
            story.body = paragraph.repeat(n);
            let started = std::time::Instant::now();
            let entities = extract(&story, &mut [], &model);
            assert!(!entities.is_empty());
            started.elapsed().as_secs_f64()
        };
        let small = (0..3).map(|_| time(20)).fold(f64::INFINITY, f64::min);
        let large = (0..3).map(|_| time(320)).fold(f64::INFINITY, f64::min);
        assert!(
            large < small * 64.0,
            "20 paragraphs {small:.4}s, 320 paragraphs {large:.4}s"
        );
    }

    /// Pathological one-chunk inputs stay linear too.
    #[test]
    fn degenerate_inputs_are_handled() {
        let model = Model::embedded();
        for text in [
            "'".repeat(20_000),
            ".".repeat(20_000),
            "a-".repeat(10_000),
            "A. ".repeat(5_000),
            "é".repeat(10_000),
        ] {
            let started = std::time::Instant::now();
            let mut story = Story::new(Format::Text);
            story.body = text;
            let _ = extract(&story, &mut [], &model);
            assert!(started.elapsed().as_secs_f64() < 5.0);
        }
    }
}
