//! Language detection (whatlang) with ISO 639-1 codes.
//!
//! Plainly English text (most of what the worker sees) is recognised first by its function
//! words, which costs a fraction of whatlang's trigram scoring over every language profile
//! (that scoring was ~9% of the worker's CPU); anything else goes to whatlang.
//!
//! Must not: report a language it is unsure of; short or mixed text gives `None`.

/// The ISO 639-1 code of the language `text` is written in, when detection is reliable.
pub(crate) fn detect(text: &str) -> Option<String> {
    let sample = sample(text, 1500);
    if is_plainly_english(sample) {
        return Some("en".to_owned());
    }
    let info = whatlang::detect(sample)?;
    if !info.is_reliable() && info.confidence() < 0.5 {
        return None;
    }
    iso639_1(info.lang().code()).map(str::to_owned)
}

/// Fewest words the function-word test judges; shorter text goes to whatlang.
const MIN_WORDS: usize = 40;

/// Whether `sample` is English beyond doubt: of its words, at least 3% are `the` and at
/// least 15% are English function words that no other language written in Latin script
/// uses as common words (so no `in`, `to`, `a`, `was`, `of`, `for`, `on`: Dutch, German,
/// Danish, Slavic and Romance languages have those). English news runs at about 6% and
/// 25%; text in another language, even quoting English, stays far below.
fn is_plainly_english(sample: &str) -> bool {
    const FUNCTION_WORDS: &[&str] = &[
        "the", "and", "that", "with", "from", "said", "has", "have", "were", "this", "which",
        "would", "his", "their", "been", "but", "are", "they", "its", "who", "will", "not",
    ];
    let (mut words, mut the, mut function) = (0usize, 0usize, 0usize);
    for word in sample
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
    {
        words += 1;
        if word.len() > 6 || !word.is_ascii() {
            continue;
        }
        if word.eq_ignore_ascii_case("the") {
            the += 1;
        }
        if FUNCTION_WORDS.iter().any(|f| f.eq_ignore_ascii_case(word)) {
            function += 1;
        }
    }
    words >= MIN_WORDS && the * 100 >= words * 3 && function * 100 >= words * 15
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
    fn plainly_english_needs_english_function_words_and_enough_words() {
        let en = "The United States and Russia have not reached a ceasefire deal for Syria, \
                  the State Department said on Wednesday, and officials from both sides said \
                  that the talks would go on. The spokesman said the two sides were still \
                  apart on the role of the Syrian government, which has been accused of \
                  bombing the areas that the rebels hold, and their allies have said this \
                  would not change.";
        assert!(is_plainly_english(en));
        assert_eq!(detect(en).as_deref(), Some("en"));
        assert!(
            !is_plainly_english("The deal was signed."),
            "too short to judge"
        );
        let nl = "De Verenigde Staten en Rusland hebben geen akkoord bereikt over een \
                  staakt-het-vuren in Syrië, zei het ministerie op woensdag. Of de \
                  gesprekken doorgaan is niet duidelijk, en de woordvoerder zei dat de \
                  twee kanten het nog oneens zijn over de rol van de regering, die wordt \
                  beschuldigd van bombardementen op de gebieden van de rebellen. Het was \
                  een moeilijke week voor de diplomaten in Genève, zei hij, en in Moskou.";
        assert!(!is_plainly_english(nl));
        assert_eq!(detect(nl).as_deref(), Some("nl"));
        let de_quoting_en = "Der Minister sagte am Mittwoch in Berlin, die Gespräche würden \
                  weitergehen. \"The talks will go on\", sagte er auf Englisch, und fügte \
                  hinzu, dass die Regierung in den nächsten Wochen eine Entscheidung treffen \
                  werde. Die Opposition kritisierte den Plan scharf und forderte eine \
                  Abstimmung im Bundestag, bevor das Kabinett darüber entscheidet, was in \
                  der Koalition für Streit sorgt.";
        assert!(!is_plainly_english(de_quoting_en));
        assert_eq!(detect(de_quoting_en).as_deref(), Some("de"));
    }

    #[test]
    fn normalises_codes() {
        assert_eq!(normalise_code("en-GB").as_deref(), Some("en"));
        assert_eq!(normalise_code("deu").as_deref(), Some("de"));
        assert_eq!(normalise_code("english"), None);
    }
}
