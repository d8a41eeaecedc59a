//! Pushes the window benchmark's stream (benches/window_stream.rs) in batches (default 10k; args:
//! `[events] [batch]`) and prints events per second of CPU time and a digest of the output, for
//! `perf record` and for checking that a change of internals changes no result.
use faultlens::window::WindowAggregator;

#[path = "../benches/window_stream.rs"]
mod window_stream;

/// Nanoseconds this thread has run on a CPU (Linux); the machine may be shared, so wall time
/// alone would understate the speed.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(3_000_000);
    let batch: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let s = window_stream::stream(n);
    let events = s.events();
    let (t, cpu) = (std::time::Instant::now(), cpu_ns());
    let mut config = window_stream::config();
    // MAX_KEYS=2000 exercises eviction.
    if let Some(k) = std::env::var("MAX_KEYS").ok().and_then(|k| k.parse().ok()) {
        config.max_keys = k;
    }
    let mut w = WindowAggregator::new(config).unwrap();
    let mut incidents = 0;
    // A digest of every incident field, so a change of internals can be checked for identical
    // output (`--digest` also prints it).
    let mut digest = std::collections::hash_map::DefaultHasher::new();
    let mut note = |out: faultlens::window::Outcome| {
        use std::hash::Hash;
        incidents += out.incidents.len();
        for i in &out.incidents {
            (&i.id, i.count, &i.samples, &i.trace_ids).hash(&mut digest);
        }
        (&out.late, &out.rejected).hash(&mut digest);
    };
    for chunk in events.chunks(batch) {
        note(w.push_batch(chunk));
    }
    note(w.flush());
    let (secs, cpu) = (t.elapsed().as_secs_f64(), (cpu_ns() - cpu) as f64 / 1e9);
    println!(
        "{n} events: {secs:.3} s wall, {cpu:.3} s cpu: {:.0} events/s of cpu; {incidents} incidents",
        n as f64 / cpu
    );
    println!("{:?}", w.stats());
    println!("digest {:016x}", std::hash::Hasher::finish(&digest));
}
