// TextClassifier from Node: the shared model file (tests/fixtures/classify/model.flm) predicts the
// probabilities of expected.json, fit is a Promise with progress, predictOne is synchronous,
// evaluate/compare return camelCase reports, and bad input throws errors with `code`.
import assert from 'node:assert/strict'
import { readFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import test from 'node:test'

import { TextClassifier, compare, evaluate, inspect } from '../index.js'

const DIR = fileURLToPath(new URL('../../tests/fixtures/classify/', import.meta.url))
const EXPECTED = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8'))
const jsonl = (name) => readFileSync(join(DIR, name), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
const TRAIN = jsonl('train.jsonl')
const TEST = jsonl('test.jsonl')
const texts = (rows) => rows.map((r) => r.text)
const labels = (rows) => rows.map((r) => r.label)

function assertProba(clf) {
  assert.deepEqual(clf.classes(), EXPECTED.classes)
  assert.deepEqual(clf.predict(EXPECTED.texts), EXPECTED.predict)
  const rows = clf.predictProba(EXPECTED.texts)
  assert.equal(rows.length, EXPECTED.texts.length)
  rows.forEach((row, i) => {
    assert.ok(row instanceof Float64Array)
    row.forEach((p, j) => assert.ok(Math.abs(p - EXPECTED.proba[i][j]) <= 1e-9, `proba[${i}][${j}]: ${p}`))
  })
}

test('the shared model file gives the shared probabilities', () => {
  const clf = TextClassifier.load(join(DIR, 'model.flm'))
  assertProba(clf)
  assert.equal(clf.model(), 'logistic')
  assert.equal(inspect(join(DIR, 'model.flm')).kind, 'text_classifier')
})

test('fit returns a Promise, reports progress, and reproduces the shared model', async () => {
  const clf = new TextClassifier()
  const seen = []
  const pending = clf.fit(texts(TRAIN), labels(TRAIN), (stage, done, total) => seen.push([stage, done, total]))
  assert.ok(pending instanceof Promise)
  assert.equal(clf.isFitted(), false) // the event loop is free while it trains
  await pending
  assert.equal(clf.isFitted(), true)
  assertProba(clf)
  // Progress calls are queued to the JS thread; let them drain.
  await new Promise((r) => setImmediate(r))
  assert.ok(seen.some(([s]) => s === 'vectorize'), JSON.stringify(seen.slice(0, 3)))
  assert.ok(seen.every(([, d, t]) => d <= t))

  const line = 'Failed password for invalid user admin from 10.1.2.3 port 22 ssh2'
  const p = clf.predictOne(line)
  assert.match(p.label, /^OpenSSH:/)
  assert.equal(p.reliable, p.confidence >= 0.7)
  // Alternatives are class probabilities below the label's; `confidence` is the probability that
  // the label is right for this input (novelty included), which may be lower.
  const top = Math.max(...clf.predictProba([line])[0])
  assert.ok(p.alternatives.length <= 3 && p.alternatives.every(([, q]) => q <= top))
  assert.ok(p.confidence >= 0 && p.confidence <= 1 && p.novelty >= 0 && p.novelty <= 1)
  assert.ok(p.explanation.length > 0 && p.explanation.every(([f, w]) => typeof f === 'string' && w > 0))
  assert.ok(clf.score(texts(TEST), labels(TEST)) >= 0.9)
  const info = clf.trainingInfo()
  assert.equal(info.nSamples, TRAIN.length)
  assert.equal(info.options.model, 'logistic')
  const base = clf.baselineConfidences()
  assert.ok(base instanceof Float64Array && base.length > 0)
  assert.equal(clf.config().topK, 3)

  const back = TextClassifier.fromBytes(clf.toBytes())
  assertProba(back)
  const dir = mkdtempSync(join(tmpdir(), 'fl-classify-'))
  try {
    clf.save(join(dir, 'c.flm'))
    assertProba(TextClassifier.load(join(dir, 'c.flm')))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('evaluate and compare', async () => {
  const good = new TextClassifier()
  const weak = new TextClassifier({ model: 'naive_bayes', alpha: 50 })
  await Promise.all([good.fit(texts(TRAIN), labels(TRAIN)), weak.fit(texts(TRAIN), labels(TRAIN))])
  const r = evaluate(good, texts(TEST), labels(TEST))
  assert.ok(r.accuracy >= 0.9 && r.macroF1 > 0 && Array.isArray(r.perClass))
  assert.match(r.text, /macro avg/)
  const c = compare(weak, good, texts(TEST), labels(TEST))
  assert.equal(c.better, 'b')
  assert.ok(c.pValue >= 0 && c.pValue <= 1)
  assert.equal(c.significant, c.pValue < 0.05)
  assert.throws(() => compare(weak, good, ['x'], ['Nope:E0']), (e) => e.code === 'InvalidInput' && /never seen/.test(e.message))
  weak.partialFit(['session opened for user root'], ['New:label'])
  assert.equal(weak.classes().at(-1), 'New:label')
  assert.throws(() => good.partialFit(['x'], ['y']), (e) => e.code === 'InvalidInput')
})

test('auto keeps every candidate score', async () => {
  const clf = new TextClassifier({ model: 'auto', cvFolds: 3 })
  await clf.fit(texts(TRAIN), labels(TRAIN))
  const scores = clf.trainingInfo().cvScores
  assert.deepEqual(scores.map((s) => s.model).sort(), ['linear_svm', 'logistic', 'naive_bayes'])
  assert.ok(['linear_svm', 'logistic', 'naive_bayes'].includes(clf.model()))
})

test('bad input', async () => {
  const clf = new TextClassifier()
  assert.throws(() => clf.predictOne('x'), (e) => e.code === 'NotFitted')
  await assert.rejects(clf.fit(['a', 'b'], ['x']), (e) => e.code === 'InvalidInput' && /differ in length/.test(e.message))
  await assert.rejects(clf.fit(['a', 'b'], ['x', 'x']), (e) => e.code === 'InvalidInput' && /only one class/.test(e.message))
  await assert.rejects(clf.fit(['a', 'b'], ['x', '']), (e) => e.code === 'InvalidInput' && /empty/.test(e.message))
  assert.throws(() => new TextClassifier({ modle: 'auto' }), (e) => e.code === 'InvalidConfig' && /modle/.test(e.message))
  assert.throws(() => new TextClassifier({ threshold: 2 }), (e) => e.code === 'InvalidConfig')
  const bytes = Buffer.from(readFileSync(join(DIR, 'model.flm')))
  bytes.writeUInt32LE(5, 8)
  assert.throws(() => TextClassifier.fromBytes(bytes), (e) => e.code === 'Format')
})

// Confidence is the probability of being right for the input at hand: a copy of a training line is
// reliable and not novel; a line from a system the model never saw is neither.
const NOVELTY = JSON.parse(readFileSync(new URL('../../tests/fixtures/novelty.json', import.meta.url), 'utf8'))

test('confidence accounts for novelty', async () => {
  const clf = new TextClassifier({ noveltyPrior: 0.2, noveltyThreshold: 0.5 })
  await clf.fit(NOVELTY.pairs.map((p) => p.error), NOVELTY.pairs.map((p) => p.solution))
  const known = clf.predictOne(NOVELTY.pairs[4].error)
  assert.deepEqual([known.label, known.reliable, known.novel], ['expand_disk', true, false])
  assert.ok(known.novelty >= 0 && known.novelty < 0.5, `novelty ${known.novelty}`)
  const foreign = clf.predictOne(NOVELTY.foreign)
  assert.deepEqual([foreign.reliable, foreign.novel], [false, true])
  assert.ok(foreign.confidence < 0.5, `confidence ${foreign.confidence}`)
  assert.ok(foreign.novelty > 0.5 && foreign.novelty <= 1, `novelty ${foreign.novelty}`)
  assert.equal(clf.config().noveltyThreshold, 0.5)
  assert.throws(() => new TextClassifier({ noveltyPrior: 1 }), (e) => e.code === 'InvalidConfig' && /novelty_prior/.test(e.message))
  assert.throws(() => new TextClassifier({ noveltyThreshold: -0.1 }), (e) => e.code === 'InvalidConfig' && /novelty_threshold/.test(e.message))
})
