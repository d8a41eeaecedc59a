"""faultlens.prometheus: objects registered in a prometheus_client registry, scraped over a real
HTTP endpoint on 127.0.0.1 and parsed with prometheus_client's own parser."""

from __future__ import annotations

import subprocess
import sys
import threading
import urllib.request
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

import faultlens

prometheus_client = pytest.importorskip("prometheus_client")  # installed by scripts/test.sh
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402


def test_importing_faultlens_does_not_import_prometheus_client():
    code = "import sys, faultlens; print('prometheus_client' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def _scrape(registry) -> dict:
    app = prometheus_client.make_wsgi_app(registry)
    server = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/metrics", timeout=10) as r:
            text = r.read().decode()
    finally:
        server.shutdown()
        server.server_close()
    samples = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def test_every_stateful_object_scraped_and_parsed():
    import faultlens.prometheus as fp

    registry = prometheus_client.CollectorRegistry()
    r = faultlens.Resolver()
    r.set_rules([{"name": "oom", "pattern": "OutOfMemory", "solution": "raise the heap"}])
    r.resolve("java.lang.OutOfMemoryError")
    r.record_outcome("java.lang.OutOfMemoryError", "raise the heap", True)
    w = faultlens.WindowAggregator(threshold=1, allowed_lateness_ms=0, window_ms=1000)
    w.push_batch([(0, "api", "/pay", "E1", "boom"), (10, "api", "/pay", "E1", "boom"), (5000, "api", "/pay", "E1", "x")])
    d = faultlens.KlDriftDetector(window=100)
    d.set_baseline([i / 1000 for i in range(1000)])
    d.add_many([0.9] * 150)
    g = faultlens.IncidentGrouper()
    g.add([{"id": "a", "text": "disk full"}, {"id": "b", "text": "disk full on /data"}, {"id": "c", "text": "timeout"}])
    for obj, name in [(r, "elk"), (w, "proactive"), (d, "routing"), (g, "problems")]:
        fp.register(obj, name=name, registry=registry)
    with pytest.raises(ValueError, match="already registered"):
        fp.register(r, name="elk", registry=registry)
    with pytest.raises(TypeError):
        fp.register(object(), name="x", registry=registry)

    s = _scrape(registry)
    assert s[("faultlens_resolutions_total", (("method", "exact_match"), ("name", "elk")))] == 1
    assert s[("faultlens_outcomes_total", (("method", "exact_match"), ("name", "elk"), ("result", "success")))] == 1
    assert s[("faultlens_resolve_latency_seconds_count", (("name", "elk"),))] == 1
    assert s[("faultlens_window_events_total", (("name", "proactive"),))] == 3
    assert s[("faultlens_window_incidents_total", (("name", "proactive"),))] == 1
    assert s[("faultlens_window_live_keys", (("name", "proactive"),))] == w.stats()["live_keys"]
    st = d.status()
    assert s[("faultlens_drift_kl", (("name", "routing"),))] == pytest.approx(st["kl"])
    assert s[("faultlens_drift_should_retrain", (("name", "routing"),))] == float(st["should_retrain"])
    assert s[("faultlens_drift_level", (("level", st["level"]), ("name", "routing")))] == 1.0
    assert s[("faultlens_incident_grouper_incidents", (("name", "problems"),))] == 3
    assert s[("faultlens_incident_grouper_groups", (("name", "problems"),))] == 2

    # Values are read at scrape time; unregistering removes the object.
    r.resolve("java.lang.OutOfMemoryError again")
    assert fp.unregister("problems", registry=registry)
    s = _scrape(registry)
    assert s[("faultlens_resolutions_total", (("method", "exact_match"), ("name", "elk")))] == 2
    assert not any(k[0].startswith("faultlens_incident_grouper") for k in s)


def test_change_detectors_and_indexes():
    import faultlens.prometheus as fp

    registry = prometheus_client.CollectorRegistry()
    a = faultlens.Adwin()
    a.update_many([0.0] * 1000 + [1.0] * 1000)
    idx = faultlens.SimilarityIndex(dim=2)
    idx.add(["inc-1", "inc-2"], [[1.0, 0.0], [0.0, 1.0]])
    texts = faultlens.TextIndex()
    texts.add(["disk full", "connection refused", "timeout"])
    for obj, name in [(a, "latency"), (idx, "incidents"), (texts, "kb")]:
        fp.register(obj, name=name, registry=registry)
    s = _scrape(registry)
    assert a.n_detections() >= 1
    assert s[("faultlens_drift_detections_total", (("name", "latency"),))] == a.n_detections()
    assert s[("faultlens_drift_detected", (("name", "latency"),))] == float(a.drift_detected())
    assert s[("faultlens_index_items", (("name", "incidents"),))] == 2
    assert s[("faultlens_index_items", (("name", "kb"),))] == 3
    assert s[("faultlens_index_ef", (("name", "incidents"),))] == idx.effective_ef()
    # Counters of the index's use, read at scrape time.
    idx.search([[1.0, 0.1], [0.0, 1.0]], k=1)
    idx.remove(["inc-1"])
    texts.search("disk full on /var", k=2)
    s = _scrape(registry)
    assert s[("faultlens_index_searches_total", (("name", "incidents"),))] == 2
    assert s[("faultlens_index_added_total", (("name", "incidents"),))] == 2
    assert s[("faultlens_index_removed_total", (("name", "incidents"),))] == 1
    assert s[("faultlens_index_searches_total", (("name", "kb"),))] == 1
    assert s[("faultlens_index_added_total", (("name", "kb"),))] == 3
    assert s[("faultlens_index_removed_total", (("name", "kb"),))] == 0


def test_classifier_predictions_novelty_and_confidence():
    import faultlens.prometheus as fp

    registry = prometheus_client.CollectorRegistry()
    clf = faultlens.TextClassifier()
    train = [(f"disk full on volume vol{i} no space left", "disk") for i in range(20)]
    train += [(f"connection refused to host h{i} port 5432", "net") for i in range(20)]
    clf.fit([t for t, _ in train], [l for _, l in train])
    fp.register(clf, name="router", registry=registry)
    preds = [clf.predict_one(t) for t in ["disk full on volume vol3 no space left", "kernel panic soft lockup cpu"]]
    clf.predict(["connection refused to host h1 port 5432"] * 3)
    s = _scrape(registry)
    lab = (("name", "router"),)
    assert s[("faultlens_classifier_predictions_total", lab)] == 5
    assert s[("faultlens_classifier_novel_inputs_total", lab)] == sum(p["novel"] for p in preds) >= 1
    assert s[("faultlens_classifier_unreliable_predictions_total", lab)] == sum(not p["reliable"] for p in preds)
    assert s[("faultlens_classifier_confidence_count", lab)] == 2
    assert s[("faultlens_classifier_confidence_sum", lab)] == pytest.approx(sum(p["confidence"] for p in preds))
    assert s[("faultlens_classifier_confidence_bucket", (("le", "+Inf"), ("name", "router")))] == 2
    assert s[("faultlens_classifier_confidence_bucket", (("le", "1.0"), ("name", "router")))] == 2
    assert clf.metrics()["predictions"] == 5
    clf.reset_metrics()
    s = _scrape(registry)
    assert s[("faultlens_classifier_predictions_total", lab)] == 0
    assert s[("faultlens_classifier_confidence_count", lab)] == 0


def _families(text: str) -> dict:
    """Family name -> (type, help, {(sample, labels): value}), bucket bounds read as numbers
    (prometheus_client writes `5e-06` where the core writes `5e-6`)."""
    out = {}
    for fam in text_string_to_metric_families(text):
        samples = {}
        for s in fam.samples:
            labels = tuple(sorted((k, repr(float(v)) if k == "le" else v) for k, v in s.labels.items()))
            assert (s.name, labels) not in samples, s
            samples[(s.name, labels)] = s.value
        assert fam.name not in out, fam.name
        out[fam.name] = (fam.type, fam.documentation, samples)
    return out


def _objects():
    """One object of every kind the collector exports, each with some state."""
    r = faultlens.Resolver()
    r.set_rules([{"name": "oom", "pattern": "OutOfMemory", "solution": "raise the heap"}])
    r.resolve("java.lang.OutOfMemoryError")
    r.resolve("something else entirely")
    r.record_outcome("java.lang.OutOfMemoryError", "raise the heap", True)
    clf = faultlens.TextClassifier()
    train = [(f"disk full on volume vol{i} no space left", "disk") for i in range(20)]
    train += [(f"connection refused to host h{i} port 5432", "net") for i in range(20)]
    clf.fit([t for t, _ in train], [l for _, l in train])
    clf.predict_one("disk full on volume vol3 no space left")
    clf.predict_one("kernel panic soft lockup cpu")
    w = faultlens.WindowAggregator(threshold=1, allowed_lateness_ms=0, window_ms=1000)
    w.push_batch([(0, "api", "/pay", "E1", "boom"), (10, "api", "/pay", "E1", "boom"), (5000, "api", "/pay", "E1", "x"), (1, "api", "/pay", "E1", "late")])
    empty_window = faultlens.WindowAggregator(threshold=1, allowed_lateness_ms=0, window_ms=1000)
    d = faultlens.KlDriftDetector(window=100)
    d.set_baseline([i / 1000 for i in range(1000)])
    d.add_many([0.9] * 150)
    a = faultlens.Adwin()
    a.update_many([0.0] * 1000 + [1.0] * 1000)
    ph = faultlens.PageHinkley()
    ph.update_many([0.0] * 500 + [5.0] * 500)
    g = faultlens.IncidentGrouper()
    g.add([{"id": "a", "text": "disk full"}, {"id": "b", "text": "disk full on /data"}, {"id": "c", "text": "timeout"}])
    idx = faultlens.SimilarityIndex(dim=2)
    idx.add(["inc-1", "inc-2"], [[1.0, 0.0], [0.0, 1.0]])
    idx.search([[1.0, 0.1]], k=1)
    texts = faultlens.TextIndex()
    texts.add(["disk full", "connection refused", "timeout"])
    texts.search("disk full on /var", k=2)
    return [r, clf, w, empty_window, d, a, ph, g, idx, texts]


@pytest.fixture(scope="module")
def objects():
    return _objects()


@pytest.mark.parametrize("i", range(10))
def test_metrics_prometheus_is_what_the_collector_exposes(objects, i):
    """Each object's own text, given the label `name` by merge_prometheus, has exactly the
    families, types, help texts and samples the collector exposes through prometheus_client."""
    import faultlens.prometheus as fp

    obj = objects[i]
    registry = prometheus_client.CollectorRegistry()
    fp.register(obj, name="x", registry=registry)
    collected = _families(prometheus_client.generate_latest(registry).decode())
    own = obj.metrics_prometheus()
    assert 'name="' not in own
    merged = _families(faultlens.merge_prometheus(["x"], [own]))
    assert merged == collected, type(obj).__name__
    assert len(collected) >= 2


def test_merge_prometheus_serves_several_objects_like_one_collector(objects):
    import faultlens.prometheus as fp

    names = [f"obj{i}" for i in range(len(objects))]
    registry = prometheus_client.CollectorRegistry()
    for obj, name in zip(objects, names):
        fp.register(obj, name=name, registry=registry)
    collected = _families(prometheus_client.generate_latest(registry).decode())
    merged = _families(faultlens.merge_prometheus(names, [o.metrics_prometheus() for o in objects]))
    assert merged == collected
    with pytest.raises(faultlens.InvalidInputError, match="given twice"):
        faultlens.merge_prometheus(["a", "a"], [objects[1].metrics_prometheus()] * 2)
    with pytest.raises(faultlens.InvalidInputError, match="2 entries but texts has 1"):
        faultlens.merge_prometheus(["a", "b"], [""])
    with pytest.raises(faultlens.NotFittedError):
        faultlens.KlDriftDetector().metrics_prometheus()


def test_a_new_registry_never_inherits_names_from_a_dropped_one():
    """Names are per registry: a registry created after another was dropped (and that may reuse
    its memory, so its id()) starts empty."""
    import gc

    import faultlens.prometheus as fp

    d = faultlens.PageHinkley()
    for _ in range(50):
        registry = prometheus_client.CollectorRegistry()
        fp.register(d, name="x", registry=registry)
        assert "faultlens" in prometheus_client.generate_latest(registry).decode()
        del registry
        gc.collect()
