//! Hostile input (issue 8): stories built to hurt a parser — huge paragraphs, floods of
//! quotation marks, HTML nested 100,000 deep, XML entity bombs and external entities, JSON
//! nested 10,000 deep, broken encodings and control characters, megabyte tokens — run
//! through the real core (`Enricher::enrich`).
//!
//! Each one must end as a record whose spans hold (`field[start:end] == text` in code
//! points) or as a clear [`ParseError`] kind; never a panic, a stack overflow, a stall or
//! unbounded memory. Time is checked against a benign input of the same size measured in
//! the same test (`< 20 x benign + 2 s`), never against an absolute figure; memory against
//! a generous multiple of the input size (a per-thread counting allocator).
//!
//! Must not: read `../shared`, depend on the machine's speed beyond those ratios, or
//! fetch anything (the external-entity case checks that nothing is read).

#[path = "golden_support/mod.rs"]
mod golden_support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use wire_enricher::enrich::record::{EnrichedRecord, Format, SourceInfo};
use wire_enricher::enrich::{EnrichOptions, Enricher, ParseError, RawStory};

// ---------------------------------------------------------------------------------------
// Harness: a per-thread counting allocator, a watchdog thread, benign baselines.
// ---------------------------------------------------------------------------------------

/// Counts live and peak heap bytes per thread, so a test can bound the memory its own
/// enrichment thread used while other tests run in parallel.
struct CountingAlloc;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn note_alloc(size: usize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get() + size as isize;
        live.set(now);
        let _ = PEAK.try_with(|peak| {
            if now > peak.get() {
                peak.set(now);
            }
        });
    });
}

fn note_free(size: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get() - size as isize));
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counters are
// const-initialised thread locals that never allocate.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_alloc(layout.size());
        // SAFETY: same layout, forwarded.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note_free(layout.size());
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_free(layout.size());
        note_alloc(new_size);
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// The stack a pipeline worker thread gets (tokio's blocking pool default): deep
/// recursion must not overflow it.
const WORKER_STACK: usize = 2 << 20;
/// A run that takes longer than this is a stall, whatever the machine.
const STALL: Duration = Duration::from_secs(600);

fn enricher() -> &'static Enricher {
    static ENRICHER: OnceLock<Enricher> = OnceLock::new();
    ENRICHER.get_or_init(|| {
        Enricher::with_embedded_model(EnrichOptions {
            max_story_bytes: 16 << 20,
        })
    })
}

/// What one enrichment did.
struct Run {
    result: Result<EnrichedRecord, ParseError>,
    elapsed: Duration,
    peak_heap: usize,
}

/// Enriches `bytes` on a fresh thread with a worker-sized stack, failing the test on a
/// panic (a stack overflow aborts the whole binary, which fails it too) or a stall.
fn enrich(label: &str, bytes: Vec<u8>) -> Run {
    let (tx, rx) = mpsc::channel();
    let len = bytes.len();
    let name = format!("enrich-{label}");
    let handle = std::thread::Builder::new()
        .name(name)
        .stack_size(WORKER_STACK)
        .spawn(move || {
            let enricher = enricher();
            LIVE.with(|l| l.set(0));
            PEAK.with(|p| p.set(0));
            let raw = RawStory {
                bytes: &bytes,
                message_id: Some("adversarial"),
                content_type: None,
                reference_date: None,
            };
            let source = SourceInfo {
                subject: "adversarial".to_owned(),
                stream: None,
                stream_sequence: None,
                format: Format::Text,
                received_at: golden_support::RECEIVED_AT.to_owned(),
            };
            let start = Instant::now();
            let result = enricher.enrich(&raw, source);
            let elapsed = start.elapsed();
            let peak_heap = PEAK.with(Cell::get).max(0) as usize;
            let _ = tx.send(Run {
                result,
                elapsed,
                peak_heap,
            });
        })
        .expect("spawn the enrichment thread");
    match rx.recv_timeout(STALL) {
        Ok(run) => {
            handle.join().expect("enrichment thread ends");
            eprintln!(
                "{label}: {} bytes in {:?}, peak heap {} MB, {}",
                len,
                run.elapsed,
                run.peak_heap >> 20,
                match &run.result {
                    Ok(r) => format!("record, body {} chars", r.body.chars().count()),
                    Err(e) => format!("error {}", e.kind()),
                }
            );
            run
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Err(panic) => panic!("{label}: enrichment panicked: {panic:?}"),
            Ok(()) => panic!("{label}: enrichment thread ended without a result"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{label}: enrichment stalled for more than {STALL:?}")
        }
    }
}

/// Plain news prose of about `len` bytes, in paragraphs of a few sentences: the benign
/// twin every hostile input's time is compared with.
fn benign_prose(len: usize) -> String {
    const SENTENCES: [&str; 6] = [
        "The finance minister said on Tuesday that talks in Geneva would resume next week.",
        "Officials in Brussels declined to comment on the proposal before the summit.",
        "Shares of the company fell 3 percent in early trading in New York.",
        "Opposition leaders called for an inquiry into the contract, according to a statement.",
        "The central bank left interest rates unchanged for a third month.",
        "Rescue teams reached the village late on Monday after heavy rain closed the road.",
    ];
    let mut out = String::with_capacity(len + 128);
    let mut i = 0;
    while out.len() < len {
        out.push_str(SENTENCES[i % SENTENCES.len()]);
        i += 1;
        out.push_str(if i % 5 == 0 { "\n\n" } else { " " });
    }
    out
}

/// The same prose as one paragraph (no blank lines).
fn one_paragraph(len: usize) -> String {
    benign_prose(len).replace("\n\n", " ")
}

/// What a benign input of the same size costs: the baseline of the ratio checks.
#[derive(Debug, Clone, Copy)]
struct Baseline {
    elapsed: Duration,
    peak_heap: usize,
}

fn baseline(label: &str, bytes: Vec<u8>) -> Baseline {
    let run = enrich(label, bytes);
    assert!(run.result.is_ok(), "{label}: the benign input must enrich");
    Baseline {
        elapsed: run.elapsed,
        peak_heap: run.peak_heap,
    }
}

/// The baseline for `len` bytes of plain prose.
fn benign_time(len: usize) -> Baseline {
    baseline("benign", benign_prose(len).into_bytes())
}

/// Hostile time within `20 x benign + 2 s`: linear, with room for a loaded machine.
fn assert_linear(label: &str, hostile: Duration, benign: Duration) {
    let bound = benign * 20 + Duration::from_secs(2);
    assert!(
        hostile < bound,
        "{label}: took {hostile:?}, over 20 x the benign {benign:?} + 2 s: super-linear?"
    );
}

/// Heap at most `4 x` the benign input's peak `+ 64 MB`: memory stays linear in the input.
fn assert_bounded_memory(label: &str, run: &Run, benign: &Baseline) {
    let bound = benign.peak_heap * 4 + (64 << 20);
    assert!(
        run.peak_heap < bound,
        "{label}: peak heap {} MB, benign {} MB",
        run.peak_heap >> 20,
        benign.peak_heap >> 20
    );
}

/// The record, with every span invariant checked.
fn assert_record<'a>(label: &str, run: &'a Run) -> &'a EnrichedRecord {
    let record = match &run.result {
        Ok(record) => record,
        Err(e) => panic!("{label}: expected a record, got {}: {e}", e.kind()),
    };
    assert_spans(label, record);
    record
}

fn assert_spans(label: &str, record: &EnrichedRecord) {
    // Quote and mention spans exactly as the golden tests check them; paragraphs by
    // `paragraph_problems` below, since an envelope body is kept byte for byte (its blank
    // lines and edges may hold more whitespace than one "\n\n").
    let mut problems: Vec<String> = golden_support::span_problems(record)
        .into_iter()
        .filter(|p| !p.starts_with("/paragraphs"))
        .collect();
    problems.extend(paragraph_problems(record));
    assert!(
        problems.is_empty(),
        "{label}: span invariants broken:\n{}",
        problems.join("\n")
    );
}

/// Paragraphs in bounds, non-empty, in order, and only whitespace between and around them.
fn paragraph_problems(record: &EnrichedRecord) -> Vec<String> {
    let body: Vec<char> = record.body.chars().collect();
    let mut problems = Vec::new();
    let mut previous_end = 0;
    for (i, p) in record.paragraphs.iter().enumerate() {
        if p.start >= p.end || p.end > body.len() || p.start < previous_end {
            problems.push(format!("/paragraphs/{i}: bad span {}..{}", p.start, p.end));
            continue;
        }
        if !body[previous_end..p.start]
            .iter()
            .all(|c| c.is_whitespace())
        {
            problems.push(format!(
                "/paragraphs/{i}: text before it is in no paragraph"
            ));
        }
        previous_end = p.end;
    }
    if !body[previous_end.min(body.len())..]
        .iter()
        .all(|c| c.is_whitespace())
    {
        problems.push("/paragraphs: text after the last paragraph".to_owned());
    }
    problems
}

/// Either a record whose spans hold, or one of the `allowed` error kinds.
fn assert_record_or(label: &str, run: &Run, allowed: &[&str]) {
    match &run.result {
        Ok(record) => assert_spans(label, record),
        Err(e) => assert!(
            allowed.contains(&e.kind()),
            "{label}: error {} ({e}) is not one of {allowed:?}",
            e.kind()
        ),
    }
}

fn assert_error(label: &str, run: &Run, kind: &str) {
    match &run.result {
        Ok(record) => panic!(
            "{label}: expected error {kind}, got a record with body {:?}",
            record.body.chars().take(80).collect::<String>()
        ),
        Err(e) => assert_eq!(e.kind(), kind, "{label}: {e}"),
    }
}

/// Runs a hostile input, checks time and memory, returns the run for outcome checks.
fn hostile(label: &str, bytes: Vec<u8>, benign: Baseline) -> Run {
    let run = enrich(label, bytes);
    assert_linear(label, run.elapsed, benign.elapsed);
    assert_bounded_memory(label, &run, &benign);
    run
}

fn envelope(body: &str) -> Vec<u8> {
    serde_json::json!({"id": "hostile-1", "headline": "A hostile story", "body": body})
        .to_string()
        .into_bytes()
}

// ---------------------------------------------------------------------------------------
// A 5 MB single paragraph.
// ---------------------------------------------------------------------------------------

/// 5 MB as the issue asks; 1 MB in debug builds, where the 5 MB story alone takes ~33 s
/// (and the test runs it three times). The property (one paragraph, linear time) is the
/// same at either size; `cargo test --release --test adversarial` runs the full 5 MB.
const PROSE_BYTES: usize = if cfg!(debug_assertions) {
    1 << 20
} else {
    5 << 20
};

#[test]
fn five_megabyte_single_paragraph() {
    let benign = benign_time(PROSE_BYTES);
    let text = one_paragraph(PROSE_BYTES);
    let run = hostile("long paragraph", text.clone().into_bytes(), benign);
    let record = assert_record("long paragraph", &run);
    assert_eq!(record.paragraphs.len(), 1, "one paragraph in, one out");
    assert!(record.body.len() > PROSE_BYTES / 2, "the body is kept");

    let run = hostile("long paragraph in envelope", envelope(&text), benign);
    let record = assert_record("long paragraph in envelope", &run);
    assert_eq!(record.body, text, "an envelope body is kept byte for byte");
}

// ---------------------------------------------------------------------------------------
// 100,000 quotation marks.
// ---------------------------------------------------------------------------------------

const MARKS: usize = 100_000;

fn quote_flood(marks: &[&str]) -> String {
    let mut out = String::from("Quote storm\n\n");
    for i in 0..MARKS {
        out.push_str(marks[i % marks.len()]);
        out.push_str(if i % 7 == 0 { "Smith said " } else { "word " });
        if i % 400 == 399 {
            out.push_str("\n\n");
        }
    }
    out
}

#[test]
fn hundred_thousand_quotation_marks() {
    const MIXED: &[&str] = &[
        "\"", "\u{201C}", "'", "\u{2018}", "\u{00AB}", "\u{201D}", "\u{2019}", "\u{00BB}",
        "\u{201E}",
    ];
    // Paragraphs of 400 marks each, and all 100,000 in one paragraph (what a matcher
    // quadratic per paragraph would pay for).
    let cases: [(&str, &[&str]); 7] = [
        ("straight", &["\""]),
        ("curly balanced", &["\u{201C}", "\u{201D}"]),
        ("curly openers only", &["\u{201C}"]),
        ("mixed", MIXED),
        ("straight, one paragraph", &["\" "]),
        ("curly openers only, one paragraph", &["\u{201C}"]),
        ("mixed, one paragraph", MIXED),
    ];
    let texts: Vec<(&str, String)> = cases
        .iter()
        .map(|(label, marks)| {
            let mut t = quote_flood(marks);
            if label.ends_with("one paragraph") {
                t = t.replace("\n\n", " ");
                t.insert_str(0, "Unbalanced \"");
            }
            (*label, t)
        })
        .collect();
    let longest = texts.iter().map(|(_, t)| t.len()).max().unwrap_or(0);
    let benign = benign_time(longest);
    for (label, text) in texts {
        let label = format!("quotes: {label}");
        let run = hostile(&label, text.into_bytes(), benign);
        assert_record(&label, &run);
    }
}

/// Session 15's repeated-unit hunt (`fuzz/patterns.py` and reading the quote stage) found
/// three quote shapes far from linear that the marks above do not reach (release binary,
/// at about 1 MB): uncued quotes after which the text opens its own clause each walked
/// back over every earlier quote of their paragraph (49 s); each headline quote searched
/// every attributed body quote, lowercasing it anew, and a feed's headline field has no
/// length limit (43 s); and a speaker phrase of one 60 KB "word" was copied to every quote
/// sharing it (over 1 GB of heap at 120 KB, out of memory at 250 KB).
#[test]
fn quote_attribution_stays_linear_on_repeated_shapes() {
    const SIZE: usize = 500_000;
    let uncued = "\"Go home.\" That said it. ".repeat(SIZE / 25);
    let headline = (0..SIZE / 14)
        .map(|i| format!("\"zq{i}\" "))
        .collect::<String>();
    let repeated = serde_json::json!({
        "id": "hostile-headline-quotes",
        "headline": headline,
        "body": "\"We go home now,\" said Ann Lee. ".repeat(SIZE / 32),
    })
    .to_string();
    let cases = [
        (
            "uncued quotes opening clauses, one paragraph",
            uncued.into_bytes(),
        ),
        (
            "headline quotes x attributed body quotes",
            repeated.into_bytes(),
        ),
    ];
    let longest = cases.iter().map(|(_, b)| b.len()).max().unwrap_or(0);
    let benign = benign_time(longest);
    for (label, bytes) in cases {
        let label = format!("quotes: {label}");
        let run = hostile(&label, bytes, benign);
        let record = assert_record(&label, &run);
        assert!(
            record.quotes.len() > 10_000,
            "{label}: {} quotes",
            record.quotes.len()
        );
    }

    // Memory: a 60 KB speaker phrase before the first of 3,000 quotes.
    let speaker = format!("X{}", "a".repeat(60_000));
    let story = format!(
        "Talks\n\n{speaker} said: \"We go home now.\" {}\n",
        "\"We go home now.\" ".repeat(3_000)
    );
    let benign = benign_time(story.len());
    let label = "quotes: a 60 KB speaker phrase shared by 3,000 quotes";
    let run = hostile(label, story.into_bytes(), benign);
    let record = assert_record(label, &run);
    assert!(
        record
            .quotes
            .iter()
            .all(|q| q.speaker.as_ref().is_none_or(|s| s.len() <= 160)),
        "{label}: an overlong speaker was kept"
    );
}

// ---------------------------------------------------------------------------------------
// HTML nested 100,000 deep.
// ---------------------------------------------------------------------------------------

const DEPTH: usize = 100_000;

fn html_page(inner: &str) -> String {
    format!("<!DOCTYPE html><html><head><title>Deep page</title></head><body>{inner}</body></html>")
}

#[test]
fn html_nested_hundred_thousand_deep() {
    let story = "<p>The minister said on Tuesday that talks in Geneva would resume.</p>";
    // The story inside `DEPTH` nested divs, between `before` and `after`.
    let nested = |before: &str, after: &str| {
        html_page(&format!(
            "{before}{}{story}{}{after}",
            "<div>".repeat(DEPTH),
            "</div>".repeat(DEPTH)
        ))
    };
    let divs = nested("", "");
    let unclosed_divs = html_page(&format!("{story}{}", "<div>".repeat(DEPTH)));
    let soup = html_page(&format!(
        "{story}{}<p>tail text</p>",
        "<b><i>x".repeat(DEPTH / 2)
    ));
    let spans = html_page(&format!("{story}{}", "<span>y ".repeat(DEPTH)));
    // Where a raw-text tag does not make what follows text (the parser ignores `<style>`
    // inside `<select>`; in SVG, `<title>` is a foreign element), the nesting after it is
    // markup: the pre-scan must cap it there too (it took ~28 s in release when the scan
    // stopped at the unclosed `<style>` or stepped over the title's content).
    let behind_select_style = nested("<select><style></select>", "");
    let inside_svg_title = nested("<svg><title>", "</title>");
    // `/>` closes nothing in HTML: this nests as deep as `<div>` does.
    let self_closed_divs = html_page(&format!("{story}{}", "<div/>".repeat(DEPTH)));
    // Formatting left open between paragraphs, told apart by their ids: the parser re-opens
    // every one before each later insert (1.8 GB of nodes for this page before the
    // pre-scan capped open formatting).
    let open_formatting = html_page(&format!(
        "{story}{}",
        (0..DEPTH / 3)
            .map(|i| format!("<b id={i}>x<p>y"))
            .collect::<String>()
    ));
    // End tags the parser ignores (a `</span>` cannot close past a `<div>`; `</b>` cannot
    // reach a `b` behind an `<object>`), and `<td>` nesting in SVG: 30 s to over 120 s, and
    // 4.6 GB, at under 1 MB while the pre-scan counted every end tag.
    let ignored_ends = html_page(&format!("{story}{}", "<div></span>".repeat(DEPTH)));
    let cells_in_svg = html_page(&format!("{story}<svg>{}", "<td>".repeat(DEPTH)));
    let formatting_behind_markers = html_page(&format!(
        "{story}{}",
        (0..DEPTH / 10)
            .map(|i| format!("<b id={i}>x<p>y<object></b></object>"))
            .collect::<String>()
    ));
    let longest = [
        &ignored_ends,
        &cells_in_svg,
        &formatting_behind_markers,
        &divs,
        &unclosed_divs,
        &soup,
        &spans,
        &behind_select_style,
        &inside_svg_title,
        &self_closed_divs,
        &open_formatting,
    ]
    .iter()
    .map(|s| s.len())
    .max()
    .unwrap_or(0);
    // The baseline is the same markup laid flat (`<div>x</div>` side by side, as many tags
    // and bytes): depth, not size, is what a quadratic tree builder pays for. Before
    // the pre-scan capped the depth (`parse::prescan`), the 100k-deep page took 52 s in debug
    // against ~0.1 s for this.
    let mut flat = String::from(story);
    while flat.len() < longest {
        flat.push_str("<div>x</div>");
    }
    let benign = Baseline {
        elapsed: enrich("flat html", html_page(&flat).into_bytes()).elapsed,
        // Heap: compare with a prose page of the same size, which keeps its text.
        peak_heap: baseline(
            "benign html",
            html_page(
                &benign_prose(longest)
                    .split("\n\n")
                    .map(|p| format!("<p>{p}</p>"))
                    .collect::<String>(),
            )
            .into_bytes(),
        )
        .peak_heap,
    };
    for (label, page) in [
        ("html: <div> x100k", divs),
        ("html: unclosed <div> x100k", unclosed_divs),
        ("html: <b><i> soup", soup),
        ("html: unclosed <span> x100k", spans),
        (
            "html: <div> x100k after <select><style>",
            behind_select_style,
        ),
        ("html: <div> x100k in <svg><title>", inside_svg_title),
        ("html: <div/> x100k", self_closed_divs),
        ("html: <b id=N> left open x33k", open_formatting),
        ("html: <div></span> x100k", ignored_ends),
        ("html: <td> x100k in <svg>", cells_in_svg),
        (
            "html: <b id=N> behind <object> x10k",
            formatting_behind_markers,
        ),
    ] {
        let run = hostile(label, page.into_bytes(), benign);
        assert_record_or(label, &run, &["malformed_html", "no_body"]);
    }
}

/// [`assert_record`], with its span checks timed against the benign baseline: counted per
/// mention, they were quadratic in a long field's mentions (session 12).
fn assert_record_in_linear_time<'a>(
    label: &str,
    run: &'a Run,
    benign: Baseline,
) -> &'a EnrichedRecord {
    let start = Instant::now();
    let record = assert_record(label, run);
    assert_linear(
        &format!("{label} (span checks)"),
        start.elapsed(),
        benign.elapsed,
    );
    record
}

/// An unclosed `<title>` holds the rest of the page (HTML's title is raw text to its end
/// tag); after an unknown element has opened the body, that text is the body too. Found by
/// `fuzz/scaling.py` on an `enrich` fuzz input (session 12): the whole page became the
/// headline, with every entity mention in it twice, and the span checks counted the
/// headline's code points once per mention (quadratic). Since session 13 a title longer
/// than a headline can be is not taken as one; the page is still enriched in linear time.
#[test]
fn unclosed_title_is_not_taken_as_the_headline() {
    let prose = benign_prose(900_000);
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><heatle>Officials in Brussels said on \
         Tuesday that talks would resume.<title>{prose}"
    );
    let benign = benign_time(page.len());
    let label = "html: unclosed <title> over 900 KB";
    let run = hostile(label, page.into_bytes(), benign);
    let record = assert_record_in_linear_time(label, &run, benign);
    assert_eq!(
        record.headline, None,
        "{label}: the page text is no headline"
    );
    assert!(
        record.body.len() > 800_000,
        "{label}: body of {} bytes",
        record.body.len()
    );
    let mentions: usize = record.entities.iter().map(|e| e.mentions.len()).sum();
    assert!(mentions > 1_000, "{label}: {mentions} mentions");
}

/// A feed's own headline field has no length limit (it is the producer's metadata, kept as
/// given): a 900 KB envelope headline is enriched in linear time, with its mentions, and the
/// span checks, once quadratic in a long field's mentions (session 12), stay linear.
#[test]
fn envelope_headline_of_900_kb_is_enriched_in_linear_time() {
    let prose = benign_prose(900_000).replace("\n\n", " ");
    let story = serde_json::json!({
        "id": "hostile-headline",
        "headline": prose,
        "body": "Officials in Brussels said on Tuesday that talks would resume.",
    })
    .to_string();
    let benign = benign_time(story.len());
    let label = "json: envelope headline over 900 KB";
    let run = hostile(label, story.into_bytes(), benign);
    let record = assert_record_in_linear_time(label, &run, benign);
    let headline = record.headline.as_deref().map_or(0, str::len);
    let in_headline = record
        .entities
        .iter()
        .flat_map(|e| &e.mentions)
        .filter(|m| m.field == Some(wire_enricher::enrich::record::Field::Headline))
        .count();
    assert!(headline > 800_000, "{label}: headline of {headline} bytes");
    assert!(
        in_headline > 1_000,
        "{label}: {in_headline} headline mentions"
    );
}

// ---------------------------------------------------------------------------------------
// XML: billion laughs and external entities in NewsML-G2.
// ---------------------------------------------------------------------------------------

fn newsml(doctype: &str, body_text: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
{doctype}
<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="urn:newsml:example.com:20160908:hostile" version="1" standard="NewsML-G2" standardversion="2.25">
  <itemMeta><itemClass qcode="ninat:text"/><versionCreated>2016-09-08T10:20:00Z</versionCreated></itemMeta>
  <contentMeta><headline>Hostile entities</headline></contentMeta>
  <contentSet><inlineXML contenttype="application/xhtml+xml"><html xmlns="http://www.w3.org/1999/xhtml"><body>
    <p>The minister said on Tuesday that talks in Geneva would resume.</p>
    <p>{body_text}</p>
  </body></html></inlineXML></contentSet>
</newsItem>
"#
    )
}

#[test]
fn xml_billion_laughs_is_not_expanded() {
    let mut dtd = String::from("<!DOCTYPE newsItem [\n<!ENTITY lol \"lol\">\n");
    dtd.push_str("<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n");
    for i in 2..=9 {
        let prev = format!("&lol{};", i - 1);
        dtd.push_str(&format!("<!ENTITY lol{i} \"{}\">\n", prev.repeat(10)));
    }
    dtd.push(']');
    dtd.push('>');
    let doc = newsml(&dtd, "Laughing: &lol9;");
    let benign = baseline(
        "benign newsml",
        newsml("", "No entities here.").into_bytes(),
    );
    let run = hostile("xml: billion laughs", doc.into_bytes(), benign);
    assert_record_or("xml: billion laughs", &run, &["malformed_xml"]);
    if let Ok(record) = &run.result {
        assert!(
            !record.body.contains("lollol"),
            "entities were expanded: body is {} bytes",
            record.body.len()
        );
        assert!(record.body.len() < 10_000, "no expansion");
    }
}

#[test]
fn newsml_item_with_a_hundred_thousand_attributes() {
    // quick-xml's duplicate check compares each attribute with every earlier one: this
    // took 18 s in release before the reader turned the check off.
    let attributes: String = (0..100_000).map(|i| format!(" a{i}=\"\"")).collect();
    let doc =
        newsml("", "Attributes.").replacen("<newsItem ", &format!("<newsItem{attributes} "), 1);
    // The baseline carries the same bytes in a comment, which costs the reader little.
    let comment = format!("<!-- {} -->", "x".repeat(doc.len()));
    let benign = baseline(
        "benign newsml of the same size",
        newsml(&comment, "Attributes.").into_bytes(),
    );
    let run = hostile("xml: 100,000 attributes", doc.into_bytes(), benign);
    let record = assert_record("xml: 100,000 attributes", &run);
    assert!(
        record.body.contains("Geneva"),
        "the item is read: {}",
        record.body
    );
}

#[test]
fn xml_external_entity_is_not_read() {
    // A file whose content must never appear in a record.
    let dir = tempfile::tempdir().expect("temp dir");
    let secret_path = dir.path().join("secret.txt");
    std::fs::write(&secret_path, "TOPSECRETCANARY").expect("write canary");
    let url = format!("file://{}", secret_path.display());
    for (label, doctype, text) in [
        (
            "xml: SYSTEM entity",
            format!("<!DOCTYPE newsItem [<!ENTITY xxe SYSTEM \"{url}\">]>"),
            "Leak: &xxe;",
        ),
        (
            "xml: parameter entity",
            format!("<!DOCTYPE newsItem [<!ENTITY % ext SYSTEM \"{url}\"> %ext;]>"),
            "Nothing here.",
        ),
        (
            "xml: external DTD",
            format!("<!DOCTYPE newsItem SYSTEM \"{url}\">"),
            "Nothing here.",
        ),
        (
            "xml: network entity",
            "<!DOCTYPE newsItem [<!ENTITY net SYSTEM \"http://127.0.0.1:9/x\">]>".to_owned(),
            "Net: &net;",
        ),
    ] {
        let run = enrich(label, newsml(&doctype, text).into_bytes());
        assert!(run.elapsed < STALL);
        assert_record_or(label, &run, &["malformed_xml"]);
        if let Ok(record) = &run.result {
            let json = serde_json::to_string(record).expect("records serialise");
            assert!(
                !json.contains("TOPSECRETCANARY"),
                "{label}: the external entity was read"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// JSON nested 10,000 deep.
// ---------------------------------------------------------------------------------------

const JSON_DEPTH: usize = 10_000;

#[test]
fn json_nested_ten_thousand_deep() {
    let arrays = format!("{}{}", "[".repeat(JSON_DEPTH), "]".repeat(JSON_DEPTH));
    let objects = format!(
        "{}1{}",
        "{\"a\":".repeat(JSON_DEPTH),
        "}".repeat(JSON_DEPTH)
    );
    let in_envelope = format!(
        "{{\"id\":\"deep\",\"body\":\"Some text.\",\"extra\":{}1{}}}",
        "[".repeat(JSON_DEPTH),
        "]".repeat(JSON_DEPTH)
    );
    let in_ninjs_bodies = format!(
        "{{\"uri\":\"urn:deep\",\"type\":\"text\",\"headline\":\"Deep\",\"bodies\":[{{\"role\":\"main\",\"contenttype\":\"text/plain\",\"charcount\":{}1{}}}]}}",
        "[".repeat(JSON_DEPTH),
        "]".repeat(JSON_DEPTH)
    );
    let ninjs_body_html = serde_json::json!({
        "uri": "urn:deep-html",
        "type": "text",
        "headline": "Deep HTML",
        "body_html": format!("<p>The minister spoke.</p>{}<p>x</p>", "<div>".repeat(DEPTH)),
    })
    .to_string();
    let ninjs_bodies_html = serde_json::json!({
        "uri": "urn:deep-bodies",
        "type": "text",
        "headline": "Deep bodies",
        "bodies": [{"role": "main", "contenttype": "text/html",
                    "value": format!("<p>The minister spoke.</p>{}", "<b><i>".repeat(DEPTH / 2))}],
    })
    .to_string();
    let longest = ninjs_body_html.len().max(ninjs_bodies_html.len());
    let benign = benign_time(longest);
    for (label, doc) in [
        ("json: [ x10k", arrays),
        ("json: {\"a\": x10k", objects),
        ("json: envelope with a deep field", in_envelope),
        ("json: ninjs with deep bodies", in_ninjs_bodies),
        ("json: ninjs body_html <div> x100k", ninjs_body_html),
        ("json: ninjs bodies html soup", ninjs_bodies_html),
    ] {
        let run = hostile(label, doc.into_bytes(), benign);
        assert_record_or(label, &run, &["malformed_json", "not_a_story", "no_body"]);
    }
}

// ---------------------------------------------------------------------------------------
// Encodings and control characters.
// ---------------------------------------------------------------------------------------

#[test]
fn latin1_bytes_are_invalid_utf8() {
    let latin1: Vec<u8> = b"Caf\xe9 owner Jos\xe9 M\xfcller said the \xabdeal\xbb was done.\n\n"
        .iter()
        .copied()
        .cycle()
        .take(200_000)
        .collect();
    let run = enrich("latin-1", latin1);
    assert_error("latin-1", &run, "invalid_utf8");
    // Valid UTF-8 for most of the story, then one Latin-1 byte near the end.
    let mut late = benign_prose(100_000).into_bytes();
    late.extend_from_slice(b" caf\xe9");
    assert_error(
        "late latin-1",
        &enrich("late latin-1", late),
        "invalid_utf8",
    );
}

#[test]
fn utf16_payloads_are_rejected() {
    let text = benign_prose(20_000);
    let mut le = vec![0xFF, 0xFE];
    le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let mut be = vec![0xFE, 0xFF];
    be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
    let no_bom: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    for (label, bytes) in [
        ("utf-16le", le),
        ("utf-16be", be),
        ("utf-16le without BOM", no_bom),
    ] {
        let run = enrich(label, bytes);
        let kind = run.result.as_ref().err().map(ParseError::kind);
        assert!(
            matches!(kind, Some("invalid_utf8" | "binary")),
            "{label}: a UTF-16 payload must be rejected, got {kind:?}"
        );
    }
}

#[test]
fn control_characters_inside_valid_text() {
    let prose = benign_prose(200_000);
    let benign = baseline("benign 200k", prose.clone().into_bytes());
    let sprinkle = |insert: &[&str]| -> String {
        let mut out = String::with_capacity(prose.len() * 2);
        for (i, word) in prose.split(' ').enumerate() {
            out.push_str(word);
            out.push_str(insert[i % insert.len()]);
            out.push(' ');
        }
        out
    };
    let c0: Vec<String> = (1u8..0x20)
        .filter(|b| !matches!(b, b'\n' | b'\r'))
        .map(|b| char::from(b).to_string())
        .collect();
    let c1: Vec<String> = (0x80u32..0xA0)
        .filter_map(char::from_u32)
        .map(String::from)
        .collect();
    let c0: Vec<&str> = c0.iter().map(String::as_str).collect();
    let c1: Vec<&str> = c1.iter().map(String::as_str).collect();
    let nul_late = format!("{prose}\0\0 more text\0 after NULs.");
    let cases: Vec<(&str, String)> = vec![
        ("NUL in text", sprinkle(&["\0", "", ""])),
        ("NUL after the first 8 KB", nul_late),
        ("C0 controls", sprinkle(&c0)),
        ("C1 controls", sprinkle(&c1)),
        (
            "bidi and zero-width",
            sprinkle(&["\u{202E}", "\u{200B}", "\u{FEFF}", "\u{2028}", "\u{2029}"]),
        ),
        ("BOM", format!("\u{FEFF}{prose}")),
        ("two BOMs", format!("\u{FEFF}\u{FEFF}{prose}")),
        ("CRLF", prose.replace('\n', "\r\n")),
        ("lone CR", prose.replace('\n', "\r")),
        ("mixed line ends", prose.replace("\n\n", "\r\n\r\r\n")),
    ];
    for (label, text) in cases {
        let run = hostile(label, text.into_bytes(), benign);
        assert_record_or(label, &run, &["binary"]);
    }
    // The same cases as an envelope body (JSON escapes them as \u0000 etc.).
    for (label, text) in [
        ("envelope with NUL", sprinkle(&["\0", ""])),
        ("envelope with C0", sprinkle(&c0)),
        ("envelope with lone CR", prose.replace('\n', "\r")),
    ] {
        let run = hostile(label, envelope(&text), benign);
        assert_record_or(label, &run, &["binary"]);
    }
}

#[test]
fn bom_and_crlf_keep_the_story() {
    let prose = benign_prose(20_000);
    let plain = assert_record("plain", &enrich("plain", prose.clone().into_bytes())).clone();
    let bom = enrich("BOM", format!("\u{FEFF}{prose}").into_bytes());
    let bom = assert_record("BOM", &bom);
    assert_eq!(bom.body, plain.body, "a BOM changes nothing");
    let crlf = enrich("CRLF", prose.replace('\n', "\r\n").into_bytes());
    let crlf = assert_record("CRLF", &crlf);
    assert_eq!(
        crlf.paragraphs.len(),
        plain.paragraphs.len(),
        "CRLF blank lines still split paragraphs"
    );
}

// ---------------------------------------------------------------------------------------
// Long tokens, many paragraphs, punctuation only.
// ---------------------------------------------------------------------------------------

#[test]
fn megabyte_token_without_spaces() {
    const TOKEN: usize = 1 << 20;
    let benign = benign_time(TOKEN + 200);
    let letters: String = "abcdefghijklmnopqrstuvwxyz"
        .chars()
        .cycle()
        .take(TOKEN)
        .collect();
    let capitals: String = "Ab".repeat(TOKEN / 2);
    let url = format!("https://example.com/{}", "a/".repeat(TOKEN / 2));
    let accented: String = "é".repeat(TOKEN / 2);
    for (label, token) in [
        ("1 MB lowercase token", letters),
        ("1 MB mixed-case token", capitals),
        ("1 MB URL", url),
        ("1 MB two-byte token", accented),
    ] {
        let text = format!("Long token\n\nThe minister said {token} on Tuesday in Geneva.\n");
        let run = hostile(label, text.into_bytes(), benign);
        assert_record(label, &run);
    }
}

#[test]
fn two_hundred_thousand_one_word_paragraphs() {
    const PARAGRAPHS: usize = 200_000;
    let words = ["Geneva", "said", "Reuters", "the", "Obama", "\"Yes\""];
    let text: String = (0..PARAGRAPHS)
        .map(|i| words[i % words.len()])
        .collect::<Vec<_>>()
        .join("\n\n");
    let benign = benign_time(text.len());
    let run = hostile("200k paragraphs", text.clone().into_bytes(), benign);
    assert_record("200k paragraphs", &run);
    let run = hostile("200k paragraphs in envelope", envelope(&text), benign);
    let record = assert_record("200k paragraphs in envelope", &run);
    assert_eq!(record.paragraphs.len(), PARAGRAPHS);
}

#[test]
fn punctuation_only_story() {
    const LEN: usize = 1 << 20;
    let benign = benign_time(LEN);
    let punct: String = ".,;:!?-()[]{}/\\|@#$%^&*_+=~`<>\u{2014}\u{2026}"
        .chars()
        .cycle()
        .take(LEN)
        .collect();
    let spaced: String = ".,;:!?-\u{2014}\u{2026} "
        .chars()
        .cycle()
        .take(LEN)
        .collect();
    let dots_lines: String = "...\n".repeat(LEN / 4);
    for (label, text) in [
        ("punctuation", punct),
        ("spaced punctuation", spaced),
        ("lines of dots", dots_lines),
    ] {
        let run = hostile(label, text.into_bytes(), benign);
        assert_record_or(label, &run, &["no_body", "malformed_html", "binary"]);
    }
}

// ---------------------------------------------------------------------------------------
// Arbitrary input: no panic, spans hold.
// ---------------------------------------------------------------------------------------

fn check_arbitrary(bytes: &[u8]) {
    let raw = RawStory {
        bytes,
        message_id: None,
        content_type: None,
        reference_date: None,
    };
    let source = SourceInfo {
        subject: "proptest".to_owned(),
        stream: None,
        stream_sequence: None,
        format: Format::Text,
        received_at: golden_support::RECEIVED_AT.to_owned(),
    };
    if let Ok(record) = enricher().enrich(&raw, source) {
        assert_spans("arbitrary", &record);
    }
}

/// Fragments that make arbitrary strings look like stories, quotes and markup.
fn story_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\"".to_owned()),
        Just("\u{201C}".to_owned()),
        Just("\u{201D}".to_owned()),
        Just("'".to_owned()),
        Just("\n\n".to_owned()),
        Just("\r\n".to_owned()),
        Just(" said ".to_owned()),
        Just("John Kerry".to_owned()),
        Just("WASHINGTON (Reuters) - ".to_owned()),
        Just("<b>".to_owned()),
        Just("&amp;".to_owned()),
        any::<char>().prop_map(String::from),
        "[A-Za-z ,.]{0,12}",
    ];
    prop::collection::vec(piece, 0..60).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        check_arbitrary(&bytes);
    }

    #[test]
    fn arbitrary_text_never_panics(text in story_text()) {
        check_arbitrary(text.as_bytes());
    }

    #[test]
    fn arbitrary_envelope_never_panics(text in story_text(), headline in story_text()) {
        let json = serde_json::json!({"id": "p", "headline": headline, "body": text}).to_string();
        check_arbitrary(json.as_bytes());
    }

    #[test]
    fn arbitrary_html_never_panics(text in story_text(), tags in prop::collection::vec(
        prop_oneof![Just("<div>"), Just("</div>"), Just("<p>"), Just("</p>"), Just("<b>"),
                    Just("<i>"), Just("</b>"), Just("<script>"), Just("<figcaption>"),
                    Just("<h1>"), Just("<!--")], 0..20)) {
        let page = html_page(&format!("<p>{}</p>{}<p>{text}</p>", tags.concat(), text));
        check_arbitrary(page.as_bytes());
    }

    #[test]
    fn arbitrary_newsml_never_panics(text in story_text()) {
        let escaped = text.replace('&', "&amp;").replace('<', "&lt;");
        check_arbitrary(newsml("", &escaped).as_bytes());
        // Unescaped too: broken XML must be an error, not a panic.
        check_arbitrary(newsml("", &text).as_bytes());
    }
}
