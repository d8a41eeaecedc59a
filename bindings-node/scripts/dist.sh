#!/usr/bin/env bash
# `make dist-node`: the napi-rs release layout as two `npm pack` tarballs in dist/:
#   faultlens-<version>.tgz                           JS loader (faultlens.js -> napi's index.js) + index.d.ts,
#                                                     faultlens/prometheus (prometheus.js + .d.ts),
#                                                     optionalDependencies on the platform package
#   faultlens-binding-linux-x64-gnu-<version>.tgz     @faultlens/binding-linux-x64-gnu: the prebuilt .node
# Neither has an install script. Steps: the napi CLI (devDependency, `npm ci`), `napi build
# --platform --release --target $TRIPLE` into the shared CARGO_TARGET_DIR (the same profile and
# triple as the C library and the wheel, so the core is compiled once), a check that the
# committed index.js / index.d.ts are what napi generates, then a staging copy under
# build/npm where `napi pre-publish --skip-optional-publish` wires the platform package in as an
# optional dependency (what a real release publishes), and `npm pack` of both.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PKG="$ROOT/bindings-node"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
DIST="${DIST:-$ROOT/dist}"
TRIPLE="${TRIPLE:-$(rustc -vV | sed -n 's/^host: //p')}"
STAGE="$ROOT/build/npm"
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

cd "$PKG"
version="$(node -p 'require("./package.json").version')"
scope="$(node -p 'require("./package.json").napi.packageName')"
# napi's platform name for the triple: x86_64-unknown-linux-gnu -> linux-x64-gnu.
platform="$(node -e '
const [arch, , os, abi] = process.argv[1].split("-")
const a = { x86_64: "x64", aarch64: "arm64", i686: "ia32", armv7: "arm" }[arch] ?? arch
const o = { darwin: "darwin", windows: "win32", linux: "linux" }[os] ?? os
console.log([o, a, abi].filter(Boolean).join("-"))' "$TRIPLE")"
binary="faultlens.$platform.node"

if [[ ! -x node_modules/.bin/napi || ! -d node_modules/prom-client ]]; then
    echo "== node dist: npm ci (the napi CLI; prom-client and a parser for the tests)"
    timeout 600 npm ci --ignore-scripts
fi

echo "== node dist: napi build --platform --release --target $TRIPLE"
committed="$(mktemp -d)"
trap 'rm -rf "$committed"' EXIT
cp index.js index.d.ts "$committed/"
timeout 3600 npx napi build --platform --release --target "$TRIPLE"
status=0
for f in index.js index.d.ts; do
    if ! cmp -s "$f" "$committed/$f"; then
        echo "!! node dist: bindings-node/$f changed when napi build regenerated it: commit the new file" >&2
        diff -u "$committed/$f" "$f" | head -40 >&2 || true
        status=1
    fi
done
[[ $status -eq 0 ]] || exit 1

echo "== node dist: staging $STAGE"
rm -rf "$STAGE"
mkdir -p "$STAGE/faultlens/npm/$platform" "$DIST"
cp package.json faultlens.js index.js index.d.ts prometheus.js prometheus.d.ts README.md LICENSE-MIT LICENSE-APACHE "$STAGE/faultlens/"
cp "npm/$platform/package.json" "npm/$platform/README.md" LICENSE-MIT LICENSE-APACHE "$STAGE/faultlens/npm/$platform/"
cp "$binary" "$STAGE/faultlens/npm/$platform/$binary"
# The symbol table is not needed to load or run the addon (its exports are dynamic symbols).
strip --strip-unneeded "$STAGE/faultlens/npm/$platform/$binary"
# The published main package.json: optionalDependencies on every platform package at this exact
# version, as `napi pre-publish` writes them (its own run also wants a git repository and a
# GitHub release, which a local build has not), and no devDependencies or scripts: nothing runs
# at install, nothing points at the napi CLI a user does not have.
node -e '
const fs = require("fs"), file = process.argv[1]
const pkg = JSON.parse(fs.readFileSync(file, "utf8"))
const platformOf = (triple) => {
  const [arch, , os, abi] = triple.split("-")
  const a = { x86_64: "x64", aarch64: "arm64", i686: "ia32", armv7: "arm" }[arch] ?? arch
  const o = { darwin: "darwin", windows: "win32", linux: "linux" }[os] ?? os
  return [o, a, abi].filter(Boolean).join("-")
}
pkg.optionalDependencies = Object.fromEntries(
  pkg.napi.targets.map((t) => [`${pkg.napi.packageName}-${platformOf(t)}`, pkg.version]))
delete pkg.devDependencies
delete pkg.scripts
fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + "\n")' "$STAGE/faultlens/package.json"

rm -f "$DIST/faultlens-$version.tgz" "$DIST"/faultlens-binding-*.tgz
(cd "$STAGE/faultlens/npm/$platform" && npm pack --pack-destination "$DIST" >/dev/null)
(cd "$STAGE/faultlens" && rm -rf npm && npm pack --pack-destination "$DIST" >/dev/null)
main="$DIST/faultlens-$version.tgz"
plat="$DIST/$(echo "${scope#@}" | tr / -)-$platform-$version.tgz"
for t in "$main" "$plat"; do [[ -f "$t" ]] || { echo "npm pack did not write $t" >&2; exit 1; }; done

# The main tarball holds no addon and no install hook; the platform tarball holds the addon.
# Listings are read whole first: `tar | grep -q` under pipefail fails when grep stops early and
# tar dies of SIGPIPE.
main_files="$(tar -tzf "$main")"
plat_files="$(tar -tzf "$plat")"
grep -q '\.node$' <<<"$main_files" && { echo "$main must not contain a .node file" >&2; exit 1; }
grep -qx "package/$binary" <<<"$plat_files" || { echo "$plat lacks $binary" >&2; exit 1; }
for f in faultlens.js index.js index.d.ts prometheus.js prometheus.d.ts; do
    grep -qx "package/$f" <<<"$main_files" || { echo "$main lacks $f" >&2; exit 1; }
done
for t in "$main" "$plat"; do
    files="$(tar -tzf "$t")"
    for f in LICENSE-MIT LICENSE-APACHE README.md; do
        grep -qx "package/$f" <<<"$files" || { echo "$t lacks $f" >&2; exit 1; }
    done
    tar -xzOf "$t" package/package.json | node -e '
const pkg = JSON.parse(require("fs").readFileSync(0, "utf8"))
const hooks = ["preinstall", "install", "postinstall", "prepare"].filter((s) => pkg.scripts?.[s])
if (hooks.length) { console.error(`${pkg.name} has install-time scripts: ${hooks}`); process.exit(1) }'
done
ls -l "$main" "$plat"
