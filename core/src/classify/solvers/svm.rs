//! One-vs-rest linear SVM (squared hinge) by dual coordinate descent.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rayon::prelude::*;

use crate::classify::design::Train;
use crate::classify::linear::{Linear, Solved};
use crate::parallel;

/// One-vs-rest L2-regularised squared-hinge SVM by dual coordinate descent (Hsieh et al. 2008,
/// liblinear's solver 1), with a regularised bias feature of value 1. Classes train in parallel.
pub(in crate::classify) fn fit_svm(
    t: &Train,
    c: f64,
    max_iter: usize,
    tol: f64,
    seed: u64,
) -> Solved {
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
