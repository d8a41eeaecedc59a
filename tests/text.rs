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
