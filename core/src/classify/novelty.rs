//! How far an input is from what the classifier learned, and what that does to the chance its
//! answer is right.
//!
//! A linear model scores whatever n-grams of an input it knows and ignores the rest, so a line of
//! a template it never saw (or of another system) can get a probability near 1 from two familiar
//! words. Two pieces correct that:
//!
//! - [`Reference`]: the distinct training rows with their classes. An input's *support* is its
//!   cosine to the nearest training row of the predicted class, computed on the whole text
//!   (n-grams outside the vocabulary count, see `TfidfVectorizer::transform_with_unseen`).
//! - [`Calibrator`]: `P(known | support)`, the chance that an input with this support belongs to
//!   a template the model learned, a logistic model fitted at training time on held-out lines of
//!   two kinds: lines of known classes (with their support among the rows the model that did not
//!   train on them saw) and the same lines with their class taken away (their support among the
//!   other classes' rows: "a template the model never saw"). The confidence of an answer is the
//!   class probability (calibrated on held-out lines of known classes) times `P(known)`: a product,
//!   so no class probability, however high, can outweigh an input that looks like nothing learned.

use serde::{Deserialize, Serialize};

use crate::vectorize::CsrMatrix;

/// The distinct training rows (L2-normalised TF-IDF) and the class of each.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(super) struct Reference {
    indptr: Vec<usize>,
    indices: Vec<u32>,
    data: Vec<f64>,
    class: Vec<u32>,
    /// Feature → (row, value) of every row holding it; rebuilt on load.
    #[serde(skip)]
    postings: Vec<Vec<(u32, f64)>>,
}

impl PartialEq for Reference {
    fn eq(&self, o: &Self) -> bool {
        (&self.indptr, &self.indices, &self.data, &self.class)
            == (&o.indptr, &o.indices, &o.data, &o.class)
    }
}

thread_local! {
    /// Per-thread dot-product accumulator of `Reference::nearest`: (score by row, rows touched).
    static SCRATCH: std::cell::RefCell<(Vec<f64>, Vec<u32>)> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

impl Reference {
    /// Rows `0..x.n_rows` of `x` with their classes.
    pub(super) fn new(x: &CsrMatrix, class: &[usize], n_features: usize) -> Self {
        let mut r = Reference {
            indptr: x.indptr.clone(),
            indices: x.indices.clone(),
            data: x.data.clone(),
            class: class.iter().map(|&c| c as u32).collect(),
            postings: Vec::new(),
        };
        r.index(n_features);
        r
    }

    /// Appends rows (naive Bayes `partial_fit`).
    pub(super) fn extend(&mut self, x: &CsrMatrix, class: &[usize], n_features: usize) {
        for i in 0..x.n_rows {
            let (idx, val) = x.row(i);
            self.indices.extend_from_slice(idx);
            self.data.extend_from_slice(val);
            self.indptr.push(self.indices.len());
        }
        self.class.extend(class.iter().map(|&c| c as u32));
        self.index(n_features);
    }

    pub(super) fn len(&self) -> usize {
        self.class.len()
    }

    pub(super) fn class_of(&self, row: usize) -> usize {
        self.class[row] as usize
    }

    /// Whether the stored rows fit a vocabulary of `n_features` and `n_classes` classes.
    pub(super) fn is_valid(&self, n_features: usize, n_classes: usize) -> bool {
        let n = self.class.len();
        self.indptr.len() == n + 1
            && self.indptr.first() == Some(&0)
            && self.indptr.windows(2).all(|w| w[0] <= w[1])
            && self.indptr.last() == Some(&self.indices.len())
            && self.indices.len() == self.data.len()
            && self.indices.iter().all(|&f| (f as usize) < n_features)
            && self.data.iter().all(super::linear::bounded)
            && self.class.iter().all(|&c| (c as usize) < n_classes)
    }

    /// Builds the postings (after `new`, `extend` or loading).
    pub(super) fn index(&mut self, n_features: usize) {
        let mut postings = vec![Vec::new(); n_features];
        for r in 0..self.class.len() {
            for p in self.indptr[r]..self.indptr[r + 1] {
                if let Some(list) = postings.get_mut(self.indices[p] as usize) {
                    list.push((r as u32, self.data[p]));
                }
            }
        }
        self.postings = postings;
    }

    /// The largest cosine of the row `(idx, val)` with a stored row `allow`ed, overall and
    /// among rows of `class`, each times the part of the row those rows could have matched:
    /// features no allowed row holds count as unseen n-grams (as `transform_with_unseen` counts
    /// them), so a held-out line sees what a new line would. `unseen` more n-grams (already
    /// left out of the row) count as well.
    pub(super) fn nearest(
        &self,
        idx: &[u32],
        val: &[f64],
        unseen: f64,
        class: usize,
        allow: impl Fn(usize) -> bool,
    ) -> (f64, f64) {
        SCRATCH.with(|cell| {
            let (scores, touched) = &mut *cell.borrow_mut();
            if scores.len() < self.class.len() {
                scores.resize(self.class.len(), 0.0);
            }
            let (mut known, mut norm) = (0usize, 0.0);
            for (&f, &w) in idx.iter().zip(val) {
                let mut held = false;
                for &(r, v) in self.postings.get(f as usize).map_or(&[][..], Vec::as_slice) {
                    if !allow(r as usize) {
                        continue;
                    }
                    held = true;
                    let s = &mut scores[r as usize];
                    if *s == 0.0 {
                        touched.push(r);
                    }
                    *s += w * v;
                }
                if held {
                    known += 1;
                    norm += w * w;
                }
            }
            let (mut any, mut own) = (0.0f64, 0.0f64);
            for &r in touched.iter() {
                let s = std::mem::take(&mut scores[r as usize]);
                any = any.max(s);
                if self.class[r as usize] as usize == class {
                    own = own.max(s);
                }
            }
            touched.clear();
            if known == 0 {
                return (0.0, 0.0);
            }
            // `unseen` is a share of (known + unseen) n-grams: turn it back into a count.
            let extra = if unseen < 1.0 {
                unseen / (1.0 - unseen) * idx.len() as f64
            } else {
                0.0
            };
            let missing = (idx.len() - known) as f64 + extra;
            let whole = (known as f64 / (known as f64 + missing)).sqrt() / norm.sqrt();
            ((any * whole).min(1.0), (own * whole).min(1.0))
        })
    }
}

/// One held-out observation for [`Calibrator::fit`]: features, whether the event happened, and
/// its weight.
#[derive(Clone, Debug)]
pub(crate) struct Observation {
    pub x: Vec<f64>,
    pub hit: bool,
    pub weight: f64,
}

/// A weighted logistic model `P(hit) = 1 / (1 + exp(-(w . x + b)))`, small enough to fit by
/// Newton's method at training time (a handful of features, thousands of observations).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Calibrator {
    /// One weight per feature, then the intercept.
    pub w: Vec<f64>,
}

/// The classifier's features of an input's support: `[support, -ln(1 - support + 0.01), exact]`,
/// all non-decreasing in it (fitted with non-negative weights, so more support never lowers the
/// confidence). The log term tells "close" (0.9) from "a copy" (1); the exact-copy indicator lets
/// copies of training lines (most of a log) have their own level, so the curve over new lines is
/// fitted on new lines. Models saved with the first two features only read the first two.
pub(super) fn support_features(support: f64) -> Vec<f64> {
    let s = support.clamp(0.0, 1.0);
    vec![s, -(1.01 - s).ln(), f64::from(u8::from(s >= 1.0 - 1e-9))]
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl Calibrator {
    /// Fits by Newton's method with a small ridge on the weights (the data can be separable:
    /// every line with support 1 known); `None` when one outcome never happens or the
    /// observations are inconsistent in width. The features `increasing` keep weights at or above 0 (the probability never falls as
    /// they grow): a feature whose free weight comes out negative is dropped and the rest
    /// refitted.
    pub(crate) fn fit_increasing(obs: &[Observation], increasing: &[usize]) -> Option<Self> {
        let mut dropped = vec![false; obs.first()?.x.len()];
        loop {
            let c = Self::fit_masked(obs, &dropped)?;
            match increasing.iter().find(|&&f| !dropped[f] && c.w[f] < 0.0) {
                Some(&f) => dropped[f] = true,
                None => return Some(c),
            }
        }
    }

    /// Fits with the `dropped` features' weights fixed at 0.
    fn fit_masked(obs: &[Observation], dropped: &[bool]) -> Option<Self> {
        let n = obs.first()?.x.len() + 1;
        if obs
            .iter()
            .any(|o| o.x.len() + 1 != n || !o.weight.is_finite() || o.weight < 0.0)
        {
            return None;
        }
        let total: f64 = obs.iter().map(|o| o.weight).sum();
        let hits: f64 = obs.iter().filter(|o| o.hit).map(|o| o.weight).sum();
        if total.is_nan() || total <= 0.0 || hits <= 0.0 || hits >= total {
            return None;
        }
        // Weights scaled to sum to the number of observations, so the ridge means the same
        // whatever the weighting.
        let scale = obs.len() as f64 / total;
        let ridge = 1e-2;
        let mut w = vec![0.0; n];
        w[n - 1] = (hits / (total - hits)).ln();
        let mut x = vec![0.0; n];
        for _ in 0..50 {
            let mut g = vec![0.0; n];
            let mut h = vec![vec![0.0; n]; n];
            for o in obs {
                x[..n - 1].copy_from_slice(&o.x);
                x[n - 1] = 1.0;
                let z: f64 = x.iter().zip(&w).map(|(a, b)| a * b).sum();
                let q = sigmoid(z);
                let ow = o.weight * scale;
                let t = if o.hit { 1.0 } else { 0.0 };
                for a in 0..n {
                    g[a] += ow * (q - t) * x[a];
                    for b in 0..n {
                        h[a][b] += ow * q * (1.0 - q) * x[a] * x[b];
                    }
                }
            }
            for a in 0..n - 1 {
                g[a] += ridge * w[a];
                h[a][a] += ridge;
                if dropped[a] {
                    // Pinned at 0: no gradient, an identity row.
                    g[a] = 0.0;
                    h[a].iter_mut().for_each(|v| *v = 0.0);
                    (0..n).for_each(|b| h[b][a] = 0.0);
                    h[a][a] = 1.0;
                }
            }
            h[n - 1][n - 1] += 1e-9;
            let step = solve(h, g)?;
            let mut biggest = 0.0f64;
            for a in 0..n {
                w[a] -= step[a];
                biggest = biggest.max(step[a].abs());
            }
            if biggest < 1e-9 {
                break;
            }
        }
        w.iter().all(|v| v.is_finite()).then_some(Calibrator { w })
    }

    /// Whether the model has `features` weights (plus the intercept), all within
    /// [`MAX_PARAMETER`](super::linear::MAX_PARAMETER).
    pub(crate) fn is_valid(&self, features: usize) -> bool {
        self.w.len() == features + 1 && self.w.iter().all(super::linear::bounded)
    }

    /// `P(hit)` for features `x`.
    pub(crate) fn probability(&self, x: &[f64]) -> f64 {
        let (b, w) = self.w.split_last().unwrap_or((&0.0, &[]));
        sigmoid(x.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() + b)
    }
}

/// Solves `h x = g` (tiny, symmetric positive definite) by Gaussian elimination with pivoting.
fn solve(mut h: Vec<Vec<f64>>, mut g: Vec<f64>) -> Option<Vec<f64>> {
    let n = g.len();
    for c in 0..n {
        let piv = (c..n).max_by(|&a, &b| h[a][c].abs().total_cmp(&h[b][c].abs()))?;
        if h[piv][c].abs() < 1e-300 {
            return None;
        }
        h.swap(c, piv);
        g.swap(c, piv);
        let pivot_row = h[c].clone();
        for r in c + 1..n {
            let f = h[r][c] / pivot_row[c];
            h[r].iter_mut()
                .zip(&pivot_row)
                .skip(c)
                .for_each(|(v, p)| *v -= f * p);
            g[r] -= f * g[c];
        }
    }
    let mut x = vec![0.0; n];
    for c in (0..n).rev() {
        let s: f64 = (c + 1..n).map(|k| h[c][k] * x[k]).sum();
        x[c] = (g[c] - s) / h[c][c];
    }
    Some(x)
}
