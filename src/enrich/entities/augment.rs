//! Training-data augmentation: title-case headlines.
//!
//! CoNLL-2003 headlines are written in capitals (`SOCCER - JAPAN GET LUCKY WIN`). Much other
//! news writes them in Title Case (`Thailand: Red Shirts Back in the Streets`), and a model
//! that never saw one takes its capitalised common words for names. [`title_case_headline`]
//! rewrites the all-caps headline (first line) of a drawn share of the training documents
//! the way a title-case headline is written: a word the document writes with a capital
//! mid-sentence elsewhere keeps that spelling (`Japan`, `EU`), short function words after the
//! first word are lower case (`in`, `the`), and every other word is capitalised (`Lucky`).
//! The gold labels stay as they are.
//!
//! Must not: move a byte (only ASCII letters change case, so the gold spans stay valid), or
//! draw from randomness that is not given.

use rustc_hash::FxHashMap;

use super::features::is_caps_line;
use super::hash;
use super::learn::Doc;
use super::tokenize::{tokenize, Tokenized};

/// Words a title-case headline leaves in lower case after its first word: articles,
/// coordinating conjunctions and short prepositions.
const SMALL_WORDS: &[&str] = &[
    "a", "an", "the", "and", "but", "or", "nor", "for", "of", "in", "on", "at", "to", "by", "as",
    "from", "with", "into", "onto", "per", "via", "vs", "v",
];

/// A copy of `doc` whose first line, when it is in capitals and the document is drawn
/// (`pct` percent of documents, by `seed` and the document's `index`), is rewritten in
/// title case. Other documents are returned unchanged.
pub(crate) fn title_case_headline(doc: &Doc, pct: u32, seed: u64, index: usize) -> Doc {
    let mut out = doc.clone();
    if !drawn(pct, seed, index) {
        return out;
    }
    let tok = tokenize(&doc.text);
    let Some(head) = tok.sentences.first().cloned() else {
        return out;
    };
    let Some(head_tokens) = tok.tokens.get(head) else {
        return out;
    };
    if !is_caps_line(head_tokens.iter().map(|t| t.text(&doc.text))) {
        return out;
    }
    let forms = cased_forms(&doc.text, &tok);
    for (j, t) in head_tokens.iter().enumerate() {
        if let Some(new) = recase(t.text(&doc.text), j == 0, &forms) {
            if new.len() == t.end - t.start {
                out.text.replace_range(t.start..t.end, &new);
            }
        }
    }
    out
}

/// Whether document `index` is among the `pct` percent drawn by `seed`.
fn drawn(pct: u32, seed: u64, index: usize) -> bool {
    let h = hash::finish(hash::mix(hash::mix(0x7469_746c, seed), index as u64));
    h % 100 < u64::from(pct.min(100))
}

/// Per lower-cased word: how the document writes it with a capital after the first word of
/// a sentence that is not in capitals (`Japan`, `EU`); the first such spelling wins.
fn cased_forms(text: &str, tok: &Tokenized) -> FxHashMap<String, String> {
    let mut forms = FxHashMap::default();
    for s in &tok.sentences {
        let Some(tokens) = tok.tokens.get(s.clone()) else {
            continue;
        };
        if is_caps_line(tokens.iter().map(|t| t.text(text))) {
            continue;
        }
        for t in tokens.iter().skip(1) {
            let word = t.text(text);
            if word.is_ascii() && word.bytes().any(|b| b.is_ascii_uppercase()) {
                forms
                    .entry(word.to_ascii_lowercase())
                    .or_insert_with(|| word.to_owned());
            }
        }
    }
    forms
}

/// The title-case spelling of an all-caps word (`None`: leave it as it is, such as a
/// number, a word with lower-case letters, or one with non-ASCII letters).
fn recase(word: &str, first: bool, forms: &FxHashMap<String, String>) -> Option<String> {
    if !word.is_ascii()
        || !word.bytes().any(|b| b.is_ascii_uppercase())
        || word.bytes().any(|b| b.is_ascii_lowercase())
    {
        return None;
    }
    let lower = word.to_ascii_lowercase();
    if (!first && SMALL_WORDS.contains(&lower.as_str())) || word.starts_with('\'') {
        return Some(lower);
    }
    if let Some(form) = forms.get(&lower) {
        return Some(form.clone());
    }
    // Capitalise every letter that does not follow a letter or digit: `O'Neill`,
    // `Pro-Soccer`, `U.S.`, `3rd`.
    let mut after_alnum = false;
    let title = lower
        .chars()
        .map(|c| {
            let up = !after_alnum && c.is_ascii_alphabetic();
            after_alnum = c.is_ascii_alphanumeric();
            if up {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect();
    Some(title)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::record::EntityType;

    fn doc(text: &str) -> Doc {
        Doc {
            text: text.to_owned(),
            entities: vec![(9, 14, EntityType::Loc)],
        }
    }

    #[test]
    fn a_caps_headline_becomes_title_case_with_the_bodys_spellings() {
        let d = doc("SOCCER - JAPAN GET LUCKY WIN IN THE EU 'S O'NEILL CUP .\n\
             Then Japan and the EU met O'Neill .");
        let out = title_case_headline(&d, 100, 1, 0);
        assert_eq!(
            out.text.lines().next(),
            Some("Soccer - Japan Get Lucky Win in the EU 's O'Neill Cup .")
        );
        assert_eq!(out.text.len(), d.text.len());
        assert_eq!(&out.text[9..14], "Japan");
        assert_eq!(out.entities, d.entities);
    }

    #[test]
    fn other_documents_are_left_alone() {
        let mixed = doc("Japan get lucky win .\nJAPAN GET LUCKY WIN");
        assert_eq!(title_case_headline(&mixed, 100, 1, 0).text, mixed.text);
        let caps = doc("JAPAN GET LUCKY WIN");
        assert_eq!(title_case_headline(&caps, 0, 1, 0).text, caps.text);
        let drawn_share = (0..1000).filter(|&i| drawn(30, 5, i)).count();
        assert!((250..350).contains(&drawn_share), "{drawn_share}");
    }

    #[test]
    fn recasing_keeps_numbers_and_non_ascii() {
        let forms = FxHashMap::default();
        assert_eq!(recase("1996-08-22", false, &forms), None);
        assert_eq!(recase("ZÜRICH", false, &forms), None);
        assert_eq!(recase("3RD", false, &forms).as_deref(), Some("3rd"));
        assert_eq!(recase("U.S.", false, &forms).as_deref(), Some("U.S."));
        assert_eq!(recase("THE", true, &forms).as_deref(), Some("The"));
    }
}
