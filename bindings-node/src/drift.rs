//! Drift detection (core `drift` module): `KlDriftDetector`, `Adwin`, `PageHinkley`, `ks2Samp`
//! and `ksColumns`. Conversions only. Single updates take nanoseconds; the batch calls
//! (`addMany`, `addBatch`, `updateMany`) have Promise-returning `...Async` versions that run on
//! the libuv thread pool (the scores are copied first; the detector stays locked meanwhile).

use std::sync::{Arc, Mutex};

use faultlens::drift as core;
use napi::Task;
use napi::bindgen_prelude::{
    AsyncTask, Buffer, Env, Float64Array, Uint8Array, Uint32Array, Unknown,
};
use napi_derive::napi;
use serde_json::Value;

use crate::args;
use crate::artifact;
use crate::convert;
use crate::error::{Result, binding, guard, reject, to_js};
use crate::lock::lock;

/// KL levels.
#[napi(object, object_from_js = false, object_to_js = false)]
#[allow(dead_code)] // declares the TypeScript interface only
pub struct Thresholds {
    /// Start of the watch zone.
    pub watch: f64,
    /// Drift when KL is above this.
    pub drift: f64,
    /// Retrain at once when KL is above this.
    pub severe: f64,
}

/// What `status()` returns.
#[napi(object, object_from_js = false, object_to_js = false)]
#[allow(dead_code)] // declares the TypeScript interface only
pub struct DriftStatus {
    /// The window is full and KL is above the drift threshold.
    pub drift: bool,
    /// `"filling"`, `"normal"`, `"watch"`, `"drift"` or `"severe"`.
    pub level: String,
    /// KL(window ‖ baseline), nats.
    pub kl: f64,
    /// Population stability index.
    pub psi: f64,
    /// Jensen-Shannon divergence, nats.
    pub js: f64,
    /// The thresholds in use.
    pub thresholds: Thresholds,
    /// Configured window size.
    pub window_size: u32,
    /// Scores in the window now.
    pub n_window: u32,
    /// Scores seen since the last reset.
    pub n_seen: f64,
    /// Mean of the window (`null` while empty).
    #[napi(ts_type = "number | null")]
    pub window_mean: Option<f64>,
    /// Population standard deviation of the window (`null` while empty).
    #[napi(ts_type = "number | null")]
    pub window_std: Option<f64>,
    /// Scores seen outside the range.
    pub out_of_range: f64,
    /// The retrain policy's verdict now.
    pub should_retrain: bool,
    /// The short window in use (0 when off).
    pub short_window: u32,
    /// KL of the short window (0 when off or not yet full).
    pub short_kl: f64,
    /// The short window's thresholds (`null` when off).
    #[napi(ts_type = "Thresholds | null")]
    pub short_thresholds: Option<Thresholds>,
}

/// What `calibration()` returns: how the calibrated thresholds came about (all 0 in fixed mode).
#[napi(object, object_from_js = false, object_to_js = false)]
#[allow(dead_code)] // declares the TypeScript interface only
pub struct Calibration {
    /// Mean KL of drift-free resampled windows.
    pub mean: f64,
    /// Variance of that KL.
    pub variance: f64,
    /// Largest KL over the resamples.
    pub max: f64,
    /// Number of resamples.
    pub resamples: u32,
    /// The short window calibrated alongside (0 when off).
    pub short_window: u32,
    /// Mean KL of drift-free short windows.
    pub short_mean: f64,
    /// Variance of the short window's KL.
    pub short_variance: f64,
    /// Largest short-window KL over the resamples.
    pub short_max: f64,
}

/// One drift episode.
#[napi(object, object_from_js = false, object_to_js = false)]
#[allow(dead_code)] // declares the TypeScript interface only
pub struct DriftEvent {
    /// When KL crossed the drift threshold (seconds since the Unix epoch).
    pub timestamp: f64,
    /// KL at that moment.
    pub kl: f64,
    /// Largest KL during the episode.
    pub max_kl: f64,
    /// Whether the episode went above the severe threshold.
    pub severe: bool,
    /// When KL fell back below the watch threshold (`null` while it lasts).
    #[napi(ts_type = "number | null")]
    pub end: Option<f64>,
    /// KL of the short window at the start (0 when it is off).
    pub short_kl: f64,
}

/// What `summary(days)` returns.
#[napi(object, object_from_js = false, object_to_js = false)]
#[allow(dead_code)] // declares the TypeScript interface only
pub struct DriftSummary {
    /// The period asked for.
    pub days: f64,
    /// Drift events that started in the period.
    pub drift_count: u32,
    /// Largest KL of a full window in the period.
    pub max_kl: f64,
    /// Mean KL over full-window checks in the period.
    pub mean_kl: f64,
    /// Full-window checks in the period.
    pub n_checks: f64,
    /// The retrain policy's verdict now.
    pub should_retrain: bool,
    /// The events, oldest first.
    pub events: Vec<DriftEvent>,
}

/// `add(score)`'s result.
#[napi(object, object_from_js = false)]
pub struct DriftCheck {
    /// KL above the drift threshold on a full window.
    pub drift: bool,
    /// KL of the window.
    pub kl: f64,
}

/// `addMany(scores)`'s result: one entry per score.
#[napi(object, object_from_js = false)]
pub struct DriftChecks {
    /// Drift flag after each score.
    pub drift: Vec<bool>,
    /// KL after each score.
    pub kl: Float64Array,
}

/// `addBatch(scores)`'s result: where drift episodes started, and the state after the batch.
#[napi(object, object_from_js = false)]
pub struct DriftBatch {
    /// Scores added.
    pub n: u32,
    /// Positions in the batch where a drift episode (event) started.
    pub drift_starts: Uint32Array,
    /// Checks in the batch flagged as drift.
    pub n_drift: u32,
    /// The drift flag after the last score.
    pub drift: bool,
    /// KL after the last score.
    pub kl: f64,
    /// Largest full-window KL in the batch.
    pub max_kl: f64,
}

impl From<core::DriftBatch> for DriftBatch {
    fn from(b: core::DriftBatch) -> Self {
        Self {
            n: b.n as u32,
            drift_starts: Uint32Array::new(b.drift_starts.into_iter().map(|i| i as u32).collect()),
            n_drift: b.n_drift as u32,
            drift: b.drift,
            kl: b.kl,
            max_kl: b.max_kl,
        }
    }
}

fn checks(checks: Vec<core::DriftCheck>) -> DriftChecks {
    let (drift, kl): (Vec<bool>, Vec<f64>) = checks.into_iter().map(|c| (c.drift, c.kl)).unzip();
    DriftChecks {
        drift,
        kl: Float64Array::new(kl),
    }
}

/// The work of a [`BatchTask`] on the locked detector.
type BatchRun<D, T> = Box<dyn FnMut(&mut D) -> faultlens::Result<T> + Send>;

/// A batch call on the libuv thread pool: `run` on the locked detector, `done` converts.
pub struct BatchTask<D: Send + 'static, T: Send + 'static, J> {
    inner: Arc<Mutex<D>>,
    what: &'static str,
    run: BatchRun<D, T>,
    done: fn(T) -> J,
}

impl<D, T, J> Task for BatchTask<D, T, J>
where
    D: Send + 'static,
    T: Send + 'static,
    J: napi::bindgen_prelude::ToNapiValue + napi::bindgen_prelude::TypeName,
{
    type Output = Result<T>;
    type JsValue = J;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(guard(|| {
            (self.run)(&mut *lock(&self.inner, self.what)?).map_err(to_js)
        }))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<J> {
        output.map(self.done).map_err(|e| reject(&env, e))
    }
}

fn to_value<T: serde::Serialize>(v: &T) -> Result<Value> {
    convert::config_to_js(v)
}

fn options<T: serde::de::DeserializeOwned>(options: Option<Unknown>) -> Result<T> {
    convert::from_snake(convert::options_json(options)?)
}

fn counts(values: &[f64]) -> Result<Vec<u64>> {
    values
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            if c >= 0.0 && c.fract() == 0.0 && c < 2f64.powi(53) {
                Ok(c as u64)
            } else {
                Err(binding(
                    "InvalidInput",
                    format!("invalid input: count {i} is {c}, not a whole number in 0..2^53"),
                ))
            }
        })
        .collect()
}

const KL: &str = "KlDriftDetector";

/// KL drift detector over a sliding window of scores against a baseline histogram, with
/// calibrated (default) or fixed thresholds, drift events and a retrain policy. Timestamps are
/// seconds since the Unix epoch (now when omitted).
#[napi]
pub struct KlDriftDetector {
    inner: Arc<Mutex<core::KlDriftDetector>>,
}

impl KlDriftDetector {
    fn wrap(d: core::KlDriftDetector) -> Self {
        Self {
            inner: Arc::new(Mutex::new(d)),
        }
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut core::KlDriftDetector) -> faultlens::Result<T>,
    ) -> Result<T> {
        f(&mut *lock(&self.inner, KL)?).map_err(to_js)
    }
}

impl crate::artifact::JsArtifact for KlDriftDetector {
    type Core = core::KlDriftDetector;
    fn wrap(core: core::KlDriftDetector) -> Self {
        Self::wrap(core)
    }
    fn core(&self) -> Result<impl std::ops::Deref<Target = core::KlDriftDetector> + '_> {
        lock(&self.inner, KL)
    }
}

#[napi]
impl KlDriftDetector {
    /// A detector without a baseline (set one with `setBaseline`).
    #[napi(constructor, catch_unwind)]
    pub fn new(
        #[napi(ts_arg_type = "KlDriftOptions | null")] options: Option<Unknown>,
    ) -> Result<Self> {
        let config: core::KlDriftConfig = self::options(options)?;
        Ok(Self::wrap(
            core::KlDriftDetector::new(config).map_err(to_js)?,
        ))
    }

    /// A detector whose baseline is `scores` (prediction scores or a classifier's confidences).
    #[napi(factory, catch_unwind)]
    pub fn from_baseline(
        scores: Float64Array,
        #[napi(ts_arg_type = "KlDriftOptions | null")] options: Option<Unknown>,
    ) -> Result<Self> {
        let config: core::KlDriftConfig = self::options(options)?;
        Ok(Self::wrap(
            core::KlDriftDetector::from_baseline(&scores, config).map_err(to_js)?,
        ))
    }

    /// A detector whose baseline is a histogram of `bins` counts (shard histograms add up).
    #[napi(factory, catch_unwind)]
    pub fn from_histogram(
        counts: Vec<f64>,
        #[napi(ts_arg_type = "KlDriftOptions | null")] options: Option<Unknown>,
    ) -> Result<Self> {
        let config: core::KlDriftConfig = self::options(options)?;
        let counts = self::counts(&counts)?;
        Ok(Self::wrap(
            core::KlDriftDetector::from_histogram(&counts, config).map_err(to_js)?,
        ))
    }

    /// Replaces the baseline, recalibrates, and resets the window and events.
    #[napi(catch_unwind)]
    pub fn set_baseline(&self, scores: Float64Array) -> Result<()> {
        self.with(|d| d.set_baseline(&scores))
    }

    /// Replaces the baseline with histogram counts, recalibrates, and resets.
    #[napi(catch_unwind)]
    pub fn set_baseline_histogram(&self, counts: Vec<f64>) -> Result<()> {
        let counts = self::counts(&counts)?;
        self.with(|d| d.set_baseline_histogram(&counts))
    }

    /// Adds one score; `{drift, kl}`.
    #[napi(catch_unwind)]
    pub fn add(&self, score: f64, timestamp: Option<f64>) -> Result<DriftCheck> {
        let c = self.with(|d| d.add(score, timestamp))?;
        Ok(DriftCheck {
            drift: c.drift,
            kl: c.kl,
        })
    }

    /// Adds many scores at one timestamp, checking after each; `{drift: boolean[], kl: Float64Array}`.
    #[napi(catch_unwind)]
    pub fn add_many(&self, scores: Float64Array, timestamp: Option<f64>) -> Result<DriftChecks> {
        Ok(checks(self.with(|d| d.add_many(&scores, timestamp))?))
    }

    /// `addMany` on the libuv thread pool.
    #[napi(catch_unwind, ts_return_type = "Promise<DriftChecks>")]
    pub fn add_many_async(
        &self,
        scores: Float64Array,
        timestamp: Option<f64>,
    ) -> AsyncTask<BatchTask<core::KlDriftDetector, Vec<core::DriftCheck>, DriftChecks>> {
        let scores = scores.to_vec();
        AsyncTask::new(BatchTask {
            inner: self.inner.clone(),
            what: KL,
            run: Box::new(move |d| d.add_many(&scores, timestamp)),
            done: checks,
        })
    }

    /// Adds many scores at one timestamp, checking after each like `addMany`, but returns only
    /// `{n, driftStarts, nDrift, drift, kl, maxKl}` (positions where drift episodes started):
    /// the fast path for large batches.
    #[napi(catch_unwind)]
    pub fn add_batch(&self, scores: Float64Array, timestamp: Option<f64>) -> Result<DriftBatch> {
        Ok(self.with(|d| d.add_batch(&scores, timestamp))?.into())
    }

    /// `addBatch` on the libuv thread pool.
    #[napi(catch_unwind, ts_return_type = "Promise<DriftBatch>")]
    pub fn add_batch_async(
        &self,
        scores: Float64Array,
        timestamp: Option<f64>,
    ) -> AsyncTask<BatchTask<core::KlDriftDetector, core::DriftBatch, DriftBatch>> {
        let scores = scores.to_vec();
        AsyncTask::new(BatchTask {
            inner: self.inner.clone(),
            what: KL,
            run: Box::new(move |d| d.add_batch(&scores, timestamp)),
            done: DriftBatch::from,
        })
    }

    /// How the calibrated thresholds came about (all 0 in fixed mode).
    #[napi(catch_unwind, ts_return_type = "Calibration")]
    pub fn calibration(&self) -> Result<Value> {
        to_value(&self.with(|d| d.calibration())?)
    }

    /// Drift flag, KL, PSI, JS, thresholds, window statistics and the retrain verdict.
    #[napi(catch_unwind, ts_return_type = "DriftStatus")]
    pub fn status(&self) -> Result<Value> {
        to_value(&self.with(|d| d.status())?)
    }

    /// `status()` in the Prometheus text exposition format (the families of
    /// `faultlens/prometheus`, without its `name` label). `NotFitted` without a baseline.
    #[napi(catch_unwind)]
    pub fn metrics_prometheus(&self) -> Result<String> {
        self.with(|d| d.metrics_prometheus())
    }

    /// Drift events, max/mean KL and the retrain verdict over the last `days` days (default 7).
    #[napi(catch_unwind, ts_return_type = "DriftSummary")]
    pub fn summary(&self, days: Option<f64>) -> Result<Value> {
        to_value(&self.with(|d| d.summary(days.unwrap_or(core::DEFAULT_SUMMARY_DAYS)))?)
    }

    /// Empties the window and forgets events; keeps the baseline and thresholds.
    #[napi(catch_unwind)]
    pub fn reset(&self) -> Result<()> {
        self.with(|d| {
            d.reset();
            Ok(())
        })
    }

    /// Whether a baseline is set.
    #[napi(catch_unwind)]
    pub fn is_fitted(&self) -> Result<bool> {
        self.with(|d| Ok(d.is_fitted()))
    }

    /// The thresholds in use.
    #[napi(catch_unwind, ts_return_type = "Thresholds")]
    pub fn thresholds(&self) -> Result<Value> {
        to_value(&self.with(|d| d.thresholds())?)
    }

    /// The baseline histogram counts.
    #[napi(catch_unwind)]
    pub fn baseline_histogram(&self) -> Result<Vec<f64>> {
        let c = self.with(|d| d.baseline_histogram())?;
        Ok(c.into_iter().map(|x| x as f64).collect())
    }

    /// The full configuration (camelCase keys).
    #[napi(catch_unwind, ts_return_type = "Required<KlDriftOptions>")]
    pub fn config(&self) -> Result<Value> {
        to_value(&self.with(|d| Ok(d.config().clone()))?)
    }

    /// The model file as bytes (baseline, thresholds, window and events included).
    #[napi(catch_unwind)]
    pub fn to_bytes(&self) -> Result<Buffer> {
        artifact::to_bytes(self)
    }

    /// Decodes a model file held in memory.
    #[napi(factory, catch_unwind)]
    pub fn from_bytes(bytes: Uint8Array) -> Result<Self> {
        artifact::from_bytes(&bytes)
    }

    /// Writes the model file atomically.
    #[napi(catch_unwind)]
    pub fn save(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] path: Unknown,
    ) -> napi::Result<()> {
        let path = args::string(&path, "path").map_err(|e| reject(&env, e))?;
        artifact::save(&env, self, &path)
    }

    /// Reads a model file written by `save` in any language.
    #[napi(factory, catch_unwind)]
    pub fn load(env: Env, #[napi(ts_arg_type = "string")] path: Unknown) -> napi::Result<Self> {
        let path = args::string(&path, "path").map_err(|e| reject(&env, e))?;
        artifact::load(&env, &path)
    }
}

fn indices(hits: Vec<usize>) -> Uint32Array {
    Uint32Array::new(hits.into_iter().map(|i| i as u32).collect())
}

macro_rules! stream_class {
    ($js:ident, $core:ty, $config:ty, $opts:literal, $name:literal, $doc:literal, { $($extra:tt)* }) => {
        #[doc = $doc]
        #[napi]
        pub struct $js {
            inner: Arc<Mutex<$core>>,
        }

        impl $js {
            fn wrap(d: $core) -> Self {
                Self { inner: Arc::new(Mutex::new(d)) }
            }

            fn with<T>(&self, f: impl FnOnce(&mut $core) -> faultlens::Result<T>) -> Result<T> {
                f(&mut *lock(&self.inner, $name)?).map_err(to_js)
            }
        }

        impl crate::artifact::JsArtifact for $js {
            type Core = $core;
            fn wrap(core: $core) -> Self {
                Self::wrap(core)
            }
            fn core(&self) -> Result<impl std::ops::Deref<Target = $core> + '_> {
                lock(&self.inner, $name)
            }
        }

        #[napi]
        impl $js {
            /// A fresh detector; throws `InvalidConfig` for a bad or unknown option.
            #[napi(constructor, catch_unwind)]
            pub fn new(
                #[napi(ts_arg_type = $opts)] options: Option<Unknown>,
            ) -> Result<Self> {
                let config: $config = self::options(options)?;
                Ok(Self::wrap(<$core>::new(config).map_err(to_js)?))
            }

            /// Adds one value; true when a change was detected at it.
            #[napi(catch_unwind)]
            pub fn update(&self, x: f64) -> Result<bool> {
                self.with(|d| d.update(x))
            }

            /// Adds many values; the indices where a change was detected.
            #[napi(catch_unwind)]
            pub fn update_many(&self, xs: Float64Array) -> Result<Uint32Array> {
                Ok(indices(self.with(|d| d.update_many(&xs))?))
            }

            /// `updateMany` on the libuv thread pool.
            #[napi(catch_unwind, ts_return_type = "Promise<Uint32Array>")]
            pub fn update_many_async(
                &self,
                xs: Float64Array,
            ) -> AsyncTask<BatchTask<$core, Vec<usize>, Uint32Array>> {
                let xs = xs.to_vec();
                AsyncTask::new(BatchTask {
                    inner: self.inner.clone(),
                    what: $name,
                    run: Box::new(move |d| d.update_many(&xs)),
                    done: indices,
                })
            }

            /// Whether the last value triggered a change.
            #[napi(catch_unwind)]
            pub fn drift_detected(&self) -> Result<bool> {
                self.with(|d| Ok(d.drift_detected()))
            }

            /// Changes detected since creation.
            #[napi(catch_unwind)]
            pub fn n_detections(&self) -> Result<f64> {
                self.with(|d| Ok(d.n_detections() as f64))
            }

            /// `driftDetected()` and `nDetections()` in the Prometheus text exposition format
            /// (the families of `faultlens/prometheus`, without its `name` label).
            #[napi(catch_unwind)]
            pub fn metrics_prometheus(&self) -> Result<String> {
                self.with(|d| Ok(d.metrics_prometheus()))
            }

            /// Forgets the stream so far (the detection count is kept).
            #[napi(catch_unwind)]
            pub fn reset(&self) -> Result<()> {
                self.with(|d| {
                    d.reset();
                    Ok(())
                })
            }

            /// The full configuration (camelCase keys).
            #[napi(catch_unwind, ts_return_type = "Record<string, number | string>")]
            pub fn config(&self) -> Result<Value> {
                to_value(&self.with(|d| Ok(d.config().clone()))?)
            }

            /// The model file as bytes (the whole detector state).
            #[napi(catch_unwind)]
            pub fn to_bytes(&self) -> Result<Buffer> {
                artifact::to_bytes(self)
            }

            /// Decodes a model file held in memory.
            #[napi(factory, catch_unwind)]
            pub fn from_bytes(bytes: Uint8Array) -> Result<Self> {
                artifact::from_bytes(&bytes)
            }

            /// Writes the model file atomically.
            #[napi(catch_unwind)]
            pub fn save(&self, env: Env, #[napi(ts_arg_type = "string")] path: Unknown) -> napi::Result<()> {
                let path = args::string(&path, "path").map_err(|e| reject(&env, e))?;
                artifact::save(&env, self, &path)
            }

            /// Reads a model file written by `save` in any language.
            #[napi(factory, catch_unwind)]
            pub fn load(env: Env, #[napi(ts_arg_type = "string")] path: Unknown) -> napi::Result<Self> {
                let path = args::string(&path, "path").map_err(|e| reject(&env, e))?;
                artifact::load(&env, &path)
            }

            $($extra)*
        }
    };
}

stream_class!(
    Adwin,
    core::Adwin,
    core::AdwinConfig,
    "AdwinOptions | null",
    "Adwin",
    "ADWIN change detector with river's parameters, defaults and change points.",
    {
        /// Number of values in the current window.
        #[napi(catch_unwind)]
        pub fn width(&self) -> Result<f64> {
            self.with(|d| Ok(d.width()))
        }

        /// Mean of the current window.
        #[napi(catch_unwind)]
        pub fn estimation(&self) -> Result<f64> {
            self.with(|d| Ok(d.estimation()))
        }

        /// Variance of the current window.
        #[napi(catch_unwind)]
        pub fn variance(&self) -> Result<f64> {
            self.with(|d| Ok(d.variance()))
        }
    }
);

stream_class!(
    PageHinkley,
    core::PageHinkley,
    core::PageHinkleyConfig,
    "PageHinkleyOptions | null",
    "PageHinkley",
    "Page-Hinkley change detector with river's parameters, defaults and change points.",
    {}
);

/// `ks2Samp`'s result.
#[napi(object, object_from_js = false)]
pub struct KsResult {
    /// Largest distance between the two empirical CDFs.
    pub statistic: f64,
    /// Two-sided p-value (scipy's).
    pub pvalue: f64,
    /// `"exact"` or `"asymptotic"`.
    pub method: String,
}

/// Two-sided two-sample KS test equal to `scipy.stats.ks_2samp`.
#[napi(js_name = "ks2samp", catch_unwind)]
pub fn ks_2samp(reference: Float64Array, current: Float64Array) -> Result<KsResult> {
    let r = core::ks_2samp(&reference, &current).map_err(to_js)?;
    Ok(KsResult {
        statistic: r.statistic,
        pvalue: r.pvalue,
        method: match r.method {
            core::KsMethod::Exact => "exact".into(),
            core::KsMethod::Asymptotic => "asymptotic".into(),
        },
    })
}

/// `ksColumns`' result: one entry per column.
#[napi(object, object_from_js = false)]
pub struct KsColumns {
    /// KS statistic per column.
    pub statistic: Float64Array,
    /// p-value per column.
    pub pvalue: Float64Array,
    /// `pvalue < alpha` per column.
    pub drift: Vec<bool>,
}

fn rows_flat(rows: &[Vec<f64>], what: &str) -> Result<(Vec<f64>, usize)> {
    let cols = rows.first().map_or(0, Vec::len);
    if let Some(i) = rows.iter().position(|r| r.len() != cols) {
        return Err(binding(
            "InvalidInput",
            format!(
                "invalid input: {what} row {i} has {} values, row 0 has {cols}",
                rows[i].len()
            ),
        ));
    }
    Ok((rows.concat(), cols))
}

/// Per-column KS tests of two matrices given as arrays of rows (rows = samples).
#[napi(catch_unwind)]
pub fn ks_columns(
    reference: Vec<Vec<f64>>,
    current: Vec<Vec<f64>>,
    alpha: Option<f64>,
) -> Result<KsColumns> {
    let (a, ca) = rows_flat(&reference, "reference")?;
    let (b, cb) = rows_flat(&current, "current")?;
    if ca != cb {
        return Err(to_js(faultlens::Error::Dimension {
            expected: ca,
            got: cb,
        }));
    }
    let cols =
        core::ks_columns_flat(&a, &b, ca, alpha.unwrap_or(core::DEFAULT_ALPHA)).map_err(to_js)?;
    Ok(KsColumns {
        statistic: Float64Array::new(cols.iter().map(|c| c.statistic).collect()),
        pvalue: Float64Array::new(cols.iter().map(|c| c.pvalue).collect()),
        drift: cols.iter().map(|c| c.drift).collect(),
    })
}
