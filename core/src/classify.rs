//! Classifiers: error text to remedy label with calibrated confidence.
//!
//! [`TextClassifier`] owns the whole pipeline (preprocessing and TF-IDF through its
//! [`TfidfVectorizer`](crate::TfidfVectorizer), then a linear model) and saves to one model file. Models:
//!
//! - `logistic`: multinomial (softmax) logistic regression with L2 penalty `C`, solved by L-BFGS
//!   directly over the sparse rows (cost per pass O(non-zeros x classes), never a dense matrix).
//! - `naive_bayes`: multinomial naive Bayes with smoothing `alpha`; supports [`TextClassifier::partial_fit`].
//! - `linear_svm`: one-vs-rest linear SVM (squared hinge, dual coordinate descent as in
//!   liblinear), its scores calibrated into probabilities on held-out folds (per-class Platt
//!   sigmoids or their multiclass form, one temperature, whichever fits the held-out margins better).
//! - `auto`: seeded stratified k-fold cross-validation of the three, keeping every score.
//!
//! Identical (row, label) training pairs are merged into one weighted sample before solving: log
//! data repeats itself (Loghub's Linux sample has 290 distinct texts in 2,000 lines), and a weighted
//! sample gives exactly the same optimum at a fraction of the cost.
//!
//! Evaluation lives here too ([`ClassificationReport`], [`evaluate`], [`compare`]), re-exported
//! at the crate root.
//!
//! ```
//! use faultlens::{ClassifierConfig, TextClassifier};
//! let texts = ["disk full on /var", "no space left on device /tmp", "connection refused 10.0.0.1",
//!              "connection reset by peer", "disk quota exceeded", "connection timed out"];
//! let labels = ["disk", "disk", "net", "net", "disk", "net"];
//! let mut clf = TextClassifier::new(ClassifierConfig::default())?;
//! clf.fit(&texts, &labels)?;
//! let p = clf.predict_one("connection refused by 10.1.1.1")?;
//! assert_eq!(p.label, "net");
//! # Ok::<(), faultlens::Error>(())
//! ```

mod calibrate;
mod classifier;
mod confidence;
mod config;
mod design;
mod evaluate;
mod linear;
mod metrics;
pub(crate) mod novelty;
mod persist;
mod predict;
mod prediction;
mod progress;
mod report;
mod solvers;
#[cfg(test)]
mod tests;

pub use classifier::{CandidateScore, TextClassifier, TrainingInfo};
pub use config::{ClassifierConfig, ModelKind, default_classifier_tfidf};
pub use evaluate::{Comparison, compare, evaluate, mcnemar_p_value};
pub use metrics::ClassifierMetrics;
pub use prediction::Prediction;
pub use progress::Progress;
pub use report::{ClassMetrics, ClassificationReport};
