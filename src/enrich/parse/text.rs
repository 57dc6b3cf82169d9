//! Flattened web text and wire copy: furniture around a run of prose.
//!
//! The text is cut into units (lines, with hard-wrapped lines re-joined); each unit is
//! classified (breadcrumb, date, byline, caption, junk, trailer, slug, prose, short line,
//! list item) and scored; the article body is the highest-scoring contiguous run of units
//! (a maximum-subarray pass, linear in the number of units). Headline, section, date and
//! byline are read from the units before the body; captions and trailers from anywhere.
//!
//! Must not: keep furniture (breadcrumbs, bylines, captions, share lines, the dateline
//! prefix) in the body, or use rules that name a particular site.

use super::{byline, dates, furniture, normalize};
use crate::enrich::record::{Byline, Format, Media};
use crate::enrich::story::Story;

/// What a unit of text is.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Crumb(String),
    Date(String),
    Byline(Byline),
    DateByline(String, Byline),
    Caption(Media),
    Junk,
    /// The start of comments, related posts and the like: nothing after it belongs to the
    /// article run it closes.
    Stop,
    Trailer,
    Slug,
    Marker,
    Bullet,
    Short,
    Prose,
}

/// One unit (a paragraph or a line) of the input.
#[derive(Debug, Clone)]
struct Unit {
    text: String,
    words: usize,
    kind: Kind,
    /// Extra evidence from the source structure (HTML: inside the main-content container,
    /// link density), added to the score.
    bias: i64,
    /// A sentence that occurs more than once in the page: never kept in the body.
    repeated: bool,
}

impl Unit {
    /// Whether the unit may be kept in the body when it falls inside the article run.
    fn is_body_text(&self) -> bool {
        matches!(self.kind, Kind::Prose | Kind::Short | Kind::Bullet) && !self.repeated
    }

    /// The unit's score for the body search.
    fn score(&self) -> i64 {
        self.kind_score() + self.bias
    }

    /// The score the unit's kind alone earns.
    fn kind_score(&self) -> i64 {
        let w = self.words as i64;
        match self.kind {
            Kind::Prose => w.min(80) + 4,
            Kind::Short => -(4 + (w / 2)).min(10),
            Kind::Bullet => -8,
            Kind::Stop => -200,
            Kind::Junk => -60,
            Kind::Trailer => -30,
            Kind::Crumb(_)
            | Kind::Date(_)
            | Kind::Byline(_)
            | Kind::DateByline(..)
            | Kind::Slug => -8,
            Kind::Caption(_) => -2,
            Kind::Marker => -4,
        }
    }
}

/// Parses flattened web text or wire copy.
pub(crate) fn parse(input: &str) -> Story {
    let (text, anpa) = strip_transmission(input);
    let units = units(&text);
    let wire = anpa || looks_like_wire(&units);
    story_from_units(units, if wire { Format::Wire } else { Format::Text })
}

/// A text block handed over by a structured parser (HTML): its text and a score bias.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    /// The block's text (one paragraph).
    pub(crate) text: String,
    /// Evidence from the structure: positive inside the main content, negative for
    /// link-dense or boilerplate-looking blocks.
    pub(crate) bias: i64,
}

/// The units made from a page's block texts, by text: a second extraction of the same page
/// (the HTML parser's retry) reuses the cleaning and classifying of the blocks it shares
/// with the first instead of doing it again.
#[derive(Debug, Default)]
pub(crate) struct BlockUnits<'a> {
    /// The unit of each block text seen (`None`: nothing left after cleaning).
    by_text: rustc_hash::FxHashMap<&'a str, Option<Unit>>,
}

/// Builds a story from blocks a structured parser found, noting their units in `seen`.
pub(crate) fn parse_blocks<'a>(
    blocks: &'a [Block],
    format: Format,
    seen: &mut BlockUnits<'a>,
) -> Story {
    let units: Vec<Unit> = blocks
        .iter()
        .filter_map(|b| {
            let unit = block_unit(&b.text);
            seen.by_text.insert(&b.text, unit.clone());
            with_bias(unit, b.bias)
        })
        .collect();
    story_from_units(units, format)
}

/// Builds a story from blocks of a page whose blocks were parsed before: the units of the
/// texts in `seen` are reused.
pub(crate) fn parse_blocks_again(blocks: &[Block], format: Format, seen: &BlockUnits<'_>) -> Story {
    let units: Vec<Unit> = blocks
        .iter()
        .filter_map(|b| {
            let unit = match seen.by_text.get(b.text.as_str()) {
                Some(known) => known.clone(),
                None => block_unit(&b.text),
            };
            with_bias(unit, b.bias)
        })
        .collect();
    story_from_units(units, format)
}

/// The cleaned, classified unit of one block's text (`None` when cleaning leaves nothing).
fn block_unit(raw: &str) -> Option<Unit> {
    let cleaned = normalize::clean(raw, false);
    // Cleaned text is trimmed: a single line is already joined.
    let text = if cleaned.contains('\n') {
        normalize::join_lines(&cleaned)
    } else {
        cleaned
    };
    (!text.is_empty()).then(|| {
        let counts = WordCounts::of(&text);
        Unit {
            words: counts.words(),
            kind: classify(&text, counts),
            text,
            bias: 0,
            repeated: false,
        }
    })
}

/// A block's unit with the block's structural bias.
fn with_bias(unit: Option<Unit>, bias: i64) -> Option<Unit> {
    unit.map(|u| Unit { bias, ..u })
}

/// The shared tail: body run, header facts, captions, trailers, dateline.
fn story_from_units(mut units: Vec<Unit>, format: Format) -> Story {
    let wire = format == Format::Wire;
    let mut story = Story::new(format);
    mark_repeats(&mut units);
    let units = &units;
    let run = if wire {
        wire_run(units)
    } else {
        best_run(units)
    }
    .or_else(|| short_text_run(units));
    let Some((start, end)) = run else {
        return story;
    };
    read_header(&units[..start], &mut story, wire);
    read_media_and_trailers(units, &mut story);
    let mut paragraphs: Vec<String> = units[start..=end]
        .iter()
        .filter(|u| u.is_body_text() && u.bias > -20)
        .map(|u| strip_bullet(&u.text).to_owned())
        .collect();
    drop_repeated_headline(&mut paragraphs, story.headline.as_deref());
    take_dateline(&mut paragraphs, &mut story);
    if story.published.is_none() {
        story.published = dateline_date(&story, units);
    }
    let date_only = story.published.as_ref().is_none_or(|p| p.len() == 10);
    if wire && date_only {
        if let Some(t) = wire_time(units) {
            story.published = Some(t);
        }
    }
    story.set_body_from_paragraphs(&paragraphs);
    story
}

/// Short lines that occur more than once (image alt text and caption, a repeated title,
/// teaser links) are furniture: they are penalised and never kept in the body.
fn mark_repeats(units: &mut [Unit]) {
    let mut seen: rustc_hash::FxHashMap<&str, usize> = rustc_hash::FxHashMap::default();
    for u in units.iter() {
        *seen.entry(u.text.as_str()).or_default() += 1;
    }
    let repeated: Vec<bool> = units
        .iter()
        .map(|u| u.words < 40 && seen.get(u.text.as_str()).is_some_and(|&n| n > 1))
        .collect();
    for (u, repeated) in units.iter_mut().zip(repeated) {
        if repeated {
            u.bias -= REPEAT_PENALTY;
            // A repeated sentence is a caption or teaser; a repeated short line (a
            // table's header row) may still be part of the article.
            u.repeated = u.kind == Kind::Prose;
        }
    }
}

/// Score penalty of a repeated short line.
const REPEAT_PENALTY: i64 = 6;

/// Removes ANPA transmission framing: the SOH…STX header line and everything after ETX/EOT.
fn strip_transmission(input: &str) -> (String, bool) {
    let has_marks = input.contains(['\u{1}', '\u{2}', '\u{3}', '\u{4}']);
    if !has_marks {
        return (input.to_owned(), false);
    }
    let mut text = input;
    if let Some(etx) = text.find(['\u{3}', '\u{4}']) {
        text = &text[..etx];
    }
    let text = match (text.find('\u{1}'), text.find('\u{2}')) {
        (Some(soh), Some(stx)) if soh < stx => format!("{}\n{}", &text[..soh], &text[stx + 1..]),
        _ => text.to_owned(),
    };
    (text.replace(['\u{1}', '\u{2}'], "\n"), true)
}

/// Cuts the text into classified units: each non-blank line, with hard-wrapped lines joined.
fn units(text: &str) -> Vec<Unit> {
    let mut out: Vec<Unit> = Vec::new();
    let mut prev_blank = true;
    for raw in text.lines() {
        let line = normalize::clean(raw, true);
        if line.is_empty() {
            prev_blank = true;
            continue;
        }
        if !prev_blank {
            if let Some(last) = out.last_mut() {
                if continues(&last.text, &line, raw) {
                    last.text.push(' ');
                    last.text.push_str(&line);
                    continue;
                }
            }
        }
        prev_blank = false;
        out.push(Unit {
            words: 0,
            kind: Kind::Short,
            text: line,
            bias: 0,
            repeated: false,
        });
    }
    // Classified once, after wrapped lines are joined (keeps the pass linear).
    for u in &mut out {
        let counts = WordCounts::of(&u.text);
        u.words = counts.words();
        u.kind = classify(&u.text, counts);
    }
    out
}

/// Whether `next` is the continuation of a hard-wrapped `prev` line.
fn continues(prev: &str, next: &str, raw_next: &str) -> bool {
    let indented = raw_next.starts_with([' ', '\t']);
    let prev_open = !prev.ends_with(['.', '!', '?', ':', '"', '”', '’', '\'', ')']);
    let next_lower = next.chars().next().is_some_and(char::is_lowercase);
    !indented && prev.len() >= 40 && prev_open && next_lower
}

/// Word counts of a text, from one pass over its characters.
#[derive(Debug, Clone, Copy, PartialEq)]
struct WordCounts {
    /// Whitespace-separated tokens.
    tokens: usize,
    /// Tokens that do not start with an upper-case letter (caseless scripts count).
    lower_tokens: usize,
    /// Characters of the CJK scripts, which do not put spaces between words.
    cjk: usize,
}

impl WordCounts {
    fn of(text: &str) -> Self {
        if text.is_ascii() {
            Self::of_ascii(text.as_bytes())
        } else {
            Self::of_chars(text)
        }
    }

    /// The counts of any text, char by char.
    fn of_chars(text: &str) -> Self {
        let mut counts = WordCounts {
            tokens: 0,
            lower_tokens: 0,
            cjk: 0,
        };
        let mut in_token = false;
        for c in text.chars() {
            if c.is_whitespace() {
                in_token = false;
                continue;
            }
            if !in_token {
                counts.tokens += 1;
                counts.lower_tokens += usize::from(!c.is_uppercase());
                in_token = true;
            }
            if matches!(c as u32, 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF) {
                counts.cjk += 1;
            }
        }
        counts
    }

    /// The counts of an ASCII text, byte by byte: the same as [`WordCounts::of`] gives
    /// (ASCII has no CJK characters; its white space is `' '` and `\t`..=`\r`). A token
    /// starts at a non-space byte after a space byte; the pairs are counted in chunks of 255
    /// into byte-wide counters, a branch-free loop the compiler turns into vector code.
    fn of_ascii(bytes: &[u8]) -> Self {
        let is_space = |b: u8| (b == b' ') | (b.wrapping_sub(b'\t') < 5);
        let (mut tokens, mut lower_tokens) = match bytes.first() {
            Some(&b) if !is_space(b) => (1, usize::from(!b.is_ascii_uppercase())),
            _ => (0, 0),
        };
        let next_bytes = bytes.get(1..).unwrap_or_default();
        for (prev, next) in bytes.chunks(255).zip(next_bytes.chunks(255)) {
            let (mut starts_here, mut lower_here) = (0u8, 0u8);
            for (&p, &b) in prev.iter().zip(next) {
                let starts = is_space(p) & !is_space(b);
                starts_here += u8::from(starts);
                lower_here += u8::from(starts & !b.is_ascii_uppercase());
            }
            tokens += usize::from(starts_here);
            lower_tokens += usize::from(lower_here);
        }
        WordCounts {
            tokens,
            lower_tokens,
            cjk: 0,
        }
    }

    /// Length in words: tokens, plus one per two CJK characters.
    fn words(self) -> usize {
        self.tokens + self.cjk / 2
    }
}

/// Classifies one unit, given its word counts.
fn classify(line: &str, counts: WordCounts) -> Kind {
    let words = counts.words();
    if is_marker(line) {
        return Kind::Marker;
    }
    if furniture::is_section_end(line) {
        return Kind::Stop;
    }
    if furniture::is_junk(line) {
        return Kind::Junk;
    }
    if byline::is_trailer_line(line) {
        return Kind::Trailer;
    }
    if furniture::is_wire_slug(line) {
        return Kind::Slug;
    }
    if words <= 16 {
        if dates::is_date_line(line) {
            return Kind::Date(line.to_owned());
        }
        if let Some(kind) = date_and_byline(line) {
            return kind;
        }
        if byline::is_byline_line(line) {
            return Kind::Byline(byline::parse(line));
        }
        if let Some(section) = furniture::breadcrumb_section(line) {
            return Kind::Crumb(section);
        }
    }
    if let Some(media) = furniture::caption(line) {
        return Kind::Caption(media);
    }
    if is_bullet(line) {
        return Kind::Bullet;
    }
    if is_prose(line, counts) {
        Kind::Prose
    } else {
        Kind::Short
    }
}

/// `Chris Davies - Nov 19, 2019, 10:31 pm` / `By Jane Doe | Sep 8, 2016`.
fn date_and_byline(line: &str) -> Option<Kind> {
    if !line.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    let seps = [" | ", " / ", " - ", " – ", " • ", " · ", ", "];
    // A separator's mark (`|`, `/`…) is looked for first; a separator written once gives
    // one split, tried once.
    let splits = seps
        .iter()
        .filter(|sep| {
            sep.chars()
                .find(|&c| c != ' ')
                .is_some_and(|c| line.contains(c))
        })
        .flat_map(|sep| {
            let first = line.split_once(sep);
            let last = line
                .rsplit_once(sep)
                .filter(|last| first.is_none_or(|first| first.0.len() != last.0.len()));
            [first, last]
        })
        .flatten();
    for (a, b) in splits {
        let (date, who) = if dates::is_date_line(b) {
            (b, a)
        } else if dates::is_date_line(a) {
            (a, b)
        } else {
            continue;
        };
        let who = who.trim();
        let is_person =
            byline::looks_like_person(who.trim_start_matches("By ").trim_start_matches("by "));
        let agency = byline::agency_name(who).is_some() && who.split_whitespace().count() <= 4;
        if byline::is_byline_line(who) || is_person || agency {
            return Some(Kind::DateByline(date.to_owned(), byline::parse(who)));
        }
    }
    None
}

/// Image placeholders and inline markers a text dump leaves: `[INS::INS]`, `[image-1]`.
fn is_marker(line: &str) -> bool {
    let t = line.trim();
    if t.chars().all(|c| !c.is_alphanumeric()) {
        return true;
    }
    // Only bracketed groups (`[INS::INS]`, `[ ] [submit]`, `[Social-Fac] [Social-Twi]`).
    if !t.starts_with('[') || t.len() >= 200 {
        return false;
    }
    let mut depth = 0usize;
    let mut outside = 0usize;
    for c in t.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            c if depth == 0 && c.is_alphanumeric() => outside += 1,
            _ => {}
        }
    }
    outside == 0
}

/// A list item (`• item`, `- item`, `* item`, `□ item`).
fn is_bullet(line: &str) -> bool {
    let t = line.trim_start();
    [
        "• ", "- ", "* ", "□ ", "■ ", "· ", "◦ ", "+ ", "o ", "○ ", "☆ ", "▪ ", "► ", "» ",
    ]
    .iter()
    .any(|b| t.starts_with(b))
}

/// The text of a list item without its marker.
fn strip_bullet(line: &str) -> &str {
    if is_bullet(line) {
        line.trim_start().get(2..).map_or(line, str::trim_start)
    } else {
        line
    }
}

/// Running prose: enough words, mostly lower-case, ending like a sentence (or long).
fn is_prose(line: &str, counts: WordCounts) -> bool {
    let words = counts.words();
    if words < 6 {
        return false;
    }
    let ends = line
        .trim_end_matches(['"', '”', '’', '\'', ')', ']'])
        .ends_with(['.', '!', '?', ':', ';', '…']);
    // Caseless scripts (Korean, Arabic, CJK…) count as lower-case.
    let lowerish = counts.lower_tokens * 3 >= counts.tokens;
    (ends && lowerish && words >= 6) || (words >= 18 && lowerish)
}

/// The article run: a comment section after the first prose is cut off; the rest is cut
/// into segments at [`Kind::Stop`] lines; in each segment the
/// best contiguous run by score is found (Kadane); the first segment whose run scores at
/// least half the best one wins (comments after an article may be long, but come later).
/// The run is trimmed to body-text units at both ends.
fn best_run(units: &[Unit]) -> Option<(usize, usize)> {
    let first_prose = units
        .iter()
        .position(|u| u.kind == Kind::Prose)
        .unwrap_or(0);
    let comments = units[first_prose..]
        .iter()
        .position(|u| u.kind == Kind::Stop && furniture::is_comments_start(&u.text))
        .map_or(units.len(), |i| first_prose + i);
    let units = &units[..comments];
    let mut runs: Vec<(i64, usize, usize)> = Vec::new();
    let mut seg_start = 0;
    for i in 0..=units.len() {
        if i == units.len() || units[i].kind == Kind::Stop {
            if let Some((score, s, e)) = kadane(&units[seg_start..i]) {
                runs.push((score, seg_start + s, seg_start + e));
            }
            seg_start = i + 1;
        }
    }
    let top = runs.iter().map(|r| r.0).max()?;
    let (_, mut s, mut e) = *runs.iter().find(|r| r.0 * 2 >= top)?;
    while s < e && !units[s].is_body_text() {
        s += 1;
    }
    while e > s && !units[e].is_body_text() {
        e -= 1;
    }
    units[s].is_body_text().then_some((s, e))
}

/// A story made only of short lines (a brief, a test input) has no positive-scoring run:
/// then the body is everything from the first to the last body-text line, so a plain
/// short story is kept instead of being rejected as having no body.
fn short_text_run(units: &[Unit]) -> Option<(usize, usize)> {
    let start = units.iter().position(Unit::is_body_text)?;
    let end = units.iter().rposition(Unit::is_body_text)?;
    Some((start, end))
}

/// Wire copy has no furniture inside the story: the body runs from the first prose unit
/// to the last text unit before an end mark (trailer, slug, junk, section end).
fn wire_run(units: &[Unit]) -> Option<(usize, usize)> {
    let start = units.iter().position(|u| u.kind == Kind::Prose)?;
    let stop = units[start..]
        .iter()
        .position(|u| matches!(u.kind, Kind::Trailer | Kind::Slug | Kind::Junk | Kind::Stop))
        .map_or(units.len(), |i| start + i);
    let end = (start..stop).rev().find(|&i| units[i].is_body_text())?;
    Some((start, end))
}

/// Maximum-sum contiguous run of unit scores: (score, first, last).
fn kadane(units: &[Unit]) -> Option<(i64, usize, usize)> {
    let mut best: Option<(i64, usize, usize)> = None;
    let mut sum = 0i64;
    let mut start = 0usize;
    for (i, u) in units.iter().enumerate() {
        if sum <= 0 {
            sum = 0;
            start = i;
        }
        sum += u.score();
        if sum > 0 && best.is_none_or(|(b, _, _)| sum > b) {
            best = Some((sum, start, i));
        }
    }
    best
}

/// Reads section, date, byline and headline from the units before the body.
fn read_header(header: &[Unit], story: &mut Story, wire: bool) {
    for u in header {
        match &u.kind {
            Kind::Crumb(s) if story.section.is_none() => story.section = Some(s.clone()),
            Kind::Date(d) if story.published.is_none() => {
                story.published = dates::parse(d).map(|p| p.to_rfc3339());
            }
            Kind::DateByline(d, b) => {
                if story.published.is_none() {
                    story.published = dates::parse(d).map(|p| p.to_rfc3339());
                }
                merge_byline(&mut story.byline, b);
            }
            Kind::Byline(b) => merge_byline(&mut story.byline, b),
            _ => {}
        }
    }
    story.headline = pick_headline(header, wire);
}

/// Adds `from` to `into` without duplicates, up to [`byline::MAX_AUTHORS`].
fn merge_byline(into: &mut Byline, from: &Byline) {
    for a in &from.authors {
        if into.authors.len() >= byline::MAX_AUTHORS {
            break;
        }
        byline::push_author(into, a.clone());
    }
    if into.agency.is_none() {
        into.agency.clone_from(&from.agency);
    }
}

/// The headline: a repeated title-like line, else the one nearest the byline/date, else the
/// first (wire copy puts it first).
fn pick_headline(header: &[Unit], wire: bool) -> Option<String> {
    let title_like = |u: &Unit| {
        matches!(u.kind, Kind::Short | Kind::Prose)
            && (2..=30).contains(&u.words)
            && !u.text.ends_with(':')
    };
    let candidates: Vec<usize> = (0..header.len())
        .filter(|&i| title_like(&header[i]))
        .collect();
    // The first candidate whose exact text another candidate repeats. Counted in a map:
    // comparing every pair was quadratic in the header (60,000 unique lines took 15 s).
    let mut counts: rustc_hash::FxHashMap<&str, usize> = rustc_hash::FxHashMap::default();
    for &i in &candidates {
        *counts.entry(header[i].text.as_str()).or_default() += 1;
    }
    let repeated = candidates
        .iter()
        .find(|&&i| counts.get(header[i].text.as_str()).is_some_and(|&n| n > 1));
    let chosen = repeated.copied().or_else(|| {
        if wire {
            return candidates.first().copied();
        }
        // Titles sit just above (or below) the byline and date, and close to the body:
        // score each candidate by length, nearness to those lines, and nearness to the body.
        let is_meta = |j: usize| {
            header.get(j).is_some_and(|u| {
                matches!(
                    u.kind,
                    Kind::Date(_) | Kind::Byline(_) | Kind::DateByline(..) | Kind::Crumb(_)
                )
            })
        };
        let score = |i: usize| {
            let near_meta = is_meta(i + 1) || is_meta(i + 2) || i > 0 && is_meta(i - 1);
            let to_body = header.len() - i;
            header[i].words.min(20) as i64
                + if near_meta { 12 } else { 0 }
                + (10 - to_body as i64).max(0)
        };
        candidates
            .iter()
            .copied()
            .filter(|&i| header[i].words >= 3)
            .max_by_key(|&i| (score(i), i))
            .or_else(|| candidates.first().copied())
    })?;
    let text = header[chosen].text.as_str();
    // A bare `UPDATE 1-` line is a slug, not a headline: absent, never `""`.
    let headline = strip_update_prefix(text);
    (!headline.is_empty()).then(|| headline.to_owned())
}

/// `UPDATE 1-Headline` -> `Headline`.
fn strip_update_prefix(text: &str) -> &str {
    if let Some(rest) = text.strip_prefix("UPDATE ") {
        if let Some((n, head)) = rest.split_once('-') {
            if n.chars().all(|c| c.is_ascii_digit()) {
                return head.trim();
            }
        }
    }
    text
}

/// Captions (before the first junk line after the body) and reporting trailers.
fn read_media_and_trailers(units: &[Unit], story: &mut Story) {
    let mut reached_junk = false;
    let mut seen_prose = false;
    for u in units {
        match &u.kind {
            Kind::Caption(m) if !reached_junk => story.media.push(m.clone()),
            Kind::Trailer => {
                byline::read_trailer(&u.text, &mut story.byline);
            }
            Kind::Junk if seen_prose => reached_junk = true,
            Kind::Prose => seen_prose = true,
            _ => {}
        }
    }
}

/// Drops a first body paragraph that repeats the headline.
fn drop_repeated_headline(paragraphs: &mut Vec<String>, headline: Option<&str>) {
    if let (Some(h), Some(first)) = (headline, paragraphs.first()) {
        if first == h {
            paragraphs.remove(0);
        }
    }
}

/// Moves a dateline prefix of the lead paragraph into `story.dateline`.
fn take_dateline(paragraphs: &mut [String], story: &mut Story) {
    let Some(first) = paragraphs.first_mut() else {
        return;
    };
    if let Some((dateline, len)) = furniture::dateline(first) {
        if story.byline.agency.is_none() {
            story.byline.agency = dateline.agency.as_deref().and_then(byline::agency_name);
        }
        *first = first[len..].trim_start().to_owned();
        story.dateline = Some(dateline);
    }
}

/// The publication date a dateline gives (`LONDON, Sept 8 (Reuters) -`) when nothing else
/// dates the story: its month and day, in the year the dates written with a year in the
/// story point to ([`dates::infer_year`]: nearest year, majority of mentions). `None` when
/// the story writes no such date: a year is never guessed.
fn dateline_date(story: &Story, units: &[Unit]) -> Option<String> {
    let written = story.dateline.as_ref()?.date.as_deref()?;
    let (month, day) = dates::month_day(written)?;
    let mentions: Vec<(i16, i8, i8)> = units
        .iter()
        .flat_map(|u| dates::dated_mentions(&u.text))
        .collect();
    let year = dates::infer_year(month, day, &mentions)?;
    dates::from_ymd(year, month, day).map(dates::ParsedDate::to_rfc3339)
}

/// Wire copy: a date line in the header plus a `HHMMGMT` end mark (a time in UTC).
fn wire_time(units: &[Unit]) -> Option<String> {
    let date = units.iter().find_map(|u| match &u.kind {
        Kind::Date(d) => dates::parse(d),
        _ => None,
    })?;
    let day = date.to_rfc3339();
    if day.len() != 10 {
        return Some(day);
    }
    let end_mark = units.iter().rev().find_map(|u| gmt_end_mark(&u.text));
    Some(match end_mark {
        Some((h, m)) => format!("{day}T{h:02}:{m:02}:00Z"),
        None => day,
    })
}

/// `1020GMT` / `1020 GMT` -> (10, 20).
fn gmt_end_mark(line: &str) -> Option<(u32, u32)> {
    let t = line.trim();
    let digits = t
        .strip_suffix("GMT")
        .or_else(|| t.strip_suffix("UTC"))?
        .trim();
    if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let h: u32 = digits[..2].parse().ok()?;
    let m: u32 = digits[2..].parse().ok()?;
    (h < 24 && m < 60).then_some((h, m))
}

/// Wire copy: slugs, transmission marks or an agency dateline, and no page furniture.
fn looks_like_wire(units: &[Unit]) -> bool {
    let head = &units[..units.len().min(12)];
    let web = head.iter().any(|u| matches!(u.kind, Kind::Crumb(_)));
    let slug = head.iter().any(|u| u.kind == Kind::Slug);
    let agency_dateline = head
        .iter()
        .any(|u| furniture::dateline(&u.text).is_some_and(|(d, _)| d.agency.is_some()));
    !web && (slug || agency_dateline)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_update_slug_is_no_headline() {
        // Found by the `enrich` fuzzer (session 7): the record said `"headline": ""`.
        let story = parse(
            "UPDATE 1-\n\nLONDON (Agency) - The council voted on Tuesday to close the old \
             bridge to traffic for the whole of next year.\n",
        );
        assert_eq!(story.headline, None);
        let story = parse(
            "UPDATE 2-Council closes old bridge for a year\n\nLONDON (Agency) - The council \
             voted on Tuesday to close the old bridge to traffic for the whole of next year.\n",
        );
        assert_eq!(
            story.headline.as_deref(),
            Some("Council closes old bridge for a year")
        );
    }

    /// A name made of letters only (`Aa`, `Ab`, …): bylines reject digits.
    fn letters(i: usize) -> String {
        let (hi, lo) = (i / 26 % 26, i % 26);
        [b'A' + hi as u8, b'a' + lo as u8]
            .iter()
            .map(|&b| b as char)
            .collect()
    }

    const DATELINE: &str = "LONDON (Reuters) - The council voted on Tuesday to close the old \
        bridge to traffic for the whole of next year, officials said.\n";

    #[test]
    fn a_repeated_title_is_found_in_a_large_header() {
        // The headline is the first title-like line that another repeats (exact text), not
        // the last repeated one, and not one near the body. The pairwise search this
        // replaced was quadratic in the header: 60,000 unique lines took 15 s in release.
        let small = format!(
            "Bridge closes for a year\nOther line here\nSecond title repeated here\n\
             Bridge closes for a year\nSecond title repeated here\n\n{DATELINE}"
        );
        // The same header after 20,000 unique title-like lines.
        let mut large = String::new();
        for i in 0..20_000 {
            large.push_str(&format!("Line {} here\n", letters(i) + &letters(i / 676)));
        }
        large.push_str(&small);
        for input in [&small, &large] {
            let story = parse(input);
            assert_eq!(
                story.headline.as_deref(),
                Some("Bridge closes for a year"),
                "{} bytes",
                input.len()
            );
        }
        // The comparison is exact: `bridge closes…` does not repeat `Bridge closes…`.
        let story = parse(&format!(
            "Bridge closes for a year\nbridge closes for a year\nSecond title repeated here\n\
             Second title repeated here\n\n{DATELINE}"
        ));
        assert_eq!(
            story.headline.as_deref(),
            Some("Second title repeated here")
        );
    }

    #[test]
    fn header_bylines_are_deduplicated_and_capped() {
        // Every header byline used to be kept (70,000 `By …` lines: 70,000 authors, checked
        // for duplicates pairwise).
        let mut text = String::from("By Ann Aa\nBy Ann Aa and Bo Chan\n");
        for i in 0..3 * byline::MAX_AUTHORS {
            text.push_str(&format!("By Ann {}\n", letters(i)));
        }
        text.push('\n');
        text.push_str(DATELINE);
        let story = parse(&text);
        let mut want = vec!["Ann Aa".to_owned(), "Bo Chan".to_owned()];
        want.extend((1..byline::MAX_AUTHORS - 1).map(|i| format!("Ann {}", letters(i))));
        assert_eq!(story.byline.authors, want);
        assert_eq!(story.byline.authors.len(), byline::MAX_AUTHORS);
    }

    #[test]
    fn ascii_word_counts_match_the_char_by_char_counts() {
        for text in [
            "",
            " ",
            "One",
            "the Two  countries\tmet",
            " Leading space, trailing space ",
            "vertical\u{b}tab and\r\nline\u{c}feed",
            "\u{1f}unit separator is not white space",
            "ALL CAPS 123 (quoted) \"Words\"",
            &"Across chunk Boundaries\tx ".repeat(40),
        ] {
            assert_eq!(
                WordCounts::of_ascii(text.as_bytes()),
                WordCounts::of_chars(text),
                "{text:?}"
            );
        }
        assert_eq!(WordCounts::of("the Two  x").tokens, 3);
        assert_eq!(WordCounts::of("the Two  x").lower_tokens, 2);
    }

    const SEED: &str = "Home > Asia\nThursday, September 8, 2016, 10:20\n\nTalks stall on the river deal\n\nBy Reuters\n\nTalks stall on the river deal\nIn this Jan 20, 2016 photo, two ministers shake hands before their meeting in Zurich. (Jane Roe/AP)\n\nWASHINGTON – The two countries have not reached a deal on the river, officials said on Wednesday.\n\n\"We're not there yet,\" a spokesman told a briefing after the ministers spoke by phone.\n\nLatest News";

    #[test]
    fn seed_shaped_page() {
        let s = parse(SEED);
        assert_eq!(s.format, Format::Text);
        assert_eq!(s.headline.as_deref(), Some("Talks stall on the river deal"));
        assert_eq!(s.section.as_deref(), Some("Asia"));
        assert_eq!(s.published.as_deref(), Some("2016-09-08T10:20:00"));
        assert_eq!(s.byline.agency.as_deref(), Some("Reuters"));
        assert_eq!(
            s.dateline.as_ref().and_then(|d| d.location.as_deref()),
            Some("WASHINGTON")
        );
        assert_eq!(s.media.len(), 1);
        assert_eq!(s.media[0].credit.as_deref(), Some("Jane Roe/AP"));
        assert_eq!(s.paragraphs.len(), 2);
        assert!(s.body.starts_with("The two countries"));
        assert!(!s.body.contains("Latest News"));
    }

    #[test]
    fn wire_copy() {
        let w = "Harbour workers end strike\n\nLISBON, May 9 (Northbridge Press) - Harbour workers ended a two-week strike on Friday after a pay deal was reached.\n\nThe union said members would return to work on Monday morning.\n\n(Reporting by Ana Silva; Editing by Tom Hale)\n";
        let s = parse(w);
        assert_eq!(s.format, Format::Wire);
        assert_eq!(s.headline.as_deref(), Some("Harbour workers end strike"));
        assert_eq!(s.byline.authors, vec!["Ana Silva"]);
        assert_eq!(s.byline.agency.as_deref(), Some("Northbridge Press"));
        let d = s.dateline.expect("dateline");
        assert_eq!(d.date.as_deref(), Some("May 9"));
        assert_eq!(s.paragraphs.len(), 2);
        assert!(s.body.starts_with("Harbour workers ended"));
    }

    #[test]
    fn dateline_without_year_takes_it_from_written_dates() {
        let w = "Storm upgraded to hurricane\n\nMIAMI, Sept 16 (Northbridge Press) - The storm became the third hurricane of the season late on Sunday.\n\nThe first, forming in July 2019, hit the coast in late August.\n";
        let s = parse(w);
        assert_eq!(s.format, Format::Wire);
        assert_eq!(s.published.as_deref(), Some("2019-09-16"));
        // No date written with a year: no year is guessed.
        let bare = w.replace("forming in July 2019", "forming in the 2019 season");
        assert_eq!(parse(&bare).published, None);
    }

    #[test]
    fn short_plain_story_keeps_its_lines() {
        let story = parse("First paragraph.\n\nSecond paragraph.");
        assert_eq!(story.body, "First paragraph.\n\nSecond paragraph.");
        assert_eq!(story.paragraphs.len(), 2);
    }

    #[test]
    fn anpa_framing() {
        let w = "\u{1}1234 NBP r i BC-abc May-09\u{2}Harbour workers end strike\nMay 9, 2019\n\n   LISBON, May 9 (NBP) -- Harbour workers ended a two-week strike on Friday after a deal.\n   The union said members would return to work on Monday morning.\n\n1020GMT\n\u{3}\nSource: x";
        let s = parse(w);
        assert_eq!(s.format, Format::Wire);
        assert_eq!(s.headline.as_deref(), Some("Harbour workers end strike"));
        assert_eq!(s.paragraphs.len(), 2);
        assert_eq!(s.published.as_deref(), Some("2019-05-09T10:20:00Z"));
        assert!(!s.body.contains("Source"));
    }
}
