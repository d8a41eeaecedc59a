#!/usr/bin/env bash
# The Python binding's real install path, as a user gets it; `make test-python` runs it from the
# repository root. Steps: a fresh venv at build/venv-py, `pip install ./bindings-python` (PEP 517:
# pip's build isolation fetches maturin from PyPI, maturin runs cargo), pytest, then the tests
# against the *installed* package (never the source folder bindings-python/python/faultlens).
#
# Environment: CARGO_TARGET_DIR (the Makefile exports <root>/target; same default here),
# PYTHON (default python3, 3.9+). Needs network access to PyPI and crates.io only.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
PYTHON="${PYTHON:-python3}"
VENV="$ROOT/build/venv-py"
TESTS="$ROOT/bindings-python/tests"

start=$(date +%s)
echo "== python: fresh venv at ${VENV#"$ROOT"/} ($("$PYTHON" --version 2>&1))"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
PY="$VENV/bin/python"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_PROGRESS_BAR=off

echo "== python: pip install ./bindings-python (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
"$PY" -m pip install ./bindings-python
"$PY" -m pip install pytest joblib prometheus_client   # joblib: pickling test; prometheus_client: metrics parser
# scikit-learn: the estimator-protocol tests (test_sklearn.py); it stays optional for users.
"$PY" -m pip install scikit-learn
# pyarrow and polars: the Arrow in/out tests (test_arrow.py); both stay optional for users.
"$PY" -m pip install pyarrow polars

echo "== python: pytest (installed package: $(cd / && "$PY" -c 'import faultlens; print(faultlens.__file__)'))"
# Run from the tests folder with a safe sys.path (PYTHONSAFEPATH: the current directory is not
# prepended), so `import faultlens` can only resolve to the installed wheel.
cd "$TESTS"
status=0
FAULTLENS_EXPECT_INSTALLED=1 PYTHONSAFEPATH=1 "$PY" -m pytest \
    -p no:cacheprovider --rootdir "$TESTS" -q -rs "$TESTS" || status=$?
echo "== python: examples/python/resolver.py against the installed package"
(cd / && PYTHONSAFEPATH=1 "$PY" "$ROOT/examples/python/resolver.py") || status=1
echo "== python: done in $(( $(date +%s) - start ))s (pytest exit status $status)"
exit "$status"
