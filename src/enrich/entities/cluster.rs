//! Mention clustering: groups the tagger's mentions of one real entity into one entry,
//! chooses its canonical name, attaches titles from premodifiers and appositions, computes
//! salience, and links quote speakers to entities.
//!
//! Matching rules, tried against each entity built so far (longest mentions first):
//! same normalised form (`U.S.` = `US`), same gazetteer alias group (`US` = `United
//! States`), a surname or short form of a person (`Kerry` -> `John Kerry`, `Assad` ->
//! `Bashar al-Assad`), a transliteration variant (`Sergei`/`Sergey Lavrov`), an acronym
//! (`UN` -> `United Nations`).
//!
//! Must not: panic on any input, or compare a mention with more than the story's entities.

use rustc_hash::FxHashMap;

use crate::enrich::record::{Entity, EntityType, Field, Mention, Quote};
use crate::enrich::story::Story;

use super::gazetteer::{self, Gazetteer};
use super::tokenize::Tokenized;

/// One tagged span before clustering (byte offsets into its field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// The field (`None` = body).
    pub field: Option<Field>,
    /// With `field: caption`: which media entry.
    pub media_index: Option<usize>,
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// First token index in the field's tokens.
    pub first_token: usize,
    /// One past the last token index.
    pub end_token: usize,
    /// The tagged type.
    pub kind: EntityType,
}

/// A tokenised field, for title extraction.
#[derive(Debug, Clone, Copy)]
pub struct FieldTokens<'a> {
    /// The field.
    pub field: Option<Field>,
    /// With `field: caption`: which media entry.
    pub media_index: Option<usize>,
    /// The field's text.
    pub text: &'a str,
    /// Its tokens and sentences.
    pub tok: &'a Tokenized,
}

/// A mention with what matching needs.
struct Cand<'a> {
    found: Found,
    text: &'a str,
    norm: String,
    words: usize,
    caps: bool,
    /// Reading order: headline, captions, body.
    order: (usize, usize),
    group: u32,
}

/// An entity being built.
struct Building {
    canonical: usize,
    members: Vec<usize>,
    /// Distinct multi-word spellings (normalised) of the entity, for the person-variant
    /// match (`sergei lavrov` / `sergey lavrov`); at most [`MAX_VARIANT_SPELLINGS`].
    norms: Vec<String>,
    votes: [f32; 4],
}

/// How many distinct spellings an entity keeps for the person-variant match.
///
/// Every candidate sharing a last name is compared (word splits and an edit distance)
/// with each kept spelling, and each new spelling is checked against the list before it
/// is kept, so without a bound a chain of one-letter variants (`Ann Lee`, `Ano Lee`,
/// `Bno Lee`, …) that merges into one entity makes clustering quadratic. The bound
/// cannot change real output: only multi-word spellings are kept (a one-word form can
/// never be a variant, see [`same_person_variant`]), the first ones met are kept
/// (longest mentions, text before structured fields), and a real person has a handful of
/// distinct full-name spellings in a story (with and without a middle name or initial,
/// a transliteration or two), far below 32. Only a story with more than 32 distinct
/// spellings of one person's full name — a chain no writer produces — sees a later
/// spelling matched against the first 32 only.
const MAX_VARIANT_SPELLINGS: usize = 32;

/// How many kept spellings one candidate is compared with, over all the entities sharing
/// its last name. Each comparison is an edit distance per word, so 16 entities of 32
/// spellings each made a chain of one-letter variants cost about 10 s per MiB; real
/// stories hold a few people per last name with a few spellings each, far below this.
const MAX_VARIANT_CHECKS: usize = 32;

impl Building {
    /// Keeps `norm` (a mention's normalised form) for the person-variant match when it
    /// is a new multi-word spelling and the entity has room for it.
    fn keep_spelling(&mut self, norm: &str) {
        if self.norms.len() < MAX_VARIANT_SPELLINGS
            && norm.contains(' ')
            && !self.norms.iter().any(|n| n == norm)
        {
            self.norms.push(norm.to_owned());
        }
    }
}

fn type_index(t: EntityType) -> usize {
    match t {
        EntityType::Per => 0,
        EntityType::Org => 1,
        EntityType::Loc => 2,
        EntityType::Misc => 3,
    }
}

const TYPES: [EntityType; 4] = [
    EntityType::Per,
    EntityType::Org,
    EntityType::Loc,
    EntityType::Misc,
];

/// Lower case, periods dropped, curly apostrophes straightened, a leading `the ` dropped.
pub(crate) fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '.' => {}
            '’' => out.push('\''),
            c if c.is_whitespace() => {
                if !out.ends_with(' ') && !out.is_empty() {
                    out.push(' ');
                }
            }
            c => out.extend(c.to_lowercase()),
        }
    }
    let trimmed = out.trim_end();
    trimmed.strip_prefix("the ").unwrap_or(trimmed).to_owned()
}

/// The last word of a normalised name without an Arabic article (`al-assad` -> `assad`).
fn last_key(norm: &str) -> &str {
    let last = norm.rsplit(' ').next().unwrap_or(norm);
    for p in ["al-", "el-", " al ", "bin-"] {
        if let Some(rest) = last.strip_prefix(p) {
            if !rest.is_empty() {
                return rest;
            }
        }
    }
    last
}

/// Initials of the capitalised words (`United Nations` -> `un`).
fn acronym(text: &str) -> String {
    text.split_whitespace()
        .filter(|w| w.chars().next().is_some_and(char::is_uppercase))
        .filter_map(|w| w.chars().next())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The longest word [`edit_distance`] compares, in characters.
const MAX_EDIT_CHARS: usize = 32;

/// Levenshtein distance, bounded: gives up (returns `max + 1`) on words over
/// [`MAX_EDIT_CHARS`] characters, and as soon as no alignment can stay within `max`.
/// Works on the stack: it runs for every candidate spelling of a shared last name.
fn edit_distance(a: &str, b: &str, max: usize) -> usize {
    let (Some((a, a_len)), Some((b, b_len))) = (chars_of(a), chars_of(b)) else {
        return max + 1;
    };
    let (a, b) = (&a[..a_len], &b[..b_len]);
    if a.len().abs_diff(b.len()) > max {
        return max + 1;
    }
    let mut prev = [0usize; MAX_EDIT_CHARS + 1];
    let mut cur = [0usize; MAX_EDIT_CHARS + 1];
    for (j, cell) in prev.iter_mut().enumerate().take(b.len() + 1) {
        *cell = j;
    }
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        let mut row_min = cur[0];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
            row_min = row_min.min(cur[j + 1]);
        }
        if row_min > max {
            // Every later row is at least this row's minimum.
            return max + 1;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The characters of `word` and their count, if it has at most [`MAX_EDIT_CHARS`].
fn chars_of(word: &str) -> Option<([char; MAX_EDIT_CHARS], usize)> {
    let mut chars = ['\0'; MAX_EDIT_CHARS];
    let mut len = 0;
    for ch in word.chars() {
        *chars.get_mut(len)? = ch;
        len += 1;
    }
    Some((chars, len))
}

#[cfg(test)]
thread_local! {
    /// Calls of [`same_person_variant`] on this thread, for the complexity tests.
    static VARIANT_CHECKS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Whether two person names are spellings of one name (`sergey lavrov` / `sergei lavrov`):
/// as many words (at least two), the same last-name key, and each pair of words equal or,
/// from four characters on, with the same first letter and within two edits.
fn same_person_variant(a: &str, b: &str) -> bool {
    #[cfg(test)]
    VARIANT_CHECKS.with(|c| c.set(c.get() + 1));
    if last_key(a) != last_key(b) {
        return false;
    }
    let (mut wa, mut wb) = (a.split(' '), b.split(' '));
    let mut words = 0;
    loop {
        match (wa.next(), wb.next()) {
            (None, None) => return words >= 2,
            (Some(x), Some(y)) if same_word_or_variant(x, y) => words += 1,
            _ => return false,
        }
    }
}

/// One word pair of [`same_person_variant`].
fn same_word_or_variant(x: &str, y: &str) -> bool {
    x == y
        || (x.chars().next() == y.chars().next()
            && x.chars().count() >= 4
            && edit_distance(x, y, 2) <= 2)
}

/// Whether a mention comes from a structured field (the byline's agency, a photo credit)
/// rather than from text the tagger read.
fn is_structured(field: Option<Field>) -> bool {
    matches!(field, Some(Field::Credit | Field::Agency))
}

/// Reading order of a field: headline, captions, body, then the structured fields (so
/// the byline and credits never change the ids or names of what the text names).
fn field_order(f: &Found) -> usize {
    const BODY: usize = usize::MAX / 2;
    match f.field {
        Some(Field::Headline) => 0,
        Some(Field::Caption) => 1 + f.media_index.unwrap_or(0).min(BODY - 2),
        None => BODY,
        Some(Field::Agency) => BODY + 1,
        Some(Field::Credit) => BODY + 2 + f.media_index.unwrap_or(0).min(BODY - 2),
    }
}

fn candidates<'a>(story: &'a Story, found: &[Found], gaz: &Gazetteer) -> Vec<Cand<'a>> {
    found
        .iter()
        .filter_map(|f| {
            let text = story
                .field_text(f.field, f.media_index)?
                .get(f.start..f.end)?;
            let norm = normalise(text);
            if norm.is_empty() {
                return None;
            }
            let letters = text.chars().filter(|c| c.is_alphabetic());
            let caps =
                text.chars().filter(|c| c.is_lowercase()).count() == 0 && letters.count() > 1;
            Some(Cand {
                found: *f,
                text,
                words: norm.split(' ').count(),
                group: gaz.get_name(text).map_or(0, |e| e.group),
                norm,
                caps,
                order: (field_order(f), f.start),
            })
        })
        .collect()
}

/// Lookup tables over the entities built so far, so each mention is matched in O(1)
/// expected time rather than against every entity.
#[derive(Default)]
struct Index {
    by_norm: FxHashMap<(String, usize), usize>,
    by_group: FxHashMap<(u32, usize), usize>,
    /// People with a multi-word name, by last-name key.
    by_last: FxHashMap<String, Vec<usize>>,
    /// Multi-word non-person names, by acronym.
    by_acronym: FxHashMap<(String, usize), usize>,
}

impl Index {
    fn add(&mut self, id: usize, c: &Cand<'_>, canonical: bool) {
        let t = type_index(c.found.kind);
        self.by_norm.entry((c.norm.clone(), t)).or_insert(id);
        if c.group != 0 {
            self.by_group.entry((c.group, t)).or_insert(id);
        }
        if canonical && c.words > 1 {
            if c.found.kind == EntityType::Per {
                self.by_last
                    .entry(last_key(&c.norm).to_owned())
                    .or_default()
                    .push(id);
            } else {
                self.by_acronym.entry((acronym(c.text), t)).or_insert(id);
            }
        }
    }

    /// The entity candidate `c` names, if any.
    fn find(&self, c: &Cand<'_>, built: &[Building], cands: &[Cand<'_>]) -> Option<usize> {
        let t = type_index(c.found.kind);
        if let Some(&id) = self.by_norm.get(&(c.norm.clone(), t)) {
            return Some(id);
        }
        if c.group != 0 {
            if let Some(&id) = self.by_group.get(&(c.group, t)) {
                return Some(id);
            }
        }
        if let Some(people) = self.by_last.get(last_key(&c.norm)) {
            let mut variant_checks = 0;
            for &id in people.iter().take(16) {
                let canon = &cands[built[id].canonical];
                let short_form = c.words < canon.words && canon.norm.ends_with(&c.norm);
                let surname = c.words == 1;
                let person = c.found.kind == EntityType::Per;
                let variant = person
                    && built[id].norms.iter().any(|n| {
                        variant_checks += 1;
                        variant_checks <= MAX_VARIANT_CHECKS && same_person_variant(n, &c.norm)
                    });
                if (surname && (person || !c.caps)) || (person && short_form) || variant {
                    return Some(id);
                }
            }
        }
        let letters = c.norm.chars().filter(|ch| ch.is_alphabetic()).count();
        if c.caps && c.words == 1 && (2..=6).contains(&letters) && c.found.kind != EntityType::Per {
            let key = c.norm.replace(['.', '-'], "");
            return self.by_acronym.get(&(key, t)).copied();
        }
        None
    }
}

/// Groups mentions into entities (ids in reading order), with titles and salience.
pub fn cluster(
    story: &Story,
    found: &[Found],
    fields: &[FieldTokens<'_>],
    gaz: &Gazetteer,
) -> Vec<Entity> {
    let cands = candidates(story, found, gaz);
    let mut order: Vec<usize> = (0..cands.len()).collect();
    // The text's mentions first: a structured field's name joins an entity the text names
    // but never becomes what the text's short forms attach to (a photographer `Jacquelyn
    // Martin` must not take over the story's `Martin`).
    order.sort_by_key(|&i| {
        (
            is_structured(cands[i].found.field),
            std::cmp::Reverse(cands[i].words),
            cands[i].caps,
            cands[i].order,
        )
    });
    let mut built: Vec<Building> = Vec::new();
    let mut index = Index::default();
    for &i in &order {
        let c = &cands[i];
        let weight = if c.found.field.is_none() { 1.0 } else { 0.5 };
        match index.find(c, &built, &cands) {
            Some(id) => {
                let e = &mut built[id];
                e.members.push(i);
                e.keep_spelling(&c.norm);
                e.votes[type_index(c.found.kind)] += weight;
                index.add(id, c, false);
            }
            None => {
                let mut votes = [0.0; 4];
                votes[type_index(c.found.kind)] += weight + 1.0;
                index.add(built.len(), c, !is_structured(c.found.field));
                let mut e = Building {
                    canonical: i,
                    members: vec![i],
                    norms: Vec::new(),
                    votes,
                };
                e.keep_spelling(&c.norm);
                built.push(e);
            }
        }
    }
    // Cached: the key walks an entity's mentions, and one entity may hold most of them
    // (an agency named in every one of 40,000 photo credits made this sort quadratic).
    built.sort_by_cached_key(|e| e.members.iter().map(|&m| cands[m].order).min());
    let lookup = field_lookup(fields);
    let mut entities: Vec<Entity> = built
        .iter()
        .enumerate()
        .map(|(n, e)| to_entity(n, e, &cands, &lookup, gaz))
        .collect();
    set_salience(&mut entities, story);
    entities
}

/// The story's fields by field and media index (the first of each), so each person
/// mention finds its field in constant time rather than by a walk over every caption.
type FieldLookup<'f, 'a> = FxHashMap<(Option<Field>, Option<usize>), &'f FieldTokens<'a>>;

fn field_lookup<'f, 'a>(fields: &'f [FieldTokens<'a>]) -> FieldLookup<'f, 'a> {
    let mut lookup = FieldLookup::default();
    for ft in fields {
        lookup.entry((ft.field, ft.media_index)).or_insert(ft);
    }
    lookup
}

fn to_entity(
    n: usize,
    e: &Building,
    cands: &[Cand<'_>],
    fields: &FieldLookup<'_, '_>,
    gaz: &Gazetteer,
) -> Entity {
    let mut members = e.members.clone();
    members.sort_by_key(|&m| cands[m].order);
    let voted = (0..4)
        .max_by(|&a, &b| e.votes[a].total_cmp(&e.votes[b]).then(b.cmp(&a)))
        .map_or(EntityType::Misc, |i| TYPES[i]);
    let kind = correct_misc_organisation(voted, cands[e.canonical].text, gaz);
    let mut titles: Vec<String> = Vec::new();
    if kind == EntityType::Per {
        // Titles equal but for ASCII case are one; a set, since a person mentioned
        // 40,000 times with a different title each made the list walk quadratic.
        let mut seen: rustc_hash::FxHashSet<String> = rustc_hash::FxHashSet::default();
        for &m in &members {
            for t in titles_of(&cands[m].found, fields) {
                if seen.insert(t.to_ascii_lowercase()) {
                    titles.push(t);
                }
            }
        }
    }
    Entity {
        id: format!("e{}", n + 1),
        name: cands[e.canonical].text.to_owned(),
        kind,
        mentions: members
            .iter()
            .map(|&m| {
                let c = &cands[m];
                Mention {
                    start: c.found.start,
                    end: c.found.end,
                    text: c.text.to_owned(),
                    field: c.found.field,
                    media_index: c.found.media_index,
                }
            })
            .collect(),
        titles,
        salience: 0.0,
    }
}

/// The tagger's MISC for a name that the gazetteer knows, as a whole multi-word name, only
/// as an organisation (`Arab League`, `European Union`) is a class slip — a demonym or
/// adjective inside the name (`Arab`, `European`) pulled it to MISC — so the entity is an
/// ORG. Single words and names the lists also know as groups, demonyms or places keep the
/// tagger's type: the lists are evidence here, not an override of what the text shows.
fn correct_misc_organisation(voted: EntityType, name: &str, gaz: &Gazetteer) -> EntityType {
    if voted != EntityType::Misc || !name.contains(' ') {
        return voted;
    }
    let other = gazetteer::MISC
        | gazetteer::DEMONYM
        | gazetteer::COUNTRY
        | gazetteer::CITY
        | gazetteer::REGION
        | gazetteer::COMMON;
    match gaz.get_name(name) {
        Some(entry) if entry.flags & gazetteer::ORG != 0 && entry.flags & other == 0 => {
            EntityType::Org
        }
        _ => voted,
    }
}

/// Words that make a phrase a title (lower case).
const TITLE_HEADS: &[&str] = &[
    "president",
    "minister",
    "secretary",
    "secretary-general",
    "spokesman",
    "spokeswoman",
    "spokesperson",
    "chief",
    "leader",
    "director",
    "chairman",
    "chairwoman",
    "chair",
    "head",
    "ambassador",
    "envoy",
    "general",
    "commander",
    "governor",
    "senator",
    "mayor",
    "king",
    "queen",
    "prince",
    "princess",
    "official",
    "adviser",
    "advisor",
    "deputy",
    "ceo",
    "founder",
    "captain",
    "coach",
    "manager",
    "analyst",
    "correspondent",
    "editor",
    "economist",
    "professor",
    "judge",
    "attorney",
    "lawyer",
    "negotiator",
    "representative",
    "lawmaker",
    "candidate",
    "nominee",
    "president-elect",
    "pope",
    "cardinal",
    "archbishop",
    "bishop",
    "sheikh",
    "emir",
    "sultan",
    "colonel",
    "lieutenant",
    "sergeant",
    "admiral",
    "officer",
    "commissioner",
    "chancellor",
    "premier",
    "executive",
    "strategist",
    "diplomat",
    "researcher",
    "expert",
    "member",
    "striker",
    "midfielder",
    "goalkeeper",
    "defender",
    "forward",
    "champion",
    "player",
    "author",
    "chairperson",
    "speaker",
];

/// Lower-case words allowed inside a premodifying title (`State Department spokesman`).
const TITLE_INNER: &[&str] = &[
    "of", "for", "'s", "’s", "foreign", "defense", "defence", "vice", "prime", "state", "general",
    "former", "acting", "interim", "senior", "deputy", "top", "u.s.", "white", "house",
];

fn is_title_head(word: &str) -> bool {
    let lower = word.to_lowercase();
    TITLE_HEADS.contains(&lower.as_str())
}

fn is_capitalised(word: &str) -> bool {
    word.chars().next().is_some_and(char::is_uppercase)
}

/// Titles from the words around one mention.
fn titles_of(f: &Found, fields: &FieldLookup<'_, '_>) -> Vec<String> {
    let Some(ft) = fields.get(&(f.field, f.media_index)) else {
        return Vec::new();
    };
    let si = ft.tok.sentences.partition_point(|s| s.end <= f.first_token);
    let Some(sentence) = ft
        .tok
        .sentences
        .get(si)
        .filter(|s| s.contains(&f.first_token))
    else {
        return Vec::new();
    };
    let word = |i: usize| ft.tok.tokens.get(i).map_or("", |t| t.text(ft.text));
    let mut out = Vec::new();
    // Premodifier: `US Secretary of State John Kerry`.
    let mut j = f.first_token;
    while j > sentence.start {
        let w = word(j - 1);
        let ok = is_capitalised(w)
            || TITLE_INNER.contains(&w.to_lowercase().as_str())
            || is_title_head(w);
        if !ok
            || w.chars()
                .all(|c| !c.is_alphanumeric() && c != '\'' && c != '’')
        {
            break;
        }
        j -= 1;
    }
    while j < f.first_token
        && matches!(
            word(j).to_lowercase().as_str(),
            "of" | "for" | "and" | "'s" | "’s" | "the"
        )
    {
        j += 1;
    }
    if j < f.first_token && (j..f.first_token).any(|i| is_title_head(word(i))) {
        if let Some(t) = span_text(ft, j, f.first_token) {
            out.push(t);
        }
    }
    // Apposition: `Toner, a State Department spokesman,`.
    if word(f.end_token) == "," {
        let mut k = f.end_token + 1;
        if matches!(word(k).to_lowercase().as_str(), "a" | "an" | "the") {
            k += 1;
        }
        let start = k;
        while k < sentence.end && k - start < 8 {
            let w = word(k);
            let ok = is_capitalised(w)
                || TITLE_INNER.contains(&w.to_lowercase().as_str())
                || is_title_head(w);
            if !ok || w.chars().all(|c| !c.is_alphanumeric()) {
                break;
            }
            k += 1;
        }
        let ends_phrase =
            k >= sentence.end || matches!(word(k), "," | "." | ";" | ")" | "--" | "–" | "—");
        if k > start && ends_phrase && is_title_head(word(k - 1)) {
            if let Some(t) = span_text(ft, start, k) {
                out.push(t);
            }
        }
    }
    out
}

fn span_text(ft: &FieldTokens<'_>, first: usize, end: usize) -> Option<String> {
    let s = ft.tok.tokens.get(first)?.start;
    let e = ft.tok.tokens.get(end.checked_sub(1)?)?.end;
    Some(ft.text.get(s..e)?.to_owned())
}

/// Salience: mention count (headline mentions count double) plus how early the entity is
/// first mentioned, scaled so the most salient entity has 1.
fn set_salience(entities: &mut [Entity], story: &Story) {
    let body_len = story.body.len().max(1) as f64;
    let raw: Vec<f64> = entities
        .iter()
        .map(|e| {
            let count: f64 = e
                .mentions
                .iter()
                .map(|m| match m.field {
                    Some(Field::Headline) => 2.0,
                    Some(Field::Caption) => 0.5,
                    Some(Field::Credit | Field::Agency) => 0.25,
                    None => 1.0,
                })
                .sum();
            let first_body = e
                .mentions
                .iter()
                .filter(|m| m.field.is_none())
                .map(|m| m.start)
                .min();
            let early = first_body.map_or(0.0, |s| 1.0 - s as f64 / body_len);
            let headline = e.mentions.iter().any(|m| m.field == Some(Field::Headline));
            count.sqrt() + 1.5 * early + if headline { 1.0 } else { 0.0 }
        })
        .collect();
    let max = raw.iter().copied().fold(0.0, f64::max);
    for (e, r) in entities.iter_mut().zip(raw) {
        e.salience = if max > 0.0 {
            (r / max * 1000.0).round() / 1000.0
        } else {
            0.0
        };
    }
}

/// Links quote speakers the quote stage left open to entities, and upgrades `speaker` to
/// the entity's canonical name. Linear: mentions and names are indexed once.
pub fn link_speakers(entities: &[Entity], quotes: &mut [Quote]) {
    if quotes.is_empty() || entities.is_empty() {
        return;
    }
    let index = SpeakerIndex::new(entities);
    for q in quotes.iter_mut().filter(|q| q.speaker_entity.is_none()) {
        let by_mention = q
            .speaker_mention
            .as_ref()
            .and_then(|m| index.heading(m, entities));
        let found = by_mention.or_else(|| {
            q.speaker
                .as_deref()
                .and_then(|s| index.named(s))
                .map(|i| (i, true))
        });
        if let Some((e, whole)) = found.and_then(|(i, whole)| Some((entities.get(i)?, whole))) {
            q.speaker_entity = Some(e.id.clone());
            // A mention that is only the head of a longer speaker phrase links the entity
            // but keeps the phrase (`Iran's Foreign Ministry`, not `Foreign Ministry`).
            if whole || q.speaker.is_none() {
                q.speaker = Some(e.name.clone());
            }
        }
    }
}

/// Entity lookups for speaker linking.
struct SpeakerIndex {
    /// `(field, media index, start, end, entity)`, sorted.
    spans: Vec<(u8, usize, usize, usize, usize)>,
    by_norm: FxHashMap<String, usize>,
    /// People by last-name key.
    by_last: FxHashMap<String, usize>,
}

fn field_code(f: Option<Field>) -> u8 {
    match f {
        None => 0,
        Some(Field::Headline) => 1,
        Some(Field::Caption) => 2,
        Some(Field::Credit) => 3,
        Some(Field::Agency) => 4,
    }
}

impl SpeakerIndex {
    fn new(entities: &[Entity]) -> Self {
        let mut spans = Vec::new();
        let mut by_norm = FxHashMap::default();
        let mut by_last = FxHashMap::default();
        for (i, e) in entities.iter().enumerate() {
            by_norm.entry(normalise(&e.name)).or_insert(i);
            for m in &e.mentions {
                spans.push((
                    field_code(m.field),
                    m.media_index.unwrap_or(0),
                    m.start,
                    m.end,
                    i,
                ));
                let norm = normalise(&m.text);
                if e.kind == EntityType::Per {
                    by_last.entry(last_key(&norm).to_owned()).or_insert(i);
                }
                by_norm.entry(norm).or_insert(i);
            }
        }
        spans.sort_unstable();
        Self {
            spans,
            by_norm,
            by_last,
        }
    }

    /// The entity a speaker phrase `m` names, and whether the speaker should take its name.
    /// That is the phrase's head: the first tagged mention that ends the phrase or is
    /// followed by a post-modifier (` of …`, `, …`). `Iran's Foreign Ministry` is not Iran,
    /// `one district GOP leader` is not the GOP, `Immunologist Kristian Andersen of Scripps
    /// Research` is Kristian Andersen. The speaker takes the entity's name when the mention
    /// is the whole phrase or a person (the rest is then a title).
    fn heading(&self, m: &Mention, entities: &[Entity]) -> Option<(usize, bool)> {
        let (f, mi) = (field_code(m.field), m.media_index.unwrap_or(0));
        let first = self
            .spans
            .partition_point(|s| (s.0, s.1, s.2) < (f, mi, m.start));
        // Tagged spans do not overlap, so only the one just before `m.start` can reach in.
        let head = self.spans[first.saturating_sub(1)..]
            .iter()
            .skip_while(|s| (s.0, s.1) < (f, mi))
            .take_while(|s| (s.0, s.1) == (f, mi) && s.2 < m.end)
            .filter(|s| s.3 > m.start)
            .find(|s| {
                let rest = m.text.get(s.3.saturating_sub(m.start)..).unwrap_or("");
                rest.is_empty() || rest.starts_with(" of ") || rest.starts_with(',')
            })?;
        let whole = head.2 <= m.start && head.3 >= m.end;
        let person = entities
            .get(head.4)
            .is_some_and(|e| e.kind == EntityType::Per);
        Some((head.4, whole || person))
    }

    /// The entity a speaker string names: same form as a mention, else a person with the
    /// same (capitalised) last word.
    fn named(&self, speaker: &str) -> Option<usize> {
        let norm = normalise(speaker);
        let norm = norm
            .strip_suffix(" 's")
            .or_else(|| norm.strip_suffix("'s"))
            .unwrap_or(&norm);
        if norm.is_empty() {
            return None;
        }
        if let Some(&i) = self.by_norm.get(norm) {
            return Some(i);
        }
        let capitalised = speaker
            .split_whitespace()
            .last()
            .is_some_and(is_capitalised);
        if !capitalised {
            return None;
        }
        self.by_last.get(last_key(norm)).copied()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_known_multiword_organisation_tagged_misc_becomes_org() {
        let gaz = crate::enrich::entities::embedded_gazetteer();
        let fix = |t, name| super::correct_misc_organisation(t, name, gaz);
        assert_eq!(fix(EntityType::Misc, "Arab League"), EntityType::Org);
        // Other types, single words and unknown names keep the tagger's type.
        assert_eq!(fix(EntityType::Loc, "Arab League"), EntityType::Loc);
        assert_eq!(fix(EntityType::Misc, "Arab"), EntityType::Misc);
        assert_eq!(fix(EntityType::Misc, "Grand Prix"), EntityType::Misc);
    }

    use super::*;

    #[test]
    fn normalises_and_keys() {
        assert_eq!(normalise("U.S."), "us");
        assert_eq!(normalise("The  Hague"), "hague");
        assert_eq!(last_key("bashar al-assad"), "assad");
        assert_eq!(acronym("United Nations"), "un");
        assert!(same_person_variant("sergey lavrov", "sergei lavrov"));
        assert!(!same_person_variant("john kerry", "jane kerry"));
        assert_eq!(edit_distance("kitten", "sitting", 3), 3);
    }

    /// The textbook Levenshtein distance, unbounded.
    fn reference_distance(a: &str, b: &str) -> usize {
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.iter().enumerate() {
            let mut cur = vec![i + 1; b.len() + 1];
            for (j, cb) in b.iter().enumerate() {
                cur[j + 1] = (prev[j] + usize::from(ca != cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1);
            }
            prev = cur;
        }
        prev[b.len()]
    }

    #[test]
    fn bounded_edit_distance_is_exact_within_the_bound_and_over_it_beyond() {
        let words = [
            "",
            "a",
            "ab",
            "lavrov",
            "lavrow",
            "sergei",
            "sergey",
            "sergej",
            "kitten",
            "sitting",
            "mohammed",
            "muhammad",
            "mohamed",
            "zelensky",
            "zelenskyy",
            "zelenskiy",
            "müller",
            "muller",
            "mueller",
            "ŝkodová",
            "škoda",
            "abcdefgh",
            "hgfedcba",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
        ];
        for a in words {
            for b in words {
                let exact = reference_distance(a, b);
                for max in 0..4 {
                    let got = edit_distance(a, b, max);
                    if exact <= max {
                        assert_eq!(got, exact, "{a:?} {b:?} max {max}");
                    } else {
                        assert!(got > max, "{a:?} {b:?} max {max}: {got} (exact {exact})");
                    }
                }
            }
        }
        let long = "a".repeat(33);
        assert_eq!(
            edit_distance(&long, &long, 2),
            3,
            "words over 32 characters give up"
        );
    }

    /// A story whose body is `names` joined by ` said. `, each tagged as a person; returns
    /// the entities and how many person-variant checks clustering made.
    fn cluster_people(names: &[String]) -> (Vec<Entity>, usize) {
        let mut body = String::new();
        let mut found = Vec::new();
        for name in names {
            let start = body.len();
            body.push_str(name);
            found.push(Found {
                field: None,
                media_index: None,
                start,
                end: body.len(),
                first_token: 0,
                end_token: 0,
                kind: EntityType::Per,
            });
            body.push_str(" said. ");
        }
        let story = Story::from_paragraphs(crate::enrich::record::Format::Text, &[body]);
        let gaz = crate::enrich::entities::embedded_gazetteer();
        VARIANT_CHECKS.with(|c| c.set(0));
        let entities = cluster(&story, &found, &[], gaz);
        (entities, VARIANT_CHECKS.with(std::cell::Cell::get))
    }

    /// `n` spellings of `M… Lee`, each one letter from the one before (a Gray code over
    /// ten letters), so every spelling is a person variant of the previous one.
    fn variant_chain(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                let mut x = i;
                let digits: Vec<usize> = (0..10)
                    .map(|_| {
                        let d = x % 4;
                        x /= 4;
                        d
                    })
                    .collect();
                // Reflected Gray code in base 4: a digit runs backwards while the next
                // higher one is odd, so consecutive values differ in one digit.
                let first: String = (0..10)
                    .map(|k| {
                        let reflected = k + 1 < 10 && digits[k + 1] % 2 == 1;
                        let v = if reflected { 3 - digits[k] } else { digits[k] };
                        ['a', 'e', 'i', 'o'][v]
                    })
                    .collect();
                format!("M{first} Lee")
            })
            .collect()
    }

    #[test]
    fn an_entity_keeps_a_bounded_number_of_spellings() {
        // Every spelling used to be kept, so each later mention was checked against all
        // of them: quadratic in a chain of one-letter variants.
        let mut e = Building {
            canonical: 0,
            members: vec![0],
            norms: Vec::new(),
            votes: [0.0; 4],
        };
        for name in variant_chain(1000) {
            let norm = normalise(&name);
            e.keep_spelling(&norm);
            e.keep_spelling(&norm);
        }
        e.keep_spelling("lee");
        assert_eq!(e.norms.len(), MAX_VARIANT_SPELLINGS);
        let kept: std::collections::HashSet<&String> = e.norms.iter().collect();
        assert_eq!(kept.len(), e.norms.len(), "no spelling kept twice");
        assert!(e.norms.iter().all(|n| n.contains(' ')));
        assert_eq!(
            e.norms[0], "maaaaaaaaaa lee",
            "the first spellings met are kept"
        );
    }

    #[test]
    fn real_spelling_variants_still_merge() {
        let names: Vec<String> = ["Sergei Lavrov", "Sergey Lavrov", "Lavrov", "Sergei Lavrov"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (entities, _) = cluster_people(&names);
        assert_eq!(entities.len(), 1, "{entities:?}");
        assert_eq!(entities[0].name, "Sergei Lavrov");
        assert_eq!(entities[0].mentions.len(), 4);
    }

    #[test]
    fn a_chain_of_spelling_variants_stays_one_entity_within_the_check_bound() {
        let chain = variant_chain(600);
        for w in chain.windows(2) {
            assert!(same_person_variant(&normalise(&w[0]), &normalise(&w[1])));
        }
        let (short, short_checks) = cluster_people(&chain[..150]);
        let (long, long_checks) = cluster_people(&chain);
        // A mention is compared with at most `MAX_VARIANT_CHECKS` kept spellings (it used
        // to be up to 16 entities of `MAX_VARIANT_SPELLINGS` each, over 8,000 checks for
        // this chain; `an_entity_keeps_a_bounded_number_of_spellings` covers the cap).
        assert!(
            long_checks <= 600 * MAX_VARIANT_CHECKS,
            "{long_checks} variant checks for 600 mentions"
        );
        assert!(
            short_checks <= 150 * MAX_VARIANT_CHECKS,
            "{short_checks} variant checks for 150 mentions"
        );
        let mentions: usize = long.iter().map(|e| e.mentions.len()).sum();
        assert_eq!(mentions, 600);
        // Up to the cap the chain is one entity, exactly as without a cap.
        assert!(
            short[0].mentions.len() >= MAX_VARIANT_SPELLINGS,
            "{:?}",
            short[0]
        );
    }
}
