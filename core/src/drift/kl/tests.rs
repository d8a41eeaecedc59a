//! The detector's definitions: divergences, config choices and bins. The engine's tests (loop
//! shapes, running sums, a reference model, reloads) are in `engine/tests.rs`.

use super::calibrate::{js, kl, psi};
use super::*;

#[test]
fn divergences_by_hand() {
    let p = [0.5, 0.5];
    let q = [0.25, 0.75];
    let k = 0.5 * (2.0f64).ln() + 0.5 * (0.5f64 / 0.75).ln();
    assert!((kl(&p, &q) - k).abs() < 1e-15);
    let ps = 0.25 * (2.0f64).ln() + (-0.25) * (0.5f64 / 0.75).ln();
    assert!((psi(&p, &q) - ps).abs() < 1e-15);
    assert_eq!(js(&p, &p), 0.0);
    assert!(js(&p, &q) > 0.0 && js(&p, &q) < (2.0f64).ln());
}

#[test]
fn short_window_choice() {
    let c = KlDriftConfig::default();
    assert_eq!(c.effective_short_window(), 250);
    let small = KlDriftConfig {
        window: 150,
        ..c.clone()
    };
    assert_eq!(small.effective_short_window(), 0);
    assert_eq!(KlDriftConfig::fixed().effective_short_window(), 0);
    let off = KlDriftConfig {
        short_window: Some(0),
        ..c.clone()
    };
    assert_eq!(off.effective_short_window(), 0);
    for bad in [1, 1000, 5000] {
        let e = KlDriftConfig {
            short_window: Some(bad),
            ..c.clone()
        }
        .validate();
        assert!(e.unwrap_err().to_string().contains("short_window"));
    }
}

#[test]
fn numpy_histogram_edges() {
    let c = KlDriftConfig::default();
    assert_eq!(c.bin_of(0.0), (0, false));
    assert_eq!(c.bin_of(1.0), (9, false));
    assert_eq!(c.bin_of(0.1), (1, false));
    assert_eq!(c.bin_of(-0.1), (0, true));
    assert_eq!(c.bin_of(1.5), (9, true));
}
