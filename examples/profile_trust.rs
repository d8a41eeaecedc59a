//! The trust protocol in Rust, for fast iteration on calibration (the side-by-side with
//! scikit-learn is `benches/python/bench_trust.py`): per Loghub system, a temporal split (first
//! half trains the classifier and fills the knowledge base, the second half is resolved), then
//! every cross-system pair, then a seeded stratified random split.
//!
//! `cargo run --release --example profile_trust -- <loghub folder> [model] [temporal,cross,random]`
//! (`FL_SPLIT=0.3` trains on the first 30% instead of half; `FL_PRIOR=0.3` sets `novelty_prior`; `FL_DUMP=1` prints the lines below the threshold,
//! `FL_ONLY=OpenSSH,Linux` keeps those systems only, `FL_BINS=1` prints the reliability diagram,
//! with `FL_DUMP_HIGH=1` those above it).

use std::collections::HashMap;

use faultlens::resolve::{Mode, Resolver, ResolverConfig};
use faultlens::{ClassifierConfig, ModelKind, TextClassifier};

type Rows = Vec<(String, String)>;

fn load(dir: &str) -> Vec<(String, Rows)> {
    let mut out = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("loghub folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    paths.sort();
    for p in paths {
        let text = std::fs::read_to_string(&p).expect("read");
        let mut rows = Vec::new();
        let mut name = String::new();
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect("json");
            name = v["system"].as_str().unwrap_or_default().to_owned();
            rows.push((
                v["text"].as_str().unwrap_or_default().to_owned(),
                format!("{}:{}", name, v["label"].as_str().unwrap_or_default()),
            ));
        }
        out.push((name, rows));
    }
    out
}

#[derive(Default)]
struct Score {
    n: usize,
    correct: usize,
    reliable: usize,
    reliable_ok: usize,
    bins: [(f64, f64, usize); 10],
}

impl Score {
    fn add(&mut self, conf: f64, ok: bool, reliable: bool) {
        self.n += 1;
        self.correct += usize::from(ok);
        if reliable {
            self.reliable += 1;
            self.reliable_ok += usize::from(ok);
        }
        let b = ((conf * 10.0) as usize).min(9);
        self.bins[b].0 += conf;
        self.bins[b].1 += f64::from(u8::from(ok));
        self.bins[b].2 += 1;
    }
    fn ece(&self) -> f64 {
        self.bins
            .iter()
            .map(|(c, o, n)| (c - o).abs() / self.n.max(1) as f64 * f64::from(u8::from(*n > 0)))
            .sum()
    }
    fn row(&self) -> String {
        let bins = if std::env::var("FL_BINS").is_ok() {
            let b: Vec<String> = (self.bins.iter().enumerate())
                .filter(|(_, b)| b.2 > 0)
                .map(|(i, b)| {
                    format!(
                        "[{i}: n {} conf {:.2} acc {:.2}]",
                        b.2,
                        b.0 / b.2 as f64,
                        b.1 / b.2 as f64
                    )
                })
                .collect();
            format!("\n           bins {}", b.join(" "))
        } else {
            String::new()
        };
        format!(
            "acc {:.3} ece {:.3} cov {:.3} prec {:.4} ({}/{})",
            self.correct as f64 / self.n as f64,
            self.ece(),
            self.reliable as f64 / self.n as f64,
            if self.reliable == 0 {
                1.0
            } else {
                self.reliable_ok as f64 / self.reliable as f64
            },
            self.reliable - self.reliable_ok,
            self.reliable
        ) + &bins
    }
}

fn train(model: ModelKind, rows: &[(String, String)]) -> (TextClassifier, Resolver) {
    let texts: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let labels: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    let prior = std::env::var("FL_PRIOR")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.2);
    let mut clf = TextClassifier::new(ClassifierConfig {
        model,
        novelty_prior: prior,
        ..Default::default()
    })
    .expect("config");
    clf.fit(&texts, &labels).expect("fit");
    let mut r = Resolver::new(ResolverConfig::default()).expect("resolver");
    r.add_knowledge(&texts, &labels).expect("kb");
    r.set_classifier(clf.clone()).expect("set");
    (clf, r)
}

fn eval(clf: &TextClassifier, r: &Resolver, rows: &[(String, String)]) -> (Score, Score) {
    let texts: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let preds = clf.predict_many(&texts).expect("predict");
    let res = r.resolve_batch(&texts, Mode::Auto).expect("resolve");
    let (mut c, mut s) = (Score::default(), Score::default());
    let thr = r.config().classifier_threshold;
    let dump = std::env::var("FL_DUMP").is_ok();
    for ((p, x), row) in preds.iter().zip(&res).zip(rows) {
        if dump && (p.confidence < thr) != std::env::var("FL_DUMP_HIGH").is_ok() {
            println!(
                "DUMP {} {:.3} nov {:.3} {} | {}",
                u8::from(p.label == row.1),
                p.confidence,
                p.novelty,
                row.1,
                row.0.chars().take(120).collect::<String>()
            );
        }
        c.add(p.confidence, p.label == row.1, p.confidence >= thr);
        s.add(
            x.confidence,
            x.solution.as_deref() == Some(&row.1),
            x.reliable,
        );
    }
    (c, s)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = args.get(1).map_or("../shared/data/loghub", String::as_str);
    let model = match args.get(2).map(String::as_str) {
        Some("auto") => ModelKind::Auto,
        Some("naive_bayes") => ModelKind::NaiveBayes,
        Some("linear_svm") => ModelKind::LinearSvm,
        _ => ModelKind::Logistic,
    };
    let only = args.get(3).cloned().unwrap_or_default();
    let mut data = load(dir);
    if let Ok(keep) = std::env::var("FL_ONLY") {
        data.retain(|(name, _)| keep.split(',').any(|k| k == name));
    }
    let mut trained = Vec::new();
    println!("== temporal split (first half trains), model {model}");
    for (name, rows) in &data {
        let split: f64 = std::env::var("FL_SPLIT")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.5);
        let h = (rows.len() as f64 * split) as usize;
        let (clf, r) = train(model, &rows[..h]);
        if only.is_empty() || only.contains("temporal") {
            let (c, s) = eval(&clf, &r, &rows[h..]);
            println!("{name:10} clf {}\n{:10} res {}", c.row(), "", s.row());
        }
        trained.push((name.clone(), clf, r));
    }
    if only.is_empty() || only.contains("cross") {
        println!("== cross-system: share of foreign lines marked reliable (classifier / resolver)");
        let mut worst: (f64, f64) = (0.0, 0.0);
        for (a, clf, r) in &trained {
            let mut line = format!("{a:10}");
            for (b, rows) in &data {
                if a == b {
                    continue;
                }
                let (c, s) = eval(clf, r, rows);
                let (cr, sr) = (
                    c.reliable as f64 / c.n as f64,
                    s.reliable as f64 / s.n as f64,
                );
                worst = (worst.0.max(cr), worst.1.max(sr));
                line += &format!(" {}:{:.3}/{:.3}", &b[..3], cr, sr);
            }
            println!("{line}");
        }
        println!(
            "worst pair: classifier {:.4}, resolver {:.4}",
            worst.0, worst.1
        );
    }
    if only.is_empty() || only.contains("random") {
        println!("== random stratified 80/20 split (seed 0)");
        for (name, rows) in &data {
            let mut by: HashMap<&str, Vec<usize>> = HashMap::new();
            for (i, r) in rows.iter().enumerate() {
                by.entry(&r.1).or_default().push(i);
            }
            let mut keys: Vec<_> = by.keys().copied().collect();
            keys.sort_unstable();
            let mut state = 0x9E37_79B9_7F4A_7C15u64;
            let (mut tr, mut te) = (Vec::new(), Vec::new());
            for k in keys {
                let mut idx = by[k].clone();
                for i in (1..idx.len()).rev() {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    idx.swap(i, (state % (i as u64 + 1)) as usize);
                }
                let nt = idx.len() / 5;
                te.extend(idx[..nt].iter().map(|&i| rows[i].clone()));
                tr.extend(idx[nt..].iter().map(|&i| rows[i].clone()));
            }
            let (clf, r) = train(model, &tr);
            let (c, s) = eval(&clf, &r, &te);
            println!("{name:10} clf {}\n{:10} res {}", c.row(), "", s.row());
        }
    }
}
