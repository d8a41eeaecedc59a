//! What the aggregator promises: its configuration, events, incidents and outcomes, and the
//! per-key rule (`apply`) that counts a window and decides when an incident fires.
use serde::{Deserialize, Serialize};

use super::*;

/// An event field that can be part of the grouping key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum KeyField {
    /// `Event::service`.
    Service,
    /// `Event::route`.
    Route,
    /// `Event::error_code` (also accepted as `"errorCode"`, as JavaScript spells it).
    #[serde(alias = "errorCode")]
    ErrorCode,
}

impl KeyField {
    pub(super) fn name(self) -> &'static str {
        match self {
            KeyField::Service => "service",
            KeyField::Route => "route",
            KeyField::ErrorCode => "error_code",
        }
    }
}

/// A grouping key: the fields named in `key_fields` are set, the others are `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields)]
pub struct WindowKey {
    /// The service, when it is a key field.
    pub service: Option<String>,
    /// The route, when it is a key field.
    pub route: Option<String>,
    /// The error code, when it is a key field.
    pub error_code: Option<String>,
}

impl WindowKey {
    pub(super) fn field(&self, f: KeyField) -> Option<&str> {
        match f {
            KeyField::Service => self.service.as_deref(),
            KeyField::Route => self.route.as_deref(),
            KeyField::ErrorCode => self.error_code.as_deref(),
        }
    }
}

/// A threshold for one key, overriding [`WindowConfig::threshold`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct KeyThreshold {
    /// The key; exactly the fields of `key_fields` must be set.
    pub key: WindowKey,
    /// An incident fires when the count exceeds this (at least 1).
    pub threshold: u64,
}

/// Options of a [`WindowAggregator`]. Every time rule is here, in milliseconds of event time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields)]
pub struct WindowConfig {
    /// Window length: an event at `t` counts the key's events in `(t - window_ms, t]`.
    /// Default 300000 (5 minutes), 1..=366 days.
    pub window_ms: u64,
    /// The fields that make the key, a non-empty subset of `service`, `route`, `error_code`
    /// (default all three).
    pub key_fields: Vec<KeyField>,
    /// An incident fires when a count exceeds this (default 10, at least 1).
    pub threshold: u64,
    /// Per-key thresholds overriding `threshold`.
    pub key_thresholds: Vec<KeyThreshold>,
    /// How far behind the largest event time an event may be and still count. Required: there is
    /// no default (0 means events must arrive in time order; at most 366 days).
    pub allowed_lateness_ms: Option<u64>,
    /// After an incident of a key at `t`, no incident of that key fires before `t + cooldown_ms`,
    /// even once re-armed (default 0: re-arming alone decides; at most 366 days).
    pub cooldown_ms: u64,
    /// Most keys held at once; beyond it the least recently seen key is evicted (default 100000,
    /// at least 1).
    pub max_keys: usize,
    /// Most sample messages per incident (default 5, at most 1000).
    pub max_samples: usize,
    /// Most trace ids per incident (default 10, at most 1000).
    pub max_trace_ids: usize,
    /// When set, an event more than this ahead of the largest event time seen so far is rejected
    /// (reported in [`Outcome::rejected`], not counted), so one bad clock cannot make every later
    /// event late. Default `None`: no limit (at most 366 days).
    pub max_future_ms: Option<u64>,
    /// When set, an incident also fires when a count rises over the key's own learned normal
    /// (see [`RateTrigger`]), alongside `threshold`. Default `None`: the threshold alone. For
    /// rate triggers only, set `threshold` to `u64::MAX`.
    pub rate: Option<RateTrigger>,
}

impl Default for WindowConfig {
    fn default() -> Self {
        Self {
            window_ms: 300_000,
            key_fields: vec![KeyField::Service, KeyField::Route, KeyField::ErrorCode],
            threshold: 10,
            key_thresholds: Vec::new(),
            allowed_lateness_ms: None,
            cooldown_ms: 0,
            max_keys: 100_000,
            max_samples: 5,
            max_trace_ids: 10,
            max_future_ms: None,
            rate: None,
        }
    }
}

impl WindowConfig {
    /// Checks every field; [`WindowAggregator::new`] calls it.
    pub fn validate(&self) -> Result<()> {
        let span = |field: &'static str, v: u64, min: u64| {
            if v < min || v > MAX_SPAN_MS {
                Err(Error::config(
                    field,
                    format!("{v} ms is outside {min}..={MAX_SPAN_MS} (366 days)"),
                ))
            } else {
                Ok(())
            }
        };
        span("window_ms", self.window_ms, 1)?;
        span("cooldown_ms", self.cooldown_ms, 0)?;
        match self.allowed_lateness_ms {
            None => {
                return Err(Error::config(
                    "allowed_lateness_ms",
                    "must be set explicitly (0 = events must arrive in time order)",
                ));
            }
            Some(l) => span("allowed_lateness_ms", l, 0)?,
        }
        if let Some(f) = self.max_future_ms {
            span("max_future_ms", f, 0)?;
        }
        if self.key_fields.is_empty() {
            return Err(Error::config(
                "key_fields",
                "needs at least one of service, route, error_code",
            ));
        }
        for (i, f) in self.key_fields.iter().enumerate() {
            if self.key_fields[..i].contains(f) {
                return Err(Error::config(
                    "key_fields",
                    format!("`{}` is listed twice", f.name()),
                ));
            }
        }
        if self.threshold == 0 {
            return Err(Error::config(
                "threshold",
                "must be at least 1 (with 0 the first event of every key would be an incident)",
            ));
        }
        if self.max_keys == 0 {
            return Err(Error::config("max_keys", "must be at least 1"));
        }
        if self.max_samples > MAX_SAMPLES {
            return Err(Error::config(
                "max_samples",
                format!("{} is above {MAX_SAMPLES}", self.max_samples),
            ));
        }
        if self.max_trace_ids > MAX_SAMPLES {
            return Err(Error::config(
                "max_trace_ids",
                format!("{} is above {MAX_SAMPLES}", self.max_trace_ids),
            ));
        }
        if let Some(rate) = &self.rate {
            rate.validate()?;
        }
        let mut seen = std::collections::HashSet::new();
        for (i, kt) in self.key_thresholds.iter().enumerate() {
            if kt.threshold == 0 {
                return Err(Error::config(
                    "key_thresholds",
                    format!("entry {i}: threshold must be at least 1"),
                ));
            }
            for f in [KeyField::Service, KeyField::Route, KeyField::ErrorCode] {
                let wanted = self.key_fields.contains(&f);
                let given = kt.key.field(f).is_some();
                if wanted != given {
                    return Err(Error::config(
                        "key_thresholds",
                        format!(
                            "entry {i}: `{}` must be {} (key_fields are {:?})",
                            f.name(),
                            if wanted { "set" } else { "absent" },
                            self.key_fields.iter().map(|f| f.name()).collect::<Vec<_>>()
                        ),
                    ));
                }
            }
            if !seen.insert(&kt.key) {
                return Err(Error::config(
                    "key_thresholds",
                    format!("entry {i}: the same key is given twice"),
                ));
            }
        }
        Ok(())
    }
}

/// One log event. Fields borrow from the caller: pushing copies only what must outlive the call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Event<'a> {
    /// Event time, milliseconds (any epoch, the same for every event).
    pub timestamp_ms: i64,
    /// Service name.
    pub service: &'a str,
    /// Route or endpoint.
    pub route: &'a str,
    /// Error code.
    pub error_code: &'a str,
    /// The log message (kept as an incident sample).
    pub message: &'a str,
    /// A trace id ("" = none).
    pub trace_id: &'a str,
}

impl<'a> Event<'a> {
    /// An event with an empty message and no trace id.
    pub fn new(timestamp_ms: i64, service: &'a str, route: &'a str, error_code: &'a str) -> Self {
        Self {
            timestamp_ms,
            service,
            route,
            error_code,
            message: "",
            trace_id: "",
        }
    }

    /// Sets the message.
    pub fn message(mut self, message: &'a str) -> Self {
        self.message = message;
        self
    }

    /// Sets the trace id.
    pub fn trace_id(mut self, trace_id: &'a str) -> Self {
        self.trace_id = trace_id;
        self
    }

    pub(super) fn field(&self, f: KeyField) -> &'a str {
        match f {
            KeyField::Service => self.service,
            KeyField::Route => self.route,
            KeyField::ErrorCode => self.error_code,
        }
    }
}

/// How far an incident's count exceeds its threshold (`count / threshold`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Under 2x the threshold.
    Low,
    /// 2x to under 5x.
    Medium,
    /// 5x to under 10x.
    High,
    /// 10x or more.
    Critical,
}

impl Severity {
    /// The severity of `count` events against `threshold` (integer arithmetic, no rounding).
    pub fn of(count: u64, threshold: u64) -> Self {
        let (c, t) = (u128::from(count), u128::from(threshold.max(1)));
        if c >= 10 * t {
            Severity::Critical
        } else if c >= 5 * t {
            Severity::High
        } else if c >= 2 * t {
            Severity::Medium
        } else {
            Severity::Low
        }
    }
}

/// A raised incident. Every field is a function of the key's on-time events alone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// 16 hex digits of a 64-bit FNV-1a hash of key, start and end: the same on every platform.
    pub id: String,
    /// The key that crossed its threshold.
    pub key: WindowKey,
    /// Time of the earliest event counted in the firing window.
    pub start_ms: i64,
    /// Time of the event whose count exceeded the threshold.
    pub end_ms: i64,
    /// Events of the key in `(end_ms - window_ms, end_ms]`.
    pub count: u64,
    /// The threshold that was exceeded.
    pub threshold: u64,
    /// `count / threshold` banded; for a rate incident, `count / ceil(max(baseline, 1))`.
    pub severity: Severity,
    /// Distinct messages of the key's last `max_samples` events in the window, newest first.
    pub samples: Vec<String>,
    /// Distinct non-empty trace ids of the key's last `max_trace_ids` events in the window, newest
    /// first.
    pub trace_ids: Vec<String>,
    /// Which rule fired: the fixed threshold, or (under it) the key's rate trigger.
    #[serde(default)]
    pub trigger: Trigger,
    /// The key's baseline (expected events per window) when it fired, if a rate trigger is set
    /// and the key has enough history.
    #[serde(default)]
    pub baseline: Option<f64>,
}

/// What a call returned: incidents that became final, and which events of the call were not
/// counted (indices into the batch; a single `push` uses index 0).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// Incidents, ordered by `end_ms`, then key.
    pub incidents: Vec<Incident>,
    /// Events older than the watermark when they arrived.
    pub late: Vec<usize>,
    /// Events further ahead than `max_future_ms`.
    pub rejected: Vec<usize>,
}

/// Counters and sizes, for monitoring.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WindowStats {
    /// On-time events accepted.
    pub events: u64,
    /// Late events (not counted).
    pub late_events: u64,
    /// Events rejected by `max_future_ms` (not counted).
    pub rejected_events: u64,
    /// Keys held now.
    pub live_keys: u64,
    /// Keys evicted because `max_keys` was reached.
    pub evicted_keys: u64,
    /// Events not yet final that were dropped with an evicted key.
    pub evicted_events: u64,
    /// Keys removed because their window emptied (nothing lost).
    pub expired_keys: u64,
    /// Events waiting for the watermark.
    pub pending_events: u64,
    /// Incidents raised.
    pub incidents: u64,
    /// The current watermark, if any.
    pub watermark_ms: Option<i64>,
    /// The largest on-time event time seen, if any.
    pub max_event_time_ms: Option<i64>,
}

pub(super) fn fnv1a(h: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *h ^= u64::from(b);
        *h = h.wrapping_mul(0x0100_0000_01b3);
    }
}

/// The rules `apply` needs, copied out of the aggregator so slots can be borrowed mutably.
pub(super) struct Rules<'a> {
    pub(super) window: i64,
    pub(super) cooldown: i64,
    pub(super) ring_len: usize,
    pub(super) max_samples: usize,
    pub(super) max_trace_ids: usize,
    pub(super) key_fields: &'a [KeyField],
    pub(super) rate: Option<&'a RateTrigger>,
    /// The least count the rate trigger can fire at (`u64::MAX` without one).
    pub(super) rate_floor: u64,
}

/// Applies one key's final events (`group`, sorted by time, ties by text), pushing the incidents
/// that fire. Texts are copied only for the events that end up in the key's ring (at most
/// `ring_len` per call) and for the samples of a firing.
pub(super) fn apply<'t>(
    slot: &mut Slot,
    group: &[Pending],
    text: impl Fn(&Pending) -> (&'t str, &'t str),
    r: &Rules<'_>,
    out: &mut Vec<Incident>,
) {
    // Events of `group` before `keep` can never be samples (see `useful`); `cleared` says the
    // ring's older entries went with them.
    let (mut keep, mut cleared) = (0, false);
    let mut i = 0;
    while i < group.len() {
        let t = group[i].t;
        let mut j = i + 1;
        while j < group.len() && group[j].t == t {
            j += 1;
        }
        let n = (j - i) as u64;
        // In i128: near i64::MIN, `t - window` must not saturate and drop events at i64::MIN.
        let cutoff = i128::from(t) - i128::from(r.window);
        let count = if slot.times.back().is_none_or(|&(b, _)| b <= t) {
            while let Some(&(ft, c)) = slot.times.front() {
                if i128::from(ft) > cutoff {
                    break;
                }
                slot.times.pop_front();
                // A saturated count (only after many merges) is recounted, not decremented.
                slot.count = match slot.count {
                    u64::MAX => window_count(&slot.times),
                    k => k - c,
                };
            }
            match slot.times.back_mut() {
                Some((b, c)) if *b == t => *c = c.saturating_add(n),
                _ => slot.times.push_back((t, n)),
            }
            slot.count = slot.count.saturating_add(n);
            slot.count
        } else {
            // Only after a merge: insert in order and count the window at t.
            let pos = slot.times.partition_point(|&(ft, _)| ft < t);
            match slot.times.get_mut(pos) {
                Some((ft, c)) if *ft == t => *c = c.saturating_add(n),
                _ => slot.times.insert(pos, (t, n)),
            }
            slot.count = slot.count.saturating_add(n);
            window_count(
                slot.times
                    .iter()
                    .filter(|&&(ft, _)| i128::from(ft) > cutoff && ft <= t),
            )
        };
        // An event with count c is among the last `ring_len` events before a firing only if
        // c + ring_len > the least firing count (each later event adds at most one to it). Colder
        // events are never samples; they cut the ring, whose older entries are then too old.
        // The least count that can fire is threshold + 1, or the rate trigger's floor if lower.
        let useful = count.saturating_add(r.ring_len as u64)
            > slot.threshold.saturating_add(1).min(r.rate_floor);
        if r.ring_len > 0 && !useful {
            keep = j;
            cleared = true;
        }
        let over_threshold = count > slot.threshold;
        let (over_rate, baseline) = match r.rate {
            Some(rate) => {
                let st = slot
                    .rate
                    .get_or_insert_with(|| RateState::new(period_of(t, r.window)));
                if st.advance(period_of(t, r.window), rate) {
                    st.count = st.count.saturating_add(n);
                }
                rate.judge(count, st)
            }
            None => (false, None),
        };
        let over = over_threshold || over_rate;
        let cooled = slot
            .last_fire
            .is_none_or(|f| i128::from(t) >= i128::from(f) + i128::from(r.cooldown));
        let fire = over && !slot.last_over && cooled;
        slot.last_over = over;
        if fire {
            slot.last_fire = Some(t);
            let start = slot
                .times
                .iter()
                .find(|&&(ft, _)| i128::from(ft) > cutoff)
                .map_or(t, |&(ft, _)| ft);
            // The ring as it would be after this time's events: newest first, `ring_len` long.
            let recent = group[keep.min(j)..j]
                .iter()
                .rev()
                .map(|p| {
                    let (m, tr) = text(p);
                    (p.t, m, tr)
                })
                .chain(slot.ring.iter().rev().filter(|_| !cleared))
                .take(r.ring_len)
                .filter(|e| i128::from(e.0) > cutoff && e.0 <= t);
            let mut samples: Vec<String> = Vec::new();
            for (_, message, _) in recent.clone().take(r.max_samples) {
                if !samples.iter().any(|s| s == message) {
                    samples.push(message.to_owned());
                }
            }
            let mut trace_ids: Vec<String> = Vec::new();
            for (_, _, trace) in recent.take(r.max_trace_ids) {
                if !trace.is_empty() && !trace_ids.iter().any(|s| s == trace) {
                    trace_ids.push(trace.to_owned());
                }
            }
            let threshold = slot.threshold;
            let (trigger, severity) = if over_threshold {
                (Trigger::Threshold, Severity::of(count, threshold))
            } else {
                // How far over its normal: count against the baseline rounded up (at least 1).
                let normal = baseline.map_or(1, |b| b.max(1.0).ceil() as u64);
                (Trigger::Rate, Severity::of(count, normal))
            };
            out.push(Incident {
                id: incident_id(&slot.key, start, t),
                key: decode_key(r.key_fields, &slot.key),
                start_ms: start,
                end_ms: t,
                count,
                threshold,
                severity,
                samples,
                trace_ids,
                trigger,
                baseline,
            });
        }
        i = j;
    }
    if r.ring_len > 0 {
        if cleared {
            slot.ring.clear();
        }
        for p in &group[keep.max(group.len().saturating_sub(r.ring_len))..] {
            let (m, tr) = text(p);
            slot.ring.push(r.ring_len, p.t, m.as_bytes(), tr.as_bytes());
        }
    }
}

pub(super) fn decode_key(fields: &[KeyField], mut bytes: &[u8]) -> WindowKey {
    let mut k = WindowKey::default();
    for &f in fields {
        let Some((len, rest)) = bytes.split_first_chunk::<8>() else {
            break;
        };
        let len = (u64::from_le_bytes(*len) as usize).min(rest.len());
        let v = String::from_utf8_lossy(&rest[..len]).into_owned();
        bytes = &rest[len..];
        match f {
            KeyField::Service => k.service = Some(v),
            KeyField::Route => k.route = Some(v),
            KeyField::ErrorCode => k.error_code = Some(v),
        }
    }
    k
}

pub(super) fn incident_id(key: &[u8], start: i64, end: i64) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    fnv1a(&mut h, key);
    fnv1a(&mut h, &start.to_le_bytes());
    fnv1a(&mut h, &end.to_le_bytes());
    format!("{h:016x}")
}

/// The events in a key's window (saturating: see `absorb`).
pub(super) fn window_count<'a>(times: impl IntoIterator<Item = &'a (i64, u64)>) -> u64 {
    times
        .into_iter()
        .fold(0u64, |n, &(_, c)| n.saturating_add(c))
}
