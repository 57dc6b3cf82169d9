//! IPTC ninjs 1.x–3.x JSON items: `uri`, `versioncreated`, `headline`/`headlines`,
//! `body_text`/`body_html`/`bodies`, `by`/`bylines`, `located`, `language`, picture
//! `associations` with captions.
//!
//! Must not: accept a JSON object that carries no story text (that is a
//! [`ParseError::NoBody`]), or invent facts the item does not state.

use serde_json::{Map, Value};

use super::{byline, dates, furniture, html, lang, normalize, ParseError};
use crate::enrich::record::{Dateline, Format, Media};
use crate::enrich::story::Story;

/// Whether a JSON object looks like a ninjs item rather than the plain envelope.
pub(crate) fn is_ninjs(obj: &Map<String, Value>) -> bool {
    [
        "uri",
        "bodies",
        "body_text",
        "body_html",
        "body_xhtml",
        "headlines",
        "versioncreated",
        "standard",
    ]
    .iter()
    .any(|k| obj.contains_key(*k))
}

/// Builds a story from a ninjs item.
pub(crate) fn parse(obj: &Map<String, Value>) -> Result<Story, ParseError> {
    let mut story = Story::new(Format::Ninjs);
    let mut paragraphs = body_paragraphs(obj);
    if paragraphs.is_empty() {
        return Err(ParseError::NoBody);
    }
    story.id = str_field(obj, "uri")
        .or_else(|| str_field(obj, "guid"))
        .or_else(|| str_field(obj, "id"));
    story.headline = headline(obj);
    story.published = ["versioncreated", "firstcreated", "contentcreated"]
        .iter()
        .find_map(|k| str_field(obj, k).and_then(|d| dates::parse(&d)))
        .map(|d| d.to_rfc3339());
    story.language = str_field(obj, "language").and_then(|l| lang::normalise_code(&l));
    read_bylines(obj, &mut story);
    story.media = pictures(obj);
    let located = located(obj);
    if let Some((dateline, len)) = paragraphs.first().and_then(|p| furniture::dateline(p)) {
        paragraphs[0] = paragraphs[0][len..].trim_start().to_owned();
        story.dateline = Some(dateline);
    }
    if let Some(loc) = located {
        let d = story.dateline.get_or_insert_with(Dateline::default);
        if d.location.is_none() {
            d.location = Some(loc);
        }
    }
    if story.byline.agency.is_none() {
        story.byline.agency = story
            .dateline
            .as_ref()
            .and_then(|d| d.agency.as_deref())
            .and_then(byline::agency_name);
    }
    story.section = section(obj);
    story.set_body_from_paragraphs(&paragraphs);
    Ok(story)
}

/// A non-empty string field, cleaned.
fn str_field(obj: &Map<String, Value>, key: &str) -> Option<String> {
    obj.get(key)
        .and_then(Value::as_str)
        .map(|s| normalize::clean(s, true))
        .filter(|s| !s.is_empty())
}

/// `headline` (2.x) or the `main` entry of `headlines` (3.x).
fn headline(obj: &Map<String, Value>) -> Option<String> {
    str_field(obj, "headline")
        .or_else(|| pick_role(obj.get("headlines"), "main").and_then(|h| str_field(h, "value")))
        .map(|h| normalize::join_lines(&h))
}

/// The entry with `role == role` in a list of objects, else the first.
fn pick_role<'a>(list: Option<&'a Value>, role: &str) -> Option<&'a Map<String, Value>> {
    let items = list?.as_array()?;
    let objects = items.iter().filter_map(Value::as_object);
    objects
        .clone()
        .find(|o| o.get("role").and_then(Value::as_str) == Some(role))
        .or_else(|| objects.clone().next())
}

/// The body's paragraphs, from plain text or HTML.
fn body_paragraphs(obj: &Map<String, Value>) -> Vec<String> {
    if let Some(b) = pick_role(obj.get("bodies"), "main") {
        let ctype = b
            .get("contenttype")
            .or_else(|| b.get("contentType"))
            .and_then(Value::as_str)
            .unwrap_or("text/plain");
        if let Some(v) = b.get("value").and_then(Value::as_str) {
            return if ctype.contains("html") {
                html::fragment_paragraphs(v)
            } else {
                plain_paragraphs(v)
            };
        }
    }
    if let Some(t) = obj.get("body_text").and_then(Value::as_str) {
        return plain_paragraphs(t);
    }
    for key in ["body_html", "body_xhtml"] {
        if let Some(h) = obj.get(key).and_then(Value::as_str) {
            return html::fragment_paragraphs(h);
        }
    }
    Vec::new()
}

/// Blank-line paragraphs of plain text, cleaned.
pub(crate) fn plain_paragraphs(text: &str) -> Vec<String> {
    let text = text.replace("\r\n", "\n");
    text.split("\n\n")
        .map(|p| normalize::join_lines(&normalize::clean(p, false)))
        .filter(|p| !p.is_empty())
        .collect()
}

/// `by` (2.x), `bylines` (3.x) and an agency named among `infosources`.
fn read_bylines(obj: &Map<String, Value>, story: &mut Story) {
    if let Some(list) = obj.get("bylines").and_then(Value::as_array) {
        for b in list.iter().filter_map(Value::as_object) {
            let name = str_field(b, "name").or_else(|| str_field(b, "byline"));
            let role = b.get("role").and_then(Value::as_str).unwrap_or("");
            if let Some(name) = name {
                if role.contains("agency") || role.contains("organi") {
                    story
                        .byline
                        .agency
                        .get_or_insert(byline::agency_name(&name).unwrap_or(name));
                } else {
                    byline::add_declared_person(&name, &mut story.byline);
                }
            }
        }
    }
    if story.byline.authors.is_empty() && story.byline.agency.is_none() {
        if let Some(by) = str_field(obj, "by") {
            byline::split_into(&by, &mut story.byline);
        }
    }
    if story.byline.agency.is_none() {
        story.byline.agency = infosource_agency(obj);
    }
}

/// An `infosources` entry whose role says it distributed or published the item.
fn infosource_agency(obj: &Map<String, Value>) -> Option<String> {
    let list = obj.get("infosources")?.as_array()?;
    list.iter().filter_map(Value::as_object).find_map(|s| {
        let role = [s.get("role"), s.get("literal")]
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        let is_agency = ["distributor", "agency", "publisher"]
            .iter()
            .any(|r| role.contains(r));
        is_agency.then(|| str_field(s, "name")).flatten()
    })
}

/// `located`: a string (2.x) or an object with `name` (3.x).
fn located(obj: &Map<String, Value>) -> Option<String> {
    match obj.get("located")? {
        Value::String(s) => Some(normalize::clean(s, true)).filter(|s| !s.is_empty()),
        Value::Object(o) => str_field(o, "name"),
        _ => None,
    }
}

/// A section from `genre`/`service`-like fields when given by name.
fn section(obj: &Map<String, Value>) -> Option<String> {
    for key in ["section", "service", "services"] {
        match obj.get(key) {
            Some(Value::String(s)) => return Some(normalize::clean(s, true)),
            Some(Value::Array(a)) => {
                if let Some(name) = a
                    .iter()
                    .filter_map(Value::as_object)
                    .find_map(|o| str_field(o, "name"))
                {
                    return Some(name);
                }
            }
            _ => {}
        }
    }
    None
}

/// Captions and credits of picture associations (an object keyed by name, or a list).
fn pictures(obj: &Map<String, Value>) -> Vec<Media> {
    let Some(assoc) = obj.get("associations") else {
        return Vec::new();
    };
    let items: Vec<&Map<String, Value>> = match assoc {
        Value::Array(a) => a.iter().filter_map(Value::as_object).collect(),
        Value::Object(o) => o.values().filter_map(Value::as_object).collect(),
        _ => Vec::new(),
    };
    items
        .into_iter()
        .filter(|a| {
            a.get("type")
                .and_then(Value::as_str)
                .is_none_or(|t| t == "picture" || t == "image")
        })
        .filter_map(|a| {
            let caption = str_field(a, "description_text")
                .or_else(|| {
                    pick_role(a.get("descriptions"), "caption").and_then(|d| str_field(d, "value"))
                })
                .or_else(|| str_field(a, "body_text"));
            let credit = str_field(a, "by").or_else(|| str_field(a, "copyrightholder"));
            (caption.is_some() || credit.is_some()).then_some(Media { caption, credit })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn a_long_bylines_list_is_capped() {
        // 70,000 `bylines` entries were all kept (and checked for duplicates pairwise).
        let n = 3 * byline::MAX_AUTHORS;
        let mut bylines: Vec<Value> = (0..n)
            .map(|i| serde_json::json!({"name": format!("Ann {}", ["Lee", "Chan", "Roe"][i % 3].repeat(1 + i / 3)), "role": "author"}))
            .collect();
        bylines.push(serde_json::json!({"name": "Central European Wire", "role": "agency"}));
        let s = parse(&obj(serde_json::json!({
            "uri": "urn:x:2",
            "bodies": [{"role": "main", "contenttype": "text/plain", "value": "Workers ended a strike on Monday."}],
            "bylines": bylines,
        })))
        .expect("story");
        assert_eq!(s.byline.authors.len(), byline::MAX_AUTHORS);
        assert_eq!(s.byline.authors[0], "Ann Lee");
        assert_eq!(s.byline.authors[3], "Ann LeeLee");
        assert_eq!(s.byline.agency.as_deref(), Some("Central European Wire"));
    }

    #[test]
    fn ninjs_2() {
        let s = parse(&obj(serde_json::json!({
            "uri": "urn:x:1", "versioncreated": "2019-05-09T10:20:00+00:00", "language": "en",
            "headlines": [{"role": "main", "value": "Harbour workers end strike"}],
            "bodies": [{"role": "main", "contenttype": "text/html", "value": "<p>LISBON – Workers ended a strike.</p><p>More text.</p>"}],
            "by": "Ana Silva",
            "bylines": [{"byline": "By Ana Silva", "name": "Ana Silva", "role": "author"}],
            "located": "Lisbon",
            "infosources": [{"name": "Northbridge Press", "literal": "distributor"}],
            "associations": [{"type": "picture", "by": "Rui Costa/NBP", "descriptions": [{"role": "caption", "value": "Dockers leave."}]}]
        })))
        .expect("story");
        assert_eq!(s.id.as_deref(), Some("urn:x:1"));
        assert_eq!(s.headline.as_deref(), Some("Harbour workers end strike"));
        assert_eq!(s.published.as_deref(), Some("2019-05-09T10:20:00Z"));
        assert_eq!(s.byline.authors, vec!["Ana Silva"]);
        assert_eq!(s.byline.agency.as_deref(), Some("Northbridge Press"));
        assert_eq!(
            s.dateline.and_then(|d| d.location).as_deref(),
            Some("LISBON")
        );
        assert_eq!(s.body, "Workers ended a strike.\n\nMore text.");
        assert_eq!(s.media[0].credit.as_deref(), Some("Rui Costa/NBP"));
    }

    #[test]
    fn ninjs_without_body() {
        assert_eq!(
            parse(&obj(serde_json::json!({"uri": "u", "headline": "h"}))),
            Err(ParseError::NoBody)
        );
    }
}
