//! What the metrics calls share: `mergePrometheus` (several objects' Prometheus texts served as
//! one scrape) and the histogram interface of `metrics()`. Conversions only.

use napi::bindgen_prelude::Unknown;
use napi_derive::napi;
use serde_json::Value;

use crate::args;
use crate::error::{Result, to_js};

/// Several objects' `metricsPrometheus()` texts as one scrape: each family once, its samples
/// told apart by the label `name` (`names[i]` for `texts[i]`), as `faultlens/prometheus` reports
/// objects registered under those names.
#[napi(catch_unwind)]
pub fn merge_prometheus(
    #[napi(ts_arg_type = "Array<string>")] names: Unknown,
    #[napi(ts_arg_type = "Array<string>")] texts: Unknown,
) -> Result<String> {
    let (names, texts) = (
        args::strings(&names, "names")?,
        args::strings(&texts, "texts")?,
    );
    if names.len() != texts.len() {
        return Err(to_js(faultlens::Error::InvalidInput(format!(
            "names has {} entries but texts has {}",
            names.len(),
            texts.len()
        ))));
    }
    let parts: Vec<(&str, &str)> = names
        .iter()
        .map(String::as_str)
        .zip(texts.iter().map(String::as_str))
        .collect();
    faultlens::metrics::merge_prometheus(&parts).map_err(to_js)
}

/// A histogram: cumulative counts per upper bound, the count and the sum of the values.
#[napi(object, object_from_js = false, object_to_js = false)]
#[allow(dead_code)] // declares the TypeScript interface only; metrics arrive as JSON
pub struct MetricsHistogram {
    /// `[upper bound, cumulative count]` pairs.
    #[napi(ts_type = "Array<[number, number]>")]
    pub buckets: Value,
    /// Values observed.
    pub count: f64,
    /// Their sum.
    pub sum: f64,
}
