// Every error code of docs/api.json ("errors", table in docs/errors.md) surfaces in Node as an
// `Error` whose `code` is the core variant name and whose message is the core's message.
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'node:test'

import {
  IncidentGrouper, Preprocessor, Resolver, SimilarityIndex, TextClassifier, TextIndex, TfidfVectorizer, WindowAggregator,
  _panicForTests, inspect, version,
} from '../index.js'

const API = JSON.parse(readFileSync(new URL('../../docs/api.json', import.meta.url), 'utf8'))
const dir = mkdtempSync(join(tmpdir(), 'faultlens-node-errors-'))
test.after(() => rmSync(dir, { recursive: true, force: true }))

const good = () => {
  const v = new TfidfVectorizer()
  v.fit(['disk full', 'disk quota exceeded'])
  return v.toBytes()
}

// One trigger per code: [code, call, message pattern]. null = no API can raise it.
const TRIGGERS = {
  InvalidConfig: [() => new TfidfVectorizer({ ngramRange: [0, 1] }), /^invalid config `ngram_range`: \(0, 1\) is invalid/],
  InvalidInput: [() => new TfidfVectorizer().fit([]), /^invalid input: cannot fit on an empty corpus$/],
  NotFitted: [() => new TfidfVectorizer().transform(['x']), /^TfidfVectorizer is not fitted: call fit\(\) first$/],
  Dimension: [() => {
    const g = new IncidentGrouper()
    g.add([{ id: 'a', embedding: new Float32Array([1, 0]) }])
    g.add([{ id: 'b', embedding: new Float32Array([1, 0, 0]) }])
  }, /^dimension mismatch: expected 2, got 3$/],
  Format: [() => { const b = good(); b.writeUInt32LE(99, 8); TfidfVectorizer.fromBytes(b) },
    /^model format v99 unsupported \(this build reads v1\.\.=v2\)$/],
  Corrupt: [() => Preprocessor.fromBytes(good().subarray(0, 30)), /^corrupt model file: truncated/],
  WrongKind: [() => Preprocessor.fromBytes(good()),
    /^wrong model kind: expected `preprocessor`, file holds `tfidf_vectorizer`$/],
  Io: [() => inspect(join(dir, 'missing.flm')), /^I\/O error on `.*missing\.flm`: No such file or directory/],
  // A lock held by a parent's thread at fork(): Node never forks a running process.
  Inherited: null,
}

test('the manifest and this table list the same codes', () => {
  assert.deepEqual(Object.keys(TRIGGERS).sort(), [...API.errors].sort())
})

for (const code of API.errors) {
  const trigger = TRIGGERS[code]
  test(`error code ${code}`, { skip: trigger ? false : 'no API returns it yet' }, () => {
    const [call, message] = trigger
    assert.throws(call, (e) => {
      assert.ok(e instanceof Error, 'an Error instance')
      assert.equal(e.code, code)
      assert.match(e.message, message)
      assert.ok(e.stack.includes('errors.test.mjs'), 'a JS stack pointing at the caller')
      return true
    })
  })
}

test('async rejections carry the code too', async () => {
  await assert.rejects(new TfidfVectorizer().transformAsync(['x']), (e) => e instanceof Error && e.code === 'NotFitted')
  await assert.rejects(new TfidfVectorizer().fitAsync([]), { code: 'InvalidInput' })
  await assert.rejects(new TfidfVectorizer({ preprocessor: null }).fitTransformAsync(['', ' ']), { code: 'InvalidInput' })
})

test('errors can be told apart by code alone', () => {
  const codeOf = (f) => { try { f(); return null } catch (e) { return e.code } }
  const codes = Object.values(TRIGGERS).filter(Boolean).map(([f]) => codeOf(f))
  assert.equal(new Set(codes).size, codes.length)
})

test('a panic inside faultlens is a JS error and the process lives on', () => {
  assert.throws(() => _panicForTests('boom'), (e) => e instanceof Error && /boom/.test(e.message))
  assert.match(version(), /^\d+\.\d+\.\d+/)
  assert.ok(new TfidfVectorizer().fitTransform(['disk full', 'disk quota']).shape[1] > 0)
})

test('I/O errors carry the file in `path`, like Node fs errors', () => {
  const missing = join(dir, 'missing.flm')
  for (const call of [() => inspect(missing), () => TfidfVectorizer.load(missing), () => Preprocessor.load(missing),
    () => new Resolver().loadRules(missing), () => new Resolver().loadKnowledge(missing)]) {
    assert.throws(call, (e) => e instanceof Error && e.code === 'Io' && e.path === missing && e.message.includes(missing))
  }
  const nowhere = join(dir, 'no-such-dir', 'model.flm')
  assert.throws(() => new Preprocessor().save(nowhere), (e) => e.code === 'Io' && typeof e.path === 'string')
  // Other errors have no `path`.
  assert.throws(() => new TfidfVectorizer().fit([]), (e) => e.code === 'InvalidInput' && !('path' in e))
})

test('a wrong argument type names the argument', () => {
  const named = (name, got) => (e) => {
    assert.equal(e.code, 'InvalidInput')
    assert.match(e.message, new RegExp('`' + name.replace(/[[\]]/g, '\\$&') + '` must be .*' + got), e.message)
    return true
  }
  const clf = new TextClassifier()
  assert.throws(() => clf.predict(undefined), named('texts', 'undefined'))
  assert.throws(() => clf.predict(['ok', 3]), named('texts[1]', 'a number'))
  assert.throws(() => clf.predictOne(null), named('text', 'null'))
  assert.throws(() => clf.fit(['a'], 'b'), named('labels', 'a string'))
  const r = new Resolver()
  assert.throws(() => r.resolve(undefined), named('text', 'undefined'))
  assert.throws(() => r.resolveBatch('one line'), named('texts', 'a string'))
  assert.throws(() => r.recordOutcome('x', 7, true), named('solution', 'a number'))
  assert.throws(() => new Preprocessor().tokens(42), named('text', 'a number'))
  assert.throws(() => new TextIndex().search(undefined, 3), named('text', 'undefined'))
  assert.throws(() => new SimilarityIndex({ dim: 2 }).search([1, 0], 1), named('vectors', 'got an array'))
  assert.throws(() => new WindowAggregator({ allowedLatenessMs: 0 }).push('disk'), named('event', 'a string'))
  assert.throws(() => new WindowAggregator({ allowedLatenessMs: 0 }).pushBatch(undefined), named('events', 'undefined'))
  assert.throws(() => new IncidentGrouper().add([{ id: 'a' }, 5]), named('incidents[1]', 'a number'))
  assert.throws(() => new TfidfVectorizer().save(undefined), named('path', 'undefined'))
  // Constructors name their options argument.
  assert.throws(() => new TfidfVectorizer(5), (e) => e.code === 'InvalidConfig' && /options must be an object/.test(e.message))
})

test('a lone surrogate is refused with InvalidInput naming the argument, never altered', () => {
  const lone = 'disk \uD83D full' // half of an emoji's surrogate pair
  const refused = (name, at) => (e) => {
    assert.equal(e.code, 'InvalidInput')
    assert.match(e.message, new RegExp('`' + name.replace(/[[\]]/g, '\\$&') + '` holds a lone surrogate \\(U\\+D[0-9A-F]{3} at UTF-16 index ' + at + '\\)'))
    return true
  }
  const p = new Preprocessor()
  assert.throws(() => p.tokens(lone), refused('text', 5))
  assert.throws(() => p.tokensBatch(['ok', lone]), refused('texts[1]', 5))
  assert.throws(() => new Resolver().resolve(lone), refused('text', 5))
  assert.throws(() => new TextClassifier().predict([lone]), refused('texts[0]', 5))
  assert.throws(() => p.tokens('\uDE00'), refused('text', 0))
  // Whole pairs and a real U+FFFD are text.
  assert.doesNotThrow(() => p.tokens('disk \uD83D\uDE00 full \uFFFD'))
})
