//! The model file across versions and languages: golden files under tests/fixtures/models/v1 were
//! written once by this build's first release and are never regenerated; every binding loads them.

use faultlens::{Artifact, Preprocessor, TfidfVectorizer};
use faultlens_suite::fixture;

/// The corpus and config the golden vectoriser was fitted on (also in `golden.json`).
fn golden_spec() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixture("models/v1/golden.json")).unwrap())
        .unwrap()
}

#[test]
fn golden_v1_files_still_load_and_behave() {
    let spec = golden_spec();
    let v = TfidfVectorizer::load(fixture("models/v1/tfidf_vectorizer.flm")).unwrap();
    let names: Vec<String> = serde_json::from_value(spec["feature_names"].clone()).unwrap();
    assert_eq!(v.feature_names().unwrap(), names);
    let probe: Vec<String> = serde_json::from_value(spec["probe_texts"].clone()).unwrap();
    let x = v.transform(&probe).unwrap();
    let want: Vec<Vec<f64>> = serde_json::from_value(spec["probe_dense"].clone()).unwrap();
    for (got, want) in x.to_dense().iter().zip(&want) {
        for (a, b) in got.iter().zip(want) {
            assert!((a - b).abs() < 1e-9);
        }
    }
    let p = Preprocessor::load(fixture("models/v1/preprocessor.flm")).unwrap();
    let want_tokens: Vec<String> = serde_json::from_value(spec["probe_tokens"].clone()).unwrap();
    assert_eq!(p.tokens(&probe[0]), want_tokens);
}

/// A file written before the `korean` option existed tokenises Hangul as it did (rules off);
/// a new preprocessor has the rules on and keeps them through save and load.
#[test]
fn files_without_the_korean_option_keep_hangul_words_whole() {
    let old = Preprocessor::load(fixture("models/v1/preprocessor.flm")).unwrap();
    assert_eq!(old.config().korean, "none");
    assert_eq!(old.tokens("서비스가 다운됨"), ["서비스가", "다운됨"]);
    let new = Preprocessor::from_bytes(&Preprocessor::default().to_bytes().unwrap()).unwrap();
    assert_eq!(new.config().korean, "rules");
    assert_eq!(new.tokens("서비스가 다운됨"), ["서비스", "다운"]);
    // The same JSON outside a model file is a new config: the default applies.
    let cfg: faultlens::PreprocessorConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(cfg.korean, "rules");
}

/// Writes the golden files. Run once, by hand, when a new format version is introduced:
/// `cargo test --test models -- --ignored write_golden` (then never again for that version).
#[test]
#[ignore]
fn write_golden() {
    let corpus = [
        "Connection refused to 10.0.0.7:5432 after 3 retries",
        "Disk quota exceeded for /var/lib/postgres",
        "java.lang.NullPointerException at com.acme.Foo.bar(Foo.java:42)",
        "kube-proxy failed to sync iptables rules: exit status 1",
        "데이터베이스 연결 실패: connection timed out",
        "ERR_CONNECTION_REFUSED while fetching https://api.example.com/v1/items",
    ];
    let probe = [
        "connection refused by 10.1.2.3:80",
        "disk quota exceeded",
        "unrelated words only",
    ];
    let config = faultlens::TfidfConfig {
        ngram_range: (1, 2),
        sublinear_tf: true,
        ..Default::default()
    };
    let mut v = TfidfVectorizer::new(config.clone()).unwrap();
    v.fit(&corpus).unwrap();
    let dir = fixture("models/v1");
    v.save(dir.join("tfidf_vectorizer.flm")).unwrap();
    let p = Preprocessor::new(faultlens::PreprocessorConfig {
        split_identifiers: true,
        ..Default::default()
    })
    .unwrap();
    p.save(dir.join("preprocessor.flm")).unwrap();
    let spec = serde_json::json!({
        "about": "Expected behaviour of the v1 golden files; written with them by tests/models.rs::write_golden.",
        "corpus": corpus,
        "config": config,
        "feature_names": v.feature_names().unwrap(),
        "probe_texts": probe,
        "probe_dense": v.transform(&probe).unwrap().to_dense(),
        "probe_tokens": p.tokens(probe[0]),
    });
    std::fs::write(
        dir.join("golden.json"),
        serde_json::to_string_pretty(&spec).unwrap() + "\n",
    )
    .unwrap();
}

// ------------------------------------------------------------ one golden file per artifact kind

/// Every artifact kind's file name under `tests/fixtures/models/v{N}/` (`{kind}.flm`).
const KINDS: [&str; 10] = [
    "preprocessor",
    "tfidf_vectorizer",
    "text_classifier",
    "similarity_index",
    "text_index",
    "resolver",
    "window_aggregator",
    "kl_drift_detector",
    "adwin",
    "page_hinkley",
];

/// xorshift64*: the fixed-seed numbers the golden objects are built from.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Beta(8, 2) by order statistics (the 8th smallest of 9 uniforms), shifted and clamped.
    fn beta82(&mut self, n: usize, shift: f64) -> Vec<f64> {
        (0..n)
            .map(|_| {
                let mut u: [f64; 9] = std::array::from_fn(|_| self.unit());
                u.sort_by(f64::total_cmp);
                (u[7] + shift).clamp(0.0, 1.0)
            })
            .collect()
    }
}

/// The classifier's training lines (a shared fixture).
fn train_rows() -> (Vec<String>, Vec<String>) {
    let body = std::fs::read_to_string(fixture("classify/train.jsonl")).unwrap();
    body.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["text"].as_str().unwrap().to_owned(),
                v["label"].as_str().unwrap().to_owned(),
            )
        })
        .unzip()
}

const PROBE_TEXTS: [&str; 4] = [
    "Failed password for invalid user admin from 10.1.2.3 port 22 ssh2",
    "Connection refused to 10.0.0.7:5432 after 3 retries",
    "disk quota exceeded on /var/lib/postgres",
    "unrelated words only",
];

fn vectors(n: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut r = Rng(seed);
    (0..n * dim).map(|_| r.unit() as f32 - 0.5).collect()
}

/// Builds the golden object of `kind`, mid-use where it has a state to continue from, and
/// returns its file's bytes.
fn build(kind: &str) -> Vec<u8> {
    use faultlens::drift::{Adwin, AdwinConfig, KlDriftConfig, KlDriftDetector};
    use faultlens::drift::{PageHinkley, PageHinkleyConfig};
    use faultlens::resolve::{Resolver, ResolverConfig, Rules};
    use faultlens::window::{Event, WindowAggregator, WindowConfig};
    use faultlens::{ClassifierConfig, IndexConfig, SimilarityIndex, TextClassifier};
    use faultlens::{TextIndex, TextIndexConfig};
    let classifier = || {
        let (texts, labels) = train_rows();
        let mut c = TextClassifier::new(ClassifierConfig::default()).unwrap();
        c.fit(&texts, &labels).unwrap();
        c
    };
    match kind {
        "preprocessor" => Preprocessor::new(faultlens::PreprocessorConfig {
            split_identifiers: true,
            ..Default::default()
        })
        .unwrap()
        .to_bytes(),
        "tfidf_vectorizer" => {
            let mut v = TfidfVectorizer::new(faultlens::TfidfConfig {
                ngram_range: (1, 2),
                sublinear_tf: true,
                ..Default::default()
            })
            .unwrap();
            v.fit(&train_rows().0[..60]).unwrap();
            v.to_bytes()
        }
        "text_classifier" => classifier().to_bytes(),
        "similarity_index" => {
            // Past `exact_below`: a graph is built (on load too).
            let idx = SimilarityIndex::new(IndexConfig {
                dim: 8,
                exact_below: 32,
                ..Default::default()
            })
            .unwrap();
            let ids: Vec<u64> = (0..200).map(|i| 1000 + i).collect();
            let payloads = ids.iter().map(|i| Some(format!("p{i}"))).collect();
            idx.add(&ids, &vectors(200, 8, 1), Some(payloads)).unwrap();
            idx.to_bytes()
        }
        "text_index" => {
            let idx = TextIndex::new(TextIndexConfig::default()).unwrap();
            let (texts, labels) = train_rows();
            let payloads = labels[..80].iter().map(|l| Some(l.clone())).collect();
            idx.add(&texts[..80], Some(payloads)).unwrap();
            idx.to_bytes()
        }
        "resolver" => {
            let mut r = Resolver::new(ResolverConfig::default()).unwrap();
            r.set_rules(
                Rules::from_json(
                    r#"[{"name": "quota", "pattern": "quota exceeded", "solution": "raise_quota"}]"#,
                )
                .unwrap(),
            );
            r.add_knowledge(
                &["Connection refused to 10.0.0.9:5432", "OOMKilled: container"],
                &["restart_database", "increase_memory_limit"],
            )
            .unwrap();
            r.set_classifier(classifier()).unwrap();
            r.to_bytes()
        }
        "window_aggregator" => {
            let mut w = WindowAggregator::new(WindowConfig {
                threshold: 2,
                allowed_lateness_ms: Some(500),
                ..Default::default()
            })
            .unwrap();
            let events: Vec<Event<'_>> = (0..5)
                .map(|i| Event::new(1_000 + i * 100, "api", "/pay", "E1").message("pool exhausted"))
                .chain([Event::new(1_200, "api", "/login", "E2").message("bad token")])
                .collect();
            w.push_batch(&events);
            w.to_bytes()
        }
        "kl_drift_detector" => {
            let mut r = Rng(7);
            let config = KlDriftConfig {
                window: 300,
                ..Default::default()
            };
            let mut d = KlDriftDetector::from_baseline(&r.beta82(5_000, 0.0), config).unwrap();
            d.add_many(&r.beta82(500, 0.0), Some(1.7e9)).unwrap();
            d.add_many(&r.beta82(150, -0.2), Some(1.7e9 + 86_400.0))
                .unwrap();
            d.to_bytes()
        }
        "adwin" => {
            let mut a = Adwin::new(AdwinConfig::default()).unwrap();
            a.update_many(&Rng(8).beta82(2_000, 0.0)).unwrap();
            a.to_bytes()
        }
        "page_hinkley" => {
            let mut p = PageHinkley::new(PageHinkleyConfig::default()).unwrap();
            p.update_many(&Rng(9).beta82(2_000, 0.0)).unwrap();
            p.to_bytes()
        }
        _ => panic!("no golden object for {kind}"),
    }
    .unwrap()
}

/// What the object in `bytes` (a file of `kind`) does next, as JSON: queries, and for the
/// streaming kinds the results of continuing the stream. The same for the object that was saved
/// and for any build that loads its file.
fn probe(kind: &str, bytes: &[u8]) -> serde_json::Value {
    use faultlens::drift::{Adwin, KlDriftDetector, PageHinkley};
    use faultlens::resolve::{Mode, Resolver};
    use faultlens::window::{Event, WindowAggregator};
    use faultlens::{SimilarityIndex, TextClassifier, TextIndex};
    use serde_json::json;
    let probes: Vec<String> = PROBE_TEXTS.iter().map(|s| s.to_string()).collect();
    match kind {
        "preprocessor" => {
            let p = Preprocessor::from_bytes(bytes).unwrap();
            json!(probes.iter().map(|t| p.tokens(t)).collect::<Vec<_>>())
        }
        "tfidf_vectorizer" => {
            let v = TfidfVectorizer::from_bytes(bytes).unwrap();
            json!({
                "n_features": v.n_features().unwrap(),
                "dense": v.transform(&probes).unwrap().to_dense(),
            })
        }
        // Labels of the probes that resemble the training lines (confidences and the
        // classifier's verdict on unrelated text may change with the model, not with the file).
        "text_classifier" => {
            let c = TextClassifier::from_bytes(bytes).unwrap();
            json!(c.predict(&probes[..3]).unwrap())
        }
        "similarity_index" => {
            let idx = SimilarityIndex::from_bytes(bytes).unwrap();
            // Exact: the graph is rebuilt on load (on one thread, so the same on every load),
            // and a future build may build it differently; the exact answer is the file's.
            let exact = faultlens::SearchOptions {
                exact: true,
                ..Default::default()
            };
            let hits = idx.search(&vectors(3, 8, 2), 5, &exact).unwrap();
            json!({ "len": idx.len(), "hits": hits })
        }
        "text_index" => {
            let idx = TextIndex::from_bytes(bytes).unwrap();
            let hits: Vec<_> = (probes.iter())
                .map(|t| idx.search(t, 3, &Default::default()).unwrap())
                .collect();
            json!({ "len": idx.len(), "hits": hits })
        }
        // Each part the file holds, asked alone: rules, knowledge, classifier labels.
        "resolver" => {
            let r = Resolver::from_bytes(bytes).unwrap();
            let solution = |t: &str, mode| r.resolve(t, mode).unwrap().solution;
            let rules: Vec<_> = probes.iter().map(|t| solution(t, Mode::Rules)).collect();
            let similar: Vec<_> = (probes.iter())
                .map(|t| solution(t, Mode::Similarity))
                .collect();
            let labels = r.classifier().unwrap().predict(&probes[..3]).unwrap();
            json!({
                "knowledge_size": r.knowledge_size(),
                "rules": rules,
                "similarity": similar,
                "classifier": labels,
            })
        }
        "window_aggregator" => {
            let mut w = WindowAggregator::from_bytes(bytes).unwrap();
            let watermark = w.watermark();
            let pushed = w.push_batch(&[Event::new(1_250, "api", "/login", "E2")]);
            let advanced = w.advance(100_000);
            json!({ "watermark": watermark, "pushed": pushed, "advanced": advanced })
        }
        "kl_drift_detector" => {
            let mut d = KlDriftDetector::from_bytes(bytes).unwrap();
            let before = d.status().unwrap();
            let mut r = Rng(17);
            let checks = d.add_many(&r.beta82(400, -0.1), Some(1.8e9)).unwrap();
            json!({
                "status": before,
                "checks": checks,
                "after": d.status().unwrap(),
                "summary": d.summary(7.0).unwrap(),
            })
        }
        "adwin" => {
            let mut a = Adwin::from_bytes(bytes).unwrap();
            let state = json!([a.width(), a.estimation(), a.n_detections()]);
            let found = a.update_many(&Rng(18).beta82(600, -0.3)).unwrap();
            json!({ "state": state, "detections": found, "width": a.width() })
        }
        "page_hinkley" => {
            let mut p = PageHinkley::from_bytes(bytes).unwrap();
            let n = p.n_detections();
            let found = p.update_many(&Rng(19).beta82(600, 0.3)).unwrap();
            json!({ "n_detections": n, "detections": found })
        }
        _ => panic!("no probe for {kind}"),
    }
}

/// `got` equals `want`, numbers within 1e-9 relative (a float may differ in its last bits
/// between builds, for example when a loaded detector recomputes a running sum).
fn assert_close(got: &serde_json::Value, want: &serde_json::Value, at: &str) {
    use serde_json::Value;
    match (got, want) {
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            let scale = a.abs().max(b.abs()).max(1.0);
            assert!((a - b).abs() <= 1e-9 * scale, "{at}: {a} vs {b}");
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{at}: lengths");
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                assert_close(x, y, &format!("{at}[{i}]"));
            }
        }
        (Value::Object(a), Value::Object(b)) => {
            let keys = |m: &serde_json::Map<String, Value>| m.keys().cloned().collect::<Vec<_>>();
            assert_eq!(keys(a), keys(b), "{at}: fields");
            for (k, x) in a {
                assert_close(x, &b[k], &format!("{at}.{k}"));
            }
        }
        _ => assert_eq!(got, want, "{at}"),
    }
}

/// The golden files of the current format version: one per artifact kind, each loads and
/// behaves as when it was saved (`expected.json`, written with them).
#[test]
fn golden_current_files_load_and_behave() {
    let dir = format!("models/v{}", faultlens::models::FORMAT_VERSION);
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture(&format!("{dir}/expected.json"))).unwrap(),
    )
    .unwrap();
    for kind in KINDS {
        let bytes = std::fs::read(fixture(&format!("{dir}/{kind}.flm")))
            .unwrap_or_else(|e| panic!("{dir}/{kind}.flm: {e}"));
        let info = faultlens::models::inspect_bytes(&bytes).unwrap();
        assert_eq!(info.kind, kind);
        assert_eq!(info.format_version, faultlens::models::FORMAT_VERSION);
        assert_close(&probe(kind, &bytes), &expected[kind], kind);
    }
}

/// Writes the current format version's golden files, one per artifact kind, and their
/// `expected.json`. Run by hand once per format version, when it is introduced:
/// `cargo test -p faultlens-suite --test models -- --ignored write_golden_current`. It refuses to
/// overwrite a version's files: they are kept as the build of that version wrote them.
#[test]
#[ignore = "writes fixtures; run by hand once per new format version"]
fn write_golden_current() {
    let dir = fixture(&format!("models/v{}", faultlens::models::FORMAT_VERSION));
    assert!(
        !dir.join("expected.json").exists(),
        "{} already holds golden files: never regenerate them",
        dir.display()
    );
    std::fs::create_dir_all(&dir).unwrap();
    let mut expected = serde_json::Map::new();
    expected.insert(
        "about".into(),
        format!(
            "What each golden file does after loading; written with them by faultlens {} \
             (tests/models.rs::write_golden_current).",
            faultlens::VERSION
        )
        .into(),
    );
    for kind in KINDS {
        let bytes = build(kind);
        std::fs::write(dir.join(format!("{kind}.flm")), &bytes).unwrap();
        expected.insert(kind.into(), probe(kind, &bytes));
    }
    std::fs::write(
        dir.join("expected.json"),
        serde_json::to_string_pretty(&expected).unwrap() + "\n",
    )
    .unwrap();
}
