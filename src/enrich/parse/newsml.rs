//! IPTC NewsML-G2 `newsItem` XML: `guid`, `itemMeta` (`versionCreated`, `firstCreated`),
//! `contentMeta` (`headline`, `dateline`, `by`, `located`, `language`, `subject`), and the
//! body from `contentSet` (`inlineXML` XHTML paragraphs or `inlineData` text).
//!
//! Parsed with quick-xml as a stream of events: DTDs are never read, so entity declarations
//! are not expanded (no billion-laughs); unknown entity references are kept as written.
//!
//! Must not: accept XML that is not well-formed or not a news item, or recurse on input.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::{byline, dates, furniture, lang, ninjs, normalize, ParseError};
use crate::enrich::record::{Dateline, Format};
use crate::enrich::story::Story;

/// Deepest element nesting accepted.
const MAX_DEPTH: usize = 256;

/// Fields gathered while streaming through the item.
#[derive(Debug, Default)]
struct Item {
    guid: Option<String>,
    version_created: Option<String>,
    first_created: Option<String>,
    headline: Option<String>,
    dateline: Option<String>,
    by: Vec<String>,
    located: Option<String>,
    language: Option<String>,
    section: Option<String>,
    paragraphs: Vec<String>,
    inline_data: Option<String>,
    seen_item: bool,
}

/// Where the text being read belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    None,
    VersionCreated,
    FirstCreated,
    Headline,
    Dateline,
    By,
    LocatedName,
    SubjectName,
    Paragraph,
    InlineData,
}

/// Parses a NewsML-G2 document.
pub(crate) fn parse(input: &str) -> Result<Story, ParseError> {
    let item = read_item(input)?;
    if !item.seen_item {
        return Err(ParseError::MalformedXml("no newsItem element".to_owned()));
    }
    build(item)
}

/// Local name of an element as a lower-case string.
fn local(e: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(e.local_name().as_ref()).to_ascii_lowercase()
}

/// The value of attribute `name` (local name), unescaped.
fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    // Without the duplicate check, which compares each attribute with every earlier one
    // (quadratic in a tag's attributes: 1 MB of them took 18 s); the first match wins.
    e.attributes().with_checks(false).flatten().find_map(|a| {
        let key = String::from_utf8_lossy(a.key.local_name().as_ref()).to_ascii_lowercase();
        (key == name)
            .then(|| a.unescape_value().map(|v| v.into_owned()).ok())
            .flatten()
    })
}

/// Streams through the document and collects the item's fields.
fn read_item(input: &str) -> Result<Item, ParseError> {
    let mut reader = Reader::from_str(input);
    reader.config_mut().check_end_names = true;
    let mut item = Item::default();
    let mut stack: Vec<String> = Vec::new();
    let mut target = Target::None;
    let mut buf = String::new();
    let mut in_body = false;
    loop {
        let event = reader.read_event().map_err(|e| {
            ParseError::MalformedXml(format!("at byte {}: {e}", reader.error_position()))
        })?;
        match event {
            Event::Start(e) => {
                let name = local(&e);
                on_open(&name, &e, &stack, &mut item, &mut in_body);
                let t = target_for(&name, &stack, in_body);
                if t != Target::None {
                    flush(&mut item, target, &mut buf);
                    target = t;
                }
                stack.push(name);
                if stack.len() > MAX_DEPTH {
                    return Err(ParseError::MalformedXml(
                        "elements nested too deeply".to_owned(),
                    ));
                }
            }
            Event::Empty(e) => {
                let name = local(&e);
                on_open(&name, &e, &stack, &mut item, &mut in_body);
                if name == "br" && target == Target::Paragraph {
                    buf.push(' ');
                }
            }
            Event::End(_) => {
                let name = stack.pop().unwrap_or_default();
                if closes(target, &name) {
                    flush(&mut item, target, &mut buf);
                    target = Target::None;
                }
                if name == "inlinexml" {
                    in_body = false;
                }
            }
            Event::Text(t) if target != Target::None => {
                let text = t
                    .decode()
                    .map_err(|e| ParseError::MalformedXml(e.to_string()))?;
                buf.push_str(&text);
            }
            Event::CData(t) if target != Target::None => {
                buf.push_str(&String::from_utf8_lossy(&t));
            }
            Event::GeneralRef(r) if target != Target::None => push_reference(&mut buf, &r),
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(ParseError::MalformedXml(format!(
            "truncated: <{}> is never closed",
            stack.join("><")
        )));
    }
    flush(&mut item, target, &mut buf);
    Ok(item)
}

/// Appends a character or entity reference: character references and the predefined and
/// common HTML entities are decoded; anything else is kept as written (never expanded).
fn push_reference(buf: &mut String, r: &quick_xml::events::BytesRef<'_>) {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        buf.push(c);
        return;
    }
    let name = String::from_utf8_lossy(r);
    let written = format!("&{name};");
    let decoded = normalize::decode_html_entities(&written);
    buf.push_str(&decoded);
}

/// Attributes read when an element opens.
fn on_open(name: &str, e: &BytesStart<'_>, stack: &[String], item: &mut Item, in_body: &mut bool) {
    match name {
        "newsitem" => {
            item.seen_item = true;
            item.guid = attr(e, "guid");
            if item.language.is_none() {
                item.language = attr(e, "lang");
            }
        }
        "language" if stack.last().is_some_and(|p| p == "contentmeta") => {
            item.language = attr(e, "tag").or(item.language.take());
        }
        "inlinexml" => *in_body = true,
        "html" | "body" if *in_body => {}
        _ => {}
    }
}

/// The text target an element starts.
fn target_for(name: &str, stack: &[String], in_body: bool) -> Target {
    let parent = stack.last().map(String::as_str).unwrap_or("");
    let in_content_meta = stack.iter().any(|s| s == "contentmeta");
    match name {
        "versioncreated" if parent == "itemmeta" => Target::VersionCreated,
        "firstcreated" if parent == "itemmeta" => Target::FirstCreated,
        "headline" if in_content_meta => Target::Headline,
        "dateline" if in_content_meta => Target::Dateline,
        "by" if in_content_meta => Target::By,
        "name" if parent == "located" => Target::LocatedName,
        "name" if parent == "subject" => Target::SubjectName,
        "p" | "h2" | "h3" | "h4" | "li" | "blockquote" if in_body => Target::Paragraph,
        "inlinedata" => Target::InlineData,
        _ => Target::None,
    }
}

/// Whether closing `name` ends the text of `target`.
fn closes(target: Target, name: &str) -> bool {
    match target {
        Target::None => false,
        Target::VersionCreated => name == "versioncreated",
        Target::FirstCreated => name == "firstcreated",
        Target::Headline => name == "headline",
        Target::Dateline => name == "dateline",
        Target::By => name == "by",
        Target::LocatedName | Target::SubjectName => name == "name",
        Target::Paragraph => matches!(name, "p" | "h2" | "h3" | "h4" | "li" | "blockquote"),
        Target::InlineData => name == "inlinedata",
    }
}

/// Stores the collected text in its field.
fn flush(item: &mut Item, target: Target, buf: &mut String) {
    let text = std::mem::take(buf);
    if target == Target::InlineData {
        item.inline_data.get_or_insert(text);
        return;
    }
    let clean = normalize::join_lines(&normalize::clean(&text, false));
    if clean.is_empty() {
        return;
    }
    match target {
        Target::VersionCreated => item.version_created = Some(clean),
        Target::FirstCreated => item.first_created = Some(clean),
        Target::Headline => {
            item.headline.get_or_insert(clean);
        }
        Target::Dateline => item.dateline = Some(clean),
        Target::By => item.by.push(clean),
        Target::LocatedName => {
            item.located.get_or_insert(clean);
        }
        Target::SubjectName => {
            item.section.get_or_insert(clean);
        }
        Target::Paragraph => item.paragraphs.push(clean),
        Target::None | Target::InlineData => {}
    }
}

/// Turns the collected fields into a story.
fn build(item: Item) -> Result<Story, ParseError> {
    let mut story = Story::new(Format::Newsml);
    let mut paragraphs = item.paragraphs;
    if paragraphs.is_empty() {
        if let Some(data) = &item.inline_data {
            paragraphs = ninjs::plain_paragraphs(data);
        }
    }
    if paragraphs.is_empty() {
        return Err(ParseError::NoBody);
    }
    story.id = item.guid;
    story.headline = item.headline;
    story.published = item
        .version_created
        .or(item.first_created)
        .and_then(|d| dates::parse(&d))
        .map(|d| d.to_rfc3339());
    story.language = item.language.as_deref().and_then(lang::normalise_code);
    for by in &item.by {
        byline::split_into(by, &mut story.byline);
    }
    story.section = item.section;
    if let Some((dl, len)) = furniture::dateline(&paragraphs[0]) {
        paragraphs[0] = paragraphs[0][len..].trim_start().to_owned();
        story.dateline = Some(dl);
    }
    if let Some(written) = item.dateline {
        let d = story.dateline.get_or_insert_with(Dateline::default);
        if d.location.is_none() {
            d.location = written
                .split(',')
                .next()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty());
        }
        if d.date.is_none() {
            d.date = written
                .split_once(',')
                .map(|(_, rest)| rest.trim().to_owned())
                .filter(|s| !s.is_empty());
        }
    }
    if let Some(loc) = item.located {
        let d = story.dateline.get_or_insert_with(Dateline::default);
        d.location.get_or_insert(loc);
    }
    if story.byline.agency.is_none() {
        story.byline.agency = story
            .dateline
            .as_ref()
            .and_then(|d| d.agency.as_deref())
            .and_then(byline::agency_name);
    }
    story.set_body_from_paragraphs(&paragraphs);
    Ok(story)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ITEM: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="urn:newsml:example.org:20190509:strike" version="1" xml:lang="en">
  <itemMeta><itemClass qcode="ninat:text"/><versionCreated>2019-05-09T10:20:00Z</versionCreated></itemMeta>
  <contentMeta>
    <headline>Harbour workers end strike</headline>
    <dateline>LISBON, May 9</dateline>
    <by>By Ana Silva, Northbridge Press</by>
    <subject type="cpnat:abstract" qcode="medtop:04000000"><name>Economy</name></subject>
  </contentMeta>
  <contentSet><inlineXML contenttype="application/xhtml+xml"><html xmlns="http://www.w3.org/1999/xhtml"><body>
    <p>LISBON, May 9 (Northbridge Press) – Harbour workers ended a strike &amp; went back&#8217;s.</p>
    <p>The union said members would return on Monday.</p>
  </body></html></inlineXML></contentSet>
</newsItem>"#;

    #[test]
    fn news_item() {
        let s = parse(ITEM).expect("story");
        assert_eq!(
            s.id.as_deref(),
            Some("urn:newsml:example.org:20190509:strike")
        );
        assert_eq!(s.headline.as_deref(), Some("Harbour workers end strike"));
        assert_eq!(s.published.as_deref(), Some("2019-05-09T10:20:00Z"));
        assert_eq!(s.language.as_deref(), Some("en"));
        assert_eq!(s.byline.authors, vec!["Ana Silva"]);
        assert_eq!(s.byline.agency.as_deref(), Some("Northbridge Press"));
        assert_eq!(s.section.as_deref(), Some("Economy"));
        let d = s.dateline.expect("dateline");
        assert_eq!(d.location.as_deref(), Some("LISBON"));
        assert_eq!(s.body, "Harbour workers ended a strike & went back’s.\n\nThe union said members would return on Monday.");
    }

    #[test]
    fn truncated_and_malformed() {
        let cut = &ITEM[..ITEM.len() / 2];
        assert_eq!(parse(cut).expect_err("cut").kind(), "malformed_xml");
        assert_eq!(
            parse("<newsItem><a></b></newsItem>")
                .expect_err("bad")
                .kind(),
            "malformed_xml"
        );
        assert_eq!(
            parse("<rss><channel/></rss>").expect_err("not g2").kind(),
            "malformed_xml"
        );
    }

    #[test]
    fn entity_declarations_are_not_expanded() {
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE n [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<newsItem guid="g"><contentSet><inlineXML><html><body><p>x &b; y</p></body></html></inlineXML></contentSet></newsItem>"#;
        let s = parse(bomb).expect("story");
        assert_eq!(s.body, "x &b; y");
    }
}
