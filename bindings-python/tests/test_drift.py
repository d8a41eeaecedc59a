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
    # A loaded detector recomputes its running sums: the same flags, KLs to 1e-12.
    (flags_a, kls_a), (flags_b, kls_b) = again.add_many(nxt, T0), whole.add_many(nxt, T0)
    np.testing.assert_array_equal(flags_a, flags_b)
    np.testing.assert_allclose(kls_a, kls_b, rtol=0, atol=1e-12)
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


# ------------------------------------------- hardening: saves, limits, loads, config sweep

def reseal(data: bytes, edit) -> bytes:
    """A model file with `edit` applied to its payload and the checksum recomputed (the CRC is
    not a signature: a file from elsewhere can hold anything)."""
    import json
    import struct
    import zlib

    env = json.loads(data[24:])
    edit(env["payload"])
    body = json.dumps(env).encode()
    return data[:12] + struct.pack("<QI", len(body), zlib.crc32(body)) + body


def test_every_drift_object_pickles_fresh_trained_and_reset():
    xs = beta82(7, 3000)
    objects = [
        faultlens.PageHinkley(),
        faultlens.Adwin(),
        faultlens.KlDriftDetector(window=300),
        faultlens.KlDriftDetector.from_baseline(beta82(3, 5000), window=300),
    ]
    for o in objects:
        for step in ("fresh", "trained", "reset"):
            if step == "trained":
                if isinstance(o, faultlens.KlDriftDetector):
                    if not o.is_fitted():
                        continue
                    o.add_many(xs, T0)
                else:
                    o.update_many(xs)
            elif step == "reset":
                o.reset()
            b = pickle.loads(pickle.dumps(o))
            assert b.to_bytes() == o.to_bytes(), (type(o).__name__, step)
            assert type(o).from_bytes(o.to_bytes()).to_bytes() == o.to_bytes()


def test_kept_drift_files_load_or_fail_cleanly():
    old = (FIXTURES / "drift" / "page_hinkley_fresh_null_min.flm").read_bytes()
    p = faultlens.PageHinkley.from_bytes(old)
    assert p.to_bytes()[24:] == faultlens.PageHinkley().to_bytes()[24:]
    with pytest.raises(faultlens.CorruptError, match="window"):
        faultlens.KlDriftDetector.load(FIXTURES / "drift" / "kl_window_2e40.flm")


def test_stream_values_are_bounded():
    a = faultlens.Adwin()
    with pytest.raises(faultlens.InvalidInputError, match="within"):
        a.update_many(np.full(1000, 1.7e308))
    assert a.width() == 0
    a.update_many(np.tile([1e100, -1e100], 500))
    assert np.isfinite(a.estimation()) and np.isfinite(a.variance())
    assert faultlens.Adwin.from_bytes(a.to_bytes()).to_bytes() == a.to_bytes()
    p = faultlens.PageHinkley()
    with pytest.raises(faultlens.InvalidInputError):
        p.update(-1e101)
    with pytest.raises(faultlens.InvalidConfigError, match="delta"):
        faultlens.PageHinkley(delta=1e308)


def test_size_limits_instead_of_aborts():
    for kw in (
        {"window": 2**40},
        {"window": 2**61},
        {"calibration_resamples": 2**31},
        {"max_events": 2**40},
    ):
        (field,) = kw
        with pytest.raises(faultlens.InvalidConfigError, match=field):
            faultlens.KlDriftDetector(**kw)
    with pytest.raises(faultlens.FaultlensError):
        faultlens.KlDriftDetector(window=2**64)
    with pytest.raises(faultlens.InvalidConfigError, match="top_k"):
        faultlens.Resolver(top_k=2**40)
    with pytest.raises(faultlens.InvalidConfigError, match="alpha"):
        faultlens.TextClassifier(model="naive_bayes", alpha=1e308)
    with pytest.raises(faultlens.InvalidConfigError, match="c"):
        faultlens.TextClassifier(c=1e308)


def test_calibration_is_bounded_and_counts_do_not_wrap():
    import time

    t = time.perf_counter()
    d = faultlens.KlDriftDetector.from_histogram([10**5] * 10)
    assert time.perf_counter() - t < 2.0
    assert 0 < d.thresholds()["drift"] < 1
    for counts in ([2**64 - 1] * 10, [2**63, 2**63, 5] + [0] * 7):
        t = time.perf_counter()
        with pytest.raises(faultlens.InvalidInputError, match="2\\^53"):
            faultlens.KlDriftDetector.from_histogram(counts)
        assert time.perf_counter() - t < 0.5


def test_loads_check_what_the_constructors_check():
    ph = faultlens.PageHinkley().to_bytes()
    for field, value in (("threshold", -1.0), ("alpha", 255.0)):
        bad = reseal(ph, lambda v: v["config"].__setitem__(field, value))
        with pytest.raises(faultlens.CorruptError, match=field):
            faultlens.PageHinkley.from_bytes(bad)
    kl = faultlens.KlDriftDetector.from_baseline(beta82(6, 5000)).to_bytes()

    def zero(v):
        v["baseline"]["counts"] = [0] * 10

    def negative(v):
        v["baseline"]["thresholds"] = {"watch": -2.0, "drift": -1.0, "severe": -0.5}

    for edit in (zero, negative):
        with pytest.raises(faultlens.CorruptError):
            faultlens.KlDriftDetector.from_bytes(reseal(kl, edit))
    # The unedited bytes, resealed the same way, still load: the edits are what is refused.
    faultlens.KlDriftDetector.from_bytes(reseal(kl, lambda v: None))


SWEEP = [0, -1, 2**31, 2**40, 2**63, float("nan"), float("inf")]


@pytest.mark.parametrize(
    "cls,fields",
    [
        (
            faultlens.KlDriftDetector,
            ["window", "bins", "epsilon", "false_alarm_rate", "watch_rate", "severe_factor",
             "calibration_resamples", "seed", "retrain_drifts", "retrain_days", "max_events",
             "history_days", "short_window"],
        ),
        (faultlens.PageHinkley, ["min_instances", "delta", "threshold", "alpha"]),
        (faultlens.Adwin, ["delta", "clock", "max_buckets", "min_window_length", "grace_period"]),
    ],
)
def test_config_sweep_gives_ok_or_a_clean_error(cls, fields):
    for field in fields:
        for value in SWEEP:
            try:
                o = cls(**{field: value})
            except faultlens.FaultlensError:
                continue
            if isinstance(o, faultlens.KlDriftDetector):
                try:
                    o.set_baseline_histogram([o.config()["window"]] * o.config()["bins"])
                    o.add_many(beta82(1, 500), T0)
                except faultlens.FaultlensError:
                    continue
            else:
                o.update_many(beta82(1, 500))
            assert cls.from_bytes(o.to_bytes()).to_bytes() == o.to_bytes(), (field, value)
