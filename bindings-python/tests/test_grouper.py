"""IncidentGrouper from Python: dict inputs with text, numpy or list embeddings, stable ids and
renames, errors that add nothing, pickle and save/load. The grouping rule itself (order and
batching independence) is property-tested in Rust (tests/window.rs)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from faultlens import DimensionError, IncidentGrouper, InvalidConfigError, InvalidInputError, WindowAggregator

INCIDENTS = [
    {"id": "inc-b", "time_ms": 20, "text": "connection refused to db-1 port 5432"},
    {"id": "inc-c", "time_ms": 30, "embedding": np.array([0, 1, 0], dtype=np.float32)},
    {"id": "inc-d", "time_ms": 40, "text": "disk quota exceeded on /var/lib", "embedding": [1.0, 0.0, 0.0]},
    {"id": "inc-a", "time_ms": 10, "text": "connection refused to db-9 port 5432"},
    {"id": "inc-e", "time_ms": 50, "embedding": [0.9, 0.1, 0.0]},
]


def test_groups_are_stable_and_renames_are_reported():
    g = IncidentGrouper()
    out = g.add(INCIDENTS[:3])
    assert [a["new_group"] for a in out["assignments"]] == [True, True, True]
    out = g.add(INCIDENTS[3:4])
    assert out["assignments"] == [{"id": "inc-a", "group": "inc-a", "new_group": False}]
    assert out["renamed"] == [{"from": "inc-b", "to": "inc-a"}]
    assert g.add(INCIDENTS[4:])["assignments"][0]["group"] == "inc-d"
    assert g.group_of("inc-b") == "inc-a" and g.group_of("nope") is None
    assert g.groups() == [
        {"id": "inc-a", "members": ["inc-a", "inc-b"]},
        {"id": "inc-c", "members": ["inc-c"]},
        {"id": "inc-d", "members": ["inc-d", "inc-e"]},
    ]
    assert len(g) == g.len() == 5
    assert 0.9 < g.similarity("inc-d", "inc-e") <= 1.0

    # Any order and batching: the same groups.
    other = IncidentGrouper()
    for x in reversed(INCIDENTS):
        other.add([x])
    assert other.groups() == g.groups()


def test_persistence(tmp_path):
    g = IncidentGrouper(min_similarity=0.6, text_weight=0.3)
    g.add(INCIDENTS)
    assert pickle.loads(pickle.dumps(g)).groups() == g.groups()
    g.save(tmp_path / "g.fl")
    back = IncidentGrouper.load(tmp_path / "g.fl")
    assert back.groups() == g.groups() and back.config()["text_weight"] == 0.3
    assert IncidentGrouper.from_bytes(g.to_bytes()).groups() == g.groups()
    assert "min_similarity=0.6" in repr(g)


def test_errors_add_nothing():
    g = IncidentGrouper()
    g.add(INCIDENTS[:3])
    with pytest.raises(DimensionError):
        g.add([{"id": "x", "embedding": [1.0, 2.0]}])
    with pytest.raises(InvalidInputError, match="inc-b"):
        g.add([{"id": "y", "text": "a"}, {"id": "inc-b", "text": "b"}])
    with pytest.raises(InvalidInputError, match="no `id`"):
        g.add([{"text": "no id"}])
    with pytest.raises(InvalidInputError, match="embedding"):
        g.add([{"id": "z", "embedding": "not floats"}])
    with pytest.raises(InvalidInputError, match="NaN"):
        g.add([{"id": "z", "embedding": [float("nan"), 0, 0]}])
    assert len(g) == 3
    with pytest.raises(InvalidConfigError, match="text_weight"):
        IncidentGrouper(text_weight=2)


def test_incidents_from_the_aggregator():
    w = WindowAggregator(threshold=1, window_ms=1000, allowed_lateness_ms=0, key_fields=["service", "error_code"])
    events = [(t, s, "/r", c, m) for t, s, c, m in [
        (0, "api", "E1", "upstream timeout after 30s"), (10, "api", "E1", "upstream timeout after 31s"),
        (20, "web", "E2", "upstream timeout after 29s"), (30, "web", "E2", "upstream timeout after 30s"),
        (40, "db", "E3", "disk full on /data"), (50, "db", "E3", "disk full on /data"),
    ]]
    incidents = w.push_batch(events)["incidents"] + w.flush()["incidents"]
    g = IncidentGrouper()
    g.add([{"id": i["id"], "time_ms": i["start_ms"], "text": "\n".join(i["samples"])} for i in incidents])
    assert len(g.groups()) == 2
