//! Streaming change detectors for real-valued streams, with river's parameters, defaults and
//! change points: ADWIN (Bifet & Gavaldà 2007, the ADWIN2 bucket compression) and Page-Hinkley.
//! Like river's, a detector that reported a change starts afresh on the next value.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::models::Artifact;

fn check_value(i: usize, x: f64) -> Result<()> {
    if x.is_finite() {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "value {i} is {x}: stream values must be finite numbers"
        )))
    }
}

/// Options of [`Adwin`], named and defaulted as river's `drift.ADWIN`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdwinConfig {
    /// Confidence of the cut test (default 0.002).
    pub delta: f64,
    /// Check for a change every `clock` values (default 32).
    pub clock: u32,
    /// Buckets of each size kept before two are merged (default 5).
    pub max_buckets: usize,
    /// Smallest sub-window considered at a cut (default 5).
    pub min_window_length: u32,
    /// No checks until the window holds more than this many values (default 10).
    pub grace_period: u32,
}

impl Default for AdwinConfig {
    fn default() -> Self {
        Self {
            delta: 0.002,
            clock: 32,
            max_buckets: 5,
            min_window_length: 5,
            grace_period: 10,
        }
    }
}

impl AdwinConfig {
    /// Checks every field; [`Adwin::new`] calls it.
    pub fn validate(&self) -> Result<()> {
        if !(self.delta > 0.0 && self.delta < 1.0) {
            return Err(Error::config(
                "delta",
                format!("{} is out of range: need 0 < delta < 1", self.delta),
            ));
        }
        if self.clock == 0 {
            return Err(Error::config("clock", "must be at least 1"));
        }
        if self.max_buckets == 0 {
            return Err(Error::config("max_buckets", "must be at least 1"));
        }
        if self.min_window_length == 0 {
            return Err(Error::config("min_window_length", "must be at least 1"));
        }
        Ok(())
    }
}

/// One row of the exponential histogram: up to `max_buckets + 1` buckets of 2^level values,
/// oldest first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Level {
    totals: Vec<f64>,
    variances: Vec<f64>,
}

/// ADaptive WINdowing: keeps the longest recent window whose halves have equal means.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Adwin {
    config: AdwinConfig,
    // levels[i] holds buckets of 2^i values; the oldest data sit in the highest level.
    levels: Vec<Level>,
    total: f64,
    variance: f64,
    width: f64,
    tick: u64,
    drift: bool,
    n_detections: u64,
}

impl Adwin {
    /// Validates `config` and builds an empty detector.
    pub fn new(config: AdwinConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            config,
            levels: vec![Level::default()],
            total: 0.0,
            variance: 0.0,
            width: 0.0,
            tick: 0,
            drift: false,
            n_detections: 0,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &AdwinConfig {
        &self.config
    }

    /// Adds one value; `true` when a change was detected at it.
    pub fn update(&mut self, x: f64) -> Result<bool> {
        check_value(0, x)?;
        Ok(self.step(x))
    }

    /// Adds many values; returns the indices (into `xs`) where a change was detected. A non-finite
    /// value anywhere rejects the whole batch before anything is added.
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
            // river starts a fresh window after reporting a change.
            self.reset();
        }
        self.insert(x);
        self.drift = self.detect();
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

    /// Number of values in the current window.
    pub fn width(&self) -> f64 {
        self.width
    }

    /// Mean of the current window (0 while empty).
    pub fn estimation(&self) -> f64 {
        if self.width == 0.0 {
            0.0
        } else {
            self.total / self.width
        }
    }

    /// Variance of the current window.
    pub fn variance(&self) -> f64 {
        if self.width == 0.0 {
            0.0
        } else {
            self.variance / self.width
        }
    }

    /// Empties the window (the detection count is kept).
    pub fn reset(&mut self) {
        let n = self.n_detections;
        if let Ok(fresh) = Self::new(self.config.clone()) {
            *self = Self {
                n_detections: n,
                ..fresh
            };
        }
    }

    fn insert(&mut self, x: f64) {
        self.levels[0].totals.push(x);
        self.levels[0].variances.push(0.0);
        // Streaming variance update (sum of squared deviations), in the reference's order.
        self.width += 1.0;
        let mut inc = 0.0;
        if self.width > 1.0 {
            let d = x - self.total / (self.width - 1.0);
            inc = (self.width - 1.0) * d * d / self.width;
        }
        self.variance += inc;
        self.total += x;
        self.compress();
    }

    fn compress(&mut self) {
        let cap = self.config.max_buckets + 1;
        let mut i = 0;
        while self.levels[i].totals.len() == cap {
            let n1 = (1u64 << i) as f64;
            let l = &mut self.levels[i];
            let (t0, t1) = (l.totals[0], l.totals[1]);
            let (v0, v1) = (l.variances[0], l.variances[1]);
            l.totals.drain(..2);
            l.variances.drain(..2);
            let (mu1, mu2) = (t0 / n1, t1 / n1);
            let v = v0 + v1 + n1 * 0.5 * (mu1 - mu2) * (mu1 - mu2);
            if i + 1 == self.levels.len() {
                self.levels.push(Level::default());
            }
            self.levels[i + 1].totals.push(t0 + t1);
            self.levels[i + 1].variances.push(v);
            i += 1;
        }
    }

    fn delete_oldest(&mut self) {
        let last = self.levels.len() - 1;
        let n = (1u64 << last) as f64;
        let (u, v) = (self.levels[last].totals[0], self.levels[last].variances[0]);
        let mu = u / n;
        self.width -= n;
        self.total -= u;
        let mu_w = self.total / self.width;
        self.variance -= v + n * self.width * (mu - mu_w) * (mu - mu_w) / (n + self.width);
        self.levels[last].totals.remove(0);
        self.levels[last].variances.remove(0);
        if self.levels[last].totals.is_empty() && last > 0 {
            self.levels.pop();
        }
    }

    fn cut(&self, n0: f64, n1: f64, delta_mean: f64) -> bool {
        let min = f64::from(self.config.min_window_length);
        let dd = (2.0 * self.width.ln() / self.config.delta).ln();
        let m_recip = 1.0 / (n0 - min + 1.0) + 1.0 / (n1 - min + 1.0);
        let eps =
            (2.0 * m_recip * (self.variance / self.width) * dd).sqrt() + 2.0 / 3.0 * dd * m_recip;
        delta_mean.abs() > eps
    }

    fn detect(&mut self) -> bool {
        self.tick += 1;
        let min = f64::from(self.config.min_window_length);
        if !(self.tick.is_multiple_of(u64::from(self.config.clock))
            && self.width > f64::from(self.config.grace_period))
        {
            return false;
        }
        let mut changed = false;
        // Every cut point from oldest to newest; after a cut drops the oldest bucket, start over.
        'again: loop {
            let (mut n0, mut n1, mut u0, mut u1) = (0.0, self.width, 0.0, self.total);
            for lvl in (0..self.levels.len()).rev() {
                let size = (1u64 << lvl) as f64;
                let len = self.levels[lvl].totals.len();
                for k in 0..len {
                    let t = self.levels[lvl].totals[k];
                    n0 += size;
                    n1 -= size;
                    u0 += t;
                    u1 -= t;
                    if lvl == 0 && k == len - 1 {
                        break 'again;
                    }
                    if n1 >= min && n0 >= min && self.cut(n0, n1, u0 / n0 - u1 / n1) {
                        changed = true;
                        if self.width > 0.0 {
                            self.delete_oldest();
                            continue 'again;
                        }
                    }
                }
            }
            break;
        }
        changed
    }
}

impl Artifact for Adwin {
    const KIND: &'static str = "adwin";
}

/// Which changes of the mean [`PageHinkley`] reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
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
#[serde(default, deny_unknown_fields)]
pub struct PageHinkleyConfig {
    /// Values seen before any change can be reported (default 30).
    pub min_instances: u64,
    /// Magnitude of change tolerated (default 0.005).
    pub delta: f64,
    /// Detection threshold, lambda (default 50).
    pub threshold: f64,
    /// Forgetting factor of the cumulative sums (default 1 − 0.0001).
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
        if !(self.delta >= 0.0 && self.delta.is_finite()) {
            return Err(Error::config("delta", "must be finite and non-negative"));
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
pub struct PageHinkley {
    config: PageHinkleyConfig,
    n: f64,
    mean: f64,
    sum_increase: f64,
    sum_decrease: f64,
    min_increase: f64,
    max_decrease: f64,
    drift: bool,
    n_detections: u64,
}

impl PageHinkley {
    /// Validates `config` and builds a fresh detector.
    pub fn new(config: PageHinkleyConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self {
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
        })
    }

    /// The configuration.
    pub fn config(&self) -> &PageHinkleyConfig {
        &self.config
    }

    /// Adds one value; `true` when a change was detected at it.
    pub fn update(&mut self, x: f64) -> Result<bool> {
        check_value(0, x)?;
        Ok(self.step(x))
    }

    /// Adds many values; returns the indices (into `xs`) where a change was detected. A non-finite
    /// value anywhere rejects the whole batch before anything is added.
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
        let n = self.n_detections;
        if let Ok(fresh) = Self::new(self.config.clone()) {
            *self = Self {
                n_detections: n,
                ..fresh
            };
        }
    }
}

impl Artifact for PageHinkley {
    const KIND: &'static str = "page_hinkley";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adwin_variance_matches_direct() {
        let mut a = Adwin::new(AdwinConfig::default()).unwrap();
        for v in [1.0, 2.0, 3.0, 4.0, 5.0] {
            a.update(v).unwrap();
        }
        assert_eq!(a.width(), 5.0);
        assert!((a.estimation() - 3.0).abs() < 1e-12);
        assert!((a.variance() - 2.0).abs() < 1e-12);
    }

    #[test]
    fn adwin_detects_a_jump() {
        let mut a = Adwin::new(AdwinConfig::default()).unwrap();
        let xs: Vec<f64> = (0..2000)
            .map(|i| if i < 1000 { 0.0 } else { 1.0 })
            .collect();
        let hits = a.update_many(&xs).unwrap();
        assert!(
            !hits.is_empty() && hits[0] >= 1000 && hits[0] < 1100,
            "{hits:?}"
        );
    }

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
