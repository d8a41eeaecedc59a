//! Preprocessing options: masks, stemmer, stopwords, Korean handling, and their checks.

use regex::RegexBuilder;
use rust_stemmers::{Algorithm, Stemmer};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

use super::masks::{Mask, MaskKind, any_line, any_shape, builtin_mask, is_placeholder};
use super::preprocessor::{Compiled, compiled_for, with_stem};

/// Built-in English stopwords: NLTK's list without the negations and state words (`not`, `no`,
/// `down`, `off`, `after`, `couldn't`, ...) that decide what an error message means.
const ENGLISH_STOPWORDS: &str = include_str!("../stopwords_en.txt");

/// Names of the built-in masks, in the order they are applied.
pub const BUILTIN_MASKS: [&str; 9] = [
    "url", "email", "uuid", "ts", "ip", "host", "path", "hex", "num",
];

/// A user-supplied masking rule: every match of `pattern` becomes `placeholder`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct MaskRule {
    /// A `regex` crate pattern (linear time; add `(?i)` for case-insensitive).
    pub pattern: String,
    /// The token that replaces a match: `<` + ASCII letters, digits or `_` + `>`, e.g. `<order_id>`.
    pub placeholder: String,
}

/// Preprocessing options. Every field has a default, so a config file may name only what it changes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    /// Checks every field; [`Preprocessor::new`](super::Preprocessor::new) calls it.
    pub fn validate(&self) -> Result<()> {
        compiled_for(self).map(|_| ())
    }

    pub(super) fn compile(&self) -> Result<Compiled> {
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
