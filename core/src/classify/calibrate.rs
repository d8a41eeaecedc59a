//! From out-of-fold scores to probabilities: Platt sigmoids, temperature scaling, the choice
//! between them, and the held-out confidences that become the drift baseline.

use super::design::Design;
use super::linear::{Link, apply_link};

/// Platt's sigmoid `P(y=1|s) = 1 / (1 + exp(a s + b))` fitted by Newton's method with Platt's
/// smoothed targets (Lin, Lin & Weng 2007), on weighted decision values.
pub(super) fn platt(scores: &[f64], positive: &[bool], weight: &[f64]) -> (f64, f64) {
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

/// The samples of `folds` whose class also has samples outside their fold: only those say how
/// well the model is calibrated. A sample whose class the fold's model never saw is always
/// wrong, and the final model, trained on everything, knows every class; counting them would
/// teach the calibration an under-confidence the deployed model does not have.
pub(super) fn calibration_rows(d: &Design, folds: &[Vec<usize>]) -> Vec<usize> {
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
pub(super) const TEMPERATURE_PRIOR_SD: f64 = 2.0;

/// Mean negative log-likelihood of the true classes of `rows` under `link`.
pub(super) fn log_loss(link: &Link, oof: &[Vec<f64>], y: &[usize], rows: &[usize]) -> f64 {
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
pub(super) fn fit_temperature(oof: &[Vec<f64>], y: &[usize], rows: &[usize]) -> f64 {
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
pub(super) fn calibrate(
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
pub(super) fn confidences(link: &Link, oof: &[Vec<f64>], rows: &[usize]) -> Vec<f64> {
    rows.iter()
        .map(|&i| {
            let mut p = oof[i].clone();
            apply_link(link, &mut p);
            p.into_iter().fold(0.0, f64::max)
        })
        .collect()
}

/// Out-of-fold raw scores (one row per sample, empty outside the folds) and the folds.
pub(super) type HeldOut = (Vec<Vec<f64>>, Vec<Vec<usize>>);
