//! `TextClassifier` (core `classify` module) and the module functions `evaluate` and `compare`.
//!
//! `fit` returns a Promise: training runs on the libuv pool, on a copy that is swapped in when it
//! succeeds, so the event loop keeps serving `predictOne` (against the previous model) meanwhile.
//! An optional progress callback is called on the JS thread through a thread-safe function.
//! Reports and training info come back as plain objects with camelCase keys.

use std::sync::{Arc, RwLock, RwLockReadGuard};

use napi::Task;
use napi::bindgen_prelude::{AsyncTask, Buffer, Env, Float64Array, FnArgs, Uint8Array, Unknown};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde_json::Value;

use crate::args;
use crate::artifact;
use crate::convert;
use crate::error::{Result, guard, reject, to_js};
use crate::metrics::MetricsHistogram;

type Core = faultlens::TextClassifier;
type Shared = Arc<RwLock<Core>>;
type ProgressFn = ThreadsafeFunction<
    FnArgs<(String, u32, u32)>,
    Unknown<'static>,
    FnArgs<(String, u32, u32)>,
    napi::Status,
    false,
>;

const WHAT: &str = "TextClassifier";

fn read(shared: &Shared) -> Result<RwLockReadGuard<'_, Core>> {
    crate::lock::read(shared, WHAT)
}

/// What `predictOne` returns.
#[napi(object, object_from_js = false)]
pub struct Prediction {
    /// The most probable label.
    pub label: String,
    /// The probability that `label` is right for this input, lower the further the input is from
    /// the training data.
    pub confidence: f64,
    /// `confidence >= threshold`.
    pub reliable: bool,
    /// 1 - the cosine of the whole text to the nearest training line: 0 for a copy of one, 1 for
    /// a line sharing nothing with them.
    pub novelty: f64,
    /// `novelty > noveltyThreshold`: unlike the training data; route it to a person.
    pub novel: bool,
    /// The next most probable labels: `[label, probability]` pairs.
    #[napi(ts_type = "Array<[string, number]>")]
    pub alternatives: Value,
    /// The n-grams that pushed the decision most: `[ngram, weight]` pairs.
    #[napi(ts_type = "Array<[string, number]>")]
    pub explanation: Value,
}

/// What `TextClassifier.metrics()` returns.
#[napi(object, object_from_js = false, object_to_js = false)]
#[allow(dead_code)] // declares the TypeScript interface only; metrics arrive as JSON
pub struct ClassifierMetrics {
    /// Rows predicted by any prediction method.
    pub predictions: f64,
    /// Rows `predictOne` found novel (novelty above `noveltyThreshold`).
    pub novel: f64,
    /// Rows `predictOne` scored below `threshold`.
    pub unreliable: f64,
    /// Confidence of the rows `predictOne` scored.
    pub confidence: MetricsHistogram,
}

impl From<faultlens::Prediction> for Prediction {
    fn from(p: faultlens::Prediction) -> Self {
        Prediction {
            label: p.label,
            confidence: p.confidence,
            reliable: p.reliable,
            novelty: p.novelty,
            novel: p.novel,
            alternatives: serde_json::to_value(p.alternatives).unwrap_or(Value::Null),
            explanation: serde_json::to_value(p.explanation).unwrap_or(Value::Null),
        }
    }
}

/// Error text → label with calibrated confidence: TF-IDF, then logistic regression, naive Bayes,
/// a calibrated linear SVM or the best of them by cross-validation.
#[napi]
pub struct TextClassifier {
    pub(crate) inner: Shared,
}

impl TextClassifier {
    fn wrap(c: Core) -> Self {
        Self {
            inner: Arc::new(RwLock::new(c)),
        }
    }
}

impl crate::artifact::JsArtifact for TextClassifier {
    type Core = Core;
    fn wrap(core: Core) -> Self {
        Self::wrap(core)
    }
    fn core(&self) -> Result<impl std::ops::Deref<Target = Core> + '_> {
        read(&self.inner)
    }
}

#[napi]
impl TextClassifier {
    /// Builds an unfitted classifier; throws `InvalidConfig` for a bad or unknown option.
    #[napi(constructor, catch_unwind)]
    pub fn new(
        #[napi(ts_arg_type = "ClassifierOptions | null")] options: Option<Unknown>,
    ) -> Result<Self> {
        let config: faultlens::ClassifierConfig =
            convert::from_snake(convert::options_json(options)?)?;
        Ok(Self::wrap(Core::new(config).map_err(to_js)?))
    }

    /// Trains on `texts` with string `labels`, on the libuv thread pool. `progress(stage, done,
    /// total)` is called on the JS thread while it runs. Resolves to `undefined`; a failed fit
    /// leaves the previous model.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn fit(
        &self,
        #[napi(ts_arg_type = "Array<string>")] texts: Unknown,
        #[napi(ts_arg_type = "Array<string>")] labels: Unknown,
        #[napi(ts_arg_type = "((stage: string, done: number, total: number) => void) | null")]
        progress: Option<ProgressFn>,
    ) -> Result<AsyncTask<FitTask>> {
        let texts = args::strings(&texts, "texts")?;
        let labels = args::strings(&labels, "labels")?;
        Ok(AsyncTask::new(FitTask {
            inner: self.inner.clone(),
            texts,
            labels,
            progress,
        }))
    }

    /// Learns more labelled texts without retraining (naive Bayes; unfitted, it is a full fit).
    #[napi(catch_unwind)]
    pub fn partial_fit(
        &self,
        #[napi(ts_arg_type = "Array<string>")] texts: Unknown,
        #[napi(ts_arg_type = "Array<string>")] labels: Unknown,
    ) -> Result<()> {
        let texts = args::strings(&texts, "texts")?;
        let labels = args::strings(&labels, "labels")?;
        let mut fresh = read(&self.inner)?.clone();
        fresh.partial_fit(&texts, &labels).map_err(to_js)?;
        *crate::lock::write(&self.inner, WHAT)? = fresh;
        Ok(())
    }

    /// The most probable label per text.
    #[napi(catch_unwind)]
    pub fn predict(
        &self,
        #[napi(ts_arg_type = "Array<string>")] texts: Unknown,
    ) -> Result<Vec<String>> {
        let texts = args::strings(&texts, "texts")?;
        read(&self.inner)?.predict(&texts).map_err(to_js)
    }

    /// One `Float64Array` of probabilities per text, in `classes()` order.
    #[napi(catch_unwind)]
    pub fn predict_proba(
        &self,
        #[napi(ts_arg_type = "Array<string>")] texts: Unknown,
    ) -> Result<Vec<Float64Array>> {
        let texts = args::strings(&texts, "texts")?;
        let c = read(&self.inner)?;
        let k = c.classes().map_err(to_js)?.len().max(1);
        let flat = c.predict_proba_flat(&texts).map_err(to_js)?;
        Ok(flat
            .chunks(k)
            .map(|r| Float64Array::new(r.to_vec()))
            .collect())
    }

    /// One text's label, confidence, `reliable`, alternatives and explanation (synchronous).
    #[napi(catch_unwind)]
    pub fn predict_one(&self, #[napi(ts_arg_type = "string")] text: Unknown) -> Result<Prediction> {
        let text = args::string(&text, "text")?;
        Ok(read(&self.inner)?.predict_one(&text).map_err(to_js)?.into())
    }

    /// Accuracy on labelled texts.
    #[napi(catch_unwind)]
    pub fn score(
        &self,
        #[napi(ts_arg_type = "Array<string>")] texts: Unknown,
        #[napi(ts_arg_type = "Array<string>")] labels: Unknown,
    ) -> Result<f64> {
        let texts = args::strings(&texts, "texts")?;
        let labels = args::strings(&labels, "labels")?;
        read(&self.inner)?.score(&texts, &labels).map_err(to_js)
    }

    /// The labels, in `predictProba` column order.
    #[napi(catch_unwind)]
    pub fn classes(&self) -> Result<Vec<String>> {
        Ok(read(&self.inner)?.classes().map_err(to_js)?.to_vec())
    }

    /// Whether `fit` has run.
    #[napi(catch_unwind)]
    pub fn is_fitted(&self) -> Result<bool> {
        Ok(read(&self.inner)?.is_fitted())
    }

    /// The model that was trained (`"auto"` resolved to the winner).
    #[napi(catch_unwind)]
    pub fn model(&self) -> Result<String> {
        Ok(read(&self.inner)?.model().map_err(to_js)?.name().to_owned())
    }

    /// Training metadata (camelCase keys): time, sample counts, options, cross-validation scores.
    #[napi(catch_unwind, ts_return_type = "Record<string, any>")]
    pub fn training_info(&self) -> Result<Value> {
        convert::config_to_js(read(&self.inner)?.training_info().map_err(to_js)?)
    }

    /// Top-class probabilities on held-out data at training time (a drift baseline).
    #[napi(catch_unwind)]
    pub fn baseline_confidences(&self) -> Result<Float64Array> {
        Ok(Float64Array::new(read(&self.inner)?.baseline_confidences()))
    }

    /// Prediction counters: `predictions` (every predicted row), `novel` and `unreliable` (rows
    /// `predictOne` scored so), `confidence` (histogram of those rows).
    #[napi(catch_unwind, ts_return_type = "ClassifierMetrics")]
    pub fn metrics(&self) -> Result<Value> {
        serde_json::to_value(read(&self.inner)?.metrics())
            .map_err(|e| crate::error::binding("GenericFailure", e.to_string()))
    }

    /// The same counters in the Prometheus text exposition format (the families of
    /// `faultlens/prometheus`, without its `name` label).
    #[napi(catch_unwind)]
    pub fn metrics_prometheus(&self) -> Result<String> {
        Ok(read(&self.inner)?.metrics_prometheus())
    }

    /// Zeroes the prediction counters.
    #[napi(catch_unwind)]
    pub fn reset_metrics(&self) -> Result<()> {
        read(&self.inner)?.reset_metrics();
        Ok(())
    }

    /// The full configuration (camelCase keys); `new TextClassifier(c.config())` rebuilds it.
    #[napi(catch_unwind, ts_return_type = "Required<ClassifierOptions>")]
    pub fn config(&self) -> Result<Value> {
        convert::config_to_js(read(&self.inner)?.config())
    }

    /// The model file as bytes (what `save` writes).
    #[napi(catch_unwind)]
    pub fn to_bytes(&self) -> Result<Buffer> {
        artifact::to_bytes(self)
    }

    /// Decodes a model file held in memory (copied).
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

    /// Reads a model file written by `save` in any language.
    #[napi(factory, catch_unwind)]
    pub fn load(env: Env, #[napi(ts_arg_type = "string")] path: Unknown) -> napi::Result<Self> {
        let path = args::string(&path, "path").map_err(|e| reject(&env, e))?;
        artifact::load(&env, &path)
    }
}

/// The work of `fit`.
pub struct FitTask {
    inner: Shared,
    texts: Vec<String>,
    labels: Vec<String>,
    progress: Option<ProgressFn>,
}

impl Task for FitTask {
    type Output = Result<()>;
    type JsValue = ();

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(guard(|| {
            let mut fresh = read(&self.inner)?.clone();
            let tsfn = self.progress.take();
            let mut report = |stage: &str, done: usize, total: usize| {
                if let Some(f) = &tsfn {
                    let args = (stage.to_owned(), done as u32, total as u32);
                    f.call(args.into(), ThreadsafeFunctionCallMode::NonBlocking);
                }
            };
            let progress: Option<faultlens::classify::Progress<'_>> = if tsfn.is_some() {
                Some(&mut report)
            } else {
                None
            };
            fresh
                .fit_with_progress(&self.texts, &self.labels, progress)
                .map_err(to_js)?;
            *crate::lock::write(&self.inner, WHAT)? = fresh;
            Ok(())
        }))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        output.map_err(|e| reject(&env, e))
    }
}

/// Evaluates a fitted classifier on labelled texts: `{accuracy, perClass, macroF1, weightedF1,
/// confusion, labels, ..., text}` (`text` is the readable report).
#[napi(catch_unwind, ts_return_type = "Record<string, any>")]
pub fn evaluate(
    model: &TextClassifier,
    #[napi(ts_arg_type = "Array<string>")] texts: Unknown,
    #[napi(ts_arg_type = "Array<string>")] labels: Unknown,
) -> Result<Value> {
    let texts = args::strings(&texts, "texts")?;
    let labels = args::strings(&labels, "labels")?;
    let r = faultlens::evaluate(&*read(&model.inner)?, &texts, &labels).map_err(to_js)?;
    with_text(convert::config_to_js(&r)?, r.to_string())
}

/// Evaluates `a` and `b` on the same labelled texts: both reports, the differences, McNemar's
/// `pValue`, `significant`, `better` (`"a"`, `"b"` or `"tie"`) and `text`.
#[napi(catch_unwind, ts_return_type = "Record<string, any>")]
pub fn compare(
    a: &TextClassifier,
    b: &TextClassifier,
    #[napi(ts_arg_type = "Array<string>")] texts: Unknown,
    #[napi(ts_arg_type = "Array<string>")] labels: Unknown,
) -> Result<Value> {
    let texts = args::strings(&texts, "texts")?;
    let labels = args::strings(&labels, "labels")?;
    let r =
        faultlens::compare(&*read(&a.inner)?, &*read(&b.inner)?, &texts, &labels).map_err(to_js)?;
    with_text(convert::config_to_js(&r)?, r.to_string())
}

fn with_text(mut v: Value, text: String) -> Result<Value> {
    if let Value::Object(m) = &mut v {
        m.insert("text".into(), Value::String(text));
    }
    Ok(v)
}
