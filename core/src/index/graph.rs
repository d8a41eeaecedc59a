//! A compact HNSW graph (Malkov & Yashunin, 2016), laid out the way hnswlib lays it out.
//!
//! Why our own: hnsw_rs 0.3.5 searched 5-9x slower than hnswlib and built ~6x slower on the same
//! vectors (docs/benchmarks.md); the cost was its bookkeeping (a SipHash `HashMap` of visited
//! points, an `Arc` per candidate, a lock per neighbour list), not the distances. Here:
//! - nodes are `u32` rows of the index's flat vector store (the graph holds no vectors);
//! - level-0 neighbour lists are one contiguous array, `1 + 2m` slots per node (count, links);
//!   upper levels (few nodes) have their own small arrays, `1 + m` slots per level;
//! - links are `AtomicU32` written under a striped lock of their node and read without any lock
//!   (relaxed loads compile to plain loads), so a search never waits for an insertion;
//! - a per-thread epoch array marks visited nodes, binary heaps hold `(key, node)` pairs;
//! - neighbours are chosen by the paper's heuristic (algorithm 4, without extending candidates).
//!
//! A node's level is a pure function of its row number, so inserting the same rows in the same
//! order (one thread) gives the same graph every time.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use super::{Metric, Scored, huge, kernels};

const EMPTY: u64 = u64::MAX;
/// Cache lines of a vector prefetched ahead of its distance (hnswlib prefetches the first; the
/// hardware prefetcher follows on longer rows): a whole 128-d row.
const PREFETCH_LINES: usize = 8;

/// Asks the CPU to start loading `lines` cache lines at `p` (a hint: no effect on results).
#[inline(always)]
pub(super) fn prefetch(p: *const i8, lines: usize) {
    #[cfg(target_arch = "x86_64")]
    for l in 0..lines {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: prefetch never faults, whatever the address; SSE is baseline on x86-64.
        #[allow(unused_unsafe)]
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(64 * l))
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (p, lines);
}
const LOCK_STRIPES: usize = 1024;
const MAX_LEVEL: usize = 16;

/// Distance key of the graph: lower is closer (negated inner product for cosine and dot).
#[inline]
pub(super) fn key(metric: Metric, a: &[f32], b: &[f32]) -> f32 {
    match metric {
        Metric::Cosine | Metric::Dot => -kernels::dot(a, b),
        Metric::L2 => kernels::l2_squared(a, b),
    }
}

/// Per-thread search state, reused by every search on the thread (no allocation per query):
/// visited marks (`marks[n] == epoch` means visited in the current search; u16 as in hnswlib,
/// half the cache footprint of u32, cleared once every 65,535 searches) and the two heaps.
struct Visited {
    marks: Vec<u16>,
    epoch: u16,
    top: BinaryHeap<Scored>,
    cand: BinaryHeap<Reverse<Scored>>,
}

impl Visited {
    fn start(&mut self, n: usize) {
        if self.marks.len() < n {
            self.marks.resize(n, 0);
        }
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.marks.iter_mut().for_each(|m| *m = 0);
            self.epoch = 1;
        }
        self.top.clear();
        self.cand.clear();
    }

    /// Marks `n`; true when it was not marked yet.
    #[inline]
    fn insert(&mut self, n: u32) -> bool {
        let m = &mut self.marks[n as usize];
        let fresh = *m != self.epoch;
        *m = self.epoch;
        fresh
    }
}

thread_local! {
    static VISITED: RefCell<Visited> = const {
        RefCell::new(Visited {
            marks: Vec::new(),
            epoch: 0,
            top: BinaryHeap::new(),
            cand: BinaryHeap::new(),
        })
    };
}

/// HNSW links over rows `0..capacity` of a flat vector store of width `dim`.
pub(super) struct Graph {
    dim: usize,
    metric: Metric,
    m: usize,
    m0: usize,
    ef_construction: usize,
    ml: f64,
    /// Cache lines per vector to prefetch.
    lines: usize,
    /// `(1 + m0)` slots per node: count, then links.
    links0: Vec<AtomicU32>,
    /// Levels 1..=level of each node, `(1 + m)` slots per level.
    upper: Vec<Box<[AtomicU32]>>,
    levels: Vec<u8>,
    /// `level << 32 | node` of the entry point, or `EMPTY`.
    entry: AtomicU64,
    entry_lock: Mutex<()>,
    locks: Box<[Mutex<()>]>,
}

impl Graph {
    pub(super) fn new(dim: usize, metric: Metric, m: usize, ef_construction: usize) -> Self {
        Self {
            dim,
            metric,
            m,
            m0: 2 * m,
            ef_construction,
            ml: 1.0 / (m as f64).ln(),
            lines: (dim * 4).div_ceil(64).min(PREFETCH_LINES),
            links0: Vec::new(),
            upper: Vec::new(),
            levels: Vec::new(),
            entry: AtomicU64::new(EMPTY),
            entry_lock: Mutex::new(()),
            locks: (0..LOCK_STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }

    /// Rows the graph has room for (inserted or not).
    pub(super) fn capacity(&self) -> usize {
        self.levels.len()
    }

    /// Makes room for rows up to `n` (needs `&mut`: the caller holds the graph's write lock for
    /// this short step only). Levels are drawn here, from the row number alone.
    pub(super) fn reserve(&mut self, n: usize) {
        let old = self.capacity();
        if n <= old {
            return;
        }
        // Advised for huge pages before the zeroing below first touches it (index/huge.rs).
        huge::reserve(&mut self.links0, (n - old) * (1 + self.m0));
        self.links0
            .resize_with(n * (1 + self.m0), || AtomicU32::new(0));
        for row in old..n {
            let level = self.draw_level(row);
            self.levels.push(level as u8);
            self.upper.push(
                (0..level * (1 + self.m))
                    .map(|_| AtomicU32::new(0))
                    .collect(),
            );
        }
    }

    fn draw_level(&self, row: usize) -> usize {
        // splitmix64 of the row: a uniform in (0, 1], then the paper's -ln(u) * mL.
        let mut z = (row as u64).wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        let u = ((z >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
        ((-u.ln() * self.ml) as usize).min(MAX_LEVEL)
    }

    #[inline]
    fn row<'v>(&self, vectors: &'v [f32], n: u32) -> &'v [f32] {
        &vectors[n as usize * self.dim..(n as usize + 1) * self.dim]
    }

    #[inline]
    fn slots(&self, n: u32, level: usize) -> &[AtomicU32] {
        if level == 0 {
            let w = 1 + self.m0;
            &self.links0[n as usize * w..(n as usize + 1) * w]
        } else {
            let w = 1 + self.m;
            &self.upper[n as usize][(level - 1) * w..level * w]
        }
    }

    /// Calls `f` on each neighbour of `n` at `level` (a consistent-enough snapshot: every id read
    /// is a valid row even while another thread rewrites the list).
    #[inline]
    fn for_neighbours(&self, n: u32, level: usize, mut f: impl FnMut(u32)) {
        let s = self.slots(n, level);
        let count = (s[0].load(Ordering::Acquire) as usize).min(s.len() - 1);
        for slot in &s[1..=count] {
            f(slot.load(Ordering::Relaxed));
        }
    }

    fn neighbours(&self, n: u32, level: usize) -> Vec<u32> {
        let mut out = Vec::with_capacity(self.m0);
        self.for_neighbours(n, level, |x| out.push(x));
        out
    }

    fn lock(&self, n: u32) -> std::sync::MutexGuard<'_, ()> {
        // A poisoned stripe only means another insertion panicked; the links stay valid ids.
        self.locks[n as usize % LOCK_STRIPES]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    fn write_links(&self, n: u32, level: usize, links: &[u32]) {
        let s = self.slots(n, level);
        for (slot, &x) in s[1..].iter().zip(links) {
            slot.store(x, Ordering::Relaxed);
        }
        s[0].store(links.len() as u32, Ordering::Release);
    }

    /// Greedy walk at one upper level: the closest node reachable from `cur`.
    fn greedy(&self, vectors: &[f32], q: &[f32], mut cur: Scored, level: usize) -> Scored {
        loop {
            let mut moved = false;
            self.for_neighbours(cur.node, level, |n| {
                let k = key(self.metric, q, self.row(vectors, n));
                if k < cur.key {
                    cur = Scored { key: k, node: n };
                    moved = true;
                }
            });
            if !moved {
                return cur;
            }
        }
    }

    /// The beam search of one level (the paper's algorithm 2): up to `ef` closest nodes that
    /// `allow` lets through, left in `visited.top` (a max-heap on key). Disallowed nodes are
    /// still walked through.
    #[allow(clippy::too_many_arguments)] // the hot loop: plain arguments, no context struct
    fn search_level(
        &self,
        vectors: &[f32],
        q: &[f32],
        start: Scored,
        level: usize,
        ef: usize,
        allow: Option<&[bool]>,
        visited: &mut Visited,
    ) {
        let allowed = |n: u32| allow.is_none_or(|a| a.get(n as usize).copied().unwrap_or(false));
        visited.start(self.capacity());
        let mut top = std::mem::take(&mut visited.top);
        let mut cand = std::mem::take(&mut visited.cand);
        visited.insert(start.node);
        cand.push(Reverse(start));
        let mut bound = f32::INFINITY;
        if allowed(start.node) {
            top.push(start);
            bound = start.key;
        }
        // Unvisited neighbours of the current candidate: gathered first so the vector of the
        // next one can be prefetched while the distance to this one is computed.
        let mut fresh = [0u32; 2 * super::MAX_M];
        while let Some(Reverse(c)) = cand.pop() {
            // Without a filter the beam is full as soon as anything is past `bound`; with one,
            // keep walking until `ef` allowed nodes are found.
            if c.key > bound && (top.len() >= ef || allow.is_none()) {
                break;
            }
            if let Some(Reverse(next)) = cand.peek() {
                prefetch(self.slots(next.node, level).as_ptr().cast(), 2);
            }
            let mut nf = 0;
            self.for_neighbours(c.node, level, |n| {
                if visited.insert(n) {
                    fresh[nf] = n;
                    nf += 1;
                }
            });
            if nf > 0 {
                prefetch(self.row(vectors, fresh[0]).as_ptr().cast(), self.lines);
            }
            for i in 0..nf {
                let n = fresh[i];
                if i + 1 < nf {
                    prefetch(self.row(vectors, fresh[i + 1]).as_ptr().cast(), self.lines);
                }
                let k = key(self.metric, q, self.row(vectors, n));
                if top.len() < ef || k < bound {
                    cand.push(Reverse(Scored { key: k, node: n }));
                    if allowed(n) {
                        top.push(Scored { key: k, node: n });
                        if top.len() > ef {
                            top.pop();
                        }
                        if let Some(t) = top.peek() {
                            bound = t.key;
                        }
                    }
                }
            }
        }
        visited.top = top;
        visited.cand = cand;
    }

    /// The `k` closest allowed nodes to `q`, best first (`ef` is the beam width, at least `k`).
    pub(super) fn search(
        &self,
        vectors: &[f32],
        q: &[f32],
        k: usize,
        ef: usize,
        allow: Option<&[bool]>,
    ) -> Vec<Scored> {
        let e = self.entry.load(Ordering::Acquire);
        if e == EMPTY || k == 0 {
            return Vec::new();
        }
        let (top_level, node) = ((e >> 32) as usize, e as u32);
        let mut cur = Scored {
            key: key(self.metric, q, self.row(vectors, node)),
            node,
        };
        for level in (1..=top_level).rev() {
            cur = self.greedy(vectors, q, cur, level);
        }
        VISITED.with(|v| {
            let mut v = v.borrow_mut();
            self.search_level(vectors, q, cur, 0, ef.max(k), allow, &mut v);
            // The k best of the beam: drop the worst first (pops from the max-heap's top).
            while v.top.len() > k {
                v.top.pop();
            }
            let mut out: Vec<Scored> = v.top.drain().collect();
            out.sort_unstable();
            out
        })
    }

    /// The paper's neighbour-selection heuristic: walk candidates closest first and keep one
    /// only if it is closer to the base than to every neighbour kept so far.
    fn select(&self, vectors: &[f32], mut cands: Vec<Scored>, max: usize) -> Vec<u32> {
        cands.sort_unstable();
        if cands.len() <= max {
            return cands.into_iter().map(|c| c.node).collect();
        }
        let mut kept: Vec<Scored> = Vec::with_capacity(max);
        for c in cands {
            if kept.len() >= max {
                break;
            }
            let v = self.row(vectors, c.node);
            if kept
                .iter()
                .all(|r| key(self.metric, v, self.row(vectors, r.node)) >= c.key)
            {
                kept.push(c);
            }
        }
        kept.into_iter().map(|c| c.node).collect()
    }

    /// Adds `n` to `s`'s list at `level`, pruning it with the heuristic when it is full.
    fn link_back(&self, vectors: &[f32], s: u32, n: u32, level: usize) {
        let max = if level == 0 { self.m0 } else { self.m };
        let _g = self.lock(s);
        let slots = self.slots(s, level);
        let count = slots[0].load(Ordering::Relaxed) as usize;
        let current = self.neighbours(s, level);
        if current.contains(&n) {
            return;
        }
        if count < max {
            slots[1 + count].store(n, Ordering::Relaxed);
            slots[0].store(count as u32 + 1, Ordering::Release);
            return;
        }
        let base = self.row(vectors, s);
        let cands = current
            .into_iter()
            .chain(std::iter::once(n))
            .map(|x| Scored {
                key: key(self.metric, base, self.row(vectors, x)),
                node: x,
            })
            .collect();
        let sel = self.select(vectors, cands, max);
        self.write_links(s, level, &sel);
    }

    /// Sets `n`'s own list at `level` to `chosen`, merged with links other insertions may have
    /// added to it meanwhile (never two locks at once, so stripes cannot deadlock).
    fn set_links(&self, vectors: &[f32], n: u32, level: usize, chosen: &[u32]) {
        let max = if level == 0 { self.m0 } else { self.m };
        let _g = self.lock(n);
        let mut all = chosen.to_vec();
        for x in self.neighbours(n, level) {
            if !all.contains(&x) {
                all.push(x);
            }
        }
        if all.len() > max {
            let base = self.row(vectors, n);
            let cands = all
                .iter()
                .map(|&x| Scored {
                    key: key(self.metric, base, self.row(vectors, x)),
                    node: x,
                })
                .collect();
            all = self.select(vectors, cands, max);
        }
        self.write_links(n, level, &all);
    }

    /// Inserts row `n` (the paper's algorithm 1). Rows must be reserved; any thread may call it.
    fn insert(&self, vectors: &[f32], n: u32) {
        let level = self.levels[n as usize] as usize;
        let q = self.row(vectors, n);
        let mut e = self.entry.load(Ordering::Acquire);
        // A node that raises the top level holds the entry lock for its whole insertion (as
        // hnswlib does), so two such nodes cannot both become the entry.
        let _top = if e == EMPTY || level > (e >> 32) as usize {
            let g = self.entry_lock.lock().unwrap_or_else(|e| e.into_inner());
            e = self.entry.load(Ordering::Acquire);
            Some(g)
        } else {
            None
        };
        if e == EMPTY {
            self.entry
                .store((level as u64) << 32 | n as u64, Ordering::Release);
            return;
        }
        let (top_level, ep) = ((e >> 32) as usize, e as u32);
        let mut cur = Scored {
            key: key(self.metric, q, self.row(vectors, ep)),
            node: ep,
        };
        for l in (level + 1..=top_level).rev() {
            cur = self.greedy(vectors, q, cur, l);
        }
        VISITED.with(|v| {
            let mut v = v.borrow_mut();
            for l in (0..=level.min(top_level)).rev() {
                self.search_level(vectors, q, cur, l, self.ef_construction, None, &mut v);
                let cands: Vec<Scored> = v.top.drain().filter(|c| c.node != n).collect();
                if let Some(best) = cands.iter().min() {
                    cur = *best;
                }
                let chosen = self.select(vectors, cands, self.m);
                self.set_links(vectors, n, l, &chosen);
                for &s in &chosen {
                    self.link_back(vectors, s, n, l);
                }
            }
        });
        if level > top_level {
            self.entry
                .store((level as u64) << 32 | n as u64, Ordering::Release);
        }
    }

    /// Inserts rows `range` (reserved beforehand), on all cores when `parallel`.
    pub(super) fn insert_range(&self, vectors: &[f32], range: Range<usize>, parallel: bool) {
        if parallel && range.len() > 1 {
            use rayon::prelude::*;
            range
                .into_par_iter()
                .with_min_len(16)
                .for_each(|n| self.insert(vectors, n as u32));
        } else {
            range.for_each(|n| self.insert(vectors, n as u32));
        }
    }

    /// Every node's level and links, for tests of determinism.
    #[cfg(test)]
    pub(super) fn dump(&self) -> (u64, Vec<Vec<Vec<u32>>>) {
        let nodes = (0..self.capacity() as u32)
            .map(|n| {
                (0..=self.levels[n as usize] as usize)
                    .map(|l| self.neighbours(n, l))
                    .collect()
            })
            .collect();
        (self.entry.load(Ordering::Acquire), nodes)
    }
}
