//! `FlClassifier` (`faultlens::TextClassifier`) and `fl_evaluate` / `fl_compare` from C.
//! Structured results (a prediction, training info, reports) come back as JSON strings.

use faultlens::sync::RwLock;
use std::ffi::{c_char, c_void};

use faultlens::{ClassifierConfig, TextClassifier};

use crate::artifact::{self, artifact_handle, read, write};
use crate::{
    Fail, FlStatus, FlStrings, Res, give_slice, guard, out_arg, owned_json, str_arg, str_array_arg,
};
use crate::{give_json, give_text};

/// A text classifier (TF-IDF, then logistic regression, naive Bayes, a calibrated linear SVM, or
/// the best of them by cross-validation), fitted or not.
///
/// Thread-safe: any number of reading calls (predict*, score, classes, to_bytes, ...) may run at
/// once from different threads; `fit` and `partial_fit` wait for them and run alone. Create with
/// `fl_classifier_new`, `fl_classifier_from_bytes` or `fl_classifier_load`; release with
/// `fl_classifier_free`.
pub struct FlClassifier {
    inner: RwLock<TextClassifier>,
}

artifact_handle!(FlClassifier: RwLock<TextClassifier>, config ClassifierConfig, arg "classifier", prefix "classifier");

/// Progress callback of `fl_classifier_fit`: `stage` (a static NUL-terminated name such as
/// "vectorize", "cv", "train", "calibrate", "holdout", valid only during the call), work `done`
/// out of `total`, and the `user_data` given to `fl_classifier_fit`. Called on the fitting thread.
pub type FlProgressFn = Option<
    unsafe extern "C" fn(stage: *const c_char, done: usize, total: usize, user_data: *mut c_void),
>;

/// Builds an unfitted classifier from a JSON config with the core's snake_case names (`model`:
/// "logistic", "naive_bayes", "linear_svm" or "auto"; `tfidf`, `c`, `alpha`, `max_iter`, `tol`,
/// `cv_folds`, `calibration_folds`, `holdout`, `seed`, `threshold`, `top_k`, `explain_top`,
/// `novelty_prior`, `novelty_threshold`);
/// NULL (or `{}`) means the defaults. Bad JSON, unknown fields and out-of-range values give
/// `FL_STATUS_INVALID_CONFIG`.
///
/// On success `*out` owns a new handle: free it with `fl_classifier_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_classifier_new(
    config_json: *const c_char,
    out: *mut *mut FlClassifier,
) -> FlStatus {
    unsafe { artifact::new(config_json, out) }
}

/// Frees a classifier. NULL is a no-op; freeing it again is refused. No other call may be using the handle.
/// Returns `FL_STATUS_INVALID_INPUT` and frees nothing when given a pointer that is not a live
/// handle of this type (freed already, another type's handle, or not made by faultlens).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_classifier_free(c: *mut FlClassifier) -> FlStatus {
    unsafe { artifact::free(c) }
}

/// Trains on `n` texts with their `n` labels (NUL-terminated UTF-8, read only during the call).
/// `progress` may be NULL; otherwise it is called with `user_data` as training advances (on the
/// calling thread, with the handle's write lock held: it must not call into this handle). On
/// failure the previous state is kept.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_classifier_fit(
    c: *mut FlClassifier,
    texts: *const *const c_char,
    labels: *const *const c_char,
    n: usize,
    progress: FlProgressFn,
    user_data: *mut c_void,
) -> FlStatus {
    guard(|| {
        let texts = unsafe { str_array_arg(texts, n, "texts") }?;
        let labels = unsafe { str_array_arg(labels, n, "labels") }?;
        let mut fresh = unsafe { read(c) }?.clone();
        let mut report = |stage: &str, done: usize, total: usize| {
            if let Some(f) = progress {
                let name = std::ffi::CString::new(stage).unwrap_or_default();
                // SAFETY: the caller promised `progress` is a valid function taking `user_data`.
                unsafe { f(name.as_ptr(), done, total, user_data) };
            }
        };
        let cb: Option<faultlens::classify::Progress<'_>> = if progress.is_some() {
            Some(&mut report)
        } else {
            None
        };
        fresh.fit_with_progress(&texts, &labels, cb)?;
        *unsafe { write(c) }? = fresh;
        Ok(())
    })
}

/// Learns `n` more labelled texts without retraining (naive Bayes only; an unfitted classifier
/// does a full fit). New labels are appended to the classes. Takes the write lock.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_classifier_partial_fit(
    c: *mut FlClassifier,
    texts: *const *const c_char,
    labels: *const *const c_char,
    n: usize,
) -> FlStatus {
    guard(|| {
        let texts = unsafe { str_array_arg(texts, n, "texts") }?;
        let labels = unsafe { str_array_arg(labels, n, "labels") }?;
        unsafe { write(c) }?.partial_fit(&texts, &labels)?;
        Ok(())
    })
}

/// The most probable label of each of `n` texts.
///
/// On success `*out` owns a new list of `n` labels: free it with `fl_strings_free`.
/// Thread-safe (read lock).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_classifier_predict(
    c: *const FlClassifier,
    texts: *const *const c_char,
    n: usize,
    out: *mut *mut FlStrings,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        let texts = unsafe { str_array_arg(texts, n, "texts") }?;
        *out = FlStrings::from_vec(unsafe { read(c) }?.predict(&texts)?)?.into_raw();
        Ok(())
    })
}

/// Probabilities of `n` texts, row-major: `n` rows of `n_classes` values in
/// `fl_classifier_classes` order (`*len` = n * n_classes).
///
/// On success `*values` owns `*len` doubles: free them with `fl_doubles_free(*values, *len)`.
/// Thread-safe (read lock).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_classifier_predict_proba(
    c: *const FlClassifier,
    texts: *const *const c_char,
    n: usize,
    values: *mut *mut f64,
    len: *mut usize,
) -> FlStatus {
    guard(|| {
        let values = unsafe { out_arg(values, "values") }?;
        let len = unsafe { out_arg(len, "len") }?;
        let texts = unsafe { str_array_arg(texts, n, "texts") }?;
        (*values, *len) = give_slice(unsafe { read(c) }?.predict_proba_flat(&texts)?);
        Ok(())
    })
}

/// One text's prediction as JSON: `{"label", "confidence", "reliable", "novelty", "novel",
/// "alternatives": [[label, p], ...], "explanation": [[ngram, weight], ...]}` (`confidence`: the
/// probability that `label` is right, lower for inputs unlike the training data; `novel`:
/// `novelty` above `novelty_threshold`).
///
/// On success `*json` owns a new string: free it with `fl_string_free`. Thread-safe (read lock).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_classifier_predict_one(
    c: *const FlClassifier,
    text: *const c_char,
    json: *mut *mut c_char,
) -> FlStatus {
    guard(|| {
        let json = unsafe { out_arg(json, "json") }?;
        let text = unsafe { str_arg(text, "text") }?;
        *json = owned_json(&unsafe { read(c) }?.predict_one(text)?)?;
        Ok(())
    })
}

/// Writes the accuracy on `n` labelled texts to `*out`. Thread-safe (read lock).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_classifier_score(
    c: *const FlClassifier,
    texts: *const *const c_char,
    labels: *const *const c_char,
    n: usize,
    out: *mut f64,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        let texts = unsafe { str_array_arg(texts, n, "texts") }?;
        let labels = unsafe { str_array_arg(labels, n, "labels") }?;
        *out = unsafe { read(c) }?.score(&texts, &labels)?;
        Ok(())
    })
}

/// The labels in probability column order.
///
/// On success `*out` owns a new list: free it with `fl_strings_free`. Thread-safe (read lock).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_classifier_classes(
    c: *const FlClassifier,
    out: *mut *mut FlStrings,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        *out = FlStrings::from_vec(unsafe { read(c) }?.classes()?.to_vec())?.into_raw();
        Ok(())
    })
}

/// Writes whether `fit` has run to `*out`. Thread-safe (read lock).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_classifier_is_fitted(
    c: *const FlClassifier,
    out: *mut bool,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        *out = unsafe { read(c) }?.is_fitted();
        Ok(())
    })
}

/// The model that was trained ("logistic", "naive_bayes" or "linear_svm"; "auto" is resolved).
///
/// On success `*out` owns a new string: free it with `fl_string_free`. Thread-safe (read lock).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_classifier_model(
    c: *const FlClassifier,
    out: *mut *mut c_char,
) -> FlStatus {
    let value = || Ok(unsafe { read(c) }?.model()?.name().to_owned());
    unsafe { give_text(out, "out", value) }
}

/// Prediction counters as JSON: `predictions` (every predicted row), `novel` and `unreliable`
/// (rows `fl_classifier_predict_one` scored so), `confidence` (`buckets`, `count`, `sum` of
/// those rows).
///
/// On success `*json` owns a new string: free it with `fl_string_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_classifier_metrics(
    c: *const FlClassifier,
    json: *mut *mut c_char,
) -> FlStatus {
    let value = || Ok(unsafe { read(c) }?.metrics());
    unsafe { give_json(json, "json", value) }
}

/// The prediction counters in the Prometheus text exposition format (0.0.4): the families of the Python and
/// Node collectors, without their `name` label (`fl_merge_prometheus` adds it).
///
/// On success `*text` owns the text: free it with `fl_string_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_classifier_metrics_prometheus(
    c: *const FlClassifier,
    text: *mut *mut c_char,
) -> FlStatus {
    let value = || Ok(unsafe { read(c) }?.metrics_prometheus());
    unsafe { give_text(text, "text", value) }
}

/// Sets the prediction counters back to zero. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_classifier_reset_metrics(c: *const FlClassifier) -> FlStatus {
    guard(|| {
        unsafe { read(c) }?.reset_metrics();
        Ok(())
    })
}

/// Training metadata as JSON (snake_case): time, sample counts, options, cross-validation scores,
/// baseline confidences.
///
/// On success `*json` owns a new string: free it with `fl_string_free`. Thread-safe (read lock).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_classifier_training_info(
    c: *const FlClassifier,
    json: *mut *mut c_char,
) -> FlStatus {
    guard(|| {
        let json = unsafe { out_arg(json, "json") }?;
        *json = owned_json(unsafe { read(c) }?.training_info()?)?;
        Ok(())
    })
}

/// Top-class probabilities on held-out data at training time (a drift baseline); empty when
/// unfitted.
///
/// On success `*values` owns `*len` doubles: free them with `fl_doubles_free(*values, *len)`.
/// Thread-safe (read lock).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_classifier_baseline_confidences(
    c: *const FlClassifier,
    values: *mut *mut f64,
    len: *mut usize,
) -> FlStatus {
    guard(|| {
        let values = unsafe { out_arg(values, "values") }?;
        let len = unsafe { out_arg(len, "len") }?;
        (*values, *len) = give_slice(unsafe { read(c) }?.baseline_confidences());
        Ok(())
    })
}

/// The full configuration as JSON (every field, snake_case), accepted by `fl_classifier_new`.
///
/// On success `*json` owns a new string: free it with `fl_string_free`. Thread-safe (read lock).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_classifier_config(
    c: *const FlClassifier,
    json: *mut *mut c_char,
) -> FlStatus {
    unsafe { artifact::config(c, json) }
}

/// The classifier as a complete model file in memory.
///
/// On success `*bytes` owns `*len` bytes: free them with `fl_bytes_free(*bytes, *len)`.
/// Thread-safe (read lock).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_classifier_to_bytes(
    c: *const FlClassifier,
    bytes: *mut *mut u8,
    len: *mut usize,
) -> FlStatus {
    unsafe { artifact::to_bytes(c, bytes, len) }
}

/// Decodes a model file held in memory (`len` bytes, read only during the call): damaged data
/// gives `FL_STATUS_CORRUPT`, an unsupported version `FL_STATUS_FORMAT`, another artifact kind
/// `FL_STATUS_WRONG_KIND`.
///
/// On success `*out` owns a new handle: free it with `fl_classifier_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_classifier_from_bytes(
    bytes: *const u8,
    len: usize,
    out: *mut *mut FlClassifier,
) -> FlStatus {
    unsafe { artifact::from_bytes(bytes, len, out) }
}

/// Writes the model file to `path` atomically. Thread-safe (read lock).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_classifier_save(
    c: *const FlClassifier,
    path: *const c_char,
) -> FlStatus {
    unsafe { artifact::save(c, path) }
}

/// Reads a model file written by `save` in any language.
///
/// On success `*out` owns a new handle: free it with `fl_classifier_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_classifier_load(
    path: *const c_char,
    out: *mut *mut FlClassifier,
) -> FlStatus {
    unsafe { artifact::load(path, out) }
}

/// Evaluates a fitted classifier on `n` labelled texts. The report is JSON: `accuracy`,
/// `per_class` (label, precision, recall, f1, support), `macro_f1`, `weighted_f1`, `confusion`
/// (rows: true, columns: predicted, in `labels` order), `labels`, `n_samples`, and `text` (the
/// readable report).
///
/// On success `*json` owns a new string: free it with `fl_string_free`. Thread-safe (read lock).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_evaluate(
    c: *const FlClassifier,
    texts: *const *const c_char,
    labels: *const *const c_char,
    n: usize,
    json: *mut *mut c_char,
) -> FlStatus {
    guard(|| {
        let json = unsafe { out_arg(json, "json") }?;
        let texts = unsafe { str_array_arg(texts, n, "texts") }?;
        let labels = unsafe { str_array_arg(labels, n, "labels") }?;
        let r = faultlens::evaluate(&*unsafe { read(c) }?, &texts, &labels)?;
        *json = with_text(&r, r.to_string())?;
        Ok(())
    })
}

/// Evaluates classifiers `a` and `b` on the same `n` labelled texts. JSON: reports `a` and `b`,
/// `accuracy_difference` and `macro_f1_difference` (B - A), `a_only_correct`, `b_only_correct`,
/// McNemar's `p_value`, `significant`, `alpha`, `better` ("a", "b" or "tie") and `text`. Every
/// label must be known to at least one model (else `FL_STATUS_INVALID_INPUT`).
///
/// On success `*json` owns a new string: free it with `fl_string_free`. Thread-safe (read locks).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_compare(
    a: *const FlClassifier,
    b: *const FlClassifier,
    texts: *const *const c_char,
    labels: *const *const c_char,
    n: usize,
    json: *mut *mut c_char,
) -> FlStatus {
    guard(|| {
        let json = unsafe { out_arg(json, "json") }?;
        let texts = unsafe { str_array_arg(texts, n, "texts") }?;
        let labels = unsafe { str_array_arg(labels, n, "labels") }?;
        let r = faultlens::compare(
            &*unsafe { read(a) }?,
            &*unsafe { read(b) }?,
            &texts,
            &labels,
        )?;
        *json = with_text(&r, r.to_string())?;
        Ok(())
    })
}

fn with_text<T: serde::Serialize>(v: &T, text: String) -> Res<*mut c_char> {
    let mut value = serde_json::to_value(v)
        .map_err(|e| Fail::new(FlStatus::InvalidInput, format!("cannot encode JSON: {e}")))?;
    if let serde_json::Value::Object(m) = &mut value {
        m.insert("text".into(), serde_json::Value::String(text));
    }
    owned_json(&value)
}
