//! Lock-free counters and histograms shared by the objects that keep metrics (the resolver, the
//! classifier), their snapshots and the Prometheus text format of a histogram.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// Confidence buckets.
pub const CONFIDENCE_BUCKETS: [f64; 10] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

/// A lock-free cumulative histogram.
#[derive(Debug)]
pub(crate) struct Histogram {
    bounds: &'static [f64],
    /// Non-cumulative counts per bucket; the last slot is `+Inf`.
    counts: Vec<AtomicU64>,
    /// Sum of observations, as `f64` bits.
    sum: AtomicU64,
}

impl Histogram {
    pub(crate) fn new(bounds: &'static [f64]) -> Self {
        Histogram {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0f64.to_bits()),
        }
    }

    pub(crate) fn observe(&self, v: f64) {
        if !v.is_finite() {
            return;
        }
        let i = self.bounds.partition_point(|&b| b < v);
        self.counts[i].fetch_add(1, Ordering::Relaxed);
        self.add_sum(v);
    }

    /// An empty local tally with this histogram's buckets.
    pub(crate) fn tally(&self) -> Tally {
        Tally {
            bounds: self.bounds,
            counts: vec![0; self.counts.len()],
            sum: 0.0,
        }
    }

    /// Adds a batch's observations: one atomic add per bucket touched instead of per value.
    pub(crate) fn add(&self, t: &Tally) {
        let mut any = false;
        for (c, &n) in self.counts.iter().zip(&t.counts) {
            if n > 0 {
                c.fetch_add(n, Ordering::Relaxed);
                any = true;
            }
        }
        if any {
            self.add_sum(t.sum);
        }
    }

    fn add_sum(&self, v: f64) {
        let mut cur = self.sum.load(Ordering::Relaxed);
        loop {
            let next = (f64::from_bits(cur) + v).to_bits();
            match self
                .sum
                .compare_exchange_weak(cur, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
    }

    pub(crate) fn snapshot(&self) -> HistogramSnapshot {
        let mut cumulative = 0;
        let mut buckets = Vec::with_capacity(self.bounds.len());
        for (i, &b) in self.bounds.iter().enumerate() {
            cumulative += self.counts[i].load(Ordering::Relaxed);
            buckets.push((b, cumulative));
        }
        cumulative += self.counts[self.bounds.len()].load(Ordering::Relaxed);
        HistogramSnapshot {
            buckets,
            count: cumulative,
            sum: f64::from_bits(self.sum.load(Ordering::Relaxed)),
        }
    }

    pub(crate) fn reset(&self) {
        self.counts
            .iter()
            .for_each(|c| c.store(0, Ordering::Relaxed));
        self.sum.store(0f64.to_bits(), Ordering::Relaxed);
    }
}

/// Observations of one batch, counted without atomics (see [`Histogram::add`]).
pub(crate) struct Tally {
    bounds: &'static [f64],
    counts: Vec<u64>,
    sum: f64,
}

impl Tally {
    pub(crate) fn observe(&mut self, v: f64) {
        if !v.is_finite() {
            return;
        }
        self.counts[self.bounds.partition_point(|&b| b < v)] += 1;
        self.sum += v;
    }
}

/// A histogram at one moment: cumulative counts per upper bound, as Prometheus reports them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistogramSnapshot {
    /// `(upper bound, observations <= bound)`, bounds ascending; `+Inf` is `count`.
    pub buckets: Vec<(f64, u64)>,
    /// Number of observations.
    pub count: u64,
    /// Sum of observations.
    pub sum: f64,
}

pub(crate) fn write_histogram(out: &mut String, name: &str, help: &str, h: &HistogramSnapshot) {
    use std::fmt::Write;
    let _ = writeln!(out, "# HELP faultlens_{name} {help}");
    let _ = writeln!(out, "# TYPE faultlens_{name} histogram");
    for (b, c) in &h.buckets {
        let _ = writeln!(
            out,
            "faultlens_{name}_bucket{{le=\"{}\"}} {c}",
            prom_float(*b)
        );
    }
    let _ = writeln!(out, "faultlens_{name}_bucket{{le=\"+Inf\"}} {}", h.count);
    let _ = writeln!(out, "faultlens_{name}_sum {}", prom_float(h.sum));
    let _ = writeln!(out, "faultlens_{name}_count {}", h.count);
}

fn prom_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v:?}")
    }
}
