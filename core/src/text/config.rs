//! Preprocessing options: masks, stemmer, stopwords, Korean handling (checked by compiling
//! them, in `compiled.rs`).

use serde::{Deserialize, Serialize};

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
