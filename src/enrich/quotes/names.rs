//! A light capitalised-name finder and the story's name table: which full names a story
//! uses, so that `Toner` resolves to `Mark Toner` and `he` to the last man named.
//!
//! Must not: depend on the entity tagger (it runs later), or claim precision it does not
//! have: it only separates likely people from likely organisations and places.

use super::cues;
use super::tokens::Tok;

/// What a name probably names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameKind {
    /// A person (two or more name words, no organisation word).
    Person,
    /// An organisation (`State Department`, `Iran's Foreign Ministry`).
    Org,
    /// A single word or a place: not used as a pronoun antecedent.
    Other,
}

/// Grammatical gender guessed from a given name or honorific.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gender {
    /// A male given name or `Mr.`.
    Male,
    /// A female given name or `Mrs.`/`Ms.`.
    Female,
    /// Nothing to tell.
    Unknown,
}

/// One name occurrence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Name {
    /// Token range of the name (titles excluded).
    pub(crate) first: usize,
    /// One past the last token.
    pub(crate) last: usize,
    /// Byte span.
    pub(crate) start: usize,
    /// One past the last byte.
    pub(crate) end: usize,
    /// Lower-case title words before the name (`state department spokesman`).
    pub(crate) title: String,
    /// Person, organisation or other.
    pub(crate) kind: NameKind,
    /// Gender when known.
    pub(crate) gender: Gender,
    /// Whether the name is inside a quote.
    pub(crate) quoted: bool,
}

impl Name {
    /// The name's text.
    pub(crate) fn text<'a>(&self, body: &'a str) -> &'a str {
        body.get(self.start..self.end).unwrap_or("")
    }

    /// The last word (a person's surname), without a possessive.
    pub(crate) fn last_word<'a>(&self, body: &'a str) -> &'a str {
        strip_possessive(self.text(body).rsplit(' ').next().unwrap_or(""))
    }
}

/// `Trump's` -> `Trump`.
pub(crate) fn strip_possessive(word: &str) -> &str {
    word.strip_suffix("'s")
        .or_else(|| word.strip_suffix("’s"))
        .unwrap_or(word)
}

/// Whether a word starts with an upper-case letter.
pub(crate) fn is_capitalised(word: &str) -> bool {
    word.chars().next().is_some_and(char::is_uppercase)
}

/// Finds every name in `tokens`.
pub(crate) fn find_names(body: &str, tokens: &[Tok]) -> Vec<Name> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        let w = t.text(body);
        if !(t.is_word() && is_capitalised(w)) || cues::is_not_name(strip_possessive(w)) {
            i += 1;
            continue;
        }
        let run_end = run_end(body, tokens, i);
        if let Some(name) = name_in_run(body, tokens, i, run_end) {
            out.push(name);
        }
        i = run_end.max(i + 1);
    }
    out
}

/// One past the last token of the capitalised run starting at `i`.
fn run_end(body: &str, tokens: &[Tok], i: usize) -> usize {
    let mut j = i + 1;
    let mut end = i + 1;
    while j < tokens.len() {
        let t = &tokens[j];
        if t.para != tokens[i].para || t.quote != tokens[i].quote || !t.is_word() {
            break;
        }
        let w = t.text(body);
        if strip_possessive(tokens[j - 1].text(body)) != tokens[j - 1].text(body) {
            break; // a possessive ends a name: `Trump's Foreign Minister`
        }
        if is_capitalised(w) && !cues::is_not_name(w) {
            j += 1;
            end = j;
        } else if cues::is_name_connector(w)
            && tokens
                .get(j + 1)
                .is_some_and(|n| n.is_word() && is_capitalised(n.text(body)))
        {
            j += 1;
        } else {
            break;
        }
    }
    end
}

/// The name in the capitalised run `[first, end)`: titles stripped, kind and gender set.
fn name_in_run(body: &str, tokens: &[Tok], first: usize, end: usize) -> Option<Name> {
    let words: Vec<&str> = tokens[first..end].iter().map(|t| t.text(body)).collect();
    // Titles: everything up to the last title word that still leaves a name behind.
    let mut name_from = 0;
    for (k, w) in words.iter().enumerate() {
        if k + 1 < words.len()
            && cues::is_title(w.trim_end_matches('.'))
            && !is_org_run(&words[k..])
        {
            name_from = k + 1;
        }
    }
    while name_from < words.len() && cues::is_name_connector(words[name_from]) {
        name_from += 1;
    }
    let name_words = &words[name_from..];
    if name_words.is_empty() {
        return None;
    }
    let mut title = title_before(body, tokens, first);
    for w in &words[..name_from] {
        if !title.is_empty() {
            title.push(' ');
        }
        title.push_str(&w.to_lowercase());
    }
    let kind = classify(name_words);
    let gender = gender_of(&words[..name_from], name_words, &title);
    let a = first + name_from;
    Some(Name {
        first: a,
        last: end,
        start: tokens[a].start,
        end: tokens[end - 1].end,
        title,
        kind,
        gender,
        quoted: tokens[a].quote.is_some(),
    })
}

/// Lower-case role words just before a name (`spokesman` in `Ministry spokesman Bahram`),
/// with the capitalised run before them.
fn title_before(body: &str, tokens: &[Tok], first: usize) -> String {
    let mut k = first;
    let mut parts: Vec<&str> = Vec::new();
    while k > 0 && parts.len() < 6 {
        let t = &tokens[k - 1];
        let w = t.text(body);
        if !t.is_word() || t.para != tokens[first].para {
            break;
        }
        if cues::is_person_role(w) || (is_capitalised(w) && !parts.is_empty()) {
            parts.push(w);
            k -= 1;
        } else {
            break;
        }
    }
    parts.reverse();
    parts.join(" ").to_lowercase()
}

/// Whether the words from here on name an organisation rather than hold a title.
fn is_org_run(words: &[&str]) -> bool {
    words.iter().skip(1).any(|w| cues::is_org_word(w))
}

/// Person, organisation or other, from the name's own words.
fn classify(words: &[&str]) -> NameKind {
    if words.iter().any(|w| cues::is_org_word(strip_possessive(w))) {
        return NameKind::Org;
    }
    if words.len() == 1 {
        let w = words[0];
        if w.len() > 1 && w.chars().all(|c| c.is_uppercase() || c == '.' || c == '&') {
            return NameKind::Org;
        }
        return NameKind::Other;
    }
    let last = strip_possessive(words[words.len() - 1]);
    if cues::is_place_word(last)
        && !cues::is_male_given(words[0])
        && !cues::is_female_given(words[0])
    {
        return NameKind::Other;
    }
    NameKind::Person
}

/// Gender from an honorific or a given name.
fn gender_of(titles: &[&str], name: &[&str], title: &str) -> Gender {
    let female_title = titles
        .iter()
        .any(|t| ["Mrs.", "Ms.", "Mrs", "Ms"].contains(t))
        || title.contains("woman")
        || title.contains("first lady");
    if female_title {
        return Gender::Female;
    }
    if titles.iter().any(|t| ["Mr.", "Mr"].contains(t)) || title.contains("spokesman") {
        return Gender::Male;
    }
    let first = name.first().copied().unwrap_or("");
    if cues::is_female_given(first) {
        Gender::Female
    } else if cues::is_male_given(first) {
        Gender::Male
    } else {
        Gender::Unknown
    }
}

/// Whether token `i` opens a sentence, a line or a quotation, where any word is
/// capitalised.
fn opens_sentence(body: &str, tokens: &[Tok], i: usize) -> bool {
    let Some(prev) = i.checked_sub(1).and_then(|p| tokens.get(p)) else {
        return true;
    };
    prev.para != tokens[i].para
        || prev.ends_sentence()
        || matches!(prev.text(body), "“" | "\"" | "‘" | "«" | "„")
}

/// Drops one-word "names" that are only capitalised because they open a sentence
/// (`Hours later, …`, `Appearing before …`, `Eight years ago, …`, `Signs of …`). Such a
/// word stays a name when the story also capitalises it mid-sentence (`Sanders` after
/// `Bernie Sanders`), or when a speech verb or auxiliary follows it (`Miller said`,
/// `Cruz openly admitted`, `Reuters has …`). One pass over the tokens and one over the names: linear.
fn drop_sentence_openers(body: &str, tokens: &[Tok], names: &mut Vec<Name>) {
    let mid_sentence: rustc_hash::FxHashSet<&str> = tokens
        .iter()
        .enumerate()
        .filter(|&(i, t)| {
            t.is_word() && is_capitalised(t.text(body)) && !opens_sentence(body, tokens, i)
        })
        .map(|(_, t)| strip_possessive(t.text(body)))
        .collect();
    names.retain(|n| {
        if n.last - n.first > 1 || !opens_sentence(body, tokens, n.first) {
            return true;
        }
        let word_at = |i: usize| {
            tokens
                .get(i)
                .filter(|t| t.is_word())
                .map_or("", |t| t.text(body))
        };
        let next = word_at(n.last);
        mid_sentence.contains(strip_possessive(n.text(body)))
            || cues::cue_word(next).is_some()
            || (cues::is_aux_or_adverb(next) && cues::cue_word(word_at(n.last + 1)).is_some())
            || cues::is_auxiliary(next)
    });
}

/// Keeps a two-word name as a person only when something says so: a known given name, a
/// personal title, or its last word used alone elsewhere in the story (`Mindy Romero` ...
/// `Romero said`). `Regional Change` or `Wells Fargo` stay other names.
fn confirm_people(body: &str, names: &mut [Name]) {
    let singles: rustc_hash::FxHashSet<&str> = names
        .iter()
        .filter(|n| n.last - n.first == 1)
        .map(|n| strip_possessive(n.text(body)))
        .collect();
    for n in names.iter_mut().filter(|n| n.kind == NameKind::Person) {
        let text = n.text(body);
        let first = text.split(' ').next().unwrap_or("");
        let titled = n
            .title
            .split(' ')
            .any(|w| cues::is_title(w) && !w.is_empty());
        let given = cues::is_female_given(first) || cues::is_male_given(first);
        let last = n.last_word(body);
        let reused = singles.contains(last);
        if !(titled || given || reused) {
            n.kind = NameKind::Other;
        }
    }
}

/// The story's names, for resolving short forms and pronouns.
#[derive(Debug, Default)]
pub(crate) struct NameTable {
    /// Every name, in text order.
    pub(crate) names: Vec<Name>,
    /// Person names of two or more words by lower-case last word: indices into `names`,
    /// in text order.
    by_last: rustc_hash::FxHashMap<String, Vec<usize>>,
}

impl NameTable {
    /// Builds the table.
    pub(crate) fn new(body: &str, tokens: &[Tok]) -> Self {
        let mut names = find_names(body, tokens);
        drop_sentence_openers(body, tokens, &mut names);
        confirm_people(body, &mut names);
        let mut by_last: rustc_hash::FxHashMap<String, Vec<usize>> = Default::default();
        for (i, n) in names.iter().enumerate() {
            if n.kind == NameKind::Person && n.last - n.first > 1 {
                by_last
                    .entry(n.last_word(body).to_lowercase())
                    .or_default()
                    .push(i);
            }
        }
        Self { names, by_last }
    }

    /// The fullest name in the story that ends with (or equals) `short`, preferring the
    /// nearest one before `pos`, then the first one after it. `None` when nothing longer.
    pub(crate) fn full_name(&self, body: &str, short: &str, pos: usize) -> Option<&Name> {
        let short = strip_possessive(short.trim());
        let last = short.rsplit(' ').next().unwrap_or(short);
        let candidates = self.by_last.get(&last.to_lowercase())?;
        // A longer name whose last words are the short form's words (`Toner` in
        // `Mark Toner`, never `Khizr Khan` in `Ghazala Khan`).
        let fits = |n: &&Name| {
            let t = strip_possessive(n.text(body));
            t.len() > short.len() && t.ends_with(short) && t[..t.len() - short.len()].ends_with(' ')
        };
        let split = candidates.partition_point(|&i| self.names[i].start < pos);
        // The nearest few before `pos` (bounded: linear time), the fullest of them.
        let before = candidates[..split]
            .iter()
            .rev()
            .take(12)
            .map(|&i| &self.names[i])
            .filter(fits)
            .max_by_key(|n| (n.end - n.start, n.start));
        before.or_else(|| {
            candidates[split..]
                .iter()
                .take(12)
                .map(|&i| &self.names[i])
                .find(fits)
        })
    }

    /// The index of the first name at or after byte `pos`.
    pub(crate) fn index_at(&self, pos: usize) -> usize {
        self.names.partition_point(|n| n.start < pos)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tokens::tokenize;
    use super::*;

    fn names(text: &str) -> Vec<(String, NameKind, String)> {
        let toks = tokenize(text, &[]);
        find_names(text, &toks)
            .into_iter()
            .map(|n| (n.text(text).to_owned(), n.kind, n.title.clone()))
            .collect()
    }

    #[test]
    fn titles_are_stripped_and_kept() {
        let n = names("State Department spokesman Mark Toner told a briefing.");
        assert_eq!(n[0].0, "State Department");
        assert_eq!(n[0].1, NameKind::Org);
        assert_eq!(n[1].0, "Mark Toner");
        assert_eq!(n[1].1, NameKind::Person);
        assert!(n[1].2.contains("spokesman"), "{:?}", n[1]);
        let n = names("US President Barack Obama has said so.");
        assert_eq!(n[0].0, "Barack Obama");
    }

    #[test]
    fn sentence_initial_words_are_not_names() {
        let n = names("But Kerry sees the talks.");
        assert_eq!(n[0].0, "Kerry");
    }

    #[test]
    fn surname_resolves_to_full_name() {
        let text = "Spokesman Mark Toner spoke. Later Toner said no.";
        let toks = tokenize(text, &[]);
        let table = NameTable::new(text, &toks);
        let pos = text.rfind("Toner").unwrap_or(0);
        let full = table.full_name(text, "Toner", pos).map(|n| n.text(text));
        assert_eq!(full, Some("Mark Toner"));
    }
}
