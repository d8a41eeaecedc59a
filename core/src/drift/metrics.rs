//! Prometheus text of the drift detectors, with the families of the Python and Node collectors
//! (`docs/metrics.md`).

use crate::error::Result;
use crate::metrics::{Kind, TextWriter};

/// The levels a KL detector reports, each a sample of `faultlens_drift_level`.
const LEVELS: [&str; 5] = ["filling", "normal", "watch", "drift", "severe"];

/// Shared by every detector kind, so one help text serves the merged family.
const DETECTED_HELP: &str =
    "1 when the detector reports drift now (KL: the window is over the drift threshold).";

impl super::KlDriftDetector {
    /// [`status`](Self::status) in the Prometheus text exposition format (0.0.4): KL, PSI, JS,
    /// the drift and retrain flags, the level (1 for the current one) and the score counts, with
    /// the families, help texts and values of the Python and Node collectors
    /// (`docs/metrics.md`). Serve several objects at once with
    /// [`merge_prometheus`](crate::metrics::merge_prometheus). `NotFitted` without a baseline,
    /// as `status` does.
    pub fn metrics_prometheus(&self) -> Result<String> {
        let st = self.status()?;
        let mut w = TextWriter::new();
        w.gauge(
            "faultlens_drift_kl",
            "KL divergence of the current window from the baseline.",
            st.kl,
        )
        .gauge(
            "faultlens_drift_psi",
            "Population stability index of the window.",
            st.psi,
        )
        .gauge(
            "faultlens_drift_js",
            "Jensen-Shannon divergence of the window.",
            st.js,
        )
        .gauge("faultlens_drift_detected", DETECTED_HELP, st.drift)
        .gauge(
            "faultlens_drift_should_retrain",
            "1 when the model should be retrained.",
            st.should_retrain,
        )
        .family(
            "faultlens_drift_level",
            Kind::Gauge,
            "1 for the current drift level, 0 for the others.",
        );
        for level in LEVELS {
            w.sample(
                "faultlens_drift_level",
                &[("level", level)],
                st.level == level,
            );
        }
        w.gauge(
            "faultlens_drift_window_scores",
            "Scores in the current window.",
            st.n_window,
        )
        .counter("faultlens_drift_scores_total", "Scores seen.", st.n_seen);
        Ok(w.finish())
    }
}

fn change_detector(detected: bool, detections: u64) -> String {
    let mut w = TextWriter::new();
    w.gauge("faultlens_drift_detected", DETECTED_HELP, detected)
        .counter(
            "faultlens_drift_detections_total",
            "Changes detected (Adwin, PageHinkley).",
            detections,
        );
    w.finish()
}

impl super::Adwin {
    /// Whether the last update detected a change, and the changes detected, in the Prometheus
    /// text exposition format (0.0.4), with the families of the Python and Node collectors
    /// (`docs/metrics.md`). Serve several objects at once with
    /// [`merge_prometheus`](crate::metrics::merge_prometheus).
    pub fn metrics_prometheus(&self) -> String {
        change_detector(self.drift_detected(), self.n_detections())
    }
}

impl super::PageHinkley {
    /// Whether the last update detected a change, and the changes detected, in the Prometheus
    /// text exposition format (0.0.4), with the families of the Python and Node collectors
    /// (`docs/metrics.md`). Serve several objects at once with
    /// [`merge_prometheus`](crate::metrics::merge_prometheus).
    pub fn metrics_prometheus(&self) -> String {
        change_detector(self.drift_detected(), self.n_detections())
    }
}

#[cfg(test)]
mod tests {
    use crate::drift::{Adwin, AdwinConfig, KlDriftConfig, KlDriftDetector, PageHinkley};
    use crate::metrics::{check::parse, merge_prometheus};

    #[test]
    fn kl_text_is_valid_and_follows_the_status() {
        let baseline: Vec<f64> = (0..2_000).map(|i| f64::from(i % 100) / 100.0).collect();
        let mut d = KlDriftDetector::new(KlDriftConfig {
            window: 200,
            ..Default::default()
        })
        .unwrap();
        assert!(d.metrics_prometheus().is_err(), "no baseline, no status");
        d.set_baseline(&baseline).unwrap();
        for i in 0..300 {
            d.add(0.95 + f64::from(i % 5) / 100.0, None).unwrap();
        }
        let st = d.status().unwrap();
        let fams = parse(&d.metrics_prometheus().unwrap());
        assert_eq!(fams.len(), 8);
        assert_eq!(fams["faultlens_drift_kl"].value(&[]), st.kl);
        assert_eq!(fams["faultlens_drift_psi"].value(&[]), st.psi);
        assert_eq!(fams["faultlens_drift_js"].value(&[]), st.js);
        assert!(st.drift, "a shifted window drifts");
        assert_eq!(fams["faultlens_drift_detected"].value(&[]), 1.0);
        assert_eq!(
            fams["faultlens_drift_should_retrain"].value(&[]),
            f64::from(u8::from(st.should_retrain))
        );
        let level = &fams["faultlens_drift_level"];
        assert_eq!(level.samples.len(), 5);
        for l in ["filling", "normal", "watch", "drift", "severe"] {
            let want = f64::from(u8::from(l == st.level));
            assert_eq!(level.value(&[("level", l)]), want, "{l}");
        }
        assert_eq!(fams["faultlens_drift_window_scores"].value(&[]), 200.0);
        assert_eq!(fams["faultlens_drift_scores_total"].value(&[]), 300.0);
        assert_eq!(fams["faultlens_drift_scores_total"].kind, "counter");
    }

    #[test]
    fn change_detectors_share_the_detected_family() {
        let mut a = Adwin::new(AdwinConfig::default()).unwrap();
        let mut p = PageHinkley::new(Default::default()).unwrap();
        for i in 0..2_000 {
            let x = if i < 1_000 { 0.0 } else { 5.0 };
            a.update(x).unwrap();
            p.update(x).unwrap();
        }
        let (ta, tp) = (a.metrics_prometheus(), p.metrics_prometheus());
        let fa = parse(&ta);
        assert_eq!(fa.len(), 2);
        assert!(a.n_detections() >= 1);
        assert_eq!(
            fa["faultlens_drift_detections_total"].value(&[]),
            a.n_detections() as f64
        );
        assert_eq!(
            fa["faultlens_drift_detected"].value(&[]),
            f64::from(u8::from(a.drift_detected()))
        );
        let both = parse(&merge_prometheus(&[("adwin", &ta), ("ph", &tp)]).unwrap());
        assert_eq!(both.len(), 2, "one block per family for both detectors");
        assert_eq!(
            both["faultlens_drift_detections_total"].value(&[("name", "ph")]),
            p.n_detections() as f64
        );
    }
}
