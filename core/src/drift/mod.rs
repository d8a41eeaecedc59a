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
//! Every detector saves and loads through the model file ([`Artifact`](crate::Artifact)).
//! See `docs/drift.md` for semantics and measured false-alarm rates.

mod adwin;
mod float;
mod kl;
mod ks;
mod metrics;
mod stream;

pub use adwin::{Adwin, AdwinConfig};
pub use kl::{
    Calibration, DEFAULT_SUMMARY_DAYS, DriftBatch, DriftCheck, DriftEvent, DriftStatus,
    DriftSummary, KlDriftConfig, KlDriftDetector, MAX_BASELINE_SCORES, MAX_BINS,
    MAX_CALIBRATION_CELLS, MAX_EVENTS, MAX_RESAMPLES, MAX_WINDOW, ThresholdMode, Thresholds,
    histogram,
};
pub use ks::{DEFAULT_ALPHA, KsColumn, KsMethod, KsResult, ks_2samp, ks_columns, ks_columns_flat};
pub use stream::{MAX_STREAM_VALUE, PageHinkley, PageHinkleyConfig, PageHinkleyMode};
