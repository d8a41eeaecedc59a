"""Drift detection from Python: the same fixtures as the Rust tests (scipy KS, river change
points), the KL detector's behaviour, errors, pickling and files."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import faultlens
from conftest import FIXTURES, load_json

T0 = 1_764_547_200.0
DAY = 86_400.0


def beta82(seed, n, shift=0.0):
    return np.clip(np.random.default_rng(seed).beta(8, 2, n) + shift, 0.0, 1.0)


def test_ks_2samp_matches_scipy_fixture():
    fx = load_json(FIXTURES / "drift" / "ks_scipy.json")
    for case in fx["cases"]:
        r = faultlens.ks_2samp(np.array(case["a"]), case["b"])
        assert abs(r["statistic"] - case["statistic"]) < 1e-12, case["name"]
        assert abs(r["pvalue"] - case["pvalue"]) < 1e-6, case["name"]
        assert r["method"] == ("exact" if case["method"] == "exact" else "asymptotic")


def test_ks_columns_matches_scipy_fixture():
    c = load_json(FIXTURES / "drift" / "ks_scipy.json")["columns"]
    r = faultlens.ks_columns(np.array(c["reference"]), c["current"], alpha=c["alpha"])
    want = c["expected"]
    np.testing.assert_allclose(r["pvalue"], [w["pvalue"] for w in want], atol=1e-6)
    np.testing.assert_allclose(r["statistic"], [w["statistic"] for w in want], atol=1e-12)
    assert r["drift"].tolist() == [w["drift"] for w in want]
    with pytest.raises(faultlens.DimensionError):
        faultlens.ks_columns(np.zeros((5, 3)), np.zeros((5, 2)))
    with pytest.raises(faultlens.InvalidInputError):
        faultlens.ks_2samp([], [1.0])


def test_streaming_detectors_match_river_fixture():
    fx = load_json(FIXTURES / "drift" / "river_streams.json")
    for case in fx["cases"]:
        xs = np.array(fx["streams"][case["stream"]])
        cls = faultlens.Adwin if case["detector"] == "adwin" else faultlens.PageHinkley
        det = cls(**case["params"])
        assert det.update_many(xs).tolist() == case["detections"], case["name"]
        # One value at a time gives the same change points.
        det2 = cls(**case["params"])
        assert [i for i, x in enumerate(xs) if det2.update(float(x))] == case["detections"]


def test_streaming_detector_state_and_files(tmp_path):
    a = faultlens.Adwin(clock=1)
    xs = np.r_[np.zeros(500), np.ones(500)]
    hits = a.update_many(xs)
    assert len(hits) >= 1 and a.n_detections() == len(hits)
    assert a.width() > 0 and 0.0 <= a.estimation() <= 1.0 and a.variance() >= 0.0
    assert a.config()["clock"] == 1
    b = pickle.loads(pickle.dumps(a))
    assert b.to_bytes() == a.to_bytes()
    p = faultlens.PageHinkley(mode="up", threshold=10.0)
    p.update_many(xs)
    p.save(tmp_path / "ph.flm")
    q = faultlens.PageHinkley.load(tmp_path / "ph.flm")
    assert q.config()["mode"] == "up" and q.to_bytes() == p.to_bytes()
    assert faultlens.inspect(tmp_path / "ph.flm")["kind"] == "page_hinkley"
    with pytest.raises(faultlens.InvalidConfigError, match="clock"):
        faultlens.Adwin(clock=0)
    with pytest.raises(faultlens.InvalidConfigError, match="mode"):
        faultlens.PageHinkley(mode="sideways")
    with pytest.raises(faultlens.InvalidInputError):
        p.update(float("nan"))
    p.reset()
    assert not p.drift_detected()


def test_kl_detector_calibrated_detects_a_half_sd_shift():
    d = faultlens.KlDriftDetector.from_baseline(beta82(1, 20_000))
    t = d.thresholds()
    assert t["watch"] < t["drift"] < 0.1 < t["severe"] * 10
    drift, kl = d.add_many(beta82(2, 3000), timestamp=T0)
    assert drift.dtype == np.bool_ and kl.dtype == np.float64 and len(kl) == 3000
    assert not drift.any()
    drift, kl = d.add_many(beta82(3, 1000, shift=-0.06), timestamp=T0 + 60)
    assert drift.any()
    s = d.status()
    assert s["drift"] and s["level"] in ("drift", "severe") and s["window_size"] == 1000
    assert s["psi"] > 0 and 0 < s["js"] < np.log(2)
    assert abs(s["window_mean"] - 0.74) < 0.02
    summ = d.summary(1.0)
    assert summ["drift_count"] == 1 and summ["events"][0]["timestamp"] == T0 + 60


def test_kl_detector_fixed_mode_and_retrain_policy():
    d = faultlens.KlDriftDetector.from_baseline(beta82(4, 5000), threshold_mode="fixed", window=100)
    assert d.thresholds() == {"watch": 0.3, "drift": 0.5, "severe": 1.0}
    assert d.add(0.8, timestamp=T0) == (False, pytest.approx(d.status()["kl"]))
    d.add_many(beta82(5, 200, shift=-0.5), timestamp=T0)
    assert d.status()["should_retrain"]  # severe
    d.reset()
    s = d.status()
    assert s["n_window"] == 0 and s["level"] == "filling" and np.isnan(s["window_mean"])
    assert not s["should_retrain"]


def test_kl_detector_histograms_and_persistence(tmp_path):
    base = beta82(6, 10_000)
    whole = faultlens.KlDriftDetector.from_baseline(base)
    counts = whole.baseline_histogram()
    assert sum(counts) == 10_000 and len(counts) == 10
    shards = faultlens.KlDriftDetector.from_histogram(counts)
    assert shards.thresholds() == whole.thresholds()
    whole.add_many(beta82(7, 1500), timestamp=T0)
    whole.save(tmp_path / "kl.flm")
    back = faultlens.KlDriftDetector.load(tmp_path / "kl.flm")
    assert back.to_bytes() == whole.to_bytes()
    again = pickle.loads(pickle.dumps(whole))
    nxt = beta82(8, 500, shift=-0.1)
    np.testing.assert_array_equal(again.add_many(nxt, T0)[1], whole.add_many(nxt, T0)[1])
    assert "window=" not in repr(faultlens.KlDriftDetector())
    assert "window=10" in repr(faultlens.KlDriftDetector(window=10))


def test_kl_detector_bad_input():
    with pytest.raises(faultlens.InvalidConfigError, match="window"):
        faultlens.KlDriftDetector(window=0)
    with pytest.raises(faultlens.InvalidConfigError, match="windw"):
        faultlens.KlDriftDetector(windw=10)
    with pytest.raises(faultlens.InvalidInputError, match="empty"):
        faultlens.KlDriftDetector.from_baseline([])
    with pytest.raises(faultlens.InvalidInputError, match="constant"):
        faultlens.KlDriftDetector.from_baseline([0.5] * 2000)
    with pytest.raises(faultlens.InvalidInputError, match="NaN"):
        faultlens.KlDriftDetector.from_baseline(np.r_[beta82(9, 2000), np.nan])
    with pytest.raises(faultlens.InvalidInputError, match="fewer than the window"):
        faultlens.KlDriftDetector.from_baseline(beta82(9, 500))
    with pytest.raises(faultlens.DimensionError):
        faultlens.KlDriftDetector.from_histogram([1, 2, 3])
    d = faultlens.KlDriftDetector()
    assert not d.is_fitted()
    with pytest.raises(faultlens.NotFittedError):
        d.add(0.5)
    d.set_baseline(beta82(10, 2000))
    assert d.is_fitted()
    with pytest.raises(faultlens.InvalidInputError):
        d.add(float("nan"))
    with pytest.raises(faultlens.InvalidInputError, match="score 1"):
        d.add_many([0.5, float("inf")])
    assert d.status()["n_seen"] == 0


def test_add_batch_is_add_many_without_per_score_arrays():
    base = beta82(40, 20_000)
    stream = np.r_[beta82(41, 3000), beta82(42, 3000, shift=-0.1), beta82(43, 3000)]
    a = faultlens.KlDriftDetector.from_baseline(base)
    b = faultlens.KlDriftDetector.from_baseline(base)
    flags, kl = a.add_many(stream, T0)
    r = b.add_batch(stream, T0)
    assert r["n"] == len(stream) and r["n_drift"] == int(flags.sum())
    assert r["drift"] == bool(flags[-1]) and r["kl"] == kl[-1]
    assert r["max_kl"] == kl[999:].max()
    assert r["drift_starts"].dtype == np.int64 and len(r["drift_starts"]) >= 1
    assert r["drift_starts"][0] == np.flatnonzero(flags)[0]
    assert len(r["drift_starts"]) == b.summary(1)["drift_count"]
    assert a.status() == b.status() and a.summary(1) == b.summary(1)
    # Lists, float32 and strided arrays are converted; the result is the same.
    more = beta82(44, 500)
    outs = []
    for xs in (more.tolist(), more.astype(np.float32).astype(np.float64), np.repeat(more, 2)[::2]):
        d = faultlens.KlDriftDetector.from_bytes(b.to_bytes())
        outs.append(d.add_batch(xs, T0))
    assert all(o["kl"] == outs[0]["kl"] and o["n"] == 500 for o in outs)
    with pytest.raises(faultlens.InvalidInputError):
        b.add_batch(np.array([0.5, np.nan]))
    with pytest.raises(faultlens.NotFittedError):
        faultlens.KlDriftDetector().add_batch([0.5])


def test_calibration_and_short_window():
    d = faultlens.KlDriftDetector.from_baseline(beta82(45, 20_000))
    c = d.calibration()
    assert c["resamples"] == 1000 and c["short_window"] == 250
    assert 0 < c["mean"] < c["max"] and c["short_mean"] > c["mean"]
    s = d.status()
    assert s["short_window"] == 250 and s["short_thresholds"]["drift"] > d.thresholds()["drift"]
    off = faultlens.KlDriftDetector.from_baseline(beta82(45, 20_000), short_window=0)
    assert off.calibration()["short_window"] == 0 and off.status()["short_thresholds"] is None
    fixed = faultlens.KlDriftDetector.from_baseline(beta82(45, 20_000), threshold_mode="fixed")
    assert fixed.calibration() == {k: 0 for k in c}
    with pytest.raises(faultlens.InvalidConfigError, match="short_window"):
        faultlens.KlDriftDetector(short_window=1000)
    with pytest.raises(faultlens.NotFittedError):
        faultlens.KlDriftDetector().calibration()
