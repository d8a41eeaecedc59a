//! Where preprocessing time goes, per stage, on the bench corpus (development aid).
use faultlens::{Preprocessor, PreprocessorConfig};
use std::time::Instant;
fn main() {
    let lines = faultlens_suite::loghub_texts().expect("needs ../shared/data/loghub");
    let base = PreprocessorConfig::default();
    let variants = [
        ("default", base.clone()),
        (
            "no_stem",
            PreprocessorConfig {
                stemmer: "none".into(),
                ..base.clone()
            },
        ),
        (
            "no_mask",
            PreprocessorConfig {
                mask: false,
                ..base.clone()
            },
        ),
        (
            "no_mask_no_stem",
            PreprocessorConfig {
                mask: false,
                stemmer: "none".into(),
                ..base.clone()
            },
        ),
        (
            "only_num",
            PreprocessorConfig {
                masks: vec!["num".into()],
                ..base.clone()
            },
        ),
        (
            "only_ts",
            PreprocessorConfig {
                masks: vec!["ts".into()],
                ..base.clone()
            },
        ),
        (
            "only_ip",
            PreprocessorConfig {
                masks: vec!["ip".into()],
                ..base.clone()
            },
        ),
        (
            "only_hex",
            PreprocessorConfig {
                masks: vec!["hex".into()],
                ..base.clone()
            },
        ),
        (
            "only_uuid",
            PreprocessorConfig {
                masks: vec!["uuid".into()],
                ..base.clone()
            },
        ),
        (
            "only_path",
            PreprocessorConfig {
                masks: vec!["path".into()],
                ..base.clone()
            },
        ),
    ];
    for (name, cfg) in variants {
        let p = Preprocessor::new(cfg).unwrap();
        let t = Instant::now();
        let mut n = 0;
        for _ in 0..3 {
            for l in &lines {
                n += p.tokens(l).len();
            }
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "{name:18} {:>9.0} lines/s ({n} tokens)",
            3.0 * lines.len() as f64 / s
        );
    }
}
