//! `faultlens.TfidfVectorizer` over `faultlens::TfidfVectorizer`, with scipy CSR output and the
//! scikit-learn aliases `vocabulary_`, `idf_` and `get_feature_names_out()`.
//!
//! The core object lives in an `RwLock` (`fit` writes, everything else reads). Heavy calls take
//! the lock with the GIL released. Cheap reads try the lock with the GIL held and only release
//! the GIL to wait when a `fit` in another thread holds it, so the interpreter never stalls
//! behind a fit.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::PathBuf;

use faultlens::{CsrMatrix, TfidfConfig, TfidfVectorizer};
use numpy::{IntoPyArray, PyArray1};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString, PyType};
use serde_json::Value;

use crate::convert::{Text, decode_config, kwargs_to_json, repr_config, to_py};
use crate::error::{Failure, attached, run_unlocked};
use crate::lock::{ReadGuard, Shared, WriteGuard};
use crate::models;

const WHAT: &str = "TfidfVectorizer";

/// TF-IDF over word n-grams, equal to scikit-learn's `TfidfVectorizer` given the same tokens.
/// Keyword arguments are the fields of the core `TfidfConfig`: `ngram_range`, `min_df`,
/// `max_df` (int = document count, float = fraction), `max_features`, `sublinear_tf`,
/// `norm` (`"l2"`, `"l1"`, `"none"` or `None`), `use_idf`, `smooth_idf`, `preprocessor`
/// (a `Preprocessor`, a dict of its options, or `None` to split on whitespace only).
#[pyclass(module = "faultlens", name = "TfidfVectorizer", frozen, subclass)]
pub(crate) struct PyTfidfVectorizer {
    inner: Shared<TfidfVectorizer>,
}

/// What `fit`/`transform` accept: raw texts or documents already split into tokens.
enum Docs {
    Texts(Vec<Text>),
    Tokens(Vec<Vec<Text>>),
}

impl Docs {
    /// A sequence of `str` is raw texts, a sequence of sequences of `str` is token lists (an
    /// empty sequence counts as texts); anything else is a `TypeError` saying what is expected.
    fn extract(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        if crate::arrow::is_arrow(obj) {
            let texts = crate::arrow::Texts::extract_named(obj, "raw_documents")?
                .into_strings()
                .map_err(|f| crate::error::to_pyerr(obj.py(), f))?;
            return Ok(Docs::Texts(texts.into_iter().map(Text).collect()));
        }
        if !obj.is_instance_of::<PyString>() {
            // A lone surrogate in a str is the clear `InvalidInputError`, not a `TypeError`.
            match obj.extract::<Vec<Text>>() {
                Ok(texts) => return Ok(Docs::Texts(texts)),
                Err(e) if !e.is_instance_of::<PyTypeError>(obj.py()) => return Err(e),
                Err(_) => {}
            }
            match obj.extract::<Vec<Vec<Text>>>() {
                Ok(docs) => return Ok(Docs::Tokens(docs)),
                Err(e) if !e.is_instance_of::<PyTypeError>(obj.py()) => return Err(e),
                Err(_) => {}
            }
        }
        let type_name = obj
            .get_type()
            .name()
            .map_or_else(|_| "?".to_owned(), |n| n.to_string());
        Err(PyTypeError::new_err(format!(
            "expected a list of str (raw texts) or a list of lists of str (token lists), got `{type_name}`"
        )))
    }
}

impl PyTfidfVectorizer {
    pub(crate) fn read(&self) -> Result<ReadGuard<'_, TfidfVectorizer>, Failure> {
        self.inner.read()
    }

    pub(crate) fn write(&self) -> Result<WriteGuard<'_, TfidfVectorizer>, Failure> {
        self.inner.write()
    }

    /// Heavy read (transform, serialisation): lock and work with the GIL released.
    fn read_unlocked<T: Send>(
        &self,
        py: Python<'_>,
        f: impl Send + FnOnce(&TfidfVectorizer) -> Result<T, Failure>,
    ) -> PyResult<T> {
        run_unlocked(py, || f(&*self.read()?))
    }

    /// Write (fit): lock and work with the GIL released.
    fn write_unlocked<T: Send>(
        &self,
        py: Python<'_>,
        f: impl Send + FnOnce(&mut TfidfVectorizer) -> Result<T, Failure>,
    ) -> PyResult<T> {
        run_unlocked(py, || f(&mut *self.write()?))
    }

    /// Cheap read: with the GIL held, unless a writer holds the lock (then wait without the GIL).
    fn read_quick<T: Send>(
        &self,
        py: Python<'_>,
        f: impl Send + FnOnce(&TfidfVectorizer) -> Result<T, Failure>,
    ) -> PyResult<T> {
        attached(py, self.read().and_then(|guard| f(&guard)))
    }
}

/// A core CSR matrix in the index width scipy wants: int32 when every index fits, else int64.
/// Built with the GIL released; the values vector is moved, not copied.
struct Csr {
    shape: (usize, usize),
    data: Vec<f64>,
    index: CsrIndex,
}

enum CsrIndex {
    I32 { indices: Vec<i32>, indptr: Vec<i32> },
    I64 { indices: Vec<i64>, indptr: Vec<i64> },
}

impl From<CsrMatrix> for Csr {
    fn from(m: CsrMatrix) -> Self {
        let fits = |n: usize| i32::try_from(n).is_ok();
        let index = if fits(m.n_cols) && fits(m.nnz()) {
            CsrIndex::I32 {
                indices: m.indices.iter().map(|&i| i as i32).collect(),
                indptr: m.indptr.iter().map(|&i| i as i32).collect(),
            }
        } else {
            CsrIndex::I64 {
                indices: m.indices.iter().map(|&i| i64::from(i)).collect(),
                indptr: m.indptr.iter().map(|&i| i as i64).collect(),
            }
        };
        Csr {
            shape: (m.n_rows, m.n_cols),
            data: m.data,
            index,
        }
    }
}

/// `scipy.sparse.csr_matrix((data, indices, indptr), shape=...)` over numpy arrays that take
/// ownership of the Rust vectors (no copy).
fn to_scipy(py: Python<'_>, m: Csr) -> PyResult<Bound<'_, PyAny>> {
    let data = m.data.into_pyarray(py).into_any();
    let (indices, indptr) = match m.index {
        CsrIndex::I32 { indices, indptr } => (
            indices.into_pyarray(py).into_any(),
            indptr.into_pyarray(py).into_any(),
        ),
        CsrIndex::I64 { indices, indptr } => (
            indices.into_pyarray(py).into_any(),
            indptr.into_pyarray(py).into_any(),
        ),
    };
    let kwargs = PyDict::new(py);
    kwargs.set_item("shape", m.shape)?;
    py.import("scipy.sparse")?
        .getattr("csr_matrix")?
        .call(((data, indices, indptr),), Some(&kwargs))
}

impl models::PyArtifact for PyTfidfVectorizer {
    type Core = TfidfVectorizer;
    fn wrap(core: TfidfVectorizer) -> Self {
        Self {
            inner: Shared::new(core, WHAT),
        }
    }
    fn core(&self) -> Result<impl std::ops::Deref<Target = TfidfVectorizer> + '_, Failure> {
        self.inner.read()
    }
}
#[pymethods]
impl PyTfidfVectorizer {
    #[new]
    #[pyo3(signature = (**kwargs))]
    fn new(py: Python<'_>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        // Python spells "no normalisation" `norm=None`; the core's name for it is "none".
        let python_idioms = |key: &str, v: Value| match (key, v) {
            ("norm", Value::Null) => Value::String("none".into()),
            (_, v) => v,
        };
        let config: TfidfConfig = attached(
            py,
            kwargs_to_json(kwargs, python_idioms).and_then(decode_config),
        )?;
        let inner = attached(py, TfidfVectorizer::new(config).map_err(Into::into))?;
        Ok(PyTfidfVectorizer {
            inner: Shared::new(inner, WHAT),
        })
    }

    /// Learns vocabulary and idf from raw texts (list of str, through the preprocessor) or from
    /// documents already split into tokens (list of list of str). Returns `self`.
    /// `y` is ignored (scikit-learn pipelines pass it).
    #[pyo3(signature = (raw_documents, y = None))]
    fn fit<'py>(
        slf: &Bound<'py, Self>,
        raw_documents: &Bound<'py, PyAny>,
        y: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, Self>> {
        let _ = y;
        let docs = Docs::extract(raw_documents)?;
        slf.get().write_unlocked(slf.py(), |v| {
            match &docs {
                Docs::Texts(t) => v.fit(t)?,
                Docs::Tokens(d) => v.fit_tokens(d)?,
            };
            Ok(())
        })?;
        Ok(slf.clone())
    }

    /// Learns vocabulary and idf from documents already split into tokens. Returns `self`.
    fn fit_tokens<'py>(slf: &Bound<'py, Self>, docs: Vec<Vec<Text>>) -> PyResult<Bound<'py, Self>> {
        slf.get().write_unlocked(slf.py(), |v| {
            v.fit_tokens(&docs)?;
            Ok(())
        })?;
        Ok(slf.clone())
    }

    /// TF-IDF rows as a `scipy.sparse.csr_matrix` of shape `(n_docs, n_features)`, float64.
    fn transform<'py>(
        &self,
        py: Python<'py>,
        raw_documents: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let docs = Docs::extract(raw_documents)?;
        let m = self.read_unlocked(py, |v| {
            Ok(Csr::from(match &docs {
                Docs::Texts(t) => v.transform(t)?,
                Docs::Tokens(d) => v.transform_tokens(d)?,
            }))
        })?;
        to_scipy(py, m)
    }

    /// `transform` for documents already split into tokens.
    fn transform_tokens<'py>(
        &self,
        py: Python<'py>,
        docs: Vec<Vec<Text>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let m = self.read_unlocked(py, |v| Ok(Csr::from(v.transform_tokens(&docs)?)))?;
        to_scipy(py, m)
    }

    /// `fit` then `transform` on the same documents (tokenizes once).
    #[pyo3(signature = (raw_documents, y = None))]
    fn fit_transform<'py>(
        &self,
        py: Python<'py>,
        raw_documents: &Bound<'py, PyAny>,
        y: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let _ = y;
        let docs = Docs::extract(raw_documents)?;
        let m = self.write_unlocked(py, |v| {
            Ok(Csr::from(match &docs {
                Docs::Texts(t) => v.fit_transform(t)?,
                Docs::Tokens(d) => v.fit_transform_tokens(d)?,
            }))
        })?;
        to_scipy(py, m)
    }

    /// `fit_tokens` then `transform_tokens`.
    fn fit_transform_tokens<'py>(
        &self,
        py: Python<'py>,
        docs: Vec<Vec<Text>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let m = self.write_unlocked(py, |v| Ok(Csr::from(v.fit_transform_tokens(&docs)?)))?;
        to_scipy(py, m)
    }

    /// Cosine similarity of two texts in this vectorizer's TF-IDF space.
    fn similarity(&self, py: Python<'_>, a: Text, b: Text) -> PyResult<f64> {
        self.read_quick(py, |v| Ok(v.similarity(&a, &b)?))
    }

    /// Whether `fit` has run.
    fn is_fitted(&self, py: Python<'_>) -> PyResult<bool> {
        self.read_quick(py, |v| Ok(v.is_fitted()))
    }

    /// Number of features (columns of `transform`'s output).
    fn n_features(&self, py: Python<'_>) -> PyResult<usize> {
        self.read_quick(py, |v| Ok(v.n_features()?))
    }

    /// Feature names in column order (an n-gram's tokens joined by one space).
    fn feature_names(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        self.read_quick(py, |v| Ok(v.feature_names()?))
    }

    /// Feature name → column.
    fn vocabulary(&self, py: Python<'_>) -> PyResult<HashMap<String, usize>> {
        self.read_quick(py, |v| Ok(v.vocabulary()?))
    }

    /// Inverse document frequency per column, as a float64 numpy array.
    fn idf<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let idf = self.read_quick(py, |v| Ok(v.idf()?.to_vec()))?;
        Ok(idf.into_pyarray(py))
    }

    /// scikit-learn alias of `vocabulary()`; raises `NotFittedError` (an `AttributeError`)
    /// before fit, so `hasattr(v, "vocabulary_")` is False then.
    #[getter]
    fn vocabulary_(&self, py: Python<'_>) -> PyResult<HashMap<String, usize>> {
        self.vocabulary(py)
    }

    /// scikit-learn alias of `idf()`.
    #[getter]
    fn idf_<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<f64>>> {
        self.idf(py)
    }

    /// scikit-learn alias of `feature_names()`: a numpy array of str (dtype object).
    /// `input_features` is accepted for compatibility and ignored.
    #[pyo3(signature = (input_features = None))]
    fn get_feature_names_out<'py>(
        &self,
        py: Python<'py>,
        input_features: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyArray1<Py<PyAny>>>> {
        let _ = input_features;
        let names = self.feature_names(py)?;
        let objects: Vec<Py<PyAny>> = names
            .iter()
            .map(|n| PyString::new(py, n).into_any().unbind())
            .collect();
        Ok(PyArray1::from_vec(py, objects))
    }

    /// The configuration as a dict (`TfidfVectorizer(**v.config())` rebuilds it unfitted).
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let config = self.read_quick(py, |v| Ok(v.config().clone()))?;
        to_py(py, &config)
    }

    /// The model file as bytes (configuration and, when fitted, vocabulary and idf).
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        models::to_bytes(py, self)
    }

    /// Rebuilds a vectorizer from `to_bytes()` output (or a file's content).
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
        let config = self.read_quick(py, |v| Ok(v.config().clone()))?;
        repr_config(py, "TfidfVectorizer", &config, &TfidfConfig::default())
    }
}
