//! `FlTfidf` (`faultlens::TfidfVectorizer`) and `FlCsr` (`faultlens::CsrMatrix`) from C.

use faultlens::sync::RwLock;
use std::collections::BTreeMap;
use std::ffi::c_char;

use faultlens::{CsrMatrix, TfidfConfig, TfidfVectorizer};

use crate::artifact::{self, artifact_handle, read, write};
use crate::{
    Fail, FlStatus, FlStrings, Res, give_slice, guard, guard_or, out_arg, owned_json, slice_arg,
    str_arg, str_array_arg,
};

/// A TF-IDF vectoriser (word n-grams, scikit-learn compatible values), fitted or not.
///
/// Thread-safe: the handle holds a read-write lock, so any number of reading calls (transform,
/// similarity, feature_names, to_bytes, ...) may run at once from different threads, and the
/// `fit*` calls wait for them and run alone. Create with `fl_tfidf_new`, `fl_tfidf_from_bytes` or
/// `fl_tfidf_load`; release with `fl_tfidf_free`.
pub struct FlTfidf {
    inner: RwLock<TfidfVectorizer>,
}

artifact_handle!(FlTfidf: RwLock<TfidfVectorizer>, config TfidfConfig, arg "vectorizer", prefix "tfidf");

/// A sparse matrix in compressed sparse row form, laid out as scipy's `csr_matrix`: row `i`
/// holds the entries `indptr[i] .. indptr[i + 1]` of `indices` (columns, ascending within a row)
/// and `data` (values). Immutable; safe to read from several threads. Release with `fl_csr_free`.
pub struct FlCsr {
    inner: CsrMatrix,
}

impl FlCsr {
    fn into_raw(m: CsrMatrix) -> *mut FlCsr {
        crate::into_handle(Box::new(FlCsr { inner: m }))
    }
}

/// Token documents given as one flat array of strings plus the length of each document.
unsafe fn token_docs<'a>(
    tokens: *const *const c_char,
    doc_lens: *const usize,
    n_docs: usize,
) -> Res<Vec<Vec<&'a str>>> {
    let lens = unsafe { slice_arg(doc_lens, n_docs, "doc_lens") }?;
    let total = lens
        .iter()
        .try_fold(0usize, |acc, &l| acc.checked_add(l))
        .ok_or_else(|| Fail::new(FlStatus::InvalidInput, "`doc_lens` sum overflows size_t"))?;
    let flat = unsafe { str_array_arg(tokens, total, "tokens") }?;
    let mut docs = Vec::with_capacity(n_docs);
    let mut start = 0;
    for &l in lens {
        docs.push(flat[start..start + l].to_vec());
        start += l;
    }
    Ok(docs)
}

/// Builds an unfitted vectoriser from a JSON config with the core's snake_case names
/// (`ngram_range`, `min_df`, `max_df`, `max_features`, `sublinear_tf`, `norm`, `use_idf`,
/// `smooth_idf`, `preprocessor`, `max_distinct_terms`), e.g. `{"ngram_range":[1,3],"preprocessor":null}`; NULL (or
/// `{}`) means the defaults. `min_df`/`max_df`: an integer is a document count, a float a
/// fraction. `"preprocessor": null` splits texts on whitespace only; an object configures the
/// preprocessor as in `fl_preprocessor_new`. Bad JSON, unknown fields and out-of-range values
/// give `FL_STATUS_INVALID_CONFIG`.
///
/// On success `*out` owns a new handle: free it with `fl_tfidf_free`. On failure `*out` is NULL.
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_tfidf_new(
    config_json: *const c_char,
    out: *mut *mut FlTfidf,
) -> FlStatus {
    unsafe { artifact::new(config_json, out) }
}

/// Frees a vectoriser. NULL is a no-op; freeing it again is refused. No other call may be using the handle.
/// Returns `FL_STATUS_INVALID_INPUT` and frees nothing when given a pointer that is not a live
/// handle of this type (freed already, another type's handle, or not made by faultlens).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_tfidf_free(v: *mut FlTfidf) -> FlStatus {
    unsafe { artifact::free(v) }
}

/// Learns the vocabulary and idf from `n` raw texts (NUL-terminated UTF-8, read only during the
/// call), through the configured preprocessor. Refitting replaces the previous state; on failure
/// the previous state is kept. Takes the handle's write lock.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_tfidf_fit(
    v: *mut FlTfidf,
    texts: *const *const c_char,
    n: usize,
) -> FlStatus {
    guard(|| {
        let texts = unsafe { str_array_arg(texts, n, "texts") }?;
        unsafe { write(v) }?.fit(&texts)?;
        Ok(())
    })
}

/// Learns the vocabulary and idf from `n_docs` documents that are already token lists, used as
/// they are: `tokens` is one flat array holding document 0's `doc_lens[0]` tokens, then document
/// 1's `doc_lens[1]` tokens, and so on. All arrays are read only during the call. Takes the
/// handle's write lock.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_tfidf_fit_tokens(
    v: *mut FlTfidf,
    tokens: *const *const c_char,
    doc_lens: *const usize,
    n_docs: usize,
) -> FlStatus {
    guard(|| {
        let docs = unsafe { token_docs(tokens, doc_lens, n_docs) }?;
        unsafe { write(v) }?.fit_tokens(&docs)?;
        Ok(())
    })
}

/// TF-IDF rows for `n` raw texts; `FL_STATUS_NOT_FITTED` before a fit.
///
/// On success `*out` owns a new `n` x `n_features` matrix: free it with `fl_csr_free`.
/// Thread-safe (read lock).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_tfidf_transform(
    v: *const FlTfidf,
    texts: *const *const c_char,
    n: usize,
    out: *mut *mut FlCsr,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        let texts = unsafe { str_array_arg(texts, n, "texts") }?;
        *out = FlCsr::into_raw(unsafe { read(v) }?.transform(&texts)?);
        Ok(())
    })
}

/// TF-IDF rows for `n_docs` token lists laid out as in `fl_tfidf_fit_tokens`.
///
/// On success `*out` owns a new matrix: free it with `fl_csr_free`. Thread-safe (read lock).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_tfidf_transform_tokens(
    v: *const FlTfidf,
    tokens: *const *const c_char,
    doc_lens: *const usize,
    n_docs: usize,
    out: *mut *mut FlCsr,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        let docs = unsafe { token_docs(tokens, doc_lens, n_docs) }?;
        *out = FlCsr::into_raw(unsafe { read(v) }?.transform_tokens(&docs)?);
        Ok(())
    })
}

/// `fl_tfidf_fit` then `fl_tfidf_transform` on the same texts (tokenising them once).
///
/// On success `*out` owns a new matrix: free it with `fl_csr_free`. Takes the write lock.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_tfidf_fit_transform(
    v: *mut FlTfidf,
    texts: *const *const c_char,
    n: usize,
    out: *mut *mut FlCsr,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        let texts = unsafe { str_array_arg(texts, n, "texts") }?;
        *out = FlCsr::into_raw(unsafe { write(v) }?.fit_transform(&texts)?);
        Ok(())
    })
}

/// `fl_tfidf_fit_tokens` then `fl_tfidf_transform_tokens`.
///
/// On success `*out` owns a new matrix: free it with `fl_csr_free`. Takes the write lock.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_tfidf_fit_transform_tokens(
    v: *mut FlTfidf,
    tokens: *const *const c_char,
    doc_lens: *const usize,
    n_docs: usize,
    out: *mut *mut FlCsr,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        let docs = unsafe { token_docs(tokens, doc_lens, n_docs) }?;
        *out = FlCsr::into_raw(unsafe { write(v) }?.fit_transform_tokens(&docs)?);
        Ok(())
    })
}

/// Cosine similarity of two raw texts in the fitted TF-IDF space, written to `*out` (0 when
/// either text has no known term). Thread-safe (read lock).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_tfidf_similarity(
    v: *const FlTfidf,
    a: *const c_char,
    b: *const c_char,
    out: *mut f64,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        let a = unsafe { str_arg(a, "a") }?;
        let b = unsafe { str_arg(b, "b") }?;
        *out = unsafe { read(v) }?.similarity(a, b)?;
        Ok(())
    })
}

/// Writes whether a fit has succeeded to `*out`. Thread-safe (read lock).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_tfidf_is_fitted(v: *const FlTfidf, out: *mut bool) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        *out = unsafe { read(v) }?.is_fitted();
        Ok(())
    })
}

/// Writes the number of features (output columns) to `*out`; `FL_STATUS_NOT_FITTED` before a
/// fit. Thread-safe (read lock).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_tfidf_n_features(v: *const FlTfidf, out: *mut usize) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        *out = unsafe { read(v) }?.n_features()?;
        Ok(())
    })
}

/// The feature names in column order (an n-gram's tokens joined by one space).
///
/// On success `*out` owns a new list: free it with `fl_strings_free`. Thread-safe (read lock).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_tfidf_feature_names(
    v: *const FlTfidf,
    out: *mut *mut FlStrings,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        *out = FlStrings::from_vec(unsafe { read(v) }?.feature_names()?)?.into_raw();
        Ok(())
    })
}

/// The vocabulary as a JSON object mapping each feature name to its column, keys sorted.
///
/// On success `*json` owns a new string: free it with `fl_string_free`. Thread-safe (read lock).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_tfidf_vocabulary(
    v: *const FlTfidf,
    json: *mut *mut c_char,
) -> FlStatus {
    guard(|| {
        let json = unsafe { out_arg(json, "json") }?;
        let vocab: BTreeMap<String, usize> =
            unsafe { read(v) }?.vocabulary()?.into_iter().collect();
        *json = owned_json(&vocab)?;
        Ok(())
    })
}

/// The inverse document frequency of each column (all ones when `use_idf` is off).
///
/// On success `*values` owns `*len` doubles (`*len` = n_features): free them with
/// `fl_doubles_free(*values, *len)`. Thread-safe (read lock).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_tfidf_idf(
    v: *const FlTfidf,
    values: *mut *mut f64,
    len: *mut usize,
) -> FlStatus {
    guard(|| {
        let values = unsafe { out_arg(values, "values") }?;
        let len = unsafe { out_arg(len, "len") }?;
        (*values, *len) = give_slice(unsafe { read(v) }?.idf()?.to_vec());
        Ok(())
    })
}

/// The full configuration as JSON (every field, snake_case), accepted by `fl_tfidf_new`.
///
/// On success `*json` owns a new string: free it with `fl_string_free`. Thread-safe (read lock).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_tfidf_config(v: *const FlTfidf, json: *mut *mut c_char) -> FlStatus {
    unsafe { artifact::config(v, json) }
}

/// The vectoriser (config and, if fitted, vocabulary and idf) as a complete model file in memory.
///
/// On success `*bytes` owns `*len` bytes: free them with `fl_bytes_free(*bytes, *len)`.
/// Thread-safe (read lock).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_tfidf_to_bytes(
    v: *const FlTfidf,
    bytes: *mut *mut u8,
    len: *mut usize,
) -> FlStatus {
    unsafe { artifact::to_bytes(v, bytes, len) }
}

/// Decodes a model file held in memory (`len` bytes, read only during the call). Truncated or
/// damaged data gives `FL_STATUS_CORRUPT`, an unsupported version `FL_STATUS_FORMAT`, another
/// artifact kind `FL_STATUS_WRONG_KIND`.
///
/// On success `*out` owns a new handle: free it with `fl_tfidf_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_tfidf_from_bytes(
    bytes: *const u8,
    len: usize,
    out: *mut *mut FlTfidf,
) -> FlStatus {
    unsafe { artifact::from_bytes(bytes, len, out) }
}

/// Writes the model file to `path` atomically (temporary file, fsync, rename): a failed save
/// leaves any previous file intact. Thread-safe (read lock).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_tfidf_save(v: *const FlTfidf, path: *const c_char) -> FlStatus {
    unsafe { artifact::save(v, path) }
}

/// Reads a model file written by `save` in any language (C, Rust, Python, Node).
///
/// On success `*out` owns a new handle: free it with `fl_tfidf_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_tfidf_load(path: *const c_char, out: *mut *mut FlTfidf) -> FlStatus {
    unsafe { artifact::load(path, out) }
}

// ---------------------------------------------------------------------------------------------
// FlCsr accessors.

unsafe fn csr<'a>(m: *const FlCsr) -> Option<&'a CsrMatrix> {
    unsafe { m.as_ref() }.map(|m| &m.inner)
}

/// Number of rows (documents); 0 if `m` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_csr_rows(m: *const FlCsr) -> usize {
    guard_or(0, || unsafe { csr(m) }.map_or(0, |m| m.n_rows))
}

/// Number of columns (features); 0 if `m` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_csr_cols(m: *const FlCsr) -> usize {
    guard_or(0, || unsafe { csr(m) }.map_or(0, |m| m.n_cols))
}

/// Number of stored entries (length of `indices` and `data`); 0 if `m` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_csr_nnz(m: *const FlCsr) -> usize {
    guard_or(0, || unsafe { csr(m) }.map_or(0, |m| m.nnz()))
}

/// The `rows + 1` row offsets. Borrowed: valid until `fl_csr_free(m)`. NULL if `m` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_csr_indptr(m: *const FlCsr) -> *const usize {
    guard_or(std::ptr::null(), || {
        unsafe { csr(m) }.map_or(std::ptr::null(), |m| m.indptr.as_ptr())
    })
}

/// The `nnz` column indices. Borrowed: valid until `fl_csr_free(m)`; do not dereference when
/// `nnz` is 0. NULL if `m` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_csr_indices(m: *const FlCsr) -> *const u32 {
    guard_or(std::ptr::null(), || {
        unsafe { csr(m) }.map_or(std::ptr::null(), |m| m.indices.as_ptr())
    })
}

/// The `nnz` values. Borrowed: valid until `fl_csr_free(m)`; do not dereference when `nnz` is
/// 0. NULL if `m` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_csr_data(m: *const FlCsr) -> *const f64 {
    guard_or(std::ptr::null(), || {
        unsafe { csr(m) }.map_or(std::ptr::null(), |m| m.data.as_ptr())
    })
}

/// Frees a matrix and its arrays. NULL is a no-op; freeing it again is refused. Must not race with reads of the same matrix.
/// Returns `FL_STATUS_INVALID_INPUT` and frees nothing when given a pointer that is not a live
/// handle of this type (freed already, another type's handle, or not made by faultlens).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_csr_free(m: *mut FlCsr) -> FlStatus {
    guard(|| unsafe { crate::free_handle(m, "fl_csr_free") })
}
