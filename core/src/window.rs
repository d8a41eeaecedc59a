//! Sliding-window aggregation over event time, and the incidents it raises.
//!
//! Events are grouped by a key (any non-empty subset of service, route and error code). Exact
//! semantics (also in `docs/window.md`):
//!
//! - **Watermark**: the largest on-time event time seen, minus `allowed_lateness_ms` (or higher, if
//!   [`WindowAggregator::advance`] moved it). An event with time `< watermark` is **late**: it is
//!   not counted, it is reported (its index in [`Outcome::late`]) and counted in
//!   [`WindowStats::late_events`].
//! - **Count**: an on-time event at time `t` has count = number of on-time events of the same key
//!   with time in `(t - window_ms, t]` (events at the same millisecond share one count).
//! - **Firing**: an incident fires at the key's event at time `t` when its count exceeds the key's
//!   threshold and the key's previous event (previous distinct time) was not over it, and no
//!   incident of that key fired within `cooldown_ms` before `t`. A burst fires once and re-arms
//!   after the key has an event that is not over the threshold.
//! - **Emission**: an incident is returned once the watermark passes its time (no on-time event
//!   can change it any more), so the result depends only on the set of on-time events, not on the
//!   order they arrived in.
//!
//! ```
//! use faultlens::window::{Event, WindowAggregator, WindowConfig};
//! let mut w = WindowAggregator::new(WindowConfig {
//!     threshold: 2,
//!     allowed_lateness_ms: Some(1_000),
//!     ..Default::default()
//! })?;
//! for t in [10_000, 10_500, 9_800] { // out of order, within the lateness
//!     w.push(&Event::new(t, "api", "/pay", "E503").message("upstream timeout"));
//! }
//! let incidents = w.flush().incidents;
//! assert_eq!(incidents.len(), 1);
//! assert_eq!((incidents[0].start_ms, incidents[0].end_ms, incidents[0].count), (9_800, 10_500, 3));
//! # Ok::<(), faultlens::Error>(())
//! ```
//!
//! Internals: keys are interned once (length-prefixed bytes → slot); not-yet-final events wait in
//! a min-heap by time with their texts in one arena (no allocation per event); final events are
//! applied per key in time order to a deque of `(time, count)` pairs and a small ring of recent
//! texts in one byte buffer per key.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::models::Artifact;

/// Longest window and lateness accepted: 366 days, far beyond any alerting use, and small
/// enough that time arithmetic can never overflow.
pub const MAX_SPAN_MS: u64 = 366 * 24 * 3600 * 1000;
/// Most sample messages or trace ids an incident may carry.
pub const MAX_SAMPLES: usize = 1000;

/// An event field that can be part of the grouping key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
    fn name(self) -> &'static str {
        match self {
            KeyField::Service => "service",
            KeyField::Route => "route",
            KeyField::ErrorCode => "error_code",
        }
    }
}

/// A grouping key: the fields named in `key_fields` are set, the others are `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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
    fn field(&self, f: KeyField) -> Option<&str> {
        match f {
            KeyField::Service => self.service.as_deref(),
            KeyField::Route => self.route.as_deref(),
            KeyField::ErrorCode => self.error_code.as_deref(),
        }
    }
}

/// A threshold for one key, overriding [`WindowConfig::threshold`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyThreshold {
    /// The key; exactly the fields of `key_fields` must be set.
    pub key: WindowKey,
    /// An incident fires when the count exceeds this (at least 1).
    pub threshold: u64,
}

/// Options of a [`WindowAggregator`]. Every time rule is here, in milliseconds of event time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WindowConfig {
    /// Window length: an event at `t` counts the key's events in `(t - window_ms, t]`.
    /// Default 300000 (5 minutes).
    pub window_ms: u64,
    /// The fields that make the key, a non-empty subset of `service`, `route`, `error_code`
    /// (default all three).
    pub key_fields: Vec<KeyField>,
    /// An incident fires when a count exceeds this (default 10, at least 1).
    pub threshold: u64,
    /// Per-key thresholds overriding `threshold`.
    pub key_thresholds: Vec<KeyThreshold>,
    /// How far behind the largest event time an event may be and still count. Required: there is
    /// no default (0 means events must arrive in time order).
    pub allowed_lateness_ms: Option<u64>,
    /// After an incident of a key at `t`, no incident of that key fires before `t + cooldown_ms`,
    /// even once re-armed (default 0: re-arming alone decides).
    pub cooldown_ms: u64,
    /// Most keys held at once; beyond it the least recently seen key is evicted (default 100000).
    pub max_keys: usize,
    /// Most sample messages per incident (default 5).
    pub max_samples: usize,
    /// Most trace ids per incident (default 10).
    pub max_trace_ids: usize,
    /// When set, an event more than this ahead of the largest event time seen so far is rejected
    /// (reported in [`Outcome::rejected`], not counted), so one bad clock cannot make every later
    /// event late. Default `None`: no limit.
    pub max_future_ms: Option<u64>,
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

    fn field(&self, f: KeyField) -> &'a str {
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    /// `count / threshold` banded.
    pub severity: Severity,
    /// Distinct messages of the key's last `max_samples` events in the window, newest first.
    pub samples: Vec<String>,
    /// Distinct non-empty trace ids of the key's last `max_trace_ids` events in the window, newest
    /// first.
    pub trace_ids: Vec<String>,
}

/// What a call returned: incidents that became final, and which events of the call were not
/// counted (indices into the batch; a single `push` uses index 0).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
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

const NIL: u32 = u32::MAX;

/// A not-yet-final event. Ordered by time first (the heap pops the oldest).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Pending {
    t: i64,
    slot: u32,
    generation: u32,
    off: usize,
    msg_len: usize,
    trace_len: usize,
}

/// A key's most recent events (time, message, trace id), oldest first, with all texts in one byte
/// buffer: hot keys append to memory that stays in cache, and the bytes of dropped entries are
/// reclaimed by an occasional compaction (amortised O(1) per event, no allocation once warm).
#[derive(Clone, Debug, Default)]
struct Ring {
    /// (time, start in `text`, message length, trace id length).
    entries: VecDeque<(i64, usize, usize, usize)>,
    text: Vec<u8>,
}

impl Ring {
    fn clear(&mut self) {
        self.entries.clear();
        self.text.clear();
    }

    fn push(&mut self, cap: usize, t: i64, message: &[u8], trace: &[u8]) {
        if self.entries.len() >= cap {
            self.entries.pop_front();
            let dead = self.entries.front().map_or(self.text.len(), |e| e.1);
            if dead > 1024 && dead * 2 > self.text.len() {
                self.text.drain(..dead);
                for e in &mut self.entries {
                    e.1 -= dead;
                }
            }
        }
        if self.entries.is_empty() {
            self.text.clear();
        }
        let start = self.text.len();
        self.text.extend_from_slice(message);
        self.text.extend_from_slice(trace);
        self.entries
            .push_back((t, start, message.len(), trace.len()));
    }

    /// Oldest first: (time, message, trace id). The bytes came from `&str`s, so they are UTF-8.
    fn iter(&self) -> impl DoubleEndedIterator<Item = (i64, &str, &str)> + '_ {
        self.entries.iter().map(|&(t, start, m, tr)| {
            let text = |a: usize, b: usize| std::str::from_utf8(&self.text[a..b]).unwrap_or("");
            (t, text(start, start + m), text(start + m, start + m + tr))
        })
    }
}

#[derive(Clone, Debug, Default)]
struct Slot {
    live: bool,
    generation: u32,
    key: Box<[u8]>,
    threshold: u64,
    /// Final events in the current window, `(time, how many)`, ascending.
    times: VecDeque<(i64, u64)>,
    count: u64,
    last_over: bool,
    last_fire: Option<i64>,
    ring: Ring,
    pending: u64,
    prev: u32,
    next: u32,
}

/// Keyed sliding-window counts over event time with thresholds; see the module docs for the exact
/// semantics. Saves (snapshot) and loads through the model file ([`Artifact`]).
#[derive(Debug)]
pub struct WindowAggregator {
    config: WindowConfig,
    window: i64,
    lateness: i64,
    ring_len: usize,
    thresholds: FxHashMap<Box<[u8]>, u64>,
    index: FxHashMap<Box<[u8]>, u32>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    head: u32,
    tail: u32,
    heap: BinaryHeap<Reverse<Pending>>,
    arena: String,
    dead: usize,
    watermark: Option<i64>,
    max_seen: Option<i64>,
    last_sweep: Option<i64>,
    stats: WindowStats,
    key_buf: Vec<u8>,
}

fn encode_field(buf: &mut Vec<u8>, v: &str) {
    // Length-prefixed, so no separator character can make two keys collide.
    buf.extend_from_slice(&(v.len() as u64).to_le_bytes());
    buf.extend_from_slice(v.as_bytes());
}

fn fnv1a(h: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *h ^= u64::from(b);
        *h = h.wrapping_mul(0x0100_0000_01b3);
    }
}

impl WindowAggregator {
    /// An empty aggregator; fails with `InvalidConfig` naming the bad field.
    pub fn new(config: WindowConfig) -> Result<Self> {
        config.validate()?;
        let mut w = Self {
            window: config.window_ms as i64,
            lateness: config.allowed_lateness_ms.unwrap_or(0) as i64,
            ring_len: config.max_samples.max(config.max_trace_ids),
            thresholds: FxHashMap::default(),
            index: FxHashMap::default(),
            slots: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
            heap: BinaryHeap::new(),
            arena: String::new(),
            dead: 0,
            watermark: None,
            max_seen: None,
            last_sweep: None,
            stats: WindowStats::default(),
            key_buf: Vec::with_capacity(64),
            config,
        };
        for kt in &w.config.key_thresholds {
            let mut buf = Vec::new();
            for &f in &w.config.key_fields {
                encode_field(&mut buf, kt.key.field(f).unwrap_or(""));
            }
            w.thresholds.insert(buf.into_boxed_slice(), kt.threshold);
        }
        Ok(w)
    }

    /// The configuration.
    pub fn config(&self) -> &WindowConfig {
        &self.config
    }

    /// The current watermark: events older than it are late. `None` before any event or advance.
    pub fn watermark(&self) -> Option<i64> {
        self.watermark
    }

    /// For callers whose events may lack fields (bindings): `InvalidInput` naming event `index`
    /// and the field when it lacks a key field. A missing field that is not a key field reads as "".
    pub fn check_fields(
        &self,
        index: usize,
        service: bool,
        route: bool,
        error_code: bool,
    ) -> Result<()> {
        for (f, present) in [
            (KeyField::Service, service),
            (KeyField::Route, route),
            (KeyField::ErrorCode, error_code),
        ] {
            if !present && self.config.key_fields.contains(&f) {
                return Err(Error::InvalidInput(format!(
                    "event {index} has no `{}`, which is a key field",
                    f.name()
                )));
            }
        }
        Ok(())
    }

    /// Counters and sizes.
    pub fn stats(&self) -> WindowStats {
        WindowStats {
            live_keys: self.index.len() as u64,
            pending_events: self.heap.len() as u64,
            watermark_ms: self.watermark,
            max_event_time_ms: self.max_seen,
            ..self.stats.clone()
        }
    }

    /// Adds one event; returns the incidents that became final (late: `late == [0]`).
    pub fn push(&mut self, event: &Event<'_>) -> Outcome {
        self.push_batch(std::slice::from_ref(event))
    }

    /// Adds events in arrival order (the same as pushing them one by one, except that incidents
    /// are returned once, at the end of the batch).
    pub fn push_batch(&mut self, events: &[Event<'_>]) -> Outcome {
        let mut out = Outcome::default();
        for (i, e) in events.iter().enumerate() {
            let t = e.timestamp_ms;
            if self.watermark.is_some_and(|w| t < w) {
                self.stats.late_events += 1;
                out.late.push(i);
                continue;
            }
            if let (Some(limit), Some(max)) = (self.config.max_future_ms, self.max_seen)
                && t > max.saturating_add(limit as i64)
            {
                self.stats.rejected_events += 1;
                out.rejected.push(i);
                continue;
            }
            if self.max_seen.is_none_or(|m| t > m) {
                self.max_seen = Some(t);
                let w = t.saturating_sub(self.lateness);
                if self.watermark.is_none_or(|old| w > old) {
                    self.watermark = Some(w);
                }
            }
            self.accept(e);
        }
        out.incidents = self.drain();
        out
    }

    /// Moves the watermark up to `watermark_ms` (never down) and returns the incidents that became
    /// final. Use it when event time moves without events (an idle partition, a wall clock).
    pub fn advance(&mut self, watermark_ms: i64) -> Outcome {
        if self.watermark.is_none_or(|w| watermark_ms > w) {
            self.watermark = Some(watermark_ms);
        }
        Outcome {
            incidents: self.drain(),
            ..Default::default()
        }
    }

    /// Makes every pending event final (the watermark moves just past the largest event time, so
    /// later events at or before it are late) and returns the resulting incidents.
    pub fn flush(&mut self) -> Outcome {
        match self.max_seen {
            Some(m) => self.advance(m.saturating_add(1)),
            None => Outcome::default(),
        }
    }

    /// Takes over the state of `other` (same config), as a consumer does when a partition moves
    /// to it: keys, windows, pending events, counters; the watermark becomes the larger of the
    /// two. Exact when the two hold disjoint keys (keyed partitioning); a key held by both gets
    /// the union of its events, and counts as over its threshold if it was in either.
    /// Returns incidents that became final under the new watermark.
    pub fn merge(&mut self, other: &WindowAggregator) -> Result<Outcome> {
        if other.config != self.config {
            return Err(Error::InvalidInput(
                "cannot merge window aggregators with different configs".into(),
            ));
        }
        let state = other.to_state();
        self.absorb(state);
        Ok(Outcome {
            incidents: self.drain(),
            ..Default::default()
        })
    }

    fn accept(&mut self, e: &Event<'_>) {
        let mut buf = std::mem::take(&mut self.key_buf);
        buf.clear();
        for &f in &self.config.key_fields {
            encode_field(&mut buf, e.field(f));
        }
        let slot = self.slot_for(&buf);
        self.key_buf = buf;
        self.queue(slot, e);
        self.stats.events += 1;
    }

    /// The slot of an encoded key, created (evicting the least recently seen key when full) if
    /// needed, and marked most recently seen.
    fn slot_for(&mut self, key: &[u8]) -> u32 {
        if let Some(&s) = self.index.get(key) {
            self.touch(s);
            return s;
        }
        if self.index.len() >= self.config.max_keys {
            let victim = self.tail;
            self.stats.evicted_keys += 1;
            self.stats.evicted_events += self.slots[victim as usize].pending;
            self.remove(victim);
        }
        let threshold = self
            .thresholds
            .get(key)
            .copied()
            .unwrap_or(self.config.threshold);
        let s = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(Slot::default());
                (self.slots.len() - 1) as u32
            }
        };
        let slot = &mut self.slots[s as usize];
        slot.live = true;
        slot.key = key.into();
        slot.threshold = threshold;
        slot.prev = NIL;
        slot.next = NIL;
        self.index.insert(key.into(), s);
        self.link_front(s);
        s
    }

    fn unlink(&mut self, s: u32) {
        let (prev, next) = {
            let x = &self.slots[s as usize];
            (x.prev, x.next)
        };
        if prev == NIL {
            self.head = next;
        } else {
            self.slots[prev as usize].next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.slots[next as usize].prev = prev;
        }
    }

    fn link_front(&mut self, s: u32) {
        let old = self.head;
        {
            let x = &mut self.slots[s as usize];
            x.prev = NIL;
            x.next = old;
        }
        if old == NIL {
            self.tail = s;
        } else {
            self.slots[old as usize].prev = s;
        }
        self.head = s;
    }

    fn touch(&mut self, s: u32) {
        if self.head != s {
            self.unlink(s);
            self.link_front(s);
        }
    }

    /// Frees a slot; its pending events stay in the heap and are skipped (generation changed).
    fn remove(&mut self, s: u32) {
        self.unlink(s);
        let slot = &mut self.slots[s as usize];
        let key = std::mem::take(&mut slot.key);
        self.index.remove(&key);
        let generation = slot.generation.wrapping_add(1);
        *slot = Slot {
            generation,
            ..Slot::default()
        };
        self.free.push(s);
    }

    fn text(&self, p: &Pending) -> (&str, &str) {
        let m = p.off + p.msg_len;
        (&self.arena[p.off..m], &self.arena[m..m + p.trace_len])
    }

    /// Applies every pending event older than the watermark, per key in time order.
    fn drain(&mut self) -> Vec<Incident> {
        let Some(wm) = self.watermark else {
            return Vec::new();
        };
        let mut batch = Vec::new();
        while let Some(Reverse(p)) = self.heap.peek() {
            if p.t >= wm {
                break;
            }
            batch.push(*p);
            self.heap.pop();
        }
        if batch.is_empty() {
            return Vec::new();
        }
        // The heap pops in (time, key) order, so each key sees its events in time order and the
        // events of one key at one time are adjacent; only those ties need sorting, by (message,
        // trace id), so samples never depend on arrival order.
        let same =
            |a: &Pending, b: &Pending| (a.t, a.slot, a.generation) == (b.t, b.slot, b.generation);
        let mut i = 0;
        while i < batch.len() {
            let mut j = i + 1;
            while j < batch.len() && same(&batch[i], &batch[j]) {
                j += 1;
            }
            if j - i > 1 {
                let (arena, run) = (&self.arena, &mut batch[i..j]);
                let text = |p: &Pending| {
                    let m = p.off + p.msg_len;
                    (&arena[p.off..m], &arena[m..m + p.trace_len])
                };
                run.sort_by(|a, b| text(a).cmp(&text(b)));
            }
            i = j;
        }
        let mut incidents = Vec::new();
        let mut i = 0;
        while i < batch.len() {
            let p = batch[i];
            let mut j = i + 1;
            while j < batch.len() && same(&p, &batch[j]) {
                j += 1;
            }
            let live = {
                let s = &self.slots[p.slot as usize];
                s.live && s.generation == p.generation
            };
            if live && let Some(inc) = self.apply(&batch[i..j]) {
                incidents.push(inc);
            }
            self.dead += batch[i..j]
                .iter()
                .map(|p| p.msg_len + p.trace_len)
                .sum::<usize>();
            i = j;
        }
        self.stats.incidents += incidents.len() as u64;
        incidents.sort_by(|a, b| (a.end_ms, &a.key).cmp(&(b.end_ms, &b.key)));
        self.compact();
        self.sweep(wm);
        incidents
    }

    /// Applies the events of one key at one time (`run`, sorted); returns an incident if it fires.
    fn apply(&mut self, run: &[Pending]) -> Option<Incident> {
        let t = run[0].t;
        let n = run.len() as u64;
        let (window, cooldown, ring_len) =
            (self.window, self.config.cooldown_ms as i64, self.ring_len);
        let slot = &mut self.slots[run[0].slot as usize];
        slot.pending -= n;
        // In i128: near i64::MIN, `t - window` must not saturate and drop events at i64::MIN.
        let cutoff = i128::from(t) - i128::from(window);
        let count = if slot.times.back().is_none_or(|&(b, _)| b <= t) {
            while let Some(&(ft, c)) = slot.times.front() {
                if i128::from(ft) > cutoff {
                    break;
                }
                slot.times.pop_front();
                slot.count -= c;
            }
            match slot.times.back_mut() {
                Some((b, c)) if *b == t => *c += n,
                _ => slot.times.push_back((t, n)),
            }
            slot.count += n;
            slot.count
        } else {
            // Only after a merge of overlapping keys: insert in order and count the window at t.
            let pos = slot.times.partition_point(|&(ft, _)| ft < t);
            match slot.times.get_mut(pos) {
                Some((ft, c)) if *ft == t => *c += n,
                _ => slot.times.insert(pos, (t, n)),
            }
            slot.count += n;
            slot.times
                .iter()
                .filter(|&&(ft, _)| i128::from(ft) > cutoff && ft <= t)
                .map(|&(_, c)| c)
                .sum()
        };
        // An event with count c is among the last `ring_len` events before a firing only if
        // c + ring_len > threshold + 1 (each later event adds at most one to the count). Colder
        // events are not copied; they only cut the ring, whose older entries are then too old.
        let useful = count.saturating_add(ring_len as u64) > slot.threshold.saturating_add(1);
        if ring_len > 0 && !useful {
            slot.ring.clear();
        } else if ring_len > 0 {
            let arena = self.arena.as_bytes();
            for p in run {
                let m = p.off + p.msg_len;
                slot.ring
                    .push(ring_len, t, &arena[p.off..m], &arena[m..m + p.trace_len]);
            }
        }
        let over = count > slot.threshold;
        let cooled = slot
            .last_fire
            .is_none_or(|f| i128::from(t) >= i128::from(f) + i128::from(cooldown));
        let fire = over && !slot.last_over && cooled;
        slot.last_over = over;
        if !fire {
            return None;
        }
        slot.last_fire = Some(t);
        let start = slot
            .times
            .iter()
            .find(|&&(ft, _)| i128::from(ft) > cutoff)
            .map_or(t, |&(ft, _)| ft);
        let in_window = |e: &(i64, &str, &str)| i128::from(e.0) > cutoff && e.0 <= t;
        let mut samples: Vec<String> = Vec::new();
        for (_, message, _) in slot
            .ring
            .iter()
            .rev()
            .filter(in_window)
            .take(self.config.max_samples)
        {
            if !samples.iter().any(|s| s == message) {
                samples.push(message.to_owned());
            }
        }
        let mut trace_ids: Vec<String> = Vec::new();
        for (_, _, trace) in slot
            .ring
            .iter()
            .rev()
            .filter(in_window)
            .take(self.config.max_trace_ids)
        {
            if !trace.is_empty() && !trace_ids.iter().any(|s| s == trace) {
                trace_ids.push(trace.to_owned());
            }
        }
        let threshold = slot.threshold;
        let key = decode_key(&self.config.key_fields, &slot.key);
        Some(Incident {
            id: incident_id(&slot.key, start, t),
            key,
            start_ms: start,
            end_ms: t,
            count,
            threshold,
            severity: Severity::of(count, threshold),
            samples,
            trace_ids,
        })
    }

    /// Rewrites the text arena once more than half of it belongs to final events.
    fn compact(&mut self) {
        if self.heap.is_empty() {
            self.arena.clear();
            self.dead = 0;
            return;
        }
        if self.dead < (1 << 20) || self.dead * 2 < self.arena.len() {
            return;
        }
        let mut items = std::mem::take(&mut self.heap).into_vec();
        let mut arena = String::with_capacity(self.arena.len() - self.dead);
        for Reverse(p) in &mut items {
            let end = p.off + p.msg_len + p.trace_len;
            let off = arena.len();
            arena.push_str(&self.arena[p.off..end]);
            p.off = off;
        }
        self.arena = arena;
        self.dead = 0;
        self.heap = BinaryHeap::from(items);
    }

    /// Removes keys whose window is empty and that hold nothing that matters any more (no pending
    /// events, not over the threshold, no cooldown running). Runs once per window of event time.
    fn sweep(&mut self, wm: i64) {
        if self
            .last_sweep
            .is_some_and(|s| wm < s.saturating_add(self.window))
        {
            return;
        }
        self.last_sweep = Some(wm);
        let horizon = i128::from(wm) - i128::from(self.window);
        let cooldown = i128::from(self.config.cooldown_ms);
        let dead: Vec<u32> = (0..self.slots.len() as u32)
            .filter(|&s| {
                let x = &self.slots[s as usize];
                x.live
                    && x.pending == 0
                    && !x.last_over
                    && x.times
                        .back()
                        .is_none_or(|&(b, _)| i128::from(b) <= horizon)
                    && x.last_fire
                        .is_none_or(|f| i128::from(f) + cooldown <= i128::from(wm))
            })
            .collect();
        self.stats.expired_keys += dead.len() as u64;
        for s in dead {
            self.remove(s);
        }
    }

    fn to_state(&self) -> WindowState {
        let mut keys = Vec::with_capacity(self.index.len());
        // Least recently seen first, so a restore rebuilds the same eviction order.
        let mut s = self.tail;
        while s != NIL {
            let x = &self.slots[s as usize];
            keys.push(KeyState {
                key: decode_key(&self.config.key_fields, &x.key),
                times: x.times.iter().copied().collect(),
                last_over: x.last_over,
                last_fire: x.last_fire,
                recent: x
                    .ring
                    .iter()
                    .map(|(t, m, tr)| (t, m.to_owned(), tr.to_owned()))
                    .collect(),
            });
            s = x.prev;
        }
        let mut pending: Vec<PendingState> = self
            .heap
            .iter()
            .filter(|Reverse(p)| {
                let x = &self.slots[p.slot as usize];
                x.live && x.generation == p.generation
            })
            .map(|Reverse(p)| {
                let (m, tr) = self.text(p);
                PendingState {
                    t: p.t,
                    key: decode_key(&self.config.key_fields, &self.slots[p.slot as usize].key),
                    message: m.to_owned(),
                    trace_id: tr.to_owned(),
                }
            })
            .collect();
        pending.sort_by(|a, b| {
            (a.t, &a.key, &a.message, &a.trace_id).cmp(&(b.t, &b.key, &b.message, &b.trace_id))
        });
        WindowState {
            config: self.config.clone(),
            watermark: self.watermark,
            max_seen: self.max_seen,
            last_sweep: self.last_sweep,
            stats: WindowStats {
                live_keys: 0,
                pending_events: 0,
                watermark_ms: None,
                max_event_time_ms: None,
                ..self.stats.clone()
            },
            keys,
            pending,
        }
    }

    /// Adds a saved or another aggregator's state to this one (restore and merge).
    fn absorb(&mut self, st: WindowState) {
        let max_opt = |a: Option<i64>, b: Option<i64>| a.max(b);
        self.watermark = max_opt(self.watermark, st.watermark);
        self.max_seen = max_opt(self.max_seen, st.max_seen);
        self.last_sweep = max_opt(self.last_sweep, st.last_sweep);
        let s = &mut self.stats;
        s.events += st.stats.events;
        s.late_events += st.stats.late_events;
        s.rejected_events += st.stats.rejected_events;
        s.evicted_keys += st.stats.evicted_keys;
        s.evicted_events += st.stats.evicted_events;
        s.expired_keys += st.stats.expired_keys;
        s.incidents += st.stats.incidents;
        let mut buf = Vec::new();
        for k in st.keys {
            self.encode_key(&k.key, &mut buf);
            let slot = self.slot_for(&buf);
            let ring_len = self.ring_len;
            let x = &mut self.slots[slot as usize];
            let fresh = x.times.is_empty() && x.ring.entries.is_empty() && x.last_fire.is_none();
            if fresh {
                x.times = k.times.into_iter().collect();
            } else {
                let mut all: Vec<(i64, u64)> = x.times.drain(..).chain(k.times).collect();
                all.sort_unstable();
                for (t, c) in all {
                    match x.times.back_mut() {
                        Some((b, n)) if *b == t => *n += c,
                        _ => x.times.push_back((t, c)),
                    }
                }
            }
            x.count = x.times.iter().map(|&(_, c)| c).sum();
            x.last_over |= k.last_over;
            x.last_fire = x.last_fire.max(k.last_fire);
            let mut recent: Vec<(i64, String, String)> = x
                .ring
                .iter()
                .map(|(t, m, tr)| (t, m.to_owned(), tr.to_owned()))
                .chain(k.recent)
                .collect();
            recent.sort_by_key(|e| e.0);
            let skip = recent.len().saturating_sub(ring_len);
            x.ring.clear();
            for (t, m, tr) in recent.into_iter().skip(skip) {
                x.ring.push(ring_len, t, m.as_bytes(), tr.as_bytes());
            }
        }
        for p in st.pending {
            self.encode_key(&p.key, &mut buf);
            let e = Event {
                timestamp_ms: p.t,
                message: &p.message,
                trace_id: &p.trace_id,
                ..Default::default()
            };
            // Keys were linked in recency order above; looking them up again must not reorder.
            let slot = match self.index.get(buf.as_slice()) {
                Some(&s) => s,
                None => self.slot_for(&buf),
            };
            self.queue(slot, &e);
        }
    }

    fn queue(&mut self, slot: u32, e: &Event<'_>) {
        let off = self.arena.len();
        self.arena.push_str(e.message);
        self.arena.push_str(e.trace_id);
        let s = &mut self.slots[slot as usize];
        s.pending += 1;
        self.heap.push(Reverse(Pending {
            t: e.timestamp_ms,
            slot,
            generation: s.generation,
            off,
            msg_len: e.message.len(),
            trace_len: e.trace_id.len(),
        }));
    }

    fn encode_key(&self, key: &WindowKey, buf: &mut Vec<u8>) {
        buf.clear();
        for &f in &self.config.key_fields {
            encode_field(buf, key.field(f).unwrap_or(""));
        }
    }
}

fn decode_key(fields: &[KeyField], mut bytes: &[u8]) -> WindowKey {
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

fn incident_id(key: &[u8], start: i64, end: i64) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    fnv1a(&mut h, key);
    fnv1a(&mut h, &start.to_le_bytes());
    fnv1a(&mut h, &end.to_le_bytes());
    format!("{h:016x}")
}

/// The saved form of an aggregator (its model-file payload).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WindowState {
    config: WindowConfig,
    watermark: Option<i64>,
    max_seen: Option<i64>,
    #[serde(default)]
    last_sweep: Option<i64>,
    stats: WindowStats,
    keys: Vec<KeyState>,
    pending: Vec<PendingState>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyState {
    key: WindowKey,
    times: Vec<(i64, u64)>,
    last_over: bool,
    last_fire: Option<i64>,
    recent: Vec<(i64, String, String)>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PendingState {
    t: i64,
    key: WindowKey,
    message: String,
    trace_id: String,
}

impl WindowState {
    /// A loaded state must describe keys of its own config, in time order.
    fn check(&self) -> Result<()> {
        for k in self
            .keys
            .iter()
            .map(|k| &k.key)
            .chain(self.pending.iter().map(|p| &p.key))
        {
            for f in [KeyField::Service, KeyField::Route, KeyField::ErrorCode] {
                if self.config.key_fields.contains(&f) != k.field(f).is_some() {
                    return Err(Error::Corrupt(format!(
                        "window state holds a key whose `{}` does not match key_fields",
                        f.name()
                    )));
                }
            }
        }
        for k in &self.keys {
            if k.times.windows(2).any(|w| w[0].0 >= w[1].0) {
                return Err(Error::Corrupt(
                    "window state holds event times out of order".into(),
                ));
            }
        }
        Ok(())
    }
}

impl Serialize for WindowAggregator {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.to_state().serialize(s)
    }
}

impl<'de> Deserialize<'de> for WindowAggregator {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let st = WindowState::deserialize(d)?;
        st.check().map_err(D::Error::custom)?;
        let mut w = WindowAggregator::new(st.config.clone()).map_err(D::Error::custom)?;
        w.absorb(st);
        Ok(w)
    }
}

impl Artifact for WindowAggregator {
    const KIND: &'static str = "window_aggregator";
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(threshold: u64, window_ms: u64, lateness: u64) -> WindowConfig {
        WindowConfig {
            threshold,
            window_ms,
            allowed_lateness_ms: Some(lateness),
            ..Default::default()
        }
    }

    fn ev(t: i64) -> Event<'static> {
        Event::new(t, "api", "/pay", "E1").message("boom")
    }

    #[test]
    fn config_errors_name_the_field() {
        let field = |c: WindowConfig| match WindowConfig::validate(&c) {
            Err(Error::InvalidConfig { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(WindowConfig::default()), "allowed_lateness_ms");
        assert_eq!(field(cfg(0, 10, 0)), "threshold");
        assert_eq!(field(cfg(1, 0, 0)), "window_ms");
        let mut c = cfg(1, 10, 0);
        c.key_fields = vec![];
        assert_eq!(field(c.clone()), "key_fields");
        c.key_fields = vec![KeyField::Route, KeyField::Route];
        assert_eq!(field(c.clone()), "key_fields");
        c.key_fields = vec![KeyField::Route];
        c.key_thresholds = vec![KeyThreshold {
            key: WindowKey {
                service: Some("a".into()),
                ..Default::default()
            },
            threshold: 3,
        }];
        assert_eq!(field(c), "key_thresholds");
        let json = r#"{"allowed_lateness_ms": 5, "window": 3}"#;
        assert!(serde_json::from_str::<WindowConfig>(json).is_err());
    }

    #[test]
    fn burst_fires_once_and_rearms() {
        let mut w = WindowAggregator::new(cfg(2, 100, 0)).unwrap();
        let mut got = Vec::new();
        for t in [0, 10, 20, 30, 40, 500, 510, 520] {
            got.extend(w.push(&ev(t)).incidents);
        }
        got.extend(w.flush().incidents);
        let ends: Vec<i64> = got.iter().map(|i| i.end_ms).collect();
        assert_eq!(ends, vec![20, 520]);
        assert_eq!(got[0].start_ms, 0);
        assert_eq!(got[0].count, 3);
        assert_eq!(got[0].samples, vec!["boom".to_string()]);
        assert_eq!(w.stats().incidents, 2);
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        let a = incident_id(b"k", 1, 2);
        assert_eq!(a.len(), 16);
        assert_eq!(a, incident_id(b"k", 1, 2));
        assert_ne!(a, incident_id(b"k", 1, 3));
    }

    #[test]
    fn severity_bands() {
        assert_eq!(Severity::of(11, 10), Severity::Low);
        assert_eq!(Severity::of(20, 10), Severity::Medium);
        assert_eq!(Severity::of(50, 10), Severity::High);
        assert_eq!(Severity::of(100, 10), Severity::Critical);
    }
}
