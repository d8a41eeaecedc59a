"""The routing service's health, metrics and concept-drift API (Routing ML v4) on faultlens.

    POST /api/predict        {"items": ["SUS304 shaft turning ...", ...], "timestamp": 1759700000}
                             -> one {item, routing, confidence} per item; every confidence goes
                             to the drift detector ("timestamp", seconds since the epoch, is
                             optional: the clock is used without it; replays pass their own)
    GET  /api/health         {"status", "version", "uptime_seconds", "timestamp"}
    GET  /api/metrics        Prometheus text through prometheus_client: routing_ml_* and the
                             detector's faultlens_drift_* (faultlens.prometheus.register)
    GET  /api/metrics/json   the same numbers as JSON, for Grafana
    GET  /api/drift/status   {"drift_detected", "kl_divergence", "threshold", "buffer_size",
                             "buffer_mean", "buffer_std", "should_retrain", "level", ...}
    GET  /api/drift/summary?days=7
    POST /api/drift/reset    after retraining: empty the window, forget the events

Run:  python routing.py models && python app.py --model-dir models [--port 8000]
(PORT 0 picks a free port; the URL is printed on start. The detector, window and events
included, is saved beside the model on SIGTERM / Ctrl-C and loaded on the next start.)
"""

from __future__ import annotations

import argparse
import datetime
import math
import pathlib
import signal
import sys
import threading
import time

import faultlens
import faultlens.prometheus
import numpy as np
import prometheus_client
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

import routing


def create_app(clf: faultlens.TextClassifier, detector: faultlens.KlDriftDetector,
               registry: prometheus_client.CollectorRegistry) -> Flask:
    app = Flask(__name__)
    started = time.time()
    lock = threading.Lock()  # one writer of the detector at a time
    latency = {"sum": 0.0, "n": 0}

    prometheus_client.Gauge("routing_ml_uptime_seconds", "Service uptime.", registry=registry).set_function(
        lambda: time.time() - started)
    requests_total = prometheus_client.Counter("routing_ml_requests", "HTTP requests.", registry=registry)
    errors_total = prometheus_client.Counter("routing_ml_errors", "Requests answered with an error.", registry=registry)
    predictions_total = prometheus_client.Counter("routing_ml_predictions", "Items routed.", registry=registry)
    prometheus_client.Gauge("routing_ml_prediction_latency_avg", "Mean seconds per prediction request.",
                            registry=registry).set_function(lambda: latency["sum"] / latency["n"] if latency["n"] else 0.0)
    faultlens.prometheus.register(detector, name="routing", registry=registry)

    @app.before_request
    def count_request():
        requests_total.inc()

    @app.after_request
    def count_error(response):
        if response.status_code >= 400:
            errors_total.inc()
        return response

    def bad(message: str):
        return jsonify({"error": message}), 400

    @app.post("/api/predict")
    def predict():
        t0 = time.perf_counter()
        data = request.get_json(silent=True)
        items = data.get("items") if isinstance(data, dict) else None
        if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
            return bad('body must be JSON with "items": a non-empty list of strings')
        ts = data.get("timestamp")
        if ts is not None and (not isinstance(ts, (int, float)) or isinstance(ts, bool) or not math.isfinite(ts)):
            return bad('"timestamp" must be a number (seconds since the epoch)')
        proba = clf.predict_proba(items)
        best = proba.argmax(axis=1)
        confidences = proba[np.arange(len(items)), best]
        with lock:
            batch = detector.add_batch(confidences, ts)
            latency["sum"] += time.perf_counter() - t0
            latency["n"] += 1
        if batch["drift_starts"].size:
            app.logger.warning("drift detected: KL %.3f over the drift threshold %.3f",
                               batch["max_kl"], detector.thresholds()["drift"])
        predictions_total.inc(len(items))
        classes = clf.classes()
        return jsonify([{"item": item, "routing": classes[b], "confidence": float(c)}
                        for item, b, c in zip(items, best, confidences)])

    @app.get("/api/health")
    def health():
        return jsonify({"status": "healthy", "version": faultlens.version(),
                        "uptime_seconds": round(time.time() - started, 2),
                        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")})

    @app.get("/api/metrics")
    def metrics():
        return prometheus_client.generate_latest(registry), 200, {"Content-Type": prometheus_client.CONTENT_TYPE_LATEST}

    @app.get("/api/metrics/json")
    def metrics_json():
        return jsonify({s.name: s.value for fam in registry.collect() for s in fam.samples if not s.labels})

    @app.get("/api/drift/status")
    def drift_status():
        with lock:
            st = detector.status()
        return jsonify({
            "drift_detected": st["drift"],
            "kl_divergence": st["kl"],
            "threshold": st["thresholds"]["drift"],
            "buffer_size": st["n_window"],
            "buffer_mean": st["window_mean"],
            "buffer_std": st["window_std"],
            "should_retrain": st["should_retrain"],
            "level": st["level"],
            "thresholds": st["thresholds"],
        })

    @app.get("/api/drift/summary")
    def drift_summary():
        try:
            days = float(request.args.get("days", "7"))
        except ValueError:
            return bad("days must be a number")
        try:
            with lock:
                s = detector.summary(days)
        except faultlens.InvalidInputError as e:  # days <= 0, NaN
            return bad(str(e))
        events = s["events"]
        return jsonify({
            "period_days": s["days"],
            "drift_count": s["drift_count"],
            "max_kl_divergence": s["max_kl"],
            # Two readings, named plainly: the mean over every full-window check in the period,
            # and the mean of each drift event's largest KL.
            "avg_kl_divergence": s["mean_kl"],
            "avg_event_kl_divergence": sum(e["max_kl"] for e in events) / len(events) if events else None,
            "should_retrain": s["should_retrain"],
            "events": events,
        })

    @app.post("/api/drift/reset")
    def drift_reset():
        with lock:
            detector.reset()
        return jsonify({"message": "Drift detector buffer reset successfully"})

    return app


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--model-dir", type=pathlib.Path, default=pathlib.Path("models"))
    args = ap.parse_args(argv[1:])
    active = args.model_dir / "active"
    if not (active / routing.MODEL_FILE).exists():
        print(f"no model in {active}: run `python routing.py {args.model_dir}` first", file=sys.stderr)
        return 2
    clf = faultlens.TextClassifier.load(str(active / routing.MODEL_FILE))
    drift_file = active / routing.DRIFT_FILE
    detector = (faultlens.KlDriftDetector.load(str(drift_file)) if drift_file.exists()
                else routing.initialize_baseline_from_model(active))

    registry = prometheus_client.CollectorRegistry()
    server = make_server("127.0.0.1", args.port, create_app(clf, detector, registry), threaded=True)

    def stop(signum, frame):
        raise KeyboardInterrupt  # leaves serve_forever in this (the main) thread

    signal.signal(signal.SIGTERM, stop)
    print(f"listening on http://127.0.0.1:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        detector.save(str(drift_file))  # atomic: a failed save keeps the previous file
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
