// TfidfVectorizer from Node: conversions, typed-array output, options, async tasks. The values
// are checked against scikit-learn on the shared cases of tests/fixtures/tfidf_sklearn.json.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import test from 'node:test'

import { Preprocessor, TfidfVectorizer } from '../index.js'

const FIXTURES = new URL('../../tests/fixtures/', import.meta.url)
const SKLEARN = JSON.parse(readFileSync(new URL('tfidf_sklearn.json', FIXTURES), 'utf8'))
const camel = (k) => k.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase())
const camelKeys = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [camel(k), v]))

const LOGS = [
  'Connection refused to 10.0.0.7:5432 after 3 retries',
  'Connection refused to 10.0.0.9:5432 after 5 retries',
  'Disk quota exceeded for /var/lib/postgres',
  'kube-proxy failed to sync iptables rules: exit status 1',
  'java.lang.NullPointerException at com.acme.Foo.bar(Foo.java:42)',
]

function assertClose(actual, expected, tol, what) {
  assert.equal(actual.length, expected.length, `${what}: length`)
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`)
  }
}

function dense(x) {
  const [rows, cols] = x.shape
  const out = Array.from({ length: rows }, () => new Array(cols).fill(0))
  for (let r = 0; r < rows; r++) {
    for (let k = x.indptr[r]; k < x.indptr[r + 1]; k++) out[r][x.indices[k]] = x.data[k]
  }
  return out
}

for (const c of SKLEARN.cases) {
  test(`matches scikit-learn: ${c.name}`, () => {
    const v = new TfidfVectorizer({ ...camelKeys(c.options), preprocessor: null })
    v.fitTokens(SKLEARN.docs)
    assert.deepEqual(v.featureNames(), c.feature_names)
    assert.equal(v.nFeatures(), c.feature_names.length)
    // scikit-learn has no idf_ when use_idf is off; faultlens then weighs every column by 1.
    assertClose(v.idf(), c.idf ?? new Array(c.feature_names.length).fill(1), 1e-6, 'idf')
    const x = v.transformTokens(SKLEARN.docs)
    assert.deepEqual(x.shape, c.shape)
    assert.deepEqual([...x.indptr], c.indptr)
    assert.deepEqual([...x.indices], c.indices)
    assertClose(x.data, c.data, 1e-6, 'data')
    // fitTransformTokens gives the same matrix.
    const y = new TfidfVectorizer({ ...camelKeys(c.options), preprocessor: null }).fitTransformTokens(SKLEARN.docs)
    assert.deepEqual([...y.indices], c.indices)
    assertClose(y.data, c.data, 1e-6, 'fitTransformTokens data')
  })
}

test('fit, transform and fitTransform also take token lists, as the *Tokens methods', async () => {
  const docs = SKLEARN.docs
  const a = new TfidfVectorizer({ preprocessor: null, ngramRange: [1, 2] })
  const b = new TfidfVectorizer({ preprocessor: null, ngramRange: [1, 2] })
  const expected = a.fitTransformTokens(docs)
  assert.deepEqual(dense(b.fitTransform(docs)), dense(expected))
  b.fit(docs)
  assert.deepEqual(b.featureNames(), a.featureNames())
  assert.deepEqual(dense(b.transform(docs)), dense(a.transformTokens(docs)))
  const c = new TfidfVectorizer({ preprocessor: null, ngramRange: [1, 2] })
  await c.fitAsync(docs)
  assert.deepEqual(dense(await c.transformAsync(docs)), dense(expected))
  assert.deepEqual(dense(await c.fitTransformAsync(docs)), dense(expected))
  // A token list is used as it is: no preprocessing even when a preprocessor is configured.
  const p = new TfidfVectorizer()
  p.fit([['Connection', 'REFUSED'], ['disk', 'full']])
  assert.deepEqual(p.featureNames(), ['Connection', 'REFUSED', 'disk', 'full'])
  assert.throws(() => p.transform([['ok'], 'mixed']), Error)
})

test('output types: CSR typed arrays, Float64Array idf, plain vocabulary object', () => {
  const v = new TfidfVectorizer({ ngramRange: [1, 2] })
  const x = v.fitTransform(LOGS)
  assert.ok(x.indptr instanceof Uint32Array)
  assert.ok(x.indices instanceof Uint32Array)
  assert.ok(x.data instanceof Float64Array)
  assert.deepEqual(Object.keys(x).sort(), ['data', 'indices', 'indptr', 'shape'])
  assert.deepEqual(x.shape, [LOGS.length, v.nFeatures()])
  assert.equal(x.indptr.length, LOGS.length + 1)
  assert.equal(x.indptr[LOGS.length], x.data.length)
  const idf = v.idf()
  assert.ok(idf instanceof Float64Array)
  assert.equal(idf.length, v.nFeatures())
  const vocab = v.vocabulary()
  const names = v.featureNames()
  assert.equal(Object.keys(vocab).length, names.length)
  names.forEach((n, i) => assert.equal(vocab[n], i))
  assert.deepEqual(dense(v.transform(LOGS)), dense(x))
  // Each result is a fresh copy: mutating it does not touch the model.
  idf[0] = -1
  assert.notEqual(v.idf()[0], -1)
})

test('raw texts go through the preprocessor; similarity', () => {
  const v = new TfidfVectorizer({ ngramRange: [1, 2], sublinearTf: true })
  v.fit(LOGS)
  assert.ok(v.featureNames().includes('<ip>'))
  // Masking makes the first two lines the same.
  assert.ok(Math.abs(v.similarity(LOGS[0], LOGS[1]) - 1) < 1e-9)
  assert.ok(v.similarity(LOGS[0], LOGS[2]) < 0.2)
  assert.equal(v.similarity('', LOGS[0]), 0)
})

test('the preprocessor option: options object, Preprocessor instance, null', () => {
  const viaOptions = new TfidfVectorizer({ preprocessor: { stemmer: 'none' } })
  const viaInstance = new TfidfVectorizer({ preprocessor: new Preprocessor({ stemmer: 'none' }) })
  assert.deepEqual(viaInstance.config(), viaOptions.config())
  assert.equal(viaOptions.config().preprocessor.stemmer, 'none')
  viaInstance.fit(LOGS)
  assert.ok(viaInstance.featureNames().includes('connection'))
  const none = new TfidfVectorizer({ preprocessor: null })
  assert.equal(none.config().preprocessor, null)
  none.fit(['Disk FULL', 'disk quota'])
  assert.deepEqual(none.featureNames(), ['Disk', 'FULL', 'disk', 'quota'])
  // Omitted (or undefined) = the default preprocessor.
  assert.deepEqual(new TfidfVectorizer({ preprocessor: undefined }).config(), new TfidfVectorizer().config())
  assert.equal(new TfidfVectorizer().config().preprocessor.stemmer, 'english')
})

test('document-frequency bounds: integer = count, other numbers = fraction, explicit objects', () => {
  const docs = [['a', 'b'], ['a', 'c'], ['a', 'd']]
  const names = (options) => {
    const v = new TfidfVectorizer({ preprocessor: null, ...options })
    v.fitTokens(docs)
    return v.featureNames()
  }
  assert.deepEqual(names({ minDf: 2 }), ['a'])
  assert.deepEqual(names({ minDf: { count: 2 } }), ['a'])
  assert.deepEqual(names({ maxDf: 0.5 }), ['b', 'c', 'd'])
  assert.deepEqual(names({ maxDf: 1 }), ['b', 'c', 'd']) // count: at most one document
  assert.deepEqual(names({ maxDf: { fraction: 1 } }), ['a', 'b', 'c', 'd'])
  assert.deepEqual(names({}), ['a', 'b', 'c', 'd'])
})

test('config() uses camelCase and round-trips through the constructor', () => {
  const v = new TfidfVectorizer({ ngramRange: [1, 3], minDf: 2, maxDf: 0.9, sublinearTf: true, norm: 'l1', maxFeatures: 100 })
  const config = v.config()
  assert.deepEqual(Object.keys(config).sort(),
    ['maxDf', 'maxDistinctTerms', 'maxFeatures', 'minDf', 'ngramRange', 'norm', 'preprocessor', 'smoothIdf', 'sublinearTf', 'useIdf'])
  assert.deepEqual(config.ngramRange, [1, 3])
  assert.equal(config.minDf, 2)
  assert.equal(config.maxDf, 0.9)
  assert.equal(config.norm, 'l1')
  assert.deepEqual(new TfidfVectorizer(config).config(), config)
  // The default maxDf is the fraction 1.0, which a JS number cannot tell from the count 1.
  const d = new TfidfVectorizer().config()
  assert.deepEqual(d.maxDf, { fraction: 1 })
  assert.equal(d.maxFeatures, null)
  assert.deepEqual(new TfidfVectorizer(d).config(), d)
})

test('use before fit throws NotFitted', () => {
  const v = new TfidfVectorizer()
  assert.equal(v.isFitted(), false)
  for (const call of [
    () => v.transform(['a']),
    () => v.transformTokens([['a']]),
    () => v.similarity('a', 'b'),
    () => v.featureNames(),
    () => v.vocabulary(),
    () => v.idf(),
    () => v.nFeatures(),
  ]) {
    assert.throws(call, (e) => e instanceof Error && e.code === 'NotFitted' &&
      e.message === 'TfidfVectorizer is not fitted: call fit() first')
  }
})

test('bad options throw InvalidConfig', () => {
  const cases = [
    [{ minDff: 2 }, /unknown field `minDff`/],
    [{ ngramRange: [3, 1] }, /`ngram_range`/],
    [{ ngramRange: [1] }, /invalid/],
    [{ maxDf: 1.5 }, /`max_df`/],
    [{ minDf: 5, maxDf: 2 }, /`min_df`/],
    [{ minDf: { counts: 2 } }, /expected an integer count/],
    [{ maxFeatures: 0 }, /`max_features`/],
    [{ maxDistinctTerms: 0 }, /`max_distinct_terms`/],
    [{ norm: 'l3' }, /unknown norm "l3"/],
    [{ preprocessor: { stemmer: 'klingon' } }, /`stemmer`/],
    [{ preprocessor: { stemer: 'none' } }, /unknown field `stemer`/],
    [{ preprocessor: 'english' }, /invalid type/],
    [{ minDf: 1, min_df: 2 }, /given twice/],
    [42, /options must be an object/],
  ]
  for (const [options, message] of cases) {
    assert.throws(() => new TfidfVectorizer(options), (e) => {
      assert.equal(e.code, 'InvalidConfig', `${JSON.stringify(options)}: ${e.message}`)
      assert.match(e.message, message)
      return true
    })
  }
})

test('maxDistinctTerms caps what fit may count, with an error naming it', () => {
  const docs = Array.from({ length: 50 }, (_, i) => `w${i}a w${i}b w${i}c`)
  const capped = (maxDistinctTerms) => new TfidfVectorizer({ preprocessor: null, ngramRange: [1, 2], maxDistinctTerms })
  assert.throws(() => capped(100).fit(docs), { code: 'InvalidInput', message: /max_distinct_terms = 100/ })
  for (const cap of [250, null]) {
    const v = capped(cap)
    v.fit(docs)
    assert.equal(v.nFeatures(), 250)
  }
  assert.equal(new TfidfVectorizer().config().maxDistinctTerms, 10000000)
})

test('a failed fit leaves the previous fit in place', () => {
  const v = new TfidfVectorizer()
  v.fit(LOGS)
  const names = v.featureNames()
  assert.throws(() => v.fit([]), { code: 'InvalidInput' })
  assert.throws(() => v.fit(['', 'the of']), { code: 'InvalidInput' })
  assert.deepEqual(v.featureNames(), names)
})

test('async variants return Promises with the same results', async () => {
  const v = new TfidfVectorizer({ ngramRange: [1, 2] })
  const pending = v.fitAsync(LOGS)
  assert.ok(pending instanceof Promise)
  assert.equal(await pending, undefined)
  assert.ok(v.isFitted())
  const sync = new TfidfVectorizer({ ngramRange: [1, 2] })
  const expected = sync.fitTransform(LOGS)
  assert.deepEqual(v.featureNames(), sync.featureNames())
  const x = await v.transformAsync(LOGS)
  assert.ok(x.data instanceof Float64Array && x.indptr instanceof Uint32Array)
  assert.deepEqual(dense(x), dense(expected))
  const w = new TfidfVectorizer({ ngramRange: [1, 2] })
  assert.deepEqual(dense(await w.fitTransformAsync(LOGS)), dense(expected))
  // Many concurrent calls on one object.
  const all = await Promise.all(Array.from({ length: 16 }, () => v.transformAsync(LOGS)))
  for (const y of all) assert.deepEqual(dense(y), dense(expected))
})

test('async errors reject with the same codes', async () => {
  await assert.rejects(new TfidfVectorizer().transformAsync(['a']), (e) => e instanceof Error && e.code === 'NotFitted')
  await assert.rejects(new TfidfVectorizer().fitAsync([]), { code: 'InvalidInput', message: /empty corpus/ })
  await assert.rejects(new TfidfVectorizer().fitTransformAsync(['', 'the']), { code: 'InvalidInput' })
})

test('fitAsync runs off the event loop', async () => {
  const corpus = Array.from({ length: 20000 }, (_, i) =>
    `worker ${i % 97} failed to connect to 10.0.${i % 13}.${i % 7}:80 after ${i} ms error code E${i % 31}`)
  const v = new TfidfVectorizer({ ngramRange: [1, 3] })
  let ticks = 0
  const timer = setInterval(() => ticks++, 1)
  const start = performance.now()
  await v.fitAsync(corpus)
  const elapsed = performance.now() - start
  clearInterval(timer)
  assert.ok(v.isFitted())
  // The loop kept turning while the fit ran (only meaningful when the fit took a while).
  if (elapsed > 50) assert.ok(ticks > 0, `no timer tick during a ${elapsed.toFixed(0)} ms fit`)
  // Synchronous calls during an async fit see the previous state, never a half-built one.
  const w = new TfidfVectorizer()
  w.fit(LOGS)
  const before = w.featureNames()
  const refit = w.fitAsync(corpus)
  assert.deepEqual(w.featureNames(), before)
  await refit
  assert.notDeepEqual(w.featureNames(), before)
})
