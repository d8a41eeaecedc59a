//! Sliding-window aggregation throughput on one core over the seeded Loghub-based stream of
//! `window_stream.rs` (about 10k Zipf keys, 3 s jitter, bursts, a few late events).
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use faultlens::window::WindowAggregator;

#[path = "window_stream.rs"]
mod window_stream;
use window_stream::{config, stream};

fn bench(c: &mut Criterion) {
    let n = 1_000_000;
    let s = stream(n);
    let events = s.events();
    let mut g = c.benchmark_group("window");
    g.throughput(Throughput::Elements(events.len() as u64));
    g.sample_size(10);
    for batch in [1usize, 10_000] {
        g.bench_function(
            BenchmarkId::new("push_batch", format!("{n}_events/batch_{batch}/one_core")),
            |b| {
                b.iter(|| {
                    let mut w = WindowAggregator::new(config()).unwrap();
                    let mut incidents = 0;
                    for chunk in events.chunks(batch) {
                        incidents += w.push_batch(chunk).incidents.len();
                    }
                    incidents + w.flush().incidents.len()
                })
            },
        );
    }
    let mut no_samples = config();
    no_samples.max_samples = 0;
    no_samples.max_trace_ids = 0;
    g.bench_function(
        BenchmarkId::new("push_batch", format!("{n}_events/batch_10000/no_samples")),
        |b| {
            b.iter(|| {
                let mut w = WindowAggregator::new(no_samples.clone()).unwrap();
                let mut incidents = 0;
                for chunk in events.chunks(10_000) {
                    incidents += w.push_batch(chunk).incidents.len();
                }
                incidents + w.flush().incidents.len()
            })
        },
    );
    // Rate triggers on alongside the threshold (200): default estimator, firing on a rise of at
    // least 50 events (`rate_triggers`), and with any count allowed to fire (`rate_any_count`:
    // every rare key that triples its normal becomes an incident, so most of the extra time is
    // building those incidents).
    for (name, min_count) in [("rate_triggers", 50), ("rate_any_count", 1)] {
        let mut rate = config();
        rate.rate = Some(faultlens::window::RateTrigger {
            min_count,
            ..Default::default()
        });
        g.bench_function(
            BenchmarkId::new("push_batch", format!("{n}_events/batch_10000/{name}")),
            |b| {
                b.iter(|| {
                    let mut w = WindowAggregator::new(rate.clone()).unwrap();
                    let mut incidents = 0;
                    for chunk in events.chunks(10_000) {
                        incidents += w.push_batch(chunk).incidents.len();
                    }
                    incidents + w.flush().incidents.len()
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
