//! Gazetteers: compiled name lists (countries, demonyms, cities, regions, given names,
//! surnames, organisations, organisation words, misc groups) used as tagger features and as
//! alias groups for clustering (`US` = `U.S.` = `United States`).
//!
//! [`compile`] turns the TSV texts of `../shared/data/gazetteers/` into a compact binary
//! (sorted `(hash of lower-cased token sequence, type bits, alias group)` rows, then the
//! keys of the proper prefixes of multi-token names, so a match attempt stops at the first
//! token sequence no name continues); [`Gazetteer::load`] reads it back. Matches are
//! features, never overrides.
//!
//! Must not: do I/O (callers pass the file contents), or panic on malformed input.

use rustc_hash::FxHashMap;
use thiserror::Error;

use super::hash;
use super::tokenize::tokenize;

/// A country name or alternate name.
pub(crate) const COUNTRY: u16 = 1 << 0;
/// A nationality adjective or people noun (`Syrian`, `Britons`).
pub(crate) const DEMONYM: u16 = 1 << 1;
/// A city of 100,000 or more, or a capital.
pub(crate) const CITY: u16 = 1 << 2;
/// A smaller city.
pub(crate) const CITY_SMALL: u16 = 1 << 3;
/// A region, state, province, continent, sea or mountain range.
pub(crate) const REGION: u16 = 1 << 4;
/// A given name.
pub(crate) const GIVEN: u16 = 1 << 5;
/// A surname.
pub(crate) const SURNAME: u16 = 1 << 6;
/// A well-known organisation or its alias.
pub(crate) const ORG: u16 = 1 << 7;
/// An organisation head word (`Ministry`, `Bank`).
pub(crate) const ORG_KEY: u16 = 1 << 8;
/// A company suffix (`Inc`, `Ltd`).
pub(crate) const ORG_SUFFIX: u16 = 1 << 9;
/// An ethnic, religious or political group (`Sunni`, `Kurds`).
pub(crate) const MISC: u16 = 1 << 10;
/// A one-word entry that is also an ordinary English word.
pub(crate) const COMMON: u16 = 1 << 11;
/// A capital city.
pub(crate) const CAPITAL: u16 = 1 << 12;
/// One of the 2,000 most frequent given names.
pub(crate) const GIVEN_TOP: u16 = 1 << 13;
/// One of the 5,000 most frequent surnames.
pub(crate) const SURNAME_TOP: u16 = 1 << 14;
/// Number of type bits in use.
pub(crate) const BITS: u32 = 15;

const MAGIC: &[u8; 8] = b"WEGAZ001";
/// Opens the optional section of name-prefix keys after the rows.
const PREFIX_MAGIC: &[u8; 4] = b"PFX1";
/// In a loaded entry: a longer name continues this token sequence (never in the file's
/// rows, never returned by [`Gazetteer::get`]).
const CONTINUES: u16 = 1 << 15;
const SEQ_SEED: u64 = 0x6761_7a65_7474_6565;
const TOKEN_SEED: u64 = 0x746f_6b65_6e00_0001;
/// Longest entry, in tokens, kept when compiling.
const MAX_ENTRY_TOKENS: usize = 6;

/// Errors reading a compiled gazetteer.
#[derive(Debug, Error)]
pub enum GazetteerError {
    /// The bytes are not a compiled gazetteer.
    #[error("not a compiled gazetteer (bad magic or truncated)")]
    Format,
}

/// The TSV texts a gazetteer is compiled from (file contents, header line included).
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// `countries.tsv`.
    pub countries: String,
    /// `cities.tsv`.
    pub cities: String,
    /// `regions.tsv`.
    pub regions: String,
    /// `given_names.tsv`.
    pub given_names: String,
    /// `surnames.tsv`.
    pub surnames: String,
    /// `organisations.tsv`.
    pub organisations: String,
    /// `org_keywords.tsv`.
    pub org_keywords: String,
    /// `org_suffixes.tsv`.
    pub org_suffixes: String,
    /// `misc_groups.tsv`.
    pub misc_groups: String,
}

/// One gazetteer row: type bits and an alias group (0 = none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) flags: u16,
    pub(crate) group: u32,
}

/// A loaded gazetteer.
#[derive(Debug, Default)]
pub struct Gazetteer {
    /// Names, and (flag [`CONTINUES`]) the prefixes of longer names.
    map: FxHashMap<u64, Entry>,
    /// Number of names.
    names: usize,
    /// Whether the file listed name prefixes; without them every length is tried.
    knows_prefixes: bool,
    max_len: usize,
    checksum: u64,
}

/// Hash of one lower-cased token, as used in sequence keys.
pub(crate) fn token_hash(lower: &str) -> u64 {
    hash::str(TOKEN_SEED, lower)
}

/// Starts a sequence key.
pub(crate) fn seq_start() -> u64 {
    SEQ_SEED
}

/// Extends a sequence key by one token hash.
pub(crate) fn seq_push(state: u64, token: u64) -> u64 {
    hash::mix(state, token)
}

/// The key of a sequence state.
pub(crate) fn seq_key(state: u64) -> u64 {
    hash::finish(state)
}

/// Key of a whole name: tokenised and lower-cased the way the tagger sees text.
pub(crate) fn name_key(name: &str) -> Option<(u64, usize)> {
    // The last of `sequence_keys`, without collecting the others (a runtime lookup).
    let toks = tokenize(name);
    let n = toks.tokens.len();
    if n == 0 || n > MAX_ENTRY_TOKENS {
        return None;
    }
    let state = toks.tokens.iter().fold(seq_start(), |state, t| {
        seq_push(state, token_hash(&t.text(name).to_lowercase()))
    });
    Some((seq_key(state), n))
}

/// The keys of a name's first 1, 2, … n tokens (the last is the name's own key); `None`
/// for no tokens or more than [`MAX_ENTRY_TOKENS`].
fn sequence_keys(name: &str) -> Option<Vec<u64>> {
    let toks = tokenize(name);
    let n = toks.tokens.len();
    if n == 0 || n > MAX_ENTRY_TOKENS {
        return None;
    }
    let mut state = seq_start();
    let keys = toks
        .tokens
        .iter()
        .map(|t| {
            state = seq_push(state, token_hash(&t.text(name).to_lowercase()));
            seq_key(state)
        })
        .collect();
    Some(keys)
}

impl Gazetteer {
    /// Reads a compiled gazetteer.
    ///
    /// # Errors
    /// [`GazetteerError::Format`] when the bytes are not one.
    pub fn load(bytes: &[u8]) -> Result<Self, GazetteerError> {
        let rest = bytes.strip_prefix(MAGIC).ok_or(GazetteerError::Format)?;
        let (n, rest) = read_u32(rest)?;
        let (max_len, rows) = read_u32(rest)?;
        let n = n as usize;
        let rows_len = n.checked_mul(14).ok_or(GazetteerError::Format)?;
        if rows.len() < rows_len {
            return Err(GazetteerError::Format);
        }
        let (rows, section) = rows.split_at(rows_len);
        let prefixes = read_prefixes(section)?;
        let mut map = FxHashMap::with_capacity_and_hasher(n + prefixes.len(), Default::default());
        for row in rows.chunks_exact(14) {
            let key = u64::from_le_bytes(row[..8].try_into().map_err(|_| GazetteerError::Format)?);
            let flags = u16::from_le_bytes([row[8], row[9]]) & !CONTINUES;
            let group = u32::from_le_bytes([row[10], row[11], row[12], row[13]]);
            map.insert(key, Entry { flags, group });
        }
        for key in prefixes.chunks_exact(8) {
            let key = u64::from_le_bytes(key.try_into().map_err(|_| GazetteerError::Format)?);
            map.entry(key).or_default().flags |= CONTINUES;
        }
        // The checksum covers the names, not the prefix section derived from them, so a
        // model keeps matching a gazetteer recompiled with (or without) prefixes.
        let names_end = bytes.len() - section.len();
        Ok(Self {
            map,
            names: n,
            knows_prefixes: !section.is_empty(),
            max_len: (max_len as usize).min(MAX_ENTRY_TOKENS),
            checksum: hash::bytes(1, &bytes[..names_end]),
        })
    }

    /// A checksum of the compiled bytes; the model records the one it was trained with.
    pub fn checksum(&self) -> u64 {
        self.checksum
    }

    /// Number of names.
    pub fn len(&self) -> usize {
        self.names
    }

    /// Whether the gazetteer has no names.
    pub fn is_empty(&self) -> bool {
        self.names == 0
    }

    /// The entry for a sequence key.
    pub(crate) fn get(&self, key: u64) -> Option<Entry> {
        self.probe(key).0
    }

    /// The entry for a sequence key, and whether a longer name may continue the sequence.
    fn probe(&self, key: u64) -> (Option<Entry>, bool) {
        match self.map.get(&key) {
            Some(e) => {
                let name = (e.flags & !CONTINUES != 0).then_some(Entry {
                    flags: e.flags & !CONTINUES,
                    group: e.group,
                });
                (name, !self.knows_prefixes || e.flags & CONTINUES != 0)
            }
            None => (None, !self.knows_prefixes),
        }
    }

    /// The entry for a name written out (tokenised and lower-cased here).
    pub(crate) fn get_name(&self, name: &str) -> Option<Entry> {
        name_key(name).and_then(|(k, _)| self.get(k))
    }

    /// Marks matches in one sentence given its lower-cased token hashes: per token, the
    /// bits of matches that begin there and of matches that continue through it; and, for
    /// the longest multi-token matches taken left to right, the same split in `long`.
    pub(crate) fn mark(
        &self,
        token_hashes: &[u64],
        all: (&mut [u16], &mut [u16]),
        long: (&mut [u16], &mut [u16]),
    ) {
        let (begin, inside) = all;
        let (long_begin, long_inside) = long;
        let mut covered_until = 0;
        for i in 0..token_hashes.len() {
            let mut state = seq_start();
            let mut longest: Option<(usize, u16)> = None;
            for len in 1..=self.max_len.min(token_hashes.len() - i) {
                state = seq_push(state, token_hashes[i + len - 1]);
                let (entry, continues) = self.probe(seq_key(state));
                if let Some(e) = entry {
                    if let Some(b) = begin.get_mut(i) {
                        *b |= e.flags;
                    }
                    for x in inside.iter_mut().skip(i + 1).take(len - 1) {
                        *x |= e.flags;
                    }
                    if len > 1 {
                        longest = Some((len, e.flags));
                    }
                }
                if !continues {
                    break;
                }
            }
            if let Some((len, flags)) = longest.filter(|_| i >= covered_until) {
                if let Some(b) = long_begin.get_mut(i) {
                    *b |= flags;
                }
                for x in long_inside.iter_mut().skip(i + 1).take(len - 1) {
                    *x |= flags;
                }
                covered_until = i + len;
            }
        }
    }
}

/// The prefix keys' bytes of the optional section after the rows (empty without one).
fn read_prefixes(section: &[u8]) -> Result<&[u8], GazetteerError> {
    if section.is_empty() {
        return Ok(section);
    }
    let rest = section
        .strip_prefix(PREFIX_MAGIC)
        .ok_or(GazetteerError::Format)?;
    let (n, keys) = read_u32(rest)?;
    if keys.len() != (n as usize).checked_mul(8).ok_or(GazetteerError::Format)? {
        return Err(GazetteerError::Format);
    }
    Ok(keys)
}

fn read_u32(bytes: &[u8]) -> Result<(u32, &[u8]), GazetteerError> {
    let (head, rest) = bytes
        .split_first_chunk::<4>()
        .ok_or(GazetteerError::Format)?;
    Ok((u32::from_le_bytes(*head), rest))
}

/// Accumulates rows while compiling.
#[derive(Default)]
struct Builder {
    rows: FxHashMap<u64, Entry>,
    /// Keys of the proper prefixes of multi-token names.
    prefixes: rustc_hash::FxHashSet<u64>,
    max_len: usize,
}

impl Builder {
    fn add(&mut self, name: &str, flags: u16, group: u32) {
        let name = name.trim();
        if name.is_empty() {
            return;
        }
        let Some(keys) = sequence_keys(name) else {
            return;
        };
        let Some((&key, prefixes)) = keys.split_last() else {
            return;
        };
        self.max_len = self.max_len.max(keys.len());
        self.prefixes.extend(prefixes);
        let e = self.rows.entry(key).or_default();
        e.flags |= flags;
        if e.group == 0 {
            e.group = group;
        }
    }

    fn add_all(&mut self, names: &str, flags: u16, group: u32) {
        for n in names.split('|') {
            self.add(n, flags, group);
        }
    }

    fn into_bytes(self) -> Vec<u8> {
        let mut rows: Vec<(u64, Entry)> = self.rows.into_iter().collect();
        rows.sort_unstable_by_key(|r| r.0);
        let mut out = Vec::with_capacity(16 + rows.len() * 14);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(rows.len() as u32).to_le_bytes());
        out.extend_from_slice(&(self.max_len as u32).to_le_bytes());
        for (k, e) in rows {
            out.extend_from_slice(&k.to_le_bytes());
            out.extend_from_slice(&e.flags.to_le_bytes());
            out.extend_from_slice(&e.group.to_le_bytes());
        }
        let mut prefixes: Vec<u64> = self.prefixes.into_iter().collect();
        prefixes.sort_unstable();
        out.extend_from_slice(PREFIX_MAGIC);
        out.extend_from_slice(&(prefixes.len() as u32).to_le_bytes());
        for k in prefixes {
            out.extend_from_slice(&k.to_le_bytes());
        }
        out
    }
}

/// Rows of a TSV text as field vectors, header skipped.
fn rows(tsv: &str) -> impl Iterator<Item = Vec<&str>> {
    tsv.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('\t').collect())
}

fn field<'a>(row: &[&'a str], i: usize) -> &'a str {
    row.get(i).copied().unwrap_or("")
}

fn common(row: &[&str], i: usize) -> u16 {
    if field(row, i) == "1" {
        COMMON
    } else {
        0
    }
}

/// Group ids: countries from 1, organisations from 100,000.
const ORG_GROUP_BASE: u32 = 100_000;

/// Compiles the gazetteer TSVs into the binary form [`Gazetteer::load`] reads.
pub fn compile(src: &Sources) -> Vec<u8> {
    let mut b = Builder::default();
    for (i, r) in rows(&src.countries).enumerate() {
        let group = i as u32 + 1;
        b.add(field(&r, 0), COUNTRY, group);
        b.add_all(field(&r, 1), COUNTRY, group);
        b.add_all(field(&r, 5), DEMONYM, 0);
        b.add_all(field(&r, 6), DEMONYM, 0);
        b.add_all(field(&r, 7), CITY | CAPITAL, 0);
    }
    for r in rows(&src.cities) {
        let population: u64 = field(&r, 6).parse().unwrap_or(0);
        let capital = field(&r, 7) == "1";
        let mut flags = if population >= 100_000 || capital {
            CITY
        } else {
            CITY_SMALL
        };
        if capital {
            flags |= CAPITAL;
        }
        b.add(field(&r, 0), flags, 0);
        b.add(field(&r, 1), flags, 0);
        b.add_all(field(&r, 2), flags, 0);
    }
    for r in rows(&src.regions) {
        let flags = REGION | common(&r, 7);
        b.add(field(&r, 0), flags, 0);
        b.add_all(field(&r, 1), flags, 0);
        b.add_all(field(&r, 2), REGION, 0);
        b.add_all(field(&r, 6), DEMONYM, 0);
    }
    for r in rows(&src.given_names) {
        let rank: u32 = field(&r, 3).parse().unwrap_or(u32::MAX);
        let top = if rank <= 2_000 { GIVEN_TOP } else { 0 };
        b.add(field(&r, 0), GIVEN | top, 0);
    }
    for r in rows(&src.surnames) {
        let rank: u32 = field(&r, 3).parse().unwrap_or(u32::MAX);
        let top = if rank <= 5_000 { SURNAME_TOP } else { 0 };
        b.add(field(&r, 0), SURNAME | top, 0);
    }
    for (i, r) in rows(&src.organisations).enumerate() {
        let group = ORG_GROUP_BASE + i as u32;
        let flags = ORG | common(&r, 5);
        b.add(field(&r, 0), flags, group);
        b.add_all(field(&r, 1), flags, group);
    }
    for r in rows(&src.org_keywords) {
        b.add(field(&r, 0), ORG_KEY, 0);
    }
    for r in rows(&src.org_suffixes) {
        b.add(field(&r, 0), ORG_SUFFIX, 0);
        b.add_all(field(&r, 1), ORG_SUFFIX, 0);
    }
    for r in rows(&src.misc_groups) {
        b.add(field(&r, 0), MISC, 0);
        b.add_all(field(&r, 1), MISC, 0);
    }
    b.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Gazetteer {
        Gazetteer::load(&compile(&sample_sources())).expect("compiled gazetteer loads")
    }

    fn sample_sources() -> Sources {
        Sources {
            countries: "name\talt\tnative\tiso2\tiso3\tdemonyms\tpeople\tcapital\n\
                        United States\tUS|U.S.|America\t\tUS\tUSA\tAmerican\tAmericans\tWashington\n"
                .to_owned(),
            surnames: "name\tcount\tper\trank\nKerry\t10\t1\t9000\n".to_owned(),
            organisations: "name\taliases\ttype\tcountry\twd\tcommon\tsource\n\
                            Arab League\t\tintl\t\tQ1\t0\thand\n"
                .to_owned(),
            ..Sources::default()
        }
    }

    fn marks(g: &Gazetteer, words: &[&str]) -> [Vec<u16>; 4] {
        let hashes: Vec<u64> = words.iter().map(|w| token_hash(w)).collect();
        let n = words.len();
        let [mut begin, mut inside, mut long_begin, mut long_inside] =
            [vec![0; n], vec![0; n], vec![0; n], vec![0; n]];
        g.mark(
            &hashes,
            (&mut begin, &mut inside),
            (&mut long_begin, &mut long_inside),
        );
        [begin, inside, long_begin, long_inside]
    }

    #[test]
    fn name_key_is_the_last_sequence_key() {
        for name in [
            "Kerry",
            "John Kerry",
            "Bank of New York Mellon",
            "al-Assad 's",
        ] {
            let keys = sequence_keys(name).expect("tokens");
            assert_eq!(
                name_key(name),
                Some((*keys.last().unwrap(), keys.len())),
                "{name}"
            );
        }
        assert_eq!(name_key("  "), None);
    }

    #[test]
    fn name_prefixes_stop_matching_early_and_change_nothing_else() {
        let bytes = compile(&sample_sources());
        let names = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize;
        let without = Gazetteer::load(&bytes[..16 + 14 * names]).expect("names only");
        let with = Gazetteer::load(&bytes).expect("names and prefixes");
        assert!(with.knows_prefixes && !without.knows_prefixes);
        assert_eq!(with.checksum(), without.checksum());
        assert_eq!((with.len(), with.is_empty()), (without.len(), false));
        let words = [
            "the", "united", "states", "and", "the", "arab", "league", "us",
        ];
        assert_eq!(marks(&with, &words), marks(&without, &words));
        // "united" only starts a name: it continues, but is no name itself.
        let united = name_key("United").expect("one token").0;
        assert_eq!(with.probe(united).0, None);
        assert!(with.probe(united).1);
        assert!(!with.probe(name_key("Kerry").expect("one token").0).1);
        assert!(Gazetteer::load(&[&bytes[..], b"x"].concat()).is_err());
    }

    #[test]
    fn aliases_share_a_group() {
        let g = sample();
        let a = g.get_name("United States").expect("name");
        let b = g.get_name("U.S.").expect("alias");
        let c = g.get_name("us").expect("alias, any case");
        assert_eq!(a.group, b.group);
        assert_eq!(a.group, c.group);
        assert!(a.flags & COUNTRY != 0);
        assert!(g
            .get_name("American")
            .is_some_and(|e| e.flags & DEMONYM != 0));
        assert!(g
            .get_name("Washington")
            .is_some_and(|e| e.flags & CAPITAL != 0));
    }

    #[test]
    fn marks_multi_token_matches() {
        let g = sample();
        let words = ["the", "arab", "league", "chief"];
        let hashes: Vec<u64> = words.iter().map(|w| token_hash(w)).collect();
        let (mut begin, mut inside) = (vec![0; 4], vec![0; 4]);
        let (mut long_begin, mut long_inside) = (vec![0; 4], vec![0; 4]);
        g.mark(
            &hashes,
            (&mut begin, &mut inside),
            (&mut long_begin, &mut long_inside),
        );
        assert_eq!(begin, [0, ORG, 0, 0]);
        assert_eq!(inside, [0, 0, ORG, 0]);
        assert_eq!(long_begin, [0, ORG, 0, 0]);
        assert_eq!(long_inside, [0, 0, ORG, 0]);
    }

    #[test]
    fn rejects_garbage() {
        assert!(Gazetteer::load(b"nope").is_err());
        assert!(Gazetteer::load(b"WEGAZ001\x01\0\0\0\x01\0\0\0abc").is_err());
    }
}
