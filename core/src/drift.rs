//! Drift detection: KL/PSI/JS on score histograms, KS tests and streaming detectors (issue 6).
