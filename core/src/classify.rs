//! Classifiers: error text to remedy label with calibrated confidence.
//!
//! [`TextClassifier`] owns the whole pipeline (preprocessing and TF-IDF through its
//! [`TfidfVectorizer`], then a linear model) and saves to one model file. Models:
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
//! Evaluation lives here too ([`ClassificationReport`], [`evaluate`], [`compare`]) and is
//! re-exported from [`crate::models`].
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

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::models::Artifact;

pub(crate) mod novelty;
use crate::parallel;
use crate::text::Preprocessor;
use crate::vectorize::{CsrMatrix, TfidfConfig, TfidfVectorizer};
use novelty::{Calibrator, Observation, Reference, support_features};

const WHAT: &str = "TextClassifier";

/// Which model a [`TextClassifier`] trains. In config files: `"logistic"`, `"naive_bayes"`,
/// `"linear_svm"`, `"auto"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
const CANDIDATES: [ModelKind; 3] = [
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

/// Options of a [`TextClassifier`]. Defaults were chosen by measurement on Loghub (see
/// `docs/classify.md`): scikit-learn's `C=1` under-fits classes with one or two examples, and
/// `alpha=1` flattens naive Bayes when there are hundreds of classes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClassifierConfig {
    /// The model (default `logistic`).
    pub model: ModelKind,
    /// TF-IDF options, including the preprocessor (default: 1- and 2-grams, sublinear tf).
    pub tfidf: TfidfConfig,
    /// Inverse L2 strength for `logistic` and `linear_svm` (default 20).
    pub c: f64,
    /// Additive smoothing for `naive_bayes` (default 0.01).
    pub alpha: f64,
    /// Solver iteration cap (L-BFGS iterations; SVM passes over the data). Default 300.
    pub max_iter: usize,
    /// Solver tolerance (largest gradient entry for L-BFGS, projected-gradient gap for the SVM).
    pub tol: f64,
    /// Folds for `auto` model selection (default 5).
    pub cv_folds: usize,
    /// Held-out folds used to fit the SVM's Platt scaling (default 3).
    pub calibration_folds: usize,
    /// Share of the training data held out once to record the confidence distribution on unseen
    /// data (the drift baseline) for `logistic` and `naive_bayes`; 0 skips it. Default 0.2.
    /// (`auto` and `linear_svm` get that distribution from their folds at no extra cost.)
    pub holdout: f64,
    /// Seed for fold assignment and the SVM's sample order (default 0).
    pub seed: u64,
    /// `predict_one` calls a prediction reliable when its confidence reaches this (default 0.7).
    pub threshold: f64,
    /// Alternatives returned by `predict_one` (default 3).
    pub top_k: usize,
    /// N-grams returned in `predict_one`'s explanation (default 5).
    pub explain_top: usize,
    /// Share of inputs assumed to come from templates the training data never showed, when
    /// fitting the confidence model (default 0.2; see `docs/classify.md`). Higher makes
    /// confidence more cautious away from the training data.
    pub novelty_prior: f64,
    /// `predict_one` calls an input novel when its novelty (1 - cosine of the whole text to the
    /// nearest training line) exceeds this (default 0.5).
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
    /// Checks every field; [`TextClassifier::new`] calls it.
    pub fn validate(&self) -> Result<()> {
        self.tfidf.validate()?;
        self.validate_own()
    }

    /// The fields besides `tfidf` (whose check compiles the preprocessor's masks, which
    /// `TfidfVectorizer::new` does anyway).
    fn validate_own(&self) -> Result<()> {
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

/// One prediction with its evidence, as returned by [`TextClassifier::predict_one`].
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

/// Cross-validation result of one candidate model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CandidateScore {
    /// The candidate.
    pub model: ModelKind,
    /// Out-of-fold accuracy over all training samples.
    pub accuracy: f64,
    /// Out-of-fold macro-averaged F1.
    pub macro_f1: f64,
    /// Accuracy per fold.
    pub fold_accuracy: Vec<f64>,
}

/// What is known about how a classifier was trained; saved with it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingInfo {
    /// The model that was trained (never `auto`).
    pub model: ModelKind,
    /// Seconds since the Unix epoch when training finished.
    pub trained_at: u64,
    /// Wall-clock seconds `fit` took.
    pub fit_seconds: f64,
    /// Training samples (all `fit` and `partial_fit` calls).
    pub n_samples: usize,
    /// Distinct (TF-IDF row, label) pairs among them in the last `fit`.
    pub n_distinct: usize,
    /// TF-IDF features.
    pub n_features: usize,
    /// Solver iterations of the final model (0 for naive Bayes).
    pub iterations: usize,
    /// Whether the solver met `tol` before `max_iter`.
    pub converged: bool,
    /// Per-candidate cross-validation scores (`auto` only).
    pub cv_scores: Vec<CandidateScore>,
    /// Top-class probabilities on data the model (or its fold copy) did not train on.
    pub baseline_confidences: Vec<f64>,
    /// The options `fit` ran with.
    pub options: ClassifierConfig,
}

/// How scores become probabilities.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Link {
    /// Softmax of the linear scores (logistic regression; naive Bayes joint log-likelihoods).
    Softmax,
    /// Per-class sigmoid `1 / (1 + exp(a s + b))`, then normalised to sum to one.
    Platt { a: Vec<f64>, b: Vec<f64> },
    /// Softmax of the scores divided by `t`: Platt scaling's multiclass form (one shared slope,
    /// "temperature scaling"), better calibrated than normalised one-vs-rest sigmoids when many
    /// classes each hold a little probability.
    Temperature { t: f64 },
}

/// A linear scorer: `score[k] = intercept[k] + sum_f x_f w(f, k)`.
///
/// Two layouts. Dense: `coef[f * n_classes + k]` (feature-major so one non-zero touches one
/// contiguous run); naive Bayes, the SVM and logistic models from older files use it. Sparse
/// ([`Support`]): logistic regression fitted since the support layout, one free weight per
/// (feature, class) pair seen together in training and one shared weight per feature for every
/// other class; memory and per-row cost then follow the data's non-zeros, not features x classes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Linear {
    n_features: usize,
    n_classes: usize,
    /// Dense weights; empty when `support` holds them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    coef: Vec<f64>,
    intercept: Vec<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    support: Option<Support>,
}

/// Sparse weights: for feature `f`, classes `classes[indptr[f]..indptr[f + 1]]` (ascending) have
/// their own weights `weight[..]`; every other class has `rest[f]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Support {
    indptr: Vec<usize>,
    classes: Vec<u32>,
    weight: Vec<f64>,
    rest: Vec<f64>,
}

impl Support {
    fn range(&self, f: usize) -> std::ops::Range<usize> {
        self.indptr[f]..self.indptr[f + 1]
    }

    fn is_valid(&self, nf: usize, k: usize) -> bool {
        self.indptr.len() == nf + 1
            && self.indptr[0] == 0
            && self.indptr.windows(2).all(|w| w[0] <= w[1])
            && self.indptr[nf] == self.classes.len()
            && self.weight.len() == self.classes.len()
            && self.rest.len() == nf
            && (0..nf).all(|f| {
                let c = &self.classes[self.range(f)];
                c.windows(2).all(|w| w[0] < w[1]) && c.last().is_none_or(|&l| (l as usize) < k)
            })
            && self.weight.iter().chain(&self.rest).all(|v| v.is_finite())
    }
}

impl Linear {
    fn zeros(n_features: usize, n_classes: usize) -> Self {
        Linear {
            n_features,
            n_classes,
            coef: vec![0.0; n_features * n_classes],
            intercept: vec![0.0; n_classes],
            support: None,
        }
    }

    fn scores_into(&self, idx: &[u32], val: &[f64], out: &mut [f64]) {
        let k = self.n_classes;
        out.copy_from_slice(&self.intercept);
        if let Some(sp) = &self.support {
            let mut base = 0.0;
            for (&f, &x) in idx.iter().zip(val) {
                let f = f as usize;
                if f >= self.n_features {
                    continue;
                }
                let r = sp.rest[f];
                base += x * r;
                let range = sp.range(f);
                for (&c, &w) in sp.classes[range.clone()].iter().zip(&sp.weight[range]) {
                    out[c as usize] += x * (w - r);
                }
            }
            if base != 0.0 {
                out.iter_mut().for_each(|o| *o += base);
            }
            return;
        }
        for (&f, &x) in idx.iter().zip(val) {
            let f = f as usize;
            if f >= self.n_features {
                continue;
            }
            let w = &self.coef[f * k..(f + 1) * k];
            for (o, &wi) in out.iter_mut().zip(w) {
                *o += x * wi;
            }
        }
    }

    /// `w(f, c)`.
    fn weight(&self, f: usize, c: usize) -> f64 {
        match &self.support {
            Some(sp) => {
                let range = sp.range(f);
                match sp.classes[range.clone()].binary_search(&(c as u32)) {
                    Ok(j) => sp.weight[range.start + j],
                    Err(_) => sp.rest[f],
                }
            }
            None => self.coef[f * self.n_classes + c],
        }
    }

    /// Mean weight of each feature over the classes (the explanation's reference point).
    fn feature_means(&self) -> Vec<f64> {
        let k = self.n_classes.max(1);
        match &self.support {
            Some(sp) => (0..self.n_features)
                .map(|f| {
                    let range = sp.range(f);
                    let own: f64 = sp.weight[range.clone()].iter().sum();
                    (own + (k - range.len()) as f64 * sp.rest[f]) / k as f64
                })
                .collect(),
            None => self
                .coef
                .chunks(k)
                .map(|r| r.iter().sum::<f64>() / k as f64)
                .collect(),
        }
    }

    fn is_valid(&self, nf: usize, k: usize) -> bool {
        let shape = self.n_features == nf && self.n_classes == k && self.intercept.len() == k;
        let weights = match &self.support {
            Some(sp) => self.coef.is_empty() && sp.is_valid(nf, k),
            None => self.coef.len() == nf * k,
        };
        shape
            && weights
            && self
                .coef
                .iter()
                .chain(&self.intercept)
                .all(|v| v.is_finite())
    }
}

/// Naive Bayes sufficient statistics (kept so `partial_fit` can add to them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct NbCounts {
    /// Class-major: `feature_count[k * n_features + f]`.
    feature_count: Vec<f64>,
    class_count: Vec<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Fitted {
    model: ModelKind,
    classes: Vec<String>,
    linear: Linear,
    link: Link,
    nb: Option<NbCounts>,
    info: TrainingInfo,
    /// Absent in files from before confidence accounted for novelty: their confidence is the
    /// class probability, and novelty is reported as 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    novelty: Option<Novelty>,
}

/// The training rows and the confidence model fitted on held-out lines (see `novelty.rs`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Novelty {
    reference: Reference,
    /// `None` when no line was held out (`holdout = 0` with `logistic` or `naive_bayes`): the
    /// confidence is then the class probability.
    calibrator: Option<Calibrator>,
    /// Below this support the confidence falls in proportion to it (see `support_floor`); 0 in
    /// files from before it.
    #[serde(default)]
    support_floor: f64,
}

/// Derived, never saved: feature names and per-feature mean weight (for explanations), and for
/// support-layout models with a softmax link `exp(intercept / t - max)` (see `proba_into`).
#[derive(Clone, Debug, Default)]
struct Derived {
    names: Arc<Vec<String>>,
    coef_mean: Arc<Vec<f64>>,
    exp_intercept: Option<Arc<(Vec<f64>, f64)>>,
}

/// Optional progress callback: `(stage, done, total)`. Stages: `vectorize`, `cv`, `train`,
/// `calibrate`, `holdout`.
pub type Progress<'a> = &'a mut dyn FnMut(&str, usize, usize);

struct Reporter<'a>(Option<Progress<'a>>);

impl Reporter<'_> {
    fn report(&mut self, stage: &str, done: usize, total: usize) {
        if let Some(f) = self.0.as_mut() {
            f(stage, done, total);
        }
    }
}

/// Error text → remedy label, with calibrated confidence, explanations and one model file.
///
/// `Send + Sync + Clone`: share one fitted classifier between threads behind an `Arc`, and call
/// [`predict_one`](Self::predict_one) through `&self`.
#[derive(Clone, Debug)]
pub struct TextClassifier {
    config: ClassifierConfig,
    vectorizer: TfidfVectorizer,
    fitted: Option<Fitted>,
    derived: Derived,
}

impl PartialEq for TextClassifier {
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config
            && self.vectorizer == other.vectorizer
            && self.fitted == other.fitted
    }
}

/// Training data after vectorising: rows, class ids, and a group id per sample (equal groups =
/// identical row and label).
struct Design {
    x: CsrMatrix,
    y: Vec<usize>,
    group: Vec<usize>,
    n_groups: usize,
    n_classes: usize,
}

/// A weighted, de-duplicated training set.
struct Train {
    x: CsrMatrix,
    y: Vec<usize>,
    w: Vec<f64>,
    n_classes: usize,
}

impl Design {
    fn new(x: CsrMatrix, y: Vec<usize>, n_classes: usize) -> Self {
        let mut map: FxHashMap<(usize, &[u32], Vec<u64>), usize> = FxHashMap::default();
        let mut group = Vec::with_capacity(y.len());
        for (i, &label) in y.iter().enumerate() {
            let (idx, val) = x.row(i);
            let bits: Vec<u64> = val.iter().map(|v| v.to_bits()).collect();
            let next = map.len();
            group.push(*map.entry((label, idx, bits)).or_insert(next));
        }
        let n_groups = map.len();
        drop(map);
        Design {
            x,
            y,
            group,
            n_groups,
            n_classes,
        }
    }

    /// The samples `idx` as a weighted set of distinct rows; also maps every sample to its row.
    fn subset(&self, idx: &[usize]) -> (Train, Vec<usize>) {
        let mut slot = vec![usize::MAX; self.n_groups];
        let mut reps = Vec::new();
        let mut w = Vec::new();
        let mut of_sample = Vec::with_capacity(idx.len());
        for &i in idx {
            let g = self.group[i];
            if slot[g] == usize::MAX {
                slot[g] = reps.len();
                reps.push(i);
                w.push(0.0);
            }
            w[slot[g]] += 1.0;
            of_sample.push(slot[g]);
        }
        let mut m = CsrMatrix {
            indptr: vec![0],
            indices: Vec::new(),
            data: Vec::new(),
            n_rows: reps.len(),
            n_cols: self.x.n_cols,
        };
        for &i in &reps {
            let (ix, v) = self.x.row(i);
            m.indices.extend_from_slice(ix);
            m.data.extend_from_slice(v);
            m.indptr.push(m.indices.len());
        }
        let y = reps.iter().map(|&i| self.y[i]).collect();
        (
            Train {
                x: m,
                y,
                w,
                n_classes: self.n_classes,
            },
            of_sample,
        )
    }

    fn all(&self) -> Vec<usize> {
        (0..self.y.len()).collect()
    }

    /// Seeded stratified folds: each class's samples are shuffled and dealt round-robin, starting
    /// where the previous class stopped, so folds differ in size by at most one.
    fn folds(&self, k: usize, seed: u64) -> Vec<Vec<usize>> {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut by_class = vec![Vec::new(); self.n_classes];
        for (i, &c) in self.y.iter().enumerate() {
            by_class[c].push(i);
        }
        let mut folds = vec![Vec::new(); k];
        let mut next = 0;
        for members in &mut by_class {
            members.shuffle(&mut rng);
            for &i in members.iter() {
                folds[next % k].push(i);
                next += 1;
            }
        }
        for f in &mut folds {
            f.sort_unstable();
        }
        folds
    }
}

fn complement(n: usize, fold: &[usize]) -> Vec<usize> {
    let mut out_of = vec![false; n];
    for &i in fold {
        out_of[i] = true;
    }
    (0..n).filter(|&i| !out_of[i]).collect()
}

fn softmax_in_place(s: &mut [f64]) {
    let m = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut z = 0.0;
    for v in s.iter_mut() {
        *v = (*v - m).exp();
        z += *v;
    }
    for v in s.iter_mut() {
        *v /= z;
    }
}

fn sigmoid_platt(a: f64, b: f64, s: f64) -> f64 {
    let t = a * s + b;
    // 1 / (1 + exp(t)), written to avoid overflow on either side.
    if t >= 0.0 {
        let e = (-t).exp();
        e / (1.0 + e)
    } else {
        1.0 / (1.0 + t.exp())
    }
}

fn apply_link(link: &Link, s: &mut [f64]) {
    match link {
        Link::Softmax => softmax_in_place(s),
        Link::Temperature { t } => {
            s.iter_mut().for_each(|v| *v /= *t);
            softmax_in_place(s)
        }
        Link::Platt { a, b } => {
            let mut z = 0.0;
            for (k, v) in s.iter_mut().enumerate() {
                *v = sigmoid_platt(a[k], b[k], *v);
                z += *v;
            }
            if z > 0.0 {
                s.iter_mut().for_each(|v| *v /= z);
            } else {
                let u = 1.0 / s.len() as f64;
                s.iter_mut().for_each(|v| *v = u);
            }
        }
    }
}

fn argmax(s: &[f64]) -> usize {
    let mut best = 0;
    for (k, &v) in s.iter().enumerate() {
        if v > s[best] {
            best = k;
        }
    }
    best
}

// ---------------------------------------------------------------------------------------------
// Solvers
// ---------------------------------------------------------------------------------------------

struct Solved {
    linear: Linear,
    iterations: usize,
    converged: bool,
}

/// Multinomial logistic regression by L-BFGS over the sparse rows, in the support layout.
///
/// Minimises `(1/W) sum_i w_i CE_i + ||w||^2 / (2 C W)` (scikit-learn's objective divided by
/// the total weight `W`, which moves no optimum but keeps `tol` independent of the sample count)
/// over weights where each feature has its own weight only for the classes it was seen with in
/// training and one shared weight for all other classes (its L2 term counts that weight once per
/// class it stands for, so the penalty is that of the equivalent dense matrix). The shared weight
/// keeps the dense model's "this n-gram argues against every class it never came with", and
/// softmax cannot tell a per-feature shift apart, so what is lost is only how strongly a feature
/// argues against one unseen class rather than another.
///
/// Why: dense weights cost features x classes (50k x 706 doubles = 282 MB, times the ~20 vectors
/// L-BFGS keeps = 5.6 GB) and every pass O(non-zeros x classes); here the parameters number
/// about the (feature, class) pairs of the data, and a row's softmax only visits the classes its
/// features were seen with (the others share `intercept + base`, summed once per pass).
fn fit_logistic(t: &Train, c: f64, max_iter: usize, tol: f64, rep: &mut Reporter) -> Solved {
    let nf = t.x.n_cols;
    let k = t.n_classes;
    // Support: the (feature, class) pairs of the training rows, feature-major.
    let mut pairs: Vec<u64> = Vec::with_capacity(t.x.indices.len());
    for i in 0..t.x.n_rows {
        let y = t.y[i] as u64;
        pairs.extend(t.x.row(i).0.iter().map(|&f| ((f as u64) << 32) | y));
    }
    pairs.sort_unstable();
    pairs.dedup();
    let mut indptr = vec![0usize; nf + 1];
    let classes: Vec<u32> = pairs
        .iter()
        .map(|&p| {
            indptr[(p >> 32) as usize + 1] += 1;
            p as u32
        })
        .collect();
    drop(pairs);
    for f in 0..nf {
        indptr[f + 1] += indptr[f];
    }
    let n_sup = classes.len();
    // Each shared weight stands for this many classes in the penalty.
    let multiplicity: Vec<f64> = (0..nf)
        .map(|f| (k - (indptr[f + 1] - indptr[f])) as f64)
        .collect();
    let w_total: f64 = t.w.iter().sum();
    let lambda = 1.0 / (c * w_total);
    let rows: Vec<usize> = (0..t.x.n_rows).collect();
    // Fixed blocks summed in order: the same result with or without threads, on any machine.
    const CHUNK: usize = 512;

    // Loss and gradient of a block of rows into `grad` (same layout as theta); returns the loss
    // and the total `alpha` (weight of the untouched classes' exp(intercept) in the gradient).
    let block =
        |theta: &[f64], eb: &[f64], e_total: f64, bmax: f64, rows: &[usize], grad: &mut [f64]| {
            let (u, rest) = theta.split_at(n_sup);
            let (cf, b) = rest.split_at(nf);
            let (gu, grest) = grad.split_at_mut(n_sup);
            let (gc, gb) = grest.split_at_mut(nf);
            let mut s = vec![0.0; k];
            let mut mark = vec![false; k];
            let mut touched: Vec<usize> = Vec::new();
            let (mut loss, mut alpha_sum) = (0.0, 0.0);
            for &i in rows {
                let (idx, val) = t.x.row(i);
                // Scores relative to `base` (the shared weights' sum, common to every class).
                for (&f, &x) in idx.iter().zip(val) {
                    let f = f as usize;
                    let cfv = cf[f];
                    for j in indptr[f]..indptr[f + 1] {
                        let cls = classes[j] as usize;
                        if !mark[cls] {
                            mark[cls] = true;
                            touched.push(cls);
                            s[cls] = 0.0;
                        }
                        s[cls] += x * (u[j] - cfv);
                    }
                }
                let m = touched.iter().fold(bmax, |m, &q| m.max(b[q] + s[q]));
                let scale = (bmax - m).exp();
                let (mut z, mut eb_touched) = (0.0, 0.0);
                for &q in &touched {
                    let e = (b[q] + s[q] - m).exp();
                    s[q] = e;
                    z += e;
                    eb_touched += eb[q];
                }
                z += (e_total - eb_touched).max(0.0) * scale;
                let wi = t.w[i] / w_total;
                let yi = t.y[i];
                let num_y = if mark[yi] { s[yi] } else { eb[yi] * scale };
                loss += wi * (z.ln() - num_y.max(f64::MIN_POSITIVE).ln());
                // Untouched class q: residual alpha * eb[q]; collected for all q after the pass and
                // corrected here for the touched ones.
                let alpha = wi * scale / z;
                alpha_sum += alpha;
                for &q in &touched {
                    let r = wi * s[q] / z - if q == yi { wi } else { 0.0 };
                    s[q] = r;
                    gb[q] += r - alpha * eb[q];
                }
                if !mark[yi] {
                    gb[yi] -= wi;
                }
                for (&f, &x) in idx.iter().zip(val) {
                    let f = f as usize;
                    let mut sum_r = 0.0;
                    for j in indptr[f]..indptr[f + 1] {
                        let r = s[classes[j] as usize];
                        gu[j] += x * r;
                        sum_r += r;
                    }
                    // Residuals sum to zero over all classes, so the untouched ones sum to -sum_r.
                    gc[f] -= x * sum_r;
                }
                for q in touched.drain(..) {
                    mark[q] = false;
                }
            }
            (loss, alpha_sum)
        };
    let eval = |theta: &[f64], grad: &mut [f64]| -> f64 {
        let b = &theta[n_sup + nf..];
        let bmax = b.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let eb: Vec<f64> = b.iter().map(|v| (v - bmax).exp()).collect();
        let e_total: f64 = eb.iter().sum();
        grad.iter_mut().for_each(|g| *g = 0.0);
        let part = |rows: &[usize]| {
            let mut g = vec![0.0; grad.len()];
            let (l, a) = block(theta, &eb, e_total, bmax, rows, &mut g);
            (l, a, g)
        };
        let parts: Vec<(f64, f64, Vec<f64>)> = if rows.len() <= CHUNK {
            Vec::new()
        } else if parallel::parallelism() {
            rows.par_chunks(CHUNK).map(part).collect()
        } else {
            rows.chunks(CHUNK).map(part).collect()
        };
        let (mut loss, mut alpha_sum) = (0.0, 0.0);
        if parts.is_empty() {
            (loss, alpha_sum) = block(theta, &eb, e_total, bmax, &rows, grad);
        }
        for (pl, pa, pg) in parts {
            loss += pl;
            alpha_sum += pa;
            grad.iter_mut().zip(&pg).for_each(|(g, v)| *g += v);
        }
        for (g, &e) in grad[n_sup + nf..].iter_mut().zip(&eb) {
            *g += alpha_sum * e;
        }
        let mut reg = 0.0;
        for (g, &w) in grad[..n_sup].iter_mut().zip(&theta[..n_sup]) {
            reg += w * w;
            *g += lambda * w;
        }
        for ((g, &w), &mult) in grad[n_sup..n_sup + nf]
            .iter_mut()
            .zip(&theta[n_sup..n_sup + nf])
            .zip(&multiplicity)
        {
            reg += mult * w * w;
            *g += lambda * mult * w;
        }
        loss + 0.5 * lambda * reg
    };
    let theta0 = vec![0.0; n_sup + nf + k];
    let (theta, iterations, converged) = lbfgs(theta0, eval, max_iter, tol, 7, rep);
    let (u, rest) = theta.split_at(n_sup);
    let (cf, b) = rest.split_at(nf);
    Solved {
        linear: Linear {
            n_features: nf,
            n_classes: k,
            coef: Vec::new(),
            intercept: b.to_vec(),
            support: Some(Support {
                indptr,
                classes,
                weight: u.to_vec(),
                rest: cf.to_vec(),
            }),
        },
        iterations,
        converged,
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Limited-memory BFGS with an Armijo backtracking line search; stops when the largest gradient
/// entry is below `tol`, the objective stops moving, or after `max_iter` iterations.
fn lbfgs(
    mut x: Vec<f64>,
    mut f: impl FnMut(&[f64], &mut [f64]) -> f64,
    max_iter: usize,
    tol: f64,
    m: usize,
    rep: &mut Reporter,
) -> (Vec<f64>, usize, bool) {
    let n = x.len();
    let mut g = vec![0.0; n];
    let mut fx = f(&x, &mut g);
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let mut rho: Vec<f64> = Vec::new();
    let mut d = vec![0.0; n];
    let mut x_new = vec![0.0; n];
    let mut g_new = vec![0.0; n];
    let inf_norm = |v: &[f64]| v.iter().fold(0.0f64, |a, &b| a.max(b.abs()));
    for it in 0..max_iter {
        rep.report("train", it, max_iter);
        if inf_norm(&g) < tol {
            return (x, it, true);
        }
        // Two-loop recursion: d = -H g.
        d.copy_from_slice(&g);
        let mut alpha = vec![0.0; s_hist.len()];
        for j in (0..s_hist.len()).rev() {
            alpha[j] = rho[j] * dot(&s_hist[j], &d);
            for (dv, &yv) in d.iter_mut().zip(&y_hist[j]) {
                *dv -= alpha[j] * yv;
            }
        }
        let gamma = match (s_hist.last(), y_hist.last()) {
            (Some(s), Some(y)) => dot(s, y) / dot(y, y),
            _ => 1.0 / inf_norm(&g).max(1e-12),
        };
        d.iter_mut().for_each(|v| *v *= gamma);
        for j in 0..s_hist.len() {
            let beta = rho[j] * dot(&y_hist[j], &d);
            for (dv, &sv) in d.iter_mut().zip(&s_hist[j]) {
                *dv += (alpha[j] - beta) * sv;
            }
        }
        d.iter_mut().for_each(|v| *v = -*v);
        let mut slope = dot(&g, &d);
        if slope >= 0.0 {
            // Not a descent direction (numerical trouble): restart from steepest descent.
            s_hist.clear();
            y_hist.clear();
            rho.clear();
            let scale = 1.0 / inf_norm(&g).max(1e-12);
            for (dv, &gv) in d.iter_mut().zip(&g) {
                *dv = -gv * scale;
            }
            slope = dot(&g, &d);
        }
        let mut step = 1.0;
        let mut f_new;
        loop {
            for ((xn, &xv), &dv) in x_new.iter_mut().zip(&x).zip(&d) {
                *xn = xv + step * dv;
            }
            f_new = f(&x_new, &mut g_new);
            if f_new <= fx + 1e-4 * step * slope || step < 1e-10 {
                break;
            }
            step *= 0.5;
        }
        if step < 1e-10 {
            return (x, it + 1, false);
        }
        let s: Vec<f64> = x_new.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        std::mem::swap(&mut x, &mut x_new);
        std::mem::swap(&mut g, &mut g_new);
        let rel = (fx - f_new).abs() / fx.abs().max(f_new.abs()).max(1.0);
        fx = f_new;
        if sy > 1e-12 {
            if s_hist.len() == m {
                s_hist.remove(0);
                y_hist.remove(0);
                rho.remove(0);
            }
            rho.push(1.0 / sy);
            s_hist.push(s);
            y_hist.push(y);
        }
        if rel < 1e-12 {
            return (x, it + 1, true);
        }
    }
    let done = inf_norm(&g) < tol;
    (x, max_iter, done)
}

/// Multinomial naive Bayes counts from weighted rows.
fn nb_counts(t: &Train) -> NbCounts {
    let nf = t.x.n_cols;
    let mut feature_count = vec![0.0; nf * t.n_classes];
    let mut class_count = vec![0.0; t.n_classes];
    for i in 0..t.x.n_rows {
        let (idx, val) = t.x.row(i);
        let c = t.y[i];
        class_count[c] += t.w[i];
        let fc = &mut feature_count[c * nf..(c + 1) * nf];
        for (&f, &x) in idx.iter().zip(val) {
            fc[f as usize] += t.w[i] * x;
        }
    }
    NbCounts {
        feature_count,
        class_count,
    }
}

/// The log-probability scorer of naive Bayes counts (softmax of it is the posterior).
fn nb_linear(nb: &NbCounts, nf: usize, alpha: f64) -> Linear {
    let k = nb.class_count.len();
    let mut lin = Linear::zeros(nf, k);
    let total: f64 = nb.class_count.iter().sum();
    for c in 0..k {
        let fc = &nb.feature_count[c * nf..(c + 1) * nf];
        let denom = (fc.iter().sum::<f64>() + alpha * nf as f64).ln();
        for (f, &v) in fc.iter().enumerate() {
            lin.coef[f * k + c] = (v + alpha).ln() - denom;
        }
        // A class present only through partial_fit history still gets a finite prior.
        lin.intercept[c] = (nb.class_count[c].max(1e-9) / total).ln();
    }
    lin
}

/// One-vs-rest L2-regularised squared-hinge SVM by dual coordinate descent (Hsieh et al. 2008,
/// liblinear's solver 1), with a regularised bias feature of value 1. Classes train in parallel.
fn fit_svm(t: &Train, c: f64, max_iter: usize, tol: f64, seed: u64) -> Solved {
    let nf = t.x.n_cols;
    let k = t.n_classes;
    let n = t.x.n_rows;
    let sq_norm: Vec<f64> = (0..n)
        .map(|i| t.x.row(i).1.iter().map(|v| v * v).sum::<f64>() + 1.0)
        .collect();
    let one_class = |cls: usize| -> (Vec<f64>, f64, usize, bool) {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed ^ cls as u64);
        let mut w = vec![0.0; nf];
        let mut b = 0.0;
        let mut alpha = vec![0.0; n];
        let diag: Vec<f64> = t.w.iter().map(|&wi| 0.5 / (c * wi)).collect();
        let mut order: Vec<usize> = (0..n).collect();
        let mut iterations = max_iter;
        let mut converged = false;
        for it in 0..max_iter {
            order.shuffle(&mut rng);
            let (mut max_pg, mut min_pg) = (f64::NEG_INFINITY, f64::INFINITY);
            for &i in &order {
                let yi = if t.y[i] == cls { 1.0 } else { -1.0 };
                let (idx, val) = t.x.row(i);
                let mut wx = b;
                for (&f, &x) in idx.iter().zip(val) {
                    wx += w[f as usize] * x;
                }
                let g = yi * wx - 1.0 + diag[i] * alpha[i];
                let pg = if alpha[i] == 0.0 { g.min(0.0) } else { g };
                max_pg = max_pg.max(pg);
                min_pg = min_pg.min(pg);
                if pg.abs() > 1e-12 {
                    let old = alpha[i];
                    alpha[i] = (old - g / (sq_norm[i] + diag[i])).max(0.0);
                    let dlt = (alpha[i] - old) * yi;
                    for (&f, &x) in idx.iter().zip(val) {
                        w[f as usize] += dlt * x;
                    }
                    b += dlt;
                }
            }
            if max_pg - min_pg < tol.max(1e-3) {
                iterations = it + 1;
                converged = true;
                break;
            }
        }
        (w, b, iterations, converged)
    };
    let per_class: Vec<(Vec<f64>, f64, usize, bool)> = if parallel::parallelism() && k > 1 {
        (0..k).into_par_iter().map(one_class).collect()
    } else {
        (0..k).map(one_class).collect()
    };
    let mut lin = Linear::zeros(nf, k);
    let mut iterations = 0;
    let mut converged = true;
    for (cls, (w, b, it, conv)) in per_class.into_iter().enumerate() {
        for (f, v) in w.into_iter().enumerate() {
            lin.coef[f * k + cls] = v;
        }
        lin.intercept[cls] = b;
        iterations = iterations.max(it);
        converged &= conv;
    }
    Solved {
        linear: lin,
        iterations,
        converged,
    }
}

/// Platt's sigmoid `P(y=1|s) = 1 / (1 + exp(a s + b))` fitted by Newton's method with Platt's
/// smoothed targets (Lin, Lin & Weng 2007), on weighted decision values.
fn platt(scores: &[f64], positive: &[bool], weight: &[f64]) -> (f64, f64) {
    let prior1: f64 = positive
        .iter()
        .zip(weight)
        .filter(|(p, _)| **p)
        .map(|(_, w)| w)
        .sum();
    let prior0: f64 = weight.iter().sum::<f64>() - prior1;
    let hi = (prior1 + 1.0) / (prior1 + 2.0);
    let lo = 1.0 / (prior0 + 2.0);
    let target: Vec<f64> = positive.iter().map(|&p| if p { hi } else { lo }).collect();
    let (mut a, mut b) = (0.0, ((prior0 + 1.0) / (prior1 + 1.0)).ln());
    let objective = |a: f64, b: f64| -> f64 {
        let mut f = 0.0;
        for ((&s, &t), &w) in scores.iter().zip(&target).zip(weight) {
            let z = a * s + b;
            f += w * if z >= 0.0 {
                t * z + (1.0 + (-z).exp()).ln()
            } else {
                (t - 1.0) * z + (1.0 + z.exp()).ln()
            };
        }
        f
    };
    let mut fval = objective(a, b);
    for _ in 0..100 {
        let (mut h11, mut h22, mut h21, mut g1, mut g2) = (1e-12, 1e-12, 0.0, 0.0, 0.0);
        for ((&s, &t), &w) in scores.iter().zip(&target).zip(weight) {
            let z = a * s + b;
            let (p, q) = if z >= 0.0 {
                let e = (-z).exp();
                (e / (1.0 + e), 1.0 / (1.0 + e))
            } else {
                let e = z.exp();
                (1.0 / (1.0 + e), e / (1.0 + e))
            };
            let d2 = w * p * q;
            h11 += s * s * d2;
            h22 += d2;
            h21 += s * d2;
            let d1 = w * (t - p);
            g1 += s * d1;
            g2 += d1;
        }
        if g1.abs() < 1e-5 && g2.abs() < 1e-5 {
            break;
        }
        let det = h11 * h22 - h21 * h21;
        let da = -(h22 * g1 - h21 * g2) / det;
        let db = -(-h21 * g1 + h11 * g2) / det;
        let gd = g1 * da + g2 * db;
        let mut step = 1.0;
        while step >= 1e-10 {
            let (na, nb) = (a + step * da, b + step * db);
            let nf = objective(na, nb);
            if nf < fval + 1e-4 * step * gd {
                a = na;
                b = nb;
                fval = nf;
                break;
            }
            step /= 2.0;
        }
        if step < 1e-10 {
            break;
        }
    }
    (a, b)
}

/// A trained model plus how its scores become probabilities, before any file wrapping.
struct Trained {
    linear: Linear,
    link: Link,
    nb: Option<NbCounts>,
    iterations: usize,
    converged: bool,
}

/// Raw (uncalibrated) training for one concrete model.
fn train_raw(model: ModelKind, t: &Train, cfg: &ClassifierConfig, rep: &mut Reporter) -> Trained {
    match model {
        ModelKind::NaiveBayes => {
            let nb = nb_counts(t);
            Trained {
                linear: nb_linear(&nb, t.x.n_cols, cfg.alpha),
                link: Link::Softmax,
                nb: Some(nb),
                iterations: 0,
                converged: true,
            }
        }
        ModelKind::LinearSvm => {
            let s = fit_svm(t, cfg.c, cfg.max_iter, cfg.tol, cfg.seed);
            Trained {
                linear: s.linear,
                // Placeholder until calibrated: plain softmax of margins (only argmax is used).
                link: Link::Softmax,
                nb: None,
                iterations: s.iterations,
                converged: s.converged,
            }
        }
        ModelKind::Logistic | ModelKind::Auto => {
            let s = fit_logistic(t, cfg.c, cfg.max_iter, cfg.tol, rep);
            Trained {
                linear: s.linear,
                link: Link::Softmax,
                nb: None,
                iterations: s.iterations,
                converged: s.converged,
            }
        }
    }
}

#[allow(clippy::too_many_arguments)] // progress bookkeeping rides along
/// Out-of-fold raw scores (before any link: logits for logistic and naive Bayes, margins for the
/// SVM); samples outside `folds` get an empty row.
fn out_of_fold(
    model: ModelKind,
    d: &Design,
    folds: &[Vec<usize>],
    cfg: &ClassifierConfig,
    rep: &mut Reporter,
    stage: &str,
    done: &mut usize,
    total: usize,
) -> Vec<Vec<f64>> {
    let n = d.y.len();
    let mut oof = vec![Vec::new(); n];
    for fold in folds {
        if fold.is_empty() {
            continue;
        }
        let train_idx = complement(n, fold);
        let (t, _) = d.subset(&train_idx);
        let mut quiet = Reporter(None);
        let m = train_raw(model, &t, cfg, &mut quiet);
        for &i in fold {
            let (idx, val) = d.x.row(i);
            let mut s = vec![0.0; d.n_classes];
            m.linear.scores_into(idx, val, &mut s);
            oof[i] = s;
        }
        *done += 1;
        rep.report(stage, *done, total);
    }
    oof
}

/// The samples of `folds` whose class also has samples outside their fold: only those say how
/// well the model is calibrated. A sample whose class the fold's model never saw is always
/// wrong, and the final model, trained on everything, knows every class; counting them would
/// teach the calibration an under-confidence the deployed model does not have.
fn calibration_rows(d: &Design, folds: &[Vec<usize>]) -> Vec<usize> {
    let mut total = vec![0usize; d.n_classes];
    d.y.iter().for_each(|&c| total[c] += 1);
    let mut rows = Vec::new();
    for fold in folds {
        let mut held = vec![0usize; d.n_classes];
        fold.iter().for_each(|&i| held[d.y[i]] += 1);
        rows.extend(
            fold.iter()
                .copied()
                .filter(|&i| total[d.y[i]] > held[d.y[i]]),
        );
    }
    rows.sort_unstable();
    rows
}

/// Standard deviation of the prior on ln(t) in [`fit_temperature`]: t within a factor e^2 = 7.4
/// of 1 is unremarkable, a factor 1,000 needs dozens of held-out lines to support it.
const TEMPERATURE_PRIOR_SD: f64 = 2.0;

/// Mean negative log-likelihood of the true classes of `rows` under `link`.
fn log_loss(link: &Link, oof: &[Vec<f64>], y: &[usize], rows: &[usize]) -> f64 {
    let mut total = 0.0;
    let mut p = Vec::new();
    for &i in rows {
        p.clear();
        p.extend_from_slice(&oof[i]);
        apply_link(link, &mut p);
        total -= p[y[i]].max(1e-15).ln();
    }
    total / rows.len().max(1) as f64
}

/// Temperature scaling (Guo et al. 2017): the `t` minimising the held-out log-loss of
/// `softmax(scores / t)`, by golden-section search on ln(t) (the objective is unimodal in it).
/// With a normal prior on ln(t) centred on 0 (sd [`TEMPERATURE_PRIOR_SD`]), i.e. the MAP
/// estimate: when every held-out line is right (a handful of lines, or separable data) the
/// maximum-likelihood `t` runs off to 0 and every probability to exactly 1; the prior stops that,
/// and weighs less and less as held-out lines accumulate. No held-out rows: `t = 1`.
fn fit_temperature(oof: &[Vec<f64>], y: &[usize], rows: &[usize]) -> f64 {
    if rows.is_empty() {
        return 1.0;
    }
    let prior = 1.0 / (2.0 * TEMPERATURE_PRIOR_SD * TEMPERATURE_PRIOR_SD * rows.len() as f64);
    let loss_at =
        |u: f64| log_loss(&Link::Temperature { t: u.exp() }, oof, y, rows) + prior * u * u;
    let (mut lo, mut hi) = (-7.0f64, 7.0f64);
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let (mut x1, mut x2) = (hi - g * (hi - lo), lo + g * (hi - lo));
    let (mut f1, mut f2) = (loss_at(x1), loss_at(x2));
    // 30 steps narrow ln(t) to 14 * 0.618^30 = 7e-6: far below what moves a probability.
    for _ in 0..30 {
        if f1 < f2 {
            hi = x2;
            x2 = x1;
            f2 = f1;
            x1 = hi - g * (hi - lo);
            f1 = loss_at(x1);
        } else {
            lo = x1;
            x1 = x2;
            f1 = f2;
            x2 = lo + g * (hi - lo);
            f2 = loss_at(x2);
        }
    }
    ((lo + hi) / 2.0).exp()
}

/// The SVM's probability link from out-of-fold margins: per-class Platt sigmoids (normalised)
/// or one temperature over all classes, whichever has the lower held-out log-loss. Per-class
/// sigmoids are only candidates when every class has at least `folds` lines: a class held out
/// whole never gets a positive margin in its fold, its sigmoid then learns a meaningless slope,
/// and (unlike one shared temperature) per-class sigmoids can reorder the classes.
fn calibrate(
    oof: &[Vec<f64>],
    y: &[usize],
    rows: &[usize],
    n_classes: usize,
    folds: usize,
) -> Link {
    let mut count = vec![0usize; n_classes];
    y.iter().for_each(|&c| count[c] += 1);
    let platt_ok = count.iter().all(|&n| n >= folds) && rows.len() == y.len();
    let temp_link = Link::Temperature {
        t: fit_temperature(oof, y, rows),
    };
    if !platt_ok {
        return temp_link;
    }
    let w = vec![1.0; y.len()];
    let mut a = Vec::with_capacity(n_classes);
    let mut b = Vec::with_capacity(n_classes);
    for k in 0..n_classes {
        let s: Vec<f64> = oof.iter().map(|r| r[k]).collect();
        let pos: Vec<bool> = y.iter().map(|&c| c == k).collect();
        let (ak, bk) = platt(&s, &pos, &w);
        a.push(ak);
        b.push(bk);
    }
    let platt_link = Link::Platt { a, b };
    let (lp, lt) = (
        log_loss(&platt_link, oof, y, rows),
        log_loss(&temp_link, oof, y, rows),
    );
    log::debug!("svm calibration log-loss: platt {lp:.4}, temperature {lt:.4}");
    if lt < lp { temp_link } else { platt_link }
}

/// Top-class probability of each of `rows` under `link`.
fn confidences(link: &Link, oof: &[Vec<f64>], rows: &[usize]) -> Vec<f64> {
    rows.iter()
        .map(|&i| {
            let mut p = oof[i].clone();
            apply_link(link, &mut p);
            p.into_iter().fold(0.0, f64::max)
        })
        .collect()
}

/// Out-of-fold raw scores (one row per sample, empty outside the folds) and the folds.
type HeldOut = (Vec<Vec<f64>>, Vec<Vec<usize>>);

/// Held-out observations for the confidence model `P(known | support)` (see `novelty.rs`), from
/// the lines the calibration folds held out (copies of a row in one fold count once, weighted):
/// - *repeats* (known): the line against every row its fold's model trained on, copies of
///   itself included (log data repeats whole lines); weight: its copies;
/// - *new variants* (known): against those rows but its own (a known template with values
///   never seen: host names, users), when its class keeps another row;
/// - *unseen templates* (not known): its class taken away, against the other classes' rows.
///
/// Variants and unseen templates each weigh `prior / (1 - prior)` of the repeats in all,
/// spread evenly over distinct rows so that every template counts, not only frequent ones.
#[allow(clippy::too_many_arguments)] // the fitted pieces of one `fit`
fn novelty_observations(
    d: &Design,
    of_sample: &[usize],
    row_weight: &[f64],
    reference: &Reference,
    oof: &[Vec<f64>],
    folds: &[Vec<usize>],
    calibration_rows: &[usize],
    link: &Link,
    prior: f64,
) -> (Vec<Observation>, f64) {
    let mut known: Vec<Observation> = Vec::new();
    let mut unseen: Vec<Observation> = Vec::new();
    let mut variants: Vec<Observation> = Vec::new();
    let mut usable = vec![false; d.y.len()];
    calibration_rows.iter().for_each(|&i| usable[i] = true);
    let mut in_fold = vec![0.0; reference.len()];
    for fold in folds {
        // Reference rows the fold's model trained on: some copy lies outside the fold.
        fold.iter().for_each(|&i| in_fold[of_sample[i]] += 1.0);
        let trained_on = |r: usize| row_weight[r] > in_fold[r];
        let mut class_rows = vec![0usize; d.n_classes];
        (0..reference.len())
            .filter(|&r| trained_on(r))
            .for_each(|r| class_rows[reference.class_of(r)] += 1);
        // Row → its known observation in this fold (`None` when the line is not usable).
        let mut done: FxHashMap<usize, Option<usize>> = FxHashMap::default();
        for &i in fold {
            if oof[i].is_empty() {
                continue;
            }
            if let Some(&at) = done.get(&of_sample[i]) {
                if let Some(at) = at {
                    known[at].weight += 1.0;
                }
                continue;
            }
            let (idx, val) = d.x.row(i);
            let mut p = oof[i].clone();
            apply_link(link, &mut p);
            let y = d.y[i];
            // A known line is a repeat (its copies outside the fold count) and, when its class
            // keeps another row, a new variant (its own row left out). Log data repeats whole
            // lines: without variants the confidence model would never see a known template
            // with new values, and would call every new host name an unseen template.
            let own = of_sample[i];
            done.insert(own, usable[i].then_some(known.len()));
            if usable[i] {
                let best = argmax(&p);
                let (_, support) = reference.nearest(idx, val, 0.0, best, trained_on);
                known.push(Observation {
                    x: support_features(support),
                    hit: true,
                    weight: 1.0,
                });
                let others = class_rows[y] - usize::from(trained_on(own));
                if others > 0 {
                    let (_, support) =
                        reference.nearest(idx, val, 0.0, best, |r| r != own && trained_on(r));
                    variants.push(Observation {
                        x: support_features(support),
                        hit: true,
                        weight: 1.0,
                    });
                }
            }
            if p.len() > 1 && p[y] < 1.0 {
                p[y] = 0.0;
                let best = argmax(&p);
                let (_, support) = reference.nearest(idx, val, 0.0, best, |r| {
                    trained_on(r) && reference.class_of(r) != y
                });
                unseen.push(Observation {
                    x: support_features(support),
                    hit: false,
                    weight: 1.0,
                });
            }
        }
        fold.iter().for_each(|&i| in_fold[of_sample[i]] = 0.0);
    }
    let known_weight: f64 = known.iter().map(|o| o.weight).sum();
    let share = known_weight * prior / (1.0 - prior);
    let unseen_part = unseen_template_share(reference);
    for (group, part) in [
        (&mut unseen, unseen_part),
        (&mut variants, 1.0 - unseen_part),
    ] {
        let each = 2.0 * part * share / group.len().max(1) as f64;
        group.iter_mut().for_each(|o| o.weight = each);
    }
    let floor = support_floor(&variants);
    known.extend(variants);
    known.extend(unseen);
    (known, floor)
}

/// Of the new (non-repeated) lines, the share expected to come from templates the training data
/// never showed: the Good-Turing estimate over the distinct training rows (the share of rows
/// whose class has no other row: how often a new row brought a new template), never below
/// [`MIN_UNSEEN_SHARE`]. A system's own history says nothing of the lines of a system it never
/// saw, whose templates can be near copies of known ones (sshd's `authentication failure` in a
/// Linux syslog and in an OpenSSH log).
fn unseen_template_share(reference: &Reference) -> f64 {
    let mut rows_of: FxHashMap<usize, usize> = FxHashMap::default();
    (0..reference.len()).for_each(|r| *rows_of.entry(reference.class_of(r)).or_default() += 1);
    let singles = rows_of.values().filter(|&&n| n == 1).count();
    (singles as f64 / reference.len().max(1) as f64).clamp(MIN_UNSEEN_SHARE, 1.0)
}

/// Lower bound of [`unseen_template_share`] (measured on the Loghub protocols in
/// `docs/benchmarks.md`: below 0.3 lines of one system pass as near-duplicate templates of
/// another; above it, known templates with new values lose confidence they deserve).
const MIN_UNSEEN_SHARE: f64 = 0.3;

/// The support below which no known line was seen (the 5th percentile of the new variants'
/// support): the confidence model has no evidence there, and where support does not separate
/// known from unseen templates its fit is flat, so without this bound a line sharing nothing
/// with the training data would keep the confidence of a close variant. 0 when there are no
/// variants (every class one distinct row).
fn support_floor(variants: &[Observation]) -> f64 {
    let mut s: Vec<f64> = variants.iter().map(|o| o.x[0]).collect();
    if s.is_empty() {
        return 0.0;
    }
    s.sort_by(f64::total_cmp);
    s[(s.len() - 1) * 5 / 100]
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl TextClassifier {
    /// Validates `config` and builds an unfitted classifier.
    pub fn new(config: ClassifierConfig) -> Result<Self> {
        let vectorizer = TfidfVectorizer::new(config.tfidf.clone())?;
        config.validate_own()?;
        Ok(Self {
            config,
            vectorizer,
            fitted: None,
            derived: Derived::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ClassifierConfig {
        &self.config
    }

    /// Replaces the options (scikit-learn's `set_params`). A fitted model stays as trained:
    /// `threshold`, `top_k` and `explain_top` apply at once, the rest at the next `fit`.
    pub fn set_config(&mut self, config: ClassifierConfig) -> Result<()> {
        if self.is_fitted() {
            config.validate()?;
        } else {
            let vectorizer = TfidfVectorizer::new(config.tfidf.clone())?;
            config.validate_own()?;
            self.vectorizer = vectorizer;
        }
        self.config = config;
        Ok(())
    }

    /// The TF-IDF vectoriser (fitted once the classifier is).
    pub fn vectorizer(&self) -> &TfidfVectorizer {
        &self.vectorizer
    }

    /// The preprocessor raw texts go through, if any.
    pub fn preprocessor(&self) -> Option<&Preprocessor> {
        self.vectorizer.preprocessor()
    }

    /// Whether `fit` has run.
    pub fn is_fitted(&self) -> bool {
        self.fitted.is_some()
    }

    fn fitted(&self) -> Result<&Fitted> {
        self.fitted.as_ref().ok_or(Error::NotFitted { what: WHAT })
    }

    /// The labels, in the column order of [`predict_proba`](Self::predict_proba) (sorted at
    /// `fit`; labels first seen by `partial_fit` are appended).
    pub fn classes(&self) -> Result<&[String]> {
        Ok(&self.fitted()?.classes)
    }

    /// The model that was trained (`auto` resolved to the winner).
    pub fn model(&self) -> Result<ModelKind> {
        Ok(self.fitted()?.model)
    }

    /// How the classifier was trained (time, sample count, cross-validation scores, ...).
    pub fn training_info(&self) -> Result<&TrainingInfo> {
        Ok(&self.fitted()?.info)
    }

    /// Top-class probabilities on held-out data recorded at training: a drift detector's baseline.
    /// Empty when unfitted or when `holdout` was 0.
    pub fn baseline_confidences(&self) -> Vec<f64> {
        self.fitted
            .as_ref()
            .map(|f| f.info.baseline_confidences.clone())
            .unwrap_or_default()
    }

    /// Trains on `texts` with string `labels` (one per text).
    pub fn fit<S: AsRef<str> + Sync, L: AsRef<str>>(
        &mut self,
        texts: &[S],
        labels: &[L],
    ) -> Result<&mut Self> {
        self.fit_with_progress(texts, labels, None)
    }

    /// [`fit`](Self::fit) reporting `(stage, done, total)` to `progress`.
    pub fn fit_with_progress<S: AsRef<str> + Sync, L: AsRef<str>>(
        &mut self,
        texts: &[S],
        labels: &[L],
        progress: Option<Progress<'_>>,
    ) -> Result<&mut Self> {
        let started = std::time::Instant::now();
        let mut rep = Reporter(progress);
        let (classes, y) = check_training(texts, labels, None)?;
        if classes.len() < 2 {
            return Err(Error::InvalidInput(format!(
                "only one class ({:?}) in the labels: a classifier needs at least two",
                classes[0]
            )));
        }
        let cfg = self.config.clone();
        rep.report("vectorize", 0, 1);
        // Refit the vectoriser built by `new` when its options still apply: building one compiles
        // the preprocessor's masks, which costs more than fitting a few hundred lines. Its
        // vocabulary is replaced only when fitting succeeds, so an error leaves `self` as it was.
        let mut fresh = None;
        let x = if self.vectorizer.config() == &cfg.tfidf {
            self.vectorizer.fit_transform(texts)?
        } else {
            fresh
                .insert(TfidfVectorizer::new(cfg.tfidf.clone())?)
                .fit_transform(texts)?
        };
        rep.report("vectorize", 1, 1);
        let d = Design::new(x, y, classes.len());
        log::info!(
            "classifier fit: {} samples ({} distinct), {} features, {} classes, model {}",
            d.y.len(),
            d.n_groups,
            d.x.n_cols,
            classes.len(),
            cfg.model
        );

        let mut cv_scores = Vec::new();
        let mut baseline = Vec::new();
        // Held-out raw scores of the chosen model and the folds they came from.
        let mut held: Option<HeldOut> = None;
        let model = if cfg.model == ModelKind::Auto {
            let folds = d.folds(cfg.cv_folds.min(d.y.len()), cfg.seed);
            let total = CANDIDATES.len() * folds.len();
            let mut done = 0;
            let mut best: Option<(usize, f64, f64)> = None;
            let mut oofs = Vec::new();
            for (ci, &cand) in CANDIDATES.iter().enumerate() {
                let oof = out_of_fold(cand, &d, &folds, &cfg, &mut rep, "cv", &mut done, total);
                let pred: Vec<usize> = oof.iter().map(|s| argmax(s)).collect();
                let rep_c = ClassificationReport::from_ids(&d.y, &pred, &classes);
                let fold_accuracy = folds
                    .iter()
                    .map(|f| {
                        let ok = f.iter().filter(|&&i| pred[i] == d.y[i]).count();
                        ok as f64 / f.len().max(1) as f64
                    })
                    .collect();
                log::info!(
                    "cv {cand}: accuracy {:.4}, macro F1 {:.4}",
                    rep_c.accuracy,
                    rep_c.macro_f1
                );
                let better = match best {
                    None => true,
                    Some((_, acc, f1)) => (rep_c.accuracy, rep_c.macro_f1) > (acc, f1),
                };
                if better {
                    best = Some((ci, rep_c.accuracy, rep_c.macro_f1));
                }
                cv_scores.push(CandidateScore {
                    model: cand,
                    accuracy: rep_c.accuracy,
                    macro_f1: rep_c.macro_f1,
                    fold_accuracy,
                });
                oofs.push(oof);
            }
            let winner = best.map_or(0, |b| b.0);
            held = Some((oofs.swap_remove(winner), folds));
            CANDIDATES[winner]
        } else {
            cfg.model
        };

        if model == ModelKind::LinearSvm && held.is_none() {
            let folds = d.folds(cfg.calibration_folds.min(d.y.len()), cfg.seed);
            let total = folds.len();
            let mut done = 0;
            let oof = out_of_fold(
                model,
                &d,
                &folds,
                &cfg,
                &mut rep,
                "calibrate",
                &mut done,
                total,
            );
            held = Some((oof, folds));
        }
        if held.is_none() && cfg.holdout > 0.0 {
            let k = (1.0 / cfg.holdout).round().max(2.0) as usize;
            let mut folds = d.folds(k, cfg.seed);
            folds.truncate(1);
            let mut done = 0;
            let oof = out_of_fold(model, &d, &folds, &cfg, &mut rep, "holdout", &mut done, 1);
            held = Some((oof, folds));
        }

        let (t, of_sample) = d.subset(&d.all());
        let mut trained = train_raw(model, &t, &cfg, &mut rep);
        let reference = Reference::new(&t.x, &t.y, t.x.n_cols);
        let mut calibrator = None;
        let mut support_floor = 0.0;
        if let Some((oof, folds)) = held {
            // Calibrate on held-out predictions only (never on data the scoring model saw).
            let rows = calibration_rows(&d, &folds);
            trained.link = if model == ModelKind::LinearSvm {
                calibrate(&oof, &d.y, &rows, classes.len(), folds.len())
            } else {
                Link::Temperature {
                    t: fit_temperature(&oof, &d.y, &rows),
                }
            };
            log::debug!("classifier {model} calibration: {:?}", trained.link);
            let all: Vec<usize> = folds.concat();
            baseline = confidences(&trained.link, &oof, &all);
            let (obs, floor) = novelty_observations(
                &d,
                &of_sample,
                &t.w,
                &reference,
                &oof,
                &folds,
                &rows,
                &trained.link,
                cfg.novelty_prior,
            );
            calibrator = Calibrator::fit_increasing(&obs, &[0, 1, 2]);
            support_floor = floor;
            log::debug!("classifier confidence model: {calibrator:?}");
        }
        rep.report("train", cfg.max_iter, cfg.max_iter);
        if !trained.converged {
            log::warn!(
                "classifier {model}: solver stopped at max_iter={} before reaching tol={}",
                cfg.max_iter,
                cfg.tol
            );
        }
        let info = TrainingInfo {
            model,
            trained_at: now_unix(),
            fit_seconds: started.elapsed().as_secs_f64(),
            n_samples: d.y.len(),
            n_distinct: d.n_groups,
            n_features: d.x.n_cols,
            iterations: trained.iterations,
            converged: trained.converged,
            cv_scores,
            baseline_confidences: baseline,
            options: cfg.clone(),
        };
        log::info!(
            "classifier fit done: {model} in {:.3}s ({} iterations)",
            info.fit_seconds,
            info.iterations
        );
        if let Some(v) = fresh {
            self.vectorizer = v;
        }
        self.fitted = Some(Fitted {
            model,
            classes,
            linear: trained.linear,
            link: trained.link,
            nb: trained.nb,
            info,
            novelty: Some(Novelty {
                reference,
                calibrator,
                support_floor,
            }),
        });
        self.derive()?;
        Ok(self)
    }

    /// Learns more samples without retraining from scratch (naive Bayes only: its counts just
    /// add up). Unfitted, it is `fit`. The vocabulary stays as fitted (new words are ignored);
    /// new labels are appended to `classes`.
    pub fn partial_fit<S: AsRef<str> + Sync, L: AsRef<str>>(
        &mut self,
        texts: &[S],
        labels: &[L],
    ) -> Result<&mut Self> {
        let Some(f) = self.fitted.as_ref() else {
            return self.fit(texts, labels);
        };
        if f.model != ModelKind::NaiveBayes {
            return Err(Error::InvalidInput(format!(
                "partial_fit needs model \"naive_bayes\"; this classifier is {}: call fit() to retrain",
                f.model
            )));
        }
        let (classes, y) = check_training(texts, labels, Some(&f.classes))?;
        let x = self.vectorizer.transform(texts)?;
        let nf = x.n_cols;
        let Some(mut f) = self.fitted.take() else {
            return Err(Error::NotFitted { what: WHAT });
        };
        let Some(nb) = f.nb.as_mut() else {
            self.fitted = Some(f);
            return Err(Error::Corrupt("naive Bayes model without counts".into()));
        };
        let k = classes.len();
        nb.feature_count.resize(k * nf, 0.0);
        nb.class_count.resize(k, 0.0);
        let d = Design::new(x, y, k);
        let (t, _) = d.subset(&d.all());
        let add = nb_counts(&t);
        nb.feature_count
            .iter_mut()
            .zip(&add.feature_count)
            .for_each(|(a, b)| *a += b);
        nb.class_count
            .iter_mut()
            .zip(&add.class_count)
            .for_each(|(a, b)| *a += b);
        f.linear = nb_linear(nb, nf, f.info.options.alpha);
        if let Some(n) = f.novelty.as_mut() {
            n.reference.extend(&t.x, &t.y, nf);
        }
        f.classes = classes;
        f.info.n_samples += d.y.len();
        f.info.trained_at = now_unix();
        log::info!("classifier partial_fit: {} samples added", d.y.len());
        self.fitted = Some(f);
        self.derive()?;
        Ok(self)
    }

    fn derive(&mut self) -> Result<()> {
        let Some(f) = &self.fitted else {
            self.derived = Derived::default();
            return Ok(());
        };
        let names = self.vectorizer.feature_names()?;
        let coef_mean = f.linear.feature_means();
        let t = match f.link {
            Link::Softmax => Some(1.0),
            Link::Temperature { t } => Some(t),
            Link::Platt { .. } => None,
        };
        let exp_intercept = match (t, &f.linear.support) {
            (Some(t), Some(_)) => {
                let top = f
                    .linear
                    .intercept
                    .iter()
                    .fold(f64::NEG_INFINITY, |m, &b| m.max(b / t));
                let e = f
                    .linear
                    .intercept
                    .iter()
                    .map(|&b| (b / t - top).exp())
                    .collect();
                Some(Arc::new((e, top)))
            }
            _ => None,
        };
        self.derived = Derived {
            names: Arc::new(names),
            coef_mean: Arc::new(coef_mean),
            exp_intercept,
        };
        Ok(())
    }

    /// Probabilities of one row. Support-layout models with a softmax link skip `exp` for every
    /// class none of the row's features was seen with: its score is `intercept + base`, so its
    /// probability is a precomputed `exp(intercept / t)` times one per-row factor. (`base`, the
    /// shared weights' sum, is the same for all classes and cancels in the softmax.)
    fn proba_into(&self, f: &Fitted, idx: &[u32], val: &[f64], out: &mut [f64]) {
        let (Some(sp), Some(ei)) = (&f.linear.support, &self.derived.exp_intercept) else {
            f.linear.scores_into(idx, val, out);
            apply_link(&f.link, out);
            return;
        };
        let (eb, top) = (&ei.0, ei.1);
        let t = match f.link {
            Link::Temperature { t } => t,
            _ => 1.0,
        };
        out.fill(0.0);
        for (&ft, &x) in idx.iter().zip(val) {
            let ft = ft as usize;
            if ft >= f.linear.n_features {
                continue;
            }
            let r = sp.rest[ft];
            let range = sp.range(ft);
            for (&c, &w) in sp.classes[range.clone()].iter().zip(&sp.weight[range]) {
                out[c as usize] += x * (w - r);
            }
        }
        // out[k] now holds the class's own offset; zero means "as if untouched" either way.
        let b = &f.linear.intercept;
        let m = out
            .iter()
            .zip(b)
            .filter(|(d, _)| **d != 0.0)
            .fold(top, |m, (d, bk)| m.max((bk + d) / t));
        let scale = (top - m).exp();
        let mut z = 0.0;
        for ((o, &bk), &e) in out.iter_mut().zip(b).zip(eb.iter()) {
            *o = if *o == 0.0 {
                e * scale
            } else {
                ((bk + *o) / t - m).exp()
            };
            z += *o;
        }
        let inv = 1.0 / z;
        out.iter_mut().for_each(|o| *o *= inv);
    }

    /// Row-major `n_rows x n_classes` probabilities. Each distinct TF-IDF row is scored once:
    /// log lines repeat after masking (Loghub's test lines have 2-30 times fewer distinct rows
    /// than lines), and equal rows get bit-identical probabilities either way.
    ///
    /// `outer[i]`, when given, is the row of `x` that output row `i` takes (texts repeated
    /// verbatim are vectorised once).
    fn proba_flat(&self, f: &Fitted, x: &CsrMatrix, outer: Option<&[usize]>) -> Vec<f64> {
        let k = f.linear.n_classes;
        let n = x.n_rows;
        // slot[i]: the distinct row that row i equals; hash buckets chained through `next`.
        let mut slot = Vec::with_capacity(n);
        let mut distinct: Vec<usize> = Vec::new();
        let mut next: Vec<usize> = Vec::new();
        let mut head: FxHashMap<u64, usize> = FxHashMap::default();
        for i in 0..n {
            let (idx, val) = x.row(i);
            let mut h = rustc_hash::FxHasher::default();
            std::hash::Hash::hash(idx, &mut h);
            val.iter()
                .for_each(|v| std::hash::Hasher::write_u64(&mut h, v.to_bits()));
            let h = std::hash::Hasher::finish(&h);
            let mut at = head.get(&h).copied().unwrap_or(usize::MAX);
            while at != usize::MAX && x.row(distinct[at]) != (idx, val) {
                at = next[at];
            }
            if at == usize::MAX {
                at = distinct.len();
                next.push(head.insert(h, at).unwrap_or(usize::MAX));
                distinct.push(i);
            }
            slot.push(at);
        }
        let mut probs = vec![0.0; distinct.len() * k];
        let fill = |(d, out): (usize, &mut [f64])| {
            let (idx, val) = x.row(distinct[d]);
            self.proba_into(f, idx, val, out);
        };
        if k == 0 {
            return Vec::new();
        }
        if distinct.len() >= parallel::MIN_PARALLEL_BATCH && parallel::parallelism() {
            probs
                .par_chunks_mut(k)
                .enumerate()
                .with_min_len(64)
                .for_each(fill);
        } else {
            probs.chunks_mut(k).enumerate().for_each(fill);
        }
        if distinct.len() == n && outer.is_none() {
            return probs;
        }
        let rows = outer.map_or(n, <[usize]>::len);
        let mut out = Vec::with_capacity(rows * k);
        for r in 0..rows {
            let d = slot[outer.map_or(r, |o| o[r])];
            out.extend_from_slice(&probs[d * k..(d + 1) * k]);
        }
        out
    }

    /// TF-IDF rows of the distinct texts, and for each text the row it takes. Batches of log
    /// lines repeat whole lines (Loghub's test lines: 1.0-3.2 per distinct text), and masking
    /// each line is the largest cost of a batch prediction.
    fn transform_distinct<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
    ) -> Result<(CsrMatrix, Option<Vec<usize>>)> {
        let mut index: FxHashMap<&str, usize> = FxHashMap::default();
        let mut first: Vec<&str> = Vec::new();
        let slot: Vec<usize> = texts
            .iter()
            .map(|t| {
                *index.entry(t.as_ref()).or_insert_with(|| {
                    first.push(t.as_ref());
                    first.len() - 1
                })
            })
            .collect();
        if first.len() == texts.len() {
            return Ok((self.vectorizer.transform(texts)?, None));
        }
        Ok((self.vectorizer.transform(&first)?, Some(slot)))
    }

    /// Probabilities per text, each row in [`classes`](Self::classes) order and summing to one.
    pub fn predict_proba<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Result<Vec<Vec<f64>>> {
        let f = self.fitted()?;
        let k = f.linear.n_classes;
        Ok(self
            .predict_proba_flat(texts)?
            .chunks(k.max(1))
            .map(<[f64]>::to_vec)
            .collect())
    }

    /// [`predict_proba`](Self::predict_proba) as one row-major `texts.len() x classes().len()`
    /// buffer (what the bindings hand out as a matrix): no allocation per row.
    pub fn predict_proba_flat<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Result<Vec<f64>> {
        let f = self.fitted()?;
        let (x, outer) = self.transform_distinct(texts)?;
        Ok(self.proba_flat(f, &x, outer.as_deref()))
    }

    /// The most probable label per text.
    pub fn predict<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Result<Vec<String>> {
        let f = self.fitted()?;
        Ok(self
            .predict_proba_flat(texts)?
            .chunks(f.linear.n_classes.max(1))
            .map(|p| f.classes[argmax(p)].clone())
            .collect())
    }

    /// Accuracy on labelled texts (scikit-learn's `score`).
    pub fn score<S: AsRef<str> + Sync, L: AsRef<str>>(
        &self,
        texts: &[S],
        labels: &[L],
    ) -> Result<f64> {
        check_lengths(texts.len(), labels.len())?;
        if texts.is_empty() {
            return Err(Error::InvalidInput("no texts to score".into()));
        }
        let pred = self.predict(texts)?;
        let ok = pred
            .iter()
            .zip(labels)
            .filter(|(p, l)| p.as_str() == l.as_ref())
            .count();
        Ok(ok as f64 / texts.len() as f64)
    }

    /// The label of one text with its confidence, alternatives and the n-grams behind it.
    pub fn predict_one(&self, text: &str) -> Result<Prediction> {
        let f = self.fitted()?;
        let (x, unseen) = self.vectorizer.transform_with_unseen(&[text])?;
        Ok(self.explain_row(f, &x, 0, unseen[0]))
    }

    /// [`predict_one`](Self::predict_one) for many texts (in parallel for large batches).
    pub fn predict_many<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Result<Vec<Prediction>> {
        let f = self.fitted()?;
        let (x, unseen) = self.vectorizer.transform_with_unseen(texts)?;
        let rows: Vec<usize> = (0..x.n_rows).collect();
        Ok(parallel::map(&rows, |&i| {
            self.explain_row(f, &x, i, unseen[i])
        }))
    }

    /// The confidence that `best` (with class probability `p`) is right for the row, and the
    /// row's novelty; `unseen` is its mass outside the vocabulary (`transform_with_unseen`).
    fn trust(
        &self,
        f: &Fitted,
        idx: &[u32],
        val: &[f64],
        unseen: f64,
        best: usize,
        p: f64,
    ) -> (f64, f64) {
        let Some(n) = &f.novelty else {
            return (p, 0.0);
        };
        let (any, own) = n.reference.nearest(idx, val, unseen, best, |_| true);
        let below = if own < n.support_floor {
            own / n.support_floor
        } else {
            1.0
        };
        let confidence = n
            .calibrator
            .as_ref()
            .map_or(p, |c| p * c.probability(&support_features(own)) * below);
        (confidence, 1.0 - any)
    }

    fn explain_row(&self, f: &Fitted, x: &CsrMatrix, i: usize, unseen: f64) -> Prediction {
        let (idx, val) = x.row(i);
        let k = f.linear.n_classes;
        let mut p = vec![0.0; k];
        self.proba_into(f, idx, val, &mut p);
        let mut order: Vec<usize> = (0..k).collect();
        order.sort_by(|&a, &b| p[b].total_cmp(&p[a]).then(a.cmp(&b)));
        let best = order[0];
        let (confidence, novelty) = self.trust(f, idx, val, unseen, best, p[best]);
        // Alternatives keep their share of the class probabilities, on the same scale.
        let scale = if p[best] > 0.0 {
            confidence / p[best]
        } else {
            0.0
        };
        let alternatives = order
            .iter()
            .skip(1)
            .take(self.config.top_k)
            .map(|&c| (f.classes[c].clone(), (p[c] * scale).min(confidence)))
            .collect();
        let mut contrib: Vec<(usize, f64)> = idx
            .iter()
            .zip(val)
            .map(|(&ft, &v)| {
                let ft = ft as usize;
                let w = f.linear.weight(ft, best) - self.derived.coef_mean[ft];
                (ft, v * w)
            })
            .filter(|(_, c)| *c > 0.0)
            .collect();
        contrib.sort_by(|a, b| b.1.total_cmp(&a.1));
        let explanation = contrib
            .into_iter()
            .take(self.config.explain_top)
            .map(|(ft, c)| (self.derived.names[ft].clone(), c))
            .collect();
        Prediction {
            label: f.classes[best].clone(),
            confidence,
            reliable: confidence >= self.config.threshold,
            novelty,
            novel: novelty > self.config.novelty_threshold,
            alternatives,
            explanation,
        }
    }
}

fn check_lengths(texts: usize, labels: usize) -> Result<()> {
    if texts != labels {
        return Err(Error::InvalidInput(format!(
            "texts and labels differ in length: {texts} texts, {labels} labels"
        )));
    }
    Ok(())
}

/// Checks a training batch and maps labels to class ids. With `known`, ids follow `known`'s
/// order and new labels are appended; without, classes are sorted.
fn check_training<S: AsRef<str>, L: AsRef<str>>(
    texts: &[S],
    labels: &[L],
    known: Option<&[String]>,
) -> Result<(Vec<String>, Vec<usize>)> {
    check_lengths(texts.len(), labels.len())?;
    if texts.is_empty() {
        return Err(Error::InvalidInput("no training texts".into()));
    }
    if let Some(i) = labels.iter().position(|l| l.as_ref().trim().is_empty()) {
        return Err(Error::InvalidInput(format!(
            "label {i} is empty: every text needs a non-empty label"
        )));
    }
    let mut classes: Vec<String> = match known {
        Some(k) => k.to_vec(),
        None => {
            let mut c: Vec<String> = labels.iter().map(|l| l.as_ref().to_owned()).collect();
            c.sort_unstable();
            c.dedup();
            c
        }
    };
    let mut id: HashMap<String, usize> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.clone(), i))
        .collect();
    let mut y = Vec::with_capacity(labels.len());
    for l in labels {
        let l = l.as_ref();
        let c = match id.get(l) {
            Some(&c) => c,
            None => {
                classes.push(l.to_owned());
                id.insert(l.to_owned(), classes.len() - 1);
                classes.len() - 1
            }
        };
        y.push(c);
    }
    Ok((classes, y))
}

// ---------------------------------------------------------------------------------------------
// Persistence
// ---------------------------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
struct Persisted {
    config: ClassifierConfig,
    vectorizer: TfidfVectorizer,
    fitted: Option<Fitted>,
}

impl Serialize for TextClassifier {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            config: &'a ClassifierConfig,
            vectorizer: &'a TfidfVectorizer,
            fitted: &'a Option<Fitted>,
        }
        Out {
            config: &self.config,
            vectorizer: &self.vectorizer,
            fitted: &self.fitted,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for TextClassifier {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let p = Persisted::deserialize(d)?;
        p.config.validate().map_err(D::Error::custom)?;
        if let Some(f) = &p.fitted {
            let nf = p.vectorizer.n_features().map_err(D::Error::custom)?;
            let k = f.classes.len();
            let link_ok = match &f.link {
                Link::Softmax => true,
                Link::Temperature { t } => t.is_finite() && *t > 0.0,
                Link::Platt { a, b } => a.len() == k && b.len() == k,
            };
            if !f.linear.is_valid(nf, k) || !link_ok {
                return Err(D::Error::custom(
                    "classifier weights do not match its vocabulary and classes",
                ));
            }
            // What fit guarantees: two or more distinct labels, and NB counts that fit them.
            if k < 2 {
                return Err(D::Error::custom(format!(
                    "{k} class(es) stored: a fitted classifier has at least two"
                )));
            }
            let mut seen = std::collections::HashSet::new();
            if let Some(dup) = f.classes.iter().find(|c| !seen.insert(c.as_str())) {
                return Err(D::Error::custom(format!(
                    "class label {dup:?} is stored twice"
                )));
            }
            if let Link::Platt { a, b } = &f.link
                && !a.iter().chain(b).all(|v| v.is_finite())
            {
                return Err(D::Error::custom(
                    "Platt calibration holds a non-finite value",
                ));
            }
            if let Some(nb) = &f.nb
                && (nb.class_count.len() != k
                    || nb.feature_count.len() != k.saturating_mul(nf)
                    || !nb
                        .class_count
                        .iter()
                        .chain(&nb.feature_count)
                        .all(|v| v.is_finite() && *v >= 0.0))
            {
                return Err(D::Error::custom(
                    "naive Bayes counts do not match the classes and vocabulary, or are not finite counts",
                ));
            }
        }
        let mut p = p;
        if let Some(n) = p.fitted.as_mut().and_then(|f| {
            let k = f.classes.len();
            f.novelty.as_mut().map(|n| (n, k))
        }) {
            let (n, k) = n;
            let nf = p.vectorizer.n_features().map_err(D::Error::custom)?;
            // Two support features in files from before the exact-copy feature, three since.
            let calibrator_ok = n
                .calibrator
                .as_ref()
                .is_none_or(|c| c.is_valid(2) || c.is_valid(3));
            let floor_ok = (0.0..=1.0).contains(&n.support_floor);
            if !n.reference.is_valid(nf, k) || !calibrator_ok || !floor_ok {
                return Err(D::Error::custom(
                    "classifier training rows or confidence model do not match its vocabulary and classes",
                ));
            }
            n.reference.index(nf);
        }
        let mut c = TextClassifier {
            config: p.config,
            vectorizer: p.vectorizer,
            fitted: p.fitted,
            derived: Derived::default(),
        };
        c.derive().map_err(D::Error::custom)?;
        Ok(c)
    }
}

impl Artifact for TextClassifier {
    const KIND: &'static str = "text_classifier";
}

// ---------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------

/// Precision, recall, F1 and support of one class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    /// The label.
    pub label: String,
    /// Of the texts predicted as this label, the share that truly are.
    pub precision: f64,
    /// Of the texts truly of this label, the share predicted so.
    pub recall: f64,
    /// Harmonic mean of precision and recall (0 when both are 0).
    pub f1: f64,
    /// Texts truly of this label.
    pub support: usize,
}

/// Accuracy, per-class metrics, macro and weighted F1 and the confusion matrix.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassificationReport {
    /// Every label seen in the truth or the predictions, sorted; the order of `per_class` and
    /// of the confusion matrix.
    pub labels: Vec<String>,
    /// Share of correct predictions.
    pub accuracy: f64,
    /// One entry per label.
    pub per_class: Vec<ClassMetrics>,
    /// Unweighted mean of per-class precision.
    pub macro_precision: f64,
    /// Unweighted mean of per-class recall.
    pub macro_recall: f64,
    /// Unweighted mean of per-class F1.
    pub macro_f1: f64,
    /// Per-class F1 weighted by support.
    pub weighted_f1: f64,
    /// `confusion[t][p]`: texts of label `t` predicted as `p` (indices into `labels`).
    pub confusion: Vec<Vec<usize>>,
    /// Texts evaluated.
    pub n_samples: usize,
}

impl ClassificationReport {
    /// The report for true and predicted labels of equal length (at least one).
    pub fn from_labels<T: AsRef<str>, P: AsRef<str>>(y_true: &[T], y_pred: &[P]) -> Result<Self> {
        if y_true.len() != y_pred.len() {
            return Err(Error::InvalidInput(format!(
                "true and predicted labels differ in length: {} and {}",
                y_true.len(),
                y_pred.len()
            )));
        }
        if y_true.is_empty() {
            return Err(Error::InvalidInput("no labels to evaluate".into()));
        }
        let mut labels: Vec<String> = y_true
            .iter()
            .map(|l| l.as_ref().to_owned())
            .chain(y_pred.iter().map(|l| l.as_ref().to_owned()))
            .collect();
        labels.sort_unstable();
        labels.dedup();
        let id: HashMap<&str, usize> = labels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.as_str(), i))
            .collect();
        let t: Vec<usize> = y_true.iter().map(|l| id[l.as_ref()]).collect();
        let p: Vec<usize> = y_pred.iter().map(|l| id[l.as_ref()]).collect();
        Ok(Self::from_ids(&t, &p, &labels))
    }

    fn from_ids(t: &[usize], p: &[usize], labels: &[String]) -> Self {
        let k = labels.len();
        let mut confusion = vec![vec![0usize; k]; k];
        for (&a, &b) in t.iter().zip(p) {
            confusion[a][b] += 1;
        }
        let n = t.len();
        let correct: usize = (0..k).map(|i| confusion[i][i]).sum();
        let mut per_class = Vec::with_capacity(k);
        for c in 0..k {
            let tp = confusion[c][c] as f64;
            let support: usize = confusion[c].iter().sum();
            let predicted: usize = confusion.iter().map(|r| r[c]).sum();
            let ratio = |a: f64, b: usize| if b == 0 { 0.0 } else { a / b as f64 };
            let precision = ratio(tp, predicted);
            let recall = ratio(tp, support);
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            per_class.push(ClassMetrics {
                label: labels[c].clone(),
                precision,
                recall,
                f1,
                support,
            });
        }
        let mean = |f: &dyn Fn(&ClassMetrics) -> f64| {
            per_class.iter().map(f).sum::<f64>() / k.max(1) as f64
        };
        let macro_precision = mean(&|m| m.precision);
        let macro_recall = mean(&|m| m.recall);
        let macro_f1 = mean(&|m| m.f1);
        let weighted_f1 = per_class
            .iter()
            .map(|m| m.f1 * m.support as f64)
            .sum::<f64>()
            / n.max(1) as f64;
        ClassificationReport {
            labels: labels.to_vec(),
            accuracy: correct as f64 / n.max(1) as f64,
            per_class,
            macro_precision,
            macro_recall,
            macro_f1,
            weighted_f1,
            confusion,
            n_samples: n,
        }
    }
}

impl fmt::Display for ClassificationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self
            .labels
            .iter()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0)
            .max(12);
        writeln!(
            f,
            "{:>w$}  {:>9}  {:>9}  {:>9}  {:>7}",
            "", "precision", "recall", "f1-score", "support"
        )?;
        writeln!(f)?;
        for m in &self.per_class {
            writeln!(
                f,
                "{:>w$}  {:>9.4}  {:>9.4}  {:>9.4}  {:>7}",
                m.label, m.precision, m.recall, m.f1, m.support
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "{:>w$}  {:>9}  {:>9}  {:>9.4}  {:>7}",
            "accuracy", "", "", self.accuracy, self.n_samples
        )?;
        writeln!(
            f,
            "{:>w$}  {:>9.4}  {:>9.4}  {:>9.4}  {:>7}",
            "macro avg", self.macro_precision, self.macro_recall, self.macro_f1, self.n_samples
        )?;
        writeln!(
            f,
            "{:>w$}  {:>9}  {:>9}  {:>9.4}  {:>7}",
            "weighted avg", "", "", self.weighted_f1, self.n_samples
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "confusion matrix (rows: true, columns: predicted, in label order):"
        )?;
        for row in &self.confusion {
            let cells: Vec<String> = row.iter().map(|c| c.to_string()).collect();
            writeln!(f, "  [{}]", cells.join(" "))?;
        }
        Ok(())
    }
}

/// Evaluates a fitted classifier on labelled texts.
pub fn evaluate<S: AsRef<str> + Sync, L: AsRef<str>>(
    model: &TextClassifier,
    texts: &[S],
    labels: &[L],
) -> Result<ClassificationReport> {
    check_lengths(texts.len(), labels.len())?;
    if let Some(i) = labels.iter().position(|l| l.as_ref().is_empty()) {
        return Err(Error::InvalidInput(format!("label {i} is empty")));
    }
    let pred = model.predict(texts)?;
    ClassificationReport::from_labels(labels, &pred)
}

/// The outcome of [`compare`]: both reports and McNemar's test on the paired predictions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Model A's report.
    pub a: ClassificationReport,
    /// Model B's report.
    pub b: ClassificationReport,
    /// `b.accuracy - a.accuracy`.
    pub accuracy_difference: f64,
    /// `b.macro_f1 - a.macro_f1`.
    pub macro_f1_difference: f64,
    /// Texts A got right and B wrong.
    pub a_only_correct: usize,
    /// Texts B got right and A wrong.
    pub b_only_correct: usize,
    /// Two-sided McNemar p-value (exact binomial when fewer than 25 texts disagree, else
    /// chi-squared with continuity correction).
    pub p_value: f64,
    /// `p_value < alpha`.
    pub significant: bool,
    /// The significance level used (0.05).
    pub alpha: f64,
    /// `"a"`, `"b"` or `"tie"` by accuracy.
    pub better: String,
}

impl Comparison {
    /// Whether B beats A by accuracy with a significant McNemar test.
    pub fn b_beats_a(&self) -> bool {
        self.better == "b" && self.significant
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "A: accuracy {:.4}, macro F1 {:.4}",
            self.a.accuracy, self.a.macro_f1
        )?;
        writeln!(
            f,
            "B: accuracy {:.4}, macro F1 {:.4}",
            self.b.accuracy, self.b.macro_f1
        )?;
        writeln!(
            f,
            "B - A: accuracy {:+.4}, macro F1 {:+.4}",
            self.accuracy_difference, self.macro_f1_difference
        )?;
        writeln!(
            f,
            "disagreements: A only right {}, B only right {}; McNemar p = {:.4} ({} at alpha {})",
            self.a_only_correct,
            self.b_only_correct,
            self.p_value,
            if self.significant {
                "significant"
            } else {
                "not significant"
            },
            self.alpha
        )?;
        write!(
            f,
            "better: {}",
            match self.better.as_str() {
                "tie" => "neither (tie)",
                "a" => "A",
                _ => "B",
            }
        )
    }
}

/// Two-sided McNemar p-value for `b` and `c` discordant pairs.
pub fn mcnemar_p_value(b: usize, c: usize) -> f64 {
    use statrs::distribution::{Binomial, ChiSquared, ContinuousCDF, DiscreteCDF};
    let n = b + c;
    if n == 0 {
        return 1.0;
    }
    if n < 25 {
        // Exact: under H0 each discordant pair goes either way with probability 1/2.
        let Ok(bin) = Binomial::new(0.5, n as u64) else {
            return 1.0;
        };
        return (2.0 * bin.cdf(b.min(c) as u64)).min(1.0);
    }
    let diff = (b as f64 - c as f64).abs() - 1.0;
    let stat = diff.max(0.0).powi(2) / n as f64;
    match ChiSquared::new(1.0) {
        Ok(chi) => (1.0 - chi.cdf(stat)).clamp(0.0, 1.0),
        Err(_) => 1.0,
    }
}

/// Evaluates A and B on the same labelled texts and tests whether they differ (McNemar).
/// Every label must be one at least one of the models knows.
pub fn compare<S: AsRef<str> + Sync, L: AsRef<str>>(
    a: &TextClassifier,
    b: &TextClassifier,
    texts: &[S],
    labels: &[L],
) -> Result<Comparison> {
    check_lengths(texts.len(), labels.len())?;
    if texts.is_empty() {
        return Err(Error::InvalidInput("no texts to compare on".into()));
    }
    let (ca, cb) = (a.classes()?, b.classes()?);
    for (i, l) in labels.iter().enumerate() {
        let l = l.as_ref();
        if l.is_empty() {
            return Err(Error::InvalidInput(format!("label {i} is empty")));
        }
        if !ca.iter().any(|c| c == l) && !cb.iter().any(|c| c == l) {
            return Err(Error::InvalidInput(format!(
                "label {l:?} (text {i}) was never seen by either model: compare on labels they were trained on"
            )));
        }
    }
    let pa = a.predict(texts)?;
    let pb = b.predict(texts)?;
    let mut a_only = 0;
    let mut b_only = 0;
    for ((x, y), l) in pa.iter().zip(&pb).zip(labels) {
        let l = l.as_ref();
        match (x == l, y == l) {
            (true, false) => a_only += 1,
            (false, true) => b_only += 1,
            _ => {}
        }
    }
    let ra = ClassificationReport::from_labels(labels, &pa)?;
    let rb = ClassificationReport::from_labels(labels, &pb)?;
    let p_value = mcnemar_p_value(a_only, b_only);
    let alpha = 0.05;
    let better = match b_only.cmp(&a_only) {
        std::cmp::Ordering::Greater => "b",
        std::cmp::Ordering::Less => "a",
        std::cmp::Ordering::Equal => "tie",
    };
    Ok(Comparison {
        accuracy_difference: rb.accuracy - ra.accuracy,
        macro_f1_difference: rb.macro_f1 - ra.macro_f1,
        a: ra,
        b: rb,
        a_only_correct: a_only,
        b_only_correct: b_only,
        p_value,
        significant: p_value < alpha,
        alpha,
        better: better.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> (Vec<String>, Vec<String>) {
        let mut t = Vec::new();
        let mut l = Vec::new();
        for i in 0..30 {
            t.push(format!("disk full on volume vol{i} no space left"));
            l.push("disk".to_owned());
            t.push(format!("connection refused to host h{i} port 5432"));
            l.push("net".to_owned());
            t.push(format!("out of memory killed process p{i} oom"));
            l.push("oom".to_owned());
        }
        (t, l)
    }

    fn cfg(model: ModelKind) -> ClassifierConfig {
        ClassifierConfig {
            model,
            ..Default::default()
        }
    }

    #[test]
    fn every_model_learns_the_toy_set() {
        let (t, l) = toy();
        for m in [
            ModelKind::Logistic,
            ModelKind::NaiveBayes,
            ModelKind::LinearSvm,
            ModelKind::Auto,
        ] {
            let mut c = TextClassifier::new(cfg(m)).unwrap();
            c.fit(&t, &l).unwrap();
            assert_eq!(c.classes().unwrap(), ["disk", "net", "oom"]);
            let p = c.predict_one("no space left on disk volume").unwrap();
            assert_eq!(p.label, "disk", "{m}");
            assert!(p.confidence > 0.5, "{m}: {p:?}");
            assert!(!p.explanation.is_empty());
            let proba = c
                .predict_proba(&["connection refused", "oom killed"])
                .unwrap();
            for row in &proba {
                assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-9);
            }
            assert_eq!(argmax(&proba[0]), 1, "{m}");
            assert_eq!(c.score(&t, &l).unwrap(), 1.0, "{m}");
            let info = c.training_info().unwrap();
            assert_ne!(info.model, ModelKind::Auto);
            assert_eq!(info.n_samples, 90);
            if m == ModelKind::Auto {
                assert_eq!(info.cv_scores.len(), 3);
            }
            assert!(!c.baseline_confidences().is_empty(), "{m}");
        }
    }

    #[test]
    fn logistic_converges_to_tol() {
        let (t, l) = toy();
        let mut c = TextClassifier::new(ClassifierConfig {
            c: 1.0,
            tol: 1e-8,
            max_iter: 2000,
            holdout: 0.0,
            ..Default::default()
        })
        .unwrap();
        c.fit(&t, &l).unwrap();
        let info = c.training_info().unwrap();
        assert!(info.converged, "{info:?}");
    }

    #[test]
    fn support_layout_solution_is_a_stationary_point_of_the_objective() {
        // The solver's gradient is hand-written; check its optimum against central differences
        // of the objective computed independently (through `scores_into`).
        let (mut t, mut l) = toy();
        for (text, label) in [
            ("error on disk and connection", "disk"),
            ("error connection oom", "net"),
            ("oom error disk", "oom"),
            ("disk error", "net"),
        ] {
            t.push(text.to_owned());
            l.push(label.to_owned());
        }
        let x = TfidfVectorizer::new(default_classifier_tfidf())
            .unwrap()
            .fit_transform(&t)
            .unwrap();
        let (classes, y) = check_training(&t, &l, None).unwrap();
        let d = Design::new(x, y, classes.len());
        let (train, _) = d.subset(&d.all());
        let c = 3.0;
        let s = fit_logistic(&train, c, 5000, 1e-10, &mut Reporter(None));
        assert!(s.converged);
        let sp = s.linear.support.as_ref().unwrap();
        let nf = train.x.n_cols;
        assert!(sp.classes.len() < nf * 3, "support should be partial");
        assert!((0..nf).any(|f| sp.range(f).len() > 1));
        let w_total: f64 = train.w.iter().sum();
        let objective = |lin: &Linear| -> f64 {
            let sp = lin.support.as_ref().unwrap();
            let mut loss = 0.0;
            let mut sc = vec![0.0; 3];
            for i in 0..train.x.n_rows {
                let (idx, val) = train.x.row(i);
                lin.scores_into(idx, val, &mut sc);
                softmax_in_place(&mut sc);
                loss -= train.w[i] * sc[train.y[i]].ln();
            }
            let mut reg: f64 = sp.weight.iter().map(|w| w * w).sum();
            for f in 0..nf {
                reg += (3 - sp.range(f).len()) as f64 * sp.rest[f] * sp.rest[f];
            }
            loss / w_total + 0.5 * reg / (c * w_total)
        };
        let h = 1e-6;
        let n_sup = sp.weight.len();
        let mut worst = 0.0f64;
        for p in 0..n_sup + nf + 3 {
            let probe = |delta: f64| {
                let mut lin = s.linear.clone();
                let sp = lin.support.as_mut().unwrap();
                if p < n_sup {
                    sp.weight[p] += delta;
                } else if p < n_sup + nf {
                    sp.rest[p - n_sup] += delta;
                } else {
                    lin.intercept[p - n_sup - nf] += delta;
                }
                objective(&lin)
            };
            let g = (probe(h) - probe(-h)) / (2.0 * h);
            worst = worst.max(g.abs());
        }
        assert!(
            worst < 1e-6,
            "largest numerical gradient entry at the optimum: {worst:e}"
        );
    }

    #[test]
    fn dedup_gives_the_same_model_as_repetition() {
        // Doubling the data doubles the weights, not the rows.
        let (mut t, mut l) = toy();
        t.extend(t.clone());
        l.extend(l.clone());
        let x = TfidfVectorizer::new(TfidfConfig::default())
            .unwrap()
            .fit_transform(&t)
            .unwrap();
        let (classes, y) = check_training(&t, &l, None).unwrap();
        let d = Design::new(x, y, classes.len());
        assert_eq!(d.n_groups, 90);
        let (train, map) = d.subset(&d.all());
        assert_eq!(train.w.iter().sum::<f64>(), 180.0);
        assert_eq!(map.len(), 180);
    }

    #[test]
    fn stratified_folds_cover_everything_once() {
        let (t, l) = toy();
        let x = TfidfVectorizer::new(TfidfConfig::default())
            .unwrap()
            .fit_transform(&t)
            .unwrap();
        let (classes, y) = check_training(&t, &l, None).unwrap();
        let d = Design::new(x, y, classes.len());
        let folds = d.folds(5, 7);
        let mut all: Vec<usize> = folds.concat();
        all.sort_unstable();
        assert_eq!(all, (0..90).collect::<Vec<_>>());
        for f in &folds {
            assert_eq!(f.len(), 18);
            for c in 0..3 {
                assert_eq!(f.iter().filter(|&&i| d.y[i] == c).count(), 6);
            }
        }
        assert_eq!(folds, d.folds(5, 7));
        assert_ne!(folds, d.folds(5, 8));
    }

    #[test]
    fn platt_recovers_a_known_sigmoid() {
        // Scores with P(y=1|s) = 1/(1+exp(-2s)) i.e. a=-2, b=0, sampled deterministically.
        let mut s = Vec::new();
        let mut pos = Vec::new();
        for i in 0..2000 {
            let x = -3.0 + 6.0 * (i as f64) / 2000.0;
            let p = 1.0 / (1.0 + (-2.0 * x).exp());
            // Deterministic "sampling": position within a cycle of 100.
            let u = ((i * 37) % 100) as f64 / 100.0 + 0.005;
            s.push(x);
            pos.push(u < p);
        }
        let (a, b) = platt(&s, &pos, &vec![1.0; s.len()]);
        assert!((a + 2.0).abs() < 0.3, "a = {a}");
        assert!(b.abs() < 0.2, "b = {b}");
    }

    #[test]
    fn svm_calibration_keeps_rare_classes_ranked() {
        // Classes with one line each cannot be calibrated per class (held out whole in their
        // fold); the shared temperature keeps the SVM's own ranking, so they stay learnable.
        let (mut t, mut l) = toy();
        for (i, w) in ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"]
            .iter()
            .enumerate()
        {
            t.push(format!("rare {w} failure code{i}"));
            l.push(format!("rare_{w}"));
        }
        let mut c = TextClassifier::new(cfg(ModelKind::LinearSvm)).unwrap();
        c.fit(&t, &l).unwrap();
        assert!(matches!(
            c.fitted.as_ref().unwrap().link,
            Link::Temperature { .. }
        ));
        for w in ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"] {
            assert_eq!(
                c.predict(&[format!("rare {w} failure")]).unwrap()[0],
                format!("rare_{w}")
            );
        }
        assert_eq!(c.score(&t, &l).unwrap(), 1.0);
    }

    #[test]
    fn mcnemar_values() {
        // Exact: b=0, c=10 → 2 * 0.5^10.
        assert!((mcnemar_p_value(0, 10) - 2.0 * 0.5f64.powi(10)).abs() < 1e-12);
        assert_eq!(mcnemar_p_value(5, 5), 1.0);
        assert_eq!(mcnemar_p_value(0, 0), 1.0);
        // Chi-squared with correction: b=10, c=30 → (|10-30|-1)^2/40 = 9.025, p ≈ 0.002663.
        assert!((mcnemar_p_value(10, 30) - 0.002663).abs() < 1e-5);
    }

    #[test]
    fn report_matches_hand_counts() {
        let t = ["a", "a", "b", "b", "c"];
        let p = ["a", "b", "b", "b", "a"];
        let r = ClassificationReport::from_labels(&t, &p).unwrap();
        assert_eq!(r.labels, ["a", "b", "c"]);
        assert!((r.accuracy - 0.6).abs() < 1e-12);
        assert_eq!(
            r.confusion,
            vec![vec![1, 1, 0], vec![0, 2, 0], vec![1, 0, 0]]
        );
        let a = &r.per_class[0];
        assert!((a.precision - 0.5).abs() < 1e-12 && (a.recall - 0.5).abs() < 1e-12);
        let b = &r.per_class[1];
        assert!((b.precision - 2.0 / 3.0).abs() < 1e-12 && (b.recall - 1.0).abs() < 1e-12);
        assert_eq!(r.per_class[2].f1, 0.0);
        let f1b = 0.8;
        assert!((r.macro_f1 - (0.5 + f1b) / 3.0).abs() < 1e-12);
        assert!((r.weighted_f1 - (0.5 * 2.0 + f1b * 2.0) / 5.0).abs() < 1e-12);
        let text = r.to_string();
        assert!(
            text.contains("macro avg") && text.contains("confusion"),
            "{text}"
        );
    }

    #[test]
    fn naive_bayes_partial_fit_adds_up() {
        let (t, l) = toy();
        let mut once = TextClassifier::new(cfg(ModelKind::NaiveBayes)).unwrap();
        once.fit(&t, &l).unwrap();
        let mut inc = once.clone();
        // The vocabulary stays as fitted: the new class is learnt from known words.
        let new_texts = vec!["refused oom volume"; 20];
        inc.partial_fit(&new_texts, &vec!["fire"; 20]).unwrap();
        assert_eq!(inc.classes().unwrap(), ["disk", "net", "oom", "fire"]);
        assert_eq!(inc.predict(&["volume refused oom"]).unwrap(), ["fire"]);
        assert_eq!(inc.predict(&["disk full on volume"]).unwrap(), ["disk"]);
        assert_eq!(inc.training_info().unwrap().n_samples, 110);
        let mut lr = TextClassifier::new(cfg(ModelKind::Logistic)).unwrap();
        lr.fit(&t, &l).unwrap();
        let e = lr.partial_fit(&["x"], &["disk"]).unwrap_err();
        assert!(e.to_string().contains("naive_bayes"), "{e}");
    }

    #[test]
    fn bad_input_is_named() {
        let mut c = TextClassifier::new(ClassifierConfig::default()).unwrap();
        let e = c.predict(&["x"]).unwrap_err();
        assert!(matches!(e, Error::NotFitted { .. }), "{e}");
        let e = c.fit(&["a", "b"], &["x"]).unwrap_err();
        assert!(e.to_string().contains("differ in length"), "{e}");
        let e = c.fit(&["a", "b"], &["x", "x"]).unwrap_err();
        assert!(e.to_string().contains("only one class"), "{e}");
        let e = c.fit(&["a", "b"], &["x", ""]).unwrap_err();
        assert!(e.to_string().contains("label 1 is empty"), "{e}");
        let e = c.fit::<&str, &str>(&[], &[]).unwrap_err();
        assert!(e.to_string().contains("no training"), "{e}");
        for (field, cfg) in [
            (
                "c",
                ClassifierConfig {
                    c: f64::NAN,
                    ..Default::default()
                },
            ),
            (
                "alpha",
                ClassifierConfig {
                    alpha: 0.0,
                    ..Default::default()
                },
            ),
            (
                "threshold",
                ClassifierConfig {
                    threshold: 1.5,
                    ..Default::default()
                },
            ),
            (
                "cv_folds",
                ClassifierConfig {
                    cv_folds: 1,
                    ..Default::default()
                },
            ),
            (
                "holdout",
                ClassifierConfig {
                    holdout: f64::INFINITY,
                    ..Default::default()
                },
            ),
        ] {
            match TextClassifier::new(cfg).unwrap_err() {
                Error::InvalidConfig { field: f, .. } => assert_eq!(f, field),
                e => panic!("{e}"),
            }
        }
    }

    #[test]
    fn repeated_texts_in_a_batch_get_the_probabilities_of_a_lone_call() {
        let (t, l) = toy();
        for m in [
            ModelKind::Logistic,
            ModelKind::NaiveBayes,
            ModelKind::LinearSvm,
        ] {
            let mut c = TextClassifier::new(cfg(m)).unwrap();
            c.fit(&t, &l).unwrap();
            // Verbatim repeats, repeats after masking (other numbers), and distinct lines,
            // interleaved: batch rows are shared, and must equal one-text calls bit for bit.
            let q = [
                "disk full on /dev/sda1",
                "connection refused 10.0.0.1",
                "disk full on /dev/sda1",
                "connection refused 10.0.0.2",
                "nothing like the training set",
                "disk full on /dev/sda1",
            ];
            let batch = c.predict_proba(&q).unwrap();
            let flat = c.predict_proba_flat(&q).unwrap();
            let k = c.classes().unwrap().len();
            assert_eq!(flat.len(), q.len() * k);
            for (i, text) in q.iter().enumerate() {
                let lone = c.predict_proba(&[text]).unwrap().remove(0);
                assert_eq!(batch[i], lone, "{m} row {i}");
                assert_eq!(&flat[i * k..(i + 1) * k], lone.as_slice());
                // The confidence is the top class probability discounted for novelty.
                let one = c.predict_one(text).unwrap();
                assert!(one.confidence <= lone.iter().copied().fold(0.0, f64::max));
                assert_eq!(c.predict_many(&q).unwrap()[i], one);
            }
            assert_eq!(c.predict(&q).unwrap().len(), q.len());
        }
    }

    #[test]
    fn round_trip_keeps_probabilities() {
        let (t, l) = toy();
        let mut c = TextClassifier::new(cfg(ModelKind::LinearSvm)).unwrap();
        c.fit(&t, &l).unwrap();
        let back = TextClassifier::from_bytes(&c.to_bytes().unwrap()).unwrap();
        assert_eq!(back, c);
        let q = ["disk full", "refused"];
        assert_eq!(
            back.predict_proba(&q).unwrap(),
            c.predict_proba(&q).unwrap()
        );
        assert_eq!(
            back.predict_one("disk full").unwrap(),
            c.predict_one("disk full").unwrap()
        );
    }

    #[test]
    fn is_send_sync_clone() {
        fn check<T: Send + Sync + Clone>() {}
        check::<TextClassifier>();
    }
}
