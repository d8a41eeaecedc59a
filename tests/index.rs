//! SimilarityIndex and TextIndex end to end: recall against brute force on random and on
//! clustered duplicate data, removals, files, concurrency, bad input, Loghub texts.

use std::sync::Arc;

use faultlens::{
    Artifact, Embedding, Filter, IndexConfig, Metric, SearchOptions, SimilarityIndex, TextIndex,
    TextIndexConfig,
};

fn rand_vecs(n: usize, d: usize, seed: u64) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n * d)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

fn brute_force(base: &[f32], d: usize, q: &[f32], k: usize, metric: Metric) -> Vec<f32> {
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let mut s: Vec<f32> = base
        .chunks(d)
        .map(|v| {
            let dot: f32 = v.iter().zip(q).map(|(a, b)| a * b).sum();
            match metric {
                Metric::Cosine => dot / (norm(v) * norm(q)),
                Metric::Dot => dot,
                _ => -v
                    .iter()
                    .zip(q)
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f32>()
                    .sqrt(),
            }
        })
        .collect();
    s.sort_unstable_by(|a, b| b.total_cmp(a));
    s.truncate(k);
    s
}

/// recall@k with the ann-benchmarks tie rule, against an independent brute force.
fn recall(idx: &SimilarityIndex, base: &[f32], queries: &[f32], k: usize, ef: usize) -> f64 {
    let d = idx.dim();
    let metric = idx.config().metric;
    let hits = idx
        .search(
            queries,
            k,
            &SearchOptions {
                ef: Some(ef),
                ..Default::default()
            },
        )
        .unwrap();
    let mut found = 0;
    for (q, h) in queries.chunks(d).zip(&hits) {
        let truth = brute_force(base, d, q, k, metric);
        let kth = truth[k - 1];
        let better = |s: f32| if metric == Metric::L2 { -s } else { s };
        found += h.iter().filter(|h| better(h.score) >= kth - 1e-3).count();
    }
    found as f64 / (k * hits.len()) as f64
}

#[test]
fn recall_against_brute_force_per_metric() {
    let d = 24;
    let base = rand_vecs(1500, d, 11);
    let queries = rand_vecs(50, d, 12);
    for metric in [Metric::Cosine, Metric::Dot, Metric::L2] {
        let idx = SimilarityIndex::new(IndexConfig {
            metric,
            exact_below: 256,
            ef_construction: 64,
            ..IndexConfig::new(d)
        })
        .unwrap();
        let ids: Vec<u64> = (0..1500).collect();
        idx.add(&ids, &base, None).unwrap();
        assert!(idx.has_graph());
        let r = recall(&idx, &base, &queries, 10, 100);
        assert!(r >= 0.95, "{metric:?}: recall {r}");
        let exact = idx
            .search(
                &queries,
                10,
                &SearchOptions {
                    exact: true,
                    ..Default::default()
                },
            )
            .unwrap();
        for (q, h) in queries.chunks(d).zip(&exact) {
            let truth = brute_force(&base, d, q, 10, metric);
            let got: Vec<f32> = h
                .iter()
                .map(|h| {
                    if metric == Metric::L2 {
                        -h.score
                    } else {
                        h.score
                    }
                })
                .collect();
            for (a, b) in got.iter().zip(&truth) {
                assert!(
                    (a - b).abs() < 1e-4,
                    "{metric:?}: exact {a} vs brute force {b}"
                );
            }
        }
    }
}

#[test]
fn clustered_duplicates_keep_recall_and_stay_small() {
    // 300 cluster centres, each point repeated 1 to 12 times plus some near-duplicates: the shape
    // of masked log lines, where HNSW without deduplication stalls below full recall.
    let d = 32;
    let centres = rand_vecs(300, d, 21);
    let noise = rand_vecs(3000, d, 22);
    let mut base = Vec::new();
    for i in 0..3000 {
        let c = &centres[(i % 300) * d..(i % 300 + 1) * d];
        if i % 4 == 0 {
            base.extend(
                c.iter()
                    .zip(&noise[i * d..(i + 1) * d])
                    .map(|(a, b)| a + 0.05 * b),
            );
        } else {
            base.extend_from_slice(c);
        }
    }
    let idx = SimilarityIndex::new(IndexConfig {
        exact_below: 100,
        ef_construction: 64,
        ..IndexConfig::new(d)
    })
    .unwrap();
    let ids: Vec<u64> = (0..3000).collect();
    idx.add(&ids, &base, None).unwrap();
    assert_eq!(idx.len(), 3000);
    // 300 is a multiple of 4, so centres c with c % 4 == 0 only occur with noise.
    assert_eq!(idx.n_vectors(), 225 + 750);
    let queries = rand_vecs(50, d, 23);
    // Parallel insertion makes the graph differ run to run: at ef 64 recall ranged 0.978-1.0
    // over 20 runs, at ef 128 it was 1.0 every time.
    let r = recall(&idx, &base, &queries, 10, 128);
    assert!(r >= 0.99, "recall {r}");
}

#[test]
fn file_round_trip_and_corruption() {
    let dir = std::env::temp_dir().join(format!("fl-index-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let d = 16;
    let base = rand_vecs(400, d, 31);
    let idx = SimilarityIndex::new(IndexConfig {
        exact_below: 64,
        ef_construction: 64,
        ..IndexConfig::new(d)
    })
    .unwrap();
    let ids: Vec<u64> = (1000..1400).collect();
    let payloads = (0..400).map(|i| Some(format!(r#"{{"n":{i}}}"#))).collect();
    idx.add(&ids, &base, Some(payloads)).unwrap();
    idx.remove(&[1000, 1001]).unwrap();
    let path = dir.join("idx.flm");
    idx.save(&path).unwrap();
    let back = SimilarityIndex::load(&path).unwrap();
    assert_eq!(back.len(), 398);
    assert!(back.has_graph());
    let f = SearchOptions {
        filter: Some(Filter::Payload {
            field: "n".into(),
            value: 7.into(),
        }),
        ..Default::default()
    };
    let h = back.search_one(&base[7 * d..8 * d], 3, &f).unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].id, 1007);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.truncate(bytes.len() - 3);
    assert_eq!(
        SimilarityIndex::from_bytes(&bytes).unwrap_err().code(),
        "Corrupt"
    );
    // A text index file is not a similarity index.
    let t = TextIndex::new(TextIndexConfig::default()).unwrap();
    let e = SimilarityIndex::from_bytes(&t.to_bytes().unwrap()).unwrap_err();
    assert_eq!(e.code(), "WrongKind");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn many_searchers_one_writer_one_remover() {
    let d = 16;
    let idx = Arc::new(
        SimilarityIndex::new(IndexConfig {
            exact_below: 300,
            ef_construction: 64,
            ..IndexConfig::new(d)
        })
        .unwrap(),
    );
    let base = rand_vecs(3000, d, 41);
    idx.add(&(0..200).collect::<Vec<u64>>(), &base[..200 * d], None)
        .unwrap();
    std::thread::scope(|s| {
        let w = {
            let (idx, base) = (idx.clone(), &base);
            s.spawn(move || {
                for b in 2..30 {
                    let ids: Vec<u64> = (b * 100..(b + 1) * 100).collect();
                    idx.add(
                        &ids,
                        &base[b as usize * 100 * d..(b as usize + 1) * 100 * d],
                        None,
                    )
                    .unwrap();
                    // Remove a few of the first ids as we go.
                    idx.remove(&[b]).unwrap();
                }
            })
        };
        for t in 0..3usize {
            let (idx, base) = (idx.clone(), &base);
            s.spawn(move || {
                for i in 0..150 {
                    let q = &base[((i * 13 + t) % 200) * d..][..d];
                    let hits = idx.search(q, 10, &Default::default()).unwrap();
                    assert!(hits[0].len() <= 10 && !hits[0].is_empty());
                }
            });
        }
        w.join().unwrap();
    });
    assert_eq!(idx.len(), 3000 - 28);
    for id in 2..30u64 {
        assert!(!idx.contains(id));
    }
}

#[test]
fn text_index_on_log_lines() {
    let lines = [
        (
            "Connection refused to 10.0.0.7:5432 after 3 retries",
            "check postgres is up",
        ),
        (
            "Disk quota exceeded for /var/lib/postgres",
            "grow the volume",
        ),
        (
            "OutOfMemoryError: Java heap space in worker-12",
            "raise -Xmx",
        ),
        (
            "TLS handshake failed: certificate expired for api.example.com",
            "renew the certificate",
        ),
        (
            "Permission denied (publickey) for user deploy from 10.2.3.4",
            "add the deploy key",
        ),
    ];
    let idx = TextIndex::new(TextIndexConfig::default()).unwrap();
    let texts: Vec<&str> = lines.iter().map(|l| l.0).collect();
    let payloads = lines.iter().map(|l| Some(l.1.to_owned())).collect();
    idx.add(&texts, Some(payloads)).unwrap();
    let opts = SearchOptions {
        threshold: Some(0.7),
        ..Default::default()
    };
    let h = idx
        .search(
            "Connection refused to 10.9.9.9:6379 after 5 retries",
            3,
            &opts,
        )
        .unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].payload.as_deref(), Some("check postgres is up"));
    let h = idx
        .search(
            "java.lang.OutOfMemoryError: Java heap space in worker-3",
            3,
            &opts,
        )
        .unwrap();
    assert_eq!(h[0].payload.as_deref(), Some("raise -Xmx"));
    assert!(
        idx.search("completely unrelated words", 3, &opts)
            .unwrap()
            .is_empty()
    );
    // Projected cosine follows the vectoriser's sparse cosine.
    let v = idx.vectorizer().unwrap();
    let h = idx.search(texts[1], 5, &Default::default()).unwrap();
    for hit in &h {
        let truth = v.similarity(texts[1], &hit.text).unwrap() as f32;
        assert!((hit.score - truth).abs() < 0.2, "{} vs {truth}", hit.score);
    }
    // External embeddings, wrong dimension.
    let ext = TextIndex::new(TextIndexConfig {
        embedding: Embedding::External { dim: 4 },
        ..Default::default()
    })
    .unwrap();
    let e = ext
        .search_embedded(&[1.0, 2.0, 3.0], 1, &Default::default())
        .unwrap_err();
    assert_eq!(e.code(), "InvalidInput");
}

#[test]
#[ignore = "needs the Loghub data (not in the repository): `make test-data`"]
fn text_index_recall_on_loghub() {
    let texts = faultlens_suite::loghub_texts().expect(faultlens_suite::NO_LOGHUB);
    let texts: Vec<String> = texts.into_iter().step_by(4).collect();
    let idx = TextIndex::new(TextIndexConfig::default()).unwrap();
    idx.add(&texts, None).unwrap();
    let v = idx.vectorizer().unwrap();
    let x = v.transform(&texts).unwrap();
    let (mut found, mut total) = (0, 0);
    for q in (0..texts.len()).step_by(97) {
        let mut s: Vec<f64> = (0..x.n_rows).map(|j| x.cosine(q, &x, j)).collect();
        s.sort_unstable_by(|a, b| b.total_cmp(a));
        let kth = s[9];
        let hits = idx.search(&texts[q], 10, &Default::default()).unwrap();
        found += hits
            .iter()
            .filter(|h| x.cosine(q, &x, h.id as usize) >= kth - 1e-3)
            .count();
        total += 10;
    }
    let r = found as f64 / total as f64;
    assert!(r >= 0.9, "recall@10 vs sparse cosine {r}");
}
