//! `SimilarityIndex` and `TextIndex` (core `index` module).
//!
//! The core indexes lock internally (many searches while one add runs), so the JS objects share
//! them through a plain `Arc` with the async tasks. Vectors are `Float32Array`s of `rows * dim`
//! values (copied into Rust before an async task starts; synchronous calls read them in place).
//! Ids are JS numbers (non-negative integers up to 2^53) or strings (string keys, any string);
//! a hit's `id` is the string for items added under one.

use std::sync::Arc;

use faultlens::{Fusion, Hit, SearchOptions, TextHit};
use napi::Task;
use napi::bindgen_prelude::{AsyncTask, Buffer, Either, Env, Float32Array, Uint8Array, Unknown};
use napi_derive::napi;
use serde_json::Value;

use crate::args;
use crate::artifact;
use crate::convert;
use crate::error::{Result, binding, guard, reject, to_js};

/// A search result: `score` is cosine similarity, inner product, or Euclidean distance (l2).
#[napi(object, object_from_js = false)]
pub struct IndexHit {
    /// The id given to `add`: a number, or the string key.
    pub id: Either<f64, String>,
    /// Similarity (cosine, dot) or distance (l2).
    pub score: f64,
    /// The payload stored with the id.
    pub payload: Option<String>,
}

/// A text search result.
#[napi(object, object_from_js = false)]
pub struct TextIndexHit {
    /// The id `add` returned.
    pub id: f64,
    /// Cosine similarity (or the configured metric for external embeddings).
    pub score: f64,
    /// The stored text.
    pub text: String,
    /// The payload stored with it.
    pub payload: Option<String>,
}

/// A stored vector and its payload.
#[napi(object, object_from_js = false)]
pub struct IndexEntry {
    /// The stored vector (unit length under cosine).
    pub vector: Float32Array,
    /// The payload.
    pub payload: Option<String>,
}

/// A stored text and its payload.
#[napi(object, object_from_js = false)]
pub struct TextEntry {
    /// The stored text.
    pub text: String,
    /// The payload.
    pub payload: Option<String>,
}

fn search_options(options: Option<Unknown>) -> Result<SearchOptions> {
    let mut v = convert::options_json(options)?;
    // Filter type names are values, not keys: `payloadIn` is written as the key would be.
    if let Some(f) = v.get_mut("filter") {
        snake_filter_types(f);
    }
    serde_json::from_value(v).map_err(|e| binding("InvalidInput", format!("search options: {e}")))
}

fn snake_filter_types(f: &mut Value) {
    if let Some(Value::String(t)) = f.get_mut("type") {
        *t = convert::snake_case(t);
    }
    if let Some(Value::Array(inner)) = f.get_mut("filters") {
        inner.iter_mut().for_each(snake_filter_types);
    }
}

/// The `k` of a search; absent or `null` is the core's default, as in Python.
fn k_or_default(k: Option<u32>) -> usize {
    k.map_or(faultlens::index::DEFAULT_K, |k| k as usize)
}

/// `{type: 'rrf', k}` (default `k` 60) or `{type: 'weighted', textWeight}`; none is RRF.
fn fusion_arg(fusion: Option<Unknown>) -> Result<Fusion> {
    let v = convert::options_json(fusion)?;
    if v.as_object().is_some_and(|o| o.is_empty()) {
        return Ok(Fusion::default());
    }
    serde_json::from_value(v).map_err(|e| binding("InvalidInput", format!("fusion: {e}")))
}

/// Ids of an add or remove: all numbers, or all strings (string keys).
enum AnyIds {
    Numbers(Vec<u64>),
    Keys(Vec<String>),
}

fn any_ids(ids: Vec<Either<f64, String>>) -> Result<AnyIds> {
    if ids.iter().all(|i| matches!(i, Either::B(_))) && !ids.is_empty() {
        return Ok(AnyIds::Keys(
            ids.into_iter()
                .filter_map(|i| match i {
                    Either::B(k) => Some(k),
                    Either::A(_) => None,
                })
                .collect(),
        ));
    }
    let numbers = ids
        .iter()
        .map(|i| match i {
            Either::A(x) => Ok(*x),
            Either::B(_) => Err(binding(
                "InvalidInput",
                "ids must be all numbers or all strings (string keys), not a mix",
            )),
        })
        .collect::<Result<Vec<f64>>>()?;
    to_ids(&numbers).map(AnyIds::Numbers)
}

fn to_ids(ids: &[f64]) -> Result<Vec<u64>> {
    const SAFE: f64 = 9_007_199_254_740_992.0;
    ids.iter()
        .map(|&x| {
            if x.fract() == 0.0 && (0.0..=SAFE).contains(&x) {
                Ok(x as u64)
            } else {
                Err(binding(
                    "InvalidInput",
                    format!("id {x} is not an integer in [0, 2^53]"),
                ))
            }
        })
        .collect()
}

fn hits(h: Vec<Hit>) -> Vec<IndexHit> {
    h.into_iter()
        .map(|h| IndexHit {
            id: match h.key {
                Some(k) => Either::B(k),
                None => Either::A(h.id as f64),
            },
            score: f64::from(h.score),
            payload: h.payload,
        })
        .collect()
}

fn text_hits(h: Vec<TextHit>) -> Vec<TextIndexHit> {
    h.into_iter()
        .map(|h| TextIndexHit {
            id: h.id as f64,
            score: f64::from(h.score),
            text: h.text,
            payload: h.payload,
        })
        .collect()
}

// Exported signatures spell this type out: napi would copy the alias name into index.d.ts, where
// TypeScript cannot resolve it.
type Payloads = Option<Vec<Option<String>>>;

/// What `SimilarityIndex.metrics()` and `TextIndex.metrics()` return.
#[napi(object, object_from_js = false, object_to_js = false)]
#[allow(dead_code)] // declares the TypeScript interface only; metrics arrive as JSON
pub struct IndexMetrics {
    /// Queries answered, one per query row.
    pub searches: f64,
    /// Items added.
    pub added: f64,
    /// Items removed.
    pub removed: f64,
}

/// Nearest-neighbour index over float32 vectors (HNSW; exact below `exactBelow` vectors).
#[napi]
pub struct SimilarityIndex {
    inner: Arc<faultlens::SimilarityIndex>,
}

impl crate::artifact::JsArtifact for SimilarityIndex {
    type Core = faultlens::SimilarityIndex;
    fn wrap(core: faultlens::SimilarityIndex) -> Self {
        Self {
            inner: Arc::new(core),
        }
    }
    fn core(&self) -> Result<impl std::ops::Deref<Target = faultlens::SimilarityIndex> + '_> {
        Ok(&*self.inner)
    }
}

#[napi]
impl SimilarityIndex {
    /// An empty index; throws `InvalidConfig` for a bad or unknown option.
    #[napi(constructor, catch_unwind)]
    pub fn new(#[napi(ts_arg_type = "IndexOptions")] options: Option<Unknown>) -> Result<Self> {
        let config: faultlens::IndexConfig = convert::from_snake(convert::options_json(options)?)?;
        Ok(Self {
            inner: Arc::new(faultlens::SimilarityIndex::new(config).map_err(to_js)?),
        })
    }

    /// Adds `ids.length` vectors (`vectors` holds them row after row) with optional payloads.
    /// Ids are all numbers, or all strings (string keys, returned as hit ids).
    #[napi(catch_unwind)]
    pub fn add(
        &self,
        ids: Vec<Either<f64, String>>,
        #[napi(ts_arg_type = "Float32Array")] vectors: Unknown,
        payloads: Option<Vec<Option<String>>>,
    ) -> Result<()> {
        let vectors: Float32Array = args::value(&vectors, "vectors", "a Float32Array")?;
        match any_ids(ids)? {
            AnyIds::Numbers(ids) => self.inner.add(&ids, &vectors, payloads),
            AnyIds::Keys(keys) => self.inner.add_keyed(&keys, &vectors, payloads),
        }
        .map_err(to_js)
    }

    /// The `k` (default 10) nearest ids of each query row (`vectors`: rows of `dim` values),
    /// best first.
    #[napi(catch_unwind)]
    pub fn search(
        &self,
        #[napi(ts_arg_type = "Float32Array")] vectors: Unknown,
        k: Option<u32>,
        #[napi(ts_arg_type = "IndexSearchOptions | null")] options: Option<Unknown>,
    ) -> Result<Vec<Vec<IndexHit>>> {
        let vectors: Float32Array = args::value(&vectors, "vectors", "a Float32Array")?;
        let opts = search_options(options)?;
        let found = self
            .inner
            .search(&vectors, k_or_default(k), &opts)
            .map_err(to_js)?;
        Ok(found.into_iter().map(hits).collect())
    }

    /// Every id within `threshold` of one vector, best first.
    #[napi(catch_unwind)]
    pub fn range_search(
        &self,
        #[napi(ts_arg_type = "Float32Array")] vector: Unknown,
        threshold: f64,
        #[napi(ts_arg_type = "IndexSearchOptions | null")] options: Option<Unknown>,
    ) -> Result<Vec<IndexHit>> {
        let vector: Float32Array = args::value(&vector, "vector", "a Float32Array")?;
        let opts = search_options(options)?;
        let found = self
            .inner
            .range_search(&vector, threshold as f32, &opts)
            .map_err(to_js)?;
        Ok(hits(found))
    }

    /// Removes ids, numbers or string keys (all or nothing: an unknown id throws and removes
    /// none).
    #[napi(catch_unwind)]
    pub fn remove(&self, ids: Vec<Either<f64, String>>) -> Result<()> {
        match any_ids(ids)? {
            AnyIds::Numbers(ids) => self.inner.remove(&ids),
            AnyIds::Keys(keys) => self.inner.remove_keyed(&keys),
        }
        .map_err(to_js)
    }

    /// Drops removed vectors and rebuilds the graph.
    #[napi(catch_unwind)]
    pub fn compact(&self) -> Result<()> {
        self.inner.compact().map_err(to_js)
    }

    /// The stored vector and payload of `id` (a number or a string key), or `null`.
    #[napi(catch_unwind)]
    pub fn get(&self, id: Either<f64, String>) -> Result<Option<IndexEntry>> {
        let entry = match id {
            Either::A(id) => self.inner.get(to_ids(&[id])?[0]),
            Either::B(key) => self.inner.get_keyed(&key),
        };
        Ok(entry.map(|e| IndexEntry {
            vector: Float32Array::new(e.vector),
            payload: e.payload,
        }))
    }

    /// Number of ids stored.
    #[napi(catch_unwind)]
    pub fn len(&self) -> u32 {
        self.inner.len() as u32
    }

    /// Counters: `searches` (query rows), `added`, `removed` (ids).
    #[napi(catch_unwind, ts_return_type = "IndexMetrics")]
    pub fn metrics(&self) -> Result<Value> {
        serde_json::to_value(self.inner.metrics())
            .map_err(|e| binding("GenericFailure", e.to_string()))
    }

    /// Size, counters (and for a SimilarityIndex the estimated recall and search breadth) in the
    /// Prometheus text exposition format (the families of `faultlens/prometheus`, without its
    /// `name` label).
    #[napi(catch_unwind)]
    pub fn metrics_prometheus(&self) -> String {
        self.inner.metrics_prometheus()
    }

    /// Zeroes the counters.
    #[napi(catch_unwind)]
    pub fn reset_metrics(&self) {
        self.inner.reset_metrics();
    }

    /// Whether `id` (a number or a string key) is stored.
    #[napi(catch_unwind)]
    pub fn contains(&self, id: Either<f64, String>) -> Result<bool> {
        Ok(match id {
            Either::A(id) => self.inner.contains(to_ids(&[id])?[0]),
            Either::B(key) => self.inner.contains_key(&key),
        })
    }

    /// All stored string keys (no particular order).
    #[napi(catch_unwind)]
    pub fn keys(&self) -> Vec<String> {
        self.inner.keys()
    }

    /// Recall@10 the default search is estimated to reach (1 while searches scan exactly;
    /// `null` when `targetRecall` is `null` and a graph is searched).
    #[napi(catch_unwind)]
    pub fn estimated_recall(&self) -> Option<f64> {
        self.inner.estimated_recall().map(f64::from)
    }

    /// The `ef` searches use when they pass none (tuned for `targetRecall`; 0 while exact).
    #[napi(catch_unwind)]
    pub fn effective_ef(&self) -> u32 {
        self.inner.effective_ef() as u32
    }

    /// All stored ids (no particular order).
    #[napi(catch_unwind)]
    pub fn ids(&self) -> Vec<f64> {
        self.inner.ids().into_iter().map(|i| i as f64).collect()
    }

    /// Number of distinct vectors (identical vectors share one graph node).
    #[napi(catch_unwind)]
    pub fn n_vectors(&self) -> u32 {
        self.inner.n_vectors() as u32
    }

    /// The configuration (camelCase keys).
    #[napi(catch_unwind, ts_return_type = "Required<IndexOptions>")]
    pub fn config(&self) -> Result<Value> {
        convert::config_to_js(self.inner.config())
    }

    /// The model file as bytes.
    #[napi(catch_unwind)]
    pub fn to_bytes(&self) -> Result<Buffer> {
        artifact::to_bytes(self)
    }

    /// Decodes a model file held in memory (the graph is rebuilt).
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

    /// `add` on the libuv thread pool (the vectors are copied first).
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn add_async(
        &self,
        ids: Vec<Either<f64, String>>,
        #[napi(ts_arg_type = "Float32Array")] vectors: Unknown,
        payloads: Option<Vec<Option<String>>>,
    ) -> Result<AsyncTask<IndexAddTask>> {
        let vectors: Float32Array = args::value(&vectors, "vectors", "a Float32Array")?;
        Ok(AsyncTask::new(IndexAddTask {
            inner: self.inner.clone(),
            ids: any_ids(ids)?,
            vectors: vectors.to_vec(),
            payloads,
        }))
    }

    /// `search` on the libuv thread pool (all cores for large batches).
    #[napi(catch_unwind, ts_return_type = "Promise<IndexHit[][]>")]
    pub fn search_async(
        &self,
        #[napi(ts_arg_type = "Float32Array")] vectors: Unknown,
        k: Option<u32>,
        #[napi(ts_arg_type = "IndexSearchOptions | null")] options: Option<Unknown>,
    ) -> Result<AsyncTask<IndexSearchTask>> {
        let vectors: Float32Array = args::value(&vectors, "vectors", "a Float32Array")?;
        Ok(AsyncTask::new(IndexSearchTask {
            inner: self.inner.clone(),
            vectors: vectors.to_vec(),
            k: k_or_default(k),
            opts: search_options(options)?,
        }))
    }
}

/// The work of `SimilarityIndex.addAsync`.
pub struct IndexAddTask {
    inner: Arc<faultlens::SimilarityIndex>,
    ids: AnyIds,
    vectors: Vec<f32>,
    payloads: Payloads,
}

impl Task for IndexAddTask {
    type Output = Result<()>;
    type JsValue = ();

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let payloads = self.payloads.take();
        Ok(guard(|| {
            match &self.ids {
                AnyIds::Numbers(ids) => self.inner.add(ids, &self.vectors, payloads),
                AnyIds::Keys(keys) => self.inner.add_keyed(keys, &self.vectors, payloads),
            }
            .map_err(to_js)
        }))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        output.map_err(|e| reject(&env, e))
    }
}

/// The work of `SimilarityIndex.searchAsync`.
pub struct IndexSearchTask {
    inner: Arc<faultlens::SimilarityIndex>,
    vectors: Vec<f32>,
    k: usize,
    opts: SearchOptions,
}

impl Task for IndexSearchTask {
    type Output = Result<Vec<Vec<Hit>>>;
    type JsValue = Vec<Vec<IndexHit>>;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(guard(|| {
            self.inner
                .search(&self.vectors, self.k, &self.opts)
                .map_err(to_js)
        }))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        output
            .map(|rows| rows.into_iter().map(hits).collect())
            .map_err(|e| reject(&env, e))
    }
}

/// (error text, solution) pairs searched by text: TF-IDF + projection, or your own embeddings.
#[napi]
pub struct TextIndex {
    inner: Arc<faultlens::TextIndex>,
}

impl crate::artifact::JsArtifact for TextIndex {
    type Core = faultlens::TextIndex;
    fn wrap(core: faultlens::TextIndex) -> Self {
        Self {
            inner: Arc::new(core),
        }
    }
    fn core(&self) -> Result<impl std::ops::Deref<Target = faultlens::TextIndex> + '_> {
        Ok(&*self.inner)
    }
}

#[napi]
impl TextIndex {
    /// An empty index. Options: `{embedding: {type: 'tfidf', tfidf: {...}, dim: 512} |
    /// {type: 'external', dim} | {type: 'hybrid', tfidf, dim, embeddingDim},
    /// index: IndexOptions-without-dim}`.
    #[napi(constructor, catch_unwind)]
    pub fn new(
        #[napi(ts_arg_type = "TextIndexOptions | null")] options: Option<Unknown>,
    ) -> Result<Self> {
        let config: faultlens::TextIndexConfig =
            convert::from_snake(convert::options_json(options)?)?;
        Ok(Self {
            inner: Arc::new(faultlens::TextIndex::new(config).map_err(to_js)?),
        })
    }

    /// Adds texts with optional payloads; returns their new ids.
    #[napi(catch_unwind)]
    pub fn add(
        &self,
        #[napi(ts_arg_type = "Array<string>")] texts: Unknown,
        payloads: Option<Vec<Option<String>>>,
    ) -> Result<Vec<f64>> {
        let texts = args::strings(&texts, "texts")?;
        let ids = self.inner.add(&texts, payloads).map_err(to_js)?;
        Ok(ids.into_iter().map(|i| i as f64).collect())
    }

    /// Adds texts with your own embeddings (`vectors`: rows of `dim` values).
    #[napi(catch_unwind)]
    pub fn add_embedded(
        &self,
        #[napi(ts_arg_type = "Array<string>")] texts: Unknown,
        #[napi(ts_arg_type = "Float32Array")] vectors: Unknown,
        payloads: Option<Vec<Option<String>>>,
    ) -> Result<Vec<f64>> {
        let vectors: Float32Array = args::value(&vectors, "vectors", "a Float32Array")?;
        let texts = args::strings(&texts, "texts")?;
        let ids = self
            .inner
            .add_embedded(&texts, &vectors, payloads)
            .map_err(to_js)?;
        Ok(ids.into_iter().map(|i| i as f64).collect())
    }

    /// Adds texts with your embeddings (`vectors`: rows of `embeddingDim` values) to a hybrid
    /// index; returns their new ids.
    #[napi(catch_unwind)]
    pub fn add_hybrid(
        &self,
        #[napi(ts_arg_type = "Array<string>")] texts: Unknown,
        #[napi(ts_arg_type = "Float32Array")] vectors: Unknown,
        payloads: Option<Vec<Option<String>>>,
    ) -> Result<Vec<f64>> {
        let vectors: Float32Array = args::value(&vectors, "vectors", "a Float32Array")?;
        let texts = args::strings(&texts, "texts")?;
        let ids = self
            .inner
            .add_hybrid(&texts, &vectors, payloads)
            .map_err(to_js)?;
        Ok(ids.into_iter().map(|i| i as f64).collect())
    }

    /// Hybrid search: per text and its embedding (rows of `embeddingDim` values), the `k` best
    /// by `fusion` (`{type: 'rrf', k: 60}`, the default, or `{type: 'weighted', textWeight}`)
    /// of the TF-IDF and embedding rankings; `score` is the fused score.
    #[napi(catch_unwind)]
    pub fn search_hybrid(
        &self,
        #[napi(ts_arg_type = "Array<string>")] texts: Unknown,
        #[napi(ts_arg_type = "Float32Array")] vectors: Unknown,
        k: Option<u32>,
        #[napi(ts_arg_type = "IndexSearchOptions | null")] options: Option<Unknown>,
        #[napi(
            ts_arg_type = "{ type: 'rrf', k?: number } | { type: 'weighted', textWeight: number } | null"
        )]
        fusion: Option<Unknown>,
    ) -> Result<Vec<Vec<TextIndexHit>>> {
        let vectors: Float32Array = args::value(&vectors, "vectors", "a Float32Array")?;
        let texts = args::strings(&texts, "texts")?;
        let opts = search_options(options)?;
        let fusion = fusion_arg(fusion)?;
        let found = self
            .inner
            .search_hybrid(&texts, &vectors, k_or_default(k), &opts, &fusion)
            .map_err(to_js)?;
        Ok(found.into_iter().map(text_hits).collect())
    }

    /// The `k` (default 10) most similar stored texts, best first.
    #[napi(catch_unwind)]
    pub fn search(
        &self,
        #[napi(ts_arg_type = "string")] text: Unknown,
        k: Option<u32>,
        #[napi(ts_arg_type = "IndexSearchOptions | null")] options: Option<Unknown>,
    ) -> Result<Vec<TextIndexHit>> {
        let text = args::string(&text, "text")?;
        let opts = search_options(options)?;
        Ok(text_hits(
            self.inner
                .search(&text, k_or_default(k), &opts)
                .map_err(to_js)?,
        ))
    }

    /// `search` for many texts.
    #[napi(catch_unwind)]
    pub fn search_batch(
        &self,
        #[napi(ts_arg_type = "Array<string>")] texts: Unknown,
        k: Option<u32>,
        #[napi(ts_arg_type = "IndexSearchOptions | null")] options: Option<Unknown>,
    ) -> Result<Vec<Vec<TextIndexHit>>> {
        let texts = args::strings(&texts, "texts")?;
        let opts = search_options(options)?;
        let found = self
            .inner
            .search_batch(&texts, k_or_default(k), &opts)
            .map_err(to_js)?;
        Ok(found.into_iter().map(text_hits).collect())
    }

    /// Search by your own embeddings (rows of `dim` values).
    #[napi(catch_unwind)]
    pub fn search_embedded(
        &self,
        #[napi(ts_arg_type = "Float32Array")] vectors: Unknown,
        k: Option<u32>,
        #[napi(ts_arg_type = "IndexSearchOptions | null")] options: Option<Unknown>,
    ) -> Result<Vec<Vec<TextIndexHit>>> {
        let vectors: Float32Array = args::value(&vectors, "vectors", "a Float32Array")?;
        let opts = search_options(options)?;
        let found = self
            .inner
            .search_embedded(&vectors, k_or_default(k), &opts)
            .map_err(to_js)?;
        Ok(found.into_iter().map(text_hits).collect())
    }

    /// The dense vectors the index stores for `texts`, row after row.
    #[napi(catch_unwind)]
    pub fn embed(
        &self,
        #[napi(ts_arg_type = "Array<string>")] texts: Unknown,
    ) -> Result<Float32Array> {
        let texts = args::strings(&texts, "texts")?;
        Ok(Float32Array::new(self.inner.embed(&texts).map_err(to_js)?))
    }

    /// Removes texts by id (all or nothing).
    #[napi(catch_unwind)]
    pub fn remove(&self, ids: Vec<f64>) -> Result<()> {
        self.inner.remove(&to_ids(&ids)?).map_err(to_js)
    }

    /// Reclaims the space of removed texts.
    #[napi(catch_unwind)]
    pub fn compact(&self) -> Result<()> {
        self.inner.compact().map_err(to_js)
    }

    /// Refits the TF-IDF vectoriser on all stored texts now.
    #[napi(catch_unwind)]
    pub fn refit(&self) -> Result<()> {
        self.inner.refit().map_err(to_js)
    }

    /// The stored text and payload of `id`, or `null`.
    #[napi(catch_unwind)]
    pub fn get(&self, id: f64) -> Result<Option<TextEntry>> {
        let id = to_ids(&[id])?[0];
        Ok(self
            .inner
            .get(id)
            .map(|(text, payload)| TextEntry { text, payload }))
    }

    /// Number of stored texts.
    #[napi(catch_unwind)]
    pub fn len(&self) -> u32 {
        self.inner.len() as u32
    }

    /// Counters: `searches` (query texts), `added`, `removed` (texts).
    #[napi(catch_unwind, ts_return_type = "IndexMetrics")]
    pub fn metrics(&self) -> Result<Value> {
        serde_json::to_value(self.inner.metrics())
            .map_err(|e| binding("GenericFailure", e.to_string()))
    }

    /// Size, counters (and for a SimilarityIndex the estimated recall and search breadth) in the
    /// Prometheus text exposition format (the families of `faultlens/prometheus`, without its
    /// `name` label).
    #[napi(catch_unwind)]
    pub fn metrics_prometheus(&self) -> String {
        self.inner.metrics_prometheus()
    }

    /// Zeroes the counters.
    #[napi(catch_unwind)]
    pub fn reset_metrics(&self) {
        self.inner.reset_metrics();
    }

    /// The configuration (camelCase keys).
    #[napi(catch_unwind)]
    pub fn config(&self) -> Result<Value> {
        convert::config_to_js(self.inner.config())
    }

    /// The model file as bytes.
    #[napi(catch_unwind)]
    pub fn to_bytes(&self) -> Result<Buffer> {
        artifact::to_bytes(self)
    }

    /// Decodes a model file held in memory.
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

    /// `add` on the libuv thread pool.
    #[napi(catch_unwind, ts_return_type = "Promise<number[]>")]
    pub fn add_async(
        &self,
        #[napi(ts_arg_type = "Array<string>")] texts: Unknown,
        payloads: Option<Vec<Option<String>>>,
    ) -> Result<AsyncTask<TextAddTask>> {
        let texts = args::strings(&texts, "texts")?;
        Ok(AsyncTask::new(TextAddTask {
            inner: self.inner.clone(),
            texts,
            payloads,
        }))
    }

    /// `searchBatch` on the libuv thread pool.
    #[napi(catch_unwind, ts_return_type = "Promise<TextIndexHit[][]>")]
    pub fn search_batch_async(
        &self,
        #[napi(ts_arg_type = "Array<string>")] texts: Unknown,
        k: Option<u32>,
        #[napi(ts_arg_type = "IndexSearchOptions | null")] options: Option<Unknown>,
    ) -> Result<AsyncTask<TextSearchTask>> {
        let texts = args::strings(&texts, "texts")?;
        Ok(AsyncTask::new(TextSearchTask {
            inner: self.inner.clone(),
            texts,
            k: k_or_default(k),
            opts: search_options(options)?,
        }))
    }
}

/// The work of `TextIndex.addAsync`.
pub struct TextAddTask {
    inner: Arc<faultlens::TextIndex>,
    texts: Vec<String>,
    payloads: Payloads,
}

impl Task for TextAddTask {
    type Output = Result<Vec<u64>>;
    type JsValue = Vec<f64>;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let payloads = self.payloads.take();
        Ok(guard(|| {
            self.inner.add(&self.texts, payloads).map_err(to_js)
        }))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        output
            .map(|ids| ids.into_iter().map(|i| i as f64).collect())
            .map_err(|e| reject(&env, e))
    }
}

/// The work of `TextIndex.searchBatchAsync`.
pub struct TextSearchTask {
    inner: Arc<faultlens::TextIndex>,
    texts: Vec<String>,
    k: usize,
    opts: SearchOptions,
}

impl Task for TextSearchTask {
    type Output = Result<Vec<Vec<TextHit>>>;
    type JsValue = Vec<Vec<TextIndexHit>>;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(guard(|| {
            self.inner
                .search_batch(&self.texts, self.k, &self.opts)
                .map_err(to_js)
        }))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        output
            .map(|rows| rows.into_iter().map(text_hits).collect())
            .map_err(|e| reject(&env, e))
    }
}

impl TextIndex {
    /// The core index (the resolver copies it).
    pub(crate) fn core(&self) -> &faultlens::TextIndex {
        &self.inner
    }
}
