//! `merge_prometheus`: several objects' Prometheus texts served as one scrape. Conversions only.

use pyo3::prelude::*;

use crate::error::{Failure, attached, catching};

/// `(names[i], texts[i])` pairs; `InvalidInput` when the lists differ in length.
fn pairs<'a>(names: &'a [String], texts: &'a [String]) -> Result<Vec<(&'a str, &'a str)>, Failure> {
    if names.len() != texts.len() {
        return Err(faultlens::Error::InvalidInput(format!(
            "names has {} entries but texts has {}",
            names.len(),
            texts.len()
        ))
        .into());
    }
    Ok(names
        .iter()
        .map(String::as_str)
        .zip(texts.iter().map(String::as_str))
        .collect())
}

/// Several objects' `metrics_prometheus()` texts as one scrape: each family once, its samples
/// told apart by the label `name` (`names[i]` for `texts[i]`), as `faultlens.prometheus` reports
/// objects registered under those names.
#[pyfunction]
pub(crate) fn merge_prometheus(
    py: Python<'_>,
    names: Vec<String>,
    texts: Vec<String>,
) -> PyResult<String> {
    attached(
        py,
        catching(|| {
            Ok(faultlens::metrics::merge_prometheus(&pairs(
                &names, &texts,
            )?)?)
        }),
    )
}
