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
//! Internals: a key is hashed once per event and compared in place (within a call, the very same
//! string slices hit a small address cache first); not-yet-final events wait as 16-byte entries
//! in a few runs sorted by time, and only those that outlive their call get their texts copied
//! (into one arena). Final events are sorted by (key, time) and applied per key in one go to a
//! deque of `(time, count)` pairs and a small ring of recent texts, copying texts only for the
//! ring's tail and a firing's samples.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::models::Artifact;

mod group;
pub use group::{GroupConfig, group_incidents};

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
/// `Pending::text` with this bit set indexes the current call's events (their strings are used
/// in place); without it, it indexes `WindowAggregator::texts` (copied into the arena).
const IN_BATCH: u32 = 1 << 31;
/// Longest slice of events handled in one pass (batch indices must stay below `IN_BATCH`).
const MAX_PASS: usize = 1 << 30;

/// A not-yet-final event, 16 bytes: sorting and merging them is cheap.
#[derive(Clone, Copy, Debug)]
struct Pending {
    t: i64,
    slot: u32,
    text: u32,
}

/// Pending events sorted by time; `v[..head]` were already made final.
#[derive(Clone, Debug, Default)]
struct Run {
    v: Vec<Pending>,
    head: usize,
}

impl Run {
    fn live(&self) -> &[Pending] {
        &self.v[self.head..]
    }
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
    fn iter(&self) -> impl DoubleEndedIterator<Item = (i64, &str, &str)> + Clone + '_ {
        self.entries.iter().map(|&(t, start, m, tr)| {
            let text = |a: usize, b: usize| std::str::from_utf8(&self.text[a..b]).unwrap_or("");
            (t, text(start, start + m), text(start + m, start + m + tr))
        })
    }
}

/// See `WindowAggregator::cache`: the key fields' (address, length) packed as `address << 16 |
/// length` (see `pack`), the slot, and the low 32 bits of the epoch it was stored in. 32 bytes,
/// so the whole cache (256 KB) stays in the L2 cache.
#[derive(Clone, Copy, Debug, Default)]
struct CacheEntry {
    fields: [u64; 3],
    slot: u32,
    epoch: u32,
}

const CACHE_BITS: u32 = 13;

/// A string's (address, length) as one word, when it fits (addresses below 2^48, the user space
/// of every 64-bit platform we build for, and lengths below 2^16); `None` skips the cache.
fn pack(v: &str) -> Option<u64> {
    let (a, n) = (v.as_ptr() as usize as u64, v.len() as u64);
    (a < 1 << 48 && n < 1 << 16).then_some(a << 16 | n)
}

fn cache_index(at: &[u64; 3]) -> usize {
    let h = at[0] ^ at[1].rotate_left(21) ^ at[2].rotate_left(42);
    (h.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - CACHE_BITS)) as usize
}

/// Per-slot fields the push path updates for every event, kept apart from the large `Slot` so an
/// event whose key is in the address cache touches 16 bytes of a dense array, not a slot.
#[derive(Clone, Copy, Debug, Default)]
struct Meta {
    /// Arrival stamp of the key's latest event (least recently seen = smallest; 0 = not live).
    seen: u64,
    /// Events of the key not yet final.
    pending: u64,
}

/// Longest inline key copy in a `KeyEntry` (each field as a 1-byte length and its bytes).
const INLINE: usize = 51;
/// `KeyEntry::len` of a key too long to be inline (compared with the slot's key instead).
const LONG: u8 = u8::MAX;

/// One cache line of the key table: the key's hash, its slot and, when short enough, a copy of
/// its fields, so finding a key usually reads this line and nothing else.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
struct KeyEntry {
    hash: u64,
    /// `NIL` = empty.
    slot: u32,
    /// Bytes used in `inline`, or `LONG`.
    len: u8,
    inline: [u8; INLINE],
}

const EMPTY: KeyEntry = KeyEntry {
    hash: 0,
    slot: NIL,
    len: 0,
    inline: [0; INLINE],
};

/// Open addressing with linear probing over `KeyEntry` lines (load at most 3/4; removal shifts
/// later entries back, so there are no tombstones). Every live key is in it exactly once.
#[derive(Clone, Debug, Default)]
struct KeyTable {
    entries: Vec<KeyEntry>,
    len: usize,
    shift: u32,
}

impl KeyTable {
    fn home(&self, h: u64) -> usize {
        ((h ^ (h >> 29)).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> self.shift) as usize
    }

    fn prefetch(&self, h: u64) {
        if !self.entries.is_empty() {
            prefetch(&self.entries[self.home(h)]);
        }
    }

    fn find<'a>(
        &self,
        h: u64,
        fields: impl Iterator<Item = &'a [u8]> + Clone,
        slots: &[Slot],
    ) -> Option<u32> {
        if self.entries.is_empty() {
            return None;
        }
        let mask = self.entries.len() - 1;
        let mut i = self.home(h);
        loop {
            let e = &self.entries[i];
            if e.slot == NIL {
                return None;
            }
            if e.hash == h {
                let same = if e.len == LONG {
                    key_matches(&slots[e.slot as usize].key, fields.clone())
                } else {
                    inline_matches(&e.inline[..e.len as usize], fields.clone())
                };
                if same {
                    return Some(e.slot);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// Adds a key known to be absent (`key` encoded as in `Slot::key`).
    fn insert(&mut self, h: u64, slot: u32, key: &[u8]) {
        if (self.len + 1) * 4 > self.entries.len() * 3 {
            let cap = (self.entries.len() * 2).max(64);
            let old = std::mem::replace(&mut self.entries, vec![EMPTY; cap]);
            self.shift = 64 - cap.trailing_zeros();
            for e in old.into_iter().filter(|e| e.slot != NIL) {
                let i = self.free_at(e.hash);
                self.entries[i] = e;
            }
        }
        let mut e = KeyEntry {
            hash: h,
            slot,
            len: LONG,
            inline: [0; INLINE],
        };
        let mut n = 0;
        let fits = encoded_fields(key).all(|f| {
            let end = n + 1 + f.len();
            if f.len() >= usize::from(LONG) || end > INLINE {
                return false;
            }
            e.inline[n] = f.len() as u8;
            e.inline[n + 1..end].copy_from_slice(f);
            n = end;
            true
        });
        if fits {
            e.len = n as u8;
        }
        let i = self.free_at(h);
        self.entries[i] = e;
        self.len += 1;
    }

    fn free_at(&self, h: u64) -> usize {
        let mask = self.entries.len() - 1;
        let mut i = self.home(h);
        while self.entries[i].slot != NIL {
            i = (i + 1) & mask;
        }
        i
    }

    fn remove(&mut self, h: u64, slot: u32) {
        if self.entries.is_empty() {
            return;
        }
        let mask = self.entries.len() - 1;
        let mut i = self.home(h);
        loop {
            match self.entries[i].slot {
                NIL => return,
                s if s == slot => break,
                _ => i = (i + 1) & mask,
            }
        }
        self.len -= 1;
        // Backward shift: move up every later entry of the cluster whose home is not in (i, j].
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let e = self.entries[j];
            if e.slot == NIL {
                break;
            }
            let home = self.home(e.hash);
            let stays = if i <= j {
                i < home && home <= j
            } else {
                i < home || home <= j
            };
            if !stays {
                self.entries[i] = e;
                i = j;
            }
        }
        self.entries[i] = EMPTY;
    }
}

/// Asks the CPU to start loading the cache line at `p`: the push and apply loops are bound by
/// memory latency, so they request what an event a few places ahead will need.
#[inline(always)]
fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint; it never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// How many events ahead the push loop prefetches.
const AHEAD: usize = 16;

/// Whether inline key bytes hold exactly these fields.
fn inline_matches<'a>(mut b: &[u8], fields: impl Iterator<Item = &'a [u8]>) -> bool {
    for f in fields {
        let Some((&n, rest)) = b.split_first() else {
            return false;
        };
        if usize::from(n) != f.len() || !rest.starts_with(f) {
            return false;
        }
        b = &rest[f.len()..];
    }
    b.is_empty()
}

#[derive(Clone, Debug, Default)]
struct Slot {
    /// Holds a key. A slot that is neither live nor on the free list was evicted while events of
    /// it were pending: those are skipped as they become final, and the last one frees the slot.
    live: bool,
    hash: u64,
    key: Box<[u8]>,
    threshold: u64,
    /// Final events in the current window, `(time, how many)`, ascending.
    times: VecDeque<(i64, u64)>,
    count: u64,
    last_over: bool,
    last_fire: Option<i64>,
    ring: Ring,
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
    /// Every live key's slot, found by hash and fields.
    keys: KeyTable,
    live_keys: usize,
    slots: Vec<Slot>,
    /// `meta[s]` goes with `slots[s]`.
    meta: Vec<Meta>,
    free: Vec<u32>,
    /// Arrival stamps: `lru` holds `(stamp, slot)` in stamp order; an entry is current when the
    /// slot's `seen` still equals it (older ones are skipped and compacted away), so marking a key
    /// seen never touches another key's state. The queue is kept only while at least half of
    /// `max_keys` are live (`lru_on`); below that, eviction is far off and the stamps suffice to
    /// rebuild it.
    seq: u64,
    lru: VecDeque<(u64, u32)>,
    lru_on: bool,
    /// Within one call, the caller's strings cannot change, so events whose key fields are the
    /// very same slices (same address and length) have the same key: a small direct-mapped cache
    /// skips hashing and comparing them. `epoch` changes at every call and key removal, which
    /// invalidates every entry at once.
    cache: Vec<CacheEntry>,
    epoch: u64,
    /// Pending events as a few sorted runs (sizes at least halve from one run to the next, so
    /// each event is merged O(log n) times at most).
    runs: Vec<Run>,
    pending: usize,
    /// Texts of pending events that outlived their call: `(offset, message len, trace len)`.
    arena: String,
    texts: Vec<(usize, usize, usize)>,
    fresh: Vec<Pending>,
    fin: Vec<Pending>,
    /// Where each key's events start in `fin` (in `apply_final`).
    groups: Vec<usize>,
    spare: Vec<Vec<Pending>>,
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

/// The fields of an encoded key.
fn encoded_fields(mut bytes: &[u8]) -> impl Iterator<Item = &[u8]> + Clone {
    std::iter::from_fn(move || {
        let (len, rest) = bytes.split_first_chunk::<8>()?;
        let len = (u64::from_le_bytes(*len) as usize).min(rest.len());
        let (v, rest) = rest.split_at(len);
        bytes = rest;
        Some(v)
    })
}

fn hash_fields<'a>(fields: impl Iterator<Item = &'a [u8]>) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    for f in fields {
        h.write(f);
        h.write_usize(f.len());
    }
    h.finish()
}

/// Whether an encoded key holds exactly these fields (no encoding of the candidate needed).
fn key_matches<'a>(mut enc: &[u8], fields: impl Iterator<Item = &'a [u8]>) -> bool {
    for f in fields {
        let Some((len, rest)) = enc.split_first_chunk::<8>() else {
            return false;
        };
        if u64::from_le_bytes(*len) != f.len() as u64 || !rest.starts_with(f) {
            return false;
        }
        enc = &rest[f.len()..];
    }
    enc.is_empty()
}

fn fnv1a(h: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *h ^= u64::from(b);
        *h = h.wrapping_mul(0x0100_0000_01b3);
    }
}

/// The message and trace id of a pending event.
fn text_of<'a>(
    events: &'a [Event<'a>],
    arena: &'a str,
    texts: &'a [(usize, usize, usize)],
    p: &Pending,
) -> (&'a str, &'a str) {
    if p.text & IN_BATCH != 0 {
        let e = &events[(p.text & !IN_BATCH) as usize];
        (e.message, e.trace_id)
    } else {
        let (o, m, tr) = texts[p.text as usize];
        (&arena[o..o + m], &arena[o + m..o + m + tr])
    }
}

/// The rules `apply` needs, copied out of the aggregator so slots can be borrowed mutably.
struct Rules<'a> {
    window: i64,
    cooldown: i64,
    ring_len: usize,
    max_samples: usize,
    max_trace_ids: usize,
    key_fields: &'a [KeyField],
}

/// Applies one key's final events (`group`, sorted by time, ties by text), pushing the incidents
/// that fire. Texts are copied only for the events that end up in the key's ring (at most
/// `ring_len` per call) and for the samples of a firing.
fn apply<'t>(
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
        // c + ring_len > threshold + 1 (each later event adds at most one to the count). Colder
        // events are never samples; they cut the ring, whose older entries are then too old.
        let useful = count.saturating_add(r.ring_len as u64) > slot.threshold.saturating_add(1);
        if r.ring_len > 0 && !useful {
            keep = j;
            cleared = true;
        }
        let over = count > slot.threshold;
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
            out.push(Incident {
                id: incident_id(&slot.key, start, t),
                key: decode_key(r.key_fields, &slot.key),
                start_ms: start,
                end_ms: t,
                count,
                threshold,
                severity: Severity::of(count, threshold),
                samples,
                trace_ids,
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

impl WindowAggregator {
    /// An empty aggregator; fails with `InvalidConfig` naming the bad field.
    pub fn new(config: WindowConfig) -> Result<Self> {
        config.validate()?;
        let mut w = Self {
            window: config.window_ms as i64,
            lateness: config.allowed_lateness_ms.unwrap_or(0) as i64,
            ring_len: config.max_samples.max(config.max_trace_ids),
            thresholds: FxHashMap::default(),
            keys: KeyTable::default(),
            live_keys: 0,
            slots: Vec::new(),
            meta: Vec::new(),
            free: Vec::new(),
            seq: 0,
            lru: VecDeque::new(),
            lru_on: false,
            cache: Vec::new(),
            epoch: 0,
            runs: Vec::new(),
            pending: 0,
            arena: String::new(),
            texts: Vec::new(),
            fresh: Vec::new(),
            fin: Vec::new(),
            groups: Vec::new(),
            spare: Vec::new(),
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
            live_keys: self.live_keys as u64,
            pending_events: self.pending as u64,
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
        if events.len() > MAX_PASS {
            let mut out = Outcome::default();
            for (c, chunk) in events.chunks(MAX_PASS).enumerate() {
                let o = self.push_batch(chunk);
                out.incidents.extend(o.incidents);
                out.late.extend(o.late.iter().map(|i| i + c * MAX_PASS));
                out.rejected
                    .extend(o.rejected.iter().map(|i| i + c * MAX_PASS));
            }
            out.incidents
                .sort_by(|a, b| (a.end_ms, &a.key).cmp(&(b.end_ms, &b.key)));
            return out;
        }
        let mut out = Outcome::default();
        self.bump_epoch(); // the cache holds addresses of the previous call's strings
        let mut fresh = std::mem::take(&mut self.fresh);
        fresh.clear();
        // Two stages ahead: the key fields and address-cache line of event i + AHEAD, then (those
        // loaded by now) the key's table line or state for event i + AHEAD / 2, whose hash, when
        // computed there, is kept for `intern`.
        let mut hints = [(usize::MAX, None); AHEAD];
        for (i, e) in events.iter().enumerate() {
            if let Some(a) = events.get(i + AHEAD) {
                self.prefetch_key(a);
            }
            if let Some(b) = events.get(i + AHEAD / 2) {
                let k = i + AHEAD / 2;
                hints[k % AHEAD] = (k, self.prefetch_slot(b));
            }
            let hint = match hints[i % AHEAD] {
                (k, h) if k == i => h,
                _ => None,
            };
            let t = e.timestamp_ms;
            if self.watermark.is_some_and(|w| t < w) {
                self.stats.late_events = self.stats.late_events.saturating_add(1);
                out.late.push(i);
                continue;
            }
            if let (Some(limit), Some(max)) = (self.config.max_future_ms, self.max_seen)
                && t > max.saturating_add(limit as i64)
            {
                self.stats.rejected_events = self.stats.rejected_events.saturating_add(1);
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
            let slot = self.intern(e, hint);
            self.meta[slot as usize].pending += 1;
            fresh.push(Pending {
                t,
                slot,
                text: IN_BATCH | i as u32,
            });
        }
        self.stats.events = self.stats.events.saturating_add(fresh.len() as u64);
        out.incidents = self.drain(events, &mut fresh);
        self.fresh = fresh;
        out
    }

    /// Moves the watermark up to `watermark_ms` (never down) and returns the incidents that became
    /// final. Use it when event time moves without events (an idle partition, a wall clock).
    pub fn advance(&mut self, watermark_ms: i64) -> Outcome {
        if self.watermark.is_none_or(|w| watermark_ms > w) {
            self.watermark = Some(watermark_ms);
        }
        Outcome {
            incidents: self.drain(&[], &mut Vec::new()),
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

    /// Takes over the state of `other` (same config; `other` is unchanged), as a consumer does
    /// when a partition moves to it: keys, windows, pending events, counters.
    ///
    /// First both sides are advanced to the larger of the two watermarks (each side decides its
    /// own events up to it, as `advance` would); then the states are united at that common
    /// watermark. A key held by both gets the union of its window (counts add up) and its
    /// over-threshold state is recomputed from the united window, so from the common watermark
    /// on, the merged aggregator raises exactly the incidents of one aggregator that saw both
    /// streams. Exceptions, for keys held by both only: a running cooldown continues from the
    /// later of the two last firings, and samples may miss events a side had already discarded
    /// as too cold to become samples on its own (its count was far under the threshold).
    /// Incidents decided before the merge are not revised. With disjoint keys (keyed
    /// partitioning) the merge is exact in every respect.
    ///
    /// Returns the incidents that became final while advancing either side.
    ///
    /// For aggregators shared between threads, see [`snapshot`](Self::snapshot).
    pub fn merge(&mut self, other: &WindowAggregator) -> Result<Outcome> {
        self.merge_snapshot(other.snapshot())
    }

    /// A copy of this aggregator's state, for [`merge_snapshot`](Self::merge_snapshot).
    ///
    /// `merge` is `merge_snapshot(other.snapshot())`; splitting it lets aggregators behind locks
    /// be merged without ever holding two locks at once: take the snapshot under `other`'s read
    /// lock, release it, then merge under `self`'s write lock. Holding `other`'s lock while
    /// waiting for `self`'s deadlocks when another thread merges the other way round. The copy
    /// costs what `merge` always paid (it copies `other`'s state either way).
    pub fn snapshot(&self) -> WindowSnapshot {
        WindowSnapshot(self.to_state())
    }

    /// [`merge`](Self::merge) with a [`snapshot`](Self::snapshot) taken earlier.
    pub fn merge_snapshot(&mut self, other: WindowSnapshot) -> Result<Outcome> {
        let other = other.0;
        if other.config != self.config {
            return Err(Error::InvalidInput(
                "cannot merge window aggregators with different configs".into(),
            ));
        }
        let other_watermark = other.watermark;
        let mut theirs = WindowAggregator::new(other.config.clone())?;
        theirs.absorb(other);
        let mut incidents = Vec::new();
        if let Some(wm) = self.watermark.max(other_watermark) {
            incidents.extend(self.advance(wm).incidents);
            incidents.extend(theirs.advance(wm).incidents);
        }
        self.absorb(theirs.to_state());
        incidents.extend(self.drain(&[], &mut Vec::new()));
        incidents.sort_by(|a, b| (a.end_ms, &a.key).cmp(&(b.end_ms, &b.key)));
        Ok(Outcome {
            incidents,
            ..Default::default()
        })
    }

    /// Starts loading what `intern` will read for `e`: its key fields and its address-cache line.
    #[inline(always)]
    fn prefetch_key(&self, e: &Event<'_>) {
        let mut at = [0u64; 3];
        for (a, &f) in at.iter_mut().zip(&self.config.key_fields) {
            let v = e.field(f);
            prefetch(v.as_ptr());
            *a = pack(v).unwrap_or(0);
        }
        if !self.cache.is_empty() {
            prefetch(&self.cache[cache_index(&at)]);
        }
    }

    /// On an address-cache hit, starts loading the key's `Meta`; on a miss, hashes the key,
    /// starts loading its table line and returns the hash.
    #[inline(always)]
    fn prefetch_slot(&self, e: &Event<'_>) -> Option<u64> {
        let mut at = [0u64; 3];
        let mut packed = true;
        for (a, &f) in at.iter_mut().zip(&self.config.key_fields) {
            match pack(e.field(f)) {
                Some(p) => *a = p,
                None => packed = false,
            }
        }
        if packed
            && let Some(x) = self.cache.get(cache_index(&at))
            && x.epoch == self.epoch as u32
            && x.fields == at
        {
            prefetch(&self.meta[x.slot as usize]);
            return None;
        }
        let h = self.key_hash(e);
        self.keys.prefetch(h);
        Some(h)
    }

    fn key_hash(&self, e: &Event<'_>) -> u64 {
        hash_fields(
            self.config
                .key_fields
                .iter()
                .map(|&f| e.field(f).as_bytes()),
        )
    }

    /// The slot of an event's key, created (evicting the least recently seen key when full) if
    /// needed, and marked most recently seen. The key is hashed once and compared in place.
    fn intern(&mut self, e: &Event<'_>, hash: Option<u64>) -> u32 {
        let mut at = [0u64; 3];
        for (a, &f) in at.iter_mut().zip(&self.config.key_fields) {
            match pack(e.field(f)) {
                Some(p) => *a = p,
                None => return self.intern_slow(e, hash),
            }
        }
        let c = cache_index(&at);
        let epoch = self.epoch as u32;
        if let Some(x) = self.cache.get(c)
            && x.epoch == epoch
            && x.fields == at
        {
            let s = x.slot;
            self.touch(s);
            return s;
        }
        let s = self.intern_slow(e, hash);
        if self.cache.is_empty() {
            self.cache = vec![CacheEntry::default(); 1 << CACHE_BITS];
        }
        // First come, kept for the call: frequent keys come early and stay, rare keys don't
        // push them out.
        if self.cache[c].epoch != epoch {
            self.cache[c] = CacheEntry {
                fields: at,
                slot: s,
                epoch,
            };
        }
        s
    }

    /// `hash`: the key's hash if already computed (`prefetch_slot`).
    fn intern_slow(&mut self, e: &Event<'_>, hash: Option<u64>) -> u32 {
        let h = hash.unwrap_or_else(|| self.key_hash(e));
        let fields = &self.config.key_fields;
        if let Some(s) = self.find(h, fields.iter().map(|&f| e.field(f).as_bytes())) {
            self.touch(s);
            return s;
        }
        let mut buf = std::mem::take(&mut self.key_buf);
        buf.clear();
        for &f in &self.config.key_fields {
            encode_field(&mut buf, e.field(f));
        }
        let s = self.create(h, &buf);
        self.key_buf = buf;
        s
    }

    /// The slot of an encoded key (restore, merge), created if needed; marked seen if `touch`.
    fn slot_of_encoded(&mut self, key: &[u8], touch: bool) -> u32 {
        let h = hash_fields(encoded_fields(key));
        match self.find(h, encoded_fields(key)) {
            Some(s) => {
                if touch {
                    self.touch(s);
                }
                s
            }
            None => self.create(h, key),
        }
    }

    fn find<'a>(&self, h: u64, fields: impl Iterator<Item = &'a [u8]> + Clone) -> Option<u32> {
        self.keys.find(h, fields, &self.slots)
    }

    /// Starts a new cache epoch: every address-cache entry becomes stale. Stored epochs are 32
    /// bits, so when they wrap the cache is wiped (epoch 0 is never current).
    fn bump_epoch(&mut self) {
        self.epoch += 1;
        if self.epoch as u32 == 0 {
            self.cache.fill(CacheEntry::default());
            self.epoch += 1;
        }
    }

    fn create(&mut self, h: u64, key: &[u8]) -> u32 {
        if self.live_keys >= self.config.max_keys {
            let victim = self.least_recent();
            self.stats.evicted_keys = self.stats.evicted_keys.saturating_add(1);
            self.stats.evicted_events = self
                .stats
                .evicted_events
                .saturating_add(self.meta[victim as usize].pending);
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
                self.meta.push(Meta::default());
                (self.slots.len() - 1) as u32
            }
        };
        self.keys.insert(h, s, key);
        let slot = &mut self.slots[s as usize];
        slot.live = true;
        slot.hash = h;
        slot.key = key.into();
        slot.threshold = threshold;
        self.live_keys += 1;
        self.touch(s);
        if !self.lru_on && self.live_keys * 2 >= self.config.max_keys {
            let (slots, meta) = (&self.slots, &self.meta);
            let mut order: Vec<(u64, u32)> = (0..slots.len() as u32)
                .filter(|&s| slots[s as usize].live)
                .map(|s| (meta[s as usize].seen, s))
                .collect();
            order.sort_unstable();
            self.lru = order.into();
            self.lru_on = true;
        }
        s
    }

    fn touch(&mut self, s: u32) {
        let m = &mut self.meta[s as usize];
        if m.seen == self.seq && self.seq != 0 {
            return; // already the most recently seen
        }
        self.seq += 1;
        m.seen = self.seq;
        if !self.lru_on {
            return;
        }
        self.lru.push_back((self.seq, s));
        if self.lru.len() > 2 * self.live_keys + 1024 {
            // Stamps are unique and a removed key's is 0, so an equal stamp means live.
            let meta = &self.meta;
            self.lru.retain(|&(q, s)| meta[s as usize].seen == q);
        }
    }

    /// The least recently seen live key (there is one: called only when `max_keys` are held).
    fn least_recent(&mut self) -> u32 {
        while let Some((q, s)) = self.lru.pop_front() {
            if self.meta[s as usize].seen == q {
                return s;
            }
        }
        unreachable!("max_keys >= 1 keys are live, each with a current arrival stamp")
    }

    /// Drops a key. With events still pending it stays reserved (not live) until they drain.
    fn remove(&mut self, s: u32) {
        self.keys.remove(self.slots[s as usize].hash, s);
        self.live_keys -= 1;
        self.bump_epoch();
        if self.lru_on && self.live_keys * 4 < self.config.max_keys {
            self.lru_on = false;
            self.lru = VecDeque::new();
        }
        self.slots[s as usize] = Slot::default();
        let m = &mut self.meta[s as usize];
        m.seen = 0;
        if m.pending == 0 {
            self.free.push(s);
        }
    }

    /// Makes every pending event older than the watermark final: this call's events straight from
    /// the caller's strings, earlier ones from the sorted runs; the survivors' texts are copied
    /// into the arena and they become a new run. Final events are sorted by (key, time) and each
    /// key's are applied in one go (the key's state is touched once per call).
    fn drain(&mut self, events: &[Event<'_>], fresh: &mut Vec<Pending>) -> Vec<Incident> {
        // No watermark yet: nothing is final (no time is below i64::MIN).
        let wm = self.watermark.unwrap_or(i64::MIN);
        let mut fin = std::mem::take(&mut self.fin);
        fin.clear();
        let mut kept = 0;
        for k in 0..fresh.len() {
            // The texts to copy are scattered in the caller's memory: request them ahead.
            if let Some(a) = fresh.get(k + AHEAD)
                && a.t >= wm
            {
                let e = &events[(a.text & !IN_BATCH) as usize];
                prefetch(e.message.as_ptr());
                prefetch(e.message.as_ptr().wrapping_add(64));
                prefetch(e.trace_id.as_ptr());
            }
            let p = fresh[k];
            if p.t < wm {
                fin.push(p);
                continue;
            }
            let e = &events[(p.text & !IN_BATCH) as usize];
            let text = self.store_text(e.message, e.trace_id);
            fresh[kept] = Pending { text, ..p };
            kept += 1;
        }
        fresh.truncate(kept);
        let mut taken = 0;
        for run in &mut self.runs {
            let n = run.live().partition_point(|p| p.t < wm);
            taken += n;
            fin.extend_from_slice(&run.live()[..n]);
            run.head += n;
            if run.head > 4096 && run.head * 2 > run.v.len() {
                run.v.drain(..run.head);
                run.head = 0;
            }
        }
        let mut k = 0;
        while k < self.runs.len() {
            if self.runs[k].live().is_empty() {
                let r = self.runs.remove(k);
                self.recycle(r.v);
            } else {
                k += 1;
            }
        }
        self.pending -= taken;
        fresh.sort_unstable_by_key(|p| p.t);
        let spare = self.spare.pop().unwrap_or_default();
        self.add_run(std::mem::replace(fresh, spare));
        let incidents = self.apply_final(events, &mut fin);
        self.fin = fin;
        incidents
    }

    fn store_text(&mut self, message: &str, trace_id: &str) -> u32 {
        let i = self.texts.len() as u32;
        self.texts
            .push((self.arena.len(), message.len(), trace_id.len()));
        self.arena.push_str(message);
        self.arena.push_str(trace_id);
        i
    }

    /// Adds a run sorted by time, merging the last runs while the older is not larger.
    /// Keeps a few emptied buffers: large fresh allocations would page-fault on every call.
    fn recycle(&mut self, mut v: Vec<Pending>) {
        if self.spare.len() < 4 {
            v.clear();
            self.spare.push(v);
        }
    }

    fn add_run(&mut self, v: Vec<Pending>) {
        if v.is_empty() {
            return;
        }
        self.pending += v.len();
        self.runs.push(Run { v, head: 0 });
        while let [.., a, b] = self.runs.as_slice()
            && a.live().len() <= b.live().len()
        {
            let (rb, ra) = (
                self.runs.pop().unwrap_or_default(),
                self.runs.pop().unwrap_or_default(),
            );
            let (a, b) = (ra.live(), rb.live());
            let mut v = self.spare.pop().unwrap_or_default();
            v.reserve(a.len() + b.len());
            let (mut i, mut j) = (0, 0);
            while i < a.len() && j < b.len() {
                if b[j].t < a[i].t {
                    v.push(b[j]);
                    j += 1;
                } else {
                    v.push(a[i]);
                    i += 1;
                }
            }
            v.extend_from_slice(&a[i..]);
            v.extend_from_slice(&b[j..]);
            self.recycle(ra.v);
            self.recycle(rb.v);
            self.runs.push(Run { v, head: 0 });
        }
    }

    /// Applies final events (any order on entry) per key; returns the incidents, ordered.
    fn apply_final(&mut self, events: &[Event<'_>], fin: &mut [Pending]) -> Vec<Incident> {
        if fin.is_empty() {
            return Vec::new();
        }
        // One u64 per comparison when the times span less than 2^32 ms (always, in practice).
        let (lo, hi) = fin.iter().fold((i64::MAX, i64::MIN), |(lo, hi), p| {
            (lo.min(p.t), hi.max(p.t))
        });
        if i128::from(hi) - i128::from(lo) < 1 << 32 {
            fin.sort_unstable_by_key(|p| u64::from(p.slot) << 32 | p.t.wrapping_sub(lo) as u64);
        } else {
            fin.sort_unstable_by_key(|p| (p.slot, p.t));
        }
        let Self {
            slots,
            meta,
            free,
            arena,
            texts,
            config,
            groups,
            ..
        } = self;
        let text = |p: &Pending| text_of(events, arena, texts, p);
        // Events of one key at one time are ordered by (message, trace id), so samples never
        // depend on arrival order. `groups` gets where each key's events start.
        groups.clear();
        let mut i = 0;
        while i < fin.len() {
            if i == 0 || fin[i].slot != fin[i - 1].slot {
                groups.push(i);
            }
            let mut j = i + 1;
            while j < fin.len() && (fin[j].slot, fin[j].t) == (fin[i].slot, fin[i].t) {
                j += 1;
            }
            if j - i > 1 {
                fin[i..j].sort_by(|a, b| text(a).cmp(&text(b)));
            }
            i = j;
        }
        groups.push(fin.len());
        let rules = Rules {
            window: self.window,
            cooldown: config.cooldown_ms as i64,
            ring_len: self.ring_len,
            max_samples: config.max_samples,
            max_trace_ids: config.max_trace_ids,
            key_fields: &config.key_fields,
        };
        let mut incidents = Vec::new();
        let keys = groups.len() - 1;
        for g in 0..keys {
            // Each key's state is in memory no other key's events use: start loading the slot
            // (and meta) of the key eight groups on, and the window ends of the one four groups
            // on (its slot was requested four groups ago).
            if g + 8 < keys {
                let s = fin[groups[g + 8]].slot as usize;
                let p: *const Slot = &slots[s];
                for line in 0..std::mem::size_of::<Slot>().div_ceil(64) {
                    prefetch(p.cast::<u8>().wrapping_add(line * 64));
                }
                prefetch(&meta[s]);
            }
            if g + 4 < keys {
                let times = &slots[fin[groups[g + 4]].slot as usize].times;
                if let (Some(front), Some(back)) = (times.front(), times.back()) {
                    prefetch(front);
                    prefetch(back);
                }
            }
            let (i, j) = (groups[g], groups[g + 1]);
            let s = fin[i].slot;
            let slot = &mut slots[s as usize];
            let m = &mut meta[s as usize];
            m.pending -= (j - i) as u64;
            if slot.live {
                apply(slot, &fin[i..j], text, &rules, &mut incidents);
            } else if m.pending == 0 {
                free.push(s); // an evicted key's last pending event
            }
        }
        self.stats.incidents = self.stats.incidents.saturating_add(incidents.len() as u64);
        incidents.sort_by(|a, b| (a.end_ms, &a.key).cmp(&(b.end_ms, &b.key)));
        self.compact();
        if let Some(wm) = self.watermark {
            self.sweep(wm);
        }
        incidents
    }

    /// Rewrites the text arena once most of its entries belong to events no longer pending.
    fn compact(&mut self) {
        if self.pending == 0 {
            self.arena.clear();
            self.texts.clear();
            return;
        }
        if self.texts.len() < 2 * self.pending + 4096 {
            return;
        }
        let (mut arena, mut texts) = (String::new(), Vec::with_capacity(self.pending));
        for run in &mut self.runs {
            let head = run.head;
            for p in &mut run.v[head..] {
                let (o, m, tr) = self.texts[p.text as usize];
                texts.push((arena.len(), m, tr));
                arena.push_str(&self.arena[o..o + m + tr]);
                p.text = (texts.len() - 1) as u32;
            }
        }
        self.arena = arena;
        self.texts = texts;
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
                    && self.meta[s as usize].pending == 0
                    && !x.last_over
                    && x.times
                        .back()
                        .is_none_or(|&(b, _)| i128::from(b) <= horizon)
                    && x.last_fire
                        .is_none_or(|f| i128::from(f) + cooldown <= i128::from(wm))
            })
            .collect();
        self.stats.expired_keys = self.stats.expired_keys.saturating_add(dead.len() as u64);
        for s in dead {
            self.remove(s);
        }
    }

    fn to_state(&self) -> WindowState {
        // Least recently seen first, so a restore rebuilds the same eviction order.
        let mut order: Vec<u32> = (0..self.slots.len() as u32)
            .filter(|&s| self.slots[s as usize].live)
            .collect();
        order.sort_by_key(|&s| self.meta[s as usize].seen);
        let keys = order
            .iter()
            .map(|&s| {
                let x = &self.slots[s as usize];
                KeyState {
                    key: decode_key(&self.config.key_fields, &x.key),
                    times: x.times.iter().copied().collect(),
                    last_over: x.last_over,
                    last_fire: x.last_fire,
                    recent: x
                        .ring
                        .iter()
                        .map(|(t, m, tr)| (t, m.to_owned(), tr.to_owned()))
                        .collect(),
                }
            })
            .collect();
        let mut pending: Vec<PendingState> = self
            .runs
            .iter()
            .flat_map(|r| r.live())
            .filter(|p| self.slots[p.slot as usize].live)
            .map(|p| {
                let (m, tr) = text_of(&[], &self.arena, &self.texts, p);
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
        // Saturating: merging two aggregators into each other over and over doubles the counts
        // each time, and a counter that stops at the maximum beats an overflow panic.
        let s = &mut self.stats;
        s.events = s.events.saturating_add(st.stats.events);
        s.late_events = s.late_events.saturating_add(st.stats.late_events);
        s.rejected_events = s.rejected_events.saturating_add(st.stats.rejected_events);
        s.evicted_keys = s.evicted_keys.saturating_add(st.stats.evicted_keys);
        s.evicted_events = s.evicted_events.saturating_add(st.stats.evicted_events);
        s.expired_keys = s.expired_keys.saturating_add(st.stats.expired_keys);
        s.incidents = s.incidents.saturating_add(st.stats.incidents);
        let mut buf = Vec::new();
        for k in st.keys {
            self.encode_key(&k.key, &mut buf);
            let slot = self.slot_of_encoded(&buf, true);
            let (ring_len, window) = (self.ring_len, self.window);
            let x = &mut self.slots[slot as usize];
            let fresh = x.times.is_empty() && x.ring.entries.is_empty() && x.last_fire.is_none();
            if fresh {
                x.times = k.times.into_iter().collect();
                x.last_over = k.last_over;
            } else {
                // A key held by both (merge): unite the windows, drop what no later event can
                // count, and recompute "over" at the key's latest final event from the union.
                // Each side kept every event within a window of its own latest event, which is
                // at or before the united latest one, so the united window is complete.
                let mut all: Vec<(i64, u64)> = x.times.drain(..).chain(k.times).collect();
                all.sort_unstable();
                let last = all.last().map(|&(t, _)| i128::from(t));
                for (t, c) in all {
                    if last.is_some_and(|l| i128::from(t) <= l - i128::from(window)) {
                        continue;
                    }
                    match x.times.back_mut() {
                        Some((b, n)) if *b == t => *n = n.saturating_add(c),
                        _ => x.times.push_back((t, c)),
                    }
                }
                x.last_over = window_count(&x.times) > x.threshold;
            }
            x.count = window_count(&x.times);
            x.last_fire = x.last_fire.max(k.last_fire);
            let mut recent: Vec<(i64, String, String)> = x
                .ring
                .iter()
                .map(|(t, m, tr)| (t, m.to_owned(), tr.to_owned()))
                .chain(k.recent)
                .collect();
            // Ties in time are ordered by (message, trace id), as events are when applied.
            recent.sort();
            let skip = recent.len().saturating_sub(ring_len);
            x.ring.clear();
            for (t, m, tr) in recent.into_iter().skip(skip) {
                x.ring.push(ring_len, t, m.as_bytes(), tr.as_bytes());
            }
        }
        let mut run = Vec::with_capacity(st.pending.len());
        for p in st.pending {
            self.encode_key(&p.key, &mut buf);
            // Keys were marked seen in recency order above; looking them up must not reorder.
            let slot = self.slot_of_encoded(&buf, false);
            self.meta[slot as usize].pending += 1;
            let text = self.store_text(&p.message, &p.trace_id);
            run.push(Pending { t: p.t, slot, text });
        }
        run.sort_by_key(|p| p.t);
        self.add_run(run);
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

/// The events in a key's window (saturating: see `absorb`).
fn window_count<'a>(times: impl IntoIterator<Item = &'a (i64, u64)>) -> u64 {
    times
        .into_iter()
        .fold(0u64, |n, &(_, c)| n.saturating_add(c))
}

/// An aggregator's state copied by [`WindowAggregator::snapshot`], to merge into another later.
#[derive(Clone, Debug)]
pub struct WindowSnapshot(WindowState);

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
            // Every stored time holds at least one event, and a key's count fits its u64.
            let total = k.times.iter().try_fold(0u64, |sum, &(_, c)| {
                (c > 0).then(|| sum.checked_add(c)).flatten()
            });
            if total.is_none() {
                return Err(Error::Corrupt(
                    "window state holds a zero or overflowing event count".into(),
                ));
            }
        }
        if self.keys.len() > self.config.max_keys {
            return Err(Error::Corrupt(format!(
                "window state holds {} keys, over its max_keys = {}",
                self.keys.len(),
                self.config.max_keys
            )));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(k) = self.keys.iter().find(|k| !seen.insert(&k.key)) {
            return Err(Error::Corrupt(format!(
                "window state holds key {:?} twice",
                k.key
            )));
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
    fn key_table_finds_every_live_key_after_removals() {
        // Colliding hashes (h % 7), inline and long keys, removals in the middle of clusters.
        let enc = |i: usize| {
            let mut b = Vec::new();
            encode_field(&mut b, &format!("svc{i}"));
            let route = if i.is_multiple_of(5) {
                "r".repeat(300)
            } else {
                format!("/r{i}")
            };
            encode_field(&mut b, &route);
            b
        };
        let mut slots: Vec<Slot> = (0..500)
            .map(|i| Slot {
                key: enc(i).into(),
                ..Slot::default()
            })
            .collect();
        let mut t = KeyTable::default();
        let h = |i: usize| (i % 7) as u64;
        for i in 0..500 {
            t.insert(h(i), i as u32, &enc(i));
        }
        let find = |t: &KeyTable, slots: &[Slot], i: usize| {
            let k = enc(i);
            t.find(h(i), encoded_fields(&k), slots)
        };
        for i in (0..500usize).filter(|i| i.is_multiple_of(3)) {
            t.remove(h(i), i as u32);
            slots[i] = Slot::default();
        }
        for i in 0..500usize {
            let want = (!i.is_multiple_of(3)).then_some(i as u32);
            assert_eq!(find(&t, &slots, i), want, "key {i}");
        }
        assert_eq!(t.len, 500 - 167);
    }

    #[test]
    fn severity_bands() {
        assert_eq!(Severity::of(11, 10), Severity::Low);
        assert_eq!(Severity::of(20, 10), Severity::Medium);
        assert_eq!(Severity::of(50, 10), Severity::High);
        assert_eq!(Severity::of(100, 10), Severity::Critical);
    }
}
