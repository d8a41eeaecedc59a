//! `FlIndex` (`faultlens::SimilarityIndex`), `FlTextIndex` (`faultlens::TextIndex`) and the
//! `FlHits` result container, from C.
//!
//! Vectors are `const float*` holding `rows * dim` values, row after row, read only during the
//! call. Ids are `uint64_t`. Both index types lock internally: any number of threads may search
//! while one adds; the handles are safe to share between threads (but not to free while in use).

use std::ffi::{CString, c_char};

use faultlens::{
    Hit, IndexConfig, SearchOptions, SimilarityIndex, TextHit, TextIndex, TextIndexConfig,
};

use crate::artifact::{self, ArtifactHandle, Unlocked, artifact_handle};
use crate::{
    Fail, FlStatus, FlStrings, Res, c_string, give_slice, guard, guard_or, handle, out_arg,
    owned_c_string, slice_arg, str_arg, str_array_arg,
};
use crate::{give_json, give_text};

/// A similarity index over float vectors (HNSW graph; exact scans below `exact_below` vectors).
/// Create with `fl_index_new`, `fl_index_from_bytes` or `fl_index_load`; free with `fl_index_free`.
pub struct FlIndex {
    inner: Unlocked<SimilarityIndex>,
}

artifact_handle!(FlIndex: Unlocked<SimilarityIndex>, config IndexConfig, arg "index", prefix "index");

/// A text index: (error text, payload) pairs searched by text. Create with `fl_text_index_new`,
/// `fl_text_index_from_bytes` or `fl_text_index_load`; free with `fl_text_index_free`.
pub struct FlTextIndex {
    inner: Unlocked<TextIndex>,
}

artifact_handle!(FlTextIndex: Unlocked<TextIndex>, config TextIndexConfig, arg "index", prefix "text_index");

struct HitRow {
    ids: Vec<u64>,
    /// String keys (similarity index hits added under a key; empty for text hits).
    keys: Vec<Option<CString>>,
    scores: Vec<f32>,
    payloads: Vec<Option<CString>>,
    texts: Vec<Option<CString>>,
}

/// Search results: `fl_hits_rows` rows (one per query), each with `fl_hits_len` hits, best first.
/// Immutable; safe to read from several threads. Free with `fl_hits_free`.
pub struct FlHits {
    rows: Vec<HitRow>,
}

impl FlHits {
    fn from_hits(rows: Vec<Vec<Hit>>) -> Res<*mut FlHits> {
        let rows = rows
            .into_iter()
            .map(|r| {
                Ok(HitRow {
                    ids: r.iter().map(|h| h.id).collect(),
                    keys: r
                        .iter()
                        .map(|h| h.key.clone().map(c_string).transpose())
                        .collect::<Res<_>>()?,
                    scores: r.iter().map(|h| h.score).collect(),
                    payloads: r
                        .into_iter()
                        .map(|h| h.payload.map(c_string).transpose())
                        .collect::<Res<_>>()?,
                    texts: Vec::new(),
                })
            })
            .collect::<Res<_>>()?;
        Ok(crate::into_handle(Box::new(FlHits { rows })))
    }

    fn from_text_hits(rows: Vec<Vec<TextHit>>) -> Res<*mut FlHits> {
        let rows = rows
            .into_iter()
            .map(|r| {
                let mut row = HitRow {
                    ids: Vec::with_capacity(r.len()),
                    keys: Vec::new(),
                    scores: Vec::with_capacity(r.len()),
                    payloads: Vec::with_capacity(r.len()),
                    texts: Vec::with_capacity(r.len()),
                };
                for h in r {
                    row.ids.push(h.id);
                    row.scores.push(h.score);
                    row.payloads.push(h.payload.map(c_string).transpose()?);
                    row.texts.push(Some(c_string(h.text)?));
                }
                Ok(row)
            })
            .collect::<Res<_>>()?;
        Ok(crate::into_handle(Box::new(FlHits { rows })))
    }
}

unsafe fn index<'a>(p: *const FlIndex) -> Res<&'a SimilarityIndex> {
    Ok(&unsafe { handle(p, FlIndex::ARG) }?.inner.0)
}

pub(crate) unsafe fn text_index<'a>(p: *const FlTextIndex) -> Res<&'a TextIndex> {
    Ok(&unsafe { handle(p, FlTextIndex::ARG) }?.inner.0)
}

/// `rows * dim` floats; `dim` must be the index's (else `FL_STATUS_DIMENSION`).
unsafe fn vectors_arg<'a>(
    p: *const f32,
    rows: usize,
    dim: usize,
    expected: usize,
) -> Res<&'a [f32]> {
    if dim != expected {
        return Err(faultlens::Error::Dimension { expected, got: dim }.into());
    }
    let n = rows
        .checked_mul(dim)
        .ok_or_else(|| Fail::new(FlStatus::InvalidInput, "rows * dim overflows size_t"))?;
    unsafe { slice_arg(p, n, "vectors") }
}

/// `n` optional payload strings (`payloads` may be NULL for none; any entry may be NULL).
unsafe fn payloads_arg(p: *const *const c_char, n: usize) -> Res<Option<Vec<Option<String>>>> {
    if p.is_null() {
        return Ok(None);
    }
    let ptrs = unsafe { slice_arg(p, n, "payloads") }?;
    ptrs.iter()
        .enumerate()
        .map(|(i, &s)| {
            if s.is_null() {
                Ok(None)
            } else {
                unsafe { str_arg(s, &format!("payloads[{i}]")) }.map(|s| Some(s.to_owned()))
            }
        })
        .collect::<Res<Vec<_>>>()
        .map(Some)
}

/// Search options from JSON (NULL = defaults): `{"threshold": 0.7, "ef": 128, "exact": false,
/// "filter": {...}}`, the filter one of `{"type": "ids", "ids": [..]}`, `{"type": "keys",
/// "keys": [..]}`, `{"type": "payload", "field": .., "value": ..}`, `{"type": "payload_in",
/// "field": .., "values": [..]}`, `{"type": "range", "field": .., "gte"/"gt"/"lte"/"lt": x}`,
/// `{"type": "and", "filters": [..]}`.
unsafe fn options_arg(p: *const c_char) -> Res<SearchOptions> {
    if p.is_null() {
        return Ok(SearchOptions::default());
    }
    let s = unsafe { str_arg(p, "options_json") }?;
    crate::json_object(
        s,
        "options_json",
        "valid search options",
        FlStatus::InvalidInput,
    )
}

/// The ids of an add or remove: numbers, or string keys (each stored under a number of its own).
/// The `_keyed` functions differ from their numeric twins only here.
#[derive(Clone, Copy)]
enum Ids {
    Numbers(*const u64),
    Keys(*const *const c_char),
}

enum IdsArg<'a> {
    Numbers(&'a [u64]),
    Keys(Vec<&'a str>),
}

impl Ids {
    unsafe fn arg<'a>(self, n: usize) -> Res<IdsArg<'a>> {
        Ok(match self {
            Ids::Numbers(p) => IdsArg::Numbers(unsafe { slice_arg(p, n, "ids") }?),
            Ids::Keys(p) => IdsArg::Keys(unsafe { str_array_arg(p, n, "keys") }?),
        })
    }
}

/// `fl_index_add` / `fl_index_add_keyed`.
unsafe fn add(
    idx: *const FlIndex,
    ids: Ids,
    vectors: *const f32,
    rows: usize,
    dim: usize,
    payloads: *const *const c_char,
) -> Res<()> {
    let index = unsafe { index(idx) }?;
    let ids = unsafe { ids.arg(rows) }?;
    let v = unsafe { vectors_arg(vectors, rows, dim, index.dim()) }?;
    let p = unsafe { payloads_arg(payloads, rows) }?;
    match ids {
        IdsArg::Numbers(ids) => index.add(ids, v, p)?,
        IdsArg::Keys(keys) => index.add_keyed(&keys, v, p)?,
    }
    Ok(())
}

/// `fl_index_remove` / `fl_index_remove_keyed`.
unsafe fn remove(idx: *const FlIndex, ids: Ids, n: usize) -> Res<()> {
    let ids = unsafe { ids.arg(n) }?;
    let index = unsafe { index(idx) }?;
    match ids {
        IdsArg::Numbers(ids) => index.remove(ids)?,
        IdsArg::Keys(keys) => index.remove_keyed(&keys)?,
    }
    Ok(())
}

/// Builds an empty index from a JSON config with the core's names: `dim` (required), `metric`
/// (`"cosine"`, `"dot"`, `"l2"`), `m`, `ef_construction`, `ef_search`, `exact_below`,
/// `max_items` (a cap on stored ids, none by default); e.g.
/// `{"dim": 384}`. Bad values give `FL_STATUS_INVALID_CONFIG`.
///
/// On success `*out` owns a new handle: free it with `fl_index_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_index_new(
    config_json: *const c_char,
    out: *mut *mut FlIndex,
) -> FlStatus {
    unsafe { artifact::new(config_json, out) }
}

/// Frees an index. NULL is a no-op; freeing it again is refused. No other call may be using the handle.
/// Returns `FL_STATUS_INVALID_INPUT` and frees nothing when given a pointer that is not a live
/// handle of this type (freed already, another type's handle, or not made by faultlens).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_index_free(idx: *mut FlIndex) -> FlStatus {
    unsafe { artifact::free(idx) }
}

/// Adds `rows` vectors (`vectors`: `rows * dim` floats) under `ids` (`rows` of them), with
/// optional payloads (`payloads`: NULL, or `rows` strings, each possibly NULL). All or nothing:
/// a wrong `dim`, a NaN/inf component, a zero vector under cosine, or a repeated or existing id
/// fails and adds nothing. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_index_add(
    idx: *const FlIndex,
    ids: *const u64,
    vectors: *const f32,
    rows: usize,
    dim: usize,
    payloads: *const *const c_char,
) -> FlStatus {
    guard(|| unsafe { add(idx, Ids::Numbers(ids), vectors, rows, dim, payloads) })
}

/// The `k` nearest ids of each of `rows` query vectors, best first (fewer when fewer qualify).
/// `options_json` may be NULL (see the search options in `docs/index.md`).
///
/// On success `*out` owns the results: free them with `fl_hits_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_index_search(
    idx: *const FlIndex,
    queries: *const f32,
    rows: usize,
    dim: usize,
    k: usize,
    options_json: *const c_char,
    out: *mut *mut FlHits,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        let index = unsafe { index(idx) }?;
        let q = unsafe { vectors_arg(queries, rows, dim, index.dim()) }?;
        let opts = unsafe { options_arg(options_json) }?;
        *out = FlHits::from_hits(index.search(q, k, &opts)?)?;
        Ok(())
    })
}

/// Every id within `threshold` of one query vector (score >= threshold for cosine/dot, distance
/// <= threshold for l2), best first, as one row of results.
///
/// On success `*out` owns the results: free them with `fl_hits_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_index_range_search(
    idx: *const FlIndex,
    query: *const f32,
    dim: usize,
    threshold: f32,
    options_json: *const c_char,
    out: *mut *mut FlHits,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        let index = unsafe { index(idx) }?;
        let q = unsafe { vectors_arg(query, 1, dim, index.dim()) }?;
        let opts = unsafe { options_arg(options_json) }?;
        *out = FlHits::from_hits(vec![index.range_search(q, threshold, &opts)?])?;
        Ok(())
    })
}

/// Adds `rows` vectors under `rows` string keys (`keys`: NUL-terminated UTF-8 strings, any
/// content), with optional payloads, as `fl_index_add` does for ids. Each key is stored under a
/// number of its own (`fl_hits_id`; `fl_hits_key` gives the key back). All or nothing: a repeated
/// or existing key fails and adds nothing. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_index_add_keyed(
    idx: *const FlIndex,
    keys: *const *const c_char,
    vectors: *const f32,
    rows: usize,
    dim: usize,
    payloads: *const *const c_char,
) -> FlStatus {
    guard(|| unsafe { add(idx, Ids::Keys(keys), vectors, rows, dim, payloads) })
}

/// Removes `n` string keys (all or nothing: an unknown or repeated key removes none).
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_index_remove_keyed(
    idx: *const FlIndex,
    keys: *const *const c_char,
    n: usize,
) -> FlStatus {
    guard(|| unsafe { remove(idx, Ids::Keys(keys), n) })
}

/// Writes whether the string key `key` is stored to `*out`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_index_contains_key(
    idx: *const FlIndex,
    key: *const c_char,
    out: *mut bool,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        let key = unsafe { str_arg(key, "key") }?;
        *out = unsafe { index(idx) }?.contains_key(key);
        Ok(())
    })
}

/// Looks the string key `key` up: `*found` says whether it is stored, and if so `*id` is the
/// number it is stored under (for `fl_index_get`). Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_index_id_of_key(
    idx: *const FlIndex,
    key: *const c_char,
    found: *mut bool,
    id: *mut u64,
) -> FlStatus {
    guard(|| {
        let found = unsafe { out_arg(found, "found") }?;
        let id = unsafe { out_arg(id, "id") }?;
        let key = unsafe { str_arg(key, "key") }?;
        *found = false;
        if let Some(n) = unsafe { index(idx) }?.id_of_key(key) {
            (*found, *id) = (true, n);
        }
        Ok(())
    })
}

/// All stored string keys (no particular order). On success `*out` owns them: read with
/// `fl_strings_len` / `fl_strings_get`, free with `fl_strings_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_index_keys(idx: *const FlIndex, out: *mut *mut FlStrings) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        *out = FlStrings::from_vec(unsafe { index(idx) }?.keys())?.into_raw();
        Ok(())
    })
}

/// Writes the recall@10 the default search is estimated to reach to `*out`: 1 while searches
/// scan exactly, the recall measured for `target_recall` otherwise, NaN when `target_recall` is
/// null and a graph is searched. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_index_estimated_recall(idx: *const FlIndex, out: *mut f32) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        *out = unsafe { index(idx) }?
            .estimated_recall()
            .unwrap_or(f32::NAN);
        Ok(())
    })
}

/// Writes the `ef` searches use when their options give none to `*out` (tuned for
/// `target_recall`; 0 while searches scan exactly). Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_index_effective_ef(idx: *const FlIndex, out: *mut usize) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        *out = unsafe { index(idx) }?.effective_ef();
        Ok(())
    })
}

/// Removes `n` ids (all or nothing: an unknown or repeated id fails and removes none).
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_index_remove(
    idx: *const FlIndex,
    ids: *const u64,
    n: usize,
) -> FlStatus {
    guard(|| unsafe { remove(idx, Ids::Numbers(ids), n) })
}

/// Drops removed vectors and rebuilds the graph. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_index_compact(idx: *const FlIndex) -> FlStatus {
    guard(|| {
        unsafe { index(idx) }?.compact()?;
        Ok(())
    })
}

/// Looks `id` up. `*found` says whether it is stored; if so, `*vector` owns `*dim` floats (free
/// with `fl_floats_free(*vector, *dim)`) and `*payload` owns its payload or is NULL (free with
/// `fl_string_free`). Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_index_get(
    idx: *const FlIndex,
    id: u64,
    found: *mut bool,
    vector: *mut *mut f32,
    dim: *mut usize,
    payload: *mut *mut c_char,
) -> FlStatus {
    guard(|| {
        let found = unsafe { out_arg(found, "found") }?;
        let vector = unsafe { out_arg(vector, "vector") }?;
        let dim = unsafe { out_arg(dim, "dim") }?;
        let payload = unsafe { out_arg(payload, "payload") }?;
        if let Some(e) = unsafe { index(idx) }?.get(id) {
            let p = e.payload.map(owned_c_string).transpose()?;
            (*vector, *dim) = give_slice(e.vector);
            *payload = p.unwrap_or(std::ptr::null_mut());
            *found = true;
        }
        Ok(())
    })
}

/// Counters as JSON: `searches` (query rows), `added`, `removed` (ids). On success `*json` owns
/// a new string: free it with `fl_string_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_index_metrics(idx: *const FlIndex, json: *mut *mut c_char) -> FlStatus {
    let value = || Ok(unsafe { index(idx) }?.metrics());
    unsafe { give_json(json, "json", value) }
}

/// Items held, the counters, the estimated recall (when there is one) and the search
/// breadth in the Prometheus text exposition format (0.0.4): the families of the Python and
/// Node collectors, without their `name` label (`fl_merge_prometheus` adds it).
///
/// On success `*text` owns the text: free it with `fl_string_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_index_metrics_prometheus(
    idx: *const FlIndex,
    text: *mut *mut c_char,
) -> FlStatus {
    let value = || Ok(unsafe { index(idx) }?.metrics_prometheus());
    unsafe { give_text(text, "text", value) }
}

/// Sets the counters back to zero. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_index_reset_metrics(idx: *const FlIndex) -> FlStatus {
    guard(|| {
        unsafe { index(idx) }?.reset_metrics();
        Ok(())
    })
}

/// Writes the number of stored ids to `*out`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_index_len(idx: *const FlIndex, out: *mut usize) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        *out = unsafe { index(idx) }?.len();
        Ok(())
    })
}

/// Writes whether `id` is stored to `*out`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_index_contains(
    idx: *const FlIndex,
    id: u64,
    out: *mut bool,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        *out = unsafe { index(idx) }?.contains(id);
        Ok(())
    })
}

/// All stored ids (no particular order): `*ids` owns `*n` of them; free with `fl_ids_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_index_ids(
    idx: *const FlIndex,
    ids: *mut *mut u64,
    n: *mut usize,
) -> FlStatus {
    guard(|| {
        let ids = unsafe { out_arg(ids, "ids") }?;
        let n = unsafe { out_arg(n, "n") }?;
        (*ids, *n) = give_slice(unsafe { index(idx) }?.ids());
        Ok(())
    })
}

/// Writes the number of distinct stored vectors to `*out`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_index_n_vectors(idx: *const FlIndex, out: *mut usize) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        *out = unsafe { index(idx) }?.n_vectors();
        Ok(())
    })
}

/// The configuration as JSON; `*json` owns it (free with `fl_string_free`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_index_config(idx: *const FlIndex, json: *mut *mut c_char) -> FlStatus {
    unsafe { artifact::config(idx, json) }
}

/// The index as a complete model file in memory; `*bytes` owns `*len` bytes (free with
/// `fl_bytes_free`). Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_index_to_bytes(
    idx: *const FlIndex,
    bytes: *mut *mut u8,
    len: *mut usize,
) -> FlStatus {
    unsafe { artifact::to_bytes(idx, bytes, len) }
}

/// Decodes a model file held in memory (the graph is rebuilt). On success `*out` owns a new
/// handle: free it with `fl_index_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_index_from_bytes(
    bytes: *const u8,
    len: usize,
    out: *mut *mut FlIndex,
) -> FlStatus {
    unsafe { artifact::from_bytes(bytes, len, out) }
}

/// Writes the model file to `path` atomically. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_index_save(idx: *const FlIndex, path: *const c_char) -> FlStatus {
    unsafe { artifact::save(idx, path) }
}

/// Reads a model file written by `save` in any language. On success `*out` owns a new handle:
/// free it with `fl_index_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_index_load(path: *const c_char, out: *mut *mut FlIndex) -> FlStatus {
    unsafe { artifact::load(path, out) }
}

// ---------------------------------------------------------------------------------------------
// FlTextIndex

/// Builds an empty text index from a JSON config (NULL = defaults): `{"embedding": {"type":
/// "tfidf", "tfidf": {...}, "dim": 512} | {"type": "external", "dim": n}, "index": {...}}`.
///
/// On success `*out` owns a new handle: free it with `fl_text_index_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_text_index_new(
    config_json: *const c_char,
    out: *mut *mut FlTextIndex,
) -> FlStatus {
    unsafe { artifact::new(config_json, out) }
}

/// Frees a text index. NULL is a no-op; freeing it again is refused. No other call may be using the handle.
/// Returns `FL_STATUS_INVALID_INPUT` and frees nothing when given a pointer that is not a live
/// handle of this type (freed already, another type's handle, or not made by faultlens).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_text_index_free(idx: *mut FlTextIndex) -> FlStatus {
    unsafe { artifact::free(idx) }
}

/// Adds `n` texts with optional payloads (NULL, or `n` strings each possibly NULL). `*ids` owns
/// the `n` new ids (free with `fl_ids_free(*ids, n)`). Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_text_index_add(
    idx: *const FlTextIndex,
    texts: *const *const c_char,
    n: usize,
    payloads: *const *const c_char,
    ids: *mut *mut u64,
) -> FlStatus {
    guard(|| {
        let ids = unsafe { out_arg(ids, "ids") }?;
        let texts = unsafe { str_array_arg(texts, n, "texts") }?;
        let p = unsafe { payloads_arg(payloads, n) }?;
        (*ids, _) = give_slice(unsafe { text_index(idx) }?.add(&texts, p)?);
        Ok(())
    })
}

/// Adds `n` texts with your own embeddings (`vectors`: `n * dim` floats). `*ids` owns the `n`
/// new ids (free with `fl_ids_free(*ids, n)`). Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_text_index_add_embedded(
    idx: *const FlTextIndex,
    texts: *const *const c_char,
    n: usize,
    vectors: *const f32,
    dim: usize,
    payloads: *const *const c_char,
    ids: *mut *mut u64,
) -> FlStatus {
    guard(|| {
        let ids = unsafe { out_arg(ids, "ids") }?;
        let t = unsafe { text_index(idx) }?;
        let texts = unsafe { str_array_arg(texts, n, "texts") }?;
        let v = unsafe { vectors_arg(vectors, n, dim, t.embedding_dim().unwrap_or(t.dim())) }?;
        let p = unsafe { payloads_arg(payloads, n) }?;
        (*ids, _) = give_slice(t.add_embedded(&texts, v, p)?);
        Ok(())
    })
}

/// Adds `n` texts with your embeddings (`vectors`: `n * dim` floats, `dim` the index's
/// `embedding_dim`) to a hybrid text index, with optional payloads. On success `*ids` owns the
/// `n` new ids (free with `fl_ids_free(*ids, n)`). All or nothing. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_text_index_add_hybrid(
    idx: *const FlTextIndex,
    texts: *const *const c_char,
    n: usize,
    vectors: *const f32,
    dim: usize,
    payloads: *const *const c_char,
    ids: *mut *mut u64,
) -> FlStatus {
    guard(|| {
        let ids = unsafe { out_arg(ids, "ids") }?;
        let t = unsafe { text_index(idx) }?;
        let texts = unsafe { str_array_arg(texts, n, "texts") }?;
        let v = unsafe { vectors_arg(vectors, n, dim, t.embedding_dim().unwrap_or(t.dim())) }?;
        let p = unsafe { payloads_arg(payloads, n) }?;
        (*ids, _) = give_slice(t.add_hybrid(&texts, v, p)?);
        Ok(())
    })
}

/// Hybrid search of `n` texts with their embeddings (`vectors`: `n * dim` floats): per query
/// the `k` best by `fusion_json` (NULL or `{"type": "rrf", "k": 60}`, or `{"type": "weighted",
/// "text_weight": 0.5}`) of the TF-IDF and embedding rankings; scores are fused scores.
/// On success `*out` owns `n` rows of results (with texts): free with `fl_hits_free`.
/// Thread-safe.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fl_text_index_search_hybrid(
    idx: *const FlTextIndex,
    texts: *const *const c_char,
    n: usize,
    vectors: *const f32,
    dim: usize,
    k: usize,
    options_json: *const c_char,
    fusion_json: *const c_char,
    out: *mut *mut FlHits,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        let t = unsafe { text_index(idx) }?;
        let texts = unsafe { str_array_arg(texts, n, "texts") }?;
        let v = unsafe { vectors_arg(vectors, n, dim, t.embedding_dim().unwrap_or(t.dim())) }?;
        let opts = unsafe { options_arg(options_json) }?;
        let fusion: faultlens::Fusion = if fusion_json.is_null() {
            faultlens::Fusion::default()
        } else {
            let s = unsafe { str_arg(fusion_json, "fusion_json") }?;
            crate::json_object(s, "fusion_json", "a fusion rule", FlStatus::InvalidInput)?
        };
        *out = FlHits::from_text_hits(t.search_hybrid(&texts, v, k, &opts, &fusion)?)?;
        Ok(())
    })
}

/// The `k` stored texts most similar to `text`, as one row of results (with texts).
/// On success `*out` owns them: free with `fl_hits_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_text_index_search(
    idx: *const FlTextIndex,
    text: *const c_char,
    k: usize,
    options_json: *const c_char,
    out: *mut *mut FlHits,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        let text = unsafe { str_arg(text, "text") }?;
        let opts = unsafe { options_arg(options_json) }?;
        *out = FlHits::from_text_hits(vec![unsafe { text_index(idx) }?.search(text, k, &opts)?])?;
        Ok(())
    })
}

/// `fl_text_index_search` for `n` texts (one row each, all cores). Free with `fl_hits_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_text_index_search_batch(
    idx: *const FlTextIndex,
    texts: *const *const c_char,
    n: usize,
    k: usize,
    options_json: *const c_char,
    out: *mut *mut FlHits,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        let texts = unsafe { str_array_arg(texts, n, "texts") }?;
        let opts = unsafe { options_arg(options_json) }?;
        *out = FlHits::from_text_hits(unsafe { text_index(idx) }?.search_batch(&texts, k, &opts)?)?;
        Ok(())
    })
}

/// Search by your own embeddings (`rows * dim` floats). Free with `fl_hits_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_text_index_search_embedded(
    idx: *const FlTextIndex,
    queries: *const f32,
    rows: usize,
    dim: usize,
    k: usize,
    options_json: *const c_char,
    out: *mut *mut FlHits,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        let t = unsafe { text_index(idx) }?;
        let q = unsafe { vectors_arg(queries, rows, dim, t.embedding_dim().unwrap_or(t.dim())) }?;
        let opts = unsafe { options_arg(options_json) }?;
        *out = FlHits::from_text_hits(t.search_embedded(q, k, &opts)?)?;
        Ok(())
    })
}

/// The dense vectors of `n` texts (TF-IDF mode): `*vectors` owns `*len` = `n * dim` floats
/// (free with `fl_floats_free`). Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_text_index_embed(
    idx: *const FlTextIndex,
    texts: *const *const c_char,
    n: usize,
    vectors: *mut *mut f32,
    len: *mut usize,
) -> FlStatus {
    guard(|| {
        let vectors = unsafe { out_arg(vectors, "vectors") }?;
        let len = unsafe { out_arg(len, "len") }?;
        let texts = unsafe { str_array_arg(texts, n, "texts") }?;
        (*vectors, *len) = give_slice(unsafe { text_index(idx) }?.embed(&texts)?);
        Ok(())
    })
}

/// Removes `n` texts by id (all or nothing). Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_text_index_remove(
    idx: *const FlTextIndex,
    ids: *const u64,
    n: usize,
) -> FlStatus {
    guard(|| {
        let ids = unsafe { slice_arg(ids, n, "ids") }?;
        unsafe { text_index(idx) }?.remove(ids)?;
        Ok(())
    })
}

/// Reclaims the space of removed texts. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_text_index_compact(idx: *const FlTextIndex) -> FlStatus {
    guard(|| {
        unsafe { text_index(idx) }?.compact()?;
        Ok(())
    })
}

/// Refits the TF-IDF vectoriser on all stored texts now. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_text_index_refit(idx: *const FlTextIndex) -> FlStatus {
    guard(|| {
        unsafe { text_index(idx) }?.refit()?;
        Ok(())
    })
}

/// Looks `id` up: `*found`, and if found `*text` (owned) and `*payload` (owned or NULL); free
/// both with `fl_string_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_text_index_get(
    idx: *const FlTextIndex,
    id: u64,
    found: *mut bool,
    text: *mut *mut c_char,
    payload: *mut *mut c_char,
) -> FlStatus {
    guard(|| {
        let found = unsafe { out_arg(found, "found") }?;
        let text = unsafe { out_arg(text, "text") }?;
        let payload = unsafe { out_arg(payload, "payload") }?;
        if let Some((t, p)) = unsafe { text_index(idx) }?.get(id) {
            let p = p.map(owned_c_string).transpose()?;
            *text = owned_c_string(t)?;
            *payload = p.unwrap_or(std::ptr::null_mut());
            *found = true;
        }
        Ok(())
    })
}

/// Counters as JSON: `searches` (query texts), `added`, `removed` (texts). On success `*json`
/// owns a new string: free it with `fl_string_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_text_index_metrics(
    idx: *const FlTextIndex,
    json: *mut *mut c_char,
) -> FlStatus {
    let value = || Ok(unsafe { text_index(idx) }?.metrics());
    unsafe { give_json(json, "json", value) }
}

/// Items held and the counters in the Prometheus text exposition format (0.0.4): the families of the Python and
/// Node collectors, without their `name` label (`fl_merge_prometheus` adds it).
///
/// On success `*text` owns the text: free it with `fl_string_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_text_index_metrics_prometheus(
    idx: *const FlTextIndex,
    text: *mut *mut c_char,
) -> FlStatus {
    let value = || Ok(unsafe { text_index(idx) }?.metrics_prometheus());
    unsafe { give_text(text, "text", value) }
}

/// Sets the counters back to zero. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_text_index_reset_metrics(idx: *const FlTextIndex) -> FlStatus {
    guard(|| {
        unsafe { text_index(idx) }?.reset_metrics();
        Ok(())
    })
}

/// Writes the number of stored texts to `*out`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_text_index_len(idx: *const FlTextIndex, out: *mut usize) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        *out = unsafe { text_index(idx) }?.len();
        Ok(())
    })
}

/// The configuration as JSON; `*json` owns it (free with `fl_string_free`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_text_index_config(
    idx: *const FlTextIndex,
    json: *mut *mut c_char,
) -> FlStatus {
    unsafe { artifact::config(idx, json) }
}

/// The text index as a model file in memory; `*bytes` owns `*len` bytes (free with
/// `fl_bytes_free`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_text_index_to_bytes(
    idx: *const FlTextIndex,
    bytes: *mut *mut u8,
    len: *mut usize,
) -> FlStatus {
    unsafe { artifact::to_bytes(idx, bytes, len) }
}

/// Decodes a text index model file held in memory. Free the handle with `fl_text_index_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_text_index_from_bytes(
    bytes: *const u8,
    len: usize,
    out: *mut *mut FlTextIndex,
) -> FlStatus {
    unsafe { artifact::from_bytes(bytes, len, out) }
}

/// Writes the model file to `path` atomically.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_text_index_save(
    idx: *const FlTextIndex,
    path: *const c_char,
) -> FlStatus {
    unsafe { artifact::save(idx, path) }
}

/// Reads a text index model file. Free the handle with `fl_text_index_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_text_index_load(
    path: *const c_char,
    out: *mut *mut FlTextIndex,
) -> FlStatus {
    unsafe { artifact::load(path, out) }
}

// ---------------------------------------------------------------------------------------------
// FlHits accessors and buffers.

unsafe fn hit_row<'a>(h: *const FlHits, row: usize) -> Option<&'a HitRow> {
    unsafe { h.as_ref() }.and_then(|h| h.rows.get(row))
}

/// Number of result rows (one per query); 0 if `hits` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_hits_rows(hits: *const FlHits) -> usize {
    guard_or(0, || unsafe { hits.as_ref() }.map_or(0, |h| h.rows.len()))
}

/// Number of hits in `row`; 0 if out of range.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_hits_len(hits: *const FlHits, row: usize) -> usize {
    guard_or(0, || {
        unsafe { hit_row(hits, row) }.map_or(0, |r| r.ids.len())
    })
}

/// Id of hit `i` of `row` (0 if out of range).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_hits_id(hits: *const FlHits, row: usize, i: usize) -> u64 {
    guard_or(0, || {
        unsafe { hit_row(hits, row) }
            .and_then(|r| r.ids.get(i).copied())
            .unwrap_or(0)
    })
}

/// Score of hit `i` of `row`: cosine similarity, inner product, or l2 distance (NaN if out of
/// range).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_hits_score(hits: *const FlHits, row: usize, i: usize) -> f32 {
    guard_or(f32::NAN, || {
        unsafe { hit_row(hits, row) }
            .and_then(|r| r.scores.get(i).copied())
            .unwrap_or(f32::NAN)
    })
}

/// Payload of hit `i` of `row`, or NULL when it has none. Borrowed: valid until
/// `fl_hits_free(hits)`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_hits_payload(
    hits: *const FlHits,
    row: usize,
    i: usize,
) -> *const c_char {
    guard_or(std::ptr::null(), || {
        unsafe { hit_row(hits, row) }
            .and_then(|r| r.payloads.get(i))
            .and_then(|p| p.as_ref())
            .map_or(std::ptr::null(), |p| p.as_ptr())
    })
}

/// String key of hit `i` of `row` (similarity index hits added by `fl_index_add_keyed`; NULL
/// otherwise). Borrowed: valid until `fl_hits_free(hits)`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_hits_key(hits: *const FlHits, row: usize, i: usize) -> *const c_char {
    guard_or(std::ptr::null(), || {
        unsafe { hit_row(hits, row) }
            .and_then(|r| r.keys.get(i))
            .and_then(|p| p.as_ref())
            .map_or(std::ptr::null(), |p| p.as_ptr())
    })
}

/// Text of hit `i` of `row` (text index results only; NULL otherwise). Borrowed: valid until
/// `fl_hits_free(hits)`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_hits_text(hits: *const FlHits, row: usize, i: usize) -> *const c_char {
    guard_or(std::ptr::null(), || {
        unsafe { hit_row(hits, row) }
            .and_then(|r| r.texts.get(i))
            .and_then(|p| p.as_ref())
            .map_or(std::ptr::null(), |p| p.as_ptr())
    })
}

/// Frees search results. NULL is a no-op; freeing it again is refused.
/// Returns `FL_STATUS_INVALID_INPUT` and frees nothing when given a pointer that is not a live
/// handle of this type (freed already, another type's handle, or not made by faultlens).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_hits_free(hits: *mut FlHits) -> FlStatus {
    guard(|| unsafe { crate::free_handle(hits, "fl_hits_free") })
}

/// Frees an array of floats returned by faultlens (`fl_index_get`, `fl_text_index_embed`);
/// `len` must be the length returned with it. NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_floats_free(values: *mut f32, len: usize) {
    guard_or((), || {
        if !values.is_null() {
            drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(values, len)) });
        }
    })
}

/// Frees an array of ids returned by faultlens (`fl_index_ids`, `fl_text_index_add*`); `len`
/// must be the length returned with it (or the number of texts added). NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_ids_free(ids: *mut u64, len: usize) {
    guard_or((), || {
        if !ids.is_null() {
            drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ids, len)) });
        }
    })
}
