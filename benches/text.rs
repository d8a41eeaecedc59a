//! Preprocessing throughput: one line, and batches on one core vs all cores.
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use faultlens::Preprocessor;

#[path = "common.rs"]
mod common;

fn bench(c: &mut Criterion) {
    let lines = common::corpus();
    let p = Preprocessor::default();
    let mut g = c.benchmark_group("text");
    g.bench_function("tokens/one_line", |b| {
        let line = "Failed password for invalid user admin from 187.141.143.180 port 46364 ssh2";
        b.iter(|| p.tokens(std::hint::black_box(line)))
    });
    g.bench_function("tokens/hangul_line", |b| {
        // Particles, light and other verbs, a past tense merged into the stem, mixed tokens.
        let line = "결제 서비스가 node-3에서 타임아웃으로 실패했고 DB 커넥션이 끊겨서 재시도했지만 응답이 없습니다";
        b.iter(|| p.tokens(std::hint::black_box(line)))
    });
    g.throughput(Throughput::Elements(lines.len() as u64));
    g.sample_size(10);
    for parallel in [false, true] {
        let id = BenchmarkId::new(
            "tokens_batch",
            format!(
                "{}_lines/{}",
                lines.len(),
                if parallel { "all_cores" } else { "one_core" }
            ),
        );
        g.bench_function(id, |b| {
            faultlens::set_parallelism(parallel);
            b.iter(|| p.tokens_batch(&lines));
            faultlens::set_parallelism(true);
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
