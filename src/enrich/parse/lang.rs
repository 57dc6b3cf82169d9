//! Language detection (whatlang) with ISO 639-1 codes.
//!
//! Must not: report a language it is unsure of; short or mixed text gives `None`.

/// The ISO 639-1 code of the language `text` is written in, when detection is reliable.
pub(crate) fn detect(text: &str) -> Option<String> {
    let sample = sample(text, 1500);
    let info = whatlang::detect(sample)?;
    if !info.is_reliable() && info.confidence() < 0.5 {
        return None;
    }
    iso639_1(info.lang().code()).map(str::to_owned)
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn sample(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Validates a language code given by a payload (`en`, `en-GB`, `eng`): its ISO 639-1 part.
pub(crate) fn normalise_code(code: &str) -> Option<String> {
    let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
    match primary.len() {
        2 if primary.chars().all(|c| c.is_ascii_lowercase()) => Some(primary),
        3 => iso639_1(&primary).map(str::to_owned),
        _ => None,
    }
}

/// ISO 639-3 (whatlang) to ISO 639-1.
fn iso639_1(code3: &str) -> Option<&'static str> {
    const MAP: &[(&str, &str)] = &[
        ("eng", "en"),
        ("fra", "fr"),
        ("deu", "de"),
        ("spa", "es"),
        ("por", "pt"),
        ("ita", "it"),
        ("nld", "nl"),
        ("rus", "ru"),
        ("ukr", "uk"),
        ("pol", "pl"),
        ("ces", "cs"),
        ("slk", "sk"),
        ("slv", "sl"),
        ("hrv", "hr"),
        ("srp", "sr"),
        ("bos", "bs"),
        ("bul", "bg"),
        ("mkd", "mk"),
        ("ron", "ro"),
        ("hun", "hu"),
        ("fin", "fi"),
        ("est", "et"),
        ("lav", "lv"),
        ("lit", "lt"),
        ("swe", "sv"),
        ("dan", "da"),
        ("nob", "nb"),
        ("nno", "nn"),
        ("isl", "is"),
        ("ell", "el"),
        ("tur", "tr"),
        ("ara", "ar"),
        ("heb", "he"),
        ("pes", "fa"),
        ("urd", "ur"),
        ("hin", "hi"),
        ("ben", "bn"),
        ("pan", "pa"),
        ("guj", "gu"),
        ("mar", "mr"),
        ("nep", "ne"),
        ("tam", "ta"),
        ("tel", "te"),
        ("kan", "kn"),
        ("mal", "ml"),
        ("sin", "si"),
        ("ori", "or"),
        ("tha", "th"),
        ("vie", "vi"),
        ("ind", "id"),
        ("msa", "ms"),
        ("tgl", "tl"),
        ("jav", "jv"),
        ("cmn", "zh"),
        ("jpn", "ja"),
        ("kor", "ko"),
        ("kat", "ka"),
        ("hye", "hy"),
        ("aze", "az"),
        ("kaz", "kk"),
        ("uzb", "uz"),
        ("tuk", "tk"),
        ("bel", "be"),
        ("cat", "ca"),
        ("epo", "eo"),
        ("lat", "la"),
        ("afr", "af"),
        ("zul", "zu"),
        ("xho", "xh"),
        ("sna", "sn"),
        ("yor", "yo"),
        ("ibo", "ig"),
        ("hau", "ha"),
        ("swa", "sw"),
        ("som", "so"),
        ("amh", "am"),
        ("tir", "ti"),
        ("khm", "km"),
        ("mya", "my"),
        ("lao", "lo"),
        ("mri", "mi"),
        ("gle", "ga"),
        ("cym", "cy"),
        ("eus", "eu"),
        ("glg", "gl"),
        ("yid", "yi"),
        ("aka", "ak"),
        ("lug", "lg"),
        ("kin", "rw"),
        ("run", "rn"),
        ("nya", "ny"),
        ("mlg", "mg"),
        ("sot", "st"),
        ("tsn", "tn"),
        ("tso", "ts"),
        ("ven", "ve"),
        ("wol", "wo"),
        ("ful", "ff"),
        ("orm", "om"),
        ("kur", "ku"),
        ("pus", "ps"),
        ("tgk", "tg"),
        ("kir", "ky"),
        ("mon", "mn"),
        ("tat", "tt"),
        ("sqi", "sq"),
        ("ltz", "lb"),
        ("fry", "fy"),
    ];
    MAP.iter().find(|(k, _)| *k == code3).map(|(_, v)| *v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_english_and_french() {
        let en = "The United States and Russia have not reached a ceasefire deal for Syria, the State Department said on Wednesday.";
        assert_eq!(detect(en).as_deref(), Some("en"));
        let fr = "Les États-Unis et la Russie ne sont pas parvenus à un accord de cessez-le-feu pour la Syrie, a déclaré mercredi le département d'État.";
        assert_eq!(detect(fr).as_deref(), Some("fr"));
    }

    #[test]
    fn normalises_codes() {
        assert_eq!(normalise_code("en-GB").as_deref(), Some("en"));
        assert_eq!(normalise_code("deu").as_deref(), Some("de"));
        assert_eq!(normalise_code("english"), None);
    }
}
