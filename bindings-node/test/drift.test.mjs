// Drift detection from Node: the shared scipy and river fixtures, the KL detector, errors, files.
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import test from 'node:test'

import { crc32 } from 'node:zlib'

import {
  Adwin, KlDriftDetector, PageHinkley, Resolver, TextClassifier, inspect, ks2samp, ksColumns,
} from '../index.js'

const FIX = fileURLToPath(new URL('../../tests/fixtures/drift/', import.meta.url))
const load = (name) => JSON.parse(readFileSync(join(FIX, name), 'utf8'))
const T0 = 1_764_547_200
const camel = (k) => k.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase())
const camelKeys = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [camel(k), v]))

// Seeded Beta(8, 2): the 8th smallest of 9 uniforms from a small LCG-free generator (mulberry32).
function rng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
function beta82(seed, n, shift = 0) {
  const r = rng(seed)
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const u = Array.from({ length: 9 }, r).sort((x, y) => x - y)
    out[i] = Math.min(1, Math.max(0, u[7] + shift))
  }
  return out
}

function tmp(t) {
  const dir = mkdtempSync(join(tmpdir(), 'faultlens-drift-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

test('ks2samp matches scipy on every fixture case', () => {
  for (const c of load('ks_scipy.json').cases) {
    const r = ks2samp(Float64Array.from(c.a), Float64Array.from(c.b))
    assert.ok(Math.abs(r.statistic - c.statistic) < 1e-12, c.name)
    assert.ok(Math.abs(r.pvalue - c.pvalue) < 1e-6, c.name)
    assert.equal(r.method, c.method === 'exact' ? 'exact' : 'asymptotic')
  }
})

test('ksColumns matches scipy; mismatched columns throw Dimension', () => {
  const c = load('ks_scipy.json').columns
  const r = ksColumns(c.reference, c.current, c.alpha)
  c.expected.forEach((w, i) => {
    assert.ok(Math.abs(r.pvalue[i] - w.pvalue) < 1e-6)
    assert.equal(r.drift[i], w.drift)
  })
  assert.throws(() => ksColumns([[1, 2]], [[1]]), { code: 'Dimension' })
  assert.throws(() => ks2samp(new Float64Array(), Float64Array.of(1)), { code: 'InvalidInput' })
})

test('Adwin and PageHinkley report river\'s change points', () => {
  const fx = load('river_streams.json')
  for (const c of fx.cases) {
    const xs = Float64Array.from(fx.streams[c.stream])
    const Cls = c.detector === 'adwin' ? Adwin : PageHinkley
    const det = new Cls(camelKeys(c.params))
    assert.deepEqual(Array.from(det.updateMany(xs)), c.detections, `${c.name} on ${c.stream}`)
  }
})

test('streaming detectors: state, files, errors', (t) => {
  const a = new Adwin({ clock: 1 })
  const xs = Float64Array.from({ length: 1000 }, (_, i) => (i < 500 ? 0 : 1))
  const hits = a.updateMany(xs)
  assert.ok(hits.length >= 1 && a.nDetections() === hits.length)
  assert.ok(a.width() > 0 && a.variance() >= 0 && a.estimation() >= 0)
  assert.equal(a.config().clock, 1)
  assert.deepEqual(Adwin.fromBytes(a.toBytes()).toBytes(), a.toBytes())
  const p = new PageHinkley({ mode: 'up', threshold: 10 })
  p.updateMany(xs)
  const path = join(tmp(t), 'ph.flm')
  p.save(path)
  assert.equal(inspect(path).kind, 'page_hinkley')
  assert.deepEqual(PageHinkley.load(path).toBytes(), p.toBytes())
  assert.throws(() => new Adwin({ clock: 0 }), { code: 'InvalidConfig' })
  assert.throws(() => new PageHinkley({ mode: 'sideways' }), { code: 'InvalidConfig' })
  assert.throws(() => p.update(NaN), { code: 'InvalidInput' })
  p.reset()
  assert.equal(p.driftDetected(), false)
})

test('KlDriftDetector: calibrated thresholds detect a 0.5 sd shift', () => {
  const d = KlDriftDetector.fromBaseline(beta82(1, 20000))
  const th = d.thresholds()
  assert.ok(th.watch < th.drift && th.drift < 0.1 && th.severe === 2 * th.drift)
  const quiet = d.addMany(beta82(2, 3000), T0)
  assert.equal(quiet.kl.length, 3000)
  assert.ok(!quiet.drift.some(Boolean))
  const shifted = d.addMany(beta82(3, 1000, -0.06), T0 + 60)
  assert.ok(shifted.drift.some(Boolean))
  const s = d.status()
  assert.equal(s.drift, true)
  assert.equal(s.windowSize, 1000)
  assert.ok(s.psi > 0 && s.js > 0 && s.js < Math.LN2)
  const sum = d.summary(1)
  assert.equal(sum.driftCount, 1)
  assert.equal(sum.events[0].timestamp, T0 + 60)
})

test('KlDriftDetector: fixed mode, retrain, reset, histograms, files', (t) => {
  const base = beta82(4, 5000)
  const d = KlDriftDetector.fromBaseline(base, { thresholdMode: 'fixed', window: 100 })
  assert.deepEqual(d.thresholds(), { watch: 0.3, drift: 0.5, severe: 1 })
  const one = d.add(0.8, T0)
  assert.equal(one.drift, false)
  d.addMany(beta82(5, 200, -0.5), T0)
  assert.equal(d.status().shouldRetrain, true)
  const path = join(tmp(t), 'kl.flm')
  d.save(path)
  const back = KlDriftDetector.load(path)
  assert.deepEqual(back.status(), d.status())
  assert.deepEqual(KlDriftDetector.fromBytes(d.toBytes()).summary(), d.summary())
  d.reset()
  const s = d.status()
  assert.equal(s.nWindow, 0)
  assert.equal(s.windowMean, null)
  assert.equal(s.level, 'filling')
  const counts = d.baselineHistogram()
  assert.equal(counts.reduce((a, b) => a + b, 0), 5000)
  const h = KlDriftDetector.fromHistogram(counts, { thresholdMode: 'fixed', window: 100 })
  assert.deepEqual(h.baselineHistogram(), counts)
  assert.equal(d.config().thresholdMode, 'fixed')
})

test('KlDriftDetector: bad input throws with a code', () => {
  assert.throws(() => new KlDriftDetector({ window: 0 }), { code: 'InvalidConfig' })
  assert.throws(() => new KlDriftDetector({ windw: 3 }), { code: 'InvalidConfig', message: /windw/ })
  assert.throws(() => KlDriftDetector.fromBaseline(new Float64Array()), { code: 'InvalidInput', message: /empty/ })
  assert.throws(() => KlDriftDetector.fromBaseline(new Float64Array(2000).fill(0.5)), { code: 'InvalidInput', message: /constant/ })
  assert.throws(() => KlDriftDetector.fromBaseline(beta82(6, 500)), { code: 'InvalidInput', message: /fewer than the window/ })
  assert.throws(() => KlDriftDetector.fromHistogram([1, 2, 3]), { code: 'Dimension' })
  assert.throws(() => KlDriftDetector.fromHistogram([1.5, 2, 3]), { code: 'InvalidInput' })
  const d = new KlDriftDetector()
  assert.equal(d.isFitted(), false)
  assert.throws(() => d.add(0.5), { code: 'NotFitted' })
  d.setBaseline(beta82(7, 2000))
  assert.throws(() => d.add(NaN), { code: 'InvalidInput' })
  assert.throws(() => d.addMany(Float64Array.of(0.5, Infinity)), { code: 'InvalidInput', message: /score 1/ })
  assert.equal(d.status().nSeen, 0)
})

test('KlDriftDetector: addBatch, the async batch calls and calibration', async () => {
  const base = beta82(40, 20000)
  const stream = new Float64Array(6000)
  stream.set(beta82(41, 3000), 0)
  stream.set(beta82(42, 3000, -0.1), 3000)
  const a = KlDriftDetector.fromBaseline(base)
  const b = KlDriftDetector.fromBaseline(base)
  const c = KlDriftDetector.fromBaseline(base)
  const many = a.addMany(stream, T0)
  const batch = b.addBatch(stream, T0)
  assert.ok(batch.driftStarts instanceof Uint32Array && batch.driftStarts.length >= 1)
  assert.equal(batch.driftStarts[0], many.drift.indexOf(true))
  assert.equal(batch.n, 6000)
  assert.equal(batch.nDrift, many.drift.filter(Boolean).length)
  assert.equal(batch.kl, many.kl[5999])
  assert.equal(batch.drift, many.drift[5999])
  assert.equal(batch.maxKl, Math.max(...many.kl.subarray(999)))
  const later = await c.addBatchAsync(stream, T0)
  assert.deepEqual(later, batch)
  assert.deepEqual(c.status(), b.status())
  const manyLater = await KlDriftDetector.fromBaseline(base).addManyAsync(stream, T0)
  assert.deepEqual(manyLater, many)
  await assert.rejects(b.addBatchAsync(Float64Array.of(0.5, NaN)), { code: 'InvalidInput', message: /score 1/ })
  await assert.rejects(new KlDriftDetector().addManyAsync(Float64Array.of(0.5)), { code: 'NotFitted' })

  const cal = a.calibration()
  assert.equal(cal.resamples, 1000)
  assert.equal(cal.shortWindow, 250)
  assert.ok(cal.mean > 0 && cal.max > cal.mean && cal.shortMean > cal.mean)
  assert.equal(a.status().shortWindow, 250)
  assert.ok(a.status().shortThresholds.drift > a.thresholds().drift)
  const off = KlDriftDetector.fromBaseline(base, { shortWindow: 0 })
  assert.equal(off.calibration().shortWindow, 0)
  assert.equal(off.status().shortThresholds, null)
  assert.throws(() => new KlDriftDetector().calibration(), { code: 'NotFitted' })
  assert.throws(() => new KlDriftDetector({ shortWindow: 5000 }), { code: 'InvalidConfig', message: /short_window/ })

  const xs = new Float64Array(1000)
  xs.fill(1, 500)
  const adwin = new Adwin({ clock: 1 })
  assert.deepEqual(await adwin.updateManyAsync(xs), new Adwin({ clock: 1 }).updateMany(xs))
  const ph = new PageHinkley()
  assert.deepEqual(await ph.updateManyAsync(xs), new PageHinkley().updateMany(xs))
})

// ------------------------------------------- hardening: saves, limits, loads, config sweep

// A model file with `edit` applied to its payload and the checksum recomputed (the CRC is not a
// signature: a file from elsewhere can hold anything).
function reseal(bytes, edit) {
  const env = JSON.parse(bytes.subarray(24).toString('utf8'))
  edit(env.payload)
  const body = Buffer.from(JSON.stringify(env))
  const head = Buffer.alloc(12)
  head.writeBigUInt64LE(BigInt(body.length), 0)
  head.writeUInt32LE(crc32(body), 8)
  return Buffer.concat([bytes.subarray(0, 12), head, body])
}

test('every drift object round-trips its bytes fresh, trained and reset', () => {
  const xs = beta82(7, 3000)
  const objects = [
    new PageHinkley(), new Adwin(), new KlDriftDetector({ window: 300 }),
    KlDriftDetector.fromBaseline(beta82(3, 5000), { window: 300 }),
  ]
  for (const o of objects) {
    for (const step of ['fresh', 'trained', 'reset']) {
      if (step === 'trained') {
        if (o instanceof KlDriftDetector) {
          if (!o.isFitted()) continue
          o.addMany(xs, T0)
        } else {
          o.updateMany(xs)
        }
      } else if (step === 'reset') {
        o.reset()
      }
      const bytes = o.toBytes()
      assert.deepEqual(o.constructor.fromBytes(bytes).toBytes(), bytes, `${o.constructor.name} ${step}`)
    }
  }
})

test('kept drift files load or fail cleanly', () => {
  const old = readFileSync(join(FIX, 'page_hinkley_fresh_null_min.flm'))
  assert.deepEqual(PageHinkley.fromBytes(old).toBytes(), new PageHinkley().toBytes())
  assert.throws(() => KlDriftDetector.load(join(FIX, 'kl_window_2e40.flm')), { code: 'Corrupt', message: /window/ })
})

test('stream values are bounded so every state saves', () => {
  const a = new Adwin()
  assert.throws(() => a.updateMany(new Float64Array(1000).fill(1.7e308)), { code: 'InvalidInput', message: /within/ })
  assert.equal(a.width(), 0)
  a.updateMany(Float64Array.from({ length: 1000 }, (_, i) => (i % 2 ? 1e100 : -1e100)))
  assert.ok(Number.isFinite(a.estimation()) && Number.isFinite(a.variance()))
  assert.deepEqual(Adwin.fromBytes(a.toBytes()).toBytes(), a.toBytes())
  assert.throws(() => new PageHinkley().update(-1e101), { code: 'InvalidInput' })
  assert.throws(() => new PageHinkley({ delta: 1e308 }), { code: 'InvalidConfig', message: /delta/ })
})

test('size limits instead of aborts', () => {
  for (const [field, value] of [['window', 2 ** 40], ['window', 2 ** 52], ['calibrationResamples', 2 ** 31], ['maxEvents', 2 ** 40]]) {
    assert.throws(() => new KlDriftDetector({ [field]: value }), { code: 'InvalidConfig' }, field)
  }
  assert.throws(() => new Resolver({ topK: 2 ** 40 }), { code: 'InvalidConfig', message: /top_k/ })
  assert.throws(() => new TextClassifier({ model: 'naive_bayes', alpha: 1e308 }), { code: 'InvalidConfig', message: /alpha/ })
})

test('calibration is bounded and counts do not wrap', () => {
  let t = performance.now()
  const d = KlDriftDetector.fromHistogram(new Array(10).fill(1e5))
  assert.ok(performance.now() - t < 2000)
  assert.ok(d.thresholds().drift > 0 && d.thresholds().drift < 1)
  t = performance.now()
  assert.throws(() => KlDriftDetector.fromHistogram(new Array(10).fill(2 ** 52)), { code: 'InvalidInput', message: /2\^53/ })
  assert.ok(performance.now() - t < 500)
})

test('loads check what the constructors check', () => {
  const ph = new PageHinkley().toBytes()
  for (const [field, value] of [['threshold', -1], ['alpha', 255]]) {
    const bad = reseal(ph, (v) => { v.config[field] = value })
    assert.throws(() => PageHinkley.fromBytes(bad), { code: 'Corrupt', message: new RegExp(field) })
  }
  const kl = KlDriftDetector.fromBaseline(beta82(6, 5000)).toBytes()
  KlDriftDetector.fromBytes(reseal(kl, () => {}))
  assert.throws(() => KlDriftDetector.fromBytes(reseal(kl, (v) => { v.baseline.counts = new Array(10).fill(0) })), { code: 'Corrupt' })
  assert.throws(() => KlDriftDetector.fromBytes(reseal(kl, (v) => {
    v.baseline.thresholds = { watch: -2, drift: -1, severe: -0.5 }
  })), { code: 'Corrupt' })
})

test('config sweep: every value gives a detector or a clean error', () => {
  const sweep = [0, -1, 2 ** 31, 2 ** 40, 2 ** 63, NaN, Infinity]
  const kinds = [
    [KlDriftDetector, ['window', 'bins', 'epsilon', 'falseAlarmRate', 'watchRate', 'severeFactor',
      'calibrationResamples', 'seed', 'retrainDrifts', 'retrainDays', 'maxEvents', 'historyDays', 'shortWindow']],
    [PageHinkley, ['minInstances', 'delta', 'threshold', 'alpha']],
    [Adwin, ['delta', 'clock', 'maxBuckets', 'minWindowLength', 'gracePeriod']],
  ]
  for (const [Kind, fields] of kinds) {
    for (const field of fields) {
      for (const value of sweep) {
        let o
        try {
          o = new Kind({ [field]: value })
        } catch (e) {
          assert.ok(typeof e.code === 'string', `${Kind.name} ${field}=${value}: ${e}`)
          continue
        }
        if (o instanceof KlDriftDetector) {
          const c = o.config()
          try {
            o.setBaselineHistogram(new Array(c.bins).fill(c.window))
            o.addMany(beta82(1, 500), T0)
          } catch (e) {
            assert.ok(typeof e.code === 'string', `${field}=${value}: ${e}`)
            continue
          }
        } else {
          o.updateMany(beta82(1, 500))
        }
        assert.deepEqual(Kind.fromBytes(o.toBytes()).toBytes(), o.toBytes(), `${field}=${value}`)
      }
    }
  }
})
