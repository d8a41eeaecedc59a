// faultlens/prometheus: objects registered in a prom-client Registry, served over a real HTTP
// endpoint on 127.0.0.1 and parsed with a Prometheus text-format parser.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import {
  Adwin,
  IncidentGrouper,
  KlDriftDetector,
  PageHinkley,
  Resolver,
  SimilarityIndex,
  TextClassifier,
  TextIndex,
  TfidfVectorizer,
  WindowAggregator,
  mergePrometheus,
} from '../index.js'

const require = createRequire(import.meta.url)
// devDependencies of bindings-node (npm ci): a missing one fails the test, it does not skip.
const { Registry } = require('prom-client')
const parsePrometheusTextFormat = require('parse-prometheus-text-format')
const { register, unregister } = require('../prometheus.js')
const PKG = fileURLToPath(new URL('..', import.meta.url))

async function scrape(registry) {
  const server = createServer(async (req, res) => {
    res.setHeader('content-type', registry.contentType)
    res.end(await registry.metrics())
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  try {
    const res = await fetch(`http://127.0.0.1:${server.address().port}/metrics`, { signal: AbortSignal.timeout(10000) })
    assert.equal(res.status, 200)
    return await res.text()
  } finally {
    server.close()
  }
}

// Sample name + sorted labels -> value, as Python's test keys them. Every line must follow the
// text exposition format (checked here line by line); counter and gauge samples must also agree
// with parse-prometheus-text-format, which folds labelled histograms into one entry and drops
// their labels, `_sum` and `_count` (so histograms are read from the checked lines alone).
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*)\})? (\S+)$/
function samples(text) {
  const out = new Map()
  const key = (name, labels) => `${name}${JSON.stringify(Object.entries(labels).sort())}`
  for (const line of text.split('\n')) {
    if (line === '' || /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* /.test(line)) continue
    const m = SAMPLE.exec(line)
    assert.ok(m, `not a Prometheus text line: ${line}`)
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]))
    const value = m[3] === '+Inf' ? Infinity : Number(m[3])
    assert.ok(!Number.isNaN(value), line)
    out.set(key(m[1], labels), value)
  }
  for (const fam of parsePrometheusTextFormat(text)) {
    if (fam.type === 'HISTOGRAM') continue
    for (const m of fam.metrics) assert.equal(out.get(key(fam.name, m.labels ?? {})), Number(m.value), fam.name)
  }
  return { get: (name, labels = {}) => out.get(key(name, labels)), names: () => [...out.keys()] }
}

test('requiring faultlens does not load prom-client or faultlens/prometheus', () => {
  const code = "require('./faultlens.js'); const ks = Object.keys(require.cache); " +
    "console.log(ks.some((k) => k.includes('prom-client') || k.endsWith('prometheus.js')))"
  assert.equal(execFileSync(process.execPath, ['-e', code], { cwd: PKG, encoding: 'utf8' }).trim(), 'false')
})

test('every stateful object scraped over HTTP and parsed', async () => {
  const registry = new Registry()
  const r = new Resolver()
  r.setRules([{ name: 'oom', pattern: 'OutOfMemory', solution: 'raise the heap' }])
  r.resolve('java.lang.OutOfMemoryError')
  r.recordOutcome('java.lang.OutOfMemoryError', 'raise the heap', true)
  const w = new WindowAggregator({ threshold: 1, allowedLatenessMs: 0, windowMs: 1000 })
  w.pushBatch([0, 10, 5000].map((t) => ({ timestampMs: t, service: 'api', route: '/pay', errorCode: 'E1', message: 'boom' })))
  const d = new KlDriftDetector({ window: 100 })
  d.setBaseline(Float64Array.from({ length: 1000 }, (_, i) => i / 1000))
  d.addMany(new Float64Array(150).fill(0.9))
  const g = new IncidentGrouper()
  g.add([{ id: 'a', text: 'disk full' }, { id: 'b', text: 'disk full on /data' }, { id: 'c', text: 'timeout' }])
  const a = new Adwin()
  a.updateMany(Float64Array.from({ length: 2000 }, (_, i) => (i < 1000 ? 0 : 1)))
  const idx = new SimilarityIndex({ dim: 2 })
  idx.add(['inc-1', 'inc-2'], new Float32Array([1, 0, 0, 1]), null)
  const texts = new TextIndex()
  texts.add(['disk full', 'connection refused', 'timeout'], null)
  for (const [obj, name] of [[r, 'elk'], [w, 'proactive'], [d, 'routing'], [g, 'problems'], [a, 'latency'], [idx, 'incidents'], [texts, 'kb']]) {
    register(obj, name, registry)
  }
  assert.throws(() => register(r, 'elk', registry), /already registered/)
  assert.throws(() => register({}, 'x', registry), TypeError)
  assert.throws(() => register(new TfidfVectorizer(), 'x', registry), /cannot export a TfidfVectorizer/)
  assert.throws(() => register(r, '', registry), TypeError)
  assert.throws(() => register(r, 'x', {}), /prom-client Registry/)

  let s = samples(await scrape(registry))
  assert.equal(s.get('faultlens_resolutions_total', { method: 'exact_match', name: 'elk' }), 1)
  assert.equal(s.get('faultlens_outcomes_total', { method: 'exact_match', name: 'elk', result: 'success' }), 1)
  assert.equal(s.get('faultlens_resolve_latency_seconds_count', { name: 'elk' }), 1)
  assert.equal(s.get('faultlens_resolve_latency_seconds_bucket', { name: 'elk', le: '+Inf' }), 1)
  assert.equal(s.get('faultlens_resolve_confidence_sum', { name: 'elk' }), 1)
  assert.equal(s.get('faultlens_window_events_total', { name: 'proactive' }), 3)
  assert.equal(s.get('faultlens_window_incidents_total', { name: 'proactive' }), 1)
  assert.equal(s.get('faultlens_window_live_keys', { name: 'proactive' }), w.stats().liveKeys)
  assert.equal(s.get('faultlens_window_watermark_ms', { name: 'proactive' }), w.stats().watermarkMs)
  const st = d.status()
  assert.ok(Math.abs(s.get('faultlens_drift_kl', { name: 'routing' }) - st.kl) < 1e-9)
  assert.equal(s.get('faultlens_drift_should_retrain', { name: 'routing' }), Number(st.shouldRetrain))
  assert.equal(s.get('faultlens_drift_level', { level: st.level, name: 'routing' }), 1)
  assert.equal(s.get('faultlens_drift_scores_total', { name: 'routing' }), 150)
  assert.equal(s.get('faultlens_drift_detections_total', { name: 'latency' }), a.nDetections())
  assert.ok(a.nDetections() >= 1)
  assert.equal(s.get('faultlens_incident_grouper_incidents', { name: 'problems' }), 3)
  assert.equal(s.get('faultlens_incident_grouper_groups', { name: 'problems' }), 2)
  assert.equal(s.get('faultlens_index_items', { name: 'incidents' }), 2)
  assert.equal(s.get('faultlens_index_items', { name: 'kb' }), 3)
  assert.equal(s.get('faultlens_index_ef', { name: 'incidents' }), idx.effectiveEf())
  assert.equal(s.get('faultlens_index_added_total', { name: 'incidents' }), 2)
  assert.equal(s.get('faultlens_index_added_total', { name: 'kb' }), 3)
  assert.equal(s.get('faultlens_index_searches_total', { name: 'kb' }), 0)

  // Values are read at scrape time; unregistering removes the object, and its families once no
  // object of that kind is left.
  r.resolve('java.lang.OutOfMemoryError again')
  assert.equal(unregister('problems', registry), true)
  assert.equal(unregister('problems', registry), false)
  const text = await scrape(registry)
  s = samples(text)
  assert.equal(s.get('faultlens_resolutions_total', { method: 'exact_match', name: 'elk' }), 2)
  assert.ok(!text.includes('faultlens_incident_grouper'), text)
  idx.search(new Float32Array([1, 0.1, 0, 1]), 1)
  idx.remove(['inc-1'])
  texts.search('disk full on /var', 2)
  s = samples(await scrape(registry))
  assert.equal(s.get('faultlens_index_searches_total', { name: 'incidents' }), 2)
  assert.equal(s.get('faultlens_index_removed_total', { name: 'incidents' }), 1)
  assert.equal(s.get('faultlens_index_searches_total', { name: 'kb' }), 1)
  assert.equal(s.get('faultlens_index_removed_total', { name: 'kb' }), 0)
  const json = await registry.getMetricsAsJSON()
  const res = json.find((m) => m.name === 'faultlens_resolutions_total')
  assert.deepEqual(res.values.find((v) => v.labels.method === 'exact_match'), { labels: { name: 'elk', method: 'exact_match' }, value: 2 })
  // registry.resetMetrics() leaves the objects' own counts alone.
  registry.resetMetrics()
  s = samples(await scrape(registry))
  assert.equal(s.get('faultlens_resolutions_total', { method: 'exact_match', name: 'elk' }), 2)
})

test('two objects of a kind share the families; other metrics of the registry stay', async () => {
  const { Counter } = require('prom-client')
  const registry = new Registry()
  const requests = new Counter({ name: 'routing_ml_requests_total', help: 'HTTP requests.', registers: [registry] })
  requests.inc(3)
  const a = new Resolver()
  const b = new Resolver()
  a.setRules([{ pattern: 'anything', solution: 'x' }])
  a.resolve('anything')
  register(a, 'a', registry)
  register(b, 'b', registry)
  const s = samples(await scrape(registry))
  assert.equal(s.get('faultlens_resolutions_total', { method: 'exact_match', name: 'a' }), 1)
  assert.equal(s.get('faultlens_resolve_latency_seconds_count', { name: 'b' }), 0)
  assert.equal(s.get('routing_ml_requests_total'), 3)
  // A family name already taken by another metric: an error, and the registry is left as it was.
  const clash = new Registry()
  new Counter({ name: 'faultlens_novel_inputs_total', help: 'not ours', registers: [clash] })
  assert.throws(() => register(new Resolver(), 'x', clash), /already been registered/)
  assert.deepEqual(clash.getMetricsAsArray().map((m) => m.name), ['faultlens_novel_inputs_total'])
})

test('OpenMetrics registries get _total samples too', async () => {
  const registry = new Registry(Registry.OPENMETRICS_CONTENT_TYPE)
  const r = new Resolver()
  r.setRules([{ pattern: 'anything', solution: 'x' }])
  r.resolve('anything')
  register(r, 'elk', registry)
  const text = await scrape(registry)
  assert.match(text, /^# TYPE faultlens_resolutions counter$/m)
  assert.match(text, /^faultlens_resolutions_total\{name="elk",method="exact_match"\} 1$/m)
  assert.match(text, /^# EOF$/m)
})

test('a classifier: predictions, novel inputs and a confidence histogram', async () => {
  const registry = new Registry()
  const clf = new TextClassifier()
  const train = []
  for (let i = 0; i < 20; i++) {
    train.push([`disk full on volume vol${i} no space left`, 'disk'], [`connection refused to host h${i} port 5432`, 'net'])
  }
  await clf.fit(train.map(([t]) => t), train.map(([, l]) => l))
  register(clf, 'router', registry)
  const preds = ['disk full on volume vol3 no space left', 'kernel panic soft lockup cpu'].map((t) => clf.predictOne(t))
  clf.predict(Array(3).fill('connection refused to host h1 port 5432'))
  let s = samples(await scrape(registry))
  const name = 'router'
  assert.equal(s.get('faultlens_classifier_predictions_total', { name }), 5)
  const novel = preds.filter((p) => p.novel).length
  assert.ok(novel >= 1)
  assert.equal(s.get('faultlens_classifier_novel_inputs_total', { name }), novel)
  assert.equal(s.get('faultlens_classifier_unreliable_predictions_total', { name }), preds.filter((p) => !p.reliable).length)
  assert.equal(s.get('faultlens_classifier_confidence_count', { name }), 2)
  assert.ok(Math.abs(s.get('faultlens_classifier_confidence_sum', { name }) - (preds[0].confidence + preds[1].confidence)) < 1e-9)
  assert.equal(s.get('faultlens_classifier_confidence_bucket', { name, le: '+Inf' }), 2)
  assert.equal(s.get('faultlens_classifier_confidence_bucket', { name, le: '1' }), 2)
  assert.equal(clf.metrics().predictions, 5)
  clf.resetMetrics()
  s = samples(await scrape(registry))
  assert.equal(s.get('faultlens_classifier_predictions_total', { name }), 0)
  assert.equal(s.get('faultlens_classifier_confidence_count', { name }), 0)
})

// Family name -> { type, help, samples: Map(sample name + sorted labels -> value) }, bucket bounds
// read as numbers (prom-client writes `le="1"` where the core writes `le="1.0"`).
function families(text) {
  const out = new Map()
  let current = null
  for (const line of text.split('\n')) {
    if (line === '') continue
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line)
    if (meta) {
      if (!out.has(meta[2])) out.set(meta[2], { type: null, help: null, samples: new Map() })
      current = out.get(meta[2])
      current[meta[1] === 'HELP' ? 'help' : 'type'] = meta[3]
      continue
    }
    const m = SAMPLE.exec(line)
    assert.ok(m && current, `not a Prometheus text line: ${line}`)
    const labels = [...(m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)]
      .map((l) => [l[1], l[1] === 'le' && l[2] !== '+Inf' ? String(Number(l[2])) : l[2]])
      .sort()
    const key = `${m[1]}${JSON.stringify(labels)}`
    assert.ok(!current.samples.has(key), `one sample ${key}`)
    current.samples.set(key, m[3] === '+Inf' ? Infinity : Number(m[3]))
  }
  // prom-client declares every family of a registered kind, with no samples when there is no
  // value (an empty window's watermark); Prometheus ignores such a family, the core omits it.
  for (const [name, f] of out) if (f.samples.size === 0) out.delete(name)
  return out
}

async function objectsOfEveryKind() {
  const r = new Resolver()
  r.setRules([{ name: 'oom', pattern: 'OutOfMemory', solution: 'raise the heap' }])
  r.resolve('java.lang.OutOfMemoryError')
  r.resolve('something else entirely')
  r.recordOutcome('java.lang.OutOfMemoryError', 'raise the heap', true)
  const clf = new TextClassifier()
  const train = []
  for (let i = 0; i < 20; i++) {
    train.push([`disk full on volume vol${i} no space left`, 'disk'], [`connection refused to host h${i} port 5432`, 'net'])
  }
  await clf.fit(train.map(([t]) => t), train.map(([, l]) => l))
  clf.predictOne('disk full on volume vol3 no space left')
  clf.predictOne('kernel panic soft lockup cpu')
  const w = new WindowAggregator({ threshold: 1, allowedLatenessMs: 0, windowMs: 1000 })
  w.pushBatch([0, 10, 5000, 1].map((t) => ({ timestampMs: t, service: 'api', route: '/pay', errorCode: 'E1', message: 'boom' })))
  const emptyWindow = new WindowAggregator({ threshold: 1, allowedLatenessMs: 0, windowMs: 1000 })
  const d = new KlDriftDetector({ window: 100 })
  d.setBaseline(Float64Array.from({ length: 1000 }, (_, i) => i / 1000))
  d.addMany(new Float64Array(150).fill(0.9))
  const a = new Adwin()
  a.updateMany(Float64Array.from({ length: 2000 }, (_, i) => (i < 1000 ? 0 : 1)))
  const ph = new PageHinkley()
  ph.updateMany(Float64Array.from({ length: 1000 }, (_, i) => (i < 500 ? 0 : 5)))
  const g = new IncidentGrouper()
  g.add([{ id: 'a', text: 'disk full' }, { id: 'b', text: 'disk full on /data' }, { id: 'c', text: 'timeout' }])
  const idx = new SimilarityIndex({ dim: 2 })
  idx.add(['inc-1', 'inc-2'], new Float32Array([1, 0, 0, 1]), null)
  idx.search(new Float32Array([1, 0.1]), 1)
  const texts = new TextIndex()
  texts.add(['disk full', 'connection refused', 'timeout'], null)
  texts.search('disk full on /var', 2)
  return [r, clf, w, emptyWindow, d, a, ph, g, idx, texts]
}

test('metricsPrometheus() is what faultlens/prometheus exposes through prom-client', async () => {
  const objects = await objectsOfEveryKind()
  for (const obj of objects) {
    const registry = new Registry()
    register(obj, 'x', registry)
    const collected = families(await registry.metrics())
    const own = obj.metricsPrometheus()
    assert.ok(!own.includes('name="'), own)
    const merged = families(mergePrometheus(['x'], [own]))
    assert.deepEqual(merged, collected, obj.constructor.name)
    assert.ok(collected.size >= 2)
  }
  // Every object at once: one block per family, samples told apart by `name`.
  const names = objects.map((_, i) => `obj${i}`)
  const registry = new Registry()
  objects.forEach((o, i) => register(o, names[i], registry))
  const merged = mergePrometheus(names, objects.map((o) => o.metricsPrometheus()))
  assert.deepEqual(families(merged), families(await registry.metrics()))
  assert.equal(merged.match(/^# TYPE faultlens_drift_detected gauge$/gm).length, 1)
  assert.throws(() => mergePrometheus(['a', 'a'], [merged, merged]), { code: 'InvalidInput' })
  assert.throws(() => mergePrometheus(['a', 'b'], ['']), { code: 'InvalidInput' })
  assert.throws(() => mergePrometheus('a', ['']), /names/)
  assert.throws(() => new KlDriftDetector().metricsPrometheus(), { code: 'NotFitted' })
})
