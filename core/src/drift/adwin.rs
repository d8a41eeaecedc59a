//! ADWIN (Bifet & Gavaldà 2007, the ADWIN2 bucket compression) with river's parameters, defaults
//! and change points. Like river's, a detector that reported a change starts afresh on the next
//! value.
//!
//! Speed without changing a decision: river scans every cut point of the window (~90 for a
//! million values) every `clock` values, with four divisions and a square root each. Here a scan
//! that finds no cut also leaves a certificate ([`Guard`]): how far the window's mean may move,
//! and how far the values added since may stray, before any cut point could pass the test. Later
//! checks within those bounds are O(1); the first check outside them scans again, and a scan that
//! finds a cut point near the test's threshold runs river's exact test. The bounds are the test's
//! own, loosened by margins far above the rounding of the sums involved, so every change point is
//! river's (tested against the reference implementation on many streams and settings).

use serde::{Deserialize, Serialize};

use super::stream::{MAX_STREAM_VALUE, check_value, corrupt_unless};
use crate::error::{Error, Result};
use crate::models::Artifact;

/// Options of [`Adwin`], named and defaulted as river's `drift.ADWIN`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdwinConfig {
    /// Confidence of the cut test (default 0.002).
    pub delta: f64,
    /// Check for a change every `clock` values (default 32).
    pub clock: u32,
    /// Buckets of each size kept before two are merged (default 5; 2 to 4096: with 1 a merge
    /// empties its row, which river 0.26 does not handle, it panics).
    pub max_buckets: usize,
    /// Smallest sub-window considered at a cut (default 5).
    pub min_window_length: u32,
    /// No checks until the window holds more than this many values (default 10).
    pub grace_period: u32,
}

impl Default for AdwinConfig {
    fn default() -> Self {
        Self {
            delta: 0.002,
            clock: 32,
            max_buckets: 5,
            min_window_length: 5,
            grace_period: 10,
        }
    }
}

/// Buckets per row are stored in a fixed stride of `max_buckets + 1`, so it is bounded.
const MAX_BUCKETS: usize = 4096;

impl AdwinConfig {
    /// Checks every field; [`Adwin::new`] calls it.
    pub fn validate(&self) -> Result<()> {
        if !(self.delta > 0.0 && self.delta < 1.0) {
            return Err(Error::config(
                "delta",
                format!("{} is out of range: need 0 < delta < 1", self.delta),
            ));
        }
        if self.clock == 0 {
            return Err(Error::config("clock", "must be at least 1"));
        }
        if !(2..=MAX_BUCKETS).contains(&self.max_buckets) {
            return Err(Error::config(
                "max_buckets",
                format!(
                    "{} is out of range: need 2 to {MAX_BUCKETS} (1 would empty a row at each \
                     merge)",
                    self.max_buckets
                ),
            ));
        }
        if self.min_window_length == 0 {
            return Err(Error::config("min_window_length", "must be at least 1"));
        }
        Ok(())
    }
}

/// One row of the exponential histogram as saved: up to `max_buckets` buckets of 2^level
/// values, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Level {
    totals: Vec<f64>,
    variances: Vec<f64>,
}

/// The saved form (the same fields as before the flat layout, so older files load).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct AdwinState {
    config: AdwinConfig,
    levels: Vec<Level>,
    total: f64,
    variance: f64,
    width: f64,
    tick: u64,
    drift: bool,
    n_detections: u64,
}

/// Margin factor on the test's threshold in the certified bounds: 1e-9 relative, against
/// rounding errors of order 1e-16 per operation.
const Q: f64 = 1.0 - 1e-9;
/// The certificate assumes the window's variance stays at least `RHO²` times its value at the
/// scan (the test's threshold shrinks with the variance's square root).
const RHO: f64 = 0.9;
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
struct Guard {
    armed: bool,
    /// Width, total and mean at the scan.
    w: f64,
    t: f64,
    mu: f64,
    /// `RHO²` × the variance per value at the scan.
    v_min: f64,
    /// How far the mean may move before a cut point of the scan could pass the test.
    slack: f64,
    /// How far `e` may stray at a newer cut point before it could pass the test.
    room: f64,
    /// Bound on the magnitudes in the sums (bucket totals and the total) at the scan.
    mag: f64,
    /// Since the scan: the sum of (x − mu) (from the running total), its smallest and largest
    /// values at any value, and Σ|x|.
    p: f64,
    p_min: f64,
    p_max: f64,
    abs_new: f64,
}

impl Guard {
    /// The smallest and largest `q = b − o·mu` over values added together (`b` the running
    /// total before each, `o` its [`OFFSETS`] entry) and their Σ|x|: what
    /// [`track`](Self::track) needs.
    fn spread_of(&self, xs: &[f64], before: &[f64]) -> (f64, f64, f64) {
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
    fn track(&mut self, (lo, hi, abs): (f64, f64, f64), n: usize, w0: f64, total: f64) {
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
    fn holds(&self, w: f64, total: f64, variance: f64) -> bool {
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

/// Rows of buckets at most: a window of 2^64 values needs no more.
const ROWS: usize = 64;

/// Values added at a time: their variance increments, running sums and bucket merges are
/// computed array by array (the merges are the reference's, in a different order of time:
/// each merge's arithmetic depends only on its two buckets, and no check falls inside a block).
const BLOCK: usize = 256;

/// `OFFSETS[i] = i + 1`: the width after the i-th value of a block, without a conversion.
const OFFSETS: [f64; BLOCK] = {
    let mut o = [0.0; BLOCK];
    let mut i = 0;
    while i < BLOCK {
        o[i] = (i + 1) as f64;
        i += 1;
    }
    o
};

/// The exponential histogram's rows: row i holds up to `cap − 1` buckets of 2^i values (a row
/// that reaches `cap` is merged at once: its two oldest buckets become one of the next row),
/// oldest first, at `[i · stride, i · stride + len)` of `tot` and `var`. The room behind them
/// takes a block's incoming buckets, so a merge writes straight into the next row.
#[derive(Clone, Debug)]
struct Rows {
    cap: usize,
    /// `cap + BLOCK + 8`: a row's buckets, at most a block's incoming ones (a row of l < cap
    /// buckets and k incoming sends 1 + (l + k − cap) / 2 <= k up), and 8 to copy as a whole.
    stride: usize,
    tot: Vec<f64>,
    var: Vec<f64>,
    count: usize,
    lens: [usize; ROWS],
}

impl Rows {
    fn new(cap: usize) -> Self {
        let stride = cap + BLOCK + 8;
        Self {
            cap,
            stride,
            tot: vec![0.0; stride],
            var: vec![0.0; stride],
            count: 1,
            lens: [0; ROWS],
        }
    }

    fn count(&self) -> usize {
        self.count
    }

    fn len(&self, i: usize) -> usize {
        self.lens[i % ROWS]
    }

    /// The k-th oldest bucket of row i.
    fn get(&self, i: usize, k: usize) -> [f64; 2] {
        let at = i * self.stride + k;
        [self.tot[at], self.var[at]]
    }

    fn add_row(&mut self) {
        self.count += 1;
        self.tot.resize(self.count * self.stride, 0.0);
        self.var.resize(self.count * self.stride, 0.0);
    }

    /// Appends a bucket to row i (a new top row when i is the row count); for loading only (no
    /// merge).
    fn push(&mut self, i: usize, [t, v]: [f64; 2]) {
        if i == self.count {
            self.add_row();
        }
        let at = i * self.stride + self.len(i);
        (self.tot[at], self.var[at]) = (t, v);
        self.lens[i % ROWS] += 1;
    }

    /// Removes the oldest bucket of row i.
    fn pop_front(&mut self, i: usize) {
        let (a, len) = (i * self.stride, self.len(i));
        self.tot.copy_within(a + 1..a + len, a);
        self.var.copy_within(a + 1..a + len, a);
        self.lens[i % ROWS] -= 1;
    }

    fn pop_row(&mut self) {
        self.count -= 1;
        self.lens[self.count % ROWS] = 0;
        self.tot.truncate(self.count * self.stride);
        self.var.truncate(self.count * self.stride);
    }

    /// Adds up to [`BLOCK`] values to row 0 (variance 0 each) and merges as the reference does
    /// one value at a time: a row that reaches `cap` merges its two oldest buckets into the next
    /// row, so of a row's l buckets and k incoming ones the first 2m pair up, m = 1 + (l + k −
    /// cap) / 2 when l + k reaches `cap`, and the rest stay.
    fn add(&mut self, xs: &[f64]) {
        const ZEROS: [f64; BLOCK] = [0.0; BLOCK];
        let (cap, stride) = (self.cap, self.stride);
        let k = xs.len().min(BLOCK);
        let l0 = self.lens[0];
        if let [x] = xs {
            // One value (`update`): no copy call.
            (self.tot[l0], self.var[l0]) = (*x, 0.0);
        } else {
            self.tot[l0..l0 + k].copy_from_slice(&xs[..k]);
            self.var[l0..l0 + k].copy_from_slice(&ZEROS[..k]);
        }
        let (mut i, mut total) = (0, l0 + k);
        while total >= cap {
            let m = 1 + (total - cap) / 2;
            if i + 1 == self.count {
                self.add_row();
            }
            let (a, up) = (i * stride, self.lens[(i + 1) % ROWS]);
            {
                let (t, tt) = self.tot.split_at_mut(a + stride);
                let (v, vv) = self.var.split_at_mut(a + stride);
                let (st, sv) = (&t[a..a + 2 * m], &v[a..a + 2 * m]);
                let (ot, ov) = (&mut tt[up..up + m], &mut vv[up..up + m]);
                // 2^i and 2^-i from their bits (i < 63). Dividing by the bucket size is
                // multiplying by its exact reciprocal: the same bits as the reference's division.
                let n1 = f64::from_bits((1023 + i as u64) << 52);
                let inv = f64::from_bits((1023 - i as u64) << 52);
                let half = n1 * 0.5;
                // Two merges at a time, written out, so they pair up in SSE2 registers.
                let pairs = (st.chunks_exact(4).zip(sv.chunks_exact(4)))
                    .zip(ot.chunks_exact_mut(2).zip(ov.chunks_exact_mut(2)));
                for ((a, b), (t, v)) in pairs {
                    let (mu1, mu2) = ([a[0] * inv, a[2] * inv], [a[1] * inv, a[3] * inv]);
                    let d = [mu1[0] - mu2[0], mu1[1] - mu2[1]];
                    t.copy_from_slice(&[a[0] + a[1], a[2] + a[3]]);
                    v.copy_from_slice(&[
                        b[0] + b[1] + half * d[0] * d[0],
                        b[2] + b[3] + half * d[1] * d[1],
                    ]);
                }
                let j = m & !1;
                if j < m {
                    let (t0, t1, v0, v1) = (st[2 * j], st[2 * j + 1], sv[2 * j], sv[2 * j + 1]);
                    let (mu1, mu2) = (t0 * inv, t1 * inv);
                    ot[j] = t0 + t1;
                    ov[j] = v0 + v1 + half * (mu1 - mu2) * (mu1 - mu2);
                }
            }
            // What stays moves to the front: with up to 8, as one fixed-size copy (no call).
            let rest = total - 2 * m;
            let from = a + 2 * m;
            if rest <= 8 {
                self.tot.copy_within(from..from + 8, a);
                self.var.copy_within(from..from + 8, a);
            } else {
                self.tot.copy_within(from..from + rest, a);
                self.var.copy_within(from..from + rest, a);
            }
            self.lens[i % ROWS] = rest;
            i += 1;
            total = up + m;
        }
        self.lens[i % ROWS] = total;
    }
}

/// ADaptive WINdowing: keeps the longest recent window whose halves have equal means.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(try_from = "AdwinState", into = "AdwinState")]
pub struct Adwin {
    config: AdwinConfig,
    rows: Rows,
    total: f64,
    variance: f64,
    width: f64,
    tick: u64,
    /// Values left before the next check (`tick` a multiple of `clock`).
    until_check: u32,
    drift: bool,
    n_detections: u64,
    guard: Guard,
    /// Scratch for a block: the total before each value and each variance increment.
    before: Vec<f64>,
    inc: Vec<f64>,
    /// Values in the running sums but not yet in the rows (fewer than [`BLOCK`]): the rows are
    /// brought up to date only before a scan or a save, or when a block's worth is pending, so
    /// one value per call shares the merge work like a batch does.
    pending: Vec<f64>,
}

/// Equal detectors have equal saved states (the certificate is a cache).
impl PartialEq for Adwin {
    fn eq(&self, other: &Self) -> bool {
        AdwinState::from(self.clone()) == AdwinState::from(other.clone())
    }
}

impl From<Adwin> for AdwinState {
    fn from(mut a: Adwin) -> Self {
        a.flush();
        let levels = (0..a.rows.count())
            .map(|i| {
                let row: Vec<[f64; 2]> = (0..a.rows.len(i)).map(|k| a.rows.get(i, k)).collect();
                Level {
                    totals: row.iter().map(|b| b[0]).collect(),
                    variances: row.iter().map(|b| b[1]).collect(),
                }
            })
            .collect();
        Self {
            config: a.config,
            levels,
            total: a.total,
            variance: a.variance,
            width: a.width,
            tick: a.tick,
            drift: a.drift,
            n_detections: a.n_detections,
        }
    }
}

impl TryFrom<AdwinState> for Adwin {
    type Error = Error;
    fn try_from(s: AdwinState) -> Result<Self> {
        let mut a = Self::new(s.config)?;
        if s.levels.is_empty() || s.levels.len() > 64 {
            return Err(Error::Corrupt(format!(
                "ADWIN has {} rows of buckets: need 1 to 64",
                s.levels.len()
            )));
        }
        for (i, l) in s.levels.iter().enumerate() {
            if l.totals.len() != l.variances.len() || l.totals.len() >= a.rows.cap {
                return Err(Error::Corrupt(format!(
                    "ADWIN row {i} holds {} totals and {} variances: need equal counts below {}",
                    l.totals.len(),
                    l.variances.len(),
                    a.rows.cap
                )));
            }
            if i > 0 {
                a.rows.add_row();
            }
            for (&t, &v) in l.totals.iter().zip(&l.variances) {
                a.rows.push(i, [t, v]);
            }
        }
        let clock = u64::from(a.config.clock);
        (a.total, a.variance, a.width, a.tick) = (s.total, s.variance, s.width, s.tick);
        a.validate()?;
        a.until_check = (clock - s.tick % clock) as u32;
        (a.drift, a.n_detections) = (s.drift, s.n_detections);
        Ok(a)
    }
}

impl Adwin {
    /// Validates `config` and builds an empty detector.
    pub fn new(config: AdwinConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            until_check: config.clock,
            rows: Rows::new(config.max_buckets + 1),
            config,
            total: 0.0,
            variance: 0.0,
            width: 0.0,
            tick: 0,
            drift: false,
            n_detections: 0,
            guard: Guard::default(),
            before: vec![0.0; BLOCK],
            inc: vec![0.0; BLOCK],
            pending: Vec::with_capacity(BLOCK),
        })
    }

    /// The checks both [`new`](Self::new) and loading make: the config's, and a state the
    /// detector can reach (finite sums, buckets that add up to the width).
    pub fn validate(&self) -> Result<()> {
        self.config.validate()?;
        let (w, t, v) = (self.width, self.total, self.variance);
        corrupt_unless(t.is_finite() && v.is_finite(), || {
            format!("ADWIN total {t} or variance {v} is not finite")
        })?;
        let mut held = 0.0;
        for i in 0..self.rows.count() {
            for k in 0..self.rows.len(i) {
                let [bt, bv] = self.rows.get(i, k);
                corrupt_unless(bt.is_finite() && bv.is_finite(), || {
                    format!("ADWIN bucket {k} of row {i} holds {bt}, {bv}: not finite")
                })?;
                held += 2f64.powi(i as i32);
            }
        }
        held += self.pending.len() as f64;
        corrupt_unless(w == held, || {
            format!("ADWIN width {w} differs from the {held} values its buckets hold")
        })
    }

    /// The configuration.
    pub fn config(&self) -> &AdwinConfig {
        &self.config
    }

    /// Adds one value; `true` when a change was detected at it. A non-finite value, or one
    /// beyond ±[`MAX_STREAM_VALUE`], is an `InvalidInput` error.
    pub fn update(&mut self, x: f64) -> Result<bool> {
        check_value(0, x)?;
        // `feed` for one value, without its loop: the value joins the pending ones.
        if self.drift {
            self.reset();
        }
        self.sums(&[x]);
        self.tick += 1;
        self.until_check -= 1;
        self.pending.push(x);
        if self.until_check == 0 {
            self.checkpoint(&[]);
        }
        if self.pending.len() >= BLOCK {
            self.flush();
        }
        Ok(self.drift)
    }

    /// Adds many values; returns the indices (into `xs`) where a change was detected. A non-finite
    /// value, or one beyond ±[`MAX_STREAM_VALUE`], anywhere rejects the whole batch before
    /// anything is added.
    pub fn update_many(&mut self, xs: &[f64]) -> Result<Vec<usize>> {
        // x · 0 is 0 for a finite x and NaN otherwise, and the largest |x| is kept by a select
        // (NaN compares false); four lanes (in any order) vectorise.
        let (mut zero, mut big) = ([0.0; 4], [0.0f64; 4]);
        let quads = xs.chunks_exact(4);
        for &x in quads.remainder() {
            zero[0] += x * 0.0;
            big[0] = if x.abs() > big[0] { x.abs() } else { big[0] };
        }
        for q in quads {
            for k in 0..4 {
                zero[k] += q[k] * 0.0;
                let a = q[k].abs();
                big[k] = if a > big[k] { a } else { big[k] };
            }
        }
        if zero.iter().sum::<f64>() != 0.0 || big.iter().any(|&a| a > MAX_STREAM_VALUE) {
            for (i, &x) in xs.iter().enumerate() {
                check_value(i, x)?;
            }
        }
        let mut hits = Vec::new();
        self.feed(xs, &mut hits);
        Ok(hits)
    }

    /// Adds `xs`, pushing the index of each detected change to `hits`; returns how many there
    /// were. The running sums advance one check period at a time; the bucket rows only when a
    /// scan needs them (or the pending values fill a block), so their per-row work is shared by
    /// many periods while the certificate holds.
    fn feed(&mut self, xs: &[f64], hits: &mut Vec<usize>) -> usize {
        let before = hits.len();
        let (mut pos, mut pend) = (0, 0);
        while pos < xs.len() {
            if self.drift {
                // river starts a fresh window after reporting a change (nothing is pending:
                // the scan that found it had the rows complete).
                self.reset();
            }
            let seg = (self.until_check as usize).min(xs.len() - pos).min(BLOCK);
            self.sums(&xs[pos..pos + seg]);
            pos += seg;
            self.tick += seg as u64;
            self.until_check -= seg as u32;
            while pos - pend >= BLOCK {
                self.flush();
                self.rows.add(&xs[pend..pend + BLOCK]);
                pend += BLOCK;
            }
            if self.until_check == 0 && self.checkpoint(&xs[pend..pos]) {
                pend = pos;
                if self.drift {
                    hits.push(pos - 1);
                }
            }
        }
        // What is left (less than a block) waits with the pending values, older first.
        self.pending.extend_from_slice(&xs[pend..pos]);
        if self.pending.len() >= BLOCK {
            self.flush();
        }
        hits.len() - before
    }

    /// A check is due (the `clock`-th value since the last one): unless the certificate covers
    /// it, the rows are brought up to date (the pending values, then `newer`, the values added
    /// since them) and checked. Returns whether the rows were brought up to date.
    #[inline(always)]
    fn checkpoint(&mut self, newer: &[f64]) -> bool {
        self.until_check = self.config.clock;
        let grace = f64::from(self.config.grace_period);
        // (The width is a count, never NaN; `holds` treats NaNs as "check".)
        if self.width <= grace || self.guard.holds(self.width, self.total, self.variance) {
            return false;
        }
        self.flush();
        self.rows.add(newer);
        self.drift = self.check();
        if self.drift {
            self.n_detections += 1;
        }
        true
    }

    /// Brings the rows up to date with the pending values.
    fn flush(&mut self) {
        if !self.pending.is_empty() {
            for block in self.pending.chunks(BLOCK) {
                self.rows.add(block);
            }
            self.pending.clear();
        }
    }

    /// Whether the last value triggered a change.
    pub fn drift_detected(&self) -> bool {
        self.drift
    }

    /// Changes detected since creation.
    pub fn n_detections(&self) -> u64 {
        self.n_detections
    }

    /// Number of values in the current window.
    pub fn width(&self) -> f64 {
        self.width
    }

    /// Mean of the current window (0 while empty).
    pub fn estimation(&self) -> f64 {
        if self.width == 0.0 {
            0.0
        } else {
            self.total / self.width
        }
    }

    /// Variance of the current window.
    pub fn variance(&self) -> f64 {
        if self.width == 0.0 {
            0.0
        } else {
            self.variance / self.width
        }
    }

    /// Empties the window (the detection count is kept).
    pub fn reset(&mut self) {
        let n = self.n_detections;
        if let Ok(fresh) = Self::new(self.config.clone()) {
            *self = Self {
                n_detections: n,
                ..fresh
            };
        }
    }

    /// Adds up to [`BLOCK`] values to the running sums (not to the rows): the totals before
    /// each value (the running sum, in order), then the variance increments (independent of each
    /// other, so the divisions vectorise) with the certificate's extremes in the same pass, then
    /// their sum in order; the reference's arithmetic, value for value.
    #[inline(never)]
    fn sums(&mut self, xs: &[f64]) {
        if let [x] = *xs {
            // One value (`update`): the same arithmetic without the array passes.
            let (w0, t0) = (self.width, self.total);
            let w = w0 + 1.0;
            let mut inc = 0.0;
            if w > 1.0 {
                let d = x - t0 / (w - 1.0);
                inc = (w - 1.0) * d * d / w;
            }
            (self.width, self.total, self.variance) = (w, t0 + x, self.variance + inc);
            // One value: q = t0 − 1·mu (see `Guard::spread_of`).
            let q = t0 - self.guard.mu;
            self.guard.track((q, q, x.abs()), 1, w0, t0 + x);
            return;
        }
        let n = xs.len().min(BLOCK);
        let (xs, before, inc) = (&xs[..n], &mut self.before[..n], &mut self.inc[..n]);
        let mut total = self.total;
        for (b, &x) in before.iter_mut().zip(xs) {
            *b = total;
            total += x;
        }
        let w0 = self.width;
        // The first value of a window has no increment (its width is 1).
        let first = usize::from(w0 == 0.0).min(n);
        inc[..first].fill(0.0);
        let offs = &OFFSETS[first..n];
        let (inc1, xs1, before1) = (&mut inc[first..], &xs[first..], &before[first..]);
        for (((inc, &x), &b), &o) in inc1.iter_mut().zip(xs1).zip(before1).zip(offs) {
            let w = w0 + o;
            let d = x - b / (w - 1.0);
            *inc = (w - 1.0) * d * d / w;
        }
        let mut variance = self.variance;
        for &inc in inc.iter() {
            variance += inc;
        }
        (self.width, self.total, self.variance) = (w0 + n as f64, total, variance);
        let spread = self.guard.spread_of(xs, &self.before[..n]);
        self.guard.track(spread, n, w0, total);
    }

    fn delete_oldest(&mut self) {
        let last = self.rows.count() - 1;
        let n = (1u64 << last) as f64;
        let [u, v] = self.rows.get(last, 0);
        self.rows.pop_front(last);
        let mu = u / n;
        self.width -= n;
        self.total -= u;
        let mu_w = self.total / self.width;
        self.variance -= v + n * self.width * (mu - mu_w) * (mu - mu_w) / (n + self.width);
        if self.rows.len(last) == 0 && last > 0 {
            self.rows.pop_row();
        }
    }

    /// A check the certificate did not cover: a pass over every cut point with the bounds; if
    /// one comes near the test's threshold, river's exact scan. Returns whether a change was
    /// detected; without one, leaves a new certificate when the bounds allow it.
    #[inline(never)]
    #[allow(clippy::neg_cmp_op_on_partial_ord)] // a NaN must count as near, never as safe
    fn check(&mut self) -> bool {
        self.guard.armed = false;
        let (w, total) = (self.width, self.total);
        let mu = total / w;
        let v = self.variance / w;
        let dd = (2.0 * w.ln() / self.config.delta).ln();
        let b = 2.0 / 3.0 * dd;
        let min = f64::from(self.config.min_window_length);
        if !(v >= 0.0 && v.is_finite() && dd > 0.0 && dd.is_finite() && mu.is_finite()) {
            return self.scan();
        }
        let (mut n_buckets, mut mag) = (0.0, total.abs());
        for i in 0..self.rows.count() {
            let a = i * self.rows.stride;
            n_buckets += self.rows.len(i) as f64;
            mag += (self.rows.tot[a..a + self.rows.len(i)].iter()).fold(0.0, |m, t| m + t.abs());
        }
        // Rounding of the test's sums and of these bounds, far below this (a few 1e-16 per
        // addition, one addition per bucket).
        let e0 = 1e-14 * (n_buckets + 100.0) * mag;
        let k = 2.0 * v * dd / w;
        let (mut n0, mut u0, mut slack, mut e) = (0.0, 0.0, f64::INFINITY, 0.0);
        let mut near = false;
        for i in (0..self.rows.count()).rev() {
            let size = (1u64 << i) as f64;
            let a = i * self.rows.stride;
            for &t in &self.rows.tot[a..a + self.rows.len(i)] {
                n0 += size;
                u0 += t;
                e = (u0 - mu * n0).abs();
                let n1 = w - n0;
                let a = (k * n0 * n1).sqrt();
                // river's test applies here (the last bucket's end, n1 = 0, is no cut point).
                let tested = n0 >= min && n1 >= min && n1 > 0.0;
                near |= tested && !(e + 4.0 * e0 < Q * (a + b));
                let s = (Q * (RHO * a + b) - e - 4.0 * e0) / n0;
                if s < slack {
                    slack = s;
                }
            }
        }
        if near {
            return self.scan();
        }
        let room = Q * b - e - 4.0 * e0;
        if slack > 0.0 && room > 0.0 && mag.is_finite() {
            self.guard = Guard {
                armed: true,
                w,
                t: total,
                mu,
                v_min: RHO * RHO * v,
                slack,
                room,
                mag,
                ..Guard::default()
            };
        }
        false
    }

    /// river's cut test at one cut point.
    fn cut(&self, n0: f64, n1: f64, delta_mean: f64) -> bool {
        let min = f64::from(self.config.min_window_length);
        let dd = (2.0 * self.width.ln() / self.config.delta).ln();
        let m_recip = 1.0 / (n0 - min + 1.0) + 1.0 / (n1 - min + 1.0);
        let eps =
            (2.0 * m_recip * (self.variance / self.width) * dd).sqrt() + 2.0 / 3.0 * dd * m_recip;
        delta_mean.abs() > eps
    }

    /// river's scan: every cut point from oldest to newest; after a cut drops the oldest bucket,
    /// start over.
    fn scan(&mut self) -> bool {
        let min = f64::from(self.config.min_window_length);
        let mut changed = false;
        'again: loop {
            let (mut n0, mut n1, mut u0, mut u1) = (0.0, self.width, 0.0, self.total);
            for lvl in (0..self.rows.count()).rev() {
                let size = (1u64 << lvl) as f64;
                let len = self.rows.len(lvl);
                for k in 0..len {
                    let t = self.rows.get(lvl, k)[0];
                    n0 += size;
                    n1 -= size;
                    u0 += t;
                    u1 -= t;
                    if lvl == 0 && k == len - 1 {
                        break 'again;
                    }
                    if n1 >= min && n0 >= min && self.cut(n0, n1, u0 / n0 - u1 / n1) {
                        changed = true;
                        if self.width > 0.0 {
                            self.delete_oldest();
                            continue 'again;
                        }
                    }
                }
            }
            break;
        }
        changed
    }
}

impl Artifact for Adwin {
    const KIND: &'static str = "adwin";
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The implementation before the flat layout and the certificate, kept as the reference:
    /// river's algorithm step by step (its scan at every check).
    #[derive(Clone, Debug)]
    struct Reference {
        config: AdwinConfig,
        levels: Vec<Level>,
        total: f64,
        variance: f64,
        width: f64,
        tick: u64,
        drift: bool,
    }

    impl Reference {
        fn new(config: AdwinConfig) -> Self {
            Self {
                config,
                levels: vec![Level::default()],
                total: 0.0,
                variance: 0.0,
                width: 0.0,
                tick: 0,
                drift: false,
            }
        }

        fn step(&mut self, x: f64) -> bool {
            if self.drift {
                *self = Self::new(self.config.clone());
            }
            self.insert(x);
            self.drift = self.detect();
            self.drift
        }

        fn insert(&mut self, x: f64) {
            self.levels[0].totals.push(x);
            self.levels[0].variances.push(0.0);
            self.width += 1.0;
            let mut inc = 0.0;
            if self.width > 1.0 {
                let d = x - self.total / (self.width - 1.0);
                inc = (self.width - 1.0) * d * d / self.width;
            }
            self.variance += inc;
            self.total += x;
            let cap = self.config.max_buckets + 1;
            let mut i = 0;
            while self.levels[i].totals.len() == cap {
                let n1 = (1u64 << i) as f64;
                let l = &mut self.levels[i];
                let (t0, t1) = (l.totals[0], l.totals[1]);
                let (v0, v1) = (l.variances[0], l.variances[1]);
                l.totals.drain(..2);
                l.variances.drain(..2);
                let (mu1, mu2) = (t0 / n1, t1 / n1);
                let v = v0 + v1 + n1 * 0.5 * (mu1 - mu2) * (mu1 - mu2);
                if i + 1 == self.levels.len() {
                    self.levels.push(Level::default());
                }
                self.levels[i + 1].totals.push(t0 + t1);
                self.levels[i + 1].variances.push(v);
                i += 1;
            }
        }

        fn delete_oldest(&mut self) {
            let last = self.levels.len() - 1;
            let n = (1u64 << last) as f64;
            let (u, v) = (self.levels[last].totals[0], self.levels[last].variances[0]);
            let mu = u / n;
            self.width -= n;
            self.total -= u;
            let mu_w = self.total / self.width;
            self.variance -= v + n * self.width * (mu - mu_w) * (mu - mu_w) / (n + self.width);
            self.levels[last].totals.remove(0);
            self.levels[last].variances.remove(0);
            if self.levels[last].totals.is_empty() && last > 0 {
                self.levels.pop();
            }
        }

        fn cut(&self, n0: f64, n1: f64, delta_mean: f64) -> bool {
            let min = f64::from(self.config.min_window_length);
            let dd = (2.0 * self.width.ln() / self.config.delta).ln();
            let m_recip = 1.0 / (n0 - min + 1.0) + 1.0 / (n1 - min + 1.0);
            let eps = (2.0 * m_recip * (self.variance / self.width) * dd).sqrt()
                + 2.0 / 3.0 * dd * m_recip;
            delta_mean.abs() > eps
        }

        fn detect(&mut self) -> bool {
            self.tick += 1;
            let min = f64::from(self.config.min_window_length);
            if !(self.tick.is_multiple_of(u64::from(self.config.clock))
                && self.width > f64::from(self.config.grace_period))
            {
                return false;
            }
            let mut changed = false;
            'again: loop {
                let (mut n0, mut n1, mut u0, mut u1) = (0.0, self.width, 0.0, self.total);
                for lvl in (0..self.levels.len()).rev() {
                    let size = (1u64 << lvl) as f64;
                    let len = self.levels[lvl].totals.len();
                    for k in 0..len {
                        let t = self.levels[lvl].totals[k];
                        n0 += size;
                        n1 -= size;
                        u0 += t;
                        u1 -= t;
                        if lvl == 0 && k == len - 1 {
                            break 'again;
                        }
                        if n1 >= min && n0 >= min && self.cut(n0, n1, u0 / n0 - u1 / n1) {
                            changed = true;
                            if self.width > 0.0 {
                                self.delete_oldest();
                                continue 'again;
                            }
                        }
                    }
                }
                break;
            }
            changed
        }
    }

    /// splitmix64 uniforms in [0, 1).
    fn uniforms(seed: u64) -> impl FnMut() -> f64 {
        let mut s = seed;
        move || {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// Streams of several shapes: stationary, abrupt and small shifts (cut points near the
    /// threshold), a slow ramp, a variance change, a large offset, tiny and constant values.
    fn streams(seed: u64, n: usize) -> Vec<(String, Vec<f64>)> {
        let mut u = uniforms(seed);
        let mut noise = move |sd: f64| (u() + u() + u() - 1.5) * 2.0 * sd;
        let mut out = Vec::new();
        out.push((
            "stationary".into(),
            (0..n).map(|_| 0.8 + noise(0.1)).collect(),
        ));
        for shift in [0.5, 0.02, 0.005] {
            out.push((
                format!("shift {shift}"),
                (0..n)
                    .map(|i| 0.3 + noise(0.1) + if i > n / 2 { shift } else { 0.0 })
                    .collect(),
            ));
        }
        out.push((
            "ramp".into(),
            (0..n)
                .map(|i| noise(0.2) + i as f64 / n as f64 * 0.1)
                .collect(),
        ));
        out.push((
            "variance".into(),
            (0..n)
                .map(|i| noise(if i > n / 3 { 0.3 } else { 0.05 }))
                .collect(),
        ));
        out.push((
            "offset".into(),
            (0..n)
                .map(|i| 1e6 + noise(1.0) + (i / 3000) as f64)
                .collect(),
        ));
        out.push((
            "tiny".into(),
            (0..n)
                .map(|i| 1e-9 * (noise(1.0) + (i / 5000) as f64))
                .collect(),
        ));
        out.push(("constant".into(), vec![2.5; n / 4]));
        out.push((
            "steps".into(),
            (0..n)
                .map(|i| ((i / 1500) % 3) as f64 + noise(0.5))
                .collect(),
        ));
        out
    }

    fn configs() -> Vec<AdwinConfig> {
        let d = AdwinConfig::default();
        vec![
            d.clone(),
            AdwinConfig {
                clock: 1,
                ..d.clone()
            },
            AdwinConfig {
                delta: 0.5,
                max_buckets: 2,
                ..d.clone()
            },
            AdwinConfig {
                delta: 1e-9,
                min_window_length: 40,
                grace_period: 0,
                ..d.clone()
            },
            AdwinConfig {
                max_buckets: 2,
                clock: 7,
                min_window_length: 1,
                ..d
            },
        ]
    }

    #[test]
    fn equals_the_reference_scan_on_every_stream_and_setting() {
        let (mut hits_total, mut skipped) = (0, 0);
        for (ci, cfg) in configs().into_iter().enumerate() {
            for (name, xs) in streams(ci as u64 + 1, 40_000) {
                let mut fast = Adwin::new(cfg.clone()).unwrap();
                let mut slow = Reference::new(cfg.clone());
                let mut want = Vec::new();
                for (i, &x) in xs.iter().enumerate() {
                    let (armed, w) = (fast.guard.armed, fast.guard.w);
                    let (a, b) = (fast.update(x).unwrap(), slow.step(x));
                    assert_eq!(a, b, "{name} with {cfg:?}: value {i}");
                    hits_total += usize::from(a);
                    if a {
                        want.push(i);
                    }
                    // A check the certificate answered.
                    skipped += usize::from(
                        fast.until_check == cfg.clock
                            && armed
                            && fast.guard.armed
                            && fast.guard.w == w,
                    );
                    if i % 4999 == 0 || a {
                        let s = AdwinState::from(fast.clone());
                        assert_eq!(s.levels, slow.levels, "{name}: value {i}");
                        assert_eq!(
                            (s.total.to_bits(), s.variance.to_bits(), s.width.to_bits()),
                            (
                                slow.total.to_bits(),
                                slow.variance.to_bits(),
                                slow.width.to_bits()
                            ),
                            "{name}: value {i}"
                        );
                    }
                }
                // Many at a time, in uneven batches (blocks and checks fall anywhere).
                let mut many = Adwin::new(cfg.clone()).unwrap();
                let (mut got, mut at, mut size) = (Vec::new(), 0, 1);
                while at < xs.len() {
                    let end = (at + size).min(xs.len());
                    got.extend(
                        many.update_many(&xs[at..end])
                            .unwrap()
                            .iter()
                            .map(|h| h + at),
                    );
                    (at, size) = (end, (size * 7 + 3) % 1000);
                }
                assert_eq!(got, want, "{name} with {cfg:?}: update_many");
                assert_eq!(many, fast, "{name} with {cfg:?}: update_many state");
                // Single values and batches mixed: values left pending by `update` go into the
                // rows before a batch's.
                let mut mixed = Adwin::new(cfg.clone()).unwrap();
                let (mut got, mut at, mut size) = (Vec::new(), 0, 1);
                while at < xs.len() {
                    let end = (at + size).min(xs.len());
                    if size % 3 == 0 {
                        for (i, &x) in xs.iter().enumerate().take(end).skip(at) {
                            if mixed.update(x).unwrap() {
                                got.push(i);
                            }
                        }
                    } else {
                        let hits = mixed.update_many(&xs[at..end]).unwrap();
                        got.extend(hits.iter().map(|h| h + at));
                    }
                    (at, size) = (end, (size * 5 + 1) % 700);
                }
                assert_eq!(got, want, "{name} with {cfg:?}: mixed");
                assert_eq!(mixed, fast, "{name} with {cfg:?}: mixed state");
            }
        }
        // The test means something: changes were found, and checks were skipped.
        assert!(hits_total > 50, "{hits_total}");
        assert!(skipped > 10_000, "{skipped}");
    }

    #[test]
    fn a_long_stationary_stream_skips_most_scans() {
        let mut u = uniforms(9);
        let xs: Vec<f64> = (0..300_000).map(|_| u()).collect();
        let mut a = Adwin::new(AdwinConfig::default()).unwrap();
        let mut slow = Reference::new(AdwinConfig::default());
        let mut scans = 0;
        for &x in &xs {
            let before = (a.guard.armed, a.guard.w);
            assert_eq!(a.update(x).unwrap(), slow.step(x));
            if a.tick.is_multiple_of(32) && (a.guard.armed, a.guard.w) != before {
                scans += 1;
            }
        }
        // 9,375 checks; a scan every few dozen at most.
        assert!(scans < 9_375 / 8, "{scans} scans");
    }

    #[test]
    fn adwin_variance_matches_direct() {
        let mut a = Adwin::new(AdwinConfig::default()).unwrap();
        for v in [1.0, 2.0, 3.0, 4.0, 5.0] {
            a.update(v).unwrap();
        }
        assert_eq!(a.width(), 5.0);
        assert!((a.estimation() - 3.0).abs() < 1e-12);
        assert!((a.variance() - 2.0).abs() < 1e-12);
    }

    #[test]
    fn adwin_detects_a_jump() {
        let mut a = Adwin::new(AdwinConfig::default()).unwrap();
        let xs: Vec<f64> = (0..2000)
            .map(|i| if i < 1000 { 0.0 } else { 1.0 })
            .collect();
        let hits = a.update_many(&xs).unwrap();
        assert!(
            !hits.is_empty() && hits[0] >= 1000 && hits[0] < 1100,
            "{hits:?}"
        );
    }

    #[test]
    fn saved_state_round_trips_and_bad_rows_are_refused() {
        let mut u = uniforms(3);
        let mut a = Adwin::new(AdwinConfig::default()).unwrap();
        let xs: Vec<f64> = (0..5000).map(|_| u()).collect();
        a.update_many(&xs).unwrap();
        let s = AdwinState::from(a.clone());
        let mut b = Adwin::try_from(s.clone()).unwrap();
        assert_eq!(a, b);
        let more: Vec<f64> = (0..5000).map(|i| u() + f64::from(i > 2000)).collect();
        assert_eq!(a.update_many(&more).unwrap(), b.update_many(&more).unwrap());
        let mut bad = s.clone();
        bad.levels[0].totals.push(1.0);
        assert!(matches!(Adwin::try_from(bad), Err(Error::Corrupt(_))));
        let mut full = s;
        full.levels[1].totals.resize(6, 0.0);
        full.levels[1].variances.resize(6, 0.0);
        assert!(matches!(Adwin::try_from(full), Err(Error::Corrupt(_))));
        for max_buckets in [0, 1, MAX_BUCKETS + 1] {
            let cfg = AdwinConfig {
                max_buckets,
                ..Default::default()
            };
            assert!(matches!(Adwin::new(cfg), Err(Error::InvalidConfig { .. })));
        }
    }
}
