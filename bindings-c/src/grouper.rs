//! `FlGrouper`: stable, order-independent incident groups (core `window::IncidentGrouper`).

use faultlens::sync::RwLock;
use std::ffi::c_char;

use faultlens::window::{GroupInput, GrouperConfig, IncidentGrouper};

use crate::artifact::{self, artifact_handle, read, write};
use crate::{FlStatus, guard, out_arg, owned_c_string, owned_json, slice_arg, str_arg};
use crate::{give_json, give_text};

/// Online incident groups: connected components of the similarity graph, named after their
/// earliest member (see docs/window.md). Thread-safe: a read-write lock inside; `fl_grouper_add`
/// takes it for writing. Create with `fl_grouper_new`, `fl_grouper_from_bytes` or
/// `fl_grouper_load`; release with `fl_grouper_free`.
pub struct FlGrouper {
    inner: RwLock<IncidentGrouper>,
}

artifact_handle!(FlGrouper: RwLock<IncidentGrouper>, config GrouperConfig, arg "grouper", prefix "grouper");

/// One incident to group, read only during the call. `id` is required (NUL-terminated UTF-8,
/// unique); `text` may be NULL (no text); `embedding` may be NULL (no embedding), else `dim`
/// floats, the same `dim` for every incident of a grouper.
#[repr(C)]
pub struct FlGroupInput {
    /// The incident's id.
    pub id: *const c_char,
    /// Orders members: a group is named after its earliest (time, then id) member.
    pub time_ms: i64,
    /// Text, or NULL.
    pub text: *const c_char,
    /// Embedding, or NULL.
    pub embedding: *const f32,
    /// Length of `embedding`.
    pub dim: usize,
}

/// Builds an empty grouper from a JSON config (`min_similarity`, `text_weight`,
/// `max_incidents`, `preprocessor`; NULL = defaults). On success `*out` owns a new handle: free
/// it with `fl_grouper_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_grouper_new(
    config_json: *const c_char,
    out: *mut *mut FlGrouper,
) -> FlStatus {
    unsafe { artifact::new(config_json, out) }
}

/// Frees a grouper. NULL is a no-op; a pointer that is not a live grouper is refused with
/// `FL_STATUS_INVALID_INPUT`. No other call may be using the handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_grouper_free(g: *mut FlGrouper) -> FlStatus {
    unsafe { artifact::free(g) }
}

/// Adds `n` incidents. `*out_json` receives `{"assignments": [{"id", "group", "new_group"}],
/// "renamed": [{"from", "to"}]}` (free it with `fl_string_free`). Bad input (NULL or repeated
/// id, a NaN in an embedding, another dimension) fails the call and adds nothing. Takes the
/// write lock.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_grouper_add(
    g: *mut FlGrouper,
    incidents: *const FlGroupInput,
    n: usize,
    out_json: *mut *mut c_char,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out_json, "out_json") }?;
        let items = unsafe { slice_arg(incidents, n, "incidents") }?;
        let mut inputs = Vec::with_capacity(items.len());
        for (i, x) in items.iter().enumerate() {
            let id = unsafe { str_arg(x.id, &format!("incidents[{i}].id")) }?;
            let text = if x.text.is_null() {
                None
            } else {
                Some(unsafe { str_arg(x.text, &format!("incidents[{i}].text")) }?)
            };
            let embedding = if x.embedding.is_null() {
                None
            } else {
                Some(unsafe {
                    slice_arg(x.embedding, x.dim, &format!("incidents[{i}].embedding"))
                }?)
            };
            inputs.push(GroupInput {
                id,
                time_ms: x.time_ms,
                text,
                embedding,
            });
        }
        let update = unsafe { write(g) }?.add(&inputs)?;
        *out = owned_json(&update)?;
        Ok(())
    })
}

/// The group id of incident `id` into `*out` (free with `fl_string_free`); `*out` is NULL for an
/// unknown id. Read lock.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_grouper_group_of(
    g: *const FlGrouper,
    id: *const c_char,
    out: *mut *mut c_char,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        let id = unsafe { str_arg(id, "id") }?;
        *out = match unsafe { read(g) }?.group_of(id) {
            Some(s) => owned_c_string(s)?,
            None => std::ptr::null_mut(),
        };
        Ok(())
    })
}

/// Every group as JSON `[{"id", "members": [...]}]` into `*out_json` (free with
/// `fl_string_free`). Read lock.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_grouper_groups(
    g: *const FlGrouper,
    out_json: *mut *mut c_char,
) -> FlStatus {
    let value = || Ok(unsafe { read(g) }?.groups());
    unsafe { give_json(out_json, "out_json", value) }
}

/// The similarity of two held incidents into `*out`; NaN when either id is unknown. Read lock.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_grouper_similarity(
    g: *const FlGrouper,
    a: *const c_char,
    b: *const c_char,
    out: *mut f64,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        let (a, b) = (unsafe { str_arg(a, "a") }?, unsafe { str_arg(b, "b") }?);
        *out = unsafe { read(g) }?.similarity(a, b).unwrap_or(f64::NAN);
        Ok(())
    })
}

/// Number of incidents held into `*out`. Read lock.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_grouper_len(g: *const FlGrouper, out: *mut usize) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        *out = unsafe { read(g) }?.len();
        Ok(())
    })
}

/// Incidents and groups held in the Prometheus text exposition format (0.0.4): the families of the Python and
/// Node collectors, without their `name` label (`fl_merge_prometheus` adds it).
///
/// On success `*text` owns the text: free it with `fl_string_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_grouper_metrics_prometheus(
    g: *const FlGrouper,
    text: *mut *mut c_char,
) -> FlStatus {
    let value = || Ok(unsafe { read(g) }?.metrics_prometheus());
    unsafe { give_text(text, "text", value) }
}

/// The config as JSON into `*json` (free with `fl_string_free`). Read lock.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_grouper_config(
    g: *const FlGrouper,
    json: *mut *mut c_char,
) -> FlStatus {
    unsafe { artifact::config(g, json) }
}

/// The whole state as model-file bytes; free with `fl_bytes_free(*bytes, *len)`. Read lock.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_grouper_to_bytes(
    g: *const FlGrouper,
    bytes: *mut *mut u8,
    len: *mut usize,
) -> FlStatus {
    unsafe { artifact::to_bytes(g, bytes, len) }
}

/// Restores a grouper from `fl_grouper_to_bytes` output. On success `*out` owns a new handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_grouper_from_bytes(
    bytes: *const u8,
    len: usize,
    out: *mut *mut FlGrouper,
) -> FlStatus {
    unsafe { artifact::from_bytes(bytes, len, out) }
}

/// Writes the state to `path` atomically (a failed save leaves the old file). Read lock.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_grouper_save(g: *const FlGrouper, path: *const c_char) -> FlStatus {
    unsafe { artifact::save(g, path) }
}

/// Reads a state written by `save` in any language. On success `*out` owns a new handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_grouper_load(
    path: *const c_char,
    out: *mut *mut FlGrouper,
) -> FlStatus {
    unsafe { artifact::load(path, out) }
}
