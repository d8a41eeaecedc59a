//! `faultlens.WindowAggregator` over `faultlens::window::WindowAggregator`.
//!
//! Events are dicts (`timestamp_ms`, `service`, `route`, `error_code`, `message`, `trace_id`) or
//! tuples in that order (4 to 6 items). A batch borrows the UTF-8 of the Python strs (no copy)
//! with the GIL held, keeping them alive, then is pushed with the GIL released. Results are plain
//! dicts: `{"incidents": [...], "late": [indices], "rejected": [indices]}`.

use std::borrow::Cow;
use std::path::PathBuf;

use faultlens::window::{Event, WindowAggregator, WindowConfig};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple, PyType};

use crate::convert::{decode_config, kwargs_to_json, repr_config, to_py};
use crate::error::{Failure, attached, run_unlocked};
use crate::lock::{ReadGuard, Shared, WriteGuard};
use crate::models;

const WHAT: &str = "WindowAggregator";
const FIELDS: [&str; 5] = ["service", "route", "error_code", "message", "trace_id"];

/// Keyed sliding-window counts over event time that raise incidents. Keyword arguments are the
/// fields of the core `WindowConfig`: `window_ms` (default 300000), `key_fields`, `threshold`,
/// `key_thresholds`, `allowed_lateness_ms` (required), `cooldown_ms`, `max_keys`,
/// `max_samples`, `max_trace_ids`, `max_future_ms`, `rate` (a dict: `factor`, `z`, `alpha`,
/// `min_history`, `forget_after`, `min_count`). See docs/window.md for the exact semantics.
#[pyclass(module = "faultlens", name = "WindowAggregator", frozen)]
pub(crate) struct PyWindowAggregator {
    inner: Shared<WindowAggregator>,
}

unsafe extern "C" {
    // Part of the stable ABI only from 3.10, but exported by every CPython 3.3+ (this module
    // needs 3.9+); declared here because pyo3's abi3-py39 build does not offer it. It returns
    // the str's cached UTF-8 (no copy), valid while the str lives.
    fn PyUnicode_AsUTF8AndSize(
        unicode: *mut pyo3::ffi::PyObject,
        size: *mut pyo3::ffi::Py_ssize_t,
    ) -> *const std::os::raw::c_char;
}

/// One event of a [`Batch`]: time, the five strings as (address, length) of UTF-8 owned by
/// Python str objects, which key fields were given.
type Item = (i64, [(*const u8, usize); 5], [bool; 3]);

/// A batch of events borrowed from Python: no string is copied. Every borrowed str is kept alive
/// by a strong reference in `keep` (the event's tuple, whose items cannot change, or the str
/// itself), so the batch stays valid with the GIL released even if the caller's list changes.
/// The same str object gives the same address, which the core's key cache exploits.
struct Batch {
    items: Vec<Item>,
    keep: Vec<Py<PyAny>>,
}

// SAFETY: the addresses point into immutable str buffers kept alive by `keep` (Py<T> is Send);
// the batch is only read, never written, while another thread may see it.
unsafe impl Send for Batch {}
unsafe impl Sync for Batch {}

const EMPTY: (*const u8, usize) = (std::ptr::NonNull::<u8>::dangling().as_ptr(), 0);

impl Batch {
    fn with_capacity(n: usize) -> Self {
        Batch {
            items: Vec::with_capacity(n),
            keep: Vec::with_capacity(n),
        }
    }

    fn events(&self) -> Vec<Event<'_>> {
        self.items
            .iter()
            .map(|(t, r, _)| {
                // SAFETY: see `Batch`; PyUnicode_AsUTF8AndSize returned valid UTF-8 of this length.
                let s = |i: usize| unsafe {
                    std::str::from_utf8_unchecked(std::slice::from_raw_parts(r[i].0, r[i].1))
                };
                Event {
                    timestamp_ms: *t,
                    service: s(0),
                    route: s(1),
                    error_code: s(2),
                    message: s(3),
                    trace_id: s(4),
                }
            })
            .collect()
    }

    /// The UTF-8 of a field; `keep_it` when its container may change (dicts, lists).
    fn borrow_str(
        &mut self,
        py: Python<'_>,
        v: Option<Bound<'_, PyAny>>,
        index: usize,
        field: &str,
        keep_it: bool,
    ) -> PyResult<((*const u8, usize), bool)> {
        let Some(v) = v.filter(|v| !v.is_none()) else {
            return Ok((EMPTY, false));
        };
        if v.cast::<PyString>().is_err() {
            return Err(bad_event(
                py,
                index,
                format!("`{field}` must be a str, got `{}`", type_name(&v)),
            ));
        }
        let mut n: pyo3::ffi::Py_ssize_t = 0;
        // SAFETY: `v` is a str (checked above) and the GIL is held.
        let p = unsafe { PyUnicode_AsUTF8AndSize(v.as_ptr(), &mut n) };
        if p.is_null() {
            let cause = PyErr::take(py).map_or_else(String::new, |e| format!(": {e}"));
            return Err(bad_event(
                py,
                index,
                format!("`{field}` is not valid UTF-8{cause}"),
            ));
        }
        if keep_it {
            self.keep.push(v.unbind());
        }
        Ok(((p.cast::<u8>(), n as usize), true))
    }

    /// Appends one event: a dict with the field names, or a tuple/list in field order.
    fn add(&mut self, obj: &Bound<'_, PyAny>, index: usize) -> PyResult<()> {
        let py = obj.py();
        let (t, values, keep_items): (Bound<'_, PyAny>, [Option<Bound<'_, PyAny>>; 5], bool) =
            if let Ok(tup) = obj.cast::<PyTuple>() {
                let (t, v) = tuple_fields(py, index, tup.len(), |i| tup.get_item(i))?;
                self.keep.push(obj.clone().unbind());
                (t, v, false)
            } else if let Ok(d) = obj.cast::<PyDict>() {
                let t = d
                    .get_item(pyo3::intern!(py, "timestamp_ms"))?
                    .ok_or_else(|| bad_event(py, index, "has no `timestamp_ms`".into()))?;
                let mut values = [None, None, None, None, None];
                for (v, f) in values.iter_mut().zip(FIELDS) {
                    *v = d.get_item(PyString::intern(py, f))?;
                }
                (t, values, true)
            } else if let Ok(l) = obj.cast::<PyList>() {
                let (t, v) = tuple_fields(py, index, l.len(), |i| l.get_item(i))?;
                (t, v, true)
            } else {
                return Err(bad_event(
                    py,
                    index,
                    format!("must be a dict or a tuple, got `{}`", type_name(obj)),
                ));
            };
        let t: i64 = t.extract().map_err(|_| {
            bad_event(
                py,
                index,
                format!(
                    "`timestamp_ms` must be an int (milliseconds), got `{}`",
                    type_name(&t)
                ),
            )
        })?;
        let mut ranges = [EMPTY; 5];
        let mut present = [false; 3];
        for (i, v) in values.into_iter().enumerate() {
            let (r, has) = self.borrow_str(py, v, index, FIELDS[i], keep_items)?;
            ranges[i] = r;
            if i < 3 {
                present[i] = has;
            }
        }
        self.items.push((t, ranges, present));
        Ok(())
    }
}

#[allow(clippy::type_complexity)]
fn tuple_fields<'py>(
    py: Python<'py>,
    index: usize,
    len: usize,
    get: impl Fn(usize) -> PyResult<Bound<'py, PyAny>>,
) -> PyResult<(Bound<'py, PyAny>, [Option<Bound<'py, PyAny>>; 5])> {
    if !(4..=6).contains(&len) {
        return Err(bad_event(
            py,
            index,
            format!(
                "a tuple event needs 4 to 6 items (timestamp_ms, service, route, error_code[, message[, trace_id]]), got {len}"
            ),
        ));
    }
    let t = get(0)?;
    let mut values = [None, None, None, None, None];
    for (i, v) in values.iter_mut().enumerate() {
        if i + 1 < len {
            *v = Some(get(i + 1)?);
        }
    }
    Ok((t, values))
}

fn type_name(v: &Bound<'_, PyAny>) -> String {
    v.get_type()
        .name()
        .map_or_else(|_| "?".to_owned(), |n| n.to_string())
}

fn invalid_input(py: Python<'_>, message: String) -> PyErr {
    crate::error::to_pyerr(
        py,
        Failure::Binding {
            code: Some("InvalidInput"),
            message: format!("invalid input: {message}"),
        },
    )
}

fn bad_event(py: Python<'_>, index: usize, message: String) -> PyErr {
    invalid_input(py, format!("event {index} {message}"))
}

impl PyWindowAggregator {
    fn read(&self) -> Result<ReadGuard<'_, WindowAggregator>, Failure> {
        self.inner.read()
    }

    fn write(&self) -> Result<WriteGuard<'_, WindowAggregator>, Failure> {
        self.inner.write()
    }

    /// Checks every event's key fields first, so a bad event leaves the aggregator untouched.
    fn push_events(
        w: &mut WindowAggregator,
        batch: &Batch,
    ) -> Result<faultlens::window::Outcome, Failure> {
        for (i, (_, _, p)) in batch.items.iter().enumerate() {
            w.check_fields(i, p[0], p[1], p[2])?;
        }
        Ok(w.push_batch(&batch.events()))
    }
}

impl models::PyArtifact for PyWindowAggregator {
    type Core = WindowAggregator;
    fn wrap(core: WindowAggregator) -> Self {
        Self {
            inner: Shared::new(core, WHAT),
        }
    }
    fn core(&self) -> Result<impl std::ops::Deref<Target = WindowAggregator> + '_, Failure> {
        self.inner.read()
    }
}
#[pymethods]
impl PyWindowAggregator {
    #[new]
    #[pyo3(signature = (**kwargs))]
    fn new(py: Python<'_>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let config: WindowConfig =
            attached(py, kwargs_to_json(kwargs, |_, v| v).and_then(decode_config))?;
        let inner = attached(py, WindowAggregator::new(config).map_err(Into::into))?;
        Ok(PyWindowAggregator {
            inner: Shared::new(inner, WHAT),
        })
    }

    /// Adds one event (dict or tuple); returns `{"incidents", "late", "rejected"}`.
    fn push<'py>(&self, py: Python<'py>, event: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let mut batch = Batch::with_capacity(1);
        batch.add(event, 0)?;
        let out = attached(
            py,
            self.write()
                .and_then(|mut w| Self::push_events(&mut w, &batch)),
        )?;
        to_py(py, &out)
    }

    /// Adds events in arrival order (any iterable of dicts or tuples) with the GIL released;
    /// returns `{"incidents", "late", "rejected"}` (indices into `events`).
    fn push_batch<'py>(
        &self,
        py: Python<'py>,
        events: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut batch = Batch::with_capacity(events.len().unwrap_or(0));
        for (i, e) in events.try_iter()?.enumerate() {
            batch.add(&e?, i)?;
        }
        let out = run_unlocked(py, || Self::push_events(&mut *self.write()?, &batch))?;
        to_py(py, &out)
    }

    /// Adds the events of an Arrow RecordBatch/Table (or a polars/pandas DataFrame) in row
    /// order, GIL released: an int64 `timestamp_ms` column (milliseconds; timestamp[ms] too)
    /// and string columns `service`, `route`, `error_code`, `message`, `trace_id` (the key
    /// fields of the config are required; a null reads as absent). `columns` maps event fields
    /// to other column names, e.g. `{"timestamp_ms": "ts"}`. Returns pyarrow tables:
    /// `{"incidents", "late", "rejected"}` (late/rejected: the input rows with their `row`).
    #[pyo3(signature = (batch, *, columns = None))]
    fn push_arrow<'py>(
        &self,
        py: Python<'py>,
        batch: &Bound<'py, PyAny>,
        columns: Option<std::collections::HashMap<String, String>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        crate::arrow::push_arrow(py, &self.inner, batch, columns)
    }

    /// Moves the watermark up to `watermark_ms`; returns the incidents that became final.
    fn advance<'py>(&self, py: Python<'py>, watermark_ms: i64) -> PyResult<Bound<'py, PyAny>> {
        let out = run_unlocked(py, || Ok(self.write()?.advance(watermark_ms)))?;
        to_py(py, &out)
    }

    /// Makes every pending event final; returns the resulting incidents.
    fn flush<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let out = run_unlocked(py, || Ok(self.write()?.flush()))?;
        to_py(py, &out)
    }

    /// Takes over another aggregator's state (same config), e.g. on a partition rebalance.
    fn merge<'py>(
        &self,
        py: Python<'py>,
        other: &Bound<'py, PyWindowAggregator>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let other = other.get();
        if std::ptr::eq(other, self) {
            return Err(invalid_input(
                py,
                "cannot merge an aggregator into itself".into(),
            ));
        }
        // Never both locks at once: `b.merge(a)` in another thread would take them the other way.
        let out = run_unlocked(py, || {
            let theirs = other.read()?.snapshot();
            Ok(self.write()?.merge_snapshot(theirs)?)
        })?;
        to_py(py, &out)
    }

    /// Counters and sizes: events, late_events, live_keys, evicted_keys, pending_events, ...
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let s = attached(py, self.read().map(|w| w.stats()))?;
        to_py(py, &s)
    }

    /// `stats()` in the Prometheus text exposition format (the families of
    /// `faultlens.prometheus`, without its `name` label).
    fn metrics_prometheus(&self, py: Python<'_>) -> PyResult<String> {
        attached(py, self.read().map(|w| w.metrics_prometheus()))
    }

    /// The current watermark in ms (events older are late), or None before any event.
    fn watermark(&self, py: Python<'_>) -> PyResult<Option<i64>> {
        attached(py, self.read().map(|w| w.watermark()))
    }

    /// The configuration as a dict (`WindowAggregator(**w.config())` rebuilds it empty).
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let c = attached(py, self.read().map(|w| w.config().clone()))?;
        to_py(py, &c)
    }

    /// A snapshot of the whole state as model-file bytes.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        models::to_bytes(py, self)
    }

    /// Restores an aggregator from `to_bytes()` output.
    #[classmethod]
    fn from_bytes(_cls: &Bound<'_, PyType>, py: Python<'_>, data: Cow<'_, [u8]>) -> PyResult<Self> {
        models::from_bytes(py, data)
    }

    /// Writes the snapshot atomically.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        models::save(py, self, path)
    }

    /// Reads a snapshot written by `save` (in any language).
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
        let c = attached(py, self.read().map(|w| w.config().clone()))?;
        repr_config(py, "WindowAggregator", &c, &WindowConfig::default())
    }
}

/// Group numbers for incidents given each one's sample messages (`[i["samples"] for i in
/// incidents]`): incidents with similar messages share a number (TF-IDF + DBSCAN). Options:
/// `min_similarity` (0.5), `min_group_size` (2), `max_features` (4096).
#[pyfunction]
#[pyo3(signature = (samples, **kwargs))]
pub(crate) fn group_incidents(
    py: Python<'_>,
    samples: Vec<Vec<String>>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<Vec<usize>> {
    let config: faultlens::window::GroupConfig =
        attached(py, kwargs_to_json(kwargs, |_, v| v).and_then(decode_config))?;
    run_unlocked(py, || {
        Ok(faultlens::window::group_incidents(&samples, &config)?)
    })
}
