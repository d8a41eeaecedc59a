//! The one mapping from faultlens errors to JavaScript errors (convention 4, `docs/errors.md`).
//!
//! A core [`faultlens::Error`] becomes a JS `Error` whose `code` property is the variant name
//! ([`faultlens::Error::code`], e.g. `"NotFitted"`) and whose `message` is the core's `Display`.
//! napi-rs sets `err.code` from an error's *status*; its own `Status` enum cannot hold our names,
//! so every export returns [`Result`], whose error carries the code as a `String` status.
//!
//! Failures of the binding's own conversions are classified with a core code too (an options
//! object that does not deserialize is `InvalidConfig`). A caught panic, or a lock poisoned by one,
//! has the code `GenericFailure` (napi-rs's own for `#[napi(catch_unwind)]`): that is a bug.

use napi::bindgen_prelude::{Env, FromNapiValue, JsError, JsObjectValue, Object, Unknown};

/// What every export returns: the error's status (JS `err.code`) is the faultlens code.
/// It is named `Result` so napi's type generator sees `Result<T>` and declares `T`.
pub type Result<T> = std::result::Result<T, napi::Error<String>>;

/// The mapping: core error → JS error with `code` = variant name and `message` = core Display.
pub fn to_js(e: faultlens::Error) -> napi::Error<String> {
    napi::Error::new(e.code().as_str().to_owned(), e.to_string())
}

/// A failure of the binding's own conversions, classified with a core error code.
pub fn binding(code: &str, message: impl Into<String>) -> napi::Error<String> {
    napi::Error::new(code.to_owned(), message.into())
}

/// An options object (or a value inside it) that does not make a valid config.
pub fn invalid_config(message: impl std::fmt::Display) -> napi::Error<String> {
    binding("InvalidConfig", format!("invalid config: {message}"))
}

/// Runs `f` (the work of an async task, on a libuv pool thread), turning a panic into an error:
/// napi-rs does not catch panics in `Task::compute`, and one must not unwind into libuv.
pub fn guard<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let e = napi::bindgen_prelude::panic_to_error(payload);
        Err(binding("GenericFailure", e.reason))
    })
}

/// Hands an error to a Promise rejection. `Task::resolve` can only fail with `napi::Error`
/// (fixed `Status`), so the JS error (with its `code`) is built here on the JS thread and passed
/// on by reference; napi-rs rejects the Promise with that very object.
pub fn reject(env: &Env, e: napi::Error<String>) -> napi::Error {
    thrown(env, e, None)
}

/// A core error thrown by an entry point that takes a file path: an I/O error about a file
/// carries that file in a `path` property, as Node's own fs errors do. Only a JS error object
/// can hold the property, so it is built here and thrown as it is.
pub fn thrown_at(env: &Env, e: faultlens::Error) -> napi::Error {
    let path = e.path().map(|p| p.to_string_lossy().into_owned());
    thrown(env, to_js(e), path)
}

/// The JS error of `e` (`code`, `message`, and `path` when given), as a `napi::Error` that
/// napi-rs throws (or rejects with) unchanged.
pub fn thrown(env: &Env, e: napi::Error<String>, path: Option<String>) -> napi::Error {
    // SAFETY: `env` is the live environment of the calling JS thread, and the values passed to
    // `from_napi_value` / `from_raw_unchecked` were just created in it.
    unsafe {
        let value = JsError::from(e).into_value(env.raw());
        if let Some(path) = path
            && let Ok(mut obj) = Object::from_napi_value(env.raw(), value)
        {
            // Without the property the error still has its code and a message naming the file.
            let _ = obj.set_named_property("path", path);
        }
        napi::Error::from(Unknown::from_raw_unchecked(env.raw(), value))
    }
}
