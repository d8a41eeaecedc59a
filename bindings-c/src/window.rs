//! `FlWindow` (`faultlens::window::WindowAggregator`), its input `FlEvent` and its result
//! container `FlWindowResult` (with `FlIncident` views) from C.

use faultlens::sync::RwLock;
use std::ffi::{CStr, CString, c_char};

use faultlens::window::{Event, Incident, Outcome, Trigger, WindowAggregator, WindowConfig};

use crate::artifact::{self, artifact_handle, read, write};
use crate::{
    Fail, FlStatus, Res, c_string, config_arg, guard, guard_or, handle, out_arg, owned_json,
    slice_arg, str_arg,
};
use crate::{give_json, give_text};

/// Keyed sliding-window counts over event time that raise incidents (see docs/window.md).
///
/// Thread-safe: a read-write lock inside; pushes, advance, flush and merge take it for writing.
/// Create with `fl_window_new`, `fl_window_from_bytes` or `fl_window_load`; release with
/// `fl_window_free`.
pub struct FlWindow {
    inner: RwLock<WindowAggregator>,
}

artifact_handle!(FlWindow: RwLock<WindowAggregator>, config WindowConfig, arg "window", prefix "window");

/// One log event, borrowed by faultlens only during the call. Strings are NUL-terminated UTF-8.
/// A NULL `service`, `route` or `error_code` is a missing field: an error when it is a key field,
/// "" otherwise. A NULL `message` or `trace_id` is "".
#[repr(C)]
pub struct FlEvent {
    /// Event time in milliseconds.
    pub timestamp_ms: i64,
    /// Service name.
    pub service: *const c_char,
    /// Route or endpoint.
    pub route: *const c_char,
    /// Error code.
    pub error_code: *const c_char,
    /// The log message (kept as an incident sample).
    pub message: *const c_char,
    /// Trace id.
    pub trace_id: *const c_char,
}

/// A view of one incident inside an `FlWindowResult`, filled by `fl_window_result_incident`.
/// Every pointer is borrowed from the result and valid until `fl_window_result_free`.
#[repr(C)]
pub struct FlIncident {
    /// 16 hex digits, a hash of key, start and end.
    pub id: *const c_char,
    /// The key's service, or NULL when service is not a key field.
    pub service: *const c_char,
    /// The key's route, or NULL when route is not a key field.
    pub route: *const c_char,
    /// The key's error code, or NULL when error_code is not a key field.
    pub error_code: *const c_char,
    /// Earliest event time counted in the firing window.
    pub start_ms: i64,
    /// Time of the event whose count exceeded the threshold.
    pub end_ms: i64,
    /// Events of the key in (end_ms - window_ms, end_ms].
    pub count: u64,
    /// The threshold exceeded.
    pub threshold: u64,
    /// "low", "medium", "high" or "critical".
    pub severity: *const c_char,
    /// Distinct recent messages, newest first (`n_samples` of them).
    pub samples: *const *const c_char,
    /// Number of `samples`.
    pub n_samples: usize,
    /// Distinct recent trace ids, newest first (`n_trace_ids` of them).
    pub trace_ids: *const *const c_char,
    /// Number of `trace_ids`.
    pub n_trace_ids: usize,
    /// "threshold" or "rate": which rule fired.
    pub trigger: *const c_char,
    /// The key's baseline (expected events per window) when it fired, or NaN when no rate
    /// trigger is set or the key had too little history.
    pub baseline: f64,
}

/// The C strings of one incident; the pointer arrays point into `samples` / `trace_ids`.
struct IncidentC {
    id: CString,
    key: [Option<CString>; 3],
    severity: CString,
    // Only owned here: `sample_ptrs` / `trace_ptrs` point into these strings.
    _samples: Vec<CString>,
    _trace_ids: Vec<CString>,
    sample_ptrs: Vec<*const c_char>,
    trace_ptrs: Vec<*const c_char>,
    start_ms: i64,
    end_ms: i64,
    count: u64,
    threshold: u64,
    trigger: &'static CStr,
    baseline: f64,
}

fn opt_c(s: Option<String>) -> Res<Option<CString>> {
    s.map(c_string).transpose()
}

impl IncidentC {
    fn new(i: Incident) -> Res<Self> {
        let severity = serde_json::to_value(i.severity)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let samples: Vec<CString> = i.samples.into_iter().map(c_string).collect::<Res<_>>()?;
        let trace_ids: Vec<CString> = i.trace_ids.into_iter().map(c_string).collect::<Res<_>>()?;
        Ok(Self {
            sample_ptrs: samples.iter().map(|s| s.as_ptr()).collect(),
            trace_ptrs: trace_ids.iter().map(|s| s.as_ptr()).collect(),
            id: c_string(i.id)?,
            key: [
                opt_c(i.key.service)?,
                opt_c(i.key.route)?,
                opt_c(i.key.error_code)?,
            ],
            severity: c_string(severity)?,
            _samples: samples,
            _trace_ids: trace_ids,
            start_ms: i.start_ms,
            end_ms: i.end_ms,
            count: i.count,
            threshold: i.threshold,
            trigger: match i.trigger {
                Trigger::Threshold => c"threshold",
                Trigger::Rate => c"rate",
            },
            baseline: i.baseline.unwrap_or(f64::NAN),
        })
    }

    fn view(&self) -> FlIncident {
        let key = |k: &Option<CString>| k.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
        FlIncident {
            id: self.id.as_ptr(),
            service: key(&self.key[0]),
            route: key(&self.key[1]),
            error_code: key(&self.key[2]),
            start_ms: self.start_ms,
            end_ms: self.end_ms,
            count: self.count,
            threshold: self.threshold,
            severity: self.severity.as_ptr(),
            samples: self.sample_ptrs.as_ptr(),
            n_samples: self.sample_ptrs.len(),
            trace_ids: self.trace_ptrs.as_ptr(),
            n_trace_ids: self.trace_ptrs.len(),
            trigger: self.trigger.as_ptr(),
            baseline: self.baseline,
        }
    }
}

/// What a window call returned: incidents that became final and the indices of events that were
/// not counted (late, rejected). Immutable; safe to read from several threads. Read it with
/// `fl_window_result_*`; release it with `fl_window_result_free`.
pub struct FlWindowResult {
    outcome: Outcome,
    incidents: Vec<IncidentC>,
}

impl FlWindowResult {
    fn into_raw(outcome: Outcome) -> Res<*mut FlWindowResult> {
        let incidents = outcome
            .incidents
            .iter()
            .cloned()
            .map(IncidentC::new)
            .collect::<Res<_>>()?;
        Ok(crate::into_handle(Box::new(FlWindowResult {
            outcome,
            incidents,
        })))
    }
}

/// Borrowed core events from C events; checks NULLs, UTF-8 and key fields before any push.
unsafe fn to_events<'a>(w: &WindowAggregator, evs: &'a [FlEvent]) -> Res<Vec<Event<'a>>> {
    evs.iter()
        .enumerate()
        .map(|(i, e)| {
            let field = |p: *const c_char, name: &str| -> Res<Option<&'a str>> {
                if p.is_null() {
                    Ok(None)
                } else {
                    unsafe { str_arg(p, &format!("events[{i}].{name}")) }.map(Some)
                }
            };
            let (service, route, code) = (
                field(e.service, "service")?,
                field(e.route, "route")?,
                field(e.error_code, "error_code")?,
            );
            w.check_fields(i, service.is_some(), route.is_some(), code.is_some())?;
            Ok(Event {
                timestamp_ms: e.timestamp_ms,
                service: service.unwrap_or(""),
                route: route.unwrap_or(""),
                error_code: code.unwrap_or(""),
                message: field(e.message, "message")?.unwrap_or(""),
                trace_id: field(e.trace_id, "trace_id")?.unwrap_or(""),
            })
        })
        .collect()
}

/// Builds an empty aggregator from a JSON config with the core's snake_case names (`window_ms`,
/// `key_fields`, `threshold`, `key_thresholds`, `allowed_lateness_ms` (required),
/// `cooldown_ms`, `max_keys`, `max_samples`, `max_trace_ids`, `max_future_ms`, `rate` (an object:
/// `factor`, `z`, `alpha`, `min_history`, `forget_after`, `min_count`; see docs/window.md)), e.g.
/// `{"threshold":10,"allowed_lateness_ms":5000}`. Bad JSON, unknown or missing fields and
/// out-of-range values give `FL_STATUS_INVALID_CONFIG`.
///
/// On success `*out` owns a new handle: free it with `fl_window_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_window_new(
    config_json: *const c_char,
    out: *mut *mut FlWindow,
) -> FlStatus {
    unsafe { artifact::new(config_json, out) }
}

/// Frees an aggregator. NULL is a no-op; freeing it again is refused. No other call may be using the handle.
/// Returns `FL_STATUS_INVALID_INPUT` and frees nothing when given a pointer that is not a live
/// handle of this type (freed already, another type's handle, or not made by faultlens).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_window_free(w: *mut FlWindow) -> FlStatus {
    unsafe { artifact::free(w) }
}

/// Adds one event (`fl_window_push_batch` with one event).
///
/// On success `*out` owns a new result: free it with `fl_window_result_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_window_push(
    w: *mut FlWindow,
    event: *const FlEvent,
    out: *mut *mut FlWindowResult,
) -> FlStatus {
    unsafe { fl_window_push_batch(w, event, 1, out) }
}

/// Adds `n` events in arrival order (read only during the call). A bad event (NULL key field,
/// invalid UTF-8) fails the call with `FL_STATUS_INVALID_INPUT` / `FL_STATUS_INVALID_UTF8` naming
/// it, and nothing is pushed. Late and rejected events are listed by index in the result.
///
/// On success `*out` owns a new result: free it with `fl_window_result_free`. Takes the write lock.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_window_push_batch(
    w: *mut FlWindow,
    events: *const FlEvent,
    n: usize,
    out: *mut *mut FlWindowResult,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        let evs = unsafe { slice_arg(events, n, "events") }?;
        let mut agg = unsafe { write(w) }?;
        let evs = unsafe { to_events(&agg, evs) }?;
        *out = FlWindowResult::into_raw(agg.push_batch(&evs))?;
        Ok(())
    })
}

/// Moves the watermark up to `watermark_ms` (never down); the result holds the incidents that
/// became final. On success `*out` owns a new result. Takes the write lock.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_window_advance(
    w: *mut FlWindow,
    watermark_ms: i64,
    out: *mut *mut FlWindowResult,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        *out = FlWindowResult::into_raw(unsafe { write(w) }?.advance(watermark_ms))?;
        Ok(())
    })
}

/// Makes every pending event final (later events at or before the largest time seen are late).
/// On success `*out` owns a new result. Takes the write lock.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_window_flush(
    w: *mut FlWindow,
    out: *mut *mut FlWindowResult,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        *out = FlWindowResult::into_raw(unsafe { write(w) }?.flush())?;
        Ok(())
    })
}

/// Takes over the state of `other` (same config; `other` is unchanged), e.g. when a partition
/// moves to this consumer. Different configs, or `other == w`, give `FL_STATUS_INVALID_INPUT`.
/// On success `*out` owns a new result. Copies `other`'s state under its read lock, releases it,
/// then takes `w`'s write lock: opposite merges in two threads cannot deadlock.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_window_merge(
    w: *mut FlWindow,
    other: *const FlWindow,
    out: *mut *mut FlWindowResult,
) -> FlStatus {
    guard(|| {
        let out = unsafe { out_arg(out, "out") }?;
        if std::ptr::eq(w.cast_const(), other) {
            return Err(Fail::new(
                FlStatus::InvalidInput,
                "cannot merge an aggregator into itself",
            ));
        }
        // Never both locks at once: `fl_window_merge(other, w)` in another thread would take them
        // the other way round.
        let theirs = unsafe { read(other) }?.snapshot();
        let outcome = unsafe { write(w) }?.merge_snapshot(theirs)?;
        *out = FlWindowResult::into_raw(outcome)?;
        Ok(())
    })
}

/// Counters and sizes as JSON (`events`, `late_events`, `rejected_events`, `live_keys`,
/// `evicted_keys`, `evicted_events`, `expired_keys`, `pending_events`, `incidents`,
/// `watermark_ms`, `max_event_time_ms`). `*json` is owned: free it with `fl_string_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_window_stats(w: *const FlWindow, json: *mut *mut c_char) -> FlStatus {
    let value = || Ok(unsafe { read(w) }?.stats());
    unsafe { give_json(json, "json", value) }
}

/// `fl_window_stats` in the Prometheus text exposition format (0.0.4): the families of the Python and
/// Node collectors, without their `name` label (`fl_merge_prometheus` adds it).
///
/// On success `*text` owns the text: free it with `fl_string_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_window_metrics_prometheus(
    w: *const FlWindow,
    text: *mut *mut c_char,
) -> FlStatus {
    let value = || Ok(unsafe { read(w) }?.metrics_prometheus());
    unsafe { give_text(text, "text", value) }
}

/// The current watermark: `*has` is false before any event or advance (then `*watermark_ms` is 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_window_watermark(
    w: *const FlWindow,
    has: *mut bool,
    watermark_ms: *mut i64,
) -> FlStatus {
    guard(|| {
        let has = unsafe { out_arg(has, "has") }?;
        let wm = unsafe { watermark_ms.as_mut() }.ok_or_else(|| {
            Fail::new(FlStatus::NullPointer, "out-pointer `watermark_ms` is NULL")
        })?;
        *wm = 0;
        if let Some(v) = unsafe { read(w) }?.watermark() {
            (*has, *wm) = (true, v);
        }
        Ok(())
    })
}

/// The configuration as JSON (accepted back by `fl_window_new`). Free `*json` with
/// `fl_string_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_window_config(w: *const FlWindow, json: *mut *mut c_char) -> FlStatus {
    unsafe { artifact::config(w, json) }
}

/// A snapshot of the whole state as model-file bytes. Free `*bytes` with `fl_bytes_free(*bytes,
/// *len)`. Thread-safe (read lock).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_window_to_bytes(
    w: *const FlWindow,
    bytes: *mut *mut u8,
    len: *mut usize,
) -> FlStatus {
    unsafe { artifact::to_bytes(w, bytes, len) }
}

/// Restores an aggregator from `fl_window_to_bytes` output (`len` bytes, read during the call).
/// Damaged data gives `FL_STATUS_CORRUPT`, another artifact `FL_STATUS_WRONG_KIND`.
/// On success `*out` owns a new handle: free it with `fl_window_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_window_from_bytes(
    bytes: *const u8,
    len: usize,
    out: *mut *mut FlWindow,
) -> FlStatus {
    unsafe { artifact::from_bytes(bytes, len, out) }
}

/// Writes the snapshot to `path` atomically. Thread-safe (read lock).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_window_save(w: *const FlWindow, path: *const c_char) -> FlStatus {
    unsafe { artifact::save(w, path) }
}

/// Reads a snapshot written by `save` in any language. On success `*out` owns a new handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_window_load(path: *const c_char, out: *mut *mut FlWindow) -> FlStatus {
    unsafe { artifact::load(path, out) }
}

/// Number of incidents in `r` (0 if `r` is NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_window_result_incidents(r: *const FlWindowResult) -> usize {
    guard_or(0, || unsafe { r.as_ref() }.map_or(0, |r| r.incidents.len()))
}

/// Fills `*out` with a view of incident `index`; false (and `*out` untouched) if `r` or `out` is
/// NULL or `index` is out of range. The view's pointers live until `fl_window_result_free(r)`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_window_result_incident(
    r: *const FlWindowResult,
    index: usize,
    out: *mut FlIncident,
) -> bool {
    guard_or(false, || {
        match (
            unsafe { r.as_ref() }.and_then(|r| r.incidents.get(index)),
            unsafe { out.as_mut() },
        ) {
            (Some(i), Some(out)) => {
                *out = i.view();
                true
            }
            _ => false,
        }
    })
}

/// Indices (into the pushed batch) of late events; `*n` gets their number. Borrowed from `r`;
/// NULL with `*n == 0` when there are none or `r` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_window_result_late(
    r: *const FlWindowResult,
    n: *mut usize,
) -> *const usize {
    guard_or(std::ptr::null(), || unsafe {
        indices(r, n, |r| &r.outcome.late)
    })
}

/// Indices of events rejected by `max_future_ms`, as `fl_window_result_late`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_window_result_rejected(
    r: *const FlWindowResult,
    n: *mut usize,
) -> *const usize {
    guard_or(std::ptr::null(), || unsafe {
        indices(r, n, |r| &r.outcome.rejected)
    })
}

unsafe fn indices(
    r: *const FlWindowResult,
    n: *mut usize,
    pick: impl Fn(&FlWindowResult) -> &Vec<usize>,
) -> *const usize {
    let v = unsafe { r.as_ref() }.map(pick);
    if let Some(n) = unsafe { n.as_mut() } {
        *n = v.map_or(0, |v| v.len());
    }
    match v {
        Some(v) if !v.is_empty() => v.as_ptr(),
        _ => std::ptr::null(),
    }
}

/// The whole result as JSON (`{"incidents":[...],"late":[...],"rejected":[...]}`, the same
/// document as Python's and Node's). Free `*json` with `fl_string_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_window_result_json(
    r: *const FlWindowResult,
    json: *mut *mut c_char,
) -> FlStatus {
    guard(|| {
        let json = unsafe { out_arg(json, "json") }?;
        let r = unsafe { handle(r, "result") }?;
        *json = owned_json(&r.outcome)?;
        Ok(())
    })
}

/// Frees a result and every string in it. NULL is a no-op; freeing it again is refused.
/// Returns `FL_STATUS_INVALID_INPUT` and frees nothing when given a pointer that is not a live
/// handle of this type (freed already, another type's handle, or not made by faultlens).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_window_result_free(r: *mut FlWindowResult) -> FlStatus {
    guard(|| unsafe { crate::free_handle(r, "fl_window_result_free") })
}

/// Group numbers for incidents given their sample messages: incident `i` has `counts[i]`
/// samples, taken in order from `samples` (`sum(counts)` strings in all). Writes one number per
/// incident to the caller's `out_groups` (`n_incidents` values); incidents with similar messages
/// share a number. `options_json` (NULL for the defaults): `{"min_similarity": 0.5,
/// "min_group_size": 2, "max_features": 4096}`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_group_incidents(
    samples: *const *const c_char,
    counts: *const usize,
    n_incidents: usize,
    options_json: *const c_char,
    out_groups: *mut usize,
) -> FlStatus {
    guard(|| {
        let config: faultlens::window::GroupConfig =
            unsafe { config_arg(options_json, "options_json") }?;
        let counts = unsafe { slice_arg(counts, n_incidents, "counts") }?;
        let total = counts
            .iter()
            .try_fold(0usize, |a, &c| a.checked_add(c))
            .ok_or_else(|| {
                Fail::new(
                    FlStatus::InvalidInput,
                    "`counts` add up to more than fits in memory",
                )
            })?;
        let all = unsafe { crate::str_array_arg(samples, total, "samples") }?;
        let mut rest = all.as_slice();
        let per_incident: Vec<Vec<&str>> = counts
            .iter()
            .map(|&c| {
                let (mine, tail) = rest.split_at(c);
                rest = tail;
                mine.to_vec()
            })
            .collect();
        let groups = faultlens::window::group_incidents(&per_incident, &config)?;
        if n_incidents > 0 {
            if out_groups.is_null() {
                return Err(Fail::new(FlStatus::NullPointer, "`out_groups` is NULL"));
            }
            let out = unsafe { std::slice::from_raw_parts_mut(out_groups, n_incidents) };
            out.copy_from_slice(&groups);
        }
        Ok(())
    })
}
