//! The lock every Python object keeps its core value behind: [`Shared`].
//!
//! Two hazards of a plain `RwLock` in an extension module, handled here once for every class:
//!
//! - **Waiting with the GIL held.** A cheap call (`stats()`, `config()`) takes the lock with the
//!   GIL held; if another thread holds it for seconds (a `set_rules` compile, a `fit`, with the
//!   GIL released), the waiting thread would keep the GIL and freeze every Python thread. The
//!   lock is tried first; only when it is taken does the caller wait, with the GIL released.
//! - **Fork.** A child forked while another thread holds the lock inherits it locked, with no
//!   thread left to unlock it: the child would hang on first use. Each lock counts its holders,
//!   stamped with the core's fork generation (`os.register_at_fork` calls [`_forked`], i.e.
//!   `faultlens::after_fork`, in every child; the core's own locks read the same counter). A
//!   lock held by a thread of the parent at fork time gives `InheritedError` in the child instead
//!   of a hang.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard, TryLockError};
use std::time::{Duration, Instant};

use faultlens::sync::STAMP_GRACE;

use pyo3::prelude::*;

use crate::error::Failure;

/// Called in the child after every `os.fork()` (registered by `faultlens/__init__.py`): advances
/// the core's fork generation, which these locks and the core's own read, and turns parallelism
/// off.
#[pyfunction]
pub(crate) fn _forked() {
    faultlens::after_fork();
}

fn generation() -> u32 {
    faultlens::sync::fork_generation()
}

/// A core value behind a read-write lock; see the module docs.
pub(crate) struct Shared<T> {
    lock: RwLock<T>,
    what: &'static str,
    /// `generation << 32 | holders`: how many guards are out, counted in which generation.
    stamp: AtomicU64,
}

/// A guard's value on the calling thread only. Std guards are not `Send` (some platforms must
/// unlock on the locking thread); `Python::detach` runs its closure on the calling thread, so
/// passing one out of it never moves it to another thread.
struct SameThread<G>(G);
// SAFETY: see above; the value is created and used on one thread.
unsafe impl<G> Send for SameThread<G> {}

impl<T: Send + Sync> Shared<T> {
    pub(crate) fn new(value: T, what: &'static str) -> Self {
        Shared {
            lock: RwLock::new(value),
            what,
            stamp: AtomicU64::new(0),
        }
    }

    /// Shared access. Callable with or without the GIL: when the lock is taken, waits with the
    /// GIL released.
    pub(crate) fn read(&self) -> Result<ReadGuard<'_, T>, Failure> {
        let guard = match self.lock.try_read() {
            Ok(g) => g,
            Err(TryLockError::Poisoned(_)) => return Err(Failure::poisoned(self.what)),
            Err(TryLockError::WouldBlock) => self.wait(|| self.lock.read().ok())?,
        };
        self.enter()?;
        Ok(Guard {
            guard,
            stamp: &self.stamp,
        })
    }

    /// Exclusive access; as [`read`](Self::read).
    pub(crate) fn write(&self) -> Result<WriteGuard<'_, T>, Failure> {
        let guard = match self.lock.try_write() {
            Ok(g) => g,
            Err(TryLockError::Poisoned(_)) => return Err(Failure::poisoned(self.what)),
            Err(TryLockError::WouldBlock) => self.wait(|| self.lock.write().ok())?,
        };
        self.enter()?;
        Ok(Guard {
            guard,
            stamp: &self.stamp,
        })
    }

    /// Blocks in `acquire` with the GIL released, unless the holder is a thread of the parent
    /// process (gone in this child).
    fn wait<G>(&self, acquire: impl Send + FnOnce() -> Option<G>) -> Result<G, Failure> {
        let got = Python::attach(|py| {
            py.detach(|| {
                let start = Instant::now();
                loop {
                    let (generation, holders) = split(self.stamp.load(Ordering::Acquire));
                    if generation == self::generation() {
                        break;
                    }
                    // Stamped before the latest fork: inherited, unless a thread of this child
                    // took the lock a moment ago and is about to stamp it.
                    if holders > 0 || start.elapsed() > STAMP_GRACE {
                        return Err(self.inherited());
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                Ok(SameThread(acquire()))
            })
        })?;
        got.0.ok_or_else(|| Failure::poisoned(self.what))
    }

    /// Counts a new guard (the lock is held). Guards left by the parent's threads make the
    /// object unusable here even when the lock could be shared: their holders are gone.
    fn enter(&self) -> Result<(), Failure> {
        let now = generation();
        let mut cur = self.stamp.load(Ordering::Acquire);
        loop {
            let (generation, holders) = split(cur);
            let next = if generation == now {
                join(now, holders + 1)
            } else if holders == 0 {
                join(now, 1)
            } else {
                return Err(self.inherited());
            };
            match self
                .stamp
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Ok(()),
                Err(actual) => cur = actual,
            }
        }
    }

    fn inherited(&self) -> Failure {
        Failure::Core(faultlens::Error::Inherited { what: self.what })
    }
}

fn split(stamp: u64) -> (u32, u32) {
    ((stamp >> 32) as u32, stamp as u32)
}

fn join(generation: u32, holders: u32) -> u64 {
    (u64::from(generation) << 32) | u64::from(holders)
}

/// Shared access to a `Shared<T>`.
pub(crate) type ReadGuard<'a, T> = Guard<'a, RwLockReadGuard<'a, T>, T>;
/// Exclusive access to a `Shared<T>`.
pub(crate) type WriteGuard<'a, T> = Guard<'a, RwLockWriteGuard<'a, T>, T>;

/// A counted lock guard: derefs to the value, uncounts itself when dropped.
pub(crate) struct Guard<'a, G, T>
where
    G: Deref<Target = T>,
{
    guard: G,
    stamp: &'a AtomicU64,
}

impl<G: Deref<Target = T>, T> Deref for Guard<'_, G, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<G: DerefMut<Target = T>, T> DerefMut for Guard<'_, G, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

impl<G: Deref<Target = T>, T> Drop for Guard<'_, G, T> {
    fn drop(&mut self) {
        // Uncounted before `guard` unlocks (fields drop after this). A guard taken before a
        // fork and dropped after it (by the forking thread itself) no longer counts: leave the
        // new generation's count alone.
        let now = generation();
        let _ = self
            .stamp
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |cur| {
                let (generation, holders) = split(cur);
                (generation == now && holders > 0).then(|| join(generation, holders - 1))
            });
    }
}
