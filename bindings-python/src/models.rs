//! The model file from Python: bytes, save/load and pickling for every artifact, all through the
//! core's versioned envelope (`faultlens::Artifact`). File reads and writes and (de)serialisation
//! run with the GIL released.

use std::borrow::Cow;
use std::path::PathBuf;

use faultlens::Artifact;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::error::{Failure, run_unlocked};

/// `artifact.to_bytes()`: the complete model file as `bytes`.
pub(crate) fn to_bytes<'py, A: Artifact + Sync>(
    py: Python<'py>,
    a: &A,
) -> PyResult<Bound<'py, PyBytes>> {
    let bytes = run_unlocked(py, || Ok(a.to_bytes()?))?;
    Ok(PyBytes::new(py, &bytes))
}

/// `A.from_bytes(data)`; `data` is borrowed from a `bytes` object or copied from a `bytearray`.
pub(crate) fn from_bytes<A: Artifact + Send>(py: Python<'_>, data: Cow<'_, [u8]>) -> PyResult<A> {
    run_unlocked(py, || Ok(A::from_bytes(&data)?))
}

/// `artifact.save(path)`: atomic write (a failed save keeps the previous file).
pub(crate) fn save<A: Artifact + Sync>(py: Python<'_>, a: &A, path: PathBuf) -> PyResult<()> {
    run_unlocked(py, || Ok(a.save(&path)?))
}

/// `A.load(path)`.
pub(crate) fn load<A: Artifact + Send>(py: Python<'_>, path: PathBuf) -> PyResult<A> {
    run_unlocked(py, || Ok(A::load(&path)?))
}

/// `faultlens.inspect(path)`: kind, format version, writer version and size, without decoding.
pub(crate) fn inspect<'py>(py: Python<'py>, path: PathBuf) -> PyResult<Bound<'py, PyAny>> {
    let info = run_unlocked(py, || {
        faultlens::models::inspect(&path).map_err(Failure::from)
    })?;
    crate::convert::to_py(py, &info)
}

/// `obj.__reduce__()` → `(type(obj).from_bytes, (obj.to_bytes(),))`, so pickle, copy and joblib
/// go through the same versioned bytes as `save`, and a pickle names the public class
/// (`faultlens.TfidfVectorizer`), not an internal module path.
pub(crate) fn reduce<'py>(
    obj: &Bound<'py, PyAny>,
    bytes: Bound<'py, PyBytes>,
) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
    let ctor = obj.get_type().getattr("from_bytes")?;
    Ok((ctor, (bytes,)))
}
