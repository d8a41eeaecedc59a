//! Drift detection from C: `FlKlDrift` (`faultlens::drift::KlDriftDetector`), `FlAdwin`,
//! `FlPageHinkley`, `fl_ks_2samp` and `fl_ks_columns`. Conversions only.

use faultlens::sync::Mutex;
use std::ffi::c_char;

use faultlens::drift::{
    Adwin, AdwinConfig, KlDriftConfig, KlDriftDetector, PageHinkley, PageHinkleyConfig,
};

use crate::artifact::{self, artifact_handle, write};
use crate::{Fail, FlStatus, config_arg, give_slice, guard, out_arg, slice_arg};
use crate::{give_json, give_text};

/// An optional timestamp (seconds since the Unix epoch): NULL means now.
unsafe fn timestamp(t: *const f64) -> Option<f64> {
    unsafe { t.as_ref() }.copied()
}

/// Writes into a caller-provided array of `n` values (NULL allowed when the caller does not want
/// them).
unsafe fn out_array<'a, T>(p: *mut T, n: usize) -> Option<&'a mut [T]> {
    if p.is_null() {
        None
    } else {
        Some(unsafe { std::slice::from_raw_parts_mut(p, n) })
    }
}

// ---------------------------------------------------------------------------------------------
// FlKlDrift

/// A KL drift detector: a sliding window of scores compared with a baseline histogram, with
/// calibrated (default) or fixed thresholds, drift events and a retrain policy (docs/drift.md).
///
/// Thread-safe: the handle holds a mutex, so calls from several threads run one at a time.
/// Create with `fl_kl_drift_new`, `fl_kl_drift_from_baseline`, `fl_kl_drift_from_histogram`,
/// `fl_kl_drift_from_bytes` or `fl_kl_drift_load`; release with `fl_kl_drift_free`.
pub struct FlKlDrift {
    inner: Mutex<KlDriftDetector>,
}

artifact_handle!(FlKlDrift: Mutex<KlDriftDetector>, config KlDriftConfig, arg "detector", prefix "kl_drift");

/// Builds a detector without a baseline from a JSON config with the core's snake_case names
/// (`window`, `bins`, `range`, `epsilon`, `threshold_mode` ("calibrated" | "fixed"),
/// `false_alarm_rate`, `watch_rate`, `severe_factor`, `calibration_resamples`, `seed`,
/// `fixed_thresholds` {watch, drift, severe}, `retrain_drifts`, `retrain_days`, `max_events`,
/// `history_days`); NULL means the defaults.
///
/// On success `*out` owns a new handle: free it with `fl_kl_drift_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_kl_drift_new(
    config_json: *const c_char,
    out: *mut *mut FlKlDrift,
) -> FlStatus {
    unsafe { artifact::new(config_json, out) }
}

/// Builds a detector whose baseline is `n` scores (read only during the call) and calibrates its
/// thresholds. An empty, constant or NaN-holding baseline, or one shorter than the window, gives
/// `FL_STATUS_INVALID_INPUT`.
///
/// On success `*out` owns a new handle: free it with `fl_kl_drift_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_kl_drift_from_baseline(
    scores: *const f64,
    n: usize,
    config_json: *const c_char,
    out: *mut *mut FlKlDrift,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        let scores = unsafe { slice_arg(scores, n, "scores") }?;
        let config: KlDriftConfig = unsafe { config_arg(config_json, "config_json") }?;
        *out = artifact::give(KlDriftDetector::from_baseline(scores, config)?);
        Ok(())
    })
}

/// Builds a detector whose baseline is a histogram of `n` counts (`n` must equal the config's
/// `bins`, else `FL_STATUS_DIMENSION`); histograms of shards add up.
///
/// On success `*out` owns a new handle: free it with `fl_kl_drift_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_kl_drift_from_histogram(
    counts: *const u64,
    n: usize,
    config_json: *const c_char,
    out: *mut *mut FlKlDrift,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        let counts = unsafe { slice_arg(counts, n, "counts") }?;
        let config: KlDriftConfig = unsafe { config_arg(config_json, "config_json") }?;
        *out = artifact::give(KlDriftDetector::from_histogram(counts, config)?);
        Ok(())
    })
}

/// Frees a detector. NULL is a no-op; freeing it again is refused. No other call may be using the handle.
/// Returns `FL_STATUS_INVALID_INPUT` and frees nothing when given a pointer that is not a live
/// handle of this type (freed already, another type's handle, or not made by faultlens).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_kl_drift_free(d: *mut FlKlDrift) -> FlStatus {
    unsafe { artifact::free(d) }
}

/// Replaces the baseline with `n` scores, recalibrates, and resets the window and events.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_kl_drift_set_baseline(
    d: *mut FlKlDrift,
    scores: *const f64,
    n: usize,
) -> FlStatus {
    guard(|| {
        let scores = unsafe { slice_arg(scores, n, "scores") }?;
        unsafe { write(d) }?.set_baseline(scores)?;
        Ok(())
    })
}

/// Replaces the baseline with a histogram of `n` counts, recalibrates, and resets.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_kl_drift_set_baseline_histogram(
    d: *mut FlKlDrift,
    counts: *const u64,
    n: usize,
) -> FlStatus {
    guard(|| {
        let counts = unsafe { slice_arg(counts, n, "counts") }?;
        unsafe { write(d) }?.set_baseline_histogram(counts)?;
        Ok(())
    })
}

/// Adds one score at `*timestamp` (seconds since the Unix epoch; NULL = now) and checks the
/// window: `*drift` is true when the full window's KL is above the drift threshold, `*kl` is the
/// window's KL. A non-finite score gives `FL_STATUS_INVALID_INPUT`; no baseline `FL_STATUS_NOT_FITTED`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_kl_drift_add(
    d: *mut FlKlDrift,
    score: f64,
    timestamp: *const f64,
    drift: *mut bool,
    kl: *mut f64,
) -> FlStatus {
    guard(|| {
        let drift = unsafe { out_arg(drift, "drift") }?;
        let kl_out = unsafe { out_arg(kl, "kl") }?;
        let c = unsafe { write(d) }?.add(score, unsafe { self::timestamp(timestamp) })?;
        (*drift, *kl_out) = (c.drift, c.kl);
        Ok(())
    })
}

/// Adds `n` scores at one timestamp (NULL = now), checking after each. `drift` and `kl`, when not
/// NULL, are caller arrays of `n` values that receive each check. A non-finite score anywhere
/// rejects the whole batch before anything is added.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_kl_drift_add_many(
    d: *mut FlKlDrift,
    scores: *const f64,
    n: usize,
    timestamp: *const f64,
    drift: *mut bool,
    kl: *mut f64,
) -> FlStatus {
    guard(|| {
        let scores = unsafe { slice_arg(scores, n, "scores") }?;
        let checks =
            unsafe { write(d) }?.add_many(scores, unsafe { self::timestamp(timestamp) })?;
        if let Some(out) = unsafe { out_array(drift, n) } {
            for (o, c) in out.iter_mut().zip(&checks) {
                *o = c.drift;
            }
        }
        if let Some(out) = unsafe { out_array(kl, n) } {
            for (o, c) in out.iter_mut().zip(&checks) {
                *o = c.kl;
            }
        }
        Ok(())
    })
}

/// Adds `n` scores at one timestamp (NULL = now), checking after each like
/// `fl_kl_drift_add_many`, but reports only where drift episodes started: their positions go into
/// `starts` (a caller array of capacity `n`, may be NULL) and their number into `*n_starts`.
/// `*n_drift` (checks flagged), `*drift` and `*kl` (after the last score) and `*max_kl` (largest
/// full-window KL in the batch) are written when not NULL. The fast path for large batches. A
/// non-finite score anywhere rejects the whole batch before anything is added.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fl_kl_drift_add_batch(
    d: *mut FlKlDrift,
    scores: *const f64,
    n: usize,
    timestamp: *const f64,
    starts: *mut usize,
    n_starts: *mut usize,
    n_drift: *mut usize,
    drift: *mut bool,
    kl: *mut f64,
    max_kl: *mut f64,
) -> FlStatus {
    guard(|| {
        let n_starts = unsafe { out_arg(n_starts, "n_starts") }?;
        let scores = unsafe { slice_arg(scores, n, "scores") }?;
        let r = unsafe { write(d) }?.add_batch(scores, unsafe { self::timestamp(timestamp) })?;
        if let Some(out) = unsafe { out_array(starts, n) } {
            out[..r.drift_starts.len()].copy_from_slice(&r.drift_starts);
        }
        *n_starts = r.drift_starts.len();
        if let Some(o) = unsafe { out_array(n_drift, 1) } {
            o[0] = r.n_drift;
        }
        if let Some(o) = unsafe { out_array(drift, 1) } {
            o[0] = r.drift;
        }
        if let Some(o) = unsafe { out_array(kl, 1) } {
            o[0] = r.kl;
        }
        if let Some(o) = unsafe { out_array(max_kl, 1) } {
            o[0] = r.max_kl;
        }
        Ok(())
    })
}

/// How the calibrated thresholds came about, as JSON: `{"mean", "variance", "max", "resamples",
/// "short_window", "short_mean", "short_variance", "short_max"}` (all 0 in fixed mode).
///
/// On success `*json` owns a new string: free it with `fl_string_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_kl_drift_calibration(
    d: *const FlKlDrift,
    json: *mut *mut c_char,
) -> FlStatus {
    let value = || Ok(unsafe { write(d) }?.calibration()?);
    unsafe { give_json(json, "json", value) }
}

/// The status as JSON: `{"drift", "level", "kl", "psi", "js", "thresholds": {"watch", "drift",
/// "severe"}, "window_size", "n_window", "n_seen", "window_mean", "window_std" (null while the
/// window is empty), "out_of_range", "should_retrain", "short_window", "short_kl",
/// "short_thresholds" (null when the short window is off)}`.
///
/// On success `*json` owns a new string: free it with `fl_string_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_kl_drift_status(
    d: *const FlKlDrift,
    json: *mut *mut c_char,
) -> FlStatus {
    let value = || Ok(unsafe { write(d) }?.status()?);
    unsafe { give_json(json, "json", value) }
}

/// `fl_kl_drift_status` in the Prometheus text exposition format (0.0.4): the families of the Python and
/// Node collectors, without their `name` label (`fl_merge_prometheus` adds it).
/// `FL_STATUS_NOT_FITTED` without a baseline.
///
/// On success `*text` owns the text: free it with `fl_string_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_kl_drift_metrics_prometheus(
    d: *const FlKlDrift,
    text: *mut *mut c_char,
) -> FlStatus {
    let value = || Ok(unsafe { write(d) }?.metrics_prometheus()?);
    unsafe { give_text(text, "text", value) }
}

/// Drift events and KL statistics over the last `days` days as JSON: `{"days", "drift_count",
/// "max_kl", "mean_kl", "n_checks", "should_retrain", "events": [{"timestamp", "kl", "max_kl",
/// "severe", "end"}]}`.
///
/// On success `*json` owns a new string: free it with `fl_string_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_kl_drift_summary(
    d: *const FlKlDrift,
    days: f64,
    json: *mut *mut c_char,
) -> FlStatus {
    let value = || Ok(unsafe { write(d) }?.summary(days)?);
    unsafe { give_json(json, "json", value) }
}

/// Empties the window and forgets events; keeps the baseline and thresholds.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_kl_drift_reset(d: *mut FlKlDrift) -> FlStatus {
    guard(|| {
        unsafe { write(d) }?.reset();
        Ok(())
    })
}

/// `*fitted` is true when a baseline is set.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_kl_drift_is_fitted(d: *const FlKlDrift, fitted: *mut bool) -> FlStatus {
    guard(|| {
        let fitted = unsafe { out_arg(fitted, "fitted") }?;
        *fitted = unsafe { write(d) }?.is_fitted();
        Ok(())
    })
}

/// The thresholds in use (calibrated or fixed).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_kl_drift_thresholds(
    d: *const FlKlDrift,
    watch: *mut f64,
    drift: *mut f64,
    severe: *mut f64,
) -> FlStatus {
    guard(|| {
        let (w, dr, s) = unsafe {
            (
                out_arg(watch, "watch")?,
                out_arg(drift, "drift")?,
                out_arg(severe, "severe")?,
            )
        };
        let t = unsafe { write(d) }?.thresholds()?;
        (*w, *dr, *s) = (t.watch, t.drift, t.severe);
        Ok(())
    })
}

/// The baseline histogram counts (as doubles, exact below 2^53).
///
/// On success `*counts` owns `*len` values: free them with `fl_doubles_free(*counts, *len)`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_kl_drift_baseline_histogram(
    d: *const FlKlDrift,
    counts: *mut *mut f64,
    len: *mut usize,
) -> FlStatus {
    guard(|| {
        let counts = unsafe { out_arg(counts, "counts") }?;
        let len = unsafe { out_arg(len, "len") }?;
        let h = unsafe { write(d) }?.baseline_histogram()?;
        (*counts, *len) = give_slice(h.into_iter().map(|c| c as f64).collect());
        Ok(())
    })
}

/// The full configuration as JSON (snake_case), accepted by `fl_kl_drift_new`.
///
/// On success `*json` owns a new string: free it with `fl_string_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_kl_drift_config(
    d: *const FlKlDrift,
    json: *mut *mut c_char,
) -> FlStatus {
    unsafe { artifact::config(d, json) }
}

/// The detector (config, baseline, thresholds, window, events) as a model file in memory.
///
/// On success `*bytes` owns `*len` bytes: free them with `fl_bytes_free(*bytes, *len)`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_kl_drift_to_bytes(
    d: *const FlKlDrift,
    bytes: *mut *mut u8,
    len: *mut usize,
) -> FlStatus {
    unsafe { artifact::to_bytes(d, bytes, len) }
}

/// Decodes a model file held in memory (`len` bytes, read only during the call).
///
/// On success `*out` owns a new handle: free it with `fl_kl_drift_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_kl_drift_from_bytes(
    bytes: *const u8,
    len: usize,
    out: *mut *mut FlKlDrift,
) -> FlStatus {
    unsafe { artifact::from_bytes(bytes, len, out) }
}

/// Writes the model file atomically (a failed save keeps any previous file).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_kl_drift_save(d: *const FlKlDrift, path: *const c_char) -> FlStatus {
    unsafe { artifact::save(d, path) }
}

/// Reads a model file written by `save` in any language.
///
/// On success `*out` owns a new handle: free it with `fl_kl_drift_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_kl_drift_load(
    path: *const c_char,
    out: *mut *mut FlKlDrift,
) -> FlStatus {
    unsafe { artifact::load(path, out) }
}

// ---------------------------------------------------------------------------------------------
// Streaming detectors: the same surface for both, written out (cbindgen does not expand macros).

/// An ADWIN change detector with river's parameters (`delta` 0.002, `clock` 32, `max_buckets` 5, `min_window_length` 5, `grace_period` 10) and change points.
///
/// Thread-safe: the handle holds a mutex. Release with the matching `_free`.
pub struct FlAdwin {
    inner: Mutex<Adwin>,
}

artifact_handle!(FlAdwin: Mutex<Adwin>, config AdwinConfig, arg "detector", prefix "adwin");

/// Builds a detector from a JSON config with river's snake_case parameter names; NULL
/// means river's defaults. Bad or unknown fields give `FL_STATUS_INVALID_CONFIG`.
///
/// On success `*out` owns a new handle: free it with the matching `_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_adwin_new(
    config_json: *const c_char,
    out: *mut *mut FlAdwin,
) -> FlStatus {
    unsafe { artifact::new(config_json, out) }
}

/// Frees a detector. NULL is a no-op; freeing it again is refused. No other call may be using the handle.
/// Returns `FL_STATUS_INVALID_INPUT` and frees nothing when given a pointer that is not a live
/// handle of this type (freed already, another type's handle, or not made by faultlens).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_adwin_free(d: *mut FlAdwin) -> FlStatus {
    unsafe { artifact::free(d) }
}

/// Adds one value; `*drift` is true when a change was detected at it. A non-finite value, or
/// one beyond ±1e100, gives `FL_STATUS_INVALID_INPUT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_adwin_update(d: *mut FlAdwin, x: f64, drift: *mut bool) -> FlStatus {
    guard(|| {
        let drift = unsafe { out_arg(drift, "drift") }?;
        *drift = unsafe { write(d) }?.update(x)?;
        Ok(())
    })
}

/// Adds `n` values; writes the indices where a change was detected into `indices` (a
/// caller array of capacity `n`, may be NULL) and their number into `*n_hits`. A
/// non-finite value, or one beyond ±1e100, anywhere rejects the whole batch before anything
/// is added.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_adwin_update_many(
    d: *mut FlAdwin,
    xs: *const f64,
    n: usize,
    indices: *mut usize,
    n_hits: *mut usize,
) -> FlStatus {
    guard(|| {
        let n_hits = unsafe { out_arg(n_hits, "n_hits") }?;
        let xs = unsafe { slice_arg(xs, n, "xs") }?;
        let hits = unsafe { write(d) }?.update_many(xs)?;
        if let Some(out) = unsafe { out_array(indices, n) } {
            out[..hits.len()].copy_from_slice(&hits);
        }
        *n_hits = hits.len();
        Ok(())
    })
}

/// `*drift` is true when the last value triggered a change.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_adwin_drift_detected(d: *const FlAdwin, drift: *mut bool) -> FlStatus {
    guard(|| {
        let drift = unsafe { out_arg(drift, "drift") }?;
        *drift = unsafe { write(d) }?.drift_detected();
        Ok(())
    })
}

/// Changes detected since creation.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_adwin_n_detections(d: *const FlAdwin, n: *mut usize) -> FlStatus {
    guard(|| {
        let n = unsafe { out_arg(n, "n") }?;
        *n = unsafe { write(d) }?.n_detections() as usize;
        Ok(())
    })
}

/// Whether the last update detected a change and the changes detected in the Prometheus text exposition format (0.0.4): the families of the Python and
/// Node collectors, without their `name` label (`fl_merge_prometheus` adds it).
///
/// On success `*text` owns the text: free it with `fl_string_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_adwin_metrics_prometheus(
    d: *const FlAdwin,
    text: *mut *mut c_char,
) -> FlStatus {
    let value = || Ok(unsafe { write(d) }?.metrics_prometheus());
    unsafe { give_text(text, "text", value) }
}

/// Forgets the stream so far (the detection count is kept).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_adwin_reset(d: *mut FlAdwin) -> FlStatus {
    guard(|| {
        unsafe { write(d) }?.reset();
        Ok(())
    })
}

/// The full configuration as JSON (snake_case).
///
/// On success `*json` owns a new string: free it with `fl_string_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_adwin_config(d: *const FlAdwin, json: *mut *mut c_char) -> FlStatus {
    unsafe { artifact::config(d, json) }
}

/// The whole detector state as a model file in memory.
///
/// On success `*bytes` owns `*len` bytes: free them with `fl_bytes_free(*bytes, *len)`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_adwin_to_bytes(
    d: *const FlAdwin,
    bytes: *mut *mut u8,
    len: *mut usize,
) -> FlStatus {
    unsafe { artifact::to_bytes(d, bytes, len) }
}

/// Decodes a model file held in memory (`len` bytes, read only during the call).
///
/// On success `*out` owns a new handle: free it with the matching `_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_adwin_from_bytes(
    bytes: *const u8,
    len: usize,
    out: *mut *mut FlAdwin,
) -> FlStatus {
    unsafe { artifact::from_bytes(bytes, len, out) }
}

/// Writes the model file atomically.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_adwin_save(d: *const FlAdwin, path: *const c_char) -> FlStatus {
    unsafe { artifact::save(d, path) }
}

/// Reads a model file written by `save` in any language.
///
/// On success `*out` owns a new handle: free it with the matching `_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_adwin_load(path: *const c_char, out: *mut *mut FlAdwin) -> FlStatus {
    unsafe { artifact::load(path, out) }
}

/// A Page-Hinkley change detector with river's parameters (`min_instances` 30, `delta` 0.005, `threshold` 50, `alpha` 1 - 0.0001, `mode` "both") and change points.
///
/// Thread-safe: the handle holds a mutex. Release with the matching `_free`.
pub struct FlPageHinkley {
    inner: Mutex<PageHinkley>,
}

artifact_handle!(FlPageHinkley: Mutex<PageHinkley>, config PageHinkleyConfig, arg "detector", prefix "page_hinkley");

/// Builds a detector from a JSON config with river's snake_case parameter names; NULL
/// means river's defaults. Bad or unknown fields give `FL_STATUS_INVALID_CONFIG`.
///
/// On success `*out` owns a new handle: free it with the matching `_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_page_hinkley_new(
    config_json: *const c_char,
    out: *mut *mut FlPageHinkley,
) -> FlStatus {
    unsafe { artifact::new(config_json, out) }
}

/// Frees a detector. NULL is a no-op; freeing it again is refused. No other call may be using the handle.
/// Returns `FL_STATUS_INVALID_INPUT` and frees nothing when given a pointer that is not a live
/// handle of this type (freed already, another type's handle, or not made by faultlens).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_page_hinkley_free(d: *mut FlPageHinkley) -> FlStatus {
    unsafe { artifact::free(d) }
}

/// Adds one value; `*drift` is true when a change was detected at it. A non-finite value, or
/// one beyond ±1e100, gives `FL_STATUS_INVALID_INPUT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_page_hinkley_update(
    d: *mut FlPageHinkley,
    x: f64,
    drift: *mut bool,
) -> FlStatus {
    guard(|| {
        let drift = unsafe { out_arg(drift, "drift") }?;
        *drift = unsafe { write(d) }?.update(x)?;
        Ok(())
    })
}

/// Adds `n` values; writes the indices where a change was detected into `indices` (a
/// caller array of capacity `n`, may be NULL) and their number into `*n_hits`. A
/// non-finite value, or one beyond ±1e100, anywhere rejects the whole batch before anything
/// is added.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_page_hinkley_update_many(
    d: *mut FlPageHinkley,
    xs: *const f64,
    n: usize,
    indices: *mut usize,
    n_hits: *mut usize,
) -> FlStatus {
    guard(|| {
        let n_hits = unsafe { out_arg(n_hits, "n_hits") }?;
        let xs = unsafe { slice_arg(xs, n, "xs") }?;
        let hits = unsafe { write(d) }?.update_many(xs)?;
        if let Some(out) = unsafe { out_array(indices, n) } {
            out[..hits.len()].copy_from_slice(&hits);
        }
        *n_hits = hits.len();
        Ok(())
    })
}

/// `*drift` is true when the last value triggered a change.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_page_hinkley_drift_detected(
    d: *const FlPageHinkley,
    drift: *mut bool,
) -> FlStatus {
    guard(|| {
        let drift = unsafe { out_arg(drift, "drift") }?;
        *drift = unsafe { write(d) }?.drift_detected();
        Ok(())
    })
}

/// Changes detected since creation.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_page_hinkley_n_detections(
    d: *const FlPageHinkley,
    n: *mut usize,
) -> FlStatus {
    guard(|| {
        let n = unsafe { out_arg(n, "n") }?;
        *n = unsafe { write(d) }?.n_detections() as usize;
        Ok(())
    })
}

/// Whether the last update detected a change and the changes detected in the Prometheus text exposition format (0.0.4): the families of the Python and
/// Node collectors, without their `name` label (`fl_merge_prometheus` adds it).
///
/// On success `*text` owns the text: free it with `fl_string_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_page_hinkley_metrics_prometheus(
    d: *const FlPageHinkley,
    text: *mut *mut c_char,
) -> FlStatus {
    let value = || Ok(unsafe { write(d) }?.metrics_prometheus());
    unsafe { give_text(text, "text", value) }
}

/// Forgets the stream so far (the detection count is kept).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_page_hinkley_reset(d: *mut FlPageHinkley) -> FlStatus {
    guard(|| {
        unsafe { write(d) }?.reset();
        Ok(())
    })
}

/// The full configuration as JSON (snake_case).
///
/// On success `*json` owns a new string: free it with `fl_string_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_page_hinkley_config(
    d: *const FlPageHinkley,
    json: *mut *mut c_char,
) -> FlStatus {
    unsafe { artifact::config(d, json) }
}

/// The whole detector state as a model file in memory.
///
/// On success `*bytes` owns `*len` bytes: free them with `fl_bytes_free(*bytes, *len)`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_page_hinkley_to_bytes(
    d: *const FlPageHinkley,
    bytes: *mut *mut u8,
    len: *mut usize,
) -> FlStatus {
    unsafe { artifact::to_bytes(d, bytes, len) }
}

/// Decodes a model file held in memory (`len` bytes, read only during the call).
///
/// On success `*out` owns a new handle: free it with the matching `_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_page_hinkley_from_bytes(
    bytes: *const u8,
    len: usize,
    out: *mut *mut FlPageHinkley,
) -> FlStatus {
    unsafe { artifact::from_bytes(bytes, len, out) }
}

/// Writes the model file atomically.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_page_hinkley_save(
    d: *const FlPageHinkley,
    path: *const c_char,
) -> FlStatus {
    unsafe { artifact::save(d, path) }
}

/// Reads a model file written by `save` in any language.
///
/// On success `*out` owns a new handle: free it with the matching `_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_page_hinkley_load(
    path: *const c_char,
    out: *mut *mut FlPageHinkley,
) -> FlStatus {
    unsafe { artifact::load(path, out) }
}

/// Number of values in the ADWIN window.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_adwin_width(d: *const FlAdwin, width: *mut f64) -> FlStatus {
    guard(|| {
        let width = unsafe { out_arg(width, "width") }?;
        *width = unsafe { write(d) }?.width();
        Ok(())
    })
}

/// Mean of the ADWIN window.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_adwin_estimation(d: *const FlAdwin, mean: *mut f64) -> FlStatus {
    guard(|| {
        let mean = unsafe { out_arg(mean, "mean") }?;
        *mean = unsafe { write(d) }?.estimation();
        Ok(())
    })
}

/// Variance of the ADWIN window.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_adwin_variance(d: *const FlAdwin, variance: *mut f64) -> FlStatus {
    guard(|| {
        let variance = unsafe { out_arg(variance, "variance") }?;
        *variance = unsafe { write(d) }?.variance();
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// KS tests

/// Two-sided two-sample Kolmogorov-Smirnov test equal to `scipy.stats.ks_2samp` (exact for
/// samples of at most 10 000 values, asymptotic otherwise). Empty samples or NaN give
/// `FL_STATUS_INVALID_INPUT`. `*exact` (may be NULL) tells which method gave the p-value.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_ks_2samp(
    reference: *const f64,
    n_reference: usize,
    current: *const f64,
    n_current: usize,
    statistic: *mut f64,
    pvalue: *mut f64,
    exact: *mut bool,
) -> FlStatus {
    guard(|| {
        let statistic = unsafe { out_arg(statistic, "statistic") }?;
        let pvalue = unsafe { out_arg(pvalue, "pvalue") }?;
        let a = unsafe { slice_arg(reference, n_reference, "reference") }?;
        let b = unsafe { slice_arg(current, n_current, "current") }?;
        let r = faultlens::drift::ks_2samp(a, b)?;
        (*statistic, *pvalue) = (r.statistic, r.pvalue);
        if let Some(e) = unsafe { exact.as_mut() } {
            *e = r.method == faultlens::drift::KsMethod::Exact;
        }
        Ok(())
    })
}

/// Per-column KS tests of two row-major matrices with `n_cols` columns (`reference_rows` and
/// `current_rows` rows). `statistics`, `pvalues` and `drift` (any may be NULL) are caller arrays
/// of `n_cols` values; drift is `pvalue < alpha`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_ks_columns(
    reference: *const f64,
    reference_rows: usize,
    current: *const f64,
    current_rows: usize,
    n_cols: usize,
    alpha: f64,
    statistics: *mut f64,
    pvalues: *mut f64,
    drift: *mut bool,
) -> FlStatus {
    guard(|| {
        let len = |rows: usize| {
            rows.checked_mul(n_cols)
                .ok_or_else(|| Fail::new(FlStatus::InvalidInput, "rows * n_cols overflows size_t"))
        };
        let a = unsafe { slice_arg(reference, len(reference_rows)?, "reference") }?;
        let b = unsafe { slice_arg(current, len(current_rows)?, "current") }?;
        let cols = faultlens::drift::ks_columns_flat(a, b, n_cols, alpha)?;
        if let Some(out) = unsafe { out_array(statistics, n_cols) } {
            for (o, c) in out.iter_mut().zip(&cols) {
                *o = c.statistic;
            }
        }
        if let Some(out) = unsafe { out_array(pvalues, n_cols) } {
            for (o, c) in out.iter_mut().zip(&cols) {
                *o = c.pvalue;
            }
        }
        if let Some(out) = unsafe { out_array(drift, n_cols) } {
            for (o, c) in out.iter_mut().zip(&cols) {
                *o = c.drift;
            }
        }
        Ok(())
    })
}
