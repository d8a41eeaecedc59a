//! Rule-based Korean normalisation: strips particles (josa) and verbal endings (eomi) from a
//! Hangul word (eojeol), so `서비스가`, `서비스의` and `서비스` are one feature and `발생했습니다`
//! is `발생`.
//!
//! Korean writes a noun and its particle, or a verbal noun and its `하다`/`되다` ending, as one
//! space-separated word, so without this every inflected form is a separate TF-IDF feature. A
//! morphological analyser (lindera with ko-dic) does this from a dictionary of tens of MB; the
//! rules here need none and are measured against it in `docs/text.md`.
//!
//! The rules: repeatedly remove the longest known suffix, at most [`MAX_PASSES`] times, while
//! - at least two characters remain (so two-syllable nouns such as `결과`, `평가`, `회의` that end
//!   in a particle-like syllable stay whole), and
//! - particles that alternate with the sound before them match it: `이 을 은 과 으로` follow a
//!   syllable with a final consonant, `가 를 는 와` one without, `로` one without or ending in ㄹ
//!   (this keeps `게이트웨이`, `경로` and `초과` whole). After a Latin letter or digit (`API가`,
//!   `DB에서`) any particle is accepted: its pronunciation is not written.
//!
//! Only words ending in a Hangul syllable change; every other token is left as it was.

/// Suffixes removed from one word, at most (a plural `들`, a particle, and one more layer).
const MAX_PASSES: usize = 3;

/// What the syllable before a suffix must end in.
#[derive(Clone, Copy)]
enum After {
    /// Any sound.
    Any,
    /// A final consonant (batchim): `이`, `을`, `은`, `과`, `으로`.
    Consonant,
    /// No final consonant: `가`, `를`, `는`, `와`.
    Vowel,
    /// No final consonant, or final ㄹ: `로`.
    VowelOrRieul,
}

/// Particles, by the sound they follow. Compounds are listed whole where a shorter suffix would
/// be cut first and then block the rest (e.g. `에서는`).
const PARTICLES: &[(&str, After)] = &[
    ("이", After::Consonant),
    ("을", After::Consonant),
    ("은", After::Consonant),
    ("과", After::Consonant),
    ("과의", After::Consonant),
    ("으로", After::Consonant),
    ("으로는", After::Consonant),
    ("으로도", After::Consonant),
    ("으로서", After::Consonant),
    ("으로써", After::Consonant),
    ("으로의", After::Consonant),
    ("으로부터", After::Consonant),
    ("이라는", After::Consonant),
    ("이며", After::Consonant),
    ("이고", After::Consonant),
    ("이다", After::Consonant),
    ("입니다", After::Consonant),
    ("이었습니다", After::Consonant),
    ("이에요", After::Consonant),
    ("이므로", After::Consonant),
    ("이지만", After::Consonant),
    ("가", After::Vowel),
    ("를", After::Vowel),
    ("는", After::Vowel),
    ("와", After::Vowel),
    ("와의", After::Vowel),
    ("라는", After::Vowel),
    ("예요", After::Vowel),
    ("로", After::VowelOrRieul),
    ("로는", After::VowelOrRieul),
    ("로도", After::VowelOrRieul),
    ("로서", After::VowelOrRieul),
    ("로써", After::VowelOrRieul),
    ("로의", After::VowelOrRieul),
    ("로부터", After::VowelOrRieul),
    ("의", After::Any),
    ("에", After::Any),
    ("에는", After::Any),
    ("에도", After::Any),
    ("에만", After::Any),
    ("에의", After::Any),
    ("에서", After::Any),
    ("에서는", After::Any),
    ("에서도", After::Any),
    ("에서만", After::Any),
    ("에서의", After::Any),
    ("에서부터", After::Any),
    ("에게", After::Any),
    ("에게서", After::Any),
    ("에대한", After::Any),
    ("한테", After::Any),
    ("께서", After::Any),
    ("도", After::Any),
    ("만", After::Any),
    ("까지", After::Any),
    ("까지는", After::Any),
    ("부터", After::Any),
    ("부터는", After::Any),
    ("보다", After::Any),
    ("처럼", After::Any),
    ("마다", After::Any),
    ("조차", After::Any),
    ("밖에", After::Any),
    ("만큼", After::Any),
    ("대로", After::Any),
    ("들", After::Any),
];

/// Endings of the light verbs `하다` (do), `되다` (become) and `시키다` (cause) that turn a
/// Sino-Korean noun into a verb (`발생하다`, `만료되다`), and common endings of other verbs.
const ENDINGS: &[&str] = &[
    // 하다
    "하다",
    "한다",
    "합니다",
    "했다",
    "했습니다",
    "하였다",
    "하였습니다",
    "했음",
    "하였음",
    "함",
    "하여",
    "해",
    "해서",
    "하여서",
    "하고",
    "하며",
    "하면",
    "하는",
    "한",
    "할",
    "하지",
    "했으며",
    "하였으며",
    "했고",
    "하였고",
    "했지만",
    "하지만",
    "해야",
    "하게",
    "하기",
    "했는데",
    "하는데",
    "하던",
    "했던",
    "하므로",
    "하려고",
    "하려면",
    "해요",
    "했어요",
    "하세요",
    "해주세요",
    "하십시오",
    "합니까",
    "하는중",
    "하고있습니다",
    "하고있음",
    // 되다
    "되다",
    "된다",
    "됩니다",
    "됐다",
    "됐습니다",
    "되었다",
    "되었습니다",
    "됐음",
    "되었음",
    "됨",
    "되어",
    "돼",
    "되어서",
    "돼서",
    "되고",
    "되며",
    "되면",
    "되는",
    "된",
    "될",
    "되지",
    "됐으며",
    "되었으며",
    "됐고",
    "되었고",
    "됐지만",
    "되었지만",
    "되지만",
    "되어야",
    "돼야",
    "되게",
    "되기",
    "됐는데",
    "되었는데",
    "되는데",
    "되던",
    "됐던",
    "되었던",
    "되므로",
    "돼요",
    "됐어요",
    "되어요",
    "되고있습니다",
    "되고있음",
    "되는중",
    // 시키다
    "시키다",
    "시킨다",
    "시킵니다",
    "시켰다",
    "시켰습니다",
    "시킴",
    "시켜",
    "시키는",
    "시킨",
    "시키지",
    "시키고",
    // other verbs and adjectives: only multi-syllable endings (a one-syllable ending such as
    // `다` or `음` is too often the last syllable of a noun)
    "습니다",
    "었습니다",
    "았습니다",
    "였습니다",
    "었다",
    "았다",
    "였다",
    "었음",
    "았음",
    "었고",
    "았고",
    "었으며",
    "았으며",
    "었지만",
    "았지만",
    "지만",
    "는데",
    "어서",
    "아서",
    "으며",
    "으면",
    "어요",
    "아요",
    "습니까",
    "고있습니다",
    "고있음",
    "지않습니다",
    "지않음",
    "지않았습니다",
];

/// Auxiliary words that carry no topic once endings are gone (`있습니다` "is (doing)", `수`
/// "possibility", `것` "thing", `중` "during", `대한` "about"). Negations (`없`, `않`, `못`) are
/// kept, as they are in English.
const STOPWORDS: &[&str] = &[
    "있다",
    "있습니다",
    "있음",
    "있는",
    "있어",
    "있고",
    "있으며",
    "있었습니다",
    "수",
    "것",
    "중",
    "등",
    "및",
    "대한",
    "위한",
    "통해",
    "때문",
    "때문에",
    "계속",
    "갑자기",
    "현재",
];

/// Characters in the longest suffix of either list (a test keeps it true).
const LONGEST: usize = 6;

/// The condition of a known suffix. The lists are searched directly (a few hundred short string
/// compares per Hangul word): a process-wide table would be allocated once and never freed, which
/// leak checkers report. A particle that is also an ending keeps its condition (the stricter
/// reading).
fn lookup(suffix: &str) -> Option<After> {
    PARTICLES
        .iter()
        .find(|(s, _)| *s == suffix)
        .map(|(_, a)| *a)
        .or_else(|| ENDINGS.contains(&suffix).then_some(After::Any))
}

const SYLLABLES: std::ops::RangeInclusive<u32> = 0xAC00..=0xD7A3;

fn is_syllable(c: char) -> bool {
    SYLLABLES.contains(&(c as u32))
}

/// The final consonant (jongseong) index of a Hangul syllable: 0 for none, 8 for ㄹ.
fn final_consonant(c: char) -> u32 {
    (c as u32 - 0xAC00) % 28
}

impl After {
    fn holds(self, before: char) -> bool {
        if !is_syllable(before) {
            return true;
        }
        let f = final_consonant(before);
        match self {
            After::Any => true,
            After::Consonant => f != 0,
            After::Vowel => f == 0,
            After::VowelOrRieul => f == 0 || f == 8,
        }
    }
}

/// Whether `word` ends in a Hangul syllable (only such words are normalised).
pub(super) fn applies(word: &str) -> bool {
    word.chars().next_back().is_some_and(is_syllable)
}

/// `word` without its particles and verbal endings (a prefix of `word`).
pub(super) fn strip(word: &str) -> &str {
    let mut w = word;
    for _ in 0..MAX_PASSES {
        if !applies(w) {
            break;
        }
        // Byte offsets of the last `longest` character starts, nearest the end first.
        let starts: Vec<usize> = w
            .char_indices()
            .rev()
            .take(LONGEST)
            .map(|(i, _)| i)
            .collect();
        let mut cut = None;
        for &at in starts.iter().rev() {
            let (stem, suffix) = w.split_at(at);
            let Some(after) = lookup(suffix) else {
                continue;
            };
            let mut back = stem.chars().rev();
            let (Some(last), Some(_)) = (back.next(), back.next()) else {
                continue; // fewer than two characters would remain
            };
            if after.holds(last) {
                cut = Some(stem);
                break;
            }
        }
        match cut {
            Some(stem) => w = stem,
            None => break,
        }
    }
    w
}

/// Whether a normalised Hangul word is an auxiliary dropped like a stopword.
pub(super) fn is_stopword(word: &str) -> bool {
    STOPWORDS.contains(&word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_particles_and_endings() {
        for (word, want) in [
            ("서비스가", "서비스"),
            ("타임아웃으로", "타임아웃"),
            ("에러가", "에러"),
            ("발생했습니다", "발생"),
            ("만료되었습니다", "만료"),
            ("데이터베이스에", "데이터베이스"),
            ("서버에서는", "서버"),
            ("요청들이", "요청"),
            ("연결하지", "연결"),
            ("지연됩니다", "지연"),
            ("API가", "API"),
            ("DB에서", "DB"),
            ("파이프라인이", "파이프라인"),
            ("에러로", "에러"),
            ("파일을", "파일"),
        ] {
            assert_eq!(strip(word), want, "{word}");
        }
    }

    #[test]
    fn keeps_nouns_that_end_like_particles() {
        // Two syllables stay whole; sound rules protect longer nouns.
        for word in [
            "결과",
            "평가",
            "회의",
            "추가",
            "초과",
            "게이트웨이",
            "경로",
            "권한",
            "속도",
            "서버",
            "에러",
            "없습니다",
            "가",
        ] {
            assert_eq!(strip(word), word, "{word}");
        }
    }

    #[test]
    fn longest_covers_every_suffix() {
        let lens = PARTICLES
            .iter()
            .map(|(s, _)| *s)
            .chain(ENDINGS.iter().copied());
        assert_eq!(lens.map(|s| s.chars().count()).max(), Some(LONGEST));
    }

    #[test]
    fn other_scripts_are_untouched() {
        for word in ["timeout", "connect", "接続エラー", "db1", "가a", ""] {
            assert_eq!(strip(word), word);
        }
    }

    #[test]
    fn a_noun_and_its_inflected_forms_meet() {
        for forms in [
            ["권한", "권한이", "권한을"],
            ["서비스", "서비스가", "서비스의"],
            ["타임아웃", "타임아웃으로", "타임아웃이"],
        ] {
            let s: Vec<&str> = forms.iter().map(|w| strip(w)).collect();
            assert!(s.iter().all(|x| *x == s[0]), "{forms:?} -> {s:?}");
        }
    }
}
