//! Language-neutral preprocessing cases (tests/fixtures/text_cases.json): every binding runs the
//! same file and must produce the same tokens and templates.

use faultlens::{Preprocessor, PreprocessorConfig};
use faultlens_suite::fixture;
use serde_json::Value;

#[test]
fn shared_text_cases() {
    let cases: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(fixture("text_cases.json")).unwrap())
            .unwrap();
    assert!(cases.len() >= 15);
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let config: PreprocessorConfig = serde_json::from_value(case["config"].clone()).unwrap();
        let p = Preprocessor::new(config).unwrap();
        let text = case["text"].as_str().unwrap();
        let want: Vec<String> = serde_json::from_value(case["tokens"].clone()).unwrap();
        assert_eq!(p.tokens(text), want, "{name}: tokens");
        assert_eq!(p.process(text), want.join(" "), "{name}: process");
        let t = p.template(text);
        assert_eq!(t.masked, case["masked"].as_str().unwrap(), "{name}: masked");
        assert_eq!(
            t.id,
            case["template_id"].as_str().unwrap(),
            "{name}: template id"
        );
    }
}

#[test]
#[ignore = "needs the Loghub data (not in the repository): `make test-data`"]
fn batch_equals_single_on_real_lines() {
    let dir = faultlens_suite::loghub_dir().expect(faultlens_suite::NO_LOGHUB);
    let texts = faultlens_suite::read_jsonl_texts(&dir.join("Linux.jsonl")).unwrap();
    let p = Preprocessor::default();
    let batch = p.tokens_batch(&texts);
    for (t, b) in texts.iter().zip(&batch) {
        assert_eq!(&p.tokens(t), b);
    }
}

/// Mean TF-IDF cosine of each pair, the vectoriser (default settings) fitted on every text of
/// the side measured.
fn mean_pair_similarity(pairs: &[(String, String)], preprocessor: PreprocessorConfig) -> f64 {
    use faultlens::{TfidfConfig, TfidfVectorizer};
    let texts: Vec<&str> = pairs
        .iter()
        .flat_map(|(a, b)| [a.as_str(), b.as_str()])
        .collect();
    let mut v = TfidfVectorizer::new(TfidfConfig {
        preprocessor: Some(preprocessor),
        ..TfidfConfig::default()
    })
    .unwrap();
    let x = v.fit_transform(&texts).unwrap();
    let total: f64 = (0..pairs.len())
        .map(|i| x.cosine(2 * i, &x, 2 * i + 1))
        .sum();
    total / pairs.len() as f64
}

fn korean_pairs() -> Vec<[String; 4]> {
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("korean_pairs.json")).unwrap())
            .unwrap();
    doc["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| ["ko_a", "ko_b", "en_a", "en_b"].map(|k| p[k].as_str().unwrap().to_owned()))
        .collect()
}

/// Korean paraphrases score about as high as their English equivalents under the default
/// pipeline: particles and endings no longer split one word into many features.
#[test]
fn korean_pairs_score_like_their_english_equivalents() {
    let pairs = korean_pairs();
    assert!(pairs.len() >= 50, "{} pairs", pairs.len());
    let ko: Vec<(String, String)> = pairs.iter().map(|p| (p[0].clone(), p[1].clone())).collect();
    let en: Vec<(String, String)> = pairs.iter().map(|p| (p[2].clone(), p[3].clone())).collect();
    let en_mean = mean_pair_similarity(&en, PreprocessorConfig::default());
    let ko_mean = mean_pair_similarity(&ko, PreprocessorConfig::default());
    let ko_raw = mean_pair_similarity(
        &ko,
        PreprocessorConfig {
            korean: "none".into(),
            ..PreprocessorConfig::default()
        },
    );
    eprintln!(
        "mean pair cosine: english {en_mean:.3}, korean {ko_mean:.3} (korean = none: {ko_raw:.3})"
    );
    assert!(
        (ko_mean - en_mean).abs() <= 0.10 * en_mean,
        "korean {ko_mean:.3} vs english {en_mean:.3}: not within 10%"
    );
    assert!(
        ko_raw < 0.5 * en_mean,
        "the fixture must need the Korean rules: {ko_raw:.3}"
    );
}

/// English tokens are the same with the Korean rules on or off, and mixed lines only lose
/// the particles after Latin words.
#[test]
fn korean_rules_leave_other_scripts_alone() {
    let off = Preprocessor::new(PreprocessorConfig {
        korean: "none".into(),
        ..PreprocessorConfig::default()
    })
    .unwrap();
    let on = Preprocessor::default();
    for p in korean_pairs() {
        for en in [&p[2], &p[3]] {
            assert_eq!(on.tokens(en), off.tokens(en), "{en}");
        }
    }
    assert_eq!(
        on.tokens("API 게이트웨이에서 오류가 발생했습니다 (timeout after 30s)"),
        [
            "api",
            "게이트웨이",
            "오류",
            "발생",
            "timeout",
            "after",
            "<num>"
        ]
    );
    assert_eq!(on.tokens("DB에서 응답 없음"), ["db", "응답", "없음"]);
}
