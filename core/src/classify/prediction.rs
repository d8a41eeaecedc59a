//! [`Prediction`]: one answer of [`TextClassifier::predict_one`](super::TextClassifier::predict_one)
//! with its evidence.

use serde::{Deserialize, Serialize};

/// One prediction with its evidence, as returned by
/// [`TextClassifier::predict_one`](super::TextClassifier::predict_one).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The most probable label.
    pub label: String,
    /// The probability that `label` is right for this input, counting how far the input is from
    /// the training data (a line unlike any training line gets a low confidence even when the
    /// model's class probability is high).
    pub confidence: f64,
    /// `confidence >= threshold`.
    pub reliable: bool,
    /// 1 - the cosine of the whole text (n-grams the model never saw included) to the nearest
    /// training line: 0 for a copy of a training line, 1 for a line sharing nothing with them.
    pub novelty: f64,
    /// `novelty > novelty_threshold`: the input is unlike the training data; route it to a person.
    pub novel: bool,
    /// The next most probable labels with their probabilities (at most `top_k`).
    pub alternatives: Vec<(String, f64)>,
    /// The n-grams that pushed the decision most towards `label`, with their contribution
    /// (feature value x how much more the feature weighs for `label` than on average).
    pub explanation: Vec<(String, f64)>,
}
