//! `FlPreprocessor`: text preprocessing (`faultlens::Preprocessor`) from C.

use std::ffi::c_char;

use faultlens::{Preprocessor, PreprocessorConfig};

use crate::artifact::{self, Unlocked, artifact_handle, read};
use crate::{
    FlStatus, FlStringLists, FlStrings, guard, out_arg, owned_c_string, str_arg, str_array_arg,
};

/// A configured text preprocessor (lowercase, mask, segment, stem, filter).
///
/// Immutable once built: every function taking a `const FlPreprocessor *` may be called from
/// several threads at once on the same handle. Create with `fl_preprocessor_new`,
/// `fl_preprocessor_from_bytes` or `fl_preprocessor_load`; release with `fl_preprocessor_free`.
pub struct FlPreprocessor {
    inner: Unlocked<Preprocessor>,
}

artifact_handle!(FlPreprocessor: Unlocked<Preprocessor>, config PreprocessorConfig, arg "preprocessor", prefix "preprocessor");

/// Builds a preprocessor from a JSON config with the core's snake_case field names, e.g.
/// `{"stemmer":"none","custom_masks":[{"pattern":"ord-[0-9]+","placeholder":"<order>"}]}`;
/// NULL (or `{}`) means the defaults. Unknown fields, bad JSON and out-of-range values give
/// `FL_STATUS_INVALID_CONFIG`.
///
/// On success `*out` owns a new handle: free it with `fl_preprocessor_free`. On failure `*out` is
/// NULL. `config_json` is only read during the call. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_preprocessor_new(
    config_json: *const c_char,
    out: *mut *mut FlPreprocessor,
) -> FlStatus {
    unsafe { artifact::new(config_json, out) }
}

/// Frees a preprocessor. NULL is a no-op; freeing it again is refused. No other call may be using the handle.
/// Returns `FL_STATUS_INVALID_INPUT` and frees nothing when given a pointer that is not a live
/// handle of this type (freed already, another type's handle, or not made by faultlens).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_preprocessor_free(p: *mut FlPreprocessor) -> FlStatus {
    unsafe { artifact::free(p) }
}

/// The tokens of one text, in order. `text` is NUL-terminated UTF-8, read only during the call.
///
/// On success `*out` owns a new list: free it with `fl_strings_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_preprocessor_tokens(
    p: *const FlPreprocessor,
    text: *const c_char,
    out: *mut *mut FlStrings,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        let p = unsafe { read(p) }?;
        let text = unsafe { str_arg(text, "text") }?;
        *out = FlStrings::from_vec(p.tokens(text))?.into_raw();
        Ok(())
    })
}

/// The tokens of `n` texts (an array of `n` NUL-terminated UTF-8 strings; NULL allowed when
/// `n == 0`). Large batches use all cores unless `fl_set_parallelism(false)`.
///
/// On success `*out` owns a new list of `n` lists: free it with `fl_string_lists_free`.
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_preprocessor_tokens_batch(
    p: *const FlPreprocessor,
    texts: *const *const c_char,
    n: usize,
    out: *mut *mut FlStringLists,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        let p = unsafe { read(p) }?;
        let texts = unsafe { str_array_arg(texts, n, "texts") }?;
        *out = FlStringLists::from_vecs(p.tokens_batch(&texts))?.into_raw();
        Ok(())
    })
}

/// The tokens of one text joined by single spaces.
///
/// On success `*out` owns a new string: free it with `fl_string_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_preprocessor_process(
    p: *const FlPreprocessor,
    text: *const c_char,
    out: *mut *mut c_char,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        let p = unsafe { read(p) }?;
        let text = unsafe { str_arg(text, "text") }?;
        *out = owned_c_string(p.process(text))?;
        Ok(())
    })
}

/// `fl_preprocessor_process` for `n` texts.
///
/// On success `*out` owns a new list of `n` strings: free it with `fl_strings_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_preprocessor_process_batch(
    p: *const FlPreprocessor,
    texts: *const *const c_char,
    n: usize,
    out: *mut *mut FlStrings,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        let p = unsafe { read(p) }?;
        let texts = unsafe { str_array_arg(texts, n, "texts") }?;
        *out = FlStrings::from_vec(p.process_batch(&texts))?.into_raw();
        Ok(())
    })
}

/// The masked line (lowercased if configured, variable parts replaced by placeholders, runs of
/// whitespace collapsed)
/// and its stable template id (16 hex digits).
///
/// On success `*masked` and `*id` each own a new string: free both with `fl_string_free`. On
/// failure both are NULL. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_preprocessor_template(
    p: *const FlPreprocessor,
    text: *const c_char,
    masked: *mut *mut c_char,
    id: *mut *mut c_char,
) -> FlStatus {
    guard(|| {
        let masked = unsafe { out_arg(masked, "masked") }?;
        let id = unsafe { out_arg(id, "id") }?;
        let p = unsafe { read(p) }?;
        let text = unsafe { str_arg(text, "text") }?;
        let t = p.template(text);
        let m = crate::c_string(t.masked)?;
        let i = crate::c_string(t.id)?;
        *masked = m.into_raw();
        *id = i.into_raw();
        Ok(())
    })
}

/// `fl_preprocessor_template` for `n` texts: `(*masked)[i]` and `(*ids)[i]` belong to `texts[i]`.
///
/// On success `*masked` and `*ids` each own a new list of `n` strings: free both with
/// `fl_strings_free`. On failure both are NULL. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_preprocessor_template_batch(
    p: *const FlPreprocessor,
    texts: *const *const c_char,
    n: usize,
    masked: *mut *mut FlStrings,
    ids: *mut *mut FlStrings,
) -> FlStatus {
    guard(|| {
        let masked = unsafe { out_arg(masked, "masked") }?;
        let ids = unsafe { out_arg(ids, "ids") }?;
        let p = unsafe { read(p) }?;
        let texts = unsafe { str_array_arg(texts, n, "texts") }?;
        let (m, i): (Vec<String>, Vec<String>) = p
            .template_batch(&texts)
            .into_iter()
            .map(|t| (t.masked, t.id))
            .unzip();
        let m = FlStrings::from_vec(m)?;
        let i = FlStrings::from_vec(i)?;
        *masked = m.into_raw();
        *ids = i.into_raw();
        Ok(())
    })
}

/// The full configuration as JSON (every field, snake_case), accepted by `fl_preprocessor_new`.
///
/// On success `*json` owns a new string: free it with `fl_string_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_preprocessor_config(
    p: *const FlPreprocessor,
    json: *mut *mut c_char,
) -> FlStatus {
    unsafe { artifact::config(p, json) }
}

/// The preprocessor as a complete model file in memory (what `fl_preprocessor_save` writes).
///
/// On success `*bytes` owns `*len` bytes: free them with `fl_bytes_free(*bytes, *len)`.
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_preprocessor_to_bytes(
    p: *const FlPreprocessor,
    bytes: *mut *mut u8,
    len: *mut usize,
) -> FlStatus {
    unsafe { artifact::to_bytes(p, bytes, len) }
}

/// Decodes a model file held in memory (`len` bytes at `bytes`, read only during the call).
/// Truncated or damaged data gives `FL_STATUS_CORRUPT`, an unsupported version
/// `FL_STATUS_FORMAT`, another artifact kind `FL_STATUS_WRONG_KIND`.
///
/// On success `*out` owns a new handle: free it with `fl_preprocessor_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_preprocessor_from_bytes(
    bytes: *const u8,
    len: usize,
    out: *mut *mut FlPreprocessor,
) -> FlStatus {
    unsafe { artifact::from_bytes(bytes, len, out) }
}

/// Writes the model file to `path` atomically (temporary file, fsync, rename): a failed save
/// leaves any previous file intact. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_preprocessor_save(
    p: *const FlPreprocessor,
    path: *const c_char,
) -> FlStatus {
    unsafe { artifact::save(p, path) }
}

/// Reads a model file written by `save` in any language (C, Rust, Python, Node).
///
/// On success `*out` owns a new handle: free it with `fl_preprocessor_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_preprocessor_load(
    path: *const c_char,
    out: *mut *mut FlPreprocessor,
) -> FlStatus {
    unsafe { artifact::load(path, out) }
}
