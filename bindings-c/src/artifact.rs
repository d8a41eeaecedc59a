//! The lifecycle every artifact handle shares: `_new`, `_free`, `_config`, `_to_bytes`,
//! `_from_bytes`, `_save`, `_load`, and the lock around the core object with its poison check.
//!
//! cbindgen reads the source without expanding macros, so each `extern "C"` function stays
//! written out (with its doc comment) in its capability's file; its body is one call to a generic
//! function here. A new artifact handle needs a struct with an `inner` field, one
//! [`artifact_handle!`] line and one-line wrappers.

use std::ffi::c_char;
use std::ops::{Deref, DerefMut};

use faultlens::Artifact;
use faultlens::sync::{Mutex, RwLock};

use crate::{
    Fail, FlStatus, Res, config_arg, give_slice, guard, handle, out_arg, owned_json, path_arg,
    slice_arg,
};

/// The failure of a call on a handle whose lock an earlier panicking call poisoned.
fn poisoned(name: &str) -> Fail {
    Fail::new(
        FlStatus::Panic,
        format!("this {name} is unusable: an earlier call panicked while updating it"),
    )
}

/// What an `FL_STATUS_INHERITED` message calls a handle whose lock a thread of the parent held
/// at `fork()` (the locks detect it once `fl_after_fork` ran in the child).
const HANDLE: &str = "faultlens handle";

/// How a handle holds its core object: behind a lock, or bare when the core type locks inside.
pub(crate) trait Store<T> {
    fn new(value: T) -> Self;
    /// Shared access (a read lock; the mutex for a `Mutex`). `name` is the handle's C type.
    fn read(&self, name: &str) -> Res<impl Deref<Target = T> + '_>;
}

/// A store that can hand out exclusive access.
pub(crate) trait StoreMut<T>: Store<T> {
    fn write(&self, name: &str) -> Res<impl DerefMut<Target = T> + '_>;
}

impl<T> Store<T> for RwLock<T> {
    fn new(value: T) -> Self {
        RwLock::new(value, HANDLE)
    }
    fn read(&self, name: &str) -> Res<impl Deref<Target = T> + '_> {
        self.read_or(|| poisoned(name))
    }
}

impl<T> StoreMut<T> for RwLock<T> {
    fn write(&self, name: &str) -> Res<impl DerefMut<Target = T> + '_> {
        self.write_or(|| poisoned(name))
    }
}

impl<T> Store<T> for Mutex<T> {
    fn new(value: T) -> Self {
        Mutex::new(value, HANDLE)
    }
    fn read(&self, name: &str) -> Res<impl Deref<Target = T> + '_> {
        self.lock_or(|| poisoned(name))
    }
}

impl<T> StoreMut<T> for Mutex<T> {
    fn write(&self, name: &str) -> Res<impl DerefMut<Target = T> + '_> {
        self.lock_or(|| poisoned(name))
    }
}

/// A core object that does its own locking (the indexes, the immutable preprocessor).
pub(crate) struct Unlocked<T>(pub(crate) T);

impl<T> Store<T> for Unlocked<T> {
    fn new(value: T) -> Self {
        Unlocked(value)
    }
    fn read(&self, _name: &str) -> Res<impl Deref<Target = T> + '_> {
        Ok(&self.0)
    }
}

/// A C handle over one core artifact type. Implemented with [`artifact_handle!`].
pub(crate) trait ArtifactHandle: Sized + 'static {
    type Core: Artifact;
    type Store: Store<Self::Core>;
    type Config: serde::de::DeserializeOwned + Default;
    /// The handle argument's name in messages ("`grouper` is NULL").
    const ARG: &'static str;
    /// The C type name ("FlGrouper").
    const NAME: &'static str;
    /// The `_free` function, named in its refusals.
    const FREE: &'static str;
    fn from_store(store: Self::Store) -> Self;
    fn store(&self) -> &Self::Store;
    fn build(config: Self::Config) -> faultlens::Result<Self::Core>;
    fn config(core: &Self::Core) -> impl serde::Serialize + '_;
}

/// `impl ArtifactHandle for $handle`: the handle struct has one field, `inner: $store<$core>`;
/// `$prefix` is the C functions' prefix (`fl_<prefix>_free`).
macro_rules! artifact_handle {
    ($handle:ident: $store:ident<$core:ty>, config $config:ty, arg $arg:literal, prefix $prefix:literal) => {
        impl $crate::artifact::ArtifactHandle for $handle {
            type Core = $core;
            type Store = $store<$core>;
            type Config = $config;
            const ARG: &'static str = $arg;
            const NAME: &'static str = stringify!($handle);
            const FREE: &'static str = concat!("fl_", $prefix, "_free");
            fn from_store(inner: Self::Store) -> Self {
                Self { inner }
            }
            fn store(&self) -> &Self::Store {
                &self.inner
            }
            fn build(config: $config) -> faultlens::Result<$core> {
                <$core>::new(config)
            }
            fn config(core: &$core) -> impl serde::Serialize + '_ {
                core.config()
            }
        }
    };
}
pub(crate) use artifact_handle;

/// Gives a core object to the caller as a new handle.
pub(crate) fn give<H: ArtifactHandle>(core: H::Core) -> *mut H {
    crate::into_handle(Box::new(H::from_store(H::Store::new(core))))
}

/// Shared access to a borrowed handle's core object (NULL and wrong-type handles refused).
pub(crate) unsafe fn read<'a, H: ArtifactHandle>(
    p: *const H,
) -> Res<impl Deref<Target = H::Core> + 'a> {
    unsafe { handle(p, H::ARG) }?.store().read(H::NAME)
}

/// Exclusive access to a borrowed handle's core object.
pub(crate) unsafe fn write<'a, H: ArtifactHandle>(
    p: *const H,
) -> Res<impl DerefMut<Target = H::Core> + 'a>
where
    H::Store: StoreMut<H::Core>,
{
    unsafe { handle(p, H::ARG) }?.store().write(H::NAME)
}

/// `fl_<x>_new`: a handle from a JSON config (NULL = defaults) into `*out`.
pub(crate) unsafe fn new<H: ArtifactHandle>(
    config_json: *const c_char,
    out: *mut *mut H,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        let config: H::Config = unsafe { config_arg(config_json, "config_json") }?;
        *out = give(H::build(config)?);
        Ok(())
    })
}

/// `fl_<x>_free`: NULL is a no-op; anything but a live handle of type `H` is refused.
pub(crate) unsafe fn free<H: ArtifactHandle>(p: *mut H) -> FlStatus {
    guard(|| unsafe { crate::free_handle(p, H::FREE) })
}

/// `fl_<x>_config`: the config as JSON into `*json`.
pub(crate) unsafe fn config<H: ArtifactHandle>(p: *const H, json: *mut *mut c_char) -> FlStatus {
    guard(|| {
        let json = unsafe { out_arg(json, "json") }?;
        *json = owned_json(&H::config(&*unsafe { read(p) }?))?;
        Ok(())
    })
}

/// `fl_<x>_to_bytes`: the model file into `*bytes` / `*len`.
pub(crate) unsafe fn to_bytes<H: ArtifactHandle>(
    p: *const H,
    bytes: *mut *mut u8,
    len: *mut usize,
) -> FlStatus {
    guard(|| {
        let bytes = unsafe { out_arg(bytes, "bytes") }?;
        let len = unsafe { out_arg(len, "len") }?;
        (*bytes, *len) = give_slice(unsafe { read(p) }?.to_bytes()?);
        Ok(())
    })
}

/// `fl_<x>_from_bytes`: a handle decoded from `len` bytes into `*out`.
pub(crate) unsafe fn from_bytes<H: ArtifactHandle>(
    bytes: *const u8,
    len: usize,
    out: *mut *mut H,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        let bytes = unsafe { slice_arg(bytes, len, "bytes") }?;
        *out = give(H::Core::from_bytes(bytes)?);
        Ok(())
    })
}

/// `fl_<x>_save`: the handle is checked before the path, so a NULL handle is named as such.
pub(crate) unsafe fn save<H: ArtifactHandle>(p: *const H, path: *const c_char) -> FlStatus {
    guard(|| {
        let core = unsafe { read(p) }?;
        let path = unsafe { path_arg(path, "path") }?;
        core.save(path)?;
        Ok(())
    })
}

/// `fl_<x>_load`: a handle read from the model file at `path` into `*out`.
pub(crate) unsafe fn load<H: ArtifactHandle>(path: *const c_char, out: *mut *mut H) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        let path = unsafe { path_arg(path, "path") }?;
        *out = give(H::Core::load(path)?);
        Ok(())
    })
}
