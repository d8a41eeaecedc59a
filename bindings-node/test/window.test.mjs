// WindowAggregator from Node: the shared fixture, camelCase objects in and out, errors, snapshot
// and merge. The semantics themselves are tested in Rust (tests/window.rs).
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'node:test'

import { WindowAggregator } from '../index.js'

const CASE = JSON.parse(readFileSync(new URL('../../tests/fixtures/window_cases.json', import.meta.url), 'utf8'))
const camel = (k) => k.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase())
const camelDeep = (v) => Array.isArray(v) ? v.map(camelDeep)
  : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [camel(k), camelDeep(x)])) : v
const EVENTS = camelDeep(CASE.events)
const dir = mkdtempSync(join(tmpdir(), 'faultlens-node-window-'))
test.after(() => rmSync(dir, { recursive: true, force: true }))

test('shared fixture: incidents and late events, camelCase', () => {
  const w = new WindowAggregator(camelDeep(CASE.config))
  const out = w.pushBatch(EVENTS)
  assert.deepEqual(out.late, CASE.late)
  assert.deepEqual(out.rejected, [])
  const incidents = [...out.incidents, ...w.flush().incidents]
  assert.deepEqual(incidents, camelDeep(CASE.incidents))
  const stats = w.stats()
  for (const [k, v] of Object.entries(CASE.stats_after_flush)) assert.equal(stats[camel(k)], v, k)
})

test('shared fixture: rate triggers fire on a key\'s own normal', () => {
  const rc = CASE.rate_case
  const w = new WindowAggregator(camelDeep(rc.config))
  assert.equal(w.config().rate.minHistory, 2)
  const incidents = [...w.pushBatch(camelDeep(rc.events)).incidents, ...w.flush().incidents]
  assert.deepEqual(incidents, camelDeep(rc.incidents))
  assert.equal(incidents[0].trigger, 'rate')
  assert.throws(() => new WindowAggregator({ allowedLatenessMs: 0, rate: { alpha: 0 } }),
    (e) => e.code === 'InvalidConfig' && /rate\.alpha/.test(e.message))
})

test('single pushes give the same as one batch', () => {
  const w = new WindowAggregator(camelDeep(CASE.config))
  const incidents = []
  const late = []
  EVENTS.forEach((e, i) => {
    const out = w.push(e)
    incidents.push(...out.incidents)
    if (out.late.length) late.push(i)
  })
  incidents.push(...w.flush().incidents)
  assert.deepEqual(incidents, camelDeep(CASE.incidents))
  assert.deepEqual(late, CASE.late)
})

test('options: required lateness, camelCase keys and values, errors name the field', () => {
  const w = new WindowAggregator({ allowedLatenessMs: 5, keyFields: ['service', 'errorCode'], threshold: 3 })
  const c = w.config()
  assert.deepEqual(c.keyFields, ['service', 'error_code'])
  assert.equal(c.windowMs, 300000)
  assert.deepEqual(new WindowAggregator(c).config(), c)
  assert.throws(() => new WindowAggregator(), (e) => e.code === 'InvalidConfig' && /allowed_lateness_ms/.test(e.message))
  assert.throws(() => new WindowAggregator({ allowedLatenessMs: 0, threshold: 0 }), { code: 'InvalidConfig' })
  assert.throws(() => new WindowAggregator({ allowedLatenessMs: 0, windowMz: 1 }), (e) => e.code === 'InvalidConfig' && /windowMz/.test(e.message))
  // Per-key thresholds with a nested camelCase key.
  const k = new WindowAggregator({
    allowedLatenessMs: 0, threshold: 5, keyFields: ['errorCode'],
    keyThresholds: [{ key: { errorCode: 'E1' }, threshold: 1 }],
  })
  k.pushBatch([{ timestampMs: 1, errorCode: 'E1' }, { timestampMs: 2, errorCode: 'E1' }])
  const inc = k.flush().incidents
  assert.equal(inc.length, 1)
  assert.deepEqual(inc[0].key, { service: null, route: null, errorCode: 'E1' })
})

test('bad events throw InvalidInput naming the event, and push nothing', () => {
  const w = new WindowAggregator({ allowedLatenessMs: 0 })
  const good = { timestampMs: 1, service: 'a', route: '/', errorCode: 'E' }
  for (const [bad, re] of [
    [{ timestampMs: 1, service: 'a', route: '/' }, /event 1 has no `errorCode`/],
    [{ service: 'a', route: '/', errorCode: 'E' }, /event 1 has no `timestampMs`/],
    [{ ...good, timestampMs: 1.5 }, /event 1 `timestampMs` must be an integer/],
  ]) {
    assert.throws(() => w.pushBatch([good, bad]), (e) => e.code === 'InvalidInput' && re.test(e.message), re.source)
  }
  assert.equal(w.stats().events, 0)
  assert.throws(() => w.advance(0.5), { code: 'InvalidInput' })
})

test('watermark, advance and late events', () => {
  const w = new WindowAggregator({ allowedLatenessMs: 100, threshold: 1 })
  assert.equal(w.watermark(), null)
  const ev = (t) => ({ timestampMs: t, service: 'a', route: '/', errorCode: 'E', traceId: `t${t}` })
  w.push(ev(1000))
  assert.equal(w.watermark(), 900)
  assert.deepEqual(w.push(ev(899)).late, [0])
  w.push(ev(1001))
  const out = w.advance(5000)
  assert.deepEqual(out.incidents.map((i) => [i.endMs, i.count, i.traceIds]), [[1001, 2, ['t1001', 't1000']]])
})

test('snapshot, save/load and merge', () => {
  const opts = { threshold: 2, windowMs: 100, allowedLatenessMs: 10 }
  const ev = (t, s) => ({ timestampMs: t, service: s, route: '/', errorCode: 'E' })
  const a = new WindowAggregator(opts)
  const b = new WindowAggregator(opts)
  a.pushBatch([ev(1, 'a'), ev(2, 'a')])
  b.pushBatch([ev(1, 'b'), ev(2, 'b'), ev(3, 'b')])
  assert.deepEqual(WindowAggregator.fromBytes(a.toBytes()).toBytes(), a.toBytes())
  const path = join(dir, 'w.flm')
  b.save(path)
  a.merge(WindowAggregator.load(path))
  a.push(ev(3, 'a'))
  const got = a.flush().incidents.map((i) => [i.key.service, i.endMs]).sort()
  assert.deepEqual(got, [['a', 3], ['b', 3]])
  assert.throws(() => a.merge(new WindowAggregator({ allowedLatenessMs: 1 })), { code: 'InvalidInput' })
  assert.throws(() => a.merge(a), { code: 'InvalidInput' })
  assert.throws(() => WindowAggregator.fromBytes(a.toBytes().subarray(0, 40)), { code: 'Corrupt' })
})

const GROUPS = JSON.parse(readFileSync(new URL('../../tests/fixtures/group_cases.json', import.meta.url), 'utf8'))

test('groupIncidents: the shared fixture, incidents of an aggregator, errors', async () => {
  const { groupIncidents } = await import('../index.js')
  for (const c of GROUPS.cases) {
    assert.deepEqual(groupIncidents(GROUPS.samples, camelDeep(c.options)), c.groups, JSON.stringify(c.options))
  }
  const w = new WindowAggregator({ threshold: 1, windowMs: 60000, allowedLatenessMs: 0 })
  const ev = (t, route, errorCode, message) => ({ timestampMs: t, service: 'api', route, errorCode, message })
  const pushed = w.pushBatch([ev(1, '/pay', 'E1', 'connection refused to db-1:5432'), ev(2, '/pay', 'E1', 'connection refused to db-2:5432'),
    ev(3, '/pay', 'E2', 'connection refused to db-3:5432'), ev(4, '/pay', 'E2', 'connection refused to db-4:5432'),
    ev(5, '/x', 'E3', 'disk quota exceeded on /var/data'), ev(6, '/x', 'E3', 'disk quota exceeded')])
  const incidents = [...pushed.incidents, ...w.flush().incidents]
  assert.equal(incidents.length, 3)
  const groups = groupIncidents(incidents.map((i) => i.samples))
  const byCode = Object.fromEntries(incidents.map((i, k) => [i.key.errorCode, groups[k]]))
  assert.equal(byCode.E1, byCode.E2)
  assert.notEqual(byCode.E1, byCode.E3)
  assert.throws(() => groupIncidents([['a']], { minSimilarity: 0 }), (e) => e.code === 'InvalidConfig' && /min_similarity/.test(e.message))
  assert.throws(() => groupIncidents([['a']], { minSimilarty: 0.5 }), (e) => e.code === 'InvalidConfig' && /minSimilarty/.test(e.message))
})
