#!/usr/bin/env bash
# The Python binding's real install path, as a user gets it; `make test-python` runs it from the
# repository root after `make dist-python` has built dist/faultlens-<version>-cp39-abi3-*.whl.
# Steps: a fresh venv at build/venv-py, `pip install` of that wheel with cargo, rustc and rustup
# off PATH (scripts/without-rust.sh: nothing may build from source), pytest, then the tests
# against the *installed* package (never the source folder bindings-python/python/faultlens).
#
# Then the seed-flow examples (examples/python/elk_resolver, routing_drift): Flask services
# started on 127.0.0.1, called over HTTP, their metrics parsed with prometheus_client's parser.
#
# Environment: DIST (default <root>/dist), PYTHON (default python3, 3.9+). Needs PyPI (numpy,
# scipy, pytest, prometheus_client, flask, ...).
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

VERSION="$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' Cargo.toml)"
wheels=("${DIST:-$ROOT/dist}"/faultlens-"$VERSION"-cp39-abi3-*.whl)
[[ -f "${wheels[0]}" ]] || { echo "no wheel for $VERSION in ${DIST:-$ROOT/dist}: run make dist-python first" >&2; exit 1; }
echo "== python: numpy and scipy from PyPI, then pip install ${wheels[0]#"$ROOT"/} without Rust on PATH"
"$PY" -m pip install -q numpy scipy
t0=$(date +%s%N)
"$ROOT/scripts/without-rust.sh" "$PY" -m pip install "${wheels[0]}"
echo "python: pip install of the wheel took $(( ($(date +%s%N) - t0) / 1000000 )) ms (goal: <= 10000 ms)"
"$PY" -m pip install pytest joblib prometheus_client   # joblib: pickling test; prometheus_client: metrics parser
# flask: the example services (examples/python/*/app.py); it stays optional for users.
"$PY" -m pip install flask
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
echo "== python: examples/python/elk_resolver and routing_drift (Flask services on 127.0.0.1)"
t0=$(date +%s)
# Run from the examples folder: each test imports its sibling module (resolver.py, routing.py);
# neither folder holds a faultlens package, so `import faultlens` is still the installed wheel.
(cd "$ROOT/examples/python" && "$PY" -m pytest -p no:cacheprovider --rootdir . -q -rs elk_resolver routing_drift) || status=1
echo "python: the example services took $(( $(date +%s) - t0 )) s"
echo "== python: done in $(( $(date +%s) - start ))s (pytest exit status $status)"
exit "$status"
