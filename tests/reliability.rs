//! Faults a host service meets: damaged model files and saves interrupted by a kill. Every
//! artifact kind goes through the same sweep; `docs/reliability.md` records the counts.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use faultlens::drift::{AdwinConfig, PageHinkleyConfig};
use faultlens::index::TextIndexConfig;
use faultlens::resolve::{Resolver, ResolverConfig, Rules};
use faultlens::{
    Adwin, Artifact, ClassifierConfig, Event, IndexConfig, KlDriftConfig, KlDriftDetector,
    PageHinkley, Preprocessor, PreprocessorConfig, SimilarityIndex, TextClassifier, TextIndex,
    TfidfConfig, TfidfVectorizer, WindowAggregator, WindowConfig,
};

/// A loader for one artifact kind: decodes bytes, reporting only success or the error's code.
type Loader = fn(&[u8]) -> Result<(), &'static str>;

fn loader<T: Artifact>() -> Loader {
    |b| T::from_bytes(b).map(|_| ()).map_err(|e| e.code().as_str())
}

fn corpus(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!(
                "worker{} failed to connect to 10.0.{}.{}:{} after {} retries: code E{:04}",
                i % 17,
                i % 9,
                i % 250,
                8000 + i % 50,
                i % 7,
                i % 101
            )
        })
        .collect()
}

fn fitted_vectorizer(n: usize) -> TfidfVectorizer {
    let mut v = TfidfVectorizer::new(TfidfConfig {
        ngram_range: (1, 2),
        ..Default::default()
    })
    .unwrap();
    v.fit(&corpus(n)).unwrap();
    v
}

/// (kind, model file bytes, loader) for every artifact kind.
fn artifacts() -> Vec<(&'static str, Vec<u8>, Loader)> {
    let pre = Preprocessor::new(PreprocessorConfig {
        min_token_length: 3,
        ..Default::default()
    })
    .unwrap();
    vec![
        (
            "preprocessor",
            pre.to_bytes().unwrap(),
            loader::<Preprocessor>(),
        ),
        (
            "tfidf_vectorizer",
            fitted_vectorizer(300).to_bytes().unwrap(),
            loader::<TfidfVectorizer>(),
        ),
        (
            "text_classifier",
            fitted_classifier().to_bytes().unwrap(),
            loader::<TextClassifier>(),
        ),
        (
            "resolver",
            full_resolver().to_bytes().unwrap(),
            loader::<Resolver>(),
        ),
        (
            "similarity_index",
            {
                let index = SimilarityIndex::new(IndexConfig::new(8)).unwrap();
                let ids: Vec<u64> = (0..40).collect();
                let vectors: Vec<f32> = (0..40 * 8)
                    .map(|i| ((i * 37 % 101) as f32) / 101.0 + 0.01)
                    .collect();
                let payloads = (0..40).map(|i| Some(format!("fix_{i}"))).collect();
                index.add(&ids, &vectors, Some(payloads)).unwrap();
                index.to_bytes().unwrap()
            },
            loader::<SimilarityIndex>(),
        ),
        (
            "text_index",
            {
                let index = TextIndex::new(TextIndexConfig::default()).unwrap();
                index.add(&corpus(20), None).unwrap();
                index.to_bytes().unwrap()
            },
            loader::<TextIndex>(),
        ),
        (
            "kl_drift_detector",
            {
                let scores: Vec<f64> = (0..400)
                    .map(|i| 0.5 + 0.4 * ((i * 7919 % 1000) as f64 / 1000.0))
                    .collect();
                let mut d = KlDriftDetector::from_baseline(
                    &scores,
                    KlDriftConfig {
                        window: 100,
                        ..Default::default()
                    },
                )
                .unwrap();
                d.add_many(&scores[..150], Some(1.0)).unwrap();
                d.to_bytes().unwrap()
            },
            loader::<KlDriftDetector>(),
        ),
        (
            "adwin",
            {
                let mut a = Adwin::new(AdwinConfig::default()).unwrap();
                a.update_many(
                    &(0..300)
                        .map(|i| f64::from(i % 10) / 10.0)
                        .collect::<Vec<_>>(),
                )
                .unwrap();
                a.to_bytes().unwrap()
            },
            loader::<Adwin>(),
        ),
        (
            "page_hinkley",
            {
                let mut p = PageHinkley::new(PageHinkleyConfig::default()).unwrap();
                p.update_many(
                    &(0..300)
                        .map(|i| f64::from(i % 10) / 10.0)
                        .collect::<Vec<_>>(),
                )
                .unwrap();
                p.to_bytes().unwrap()
            },
            loader::<PageHinkley>(),
        ),
        (
            "window_aggregator",
            {
                let mut w = WindowAggregator::new(WindowConfig {
                    threshold: 3,
                    allowed_lateness_ms: Some(1000),
                    ..Default::default()
                })
                .unwrap();
                let events: Vec<Event<'_>> = (0..50)
                    .map(|i| {
                        Event::new(i * 100, "api", "/pay", if i % 3 == 0 { "E1" } else { "E2" })
                            .message("db pool exhausted")
                    })
                    .collect();
                w.push_batch(&events);
                w.to_bytes().unwrap()
            },
            loader::<WindowAggregator>(),
        ),
    ]
}

fn fitted_classifier() -> TextClassifier {
    let texts = corpus(120);
    let labels: Vec<String> = (0..120).map(|i| format!("fix_{}", i % 7 % 3)).collect();
    let mut c = TextClassifier::new(ClassifierConfig::default()).unwrap();
    c.fit(&texts, &labels).unwrap();
    c
}

fn full_resolver() -> Resolver {
    let mut r = Resolver::new(ResolverConfig::default()).unwrap();
    r.set_rules(
        Rules::from_json(r#"[{"name": "conn", "pattern": "connect", "solution": "restart"}]"#)
            .unwrap(),
    );
    let texts = corpus(80);
    let fixes: Vec<String> = (0..80).map(|i| format!("fix_{}", i % 5)).collect();
    r.add_knowledge(&texts, &fixes).unwrap();
    r.set_classifier(fitted_classifier()).unwrap();
    r
}

#[test]
fn every_truncation_and_byte_flip_is_a_clear_error() {
    for (kind, bytes, load) in artifacts() {
        assert_eq!(load(&bytes), Ok(()), "{kind}: intact file loads");
        let started = Instant::now();
        for cut in 0..bytes.len() {
            let r = load(&bytes[..cut]);
            assert_eq!(
                r,
                Err("Corrupt"),
                "{kind}: truncated at {cut} of {}",
                bytes.len()
            );
        }
        // Flip every bit pattern that matters at every offset of the header, and across the
        // payload at a stride that still touches every region (the CRC covers all of it).
        let stride = (bytes.len() / 4000).max(1);
        let mut flips = 0;
        for i in (0..bytes.len()).filter(|&i| i < 24 || i % stride == 0) {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut b = bytes.clone();
                b[i] ^= mask;
                let r = load(&b);
                assert!(
                    matches!(r, Err("Corrupt" | "Format")),
                    "{kind}: byte {i} ^ {mask:#x} gave {r:?}"
                );
                flips += 1;
            }
        }
        // Lengths that claim far more than the file holds never allocate that much.
        let mut b = bytes.clone();
        b[12..20].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(load(&b), Err("Corrupt"));
        eprintln!(
            "{kind}: {} truncations, {flips} flips, all refused in {:?}",
            bytes.len(),
            started.elapsed()
        );
    }
}

/// Runs inside the child process of `killed_saves_never_destroy_the_previous_file`: saves two
/// different models to the same path, alternately, until killed.
#[test]
fn child_saver() {
    let Ok(path) = std::env::var("FAULTLENS_SAVER_PATH") else {
        return; // only meaningful as a child process
    };
    let a = fitted_vectorizer(2000);
    let b = fitted_vectorizer(3000);
    let (a, b) = (a.to_bytes().unwrap(), b.to_bytes().unwrap());
    println!("ready");
    loop {
        faultlens::models::write_atomic(Path::new(&path), &a).unwrap();
        faultlens::models::write_atomic(Path::new(&path), &b).unwrap();
    }
}

#[cfg(unix)]
#[test]
fn killed_saves_never_destroy_the_previous_file() {
    let dir = std::env::temp_dir().join(format!("faultlens-kill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.flm");
    let first = fitted_vectorizer(2000);
    first.save(&path).unwrap();
    let versions = [
        fitted_vectorizer(2000).to_bytes().unwrap(),
        fitted_vectorizer(3000).to_bytes().unwrap(),
    ];
    let exe = std::env::current_exe().unwrap();
    // A seeded sequence of kill moments between 1 and 40 ms after the child starts saving.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let kills = 40;
    let mut interrupted = 0;
    for round in 0..kills {
        let mut child = Command::new(&exe)
            .args(["--exact", "child_saver", "--nocapture", "--test-threads=1"])
            .env("FAULTLENS_SAVER_PATH", &path)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Wait until the child has built its models and entered the save loop.
        let mut out = child.stdout.take().unwrap();
        let mut buf = [0u8; 64];
        let mut seen = String::new();
        while !seen.contains("ready") {
            let n = std::io::Read::read(&mut out, &mut buf).unwrap();
            assert!(n > 0, "child exited before saving");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_micros(1000 + seed % 39_000));
        child.kill().unwrap();
        child.wait().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            versions.contains(&bytes),
            "round {round}: the file is neither complete version ({} bytes)",
            bytes.len()
        );
        TfidfVectorizer::from_bytes(&bytes).unwrap();
        let temps = std::fs::read_dir(&dir).unwrap().count() - 1;
        assert!(temps <= 1, "round {round}: {temps} temporary files left");
        interrupted += temps;
    }
    eprintln!("{kills} kills, {interrupted} in the middle of writing a temporary file");
    // The next save by a live process clears what the killed ones left.
    first.save(&path).unwrap();
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("model.flm")]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The thread-safety promises documented in docs/reliability.md, checked by the compiler.
#[test]
fn documented_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Preprocessor>();
    send_sync::<TfidfVectorizer>();
    send_sync::<faultlens::resolve::Rules>();
    send_sync::<faultlens::resolve::KnowledgeBase>();
    send_sync::<faultlens::resolve::Resolver>();
    send_sync::<faultlens::resolve::Metrics>();
    send_sync::<SimilarityIndex>();
    send_sync::<TextIndex>();
    send_sync::<TextClassifier>();
    send_sync::<WindowAggregator>();
    send_sync::<KlDriftDetector>();
    send_sync::<Adwin>();
    send_sync::<PageHinkley>();
}

/// The whole service under load at once: threads resolve and search a text index while one
/// thread adds to that index and saves it, one retrains the classifier and swaps it into the
/// resolver, and two push window events into a shared aggregator. No deadlock or panic; every
/// answer is consistent (known texts keep their answer, searches only see complete items,
/// the window counts every event exactly once).
#[test]
fn whole_service_under_load() {
    within(
        300,
        "whole_service_under_load",
        whole_service_under_load_body,
    );
}

fn whole_service_under_load_body() {
    use faultlens::SearchOptions;
    use faultlens::resolve::{Method, Mode};
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::{Arc, Mutex, RwLock};

    let resolver = Arc::new(RwLock::new(full_resolver()));
    let index = Arc::new(TextIndex::new(TextIndexConfig::default()).unwrap());
    let seed = corpus(50);
    let seed_sols: Vec<Option<String>> = (0..50).map(|i| Some(format!("fix_{}", i % 5))).collect();
    index.add(&seed, Some(seed_sols)).unwrap();
    let window = Arc::new(Mutex::new(
        WindowAggregator::new(WindowConfig {
            threshold: 1_000_000,
            allowed_lateness_ms: Some(0),
            ..Default::default()
        })
        .unwrap(),
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let (work, pushed, sent) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let dir = std::env::temp_dir().join(format!("faultlens-service-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut threads = Vec::new();
    for t in 0..3 {
        let (r, ix, stop, work) = (resolver.clone(), index.clone(), stop.clone(), work.clone());
        threads.push(std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let res = r
                    .read()
                    .unwrap()
                    .resolve(&format!("cannot connect to db-{t}-{i}"), Mode::Auto)
                    .unwrap();
                assert_eq!(res.method, Method::ExactMatch);
                let hits = ix
                    .search(&seed_query(i), 5, &SearchOptions::default())
                    .unwrap();
                assert!(!hits.is_empty() && hits.iter().all(|h| h.payload.is_some()));
                work.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        }));
    }
    for t in 0..2i64 {
        let (w, stop, pushed, sent) = (window.clone(), stop.clone(), pushed.clone(), sent.clone());
        threads.push(std::thread::spawn(move || {
            let mut n = 0i64;
            while !stop.load(Ordering::Relaxed) {
                let events: Vec<Event> = (0..100)
                    .map(|k| {
                        Event::new(
                            1_000_000 + n * 100 + k,
                            "svc",
                            if t == 0 { "/a" } else { "/b" },
                            "E1",
                        )
                    })
                    .collect();
                // Both threads' clocks start together, so the one behind sees late events.
                let out = w.lock().unwrap().push_batch(&events);
                assert!(out.late.windows(2).all(|p| p[0] < p[1]) && out.late.len() <= events.len());
                sent.fetch_add(events.len() as u64, Ordering::Relaxed);
                pushed.fetch_add((events.len() - out.late.len()) as u64, Ordering::Relaxed);
                n += 1;
            }
        }));
    }
    let writer = {
        let (ix, stop, dir) = (index.clone(), stop.clone(), dir.clone());
        std::thread::spawn(move || {
            let mut added = 0;
            while !stop.load(Ordering::Relaxed) && added < 400 {
                let texts: Vec<String> = (0..20)
                    .map(|k| format!("queue {added} consumer {k} lag above limit"))
                    .collect();
                ix.add(&texts, Some(vec![Some("scale_consumers".to_owned()); 20]))
                    .unwrap();
                ix.save(dir.join("index.flm")).unwrap();
                added += 20;
            }
            added
        })
    };
    let trainer = {
        let (r, stop) = (resolver.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut fits = 0;
            while !stop.load(Ordering::Relaxed) && fits < 5 {
                let c = fitted_classifier();
                r.write().unwrap().set_classifier(c).unwrap();
                fits += 1;
            }
            fits
        })
    };
    std::thread::sleep(Duration::from_millis(1500));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    let added = writer.join().unwrap();
    let fits = trainer.join().unwrap();
    assert_eq!(index.len(), 50 + added);
    assert!(TextIndex::load(dir.join("index.flm")).unwrap().len() >= 50);
    let stats = window.lock().unwrap().stats();
    assert!(work.load(Ordering::Relaxed) > 0 && fits > 0);
    // Every event counted exactly once: on time, or late and reported.
    assert_eq!(stats.events, pushed.load(Ordering::Relaxed));
    assert_eq!(
        stats.events + stats.late_events,
        sent.load(Ordering::Relaxed)
    );
    std::fs::remove_dir_all(&dir).unwrap();
    eprintln!(
        "{} resolve+search rounds, {added} texts indexed and saved, {fits} retrains, {} window events",
        work.load(Ordering::Relaxed),
        pushed.load(Ordering::Relaxed)
    );
}

fn seed_query(i: usize) -> String {
    let c = corpus(50);
    c[i % c.len()].clone()
}

/// Many threads resolve while one learns from feedback (writes to the knowledge base) and another
/// saves the resolver over and over: no deadlock, no panic, and answers that do not depend on the
/// knowledge base stay exactly the same throughout.
#[test]
fn resolving_while_learning_and_saving() {
    within(
        300,
        "resolving_while_learning_and_saving",
        resolving_while_learning_and_saving_body,
    );
}

fn resolving_while_learning_and_saving_body() {
    use faultlens::resolve::{Method, Mode, Resolver, ResolverConfig, Rules};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    let root = faultlens_suite::repo_root().join("examples/data");
    let mut r = Resolver::new(ResolverConfig::default()).unwrap();
    r.set_rules(Rules::from_file(root.join("rules.toml")).unwrap());
    r.load_knowledge(root.join("errors.jsonl"), false).unwrap();
    let r = Arc::new(r);
    let start_size = r.knowledge_size();
    let stop = Arc::new(AtomicBool::new(false));
    let resolved = Arc::new(AtomicUsize::new(0));
    let dir = std::env::temp_dir().join(format!("faultlens-stress-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    let mut workers = Vec::new();
    for t in 0..6 {
        let (r, stop, resolved) = (r.clone(), stop.clone(), resolved.clone());
        workers.push(std::thread::spawn(move || {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let rule = r.resolve(&format!("pod-{t}-{i} was OOMKilled (exit code 137)"), Mode::Auto).unwrap();
                assert_eq!((rule.method, rule.solution.as_deref()), (Method::ExactMatch, Some("increase_memory_limit")));
                let texts: Vec<String> = (0..300).map(|k| format!("HikariPool-{k} - Connection is not available, request timed out after {i}ms")).collect();
                for res in r.resolve_batch(&texts, Mode::Similarity).unwrap() {
                    assert_eq!(res.solution.as_deref(), Some("restart_database_pool"));
                }
                resolved.fetch_add(301, Ordering::Relaxed);
                i += 1;
            }
        }));
    }
    let learner = {
        let (r, stop) = (r.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) && n < 200 {
                r.record_outcome(
                    &format!("ledger shard {n} lock wait exceeded"),
                    "raise_lock_timeout",
                    true,
                )
                .unwrap();
                n += 1;
            }
            n
        })
    };
    let saver = {
        let (r, stop, dir) = (r.clone(), stop.clone(), dir.clone());
        std::thread::spawn(move || {
            let mut saves = 0;
            while !stop.load(Ordering::Relaxed) {
                r.save(dir.join("resolver.flm")).unwrap();
                saves += 1;
            }
            saves
        })
    };
    std::thread::sleep(Duration::from_millis(1500));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let learned = learner.join().unwrap();
    let saves = saver.join().unwrap();
    assert_eq!(r.knowledge_size(), start_size + learned);
    let loaded = faultlens::resolve::Resolver::load(dir.join("resolver.flm")).unwrap();
    assert!(loaded.knowledge_size() >= start_size);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(resolved.load(Ordering::Relaxed) > 0 && saves > 0);
    eprintln!(
        "{} resolutions, {learned} learned pairs, {saves} saves",
        resolved.load(Ordering::Relaxed)
    );
}

/// Runs `f` on its own thread and fails the test, instead of hanging CI, if it has not finished
/// within `secs` (a deadlock shows up as a failure naming the test).
fn within<T: Send + 'static>(secs: u64, what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = std::thread::spawn(move || {
        let out = f();
        let _ = tx.send(());
        out
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(()) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => worker
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p)),
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what} did not finish within {secs} s: deadlock")
        }
    }
}

/// A word no other text of these tests holds, so each learned error is new to the vocabulary.
fn novel_word(mut n: usize) -> String {
    let mut w = String::from("qx");
    loop {
        w.push((b'a' + (n % 26) as u8) as char);
        n /= 26;
        if n == 0 {
            return w;
        }
    }
}

/// Learning a pair the knowledge base has never seen refits it on every stored pair, which
/// runs on the thread pool. Batches resolving at the same moment hold the pool's threads; the
/// refit must not wait for them while they wait for it (CI hung here once: the refit held the
/// knowledge write lock while it used the pool).
#[test]
fn learning_refits_never_deadlock_resolve_batches() {
    use faultlens::resolve::Mode;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    within(120, "resolve_batch while learning refits", || {
        let r = Resolver::new(ResolverConfig::default()).unwrap();
        let errors: Vec<String> = (0..400)
            .map(|i| {
                format!(
                    "service {} timed out talking to {}",
                    novel_word(i),
                    novel_word(i + 7)
                )
            })
            .collect();
        let solutions: Vec<String> = (0..400).map(|i| format!("fix_{}", i % 13)).collect();
        r.add_knowledge(&errors, &solutions).unwrap();
        let r = Arc::new(r);
        let stop = Arc::new(AtomicBool::new(false));
        let batchers: Vec<_> = (0..4)
            .map(|t| {
                let (r, stop, errors) = (r.clone(), stop.clone(), errors.clone());
                std::thread::spawn(move || {
                    let mut batches = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let texts = &errors[(t * 13) % 100..(t * 13) % 100 + 300];
                        let out = r.resolve_batch(texts, Mode::Similarity).unwrap();
                        assert_eq!(out.len(), 300);
                        batches += 1;
                    }
                    batches
                })
            })
            .collect();
        for n in 0..40 {
            let text = format!("{} {}", novel_word(1000 + n), novel_word(2000 + n));
            r.add_knowledge(&[text.as_str()], &["raise_lock_timeout"])
                .unwrap();
        }
        stop.store(true, Ordering::Relaxed);
        let batches: usize = batchers.into_iter().map(|b| b.join().unwrap()).sum();
        assert_eq!(r.knowledge_size(), 440);
        assert!(batches > 0);
        let learned = format!("{} {}", novel_word(1039), novel_word(2039));
        let hit = r.resolve(&learned, Mode::Similarity).unwrap();
        assert_eq!(hit.solution.as_deref(), Some("raise_lock_timeout"));
    });
}

/// Hosts search from their own rayon tasks while another thread removes and compacts: the
/// rebuild runs on the same pool, so it must not hold the index's write lock while it does
/// (the pool's threads, waiting on that lock, could never build the graph).
#[test]
fn compacting_while_pool_threads_search_never_deadlocks() {
    use rayon::prelude::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    within(120, "compact while rayon tasks search", || {
        let dim = 16;
        let index = Arc::new(
            SimilarityIndex::new(IndexConfig {
                dim,
                exact_below: 64,
                ..IndexConfig::default()
            })
            .unwrap(),
        );
        let vector = move |i: u64| -> Vec<f32> {
            (0..dim)
                .map(|j| ((i * 31 + j as u64 * 7) % 97) as f32 + 1.0)
                .collect()
        };
        let n = 3000u64;
        let ids: Vec<u64> = (0..n).collect();
        let vectors: Vec<f32> = ids.iter().flat_map(|&i| vector(i)).collect();
        index.add(&ids, &vectors, None).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let searcher = {
            let (index, stop) = (index.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut rounds = 0;
                while !stop.load(Ordering::Relaxed) {
                    (0..512u64).into_par_iter().for_each(|i| {
                        let hits = index
                            .search(&vector(i % n), 3, &Default::default())
                            .unwrap();
                        assert!(hits[0].len() <= 3);
                    });
                    rounds += 1;
                }
                rounds
            })
        };
        for round in 0..20u64 {
            let gone: Vec<u64> = (round * 50..round * 50 + 50).collect();
            index.remove(&gone).unwrap();
            index.compact().unwrap();
        }
        stop.store(true, Ordering::Relaxed);
        assert!(searcher.join().unwrap() > 0);
        assert_eq!(index.len(), 2000);
    });
}
