//! The three solvers, and raw (uncalibrated) training of one model on a weighted training set,
//! in full or fold by fold.

mod lbfgs;
mod logistic;
mod naive_bayes;
mod svm;

pub(super) use logistic::fit_logistic;
pub(super) use naive_bayes::{NbCounts, nb_counts, nb_linear};

use super::config::{ClassifierConfig, ModelKind};
use super::design::{Design, Train, complement};
use super::linear::{Linear, Link};
use super::progress::Reporter;
use svm::fit_svm;

/// A trained model plus how its scores become probabilities, before any file wrapping.
pub(super) struct Trained {
    pub(super) linear: Linear,
    pub(super) link: Link,
    pub(super) nb: Option<NbCounts>,
    pub(super) iterations: usize,
    pub(super) converged: bool,
}

/// Raw (uncalibrated) training for one concrete model.
pub(super) fn train_raw(
    model: ModelKind,
    t: &Train,
    cfg: &ClassifierConfig,
    rep: &mut Reporter,
) -> Trained {
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
pub(super) fn out_of_fold(
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
