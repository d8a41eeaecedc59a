//! `faultlens.TextClassifier` over `faultlens::TextClassifier` (a scikit-learn style estimator),
//! plus the module functions `evaluate` and `compare`.
//!
//! The core object sits in an `RwLock`: `fit`/`partial_fit` write, everything else reads. `fit`,
//! batch prediction, evaluation and (de)serialisation run with the GIL released; a progress
//! callback (or `verbose=True`'s bar) re-attaches the GIL only for the moment it reports.
//! Texts and labels are lists, tuples or numpy arrays of `str`; they are copied into Rust
//! strings before the GIL is released.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Mutex;

use faultlens::{ClassifierConfig, TextClassifier};
use numpy::{IntoPyArray, PyArray1, PyArrayMethods};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString, PyType};
use serde_json::{Map, Value};

use crate::convert::{Text, decode_config, kwargs_to_json, repr_config, to_py};
use crate::error::{Failure, attached, run_sized, run_unlocked};
use crate::lock::{ReadGuard, Shared, WriteGuard};
use crate::models;

const WHAT: &str = "TextClassifier";

/// Text classifier: TF-IDF then logistic regression, naive Bayes, a calibrated linear SVM, or the
/// best of them by cross-validation (`model="auto"`). Keyword arguments are the fields of the
/// core `ClassifierConfig` (`model`, `tfidf`, `c`, `alpha`, `max_iter`, `tol`, `cv_folds`,
/// `calibration_folds`, `holdout`, `seed`, `threshold`, `top_k`, `explain_top`, `novelty_prior`,
/// `novelty_threshold`) plus `verbose` (a progress bar on stderr during `fit`).
#[pyclass(module = "faultlens", name = "TextClassifier", frozen, subclass)]
pub(crate) struct PyTextClassifier {
    inner: Shared<TextClassifier>,
    verbose: Mutex<bool>,
}

/// A list, tuple or 1-D numpy array of `str` (numpy goes through `tolist()`), or an Arrow
/// string column (copied once into Rust strings).
pub(crate) fn str_seq(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<String>> {
    if crate::arrow::is_arrow(obj) {
        let texts = crate::arrow::Texts::extract_named(obj, what)?;
        return texts
            .into_strings()
            .map_err(|f| crate::error::to_pyerr(obj.py(), f));
    }
    if !obj.is_instance_of::<PyString>() {
        let list = if obj.hasattr("tolist")? && obj.hasattr("ndim")? {
            obj.call_method0("tolist")?
        } else {
            obj.clone()
        };
        match list.extract::<Vec<Text>>() {
            Ok(v) => return Ok(v.into_iter().map(String::from).collect()),
            // A list of str holding a lone surrogate: the clear error, not "must be a list".
            Err(e) if !e.is_instance_of::<PyTypeError>(obj.py()) => return Err(e),
            Err(_) => {}
        }
    }
    let type_name = obj
        .get_type()
        .name()
        .map_or_else(|_| "?".to_owned(), |n| n.to_string());
    Err(PyTypeError::new_err(format!(
        "`{what}` must be a list or 1-D array of str, got `{type_name}`"
    )))
}

impl PyTextClassifier {
    fn wrap(c: TextClassifier) -> Self {
        Self {
            inner: Shared::new(c, WHAT),
            verbose: Mutex::new(false),
        }
    }

    pub(crate) fn read(&self) -> Result<ReadGuard<'_, TextClassifier>, Failure> {
        self.inner.read()
    }

    pub(crate) fn write(&self) -> Result<WriteGuard<'_, TextClassifier>, Failure> {
        self.inner.write()
    }

    fn read_unlocked<T: Send>(
        &self,
        py: Python<'_>,
        f: impl Send + FnOnce(&TextClassifier) -> Result<T, Failure>,
    ) -> PyResult<T> {
        run_unlocked(py, || f(&*self.read()?))
    }

    /// Cheap read: with the GIL held, unless a `fit` holds the lock (then wait without the GIL).
    fn read_quick<T: Send>(
        &self,
        py: Python<'_>,
        f: impl Send + FnOnce(&TextClassifier) -> Result<T, Failure>,
    ) -> PyResult<T> {
        attached(py, self.read().and_then(|guard| f(&guard)))
    }

    fn is_verbose(&self) -> bool {
        self.verbose.lock().map(|v| *v).unwrap_or(false)
    }

    fn config_value(&self, py: Python<'_>) -> PyResult<Map<String, Value>> {
        let config = self.read_quick(py, |c| Ok(c.config().clone()))?;
        match serde_json::to_value(config) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Ok(Map::new()),
        }
    }
}

/// Reports progress to a Python callable and/or a text bar on stderr, from a thread that does
/// not hold the GIL. The first exception raised by the callable is kept and re-raised after `fit`.
struct PyProgress {
    callback: Option<Py<PyAny>>,
    bar: bool,
    error: Option<PyErr>,
    last_stage: String,
}

impl PyProgress {
    fn report(&mut self, stage: &str, done: usize, total: usize) {
        Python::attach(|py| {
            if let Some(cb) = &self.callback
                && self.error.is_none()
                && let Err(e) = cb.call1(py, (stage, done, total))
            {
                self.error = Some(e);
            }
            if self.bar {
                let width = 30;
                let filled = (done * width)
                    .checked_div(total)
                    .unwrap_or(width)
                    .min(width);
                let line = format!(
                    "\r{stage:>10} [{}{}] {done}/{total}",
                    "#".repeat(filled),
                    "-".repeat(width - filled)
                );
                let newline = if self.last_stage != stage && !self.last_stage.is_empty() {
                    "\n"
                } else {
                    ""
                };
                if let Ok(sys) = py.import("sys")
                    && let Ok(err) = sys.getattr("stderr")
                {
                    let _ = err.call_method1("write", (format!("{newline}{line}"),));
                    let _ = err.call_method0("flush");
                }
                self.last_stage = stage.to_owned();
            }
        });
    }

    fn finish(self, py: Python<'_>) -> PyResult<()> {
        if self.bar
            && !self.last_stage.is_empty()
            && let Ok(err) = py.import("sys").and_then(|s| s.getattr("stderr"))
        {
            let _ = err.call_method1("write", ("\n",));
        }
        match self.error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

fn new_config(
    kwargs: Option<&Bound<'_, PyDict>>,
    base: Option<Map<String, Value>>,
) -> Result<(ClassifierConfig, Option<bool>), Failure> {
    let mut m = base.unwrap_or_default();
    let mut verbose = None;
    for (k, v) in kwargs_to_json(kwargs, |_, v| v)? {
        if k == "verbose" {
            verbose = Some(v.as_bool().ok_or_else(|| {
                Failure::invalid_config("invalid config `verbose`: expected a bool".into())
            })?);
        } else {
            m.insert(k, v);
        }
    }
    Ok((decode_config(m)?, verbose))
}

impl models::PyArtifact for PyTextClassifier {
    type Core = TextClassifier;
    fn wrap(core: TextClassifier) -> Self {
        Self::wrap(core)
    }
    fn core(&self) -> Result<impl std::ops::Deref<Target = TextClassifier> + '_, Failure> {
        self.inner.read()
    }
}
#[pymethods]
impl PyTextClassifier {
    #[new]
    #[pyo3(signature = (**kwargs))]
    fn new(py: Python<'_>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let (config, verbose) = attached(py, new_config(kwargs, None))?;
        let inner = attached(py, TextClassifier::new(config).map_err(Into::into))?;
        let s = Self::wrap(inner);
        if let Some(v) = verbose
            && let Ok(mut g) = s.verbose.lock()
        {
            *g = v;
        }
        Ok(s)
    }

    /// Trains on texts `X` with string labels `y`; returns `self`. `progress(stage, done, total)`
    /// is called during training; `verbose=True` also draws a bar on stderr. GIL released.
    #[pyo3(signature = (X, y, progress = None))]
    #[allow(non_snake_case)]
    fn fit<'py>(
        slf: &Bound<'py, Self>,
        X: &Bound<'py, PyAny>,
        y: &Bound<'py, PyAny>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, Self>> {
        let py = slf.py();
        let texts = str_seq(X, "X")?;
        let labels = str_seq(y, "y")?;
        let this = slf.get();
        let mut reporter = PyProgress {
            callback: progress,
            bar: this.is_verbose(),
            error: None,
            last_stage: String::new(),
        };
        let wants = reporter.callback.is_some() || reporter.bar;
        // Fit a copy, then swap it in: readers are never blocked behind a long fit.
        let result = run_unlocked(py, || {
            let mut fresh = this.read()?.clone();
            let mut cb = |s: &str, d: usize, t: usize| reporter.report(s, d, t);
            let progress: Option<faultlens::classify::Progress<'_>> =
                if wants { Some(&mut cb) } else { None };
            fresh.fit_with_progress(&texts, &labels, progress)?;
            *this.write()? = fresh;
            Ok(())
        });
        reporter.finish(py)?;
        result?;
        Ok(slf.clone())
    }

    /// Learns more labelled texts without retraining (naive Bayes; unfitted, it is `fit`).
    #[pyo3(signature = (X, y))]
    #[allow(non_snake_case)]
    fn partial_fit<'py>(
        slf: &Bound<'py, Self>,
        X: &Bound<'py, PyAny>,
        y: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, Self>> {
        let texts = str_seq(X, "X")?;
        let labels = str_seq(y, "y")?;
        let this = slf.get();
        run_unlocked(slf.py(), || {
            this.write()?.partial_fit(&texts, &labels)?;
            Ok(())
        })?;
        Ok(slf.clone())
    }

    /// The most probable label per text, as a numpy array of str (dtype object).
    #[allow(non_snake_case)]
    fn predict<'py>(
        &self,
        py: Python<'py>,
        X: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray1<Py<PyAny>>>> {
        let texts = str_seq(X, "X")?;
        let labels = self.read_unlocked(py, |c| Ok(c.predict(&texts)?))?;
        let objects: Vec<Py<PyAny>> = labels
            .iter()
            .map(|l| PyString::new(py, l).into_any().unbind())
            .collect();
        Ok(PyArray1::from_vec(py, objects))
    }

    /// Probabilities, shape `(n_texts, n_classes)`, columns in `classes_` order.
    #[allow(non_snake_case)]
    fn predict_proba<'py>(
        &self,
        py: Python<'py>,
        X: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let texts = str_seq(X, "X")?;
        let (flat, n, k) = self.read_unlocked(py, |c| {
            let k = c.classes()?.len();
            Ok((c.predict_proba_flat(&texts)?, texts.len(), k))
        })?;
        Ok(flat.into_pyarray(py).reshape([n, k])?.into_any())
    }

    /// One text: `{"label", "confidence", "reliable", "novelty", "novel", "alternatives":
    /// [(label, p)], "explanation": [(ngram, weight)]}`. `confidence` is the probability that
    /// `label` is right, low for inputs unlike the training data; `novel` flags those.
    fn predict_one<'py>(&self, py: Python<'py>, text: Text) -> PyResult<Bound<'py, PyAny>> {
        let p = run_sized(py, text.len(), || Ok(self.read()?.predict_one(&text)?))?;
        prediction_to_py(py, &p)
    }

    /// Accuracy on labelled texts.
    #[pyo3(signature = (X, y, sample_weight = None))]
    #[allow(non_snake_case)]
    fn score(
        &self,
        py: Python<'_>,
        X: &Bound<'_, PyAny>,
        y: &Bound<'_, PyAny>,
        sample_weight: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<f64> {
        if sample_weight.is_some_and(|w| !w.is_none()) {
            return Err(PyTypeError::new_err("sample_weight is not supported"));
        }
        let texts = str_seq(X, "X")?;
        let labels = str_seq(y, "y")?;
        self.read_unlocked(py, |c| Ok(c.score(&texts, &labels)?))
    }

    /// The labels in `predict_proba` column order.
    fn classes(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        self.read_quick(py, |c| Ok(c.classes()?.to_vec()))
    }

    /// scikit-learn's `classes_`: a numpy array of str (dtype object); `NotFittedError` (an
    /// `AttributeError`) before fit.
    #[getter]
    fn classes_<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<Py<PyAny>>>> {
        let classes = self.classes(py)?;
        let objects: Vec<Py<PyAny>> = classes
            .iter()
            .map(|l| PyString::new(py, l).into_any().unbind())
            .collect();
        Ok(PyArray1::from_vec(py, objects))
    }

    /// Whether `fit` has run.
    fn is_fitted(&self, py: Python<'_>) -> PyResult<bool> {
        self.read_quick(py, |c| Ok(c.is_fitted()))
    }

    /// The model that was trained (`"auto"` resolved to the winner).
    fn model(&self, py: Python<'_>) -> PyResult<String> {
        self.read_quick(py, |c| Ok(c.model()?.name().to_owned()))
    }

    /// Training metadata as a dict (time, sample counts, options, cross-validation scores, ...).
    fn training_info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let info = self.read_quick(py, |c| Ok(c.training_info()?.clone()))?;
        to_py(py, &info)
    }

    /// Top-class probabilities on held-out data at training time (a drift baseline), float64.
    fn baseline_confidences<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let v = self.read_quick(py, |c| Ok(c.baseline_confidences()))?;
        Ok(v.into_pyarray(py))
    }

    /// Prediction counters as a dict: `predictions` (every predicted row), `novel` and
    /// `unreliable` (rows `predict_one` scored so), `confidence` (histogram of those rows).
    fn metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let m = self.read_quick(py, |c| Ok(c.metrics()))?;
        to_py(py, &m)
    }

    /// The same counters in the Prometheus text exposition format (the families of
    /// `faultlens.prometheus`, without its `name` label).
    fn metrics_prometheus(&self, py: Python<'_>) -> PyResult<String> {
        self.read_quick(py, |c| Ok(c.metrics_prometheus()))
    }

    /// Sets the prediction counters back to zero.
    fn reset_metrics(&self, py: Python<'_>) -> PyResult<()> {
        self.read_quick(py, |c| {
            c.reset_metrics();
            Ok(())
        })
    }

    /// The configuration as a dict (`TextClassifier(**c.config())` rebuilds it unfitted).
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let config = self.read_quick(py, |c| Ok(c.config().clone()))?;
        to_py(py, &config)
    }

    /// scikit-learn's `get_params`: the configuration plus `verbose`. `deep` is ignored.
    #[pyo3(signature = (deep = true))]
    fn get_params<'py>(&self, py: Python<'py>, deep: bool) -> PyResult<Bound<'py, PyAny>> {
        let _ = deep;
        let mut m = self.config_value(py)?;
        m.insert("verbose".into(), Value::Bool(self.is_verbose()));
        crate::convert::json_to_py(py, &Value::Object(m))
    }

    /// scikit-learn's `set_params`: changes options (validated); a fitted model keeps predicting
    /// as trained, `threshold`/`top_k`/`explain_top`/`novelty_threshold` apply at once, the rest
    /// at the next `fit`.
    #[pyo3(signature = (**params))]
    fn set_params<'py>(
        slf: &Bound<'py, Self>,
        params: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, Self>> {
        let py = slf.py();
        let this = slf.get();
        let base = this.config_value(py)?;
        let (config, verbose) = attached(py, new_config(params, Some(base)))?;
        attached(py, this.write().and_then(|mut c| Ok(c.set_config(config)?)))?;
        if let (Some(v), Ok(mut g)) = (verbose, this.verbose.lock()) {
            *g = v;
        }
        Ok(slf.clone())
    }

    /// The model file as bytes.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        models::to_bytes(py, self)
    }

    /// Rebuilds a classifier from `to_bytes()` output (or a file's content).
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
        let config = self.read_quick(py, |c| Ok(c.config().clone()))?;
        repr_config(py, "TextClassifier", &config, &ClassifierConfig::default())
    }
}

fn prediction_to_py<'py>(
    py: Python<'py>,
    p: &faultlens::Prediction,
) -> PyResult<Bound<'py, PyAny>> {
    let d = PyDict::new(py);
    d.set_item("label", &p.label)?;
    d.set_item("confidence", p.confidence)?;
    d.set_item("reliable", p.reliable)?;
    d.set_item("novelty", p.novelty)?;
    d.set_item("novel", p.novel)?;
    d.set_item("alternatives", p.alternatives.clone())?;
    d.set_item("explanation", p.explanation.clone())?;
    Ok(d.into_any())
}

/// A serialisable report as a dict, plus its readable text under `"text"`.
fn report_to_py<'py, T: serde::Serialize + std::fmt::Display>(
    py: Python<'py>,
    r: &T,
) -> PyResult<Bound<'py, PyAny>> {
    let obj = to_py(py, r)?;
    obj.set_item("text", r.to_string())?;
    Ok(obj)
}

/// Evaluates a fitted classifier on labelled texts: a dict with `accuracy`, `per_class`
/// (precision/recall/f1/support), `macro_f1`, `weighted_f1`, `confusion`, `labels` and `text`.
#[pyfunction]
pub(crate) fn evaluate<'py>(
    py: Python<'py>,
    model: &Bound<'py, PyTextClassifier>,
    texts: &Bound<'py, PyAny>,
    labels: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let texts = str_seq(texts, "texts")?;
    let labels = str_seq(labels, "labels")?;
    let m = model.get();
    let r = run_unlocked(py, || {
        Ok(faultlens::evaluate(&*m.read()?, &texts, &labels)?)
    })?;
    report_to_py(py, &r)
}

/// Evaluates models `a` and `b` on the same labelled texts: both reports, the differences,
/// McNemar's p-value, `significant`, `better` (`"a"`, `"b"` or `"tie"`) and `text`.
#[pyfunction]
pub(crate) fn compare<'py>(
    py: Python<'py>,
    a: &Bound<'py, PyTextClassifier>,
    b: &Bound<'py, PyTextClassifier>,
    texts: &Bound<'py, PyAny>,
    labels: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let texts = str_seq(texts, "texts")?;
    let labels = str_seq(labels, "labels")?;
    let (a, b) = (a.get(), b.get());
    let r = run_unlocked(py, || {
        Ok(faultlens::compare(
            &*a.read()?,
            &*b.read()?,
            &texts,
            &labels,
        )?)
    })?;
    report_to_py(py, &r)
}
