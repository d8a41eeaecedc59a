//! `faultlens.Preprocessor` over `faultlens::Preprocessor`.
//!
//! The core preprocessor is immutable once built and `Send + Sync`, so the Python object holds it
//! directly (no lock: there is nothing to write). Single-line calls keep the GIL, since they take
//! microseconds and releasing it would let other threads delay the return, unless the line is
//! huge (64 KiB+); batch calls, bytes and files always release it.

use std::borrow::Cow;
use std::path::PathBuf;

use faultlens::{Preprocessor, PreprocessorConfig, Template};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString, PyType};

use crate::arrow::Texts;
use crate::convert::{Text, decode_config, kwargs_to_json, to_py};
use crate::error::{Failure, attached, run_sized, run_unlocked};
use crate::models;

/// Turns raw log lines into tokens: lowercase, mask variable parts, segment words, stem,
/// drop short tokens and stopwords. Keyword arguments are the fields of the core
/// `PreprocessorConfig`: `lowercase`, `mask`, `masks`, `custom_masks`, `split_identifiers`,
/// `stop_words`, `extra_stop_words`, `stemmer`, `min_token_length`, `korean` (`"rules"`, the
/// default, strips Korean particles and endings; `"none"` keeps Hangul words as written).
#[pyclass(module = "faultlens", name = "Preprocessor", frozen)]
pub(crate) struct PyPreprocessor {
    pub(crate) inner: Preprocessor,
}

/// A masked line and its stable id (16 hex digits), usable as a grouping key.
/// Read it as `t.masked` / `t.id` or `t["masked"]` / `t["id"]`.
#[pyclass(module = "faultlens", name = "Template", frozen, eq, hash, get_all)]
#[derive(PartialEq, Eq, Hash)]
pub(crate) struct PyTemplate {
    masked: String,
    id: String,
}

impl From<Template> for PyTemplate {
    fn from(t: Template) -> Self {
        PyTemplate {
            masked: t.masked,
            id: t.id,
        }
    }
}

#[pymethods]
impl PyTemplate {
    #[new]
    fn new(masked: String, id: String) -> Self {
        PyTemplate { masked, id }
    }

    fn __getitem__(&self, key: &str) -> PyResult<String> {
        match key {
            "masked" => Ok(self.masked.clone()),
            "id" => Ok(self.id.clone()),
            _ => Err(pyo3::exceptions::PyKeyError::new_err(key.to_owned())),
        }
    }

    fn __getnewargs__(&self) -> (String, String) {
        (self.masked.clone(), self.id.clone())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let s = |v: &str| Ok::<_, PyErr>(PyString::new(py, v).repr()?.to_string());
        Ok(format!(
            "Template(masked={}, id={})",
            s(&self.masked)?,
            s(&self.id)?
        ))
    }
}

impl models::PyArtifact for PyPreprocessor {
    type Core = Preprocessor;
    fn wrap(inner: Preprocessor) -> Self {
        Self { inner }
    }
    fn core(&self) -> Result<impl std::ops::Deref<Target = Preprocessor> + '_, Failure> {
        Ok(&self.inner)
    }
}
#[pymethods]
impl PyPreprocessor {
    #[new]
    #[pyo3(signature = (**kwargs))]
    fn new(py: Python<'_>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let config: PreprocessorConfig =
            attached(py, kwargs_to_json(kwargs, |_, v| v).and_then(decode_config))?;
        let inner = attached(py, Preprocessor::new(config).map_err(Into::into))?;
        Ok(PyPreprocessor { inner })
    }

    /// The tokens of `text`, in order.
    fn tokens(&self, py: Python<'_>, text: Text) -> PyResult<Vec<String>> {
        run_sized(py, text.len(), || Ok(self.inner.tokens(&text)))
    }

    /// `tokens` for a list of texts (all cores for 256+ lines, GIL released).
    fn tokens_batch(&self, py: Python<'_>, texts: Vec<Text>) -> PyResult<Vec<Vec<String>>> {
        run_unlocked(py, || Ok(self.inner.tokens_batch(&texts)))
    }

    /// The tokens of `text` joined by one space.
    fn process(&self, py: Python<'_>, text: Text) -> PyResult<String> {
        run_sized(py, text.len(), || Ok(self.inner.process(&text)))
    }

    /// `process` for a list of texts or an Arrow string column (all cores for 256+ lines, GIL released).
    fn process_batch(&self, py: Python<'_>, texts: Texts) -> PyResult<Vec<String>> {
        run_unlocked(py, || Ok(self.inner.process_batch(&texts.strs()?)))
    }

    /// The lowercased, masked line with whitespace collapsed, and its stable id.
    fn template(&self, py: Python<'_>, text: Text) -> PyResult<PyTemplate> {
        run_sized(py, text.len(), || Ok(self.inner.template(&text).into()))
    }

    /// `template` for a list of texts or an Arrow string column (all cores for 256+ lines, GIL released).
    fn template_batch(&self, py: Python<'_>, texts: Texts) -> PyResult<Vec<PyTemplate>> {
        let templates = run_unlocked(py, || Ok(self.inner.template_batch(&texts.strs()?)))?;
        Ok(templates.into_iter().map(PyTemplate::from).collect())
    }

    /// The configuration as a dict (`Preprocessor(**p.config())` rebuilds it).
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, self.inner.config())
    }

    /// The model file as bytes (what `save` writes).
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        models::to_bytes(py, self)
    }

    /// Rebuilds a preprocessor from `to_bytes()` output (or a file's content).
    #[classmethod]
    fn from_bytes(_cls: &Bound<'_, PyType>, py: Python<'_>, data: Cow<'_, [u8]>) -> PyResult<Self> {
        models::from_bytes(py, data)
    }

    /// Writes the model file atomically: a failed save leaves any previous file as it was.
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
        crate::convert::repr_config(
            py,
            "Preprocessor",
            self.inner.config(),
            &PreprocessorConfig::default(),
        )
    }
}
