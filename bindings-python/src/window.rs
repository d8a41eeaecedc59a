//! `faultlens.WindowAggregator` over `faultlens::window::WindowAggregator`.
//!
//! Events are dicts (`timestamp_ms`, `service`, `route`, `error_code`, `message`, `trace_id`) or
//! tuples in that order (4 to 6 items). A batch is copied into one Rust buffer with the GIL held
//! (one allocation for the whole batch), then pushed with the GIL released. Results are plain
//! dicts: `{"incidents": [...], "late": [indices], "rejected": [indices]}`.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use faultlens::window::{Event, WindowAggregator, WindowConfig};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple, PyType};

use crate::convert::{decode_config, kwargs_to_json, repr_config, to_py};
use crate::error::{Failure, attached, run_unlocked};
use crate::models;

const WHAT: &str = "WindowAggregator";
const FIELDS: [&str; 5] = ["service", "route", "error_code", "message", "trace_id"];

/// Keyed sliding-window counts over event time that raise incidents. Keyword arguments are the
/// fields of the core `WindowConfig`: `window_ms` (default 300000), `key_fields`, `threshold`,
/// `key_thresholds`, `allowed_lateness_ms` (required), `cooldown_ms`, `max_keys`,
/// `max_samples`, `max_trace_ids`, `max_future_ms`. See docs/window.md for the exact semantics.
#[pyclass(module = "faultlens", name = "WindowAggregator", frozen)]
pub(crate) struct PyWindowAggregator {
    inner: RwLock<WindowAggregator>,
}

/// One event of a [`Batch`]: time, byte ranges of the five strings, which key fields were given.
type Item = (i64, [(usize, usize); 5], [bool; 3]);

/// A batch of events copied out of Python: every string in one buffer.
struct Batch {
    text: String,
    items: Vec<Item>,
}

impl Batch {
    fn with_capacity(n: usize) -> Self {
        Batch {
            text: String::with_capacity(n * 64),
            items: Vec::with_capacity(n),
        }
    }

    fn events(&self) -> Vec<Event<'_>> {
        self.items
            .iter()
            .map(|(t, r, _)| {
                let s = |i: usize| &self.text[r[i].0..r[i].1];
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

    fn push_str(
        &mut self,
        py: Python<'_>,
        v: Option<Bound<'_, PyAny>>,
        index: usize,
        field: &str,
    ) -> PyResult<(usize, usize, bool)> {
        let start = self.text.len();
        let Some(v) = v.filter(|v| !v.is_none()) else {
            return Ok((start, start, false));
        };
        let s = v.cast::<PyString>().map_err(|_| {
            bad_event(
                py,
                index,
                format!("`{field}` must be a str, got `{}`", type_name(&v)),
            )
        })?;
        self.text.push_str(&s.to_cow()?);
        Ok((start, self.text.len(), true))
    }

    /// Appends one event: a dict with the field names, or a tuple/list in field order.
    fn add(&mut self, obj: &Bound<'_, PyAny>, index: usize) -> PyResult<()> {
        let py = obj.py();
        let (t, values): (Bound<'_, PyAny>, Vec<Option<Bound<'_, PyAny>>>) =
            if let Ok(d) = obj.cast::<PyDict>() {
                let t = d
                    .get_item(pyo3::intern!(py, "timestamp_ms"))?
                    .ok_or_else(|| bad_event(py, index, "has no `timestamp_ms`".into()))?;
                let mut values = Vec::with_capacity(5);
                for f in FIELDS {
                    values.push(d.get_item(PyString::intern(py, f))?);
                }
                (t, values)
            } else if let Ok(tup) = obj.cast::<PyTuple>() {
                tuple_fields(py, index, tup.len(), |i| tup.get_item(i))?
            } else if let Ok(l) = obj.cast::<PyList>() {
                tuple_fields(py, index, l.len(), |i| l.get_item(i))?
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
        let mut ranges = [(0, 0); 5];
        let mut present = [false; 3];
        for (i, v) in values.into_iter().enumerate() {
            let (a, b, has) = self.push_str(py, v, index, FIELDS[i])?;
            ranges[i] = (a, b);
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
) -> PyResult<(Bound<'py, PyAny>, Vec<Option<Bound<'py, PyAny>>>)> {
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
    let values = (1..6)
        .map(|i| if i < len { get(i).map(Some) } else { Ok(None) })
        .collect::<PyResult<Vec<_>>>()?;
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
    fn read(&self) -> Result<RwLockReadGuard<'_, WindowAggregator>, Failure> {
        self.inner.read().map_err(|_| Failure::poisoned(WHAT))
    }

    fn write(&self) -> Result<RwLockWriteGuard<'_, WindowAggregator>, Failure> {
        self.inner.write().map_err(|_| Failure::poisoned(WHAT))
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

#[pymethods]
impl PyWindowAggregator {
    #[new]
    #[pyo3(signature = (**kwargs))]
    fn new(py: Python<'_>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let config: WindowConfig =
            attached(py, kwargs_to_json(kwargs, |_, v| v).and_then(decode_config))?;
        let inner = attached(py, WindowAggregator::new(config).map_err(Into::into))?;
        Ok(PyWindowAggregator {
            inner: RwLock::new(inner),
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
        let out = run_unlocked(py, || {
            let theirs = other.read()?;
            Ok(self.write()?.merge(&theirs)?)
        })?;
        to_py(py, &out)
    }

    /// Counters and sizes: events, late_events, live_keys, evicted_keys, pending_events, ...
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let s = attached(py, self.read().map(|w| w.stats()))?;
        to_py(py, &s)
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
        let bytes = run_unlocked(py, || Ok(faultlens::Artifact::to_bytes(&*self.read()?)?))?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Restores an aggregator from `to_bytes()` output.
    #[classmethod]
    fn from_bytes(_cls: &Bound<'_, PyType>, py: Python<'_>, data: Cow<'_, [u8]>) -> PyResult<Self> {
        Ok(PyWindowAggregator {
            inner: RwLock::new(models::from_bytes(py, data)?),
        })
    }

    /// Writes the snapshot atomically.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        run_unlocked(py, || Ok(faultlens::Artifact::save(&*self.read()?, &path)?))
    }

    /// Reads a snapshot written by `save` (in any language).
    #[classmethod]
    fn load(_cls: &Bound<'_, PyType>, py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        Ok(PyWindowAggregator {
            inner: RwLock::new(models::load(py, path)?),
        })
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        let bytes = slf.get().to_bytes(slf.py())?;
        models::reduce(slf.as_any(), bytes)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let c = attached(py, self.read().map(|w| w.config().clone()))?;
        repr_config(py, "WindowAggregator", &c, &WindowConfig::default())
    }
}
