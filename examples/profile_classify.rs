//! Classifier development aid (and the scale run of docs/benchmarks.md): per Loghub system, a
//! seeded stratified 80/20 split (floor(20%) of each class to test, as in
//! benches/python/bench_classify.py), full and few-shot (10% of each class) regimes; prints
//! accuracy, ECE of the top probability (15 bins), fit seconds and batch rate.
//!
//! `cargo run --release --example profile_classify [-- SYSTEMS [REGIMES [MODEL]]]`
//! `cargo run --release --example profile_classify -- --file big.jsonl [MAX_FEATURES]`: fit one
//! model on every line of a JSONL file (`text`, `label`), for peak memory under `/usr/bin/time -v`
//! (env `NGRAM=3` for 1..3-grams, `RAW=1` for no preprocessor).
use faultlens::classify::ModelKind;
use faultlens::{ClassifierConfig, TextClassifier};
use std::collections::BTreeMap;
use std::time::Instant;

fn read(path: &str, prefix: bool) -> Vec<(String, String)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let label = v["label"].as_str().unwrap();
            let label = if prefix {
                format!("{}:{label}", v["system"].as_str().unwrap_or(""))
            } else {
                label.to_owned()
            };
            (v["text"].as_str().unwrap().to_owned(), label)
        })
        .collect()
}

/// This thread's CPU time (Linux `schedstat`, ns): the machine is shared, wall time follows load.
fn thread_cpu_secs() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |ns| ns / 1e9)
}

fn ece(conf: &[f64], correct: &[bool]) -> f64 {
    let bins = 15;
    let mut sum = vec![(0.0, 0.0, 0usize); bins];
    for (&c, &ok) in conf.iter().zip(correct) {
        let b = ((c * bins as f64).ceil() as usize).clamp(1, bins) - 1;
        sum[b].0 += c;
        sum[b].1 += ok as u8 as f64;
        sum[b].2 += 1;
    }
    let n = conf.len() as f64;
    sum.iter()
        .filter(|s| s.2 > 0)
        .map(|s| (s.0 - s.1).abs() / n)
        .sum()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--file") {
        let rows = read(&args[1], false);
        let mut cfg = ClassifierConfig::default();
        if let Some(m) = args.get(2) {
            cfg.tfidf.max_features = Some(m.parse().unwrap());
        }
        // NGRAM=3: 1..3-grams; RAW=1: no preprocessor (digits stay, so nearly every line is
        // distinct and the vocabulary is large): the hard case for memory.
        if let Ok(n) = std::env::var("NGRAM") {
            cfg.tfidf.ngram_range.1 = n.parse().unwrap();
        }
        if std::env::var_os("RAW").is_some() {
            cfg.tfidf.preprocessor = None;
        }
        let (t, l): (Vec<String>, Vec<String>) = rows.into_iter().unzip();
        let mut c = TextClassifier::new(cfg).unwrap();
        let s = Instant::now();
        c.fit(&t, &l).unwrap();
        let info = c.training_info().unwrap();
        println!(
            "{} lines, {} distinct, {} features, {} classes: fit {:.1} s, {} iterations, converged {}",
            t.len(),
            info.n_distinct,
            info.n_features,
            c.classes().unwrap().len(),
            s.elapsed().as_secs_f64(),
            info.iterations,
            info.converged
        );
        return;
    }
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/loghub");
    let systems = args
        .first()
        .cloned()
        .unwrap_or_else(|| "Apache,HDFS,Hadoop,Linux,Mac,OpenSSH,Spark,Zookeeper".into());
    let regimes = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "full,few-shot".into());
    let model: ModelKind = serde_json::from_value(serde_json::Value::String(
        args.get(2).cloned().unwrap_or_else(|| "logistic".into()),
    ))
    .unwrap();
    for regime in regimes.split(',') {
        for sys in systems.split(',') {
            let rows = read(&format!("{dir}/{sys}.jsonl"), true);
            let mut state = 0x9E37_79B9_7F4A_7C15u64;
            let mut by: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
            for (i, r) in rows.iter().enumerate() {
                by.entry(&r.1).or_default().push(i);
            }
            let (mut train, mut test) = (Vec::new(), Vec::new());
            for idx in by.values_mut() {
                // Fisher-Yates with splitmix64 (seeded, no extra dependency).
                for i in (1..idx.len()).rev() {
                    state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                    let mut z = state;
                    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                    idx.swap(i, ((z ^ (z >> 31)) % (i as u64 + 1)) as usize);
                }
                let k = idx.len() / 5;
                test.extend_from_slice(&idx[..k]);
                let rest = &idx[k..];
                let keep = if regime == "few-shot" {
                    ((rest.len() as f64 * 0.1).round() as usize).max(1)
                } else {
                    rest.len()
                };
                train.extend_from_slice(&rest[..keep]);
            }
            let tx: Vec<&str> = train.iter().map(|&i| rows[i].0.as_str()).collect();
            let ty: Vec<&str> = train.iter().map(|&i| rows[i].1.as_str()).collect();
            let ex: Vec<&str> = test.iter().map(|&i| rows[i].0.as_str()).collect();
            let ey: Vec<&str> = test.iter().map(|&i| rows[i].1.as_str()).collect();
            let mut cfg = ClassifierConfig {
                model,
                ..Default::default()
            };
            // C=...: try another regularisation strength.
            if let Ok(v) = std::env::var("C") {
                cfg.c = v.parse().unwrap();
            }
            let mut c = TextClassifier::new(cfg).unwrap();
            let s = Instant::now();
            c.fit(&tx, &ty).unwrap();
            let fit_s = s.elapsed().as_secs_f64();
            let s = Instant::now();
            let cpu0 = thread_cpu_secs();
            let mut n = 0;
            let mut proba = Vec::new();
            let secs: f64 = std::env::var("PREDICT_SECS").map_or(0.3, |v| v.parse().unwrap());
            while s.elapsed().as_secs_f64() < secs {
                proba = c.predict_proba(&ex).unwrap();
                n += ex.len();
            }
            let rate = n as f64 / s.elapsed().as_secs_f64();
            let cpu_rate = n as f64 / (thread_cpu_secs() - cpu0);
            let classes = c.classes().unwrap();
            let (mut conf, mut ok) = (Vec::new(), Vec::new());
            for (p, y) in proba.iter().zip(&ey) {
                let b = (0..p.len()).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap();
                conf.push(p[b]);
                ok.push(classes[b] == *y);
            }
            let acc = ok.iter().filter(|&&o| o).count() as f64 / ok.len() as f64;
            let info = c.training_info().unwrap();
            println!(
                "{sys:10} {regime:8} train {:5} classes {:3}: acc {acc:.4} ece {:.4} fit {fit_s:.3}s ({} it) batch {rate:.0}/s (cpu {cpu_rate:.0}/s)",
                tx.len(),
                classes.len(),
                ece(&conf, &ok),
                info.iterations
            );
        }
    }
}
