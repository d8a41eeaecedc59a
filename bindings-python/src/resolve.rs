//! `faultlens.Resolver` over `faultlens::resolve::Resolver`: the rules → similar past errors →
//! classifier cascade, feedback and Prometheus metrics.
//!
//! The core resolver is `Sync` and resolves through `&self`; only replacing the rules (and the
//! classifier) needs `&mut`, so it sits in an `RwLock` that resolves share. Batch calls, file
//! loading and serialisation run with the GIL released; a single `resolve` of a short text keeps
//! it (microseconds).

use std::borrow::Cow;
use std::path::PathBuf;

use faultlens::resolve::{
    LabelScore, Mode, Resolution, Resolver, ResolverConfig, Rule, Rules, SimilarError,
};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString, PyType};

use crate::classify::PyTextClassifier;
use crate::convert::{Text, decode_config, kwargs_to_json, repr_config, to_py};
use crate::error::{Failure, attached, run_sized, run_unlocked};
use crate::index::{Matrix, PyTextIndex};
use crate::lock::{ReadGuard, Shared, WriteGuard};
use crate::models;

const WHAT: &str = "Resolver";

/// A similar past error found by the similarity stage.
#[pyclass(module = "faultlens", name = "SimilarError", frozen, get_all)]
pub(crate) struct PySimilarError {
    id: u64,
    error: String,
    solution: String,
    similarity: f64,
}

/// A classifier label and its probability.
#[pyclass(module = "faultlens", name = "LabelScore", frozen, get_all)]
pub(crate) struct PyLabelScore {
    label: String,
    probability: f64,
}

/// The answer to one `resolve` call: `solution` (or None), `confidence` (the probability that it
/// is right), `method` (`exact_match`, `similarity_match`, `ml_prediction`, `no_match`),
/// `reliable` (false: the resolver abstains, `solution` is only the best candidate), `novelty`,
/// `novel` (unlike anything known: route it to a person), `rule`, the candidates (`similar`,
/// `predictions`) and `elapsed_us`.
#[pyclass(module = "faultlens", name = "Resolution", frozen)]
pub(crate) struct PyResolution {
    #[pyo3(get)]
    solution: Option<String>,
    #[pyo3(get)]
    confidence: f64,
    #[pyo3(get)]
    method: &'static str,
    #[pyo3(get)]
    reliable: bool,
    #[pyo3(get)]
    novelty: f64,
    #[pyo3(get)]
    novel: bool,
    #[pyo3(get)]
    rule: Option<String>,
    #[pyo3(get)]
    similar: Vec<Py<PySimilarError>>,
    #[pyo3(get)]
    predictions: Vec<Py<PyLabelScore>>,
    #[pyo3(get)]
    elapsed_us: u64,
    /// Kept for `to_dict()`.
    raw: Resolution,
}

impl PyResolution {
    fn build(py: Python<'_>, r: Resolution) -> PyResult<Self> {
        let similar = r
            .similar
            .iter()
            .map(|s: &SimilarError| {
                Py::new(
                    py,
                    PySimilarError {
                        id: s.id,
                        error: s.error.clone(),
                        solution: s.solution.clone(),
                        similarity: s.similarity,
                    },
                )
            })
            .collect::<PyResult<_>>()?;
        let predictions = r
            .predictions
            .iter()
            .map(|p: &LabelScore| {
                Py::new(
                    py,
                    PyLabelScore {
                        label: p.label.clone(),
                        probability: p.probability,
                    },
                )
            })
            .collect::<PyResult<_>>()?;
        Ok(PyResolution {
            solution: r.solution.clone(),
            confidence: r.confidence,
            method: r.method.as_str(),
            reliable: r.reliable,
            novelty: r.novelty,
            novel: r.novel,
            rule: r.rule.clone(),
            similar,
            predictions,
            elapsed_us: r.elapsed_us,
            raw: r,
        })
    }
}

#[pymethods]
impl PyResolution {
    /// The resolution as a plain dict (JSON-ready).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.raw)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let solution = match &self.solution {
            Some(s) => py_str(py, s)?,
            None => "None".to_owned(),
        };
        Ok(format!(
            "Resolution(solution={solution}, confidence={:.3}, method='{}', reliable={}, \
             novelty={:.3}, novel={})",
            self.confidence,
            self.method,
            py_bool(self.reliable),
            self.novelty,
            py_bool(self.novel)
        ))
    }
}

/// A bool as Python spells it, for reprs.
/// `s` as Python writes a `str` literal (`'a'`, with Python's escapes).
pub(crate) fn py_str(py: Python<'_>, s: &str) -> PyResult<String> {
    Ok(PyString::new(py, s).repr()?.to_string())
}

fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

#[pymethods]
impl PySimilarError {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "SimilarError(id={}, similarity={:.3}, solution={})",
            self.id,
            self.similarity,
            py_str(py, &self.solution)?
        ))
    }
}

#[pymethods]
impl PyLabelScore {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "LabelScore(label={}, probability={:.3})",
            py_str(py, &self.label)?,
            self.probability
        ))
    }
}

/// The rules → similarity → classifier cascade. Keyword arguments are the fields of the core
/// `ResolverConfig`: `exact_threshold`, `similarity_threshold`, `classifier_threshold`, `top_k`,
/// `learn_from_feedback`, `max_text_bytes`, `max_outcomes`, `knowledge_vectorizer`,
/// `novelty_threshold`.
#[pyclass(module = "faultlens", name = "Resolver", frozen)]
pub(crate) struct PyResolver {
    inner: Shared<Resolver>,
}

impl PyResolver {
    fn read(&self) -> Result<ReadGuard<'_, Resolver>, Failure> {
        self.inner.read()
    }

    fn write(&self) -> Result<WriteGuard<'_, Resolver>, Failure> {
        self.inner.write()
    }

    fn unlocked<T: Send>(
        &self,
        py: Python<'_>,
        f: impl Send + FnOnce(&Resolver) -> Result<T, Failure>,
    ) -> PyResult<T> {
        run_unlocked(py, || f(&*self.read()?))
    }
}

/// `{"name", "pattern", "solution"}` dicts (name optional) → core rules, not yet compiled
/// (compiling takes seconds for thousands of rules: callers do it with the GIL released).
fn rules_from_py(rules: &Bound<'_, PyAny>) -> Result<Vec<Rule>, Failure> {
    let value = crate::convert::py_to_json(rules).map_err(Failure::invalid_config)?;
    let list: Vec<Rule> = serde_json::from_value(value).map_err(|e| {
        Failure::from(faultlens::Error::InvalidInput(format!(
            "rules must be a list of {{\"name\", \"pattern\", \"solution\"}} dicts: {e}"
        )))
    })?;
    Ok(list)
}

impl models::PyArtifact for PyResolver {
    type Core = Resolver;
    fn wrap(core: Resolver) -> Self {
        Self {
            inner: Shared::new(core, WHAT),
        }
    }
    fn core(&self) -> Result<impl std::ops::Deref<Target = Resolver> + '_, Failure> {
        self.inner.read()
    }
}
#[pymethods]
impl PyResolver {
    #[new]
    #[pyo3(signature = (**kwargs))]
    fn new(py: Python<'_>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let config: ResolverConfig =
            attached(py, kwargs_to_json(kwargs, |_, v| v).and_then(decode_config))?;
        let inner = attached(py, Resolver::new(config).map_err(Into::into))?;
        Ok(PyResolver {
            inner: Shared::new(inner, WHAT),
        })
    }

    /// Replaces the rules with a list of `{"name", "pattern", "solution"}` dicts (first match
    /// wins; patterns are case-insensitive regexes). Returns the number of rules.
    fn set_rules(&self, py: Python<'_>, rules: &Bound<'_, PyAny>) -> PyResult<usize> {
        let rules = attached(py, rules_from_py(rules))?;
        run_unlocked(py, || {
            let rules = Rules::new(rules)?;
            let n = rules.len();
            self.write()?.set_rules(rules);
            Ok(n)
        })
    }

    /// Sets the classifier stage to a copy of a fitted `TextClassifier` (later changes to that
    /// object do not affect the resolver).
    fn set_classifier(
        &self,
        py: Python<'_>,
        classifier: PyRef<'_, PyTextClassifier>,
    ) -> PyResult<()> {
        let classifier: &PyTextClassifier = &classifier;
        run_unlocked(py, || {
            let c = classifier.read()?.clone();
            Ok(self.write()?.set_classifier(c)?)
        })
    }

    /// Sets the classifier stage from a classifier model file (saved in any language).
    fn load_classifier(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        run_unlocked(py, || {
            let c = <faultlens::TextClassifier as faultlens::Artifact>::load(&path)?;
            Ok(self.write()?.set_classifier(c)?)
        })
    }

    /// Replaces the rules with those of a JSON or TOML file (by extension). Returns their number.
    fn load_rules(&self, py: Python<'_>, path: PathBuf) -> PyResult<usize> {
        // Compiled before taking the lock: resolves go on meanwhile with the old rules.
        run_unlocked(py, || {
            let rules = Rules::from_file(&path)?;
            let n = rules.len();
            self.write()?.set_rules(rules);
            Ok(n)
        })
    }

    /// The rules, in order, as `{"name", "pattern", "solution"}` dicts.
    fn rules<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let rules = attached(py, self.read().map(|r| r.rules().rules().to_vec()))?;
        to_py(py, &rules)
    }

    /// Adds past error → solution pairs to the knowledge base. Returns its new size.
    fn add_knowledge(
        &self,
        py: Python<'_>,
        errors: Vec<Text>,
        solutions: Vec<Text>,
    ) -> PyResult<usize> {
        self.unlocked(py, |r| Ok(r.add_knowledge(&errors, &solutions)?))
    }

    /// Makes a copy of a `TextIndex` the similarity stage's knowledge (replacing the built-in
    /// knowledge base); item payloads are the solutions. With external embeddings, resolve with
    /// `resolve_embedded` and add pairs with `add_knowledge_embedded`.
    fn set_knowledge_index(&self, py: Python<'_>, index: PyRef<'_, PyTextIndex>) -> PyResult<()> {
        let ix = index.core();
        run_unlocked(py, || Ok(self.write()?.set_knowledge_index(ix)?))
    }

    /// Whether the knowledge is a `TextIndex` of external embeddings.
    fn knowledge_is_embedded(&self, py: Python<'_>) -> PyResult<bool> {
        attached(py, self.read().map(|r| r.knowledge_is_embedded()))
    }

    /// Adds pairs with your embeddings of the errors (an `(n, dim)` float32 array) to a
    /// knowledge index of external embeddings. Returns the knowledge's new size.
    fn add_knowledge_embedded(
        &self,
        py: Python<'_>,
        errors: Vec<Text>,
        solutions: Vec<Text>,
        embeddings: &Bound<'_, PyAny>,
    ) -> PyResult<usize> {
        let m = Matrix::extract(embeddings)?;
        let values = m.values()?;
        self.unlocked(py, |r| {
            Ok(r.add_knowledge_embedded(&errors, &solutions, values)?)
        })
    }

    /// Adds the `{"error", "solution"}` lines of a JSONL file. A bad line is an error naming it,
    /// unless `skip_invalid`. Returns the number of pairs added.
    #[pyo3(signature = (path, skip_invalid = false))]
    fn load_knowledge(&self, py: Python<'_>, path: PathBuf, skip_invalid: bool) -> PyResult<usize> {
        self.unlocked(py, |r| Ok(r.load_knowledge(&path, skip_invalid)?))
    }

    /// Number of pairs in the knowledge base.
    fn knowledge_size(&self, py: Python<'_>) -> PyResult<usize> {
        attached(py, self.read().map(|r| r.knowledge_size()))
    }

    /// Resolves one error text. `method`: `"auto"` (default), `"rules"`, `"similarity"` or
    /// `"classifier"`.
    #[pyo3(signature = (text, method = "auto"))]
    fn resolve(&self, py: Python<'_>, text: Text, method: &str) -> PyResult<PyResolution> {
        let mode = attached(py, Mode::parse(method).map_err(Into::into))?;
        let r = run_sized(py, text.len(), || Ok(self.read()?.resolve(&text, mode)?))?;
        PyResolution::build(py, r)
    }

    /// Resolves many texts (a list or an Arrow string column) on all cores (GIL released).
    /// Every text is checked first; a bad one is an error naming its index. `output`:
    /// `"objects"` (a list of `Resolution`, default), `"record_batch"` or `"table"` (pyarrow,
    /// columns solution, method, confidence, reliable, novelty, novel).
    #[pyo3(signature = (texts, method = "auto", *, output = None))]
    fn resolve_batch<'py>(
        &self,
        py: Python<'py>,
        texts: crate::arrow::Texts,
        method: &str,
        output: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mode = attached(py, Mode::parse(method).map_err(Into::into))?;
        let output = crate::arrow::Output::parse(py, output)?;
        let rs = self.unlocked(py, |r| Ok(r.resolve_batch(&texts.strs()?, mode)?))?;
        if output != crate::arrow::Output::Objects {
            return crate::arrow::resolutions(py, &rs, output);
        }
        let objects = rs
            .into_iter()
            .map(|r| PyResolution::build(py, r))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(pyo3::types::PyList::new(py, objects)?.into_any())
    }

    /// `resolve` with your embedding of `text` (a 1-D float32 vector), for a knowledge index of
    /// external embeddings.
    #[pyo3(signature = (text, embedding, method = "auto"))]
    fn resolve_embedded(
        &self,
        py: Python<'_>,
        text: Text,
        embedding: &Bound<'_, PyAny>,
        method: &str,
    ) -> PyResult<PyResolution> {
        let mode = attached(py, Mode::parse(method).map_err(Into::into))?;
        let m = Matrix::extract(embedding)?;
        let values = m.values()?;
        let r = run_sized(py, text.len(), || {
            Ok(self.read()?.resolve_embedded(&text, values, mode)?)
        })?;
        PyResolution::build(py, r)
    }

    /// `resolve_batch` with your embeddings of the texts (an `(n, dim)` float32 array).
    #[pyo3(signature = (texts, embeddings, method = "auto"))]
    fn resolve_batch_embedded(
        &self,
        py: Python<'_>,
        texts: Vec<Text>,
        embeddings: &Bound<'_, PyAny>,
        method: &str,
    ) -> PyResult<Vec<PyResolution>> {
        let mode = attached(py, Mode::parse(method).map_err(Into::into))?;
        let m = Matrix::extract(embeddings)?;
        let values = m.values()?;
        let rs = self.unlocked(py, |r| Ok(r.resolve_batch_embedded(&texts, values, mode)?))?;
        rs.into_iter().map(|r| PyResolution::build(py, r)).collect()
    }

    /// Records whether `solution` fixed `text`; successful pairs join the knowledge base when
    /// `learn_from_feedback` is on.
    fn record_outcome(
        &self,
        py: Python<'_>,
        text: Text,
        solution: Text,
        success: bool,
    ) -> PyResult<()> {
        self.unlocked(py, |r| Ok(r.record_outcome(&text, &solution, success)?))
    }

    /// Recorded outcomes, oldest first, as dicts (`text`, `solution`, `success`, `method`,
    /// `matched_id`, `similarity`, `timestamp`; `matched_id` and `similarity` name the past error
    /// a similarity answer came from, None otherwise).
    fn outcomes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let outcomes = attached(py, self.read().map(|r| r.outcomes()))?;
        to_py(py, &outcomes)
    }

    /// Counters and histograms as a dict (`total`, `resolutions`, `unreliable`, `novel`, `errors`,
    /// `outcomes`, `latency_seconds`, `confidence`).
    fn metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let snapshot = attached(py, self.read().map(|r| r.metrics()))?;
        to_py(py, &snapshot)
    }

    /// The metrics in the Prometheus text exposition format, ready to serve at `/metrics`.
    fn metrics_prometheus(&self, py: Python<'_>) -> PyResult<String> {
        attached(py, self.read().map(|r| r.metrics_prometheus()))
    }

    /// The monitoring summary as a dict: `total`, `reliable`, `unreliable`, `novel`, `errors`,
    /// `mean_latency_ms`, `max_latency_ms`, `mean_confidence`, `outcomes`, `success_rate`,
    /// `by_stage` and `by_solution` (each `{success, failure, success_rate}`, stages also
    /// `resolutions`).
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let s = attached(py, self.read().map(|r| r.summary()))?;
        to_py(py, &s)
    }

    /// Sets every counter and histogram back to zero.
    fn reset_metrics(&self, py: Python<'_>) -> PyResult<()> {
        attached(py, self.read().map(|r| r.reset_metrics()))
    }

    /// The configuration as a dict (`Resolver(**r.config())` rebuilds an empty resolver).
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let config = attached(py, self.read().map(|r| r.config().clone()))?;
        to_py(py, &config)
    }

    /// The whole resolver (config, rules, knowledge base, classifier) as model-file bytes.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        models::to_bytes(py, self)
    }

    /// Rebuilds a resolver from `to_bytes()` output (or a file's content).
    #[classmethod]
    fn from_bytes(_cls: &Bound<'_, PyType>, py: Python<'_>, data: Cow<'_, [u8]>) -> PyResult<Self> {
        models::from_bytes(py, data)
    }

    /// Writes the model file atomically: a failed save leaves any previous file as it was.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        models::save(py, self, path)
    }

    /// Reads a resolver file written by `save` (in any language).
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
        let config = attached(py, self.read().map(|r| r.config().clone()))?;
        repr_config(py, "Resolver", &config, &ResolverConfig::default())
    }
}
