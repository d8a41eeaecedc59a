//! Prometheus text of a [`WindowAggregator`](super::WindowAggregator) and an
//! [`IncidentGrouper`](super::IncidentGrouper), with the families of the Python and Node
//! collectors (`docs/metrics.md`).

use crate::metrics::TextWriter;

impl super::WindowAggregator {
    /// [`stats`](Self::stats) in the Prometheus text exposition format (0.0.4): the counters,
    /// keys held, pending events and the watermark (once there is one), with the families, help
    /// texts and values of the Python and Node collectors (`docs/metrics.md`). Serve several
    /// objects at once with [`merge_prometheus`](crate::metrics::merge_prometheus).
    pub fn metrics_prometheus(&self) -> String {
        let s = self.stats();
        let mut w = TextWriter::new();
        for (name, help, v) in [
            ("events", "On-time events counted.", s.events),
            (
                "late_events",
                "Events older than the watermark (not counted).",
                s.late_events,
            ),
            (
                "rejected_events",
                "Events beyond max_future_ms (not counted).",
                s.rejected_events,
            ),
            ("evicted_keys", "Keys evicted by max_keys.", s.evicted_keys),
            (
                "evicted_events",
                "Not-yet-final events dropped with evicted keys.",
                s.evicted_events,
            ),
            (
                "expired_keys",
                "Keys removed because their window emptied.",
                s.expired_keys,
            ),
            ("incidents", "Incidents raised.", s.incidents),
        ] {
            w.counter(&format!("faultlens_window_{name}_total"), help, v);
        }
        w.gauge("faultlens_window_live_keys", "Keys held now.", s.live_keys)
            .gauge(
                "faultlens_window_pending_events",
                "Events waiting for the watermark.",
                s.pending_events,
            );
        if let Some(wm) = s.watermark_ms {
            w.gauge(
                "faultlens_window_watermark_ms",
                "Current watermark (event time, ms).",
                wm,
            );
        }
        w.finish()
    }
}

impl super::IncidentGrouper {
    /// Incidents and groups held, in the Prometheus text exposition format (0.0.4), with the
    /// families, help texts and values of the Python and Node collectors (`docs/metrics.md`).
    /// Serve several objects at once with [`merge_prometheus`](crate::metrics::merge_prometheus).
    pub fn metrics_prometheus(&self) -> String {
        let mut w = TextWriter::new();
        w.gauge(
            "faultlens_incident_grouper_incidents",
            "Incidents held.",
            self.len(),
        )
        .gauge(
            "faultlens_incident_grouper_groups",
            "Groups of the incidents held.",
            self.groups().len(),
        );
        w.finish()
    }
}

#[cfg(test)]
mod tests {
    use crate::metrics::check::parse;
    use crate::window::{
        Event, GroupInput, GrouperConfig, IncidentGrouper, WindowAggregator, WindowConfig,
    };

    #[test]
    fn window_text_is_valid_with_the_stats() {
        let mut w = WindowAggregator::new(WindowConfig {
            threshold: 2,
            window_ms: 1_000,
            allowed_lateness_ms: Some(0),
            ..Default::default()
        })
        .unwrap();
        let fams = parse(&w.metrics_prometheus());
        assert_eq!(fams.len(), 9, "no watermark before any event");
        assert_eq!(fams["faultlens_window_events_total"].value(&[]), 0.0);
        let ev = |t| Event::new(t, "api", "/pay", "E1");
        w.push_batch(&[ev(1_000), ev(1_100), ev(1_200), ev(500)]);
        w.flush();
        let s = w.stats();
        let fams = parse(&w.metrics_prometheus());
        assert_eq!(fams.len(), 10);
        assert_eq!(fams["faultlens_window_events_total"].value(&[]), 3.0);
        assert_eq!(fams["faultlens_window_late_events_total"].value(&[]), 1.0);
        assert_eq!(
            fams["faultlens_window_incidents_total"].value(&[]),
            s.incidents as f64
        );
        assert!(s.incidents >= 1);
        assert_eq!(
            fams["faultlens_window_live_keys"].value(&[]),
            s.live_keys as f64
        );
        assert_eq!(fams["faultlens_window_live_keys"].kind, "gauge");
        assert_eq!(
            fams["faultlens_window_watermark_ms"].value(&[]),
            s.watermark_ms.unwrap() as f64
        );
        assert_eq!(
            fams["faultlens_window_late_events_total"].help,
            "Events older than the watermark (not counted)."
        );
    }

    #[test]
    fn grouper_text_counts_incidents_and_groups() {
        let mut g = IncidentGrouper::new(GrouperConfig::default()).unwrap();
        let inc = |id, time_ms, text| GroupInput {
            id,
            time_ms,
            text: Some(text),
            embedding: None,
        };
        g.add(&[
            inc("a", 1, "connection refused to db primary"),
            inc("b", 2, "connection refused to db primary"),
            inc("c", 3, "disk quota exceeded on /var"),
        ])
        .unwrap();
        let fams = parse(&g.metrics_prometheus());
        assert_eq!(fams["faultlens_incident_grouper_incidents"].value(&[]), 3.0);
        assert_eq!(
            fams["faultlens_incident_grouper_groups"].value(&[]),
            g.groups().len() as f64
        );
        assert_eq!(g.groups().len(), 2);
    }
}
