//! `faultlens.IncidentGrouper` over `faultlens::window::IncidentGrouper`.
//!
//! Incidents are dicts: `id` (str, required), `time_ms` (int, default 0), `text` (str or None),
//! `embedding` (a sequence of floats, e.g. a numpy array, or None). They are converted with the
//! GIL held, then added with it released. Results are plain dicts and lists.

use std::borrow::Cow;
use std::path::PathBuf;

use faultlens::window::{GroupInput, GrouperConfig, IncidentGrouper};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyType};

use crate::convert::{decode_config, kwargs_to_json, repr_config, to_py};
use crate::error::{Failure, attached, run_unlocked};
use crate::lock::{ReadGuard, Shared, WriteGuard};
use crate::models;

const WHAT: &str = "IncidentGrouper";

/// Stable incident groups, assigned online: groups are the connected components of "similarity
/// >= min_similarity" among all incidents added, named after their earliest (`time_ms`, id)
/// member, so the same incidents give the same groups in any order or batching (docs/window.md).
/// Keyword arguments: `min_similarity` (0.5), `text_weight` (0.5), `max_incidents` (100000),
/// `preprocessor` (a dict of `Preprocessor` options).
#[pyclass(module = "faultlens", name = "IncidentGrouper", frozen)]
pub(crate) struct PyIncidentGrouper {
    inner: Shared<IncidentGrouper>,
}

struct Owned {
    id: String,
    time_ms: i64,
    text: Option<String>,
    embedding: Option<Vec<f32>>,
}

fn invalid_input(message: String) -> Failure {
    Failure::Binding {
        code: Some("InvalidInput"),
        message: format!("invalid input: {message}"),
    }
}

fn extract(i: usize, item: &Bound<'_, PyAny>) -> Result<Owned, Failure> {
    let d = item
        .cast::<PyDict>()
        .map_err(|_| invalid_input(format!("incident {i} must be a dict")))?;
    let get = |k: &str| -> Result<Option<Bound<'_, PyAny>>, Failure> {
        Ok(d.get_item(k)
            .map_err(|e| invalid_input(format!("incident {i}: {e}")))?
            .filter(|v| !v.is_none()))
    };
    let field = |k: &str, want: &str| invalid_input(format!("incident {i}: `{k}` must be {want}"));
    let id: String = get("id")?
        .ok_or_else(|| invalid_input(format!("incident {i} has no `id`")))?
        .extract()
        .map_err(|_| field("id", "a str"))?;
    let time_ms: i64 = match get("time_ms")? {
        Some(v) => v.extract().map_err(|_| field("time_ms", "an int"))?,
        None => 0,
    };
    let text: Option<String> = match get("text")? {
        Some(v) => Some(v.extract().map_err(|_| field("text", "a str"))?),
        None => None,
    };
    let embedding: Option<Vec<f32>> = match get("embedding")? {
        Some(v) => Some(
            v.extract()
                .map_err(|_| field("embedding", "a sequence of floats"))?,
        ),
        None => None,
    };
    Ok(Owned {
        id,
        time_ms,
        text,
        embedding,
    })
}

impl PyIncidentGrouper {
    fn read(&self) -> Result<ReadGuard<'_, IncidentGrouper>, Failure> {
        self.inner.read()
    }

    fn write(&self) -> Result<WriteGuard<'_, IncidentGrouper>, Failure> {
        self.inner.write()
    }
}

impl models::PyArtifact for PyIncidentGrouper {
    type Core = IncidentGrouper;
    fn wrap(core: IncidentGrouper) -> Self {
        Self {
            inner: Shared::new(core, WHAT),
        }
    }
    fn core(&self) -> Result<impl std::ops::Deref<Target = IncidentGrouper> + '_, Failure> {
        self.inner.read()
    }
}
#[pymethods]
impl PyIncidentGrouper {
    #[new]
    #[pyo3(signature = (**kwargs))]
    fn new(py: Python<'_>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let config: GrouperConfig =
            attached(py, kwargs_to_json(kwargs, |_, v| v).and_then(decode_config))?;
        let inner = attached(py, IncidentGrouper::new(config).map_err(Into::into))?;
        Ok(Self {
            inner: Shared::new(inner, WHAT),
        })
    }

    /// Adds incidents (an iterable of dicts); returns `{"assignments": [{"id", "group",
    /// "new_group"}], "renamed": [{"from", "to"}]}`. Bad input adds nothing.
    fn add<'py>(
        &self,
        py: Python<'py>,
        incidents: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut owned = Vec::new();
        for (i, item) in incidents.try_iter()?.enumerate() {
            owned.push(attached(py, extract(i, &item?))?);
        }
        let update = run_unlocked(py, || {
            let inputs: Vec<GroupInput<'_>> = owned
                .iter()
                .map(|o| GroupInput {
                    id: &o.id,
                    time_ms: o.time_ms,
                    text: o.text.as_deref(),
                    embedding: o.embedding.as_deref(),
                })
                .collect();
            Ok(self.write()?.add(&inputs)?)
        })?;
        to_py(py, &update)
    }

    /// The id of the group `id` is in, or None for an unknown id.
    fn group_of(&self, py: Python<'_>, id: &str) -> PyResult<Option<String>> {
        attached(py, self.read().map(|g| g.group_of(id)))
    }

    /// Every group: `[{"id", "members": [...]}]`, ordered by their first member.
    fn groups<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let groups = run_unlocked(py, || Ok(self.read()?.groups()))?;
        to_py(py, &groups)
    }

    /// The similarity of two held incidents, or None when either id is unknown.
    fn similarity(&self, py: Python<'_>, a: &str, b: &str) -> PyResult<Option<f64>> {
        attached(py, self.read().map(|g| g.similarity(a, b)))
    }

    /// Number of incidents held.
    fn len(&self, py: Python<'_>) -> PyResult<usize> {
        attached(py, self.read().map(|g| g.len()))
    }

    /// Incidents and groups held in the Prometheus text exposition format (the families of
    /// `faultlens.prometheus`, without its `name` label).
    fn metrics_prometheus(&self, py: Python<'_>) -> PyResult<String> {
        run_unlocked(py, || Ok(self.read()?.metrics_prometheus()))
    }

    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        self.len(py)
    }

    /// The configuration as a dict.
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let c = attached(py, self.read().map(|g| g.config().clone()))?;
        to_py(py, &c)
    }

    /// The whole state as model-file bytes.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        models::to_bytes(py, self)
    }

    /// Restores a grouper from `to_bytes()` output.
    #[classmethod]
    fn from_bytes(_cls: &Bound<'_, PyType>, py: Python<'_>, data: Cow<'_, [u8]>) -> PyResult<Self> {
        models::from_bytes(py, data)
    }

    /// Writes the state atomically (a failed save keeps the previous file).
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        models::save(py, self, path)
    }

    /// Reads a state written by `save` (in any language).
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
        let c = attached(py, self.read().map(|g| g.config().clone()))?;
        repr_config(py, "IncidentGrouper", &c, &GrouperConfig::default())
    }
}
