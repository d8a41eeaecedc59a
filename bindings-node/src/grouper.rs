//! `IncidentGrouper`: stable, order-independent incident groups (core
//! `window::IncidentGrouper`). Incidents are plain objects `{id, timeMs?, text?, embedding?}`
//! with `embedding` a `Float32Array`; results are plain objects with camelCase keys.

use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use faultlens::window::{GroupInput as CoreInput, GrouperConfig};
use napi::bindgen_prelude::{Buffer, Env, Float32Array, Uint8Array, Unknown};
use napi_derive::napi;
use serde_json::Value;

use crate::args;
use crate::artifact;
use crate::convert;
use crate::error::{Result, binding, to_js};

type Core = faultlens::window::IncidentGrouper;

const WHAT: &str = "IncidentGrouper";

/// One incident to group.
#[napi(object, object_to_js = false)]
pub struct GroupInput {
    /// Unique, non-empty id (e.g. a window incident's `id`).
    pub id: String,
    /// Orders members: a group is named after its earliest (time, then id) member (default 0).
    pub time_ms: Option<f64>,
    /// Text, if any (e.g. the incident's samples joined).
    pub text: Option<String>,
    /// An embedding from the caller's model, if any (one dimension for all incidents).
    pub embedding: Option<Float32Array>,
}

/// What `add` did: where each incident went, and groups renamed by the call.
#[napi(object, object_from_js = false, object_to_js = false)]
#[allow(dead_code)] // declares the TypeScript interface only; results are built from JSON
pub struct GroupUpdate {
    /// One per added incident, in input order.
    #[napi(ts_type = "Array<{ id: string; group: string; newGroup: boolean }>")]
    pub assignments: Vec<Value>,
    /// Group ids that stopped existing, and the id their members now have.
    #[napi(ts_type = "Array<{ from: string; to: string }>")]
    pub renamed: Vec<Value>,
}

/// Stable incident groups, assigned online: connected components of "similarity >=
/// minSimilarity" among all incidents added, named after their earliest member, so the same
/// incidents give the same groups in any order or batching (docs/window.md).
#[napi]
pub struct IncidentGrouper {
    inner: RwLock<Core>,
}

impl IncidentGrouper {
    fn wrap(g: Core) -> Self {
        Self {
            inner: RwLock::new(g),
        }
    }

    fn read(&self) -> Result<RwLockReadGuard<'_, Core>> {
        crate::lock::read(&self.inner, WHAT)
    }

    fn write(&self) -> Result<RwLockWriteGuard<'_, Core>> {
        crate::lock::write(&self.inner, WHAT)
    }
}

impl crate::artifact::JsArtifact for IncidentGrouper {
    type Core = Core;
    fn wrap(core: Core) -> Self {
        Self::wrap(core)
    }
    fn core(&self) -> Result<impl std::ops::Deref<Target = Core> + '_> {
        self.read()
    }
}

#[napi]
impl IncidentGrouper {
    /// An empty grouper; throws `InvalidConfig` for a bad or unknown option.
    #[napi(constructor, catch_unwind)]
    pub fn new(#[napi(ts_arg_type = "GrouperOptions")] options: Option<Unknown>) -> Result<Self> {
        let config: GrouperConfig = convert::from_snake(convert::options_json(options)?)?;
        Ok(Self::wrap(Core::new(config).map_err(to_js)?))
    }

    /// Adds incidents; returns `{assignments, renamed}`. Bad input throws and adds nothing.
    #[napi(catch_unwind, ts_return_type = "GroupUpdate")]
    pub fn add(
        &self,
        #[napi(ts_arg_type = "Array<GroupInput>")] incidents: Unknown,
    ) -> Result<Value> {
        let incidents: Vec<GroupInput> =
            args::values(&incidents, "incidents", "an incident object")?;
        let mut inputs = Vec::with_capacity(incidents.len());
        for (i, x) in incidents.iter().enumerate() {
            let t = x.time_ms.unwrap_or(0.0);
            if t.fract() != 0.0 || t.abs() > 9_007_199_254_740_992.0 {
                return Err(binding(
                    "InvalidInput",
                    format!("invalid input: incident {i} `timeMs` must be an integer, got {t}"),
                ));
            }
            inputs.push(CoreInput {
                id: &x.id,
                time_ms: t as i64,
                text: x.text.as_deref(),
                embedding: x.embedding.as_deref(),
            });
        }
        let update = self.write()?.add(&inputs).map_err(to_js)?;
        convert::config_to_js(&update)
    }

    /// The id of the group `id` is in, or `null` for an unknown id.
    #[napi(catch_unwind)]
    pub fn group_of(&self, #[napi(ts_arg_type = "string")] id: Unknown) -> Result<Option<String>> {
        let id = args::string(&id, "id")?;
        Ok(self.read()?.group_of(&id))
    }

    /// Every group: `[{id, members}]`, ordered by their first member.
    #[napi(
        catch_unwind,
        ts_return_type = "Array<{ id: string; members: Array<string> }>"
    )]
    pub fn groups(&self) -> Result<Value> {
        convert::config_to_js(&self.read()?.groups())
    }

    /// The similarity of two held incidents, or `null` when either id is unknown.
    #[napi(catch_unwind)]
    pub fn similarity(
        &self,
        #[napi(ts_arg_type = "string")] a: Unknown,
        #[napi(ts_arg_type = "string")] b: Unknown,
    ) -> Result<Option<f64>> {
        let a = args::string(&a, "a")?;
        let b = args::string(&b, "b")?;
        Ok(self.read()?.similarity(&a, &b))
    }

    /// Incidents and groups held in the Prometheus text exposition format (the families of
    /// `faultlens/prometheus`, without its `name` label).
    #[napi(catch_unwind)]
    pub fn metrics_prometheus(&self) -> Result<String> {
        Ok(self.read()?.metrics_prometheus())
    }

    /// Number of incidents held.
    #[napi(catch_unwind)]
    pub fn len(&self) -> Result<u32> {
        Ok(self.read()?.len() as u32)
    }

    /// The full configuration (camelCase keys).
    #[napi(catch_unwind, ts_return_type = "Required<GrouperOptions>")]
    pub fn config(&self) -> Result<Value> {
        convert::config_to_js(self.read()?.config())
    }

    /// The whole state as model-file bytes.
    #[napi(catch_unwind)]
    pub fn to_bytes(&self) -> Result<Buffer> {
        artifact::to_bytes(self)
    }

    /// Restores a grouper from `toBytes()` output (copied).
    #[napi(factory, catch_unwind)]
    pub fn from_bytes(bytes: Uint8Array) -> Result<Self> {
        artifact::from_bytes(&bytes)
    }

    /// Writes the state atomically (a failed save keeps the previous file).
    #[napi(catch_unwind)]
    pub fn save(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] path: Unknown,
    ) -> napi::Result<()> {
        let path = args::string(&path, "path").map_err(|e| crate::error::reject(&env, e))?;
        artifact::save(&env, self, &path)
    }

    /// Reads a state written by `save` in any language.
    #[napi(factory, catch_unwind)]
    pub fn load(env: Env, #[napi(ts_arg_type = "string")] path: Unknown) -> napi::Result<Self> {
        let path = args::string(&path, "path").map_err(|e| crate::error::reject(&env, e))?;
        artifact::load(&env, &path)
    }
}
