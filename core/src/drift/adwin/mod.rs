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
use crate::error::Result;
use crate::models::Artifact;

mod config;
mod guard;
mod rows;
mod state;
#[cfg(test)]
mod tests;

pub use config::AdwinConfig;
use guard::{Guard, Q, RHO};
use rows::{BLOCK, OFFSETS, Rows};
use state::AdwinState;

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
        // Sums of `n` values within ±MAX_STREAM_VALUE: a state beyond these bounds was not
        // made by updates, and the next update could overflow it to a value no file can hold.
        let sum_bound = |n: f64| n.max(1.0) * MAX_STREAM_VALUE;
        let square_bound = |n: f64| n.max(1.0) * 4.0 * MAX_STREAM_VALUE * MAX_STREAM_VALUE;
        corrupt_unless(
            t.abs() <= sum_bound(w) && v.abs() <= square_bound(w),
            || {
                format!(
                    "ADWIN total {t} or variance {v} is beyond what {w} stream values can sum to"
                )
            },
        )?;
        let mut held = 0.0;
        for i in 0..self.rows.count() {
            let n = 2f64.powi(i as i32);
            for k in 0..self.rows.len(i) {
                let [bt, bv] = self.rows.get(i, k);
                corrupt_unless(
                    bt.abs() <= sum_bound(n) && bv.abs() <= square_bound(n),
                    || {
                        format!(
                            "ADWIN bucket {k} of row {i} holds {bt}, {bv}: beyond what {n} stream values can sum to"
                        )
                    },
                )?;
                held += n;
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
