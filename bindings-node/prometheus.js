// faultlens/prometheus: export faultlens objects through the service's own prom-client registry.
//
//   const { register } = require('faultlens/prometheus')
//   register(resolver, 'elk')            // prom-client's global registry
//   register(windows, 'proactive', reg)  // or a Registry of your own
//   app.get('/metrics', async (req, res) => res.type(reg.contentType).send(await reg.metrics()))
//
// The same families and names as Python's faultlens.prometheus (docs/metrics.md). Every scrape
// reads each registered object's plain-data accessor (metrics(), stats(), status(), len(), ...)
// once; nothing is cached between scrapes. prom-client is an optional peer dependency: this file
// never loads it unless register() is called without a registry (then the global one is used),
// and `require('faultlens')` never loads this file.
'use strict'

const {
  Adwin,
  IncidentGrouper,
  KlDriftDetector,
  PageHinkley,
  Resolver,
  SimilarityIndex,
  TextClassifier,
  TextIndex,
  WindowAggregator,
} = require('./faultlens.js')

const KINDS = [Resolver, TextClassifier, WindowAggregator, KlDriftDetector, Adwin, PageHinkley, IncidentGrouper, SimilarityIndex, TextIndex]
const KIND_NAMES = 'a Resolver, TextClassifier, WindowAggregator, KlDriftDetector, Adwin, PageHinkley, IncidentGrouper, SimilarityIndex or TextIndex'
const LEVELS = ['filling', 'normal', 'watch', 'drift', 'severe']

// One read of an object's accessor per scrape: prom-client calls every metric's get() in the
// same tick, so families read together agree with each other (e.g. a histogram's count and the
// resolutions counter).
let tickCache = null
function read(obj, accessor) {
  if (tickCache === null) {
    tickCache = new Map()
    process.nextTick(() => {
      tickCache = null
    })
  }
  let perObject = tickCache.get(obj)
  if (perObject === undefined) tickCache.set(obj, (perObject = new Map()))
  if (!perObject.has(accessor)) perObject.set(accessor, obj[accessor]())
  return perObject.get(accessor)
}

// Family specs: [prom-client type, name, help, extra labels, kinds, sample(obj, add)]. Counter
// names end in `_total` as prom-client writes them; the samples are the ones Python's
// prometheus_client exposes for the same family.
const windowCounters = [
  ['events', 'On-time events counted.'],
  ['lateEvents', 'Events older than the watermark (not counted).', 'late_events'],
  ['rejectedEvents', 'Events beyond max_future_ms (not counted).', 'rejected_events'],
  ['evictedKeys', 'Keys evicted by max_keys.', 'evicted_keys'],
  ['evictedEvents', 'Not-yet-final events dropped with evicted keys.', 'evicted_events'],
  ['expiredKeys', 'Keys removed because their window emptied.', 'expired_keys'],
  ['incidents', 'Incidents raised.'],
]

const FAMILIES = [
  ['counter', 'faultlens_resolutions_total', 'Resolutions by the method that answered.', ['method'], [Resolver], (r, add) => {
    for (const [method, v] of Object.entries(read(r, 'metrics').resolutions)) add(v, { method })
  }],
  ['counter', 'faultlens_unreliable_resolutions_total', 'Abstentions: resolutions no stage answered reliably.', [], [Resolver], (r, add) => add(read(r, 'metrics').unreliable)],
  ['counter', 'faultlens_novel_inputs_total', 'Resolutions whose input was unlike the knowledge base and the training data.', [], [Resolver], (r, add) => add(read(r, 'metrics').novel)],
  ['counter', 'faultlens_resolve_errors_total', 'Resolve calls that failed with an error.', [], [Resolver], (r, add) => add(read(r, 'metrics').errors)],
  ['counter', 'faultlens_outcomes_total', 'Feedback on answers, by method and result.', ['method', 'result'], [Resolver], (r, add) => {
    for (const [method, c] of Object.entries(read(r, 'metrics').outcomes)) {
      add(c.success, { method, result: 'success' })
      add(c.failure, { method, result: 'failure' })
    }
  }],
  ['histogram', 'faultlens_resolve_latency_seconds', 'Time per resolution.', [], [Resolver], (r, add) => add(read(r, 'metrics').latencySeconds)],
  ['histogram', 'faultlens_resolve_confidence', 'Confidence of answered resolutions.', [], [Resolver], (r, add) => add(read(r, 'metrics').confidence)],

  ['counter', 'faultlens_classifier_predictions_total', 'Rows predicted (every prediction method).', [], [TextClassifier], (c, add) => add(read(c, 'metrics').predictions)],
  ['counter', 'faultlens_classifier_novel_inputs_total', 'Predicted rows unlike the training data (novelty above novelty_threshold).', [], [TextClassifier], (c, add) => add(read(c, 'metrics').novel)],
  ['counter', 'faultlens_classifier_unreliable_predictions_total', 'Predicted rows with confidence below threshold.', [], [TextClassifier], (c, add) => add(read(c, 'metrics').unreliable)],
  ['histogram', 'faultlens_classifier_confidence', 'Confidence of the rows predict_one scored.', [], [TextClassifier], (c, add) => add(read(c, 'metrics').confidence)],

  ...windowCounters.map(([key, help, snake]) => ['counter', `faultlens_window_${snake ?? key}_total`, help, [], [WindowAggregator], (w, add) => add(read(w, 'stats')[key])]),
  ['gauge', 'faultlens_window_live_keys', 'Keys held now.', [], [WindowAggregator], (w, add) => add(read(w, 'stats').liveKeys)],
  ['gauge', 'faultlens_window_pending_events', 'Events waiting for the watermark.', [], [WindowAggregator], (w, add) => add(read(w, 'stats').pendingEvents)],
  ['gauge', 'faultlens_window_watermark_ms', 'Current watermark (event time, ms).', [], [WindowAggregator], (w, add) => {
    const wm = read(w, 'stats').watermarkMs
    if (wm !== null && wm !== undefined) add(wm)
  }],

  ['gauge', 'faultlens_drift_kl', 'KL divergence of the current window from the baseline.', [], [KlDriftDetector], (d, add) => add(read(d, 'status').kl)],
  ['gauge', 'faultlens_drift_psi', 'Population stability index of the window.', [], [KlDriftDetector], (d, add) => add(read(d, 'status').psi)],
  ['gauge', 'faultlens_drift_js', 'Jensen-Shannon divergence of the window.', [], [KlDriftDetector], (d, add) => add(read(d, 'status').js)],
  ['gauge', 'faultlens_drift_detected', '1 when the detector reports drift now (KL: the window is over the drift threshold).', [], [KlDriftDetector, Adwin, PageHinkley], (d, add) => {
    add(d instanceof KlDriftDetector ? Number(read(d, 'status').drift) : Number(d.driftDetected()))
  }],
  ['gauge', 'faultlens_drift_should_retrain', '1 when the model should be retrained.', [], [KlDriftDetector], (d, add) => add(Number(read(d, 'status').shouldRetrain))],
  ['gauge', 'faultlens_drift_level', '1 for the current drift level, 0 for the others.', ['level'], [KlDriftDetector], (d, add) => {
    const level = read(d, 'status').level
    for (const l of LEVELS) add(Number(level === l), { level: l })
  }],
  ['gauge', 'faultlens_drift_window_scores', 'Scores in the current window.', [], [KlDriftDetector], (d, add) => add(read(d, 'status').nWindow)],
  ['counter', 'faultlens_drift_scores_total', 'Scores seen.', [], [KlDriftDetector], (d, add) => add(read(d, 'status').nSeen)],
  ['counter', 'faultlens_drift_detections_total', 'Changes detected (Adwin, PageHinkley).', [], [Adwin, PageHinkley], (d, add) => add(d.nDetections())],

  ['gauge', 'faultlens_incident_grouper_incidents', 'Incidents held.', [], [IncidentGrouper], (g, add) => add(g.len())],
  ['gauge', 'faultlens_incident_grouper_groups', 'Groups of the incidents held.', [], [IncidentGrouper], (g, add) => add(g.groups().length)],

  ['gauge', 'faultlens_index_items', 'Items held by the index.', [], [SimilarityIndex, TextIndex], (i, add) => add(i.len())],
  ['gauge', 'faultlens_index_estimated_recall', 'Recall@10 the index estimated for its search breadth.', [], [SimilarityIndex], (i, add) => {
    const recall = i.estimatedRecall()
    if (recall !== null && recall !== undefined) add(recall)
  }],
  ['gauge', 'faultlens_index_ef', 'HNSW search breadth in use.', [], [SimilarityIndex], (i, add) => add(i.effectiveEf())],
  ['counter', 'faultlens_index_searches_total', 'Queries answered (one per query row).', [], [SimilarityIndex, TextIndex], (i, add) => add(read(i, 'metrics').searches)],
  ['counter', 'faultlens_index_added_total', 'Items added.', [], [SimilarityIndex, TextIndex], (i, add) => add(read(i, 'metrics').added)],
  ['counter', 'faultlens_index_removed_total', 'Items removed.', [], [SimilarityIndex, TextIndex], (i, add) => add(read(i, 'metrics').removed)],
]

function histogramValues(name, h, labels) {
  const values = []
  let sawInf = false
  for (const [bound, count] of h.buckets) {
    const le = bound === Infinity ? '+Inf' : bound
    sawInf ||= le === '+Inf'
    values.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: count })
  }
  if (!sawInf) values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: h.count })
  values.push({ metricName: `${name}_sum`, labels, value: h.sum })
  values.push({ metricName: `${name}_count`, labels, value: h.count })
  return values
}

// A metric as prom-client's Registry reads one (name, help, type, aggregator, get(), reset()):
// its values come from the registered objects at every get(), so there is nothing to set.
class Family {
  constructor(collector, [type, name, help, labelNames, kinds, sample]) {
    Object.assign(this, { type, name, help, labelNames: ['name', ...labelNames], aggregator: 'sum' })
    this._collector = collector
    this._kinds = kinds
    this._sample = sample
    this._registeredName = name
  }

  covers(obj) {
    return this._kinds.some((k) => obj instanceof k)
  }

  get() {
    const values = []
    for (const [objName, obj] of this._collector.sorted()) {
      if (!this.covers(obj)) continue
      this._sample(obj, (v, labels = {}) => {
        const all = { name: objName, ...labels }
        if (this.type === 'histogram') values.push(...histogramValues(this._registeredName, v, all))
        else values.push({ labels: all, value: v })
      })
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }

  // registry.resetMetrics(): the counts belong to the faultlens objects (Resolver.resetMetrics()).
  reset() {}
}

// One collector per registry, holding every registered object, so two resolvers share the
// families and differ by the label `name`.
class Collector {
  constructor(registry) {
    this.registry = registry
    this.objects = new Map()
    this.families = FAMILIES.map((spec) => new Family(this, spec))
    this.live = new Set()
  }

  sorted() {
    return [...this.objects].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  }

  add(name, obj) {
    if (this.objects.has(name)) throw new Error(`a faultlens object named '${name}' is already registered`)
    const needed = this.families.filter((f) => f.covers(obj) && !this.live.has(f))
    const done = []
    try {
      for (const f of needed) {
        this.registry.registerMetric(f)
        done.push(f)
      }
    } catch (e) {
      // A name taken by another metric of the registry: leave the registry as it was.
      for (const f of done) this.registry.removeSingleMetric(f._registeredName)
      throw e
    }
    for (const f of done) this.live.add(f)
    this.objects.set(name, obj)
  }

  remove(name) {
    if (!this.objects.delete(name)) return false
    for (const f of [...this.live]) {
      if (![...this.objects.values()].some((o) => f.covers(o))) {
        this.registry.removeSingleMetric(f._registeredName)
        this.live.delete(f)
      }
    }
    return true
  }
}

const collectors = new WeakMap()

function defaultRegistry() {
  try {
    return require('prom-client').register
  } catch (e) {
    const error = new Error('faultlens/prometheus: prom-client is not installed (npm install prom-client), or pass a registry')
    error.cause = e
    throw error
  }
}

function checkRegistry(registry) {
  if (registry === null || typeof registry !== 'object' || typeof registry.registerMetric !== 'function'
      || typeof registry.removeSingleMetric !== 'function') {
    throw new TypeError('registry must be a prom-client Registry')
  }
  return registry
}

/**
 * Reports `obj` in `registry` (default: prom-client's global registry) with the label `name`,
 * read at every scrape. A name is unique per registry.
 */
function register(obj, name, registry) {
  if (!KINDS.some((k) => obj instanceof k)) {
    const what = obj === null ? 'null' : typeof obj === 'object' ? obj.constructor?.name ?? 'object' : typeof obj
    throw new TypeError(`cannot export a ${what}: need ${KIND_NAMES}`)
  }
  if (typeof name !== 'string' || name === '') throw new TypeError('name must be a non-empty string')
  const reg = checkRegistry(registry ?? defaultRegistry())
  let c = collectors.get(reg)
  if (c === undefined) collectors.set(reg, (c = new Collector(reg)))
  c.add(name, obj)
}

/** Stops reporting the object registered as `name`; returns whether there was one. */
function unregister(name, registry) {
  const reg = checkRegistry(registry ?? defaultRegistry())
  const c = collectors.get(reg)
  return c !== undefined && c.remove(name)
}

module.exports = { register, unregister }
