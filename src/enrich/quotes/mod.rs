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
    let mut segs = marks::segments(body, &paragraphs, singles, &mut warnings);
    segs.retain(|s| !is_markup_value(body, s));
    let toks = tokens::tokenize(body, &segs);
    let table = names::NameTable::new(body, &toks);
    let ctx = Context::new(body, &toks, &segs, &table);

    let mut kinds: Vec<QuoteKind> = segs.iter().map(|s| kind_of(body, s)).collect();
    let mut atts: Vec<Attribution> = Vec::with_capacity(segs.len());
    for (k, kind) in kinds.iter_mut().enumerate() {
        let att = without_overlong_speaker(ctx.attribute(k, *kind, &atts));
        if ends_before_its_cue(body, &segs[k], &att) {
            // `… is "groundless," X was quoted as saying`: the quote is the statement.
            *kind = QuoteKind::Direct;
        }
        atts.push(att);
    }
    for (k, s) in segs.iter().enumerate() {
        if is_title(body, s)
            || (kinds[k] == QuoteKind::Partial && is_scare_quote(body, s, &atts[k]))
        {
            atts[k] = Attribution::default();
            kinds[k] = QuoteKind::Partial;
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
        matches!(c, '.' | '!' | '?' | ':' | ',' | '\n' | '(' | '”' | '"') || tokens::is_dash(c)
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

/// A quote closing on a comma, `?` or `!` with its cue after it carries the statement
/// itself, even when it starts inside a sentence.
fn ends_before_its_cue(body: &str, s: &Segment, att: &Attribution) -> bool {
    let text = &body[s.content.start..s.content.end];
    text.ends_with([',', '?', '!']) && att.cue.is_some_and(|(a, _)| a >= s.close_end)
}

/// A word or two in marks inside a sentence, with no cue just before it (`so-called
/// "closed" primaries`, `a "supermax" prison`): a scare quote, not anyone's words. With
/// a cue right before it (`dismissed as "unconstructive"`, `has said "must go"`) it is
/// a partial quote.
fn is_scare_quote(body: &str, s: &Segment, att: &Attribution) -> bool {
    let words = body[s.content.start..s.content.end]
        .split_whitespace()
        .count();
    if words > 2 {
        return false;
    }
    let Some((cue_start, cue_end)) = att.cue else {
        return true;
    };
    if cue_start >= s.close_end {
        // `"Safety," said Grimm` is a statement; `"closed" primaries where …` is not.
        let text = &body[s.content.start..s.content.end];
        return !text.ends_with([',', '?', '!']);
    }
    let between = body.get(cue_end..s.open).unwrap_or("");
    between.split_whitespace().count() > 2
}

/// An attribute value in markup (`datetime="2016-06-29"`), not a quote.
fn is_markup_value(body: &str, s: &Segment) -> bool {
    body[..s.open].ends_with('=')
}

/// A title in marks (`on ABC's "This Week,"`, the film "The Revenant."): a few title-case
/// words after a word, not a sentence. Titles are nobody's quote.
fn is_title(body: &str, s: &Segment) -> bool {
    let text = body[s.content.start..s.content.end].trim_end_matches([',', '.']);
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() || words.len() > 12 || text.ends_with(['!', '?']) {
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
///
/// "Nearest" prefers the closest earlier quote with a cue (as the quotes stand when `k` is
/// reached: a quote that took a shared speaker lost its cue), then the closest later one
/// (as first found, since later quotes are not yet touched). A "paragraph" is the run of
/// consecutive segments with the same `para_of_seg`. Both neighbours are kept as running
/// indices — the earlier one updated as the loop goes, the later one filled in by one
/// backward pass first — so the stage stays linear in the number of quotes.
fn share_within_paragraphs(ctx: &Context<'_>, kinds: &[QuoteKind], atts: &mut [Attribution]) {
    let n = atts.len();
    let paras: Vec<u32> = (0..n).map(|k| para_of_seg(ctx, k)).collect();
    // `next_cued[k]`: the first `j > k` in `k`'s run of same-paragraph segments whose
    // cue is set (cues of later quotes do not change before the loop reaches them).
    let mut next_cued: Vec<Option<usize>> = vec![None; n];
    for k in (0..n.saturating_sub(1)).rev() {
        if paras[k + 1] == paras[k] {
            next_cued[k] = if atts[k + 1].cue.is_some() {
                Some(k + 1)
            } else {
                next_cued[k + 1]
            };
        }
    }
    // The last `j < k` in `k`'s run whose cue is set as the loop left it.
    let mut prev_cued: Option<usize> = None;
    for k in 0..n {
        if k > 0 && paras[k - 1] != paras[k] {
            prev_cued = None;
        }
        if atts[k].speaker.is_none() && kinds[k] == QuoteKind::Direct {
            if let Some(j) = prev_cued.or(next_cued[k]) {
                atts[k] = Attribution {
                    cue: None,
                    ..atts[j].clone()
                };
            } else if let Some(att) = ctx.reported_speaker_before(k, &atts[..k]) {
                atts[k] = without_overlong_speaker(Attribution { cue: None, ..att });
            }
        }
        if atts[k].cue.is_some() {
            prev_cued = Some(k);
        }
    }
}

/// The longest speaker phrase or mention kept, in bytes. The longest of the 1,292 in the
/// corpus's and dev pages' records is 55 (`Hong Kong director of Amnesty International
/// Man-kei Tam`). A longer one is no name (a 100 KB "word" before `said`), and each quote
/// it is shared with would copy it: memory and output in quotes x speaker bytes (a 250 KB
/// story ran out of memory).
const MAX_SPEAKER_BYTES: usize = 160;

/// `att` without its speaker and mention when either is longer than
/// [`MAX_SPEAKER_BYTES`]; the quote is then unattributed (its cue stays).
fn without_overlong_speaker(att: Attribution) -> Attribution {
    let overlong = att
        .speaker
        .as_ref()
        .is_some_and(|s| s.len() > MAX_SPEAKER_BYTES)
        || att
            .mention
            .is_some_and(|(a, b)| b.saturating_sub(a) > MAX_SPEAKER_BYTES);
    if overlong {
        Attribution {
            speaker: None,
            mention: None,
            person: false,
            gender: None,
            ..att
        }
    } else {
        att
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
    let mut last_spoken: Option<usize> = None;
    for k in 0..atts.len() {
        if atts[k].speaker.is_some() {
            last_spoken = Some(k);
            continue;
        }
        if kinds[k] != QuoteKind::Direct {
            continue;
        }
        let seg = ctx.segs[k];
        let opens_paragraph = body[..seg.open].ends_with('\n') || seg.open == 0;
        if !opens_paragraph {
            continue;
        }
        let para = para_of_seg(ctx, k);
        let prev = last_spoken;
        let prev_para = prev.map(|j| para_of_seg(ctx, j));
        if prev_para != Some(para.saturating_sub(1)) && para > 0 {
            if let Some(att) = ctx.reported_speaker(para - 1, &atts[..k]) {
                atts[k] = without_overlong_speaker(att);
                last_spoken = Some(k);
                continue;
            }
        }
        if let Some(j) = prev.filter(|&j| para.saturating_sub(para_of_seg(ctx, j)) <= 2) {
            atts[k] = Attribution {
                cue: None,
                ..atts[j].clone()
            };
            last_spoken = Some(k);
        }
    }
}

#[cfg(test)]
thread_local! {
    /// Calls of [`para_of_seg`] on this thread, for the complexity tests.
    static PARA_LOOKUPS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn para_of_seg(ctx: &Context<'_>, k: usize) -> u32 {
    #[cfg(test)]
    PARA_LOOKUPS.with(|c| c.set(c.get() + 1));
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

/// How many of a headline's quotes look for the body quote that repeats them (real
/// headlines hold one or two quotes).
const MAX_HEADLINE_QUOTES_MATCHED: usize = 8;

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
        .enumerate()
        .map(|(n, s)| {
            let text = &headline[s.content.start..s.content.end];
            let needle = text.trim_end_matches([',', '.']).to_lowercase();
            // Each search reads every attributed body quote, so only the first few
            // headline quotes search (a feed's headline field has no length limit).
            let source = (n < MAX_HEADLINE_QUOTES_MATCHED)
                .then(|| {
                    segs.iter().zip(atts).find(|(b, a)| {
                        a.speaker.is_some()
                            && body[b.content.start..b.content.end]
                                .to_lowercase()
                                .contains(&needle)
                    })
                })
                .flatten();
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
    use crate::enrich::test_support::seed_story;

    fn story(paragraphs: &[&str]) -> Story {
        Story::from_paragraphs(Format::Text, paragraphs)
    }

    /// Extracts `input` (paragraphs split on blank lines) and checks each expected
    /// `(quote text, speaker)` pair, in order, plus the span invariant.
    fn check(input: &str, expected: &[(&str, Option<&str>)]) {
        let paras: Vec<&str> = input.split("\n\n").collect();
        let st = story(&paras);
        let got = extract(&st);
        for q in &got.quotes {
            assert_eq!(&st.body[q.start..q.end], q.text, "span invariant");
            if let Some(m) = &q.speaker_mention {
                assert_eq!(&st.body[m.start..m.end], m.text, "mention invariant");
            }
        }
        let pairs: Vec<(&str, Option<&str>)> = got
            .quotes
            .iter()
            .map(|q| (q.text.as_str(), q.speaker.as_deref()))
            .collect();
        assert_eq!(pairs, expected, "in {input:?}");
    }

    #[test]
    fn quote_then_name_said() {
        check(
            "Mark Toner is a spokesman.\n\n\"We're not there yet,\" Toner said.",
            &[("We're not there yet,", Some("Mark Toner"))],
        );
    }

    #[test]
    fn quote_then_said_name() {
        check(
            "“We will win,” said Senator Jane Doe.",
            &[("We will win,", Some("Jane Doe"))],
        );
    }

    #[test]
    fn name_said_colon_quote() {
        check(
            "Toner said: “We can't agree to that.”",
            &[("We can't agree to that.", Some("Toner"))],
        );
    }

    #[test]
    fn said_owners_role_then_name_is_the_name() {
        // `said his campaign manager X`: the manager speaks, not the owner of `his`.
        check(
            "Bernie Sanders spoke in Ohio on Monday.\n\n“We will keep going,” said his campaign manager Jeff Weaver.",
            &[("We will keep going,", Some("Jeff Weaver"))],
        );
        // `said Smith's … adviser X`: four role words between the owner and the name.
        check(
            "Senator John Smith spoke in Ohio on Monday.\n\n“The plan is dead,” said Smith’s longtime senior legal adviser Mary Jones.",
            &[("The plan is dead,", Some("Mary Jones"))],
        );
    }

    #[test]
    fn pronoun_skips_names_in_a_fronted_adjunct() {
        // `Like Lopez, the senator's former aide, Roffman …`: the subject follows the
        // adjunct and its apposition.
        check(
            "Senator John Smith held a rally on Monday. Maria Lopez, an aide, spoke too.\n\nLike Lopez, the senator's former aide, Roffman doubts the plan.\n\n“It is a bad plan,” he said.",
            &[("It is a bad plan,", Some("Roffman"))],
        );
    }

    #[test]
    fn pronoun_resolves_to_name_in_role_apposition() {
        // `his wife, Jane,`: the name, not the owner of `his`, is the subject.
        check(
            "Hillary Clinton held a rally on Monday.\n\nOn CNN Tuesday, his wife, Jane, praised the plan.\n\n“It is a good plan,” she said.",
            &[("It is a good plan,", Some("Jane"))],
        );
        // `Her father, Brad, 39,`: a one-word name after a role noun names a person.
        check(
            "Gary Johnson held a rally on Monday.\n\nHer father, Brad, 39, doubted the plan.\n\n“It is a bad plan,” he said.",
            &[("It is a bad plan,", Some("Brad"))],
        );
    }

    #[test]
    fn quote_signed_after_a_dash_on_its_line() {
        // `"…" — Name`: em dash or horizontal bar, a name alone or with an affiliation.
        check(
            "Readers sent us their views.\n\n“We will win this fight.” — Maria Lopez\n\n“Nobody listens to us.” ― Peter Roffman, Dayton",
            &[
                ("We will win this fight.", Some("Maria Lopez")),
                ("Nobody listens to us.", Some("Peter Roffman")),
            ],
        );
        // A dash that opens a clause is no signature.
        check(
            "“We will win this fight,” ― and then the crowd cheered.",
            &[("We will win this fight,", None)],
        );
    }

    #[test]
    fn quote_then_name_told_a_briefing() {
        check(
            "“We're not there yet,” State Department spokesman Mark Toner told a briefing.",
            &[("We're not there yet,", Some("Mark Toner"))],
        );
    }

    #[test]
    fn pronoun_added_resolves_to_last_speaker() {
        check(
            "Mark Toner spoke in Washington.\n\n“It is hard,” he added.",
            &[("It is hard,", Some("Mark Toner"))],
        );
    }

    #[test]
    fn role_noun_resolves_to_titled_name() {
        check(
            "Foreign Ministry spokesman Bahram Qasemi spoke on Monday.\n\n“It is groundless,” the spokesman said.",
            &[("It is groundless,", Some("Bahram Qasemi"))],
        );
    }

    #[test]
    fn unresolved_role_noun_keeps_the_phrase() {
        check(
            "“It is groundless,” a spokesman said.",
            &[("It is groundless,", Some("a spokesman"))],
        );
    }

    #[test]
    fn according_to_an_organisation() {
        check(
            "“The talks failed” — according to the State Department.",
            &[("The talks failed", Some("State Department"))],
        );
    }

    #[test]
    fn organisation_said() {
        check(
            "“We will not comment,” the State Department said on Wednesday.",
            &[("We will not comment,", Some("State Department"))],
        );
    }

    #[test]
    fn split_quote_shares_speaker() {
        check(
            "“We tried,” Toner said, “but we failed.”",
            &[
                ("We tried,", Some("Toner")),
                ("but we failed.", Some("Toner")),
            ],
        );
    }

    #[test]
    fn speaker_in_next_sentence_of_paragraph() {
        check(
            "“We tried hard and failed.” Toner said so on Friday. “We will try again.”",
            &[
                ("We tried hard and failed.", Some("Toner")),
                ("We will try again.", Some("Toner")),
            ],
        );
    }

    #[test]
    fn a_cue_opening_its_own_clause_after_a_closed_quote_is_not_its_attribution() {
        // `"…." Kasich said he …` reports Kasich's own words: the quote stays Cruz's.
        check(
            "“It is a sad development,” Cruz told reporters. “This is the consequence of the culture.” Ohio Gov. John Kasich said he would have fired him.",
            &[
                ("It is a sad development,", Some("Cruz")),
                ("This is the consequence of the culture.", Some("Cruz")),
            ],
        );
        // `…, saying, "…." He also said Trump's …`: the participle's subject speaks.
        check(
            "Donald Trump spoke on Monday.\n\nChris Christie bristled at the suggestion, saying, “The advice I give is mine.” He also said Trump's shift would not hurt.",
            &[("The advice I give is mine.", Some("Chris Christie"))],
        );
    }

    #[test]
    fn continuation_paragraph_keeps_previous_speaker() {
        check(
            "“We tried,” said Mark Toner.\n\n“And we will try again next week.”",
            &[
                ("We tried,", Some("Mark Toner")),
                ("And we will try again next week.", Some("Mark Toner")),
            ],
        );
    }

    #[test]
    fn multi_paragraph_quote_is_one_quote() {
        let paras = [
            "Mark Toner said: “We tried for months.",
            "“And we will try again,” he said.",
        ];
        let st = story(&paras);
        let got = extract(&st);
        assert_eq!(got.quotes.len(), 1, "{:?}", got.quotes);
        assert!(got.quotes[0].text.starts_with("We tried for months."));
        assert!(got.quotes[0].text.ends_with("try again,"));
        assert_eq!(got.quotes[0].speaker.as_deref(), Some("Mark Toner"));
    }

    #[test]
    fn passive_quoted_as_saying() {
        check(
            "The remarks are “groundless and unfounded allegations,” Foreign Ministry spokesman Bahram Qasemi was quoted as saying.",
            &[("groundless and unfounded allegations,", Some("Bahram Qasemi"))],
        );
    }

    #[test]
    fn partial_quote_in_reported_speech() {
        let st = story(&["Assad, whom US President Barack Obama has said “must go”, stayed."]);
        let q = &extract(&st).quotes[0];
        assert_eq!(q.text, "must go");
        assert_eq!(q.kind, QuoteKind::Partial);
        assert_eq!(q.speaker.as_deref(), Some("Barack Obama"));
        assert_eq!(q.cue.as_deref(), Some("said"));
    }

    #[test]
    fn scare_quote_has_no_speaker() {
        check(
            "The so-called “peace dividend” never came.",
            &[("peace dividend", None)],
        );
    }

    #[test]
    fn title_in_marks_has_no_speaker() {
        check(
            "Speaking on ABC's “This Week,” Carson admitted the error.",
            &[("This Week,", None)],
        );
    }

    #[test]
    fn she_skips_a_male_antecedent() {
        check(
            "Hillary Clinton met Donald Trump on Monday.\n\n“It went well,” she said.",
            &[("It went well,", Some("Hillary Clinton"))],
        );
    }

    #[test]
    fn colon_quote_takes_the_sentence_subject() {
        check(
            "Hillary Clinton spoke in Iowa.\n\nShe then addressed the supporters again: “Here is what I regret.”",
            &[("Here is what I regret.", Some("Hillary Clinton"))],
        );
    }

    #[test]
    fn participle_after_comma_takes_the_sentence_subject() {
        check(
            "On Thursday, Senator Elizabeth Warren appeared on television and endorsed Clinton, saying, “She is a fighter.”",
            &[("She is a fighter.", Some("Elizabeth Warren"))],
        );
    }

    #[test]
    fn relative_clause_between_subject_and_cue() {
        check(
            "“We will see,” a White House official who spoke anonymously said.",
            &[("We will see,", Some("a White House official"))],
        );
    }

    #[test]
    fn reported_speech_before_a_quote_in_the_paragraph() {
        check(
            "Pollster Dianne Bystrom agreed. “Mainstream Republicans are running out of time.”",
            &[(
                "Mainstream Republicans are running out of time.",
                Some("Dianne Bystrom"),
            )],
        );
    }

    #[test]
    fn pronoun_takes_the_previous_sentence_subject_over_an_earlier_speaker() {
        check(
            "Ted Cruz spoke after Donald Trump said he would win.\n\nCruz admitted his pick was political. “With an eye to the primary,” he said.",
            &[("With an eye to the primary,", Some("Ted Cruz"))],
        );
    }

    #[test]
    fn pronoun_takes_the_speaker_of_a_parenthetical_cue() {
        check(
            "Ed Sexton spoke on Monday.\n\nTrump, Sexton said, has created a strange zone. “His supporters feel justified,” he said.",
            &[("His supporters feel justified,", Some("Ed Sexton"))],
        );
    }

    #[test]
    fn quote_signed_by_a_dash_line_below() {
        check(
            "“He can have briefings,” Reid said.\n\n“The whole idea of it needs to stop.”\n\n-Michelle Marks, Philadelphia.",
            &[
                ("He can have briefings,", Some("Reid")),
                ("The whole idea of it needs to stop.", Some("Michelle Marks")),
            ],
        );
    }

    #[test]
    fn a_sentence_opening_word_is_no_name() {
        check(
            "Hours later, Trump returned the compliment, telling Reuters, “We have been friends for a long time.”",
            &[("We have been friends for a long time.", Some("Trump"))],
        );
    }

    #[test]
    fn closed_quote_then_subject_with_apposition_and_cue() {
        check(
            "“How are you today?” Miller, a retired worker, said pleasantly. “We are talking with supporters.”",
            &[
                ("How are you today?", Some("Miller")),
                ("We are talking with supporters.", Some("Miller")),
            ],
        );
    }

    #[test]
    fn as_x_put_it() {
        check(
            "As Vulture put it, “Hello, it’s the Biebs.”",
            &[("Hello, it’s the Biebs.", Some("Vulture"))],
        );
    }

    #[test]
    fn name_between_commas_after_a_role_phrase() {
        check(
            "“That is inevitable,” California Rep. Duncan Hunter’s chief of staff, Joe Kasper, told POLITICO.",
            &[("That is inevitable,", Some("Joe Kasper"))],
        );
    }

    #[test]
    fn owner_of_a_statement_noun_speaks() {
        check(
            "From Bush's Facebook post: “For the sake of our party, we must move on.”",
            &[("For the sake of our party, we must move on.", Some("Bush"))],
        );
        check(
            "It was held there because, in Forbes’ words, “they are the most entrepreneurial places on the planet.”",
            &[(
                "they are the most entrepreneurial places on the planet.",
                Some("Forbes"),
            )],
        );
    }

    #[test]
    fn a_speech_verb_before_the_owner_keeps_its_speaker() {
        check(
            "Trump said Clinton's remarks were “totally outrageous and wrong.”",
            &[("totally outrageous and wrong.", Some("Trump"))],
        );
    }

    #[test]
    fn issued_a_statement_quote() {
        check(
            "After the attacks, Trump issued a statement, “Last night, our nation was attacked.”",
            &[("Last night, our nation was attacked.", Some("Trump"))],
        );
        check(
            "Ivanka Trump sold the brand.\n\nAt the time, she released a statement saying, “We share their vision for the brand.”",
            &[("We share their vision for the brand.", Some("Ivanka Trump"))],
        );
    }

    #[test]
    fn pull_quote_signed_on_the_next_line() {
        check(
            "Voices proved decisive.\n\n\"We are going to enter the next recession without that consensus.\nJosh Bivens, Economic Policy Institute.\"",
            &[(
                "We are going to enter the next recession without that consensus.",
                Some("Josh Bivens"),
            )],
        );
    }

    #[test]
    fn a_sentence_after_a_pull_quote_is_no_signature() {
        check(
            "Intro.\n\n“We will win this race.”\n\nThe crowd cheered loudly.",
            &[("We will win this race.", None)],
        );
    }

    #[test]
    fn a_pronoun_subject_carries_the_referent_a_paragraph_further_back() {
        // `He nodded … behind Ted Cruz.`: `He` continues Trump, two paragraphs up.
        check(
            "Donald Trump never mentioned Hillary Clinton in his speech.\n\nHe nodded only obliquely to his finish in Iowa behind Ted Cruz.\n\n“We learned a lot about ground games,” he said.",
            &[("We learned a lot about ground games,", Some("Donald Trump"))],
        );
    }

    #[test]
    fn a_surname_before_a_colon_speaks() {
        check(
            "Jeb Bush and Hillary Clinton reject the term.\n\nClinton: “Our goal is to defeat ISIS.” Bush: “The mission is to destroy ISIS.”",
            &[
                ("Our goal is to defeat ISIS.", Some("Hillary Clinton")),
                ("The mission is to destroy ISIS.", Some("Jeb Bush")),
            ],
        );
        check(
            "Jeb Bush and Hillary Clinton reject the term.\n\nClinton: \"Our goal is to defeat ISIS.\" Bush: \"The mission is to destroy ISIS.\"",
            &[
                ("Our goal is to defeat ISIS.", Some("Hillary Clinton")),
                ("The mission is to destroy ISIS.", Some("Jeb Bush")),
            ],
        );
        // A surname that ends a clause before the colon is its object, not its speaker.
        check(
            "Donald Trump spoke on Monday.\n\nSenate Majority Leader Mitch McConnell delivered a blunt message to Trump: “It is time to quit attacking people.”",
            &[("It is time to quit attacking people.", Some("Mitch McConnell"))],
        );
    }

    #[test]
    fn he_takes_a_one_word_subject_that_speaks() {
        check(
            "Donald Trump went with the odds.\n\nCruz openly admitted that his pick was political. “With an eye to the primary,” he said.",
            &[("With an eye to the primary,", Some("Cruz"))],
        );
    }

    #[test]
    fn he_takes_a_titled_one_word_subject() {
        check(
            "Ted Nordhaus spoke to President Obama.\n\nAnd Obama, for all the progress he made, seems to agree. “We do not yet know what will work,” he said.",
            &[("We do not yet know what will work,", Some("Obama"))],
        );
    }

    #[test]
    fn the_hearer_after_told_is_never_the_speaker() {
        let st = story(&["“That is inevitable,” California Rep. Duncan Hunter’s chief of staff, Joe Kasper, told POLITICO."]);
        let q = &extract(&st).quotes[0];
        assert_ne!(q.speaker.as_deref(), Some("POLITICO"));
    }

    #[test]
    fn mention_and_cue_point_at_the_text() {
        let st = story(&["“We're not there yet,” Toner told reporters."]);
        let q = &extract(&st).quotes[0];
        let m = q.speaker_mention.as_ref().map(|m| m.text.as_str());
        assert_eq!(m, Some("Toner"));
        assert_eq!(q.cue.as_deref(), Some("told"));
        assert_eq!(q.kind, QuoteKind::Direct);
    }

    #[test]
    fn unbalanced_marks_warn_and_recover() {
        let st = story(&["“We tried, Toner said.", "Next paragraph."]);
        let got = extract(&st);
        assert_eq!(got.quotes.len(), 1);
        assert!(got
            .warnings
            .iter()
            .any(|w| w.starts_with("unbalanced quotation mark")));
    }

    fn find<'q>(quotes: &'q [Quote], text: &str) -> &'q Quote {
        let t = text.trim_end_matches([',', '.']);
        quotes
            .iter()
            .find(|q| q.text.trim_end_matches([',', '.']) == t)
            .unwrap_or_else(|| panic!("no quote {text:?} in {quotes:#?}"))
    }

    #[test]
    fn seed_must_items() {
        let got = extract(&seed_story());
        let must = [
            ("We're not there yet,", "Mark Toner"),
            ("The secretary remains committed to continuing efforts to try and resolve the outstanding issues in order to reach an arrangement on Syria ... but we won't agree to an arrangement that does not meet our core objectives,", "Mark Toner"),
            ("We have not been able to reach a clear understanding on a way forward,", "Mark Toner"),
            ("I can't say there is a big hope for success, we're just continuing to work at it.", "Mark Toner"),
            ("groundless and unfounded allegations,", "Bahram Qasemi"),
        ];
        for (text, speaker) in must {
            let q = find(&got.quotes, text);
            assert_eq!(q.speaker.as_deref(), Some(speaker), "{text}");
            assert_eq!(q.kind, QuoteKind::Direct, "{text}");
        }
    }

    #[test]
    fn seed_should_items() {
        let got = extract(&seed_story());
        let q = find(&got.quotes, "must go");
        assert_eq!(
            (q.speaker.as_deref(), q.kind),
            (Some("Barack Obama"), QuoteKind::Partial)
        );
        let q = find(&got.quotes, "gaps of trust");
        assert_eq!(
            (q.speaker.as_deref(), q.kind),
            (Some("Barack Obama"), QuoteKind::Partial)
        );
        let q = find(&got.quotes, "unconstructive");
        assert_eq!(
            (q.speaker.as_deref(), q.kind),
            (Some("Iran's Foreign Ministry"), QuoteKind::Partial)
        );
        let q = find(&got.quotes, "not there yet");
        assert_eq!(q.field, Some(Field::Headline));
        assert_eq!(q.speaker.as_deref(), Some("Mark Toner"));
    }

    /// Text built from the pieces attribution cares about, so that random inputs hit marks,
    /// cues, names and paragraph breaks often.
    fn newsy() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let piece = prop_oneof![
            Just("\"".to_owned()),
            Just("“".to_owned()),
            Just("”".to_owned()),
            Just("‘".to_owned()),
            Just("’".to_owned()),
            Just("'".to_owned()),
            Just("«".to_owned()),
            Just("»".to_owned()),
            Just("„".to_owned()),
            Just("\n\n".to_owned()),
            Just("\n".to_owned()),
            Just(" said ".to_owned()),
            Just(" he ".to_owned()),
            Just(" according to ".to_owned()),
            Just(" Mark Toner ".to_owned()),
            Just(" the spokesman ".to_owned()),
            Just(", ".to_owned()),
            Just(". ".to_owned()),
            Just(": ".to_owned()),
            Just("(".to_owned()),
            Just(")".to_owned()),
            "[a-zA-Zé ]{0,8}",
            any::<String>(),
        ];
        proptest::collection::vec(piece, 0..40).prop_map(|v| v.concat())
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_spans_hold(text in newsy(), headline in newsy()) {
            let paras: Vec<&str> = text.split("\n\n").collect();
            let mut st = story(&paras);
            st.headline = Some(headline);
            for q in extract(&st).quotes {
                let field = match q.field {
                    Some(Field::Headline) => st.headline.as_deref().unwrap_or(""),
                    _ => st.body.as_str(),
                };
                proptest::prop_assert_eq!(field.get(q.start..q.end), Some(q.text.as_str()));
                if let Some(m) = q.speaker_mention {
                    proptest::prop_assert_eq!(st.body.get(m.start..m.end), Some(m.text.as_str()));
                }
            }
        }

        #[test]
        fn raw_body_without_paragraphs_never_panics(text in proptest::prelude::any::<String>()) {
            let mut st = Story::new(Format::Text);
            st.body = text;
            let _ = extract(&st);
        }
    }

    #[test]
    fn uncued_quotes_share_the_nearest_cued_quote_in_their_paragraph() {
        // The nearest earlier cued quote wins over a later one.
        check(
            "“We won,” Ross said. “It was hard.” “We are tired,” said Jane Doe.",
            &[
                ("We won,", Some("Ross")),
                ("It was hard.", Some("Ross")),
                ("We are tired,", Some("Jane Doe")),
            ],
        );
        // With none before, the nearest later one.
        check(
            "“It was hard.” “We won,” Ross said. “We are tired,” said Jane Doe.",
            &[
                ("It was hard.", Some("Ross")),
                ("We won,", Some("Ross")),
                ("We are tired,", Some("Jane Doe")),
            ],
        );
    }

    #[test]
    fn sharing_speakers_in_a_long_paragraph_is_linear() {
        // One paragraph of `n` quotes, none with a cue: each quote used to scan every
        // other quote of its paragraph (n² paragraph lookups).
        let lookups = |n: usize| {
            let body = "“We go home now.” ".repeat(n);
            let st = story(&["Text said.", body.trim_end()]);
            PARA_LOOKUPS.with(|c| c.set(0));
            let got = extract(&st);
            assert_eq!(got.quotes.len(), n);
            PARA_LOOKUPS.with(std::cell::Cell::get)
        };
        let small = lookups(500);
        let large = lookups(2000);
        assert!(
            large <= 4 * 2000,
            "{large} paragraph lookups for 2000 quotes"
        );
        assert!(
            large <= 5 * small.max(500),
            "{small} lookups for 500 quotes, {large} for 2000"
        );
    }

    #[test]
    fn time_grows_linearly() {
        let unit = "“We tried,” said Mark Toner, adding: “but he failed.” The spokesman said so.\n\n\"Open quote without end. ‘x’ Toner's 'nested' text, he said.\n\n";
        let time = |n: usize| {
            let body = unit.repeat(n);
            let paras: Vec<&str> = body.split("\n\n").collect();
            let st = story(&paras);
            let t = std::time::Instant::now();
            let got = extract(&st);
            (t.elapsed(), got.quotes.len())
        };
        let _ = time(200);
        let (small, q1) = time(500);
        let (large, q2) = time(4000);
        assert!(q2 >= q1 * 7, "{q1} quotes for 500 units, {q2} for 4000");
        // 8x the text must take well under 64x the time (quadratic), allowing noise.
        assert!(
            large.as_secs_f64() < small.as_secs_f64() * 30.0 + 0.05,
            "{small:?} for 500 units, {large:?} for 4000"
        );
    }
}
