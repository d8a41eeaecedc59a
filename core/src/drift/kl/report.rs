//! What a KL detector reports: one check, a batch, its status and summary, and the drift
//! episodes (events) it keeps.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::config::Thresholds;

/// The result of one [`KlDriftDetector::add`](super::KlDriftDetector::add).
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

/// What [`KlDriftDetector::status`](super::KlDriftDetector::status) reports.
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

/// What [`KlDriftDetector::add_batch`](super::KlDriftDetector::add_batch) reports: the drift episodes a batch started, not one
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

/// What [`KlDriftDetector::summary`](super::KlDriftDetector::summary) reports over the last `days` days.
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

/// One hour's full-window checks, for [`KlDriftDetector::summary`](super::KlDriftDetector::summary).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct HourBucket {
    pub hour: i64,
    pub n: u64,
    pub sum: f64,
    pub max: f64,
}

/// The drift events kept, and whether one is open.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Episodes {
    pub events: VecDeque<DriftEvent>,
    pub in_drift: bool,
}

impl Episodes {
    /// Opens, extends or ends the drift event after a full-window check (at most `max_events`
    /// kept, oldest dropped); true when one started.
    #[allow(clippy::too_many_arguments)]
    #[inline(never)]
    pub fn record(
        &mut self,
        max_events: usize,
        ts: f64,
        kl: f64,
        short_kl: f64,
        t: &Thresholds,
        st: &Thresholds,
    ) -> bool {
        let Self { events, in_drift } = self;
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
}

/// 0 normal, 1 watch, 2 drift, 3 severe.
pub(super) fn level_of(kl: f64, t: &Thresholds) -> u8 {
    u8::from(kl > t.watch) + u8::from(kl > t.drift) + u8::from(kl > t.severe)
}
