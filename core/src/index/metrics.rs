//! Usage counters of [`SimilarityIndex`](super::SimilarityIndex) and
//! [`TextIndex`](super::TextIndex): lock-free (a search never waits on them), never saved; and
//! their Prometheus text.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::metrics::TextWriter;

/// An index's counters at one moment, as `metrics()` returns them. The current size is `len()`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexMetrics {
    /// Queries answered, one per query row of a batch (a range search and a hybrid query each
    /// count one).
    pub searches: u64,
    /// Items added by successful `add` calls (loading a saved index adds none).
    pub added: u64,
    /// Items removed by successful `remove` calls.
    pub removed: u64,
}

/// The live counters; they start at zero when an index is created or loaded.
/// On cache lines of their own, so a count written by one thread does not evict the fields other
/// threads are reading.
#[repr(align(64))]
#[derive(Debug, Default)]
pub(super) struct Counters {
    searches: AtomicU64,
    added: AtomicU64,
    removed: AtomicU64,
}

impl Counters {
    pub(super) fn searched(&self, n: usize) {
        self.searches.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(super) fn added(&self, n: usize) {
        self.added.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(super) fn removed(&self, n: usize) {
        self.removed.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(super) fn snapshot(&self) -> IndexMetrics {
        IndexMetrics {
            searches: self.searches.load(Ordering::Relaxed),
            added: self.added.load(Ordering::Relaxed),
            removed: self.removed.load(Ordering::Relaxed),
        }
    }

    pub(super) fn reset(&self) {
        for a in [&self.searches, &self.added, &self.removed] {
            a.store(0, Ordering::Relaxed);
        }
    }
}

impl super::SimilarityIndex {
    /// Searches, adds and removes since creation, load or [`reset_metrics`](Self::reset_metrics).
    pub fn metrics(&self) -> IndexMetrics {
        self.counters.snapshot()
    }

    /// Sets the counters back to zero.
    pub fn reset_metrics(&self) {
        self.counters.reset();
    }
}

impl super::TextIndex {
    /// Searches, adds and removes since creation, load or [`reset_metrics`](Self::reset_metrics)
    /// (a refit re-adds nothing).
    pub fn metrics(&self) -> IndexMetrics {
        self.counters.snapshot()
    }

    /// Sets the counters back to zero.
    pub fn reset_metrics(&self) {
        self.counters.reset();
    }
}

/// The families both index kinds export: items held and the counters.
fn write_common(w: &mut TextWriter, len: usize, m: IndexMetrics) {
    w.gauge("faultlens_index_items", "Items held by the index.", len)
        .counter(
            "faultlens_index_searches_total",
            "Queries answered (one per query row).",
            m.searches,
        )
        .counter("faultlens_index_added_total", "Items added.", m.added)
        .counter("faultlens_index_removed_total", "Items removed.", m.removed);
}

impl super::SimilarityIndex {
    /// Items held, [`metrics`](Self::metrics), the estimated recall (when there is one) and
    /// the search breadth in the Prometheus text exposition format (0.0.4), with the families,
    /// help texts and values of the Python and Node collectors (`docs/metrics.md`). Serve
    /// several objects at once with [`merge_prometheus`](crate::metrics::merge_prometheus).
    pub fn metrics_prometheus(&self) -> String {
        let mut w = TextWriter::new();
        write_common(&mut w, self.len(), self.metrics());
        if let Some(recall) = self.estimated_recall() {
            w.gauge(
                "faultlens_index_estimated_recall",
                "Recall@10 the index estimated for its search breadth.",
                f64::from(recall),
            );
        }
        w.gauge(
            "faultlens_index_ef",
            "HNSW search breadth in use.",
            self.effective_ef(),
        );
        w.finish()
    }
}

impl super::TextIndex {
    /// Items held and [`metrics`](Self::metrics) in the Prometheus text exposition format
    /// (0.0.4), with the families, help texts and values of the Python and Node collectors
    /// (`docs/metrics.md`). Serve several objects at once with
    /// [`merge_prometheus`](crate::metrics::merge_prometheus).
    pub fn metrics_prometheus(&self) -> String {
        let mut w = TextWriter::new();
        write_common(&mut w, self.len(), self.metrics());
        w.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::IndexMetrics;
    use crate::index::{IndexConfig, SearchOptions, SimilarityIndex, TextIndex, TextIndexConfig};
    use crate::models::Artifact;

    fn counts(searches: u64, added: u64, removed: u64) -> IndexMetrics {
        IndexMetrics {
            searches,
            added,
            removed,
        }
    }

    #[test]
    fn similarity_index_counts_searches_adds_and_removes() {
        let idx = SimilarityIndex::new(IndexConfig::new(2)).unwrap();
        let o = SearchOptions::default();
        idx.add(&[1, 2, 3], &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0], None)
            .unwrap();
        idx.add_keyed(&["a"], &[0.5, 0.1], None).unwrap();
        assert!(idx.add(&[1], &[1.0, 0.0], None).is_err(), "a stored id");
        assert!(idx.search(&[1.0, 0.0, 0.0], 1, &o).is_err(), "half a row");
        idx.search(&[1.0, 0.0, 0.0, 1.0], 2, &o).unwrap();
        idx.search_one(&[1.0, 0.1], 1, &o).unwrap();
        idx.range_search(&[1.0, 0.0], 0.5, &o).unwrap();
        assert!(
            idx.remove(&[1, 99]).is_err(),
            "an unknown id removes nothing"
        );
        idx.remove(&[1, 2]).unwrap();
        idx.remove_keyed(&["a"]).unwrap();
        assert_eq!(idx.metrics(), counts(4, 4, 3));
        assert_eq!(idx.len(), 1);

        let back = SimilarityIndex::from_bytes(&idx.to_bytes().unwrap()).unwrap();
        assert_eq!(back.metrics(), counts(0, 0, 0), "loading adds nothing");
        idx.reset_metrics();
        assert_eq!(idx.metrics(), counts(0, 0, 0));
    }

    #[test]
    fn prometheus_text_is_valid_with_the_counts() {
        use crate::metrics::check::parse;
        let idx = SimilarityIndex::new(IndexConfig::new(2)).unwrap();
        idx.add(&[1, 2, 3], &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0], None)
            .unwrap();
        idx.search(&[1.0, 0.0, 0.0, 1.0], 2, &SearchOptions::default())
            .unwrap();
        idx.remove(&[2]).unwrap();
        let fams = parse(&idx.metrics_prometheus());
        assert_eq!(fams.len(), 6, "{fams:?}");
        assert_eq!(fams["faultlens_index_items"].value(&[]), 2.0);
        assert_eq!(fams["faultlens_index_items"].kind, "gauge");
        assert_eq!(fams["faultlens_index_searches_total"].value(&[]), 2.0);
        assert_eq!(fams["faultlens_index_added_total"].value(&[]), 3.0);
        assert_eq!(fams["faultlens_index_removed_total"].value(&[]), 1.0);
        assert_eq!(
            fams["faultlens_index_estimated_recall"].value(&[]),
            f64::from(idx.estimated_recall().unwrap())
        );
        assert_eq!(
            fams["faultlens_index_ef"].value(&[]),
            idx.effective_ef() as f64
        );

        let t = TextIndex::new(TextIndexConfig::default()).unwrap();
        t.add(&["disk full on /var", "oom killer"], None).unwrap();
        t.search("disk full", 1, &SearchOptions::default()).unwrap();
        let fams = parse(&t.metrics_prometheus());
        assert_eq!(fams.len(), 4, "no recall or ef for a text index");
        assert_eq!(fams["faultlens_index_items"].value(&[]), 2.0);
        assert_eq!(fams["faultlens_index_searches_total"].value(&[]), 1.0);
        assert_eq!(fams["faultlens_index_added_total"].value(&[]), 2.0);
    }

    #[test]
    fn text_index_counts_each_query_once() {
        let idx = TextIndex::new(TextIndexConfig::default()).unwrap();
        let o = SearchOptions::default();
        idx.search("disk full", 3, &o).unwrap();
        let ids = idx
            .add(
                &[
                    "disk full on /var",
                    "connection refused by db",
                    "oom killer",
                ],
                None,
            )
            .unwrap();
        idx.search_batch(&["disk full on /tmp", "refused"], 2, &o)
            .unwrap();
        idx.remove(&ids[..1]).unwrap();
        assert_eq!(idx.metrics(), counts(3, 3, 1));
        // A refit (the collection doubles) re-adds nothing.
        idx.add(
            &[
                "disk quota exceeded",
                "timeout calling payments",
                "tls handshake failed",
            ],
            None,
        )
        .unwrap();
        assert_eq!(idx.metrics(), counts(3, 6, 1));
        let back = TextIndex::from_bytes(&idx.to_bytes().unwrap()).unwrap();
        assert_eq!(back.metrics(), counts(0, 0, 0));
        idx.reset_metrics();
        assert_eq!(idx.metrics(), counts(0, 0, 0));
    }
}
