//! Bylines: `By Reuters`, `By Jane Doe and John Roe`, `Associated Press`,
//! `By JANE DOE | AP`, `Jane Doe, Reuters`, `(Reporting by …; Editing by …)` trailers —
//! split into person names and an agency.
//!
//! Must not: take an organisation for a person, or keep editors (`Editing by`) as authors.

use std::sync::LazyLock;

use regex::Regex;

use crate::enrich::record::Byline;

/// News agencies and their usual short names: `(written form, canonical name)`.
const AGENCIES: &[(&str, &str)] = &[
    ("reuters", "Reuters"),
    ("thomson reuters", "Reuters"),
    ("ap", "AP"),
    ("the associated press", "Associated Press"),
    ("associated press", "Associated Press"),
    ("afp", "AFP"),
    ("agence france-presse", "AFP"),
    ("agence france presse", "AFP"),
    ("bloomberg", "Bloomberg"),
    ("bloomberg news", "Bloomberg"),
    ("dpa", "dpa"),
    ("xinhua", "Xinhua"),
    ("ansa", "ANSA"),
    ("efe", "EFE"),
    ("kyodo", "Kyodo"),
    ("kyodo news", "Kyodo"),
    ("tass", "TASS"),
    ("ria novosti", "RIA Novosti"),
    ("upi", "UPI"),
    ("pa", "PA"),
    ("pa media", "PA Media"),
    ("press association", "Press Association"),
    ("aap", "AAP"),
    ("cp", "CP"),
    ("the canadian press", "The Canadian Press"),
    ("anadolu", "Anadolu"),
    ("anadolu agency", "Anadolu Agency"),
    ("yonhap", "Yonhap"),
    ("pti", "PTI"),
    ("ians", "IANS"),
    ("apa", "APA"),
    ("ap writer", "AP"),
];

/// Words that end an organisation's name (`Continental News Agency`, `Meridian Wire Service`).
const ORG_TAILS: &[&str] = &[
    "agency",
    "press",
    "wire",
    "service",
    "services",
    "news",
    "newswire",
    "syndicate",
    "media",
    "staff",
    "desk",
    "reporters",
    "correspondents",
    "bureau",
    "times",
    "post",
    "herald",
    "journal",
    "network",
    "group",
    "team",
    "editors",
    "editorial",
    "contributors",
    "online",
    "tribune",
    "gazette",
    "daily",
    "telegraph",
    "guardian",
    "magazine",
    "radio",
    "tv",
    "television",
];

static BY_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(?:written\s+|words\s+)?by[:\s]\s*").expect("static regex")
});

static SPLIT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\s*(?:,\s*and\s+|\band\b|&|\||;|,|/|\s[-–—]\s|\bwith\b|\bfor\b)\s*")
        .expect("static regex")
});

static TRAILER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(additional reporting|reporting|writing|compiled|written|edited|editing)\s+by\s+([^;()]+)")
        .expect("static regex")
});

/// The canonical name of a well-known news agency (`AP`, `Reuters`, `AFP`…), if `text` is one.
pub(crate) fn known_agency(text: &str) -> Option<&'static str> {
    let lower = text.trim().to_lowercase();
    AGENCIES
        .iter()
        .find(|(k, _)| *k == lower)
        .map(|(_, canon)| *canon)
}

/// The canonical name of a known agency, or of an organisation-looking name.
pub(crate) fn agency_name(text: &str) -> Option<String> {
    let t = text
        .trim()
        .trim_matches(|c: char| c == '(' || c == ')' || c == '.');
    let lower = t.to_lowercase();
    if let Some((_, canon)) = AGENCIES.iter().find(|(k, _)| *k == lower) {
        return Some((*canon).to_owned());
    }
    looks_like_org(t).then(|| t.to_owned())
}

/// A name ending in an organisation word, or a single word that is not a person's name.
fn looks_like_org(name: &str) -> bool {
    let words: Vec<&str> = name.split_whitespace().collect();
    let Some(last) = words.last() else {
        return false;
    };
    let last = last.to_lowercase();
    if words.len() >= 2 && ORG_TAILS.contains(&last.as_str()) {
        return true;
    }
    // One capitalised word (`Wikinews`, `Reuters`) names an organisation, not a person.
    words.len() == 1 && name.chars().next().is_some_and(char::is_uppercase) && name.len() > 1
}

/// Whether `text` reads as a person's name: 2-5 capitalised words, no digits.
pub(crate) fn looks_like_person(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    if !(2..=5).contains(&words.len()) || text.chars().any(|c| c.is_ascii_digit()) {
        return false;
    }
    let particles = [
        "de", "van", "von", "der", "da", "al", "bin", "la", "le", "del", "di", "du",
    ];
    words.iter().all(|w| {
        w.chars().next().is_some_and(char::is_uppercase)
            || particles.contains(&w.to_lowercase().trim_end_matches('-'))
            || w.starts_with("al-")
    }) && !looks_like_org(text)
}

/// Title-cases an all-capitals name (`JANE DOE` -> `Jane Doe`); other names are kept.
fn tidy_name(name: &str) -> String {
    let name = name.trim().trim_end_matches(['.', ',', ':']).trim();
    let has_lower = name.chars().any(char::is_lowercase);
    if has_lower || name.len() <= 4 {
        return name.to_owned();
    }
    name.split(' ')
        .map(|w| {
            let mut out = String::with_capacity(w.len());
            let mut start = true;
            for c in w.chars() {
                if start {
                    out.extend(c.to_uppercase());
                } else {
                    out.extend(c.to_lowercase());
                }
                start = matches!(c, '-' | '\'' | '’');
            }
            out
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Splits one byline (`By Jane Doe and John Roe, Reuters`) into `byline`.
pub(crate) fn split_into(text: &str, byline: &mut Byline) {
    let text = BY_PREFIX.replace(text, "");
    let text = text.trim();
    if text.is_empty() || text.len() > 200 {
        return;
    }
    for part in SPLIT.split(text) {
        let part = part
            .trim()
            .trim_end_matches(" Writer")
            .trim_end_matches(" writer");
        let part = part
            .trim_start_matches("By ")
            .trim_start_matches("by ")
            .trim();
        if part.is_empty() {
            continue;
        }
        add_name(part, byline);
    }
}

/// Adds one name to the byline as an agency or an author.
fn add_name(part: &str, byline: &mut Byline) {
    if let Some(agency) = agency_name(part) {
        if byline.agency.is_none() {
            byline.agency = Some(agency);
        }
        return;
    }
    let name = tidy_name(part);
    // A lower-case single token (`rezwan`, `deb.baldelli`) is a user name, i.e. a person.
    let handle = !name.contains(' ')
        && name.chars().next().is_some_and(char::is_lowercase)
        && name.len() >= 3;
    if looks_like_person(&name) || handle {
        push_author(byline, name);
    }
}

/// Most authors one story's byline keeps. Real bylines name a handful of people (the
/// corpus, dev pages and fixtures have at most a few); a longer list is page furniture or
/// hostile input. Every path that adds an author goes through [`push_author`], so the
/// duplicate check is a scan of at most this many names: 70,000 `By …` lines (or a ninjs
/// `bylines` list that long) used to be quadratic and kept every name.
pub(crate) const MAX_AUTHORS: usize = 20;

/// Adds `name` to the authors, keeping order: not if it is already there, nor once
/// [`MAX_AUTHORS`] are kept (the first `MAX_AUTHORS` distinct names win). Returns whether
/// it was added.
pub(crate) fn push_author(byline: &mut Byline, name: String) -> bool {
    if byline.authors.len() >= MAX_AUTHORS || byline.authors.contains(&name) {
        return false;
    }
    byline.authors.push(name);
    true
}

/// Adds a name that structured metadata declares to be a person (a JSON-LD `Person`, a
/// ninjs byline that is not an agency's): kept as the publisher wrote it, even in lower
/// case (`ndesanjo macha`), where free text would need capitals to tell a name from
/// prose. A field holding several names or an agency's name goes through [`split_into`].
pub(crate) fn add_declared_person(name: &str, byline: &mut Byline) {
    let name = tidy_name(&BY_PREFIX.replace(name.trim(), ""));
    let words = name.split_whitespace().count();
    let plain_name = (1..=5).contains(&words)
        && name.len() <= 80
        && !name.chars().any(|c| c.is_ascii_digit())
        && !SPLIT.is_match(&name)
        && agency_name(&name).is_none();
    if !plain_name {
        split_into(&name, byline);
    } else {
        push_author(byline, name);
    }
}

/// Parses a byline into a fresh [`Byline`].
pub(crate) fn parse(text: &str) -> Byline {
    let mut byline = Byline::default();
    split_into(text, &mut byline);
    byline
}

/// Whether a line is a byline: `By …` followed by names, or just an agency name.
pub(crate) fn is_byline_line(line: &str) -> bool {
    let line = line.trim();
    if line.len() > 120 || line.ends_with('.') && !line.ends_with(" Jr.") {
        return AGENCIES.iter().any(|(k, _)| line.eq_ignore_ascii_case(k));
    }
    if let Some(org) = line
        .strip_suffix(" Writer")
        .or_else(|| line.strip_suffix(" Staff Writer"))
        .or_else(|| line.strip_suffix(" Correspondent"))
    {
        return agency_name(org).is_some();
    }
    if BY_PREFIX.is_match(line) {
        let rest = BY_PREFIX.replace(line, "");
        let b = parse(&rest);
        return !b.authors.is_empty() || b.agency.is_some();
    }
    AGENCIES.iter().any(|(k, _)| line.eq_ignore_ascii_case(k))
}

/// Reads `(Reporting by X; Editing by Y)` trailers: reporters and writers become authors.
pub(crate) fn read_trailer(line: &str, byline: &mut Byline) -> bool {
    let mut found = false;
    for c in TRAILER.captures_iter(line) {
        found = true;
        let role = c[1].to_lowercase();
        if role.starts_with("edit") || role == "compiled" {
            continue;
        }
        for part in SPLIT.split(&c[2]) {
            let name = tidy_name(part);
            if looks_like_person(&name) {
                push_author(byline, name);
            }
        }
    }
    found
}

/// Whether a line is a reporting/editing trailer.
pub(crate) fn is_trailer_line(line: &str) -> bool {
    let t = line.trim().trim_start_matches('(');
    if t.len() >= 300 {
        return false;
    }
    // An ASCII line is compared as it is, in any case; of any other, the start is
    // lower-cased (more characters than the longest prefix: lower-casing never shortens).
    let lowered;
    let lower = if t.is_ascii() {
        t
    } else {
        lowered = t.chars().take(32).collect::<String>().to_lowercase();
        &lowered
    };
    [
        "reporting by",
        "additional reporting by",
        "writing by",
        "editing by",
        "edited by",
        "compiled by",
    ]
    .iter()
    .any(|p| super::prescan::starts_with_ignore_case(lower.as_bytes(), p.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agency_only() {
        let b = parse("By Reuters");
        assert_eq!(b.agency.as_deref(), Some("Reuters"));
        assert!(b.authors.is_empty());
    }

    #[test]
    fn two_people() {
        let b = parse("By Jane Doe and John Roe");
        assert_eq!(b.authors, vec!["Jane Doe", "John Roe"]);
    }

    #[test]
    fn capitals_and_agency() {
        let b = parse("By JANE DOE | AP");
        assert_eq!(b.authors, vec!["Jane Doe"]);
        assert_eq!(b.agency.as_deref(), Some("AP"));
        assert_eq!(
            parse("Associated Press").agency.as_deref(),
            Some("Associated Press")
        );
    }

    #[test]
    fn org_names() {
        assert_eq!(
            parse("By Continental News Agency").agency.as_deref(),
            Some("Continental News Agency")
        );
        assert!(parse("Mateo Banerjee").agency.is_none());
        assert_eq!(parse("By rezwan").authors, vec!["rezwan"]);
    }

    #[test]
    fn declared_people_are_kept_as_written() {
        let mut b = Byline::default();
        add_declared_person("ndesanjo macha", &mut b);
        add_declared_person("By Jane Doe", &mut b);
        add_declared_person("ndesanjo macha", &mut b);
        assert_eq!(b.authors, vec!["ndesanjo macha", "Jane Doe"]);
        // Several names, or an agency, still go through the byline splitter.
        let mut b = Byline::default();
        add_declared_person("Ann Lee and Bo Chan", &mut b);
        add_declared_person("Lakeside News Syndicate", &mut b);
        assert_eq!(b.authors, vec!["Ann Lee", "Bo Chan"]);
        assert_eq!(b.agency.as_deref(), Some("Lakeside News Syndicate"));
    }

    #[test]
    fn authors_are_capped_in_order_on_every_path() {
        let names: Vec<String> = (0..2 * MAX_AUTHORS)
            .map(|i| {
                format!(
                    "Ann {}{}",
                    (b'A' + (i / 26) as u8) as char,
                    (b'a' + (i % 26) as u8) as char
                )
            })
            .collect();
        let want = &names[..MAX_AUTHORS];
        // Declared people (ninjs, JSON-LD), repeated names not counted twice.
        let mut b = Byline::default();
        for n in names.iter().chain(&names) {
            add_declared_person(n, &mut b);
        }
        assert_eq!(b.authors, want);
        // Free-text bylines, one name at a time; an agency after the cap is still read.
        let mut b = Byline::default();
        for n in &names {
            split_into(&format!("By {n}"), &mut b);
        }
        split_into("By Reuters", &mut b);
        assert_eq!(b.authors, want);
        assert_eq!(b.agency.as_deref(), Some("Reuters"));
        // Reporting trailers.
        let mut b = Byline::default();
        for n in &names {
            read_trailer(&format!("(Reporting by {n}; Editing by Bo Chan)"), &mut b);
        }
        assert_eq!(b.authors, want);
        // The shared helper.
        assert!(!push_author(&mut b, "Zed Last".to_owned()));
        assert_eq!(b.authors.len(), MAX_AUTHORS);
    }

    #[test]
    fn trailer_feeds_authors_not_editors() {
        let mut b = Byline::default();
        assert!(read_trailer(
            "(Reporting by Sofia Oyelaran; Editing by Amara Haddad)",
            &mut b
        ));
        assert_eq!(b.authors, vec!["Sofia Oyelaran"]);
    }

    #[test]
    fn byline_lines() {
        assert!(is_byline_line("By Reuters"));
        assert!(is_byline_line("By Jane Doe and John Roe"));
        assert!(is_byline_line("Associated Press Writer"));
        assert_eq!(
            parse("Associated Press Writer").agency.as_deref(),
            Some("Associated Press")
        );
        assert!(!is_byline_line(
            "By the end of the week, talks had stalled."
        ));
    }
}
