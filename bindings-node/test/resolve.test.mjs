// Resolver from Node: the cascade over the bundled example rules and knowledge base, batch (sync
// and async), feedback, Prometheus text, round trips and bad input.
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import test from 'node:test'

import { Resolver, TextClassifier, TextIndex, inspect } from '../index.js'

const DATA = fileURLToPath(new URL('../../examples/data/', import.meta.url))

function tmp(t) {
  const dir = mkdtempSync(join(tmpdir(), 'faultlens-node-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const build = () => {
  const r = new Resolver({ similarityThreshold: 0.7, topK: 2 })
  assert.equal(r.loadRules(join(DATA, 'rules.toml')), r.rules().length)
  const added = r.loadKnowledge(join(DATA, 'errors.jsonl'))
  assert.ok(added > 100)
  assert.equal(r.knowledgeSize(), added)
  return r
}

test('rules answer first, with the rule name', () => {
  const res = build().resolve('Container api-1 was OOMKilled (exit code 137)')
  assert.equal(res.method, 'exact_match')
  assert.equal(res.solution, 'increase_memory_limit')
  assert.equal(res.rule, 'oom-killed')
  assert.equal(res.confidence, 1)
  assert.equal(res.reliable, true)
  assert.equal(typeof res.elapsedUs, 'number')
})

test('similarity stage: the answer and its candidates', () => {
  const res = build().resolve('Container billing-7ccf2 was OOMKilled (exit code 137), memory limit 2048Mi', 'similarity')
  assert.equal(res.method, 'similarity_match')
  assert.equal(res.solution, 'increase_memory_limit')
  // confidence is the probability that the answer is right (calibrated on the knowledge base), not
  // the cosine: a near-copy of a known error is almost surely right; the cosine stays in `similarity`.
  assert.ok(res.confidence > 0.9 && res.confidence <= 1 && res.reliable && !res.novel)
  assert.ok(res.similar.length >= 1 && res.similar.length <= 2)
  assert.ok(res.similar[0].similarity > 0.9)
  assert.ok(Math.abs(res.novelty - (1 - res.similar[0].similarity)) < 1e-12)
  assert.deepEqual(res.predictions, [])
})

test('results are plain objects with every key, in one order, and serialise as JSON', () => {
  const r = build()
  const keys = ['solution', 'confidence', 'method', 'reliable', 'novelty', 'novel', 'rule', 'similar', 'predictions', 'elapsedUs']
  for (const res of [r.resolve('zzqx flux capacitor hums'), ...r.resolveBatch(['disk quota exceeded on /var'], 'similarity')]) {
    assert.deepEqual(Object.keys(res), keys)
    assert.equal(Object.getPrototypeOf(res), Object.prototype)
    const back = JSON.parse(JSON.stringify(res))
    assert.equal(back.method, res.method)
    assert.equal('rule' in back, false, 'an absent rule is left out of JSON')
    for (const s of res.similar) assert.deepEqual(Object.keys(s), ['id', 'error', 'solution', 'similarity'])
  }
  const none = r.resolve('zzqx flux capacitor hums')
  assert.equal(none.solution, undefined)
  assert.deepEqual(JSON.parse(JSON.stringify(none)).similar, none.similar)
})

test('no match is unreliable, with no solution', () => {
  const res = build().resolve('zzqx flux capacitor hums')
  assert.equal(res.method, 'no_match')
  assert.ok(res.solution == null)
  assert.equal(res.reliable, false)
})

test('batch, async batch and single calls agree', async () => {
  const r = build()
  const texts = ['disk quota exceeded on /var', 'x509: certificate has expired', 'zzqx', 'ThrottlingException: Rate exceeded']
  const key = (x) => [x.method, x.solution, x.confidence]
  const single = texts.map((t) => key(r.resolve(t)))
  assert.deepEqual(r.resolveBatch(texts).map(key), single)
  assert.deepEqual((await r.resolveBatchAsync(texts)).map(key), single)
  await assert.rejects(r.resolveBatchAsync(['ok', '']), (e) => e.code === 'InvalidInput' && /text 1/.test(e.message))
})

test('summary per stage and solution; per-solution thresholds; an empty resolver learns', () => {
  const r = build()
  const text = 'zorblat frobnicated wibblewobble quux'
  r.resolve(text, 'similarity')
  r.recordOutcome(text, 'restart_ledger', true)
  r.recordOutcome(text, 'restart_ledger', false)
  const s = r.summary()
  assert.deepEqual(s.bySolution.restart_ledger, { success: 1, failure: 1, successRate: 0.5 })
  assert.equal(s.byStage.no_match.resolutions, 1)
  assert.ok(s.maxLatencyMs >= s.meanLatencyMs * 0.999)
  assert.equal(r.outcomes().at(-1).rule, null)
  const strict = new Resolver({ solutionThresholds: [{ solution: 'restart_ledger', threshold: 1 }] })
  assert.equal(strict.config().solutionThresholds[0].solution, 'restart_ledger')
  assert.throws(() => new Resolver({ solutionThresholds: [{ solution: 'x', threshold: 2 }] }), { code: 'InvalidConfig' })
  const empty = new Resolver()
  empty.recordOutcome('disk quota exceeded on /home', 'clean_home', true)
  assert.equal(empty.knowledgeSize(), 1)
  assert.equal(empty.resolve('disk quota exceeded on /home').solution, 'clean_home')
})

test('feedback joins the knowledge base; metrics and Prometheus text count it', () => {
  const r = build()
  const text = 'zorblat frobnicated wibblewobble quux'
  assert.equal(r.resolve(text, 'similarity').method, 'no_match')
  const before = r.knowledgeSize()
  r.recordOutcome(text, 'restart_ledger', true)
  assert.equal(r.knowledgeSize(), before + 1)
  assert.equal(r.resolve(text, 'similarity').solution, 'restart_ledger')
  const outcomes = r.outcomes()
  assert.equal(outcomes.at(-1).solution, 'restart_ledger')
  assert.equal(outcomes.at(-1).method, 'no_match')
  const m = r.metrics()
  assert.equal(m.total, 2)
  assert.equal(m.resolutions.no_match, 1)
  const prom = r.metricsPrometheus()
  assert.match(prom, /^# TYPE faultlens_resolutions_total counter$/m)
  assert.match(prom, /^faultlens_resolutions_total\{method="similarity_match"\} 1$/m)
  assert.match(prom, /^faultlens_resolve_latency_seconds_count 2$/m)
  r.resetMetrics()
  assert.equal(r.metrics().total, 0)
})

test('bytes and file round trips resolve the same', (t) => {
  const r = build()
  const text = 'ThrottlingException: Rate exceeded (Request ID: 123)'
  const want = r.resolve(text)
  const path = join(tmp(t), 'resolver.flm')
  r.save(path)
  assert.equal(inspect(path).kind, 'resolver')
  for (const other of [Resolver.load(path), Resolver.fromBytes(r.toBytes())]) {
    const got = other.resolve(text)
    assert.deepEqual([got.solution, got.method, got.confidence], [want.solution, want.method, want.confidence])
  }
  assert.deepEqual(new Resolver(r.config()).config(), r.config())
  assert.throws(() => Resolver.fromBytes(r.toBytes().subarray(0, 40)), (e) => e.code === 'Corrupt')
})

test('bad input is a clear error and the resolver stays usable', (t) => {
  const r = new Resolver()
  assert.equal(r.setRules([{ pattern: 'refused', solution: 'restart' }]), 1)
  assert.equal(r.resolve('Connection REFUSED').solution, 'restart')
  assert.throws(() => r.setRules([{ name: 'broken', pattern: '(', solution: 'x' }]),
    (e) => e.code === 'InvalidInput' && /broken/.test(e.message))
  const kb = join(tmp(t), 'kb.jsonl')
  writeFileSync(kb, '{"error": "database connection refused", "solution": "restart_db"}\nnot json\n')
  assert.throws(() => r.loadKnowledge(kb), (e) => e.code === 'InvalidInput' && /line 2/.test(e.message))
  assert.equal(r.loadKnowledge(kb, true), 1)
  assert.throws(() => r.resolve(''), (e) => e.code === 'InvalidInput')
  assert.throws(() => r.resolve('x', 'psychic'), (e) => e.code === 'InvalidInput' && /psychic/.test(e.message))
  assert.throws(() => r.resolve('x'.repeat(10 * 1024 * 1024)), (e) => e.code === 'InvalidInput')
  assert.throws(() => r.resolve('x', 'classifier'), (e) => /classifier/.test(e.message))
  assert.throws(() => new Resolver({ similarityThreshold: 1.5 }), (e) => e.code === 'InvalidConfig' && /similarity_threshold|similarityThreshold/.test(e.message))
  assert.throws(() => new Resolver({ noSuchOption: 1 }), (e) => e.code === 'InvalidConfig' && /noSuchOption/.test(e.message))
  assert.equal(r.resolve('connection refused').solution, 'restart')
})

test('the classifier stage: set, answer, save with the resolver, load from its own file', async (t) => {
  const pairs = readFileSync(join(DATA, 'errors.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
  const clf = new TextClassifier()
  const r = build()
  assert.throws(() => r.setClassifier(clf), (e) => e.code === 'NotFitted')
  await clf.fit(pairs.map((p) => p.error), pairs.map((p) => p.solution))
  r.setClassifier(clf)
  const text = 'Pod api-7f was OOMKilled (exit code 137)'
  const res = r.resolve(text, 'classifier')
  assert.equal(res.method, 'ml_prediction')
  assert.equal(res.solution, 'increase_memory_limit')
  assert.equal(res.predictions[0].label, res.solution)
  const dir = tmp(t)
  r.save(join(dir, 'resolver.flm'))
  assert.ok(Math.abs(Resolver.load(join(dir, 'resolver.flm')).resolve(text, 'classifier').confidence - res.confidence) < 1e-12)
  clf.save(join(dir, 'clf.flm'))
  const other = new Resolver()
  other.loadClassifier(join(dir, 'clf.flm'))
  assert.equal(other.resolve(text).method, 'ml_prediction')
})

test('a TextIndex as the knowledge: by text, or by your own embeddings', () => {
  const errors = ['connection refused to postgres on port 5432', 'disk quota exceeded on /var/lib/data',
    'certificate has expired for api.example.com', 'worker timed out waiting for lock on table orders']
  const solutions = ['restart_db', 'free_disk', 'renew_cert', 'kill_lock']
  const idx = new TextIndex()
  idx.add(errors, solutions)
  const r = new Resolver()
  r.setKnowledgeIndex(idx)
  assert.equal(r.knowledgeSize(), 4)
  assert.equal(r.knowledgeIsEmbedded(), false)
  const res = r.resolve('connection refused to postgres on port 6543')
  assert.equal(res.method, 'similarity_match')
  assert.equal(res.solution, 'restart_db')
  r.addKnowledge(['queue consumer lag above limit'], ['scale_consumers'])
  assert.deepEqual([r.knowledgeSize(), idx.len()], [5, 4])
  assert.equal(Resolver.fromBytes(r.toBytes()).resolve('queue consumer lag above limit').solution, 'scale_consumers')

  const ext = new TextIndex({ embedding: { type: 'external', dim: 3 } })
  ext.addEmbedded(errors, new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0]), solutions)
  r.setKnowledgeIndex(ext)
  assert.equal(r.knowledgeIsEmbedded(), true)
  assert.equal(r.resolveEmbedded('anything', new Float32Array([0, 0.1, 0.99])).solution, 'renew_cert')
  assert.throws(() => r.resolve('anything'), { code: 'InvalidInput', message: /resolveEmbedded|resolve_embedded/ })
  assert.throws(() => r.resolveEmbedded('x', new Float32Array([1, 0])), { code: 'Dimension' })
  assert.equal(r.addKnowledgeEmbedded(['new'], ['fix_new'], new Float32Array([0, -1, 0])), 5)
  const batch = r.resolveBatchEmbedded(['a', 'b'], new Float32Array([0, -1, 0, 1, 0, 0]))
  assert.deepEqual(batch.map((b) => b.solution), ['fix_new', 'restart_db'])
})

// Abstain on the unknown, and feedback per matched past error (tests/fixtures/novelty.json).
const NOVELTY = JSON.parse(readFileSync(new URL('../../tests/fixtures/novelty.json', import.meta.url), 'utf8'))
const NOV_TEXTS = NOVELTY.pairs.map((p) => p.error)
const NOV_LABELS = NOVELTY.pairs.map((p) => p.solution)

test('a novel input: no stage is reliable, it is flagged and counted', async () => {
  const clf = new TextClassifier()
  await clf.fit(NOV_TEXTS, NOV_LABELS)
  const r = new Resolver({ noveltyThreshold: 0.5 })
  r.addKnowledge(NOV_TEXTS, NOV_LABELS)
  r.setClassifier(clf)
  const known = r.resolve(NOV_TEXTS[4])
  assert.deepEqual([known.solution, known.reliable, known.novel], ['expand_disk', true, false])
  const res = r.resolve(NOVELTY.foreign)
  assert.deepEqual([res.reliable, res.novel], [false, true])
  assert.ok(res.confidence < 0.5, `confidence ${res.confidence}`)
  assert.ok(res.novelty > 0.5 && res.novelty <= 1, `novelty ${res.novelty}`)
  const m = r.metrics()
  assert.deepEqual([m.novel, m.unreliable, m.total], [1, 1, 2])
  const text = r.metricsPrometheus()
  assert.match(text, /^# TYPE faultlens_novel_inputs_total counter$/m)
  assert.match(text, /^faultlens_novel_inputs_total 1$/m)
  assert.equal(r.config().noveltyThreshold, 0.5)
  assert.throws(() => new Resolver({ noveltyThreshold: 1.5 }), (e) => e.code === 'InvalidConfig' && /novelty_threshold/.test(e.message))
})

test('feedback names the matched past error; a failure lowers that answer\'s confidence', () => {
  const r = new Resolver()
  r.addKnowledge(NOV_TEXTS, NOV_LABELS)
  const text = NOVELTY.variant
  const before = r.resolve(text, 'similarity')
  assert.deepEqual([before.method, before.solution], ['similarity_match', 'expand_disk'])
  r.recordOutcome(text, before.solution, false)
  const out = r.outcomes().at(-1)
  assert.deepEqual([out.method, out.matchedId], ['similarity_match', before.similar[0].id])
  assert.ok(Math.abs(out.similarity - before.similar[0].similarity) < 1e-12)
  const after = r.resolve(text, 'similarity')
  assert.equal(after.solution, before.solution)
  assert.ok(after.confidence < before.confidence, `${after.confidence} < ${before.confidence}`)
  // An answer from another stage names no past error.
  r.setRules([{ pattern: 'kafka', solution: 'restart_broker' }])
  assert.equal(r.resolve(NOVELTY.foreign).method, 'exact_match')
  r.recordOutcome(NOVELTY.foreign, 'restart_broker', true)
  const last = r.outcomes().at(-1)
  assert.equal(last.method, 'exact_match')
  assert.equal(last.matchedId ?? null, null)
  assert.equal(last.similarity ?? null, null)
})
