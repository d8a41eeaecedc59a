#!/usr/bin/env bash
# Side-by-side benchmark: hnswlib and numpy vs faultlens.SimilarityIndex on the same vectors.
# Usage (from the repo root): bash benches/python/run_index.sh [--n 100000] [--only random-384 exact ...]
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=build/venv-bench
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q numpy hnswlib ./bindings-python
"$VENV/bin/python" benches/python/bench_index.py --json build/bench-index.json "$@"
