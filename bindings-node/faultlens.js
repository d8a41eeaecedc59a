// Entry point of the faultlens npm package. The addon loader is napi-rs's generated index.js: it
// tries ./faultlens.<platform>.node (a source checkout after `npm run build`), then the platform
// package @faultlens/binding-<platform> that npm installs as an optional dependency. When neither
// is there, this turns its chain of errors into one that names the platform and the package.
'use strict'

const { readFileSync } = require('node:fs')

function platformArchAbi() {
  const { platform, arch } = process
  if (platform === 'linux') {
    let musl = false
    try {
      musl = readFileSync('/usr/bin/ldd', 'utf8').includes('musl')
    } catch {
      musl = !process.report?.getReport?.().header?.glibcVersionRuntime
    }
    return `linux-${arch}-${musl ? 'musl' : 'gnu'}`
  }
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

function noAddonError(cause) {
  const pkg = require('./package.json')
  const target = platformArchAbi()
  const name = `${pkg.napi.packageName}-${target}`
  const shipped = Object.keys(pkg.optionalDependencies ?? {})
    .filter((dep) => dep.startsWith(`${pkg.napi.packageName}-`))
    .map((dep) => dep.slice(pkg.napi.packageName.length + 1))
  const error = new Error(
    `faultlens ${pkg.version}: no native addon for this platform (${target}). ` +
      (shipped.includes(target)
        ? `Its package ${name}@${pkg.version} is not installed: npm skips optional dependencies ` +
          `with --omit=optional or --no-optional, and a lockfile made on another platform may ` +
          `lack it. Install it next to faultlens: npm install ${name}@${pkg.version}`
        : `faultlens ${pkg.version} ships prebuilt addons for: ${shipped.join(', ') || 'none'}; ` +
          `on other platforms build it from a source checkout (npm run build in bindings-node).`),
  )
  error.code = 'ERR_FAULTLENS_NO_ADDON'
  error.platform = target
  error.cause = cause
  return error
}

try {
  require('./index.js')
} catch (e) {
  // Only a missing addon is rewritten; a version mismatch or a broken addon keeps its own error.
  if (e && typeof e.message === 'string' && e.message.startsWith('Cannot find native binding')) {
    throw noAddonError(e)
  }
  throw e
}
// A plain re-export, so Node's CommonJS named-export detection sees index.js's exports and
// `import { TfidfVectorizer } from 'faultlens'` works from ES modules.
module.exports = require('./index.js')
