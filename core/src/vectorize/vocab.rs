//! The fitted vocabulary: token ids, n-gram → feature lookup, idf, and what a vocabulary must
//! satisfy to be used or loaded.

use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use super::config::TfidfConfig;
use crate::error::{Error, Result};

/// Token id of tokens outside the vocabulary: never part of a feature.
pub(super) const UNKNOWN: u32 = u32::MAX;

/// The fitted vocabulary and weights.
#[derive(Clone, Debug)]
pub(super) struct Vocab {
    /// Token id → token.
    pub(super) tokens: Vec<String>,
    pub(super) token_ids: FxHashMap<String, u32>,
    /// Feature index → its n-gram as token ids (features sorted by name, as scikit-learn).
    pub(super) features: Vec<Box<[u32]>>,
    pub(super) feature_index: NgramIndex,
    pub(super) idf: Vec<f64>,
}

/// N-gram → feature lookup. N-grams of up to four tokens are packed into one `u128` key (each
/// id + 1 in 32 bits), which hashes several times faster than a slice; longer ones use slices.
#[derive(Clone, Debug)]
pub(super) enum NgramIndex {
    Packed(FxHashMap<u128, u32>),
    Slices(FxHashMap<Box<[u32]>, u32>),
}

pub(super) const PACKED_MAX_N: usize = 4;

#[inline]
pub(super) fn pack(g: &[u32]) -> u128 {
    g.iter()
        .fold(0u128, |acc, &t| (acc << 32) | (u128::from(t) + 1))
}

impl NgramIndex {
    pub(super) fn build(features: &[Box<[u32]>]) -> Self {
        if features.iter().all(|f| f.len() <= PACKED_MAX_N) {
            NgramIndex::Packed(
                features
                    .iter()
                    .enumerate()
                    .map(|(i, f)| (pack(f), i as u32))
                    .collect(),
            )
        } else {
            NgramIndex::Slices(
                features
                    .iter()
                    .enumerate()
                    .map(|(i, f)| (f.clone(), i as u32))
                    .collect(),
            )
        }
    }

    // Inlined by hint (with `pack`): called per n-gram from vectorizer.rs, which can land in
    // another codegen unit; without it the lookup became a call (+13% instructions in row_from_ids).
    #[inline]
    pub(super) fn get(&self, g: &[u32]) -> Option<u32> {
        match self {
            NgramIndex::Packed(m) => m.get(&pack(g)).copied(),
            NgramIndex::Slices(m) => m.get(g).copied(),
        }
    }
}

/// What is persisted of a fitted vocabulary; the lookup maps are rebuilt on load.
#[derive(Serialize, Deserialize)]
pub(super) struct VocabState {
    pub(super) tokens: Vec<String>,
    pub(super) features: Vec<Vec<u32>>,
    pub(super) idf: Vec<f64>,
}

impl Vocab {
    pub(super) fn new(tokens: Vec<String>, features: Vec<Box<[u32]>>, idf: Vec<f64>) -> Self {
        let token_ids = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
        let feature_index = NgramIndex::build(&features);
        Vocab {
            tokens,
            token_ids,
            features,
            feature_index,
            idf,
        }
    }

    /// The id of a token, or [`UNKNOWN`] when no feature uses it.
    pub(super) fn token_id(&self, token: &str) -> u32 {
        self.token_ids.get(token).copied().unwrap_or(UNKNOWN)
    }

    pub(super) fn feature_name(&self, f: &[u32]) -> String {
        f.iter()
            .map(|&t| self.tokens[t as usize].as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub(super) fn state(&self) -> VocabState {
        VocabState {
            tokens: self.tokens.clone(),
            features: self.features.iter().map(|f| f.to_vec()).collect(),
            idf: self.idf.clone(),
        }
    }

    pub(super) fn from_state(s: VocabState, config: &TfidfConfig) -> Result<Self> {
        let features: Vec<Box<[u32]>> = s.features.into_iter().map(Vec::into_boxed_slice).collect();
        Vocab::validate(&s.tokens, &features, &s.idf, config)?;
        Ok(Vocab::new(s.tokens, features, s.idf))
    }

    /// What a vocabulary made by `fit` always satisfies; `fit` and loading both check it, so a
    /// file from elsewhere cannot hold what `fit` could never produce (a duplicated feature or
    /// token, which the lookup maps would silently collapse; an idf that is negative or not
    /// finite, which would make NaN rows).
    pub(super) fn validate(
        tokens: &[String],
        features: &[Box<[u32]>],
        idf: &[f64],
        config: &TfidfConfig,
    ) -> Result<()> {
        let bad = |m: String| Error::Corrupt(format!("tfidf vocabulary: {m}"));
        if features.len() != idf.len() {
            return Err(bad(format!(
                "{} features but {} idf values",
                features.len(),
                idf.len()
            )));
        }
        if features.is_empty() {
            return Err(bad("no features".into()));
        }
        if let Some(max) = config.max_features
            && features.len() > max
        {
            return Err(bad(format!(
                "{} features, over max_features = {max}",
                features.len()
            )));
        }
        if tokens.len() >= UNKNOWN as usize {
            return Err(bad(format!("{} tokens do not fit u32 ids", tokens.len())));
        }
        let (lo, hi) = config.ngram_range;
        for f in features {
            if f.len() < lo || f.len() > hi || f.iter().any(|&t| t as usize >= tokens.len()) {
                return Err(bad(format!(
                    "feature {f:?} is not a {lo}..={hi}-gram of tokens in the table"
                )));
            }
        }
        if let Some((i, x)) = idf
            .iter()
            .enumerate()
            .find(|(_, x)| !(x.is_finite() && **x > 0.0))
        {
            return Err(bad(format!(
                "idf of feature {i} is {x} (must be finite and positive)"
            )));
        }
        let mut seen = FxHashSet::default();
        if let Some(t) = tokens.iter().find(|t| !seen.insert(t.as_str())) {
            return Err(bad(format!("token {t:?} is stored twice")));
        }
        let mut seen = FxHashSet::default();
        if let Some(f) = features.iter().find(|f| !seen.insert(&f[..])) {
            return Err(bad(format!("feature {f:?} is stored twice")));
        }
        Ok(())
    }
}
