//! What `resolve` answers and what feedback reports: the method, similar errors, labels,
//! resolutions and outcomes.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Which stage answered a resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// A rule's regex matched.
    ExactMatch,
    /// A similar past error's solution.
    SimilarityMatch,
    /// The classifier's prediction.
    MlPrediction,
    /// No stage produced an answer.
    NoMatch,
}

impl Method {
    /// All methods, in cascade order.
    pub const ALL: [Method; 4] = [
        Method::ExactMatch,
        Method::SimilarityMatch,
        Method::MlPrediction,
        Method::NoMatch,
    ];

    /// The name used in results, metrics labels and every binding.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::ExactMatch => "exact_match",
            Method::SimilarityMatch => "similarity_match",
            Method::MlPrediction => "ml_prediction",
            Method::NoMatch => "no_match",
        }
    }

    /// Parses [`as_str`](Self::as_str) names.
    pub fn parse(name: &str) -> Result<Self> {
        Method::ALL
            .into_iter()
            .find(|m| m.as_str() == name)
            .ok_or_else(|| {
                Error::InvalidInput(format!(
                    "unknown method {name:?}: expected exact_match, similarity_match, ml_prediction or no_match"
                ))
            })
    }

    pub(super) fn index(self) -> usize {
        self as usize
    }
}

/// One past error similar to the one being resolved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimilarError {
    /// Position of the pair in the knowledge base (insertion order).
    pub id: u64,
    /// The past error text.
    pub error: String,
    /// The solution recorded for it.
    pub solution: String,
    /// Cosine similarity to the text being resolved, in `[0, 1]`.
    pub similarity: f64,
}

/// One classifier label and its probability.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabelScore {
    /// The remedy label.
    pub label: String,
    /// Its probability.
    pub probability: f64,
}

/// The answer to one `resolve` call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resolution {
    /// The remedy, or `None` when no stage produced one.
    pub solution: Option<String>,
    /// The probability that the answer is right, in `[0, 1]` (rules: 1; 0 for `no_match`).
    pub confidence: f64,
    /// The stage that answered.
    pub method: Method,
    /// Whether the answer reached its stage's threshold. When false the resolver abstains:
    /// `solution` is only the best candidate.
    pub reliable: bool,
    /// 1 - the input's similarity to the nearest past error or training line (the smaller of
    /// the stages that ran; 0 when none could tell).
    pub novelty: f64,
    /// Not reliable and `novelty > novelty_threshold`: an error unlike anything known; route
    /// it to a person.
    pub novel: bool,
    /// The matching rule's name, for `exact_match`.
    pub rule: Option<String>,
    /// Similar past errors the similarity stage found (empty when it did not run).
    pub similar: Vec<SimilarError>,
    /// The classifier's top labels (empty when it did not run).
    pub predictions: Vec<LabelScore>,
    /// Time taken, in microseconds.
    pub elapsed_us: u64,
}

/// Feedback on one answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// The error text.
    pub text: String,
    /// The solution that was applied.
    pub solution: String,
    /// Whether it worked.
    pub success: bool,
    /// The method that had answered this text most recently (`no_match` when unknown).
    pub method: Method,
    /// The past error whose solution was the answer (similarity stage), by knowledge id.
    #[serde(default)]
    pub matched_id: Option<u64>,
    /// Its similarity to the text.
    #[serde(default)]
    pub similarity: Option<f64>,
    /// The rule that answered (`exact_match`); for `ml_prediction` the classifier's label is
    /// `solution`.
    #[serde(default)]
    pub rule: Option<String>,
    /// Seconds since the Unix epoch.
    pub timestamp: f64,
}
