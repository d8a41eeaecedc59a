//! Drift detection throughput: KL detector updates (a full windowed check after every score, per
//! score results or the compact `add_batch`),
//! ADWIN and Page-Hinkley updates, ks_2samp and calibration, on seeded Beta(8, 2) scores.
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use faultlens::drift::{
    Adwin, AdwinConfig, KlDriftConfig, KlDriftDetector, PageHinkley, PageHinkleyConfig, ks_2samp,
};

/// Seeded Beta(8, 2) (8th smallest of 9 splitmix64 uniforms), clamped after `shift`.
fn beta82(seed: u64, n: usize, shift: f64) -> Vec<f64> {
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
            (v[7] + shift).clamp(0.0, 1.0)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let base = beta82(1, 20_000, 0.0);
    let stream = beta82(2, 100_000, 0.0);
    let mut g = c.benchmark_group("drift");
    g.sample_size(10);
    g.throughput(Throughput::Elements(stream.len() as u64));
    let mut kl = KlDriftDetector::from_baseline(&base, KlDriftConfig::default()).unwrap();
    g.bench_function(BenchmarkId::new("kl_add_many", "100k_scores"), |b| {
        b.iter(|| kl.add_many(&stream, Some(0.0)).unwrap())
    });
    g.bench_function(BenchmarkId::new("kl_add_batch", "100k_scores"), |b| {
        b.iter(|| kl.add_batch(&stream, Some(0.0)).unwrap())
    });
    g.bench_function(BenchmarkId::new("kl_add", "100k_scores"), |b| {
        b.iter(|| {
            for &s in &stream {
                kl.add(s, Some(0.0)).unwrap();
            }
        })
    });
    let mut adwin = Adwin::new(AdwinConfig::default()).unwrap();
    g.bench_function(BenchmarkId::new("adwin_update_many", "100k_scores"), |b| {
        b.iter(|| adwin.update_many(&stream).unwrap())
    });
    let mut ph = PageHinkley::new(PageHinkleyConfig::default()).unwrap();
    g.bench_function(
        BenchmarkId::new("page_hinkley_update_many", "100k_scores"),
        |b| b.iter(|| ph.update_many(&stream).unwrap()),
    );
    g.throughput(Throughput::Elements(1));
    let (a, bb) = (&stream[..5000], &stream[5000..10000]);
    g.bench_function(BenchmarkId::new("ks_2samp_exact", "5000x5000"), |b| {
        b.iter(|| ks_2samp(a, bb).unwrap())
    });
    let (a, bb) = (&stream[..20_000], &stream[20_000..40_000]);
    g.bench_function(
        BenchmarkId::new("ks_2samp_asymptotic", "20000x20000"),
        |b| b.iter(|| ks_2samp(a, bb).unwrap()),
    );
    g.bench_function(
        BenchmarkId::new("calibrate", "20k_baseline_1000_resamples"),
        |b| b.iter(|| KlDriftDetector::from_baseline(&base, KlDriftConfig::default()).unwrap()),
    );
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
