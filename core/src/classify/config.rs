//! What a classifier is asked to do: the model kinds and the options of `fit` and `predict_one`,
//! with their limits. Plain data, saved in every model file.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::vectorize::TfidfConfig;

/// Which model a [`TextClassifier`](crate::TextClassifier) trains. In config files: `"logistic"`, `"naive_bayes"`,
/// `"linear_svm"`, `"auto"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// Multinomial logistic regression (softmax, L2, `c`).
    #[default]
    Logistic,
    /// Multinomial naive Bayes (`alpha`).
    NaiveBayes,
    /// One-vs-rest linear SVM with Platt-calibrated probabilities (`c`).
    LinearSvm,
    /// The best of the three by stratified k-fold cross-validation.
    Auto,
}

impl ModelKind {
    /// The name used in config files and model files.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Logistic => "logistic",
            ModelKind::NaiveBayes => "naive_bayes",
            ModelKind::LinearSvm => "linear_svm",
            ModelKind::Auto => "auto",
        }
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The candidates `auto` cross-validates, in tie-break order.
pub(super) const CANDIDATES: [ModelKind; 3] = [
    ModelKind::Logistic,
    ModelKind::LinearSvm,
    ModelKind::NaiveBayes,
];

/// The TF-IDF settings a classifier uses unless told otherwise: word 1- and 2-grams with
/// sublinear tf (chosen on the Loghub benchmark, see `docs/classify.md`).
pub fn default_classifier_tfidf() -> TfidfConfig {
    TfidfConfig {
        ngram_range: (1, 2),
        sublinear_tf: true,
        ..Default::default()
    }
}

/// Options of a [`TextClassifier`](crate::TextClassifier). Defaults were chosen by measurement on Loghub (see
/// `docs/classify.md`): scikit-learn's `C=1` under-fits classes with one or two examples, and
/// `alpha=1` flattens naive Bayes when there are hundreds of classes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields)]
pub struct ClassifierConfig {
    /// The model (default `logistic`).
    pub model: ModelKind,
    /// TF-IDF options, including the preprocessor (default: 1- and 2-grams, sublinear tf).
    pub tfidf: TfidfConfig,
    /// Inverse L2 strength for `logistic` and `linear_svm` (default 50; above 0, at most 1e9).
    pub c: f64,
    /// Additive smoothing for `naive_bayes` (default 0.01; above 0, at most 1e9).
    pub alpha: f64,
    /// Solver iteration cap (L-BFGS iterations; SVM passes over the data). Default 300, at least 1.
    pub max_iter: usize,
    /// Solver tolerance (largest gradient entry for L-BFGS, projected-gradient gap for the SVM;
    /// default 1e-4, above 0).
    pub tol: f64,
    /// Folds for `auto` model selection (default 5, at least 2).
    pub cv_folds: usize,
    /// Held-out folds used to fit the SVM's Platt scaling (default 3, at least 2).
    pub calibration_folds: usize,
    /// Share of the training data held out once to record the confidence distribution on unseen
    /// data (the drift baseline) for `logistic` and `naive_bayes`; 0 skips it. Default 0.2, in [0,
    /// 0.5). (`auto` and `linear_svm` get that distribution from their folds at no extra cost.)
    pub holdout: f64,
    /// Seed for fold assignment and the SVM's sample order (default 0).
    pub seed: u64,
    /// `predict_one` calls a prediction reliable when its confidence reaches this (default 0.7, in
    /// [0, 1]).
    pub threshold: f64,
    /// Alternatives returned by `predict_one` (default 3).
    pub top_k: usize,
    /// N-grams returned in `predict_one`'s explanation (default 5).
    pub explain_top: usize,
    /// Share of inputs assumed to come from templates the training data never showed, when
    /// fitting the confidence model (default 0.2, in (0, 1); see `docs/classify.md`). Higher makes
    /// confidence more cautious away from the training data.
    pub novelty_prior: f64,
    /// `predict_one` calls an input novel when its novelty (1 - cosine of the whole text to the
    /// nearest training line) exceeds this (default 0.5, in [0, 1]).
    pub novelty_threshold: f64,
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        Self {
            model: ModelKind::Logistic,
            tfidf: default_classifier_tfidf(),
            c: 50.0,
            alpha: 0.01,
            max_iter: 300,
            tol: 1e-4,
            cv_folds: 5,
            calibration_folds: 3,
            holdout: 0.2,
            seed: 0,
            threshold: 0.7,
            top_k: 3,
            explain_top: 5,
            novelty_prior: 0.2,
            novelty_threshold: 0.5,
        }
    }
}

impl ClassifierConfig {
    /// Checks every field; [`TextClassifier::new`](crate::TextClassifier::new) calls it.
    pub fn validate(&self) -> Result<()> {
        self.tfidf.validate()?;
        self.validate_own()
    }

    /// The fields besides `tfidf` (whose check compiles the preprocessor's masks, which
    /// `TfidfVectorizer::new` does anyway).
    pub(super) fn validate_own(&self) -> Result<()> {
        let positive = |field: &'static str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(Error::config(
                    field,
                    format!("{v} must be a finite number above 0"),
                ))
            }
        };
        positive("c", self.c)?;
        positive("alpha", self.alpha)?;
        // Far above any useful value; beyond it the fit's sums overflow (alpha = 1e308 gave NaN
        // probabilities and a file that does not load).
        for (field, v) in [("c", self.c), ("alpha", self.alpha)] {
            if v > 1e9 {
                return Err(Error::config(field, format!("{v} is above the limit 1e9")));
            }
        }
        positive("tol", self.tol)?;
        if self.max_iter == 0 {
            return Err(Error::config("max_iter", "must be at least 1"));
        }
        if self.cv_folds < 2 {
            return Err(Error::config("cv_folds", "must be at least 2"));
        }
        if self.calibration_folds < 2 {
            return Err(Error::config("calibration_folds", "must be at least 2"));
        }
        if !(self.holdout.is_finite() && (0.0..0.5).contains(&self.holdout)) {
            return Err(Error::config(
                "holdout",
                format!("{} must be in [0, 0.5)", self.holdout),
            ));
        }
        if !(self.threshold.is_finite() && (0.0..=1.0).contains(&self.threshold)) {
            return Err(Error::config(
                "threshold",
                format!("{} must be in [0, 1]", self.threshold),
            ));
        }
        if !(self.novelty_prior.is_finite() && self.novelty_prior > 0.0 && self.novelty_prior < 1.0)
        {
            return Err(Error::config(
                "novelty_prior",
                format!("{} must be in (0, 1)", self.novelty_prior),
            ));
        }
        if !(self.novelty_threshold.is_finite() && (0.0..=1.0).contains(&self.novelty_threshold)) {
            return Err(Error::config(
                "novelty_threshold",
                format!("{} must be in [0, 1]", self.novelty_threshold),
            ));
        }
        Ok(())
    }
}
