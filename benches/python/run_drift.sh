#!/usr/bin/env bash
# Side-by-side drift benchmark: faultlens vs river and scipy/numpy on the same seeded streams.
# Usage (from the repo root): bash benches/python/run_drift.sh  [N_FREE=1000000]
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=build/venv-bench
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q scipy river ./bindings-python
"$VENV/bin/python" benches/python/bench_drift.py --n-free "${N_FREE:-1000000}" --json build/bench-drift.json
