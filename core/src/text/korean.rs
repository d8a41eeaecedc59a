//! Rule-based Korean normalisation: one feature per word whatever particle (josa) or verbal ending
//! (eomi) it carries, so `서비스가`, `서비스의` and `서비스` are one feature, `발생했습니다` is
//! `발생`, and `끊겼습니다`, `끊겨서` and the note form `끊김` are all `끊김`.
//!
//! Korean writes a noun and its particle, or a verb and its endings, as one space-separated word
//! (eojeol), so without this every inflected form is a separate TF-IDF feature. A morphological
//! analyser (lindera with ko-dic) does this from a dictionary of tens of MB; the rules here need
//! none and are measured against it in `docs/text.md`.
//!
//! The rules, read from the end of a word ending in a Hangul syllable:
//! - **Particles and light verbs** (`하다`, `되다`, `시키다`, which turn a noun into a verb) are
//!   cut by longest known suffix, at most [`MAX_PASSES`] times. What remains is a noun.
//! - **Verb endings** (`습니다`, `어요`, a past tense) are cut once, and what remains is a verb
//!   stem, written in its note form, the `-(으)ㅁ` noun operators already use (`없습니다` →
//!   `없음`, `느려요` → `느림`), so the terse and the full sentence meet.
//! - Fused endings are read from the jamo: a final ㅆ is the past tense (`끊겼` = `끊기` + `었`),
//!   a final ㅂ before `니다` the formal ending (`느립니다`), and `ㅕ ㅝ ㅙ` before `서`/`요`/`야`
//!   a stem vowel merged with `어` (`끊겨서`, `멈춰요`); a ㄹ-final syllable before `라`/`러` is the
//!   르-irregular (`달라요` → `다르` → `다름`).
//! - A cut leaves at least two characters (so two-syllable nouns that end in a particle-like
//!   syllable, `결과`, `평가`, `회의`, `속도`, stay whole), or one before a suffix of two or
//!   more syllables or the case particles `이 을 은 를 는` (`값이`, `초를`).
//! - Particles whose form depends on the sound before them must match it: `이 을 은 과 으로`
//!   follow a final consonant, `가 를 는 와` none, `로` none or ㄹ (this keeps `게이트웨이`, `경로`
//!   and `초과` whole). After a Latin letter or digit (`API가`, `DB에서`) any particle is
//!   accepted: its pronunciation is not written.
//! - A word that is only a particle or a light verb (`30%까지` split at the number, `확인 했습니다`
//!   written apart) carries no topic and is dropped.
//!
//! Only words ending in a Hangul syllable change; every other token is left as it was.

use std::borrow::Cow;

/// Suffix layers cut from one word, at most (a plural `들`, a particle, and one more layer).
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

/// What a cut suffix leaves before it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Leaves {
    /// A noun (after a particle or the copula): more layers may follow.
    Noun,
    /// A noun made a verb by a light verb (more layers may follow), unless only one syllable is
    /// left: `못하다`, `안되다` are verbs of their own, kept in note form (`못함`, `안됨`).
    Light,
    /// A verb stem (after a verb ending): written in its note form, nothing more is cut.
    Verb,
}

/// Particles (and the copula `이다`, which attaches like one), by the sound they follow.
/// Compounds are listed whole where a shorter suffix would be cut first and then block the rest
/// (e.g. `에서는`). The polite copula is written in full after a vowel too (`상태입니다`).
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
    ("이에요", After::Consonant),
    ("이므로", After::Consonant),
    ("이지만", After::Consonant),
    ("입니다", After::Any),
    ("입니까", After::Any),
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
    // `지만` ends verbs (`없지만`) and the copula after a vowel (`서버지만`); read as the latter,
    // so a noun is never taken for a verb.
    ("지만", After::Any),
];

/// One-syllable suffixes that may leave one syllable (`초를`, `없는`): no two-syllable noun ends in
/// them after a matching sound. Others may not: too many two-syllable nouns end in
/// `이 가 의 도 로 과 만` (`길이`, `추가`, `회의`, `속도`, `결과`, `미만`).
const SHORT_STEM_SUFFIXES: &[&str] = &["을", "은", "를", "는"];

/// Endings of the light verbs `하다` (do), `되다` (become) and `시키다` (cause) that turn a
/// Sino-Korean noun into a verb (`발생하다`, `만료되다`). Past forms (`했`, `됐`, `되었`) are
/// read from their final ㅆ instead of being listed.
const LIGHT_ENDINGS: &[&str] = &[
    // 하다
    "하다",
    "한다",
    "합니다",
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
    "하지만",
    "해야",
    "하게",
    "하기",
    "하는데",
    "하던",
    "하므로",
    "하려고",
    "하려면",
    "해요",
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
    "되지만",
    "되어야",
    "돼야",
    "되게",
    "되기",
    "되는데",
    "되던",
    "되므로",
    "돼요",
    "되어요",
    "되고있습니다",
    "되고있음",
    "되는중",
    // 시키다
    "시키다",
    "시킨다",
    "시킵니다",
    "시킴",
    "시켜",
    "시키는",
    "시킨",
    "시키지",
    "시키고",
];

/// Endings of other verbs and adjectives that no noun takes. A one-syllable ending such as `다`
/// or `음` is too often the last syllable of a noun; `는` qualifies after a final consonant only,
/// where the topic particle would be `은` (`없는`, `않는`).
const VERB_ENDINGS: &[(&str, After)] = &[
    ("습니다", After::Any),
    ("습니까", After::Any),
    ("는", After::Consonant),
    ("는데", After::Any),
    ("어서", After::Any),
    ("아서", After::Any),
    ("으며", After::Any),
    ("으면", After::Any),
    ("어요", After::Any),
    ("아요", After::Any),
    ("고있습니다", After::Any),
    ("고있음", After::Any),
    ("지않습니다", After::Any),
    ("지않음", After::Any),
];

/// Auxiliary words that carry no topic once endings are gone (`있음` "is (doing)", `수`
/// "possibility", `것` "thing", `중` "during", `대한` "about"). Negations (`없음`, `않음`, `못`)
/// are kept, as they are in English.
const STOPWORDS: &[&str] = &[
    "있다",
    "있음",
    "있는",
    "있어",
    "수",
    "것",
    "중",
    "등",
    "및",
    "대한",
    "위한",
    "통해",
    "때문",
    "계속",
    "갑자기",
    "현재",
];

/// Characters in the longest suffix of any list (a test keeps it true).
const LONGEST: usize = 6;

/// The kind and sound condition of a known suffix. The lists are searched directly (a few
/// hundred short string compares per Hangul word): a process-wide table would be allocated once
/// and never freed, which leak checkers report.
/// A suffix may have several readings told apart by the sound before it (`는` is the topic
/// particle after a vowel, the verb ending after a consonant): the first that holds is taken.
fn readings(suffix: &str) -> impl Iterator<Item = (After, Leaves)> + '_ {
    let particles = PARTICLES.iter().filter(move |(s, _)| *s == suffix);
    let light = LIGHT_ENDINGS.iter().filter(move |s| **s == suffix);
    let verb = VERB_ENDINGS.iter().filter(move |(s, _)| *s == suffix);
    particles
        .map(|(_, a)| (*a, Leaves::Noun))
        .chain(light.map(|_| (After::Any, Leaves::Light)))
        .chain(verb.map(|(_, a)| (*a, Leaves::Verb)))
}

const SYLLABLES: std::ops::RangeInclusive<u32> = 0xAC00..=0xD7A3;

/// Jamo indices (initial, vowel, final) as Unicode orders them in the syllable block.
mod jamo {
    pub const KIYEOK: u32 = 0; // ㄱ
    pub const RIEUL_INITIAL: u32 = 5; // ㄹ
    pub const SIOS: u32 = 9; // ㅅ
    pub const IEUNG: u32 = 11; // ㅇ
    pub const HIEUH: u32 = 18; // ㅎ
    pub const A: u32 = 0; // ㅏ
    pub const AE: u32 = 1; // ㅐ
    pub const YA: u32 = 2; // ㅑ
    pub const EO: u32 = 4; // ㅓ
    pub const E: u32 = 5; // ㅔ
    pub const YEO: u32 = 6; // ㅕ
    pub const O: u32 = 8; // ㅗ
    pub const WA: u32 = 9; // ㅘ
    pub const WAE: u32 = 10; // ㅙ
    pub const OE: u32 = 11; // ㅚ
    pub const YO: u32 = 12; // ㅛ
    pub const U: u32 = 13; // ㅜ
    pub const WEO: u32 = 14; // ㅝ
    pub const EU: u32 = 18; // ㅡ
    pub const I: u32 = 20; // ㅣ
    pub const FINAL_NONE: u32 = 0;
    pub const FINAL_RIEUL: u32 = 8; // ㄹ
    pub const FINAL_RIEUL_MIEUM: u32 = 10; // ㄻ
    pub const FINAL_MIEUM: u32 = 16; // ㅁ
    pub const FINAL_BIEUP: u32 = 17; // ㅂ
    pub const FINAL_SSANGSIOS: u32 = 20; // ㅆ
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct Syllable {
    initial: u32,
    vowel: u32,
    last: u32,
}

impl Syllable {
    fn of(c: char) -> Option<Self> {
        let i = (c as u32).checked_sub(*SYLLABLES.start())?;
        is_syllable(c).then_some(Syllable {
            initial: i / 588,
            vowel: i % 588 / 28,
            last: i % 28,
        })
    }

    fn char(self) -> char {
        let code = SYLLABLES.start() + (self.initial * 21 + self.vowel) * 28 + self.last;
        char::from_u32(code).unwrap_or('\u{FFFD}')
    }

    fn is(self, initial: u32, vowel: u32, last: u32) -> bool {
        self == Syllable {
            initial,
            vowel,
            last,
        }
    }

    /// A vowel that only a stem vowel merged with the ending `어` writes (`기`+`어` = `겨`,
    /// `추`+`어` = `춰`, `되`+`어` = `돼`); `ㅘ` is left out, as `과`/`화` end many nouns.
    fn is_merged(self) -> bool {
        self.last == jamo::FINAL_NONE && matches!(self.vowel, jamo::YEO | jamo::WEO | jamo::WAE)
    }
}

fn is_syllable(c: char) -> bool {
    SYLLABLES.contains(&(c as u32))
}

impl After {
    fn holds(self, before: char) -> bool {
        let Some(s) = Syllable::of(before) else {
            return true;
        };
        match self {
            After::Any => true,
            After::Consonant => s.last != jamo::FINAL_NONE,
            After::Vowel => s.last == jamo::FINAL_NONE,
            After::VowelOrRieul => s.last == jamo::FINAL_NONE || s.last == jamo::FINAL_RIEUL,
        }
    }
}

/// Whether `word` ends in a Hangul syllable (only such words are normalised).
pub(super) fn applies(word: &str) -> bool {
    word.chars().next_back().is_some_and(is_syllable)
}

/// `word` without its particles and endings; a verb in its note form (`-(으)ㅁ`). Empty for a
/// word that is only a particle or a light verb. Borrowed unless a syllable had to be rewritten.
pub(super) fn normalise(word: &str) -> Cow<'_, str> {
    if !applies(word) {
        return Cow::Borrowed(word);
    }
    if PARTICLES.iter().any(|(s, _)| *s == word) || LIGHT_ENDINGS.contains(&word) {
        return Cow::Borrowed("");
    }
    let mut w = word;
    for _ in 0..MAX_PASSES {
        if !applies(w) {
            break;
        }
        match cut_suffix(w) {
            Some((stem, Leaves::Noun)) => {
                w = stem;
                continue;
            }
            Some((stem, Leaves::Light)) => {
                if stem.chars().nth(1).is_none() && applies(stem) {
                    let verb = &word[stem.len()..];
                    return Cow::Owned(format!("{stem}{}", light_note(verb)));
                }
                w = stem;
                continue;
            }
            Some((stem, Leaves::Verb)) => return settle(predicate(stem)),
            None => {}
        }
        return match fused(w) {
            Some(Fused::Stem(stem)) => settle(predicate(stem)),
            Some(Fused::Bieup(stem)) => {
                // `느립` → `느리`: the ㅂ belongs to the ending.
                let mut s: Vec<char> = stem.chars().collect();
                if let Some(last) = s.last().copied().and_then(Syllable::of) {
                    let i = s.len() - 1;
                    s[i] = Syllable {
                        last: jamo::FINAL_NONE,
                        ..last
                    }
                    .char();
                }
                let open: String = s.into_iter().collect();
                Cow::Owned(predicate(&open).into_owned())
            }
            None => Cow::Borrowed(w),
        };
    }
    Cow::Borrowed(w)
}

/// A noun left by a light verb or the copula (`재시도했` → `재시도`) is normalised as the noun
/// written alone is, so every form of the word meets; a note form is final.
fn settle(c: Cow<'_, str>) -> Cow<'_, str> {
    match c {
        Cow::Borrowed(noun) if !noun.is_empty() => normalise(noun),
        other => other,
    }
}

/// The longest known suffix of `w` that its sound rule and the minimum stem allow, and what it
/// leaves.
fn cut_suffix(w: &str) -> Option<(&str, Leaves)> {
    // Byte offsets of the last `LONGEST` character starts, farthest from the end first.
    let mut starts = [0usize; LONGEST];
    let mut n = 0;
    for (i, _) in w.char_indices().rev().take(LONGEST) {
        starts[n] = i;
        n += 1;
    }
    for &at in starts[..n].iter().rev() {
        let (stem, suffix) = w.split_at(at);
        let mut back = stem.chars().rev();
        let Some(last) = back.next() else {
            continue; // nothing would remain
        };
        let long_enough = back.next().is_some()
            || suffix.chars().nth(1).is_some()
            || SHORT_STEM_SUFFIXES.contains(&suffix);
        if !long_enough {
            continue;
        }
        if let Some((_, leaves)) = readings(suffix).find(|(after, _)| after.holds(last)) {
            return Some((stem, leaves));
        }
    }
    None
}

/// A verb stem whose ending is fused into the jamo of its last syllable.
enum Fused<'a> {
    /// The stem with that syllable as written (`끊겼습니다` → `끊겼`, `끊겨서` → `끊겨`);
    /// [`predicate`] undoes the merge.
    Stem(&'a str),
    /// The stem whose last syllable carries the ㅂ of `ㅂ니다` (`느립니다` → `느립`).
    Bieup(&'a str),
}

fn fused(w: &str) -> Option<Fused<'_>> {
    let chars: Vec<(usize, char)> = w.char_indices().rev().take(LONGEST + 1).collect();
    // A final ㅆ is the past tense (or `있다`): whatever follows it is an ending. Inside a word,
    // `있` is the auxiliary of `-고 있다` (listed), so only a leading `있` counts.
    for &(at, c) in &chars {
        let Some(s) = Syllable::of(c) else { break };
        if s.last == jamo::FINAL_SSANGSIOS && (c != '있' || at == 0) {
            return Some(Fused::Stem(&w[..at + c.len_utf8()]));
        }
    }
    let syl = |k: usize| chars.get(k).and_then(|&(_, c)| Syllable::of(c));
    let (last, prev) = (syl(0)?, syl(1)?);
    // Formal `ㅂ니다`/`ㅂ니까` on an open stem: `느립니다` (`습니다`, `입니다`, `합니다` are listed).
    if (w.ends_with("니다") || w.ends_with("니까"))
        && syl(2).is_some_and(|s| s.last == jamo::FINAL_BIEUP)
    {
        return Some(Fused::Bieup(&w[..chars[1].0]));
    }
    // `서`/`요`/`야` after a stem vowel merged with `어`, or after the 르-irregular `라`/`러`,
    // leaving two syllables or more: `끊겨서`, `멈춰요`, `달라요`.
    let ending = last.is(jamo::SIOS, jamo::EO, jamo::FINAL_NONE)
        || last.is(jamo::IEUNG, jamo::YO, jamo::FINAL_NONE)
        || last.is(jamo::IEUNG, jamo::YA, jamo::FINAL_NONE);
    let rieul_irregular = prev.initial == jamo::RIEUL_INITIAL
        && prev.last == jamo::FINAL_NONE
        && matches!(prev.vowel, jamo::A | jamo::EO)
        && syl(2).is_some_and(|s| s.last == jamo::FINAL_RIEUL);
    let hae = prev.is(jamo::HIEUH, jamo::AE, jamo::FINAL_NONE); // `하`+`어` = `해`: `못해요`
    if ending && chars.len() >= 3 && (prev.is_merged() || hae || rieul_irregular) {
        return Some(Fused::Stem(&w[..chars[0].0]));
    }
    None
}

/// A verb stem (possibly with fused past tense or `어`) in its note form: `끊겼` → `끊김`,
/// `없` → `없음`, `달라` → `다름`. A stem ending in a light verb or the copula is a noun
/// (`발생했` → `발생`, `데이터였` → `데이터`).
fn predicate(stem: &str) -> Cow<'_, str> {
    let mut s: Vec<char> = stem.chars().collect();
    // Peel past (`었`, `았`, `였`), future (`겠`) and merged pasts (`겼` → `겨`), innermost last.
    while let Some(last) = s.last().copied().and_then(Syllable::of) {
        if last.last != jamo::FINAL_SSANGSIOS || s.last() == Some(&'있') {
            break;
        }
        if last.is(jamo::IEUNG, jamo::YEO, jamo::FINAL_SSANGSIOS) {
            // `였`: the copula after a vowel (`데이터였`), or `하였`/`되였`.
            s.pop();
            return noun_or_light(stem, s);
        }
        if last.initial == jamo::IEUNG && matches!(last.vowel, jamo::EO | jamo::A)
            || last.is(jamo::KIYEOK, jamo::E, jamo::FINAL_SSANGSIOS)
        {
            s.pop(); // `었`, `았`, `겠`
            // `이었` after a final consonant is the copula: `원인이었` → `원인`.
            if s.len() >= 2
                && s.last() == Some(&'이')
                && Syllable::of(s[s.len() - 2]).is_some_and(|p| p.last != jamo::FINAL_NONE)
            {
                s.pop();
                return noun_or_light(stem, s);
            }
            continue;
        }
        let i = s.len() - 1;
        s[i] = Syllable {
            last: jamo::FINAL_NONE,
            ..last
        }
        .char();
    }
    // A stem that took `어` directly (`끊겨서`) or through a past (`끊겼`) shows it merged. A
    // stem whose own vowel looks merged (`켜다`) is changed alike in every form, so they still meet.
    unmerge(&mut s);
    if is_light(&s) {
        return noun_or_light(stem, s);
    }
    // The note form: `-ㅁ` on an open syllable, `-ㄻ` on ㄹ, `-음` after any other consonant.
    match s.last().copied().and_then(Syllable::of) {
        Some(last) if last.last == jamo::FINAL_NONE || last.last == jamo::FINAL_RIEUL => {
            let i = s.len() - 1;
            let last_jamo = if last.last == jamo::FINAL_NONE {
                jamo::FINAL_MIEUM
            } else {
                jamo::FINAL_RIEUL_MIEUM
            };
            s[i] = Syllable {
                last: last_jamo,
                ..last
            }
            .char();
        }
        Some(_) => s.push('음'),
        None => {}
    }
    owned_or_borrowed(stem, s)
}

/// Undoes `어` merged into the last syllable: `겨` → `기`, `춰` → `추`, `돼` → `되`, `해` → `하`,
/// `봐` → `보`, and the 르-irregular `달라` → `다르`.
fn unmerge(s: &mut [char]) {
    let n = s.len();
    let Some(last) = s.last().copied().and_then(Syllable::of) else {
        return;
    };
    let vowel = match last.vowel {
        jamo::YEO => jamo::I,
        jamo::WEO => jamo::U,
        jamo::WAE => jamo::OE,
        jamo::WA => jamo::O,
        jamo::AE if last.initial == jamo::HIEUH => jamo::A,
        jamo::A | jamo::EO if last.initial == jamo::RIEUL_INITIAL && n >= 2 => {
            match Syllable::of(s[n - 2]) {
                Some(p) if p.last == jamo::FINAL_RIEUL => {
                    s[n - 2] = Syllable {
                        last: jamo::FINAL_NONE,
                        ..p
                    }
                    .char();
                    jamo::EU
                }
                _ => return,
            }
        }
        _ => return,
    };
    s[n - 1] = Syllable { vowel, ..last }.char();
}

/// Whether `s` ends in the light verb `하`, `되` or `시키`.
fn is_light(s: &[char]) -> bool {
    matches!(s.last(), Some('하' | '되')) || s.ends_with(&['시', '키'])
}

/// `s` without a trailing light verb: the noun it was made from (empty for the verb alone). A
/// one-syllable noun keeps its light verb in note form (`못하` → `못함`), as in [`Leaves::Light`].
fn noun_or_light<'a>(stem: &'a str, mut s: Vec<char>) -> Cow<'a, str> {
    let verb = if s.ends_with(&['시', '키']) {
        2
    } else {
        usize::from(is_light(&s))
    };
    if verb > 0 && s.len() - verb == 1 && s.first().copied().is_some_and(is_syllable) {
        let note = light_note(&s[1..].iter().collect::<String>());
        s.truncate(1);
        s.extend(note.chars());
    } else {
        s.truncate(s.len() - verb);
    }
    owned_or_borrowed(stem, s)
}

/// The note form of the light verb a suffix starts with: `함` for `하다` (`합니다`, `했`, `해`),
/// `됨` for `되다` (`됩니다`, `돼`), `시킴` for `시키다`, told apart by the first consonant.
fn light_note(suffix: &str) -> &'static str {
    match suffix
        .chars()
        .next()
        .and_then(Syllable::of)
        .map(|s| s.initial)
    {
        Some(jamo::HIEUH) => "함",
        Some(jamo::SIOS) => "시킴",
        _ => "됨",
    }
}

/// `s` as a string, borrowed from `stem` when it is a prefix of it.
fn owned_or_borrowed(stem: &str, s: Vec<char>) -> Cow<'_, str> {
    let owned: String = s.into_iter().collect();
    match stem.get(..owned.len()) {
        Some(prefix) if prefix == owned => Cow::Borrowed(prefix),
        _ => Cow::Owned(owned),
    }
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
            ("초과하였습니다", "초과"),
            ("중단되었어요", "중단"),
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
            ("상태입니다", "상태"),
            ("데이터였습니다", "데이터"),
            ("원인이었습니다", "원인"),
            ("재시작하겠습니다", "재시작"),
            ("없는", "없음"),
            ("재시도했습니다", normalise("재시도").as_ref()),
            ("서버지만", "서버"),
            ("초를", "초"),
            ("분까지", "분"),
        ] {
            assert_eq!(normalise(word), want, "{word}");
        }
    }

    #[test]
    fn verbs_meet_their_note_form() {
        for forms in [
            &[
                "끊김",
                "끊겼습니다",
                "끊겼어요",
                "끊겨서",
                "끊겼음",
                "끊겼다",
                "끊깁니다",
            ][..],
            &["잠김", "잠겼습니다", "잠겨요"],
            &["바뀜", "바뀌었습니다", "바뀌었음"],
            &["멈춤", "멈췄습니다", "멈춰서"],
            &["열림", "열렸어요", "열려서"],
            &["느림", "느려요", "느립니다"],
            &["다름", "달라요", "달랐습니다", "다릅니다"],
            &["모름", "몰라요", "몰랐습니다"],
            &["없음", "없습니다", "없어요", "없었습니다", "없어서", "없는"],
            &["않음", "않습니다", "않아요", "않았습니다"],
            &["못함", "못했습니다", "못합니다", "못해요", "못하는"],
            &["안됨", "안돼요", "안됐어요", "안됩니다"],
        ] {
            for w in forms {
                assert_eq!(normalise(w), forms[0], "{w}");
            }
        }
    }

    #[test]
    fn keeps_nouns_that_end_like_particles_or_endings() {
        // Two syllables stay whole; sound rules protect longer nouns; a noun never takes a note
        // form, whatever its last syllable.
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
            "시스템",
            "알림",
            "동기화",
            "스토리지",
            "메시지",
            "고려",
            "파워",
            "필요",
            "개요",
            "길이",
        ] {
            assert_eq!(normalise(word), word, "{word}");
        }
        assert_eq!(
            normalise("동기화요"),
            "동기화요",
            "ㅘ is not read as a merged vowel"
        );
        assert_eq!(
            normalise("서버요"),
            "서버요",
            "요 after a plain vowel stays"
        );
    }

    #[test]
    fn words_that_are_only_a_particle_or_a_light_verb_are_dropped() {
        for word in [
            "가",
            "까지",
            "에서",
            "했습니다",
            "합니다",
            "됩니다",
            "입니다",
        ] {
            assert_eq!(normalise(word), "", "{word}");
        }
    }

    #[test]
    fn longest_covers_every_suffix() {
        let lens = PARTICLES
            .iter()
            .map(|(s, _)| *s)
            .chain(LIGHT_ENDINGS.iter().copied())
            .chain(VERB_ENDINGS.iter().map(|(s, _)| *s));
        assert_eq!(lens.map(|s| s.chars().count()).max(), Some(LONGEST));
    }

    #[test]
    fn other_scripts_are_untouched() {
        for word in ["timeout", "connect", "接続エラー", "db1", "가a", ""] {
            assert_eq!(normalise(word), word);
        }
    }

    #[test]
    fn any_hangul_is_safe() {
        // Every syllable after every short prefix: no panic, and the result is never longer
        // than the word plus one syllable (`없` → `없음`).
        for c in (0xAC00..=0xD7A3).filter_map(char::from_u32) {
            for prefix in ["", "달", "API"] {
                for suffix in ["", "서", "니다", "습니다"] {
                    let w = format!("{prefix}{c}{suffix}");
                    let n = normalise(&w);
                    assert!(n.chars().count() <= w.chars().count() + 1, "{w} -> {n}");
                }
            }
        }
    }

    #[test]
    fn a_noun_and_its_inflected_forms_meet() {
        for forms in [
            ["권한", "권한이", "권한을"],
            ["서비스", "서비스가", "서비스의"],
            ["타임아웃", "타임아웃으로", "타임아웃이"],
        ] {
            let s: Vec<String> = forms.iter().map(|w| normalise(w).into_owned()).collect();
            assert!(s.iter().all(|x| *x == s[0]), "{forms:?} -> {s:?}");
        }
    }
}
