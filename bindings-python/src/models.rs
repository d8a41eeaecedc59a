//! The model file from Python: bytes, save/load and pickling for every artifact, all through the
//! core's versioned envelope (`faultlens::Artifact`). File reads and writes and (de)serialisation
//! run with the GIL released.

use std::borrow::Cow;
use std::ops::Deref;
use std::path::PathBuf;

use faultlens::Artifact;
use pyo3::PyClass;
use pyo3::prelude::*;
use pyo3::pyclass::boolean_struct::True;
use pyo3::types::PyBytes;

use crate::error::{Failure, run_unlocked};

/// A Python class over one core artifact: its `to_bytes`, `from_bytes`, `save`, `load` and
/// `__reduce__` are each one call to the generic functions below.
pub(crate) trait PyArtifact: PyClass<Frozen = True> + Sync + Sized {
    type Core: Artifact + Send + Sync;
    /// A new Python object over a decoded core value.
    fn wrap(core: Self::Core) -> Self;
    /// Shared access to the core value (its lock's read guard, or the value itself when the core
    /// type locks inside). Called with the GIL released.
    fn core(&self) -> Result<impl Deref<Target = Self::Core> + '_, Failure>;
}

/// `obj.to_bytes()`: the complete model file as `bytes` (encoded with the GIL released).
pub(crate) fn to_bytes<'py, T: PyArtifact>(
    py: Python<'py>,
    obj: &T,
) -> PyResult<Bound<'py, PyBytes>> {
    let bytes = run_unlocked(py, || Ok(obj.core()?.to_bytes()?))?;
    Ok(PyBytes::new(py, &bytes))
}

/// `T.from_bytes(data)`; `data` is borrowed from a `bytes` object or copied from a `bytearray`.
pub(crate) fn from_bytes<T: PyArtifact>(py: Python<'_>, data: Cow<'_, [u8]>) -> PyResult<T> {
    Ok(T::wrap(run_unlocked(py, || {
        Ok(T::Core::from_bytes(&data)?)
    })?))
}

/// `obj.save(path)`: atomic write (a failed save keeps the previous file).
pub(crate) fn save<T: PyArtifact>(py: Python<'_>, obj: &T, path: PathBuf) -> PyResult<()> {
    run_unlocked(py, || Ok(obj.core()?.save(&path)?))
}

/// `T.load(path)`.
pub(crate) fn load<T: PyArtifact>(py: Python<'_>, path: PathBuf) -> PyResult<T> {
    Ok(T::wrap(run_unlocked(py, || Ok(T::Core::load(&path)?))?))
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
pub(crate) fn reduce<'py, T: PyArtifact>(
    slf: &Bound<'py, T>,
) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
    let bytes = to_bytes(slf.py(), slf.get())?;
    let ctor = slf.as_any().get_type().getattr("from_bytes")?;
    Ok((ctor, (bytes,)))
}
