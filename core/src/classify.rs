//! Classifiers: error text to remedy label with calibrated confidence (issue 3).
