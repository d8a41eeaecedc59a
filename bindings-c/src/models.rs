//! The model file from C: `fl_inspect`. Each handle's `to_bytes` / `from_bytes` / `save` / `load`
//! live with the handle (`text.rs`, `vectorize.rs`) and all go through the core's versioned
//! envelope (`faultlens::Artifact`), so files are shared with Rust, Python and Node.

use std::ffi::c_char;

use crate::{FlStatus, guard, out_arg, owned_json, path_arg};

/// Reads only the header and envelope of the model file at `path` and writes them as JSON to
/// `*out_json`: `{"kind":"tfidf_vectorizer","format_version":2,"library_version":"0.1.0",
/// "payload_bytes":1234}`. Fails like `*_load` (`FL_STATUS_IO`, `FL_STATUS_CORRUPT`,
/// `FL_STATUS_FORMAT`), but accepts every kind.
///
/// On success `*out_json` owns a new string: free it with `fl_string_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_inspect(path: *const c_char, out_json: *mut *mut c_char) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out_json, "out_json") }?;
        let path = unsafe { path_arg(path, "path") }?;
        *out = owned_json(&faultlens::models::inspect(path)?)?;
        Ok(())
    })
}
