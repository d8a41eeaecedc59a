// Model files from Node: the golden v1 files, bytes and save/load round trips, every damage.
import assert from 'node:assert/strict'
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import test from 'node:test'

import { Preprocessor, TfidfVectorizer, inspect } from '../index.js'

const V1 = fileURLToPath(new URL('../../tests/fixtures/models/v1/', import.meta.url))
const GOLDEN = JSON.parse(readFileSync(join(V1, 'golden.json'), 'utf8'))
const camel = (k) => k.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase())
const camelKeys = (v) =>
  Array.isArray(v) ? v.map(camelKeys)
    : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [camel(k), camelKeys(x)]))
      : v

function tmp(t) {
  const dir = mkdtempSync(join(tmpdir(), 'faultlens-node-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function dense(x) {
  const [rows, cols] = x.shape
  const out = Array.from({ length: rows }, () => new Array(cols).fill(0))
  for (let r = 0; r < rows; r++) {
    for (let k = x.indptr[r]; k < x.indptr[r + 1]; k++) out[r][x.indices[k]] = x.data[k]
  }
  return out
}

const fitted = () => {
  const v = new TfidfVectorizer({ ngramRange: [1, 2] })
  v.fit(['Connection refused to 10.0.0.7:5432', 'Disk quota exceeded for /var/lib/pg', 'connection reset'])
  return v
}

test('golden v1 files load and behave as golden.json says', () => {
  const v = TfidfVectorizer.load(join(V1, 'tfidf_vectorizer.flm'))
  assert.ok(v.isFitted())
  const expected = camelKeys(GOLDEN.config)
  expected.maxDf = { fraction: GOLDEN.config.max_df } // a float in the file: see config() docs
  expected.maxDistinctTerms = 10000000 // added after v1: older files load with the default
  expected.preprocessor.korean = 'none' // added after v1: older files keep Hangul words whole
  assert.deepEqual(v.config(), expected)
  assert.deepEqual(v.featureNames(), GOLDEN.feature_names)
  const got = dense(v.transform(GOLDEN.probe_texts))
  GOLDEN.probe_dense.forEach((row, r) => row.forEach((x, c) =>
    assert.ok(Math.abs(got[r][c] - x) <= 1e-9, `probe [${r}][${c}]: ${got[r][c]} vs ${x}`)))
  const p = Preprocessor.load(join(V1, 'preprocessor.flm'))
  assert.deepEqual(p.tokens(GOLDEN.probe_texts[0]), GOLDEN.probe_tokens)
  assert.equal(p.config().splitIdentifiers, true)
  // The same files through bytes.
  const w = TfidfVectorizer.fromBytes(readFileSync(join(V1, 'tfidf_vectorizer.flm')))
  assert.deepEqual(w.featureNames(), GOLDEN.feature_names)
})

test('inspect reads the header and envelope', () => {
  const info = inspect(join(V1, 'tfidf_vectorizer.flm'))
  assert.deepEqual(Object.keys(info).sort(), ['formatVersion', 'kind', 'libraryVersion', 'payloadBytes'])
  assert.equal(info.kind, 'tfidf_vectorizer')
  assert.equal(info.formatVersion, 1) // a version 1 golden file
  assert.equal(typeof info.libraryVersion, 'string')
  assert.ok(info.payloadBytes > 0)
  assert.equal(inspect(join(V1, 'preprocessor.flm')).kind, 'preprocessor')
})

const MAKERS = [
  ['fitted TfidfVectorizer', fitted, TfidfVectorizer, 'tfidf_vectorizer'],
  ['unfitted TfidfVectorizer', () => new TfidfVectorizer({ minDf: 0.25 }), TfidfVectorizer, 'tfidf_vectorizer'],
  ['Preprocessor', () => new Preprocessor({ stemmer: 'none' }), Preprocessor, 'preprocessor'],
]

for (const [name, make, cls, kind] of MAKERS) {
  test(`toBytes/fromBytes and save/load round-trip: ${name}`, (t) => {
    const obj = make()
    const bytes = obj.toBytes()
    assert.ok(Buffer.isBuffer(bytes))
    assert.equal(bytes.subarray(0, 8).toString('latin1'), 'FAULTLNS')
    assert.deepEqual(cls.fromBytes(bytes).toBytes(), bytes)
    assert.deepEqual(cls.fromBytes(new Uint8Array(bytes)).toBytes(), bytes) // plain Uint8Array too
    const dir = tmp(t)
    const path = join(dir, 'model.flm')
    obj.save(path)
    assert.deepEqual(readFileSync(path), bytes)
    const back = cls.load(path)
    assert.deepEqual(back.toBytes(), bytes)
    assert.deepEqual(back.config(), obj.config())
    assert.equal(inspect(path).kind, kind)
    assert.deepEqual(readdirSync(dir), ['model.flm']) // no temporary file left
  })
}

test('a reloaded vectorizer transforms like the original', () => {
  const v = fitted()
  const w = TfidfVectorizer.fromBytes(v.toBytes())
  const texts = ['connection refused to 10.1.1.1:80', 'disk quota']
  assert.deepEqual(dense(w.transform(texts)), dense(v.transform(texts)))
})

test('damaged files throw Corrupt, Format or WrongKind', (t) => {
  const good = fitted().toBytes()
  const flipped = Buffer.from(good)
  flipped[flipped.length - 3] ^= 0x01
  const newer = Buffer.from(good)
  newer.writeUInt32LE(99, 8)
  const cases = [
    [Buffer.alloc(0), 'Corrupt', /truncated/],
    [good.subarray(0, 10), 'Corrupt', /truncated/],
    [good.subarray(0, good.length - 1), 'Corrupt', /truncated/],
    [Buffer.from('PK\x03\x04 this is a zip file, not a model'), 'Corrupt', /magic/],
    [flipped, 'Corrupt', /checksum/],
    [newer, 'Format', /v99 unsupported \(this build reads v1\.\.=v2\)/],
    [new Preprocessor().toBytes(), 'WrongKind', /expected `tfidf_vectorizer`, file holds `preprocessor`/],
  ]
  const dir = tmp(t)
  cases.forEach(([data, code, message], i) => {
    const check = (e) => e instanceof Error && e.code === code && message.test(e.message)
    assert.throws(() => TfidfVectorizer.fromBytes(data), check, `fromBytes case ${i}`)
    const path = join(dir, `bad${i}.flm`)
    writeFileSync(path, data)
    assert.throws(() => TfidfVectorizer.load(path), check, `load case ${i}`)
  })
  assert.throws(() => Preprocessor.fromBytes(good), { code: 'WrongKind' })
  writeFileSync(join(dir, 'newer.flm'), newer)
  assert.throws(() => inspect(join(dir, 'newer.flm')), { code: 'Format' })
})

test('missing files and folders throw Io', (t) => {
  const dir = tmp(t)
  assert.throws(() => TfidfVectorizer.load(join(dir, 'missing.flm')), { code: 'Io', message: /No such file/ })
  assert.throws(() => Preprocessor.load(join(dir, 'missing.flm')), { code: 'Io' })
  assert.throws(() => new Preprocessor().save(join(dir, 'no', 'such', 'p.flm')), { code: 'Io' })
  assert.throws(() => inspect(join(dir, 'missing.flm')), { code: 'Io' })
  // The message names the file.
  assert.throws(() => Preprocessor.load(join(dir, 'missing.flm')),
    (e) => e.code === 'Io' && e.message.includes(join(dir, 'missing.flm')))
})

test('save onto a symlink replaces its target and keeps the link', (t) => {
  const dir = tmp(t)
  const target = join(dir, 'real.flm')
  const link = join(dir, 'link.flm')
  new Preprocessor({ minTokenLength: 3 }).save(target)
  symlinkSync('real.flm', link)
  new Preprocessor({ minTokenLength: 7 }).save(link)
  assert.ok(lstatSync(link).isSymbolicLink())
  assert.deepEqual(readFileSync(target), new Preprocessor({ minTokenLength: 7 }).toBytes())
})

test('inspect reads the header only', (t) => {
  const dir = tmp(t)
  const b = Buffer.from(new Preprocessor().toBytes())
  b[b.length - 2] ^= 1 // the payload's end: load checks it, inspect does not read it
  const path = join(dir, 'p.flm')
  writeFileSync(path, b)
  assert.equal(inspect(path).kind, 'preprocessor')
  assert.throws(() => Preprocessor.load(path), { code: 'Corrupt' })
})

test('bytes arguments are type-checked by the binding', () => {
  assert.throws(() => TfidfVectorizer.fromBytes('FAULTLNS'), Error)
  assert.throws(() => TfidfVectorizer.fromBytes([1, 2, 3]), Error)
})
