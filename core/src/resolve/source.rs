//! Where the similarity stage looks for past errors: the own knowledge base or a caller's
//! [`TextIndex`].

use crate::classify::TextClassifier;
use crate::error::{Error, Result};
use crate::index::{Embedding, SearchOptions, TextHit, TextIndex};
use crate::vectorize::LineTokens;

use super::answer::SimilarError;
use super::knowledge::KnowledgeBase;

/// Where the similarity stage looks for past errors.
#[derive(Debug)]
pub(super) enum Knowledge {
    /// The resolver's own exact TF-IDF knowledge base (`add_knowledge`, `load_knowledge`).
    Base(Box<KnowledgeBase>),
    /// A [`TextIndex`] set by the caller; its payloads are the solutions.
    Index(Box<TextIndex>),
}

impl Knowledge {
    pub(super) fn len(&self) -> usize {
        match self {
            Knowledge::Base(kb) => kb.len(),
            Knowledge::Index(ix) => ix.len(),
        }
    }

    /// The `k` most similar past errors to `text` (or to `embedding`, for an index of
    /// caller-computed embeddings), best first, and the share of the text the similarities
    /// cover (1 for an index). Index items without a payload are skipped. The knowledge base
    /// also hands back the line's tokens (an index tokenises on its own: `None`).
    pub(super) fn search_whole(
        &self,
        text: &str,
        embedding: Option<&[f32]>,
        k: usize,
    ) -> Result<(Vec<SimilarError>, f64, Option<LineTokens>)> {
        let hits: Vec<TextHit> = match (self, embedding) {
            (Knowledge::Base(kb), None) => {
                let tokens = kb.vectorizer().line_tokens(text);
                let (hits, whole) = kb.search_whole_tokens(&tokens, k)?;
                return Ok((hits, whole, Some(tokens)));
            }
            (Knowledge::Base(_), Some(_)) => {
                return Err(Error::InvalidInput(
                    "an embedding was given but the knowledge base is TF-IDF over texts: \
                     call resolve (set_knowledge_index with external embeddings to use them)"
                        .into(),
                ));
            }
            (Knowledge::Index(ix), None) if is_external(ix) => {
                return Err(Error::InvalidInput(
                    "the knowledge index holds external embeddings: call resolve_embedded with \
                     the text's embedding"
                        .into(),
                ));
            }
            (Knowledge::Index(ix), Some(_)) if !is_external(ix) => {
                return Err(Error::InvalidInput(
                    "an embedding was given but the knowledge index embeds texts itself \
                     (TF-IDF): call resolve"
                        .into(),
                ));
            }
            (Knowledge::Index(ix), None) => ix.search(text, k, &SearchOptions::default())?,
            (Knowledge::Index(ix), Some(e)) if e.len() != ix.dim() => {
                return Err(Error::Dimension {
                    expected: ix.dim(),
                    got: e.len(),
                });
            }
            (Knowledge::Index(ix), Some(e)) => ix
                .search_embedded(e, k, &SearchOptions::default())?
                .pop()
                .unwrap_or_default(),
        };
        let hits = hits
            .into_iter()
            .filter_map(|h| {
                Some(SimilarError {
                    id: h.id,
                    error: h.text,
                    solution: h.payload?,
                    similarity: f64::from(h.score).min(1.0),
                })
            })
            .collect();
        Ok((hits, 1.0, None))
    }
}

impl Knowledge {
    /// The probability that the top solution of `hits` is right: the knowledge base's own
    /// confidence model; for a caller's index, the top score.
    pub(super) fn confidence(&self, hits: &[SimilarError], whole: f64) -> f64 {
        match self {
            Knowledge::Base(kb) => kb.confidence(hits, whole),
            Knowledge::Index(_) => hits.first().map_or(0.0, |h| h.similarity),
        }
    }

    /// Whether the tokens [`search_whole`](Self::search_whole) hands back are the classifier's
    /// too (the knowledge base and the classifier preprocess alike).
    pub(super) fn tokenises_like(&self, classifier: &TextClassifier) -> bool {
        match self {
            Knowledge::Base(kb) => classifier.tokenises_like(kb.vectorizer()),
            Knowledge::Index(_) => false,
        }
    }
}

pub(super) fn is_external(ix: &TextIndex) -> bool {
    matches!(ix.config().embedding, Embedding::External { .. })
}
