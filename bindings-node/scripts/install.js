#!/usr/bin/env node
// npm `install` hook of the faultlens package. It does nothing when a native addon is already
// there (a published tarball ships `faultlens.<platform>.node`; in a checkout, `npm run build`
// makes it). Otherwise, in a source checkout (`npm install /path/to/faultlens/bindings-node` from
// an app, where npm links the folder), it builds the addon with plain cargo, so no devDependency
// (@napi-rs/cli) is needed, and copies it to where the generated index.js looks for it.
// Set FAULTLENS_SKIP_BUILD=1 to skip the build (e.g. CI that runs `npm run build` itself).
'use strict'

const { execFileSync, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const pkgDir = path.resolve(__dirname, '..')
const log = (msg) => console.error(`faultlens install: ${msg}`)

function platformArchABI() {
  const { platform, arch } = process
  if (platform === 'linux') {
    const glibc = process.report?.getReport?.().header?.glibcVersionRuntime
    return `linux-${arch}-${glibc ? 'gnu' : 'musl'}`
  }
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

const binary = path.join(pkgDir, `faultlens.${platformArchABI()}.node`)
const present = fs.readdirSync(pkgDir).filter((f) => /^faultlens\..+\.node$/.test(f))

if (fs.existsSync(binary) || process.env.NAPI_RS_NATIVE_LIBRARY_PATH) process.exit(0)
if (process.env.FAULTLENS_SKIP_BUILD) {
  log(`FAULTLENS_SKIP_BUILD is set: not building ${path.basename(binary)}`)
  process.exit(0)
}
const crateManifest = path.join(pkgDir, 'Cargo.toml')
if (!fs.existsSync(crateManifest) || !fs.existsSync(path.join(pkgDir, '..', 'core', 'Cargo.toml'))) {
  log(`no prebuilt ${path.basename(binary)} in this package` +
    (present.length ? ` (found ${present.join(', ')})` : '') +
    ' and no Rust sources to build it from: this platform is not supported by this package')
  process.exit(1)
}

// The host triple, so the build shares `napi build`'s output folder and cache
// (target/<triple>/release): napi passes --target explicitly.
let host
try {
  host = /^host: (.+)$/m.exec(execFileSync('rustc', ['-vV'], { encoding: 'utf8' }))[1].trim()
} catch (e) {
  log('building from source needs Rust (cargo and rustc on PATH): https://rustup.rs')
  process.exit(1)
}

log(`building the native addon with cargo (release, ${host}); a first build takes a few minutes`)
const args = ['build', '--release', '--lib', '--manifest-path', crateManifest, '--target', host,
  '--message-format=json-render-diagnostics']
const res = spawnSync('cargo', args, { cwd: pkgDir, stdio: ['ignore', 'pipe', 'inherit'],
  encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
if (res.error || res.status !== 0) {
  log(`cargo build failed (${res.error ? res.error.message : `exit status ${res.status}`})`)
  process.exit(1)
}
// The cdylib's path, from cargo's own report (honours CARGO_TARGET_DIR and .cargo/config).
let built
for (const line of res.stdout.split('\n')) {
  if (!line.startsWith('{')) continue
  const msg = JSON.parse(line)
  if (msg.reason === 'compiler-artifact' && msg.target?.name === 'faultlens_node' &&
      msg.target.crate_types?.includes('cdylib')) {
    built = msg.filenames.find((f) => /\.(so|dylib|dll)$/.test(f))
  }
}
if (!built) {
  log('cargo did not report the faultlens_node library')
  process.exit(1)
}
fs.copyFileSync(built, binary)
log(`wrote ${path.relative(process.cwd(), binary) || binary}`)
