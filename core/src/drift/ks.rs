//! Two-sample Kolmogorov-Smirnov test, equal to `scipy.stats.ks_2samp(a, b)` (two-sided,
//! `method="auto"`): the exact distribution when both samples hold at most 10 000 values, the
//! `kstwo` distribution of `round(n1 n2 / (n1 + n2))` otherwise, with scipy's fallbacks.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};
use statrs::function::gamma::ln_gamma;

use crate::error::{Error, Result};

/// The significance level `ks_columns` flags drift at when a caller names none (scipy's
/// customary 0.05).
pub const DEFAULT_ALPHA: f64 = 0.05;

/// scipy's `MAX_AUTO_N`: larger samples use the asymptotic method.
const MAX_EXACT_N: usize = 10_000;

/// Which distribution gave the p-value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KsMethod {
    /// The exact distribution of the two-sample statistic.
    Exact,
    /// The one-sample Kolmogorov distribution at the effective sample size.
    Asymptotic,
}

/// Result of [`ks_2samp`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct KsResult {
    /// Largest distance between the two empirical CDFs.
    pub statistic: f64,
    /// Two-sided p-value.
    pub pvalue: f64,
    /// How the p-value was computed.
    pub method: KsMethod,
}

/// One column's result from [`ks_columns`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct KsColumn {
    /// KS statistic of the column.
    pub statistic: f64,
    /// Two-sided p-value.
    pub pvalue: f64,
    /// `pvalue < alpha`.
    pub drift: bool,
}

fn sorted_checked(x: &[f64], what: &str) -> Result<Vec<f64>> {
    if x.is_empty() {
        return Err(Error::InvalidInput(format!("{what} sample is empty")));
    }
    if let Some(i) = x.iter().position(|v| v.is_nan()) {
        return Err(Error::InvalidInput(format!(
            "{what} sample value {i} is NaN"
        )));
    }
    let mut v = x.to_vec();
    v.sort_by(f64::total_cmp);
    Ok(v)
}

/// The two-sided two-sample KS test of `reference` against `current`, as scipy computes it.
pub fn ks_2samp(reference: &[f64], current: &[f64]) -> Result<KsResult> {
    let a = sorted_checked(reference, "reference")?;
    let b = sorted_checked(current, "current")?;
    Ok(ks_sorted(&a, &b))
}

fn ks_sorted(a: &[f64], b: &[f64]) -> KsResult {
    let (n1, n2) = (a.len(), b.len());
    // scipy evaluates cdf1 - cdf2 (with side='right') at every pooled value; a merge walk over
    // distinct values visits the same points.
    let (mut i, mut j) = (0usize, 0usize);
    let (mut max_s, mut min_s) = (f64::NEG_INFINITY, f64::INFINITY);
    while i < n1 || j < n2 {
        let x = match (a.get(i), b.get(j)) {
            (Some(&u), Some(&v)) => u.min(v),
            (Some(&u), None) => u,
            (None, Some(&v)) => v,
            (None, None) => break,
        };
        while i < n1 && a[i] <= x {
            i += 1;
        }
        while j < n2 && b[j] <= x {
            j += 1;
        }
        let d = i as f64 / n1 as f64 - j as f64 / n2 as f64;
        max_s = max_s.max(d);
        min_s = min_s.min(d);
    }
    let min_s = (-min_s).clamp(0.0, 1.0);
    let d = if min_s > max_s { min_s } else { max_s };
    if n1.max(n2) <= MAX_EXACT_N
        && let Some((d, p)) = exact_two_sided(n1, n2, d)
    {
        return KsResult {
            statistic: d,
            pvalue: p,
            method: KsMethod::Exact,
        };
    }
    let (m, n) = (n1.max(n2) as f64, n1.min(n2) as f64);
    let en = (m * n / (m + n)).round_ties_even();
    KsResult {
        statistic: d,
        pvalue: kolmogn_sf(en as u64, d).clamp(0.0, 1.0),
        method: KsMethod::Asymptotic,
    }
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// scipy's `_attempt_exact_2kssamp` (two-sided): `None` where scipy falls back to asymptotic.
fn exact_two_sided(n1: usize, n2: usize, d: f64) -> Option<(f64, f64)> {
    let g = gcd(n1, n2);
    let lcm = (n1 / g) as f64 * n2 as f64;
    let h = (d * lcm).round_ties_even();
    let d = h / lcm;
    if h == 0.0 {
        return Some((d, 1.0));
    }
    let h = h as u64;
    let p = if n1 == n2 {
        prob_outside_square(n1 as u64, h)
    } else {
        outer_prob_inside(n1 as u64, n2 as u64, g as u64, h)
    };
    (p.is_finite() && (0.0..=1.0).contains(&p)).then_some((d, p))
}

/// P(D_{n,n} ≥ h/n) by the alternating sum, evaluated Horner-style as scipy does.
fn prob_outside_square(n: u64, h: u64) -> f64 {
    let (n, h) = (n as f64, h as f64);
    let mut p = 0.0;
    let mut k = (n / h).floor();
    while k >= 0.0 {
        let mut p1 = 1.0;
        let mut j = 0.0;
        while j < h {
            p1 = (n - k * h - j) * p1 / (n + k * h + j + 1.0);
            j += 1.0;
        }
        p = p1 * (1.0 - p);
        k -= 1.0;
    }
    2.0 * p
}

/// Proportion of lattice paths from (0,0) to (m,n) that leave the band |x/m − y/n| < h/lcm,
/// computed as 1 − p directly (Hodges; Viehmann 2021), one sliding column at a time.
fn outer_prob_inside(m: u64, n: u64, g: u64, h: u64) -> f64 {
    let (m, n) = if m < n { (n, m) } else { (m, n) };
    let (mg, ng) = ((m / g) as i64, (n / g) as i64);
    let (m, n, h) = (m as i64, n as i64, h as i64);
    let ceil_div = |a: i64, b: i64| (a as f64 / b as f64).ceil() as i64;
    let floor_div = |a: i64, b: i64| (a as f64 / b as f64).floor() as i64;
    let mut minj: i64 = 0;
    let mut maxj: i64 = ceil_div(h, mg).min(n + 1);
    let mut curlen = maxj - minj;
    let len_a = (2 * maxj + 2).min(n + 1) as usize;
    let mut a = vec![1.0f64; len_a];
    for v in a.iter_mut().take(maxj as usize).skip(minj as usize) {
        *v = 0.0;
    }
    for i in 1..=m {
        let (last_minj, last_len) = (minj, curlen);
        minj = (floor_div(ng * i - h, mg) + 1).max(0).min(n);
        maxj = ceil_div(ng * i + h, mg).min(n + 1);
        if maxj <= minj {
            return 1.0;
        }
        let mut val = if minj == 0 { 0.0 } else { 1.0 };
        let fi = i as f64;
        for jj in 0..(maxj - minj) {
            let j = (jj + minj) as f64;
            val = (a[(jj + minj - last_minj) as usize] * fi + val * j) / (fi + j);
            a[jj as usize] = val;
        }
        curlen = maxj - minj;
        if last_len > curlen {
            let from = (maxj - minj) as usize;
            let to = (from + (last_len - curlen) as usize).min(a.len());
            for v in &mut a[from..to] {
                *v = 1.0;
            }
        }
    }
    a[(maxj - minj - 1) as usize]
}

/// Survival function of the two-sided one-sample KS statistic D_n (scipy's `kstwo.sf`, following
/// Simard & L'Ecuyer's method choice as `scipy.stats._ksstats._kolmogn` does).
pub(crate) fn kolmogn_sf(n: u64, x: f64) -> f64 {
    if x >= 1.0 {
        return 0.0;
    }
    if x <= 0.0 {
        return 1.0;
    }
    let nf = n as f64;
    let t = nf * x;
    if t <= 1.0 {
        if t <= 0.5 {
            return 1.0;
        }
        let prob = if n <= 140 {
            (1..=n).fold(1.0, |p, i| p * (i as f64 * (1.0 / nf) * (2.0 * t - 1.0)))
        } else {
            (log_nfactorial_div_n_pow_n(nf) + nf * (2.0 * t - 1.0).ln()).exp()
        };
        return (1.0 - prob).clamp(0.0, 1.0);
    }
    if t >= nf - 1.0 {
        return (2.0 * (1.0 - x).powf(nf)).clamp(0.0, 1.0);
    }
    if x >= 0.5 {
        return (2.0 * smirnov(n, x)).clamp(0.0, 1.0);
    }
    let nxsq = t * x;
    if n <= 140 {
        // scipy uses Pomeranz's recursion for 0.754693 < n x² <= 4; it and Durbin's matrix are
        // both exact, so one exact method serves both ranges.
        if nxsq <= 4.0 {
            return (1.0 - durbin_cdf(n, x)).clamp(0.0, 1.0);
        }
        return (2.0 * smirnov(n, x)).clamp(0.0, 1.0);
    }
    if nxsq >= 370.0 {
        return 0.0;
    }
    if nxsq >= 2.2 {
        return (2.0 * smirnov(n, x)).clamp(0.0, 1.0);
    }
    let cdf = if n <= 100_000 && nf * x.powf(1.5) <= 1.4 {
        durbin_cdf(n, x)
    } else {
        pelz_good_cdf(n, x)
    };
    (1.0 - cdf).clamp(0.0, 1.0)
}

fn log_nfactorial_div_n_pow_n(n: f64) -> f64 {
    // scipy's Stirling-series coefficients, digits as published.
    #[allow(clippy::excessive_precision)]
    const C: [f64; 8] = [
        -2.955065359477124183e-2,
        6.4102564102564102564e-3,
        -1.9175269175269175269e-3,
        8.4175084175084175084e-4,
        -5.952380952380952381e-4,
        7.9365079365079365079e-4,
        -2.7777777777777777778e-3,
        8.3333333333333333333e-2,
    ];
    let rn = 1.0 / n;
    let x = rn / n;
    let poly = C.iter().fold(0.0, |acc, c| acc * x + c);
    n.ln() / 2.0 - n + (2.0 * std::f64::consts::PI).ln() / 2.0 + rn * poly
}

/// One-sided Smirnov survival P(D_n⁺ ≥ x), Birnbaum & Tingey's exact sum (terms in logs).
fn smirnov(n: u64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    if x >= 1.0 {
        return 0.0;
    }
    let nf = n as f64;
    let nn = (nf * (1.0 - x)).floor() as u64;
    let lg_n1 = ln_gamma(nf + 1.0);
    let mut p = 0.0;
    for v in 0..=nn {
        let vf = v as f64;
        let evn = x + vf / nf;
        let omevn = 1.0 - evn;
        if omevn <= 0.0 {
            continue;
        }
        let t = lg_n1 - ln_gamma(vf + 1.0) - ln_gamma(nf - vf + 1.0)
            + (vf - 1.0) * evn.ln()
            + (nf - vf) * omevn.ln();
        if t > -708.0 {
            p += t.exp();
        }
    }
    p * x
}

const E128: f64 = 340282366920938463463374607431768211456.0; // 2^128
const EM128: f64 = 1.0 / E128;

fn matmul(a: &[f64], b: &[f64], m: usize) -> Vec<f64> {
    let mut c = vec![0.0; m * m];
    for i in 0..m {
        for k in 0..m {
            let aik = a[i * m + k];
            if aik == 0.0 {
                continue;
            }
            for j in 0..m {
                c[i * m + j] += aik * b[k * m + j];
            }
        }
    }
    c
}

/// P(D_n ≤ d) by Durbin's matrix method as Marsaglia, Tsang & Wang compute it.
fn durbin_cdf(n: u64, d: f64) -> f64 {
    let nf = n as f64;
    let nd = nf * d;
    if d >= 1.0 {
        return 1.0;
    }
    if nd <= 0.5 {
        return 0.0;
    }
    let k = nd.ceil() as usize;
    let h = k as f64 - nd;
    let m = 2 * k - 1;
    let mut v: Vec<f64> = (1..=m).map(|i| 1.0 - h.powi(i as i32)).collect();
    let mut w = vec![0.0; m];
    let mut fac = 1.0;
    for j in 1..=m {
        w[j - 1] = fac;
        fac /= j as f64;
        v[j - 1] *= fac;
    }
    let tt = (2.0 * h - 1.0).max(0.0).powi(m as i32) - 2.0 * h.powi(m as i32);
    v[m - 1] = (1.0 + tt) * fac;
    let mut hm = vec![0.0; m * m];
    for i in 1..m {
        for r in (i - 1)..m {
            hm[r * m + i] = w[r - (i - 1)];
        }
    }
    for r in 0..m {
        hm[r * m] = v[r];
    }
    for c in 0..m {
        hm[(m - 1) * m + c] = v[m - 1 - c];
    }
    let mut pw: Vec<f64> = (0..m * m)
        .map(|i| if i / m == i % m { 1.0 } else { 0.0 })
        .collect();
    let (mut nn, mut expnt, mut hexpnt) = (n, 0i32, 0i32);
    while nn > 0 {
        if nn % 2 == 1 {
            pw = matmul(&pw, &hm, m);
            expnt += hexpnt;
        }
        hm = matmul(&hm, &hm, m);
        hexpnt *= 2;
        if hm[(k - 1) * m + (k - 1)].abs() > E128 {
            hm.iter_mut().for_each(|x| *x /= E128);
            hexpnt += 128;
        }
        nn /= 2;
    }
    let mut p = pw[(k - 1) * m + (k - 1)];
    for i in 1..=n {
        p = i as f64 * p / nf;
        if p.abs() < EM128 {
            p *= E128;
            expnt -= 128;
        }
    }
    if expnt != 0 {
        p *= 2f64.powi(expnt);
    }
    p.clamp(0.0, 1.0)
}

/// Pelz & Good's approximation of P(D_n ≤ x), term by term as scipy evaluates it.
fn pelz_good_cdf(n: u64, x: f64) -> f64 {
    use std::f64::consts::PI;
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let nf = n as f64;
    let z = nf.sqrt() * x;
    let (z2, z3, z4, z6) = (z * z, z.powi(3), z.powi(4), z.powi(6));
    let qlog = -PI * PI / 8.0 / z2;
    if qlog < -708.0 {
        return 0.0;
    }
    let q = qlog.exp();
    let pi2 = PI * PI;
    let pi4 = pi2 * pi2;
    let pi6 = pi4 * pi2;
    let k1a = -z2;
    let k1b = pi2 / 4.0;
    let k2a = 6.0 * z6 + 2.0 * z4;
    let k2b = (2.0 * z4 - 5.0 * z2) * pi2 / 4.0;
    let k2c = pi4 * (1.0 - 2.0 * z2) / 16.0;
    let k3d = pi6 * (5.0 - 30.0 * z2) / 64.0;
    let k3c = pi4 * (-60.0 * z2 + 212.0 * z4) / 16.0;
    let k3b = pi2 * (135.0 * z4 - 96.0 * z6) / 4.0;
    let k3a = -30.0 * z6 - 90.0 * z.powi(8);
    let mut k = [0.0f64; 4];
    let maxk = (16.0 * z / PI).ceil() as i64;
    for kk in (1..=maxk).rev() {
        let m = (2 * kk - 1) as f64;
        let (m2, m4, m6) = (m * m, m.powi(4), m.powi(6));
        let qp = q.powf(8.0 * kk as f64);
        let coeffs = [
            1.0,
            k1a + k1b * m2,
            k2a + k2b * m2 + k2c * m4,
            k3a + k3b * m2 + k3c * m4 + k3d * m6,
        ];
        for (a, c) in k.iter_mut().zip(coeffs) {
            *a = *a * qp + c;
        }
    }
    let sqrt2pi = (2.0 * PI).sqrt();
    let div = [z, 6.0 * z4, 72.0 * z.powi(7), 6480.0 * z.powi(10)];
    for (a, dv) in k.iter_mut().zip(div) {
        *a = *a * q * sqrt2pi / dv;
    }
    let q2 = (-pi2 / 2.0 / z2).exp();
    let sqrt3z = 3f64.sqrt() * z;
    let (mut k2extra, mut k3extra) = (0.0, 0.0);
    for kk in (1..=maxk).rev() {
        let ks = kk as f64;
        let ks2 = ks * ks;
        let qp = q2.powf(ks2);
        k2extra += ks2 * qp;
        let kspi = PI * ks;
        k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ks2 * qp;
    }
    k[2] += k2extra * pi2 * sqrt2pi / (-36.0 * z3);
    k[3] += k3extra * pi2 * sqrt2pi / (216.0 * z6);
    for (i, a) in k.iter_mut().enumerate() {
        *a /= nf.powf(i as f64 / 2.0);
    }
    k.iter().sum::<f64>().clamp(0.0, 1.0)
}

/// Per-column KS tests of `reference` (rows = samples, columns = features) against `current`:
/// statistic, p-value and `pvalue < alpha` per column.
pub fn ks_columns(
    reference: ArrayView2<'_, f64>,
    current: ArrayView2<'_, f64>,
    alpha: f64,
) -> Result<Vec<KsColumn>> {
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(Error::InvalidInput(format!(
            "alpha must be in (0, 1), got {alpha}"
        )));
    }
    if reference.ncols() != current.ncols() {
        return Err(Error::Dimension {
            expected: reference.ncols(),
            got: current.ncols(),
        });
    }
    let cols: Vec<usize> = (0..reference.ncols()).collect();
    let out = crate::parallel::map(&cols, |&c| -> Result<KsColumn> {
        let r = ks_2samp(&reference.column(c).to_vec(), &current.column(c).to_vec())
            .map_err(|e| Error::InvalidInput(format!("column {c}: {e}")))?;
        Ok(KsColumn {
            statistic: r.statistic,
            pvalue: r.pvalue,
            drift: r.pvalue < alpha,
        })
    });
    out.into_iter().collect()
}

/// [`ks_columns`] over row-major buffers (`n_cols` values per row), as the bindings hold them.
pub fn ks_columns_flat(
    reference: &[f64],
    current: &[f64],
    n_cols: usize,
    alpha: f64,
) -> Result<Vec<KsColumn>> {
    fn view<'a>(x: &'a [f64], n_cols: usize, what: &str) -> Result<ArrayView2<'a, f64>> {
        if n_cols == 0 || !x.len().is_multiple_of(n_cols) {
            return Err(Error::InvalidInput(format!(
                "{what} holds {} values, not a whole number of rows of {n_cols} columns",
                x.len()
            )));
        }
        ArrayView2::from_shape((x.len() / n_cols, n_cols), x)
            .map_err(|e| Error::InvalidInput(format!("{what}: {e}")))
    }
    ks_columns(
        view(reference, n_cols, "reference")?,
        view(current, n_cols, "current")?,
        alpha,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_samples() {
        let a = [1.0, 2.0, 3.0];
        let r = ks_2samp(&a, &a).unwrap();
        assert_eq!(r.statistic, 0.0);
        assert_eq!(r.pvalue, 1.0);
    }

    #[test]
    fn disjoint_small_samples() {
        // scipy: ks_2samp([1,2,3],[4,5,6]) -> statistic 1.0, pvalue 0.1
        let r = ks_2samp(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]).unwrap();
        assert_eq!(r.statistic, 1.0);
        assert!((r.pvalue - 0.1).abs() < 1e-12);
    }

    #[test]
    fn bad_input() {
        assert!(ks_2samp(&[], &[1.0]).is_err());
        assert!(ks_2samp(&[f64::NAN], &[1.0]).is_err());
    }
}
