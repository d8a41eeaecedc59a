//! Word segmentation: UAX #29 words joined back into identifiers and placeholders.

use unicode_segmentation::UnicodeSegmentation;

pub(super) enum Segment<'a> {
    Word(&'a str),
    Placeholder(&'a str),
}

fn is_word(seg: &str) -> bool {
    seg.chars().any(char::is_alphanumeric)
}

fn is_cjk_char(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF   // Hiragana, Katakana
        | 0x3400..=0x4DBF // CJK Extension A
        | 0x4E00..=0x9FFF // CJK Unified Ideographs
        | 0xF900..=0xFAFF // CJK Compatibility Ideographs
        | 0x20000..=0x2FA1F)
}

/// UAX #29 word segmentation with three joins on top: `<name>` placeholders, hyphenated
/// identifiers (`kube-proxy`), and runs of Han/Kana characters (which UAX #29 splits per character).
pub(super) fn segment(text: &str) -> Vec<Segment<'_>> {
    let mut segs: Vec<(usize, &str)> = Vec::new();
    for (start, seg) in text.split_word_bound_indices() {
        // UAX #29 joins across some whitespace (U+202F NARROW NO-BREAK SPACE is ExtendNumLet, so
        // "abc\u{202f}def" is one segment). A token never holds whitespace: split such segments at
        // every whitespace character, keeping the whitespace runs as non-word segments.
        if seg.is_ascii() || !seg.chars().any(char::is_whitespace) {
            segs.push((start, seg));
            continue;
        }
        let mut piece = 0;
        let mut in_space = None;
        for (i, c) in seg.char_indices() {
            let space = c.is_whitespace();
            if in_space.is_some_and(|s| s != space) {
                segs.push((start + piece, &seg[piece..i]));
                piece = i;
            }
            in_space = Some(space);
        }
        segs.push((start + piece, &seg[piece..]));
    }
    join_segments(text, &segs)
}

fn join_segments<'a>(text: &'a str, segs: &[(usize, &'a str)]) -> Vec<Segment<'a>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < segs.len() {
        let (start, seg) = segs[i];
        // UAX #29 keeps combining marks with whatever precedes them, even a space (rule WB4):
        // " \u{1e000}" is one segment. The space is never part of a word.
        let trimmed = seg.trim_start();
        let (start, seg) = (start + (seg.len() - trimmed.len()), trimmed);
        if seg == "<"
            && i + 2 < segs.len()
            && segs[i + 2].1 == ">"
            && segs[i + 1]
                .1
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            let end = segs[i + 2].0 + 1;
            out.push(Segment::Placeholder(&text[start..end]));
            i += 3;
            continue;
        }
        if !is_word(seg) {
            i += 1;
            continue;
        }
        let mut end = start + seg.len();
        let mut j = i + 1;
        loop {
            let last_cjk = text[..end].chars().next_back().is_some_and(is_cjk_char);
            if j + 1 < segs.len()
                && segs[j].1 == "-"
                && is_word(segs[j + 1].1)
                && !starts_placeholder(segs, j + 1)
            {
                end = segs[j + 1].0 + segs[j + 1].1.len();
                j += 2;
            } else if j < segs.len()
                && last_cjk
                && segs[j].1.chars().next().is_some_and(is_cjk_char)
            {
                end = segs[j].0 + segs[j].1.len();
                j += 1;
            } else {
                break;
            }
        }
        out.push(Segment::Word(&text[start..end]));
        i = j;
    }
    out
}

/// [`segment`] for ASCII text without the UAX #29 tables: the same rules, restricted to ASCII
/// (letters, digits and `_` join; `:` `.` `'` join two letters; `.` `,` `;` `'` join two digits).
/// `ascii_segmentation_matches_uax29` checks it against unicode-segmentation.
pub(super) fn segment_ascii(text: &str) -> Vec<Segment<'_>> {
    #[derive(Clone, Copy, PartialEq)]
    enum C {
        Letter,
        Digit,
        Under,
        MidLetter,
        MidNumLet,
        MidNum,
        Other,
    }
    let class = |b: u8| match b {
        b'a'..=b'z' | b'A'..=b'Z' => C::Letter,
        b'0'..=b'9' => C::Digit,
        b'_' => C::Under,
        b':' => C::MidLetter,
        b'.' | b'\'' => C::MidNumLet,
        b',' | b';' => C::MidNum,
        _ => C::Other,
    };
    let b = text.as_bytes();
    let mut segs: Vec<(usize, &str)> = Vec::with_capacity(b.len() / 3);
    let mut i = 0;
    while i < b.len() {
        let c = class(b[i]);
        if !matches!(c, C::Letter | C::Digit | C::Under) {
            segs.push((i, &text[i..i + 1]));
            i += 1;
            continue;
        }
        let start = i;
        let mut prev = c;
        i += 1;
        while i < b.len() {
            let c = class(b[i]);
            match c {
                C::Letter | C::Digit | C::Under => {
                    prev = c;
                    i += 1;
                }
                C::MidLetter | C::MidNumLet | C::MidNum if i + 1 < b.len() => {
                    let next = class(b[i + 1]);
                    let letters = prev == C::Letter && next == C::Letter && c != C::MidNum;
                    let digits = prev == C::Digit && next == C::Digit && c != C::MidLetter;
                    if letters || digits {
                        prev = next;
                        i += 2;
                    } else {
                        break;
                    }
                }
                _ => break,
            }
        }
        segs.push((start, &text[start..i]));
    }
    join_segments(text, &segs)
}

fn starts_placeholder(segs: &[(usize, &str)], i: usize) -> bool {
    i > 0 && segs[i - 1].1 == "<"
}
