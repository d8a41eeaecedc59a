//! The KL drift detector: KL divergence (plus PSI and Jensen-Shannon) of a sliding window of
//! scores against a baseline histogram, with calibrated thresholds, drift events and a retrain
//! policy. Its parts: `config` (options), `calibrate` (thresholds from the baseline), `engine`
//! (the window and its running sums, the tuned loops), `report` (what it returns), `state` (what
//! its model file holds).

mod calibrate;
mod config;
mod engine;
mod report;
mod state;
#[cfg(test)]
mod tests;

pub use calibrate::Calibration;
pub use config::{
    KlDriftConfig, MAX_BASELINE_SCORES, MAX_BINS, MAX_CALIBRATION_CELLS, MAX_EVENTS, MAX_RESAMPLES,
    MAX_WINDOW, ThresholdMode, Thresholds,
};
pub use report::{DriftBatch, DriftCheck, DriftEvent, DriftStatus, DriftSummary};

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use calibrate::{js, kl, psi, smoothed};
use config::NEVER;
use engine::{Checks, Engine};
use report::{Episodes, HourBucket, level_of};
use state::Baseline;

use crate::error::{Error, Result};

const SECONDS_PER_DAY: f64 = 86_400.0;
const SECONDS_PER_HOUR: f64 = 3_600.0;
const WHAT: &str = "KlDriftDetector";

/// The period `summary` covers when a caller names none: a week, the retraining seed's review
/// period.
pub const DEFAULT_SUMMARY_DAYS: f64 = 7.0;

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
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(try_from = "state::KlDriftState", into = "state::KlDriftState")]
pub struct KlDriftDetector {
    config: KlDriftConfig,
    baseline: Option<Baseline>,
    // The window, its histograms and running sums (caches of `baseline` and the window).
    engine: Engine,
    n_seen: u64,
    out_of_range: u64,
    last_ts: Option<f64>,
    episodes: Episodes,
    history: VecDeque<HourBucket>,
}

/// Two detectors are equal when they hold the same state, as their model files do: the running
/// sums, caches that a loaded detector recomputes, may differ in their last bits.
impl PartialEq for KlDriftDetector {
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config
            && self.baseline == other.baseline
            && self.engine.scores().eq(other.engine.scores())
            && self.n_seen == other.n_seen
            && self.out_of_range == other.out_of_range
            && self.last_ts == other.last_ts
            && self.episodes == other.episodes
            && self.history == other.history
    }
}

/// Scores per block of [`check_scores`].
const BLOCK: usize = 256;

fn check_score(i: usize, x: f64) -> Result<()> {
    if x.is_finite() {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "score {i} is {x}: scores must be finite numbers"
        )))
    }
}

/// Rejects a batch holding a non-finite score, naming the first, before anything changes, and
/// counts the scores outside `(lo, hi)` in the same pass, so the engine does not count them.
/// Blocks without an early exit inside (a loop the compiler vectorises): a score in the range is
/// finite (NaN compares false), so the usual block, all in range, needs one count per score;
/// only a block with a score outside is looked at again.
fn check_scores(scores: &[f64], (lo, hi): (f64, f64)) -> Result<u64> {
    let mut outside = 0;
    for (b, block) in scores.chunks(BLOCK).enumerate() {
        let inside: u64 = block
            .iter()
            .map(|&s| u64::from((s >= lo) & (s <= hi)))
            .sum();
        if inside < block.len() as u64 {
            if let Some(i) = block.iter().position(|s| !s.is_finite()) {
                check_score(b * BLOCK + i, block[i])?;
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
        let engine = Engine::new(&config)?;
        Ok(Self {
            config,
            baseline: None,
            engine,
            n_seen: 0,
            out_of_range: 0,
            last_ts: None,
            episodes: Episodes::default(),
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
        let short = b.short.map(|sh| sh.window);
        self.engine.rebase(&b.counts, short, &self.config)?;
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
        each: impl FnMut(&[f64], &[bool]),
    ) -> DriftBatch {
        let mut out = DriftBatch {
            n: scores.len(),
            drift_starts: Vec::new(),
            n_drift: 0,
            drift: false,
            kl: 0.0,
            max_kl: 0.0,
        };
        let Some(b) = self.baseline.as_ref() else {
            return out;
        };
        if scores.is_empty() {
            return out;
        }
        let now = self.last_ts.map_or(ts, |t| t.max(ts));
        self.last_ts = Some(now);
        // Saturating: no stream reaches 2^64 scores, but a loaded file can start near it, and a
        // wrapped count would no longer cover the window (a state that does not save).
        self.n_seen = self.n_seen.saturating_add(scores.len() as u64);
        self.out_of_range = self.out_of_range.saturating_add(outside);
        // The hourly history bucket of `now`, accumulated score by score.
        let hour = (now / SECONDS_PER_HOUR).floor() as i64;
        let bucket = match self.history.back() {
            Some(h) if h.hour >= hour => (h.n, h.sum, h.max),
            _ => (0, 0.0, f64::NEG_INFINITY),
        };
        let mut checks = Checks {
            t: b.thresholds,
            st: b.short.map_or(NEVER, |s| s.thresholds),
            ts,
            max_events: self.config.max_events,
            episodes: &mut self.episodes,
            out: &mut out,
            hour: bucket,
        };
        self.engine
            .run::<PER_SCORE>(&self.config, scores, &mut checks, each);
        let (hn, hsum, hmax) = checks.hour;
        if hn > bucket.0 {
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
        let recent = self.episodes.events.iter().filter(|e| e.timestamp >= since);
        let (mut n, mut severe) = (0usize, false);
        for e in recent {
            n += 1;
            severe |= e.severe || e.max_kl > t.severe;
        }
        n >= self.config.retrain_drifts || severe
    }

    /// Drift flag, KL/PSI/JS, thresholds, window statistics and the retrain verdict.
    pub fn status(&self) -> Result<DriftStatus> {
        let b = self.baseline()?;
        let n = self.engine.len();
        let q = smoothed(&b.counts, self.config.epsilon);
        let p = smoothed(self.engine.counts(), self.config.epsilon);
        let (kl_v, psi_v, js_v) = if n == 0 {
            (0.0, 0.0, 0.0)
        } else {
            (kl(&p, &q), psi(&p, &q), js(&p, &q))
        };
        let (mean, std) = if n == 0 {
            (f64::NAN, f64::NAN)
        } else {
            let mean = self.engine.scores().sum::<f64>() / n as f64;
            let var = self
                .engine
                .scores()
                .map(|s| (s - mean).powi(2))
                .sum::<f64>()
                / n as f64;
            (mean, var.sqrt())
        };
        let t = b.thresholds;
        let full = n == self.config.window;
        let short_thresholds = b.short.map(|s| s.thresholds);
        let (short_window, short_kl) = match (self.engine.short(), short_thresholds) {
            (Some((w, counts)), Some(_)) if n >= w => {
                (w, kl(&smoothed(counts, self.config.epsilon), &q))
            }
            (Some((w, _)), _) => (w, 0.0),
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
    /// latest timestamp seen (the bindings' default: [`DEFAULT_SUMMARY_DAYS`]).
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
            .episodes
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
        self.engine.clear();
        self.n_seen = 0;
        self.out_of_range = 0;
        self.last_ts = None;
        self.episodes.in_drift = false;
        self.episodes.events.clear();
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
