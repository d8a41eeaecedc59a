//! The saved form of an aggregator: snapshot, restore and merge (`to_state` / `absorb`), and its
//! model-file (de)serialisation.

use serde::{Deserialize, Serialize};

use super::*;

/// The saved form of an aggregator (its model-file payload).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WindowState {
    pub(super) config: WindowConfig,
    pub(super) watermark: Option<i64>,
    pub(super) max_seen: Option<i64>,
    #[serde(default)]
    pub(super) last_sweep: Option<i64>,
    pub(super) stats: WindowStats,
    pub(super) keys: Vec<KeyState>,
    pub(super) pending: Vec<PendingState>,
}

/// An aggregator's state copied by [`WindowAggregator::snapshot`], to merge into another later.
#[derive(Clone, Debug)]
pub struct WindowSnapshot(pub(super) WindowState);

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct KeyState {
    pub(super) key: WindowKey,
    pub(super) times: Vec<(i64, u64)>,
    pub(super) last_over: bool,
    pub(super) last_fire: Option<i64>,
    pub(super) recent: Vec<(i64, String, String)>,
    /// The key's baseline (rate triggers); absent in files written before them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) rate: Option<RateState>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PendingState {
    pub(super) t: i64,
    pub(super) key: WindowKey,
    pub(super) message: String,
    pub(super) trace_id: String,
}

impl WindowState {
    /// A loaded state must describe keys of its own config, in time order.
    pub(super) fn check(&self) -> Result<()> {
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
            if k.rate
                .is_some_and(|r| !(r.mean.is_finite() && r.mean >= 0.0))
            {
                return Err(Error::Corrupt(
                    "window state holds a negative or non-finite baseline".into(),
                ));
            }
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

impl WindowAggregator {
    pub(super) fn to_state(&self) -> WindowState {
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
                    rate: x.rate,
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
    pub(super) fn absorb(&mut self, st: WindowState) {
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
            let rate = self.config.rate.clone();
            let x = &mut self.slots[slot as usize];
            let fresh = x.times.is_empty()
                && x.ring.entries.is_empty()
                && x.last_fire.is_none()
                && x.rate.is_none();
            if fresh {
                x.times = k.times.into_iter().collect();
                x.last_over = k.last_over;
                x.rate = k.rate;
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
                let count = window_count(&x.times);
                x.rate = match (x.rate, k.rate, rate.as_ref()) {
                    (Some(a), Some(b), Some(r)) => Some(RateState::unite(a, b, r)),
                    (a, b, _) => a.or(b),
                };
                let over_rate = match (&rate, &x.rate) {
                    (Some(r), Some(st)) => r.judge(count, st).0,
                    _ => false,
                };
                x.last_over = count > x.threshold || over_rate;
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

    pub(super) fn encode_key(&self, key: &WindowKey, buf: &mut Vec<u8>) {
        buf.clear();
        for &f in &self.config.key_fields {
            encode_field(buf, key.field(f).unwrap_or(""));
        }
    }
}
