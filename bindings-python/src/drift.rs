//! `faultlens.KlDriftDetector`, `faultlens.Adwin`, `faultlens.PageHinkley`, `faultlens.ks_2samp`
//! and `faultlens.ks_columns` over `faultlens::drift`. Conversions only: keyword arguments are the
//! core config fields, results are dicts / numpy arrays, errors are `faultlens.<code>Error`.
//!
//! Each detector sits behind a `Mutex` (every `add`/`update` mutates it). Single updates run with
//! the GIL held (they take nanoseconds); batches, baselines (calibration) and files release it.

use std::borrow::Cow;
use std::path::PathBuf;

use faultlens::drift::{
    Adwin, AdwinConfig, KlDriftConfig, KlDriftDetector, PageHinkley, PageHinkleyConfig,
};
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyType};

use crate::convert::{decode_config, kwargs_to_json, repr_config, to_py};
use crate::error::{Failure, attached, run_unlocked};
use crate::lock::{Shared, WriteGuard};
use crate::models;

// pyo3 shows a non-literal default as `...` in `help()`, so the signatures below write the core's
// defaults out; these fail to compile if the core's change.
const _: () = assert!(faultlens::drift::DEFAULT_SUMMARY_DAYS.to_bits() == 7.0f64.to_bits());
const _: () = assert!(faultlens::drift::DEFAULT_ALPHA.to_bits() == 0.05f64.to_bits());

fn lock<T: Send + Sync>(m: &Shared<T>) -> Result<WriteGuard<'_, T>, Failure> {
    m.write()
}

/// A float64 numpy array (no copy of the caller's buffer) or any sequence of numbers.
fn floats(obj: &Bound<'_, PyAny>) -> PyResult<Vec<f64>> {
    if let Some(a) = crate::arrow::Floats::extract(obj, "values")? {
        return Ok(a.as_slice().to_vec());
    }
    if let Ok(a) = obj.extract::<PyReadonlyArray1<'_, f64>>() {
        return Ok(a.as_array().iter().copied().collect());
    }
    obj.extract::<Vec<f64>>()
}

/// The values of a batch: a contiguous float64 numpy array is read in place (no copy; the
/// readonly borrow stops other Rust code from writing it while the GIL is released), anything
/// else (lists, other dtypes, strided views) is converted once.
enum Batch<'py> {
    Array(PyReadonlyArray1<'py, f64>),
    Owned(Vec<f64>),
    /// A float64 Arrow column (one chunk without nulls: read in place).
    Arrow(crate::arrow::Floats),
}

impl<'py> Batch<'py> {
    fn new(obj: &Bound<'py, PyAny>) -> PyResult<Self> {
        if let Some(a) = crate::arrow::Floats::extract(obj, "values")? {
            return Ok(Self::Arrow(a));
        }
        if let Ok(a) = obj.extract::<PyReadonlyArray1<'py, f64>>() {
            if a.as_slice().is_ok() {
                return Ok(Self::Array(a));
            }
            return Ok(Self::Owned(a.as_array().iter().copied().collect()));
        }
        Ok(Self::Owned(obj.extract::<Vec<f64>>()?))
    }

    fn as_slice(&self) -> &[f64] {
        match self {
            Self::Array(a) => a.as_slice().unwrap_or(&[]),
            Self::Owned(v) => v,
            Self::Arrow(a) => a.as_slice(),
        }
    }
}

/// A 2-D float64 array (or nested sequences) as (row-major values, columns).
fn matrix(obj: &Bound<'_, PyAny>) -> PyResult<(Vec<f64>, usize)> {
    if let Ok(a) = obj.extract::<PyReadonlyArray2<'_, f64>>() {
        let v = a.as_array();
        return Ok((v.iter().copied().collect(), v.ncols()));
    }
    let rows: Vec<Vec<f64>> = obj.extract()?;
    let cols = rows.first().map_or(0, Vec::len);
    if let Some(i) = rows.iter().position(|r| r.len() != cols) {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "row {i} has {} values, row 0 has {cols}",
            rows[i].len()
        )));
    }
    Ok((rows.concat(), cols))
}

fn config_from<T: serde::de::DeserializeOwned>(
    py: Python<'_>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<T> {
    attached(py, kwargs_to_json(kwargs, |_, v| v).and_then(decode_config))
}

const KL: &str = "KlDriftDetector";

/// `add_many`'s result: drift flags and KL values, one per score.
type Checks<'py> = (Bound<'py, PyArray1<bool>>, Bound<'py, PyArray1<f64>>);

/// KL drift detector over a sliding window of scores against a baseline histogram. Keyword
/// arguments are the fields of the core `KlDriftConfig`: `window` (1000), `bins` (10), `range`
/// ((0, 1)), `epsilon`, `threshold_mode` (`"calibrated"` or `"fixed"`), `false_alarm_rate`,
/// `watch_rate`, `severe_factor`, `calibration_resamples`, `seed`, `fixed_thresholds`
/// (`{"watch", "drift", "severe"}`), `retrain_drifts` (5), `retrain_days` (7), `max_events`,
/// `history_days`. Timestamps are seconds since the Unix epoch (now when omitted).
#[pyclass(module = "faultlens", name = "KlDriftDetector", frozen)]
pub(crate) struct PyKlDriftDetector {
    inner: Shared<KlDriftDetector>,
}

impl PyKlDriftDetector {
    fn wrap(d: KlDriftDetector) -> Self {
        Self {
            inner: Shared::new(d, KL),
        }
    }

    fn quick<T>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut KlDriftDetector) -> Result<T, Failure>,
    ) -> PyResult<T> {
        attached(py, lock(&self.inner).and_then(|mut d| f(&mut d)))
    }

    fn heavy<T: Send>(
        &self,
        py: Python<'_>,
        f: impl Send + FnOnce(&mut KlDriftDetector) -> Result<T, Failure>,
    ) -> PyResult<T> {
        run_unlocked(py, || f(&mut *lock(&self.inner)?))
    }
}

impl models::PyArtifact for PyKlDriftDetector {
    type Core = KlDriftDetector;
    fn wrap(core: KlDriftDetector) -> Self {
        Self::wrap(core)
    }
    fn core(&self) -> Result<impl std::ops::Deref<Target = KlDriftDetector> + '_, Failure> {
        self.inner.read()
    }
}
#[pymethods]
impl PyKlDriftDetector {
    #[new]
    #[pyo3(signature = (**kwargs))]
    fn new(py: Python<'_>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let config: KlDriftConfig = config_from(py, kwargs)?;
        Ok(Self::wrap(attached(
            py,
            KlDriftDetector::new(config).map_err(Into::into),
        )?))
    }

    /// A detector whose baseline is `scores` (prediction scores or a classifier's confidences
    /// on held-out data); calibrates the thresholds.
    #[classmethod]
    #[pyo3(signature = (scores, **kwargs))]
    fn from_baseline(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        scores: &Bound<'_, PyAny>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let config: KlDriftConfig = config_from(py, kwargs)?;
        let scores = floats(scores)?;
        let d = run_unlocked(py, || Ok(KlDriftDetector::from_baseline(&scores, config)?))?;
        Ok(Self::wrap(d))
    }

    /// A detector whose baseline is a histogram of `bins` counts (e.g. shard histograms summed).
    #[classmethod]
    #[pyo3(signature = (counts, **kwargs))]
    fn from_histogram(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        counts: Vec<u64>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let config: KlDriftConfig = config_from(py, kwargs)?;
        let d = run_unlocked(py, || Ok(KlDriftDetector::from_histogram(&counts, config)?))?;
        Ok(Self::wrap(d))
    }

    /// Replaces the baseline with `scores`, recalibrates and resets the window and events.
    fn set_baseline(&self, py: Python<'_>, scores: &Bound<'_, PyAny>) -> PyResult<()> {
        let scores = floats(scores)?;
        self.heavy(py, |d| Ok(d.set_baseline(&scores)?))
    }

    /// Replaces the baseline with a histogram of counts, recalibrates and resets.
    fn set_baseline_histogram(&self, py: Python<'_>, counts: Vec<u64>) -> PyResult<()> {
        self.heavy(py, |d| Ok(d.set_baseline_histogram(&counts)?))
    }

    /// Adds one score; returns `(drift, kl)`.
    #[pyo3(signature = (score, timestamp = None))]
    fn add(&self, py: Python<'_>, score: f64, timestamp: Option<f64>) -> PyResult<(bool, f64)> {
        self.quick(py, |d| {
            let c = d.add(score, timestamp)?;
            Ok((c.drift, c.kl))
        })
    }

    /// Adds many scores at one timestamp, checking after each; returns `(drift, kl)` numpy arrays.
    #[pyo3(signature = (scores, timestamp = None))]
    fn add_many<'py>(
        &self,
        py: Python<'py>,
        scores: &Bound<'py, PyAny>,
        timestamp: Option<f64>,
    ) -> PyResult<Checks<'py>> {
        let batch = Batch::new(scores)?;
        let scores = batch.as_slice();
        let (drift, kl): (Vec<bool>, Vec<f64>) = self.heavy(py, |d| {
            Ok(d.add_many(scores, timestamp)?
                .into_iter()
                .map(|c| (c.drift, c.kl))
                .unzip())
        })?;
        Ok((drift.into_pyarray(py), kl.into_pyarray(py)))
    }

    /// Adds many scores at one timestamp, checking after each like `add_many`, but returns only
    /// `{"n", "drift_starts" (int64 array: batch positions where a drift episode started),
    /// "n_drift", "drift", "kl", "max_kl"}`: the fast path (a float64 array is read in place,
    /// without the GIL).
    #[pyo3(signature = (scores, timestamp = None))]
    fn add_batch<'py>(
        &self,
        py: Python<'py>,
        scores: &Bound<'py, PyAny>,
        timestamp: Option<f64>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let batch = Batch::new(scores)?;
        let scores = batch.as_slice();
        let r = self.heavy(py, |d| Ok(d.add_batch(scores, timestamp)?))?;
        let out = PyDict::new(py);
        out.set_item("n", r.n)?;
        let starts: Vec<i64> = r.drift_starts.iter().map(|&i| i as i64).collect();
        out.set_item("drift_starts", starts.into_pyarray(py))?;
        out.set_item("n_drift", r.n_drift)?;
        out.set_item("drift", r.drift)?;
        out.set_item("kl", r.kl)?;
        out.set_item("max_kl", r.max_kl)?;
        Ok(out)
    }

    /// How the calibrated thresholds came about: `{"mean", "variance", "max", "resamples",
    /// "short_window", "short_mean", "short_variance", "short_max"}` (all 0 in fixed mode).
    fn calibration<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let c = self.quick(py, |d| Ok(d.calibration()?))?;
        to_py(py, &c)
    }

    /// `{"drift", "level", "kl", "psi", "js", "thresholds", "window_size", "n_window", "n_seen",
    /// "window_mean", "window_std", "out_of_range", "should_retrain"}`.
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let s = self.quick(py, |d| Ok(d.status()?))?;
        let out = to_py(py, &s)?;
        // JSON has no NaN: an empty window's mean and std come back as None, so set them here.
        out.set_item("window_mean", s.window_mean)?;
        out.set_item("window_std", s.window_std)?;
        Ok(out)
    }

    /// `status()` in the Prometheus text exposition format (the families of
    /// `faultlens.prometheus`, without its `name` label). NotFittedError without a baseline.
    fn metrics_prometheus(&self, py: Python<'_>) -> PyResult<String> {
        self.quick(py, |d| Ok(d.metrics_prometheus()?))
    }

    /// Drift events, max/mean KL and the retrain verdict over the last `days` days.
    #[pyo3(signature = (days = 7.0))]
    fn summary<'py>(&self, py: Python<'py>, days: f64) -> PyResult<Bound<'py, PyAny>> {
        let s = self.quick(py, |d| Ok(d.summary(days)?))?;
        to_py(py, &s)
    }

    /// Empties the window and forgets events; keeps the baseline and thresholds.
    fn reset(&self, py: Python<'_>) -> PyResult<()> {
        self.quick(py, |d| {
            d.reset();
            Ok(())
        })
    }

    /// Whether a baseline is set.
    fn is_fitted(&self, py: Python<'_>) -> PyResult<bool> {
        self.quick(py, |d| Ok(d.is_fitted()))
    }

    /// `{"watch", "drift", "severe"}` in use (calibrated or fixed).
    fn thresholds<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let t = self.quick(py, |d| Ok(d.thresholds()?))?;
        to_py(py, &t)
    }

    /// The baseline histogram counts.
    fn baseline_histogram(&self, py: Python<'_>) -> PyResult<Vec<u64>> {
        self.quick(py, |d| Ok(d.baseline_histogram()?))
    }

    /// The configuration as a dict.
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let c = self.quick(py, |d| Ok(d.config().clone()))?;
        to_py(py, &c)
    }

    /// The model file as bytes (baseline, thresholds, window and events included).
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        models::to_bytes(py, self)
    }

    /// Rebuilds a detector from `to_bytes()` output.
    #[classmethod]
    fn from_bytes(_cls: &Bound<'_, PyType>, py: Python<'_>, data: Cow<'_, [u8]>) -> PyResult<Self> {
        models::from_bytes(py, data)
    }

    /// Writes the model file atomically.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        models::save(py, self, path)
    }

    /// Reads a model file written by `save` (in any language).
    #[classmethod]
    fn load(_cls: &Bound<'_, PyType>, py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        models::load(py, path)
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        models::reduce(slf)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let c = self.quick(py, |d| Ok(d.config().clone()))?;
        repr_config(py, KL, &c, &KlDriftConfig::default())
    }
}

/// Generates the Python class of a streaming detector (same surface for both).
macro_rules! stream_class {
    ($py_ty:ident, $core:ty, $config:ty, $name:literal, $doc:literal, { $($extra:tt)* }) => {
        #[doc = $doc]
        #[pyclass(module = "faultlens", name = $name, frozen)]
        pub(crate) struct $py_ty {
            inner: Shared<$core>,
        }

        impl $py_ty {
            fn wrap(d: $core) -> Self {
                Self { inner: Shared::new(d, $name) }
            }

            fn quick<T>(
                &self,
                py: Python<'_>,
                f: impl FnOnce(&mut $core) -> Result<T, Failure>,
            ) -> PyResult<T> {
                attached(py, lock(&self.inner).and_then(|mut d| f(&mut d)))
            }
        }

        impl models::PyArtifact for $py_ty {
            type Core = $core;
            fn wrap(core: $core) -> Self {
                Self::wrap(core)
            }
            fn core(&self) -> Result<impl std::ops::Deref<Target = $core> + '_, Failure> {
                self.inner.read()
            }
        }

        #[pymethods]
        impl $py_ty {
            #[new]
            #[pyo3(signature = (**kwargs))]
            fn new(py: Python<'_>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
                let config: $config = config_from(py, kwargs)?;
                Ok(Self::wrap(attached(py, <$core>::new(config).map_err(Into::into))?))
            }

            /// Adds one value; True when a change was detected at it.
            fn update(&self, py: Python<'_>, x: f64) -> PyResult<bool> {
                self.quick(py, |d| Ok(d.update(x)?))
            }

            /// Adds many values; returns the indices where a change was detected (int64 array).
            fn update_many<'py>(
                &self,
                py: Python<'py>,
                xs: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyArray1<i64>>> {
                let batch = Batch::new(xs)?;
                let xs = batch.as_slice();
                let hits = run_unlocked(py, || {
                    let mut d = lock(&self.inner)?;
                    Ok(d.update_many(xs)?.into_iter().map(|i| i as i64).collect::<Vec<_>>())
                })?;
                Ok(hits.into_pyarray(py))
            }

            /// Whether the last value triggered a change.
            fn drift_detected(&self, py: Python<'_>) -> PyResult<bool> {
                self.quick(py, |d| Ok(d.drift_detected()))
            }

            /// Changes detected since creation.
            fn n_detections(&self, py: Python<'_>) -> PyResult<u64> {
                self.quick(py, |d| Ok(d.n_detections()))
            }

            /// `drift_detected()` and `n_detections()` in the Prometheus text exposition format
            /// (the families of `faultlens.prometheus`, without its `name` label).
            fn metrics_prometheus(&self, py: Python<'_>) -> PyResult<String> {
                self.quick(py, |d| Ok(d.metrics_prometheus()))
            }

            /// Forgets the stream so far (the detection count is kept).
            fn reset(&self, py: Python<'_>) -> PyResult<()> {
                self.quick(py, |d| {
                    d.reset();
                    Ok(())
                })
            }

            /// The configuration as a dict.
            fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                let c = self.quick(py, |d| Ok(d.config().clone()))?;
                to_py(py, &c)
            }

            /// The model file as bytes (the whole detector state).
            fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
                models::to_bytes(py, self)
            }

            /// Rebuilds a detector from `to_bytes()` output.
            #[classmethod]
            fn from_bytes(
                _cls: &Bound<'_, PyType>,
                py: Python<'_>,
                data: Cow<'_, [u8]>,
            ) -> PyResult<Self> {
                models::from_bytes(py, data)
            }

            /// Writes the model file atomically.
            fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
                models::save(py, self, path)
            }

            /// Reads a model file written by `save` (in any language).
            #[classmethod]
            fn load(_cls: &Bound<'_, PyType>, py: Python<'_>, path: PathBuf) -> PyResult<Self> {
                models::load(py, path)
            }

            fn __reduce__<'py>(
                slf: &Bound<'py, Self>,
            ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
                models::reduce(slf)
            }

            fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
                let c = self.quick(py, |d| Ok(d.config().clone()))?;
                repr_config(py, $name, &c, &<$config>::default())
            }

            $($extra)*
        }
    };
}

stream_class!(
    PyAdwin,
    Adwin,
    AdwinConfig,
    "Adwin",
    "ADWIN change detector with river's parameters and change points: `delta` (0.002), `clock` (32), `max_buckets` (5), `min_window_length` (5), `grace_period` (10).",
    {
        /// Number of values in the current window.
        fn width(&self, py: Python<'_>) -> PyResult<f64> {
            self.quick(py, |d| Ok(d.width()))
        }

        /// Mean of the current window.
        fn estimation(&self, py: Python<'_>) -> PyResult<f64> {
            self.quick(py, |d| Ok(d.estimation()))
        }

        /// Variance of the current window.
        fn variance(&self, py: Python<'_>) -> PyResult<f64> {
            self.quick(py, |d| Ok(d.variance()))
        }
    }
);

stream_class!(
    PyPageHinkley,
    PageHinkley,
    PageHinkleyConfig,
    "PageHinkley",
    "Page-Hinkley change detector with river's parameters and change points: `min_instances` (30), `delta` (0.005), `threshold` (50), `alpha` (1 - 0.0001), `mode` (`\"both\"`, `\"up\"`, `\"down\"`).",
    {}
);

/// Two-sided two-sample KS test equal to `scipy.stats.ks_2samp`:
/// `{"statistic", "pvalue", "method"}` (`"exact"` or `"asymptotic"`).
#[pyfunction]
pub(crate) fn ks_2samp<'py>(
    py: Python<'py>,
    reference: &Bound<'py, PyAny>,
    current: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let (a, b) = (floats(reference)?, floats(current)?);
    let r = run_unlocked(py, || Ok(faultlens::drift::ks_2samp(&a, &b)?))?;
    to_py(py, &r)
}

/// Per-column KS tests of two 2-D arrays (rows = samples): `{"statistic", "pvalue", "drift"}`
/// as numpy arrays, one entry per column; drift is `pvalue < alpha`.
#[pyfunction]
#[pyo3(signature = (reference, current, alpha = 0.05))]
pub(crate) fn ks_columns<'py>(
    py: Python<'py>,
    reference: &Bound<'py, PyAny>,
    current: &Bound<'py, PyAny>,
    alpha: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let (a, ca) = matrix(reference)?;
    let (b, cb) = matrix(current)?;
    let cols = run_unlocked(py, || {
        if ca != cb {
            return Err(faultlens::Error::Dimension {
                expected: ca,
                got: cb,
            }
            .into());
        }
        Ok(faultlens::drift::ks_columns_flat(&a, &b, ca, alpha)?)
    })?;
    let out = PyDict::new(py);
    out.set_item(
        "statistic",
        cols.iter()
            .map(|c| c.statistic)
            .collect::<Vec<_>>()
            .into_pyarray(py),
    )?;
    out.set_item(
        "pvalue",
        cols.iter()
            .map(|c| c.pvalue)
            .collect::<Vec<_>>()
            .into_pyarray(py),
    )?;
    out.set_item(
        "drift",
        cols.iter()
            .map(|c| c.drift)
            .collect::<Vec<_>>()
            .into_pyarray(py),
    )?;
    Ok(out)
}
