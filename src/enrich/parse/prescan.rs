//! A linear pre-scan of HTML before the real parser sees it: drops the bytes that can never
//! reach the extractor, so html5ever (which tokenizes character by character and stores
//! every attribute and text node in its tree) has less to do.
//!
//! The scan reads markup by the tokenizer's own rules — tags and their attributes (quoted
//! values may hold `>`), comments (`<!-->`, `--!>`), bogus comments, and the raw text of
//! `script`, `style` and the like, which runs to the first end tag of the same name — and
//! only ever removes:
//! - comments, and the content of raw-text elements other than `<title>` and `<xmp>`
//!   (JSON-LD scripts, and scripts in the tokenizer's escape states, are kept);
//! - the content of `svg`, `math` and `template` elements, and of `nav`, `aside` and
//!   `footer` elements (the extractor skips those by tag) unless they hold something the
//!   metadata reader looks at: a breadcrumb trail, an author, a `<time>`, an `<h1>`, a
//!   caption, JSON-LD or meta tags;
//! - attributes that nothing downstream reads (links, image sources, `data-*`, event
//!   handlers, sizes…): only [`KEPT_ATTRIBUTES`] stay, and no more than [`MAX_ATTRIBUTES`]
//!   on one tag;
//! - tags nested deeper than [`MAX_DEPTH`] (and as many end tags): html5ever checks scopes by
//!   walking its stack of open elements, so on a page nested 100,000 deep every tag would
//!   cost time proportional to the depth; and formatting start tags (`<b>`, `<font>`…) left
//!   open past [`MAX_FORMATTING`] (and their end tags), which the parser would re-open
//!   before every later insert.
//!
//! The depth cap must hold over every byte the parser may read as markup. A raw-text tag
//! does not switch the tokenizer to text inside `<select>` (the parser ignores it there) or
//! in SVG and MathML (it is a foreign element), and the scan does not track those contexts.
//! So the text it keeps without reading it as markup otherwise (a title, `<xmp>`, a kept
//! script), everything after a raw-text element that is never closed, and everything after
//! `<plaintext>` are read for the depth cap alone: tags there are counted, and those past
//! the cap cut (and attributes past [`MAX_ATTRIBUTES`]), but nothing else is dropped (see
//! [`Scan::depth_only_until`]).
//!
//! The depth is counted on a stack of open elements ([`Scan::close`]): an end tag removes at
//! most the one element it names, and only where the parser's rules let it reach it (an end
//! tag the parser ignores, as `</span>` after `<div>`, closes nothing); foreign content is
//! followed by namespace. The scan does not see every element the parser opens and closes
//! by itself (`<p>`, cells), so the count is an approximation that errs towards too many.
//! List items (`<li>`, `<dd>`, `<dt>`) count, closed as the parser closes them (a sibling's
//! start tag, the item's or the list's end tag). Known gap, where the parser can still nest
//! past it: end tags that reach past an uncounted `<p>` (`<x><p></x></p>` x 40,000: 15 s at
//! 1 MB; `<span><p></span></p>`: 6 s).
//!
//! Every byte is read a bounded number of times (a skipped region at most three times), so
//! the scan is linear. Elements keep their start and end tags, so the tree keeps its shape.
//!
//! Must not: drop text that the extractor or the metadata reader could use, or rewrite
//! anything it does not understand beyond the depth cap (unterminated markup is left to the
//! parser).

use std::borrow::Cow;
use std::sync::LazyLock;

use memchr::memmem::Finder;

/// Deepest element nesting handed to the HTML parser; real pages stay far below it.
pub(crate) const MAX_DEPTH: usize = 256;

/// Most formatting elements ([`FORMATTING`]) open at once in the pages handed to the
/// parser. Before it inserts a text or an element, the parser re-opens every open formatting
/// element that a closed block (a `<p>` ended by the next one, say) took off its stack, so a
/// page that leaves thousands open, with attributes that tell them apart (the parser keeps
/// at most three identical ones), between paragraphs, makes it build open × inserted
/// elements: 1.8 GB and 6–12 s for a 670 KB page of `<b id=N>x<p>y` (with 4: 112 MB and 0.13 s,
/// against 81 MB for the same paragraphs without the tags; 8 would take 172 MB). A start tag
/// past the cap is dropped with its end tag, which loses the formatting and that tag's
/// attributes (its text stays); the records of the corpus and dev pages do not change. A
/// formatting element closed by something other than its own end tag (a cell's end) keeps
/// its slot, so a sloppy page can reach the cap early.
pub(crate) const MAX_FORMATTING: usize = 4;

/// The formatting elements that pile up in the parser's list of active formatting
/// elements when left open (`a` and `nobr` are not among them: each closes the one before).
const FORMATTING: [&[u8]; 12] = [
    b"b", b"big", b"code", b"em", b"font", b"i", b"s", b"small", b"strike", b"strong", b"tt", b"u",
];

/// Most attributes kept on one tag: html5ever compares each new attribute's name with every
/// earlier one on the tag, so a tag with 100,000 distinct names (where the scan keeps them
/// all, or on an end tag) cost quadratic time. Real tags carry a few dozen at most.
pub(crate) const MAX_ATTRIBUTES: usize = 64;

/// Attributes the metadata reader and the extractor read; all others are dropped.
pub(crate) const KEPT_ATTRIBUTES: [&str; 15] = [
    "class",
    "id",
    "role",
    "hidden",
    "aria-hidden",
    "aria-label",
    "style",
    "itemprop",
    "rel",
    "lang",
    "datetime",
    "property",
    "name",
    "content",
    "type",
];

/// Prepares a page or fragment for the HTML parser; see the module docs. Borrows the input
/// when nothing is dropped.
pub(crate) fn prescan(input: &str) -> Cow<'_, str> {
    let mut scan = Scan {
        input,
        out: None,
        copied: 0,
        open: Vec::new(),
        dropped_ends: 0,
        formatting_open: [0; FORMATTING.len()],
        formatting_dropped_ends: [0; FORMATTING.len()],
        kept_until: 0,
        depth_only_until: 0,
        unclosed: Vec::new(),
        drops: Vec::new(),
    };
    scan.run();
    match scan.out {
        None => Cow::Borrowed(input),
        Some(mut out) => {
            out.push_str(&input[scan.copied..]);
            Cow::Owned(out)
        }
    }
}

/// The scan's state.
struct Scan<'a> {
    input: &'a str,
    /// The output, once anything has been dropped.
    out: Option<String>,
    /// Input bytes before this position are in `out` (or dropped).
    copied: usize,
    /// The open elements counted towards [`MAX_DEPTH`], as the parser would keep them
    /// (see [`Scan::close`]).
    open: Vec<Open>,
    /// End tags still to drop for start tags dropped past the depth cap.
    dropped_ends: usize,
    /// Per [`FORMATTING`] name: elements open (start tags less end tags, as written).
    formatting_open: [usize; FORMATTING.len()],
    /// Per [`FORMATTING`] name: end tags still to drop for start tags dropped past
    /// [`MAX_FORMATTING`].
    formatting_dropped_ends: [usize; FORMATTING.len()],
    /// End of the furthest `nav`/`aside`/`footer` region kept whole: no region inside it is
    /// measured again (keeps the scan linear).
    kept_until: usize,
    /// Input before this position is read for the depth cap alone: comments and attributes
    /// stay, raw-text and region elements are not looked into, and only tags past the cap
    /// are cut (`usize::MAX`: the rest of the input). See the module docs.
    depth_only_until: usize,
    /// Region elements found without a matching end: not looked for again in this input.
    unclosed: Vec<Region>,
    /// Attribute ranges to drop from the current tag (reused buffer).
    drops: Vec<(usize, usize)>,
}

impl Scan<'_> {
    /// Whether markup at `at` is read for the depth cap alone.
    fn depth_only(&self, at: usize) -> bool {
        at < self.depth_only_until
    }

    /// Removes `input[from..to]` (ranges come in increasing order, never overlapping).
    fn cut(&mut self, from: usize, to: usize) {
        if from >= to || from < self.copied {
            return;
        }
        let input = self.input;
        let out = self
            .out
            .get_or_insert_with(|| String::with_capacity(input.len()));
        out.push_str(&input[self.copied..from]);
        self.copied = to;
    }

    /// The main loop: text is skipped with `memchr`, markup handled where it starts.
    fn run(&mut self) {
        let bytes = self.input.as_bytes();
        let mut pos = 0;
        while let Some(off) = memchr::memchr(b'<', &bytes[pos..]) {
            let lt = pos + off;
            let next = match markup_at(bytes, lt) {
                Markup::Text => Some(lt + 1),
                Markup::Comment(end) => {
                    if let Some(end) = end.filter(|_| !self.depth_only(lt)) {
                        self.cut(lt, end);
                    }
                    end
                }
                Markup::Bogus(end) => end,
                Markup::Tag => self.tag(lt),
            };
            // In kept raw text, markup that would run past the text's end (`<title><!--`
            // and no `-->`) is text: the scan goes on, so what follows is still counted.
            let bounded = self.depth_only(lt) && self.depth_only_until != usize::MAX;
            let next = match next {
                Some(n) if bounded && n > self.depth_only_until => Some(lt + 1),
                None if bounded => Some(lt + 1),
                other => other,
            };
            match next {
                Some(n) => pos = n,
                // Unterminated markup: the rest is left to the parser as it is.
                None => break,
            }
        }
    }

    /// A start or end tag at `lt`: returns where the scan resumes.
    fn tag(&mut self, lt: usize) -> Option<usize> {
        let bytes = self.input.as_bytes();
        let closing = bytes.get(lt + 1) == Some(&b'/');
        let depth_only = self.depth_only(lt);
        let mut drops = std::mem::take(&mut self.drops);
        drops.clear();
        let mut attributes = 0;
        let tag = read_tag(bytes, lt, |gap, name, end| {
            attributes += 1;
            // End tags carry none the parser keeps (but it checks them for duplicates).
            let unread = !depth_only && (closing || !is_kept_attribute(name));
            if unread || attributes > MAX_ATTRIBUTES {
                drops.push((gap, end));
            }
        });
        let Some(tag) = tag else {
            self.drops = drops;
            return None;
        };
        let name = Name::new(&bytes[tag.name.0..tag.name.1]);
        let admitted = self.admit(&name, closing, tag.self_closing, depth_only, lt, tag.end);
        if !admitted || closing {
            if admitted {
                for &(from, to) in &drops {
                    self.cut(from, to);
                }
            }
            self.drops = drops;
            return Some(tag.end);
        }
        for &(from, to) in &drops {
            self.cut(from, to);
        }
        self.drops = drops;
        if depth_only {
            return Some(tag.end);
        }
        if name.is(b"plaintext") {
            // Everything after it is text, unless the parser ignores the tag (module docs).
            self.depth_only_until = usize::MAX;
            return Some(tag.end);
        }
        if name.is_raw_text() {
            return Some(self.raw_text(&name, lt, tag.end));
        }
        match Region::of(&name) {
            Some(region) if !tag.self_closing => Some(self.region(region, &name, lt, tag.end)),
            _ => Some(tag.end),
        }
    }

    /// Applies the depth and formatting caps to the tag at `lt..end`: cuts it and returns
    /// false when it opens past a cap or closes an element that was cut, else counts it.
    ///
    /// A self-closing start tag counts like any other: `/>` closes nothing in HTML (only
    /// void elements, which never count, and SVG or MathML elements end there), so
    /// `<div/>` 100,000 times nests 100,000 deep. In SVG and MathML every element nests,
    /// `<td>` or `<option>` too, so there every start tag counts. In text read for the
    /// depth alone, end tags close nothing (they may be text to the parser).
    fn admit(
        &mut self,
        name: &Name,
        closing: bool,
        self_closing: bool,
        depth_only: bool,
        lt: usize,
        end: usize,
    ) -> bool {
        let formatting = name.formatting_slot();
        if closing {
            if depth_only {
                return true;
            }
            if let Some(f) = formatting {
                if self.formatting_dropped_ends[f] > 0 {
                    self.formatting_dropped_ends[f] -= 1;
                    self.cut(lt, end);
                    return false;
                }
            }
            if self.dropped_ends > 0 && !name.is_uncounted() {
                self.dropped_ends -= 1;
                self.cut(lt, end);
                return false;
            }
            if self.in_foreign() && (name.is(b"p") || name.is(b"br")) {
                // In foreign content these end tags leave it, as a break-out start tag does.
                self.pop_foreign();
            } else if self.close(name) {
                if let Some(f) = formatting {
                    self.formatting_open[f] = self.formatting_open[f].saturating_sub(1);
                }
            }
            return true;
        }
        if let Some(f) = formatting {
            if self.formatting_open.iter().sum::<usize>() >= MAX_FORMATTING {
                self.formatting_dropped_ends[f] += 1;
                self.cut(lt, end);
                return false;
            }
            self.formatting_open[f] += 1;
        }
        if self.in_foreign() && breaks_out_of_foreign(name) {
            // The parser pops the foreign elements and inserts this one as HTML.
            self.pop_foreign();
        }
        let space = if let Some(space) = self.foreign_space() {
            Some(space)
        } else if name.is(b"svg") {
            Some(Space::Svg)
        } else if name.is(b"math")
            || self.at_math_text_point() && (name.is(b"mglyph") || name.is(b"malignmark"))
        {
            Some(Space::Math)
        } else {
            None
        };
        if space.is_none() && name.is_uncounted() {
            return true;
        }
        if space.is_none() {
            self.close_open_list_item(name);
        }
        if self.open.len() >= MAX_DEPTH {
            self.dropped_ends += 1;
            self.cut(lt, end);
            return false;
        }
        self.open.push(Open {
            name: *name,
            space,
            self_closed: self_closing,
        });
        true
    }

    /// The innermost open element as the parser sees it: self-closed entries (counted, but
    /// never opened by the parser where `/>` is honoured) are passed over.
    fn current(&self) -> Option<&Open> {
        self.open.iter().rev().find(|o| !o.self_closed)
    }

    /// The namespace new elements get: that of the current element, unless it is HTML or
    /// an integration point (whose content is HTML).
    fn foreign_space(&self) -> Option<Space> {
        self.current()
            .filter(|o| !o.is_integration_point())
            .and_then(|o| o.space)
    }

    /// Whether the current element is SVG or MathML that is not an integration point.
    fn in_foreign(&self) -> bool {
        self.foreign_space().is_some()
    }

    /// Whether the current element is a MathML text integration point (`<mi>`…).
    fn at_math_text_point(&self) -> bool {
        self.current().is_some_and(|o| {
            o.space == Some(Space::Math)
                && matches!(o.name.as_bytes(), b"mi" | b"mo" | b"mn" | b"ms" | b"mtext")
        })
    }

    /// Pops foreign elements down to an HTML element or an integration point, as the parser
    /// does before a break-out tag.
    fn pop_foreign(&mut self) {
        while let Some(o) = self.open.last() {
            if o.space.is_none() || (!o.self_closed && o.is_integration_point()) {
                break;
            }
            self.open.pop();
        }
    }

    /// A start `<li>` closes the open `li`, and a start `<dd>` or `<dt>` the open `dd` or
    /// `dt`, that the parser closes: the nearest one, unless a special element other than
    /// `address`, `div` or `p` stands between (then the new one nests, as `<li>` in `<dd>`
    /// does). It goes with everything above it, as the parser pops it.
    fn close_open_list_item(&mut self, name: &Name) {
        let closes: fn(&Name) -> bool = match name.as_bytes() {
            b"li" => |o| o.is(b"li"),
            b"dd" | b"dt" => |o| o.is(b"dd") || o.is(b"dt"),
            _ => return,
        };
        for i in (0..self.open.len()).rev() {
            let o = &self.open[i];
            if o.space.is_some() {
                return;
            }
            if closes(&o.name) {
                self.open.truncate(i);
                return;
            }
            if o.name.is_special() && !matches!(o.name.as_bytes(), b"address" | b"div" | b"p") {
                return;
            }
        }
    }

    /// An end tag: removes the open element it closes and returns true, or returns false
    /// where the parser would ignore it. The walk down follows the parser's rules:
    /// - `</table>` closes the nearest table (only `<html>` or `<template>` stand between),
    ///   with everything above it, as the parser pops it;
    /// - `</select>` closes a select over nothing but option groups, likewise;
    /// - the end tag of a block (`</div>`, `</section>`, a heading…) closes the nearest one
    ///   of its name unless a scope boundary (a table, cell, `<object>`…) stands between;
    /// - any other end tag (`</span>`, `</b>`…) closes the nearest element of its name only
    ///   if no special element (a block, a list item…) stands between: `<div></span>` leaves
    ///   the div open.
    ///
    /// For blocks and the rest only the matched element is removed: the parser also pops
    /// what is open above it, but the scan does not see every element the parser opens and
    /// closes by itself (`<p>`, `<li>`, cells), so what is above may be closed already or
    /// never opened, and removing it could bring the count below the parser's. What stays
    /// over-counts, as every end tag of the simpler count before session 14 did. Foreign
    /// elements are matched by name and otherwise walked past.
    fn close(&mut self, name: &Name) -> bool {
        let rule = EndRule::of(name);
        for i in (0..self.open.len()).rev() {
            let o = &self.open[i];
            if o.name.closed_by(name) {
                match rule {
                    EndRule::Table | EndRule::Select | EndRule::ListItem => self.open.truncate(i),
                    EndRule::Block => {
                        // The parser's implied end tags close the list items above it.
                        self.open.remove(i);
                        let above = self.open.split_off(i);
                        self.open
                            .extend(above.into_iter().filter(|o| !o.name.is_list_item()));
                    }
                    EndRule::Other => {
                        self.open.remove(i);
                    }
                }
                return true;
            }
            if o.space.is_some() && !o.is_integration_point() {
                continue;
            }
            let stops = match rule {
                EndRule::Table => o.name.is(b"html") || o.name.is(b"template"),
                EndRule::Select => !o.name.is(b"optgroup"),
                EndRule::Block => o.name.is_scope_boundary() || o.is_integration_point(),
                EndRule::ListItem => {
                    o.name.is_scope_boundary()
                        || o.is_integration_point()
                        || (name.is(b"li") && (o.name.is(b"ol") || o.name.is(b"ul")))
                }
                EndRule::Other => o.name.is_special() || o.is_integration_point(),
            };
            if stops {
                return false;
            }
        }
        false
    }

    /// The content of a raw-text element, which runs to the first end tag of its name:
    /// dropped unless it is the title, `<xmp>` (shown as text), JSON-LD or a script in the
    /// tokenizer's escape states. Kept content, and everything after an element that is
    /// never closed, is read for the depth cap alone (module docs). Returns where the scan
    /// resumes: the end tag when the content is dropped, else the content.
    fn raw_text(&mut self, name: &Name, lt: usize, start: usize) -> usize {
        let bytes = self.input.as_bytes();
        let Some(end) = end_tag(bytes, start, name.as_bytes()) else {
            self.depth_only_until = usize::MAX;
            return start;
        };
        let content = &bytes[start..end];
        let keep = name.is(b"title")
            || name.is(b"xmp")
            || name.is(b"script")
                && (contains_ignore_case(&bytes[lt..start], b"ld+json")
                    || memchr::memmem::find(content, b"<!--").is_some());
        if keep {
            self.depth_only_until = self.depth_only_until.max(end);
            return start;
        }
        self.cut(start, end);
        end
    }

    /// The content of a region element (start tag at `lt`, content from `start`): dropped up
    /// to its matching end tag (kept for `nav`/`aside`/`footer` whose start tag or content
    /// holds metadata). Returns where the scan resumes: the end tag when dropped, else the
    /// content.
    fn region(&mut self, region: Region, name: &Name, lt: usize, start: usize) -> usize {
        let conditional = region.is_conditional();
        if self.unclosed.contains(&region) || conditional && start < self.kept_until {
            return start;
        }
        let bytes = self.input.as_bytes();
        let Some(end) = matching_end(bytes, start, name.as_bytes(), region) else {
            self.unclosed.push(region);
            return start;
        };
        if conditional && holds_metadata(&bytes[lt..end]) {
            self.kept_until = end;
            return start;
        }
        self.cut(start, end);
        end
    }
}

/// What starts at a `<`.
#[derive(Debug, PartialEq)]
enum Markup {
    /// A `<` that opens no markup (`a < b`).
    Text,
    /// A comment, ending before the position given (`None`: runs to the end of input).
    Comment(Option<usize>),
    /// A doctype, processing instruction, bogus comment or ignored `</>`, ending before the
    /// position given.
    Bogus(Option<usize>),
    /// A start or end tag.
    Tag,
}

/// Classifies the markup at `lt` (a `<`) the way the tokenizer's tag-open state does.
fn markup_at(bytes: &[u8], lt: usize) -> Markup {
    let after_gt = |from: usize| memchr::memchr(b'>', &bytes[from..]).map(|g| from + g + 1);
    match bytes.get(lt + 1) {
        Some(b) if b.is_ascii_alphabetic() => Markup::Tag,
        Some(b'/') => match bytes.get(lt + 2) {
            Some(b) if b.is_ascii_alphabetic() => Markup::Tag,
            Some(b'>') => Markup::Bogus(Some(lt + 3)),
            Some(_) => Markup::Bogus(after_gt(lt + 2)),
            None => Markup::Text,
        },
        Some(b'!') if bytes[lt + 2..].starts_with(b"--") => Markup::Comment(comment_end(bytes, lt)),
        Some(b'!' | b'?') => Markup::Bogus(after_gt(lt + 2)),
        _ => Markup::Text,
    }
}

/// The end (past `-->`, `--!>`, or the abrupt `<!-->` / `<!--->`) of the comment at `lt`.
fn comment_end(bytes: &[u8], lt: usize) -> Option<usize> {
    let start = lt + 4;
    let rest = bytes.get(start..)?;
    if rest.starts_with(b">") {
        return Some(start + 1);
    }
    if rest.starts_with(b"->") {
        return Some(start + 2);
    }
    let mut at = start;
    while let Some(off) = memchr::memmem::find(&bytes[at..], b"--") {
        let dashes = at + off;
        let after = &bytes[dashes + 2..];
        if after.starts_with(b">") {
            return Some(dashes + 3);
        }
        if after.starts_with(b"!>") {
            return Some(dashes + 4);
        }
        at = dashes + 1;
    }
    None
}

/// A tag as the tokenizer reads it.
#[derive(Debug)]
struct Tag {
    /// The name's byte range.
    name: (usize, usize),
    /// `/>` at the end.
    self_closing: bool,
    /// Just past the closing `>`.
    end: usize,
}

/// Whitespace between attributes (the tokenizer's; `\r` is newline before it).
fn is_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

/// Reads the tag at `lt` (`<` and a letter, or `</` and a letter) by the tokenizer's tag,
/// attribute-name and attribute-value states, calling `on_attribute(gap, name, end)` for
/// each attribute (`gap` is where the separator before it starts). `None` when the input
/// ends inside the tag (the tokenizer then drops it).
fn read_tag(
    bytes: &[u8],
    lt: usize,
    mut on_attribute: impl FnMut(usize, &[u8], usize),
) -> Option<Tag> {
    let len = bytes.len();
    let name_start = lt + 1 + usize::from(bytes.get(lt + 1) == Some(&b'/'));
    let mut i = name_start;
    while i < len && !is_space(bytes[i]) && bytes[i] != b'/' && bytes[i] != b'>' {
        i += 1;
    }
    let name = (name_start, i);
    let mut gap = i;
    loop {
        // Before an attribute name.
        while i < len && is_space(bytes[i]) {
            i += 1;
        }
        match *bytes.get(i)? {
            b'>' => {
                return Some(Tag {
                    name,
                    self_closing: false,
                    end: i + 1,
                })
            }
            b'/' => {
                if bytes.get(i + 1) == Some(&b'>') {
                    return Some(Tag {
                        name,
                        self_closing: true,
                        end: i + 2,
                    });
                }
                i += 1;
                continue;
            }
            _ => {}
        }
        // The attribute's name: its first character may be `=`.
        let attr_start = i;
        i += 1;
        while i < len && !is_space(bytes[i]) && !matches!(bytes[i], b'/' | b'>' | b'=') {
            i += 1;
        }
        let attr_name = &bytes[attr_start..i];
        let mut end = i;
        while i < len && is_space(bytes[i]) {
            i += 1;
        }
        if bytes.get(i) == Some(&b'=') {
            i += 1;
            while i < len && is_space(bytes[i]) {
                i += 1;
            }
            i = match *bytes.get(i)? {
                q @ (b'"' | b'\'') => i + 1 + memchr::memchr(q, &bytes[i + 1..])? + 1,
                // A missing value: the `>` ends the tag.
                b'>' => i,
                _ => {
                    let mut j = i;
                    while j < len && !is_space(bytes[j]) && bytes[j] != b'>' {
                        j += 1;
                    }
                    j
                }
            };
            end = i;
        }
        on_attribute(gap, attr_name, end);
        gap = end;
    }
}

/// Whether an attribute (name as written) is one of [`KEPT_ATTRIBUTES`].
fn is_kept_attribute(name: &[u8]) -> bool {
    KEPT_ATTRIBUTES
        .iter()
        .any(|k| k.len() == name.len() && k.as_bytes().eq_ignore_ascii_case(name))
}

/// An element the scan counts as open.
#[derive(Debug, Clone, Copy)]
struct Open {
    name: Name,
    /// SVG or MathML; `None` for HTML.
    space: Option<Space>,
    /// Written `<x/>`: counted, but the parser opened it only if it is HTML.
    self_closed: bool,
}

/// A foreign namespace.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Space {
    Svg,
    Math,
}

impl Open {
    /// SVG and MathML elements whose content is HTML: `foreignObject`, `desc` and `title`
    /// in SVG, `mi`, `mo`, `mn`, `ms` and `mtext` in MathML (`annotation-xml` only with an
    /// `encoding` attribute, which the scan drops, so never here).
    fn is_integration_point(&self) -> bool {
        match self.space {
            Some(Space::Svg) => {
                matches!(self.name.as_bytes(), b"foreignobject" | b"desc" | b"title")
            }
            Some(Space::Math) => {
                matches!(
                    self.name.as_bytes(),
                    b"mi" | b"mo" | b"mn" | b"ms" | b"mtext"
                )
            }
            None => false,
        }
    }
}

/// How an end tag finds the element it closes ([`Scan::close`]).
enum EndRule {
    Table,
    Select,
    Block,
    /// `</li>`, `</dd>`, `</dt>`: the nearest in (list item) scope, with what is above it.
    ListItem,
    Other,
}

impl EndRule {
    fn of(name: &Name) -> Self {
        match name.as_bytes() {
            b"table" => EndRule::Table,
            b"select" => EndRule::Select,
            b"li" | b"dd" | b"dt" => EndRule::ListItem,
            b"address" | b"article" | b"aside" | b"blockquote" | b"button" | b"center"
            | b"details" | b"dialog" | b"dir" | b"div" | b"dl" | b"fieldset" | b"figcaption"
            | b"figure" | b"footer" | b"header" | b"hgroup" | b"listing" | b"main" | b"menu"
            | b"nav" | b"ol" | b"pre" | b"search" | b"section" | b"summary" | b"ul" | b"applet"
            | b"marquee" | b"object" | b"h1" | b"h2" | b"h3" | b"h4" | b"h5" | b"h6" => {
                EndRule::Block
            }
            _ => EndRule::Other,
        }
    }
}

/// A tag name, lower-cased into a small buffer (longer names match nothing special).
#[derive(Debug, Clone, Copy)]
struct Name {
    buf: [u8; Name::CAP],
    len: usize,
}

impl Name {
    /// Longest name kept; the special names are shorter.
    const CAP: usize = 40;

    fn new(raw: &[u8]) -> Self {
        let mut buf = [0u8; Name::CAP];
        if raw.len() > Name::CAP {
            return Name { buf, len: 0 };
        }
        for (b, r) in buf.iter_mut().zip(raw) {
            *b = r.to_ascii_lowercase();
        }
        Name {
            buf,
            len: raw.len(),
        }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    fn is(&self, name: &[u8]) -> bool {
        self.as_bytes() == name
    }

    /// Void elements and those whose end tag is optional (the parser closes them itself,
    /// so pages leave them open) never count towards the depth in HTML. (`optgroup` is not
    /// among them: outside a `<select>` it nests.)
    fn is_uncounted(&self) -> bool {
        matches!(
            self.as_bytes(),
            b"area"
                | b"base"
                | b"br"
                | b"col"
                | b"embed"
                | b"hr"
                | b"img"
                | b"input"
                | b"link"
                | b"meta"
                | b"source"
                | b"track"
                | b"wbr"
                | b"param"
                | b"keygen"
                | b"p"
                | b"tr"
                | b"td"
                | b"th"
                | b"tbody"
                | b"thead"
                | b"tfoot"
                | b"option"
                | b"html"
                | b"head"
                | b"body"
        )
    }

    /// Whether an end tag named `end` closes this element: the same name, or any heading
    /// for a heading.
    fn closed_by(&self, end: &Name) -> bool {
        self.len > 0 && (self.as_bytes() == end.as_bytes() || self.is_heading() && end.is_heading())
    }

    fn is_list_item(&self) -> bool {
        matches!(self.as_bytes(), b"li" | b"dd" | b"dt")
    }

    fn is_heading(&self) -> bool {
        matches!(
            self.as_bytes(),
            b"h1" | b"h2" | b"h3" | b"h4" | b"h5" | b"h6"
        )
    }

    /// Elements that end the parser's search for an element "in scope".
    fn is_scope_boundary(&self) -> bool {
        matches!(
            self.as_bytes(),
            b"applet"
                | b"caption"
                | b"html"
                | b"table"
                | b"td"
                | b"th"
                | b"marquee"
                | b"object"
                | b"template"
        )
    }

    /// The parser's "special" elements, which stop an unknown end tag's search.
    fn is_special(&self) -> bool {
        self.is_scope_boundary()
            || matches!(
                self.as_bytes(),
                b"address"
                    | b"area"
                    | b"article"
                    | b"aside"
                    | b"base"
                    | b"basefont"
                    | b"bgsound"
                    | b"blockquote"
                    | b"body"
                    | b"br"
                    | b"button"
                    | b"center"
                    | b"col"
                    | b"colgroup"
                    | b"dd"
                    | b"details"
                    | b"dir"
                    | b"div"
                    | b"dl"
                    | b"dt"
                    | b"embed"
                    | b"fieldset"
                    | b"figcaption"
                    | b"figure"
                    | b"footer"
                    | b"form"
                    | b"frame"
                    | b"frameset"
                    | b"h1"
                    | b"h2"
                    | b"h3"
                    | b"h4"
                    | b"h5"
                    | b"h6"
                    | b"head"
                    | b"header"
                    | b"hgroup"
                    | b"hr"
                    | b"iframe"
                    | b"img"
                    | b"input"
                    | b"isindex"
                    | b"keygen"
                    | b"li"
                    | b"link"
                    | b"listing"
                    | b"main"
                    | b"menu"
                    | b"meta"
                    | b"nav"
                    | b"noembed"
                    | b"noframes"
                    | b"noscript"
                    | b"ol"
                    | b"p"
                    | b"param"
                    | b"plaintext"
                    | b"pre"
                    | b"script"
                    | b"search"
                    | b"section"
                    | b"select"
                    | b"source"
                    | b"style"
                    | b"summary"
                    | b"tbody"
                    | b"textarea"
                    | b"tfoot"
                    | b"thead"
                    | b"title"
                    | b"tr"
                    | b"track"
                    | b"ul"
                    | b"wbr"
                    | b"xmp"
            )
    }

    /// The slot of a [`FORMATTING`] element.
    fn formatting_slot(&self) -> Option<usize> {
        FORMATTING.iter().position(|f| self.is(f))
    }

    /// Elements whose content the tokenizer reads as text up to their end tag (`noscript`
    /// too: html5ever parses with scripting enabled).
    fn is_raw_text(&self) -> bool {
        matches!(
            self.as_bytes(),
            b"script"
                | b"style"
                | b"title"
                | b"textarea"
                | b"xmp"
                | b"iframe"
                | b"noembed"
                | b"noframes"
                | b"noscript"
        )
    }
}

/// Elements whose whole content the scan may drop.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Region {
    /// Inline graphics and formulas: foreign content, never article text.
    Foreign,
    /// `<template>`: inert content.
    Template,
    /// `nav`, `aside`, `footer`: skipped by the extractor, kept when they hold metadata.
    Furniture,
}

impl Region {
    fn of(name: &Name) -> Option<Region> {
        match name.as_bytes() {
            b"svg" | b"math" => Some(Region::Foreign),
            b"template" => Some(Region::Template),
            b"nav" | b"aside" | b"footer" => Some(Region::Furniture),
            _ => None,
        }
    }

    fn is_conditional(self) -> bool {
        self == Region::Furniture
    }
}

/// HTML start tags that end foreign content (`<svg>…<p>` closes the `svg`): a region of
/// foreign content holding one is left to the parser. (`<font>` ends it only with a
/// `color`, `face` or `size` attribute, which the scan drops, so it is not among them.)
fn breaks_out_of_foreign(name: &Name) -> bool {
    matches!(
        name.as_bytes(),
        b"b" | b"big"
            | b"blockquote"
            | b"body"
            | b"br"
            | b"center"
            | b"code"
            | b"dd"
            | b"div"
            | b"dl"
            | b"dt"
            | b"em"
            | b"embed"
            | b"h1"
            | b"h2"
            | b"h3"
            | b"h4"
            | b"h5"
            | b"h6"
            | b"head"
            | b"hr"
            | b"i"
            | b"img"
            | b"li"
            | b"listing"
            | b"menu"
            | b"meta"
            | b"nobr"
            | b"ol"
            | b"p"
            | b"pre"
            | b"ruby"
            | b"s"
            | b"small"
            | b"span"
            | b"strong"
            | b"strike"
            | b"sub"
            | b"sup"
            | b"table"
            | b"tt"
            | b"u"
            | b"ul"
            | b"var"
    )
}

/// The `<` of the end tag matching the element whose content starts at `from` (nested
/// elements of the same name counted; comments and raw text stepped over). `None` when
/// there is none, or when foreign content is broken out of before it.
fn matching_end(bytes: &[u8], from: usize, name: &[u8], region: Region) -> Option<usize> {
    let mut depth = 1usize;
    let mut pos = from;
    while let Some(off) = memchr::memchr(b'<', &bytes[pos..]) {
        let lt = pos + off;
        pos = match markup_at(bytes, lt) {
            Markup::Text => lt + 1,
            Markup::Comment(end) | Markup::Bogus(end) => end?,
            Markup::Tag => {
                let closing = bytes[lt + 1] == b'/';
                let tag = read_tag(bytes, lt, |_, _, _| {})?;
                let tag_name = Name::new(&bytes[tag.name.0..tag.name.1]);
                let same = tag_name.is(name);
                if closing {
                    if same {
                        depth -= 1;
                        if depth == 0 {
                            return Some(lt);
                        }
                    }
                    tag.end
                } else if region == Region::Foreign && breaks_out_of_foreign(&tag_name) {
                    return None;
                } else {
                    if same && !tag.self_closing {
                        depth += 1;
                    }
                    if region != Region::Foreign && tag_name.is_raw_text() {
                        end_tag(bytes, tag.end, tag_name.as_bytes())?
                    } else {
                        tag.end
                    }
                }
            }
        };
    }
    None
}

/// Markers of what the metadata reader looks at, as searchers built once.
static METADATA_MARKERS: LazyLock<Vec<Finder<'static>>> = LazyLock::new(|| {
    const NEEDLES: [&[u8]; 14] = [
        b"readcrumb",
        b"READCRUMB",
        b"author",
        b"Author",
        b"AUTHOR",
        b"<h1",
        b"<H1",
        b"<time",
        b"<TIME",
        b"figcaption",
        b"FIGCAPTION",
        b"<meta",
        b"<META",
        b"ld+json",
    ];
    NEEDLES.iter().map(Finder::new).collect()
});

/// Whether a `nav`/`aside`/`footer` region holds something the metadata reader looks at.
fn holds_metadata(region: &[u8]) -> bool {
    METADATA_MARKERS.iter().any(|f| f.find(region).is_some())
}

/// The position of the first `</name` end tag at or after `from` (followed by a space, `/`
/// or `>`, any case).
fn end_tag(bytes: &[u8], from: usize, name: &[u8]) -> Option<usize> {
    let mut at = from;
    while let Some(off) = memchr::memchr(b'<', &bytes[at..]) {
        let lt = at + off;
        if bytes.get(lt + 1) != Some(&b'/') {
            at = lt + 1;
            continue;
        }
        let after = lt + 2 + name.len();
        let matches = bytes
            .get(lt + 2..after)
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
            && bytes
                .get(after)
                .is_none_or(|b| is_space(*b) || *b == b'/' || *b == b'>');
        if matches {
            return Some(lt);
        }
        at = lt + 2;
    }
    None
}

/// Whether `hay` starts with `prefix` (ASCII, any case).
pub(super) fn starts_with_ignore_case(hay: &[u8], prefix: &[u8]) -> bool {
    hay.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// Whether `hay` contains `needle` (ASCII, any case): candidates are found by the first
/// byte in either case (`memchr2`), then compared.
pub(super) fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    let (lower, upper) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
    memchr::memchr2_iter(lower, upper, hay).any(|at| {
        hay.get(at + 1..at + needle.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(rest))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(s: &str) -> String {
        prescan(s).into_owned()
    }

    #[test]
    fn nesting_is_capped_in_linear_time() {
        let deep = format!(
            "<p>Top text.</p>{}<p>Deep text.</p>{}",
            "<div>".repeat(100_000),
            "</div>".repeat(100_000)
        );
        let capped = prescan(&deep);
        assert_eq!(capped.matches("<div>").count(), MAX_DEPTH);
        assert_eq!(capped.matches("</div>").count(), MAX_DEPTH);
        assert!(capped.contains("<p>Deep text.</p>"));
        let shallow = "<div><p>a < b</p><br/><img><x-y class=a></x-y></div><<<>";
        assert!(matches!(prescan(shallow), Cow::Borrowed(_)));
    }

    #[test]
    fn unused_attributes_are_dropped_quoted_values_respected() {
        let out = scan(
            r#"<div class="a" data-x='1>2' href=/x id=b onclick="f('>')"><a href="/y" rel=author>Jo</a><img src=x.jpg/></div>"#,
        );
        assert_eq!(
            out,
            r#"<div class="a" id=b><a rel=author>Jo</a><img></div>"#
        );
        // Names are matched in any case; separators without spaces are kept apart.
        assert_eq!(
            scan(r#"<META PROPERTY="og:title" CONTENT="T"><p class="x"title="y"lang=en>"#),
            r#"<META PROPERTY="og:title" CONTENT="T"><p class="x"lang=en>"#
        );
        // An unterminated tag is left alone.
        assert_eq!(scan("<p>x</p><div href='x"), "<p>x</p><div href='x");
    }

    #[test]
    fn scripts_styles_and_comments_are_dropped_json_ld_kept() {
        let page = r#"<html><head><title>T <b></title><style>p { color: red } </style><script type="application/ld+json">{"a":1}</script><script>if (a<b) { x = "</p>"; }</script><!-- <script> --></head><body><!-->x<!--->y<!-- a --!>z<p>Text</p><noscript><img src=x><p>Enable JS</p></noscript><script><!-- document.write("<script></script>") --></script></body></html>"#;
        let out = scan(page);
        assert_eq!(
            out,
            r#"<html><head><title>T <b></title><style></style><script type="application/ld+json">{"a":1}</script><script></script></head><body>xyz<p>Text</p><noscript></noscript><script><!-- document.write("<script></script>") --></script></body></html>"#
        );
    }

    #[test]
    fn xmp_text_is_kept() {
        let page = "<xmp>a <b> c</xmp><p>d</p>";
        assert_eq!(scan(page), page);
    }

    #[test]
    fn svg_template_and_furniture_content_are_dropped() {
        let out = scan(
            "<p>A</p><svg viewBox='0 0 1 1'><svg><path d='M0'/></svg><title>x</title></svg><template><p>t</p></template><nav><ul><li><a href=/>Home</a></li></ul></nav><p>B</p><footer>© Site</footer>",
        );
        assert_eq!(
            out,
            "<p>A</p><svg></svg><template></template><nav></nav><p>B</p><footer></footer>"
        );
        // Furniture holding metadata stays whole.
        let crumbs = r#"<nav aria-label="breadcrumb"><a href="/">Home</a> <a>World</a></nav>"#;
        assert_eq!(
            scan(crumbs),
            r#"<nav aria-label="breadcrumb"><a>Home</a> <a>World</a></nav>"#
        );
        let byline = r#"<aside><a rel="author">Jo Li</a><nav><a>x</a></nav></aside>"#;
        assert_eq!(scan(byline), byline);
        // Foreign content broken out of by an HTML element is left to the parser.
        let broken = "<svg><p>Text</p></svg>";
        assert_eq!(scan(broken), broken);
    }

    /// Pre-scans `page` and asserts that at most [`MAX_DEPTH`] of `tag` are left in it.
    fn assert_depth_capped(label: &str, page: &str, tag: &str) -> String {
        let capped = prescan(page).into_owned();
        let left = capped.matches(tag).count();
        assert!(left <= MAX_DEPTH, "{label}: {left} {tag} left");
        capped
    }

    /// A page nested 100,000 deep behind `prefix`, with a story paragraph at the bottom.
    fn deep_behind(prefix: &str, suffix: &str) -> String {
        format!(
            "{prefix}{}<p>Deep text.</p>{}{suffix}",
            "<div>".repeat(100_000),
            "</div>".repeat(100_000)
        )
    }

    #[test]
    fn the_cap_holds_where_a_raw_text_tag_does_not_switch_to_text() {
        // Inside `<select>` the parser ignores these tags, and in SVG or MathML they are
        // foreign elements: either way what follows is markup, not the element's text.
        for (prefix, suffix) in [
            // Never closed: the scan used to stop at them and hand the rest on unread.
            ("<select><style></select>", ""),
            ("<svg><style>", ""),
            ("<math><textarea>", ""),
            ("<select><plaintext></select>", ""),
            // Closed, but kept whole: the scan used to step over their content.
            ("<select><title></select>", "</title>"),
            ("<select><xmp></select>", "</xmp>"),
            ("<svg><script type=\"application/ld+json\">", "</script>"),
        ] {
            let capped = assert_depth_capped(prefix, &deep_behind(prefix, suffix), "<div>");
            assert!(capped.contains("<p>Deep text.</p>"), "{prefix}");
        }
    }

    #[test]
    fn text_read_for_the_depth_alone_keeps_its_comments_and_attributes() {
        // A kept title, and the rest of the page after a script that is never closed: only
        // tags past the depth cap may go, so these stay byte for byte.
        let title = "<title>T <b class=x><!-- c --></title><p data-x=1>Text</p>";
        assert_eq!(
            scan(title),
            "<title>T <b class=x><!-- c --></title><p>Text</p>"
        );
        let unclosed = "<p id=a data-x=1>A</p><script>x = 1;<!-- c --><p data-y=2>B</p>";
        assert_eq!(
            scan(unclosed),
            "<p id=a>A</p><script>x = 1;<!-- c --><p data-y=2>B</p>"
        );
    }

    #[test]
    fn end_tags_the_parser_ignores_do_not_lower_the_depth() {
        for (label, page, tag) in [
            ("<div></span>", "<div></span>".repeat(100_000), "<div>"),
            ("<span></div>", "<span></div>".repeat(100_000), "<span>"),
            (
                "<span> over <table>",
                "<span><table></span></table>".repeat(50_000),
                "<span>",
            ),
            ("optgroup", "<optgroup>".repeat(100_000), "<optgroup>"),
            (
                "<td> in SVG",
                format!("<svg>{}", "<td>".repeat(100_000)),
                "<td>",
            ),
            (
                "<tr> in MathML",
                format!("<math>{}", "<tr>x</y>".repeat(100_000)),
                "<tr>",
            ),
        ] {
            assert_depth_capped(label, &page, tag);
        }
        // Behind a marker (`<object>`), `</b>` does not close the `b`: it stays open.
        let behind: String = (0..1_000)
            .map(|i| format!("<b id={i}>x<p>y<object></b></object>"))
            .collect();
        assert_eq!(prescan(&behind).matches("<b ").count(), MAX_FORMATTING);
    }

    #[test]
    fn end_tags_the_parser_honours_still_close() {
        for page in [
            "<div><span><b>x</b></span></div>".repeat(100_000),
            // A table's end tag closes what is open inside it, across an open cell.
            "<table><tr><td><div>x</td></tr></table>".repeat(10_000),
            // Long custom element names close too.
            "<amp-story-grid-layer>x</amp-story-grid-layer>".repeat(10_000),
            "<h2>x</h3>".repeat(10_000),
            "<select><optgroup><option>a<optgroup><option>b</select>".repeat(10_000),
            // Foreign content left to the parser (it holds HTML) closes too.
            "<svg><g><b>x</b></g></svg>".repeat(10_000),
        ] {
            assert_eq!(prescan(&page).len(), page.len(), "{}", &page[..60]);
        }
    }

    /// Units the parser nests once per repetition that a stack closing what the parser's
    /// end tags close would count as closed: the scan must still count them open.
    #[test]
    fn elements_the_parser_keeps_open_stay_counted() {
        for (label, page, tag) in [
            // `</p>` already closed the span, so `</span>` closes nothing and `x` stays.
            (
                "stale span",
                "<p><span></p><x></span>".repeat(100_000),
                "<x>",
            ),
            ("form", "<form><span></form>".repeat(100_000), "<span>"),
            ("caption", "<caption><x></caption>".repeat(100_000), "<x>"),
            // `<svg/>` opens nothing, so the sections are HTML and `<br>` closes none.
            (
                "self-closed svg",
                "<svg/><section><br>".repeat(100_000),
                "<section>",
            ),
            // `</p>` leaves the SVG; the sections after it are HTML.
            (
                "</p> in svg",
                "<svg></p><section><br>".repeat(100_000),
                "<section>",
            ),
            // `mi` is an integration point in MathML only; `mglyph` under it stays MathML.
            (
                "mi in svg",
                format!("<svg><mi>{}", "<td>".repeat(100_000)),
                "<td>",
            ),
            (
                "mglyph",
                format!("<math><mi><mglyph>{}", "<td>".repeat(100_000)),
                "<td>",
            ),
            (
                "font in svg",
                format!("<svg><font>{}", "<td>".repeat(100_000)),
                "<td>",
            ),
            // End tags in kept text are text to the parser: the divs stay open.
            (
                "end tags in xmp",
                "<div><xmp></div></xmp>".repeat(100_000),
                "<div>",
            ),
            // Markup that would run past a kept title's end is text.
            (
                "comment in title",
                format!("<title><!--</title>{}", "<div>".repeat(100_000)),
                "<div>",
            ),
            (
                "quote in title",
                format!("<title><a b=\"</title>{}", "<div>".repeat(100_000)),
                "<div>",
            ),
        ] {
            assert_depth_capped(label, &page, tag);
        }
        // End tags keep no attributes (the parser checks even those for duplicates).
        let names: String = (0..1_000).map(|i| format!(" a{i}")).collect();
        assert_eq!(scan(&format!("<p>x</p{names}>")), "<p>x</p>");
    }

    #[test]
    fn list_items_nest_only_where_the_parser_nests_them() {
        // `<li>` does not close a `<dd>` (nor `<dd>` an `<li>`): each is special and stops
        // the other's search, so alternating they nest, 100,000 deep (332 s at 1 MB in
        // html5ever's scope checks when the scan did not count them).
        // Past the cap one of the two is cut, and the other closes its own kind.
        for (label, unit, tag) in [
            ("li dd", "<li><dd>", "<li>"),
            ("li dt text", "<li><dt>x ", "<li>"),
            ("dd li text", "<dd>One item <li>and another ", "<dd>"),
            // `</span>` stops at the open `<li>`: every span stays open.
            ("span li", "<span><li></span></li>", "<span>"),
        ] {
            assert_depth_capped(label, &unit.repeat(100_000), tag);
        }
        // Siblings close each other, through inline and `div` elements, with what is above
        // them; a list's end closes its open items: nothing is cut from real lists.
        for page in [
            "<ul><li>a<li>b<li>c</ul>".repeat(1_000),
            "<dl><dt>a<dd>b<dt>c<dd>d</dl>".repeat(1_000),
            "<ul><li><span>a<li><b>b</b><div>c<li>d</ul>".repeat(1_000),
            "<ol><li>a<ul><li>b<li>c</ul><li>d</ol>".repeat(1_000),
            "<ul><li>a</li><li>b</li></ul>".repeat(1_000),
        ] {
            assert_eq!(scan(&page), page, "cut from {}", &page[..40]);
        }
    }

    #[test]
    fn attributes_past_the_cap_are_dropped() {
        let classes: String = (0..1_000).map(|i| format!(" class=c{i}")).collect();
        let out = scan(&format!("<div{classes}>x</div>"));
        assert_eq!(out.matches(" class=").count(), MAX_ATTRIBUTES);
        // Where only the depth is read, attributes stay, up to the cap.
        let names: String = (0..1_000).map(|i| format!(" a{i}")).collect();
        let out = scan(&format!("<select><style></select><div{names}>x</div>"));
        assert_eq!(out.matches(" a").count(), MAX_ATTRIBUTES);
    }

    #[test]
    fn self_closing_tags_count_towards_the_depth() {
        // `/>` closes nothing in HTML: this nests 100,000 deep.
        let page = format!("{}<p>Deep text.</p>", "<div/>".repeat(100_000));
        let capped = prescan(&page);
        assert_eq!(capped.matches("<div/>").count(), MAX_DEPTH);
        assert!(capped.contains("<p>Deep text.</p>"));
        // Void elements still never count.
        let voids = "<br/><img/><hr/>".repeat(1_000);
        assert!(matches!(prescan(&voids), Cow::Borrowed(_)));
    }

    #[test]
    fn formatting_left_open_is_capped_its_text_kept() {
        let open: String = (0..1_000).map(|i| format!("<b id={i}>x{i}<p>y")).collect();
        let capped = prescan(&open);
        assert_eq!(capped.matches("<b ").count(), MAX_FORMATTING);
        for i in 0..1_000 {
            assert!(capped.contains(&format!("x{i}<p>y")), "text {i} lost");
        }
        // A start tag past the cap goes with its end tag.
        let nested = format!("{}text{}", "<i>".repeat(10), "</i>".repeat(10));
        assert_eq!(
            scan(&nested),
            format!(
                "{}text{}",
                "<i>".repeat(MAX_FORMATTING),
                "</i>".repeat(MAX_FORMATTING)
            )
        );
        // End tags of another name free no slot.
        let stray: String = (0..100).map(|i| format!("<u id={i}>z</i>")).collect();
        assert_eq!(prescan(&stray).matches("<u ").count(), MAX_FORMATTING);
        // Formatting that is closed is never capped.
        let closed = "<p><b>a</b> <i>b</i> <strong><em>c</em></strong></p>".repeat(1_000);
        assert!(matches!(prescan(&closed), Cow::Borrowed(_)));
    }

    #[test]
    fn unclosed_regions_stay_linear() {
        // One search for the missing end, then no more (and the depth cap applies).
        let svgs = "<svg><path/>x".repeat(50_000);
        let capped = prescan(&svgs);
        // The scan cannot tell SVG's self-closed elements from HTML's, so `<path/>` counts.
        assert_eq!(
            capped.matches("<svg>").count() + capped.matches("<path/>").count(),
            MAX_DEPTH
        );
        let navs = format!("{}{}", "<nav><h1>".repeat(50_000), "</nav>".repeat(50_000));
        assert!(prescan(&navs).len() <= navs.len());
    }
}
