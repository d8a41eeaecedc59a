//! SimilarityIndex: graph build, single-query HNSW search, exact scan, on random unit vectors
//! (10k x 128 and 10k x 384) and on Loghub lines embedded by TextIndex (many identical vectors).
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use faultlens::{IndexConfig, SearchOptions, SimilarityIndex, TextIndex, TextIndexConfig};

#[path = "common.rs"]
mod common;

fn random_unit(n: usize, d: usize, seed: u64) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut v: Vec<f32> = (0..n * d)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect();
    for row in v.chunks_mut(d) {
        let n = row.iter().map(|a| a * a).sum::<f32>().sqrt();
        row.iter_mut().for_each(|a| *a /= n);
    }
    v
}

fn build(d: usize, data: &[f32], exact_below: usize) -> SimilarityIndex {
    let idx = SimilarityIndex::new(IndexConfig {
        exact_below,
        ..IndexConfig::new(d)
    })
    .unwrap();
    let ids: Vec<u64> = (0..(data.len() / d) as u64).collect();
    idx.add(&ids, data, None).unwrap();
    idx
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("index");
    g.sample_size(10);
    for d in [128, 384] {
        let n = 10_000;
        let data = random_unit(n, d, d as u64);
        let queries = random_unit(200, d, 99);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(BenchmarkId::new("hnsw/build", format!("{n}_x_{d}")), |b| {
            b.iter(|| build(d, &data, 0))
        });
        let idx = build(d, &data, 0);
        g.throughput(Throughput::Elements(200));
        for ef in [32, 64, 128] {
            let opts = SearchOptions {
                ef: Some(ef),
                ..Default::default()
            };
            g.bench_function(
                BenchmarkId::new(format!("hnsw/search_one/ef{ef}"), format!("{n}_x_{d}")),
                |b| {
                    b.iter(|| {
                        for q in queries.chunks(d) {
                            idx.search_one(q, 10, &opts).unwrap();
                        }
                    })
                },
            );
        }
        let exact = SearchOptions {
            exact: true,
            ..Default::default()
        };
        g.bench_function(
            BenchmarkId::new("exact/search_batch", format!("{n}_x_{d}")),
            |b| b.iter(|| idx.search(&queries, 10, &exact).unwrap()),
        );
        g.bench_function(
            BenchmarkId::new("exact/search_one", format!("{n}_x_{d}")),
            |b| {
                b.iter(|| {
                    for q in queries.chunks(d) {
                        idx.search_one(q, 10, &exact).unwrap();
                    }
                })
            },
        );
    }
    // Loghub lines: TF-IDF + projection to 512 dims, ~40% identical vectors.
    let lines = common::corpus();
    let t = TextIndex::new(TextIndexConfig::default()).unwrap();
    t.add(&lines, None).unwrap();
    let queries: Vec<&String> = lines.iter().step_by(80).collect();
    g.throughput(Throughput::Elements(queries.len() as u64));
    g.bench_function(
        BenchmarkId::new("text/search_one", format!("{}_lines", lines.len())),
        |b| {
            b.iter(|| {
                for q in &queries {
                    t.search(q, 3, &SearchOptions::default()).unwrap();
                }
            })
        },
    );
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
