// Preprocessor from Node: conversions only (the algorithms are tested in core), on the shared
// language-neutral cases of tests/fixtures/text_cases.json.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import test from 'node:test'
import { inspect } from 'node:util'

import { Preprocessor, parallelism, setParallelism } from '../index.js'

const FIXTURES = new URL('../../tests/fixtures/', import.meta.url)
const CASES = JSON.parse(readFileSync(new URL('text_cases.json', FIXTURES), 'utf8'))
const camel = (k) => k.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase())
const camelKeys = (v) =>
  Array.isArray(v) ? v.map(camelKeys)
    : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [camel(k), camelKeys(x)]))
      : v

for (const c of CASES) {
  test(`shared text case ${c.name}`, () => {
    const p = new Preprocessor(camelKeys(c.config))
    assert.deepEqual(p.tokens(c.text), c.tokens)
    assert.equal(p.process(c.text), c.tokens.join(' '))
    assert.deepEqual(p.template(c.text), { masked: c.masked, id: c.template_id })
  })
}

test('batches equal single calls, on one core and on all', () => {
  const p = new Preprocessor()
  const lines = Array.from({ length: 20 }, () => CASES.map((c) => c.text)).flat() // above the parallel threshold
  assert.ok(lines.length >= 256)
  const before = parallelism()
  try {
    for (const enabled of [true, false]) {
      setParallelism(enabled)
      assert.equal(parallelism(), enabled)
      assert.deepEqual(p.tokensBatch(lines), lines.map((t) => p.tokens(t)))
      assert.deepEqual(p.processBatch(lines), lines.map((t) => p.process(t)))
      assert.deepEqual(p.templateBatch(lines), lines.map((t) => p.template(t)))
    }
  } finally {
    setParallelism(before)
  }
  assert.deepEqual(p.tokensBatch([]), [])
})

test('template is a plain {masked, id} object', () => {
  const t = new Preprocessor().template('PacketResponder  1 for block blk_38865049064139660 terminating')
  assert.deepEqual(Object.keys(t).sort(), ['id', 'masked'])
  assert.equal(t.masked, 'packetresponder <num> for block blk_<num> terminating')
  assert.match(t.id, /^[0-9a-f]{16}$/)
})

test('options are camelCase, nested ones too, and config() round-trips', () => {
  const p = new Preprocessor({
    lowercase: false,
    stemmer: 'none',
    masks: ['ip', 'num'],
    customMasks: [{ pattern: 'ord-[a-z]+', placeholder: '<order>' }],
    extraStopWords: ['foo'],
    minTokenLength: 1,
    splitIdentifiers: true,
  })
  assert.deepEqual(p.tokens('Order ord-abc foo kube-proxy at 10.0.0.1'),
    ['Order', '<order>', 'kube-proxy', 'kube', 'proxy', '<ip>'])
  const config = p.config()
  assert.deepEqual(config, {
    lowercase: false,
    mask: true,
    masks: ['ip', 'num'],
    customMasks: [{ pattern: 'ord-[a-z]+', placeholder: '<order>' }],
    splitIdentifiers: true,
    stopWords: 'english',
    extraStopWords: ['foo'],
    stemmer: 'none',
    minTokenLength: 1,
    korean: 'rules',
  })
  assert.deepEqual(new Preprocessor(config).config(), config)
})

test('no options, null, undefined and undefined-valued keys all mean defaults', () => {
  const defaults = new Preprocessor().config()
  assert.deepEqual(new Preprocessor(null).config(), defaults)
  assert.deepEqual(new Preprocessor(undefined).config(), defaults)
  assert.deepEqual(new Preprocessor({ stemmer: undefined }).config(), defaults)
  assert.deepEqual(new Preprocessor({}).config(), defaults)
})

test('bad options throw InvalidConfig naming the field', () => {
  const cases = [
    [{ stemer: 'none' }, /unknown field `stemer`/],
    [{ stemmer: 'klingon' }, /`stemmer`/],
    [{ stopWords: 'french' }, /`stop_words`/],
    [{ masks: ['phone'] }, /`masks`/],
    [{ customMasks: [{ pattern: '(', placeholder: '<x>' }] }, /`custom_masks`/],
    [{ minTokenLength: -1 }, /invalid/],
    [{ minTokenLength: 1.5 }, /invalid/],
    [{ lowercase: 'yes' }, /invalid type/],
    ['english', /options must be an object/],
    [[1, 2], /options must be an object/],
    [{ stemmer: () => 'none' }, /Function/],
    [{ minTokenLength: NaN }, /not a finite number/],
    [(() => { const o = { stemmer: 'none' }; o.self = o; return o })(), /nested more than/],
  ]
  for (const [options, message] of cases) {
    assert.throws(() => new Preprocessor(options), (e) => {
      assert.ok(e instanceof Error)
      assert.equal(e.code, 'InvalidConfig', `${inspect(options)}: ${e.message}`)
      assert.match(e.message, message)
      return true
    })
  }
})

test('text arguments are type-checked by the binding', () => {
  const p = new Preprocessor()
  assert.throws(() => p.tokens(42), Error)
  assert.throws(() => p.tokensBatch('not an array'), Error)
  assert.throws(() => p.tokensBatch([1, 2]), Error)
})

test('unicode text survives the boundary', () => {
  const p = new Preprocessor({ stemmer: 'none' })
  assert.deepEqual(p.tokens('데이터베이스 연결 실패: 接続エラー 😀 emoji'), ['데이터베이스', '연결', '실패', '接続エラー', 'emoji'])
})
