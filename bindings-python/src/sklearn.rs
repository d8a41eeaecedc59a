//! What the scikit-learn layer (`faultlens/_estimator.py`) needs from Rust: moving a core value
//! from one object into another of the same class. `faultlens.TextClassifier` and
//! `faultlens.TfidfVectorizer` are Python subclasses of the native classes (they need an
//! instance `__dict__` for scikit-learn's attributes); `from_bytes`/`load` on the native class
//! build the native type, so the subclass builds an empty instance of itself and adopts the
//! loaded value with these functions.

use pyo3::prelude::*;

use crate::classify::PyTextClassifier;
use crate::error::run_unlocked;
use crate::vectorize::PyTfidfVectorizer;

/// Replaces `dst`'s classifier with a copy of `src`'s (config and fitted state).
#[pyfunction]
pub(crate) fn _adopt_classifier(
    py: Python<'_>,
    dst: &Bound<'_, PyTextClassifier>,
    src: &Bound<'_, PyTextClassifier>,
) -> PyResult<()> {
    let (dst, src) = (dst.get(), src.get());
    if std::ptr::eq(dst, src) {
        return Ok(());
    }
    // Never both locks at once: a copy is taken under the read lock, then written.
    run_unlocked(py, || {
        let value = src.read()?.clone();
        *dst.write()? = value;
        Ok(())
    })
}

/// Replaces `dst`'s vectorizer with a copy of `src`'s (config and fitted state).
#[pyfunction]
pub(crate) fn _adopt_vectorizer(
    py: Python<'_>,
    dst: &Bound<'_, PyTfidfVectorizer>,
    src: &Bound<'_, PyTfidfVectorizer>,
) -> PyResult<()> {
    let (dst, src) = (dst.get(), src.get());
    if std::ptr::eq(dst, src) {
        return Ok(());
    }
    run_unlocked(py, || {
        let value = src.read()?.clone();
        *dst.write()? = value;
        Ok(())
    })
}
