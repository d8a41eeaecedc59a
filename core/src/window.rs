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

use crate::error::{Error, Result};
use crate::models::Artifact;

mod group;
mod grouper;
mod intern;
mod metrics;
mod rate;
mod semantics;
mod state;
mod table;
pub use group::{GroupConfig, group_incidents};
pub use grouper::{
    Assignment, Group, GroupInput, GroupUpdate, GrouperConfig, IncidentGrouper, Renamed,
};
use rate::*;
pub use rate::{RateTrigger, Trigger};
use semantics::*;
pub use semantics::{
    Event, Incident, KeyField, KeyThreshold, Outcome, Severity, WindowConfig, WindowKey,
    WindowStats,
};
pub use state::WindowSnapshot;
use table::*;

/// Longest window and lateness accepted: 366 days, far beyond any alerting use, and small
/// enough that time arithmetic can never overflow.
pub const MAX_SPAN_MS: u64 = 366 * 24 * 3600 * 1000;
/// Most sample messages or trace ids an incident may carry.
pub const MAX_SAMPLES: usize = 1000;

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
            rate: config.rate.as_ref(),
            rate_floor: config.rate.as_ref().map_or(u64::MAX, RateTrigger::floor),
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
    /// events, not over the threshold, no cooldown running, no baseline a later event could use). Runs once per window of event time.
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
        let wm_period = period_of(wm, self.window);
        let rate = self.config.rate.as_ref();
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
                    // A baseline still in use keeps its key.
                    && match (rate, &x.rate) {
                        (Some(r), Some(st)) => st.forgotten(wm_period, r),
                        _ => true,
                    }
            })
            .collect();
        self.stats.expired_keys = self.stats.expired_keys.saturating_add(dead.len() as u64);
        for s in dead {
            self.remove(s);
        }
    }
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
