//! Runs the KL detector's `add_batch` (and Adwin / Page-Hinkley `update_many`) over seeded
//! Beta(8, 2) scores and prints updates per second of CPU time, for `perf record` on a shared
//! machine (development aid). Usage: `cargo run --release --example profile_drift [N] [REPS]`
//! (default 1,000,000 scores, the size of the Python bench's drift-free stream; 7 samples).
use faultlens::drift::{
    Adwin, AdwinConfig, KlDriftConfig, KlDriftDetector, PageHinkley, PageHinkleyConfig,
};

/// Nanoseconds this thread has run on a CPU (Linux): wall time on a shared box understates speed.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

/// Seeded Beta(8, 2): the 8th smallest of 9 splitmix64 uniforms.
fn beta82(seed: u64, n: usize) -> Vec<f64> {
    let mut s = seed;
    let mut u = move || {
        s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n)
        .map(|_| {
            let mut v: [f64; 9] = std::array::from_fn(|_| u());
            v.sort_by(f64::total_cmp);
            v[7]
        })
        .collect()
}

/// Times `reps` samples of 10 runs of `f` (which processes `n` scores) and prints the median
/// and best rate in CPU time: on a shared machine one sample can be slowed by its neighbours'
/// cache traffic, and the CPU clock advances in scheduler ticks (4 ms), so a sample must last
/// well beyond one.
fn rate(what: &str, n: usize, reps: usize, mut f: impl FnMut()) {
    let mut rates: Vec<f64> = (0..reps)
        .map(|_| {
            let cpu = cpu_ns();
            for _ in 0..10 {
                f();
            }
            10.0 * n as f64 / (cpu_ns() - cpu).max(1) as f64 * 1e3
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    println!(
        "{what}: {:.1} M updates/s of CPU time (median of {reps}; best {:.1})",
        rates[reps / 2],
        rates[reps - 1]
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let reps: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(7).max(1);
    let base = beta82(1, 20_000);
    let xs = beta82(2, n);
    let mut d = KlDriftDetector::from_baseline(&base, KlDriftConfig::default()).unwrap();
    rate("KlDriftDetector::add_batch", n, reps, || {
        let r = d.add_batch(&xs, Some(0.0)).unwrap();
        assert_eq!(r.n, n);
    });
    rate("KlDriftDetector::add_many", n, reps, || {
        d.add_many(&xs, Some(0.0)).unwrap();
    });
    let mut one = KlDriftDetector::from_baseline(&base, KlDriftConfig::default()).unwrap();
    rate(
        "KlDriftDetector::add (one call per score)",
        n.min(100_000),
        reps,
        || {
            for &x in &xs[..n.min(100_000)] {
                one.add(x, Some(0.0)).unwrap();
            }
        },
    );
    let mut a = Adwin::new(AdwinConfig::default()).unwrap();
    rate("Adwin::update_many", n, reps, || {
        a.update_many(&xs).unwrap();
    });
    let mut one = Adwin::new(AdwinConfig::default()).unwrap();
    rate("Adwin::update (one call per value)", n, reps, || {
        for &x in &xs {
            one.update(x).unwrap();
        }
    });
    let mut p = PageHinkley::new(PageHinkleyConfig::default()).unwrap();
    rate("PageHinkley::update_many", n, reps, || {
        p.update_many(&xs).unwrap();
    });
}
