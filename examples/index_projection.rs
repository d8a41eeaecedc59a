//! Measures how well TF-IDF → dense projections keep the nearest neighbours of exact cosine on
//! the sparse TF-IDF, on Loghub lines (`../shared/data/loghub`). The table it prints is the one in
//! `docs/index.md`. Run: `cargo run --release --example index_projection`.
//!
//! recall@10 counts a retrieved line when its true (sparse) cosine is within 1e-3 of the true
//! 10th best (the ann-benchmarks tie rule: 40% of Loghub lines share their vector with another).

use faultlens::index::project;
use faultlens::{IndexConfig, SearchOptions, SimilarityIndex, TfidfConfig, TfidfVectorizer};

const K: usize = 10;

fn main() -> faultlens::Result<()> {
    let Some(texts) = faultlens_suite::loghub_texts() else {
        eprintln!("no ../shared/data/loghub: nothing to measure");
        return Ok(());
    };
    for ngram in [(1, 1), (1, 2)] {
        let mut v = TfidfVectorizer::new(TfidfConfig {
            ngram_range: ngram,
            ..Default::default()
        })?;
        let x = v.fit_transform(&texts)?;
        let queries: Vec<usize> = (0..x.n_rows).step_by(x.n_rows / 400).collect();
        // Exact top-K by sparse cosine, kept as the K-th score per query.
        let truth: Vec<f64> = queries
            .iter()
            .map(|&q| {
                let mut s: Vec<f64> = (0..x.n_rows).map(|j| x.cosine(q, &x, j)).collect();
                s.sort_unstable_by(|a, b| b.total_cmp(a));
                s[K - 1]
            })
            .collect();
        println!(
            "ngram {ngram:?}: {} lines, {} features, {} queries",
            x.n_rows,
            x.n_cols,
            queries.len()
        );
        println!("| dim | nnz/feature | recall@10 | distinct vectors |");
        println!("|---|---|---|---|");
        for dim in [64, 128, 256, 512, 1024] {
            for nnz in [1, 2, 4, 8] {
                let dense = project(&x, dim, nnz);
                let keep: Vec<usize> = (0..x.n_rows).filter(|&r| !x.row(r).0.is_empty()).collect();
                let idx = SimilarityIndex::new(IndexConfig {
                    exact_below: usize::MAX,
                    ..IndexConfig::new(dim)
                })?;
                let ids: Vec<u64> = keep.iter().map(|&r| r as u64).collect();
                let flat: Vec<f32> = keep
                    .iter()
                    .flat_map(|&r| dense[r * dim..(r + 1) * dim].to_vec())
                    .collect();
                idx.add(&ids, &flat, None)?;
                let qflat: Vec<f32> = queries
                    .iter()
                    .flat_map(|&q| dense[q * dim..(q + 1) * dim].to_vec())
                    .collect();
                let hits = idx.search(
                    &qflat,
                    K,
                    &SearchOptions {
                        exact: true,
                        ..Default::default()
                    },
                )?;
                let mut found = 0;
                for ((&q, kth), h) in queries.iter().zip(&truth).zip(&hits) {
                    found += h
                        .iter()
                        .filter(|h| x.cosine(q, &x, h.id as usize) >= kth - 1e-3)
                        .count();
                }
                println!(
                    "| {dim} | {nnz} | {:.3} | {} |",
                    found as f64 / (K * queries.len()) as f64,
                    idx.n_vectors()
                );
            }
        }
    }
    Ok(())
}
