//! Limited-memory BFGS, the optimiser behind logistic regression.

use crate::classify::progress::Reporter;

pub(in crate::classify) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Limited-memory BFGS with an Armijo backtracking line search; stops when the largest gradient
/// entry is below `tol`, the objective stops moving, or after `max_iter` iterations.
// Inlined by hint into fit_logistic (another module, so maybe another codegen unit): apart, the
// objective closure compiled to 3.6% more instructions on the Loghub fits.
#[inline]
pub(in crate::classify) fn lbfgs(
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
