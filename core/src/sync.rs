//! Locks that survive `fork()`: a forked child instead of a hang gets [`Error::Inherited`].
//!
//! `fork()` copies only the calling thread. A lock another thread held at that moment stays held
//! in the child, and no thread is left to release it: a plain `std::sync` lock would block the
//! child forever on first use. Every lock faultlens holds (a resolver's knowledge base and
//! metrics, an index's store and graph, the compiled-preprocessor cache) is one of these
//! wrappers. Each counts its holders, stamped with the process's fork generation, which
//! [`after_fork`] advances in the child. A lock held by a thread of an earlier generation (the
//! parent's, gone in the child) gives [`Error::Inherited`]; a lock idle at fork time works.
//!
//! Holders of the current generation are waited for exactly as a `std::sync` lock does; the
//! fork check only runs when the lock is taken.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{
    LockResult, MutexGuard, PoisonError, RwLockReadGuard, RwLockWriteGuard, TryLockError,
    TryLockResult,
};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Forks survived by this process: 0 in the process that loaded faultlens, +1 in each child
/// that called [`after_fork`].
static GENERATION: AtomicU32 = AtomicU32::new(0);

/// Call in the child after every `fork()` (Python does it through `os.register_at_fork`; C
/// through `fl_after_fork`, e.g. `pthread_atfork(NULL, NULL, fl_after_fork)`). Locks another
/// thread of the parent held at the fork then report [`Error::Inherited`] instead of blocking
/// forever, and batch work runs on the calling thread (the child has no worker threads: see
/// [`set_parallelism`](crate::set_parallelism)).
pub fn after_fork() {
    GENERATION.fetch_add(1, Ordering::Relaxed);
    crate::parallel::set_parallelism(false);
}

/// The current fork generation (how many times [`after_fork`] ran in this process): bindings
/// that keep locks of their own stamp them with it.
pub fn fork_generation() -> u32 {
    GENERATION.load(Ordering::Relaxed)
}

/// How long a lock whose holder cannot be told apart from an inherited one is waited for: a
/// thread of the child that has just taken the lock stamps it within nanoseconds.
pub const STAMP_GRACE: Duration = Duration::from_millis(200);

/// `generation << 32 | holders`: how many guards are out, counted in which generation.
struct Stamp {
    bits: AtomicU64,
    what: &'static str,
}

fn split(bits: u64) -> (u32, u32) {
    ((bits >> 32) as u32, bits as u32)
}

fn join(generation: u32, holders: u32) -> u64 {
    (u64::from(generation) << 32) | u64::from(holders)
}

impl Stamp {
    const fn new(what: &'static str) -> Self {
        Stamp {
            bits: AtomicU64::new(0),
            what,
        }
    }

    fn inherited(&self) -> Error {
        Error::Inherited { what: self.what }
    }

    /// Takes the lock: `try_take` first; when it is held, blocks in `take` unless the holder is
    /// a thread of an earlier generation. The bool says whether the lock was poisoned.
    fn acquire<G>(
        &self,
        generation: &AtomicU32,
        try_take: impl FnOnce() -> TryLockResult<G>,
        take: impl FnOnce() -> LockResult<G>,
    ) -> Result<(G, bool)> {
        let (guard, poisoned) = match try_take() {
            Ok(g) => (g, false),
            Err(TryLockError::Poisoned(p)) => (p.into_inner(), true),
            Err(TryLockError::WouldBlock) => {
                self.wait_same_generation(generation)?;
                match take() {
                    Ok(g) => (g, false),
                    Err(p) => (p.into_inner(), true),
                }
            }
        };
        // On error `guard` drops here and unlocks: it was never counted.
        self.enter(generation)?;
        Ok((guard, poisoned))
    }

    /// Returns once the lock's holders are of the current generation (so they will release it),
    /// or `Inherited` when a thread of an earlier generation holds it.
    fn wait_same_generation(&self, generation: &AtomicU32) -> Result<()> {
        let now = generation.load(Ordering::Relaxed);
        let start = Instant::now();
        loop {
            let (stamped, holders) = split(self.bits.load(Ordering::Acquire));
            if stamped == now {
                return Ok(());
            }
            // Stamped before the latest fork: inherited, unless a thread of this process took
            // the lock a moment ago and is about to stamp it.
            if holders > 0 || start.elapsed() > STAMP_GRACE {
                return Err(self.inherited());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Counts a new guard (the lock is held). Guards left by an earlier generation make the lock
    /// unusable even when it could be shared: their holders are gone and never release it.
    fn enter(&self, generation: &AtomicU32) -> Result<()> {
        let now = generation.load(Ordering::Relaxed);
        let mut cur = self.bits.load(Ordering::Relaxed);
        loop {
            let (stamped, holders) = split(cur);
            let next = if stamped == now {
                join(now, holders + 1)
            } else if holders == 0 {
                join(now, 1)
            } else {
                return Err(self.inherited());
            };
            match self
                .bits
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return Ok(()),
                Err(actual) => cur = actual,
            }
        }
    }

    /// Uncounts a guard. One taken before a fork and dropped after it (by the forking thread
    /// itself) no longer counts: the new generation's count is left alone.
    fn leave(&self, generation: &AtomicU32) {
        let now = generation.load(Ordering::Relaxed);
        let _ = self
            .bits
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |cur| {
                let (stamped, holders) = split(cur);
                (stamped == now && holders > 0).then(|| join(stamped, holders - 1))
            });
    }
}

/// A counted guard of a [`RwLock`] or [`Mutex`]: derefs to the value, uncounts itself when
/// dropped.
pub struct Guard<'a, G> {
    guard: G,
    stamp: &'a Stamp,
    generation: &'a AtomicU32,
}

impl<G: Deref> Deref for Guard<'_, G> {
    type Target = G::Target;
    fn deref(&self) -> &G::Target {
        &self.guard
    }
}

impl<G: DerefMut> DerefMut for Guard<'_, G> {
    fn deref_mut(&mut self) -> &mut G::Target {
        &mut self.guard
    }
}

impl<G> Drop for Guard<'_, G> {
    fn drop(&mut self) {
        // Uncounted before `guard` unlocks (fields drop after this).
        self.stamp.leave(self.generation);
    }
}

/// Shared access to a [`RwLock`].
pub type ReadGuard<'a, T> = Guard<'a, RwLockReadGuard<'a, T>>;
/// Exclusive access to a [`RwLock`].
pub type WriteGuard<'a, T> = Guard<'a, RwLockWriteGuard<'a, T>>;
/// Access to a [`Mutex`].
pub type MutexGuardOf<'a, T> = Guard<'a, MutexGuard<'a, T>>;

/// Which generation counter a lock reads: the process's, or (in tests) a simulated one.
fn process_generation() -> &'static AtomicU32 {
    &GENERATION
}

/// A `std::sync::RwLock` that reports [`Error::Inherited`] instead of hanging after `fork()`.
///
/// `read`/`write` recover a poisoned lock (the value is used as the panicking thread left it);
/// `read_or`/`write_or` report poisoning with the caller's error.
pub struct RwLock<T> {
    lock: std::sync::RwLock<T>,
    stamp: Stamp,
}

impl<T> RwLock<T> {
    /// A lock over `value`; `what` names the guarded thing in the error (e.g. "resolver's
    /// knowledge base").
    pub const fn new(value: T, what: &'static str) -> Self {
        RwLock {
            lock: std::sync::RwLock::new(value),
            stamp: Stamp::new(what),
        }
    }

    fn read_in<'a>(&'a self, generation: &'a AtomicU32) -> Result<(ReadGuard<'a, T>, bool)> {
        let (guard, poisoned) =
            self.stamp
                .acquire(generation, || self.lock.try_read(), || self.lock.read())?;
        Ok((
            Guard {
                guard,
                stamp: &self.stamp,
                generation,
            },
            poisoned,
        ))
    }

    fn write_in<'a>(&'a self, generation: &'a AtomicU32) -> Result<(WriteGuard<'a, T>, bool)> {
        let (guard, poisoned) =
            self.stamp
                .acquire(generation, || self.lock.try_write(), || self.lock.write())?;
        Ok((
            Guard {
                guard,
                stamp: &self.stamp,
                generation,
            },
            poisoned,
        ))
    }

    /// Shared access; a poisoned lock is recovered.
    pub fn read(&self) -> Result<ReadGuard<'_, T>> {
        self.read_in(process_generation()).map(|(g, _)| g)
    }

    /// Exclusive access; a poisoned lock is recovered.
    pub fn write(&self) -> Result<WriteGuard<'_, T>> {
        self.write_in(process_generation()).map(|(g, _)| g)
    }

    /// Shared access; a poisoned lock gives `poisoned()`.
    pub fn read_or<E: From<Error>>(
        &self,
        poisoned: impl FnOnce() -> E,
    ) -> std::result::Result<ReadGuard<'_, T>, E> {
        unpoisoned(self.read_in(process_generation())?, poisoned)
    }

    /// Exclusive access; a poisoned lock gives `poisoned()`.
    pub fn write_or<E: From<Error>>(
        &self,
        poisoned: impl FnOnce() -> E,
    ) -> std::result::Result<WriteGuard<'_, T>, E> {
        unpoisoned(self.write_in(process_generation())?, poisoned)
    }

    /// The value, without locking (`&mut self` proves no guard is out).
    pub fn get_mut(&mut self) -> &mut T {
        self.lock.get_mut().unwrap_or_else(PoisonError::into_inner)
    }

    /// The value, consuming the lock.
    pub fn into_inner(self) -> T {
        self.lock
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// A guard taken from a lock found poisoned becomes the caller's `poisoned()` error.
fn unpoisoned<G, E>(
    (guard, poisoned): (G, bool),
    error: impl FnOnce() -> E,
) -> std::result::Result<G, E> {
    if poisoned { Err(error()) } else { Ok(guard) }
}

/// A `std::sync::Mutex` that reports [`Error::Inherited`] instead of hanging after `fork()`;
/// poisoning as [`RwLock`].
pub struct Mutex<T> {
    lock: std::sync::Mutex<T>,
    stamp: Stamp,
}

impl<T> Mutex<T> {
    /// A lock over `value`; `what` names the guarded thing in the error.
    pub const fn new(value: T, what: &'static str) -> Self {
        Mutex {
            lock: std::sync::Mutex::new(value),
            stamp: Stamp::new(what),
        }
    }

    fn lock_in<'a>(&'a self, generation: &'a AtomicU32) -> Result<(MutexGuardOf<'a, T>, bool)> {
        let (guard, poisoned) =
            self.stamp
                .acquire(generation, || self.lock.try_lock(), || self.lock.lock())?;
        Ok((
            Guard {
                guard,
                stamp: &self.stamp,
                generation,
            },
            poisoned,
        ))
    }

    /// Exclusive access; a poisoned lock is recovered.
    pub fn lock(&self) -> Result<MutexGuardOf<'_, T>> {
        self.lock_in(process_generation()).map(|(g, _)| g)
    }

    /// Exclusive access; a poisoned lock gives `poisoned()`.
    pub fn lock_or<E: From<Error>>(
        &self,
        poisoned: impl FnOnce() -> E,
    ) -> std::result::Result<MutexGuardOf<'_, T>, E> {
        unpoisoned(self.lock_in(process_generation())?, poisoned)
    }

    /// The value, without locking.
    pub fn get_mut(&mut self) -> &mut T {
        self.lock.get_mut().unwrap_or_else(PoisonError::into_inner)
    }

    /// The value, consuming the lock.
    pub fn into_inner(self) -> T {
        self.lock
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RwLock")
            .field("what", &self.stamp.what)
            .finish_non_exhaustive()
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mutex")
            .field("what", &self.stamp.what)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    //! The child of a fork, simulated without forking: a thread holds a lock, the generation
    //! advances (what `after_fork` does in a child), and the lock's holder now counts as a
    //! thread of the parent. A local generation counter keeps other tests' locks untouched.
    use super::*;
    use std::sync::mpsc;

    fn held_then_forked<T: Send + Sync + 'static, G>(
        lock: &'static T,
        hold: impl Fn(&'static T, &'static AtomicU32) -> G + Send + 'static,
        take: impl Fn(&'static T, &'static AtomicU32) -> Result<()>,
    ) {
        let generation: &'static AtomicU32 = Box::leak(Box::new(AtomicU32::new(0)));
        let (held_tx, held_rx) = mpsc::channel();
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let holder = std::thread::spawn(move || {
            let guard = hold(lock, generation);
            held_tx.send(()).expect("main thread waits");
            // Held until the test ends: the "parent's thread", which the child never sees again.
            let _ = done_rx.recv();
            drop(guard);
        });
        held_rx.recv().expect("holder took the lock");
        generation.fetch_add(1, Ordering::Relaxed);
        let start = Instant::now();
        let err = take(lock, generation).expect_err("an inherited lock must not be granted");
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "took {:?}",
            start.elapsed()
        );
        assert_eq!(err.code(), "Inherited");
        assert!(err.to_string().contains("fork"), "{err}");
        done_tx.send(()).expect("holder waits");
        holder.join().expect("holder ends");
    }

    #[test]
    fn rwlock_held_by_parent_thread_errors_in_child() {
        static LOCK: RwLock<u32> = RwLock::new(7, "test value");
        // Read held, write wanted (blocks in std) and read wanted (would be granted by std).
        held_then_forked(
            &LOCK,
            |l, g| l.read_in(g).expect("free").0,
            |l, g| l.write_in(g).map(|_| ()),
        );
        static LOCK2: RwLock<u32> = RwLock::new(7, "test value");
        held_then_forked(
            &LOCK2,
            |l, g| l.read_in(g).expect("free").0,
            |l, g| l.read_in(g).map(|_| ()),
        );
        static LOCK3: RwLock<u32> = RwLock::new(7, "test value");
        held_then_forked(
            &LOCK3,
            |l, g| l.write_in(g).expect("free").0,
            |l, g| l.read_in(g).map(|_| ()),
        );
    }

    #[test]
    fn mutex_held_by_parent_thread_errors_in_child() {
        static LOCK: Mutex<Vec<u8>> = Mutex::new(Vec::new(), "test value");
        held_then_forked(
            &LOCK,
            |l, g| l.lock_in(g).expect("free").0,
            |l, g| l.lock_in(g).map(|_| ()),
        );
    }

    #[test]
    fn lock_idle_at_fork_works_in_child() {
        let generation = AtomicU32::new(0);
        let lock = RwLock::new(1u32, "test value");
        *lock.write_in(&generation).expect("free").0 += 1;
        generation.fetch_add(1, Ordering::Relaxed);
        *lock.write_in(&generation).expect("idle at fork").0 += 1;
        let (a, _) = lock.read_in(&generation).expect("shared");
        let (b, _) = lock.read_in(&generation).expect("shared twice");
        assert_eq!((*a, *b), (3, 3));
        drop((a, b));
        let m = Mutex::new(0u8, "test value");
        drop(m.lock_in(&generation).expect("free"));
        generation.fetch_add(1, Ordering::Relaxed);
        assert!(m.lock_in(&generation).is_ok());
    }

    #[test]
    fn same_generation_holders_are_waited_for() {
        let generation: &'static AtomicU32 = Box::leak(Box::new(AtomicU32::new(3)));
        static LOCK: Mutex<u32> = Mutex::new(0, "test value");
        let (held_tx, held_rx) = mpsc::channel();
        let holder = std::thread::spawn(move || {
            let (mut g, _) = LOCK.lock_in(generation).expect("free");
            held_tx.send(()).expect("main thread waits");
            std::thread::sleep(Duration::from_millis(300));
            *g = 1;
        });
        held_rx.recv().expect("holder took the lock");
        // Longer than the grace period: a live holder of this generation is waited for.
        let (g, _) = LOCK.lock_in(generation).expect("waits");
        assert_eq!(*g, 1);
        drop(g);
        holder.join().expect("holder ends");
    }

    #[test]
    fn poisoning_is_recovered_or_reported() {
        let lock = std::sync::Arc::new(RwLock::new(5u32, "test value"));
        let l2 = lock.clone();
        let _ = std::thread::spawn(move || {
            let _g = l2.write().expect("free");
            panic!("poison the lock");
        })
        .join();
        assert_eq!(*lock.read().expect("recovered"), 5);
        let err = lock
            .read_or(|| Error::InvalidInput("poisoned".into()))
            .err()
            .expect("reported");
        assert_eq!(err.code(), "InvalidInput");
    }
}
