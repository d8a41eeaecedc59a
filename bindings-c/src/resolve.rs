//! `FlResolver` (`faultlens::resolve::Resolver`) and `FlResolution` from C.

use faultlens::sync::RwLock;
use std::ffi::{CString, c_char};

use faultlens::Artifact;
use faultlens::resolve::{Mode, Resolution, Resolver, ResolverConfig, Rule, Rules};

use crate::artifact::{self, artifact_handle, read, write};
use crate::{
    FlStatus, Res, c_string, guard, guard_or, handle, out_arg, owned_json, path_arg, slice_arg,
    str_arg, str_array_arg,
};
use crate::{give_json, give_text};

/// The rules → similar past errors → classifier cascade, with feedback and metrics.
///
/// Thread-safe: any number of threads may call `fl_resolver_resolve*`, `fl_resolver_record_outcome`
/// and the other reading calls at once; `fl_resolver_set_rules` / `fl_resolver_load_rules` wait
/// for them and run alone. Create with `fl_resolver_new`, `fl_resolver_from_bytes` or
/// `fl_resolver_load`; release with `fl_resolver_free`.
pub struct FlResolver {
    inner: RwLock<Resolver>,
}

artifact_handle!(FlResolver: RwLock<Resolver>, config ResolverConfig, arg "resolver", prefix "resolver");

/// `method` as a mode; NULL means `"auto"`.
unsafe fn mode_arg(method: *const c_char) -> Res<Mode> {
    if method.is_null() {
        return Ok(Mode::Auto);
    }
    Ok(Mode::parse(unsafe { str_arg(method, "method") }?)?)
}

/// The answer to one resolve call. Read it with the `fl_resolution_*` accessors; release it with
/// `fl_resolution_free` (except the borrowed ones inside an `FlResolutions`). Immutable; safe to
/// read from several threads.
pub struct FlResolution {
    inner: Resolution,
    solution: Option<CString>,
    method: CString,
    rule: Option<CString>,
}

impl FlResolution {
    fn new(r: Resolution) -> Res<Self> {
        Ok(FlResolution {
            solution: r.solution.clone().map(c_string).transpose()?,
            method: c_string(r.method.as_str().to_owned())?,
            rule: r.rule.clone().map(c_string).transpose()?,
            inner: r,
        })
    }
}

/// The resolutions of a batch, in input order. Read with `fl_resolutions_len` /
/// `fl_resolutions_get`; release with `fl_resolutions_free`.
pub struct FlResolutions {
    items: Vec<FlResolution>,
}

/// Builds a resolver with no stage configured from a JSON config with the core's snake_case names
/// (`exact_threshold`, `similarity_threshold`, `classifier_threshold`, `top_k`,
/// `learn_from_feedback`, `max_text_bytes`, `max_outcomes`, `knowledge_vectorizer`,
/// `novelty_threshold`); NULL (or `{}`) means the defaults (1.0 / 0.7 / 0.8, top 3, novelty
/// threshold 0.5). Bad JSON, unknown fields and out-of-range values give
/// `FL_STATUS_INVALID_CONFIG`.
///
/// On success `*out` owns a new handle: free it with `fl_resolver_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolver_new(
    config_json: *const c_char,
    out: *mut *mut FlResolver,
) -> FlStatus {
    unsafe { artifact::new(config_json, out) }
}

/// Frees a resolver. NULL is a no-op; freeing it again is refused. No other call may be using the handle.
/// Returns `FL_STATUS_INVALID_INPUT` and frees nothing when given a pointer that is not a live
/// handle of this type (freed already, another type's handle, or not made by faultlens).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolver_free(r: *mut FlResolver) -> FlStatus {
    unsafe { artifact::free(r) }
}

/// Replaces the rules with a JSON array of `{"name", "pattern", "solution"}` objects (`name`
/// optional; also accepted: `{"rules": [...]}`). The first rule whose case-insensitive regex
/// matches answers. An invalid regex gives `FL_STATUS_INVALID_INPUT` naming the rule. Writes the
/// number of rules to `*n_rules` (may be NULL). Takes the write lock.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolver_set_rules(
    r: *mut FlResolver,
    rules_json: *const c_char,
    n_rules: *mut usize,
) -> FlStatus {
    guard(|| {
        let rules = Rules::from_json(unsafe { str_arg(rules_json, "rules_json") }?)?;
        let n = rules.len();
        unsafe { write(r) }?.set_rules(rules);
        if let Some(out) = unsafe { n_rules.as_mut() } {
            *out = n;
        }
        Ok(())
    })
}

/// Sets the classifier stage to a copy of a fitted classifier (`FL_STATUS_NOT_FITTED` otherwise);
/// the classifier handle stays the caller's. Takes the resolver's write lock.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolver_set_classifier(
    r: *mut FlResolver,
    classifier: *const crate::classify::FlClassifier,
) -> FlStatus {
    guard(|| {
        let c = unsafe { read(classifier) }?.clone();
        unsafe { write(r) }?.set_classifier(c)?;
        Ok(())
    })
}

/// Sets the classifier stage from a classifier model file written by `save` in any language.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolver_load_classifier(
    r: *mut FlResolver,
    path: *const c_char,
) -> FlStatus {
    guard(|| {
        // The handle before the file: a NULL resolver is named, not an I/O error on `path`.
        unsafe { handle(r, "resolver") }?;
        let path = unsafe { path_arg(path, "path") }?;
        let c = faultlens::TextClassifier::load(path)?;
        unsafe { write(r) }?.set_classifier(c)?;
        Ok(())
    })
}

/// Replaces the rules with those of a JSON or TOML file (chosen by extension). Takes the write
/// lock only after the file has been read and checked.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolver_load_rules(
    r: *mut FlResolver,
    path: *const c_char,
) -> FlStatus {
    guard(|| {
        // The handle before the file: a NULL resolver is named, not an I/O error on `path`.
        unsafe { handle(r, "resolver") }?;
        let path = unsafe { path_arg(path, "path") }?;
        let rules = Rules::from_file(path)?;
        unsafe { write(r) }?.set_rules(rules);
        Ok(())
    })
}

/// The rules in order as a JSON array of `{"name", "pattern", "solution"}`.
///
/// On success `*json` owns the text: free it with `fl_string_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolver_rules(
    r: *const FlResolver,
    json: *mut *mut c_char,
) -> FlStatus {
    guard(|| {
        let json = unsafe { out_arg(json, "json") }?;
        let rules: Vec<Rule> = unsafe { read(r) }?.rules().rules().to_vec();
        *json = owned_json(&rules)?;
        Ok(())
    })
}

/// Adds `n` past error → solution pairs (two arrays of `n` strings, read only during the call).
/// Writes the knowledge base's new size to `*size` (may be NULL). Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolver_add_knowledge(
    r: *const FlResolver,
    errors: *const *const c_char,
    solutions: *const *const c_char,
    n: usize,
    size: *mut usize,
) -> FlStatus {
    guard(|| {
        let errors = unsafe { str_array_arg(errors, n, "errors") }?;
        let solutions = unsafe { str_array_arg(solutions, n, "solutions") }?;
        let total = unsafe { read(r) }?.add_knowledge(&errors, &solutions)?;
        if let Some(out) = unsafe { size.as_mut() } {
            *out = total;
        }
        Ok(())
    })
}

/// Adds the `{"error", "solution"}` lines of a JSONL file. A bad line gives
/// `FL_STATUS_INVALID_INPUT` naming its number, unless `skip_invalid`. Writes the number of pairs
/// added to `*added` (may be NULL). Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolver_load_knowledge(
    r: *const FlResolver,
    path: *const c_char,
    skip_invalid: bool,
    added: *mut usize,
) -> FlStatus {
    guard(|| {
        let path = unsafe { path_arg(path, "path") }?;
        let n = unsafe { read(r) }?.load_knowledge(path, skip_invalid)?;
        if let Some(out) = unsafe { added.as_mut() } {
            *out = n;
        }
        Ok(())
    })
}

/// Makes a copy of a text index the similarity stage's knowledge (replacing the built-in
/// knowledge base); item payloads are the solutions. The index handle stays the caller's. With
/// external embeddings, resolve with `fl_resolver_resolve_embedded` and add pairs with
/// `fl_resolver_add_knowledge_embedded`. Takes the resolver's write lock.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolver_set_knowledge_index(
    r: *mut FlResolver,
    index: *const crate::index::FlTextIndex,
) -> FlStatus {
    guard(|| {
        let ix = unsafe { crate::index::text_index(index) }?;
        unsafe { write(r) }?.set_knowledge_index(ix)?;
        Ok(())
    })
}

/// Writes whether the knowledge is a text index of external embeddings to `*out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolver_knowledge_is_embedded(
    r: *const FlResolver,
    out: *mut bool,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        *out = unsafe { read(r) }?.knowledge_is_embedded();
        Ok(())
    })
}

/// Adds `n` pairs with the caller's embeddings of the errors (`len` floats, row after row) to a
/// knowledge index of external embeddings. Writes the knowledge's new size to `*size` (may be
/// NULL). Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolver_add_knowledge_embedded(
    r: *const FlResolver,
    errors: *const *const c_char,
    solutions: *const *const c_char,
    n: usize,
    embeddings: *const f32,
    len: usize,
    size: *mut usize,
) -> FlStatus {
    guard(|| {
        let errors = unsafe { str_array_arg(errors, n, "errors") }?;
        let solutions = unsafe { str_array_arg(solutions, n, "solutions") }?;
        let embeddings = unsafe { slice_arg(embeddings, len, "embeddings") }?;
        let total = unsafe { read(r) }?.add_knowledge_embedded(&errors, &solutions, embeddings)?;
        if let Some(out) = unsafe { size.as_mut() } {
            *out = total;
        }
        Ok(())
    })
}

/// Writes the number of pairs in the knowledge base to `*out`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolver_knowledge_size(
    r: *const FlResolver,
    out: *mut usize,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        *out = unsafe { read(r) }?.knowledge_size();
        Ok(())
    })
}

/// Resolves one error text. `method`: `"auto"` (or NULL), `"rules"`, `"similarity"` or
/// `"classifier"`. Empty or oversized text gives `FL_STATUS_INVALID_INPUT`.
///
/// On success `*out` owns the answer: free it with `fl_resolution_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolver_resolve(
    r: *const FlResolver,
    text: *const c_char,
    method: *const c_char,
    out: *mut *mut FlResolution,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        let text = unsafe { str_arg(text, "text") }?;
        let mode = unsafe { mode_arg(method) }?;
        let res = unsafe { read(r) }?.resolve(text, mode)?;
        *out = crate::into_handle(Box::new(FlResolution::new(res)?));
        Ok(())
    })
}

/// `fl_resolver_resolve` with the caller's embedding of `text` (`dim` floats), for a knowledge
/// index of external embeddings (`FL_STATUS_DIMENSION` when `dim` differs from the index's).
/// On success `*out` owns the answer: free it with `fl_resolution_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolver_resolve_embedded(
    r: *const FlResolver,
    text: *const c_char,
    embedding: *const f32,
    dim: usize,
    method: *const c_char,
    out: *mut *mut FlResolution,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        let text = unsafe { str_arg(text, "text") }?;
        let embedding = unsafe { slice_arg(embedding, dim, "embedding") }?;
        let mode = unsafe { mode_arg(method) }?;
        let res = unsafe { read(r) }?.resolve_embedded(text, embedding, mode)?;
        *out = crate::into_handle(Box::new(FlResolution::new(res)?));
        Ok(())
    })
}

/// `fl_resolver_resolve_batch` with the caller's embeddings of the `n` texts (`len` floats, row
/// after row). On success `*out` owns the answers: free them with `fl_resolutions_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolver_resolve_batch_embedded(
    r: *const FlResolver,
    texts: *const *const c_char,
    n: usize,
    embeddings: *const f32,
    len: usize,
    method: *const c_char,
    out: *mut *mut FlResolutions,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        let texts = unsafe { str_array_arg(texts, n, "texts") }?;
        let embeddings = unsafe { slice_arg(embeddings, len, "embeddings") }?;
        let mode = unsafe { mode_arg(method) }?;
        let items = unsafe { read(r) }?
            .resolve_batch_embedded(&texts, embeddings, mode)?
            .into_iter()
            .map(FlResolution::new)
            .collect::<Res<_>>()?;
        *out = crate::into_handle(Box::new(FlResolutions { items }));
        Ok(())
    })
}

/// Resolves `n` texts on all cores. Every text is checked first: a bad one fails the call,
/// naming its index.
///
/// On success `*out` owns the answers: free them with `fl_resolutions_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolver_resolve_batch(
    r: *const FlResolver,
    texts: *const *const c_char,
    n: usize,
    method: *const c_char,
    out: *mut *mut FlResolutions,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        let texts = unsafe { str_array_arg(texts, n, "texts") }?;
        let mode = unsafe { mode_arg(method) }?;
        let items = unsafe { read(r) }?
            .resolve_batch(&texts, mode)?
            .into_iter()
            .map(FlResolution::new)
            .collect::<Res<_>>()?;
        *out = crate::into_handle(Box::new(FlResolutions { items }));
        Ok(())
    })
}

/// Records whether `solution` fixed `text`; a success joins the knowledge base when
/// `learn_from_feedback` is on. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolver_record_outcome(
    r: *const FlResolver,
    text: *const c_char,
    solution: *const c_char,
    success: bool,
) -> FlStatus {
    guard(|| {
        let text = unsafe { str_arg(text, "text") }?;
        let solution = unsafe { str_arg(solution, "solution") }?;
        unsafe { read(r) }?.record_outcome(text, solution, success)?;
        Ok(())
    })
}

/// Recorded outcomes, oldest first, as a JSON array of `{"text", "solution", "success", "method",
/// "matched_id", "similarity", "timestamp"}` (`matched_id`: the knowledge id of the past error
/// whose solution was the answer, and `similarity` its similarity to the text, for similarity
/// answers; `null` otherwise).
///
/// On success `*json` owns the text: free it with `fl_string_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolver_outcomes(
    r: *const FlResolver,
    json: *mut *mut c_char,
) -> FlStatus {
    let value = || Ok(unsafe { read(r) }?.outcomes());
    unsafe { give_json(json, "json", value) }
}

/// Counters and histograms as JSON (`total`, `resolutions`, `unreliable`, `novel`, `errors`,
/// `outcomes`, `latency_seconds`, `confidence`).
///
/// On success `*json` owns the text: free it with `fl_string_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolver_metrics(
    r: *const FlResolver,
    json: *mut *mut c_char,
) -> FlStatus {
    let value = || Ok(unsafe { read(r) }?.metrics());
    unsafe { give_json(json, "json", value) }
}

/// The monitoring summary as JSON: `total`, `reliable`, `unreliable`, `novel`, `errors`,
/// `mean_latency_ms`, `max_latency_ms`, `mean_confidence`, `outcomes`, `success_rate`,
/// `by_stage` and `by_solution` (`{success, failure, success_rate}`, stages also `resolutions`).
///
/// On success `*json` owns the text: free it with `fl_string_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolver_summary(
    r: *const FlResolver,
    json: *mut *mut c_char,
) -> FlStatus {
    let value = || Ok(unsafe { read(r) }?.summary());
    unsafe { give_json(json, "json", value) }
}

/// The metrics in the Prometheus text exposition format (serve it at `/metrics`).
///
/// On success `*text` owns the text: free it with `fl_string_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolver_metrics_prometheus(
    r: *const FlResolver,
    text: *mut *mut c_char,
) -> FlStatus {
    let value = || Ok(unsafe { read(r) }?.metrics_prometheus());
    unsafe { give_text(text, "text", value) }
}

/// Sets every counter and histogram back to zero. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolver_reset_metrics(r: *const FlResolver) -> FlStatus {
    guard(|| {
        unsafe { read(r) }?.reset_metrics();
        Ok(())
    })
}

/// The configuration as JSON (what `fl_resolver_new` accepts).
///
/// On success `*json` owns the text: free it with `fl_string_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolver_config(
    r: *const FlResolver,
    json: *mut *mut c_char,
) -> FlStatus {
    unsafe { artifact::config(r, json) }
}

/// The whole resolver (config, rules, knowledge base, classifier) as a model file in memory.
///
/// On success `*bytes` owns `*len` bytes: free them with `fl_bytes_free(*bytes, *len)`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolver_to_bytes(
    r: *const FlResolver,
    bytes: *mut *mut u8,
    len: *mut usize,
) -> FlStatus {
    unsafe { artifact::to_bytes(r, bytes, len) }
}

/// Decodes a resolver file held in memory (`len` bytes, read only during the call).
///
/// On success `*out` owns a new handle: free it with `fl_resolver_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolver_from_bytes(
    bytes: *const u8,
    len: usize,
    out: *mut *mut FlResolver,
) -> FlStatus {
    unsafe { artifact::from_bytes(bytes, len, out) }
}

/// Writes the resolver file to `path` atomically: a failed save leaves any previous file intact.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolver_save(r: *const FlResolver, path: *const c_char) -> FlStatus {
    unsafe { artifact::save(r, path) }
}

/// Reads a resolver file written by `save` in any language.
///
/// On success `*out` owns a new handle: free it with `fl_resolver_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolver_load(
    path: *const c_char,
    out: *mut *mut FlResolver,
) -> FlStatus {
    unsafe { artifact::load(path, out) }
}

// ---------------------------------------------------------------------------------------------
// FlResolution accessors (NULL-safe: a NULL resolution reads as empty).

/// The remedy, or NULL for `no_match` (or a NULL `res`). Owned by `res`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolution_solution(res: *const FlResolution) -> *const c_char {
    guard_or(std::ptr::null(), || {
        unsafe { res.as_ref() }
            .and_then(|r| r.solution.as_ref())
            .map_or(std::ptr::null(), |s| s.as_ptr())
    })
}

/// The answering stage: `"exact_match"`, `"similarity_match"`, `"ml_prediction"` or
/// `"no_match"` ("" for a NULL `res`). Owned by `res`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolution_method(res: *const FlResolution) -> *const c_char {
    guard_or(c"".as_ptr(), || {
        unsafe { res.as_ref() }.map_or(c"".as_ptr(), |r| r.method.as_ptr())
    })
}

/// The probability that the answer is right, in `[0, 1]` (1 for a rule; 0 for `no_match` or a
/// NULL `res`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolution_confidence(res: *const FlResolution) -> f64 {
    guard_or(0.0, || {
        unsafe { res.as_ref() }.map_or(0.0, |r| r.inner.confidence)
    })
}

/// Whether the answer reached its stage's threshold (false for a NULL `res`). When false the
/// resolver abstains: the solution is only the best candidate.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolution_reliable(res: *const FlResolution) -> bool {
    guard_or(false, || {
        unsafe { res.as_ref() }.is_some_and(|r| r.inner.reliable)
    })
}

/// 1 - the input's similarity to the nearest past error or training line, in `[0, 1]` (0 when no
/// stage could tell, or for a NULL `res`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolution_novelty(res: *const FlResolution) -> f64 {
    guard_or(0.0, || {
        unsafe { res.as_ref() }.map_or(0.0, |r| r.inner.novelty)
    })
}

/// Whether the input is unlike anything known (not reliable and novelty above the resolver's
/// `novelty_threshold`): route it to a person. False for a NULL `res`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolution_novel(res: *const FlResolution) -> bool {
    guard_or(false, || {
        unsafe { res.as_ref() }.is_some_and(|r| r.inner.novel)
    })
}

/// The matching rule's name for `exact_match`, else NULL. Owned by `res`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolution_rule(res: *const FlResolution) -> *const c_char {
    guard_or(std::ptr::null(), || {
        unsafe { res.as_ref() }
            .and_then(|r| r.rule.as_ref())
            .map_or(std::ptr::null(), |s| s.as_ptr())
    })
}

/// Microseconds the resolve took (0 for a NULL `res`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolution_elapsed_us(res: *const FlResolution) -> u64 {
    guard_or(0, || {
        unsafe { res.as_ref() }.map_or(0, |r| r.inner.elapsed_us)
    })
}

/// The whole resolution as JSON, candidates included (`similar`, `predictions`).
///
/// On success `*json` owns the text: free it with `fl_string_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolution_to_json(
    res: *const FlResolution,
    json: *mut *mut c_char,
) -> FlStatus {
    guard(|| {
        let json = unsafe { out_arg(json, "json") }?;
        let res = unsafe { handle(res, "res") }?;
        *json = owned_json(&res.inner)?;
        Ok(())
    })
}

/// Frees a resolution from `fl_resolver_resolve`. NULL is a no-op; freeing it again is refused. Never pass one obtained from
/// `fl_resolutions_get` (the list owns those).
/// Returns `FL_STATUS_INVALID_INPUT` and frees nothing when given a pointer that is not a live
/// handle of this type (freed already, another type's handle, or not made by faultlens).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolution_free(res: *mut FlResolution) -> FlStatus {
    guard(|| unsafe { crate::free_handle(res, "fl_resolution_free") })
}

/// Number of resolutions in the list (0 for NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolutions_len(list: *const FlResolutions) -> usize {
    guard_or(0, || unsafe { list.as_ref() }.map_or(0, |l| l.items.len()))
}

/// The `i`-th resolution, borrowed from the list (valid until `fl_resolutions_free`), or NULL
/// when `i` is out of range.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolutions_get(
    list: *const FlResolutions,
    i: usize,
) -> *const FlResolution {
    guard_or(std::ptr::null(), || {
        unsafe { list.as_ref() }
            .and_then(|l| l.items.get(i))
            .map_or(std::ptr::null(), |r| r as *const FlResolution)
    })
}

/// Frees a list from `fl_resolver_resolve_batch` and every resolution in it. NULL is a no-op; freeing it again is refused.
/// Returns `FL_STATUS_INVALID_INPUT` and frees nothing when given a pointer that is not a live
/// handle of this type (freed already, another type's handle, or not made by faultlens).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_resolutions_free(list: *mut FlResolutions) -> FlStatus {
    guard(|| unsafe { crate::free_handle(list, "fl_resolutions_free") })
}
