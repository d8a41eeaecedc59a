//! Text preprocessing: from a raw log line to the tokens every other capability consumes.
//!
//! Steps, in order: lowercase → mask variable parts (user rules first, then the built-ins
//! `url email uuid ts ip path hex num`) → Unicode word segmentation (UAX #29, so Hangul and other
//! scripts stay whole; identifiers such as `java.lang.NullPointerException`, `ERR_CONNECTION_REFUSED`,
//! `kube-proxy` stay single tokens) → Korean particles and endings removed (`text/korean.rs`) →
//! stemming → minimum length → stopwords.
//!
//! ```
//! use faultlens::{Preprocessor, PreprocessorConfig};
//! let p = Preprocessor::new(PreprocessorConfig::default()).unwrap();
//! assert_eq!(
//!     p.tokens("Connection refused to 10.0.0.7:8080 after 3 retries"),
//!     ["connect", "refus", "<ip>", "after", "<num>", "retri"]
//! );
//! ```

use std::borrow::Cow;

use regex::{Regex, RegexBuilder};
use rust_stemmers::{Algorithm, Stemmer};
use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

use crate::error::{Error, Result};
use crate::parallel;

mod korean;

/// Built-in English stopwords: NLTK's list without the negations and state words (`not`, `no`,
/// `down`, `off`, `after`, `couldn't`, ...) that decide what an error message means.
const ENGLISH_STOPWORDS: &str = include_str!("stopwords_en.txt");

/// Names of the built-in masks, in the order they are applied.
pub const BUILTIN_MASKS: [&str; 9] = [
    "url", "email", "uuid", "ts", "ip", "host", "path", "hex", "num",
];

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

/// A user-supplied masking rule: every match of `pattern` becomes `placeholder`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaskRule {
    /// A `regex` crate pattern (linear time; add `(?i)` for case-insensitive).
    pub pattern: String,
    /// The token that replaces a match: `<` + ASCII letters, digits or `_` + `>`, e.g. `<order_id>`.
    pub placeholder: String,
}

/// Preprocessing options. Every field has a default, so a config file may name only what it changes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PreprocessorConfig {
    /// Lowercase the text first (default on; some templates differ only in letter case).
    pub lowercase: bool,
    /// Replace variable parts with placeholder tokens (default on).
    pub mask: bool,
    /// Which built-in masks run when `mask` is on (default: all of [`BUILTIN_MASKS`]).
    pub masks: Vec<String>,
    /// Extra masking rules, applied before the built-ins.
    pub custom_masks: Vec<MaskRule>,
    /// Also emit the parts of compound identifiers (`kube-proxy` → `kube-proxy kube proxy`).
    pub split_identifiers: bool,
    /// Built-in stopword list: `"english"` (default) or `"none"`.
    pub stop_words: String,
    /// Words added to the stopword list (use `stop_words = "none"` to replace the list).
    pub extra_stop_words: Vec<String>,
    /// Snowball stemmer language (any rust-stemmers language, e.g. `"english"`, `"german"`) or `"none"`.
    pub stemmer: String,
    /// Tokens shorter than this many characters are dropped (placeholders are always kept).
    pub min_token_length: usize,
    /// Korean handling: `"rules"` (default) strips particles and verbal endings from Hangul
    /// words (`서비스가` → `서비스`, `발생했습니다` → `발생`) and drops a few auxiliary words;
    /// `"none"` keeps Hangul words as written. Words not ending in Hangul never change. A file
    /// saved before this option existed loads with `"none"`, so it tokenises as it did.
    #[serde(default = "korean_default")]
    pub korean: String,
}

/// The `korean` value of a config that does not name one: `"rules"`, except while a model file
/// is being read, where a missing field means the file predates Korean handling.
fn korean_default() -> String {
    if crate::models::decoding_file() {
        "none".into()
    } else {
        "rules".into()
    }
}

impl Default for PreprocessorConfig {
    fn default() -> Self {
        Self {
            lowercase: true,
            mask: true,
            masks: BUILTIN_MASKS.iter().map(|s| s.to_string()).collect(),
            custom_masks: Vec::new(),
            split_identifiers: false,
            stop_words: "english".into(),
            extra_stop_words: Vec::new(),
            stemmer: "english".into(),
            min_token_length: 2,
            korean: "rules".into(),
        }
    }
}

impl PreprocessorConfig {
    /// Checks every field; [`Preprocessor::new`] calls it.
    pub fn validate(&self) -> Result<()> {
        compiled_for(self).map(|_| ())
    }

    fn compile(&self) -> Result<Compiled> {
        let stemmer = stemmer_for(&self.stemmer)?;
        let mut masks = Vec::new();
        for rule in &self.custom_masks {
            if !is_placeholder(&rule.placeholder) {
                return Err(Error::config(
                    "custom_masks",
                    format!(
                        "placeholder {:?} must look like <name> (ASCII letters, digits, _)",
                        rule.placeholder
                    ),
                ));
            }
            let re = RegexBuilder::new(&rule.pattern)
                .size_limit(1 << 22)
                .build()
                .map_err(|e| {
                    Error::config("custom_masks", format!("pattern {:?}: {e}", rule.pattern))
                })?;
            if re.is_match("") {
                return Err(Error::config(
                    "custom_masks",
                    format!("pattern {:?} matches the empty string", rule.pattern),
                ));
            }
            masks.push(Mask {
                re,
                placeholder: rule.placeholder.clone(),
                kind: MaskKind::Custom,
                prefilter: any_line,
                shape: any_shape,
            });
        }
        if self.mask {
            for name in &self.masks {
                if !BUILTIN_MASKS.contains(&name.as_str()) {
                    return Err(Error::config(
                        "masks",
                        format!("unknown mask {name:?}; expected some of {BUILTIN_MASKS:?}"),
                    ));
                }
            }
            // Built-ins run in their fixed priority order whatever order the list gives.
            for name in BUILTIN_MASKS
                .iter()
                .filter(|n| self.masks.iter().any(|m| m == *n))
            {
                masks.push(builtin_mask(name));
            }
        }
        let stop_base: Vec<&str> = match self.stop_words.as_str() {
            "english" => ENGLISH_STOPWORDS
                .lines()
                .filter(|l| !l.is_empty())
                .collect(),
            "none" => Vec::new(),
            other => {
                return Err(Error::config(
                    "stop_words",
                    format!("unknown list {other:?}; expected \"english\" or \"none\""),
                ));
            }
        };
        // Stopwords are normalised exactly like text tokens, so `having` still removes `have`.
        let stopwords = stop_base
            .iter()
            .copied()
            .chain(self.extra_stop_words.iter().map(String::as_str))
            .map(|w| with_stem(stemmer.as_ref(), &w.to_lowercase(), str::to_owned))
            .collect();
        let korean = match self.korean.as_str() {
            "rules" => true,
            "none" => false,
            other => {
                return Err(Error::config(
                    "korean",
                    format!("unknown mode {other:?}; expected \"rules\" or \"none\""),
                ));
            }
        };
        Ok(Compiled {
            masks,
            stemmer,
            stopwords,
            korean,
        })
    }
}

fn stemmer_for(name: &str) -> Result<Option<(usize, Stemmer)>> {
    let alg = match name.to_ascii_lowercase().as_str() {
        "none" | "" => return Ok(None),
        "arabic" => Algorithm::Arabic,
        "danish" => Algorithm::Danish,
        "dutch" => Algorithm::Dutch,
        "english" => Algorithm::English,
        "finnish" => Algorithm::Finnish,
        "french" => Algorithm::French,
        "german" => Algorithm::German,
        "greek" => Algorithm::Greek,
        "hungarian" => Algorithm::Hungarian,
        "italian" => Algorithm::Italian,
        "norwegian" => Algorithm::Norwegian,
        "portuguese" => Algorithm::Portuguese,
        "romanian" => Algorithm::Romanian,
        "russian" => Algorithm::Russian,
        "spanish" => Algorithm::Spanish,
        "swedish" => Algorithm::Swedish,
        "tamil" => Algorithm::Tamil,
        "turkish" => Algorithm::Turkish,
        other => {
            return Err(Error::config(
                "stemmer",
                format!(
                    "unknown language {other:?}; expected \"none\" or a Snowball language such as \"english\""
                ),
            ));
        }
    };
    Ok(Some((alg as usize, Stemmer::create(alg))))
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum MaskKind {
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

struct Mask {
    re: Regex,
    placeholder: String,
    kind: MaskKind,
    /// A cheap byte test every match needs (a digit, `@`, `/`, ...); lines failing it skip the regex.
    prefilter: fn(&LineFlags) -> bool,
    /// A finer necessary condition (`digit:digit` for a time, ...), tested after `prefilter`.
    shape: fn(&Shapes) -> bool,
}

/// Character sequences some built-in masks cannot match without: most log lines hold digits and
/// colons, yet few hold a time or an address, and a regex scan costs more than noting these in
/// the byte scan the line gets anyway. Each is a necessary condition only (never decides a
/// match); built-in placeholders (`<` + letters + `>`) cannot create any of them, so they stay
/// valid after built-in replacements. Non-ASCII lines get all true (`\d` is Unicode there).
#[derive(Clone, Copy, Default)]
struct Shapes {
    /// digit `-` or `/` digit (a date), or digit `:` digit (a time).
    ts: bool,
    /// digit `.` digit (IPv4), `::`, or seven colons (IPv6).
    ip: bool,
    /// eight hex characters then `-`.
    uuid: bool,
    /// `0x` then a hex digit, or a run of six or more hex characters holding a digit and a letter.
    hex: bool,
    /// `://`.
    url: bool,
    /// a letter or digit, `.`, a letter (a dotted name).
    host: bool,
}

/// What one byte scan of a line says about it; each mask's prefilter is a necessary condition
/// for a match (masks only insert letters and `<>`, so the flags stay valid after replacements).
#[derive(Clone, Copy, Default)]
struct LineFlags {
    digit: bool,
    at: bool,
    slash: bool,
    colon: bool,
    dot: bool,
    dash: bool,
    /// `0x` or a run of six or more ASCII hex characters.
    hex_run: bool,
    shapes: Shapes,
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
    fn scan(s: &[u8]) -> Self {
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

fn any_line(_: &LineFlags) -> bool {
    true
}

fn any_shape(_: &Shapes) -> bool {
    true
}

fn builtin_mask(name: &str) -> Mask {
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
    let re = RegexBuilder::new(pattern)
        .case_insensitive(true)
        .build()
        .unwrap_or_else(|e| unreachable!("built-in mask {name} must compile: {e}"));
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

fn is_placeholder(s: &str) -> bool {
    s.len() > 2
        && s.starts_with('<')
        && s.ends_with('>')
        && s[1..s.len() - 1]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

struct Compiled {
    masks: Vec<Mask>,
    /// (language id, stemmer): the id keys the per-thread stem cache.
    stemmer: Option<(usize, Stemmer)>,
    stopwords: rustc_hash::FxHashSet<String>,
    /// Whether Hangul words lose their particles and endings (`korean = "rules"`).
    korean: bool,
}

/// The compiled form of `config`, shared process-wide with every live preprocessor built from an
/// equal config. Compiling the masks' regexes costs 10-20 ms, far more than fitting a small model,
/// and hosts build many short-lived preprocessors with the same few configs (a classifier per
/// fit, a vectoriser per model); compiled rules are immutable and `Sync`, so sharing changes no
/// result. The cache holds weak references: a compiled form lives as long as some preprocessor
/// uses it, so nothing is kept after the last one is dropped (leak checkers stay quiet).
fn compiled_for(config: &PreprocessorConfig) -> Result<std::sync::Arc<Compiled>> {
    use std::sync::{Arc, Mutex, Weak};
    const KEEP: usize = 8;
    static CACHE: Mutex<Vec<(PreprocessorConfig, Weak<Compiled>)>> = Mutex::new(Vec::new());
    let lock = || {
        CACHE
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    };
    let lookup = |cache: &mut Vec<(PreprocessorConfig, Weak<Compiled>)>| {
        cache.retain(|(_, w)| w.strong_count() > 0);
        cache
            .iter()
            .find(|(c, _)| c == config)
            .and_then(|(_, w)| w.upgrade())
    };
    if let Some(hit) = lookup(&mut lock()) {
        return Ok(hit);
    }
    // Compiled outside the lock, so one slow config never blocks others; if two threads compile
    // the same config at once, the first to finish is cached and the other's copy is dropped.
    let compiled = Arc::new(config.compile()?);
    let mut cache = lock();
    if let Some(hit) = lookup(&mut cache) {
        return Ok(hit);
    }
    if cache.len() >= KEEP {
        cache.remove(0);
    }
    cache.push((config.clone(), Arc::downgrade(&compiled)));
    Ok(compiled)
}

/// A masked line and its stable id, usable as a grouping key (e.g. by the window module).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    /// The line after lowercasing and masking, with runs of whitespace collapsed to one space.
    pub masked: String,
    /// 16 hex digits of the 64-bit FNV-1a hash of `masked`: the same on every platform and version.
    pub id: String,
}

/// A configured preprocessor. Cheap to share across threads (`Send + Sync`); build it once.
pub struct Preprocessor {
    config: PreprocessorConfig,
    /// Shared by clones: compiling the masks costs milliseconds, and a compiled preprocessor is
    /// immutable and `Sync`, so a clone (e.g. of a classifier being refitted) reuses it.
    compiled: std::sync::Arc<Compiled>,
}

impl std::fmt::Debug for Preprocessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Preprocessor")
            .field("config", &self.config)
            .finish()
    }
}

impl Clone for Preprocessor {
    fn clone(&self) -> Self {
        Self {
            config: self.config.clone(),
            compiled: std::sync::Arc::clone(&self.compiled),
        }
    }
}

impl PartialEq for Preprocessor {
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config
    }
}

impl Default for Preprocessor {
    fn default() -> Self {
        Self::new(PreprocessorConfig::default())
            .unwrap_or_else(|e| unreachable!("default config: {e}"))
    }
}

impl Serialize for Preprocessor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.config.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Preprocessor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let config = PreprocessorConfig::deserialize(d)?;
        Preprocessor::new(config).map_err(serde::de::Error::custom)
    }
}

impl crate::models::Artifact for Preprocessor {
    const KIND: &'static str = "preprocessor";
}

impl Preprocessor {
    /// Validates `config` and compiles its rules.
    pub fn new(config: PreprocessorConfig) -> Result<Self> {
        let compiled = compiled_for(&config)?;
        Ok(Self { config, compiled })
    }

    /// The configuration this preprocessor was built from.
    pub fn config(&self) -> &PreprocessorConfig {
        &self.config
    }

    /// Lowercases (if configured) and masks `text`, leaving everything else as it was.
    fn masked<'a>(&self, text: &'a str) -> Cow<'a, str> {
        self.masked_with(text, true)
    }

    /// `masked`, optionally without the [`Shapes`] test (the tests check both give equal lines).
    fn masked_with<'a>(&self, text: &'a str, use_shapes: bool) -> Cow<'a, str> {
        let mut s: Cow<'a, str> = if !self.config.lowercase {
            Cow::Borrowed(text)
        } else if text.is_ascii() {
            if text.bytes().any(|b| b.is_ascii_uppercase()) {
                Cow::Owned(text.to_ascii_lowercase())
            } else {
                Cow::Borrowed(text)
            }
        } else if text.chars().any(char::is_uppercase) {
            Cow::Owned(text.to_lowercase())
        } else {
            Cow::Borrowed(text)
        };
        let flags = LineFlags::scan(s.as_bytes());
        let mut shapes = flags.shapes;
        for m in &self.compiled.masks {
            if !(m.prefilter)(&flags) || (use_shapes && !(m.shape)(&shapes)) {
                continue;
            }
            let replaced = if m.kind == MaskKind::Number {
                mask_numbers(&s, &m.placeholder)
            } else {
                replace_mask(m, &s)
            };
            if let Some(o) = replaced {
                s = Cow::Owned(o);
                // Custom masks run first and may insert anything: the shapes are re-read.
                if m.kind == MaskKind::Custom {
                    shapes = LineFlags::scan(s.as_bytes()).shapes;
                }
            }
        }
        s
    }

    /// The tokens of `text`, in order.
    pub fn tokens(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        self.for_each_token(text, |t| out.push(t.to_owned()));
        out
    }

    /// Calls `f` with each token of `text` in order, without allocating a `String` per token
    /// (the vectoriser looks tokens up straight from here).
    pub(crate) fn for_each_token(&self, text: &str, f: impl FnMut(&str)) {
        self.for_each_masked_token(&self.masked(text), f)
    }

    /// [`masked`](Self::masked) alone: log lines repeat heavily once their variable parts are
    /// masked, so batch callers mask every line but tokenise each distinct masked line once.
    pub(crate) fn mask<'a>(&self, text: &'a str) -> Cow<'a, str> {
        self.masked(text)
    }

    /// The tokens of a line that [`mask`](Self::mask) already masked.
    pub(crate) fn for_each_masked_token(&self, masked: &str, mut f: impl FnMut(&str)) {
        let segments = if masked.is_ascii() {
            segment_ascii(masked)
        } else {
            segment(masked)
        };
        for raw in segments {
            match raw {
                Segment::Placeholder(p) => f(p),
                Segment::Word(w) => {
                    let mut w = w.trim_matches(|c| c == '_' || c == '.' || c == '\'' || c == ':');
                    if self.compiled.korean && !w.is_ascii() && korean::applies(w) {
                        w = korean::strip(w);
                        if korean::is_stopword(w) {
                            continue;
                        }
                    }
                    if w.is_empty() {
                        continue;
                    }
                    self.emit(w, &mut f);
                    if self.config.split_identifiers && w.contains(IDENT_SEPARATORS) {
                        // `a__b` has an empty part between its separators: never a token.
                        for part in w.split(IDENT_SEPARATORS).filter(|p| !p.is_empty()) {
                            self.emit(part, &mut f);
                        }
                    }
                }
            }
        }
    }

    fn emit(&self, word: &str, f: &mut impl FnMut(&str)) {
        let stemmer = self.compiled.stemmer.as_ref();
        let stopwords = &self.compiled.stopwords;
        // Matching is case-insensitive either way, so a stop list never silently misses.
        let cased_stop = !self.config.lowercase
            && with_stem(stemmer, &word.to_lowercase(), |s| stopwords.contains(s));
        let min_len = self.config.min_token_length;
        with_stem(stemmer, word, |stemmed| {
            // Byte length bounds char count from above, so most tokens skip the char count.
            let too_short = stemmed.len() < min_len
                || (stemmed.len() < 4 * min_len && stemmed.chars().count() < min_len);
            let stop = if self.config.lowercase {
                stopwords.contains(stemmed)
            } else {
                cased_stop
            };
            if !too_short && !stop {
                f(stemmed)
            }
        });
    }

    /// The tokens of `text` joined by one space.
    pub fn process(&self, text: &str) -> String {
        self.tokens(text).join(" ")
    }

    /// The masked line and its stable template id.
    pub fn template(&self, text: &str) -> Template {
        let masked = self.masked(text);
        let masked = masked.split_whitespace().collect::<Vec<_>>().join(" ");
        let id = format!("{:016x}", fnv1a64(masked.as_bytes()));
        Template { masked, id }
    }

    /// [`tokens`](Self::tokens) for many texts, using all cores for large batches.
    pub fn tokens_batch<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Vec<Vec<String>> {
        parallel::map(texts, |t| self.tokens(t.as_ref()))
    }

    /// [`process`](Self::process) for many texts, using all cores for large batches.
    pub fn process_batch<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Vec<String> {
        parallel::map(texts, |t| self.process(t.as_ref()))
    }

    /// [`template`](Self::template) for many texts, using all cores for large batches.
    pub fn template_batch<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Vec<Template> {
        parallel::map(texts, |t| self.template(t.as_ref()))
    }
}

const IDENT_SEPARATORS: [char; 4] = ['.', '_', '-', ':'];

/// The `num` mask by hand: the same matches and decisions as its regex `-?\d+(?:[.,]\d+)*` (ASCII
/// digits) through [`replace_mask`], at a fraction of the cost; numbers are the most frequent
/// variable part of log lines. `number_scanner_matches_regex` checks the two agree.
fn mask_numbers(s: &str, placeholder: &str) -> Option<String> {
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
fn replace_mask(m: &Mask, s: &str) -> Option<String> {
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

/// Calls `f` with the stem of `word`. Only plain alphabetic words are stemmed: identifiers and
/// alphanumerics keep their exact form. Stems are memoised per thread (Snowball costs ~100 ns a
/// word and log vocabularies are small), bounded to `STEM_CACHE_MAX` entries.
fn with_stem<R>(stemmer: Option<&(usize, Stemmer)>, word: &str, f: impl FnOnce(&str) -> R) -> R {
    let Some(st) = stemmer else { return f(word) };
    if !word.chars().all(char::is_alphabetic) {
        return f(word);
    }
    let (lang, st) = (st.0, &st.1);
    STEM_CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.0 != lang {
            cache.0 = lang;
            cache.1.clear();
        }
        if let Some(hit) = cache.1.get(word) {
            return f(hit);
        }
        let stemmed = st.stem(word).into_owned();
        if cache.1.len() >= STEM_CACHE_MAX {
            cache.1.clear();
        }
        let r = f(&stemmed);
        cache.1.insert(word.into(), stemmed.into_boxed_str());
        r
    })
}

const STEM_CACHE_MAX: usize = 1 << 16;

/// (language id, word → stem) for the calling thread.
type StemCache = (usize, rustc_hash::FxHashMap<Box<str>, Box<str>>);

thread_local! {
    static STEM_CACHE: std::cell::RefCell<StemCache> =
        std::cell::RefCell::new((usize::MAX, rustc_hash::FxHashMap::default()));
}

enum Segment<'a> {
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
fn segment(text: &str) -> Vec<Segment<'_>> {
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
fn segment_ascii(text: &str) -> Vec<Segment<'_>> {
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

/// 64-bit FNV-1a: tiny, fast and fixed forever, so template ids are stable across releases.
pub(crate) fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain() -> PreprocessorConfig {
        PreprocessorConfig {
            stemmer: "none".into(),
            stop_words: "none".into(),
            min_token_length: 1,
            ..Default::default()
        }
    }

    fn toks(cfg: PreprocessorConfig, text: &str) -> Vec<String> {
        Preprocessor::new(cfg).unwrap().tokens(text)
    }

    #[test]
    fn shape_prefilter_never_changes_a_masked_line() {
        let lines: Vec<String> = include_str!("../../tests/fixtures/classify/train.jsonl")
            .lines()
            .chain(include_str!("../../tests/fixtures/classify/test.jsonl").lines())
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["text"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        let edges = [
            "req 123e4567-e89b-12d3-a456-426614174000 done",
            "at 2001:0db8:85a3:0000:0000:8a2e:0370:7334 now",
            "at fe80::1ff:fe23:4567:890a",
            "peer ::ffff:10.0.0.1 and ::1 and 1::2",
            "see https://example.com/a?b=1 now, mail ops@example.co.kr",
            "ptr 0xdeadbeef 0x1 0xg 0X7f id 3f2a9c 3f2a9 abcdef 123456 a1b2c3d4e5",
            "at 2024-01-02T03:04:05.123Z 2015/07/29 Jun 14 15:16:01 7:05:09",
            "from 10.251.73.220:50010 to 1.2.3 v1.2",
        ];
        let lines: Vec<String> = lines
            .into_iter()
            .chain(edges.iter().map(|e| e.to_string()))
            .collect();
        // Seeded random lines over the characters the shapes look at, plus a few non-ASCII ones.
        let alphabet: Vec<char> = "0123456789abcdefxX:.-/ _@~\\<>=,zZ0x::1٣".chars().collect();
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let random: Vec<String> = (0..6_000)
            .map(|_| {
                let len = (next() % 40) as usize;
                (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect()
            })
            .collect();
        let custom = PreprocessorConfig {
            // A custom placeholder holding hex letters and a digit (`<ab12cd>`) runs first.
            custom_masks: vec![MaskRule {
                pattern: "q+".into(),
                placeholder: "<ab12cd>".into(),
            }],
            ..Default::default()
        };
        let upper = PreprocessorConfig {
            lowercase: false,
            ..Default::default()
        };
        for cfg in [PreprocessorConfig::default(), custom, upper] {
            let p = Preprocessor::new(cfg).unwrap();
            for line in lines.iter().chain(&random) {
                for text in [line.clone(), format!("q{line}q"), line.to_uppercase()] {
                    assert_eq!(
                        p.masked_with(&text, true),
                        p.masked_with(&text, false),
                        "{text:?}"
                    );
                }
            }
        }
        // The shapes do skip work: a plain counter line runs no ts/ip/uuid/hex regex.
        let sh = LineFlags::scan(b"blk_-1608999687919862906 size 67108864 at 10:22").shapes;
        assert!(!sh.ip && !sh.uuid && !sh.hex && !sh.url && sh.ts);
    }

    #[test]
    fn equal_configs_share_one_compiled_form_and_others_do_not() {
        let custom = PreprocessorConfig {
            custom_masks: vec![MaskRule {
                pattern: r"ord-\d+".into(),
                placeholder: "<order>".into(),
            }],
            ..plain()
        };
        let a = Preprocessor::new(custom.clone()).unwrap();
        let b = Preprocessor::new(custom.clone()).unwrap();
        assert!(std::sync::Arc::ptr_eq(&a.compiled, &b.compiled));
        let other = Preprocessor::new(plain()).unwrap();
        assert!(!std::sync::Arc::ptr_eq(&a.compiled, &other.compiled));
        assert_eq!(a.tokens("ord-17 failed"), vec!["<order>", "failed"]);
        assert_eq!(
            other.tokens("ord-17 failed"),
            vec!["ord", "<num>", "failed"]
        );
        // A bad config is never cached as if it were good.
        let bad = PreprocessorConfig {
            masks: vec!["nope".into()],
            ..plain()
        };
        assert!(Preprocessor::new(bad.clone()).is_err());
        assert!(Preprocessor::new(bad).is_err());
    }

    #[test]
    fn masks_each_kind() {
        let cases = [
            ("see https://example.com/a?b=1 now", "see <url> now"),
            ("mail ops@example.co.kr today", "mail <email> today"),
            (
                "req 123e4567-e89b-12d3-a456-426614174000 done",
                "req <uuid> done",
            ),
            ("at 2024-01-02T03:04:05.123Z ok", "at <ts> ok"),
            ("at 2015-07-29 17:41:44,747 ok", "at <ts> ok"),
            ("at Jun 14 15:16:01 ok", "at <ts> ok"),
            ("from 10.251.73.220:50010 up", "from <ip> up"),
            ("from fe80::1ff:fe23:4567:890a up", "from <ip> up"),
            ("open /var/log/syslog.1 failed", "open <path> failed"),
            ("open C:\\temp\\x.txt failed", "open <path> failed"),
            ("ptr 0x7ffd1234 bad", "ptr <hex> bad"),
            ("id deadbeef42 bad", "id <hex> bad"),
            ("took 250 ms and 3.5 s", "took <num> ms and <num> s"),
            ("took 250ms", "took <num> ms"),
            ("id 3f2a9 x2 user123", "id 3f2a9 x2 user123"),
        ];
        for (text, want) in cases {
            assert_eq!(
                Preprocessor::new(plain()).unwrap().process(text),
                want,
                "{text}"
            );
        }
    }

    #[test]
    fn read_write_is_not_a_path_and_short_hex_words_stay() {
        assert_eq!(
            toks(plain(), "read/write face cafe"),
            ["read", "write", "face", "cafe"]
        );
    }

    #[test]
    fn keeps_identifiers_whole_and_optionally_splits_them() {
        let t = toks(
            plain(),
            "java.lang.NullPointerException ERR_CONNECTION_REFUSED kube-proxy error.code",
        );
        assert_eq!(
            t,
            [
                "java.lang.nullpointerexception",
                "err_connection_refused",
                "kube-proxy",
                "error.code"
            ]
        );
        let t = toks(
            PreprocessorConfig {
                split_identifiers: true,
                ..plain()
            },
            "kube-proxy",
        );
        assert_eq!(t, ["kube-proxy", "kube", "proxy"]);
    }

    #[test]
    fn combining_mark_after_a_space_is_not_glued_to_the_space() {
        // Found by tests/fuzz.rs: UAX #29 makes " \u{1e000}" one segment.
        let cfg = PreprocessorConfig {
            lowercase: false,
            mask: false,
            ..Default::default()
        };
        let t = toks(cfg, "10.0.0.1:8080 \u{1e000}");
        assert!(
            t.iter().all(|t| !t.chars().any(char::is_whitespace)),
            "{t:?}"
        );
        assert_eq!(
            t,
            ["10.0.0.1", "8080"],
            "a lone mark is one char: below min_token_length"
        );
    }

    #[test]
    fn korean_and_mixed_scripts() {
        let t = toks(
            PreprocessorConfig::default(),
            "데이터베이스 연결 실패: Connection timed out after 30s",
        );
        assert_eq!(t[..3], ["데이터베이스", "연결", "실패"]);
        assert!(t.contains(&"connect".to_string()));
        let t = toks(plain(), "接続エラー 😀 emoji");
        assert_eq!(t, ["接続エラー", "emoji"]);
    }

    #[test]
    fn stopwords_match_after_stemming_and_case() {
        let cfg = PreprocessorConfig {
            extra_stop_words: vec!["Retrying".into()],
            ..Default::default()
        };
        assert_eq!(toks(cfg.clone(), "The server is retrying"), ["server"]);
        let cfg = PreprocessorConfig {
            lowercase: false,
            ..cfg
        };
        assert_eq!(toks(cfg, "The Server retries"), ["Server"]);
    }

    #[test]
    fn negations_are_not_stopwords() {
        assert_eq!(
            toks(PreprocessorConfig::default(), "file not found"),
            ["file", "not", "found"]
        );
    }

    #[test]
    fn custom_masks_and_their_errors() {
        let rule = MaskRule {
            pattern: r"ord-[a-z]+".into(),
            placeholder: "<order>".into(),
        };
        let cfg = PreprocessorConfig {
            custom_masks: vec![rule],
            ..plain()
        };
        assert_eq!(
            toks(cfg, "order ord-abc failed"),
            ["order", "<order>", "failed"]
        );
        let bad = MaskRule {
            pattern: "(".into(),
            placeholder: "<x>".into(),
        };
        let err = Preprocessor::new(PreprocessorConfig {
            custom_masks: vec![bad],
            ..plain()
        })
        .unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidConfig {
                field: "custom_masks",
                ..
            }
        ));
        let bad = MaskRule {
            pattern: "x".into(),
            placeholder: "oops".into(),
        };
        assert!(
            Preprocessor::new(PreprocessorConfig {
                custom_masks: vec![bad],
                ..plain()
            })
            .is_err()
        );
    }

    #[test]
    fn bad_config_names_the_field() {
        for (cfg, field) in [
            (
                PreprocessorConfig {
                    stemmer: "klingon".into(),
                    ..Default::default()
                },
                "stemmer",
            ),
            (
                PreprocessorConfig {
                    stop_words: "french".into(),
                    ..Default::default()
                },
                "stop_words",
            ),
            (
                PreprocessorConfig {
                    masks: vec!["phone".into()],
                    ..Default::default()
                },
                "masks",
            ),
        ] {
            match Preprocessor::new(cfg).unwrap_err() {
                Error::InvalidConfig { field: f, .. } => assert_eq!(f, field),
                e => panic!("{e}"),
            }
        }
    }

    #[test]
    fn number_scanner_matches_regex() {
        let m = builtin_mask("num");
        let alphabet = ["1", "23", "-", ".", ",", "a", "_", " ", "초", "x9"];
        let mut samples =
            vec!["blk_-123 1.5,6 a-7 -8- 250ms 3f2a9 v1.2.3 1..2 1,,2 --3".to_string()];
        for x in alphabet {
            for y in alphabet {
                for z in alphabet {
                    samples.push(format!("{x}{y}{z}{x}1{y}"));
                }
            }
        }
        for s in &samples {
            assert_eq!(mask_numbers(s, "<num>"), replace_mask(&m, s), "{s:?}");
        }
    }

    #[test]
    fn ascii_segmentation_matches_uax29() {
        let mut samples: Vec<String> = vec![
            "a.b a:b a'b 1.2 1,2 1;2 a.1 1.a a_.b _a_ a__b ab: :ab a:: 1.2.3 v1.2 x.y.z. ..a a..b"
                .into(),
            "kube-proxy <num> <a b> a-<num> -a- a--b e.g. don't 10.0.0.1:80 k=v (x) [y] {z}".into(),
        ];
        // Every pair of ASCII classes, in short strings.
        let alphabet = [
            "a", "Z", "1", "_", ":", ".", "'", ",", ";", "-", " ", "<", ">", "/",
        ];
        for x in alphabet {
            for y in alphabet {
                for z in alphabet {
                    samples.push(format!("{x}{y}{z}a{x}1{y}{z}"));
                }
            }
        }
        let render = |v: Vec<Segment<'_>>| {
            v.into_iter()
                .map(|s| match s {
                    Segment::Word(w) => format!("W({w})"),
                    Segment::Placeholder(p) => format!("P({p})"),
                })
                .collect::<Vec<_>>()
        };
        for s in &samples {
            assert_eq!(render(segment_ascii(s)), render(segment(s)), "{s:?}");
        }
    }

    #[test]
    fn template_is_stable() {
        let p = Preprocessor::default();
        let a = p.template("PacketResponder 1 for block blk_38865049064139660 terminating");
        let b = p.template("PacketResponder  0 for block blk_-6952295868487656571 terminating");
        assert_eq!(a, b);
        assert_eq!(
            a.masked,
            "packetresponder <num> for block blk_<num> terminating"
        );
        assert_eq!(a.id, format!("{:016x}", fnv1a64(a.masked.as_bytes())));
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
    }

    #[test]
    fn degenerate_inputs_are_defined() {
        let p = Preprocessor::default();
        assert!(p.tokens("").is_empty());
        assert!(p.tokens(" \t\n ").is_empty());
        assert_eq!(p.tokens("a\0b error\0"), ["error"]);
        let long = "timeout error ".repeat(800_000);
        assert_eq!(p.tokens(&long).len(), 1_600_000);
    }
}
