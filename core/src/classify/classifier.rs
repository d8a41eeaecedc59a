//! [`TextClassifier`]: its fitted state, construction, `fit` and `partial_fit`; what it reports
//! ([`TrainingInfo`]). Prediction is in `predict.rs` (its answer in `prediction.rs`), the model
//! file in `persist.rs`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::calibrate::{HeldOut, calibrate, calibration_rows, confidences, fit_temperature};
use super::confidence::novelty_observations;
use super::config::{CANDIDATES, ClassifierConfig, ModelKind};
use super::design::{Design, check_training};
use super::linear::{Linear, Link, argmax};
use super::metrics::{ClassifierMetrics, Counters};
use super::novelty::{Calibrator, Reference};
use super::progress::{Progress, Reporter};
use super::report::ClassificationReport;
use super::solvers::{NbCounts, nb_counts, nb_linear, out_of_fold, train_raw};
use crate::error::{Error, Result};
use crate::text::Preprocessor;
use crate::vectorize::TfidfVectorizer;

pub(super) const WHAT: &str = "TextClassifier";

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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct Fitted {
    pub(super) model: ModelKind,
    pub(super) classes: Vec<String>,
    pub(super) linear: Linear,
    pub(super) link: Link,
    pub(super) nb: Option<NbCounts>,
    pub(super) info: TrainingInfo,
    /// Absent in files from before confidence accounted for novelty: their confidence is the
    /// class probability, and novelty is reported as 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) novelty: Option<Novelty>,
}

/// The training rows and the confidence model fitted on held-out lines (see `novelty.rs`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct Novelty {
    pub(super) reference: Reference,
    /// `None` when no line was held out (`holdout = 0` with `logistic` or `naive_bayes`): the
    /// confidence is then the class probability.
    pub(super) calibrator: Option<Calibrator>,
    /// Below this support the confidence falls in proportion to it (see `support_floor`); 0 in
    /// files from before it.
    #[serde(default)]
    pub(super) support_floor: f64,
}

/// Derived, never saved: feature names and per-feature mean weight (for explanations), and for
/// support-layout models with a softmax link `exp(intercept / t - max)` (see `proba_into`).
#[derive(Clone, Debug, Default)]
pub(super) struct Derived {
    pub(super) names: Arc<Vec<String>>,
    pub(super) coef_mean: Arc<Vec<f64>>,
    pub(super) exp_intercept: Option<Arc<(Vec<f64>, f64)>>,
}

/// Error text → remedy label, with calibrated confidence, explanations and one model file.
///
/// `Send + Sync + Clone`: share one fitted classifier between threads behind an `Arc`, and call
/// [`predict_one`](Self::predict_one) through `&self`.
#[derive(Clone, Debug)]
pub struct TextClassifier {
    pub(super) config: ClassifierConfig,
    pub(super) vectorizer: TfidfVectorizer,
    pub(super) fitted: Option<Fitted>,
    pub(super) derived: Derived,
    /// Prediction counters: never saved, not compared, zero in a clone.
    pub(super) counters: Counters,
}

impl PartialEq for TextClassifier {
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config
            && self.vectorizer == other.vectorizer
            && self.fitted == other.fitted
    }
}

pub(super) fn now_unix() -> u64 {
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
            counters: Counters::default(),
        })
    }

    /// Prediction counters since creation, load or [`reset_metrics`](Self::reset_metrics): rows
    /// predicted, how many were novel or unreliable, and a confidence histogram. Not saved with
    /// the model; a clone starts at zero.
    pub fn metrics(&self) -> ClassifierMetrics {
        self.counters.snapshot()
    }

    /// Sets the prediction counters back to zero.
    pub fn reset_metrics(&self) {
        self.counters.reset();
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

    pub(super) fn fitted(&self) -> Result<&Fitted> {
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

    pub(super) fn derive(&mut self) -> Result<()> {
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
}
