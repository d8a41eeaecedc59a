//! `faultlens` for Node.js (napi-rs v3): the names of `docs/api.json` in camelCase.
//!
//! This crate only converts: JS arguments into core types, the core call (heavy calls also as
//! Promise-returning `AsyncTask`s on the libuv pool), then results into JS values and core errors
//! into JS errors with `err.code` = the core variant name ([`error::to_js`]). All behaviour is in
//! the `faultlens` crate (`core/`). Every export is `#[napi(catch_unwind)]`: no panic crosses.
//!
//! One file per capability, as in every layer: `text.rs` (Preprocessor), `vectorize.rs`
//! (TfidfVectorizer), `resolve.rs` (Resolver); plus `error.rs` (the one error mapping) and `convert.rs` (options objects
//! ↔ core config structs). Module functions are here.

// Module functions are called from JavaScript only: napi-rs registers them in library builds,
// not in `cargo test` builds, where they would otherwise count as dead code.
#![cfg_attr(test, allow(dead_code))]
// The crate docs are for maintainers (JS users read index.d.ts): they may name private items.
#![allow(rustdoc::private_intra_doc_links)]

use napi_derive::napi;

mod args;
mod artifact;
mod classify;
mod convert;
pub mod drift;
mod error;
mod grouper;
mod index;
mod js_object;
mod lock;
mod metrics;
mod resolve;
mod text;
mod vectorize;
mod window;

use napi::bindgen_prelude::{Env, Unknown};

/// The faultlens version (also written into every model file).
#[napi(catch_unwind)]
pub fn version() -> String {
    faultlens::VERSION.to_owned()
}

/// Panics inside faultlens on purpose, so the tests can show a panic arrives as a JS error and
/// the process lives on. Not public API (listed under the manifest's Node extras).
#[napi(catch_unwind, js_name = "_panicForTests")]
pub fn panic_for_tests(message: String) {
    faultlens::panic_for_tests(&message)
}

/// Turns multi-core batch work on (default) or off for the whole process.
#[napi(catch_unwind)]
pub fn set_parallelism(enabled: bool) {
    faultlens::set_parallelism(enabled);
}

/// Whether batch work may use all cores.
#[napi(catch_unwind)]
pub fn parallelism() -> bool {
    faultlens::parallelism()
}

/// What the header and envelope of a model file say, without decoding its payload.
#[napi(object, object_from_js = false)]
pub struct ArtifactInfo {
    /// The artifact kind: `"preprocessor"` or `"tfidf_vectorizer"`.
    pub kind: String,
    /// The container format version.
    pub format_version: u32,
    /// The faultlens version that wrote the file.
    pub library_version: String,
    /// Payload size in bytes.
    pub payload_bytes: f64,
}

/// Reads a model file's header and envelope: `{kind, formatVersion, libraryVersion, payloadBytes}`.
#[napi(catch_unwind)]
pub fn inspect(
    env: Env,
    #[napi(ts_arg_type = "string")] path: Unknown,
) -> napi::Result<ArtifactInfo> {
    let path = args::string(&path, "path").map_err(|e| crate::error::reject(&env, e))?;
    let info = faultlens::models::inspect(path).map_err(|e| error::thrown_at(&env, e))?;
    Ok(ArtifactInfo {
        kind: info.kind,
        format_version: info.format_version,
        library_version: info.library_version,
        payload_bytes: info.payload_bytes as f64,
    })
}
