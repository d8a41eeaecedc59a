//! Runs the KL detector's `add_batch` (and Adwin / Page-Hinkley `update_many`) over seeded
//! Beta(8, 2) scores and prints updates per second of CPU time, for `perf record` on a shared
//! machine (development aid).
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

fn rate(what: &str, n: usize, f: impl FnOnce()) {
    let cpu = cpu_ns();
    f();
    let ns = (cpu_ns() - cpu).max(1) as f64;
    println!("{what}: {:.1} M updates/s of CPU time", n as f64 / ns * 1e3);
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5_000_000);
    let base = beta82(1, 20_000);
    let xs = beta82(2, n);
    let mut d = KlDriftDetector::from_baseline(&base, KlDriftConfig::default()).unwrap();
    rate("KlDriftDetector::add_batch", n, || {
        let r = d.add_batch(&xs, Some(0.0)).unwrap();
        assert_eq!(r.n, n);
    });
    rate("KlDriftDetector::add_many", n, || {
        d.add_many(&xs, Some(0.0)).unwrap();
    });
    let mut a = Adwin::new(AdwinConfig::default()).unwrap();
    rate("Adwin::update_many", n, || {
        a.update_many(&xs).unwrap();
    });
    let mut p = PageHinkley::new(PageHinkleyConfig::default()).unwrap();
    rate("PageHinkley::update_many", n, || {
        p.update_many(&xs).unwrap();
    });
}
