//! The one place a lock's poisoning becomes an error: every class keeps its core value behind a
//! `RwLock` or `Mutex` and takes it through these functions.

use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::error::{Result, binding};

/// A lock poisoned by a panic in an earlier call (itself a bug): the object is unusable.
fn poisoned(what: &str) -> napi::Error<String> {
    binding(
        "GenericFailure",
        format!("{what} is unusable: an earlier call panicked while using it"),
    )
}

/// Shared access to `what`'s core value.
pub fn read<'a, T>(l: &'a RwLock<T>, what: &str) -> Result<RwLockReadGuard<'a, T>> {
    l.read().map_err(|_| poisoned(what))
}

/// Exclusive access to `what`'s core value.
pub fn write<'a, T>(l: &'a RwLock<T>, what: &str) -> Result<RwLockWriteGuard<'a, T>> {
    l.write().map_err(|_| poisoned(what))
}

/// The mutex of `what`'s core value.
pub fn lock<'a, T>(m: &'a Mutex<T>, what: &str) -> Result<MutexGuard<'a, T>> {
    m.lock().map_err(|_| poisoned(what))
}
