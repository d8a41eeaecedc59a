//! The KL engine: the sliding window and its running KL sums, O(1) per score whatever the
//! number of bins, and no logarithm.
//!
//! The detector talks to it through [`Engine`] alone: [`Engine::rebase`] for a new baseline,
//! [`Engine::clear`], [`Engine::restore`] for a loaded window, [`Engine::run`] to add scores,
//! and read-only views of the window. Nothing here is saved: a loaded detector rebuilds the
//! engine from its scores and baseline.
//!
//! What the engine promises, and the tests that hold it (`engine/tests.rs`):
//! - every loop shape (`add`'s one score, the filling loop, the chunked steady-state loop with
//!   and without the short window, chunk buffers of 8 or [`CHUNK`] scores, joint tables or
//!   plain ones, per-score results or not) gives the same bits as one score at a time
//!   (`every_loop_shape_agrees_with_one_score_at_a_time`, `hot_loop_equals_the_running_sums`);
//! - a running KL stays within 1e-9 of the KL summed directly from the counts
//!   (`running_kl_stays_within_1e9_of_the_direct_sum`), and within 1e-10 of a plain model
//!   that keeps the scores and sums KL from scratch (`engine_equals_a_reference_model`);
//! - the running sums are recomputed exactly every [`RESYNC`] slides, on a schedule set by the
//!   number of scores seen, so a loaded detector, whose sums are recomputed on load, gives the
//!   same bits as the saved one from the next recompute on (`loaded_detector_rejoins_bit_for_bit`).

mod hot;
mod scale;
#[cfg(test)]
mod tests;

use hot::{CHUNK, Hot, NoWindow};
use scale::{BYTE_SLOTS, Lane, RESYNC, SMALL_BINS, Scale, larger};

use super::calibrate::smoothed;
use super::config::{KlDriftConfig, Thresholds};
use super::report::{DriftBatch, Episodes};
use crate::error::{Error, Result};

/// The sliding window of scores, its histograms (the main window and the short one) and their
/// running KL sums against the bound baseline.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Engine {
    // Sliding window as a ring: scores and their bins; while filling `head` is 0 and the ring
    // grows, once full `head` is the oldest score (overwritten by the next one).
    ring: Vec<f64>,
    ring_bins: Vec<u32>,
    head: usize,
    // The main window's histogram and KL; the short window (last `short.window` scores) if on.
    long: Scale,
    short: Option<Scale>,
    // ln q_i of the smoothed baseline and ε Σ ln q_i; empty before a baseline is bound.
    ln_q: Vec<f64>,
    offset: f64,
}

/// What [`Engine::run`] checks against and where its results go: the detector's side.
pub(super) struct Checks<'a> {
    /// The main window's thresholds.
    pub t: Thresholds,
    /// The short window's ([`NEVER`](super::config::NEVER) when it is off).
    pub st: Thresholds,
    /// The timestamp of the run's drift events.
    pub ts: f64,
    pub max_events: usize,
    pub episodes: &'a mut Episodes,
    pub out: &'a mut DriftBatch,
    /// The hour bucket's (checks, sum of KLs, largest KL) of full windows, accumulated.
    pub hour: (u64, f64, f64),
}

impl Engine {
    /// An empty window of `config.window` scores, no baseline bound (tables allocated fallibly:
    /// a machine short of memory gets an error, not an abort).
    pub(super) fn new(config: &KlDriftConfig) -> Result<Self> {
        Ok(Self {
            ring: Vec::new(),
            ring_bins: Vec::new(),
            head: 0,
            long: Scale::new(config.window, config)?,
            short: None,
            ln_q: Vec::new(),
            offset: 0.0,
        })
    }

    /// Binds a new baseline histogram `counts` with a short window of `short` scores (or none),
    /// and empties the window. The short window's tables are built first (kept when the size is
    /// the same), so an allocation failure leaves the engine as it was.
    pub(super) fn rebase(
        &mut self,
        counts: &[u64],
        short: Option<usize>,
        config: &KlDriftConfig,
    ) -> Result<()> {
        let keep = matches!((&self.short, short), (Some(s), Some(w)) if s.window == w);
        if !keep {
            self.short = short.map(|w| Scale::new(w, config)).transpose()?;
        }
        self.ln_q = smoothed(counts, config.epsilon)
            .iter()
            .map(|q| q.ln())
            .collect();
        self.offset = config.epsilon * self.ln_q.iter().sum::<f64>();
        self.clear();
        Ok(())
    }

    /// Empties the window. The tables depend only on the window sizes and the baseline: kept,
    /// so this allocates nothing but the baseline-bound tables.
    pub(super) fn clear(&mut self) {
        self.ring.clear();
        self.ring_bins.clear();
        self.head = 0;
        self.long.clear();
        if let Some(s) = &mut self.short {
            s.clear();
        }
        if !self.ln_q.is_empty() {
            self.long.bind(&self.ln_q);
            if let Some(s) = &mut self.short {
                s.bind(&self.ln_q);
            }
        }
    }

    /// Refills an empty, bound (or baseline-less) engine with a saved window, `scores` oldest
    /// first, of a detector that has seen `n_seen` scores since its last reset. The running sums
    /// are recomputed from the counts, and their resync schedule set from `n_seen`: from the
    /// next exact recompute on, the same bits as the detector that was saved.
    pub(super) fn restore(
        &mut self,
        scores: &[f64],
        n_seen: u64,
        config: &KlDriftConfig,
    ) -> Result<()> {
        let len = scores.len();
        if len > config.window {
            return Err(Error::Corrupt(format!(
                "window holds {len} scores, more than its size {}",
                config.window
            )));
        }
        for (i, &x) in scores.iter().enumerate() {
            if !x.is_finite() {
                return Err(Error::Corrupt(format!(
                    "score {i} is {x}: scores must be finite numbers"
                )));
            }
            let bin = config.bin_of(x).0;
            self.ring.push(x);
            self.ring_bins.push(bin as u32);
            self.long.counts[bin] += 1;
            if let Some(sh) = &mut self.short
                && i + sh.window >= len
            {
                sh.counts[bin] += 1;
            }
        }
        if !self.ln_q.is_empty() {
            for scale in std::iter::once(&mut self.long).chain(&mut self.short) {
                // The main window counts as full only at its size, the short one from its size on.
                if len < scale.window {
                    continue;
                }
                scale.recompute();
                let slides = n_seen.saturating_sub(scale.window as u64);
                scale.stale = (slides % u64::from(RESYNC)) as u32;
            }
        }
        Ok(())
    }

    /// Scores in the window.
    pub(super) fn len(&self) -> usize {
        self.ring.len()
    }

    /// The window's scores, oldest first.
    pub(super) fn scores(&self) -> impl Iterator<Item = f64> + '_ {
        self.ring[self.head..]
            .iter()
            .chain(&self.ring[..self.head])
            .copied()
    }

    /// The main window's histogram.
    pub(super) fn counts(&self) -> &[u64] {
        &self.long.counts
    }

    /// The short window's size and histogram, when it is on.
    pub(super) fn short(&self) -> Option<(usize, &[u64])> {
        self.short.as_ref().map(|s| (s.window, &s.counts[..]))
    }

    /// Adds `scores` (finite: the detector checked them) to the window, checking after each;
    /// `each(kls, drift_flags)` sees every check, in order, a run of them at a time (with
    /// `PER_SCORE`; without it, only runs that the filling loop and `add` make). Needs a bound
    /// baseline.
    #[inline(always)]
    pub(super) fn run<const PER_SCORE: bool>(
        &mut self,
        config: &KlDriftConfig,
        scores: &[f64],
        checks: &mut Checks,
        mut each: impl FnMut(&[f64], &[bool]),
    ) {
        let window = config.window;
        let Self {
            ring,
            ring_bins,
            head,
            long,
            short,
            ln_q,
            offset,
        } = self;
        let (ln_q, offset) = (&ln_q[..], *offset);
        let (t, st, ts, max_events) = (checks.t, checks.st, checks.ts, checks.max_events);
        let (mut hn, mut hsum, mut hmax) = checks.hour;
        let episodes = &mut *checks.episodes;
        let out = &mut *checks.out;
        let mut i = 0;
        // Filling: every probability changes with n, so the KL is summed over all bins.
        while i < scores.len() && ring.len() < window {
            let x = scores[i];
            let (bin, _) = config.bin_of(x);
            ring.push(x);
            ring_bins.push(bin as u32);
            long.counts[bin] += 1;
            let len = ring.len();
            let mut short_kl = 0.0;
            if let Some(s) = short.as_mut() {
                if len > s.window {
                    s.step_one(ring_bins[len - 1 - s.window] as usize, bin, offset);
                } else {
                    s.counts[bin] += 1;
                    if len == s.window {
                        s.recompute();
                    }
                }
                if len >= s.window {
                    short_kl = s.kl(offset);
                }
            }
            let kl = if len == window {
                long.recompute();
                long.kl(offset)
            } else {
                let n = len as f64;
                let eps = config.epsilon;
                let norm = 1.0 + config.bins as f64 * eps;
                let mut kl = 0.0;
                for (c, lq) in long.counts.iter().zip(ln_q) {
                    let p = (*c as f64 / n + eps) / norm;
                    kl += p * (p.ln() - lq);
                }
                kl
            };
            out.kl = kl;
            if len == window {
                hn += 1;
                hsum += kl;
                hmax = hmax.max(kl);
                out.max_kl = out.max_kl.max(kl);
                let drift = kl > t.drift || short_kl > st.drift;
                if episodes.record(max_events, ts, kl, short_kl, &t, &st) {
                    out.drift_starts.push(i);
                }
                out.drift = drift;
                out.n_drift += usize::from(drift);
                each(&[kl], &[drift]);
            } else {
                each(&[kl], &[false]);
            }
            i += 1;
        }
        // Full window: O(1) per score. The score at `head` (the oldest) leaves, the new one takes
        // its place; the short window's leaving score sits `short.window` places before.
        let steady = i < scores.len();
        let mut batch_max = out.max_kl;
        if steady && scores.len() - i == 1 {
            // One score (`add`): both windows slide once, without the chunk loop's set-up;
            // the same arithmetic and bookkeeping as a chunk of one.
            let x = scores[i];
            let (bin, _) = config.bin_of(x);
            let (w, h) = (window, *head);
            let old = ring_bins[h] as usize;
            let short_kl = match short.as_mut() {
                Some(s) => {
                    let leave = ring_bins[(h + w - s.window) % w] as usize;
                    s.step_one(leave, bin, offset)
                }
                None => 0.0,
            };
            let kl = long.step_one(old, bin, offset);
            (ring_bins[h], ring[h]) = (bin as u32, x);
            *head = if h + 1 == w { 0 } else { h + 1 };
            hsum += kl;
            batch_max = larger(kl, batch_max);
            let drift = (kl > t.drift) | (short_kl > st.drift);
            out.n_drift += usize::from(drift);
            if (drift || episodes.in_drift)
                && episodes.record(max_events, ts, kl, short_kl, &t, &st)
            {
                out.drift_starts.push(i);
            }
            each(&[kl], &[drift]);
            hn += 1;
            hmax = hmax.max(batch_max);
            out.max_kl = batch_max;
            out.kl = kl;
            out.drift = drift;
        } else if steady {
            let rest = &scores[i..];
            let mut hot = Hot {
                lo: config.range.0,
                hi: config.range.1,
                bins: config.bins,
                ring,
                ring_bins,
                head,
                short_w: short.as_ref().map_or(0, |s| s.window),
                t,
                st,
                episodes,
                max_events,
                ts,
                starts: &mut out.drift_starts,
                first: i,
                n_drift: 0,
                hsum,
                max: batch_max,
            };
            // Full-size chunk buffers pay for their setup over a few scores (`add` passes one);
            // both sizes give the same bits.
            const SMALL: usize = 8;
            match (short.as_mut(), rest.len() > SMALL) {
                (Some(s), true) => hot.run::<CHUNK, BYTE_SLOTS, PER_SCORE, _>(
                    Lane::new(long, offset),
                    Lane::new(s, offset),
                    rest,
                    &mut each,
                ),
                (Some(s), false) => hot.run::<SMALL, { 2 * SMALL_BINS }, PER_SCORE, _>(
                    Lane::new(long, offset),
                    Lane::new(s, offset),
                    rest,
                    &mut each,
                ),
                (None, true) => hot.run::<CHUNK, BYTE_SLOTS, PER_SCORE, _>(
                    Lane::new(long, offset),
                    NoWindow,
                    rest,
                    &mut each,
                ),
                (None, false) => hot.run::<SMALL, { 2 * SMALL_BINS }, PER_SCORE, _>(
                    Lane::new(long, offset),
                    NoWindow,
                    rest,
                    &mut each,
                ),
            }
            out.n_drift += hot.n_drift;
            (hsum, batch_max) = (hot.hsum, hot.max);
            hn += (scores.len() - i) as u64;
            hmax = hmax.max(batch_max);
            out.max_kl = batch_max;
            out.kl = long.kl(offset);
            let short_kl = short.as_ref().map_or(0.0, |s| s.kl(offset));
            out.drift = out.kl > t.drift || short_kl > st.drift;
        }
        checks.hour = (hn, hsum, hmax);
    }
}
