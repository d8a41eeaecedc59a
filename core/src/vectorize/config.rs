//! What a vectoriser is asked to do: n-gram range, document-frequency bounds, weighting and norm,
//! the preprocessor, and their limits. Plain data, saved in every model file.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::text::PreprocessorConfig;

/// A document-frequency bound as scikit-learn takes it: an absolute document count or a fraction
/// of the corpus. In JSON an integer (`2`) is a count and a float (`0.5`, `1.0`) a fraction;
/// `{"count": 2}` / `{"fraction": 1}` say it explicitly (useful from JavaScript, where `1.0 === 1`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DfBound {
    /// At least / at most this many documents.
    Count(usize),
    /// At least / at most this fraction of the documents, in `[0, 1]`.
    Fraction(f64),
}

impl DfBound {
    pub(super) fn resolve(self, n_docs: usize) -> f64 {
        match self {
            DfBound::Count(c) => c as f64,
            DfBound::Fraction(f) => f * n_docs as f64,
        }
    }

    pub(super) fn validate(self, field: &'static str) -> Result<()> {
        match self {
            DfBound::Fraction(f) if !(0.0..=1.0).contains(&f) => Err(Error::config(
                field,
                format!("fraction {f} is outside [0, 1]; use an integer for a document count"),
            )),
            _ => Ok(()),
        }
    }
}

impl Serialize for DfBound {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match *self {
            DfBound::Count(c) => s.serialize_u64(c as u64),
            // A whole-number fraction (the default 1.0) is written as {"fraction": 1.0}: many JSON
            // readers (JavaScript among them) turn 1.0 into 1, which would read back as a count.
            DfBound::Fraction(f) if f.fract() == 0.0 => {
                use serde::ser::SerializeMap;
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("fraction", &f)?;
                m.end()
            }
            DfBound::Fraction(f) => s.serialize_f64(f),
        }
    }
}

impl<'de> Deserialize<'de> for DfBound {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let v = serde_json::Value::deserialize(d)?;
        let bad = || {
            D::Error::custom(format!(
                "expected an integer count, a float fraction, {{\"count\": n}} or {{\"fraction\": x}}, got {v}"
            ))
        };
        match &v {
            serde_json::Value::Number(n) => match (n.as_u64(), n.as_f64()) {
                (Some(c), _) => Ok(DfBound::Count(c as usize)),
                (None, Some(f)) => Ok(DfBound::Fraction(f)),
                _ => Err(bad()),
            },
            serde_json::Value::Object(m) if m.len() == 1 => {
                if let Some(c) = m.get("count").and_then(|c| c.as_u64()) {
                    Ok(DfBound::Count(c as usize))
                } else if let Some(f) = m.get("fraction").and_then(|f| f.as_f64()) {
                    Ok(DfBound::Fraction(f))
                } else {
                    Err(bad())
                }
            }
            _ => Err(bad()),
        }
    }
}

// The schemas say what the hand-written `Deserialize` impls accept.
#[cfg(feature = "schema")]
impl schemars::JsonSchema for DfBound {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DfBound".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A document count (an integer, or {\"count\": n}) or a fraction of the documents in [0, 1] (a float, or {\"fraction\": x}).",
            "anyOf": [
                {"type": "integer", "minimum": 0},
                {"type": "number", "minimum": 0, "maximum": 1},
                {"type": "object", "properties": {"count": {"type": "integer", "minimum": 0}},
                 "required": ["count"], "additionalProperties": false},
                {"type": "object", "properties": {"fraction": {"type": "number", "minimum": 0, "maximum": 1}},
                 "required": ["fraction"], "additionalProperties": false}
            ]
        })
    }
}

/// Row normalisation. In config files `"l2"`, `"l1"`, `"none"`; JSON `null` also means none
/// (scikit-learn's `norm=None`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Norm {
    /// Each row has unit Euclidean length (default).
    #[default]
    L2,
    /// Each row's absolute values sum to one.
    L1,
    /// No normalisation.
    None,
}

impl<'de> Deserialize<'de> for Norm {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        match Option::<String>::deserialize(d)?.as_deref() {
            None | Some("none") => Ok(Norm::None),
            Some("l2") => Ok(Norm::L2),
            Some("l1") => Ok(Norm::L1),
            Some(other) => Err(D::Error::custom(format!(
                "unknown norm {other:?}; expected \"l2\", \"l1\", \"none\" or null"
            ))),
        }
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Norm {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Norm".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Row normalisation: \"l2\", \"l1\" or \"none\" (null also means none).",
            "enum": ["l2", "l1", "none", null]
        })
    }
}

/// TF-IDF options, named as in scikit-learn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields)]
pub struct TfidfConfig {
    /// Smallest and largest n of the word n-grams (default `(1, 1)`; 1 <= min <= max <= 8).
    pub ngram_range: (usize, usize),
    /// Ignore n-grams in fewer documents than this (default count 1).
    pub min_df: DfBound,
    /// Ignore n-grams in more documents than this (default fraction 1.0).
    pub max_df: DfBound,
    /// Keep only the most frequent n-grams across the corpus (ties: alphabetical order; at least
    /// 1, `None` = no limit).
    pub max_features: Option<usize>,
    /// Replace tf with `1 + ln(tf)`.
    pub sublinear_tf: bool,
    /// Row normalisation (default l2).
    pub norm: Norm,
    /// Weight by inverse document frequency (default on).
    pub use_idf: bool,
    /// Add one to document frequencies, as if a document held every term once (default on).
    pub smooth_idf: bool,
    /// How raw texts become tokens; `None` splits on whitespace and nothing else.
    pub preprocessor: Option<PreprocessorConfig>,
    /// Most distinct n-grams `fit` may count before pruning (default 10,000,000, about 0.5 GB of
    /// counts; at least 1, `None` = no limit). A corpus with more fails with an error naming this
    /// field instead of exhausting memory (typically ids or hashes the masks left in place).
    pub max_distinct_terms: Option<usize>,
}

impl Default for TfidfConfig {
    fn default() -> Self {
        Self {
            ngram_range: (1, 1),
            min_df: DfBound::Count(1),
            max_df: DfBound::Fraction(1.0),
            max_features: None,
            sublinear_tf: false,
            norm: Norm::L2,
            use_idf: true,
            smooth_idf: true,
            preprocessor: Some(PreprocessorConfig::default()),
            max_distinct_terms: Some(DEFAULT_MAX_DISTINCT_TERMS),
        }
    }
}

/// Default [`TfidfConfig::max_distinct_terms`].
pub const DEFAULT_MAX_DISTINCT_TERMS: usize = 10_000_000;

/// Longest n-gram supported; longer ones are never useful on log lines and cost memory.
pub const MAX_NGRAM: usize = 8;

impl TfidfConfig {
    /// Checks every field; [`TfidfVectorizer::new`](crate::TfidfVectorizer::new) calls it.
    pub fn validate(&self) -> Result<()> {
        self.validate_own()?;
        if let Some(p) = &self.preprocessor {
            p.validate()?;
        }
        Ok(())
    }

    /// [`validate`](Self::validate) without the preprocessor (whose check compiles its masks;
    /// `TfidfVectorizer::new` compiles them once, by building it).
    pub(super) fn validate_own(&self) -> Result<()> {
        let (lo, hi) = self.ngram_range;
        if lo == 0 || lo > hi || hi > MAX_NGRAM {
            return Err(Error::config(
                "ngram_range",
                format!("({lo}, {hi}) is invalid: need 1 <= min_n <= max_n <= {MAX_NGRAM}"),
            ));
        }
        self.min_df.validate("min_df")?;
        self.max_df.validate("max_df")?;
        let above = match (self.min_df, self.max_df) {
            (DfBound::Count(a), DfBound::Count(b)) => {
                (a > b).then(|| (a.to_string(), b.to_string()))
            }
            (DfBound::Fraction(a), DfBound::Fraction(b)) => {
                (a > b).then(|| (a.to_string(), b.to_string()))
            }
            _ => None, // a count against a fraction is only comparable at fit time
        };
        if let Some((a, b)) = above {
            return Err(Error::config(
                "min_df",
                format!("min_df ({a}) is above max_df ({b})"),
            ));
        }
        if self.max_features == Some(0) {
            return Err(Error::config(
                "max_features",
                "must be at least 1 (or unset for no limit)",
            ));
        }
        if self.max_distinct_terms == Some(0) {
            return Err(Error::config(
                "max_distinct_terms",
                "must be at least 1 (or null for no limit)",
            ));
        }
        Ok(())
    }
}
