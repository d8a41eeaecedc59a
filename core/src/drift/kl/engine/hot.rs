//! The steady-state loop: a full window (and the short one, when on) slid over a batch in
//! chunks, both windows' dependent chains interleaved in one loop.

use super::super::config::Thresholds;
use super::super::report::Episodes;
use super::scale::{Lane, RESYNC, SMALL_BINS, Saved, larger};

/// A chunk's results the checks need: (sum of the main window's KLs, appended to the sum so far;
/// the main window's largest KL in the chunk; the short window's, `-inf` when it is off).
pub(super) type Acc = (f64, f64, f64);

/// The hot loop's view of the short window: it may be off ([`NoWindow`]).
pub(super) trait Window {
    const ON: bool;
    /// Slides the main window `long` and this one over the first `len` scores of a chunk: the
    /// k-th arrives in bin `buf.bins[k]` while one of bin `buf.old[k]` leaves the main window
    /// and one of bin `buf.leave[k]` this one; `buf.kls[k]` / `buf.short_kls[k]` get their KLs
    /// after it (without `STORE`, they are not written: only the sums and maxima come back).
    /// The running sums are recomputed exactly once [`RESYNC`] slides have been made, so a
    /// chunk must not be longer than either window's [`until_resync`](Self::until_resync).
    fn slide_with<const N: usize, const P: usize, const STORE: bool>(
        &mut self,
        long: &mut Lane,
        buf: &mut ChunkBuf<N, P>,
        len: usize,
        sum: f64,
    ) -> Acc;
    /// Slides left before the running sums are recomputed (at least 1).
    fn until_resync(&self) -> usize;
    /// What a slide changes in this window, when it is cheap to keep ([`Lane::save`]).
    fn save(&self) -> Option<Saved>;
    fn restore(&mut self, s: &Saved);
}

impl Window for Lane<'_> {
    const ON: bool = true;

    /// Both windows in one out-of-line loop, without a call, their running sums in locals.
    /// Each window's slide is a chain of dependent steps (a count read right after the previous
    /// score's store to it, and the running sum's additions), so one window alone leaves the
    /// CPU waiting; the two windows' chains are independent, so interleaved they overlap. The
    /// counts stay in memory: consecutive scores mostly hit the same few bins, so each update
    /// reads the previous one's store, but store-to-load forwarding makes that cheaper than
    /// keeping them packed in registers (tried: 128-bit fields cost more instructions than
    /// they saved). Each window's arithmetic is the same as alone, in the same order. The chunk
    /// comes as one block (one base register for its five arrays, so nothing spills).
    #[inline(never)]
    fn slide_with<const N: usize, const P: usize, const STORE: bool>(
        &mut self,
        long: &mut Lane,
        buf: &mut ChunkBuf<N, P>,
        len: usize,
        mut sum: f64,
    ) -> Acc {
        let n = len.min(N);
        // A window due for its exact recompute is due at the chunk's last slide (chunks end
        // there): that slide goes after the loop, for both windows.
        let (due_long, due_short) = (long.due(n), self.due(n));
        let body = n.saturating_sub(usize::from(due_long | due_short));
        let (mut lr, mut sr) = (*long.r, *self.r);
        // Without `STORE`, the short window's largest running sum, not KL: KL = r − off, and
        // subtracting a constant is monotone, so the largest KL is the largest sum minus `off`,
        // bit for bit (and the short window's KLs are not computed).
        let (mut lmax, mut smax) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
        let b = &mut *buf;
        macro_rules! score {
            ($k:expr, $long:expr, $short:expr) => {{
                let k = $k;
                let inn = b.bins[k];
                let kl = $long(&mut b.pos, inn, b.old[k], &mut lr);
                let short_kl = $short(&mut b.pos, inn, b.leave[k], &mut sr);
                if STORE {
                    b.kls[k] = kl;
                    b.short_kls[k] = short_kl;
                    smax = larger(short_kl, smax);
                } else {
                    smax = larger(sr, smax);
                }
                lmax = larger(kl, lmax);
                sum += kl;
            }};
        }
        if let (Some(lj), Some(sj)) = (long.joint(), self.joint()) {
            // The positions go through the chunk's block (no base register of their own): the
            // main window's first, then the short one's.
            b.pos[..SMALL_BINS].copy_from_slice(&long.p);
            b.pos[SMALL_BINS..2 * SMALL_BINS].copy_from_slice(&self.p);
            let one =
                |p: &mut [usize; P], inn, out, r: &mut f64| lj.step::<true, P, 0>(p, inn, out, r);
            let two = |p: &mut [usize; P], inn, out, r: &mut f64| {
                sj.step::<false, P, SMALL_BINS>(p, inn, out, r)
            };
            // Two scores per iteration: half the loop control (one index, below `body`, which
            // is at most `N`: no bounds check).
            let mut k = 0;
            while k + 1 < body {
                score!(k, one, two);
                score!(k + 1, one, two);
                k += 2;
            }
            if k < body {
                score!(k, one, two);
            }
            long.p.copy_from_slice(&b.pos[..SMALL_BINS]);
            self.p.copy_from_slice(&b.pos[SMALL_BINS..2 * SMALL_BINS]);
        } else {
            let (lt, st) = (long.tables(), self.tables());
            let (lc, sc) = (&mut *long.counts, &mut *self.counts);
            let mut one = |_: &mut [usize; P], inn, out, r: &mut f64| lt.step(lc, inn, out, r);
            let mut two = |_: &mut [usize; P], inn, out, r: &mut f64| st.step(sc, inn, out, r);
            for k in 0..body {
                score!(k, one, two);
            }
        }
        let (ins, outs, leave) = (&b.bins[..], &b.old[..], &b.leave[..]);
        if let Some(kl) = long.finish(lr, ins, outs, body, n, due_long) {
            if STORE {
                b.kls[body] = kl;
            }
            (sum, lmax) = (sum + kl, larger(kl, lmax));
        }
        if let Some(kl) = self.finish(sr, ins, leave, body, n, due_short) {
            if STORE {
                b.short_kls[body] = kl;
            }
            smax = larger(if STORE { kl } else { *self.r }, smax);
        }
        (sum, lmax, if STORE { smax } else { smax - self.off })
    }

    #[inline(always)]
    fn until_resync(&self) -> usize {
        RESYNC.saturating_sub(*self.stale).max(1) as usize
    }

    #[inline(always)]
    fn save(&self) -> Option<Saved> {
        Lane::save(self)
    }

    #[inline(always)]
    fn restore(&mut self, s: &Saved) {
        Lane::restore(self, s)
    }
}

/// The short window when it is off: only the main window slides (its thresholds are
/// [`NEVER`](super::super::config::NEVER); its KLs stay 0).
pub(super) struct NoWindow;

impl Window for NoWindow {
    const ON: bool = false;
    /// Always stores the KLs (`Hot::run` re-slides only with both windows on).
    fn slide_with<const N: usize, const P: usize, const STORE: bool>(
        &mut self,
        long: &mut Lane,
        buf: &mut ChunkBuf<N, P>,
        len: usize,
        sum: f64,
    ) -> Acc {
        let n = len.min(N);
        let (ins, outs, kls) = (&buf.bins[..n], &buf.old[..n], &mut buf.kls[..n]);
        let (sum, max) = long.slide::<true>(ins, outs, kls, (sum, f64::NEG_INFINITY));
        (sum, max, f64::NEG_INFINITY)
    }
    fn until_resync(&self) -> usize {
        usize::MAX
    }
    fn save(&self) -> Option<Saved> {
        None
    }
    fn restore(&mut self, _: &Saved) {}
}

/// Scores per chunk of the steady-state loop: their bins are computed first for the whole chunk
/// (a loop without dependences, which the compiler vectorises), then the ring is updated, and
/// only then the serial part runs, reading bins from L1.
pub(super) const CHUNK: usize = 256;

/// A chunk's working arrays in one block, with (joint tables) both windows' count positions
/// (see [`slot`](super::scale::slot)). In this order (`repr(C)`) with `N` = `CHUNK`, no two bin arrays sit a
/// multiple of 4 KiB apart, and the positions in use (the first 256 bytes of `pos`) share no
/// address modulo 4 KiB with them: a load would otherwise wait on unrelated stores (4K
/// aliasing: it made the ring copy the slowest pass before).
#[repr(C)]
pub(super) struct ChunkBuf<const N: usize, const P: usize> {
    bins: [u32; N],
    old: [u32; N],
    leave: [u32; N],
    pos: [usize; P],
    flags: [bool; N],
    kls: [f64; N],
    short_kls: [f64; N],
}

impl<const N: usize, const P: usize> ChunkBuf<N, P> {
    fn new() -> Self {
        Self {
            bins: [0; N],
            old: [0; N],
            leave: [0; N],
            kls: [0.0; N],
            short_kls: [0.0; N],
            pos: [0; P],
            flags: [false; N],
        }
    }
}

/// The steady-state (full window) loop's state: the detector's fields it touches, borrowed, and
/// the batch's accumulators.
pub(super) struct Hot<'a> {
    pub(super) lo: f64,
    pub(super) hi: f64,
    pub(super) bins: usize,
    pub(super) ring: &'a mut [f64],
    pub(super) ring_bins: &'a mut [u32],
    pub(super) head: &'a mut usize,
    pub(super) short_w: usize,
    pub(super) t: Thresholds,
    pub(super) st: Thresholds,
    pub(super) episodes: &'a mut Episodes,
    pub(super) max_events: usize,
    pub(super) ts: f64,
    pub(super) starts: &'a mut Vec<usize>,
    /// Index in the batch of `rest[0]`.
    pub(super) first: usize,
    pub(super) n_drift: usize,
    pub(super) hsum: f64,
    pub(super) max: f64,
}

impl Hot<'_> {
    /// Adds `rest` to full windows, checking both after every score; with `PER_SCORE`,
    /// `each(kls, flags)` sees the checks, a chunk at a time (without it, `each` is not called).
    #[inline(always)]
    pub(super) fn run<const N: usize, const P: usize, const PER_SCORE: bool, S: Window>(
        &mut self,
        mut long: Lane,
        mut short: S,
        rest: &[f64],
        each: &mut impl FnMut(&[f64], &[bool]),
    ) {
        let w = self.ring.len();
        let (lo, span) = (self.lo, self.hi - self.lo);
        let (bins_f, last_f) = (self.bins as f64, (self.bins - 1) as f64);
        // Dividing by a power of two gives the same bits as multiplying by its reciprocal
        // when that is a normal number (both are the exact quotient, rounded once).
        let inv_span = Some(1.0 / span).filter(|inv| {
            span.is_normal() && inv.is_normal() && span.to_bits() & ((1 << 52) - 1) == 0
        });
        let (t, st) = (self.t, self.st);
        let mut h = *self.head;
        let mut sh = (h + w - self.short_w) % w;
        let (mut n_drift, mut hsum, mut max) = (0, self.hsum, self.max);
        let mut buf = ChunkBuf::<N, P>::new();
        let mut done = 0;
        while done < rest.len() {
            // Within the ring's end, so the chunk's slots are one slice.
            let len = N
                .min(rest.len() - done)
                .min(w - h)
                .min(long.until_resync())
                .min(short.until_resync());
            let xs = &rest[done..done + len];
            // 1. Bins: `KlDriftConfig::bin_of` without branches (scores below the range give a
            // negative position, clamped to bin 0; above it, a position >= bins, clamped to the
            // last bin; NaN was rejected), the same bin for every score.
            // The default range (0, 1) multiplies instead of dividing (see `inv_span`); there
            // even the subtraction and the product by 1 can go (x - 0 is x, bin for bin: only
            // a -0 can become +0, and both fall in bin 0).
            let bins_out = &mut buf.bins[..len];
            if lo == 0.0 && inv_span == Some(1.0) {
                bins_of(bins_out, xs, |x| clamp_bin(x * bins_f, last_f));
            } else if let Some(inv) = inv_span {
                bins_of(bins_out, xs, |x| clamp_bin((x - lo) * inv * bins_f, last_f));
            } else {
                bins_of(bins_out, xs, |x| {
                    clamp_bin((x - lo) / span * bins_f, last_f)
                });
            }
            // 2. The ring, as copies. The k-th score evicts the one in slot h + k, written before
            // this chunk. The short window's k-th leaving score came `short_w` scores earlier:
            // for k >= short_w one of this chunk's, otherwise the ring's slot sh + k (mod w), read
            // before this chunk writes (a slot it overwrites later is read first serially too).
            let rb = &mut *self.ring_bins;
            if S::ON {
                let m = len.min(self.short_w);
                let first = m.min(w - sh);
                buf.leave[..first].copy_from_slice(&rb[sh..sh + first]);
                buf.leave[first..m].copy_from_slice(&rb[..m - first]);
                let (bins, leave) = (&buf.bins, &mut buf.leave);
                leave[m..len].copy_from_slice(&bins[..len - m]);
                sh = (sh + len) % w;
            }
            buf.old[..len].copy_from_slice(&rb[h..h + len]);
            rb[h..h + len].copy_from_slice(&buf.bins[..len]);
            // 3. The running sums and the KLs, score by score, both windows in one loop. A
            // chunk ends where a window's sums are due for their exact recompute.
            // Without a per-score consumer, a chunk that starts outside a drift episode first
            // slides without storing its KLs (the usual case: no flag, nothing else needs
            // them); only if a window then went above its drift threshold is it slid again,
            // from the saved state, storing them: the same arithmetic, so the same bits.
            let mut stored = true;
            let mut acc = None;
            if !PER_SCORE
                && !self.episodes.in_drift
                && let (Some(ls), Some(ss)) = (long.save(), short.save())
            {
                let quick = short.slide_with::<N, P, false>(&mut long, &mut buf, len, hsum);
                if (quick.1 > t.drift) | (quick.2 > st.drift) {
                    long.restore(&ls);
                    short.restore(&ss);
                } else {
                    (stored, acc) = (false, Some(quick));
                }
            }
            let (s, long_max, short_max) = match acc {
                Some(quick) => quick,
                None => short.slide_with::<N, P, true>(&mut long, &mut buf, len, hsum),
            };
            hsum = s;
            max = larger(long_max, max);
            if !stored {
                h += len;
                if h == w {
                    h = 0;
                }
                done += len;
                continue;
            }
            // 4. The checks, one after every score, in order. A chunk whose largest KLs are
            // both at or below their drift thresholds has no flag set (the usual case): no
            // pass over it. Otherwise the flags and their count without a call (so nothing is
            // spilled around one); then the episode bookkeeping only if a window is in drift
            // or an episode is open.
            let (kls, short_kls) = (&buf.kls[..len], &buf.short_kls[..len]);
            let flags = &mut buf.flags[..len];
            let hot = (long_max > t.drift) | (short_max > st.drift);
            if hot {
                let mut flagged = 0;
                for ((f, &kl), &short_kl) in flags.iter_mut().zip(kls).zip(short_kls) {
                    *f = (kl > t.drift) | (short_kl > st.drift);
                    flagged += usize::from(*f);
                }
                n_drift += flagged;
            } else {
                flags.fill(false);
            }
            if hot || self.episodes.in_drift {
                let base = self.first + done;
                for (k, ((&kl, &short_kl), &f)) in
                    kls.iter().zip(short_kls).zip(flags.iter()).enumerate()
                {
                    if (f || self.episodes.in_drift)
                        && (self.episodes).record(self.max_events, self.ts, kl, short_kl, &t, &st)
                    {
                        self.starts.push(base + k);
                    }
                }
            }
            if PER_SCORE {
                each(kls, flags);
            }
            h += len;
            if h == w {
                h = 0;
            }
            done += len;
        }
        // The scores themselves: nothing above reads them (the bins do the sliding), so only the
        // last `w` are written, to the slots they would have reached one by one.
        let keep = rest.len().min(w);
        let start = (*self.head + (rest.len() - keep)) % w;
        let first = keep.min(w - start);
        let tail = &rest[rest.len() - keep..];
        self.ring[start..start + first].copy_from_slice(&tail[..first]);
        self.ring[..keep - first].copy_from_slice(&tail[first..]);
        *self.head = h;
        (self.n_drift, self.hsum, self.max) = (n_drift, hsum, max);
    }
}

/// `bin(x)` for each score, four per step (the compiler makes it two pairs of SSE2 operations
/// per step: half the loop control of one pair).
#[inline(always)]
fn bins_of(out: &mut [u32], xs: &[f64], bin: impl Fn(f64) -> u32) {
    let mut quads = out.chunks_exact_mut(4);
    let mut xq = xs.chunks_exact(4);
    for (b, x) in (&mut quads).zip(&mut xq) {
        for (b, &x) in b.iter_mut().zip(x) {
            *b = bin(x);
        }
    }
    for (b, &x) in quads.into_remainder().iter_mut().zip(xq.remainder()) {
        *b = bin(x);
    }
}

/// A bin position clamped to 0..=`last` and floored: `KlDriftConfig::bin_of` for a score whose
/// position is `pos` (not NaN: scores are checked first). Compares, not `f64::max` / `min`,
/// whose NaN handling cost a register copy each (a -0 becomes +0: both are bin 0).
#[inline(always)]
fn clamp_bin(pos: f64, last: f64) -> u32 {
    let pos = if pos > 0.0 { pos } else { 0.0 };
    floor_bin(if pos < last { pos } else { last })
}

/// `pos as u32` for a position in 0..=2^31 (a clamped bin position), in operations the
/// compiler vectorises (SSE2 has no packed conversion with `as`'s saturation, so `as` went one
/// score at a time): adding 2^52 rounds `pos` to the nearest integer, which then sits in the
/// low bits of the sum (exact: the sum's spacing is 1); one less if that rounded up.
#[inline(always)]
fn floor_bin(pos: f64) -> u32 {
    const TWO_52: f64 = 4_503_599_627_370_496.0;
    let y = pos + TWO_52;
    let nearest = (y.to_bits() - TWO_52.to_bits()) as u32;
    nearest - u32::from(y - TWO_52 > pos)
}
