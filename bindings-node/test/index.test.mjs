// SimilarityIndex / TextIndex from Node: Float32Array in, objects out, err.code, files, async.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'node:test'

import { SimilarityIndex, TextIndex, inspect } from '../index.js'

function unitRows(n, d, seed) {
  let x = seed
  const out = new Float32Array(n * d)
  for (let i = 0; i < n; i++) {
    let norm = 0
    for (let j = 0; j < d; j++) {
      x = (x * 1103515245 + 12345) % 2147483648
      out[i * d + j] = x / 2147483648 - 0.5
      norm += out[i * d + j] ** 2
    }
    for (let j = 0; j < d; j++) out[i * d + j] /= Math.sqrt(norm)
  }
  return out
}

test('add, search (sync and async), payloads, filters, range, remove', async () => {
  const d = 8
  const x = unitRows(300, d, 7)
  const idx = new SimilarityIndex({ dim: d, exactBelow: 50 })
  const ids = [...Array(300).keys()]
  idx.add(ids, x, ids.map((i) => JSON.stringify({ team: i % 2 ? 'web' : 'db' })))
  assert.equal(idx.len(), 300)
  const rows = idx.search(x.subarray(0, 3 * d), 2)
  assert.deepEqual(rows.map((r) => r[0].id), [0, 1, 2])
  assert.ok(Math.abs(rows[0][0].score - 1) < 1e-5)
  const async = await idx.searchAsync(x.subarray(0, 3 * d), 2, null)
  assert.deepEqual(async.map((r) => r[0].id), [0, 1, 2])
  const f = idx.search(x.subarray(0, d), 5, { filter: { type: 'payload', field: 'team', value: 'web' } })[0]
  assert.ok(f.length === 5 && f.every((h) => h.id % 2 === 1))
  const byIds = idx.search(x.subarray(0, d), 5, { filter: { type: 'ids', ids: [4, 5] }, exact: true })[0]
  assert.deepEqual(byIds.map((h) => h.id).sort(), [4, 5])
  const r = idx.rangeSearch(x.subarray(0, d), 0.99, null)
  assert.equal(r[0].id, 0)
  idx.remove([0])
  assert.equal(idx.contains(0), false)
  assert.notEqual(idx.search(x.subarray(0, d), 1, null)[0][0].id, 0)
  assert.equal(idx.get(0), null)
  assert.ok(idx.get(1).vector instanceof Float32Array)
  await idx.addAsync([1000], x.subarray(0, d), null)
  assert.equal(idx.search(x.subarray(0, d), 1, null)[0][0].id, 1000)
  idx.compact()
  assert.equal(idx.nVectors(), 300)
  assert.equal(idx.config().efSearch, 64)
})

test('bad input throws with err.code and leaves the index usable', async () => {
  const idx = new SimilarityIndex({ dim: 3 })
  idx.add([1], new Float32Array([1, 0, 0]), null)
  const code = (f) => { try { f(); return null } catch (e) { return e.code } }
  assert.equal(code(() => idx.add([2], new Float32Array([1, 0]), null)), 'Dimension')
  assert.equal(code(() => idx.add([2], new Float32Array([NaN, 0, 0]), null)), 'InvalidInput')
  assert.equal(code(() => idx.add([2], new Float32Array([0, 0, 0]), null)), 'InvalidInput')
  assert.equal(code(() => idx.add([1], new Float32Array([1, 1, 0]), null)), 'InvalidInput')
  assert.equal(code(() => idx.add([-1], new Float32Array([1, 1, 0]), null)), 'InvalidInput')
  assert.equal(code(() => idx.search(new Float32Array([1, 0, 0]), 0, null)), 'InvalidInput')
  assert.equal(code(() => idx.remove([42])), 'InvalidInput')
  assert.equal(code(() => idx.search(new Float32Array([1, 0, 0]), 1, { nope: 1 })), 'InvalidInput')
  assert.equal(code(() => new SimilarityIndex({ dim: 0 })), 'InvalidConfig')
  assert.equal(code(() => new SimilarityIndex({ dim: 3, metric: 'hamming' })), 'InvalidConfig')
  assert.equal(code(() => SimilarityIndex.fromBytes(idx.toBytes().subarray(0, 30))), 'Corrupt')
  await assert.rejects(idx.searchAsync(new Float32Array([1, 0]), 1, null), { code: 'InvalidInput' })
  assert.equal(idx.search(new Float32Array([1, 0, 0]), 10, null)[0].length, 1)
})

test('maxItems caps adds with a clear error', () => {
  const idx = new SimilarityIndex({ dim: 3, maxItems: 2 })
  idx.add([1, 2], new Float32Array([1, 0, 0, 0, 1, 0]), null)
  assert.throws(() => idx.add([3], new Float32Array([0, 0, 1]), null), (e) => e.code === 'InvalidInput' && /max_?items/i.test(e.message))
  assert.equal(idx.len(), 2)
  assert.throws(() => new SimilarityIndex({ dim: 3, maxItems: 0 }), { code: 'InvalidConfig' })
})

test('save, load, fromBytes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fl-index-'))
  try {
    const d = 4
    const x = unitRows(100, d, 3)
    const idx = new SimilarityIndex({ dim: d, metric: 'l2' })
    idx.add([...Array(100).keys()], x, null)
    const path = join(dir, 'i.flm')
    idx.save(path)
    assert.equal(inspect(path).kind, 'similarity_index')
    for (const back of [SimilarityIndex.load(path), SimilarityIndex.fromBytes(idx.toBytes())]) {
      assert.deepEqual(back.search(x, 3, { exact: true }), idx.search(x, 3, { exact: true }))
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('TextIndex: texts, payloads, async, embeddings', async () => {
  const idx = new TextIndex()
  const ids = idx.add(['Connection refused to 10.0.0.7:5432', 'Disk quota exceeded for /var/lib/postgres'],
    ['restart db', 'clean disk'])
  assert.deepEqual(ids, [0, 1])
  const [hit] = idx.search('connection refused to 10.1.1.1:80', 1, { threshold: 0.7 })
  assert.equal(hit.payload, 'restart db')
  assert.ok(hit.score > 0.99)
  const more = await idx.addAsync(['Kernel panic not syncing'], null)
  assert.deepEqual(more, [2])
  const rows = await idx.searchBatchAsync(['kernel panic', 'zzz'], 1, null)
  assert.equal(rows[0][0].text, 'Kernel panic not syncing')
  assert.deepEqual(rows[1], [])
  assert.deepEqual(idx.get(1), { text: 'Disk quota exceeded for /var/lib/postgres', payload: 'clean disk' })
  assert.equal(TextIndex.fromBytes(idx.toBytes()).len(), 3)
  assert.ok(idx.embed(['disk']) instanceof Float32Array)
  const ext = new TextIndex({ embedding: { type: 'external', dim: 2 } })
  ext.addEmbedded(['a', 'b'], new Float32Array([1, 0, 0, 1]), null)
  assert.equal(ext.searchEmbedded(new Float32Array([0.1, 0.9]), 1, null)[0][0].text, 'b')
  assert.throws(() => ext.addEmbedded(['c'], new Float32Array([1, 0, 0]), null), { code: 'Dimension' })
  assert.throws(() => ext.add(['c'], null), { code: 'InvalidInput' })
})

test('string keys, filters, target recall', async () => {
  const idx = new SimilarityIndex({ dim: 2 })
  idx.add([1], new Float32Array([1, 0]), null)
  idx.add(['inc-2041', '결제-타임아웃'], new Float32Array([0, 1, 0.7, 0.7]), ['{"svc":"pay","ms":120}', null])
  await idx.addAsync(['later'], new Float32Array([-1, 0]), null)
  const [hit] = idx.search(new Float32Array([0, 1]), 1, null)[0]
  assert.equal(hit.id, 'inc-2041')
  assert.equal(hit.payload, '{"svc":"pay","ms":120}')
  assert.equal(idx.search(new Float32Array([1, 0]), 1, null)[0][0].id, 1)
  assert.ok(idx.contains('결제-타임아웃') && idx.contains(1) && !idx.contains('nope'))
  assert.equal(idx.get('later').payload ?? null, null)
  assert.deepEqual(idx.keys().sort(), ['later', 'inc-2041', '결제-타임아웃'].sort())
  assert.throws(() => idx.add([2, 'x'], new Float32Array([1, 1, 1, 1]), null), { code: 'InvalidInput' })
  const filter = { type: 'and', filters: [
    { type: 'payloadIn', field: 'svc', values: ['pay', 'db'] },
    { type: 'range', field: 'ms', gte: 100 }] }
  assert.deepEqual(idx.search(new Float32Array([1, 0]), 10, { filter })[0].map(h => h.id), ['inc-2041'])
  assert.throws(() => idx.search(new Float32Array([1, 0]), 1, { filter: { type: 'range', field: 'ms' } }),
    { code: 'InvalidInput' })
  assert.equal(SimilarityIndex.fromBytes(idx.toBytes()).search(new Float32Array([0.7, 0.7]), 1, null)[0][0].id, '결제-타임아웃')
  idx.remove(['inc-2041'])
  assert.ok(!idx.contains('inc-2041'))
  assert.equal(idx.estimatedRecall(), 1)
  assert.equal(idx.effectiveEf(), 0)
  assert.equal(new SimilarityIndex({ dim: 2, targetRecall: null }).config().targetRecall, null)
  assert.throws(() => new SimilarityIndex({ dim: 2, targetRecall: 2 }), { code: 'InvalidConfig' })
})

test('TextIndex: hybrid search', () => {
  const idx = new TextIndex({ embedding: { type: 'hybrid', embeddingDim: 2 } })
  const ids = idx.addHybrid(['payment service timeout', 'database connection refused'],
    new Float32Array([1, 0, 0, 1]), ['retry', null])
  assert.deepEqual(ids, [0, 1])
  const rows = idx.searchHybrid(['payment timeout'], new Float32Array([0.9, 0.1]), 1, null, null)
  assert.equal(rows[0][0].text, 'payment service timeout')
  assert.equal(rows[0][0].payload, 'retry')
  const w = idx.searchHybrid(['database'], new Float32Array([0, 1]), 1, null, { type: 'weighted', textWeight: 0.5 })
  assert.equal(w[0][0].id, 1)
  assert.throws(() => idx.searchHybrid(['x'], new Float32Array([1, 0]), 1, null, { type: 'weighted', textWeight: 5 }),
    { code: 'InvalidInput' })
  assert.throws(() => idx.add(['x'], null), { code: 'InvalidInput' })
})

test('k is optional: absent or null is the core default (10), as in Python', async () => {
  const idx = new SimilarityIndex({ dim: 4 })
  const n = 15
  idx.add([...Array(n).keys()], unitRows(n, 4, 7))
  const q = unitRows(1, 4, 99)
  const [ten] = idx.search(q, 10)
  assert.equal(ten.length, 10)
  assert.deepEqual(idx.search(q), [ten])
  assert.deepEqual(idx.search(q, null, { exact: false }), [ten])
  assert.deepEqual(await idx.searchAsync(q), [ten])

  const texts = new TextIndex()
  texts.add([...Array(n).keys()].map((i) => `disk quota exceeded on volume ${i} of host${i}`))
  const top = texts.search('disk quota exceeded', 10)
  assert.equal(top.length, 10)
  assert.deepEqual(texts.search('disk quota exceeded'), top)
  assert.deepEqual(texts.searchBatch(['disk quota exceeded']), [top])
  assert.deepEqual(await texts.searchBatchAsync(['disk quota exceeded']), [top])
})
