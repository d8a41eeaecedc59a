//! Bytes, save and load for every class over a core artifact: each class's `toBytes`,
//! `fromBytes`, `save` and `load` is one call to the generic functions here.

use std::ops::Deref;

use faultlens::Artifact;
use napi::bindgen_prelude::{Buffer, Env};

use crate::error::{Result, thrown, thrown_at, to_js};

/// A JS class over one core artifact type.
pub trait JsArtifact: Sized {
    type Core: Artifact;
    /// A new JS object over a decoded core value.
    fn wrap(core: Self::Core) -> Self;
    /// Shared access to the core value (its lock's guard, or the value itself when the core type
    /// locks inside).
    fn core(&self) -> Result<impl Deref<Target = Self::Core> + '_>;
}

/// `obj.toBytes()`: the complete model file (copied into a `Buffer`).
pub fn to_bytes<T: JsArtifact>(obj: &T) -> Result<Buffer> {
    Ok(obj.core()?.to_bytes().map_err(to_js)?.into())
}

/// `T.fromBytes(bytes)`.
pub fn from_bytes<T: JsArtifact>(bytes: &[u8]) -> Result<T> {
    Ok(T::wrap(T::Core::from_bytes(bytes).map_err(to_js)?))
}

/// `obj.save(path)`: atomic (a failed save keeps the previous file); an I/O error carries `path`.
pub fn save<T: JsArtifact>(env: &Env, obj: &T, path: &str) -> napi::Result<()> {
    let core = obj.core().map_err(|e| thrown(env, e, None))?;
    core.save(path).map_err(|e| thrown_at(env, e))
}

/// `T.load(path)`; an I/O error carries `path`.
pub fn load<T: JsArtifact>(env: &Env, path: &str) -> napi::Result<T> {
    Ok(T::wrap(T::Core::load(path).map_err(|e| thrown_at(env, e))?))
}
