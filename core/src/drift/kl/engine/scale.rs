//! One window's histogram with its KL against the baseline kept as a running sum, and the
//! views the hot loop slides it through: [`Tables`] (any number of bins) and [`Joint`] (up to
//! [`SMALL_BINS`] bins, one lookup per count change). Both give the same bits.

use super::super::config::KlDriftConfig;
use crate::error::{Error, Result};

/// A full recompute after this many incremental updates keeps the running sum's rounding error
/// near 1e-14 (tested against the direct computation).
pub(super) const RESYNC: u32 = 1024;

/// Up to this many bins, the hot loop keeps counts in fixed-size arrays.
pub(super) const SMALL_BINS: usize = 16;

/// Largest joint table (`bins × stride` entries, 1 MiB): beyond it the hot loop reads the count
/// and bin tables apart.
pub(super) const MAX_JOINT: usize = 1 << 17;

/// One sliding window's histogram with its KL against the baseline kept as one running sum.
/// With p_i = (c_i / w + ε) / norm: KL = Σ f(c_i) − Σ c_i l_i − ε Σ ln q_i / norm, where
/// f(c) = p ln p and l_i = ln q_i / (w · norm). The first two terms are the running sum `r`. A
/// new score and the evicted one change two counts by one, so `r` changes by two table lookups:
/// O(1) per score whatever the number of bins, and no logarithm.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Scale {
    pub(super) window: usize,
    pub(super) counts: Vec<u64>,
    // f(c) for c in 0..=window and its forward difference g(c) = f(c + 1) − f(c).
    pub(super) f: Vec<f64>,
    pub(super) g: Vec<f64>,
    pub(super) inv_norm: f64,
    pub(super) inv_w_norm: f64,
    // l_i per bin and, with few bins and a small window, the joint table
    // `joint[i · g.len() + c] = l_i − g(c)` (negated) (one lookup per count change instead of two): both
    // set by `bind` once the baseline is known.
    pub(super) l: Vec<f64>,
    pub(super) joint: Vec<f64>,
    // r = Σ f(c_i) − Σ c_i l_i: valid once the window is full.
    pub(super) r: f64,
    pub(super) stale: u32,
}

impl Scale {
    /// The tables of a window of `window` scores (at most `MAX_WINDOW`), allocated fallibly:
    /// a machine short of memory gets an error, not an abort.
    pub(super) fn new(window: usize, config: &KlDriftConfig) -> Result<Self> {
        let (w, eps) = (window as f64, config.epsilon);
        let norm = 1.0 + config.bins as f64 * eps;
        let padded = (window + 1).next_power_of_two();
        let (mut f, mut g) = (Vec::new(), Vec::new());
        f.try_reserve_exact(window + 1)
            .and_then(|()| g.try_reserve_exact(padded))
            .map_err(|e| {
                Error::InvalidInput(format!("cannot allocate a window of {window} scores: {e}"))
            })?;
        f.extend((0..=window).map(|c| {
            let p = (c as f64 / w + eps) / norm;
            p * p.ln()
        }));
        // Padded with zeros to a power of two, so the hot loop can mask its index (counts never
        // exceed `window`: the padding is never read).
        g.extend(f.windows(2).map(|v| v[1] - v[0]));
        g.resize(padded, 0.0);
        Ok(Self {
            window,
            counts: vec![0; config.bins],
            f,
            g,
            inv_norm: 1.0 / norm,
            inv_w_norm: 1.0 / w / norm,
            l: Vec::new(),
            joint: Vec::new(),
            r: 0.0,
            stale: 0,
        })
    }

    /// An empty window with the same tables.
    pub(super) fn clear(&mut self) {
        self.counts.fill(0);
        self.r = 0.0;
        self.stale = 0;
    }

    /// Builds the tables that depend on the baseline's `ln_q`.
    pub(super) fn bind(&mut self, ln_q: &[f64]) {
        self.l = ln_q.iter().map(|lq| lq * self.inv_w_norm).collect();
        let cells = ln_q.len() * self.g.len();
        self.joint = if ln_q.len() <= SMALL_BINS && cells <= MAX_JOINT {
            // Negated (`l_i − g(c)`, exactly −(g(c) − l_i)): see `Joint::step`.
            let mut t: Vec<f64> = (self.l.iter())
                .flat_map(|&l| self.g.iter().map(move |&g| l - g))
                .collect();
            // A power of two, so a masked position needs no bounds check (positions stay below
            // `cells`: the padding is never read).
            t.resize(cells.next_power_of_two(), 0.0);
            t
        } else {
            Vec::new()
        };
    }

    pub(super) fn recompute(&mut self) {
        self.r = sums(&self.counts, &self.f, &self.l);
        self.stale = 0;
    }

    /// KL of a full window; `offset` = ε Σ ln q_i.
    #[inline(always)]
    pub(super) fn kl(&self, offset: f64) -> f64 {
        self.r - offset * self.inv_norm
    }

    /// One slide of a full window without a [`Lane`] (no count positions to set up and write
    /// back): a score of bin `out` leaves, one of bin `inn` arrives; the KL after it is
    /// returned. The hot loop's arithmetic for a chunk of one (`Lane::finish`): the exact
    /// recompute when it is due, otherwise the two table differences, so the same bits.
    pub(super) fn step_one(&mut self, out: usize, inn: usize, offset: f64) -> f64 {
        let due = self.stale + 1 >= RESYNC;
        let g_mask = self.g.len() - 1;
        let t = Tables {
            g: &self.g[..=g_mask],
            g_mask,
            l: &self.l,
            off: offset * self.inv_norm,
        };
        let kl = t.last(
            &mut self.counts,
            &self.f,
            inn as u32,
            out as u32,
            due,
            &mut self.r,
        );
        self.stale = if due { 0 } else { self.stale + 1 };
        kl
    }
}

/// The running sum recomputed from the counts: Σ f(c_i) − Σ c_i l_i.
#[inline(never)]
pub(super) fn sums(counts: &[u64], f: &[f64], l: &[f64]) -> f64 {
    let a: f64 = counts.iter().map(|&c| f[c as usize]).sum();
    let s: f64 = counts.iter().zip(l).map(|(&c, l)| c as f64 * l).sum();
    a - s
}

/// One full window through the hot loop, its tables borrowed from its [`Scale`].
pub(super) struct Lane<'a> {
    pub(super) counts: &'a mut [u64],
    pub(super) f: &'a [f64],
    pub(super) g: &'a [f64],
    pub(super) l: &'a [f64],
    pub(super) joint: &'a [f64],
    /// ε Σ ln q_i / norm: KL = r − `off`.
    pub(super) off: f64,
    pub(super) r: &'a mut f64,
    pub(super) stale: &'a mut u32,
    /// With a joint table, the counts as positions in it (`i · stride + c_i`): the truth while
    /// the lane lives (set once, not per chunk), written back to `counts` when a slide needs
    /// the counts and when the lane is dropped.
    pub(super) p: [usize; SMALL_BINS],
}

/// What a chunk's slide changes in a [`Lane`] with a joint table, to slide it again.
#[derive(Clone, Copy)]
pub(super) struct Saved {
    pub(super) r: f64,
    pub(super) stale: u32,
    pub(super) p: [usize; SMALL_BINS],
}

impl Drop for Lane<'_> {
    fn drop(&mut self) {
        self.store_positions();
    }
}

impl<'a> Lane<'a> {
    /// `offset` = ε Σ ln q_i.
    #[inline(always)]
    pub(super) fn new(sc: &'a mut Scale, offset: f64) -> Self {
        let Scale {
            counts,
            f,
            g,
            inv_norm,
            l,
            joint,
            r,
            stale,
            ..
        } = sc;
        let mut lane = Self {
            counts,
            f,
            g,
            l,
            joint,
            off: offset * *inv_norm,
            r,
            stale,
            p: [0; SMALL_BINS],
        };
        lane.load_positions();
        lane
    }

    /// The positions from the counts (with a joint table).
    #[inline(always)]
    pub(super) fn load_positions(&mut self) {
        if let Some(j) = self.joint() {
            self.p = j.positions(self.counts);
        }
    }

    /// The counts from the positions (with a joint table).
    #[inline(always)]
    pub(super) fn store_positions(&mut self) {
        if let Some(j) = self.joint() {
            j.store(&self.p, self.counts);
        }
    }

    /// The state a chunk's slide changes, when it is cheap to keep (with a joint table).
    #[inline(always)]
    pub(super) fn save(&self) -> Option<Saved> {
        self.joint().map(|_| Saved {
            r: *self.r,
            stale: *self.stale,
            p: self.p,
        })
    }

    #[inline(always)]
    pub(super) fn restore(&mut self, s: &Saved) {
        (*self.r, *self.stale, self.p) = (s.r, s.stale, s.p);
    }
}

/// A window's count and bin tables as the hot loop reads them, apart (any number of bins).
#[derive(Clone, Copy)]
pub(super) struct Tables<'a> {
    /// `g` has a power-of-two length (see `Scale::new`), so a count masked with `g_mask` needs
    /// no bounds check (the mask never changes a count: they are at most `window`).
    pub(super) g: &'a [f64],
    pub(super) g_mask: usize,
    pub(super) l: &'a [f64],
    pub(super) off: f64,
}

impl Tables<'_> {
    /// One slide: a score of bin `out` leaves, one of bin `inn` arrives; `r` and the counts
    /// come back updated and the KL after it is returned. No branch on `out == inn`
    /// (unpredictable for a peaked histogram): the change is then exactly 0.
    #[inline(always)]
    pub(super) fn step(&self, counts: &mut [u64], inn: u32, out: u32, r: &mut f64) -> f64 {
        let (inn, out) = (inn as usize, out as usize);
        // Both counts are read before either is written, so a score waits for the previous
        // score's stores only, not for its own decrement as well (same result when
        // `inn == out`: the later store wins).
        let (vo, vi) = (counts[out], counts[inn]);
        let co = vo - 1;
        // A score replacing one of its own bin: one count, read once. A select, not a branch
        // (which the compiler would otherwise make, and the CPU mispredict).
        let ci = std::hint::select_unpredictable(inn == out, co, vi);
        counts[out] = co;
        counts[inn] = ci + 1;
        let (co, ci) = (co as usize & self.g_mask, ci as usize & self.g_mask);
        // The same two differences the joint table holds, so both paths give the same bits.
        *r += (self.g[ci] - self.l[inn]) - (self.g[co] - self.l[out]);
        *r - self.off
    }

    /// A chunk's last slide (`f` the window's f(c) table): [`step`](Self::step), or when the
    /// exact recompute is `due`, the counts changed and `r` recomputed from them.
    #[inline(always)]
    pub(super) fn last(
        &self,
        counts: &mut [u64],
        f: &[f64],
        inn: u32,
        out: u32,
        due: bool,
        r: &mut f64,
    ) -> f64 {
        if due {
            counts[out as usize] -= 1;
            counts[inn as usize] += 1;
            *r = sums(counts, f, self.l);
            *r - self.off
        } else {
            self.step(counts, inn, out, r)
        }
    }
}

/// A window's joint table as the hot loop reads it (up to [`SMALL_BINS`] bins). The counts are
/// kept as positions in the table, `i · stride + c_i`, so a count change is one lookup and the
/// next position is the count's own arithmetic.
#[derive(Clone, Copy)]
pub(super) struct Joint<'a> {
    /// Power-of-two length: a position masked with `mask` needs no bounds check (positions are
    /// below `bins × stride`).
    pub(super) joint: &'a [f64],
    pub(super) mask: usize,
    pub(super) stride: usize,
    pub(super) off: f64,
}

impl Joint<'_> {
    #[inline(always)]
    pub(super) fn positions(&self, counts: &[u64]) -> [usize; SMALL_BINS] {
        let mut p = [0; SMALL_BINS];
        for (i, (p, &c)) in p.iter_mut().zip(counts).enumerate() {
            *p = i * self.stride + c as usize;
        }
        p
    }

    #[inline(always)]
    pub(super) fn store(&self, p: &[usize; SMALL_BINS], counts: &mut [u64]) {
        for (i, (&p, c)) in p.iter().zip(counts).enumerate() {
            *c = (p - i * self.stride) as u64;
        }
    }

    /// [`Tables::step`] on positions: the same bits. Bins are masked into the fixed-size array
    /// (no bounds check; they are below `SMALL_BINS`).
    ///
    /// The table holds −d_c = `l_i − g(c)` (negation is exact), and `r` changes by
    /// (−d_out) − (−d_in), which is exactly d_in − d_out; with `SUB` by
    /// −((−d_in) − (−d_out)), the same value (it can only be a zero of the other sign, which
    /// changes no sum: `r` is never −0, since `sums` gives a nonzero sum of negative
    /// `f` terms minus the rest and a sum is −0 only if both terms are). Two forms because the
    /// two windows' steps, written alike, were paired by the compiler into SSE2 registers with
    /// the main window in the high half, which then cost a shuffle per score to take out.
    ///
    /// The positions are `p[BASE..]` (see [`slot`]).
    #[inline(always)]
    pub(super) fn step<const SUB: bool, const P: usize, const BASE: usize>(
        &self,
        p: &mut [usize; P],
        inn: u32,
        out: u32,
        r: &mut f64,
    ) -> f64 {
        let (inn, out) = (BASE + slot::<P>(inn), BASE + slot::<P>(out));
        let (vo, vi) = (p[out], p[inn]);
        let po = vo - 1;
        let pi = std::hint::select_unpredictable(inn == out, po, vi);
        p[out] = po;
        p[inn] = pi + 1;
        let (di, dout) = (self.joint[pi & self.mask], self.joint[po & self.mask]);
        if SUB {
            *r -= di - dout;
        } else {
            *r += dout - di;
        }
        *r - self.off
    }
}

/// A bin's place among a window's positions, which start at some `BASE` of at most
/// [`SMALL_BINS`] in an array of `P` (bins are below `SMALL_BINS`), so that `BASE + slot` needs no
/// bounds check: with [`BYTE_SLOTS`] places, the bin's low byte (a byte load, no mask),
/// otherwise the bin masked to `SMALL_BINS`.
#[inline(always)]
pub(super) fn slot<const P: usize>(bin: u32) -> usize {
    if P >= BYTE_SLOTS {
        usize::from(bin as u8)
    } else {
        bin as usize & (SMALL_BINS - 1)
    }
}

/// Positions for two windows indexed by a bin's low byte: the second starts at `SMALL_BINS`.
pub(super) const BYTE_SLOTS: usize = SMALL_BINS + 256;

/// The larger of two KLs. KL is never NaN here (finite scores): one `maxsd`, not `f64::max`'s
/// NaN handling, which made a loop-carried chain of several cycles. Equal KLs have equal bits
/// (a difference of equal values is +0, never -0), so maxima taken in any grouping agree.
#[inline(always)]
pub(super) fn larger(kl: f64, max: f64) -> f64 {
    if kl > max { kl } else { max }
}

impl<'a> Lane<'a> {
    #[inline(always)]
    pub(super) fn tables(&self) -> Tables<'a> {
        let g_mask = self.g.len() - 1;
        Tables {
            g: &self.g[..=g_mask],
            g_mask,
            l: self.l,
            off: self.off,
        }
    }

    /// The joint table, when the window has one.
    #[inline(always)]
    pub(super) fn joint(&self) -> Option<Joint<'a>> {
        let mask = self.joint.len().checked_sub(1)?;
        Some(Joint {
            joint: &self.joint[..=mask],
            mask,
            stride: self.g.len(),
            off: self.off,
        })
    }

    /// True when a chunk of `n` slides ends with the exact recompute (its last slide).
    #[inline(always)]
    pub(super) fn due(&self, n: usize) -> bool {
        *self.stale + n as u32 >= RESYNC
    }

    /// After the first `body` of a chunk's `n` slides went through a hot loop (leaving `r`):
    /// the last slide if it did not (`body < n`; the k-th score arrives in bin `ins[k]` while
    /// one of bin `outs[k]` leaves), as the exact recompute when `due`; its KL is returned.
    /// Then the running sum and the resync counter are stored.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(super) fn finish(
        &mut self,
        mut r: f64,
        ins: &[u32],
        outs: &[u32],
        body: usize,
        n: usize,
        due: bool,
    ) -> Option<f64> {
        let mut last = None;
        if body < n {
            self.store_positions();
            let (inn, out) = (ins[body], outs[body]);
            let t = self.tables();
            last = Some(t.last(self.counts, self.f, inn, out, due, &mut r));
            self.load_positions();
        }
        if due {
            *self.stale = 0;
        } else {
            *self.stale += n as u32;
        }
        *self.r = r;
        last
    }

    /// One window alone over a chunk (the main window with the short one off, or a window while
    /// the main one fills): out of line, its running sum in a local, few live values, so they
    /// stay in registers. With `TRACK`, `acc` = (sum, max) of the KLs so far comes back updated.
    #[inline(never)]
    pub(super) fn slide<const TRACK: bool>(
        &mut self,
        ins: &[u32],
        outs: &[u32],
        kls: &mut [f64],
        (mut sum, mut max): (f64, f64),
    ) -> (f64, f64) {
        let n = ins.len().min(outs.len()).min(kls.len());
        let (ins, outs, kls) = (&ins[..n], &outs[..n], &mut kls[..n]);
        // The last slide of a chunk may be due for the exact recompute: it goes after the loop.
        let due = self.due(n);
        let body = n.saturating_sub(usize::from(due));
        let mut r = *self.r;
        let walk = ins[..body].iter().zip(&outs[..body]).zip(&mut kls[..body]);
        if let Some(j) = self.joint() {
            let mut p = self.p;
            for ((&inn, &out), kl) in walk {
                *kl = j.step::<false, SMALL_BINS, 0>(&mut p, inn, out, &mut r);
                if TRACK {
                    (sum, max) = (sum + *kl, larger(*kl, max));
                }
            }
            self.p = p;
        } else {
            let t = self.tables();
            for ((&inn, &out), kl) in walk {
                *kl = t.step(self.counts, inn, out, &mut r);
                if TRACK {
                    (sum, max) = (sum + *kl, larger(*kl, max));
                }
            }
        }
        if let Some(kl) = self.finish(r, ins, outs, body, n, due) {
            kls[body] = kl;
            if TRACK {
                (sum, max) = (sum + kl, larger(kl, max));
            }
        }
        (sum, max)
    }
}
