//! The masks: built-in and user rules that replace variable parts of a line by placeholders,
//! with the byte-scan prefilters that skip most regex scans and hand-written scanners for the
//! most frequent ones.

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::{Regex, RegexBuilder};

use super::config::BUILTIN_MASKS;

/// Last labels that make a dotted name a host name for the `host` mask. Country codes need three
/// labels (`mail.example.de`), so `setup.py` or `jquery.min` stay words; codes that are common
/// words or file extensions (`in`, `id`, `it`, `is`, `no`, `pl`, `sh`, `so`, `js`, ...) are left out.
const HOST_GENERIC_TLDS: &[&str] = &[
    "com",
    "net",
    "org",
    "edu",
    "gov",
    "mil",
    "info",
    "biz",
    "local",
    "localdomain",
    "internal",
    "lan",
    "corp",
    "home",
    "intranet",
];
const HOST_COUNTRY_TLDS: &[&str] = &[
    "uk", "de", "fr", "nl", "jp", "kr", "cn", "ru", "br", "es", "au", "ca", "ch", "se", "fi", "dk",
    "eu", "tw", "hk", "sg", "nz", "za", "mx", "ar", "cz", "hu", "il", "ie", "pt", "gr", "tr", "ua",
    "vn", "th", "ph", "ro", "sk", "cl", "co", "ve", "pe", "io", "us",
];

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum MaskKind {
    Custom,
    Plain,
    /// Only when the preceding character is not part of a word (no look-behind in `regex`).
    AfterBoundary,
    /// Hex ids: only when at least 6 characters long, or `0x`-prefixed.
    Hex,
    /// Host names: a whole dotted name (not part of a longer one: `java.io.File` is not a host)
    /// whose last label is a top-level domain (see [`is_host_name`]).
    Host,
    /// Numbers: also after `_` (`blk_123`), never inside a word (`abc123`); a `-` sign only
    /// counts when it is not a hyphen (`blk_-42` is negative, `proxy-2` is not).
    Number,
}

pub(super) struct Mask {
    pub(super) re: Regex,
    pub(super) placeholder: String,
    pub(super) kind: MaskKind,
    /// A cheap byte test every match needs (a digit, `@`, `/`, ...); lines failing it skip the regex.
    pub(super) prefilter: fn(&LineFlags) -> bool,
    /// A finer necessary condition (`digit:digit` for a time, ...), tested after `prefilter`.
    pub(super) shape: fn(&Shapes) -> bool,
}

/// Character sequences some built-in masks cannot match without: most log lines hold digits and
/// colons, yet few hold a time or an address, and a regex scan costs more than noting these in
/// the byte scan the line gets anyway. Each is a necessary condition only (never decides a
/// match); built-in placeholders (`<` + letters + `>`) cannot create any of them, so they stay
/// valid after built-in replacements. Non-ASCII lines get all true (`\d` is Unicode there).
#[derive(Clone, Copy, Default)]
pub(super) struct Shapes {
    /// digit `-` or `/` digit (a date), or digit `:` digit (a time).
    pub(super) ts: bool,
    /// digit `.` digit (IPv4), `::`, or seven colons (IPv6).
    pub(super) ip: bool,
    /// eight hex characters then `-`.
    pub(super) uuid: bool,
    /// `0x` then a hex digit, or a run of six or more hex characters holding a digit and a letter.
    pub(super) hex: bool,
    /// `://`.
    pub(super) url: bool,
    /// a letter or digit, `.`, a letter (a dotted name).
    pub(super) host: bool,
}

/// What one byte scan of a line says about it; each mask's prefilter is a necessary condition
/// for a match (masks only insert letters and `<>`, so the flags stay valid after replacements).
#[derive(Clone, Copy, Default)]
pub(super) struct LineFlags {
    pub(super) digit: bool,
    pub(super) at: bool,
    pub(super) slash: bool,
    pub(super) colon: bool,
    pub(super) dot: bool,
    pub(super) dash: bool,
    /// `0x` or a run of six or more ASCII hex characters.
    pub(super) hex_run: bool,
    pub(super) shapes: Shapes,
}

/// Byte classes for [`LineFlags::scan`]: most bytes of a line are letters or spaces and take
/// one table lookup and one branch.
const DIGIT: u8 = 1;
const HEX_LETTER: u8 = 2;
const MARK: u8 = 4;
const NON_ASCII: u8 = 8;
static BYTE_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = if c.is_ascii_digit() {
            DIGIT
        } else if matches!(c, b'a'..=b'f' | b'A'..=b'F') {
            HEX_LETTER
        } else if matches!(
            c,
            b'@' | b'/' | b'\\' | b'~' | b':' | b'.' | b'-' | b'x' | b'X'
        ) {
            MARK
        } else if c >= 0x80 {
            NON_ASCII
        } else {
            0
        };
        b += 1;
    }
    t
};

impl LineFlags {
    pub(super) fn scan(s: &[u8]) -> Self {
        let mut f = LineFlags::default();
        let sh = &mut f.shapes;
        let digit_at = |i: usize| s.get(i).is_some_and(u8::is_ascii_digit);
        let (mut run, mut run_classes, mut colons, mut any) = (0usize, 0u8, 0usize, 0u8);
        for (i, &b) in s.iter().enumerate() {
            let class = BYTE_CLASS[b as usize];
            any |= class;
            if class & (DIGIT | HEX_LETTER) != 0 {
                run += 1;
                run_classes |= class;
                if run >= 6 {
                    f.hex_run = true;
                    sh.hex |= run_classes == DIGIT | HEX_LETTER;
                }
                continue;
            }
            if class == MARK {
                let after_digit = i > 0 && digit_at(i - 1);
                match b {
                    b'@' => f.at = true,
                    b'/' | b'\\' | b'~' => {
                        f.slash = true;
                        sh.ts |= b == b'/' && after_digit && digit_at(i + 1);
                    }
                    b'-' => {
                        f.dash = true;
                        sh.ts |= after_digit && digit_at(i + 1);
                        sh.uuid |= run >= 8;
                    }
                    b':' => {
                        f.colon = true;
                        colons += 1;
                        sh.ts |= after_digit && digit_at(i + 1);
                        sh.ip |= s.get(i + 1) == Some(&b':');
                        sh.url |= s[i + 1..].starts_with(b"//");
                    }
                    b'.' => {
                        f.dot = true;
                        sh.ip |= after_digit && digit_at(i + 1);
                        sh.host |= i > 0
                            && s[i - 1].is_ascii_alphanumeric()
                            && s.get(i + 1).is_some_and(u8::is_ascii_alphabetic);
                    }
                    _ => {
                        // `x` / `X`
                        if i > 0 && s[i - 1] == b'0' {
                            f.hex_run = true;
                            sh.hex |= s.get(i + 1).is_some_and(u8::is_ascii_hexdigit);
                        }
                    }
                }
            }
            (run, run_classes) = (0, 0);
        }
        f.digit = any & DIGIT != 0;
        sh.ip |= colons >= 7;
        if any & NON_ASCII != 0 {
            f.shapes = Shapes {
                ts: true,
                ip: true,
                uuid: true,
                hex: true,
                url: true,
                host: true,
            };
        }
        f
    }
}

pub(super) fn any_line(_: &LineFlags) -> bool {
    true
}

pub(super) fn any_shape(_: &Shapes) -> bool {
    true
}

pub(super) fn builtin_mask(name: &str) -> Mask {
    let (pattern, kind) = match name {
        "url" => (
            r"\b(?:[a-z][a-z0-9+.\-]{1,15})://[^\s<>\x22']+",
            MaskKind::Plain,
        ),
        "email" => (
            r"\b[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}\b",
            MaskKind::Plain,
        ),
        "uuid" => (
            r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
            MaskKind::Plain,
        ),
        "ts" => (
            concat!(
                r"\b\d{4}[-/]\d{1,2}[-/]\d{1,2}(?:[t ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:z|[+\-]\d{2}:?\d{2})?)?\b",
                // syslog and ctime: `Jul 17 08:06:12`, `Sun Jul 17 08:06:12 2005`.
                r"|\b(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\s+\d{1,2}(?:,?\s+\d{4})?\s+\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?(?:\s+(?:19|20)\d{2})?\b",
                r"|\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b"
            ),
            MaskKind::Plain,
        ),
        "ip" => (
            concat!(
                r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b",
                r"|\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b",
                r"|\b(?:[0-9a-f]{1,4}:){1,6}:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,5}\b",
                r"|::(?:ffff:)?(?:\d{1,3}\.){3}\d{1,3}\b|::1\b"
            ),
            MaskKind::Plain,
        ),
        "host" => (
            r"\b[a-z0-9][a-z0-9\-]*(?:\.[a-z0-9][a-z0-9\-]*)+(?::\d{1,5}\b)?",
            MaskKind::Host,
        ),
        "path" => (
            r"(?:[a-z]:\\|~/|\.{1,2}/|/)(?:[\w.\-@%+~$]+[/\\])*[\w.\-@%+~$]+/?",
            MaskKind::AfterBoundary,
        ),
        "hex" => (
            r"\b0x[0-9a-f]+\b|\b[0-9a-f]*(?:[0-9][0-9a-f]*[a-f]|[a-f][0-9a-f]*[0-9])[0-9a-f]*\b",
            MaskKind::Hex,
        ),
        _ => (r"-?[0-9]+(?:[.,][0-9]+)*", MaskKind::Number), // "num" (see `mask_numbers`)
    };
    // Compiled once per process: every config that differs elsewhere (stop words, stemmer, custom
    // masks) and every model loaded would otherwise pay the same few ms again. A clone shares
    // the compiled program and gets its own match cache, so results and speed are unchanged.
    static COMPILED: [OnceLock<Regex>; BUILTIN_MASKS.len()] =
        [const { OnceLock::new() }; BUILTIN_MASKS.len()];
    let build = || {
        RegexBuilder::new(pattern)
            .case_insensitive(true)
            .build()
            .unwrap_or_else(|e| unreachable!("built-in mask {name} must compile: {e}"))
    };
    let re = match BUILTIN_MASKS.iter().position(|n| *n == name) {
        Some(i) => COMPILED[i].get_or_init(build).clone(),
        None => build(),
    };
    let prefilter: fn(&LineFlags) -> bool = match name {
        "url" => |f| f.colon && f.slash,
        "email" => |f| f.at && f.dot,
        "uuid" => |f| f.dash && f.hex_run,
        "ts" => |f| f.digit && (f.colon || f.dash || f.slash),
        "ip" => |f| f.digit && (f.dot || f.colon),
        "host" => |f| f.dot,
        "path" => |f| f.slash,
        "hex" => |f| f.digit && f.hex_run,
        _ => |f| f.digit,
    };
    let shape: fn(&Shapes) -> bool = match name {
        "url" => |s| s.url,
        "uuid" => |s| s.uuid,
        "ts" => |s| s.ts,
        "ip" => |s| s.ip,
        "host" => |s| s.host,
        "hex" => |s| s.hex,
        _ => any_shape,
    };
    Mask {
        re,
        placeholder: format!("<{name}>"),
        kind,
        prefilter,
        shape,
    }
}

pub(super) fn is_placeholder(s: &str) -> bool {
    s.len() > 2
        && s.starts_with('<')
        && s.ends_with('>')
        && s[1..s.len() - 1]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

pub(super) const IDENT_SEPARATORS: [char; 4] = ['.', '_', '-', ':'];

/// The `num` mask by hand: the same matches and decisions as its regex `-?\d+(?:[.,]\d+)*` (ASCII
/// digits) through [`replace_mask`], at a fraction of the cost; numbers are the most frequent
/// variable part of log lines. `number_scanner_matches_regex` checks the two agree.
pub(super) fn mask_numbers(s: &str, placeholder: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out: Option<String> = None;
    let (mut i, mut last) = (0, 0);
    while i < b.len() {
        let neg = b[i] == b'-' && b.get(i + 1).is_some_and(u8::is_ascii_digit);
        if !(neg || b[i].is_ascii_digit()) {
            i += 1;
            continue;
        }
        let start = i;
        let mut j = if neg { i + 1 } else { i };
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        while j + 1 < b.len() && (b[j] == b'.' || b[j] == b',') && b[j + 1].is_ascii_digit() {
            j += 1;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
        }
        i = j;
        let prev_alnum = s[..start]
            .chars()
            .next_back()
            .is_some_and(char::is_alphanumeric);
        let suffix_digit = s[j..]
            .chars()
            .take_while(|c| c.is_alphanumeric())
            .any(|c| c.is_numeric());
        let replacement = match (suffix_digit, prev_alnum, neg) {
            (true, _, _) | (false, true, false) => continue,
            (false, false, _) => placeholder,
            (false, true, true) => "-",
        };
        let o = out.get_or_insert_with(|| String::with_capacity(s.len()));
        o.push_str(&s[last..start]);
        o.push_str(replacement);
        if replacement == "-" {
            o.push_str(placeholder);
        }
        last = j;
    }
    let mut o = out?;
    o.push_str(&s[last..]);
    Some(o)
}

/// `rest` (what follows a match) continues a dotted name: `-x`, `x` or `.x` (a sentence's full
/// stop does not).
fn continues_name(rest: &str) -> bool {
    let mut c = rest.chars();
    match c.next() {
        Some('.') => c.next().is_some_and(char::is_alphanumeric),
        Some(n) => n == '-' || n.is_alphanumeric(),
        None => false,
    }
}

/// A dotted name (an optional `:port` after it) that ends in a top-level domain: a generic one
/// after at least one label (`example.com`), a country code after at least two
/// (`mail.example.de`). Every label holds a letter or the name is an address, not a host.
fn is_host_name(name: &str) -> bool {
    let name = name.rsplit_once(':').map_or(name, |(h, _)| h);
    let labels: Vec<&str> = name.split('.').collect();
    let Some(last) = labels.last().map(|l| l.to_ascii_lowercase()) else {
        return false;
    };
    let tld_ok = (labels.len() >= 2 && HOST_GENERIC_TLDS.contains(&last.as_str()))
        || (labels.len() >= 3 && HOST_COUNTRY_TLDS.contains(&last.as_str()));
    tld_ok
        && labels
            .iter()
            .any(|l| l.bytes().any(|b| b.is_ascii_alphabetic()))
}

/// Replaces the accepted matches of one mask; `None` when nothing changed (no allocation).
/// Uses `find_iter` (the regex's fast DFA path) rather than captures.
pub(super) fn replace_mask(m: &Mask, s: &str) -> Option<String> {
    let mut out: Option<String> = None;
    let mut last = 0;
    for hit in m.re.find_iter(s) {
        let (start, end) = (hit.start(), hit.end());
        let whole = hit.as_str();
        let prev = s[..start].chars().next_back();
        let replacement: Option<Cow<'_, str>> = match m.kind {
            MaskKind::Plain | MaskKind::Custom => Some(Cow::Borrowed(&m.placeholder)),
            // `a/b` (read/write) is not a path; `/a`, `=/a`, `(/a` and `a: /b` are.
            MaskKind::AfterBoundary => (!prev
                .is_some_and(|p| p.is_alphanumeric() || p == '_' || p == '<'))
            .then_some(Cow::Borrowed(&m.placeholder)),
            MaskKind::Host => (!prev.is_some_and(|p| p.is_alphanumeric() || p == '.' || p == '<')
                && !continues_name(&s[end..])
                && is_host_name(whole))
            .then_some(Cow::Borrowed(&m.placeholder)),
            MaskKind::Hex => {
                let prefixed = whole.len() > 2 && whole[..2].eq_ignore_ascii_case("0x");
                (prefixed || whole.len() >= 6).then_some(Cow::Borrowed(&m.placeholder))
            }
            MaskKind::Number => {
                let prev_alnum = prev.is_some_and(char::is_alphanumeric);
                // A unit suffix (`250ms`, `30초`) still masks; a mixed id (`3f2a9`) does not.
                let suffix_digit = s[end..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric())
                    .any(|c| c.is_numeric());
                match (suffix_digit, prev_alnum, whole.starts_with('-')) {
                    (true, _, _) => None,
                    (false, false, _) => Some(Cow::Borrowed(&m.placeholder)),
                    (false, true, true) => Some(Cow::Owned(format!("-{}", m.placeholder))),
                    (false, true, false) => None,
                }
            }
        };
        if let Some(r) = replacement {
            let o = out.get_or_insert_with(|| String::with_capacity(s.len()));
            o.push_str(&s[last..start]);
            o.push_str(&r);
            last = end;
        }
    }
    let mut o = out?;
    o.push_str(&s[last..]);
    Some(o)
}
