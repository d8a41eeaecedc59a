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
