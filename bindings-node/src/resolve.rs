//! `Resolver`: the rules → similar past errors → classifier cascade, feedback and Prometheus
//! metrics (core `resolve` module).
//!
//! The core resolver is `Sync` and resolves through `&self`, so it sits in an `Arc<RwLock<..>>`
//! whose read side is shared by synchronous calls and `resolveBatchAsync`; only replacing the
//! rules takes the write side.

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use faultlens::Artifact;
use faultlens::resolve::{Mode, Rule, Rules};
use napi::Task;
use napi::bindgen_prelude::{
    AsyncTask, Buffer, Either, Env, Float32Array, Null, ToNapiValue, Uint8Array, Unknown,
};
use napi::sys;
use napi_derive::napi;
use serde_json::Value;

use crate::args;
use crate::artifact;
use crate::convert;
use crate::error::{Result, binding, guard, reject, thrown_at, to_js};
use crate::js_object::{Shape, js, js_opt};

type Core = faultlens::resolve::Resolver;
type Shared = Arc<RwLock<Core>>;

const WHAT: &str = "Resolver";

fn read(shared: &Shared) -> Result<RwLockReadGuard<'_, Core>> {
    crate::lock::read(shared, WHAT)
}

fn write(shared: &Shared) -> Result<RwLockWriteGuard<'_, Core>> {
    crate::lock::write(shared, WHAT)
}

fn mode(method: Option<String>) -> Result<Mode> {
    Mode::parse(method.as_deref().unwrap_or("auto")).map_err(to_js)
}

/// One rule: when `pattern` (a case-insensitive regex) matches, answer `solution`.
#[napi(object)]
pub struct ResolverRule {
    /// A name for reports and errors (default `rule <n>`).
    pub name: Option<String>,
    /// Regular expression (Rust `regex` syntax).
    pub pattern: String,
    /// The remedy.
    pub solution: String,
}

/// A similar past error found by the similarity stage.
#[napi(object, object_from_js = false, object_to_js = false)]
pub struct SimilarError {
    /// Position of the pair in the knowledge base.
    pub id: f64,
    /// The past error text.
    pub error: String,
    /// Its recorded solution.
    pub solution: String,
    /// Cosine similarity in `[0, 1]`.
    pub similarity: f64,
}

/// A classifier label and its probability.
#[napi(object, object_from_js = false, object_to_js = false)]
pub struct LabelScore {
    /// The remedy label.
    pub label: String,
    /// Its probability.
    pub probability: f64,
}

/// The answer to one `resolve` call.
#[napi(object, object_from_js = false, object_to_js = false)]
pub struct Resolution {
    /// The remedy, or `null` when no stage produced one.
    pub solution: Option<String>,
    /// The probability that the answer is right, in `[0, 1]` (1 for a rule, 0 for `no_match`).
    pub confidence: f64,
    /// The stage that answered.
    #[napi(ts_type = "'exact_match' | 'similarity_match' | 'ml_prediction' | 'no_match'")]
    pub method: String,
    /// Whether the answer reached its stage's threshold. When false the resolver abstains:
    /// `solution` is only the best candidate.
    pub reliable: bool,
    /// 1 - the input's similarity to the nearest past error or training line (0 when no stage
    /// could tell).
    pub novelty: f64,
    /// Not reliable and `novelty > noveltyThreshold`: unlike anything known; route it to a person.
    pub novel: bool,
    /// The matching rule's name, for `exact_match`.
    pub rule: Option<String>,
    /// Similar past errors (empty when that stage did not run).
    pub similar: Vec<SimilarError>,
    /// The classifier's top labels (empty when it did not run).
    pub predictions: Vec<LabelScore>,
    /// Time taken, in microseconds.
    pub elapsed_us: f64,
}

impl From<faultlens::resolve::Resolution> for Resolution {
    fn from(r: faultlens::resolve::Resolution) -> Self {
        Resolution {
            solution: r.solution,
            confidence: r.confidence,
            method: r.method.as_str().to_owned(),
            reliable: r.reliable,
            novelty: r.novelty,
            novel: r.novel,
            rule: r.rule,
            similar: r
                .similar
                .into_iter()
                .map(|s| SimilarError {
                    id: s.id as f64,
                    error: s.error,
                    solution: s.solution,
                    similarity: s.similarity,
                })
                .collect(),
            predictions: r
                .predictions
                .into_iter()
                .map(|p| LabelScore {
                    label: p.label,
                    probability: p.probability,
                })
                .collect(),
            elapsed_us: r.elapsed_us as f64,
        }
    }
}

const SIMILAR_ERROR: Shape = Shape(
    "(function (id, error, solution, similarity) { return { id, error, solution, similarity } })",
);
const LABEL_SCORE: Shape =
    Shape("(function (label, probability) { return { label, probability } })");
const RESOLUTION: Shape = Shape(
    "(function (solution, confidence, method, reliable, novelty, novel, rule, similar, predictions, \
     elapsedUs) { return { solution, confidence, method, reliable, novelty, novel, rule, similar, \
     predictions, elapsedUs } })",
);

impl ToNapiValue for SimilarError {
    unsafe fn to_napi_value(env: sys::napi_env, v: Self) -> napi::Result<sys::napi_value> {
        let args = [
            js(env, v.id)?,
            js(env, v.error)?,
            js(env, v.solution)?,
            js(env, v.similarity)?,
        ];
        SIMILAR_ERROR.make(env, &args)
    }
}

impl ToNapiValue for LabelScore {
    unsafe fn to_napi_value(env: sys::napi_env, v: Self) -> napi::Result<sys::napi_value> {
        LABEL_SCORE.make(env, &[js(env, v.label)?, js(env, v.probability)?])
    }
}

impl ToNapiValue for Resolution {
    unsafe fn to_napi_value(env: sys::napi_env, v: Self) -> napi::Result<sys::napi_value> {
        let args = [
            js_opt(env, v.solution)?,
            js(env, v.confidence)?,
            js(env, v.method)?,
            js(env, v.reliable)?,
            js(env, v.novelty)?,
            js(env, v.novel)?,
            js_opt(env, v.rule)?,
            js(env, v.similar)?,
            js(env, v.predictions)?,
            js(env, v.elapsed_us)?,
        ];
        RESOLUTION.make(env, &args)
    }
}

/// Feedback on one answer.
#[napi(object, object_from_js = false)]
pub struct Outcome {
    /// The error text.
    pub text: String,
    /// The solution applied.
    pub solution: String,
    /// Whether it worked.
    pub success: bool,
    /// The method that had answered this text (`no_match` when unknown).
    pub method: String,
    /// The knowledge id of the past error whose solution was the answer (similarity answers).
    pub matched_id: Option<f64>,
    /// Its similarity to the text.
    pub similarity: Option<f64>,
    /// The rule that answered (exact matches), else `null`; for classifier answers `solution`
    /// is the label.
    #[napi(ts_type = "string | null")]
    pub rule: Either<String, Null>,
    /// Seconds since the Unix epoch.
    pub timestamp: f64,
}

/// Outcomes of one stage or solution in `summary()`.
#[napi(object, object_from_js = false, object_to_js = false)]
#[allow(dead_code)] // declares the TypeScript interface only; summaries arrive as JSON
pub struct OutcomeSummary {
    /// Resolutions answered (stages only).
    pub resolutions: Option<f64>,
    /// Answers that worked.
    pub success: f64,
    /// Answers that did not.
    pub failure: f64,
    /// `success / (success + failure)`, `null` before any outcome.
    #[napi(ts_type = "number | null")]
    pub success_rate: Option<f64>,
}

/// The monitoring summary of a resolver.
#[napi(object, object_from_js = false, object_to_js = false)]
#[allow(dead_code)] // declares the TypeScript interface only; summaries arrive as JSON
pub struct ResolverSummary {
    /// Resolutions in total.
    pub total: f64,
    /// Answered reliably.
    pub reliable: f64,
    /// Abstentions.
    pub unreliable: f64,
    /// Novel inputs.
    pub novel: f64,
    /// Failed resolve calls.
    pub errors: f64,
    /// Mean time per resolution in ms (`null` before any).
    #[napi(ts_type = "number | null")]
    pub mean_latency_ms: Option<f64>,
    /// Longest resolution in ms.
    #[napi(ts_type = "number | null")]
    pub max_latency_ms: Option<f64>,
    /// Mean confidence of answered resolutions.
    #[napi(ts_type = "number | null")]
    pub mean_confidence: Option<f64>,
    /// Outcomes reported.
    pub outcomes: f64,
    /// Share of successful outcomes.
    #[napi(ts_type = "number | null")]
    pub success_rate: Option<f64>,
    /// Per stage (`exact_match`, `similarity_match`, `ml_prediction`, `no_match`).
    #[napi(ts_type = "Record<string, OutcomeSummary>")]
    pub by_stage: Value,
    /// Per applied solution.
    #[napi(ts_type = "Record<string, OutcomeSummary>")]
    pub by_solution: Value,
}

/// Feedback counts of one method.
#[napi(object, object_from_js = false, object_to_js = false)]
#[allow(dead_code)] // declares the TypeScript interface only; metrics arrive as JSON
pub struct OutcomeCounts {
    /// Answers that worked.
    pub success: f64,
    /// Answers that did not.
    pub failure: f64,
}

/// What `metrics()` returns.
#[napi(object, object_from_js = false, object_to_js = false)]
#[allow(dead_code)] // declares the TypeScript interface only; metrics arrive as JSON
pub struct MetricsSnapshot {
    /// Resolutions in total.
    pub total: f64,
    /// Resolutions by answering method (`exact_match`, ..., `no_match`).
    #[napi(ts_type = "Record<string, number>")]
    pub resolutions: Value,
    /// Abstentions: resolutions no stage answered reliably.
    pub unreliable: f64,
    /// Resolutions whose input was novel (unlike the knowledge base and the training data).
    pub novel: f64,
    /// Resolve calls that threw.
    pub errors: f64,
    /// Feedback by the method that gave the answer.
    #[napi(ts_type = "Record<string, OutcomeCounts>")]
    pub outcomes: Value,
    /// Time per resolution, in seconds.
    pub latency_seconds: crate::metrics::MetricsHistogram,
    /// Confidence of answered resolutions (`no_match` excluded).
    pub confidence: crate::metrics::MetricsHistogram,
}

/// The rules → similar past errors → classifier cascade.
#[napi]
pub struct Resolver {
    inner: Shared,
}

impl Resolver {
    fn wrap(r: Core) -> Self {
        Self {
            inner: Arc::new(RwLock::new(r)),
        }
    }
}

impl crate::artifact::JsArtifact for Resolver {
    type Core = Core;
    fn wrap(core: Core) -> Self {
        Self::wrap(core)
    }
    fn core(&self) -> Result<impl std::ops::Deref<Target = Core> + '_> {
        read(&self.inner)
    }
}

#[napi]
impl Resolver {
    /// A resolver with no stage configured; throws `InvalidConfig` for a bad or unknown option.
    #[napi(constructor, catch_unwind)]
    pub fn new(
        #[napi(ts_arg_type = "ResolverOptions | null")] options: Option<Unknown>,
    ) -> Result<Self> {
        let config: faultlens::resolve::ResolverConfig =
            convert::from_snake(convert::options_json(options)?)?;
        Ok(Self::wrap(Core::new(config).map_err(to_js)?))
    }

    /// Replaces the rules (first match wins); returns their number.
    #[napi(catch_unwind)]
    pub fn set_rules(&self, rules: Vec<ResolverRule>) -> Result<u32> {
        let rules = Rules::new(
            rules
                .into_iter()
                .map(|r| Rule {
                    name: r.name.unwrap_or_default(),
                    pattern: r.pattern,
                    solution: r.solution,
                })
                .collect(),
        )
        .map_err(to_js)?;
        let n = rules.len() as u32;
        write(&self.inner)?.set_rules(rules);
        Ok(n)
    }

    /// Sets the classifier stage to a copy of a fitted `TextClassifier`.
    #[napi(catch_unwind)]
    pub fn set_classifier(&self, classifier: &crate::classify::TextClassifier) -> Result<()> {
        let c = crate::lock::read(&classifier.inner, "TextClassifier")?.clone();
        write(&self.inner)?.set_classifier(c).map_err(to_js)
    }

    /// Sets the classifier stage from a classifier model file (saved in any language).
    #[napi(catch_unwind)]
    pub fn load_classifier(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] path: Unknown,
    ) -> napi::Result<()> {
        let path = args::string(&path, "path").map_err(|e| reject(&env, e))?;
        let c = faultlens::TextClassifier::load(path).map_err(|e| thrown_at(&env, e))?;
        let mut r = write(&self.inner).map_err(|e| reject(&env, e))?;
        r.set_classifier(c).map_err(|e| thrown_at(&env, e))
    }

    /// Replaces the rules with a JSON or TOML file's (by extension); returns their number.
    #[napi(catch_unwind)]
    pub fn load_rules(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] path: Unknown,
    ) -> napi::Result<u32> {
        let path = args::string(&path, "path").map_err(|e| reject(&env, e))?;
        let rules = Rules::from_file(path).map_err(|e| thrown_at(&env, e))?;
        let n = rules.len() as u32;
        write(&self.inner)
            .map_err(|e| reject(&env, e))?
            .set_rules(rules);
        Ok(n)
    }

    /// The rules in order.
    #[napi(catch_unwind)]
    pub fn rules(&self) -> Result<Vec<ResolverRule>> {
        Ok(read(&self.inner)?
            .rules()
            .rules()
            .iter()
            .map(|r| ResolverRule {
                name: Some(r.name.clone()),
                pattern: r.pattern.clone(),
                solution: r.solution.clone(),
            })
            .collect())
    }

    /// Adds past error → solution pairs; returns the knowledge base's size.
    #[napi(catch_unwind)]
    pub fn add_knowledge(
        &self,
        #[napi(ts_arg_type = "Array<string>")] errors: Unknown,
        #[napi(ts_arg_type = "Array<string>")] solutions: Unknown,
    ) -> Result<u32> {
        let errors = args::strings(&errors, "errors")?;
        let solutions = args::strings(&solutions, "solutions")?;
        let n = read(&self.inner)?
            .add_knowledge(&errors, &solutions)
            .map_err(to_js)?;
        Ok(n as u32)
    }

    /// Adds a JSONL file's `{"error", "solution"}` lines (a bad line throws, naming it, unless
    /// `skipInvalid`); returns how many were added.
    #[napi(catch_unwind)]
    pub fn load_knowledge(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] path: Unknown,
        skip_invalid: Option<bool>,
    ) -> napi::Result<u32> {
        let path = args::string(&path, "path").map_err(|e| reject(&env, e))?;
        let n = read(&self.inner)
            .map_err(|e| reject(&env, e))?
            .load_knowledge(path, skip_invalid.unwrap_or(false))
            .map_err(|e| thrown_at(&env, e))?;
        Ok(n as u32)
    }

    /// Pairs in the knowledge base.
    #[napi(catch_unwind)]
    pub fn knowledge_size(&self) -> Result<u32> {
        Ok(read(&self.inner)?.knowledge_size() as u32)
    }

    /// Makes a copy of a `TextIndex` the similarity stage's knowledge (replacing the built-in
    /// knowledge base); item payloads are the solutions. With external embeddings, resolve with
    /// `resolveEmbedded` and add pairs with `addKnowledgeEmbedded`.
    #[napi(catch_unwind)]
    pub fn set_knowledge_index(&self, index: &crate::index::TextIndex) -> Result<()> {
        write(&self.inner)?
            .set_knowledge_index(index.core())
            .map_err(to_js)
    }

    /// Whether the knowledge is a `TextIndex` of external embeddings.
    #[napi(catch_unwind)]
    pub fn knowledge_is_embedded(&self) -> Result<bool> {
        Ok(read(&self.inner)?.knowledge_is_embedded())
    }

    /// Adds pairs with your embeddings of the errors (`errors.length * dim` values, row after
    /// row) to a knowledge index of external embeddings. Returns the knowledge's new size.
    #[napi(catch_unwind)]
    pub fn add_knowledge_embedded(
        &self,
        #[napi(ts_arg_type = "Array<string>")] errors: Unknown,
        #[napi(ts_arg_type = "Array<string>")] solutions: Unknown,
        #[napi(ts_arg_type = "Float32Array")] embeddings: Unknown,
    ) -> Result<u32> {
        let embeddings: Float32Array = args::value(&embeddings, "embeddings", "a Float32Array")?;
        let errors = args::strings(&errors, "errors")?;
        let solutions = args::strings(&solutions, "solutions")?;
        let n = read(&self.inner)?
            .add_knowledge_embedded(&errors, &solutions, &embeddings)
            .map_err(to_js)?;
        Ok(n as u32)
    }

    /// `resolve` with your embedding of `text`, for a knowledge index of external embeddings.
    #[napi(catch_unwind)]
    pub fn resolve_embedded(
        &self,
        #[napi(ts_arg_type = "string")] text: Unknown,
        #[napi(ts_arg_type = "Float32Array")] embedding: Unknown,
        #[napi(ts_arg_type = "'auto' | 'rules' | 'similarity' | 'classifier'")] method: Option<
            String,
        >,
    ) -> Result<Resolution> {
        let embedding: Float32Array = args::value(&embedding, "embedding", "a Float32Array")?;
        let text = args::string(&text, "text")?;
        let mode = mode(method)?;
        Ok(read(&self.inner)?
            .resolve_embedded(&text, &embedding, mode)
            .map_err(to_js)?
            .into())
    }

    /// `resolveBatch` with your embeddings of the texts (`texts.length * dim` values).
    #[napi(catch_unwind)]
    pub fn resolve_batch_embedded(
        &self,
        #[napi(ts_arg_type = "Array<string>")] texts: Unknown,
        #[napi(ts_arg_type = "Float32Array")] embeddings: Unknown,
        #[napi(ts_arg_type = "'auto' | 'rules' | 'similarity' | 'classifier'")] method: Option<
            String,
        >,
    ) -> Result<Vec<Resolution>> {
        let embeddings: Float32Array = args::value(&embeddings, "embeddings", "a Float32Array")?;
        let texts = args::strings(&texts, "texts")?;
        let mode = mode(method)?;
        let rs = read(&self.inner)?
            .resolve_batch_embedded(&texts, &embeddings, mode)
            .map_err(to_js)?;
        Ok(rs.into_iter().map(Into::into).collect())
    }

    /// Resolves one error text; `method` is `'auto'` (default), `'rules'`, `'similarity'` or
    /// `'classifier'`.
    #[napi(catch_unwind)]
    pub fn resolve(
        &self,
        #[napi(ts_arg_type = "string")] text: Unknown,
        #[napi(ts_arg_type = "'auto' | 'rules' | 'similarity' | 'classifier'")] method: Option<
            String,
        >,
    ) -> Result<Resolution> {
        let text = args::string(&text, "text")?;
        let mode = mode(method)?;
        Ok(read(&self.inner)?
            .resolve(&text, mode)
            .map_err(to_js)?
            .into())
    }

    /// Resolves many texts on all cores (every text is checked first; a bad one throws, naming
    /// its index).
    #[napi(catch_unwind)]
    pub fn resolve_batch(
        &self,
        #[napi(ts_arg_type = "Array<string>")] texts: Unknown,
        #[napi(ts_arg_type = "'auto' | 'rules' | 'similarity' | 'classifier'")] method: Option<
            String,
        >,
    ) -> Result<Vec<Resolution>> {
        let texts = args::strings(&texts, "texts")?;
        let mode = mode(method)?;
        let rs = read(&self.inner)?
            .resolve_batch(&texts, mode)
            .map_err(to_js)?;
        Ok(rs.into_iter().map(Resolution::from).collect())
    }

    /// `resolveBatch` on the libuv thread pool.
    #[napi(catch_unwind, ts_return_type = "Promise<Array<Resolution>>")]
    pub fn resolve_batch_async(
        &self,
        #[napi(ts_arg_type = "Array<string>")] texts: Unknown,
        #[napi(ts_arg_type = "'auto' | 'rules' | 'similarity' | 'classifier'")] method: Option<
            String,
        >,
    ) -> Result<AsyncTask<ResolveBatchTask>> {
        let texts = args::strings(&texts, "texts")?;
        Ok(AsyncTask::new(ResolveBatchTask {
            inner: self.inner.clone(),
            texts,
            mode: mode(method)?,
        }))
    }

    /// Records whether `solution` fixed `text`; successes join the knowledge base when
    /// `learnFromFeedback` is on.
    #[napi(catch_unwind)]
    pub fn record_outcome(
        &self,
        #[napi(ts_arg_type = "string")] text: Unknown,
        #[napi(ts_arg_type = "string")] solution: Unknown,
        success: bool,
    ) -> Result<()> {
        let text = args::string(&text, "text")?;
        let solution = args::string(&solution, "solution")?;
        read(&self.inner)?
            .record_outcome(&text, &solution, success)
            .map_err(to_js)
    }

    /// Recorded outcomes, oldest first.
    #[napi(catch_unwind)]
    pub fn outcomes(&self) -> Result<Vec<Outcome>> {
        Ok(read(&self.inner)?
            .outcomes()
            .into_iter()
            .map(|o| Outcome {
                text: o.text,
                solution: o.solution,
                success: o.success,
                method: o.method.as_str().to_owned(),
                matched_id: o.matched_id.map(|id| id as f64),
                similarity: o.similarity,
                rule: o.rule.map_or(Either::B(Null), Either::A),
                timestamp: o.timestamp,
            })
            .collect())
    }

    /// Counters and histograms (camelCase keys): `total`, `resolutions` by method, `unreliable`,
    /// `novel`, `errors`, `outcomes` by method, `latencySeconds` and `confidence` histograms.
    #[napi(catch_unwind, ts_return_type = "MetricsSnapshot")]
    pub fn metrics(&self) -> Result<Value> {
        let snapshot = read(&self.inner)?.metrics();
        // Method names are map keys, not fields: keep them as the core spells them.
        let mut v = serde_json::to_value(&snapshot)
            .map_err(|e| binding("GenericFailure", e.to_string()))?;
        if let Value::Object(m) = &mut v {
            for key in ["latency_seconds"] {
                if let Some(h) = m.remove(key) {
                    m.insert(convert::camel_case(key), h);
                }
            }
        }
        Ok(v)
    }

    /// The metrics in the Prometheus text exposition format, ready to serve at `/metrics`.
    #[napi(catch_unwind)]
    pub fn metrics_prometheus(&self) -> Result<String> {
        Ok(read(&self.inner)?.metrics_prometheus())
    }

    /// The monitoring summary (camelCase keys): `total`, `reliable`, `unreliable`, `novel`,
    /// `errors`, `meanLatencyMs`, `maxLatencyMs`, `meanConfidence`, `outcomes`, `successRate`,
    /// `byStage` and `bySolution` (keyed by stage / solution as the core spells them).
    #[napi(catch_unwind, ts_return_type = "ResolverSummary")]
    pub fn summary(&self) -> Result<Value> {
        let s = read(&self.inner)?.summary();
        // Stage and solution names are map keys, not fields: keep them as they are.
        let mut v =
            serde_json::to_value(&s).map_err(|e| binding("GenericFailure", e.to_string()))?;
        let mut keep = serde_json::Map::new();
        if let Value::Object(m) = &mut v {
            for key in ["by_stage", "by_solution"] {
                if let Some(x) = m.remove(key) {
                    keep.insert(convert::camel_case(key), x);
                }
            }
        }
        let mut out = convert::config_to_js(&v)?;
        if let Value::Object(m) = &mut out {
            for (k, x) in keep {
                let renamed = match x {
                    Value::Object(inner) => Value::Object(
                        inner
                            .into_iter()
                            .map(|(name, rec)| Ok((name, convert::config_to_js(&rec)?)))
                            .collect::<Result<_>>()?,
                    ),
                    other => other,
                };
                m.insert(k, renamed);
            }
        }
        Ok(out)
    }

    /// Zeroes every counter and histogram.
    #[napi(catch_unwind)]
    pub fn reset_metrics(&self) -> Result<()> {
        read(&self.inner)?.reset_metrics();
        Ok(())
    }

    /// The full configuration (camelCase keys); `new Resolver(r.config())` rebuilds an empty one.
    #[napi(catch_unwind, ts_return_type = "Required<ResolverOptions>")]
    pub fn config(&self) -> Result<Value> {
        convert::config_to_js(read(&self.inner)?.config())
    }

    /// The whole resolver (config, rules, knowledge base, classifier) as model-file bytes.
    #[napi(catch_unwind)]
    pub fn to_bytes(&self) -> Result<Buffer> {
        artifact::to_bytes(self)
    }

    /// Decodes a resolver file held in memory.
    #[napi(factory, catch_unwind)]
    pub fn from_bytes(bytes: Uint8Array) -> Result<Self> {
        artifact::from_bytes(&bytes)
    }

    /// Writes the model file atomically.
    #[napi(catch_unwind)]
    pub fn save(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] path: Unknown,
    ) -> napi::Result<()> {
        let path = args::string(&path, "path").map_err(|e| reject(&env, e))?;
        artifact::save(&env, self, &path)
    }

    /// Reads a resolver file written by `save` in any language.
    #[napi(factory, catch_unwind)]
    pub fn load(env: Env, #[napi(ts_arg_type = "string")] path: Unknown) -> napi::Result<Self> {
        let path = args::string(&path, "path").map_err(|e| reject(&env, e))?;
        artifact::load(&env, &path)
    }
}

/// The work of `resolveBatchAsync`.
pub struct ResolveBatchTask {
    inner: Shared,
    texts: Vec<String>,
    mode: Mode,
}

impl Task for ResolveBatchTask {
    type Output = Result<Vec<faultlens::resolve::Resolution>>;
    type JsValue = Vec<Resolution>;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(guard(|| {
            read(&self.inner)?
                .resolve_batch(&self.texts, self.mode)
                .map_err(to_js)
        }))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        output
            .map(|rs| rs.into_iter().map(Resolution::from).collect())
            .map_err(|e| reject(&env, e))
    }
}
