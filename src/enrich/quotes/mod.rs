//! Quote stage: every quotation in a story, attributed to its speaker.
//!
//! [`marks`] finds the quoted segments, [`tokens`] and [`names`] give a light reading of the
//! text (words, sentences, capitalised names with their titles), and [`attribution`] finds
//! each quote's cue, attributing mention and speaker, resolving short names, pronouns and
//! role nouns through the story. Headline quotes take the speaker of the body quote that
//! repeats them.
//!
//! Must not: panic on any text, or take more than linear time; every span it returns
//! satisfies `body[start..end] == text` (byte offsets here). It does not depend on the
//! entity tagger, which runs after it and links speakers to entities.

mod attribution;
mod cues;
mod marks;
mod names;
mod tokens;

use crate::enrich::record::{Field, Mention, Quote, QuoteKind};
use crate::enrich::story::{ByteSpan, Story};

use attribution::{Attribution, Context};
use marks::Segment;

/// What the quote stage found.
#[derive(Debug, Clone, Default)]
pub struct Extracted {
    /// Quotes in `body` order (headline quotes first).
    pub quotes: Vec<Quote>,
    /// Things noticed, e.g. `unbalanced quotation mark at 1234`.
    pub warnings: Vec<String>,
}

/// Extracts the quotations of a story.
pub fn extract(story: &Story) -> Extracted {
    let mut warnings = Vec::new();
    let body = story.body.as_str();
    let paragraphs = paragraphs_of(story);
    let singles = marks::single_marks_policy(body);
    let segs = marks::segments(body, &paragraphs, singles, &mut warnings);
    let toks = tokens::tokenize(body, &paragraphs, &segs);
    let table = names::NameTable::new(body, &toks);
    let ctx = Context::new(body, &toks, &segs, &table);

    let kinds: Vec<QuoteKind> = segs.iter().map(|s| kind_of(body, s)).collect();
    let mut atts: Vec<Attribution> = Vec::with_capacity(segs.len());
    for (k, kind) in kinds.iter().enumerate() {
        let att = ctx.attribute(k, *kind, &atts);
        atts.push(att);
    }
    for (k, s) in segs.iter().enumerate() {
        if is_title(body, s) {
            atts[k] = Attribution::default();
        }
    }
    share_within_paragraphs(&ctx, &kinds, &mut atts);
    continue_previous_speaker(body, &ctx, &kinds, &mut atts);

    let mut quotes = headline_quotes(story, body, &segs, &atts, &mut warnings);
    quotes.extend(
        segs.iter()
            .zip(kinds)
            .zip(&atts)
            .map(|((s, kind), att)| to_quote(body, s, kind, att)),
    );
    Extracted { quotes, warnings }
}

/// The story's paragraphs cut into lines (a line break inside a paragraph ends a quote
/// just as a paragraph end does), or the body's lines when no paragraphs are given.
fn paragraphs_of(story: &Story) -> Vec<ByteSpan> {
    let body = story.body.as_str();
    let valid = story
        .paragraphs
        .iter()
        .all(|p| p.start <= p.end && body.get(p.start..p.end).is_some());
    let whole = [ByteSpan {
        start: 0,
        end: body.len(),
    }];
    let paras = if !story.paragraphs.is_empty() && valid {
        &story.paragraphs[..]
    } else {
        &whole[..]
    };
    let mut out = Vec::with_capacity(paras.len());
    for p in paras {
        let mut start = p.start;
        for (i, _) in body[p.start..p.end].match_indices('\n') {
            push_trimmed(body, start, p.start + i, &mut out);
            start = p.start + i + 1;
        }
        push_trimmed(body, start, p.end, &mut out);
    }
    out
}

/// Pushes `[start, end)` trimmed of whitespace, when anything is left.
fn push_trimmed(body: &str, start: usize, end: usize, out: &mut Vec<ByteSpan>) {
    let s = &body[start..end];
    let lead = s.len() - s.trim_start().len();
    let inner = s.trim();
    if !inner.is_empty() {
        out.push(ByteSpan {
            start: start + lead,
            end: start + lead + inner.len(),
        });
    }
}

/// Direct (a sentence or more) or partial (a phrase inside reported speech).
fn kind_of(body: &str, s: &Segment) -> QuoteKind {
    let text = &body[s.content.start..s.content.end];
    let starts_upper = text
        .chars()
        .find(|c| c.is_alphanumeric())
        .is_some_and(|c| c.is_uppercase() || c.is_numeric());
    let ends_clause = text.ends_with([',', '.', '?', '!', '…', ';', ':']);
    let before = body[..s.open].trim_end();
    let prev = before.chars().next_back();
    let at_boundary = prev.is_none_or(|c| {
        matches!(
            c,
            '.' | '!' | '?' | ':' | ',' | '—' | '–' | '-' | '\n' | '(' | '”' | '"'
        )
    }) || body[..s.open].ends_with("\n\n");
    let words = text.split_whitespace().count();
    if (starts_upper && (at_boundary || ends_clause) && words >= 3)
        || s.multi_paragraph
        || (starts_upper && ends_clause && words >= 2)
    {
        QuoteKind::Direct
    } else {
        QuoteKind::Partial
    }
}

/// A title in marks (`on ABC's "This Week,"`, the film "The Revenant."): a few title-case
/// words after a word, not a sentence. Titles are nobody's quote.
fn is_title(body: &str, s: &Segment) -> bool {
    let text = body[s.content.start..s.content.end].trim_end_matches([',', '.']);
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() || words.len() > 6 || text.ends_with(['!', '?']) {
        return false;
    }
    let title_case = words
        .iter()
        .filter(|w| w.len() > 3 || words.len() == 1)
        .all(|w| {
            w.chars()
                .next()
                .is_some_and(|c| c.is_uppercase() || c.is_numeric())
        });
    let before = body[..s.open].trim_end();
    let after_word = before
        .chars()
        .next_back()
        .is_some_and(|c| c.is_alphanumeric() || c == '’' || c == '\'');
    title_case && after_word
}

/// Quotes with no attribution of their own take the speaker of the nearest attributed
/// direct quote in the same paragraph (`"…," Ross said. "…"`).
fn share_within_paragraphs(ctx: &Context<'_>, kinds: &[QuoteKind], atts: &mut [Attribution]) {
    let n = atts.len();
    for k in 0..n {
        if atts[k].speaker.is_some() || kinds[k] != QuoteKind::Direct {
            continue;
        }
        let para = para_of_seg(ctx, k);
        let prev = (0..k)
            .rev()
            .take_while(|&j| para_of_seg(ctx, j) == para)
            .find(|&j| atts[j].cue.is_some());
        let next = (k + 1..n)
            .take_while(|&j| para_of_seg(ctx, j) == para)
            .find(|&j| atts[j].cue.is_some());
        if let Some(j) = prev.or(next) {
            atts[k] = Attribution {
                cue: None,
                ..atts[j].clone()
            };
        }
    }
}

/// A paragraph that opens with a quote and attributes it to no one continues the speaker
/// of the quotes just before it.
fn continue_previous_speaker(
    body: &str,
    ctx: &Context<'_>,
    kinds: &[QuoteKind],
    atts: &mut [Attribution],
) {
    for k in 1..atts.len() {
        if atts[k].speaker.is_some() || kinds[k] != QuoteKind::Direct {
            continue;
        }
        let seg = ctx.segs[k];
        let opens_paragraph = body[..seg.open].ends_with('\n') || seg.open == 0;
        if !opens_paragraph {
            continue;
        }
        let para = para_of_seg(ctx, k);
        let prev = (0..k).rev().find(|&j| atts[j].speaker.is_some());
        let prev_para = prev.map(|j| para_of_seg(ctx, j));
        if prev_para != Some(para.saturating_sub(1)) && para > 0 {
            if let Some(att) = ctx.reported_speaker(para - 1, &atts[..k]) {
                atts[k] = att;
                continue;
            }
        }
        if let Some(j) = prev.filter(|&j| para.saturating_sub(para_of_seg(ctx, j)) <= 2) {
            atts[k] = Attribution {
                cue: None,
                ..atts[j].clone()
            };
        }
    }
}

fn para_of_seg(ctx: &Context<'_>, k: usize) -> u32 {
    let (a, _) = ctx.seg_toks[k];
    ctx.toks.get(a).map_or(0, |t| t.para)
}

/// Builds the record quote for segment `s`.
fn to_quote(body: &str, s: &Segment, kind: QuoteKind, att: &Attribution) -> Quote {
    let mention = att.mention.and_then(|(a, b)| {
        body.get(a..b).map(|text| Mention {
            start: a,
            end: b,
            text: text.to_owned(),
            field: None,
            media_index: None,
        })
    });
    Quote {
        text: body[s.content.start..s.content.end].to_owned(),
        start: s.content.start,
        end: s.content.end,
        kind,
        speaker: att.speaker.clone(),
        speaker_mention: mention,
        speaker_entity: None,
        cue: att.cue.and_then(|(a, b)| body.get(a..b)).map(str::to_owned),
        field: None,
    }
}

/// Quotes in the headline; each takes the speaker of a body quote that contains its words.
fn headline_quotes(
    story: &Story,
    body: &str,
    segs: &[Segment],
    atts: &[Attribution],
    warnings: &mut Vec<String>,
) -> Vec<Quote> {
    let Some(headline) = story.headline.as_deref() else {
        return Vec::new();
    };
    let mut hw = Vec::new();
    let singles = if marks::single_marks_policy(headline) == marks::SingleMarks::Quote {
        marks::SingleMarks::Quote
    } else {
        marks::SingleMarks::Ignore
    };
    let found = marks::segments(headline, &[], singles, &mut hw);
    warnings.extend(hw.into_iter().map(|w| format!("headline: {w}")));
    found
        .iter()
        .map(|s| {
            let text = &headline[s.content.start..s.content.end];
            let needle = text.trim_end_matches([',', '.']).to_lowercase();
            let source = segs.iter().zip(atts).find(|(b, a)| {
                a.speaker.is_some()
                    && body[b.content.start..b.content.end]
                        .to_lowercase()
                        .contains(&needle)
            });
            let (speaker, mention) = match source {
                Some((_, a)) => (a.speaker.clone(), a.mention),
                None => (None, None),
            };
            let mention = mention.and_then(|(a, b)| {
                body.get(a..b).map(|t| Mention {
                    start: a,
                    end: b,
                    text: t.to_owned(),
                    field: None,
                    media_index: None,
                })
            });
            Quote {
                text: text.to_owned(),
                start: s.content.start,
                end: s.content.end,
                kind: kind_of(headline, s),
                speaker,
                speaker_mention: mention,
                speaker_entity: None,
                cue: None,
                field: Some(Field::Headline),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::record::Format;

    /// Development aid: prints the quotes of the text in `$QUOTES_DEBUG`.
    #[test]
    #[ignore = "development aid"]
    fn debug_dump() {
        let Some(path) = std::env::var_os("QUOTES_DEBUG") else {
            return;
        };
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let paras: Vec<&str> = text.split("\n\n").collect();
        let story = Story::from_paragraphs(Format::Text, &paras);
        for q in extract(&story).quotes {
            println!(
                "{:?} {:?} <- {:?} [{:?}] cue={:?}",
                q.kind,
                q.text.chars().take(50).collect::<String>(),
                q.speaker,
                q.speaker_mention.map(|m| m.text),
                q.cue
            );
        }
    }
}
