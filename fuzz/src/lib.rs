//! The fuzz targets' bodies, the way fuzzer bytes become the core's inputs, and the cheap
//! invariants every target checks on top of "does not panic".
//!
//! Each `fuzz_targets/<name>.rs` only calls [`run`] with its [`Target`]; the stable suite
//! (`tests/fuzz_regressions.rs`, which includes this file) replays every committed
//! regression input through the very same function, so a fixed crash stays fixed under a
//! plain `cargo test`.
//!
//! Every `check_*` function panics (so libFuzzer records a crash) with a message that
//! names the broken invariant; each runs in time and memory linear in the record (a field's
//! code points are counted once, whatever the number of spans in it).

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use wire_enricher::enrich::entities::{self, tokenize, Model};
use wire_enricher::enrich::parse::{self, Sniffed};
use wire_enricher::enrich::quotes;
use wire_enricher::enrich::record::{
    EnrichedRecord, Entity, Field, Format, Media, Quote, SourceInfo,
};
use wire_enricher::enrich::story::Story;
use wire_enricher::enrich::{EnrichOptions, Enricher, RawStory};

/// One fuzz target: which part of the core it drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Format detection and the whole parse stage as the worker runs it.
    Detect,
    /// The text parser (flattened web text and agency wire copy) on its own.
    ParseText,
    /// The HTML parser on its own.
    ParseHtml,
    /// The NewsML-G2 XML parser on its own.
    ParseNewsml,
    /// The JSON parsers (ninjs, the JSON envelope, the text fallback) on their own.
    ParseJson,
    /// The quote stage on a story built from fuzzer text.
    Quotes,
    /// The entity stage's tokeniser and tagger on one text.
    Tokenize,
    /// The entity stage (tagger, clustering, speaker links) after the quote stage.
    Entities,
    /// The whole core: `Enricher::enrich` and the published record.
    Enrich,
}

impl Target {
    /// Every target, in the order the README lists them.
    pub const ALL: [Target; 9] = [
        Target::Detect,
        Target::ParseText,
        Target::ParseHtml,
        Target::ParseNewsml,
        Target::ParseJson,
        Target::Quotes,
        Target::Tokenize,
        Target::Entities,
        Target::Enrich,
    ];

    /// The target's name: its `fuzz_targets/<name>.rs` and its corpus directory.
    pub fn name(self) -> &'static str {
        match self {
            Target::Detect => "detect",
            Target::ParseText => "parse_text",
            Target::ParseHtml => "parse_html",
            Target::ParseNewsml => "parse_newsml",
            Target::ParseJson => "parse_json",
            Target::Quotes => "quotes",
            Target::Tokenize => "tokenize",
            Target::Entities => "entities",
            Target::Enrich => "enrich",
        }
    }
}

/// Runs one fuzz input through `target`, checking its invariants (panics when one breaks).
pub fn run(target: Target, data: &[u8]) {
    match target {
        Target::Detect => detect(data),
        Target::ParseText => parse_one(data, Sniffed::Text),
        Target::ParseHtml => parse_one(data, Sniffed::Html),
        Target::ParseNewsml => parse_one(data, Sniffed::Xml),
        Target::ParseJson => parse_one(data, Sniffed::Json),
        Target::Quotes => quote_stage(data),
        Target::Tokenize => tokenise_and_tag(data),
        Target::Entities => entity_stage(data),
        Target::Enrich => enrich(data),
    }
}

/// How far detection may look (`detect.rs` reads the first 4 KiB of the trimmed text).
const DETECT_HEAD: usize = 4096;

/// `tokenize.rs`: the longest sentence handed to the tagger.
const MAX_SENTENCE_TOKENS: usize = 256;

/// Detection and the auto-detecting parse: detection looks only at the payload's head
/// (text appended far behind it does not change the verdict), JSON/XML verdicts only for
/// payloads that open like them, and a parsed story keeps the parse stage's promises with
/// a format its parser can produce.
fn detect(data: &[u8]) {
    let (content_type, bytes) = hint_and_payload(data);
    if let Ok(text) = std::str::from_utf8(bytes) {
        let kind = parse::sniff(text, content_type);
        let start = text.trim_start();
        match kind {
            Sniffed::Json => assert!(
                start.starts_with(['{', '[']),
                "JSON verdict for {start:.20?}"
            ),
            Sniffed::Xml => assert!(start.starts_with('<'), "XML verdict for {start:.20?}"),
            Sniffed::Html | Sniffed::Text => {}
        }
        // Past the head (and past the first token after a `[`), more text changes nothing.
        let decided = start.len() > DETECT_HEAD
            && start
                .get(1..)
                .is_some_and(|rest| rest.trim_start().len() > 8);
        if decided {
            let longer = format!("{text}{{\"body\": \"<html><body><newsItem>\"}}");
            assert_eq!(
                parse::sniff(&longer, content_type),
                kind,
                "detection read past its head"
            );
        }
    }
    let raw = RawStory {
        bytes,
        message_id: None,
        content_type,
        reference_date: None,
    };
    if let Ok(story) = parse::parse(&raw, &EnrichOptions::default()) {
        check_story(&story);
        if let Ok(text) = std::str::from_utf8(bytes) {
            let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
            check_format(&story, parse::sniff(text, content_type));
        }
    }
}

/// One parser without detection (`parse::parse_as`): the story keeps the parse stage's
/// promises with a format this parser can produce.
fn parse_one(bytes: &[u8], kind: Sniffed) {
    let raw = RawStory {
        bytes,
        message_id: None,
        content_type: None,
        reference_date: None,
    };
    if let Ok(story) = parse::parse_as(&raw, &EnrichOptions::default(), kind) {
        check_story(&story);
        check_format(&story, kind);
    }
}

/// The quote stage: every quote and speaker mention slices its field exactly.
fn quote_stage(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let story = story_from_text(&text);
    let extracted = quotes::extract(&story);
    check_quotes(&story, &extracted.quotes);
}

/// Tokeniser and tagger: tokens non-empty, in bounds, on char boundaries, in order
/// without overlap; sentences cover every token in order within the tagger's bound;
/// tagged spans are non-empty, ordered, non-overlapping token ranges.
fn tokenise_and_tag(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let tok = tokenize::tokenize(&text);
    let mut previous_end = 0;
    for (i, t) in tok.tokens.iter().enumerate() {
        assert!(
            previous_end <= t.start && t.start < t.end && t.end <= text.len(),
            "token {i}: span {}..{} (previous end {previous_end}, text {} bytes)",
            t.start,
            t.end,
            text.len()
        );
        assert!(
            text.is_char_boundary(t.start) && text.is_char_boundary(t.end),
            "token {i}: span {}..{} not on char boundaries",
            t.start,
            t.end
        );
        previous_end = t.end;
    }
    let mut next = 0;
    for (i, s) in tok.sentences.iter().enumerate() {
        assert_eq!(
            s.start, next,
            "sentence {i} does not start where the last ended"
        );
        assert!(s.start < s.end, "sentence {i} is empty");
        assert!(
            s.len() <= MAX_SENTENCE_TOKENS,
            "sentence {i} has {} tokens",
            s.len()
        );
        next = s.end;
    }
    assert_eq!(next, tok.tokens.len(), "sentences do not cover every token");

    let (tagged_tok, spans) = model().tag_tokens(&text);
    assert_eq!(tagged_tok, tok, "tokenising is not deterministic");
    let mut previous = 0;
    for &(a, b, kind) in &spans {
        assert!(
            previous <= a && a < b && b <= tok.tokens.len(),
            "tagged span {a}..{b} {kind:?} (previous end {previous}, {} tokens)",
            tok.tokens.len()
        );
        previous = b;
    }
}

/// The entity stage after the quote stage, as the pipeline runs them.
fn entity_stage(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let story = story_from_text(&text);
    let mut quotes = quotes::extract(&story).quotes;
    let entities = entities::extract(&story, &mut quotes, model());
    check_quotes(&story, &quotes);
    check_entities(&story, &entities, &quotes);
}

/// The whole core, as the worker runs it; the record's invariants.
fn enrich(data: &[u8]) {
    let (content_type, bytes) = hint_and_payload(data);
    let raw = RawStory {
        bytes,
        message_id: Some("fuzz"),
        content_type,
        reference_date: None,
    };
    let source = SourceInfo {
        subject: "fuzz".to_owned(),
        stream: None,
        stream_sequence: None,
        format: Format::Text,
        received_at: "2026-01-01T00:00:00Z".to_owned(),
    };
    if let Ok(record) = enricher().enrich(&raw, source) {
        check_record(&record);
    }
}

/// Content-Type hints the transport may pass; the first input byte picks one.
const CONTENT_TYPES: &[Option<&str>] = &[
    None,
    Some("text/plain"),
    Some("text/html; charset=utf-8"),
    Some("application/xml"),
    Some("application/vnd.iptc.g2.newsitem+xml"),
    Some("application/json"),
    Some("application/ninjs+json"),
    Some("application/octet-stream"),
];

/// Splits fuzzer bytes into a Content-Type hint (first byte) and the payload (the rest).
pub fn hint_and_payload(data: &[u8]) -> (Option<&'static str>, &[u8]) {
    match data.split_first() {
        Some((&selector, rest)) => (CONTENT_TYPES[selector as usize % CONTENT_TYPES.len()], rest),
        None => (None, data),
    }
}

/// The embedded entity model, loaded once per fuzzing process.
pub fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(Model::embedded)
}

/// The whole core with the embedded model and default options, built once.
pub fn enricher() -> &'static Enricher {
    static ENRICHER: OnceLock<Enricher> = OnceLock::new();
    ENRICHER.get_or_init(|| Enricher::with_embedded_model(EnrichOptions::default()))
}

/// Separates the fields of a stage-level story in fuzzer text (ASCII record separator).
pub const FIELD_SEPARATOR: char = '\u{1e}';

/// A story as the parse stage hands it on, built straight from fuzzer text, so the quote
/// and entity stages are fuzzed without the parser's clean-up in front of them:
/// `body \x1e headline \x1e caption \x1e caption ...`. The body's paragraphs are its
/// `"\n\n"`-separated pieces, trimmed, empty ones dropped (what every parser guarantees).
pub fn story_from_text(text: &str) -> Story {
    let mut fields = text.split(FIELD_SEPARATOR);
    let body = fields.next().unwrap_or("");
    let paragraphs: Vec<&str> = body
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let mut story = Story::from_paragraphs(Format::Text, &paragraphs);
    story.headline = fields
        .next()
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(str::to_owned);
    story.media = fields
        .map(|caption| Media {
            caption: Some(caption.to_owned()),
            credit: None,
        })
        .collect();
    story
}

/// The parse stage's promises: a non-blank body; paragraphs non-empty, in bounds, on char
/// boundaries, in order, with only whitespace between, before and after them.
pub fn check_story(story: &Story) {
    let body = &story.body;
    assert!(!body.trim().is_empty(), "a parsed story has a blank body");
    assert!(
        !story.paragraphs.is_empty(),
        "a parsed story has no paragraphs"
    );
    let mut previous_end = 0;
    for (i, p) in story.paragraphs.iter().enumerate() {
        assert!(
            p.start < p.end && p.end <= body.len(),
            "paragraph {i}: span {}..{} out of bounds (body is {} bytes)",
            p.start,
            p.end,
            body.len()
        );
        assert!(
            body.is_char_boundary(p.start) && body.is_char_boundary(p.end),
            "paragraph {i}: span {}..{} is not on char boundaries",
            p.start,
            p.end
        );
        assert!(
            p.start >= previous_end,
            "paragraph {i} starts at {} before the previous one ends at {previous_end}",
            p.start
        );
        assert!(
            body[previous_end..p.start].chars().all(char::is_whitespace),
            "paragraph {i}: text before it belongs to no paragraph"
        );
        previous_end = p.end;
    }
    assert!(
        body[previous_end..].chars().all(char::is_whitespace),
        "text after the last paragraph belongs to no paragraph"
    );
    check_story_values(story);
}

/// `RECORD.md` on the parsed facts: absent ones are `None`, never `""`; `language` is an
/// ISO 639-1 code; `published` is RFC 3339. (`id` is not checked: `story_id` skips a
/// blank one.)
fn check_story_values(story: &Story) {
    let dateline = story.dateline.as_ref();
    let optional = [
        ("headline", story.headline.as_deref()),
        ("section", story.section.as_deref()),
        ("published", story.published.as_deref()),
        ("language", story.language.as_deref()),
        ("byline.agency", story.byline.agency.as_deref()),
        (
            "dateline.location",
            dateline.and_then(|d| d.location.as_deref()),
        ),
        ("dateline.date", dateline.and_then(|d| d.date.as_deref())),
        (
            "dateline.agency",
            dateline.and_then(|d| d.agency.as_deref()),
        ),
    ];
    for (name, value) in optional {
        assert!(value != Some(""), "{name} is \"\" (absent facts are None)");
    }
    for (i, author) in story.byline.authors.iter().enumerate() {
        assert!(!author.is_empty(), "byline.authors[{i}] is \"\"");
    }
    for (i, m) in story.media.iter().enumerate() {
        assert!(
            m.caption.as_deref() != Some(""),
            "media[{i}].caption is \"\""
        );
        assert!(m.credit.as_deref() != Some(""), "media[{i}].credit is \"\"");
    }
    if let Some(lang) = &story.language {
        check_language(lang);
    }
    if let Some(published) = &story.published {
        check_published(published);
    }
}

/// An ISO 639-1 code: two lower-case ASCII letters.
fn check_language(lang: &str) {
    assert!(
        lang.len() == 2 && lang.bytes().all(|b| b.is_ascii_lowercase()),
        "language {lang:?} is not an ISO 639-1 code"
    );
}

/// RFC 3339: a full date (no time was written), a date-time with an offset, or (a time
/// the story gave without a zone) a date-time without one.
fn check_published(published: &str) {
    let full_date = published.len() == 10 && published.parse::<jiff::civil::Date>().is_ok();
    let with_offset = full_date || published.parse::<jiff::Timestamp>().is_ok();
    let without_offset = published.contains('T')
        && !published.ends_with(['Z', 'z'])
        && published.parse::<jiff::civil::DateTime>().is_ok();
    assert!(
        with_offset || without_offset,
        "published {published:?} is not RFC 3339"
    );
}

/// The story's format is one the parser of `kind` can produce.
pub fn check_format(story: &Story, kind: Sniffed) {
    let ok = match kind {
        // A JSON-looking text dump falls back to the text parser.
        Sniffed::Json => matches!(
            story.format,
            Format::Json | Format::Ninjs | Format::Text | Format::Wire
        ),
        Sniffed::Text => matches!(story.format, Format::Text | Format::Wire),
        Sniffed::Html => story.format == Format::Html,
        Sniffed::Xml => story.format == Format::Newsml,
    };
    assert!(ok, "{kind:?} parser produced format {:?}", story.format);
}

/// The text a core (byte-offset) span names, checked to be in bounds and on char boundaries.
fn byte_slice<'a>(what: &str, field: &'a str, start: usize, end: usize) -> &'a str {
    match field.get(start..end) {
        Some(s) => s,
        None => panic!(
            "{what}: byte span {start}..{end} is not a slice of its field ({} bytes)",
            field.len()
        ),
    }
}

/// The field a core span points into.
fn story_field<'a>(
    what: &str,
    story: &'a Story,
    field: Option<Field>,
    media_index: Option<usize>,
) -> &'a str {
    let text = story.field_text(field, media_index);
    text.unwrap_or_else(|| panic!("{what}: points into a missing field {field:?}/{media_index:?}"))
}

/// Quote spans (byte offsets, inside the core): `field[start..end] == text` for every quote
/// and speaker mention.
pub fn check_quotes(story: &Story, quotes: &[Quote]) {
    for (i, q) in quotes.iter().enumerate() {
        let what = format!("quote {i}");
        let field = story_field(&what, story, q.field, None);
        let slice = byte_slice(&what, field, q.start, q.end);
        assert_eq!(
            slice, q.text,
            "{what}: field[start..end] differs from its text"
        );
        if let Some(m) = &q.speaker_mention {
            let what = format!("quote {i} speaker mention");
            let field = story_field(&what, story, m.field, m.media_index);
            let slice = byte_slice(&what, field, m.start, m.end);
            assert_eq!(
                slice, m.text,
                "{what}: field[start..end] differs from its text"
            );
        }
    }
}

/// Entity invariants (byte offsets): mentions slice their field exactly, ids are unique,
/// salience is a number in 0..=1, and every quote's `speaker_entity` names an entity.
pub fn check_entities(story: &Story, entities: &[Entity], quotes: &[Quote]) {
    let mut ids = HashSet::new();
    for (i, e) in entities.iter().enumerate() {
        assert!(
            ids.insert(e.id.as_str()),
            "entity {i}: duplicate id {}",
            e.id
        );
        assert!(!e.mentions.is_empty(), "entity {i} has no mentions");
        assert!(
            (0.0..=1.0).contains(&e.salience),
            "entity {i}: salience {} is not in 0..=1",
            e.salience
        );
        for (j, m) in e.mentions.iter().enumerate() {
            let what = format!("entity {i} mention {j}");
            let field = story_field(&what, story, m.field, m.media_index);
            let slice = byte_slice(&what, field, m.start, m.end);
            assert_eq!(
                slice, m.text,
                "{what}: field[start..end] differs from its text"
            );
        }
    }
    for (i, q) in quotes.iter().enumerate() {
        if let Some(id) = &q.speaker_entity {
            assert!(
                ids.contains(id.as_str()),
                "quote {i}: speaker_entity {id} is no entity"
            );
        }
    }
}

/// The published record: every span holds in code points, it serialises to JSON, and the
/// JSON reads back as a record (so no NaN salience, no unknown field).
pub fn check_record(record: &EnrichedRecord) {
    let body: Vec<char> = record.body.chars().collect();
    // Each field's code points are counted once: a field may be long (an envelope or ninjs
    // headline has no length limit; before session 13 an unclosed HTML title made a whole
    // page the headline) and hold hundreds of mentions, and counting per mention made this
    // check quadratic (scaling.py flagged it; the core was linear).
    let mut fields: HashMap<(Field, Option<usize>), Vec<char>> = HashMap::new();
    let mut check =
        |what: &str, field: Option<Field>, media_index: Option<usize>, start, end, text: &str| {
            let chars: &[char] = match field {
                None => &body,
                Some(f) => fields.entry((f, media_index)).or_insert_with(|| {
                    record
                        .field_text(field, media_index)
                        .unwrap_or_else(|| panic!("{what}: no {field:?} {media_index:?}"))
                        .chars()
                        .collect()
                }),
            };
            assert!(
                start <= end && end <= chars.len(),
                "{what}: code point span {start}..{end} out of bounds ({})",
                chars.len()
            );
            let slice: String = chars[start..end].iter().collect();
            assert_eq!(
                slice, text,
                "{what}: field[start:end] differs from its text (code points)"
            );
        };
    for (i, q) in record.quotes.iter().enumerate() {
        check(
            &format!("/quotes/{i}"),
            q.field,
            None,
            q.start,
            q.end,
            &q.text,
        );
        if let Some(m) = &q.speaker_mention {
            let what = format!("/quotes/{i}/speaker_mention");
            check(&what, m.field, m.media_index, m.start, m.end, &m.text);
        }
    }
    for (i, e) in record.entities.iter().enumerate() {
        for (j, m) in e.mentions.iter().enumerate() {
            let what = format!("/entities/{i}/mentions/{j}");
            check(&what, m.field, m.media_index, m.start, m.end, &m.text);
        }
    }
    let mut previous_end = 0;
    for (i, p) in record.paragraphs.iter().enumerate() {
        assert!(
            p.start < p.end && p.end <= body.len() && p.start >= previous_end,
            "/paragraphs/{i}: bad span {}..{} (body {} code points)",
            p.start,
            p.end,
            body.len()
        );
        previous_end = p.end;
    }
    check_contract_values(record);
    let json = serde_json::to_string(record).expect("the record serialises to JSON");
    let back: Result<EnrichedRecord, _> = serde_json::from_str(&json);
    assert!(
        back.is_ok(),
        "the record's JSON does not read back: {:?}",
        back.err()
    );
    let value: serde_json::Value = serde_json::from_str(&json).expect("the record's JSON parses");
    check_no_empty_strings("", &value);
}

/// `RECORD.md` conventions on values: `language` is an ISO 639-1 code, `published` is
/// RFC 3339 (with or without an offset), entity ids are unique, every `speaker_entity`
/// names one, salience is in 0..=1.
fn check_contract_values(record: &EnrichedRecord) {
    if let Some(lang) = &record.language {
        check_language(lang);
    }
    if let Some(published) = &record.published {
        check_published(published);
    }
    let mut ids = HashSet::new();
    for e in &record.entities {
        assert!(ids.insert(e.id.as_str()), "duplicate entity id {}", e.id);
        assert!(
            (0.0..=1.0).contains(&e.salience),
            "entity {}: salience {} not in 0..=1",
            e.id,
            e.salience
        );
    }
    for (i, q) in record.quotes.iter().enumerate() {
        if let Some(id) = &q.speaker_entity {
            assert!(
                ids.contains(id.as_str()),
                "/quotes/{i}: speaker_entity {id} is no entity"
            );
        }
    }
}

/// `RECORD.md`: "Absent facts are `null` or `[]`, never `\"\"`", anywhere in the record.
fn check_no_empty_strings(path: &str, value: &serde_json::Value) {
    match value {
        serde_json::Value::String(s) => {
            assert!(!s.is_empty(), "{path} is \"\" (absent facts are null)")
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                check_no_empty_strings(&format!("{path}/{i}"), v);
            }
        }
        serde_json::Value::Object(fields) => {
            for (k, v) in fields {
                check_no_empty_strings(&format!("{path}/{k}"), v);
            }
        }
        _ => {}
    }
}
