// An AIOps service on faultlens with Express: error resolution, a vector store of incidents with
// string ids and hybrid (text + embedding) search, proactive incidents from a 5-minute window
// with threshold and rate triggers, stable incident groups, and Prometheus metrics through
// prom-client. PORT=0 picks a free port; the URL is printed on start. Routes (README.md has
// examples):
//   POST /resolve  {"error_text": "...", "method": "auto"}    the cascade's answer (act on it only
//                  when `reliable`; `novel` marks an error unlike anything known)
//   POST /feedback {"error_text": "...", "solution": "...", "success": true}
//   POST /collections/:name/vectors  {"items": [{"id": "doc-1", "text": "...", "payload": {..}}]}
//   DELETE /collections/:name/vectors {"ids": ["doc-1"]}
//   POST /collections/:name/search   {"query": "...", "k": 5, "mode": "hybrid" | "vector" |
//                  "text" | "range", "minScore": 0.5, "filter": {"service": "billing"}}
//   GET  /collections
//   POST /events   [{timestampMs, service, route, errorCode, message, traceId}, ...]  -> final
//                  incidents, each with its stable group
//   POST /events/flush  (end of a replay: every pending incident becomes final)
//   GET  /incidents/groups
//   GET  /metrics  Prometheus text (prom-client registry; faultlens objects via faultlens/prometheus)
//   GET  /health
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import express from 'express'
import { IncidentGrouper, Resolver, SimilarityIndex, TextClassifier, TextIndex, WindowAggregator, version } from 'faultlens'
import { register } from 'faultlens/prometheus'
import { Counter, Registry } from 'prom-client'
import { DIM, embed, embedOne } from './embed.mjs'

const DATA = fileURLToPath(new URL('../data/', import.meta.url))

export async function buildResolver() {
  const pairs = readFileSync(DATA + 'errors.jsonl', 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
  const classifier = new TextClassifier()
  await classifier.fit(pairs.map((p) => p.error), pairs.map((p) => p.solution))
  const resolver = new Resolver({ similarityThreshold: 0.7, classifierThreshold: 0.8 })
  resolver.loadRules(DATA + 'rules.toml')
  resolver.loadKnowledge(DATA + 'errors.jsonl')
  resolver.setClassifier(classifier)
  return resolver
}

// One collection of the vector store: string ids -> vectors (similarity and range search, get,
// delete), and the same items in a hybrid TextIndex (TF-IDF + embedding, fused by reciprocal
// rank) for hybrid and text search. An index per collection is cheap, so collections are just a
// Map of these.
class Collection {
  constructor() {
    this.vectors = new SimilarityIndex({ dim: DIM })
    this.texts = new TextIndex({ embedding: { type: 'hybrid', embeddingDim: DIM } })
    this.textIds = new Map() // string id -> TextIndex id
  }

  upsert(items) {
    const ids = items.map((it) => it.id)
    this.delete(ids.filter((id) => this.vectors.contains(id)))
    const vectors = embed(items.map((it) => it.text))
    const payloads = items.map((it) => JSON.stringify({ ...it.payload, id: it.id, text: it.text }))
    this.vectors.add(ids, vectors, payloads)
    const textIds = this.texts.addHybrid(items.map((it) => it.text), vectors, payloads)
    ids.forEach((id, i) => this.textIds.set(id, textIds[i]))
  }

  delete(ids) {
    if (ids.length === 0) return
    this.vectors.remove(ids)
    this.texts.remove(ids.map((id) => this.textIds.get(id)))
    for (const id of ids) this.textIds.delete(id)
  }

  search({ query, k = 10, mode = 'hybrid', minScore, filter }) {
    // Only the keys in use: the binding rejects unknown or mistyped options.
    const options = {}
    if (filter !== undefined && filter !== null) options.filter = toFilter(filter)
    if (minScore !== undefined && mode !== 'hybrid') options.threshold = minScore
    const hit = (h) => {
      const { id, text, ...payload } = JSON.parse(h.payload)
      return { id, score: h.score, text, payload }
    }
    if (mode === 'vector') return this.vectors.search(embedOne(query), k, options)[0].map(hit)
    if (mode === 'range') {
      return this.vectors.rangeSearch(embedOne(query), minScore ?? 0.8, options.filter ? { filter: options.filter } : null).slice(0, k).map(hit)
    }
    if (mode === 'text') return this.texts.search(query, k, options).map(hit)
    if (mode === 'hybrid') return this.texts.searchHybrid([query], embedOne(query), k, options)[0].map(hit)
    throw Object.assign(new Error(`mode must be hybrid, vector, text or range, not ${JSON.stringify(mode)}`), { code: 'InvalidInput' })
  }
}

// {"service": "billing", "severity": ["high", "critical"]} -> payload equality / membership,
// all of them required.
function toFilter(filter) {
  const parts = Object.entries(filter).map(([field, v]) =>
    Array.isArray(v) ? { type: 'payloadIn', field, values: v } : { type: 'payload', field, value: v })
  return parts.length === 1 ? parts[0] : { type: 'and', filters: parts }
}

const utc = (ms) => `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`

// An incident as a person reads it: "billing /api/v1/pay E504: 40 errors in 5 min ...".
function describe(inc, windowMs) {
  const { service, route, errorCode } = inc.key
  const why = inc.trigger === 'rate'
    ? `usually ${inc.baseline.toFixed(1)}`
    : `threshold ${inc.threshold}`
  return `${service} ${route} ${errorCode}: ${inc.count} errors in ${windowMs / 60000} min (${why}), ` +
    `${utc(inc.startMs)} to ${utc(inc.endMs)}`
}

export async function buildState() {
  const registry = new Registry()
  const state = {
    resolver: await buildResolver(),
    collections: new Map(),
    // The proactive-incident plan: errors per (service, route, error.code) in a 5-minute
    // window; more than 50 is always an incident, and a key also fires when it runs 15% over
    // its own usual rate (and 3 Poisson deviations above it, so noise on a quiet key does not).
    windows: new WindowAggregator({
      windowMs: 5 * 60_000,
      threshold: 50,
      allowedLatenessMs: 10_000,
      cooldownMs: 5 * 60_000,
      rate: { factor: 1.15, z: 3, alpha: 0.3, minHistory: 3, minCount: 10 },
    }),
    grouper: new IncidentGrouper({ minSimilarity: 0.5 }),
    registry,
    httpRequests: new Counter({
      name: 'faultlens_example_http_requests_total',
      help: 'HTTP requests by route and status.',
      labelNames: ['route', 'status'],
      registers: [registry],
    }),
  }
  register(state.resolver, 'resolver', registry)
  register(state.windows, 'proactive', registry)
  register(state.grouper, 'problems', registry)
  return state
}

function collection(state, name) {
  let c = state.collections.get(name)
  if (c === undefined) {
    state.collections.set(name, (c = new Collection()))
    register(c.vectors, name, state.registry)
    register(c.texts, `${name}.hybrid`, state.registry)
  }
  return c
}

// Final incidents -> stable groups (text and embedding of their samples), then into the
// "incidents" collection under their own ids, so they can be searched like any document.
function settle(state, outcome) {
  const incidents = outcome.incidents
  if (incidents.length === 0) return { incidents: [], renamed: [], late: outcome.late, rejected: outcome.rejected }
  const texts = incidents.map((inc) => inc.samples.join('\n'))
  const vectors = embed(texts)
  const update = state.grouper.add(incidents.map((inc, i) => ({
    id: inc.id, timeMs: inc.startMs, text: texts[i], embedding: vectors.subarray(i * DIM, (i + 1) * DIM),
  })))
  collection(state, 'incidents').upsert(incidents.map((inc, i) => ({
    id: inc.id,
    text: texts[i],
    payload: { service: inc.key.service, route: inc.key.route, errorCode: inc.key.errorCode, severity: inc.severity, trigger: inc.trigger },
  })))
  const windowMs = state.windows.config().windowMs
  return {
    incidents: incidents.map((inc, i) => ({
      ...inc,
      summary: describe(inc, windowMs),
      group: update.assignments[i].group,
      newGroup: update.assignments[i].newGroup,
    })),
    renamed: update.renamed,
    late: outcome.late,
    rejected: outcome.rejected,
  }
}

export function makeApp(state) {
  const { resolver } = state
  const app = express()
  app.use(express.json({ limit: '1mb' }))
  app.use((req, res, next) => {
    res.on('finish', () => state.httpRequests.inc({ route: req.route?.path ?? 'unmatched', status: res.statusCode }))
    next()
  })
  // Bad input (a library InvalidInput / InvalidConfig / Dimension error) is the caller's; the
  // rest is ours.
  const fail = (res, e) => {
    const client = ['InvalidInput', 'InvalidConfig', 'Dimension'].includes(e.code)
    res.status(client ? 400 : 500).json({ error: e.message, code: e.code })
  }

  app.get('/health', (req, res) => res.json({ ok: true, faultlens: version() }))

  app.get('/metrics', async (req, res) => {
    res.type(state.registry.contentType).send(await state.registry.metrics())
  })

  app.post('/resolve', (req, res) => {
    const { error_text: text, method = 'auto' } = req.body ?? {}
    if (typeof text !== 'string' || text.trim() === '') {
      return res.status(400).json({ error: 'body must be JSON with "error_text": a non-empty string' })
    }
    try {
      res.json(resolver.resolve(text, method))
    } catch (e) {
      fail(res, e)
    }
  })

  app.post('/feedback', (req, res) => {
    const { error_text: text, solution, success } = req.body ?? {}
    if (typeof text !== 'string' || typeof solution !== 'string' || typeof success !== 'boolean') {
      return res.status(400).json({ error: 'body must be {"error_text": string, "solution": string, "success": boolean}' })
    }
    try {
      resolver.recordOutcome(text, solution, success)
      res.json({ ok: true })
    } catch (e) {
      fail(res, e)
    }
  })

  app.get('/collections', (req, res) => {
    res.json([...state.collections].map(([name, c]) => ({ name, dim: DIM, count: c.vectors.len() })))
  })

  app.post('/collections/:name/vectors', (req, res) => {
    const items = req.body?.items
    const ok = Array.isArray(items) && items.length > 0 && items.every((it) =>
      typeof it?.id === 'string' && it.id !== '' && typeof it.text === 'string' && it.text.trim() !== ''
      && (it.payload === undefined || (typeof it.payload === 'object' && it.payload !== null && !Array.isArray(it.payload))))
    if (!ok) {
      return res.status(400).json({ error: 'body must be {"items": [{"id": non-empty string, "text": non-empty string, "payload": object?}]}' })
    }
    if (new Set(items.map((it) => it.id)).size !== items.length) {
      return res.status(400).json({ error: 'items repeat an id' })
    }
    try {
      const c = collection(state, req.params.name)
      c.upsert(items)
      res.json({ count: c.vectors.len() })
    } catch (e) {
      fail(res, e)
    }
  })

  app.delete('/collections/:name/vectors', (req, res) => {
    const ids = req.body?.ids
    const c = state.collections.get(req.params.name)
    if (c === undefined) return res.status(404).json({ error: `no collection ${JSON.stringify(req.params.name)}` })
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) {
      return res.status(400).json({ error: 'body must be {"ids": [string]}' })
    }
    const known = ids.filter((id) => c.vectors.contains(id))
    c.delete(known)
    res.json({ deleted: known.length, count: c.vectors.len() })
  })

  app.post('/collections/:name/search', (req, res) => {
    const c = state.collections.get(req.params.name)
    if (c === undefined) return res.status(404).json({ error: `no collection ${JSON.stringify(req.params.name)}` })
    const { query, k = 10, mode, minScore, filter } = req.body ?? {}
    if (typeof query !== 'string' || query.trim() === '' || !Number.isInteger(k) || k < 1
        || (filter !== undefined && (typeof filter !== 'object' || filter === null || Array.isArray(filter)))) {
      return res.status(400).json({ error: 'body must be {"query": non-empty string, "k": positive integer, "filter": object?, ...}' })
    }
    try {
      res.json(c.search({ query, k, mode, minScore, filter }))
    } catch (e) {
      fail(res, e)
    }
  })

  app.post('/events', (req, res) => {
    const events = Array.isArray(req.body) ? req.body : req.body?.events
    if (!Array.isArray(events)) return res.status(400).json({ error: 'body must be an array of events (or {"events": [...]})' })
    try {
      res.json(settle(state, state.windows.pushBatch(events)))
    } catch (e) {
      fail(res, e)
    }
  })

  app.post('/events/flush', (req, res) => {
    try {
      res.json(settle(state, state.windows.flush()))
    } catch (e) {
      fail(res, e)
    }
  })

  app.get('/incidents/groups', (req, res) => {
    res.json(state.grouper.groups().map((g) => ({ ...g, size: g.members.length })))
  })

  // express.json() reports malformed bodies here; answer them as the client's mistake.
  app.use((err, req, res, next) => {
    if (err.type === 'entity.parse.failed') {
      return res.status(400).json({ error: `malformed JSON body: ${err.message}` })
    }
    if (err.type === 'entity.too.large') {
      return res.status(413).json({ error: 'body larger than 1 MB' })
    }
    next(err)
  })
  return app
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const app = makeApp(await buildState())
  const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
    console.log(`listening on http://127.0.0.1:${server.address().port}`)
  })
  process.on('SIGTERM', () => server.close(() => process.exit(0)))
}
