//! The Rust core's own rate on the very data of benches/python/bench_arrow.py, which runs this
//! and prints the Python binding's rate beside it (the binding should add at most 20%).
//!
//! - `arrow_baseline window EVENTS.tsv CONFIG.json BATCH`: events per second of
//!   `WindowAggregator::push_batch` (in batches of BATCH; lines `ts \t service \t route \t code`).
//! - `arrow_baseline classify MODEL.flm LINES.txt`: lines per second of `TextClassifier::predict`.
//! - `arrow_baseline resolve RESOLVER.flm LINES.txt`: lines per second of `Resolver::resolve_batch`.
//!
//! Data is read before the clock starts; each prints one JSON object on stdout.
use std::time::Instant;

use faultlens::resolve::{Mode, Resolver};
use faultlens::window::{Event, WindowAggregator, WindowConfig};
use faultlens::{Artifact, TextClassifier};

fn fail(msg: String) -> ! {
    eprintln!("arrow_baseline: {msg}");
    std::process::exit(2)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| fail(format!("{path}: {e}")))
}

/// Nanoseconds this thread has run on a CPU (Linux; 0 elsewhere). The machine may be shared,
/// so wall time alone would understate the speed.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

/// Best of `reps` runs of `f`: (wall seconds, CPU seconds of this thread; meaningful for
/// one-thread work only). The minimum is the least noisy.
fn best(reps: usize, mut f: impl FnMut()) -> (f64, f64) {
    (0..reps)
        .map(|_| {
            let (t, c) = (Instant::now(), cpu_ns());
            f();
            (t.elapsed().as_secs_f64(), (cpu_ns() - c) as f64 / 1e9)
        })
        .fold((f64::INFINITY, f64::INFINITY), |a, b| {
            (a.0.min(b.0), a.1.min(b.1))
        })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| {
        args.get(i)
            .cloned()
            .unwrap_or_else(|| fail("usage: see the file's header".into()))
    };
    match arg(1).as_str() {
        "window" => {
            let text = read(&arg(2));
            let config: WindowConfig = serde_json::from_str(&read(&arg(3)))
                .unwrap_or_else(|e| fail(format!("config: {e}")));
            let batch: usize = arg(4).parse().unwrap_or(100_000);
            let rows: Vec<(i64, &str, &str, &str)> = text
                .lines()
                .map(|l| {
                    let mut p = l.split('\t');
                    let ts = p.next().and_then(|t| t.parse().ok()).unwrap_or(0);
                    let mut s = || p.next().unwrap_or("");
                    (ts, s(), s(), s())
                })
                .collect();
            let mut incidents = 0;
            let (secs, cpu) = best(3, || {
                let mut w = WindowAggregator::new(config.clone())
                    .unwrap_or_else(|e| fail(format!("config: {e}")));
                incidents = 0;
                for chunk in rows.chunks(batch) {
                    let events: Vec<Event<'_>> = chunk
                        .iter()
                        .map(|&(timestamp_ms, service, route, error_code)| Event {
                            timestamp_ms,
                            service,
                            route,
                            error_code,
                            message: "",
                            trace_id: "",
                        })
                        .collect();
                    incidents += w.push_batch(&events).incidents.len();
                }
                incidents += w.flush().incidents.len();
            });
            println!(
                "{{\"events\": {}, \"seconds\": {secs}, \"cpu_seconds\": {cpu}, \"per_s\": {}, \"incidents\": {incidents}}}",
                rows.len(),
                rows.len() as f64 / secs
            );
        }
        "classify" | "resolve" => {
            let text = read(&arg(3));
            let lines: Vec<&str> = text.lines().collect();
            let (secs, _) = if arg(1) == "classify" {
                let m = TextClassifier::load(arg(2)).unwrap_or_else(|e| fail(format!("{e}")));
                best(3, || {
                    let _ = m.predict(&lines);
                })
            } else {
                let r = Resolver::load(arg(2)).unwrap_or_else(|e| fail(format!("{e}")));
                best(3, || {
                    let _ = r.resolve_batch(&lines, Mode::Auto);
                })
            };
            println!(
                "{{\"lines\": {}, \"seconds\": {secs}, \"per_s\": {}}}",
                lines.len(),
                lines.len() as f64 / secs
            );
        }
        other => fail(format!("unknown mode `{other}`")),
    }
}
