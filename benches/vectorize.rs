//! TF-IDF (1..3)-gram fit and transform on real log lines, one core vs all cores.
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use faultlens::{TfidfConfig, TfidfVectorizer};

#[path = "common.rs"]
mod common;

fn bench(c: &mut Criterion) {
    let lines = common::corpus();
    let config = TfidfConfig {
        ngram_range: (1, 3),
        ..Default::default()
    };
    let mut fitted = TfidfVectorizer::new(config.clone()).unwrap();
    fitted.fit(&lines).unwrap();
    let mut g = c.benchmark_group("vectorize");
    g.throughput(Throughput::Elements(lines.len() as u64));
    g.sample_size(10);
    for parallel in [false, true] {
        let cores = if parallel { "all_cores" } else { "one_core" };
        g.bench_function(
            BenchmarkId::new("fit/ngram_1_3", format!("{}_lines/{cores}", lines.len())),
            |b| {
                faultlens::set_parallelism(parallel);
                b.iter(|| {
                    TfidfVectorizer::new(config.clone())
                        .unwrap()
                        .fit(&lines)
                        .map(|_| ())
                        .unwrap()
                });
                faultlens::set_parallelism(true);
            },
        );
        g.bench_function(
            BenchmarkId::new(
                "transform/ngram_1_3",
                format!("{}_lines/{cores}", lines.len()),
            ),
            |b| {
                faultlens::set_parallelism(parallel);
                b.iter(|| fitted.transform(&lines).unwrap());
                faultlens::set_parallelism(true);
            },
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
