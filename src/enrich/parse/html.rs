//! HTML pages: a real HTML parser (html5ever via scraper), publisher metadata (schema.org
//! NewsArticle JSON-LD, Open Graph / `article:*` meta tags, `<time datetime>`, `rel=author`,
//! `<figcaption>`), and main-content extraction.
//!
//! Content extraction walks the DOM once (iteratively, no recursion), drops elements that
//! are never content (scripts, navigation, forms, asides, footers, figures, and elements
//! whose class/id say boilerplate: ads, comments, share, related, cookie, newsletter…),
//! cuts the rest into block-level text blocks with their link density, scores the
//! containers the way Readability does (paragraph text and commas credited to parent and
//! grandparent), and hands the blocks — biased towards the winning container and against
//! link-dense blocks — to the same body search the text parser uses.
//!
//! Before parsing, a linear pre-scan ([`prescan`]) drops what can never reach the extractor
//! (scripts, styles, comments, inline SVG, unread attributes, navigation without metadata)
//! and caps the nesting depth.
//!
//! Must not: run regular expressions over markup, or carry rules for a particular site.

use ego_tree::iter::Edge;
use ego_tree::NodeId;
use html5ever::tendril::TendrilSink;
use rustc_hash::FxHashMap;
use scraper::{ElementRef, Html, HtmlTreeSink, Node, Selector};
use serde_json::Value;

use super::prescan::{contains_ignore_case, prescan};
use super::text::{self, Block};
use super::{byline, dates, furniture, lang, normalize, ParseError};
use crate::enrich::record::{Byline, Format, Media};
use crate::enrich::story::Story;

/// Parses an HTML page (or fragment).
pub(crate) fn parse(input: &str) -> Result<Story, ParseError> {
    let doc = parse_document(&prescan(input));
    let meta = Meta::read(&doc);
    let strict_blocks = extract(&doc, true, true);
    let mut seen = text::BlockUnits::default();
    let strict = text::parse_blocks(&strict_blocks, Format::Html, &mut seen);
    let mut story = if word_count(&strict.body) < RETRY_BELOW_WORDS {
        // Class names misled the boilerplate filter (a `widget` wrapping the post, say):
        // try again trusting only tags and roles, and keep the richer result.
        let loose_blocks = extract(&doc, false, true);
        let loose = text::parse_blocks_again(&loose_blocks, Format::Html, &seen);
        if word_count(&loose.body) > 2 * word_count(&strict.body) {
            loose
        } else {
            strict
        }
    } else {
        strict
    };
    meta.apply(&mut story);
    if story.body.is_empty() {
        return Err(ParseError::MalformedHtml(
            "no article text found in the page".to_owned(),
        ));
    }
    Ok(story)
}

/// Below this many body words the class-name filter is distrusted and extraction re-run.
const RETRY_BELOW_WORDS: usize = 150;

/// Parses a whole page, with room for its nodes reserved up front (two per `<`: an element
/// and the text after its tag, at most) instead of the tree growing, and copying itself, as
/// it fills.
fn parse_document(page: &str) -> Html {
    let mut html = Html::new_document();
    let nodes = 2 * memchr::memchr_iter(b'<', page.as_bytes()).count() + 4;
    html.tree = ego_tree::Tree::with_capacity(Node::Document, nodes);
    html5ever::driver::parse_document(HtmlTreeSink::new(html), Default::default()).one(page)
}

/// Words in a text.
fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

/// Parses an HTML fragment (a ninjs or NewsML body) into paragraphs of text.
pub(crate) fn fragment_paragraphs(input: &str) -> Vec<String> {
    let doc = Html::parse_fragment(&prescan(input));
    extract(&doc, false, false)
        .into_iter()
        .map(|b| normalize::join_lines(&normalize::clean(&b.text, false)))
        .filter(|t| !t.is_empty())
        .collect()
}

// ------------------------------------------------------------------ metadata

/// What the page says about itself in metadata.
#[derive(Debug, Default)]
struct Meta {
    headline: Option<String>,
    h1: Option<String>,
    title: Option<String>,
    published: Option<String>,
    section: Option<String>,
    byline: Byline,
    language: Option<String>,
    media: Vec<Media>,
    /// `articleBody` texts as written, in document order: only read (the first one longer
    /// than 200 bytes once cleaned) when the page yields no body.
    article_bodies: Vec<String>,
}

/// Parses a static selector.
fn sel(s: &str) -> Option<Selector> {
    Selector::parse(s).ok()
}

/// A caption whose credit the markup marks: a descendant `<cite>`, or an element whose
/// class names a credit (`credit`, `copyright`, `photographer`, `attribution`), as in
/// `<figcaption>The Plains of Arafat <span class="credit">(Wikimedia Commons)</span>`.
/// The credit's text, without its brackets, is the credit; the caption keeps the whole
/// text as the page shows it.
fn marked_credit(figcaption: ElementRef<'_>, caption: &str) -> Option<Media> {
    let marked = figcaption
        .descendants()
        .skip(1)
        .filter_map(ElementRef::wrap)
        .find(|el| {
            let v = el.value();
            v.name() == "cite"
                || v.classes().any(|c| {
                    let c = c.to_ascii_lowercase();
                    ["credit", "copyright", "photographer", "attribution"]
                        .iter()
                        .any(|w| c.contains(w))
                })
        })?;
    let credit = element_text(marked);
    let credit = credit
        .trim()
        .trim_start_matches(['(', '['])
        .trim_end_matches([')', ']'])
        .trim();
    let plausible = !credit.is_empty() && credit.len() <= 120 && credit.len() < caption.len();
    plausible.then(|| Media {
        caption: Some(caption.to_owned()),
        credit: Some(credit.to_owned()),
    })
}

/// The cleaned text of an element.
fn element_text(el: ElementRef<'_>) -> String {
    let raw: String = el.text().collect();
    normalize::join_lines(&normalize::clean(&raw, false))
}

/// The elements metadata is read from, found in one pass over the document's nodes (in the
/// order the parser created them, as `Html::select` visits them).
#[derive(Default)]
struct MetaElements<'a> {
    /// `script[type="application/ld+json"]`.
    json_ld: Vec<ElementRef<'a>>,
    /// `meta[content]` with a key (`property`, else `name`, else `itemprop`): (key, content).
    meta_tags: Vec<(&'a str, &'a str)>,
    h1: Vec<ElementRef<'a>>,
    title: Vec<ElementRef<'a>>,
    /// `datetime` values of `time` elements.
    datetimes: Vec<&'a str>,
    /// `a[rel~="author"], [itemprop="author"], [rel="author"]`.
    authors: Vec<ElementRef<'a>>,
    /// The first `nav[aria-label*="readcrumb"], [class*="breadcrumb"], [id*="breadcrumb"]`.
    trail: Option<ElementRef<'a>>,
    figcaptions: Vec<ElementRef<'a>>,
}

impl<'a> MetaElements<'a> {
    /// Most author elements and captions read.
    const MAX_AUTHORS: usize = 4;
    const MAX_CAPTIONS: usize = 20;
    /// Longest caption taken, in characters (the corpus's longest is 322). A longer one is
    /// a `<figcaption>` left open around the rest of the page: nested, 20 of them made 20
    /// copies of a 900 KB body (1 GB of memory downstream).
    const MAX_CAPTION_CHARS: usize = 1_000;

    fn find(doc: &'a Html) -> Self {
        let mut found = MetaElements::default();
        for node in doc.tree.nodes() {
            if let Some(el) = ElementRef::wrap(node) {
                found.note(el);
            }
        }
        found
    }

    fn note(&mut self, el: ElementRef<'a>) {
        let e = el.value();
        let attrs = Attrs::of(e);
        match e.name() {
            "script"
                if attrs
                    .kind
                    .is_some_and(|t| t.eq_ignore_ascii_case("application/ld+json")) =>
            {
                self.json_ld.push(el);
            }
            "meta" => self.meta_tags.extend(attrs.meta_key().zip(attrs.content)),
            "h1" => self.h1.push(el),
            "title" => self.title.push(el),
            "time" => self.datetimes.extend(attrs.datetime),
            "figcaption" if self.figcaptions.len() < Self::MAX_CAPTIONS => {
                self.figcaptions.push(el);
            }
            _ => {}
        }
        let rel = attrs.rel;
        let is_author = e.name() == "a"
            && rel.is_some_and(|r| r.split_ascii_whitespace().any(|w| w == "author"))
            || attrs.itemprop == Some("author")
            || rel == Some("author");
        if is_author && self.authors.len() < Self::MAX_AUTHORS {
            self.authors.push(el);
        }
        if self.trail.is_none() {
            let has = |v: Option<&str>| v.is_some_and(|v| v.contains("breadcrumb"));
            let labelled =
                e.name() == "nav" && attrs.aria_label.is_some_and(|v| v.contains("readcrumb"));
            if labelled || has(attrs.class) || has(attrs.id) {
                self.trail = Some(el);
            }
        }
    }
}

/// The attributes the metadata reader and the extractor look at, found in one pass over an
/// element's attributes (`Element::attr` interns the name it is asked for on every call).
#[derive(Debug, Default)]
struct Attrs<'a> {
    class: Option<&'a str>,
    id: Option<&'a str>,
    role: Option<&'a str>,
    style: Option<&'a str>,
    rel: Option<&'a str>,
    itemprop: Option<&'a str>,
    aria_label: Option<&'a str>,
    aria_hidden: Option<&'a str>,
    hidden: bool,
    /// `type`.
    kind: Option<&'a str>,
    content: Option<&'a str>,
    property: Option<&'a str>,
    name: Option<&'a str>,
    datetime: Option<&'a str>,
}

impl<'a> Attrs<'a> {
    fn of(el: &'a scraper::node::Element) -> Self {
        let mut a = Attrs::default();
        for (name, value) in el.attrs() {
            let slot = match name {
                "class" => &mut a.class,
                "id" => &mut a.id,
                "role" => &mut a.role,
                "style" => &mut a.style,
                "rel" => &mut a.rel,
                "itemprop" => &mut a.itemprop,
                "aria-label" => &mut a.aria_label,
                "aria-hidden" => &mut a.aria_hidden,
                "type" => &mut a.kind,
                "content" => &mut a.content,
                "property" => &mut a.property,
                "name" => &mut a.name,
                "datetime" => &mut a.datetime,
                "hidden" => {
                    a.hidden = true;
                    continue;
                }
                _ => continue,
            };
            *slot = Some(value);
        }
        a
    }

    /// The key a `<meta>` tag's content is filed under: `property`, else `name`, else
    /// `itemprop`.
    fn meta_key(&self) -> Option<&'a str> {
        self.property.or(self.name).or(self.itemprop)
    }
}

impl Meta {
    /// Reads JSON-LD, meta tags, `<h1>`, `<time>`, `rel=author` and figure captions.
    fn read(doc: &Html) -> Self {
        let found = MetaElements::find(doc);
        let mut meta = Meta::default();
        meta.read_json_ld(&found.json_ld);
        meta.read_meta_tags(&found.meta_tags);
        meta.read_elements(doc, &found);
        meta
    }

    /// schema.org `NewsArticle` (or any `*Article`, `BlogPosting`) objects in JSON-LD.
    fn read_json_ld(&mut self, scripts: &[ElementRef<'_>]) {
        for script in scripts {
            let raw: String = script.text().collect();
            let Ok(value) = serde_json::from_str::<Value>(raw.trim()) else {
                continue;
            };
            let mut stack = vec![&value];
            let mut visited = 0;
            while let Some(v) = stack.pop() {
                visited += 1;
                if visited > 500 {
                    break;
                }
                match v {
                    Value::Array(items) => stack.extend(items.iter()),
                    Value::Object(obj) => {
                        if let Some(g) = obj.get("@graph") {
                            stack.push(g);
                        }
                        if is_article_type(obj.get("@type")) {
                            self.read_article_object(obj);
                        }
                        if is_type(obj.get("@type"), "BreadcrumbList") && self.section.is_none() {
                            self.section = breadcrumb_list_section(obj);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// One schema.org article object.
    fn read_article_object(&mut self, obj: &serde_json::Map<String, Value>) {
        let text = |k: &str| {
            obj.get(k)
                .and_then(Value::as_str)
                .map(|s| normalize::clean(s, true))
        };
        if self.headline.is_none() {
            self.headline = text("headline")
                .filter(|s| is_headline_sized(s))
                .or_else(|| text("name").filter(|s| is_headline_sized(s)));
        }
        if self.published.is_none() {
            self.published = text("datePublished")
                .or_else(|| text("dateCreated"))
                .and_then(|d| dates::parse(&d))
                .map(|d| d.to_rfc3339());
        }
        if self.section.is_none() {
            self.section = match obj.get("articleSection") {
                Some(Value::String(s)) => Some(normalize::clean(s, true)),
                Some(Value::Array(a)) => a
                    .first()
                    .and_then(Value::as_str)
                    .map(|s| normalize::clean(s, true)),
                _ => None,
            }
            .filter(|s| !s.is_empty());
        }
        if self.byline.authors.is_empty() && self.byline.agency.is_none() {
            read_ld_people(obj.get("author"), &mut self.byline);
        }
        if let Some(body) = obj.get("articleBody").and_then(Value::as_str) {
            self.article_bodies.push(body.to_owned());
        }
        if self.language.is_none() {
            self.language = text("inLanguage").and_then(|l| lang::normalise_code(&l));
        }
    }

    /// Open Graph, `article:*`, `author` and Dublin Core meta tags.
    fn read_meta_tags(&mut self, tags: &[(&str, &str)]) {
        // The first content of each key, cleaned only when asked for.
        let mut found: FxHashMap<String, &str> = FxHashMap::default();
        for &(key, content) in tags {
            found.entry(key.to_ascii_lowercase()).or_insert(content);
        }
        let get_if = |keys: &[&str], keep: fn(&str) -> bool| {
            keys.iter().find_map(|k| {
                found
                    .get(*k)
                    .map(|v| normalize::clean(v, true))
                    .filter(|v| keep(v))
            })
        };
        let get = |keys: &[&str]| get_if(keys, |v| !v.is_empty());
        if self.headline.is_none() {
            self.headline = get_if(
                &["og:title", "twitter:title", "dc.title", "headline"],
                is_headline_sized,
            );
        }
        if self.published.is_none() {
            self.published = get(&[
                "article:published_time",
                "datepublished",
                "dc.date",
                "dc.date.issued",
                "date",
                "pubdate",
                "publishdate",
                "og:article:published_time",
                "sailthru.date",
                "parsely-pub-date",
            ])
            .and_then(|d| dates::parse(&d))
            .map(|d| d.to_rfc3339());
        }
        if self.section.is_none() {
            self.section = get(&["article:section", "section", "parsely-section"]);
        }
        if self.byline.authors.is_empty() && self.byline.agency.is_none() {
            if let Some(a) = get(&[
                "author",
                "article:author",
                "dc.creator",
                "parsely-author",
                "byl",
            ]) {
                if !a.starts_with("http") {
                    byline::split_into(&a, &mut self.byline);
                }
            }
        }
    }

    /// `<html lang>`, `<h1>`, `<title>`, `<time datetime>`, `rel=author`, `<figcaption>`.
    fn read_elements(&mut self, doc: &Html, found: &MetaElements<'_>) {
        if let Some(l) = doc.root_element().attr("lang") {
            self.language = self.language.take().or_else(|| lang::normalise_code(l));
        }
        self.h1 = found
            .h1
            .iter()
            .map(|&e| element_text(e))
            .find(|t| !t.is_empty());
        // The page's first title only: an over-long one is not replaced by a later `title`
        // element, which a malformed page can hold anywhere.
        self.title = found
            .title
            .iter()
            .map(|&e| strip_site_name(&element_text(e)))
            .find(|t| !t.is_empty())
            .filter(|t| is_headline_sized(t));
        if self.published.is_none() {
            self.published = found
                .datetimes
                .iter()
                .find_map(|d| dates::parse(d))
                .map(|d| d.to_rfc3339());
        }
        if self.byline.authors.is_empty() && self.byline.agency.is_none() {
            for &el in &found.authors {
                byline::split_into(&element_text(el), &mut self.byline);
            }
        }
        if self.section.is_none() {
            self.section = found.trail.and_then(breadcrumb_section);
        }
        for &el in &found.figcaptions {
            let t = element_text(el);
            if t.is_empty() || t.chars().nth(MetaElements::MAX_CAPTION_CHARS).is_some() {
                continue;
            }
            let m = furniture::caption(&t)
                .or_else(|| marked_credit(el, &t))
                .unwrap_or(Media {
                    caption: Some(t),
                    credit: None,
                });
            if !self.media.contains(&m) {
                self.media.push(m);
            }
        }
    }

    /// Lays the metadata over what the body search found (metadata wins where present).
    fn apply(self, story: &mut Story) {
        let headline = self
            .headline
            .or_else(|| self.h1.clone().filter(|h| is_headline_sized(h)))
            .or_else(|| self.title.clone());
        drop_title_paragraphs(story, [headline.as_deref(), self.h1.as_deref()]);
        if headline.is_some() {
            story.headline = headline;
        }
        if self.published.is_some() {
            story.published = self.published;
        }
        if self.section.is_some() {
            story.section = self.section;
        }
        if !self.byline.authors.is_empty() || self.byline.agency.is_some() {
            let agency = story.byline.agency.take();
            story.byline = self.byline;
            if story.byline.agency.is_none() {
                story.byline.agency = agency;
            }
        }
        if !self.media.is_empty() {
            story.media = self.media;
        }
        story.language = self.language;
        if story.body.is_empty() {
            let article_body = self
                .article_bodies
                .iter()
                .map(|raw| normalize::clean(raw, true))
                .find(|body| body.len() > 200);
            if let Some(body) = article_body {
                let paragraphs: Vec<String> = body
                    .split("\n\n")
                    .map(normalize::join_lines)
                    .filter(|p| !p.is_empty())
                    .collect();
                story.set_body_from_paragraphs(&paragraphs);
            }
        }
    }
}

/// The section named by a breadcrumb trail (`<nav aria-label="breadcrumb">`, an element whose
/// class names a breadcrumb): its links' texts read as `Home > World > Asia`.
fn breadcrumb_section(el: ElementRef<'_>) -> Option<String> {
    let items = sel("a, li, span")?;
    let mut parts: Vec<String> = Vec::new();
    for item in el.select(&items).take(12) {
        let t = element_text(item);
        if !t.is_empty()
            && !parts
                .iter()
                .any(|p| p.contains(&t) || t.contains(p.as_str()))
        {
            parts.push(t);
        }
    }
    furniture::breadcrumb_section(&parts.join(" > "))
}

/// The longest text a page's title, `<h1>` or metadata headline may be, in characters.
/// No headline in the corpus (1,177 stories) or the parse dev pages is longer than 170;
/// a longer one is page text that a malformed tag caught (an unclosed `<title>` holds the
/// rest of the page), not a headline.
const MAX_HEADLINE_CHARS: usize = 400;

/// Whether `text` can be a headline: not empty and no longer than [`MAX_HEADLINE_CHARS`].
fn is_headline_sized(text: &str) -> bool {
    // Bytes bound characters from above, so the count runs only on short texts.
    !text.is_empty()
        && (text.len() <= MAX_HEADLINE_CHARS
            || text.len() <= 4 * MAX_HEADLINE_CHARS && text.chars().count() <= MAX_HEADLINE_CHARS)
}

/// Removes body paragraphs that repeat the page's title (`<h1>`, metadata headline).
fn drop_title_paragraphs(story: &mut Story, titles: [Option<&str>; 2]) {
    let fold = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    let titles: Vec<String> = titles.into_iter().flatten().map(fold).collect();
    // Folding keeps the number of words: only paragraphs of a title's length are folded.
    let title_words: Vec<usize> = titles
        .iter()
        .map(|t| t.split_whitespace().count())
        .collect();
    let is_title = |p: &str| {
        let words = p.split_whitespace().count();
        title_words.contains(&words) && titles.contains(&fold(p))
    };
    let text = |p: &crate::enrich::story::ByteSpan| &story.body[p.start..p.end];
    let titled: Vec<bool> = story.paragraphs.iter().map(|p| is_title(text(p))).collect();
    let dropped = titled.iter().filter(|&&t| t).count();
    // Copied only when some, but not all, paragraphs go.
    if dropped > 0 && dropped < titled.len() {
        let kept: Vec<String> = story
            .paragraphs
            .iter()
            .zip(&titled)
            .filter(|(_, &t)| !t)
            .map(|(p, _)| text(p).to_owned())
            .collect();
        story.set_body_from_paragraphs(&kept);
    }
}

/// `Headline | Site` / `Headline - Site` -> `Headline`.
fn strip_site_name(title: &str) -> String {
    for sep in [" | ", " – ", " — ", " - ", " :: "] {
        if let Some((head, _)) = title.rsplit_once(sep) {
            if head.split_whitespace().count() >= 3 {
                return head.trim().to_owned();
            }
        }
    }
    title.to_owned()
}

/// Whether a JSON-LD `@type` names an article.
fn is_article_type(t: Option<&Value>) -> bool {
    let check = |s: &str| s.ends_with("Article") || s == "BlogPosting" || s == "Report";
    match t {
        Some(Value::String(s)) => check(s),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).any(check),
        _ => false,
    }
}

/// Whether a JSON-LD `@type` is `name`.
fn is_type(t: Option<&Value>, name: &str) -> bool {
    match t {
        Some(Value::String(s)) => s == name,
        Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(name)),
        _ => false,
    }
}

/// The last non-generic item of a `BreadcrumbList`.
fn breadcrumb_list_section(obj: &serde_json::Map<String, Value>) -> Option<String> {
    let items = obj.get("itemListElement")?.as_array()?;
    let names: Vec<String> = items
        .iter()
        .filter_map(|i| {
            i.get("name")
                .or_else(|| i.get("item").and_then(|it| it.get("name")))
                .and_then(Value::as_str)
                .map(|s| normalize::clean(s, true))
        })
        .collect();
    let line = names.join(" > ");
    furniture::breadcrumb_section(&line)
}

/// JSON-LD `author`: a string, an object with `name` and `@type`, or a list of those.
fn read_ld_people(v: Option<&Value>, into: &mut Byline) {
    match v {
        Some(Value::String(s)) => byline::split_into(&normalize::clean(s, true), into),
        Some(Value::Array(a)) => {
            for item in a.iter().take(10) {
                read_ld_people(Some(item), into);
            }
        }
        Some(Value::Object(o)) => {
            let Some(name) = o.get("name").and_then(Value::as_str) else {
                return;
            };
            let name = normalize::clean(name, true);
            if is_type(o.get("@type"), "Organization")
                || is_type(o.get("@type"), "NewsMediaOrganization")
            {
                if into.agency.is_none() {
                    into.agency = byline::agency_name(&name).or(Some(name));
                }
            } else if is_type(o.get("@type"), "Person") {
                byline::add_declared_person(&name, into);
            } else {
                byline::split_into(&name, into);
            }
        }
        _ => {}
    }
}

// ------------------------------------------------------------------ content

/// Elements whose content is never article text.
fn is_skipped_tag(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "noscript"
            | "template"
            | "nav"
            | "footer"
            | "aside"
            | "form"
            | "button"
            | "select"
            | "option"
            | "input"
            | "textarea"
            | "label"
            | "iframe"
            | "svg"
            | "canvas"
            | "video"
            | "audio"
            | "figure"
            | "figcaption"
            | "menu"
            | "dialog"
            | "head"
            | "object"
            | "embed"
            | "math"
    )
}

/// Block-level elements: each starts a new text block.
fn is_block_tag(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "section"
            | "article"
            | "main"
            | "header"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "li"
            | "ul"
            | "ol"
            | "dl"
            | "dt"
            | "dd"
            | "blockquote"
            | "pre"
            | "table"
            | "tr"
            | "td"
            | "th"
            | "tbody"
            | "thead"
            | "br"
            | "hr"
            | "address"
            | "center"
            | "details"
            | "summary"
            | "body"
            | "html"
    )
}

/// Class/id words that mark boilerplate (Readability's "unlikely candidates"), sorted.
const BOILERPLATE_WORDS: &[&str] = &[
    "ad",
    "ads",
    "adslot",
    "advert",
    "advertisement",
    "author-bio",
    "banner",
    "bio",
    "breadcrumb",
    "breadcrumbs",
    "caption",
    "comment",
    "comments",
    "consent",
    "cookie",
    "cookies",
    "credits",
    "disqus",
    "footer",
    "gdpr",
    "hidden",
    "masthead",
    "menu",
    "modal",
    "more-stories",
    "nav",
    "navbar",
    "newsletter",
    "outbrain",
    "pager",
    "pagination",
    "paywall",
    "popup",
    "print",
    "promo",
    "recommendations",
    "recommended",
    "related",
    "share",
    "sharing",
    "sidebar",
    "signup",
    "skip",
    "social",
    "sponsor",
    "sponsored",
    "sr-only",
    "subscribe",
    "subscription",
    "taboola",
    "tags",
    "toolbar",
    "trending",
    "visually-hidden",
    "widget",
];

/// Class/id words that mark content: they overrule [`BOILERPLATE_WORDS`]. Sorted.
const CONTENT_WORDS: &[&str] = &[
    "article", "body", "content", "entry", "main", "post", "story", "text",
];

/// Longest word in [`BOILERPLATE_WORDS`] and [`CONTENT_WORDS`].
const LONGEST_NAME_WORD: usize = 15;

/// By word length, a bit for each first letter (its byte modulo 64) of the listed class
/// words of that length: most words of a class attribute are ruled out by one lookup.
const NAME_WORD_SHAPES: [u64; LONGEST_NAME_WORD + 1] =
    word_shapes([BOILERPLATE_WORDS, CONTENT_WORDS]);

/// Builds [`NAME_WORD_SHAPES`].
const fn word_shapes(lists: [&[&str]; 2]) -> [u64; LONGEST_NAME_WORD + 1] {
    let mut shapes = [0u64; LONGEST_NAME_WORD + 1];
    let mut l = 0;
    while l < lists.len() {
        let mut i = 0;
        while i < lists[l].len() {
            let word = lists[l][i].as_bytes();
            if !word.is_empty() && word.len() <= LONGEST_NAME_WORD {
                shapes[word.len()] |= 1 << (word[0] % 64);
            }
            i += 1;
        }
        l += 1;
    }
    shapes
}

/// Whether a (lower-case) word of that length and first letter could be listed.
fn may_be_listed(len: usize, first: u8) -> bool {
    NAME_WORD_SHAPES
        .get(len)
        .is_some_and(|shapes| shapes & (1 << (first % 64)) != 0)
}

/// Class/id words that mark boilerplate (Readability's "unlikely candidates").
fn is_boilerplate_name(attr: &str) -> bool {
    // Runs for every element: a word of a listed length and first letter is lower-cased
    // into a small buffer (longer words are in neither list) and looked up by binary search.
    let (mut bad, mut good) = (false, false);
    let mut buf = [0u8; LONGEST_NAME_WORD];
    for word in attr
        .as_bytes()
        .split(|b| !b.is_ascii_alphanumeric())
        .filter(|w| {
            w.first()
                .is_some_and(|&b| may_be_listed(w.len(), b.to_ascii_lowercase()))
        })
    {
        let lower = &mut buf[..word.len()];
        lower.copy_from_slice(word);
        lower.make_ascii_lowercase();
        let Ok(lower) = std::str::from_utf8(lower) else {
            continue;
        };
        bad = bad || BOILERPLATE_WORDS.binary_search(&lower).is_ok();
        good = good || CONTENT_WORDS.binary_search(&lower).is_ok();
    }
    bad && !good
        || attr.contains('-') && contains_ignore_case(attr.as_bytes(), b"ad-slot")
        || contains_ignore_case(attr.as_bytes(), b"related")
}

/// [`is_boilerplate_name`] of the class and id values seen, by value: a page repeats the
/// same names on many elements.
#[derive(Debug, Default)]
struct BoilerplateNames<'a>(FxHashMap<&'a str, bool>);

impl<'a> BoilerplateNames<'a> {
    fn check(&mut self, attr: &'a str) -> bool {
        *self
            .0
            .entry(attr)
            .or_insert_with(|| is_boilerplate_name(attr))
    }
}

/// Whether an element is never content, by tag, role, hidden state or class/id.
fn skip_element<'a>(
    el: &'a scraper::node::Element,
    by_class: bool,
    names: &mut BoilerplateNames<'a>,
) -> bool {
    if is_skipped_tag(el.name()) {
        return true;
    }
    let attrs = Attrs::of(el);
    if attrs.hidden || attrs.aria_hidden == Some("true") {
        return true;
    }
    if let Some(role) = attrs.role {
        if matches!(
            role,
            "navigation"
                | "banner"
                | "contentinfo"
                | "complementary"
                | "dialog"
                | "menu"
                | "search"
        ) {
            return true;
        }
    }
    if let Some(style) = attrs.style {
        let s = style.replace(' ', "").to_ascii_lowercase();
        if s.contains("display:none") || s.contains("visibility:hidden") {
            return true;
        }
    }
    if !by_class || matches!(el.name(), "body" | "html" | "article" | "main") {
        return false;
    }
    attrs.class.is_some_and(|c| names.check(c)) || attrs.id.is_some_and(|i| names.check(i))
}

/// A block while it is being collected.
#[derive(Debug, Default)]
struct RawBlock {
    text: String,
    link_chars: usize,
    /// The block element and its parent and grandparent.
    owner: Option<NodeId>,
    parent: Option<NodeId>,
    grandparent: Option<NodeId>,
    heading: bool,
}

/// Walks the DOM once and cuts it into blocks (skipping boilerplate by class/id when
/// `by_class`); with `score`, biases them by container and link density.
fn extract(doc: &Html, by_class: bool, score: bool) -> Vec<Block> {
    let raw = collect_blocks(doc, by_class);
    if !score {
        return raw
            .into_iter()
            .map(|b| Block {
                text: b.text,
                bias: 0,
            })
            .collect();
    }
    let top = best_container(doc, &raw);
    raw.into_iter()
        .map(|b| {
            let chars = b.text.chars().count().max(1);
            let density = b.link_chars as f64 / chars as f64;
            let mut bias = 0i64;
            if let Some(top) = top {
                let owned = b.owner.is_some_and(|o| is_within(doc, o, top));
                bias += if owned {
                    INSIDE_BONUS
                } else {
                    -OUTSIDE_PENALTY
                };
            }
            if density > 0.5 {
                bias -= 25;
            } else if density > 0.3 {
                bias -= 6;
            }
            if b.heading && bias > 0 {
                bias = 0;
            }
            Block { text: b.text, bias }
        })
        .collect()
}

/// Whether `node` is `container` or one of its descendants (walks up from `node`: blocks
/// are few, a container's descendants many).
fn is_within(doc: &Html, node: NodeId, container: NodeId) -> bool {
    let mut at = doc.tree.get(node);
    while let Some(n) = at {
        if n.id() == container {
            return true;
        }
        at = n.parent();
    }
    false
}

/// Score bonus of a block inside the main-content container: enough to carry short list
/// items and table rows of the article.
const INSIDE_BONUS: i64 = 10;
/// Score penalty of a block outside it.
const OUTSIDE_PENALTY: i64 = 8;

/// One pass over the tree: text blocks with link length and owners.
fn collect_blocks(doc: &Html, by_class: bool) -> Vec<RawBlock> {
    let mut blocks = Vec::new();
    let mut current = RawBlock::default();
    let mut open: Vec<NodeId> = Vec::new();
    let mut skipping: Option<NodeId> = None;
    // After a heading that announces related posts or comments, the rest of its parent.
    let mut cut: Option<NodeId> = None;
    let mut prose = ProseSeen::default();
    let mut names = BoilerplateNames::default();
    let mut link_depth = 0usize;
    for edge in doc.tree.root().traverse() {
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() || cut.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Element(el) => {
                        if is_closing_heading(node, el) && prose.chars(&blocks) >= PROSE_BEFORE_CUT
                        {
                            cut = open.last().copied().filter(|&p| !is_page_root(doc, p));
                            if cut.is_some() {
                                continue;
                            }
                        }
                        if skip_element(el, by_class, &mut names) {
                            skipping = Some(node.id());
                            continue;
                        }
                        if is_block_tag(el.name()) {
                            flush(&mut current, &mut blocks);
                            current.owner = Some(node.id());
                            current.parent = open.last().copied();
                            current.grandparent =
                                open.len().checked_sub(2).and_then(|i| open.get(i)).copied();
                            current.heading =
                                matches!(el.name(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6");
                        }
                        if el.name() == "a" {
                            link_depth += 1;
                        }
                        if matches!(el.name(), "td" | "th") {
                            // Cells of a row stay on one line, apart.
                            current.text.push(' ');
                        }
                        open.push(node.id());
                    }
                    Node::Text(t) => {
                        current.text.push_str(t);
                        if link_depth > 0 {
                            current.link_chars += t.chars().filter(|c| !c.is_whitespace()).count();
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if skipping == Some(node.id()) {
                    skipping = None;
                    continue;
                }
                if skipping.is_some() {
                    continue;
                }
                if cut == Some(node.id()) {
                    cut = None;
                } else if cut.is_some() {
                    continue;
                }
                if let Node::Element(el) = node.value() {
                    open.pop();
                    if el.name() == "a" {
                        link_depth = link_depth.saturating_sub(1);
                    }
                    if is_block_tag(el.name()) {
                        flush(&mut current, &mut blocks);
                        current.owner = open.last().copied();
                        current.parent =
                            open.len().checked_sub(2).and_then(|i| open.get(i)).copied();
                    }
                }
            }
        }
    }
    flush(&mut current, &mut blocks);
    blocks
}

/// Characters of prose (blocks of 25+ characters, under 30% link text) collected so far,
/// counted incrementally.
#[derive(Debug, Default)]
struct ProseSeen {
    counted: usize,
    chars: usize,
}

impl ProseSeen {
    fn chars(&mut self, blocks: &[RawBlock]) -> usize {
        for b in blocks.get(self.counted..).unwrap_or_default() {
            let len = b.text.len();
            if len >= 25 && b.link_chars * 10 < len * 3 {
                self.chars += len;
            }
        }
        self.counted = blocks.len();
        self.chars
    }
}

/// `<body>` or `<html>`: never cut whole.
fn is_page_root(doc: &Html, id: NodeId) -> bool {
    doc.tree
        .get(id)
        .and_then(|n| n.value().as_element())
        .is_none_or(|e| matches!(e.name(), "body" | "html"))
}

/// Prose the page must have shown before a heading may close the article: a "Related" title
/// above the article (a teaser box) closes nothing.
const PROSE_BEFORE_CUT: usize = 400;

/// A sub-heading (`h2`–`h6`) that opens what follows an article — related posts, comments,
/// "you may also like" — by its class/id or its text: the rest of its parent is not the
/// article (Readability drops such sections by class; this also catches the heading that is
/// the only marked element of an otherwise plain list of teasers).
fn is_closing_heading(node: ego_tree::NodeRef<'_, Node>, el: &scraper::node::Element) -> bool {
    if !matches!(el.name(), "h2" | "h3" | "h4" | "h5" | "h6") {
        return false;
    }
    let names_related = |attr: &str| {
        let lower = attr.to_ascii_lowercase();
        [
            "related",
            "recommend",
            "comments",
            "more-stories",
            "also-like",
        ]
        .iter()
        .any(|w| lower.contains(w))
    };
    if el.attr("class").is_some_and(names_related) || el.attr("id").is_some_and(names_related) {
        return true;
    }
    let Some(heading) = ElementRef::wrap(node) else {
        return false;
    };
    let mut text = String::new();
    for t in heading.text() {
        text.push_str(t);
        if text.len() > 120 {
            return false;
        }
    }
    furniture::is_section_end(text.trim())
}

/// Ends the current block, keeping it (trimmed) when it has text; an empty block's buffer is
/// reused for the next.
fn flush(current: &mut RawBlock, blocks: &mut Vec<RawBlock>) {
    if current.text.chars().any(char::is_alphanumeric) {
        let mut taken = std::mem::take(current);
        trim_in_place(&mut taken.text);
        blocks.push(taken);
    } else {
        let mut text = std::mem::take(&mut current.text);
        text.clear();
        *current = RawBlock {
            text,
            ..RawBlock::default()
        };
    }
}

/// Removes leading and trailing whitespace without copying the text.
fn trim_in_place(text: &mut String) {
    let end = text.trim_end().len();
    text.truncate(end);
    let start = text.len() - text.trim_start().len();
    text.drain(..start);
}

/// The element that holds the article text: Readability's scoring (each prose block credits
/// its parent fully and its grandparent half, by length and commas), with a bonus for
/// publisher markup (`itemprop=articleBody`, `<article>`).
fn best_container(doc: &Html, blocks: &[RawBlock]) -> Option<NodeId> {
    let mut scores: FxHashMap<NodeId, f64> = FxHashMap::default();
    for b in blocks {
        let len = b.text.chars().count();
        if len < 25 || b.heading {
            continue;
        }
        let density = b.link_chars as f64 / len as f64;
        if density > 0.3 {
            continue;
        }
        let commas = b.text.matches([',', '，', '،']).count() as f64;
        let points = 1.0 + commas + (len as f64 / 100.0).min(3.0);
        // A paragraph's text belongs to its block element's parent; text directly in a div
        // belongs to the div.
        let (p1, p2) = (b.parent.or(b.owner), b.grandparent);
        if let Some(p) = p1 {
            *scores.entry(p).or_default() += points;
        }
        if let Some(g) = p2 {
            *scores.entry(g).or_default() += points / 2.0;
        }
    }
    // `[itemprop="articleBody"], article`, checked on the scored elements only.
    for (id, score) in &mut scores {
        let publisher_marked = doc
            .tree
            .get(*id)
            .and_then(|n| n.value().as_element())
            .is_some_and(|e| e.name() == "article" || Attrs::of(e).itemprop == Some("articleBody"));
        if publisher_marked {
            *score *= 1.25;
        }
    }
    scores
        .into_iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(id, _)| id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<!DOCTYPE html><html lang="en"><head>
<title>Harbour workers end strike | Coastal Herald</title>
<meta property="og:title" content="Harbour workers end strike">
<meta property="article:published_time" content="2019-05-09T10:20:00Z">
<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle","headline":"Harbour workers end strike","datePublished":"2019-05-09T10:20:00Z","author":{"@type":"Person","name":"Ana Silva"},"articleSection":"Europe"}</script>
</head><body>
<div id="cookie-banner">We use cookies to improve your experience. <button>Accept</button></div>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li></ul></nav></header>
<main><article>
<h1>Harbour workers end strike</h1>
<p class="byline">By <span>Ana Silva</span></p>
<figure><img src="x.jpg"><figcaption>Dockers leave the port on Friday. <span class="credit">(Rui Costa/NBP)</span></figcaption></figure>
<div class="article-body">
<p><span class="dateline">LISBON</span> – Harbour workers ended a two-week strike on Friday, after the union and the port authority agreed a pay deal.</p>
<div class="ad-slot">Advertisement</div>
<p>The union said members would return to work on Monday morning, and that the deal ran for three years.</p>
<p>Shipping lines, which had diverted vessels to other ports, welcomed the news.</p>
</div></article>
<aside class="related"><h2>Related stories</h2><ul><li><a href="/a">Port strike spreads to the north</a></li></ul></aside>
</main><footer><p>&copy; 2019 Coastal Herald. <a href="/privacy">Privacy</a></p></footer>
</body></html>"#;

    #[test]
    fn text_longer_than_a_headline_is_not_the_headline() {
        let body = "<p>Harbour workers ended a two-week strike on Friday, after the union and \
                    the port authority agreed a pay deal.</p><p>The union said members would \
                    return to work on Monday morning, and that the deal ran for three years.</p>";
        let long = "Harbour workers end strike ".repeat(16);
        let trimmed = long.trim();
        assert!(trimmed.chars().count() > MAX_HEADLINE_CHARS);
        // Each over-long source gives way to the next one (metadata, `<h1>`, `<title>`).
        let page = format!(
            "<html><head><meta property=\"og:title\" content=\"{trimmed}\">\
             <title>{trimmed}</title></head><body><article><h1>Dockers go back</h1>{body}\
             </article></body></html>"
        );
        let s = parse(&page).expect("story");
        assert_eq!(s.headline.as_deref(), Some("Dockers go back"));
        let page = format!(
            "<html><head><title>Dockers go back | Coastal Herald</title></head><body>\
             <article><h1>{trimmed}</h1>{body}</article></body></html>"
        );
        let s = parse(&page).expect("story");
        assert_eq!(s.headline.as_deref(), Some("Dockers go back"));
        // Within the metadata too: a long `og:title` gives way to `twitter:title`, a long
        // JSON-LD `headline` to its `name`.
        let page = format!(
            "<html><head><meta property=\"og:title\" content=\"{trimmed}\">\
             <meta name=\"twitter:title\" content=\"Dockers go back\"></head><body>\
             <article>{body}</article></body></html>"
        );
        let s = parse(&page).expect("story");
        assert_eq!(s.headline.as_deref(), Some("Dockers go back"));
        let page = format!(
            "<html><head><script type=\"application/ld+json\">{{\"@type\":\"NewsArticle\",\
             \"headline\":\"{trimmed}\",\"name\":\"Dockers go back\"}}</script></head>\
             <body><article>{body}</article></body></html>"
        );
        let s = parse(&page).expect("story");
        assert_eq!(s.headline.as_deref(), Some("Dockers go back"));
        // The limit applies to the title without its site name.
        let fits = &trimmed[..MAX_HEADLINE_CHARS - 10];
        let page = format!(
            "<html><head><title>{fits} | The Coastal Herald Online</title></head><body>\
             <article>{body}</article></body></html>"
        );
        let s = parse(&page).expect("story");
        assert_eq!(s.headline.as_deref(), Some(fits.trim()));
        // An unclosed `<title>` after an unknown element has opened the body holds the rest
        // of the page, which is then the body too: no headline rather than the page.
        let page = format!(
            "<html><head><heatle>Dockers go back.<title>{}",
            "Harbour workers ended a two-week strike on Friday, after the union and the \
             port authority agreed a pay deal. "
                .repeat(8)
        );
        let s = parse(&page).expect("story");
        assert!(s.body.len() > MAX_HEADLINE_CHARS, "body: {}", s.body);
        assert_eq!(s.headline, None);
        // At the limit, counted in characters, not bytes.
        let at_limit = "é".repeat(MAX_HEADLINE_CHARS);
        assert!(is_headline_sized(&at_limit));
        assert!(!is_headline_sized(&format!("{at_limit}é")));
        assert!(!is_headline_sized(""));
    }

    #[test]
    fn article_page() {
        let s = parse(PAGE).expect("story");
        assert_eq!(s.format, Format::Html);
        assert_eq!(s.headline.as_deref(), Some("Harbour workers end strike"));
        assert_eq!(s.published.as_deref(), Some("2019-05-09T10:20:00Z"));
        assert_eq!(s.section.as_deref(), Some("Europe"));
        assert_eq!(s.byline.authors, vec!["Ana Silva"]);
        assert_eq!(s.language.as_deref(), Some("en"));
        assert_eq!(s.media.len(), 1);
        assert_eq!(s.media[0].credit.as_deref(), Some("Rui Costa/NBP"));
        let page = r#"<html><body><article><h1>Pilgrims gather</h1>
<figure><img src="x.jpg"><figcaption>The Plains of Arafat on the day of Hajj <span class="credit">(Wikimedia Commons)</span></figcaption></figure>
<p>Hundreds of thousands of pilgrims gathered on the plain on Monday, officials said, as the annual rites reached their peak under a hot sun.</p>
<p>Saudi authorities said the crowds were smaller than last year because of new limits on permits.</p>
</article></body></html>"#;
        let pilgrims = parse(page).expect("story");
        assert_eq!(
            pilgrims.media[0].credit.as_deref(),
            Some("Wikimedia Commons")
        );
        assert_eq!(
            s.dateline.as_ref().and_then(|d| d.location.as_deref()),
            Some("LISBON")
        );
        assert_eq!(s.paragraphs.len(), 3, "{:?}", s.body);
        assert!(s.body.starts_with("Harbour workers ended"));
        assert!(!s.body.contains("Advertisement"));
        assert!(!s.body.contains("cookies"));
        assert!(!s.body.contains("Port strike spreads"));
    }

    #[test]
    fn a_caption_left_open_around_the_page_is_not_a_caption() {
        let prose = "The talks in the capital ended on Tuesday without a deal, officials said. ";
        let page = format!(
            "<html><body><article><h1>Talks end</h1>\
             <figure><img src=x.jpg><figcaption>Delegates arrive on Monday.</figcaption></figure>\
             <p>{}</p>{}<p>{}</p></article></body></html>",
            prose.trim(),
            "<figure><figcaption>Open caption ".repeat(MetaElements::MAX_CAPTIONS),
            prose.repeat(20).trim(),
        );
        let s = parse(&page).expect("story");
        // The closed caption is read; none of the open ones, which hold the rest of the page.
        let captions: Vec<_> = s
            .media
            .iter()
            .filter_map(|m| m.caption.as_deref())
            .collect();
        assert_eq!(captions, ["Delegates arrive on Monday."]);
    }

    #[test]
    fn breadcrumb_trail_names_the_section() {
        let page = r#"<html><body><nav aria-label="breadcrumb"><ol><li><a href="/">Home</a></li><li><a href="/world">World</a></li><li><a href="/asia">Asia</a></li></ol></nav>
<article><p>The talks in the capital ended on Tuesday without a deal on trade, officials said, and a new round is planned.</p></article></body></html>"#;
        let s = parse(page).expect("story");
        assert_eq!(s.section.as_deref(), Some("Asia"));
    }

    #[test]
    fn a_related_heading_closes_the_article() {
        let para = "The council voted on Tuesday to rebuild the old bridge, after years of delays, a long public inquiry and two failed budgets.";
        let teaser = "Readers who liked this also read about the harbour, the ferry timetable, the museum that reopened in spring and the new tram.";
        let page = format!(
            "<html><body><div class=\"site\"><article class=\"post\"><h1>Bridge to be rebuilt</h1><p>{para}</p><p>One. {para}</p><p>Two. {para}</p><p>Three. {para}</p></article><section class=\"post\"><h3 class=\"relatedpoststitle\">Voce pode gostar</h3><article class=\"post\"><p>{teaser}</p></article><article class=\"post\"><p>{teaser} Two.</p></article><article class=\"post\"><p>{teaser} Three.</p></article><article class=\"post\"><p>{teaser} Four.</p></article></section></div></body></html>"
        );
        let s = parse(&page).expect("story");
        assert!(!s.body.contains("Readers who liked"), "{}", s.body);
        assert!(s.body.contains("rebuild the old bridge"));
        // Before any prose, a related heading closes nothing.
        let early = page.replace(
            "<h1>Bridge to be rebuilt</h1>",
            "<h2>Related stories</h2><h1>Bridge to be rebuilt</h1>",
        );
        assert!(parse(&early)
            .expect("story")
            .body
            .contains("rebuild the old bridge"));
    }

    #[test]
    fn deep_nesting_keeps_its_text() {
        let deep = format!(
            "<p>Top text.</p>{}<p>Deep text.</p>{}",
            "<div>".repeat(100_000),
            "</div>".repeat(100_000)
        );
        // Was quadratic in html5ever (tens of seconds); the pre-scan bounds the depth.
        assert_eq!(fragment_paragraphs(&deep), ["Top text.", "Deep text."]);
    }

    #[test]
    fn class_word_lists_are_sorted_lower_case_and_bounded() {
        for list in [BOILERPLATE_WORDS, CONTENT_WORDS] {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "{list:?}");
            assert!(list.iter().all(|w| w.len() <= LONGEST_NAME_WORD));
            assert!(list.iter().all(|w| *w == w.to_ascii_lowercase()));
        }
        assert!(is_boilerplate_name("Sidebar-Widget"));
        assert!(is_boilerplate_name("RecommendationsBox recommendations"));
        assert!(!is_boilerplate_name("sidebar article-body"));
        assert!(!is_boilerplate_name("recommendationsrecommendations"));
        let listed = BOILERPLATE_WORDS.iter().chain(CONTENT_WORDS);
        assert!(listed
            .into_iter()
            .all(|w| may_be_listed(w.len(), w.as_bytes()[0])));
    }

    #[test]
    fn fragment() {
        let p = fragment_paragraphs("<p>One &amp; two.</p><p>Three<br>four.</p>");
        assert_eq!(p, vec!["One & two.", "Three", "four."]);
    }
}
