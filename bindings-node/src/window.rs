//! `WindowAggregator`: keyed sliding-window counts over event time that raise incidents (core
//! `window` module). Events are plain objects (`{timestampMs, service, route, errorCode, message,
//! traceId}`); results are plain objects with camelCase keys (`{incidents, late, rejected}`).

use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use faultlens::window::Event;
use napi::bindgen_prelude::{Buffer, Env, Uint8Array, Unknown};
use napi_derive::napi;
use serde_json::Value;

use crate::args;
use crate::artifact;
use crate::convert;
use crate::error::{Result, binding, to_js};

type Core = faultlens::window::WindowAggregator;

const WHAT: &str = "WindowAggregator";

/// A grouping key: the key fields are set, the others `null`.
#[napi(object, object_from_js = false, object_to_js = false)]
#[allow(dead_code)] // declares the TypeScript interface only
pub struct WindowKey {
    /// Service, when it is a key field.
    #[napi(ts_type = "string | null")]
    pub service: Option<String>,
    /// Route, when it is a key field.
    #[napi(ts_type = "string | null")]
    pub route: Option<String>,
    /// Error code, when it is a key field.
    #[napi(ts_type = "string | null")]
    pub error_code: Option<String>,
}

/// One log event. `timestampMs` and the key fields are required; the rest default to `""`.
#[napi(object, object_to_js = false)]
pub struct WindowEvent {
    /// Event time in ms (an integer).
    pub timestamp_ms: Option<f64>,
    /// Service name.
    pub service: Option<String>,
    /// Route or endpoint.
    pub route: Option<String>,
    /// Error code.
    pub error_code: Option<String>,
    /// The log message (kept as an incident sample).
    pub message: Option<String>,
    /// Trace id.
    pub trace_id: Option<String>,
}

/// A raised incident (see docs/window.md).
#[napi(object, object_from_js = false, object_to_js = false)]
#[allow(dead_code)] // declares the TypeScript interface only; results are built from JSON
pub struct Incident {
    /// 16 hex digits, a hash of key, start and end.
    pub id: String,
    /// The key.
    pub key: WindowKey,
    /// Earliest event time counted in the firing window.
    pub start_ms: f64,
    /// Time of the event whose count exceeded the threshold.
    pub end_ms: f64,
    /// Events of the key in `(endMs - windowMs, endMs]`.
    pub count: f64,
    /// The threshold exceeded.
    pub threshold: f64,
    /// `count / threshold`: under 2x low, under 5x medium, under 10x high, else critical.
    #[napi(ts_type = "'low' | 'medium' | 'high' | 'critical'")]
    pub severity: String,
    /// Distinct recent messages, newest first.
    pub samples: Vec<String>,
    /// Distinct recent trace ids, newest first.
    pub trace_ids: Vec<String>,
    /// Which rule fired.
    #[napi(ts_type = "'threshold' | 'rate'")]
    pub trigger: String,
    /// The key's expected events per window when it fired (rate triggers with enough history).
    #[napi(ts_type = "number | null")]
    pub baseline: Option<f64>,
}

/// What a call returned: final incidents, and indices of the events not counted.
#[napi(object, object_from_js = false, object_to_js = false)]
#[allow(dead_code)] // declares the TypeScript interface only
pub struct WindowOutcome {
    /// Incidents that became final, by `endMs` then key.
    pub incidents: Vec<Incident>,
    /// Events older than the watermark (indices into the batch).
    pub late: Vec<u32>,
    /// Events beyond `maxFutureMs` (indices into the batch).
    pub rejected: Vec<u32>,
}

/// Counters and sizes.
#[napi(object, object_from_js = false, object_to_js = false)]
#[allow(dead_code)] // declares the TypeScript interface only
pub struct WindowStats {
    /// On-time events accepted.
    pub events: f64,
    /// Late events (not counted).
    pub late_events: f64,
    /// Events rejected by `maxFutureMs`.
    pub rejected_events: f64,
    /// Keys held now.
    pub live_keys: f64,
    /// Keys evicted by `maxKeys`.
    pub evicted_keys: f64,
    /// Not-yet-final events dropped with evicted keys.
    pub evicted_events: f64,
    /// Keys removed because their window emptied.
    pub expired_keys: f64,
    /// Events waiting for the watermark.
    pub pending_events: f64,
    /// Incidents raised.
    pub incidents: f64,
    /// Current watermark.
    #[napi(ts_type = "number | null")]
    pub watermark_ms: Option<f64>,
    /// Largest on-time event time.
    #[napi(ts_type = "number | null")]
    pub max_event_time_ms: Option<f64>,
}

/// Largest integer a JS number holds exactly.
const SAFE: f64 = 9_007_199_254_740_992.0;

/// Converts events to core form; every string is borrowed from `events`.
fn to_events<'a>(w: &Core, events: &'a [WindowEvent]) -> Result<Vec<Event<'a>>> {
    events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let t = e.timestamp_ms.ok_or_else(|| {
                binding("InvalidInput", format!("invalid input: event {i} has no `timestampMs`"))
            })?;
            if t.fract() != 0.0 || t.abs() > SAFE {
                return Err(binding(
                    "InvalidInput",
                    format!("invalid input: event {i} `timestampMs` must be an integer number of ms, got {t}"),
                ));
            }
            w.check_fields(i, e.service.is_some(), e.route.is_some(), e.error_code.is_some())
                .map_err(|err| binding("InvalidInput", err.to_string().replace("`error_code`", "`errorCode`")))?;
            let s = |v: &'a Option<String>| v.as_deref().unwrap_or("");
            Ok(Event {
                timestamp_ms: t as i64,
                service: s(&e.service),
                route: s(&e.route),
                error_code: s(&e.error_code),
                message: s(&e.message),
                trace_id: s(&e.trace_id),
            })
        })
        .collect()
}

fn to_value<T: serde::Serialize>(v: &T) -> Result<Value> {
    convert::config_to_js(v)
}

/// Keyed sliding-window counts over event time that raise incidents; see docs/window.md.
#[napi]
pub struct WindowAggregator {
    inner: RwLock<Core>,
}

impl WindowAggregator {
    fn wrap(w: Core) -> Self {
        Self {
            inner: RwLock::new(w),
        }
    }

    fn read(&self) -> Result<RwLockReadGuard<'_, Core>> {
        crate::lock::read(&self.inner, WHAT)
    }

    fn write(&self) -> Result<RwLockWriteGuard<'_, Core>> {
        crate::lock::write(&self.inner, WHAT)
    }
}

impl crate::artifact::JsArtifact for WindowAggregator {
    type Core = Core;
    fn wrap(core: Core) -> Self {
        Self::wrap(core)
    }
    fn core(&self) -> Result<impl std::ops::Deref<Target = Core> + '_> {
        self.read()
    }
}

#[napi]
impl WindowAggregator {
    /// Builds an empty aggregator; throws `InvalidConfig` for a bad, missing or unknown option.
    #[napi(constructor, catch_unwind)]
    pub fn new(#[napi(ts_arg_type = "WindowOptions")] options: Option<Unknown>) -> Result<Self> {
        let config: faultlens::WindowConfig = convert::from_snake(convert::options_json(options)?)?;
        Ok(Self::wrap(Core::new(config).map_err(to_js)?))
    }

    /// Adds one event; returns `{incidents, late, rejected}`.
    #[napi(catch_unwind, ts_return_type = "WindowOutcome")]
    pub fn push(&self, #[napi(ts_arg_type = "WindowEvent")] event: Unknown) -> Result<Value> {
        let event: WindowEvent = args::value(&event, "event", "a window event object")?;
        let mut w = self.write()?;
        let evs = to_events(&w, std::slice::from_ref(&event))?;
        to_value(&w.push_batch(&evs))
    }

    /// Adds events in arrival order; returns `{incidents, late, rejected}` (indices into `events`).
    /// A bad event throws `InvalidInput` naming it, and nothing is pushed.
    #[napi(catch_unwind, ts_return_type = "WindowOutcome")]
    pub fn push_batch(
        &self,
        #[napi(ts_arg_type = "Array<WindowEvent>")] events: Unknown,
    ) -> Result<Value> {
        let events: Vec<WindowEvent> = args::values(&events, "events", "a window event object")?;
        let mut w = self.write()?;
        let evs = to_events(&w, &events)?;
        to_value(&w.push_batch(&evs))
    }

    /// Moves the watermark up to `watermarkMs`; returns the incidents that became final.
    #[napi(catch_unwind, ts_return_type = "WindowOutcome")]
    pub fn advance(&self, watermark_ms: f64) -> Result<Value> {
        if watermark_ms.fract() != 0.0 || watermark_ms.abs() > SAFE {
            return Err(binding(
                "InvalidInput",
                format!(
                    "invalid input: watermarkMs must be an integer number of ms, got {watermark_ms}"
                ),
            ));
        }
        to_value(&self.write()?.advance(watermark_ms as i64))
    }

    /// Makes every pending event final; returns the resulting incidents.
    #[napi(catch_unwind, ts_return_type = "WindowOutcome")]
    pub fn flush(&self) -> Result<Value> {
        to_value(&self.write()?.flush())
    }

    /// Takes over another aggregator's state (same options), e.g. on a partition rebalance.
    #[napi(catch_unwind, ts_return_type = "WindowOutcome")]
    pub fn merge(&self, other: &WindowAggregator) -> Result<Value> {
        if std::ptr::eq(self, other) {
            return Err(binding(
                "InvalidInput",
                "invalid input: cannot merge an aggregator into itself",
            ));
        }
        // Never both locks at once (see WindowAggregator::snapshot).
        let theirs = other.read()?.snapshot();
        to_value(&self.write()?.merge_snapshot(theirs).map_err(to_js)?)
    }

    /// Counters and sizes.
    #[napi(catch_unwind, ts_return_type = "WindowStats")]
    pub fn stats(&self) -> Result<Value> {
        to_value(&self.read()?.stats())
    }

    /// `stats()` in the Prometheus text exposition format (the families of
    /// `faultlens/prometheus`, without its `name` label).
    #[napi(catch_unwind)]
    pub fn metrics_prometheus(&self) -> Result<String> {
        Ok(self.read()?.metrics_prometheus())
    }

    /// The watermark in ms (older events are late), or `null` before any event.
    #[napi(catch_unwind)]
    pub fn watermark(&self) -> Result<Option<f64>> {
        Ok(self.read()?.watermark().map(|w| w as f64))
    }

    /// The full configuration (camelCase keys); `new WindowAggregator(w.config())` rebuilds it.
    #[napi(catch_unwind, ts_return_type = "Required<WindowOptions>")]
    pub fn config(&self) -> Result<Value> {
        to_value(self.read()?.config())
    }

    /// A snapshot of the whole state as model-file bytes.
    #[napi(catch_unwind)]
    pub fn to_bytes(&self) -> Result<Buffer> {
        artifact::to_bytes(self)
    }

    /// Restores an aggregator from `toBytes()` output (copied).
    #[napi(factory, catch_unwind)]
    pub fn from_bytes(bytes: Uint8Array) -> Result<Self> {
        artifact::from_bytes(&bytes)
    }

    /// Writes the snapshot atomically.
    #[napi(catch_unwind)]
    pub fn save(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] path: Unknown,
    ) -> napi::Result<()> {
        let path = args::string(&path, "path").map_err(|e| crate::error::reject(&env, e))?;
        artifact::save(&env, self, &path)
    }

    /// Reads a snapshot written by `save` in any language.
    #[napi(factory, catch_unwind)]
    pub fn load(env: Env, #[napi(ts_arg_type = "string")] path: Unknown) -> napi::Result<Self> {
        let path = args::string(&path, "path").map_err(|e| crate::error::reject(&env, e))?;
        artifact::load(&env, &path)
    }
}

/// Group numbers for incidents given each one's sample messages (`incidents.map(i => i.samples)`):
/// incidents with similar messages share a number (TF-IDF + DBSCAN). Options: `minSimilarity`
/// (0.5), `minGroupSize` (2), `maxFeatures` (4096).
#[napi(catch_unwind)]
pub fn group_incidents(
    #[napi(ts_arg_type = "Array<Array<string>>")] samples: Unknown,
    #[napi(
        ts_arg_type = "{ minSimilarity?: number, minGroupSize?: number, maxFeatures?: number } | null"
    )]
    options: Option<Unknown>,
) -> Result<Vec<u32>> {
    let samples = args::string_lists(&samples, "samples")?;
    let config: faultlens::window::GroupConfig =
        convert::from_snake(convert::options_json(options)?)?;
    let groups = faultlens::window::group_incidents(&samples, &config).map_err(to_js)?;
    Ok(groups.into_iter().map(|g| g as u32).collect())
}
