//! Dates and times as news pages write them: `Thursday, September 8, 2016, 10:20`,
//! `Sep 8, 2016 10:20 AM ET`, `Updated 08.09.2016`, `Published 08 Sep 2016 10:20 GMT`,
//! ISO 8601 — turned into RFC 3339 text.
//!
//! A date written without a year (a wire dateline's `Sept 8`) gets one only by
//! [`infer_year`]'s documented rule, from dates that are written with a year.
//!
//! Must not: invent a zone (a time written without one is returned without an offset), or
//! guess a year that no written date supports.

use std::sync::LazyLock;

use regex::Regex;

/// A date read from text, with the time and zone when they were written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ParsedDate {
    year: i16,
    month: i8,
    day: i8,
    time: Option<(i8, i8, i8)>,
    /// Offset from UTC in minutes, when the text gave a zone.
    offset_minutes: Option<i32>,
}

impl ParsedDate {
    /// RFC 3339: `2016-09-08T10:20:00` (no zone written), `2016-09-08T10:20:00Z`,
    /// `2016-09-08T10:20:00-04:00`, or the full date `2016-09-08` when no time was written.
    pub(crate) fn to_rfc3339(self) -> String {
        let date = format!("{:04}-{:02}-{:02}", self.year, self.month, self.day);
        let Some((h, m, s)) = self.time else {
            return date;
        };
        let zone = match self.offset_minutes {
            None => String::new(),
            Some(0) => "Z".to_owned(),
            Some(off) => {
                let sign = if off < 0 { '-' } else { '+' };
                let off = off.abs();
                format!("{sign}{:02}:{:02}", off / 60, off % 60)
            }
        };
        format!("{date}T{h:02}:{m:02}:{s:02}{zone}")
    }
}

static ISO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)\b(\d{4})-(\d{2})-(\d{2})
          (?:[T\ ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*(Z|[+-]\d{2}:?\d{2}|UTC|GMT)?)?",
    )
    .expect("static regex")
});

static NUMERIC: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(\d{1,2})([./])(\d{1,2})[./](\d{4})\b").expect("static regex"));

static MONTH_FIRST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b",
    )
    .expect("static regex")
});

static DAY_FIRST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(\d{1,2})(?:st|nd|rd|th)?\.?\s+(?:of\s+)?(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?,?\s+(\d{4})\b",
    )
    .expect("static regex")
});

static TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(\d{1,2})[:.h](\d{2})(?::(\d{2}))?(?:\s*([ap])\.?\s?m\b\.?)?(?:\s*\(?\b(GMT|UTC|Z|BST|CET|CEST|EST|EDT|CST|CDT|MST|MDT|PST|PDT|JST|AEST|AEDT)\b\)?)?(?:\s*([+-]\d{2}):?(\d{2}))?",
    )
    .expect("static regex")
});

static TIME_AMPM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b(\d{1,2})\s*([ap])\.?\s?m\b\.?").expect("static regex"));

/// Month number from its English name or abbreviation.
fn month_number(name: &str) -> Option<i8> {
    let lower = name.to_ascii_lowercase();
    let m = match lower.get(..3)? {
        "jan" => 1,
        "feb" => 2,
        "mar" => 3,
        "apr" => 4,
        "may" => 5,
        "jun" => 6,
        "jul" => 7,
        "aug" => 8,
        "sep" => 9,
        "oct" => 10,
        "nov" => 11,
        "dec" => 12,
        _ => return None,
    };
    Some(m)
}

/// Offset in minutes of a zone abbreviation that has one meaning.
fn zone_offset(abbr: &str) -> Option<i32> {
    let hours = match abbr.to_ascii_uppercase().as_str() {
        "GMT" | "UTC" | "Z" => 0,
        "BST" | "CET" => 1,
        "CEST" => 2,
        "EST" => -5,
        "EDT" => -4,
        "CDT" => -5,
        "CST" => -6,
        "MST" => -7,
        "MDT" => -6,
        "PST" => -8,
        "PDT" => -7,
        "JST" => 9,
        "AEST" => 10,
        "AEDT" => 11,
        _ => return None,
    };
    Some(hours * 60)
}

/// Checks a calendar date (Gregorian, years 1900..=2100).
fn valid_date(year: i32, month: i32, day: i32) -> Option<(i16, i8, i8)> {
    if !(1900..=2100).contains(&year) || !(1..=12).contains(&month) || day < 1 {
        return None;
    }
    let date = jiff::civil::Date::new(year as i16, month as i8, day as i8).ok()?;
    Some((date.year(), date.month(), date.day()))
}

/// Parses an `±HH:MM` / `±HHMM` offset or `Z`.
fn parse_offset(text: &str) -> Option<i32> {
    if let Some(z) = zone_offset(text) {
        return Some(z);
    }
    let sign = if text.starts_with('-') { -1 } else { 1 };
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    if digits.len() != 4 {
        return None;
    }
    let h: i32 = digits[..2].parse().ok()?;
    let m: i32 = digits[2..].parse().ok()?;
    (h <= 14 && m < 60).then_some(sign * (h * 60 + m))
}

/// The first date (and the time and zone beside it) written in `text`.
pub(crate) fn parse(text: &str) -> Option<ParsedDate> {
    // Every date form read here has a four-digit year: text without one is no date.
    if !has_four_digit_run(text) {
        return None;
    }
    if let Some(found) = parse_iso(text) {
        return Some(found);
    }
    let (ymd, date_start, date_end) = find_written_date(text)?;
    let (time, offset) = find_time(text, date_start, date_end);
    Some(ParsedDate {
        year: ymd.0,
        month: ymd.1,
        day: ymd.2,
        time,
        offset_minutes: offset,
    })
}

/// Whether `text` has four numeric characters in a row: the year every form in [`parse`]
/// needs (`\d{4}`). `char::is_numeric` takes in every character `\d` matches, so a text
/// without such a run cannot match any of the date patterns.
fn has_four_digit_run(text: &str) -> bool {
    let mut run = 0;
    for c in text.chars() {
        run = if c.is_numeric() { run + 1 } else { 0 };
        if run == 4 {
            return true;
        }
    }
    false
}

/// ISO 8601 `2016-09-08`, `2016-09-08T10:20:00Z`, `2016-09-08 10:20`.
fn parse_iso(text: &str) -> Option<ParsedDate> {
    // Cheap test first: the form needs a hyphen.
    if !text.contains('-') {
        return None;
    }
    let caps = ISO.captures(text)?;
    let num = |i: usize| caps.get(i).and_then(|m| m.as_str().parse::<i32>().ok());
    let (year, month, day) = valid_date(num(1)?, num(2)?, num(3)?)?;
    let time = match (num(4), num(5)) {
        (Some(h), Some(m)) if h < 24 && m < 60 => Some((
            h as i8,
            m as i8,
            num(6).filter(|s| *s < 61).unwrap_or(0) as i8,
        )),
        _ => None,
    };
    let offset_minutes = caps
        .get(7)
        .and_then(|m| parse_offset(m.as_str()))
        .filter(|_| time.is_some());
    Some(ParsedDate {
        year,
        month,
        day,
        time,
        offset_minutes,
    })
}

/// A date written with a month name or as `DD.MM.YYYY` / `DD/MM/YYYY`: the date and the
/// byte offsets where it starts and ends.
fn find_written_date(text: &str) -> Option<((i16, i8, i8), usize, usize)> {
    let mut best: Option<((i16, i8, i8), usize, usize)> = None;
    let mut consider = |found: Option<(i16, i8, i8)>, start: usize, end: usize| {
        if let Some(ymd) = found {
            if best.is_none_or(|(_, s, _)| start < s) {
                best = Some((ymd, start, end));
            }
        }
    };
    if let Some(c) = MONTH_FIRST.captures(text) {
        let whole = c.get(0)?;
        let found = month_number(&c[1])
            .and_then(|m| valid_date(c[3].parse().ok()?, i32::from(m), c[2].parse().ok()?));
        consider(found, whole.start(), whole.end());
    }
    if let Some(c) = DAY_FIRST.captures(text) {
        let whole = c.get(0)?;
        let found = month_number(&c[2])
            .and_then(|m| valid_date(c[3].parse().ok()?, i32::from(m), c[1].parse().ok()?));
        consider(found, whole.start(), whole.end());
    }
    // `08.09.2016` / `9/8/2016`: only where there is a dot or slash to look for.
    let numeric = if text.contains(['.', '/']) {
        NUMERIC.captures(text)
    } else {
        None
    };
    if let Some(c) = numeric {
        let whole = c.get(0)?;
        let a: i32 = c[1].parse().ok()?;
        let b: i32 = c[3].parse().ok()?;
        let year: i32 = c[4].parse().ok()?;
        // Day first unless that is impossible (most of the world, and `08.09.2016`).
        let found = if b > 12 && a <= 12 {
            valid_date(year, a, b)
        } else {
            valid_date(year, b, a)
        };
        consider(found, whole.start(), whole.end());
    }
    best
}

/// The time written after the date (or before it, when none follows it) and its zone.
fn find_time(
    text: &str,
    date_start: usize,
    date_end: usize,
) -> (Option<(i8, i8, i8)>, Option<i32>) {
    let search = |from: usize, to: usize| {
        let hay = text.get(from..to)?;
        for c in TIME.captures_iter(hay) {
            let h: i32 = c[1].parse().ok()?;
            let m: i32 = c[2].parse().ok()?;
            let s: i32 = c.get(3).and_then(|x| x.as_str().parse().ok()).unwrap_or(0);
            let Some(h) = apply_meridiem(h, c.get(4).map(|x| x.as_str())) else {
                continue;
            };
            if m > 59 || s > 60 {
                continue;
            }
            let offset = c.get(5).and_then(|z| zone_offset(z.as_str())).or_else(|| {
                let hh = c.get(6)?.as_str();
                let mm = c.get(7)?.as_str();
                parse_offset(&format!("{hh}{mm}"))
            });
            return Some((Some((h as i8, m as i8, s as i8)), offset));
        }
        let c = TIME_AMPM.captures(hay)?;
        let h = apply_meridiem(c[1].parse().ok()?, c.get(2).map(|x| x.as_str()))?;
        Some((Some((h as i8, 0, 0)), None))
    };
    search(date_end, text.len())
        .or_else(|| search(0, date_start))
        .unwrap_or((None, None))
}

/// 12-hour clock to 24-hour; `None` when the hour is impossible.
fn apply_meridiem(hour: i32, meridiem: Option<&str>) -> Option<i32> {
    match meridiem.map(|m| m.to_ascii_lowercase()) {
        None => (hour < 24).then_some(hour),
        Some(m) if (1..=12).contains(&hour) => Some(match (m.as_str(), hour) {
            ("a", 12) => 0,
            ("a", h) => h,
            ("p", 12) => 12,
            (_, h) => h + 12,
        }),
        Some(_) => None,
    }
}

/// Words that may stand beside a date on a date line.
fn is_date_word(word: &str) -> bool {
    const WORDS: &[&str] = &[
        "published",
        "updated",
        "posted",
        "last",
        "modified",
        "first",
        "on",
        "at",
        "am",
        "pm",
        "a.m",
        "p.m",
        "gmt",
        "utc",
        "bst",
        "cet",
        "cest",
        "est",
        "edt",
        "cst",
        "cdt",
        "mst",
        "mdt",
        "pst",
        "pdt",
        "et",
        "pt",
        "ct",
        "jst",
        "aest",
        "aedt",
        "ist",
        "z",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "mon",
        "tue",
        "tues",
        "wed",
        "thu",
        "thur",
        "thurs",
        "fri",
        "sat",
        "sun",
        "date",
        "time",
        "of",
        "the",
        "st",
        "nd",
        "rd",
        "th",
        "hrs",
        "h",
        "local",
        "edited",
        "created",
        "released",
    ];
    let lower = word.to_ascii_lowercase();
    WORDS.contains(&lower.as_str()) || month_number(&lower).is_some() && lower.len() <= 9
}

/// Month and day of a date written without a year: `Sept 8`, `Jan. 18`, `8 September`.
pub(crate) fn month_day(text: &str) -> Option<(i8, i8)> {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',' || c == '.')
        .filter(|w| !w.is_empty())
        .collect();
    let (month, day) = match words.as_slice() {
        [m, d] if d.chars().all(|c| c.is_ascii_digit()) => (*m, *d),
        [d, m] if d.chars().all(|c| c.is_ascii_digit()) => (*m, *d),
        _ => return None,
    };
    if month.len() > 9 || !month.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let month = month_number(month)?;
    let day: i8 = day.parse().ok()?;
    // Feb 29 exists in a leap year: check the month/day against one.
    valid_date(2000, i32::from(month), i32::from(day))?;
    Some((month, day))
}

static MENTION_MONTH_FIRST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\b(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?\s+(?:(\d{1,2})(?:st|nd|rd|th)?,?\s+)?(\d{4})\b",
    )
    .expect("static regex")
});

static MENTION_DAY_FIRST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?,?\s+(\d{4})\b",
    )
    .expect("static regex")
});

/// Dates written with a year in running text (`in January 2005`, `on June 27, 2019`,
/// `12 July, 2012`, `2019-06-27`), as (year, month, day); a month without a day counts as
/// its 15th. Bare years (`the 2008 crisis`) are not dates and are not counted.
pub(crate) fn dated_mentions(text: &str) -> Vec<(i16, i8, i8)> {
    let mut out = Vec::new();
    let mut add = |y: Option<i32>, m: Option<i8>, d: Option<i32>| {
        if let (Some(y), Some(m)) = (y, m) {
            if let Some(ymd) = valid_date(y, i32::from(m), d.unwrap_or(15)) {
                out.push(ymd);
            }
        }
    };
    for c in MENTION_MONTH_FIRST.captures_iter(text) {
        let day = c.get(2).and_then(|d| d.as_str().parse().ok());
        add(c[3].parse().ok(), month_number(&c[1]), day);
    }
    for c in MENTION_DAY_FIRST.captures_iter(text) {
        add(c[3].parse().ok(), month_number(&c[2]), c[1].parse().ok());
    }
    for c in ISO.captures_iter(text) {
        add(c[1].parse().ok(), c[2].parse().ok(), c[3].parse().ok());
    }
    out
}

/// The year of a date written as month and day only (a dateline's `Sept 8`), from the
/// dates written with a year elsewhere (`mentions`, see [`dated_mentions`]).
///
/// The rule: each mention votes for the year that puts month/day nearest to it (the
/// mention's year, or the one before or after across a new year: `Jan 3` beside
/// `December 28, 2019` is 2020); the year with most votes wins, a tie going to the later
/// year (stories mostly report what has already happened). No mention, no year: nothing is
/// guessed from bare years or the clock.
pub(crate) fn infer_year(month: i8, day: i8, mentions: &[(i16, i8, i8)]) -> Option<i16> {
    let mut votes: Vec<(i16, usize)> = Vec::new();
    for &(y, m, d) in mentions {
        let Ok(mention) = jiff::civil::Date::new(y, m, d) else {
            continue;
        };
        let nearest = [y - 1, y, y + 1]
            .into_iter()
            .filter_map(|cy| {
                let date = jiff::civil::Date::new(cy, month, day).ok()?;
                let days = (date.since(mention).ok()?.get_days()).abs();
                Some((days, cy))
            })
            .min();
        if let Some((_, year)) = nearest {
            match votes.iter_mut().find(|(v, _)| *v == year) {
                Some((_, n)) => *n += 1,
                None => votes.push((year, 1)),
            }
        }
    }
    votes
        .into_iter()
        .max_by_key(|&(y, n)| (n, y))
        .map(|(y, _)| y)
}

/// A date (no time) from a year, month and day.
pub(crate) fn from_ymd(year: i16, month: i8, day: i8) -> Option<ParsedDate> {
    let (year, month, day) = valid_date(i32::from(year), i32::from(month), i32::from(day))?;
    Some(ParsedDate {
        year,
        month,
        day,
        time: None,
        offset_minutes: None,
    })
}

/// Whether `line` is a date line: a date and nothing but date words beside it.
pub(crate) fn is_date_line(line: &str) -> bool {
    if line.len() > 90 || !line.bytes().any(|b| b.is_ascii_digit()) || parse(line).is_none() {
        return false;
    }
    let without_iso = ISO.replace_all(line, " ");
    let stray = without_iso
        .split(|c: char| !c.is_alphanumeric() && c != '.')
        .map(|w| w.trim_matches('.'))
        .filter(|w| !w.is_empty())
        .filter(|w| !w.chars().all(|c| c.is_ascii_digit()))
        .filter(|w| !is_date_word(w))
        .filter(|w| !is_time_token(w))
        .count();
    stray == 0
}

/// `10:20`, `08.09.2016`, `10h20`, `1020GMT` and the like.
fn is_time_token(word: &str) -> bool {
    let digits = word.chars().filter(char::is_ascii_digit).count();
    digits >= 2
        && word
            .chars()
            .all(|c| c.is_ascii_digit() || ".:h".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Option<String> {
        parse(s).map(ParsedDate::to_rfc3339)
    }

    #[test]
    fn reads_the_common_forms() {
        assert_eq!(
            p("Thursday, September 8, 2016, 10:20").as_deref(),
            Some("2016-09-08T10:20:00")
        );
        assert_eq!(
            p("Sep 8, 2016 10:20 AM ET").as_deref(),
            Some("2016-09-08T10:20:00")
        );
        assert_eq!(
            p("Sep 8, 2016 1:05 p.m. EDT").as_deref(),
            Some("2016-09-08T13:05:00-04:00")
        );
        assert_eq!(p("Updated 08.09.2016").as_deref(), Some("2016-09-08"));
        assert_eq!(
            p("Published 08 Sep 2016 10:20 GMT").as_deref(),
            Some("2016-09-08T10:20:00Z")
        );
        assert_eq!(
            p("2016-09-08T10:20:00+02:00").as_deref(),
            Some("2016-09-08T10:20:00+02:00")
        );
        assert_eq!(
            p("September 8, 2016 | Updated 6:03 pm").as_deref(),
            Some("2016-09-08T18:03:00")
        );
        assert_eq!(
            p("08/09/2016 10:20").as_deref(),
            Some("2016-09-08T10:20:00")
        );
        assert_eq!(p("12/31/2016").as_deref(), Some("2016-12-31"));
        assert_eq!(p("Sept. 8th, 2016").as_deref(), Some("2016-09-08"));
    }

    #[test]
    fn dateline_year_from_written_dates() {
        assert_eq!(month_day("Sept 8"), Some((9, 8)));
        assert_eq!(month_day("Jan. 18"), Some((1, 18)));
        assert_eq!(month_day("8 September"), Some((9, 8)));
        assert_eq!(month_day("Feb 29"), Some((2, 29)));
        assert_eq!(month_day("Feb 30"), None);
        assert_eq!(month_day("Monday"), None);
        let m = dated_mentions("Forming in July 2019, Barry was first; the 2008 crisis aside.");
        assert_eq!(m, vec![(2019, 7, 15)]);
        assert_eq!(infer_year(9, 16, &m), Some(2019));
        // Across a new year: the nearest year, not the mention's.
        let m = dated_mentions("The fire began on December 28, 2019 and burned for a week.");
        assert_eq!(infer_year(1, 3, &m), Some(2020));
        let m = dated_mentions("Talks began on 12 July, 2012 and again in March 2012.");
        assert_eq!(infer_year(5, 10, &m), Some(2012));
        // A lone older mention loses to the majority.
        let m = dated_mentions("Since October 2008; polls on 2012-05-01 and May 2, 2012.");
        assert_eq!(infer_year(5, 9, &m), Some(2012));
        assert_eq!(infer_year(5, 9, &[]), None);
        assert_eq!(infer_year(2, 29, &[(2019, 3, 1)]), Some(2020));
        assert!(dated_mentions("They may 2019 be").is_empty());
    }

    #[test]
    fn rejects_impossible_dates() {
        assert_eq!(p("February 30, 2016"), None);
        assert_eq!(p("no date here"), None);
        assert_eq!(p("2016-13-40"), None);
    }

    #[test]
    fn spots_date_lines() {
        assert!(is_date_line("Thursday, September 8, 2016, 10:20"));
        assert!(is_date_line("Published 08 Sep 2016 10:20 GMT"));
        assert!(is_date_line("September 8, 2016 | Updated 6:03 pm"));
        assert!(is_date_line("2021-03-04T09:15:00Z"));
        assert!(is_date_line("Updated 2021-03-04 09:15"));
        assert!(!is_date_line("The talks on September 8, 2016 failed."));
    }

    #[test]
    fn year_prefilter_keeps_what_the_patterns_match() {
        assert!(has_four_digit_run("Sep 8, 2016"));
        assert!(has_four_digit_run("\u{0662}\u{0660}\u{0661}\u{0666}"));
        assert!(!has_four_digit_run("Sep 8, 201 6"));
        assert!(!has_four_digit_run(""));
        assert_eq!(p("Sep 8, 201"), None);
        assert_eq!(p("8 Sep 2016").as_deref(), Some("2016-09-08"));
    }
}
