//! `TfidfVectorizer`: TF-IDF with word n-grams and CSR output (core `vectorize` module).
//!
//! The core vectoriser is held in an `Arc<RwLock<..>>` shared with the async tasks. Fitting never
//! holds the lock while it works: it clones the vectoriser under a read lock, fits the clone, and
//! swaps it in under a short write lock ([`refit`]). So a long `fitAsync` never blocks the event
//! loop's synchronous calls (`transform`, `similarity`, ... see the state before the fit until it
//! completes), and a failed fit leaves the object as it was.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard};

use napi::Task;
use napi::bindgen_prelude::{
    AsyncTask, Buffer, Either, Env, Float64Array, Uint8Array, Uint32Array, Unknown,
};
use napi_derive::napi;
use serde_json::Value;

use crate::args;
use crate::artifact;
use crate::convert;
use crate::error::{Result, guard, reject, to_js};

type Core = faultlens::TfidfVectorizer;
type Shared = Arc<RwLock<Core>>;

const WHAT: &str = "TfidfVectorizer";

fn read(shared: &Shared) -> Result<RwLockReadGuard<'_, Core>> {
    crate::lock::read(shared, WHAT)
}

/// Runs a fitting call `f` on a copy and swaps the copy in when it succeeds.
fn refit<R>(shared: &Shared, f: impl FnOnce(&mut Core) -> faultlens::Result<R>) -> Result<R> {
    let mut fresh = read(shared)?.clone();
    let out = f(&mut fresh).map_err(to_js)?;
    *crate::lock::write(shared, WHAT)? = fresh;
    Ok(out)
}

/// What `fit`, `transform`, `fitTransform` (and their async forms) take: raw texts, or documents
/// that are already token lists (then the `*_tokens` core call), as Python's methods do.
type Docs = Either<Vec<String>, Vec<Vec<String>>>;

fn fit_docs(v: &mut Core, docs: &Docs) -> faultlens::Result<()> {
    match docs {
        Either::A(texts) => v.fit(texts).map(|_| ()),
        Either::B(tokens) => v.fit_tokens(tokens).map(|_| ()),
    }
}

fn transform_docs(v: &Core, docs: &Docs) -> faultlens::Result<faultlens::CsrMatrix> {
    match docs {
        Either::A(texts) => v.transform(texts),
        Either::B(tokens) => v.transform_tokens(tokens),
    }
}

fn fit_transform_docs(v: &mut Core, docs: &Docs) -> faultlens::Result<faultlens::CsrMatrix> {
    match docs {
        Either::A(texts) => v.fit_transform(texts),
        Either::B(tokens) => v.fit_transform_tokens(tokens),
    }
}

/// A sparse matrix in compressed sparse row form (scipy's `csr_matrix` layout): row `i` holds
/// the entries `indptr[i]..indptr[i + 1]` of `indices` (columns, ascending) and `data` (values).
#[napi(object, object_from_js = false)]
pub struct CsrMatrix {
    /// Row offsets, `rows + 1` of them: `Uint32Array`, or `Float64Array` past 2^32 - 1 entries.
    pub indptr: Either<Uint32Array, Float64Array>,
    /// Column of each stored entry.
    pub indices: Uint32Array,
    /// Value of each stored entry.
    pub data: Float64Array,
    /// `[rows, cols]`.
    #[napi(ts_type = "[number, number]")]
    pub shape: Vec<f64>,
}

impl From<faultlens::CsrMatrix> for CsrMatrix {
    fn from(m: faultlens::CsrMatrix) -> Self {
        let indptr = match u32::try_from(m.nnz()) {
            Ok(_) => Either::A(Uint32Array::new(
                m.indptr.iter().map(|&x| x as u32).collect(),
            )),
            Err(_) => Either::B(Float64Array::new(
                m.indptr.iter().map(|&x| x as f64).collect(),
            )),
        };
        CsrMatrix {
            indptr,
            indices: Uint32Array::new(m.indices),
            data: Float64Array::new(m.data),
            shape: vec![m.n_rows as f64, m.n_cols as f64],
        }
    }
}

/// TF-IDF with word n-grams, equal to scikit-learn's `TfidfVectorizer` given the same tokens.
#[napi]
pub struct TfidfVectorizer {
    inner: Shared,
}

impl TfidfVectorizer {
    fn wrap(v: Core) -> Self {
        Self {
            inner: Arc::new(RwLock::new(v)),
        }
    }
}

impl crate::artifact::JsArtifact for TfidfVectorizer {
    type Core = Core;
    fn wrap(core: Core) -> Self {
        Self::wrap(core)
    }
    fn core(&self) -> Result<impl std::ops::Deref<Target = Core> + '_> {
        read(&self.inner)
    }
}

#[napi]
impl TfidfVectorizer {
    /// Builds an unfitted vectoriser; throws `InvalidConfig` for a bad or unknown option.
    #[napi(constructor, catch_unwind)]
    pub fn new(
        #[napi(ts_arg_type = "TfidfOptions | null")] options: Option<Unknown>,
    ) -> Result<Self> {
        let config: faultlens::TfidfConfig = convert::from_snake(convert::options_json(options)?)?;
        Ok(Self::wrap(Core::new(config).map_err(to_js)?))
    }

    /// Learns vocabulary and idf from raw texts (through the preprocessor), or from token lists
    /// (as `fitTokens`). A failed fit leaves the previous state.
    #[napi(catch_unwind)]
    pub fn fit(&self, docs: Either<Vec<String>, Vec<Vec<String>>>) -> Result<()> {
        refit(&self.inner, |v| fit_docs(v, &docs))
    }

    /// Learns vocabulary and idf from documents that are already token lists (used as they are).
    #[napi(catch_unwind)]
    pub fn fit_tokens(
        &self,
        #[napi(ts_arg_type = "Array<Array<string>>")] docs: Unknown,
    ) -> Result<()> {
        let docs = args::string_lists(&docs, "docs")?;
        refit(&self.inner, |v| v.fit_tokens(&docs).map(|_| ()))
    }

    /// TF-IDF rows of raw texts, or of token lists (as `transformTokens`).
    #[napi(catch_unwind)]
    pub fn transform(&self, docs: Either<Vec<String>, Vec<Vec<String>>>) -> Result<CsrMatrix> {
        Ok(transform_docs(&*read(&self.inner)?, &docs)
            .map_err(to_js)?
            .into())
    }

    /// TF-IDF rows of token lists.
    #[napi(catch_unwind)]
    pub fn transform_tokens(
        &self,
        #[napi(ts_arg_type = "Array<Array<string>>")] docs: Unknown,
    ) -> Result<CsrMatrix> {
        let docs = args::string_lists(&docs, "docs")?;
        Ok(read(&self.inner)?
            .transform_tokens(&docs)
            .map_err(to_js)?
            .into())
    }

    /// `fit` then `transform` on the same texts (or token lists).
    #[napi(catch_unwind)]
    pub fn fit_transform(&self, docs: Either<Vec<String>, Vec<Vec<String>>>) -> Result<CsrMatrix> {
        Ok(refit(&self.inner, |v| fit_transform_docs(v, &docs))?.into())
    }

    /// `fitTokens` then `transformTokens`.
    #[napi(catch_unwind)]
    pub fn fit_transform_tokens(
        &self,
        #[napi(ts_arg_type = "Array<Array<string>>")] docs: Unknown,
    ) -> Result<CsrMatrix> {
        let docs = args::string_lists(&docs, "docs")?;
        Ok(refit(&self.inner, |v| v.fit_transform_tokens(&docs))?.into())
    }

    /// Cosine similarity of two texts in this vectoriser's TF-IDF space.
    #[napi(catch_unwind)]
    pub fn similarity(
        &self,
        #[napi(ts_arg_type = "string")] a: Unknown,
        #[napi(ts_arg_type = "string")] b: Unknown,
    ) -> Result<f64> {
        let a = args::string(&a, "a")?;
        let b = args::string(&b, "b")?;
        read(&self.inner)?.similarity(&a, &b).map_err(to_js)
    }

    /// Whether `fit` has run.
    #[napi(catch_unwind)]
    pub fn is_fitted(&self) -> Result<bool> {
        Ok(read(&self.inner)?.is_fitted())
    }

    /// Number of features (columns of the output).
    #[napi(catch_unwind)]
    pub fn n_features(&self) -> Result<u32> {
        let n = read(&self.inner)?.n_features().map_err(to_js)?;
        Ok(n as u32)
    }

    /// Feature names in column order (an n-gram's tokens joined by one space).
    #[napi(catch_unwind)]
    pub fn feature_names(&self) -> Result<Vec<String>> {
        read(&self.inner)?.feature_names().map_err(to_js)
    }

    /// Feature name → column.
    #[napi(catch_unwind)]
    pub fn vocabulary(&self) -> Result<HashMap<String, u32>> {
        let vocab = read(&self.inner)?.vocabulary().map_err(to_js)?;
        Ok(vocab.into_iter().map(|(k, i)| (k, i as u32)).collect())
    }

    /// Inverse document frequency per column (a copy).
    #[napi(catch_unwind)]
    pub fn idf(&self) -> Result<Float64Array> {
        let idf = read(&self.inner)?.idf().map_err(to_js)?.to_vec();
        Ok(Float64Array::new(idf))
    }

    /// The full configuration (camelCase keys); `new TfidfVectorizer(v.config())` rebuilds it.
    #[napi(catch_unwind, ts_return_type = "Required<TfidfOptions>")]
    pub fn config(&self) -> Result<Value> {
        convert::config_to_js(read(&self.inner)?.config())
    }

    /// The model file as bytes (what `save` writes), fitted state included.
    #[napi(catch_unwind)]
    pub fn to_bytes(&self) -> Result<Buffer> {
        artifact::to_bytes(self)
    }

    /// Decodes a model file held in memory (a `Buffer` or `Uint8Array`; copied).
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

    /// `fit` on the libuv thread pool (texts or token lists); resolves to `undefined`.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn fit_async(&self, docs: Either<Vec<String>, Vec<Vec<String>>>) -> AsyncTask<FitTask> {
        AsyncTask::new(FitTask {
            inner: self.inner.clone(),
            docs,
        })
    }

    /// `transform` on the libuv thread pool.
    #[napi(catch_unwind, ts_return_type = "Promise<CsrMatrix>")]
    pub fn transform_async(
        &self,
        docs: Either<Vec<String>, Vec<Vec<String>>>,
    ) -> AsyncTask<TransformTask> {
        AsyncTask::new(TransformTask {
            inner: self.inner.clone(),
            docs,
        })
    }

    /// `fitTransform` on the libuv thread pool.
    #[napi(catch_unwind, ts_return_type = "Promise<CsrMatrix>")]
    pub fn fit_transform_async(
        &self,
        docs: Either<Vec<String>, Vec<Vec<String>>>,
    ) -> AsyncTask<FitTransformTask> {
        AsyncTask::new(FitTransformTask {
            inner: self.inner.clone(),
            docs,
        })
    }
}

/// The work of `fitAsync`.
pub struct FitTask {
    inner: Shared,
    docs: Docs,
}

impl Task for FitTask {
    type Output = Result<()>;
    type JsValue = ();

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(guard(|| refit(&self.inner, |v| fit_docs(v, &self.docs))))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        output.map_err(|e| reject(&env, e))
    }
}

/// The work of `transformAsync`.
pub struct TransformTask {
    inner: Shared,
    docs: Docs,
}

impl Task for TransformTask {
    type Output = Result<faultlens::CsrMatrix>;
    type JsValue = CsrMatrix;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(guard(|| {
            transform_docs(&*read(&self.inner)?, &self.docs).map_err(to_js)
        }))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        output.map(CsrMatrix::from).map_err(|e| reject(&env, e))
    }
}

/// The work of `fitTransformAsync`.
pub struct FitTransformTask {
    inner: Shared,
    docs: Docs,
}

impl Task for FitTransformTask {
    type Output = Result<faultlens::CsrMatrix>;
    type JsValue = CsrMatrix;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(guard(|| {
            refit(&self.inner, |v| fit_transform_docs(v, &self.docs))
        }))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        output.map(CsrMatrix::from).map_err(|e| reject(&env, e))
    }
}
