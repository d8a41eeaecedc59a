//! Thresholds from the baseline itself: the divergences (the plain definitions), and the
//! resampling that calibrates the drift, watch and severe levels.

use rand::SeedableRng;
use rand_distr::{Binomial, Distribution, Poisson};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Gamma};

use super::config::{KlDriftConfig, Thresholds};
use crate::error::{Error, Result};

/// The short window's size and thresholds, calibrated with the baseline.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct ShortScale {
    pub window: usize,
    pub thresholds: Thresholds,
}

/// The smoothed probabilities of a histogram.
pub(super) fn smoothed(counts: &[u64], epsilon: f64) -> Vec<f64> {
    let n: u64 = counts.iter().sum();
    let k = counts.len() as f64;
    let inv = if n == 0 { 0.0 } else { 1.0 / n as f64 };
    counts
        .iter()
        .map(|&c| (c as f64 * inv + epsilon) / (1.0 + k * epsilon))
        .collect()
}

/// KL(p ‖ q) in nats.
pub(super) fn kl(p: &[f64], q: &[f64]) -> f64 {
    p.iter().zip(q).map(|(&a, &b)| a * (a / b).ln()).sum()
}

/// Population stability index: Σ (p − q) ln(p / q).
pub(super) fn psi(p: &[f64], q: &[f64]) -> f64 {
    p.iter().zip(q).map(|(&a, &b)| (a - b) * (a / b).ln()).sum()
}

/// Jensen-Shannon divergence in nats (not scipy's `jensenshannon`, which is its square root).
pub(super) fn js(p: &[f64], q: &[f64]) -> f64 {
    let m: Vec<f64> = p.iter().zip(q).map(|(a, b)| 0.5 * (a + b)).collect();
    0.5 * kl(p, &m) + 0.5 * kl(q, &m)
}

/// How the calibrated thresholds came about (empty in fixed mode).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Mean KL over the resamples.
    pub mean: f64,
    /// Variance of KL over the resamples.
    pub variance: f64,
    /// Largest KL seen over the resamples.
    pub max: f64,
    /// Number of resamples.
    pub resamples: usize,
    /// The short window calibrated alongside (0 when off); the `short_*` fields describe it.
    #[serde(default)]
    pub short_window: usize,
    /// Mean KL of the short window over the resamples.
    #[serde(default)]
    pub short_mean: f64,
    /// Variance of the short window's KL over the resamples.
    #[serde(default)]
    pub short_variance: f64,
    /// Largest short-window KL seen over the resamples.
    #[serde(default)]
    pub short_max: f64,
}

/// Draws a histogram of `n` scores from the bin probabilities `q` into `out`: bin by bin, a
/// binomial draw of the scores left given the probability of this bin among the rest
/// (`tail[i]` = Σ q_j for j ≥ i), so the cost is one draw per bin whatever `n` (a multinomial,
/// the same distribution as drawing the scores one by one).
fn draw_hist(rng: &mut Xoshiro256PlusPlus, q: &[f64], tail: &[f64], n: u64, out: &mut [u64]) {
    let mut left = n;
    let last = out.len() - 1;
    for (i, c) in out.iter_mut().enumerate() {
        let k = if i == last || left == 0 {
            left
        } else {
            // The ratio is within [0, 1] up to rounding; a NaN (never expected) draws nothing.
            binomial(rng, left, (q[i] / tail[i]).clamp(0.0, 1.0))
        };
        *c = k;
        left -= k;
    }
}

/// Binomial(n, p), n at most [`MAX_BASELINE_SCORES`](super::config::MAX_BASELINE_SCORES). rand_distr's BTPE needs n·min(p, 1 − p)
/// of at least 10 once n is beyond `i32::MAX` (below that it panics); there the Poisson law of
/// the same mean is drawn instead, within n·p² < 5e-8 in total variation (Le Cam), far below
/// what the calibration's quantiles can see.
fn binomial(rng: &mut Xoshiro256PlusPlus, n: u64, p: f64) -> u64 {
    if p > 0.5 {
        return n - binomial(rng, n, 1.0 - p);
    }
    let mean = n as f64 * p;
    if n > i32::MAX as u64 && mean < 10.0 {
        if mean <= 0.0 {
            return 0;
        }
        let k: f64 = Poisson::new(mean).map_or(0.0, |d| d.sample(rng));
        (k as u64).min(n)
    } else {
        Binomial::new(n, p).map_or(0, |b| b.sample(rng))
    }
}

/// KL values of one window size over the resamples, and the thresholds they give.
struct ScaleFit {
    thresholds: Thresholds,
    mean: f64,
    variance: f64,
    max: f64,
}

/// Gamma fit (by moments) of `stats`, upper quantiles at `rate` (drift) and `watch_rate`, never
/// below the empirical quantile of the resamples themselves.
fn fit_scale(
    mut stats: Vec<f64>,
    rate: f64,
    watch_rate: f64,
    severe_factor: f64,
) -> Result<ScaleFit> {
    let r = stats.len() as f64;
    let mean = stats.iter().sum::<f64>() / r;
    let variance = stats.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (r - 1.0);
    stats.sort_by(f64::total_cmp);
    let max = stats.last().copied().unwrap_or(0.0);
    let empirical = |rate: f64| {
        let i = (((1.0 - rate) * r).ceil() as usize).clamp(1, stats.len()) - 1;
        stats[i]
    };
    let quantile = |rate: f64| -> Result<f64> {
        if !(mean > 0.0 && variance > 0.0) {
            // Every resample gave the same histogram (all baseline mass in one bin): any change
            // at all is drift.
            // (KL's rounding can leave the mean a hair below 0: thresholds are never negative.)
            return Ok(mean.max(0.0) + f64::EPSILON);
        }
        let g = Gamma::new(mean * mean / variance, mean / variance)
            .map_err(|e| Error::InvalidInput(format!("calibration failed: {e}")))?;
        Ok(g.inverse_cdf(1.0 - rate).max(empirical(rate)))
    };
    let drift = quantile(rate)?;
    let watch = quantile(watch_rate)?.min(drift);
    Ok(ScaleFit {
        thresholds: Thresholds {
            watch,
            drift,
            severe: drift * severe_factor,
        },
        mean,
        variance,
        max,
    })
}

/// Calibrates thresholds: for each resample, a baseline of the baseline's size and a window of the
/// window's size (and one of the short window's size) are drawn from the smoothed baseline
/// histogram, and KL(window ‖ baseline) is computed exactly as at detection time. A gamma
/// distribution fitted to those values by moments (KL of a multinomial sample is close to a
/// scaled chi-square) gives the quantiles. With the short window on, each window gets half of
/// the false-alarm budget (Bonferroni), so the pair stays within `false_alarm_rate`.
pub(super) fn calibrate(
    counts: &[u64],
    n_base: u64,
    config: &KlDriftConfig,
) -> Result<(Thresholds, Calibration, Option<ShortScale>)> {
    let q = smoothed(counts, config.epsilon);
    let mut tail = q.clone();
    for i in (0..tail.len().saturating_sub(1)).rev() {
        tail[i] += tail[i + 1];
    }
    let short_window = config.effective_short_window();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(config.seed);
    let mut base = vec![0u64; counts.len()];
    let mut win = vec![0u64; counts.len()];
    let mut stats = Vec::with_capacity(config.calibration_resamples);
    let mut short_stats = Vec::new();
    for _ in 0..config.calibration_resamples {
        draw_hist(&mut rng, &q, &tail, n_base, &mut base);
        draw_hist(&mut rng, &q, &tail, config.window as u64, &mut win);
        let qb = smoothed(&base, config.epsilon);
        let pw = smoothed(&win, config.epsilon);
        stats.push(kl(&pw, &qb));
        if short_window > 0 {
            // Same resampled baseline: it is one fixed reference for both windows live, too.
            draw_hist(&mut rng, &q, &tail, short_window as u64, &mut win);
            short_stats.push(kl(&smoothed(&win, config.epsilon), &qb));
        }
    }
    let resamples = stats.len();
    let split = if short_window > 0 { 2.0 } else { 1.0 };
    let (rate, watch_rate) = (config.false_alarm_rate / split, config.watch_rate / split);
    let long = fit_scale(stats, rate, watch_rate, config.severe_factor)?;
    let mut calibration = Calibration {
        mean: long.mean,
        variance: long.variance,
        max: long.max,
        resamples,
        ..Calibration::default()
    };
    let short = if short_window > 0 {
        let f = fit_scale(short_stats, rate, watch_rate, config.severe_factor)?;
        calibration.short_window = short_window;
        calibration.short_mean = f.mean;
        calibration.short_variance = f.variance;
        calibration.short_max = f.max;
        Some(ShortScale {
            window: short_window,
            thresholds: f.thresholds,
        })
    } else {
        None
    };
    Ok((long.thresholds, calibration, short))
}
