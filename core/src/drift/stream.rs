//! Page-Hinkley, with river's parameters, defaults and change points (ADWIN is in `adwin.rs`).
//! Like river's, a detector that reported a change starts afresh on the next value.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::models::Artifact;

/// Largest magnitude of a stream value (ADWIN, Page-Hinkley). Within it, every running sum of
/// both detectors (sums of up to 2^64 values and of their squared deviations) stays finite, so
/// their state always saves and loads; no measurement needs more.
pub const MAX_STREAM_VALUE: f64 = 1e100;

pub(super) fn check_value(i: usize, x: f64) -> Result<()> {
    if !x.is_finite() {
        Err(Error::InvalidInput(format!(
            "value {i} is {x}: stream values must be finite numbers"
        )))
    } else if x.abs() > MAX_STREAM_VALUE {
        Err(Error::InvalidInput(format!(
            "value {i} is {x}: stream values must be within ±{MAX_STREAM_VALUE:e}"
        )))
    } else {
        Ok(())
    }
}

/// Rejects state read from a file that the detector could never reach.
pub(super) fn corrupt_unless(ok: bool, what: impl FnOnce() -> String) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::Corrupt(what()))
    }
}

/// Which changes of the mean [`PageHinkley`] reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum PageHinkleyMode {
    /// Increases only.
    Up,
    /// Decreases only.
    Down,
    /// Both (default).
    #[default]
    Both,
}

/// Options of [`PageHinkley`], named and defaulted as river's `drift.PageHinkley`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields)]
pub struct PageHinkleyConfig {
    /// Values seen before any change can be reported (default 30).
    pub min_instances: u64,
    /// Magnitude of change tolerated (default 0.005, in [0, 1e100]).
    pub delta: f64,
    /// Detection threshold, lambda (default 50, above 0).
    pub threshold: f64,
    /// Forgetting factor of the cumulative sums (default 1 − 0.0001, in (0, 1]).
    pub alpha: f64,
    /// Which direction of change to report (default both).
    pub mode: PageHinkleyMode,
}

impl Default for PageHinkleyConfig {
    fn default() -> Self {
        Self {
            min_instances: 30,
            delta: 0.005,
            threshold: 50.0,
            alpha: 1.0 - 0.0001,
            mode: PageHinkleyMode::Both,
        }
    }
}

impl PageHinkleyConfig {
    /// Checks every field; [`PageHinkley::new`] calls it.
    pub fn validate(&self) -> Result<()> {
        if !(self.delta >= 0.0 && self.delta <= MAX_STREAM_VALUE) {
            return Err(Error::config(
                "delta",
                format!(
                    "{} is out of range: need 0 <= delta <= {MAX_STREAM_VALUE:e}",
                    self.delta
                ),
            ));
        }
        if !(self.threshold > 0.0 && self.threshold.is_finite()) {
            return Err(Error::config("threshold", "must be positive and finite"));
        }
        if !(self.alpha > 0.0 && self.alpha <= 1.0) {
            return Err(Error::config(
                "alpha",
                format!("{} is out of range: need 0 < alpha <= 1", self.alpha),
            ));
        }
        Ok(())
    }
}

/// Page-Hinkley test (a CUSUM on deviations from the running mean, with forgetting).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "PageHinkleyState")]
pub struct PageHinkley {
    config: PageHinkleyConfig,
    n: f64,
    mean: f64,
    sum_increase: f64,
    sum_decrease: f64,
    // +inf until the first value: written as "inf" (JSON has no infinity).
    #[serde(serialize_with = "super::float::serialize")]
    min_increase: f64,
    max_decrease: f64,
    drift: bool,
    n_detections: u64,
}

/// The saved form, checked by [`PageHinkley::validate`] before it becomes a detector.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PageHinkleyState {
    config: PageHinkleyConfig,
    n: f64,
    mean: f64,
    sum_increase: f64,
    sum_decrease: f64,
    // Older versions wrote the fresh +inf as `null`.
    #[serde(deserialize_with = "super::float::deserialize_null_as_inf")]
    min_increase: f64,
    max_decrease: f64,
    drift: bool,
    n_detections: u64,
}

impl TryFrom<PageHinkleyState> for PageHinkley {
    type Error = Error;
    fn try_from(s: PageHinkleyState) -> Result<Self> {
        let p = Self {
            config: s.config,
            n: s.n,
            mean: s.mean,
            sum_increase: s.sum_increase,
            sum_decrease: s.sum_decrease,
            min_increase: s.min_increase,
            max_decrease: s.max_decrease,
            drift: s.drift,
            n_detections: s.n_detections,
        };
        p.validate()?;
        Ok(p)
    }
}

impl PageHinkley {
    /// Validates `config` and builds a fresh detector.
    pub fn new(config: PageHinkleyConfig) -> Result<Self> {
        let p = Self::fresh(config);
        p.validate()?;
        Ok(p)
    }

    fn fresh(config: PageHinkleyConfig) -> Self {
        Self {
            config,
            n: 0.0,
            mean: 0.0,
            sum_increase: 0.0,
            sum_decrease: 0.0,
            min_increase: f64::INFINITY,
            // river starts the running maximum at -1, not -inf; kept for equal change points.
            max_decrease: -1.0,
            drift: false,
            n_detections: 0,
        }
    }

    /// The checks both [`new`](Self::new) and loading make: the config's, and a state the
    /// detector can reach (a count of values, finite sums, the minimum +inf only before the
    /// first value; sums within what that many values can reach).
    pub fn validate(&self) -> Result<()> {
        self.config.validate()?;
        let n = self.n;
        corrupt_unless(n >= 0.0 && n.fract() == 0.0 && n <= 2f64.powi(64), || {
            format!("Page-Hinkley count {n} is not a count of values")
        })?;
        let finite = [
            self.mean,
            self.sum_increase,
            self.sum_decrease,
            self.max_decrease,
        ];
        // Each value, its distance to the mean and `delta` are within ±MAX_STREAM_VALUE: sums
        // beyond these bounds were not made by updates and could overflow on the next one.
        let bound = (n + 1.0) * 3.0 * MAX_STREAM_VALUE;
        corrupt_unless(
            self.mean.abs() <= MAX_STREAM_VALUE && finite.iter().all(|x| x.abs() <= bound),
            || format!("Page-Hinkley state {finite:?} is beyond what {n} stream values can sum to"),
        )?;
        let min = self.min_increase;
        corrupt_unless(
            if n == 0.0 {
                min == f64::INFINITY || min.abs() <= bound
            } else {
                min.abs() <= bound && min <= self.sum_increase
            },
            || format!("Page-Hinkley running minimum {min} does not fit its sums"),
        )
    }

    /// The configuration.
    pub fn config(&self) -> &PageHinkleyConfig {
        &self.config
    }

    /// Adds one value; `true` when a change was detected at it. A non-finite value, or one
    /// beyond ±[`MAX_STREAM_VALUE`], is an `InvalidInput` error.
    pub fn update(&mut self, x: f64) -> Result<bool> {
        check_value(0, x)?;
        Ok(self.step(x))
    }

    /// Adds many values; returns the indices (into `xs`) where a change was detected. A non-finite
    /// value, or one beyond ±[`MAX_STREAM_VALUE`], anywhere rejects the whole batch before
    /// anything is added.
    pub fn update_many(&mut self, xs: &[f64]) -> Result<Vec<usize>> {
        for (i, &x) in xs.iter().enumerate() {
            check_value(i, x)?;
        }
        Ok(xs
            .iter()
            .enumerate()
            .filter_map(|(i, &x)| self.step(x).then_some(i))
            .collect())
    }

    fn step(&mut self, x: f64) -> bool {
        if self.drift {
            self.reset();
        }
        self.n += 1.0;
        self.mean += (1.0 / self.n) * (x - self.mean);
        let dev = x - self.mean;
        let a = self.config.alpha;
        self.sum_increase = a * self.sum_increase + dev - self.config.delta;
        self.sum_decrease = a * self.sum_decrease + dev + self.config.delta;
        if self.sum_increase < self.min_increase {
            self.min_increase = self.sum_increase;
        }
        if self.sum_decrease > self.max_decrease {
            self.max_decrease = self.sum_decrease;
        }
        if self.n >= self.config.min_instances as f64 {
            let up = self.sum_increase - self.min_increase;
            let down = self.max_decrease - self.sum_decrease;
            let th = self.config.threshold;
            self.drift = match self.config.mode {
                PageHinkleyMode::Up => up > th,
                PageHinkleyMode::Down => down > th,
                PageHinkleyMode::Both => up > th || down > th,
            };
        }
        if self.drift {
            self.n_detections += 1;
        }
        self.drift
    }

    /// Whether the last value triggered a change.
    pub fn drift_detected(&self) -> bool {
        self.drift
    }

    /// Changes detected since creation.
    pub fn n_detections(&self) -> u64 {
        self.n_detections
    }

    /// Forgets the stream so far (the detection count is kept).
    pub fn reset(&mut self) {
        *self = Self {
            n_detections: self.n_detections,
            ..Self::fresh(self.config.clone())
        };
    }
}

impl Artifact for PageHinkley {
    const KIND: &'static str = "page_hinkley";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_hinkley_detects_a_jump() {
        let mut p = PageHinkley::new(PageHinkleyConfig::default()).unwrap();
        let xs: Vec<f64> = (0..2000)
            .map(|i| if i < 1000 { 0.0 } else { 5.0 })
            .collect();
        let hits = p.update_many(&xs).unwrap();
        assert!(!hits.is_empty() && hits[0] >= 1000, "{hits:?}");
        assert!(p.update(f64::NAN).is_err());
    }
}
