"""The ELK auto-resolver's API server (api_server.py) on faultlens, with Flask.

    GET  /health    {"status": "healthy", "version": ..., "knowledge": n}
    POST /resolve   {"error_text": "...", "method_preference": "auto"}  (also "rule_based",
                    "similarity", "ml_only") -> the cascade's answer; act on `final_solution`
                    (null when the resolver abstains; `best_guess` is then only a hint)
    POST /feedback  {"error_text": "...", "solution": "...", "success": true} -> the outcome as
                    recorded (which past error matched, its similarity)
    GET  /summary   the monitoring summary: latency, confidence, success rate per stage/solution
    GET  /metrics   Prometheus text: this service's counters and the resolver's families, both
                    through prometheus_client (faultlens.prometheus.register)

Run:  python app.py [--port 8000] [--model-dir models]
(trains into --model-dir on first start; the resolver, feedback included, is saved there again
on SIGTERM / Ctrl-C, so a restart keeps what it learned). PORT 0 picks a free port; the URL is
printed on start.
"""

from __future__ import annotations

import argparse
import pathlib
import signal
import sys
import threading

import faultlens
import faultlens.prometheus
import prometheus_client
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

import resolver as elk


def create_app(resolver: faultlens.Resolver, registry: prometheus_client.CollectorRegistry) -> Flask:
    app = Flask(__name__)
    requests_total = prometheus_client.Counter(
        "elk_resolver_requests", "HTTP requests by route.", ["route"], registry=registry)
    faultlens.prometheus.register(resolver, name="elk", registry=registry)
    lock = threading.Lock()  # feedback and saving: one writer at a time (resolve needs none)

    @app.get("/health")
    def health():
        requests_total.labels("/health").inc()
        return jsonify({"status": "healthy", "version": faultlens.version(), "knowledge": resolver.knowledge_size()})

    @app.post("/resolve")
    def resolve():
        requests_total.labels("/resolve").inc()
        data = request.get_json(silent=True)
        if not isinstance(data, dict) or not isinstance(data.get("error_text"), str) or not data["error_text"].strip():
            return jsonify({"error": 'body must be JSON with "error_text": a non-empty string'}), 400
        preference = data.get("method_preference", "auto")
        if preference not in elk.METHODS:
            return jsonify({"error": f"method_preference must be one of {sorted(elk.METHODS)}"}), 400
        try:
            return jsonify(elk.answer(resolver, data["error_text"], preference))
        except faultlens.InvalidInputError as e:  # e.g. a text over max_text_bytes
            return jsonify({"error": str(e)}), 400

    @app.post("/feedback")
    def feedback():
        requests_total.labels("/feedback").inc()
        data = request.get_json(silent=True)
        if (not isinstance(data, dict) or not isinstance(data.get("error_text"), str)
                or not isinstance(data.get("solution"), str) or not isinstance(data.get("success"), bool)):
            return jsonify({"error": 'body must be {"error_text": str, "solution": str, "success": bool}'}), 400
        try:
            with lock:
                resolver.record_outcome(data["error_text"], data["solution"], data["success"])
                outcome = resolver.outcomes()[-1]
        except faultlens.InvalidInputError as e:
            return jsonify({"error": str(e)}), 400
        return jsonify(outcome)

    @app.get("/summary")
    def summary():
        requests_total.labels("/summary").inc()
        return jsonify(resolver.summary())

    @app.get("/metrics")
    def metrics():
        return prometheus_client.generate_latest(registry), 200, {"Content-Type": prometheus_client.CONTENT_TYPE_LATEST}

    return app


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--model-dir", type=pathlib.Path, default=pathlib.Path("models"))
    args = ap.parse_args(argv[1:])

    resolver = elk.load_or_build(args.model_dir)
    registry = prometheus_client.CollectorRegistry()
    server = make_server("127.0.0.1", args.port, create_app(resolver, registry), threaded=True)

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
        # An atomic save: a failed one leaves the previous file as it was.
        resolver.save(str(args.model_dir / elk.RESOLVER_FILE))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
