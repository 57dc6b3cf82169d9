//! Line-level recognisers for page and wire furniture shared by the text and wire parsers:
//! breadcrumbs, photo captions and credits, datelines, junk (share/follow, related, copyright,
//! source lines) and wire slugs.
//!
//! Must not: decide on a whole story (that is the parsers' job) or use site-specific rules.

use std::sync::LazyLock;

use regex::Regex;

use super::prescan::{contains_ignore_case, starts_with_ignore_case};

use crate::enrich::record::{Dateline, Media};

/// Words that name no section in a breadcrumb (`Home > News > Asia` -> `Asia`).
const GENERIC_CRUMBS: &[&str] = &[
    "home",
    "news",
    "latest",
    "index",
    "main",
    "start",
    "all",
    "top stories",
    "homepage",
    "front page",
];

/// The section named by a breadcrumb line (`Home > Asia`, `Home › News › Europe`,
/// `Site / World`, `News | Business | Latest`), if the line is one.
pub(crate) fn breadcrumb_section(line: &str) -> Option<String> {
    let sep = ['>', '›', '»', '/', '|', '→']
        .into_iter()
        .find(|c| line.contains(*c))?;
    let parts: Vec<&str> = line.split(sep).map(str::trim).collect();
    if !(2..=6).contains(&parts.len()) || line.len() > 120 {
        return None;
    }
    let short = parts.iter().all(|p| {
        let words = p.split_whitespace().count();
        (1..=4).contains(&words)
            && !p.ends_with('.')
            && !p.contains(',')
            && !p.chars().any(|c| c.is_ascii_digit())
    });
    let capitalised = parts.iter().all(|p| {
        p.chars()
            .next()
            .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
    });
    let starts_home = parts
        .first()
        .is_some_and(|p| p.eq_ignore_ascii_case("home"));
    if !short || !capitalised || (sep == '/' || sep == '|') && parts.len() > 4 && !starts_home {
        return None;
    }
    let section = parts
        .iter()
        .skip(1)
        .rev()
        .find(|p| !GENERIC_CRUMBS.contains(&p.to_lowercase().as_str()))
        .or_else(|| {
            parts
                .iter()
                .skip(1)
                .find(|p| !p.eq_ignore_ascii_case("home"))
        })?;
    Some((*section).to_owned())
}

static CREDIT_PAREN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?s)(.*?)\s*\(\s*((?:(?:Photo|Image|Picture|Photograph|Credit|Foto)s?(?:\s+by)?\s*:?\s*)?[^()]{2,80})\)\s*$")
        .expect("static regex")
});

static CREDIT_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?s)(.*?)\s*\b((?:Photo|Image|Picture|Photograph|Credit)s?(?:\s+by)?\s*:\s*[^.:]{2,80}?)\.?\s*$")
        .expect("static regex")
});

static CREDIT_AGENCY_SLASH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?s)(.*?[.!?”\x22])\s+((?:REUTERS|AP|AFP|EPA|GETTY IMAGES|XINHUA|ANADOLU|EFE|DPA|BLOOMBERG)(?:\s+PHOTO)?/[A-Z][\w.'\- ]{1,40}(?:/[\w ]{2,20})?)\s*$")
        .expect("static regex")
});

/// Splits a photo caption from its credit: `… Zurich. (Jacquelyn Martin/AP)`,
/// `… REUTERS/Kevin Lamarque`, `… Photo: AFP`. `None` when the line carries no credit.
pub(crate) fn caption(line: &str) -> Option<Media> {
    // The cheap shape tests first: most lines have none, and need no word count.
    let slash = has_agency_slash(line);
    let paren = line.trim_end().ends_with(')');
    let label = line.contains(':') && has_credit_word(line);
    if !(slash || paren || label) || line.split_whitespace().nth(90).is_some() {
        return None;
    }
    if slash {
        if let Some(c) = CREDIT_AGENCY_SLASH.captures(line) {
            return Some(media(&c[1], &c[2]));
        }
    }
    if paren {
        if let Some(m) = paren_credit(line) {
            return Some(m);
        }
    }
    if label {
        if let Some(c) = CREDIT_LABEL.captures(line) {
            let credit = c[2].trim();
            if !c[1].trim().is_empty() || line.split_whitespace().count() <= 8 {
                return Some(media(&c[1], &strip_label(credit)));
            }
        }
    }
    None
}

/// Whether a line has an upper-case letter, `/` and an upper-case letter in a row: the
/// shape every agency credit (`REUTERS/Kevin Lamarque`) has; a cheap test before the regex.
fn has_agency_slash(line: &str) -> bool {
    let bytes = line.as_bytes();
    let upper = |at: Option<usize>| {
        at.and_then(|i| bytes.get(i))
            .is_some_and(u8::is_ascii_uppercase)
    };
    memchr::memchr_iter(b'/', bytes).any(|at| upper(at.checked_sub(1)) && upper(Some(at + 1)))
}

/// Whether a line names a photo credit label (`Photo`, `Image`, `Credit`…), in any case.
/// Compared without lower-casing a copy: only ASCII letters lower-case to these words' letters
/// (`İ` gives `i` plus a combining dot, never followed by a letter).
fn has_credit_word(line: &str) -> bool {
    ["photo", "image", "picture", "credit"]
        .iter()
        .any(|w| contains_ignore_case(line.as_bytes(), w.as_bytes()))
}

/// `… (Jacquelyn Martin/AP)` / `… (Photo: AFP)`.
fn paren_credit(line: &str) -> Option<Media> {
    let c = CREDIT_PAREN.captures(line)?;
    {
        let credit = c[2].trim();
        let labelled = is_credit_label(credit);
        let slashed = credit.contains('/')
            && credit.split('/').all(|p| {
                let w = p.split_whitespace().count();
                (1..=5).contains(&w) && p.trim().chars().next().is_some_and(char::is_uppercase)
            });
        (labelled || slashed).then(|| media(&c[1], &strip_label(credit)))
    }
}

/// Whether a credit starts with `Photo:`, `Image:` and the like.
fn is_credit_label(credit: &str) -> bool {
    let lower = credit.to_lowercase();
    ["photo", "image", "picture", "photograph", "credit", "foto"]
        .iter()
        .any(|l| {
            lower.starts_with(l)
                && lower[l.len()..]
                    .trim_start_matches('s')
                    .trim_start()
                    .starts_with([':', 'b'])
        })
}

/// `Photo: AFP` -> `AFP`; other credits unchanged.
fn strip_label(credit: &str) -> String {
    if !is_credit_label(credit) {
        return credit.trim().to_owned();
    }
    let after = credit.split_once(':').map_or_else(
        || credit.split_once(" by ").map_or(credit, |(_, b)| b),
        |(_, b)| b,
    );
    after.trim().trim_end_matches('.').trim().to_owned()
}

/// A [`Media`] item from caption and credit text.
fn media(caption: &str, credit: &str) -> Media {
    let caption = caption.trim().trim_end_matches(['-', '–', '—', '|']).trim();
    Media {
        caption: (!caption.is_empty()).then(|| caption.to_owned()),
        credit: (!credit.is_empty()).then(|| credit.to_owned()),
    }
}

static DATELINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)^
        (?:
          (?P<loc>[A-Z][A-Z.'’\-]*(?:\ [A-Z][A-Z.'’\-]*){0,3})         # CITY in capitals
          (?P<region>,\ [A-Z][A-Za-z.'’\-]*(?:\ [A-Z][A-Za-z.'’\-]*){0,2})?  # , Region
          (?:,?\ (?P<date>(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\ \d{1,2}))?
          \ ?
        )?
        (?:\((?P<agency>[^()]{1,40})\)\ ?)?
        (?P<dash>--|[-–—:])\ +",
    )
    .expect("static regex")
});

/// A dateline at the start of a lead paragraph (`WASHINGTON – `, `LONDON, Sept 8 (Reuters) - `,
/// `BEIRUT, Lebanon (AP) — `): the dateline and the byte length of the prefix to remove.
pub(crate) fn dateline(par: &str) -> Option<(Dateline, usize)> {
    let c = DATELINE.captures(par)?;
    let loc = c.name("loc").map(|m| m.as_str());
    // Blank parentheses (`CITY ( ) -`) name no agency: absent, never "".
    let agency = c
        .name("agency")
        .map(|m| m.as_str().trim())
        .filter(|a| !a.is_empty())
        .map(str::to_owned);
    let dash = c.name("dash").map_or("", |m| m.as_str());
    match (loc, &agency) {
        (None, None) => return None,
        (Some(l), None)
            if l.chars().filter(char::is_ascii_uppercase).count() < 3 || dash == ":" =>
        {
            return None
        }
        _ => {}
    }
    if let Some(l) = loc {
        if crate::enrich::parse::byline::known_agency(l).is_some() && agency.is_none() {
            return None;
        }
    }
    let whole = c.get(0)?;
    let rest = &par[whole.end()..];
    if !rest
        .chars()
        .next()
        .is_some_and(|ch| ch.is_uppercase() || ch.is_ascii_digit() || "\"“‘'".contains(ch))
    {
        return None;
    }
    let location = loc.map(|l| {
        let region = c.name("region").map_or("", |m| m.as_str());
        format!("{l}{region}")
    });
    Some((
        Dateline {
            location,
            date: c.name("date").map(|m| m.as_str().to_owned()),
            agency,
        },
        whole.end(),
    ))
}

/// Lines that close an article or are never part of one (share/follow, related, copyright,
/// source notes, newsletter prompts).
pub(crate) fn is_junk(line: &str) -> bool {
    // Compared in any ASCII case: an ASCII line as it is, any other lower-cased first (a
    // lower-cased line has no ASCII capitals left, so the comparisons are exact on it). A
    // line that can only be junk by its start has only its start lower-cased.
    let text = line
        .trim()
        .trim_start_matches(['•', '*', '-', '□', '■', '·', ' ']);
    let whole = text.is_ascii() || may_be_junk_as_a_whole(text);
    let lowered;
    let lower = if text.is_ascii() {
        text
    } else if whole {
        lowered = text.to_lowercase();
        &lowered
    } else {
        lowered = text
            .chars()
            .take(JUNK_PREFIX_CHARS)
            .collect::<String>()
            .to_lowercase();
        &lowered
    };
    const EXACT: &[&str] = &[
        "latest news",
        "advert",
        "related",
        "related stories",
        "related articles",
        "related news",
        "read more",
        "more stories",
        "most read",
        "most popular",
        "share",
        "share this",
        "share this article",
        "share this story",
        "advertisement",
        "skip to main content",
        "skip to content",
        "comments",
        "recommended",
        "you may also like",
        "more from",
        "trending",
        "sponsored",
        "tweet",
        "email",
        "print",
        "facebook",
        "twitter",
        "whatsapp",
        "linkedin",
        "subscribe",
        "sign in",
        "log in",
        "menu",
        "search",
        "top stories",
        "more on this story",
        "see also",
        "also read",
        "more news",
        "topics",
        "tags",
        "leave a comment",
        "back to top",
        "next article",
        "previous article",
    ];
    // Only a line as short as the longest exact line is compared with the list.
    const LONGEST_EXACT: usize = longest(EXACT);
    let core = lower.trim_end_matches([':', '.']);
    if whole && core.len() <= LONGEST_EXACT && EXACT.iter().any(|e| e.eq_ignore_ascii_case(core)) {
        return true;
    }
    const PREFIX: &[&str] = &[
        "©",
        "(c) ",
        "copyright ",
        "all rights reserved",
        "source: ",
        "read more:",
        "related:",
        "share this",
        "follow us",
        "follow @",
        "sign up for",
        "subscribe to",
        "click here",
        "share on ",
        "advertisement",
        "this article was",
        "this story was",
        "skip to",
        "menu  search",
        "we use cookies",
        "see also:",
        "also read:",
        "read next",
    ];
    // Only a line starting with a prefix's first byte (in either case) is compared with them.
    const PREFIX_FIRST_BYTES: [bool; 256] = first_bytes(PREFIX);
    let starts_with = |p: &str| starts_with_ignore_case(lower.as_bytes(), p.as_bytes());
    let may_start_with_prefix = lower
        .as_bytes()
        .first()
        .is_some_and(|&b| PREFIX_FIRST_BYTES[usize::from(b)]);
    if may_start_with_prefix && PREFIX.iter().any(|p| starts_with(p)) {
        return true;
    }
    if !whole {
        return false;
    }
    if is_cookie_notice(lower) {
        return true;
    }
    let social = [
        "facebook",
        "twitter",
        "whatsapp",
        "email",
        "linkedin",
        "pinterest",
        "reddit",
        "share",
        "print",
        "menu",
        "search",
        "subscribe",
        "messenger",
        "copy",
        "link",
        "tweet",
    ];
    // Two to eight words, all of them share/follow words (stops at the first other word).
    let mut words = 0;
    for w in lower.split_whitespace() {
        words += 1;
        if words > 8 || !social.iter().any(|s| s.eq_ignore_ascii_case(w)) {
            return false;
        }
    }
    words >= 2
}

static SECTION_END: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)^(?:
            \d+\s+(?:comments?|responses?|replies)
          | comments?\s*\(\d+\)
          | (?:leave|post|add|write)\s+a\s+(?:comment|reply|response)
          | (?:previous|next|older|newer)\s+(?:post|article|story|entry)
          | posted\s+in\s.{1,80}
          | about\s+the\s+author
          | (?:related|similar|recommended|popular|trending|latest|more)\s+(?:posts|articles|stories|news|videos)
          | you\s+(?:may|might)\s+(?:also\s+)?(?:like|enjoy)
          | recommended\s+for\s+you
          | most\s+(?:read|popular|viewed|shared)
          | join\s+the\s+(?:conversation|discussion)
          | show\s+comments | view\s+comments
        )\s*[:.]?$",
    )
    .expect("static regex")
});

/// A comment's header line (`Jane on May 3, 2019 at 10:20 said:`): the one section end that
/// may start with any word. Kept apart from [`SECTION_END`], whose other branches fail
/// within a few characters, since its unbounded start makes the matcher read the whole line;
/// it needs a colon, so lines without one skip it.
static COMMENT_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^.{2,60}\s+on\s+.{6,40}\d{4}.{0,20}\s+said:\s*[:.]?$").expect("static regex")
});

static ABOUT_AUTHOR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:About|Sobre|Über|À propos de|A propos de|Acerca de|Over|Om)\s+(?:the\s+author|\p{Lu}\p{L}+(?:\s+\p{Lu}\p{L}+){0,3})$",
    )
    .expect("static regex")
});

static COMMENTS_START: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)^(?:
            \d+\s+(?:comments?|responses?|replies)
          | comments?\s*\(\d+\)
          | (?:leave|post|add|write)\s+a\s+(?:comment|reply|response)
          | posted\s+in\s.{1,80}
          | .{2,60}\s+on\s+.{6,40}\d{4}.{0,20}\s+said:
        )\s*[:.]?$",
    )
    .expect("static regex")
});

/// Lines that open a comment section: nothing after them is the article.
pub(crate) fn is_comments_start(line: &str) -> bool {
    let t = line
        .trim()
        .trim_start_matches(['•', '*', '-', '□', '■', '·', ' ']);
    t.len() < 140 && COMMENTS_START.is_match(t)
}

/// Lines that open what follows an article: comments, related or recommended lists, the
/// author's biography.
pub(crate) fn is_section_end(line: &str) -> bool {
    let t = line
        .trim()
        .trim_start_matches(['•', '*', '-', '□', '■', '·', ' ']);
    t.len() < 140
        && (SECTION_END.is_match(t)
            || t.contains(':') && COMMENT_HEADER.is_match(t)
            || ABOUT_AUTHOR.is_match(t))
}

/// Length in bytes of the longest of `words`.
const fn longest(words: &[&str]) -> usize {
    let mut most = 0;
    let mut i = 0;
    while i < words.len() {
        if words[i].len() > most {
            most = words[i].len();
        }
        i += 1;
    }
    most
}

/// The first bytes of `words`, in both ASCII cases, as a table by byte.
const fn first_bytes(words: &[&str]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut i = 0;
    while i < words.len() {
        let bytes = words[i].as_bytes();
        if !bytes.is_empty() {
            table[bytes[0].to_ascii_lowercase() as usize] = true;
            table[bytes[0].to_ascii_uppercase() as usize] = true;
        }
        i += 1;
    }
    table
}

/// Characters of a line's start that decide whether it opens with a junk prefix (more than
/// the longest prefix: lower-casing never shortens a text in characters).
const JUNK_PREFIX_CHARS: usize = 24;

/// Whether a line (not ASCII, leading bullets removed) could be junk as a whole rather than by
/// its start: short enough to be one of the exact junk lines (lower-casing never shortens a
/// text in characters), at most eight words (share/follow lines), or mentioning cookies
/// (`cookie` in any case, or a Kelvin sign, which lower-cases to `k`).
fn may_be_junk_as_a_whole(text: &str) -> bool {
    text.trim_end_matches([':', '.'])
        .chars()
        .nth(LONGEST_EXACT_JUNK)
        .is_none()
        || text.split_whitespace().nth(8).is_none()
        || contains_ignore_case(text.as_bytes(), b"cookie")
        || text.contains('\u{212A}')
}

/// Characters of the longest exact junk line.
const LONGEST_EXACT_JUNK: usize = 20;

/// A cookie or privacy consent notice (a line lower-cased, or ASCII; compared in any case).
fn is_cookie_notice(lower: &str) -> bool {
    let has = |w: &str| contains_ignore_case(lower.as_bytes(), w.as_bytes());
    lower.len() < 600
        && has("cookie")
        && [
            "website",
            "site",
            "browser",
            "consent",
            "accept",
            "privacy",
            "experience",
            "policy",
            "datenschutz",
        ]
        .iter()
        .any(|w| has(w))
}

static SLUG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:BC-[\w\-,]+|[A-Z]{2,}[-/][A-Z0-9\-/,]+(?:,\d+)?|(?:URGENT|FLASH|BULLETIN|ADVISORY|ALERT|PRIORITY)\b.*|[a-z]\s+[a-z]\b.*|\d{3,4}\s*(?:GMT|UTC|Z))$")
        .expect("static regex")
});

/// Wire slug, priority and end-mark lines (`BC-US--Syria-Talks,0523`, `URGENT`, `1020GMT`).
pub(crate) fn is_wire_slug(line: &str) -> bool {
    let t = line.trim();
    t.len() < 120
        && (SLUG.is_match(t)
            || matches!(
                t,
                "###" | "-30-" | "END" | "(END)" | "(MORE)" | "-0-" | "--"
            ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breadcrumbs() {
        assert_eq!(breadcrumb_section("Home > Asia").as_deref(), Some("Asia"));
        assert_eq!(
            breadcrumb_section("Home › News › Europe").as_deref(),
            Some("Europe")
        );
        assert_eq!(
            breadcrumb_section("Coastal Herald / Science").as_deref(),
            Some("Science")
        );
        assert_eq!(
            breadcrumb_section("News | Business | Latest").as_deref(),
            Some("Business")
        );
        assert_eq!(
            breadcrumb_section("The US and Russia > talks stalled on Tuesday."),
            None
        );
    }

    #[test]
    fn captions() {
        let m =
            caption("In this Jan 20, 2016 photo, John Kerry shakes hands. (Jacquelyn Martin/AP)")
                .expect("caption");
        assert_eq!(m.credit.as_deref(), Some("Jacquelyn Martin/AP"));
        assert_eq!(
            m.caption.as_deref(),
            Some("In this Jan 20, 2016 photo, John Kerry shakes hands.")
        );
        let m = caption("Kerry speaks in Geneva. REUTERS/Kevin Lamarque").expect("caption");
        assert_eq!(m.credit.as_deref(), Some("REUTERS/Kevin Lamarque"));
        let m = caption("Smoke rises over Aleppo. Photo: AFP").expect("caption");
        assert_eq!(m.credit.as_deref(), Some("AFP"));
        assert!(caption("He said the talks (in Geneva) went well.").is_none());
        assert!(caption("Prices rose 5% (year on year).").is_none());
    }

    #[test]
    fn datelines() {
        let (d, n) = dateline("WASHINGTON – The United States said").expect("dateline");
        assert_eq!(d.location.as_deref(), Some("WASHINGTON"));
        assert_eq!(n, "WASHINGTON – ".len());
        let (d, _) = dateline("LONDON, Sept 8 (Reuters) - Britain said").expect("dateline");
        assert_eq!(
            (
                d.location.as_deref(),
                d.date.as_deref(),
                d.agency.as_deref()
            ),
            (Some("LONDON"), Some("Sept 8"), Some("Reuters"))
        );
        let (d, _) = dateline("BEIRUT, Lebanon (AP) — Syrian troops").expect("dateline");
        assert_eq!(d.location.as_deref(), Some("BEIRUT, Lebanon"));
        assert_eq!(d.agency.as_deref(), Some("AP"));
        let (d, _) = dateline("(Reuters) - Shares fell").expect("dateline");
        assert_eq!(d.agency.as_deref(), Some("Reuters"));
        assert!(dateline("The talks – which failed").is_none());
        let (d, _) = dateline("PARIS — On Monday, the talks").expect("dateline");
        assert_eq!(d.location.as_deref(), Some("PARIS"));
        assert!(dateline("AP - The talks").is_none());
        assert!(dateline("US - Russia talks").is_none());
        // Found by fuzzing: blank parentheses are no agency (never `""`).
        let (d, n) = dateline("GREENFIELD, Ore. ( ) — A rare orchid").expect("dateline");
        assert_eq!(d.location.as_deref(), Some("GREENFIELD, Ore."));
        assert_eq!(d.agency, None);
        assert_eq!(n, "GREENFIELD, Ore. ( ) — ".len());
    }

    #[test]
    fn junk_length_and_first_byte_guards_keep_every_match() {
        assert!(is_junk("SKIP TO MAIN CONTENT:"));
        assert!(is_junk("• Next Article."));
        assert!(!is_junk("Most popular tonight"));
        assert!(is_junk("(C) 2020 Coastal Herald"));
        assert!(is_junk("COPYRIGHT 2020 Coastal Herald"));
        assert!(is_junk("Menu  Search Sections"));
        assert!(is_junk(
            "Copyright © 2020 Zürich Zeitung, alle Rechte vorbehalten"
        ));
        assert!(!is_junk("Ähnliche Artikel"));
        assert!(is_junk("© Coastal Herald"));
        assert!(!is_junk("Copy editors said (c) was wrong."));
        assert_eq!(longest(&["ab", "abcd", ""]), 4);
        let table = first_bytes(&["©", "se"]);
        assert!(table[usize::from(b'S')] && table[usize::from(b's')] && table[0xC2]);
        assert!(!table[usize::from(b'e')]);
    }

    #[test]
    fn junk_and_slugs() {
        assert!(is_junk("Latest News"));
        assert!(is_junk("Facebook Twitter WhatsApp Email"));
        assert!(is_junk("© 2019 Coastal Herald. All rights reserved."));
        assert!(!is_junk("Share prices fell sharply on Monday."));
        assert!(is_junk(
            "This website uses cookies to improve your experience. Accept"
        ));
        assert!(is_section_end("10 Comments"));
        assert!(is_section_end(
            "• Milan Griffes on September 12, 2018 at 4:47 pm said:"
        ));
        assert!(is_section_end("Leave a Reply"));
        assert!(is_section_end("Über Moritz Bachmann"));
        assert!(!is_section_end("About 40 people were hurt."));
        assert!(!is_section_end(
            "More than 40 people said the talks had failed."
        ));
        assert!(is_wire_slug("BC-US--Syria-Talks,0523"));
        assert!(is_wire_slug("1020GMT"));
        assert!(!is_wire_slug("Syria deal: US, Russia 'not there yet'"));
    }
}
