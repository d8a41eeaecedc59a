//! Resolver metrics: lock-free counters and histograms, snapshots, the Prometheus text format.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use super::answer::Method;
pub use crate::metrics::{CONFIDENCE_BUCKETS, HistogramSnapshot};
use crate::metrics::{Histogram, Kind, TextWriter};

/// Latency buckets in seconds (Prometheus convention), from 5 µs to 1 s.
pub const LATENCY_BUCKETS: [f64; 12] = [
    5e-6, 10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 5e-3, 25e-3, 100e-3, 1.0,
];
/// Feedback counts for one method.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OutcomeCounts {
    /// Outcomes reported as successful.
    pub success: u64,
    /// Outcomes reported as failed.
    pub failure: u64,
}

impl OutcomeCounts {
    /// `success / (success + failure)`, or `None` before any outcome.
    pub fn success_rate(&self) -> Option<f64> {
        let n = self.success + self.failure;
        (n > 0).then(|| self.success as f64 / n as f64)
    }
}

/// Counters and histograms of a resolver; all updates are lock-free.
#[derive(Debug)]
pub struct Metrics {
    resolutions: [AtomicU64; 4],
    unreliable: AtomicU64,
    novel: AtomicU64,
    errors: AtomicU64,
    success: [AtomicU64; 4],
    failure: [AtomicU64; 4],
    latency: Histogram,
    confidence: Histogram,
    /// Longest resolution so far, in nanoseconds.
    max_latency_ns: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            resolutions: Default::default(),
            unreliable: AtomicU64::new(0),
            novel: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            success: Default::default(),
            failure: Default::default(),
            latency: Histogram::new(&LATENCY_BUCKETS),
            confidence: Histogram::new(&CONFIDENCE_BUCKETS),
            max_latency_ns: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    /// Records one resolution (`novel`: the input was unlike the knowledge and training data).
    pub fn record_resolution(
        &self,
        method: Method,
        confidence: f64,
        reliable: bool,
        novel: bool,
        seconds: f64,
    ) {
        self.resolutions[method.index()].fetch_add(1, Ordering::Relaxed);
        if !reliable {
            self.unreliable.fetch_add(1, Ordering::Relaxed);
        }
        if novel {
            self.novel.fetch_add(1, Ordering::Relaxed);
        }
        self.latency.observe(seconds);
        self.max_latency_ns
            .fetch_max((seconds * 1e9) as u64, Ordering::Relaxed);
        if method != Method::NoMatch {
            self.confidence.observe(confidence);
        }
    }

    /// Records a resolve call that failed with an error.
    pub fn record_error(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
    }

    /// Records feedback on an answer given by `method`.
    pub fn record_outcome(&self, method: Method, success: bool) {
        let c = if success {
            &self.success
        } else {
            &self.failure
        };
        c[method.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// Clears every counter and histogram.
    pub fn reset(&self) {
        for a in self
            .resolutions
            .iter()
            .chain(&self.success)
            .chain(&self.failure)
            .chain([&self.unreliable, &self.novel, &self.errors])
        {
            a.store(0, Ordering::Relaxed);
        }
        self.latency.reset();
        self.confidence.reset();
        self.max_latency_ns.store(0, Ordering::Relaxed);
    }

    /// The longest resolution since the last reset, in seconds.
    pub fn max_latency_seconds(&self) -> f64 {
        self.max_latency_ns.load(Ordering::Relaxed) as f64 / 1e9
    }

    /// The current values.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let by_method = |a: &[AtomicU64; 4]| -> BTreeMap<String, u64> {
            Method::ALL
                .iter()
                .map(|m| (m.as_str().to_owned(), a[m.index()].load(Ordering::Relaxed)))
                .collect()
        };
        let outcomes = Method::ALL
            .iter()
            .map(|m| {
                let c = OutcomeCounts {
                    success: self.success[m.index()].load(Ordering::Relaxed),
                    failure: self.failure[m.index()].load(Ordering::Relaxed),
                };
                (m.as_str().to_owned(), c)
            })
            .collect();
        let resolutions = by_method(&self.resolutions);
        MetricsSnapshot {
            total: resolutions.values().sum(),
            resolutions,
            unreliable: self.unreliable.load(Ordering::Relaxed),
            novel: self.novel.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            outcomes,
            latency_seconds: self.latency.snapshot(),
            confidence: self.confidence.snapshot(),
        }
    }
}

/// Resolver metrics at one moment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricsSnapshot {
    /// Resolutions in total.
    pub total: u64,
    /// Resolutions by answering method (`exact_match`, ..., `no_match`).
    pub resolutions: BTreeMap<String, u64>,
    /// Resolutions not marked reliable: abstentions (no stage reached its threshold; the best
    /// candidate, if any, is returned for a person to check).
    pub unreliable: u64,
    /// Resolutions whose input was novel (unlike the knowledge base and the training data).
    #[serde(default)]
    pub novel: u64,
    /// Resolve calls that returned an error.
    pub errors: u64,
    /// Feedback by the method that gave the answer.
    pub outcomes: BTreeMap<String, OutcomeCounts>,
    /// Time per resolution, in seconds.
    pub latency_seconds: HistogramSnapshot,
    /// Confidence of answered resolutions (`no_match` excluded).
    pub confidence: HistogramSnapshot,
}

impl MetricsSnapshot {
    /// The metrics in the Prometheus text exposition format (version 0.0.4), every name prefixed
    /// `faultlens_`, ready to serve at `/metrics`.
    pub fn to_prometheus(&self) -> String {
        let mut w = TextWriter::new();
        w.family(
            "faultlens_resolutions_total",
            Kind::Counter,
            "Resolutions by the method that answered.",
        );
        for (m, v) in &self.resolutions {
            w.sample("faultlens_resolutions_total", &[("method", m)], *v);
        }
        w.counter(
            "faultlens_unreliable_resolutions_total",
            "Abstentions: resolutions no stage answered reliably.",
            self.unreliable,
        )
        .counter(
            "faultlens_novel_inputs_total",
            "Resolutions whose input was unlike the knowledge base and the training data.",
            self.novel,
        )
        .counter(
            "faultlens_resolve_errors_total",
            "Resolve calls that failed with an error.",
            self.errors,
        );
        w.family(
            "faultlens_outcomes_total",
            Kind::Counter,
            "Feedback on answers, by method and result.",
        );
        for (m, c) in &self.outcomes {
            for (result, v) in [("success", c.success), ("failure", c.failure)] {
                w.sample(
                    "faultlens_outcomes_total",
                    &[("method", m), ("result", result)],
                    v,
                );
            }
        }
        w.histogram(
            "faultlens_resolve_latency_seconds",
            "Time per resolution.",
            &self.latency_seconds,
        )
        .histogram(
            "faultlens_resolve_confidence",
            "Confidence of answered resolutions.",
            &self.confidence,
        );
        w.finish()
    }
}
