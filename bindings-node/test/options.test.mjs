// The generated option types (docs/api.json "configs" -> options-header.d.ts -> index.d.ts)
// match what the constructors accept and what config() returns, in camelCase.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import test from 'node:test'

import * as faultlens from '../index.js'

const API = JSON.parse(readFileSync(new URL('../../docs/api.json', import.meta.url), 'utf8'))
const DTS = readFileSync(new URL('../index.d.ts', import.meta.url), 'utf8')
const CONFIGS = Object.fromEntries(Object.entries(API.configs).filter(([k]) => k !== 'about' && k !== '$defs'))
const camel = (k) => k.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase())
const sorted = (xs) => [...xs].sort()

// The class each options type configures, and the options it cannot do without.
const CONSTRUCTORS = {
  PreprocessorOptions: [faultlens.Preprocessor, {}],
  TfidfOptions: [faultlens.TfidfVectorizer, {}],
  ClassifierOptions: [faultlens.TextClassifier, {}],
  ResolverOptions: [faultlens.Resolver, {}],
  IndexOptions: [faultlens.SimilarityIndex, { dim: 4 }],
  TextIndexOptions: [faultlens.TextIndex, {}],
  WindowOptions: [faultlens.WindowAggregator, { allowedLatenessMs: 0 }],
  GrouperOptions: [faultlens.IncidentGrouper, {}],
  KlDriftOptions: [faultlens.KlDriftDetector, {}],
  AdwinOptions: [faultlens.Adwin, {}],
  PageHinkleyOptions: [faultlens.PageHinkley, {}],
}

const properties = (name) => Object.keys(CONFIGS[name].properties).map(camel)

test('every options type configures a constructor (or the searches)', () => {
  assert.deepEqual(sorted(Object.keys(CONFIGS)), sorted([...Object.keys(CONSTRUCTORS), 'IndexSearchOptions']))
})

for (const [name, [Ctor, required]] of Object.entries(CONSTRUCTORS)) {
  test(`${name}: every field is accepted at its default; config() keys are the schema's`, () => {
    const all = {}
    for (const [key, prop] of Object.entries(CONFIGS[name].properties)) {
      all[camel(key)] = 'default' in prop ? prop.default : (required[camel(key)] ?? null)
    }
    const plain = new Ctor(required).config()
    assert.deepEqual(new Ctor(all).config(), plain)
    // config() leaves out an optional value that is unset and has no default (maxItems).
    const unset = Object.entries(CONFIGS[name].properties)
      .filter(([k, p]) => !('default' in p) && !(camel(k) in required))
      .map(([k]) => camel(k))
    assert.deepEqual(sorted(new Set([...Object.keys(plain), ...unset])), sorted(properties(name)))
  })
}

for (const name of Object.keys(CONFIGS)) {
  test(`index.d.ts: interface ${name} declares the schema's fields in camelCase`, () => {
    const body = new RegExp(`export interface ${name} \\{([\\s\\S]*?)\\n\\}`).exec(DTS)
    assert.ok(body, `interface ${name} in index.d.ts`)
    const fields = [...body[1].matchAll(/^ {2}(\w+)\??:/gm)].map((m) => m[1])
    assert.deepEqual(fields, properties(name))
  })
}

test('index.d.ts constructors take the generated types', () => {
  for (const [name, [Ctor]] of Object.entries(CONSTRUCTORS)) {
    const cls = new RegExp(`export declare class ${Ctor.name} \\{([\\s\\S]*?)\\n\\}`).exec(DTS)
    assert.ok(cls, Ctor.name)
    assert.match(cls[1], new RegExp(`constructor\\(options\\?: ${name}( \\| null)?\\)`), Ctor.name)
  }
})
