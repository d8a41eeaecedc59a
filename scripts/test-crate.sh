#!/usr/bin/env bash
# The packaged crate as a Rust user gets it; `make test-crate` runs it after `make dist-rust`.
#   1. dist/faultlens-<version>.crate holds the sources, the readme and the licences, and no
#      tests, fixtures or path-only dependencies;
#   2. a throwaway crate in a temp folder depends on the unpacked package by path and runs the
#      README's Rust snippet (the release profile and target triple of the other release builds,
#      the repository's Cargo.lock for the same dependency versions, offline).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIST="${DIST:-$ROOT/dist}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
TRIPLE="${TRIPLE:-$(rustc -vV | sed -n 's/^host: //p')}"
VERSION="$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' "$ROOT/Cargo.toml")"
crate="$DIST/faultlens-$VERSION.crate"
[[ -f "$crate" ]] || { echo "missing $crate: run make dist-rust first" >&2; exit 1; }
fail() { echo "!! crate: $*" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/faultlens-crate.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

echo "== crate: contents of $(basename "$crate") ($(du -k "$crate" | cut -f1) KiB)"
tar -C "$WORK" -xzf "$crate"
PKG="$WORK/faultlens-$VERSION"
for f in Cargo.toml README.md LICENSE-MIT LICENSE-APACHE src/lib.rs src/stopwords_en.txt; do
    [[ -f "$PKG/$f" ]] || fail "the package lacks $f"
done
unexpected="$(cd "$PKG" && find . -type f ! -path './src/*' \
    ! -name Cargo.toml ! -name Cargo.toml.orig ! -name Cargo.lock ! -name .cargo_vcs_info.json \
    ! -name README.md ! -name 'LICENSE-*' | sort)"
[[ -z "$unexpected" ]] || fail "unexpected files in the package: $unexpected"
awk '/^\[/{sec=$0} sec ~ /dependencies/ && /path *=/{found=1} END{exit !found}' "$PKG/Cargo.toml" \
    && fail "the packaged Cargo.toml still has a path dependency"
grep -q '^\[package.metadata.docs.rs\]' "$PKG/Cargo.toml" || fail "no docs.rs metadata"
grep -q "^version = \"$VERSION\"" "$PKG/Cargo.toml" || fail "the packaged version is not $VERSION"

echo "== crate: a throwaway crate runs the README's Rust snippet against the unpacked package"
APP="$WORK/app"
mkdir -p "$APP/src"
# The snippet: the README's first ```rust block.
awk '/^```rust$/{inb=1; next} /^```$/{if (inb) exit} inb' "$ROOT/README.md" > "$APP/src/main.rs"
grep -q 'fn main' "$APP/src/main.rs" || fail "README.md's Rust snippet has no fn main"
cat > "$APP/Cargo.toml" <<TOML
[package]
name = "faultlens-readme-snippet"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
faultlens = { path = "../faultlens-$VERSION" }
# Feature unification with the bindings' release builds (see bindings-c/Cargo.toml), so this
# build reuses their compiled dependencies instead of building a second set.
memchr = "2"

[build-dependencies]
syn = { version = "2", features = ["full", "extra-traits", "fold"] }
syn3 = { package = "syn", version = "3", features = ["full", "extra-traits", "fold", "visit-mut"] }

[workspace]
TOML
echo 'fn main() {}' > "$APP/build.rs"
cp "$ROOT/Cargo.lock" "$APP/Cargo.lock"
(cd "$APP" && cargo run --quiet --offline --release --target "$TRIPLE") | tee "$WORK/out.txt"
grep -q 'features' "$WORK/out.txt" || fail "the snippet printed nothing about features"
echo "crate: the packaged faultlens builds on its own and runs the README snippet"
