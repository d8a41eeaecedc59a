//! Multinomial naive Bayes: counts from weighted rows, and the log-probability scorer they give.

use serde::{Deserialize, Serialize};

use crate::classify::design::Train;
use crate::classify::linear::Linear;

/// Naive Bayes sufficient statistics (kept so `partial_fit` can add to them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(in crate::classify) struct NbCounts {
    /// Class-major: `feature_count[k * n_features + f]`.
    pub(in crate::classify) feature_count: Vec<f64>,
    pub(in crate::classify) class_count: Vec<f64>,
}

/// Multinomial naive Bayes counts from weighted rows.
pub(in crate::classify) fn nb_counts(t: &Train) -> NbCounts {
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
pub(in crate::classify) fn nb_linear(nb: &NbCounts, nf: usize, alpha: f64) -> Linear {
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
