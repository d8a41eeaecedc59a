// IncidentGrouper from Node: objects with text and Float32Array embeddings, stable ids and
// renames, errors that add nothing, save/load. The grouping rule itself (order and batching
// independence) is property-tested in Rust (tests/window.rs).
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'node:test'

import { IncidentGrouper } from '../index.js'

const INCIDENTS = [
  { id: 'inc-b', timeMs: 20, text: 'connection refused to db-1 port 5432' },
  { id: 'inc-c', timeMs: 30, embedding: new Float32Array([0, 1, 0]) },
  { id: 'inc-d', timeMs: 40, text: 'disk quota exceeded on /var/lib', embedding: new Float32Array([1, 0, 0]) },
  { id: 'inc-a', timeMs: 10, text: 'connection refused to db-9 port 5432' },
  { id: 'inc-e', timeMs: 50, embedding: new Float32Array([0.9, 0.1, 0]) },
]
const GROUPS = [
  { id: 'inc-a', members: ['inc-a', 'inc-b'] },
  { id: 'inc-c', members: ['inc-c'] },
  { id: 'inc-d', members: ['inc-d', 'inc-e'] },
]

test('groups are stable, renames are reported, any batching gives the same', () => {
  const g = new IncidentGrouper()
  assert.ok(g.add(INCIDENTS.slice(0, 3)).assignments.every((a) => a.newGroup))
  const out = g.add([INCIDENTS[3]])
  assert.deepEqual(out.assignments, [{ id: 'inc-a', group: 'inc-a', newGroup: false }])
  assert.deepEqual(out.renamed, [{ from: 'inc-b', to: 'inc-a' }])
  g.add([INCIDENTS[4]])
  assert.deepEqual(g.groups(), GROUPS)
  assert.equal(g.groupOf('inc-e'), 'inc-d')
  assert.equal(g.groupOf('nope'), null)
  assert.equal(g.len(), 5)
  assert.ok(g.similarity('inc-d', 'inc-e') > 0.9)
  const other = new IncidentGrouper()
  for (const x of [...INCIDENTS].reverse()) other.add([x])
  assert.deepEqual(other.groups(), GROUPS)
})

test('errors add nothing; save and load', () => {
  const g = new IncidentGrouper({ minSimilarity: 0.5, textWeight: 0.4 })
  g.add(INCIDENTS)
  assert.throws(() => g.add([{ id: 'x', embedding: new Float32Array([1, 2]) }]), { code: 'Dimension' })
  assert.throws(() => g.add([{ id: 'inc-a', text: 'again' }]), (e) => e.code === 'InvalidInput' && /inc-a/.test(e.message))
  assert.throws(() => g.add([{ id: 'y', timeMs: 1.5 }]), { code: 'InvalidInput' })
  assert.equal(g.len(), 5)
  assert.throws(() => new IncidentGrouper({ textWeight: 2 }), (e) => e.code === 'InvalidConfig' && /text_weight|textWeight/.test(e.message))
  const dir = mkdtempSync(join(tmpdir(), 'faultlens-node-grouper-'))
  try {
    g.save(join(dir, 'g.fl'))
    assert.deepEqual(IncidentGrouper.load(join(dir, 'g.fl')).groups(), GROUPS)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const copy = IncidentGrouper.fromBytes(g.toBytes())
  assert.deepEqual(copy.groups(), GROUPS)
  assert.equal(copy.config().textWeight, 0.4)
})
