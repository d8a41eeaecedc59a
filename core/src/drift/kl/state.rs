//! What defines a KL detector, and so what its model file holds: the config, the baseline
//! (histogram, thresholds, calibration), the window's scores, counters, events and history.
//! No engine cache is saved: a loaded detector rebuilds its tables and running sums.

use serde::{Deserialize, Serialize};

use super::KlDriftDetector;
use super::calibrate::{Calibration, ShortScale, calibrate};
use super::config::{KlDriftConfig, MAX_BASELINE_SCORES, ThresholdMode, Thresholds};
use super::report::{DriftEvent, Episodes, HourBucket};
use crate::error::{Error, Result};
use crate::models::Artifact;

/// The reference a detector compares its window with: the baseline histogram and the
/// thresholds calibrated from it (or fixed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct Baseline {
    pub counts: Vec<u64>,
    pub thresholds: Thresholds,
    pub calibration: Calibration,
    // Absent in files written before the short window existed: such a detector keeps one window.
    #[serde(default)]
    pub short: Option<ShortScale>,
}

impl Baseline {
    pub fn new(counts: Vec<u64>, config: &KlDriftConfig) -> Result<Self> {
        let n = Self::total(&counts, config)?;
        let (thresholds, calibration, short) = match config.threshold_mode {
            ThresholdMode::Fixed => (config.fixed_thresholds, Calibration::default(), None),
            ThresholdMode::Calibrated => calibrate(&counts, n, config)?,
        };
        let b = Self {
            counts,
            thresholds,
            calibration,
            short,
        };
        b.validate(config)?;
        Ok(b)
    }

    /// The number of scores `counts` holds: at least the window, at most
    /// [`MAX_BASELINE_SCORES`] (added without wrapping).
    pub fn total(counts: &[u64], config: &KlDriftConfig) -> Result<u64> {
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
    pub fn validate(&self, config: &KlDriftConfig) -> Result<()> {
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
}

/// The saved form, scores oldest first.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct KlDriftState {
    config: KlDriftConfig,
    baseline: Option<Baseline>,
    window: Vec<f64>,
    n_seen: u64,
    out_of_range: u64,
    last_ts: Option<f64>,
    in_drift: bool,
    events: Vec<DriftEvent>,
    history: Vec<HourBucket>,
    // Engine caches that earlier files held (the running KL sums: `running_kl` as (sum,
    // updates since the last recompute) per window, and before it `running`, two sums per
    // window): read and ignored, the sums are recomputed from the window.
    #[serde(default, skip_serializing, rename = "running_kl")]
    _running_kl: serde::de::IgnoredAny,
    #[serde(default, skip_serializing, rename = "running")]
    _running: serde::de::IgnoredAny,
}

impl From<KlDriftDetector> for KlDriftState {
    fn from(d: KlDriftDetector) -> Self {
        let window = d.engine.scores().collect();
        Self {
            config: d.config,
            baseline: d.baseline,
            window,
            n_seen: d.n_seen,
            out_of_range: d.out_of_range,
            last_ts: d.last_ts,
            in_drift: d.episodes.in_drift,
            events: d.episodes.events.into(),
            history: d.history.into(),
            _running_kl: serde::de::IgnoredAny,
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
        if let Some(b) = s.baseline {
            b.validate(&d.config)?;
            let short = b.short.map(|sh| sh.window);
            d.engine.rebase(&b.counts, short, &d.config)?;
            d.baseline = Some(b);
        }
        let len = s.window.len();
        d.engine.restore(&s.window, s.n_seen, &d.config)?;
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
        d.episodes = Episodes {
            events: s.events.into(),
            in_drift: s.in_drift,
        };
        d.history = s.history.into();
        Ok(d)
    }
}

impl Artifact for KlDriftDetector {
    const KIND: &'static str = "kl_drift_detector";
}
