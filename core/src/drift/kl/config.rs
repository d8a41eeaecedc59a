//! What a KL detector is asked to do: its options, their limits and validation, and the bin of a
//! score. Plain data, saved in every model file.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How the drift thresholds are chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    pub(super) fn check(&self, field: &'static str) -> Result<()> {
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

/// Options of [`KlDriftDetector`](super::KlDriftDetector).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields)]
pub struct KlDriftConfig {
    /// Number of most recent scores compared with the baseline (default 1000, 1..=10^7).
    pub window: usize,
    /// Number of equal-width histogram bins (default 10, 2..=10000).
    pub bins: usize,
    /// Histogram range `(low, high)` (default `(0, 1)`; finite, low < high); finite scores outside
    /// it count in the first or last bin and are reported in `status().out_of_range`.
    pub range: (f64, f64),
    /// Smoothing: each bin's probability is `(count / n + epsilon) / (1 + bins * epsilon)`, so an
    /// empty bin never gives an infinite divergence (default 1e-4, in (0, 1)).
    pub epsilon: f64,
    /// Calibrated (default) or fixed thresholds.
    pub threshold_mode: ThresholdMode,
    /// Calibrated mode: the probability that a full drift-free window exceeds the drift threshold
    /// (default 1e-4, in (0, 0.5)).
    pub false_alarm_rate: f64,
    /// Calibrated mode: the watch threshold's exceedance probability (default 0.01; at least
    /// `false_alarm_rate`, below 1).
    pub watch_rate: f64,
    /// Calibrated mode: severe = drift threshold times this (default 2, the old 1.0 / 0.5 ratio;
    /// at least 1).
    pub severe_factor: f64,
    /// Calibrated mode: number of resamples (default 1000, 100..=100000; resamples x bins at most
    /// 10^7).
    pub calibration_resamples: usize,
    /// Calibrated mode: seed of the resampling, so calibration is reproducible (default 0).
    pub seed: u64,
    /// Fixed mode: the thresholds (default 0.3 / 0.5 / 1.0).
    pub fixed_thresholds: Thresholds,
    /// Retrain when at least this many drift events fall within `retrain_days` (default 5,
    /// 1..=`max_events`).
    pub retrain_drifts: usize,
    /// Length of the retrain policy's period in days (default 7, above 0).
    pub retrain_days: f64,
    /// Drift events kept (oldest dropped first; default 10000, 1..=10^7).
    pub max_events: usize,
    /// Days of hourly KL history kept for `summary` (default 90, above 0).
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

    /// Checks every field; [`KlDriftDetector::new`](super::KlDriftDetector::new) calls it.
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

    /// The bin of score `x`, and whether it lies outside `range` (counted in an edge bin).
    pub(super) fn bin_of(&self, x: f64) -> (usize, bool) {
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

/// Thresholds that never fire (the short window when it is off).
pub(super) const NEVER: Thresholds = Thresholds {
    watch: f64::INFINITY,
    drift: f64::INFINITY,
    severe: f64::INFINITY,
};
