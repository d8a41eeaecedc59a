//! `faultlens.SimilarityIndex` and `faultlens.TextIndex` over the core types.
//!
//! The core indexes are `Send + Sync` with interior locking (many searches while one add runs),
//! so the Python objects hold them directly, without a binding-side lock. Vectors come in as numpy
//! arrays: a C-contiguous `float32` array is read in place (no copy) while the GIL is released;
//! anything else (float64, lists, strided views) is converted once by `numpy.ascontiguousarray`.
//! Results: hits are `(id, score, payload)` tuples (`(id, score, text, payload)` for texts); the
//! id is the string key for items added under one, the int otherwise.

use std::borrow::Cow;
use std::path::PathBuf;

use faultlens::{
    Filter, Fusion, Hit, IndexConfig, SearchOptions, SimilarityIndex, TextHit, TextIndex,
    TextIndexConfig,
};
use numpy::{
    IntoPyArray, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArrayDyn,
    PyUntypedArrayMethods,
};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyType};

use crate::convert::{Text, decode_config, kwargs_to_json, py_to_json, repr_config, to_py};
use crate::error::{Failure, attached, run_unlocked};
use crate::models;

// pyo3 shows a non-literal default as `...` in `help()`, so the `k = 10` below writes the core's
// default out; this fails to compile if the core's changes.
const _: () = assert!(faultlens::index::DEFAULT_K == 10);

/// A float32 matrix borrowed from numpy: `rows` rows of the array's last-axis width.
pub(crate) struct Matrix<'py> {
    array: PyReadonlyArrayDyn<'py, f32>,
    /// Whether the caller passed one vector (1-D) rather than a batch (2-D).
    pub(crate) single: bool,
}

impl<'py> Matrix<'py> {
    pub(crate) fn extract(obj: &Bound<'py, PyAny>) -> PyResult<Self> {
        let array = match obj.extract::<PyReadonlyArrayDyn<'py, f32>>() {
            Ok(a) if a.is_c_contiguous() => a,
            _ => {
                let np = obj.py().import("numpy")?;
                np.call_method1("ascontiguousarray", (obj, "float32"))?
                    .extract::<PyReadonlyArrayDyn<'py, f32>>()?
            }
        };
        let single = match array.ndim() {
            1 => true,
            2 => false,
            n => {
                return Err(to_failure(
                    obj.py(),
                    format!("expected a 1-D vector or a 2-D array of rows, got {n} dimensions"),
                ));
            }
        };
        Ok(Matrix { array, single })
    }

    /// Row-major values, borrowed from the numpy buffer (contiguous by construction).
    pub(crate) fn values(&self) -> PyResult<&[f32]> {
        self.array
            .as_slice()
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
    }

    fn rows(&self) -> usize {
        if self.single {
            1
        } else {
            self.array.shape()[0]
        }
    }
}

fn to_failure(py: Python<'_>, message: String) -> PyErr {
    crate::error::to_pyerr(py, faultlens::Error::InvalidInput(message).into())
}

/// Ids from a numpy integer array or any sequence of int.
fn extract_ids(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u64>> {
    if let Ok(a) = obj.extract::<PyReadonlyArray1<'_, u64>>() {
        return Ok(a.as_array().to_vec());
    }
    if let Ok(a) = obj.extract::<PyReadonlyArray1<'_, i64>>() {
        return a
            .as_array()
            .iter()
            .map(|&i| {
                u64::try_from(i).map_err(|_| to_failure(obj.py(), format!("id {i} is negative")))
            })
            .collect();
    }
    obj.extract::<Vec<u64>>().map_err(|_| {
        to_failure(
            obj.py(),
            "ids must be a sequence of non-negative int (or a numpy integer array)".into(),
        )
    })
}

/// Ids of an add or remove: ints (as `extract_ids`) or strings (string keys), never mixed.
enum AnyIds {
    Numbers(Vec<u64>),
    Keys(Vec<String>),
}

fn extract_any_ids(obj: &Bound<'_, PyAny>) -> PyResult<AnyIds> {
    if let Ok(keys) = obj.extract::<Vec<String>>()
        && !obj.is_instance_of::<pyo3::types::PyString>()
    {
        return Ok(AnyIds::Keys(keys));
    }
    extract_ids(obj).map(AnyIds::Numbers).map_err(|_| {
        to_failure(
            obj.py(),
            "ids must be a sequence of non-negative int, or of str (string keys), not a mix".into(),
        )
    })
}

/// One id, an int or a string key.
#[derive(FromPyObject)]
enum AnyId {
    Number(u64),
    Key(String),
}

fn search_options(
    py: Python<'_>,
    threshold: Option<f32>,
    ef: Option<usize>,
    filter: Option<&Bound<'_, PyAny>>,
    exact: bool,
) -> PyResult<SearchOptions> {
    let filter = match filter {
        None => None,
        Some(f) if f.is_none() => None,
        Some(f) => {
            let json = py_to_json(f).map_err(|e| to_failure(py, format!("filter: {e}")))?;
            Some(serde_json::from_value::<Filter>(json).map_err(|e| {
                to_failure(
                    py,
                    format!(
                        "filter: {e}; expected a dict with \"type\" one of ids, keys, payload, \
                         payload_in, range, and (see docs/index.md)"
                    ),
                )
            })?)
        }
    };
    Ok(SearchOptions {
        threshold,
        ef,
        filter,
        exact,
    })
}

type PyHit = (PyId, f32, Option<String>);
type PyTextHit = (u64, f32, String, Option<String>);

/// A hit's id as Python sees it: the string key when it has one, else the int.
#[derive(IntoPyObject)]
enum PyId {
    Number(u64),
    Key(String),
}

fn hits(h: Vec<Hit>) -> Vec<PyHit> {
    h.into_iter()
        .map(|h| {
            let id = match h.key {
                Some(k) => PyId::Key(k),
                None => PyId::Number(h.id),
            };
            (id, h.score, h.payload)
        })
        .collect()
}

fn fusion_arg(py: Python<'_>, fusion: Option<&Bound<'_, PyAny>>) -> PyResult<Fusion> {
    match fusion {
        None => Ok(Fusion::default()),
        Some(f) if f.is_none() => Ok(Fusion::default()),
        Some(f) => {
            let json = py_to_json(f).map_err(|e| to_failure(py, format!("fusion: {e}")))?;
            serde_json::from_value::<Fusion>(json).map_err(|e| {
                to_failure(
                    py,
                    format!(
                        "fusion: {e}; expected {{\"type\": \"rrf\", \"k\": 60}} or \
                         {{\"type\": \"weighted\", \"text_weight\": 0.5}}"
                    ),
                )
            })
        }
    }
}

fn text_hits(h: Vec<TextHit>) -> Vec<PyTextHit> {
    h.into_iter()
        .map(|h| (h.id, h.score, h.text, h.payload))
        .collect()
}

/// Nearest-neighbour index over float32 vectors (HNSW, exact below `exact_below` vectors).
/// Keyword arguments are the fields of the core `IndexConfig`: `dim` (required), `metric`
/// (`"cosine"`, `"dot"`, `"l2"`), `m`, `ef_construction`, `ef_search`, `exact_below`,
/// `max_items` (a cap on stored ids; `None`, the default, for none).
#[pyclass(module = "faultlens", name = "SimilarityIndex", frozen)]
pub(crate) struct PySimilarityIndex {
    inner: SimilarityIndex,
}

impl models::PyArtifact for PySimilarityIndex {
    type Core = SimilarityIndex;
    fn wrap(inner: SimilarityIndex) -> Self {
        Self { inner }
    }
    fn core(&self) -> Result<impl std::ops::Deref<Target = SimilarityIndex> + '_, Failure> {
        Ok(&self.inner)
    }
}
#[pymethods]
impl PySimilarityIndex {
    #[new]
    #[pyo3(signature = (**kwargs))]
    fn new(py: Python<'_>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let config: IndexConfig =
            attached(py, kwargs_to_json(kwargs, |_, v| v).and_then(decode_config))?;
        let inner = attached(py, SimilarityIndex::new(config).map_err(Into::into))?;
        Ok(PySimilarityIndex { inner })
    }

    /// Adds vectors (`(n, dim)` float32 array, or one `(dim,)` vector) under `ids`: n ints, or
    /// n strings (any strings, stored as string keys and returned as such by searches), with
    /// optional payload strings. All or nothing: a bad row or id changes nothing.
    #[pyo3(signature = (ids, vectors, payloads = None))]
    fn add(
        &self,
        py: Python<'_>,
        ids: &Bound<'_, PyAny>,
        vectors: &Bound<'_, PyAny>,
        payloads: Option<Vec<Option<String>>>,
    ) -> PyResult<()> {
        let ids = extract_any_ids(ids)?;
        let m = Matrix::extract(vectors)?;
        let values = m.values()?;
        run_unlocked(py, || {
            match &ids {
                AnyIds::Numbers(ids) => self.inner.add(ids, values, payloads)?,
                AnyIds::Keys(keys) => self.inner.add_keyed(keys, values, payloads)?,
            }
            Ok(())
        })
    }

    /// The `k` nearest ids of each query row, best first, as `(id, score, payload)` tuples: a list
    /// for one vector, a list of lists for a 2-D array. `threshold` keeps scores >= it (cosine,
    /// dot) or distances <= it (l2); `filter` is `{"type": "ids", "ids": [...]}` or
    /// `{"type": "payload", "field": ..., "value": ...}`; `exact=True` scans every vector.
    #[pyo3(signature = (vectors, k = 10, threshold = None, ef = None, filter = None, exact = false))]
    #[allow(clippy::too_many_arguments)]
    fn search<'py>(
        &self,
        py: Python<'py>,
        vectors: &Bound<'py, PyAny>,
        k: usize,
        threshold: Option<f32>,
        ef: Option<usize>,
        filter: Option<&Bound<'py, PyAny>>,
        exact: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let opts = search_options(py, threshold, ef, filter, exact)?;
        let m = Matrix::extract(vectors)?;
        let values = m.values()?;
        let found = run_unlocked(py, || Ok(self.inner.search(values, k, &opts)?))?;
        let mut rows: Vec<Vec<PyHit>> = found.into_iter().map(hits).collect();
        if m.single {
            Ok(rows.pop().unwrap_or_default().into_pyobject(py)?.into_any())
        } else {
            Ok(rows.into_pyobject(py)?.into_any())
        }
    }

    /// Every id within `threshold` of one vector, best first, as `(id, score, payload)` tuples.
    #[pyo3(signature = (vector, threshold, filter = None, exact = false))]
    fn range_search(
        &self,
        py: Python<'_>,
        vector: &Bound<'_, PyAny>,
        threshold: f32,
        filter: Option<&Bound<'_, PyAny>>,
        exact: bool,
    ) -> PyResult<Vec<PyHit>> {
        let opts = search_options(py, None, None, filter, exact)?;
        let m = Matrix::extract(vector)?;
        if m.rows() != 1 {
            return Err(to_failure(py, "range_search takes one vector".into()));
        }
        let values = m.values()?;
        Ok(hits(run_unlocked(py, || {
            Ok(self.inner.range_search(values, threshold, &opts)?)
        })?))
    }

    /// Removes ids, ints or string keys (all or nothing: an unknown id raises and removes none).
    fn remove(&self, py: Python<'_>, ids: &Bound<'_, PyAny>) -> PyResult<()> {
        let ids = extract_any_ids(ids)?;
        run_unlocked(py, || {
            match &ids {
                AnyIds::Numbers(ids) => self.inner.remove(ids)?,
                AnyIds::Keys(keys) => self.inner.remove_keyed(keys)?,
            }
            Ok(())
        })
    }

    /// Drops removed vectors and rebuilds the graph.
    fn compact(&self, py: Python<'_>) -> PyResult<()> {
        run_unlocked(py, || Ok(self.inner.compact()?))
    }

    /// `(vector, payload)` of `id`, an int or a string key (vector as float32 numpy, unit
    /// length under cosine), or None.
    fn get<'py>(
        &self,
        py: Python<'py>,
        id: AnyId,
    ) -> PyResult<Option<(Bound<'py, PyAny>, Option<String>)>> {
        let entry = match &id {
            AnyId::Number(id) => self.inner.get(*id),
            AnyId::Key(key) => self.inner.get_keyed(key),
        };
        Ok(entry.map(|e| (e.vector.into_pyarray(py).into_any(), e.payload)))
    }

    /// All stored string keys (no particular order).
    fn keys(&self) -> Vec<String> {
        self.inner.keys()
    }

    /// Recall@10 the default search is estimated to reach (1.0 while searches scan exactly;
    /// None when `target_recall` is None and a graph is searched).
    fn estimated_recall(&self) -> Option<f32> {
        self.inner.estimated_recall()
    }

    /// The `ef` searches use when they pass none (tuned for `target_recall`; 0 while exact).
    fn effective_ef(&self) -> usize {
        self.inner.effective_ef()
    }

    /// Number of ids stored.
    fn len(&self) -> usize {
        self.inner.len()
    }

    /// Counters as a dict: `searches` (query rows), `added`, `removed` (items).
    fn metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.metrics())
    }

    /// Size, counters (and for a SimilarityIndex the estimated recall and search breadth) in the
    /// Prometheus text exposition format (the families of `faultlens.prometheus`, without its
    /// `name` label).
    fn metrics_prometheus(&self) -> String {
        self.inner.metrics_prometheus()
    }

    /// Sets the counters back to zero.
    fn reset_metrics(&self) {
        self.inner.reset_metrics();
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// Whether `id` is stored.
    fn contains(&self, id: AnyId) -> bool {
        match &id {
            AnyId::Number(id) => self.inner.contains(*id),
            AnyId::Key(key) => self.inner.contains_key(key),
        }
    }

    fn __contains__(&self, id: AnyId) -> bool {
        self.contains(id)
    }

    /// All stored ids (no particular order).
    fn ids(&self) -> Vec<u64> {
        self.inner.ids()
    }

    /// Number of distinct vectors (identical vectors share one graph node).
    fn n_vectors(&self) -> usize {
        self.inner.n_vectors()
    }

    /// The configuration as a dict.
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, self.inner.config())
    }

    /// The model file as bytes.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        models::to_bytes(py, self)
    }

    /// Rebuilds an index from `to_bytes()` output (the graph is rebuilt).
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
        let r = repr_config(
            py,
            "SimilarityIndex",
            self.inner.config(),
            &IndexConfig::default(),
        )?;
        Ok(format!("{r} with {} ids", self.inner.len()))
    }
}

/// (error text, solution) pairs searched by text. Keyword arguments are the fields of the core
/// `TextIndexConfig`: `embedding` (`{"type": "tfidf", "tfidf": {...}, "dim": 512}`,
/// `{"type": "external", "dim": n}` for your own embeddings, or `{"type": "hybrid",
/// "embedding_dim": n}` for both) and `index` (SimilarityIndex options).
#[pyclass(module = "faultlens", name = "TextIndex", frozen)]
pub(crate) struct PyTextIndex {
    inner: TextIndex,
}

impl models::PyArtifact for PyTextIndex {
    type Core = TextIndex;
    fn wrap(inner: TextIndex) -> Self {
        Self { inner }
    }
    fn core(&self) -> Result<impl std::ops::Deref<Target = TextIndex> + '_, Failure> {
        Ok(&self.inner)
    }
}
#[pymethods]
impl PyTextIndex {
    #[new]
    #[pyo3(signature = (**kwargs))]
    fn new(py: Python<'_>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let config: TextIndexConfig =
            attached(py, kwargs_to_json(kwargs, |_, v| v).and_then(decode_config))?;
        let inner = attached(py, TextIndex::new(config).map_err(Into::into))?;
        Ok(PyTextIndex { inner })
    }

    /// Adds texts with optional payloads (e.g. solutions); returns their new ids.
    #[pyo3(signature = (texts, payloads = None))]
    fn add(
        &self,
        py: Python<'_>,
        texts: Vec<Text>,
        payloads: Option<Vec<Option<String>>>,
    ) -> PyResult<Vec<u64>> {
        run_unlocked(py, || Ok(self.inner.add(&texts, payloads)?))
    }

    /// Adds texts with your own embeddings (`(n, dim)` float32 array); returns their new ids.
    #[pyo3(signature = (texts, vectors, payloads = None))]
    fn add_embedded(
        &self,
        py: Python<'_>,
        texts: Vec<Text>,
        vectors: &Bound<'_, PyAny>,
        payloads: Option<Vec<Option<String>>>,
    ) -> PyResult<Vec<u64>> {
        let m = Matrix::extract(vectors)?;
        let values = m.values()?;
        run_unlocked(py, || {
            Ok(self.inner.add_embedded(&texts, values, payloads)?)
        })
    }

    /// Adds texts with your embeddings (`(n, embedding_dim)` float32) to a hybrid index;
    /// returns their new ids.
    #[pyo3(signature = (texts, vectors, payloads = None))]
    fn add_hybrid(
        &self,
        py: Python<'_>,
        texts: Vec<Text>,
        vectors: &Bound<'_, PyAny>,
        payloads: Option<Vec<Option<String>>>,
    ) -> PyResult<Vec<u64>> {
        let m = Matrix::extract(vectors)?;
        let values = m.values()?;
        run_unlocked(py, || {
            Ok(self.inner.add_hybrid(&texts, values, payloads)?)
        })
    }

    /// Hybrid search: for each text and its embedding (a 2-D array, one row per text), the `k`
    /// best by `fusion` of the TF-IDF and embedding rankings (`{"type": "rrf", "k": 60}`, the
    /// default, or `{"type": "weighted", "text_weight": 0.5}`): a list of lists of
    /// `(id, score, text, payload)`, score being the fused score.
    #[pyo3(signature = (texts, vectors, k = 10, threshold = None, ef = None, filter = None, exact = false, fusion = None))]
    #[allow(clippy::too_many_arguments)]
    fn search_hybrid<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<Text>,
        vectors: &Bound<'py, PyAny>,
        k: usize,
        threshold: Option<f32>,
        ef: Option<usize>,
        filter: Option<&Bound<'py, PyAny>>,
        exact: bool,
        fusion: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Vec<Vec<PyTextHit>>> {
        let opts = search_options(py, threshold, ef, filter, exact)?;
        let fusion = fusion_arg(py, fusion)?;
        let m = Matrix::extract(vectors)?;
        let values = m.values()?;
        let found = run_unlocked(py, || {
            Ok(self
                .inner
                .search_hybrid(&texts, values, k, &opts, &fusion)?)
        })?;
        Ok(found.into_iter().map(text_hits).collect())
    }

    /// The `k` most similar stored texts, as `(id, score, text, payload)` tuples, best first.
    #[pyo3(signature = (text, k = 10, threshold = None, ef = None, filter = None, exact = false))]
    #[allow(clippy::too_many_arguments)]
    fn search(
        &self,
        py: Python<'_>,
        text: Text,
        k: usize,
        threshold: Option<f32>,
        ef: Option<usize>,
        filter: Option<&Bound<'_, PyAny>>,
        exact: bool,
    ) -> PyResult<Vec<PyTextHit>> {
        let opts = search_options(py, threshold, ef, filter, exact)?;
        let found = attached(
            py,
            self.inner.search(&text, k, &opts).map_err(Failure::from),
        )?;
        Ok(text_hits(found))
    }

    /// `search` for many texts (a list or an Arrow string column; all cores, GIL released): a
    /// list of lists.
    #[pyo3(signature = (texts, k = 10, threshold = None, ef = None, filter = None, exact = false))]
    #[allow(clippy::too_many_arguments)]
    fn search_batch(
        &self,
        py: Python<'_>,
        texts: crate::arrow::Texts,
        k: usize,
        threshold: Option<f32>,
        ef: Option<usize>,
        filter: Option<&Bound<'_, PyAny>>,
        exact: bool,
    ) -> PyResult<Vec<Vec<PyTextHit>>> {
        let opts = search_options(py, threshold, ef, filter, exact)?;
        let found = run_unlocked(py, || {
            Ok(self.inner.search_batch(&texts.strs()?, k, &opts)?)
        })?;
        Ok(found.into_iter().map(text_hits).collect())
    }

    /// Search by your own embeddings (one vector or a 2-D array, like `SimilarityIndex.search`).
    #[pyo3(signature = (vectors, k = 10, threshold = None, ef = None, filter = None, exact = false))]
    #[allow(clippy::too_many_arguments)]
    fn search_embedded<'py>(
        &self,
        py: Python<'py>,
        vectors: &Bound<'py, PyAny>,
        k: usize,
        threshold: Option<f32>,
        ef: Option<usize>,
        filter: Option<&Bound<'py, PyAny>>,
        exact: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let opts = search_options(py, threshold, ef, filter, exact)?;
        let m = Matrix::extract(vectors)?;
        let values = m.values()?;
        let found = run_unlocked(py, || Ok(self.inner.search_embedded(values, k, &opts)?))?;
        let mut rows: Vec<Vec<PyTextHit>> = found.into_iter().map(text_hits).collect();
        if m.single {
            Ok(rows.pop().unwrap_or_default().into_pyobject(py)?.into_any())
        } else {
            Ok(rows.into_pyobject(py)?.into_any())
        }
    }

    /// The dense vectors the index would store for `texts`, as an `(n, dim)` float32 array.
    fn embed<'py>(&self, py: Python<'py>, texts: Vec<Text>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let dim = self.inner.dim();
        let flat = run_unlocked(py, || Ok(self.inner.embed(&texts)?))?;
        let n = texts.len();
        flat.into_pyarray(py)
            .reshape([n, dim])
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
    }

    /// Removes texts by id (all or nothing).
    fn remove(&self, py: Python<'_>, ids: &Bound<'_, PyAny>) -> PyResult<()> {
        let ids = extract_ids(ids)?;
        run_unlocked(py, || Ok(self.inner.remove(&ids)?))
    }

    /// Reclaims the space of removed texts.
    fn compact(&self, py: Python<'_>) -> PyResult<()> {
        run_unlocked(py, || Ok(self.inner.compact()?))
    }

    /// Refits the TF-IDF vectoriser on all stored texts now (otherwise automatic).
    fn refit(&self, py: Python<'_>) -> PyResult<()> {
        run_unlocked(py, || Ok(self.inner.refit()?))
    }

    /// `(text, payload)` of `id`, or None.
    fn get(&self, id: u64) -> Option<(String, Option<String>)> {
        self.inner.get(id)
    }

    /// Number of stored texts.
    fn len(&self) -> usize {
        self.inner.len()
    }

    /// Counters as a dict: `searches` (query texts), `added`, `removed` (texts).
    fn metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.metrics())
    }

    /// Size, counters (and for a SimilarityIndex the estimated recall and search breadth) in the
    /// Prometheus text exposition format (the families of `faultlens.prometheus`, without its
    /// `name` label).
    fn metrics_prometheus(&self) -> String {
        self.inner.metrics_prometheus()
    }

    /// Sets the counters back to zero.
    fn reset_metrics(&self) {
        self.inner.reset_metrics();
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// The configuration as a dict.
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, self.inner.config())
    }

    /// The model file as bytes.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        models::to_bytes(py, self)
    }

    /// Rebuilds a text index from `to_bytes()` output.
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

    fn __repr__(&self) -> String {
        format!(
            "TextIndex(dim={}) with {} texts",
            self.inner.dim(),
            self.inner.len()
        )
    }
}

impl PyTextIndex {
    /// The core index (the resolver copies it).
    pub(crate) fn core(&self) -> &TextIndex {
        &self.inner
    }
}
