//! The vectoriser's model file: its config and vocabulary; lookup maps are rebuilt on load.

use serde::{Deserialize, Serialize};

use super::config::TfidfConfig;
use super::vectorizer::TfidfVectorizer;
use super::vocab::{Vocab, VocabState};
use crate::models::Artifact;

#[derive(Serialize, Deserialize)]
pub(super) struct Persisted {
    pub(super) config: TfidfConfig,
    pub(super) vocab: Option<VocabState>,
}

impl Serialize for TfidfVectorizer {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        Persisted {
            config: self.config.clone(),
            vocab: self.vocab.as_ref().map(Vocab::state),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for TfidfVectorizer {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let p = Persisted::deserialize(d)?;
        let mut v = TfidfVectorizer::new(p.config).map_err(D::Error::custom)?;
        v.vocab = p
            .vocab
            .map(|state| Vocab::from_state(state, &v.config))
            .transpose()
            .map_err(D::Error::custom)?;
        Ok(v)
    }
}

impl Artifact for TfidfVectorizer {
    const KIND: &'static str = "tfidf_vectorizer";
}
