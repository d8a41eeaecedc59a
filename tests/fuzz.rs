//! Property-based fuzzing (proptest, stable Rust) of every function that takes outside input:
//! arbitrary text through preprocessing and the vectoriser, arbitrary bytes through every artifact
//! loader, arbitrary rule files, knowledge-base lines and texts through the resolver. Each property
//! is "returns `Ok` or a clear `Err`, never panics", plus invariants where there are some.
//!
//! `make test` runs a short, fixed-seed run (the same cases every time, so a clean clone never fails
//! by chance). Randomised exploration is `make fuzz`: a fresh `PROPTEST_RNG_SEED` and
//! `PROPTEST_CASES=20000` (docs/reliability.md). Failures proptest finds are saved next to this file
//! in `tests/fuzz.proptest-regressions` and replayed first on every run; inputs that found bugs are
//! also kept as plain tests at the end of this file.

use faultlens::drift::{AdwinConfig, PageHinkleyConfig};
use faultlens::resolve::{KnowledgeBase, Mode, Resolver, ResolverConfig, Rules};
use faultlens::{
    Adwin, Artifact, Event, KlDriftConfig, KlDriftDetector, PageHinkley, Preprocessor,
    PreprocessorConfig, SimilarityIndex, TextClassifier, TextIndex, TfidfConfig, TfidfVectorizer,
    WindowAggregator, WindowConfig,
};
use proptest::prelude::*;

/// Log-like text: pieces that trigger every mask and the segmenter's special cases, mixed with
/// arbitrary Unicode (Hangul, emoji, control characters, NUL).
fn log_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("10.0.0.1:8080".to_owned()),
        Just("::1".to_owned()),
        Just("fe80::1ff:fe23:4567:890a".to_owned()),
        Just("0xDEADbeef".to_owned()),
        Just("123e4567-e89b-12d3-a456-426614174000".to_owned()),
        Just("2026-11-22T10:00:00.123Z".to_owned()),
        Just("Nov 22 10:00:00".to_owned()),
        Just("/var/log/../x.log".to_owned()),
        Just("C:\\temp\\a b".to_owned()),
        Just("https://a.b/c?d=e".to_owned()),
        Just("a@b.co".to_owned()),
        Just("java.lang.NullPointerException".to_owned()),
        Just("ERR_CONNECTION_REFUSED".to_owned()),
        Just("데이터베이스 연결 실패".to_owned()),
        Just("-12.5,3".to_owned()),
        Just("<num>".to_owned()),
        Just("\u{0}\u{7}\u{202e}🔥".to_owned()),
        "[a-zA-Z0-9_.:/\\-]{0,12}",
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|v| v.join(" "))
}

fn preprocessor_config() -> impl Strategy<Value = PreprocessorConfig> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        0usize..5,
        prop_oneof![Just("english"), Just("none")],
    )
        .prop_map(
            |(lowercase, mask, split, min_len, stemmer)| PreprocessorConfig {
                lowercase,
                mask,
                split_identifiers: split,
                min_token_length: min_len,
                stemmer: stemmer.to_owned(),
                ..Default::default()
            },
        )
}

fn cases(default: u32) -> ProptestConfig {
    // PROPTEST_CASES (the documented long run) overrides the short default used by `make test`.
    let n = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    fixed_seed(ProptestConfig {
        cases: n,
        ..ProptestConfig::default()
    })
}

/// A fixed RNG seed unless `PROPTEST_RNG_SEED` asks for another (`make fuzz` does).
fn fixed_seed(config: ProptestConfig) -> ProptestConfig {
    let seeded = std::env::var_os("PROPTEST_RNG_SEED").is_some();
    ProptestConfig {
        rng_seed: if seeded {
            config.rng_seed
        } else {
            proptest::test_runner::RngSeed::Fixed(0x005E_EDF1)
        },
        ..config
    }
}

/// Built once: each case edits a copy.
fn sample_artifacts() -> &'static [Vec<u8>] {
    static SAMPLES: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    SAMPLES.get_or_init(build_samples)
}

fn default_preprocessor() -> &'static Preprocessor {
    static P: std::sync::OnceLock<Preprocessor> = std::sync::OnceLock::new();
    P.get_or_init(Preprocessor::default)
}

fn build_samples() -> Vec<Vec<u8>> {
    let mut v = TfidfVectorizer::new(TfidfConfig {
        ngram_range: (1, 2),
        ..Default::default()
    })
    .unwrap();
    v.fit(&[
        "disk full on /dev/sda1",
        "connection refused 10.0.0.1",
        "disk quota exceeded",
    ])
    .unwrap();
    let mut r = Resolver::new(ResolverConfig::default()).unwrap();
    r.set_rules(Rules::from_json(r#"[{"pattern": "disk", "solution": "expand"}]"#).unwrap());
    r.add_knowledge(&["connection refused"], &["restart"])
        .unwrap();
    let mut w = WindowAggregator::new(WindowConfig {
        threshold: 2,
        allowed_lateness_ms: Some(500),
        ..Default::default()
    })
    .unwrap();
    let events: Vec<Event<'_>> = (0..20)
        .map(|i| Event::new(i * 50, "api", "/pay", "E1").message("db pool exhausted"))
        .collect();
    w.push_batch(&events);
    let baseline: Vec<f64> = (0..200).map(|i| f64::from(i % 17) / 17.0).collect();
    let d = KlDriftDetector::from_baseline(
        &baseline,
        KlDriftConfig {
            window: 50,
            ..Default::default()
        },
    )
    .unwrap();
    let mut a = Adwin::new(AdwinConfig::default()).unwrap();
    a.update_many(&baseline).unwrap();
    vec![
        Preprocessor::default().to_bytes().unwrap(),
        v.to_bytes().unwrap(),
        r.to_bytes().unwrap(),
        w.to_bytes().unwrap(),
        d.to_bytes().unwrap(),
        a.to_bytes().unwrap(),
    ]
}

/// Every loader on the same bytes: none may panic.
fn load_all(bytes: &[u8]) {
    let _ = Preprocessor::from_bytes(bytes);
    let _ = TfidfVectorizer::from_bytes(bytes);
    let _ = Resolver::from_bytes(bytes);
    let _ = TextClassifier::from_bytes(bytes);
    let _ = SimilarityIndex::from_bytes(bytes);
    let _ = TextIndex::from_bytes(bytes);
    let _ = KlDriftDetector::from_bytes(bytes);
    let _ = Adwin::from_bytes(bytes);
    let _ = PageHinkley::from_bytes(bytes);
    let _ = WindowAggregator::from_bytes(bytes);
    let _ = faultlens::models::inspect_bytes(bytes);
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn preprocessing_never_panics_and_is_deterministic(text in log_text(), cfg in preprocessor_config()) {
        let p = Preprocessor::new(cfg).unwrap();
        let tokens = p.tokens(&text);
        prop_assert!(tokens.iter().all(|t| !t.is_empty() && !t.chars().any(char::is_whitespace)));
        prop_assert_eq!(&tokens, &p.tokens(&text));
        let t = p.template(&text);
        prop_assert_eq!(t.id.len(), 16);
        prop_assert_eq!(p.process(&text), tokens.join(" "));
    }

    #[test]
    fn arbitrary_bytes_as_lossy_text(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = default_preprocessor().tokens(&text);
    }

}

proptest! {
    // Each case fits a vectoriser or builds a resolver: fewer cases in the short run.
    #![proptest_config(cases(48))]

    #[test]
    fn vectoriser_fit_transform_is_ok_or_a_clear_error(
        docs in prop::collection::vec(log_text(), 0..12),
        probe in prop::collection::vec(log_text(), 0..4),
        lo in 1usize..3, extra in 0usize..2, sublinear in any::<bool>(),
    ) {
        let mut v = TfidfVectorizer::new(TfidfConfig {
            ngram_range: (lo, lo + extra), sublinear_tf: sublinear, ..Default::default()
        }).unwrap();
        match v.fit(&docs) {
            Err(e) => prop_assert_eq!(e.code(), "InvalidInput"),
            Ok(_) => {
                let x = v.transform(&probe).unwrap();
                prop_assert_eq!(x.n_rows, probe.len());
                for i in 0..x.n_rows {
                    let (idx, val) = x.row(i);
                    prop_assert!(idx.windows(2).all(|w| w[0] < w[1]));
                    let norm: f64 = val.iter().map(|x| x * x).sum::<f64>().sqrt();
                    prop_assert!(val.is_empty() || (norm - 1.0).abs() < 1e-9);
                }
                // The batch path (grouped by masked form) equals one call per text.
                for (i, t) in probe.iter().enumerate() {
                    let one = v.transform(&[t]).unwrap();
                    prop_assert_eq!(x.row(i), one.row(0));
                }
            }
        }
    }

    #[test]
    fn knowledge_lines_and_resolve_never_panic(lines in prop::collection::vec(any::<String>(), 0..8), text in log_text()) {
        knowledge_and_resolve(lines, text)?;
    }
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn loaders_survive_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        load_all(&bytes);
        let mut with_magic = b"FAULTLNS".to_vec();
        with_magic.extend_from_slice(&bytes);
        load_all(&with_magic);
    }

    #[test]
    fn loaders_survive_edited_model_files(
        which in 0usize..6,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6),
    ) {
        let mut b = sample_artifacts()[which].clone();
        for (at, byte, kind) in edits {
            let i = at.index(b.len().max(1));
            match kind {
                0 if i < b.len() => b[i] = byte,
                1 => b.insert(i.min(b.len()), byte),
                _ if i < b.len() => { b.remove(i); }
                _ => {}
            }
        }
        load_all(&b);
    }

    #[test]
    fn rule_files_are_ok_or_a_clear_error(text in any::<String>(), pattern in any::<String>()) {
        let _ = Rules::from_json(&text);
        let _ = Rules::from_toml(&text);
        let json = serde_json::json!([{"name": "fuzz", "pattern": pattern, "solution": "x"}]).to_string();
        match Rules::from_json(&json) {
            Ok(r) => { let _ = r.first_match(&text); }
            Err(e) => prop_assert_eq!(e.code(), "InvalidInput"),
        }
    }

}

/// Any number, including NaN, infinities and extremes.
fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => 0.0f64..1.0,
        1 => any::<f64>(),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(-1e300),
    ]
}

proptest! {
    #![proptest_config(cases(128))]

    /// Window events with arbitrary times (extremes and disorder included) and fields, under
    /// arbitrary thresholds and lateness: every push returns, counts stay consistent.
    #[test]
    fn window_events_never_panic(
        threshold in 1u64..5,
        lateness in 0u64..5000,
        window_ms in 1u64..100_000,
        events in prop::collection::vec((prop_oneof![4 => 0i64..200_000, 1 => any::<i64>()], "[a-c]{0,2}", ".{0,6}", any::<String>()), 0..60),
    ) {
        let config = WindowConfig { threshold, window_ms, allowed_lateness_ms: Some(lateness), max_keys: 8, ..Default::default() };
        if let Ok(mut w) = WindowAggregator::new(config) {
            let batch: Vec<Event<'_>> = events.iter().map(|(t, s, r, m)| Event::new(*t, s, r, "E").message(m)).collect();
            let out = w.push_batch(&batch);
            prop_assert!(out.late.iter().chain(&out.rejected).all(|&i| i < batch.len()));
            let _ = w.flush();
            let st = w.stats();
            prop_assert!(st.live_keys <= 8);
            let again = WindowAggregator::from_bytes(&w.to_bytes().unwrap()).unwrap();
            prop_assert_eq!(again.stats(), st);
        }
    }

    /// Drift inputs: arbitrary baselines and scores (NaN, infinities) through the KL detector,
    /// ks_2samp, ADWIN and Page-Hinkley: `Ok` or a clear error, never a panic.
    #[test]
    fn drift_inputs_never_panic(
        baseline in prop::collection::vec(any_f64(), 0..120),
        scores in prop::collection::vec(any_f64(), 0..120),
        window in 1usize..60,
    ) {
        let config = KlDriftConfig { window, calibration_resamples: 50, ..Default::default() };
        if let Ok(mut d) = KlDriftDetector::from_baseline(&baseline, config) {
            let _ = d.add_many(&scores, Some(1.0));
            let _ = d.status();
            let _ = d.summary(7.0);
        }
        let r = faultlens::ks_2samp(&baseline, &scores);
        if let Ok(k) = r {
            prop_assert!((0.0..=1.0).contains(&k.statistic) && (0.0..=1.0).contains(&k.pvalue));
        }
        let mut a = Adwin::new(AdwinConfig::default()).unwrap();
        let mut p = PageHinkley::new(PageHinkleyConfig::default()).unwrap();
        for &x in &scores {
            let _ = a.update(x);
            let _ = p.update(x);
        }
    }
}

fn knowledge_and_resolve(lines: Vec<String>, text: String) -> Result<(), TestCaseError> {
    let dir = std::env::temp_dir().join(format!("faultlens-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("kb-{}.jsonl", text.len()));
    std::fs::write(&path, lines.join("\n")).unwrap();
    let _ = KnowledgeBase::read_jsonl(&path, false);
    let _ = KnowledgeBase::read_jsonl(&path, true);
    let _ = std::fs::remove_file(&path);
    let mut r = Resolver::new(ResolverConfig::default()).unwrap();
    r.set_rules(Rules::from_json(r#"[{"pattern": "refused|disk", "solution": "fix"}]"#).unwrap());
    let _ = r.add_knowledge(
        &["connection refused by 10.0.0.1", "disk full"],
        &["restart", "expand"],
    );
    for mode in [Mode::Auto, Mode::Rules, Mode::Similarity, Mode::Classifier] {
        match r.resolve(&text, mode) {
            Ok(res) => prop_assert!((0.0..=1.0).contains(&res.confidence)),
            Err(e) => prop_assert_eq!(e.code(), "InvalidInput"),
        }
    }
    Ok(())
}

/// Inputs the fuzzer found bugs with, kept as plain regression tests.
#[test]
fn regressions() {
    // A combining mark after a space made a token holding the space (UAX #29 rule WB4).
    let p = Preprocessor::new(PreprocessorConfig {
        lowercase: false,
        mask: false,
        ..Default::default()
    })
    .unwrap();
    for t in p.tokens("10.0.0.1:8080 \u{1e000}") {
        assert!(!t.chars().any(char::is_whitespace), "{t:?}");
    }
    // Splitting `ab__cd` into identifier parts made an empty token when min_token_length was 0.
    let p = Preprocessor::new(PreprocessorConfig {
        min_token_length: 0,
        mask: false,
        split_identifiers: true,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(p.tokens("ab__cd"), ["ab__cd", "ab", "cd"]);
    // U+202F NARROW NO-BREAK SPACE is ExtendNumLet in UAX #29, so it joined two words into one
    // segment; every whitespace character now splits.
    let p = default_preprocessor();
    for text in [
        "\u{a2a}\u{202f}",
        "a\u{202f}\u{af9}",
        "abc\u{202f}def",
        "x\u{2007}y\u{3000}z",
    ] {
        for t in p.tokens(text) {
            assert!(!t.chars().any(char::is_whitespace), "{text:?} -> {t:?}");
        }
    }
    assert_eq!(p.tokens("abc\u{202f}def"), ["abc", "def"]);
    assert_eq!(
        p.process("Timeout\u{202f}expired 5\u{202f}000 ms"),
        p.process("Timeout expired 5 000 ms")
    );
}
