//! Drift detection: is the model still seeing the world it was trained on?
//!
//! - [`KlDriftDetector`]: KL divergence (plus PSI and Jensen-Shannon) of a sliding window of
//!   prediction scores against a baseline histogram saved at training time, with thresholds
//!   calibrated from the baseline itself (or the old service's fixed 0.3 / 0.5 / 1.0), drift
//!   events with timestamps and a retrain policy.
//! - [`ks_2samp`] / [`ks_columns`]: two-sample Kolmogorov-Smirnov tests equal to
//!   `scipy.stats.ks_2samp`, per feature column.
//! - [`Adwin`] and [`PageHinkley`]: streaming change detectors equal to river's.
//!
//! Every detector saves and loads through the model file ([`Artifact`]).
//! See `docs/drift.md` for semantics and measured false-alarm rates.

mod adwin;
mod float;
mod ks;
mod stream;

pub use adwin::{Adwin, AdwinConfig};
pub use ks::{KsColumn, KsMethod, KsResult, ks_2samp, ks_columns, ks_columns_flat};
pub use stream::{MAX_STREAM_VALUE, PageHinkley, PageHinkleyConfig, PageHinkleyMode};

use std::collections::VecDeque;

use rand::SeedableRng;
use rand_distr::{Binomial, Distribution, Poisson};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Gamma};

use crate::error::{Error, Result};
use crate::models::Artifact;

const SECONDS_PER_DAY: f64 = 86_400.0;
const SECONDS_PER_HOUR: f64 = 3_600.0;
const WHAT: &str = "KlDriftDetector";

/// How the drift thresholds are chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThresholdMode {
    /// From the baseline: the distribution of KL between baseline-sized and window-sized resamples
    /// of the baseline, at `false_alarm_rate` (default).
    #[default]
    Calibrated,
    /// `fixed_thresholds` as given (the old service: 0.3 watch, 0.5 drift, 1.0 severe).
    Fixed,
}

/// KL levels: above `watch` is worth a look, above `drift` is drift, above `severe` asks for
/// retraining at once.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Start of the watch zone.
    pub watch: f64,
    /// Drift is flagged when KL exceeds this.
    pub drift: f64,
    /// Any KL above this triggers the retrain policy.
    pub severe: f64,
}

impl Thresholds {
    /// `0 <= watch <= drift <= severe`, all finite; an error names `field`.
    fn check(&self, field: &'static str) -> Result<()> {
        let t = self;
        if t.watch >= 0.0 && t.watch <= t.drift && t.drift <= t.severe && t.severe.is_finite() {
            Ok(())
        } else {
            Err(Error::config(
                field,
                format!("{t:?} is invalid: need 0 <= watch <= drift <= severe, all finite"),
            ))
        }
    }
}

impl Default for Thresholds {
    /// The old service's thresholds.
    fn default() -> Self {
        Self {
            watch: 0.3,
            drift: 0.5,
            severe: 1.0,
        }
    }
}

/// Options of [`KlDriftDetector`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KlDriftConfig {
    /// Number of most recent scores compared with the baseline (default 1000).
    pub window: usize,
    /// Number of equal-width histogram bins (default 10).
    pub bins: usize,
    /// Histogram range `(low, high)` (default `(0, 1)`); finite scores outside it count in the
    /// first or last bin and are reported in `status().out_of_range`.
    pub range: (f64, f64),
    /// Smoothing: each bin's probability is `(count / n + epsilon) / (1 + bins * epsilon)`, so an
    /// empty bin never gives an infinite divergence (default 1e-4).
    pub epsilon: f64,
    /// Calibrated (default) or fixed thresholds.
    pub threshold_mode: ThresholdMode,
    /// Calibrated mode: the probability that a full drift-free window exceeds the drift threshold
    /// (default 1e-4).
    pub false_alarm_rate: f64,
    /// Calibrated mode: the watch threshold's exceedance probability (default 0.01).
    pub watch_rate: f64,
    /// Calibrated mode: severe = drift threshold times this (default 2, the old 1.0 / 0.5 ratio).
    pub severe_factor: f64,
    /// Calibrated mode: number of resamples (default 1000).
    pub calibration_resamples: usize,
    /// Calibrated mode: seed of the resampling, so calibration is reproducible (default 0).
    pub seed: u64,
    /// Fixed mode: the thresholds (default 0.3 / 0.5 / 1.0).
    pub fixed_thresholds: Thresholds,
    /// Retrain when at least this many drift events fall within `retrain_days` (default 5).
    pub retrain_drifts: usize,
    /// Length of the retrain policy's period in days (default 7).
    pub retrain_days: f64,
    /// Drift events kept (oldest dropped first; default 10000).
    pub max_events: usize,
    /// Days of hourly KL history kept for `summary` (default 90).
    pub history_days: f64,
    /// Calibrated mode: a second, shorter window checked after every score alongside the main
    /// one, so an abrupt change is flagged before it fills most of the main window. `None`
    /// (default) = `window / 4` when that holds at least 5 scores per bin, else off; `Some(0)` =
    /// off; `Some(n)` needs `n < window`. Each window gets half the false-alarm budget
    /// (`false_alarm_rate / 2`, `watch_rate / 2`). Ignored in fixed mode (the old service had one
    /// window).
    pub short_window: Option<usize>,
}

impl Default for KlDriftConfig {
    fn default() -> Self {
        Self {
            window: 1000,
            bins: 10,
            range: (0.0, 1.0),
            epsilon: 1e-4,
            threshold_mode: ThresholdMode::Calibrated,
            false_alarm_rate: 1e-4,
            watch_rate: 0.01,
            severe_factor: 2.0,
            calibration_resamples: 1000,
            seed: 0,
            fixed_thresholds: Thresholds::default(),
            retrain_drifts: 5,
            retrain_days: 7.0,
            max_events: 10_000,
            history_days: 90.0,
            short_window: None,
        }
    }
}

/// Largest number of bins: more is never useful for a score histogram and costs memory.
pub const MAX_BINS: usize = 10_000;

/// Largest `window` (and short window): each window keeps about 40 bytes per score (the scores,
/// their bins and two tables of `window + 1` values), so 10 million take about 400 MB.
pub const MAX_WINDOW: usize = 10_000_000;

/// Most `calibration_resamples` (100,000 of 10 bins calibrate in about 2.5 s).
pub const MAX_RESAMPLES: usize = 100_000;

/// Largest `calibration_resamples × bins`: calibration draws three histograms per resample, one
/// binomial per bin each, so its cost is bounded by this whatever the baseline's size (about
/// 1 µs per cell: 8 s at the cap, measured on a loaded 2-core machine; the default 1000 × 10
/// takes milliseconds).
pub const MAX_CALIBRATION_CELLS: usize = 10_000_000;

/// Most `max_events` (each kept event is about 50 bytes).
pub const MAX_EVENTS: usize = 10_000_000;

/// Most scores a baseline histogram may hold in all: 2^53, so every count, and the total, is
/// exact as a float (the probabilities are computed from them).
pub const MAX_BASELINE_SCORES: u64 = 1 << 53;

impl KlDriftConfig {
    /// The old service's behaviour: fixed 0.3 / 0.5 / 1.0 thresholds, everything else default.
    pub fn fixed() -> Self {
        Self {
            threshold_mode: ThresholdMode::Fixed,
            ..Self::default()
        }
    }

    /// Checks every field; [`KlDriftDetector::new`] calls it.
    pub fn validate(&self) -> Result<()> {
        if !(1..=MAX_WINDOW).contains(&self.window) {
            return Err(Error::config(
                "window",
                format!("{} is out of range: need 1..={MAX_WINDOW}", self.window),
            ));
        }
        if self.bins < 2 || self.bins > MAX_BINS {
            return Err(Error::config(
                "bins",
                format!("{} is out of range: need 2..={MAX_BINS}", self.bins),
            ));
        }
        let (lo, hi) = self.range;
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(Error::config(
                "range",
                format!("({lo}, {hi}) is invalid: need finite low < high"),
            ));
        }
        if !(self.epsilon > 0.0 && self.epsilon < 1.0) {
            return Err(Error::config(
                "epsilon",
                format!("{} is out of range: need 0 < epsilon < 1", self.epsilon),
            ));
        }
        if !(self.false_alarm_rate > 0.0 && self.false_alarm_rate < 0.5) {
            return Err(Error::config(
                "false_alarm_rate",
                format!(
                    "{} is out of range: need 0 < rate < 0.5",
                    self.false_alarm_rate
                ),
            ));
        }
        if !(self.watch_rate >= self.false_alarm_rate && self.watch_rate < 1.0) {
            return Err(Error::config(
                "watch_rate",
                format!(
                    "{} is out of range: need false_alarm_rate <= watch_rate < 1",
                    self.watch_rate
                ),
            ));
        }
        if !(self.severe_factor >= 1.0 && self.severe_factor.is_finite()) {
            return Err(Error::config(
                "severe_factor",
                "must be finite and at least 1",
            ));
        }
        if !(100..=MAX_RESAMPLES).contains(&self.calibration_resamples) {
            return Err(Error::config(
                "calibration_resamples",
                format!(
                    "{} is out of range: need 100..={MAX_RESAMPLES}",
                    self.calibration_resamples
                ),
            ));
        }
        // `bins` is at most MAX_BINS here, so the product cannot overflow.
        if self.calibration_resamples * self.bins > MAX_CALIBRATION_CELLS {
            return Err(Error::config(
                "calibration_resamples",
                format!(
                    "{} resamples of {} bins is too much work: need resamples × bins <= \
                     {MAX_CALIBRATION_CELLS}",
                    self.calibration_resamples, self.bins
                ),
            ));
        }
        self.fixed_thresholds.check("fixed_thresholds")?;
        if self.max_events == 0 || self.max_events > MAX_EVENTS {
            return Err(Error::config(
                "max_events",
                format!("{} is out of range: need 1..={MAX_EVENTS}", self.max_events),
            ));
        }
        if !(1..=self.max_events).contains(&self.retrain_drifts) {
            return Err(Error::config(
                "retrain_drifts",
                format!(
                    "{} is out of range: need 1..={} (max_events: older events are dropped, \
                     so more could never be counted)",
                    self.retrain_drifts, self.max_events
                ),
            ));
        }
        if !(self.retrain_days > 0.0 && self.retrain_days.is_finite()) {
            return Err(Error::config("retrain_days", "must be positive and finite"));
        }
        if !(self.history_days > 0.0 && self.history_days.is_finite()) {
            return Err(Error::config("history_days", "must be positive and finite"));
        }
        if let Some(n) = self.short_window
            && n != 0
            && !(2..self.window).contains(&n)
        {
            return Err(Error::config(
                "short_window",
                format!("{n} is out of range: need 0 (off) or 2..{}", self.window),
            ));
        }
        Ok(())
    }

    /// The short window in use: 0 when off (fixed mode, `Some(0)`, or a window too small for
    /// the automatic choice).
    pub fn effective_short_window(&self) -> usize {
        if self.threshold_mode == ThresholdMode::Fixed {
            return 0;
        }
        match self.short_window {
            Some(n) => n,
            None if self.window / 4 >= 5 * self.bins => self.window / 4,
            None => 0,
        }
    }

    fn bin_of(&self, x: f64) -> (usize, bool) {
        let (lo, hi) = self.range;
        if x < lo {
            return (0, true);
        }
        if x > hi {
            return (self.bins - 1, true);
        }
        // numpy.histogram's convention: the last bin is closed, so `hi` itself counts in it.
        let b = ((x - lo) / (hi - lo) * self.bins as f64) as usize;
        (b.min(self.bins - 1), false)
    }
}

/// The smoothed probabilities of a histogram.
fn smoothed(counts: &[u64], epsilon: f64) -> Vec<f64> {
    let n: u64 = counts.iter().sum();
    let k = counts.len() as f64;
    let inv = if n == 0 { 0.0 } else { 1.0 / n as f64 };
    counts
        .iter()
        .map(|&c| (c as f64 * inv + epsilon) / (1.0 + k * epsilon))
        .collect()
}

/// KL(p ‖ q) in nats.
fn kl(p: &[f64], q: &[f64]) -> f64 {
    p.iter().zip(q).map(|(&a, &b)| a * (a / b).ln()).sum()
}

/// Population stability index: Σ (p − q) ln(p / q).
fn psi(p: &[f64], q: &[f64]) -> f64 {
    p.iter().zip(q).map(|(&a, &b)| (a - b) * (a / b).ln()).sum()
}

/// Jensen-Shannon divergence in nats (not scipy's `jensenshannon`, which is its square root).
fn js(p: &[f64], q: &[f64]) -> f64 {
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

/// The result of one [`KlDriftDetector::add`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriftCheck {
    /// KL above the drift threshold on a full window.
    pub drift: bool,
    /// KL of the window (of the scores so far while it fills).
    pub kl: f64,
}

/// A drift episode: KL went above the drift threshold at `timestamp` and stayed above the watch
/// threshold until `end` (`None` while it lasts).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriftEvent {
    /// When KL crossed the drift threshold (seconds since the Unix epoch).
    pub timestamp: f64,
    /// KL at that moment.
    pub kl: f64,
    /// Largest KL during the episode.
    pub max_kl: f64,
    /// Whether the episode went above the severe threshold.
    pub severe: bool,
    /// When KL fell back below the watch threshold.
    pub end: Option<f64>,
    /// KL of the short window at the start (0 when it is off): the episode may have been
    /// started by the short window while `kl` was still below the main threshold.
    #[serde(default)]
    pub short_kl: f64,
}

/// What [`KlDriftDetector::status`] reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriftStatus {
    /// The window is full and KL is above the drift threshold.
    pub drift: bool,
    /// `"filling"`, `"normal"`, `"watch"`, `"drift"` or `"severe"`.
    pub level: String,
    /// KL(window ‖ baseline) in nats.
    pub kl: f64,
    /// Population stability index of the same histograms.
    pub psi: f64,
    /// Jensen-Shannon divergence of the same histograms, in nats.
    pub js: f64,
    /// The thresholds in use.
    pub thresholds: Thresholds,
    /// The configured window size.
    pub window_size: usize,
    /// Scores currently in the window.
    pub n_window: usize,
    /// Scores seen since the last reset.
    pub n_seen: u64,
    /// Mean of the window's scores (NaN while empty).
    pub window_mean: f64,
    /// Population standard deviation of the window's scores (NaN while empty).
    pub window_std: f64,
    /// Scores seen outside `range` (counted in the edge bins).
    pub out_of_range: u64,
    /// The retrain policy's verdict now.
    pub should_retrain: bool,
    /// The short window in use (0 when off).
    pub short_window: usize,
    /// KL of the last `short_window` scores against the baseline (0 when off or not yet full).
    pub short_kl: f64,
    /// The short window's thresholds (`None` when off).
    pub short_thresholds: Option<Thresholds>,
}

/// What [`KlDriftDetector::add_batch`] reports: the drift episodes a batch started, not one
/// result per score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriftBatch {
    /// Scores added.
    pub n: usize,
    /// Positions in the batch where a drift episode (event) started, ascending.
    pub drift_starts: Vec<usize>,
    /// Checks in the batch that were flagged as drift.
    pub n_drift: usize,
    /// The drift flag after the last score.
    pub drift: bool,
    /// KL of the window after the last score.
    pub kl: f64,
    /// Largest full-window KL in the batch (0 when the window never was full).
    pub max_kl: f64,
}

/// What [`KlDriftDetector::summary`] reports over the last `days` days.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriftSummary {
    /// The period asked for.
    pub days: f64,
    /// Drift events that started in the period.
    pub drift_count: usize,
    /// Largest KL of a full window in the period (0 when there was none).
    pub max_kl: f64,
    /// Mean KL over full-window checks in the period (0 when there was none).
    pub mean_kl: f64,
    /// Full-window checks in the period.
    pub n_checks: u64,
    /// The retrain policy's verdict now.
    pub should_retrain: bool,
    /// The drift events that started in the period, oldest first.
    pub events: Vec<DriftEvent>,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
struct HourBucket {
    hour: i64,
    n: u64,
    sum: f64,
    max: f64,
}

/// KL drift detector over a sliding window of scores. See the module docs and `docs/drift.md`.
///
/// ```
/// use faultlens::drift::{KlDriftConfig, KlDriftDetector};
/// let baseline: Vec<f64> = (0..5000).map(|i| ((i * 7919) % 1000) as f64 / 1000.0).collect();
/// let mut d = KlDriftDetector::from_baseline(&baseline, KlDriftConfig::default())?;
/// for i in 0..1000 {
///     d.add(0.9 + (i % 100) as f64 / 1000.0, Some(1_700_000_000.0))?; // all scores above 0.9
/// }
/// assert!(d.status()?.drift);
/// # Ok::<(), faultlens::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "KlDriftState", into = "KlDriftState")]
pub struct KlDriftDetector {
    config: KlDriftConfig,
    baseline: Option<Baseline>,
    // Sliding window as a ring: scores and their bins; while filling `head` is 0 and the ring
    // grows, once full `head` is the oldest score (overwritten by the next one).
    ring: Vec<f64>,
    ring_bins: Vec<u32>,
    head: usize,
    // The main window's histogram and KL; the short window (last `short.window` scores) if on.
    long: Scale,
    short: Option<Scale>,
    n_seen: u64,
    out_of_range: u64,
    last_ts: Option<f64>,
    in_drift: bool,
    events: VecDeque<DriftEvent>,
    history: VecDeque<HourBucket>,
}

/// A full recompute after this many incremental updates keeps the running sum's rounding error
/// near 1e-14 (tested against the direct computation).
const RESYNC: u32 = 1024;

/// Up to this many bins, the hot loop keeps counts in fixed-size arrays.
const SMALL_BINS: usize = 16;

/// Largest joint table (`bins × stride` entries, 1 MiB): beyond it the hot loop reads the count
/// and bin tables apart.
const MAX_JOINT: usize = 1 << 17;

/// One sliding window's histogram with its KL against the baseline kept as one running sum.
/// With p_i = (c_i / w + ε) / norm: KL = Σ f(c_i) − Σ c_i l_i − ε Σ ln q_i / norm, where
/// f(c) = p ln p and l_i = ln q_i / (w · norm). The first two terms are the running sum `r`. A
/// new score and the evicted one change two counts by one, so `r` changes by two table lookups:
/// O(1) per score whatever the number of bins, and no logarithm.
#[derive(Clone, Debug, PartialEq)]
struct Scale {
    window: usize,
    counts: Vec<u64>,
    // f(c) for c in 0..=window and its forward difference g(c) = f(c + 1) − f(c).
    f: Vec<f64>,
    g: Vec<f64>,
    inv_norm: f64,
    inv_w_norm: f64,
    // l_i per bin and, with few bins and a small window, the joint table
    // `joint[i · g.len() + c] = l_i − g(c)` (negated) (one lookup per count change instead of two): both
    // set by `bind` once the baseline is known.
    l: Vec<f64>,
    joint: Vec<f64>,
    // r = Σ f(c_i) − Σ c_i l_i: valid once the window is full.
    r: f64,
    stale: u32,
}

impl Scale {
    /// The tables of a window of `window` scores (at most [`MAX_WINDOW`]), allocated fallibly:
    /// a machine short of memory gets an error, not an abort.
    fn new(window: usize, config: &KlDriftConfig) -> Result<Self> {
        let (w, eps) = (window as f64, config.epsilon);
        let norm = 1.0 + config.bins as f64 * eps;
        let padded = (window + 1).next_power_of_two();
        let (mut f, mut g) = (Vec::new(), Vec::new());
        f.try_reserve_exact(window + 1)
            .and_then(|()| g.try_reserve_exact(padded))
            .map_err(|e| {
                Error::InvalidInput(format!("cannot allocate a window of {window} scores: {e}"))
            })?;
        f.extend((0..=window).map(|c| {
            let p = (c as f64 / w + eps) / norm;
            p * p.ln()
        }));
        // Padded with zeros to a power of two, so the hot loop can mask its index (counts never
        // exceed `window`: the padding is never read).
        g.extend(f.windows(2).map(|v| v[1] - v[0]));
        g.resize(padded, 0.0);
        Ok(Self {
            window,
            counts: vec![0; config.bins],
            f,
            g,
            inv_norm: 1.0 / norm,
            inv_w_norm: 1.0 / w / norm,
            l: Vec::new(),
            joint: Vec::new(),
            r: 0.0,
            stale: 0,
        })
    }

    /// An empty window with the same tables.
    fn clear(&mut self) {
        self.counts.fill(0);
        self.r = 0.0;
        self.stale = 0;
    }

    /// Builds the tables that depend on the baseline's `ln_q`.
    fn bind(&mut self, ln_q: &[f64]) {
        self.l = ln_q.iter().map(|lq| lq * self.inv_w_norm).collect();
        let cells = ln_q.len() * self.g.len();
        self.joint = if ln_q.len() <= SMALL_BINS && cells <= MAX_JOINT {
            // Negated (`l_i − g(c)`, exactly −(g(c) − l_i)): see `Joint::step`.
            let mut t: Vec<f64> = (self.l.iter())
                .flat_map(|&l| self.g.iter().map(move |&g| l - g))
                .collect();
            // A power of two, so a masked position needs no bounds check (positions stay below
            // `cells`: the padding is never read).
            t.resize(cells.next_power_of_two(), 0.0);
            t
        } else {
            Vec::new()
        };
    }

    fn recompute(&mut self) {
        self.r = sums(&self.counts, &self.f, &self.l);
        self.stale = 0;
    }

    /// KL of a full window; `offset` = ε Σ ln q_i.
    #[inline(always)]
    fn kl(&self, offset: f64) -> f64 {
        self.r - offset * self.inv_norm
    }

    /// One slide of a full window without a [`Lane`] (no count positions to set up and write
    /// back): a score of bin `out` leaves, one of bin `inn` arrives; the KL after it is
    /// returned. The hot loop's arithmetic for a chunk of one (`Lane::finish`): the exact
    /// recompute when it is due, otherwise the two table differences, so the same bits.
    fn step_one(&mut self, out: usize, inn: usize, offset: f64) -> f64 {
        let due = self.stale + 1 >= RESYNC;
        let g_mask = self.g.len() - 1;
        let t = Tables {
            g: &self.g[..=g_mask],
            g_mask,
            l: &self.l,
            off: offset * self.inv_norm,
        };
        let kl = t.last(
            &mut self.counts,
            &self.f,
            inn as u32,
            out as u32,
            due,
            &mut self.r,
        );
        self.stale = if due { 0 } else { self.stale + 1 };
        kl
    }
}

/// The running sum recomputed from the counts: Σ f(c_i) − Σ c_i l_i.
#[inline(never)]
fn sums(counts: &[u64], f: &[f64], l: &[f64]) -> f64 {
    let a: f64 = counts.iter().map(|&c| f[c as usize]).sum();
    let s: f64 = counts.iter().zip(l).map(|(&c, l)| c as f64 * l).sum();
    a - s
}

/// One full window through the hot loop, its tables borrowed from its [`Scale`].
struct Lane<'a> {
    counts: &'a mut [u64],
    f: &'a [f64],
    g: &'a [f64],
    l: &'a [f64],
    joint: &'a [f64],
    /// ε Σ ln q_i / norm: KL = r − `off`.
    off: f64,
    r: &'a mut f64,
    stale: &'a mut u32,
    /// With a joint table, the counts as positions in it (`i · stride + c_i`): the truth while
    /// the lane lives (set once, not per chunk), written back to `counts` when a slide needs
    /// the counts and when the lane is dropped.
    p: [usize; SMALL_BINS],
}

/// What a chunk's slide changes in a [`Lane`] with a joint table, to slide it again.
#[derive(Clone, Copy)]
struct Saved {
    r: f64,
    stale: u32,
    p: [usize; SMALL_BINS],
}

impl Drop for Lane<'_> {
    fn drop(&mut self) {
        self.store_positions();
    }
}

impl<'a> Lane<'a> {
    /// `offset` = ε Σ ln q_i.
    #[inline(always)]
    fn new(sc: &'a mut Scale, offset: f64) -> Self {
        let Scale {
            counts,
            f,
            g,
            inv_norm,
            l,
            joint,
            r,
            stale,
            ..
        } = sc;
        let mut lane = Self {
            counts,
            f,
            g,
            l,
            joint,
            off: offset * *inv_norm,
            r,
            stale,
            p: [0; SMALL_BINS],
        };
        lane.load_positions();
        lane
    }

    /// The positions from the counts (with a joint table).
    #[inline(always)]
    fn load_positions(&mut self) {
        if let Some(j) = self.joint() {
            self.p = j.positions(self.counts);
        }
    }

    /// The counts from the positions (with a joint table).
    #[inline(always)]
    fn store_positions(&mut self) {
        if let Some(j) = self.joint() {
            j.store(&self.p, self.counts);
        }
    }

    /// The state a chunk's slide changes, when it is cheap to keep (with a joint table).
    #[inline(always)]
    fn save(&self) -> Option<Saved> {
        self.joint().map(|_| Saved {
            r: *self.r,
            stale: *self.stale,
            p: self.p,
        })
    }

    #[inline(always)]
    fn restore(&mut self, s: &Saved) {
        (*self.r, *self.stale, self.p) = (s.r, s.stale, s.p);
    }
}

/// A chunk's results the checks need: (sum of the main window's KLs, appended to the sum so far;
/// the main window's largest KL in the chunk; the short window's, `-inf` when it is off).
type Acc = (f64, f64, f64);

/// The hot loop's view of the short window: it may be off ([`NoWindow`]).
trait Window {
    const ON: bool;
    /// Slides the main window `long` and this one over the first `len` scores of a chunk: the
    /// k-th arrives in bin `buf.bins[k]` while one of bin `buf.old[k]` leaves the main window
    /// and one of bin `buf.leave[k]` this one; `buf.kls[k]` / `buf.short_kls[k]` get their KLs
    /// after it (without `STORE`, they are not written: only the sums and maxima come back).
    /// The running sums are recomputed exactly once [`RESYNC`] slides have been made, so a
    /// chunk must not be longer than either window's [`until_resync`](Self::until_resync).
    fn slide_with<const N: usize, const P: usize, const STORE: bool>(
        &mut self,
        long: &mut Lane,
        buf: &mut ChunkBuf<N, P>,
        len: usize,
        sum: f64,
    ) -> Acc;
    /// Slides left before the running sums are recomputed (at least 1).
    fn until_resync(&self) -> usize;
    /// What a slide changes in this window, when it is cheap to keep ([`Lane::save`]).
    fn save(&self) -> Option<Saved>;
    fn restore(&mut self, s: &Saved);
}

/// A window's count and bin tables as the hot loop reads them, apart (any number of bins).
#[derive(Clone, Copy)]
struct Tables<'a> {
    /// `g` has a power-of-two length (see `Scale::new`), so a count masked with `g_mask` needs
    /// no bounds check (the mask never changes a count: they are at most `window`).
    g: &'a [f64],
    g_mask: usize,
    l: &'a [f64],
    off: f64,
}

impl Tables<'_> {
    /// One slide: a score of bin `out` leaves, one of bin `inn` arrives; `r` and the counts
    /// come back updated and the KL after it is returned. No branch on `out == inn`
    /// (unpredictable for a peaked histogram): the change is then exactly 0.
    #[inline(always)]
    fn step(&self, counts: &mut [u64], inn: u32, out: u32, r: &mut f64) -> f64 {
        let (inn, out) = (inn as usize, out as usize);
        // Both counts are read before either is written, so a score waits for the previous
        // score's stores only, not for its own decrement as well (same result when
        // `inn == out`: the later store wins).
        let (vo, vi) = (counts[out], counts[inn]);
        let co = vo - 1;
        // A score replacing one of its own bin: one count, read once. A select, not a branch
        // (which the compiler would otherwise make, and the CPU mispredict).
        let ci = std::hint::select_unpredictable(inn == out, co, vi);
        counts[out] = co;
        counts[inn] = ci + 1;
        let (co, ci) = (co as usize & self.g_mask, ci as usize & self.g_mask);
        // The same two differences the joint table holds, so both paths give the same bits.
        *r += (self.g[ci] - self.l[inn]) - (self.g[co] - self.l[out]);
        *r - self.off
    }

    /// A chunk's last slide (`f` the window's f(c) table): [`step`](Self::step), or when the
    /// exact recompute is `due`, the counts changed and `r` recomputed from them.
    #[inline(always)]
    fn last(
        &self,
        counts: &mut [u64],
        f: &[f64],
        inn: u32,
        out: u32,
        due: bool,
        r: &mut f64,
    ) -> f64 {
        if due {
            counts[out as usize] -= 1;
            counts[inn as usize] += 1;
            *r = sums(counts, f, self.l);
            *r - self.off
        } else {
            self.step(counts, inn, out, r)
        }
    }
}

/// A window's joint table as the hot loop reads it (up to [`SMALL_BINS`] bins). The counts are
/// kept as positions in the table, `i · stride + c_i`, so a count change is one lookup and the
/// next position is the count's own arithmetic.
#[derive(Clone, Copy)]
struct Joint<'a> {
    /// Power-of-two length: a position masked with `mask` needs no bounds check (positions are
    /// below `bins × stride`).
    joint: &'a [f64],
    mask: usize,
    stride: usize,
    off: f64,
}

impl Joint<'_> {
    #[inline(always)]
    fn positions(&self, counts: &[u64]) -> [usize; SMALL_BINS] {
        let mut p = [0; SMALL_BINS];
        for (i, (p, &c)) in p.iter_mut().zip(counts).enumerate() {
            *p = i * self.stride + c as usize;
        }
        p
    }

    #[inline(always)]
    fn store(&self, p: &[usize; SMALL_BINS], counts: &mut [u64]) {
        for (i, (&p, c)) in p.iter().zip(counts).enumerate() {
            *c = (p - i * self.stride) as u64;
        }
    }

    /// [`Tables::step`] on positions: the same bits. Bins are masked into the fixed-size array
    /// (no bounds check; they are below `SMALL_BINS`).
    ///
    /// The table holds −d_c = `l_i − g(c)` (negation is exact), and `r` changes by
    /// (−d_out) − (−d_in), which is exactly d_in − d_out; with `SUB` by
    /// −((−d_in) − (−d_out)), the same value (it can only be a zero of the other sign, which
    /// changes no sum: `r` is never −0, since `sums` gives a nonzero sum of negative
    /// `f` terms minus the rest and a sum is −0 only if both terms are). Two forms because the
    /// two windows' steps, written alike, were paired by the compiler into SSE2 registers with
    /// the main window in the high half, which then cost a shuffle per score to take out.
    ///
    /// The positions are `p[BASE..]` (see [`slot`]).
    #[inline(always)]
    fn step<const SUB: bool, const P: usize, const BASE: usize>(
        &self,
        p: &mut [usize; P],
        inn: u32,
        out: u32,
        r: &mut f64,
    ) -> f64 {
        let (inn, out) = (BASE + slot::<P>(inn), BASE + slot::<P>(out));
        let (vo, vi) = (p[out], p[inn]);
        let po = vo - 1;
        let pi = std::hint::select_unpredictable(inn == out, po, vi);
        p[out] = po;
        p[inn] = pi + 1;
        let (di, dout) = (self.joint[pi & self.mask], self.joint[po & self.mask]);
        if SUB {
            *r -= di - dout;
        } else {
            *r += dout - di;
        }
        *r - self.off
    }
}

/// A bin's place among a window's positions, which start at some `BASE` of at most
/// [`SMALL_BINS`] in an array of `P` (bins are below `SMALL_BINS`), so that `BASE + slot` needs no
/// bounds check: with [`BYTE_SLOTS`] places, the bin's low byte (a byte load, no mask),
/// otherwise the bin masked to `SMALL_BINS`.
#[inline(always)]
fn slot<const P: usize>(bin: u32) -> usize {
    if P >= BYTE_SLOTS {
        usize::from(bin as u8)
    } else {
        bin as usize & (SMALL_BINS - 1)
    }
}

/// Positions for two windows indexed by a bin's low byte: the second starts at `SMALL_BINS`.
const BYTE_SLOTS: usize = SMALL_BINS + 256;

/// The larger of two KLs. KL is never NaN here (finite scores): one `maxsd`, not `f64::max`'s
/// NaN handling, which made a loop-carried chain of several cycles. Equal KLs have equal bits
/// (a difference of equal values is +0, never -0), so maxima taken in any grouping agree.
#[inline(always)]
fn larger(kl: f64, max: f64) -> f64 {
    if kl > max { kl } else { max }
}

impl<'a> Lane<'a> {
    #[inline(always)]
    fn tables(&self) -> Tables<'a> {
        let g_mask = self.g.len() - 1;
        Tables {
            g: &self.g[..=g_mask],
            g_mask,
            l: self.l,
            off: self.off,
        }
    }

    /// The joint table, when the window has one.
    #[inline(always)]
    fn joint(&self) -> Option<Joint<'a>> {
        let mask = self.joint.len().checked_sub(1)?;
        Some(Joint {
            joint: &self.joint[..=mask],
            mask,
            stride: self.g.len(),
            off: self.off,
        })
    }

    /// True when a chunk of `n` slides ends with the exact recompute (its last slide).
    #[inline(always)]
    fn due(&self, n: usize) -> bool {
        *self.stale + n as u32 >= RESYNC
    }

    /// After the first `body` of a chunk's `n` slides went through a hot loop (leaving `r`):
    /// the last slide if it did not (`body < n`; the k-th score arrives in bin `ins[k]` while
    /// one of bin `outs[k]` leaves), as the exact recompute when `due`; its KL is returned.
    /// Then the running sum and the resync counter are stored.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn finish(
        &mut self,
        mut r: f64,
        ins: &[u32],
        outs: &[u32],
        body: usize,
        n: usize,
        due: bool,
    ) -> Option<f64> {
        let mut last = None;
        if body < n {
            self.store_positions();
            let (inn, out) = (ins[body], outs[body]);
            let t = self.tables();
            last = Some(t.last(self.counts, self.f, inn, out, due, &mut r));
            self.load_positions();
        }
        if due {
            *self.stale = 0;
        } else {
            *self.stale += n as u32;
        }
        *self.r = r;
        last
    }

    /// One window alone over a chunk (the main window with the short one off, or a window while
    /// the main one fills): out of line, its running sum in a local, few live values, so they
    /// stay in registers. With `TRACK`, `acc` = (sum, max) of the KLs so far comes back updated.
    #[inline(never)]
    fn slide<const TRACK: bool>(
        &mut self,
        ins: &[u32],
        outs: &[u32],
        kls: &mut [f64],
        (mut sum, mut max): (f64, f64),
    ) -> (f64, f64) {
        let n = ins.len().min(outs.len()).min(kls.len());
        let (ins, outs, kls) = (&ins[..n], &outs[..n], &mut kls[..n]);
        // The last slide of a chunk may be due for the exact recompute: it goes after the loop.
        let due = self.due(n);
        let body = n.saturating_sub(usize::from(due));
        let mut r = *self.r;
        let walk = ins[..body].iter().zip(&outs[..body]).zip(&mut kls[..body]);
        if let Some(j) = self.joint() {
            let mut p = self.p;
            for ((&inn, &out), kl) in walk {
                *kl = j.step::<false, SMALL_BINS, 0>(&mut p, inn, out, &mut r);
                if TRACK {
                    (sum, max) = (sum + *kl, larger(*kl, max));
                }
            }
            self.p = p;
        } else {
            let t = self.tables();
            for ((&inn, &out), kl) in walk {
                *kl = t.step(self.counts, inn, out, &mut r);
                if TRACK {
                    (sum, max) = (sum + *kl, larger(*kl, max));
                }
            }
        }
        if let Some(kl) = self.finish(r, ins, outs, body, n, due) {
            kls[body] = kl;
            if TRACK {
                (sum, max) = (sum + kl, larger(kl, max));
            }
        }
        (sum, max)
    }
}

impl Window for Lane<'_> {
    const ON: bool = true;

    /// Both windows in one out-of-line loop, without a call, their running sums in locals.
    /// Each window's slide is a chain of dependent steps (a count read right after the previous
    /// score's store to it, and the running sum's additions), so one window alone leaves the
    /// CPU waiting; the two windows' chains are independent, so interleaved they overlap. The
    /// counts stay in memory: consecutive scores mostly hit the same few bins, so each update
    /// reads the previous one's store, but store-to-load forwarding makes that cheaper than
    /// keeping them packed in registers (tried: 128-bit fields cost more instructions than
    /// they saved). Each window's arithmetic is the same as alone, in the same order. The chunk
    /// comes as one block (one base register for its five arrays, so nothing spills).
    #[inline(never)]
    fn slide_with<const N: usize, const P: usize, const STORE: bool>(
        &mut self,
        long: &mut Lane,
        buf: &mut ChunkBuf<N, P>,
        len: usize,
        mut sum: f64,
    ) -> Acc {
        let n = len.min(N);
        // A window due for its exact recompute is due at the chunk's last slide (chunks end
        // there): that slide goes after the loop, for both windows.
        let (due_long, due_short) = (long.due(n), self.due(n));
        let body = n.saturating_sub(usize::from(due_long | due_short));
        let (mut lr, mut sr) = (*long.r, *self.r);
        // Without `STORE`, the short window's largest running sum, not KL: KL = r − off, and
        // subtracting a constant is monotone, so the largest KL is the largest sum minus `off`,
        // bit for bit (and the short window's KLs are not computed).
        let (mut lmax, mut smax) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
        let b = &mut *buf;
        macro_rules! score {
            ($k:expr, $long:expr, $short:expr) => {{
                let k = $k;
                let inn = b.bins[k];
                let kl = $long(&mut b.pos, inn, b.old[k], &mut lr);
                let short_kl = $short(&mut b.pos, inn, b.leave[k], &mut sr);
                if STORE {
                    b.kls[k] = kl;
                    b.short_kls[k] = short_kl;
                    smax = larger(short_kl, smax);
                } else {
                    smax = larger(sr, smax);
                }
                lmax = larger(kl, lmax);
                sum += kl;
            }};
        }
        if let (Some(lj), Some(sj)) = (long.joint(), self.joint()) {
            // The positions go through the chunk's block (no base register of their own): the
            // main window's first, then the short one's.
            b.pos[..SMALL_BINS].copy_from_slice(&long.p);
            b.pos[SMALL_BINS..2 * SMALL_BINS].copy_from_slice(&self.p);
            let one =
                |p: &mut [usize; P], inn, out, r: &mut f64| lj.step::<true, P, 0>(p, inn, out, r);
            let two = |p: &mut [usize; P], inn, out, r: &mut f64| {
                sj.step::<false, P, SMALL_BINS>(p, inn, out, r)
            };
            // Two scores per iteration: half the loop control (one index, below `body`, which
            // is at most `N`: no bounds check).
            let mut k = 0;
            while k + 1 < body {
                score!(k, one, two);
                score!(k + 1, one, two);
                k += 2;
            }
            if k < body {
                score!(k, one, two);
            }
            long.p.copy_from_slice(&b.pos[..SMALL_BINS]);
            self.p.copy_from_slice(&b.pos[SMALL_BINS..2 * SMALL_BINS]);
        } else {
            let (lt, st) = (long.tables(), self.tables());
            let (lc, sc) = (&mut *long.counts, &mut *self.counts);
            let mut one = |_: &mut [usize; P], inn, out, r: &mut f64| lt.step(lc, inn, out, r);
            let mut two = |_: &mut [usize; P], inn, out, r: &mut f64| st.step(sc, inn, out, r);
            for k in 0..body {
                score!(k, one, two);
            }
        }
        let (ins, outs, leave) = (&b.bins[..], &b.old[..], &b.leave[..]);
        if let Some(kl) = long.finish(lr, ins, outs, body, n, due_long) {
            if STORE {
                b.kls[body] = kl;
            }
            (sum, lmax) = (sum + kl, larger(kl, lmax));
        }
        if let Some(kl) = self.finish(sr, ins, leave, body, n, due_short) {
            if STORE {
                b.short_kls[body] = kl;
            }
            smax = larger(if STORE { kl } else { *self.r }, smax);
        }
        (sum, lmax, if STORE { smax } else { smax - self.off })
    }

    #[inline(always)]
    fn until_resync(&self) -> usize {
        RESYNC.saturating_sub(*self.stale).max(1) as usize
    }

    #[inline(always)]
    fn save(&self) -> Option<Saved> {
        Lane::save(self)
    }

    #[inline(always)]
    fn restore(&mut self, s: &Saved) {
        Lane::restore(self, s)
    }
}

/// The short window when it is off: only the main window slides (its thresholds are
/// [`NEVER`]; its KLs stay 0).
struct NoWindow;

impl Window for NoWindow {
    const ON: bool = false;
    /// Always stores the KLs (`Hot::run` re-slides only with both windows on).
    fn slide_with<const N: usize, const P: usize, const STORE: bool>(
        &mut self,
        long: &mut Lane,
        buf: &mut ChunkBuf<N, P>,
        len: usize,
        sum: f64,
    ) -> Acc {
        let n = len.min(N);
        let (ins, outs, kls) = (&buf.bins[..n], &buf.old[..n], &mut buf.kls[..n]);
        let (sum, max) = long.slide::<true>(ins, outs, kls, (sum, f64::NEG_INFINITY));
        (sum, max, f64::NEG_INFINITY)
    }
    fn until_resync(&self) -> usize {
        usize::MAX
    }
    fn save(&self) -> Option<Saved> {
        None
    }
    fn restore(&mut self, _: &Saved) {}
}

/// Scores per chunk of the steady-state loop: their bins are computed first for the whole chunk
/// (a loop without dependences, which the compiler vectorises), then the ring is updated, and
/// only then the serial part runs, reading bins from L1.
const CHUNK: usize = 256;

/// A chunk's working arrays in one block, with (joint tables) both windows' count positions
/// (see [`slot`]). In this order (`repr(C)`) with `N` = `CHUNK`, no two bin arrays sit a
/// multiple of 4 KiB apart, and the positions in use (the first 256 bytes of `pos`) share no
/// address modulo 4 KiB with them: a load would otherwise wait on unrelated stores (4K
/// aliasing: it made the ring copy the slowest pass before).
#[repr(C)]
struct ChunkBuf<const N: usize, const P: usize> {
    bins: [u32; N],
    old: [u32; N],
    leave: [u32; N],
    pos: [usize; P],
    flags: [bool; N],
    kls: [f64; N],
    short_kls: [f64; N],
}

impl<const N: usize, const P: usize> ChunkBuf<N, P> {
    fn new() -> Self {
        Self {
            bins: [0; N],
            old: [0; N],
            leave: [0; N],
            kls: [0.0; N],
            short_kls: [0.0; N],
            pos: [0; P],
            flags: [false; N],
        }
    }
}

/// The steady-state (full window) loop's state: the detector's fields it touches, borrowed, and
/// the batch's accumulators.
struct Hot<'a> {
    lo: f64,
    hi: f64,
    bins: usize,
    ring: &'a mut [f64],
    ring_bins: &'a mut [u32],
    head: &'a mut usize,
    short_w: usize,
    t: Thresholds,
    st: Thresholds,
    events: &'a mut VecDeque<DriftEvent>,
    in_drift: &'a mut bool,
    max_events: usize,
    ts: f64,
    starts: &'a mut Vec<usize>,
    /// Index in the batch of `rest[0]`.
    first: usize,
    n_drift: usize,
    hsum: f64,
    max: f64,
}

impl Hot<'_> {
    /// Adds `rest` to full windows, checking both after every score; with `PER_SCORE`,
    /// `each(kls, flags)` sees the checks, a chunk at a time (without it, `each` is not called).
    #[inline(always)]
    fn run<const N: usize, const P: usize, const PER_SCORE: bool, S: Window>(
        &mut self,
        mut long: Lane,
        mut short: S,
        rest: &[f64],
        each: &mut impl FnMut(&[f64], &[bool]),
    ) {
        let w = self.ring.len();
        let (lo, span) = (self.lo, self.hi - self.lo);
        let (bins_f, last_f) = (self.bins as f64, (self.bins - 1) as f64);
        // Dividing by a power of two gives the same bits as multiplying by its reciprocal
        // when that is a normal number (both are the exact quotient, rounded once).
        let inv_span = Some(1.0 / span).filter(|inv| {
            span.is_normal() && inv.is_normal() && span.to_bits() & ((1 << 52) - 1) == 0
        });
        let (t, st) = (self.t, self.st);
        let mut h = *self.head;
        let mut sh = (h + w - self.short_w) % w;
        let (mut n_drift, mut hsum, mut max) = (0, self.hsum, self.max);
        let mut buf = ChunkBuf::<N, P>::new();
        let mut done = 0;
        while done < rest.len() {
            // Within the ring's end, so the chunk's slots are one slice.
            let len = N
                .min(rest.len() - done)
                .min(w - h)
                .min(long.until_resync())
                .min(short.until_resync());
            let xs = &rest[done..done + len];
            // 1. Bins: `KlDriftConfig::bin_of` without branches (scores below the range give a
            // negative position, clamped to bin 0; above it, a position >= bins, clamped to the
            // last bin; NaN was rejected), the same bin for every score.
            // The default range (0, 1) multiplies instead of dividing (see `inv_span`); there
            // even the subtraction and the product by 1 can go (x - 0 is x, bin for bin: only
            // a -0 can become +0, and both fall in bin 0).
            let bins_out = &mut buf.bins[..len];
            if lo == 0.0 && inv_span == Some(1.0) {
                bins_of(bins_out, xs, |x| clamp_bin(x * bins_f, last_f));
            } else if let Some(inv) = inv_span {
                bins_of(bins_out, xs, |x| clamp_bin((x - lo) * inv * bins_f, last_f));
            } else {
                bins_of(bins_out, xs, |x| {
                    clamp_bin((x - lo) / span * bins_f, last_f)
                });
            }
            // 2. The ring, as copies. The k-th score evicts the one in slot h + k, written before
            // this chunk. The short window's k-th leaving score came `short_w` scores earlier:
            // for k >= short_w one of this chunk's, otherwise the ring's slot sh + k (mod w), read
            // before this chunk writes (a slot it overwrites later is read first serially too).
            let rb = &mut *self.ring_bins;
            if S::ON {
                let m = len.min(self.short_w);
                let first = m.min(w - sh);
                buf.leave[..first].copy_from_slice(&rb[sh..sh + first]);
                buf.leave[first..m].copy_from_slice(&rb[..m - first]);
                let (bins, leave) = (&buf.bins, &mut buf.leave);
                leave[m..len].copy_from_slice(&bins[..len - m]);
                sh = (sh + len) % w;
            }
            buf.old[..len].copy_from_slice(&rb[h..h + len]);
            rb[h..h + len].copy_from_slice(&buf.bins[..len]);
            // 3. The running sums and the KLs, score by score, both windows in one loop. A
            // chunk ends where a window's sums are due for their exact recompute.
            // Without a per-score consumer, a chunk that starts outside a drift episode first
            // slides without storing its KLs (the usual case: no flag, nothing else needs
            // them); only if a window then went above its drift threshold is it slid again,
            // from the saved state, storing them: the same arithmetic, so the same bits.
            let mut stored = true;
            let mut acc = None;
            if !PER_SCORE
                && !*self.in_drift
                && let (Some(ls), Some(ss)) = (long.save(), short.save())
            {
                let quick = short.slide_with::<N, P, false>(&mut long, &mut buf, len, hsum);
                if (quick.1 > t.drift) | (quick.2 > st.drift) {
                    long.restore(&ls);
                    short.restore(&ss);
                } else {
                    (stored, acc) = (false, Some(quick));
                }
            }
            let (s, long_max, short_max) = match acc {
                Some(quick) => quick,
                None => short.slide_with::<N, P, true>(&mut long, &mut buf, len, hsum),
            };
            hsum = s;
            max = larger(long_max, max);
            if !stored {
                h += len;
                if h == w {
                    h = 0;
                }
                done += len;
                continue;
            }
            // 4. The checks, one after every score, in order. A chunk whose largest KLs are
            // both at or below their drift thresholds has no flag set (the usual case): no
            // pass over it. Otherwise the flags and their count without a call (so nothing is
            // spilled around one); then the episode bookkeeping only if a window is in drift
            // or an episode is open.
            let (kls, short_kls) = (&buf.kls[..len], &buf.short_kls[..len]);
            let flags = &mut buf.flags[..len];
            let hot = (long_max > t.drift) | (short_max > st.drift);
            if hot {
                let mut flagged = 0;
                for ((f, &kl), &short_kl) in flags.iter_mut().zip(kls).zip(short_kls) {
                    *f = (kl > t.drift) | (short_kl > st.drift);
                    flagged += usize::from(*f);
                }
                n_drift += flagged;
            } else {
                flags.fill(false);
            }
            if hot || *self.in_drift {
                let base = self.first + done;
                for (k, ((&kl, &short_kl), &f)) in
                    kls.iter().zip(short_kls).zip(flags.iter()).enumerate()
                {
                    if (f || *self.in_drift)
                        && episode(
                            self.events,
                            self.in_drift,
                            self.max_events,
                            self.ts,
                            kl,
                            short_kl,
                            &t,
                            &st,
                        )
                    {
                        self.starts.push(base + k);
                    }
                }
            }
            if PER_SCORE {
                each(kls, flags);
            }
            h += len;
            if h == w {
                h = 0;
            }
            done += len;
        }
        // The scores themselves: nothing above reads them (the bins do the sliding), so only the
        // last `w` are written, to the slots they would have reached one by one.
        let keep = rest.len().min(w);
        let start = (*self.head + (rest.len() - keep)) % w;
        let first = keep.min(w - start);
        let tail = &rest[rest.len() - keep..];
        self.ring[start..start + first].copy_from_slice(&tail[..first]);
        self.ring[..keep - first].copy_from_slice(&tail[first..]);
        *self.head = h;
        (self.n_drift, self.hsum, self.max) = (n_drift, hsum, max);
    }
}

/// `bin(x)` for each score, four per step (the compiler makes it two pairs of SSE2 operations
/// per step: half the loop control of one pair).
#[inline(always)]
fn bins_of(out: &mut [u32], xs: &[f64], bin: impl Fn(f64) -> u32) {
    let mut quads = out.chunks_exact_mut(4);
    let mut xq = xs.chunks_exact(4);
    for (b, x) in (&mut quads).zip(&mut xq) {
        for (b, &x) in b.iter_mut().zip(x) {
            *b = bin(x);
        }
    }
    for (b, &x) in quads.into_remainder().iter_mut().zip(xq.remainder()) {
        *b = bin(x);
    }
}

/// A bin position clamped to 0..=`last` and floored: `KlDriftConfig::bin_of` for a score whose
/// position is `pos` (not NaN: scores are checked first). Compares, not `f64::max` / `min`,
/// whose NaN handling cost a register copy each (a -0 becomes +0: both are bin 0).
#[inline(always)]
fn clamp_bin(pos: f64, last: f64) -> u32 {
    let pos = if pos > 0.0 { pos } else { 0.0 };
    floor_bin(if pos < last { pos } else { last })
}

/// `pos as u32` for a position in 0..=2^31 (a clamped bin position), in operations the
/// compiler vectorises (SSE2 has no packed conversion with `as`'s saturation, so `as` went one
/// score at a time): adding 2^52 rounds `pos` to the nearest integer, which then sits in the
/// low bits of the sum (exact: the sum's spacing is 1); one less if that rounded up.
#[inline(always)]
fn floor_bin(pos: f64) -> u32 {
    const TWO_52: f64 = 4_503_599_627_370_496.0;
    let y = pos + TWO_52;
    let nearest = (y.to_bits() - TWO_52.to_bits()) as u32;
    nearest - u32::from(y - TWO_52 > pos)
}

/// Thresholds that never fire (the short window when it is off).
const NEVER: Thresholds = Thresholds {
    watch: f64::INFINITY,
    drift: f64::INFINITY,
    severe: f64::INFINITY,
};

/// Opens, extends or ends the drift event after a full-window check; true when one started.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn episode(
    events: &mut VecDeque<DriftEvent>,
    in_drift: &mut bool,
    max_events: usize,
    ts: f64,
    kl: f64,
    short_kl: f64,
    t: &Thresholds,
    st: &Thresholds,
) -> bool {
    let drift = kl > t.drift || short_kl > st.drift;
    let severe = kl > t.severe || short_kl > st.severe;
    if drift && !*in_drift {
        *in_drift = true;
        if events.len() == max_events {
            events.pop_front();
        }
        events.push_back(DriftEvent {
            timestamp: ts,
            kl,
            max_kl: kl,
            severe,
            end: None,
            short_kl,
        });
        return true;
    }
    if *in_drift && let Some(e) = events.back_mut() {
        e.max_kl = e.max_kl.max(kl);
        e.severe |= severe;
        // Hysteresis: the episode ends once both windows are back below their watch thresholds,
        // so KL hovering around the drift threshold is one event, not many.
        if kl <= t.watch && short_kl <= st.watch {
            e.end = Some(ts);
            *in_drift = false;
        }
    }
    false
}

/// The short window's size and thresholds, calibrated with the baseline.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
struct ShortScale {
    window: usize,
    thresholds: Thresholds,
}

/// 0 normal, 1 watch, 2 drift, 3 severe.
fn level_of(kl: f64, t: &Thresholds) -> u8 {
    u8::from(kl > t.watch) + u8::from(kl > t.drift) + u8::from(kl > t.severe)
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Baseline {
    counts: Vec<u64>,
    thresholds: Thresholds,
    calibration: Calibration,
    // Absent in files written before the short window existed: such a detector keeps one window.
    #[serde(default)]
    short: Option<ShortScale>,
    // ln q_i and ε Σ ln q_i for the hot path; rebuilt on load.
    #[serde(skip)]
    ln_q: Vec<f64>,
    #[serde(skip)]
    offset: f64,
}

impl Baseline {
    fn new(counts: Vec<u64>, config: &KlDriftConfig) -> Result<Self> {
        let n = Self::total(&counts, config)?;
        let (thresholds, calibration, short) = match config.threshold_mode {
            ThresholdMode::Fixed => (config.fixed_thresholds, Calibration::default(), None),
            ThresholdMode::Calibrated => calibrate(&counts, n, config)?,
        };
        let mut b = Self {
            counts,
            thresholds,
            calibration,
            short,
            ln_q: Vec::new(),
            offset: 0.0,
        };
        b.validate(config)?;
        b.prepare(config);
        Ok(b)
    }

    /// The number of scores `counts` holds: at least the window, at most
    /// [`MAX_BASELINE_SCORES`] (added without wrapping).
    fn total(counts: &[u64], config: &KlDriftConfig) -> Result<u64> {
        if counts.len() != config.bins {
            return Err(Error::Dimension {
                expected: config.bins,
                got: counts.len(),
            });
        }
        // At most MAX_BINS counts below 2^64 each: a u128 sum cannot overflow.
        let n: u128 = counts.iter().map(|&c| u128::from(c)).sum();
        if n == 0 {
            return Err(Error::InvalidInput("baseline is empty".into()));
        }
        if n > u128::from(MAX_BASELINE_SCORES) {
            return Err(Error::InvalidInput(format!(
                "baseline counts add up to {n} scores, more than the limit 2^53 \
                 ({MAX_BASELINE_SCORES})"
            )));
        }
        if n < config.window as u128 {
            return Err(Error::InvalidInput(format!(
                "baseline holds {n} scores, fewer than the window ({}): the reference would be \
                 noisier than the windows compared with it; lower `window` or give more scores",
                config.window
            )));
        }
        Ok(n as u64)
    }

    /// The checks both [`new`](Self::new) and loading make: the counts (see
    /// [`total`](Self::total)), thresholds in order and finite, calibration statistics finite,
    /// a short window that fits the window.
    fn validate(&self, config: &KlDriftConfig) -> Result<()> {
        Self::total(&self.counts, config)?;
        let bad = |e: Error| Error::InvalidInput(format!("baseline: {e}"));
        self.thresholds.check("thresholds").map_err(bad)?;
        let c = &self.calibration;
        let stats = [
            c.mean,
            c.variance,
            c.max,
            c.short_mean,
            c.short_variance,
            c.short_max,
        ];
        // Means and maxima of KL may round a hair below 0; variances never do.
        if !(stats.iter().all(|x| x.is_finite()) && c.variance >= 0.0 && c.short_variance >= 0.0) {
            return Err(Error::InvalidInput(format!(
                "baseline calibration {c:?} holds a negative variance or a non-finite statistic"
            )));
        }
        if let Some(sh) = self.short {
            if !(2..config.window).contains(&sh.window) {
                return Err(Error::InvalidInput(format!(
                    "short window {} does not fit the window {}",
                    sh.window, config.window
                )));
            }
            sh.thresholds.check("short thresholds").map_err(bad)?;
        }
        Ok(())
    }

    fn prepare(&mut self, config: &KlDriftConfig) {
        self.ln_q = smoothed(&self.counts, config.epsilon)
            .iter()
            .map(|q| q.ln())
            .collect();
        self.offset = config.epsilon * self.ln_q.iter().sum::<f64>();
    }
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

/// Binomial(n, p), n at most [`MAX_BASELINE_SCORES`]. rand_distr's BTPE needs n·min(p, 1 − p)
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
fn calibrate(
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

fn check_score(i: usize, x: f64) -> Result<()> {
    if x.is_finite() {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "score {i} is {x}: scores must be finite numbers"
        )))
    }
}

/// Rejects a batch holding a NaN or infinite score, naming the first. Checks blocks without an
/// early exit inside (a loop the compiler vectorises): a fraction of a cycle per score.
/// Rejects a batch holding a non-finite score (before anything changes) and counts the scores
/// outside `(lo, hi)`, in one pass, so the hot loop does not count them. A score in the range is
/// finite (NaN compares false), so the usual block, all in range, needs one count per score;
/// only a block with a score outside is looked at again.
fn check_scores(scores: &[f64], (lo, hi): (f64, f64)) -> Result<u64> {
    let mut outside = 0;
    for (b, block) in scores.chunks(CHUNK).enumerate() {
        let inside: u64 = block
            .iter()
            .map(|&s| u64::from((s >= lo) & (s <= hi)))
            .sum();
        if inside < block.len() as u64 {
            if let Some(i) = block.iter().position(|s| !s.is_finite()) {
                check_score(b * CHUNK + i, block[i])?;
            }
            outside += block.len() as u64 - inside;
        }
    }
    Ok(outside)
}

fn check_timestamp(ts: Option<f64>) -> Result<f64> {
    match ts {
        Some(t) if t.is_finite() => Ok(t),
        Some(t) => Err(Error::InvalidInput(format!(
            "timestamp {t} is not a finite number of seconds"
        ))),
        None => Ok(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0)),
    }
}

impl KlDriftDetector {
    /// Validates `config` and builds a detector without a baseline (set one with
    /// [`set_baseline`](Self::set_baseline) or [`set_baseline_histogram`](Self::set_baseline_histogram)).
    pub fn new(config: KlDriftConfig) -> Result<Self> {
        config.validate()?;
        let long = Scale::new(config.window, &config)?;
        Ok(Self {
            config,
            baseline: None,
            ring: Vec::new(),
            ring_bins: Vec::new(),
            head: 0,
            long,
            short: None,
            n_seen: 0,
            out_of_range: 0,
            last_ts: None,
            in_drift: false,
            events: VecDeque::new(),
            history: VecDeque::new(),
        })
    }

    /// A detector whose baseline is `scores` (prediction scores or a classifier's confidences on
    /// held-out data, saved at training time).
    pub fn from_baseline(scores: &[f64], config: KlDriftConfig) -> Result<Self> {
        let mut d = Self::new(config)?;
        d.set_baseline(scores)?;
        Ok(d)
    }

    /// A detector whose baseline is a histogram computed earlier (see
    /// [`baseline_histogram`](Self::baseline_histogram), [`histogram`]); histograms of shards add up.
    pub fn from_histogram(counts: &[u64], config: KlDriftConfig) -> Result<Self> {
        let mut d = Self::new(config)?;
        d.set_baseline_histogram(counts)?;
        Ok(d)
    }

    /// Replaces the baseline with `scores`, recalibrates, and resets the window and events.
    pub fn set_baseline(&mut self, scores: &[f64]) -> Result<()> {
        if scores.is_empty() {
            return Err(Error::InvalidInput("baseline is empty".into()));
        }
        let counts = histogram(scores, &self.config)?;
        let first = scores[0];
        if scores.iter().all(|&s| s == first) {
            return Err(Error::InvalidInput(format!(
                "baseline is constant (every score is {first}): it describes no distribution to \
                 drift from"
            )));
        }
        self.set_baseline_histogram(&counts)
    }

    /// Replaces the baseline with a histogram of `bins` counts, recalibrates, and resets.
    pub fn set_baseline_histogram(&mut self, counts: &[u64]) -> Result<()> {
        Baseline::total(counts, &self.config)?;
        let b = Baseline::new(counts.to_vec(), &self.config)?;
        // The short window's tables, unless the ones held fit (built before anything changes).
        let keep = matches!((&self.short, b.short), (Some(s), Some(sh)) if s.window == sh.window);
        if !keep {
            self.short = (b.short)
                .map(|sh| Scale::new(sh.window, &self.config))
                .transpose()?;
        }
        self.baseline = Some(b);
        self.reset();
        Ok(())
    }

    /// The configuration.
    pub fn config(&self) -> &KlDriftConfig {
        &self.config
    }

    /// Whether a baseline is set.
    pub fn is_fitted(&self) -> bool {
        self.baseline.is_some()
    }

    // Lazily: an error built eagerly is dropped on every call (a call to its drop glue,
    // 23 instructions per `add` in callgrind).
    #[allow(clippy::unnecessary_lazy_evaluations)]
    fn baseline(&self) -> Result<&Baseline> {
        self.baseline
            .as_ref()
            .ok_or_else(|| Error::NotFitted { what: WHAT })
    }

    /// The baseline histogram counts (what [`from_histogram`](Self::from_histogram) takes).
    pub fn baseline_histogram(&self) -> Result<Vec<u64>> {
        Ok(self.baseline()?.counts.clone())
    }

    /// The thresholds in use (calibrated or fixed).
    pub fn thresholds(&self) -> Result<Thresholds> {
        Ok(self.baseline()?.thresholds)
    }

    /// How the calibrated thresholds came about (all zero in fixed mode).
    pub fn calibration(&self) -> Result<Calibration> {
        Ok(self.baseline()?.calibration.clone())
    }

    /// Adds one score (at `timestamp` seconds since the Unix epoch, or now) and checks the window.
    pub fn add(&mut self, score: f64, timestamp: Option<f64>) -> Result<DriftCheck> {
        self.baseline()?;
        check_score(0, score)?;
        let (lo, hi) = self.config.range;
        let outside = u64::from((score < lo) | (score > hi));
        let ts = check_timestamp(timestamp)?;
        let mut check = DriftCheck {
            drift: false,
            kl: 0.0,
        };
        self.run::<true>(&[score], ts, outside, |kl, drift| {
            check = DriftCheck {
                drift: drift[0],
                kl: kl[0],
            }
        });
        Ok(check)
    }

    /// Adds many scores at one `timestamp` (or now), checking the window after every score. A
    /// non-finite score anywhere rejects the whole batch before anything is added.
    pub fn add_many(&mut self, scores: &[f64], timestamp: Option<f64>) -> Result<Vec<DriftCheck>> {
        self.baseline()?;
        let outside = check_scores(scores, self.config.range)?;
        let ts = check_timestamp(timestamp)?;
        let mut out = Vec::with_capacity(scores.len());
        self.run::<true>(scores, ts, outside, |kls, flags| {
            out.extend(
                kls.iter()
                    .zip(flags)
                    .map(|(&kl, &drift)| DriftCheck { drift, kl }),
            );
        });
        Ok(out)
    }

    /// Adds many scores at one `timestamp` (or now), checking the window after every score like
    /// [`add_many`](Self::add_many), but returns only where drift episodes started and the state
    /// after the last score: no per-score result to allocate, the fast path for large batches.
    /// A non-finite score anywhere rejects the whole batch before anything is added.
    pub fn add_batch(&mut self, scores: &[f64], timestamp: Option<f64>) -> Result<DriftBatch> {
        self.baseline()?;
        let outside = check_scores(scores, self.config.range)?;
        let ts = check_timestamp(timestamp)?;
        Ok(self.run::<false>(scores, ts, outside, |_, _| {}))
    }

    /// The one implementation behind `add`, `add_many` and `add_batch`: adds `scores` at `ts`,
    /// checking after each; `each(kls, drift_flags)` sees every check, in order, a run of them
    /// at a time. `outside` = how many of them are outside the range (counted while checking
    /// them). Needs a baseline.
    #[inline(always)]
    fn run<const PER_SCORE: bool>(
        &mut self,
        scores: &[f64],
        ts: f64,
        outside: u64,
        mut each: impl FnMut(&[f64], &[bool]),
    ) -> DriftBatch {
        let mut out = DriftBatch {
            n: scores.len(),
            drift_starts: Vec::new(),
            n_drift: 0,
            drift: false,
            kl: 0.0,
            max_kl: 0.0,
        };
        if scores.is_empty() || self.baseline.is_none() {
            return out;
        }
        let now = self.last_ts.map_or(ts, |t| t.max(ts));
        self.last_ts = Some(now);
        self.n_seen += scores.len() as u64;
        self.out_of_range += outside;
        // The hourly history bucket of `now`, accumulated score by score.
        let hour = (now / SECONDS_PER_HOUR).floor() as i64;
        let (mut hn, mut hsum, mut hmax) = match self.history.back() {
            Some(h) if h.hour >= hour => (h.n, h.sum, h.max),
            _ => (0, 0.0, f64::NEG_INFINITY),
        };
        let n0 = hn;
        let window = self.config.window;
        let Self {
            config,
            baseline,
            ring,
            ring_bins,
            head,
            long,
            short,
            in_drift,
            events,
            ..
        } = self;
        let Some(b) = baseline.as_ref() else {
            return out;
        };
        let (ln_q, offset, t) = (&b.ln_q[..], b.offset, b.thresholds);
        let st = b.short.map_or(NEVER, |s| s.thresholds);
        let max_events = config.max_events;
        let mut i = 0;
        // Filling: every probability changes with n, so the KL is summed over all bins.
        while i < scores.len() && ring.len() < window {
            let x = scores[i];
            let (bin, _) = config.bin_of(x);
            ring.push(x);
            ring_bins.push(bin as u32);
            long.counts[bin] += 1;
            let len = ring.len();
            let mut short_kl = 0.0;
            if let Some(s) = short.as_mut() {
                if len > s.window {
                    s.step_one(ring_bins[len - 1 - s.window] as usize, bin, offset);
                } else {
                    s.counts[bin] += 1;
                    if len == s.window {
                        s.recompute();
                    }
                }
                if len >= s.window {
                    short_kl = s.kl(offset);
                }
            }
            let kl = if len == window {
                long.recompute();
                long.kl(offset)
            } else {
                let n = len as f64;
                let eps = config.epsilon;
                let norm = 1.0 + config.bins as f64 * eps;
                let mut kl = 0.0;
                for (c, lq) in long.counts.iter().zip(ln_q) {
                    let p = (*c as f64 / n + eps) / norm;
                    kl += p * (p.ln() - lq);
                }
                kl
            };
            out.kl = kl;
            if len == window {
                hn += 1;
                hsum += kl;
                hmax = hmax.max(kl);
                out.max_kl = out.max_kl.max(kl);
                let drift = kl > t.drift || short_kl > st.drift;
                if episode(events, in_drift, max_events, ts, kl, short_kl, &t, &st) {
                    out.drift_starts.push(i);
                }
                out.drift = drift;
                out.n_drift += usize::from(drift);
                each(&[kl], &[drift]);
            } else {
                each(&[kl], &[false]);
            }
            i += 1;
        }
        // Full window: O(1) per score. The score at `head` (the oldest) leaves, the new one takes
        // its place; the short window's leaving score sits `short.window` places before.
        let steady = i < scores.len();
        let mut batch_max = out.max_kl;
        if steady && scores.len() - i == 1 {
            // One score (`add`): both windows slide once, without the chunk loop's set-up;
            // the same arithmetic and bookkeeping as a chunk of one.
            let x = scores[i];
            let (bin, _) = config.bin_of(x);
            let (w, h) = (window, *head);
            let old = ring_bins[h] as usize;
            let short_kl = match short.as_mut() {
                Some(s) => {
                    let leave = ring_bins[(h + w - s.window) % w] as usize;
                    s.step_one(leave, bin, offset)
                }
                None => 0.0,
            };
            let kl = long.step_one(old, bin, offset);
            (ring_bins[h], ring[h]) = (bin as u32, x);
            *head = if h + 1 == w { 0 } else { h + 1 };
            hsum += kl;
            batch_max = larger(kl, batch_max);
            let drift = (kl > t.drift) | (short_kl > st.drift);
            out.n_drift += usize::from(drift);
            if (drift || *in_drift)
                && episode(events, in_drift, max_events, ts, kl, short_kl, &t, &st)
            {
                out.drift_starts.push(i);
            }
            each(&[kl], &[drift]);
            hn += 1;
            hmax = hmax.max(batch_max);
            out.max_kl = batch_max;
            out.kl = kl;
            out.drift = drift;
        } else if steady {
            let rest = &scores[i..];
            let mut hot = Hot {
                lo: config.range.0,
                hi: config.range.1,
                bins: config.bins,
                ring,
                ring_bins,
                head,
                short_w: short.as_ref().map_or(0, |s| s.window),
                t,
                st,
                events,
                in_drift,
                max_events,
                ts,
                starts: &mut out.drift_starts,
                first: i,
                n_drift: 0,
                hsum,
                max: batch_max,
            };
            // Full-size chunk buffers pay for their setup over a few scores (`add` passes one);
            // both sizes give the same bits.
            const SMALL: usize = 8;
            match (short.as_mut(), rest.len() > SMALL) {
                (Some(s), true) => hot.run::<CHUNK, BYTE_SLOTS, PER_SCORE, _>(
                    Lane::new(long, offset),
                    Lane::new(s, offset),
                    rest,
                    &mut each,
                ),
                (Some(s), false) => hot.run::<SMALL, { 2 * SMALL_BINS }, PER_SCORE, _>(
                    Lane::new(long, offset),
                    Lane::new(s, offset),
                    rest,
                    &mut each,
                ),
                (None, true) => hot.run::<CHUNK, BYTE_SLOTS, PER_SCORE, _>(
                    Lane::new(long, offset),
                    NoWindow,
                    rest,
                    &mut each,
                ),
                (None, false) => hot.run::<SMALL, { 2 * SMALL_BINS }, PER_SCORE, _>(
                    Lane::new(long, offset),
                    NoWindow,
                    rest,
                    &mut each,
                ),
            }
            out.n_drift += hot.n_drift;
            (hsum, batch_max) = (hot.hsum, hot.max);
            hn += (scores.len() - i) as u64;
            hmax = hmax.max(batch_max);
            out.max_kl = batch_max;
            out.kl = long.kl(offset);
            let short_kl = short.as_ref().map_or(0.0, |s| s.kl(offset));
            out.drift = out.kl > t.drift || short_kl > st.drift;
        }
        if hn > n0 {
            match self.history.back_mut() {
                Some(h) if h.hour >= hour => (h.n, h.sum, h.max) = (hn, hsum, hmax),
                _ => self.history.push_back(HourBucket {
                    hour,
                    n: hn,
                    sum: hsum,
                    max: hmax,
                }),
            }
            self.prune_history(hour);
        }
        out
    }

    fn prune_history(&mut self, hour: i64) {
        let keep = (self.config.history_days * 24.0).ceil() as i64;
        // Saturating: a timestamp near ±f64::MAX makes an hour near the ends of i64.
        while (self.history.front()).is_some_and(|h| h.hour < hour.saturating_sub(keep)) {
            self.history.pop_front();
        }
    }

    fn now(&self) -> f64 {
        self.last_ts
            .unwrap_or_else(|| check_timestamp(None).unwrap_or(0.0))
    }

    fn should_retrain_at(&self, now: f64, t: &Thresholds) -> bool {
        let since = now - self.config.retrain_days * SECONDS_PER_DAY;
        let recent = self.events.iter().filter(|e| e.timestamp >= since);
        let (mut n, mut severe) = (0usize, false);
        for e in recent {
            n += 1;
            severe |= e.severe || e.max_kl > t.severe;
        }
        n >= self.config.retrain_drifts || severe
    }

    /// The window's scores, oldest first.
    fn window_scores(&self) -> impl Iterator<Item = f64> + '_ {
        self.ring[self.head..]
            .iter()
            .chain(&self.ring[..self.head])
            .copied()
    }

    /// Drift flag, KL/PSI/JS, thresholds, window statistics and the retrain verdict.
    pub fn status(&self) -> Result<DriftStatus> {
        let b = self.baseline()?;
        let n = self.ring.len();
        let q = smoothed(&b.counts, self.config.epsilon);
        let p = smoothed(&self.long.counts, self.config.epsilon);
        let (kl_v, psi_v, js_v) = if n == 0 {
            (0.0, 0.0, 0.0)
        } else {
            (kl(&p, &q), psi(&p, &q), js(&p, &q))
        };
        let (mean, std) = if n == 0 {
            (f64::NAN, f64::NAN)
        } else {
            let mean = self.window_scores().sum::<f64>() / n as f64;
            let var = self
                .window_scores()
                .map(|s| (s - mean).powi(2))
                .sum::<f64>()
                / n as f64;
            (mean, var.sqrt())
        };
        let t = b.thresholds;
        let full = n == self.config.window;
        let short_thresholds = b.short.map(|s| s.thresholds);
        let (short_window, short_kl) = match (&self.short, short_thresholds) {
            (Some(s), Some(_)) if n >= s.window => {
                (s.window, kl(&smoothed(&s.counts, self.config.epsilon), &q))
            }
            (Some(s), _) => (s.window, 0.0),
            _ => (0, 0.0),
        };
        let level =
            level_of(kl_v, &t).max(short_thresholds.map_or(0, |st| level_of(short_kl, &st)));
        let level = if !full {
            "filling"
        } else {
            ["normal", "watch", "drift", "severe"][level as usize]
        };
        Ok(DriftStatus {
            drift: full && matches!(level, "drift" | "severe"),
            level: level.into(),
            kl: kl_v,
            psi: psi_v,
            js: js_v,
            thresholds: t,
            window_size: self.config.window,
            n_window: n,
            n_seen: self.n_seen,
            window_mean: mean,
            window_std: std,
            out_of_range: self.out_of_range,
            should_retrain: self.should_retrain_at(self.now(), &t),
            short_window,
            short_kl,
            short_thresholds,
        })
    }

    /// Drift events, KL statistics and the retrain verdict over the last `days` days before the
    /// latest timestamp seen.
    pub fn summary(&self, days: f64) -> Result<DriftSummary> {
        let b = self.baseline()?;
        if days.is_nan() || days <= 0.0 {
            return Err(Error::InvalidInput(format!(
                "days must be a positive number, got {days}"
            )));
        }
        let now = self.now();
        let since = now - days * SECONDS_PER_DAY;
        let events: Vec<DriftEvent> = self
            .events
            .iter()
            .filter(|e| e.timestamp >= since)
            .copied()
            .collect();
        let first_hour = (since / SECONDS_PER_HOUR).floor() as i64;
        let (mut n, mut sum, mut max) = (0u64, 0.0, 0.0f64);
        for h in self.history.iter().filter(|h| h.hour >= first_hour) {
            n += h.n;
            sum += h.sum;
            max = max.max(h.max);
        }
        Ok(DriftSummary {
            days,
            drift_count: events.len(),
            max_kl: max,
            mean_kl: if n == 0 { 0.0 } else { sum / n as f64 },
            n_checks: n,
            should_retrain: self.should_retrain_at(now, &b.thresholds),
            events,
        })
    }

    /// Empties the window and forgets events and history; keeps the baseline and thresholds.
    pub fn reset(&mut self) {
        self.ring.clear();
        self.ring_bins.clear();
        self.head = 0;
        // The tables depend only on the window sizes: kept (set_baseline_histogram builds the
        // short window's when the new baseline has one), so reset allocates nothing.
        self.long.clear();
        let short = self
            .baseline
            .as_ref()
            .and_then(|b| b.short)
            .map(|s| s.window);
        match (&mut self.short, short) {
            (Some(s), Some(w)) if s.window == w => s.clear(),
            _ => self.short = None,
        }
        if let Some(b) = &self.baseline {
            self.long.bind(&b.ln_q);
            if let Some(s) = &mut self.short {
                s.bind(&b.ln_q);
            }
        }
        self.n_seen = 0;
        self.out_of_range = 0;
        self.last_ts = None;
        self.in_drift = false;
        self.events.clear();
        self.history.clear();
    }
}

/// The histogram counts of `scores` under `config`'s bins and range (out-of-range scores count in
/// the edge bins). Histograms of shards of the baseline add up to the whole baseline's.
pub fn histogram(scores: &[f64], config: &KlDriftConfig) -> Result<Vec<u64>> {
    config.validate()?;
    let mut counts = vec![0u64; config.bins];
    for (i, &s) in scores.iter().enumerate() {
        check_score(i, s)?;
        counts[config.bin_of(s).0] += 1;
    }
    Ok(counts)
}

/// The saved form: everything but the precomputed logarithms, scores oldest first.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KlDriftState {
    config: KlDriftConfig,
    baseline: Option<Baseline>,
    window: Vec<f64>,
    n_seen: u64,
    out_of_range: u64,
    last_ts: Option<f64>,
    in_drift: bool,
    events: Vec<DriftEvent>,
    history: Vec<HourBucket>,
    // The running KL sum (r, updates since the last full recompute) of the main and short
    // windows, so a loaded detector continues bit for bit; recomputed when absent.
    #[serde(default)]
    running_kl: Vec<(f64, u32)>,
    // Files written before the single running sum held two sums per window: read and ignored
    // (the sum is recomputed; the same KLs to ~1e-15).
    #[serde(default, skip_serializing, rename = "running")]
    _running: serde::de::IgnoredAny,
}

impl From<KlDriftDetector> for KlDriftState {
    fn from(d: KlDriftDetector) -> Self {
        let window = d.window_scores().collect();
        Self {
            config: d.config,
            baseline: d.baseline,
            window,
            n_seen: d.n_seen,
            out_of_range: d.out_of_range,
            last_ts: d.last_ts,
            in_drift: d.in_drift,
            events: d.events.into(),
            history: d.history.into(),
            running_kl: std::iter::once(&d.long)
                .chain(&d.short)
                .map(|s| (s.r, s.stale))
                .collect(),
            _running: serde::de::IgnoredAny,
        }
    }
}

impl TryFrom<KlDriftState> for KlDriftDetector {
    type Error = Error;
    fn try_from(s: KlDriftState) -> Result<Self> {
        let mut d = Self::new(s.config)?;
        if s.window.len() > d.config.window {
            return Err(Error::Corrupt(format!(
                "window holds {} scores, more than its size {}",
                s.window.len(),
                d.config.window
            )));
        }
        if let Some(mut b) = s.baseline {
            b.validate(&d.config)?;
            b.prepare(&d.config);
            d.short = b
                .short
                .map(|sh| Scale::new(sh.window, &d.config))
                .transpose()?;
            for scale in std::iter::once(&mut d.long).chain(&mut d.short) {
                scale.bind(&b.ln_q);
            }
            d.baseline = Some(b);
        }
        let len = s.window.len();
        for (i, &x) in s.window.iter().enumerate() {
            check_score(i, x).map_err(|e| Error::Corrupt(e.to_string()))?;
            let bin = d.config.bin_of(x).0;
            d.ring.push(x);
            d.ring_bins.push(bin as u32);
            d.long.counts[bin] += 1;
            if let Some(sh) = &mut d.short
                && i + sh.window >= len
            {
                sh.counts[bin] += 1;
            }
        }
        if d.baseline.is_some() {
            for (k, scale) in std::iter::once(&mut d.long).chain(&mut d.short).enumerate() {
                // The main window counts as full only at its size, the short one from its size on.
                if len < scale.window {
                    continue;
                }
                match s.running_kl.get(k) {
                    Some(&(r, stale)) if r.is_finite() && stale < RESYNC => {
                        (scale.r, scale.stale) = (r, stale)
                    }
                    _ => scale.recompute(),
                }
            }
        }
        fn finite(what: &str, xs: impl IntoIterator<Item = f64>) -> Result<()> {
            match xs.into_iter().find(|x| !x.is_finite()) {
                Some(x) => Err(Error::Corrupt(format!("{what} holds {x}: not finite"))),
                None => Ok(()),
            }
        }
        finite("last timestamp", s.last_ts)?;
        finite(
            "events",
            (s.events.iter()).flat_map(|e| {
                [
                    e.timestamp,
                    e.kl,
                    e.max_kl,
                    e.short_kl,
                    e.end.unwrap_or(0.0),
                ]
            }),
        )?;
        finite("history", s.history.iter().flat_map(|h| [h.sum, h.max]))?;
        if s.events.len() > d.config.max_events {
            return Err(Error::Corrupt(format!(
                "{} events kept, more than max_events {}",
                s.events.len(),
                d.config.max_events
            )));
        }
        if s.n_seen < len as u64 || s.out_of_range > s.n_seen {
            return Err(Error::Corrupt(format!(
                "{} scores seen ({} out of range) cannot fill a window of {len}",
                s.n_seen, s.out_of_range
            )));
        }
        d.n_seen = s.n_seen;
        d.out_of_range = s.out_of_range;
        d.last_ts = s.last_ts;
        d.in_drift = s.in_drift;
        d.events = s.events.into();
        d.history = s.history.into();
        Ok(d)
    }
}

impl Artifact for KlDriftDetector {
    const KIND: &'static str = "kl_drift_detector";
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    /// Beta(8, 2) by order statistics: the 8th smallest of 9 uniforms.
    fn beta82(rng: &mut Xoshiro256PlusPlus, n: usize, shift: f64) -> Vec<f64> {
        (0..n)
            .map(|_| {
                let mut u: [f64; 9] = std::array::from_fn(|_| rng.r#gen());
                u.sort_by(f64::total_cmp);
                (u[7] + shift).clamp(0.0, 1.0)
            })
            .collect()
    }

    /// A seeded baseline of 20,000 drift-free scores, then a stream made of `parts` (length,
    /// mean shift) drawn in order from the same generator.
    fn base_and_stream(seed: u64, parts: [(usize, f64); 3]) -> (Vec<f64>, Vec<f64>) {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let base = beta82(&mut rng, 20_000, 0.0);
        let stream = (parts.iter())
            .flat_map(|&(n, shift)| beta82(&mut rng, n, shift))
            .collect();
        (base, stream)
    }

    #[test]
    fn divergences_by_hand() {
        let p = [0.5, 0.5];
        let q = [0.25, 0.75];
        let k = 0.5 * (2.0f64).ln() + 0.5 * (0.5f64 / 0.75).ln();
        assert!((kl(&p, &q) - k).abs() < 1e-15);
        let ps = 0.25 * (2.0f64).ln() + (-0.25) * (0.5f64 / 0.75).ln();
        assert!((psi(&p, &q) - ps).abs() < 1e-15);
        assert_eq!(js(&p, &p), 0.0);
        assert!(js(&p, &q) > 0.0 && js(&p, &q) < (2.0f64).ln());
    }

    #[test]
    fn incremental_kl_equals_direct() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let base = beta82(&mut rng, 5000, 0.0);
        let mut d = KlDriftDetector::from_baseline(
            &base,
            KlDriftConfig {
                window: 200,
                ..KlDriftConfig::fixed()
            },
        )
        .unwrap();
        for s in beta82(&mut rng, 700, -0.05) {
            let c = d.add(s, Some(0.0)).unwrap();
            assert!((c.kl - d.status().unwrap().kl).abs() < 1e-12);
        }
    }

    #[test]
    fn running_kl_stays_within_1e9_of_the_direct_sum() {
        // 60k scores: many resync periods, drift-free then shifted then back.
        let (base, stream) = base_and_stream(5, [(20_000, 0.0), (20_000, -0.08), (20_000, 0.0)]);
        let mut d = KlDriftDetector::from_baseline(&base, KlDriftConfig::default()).unwrap();
        assert_eq!(d.short.as_ref().map(|s| s.window), Some(250));
        let mut worst = (0.0f64, 0.0f64);
        for (i, &x) in stream.iter().enumerate() {
            let c = d.add(x, Some(0.0)).unwrap();
            if i % 97 == 0 || i == stream.len() - 1 {
                let st = d.status().unwrap();
                worst.0 = worst.0.max((c.kl - st.kl).abs());
                if i >= 1000 {
                    worst.1 = worst.1.max(
                        (d.short
                            .as_ref()
                            .unwrap()
                            .kl(d.baseline.as_ref().unwrap().offset)
                            - st.short_kl)
                            .abs(),
                    );
                }
            }
        }
        assert!(worst.0 < 1e-9 && worst.1 < 1e-9, "{worst:?}");
    }

    #[test]
    fn add_batch_equals_add_many() {
        let (base, stream) = base_and_stream(6, [(3_000, 0.0), (3_000, -0.1), (3_000, 0.0)]);
        let mut a = KlDriftDetector::from_baseline(&base, KlDriftConfig::default()).unwrap();
        let mut b = a.clone();
        let mut starts = Vec::new();
        let mut prev = a.events.len();
        let mut n_drift = 0;
        for (i, &x) in stream.iter().enumerate() {
            n_drift += usize::from(a.add_many(&[x], Some(1e9)).unwrap()[0].drift);
            if a.events.len() > prev {
                starts.push(i);
            }
            prev = a.events.len();
        }
        let r = b.add_batch(&stream, Some(1e9)).unwrap();
        assert!(!starts.is_empty());
        assert_eq!(r.drift_starts, starts);
        assert_eq!(r.n_drift, n_drift);
        assert_eq!((r.n, r.drift), (stream.len(), a.status().unwrap().drift));
        assert_eq!(r.kl, a.long.kl(a.baseline.as_ref().unwrap().offset));
        assert_eq!(a, b);
        assert_eq!(a.summary(1.0).unwrap(), b.summary(1.0).unwrap());
        // Uneven batches (shorter and longer than the window, ending anywhere in the ring):
        // the same window, scores included (only the last `window` of a batch are written).
        let mut c = KlDriftDetector::from_baseline(&base, KlDriftConfig::default()).unwrap();
        let mut rest = &stream[..];
        for n in [1, 7, 999, 1000, 1001, 2, 2500, 333].iter().cycle() {
            let (now, later) = rest.split_at((*n).min(rest.len()));
            c.add_batch(now, Some(1e9)).unwrap();
            rest = later;
            if rest.is_empty() {
                break;
            }
        }
        assert_eq!(a, c);
        assert_eq!(a.status().unwrap(), c.status().unwrap());
        assert!(b.add_batch(&[0.5, f64::NAN], None).is_err());
        // An infinity is outside the range too: still rejected, not counted.
        let out = b.out_of_range;
        assert!(b.add_batch(&[2.0, f64::NEG_INFINITY], None).is_err());
        assert!(b.add_many(&[f64::INFINITY], None).is_err());
        assert_eq!(b.out_of_range, out);
        assert_eq!(b.n_seen, stream.len() as u64);
    }

    /// The steady-state loop against a plain model of it, score by score and window by window
    /// (bins from `bin_of`, each running sum updated by its count and bin table differences, the exact
    /// recompute every `RESYNC` slides, each window's KL, the flag, the history's sum and
    /// maximum): bit for bit, in every loop shape (both windows in one loop or the main one
    /// alone, chunk buffers of 8 and `CHUNK`, fixed-size bin arrays or slices, the range's
    /// width a power of two or not).
    #[test]
    fn hot_loop_equals_a_plain_model() {
        let (base, stream) = base_and_stream(12, [(5_000, 0.0), (4_000, -0.08), (3_000, 0.0)]);
        let d = KlDriftConfig::default();
        for config in [
            d.clone(),
            KlDriftConfig {
                short_window: Some(0),
                ..d.clone()
            },
            KlDriftConfig {
                bins: 23,
                window: 700,
                short_window: Some(130),
                ..d.clone()
            },
            KlDriftConfig {
                range: (0.05, 0.95),
                window: 600,
                ..d.clone()
            },
        ] {
            let mut det = KlDriftDetector::from_baseline(&base, config.clone()).unwrap();
            let w = config.window;
            let mut short = det.short.clone();
            det.add_many(&stream[..w], Some(0.0)).unwrap();
            let b = det.baseline.clone().unwrap();
            let (t, st) = (b.thresholds, b.short.map_or(NEVER, |s| s.thresholds));
            let slide = |sc: &mut Scale, out: usize, inn: usize| {
                sc.counts[out] -= 1;
                let (co, ci) = (sc.counts[out] as usize, sc.counts[inn] as usize);
                sc.counts[inn] += 1;
                sc.stale += 1;
                if sc.stale == RESYNC {
                    sc.recompute();
                } else {
                    sc.r += (sc.g[ci] - sc.l[inn]) - (sc.g[co] - sc.l[out]);
                }
                sc.kl(b.offset)
            };
            // While the main window fills, the short one fills, then slides, score by score.
            if let Some(s) = short.as_mut() {
                let first: Vec<usize> = stream[..w].iter().map(|&x| config.bin_of(x).0).collect();
                for (len, &inn) in (1..).zip(&first) {
                    if len > s.window {
                        slide(s, first[len - 1 - s.window], inn);
                    } else {
                        s.counts[inn] += 1;
                        if len == s.window {
                            s.recompute();
                        }
                    }
                }
                assert_eq!(s.r.to_bits(), det.short.as_ref().unwrap().r.to_bits());
                assert_eq!(Some(&*s), det.short.as_ref(), "{config:?}");
            }
            // The steady-state model starts from the state the detector reached while filling.
            let mut long = det.long.clone();
            let mut bins: VecDeque<usize> =
                det.window_scores().map(|x| config.bin_of(x).0).collect();
            let last = det.history.back().unwrap();
            let (mut sum, mut max) = (last.sum, last.max);
            let mut want = Vec::new();
            for &x in &stream[w..] {
                let inn = config.bin_of(x).0;
                let kl = slide(&mut long, bins[0], inn);
                let short_kl = match short.as_mut() {
                    Some(s) => slide(s, bins[w - s.window], inn),
                    None => 0.0,
                };
                bins.pop_front();
                bins.push_back(inn);
                sum += kl;
                max = if kl > max { kl } else { max };
                want.push(DriftCheck {
                    drift: kl > t.drift || short_kl > st.drift,
                    kl,
                });
            }
            let mut one = det.clone();
            // `add_batch` slides quiet chunks without storing their KLs and slides a chunk
            // again when a drift starts in it: the same bits.
            let mut batch = det.clone();
            let r = batch.add_batch(&stream[w..], Some(0.0)).unwrap();
            assert_eq!(r.n_drift, want.iter().filter(|c| c.drift).count());
            let mut got = det.add_many(&stream[w..], Some(0.0)).unwrap();
            assert_eq!(got, want, "{config:?}");
            got.clear();
            for &x in &stream[w..] {
                got.push(one.add(x, Some(0.0)).unwrap());
            }
            assert_eq!(got, want, "{config:?}");
            assert!(want.iter().any(|c| c.drift), "{config:?}");
            let (lo, hi) = config.range;
            let n_out = stream.iter().filter(|&&x| x < lo || x > hi).count() as u64;
            assert_eq!(batch, det, "{config:?}");
            for d in [&det, &one, &batch] {
                assert_eq!(d.out_of_range, n_out, "{config:?}");
                assert_eq!((&d.long, &d.short), (&long, &short), "{config:?}");
                let h = d.history.back().unwrap();
                assert_eq!(
                    (h.sum.to_bits(), h.max.to_bits()),
                    (sum.to_bits(), max.to_bits())
                );
            }
        }
    }

    /// The steady-state loop has several shapes (chunk buffers of 8 or `CHUNK`, fixed-size bin
    /// arrays up to `SMALL_BINS` or slices, a short window shorter than a chunk or nearly as
    /// long as the window, off): one score at a time and whole batches agree bit for bit.
    #[test]
    fn every_loop_shape_agrees_with_one_score_at_a_time() {
        let (base, stream) = base_and_stream(9, [(6_000, 0.0), (4_000, -0.06), (3_000, 0.0)]);
        let d = KlDriftConfig::default();
        for config in [
            d.clone(),
            KlDriftConfig {
                bins: 37,
                window: 3000,
                ..d.clone()
            },
            KlDriftConfig {
                bins: 12,
                window: 500,
                short_window: Some(77),
                ..d.clone()
            },
            KlDriftConfig {
                window: 1023,
                short_window: Some(1000),
                ..d.clone()
            },
            KlDriftConfig {
                short_window: Some(0),
                ..d.clone()
            },
        ] {
            let mut one = KlDriftDetector::from_baseline(&base, config.clone()).unwrap();
            let mut many = one.clone();
            let mut checks = Vec::new();
            for &x in &stream {
                checks.push(one.add(x, Some(5.0)).unwrap());
            }
            let mut got = Vec::new();
            for part in stream.chunks(2_777) {
                got.extend(many.add_many(part, Some(5.0)).unwrap());
            }
            assert_eq!(checks, got, "{config:?}");
            assert_eq!(one, many, "{config:?}");
            assert!(checks.iter().any(|c| c.drift), "{config:?}");
        }
    }

    /// A saved detector continues bit for bit; a file from before the single running sum (two
    /// sums per window under `running`) loads, recomputes its sums and gives the same checks.
    #[test]
    fn saved_running_sums_continue() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let base = beta82(&mut rng, 20_000, 0.0);
        let stream = beta82(&mut rng, 3_700, -0.03);
        let mut d = KlDriftDetector::from_baseline(&base, KlDriftConfig::default()).unwrap();
        d.add_batch(&stream[..1_900], Some(0.0)).unwrap();
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["running_kl"].as_array().unwrap().len(), 2);
        let mut same: KlDriftDetector = serde_json::from_value(json.clone()).unwrap();
        let mut old = json;
        let map = old.as_object_mut().unwrap();
        map.remove("running_kl");
        map.insert(
            "running".into(),
            serde_json::json!([[1.5, 2.5, 7], [0.5, 0.25, 3]]),
        );
        let mut legacy: KlDriftDetector = serde_json::from_value(old).unwrap();
        let want = d.add_many(&stream[1_900..], Some(0.0)).unwrap();
        assert_eq!(same.add_many(&stream[1_900..], Some(0.0)).unwrap(), want);
        let got = legacy.add_many(&stream[1_900..], Some(0.0)).unwrap();
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.drift, w.drift);
            assert!((g.kl - w.kl).abs() < 1e-12, "{} vs {}", g.kl, w.kl);
        }
    }

    #[test]
    fn short_window_choice() {
        let c = KlDriftConfig::default();
        assert_eq!(c.effective_short_window(), 250);
        let small = KlDriftConfig {
            window: 150,
            ..c.clone()
        };
        assert_eq!(small.effective_short_window(), 0);
        assert_eq!(KlDriftConfig::fixed().effective_short_window(), 0);
        let off = KlDriftConfig {
            short_window: Some(0),
            ..c.clone()
        };
        assert_eq!(off.effective_short_window(), 0);
        for bad in [1, 1000, 5000] {
            let e = KlDriftConfig {
                short_window: Some(bad),
                ..c.clone()
            }
            .validate();
            assert!(e.unwrap_err().to_string().contains("short_window"));
        }
    }

    #[test]
    fn numpy_histogram_edges() {
        let c = KlDriftConfig::default();
        assert_eq!(c.bin_of(0.0), (0, false));
        assert_eq!(c.bin_of(1.0), (9, false));
        assert_eq!(c.bin_of(0.1), (1, false));
        assert_eq!(c.bin_of(-0.1), (0, true));
        assert_eq!(c.bin_of(1.5), (9, true));
    }
}
