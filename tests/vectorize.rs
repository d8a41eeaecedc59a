//! TF-IDF equals scikit-learn's on the same tokens (fixture made by tests/fixtures/gen_tfidf_sklearn.py),
//! and raw-text behaviour on real log lines.

use faultlens::{TfidfConfig, TfidfVectorizer};
use faultlens_suite::fixture;
use serde_json::Value;

fn load_fixture() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture("tfidf_sklearn.json")).unwrap()).unwrap()
}

#[test]
fn matches_scikit_learn_on_every_fixture_case() {
    let fx = load_fixture();
    let docs: Vec<Vec<String>> = serde_json::from_value(fx["docs"].clone()).unwrap();
    for case in fx["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let mut opts = case["options"].clone();
        opts["preprocessor"] = Value::Null;
        let config: TfidfConfig = serde_json::from_value(opts).unwrap();
        let mut v = TfidfVectorizer::new(config).unwrap();
        let x = v.fit_transform_tokens(&docs).unwrap();
        let names: Vec<String> = serde_json::from_value(case["feature_names"].clone()).unwrap();
        assert_eq!(
            v.feature_names().unwrap(),
            names,
            "{name}: vocabulary order"
        );
        let shape: Vec<usize> = serde_json::from_value(case["shape"].clone()).unwrap();
        assert_eq!((x.n_rows, x.n_cols), (shape[0], shape[1]), "{name}: shape");
        let indptr: Vec<usize> = serde_json::from_value(case["indptr"].clone()).unwrap();
        let indices: Vec<u32> = serde_json::from_value(case["indices"].clone()).unwrap();
        let data: Vec<f64> = serde_json::from_value(case["data"].clone()).unwrap();
        assert_eq!(x.indptr, indptr, "{name}: indptr");
        assert_eq!(x.indices, indices, "{name}: indices");
        for (a, b) in x.data.iter().zip(&data) {
            assert!((a - b).abs() < 1e-6, "{name}: value {a} vs {b}");
        }
        if let Some(idf) = case["idf"].as_array() {
            for (a, b) in v.idf().unwrap().iter().zip(idf) {
                assert!((a - b.as_f64().unwrap()).abs() < 1e-6, "{name}: idf");
            }
        }
        // Transforming again (not fit_transform) gives the same rows.
        assert_eq!(v.transform_tokens(&docs).unwrap(), x, "{name}: transform");
    }
}

#[test]
fn real_log_lines_vectorise_with_trigrams() {
    let texts = [
        "PacketResponder 1 for block blk_38865049064139660 terminating",
        "PacketResponder 0 for block blk_-6952295868487656571 terminating",
        "Received block blk_3587508140051953248 of size 67108864 from /10.251.42.84",
        "Failed password for invalid user admin from 187.141.143.180 port 46364 ssh2",
        "jk2_init() Found child 6725 in scoreboard slot 10",
    ];
    let mut v = TfidfVectorizer::new(TfidfConfig {
        ngram_range: (1, 3),
        ..Default::default()
    })
    .unwrap();
    let x = v.fit_transform(&texts).unwrap();
    assert_eq!(x.n_rows, 5);
    // Masking makes the first two lines the same template.
    assert!((x.cosine(0, &x, 1) - 1.0).abs() < 1e-12);
    assert!(x.cosine(0, &x, 3) < 0.1);
    assert!(
        v.vocabulary()
            .unwrap()
            .contains_key("fail password invalid")
    );
    // Unknown words give an empty row, not an error.
    let y = v.transform(&["zzz qqq"]).unwrap();
    assert_eq!(y.nnz(), 0);
}

#[test]
fn bad_input_is_defined() {
    let mut v = TfidfVectorizer::new(TfidfConfig::default()).unwrap();
    v.fit(&["error one", "error two"]).unwrap();
    let huge = "disk error ".repeat(1_000_000);
    let weird = ["", "   ", "\0\0", "😀😀", "에러 error", huge.as_str()];
    let x = v.transform(&weird).unwrap();
    assert_eq!(x.n_rows, weird.len());
    assert_eq!(x.row(0).0.len(), 0);
    assert!(x.row(5).0.len() == 1);
}
