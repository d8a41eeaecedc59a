//! `WindowAggregator` against a brute-force oracle of the documented semantics (docs/window.md) on
//! random out-of-order streams, plus lateness, cooldown, eviction, snapshot and merge cases.

use std::collections::BTreeMap;

use faultlens::Artifact;
use faultlens::window::{
    Event, Incident, KeyField, KeyThreshold, Outcome, RateTrigger, Severity, Trigger,
    WindowAggregator, WindowConfig, WindowKey,
};
use proptest::prelude::*;

#[derive(Clone, Debug)]
struct Ev {
    t: i64,
    service: String,
    route: String,
    code: String,
    message: String,
    trace: String,
}

impl Ev {
    fn event(&self) -> Event<'_> {
        Event::new(self.t, &self.service, &self.route, &self.code)
            .message(&self.message)
            .trace_id(&self.trace)
    }

    fn key(&self, fields: &[KeyField]) -> WindowKey {
        let pick = |f: KeyField, v: &str| fields.contains(&f).then(|| v.to_owned());
        WindowKey {
            service: pick(KeyField::Service, &self.service),
            route: pick(KeyField::Route, &self.route),
            error_code: pick(KeyField::ErrorCode, &self.code),
        }
    }
}

fn ev(t: i64, service: &str, code: &str) -> Ev {
    Ev {
        t,
        service: service.into(),
        route: "/r".into(),
        code: code.into(),
        message: format!("{service} {code} failed"),
        trace: format!("tr-{t}"),
    }
}

/// A key's baseline before period `p` and how many periods it covers, the slow way: replay the
/// documented estimator over the key's periods with events (all of them, from the first).
fn brute_baseline(evs: &[&Ev], p: i64, w: i64, r: &RateTrigger) -> (f64, u32) {
    let mut counts: BTreeMap<i64, u64> = BTreeMap::new();
    for e in evs {
        if e.t.div_euclid(w) <= p {
            *counts.entry(e.t.div_euclid(w)).or_default() += 1;
        }
    }
    // (period, its count, mean of the earlier ones, periods folded)
    let mut st: Option<(i64, u64, f64, u32)> = None;
    for (&q, &c) in &counts {
        st = Some(match st {
            None => (q, c, 0.0, 0),
            Some((cur, _, _, _)) if q - cur > i64::from(r.forget_after) => (q, c, 0.0, 0),
            Some((cur, cc, mut mean, n)) => {
                mean = (1.0 - r.alpha) * mean + r.alpha * cc as f64;
                for _ in 1..(q - cur) {
                    mean *= 1.0 - r.alpha;
                }
                (q, c, mean, n + (q - cur) as u32)
            }
        });
    }
    st.map_or((0.0, 0), |(_, _, mean, n)| (mean, n))
}

/// The documented semantics, computed the slow way: lateness by replaying arrival order, then,
/// per key, every count by scanning all of the key's on-time events.
fn oracle(cfg: &WindowConfig, ops: &[Op]) -> (Vec<Incident>, Vec<usize>) {
    let lateness = cfg.allowed_lateness_ms.unwrap_or(0) as i64;
    let w = cfg.window_ms as i64;
    let (mut wm, mut max_seen): (Option<i64>, Option<i64>) = (None, None);
    let mut on_time: Vec<&Ev> = Vec::new();
    let mut late = Vec::new();
    let mut i = 0;
    for op in ops {
        match op {
            Op::Push(batch) => {
                for e in batch {
                    if wm.is_some_and(|wm| e.t < wm) {
                        late.push(i);
                    } else {
                        on_time.push(e);
                        if max_seen.is_none_or(|m| e.t > m) {
                            max_seen = Some(e.t);
                            wm = wm.max(Some(e.t - lateness));
                        }
                    }
                    i += 1;
                }
            }
            Op::Advance(a) => wm = wm.max(Some(*a)),
        }
    }
    let mut by_key: BTreeMap<WindowKey, Vec<&Ev>> = BTreeMap::new();
    for e in on_time {
        by_key.entry(e.key(&cfg.key_fields)).or_default().push(e);
    }
    let ring = cfg.max_samples.max(cfg.max_trace_ids);
    let mut out = Vec::new();
    for (key, mut evs) in by_key {
        let threshold = cfg
            .key_thresholds
            .iter()
            .find(|k| k.key == key)
            .map_or(cfg.threshold, |k| k.threshold);
        evs.sort_by(|a, b| (a.t, &a.message, &a.trace).cmp(&(b.t, &b.message, &b.trace)));
        let mut times: Vec<i64> = evs.iter().map(|e| e.t).collect();
        times.dedup();
        let (mut last_over, mut last_fire) = (false, None::<i64>);
        for t in times {
            let in_window: Vec<&&Ev> = evs.iter().filter(|e| e.t > t - w && e.t <= t).collect();
            let count = in_window.len() as u64;
            let (over_rate, baseline) = match &cfg.rate {
                Some(r) => {
                    let (b, n) = brute_baseline(&evs, t.div_euclid(w), w, r);
                    if n >= r.min_history {
                        let c = count as f64;
                        let over = count >= r.min_count
                            && c > r.factor * b
                            && (c - b) >= r.z * b.max(1.0).sqrt();
                        (over, Some(b))
                    } else {
                        (false, None)
                    }
                }
                None => (false, None),
            };
            let over = count > threshold || over_rate;
            let cooled = last_fire.is_none_or(|f| t >= f + cfg.cooldown_ms as i64);
            if over && !last_over && cooled {
                last_fire = Some(t);
                let upto: Vec<&&Ev> = evs.iter().filter(|e| e.t <= t).collect();
                let recent: Vec<&&&Ev> = upto[upto.len().saturating_sub(ring)..]
                    .iter()
                    .rev()
                    .filter(|e| e.t > t - w)
                    .collect();
                let mut samples: Vec<String> = Vec::new();
                for e in recent.iter().take(cfg.max_samples) {
                    if !samples.contains(&e.message) {
                        samples.push(e.message.clone());
                    }
                }
                let mut trace_ids: Vec<String> = Vec::new();
                for e in recent.iter().take(cfg.max_trace_ids) {
                    if !e.trace.is_empty() && !trace_ids.contains(&e.trace) {
                        trace_ids.push(e.trace.clone());
                    }
                }
                out.push(Incident {
                    id: String::new(),
                    key: key.clone(),
                    start_ms: in_window.iter().map(|e| e.t).min().unwrap_or(t),
                    end_ms: t,
                    count,
                    threshold,
                    severity: if count > threshold {
                        Severity::of(count, threshold)
                    } else {
                        Severity::of(count, baseline.map_or(1, |b| b.max(1.0).ceil() as u64))
                    },
                    samples,
                    trace_ids,
                    trigger: if count > threshold {
                        Trigger::Threshold
                    } else {
                        Trigger::Rate
                    },
                    baseline,
                });
            }
            last_over = over;
        }
    }
    out.sort_by(|a, b| (a.end_ms, &a.key).cmp(&(b.end_ms, &b.key)));
    (out, late)
}

#[derive(Clone, Debug)]
enum Op {
    Push(Vec<Ev>),
    Advance(i64),
}

/// Runs the aggregator over `ops`, then flushes; returns all incidents and late indices.
fn run(cfg: &WindowConfig, ops: &[Op]) -> (Vec<Incident>, Vec<usize>) {
    let mut w = WindowAggregator::new(cfg.clone()).expect("valid config");
    let mut incidents = Vec::new();
    let mut late = Vec::new();
    let mut base = 0;
    for op in ops {
        match op {
            Op::Push(batch) => {
                let events: Vec<Event<'_>> = batch.iter().map(Ev::event).collect();
                let o = if events.len() == 1 {
                    w.push(&events[0])
                } else {
                    w.push_batch(&events)
                };
                late.extend(o.late.iter().map(|i| i + base));
                incidents.extend(o.incidents);
                base += batch.len();
            }
            Op::Advance(a) => incidents.extend(w.advance(*a).incidents),
        }
    }
    incidents.extend(w.flush().incidents);
    assert_eq!(w.stats().pending_events, 0);
    (incidents, late)
}

fn without_ids(mut v: Vec<Incident>) -> Vec<Incident> {
    for i in &mut v {
        assert_eq!(i.id.len(), 16);
        i.id.clear();
    }
    v.sort_by(|a, b| (a.end_ms, &a.key).cmp(&(b.end_ms, &b.key)));
    v
}

fn config_strategy() -> impl Strategy<Value = WindowConfig> {
    (
        1u64..6,
        1u64..60,
        0u64..25,
        prop_oneof![Just(0u64), 0u64..80],
        prop::sample::subsequence(
            vec![KeyField::Service, KeyField::Route, KeyField::ErrorCode],
            1..=3,
        ),
        0usize..4,
        0usize..4,
        prop::option::of(1u64..4),
        prop::option::of((
            prop::sample::select(vec![1.0, 1.15, 2.0]),
            prop::sample::select(vec![0.0, 1.0, 3.0]),
            prop::sample::select(vec![0.1, 0.5, 1.0]),
            1u32..4,
            1u32..6,
            1u64..3,
        )),
    )
        .prop_map(
            |(threshold, window_ms, lateness, cooldown_ms, key_fields, ms, mt, special, rate)| {
                // Half the rate configs make it the only trigger (threshold out of reach).
                let rate = rate.map(|(factor, z, alpha, min_history, forget_after, min_count)| {
                    RateTrigger {
                        factor,
                        z,
                        alpha,
                        min_history,
                        forget_after,
                        min_count,
                    }
                });
                let threshold = match &rate {
                    Some(r) if r.min_count == 2 => u64::MAX,
                    _ => threshold,
                };
                // Optionally one per-key threshold for service "a" (and the other key fields' "x"/"1").
                let key_thresholds = special
                    .map(|threshold| {
                        let pick =
                            |f: KeyField, v: &str| key_fields.contains(&f).then(|| v.to_owned());
                        vec![KeyThreshold {
                            key: WindowKey {
                                service: pick(KeyField::Service, "a"),
                                route: pick(KeyField::Route, "x"),
                                error_code: pick(KeyField::ErrorCode, "1"),
                            },
                            threshold,
                        }]
                    })
                    .unwrap_or_default();
                WindowConfig {
                    threshold,
                    window_ms,
                    allowed_lateness_ms: Some(lateness),
                    cooldown_ms,
                    key_fields,
                    key_thresholds,
                    max_samples: ms,
                    max_trace_ids: mt,
                    max_keys: 1_000,
                    rate,
                    ..Default::default()
                }
            },
        )
}

/// Events with nearly increasing times (steps of 0..4 ms) minus a jitter of up to `jitter` ms,
/// cut into batches, with the odd explicit advance.
fn ops_strategy() -> impl Strategy<Value = Vec<Op>> {
    (0i64..30).prop_flat_map(|jitter| {
        prop::collection::vec(
            (
                0i64..4,
                0..=jitter,
                prop::sample::select(vec!["a", "b"]),
                prop::sample::select(vec!["x", "y"]),
                prop::sample::select(vec!["1", "2"]),
                0u8..3,
                0u8..4,
                0u8..12,
            ),
            0..160,
        )
        .prop_map(|raw| {
            let mut ops = Vec::new();
            let mut batch = Vec::new();
            let mut base = 0i64;
            for (step, jit, s, r, c, m, tr, cut) in raw {
                base += step;
                batch.push(Ev {
                    t: base - jit,
                    service: s.into(),
                    route: r.into(),
                    code: c.into(),
                    message: format!("m{m}"),
                    trace: if tr == 0 {
                        String::new()
                    } else {
                        format!("t{tr}")
                    },
                });
                if cut < 3 {
                    ops.push(Op::Push(std::mem::take(&mut batch)));
                }
                if cut == 11 {
                    ops.push(Op::Advance(base - 40));
                }
            }
            if !batch.is_empty() {
                ops.push(Op::Push(batch));
            }
            ops
        })
    })
}

proptest! {
    // A fixed seed: `make test` runs the same cases every time; `make fuzz` sets PROPTEST_RNG_SEED.
    #![proptest_config(ProptestConfig {
        cases: 400,
        rng_seed: if std::env::var_os("PROPTEST_RNG_SEED").is_some() {
            ProptestConfig::default().rng_seed
        } else {
            proptest::test_runner::RngSeed::Fixed(0x005E_EDF1)
        },
        ..ProptestConfig::default()
    })]

    #[test]
    fn matches_brute_force_oracle(cfg in config_strategy(), ops in ops_strategy()) {
        let (got, late) = run(&cfg, &ops);
        let (want, want_late) = oracle(&cfg, &ops);
        prop_assert_eq!(late, want_late);
        prop_assert_eq!(without_ids(got), want);
    }

    #[test]
    fn arrival_order_within_lateness_does_not_matter(
        cfg in config_strategy(),
        ops in ops_strategy(),
        seed in any::<u64>(),
    ) {
        // All events in one batch, arriving in the order of time + a random delay of at most
        // the allowed lateness: then no event is late, whatever the delays.
        let mut events: Vec<Ev> = ops.iter().flat_map(|o| match o {
            Op::Push(b) => b.clone(),
            Op::Advance(_) => Vec::new(),
        }).collect();
        events.sort_by_key(|e| e.t);
        let lateness = cfg.allowed_lateness_ms.unwrap_or(0) as i64;
        let mut x = seed | 1;
        let mut delayed: Vec<(i64, Ev)> = events.iter().map(|e| {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            (e.t + (x % (lateness as u64 + 1)) as i64, e.clone())
        }).collect();
        delayed.sort_by_key(|(arrival, _)| *arrival);
        let shuffled: Vec<Ev> = delayed.into_iter().map(|(_, e)| e).collect();
        let a = run(&cfg, &[Op::Push(events)]);
        let b = run(&cfg, &[Op::Push(shuffled)]);
        prop_assert!(b.1.is_empty(), "late: {:?}", b.1);
        prop_assert_eq!(a.0, b.0);
    }

    #[test]
    fn snapshot_mid_stream_changes_nothing(cfg in config_strategy(), ops in ops_strategy(), cut in 0usize..20) {
        let (want, _) = run(&cfg, &ops);
        let cut = cut.min(ops.len());
        let mut w = WindowAggregator::new(cfg.clone()).unwrap();
        let mut got = Vec::new();
        let feed = |w: &mut WindowAggregator, op: &Op| match op {
            Op::Push(b) => w.push_batch(&b.iter().map(Ev::event).collect::<Vec<_>>()).incidents,
            Op::Advance(a) => w.advance(*a).incidents,
        };
        for op in &ops[..cut] {
            got.extend(feed(&mut w, op));
        }
        let bytes = w.to_bytes().unwrap();
        let mut w = WindowAggregator::from_bytes(&bytes).unwrap();
        prop_assert_eq!(w.to_bytes().unwrap(), bytes);
        for op in &ops[cut..] {
            got.extend(feed(&mut w, op));
        }
        got.extend(w.flush().incidents);
        prop_assert_eq!(got, want);
    }
}

fn cfg(threshold: u64, window_ms: u64, lateness: u64) -> WindowConfig {
    WindowConfig {
        threshold,
        window_ms,
        allowed_lateness_ms: Some(lateness),
        ..Default::default()
    }
}

fn push_all(w: &mut WindowAggregator, evs: &[Ev]) -> Outcome {
    let events: Vec<Event<'_>> = evs.iter().map(Ev::event).collect();
    w.push_batch(&events)
}

#[test]
fn late_events_are_reported_and_not_counted() {
    let mut w = WindowAggregator::new(cfg(2, 1_000, 100)).unwrap();
    let o = push_all(
        &mut w,
        &[ev(1_000, "a", "1"), ev(950, "a", "1"), ev(899, "a", "1")],
    );
    assert_eq!(o.late, vec![2]); // watermark 900: 950 is on time, 899 late
    assert_eq!(w.watermark(), Some(900));
    let s = w.stats();
    assert_eq!((s.events, s.late_events, s.pending_events), (2, 1, 2));
    // Only two events counted: threshold 2 is not exceeded.
    assert!(w.flush().incidents.is_empty());
    // After flush the watermark is past the largest time: an event at it is late.
    assert_eq!(w.push(&ev(1_000, "a", "1").event()).late, vec![0]);
}

#[test]
fn incidents_wait_for_the_watermark() {
    let mut w = WindowAggregator::new(cfg(1, 1_000, 50)).unwrap();
    assert!(
        push_all(&mut w, &[ev(100, "a", "1"), ev(120, "a", "1")])
            .incidents
            .is_empty()
    );
    // An event 30 ms later could still arrive before 120: nothing is final yet.
    assert!(w.push(&ev(160, "b", "1").event()).incidents.is_empty());
    let o = w.push(&ev(171, "b", "1").event()); // watermark 121 passes 120
    assert_eq!(o.incidents.len(), 1);
    let i = &o.incidents[0];
    assert_eq!(
        (i.start_ms, i.end_ms, i.count, i.threshold),
        (100, 120, 2, 1)
    );
    assert_eq!(i.key.service.as_deref(), Some("a"));
    assert_eq!(
        i.trace_ids,
        vec!["tr-120".to_string(), "tr-100".to_string()]
    );
    assert_eq!(i.severity, Severity::Medium);
    // advance() makes the rest final without new events.
    let o = w.advance(10_000);
    assert_eq!(o.incidents.len(), 1);
    assert_eq!(o.incidents[0].end_ms, 171);
}

#[test]
fn cooldown_and_rearm() {
    // Threshold 1, window 10: pairs of events 5 ms apart fire; a lone event re-arms.
    let times = [0, 5, 30, 60, 65, 100, 105];
    let run_with = |cooldown: u64| {
        let mut c = cfg(1, 10, 0);
        c.cooldown_ms = cooldown;
        let mut w = WindowAggregator::new(c).unwrap();
        let evs: Vec<Ev> = times.iter().map(|&t| ev(t, "a", "1")).collect();
        let mut got = push_all(&mut w, &evs).incidents;
        got.extend(w.flush().incidents);
        got.iter().map(|i| i.end_ms).collect::<Vec<_>>()
    };
    assert_eq!(run_with(0), vec![5, 65, 105]);
    // 65 is within 80 ms of the incident at 5; 105 is not.
    assert_eq!(run_with(80), vec![5, 105]);
    // No re-arm without an event under the threshold: 0,5,8 keeps the key over.
    let mut w = WindowAggregator::new(cfg(1, 10, 0)).unwrap();
    let mut got = push_all(&mut w, &[ev(0, "a", "1"), ev(5, "a", "1"), ev(8, "a", "1")]).incidents;
    got.extend(w.flush().incidents);
    assert_eq!(got.len(), 1);
}

#[test]
fn eviction_drops_the_least_recently_seen_key_and_counts_it() {
    let mut c = cfg(1, 1_000, 1_000);
    c.max_keys = 2;
    let mut w = WindowAggregator::new(c).unwrap();
    push_all(
        &mut w,
        &[
            ev(1, "a", "1"),
            ev(2, "b", "1"),
            ev(3, "a", "1"),
            ev(4, "c", "1"),
        ],
    );
    let s = w.stats();
    assert_eq!((s.live_keys, s.evicted_keys, s.evicted_events), (2, 1, 1)); // "b" went
    let got = w.flush().incidents;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].key.service.as_deref(), Some("a"));
    // A million distinct keys stay within the bound.
    let mut c = cfg(5, 1_000, 0);
    c.max_keys = 1_000;
    let mut w = WindowAggregator::new(c).unwrap();
    let names: Vec<String> = (0..200_000).map(|i| format!("svc{i}")).collect();
    let events: Vec<Event<'_>> = names.iter().map(|n| Event::new(7, n, "/", "E")).collect();
    w.push_batch(&events);
    let s = w.stats();
    assert_eq!((s.live_keys, s.evicted_keys), (1_000, 199_000));
}

#[test]
fn idle_keys_expire_without_changing_results() {
    let mut w = WindowAggregator::new(cfg(1, 100, 0)).unwrap();
    for i in 0..50 {
        w.push(&ev(i * 1_000, &format!("s{i}"), "1").event());
    }
    w.flush();
    let s = w.stats();
    assert!(s.live_keys <= 2, "{s:?}");
    assert!(s.expired_keys >= 48);
}

#[test]
fn per_key_thresholds_and_key_fields() {
    let mut c = cfg(5, 1_000, 0);
    c.key_fields = vec![KeyField::ErrorCode];
    c.key_thresholds = vec![KeyThreshold {
        key: WindowKey {
            error_code: Some("1".into()),
            ..Default::default()
        },
        threshold: 1,
    }];
    let mut w = WindowAggregator::new(c).unwrap();
    // Different services, same code: one key.
    let mut got = push_all(
        &mut w,
        &[
            ev(1, "a", "1"),
            ev(2, "b", "1"),
            ev(3, "a", "2"),
            ev(4, "b", "2"),
        ],
    )
    .incidents;
    got.extend(w.flush().incidents);
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].key,
        WindowKey {
            error_code: Some("1".into()),
            ..Default::default()
        }
    );
    assert_eq!(
        got[0].samples,
        vec!["b 1 failed".to_string(), "a 1 failed".to_string()]
    );
}

#[test]
fn far_future_events_can_be_rejected() {
    let mut c = cfg(1, 1_000, 10);
    c.max_future_ms = Some(60_000);
    let mut w = WindowAggregator::new(c).unwrap();
    let o = push_all(
        &mut w,
        &[
            ev(1_000, "a", "1"),
            ev(i64::MAX, "a", "1"),
            ev(1_001, "a", "1"),
        ],
    );
    assert_eq!((o.rejected, o.late), (vec![1], vec![]));
    assert_eq!(w.stats().rejected_events, 1);
    // Without the limit, extreme times are accepted and nothing overflows.
    let mut w = WindowAggregator::new(cfg(1, 1_000, 10)).unwrap();
    let o = push_all(
        &mut w,
        &[
            ev(i64::MIN, "a", "1"),
            ev(i64::MIN + 1, "a", "1"),
            ev(i64::MAX, "a", "1"),
        ],
    );
    assert!(o.late.is_empty());
    assert_eq!(o.incidents.len(), 1);
    w.flush();
}

#[test]
fn merge_of_partitions_equals_one_aggregator() {
    // Rate triggers that fire on any rise over the baseline: their state moves with the keys.
    let rate = WindowConfig {
        rate: Some(RateTrigger {
            factor: 1.0,
            z: 0.0,
            alpha: 0.5,
            min_history: 2,
            ..Default::default()
        }),
        ..cfg(1_000, 100, 20)
    };
    for c in [cfg(2, 100, 20), rate] {
        merge_of_partitions_case(c);
    }
}

fn merge_of_partitions_case(c: WindowConfig) {
    let mut all = Vec::new();
    for i in 0..300i64 {
        let svc = ["a", "b", "c", "d"][(i % 4) as usize];
        all.push(ev(i * 3 - (i % 7), svc, if i % 5 == 0 { "2" } else { "1" }));
    }
    let mut one = WindowAggregator::new(c.clone()).unwrap();
    let mut want = push_all(&mut one, &all).incidents;
    want.extend(one.flush().incidents);
    assert!(want.len() >= 4, "{} incidents", want.len());

    // Partition by service: p1 gets a, b; p2 gets c, d. Halfway, p2 hands over to p1.
    let (half1, half2) = all.split_at(150);
    let part = |evs: &[Ev], mine: &[&str]| -> Vec<Ev> {
        evs.iter()
            .filter(|e| mine.contains(&e.service.as_str()))
            .cloned()
            .collect()
    };
    let mut p1 = WindowAggregator::new(c.clone()).unwrap();
    let mut p2 = WindowAggregator::new(c.clone()).unwrap();
    let mut got = push_all(&mut p1, &part(half1, &["a", "b"])).incidents;
    got.extend(push_all(&mut p2, &part(half1, &["c", "d"])).incidents);
    let moved = WindowAggregator::from_bytes(&p2.to_bytes().unwrap()).unwrap();
    got.extend(p1.merge(&moved).unwrap().incidents);
    got.extend(push_all(&mut p1, half2).incidents);
    got.extend(p1.flush().incidents);
    got.sort_by(|a, b| (a.end_ms, &a.key).cmp(&(b.end_ms, &b.key)));
    assert_eq!(got, want);
    assert_eq!(p1.stats().events, one.stats().events);

    let other = WindowAggregator::new(cfg(3, 100, 20)).unwrap();
    assert_eq!(p1.merge(&other).unwrap_err().code(), "InvalidInput");
}

#[test]
fn rate_trigger_config_errors_name_the_field() {
    for (rate, field) in [
        (
            RateTrigger {
                factor: 0.5,
                ..Default::default()
            },
            "rate.factor",
        ),
        (
            RateTrigger {
                z: f64::NAN,
                ..Default::default()
            },
            "rate.z",
        ),
        (
            RateTrigger {
                alpha: 0.0,
                ..Default::default()
            },
            "rate.alpha",
        ),
        (
            RateTrigger {
                min_history: 0,
                ..Default::default()
            },
            "rate.min_history",
        ),
        (
            RateTrigger {
                forget_after: 0,
                ..Default::default()
            },
            "rate.forget_after",
        ),
    ] {
        let c = WindowConfig {
            rate: Some(rate),
            ..cfg(2, 100, 0)
        };
        match WindowAggregator::new(c) {
            Err(faultlens::Error::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
}

/// A key's baseline survives its window emptying (the key is not swept while a later event could
/// use it) and a save/load, and is forgotten after `forget_after` idle periods.
#[test]
fn baselines_outlive_empty_windows_and_are_forgotten_after_long_gaps() {
    let c = WindowConfig {
        rate: Some(RateTrigger {
            factor: 1.5,
            z: 1.0,
            alpha: 0.5,
            min_history: 2,
            forget_after: 5,
            min_count: 1,
        }),
        ..cfg(1_000, 100, 0)
    };
    // One event per period for periods 0..10, idle for 3 periods, then 4 events: fires.
    let steady: Vec<Ev> = (0..10).map(|p| ev(p * 100 + 50, "a", "1")).collect();
    let burst: Vec<Ev> = (0..4).map(|k| ev(1_350 + k, "a", "1")).collect();
    let mut w = WindowAggregator::new(c.clone()).unwrap();
    push_all(&mut w, &steady);
    w.advance(1_300);
    let mut w = WindowAggregator::from_bytes(&w.to_bytes().unwrap()).unwrap();
    assert_eq!(w.stats().live_keys, 1, "the baseline keeps the key");
    let mut got = push_all(&mut w, &burst).incidents;
    got.extend(w.flush().incidents);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].trigger, Trigger::Rate);
    let b = got[0].baseline.unwrap();
    assert!(b > 0.0 && b < 1.0, "{b}");
    // The same burst after more than 5 idle periods starts over: no history, no incident.
    let late_burst: Vec<Ev> = (0..4).map(|k| ev(1_650 + k, "a", "1")).collect();
    let mut w = WindowAggregator::new(c).unwrap();
    push_all(&mut w, &steady);
    w.advance(1_600);
    assert_eq!(
        w.stats().live_keys,
        0,
        "a forgotten baseline lets the key go"
    );
    let mut got = push_all(&mut w, &late_burst).incidents;
    got.extend(w.flush().incidents);
    assert!(got.is_empty(), "{got:?}");
}

/// Two consumers that both see events of the same keys (partitioned by something other than the
/// key), merged mid-stream: from the common watermark on, the merged aggregator raises exactly
/// the incidents of one aggregator over both streams (docs/window.md, "Snapshot and merge").
#[test]
fn merge_of_overlapping_keys_matches_one_aggregator_from_the_merge_on() {
    let strip = |v: Vec<Incident>| -> Vec<(WindowKey, i64, i64, u64, String)> {
        v.into_iter()
            .map(|i| (i.key, i.start_ms, i.end_ms, i.count, i.id))
            .collect()
    };
    for seed in 1..=12u64 {
        let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut rnd = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let c = cfg(3 + rnd(4), 50 + rnd(100), 30);
        let mut base = 0i64;
        let all: Vec<Ev> = (0..400i64)
            .map(|i| {
                let svc = ["a", "b", "c"][rnd(3) as usize];
                // Dense and sparse stretches so keys cross their thresholds both ways; the
                // jitter stays within the lateness, so no event is late anywhere.
                base += 1 + (i / 40 % 2) * 6;
                ev(base - rnd(25) as i64, svc, "1")
            })
            .collect();
        let mut one = WindowAggregator::new(c.clone()).unwrap();
        let mut want = push_all(&mut one, &all).incidents;
        want.extend(one.flush().incidents);
        let cut = 100 + rnd(200) as usize;
        let (first, rest) = all.split_at(cut);
        let (mut a, mut b) = (
            WindowAggregator::new(c.clone()).unwrap(),
            WindowAggregator::new(c.clone()).unwrap(),
        );
        let (evens, odds): (Vec<Ev>, Vec<Ev>) = {
            let (e, o): (Vec<_>, Vec<_>) = first.iter().enumerate().partition(|(i, _)| i % 2 == 0);
            (
                e.into_iter().map(|p| p.1.clone()).collect(),
                o.into_iter().map(|p| p.1.clone()).collect(),
            )
        };
        assert!(push_all(&mut a, &evens).late.is_empty());
        assert!(push_all(&mut b, &odds).late.is_empty());
        a.merge(&b).unwrap();
        let wm = a.watermark().unwrap();
        let mut got = push_all(&mut a, rest).incidents;
        got.extend(a.flush().incidents);
        let want: Vec<Incident> = want.into_iter().filter(|i| i.end_ms >= wm).collect();
        assert_eq!(strip(got), strip(want), "seed {seed}, cut {cut}");
        assert_eq!(a.stats().events, one.stats().events);
    }
}

#[test]
fn damaged_snapshots_are_errors() {
    let mut w = WindowAggregator::new(cfg(1, 100, 10)).unwrap();
    push_all(&mut w, &[ev(1, "a", "1"), ev(2, "a", "1")]);
    let bytes = w.to_bytes().unwrap();
    assert_eq!(
        faultlens::models::inspect_bytes(&bytes).unwrap().kind,
        "window_aggregator"
    );
    for cut in [0, 10, bytes.len() / 2, bytes.len() - 1] {
        assert!(WindowAggregator::from_bytes(&bytes[..cut]).is_err());
    }
    let e = faultlens::TfidfVectorizer::from_bytes(&bytes).unwrap_err();
    assert_eq!(e.code(), "WrongKind");
}

#[test]
fn shared_fixture() {
    let cases: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(faultlens_suite::fixture("window_cases.json")).unwrap(),
    )
    .unwrap();
    check_case(&cases);
    check_case(&cases["rate_case"]);
}

/// Pushes a fixture case's events as one batch, flushes, and compares with what it expects (any
/// of `late` and `stats_after_flush` it gives).
fn check_case(case: &serde_json::Value) {
    let config: WindowConfig = serde_json::from_value(case["config"].clone()).unwrap();
    let evs: Vec<Ev> = case["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap().to_owned();
            Ev {
                t: e["timestamp_ms"].as_i64().unwrap(),
                service: s("service"),
                route: s("route"),
                code: s("error_code"),
                message: s("message"),
                trace: s("trace_id"),
            }
        })
        .collect();
    let mut w = WindowAggregator::new(config).unwrap();
    let o = push_all(&mut w, &evs);
    let mut incidents = o.incidents;
    incidents.extend(w.flush().incidents);
    if !case["late"].is_null() {
        assert_eq!(serde_json::to_value(&o.late).unwrap(), case["late"]);
    }
    assert_eq!(serde_json::to_value(&incidents).unwrap(), case["incidents"]);
    let stats = serde_json::to_value(w.stats()).unwrap();
    let none = serde_json::Map::new();
    for (k, v) in case["stats_after_flush"].as_object().unwrap_or(&none) {
        assert_eq!(&stats[k], v, "stats.{k}");
    }
}

/// The shared grouping fixture (also read by the Python and Node tests).
#[test]
fn group_incidents_matches_the_shared_fixture() {
    let case: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            faultlens_suite::repo_root().join("tests/fixtures/group_cases.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let samples: Vec<Vec<String>> = serde_json::from_value(case["samples"].clone()).unwrap();
    for c in case["cases"].as_array().unwrap() {
        let config: faultlens::window::GroupConfig =
            serde_json::from_value(c["options"].clone()).unwrap();
        let want: Vec<usize> = serde_json::from_value(c["groups"].clone()).unwrap();
        assert_eq!(
            faultlens::window::group_incidents(&samples, &config).unwrap(),
            want,
            "{c}"
        );
    }
}

/// Seconds the opposite-merge tests run: `FAULTLENS_MERGE_SECS` (docs/reliability.md gives the
/// 60 s command), else 2.
fn merge_secs() -> f64 {
    std::env::var("FAULTLENS_MERGE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0)
}

/// Two aggregators shared behind locks, merged into each other from two threads at once (the
/// way every binding holds them): a snapshot under one lock, the merge under the other, never
/// both, so the threads cannot deadlock. A third thread pushes events and reads stats meanwhile.
/// A watchdog fails the test instead of hanging if they stop making progress.
#[test]
fn opposite_merges_from_two_threads_do_not_deadlock() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::{Arc, RwLock, mpsc};
    use std::time::{Duration, Instant};

    let config = cfg(3, 1_000, 0);
    let make = |service: &str| {
        let mut w = WindowAggregator::new(config.clone()).unwrap();
        let evs: Vec<Ev> = (0..20).map(|i| ev(i * 10, service, "E1")).collect();
        push_all(&mut w, &evs);
        w.flush();
        Arc::new(RwLock::new(w))
    };
    let (a, b) = (make("a"), make("b"));
    let secs = merge_secs();
    let stop = Arc::new(AtomicBool::new(false));
    let merges = Arc::new(AtomicU64::new(0));
    let (done, finished) = mpsc::channel();
    let merger = |into: Arc<RwLock<WindowAggregator>>, from: Arc<RwLock<WindowAggregator>>| {
        let (stop, merges, done) = (stop.clone(), merges.clone(), done.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let snap = from.read().unwrap().snapshot();
                into.write().unwrap().merge_snapshot(snap).unwrap();
                merges.fetch_add(1, Ordering::Relaxed);
            }
            done.send(()).unwrap();
        })
    };
    let threads = [
        merger(a.clone(), b.clone()),
        merger(b.clone(), a.clone()),
        {
            let (a, stop, done) = (a.clone(), stop.clone(), done.clone());
            std::thread::spawn(move || {
                let mut t = 1_000;
                while !stop.load(Ordering::Relaxed) {
                    t += 1;
                    let e = ev(t, "a", "E2");
                    a.write().unwrap().push(&e.event());
                    assert!(a.read().unwrap().stats().events > 0);
                }
                done.send(()).unwrap();
            })
        },
    ];
    // No merge finishing for 5 s is a deadlock (a busy machine delays one for a moment, never
    // for that long).
    let start = Instant::now();
    let (mut last, mut progress) = (0, Instant::now());
    while start.elapsed().as_secs_f64() < secs {
        std::thread::sleep(Duration::from_millis(100));
        let now = merges.load(Ordering::Relaxed);
        if now > last {
            (last, progress) = (now, Instant::now());
        }
        assert!(
            progress.elapsed().as_secs() < 5,
            "no merge finished in 5 s: deadlock"
        );
    }
    stop.store(true, Ordering::Relaxed);
    for _ in 0..threads.len() {
        finished
            .recv_timeout(Duration::from_secs(10))
            .expect("a thread did not stop: deadlock");
    }
    threads.into_iter().for_each(|t| t.join().unwrap());
    assert!(merges.load(Ordering::Relaxed) > 10);
    // Counts saturate instead of overflowing however often the two absorb each other.
    let stats = a.read().unwrap().stats();
    assert!(stats.events > 40);
}

mod grouper {
    use faultlens::Artifact;
    use faultlens::window::{GroupInput, GrouperConfig, IncidentGrouper};
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    struct Inc {
        id: String,
        t: i64,
        text: Option<String>,
        emb: Option<Vec<f32>>,
    }

    fn input(x: &Inc) -> GroupInput<'_> {
        GroupInput {
            id: &x.id,
            time_ms: x.t,
            text: x.text.as_deref(),
            embedding: x.emb.as_deref(),
        }
    }

    const WORDS: [&str; 8] = [
        "timeout", "upstream", "refused", "disk", "quota", "payment", "declined", "lock",
    ];

    fn incidents() -> impl Strategy<Value = Vec<Inc>> {
        prop::collection::vec(
            (
                0i64..50,
                prop::option::of(prop::collection::vec(0usize..8, 1..4)),
                prop::option::of(prop::collection::vec(-2i8..3, 3)),
            ),
            1..40,
        )
        .prop_map(|raw| {
            raw.into_iter()
                .enumerate()
                .map(|(i, (t, words, emb))| Inc {
                    id: format!("inc-{i:02}"),
                    t,
                    text: words.map(|w| w.iter().map(|&k| WORDS[k]).collect::<Vec<_>>().join(" ")),
                    // An all-zero embedding is bad input: nudge it.
                    emb: emb.map(|v| {
                        let mut v: Vec<f32> = v.into_iter().map(f32::from).collect();
                        if v.iter().all(|&x| x == 0.0) {
                            v[0] = 1.0;
                        }
                        v
                    }),
                })
                .collect()
        })
    }

    /// Adds `incs` in the order given by `perm`, cut into batches at `cuts`.
    fn run(incs: &[Inc], perm: &[usize], cuts: &[bool], cfg: &GrouperConfig) -> IncidentGrouper {
        let mut g = IncidentGrouper::new(cfg.clone()).unwrap();
        let mut batch = Vec::new();
        for (k, &i) in perm.iter().enumerate() {
            batch.push(input(&incs[i]));
            if cuts.get(k).copied().unwrap_or(false) {
                g.add(&batch).unwrap();
                batch.clear();
            }
        }
        g.add(&batch).unwrap();
        g
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 64,
            rng_seed: if std::env::var_os("PROPTEST_RNG_SEED").is_some() {
                ProptestConfig::default().rng_seed
            } else {
                proptest::test_runner::RngSeed::Fixed(0x0061_20A9)
            },
            ..ProptestConfig::default()
        })]

        /// Any order and batching gives the same groups and ids, equal to the connected components
        /// of the similarity graph named after their earliest member (a brute-force oracle).
        #[test]
        fn groups_do_not_depend_on_order_or_batching(
            incs in incidents(),
            seed in any::<u64>(),
            cuts in prop::collection::vec(any::<bool>(), 40),
            min_similarity in prop::sample::select(vec![0.3, 0.5, 0.8, 1.0]),
            text_weight in prop::sample::select(vec![0.0, 0.5, 1.0]),
        ) {
            let cfg = GrouperConfig { min_similarity, text_weight, ..Default::default() };
            let n = incs.len();
            let ordered: Vec<usize> = (0..n).collect();
            let mut shuffled = ordered.clone();
            let mut s = seed | 1;
            for i in (1..n).rev() {
                s ^= s << 13; s ^= s >> 7; s ^= s << 17;
                shuffled.swap(i, (s % (i as u64 + 1)) as usize);
            }
            let one = run(&incs, &ordered, &[], &cfg);
            let other = run(&incs, &shuffled, &cuts, &cfg);
            prop_assert_eq!(one.groups(), other.groups());
            let reloaded = IncidentGrouper::from_bytes(&other.to_bytes().unwrap()).unwrap();
            prop_assert_eq!(reloaded.groups(), one.groups());

            // Oracle: components by repeated relaxation over all pairs.
            let linked: Vec<Vec<bool>> = (0..n)
                .map(|a| {
                    (0..n)
                        .map(|b| one.similarity(&incs[a].id, &incs[b].id).unwrap() >= min_similarity)
                        .collect()
                })
                .collect();
            let mut label: Vec<usize> = (0..n).collect();
            loop {
                let mut changed = false;
                for a in 0..n {
                    for b in 0..n {
                        if a != b && linked[a][b] && label[b] < label[a] {
                            label[a] = label[b];
                            changed = true;
                        }
                    }
                }
                if !changed { break; }
            }
            for a in 0..n {
                let first = (0..n)
                    .filter(|&b| label[b] == label[a])
                    .min_by_key(|&b| (incs[b].t, incs[b].id.clone()))
                    .unwrap();
                prop_assert_eq!(one.group_of(&incs[a].id).unwrap(), incs[first].id.clone());
            }
        }
    }
}
