"""The ELK auto-resolver service as its own process on a loopback port: real HTTP requests, its
/metrics parsed with prometheus_client's own parser, and a restart that keeps the feedback."""

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

HERE = Path(__file__).resolve().parent


class Service:
    def __init__(self, model_dir: Path):
        env = {k: v for k, v in os.environ.items() if k != "PYTHONSAFEPATH"}  # app.py imports its sibling
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "app.py"), "--port", "0", "--model-dir", str(model_dir)],
            cwd=HERE, env=env, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()  # blocks until the server listens (or exits)
        m = re.match(r"listening on (http://127\.0\.0\.1:\d+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"service did not start: {line!r} (exit {self.proc.wait()})")
        self.base = m.group(1)

    def call(self, path: str, body: dict | None = None) -> tuple[int, dict | str]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, text, ctype = r.status, r.read().decode(), r.headers["content-type"]
        except urllib.error.HTTPError as e:
            status, text, ctype = e.code, e.read().decode(), e.headers["content-type"]
        return status, json.loads(text) if ctype.startswith("application/json") else text

    def metrics(self) -> dict:
        status, text = self.call("/metrics")
        assert status == 200
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for fam in text_string_to_metric_families(text) for s in fam.samples}

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(timeout=30) == 0


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def service(model_dir):
    s = Service(model_dir)
    yield s
    if s.proc.poll() is None:
        s.proc.kill()
        s.proc.wait()


def test_health(service):
    status, body = service.call("/health")
    assert status == 200 and body["status"] == "healthy" and body["knowledge"] == 32


@pytest.mark.parametrize("error, solution", [
    ("elasticsearch connection refused port 9200", "restart_elasticsearch"),
    ("kibana memory heap space error", "increase_kibana_memory"),
    ("logstash pipeline configuration syntax error", "fix_logstash_config"),
])
def test_rules_answer_first(service, error, solution):
    status, body = service.call("/resolve", {"error_text": error})
    assert status == 200
    assert (body["method_used"], body["final_solution"], body["confidence"]) == ("exact_match", solution, 1.0)
    assert body["command"].startswith("kubectl")


def test_a_past_error_answers_by_similarity(service):
    status, body = service.call("/resolve", {"error_text": "filebeat failed to open /var/log/nginx/error.log: permission denied"})
    assert status == 200, body
    assert body["method_used"] == "similarity_match" and body["final_solution"] == "fix_permissions", body
    assert body["confidence"] >= 0.7 and body["similar_errors"][0]["solution"] == "fix_permissions"


def test_method_preference(service):
    status, body = service.call("/resolve", {"error_text": "kibana heap space exceeded again", "method_preference": "ml_only"})
    assert status == 200 and body["method_used"] == "ml_prediction"
    assert body["predictions"][0]["label"] == "increase_kibana_memory"
    status, body = service.call("/resolve", {"error_text": "x", "method_preference": "bert_only"})
    assert status == 400 and "method_preference" in body["error"]
    status, body = service.call("/resolve", {"text": "wrong field"})
    assert status == 400 and "error_text" in body["error"]


def test_unknown_error_abstains(service):
    status, body = service.call("/resolve", {"error_text": "the flux capacitor hummed an unfamiliar tune"})
    assert status == 200
    assert body["final_solution"] is None and not body["reliable"] and body["novel"]


def test_feedback_summary_and_metrics(service):
    text = "filebeat harvester: permission denied on /var/log/secure"
    _, answer = service.call("/resolve", {"error_text": text})
    assert answer["method_used"] == "similarity_match" and answer["final_solution"] == "fix_permissions", answer
    status, outcome = service.call("/feedback", {"error_text": text, "solution": "fix_permissions", "success": True})
    assert status == 200
    # The outcome names the past error whose solution was applied (the similarity_matches row).
    assert outcome["method"] == "similarity_match" and outcome["matched_id"] == answer["similar_errors"][0]["id"]
    assert outcome["similarity"] == pytest.approx(answer["similar_errors"][0]["similarity"])
    status, body = service.call("/feedback", {"error_text": text, "solution": "fix_permissions"})
    assert status == 400

    _, summary = service.call("/summary")
    assert summary["by_solution"]["fix_permissions"]["success"] == 1
    assert summary["by_stage"]["similarity_match"]["success_rate"] == 1.0
    assert summary["max_latency_ms"] >= summary["mean_latency_ms"] > 0

    m = service.metrics()
    resolutions = sum(v for (name, labels), v in m.items()
                      if name == "faultlens_resolutions_total" and ("name", "elk") in labels)
    assert resolutions == summary["total"]
    assert m[("faultlens_outcomes_total", (("method", "similarity_match"), ("name", "elk"), ("result", "success")))] == 1
    assert m[("faultlens_resolve_latency_seconds_count", (("name", "elk"),))] == summary["total"]
    assert m[("elk_resolver_requests_total", (("route", "/feedback"),))] == 2


def test_a_failure_lowers_confidence(service):
    # One failure halves the confidence of later answers resting on the same past error: below
    # this solution's threshold (0.8), the similarity stage no longer answers on its own.
    text = "elasticsearch master not discovered, cluster state red"
    ask = {"error_text": text, "method_preference": "similarity"}
    _, before = service.call("/resolve", ask)
    assert before["method_used"] == "similarity_match" and before["final_solution"] == "restart_elasticsearch", before
    service.call("/feedback", {"error_text": text, "solution": "restart_elasticsearch", "success": False})
    _, after = service.call("/resolve", ask)
    assert after["confidence"] == pytest.approx(before["confidence"] / 2)
    assert after["final_solution"] is None and after["best_guess"] == "restart_elasticsearch"


def test_restart_keeps_feedback(service, model_dir):
    _, before = service.call("/summary")
    service.stop()
    again = Service(model_dir)
    try:
        _, after = again.call("/summary")
        assert after["by_solution"] == before["by_solution"]
        assert after["total"] == 0  # latency and counts start over; outcomes are kept
    finally:
        again.stop()
