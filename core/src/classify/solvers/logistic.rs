//! Multinomial logistic regression in the support layout, solved by L-BFGS over the sparse rows.

use rayon::prelude::*;

use super::lbfgs::lbfgs;
use crate::classify::design::Train;
use crate::classify::linear::{Linear, Solved, Support};
use crate::classify::progress::Reporter;
use crate::parallel;

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
pub(in crate::classify) fn fit_logistic(
    t: &Train,
    c: f64,
    max_iter: usize,
    tol: f64,
    rep: &mut Reporter,
) -> Solved {
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
