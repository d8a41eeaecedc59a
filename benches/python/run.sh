#!/usr/bin/env bash
# Side-by-side benchmark: scikit-learn vs faultlens on the same Loghub lines in one run.
# Usage (from the repo root): make bench-python  [LINES=200000]
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=build/venv-bench
# `run.sh classify`: the classifier side-by-side (benches/python/bench_classify.py) instead.
if [ "${1:-}" = classify ]; then
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q scikit-learn ./bindings-python
    exec "$VENV/bin/python" benches/python/bench_classify.py --json build/bench-classify.json "${@:2}"
fi
# `run.sh trust`: the trust protocol (temporal, cross-system, random splits) beside scikit-learn.
if [ "${1:-}" = trust ]; then
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q scikit-learn scipy ./bindings-python
    exec "$VENV/bin/python" benches/python/bench_trust.py --json build/bench-trust.json "${@:2}"
fi
# `run.sh arrow`: Parquet -> WindowAggregator (vs dict+deque, polars, the Rust core) and Arrow
# batch predict/resolve_batch vs the Rust core (benches/python/bench_arrow_*.py).
if [ "${1:-}" = arrow ]; then
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q pyarrow polars ./bindings-python
    cargo build --release -p faultlens-suite --features parquet-bench --example arrow_baseline
    "$VENV/bin/python" benches/python/bench_arrow_window.py --events "${EVENTS:-3000000}" --json build/bench-arrow-window.json
    exec "$VENV/bin/python" benches/python/bench_arrow_batch.py --lines "${LINES:-200000}" --json build/bench-arrow-batch.json
fi
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q scikit-learn nltk ./bindings-python
"$VENV/bin/python" benches/python/bench_tfidf.py --lines "${LINES:-16000}" --json build/bench-tfidf.json
"$VENV/bin/python" benches/python/bench_resolve.py --json build/bench-resolve.json
# Sliding-window incidents: faultlens vs plain Python (dict + deque) and pandas, same events.
"$VENV/bin/pip" install -q pandas
"$VENV/bin/python" benches/python/bench_window.py --events "${EVENTS:-3000000}" --json build/bench-window.json
