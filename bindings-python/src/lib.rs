//! `faultlens._faultlens`: the Python binding of faultlens (PyO3).
//!
//! This crate only converts: Python arguments into core types, then (for heavy work, through
//! [`error::run_unlocked`]) the core call with the GIL released, then core results into Python
//! objects and core errors into `faultlens.<code>Error` ([`error::to_pyerr`]). All behaviour is in
//! the `faultlens` crate (`core/`). The pure-Python package `faultlens` (`python/faultlens`)
//! re-exports these names and defines the exception classes.
//!
//! One file per capability, as in every layer: `text.rs` (Preprocessor), `vectorize.rs`
//! (TfidfVectorizer), `models.rs` (bytes, files, pickling, `inspect`), `resolve.rs` (Resolver); plus `error.rs` and
//! `convert.rs` (keyword arguments ↔ core config structs).

// The crate docs are for maintainers (Python users read the stubs): they may name private items.
#![allow(rustdoc::private_intra_doc_links)]
use std::path::PathBuf;

use pyo3::prelude::*;

mod arrow;
mod classify;
mod convert;
mod drift;
mod error;
mod grouper;
mod index;
mod lock;
mod metrics;
mod models;
mod resolve;
mod sklearn;
mod text;
mod vectorize;
mod window;

/// The faultlens version (also written into every model file).
#[pyfunction]
fn version() -> &'static str {
    faultlens::VERSION
}

/// Turns multi-core batch work on (default) or off for the whole process. `faultlens` turns it
/// off in forked children (rayon's threads do not survive `fork`).
#[pyfunction]
fn set_parallelism(enabled: bool) {
    faultlens::set_parallelism(enabled);
}

/// Whether batch work may use all cores.
#[pyfunction]
fn parallelism() -> bool {
    faultlens::parallelism()
}

/// Reads a model file's header and envelope without decoding it:
/// `{"kind", "format_version", "library_version", "payload_bytes"}`.
#[pyfunction]
fn inspect(py: Python<'_>, path: PathBuf) -> PyResult<Bound<'_, PyAny>> {
    models::inspect(py, path)
}

/// Panics inside faultlens on purpose, through the same path as every heavy call, so the tests
/// can show a panic arrives as `FaultlensError` and the interpreter lives on. Not public API.
#[pyfunction]
fn _panic_for_tests(py: Python<'_>, message: String) -> PyResult<()> {
    error::run_unlocked(py, || faultlens::panic_for_tests(&message))
}

#[pymodule(gil_used = false)]
fn _faultlens(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(version, m)?)?;
    m.add_function(wrap_pyfunction!(set_parallelism, m)?)?;
    m.add_function(wrap_pyfunction!(parallelism, m)?)?;
    m.add_function(wrap_pyfunction!(inspect, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_tests, m)?)?;
    m.add_function(wrap_pyfunction!(lock::_forked, m)?)?;
    m.add_class::<text::PyPreprocessor>()?;
    m.add_class::<text::PyTemplate>()?;
    m.add_class::<vectorize::PyTfidfVectorizer>()?;
    m.add_class::<resolve::PyResolver>()?;
    m.add_class::<resolve::PyResolution>()?;
    m.add_class::<resolve::PySimilarError>()?;
    m.add_class::<resolve::PyLabelScore>()?;
    m.add_class::<classify::PyTextClassifier>()?;
    m.add_function(wrap_pyfunction!(classify::evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(classify::compare, m)?)?;
    m.add_class::<window::PyWindowAggregator>()?;
    m.add_class::<grouper::PyIncidentGrouper>()?;
    m.add_class::<index::PySimilarityIndex>()?;
    m.add_class::<index::PyTextIndex>()?;
    m.add_class::<drift::PyKlDriftDetector>()?;
    m.add_class::<drift::PyAdwin>()?;
    m.add_class::<drift::PyPageHinkley>()?;
    m.add_function(wrap_pyfunction!(drift::ks_2samp, m)?)?;
    m.add_function(wrap_pyfunction!(drift::ks_columns, m)?)?;
    m.add_function(wrap_pyfunction!(window::group_incidents, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::merge_prometheus, m)?)?;
    m.add_function(wrap_pyfunction!(sklearn::_adopt_classifier, m)?)?;
    m.add_function(wrap_pyfunction!(sklearn::_adopt_vectorizer, m)?)?;
    m.add("__version__", faultlens::VERSION)?;
    Ok(())
}
