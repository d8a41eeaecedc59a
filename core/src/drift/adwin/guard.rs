//! The certificate a scan without a cut leaves: the bounds within which later checks are O(1).

use super::rows::OFFSETS;

/// Margin factor on the test's threshold in the certified bounds: 1e-9 relative, against
/// rounding errors of order 1e-16 per operation.
pub(super) const Q: f64 = 1.0 - 1e-9;
/// The certificate assumes the window's variance stays at least `RHO²` times its value at the
/// scan (the test's threshold shrinks with the variance's square root).
pub(super) const RHO: f64 = 0.9;
/// Longest run of values one certificate covers (keeps the rounding of its running sums far
/// below its margins).
const MAX_NEW: f64 = 4096.0;

/// The certificate a scan without a cut leaves (see the module docs). With e_j = u0_j − μ·n0_j
/// for the cut point after the n0_j oldest values (u0_j their sum, μ the window's mean), river's
/// test `|u0/n0 − u1/n1| > ε` implies |e_j| ≥ sqrt(2·v·dd·n0·n1/W) + (2/3)·dd (its m is at least
/// 1/n0 + 1/n1). For the cut points of the scan, e_j moves by n0_j·Δμ while the right side only
/// grows with W (and shrinks at most to `RHO` with the variance); cut points added since lie in
/// the new values, where |e_j| is bounded by the range of the new values' running sum of
/// deviations from the scan's mean.
#[derive(Clone, Debug, Default)]
pub(super) struct Guard {
    pub(super) armed: bool,
    /// Width, total and mean at the scan.
    pub(super) w: f64,
    pub(super) t: f64,
    pub(super) mu: f64,
    /// `RHO²` × the variance per value at the scan.
    pub(super) v_min: f64,
    /// How far the mean may move before a cut point of the scan could pass the test.
    pub(super) slack: f64,
    /// How far `e` may stray at a newer cut point before it could pass the test.
    pub(super) room: f64,
    /// Bound on the magnitudes in the sums (bucket totals and the total) at the scan.
    pub(super) mag: f64,
    /// Since the scan: the sum of (x − mu) (from the running total), its smallest and largest
    /// values at any value, and Σ|x|.
    pub(super) p: f64,
    pub(super) p_min: f64,
    pub(super) p_max: f64,
    pub(super) abs_new: f64,
}

impl Guard {
    /// The smallest and largest `q = b − o·mu` over values added together (`b` the running
    /// total before each, `o` its [`OFFSETS`] entry) and their Σ|x|: what
    /// [`track`](Self::track) needs.
    pub(super) fn spread_of(&self, xs: &[f64], before: &[f64]) -> (f64, f64, f64) {
        // Two values per step, written out, so they pair up in SSE2 registers.
        let (mut lo, mut abs) = ([f64::INFINITY; 2], [0.0; 2]);
        let mu = self.mu;
        let (xq, bq) = (xs.chunks_exact(2), before.chunks_exact(2));
        let rest = xq
            .remainder()
            .iter()
            .zip(bq.remainder())
            .zip(&OFFSETS[xs.len() & !1..]);
        // The largest q as the smallest −q (exactly: o·mu − b is −(b − o·mu)), both as `<`
        // selects: the compiler makes `minpd` of them (a `>` select became a blend).
        let mut neg_hi = [f64::INFINITY; 2];
        for ((x, b), o) in xq.zip(bq).zip(OFFSETS.chunks_exact(2)) {
            for k in 0..2 {
                let om = o[k] * mu;
                let (q, nq) = (b[k] - om, om - b[k]);
                lo[k] = if q < lo[k] { q } else { lo[k] };
                neg_hi[k] = if nq < neg_hi[k] { nq } else { neg_hi[k] };
                abs[k] += x[k].abs();
            }
        }
        let mut hi = [-neg_hi[0], -neg_hi[1]];
        for ((&x, &b), &o) in rest {
            let q = b - o * mu;
            lo[0] = if q < lo[0] { q } else { lo[0] };
            hi[0] = if q > hi[0] { q } else { hi[0] };
            abs[0] += x.abs();
        }
        let lo = if lo[1] < lo[0] { lo[1] } else { lo[0] };
        let hi = if hi[1] > hi[0] { hi[1] } else { hi[0] };
        (lo, hi, abs[0] + abs[1])
    }

    /// Follows `n` values added at width `w0` (`total` after them), given the extremes of
    /// `q = b − o·mu` over them ([`spread_of`](Self::spread_of)) and their Σ|x|. The sum of
    /// (x − mu) since the scan just before the k-th value is b − t − (w0 − w + k)·mu =
    /// q − (t + (w0 − w − 1)·mu): the extremes come from q's, in any order (they only bound),
    /// widened by their rounding (a few ulps of the magnitudes involved; `holds` adds margins
    /// far above it as well).
    #[inline(always)]
    pub(super) fn track(&mut self, (lo, hi, abs): (f64, f64, f64), n: usize, w0: f64, total: f64) {
        let (t, mu) = (self.t, self.mu);
        let base = w0 - self.w - 1.0;
        let c = t + base * mu;
        let err =
            1e-15 * (lo.abs() + hi.abs() + c.abs() + (base.abs() + n as f64 + 1.0) * mu.abs());
        let end = (total - t) - (base + 1.0 + n as f64) * mu;
        for v in [lo - c - err, end] {
            self.p_min = if v < self.p_min { v } else { self.p_min };
        }
        for v in [hi - c + err, end] {
            self.p_max = if v > self.p_max { v } else { self.p_max };
        }
        self.p = end;
        self.abs_new += abs;
        // Magnitudes beyond f64 (or a NaN among them): no bound, so no certificate.
        if !err.is_finite() {
            self.armed = false;
        }
    }

    /// True when no cut point can pass the test at width `w`, total `total` and variance sum
    /// `variance`. Comparisons are negated on purpose: a NaN must never count as safe.
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    pub(super) fn holds(&self, w: f64, total: f64, variance: f64) -> bool {
        let n_new = w - self.w;
        if !(self.armed && n_new <= MAX_NEW && n_new <= self.w && self.abs_new <= 0.5 * self.mag) {
            return false;
        }
        if !(variance / w >= self.v_min) {
            return false;
        }
        let dmu = total / w - self.mu;
        let adm = dmu.abs();
        let spread = (self.p - self.p_min).max(self.p_max - self.p);
        let newer = spread
            + (self.p - dmu * w).abs()
            + adm * n_new
            // Rounding of the running sums since the scan.
            + 1e-12 * (self.abs_new + n_new * self.mu.abs())
            + 2e-12 * (self.mag + self.abs_new)
            + 1e-14 * (self.p.abs() + adm * w);
        adm * (1.0 + 1e-9) < self.slack && newer < self.room
    }
}
