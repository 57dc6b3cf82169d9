//! Entities the story names in its structured fields rather than in running text: the
//! byline's agency (`Reuters`) and the photo credits (`Jacquelyn Martin/AP`: a
//! photographer and an agency).
//!
//! The parse stage has already said what these strings are, so they are not tagged: a
//! credit is split at its slashes and each part is classed by its form (a known agency or
//! organisation, or a person's name). The mentions join the tagger's mentions before
//! clustering, so `Reuters` in the byline and `Reuters` in the body are one entity.
//!
//! Must not: panic on any input, or guess: a part that is neither a known agency nor
//! shaped like a person's name (`Handout`, `File`, `Courtesy of the family`) is skipped.

use crate::enrich::record::{EntityType, Field};
use crate::enrich::story::Story;

use super::cluster::Found;
use super::gazetteer::{self, Gazetteer};

/// News and photo agencies as they are written in credits (lower case). The gazetteer's
/// organisations cover the large ones too; these are the names credits use that it may
/// not (`AP`, `EPA-EFE`, `Getty Images`).
const AGENCIES: &[&str] = &[
    "afp",
    "agence france-presse",
    "alamy",
    "anadolu",
    "anadolu agency",
    "ansa",
    "ap",
    "associated press",
    "bloomberg",
    "dpa",
    "efe",
    "epa",
    "epa-efe",
    "getty",
    "getty images",
    "kyodo",
    "nurphoto",
    "pa",
    "pa images",
    "pa wire",
    "reuters",
    "shutterstock",
    "sipa",
    "tass",
    "upi",
    "wireimage",
    "xinhua",
    "yonhap",
    "zuma press",
];

/// Words that make a credit part an agency, publication or other organisation (`Atlas
/// Wire`, `Harbor City Press`, `Wikimedia Commons`), lower case; the gazetteer's
/// organisation words (`Ministry`, `Ltd`) count too.
const AGENCY_WORDS: &[&str] = &[
    "agency",
    "commons",
    "daily",
    "gazette",
    "government",
    "herald",
    "journal",
    "media",
    "network",
    "news",
    "newspaper",
    "newswire",
    "photography",
    "pictures",
    "press",
    "service",
    "studio",
    "studios",
    "times",
    "tribune",
    "wire",
];

/// Lower-case words an organisation's name may have between its capitalised words.
const JOINERS: &[&str] = &["and", "de", "for", "of", "the"];

/// Words that make a credit part something other than a name (lower case).
const NOT_NAMES: &[&str] = &[
    "courtesy", "file", "handout", "image", "images", "photo", "photos", "picture", "pool",
    "staff", "via",
];

/// Mentions in the byline's agency and the photo credits, byte offsets into those
/// fields, with their types.
pub(crate) fn structured_mentions(story: &Story, gaz: &Gazetteer) -> Vec<Found> {
    let mut found = Vec::new();
    if let Some(agency) = story.byline.agency.as_deref() {
        let (start, end) = trimmed(agency, 0, agency.len());
        if end > start {
            found.push(found_in(Field::Agency, None, start, end, EntityType::Org));
        }
    }
    let agency = story.byline.agency.as_deref();
    for (i, media) in story.media.iter().enumerate() {
        if let Some(credit) = media.credit.as_deref() {
            for (start, end, kind) in credit_parts(credit, agency, gaz) {
                found.push(found_in(Field::Credit, Some(i), start, end, kind));
            }
        }
    }
    found
}

fn found_in(
    field: Field,
    media_index: Option<usize>,
    start: usize,
    end: usize,
    kind: EntityType,
) -> Found {
    Found {
        field: Some(field),
        media_index,
        start,
        end,
        first_token: 0,
        end_token: 0,
        kind,
    }
}

/// The named parts of a credit (`Jacquelyn Martin/AP`, `AP Photo/Evan Vucci`,
/// `REUTERS/Kevin Lamarque`, `AFP via Getty Images`): byte spans and types.
/// A part written as the byline's agency (`agency`) is that agency.
fn credit_parts(
    credit: &str,
    agency: Option<&str>,
    gaz: &Gazetteer,
) -> Vec<(usize, usize, EntityType)> {
    let mut out = Vec::new();
    for (start, end) in parts(credit) {
        let (start, end) = strip_photo_words(credit, start, end);
        let Some(part) = credit.get(start..end).filter(|p| !p.is_empty()) else {
            continue;
        };
        let is_agency = agency.is_some_and(|a| a.trim().eq_ignore_ascii_case(part));
        let kind = if is_agency {
            Some(EntityType::Org)
        } else {
            class_of(part, gaz)
        };
        if let Some(kind) = kind {
            out.push((start, end, kind));
        }
    }
    out
}

/// Byte spans of a credit's parts: split at `/`, `|`, `;`, `,` and ` via `, trimmed.
fn parts(credit: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut from = 0;
    let mut push = |s: usize, e: usize| {
        let (s, e) = trimmed(credit, s, e);
        if e > s {
            spans.push((s, e));
        }
    };
    let mut i = 0;
    while let Some(c) = credit.get(i..).and_then(|rest| rest.chars().next()) {
        let via = credit.get(i..).is_some_and(|rest| {
            rest.len() >= 5
                && rest
                    .get(..5)
                    .is_some_and(|w| w.eq_ignore_ascii_case(" via "))
        });
        if matches!(c, '/' | '|' | ';' | ',') {
            push(from, i);
            from = i + c.len_utf8();
        } else if via {
            push(from, i);
            from = i + 5;
            i += 5;
            continue;
        }
        i += c.len_utf8();
    }
    push(from, credit.len());
    spans
}

/// `start..end` of `text` without surrounding white space, brackets and punctuation.
fn trimmed(text: &str, mut start: usize, mut end: usize) -> (usize, usize) {
    let edge = |c: char| {
        c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | ':' | '-' | '.' | '—' | '–')
    };
    while let Some(c) = text.get(start..end).and_then(|s| s.chars().next()) {
        if !edge(c) {
            break;
        }
        start += c.len_utf8();
    }
    while let Some(c) = text.get(start..end).and_then(|s| s.chars().next_back()) {
        if !edge(c) || (c == '.' && ends_with_initial(text.get(start..end).unwrap_or(""))) {
            break;
        }
        end -= c.len_utf8();
    }
    (start, end)
}

/// Whether `part` ends with an initial or a dotted abbreviation whose final period
/// belongs to it (`John Q.`, `A.P.`), not a sentence's full stop (`Getty Images.`).
fn ends_with_initial(part: &str) -> bool {
    let last = part.rsplit(char::is_whitespace).next().unwrap_or("");
    let Some(stem) = last.strip_suffix('.') else {
        return false;
    };
    stem.chars().count() == 1 || stem.contains('.')
}

/// The span without leading `Photo:`/`Photo by`/`Picture:` and trailing `Photo`/`Photos`
/// (`AP Photo` -> `AP`).
fn strip_photo_words(text: &str, start: usize, end: usize) -> (usize, usize) {
    let Some(part) = text.get(start..end) else {
        return (start, end);
    };
    let lower = part.to_ascii_lowercase();
    let mut s = start;
    let mut e = end;
    for prefix in [
        "photo by ",
        "photos by ",
        "photograph by ",
        "photo: ",
        "photo:",
        "picture: ",
        "image: ",
    ] {
        if lower.starts_with(prefix) {
            s = start + prefix.len();
            break;
        }
    }
    for suffix in [" photos", " photo", " images"] {
        // `Getty Images` is the agency's name: keep it whole.
        if lower.ends_with(suffix) && !(suffix == " images" && lower.starts_with("getty")) {
            e = end - suffix.len();
            break;
        }
    }
    if e <= s {
        return (start, end);
    }
    trimmed(text, s, e)
}

/// The type of a credit part: an agency or known organisation, a person's name, or
/// neither (`None`).
fn class_of(part: &str, gaz: &Gazetteer) -> Option<EntityType> {
    let lower = part.to_lowercase();
    if AGENCIES.binary_search(&lower.as_str()).is_ok() {
        return Some(EntityType::Org);
    }
    let entry = gaz.get_name(part);
    if entry.is_some_and(|e| e.flags & gazetteer::ORG != 0) {
        return Some(EntityType::Org);
    }
    if looks_like_organisation(part, gaz) {
        return Some(EntityType::Org);
    }
    looks_like_person(part, gaz).then_some(EntityType::Per)
}

/// Two or more words, capitalised but for joiners (`of`, `the`), one of them an
/// organisation word (`Continental News Agency`, `Ministry of Defence`).
fn looks_like_organisation(part: &str, gaz: &Gazetteer) -> bool {
    let words: Vec<&str> = part.split_whitespace().collect();
    let capitalised = |w: &&str| w.chars().next().is_some_and(char::is_uppercase);
    let joiner = |w: &&str| JOINERS.contains(&w.to_lowercase().as_str());
    words.len() >= 2
        && words.first().is_some_and(capitalised)
        && words.iter().all(|w| capitalised(w) || joiner(w))
        && words.iter().any(|w| is_organisation_word(w, gaz))
}

/// An agency word or one of the gazetteer's organisation head words and suffixes.
fn is_organisation_word(word: &str, gaz: &Gazetteer) -> bool {
    AGENCY_WORDS.contains(&word.to_lowercase().as_str())
        || gaz
            .get_name(word)
            .is_some_and(|e| e.flags & (gazetteer::ORG_KEY | gazetteer::ORG_SUFFIX) != 0)
}

/// Two to four name-shaped words (capitalised, letters with `-`, `'` or `.`), none of
/// them a word credits use for something else or an organisation word; written in capitals
/// only when the first word is a known given name (`JIM LO SCALZO`).
fn looks_like_person(part: &str, gaz: &Gazetteer) -> bool {
    let words: Vec<&str> = part.split_whitespace().collect();
    if !(2..=4).contains(&words.len()) {
        return false;
    }
    let name_shaped = |w: &str| {
        w.chars().next().is_some_and(char::is_uppercase)
            && w.chars()
                .all(|c| c.is_alphabetic() || matches!(c, '-' | '\'' | '’' | '.'))
    };
    if !words.iter().all(|w| name_shaped(w)) {
        return false;
    }
    let org_word =
        |w: &str| NOT_NAMES.contains(&w.to_lowercase().as_str()) || is_organisation_word(w, gaz);
    if words.iter().any(|w| org_word(w)) {
        return false;
    }
    let all_caps = !part.chars().any(char::is_lowercase);
    !all_caps
        || words
            .first()
            .and_then(|w| gaz.get_name(w))
            .is_some_and(|e| e.flags & gazetteer::GIVEN != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::record::{Format, Media};

    fn gaz() -> &'static Gazetteer {
        crate::enrich::entities::embedded_gazetteer()
    }

    fn named(credit: &str) -> Vec<(&str, EntityType)> {
        credit_parts(credit, None, gaz())
            .into_iter()
            .map(|(s, e, k)| (&credit[s..e], k))
            .collect()
    }

    #[test]
    fn agency_list_is_sorted_for_binary_search() {
        assert!(AGENCIES.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn credits_split_into_photographers_and_agencies() {
        use EntityType::{Org, Per};
        assert_eq!(
            named("Jacquelyn Martin/AP"),
            [("Jacquelyn Martin", Per), ("AP", Org)]
        );
        assert_eq!(
            named("AP Photo/Evan Vucci"),
            [("AP", Org), ("Evan Vucci", Per)]
        );
        assert_eq!(
            named("REUTERS/Kevin Lamarque"),
            [("REUTERS", Org), ("Kevin Lamarque", Per)]
        );
        assert_eq!(
            named("AFP via Getty Images"),
            [("AFP", Org), ("Getty Images", Org)]
        );
        assert_eq!(named("Photo: Jane Doe"), [("Jane Doe", Per)]);
        assert_eq!(
            named("EPA-EFE/JIM LO SCALZO"),
            [("EPA-EFE", Org), ("JIM LO SCALZO", Per)]
        );
    }

    #[test]
    fn credits_that_name_no_one_give_nothing() {
        for credit in [
            "Handout",
            "File photo",
            "Courtesy of the family",
            "Pool",
            "",
            "/",
            " via ",
            "(",
            "2016",
        ] {
            assert_eq!(named(credit), [], "{credit:?}");
        }
        assert_eq!(named("Handout/Reuters"), [("Reuters", EntityType::Org)]);
        assert_eq!(
            named("(Jacquelyn Martin/AP.)"),
            [
                ("Jacquelyn Martin", EntityType::Per),
                ("AP", EntityType::Org)
            ]
        );
        assert_eq!(named("Photo by John Q."), [("John Q.", EntityType::Per)]);
    }

    #[test]
    fn agencies_are_known_by_their_words_or_the_byline() {
        use EntityType::{Org, Per};
        assert_eq!(
            named("Amara Mendes/Atlas Wire"),
            [("Amara Mendes", Per), ("Atlas Wire", Org)]
        );
        assert_eq!(named("Harbor City Press"), [("Harbor City Press", Org)]);
        assert_eq!(named("Wikimedia Commons"), [("Wikimedia Commons", Org)]);
        assert_eq!(named("Ministry of Defence"), [("Ministry of Defence", Org)]);
        let credit = "Kenji Fischer/Blue Heron";
        let byline: Vec<(usize, usize, EntityType)> =
            credit_parts(credit, Some("Blue Heron"), gaz());
        assert_eq!(
            byline.last().map(|&(s, e, k)| (&credit[s..e], k)),
            Some(("Blue Heron", Org))
        );
    }

    #[test]
    fn byline_agency_and_credits_become_mentions_in_their_fields() {
        let mut story = Story::new(Format::Text);
        story.byline.agency = Some("Reuters".into());
        story.media.push(Media {
            caption: Some("A handshake.".into()),
            credit: Some("Jacquelyn Martin/AP".into()),
        });
        let found = structured_mentions(&story, gaz());
        let seen: Vec<_> = found
            .iter()
            .map(|f| (f.field, f.media_index, f.start, f.end, f.kind))
            .collect();
        assert_eq!(
            seen,
            [
                (Some(Field::Agency), None, 0, 7, EntityType::Org),
                (Some(Field::Credit), Some(0), 0, 16, EntityType::Per),
                (Some(Field::Credit), Some(0), 17, 19, EntityType::Org),
            ]
        );
    }
}
