// An error-resolution service on faultlens: the cascade (rules -> similar past errors ->
// classifier) behind three routes. PORT=0 picks a free port; the URL is printed on start.
//   POST /resolve  {"error_text": "...", "method": "auto"}  -> the resolution as JSON (act on it
//                  only when `reliable`; `novel` marks an error unlike anything known)
//   POST /feedback {"error_text": "...", "solution": "...", "success": true}
//   GET  /metrics  Prometheus text exposition
//   GET  /health
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import express from 'express'
import { Resolver, TextClassifier, version } from 'faultlens'

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

export function makeApp(resolver) {
  const app = express()
  app.use(express.json({ limit: '1mb' }))

  app.get('/health', (req, res) => res.json({ ok: true, faultlens: version() }))

  app.get('/metrics', (req, res) => {
    res.type('text/plain; version=0.0.4; charset=utf-8').send(resolver.metricsPrometheus())
  })

  app.post('/resolve', (req, res) => {
    const { error_text: text, method = 'auto' } = req.body ?? {}
    if (typeof text !== 'string' || text.trim() === '') {
      return res.status(400).json({ error: 'body must be JSON with "error_text": a non-empty string' })
    }
    try {
      res.json(resolver.resolve(text, method))
    } catch (e) {
      // Bad input (unknown method, oversized text) is the caller's; anything else is ours.
      res.status(e.code === 'InvalidInput' ? 400 : 500).json({ error: e.message, code: e.code })
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
      res.status(e.code === 'InvalidInput' ? 400 : 500).json({ error: e.message, code: e.code })
    }
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
  const app = makeApp(await buildResolver())
  const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
    console.log(`listening on http://127.0.0.1:${server.address().port}`)
  })
  process.on('SIGTERM', () => server.close(() => process.exit(0)))
}
