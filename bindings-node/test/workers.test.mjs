// Worker threads: each worker loads the addon in its own JS environment, builds its resolver
// from the bytes the main thread saved, and resolves while the main thread keeps resolving.
// Answers agree everywhere, and a panic forced inside a worker arrives there as an Error.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import test from 'node:test'
import { Worker } from 'node:worker_threads'

const require = createRequire(import.meta.url)
const ADDON = require.resolve('../index.js')
const { Resolver } = require(ADDON)
const DATA = fileURLToPath(new URL('../../examples/data/', import.meta.url))

const TEXTS = [
  'Container api-1 was OOMKilled (exit code 137)',
  'disk quota exceeded on /var',
  'x509: certificate has expired',
  'zzqx flux capacitor hums',
]
const key = (r) => `${r.method}|${r.solution}|${r.confidence.toFixed(9)}|${r.similar.length}`

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const { Resolver, _panicForTests } = require(workerData.addon)
const r = Resolver.fromBytes(workerData.bytes)
const out = []
for (let round = 0; round < workerData.rounds; round++) {
  for (const t of workerData.texts) {
    const x = r.resolve(t)
    out.push(x.method + '|' + x.solution + '|' + x.confidence.toFixed(9) + '|' + x.similar.length)
  }
}
let panic = null
try { _panicForTests('inside a worker') } catch (e) { panic = e.message }
parentPort.postMessage({ out, panic, batch: r.resolveBatch(workerData.texts).map((x) => x.method) })
`

test('resolvers in worker threads answer like the main thread', async () => {
  const r = new Resolver({ similarityThreshold: 0.7, topK: 2 })
  r.loadRules(join(DATA, 'rules.toml'))
  r.loadKnowledge(join(DATA, 'errors.jsonl'))
  const bytes = r.toBytes()
  const expected = TEXTS.map((t) => key(r.resolve(t)))
  const rounds = 200
  const workers = Array.from({ length: 4 }, () =>
    new Worker(WORKER, { eval: true, workerData: { addon: ADDON, bytes, texts: TEXTS, rounds } }))
  const results = workers.map((w) => new Promise((resolve, reject) => {
    w.once('message', resolve)
    w.once('error', reject)
  }))
  // The main thread keeps resolving while the workers run.
  for (let i = 0; i < rounds; i++) {
    assert.deepEqual(TEXTS.map((t) => key(r.resolve(t))), expected)
  }
  for (const got of await Promise.all(results)) {
    assert.equal(got.out.length, rounds * TEXTS.length)
    got.out.forEach((k, i) => assert.equal(k, expected[i % TEXTS.length]))
    assert.match(got.panic, /inside a worker/)
    assert.deepEqual(got.batch, TEXTS.map((t) => r.resolve(t).method))
  }
  await Promise.all(workers.map((w) => w.terminate()))
})
