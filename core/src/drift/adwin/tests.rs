//! ADWIN against river's reference implementation (kept here as the pre-certificate code),
//! saved-state compatibility and config checks.

use crate::error::Error;

use super::Adwin;
use super::config::{AdwinConfig, MAX_BUCKETS};
use super::state::{AdwinState, Level};

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
        let eps =
            (2.0 * m_recip * (self.variance / self.width) * dd).sqrt() + 2.0 / 3.0 * dd * m_recip;
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
                    fast.until_check == cfg.clock && armed && fast.guard.armed && fast.guard.w == w,
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
