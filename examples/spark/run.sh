#!/usr/bin/env bash
# `make test-spark`: the Spark example's checks (examples/spark/run_example.py) in local[2] on a
# small generated corpus. Needs Java 17+ (Spark 4): installed from Debian packages when absent.
# Python: the venv of `make test-python` (build/venv-py, faultlens installed) when it exists,
# else a fresh build/venv-spark with `pip install ./bindings-python`; pyspark from PyPI.
# Environment: LINES (default 10000), PYTHON (default python3).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
start=$(date +%s)

if ! java -version >/dev/null 2>&1; then
    echo "== spark: no Java; installing openjdk-17-jre-headless from Debian packages"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless
fi
echo "== spark: $(java -version 2>&1 | head -1)"

VENV="$ROOT/build/venv-py"
if ! "$VENV/bin/python" -c "import faultlens" >/dev/null 2>&1; then
    VENV="$ROOT/build/venv-spark"
    [ -x "$VENV/bin/python" ] || "${PYTHON:-python3}" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q ./bindings-python
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
# pandas < 3: pyspark 4.3 warns that it does not fully support pandas 3.
"$VENV/bin/python" -m pip install -q pyspark pyarrow "pandas<3"
export PYSPARK_PYTHON="$VENV/bin/python" PYSPARK_DRIVER_PYTHON="$VENV/bin/python"
mkdir -p "$ROOT/build/spark"
status=0
(cd / && PYTHONSAFEPATH=1 "$VENV/bin/python" "$ROOT/examples/spark/run_example.py" \
    --lines "${LINES:-10000}" --work "$ROOT/build/spark") || status=$?
echo "== spark: done in $(( $(date +%s) - start ))s (exit status $status)"
exit "$status"
