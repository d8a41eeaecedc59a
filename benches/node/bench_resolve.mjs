// Resolver latency through the Node binding on the data of benches/resolve.rs and
// benches/python/bench_resolve.py (Loghub: every 8th line a query, 10,000 known errors, 50 rules
// from the most frequent templates), to show what the binding adds per call.
// Run (after `npm run build` in bindings-node): node benches/node/bench_resolve.mjs
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const { Resolver } = require('../../bindings-node/index.js')
const LOGHUB = fileURLToPath(new URL('../../../shared/data/loghub/', import.meta.url))

const rows = []
for (const f of readdirSync(LOGHUB).filter((f) => f.endsWith('.jsonl')).sort()) {
  for (const line of readFileSync(LOGHUB + f, 'utf8').split('\n').filter(Boolean)) {
    const v = JSON.parse(line)
    rows.push([v.text, `${v.system}:${v.label}`, v.template])
  }
}
const errors = []
const solutions = []
const queries = []
rows.forEach(([text, sol], i) => {
  if (i % 8 === 0) queries.push(text)
  else if (errors.length < 10000) { errors.push(text); solutions.push(sol) }
})
const counts = new Map()
for (const [, sol, tpl] of rows) counts.set(`${sol}\u0000${tpl}`, (counts.get(`${sol}\u0000${tpl}`) ?? 0) + 1)
const escape = (s) => s.replace(/[\\.+*?()|[\]{}^$#&\-~]/g, '\\$&')
const rules = []
for (const [key] of [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) {
  const [sol, tpl] = key.split('\u0000')
  const piece = tpl.split('<*>').map((p) => p.trim()).reduce((a, b) => (b.length > a.length ? b : a), '')
  if (piece.length >= 8) rules.push({ name: sol, pattern: escape(piece), solution: sol })
  if (rules.length === 50) break
}
const r = new Resolver({ similarityThreshold: 0.7 })
r.setRules(rules)
r.addKnowledge(errors, solutions)

// One untimed pass first: it fills the regexes' lazy DFA caches and the stem cache (and lets V8
// optimise the call path), as a running service has long done; benches/resolve.rs reports the
// cold pass on its own.
for (const q of queries) r.resolve(q)
const us = []
for (let round = 0; round < 3; round++) {
  for (const q of queries) {
    const t = process.hrtime.bigint()
    r.resolve(q)
    us.push(Number(process.hrtime.bigint() - t) / 1000)
  }
}
us.sort((a, b) => a - b)
const p = (q) => us[Math.floor((us.length - 1) * q)]
let best = Infinity
for (let i = 0; i < 3; i++) {
  const t = process.hrtime.bigint()
  r.resolveBatch(queries)
  best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e9)
}
console.log(`${rules.length} rules, ${errors.length} known errors, ${queries.length} queries (Loghub)`)
console.log(`node single call: p50 ${p(0.5).toFixed(2)} us, p99 ${p(0.99).toFixed(1)} us; batch ${Math.round(queries.length / best)} resolves/s`)
