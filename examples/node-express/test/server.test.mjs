// Starts the service as its own process on a loopback port and sends real HTTP requests.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createRequire } from 'node:module'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'

// The Prometheus text-format parser from npm (a devDependency of the example).
const parsePrometheusTextFormat = createRequire(import.meta.url)('parse-prometheus-text-format')

let server
let base

before(async () => {
  const script = fileURLToPath(new URL('../server.mjs', import.meta.url))
  server = spawn(process.execPath, [script], { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] })
  base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start within 30 s')), 30000)
    let out = ''
    server.stdout.on('data', (chunk) => {
      out += chunk
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)
      if (m) { clearTimeout(timer); resolve(m[1]) }
    })
    server.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited early (${code})`)) })
  })
})

after(async () => {
  if (server.exitCode === null) {
    server.kill('SIGTERM')
    const timer = setTimeout(() => server.kill('SIGKILL'), 5000)
    await once(server, 'exit')
    clearTimeout(timer)
  }
})

const post = async (path, body, raw = false, method = 'POST') => {
  const res = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: raw ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(10000),
  })
  return { status: res.status, body: await res.json() }
}

// GET /metrics, parsed: value(name, labels) of one sample (histograms: `_count`, `_sum`,
// `_bucket`). Every line must follow the text exposition format; counter and gauge samples must
// also agree with parse-prometheus-text-format (which folds labelled histograms into one entry
// and drops their labels, so histograms are read from the checked lines alone).
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*)\})? (\S+)$/
async function scrape() {
  const res = await fetch(`${base}/metrics`)
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type'), /^text\/plain/)
  const text = await res.text()
  const out = new Map()
  const key = (name, labels) => `${name}${JSON.stringify(Object.entries(labels).sort())}`
  for (const line of text.split('\n')) {
    if (line === '' || /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* /.test(line)) continue
    const m = SAMPLE.exec(line)
    assert.ok(m, `not a Prometheus text line: ${line}`)
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]))
    out.set(key(m[1], labels), m[3] === '+Inf' ? Infinity : Number(m[3]))
  }
  const families = parsePrometheusTextFormat(text)
  for (const fam of families) {
    if (fam.type === 'HISTOGRAM') continue
    for (const m of fam.metrics) assert.equal(out.get(key(fam.name, m.labels ?? {})), Number(m.value), fam.name)
  }
  return { families, value: (name, labels = {}) => out.get(key(name, labels)) }
}

test('health', async () => {
  const res = await fetch(`${base}/health`)
  assert.equal(res.status, 200)
  assert.equal((await res.json()).ok, true)
})

test('a rule answers exactly', async () => {
  const { status, body } = await post('/resolve', { error_text: 'Pod api-7f was OOMKilled (exit code 137)' })
  assert.equal(status, 200)
  assert.equal(body.method, 'exact_match')
  assert.equal(body.solution, 'increase_memory_limit')
  assert.equal(body.confidence, 1)
  assert.equal(body.reliable, true)
  assert.ok(body.elapsedUs >= 0)
})

test('a past error answers by similarity, with its candidates', async () => {
  const { status, body } = await post('/resolve', {
    error_text: '[billing] db pool exhausted: 99/50 connections in use, waited 3s',
  })
  assert.equal(status, 200)
  assert.equal(body.solution, 'restart_database_pool')
  assert.equal(body.method, 'similarity_match')
  assert.ok(body.similar.length > 0)
  assert.ok(body.similar[0].similarity <= 1)
})

test('an error unlike anything known is not answered reliably and is flagged novel', async () => {
  const { status, body } = await post('/resolve', { error_text: 'the flux capacitor hummed an unfamiliar tune' })
  assert.equal(status, 200)
  assert.equal(body.reliable, false)
  assert.equal(body.novel, true)
  assert.ok(body.novelty > 0.5 && body.confidence < 0.5, JSON.stringify(body))
  const m = await scrape()
  assert.ok(m.value('faultlens_novel_inputs_total', { name: 'resolver' }) >= 1)
})

test('method preference is honoured', async () => {
  // A rule would answer this in auto mode; asking for similarity skips the rules.
  const { status, body } = await post('/resolve', { error_text: 'Container billing-7ccf2 was OOMKilled (exit code 137), memory limit 2048Mi', method: 'similarity' })
  assert.equal(status, 200)
  assert.equal(body.method, 'similarity_match')
  assert.equal(body.rule, undefined)
  assert.ok(body.similar.length > 0)
})

test('malformed JSON is a 400 with a clear message', async () => {
  const { status, body } = await post('/resolve', '{"error_text": ', true)
  assert.equal(status, 400)
  assert.match(body.error, /malformed JSON/)
})

test('missing error_text is a 400 naming the field', async () => {
  const { status, body } = await post('/resolve', { text: 'wrong field' })
  assert.equal(status, 400)
  assert.match(body.error, /error_text/)
})

test('an unknown method is a 400 from the library', async () => {
  const { status, body } = await post('/resolve', { error_text: 'disk full', method: 'magic' })
  assert.equal(status, 400)
  assert.equal(body.code, 'InvalidInput')
})

test('metrics count what was served, in Prometheus text', async () => {
  await post('/feedback', { error_text: 'Pod api-7f was OOMKilled (exit code 137)', solution: 'increase_memory_limit', success: true })
  const m = await scrape()
  assert.ok(m.value('faultlens_resolutions_total', { name: 'resolver', method: 'exact_match' }) >= 1)
  assert.equal(m.families.find((f) => f.name === 'faultlens_resolve_latency_seconds')?.type, 'HISTOGRAM')
  assert.ok(m.value('faultlens_resolve_latency_seconds_count', { name: 'resolver' }) >= 1)
  assert.equal(m.value('faultlens_outcomes_total', { name: 'resolver', method: 'exact_match', result: 'success' }), 1)
  assert.ok(m.value('faultlens_example_http_requests_total', { route: '/resolve', status: '200' }) >= 1)
})

test('the classifier stage answers when asked for', async () => {
  const { status, body } = await post('/resolve', { error_text: 'Pod api-7f was OOMKilled (exit code 137)', method: 'classifier' })
  assert.equal(status, 200)
  assert.equal(body.method, 'ml_prediction')
  assert.equal(body.solution, 'increase_memory_limit')
  assert.ok(body.predictions.length > 0)
  assert.equal(body.predictions[0].label, body.solution)
})

test('concurrent requests', async () => {
  const results = await Promise.all(Array.from({ length: 30 }, (_, i) =>
    post('/resolve', { error_text: `Container billing-${i} was OOMKilled (exit code 137)` })))
  for (const { status, body } of results) {
    assert.equal(status, 200)
    assert.equal(body.solution, 'increase_memory_limit')
  }
})

// ---- the vector store: string ids, hybrid / vector / text / range search, filters ----

const docs = [
  { id: 'kb-pg-timeout', text: 'payment gateway timeout after 30 s on /api/v1/pay', payload: { service: 'billing', team: 'payments' } },
  { id: 'kb-db-pool', text: 'database connection pool exhausted, 50/50 connections in use', payload: { service: 'checkout', team: 'orders' } },
  { id: 'kb-disk', text: 'no space left on device /var/lib/postgresql', payload: { service: 'db', team: 'platform' } },
  { id: 'kb-tls', text: 'x509: certificate has expired for api.partner.example', payload: { service: 'billing', team: 'payments' } },
]

test('a collection takes string ids and answers hybrid, vector, text and range searches', async () => {
  let r = await post('/collections/docs/vectors', { items: docs })
  assert.equal(r.status, 200)
  assert.equal(r.body.count, 4)

  r = await post('/collections/docs/search', { query: 'payment gateway timed out', k: 2 })
  assert.equal(r.status, 200)
  assert.equal(r.body[0].id, 'kb-pg-timeout')
  assert.equal(r.body[0].payload.team, 'payments')
  assert.match(r.body[0].text, /payment gateway/)

  r = await post('/collections/docs/search', { query: 'connection pool exhausted', mode: 'vector', k: 4, filter: { service: 'checkout' } })
  assert.deepEqual(r.body.map((h) => h.id), ['kb-db-pool'])
  r = await post('/collections/docs/search', { query: 'certificate expired', mode: 'text', k: 4, filter: { service: ['billing', 'db'], team: 'payments' } })
  assert.equal(r.body[0].id, 'kb-tls')
  assert.ok(r.body.every((h) => h.payload.team === 'payments'))
  r = await post('/collections/docs/search', { query: docs[2].text, mode: 'range', minScore: 0.99 })
  assert.deepEqual(r.body.map((h) => h.id), ['kb-disk'])

  const list = await (await fetch(`${base}/collections`)).json()
  assert.deepEqual(list.find((c) => c.name === 'docs'), { name: 'docs', dim: 128, count: 4 })
})

test('upsert replaces an id, delete removes it', async () => {
  let r = await post('/collections/docs/vectors', { items: [{ id: 'kb-disk', text: 'disk quota exceeded on the backup volume', payload: { service: 'backup' } }] })
  assert.equal(r.body.count, 4)
  r = await post('/collections/docs/search', { query: 'disk quota exceeded', k: 1 })
  assert.equal(r.body[0].id, 'kb-disk')
  assert.equal(r.body[0].payload.service, 'backup')
  r = await post('/collections/docs/vectors', { ids: ['kb-disk', 'never-added'] }, false, 'DELETE')
  assert.deepEqual(r.body, { deleted: 1, count: 3 })
  r = await post('/collections/docs/search', { query: 'disk quota exceeded', k: 4, mode: 'text' })
  assert.ok(r.body.every((h) => h.id !== 'kb-disk'))
})

test('vector store input errors are 400s or 404s naming the problem', async () => {
  assert.equal((await post('/collections/docs/search', { query: 'x', mode: 'fuzzy' })).status, 400)
  assert.equal((await post('/collections/docs/search', { query: 'x', filter: 'billing' })).status, 400)
  assert.equal((await post('/collections/nope/search', { query: 'x' })).status, 404)
  const r = await post('/collections/docs/vectors', { items: [{ id: 'a', text: 'x' }, { id: 'a', text: 'y' }] })
  assert.equal(r.status, 400)
  assert.match(r.body.error, /repeat an id/)
})

// ---- proactive incidents: a 5-minute window per (service, route, error.code) ----

const T0 = Date.UTC(2026, 0, 16, 12, 0, 0) // a period boundary (periods are 5 minutes from 0)
const MIN = 60_000
function events(service, route, errorCode, message, fromMs, toMs, n) {
  const step = (toMs - fromMs) / n
  return Array.from({ length: n }, (_, i) => ({
    timestampMs: Math.round(fromMs + i * step), service, route, errorCode, message: `${message} (req ${i})`, traceId: `${service}-${fromMs + i}`,
  }))
}

let firstGroups
test('a rise over a key\'s own usual rate and a burst over the threshold both raise incidents', async () => {
  const batch = [
    // billing's timeouts run at 20 per 5 minutes for four periods, then 40: under the fixed
    // threshold (50), but far above its own normal.
    ...[0, 1, 2, 3].flatMap((p) => events('billing', '/api/v1/pay', 'E504', 'upstream PG timeout after 30000 ms', T0 + p * 5 * MIN, T0 + (p + 1) * 5 * MIN, 20)),
    ...events('billing', '/api/v1/pay', 'E504', 'upstream PG timeout after 30000 ms', T0 + 20 * MIN, T0 + 25 * MIN, 40),
    // two services run out of database connections at once: over the threshold.
    ...events('checkout', '/api/v1/orders', 'DB_POOL', 'db pool exhausted: 50/50 connections in use, waited 3s', T0 + 21 * MIN, T0 + 23 * MIN, 60),
    ...events('billing', '/api/v1/refund', 'DB_POOL', 'db pool exhausted: 50/50 connections in use, waited 5s', T0 + 21 * MIN, T0 + 24 * MIN, 55),
  ]
  let r = await post('/events', batch.sort((a, b) => a.timestampMs - b.timestampMs))
  assert.equal(r.status, 200)
  const early = r.body.incidents
  r = await post('/events/flush', {})
  const incidents = [...early, ...r.body.incidents]
  assert.equal(incidents.length, 3, JSON.stringify(incidents.map((i) => i.summary)))

  const byKey = Object.fromEntries(incidents.map((i) => [`${i.key.service} ${i.key.route}`, i]))
  const rate = byKey['billing /api/v1/pay']
  assert.equal(rate.trigger, 'rate')
  assert.ok(rate.count <= 50 && rate.count > 1.15 * rate.baseline, JSON.stringify(rate))
  assert.match(rate.summary, /^billing \/api\/v1\/pay E504: \d+ errors in 5 min \(usually \d+\.\d\), 2026-01-16 12:\d\d:\d\d UTC to 2026-01-16 12:\d\d:\d\d UTC$/)
  for (const k of ['checkout /api/v1/orders', 'billing /api/v1/refund']) {
    assert.equal(byKey[k].trigger, 'threshold')
    assert.ok(byKey[k].count > 50)
  }
  // Stable groups: both pool exhaustions in one group, the timeouts in another.
  assert.equal(byKey['checkout /api/v1/orders'].group, byKey['billing /api/v1/refund'].group)
  assert.notEqual(rate.group, byKey['checkout /api/v1/orders'].group)
  firstGroups = Object.fromEntries(incidents.map((i) => [i.id, i.group]))

  // Incidents join the "incidents" collection under their own ids.
  r = await post('/collections/incidents/search', { query: 'database pool exhausted', k: 2, filter: { errorCode: 'DB_POOL' } })
  assert.deepEqual(new Set(r.body.map((h) => h.id)), new Set([byKey['checkout /api/v1/orders'].id, byKey['billing /api/v1/refund'].id]))
})

test('group ids stay put when later incidents arrive', async () => {
  const pushed = await post('/events', events('billing', '/api/v2/pay', 'E504', 'upstream PG timeout after 30000 ms', T0 + 40 * MIN, T0 + 42 * MIN, 60))
  const flushed = await post('/events/flush', {})
  const incidents = [...pushed.body.incidents, ...flushed.body.incidents]
  assert.equal(incidents.length, 1)
  const late = incidents[0]
  assert.equal(late.trigger, 'threshold')
  assert.equal(late.newGroup, false)
  const timeoutGroup = Object.values(firstGroups).find((g) => Object.values(firstGroups).filter((x) => x === g).length === 1)
  assert.equal(late.group, timeoutGroup)
  assert.deepEqual([...pushed.body.renamed, ...flushed.body.renamed], [])
  const groups = await (await fetch(`${base}/incidents/groups`)).json()
  for (const [id, group] of Object.entries(firstGroups)) {
    assert.ok(groups.find((g) => g.id === group).members.includes(id))
  }
  assert.equal(groups.reduce((n, g) => n + g.size, 0), 4)
})

test('bad events are a 400 from the library', async () => {
  const r = await post('/events', [{ service: 'x' }])
  assert.equal(r.status, 400)
  assert.equal(r.body.code, 'InvalidInput')
})

test('/metrics: every faultlens object through prom-client, parsed', async () => {
  const m = await scrape()
  assert.equal(m.value('faultlens_window_incidents_total', { name: 'proactive' }), 4)
  assert.equal(m.value('faultlens_window_events_total', { name: 'proactive' }), 295)
  assert.equal(m.value('faultlens_incident_grouper_incidents', { name: 'problems' }), 4)
  assert.equal(m.value('faultlens_incident_grouper_groups', { name: 'problems' }), 2)
  assert.equal(m.value('faultlens_index_items', { name: 'docs' }), 3)
  assert.equal(m.value('faultlens_index_items', { name: 'incidents' }), 4)
  assert.equal(m.value('faultlens_index_items', { name: 'incidents.hybrid' }), 4)
  assert.ok(m.value('faultlens_example_http_requests_total', { route: '/events', status: '400' }) >= 1)
})
