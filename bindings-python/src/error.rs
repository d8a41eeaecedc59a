//! The one mapping from faultlens errors to Python exceptions, and the one helper that runs work
//! with the GIL released (`run_unlocked`, the role of polars' `enter_polars`).
//!
//! The exception classes live in `faultlens/_errors.py` (they need multiple inheritance:
//! `NotFittedError(FaultlensError, ValueError, AttributeError)`), one per `Error::code()`, named
//! `<code>Error`. The table is `docs/errors.md`; nothing here decides anything per variant.

use pyo3::exceptions::{PyOSError, PyRuntimeError};
use pyo3::prelude::*;

/// What can fail inside a binding call.
#[derive(Debug)]
pub(crate) enum Failure {
    /// An error of the core, mapped by its `code()`.
    Core(faultlens::Error),
    /// A failure of the binding's own conversions, classified with a core code
    /// (e.g. a keyword argument that does not deserialize is `InvalidConfig`).
    /// `code: None` raises the base class `FaultlensError` (a poisoned lock).
    Binding {
        code: Option<&'static str>,
        message: String,
    },
}

impl From<faultlens::Error> for Failure {
    fn from(e: faultlens::Error) -> Self {
        Failure::Core(e)
    }
}

impl Failure {
    pub(crate) fn invalid_config(message: String) -> Self {
        Failure::Binding {
            code: Some("InvalidConfig"),
            message,
        }
    }

    /// A panic inside faultlens (a bug), caught before it could unwind into Python.
    pub(crate) fn panicked(payload: Box<dyn std::any::Any + Send>) -> Self {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic payload".into());
        Failure::Binding {
            code: None,
            message: format!("panic inside faultlens (a bug, please report it): {what}"),
        }
    }

    /// A lock poisoned by a panic in an earlier call (itself a bug): the object is unusable.
    pub(crate) fn poisoned(what: &str) -> Self {
        Failure::Binding {
            code: None,
            message: format!("{what} is unusable: an earlier call panicked while using it"),
        }
    }
}

/// Turns a failure into the Python exception `faultlens.<code>Error`, keeping the core's message
/// (its `Display`). An operating-system error also gets `errno` and, as `__cause__`, the matching
/// built-in `OSError` subclass (`FileNotFoundError`, `PermissionError`, ...).
pub(crate) fn to_pyerr(py: Python<'_>, failure: Failure) -> PyErr {
    let (code, message, os_error) = match &failure {
        Failure::Core(e) => (Some(e.code().as_str()), e.to_string(), io_source(e)),
        Failure::Binding { code, message } => (*code, message.clone(), None),
    };
    let filename = match &failure {
        Failure::Core(e) => e.path().map(std::path::Path::to_path_buf),
        Failure::Binding { .. } => None,
    };
    let class_name = code.map_or_else(|| "FaultlensError".to_owned(), |c| format!("{c}Error"));
    let made = py.import("faultlens._errors").and_then(|m| {
        // A variant newer than `_errors.py` (the core enum is non_exhaustive) gets the base class.
        let class = m
            .getattr(class_name.as_str())
            .or_else(|_| m.getattr("FaultlensError"))?;
        class.call1((message.as_str(),))
    });
    let exc = match made {
        Ok(exc) => exc,
        Err(import_failure) => {
            let err = PyRuntimeError::new_err(message);
            err.set_cause(py, Some(import_failure));
            return err;
        }
    };
    if let Some((errno, detail)) = os_error {
        // `errno` only: with `strerror` also set, str(exc) would stop being the core's message.
        if let Some(n) = errno {
            let _ = exc.setattr("errno", n);
        }
        // OSError.filename, as open() sets it (IoError keeps the core's message as its str()).
        if let Some(path) = &filename {
            let _ = exc.setattr("filename", path.as_os_str());
        }
        let err = PyErr::from_value(exc);
        let cause = match errno {
            // OSError(errno, strerror) builds the specific subclass, e.g. FileNotFoundError.
            Some(n) => PyOSError::new_err((n, strerror(py, n).unwrap_or(detail))),
            None => PyOSError::new_err(detail),
        };
        err.set_cause(py, Some(cause));
        return err;
    }
    PyErr::from_value(exc)
}

/// The operating-system error somewhere in the source chain: (errno, message).
fn io_source(e: &faultlens::Error) -> Option<(Option<i32>, String)> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return Some((io.raw_os_error(), io.to_string()));
        }
        source = s.source();
    }
    None
}

fn strerror(py: Python<'_>, errno: i32) -> Option<String> {
    py.import("os")
        .and_then(|os| os.call_method1("strerror", (errno,)))
        .and_then(|s| s.extract())
        .ok()
}

/// Runs `f` with the GIL released and maps its failure to a Python exception.
///
/// Every heavy call (fit, batch transform, batch preprocessing, serialisation, file I/O) goes
/// through here. Callers extract all Python arguments into Rust values *before* calling it
/// (`Send`, which is PyO3's `Ungil` on stable Rust, forbids Python references inside `f`),
/// and convert results afterwards.
pub(crate) fn run_unlocked<T, F>(py: Python<'_>, f: F) -> PyResult<T>
where
    F: Send + FnOnce() -> Result<T, Failure>,
    T: Send,
{
    py.detach(|| catching(f)).map_err(|e| to_pyerr(py, e))
}

/// Runs `f`, turning a panic into a `Failure` (raised as `FaultlensError`, an `Exception`),
/// instead of PyO3's `PanicException`, which derives from `BaseException` only.
pub(crate) fn catching<T>(f: impl FnOnce() -> Result<T, Failure>) -> Result<T, Failure> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|p| Err(Failure::panicked(p)))
}

/// Inputs from this size on release the GIL even in single-item calls (one huge log line).
pub(crate) const UNLOCK_FROM_BYTES: usize = 64 * 1024;

/// Runs a single-item call: with the GIL held when the input is small (microseconds; releasing
/// would let other threads delay the return), through [`run_unlocked`] when it is large.
pub(crate) fn run_sized<T, F>(py: Python<'_>, input_bytes: usize, f: F) -> PyResult<T>
where
    F: Send + FnOnce() -> Result<T, Failure>,
    T: Send,
{
    if input_bytes >= UNLOCK_FROM_BYTES {
        run_unlocked(py, f)
    } else {
        attached(py, catching(f))
    }
}

/// Maps a failure of work done while holding the GIL (cheap calls).
pub(crate) fn attached<T>(py: Python<'_>, r: Result<T, Failure>) -> PyResult<T> {
    r.map_err(|e| to_pyerr(py, e))
}
