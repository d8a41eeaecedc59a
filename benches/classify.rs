//! TextClassifier on real Loghub lines: fit per model, batch and single-call prediction, and
//! linfa-logistic's dense solver on the same TF-IDF rows (the cost the sparse L-BFGS avoids).
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use faultlens::classify::ModelKind;
use faultlens::{ClassifierConfig, TextClassifier};
use linfa::prelude::*;

/// (text, "system:EventId") of every Loghub line, or a synthetic two-class set without the data.
fn labelled() -> (Vec<String>, Vec<String>) {
    let mut texts = Vec::new();
    let mut labels = Vec::new();
    if let Some(dir) = faultlens_suite::loghub_dir() {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
            .collect();
        files.sort();
        for f in files {
            for line in std::fs::read_to_string(f).unwrap().lines() {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                texts.push(v["text"].as_str().unwrap().to_owned());
                labels.push(format!(
                    "{}:{}",
                    v["system"].as_str().unwrap(),
                    v["label"].as_str().unwrap()
                ));
            }
        }
    } else {
        for i in 0..4000 {
            texts.push(format!(
                "worker {} failed to connect to 10.0.0.{}: refused",
                i % 7,
                i % 97
            ));
            labels.push("net".into());
            texts.push(format!("disk {} full on /var/{}", i % 5, i % 13));
            labels.push("disk".into());
        }
    }
    (texts, labels)
}

/// Whether the criterion name filter (first free argument) can match a group: the setup of the
/// pooled model takes long, so groups nobody asked for skip it.
fn wants(group: &str) -> bool {
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    filter.is_none_or(|f| group.contains(&f) || f.contains(group))
}

/// One system's 2,000 lines (Hadoop, 114 classes: the third file) for the per-model fits.
fn one_system<'a>(texts: &'a [String], labels: &'a [String]) -> (&'a [String], &'a [String]) {
    let (lo, hi) = if texts.len() >= 6000 {
        (4000, 6000)
    } else {
        (0, texts.len().min(2000))
    };
    (&texts[lo..hi], &labels[lo..hi])
}

fn bench(c: &mut Criterion) {
    let (texts, labels) = labelled();
    if !wants("classify/") && !wants("classify_linfa_dense") {
        return;
    }
    if wants("classify/") {
        bench_models(c, &texts, &labels);
    }
    if wants("classify_linfa_dense") {
        bench_linfa(c, &texts, &labels);
    }
}

fn bench_models(c: &mut Criterion, texts: &[String], labels: &[String]) {
    let (sys_t, sys_l) = one_system(texts, labels);
    let mut g = c.benchmark_group("classify");
    g.sample_size(10);
    for model in [
        ModelKind::Logistic,
        ModelKind::NaiveBayes,
        ModelKind::LinearSvm,
    ] {
        let config = ClassifierConfig {
            model,
            ..Default::default()
        };
        g.bench_function(
            BenchmarkId::new("fit", format!("{model}/{}_lines", sys_t.len())),
            |b| {
                b.iter(|| {
                    let mut clf = TextClassifier::new(config.clone()).unwrap();
                    clf.fit(sys_t, sys_l).unwrap();
                    black_box(clf.is_fitted())
                })
            },
        );
    }
    let mut pooled = TextClassifier::new(ClassifierConfig::default()).unwrap();
    pooled.fit(texts, labels).unwrap();
    g.throughput(Throughput::Elements(texts.len() as u64));
    g.bench_function(
        BenchmarkId::new("predict_proba/pooled", format!("{}_lines", texts.len())),
        |b| b.iter(|| black_box(pooled.predict_proba(texts).unwrap().len())),
    );
    g.throughput(Throughput::Elements(1));
    g.bench_function("predict_one/pooled", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 7919) % texts.len();
            black_box(pooled.predict_one(&texts[i]).unwrap().confidence)
        })
    });
    g.finish();
}

fn bench_linfa(c: &mut Criterion, texts: &[String], labels: &[String]) {
    let (sys_t, sys_l) = one_system(texts, labels);
    // linfa-logistic needs a dense samples x features matrix: measure it once on one system.
    let mut lr = TextClassifier::new(ClassifierConfig::default()).unwrap();
    lr.fit(sys_t, sys_l).unwrap();
    let x = lr.vectorizer().transform(sys_t).unwrap();
    let mut dense = ndarray::Array2::<f64>::zeros((x.n_rows, x.n_cols));
    for i in 0..x.n_rows {
        let (idx, val) = x.row(i);
        for (&j, &v) in idx.iter().zip(val) {
            dense[[i, j as usize]] = v;
        }
    }
    let targets = ndarray::Array1::from_iter(sys_l.iter().cloned());
    let dataset = Dataset::new(dense, targets);
    let mut g = c.benchmark_group("classify_linfa_dense");
    g.sample_size(10);
    g.bench_function(
        BenchmarkId::new("fit/multi_logistic", format!("{}x{}", x.n_rows, x.n_cols)),
        |b| {
            b.iter(|| {
                let m = linfa_logistic::MultiLogisticRegression::default()
                    .alpha(1.0 / 20.0)
                    .max_iterations(300)
                    .fit(&dataset)
                    .unwrap();
                black_box(m.classes().len())
            })
        },
    );
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
