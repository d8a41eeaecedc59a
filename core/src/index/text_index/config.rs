//! Settings of a [`TextIndex`](super::TextIndex)(super::TextIndex): where its vectors come from, how hybrid
//! searches fuse, and the vector index's options.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::index::{IndexConfig, MAX_DIM, Metric};
use crate::vectorize::TfidfConfig;

/// Where a [`TextIndex`](super::TextIndex)'s vectors come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[allow(clippy::large_enum_variant)] // a config value, built once per index
pub enum Embedding {
    /// The faultlens pipeline: TF-IDF (fitted on the stored texts, refitted as they grow)
    /// projected to `dim` dense components.
    Tfidf {
        /// Vectoriser settings (default: the default preprocessor, unigrams).
        #[serde(default)]
        tfidf: TfidfConfig,
        /// Dense dimension after projection (default 512).
        #[serde(default = "default_text_dim")]
        dim: usize,
    },
    /// Vectors computed by the caller (sentence-transformers, an embedding endpoint) with `dim`
    /// components, passed to `add_embedded` / `search_embedded`.
    External {
        /// Number of components of every embedding.
        dim: usize,
    },
    /// Both: each text is stored with its TF-IDF vector (as `tfidf`) and the caller's embedding
    /// of `embedding_dim` components. Added by `add_hybrid`; searched by `search_hybrid` (the
    /// two scores fused, see [`Fusion`]), or by one side alone with `search` (text) or
    /// `search_embedded` (embedding).
    Hybrid {
        /// Vectoriser settings (default: the default preprocessor, unigrams).
        #[serde(default)]
        tfidf: TfidfConfig,
        /// Dense dimension of the projected TF-IDF vectors (default 512).
        #[serde(default = "default_text_dim")]
        dim: usize,
        /// Number of components of every caller embedding.
        embedding_dim: usize,
    },
}

/// How [`TextIndex::search_hybrid`](super::TextIndex::search_hybrid) combines the text (TF-IDF cosine) and embedding rankings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fusion {
    /// Reciprocal rank fusion (default, `k` = 60): an item's score is the sum over the two
    /// rankings of `1 / (k + rank)` (rank 1 is the best; an item missing from a ranking adds
    /// nothing). Needs no calibration between the two scores' scales.
    Rrf {
        /// The rank offset (default 60, as in Cormack et al. 2009); larger flattens the
        /// difference between top ranks.
        #[serde(default = "default_rrf_k")]
        k: f32,
    },
    /// `text_weight * text cosine + (1 - text_weight) * embedding cosine`, both scores computed
    /// exactly for every candidate either side found.
    Weighted {
        /// Weight of the text score, in `[0, 1]`.
        text_weight: f32,
    },
}

pub(super) fn default_rrf_k() -> f32 {
    60.0
}

impl Default for Fusion {
    fn default() -> Self {
        Fusion::Rrf { k: default_rrf_k() }
    }
}

impl Fusion {
    /// Checks the parameter; `search_hybrid` calls it.
    pub fn validate(&self) -> Result<()> {
        match *self {
            Fusion::Rrf { k } if !(k.is_finite() && k >= 0.0) => Err(Error::InvalidInput(format!(
                "fusion: rrf k = {k} is invalid: need a finite k >= 0"
            ))),
            Fusion::Weighted { text_weight: w } if !(0.0..=1.0).contains(&w) => {
                Err(Error::InvalidInput(format!(
                    "fusion: text_weight = {w} is invalid: need 0 <= text_weight <= 1"
                )))
            }
            _ => Ok(()),
        }
    }
}

pub(super) fn default_text_dim() -> usize {
    512
}

impl Default for Embedding {
    fn default() -> Self {
        Embedding::Tfidf {
            tfidf: TfidfConfig::default(),
            dim: default_text_dim(),
        }
    }
}

impl Embedding {
    pub(super) fn dim(&self) -> usize {
        match self {
            Embedding::Tfidf { dim, .. }
            | Embedding::External { dim }
            | Embedding::Hybrid { dim, .. } => *dim,
        }
    }

    pub(super) fn tfidf(&self) -> Option<&TfidfConfig> {
        match self {
            Embedding::Tfidf { tfidf, .. } | Embedding::Hybrid { tfidf, .. } => Some(tfidf),
            Embedding::External { .. } => None,
        }
    }
}

/// Settings of a [`TextIndex`](super::TextIndex).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields)]
pub struct TextIndexConfig {
    /// How texts become vectors.
    pub embedding: Embedding,
    /// The vector index; its `dim` may stay 0 (it is taken from `embedding`).
    pub index: IndexConfig,
}

impl TextIndexConfig {
    /// Checks every field; [`TextIndex::new`](super::TextIndex::new) calls it.
    pub fn validate(&self) -> Result<()> {
        let d = self.embedding.dim();
        if d == 0 || d > MAX_DIM {
            return Err(Error::config(
                "embedding.dim",
                format!("{d} is invalid: need 1 <= dim <= {MAX_DIM}"),
            ));
        }
        if self.index.dim != 0 && self.index.dim != d {
            return Err(Error::config(
                "index.dim",
                format!(
                    "{} differs from embedding.dim {d}; leave it 0",
                    self.index.dim
                ),
            ));
        }
        if let Embedding::Hybrid { embedding_dim, .. } = &self.embedding
            && (*embedding_dim == 0 || *embedding_dim > MAX_DIM)
        {
            return Err(Error::config(
                "embedding.embedding_dim",
                format!("{embedding_dim} is invalid: need 1 <= embedding_dim <= {MAX_DIM}"),
            ));
        }
        if let Some(tfidf) = self.embedding.tfidf() {
            tfidf.validate()?;
            if self.index.metric != Metric::Cosine {
                return Err(Error::config(
                    "index.metric",
                    "TF-IDF vectors are compared by cosine; other metrics need external embeddings",
                ));
            }
        }
        self.index_config().validate()
    }

    pub(super) fn index_config(&self) -> IndexConfig {
        IndexConfig {
            dim: self.embedding.dim(),
            ..self.index.clone()
        }
    }

    /// The caller embeddings' index of a hybrid text index (cosine, the other settings shared).
    pub(super) fn embedded_config(&self) -> Option<IndexConfig> {
        match &self.embedding {
            Embedding::Hybrid { embedding_dim, .. } => Some(IndexConfig {
                dim: *embedding_dim,
                metric: Metric::Cosine,
                ..self.index.clone()
            }),
            _ => None,
        }
    }
}
