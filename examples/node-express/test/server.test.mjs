// Starts the service as its own process on a loopback port and sends real HTTP requests.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'

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

const post = async (path, body, raw = false) => {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: raw ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(10000),
  })
  return { status: res.status, body: await res.json() }
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
  const text = await (await fetch(`${base}/metrics`)).text()
  const novel = /^faultlens_novel_inputs_total (\d+)$/m.exec(text)
  assert.ok(novel && Number(novel[1]) >= 1, text)
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
  const res = await fetch(`${base}/metrics`)
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type'), /^text\/plain/)
  const text = await res.text()
  const exact = /^faultlens_resolutions_total\{method="exact_match"\} (\d+)$/m.exec(text)
  assert.ok(exact && Number(exact[1]) >= 1, text)
  assert.match(text, /^# TYPE faultlens_resolve_latency_seconds histogram$/m)
  assert.match(text, /^faultlens_outcomes_total\{method="exact_match",result="success"\} 1$/m)
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
