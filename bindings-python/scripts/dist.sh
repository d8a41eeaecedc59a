#!/usr/bin/env bash
# `make dist-python`: the abi3 wheel and the sdist into dist/, built with maturin from a pinned
# tools venv (build/venv-tools). The wheel is built with the same release profile and explicit
# target triple as the C library and the napi build, in the shared CARGO_TARGET_DIR, so it reuses
# their compiled core. The manylinux tag is the lowest one maturin's own audit can claim for this
# library; `auditwheel show` must agree with it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
DIST="${DIST:-$ROOT/dist}"
TRIPLE="${TRIPLE:-$(rustc -vV | sed -n 's/^host: //p')}"
PYTHON="${PYTHON:-python3}"
TOOLS="$ROOT/build/venv-tools"
MATURIN_VERSION=1.16.0
AUDITWHEEL_VERSION=6.8.2
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_PROGRESS_BAR=off

if [[ "$("$TOOLS/bin/maturin" --version 2>/dev/null)" != "maturin $MATURIN_VERSION" ]] \
    || ! "$TOOLS/bin/python" -c 'import auditwheel' 2>/dev/null; then
    echo "== python dist: tools venv (maturin $MATURIN_VERSION, auditwheel $AUDITWHEEL_VERSION)"
    rm -rf "$TOOLS"
    "$PYTHON" -m venv "$TOOLS"
    "$TOOLS/bin/pip" install -q "maturin==$MATURIN_VERSION" "auditwheel==$AUDITWHEEL_VERSION"
fi

VERSION="$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' Cargo.toml)"
mkdir -p "$DIST"
rm -f "$DIST"/faultlens-*.whl "$DIST/faultlens-$VERSION.tar.gz"

echo "== python dist: maturin build --release --target $TRIPLE"
# --auditwheel check: fail rather than bundle (repair) if the library needed anything beyond
# the manylinux policy; it needs nothing but glibc. --strip: no symbol table in the extension
# (debug info is already off in the release profile); it applies to the final link only, so the
# shared dependencies are not rebuilt.
"$TOOLS/bin/maturin" build --release --target "$TRIPLE" -m bindings-python/Cargo.toml \
    --auditwheel check --strip --out "$DIST"
echo "== python dist: maturin sdist"
"$TOOLS/bin/maturin" sdist -m bindings-python/Cargo.toml --out "$DIST"

wheels=("$DIST"/faultlens-"$VERSION"-cp39-abi3-*.whl)
[[ ${#wheels[@]} -eq 1 && -f "${wheels[0]}" ]] || { echo "expected one abi3 wheel for $VERSION in $DIST" >&2; exit 1; }
wheel="${wheels[0]}"
tag="$(basename "$wheel" .whl | sed 's/.*-cp39-abi3-//')"
case "$tag" in
    manylinux*) ;;
    *) echo "the wheel's platform tag is $tag, not a manylinux tag" >&2; exit 1 ;;
esac
echo "== python dist: auditwheel show (the wheel claims $tag)"
show="$("$TOOLS/bin/auditwheel" show "$wheel")"
echo "$show"
# auditwheel names the platform tag the wheel is consistent with; for a policy-level tag such
# as manylinux_2_17_x86_64 it also names the alias manylinux2014. The claimed tag must be there.
claimed="${tag%%.*}"
grep -q "consistent with the following platform tag: \"${claimed}\"" <<< "$show" \
    || grep -q "\"${claimed}\"" <<< "$show" \
    || { echo "auditwheel does not confirm $claimed for $wheel" >&2; exit 1; }

"$TOOLS/bin/python" - "$wheel" "$DIST/faultlens-$VERSION.tar.gz" "$VERSION" <<'PY'
"""What a user gets: files and metadata inside the wheel and the sdist."""
import sys, tarfile, zipfile
wheel, sdist, version = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    names = set(z.namelist())
    meta = z.read(f"faultlens-{version}.dist-info/METADATA").decode()
need = ["faultlens/__init__.py", "faultlens/py.typed", "faultlens/_faultlens.pyi",
        f"faultlens-{version}.dist-info/licenses/LICENSE-MIT",
        f"faultlens-{version}.dist-info/licenses/LICENSE-APACHE"]
missing = [n for n in need if n not in names]
if not any(n.startswith("faultlens/_faultlens") and n.endswith(".so") for n in names):
    missing.append("faultlens/_faultlens*.so")
for field in ("Requires-Python: >=3.9", "License-Expression: MIT OR Apache-2.0",
              "Summary: Turn raw error and log text into decisions", "Project-URL: Repository",
              "Classifier: Typing :: Typed", "Requires-Dist: numpy"):
    if field not in meta:
        missing.append(f"METADATA {field!r}")
with tarfile.open(sdist) as t:
    snames = set(n.split("/", 1)[1] for n in t.getnames() if "/" in n)
for n in ["pyproject.toml", "Cargo.toml", "Cargo.lock", "LICENSE-MIT", "LICENSE-APACHE",
          "core/src/lib.rs", "core/src/stopwords_en.txt", "bindings-python/src/lib.rs",
          "python/faultlens/py.typed", "python/faultlens/_faultlens.pyi"]:
    if n not in snames:
        missing.append(f"sdist {n}")
if missing:
    sys.exit("missing from the Python artifacts: " + ", ".join(missing))
print(f"python dist: wheel and sdist carry the sources, stubs, py.typed, licences and metadata")
PY
ls -l "$wheel" "$DIST/faultlens-$VERSION.tar.gz"
