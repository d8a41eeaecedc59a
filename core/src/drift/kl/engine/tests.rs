//! The engine against plain models: every loop shape against one score at a time (bit for
//! bit), the running sums against the direct sum and against a reference model that keeps the
//! scores and sums KL from scratch, and loaded detectors against saved ones.

use std::collections::VecDeque;

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::super::config::NEVER;
use super::super::{DriftCheck, KlDriftConfig, KlDriftDetector};
use super::scale::{RESYNC, Scale};

/// Beta(8, 2) by order statistics: the 8th smallest of 9 uniforms.
fn beta82(rng: &mut Xoshiro256PlusPlus, n: usize, shift: f64) -> Vec<f64> {
    (0..n)
        .map(|_| {
            let mut u: [f64; 9] = std::array::from_fn(|_| rng.r#gen());
            u.sort_by(f64::total_cmp);
            (u[7] + shift).clamp(0.0, 1.0)
        })
        .collect()
}

/// A seeded baseline of 20,000 drift-free scores, then a stream made of `parts` (length,
/// mean shift) drawn in order from the same generator.
fn base_and_stream(seed: u64, parts: [(usize, f64); 3]) -> (Vec<f64>, Vec<f64>) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let base = beta82(&mut rng, 20_000, 0.0);
    let stream = (parts.iter())
        .flat_map(|&(n, shift)| beta82(&mut rng, n, shift))
        .collect();
    (base, stream)
}

#[test]
fn incremental_kl_equals_direct() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let base = beta82(&mut rng, 5000, 0.0);
    let mut d = KlDriftDetector::from_baseline(
        &base,
        KlDriftConfig {
            window: 200,
            ..KlDriftConfig::fixed()
        },
    )
    .unwrap();
    for s in beta82(&mut rng, 700, -0.05) {
        let c = d.add(s, Some(0.0)).unwrap();
        assert!((c.kl - d.status().unwrap().kl).abs() < 1e-12);
    }
}

#[test]
fn running_kl_stays_within_1e9_of_the_direct_sum() {
    // 60k scores: many resync periods, drift-free then shifted then back.
    let (base, stream) = base_and_stream(5, [(20_000, 0.0), (20_000, -0.08), (20_000, 0.0)]);
    let mut d = KlDriftDetector::from_baseline(&base, KlDriftConfig::default()).unwrap();
    assert_eq!(d.engine.short.as_ref().map(|s| s.window), Some(250));
    let mut worst = (0.0f64, 0.0f64);
    for (i, &x) in stream.iter().enumerate() {
        let c = d.add(x, Some(0.0)).unwrap();
        if i % 97 == 0 || i == stream.len() - 1 {
            let st = d.status().unwrap();
            worst.0 = worst.0.max((c.kl - st.kl).abs());
            if i >= 1000 {
                worst.1 = worst.1.max(
                    (d.engine.short.as_ref().unwrap().kl(d.engine.offset) - st.short_kl).abs(),
                );
            }
        }
    }
    assert!(worst.0 < 1e-9 && worst.1 < 1e-9, "{worst:?}");
}

#[test]
fn add_batch_equals_add_many() {
    let (base, stream) = base_and_stream(6, [(3_000, 0.0), (3_000, -0.1), (3_000, 0.0)]);
    let mut a = KlDriftDetector::from_baseline(&base, KlDriftConfig::default()).unwrap();
    let mut b = a.clone();
    let mut starts = Vec::new();
    let mut prev = a.episodes.events.len();
    let mut n_drift = 0;
    for (i, &x) in stream.iter().enumerate() {
        n_drift += usize::from(a.add_many(&[x], Some(1e9)).unwrap()[0].drift);
        if a.episodes.events.len() > prev {
            starts.push(i);
        }
        prev = a.episodes.events.len();
    }
    let r = b.add_batch(&stream, Some(1e9)).unwrap();
    assert!(!starts.is_empty());
    assert_eq!(r.drift_starts, starts);
    assert_eq!(r.n_drift, n_drift);
    assert_eq!((r.n, r.drift), (stream.len(), a.status().unwrap().drift));
    assert_eq!(r.kl, a.engine.long.kl(a.engine.offset));
    assert_eq!(a, b);
    assert_eq!(a.engine, b.engine);
    assert_eq!(a.summary(1.0).unwrap(), b.summary(1.0).unwrap());
    // Uneven batches (shorter and longer than the window, ending anywhere in the ring):
    // the same window, scores included (only the last `window` of a batch are written).
    let mut c = KlDriftDetector::from_baseline(&base, KlDriftConfig::default()).unwrap();
    let mut rest = &stream[..];
    for n in [1, 7, 999, 1000, 1001, 2, 2500, 333].iter().cycle() {
        let (now, later) = rest.split_at((*n).min(rest.len()));
        c.add_batch(now, Some(1e9)).unwrap();
        rest = later;
        if rest.is_empty() {
            break;
        }
    }
    assert_eq!(a, c);
    assert_eq!(a.engine, c.engine);
    assert_eq!(a.status().unwrap(), c.status().unwrap());
    assert!(b.add_batch(&[0.5, f64::NAN], None).is_err());
    // An infinity is outside the range too: still rejected, not counted.
    let out = b.out_of_range;
    assert!(b.add_batch(&[2.0, f64::NEG_INFINITY], None).is_err());
    assert!(b.add_many(&[f64::INFINITY], None).is_err());
    assert_eq!(b.out_of_range, out);
    assert_eq!(b.n_seen, stream.len() as u64);
}

/// The steady-state loop against the running sums updated one score at a time with the same
/// tables (the arithmetic the loops must keep; `engine_equals_a_reference_model` checks the
/// tables themselves), score by score and window by window
/// (bins from `bin_of`, each running sum updated by its count and bin table differences, the exact
/// recompute every `RESYNC` slides, each window's KL, the flag, the history's sum and
/// maximum): bit for bit, in every loop shape (both windows in one loop or the main one
/// alone, chunk buffers of 8 and `CHUNK`, fixed-size bin arrays or slices, the range's
/// width a power of two or not).
#[test]
fn hot_loop_equals_the_running_sums() {
    let (base, stream) = base_and_stream(12, [(5_000, 0.0), (4_000, -0.08), (3_000, 0.0)]);
    let d = KlDriftConfig::default();
    for config in [
        d.clone(),
        KlDriftConfig {
            short_window: Some(0),
            ..d.clone()
        },
        KlDriftConfig {
            bins: 23,
            window: 700,
            short_window: Some(130),
            ..d.clone()
        },
        KlDriftConfig {
            range: (0.05, 0.95),
            window: 600,
            ..d.clone()
        },
    ] {
        let mut det = KlDriftDetector::from_baseline(&base, config.clone()).unwrap();
        let w = config.window;
        let mut short = det.engine.short.clone();
        det.add_many(&stream[..w], Some(0.0)).unwrap();
        let b = det.baseline.clone().unwrap();
        let offset = det.engine.offset;
        let (t, st) = (b.thresholds, b.short.map_or(NEVER, |s| s.thresholds));
        let slide = |sc: &mut Scale, out: usize, inn: usize| {
            sc.counts[out] -= 1;
            let (co, ci) = (sc.counts[out] as usize, sc.counts[inn] as usize);
            sc.counts[inn] += 1;
            sc.stale += 1;
            if sc.stale == RESYNC {
                sc.recompute();
            } else {
                sc.r += (sc.g[ci] - sc.l[inn]) - (sc.g[co] - sc.l[out]);
            }
            sc.kl(offset)
        };
        // While the main window fills, the short one fills, then slides, score by score.
        if let Some(s) = short.as_mut() {
            let first: Vec<usize> = stream[..w].iter().map(|&x| config.bin_of(x).0).collect();
            for (len, &inn) in (1..).zip(&first) {
                if len > s.window {
                    slide(s, first[len - 1 - s.window], inn);
                } else {
                    s.counts[inn] += 1;
                    if len == s.window {
                        s.recompute();
                    }
                }
            }
            assert_eq!(
                s.r.to_bits(),
                det.engine.short.as_ref().unwrap().r.to_bits()
            );
            assert_eq!(Some(&*s), det.engine.short.as_ref(), "{config:?}");
        }
        // The steady-state model starts from the state the detector reached while filling.
        let mut long = det.engine.long.clone();
        let mut bins: VecDeque<usize> = det.engine.scores().map(|x| config.bin_of(x).0).collect();
        let last = det.history.back().unwrap();
        let (mut sum, mut max) = (last.sum, last.max);
        let mut want = Vec::new();
        for &x in &stream[w..] {
            let inn = config.bin_of(x).0;
            let kl = slide(&mut long, bins[0], inn);
            let short_kl = match short.as_mut() {
                Some(s) => slide(s, bins[w - s.window], inn),
                None => 0.0,
            };
            bins.pop_front();
            bins.push_back(inn);
            sum += kl;
            max = if kl > max { kl } else { max };
            want.push(DriftCheck {
                drift: kl > t.drift || short_kl > st.drift,
                kl,
            });
        }
        let mut one = det.clone();
        // `add_batch` slides quiet chunks without storing their KLs and slides a chunk
        // again when a drift starts in it: the same bits.
        let mut batch = det.clone();
        let r = batch.add_batch(&stream[w..], Some(0.0)).unwrap();
        assert_eq!(r.n_drift, want.iter().filter(|c| c.drift).count());
        let mut got = det.add_many(&stream[w..], Some(0.0)).unwrap();
        assert_eq!(got, want, "{config:?}");
        got.clear();
        for &x in &stream[w..] {
            got.push(one.add(x, Some(0.0)).unwrap());
        }
        assert_eq!(got, want, "{config:?}");
        assert!(want.iter().any(|c| c.drift), "{config:?}");
        let (lo, hi) = config.range;
        let n_out = stream.iter().filter(|&&x| x < lo || x > hi).count() as u64;
        assert_eq!(batch, det, "{config:?}");
        assert_eq!(batch.engine, det.engine, "{config:?}");
        for d in [&det, &one, &batch] {
            assert_eq!(d.out_of_range, n_out, "{config:?}");
            assert_eq!(
                (&d.engine.long, &d.engine.short),
                (&long, &short),
                "{config:?}"
            );
            let h = d.history.back().unwrap();
            assert_eq!(
                (h.sum.to_bits(), h.max.to_bits()),
                (sum.to_bits(), max.to_bits())
            );
        }
    }
}

/// The steady-state loop has several shapes (chunk buffers of 8 or `CHUNK`, fixed-size bin
/// arrays up to `SMALL_BINS` or slices, a short window shorter than a chunk or nearly as
/// long as the window, off): one score at a time and whole batches agree bit for bit.
#[test]
fn every_loop_shape_agrees_with_one_score_at_a_time() {
    let (base, stream) = base_and_stream(9, [(6_000, 0.0), (4_000, -0.06), (3_000, 0.0)]);
    let d = KlDriftConfig::default();
    for config in [
        d.clone(),
        KlDriftConfig {
            bins: 37,
            window: 3000,
            ..d.clone()
        },
        KlDriftConfig {
            bins: 12,
            window: 500,
            short_window: Some(77),
            ..d.clone()
        },
        KlDriftConfig {
            window: 1023,
            short_window: Some(1000),
            ..d.clone()
        },
        KlDriftConfig {
            short_window: Some(0),
            ..d.clone()
        },
    ] {
        let mut one = KlDriftDetector::from_baseline(&base, config.clone()).unwrap();
        let mut many = one.clone();
        let mut checks = Vec::new();
        for &x in &stream {
            checks.push(one.add(x, Some(5.0)).unwrap());
        }
        let mut got = Vec::new();
        for part in stream.chunks(2_777) {
            got.extend(many.add_many(part, Some(5.0)).unwrap());
        }
        assert_eq!(checks, got, "{config:?}");
        assert_eq!(one, many, "{config:?}");
        assert_eq!(one.engine, many.engine, "{config:?}");
        assert!(checks.iter().any(|c| c.drift), "{config:?}");
    }
}

/// A plain KL detector that shares nothing with the engine but the definitions: numpy's bins
/// (the last one closed, scores outside the range in the edge bins), the smoothing
/// `(c / n + ε) / (1 + bins · ε)` and KL = Σ p ln(p / q), summed from the integer counts of a
/// queue of scores after every score; drift episodes with the same hysteresis.
struct Reference {
    config: KlDriftConfig,
    ln_q: Vec<f64>,
    short: usize,
    bins: VecDeque<usize>,
    counts: Vec<u64>,
    short_counts: Vec<u64>,
    in_drift: bool,
}

impl Reference {
    fn bin(config: &KlDriftConfig, x: f64) -> usize {
        let (lo, hi) = config.range;
        let pos = (x - lo) / (hi - lo) * config.bins as f64;
        if pos <= 0.0 {
            0
        } else {
            (pos.floor() as usize).min(config.bins - 1)
        }
    }

    fn smoothed(counts: &[u64], eps: f64) -> Vec<f64> {
        let n: u64 = counts.iter().sum();
        let k = counts.len() as f64;
        (counts.iter())
            .map(|&c| (c as f64 / n as f64 + eps) / (1.0 + k * eps))
            .collect()
    }

    fn new(config: &KlDriftConfig, baseline: &[f64], short: usize) -> (Self, Vec<u64>) {
        let mut base = vec![0; config.bins];
        for &x in baseline {
            base[Self::bin(config, x)] += 1;
        }
        let ln_q = (Self::smoothed(&base, config.epsilon).iter())
            .map(|q| q.ln())
            .collect();
        let r = Self {
            config: config.clone(),
            ln_q,
            short,
            bins: VecDeque::new(),
            counts: vec![0; config.bins],
            short_counts: vec![0; config.bins],
            in_drift: false,
        };
        (r, base)
    }

    fn kl(&self, counts: &[u64]) -> f64 {
        (Self::smoothed(counts, self.config.epsilon).iter())
            .zip(&self.ln_q)
            .map(|(p, lq)| p * (p.ln() - lq))
            .sum()
    }

    /// Adds a score: (KL of the main window, KL of the short one or 0, whether the main one is
    /// full).
    fn add(&mut self, x: f64) -> (f64, f64, bool) {
        let b = Self::bin(&self.config, x);
        self.bins.push_back(b);
        self.counts[b] += 1;
        self.short_counts[b] += 1;
        if self.bins.len() > self.config.window {
            let old = self.bins.pop_front().unwrap();
            self.counts[old] -= 1;
        }
        let n = self.bins.len();
        if self.short > 0 && n > self.short {
            self.short_counts[self.bins[n - 1 - self.short]] -= 1;
        }
        let short_kl = if self.short > 0 && n >= self.short {
            self.kl(&self.short_counts)
        } else {
            0.0
        };
        (self.kl(&self.counts), short_kl, n == self.config.window)
    }
}

/// The engine's KLs within 1e-10 of the reference model's, score by score, for the main and
/// the short window, in `add_many` and `add_batch`, over drift-free and shifted streams in
/// several configurations; the same flags and drift starts wherever a KL is not within that of
/// a threshold.
#[test]
fn engine_equals_a_reference_model() {
    const TOL: f64 = 1e-10;
    let (base, stream) = base_and_stream(21, [(5_000, 0.0), (4_000, -0.08), (3_000, 0.0)]);
    let d = KlDriftConfig::default();
    for config in [
        d.clone(),
        KlDriftConfig {
            short_window: Some(0),
            ..d.clone()
        },
        KlDriftConfig {
            bins: 23,
            window: 700,
            short_window: Some(130),
            ..d.clone()
        },
        KlDriftConfig {
            range: (0.05, 0.95),
            window: 600,
            ..d.clone()
        },
        KlDriftConfig {
            window: 400,
            ..KlDriftConfig::fixed()
        },
    ] {
        let mut det = KlDriftDetector::from_baseline(&base, config.clone()).unwrap();
        let st = det.status().unwrap();
        let (t, short_t) = (st.thresholds, st.short_thresholds.unwrap_or(NEVER));
        let (mut reference, counts) = Reference::new(&config, &base, st.short_window);
        assert_eq!(det.baseline_histogram().unwrap(), counts, "{config:?}");
        let mut batch = det.clone();
        let checks = det.add_many(&stream, Some(0.0)).unwrap();
        let got = batch.add_batch(&stream, Some(0.0)).unwrap();
        let (mut worst, mut starts, mut near) = (0.0f64, Vec::new(), false);
        for (i, (&x, c)) in stream.iter().zip(&checks).enumerate() {
            let (kl, short_kl, full) = reference.add(x);
            worst = worst.max((c.kl - kl).abs());
            let close = |a: f64, b: f64| (a - b).abs() <= TOL;
            near |= full
                && (close(kl, t.drift)
                    || close(kl, t.watch)
                    || close(short_kl, short_t.drift)
                    || close(short_kl, short_t.watch));
            if near {
                continue;
            }
            let drift = full && (kl > t.drift || short_kl > short_t.drift);
            assert_eq!(c.drift, drift, "{config:?} at {i}");
            if full && drift && !reference.in_drift {
                reference.in_drift = true;
                starts.push(i);
            } else if reference.in_drift && kl <= t.watch && short_kl <= short_t.watch {
                reference.in_drift = false;
            }
        }
        assert!(worst <= TOL, "{config:?}: {worst}");
        // (The fixed thresholds sit far above these shifts' KLs.)
        let fixed = config.threshold_mode == super::super::ThresholdMode::Fixed;
        assert!(fixed || checks.iter().any(|c| c.drift), "{config:?}");
        if !near {
            assert_eq!(got.drift_starts, starts, "{config:?}");
        }
        let status = det.status().unwrap();
        assert!((status.kl - reference.kl(&reference.counts)).abs() <= TOL);
        if reference.short > 0 {
            assert!((status.short_kl - reference.kl(&reference.short_counts)).abs() <= TOL);
        }
    }
}

/// A loaded detector recomputes its running sums (the file holds none): its KLs are within
/// 1e-12 of the saved detector's, and from the next exact recompute on (at most `RESYNC`
/// scores later, on a schedule set by the scores seen) the same bits.
#[test]
fn loaded_detector_rejoins_bit_for_bit() {
    use crate::models::Artifact;
    let (base, stream) = base_and_stream(3, [(1_900, 0.0), (1_000, -0.03), (2_000, 0.05)]);
    let mut d = KlDriftDetector::from_baseline(&base, KlDriftConfig::default()).unwrap();
    d.add_batch(&stream[..1_900], Some(0.0)).unwrap();
    let json = serde_json::to_value(&d).unwrap();
    assert!(json.get("running_kl").is_none() && json.get("running").is_none());
    let mut back = KlDriftDetector::from_bytes(&d.to_bytes().unwrap()).unwrap();
    assert_eq!(back, d);
    let rejoin = std::iter::once(&d.engine.long)
        .chain(&d.engine.short)
        .map(|s| (RESYNC - s.stale) as usize)
        .max()
        .unwrap();
    let rest = &stream[1_900..];
    assert!(rejoin <= rest.len());
    let want = d.add_many(rest, Some(0.0)).unwrap();
    let got = back.add_many(rest, Some(0.0)).unwrap();
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g.drift, w.drift);
        assert!((g.kl - w.kl).abs() < 1e-12, "{} vs {}", g.kl, w.kl);
    }
    assert_eq!(got[rejoin - 1..], want[rejoin - 1..]);
    // The same window (the loaded ring starts at its oldest score) and the same sums, bit for bit.
    let sums = |e: &super::Engine| -> Vec<(Vec<u64>, u64, u32)> {
        (std::iter::once(&e.long).chain(&e.short))
            .map(|s| (s.counts.clone(), s.r.to_bits(), s.stale))
            .collect()
    };
    assert!(back.engine.scores().eq(d.engine.scores()));
    assert_eq!(sums(&back.engine), sums(&d.engine));
}

/// Files that held the running sums (as `running_kl`, and before it two sums per window as
/// `running`) load: the sums are read and ignored, recomputed from the window.
#[test]
fn files_with_running_sums_load() {
    let (base, stream) = base_and_stream(4, [(1_900, 0.0), (900, -0.03), (900, 0.0)]);
    let mut d = KlDriftDetector::from_baseline(&base, KlDriftConfig::default()).unwrap();
    d.add_batch(&stream[..1_900], Some(0.0)).unwrap();
    let json = serde_json::to_value(&d).unwrap();
    let want = d.add_many(&stream[1_900..], Some(0.0)).unwrap();
    for (key, value) in [
        ("running_kl", serde_json::json!([[0.25, 17], [0.5, 3]])),
        (
            "running",
            serde_json::json!([[1.5, 2.5, 7], [0.5, 0.25, 3]]),
        ),
    ] {
        let mut old = json.clone();
        old.as_object_mut().unwrap().insert(key.into(), value);
        let mut loaded: KlDriftDetector = serde_json::from_value(old).unwrap();
        let got = loaded.add_many(&stream[1_900..], Some(0.0)).unwrap();
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.drift, w.drift);
            assert!((g.kl - w.kl).abs() < 1e-12, "{key}: {} vs {}", g.kl, w.kl);
        }
    }
}
