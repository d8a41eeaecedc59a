"""WindowAggregator from Python: the shared fixture, event forms (dict, tuple), errors, GIL release,
snapshot/pickle and merge. The semantics themselves are tested in Rust (tests/window.rs)."""

from __future__ import annotations

import os
import pickle
import sys
import threading
import time

import pytest

from faultlens import InvalidConfigError, InvalidInputError, WindowAggregator, group_incidents

from conftest import FIXTURES, load_json

CASE = load_json(FIXTURES / "window_cases.json")


def test_shared_fixture_with_dicts():
    w = WindowAggregator(**CASE["config"])
    out = w.push_batch(CASE["events"])
    assert out["late"] == CASE["late"]
    assert out["rejected"] == []
    incidents = out["incidents"] + w.flush()["incidents"]
    assert incidents == CASE["incidents"]
    stats = w.stats()
    for k, v in CASE["stats_after_flush"].items():
        assert stats[k] == v, k


def test_rate_trigger_shared_fixture():
    rc = CASE["rate_case"]
    w = WindowAggregator(**rc["config"])
    assert w.config()["rate"]["min_history"] == 2
    incidents = w.push_batch(rc["events"])["incidents"] + w.flush()["incidents"]
    assert incidents == rc["incidents"]
    assert incidents[0]["trigger"] == "rate" and incidents[0]["baseline"] == 1.875
    with pytest.raises(InvalidConfigError, match=r"rate\.alpha"):
        WindowAggregator(allowed_lateness_ms=0, rate={"alpha": 0})


def test_tuples_and_single_pushes_give_the_same():
    w = WindowAggregator(**CASE["config"])
    incidents, late = [], []
    for i, e in enumerate(CASE["events"]):
        t = (e["timestamp_ms"], e["service"], e["route"], e["error_code"], e["message"], e["trace_id"])
        out = w.push(t)
        incidents += out["incidents"]
        late += [i] if out["late"] else []
    incidents += w.flush()["incidents"]
    assert incidents == CASE["incidents"]
    assert late == CASE["late"]


def test_generators_lists_and_short_tuples():
    w = WindowAggregator(threshold=1, allowed_lateness_ms=0, key_fields=["service"])
    out = w.push_batch((t, "api", "/", "E1") for t in (1, 2))
    assert out["late"] == []
    out = w.push_batch([[3, "api", "/x", "E2", "msg"]])
    incidents = out["incidents"] + w.flush()["incidents"]
    assert [i["end_ms"] for i in incidents] == [2]
    assert incidents[0]["key"] == {"service": "api", "route": None, "error_code": None}


def test_config_round_trip_and_errors():
    w = WindowAggregator(allowed_lateness_ms=5, threshold=3, key_fields=["route"])
    c = w.config()
    assert c["window_ms"] == 300000 and c["key_fields"] == ["route"]
    assert WindowAggregator(**c).config() == c
    assert "threshold=3" in repr(w)
    with pytest.raises(InvalidConfigError, match="allowed_lateness_ms"):
        WindowAggregator()
    with pytest.raises(InvalidConfigError, match="threshold"):
        WindowAggregator(allowed_lateness_ms=0, threshold=0)
    with pytest.raises(InvalidConfigError, match="window_m"):
        WindowAggregator(allowed_lateness_ms=0, window_m=5)
    with pytest.raises(ValueError):  # InvalidConfigError is a ValueError
        WindowAggregator(allowed_lateness_ms=0, key_fields=["host"])


def test_bad_events_are_clear_errors_and_push_nothing():
    w = WindowAggregator(allowed_lateness_ms=0)
    good = {"timestamp_ms": 1, "service": "a", "route": "/", "error_code": "E"}
    cases = [
        ({"timestamp_ms": 1, "service": "a", "route": "/"}, "error_code"),
        ({"service": "a", "route": "/", "error_code": "E"}, "timestamp_ms"),
        ({**good, "timestamp_ms": 1.5}, "timestamp_ms"),
        ({**good, "service": 7}, "service"),
        ((1, "a"), "4 to 6 items"),
        ("not an event", "dict or a tuple"),
        ({**good, "timestamp_ms": 2**70}, "timestamp_ms"),
        ({**good, "message": "half a pair \ud800"}, "message.*UTF-8"),
    ]
    for bad, needle in cases:
        with pytest.raises(InvalidInputError, match=needle) as e:
            w.push_batch([good, bad])
        assert "event 1" in str(e.value)
    assert w.stats()["events"] == 0
    # A field that is not a key field may be missing.
    w2 = WindowAggregator(allowed_lateness_ms=0, key_fields=["service"])
    assert w2.push({"timestamp_ms": 1, "service": "a"})["late"] == []


def test_borrowed_strings_outlive_the_callers_containers():
    # push_batch borrows the strs' UTF-8; events built on the fly (non-ASCII, f-strings, a list
    # the caller drops right away) must read the same as tuples of literals.
    def events():
        return [{"timestamp_ms": t, "service": f"sv{'é' * (t % 2)}", "route": "/r",
                 "error_code": "E", "message": f"m{t} ünïcode"} for t in range(40)]
    a = WindowAggregator(allowed_lateness_ms=0, threshold=5)
    b = WindowAggregator(allowed_lateness_ms=0, threshold=5)
    got = a.push_batch(events())["incidents"] + a.flush()["incidents"]
    want = []
    for e in events():
        want += b.push(tuple(e.values()))["incidents"]
    want += b.flush()["incidents"]
    assert got == want and len(got) == 2
    assert {i["key"]["service"] for i in got} == {"sv", "své"}
    assert got[0]["samples"][0].endswith("ünïcode")


def test_watermark_advance_and_late():
    w = WindowAggregator(allowed_lateness_ms=100, threshold=1)
    assert w.watermark() is None
    w.push((1000, "a", "/", "E"))
    assert w.watermark() == 900
    assert w.push((899, "a", "/", "E"))["late"] == [0]
    w.push((1001, "a", "/", "E"))
    out = w.advance(5000)
    assert [i["end_ms"] for i in out["incidents"]] == [1001]
    assert w.stats()["late_events"] == 1


def test_snapshot_pickle_save_and_merge(tmp_path):
    cfg = dict(threshold=2, window_ms=100, allowed_lateness_ms=10)
    a, b = WindowAggregator(**cfg), WindowAggregator(**cfg)
    a.push_batch([(t, "a", "/", "E") for t in (1, 2)])
    b.push_batch([(t, "b", "/", "E") for t in (1, 2, 3)])
    for restored in (
        WindowAggregator.from_bytes(a.to_bytes()),
        pickle.loads(pickle.dumps(a)),
    ):
        assert restored.to_bytes() == a.to_bytes()
    path = tmp_path / "w.flm"
    b.save(path)
    moved = WindowAggregator.load(path)
    a.merge(moved)
    a.push((3, "a", "/", "E"))
    ends = sorted((i["key"]["service"], i["end_ms"]) for i in a.flush()["incidents"])
    assert ends == [("a", 3), ("b", 3)]
    with pytest.raises(InvalidInputError):
        a.merge(WindowAggregator(allowed_lateness_ms=1))
    with pytest.raises(InvalidInputError, match="itself"):
        a.merge(a)


def test_push_batch_releases_the_gil():
    """With the switch interval at 30 s, another thread only runs when push_batch releases the GIL."""
    w = WindowAggregator(allowed_lateness_ms=1000, threshold=1000)
    events = [(i, f"s{i % 500}", "/", "E", "message", "") for i in range(300_000)]
    ticks = 0
    stop = threading.Event()

    def ticker():
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0.0002)

    old = sys.getswitchinterval()
    th = threading.Thread(target=ticker)
    th.start()
    try:
        time.sleep(0.01)
        sys.setswitchinterval(30.0)
        before = ticks
        w.push_batch(events)
        w.flush()
        during = ticks - before
    finally:
        sys.setswitchinterval(old)
        stop.set()
        th.join()
    assert w.stats()["events"] == 300_000
    assert during >= 3, f"another thread ran only {during} times during push_batch"


GROUPS = load_json(FIXTURES / "group_cases.json")


@pytest.mark.parametrize("case", GROUPS["cases"], ids=lambda c: str(c["options"]))
def test_group_incidents_shared_fixture(case):
    assert group_incidents(GROUPS["samples"], **case["options"]) == case["groups"]


def test_group_incidents_from_aggregator_incidents_and_errors():
    def ev(t, route, code, message):
        return {"timestamp_ms": t, "service": "api", "route": route, "error_code": code, "message": message}

    w = WindowAggregator(threshold=1, window_ms=60_000, allowed_lateness_ms=0)
    events = [ev(t, "/pay", code, f"connection refused to db-{t}:5432") for t, code in [(1, "E1"), (2, "E1"), (3, "E2"), (4, "E2")]]
    events += [ev(5, "/x", "E3", "disk quota exceeded on /var/data"), ev(6, "/x", "E3", "disk quota exceeded")]
    incidents = w.push_batch(events)["incidents"] + w.flush()["incidents"]
    assert len(incidents) == 3
    groups = group_incidents([i["samples"] for i in incidents])
    by_code = {i["key"]["error_code"]: g for i, g in zip(incidents, groups)}
    assert by_code["E1"] == by_code["E2"] != by_code["E3"]
    with pytest.raises(InvalidConfigError, match="min_similarity"):
        group_incidents([["a"]], min_similarity=0)
    with pytest.raises(InvalidConfigError, match="min_group_size"):
        group_incidents([["a"]], min_group_size="two")


def test_opposite_merges_in_threads_do_not_deadlock():
    """a.merge(b) and b.merge(a) in two threads at once: merge copies the other side under its
    lock and releases it before taking its own, so they cannot deadlock. FAULTLENS_MERGE_SECS
    sets the duration (docs/reliability.md gives the 60 s command)."""
    secs = float(os.environ.get("FAULTLENS_MERGE_SECS", "2"))
    cfg = dict(threshold=3, window_ms=1000, allowed_lateness_ms=0)
    a, b = WindowAggregator(**cfg), WindowAggregator(**cfg)
    a.push_batch([(t, "a", "/", "E") for t in range(0, 200, 10)])
    b.push_batch([(t, "b", "/", "E") for t in range(0, 200, 10)])
    a.flush()
    b.flush()
    stop = threading.Event()
    merges = [0, 0]
    errors = []

    def merger(i, into, other):
        try:
            while not stop.is_set():
                into.merge(other)
                merges[i] += 1
        except BaseException as e:  # reported below: a thread's exception is otherwise lost
            errors.append(e)

    threads = [
        threading.Thread(target=merger, args=(0, a, b), daemon=True),
        threading.Thread(target=merger, args=(1, b, a), daemon=True),
    ]
    for t in threads:
        t.start()
    # A deadlock stops both threads: no merge finishing for 5 s, or a thread that never returns
    # once told to stop. One thread alone may be starved for a while (a busy machine, the GIL),
    # so progress is counted over both.
    end = time.monotonic() + secs
    last, progress = 0, time.monotonic()
    while time.monotonic() < end:
        time.sleep(0.1)
        if sum(merges) > last:
            last, progress = sum(merges), time.monotonic()
        assert time.monotonic() - progress < 5, f"no merge in 5 s: deadlock ({merges})"
    stop.set()
    for t in threads:
        t.join(timeout=30)
        assert not t.is_alive(), "a merging thread did not stop: deadlock"
    assert not errors, errors
    assert a.stats()["events"] > 40 and b.stats()["events"] > 40
