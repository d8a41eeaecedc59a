//! The one place faultlens decides whether a batch runs on all cores (rayon) or on the caller's
//! thread. Hosts that fork (Python `multiprocessing`, gunicorn) call [`set_parallelism`]`(false)`
//! in the child: a forked child has no rayon worker threads, and using the pool there would hang.

use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

static PARALLEL: AtomicBool = AtomicBool::new(true);

/// Batches smaller than this run on the calling thread: splitting them costs more than it saves.
pub const MIN_PARALLEL_BATCH: usize = 256;

/// Turns multi-core batch work on (default) or off for the whole process.
pub fn set_parallelism(enabled: bool) {
    PARALLEL.store(enabled, Ordering::Relaxed);
}

/// Whether batch work may use all cores.
pub fn parallelism() -> bool {
    PARALLEL.load(Ordering::Relaxed)
}

/// Maps `f` over `items`, in order, on all cores when the batch is large and parallelism is on.
pub(crate) fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync + Send) -> Vec<R> {
    if items.len() >= MIN_PARALLEL_BATCH && parallelism() {
        items.par_iter().with_min_len(64).map(f).collect()
    } else {
        items.iter().map(f).collect()
    }
}

/// Maps `f` over `items`, in order, on all cores when parallelism is on, however few the items:
/// for items that each cost milliseconds or more (compiling a set of rules).
pub(crate) fn map_costly<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> R + Sync + Send,
) -> Vec<R> {
    if items.len() > 1 && parallelism() {
        items.par_iter().with_max_len(1).map(f).collect()
    } else {
        items.iter().map(f).collect()
    }
}
