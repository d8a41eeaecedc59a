//! `Preprocessor`: raw log text → tokens, masked lines and template ids (core `text` module).
//!
//! The core preprocessor is immutable once built and `Send + Sync`, so it is held in an `Arc`
//! with no lock; `TfidfVectorizer`'s constructor can read its config.

use std::sync::Arc;

use napi::bindgen_prelude::{Buffer, Env, Uint8Array, Unknown};
use napi_derive::napi;
use serde_json::Value;

use crate::args;
use crate::artifact;
use crate::convert;
use crate::error::{Result, to_js};

/// A masked line and its stable id (16 hex digits of FNV-1a 64 of `masked`).
#[napi(object, object_from_js = false)]
pub struct Template {
    /// The line after lowercasing and masking, whitespace runs collapsed.
    pub masked: String,
    /// Stable id of `masked`, the same on every platform and version.
    pub id: String,
}

impl From<faultlens::Template> for Template {
    fn from(t: faultlens::Template) -> Self {
        Template {
            masked: t.masked,
            id: t.id,
        }
    }
}

/// Text preprocessing: lowercase, mask variable parts, segment words, stem, drop stopwords.
#[napi]
pub struct Preprocessor {
    pub(crate) inner: Arc<faultlens::Preprocessor>,
}

impl crate::artifact::JsArtifact for Preprocessor {
    type Core = faultlens::Preprocessor;
    fn wrap(core: faultlens::Preprocessor) -> Self {
        Self {
            inner: Arc::new(core),
        }
    }
    fn core(&self) -> Result<impl std::ops::Deref<Target = faultlens::Preprocessor> + '_> {
        Ok(&*self.inner)
    }
}

#[napi]
impl Preprocessor {
    /// Builds a preprocessor; throws `InvalidConfig` for a bad or unknown option.
    #[napi(constructor, catch_unwind)]
    pub fn new(
        #[napi(ts_arg_type = "PreprocessorOptions | null")] options: Option<Unknown>,
    ) -> Result<Self> {
        let config: faultlens::PreprocessorConfig =
            convert::from_snake(convert::options_json(options)?)?;
        let inner = faultlens::Preprocessor::new(config).map_err(to_js)?;
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// The tokens of `text`, in order.
    #[napi(catch_unwind)]
    pub fn tokens(&self, #[napi(ts_arg_type = "string")] text: Unknown) -> Result<Vec<String>> {
        let text = args::string(&text, "text")?;
        Ok(self.inner.tokens(&text))
    }

    /// `tokens` for each text (on all cores for large batches).
    #[napi(catch_unwind)]
    pub fn tokens_batch(
        &self,
        #[napi(ts_arg_type = "Array<string>")] texts: Unknown,
    ) -> Result<Vec<Vec<String>>> {
        let texts = args::strings(&texts, "texts")?;
        Ok(self.inner.tokens_batch(&texts))
    }

    /// The tokens of `text` joined by one space.
    #[napi(catch_unwind)]
    pub fn process(&self, #[napi(ts_arg_type = "string")] text: Unknown) -> Result<String> {
        let text = args::string(&text, "text")?;
        Ok(self.inner.process(&text))
    }

    /// `process` for each text.
    #[napi(catch_unwind)]
    pub fn process_batch(
        &self,
        #[napi(ts_arg_type = "Array<string>")] texts: Unknown,
    ) -> Result<Vec<String>> {
        let texts = args::strings(&texts, "texts")?;
        Ok(self.inner.process_batch(&texts))
    }

    /// The masked line and its stable id: `{masked, id}`.
    #[napi(catch_unwind)]
    pub fn template(&self, #[napi(ts_arg_type = "string")] text: Unknown) -> Result<Template> {
        let text = args::string(&text, "text")?;
        Ok(self.inner.template(&text).into())
    }

    /// `template` for each text.
    #[napi(catch_unwind)]
    pub fn template_batch(
        &self,
        #[napi(ts_arg_type = "Array<string>")] texts: Unknown,
    ) -> Result<Vec<Template>> {
        let texts = args::strings(&texts, "texts")?;
        Ok(self
            .inner
            .template_batch(&texts)
            .into_iter()
            .map(Template::from)
            .collect())
    }

    /// The full configuration (camelCase keys); `new Preprocessor(p.config())` rebuilds it.
    #[napi(catch_unwind, ts_return_type = "Required<PreprocessorOptions>")]
    pub fn config(&self) -> Result<Value> {
        convert::config_to_js(self.inner.config())
    }

    /// The model file as bytes (what `save` writes).
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
        let path = args::string(&path, "path").map_err(|e| crate::error::reject(&env, e))?;
        artifact::save(&env, self, &path)
    }

    /// Reads a model file written by `save` in any language.
    #[napi(factory, catch_unwind)]
    pub fn load(env: Env, #[napi(ts_arg_type = "string")] path: Unknown) -> napi::Result<Self> {
        let path = args::string(&path, "path").map_err(|e| crate::error::reject(&env, e))?;
        artifact::load(&env, &path)
    }
}
