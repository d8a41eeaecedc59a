//! Pushes the window benchmark's stream (benches/window_stream.rs) in batches of 10k and prints
//! events per second of CPU time, for `perf record` (development aid).
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
    let s = window_stream::stream(n);
    let events = s.events();
    let (t, cpu) = (std::time::Instant::now(), cpu_ns());
    let mut w = WindowAggregator::new(window_stream::config()).unwrap();
    let mut incidents = 0;
    for chunk in events.chunks(10_000) {
        incidents += w.push_batch(chunk).incidents.len();
    }
    incidents += w.flush().incidents.len();
    let (secs, cpu) = (t.elapsed().as_secs_f64(), (cpu_ns() - cpu) as f64 / 1e9);
    println!(
        "{n} events: {secs:.3} s wall, {cpu:.3} s cpu: {:.0} events/s of cpu; {incidents} incidents",
        n as f64 / cpu
    );
    println!("{:?}", w.stats());
}
