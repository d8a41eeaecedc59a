#!/usr/bin/env bash
# The Node binding's tests and its real consumer path; `make test-node` runs it from the
# repository root after `make dist-node` (bindings-node/scripts/dist.sh) has built the addon and
# packed dist/faultlens-<version>.tgz + dist/faultlens-binding-<platform>-<version>.tgz. Steps:
#   1. `npm test` in bindings-node (node --test test/) against the addon dist built there;
#   2. with cargo, rustc and rustup off PATH (scripts/without-rust.sh), a fresh copy of
#      examples/node-express in a temp folder: `npm install` of the two tarballs (and express,
#      prom-client, a Prometheus text parser), timed, with no install script run, then the
#      example's own tests (an Express server on 127.0.0.1, ephemeral port; its /metrics come
#      from faultlens/prometheus and are parsed);
#   3. `tsc --strict` (no skipLibCheck) on a TypeScript file using the shipped index.d.ts and
#      prometheus.d.ts;
#   4. the platform package removed: `require('faultlens')` fails with one error naming the platform.
#
# Environment: DIST (default <root>/dist). Needs node >= 18, npm, and the npm registry (express,
# prom-client, parse-prometheus-text-format, typescript).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PKG="$ROOT/bindings-node"
DIST="${DIST:-$ROOT/dist}"
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
NO_RUST="$ROOT/scripts/without-rust.sh"

start=$(date +%s)
step() { echo "== node: $* (+$(( $(date +%s) - start ))s)"; }
status=0

for tool in node npm; do
    command -v "$tool" >/dev/null || { echo "node tests need $tool on PATH" >&2; exit 1; }
done
node -e 'process.exit(+process.versions.node.split(".")[0] >= 18 ? 0 : 1)' \
    || { echo "node >= 18 needed, found $(node --version)" >&2; exit 1; }
version="$(node -p "require('$PKG/package.json').version")"
main="$DIST/faultlens-$version.tgz"
plat=("$DIST"/faultlens-binding-*-"$version".tgz)
for t in "$main" "${plat[@]}"; do
    [[ -f "$t" ]] || { echo "missing $t: run make dist-node first" >&2; exit 1; }
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/faultlens-node.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

cd "$PKG"
step "npm test in bindings-node (node $(node --version), npm $(npm --version))"
timeout 600 npm test || status=1

step "examples/node-express in a fresh folder: npm install of the tarballs, no Rust on PATH"
mkdir -p "$WORK/examples"
cp -r "$ROOT/examples/data" "$WORK/examples/data"
mkdir -p "$WORK/examples/node-express"
cp -r "$ROOT/examples/node-express/"*.mjs "$ROOT/examples/node-express/test" "$WORK/examples/node-express/"
APP="$WORK/examples/node-express"
cd "$APP"
# The example's manifest minus its dependencies (faultlens points into the checkout); npm install
# below writes the tarballs and the registry packages in.
node -e '
const fs = require("fs")
const pkg = JSON.parse(fs.readFileSync(process.argv[1], "utf8"))
delete pkg.dependencies
delete pkg.devDependencies
fs.writeFileSync("package.json", JSON.stringify(pkg, null, 2) + "\n")' "$ROOT/examples/node-express/package.json"
# The registry packages first (their download time is not faultlens's install time), then
# faultlens alone.
timeout 600 "$NO_RUST" npm install --no-package-lock express@5 prom-client@15 parse-prometheus-text-format@1 >/dev/null
t0=$(date +%s%N)
timeout 600 "$NO_RUST" npm install --no-package-lock --foreground-scripts "$main" "${plat[@]}" 2>&1 | tee "$WORK/install.log"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "node: npm install of the two tarballs took ${ms} ms (goal: <= 10000 ms)"
if grep -qi "install script\|allowScripts" "$WORK/install.log"; then
    echo "!! node: npm reported install scripts for faultlens" >&2; status=1
fi
if find node_modules/faultlens -name '*.node' | grep -q .; then
    echo "!! node: the main package carries an addon; it belongs in the platform package" >&2; status=1
fi
step "examples/node-express: npm test against the installed tarballs"
timeout 300 "$NO_RUST" npm test || status=1

step "tsc --strict on the shipped index.d.ts and prometheus.d.ts"
timeout 600 npm install --no-package-lock --no-save typescript@5 @types/node@20 >/dev/null
cat > check.ts <<'TS'
import { Preprocessor, Resolver, SimilarityIndex, TextIndex, TfidfVectorizer, version } from 'faultlens'
import { register, unregister } from 'faultlens/prometheus'
import { Registry } from 'prom-client'

const pre = new Preprocessor()
const tokens: string[] = pre.tokens('Connection refused to 10.0.0.7:5432')
const v = new TfidfVectorizer({ ngramRange: [1, 2] })
v.fit(['Connection refused to 10.0.0.7:5432', 'Disk quota exceeded'])
const s: number = v.similarity('connection refused', 'Connection refused to 10.0.0.7:5432')
const index = new SimilarityIndex({ dim: 2 })
index.add([1, 2], new Float32Array([0, 1, 1, 0]), ['a', null])
const texts = new TextIndex()
const r = new Resolver()
const registry = new Registry()
register(r, 'elk', registry)
register(index, 'incidents', registry)
const removed: boolean = unregister('elk', registry)
console.log(version(), tokens.length, s, index.len(), typeof texts, typeof r, removed)
TS
cat > tsconfig.json <<'JSON'
{ "compilerOptions": { "strict": true, "noEmit": true, "module": "nodenext", "moduleResolution": "nodenext",
  "target": "es2022", "types": ["node"] }, "files": ["check.ts"] }
JSON
timeout 300 npx tsc -p tsconfig.json || { echo "!! node: tsc --strict rejected index.d.ts" >&2; status=1; }

step "a missing platform package gives one error naming the platform"
mv node_modules/@faultlens "$WORK/hidden"
out="$(node -e "require('faultlens')" 2>&1)" && { echo "!! node: faultlens loaded without its platform package" >&2; status=1; }
mv "$WORK/hidden" node_modules/@faultlens
first="$(grep -m1 '^Error' <<< "$out" || true)"
echo "node: $first"
if ! grep -q "no native addon for this platform (linux-x64-gnu)" <<< "$first" \
    || ! grep -q "@faultlens/binding-linux-x64-gnu@$version" <<< "$first"; then
    echo "!! node: the missing-platform error does not name the platform and its package:" >&2
    echo "$out" | head -20 >&2
    status=1
fi

step "done in $(( $(date +%s) - start ))s (status $status)"
exit "$status"
