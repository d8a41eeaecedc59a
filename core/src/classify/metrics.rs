//! Prediction counters of a [`TextClassifier`](super::TextClassifier): lock-free, never saved,
//! not part of equality; and their Prometheus text.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use super::prediction::Prediction;
use crate::metrics::{CONFIDENCE_BUCKETS, Histogram, HistogramSnapshot, TextWriter};

/// A classifier's counters at one moment, as [`TextClassifier::metrics`](super::TextClassifier::metrics)
/// returns them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassifierMetrics {
    /// Rows predicted by any prediction method (`predict`, `predict_proba`, `score`,
    /// `predict_one`, `predict_many`), one per input text.
    pub predictions: u64,
    /// Rows whose prediction was `novel` (novelty above the classifier's `novelty_threshold`).
    /// Only `predict_one` and `predict_many` measure novelty.
    pub novel: u64,
    /// Rows whose confidence was below `threshold` (`reliable` false); `predict_one` and
    /// `predict_many` only.
    pub unreliable: u64,
    /// Confidence of the rows `predict_one` and `predict_many` returned (the resolver's buckets).
    pub confidence: HistogramSnapshot,
}

/// The live counters. A clone starts at zero: it is a separate model whose predictions are
/// counted apart from the original's (as a loaded copy's are).
/// On cache lines of their own, so a count written by one thread does not evict the fields other
/// threads are reading.
#[repr(align(64))]
#[derive(Debug)]
pub(super) struct Counters {
    predictions: AtomicU64,
    novel: AtomicU64,
    unreliable: AtomicU64,
    confidence: Histogram,
}

impl Default for Counters {
    fn default() -> Self {
        Counters {
            predictions: AtomicU64::new(0),
            novel: AtomicU64::new(0),
            unreliable: AtomicU64::new(0),
            confidence: Histogram::new(&CONFIDENCE_BUCKETS),
        }
    }
}

impl Clone for Counters {
    fn clone(&self) -> Self {
        Counters::default()
    }
}

impl Counters {
    /// Rows predicted without confidence or novelty (`predict`, `predict_proba`).
    pub(super) fn record_rows(&self, n: usize) {
        self.predictions.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Predictions with their confidence and novelty, tallied locally first so a batch costs a
    /// few atomic adds whatever its size.
    pub(super) fn record(&self, preds: &[Prediction]) {
        if let [p] = preds {
            // One row (`predict_one`): no tally to allocate.
            self.predictions.fetch_add(1, Ordering::Relaxed);
            if p.novel {
                self.novel.fetch_add(1, Ordering::Relaxed);
            }
            if !p.reliable {
                self.unreliable.fetch_add(1, Ordering::Relaxed);
            }
            self.confidence.observe(p.confidence);
            return;
        }
        let (mut novel, mut unreliable) = (0u64, 0u64);
        let mut tally = self.confidence.tally();
        for p in preds {
            novel += u64::from(p.novel);
            unreliable += u64::from(!p.reliable);
            tally.observe(p.confidence);
        }
        self.predictions
            .fetch_add(preds.len() as u64, Ordering::Relaxed);
        if novel > 0 {
            self.novel.fetch_add(novel, Ordering::Relaxed);
        }
        if unreliable > 0 {
            self.unreliable.fetch_add(unreliable, Ordering::Relaxed);
        }
        self.confidence.add(&tally);
    }

    pub(super) fn snapshot(&self) -> ClassifierMetrics {
        ClassifierMetrics {
            predictions: self.predictions.load(Ordering::Relaxed),
            novel: self.novel.load(Ordering::Relaxed),
            unreliable: self.unreliable.load(Ordering::Relaxed),
            confidence: self.confidence.snapshot(),
        }
    }

    pub(super) fn reset(&self) {
        for a in [&self.predictions, &self.novel, &self.unreliable] {
            a.store(0, Ordering::Relaxed);
        }
        self.confidence.reset();
    }
}

impl super::TextClassifier {
    /// [`metrics`](Self::metrics) in the Prometheus text exposition format (0.0.4), with the
    /// families, help texts and values of the Python and Node collectors (`docs/metrics.md`).
    /// Serve several objects at once with [`merge_prometheus`](crate::metrics::merge_prometheus).
    pub fn metrics_prometheus(&self) -> String {
        let m = self.metrics();
        let mut w = TextWriter::new();
        w.counter(
            "faultlens_classifier_predictions_total",
            "Rows predicted (every prediction method).",
            m.predictions,
        )
        .counter(
            "faultlens_classifier_novel_inputs_total",
            "Predicted rows unlike the training data (novelty above novelty_threshold).",
            m.novel,
        )
        .counter(
            "faultlens_classifier_unreliable_predictions_total",
            "Predicted rows with confidence below threshold.",
            m.unreliable,
        )
        .histogram(
            "faultlens_classifier_confidence",
            "Confidence of the rows predict_one scored.",
            &m.confidence,
        );
        w.finish()
    }
}

#[cfg(test)]
mod tests {
    use crate::classify::{ClassifierConfig, TextClassifier};
    use crate::models::Artifact;

    fn fitted() -> TextClassifier {
        let mut t = Vec::new();
        let mut l = Vec::new();
        for i in 0..20 {
            t.push(format!("disk full on volume vol{i} no space left"));
            l.push("disk");
            t.push(format!("connection refused to host h{i} port 5432"));
            l.push("net");
        }
        let mut c = TextClassifier::new(ClassifierConfig::default()).unwrap();
        c.fit(&t, &l).unwrap();
        c
    }

    #[test]
    fn every_predicted_row_is_counted_once() {
        let c = fitted();
        assert_eq!(c.metrics().predictions, 0, "fitting predicts nothing");
        let texts = [
            "disk full on volume vol3 no space left",
            "connection refused to host h1 port 5432",
            "kernel panic cpu soft lockup watchdog",
        ];
        let one = c.predict_one(texts[2]).unwrap();
        let many = c.predict_many(&texts).unwrap();
        let m = c.metrics();
        assert_eq!(m.predictions, 4);
        let all: Vec<_> = many.iter().chain([&one]).collect();
        let novel = all.iter().filter(|p| p.novel).count() as u64;
        assert!(novel >= 2, "the unseen line is novel both times");
        assert_eq!(m.novel, novel);
        assert_eq!(
            m.unreliable,
            all.iter().filter(|p| !p.reliable).count() as u64
        );
        assert_eq!(m.confidence.count, 4);
        let sum: f64 = all.iter().map(|p| p.confidence).sum();
        assert!((m.confidence.sum - sum).abs() < 1e-9);
        let le = |b: f64| all.iter().filter(|p| p.confidence <= b).count() as u64;
        for &(bound, n) in &m.confidence.buckets {
            assert_eq!(n, le(bound), "bucket {bound}");
        }
        assert_eq!(
            m.confidence.buckets.iter().map(|b| b.0).collect::<Vec<_>>(),
            crate::metrics::CONFIDENCE_BUCKETS
        );

        // Batch paths without confidence count rows only; repeated texts count each time.
        c.predict(&texts).unwrap();
        c.predict_proba(&[texts[0], texts[0]]).unwrap();
        c.score(&texts[..2], &["disk", "net"]).unwrap();
        let m = c.metrics();
        assert_eq!(m.predictions, 4 + 3 + 2 + 2);
        assert_eq!(m.confidence.count, 4);

        // A failed call counts nothing.
        let unfitted = TextClassifier::new(ClassifierConfig::default()).unwrap();
        assert!(unfitted.predict_one("x").is_err());
        assert_eq!(unfitted.metrics().predictions, 0);

        c.reset_metrics();
        let z = c.metrics();
        assert_eq!((z.predictions, z.novel, z.unreliable), (0, 0, 0));
        assert_eq!(z.confidence.count, 0);
        assert!(z.confidence.buckets.iter().all(|b| b.1 == 0));
    }

    #[test]
    fn prometheus_text_is_valid_and_counts_predictions() {
        let c = fitted();
        let empty = crate::metrics::check::parse(&c.metrics_prometheus());
        assert_eq!(empty.len(), 4);
        assert_eq!(
            empty["faultlens_classifier_predictions_total"].value(&[]),
            0.0
        );
        let p = c
            .predict_one("disk full on volume vol3 no space left")
            .unwrap();
        c.predict(&["connection refused to host h1 port 5432"])
            .unwrap();
        let text = c.metrics_prometheus();
        let fams = crate::metrics::check::parse(&text);
        assert_eq!(
            fams["faultlens_classifier_predictions_total"].value(&[]),
            2.0
        );
        assert_eq!(
            fams["faultlens_classifier_unreliable_predictions_total"].value(&[]),
            f64::from(u8::from(!p.reliable))
        );
        let h = &fams["faultlens_classifier_confidence"];
        assert_eq!(h.kind, "histogram");
        assert_eq!(h.help, "Confidence of the rows predict_one scored.");
        assert_eq!(h.value(&[("le", "+Inf")]), 1.0);
        assert_eq!(
            h.value(&[("le", "0.1")]),
            f64::from(u8::from(p.confidence <= 0.1))
        );
        assert!(text.contains(&format!(
            "faultlens_classifier_confidence_sum {:?}\n",
            p.confidence
        )));
    }

    #[test]
    fn counters_are_not_saved_compared_or_cloned() {
        let c = fitted();
        c.predict_one("disk full on volume vol1 no space left")
            .unwrap();
        let copy = c.clone();
        assert_eq!(copy.metrics().predictions, 0, "a clone starts at zero");
        assert_eq!(copy, c, "counters are not part of equality");
        let bytes = c.to_bytes().unwrap();
        assert_eq!(bytes, fitted_bytes_after_reset(&c));
        let back = TextClassifier::from_bytes(&bytes).unwrap();
        assert_eq!(back.metrics().predictions, 0);
        assert_eq!(back, c);
        assert_eq!(c.metrics().predictions, 1);
    }

    fn fitted_bytes_after_reset(c: &TextClassifier) -> Vec<u8> {
        let c = c.clone();
        c.reset_metrics();
        c.to_bytes().unwrap()
    }

    #[test]
    fn threads_counting_at_once_lose_nothing() {
        let c = fitted();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..50 {
                        c.predict_one("connection refused to host h2 port 5432")
                            .unwrap();
                    }
                });
            }
        });
        let m = c.metrics();
        assert_eq!(m.predictions, 200);
        assert_eq!(m.confidence.count, 200);
    }
}
