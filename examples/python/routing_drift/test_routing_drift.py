"""The routing service as its own process on a loopback port: predictions feed the drift
detector, drift status/summary/reset over HTTP, /api/metrics parsed with prometheus_client's own
parser, and a restart that keeps the detector's state."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

import routing

HERE = Path(__file__).resolve().parent
DAY = 86_400
T0 = 1_759_700_000  # replayed time (seconds since the epoch), so summaries do not depend on the clock


class Service:
    def __init__(self, model_dir: Path):
        env = {k: v for k, v in os.environ.items() if k != "PYTHONSAFEPATH"}  # app.py imports its sibling
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "app.py"), "--port", "0", "--model-dir", str(model_dir)],
            cwd=HERE, env=env, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.match(r"listening on (http://127\.0\.0\.1:\d+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"service did not start: {line!r} (exit {self.proc.wait()})")
        self.base = m.group(1)

    def call(self, path: str, body: dict | None = None, method: str | None = None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                status, text, ctype = r.status, r.read().decode(), r.headers["content-type"]
        except urllib.error.HTTPError as e:
            status, text, ctype = e.code, e.read().decode(), e.headers["content-type"]
        return status, json.loads(text) if ctype.startswith("application/json") else text

    def predict(self, items: list[str], timestamp: float) -> list[dict]:
        status, body = self.call("/api/predict", {"items": items, "timestamp": timestamp})
        assert status == 200, body
        return body

    def metrics(self) -> dict:
        status, text = self.call("/api/metrics")
        assert status == 200
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for fam in text_string_to_metric_families(text) for s in fam.samples}

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(timeout=30) == 0


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    routing.train(d)  # backend/cli/train_model.py, before the service starts
    return d


@pytest.fixture(scope="module")
def service(model_dir):
    s = Service(model_dir)
    yield s
    if s.proc.poll() is None:
        s.proc.kill()
        s.proc.wait()


def test_health(service):
    status, body = service.call("/api/health")
    assert status == 200 and body["status"] == "healthy" and body["uptime_seconds"] >= 0
    assert body["timestamp"].endswith("Z")


def test_routine_traffic_is_not_drift(service):
    items, truth = routing.make_items(1200, seed=2)
    answers = []
    for i in range(0, len(items), 300):
        answers += service.predict(items[i:i + 300], T0 + i)
    assert sum(a["routing"] == t for a, t in zip(answers, truth)) / len(truth) > 0.95
    _, st = service.call("/api/drift/status")
    assert st["buffer_size"] == 1000 and not st["drift_detected"], st
    assert st["level"] in ("normal", "watch") and not st["should_retrain"]


def test_a_new_product_line_is_drift(service):
    items, _ = routing.make_items(1000, seed=3, new_line=True)
    for i in range(0, len(items), 250):
        service.predict(items[i:i + 250], T0 + DAY + i)
    _, st = service.call("/api/drift/status")
    assert st["drift_detected"] and st["kl_divergence"] > st["threshold"], st
    assert st["level"] in ("drift", "severe") and st["buffer_mean"] < 0.9
    if st["level"] == "severe":
        assert st["should_retrain"]  # one severe event is enough

    status, s = service.call("/api/drift/summary?days=7")
    assert status == 200 and s["period_days"] == 7
    assert s["drift_count"] == len(s["events"]) >= 1
    assert s["max_kl_divergence"] >= s["events"][0]["max_kl"] > st["threshold"]
    assert s["avg_event_kl_divergence"] > st["threshold"]
    assert s["avg_kl_divergence"] < s["max_kl_divergence"]
    assert service.call("/api/drift/summary?days=zero")[0] == 400
    assert service.call("/api/drift/summary?days=-1")[0] == 400

    m = service.metrics()
    assert m[("faultlens_drift_detected", (("name", "routing"),))] == 1.0
    assert m[("faultlens_drift_level", (("level", st["level"]), ("name", "routing")))] == 1.0
    assert m[("faultlens_drift_kl", (("name", "routing"),))] == pytest.approx(st["kl_divergence"])
    assert m[("faultlens_drift_scores_total", (("name", "routing"),))] == 2200
    assert m[("routing_ml_predictions_total", ())] == 2200
    assert m[("routing_ml_uptime_seconds", ())] > 0
    assert m[("routing_ml_errors_total", ())] == 2  # the two bad summaries above
    _, j = service.call("/api/metrics/json")
    assert j["routing_ml_predictions_total"] == 2200


def test_bad_requests(service):
    assert service.call("/api/predict", {"items": "not a list"})[0] == 400
    assert service.call("/api/predict", {"items": []})[0] == 400
    assert service.call("/api/predict", {"items": ["x"], "timestamp": "yesterday"})[0] == 400


def test_restart_keeps_the_window_then_reset(service, model_dir):
    _, before = service.call("/api/drift/status")
    service.stop()
    again = Service(model_dir)
    try:
        _, after = again.call("/api/drift/status")
        assert after == before
        status, body = again.call("/api/drift/reset", method="POST")
        assert status == 200 and "reset" in body["message"]
        _, st = again.call("/api/drift/status")
        assert st["buffer_size"] == 0 and st["level"] == "filling" and not st["drift_detected"]
        _, s = again.call("/api/drift/summary?days=7")
        assert s["drift_count"] == 0 and not s["should_retrain"]
    finally:
        again.stop()
