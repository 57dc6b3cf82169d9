//! Dates and times as news pages write them: `Thursday, September 8, 2016, 10:20`,
//! `Sep 8, 2016 10:20 AM ET`, `Updated 08.09.2016`, `Published 08 Sep 2016 10:20 GMT`,
//! ISO 8601 — turned into RFC 3339 text.
//!
//! Must not: invent a zone (a time written without one is returned without an offset), or
//! guess a year that is not written.

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

/// ISO 8601 `2016-09-08`, `2016-09-08T10:20:00Z`, `2016-09-08 10:20`.
fn parse_iso(text: &str) -> Option<ParsedDate> {
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
    if let Some(c) = NUMERIC.captures(text) {
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
}
