//! Growth of the index's large arrays (the flat vector store, the level-0 links) into memory the
//! kernel is asked to back with transparent huge pages.
//!
//! Why: every HNSW hop reads one random vector and one random neighbour list. On 4 KiB pages
//! that is up to two TLB misses per hop (a page walk each, dearer still under a hypervisor);
//! a 50-150 MB index spans far more pages than the TLB holds. Most distributions ship THP in
//! `madvise` mode, so an allocation gets huge pages only when it asks (`MADV_HUGEPAGE`), and it
//! must ask before its pages are first touched. So growth here allocates the new buffer, advises
//! it, and only then copies the old contents in (the copy is the first touch), instead of letting
//! `realloc` move the old 4 KiB pages over (the price: old and new buffer coexist during the
//! copy, as in any non-`mremap` growth). A hint only: contents and results are unchanged, and
//! elsewhere than Linux (or with THP off) it is a plain `Vec` growth.

/// Buffers smaller than this are grown by `Vec` itself: they span few pages, and a huge page
/// needs a 2 MiB-aligned stretch of the buffer to exist at all.
const MIN_ADVISED_BYTES: usize = 4 << 20;

/// Makes room in `v` for at least `additional` more elements (amortised doubling, as
/// `Vec::reserve`); buffers of at least 4 MiB are advised for huge pages before first use.
pub(super) fn reserve<T>(v: &mut Vec<T>, additional: usize) {
    if v.capacity() - v.len() >= additional {
        return;
    }
    let size = std::mem::size_of::<T>().max(1);
    let cap = v
        .len()
        .saturating_add(additional)
        .max(v.capacity().saturating_mul(2));
    if cap.saturating_mul(size) < MIN_ADVISED_BYTES {
        v.reserve(additional);
        return;
    }
    let mut fresh: Vec<T> = Vec::with_capacity(cap);
    advise(fresh.as_mut_ptr().cast(), fresh.capacity() * size);
    fresh.append(v);
    *v = fresh;
}

/// An empty vector with room for `cap` elements, advised as [`reserve`] does (for the vector
/// store rebuilt by `compact` and `load`).
pub(super) fn with_capacity<T>(cap: usize) -> Vec<T> {
    let mut v = Vec::new();
    reserve(&mut v, cap);
    v
}

/// Asks for huge pages on the whole pages inside `[p, p + len)`.
#[cfg(target_os = "linux")]
fn advise(p: *mut u8, len: usize) {
    // SAFETY: sysconf only reads a system constant.
    let page = match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
        n if n > 0 => n as usize,
        _ => return,
    };
    let start = (p as usize).next_multiple_of(page);
    let end = (p as usize + len) / page * page;
    if end > start {
        // SAFETY: the range lies inside an allocation this process owns and has not touched;
        // MADV_HUGEPAGE changes only how its pages are backed, never their contents. A failure
        // (THP compiled out, an old kernel) leaves ordinary pages: nothing to handle.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise(_p: *mut u8, _len: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_keeps_contents_across_advised_reallocations() {
        // From small (plain Vec growth) past the advised size, in uneven steps: every element
        // written stays where it was, and capacity always covers the request.
        let mut v: Vec<u32> = Vec::new();
        let mut next = 0u32;
        for step in [1usize, 7, 1000, 300_000, 1, 2_000_000, 5] {
            reserve(&mut v, step);
            assert!(v.capacity() - v.len() >= step);
            for _ in 0..step {
                v.push(next.wrapping_mul(2_654_435_761));
                next += 1;
            }
        }
        assert_eq!(v.len(), next as usize);
        assert!(v.capacity() * 4 >= MIN_ADVISED_BYTES);
        assert!(
            v.iter()
                .enumerate()
                .all(|(i, &x)| x == (i as u32).wrapping_mul(2_654_435_761))
        );
        // Non-Copy elements move over intact too.
        let mut w: Vec<std::sync::atomic::AtomicU32> = Vec::new();
        w.resize_with(10, || std::sync::atomic::AtomicU32::new(3));
        reserve(&mut w, MIN_ADVISED_BYTES);
        w.resize_with(w.len() + MIN_ADVISED_BYTES, Default::default);
        assert!(
            w[..10]
                .iter()
                .all(|a| a.load(std::sync::atomic::Ordering::Relaxed) == 3)
        );
        assert!(
            w[10..]
                .iter()
                .all(|a| a.load(std::sync::atomic::Ordering::Relaxed) == 0)
        );
        let z: Vec<f32> = with_capacity(2 << 20);
        assert!(z.is_empty() && z.capacity() >= 2 << 20);
    }
}
