//! The fitted scorer every model ends as (dense or support-layout linear weights), how its scores
//! become probabilities (softmax, Platt, temperature), and what a solver returns.

use serde::{Deserialize, Serialize};

/// How scores become probabilities.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum Link {
    /// Softmax of the linear scores (logistic regression; naive Bayes joint log-likelihoods).
    Softmax,
    /// Per-class sigmoid `1 / (1 + exp(a s + b))`, then normalised to sum to one.
    Platt { a: Vec<f64>, b: Vec<f64> },
    /// Softmax of the scores divided by `t`: Platt scaling's multiclass form (one shared slope,
    /// "temperature scaling"), better calibrated than normalised one-vs-rest sigmoids when many
    /// classes each hold a little probability.
    Temperature { t: f64 },
}

/// Largest magnitude of a saved model parameter (weight, intercept, count, calibration
/// weight). Fitted models stay many orders below it; within it no score, however many features
/// an input holds, overflows to a non-finite probability, so a loaded file that passes this
/// bound predicts finite numbers.
pub(super) const MAX_PARAMETER: f64 = 1e100;

/// Whether `v` is a number a fitted model can hold (false for NaN and infinities).
pub(super) fn bounded(v: &f64) -> bool {
    v.abs() <= MAX_PARAMETER
}

/// A linear scorer: `score[k] = intercept[k] + sum_f x_f w(f, k)`.
///
/// Two layouts. Dense: `coef[f * n_classes + k]` (feature-major so one non-zero touches one
/// contiguous run); naive Bayes, the SVM and logistic models from older files use it. Sparse
/// ([`Support`]): logistic regression fitted since the support layout, one free weight per
/// (feature, class) pair seen together in training and one shared weight per feature for every
/// other class; memory and per-row cost then follow the data's non-zeros, not features x classes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct Linear {
    pub(super) n_features: usize,
    pub(super) n_classes: usize,
    /// Dense weights; empty when `support` holds them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) coef: Vec<f64>,
    pub(super) intercept: Vec<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) support: Option<Support>,
}

/// Sparse weights: for feature `f`, classes `classes[indptr[f]..indptr[f + 1]]` (ascending) have
/// their own weights `weight[..]`; every other class has `rest[f]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct Support {
    pub(super) indptr: Vec<usize>,
    pub(super) classes: Vec<u32>,
    pub(super) weight: Vec<f64>,
    pub(super) rest: Vec<f64>,
}

impl Support {
    // Inlined by hint: called per non-zero from predict.rs, which may sit in another codegen unit.
    #[inline]
    pub(super) fn range(&self, f: usize) -> std::ops::Range<usize> {
        self.indptr[f]..self.indptr[f + 1]
    }

    pub(super) fn is_valid(&self, nf: usize, k: usize) -> bool {
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
            && self.weight.iter().chain(&self.rest).all(bounded)
    }
}

impl Linear {
    pub(super) fn zeros(n_features: usize, n_classes: usize) -> Self {
        Linear {
            n_features,
            n_classes,
            coef: vec![0.0; n_features * n_classes],
            intercept: vec![0.0; n_classes],
            support: None,
        }
    }

    pub(super) fn scores_into(&self, idx: &[u32], val: &[f64], out: &mut [f64]) {
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
    #[inline]
    pub(super) fn weight(&self, f: usize, c: usize) -> f64 {
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
    pub(super) fn feature_means(&self) -> Vec<f64> {
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

    pub(super) fn is_valid(&self, nf: usize, k: usize) -> bool {
        let shape = self.n_features == nf && self.n_classes == k && self.intercept.len() == k;
        let weights = match &self.support {
            Some(sp) => self.coef.is_empty() && sp.is_valid(nf, k),
            None => self.coef.len() == nf * k,
        };
        shape && weights && self.coef.iter().chain(&self.intercept).all(bounded)
    }
}

pub(super) fn softmax_in_place(s: &mut [f64]) {
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

pub(super) fn sigmoid_platt(a: f64, b: f64, s: f64) -> f64 {
    let t = a * s + b;
    // 1 / (1 + exp(t)), written to avoid overflow on either side.
    if t >= 0.0 {
        let e = (-t).exp();
        e / (1.0 + e)
    } else {
        1.0 / (1.0 + t.exp())
    }
}

pub(super) fn apply_link(link: &Link, s: &mut [f64]) {
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

pub(super) fn argmax(s: &[f64]) -> usize {
    let mut best = 0;
    for (k, &v) in s.iter().enumerate() {
        if v > s[best] {
            best = k;
        }
    }
    best
}

/// What a solver returns: the fitted scorer, its iterations, and whether it met `tol`.
pub(super) struct Solved {
    pub(super) linear: Linear,
    pub(super) iterations: usize,
    pub(super) converged: bool,
}
