use super::*;

/// Deterministic pseudo-random floats in [-1, 1).
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

/// Options for an exact scan (the reference every approximate search is checked against).
fn exact() -> SearchOptions {
    SearchOptions {
        exact: true,
        ..Default::default()
    }
}

fn ids(n: usize) -> Vec<u64> {
    (0..n as u64).collect()
}

fn small(metric: Metric) -> SimilarityIndex {
    let idx = SimilarityIndex::new(IndexConfig {
        metric,
        ..IndexConfig::new(2)
    })
    .unwrap();
    idx.add(
        &[10, 20, 30],
        &[1.0, 0.0, 0.0, 2.0, 3.0, 3.0],
        Some(vec![
            Some("a".into()),
            None,
            Some(r#"{"team":"db"}"#.into()),
        ]),
    )
    .unwrap();
    idx
}

#[test]
fn scores_per_metric() {
    let cos = small(Metric::Cosine);
    let h = cos
        .search_one(&[1.0, 0.0], 3, &SearchOptions::default())
        .unwrap();
    assert_eq!(h.iter().map(|h| h.id).collect::<Vec<_>>(), [10, 30, 20]);
    assert!((h[0].score - 1.0).abs() < 1e-6);
    assert!((h[1].score - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
    assert_eq!(h[0].payload.as_deref(), Some("a"));

    let dot = small(Metric::Dot);
    let h = dot
        .search_one(&[1.0, 1.0], 3, &SearchOptions::default())
        .unwrap();
    assert_eq!(h.iter().map(|h| h.id).collect::<Vec<_>>(), [30, 20, 10]);
    assert!((h[0].score - 6.0).abs() < 1e-6);

    let l2 = small(Metric::L2);
    let h = l2
        .search_one(&[0.0, 2.5], 3, &SearchOptions::default())
        .unwrap();
    assert_eq!(h.iter().map(|h| h.id).collect::<Vec<_>>(), [20, 10, 30]);
    assert!((h[0].score - 0.5).abs() < 1e-6);
    // l2 thresholds are maximum distances.
    let opts = SearchOptions {
        threshold: Some(1.0),
        ..Default::default()
    };
    assert_eq!(l2.search_one(&[0.0, 2.5], 3, &opts).unwrap().len(), 1);
}

#[test]
fn threshold_and_k_give_fewer_results_not_errors() {
    let idx = small(Metric::Cosine);
    let opts = SearchOptions {
        threshold: Some(0.99),
        ..Default::default()
    };
    assert_eq!(idx.search_one(&[1.0, 0.0], 3, &opts).unwrap().len(), 1);
    assert_eq!(
        idx.search_one(&[1.0, 0.0], 1000, &Default::default())
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        idx.search_one(&[1.0, 0.0], usize::MAX, &Default::default())
            .unwrap()
            .len(),
        3
    );
    let r = idx
        .range_search(&[1.0, 0.0], 0.5, &Default::default())
        .unwrap();
    assert_eq!(r.iter().map(|h| h.id).collect::<Vec<_>>(), [10, 30]);
}

#[test]
fn bad_input_is_rejected_and_index_stays_usable() {
    let idx = small(Metric::Cosine);
    let code = |r: Result<()>| r.unwrap_err().code();
    assert_eq!(code(idx.add(&[1], &[1.0], None)), "Dimension");
    assert_eq!(code(idx.add(&[1], &[f32::NAN, 1.0], None)), "InvalidInput");
    assert_eq!(
        code(idx.add(&[1], &[f32::INFINITY, 1.0], None)),
        "InvalidInput"
    );
    assert_eq!(code(idx.add(&[1], &[0.0, 0.0], None)), "InvalidInput");
    assert_eq!(code(idx.add(&[10], &[1.0, 1.0], None)), "InvalidInput");
    assert_eq!(
        code(idx.add(&[1, 1], &[1.0, 1.0, 1.0, 2.0], None)),
        "InvalidInput"
    );
    assert_eq!(
        code(idx.add(&[1, 2], &[1.0, 1.0, 1.0], None)),
        "InvalidInput"
    );
    assert_eq!(
        code(idx.add(&[1], &[1.0, 1.0], Some(vec![]))),
        "InvalidInput"
    );
    assert_eq!(code(idx.remove(&[10, 99])), "InvalidInput");
    assert_eq!(code(idx.remove(&[10, 10])), "InvalidInput");
    let e = idx.search(&[1.0, 0.0], 0, &Default::default()).unwrap_err();
    assert_eq!(e.code(), "InvalidInput");
    let e = idx
        .search(&[1.0, 0.0, 1.0], 1, &Default::default())
        .unwrap_err();
    assert_eq!(e.code(), "InvalidInput");
    let e = idx
        .search_one(&[0.0, 0.0], 1, &Default::default())
        .unwrap_err();
    assert!(e.to_string().contains("non-zero"), "{e}");
    // Nothing of the rejected calls stuck.
    assert_eq!(idx.len(), 3);
    assert_eq!(
        idx.search_one(&[1.0, 0.0], 5, &Default::default())
            .unwrap()
            .len(),
        3
    );
    for (cfg, field) in [
        (IndexConfig::default(), "dim"),
        (
            IndexConfig {
                m: 1,
                ..IndexConfig::new(4)
            },
            "m",
        ),
        (
            IndexConfig {
                m: 1000,
                ..IndexConfig::new(4)
            },
            "m",
        ),
        (
            IndexConfig {
                ef_search: 0,
                ..IndexConfig::new(4)
            },
            "ef_search",
        ),
    ] {
        match SimilarityIndex::new(cfg).unwrap_err() {
            Error::InvalidConfig { field: f, .. } => assert_eq!(f, field),
            e => panic!("{e}"),
        }
    }
}

#[test]
fn duplicates_share_one_node() {
    let idx = SimilarityIndex::new(IndexConfig::new(3)).unwrap();
    // Same direction, different lengths: one node under cosine.
    idx.add(
        &[1, 2, 3],
        &[1.0, 2.0, 3.0, 2.0, 4.0, 6.0, 0.0, 1.0, 0.0],
        None,
    )
    .unwrap();
    idx.add(&[4], &[1.0, 2.0, 3.0], None).unwrap();
    assert_eq!((idx.len(), idx.n_vectors()), (4, 2));
    let h = idx
        .search_one(&[1.0, 2.0, 3.0], 10, &Default::default())
        .unwrap();
    assert_eq!(h.iter().map(|h| h.id).collect::<Vec<_>>(), [1, 2, 4, 3]);
    // k cuts inside a node's ids.
    assert_eq!(
        idx.search_one(&[1.0, 2.0, 3.0], 2, &Default::default())
            .unwrap()
            .len(),
        2
    );
    idx.remove(&[1, 2]).unwrap();
    assert_eq!(idx.n_vectors(), 2);
    idx.remove(&[4]).unwrap();
    assert_eq!((idx.n_vectors(), idx.n_tombstones()), (1, 1));
    // A removed vector comes back with a new id.
    idx.add(&[5], &[1.0, 2.0, 3.0], None).unwrap();
    assert_eq!((idx.n_vectors(), idx.n_tombstones()), (2, 0));
}

fn recall(idx: &SimilarityIndex, queries: &[f32], k: usize, ef: usize) -> f64 {
    let approx = idx
        .search(
            queries,
            k,
            &SearchOptions {
                ef: Some(ef),
                ..Default::default()
            },
        )
        .unwrap();
    let exact = idx.search(queries, k, &exact()).unwrap();
    let mut found = 0;
    for (a, e) in approx.iter().zip(&exact) {
        // ann-benchmarks rule: a result within 1e-3 of the true k-th score counts.
        let kth = e.last().map(|h| h.score).unwrap_or(f32::MIN);
        found += a
            .iter()
            .filter(|h| h.score >= kth - 1e-3)
            .count()
            .min(e.len());
    }
    found as f64 / exact.iter().map(Vec::len).sum::<usize>() as f64
}

#[test]
fn graph_recall_on_random_and_duplicated_data() {
    let d = 32;
    let idx = SimilarityIndex::new(IndexConfig {
        exact_below: 100,
        ef_construction: 64,
        ..IndexConfig::new(d)
    })
    .unwrap();
    let base = rand_vecs(1000, d, 1);
    idx.add(&ids(1000), &base, None).unwrap();
    assert!(idx.has_graph());
    let q = rand_vecs(100, d, 2);
    let r = recall(&idx, &q, 10, 64);
    assert!(r >= 0.95, "recall {r}");

    // 200 distinct points, each repeated 10 times: one node each, recall stays high.
    let dup = SimilarityIndex::new(IndexConfig {
        exact_below: 100,
        ef_construction: 64,
        ..IndexConfig::new(d)
    })
    .unwrap();
    let distinct = rand_vecs(200, d, 3);
    let all = distinct.repeat(10);
    dup.add(&ids(2000), &all, None).unwrap();
    assert_eq!(dup.n_vectors(), 200);
    let r = recall(&dup, &q, 10, 32);
    assert!(r >= 0.99, "recall {r}");
}

#[test]
fn removed_ids_never_come_back() {
    let d = 16;
    let idx = SimilarityIndex::new(IndexConfig {
        exact_below: 50,
        ef_construction: 64,
        ..IndexConfig::new(d)
    })
    .unwrap();
    let v = rand_vecs(600, d, 4);
    idx.add(&ids(600), &v, None).unwrap();
    let gone: Vec<u64> = (0..600).step_by(2).collect();
    idx.remove(&gone).unwrap();
    for exact in [false, true] {
        let hits = idx
            .search(
                &v[..50 * d],
                20,
                &SearchOptions {
                    exact,
                    ..Default::default()
                },
            )
            .unwrap();
        for h in hits.iter().flatten() {
            assert!(h.id % 2 == 1, "removed id {} returned", h.id);
        }
        assert!(hits.iter().all(|h| h.len() == 20));
    }
    idx.compact().unwrap();
    assert_eq!((idx.len(), idx.n_tombstones()), (300, 0));
    let h = idx
        .search_one(&v[d..2 * d], 1, &Default::default())
        .unwrap();
    assert_eq!(h[0].id, 1);
    assert!(idx.get(0).is_none() && idx.get(1).is_some());
}

#[test]
fn filters_keep_recall_when_tight() {
    let d = 16;
    let idx = SimilarityIndex::new(IndexConfig {
        exact_below: 50,
        ef_construction: 64,
        ..IndexConfig::new(d)
    })
    .unwrap();
    let v = rand_vecs(1500, d, 5);
    let payloads = (0..1500)
        .map(|i| {
            Some(format!(
                r#"{{"team":"{}"}}"#,
                if i % 100 == 0 { "db" } else { "web" }
            ))
        })
        .collect();
    idx.add(&ids(1500), &v, Some(payloads)).unwrap();
    let q = rand_vecs(1, d, 6);
    let by_payload = SearchOptions {
        filter: Some(Filter::Payload {
            field: "team".into(),
            value: "db".into(),
        }),
        ..Default::default()
    };
    let h = idx.search_one(&q, 50, &by_payload).unwrap();
    assert_eq!(h.len(), 15);
    assert!(h.iter().all(|h| h.id % 100 == 0));
    assert!(h.windows(2).all(|w| w[0].score >= w[1].score));
    let wanted: Vec<u64> = (0..1500).step_by(3).collect();
    let by_ids = SearchOptions {
        filter: Some(Filter::Ids { ids: wanted }),
        ..Default::default()
    };
    let approx = idx.search_one(&q, 10, &by_ids).unwrap();
    let exact = idx
        .search_one(
            &q,
            10,
            &SearchOptions {
                exact: true,
                ..by_ids.clone()
            },
        )
        .unwrap();
    assert!(approx.iter().all(|h| h.id % 3 == 0));
    let common = approx
        .iter()
        .filter(|h| exact.iter().any(|e| e.id == h.id))
        .count();
    assert!(common >= 9, "{common}");
}

#[test]
fn save_load_round_trip() {
    let d = 8;
    let idx = SimilarityIndex::new(IndexConfig {
        exact_below: 100,
        ef_construction: 64,
        metric: Metric::L2,
        ..IndexConfig::new(d)
    })
    .unwrap();
    let v = rand_vecs(500, d, 7);
    let payloads = (0..500)
        .map(|i| (i % 3 == 0).then(|| format!("fix {i}")))
        .collect();
    idx.add(&ids(500), &v, Some(payloads)).unwrap();
    idx.remove(&[3, 4]).unwrap();
    let bytes = idx.to_bytes().unwrap();
    let back = SimilarityIndex::from_bytes(&bytes).unwrap();
    assert_eq!(back.len(), 498);
    assert_eq!(back.config(), idx.config());
    assert_eq!(back.get(6), idx.get(6));
    assert!(back.get(3).is_none());
    let opts = exact();
    assert_eq!(
        back.search(&v, 5, &opts).unwrap(),
        idx.search(&v, 5, &opts).unwrap()
    );
    // Saving the reloaded index gives the same bytes.
    assert_eq!(back.to_bytes().unwrap(), bytes);
    let mut bad = bytes.clone();
    let n = bad.len();
    bad[n - 10] ^= 1;
    assert_eq!(
        SimilarityIndex::from_bytes(&bad).unwrap_err().code(),
        "Corrupt"
    );
}

#[test]
fn searches_run_while_another_thread_adds() {
    let d = 16;
    let idx = std::sync::Arc::new(
        SimilarityIndex::new(IndexConfig {
            exact_below: 200,
            ef_construction: 64,
            ..IndexConfig::new(d)
        })
        .unwrap(),
    );
    let v = rand_vecs(2000, d, 8);
    idx.add(&ids(100), &v[..100 * d], None).unwrap();
    std::thread::scope(|s| {
        let writer = {
            let (idx, v) = (idx.clone(), &v);
            s.spawn(move || {
                for b in 1..20 {
                    let r = b * 100..(b + 1) * 100;
                    let batch: Vec<u64> = r.clone().map(|i| i as u64).collect();
                    idx.add(&batch, &v[r.start * d..r.end * d], None).unwrap();
                }
            })
        };
        for t in 0..3 {
            let (idx, v) = (idx.clone(), &v);
            s.spawn(move || {
                for i in 0..200 {
                    let q = &v[((i * 7 + t) % 100) * d..][..d];
                    let h = idx.search_one(q, 5, &Default::default()).unwrap();
                    assert!(!h.is_empty() && h.len() <= 5);
                }
            });
        }
        writer.join().unwrap();
    });
    assert_eq!(idx.len(), 2000);
    assert!(idx.has_graph());
    let h = idx
        .search_one(&v[1999 * d..], 1, &Default::default())
        .unwrap();
    assert_eq!(h[0].id, 1999);
}

#[test]
fn types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<SimilarityIndex>();
    check::<TextIndex>();
}

#[test]
fn text_index_adds_searches_refits_and_reloads() {
    let idx = TextIndex::new(TextIndexConfig::default()).unwrap();
    let ids = idx
        .add(
            &[
                "Connection refused to 10.0.0.7:5432",
                "Disk quota exceeded for /var/lib/postgres",
            ],
            Some(vec![Some("restart db".into()), Some("clean disk".into())]),
        )
        .unwrap();
    assert_eq!(ids, [0, 1]);
    let h = idx
        .search("connection refused to 10.1.1.1:80", 3, &Default::default())
        .unwrap();
    assert_eq!(h[0].id, 0);
    assert!(h[0].score > 0.99, "{}", h[0].score);
    assert_eq!(h[0].payload.as_deref(), Some("restart db"));
    // Unknown words: no result, no error.
    assert!(
        idx.search("zzzz qqqq", 3, &Default::default())
            .unwrap()
            .is_empty()
    );
    // New vocabulary triggers a refit, and the new text is found.
    idx.add(&["Kernel panic not syncing"], None).unwrap();
    let h = idx.search("kernel panic", 1, &Default::default()).unwrap();
    assert_eq!(h[0].text, "Kernel panic not syncing");
    assert_eq!(idx.add(&["   "], None).unwrap_err().code(), "InvalidInput");
    let back = TextIndex::from_bytes(&idx.to_bytes().unwrap()).unwrap();
    assert_eq!(back.len(), 3);
    assert_eq!(
        back.search("kernel panic", 1, &Default::default()).unwrap(),
        h
    );
    let next = back.add(&["disk quota exceeded again"], None).unwrap();
    assert_eq!(next, [3]);
    // External embeddings: dimension checked.
    let ext = TextIndex::new(TextIndexConfig {
        embedding: Embedding::External { dim: 3 },
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        ext.add_embedded(&["a"], &[1.0, 0.0], None)
            .unwrap_err()
            .code(),
        "Dimension"
    );
    assert_eq!(ext.add(&["a"], None).unwrap_err().code(), "InvalidInput");
    ext.add_embedded(&["a", "b"], &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0], None)
        .unwrap();
    let h = ext
        .search_embedded(&[0.9, 0.1, 0.0], 1, &Default::default())
        .unwrap();
    assert_eq!(h[0][0].text, "a");
}

#[test]
fn exact_batch_blocks_equal_one_query_at_a_time() {
    let d = 12;
    let idx = SimilarityIndex::new(IndexConfig::new(d)).unwrap();
    let v = rand_vecs(300, d, 9);
    idx.add(&ids(300), &v, None).unwrap();
    idx.remove(&[5, 6, 7]).unwrap();
    let q = rand_vecs(21, d, 10); // not a multiple of the block size
    let opts = SearchOptions {
        exact: true,
        threshold: Some(0.1),
        ..Default::default()
    };
    let batch = idx.search(&q, 7, &opts).unwrap();
    for (i, row) in q.chunks(d).enumerate() {
        assert_eq!(
            idx.search_one(row, 7, &opts).unwrap(),
            batch[i],
            "query {i}"
        );
    }
}

#[test]
fn one_thread_builds_the_same_graph_every_time() {
    let d = 16;
    let v = rand_vecs(700, d, 11);
    let build = |batches: &[(usize, usize)]| {
        let idx = SimilarityIndex::new(IndexConfig {
            exact_below: 0,
            m: 8,
            ef_construction: 48,
            ..IndexConfig::new(d)
        })
        .unwrap();
        for &(a, b) in batches {
            let ids: Vec<u64> = (a as u64..b as u64).collect();
            idx.add(&ids, &v[a * d..b * d], None).unwrap();
        }
        idx
    };
    crate::parallel::set_parallelism(false);
    let one = build(&[(0, 700)]);
    let split = build(&[(0, 1), (1, 300), (300, 700)]);
    let reloaded = SimilarityIndex::from_bytes(&one.to_bytes().unwrap()).unwrap();
    crate::parallel::set_parallelism(true);
    let dump = one.graph_dump().unwrap();
    // Batching does not matter: levels come from the row number, insertion order is row order.
    assert_eq!(split.graph_dump().unwrap(), dump);
    assert_eq!(reloaded.graph_dump().unwrap(), dump);
    // Level 0 is connected enough for every node to have links, and lists respect 2m.
    assert!(dump.1.iter().all(|n| !n[0].is_empty() && n[0].len() <= 16));
    assert!(dump.1.iter().all(|n| n[1..].iter().all(|l| l.len() <= 8)));
    // A parallel build differs in detail but finds the same nearest neighbours.
    let par = build(&[(0, 700)]);
    for (i, q) in v.chunks(d).take(50).enumerate() {
        let h = par.search_one(q, 1, &Default::default()).unwrap();
        assert_eq!(h[0].id, i as u64);
    }
}

#[test]
fn graph_search_per_metric_matches_exact_on_most_queries() {
    let d = 24;
    let v = rand_vecs(1200, d, 12);
    let q = rand_vecs(60, d, 13);
    for metric in [Metric::Cosine, Metric::Dot, Metric::L2] {
        let idx = SimilarityIndex::new(IndexConfig {
            exact_below: 0,
            metric,
            ef_construction: 100,
            ..IndexConfig::new(d)
        })
        .unwrap();
        idx.add(&ids(1200), &v, None).unwrap();
        let graph = |exact| {
            let opts = SearchOptions {
                exact,
                ef: Some(100),
                ..Default::default()
            };
            idx.search(&q, 10, &opts).unwrap()
        };
        let (approx, exact) = (graph(false), graph(true));
        let common: usize = approx
            .iter()
            .zip(&exact)
            .map(|(a, e)| a.iter().filter(|h| e.iter().any(|x| x.id == h.id)).count())
            .sum();
        let r = common as f64 / (10 * q.len() / d) as f64;
        assert!(r >= 0.9, "{metric:?}: recall {r}");
    }
}

#[test]
fn max_items_caps_the_index_with_a_clear_error() {
    let d = 4;
    let idx = SimilarityIndex::new(IndexConfig {
        max_items: Some(5),
        ..IndexConfig::new(d)
    })
    .unwrap();
    let v = rand_vecs(8, d, 14);
    idx.add(&[0, 1, 2], &v[..3 * d], None).unwrap();
    let e = idx.add(&[3, 4, 5], &v[3 * d..6 * d], None).unwrap_err();
    assert_eq!(e.code(), "InvalidInput");
    assert!(e.to_string().contains("max_items = 5"), "{e}");
    assert_eq!(idx.len(), 3); // all or nothing
    idx.add(&[3, 4], &v[3 * d..5 * d], None).unwrap();
    // Duplicate vectors count too: the cap is on ids, not distinct vectors.
    assert!(idx.add(&[9], &v[..d], None).is_err());
    idx.remove(&[0]).unwrap();
    idx.add(&[9], &v[..d], None).unwrap();
    assert_eq!(idx.len(), 5);
    // The cap is saved with the config and survives a reload.
    let back = SimilarityIndex::from_bytes(&idx.to_bytes().unwrap()).unwrap();
    assert_eq!(back.config().max_items, Some(5));
    assert!(back.add(&[10], &v[5 * d..6 * d], None).is_err());
    let e = SimilarityIndex::new(IndexConfig {
        max_items: Some(0),
        ..IndexConfig::new(d)
    })
    .unwrap_err();
    assert!(e.to_string().contains("max_items"), "{e}");
    // No cap by default, and an unset cap is not written to the file.
    assert_eq!(IndexConfig::new(d).max_items, None);
    let json = serde_json::to_string(&IndexConfig::new(d)).unwrap();
    assert!(!json.contains("max_items"), "{json}");
}

#[test]
fn payloads_come_back_through_every_store_change() {
    // A search skips payload lookups while no item has one: check every way the count changes.
    let d = 4;
    let idx = SimilarityIndex::new(IndexConfig {
        exact_below: 0,
        ..IndexConfig::new(d)
    })
    .unwrap();
    let v = rand_vecs(40, d, 11);
    let exact = exact();
    let graph = SearchOptions::default();
    let payload_of = |idx: &SimilarityIndex, i: usize, opts: &SearchOptions| {
        let h = idx.search_one(&v[i * d..(i + 1) * d], 1, opts).unwrap();
        assert_eq!(h[0].id, i as u64);
        h[0].payload.clone()
    };
    idx.add(&ids(20), &v[..20 * d], None).unwrap();
    assert_eq!(payload_of(&idx, 5, &graph), None);
    let later: Vec<u64> = (20..40).collect();
    let p = (20..40).map(|i| Some(format!("fix {i}"))).collect();
    idx.add(&later, &v[20 * d..], Some(p)).unwrap();
    for opts in [&graph, &exact] {
        assert_eq!(payload_of(&idx, 25, opts).as_deref(), Some("fix 25"));
        assert_eq!(payload_of(&idx, 5, opts), None);
    }
    idx.remove(&later[..19]).unwrap();
    assert_eq!(payload_of(&idx, 39, &graph).as_deref(), Some("fix 39"));
    idx.compact().unwrap();
    assert_eq!(payload_of(&idx, 39, &graph).as_deref(), Some("fix 39"));
    let back = SimilarityIndex::from_bytes(&idx.to_bytes().unwrap()).unwrap();
    assert_eq!(payload_of(&back, 39, &graph).as_deref(), Some("fix 39"));
    back.remove(&[39]).unwrap();
    assert_eq!(payload_of(&back, 5, &graph), None);
}

#[test]
fn a_loaded_file_searches_the_same_every_time() {
    // Clustered data and a narrow beam: the graph's answers are approximate, so any difference
    // between two rebuilt graphs shows in the top 5.
    let d = 24;
    let centres = rand_vecs(30, d, 21);
    let noise = rand_vecs(4000, d, 22);
    let v: Vec<f32> = (0..4000 * d)
        .map(|x| centres[(x / d % 30) * d + x % d] + 0.15 * noise[x])
        .collect();
    let queries = rand_vecs(200, d, 23);
    for target_recall in [None, Some(0.9)] {
        let idx = SimilarityIndex::new(IndexConfig {
            exact_below: 0,
            m: 6,
            ef_construction: 24,
            ef_search: 10,
            target_recall,
            ..IndexConfig::new(d)
        })
        .unwrap();
        idx.add(&ids(4000), &v, None).unwrap();
        let bytes = idx.to_bytes().unwrap();
        let top5 = |i: &SimilarityIndex| -> Vec<Vec<u64>> {
            let hits = i.search(&queries, 5, &SearchOptions::default()).unwrap();
            hits.iter()
                .map(|row| row.iter().map(|h| h.id).collect())
                .collect()
        };
        // A second save carries the tuning the first load made (old files have none).
        let first = SimilarityIndex::from_bytes(&bytes).unwrap();
        let resaved = first.to_bytes().unwrap();
        let first = SimilarityIndex::from_bytes(&resaved).unwrap();
        let bytes = resaved;
        let want = (first.graph_dump(), first.tuned(), top5(&first));
        for _ in 0..3 {
            let again = SimilarityIndex::from_bytes(&bytes).unwrap();
            let differ = top5(&again)
                .iter()
                .zip(&want.2)
                .filter(|(a, b)| a != b)
                .count();
            assert_eq!(
                differ, 0,
                "top 5 differ on {differ} queries ({target_recall:?})"
            );
            assert_eq!(again.tuned(), want.1, "tuning differs ({target_recall:?})");
            assert!(
                again.graph_dump() == want.0,
                "graph differs ({target_recall:?})"
            );
        }
    }
}

/// An index whose tuner is made to choose the quantised scan (when some rung meets the target)
/// whatever the timings say.
fn quantised(config: IndexConfig, v: &[f32]) -> SimilarityIndex {
    let idx = SimilarityIndex::new(config).unwrap();
    let n = v.len() / idx.dim();
    FORCE_MODE.with(|f| f.set(Some(1)));
    let added = idx.add(&ids(n), v, None);
    FORCE_MODE.with(|f| f.set(None));
    added.unwrap();
    idx
}

/// Every live node's exact key for `q`, by node (what the exact scan computes).
fn exact_keys(idx: &SimilarityIndex, q: &[f32]) -> FxHashMap<u32, u32> {
    let s = idx.read().unwrap();
    let q = idx.prepare(q, String::new).unwrap();
    idx.exact_nodes(&s, &q, s.n_nodes(), None)
        .into_iter()
        .map(|sc| (sc.node, sc.key.to_bits()))
        .collect()
}

/// Default searches (the quantised scan) against exact ones: each returned score has the exact
/// scan's bits for that vector, rank by rank the scores equal the exact top k's, and ids agree
/// wherever scores do not tie. Returns how many queries found the exact top k.
fn check_against_exact(idx: &SimilarityIndex, queries: &[f32], k: usize) -> usize {
    let d = idx.dim();
    let got = idx.search(queries, k, &SearchOptions::default()).unwrap();
    let want = idx.search(queries, k, &exact()).unwrap();
    let mut same = 0;
    for ((q, g), w) in queries.chunks(d).zip(&got).zip(&want) {
        let keys = exact_keys(idx, q);
        let s = idx.read().unwrap();
        for h in g {
            let node = s.items[&h.id].node;
            assert_eq!(
                idx.score_of_key(f32::from_bits(keys[&node])).to_bits(),
                h.score.to_bits(),
                "score of id {} is not the exact one",
                h.id
            );
        }
        assert_eq!(g.len(), w.len());
        let bits = |r: &[Hit]| r.iter().map(|h| h.score.to_bits()).collect::<Vec<_>>();
        if bits(g) == bits(w) {
            same += 1;
            // The last rank may tie with a vector outside the list.
            let last = w.last().map(|h| h.score);
            for (i, (a, b)) in g.iter().zip(w).enumerate() {
                let tied =
                    w.iter().filter(|h| h.score == b.score).count() > 1 || Some(b.score) == last;
                assert!(tied || a.id == b.id, "ids differ at rank {i} without a tie");
            }
        }
    }
    same
}

#[test]
fn quantised_scan_returns_the_exact_top_k_with_exact_scores() {
    for metric in [Metric::Cosine, Metric::Dot, Metric::L2] {
        // 40 dims: the codes are padded to 64 per row.
        let (n, d) = (1500, 40);
        let idx = quantised(
            IndexConfig {
                metric,
                exact_below: 0,
                m: 8,
                ef_construction: 32,
                ..IndexConfig::new(d)
            },
            &rand_vecs(n, d, 71),
        );
        let t = idx.tuned();
        assert!(t.rerank > 0, "{metric:?}: no rung met the target: {t:?}");
        assert_eq!(idx.effective_ef(), 0);
        assert_eq!(idx.estimated_recall(), Some(t.recall));
        assert!(t.recall >= 0.95, "{metric:?} {t:?}");
        assert_eq!(
            idx.code_bytes(),
            n * 64 + n * 4 * (1 + usize::from(metric == Metric::L2))
        );
        let queries = rand_vecs(60, d, 72);
        let same = check_against_exact(&idx, &queries, 10);
        assert!(
            same >= 57,
            "{metric:?}: exact top 10 on {same} of 60 queries"
        );
        // Reranking every vector is the exact search, ids and all.
        idx.set_tuning(Tuning { rerank: n, ..t }).unwrap();
        assert_eq!(check_against_exact(&idx, &queries, 10), 60, "{metric:?}");
        for k in [1, 3, 25] {
            assert_eq!(
                check_against_exact(&idx, &queries[..20 * d], k),
                20,
                "{metric:?} {k}"
            );
        }
    }
}

#[test]
fn quantised_scan_handles_exact_ties() {
    // Components in {-2, .., 2} and a query of ones: inner products are small integers, so
    // hundreds of vectors tie exactly, while their codes (one scale per vector) differ.
    let (n, d) = (2000, 24);
    let mut x = 0x7135_u64;
    let v: Vec<f32> = (0..n * d)
        .map(|_| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            ((x >> 33) % 5) as f32 - 2.0
        })
        .collect();
    let idx = quantised(
        IndexConfig {
            metric: Metric::Dot,
            exact_below: 0,
            m: 8,
            ef_construction: 32,
            ..IndexConfig::new(d)
        },
        &v,
    );
    let t = idx.tuned();
    assert!(t.rerank > 0, "{t:?}");
    let queries: Vec<f32> = (0..4 * d).map(|i| [1.0, -1.0, 0.5, 2.0][i / d]).collect();
    // Scores equal rank by rank (ties broken alike or not, the scores are the exact ones).
    assert_eq!(check_against_exact(&idx, &queries, 10), 4);
    // With every vector a candidate, ties break as in the exact scan: by stored order.
    idx.set_tuning(Tuning { rerank: n, ..t }).unwrap();
    let got = idx.search(&queries, 10, &SearchOptions::default()).unwrap();
    let want = idx.search(&queries, 10, &exact()).unwrap();
    assert_eq!(got, want);
}

#[test]
fn quantised_scan_survives_save_load_add_remove_and_compact() {
    let (n, d) = (1500, 64);
    let v = rand_vecs(n, d, 81);
    let idx = quantised(
        IndexConfig {
            exact_below: 0,
            m: 8,
            ef_construction: 32,
            ..IndexConfig::new(d)
        },
        &v,
    );
    let t = idx.tuned();
    assert!(t.rerank > 0, "{t:?}");
    let queries = rand_vecs(30, d, 82);
    let before = idx.search(&queries, 10, &SearchOptions::default()).unwrap();
    // The tuning is saved, the codes rebuilt: the same answers.
    let back = SimilarityIndex::from_bytes(&idx.to_bytes().unwrap()).unwrap();
    assert_eq!(back.tuned(), t);
    assert_eq!(back.code_bytes(), idx.code_bytes());
    assert_eq!(
        back.search(&queries, 10, &SearchOptions::default())
            .unwrap(),
        before
    );
    // Added vectors get codes (fewer than double: no retuning), and are found.
    let extra = rand_vecs(500, d, 83);
    let new_ids: Vec<u64> = (10_000..10_500).collect();
    back.add(&new_ids, &extra, None).unwrap();
    assert_eq!(back.tuned(), t);
    for (i, q) in extra.chunks(d).enumerate().step_by(50) {
        let h = back.search_one(q, 1, &SearchOptions::default()).unwrap();
        assert_eq!(h[0].id, new_ids[i]);
    }
    assert!(check_against_exact(&back, &queries, 10) >= 28);
    // Removed ids never come back; the scan skips their nodes.
    let gone: Vec<u64> = (0..1500).step_by(3).collect();
    back.remove(&gone).unwrap();
    let hits = back
        .search(&queries, 10, &SearchOptions::default())
        .unwrap();
    assert!(
        hits.iter()
            .flatten()
            .all(|h| h.id % 3 != 0 || h.id >= 10_000)
    );
    assert!(hits.iter().all(|r| r.len() == 10));
    assert!(check_against_exact(&back, &queries, 10) >= 28);
    // Filters scan exactly; a search that passes `ef` walks the graph; `exact` scans.
    let f = SearchOptions {
        filter: Some(Filter::Ids {
            ids: (0..1500).filter(|i| i % 3 != 0).collect(),
        }),
        ..Default::default()
    };
    let exact_f = SearchOptions {
        exact: true,
        ..f.clone()
    };
    assert_eq!(
        back.search(&queries, 10, &f).unwrap(),
        back.search(&queries, 10, &exact_f).unwrap()
    );
    // Compact re-tunes (forced to the quantised scan again) and rebuilds the codes.
    FORCE_MODE.with(|f| f.set(Some(1)));
    let compacted = back.compact();
    FORCE_MODE.with(|f| f.set(None));
    compacted.unwrap();
    assert!(back.tuned().rerank > 0);
    assert_eq!(back.code_bytes(), (n - gone.len() + 500) * (64 + 4));
    assert!(check_against_exact(&back, &queries, 10) >= 28);
    // Not chosen: no codes kept.
    FORCE_MODE.with(|f| f.set(Some(0)));
    let compacted = back.compact();
    FORCE_MODE.with(|f| f.set(None));
    compacted.unwrap();
    assert!(back.tuned().exact);
    assert_eq!(back.code_bytes(), 0);
}

#[test]
fn quantised_recall_estimate_holds_on_fresh_queries() {
    // The recall the tuner reports for the quantised scan is measured as for the graph, and
    // fresh queries (not in the sample) reach about as much.
    let (n, d) = (3000, 64);
    let idx = quantised(
        IndexConfig {
            exact_below: 0,
            m: 8,
            ef_construction: 32,
            ..IndexConfig::new(d)
        },
        &rand_vecs(n, d, 91),
    );
    let t = idx.tuned();
    assert!(t.rerank > 0, "{t:?}");
    let est = idx.estimated_recall().unwrap();
    let queries = rand_vecs(200, d, 92);
    let exact = idx.search(&queries, 10, &exact()).unwrap();
    let got = idx.search(&queries, 10, &SearchOptions::default()).unwrap();
    let mut found = 0;
    for (g, e) in got.iter().zip(&exact) {
        let kth = e[9].score;
        found += g.iter().filter(|h| h.score >= kth - 1e-6).count();
    }
    let measured = found as f32 / 2000.0;
    eprintln!(
        "rerank {}: estimated {est:.3}, fresh queries {measured:.3}",
        t.rerank
    );
    assert!(
        est >= 0.95 && measured >= 0.93,
        "estimated {est}, measured {measured}"
    );
}

#[test]
fn a_saved_quantised_tuning_out_of_range_is_refused() {
    let d = 8;
    let idx = quantised(
        IndexConfig {
            exact_below: 0,
            m: 4,
            ef_construction: 16,
            ..IndexConfig::new(d)
        },
        &rand_vecs(400, d, 95),
    );
    let saved = serde_json::to_value(&idx).unwrap();
    assert!(
        saved["tuning"]["rerank"].as_u64().unwrap() > 0,
        "{}",
        saved["tuning"]
    );
    let load = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut v = saved.clone();
        edit(&mut v);
        serde_json::from_value::<SimilarityIndex>(v).map(|_| ())
    };
    assert!(load(&|_| ()).is_ok());
    for edit in [
        &(|v: &mut serde_json::Value| v["tuning"]["rerank"] = u64::MAX.into())
            as &dyn Fn(&mut serde_json::Value),
        &|v| v["tuning"]["rerank"] = 513.into(),
        &|v| v["tuning"]["exact"] = true.into(),
    ] {
        let e = load(edit).unwrap_err().to_string();
        assert!(e.contains("reranks"), "{e}");
    }
}
