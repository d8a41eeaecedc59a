use super::config::{DEFAULT_MAX_DISTINCT_TERMS, DfBound, Norm, TfidfConfig};
use super::csr::CsrMatrix;
use super::vectorizer::TfidfVectorizer;
use crate::error::Error;
use crate::text::Preprocessor;

fn with_pre(lo: usize, hi: usize) -> TfidfConfig {
    TfidfConfig {
        ngram_range: (lo, hi),
        ..Default::default()
    }
}

fn cfg(lo: usize, hi: usize) -> TfidfConfig {
    TfidfConfig {
        ngram_range: (lo, hi),
        preprocessor: None,
        ..Default::default()
    }
}

#[test]
fn hand_computed_values() {
    let mut v = TfidfVectorizer::new(cfg(1, 1)).unwrap();
    let x = v.fit_transform(&["a b", "a c"]).unwrap();
    assert_eq!(v.feature_names().unwrap(), ["a", "b", "c"]);
    let idf_b = (3.0f64 / 2.0).ln() + 1.0;
    let n = (1.0 + idf_b * idf_b).sqrt();
    let d = x.to_dense();
    assert!((d[0][0] - 1.0 / n).abs() < 1e-12);
    assert!((d[0][1] - idf_b / n).abs() < 1e-12);
    assert_eq!(d[0][2], 0.0);
}

#[test]
fn ngrams_and_limits() {
    let mut v = TfidfVectorizer::new(TfidfConfig {
        max_features: Some(2),
        ..cfg(1, 2)
    })
    .unwrap();
    v.fit(&["x y x", "x z"]).unwrap();
    // x appears 3 times; "x y", "y x", "x z", y, z once each: ties go alphabetically.
    assert_eq!(v.feature_names().unwrap(), ["x", "x y"]);
}

#[test]
fn df_bounds() {
    let docs = ["a b", "a c", "a d"];
    let mut v = TfidfVectorizer::new(TfidfConfig {
        max_df: DfBound::Fraction(0.5),
        ..cfg(1, 1)
    })
    .unwrap();
    v.fit(&docs).unwrap();
    assert_eq!(v.feature_names().unwrap(), ["b", "c", "d"]);
    let mut v = TfidfVectorizer::new(TfidfConfig {
        min_df: DfBound::Count(2),
        ..cfg(1, 1)
    })
    .unwrap();
    v.fit(&docs).unwrap();
    assert_eq!(v.feature_names().unwrap(), ["a"]);
    let mut v = TfidfVectorizer::new(TfidfConfig {
        min_df: DfBound::Count(3),
        max_df: DfBound::Fraction(0.1),
        ..cfg(1, 1)
    })
    .unwrap();
    assert!(matches!(
        v.fit(&docs),
        Err(Error::InvalidConfig {
            field: "max_df",
            ..
        })
    ));
}

#[test]
fn distinct_terms_are_capped_with_an_error_naming_the_field() {
    let docs: Vec<String> = (0..50).map(|i| format!("w{i}a w{i}b w{i}c")).collect();
    let capped = |cap| TfidfConfig {
        preprocessor: None,
        max_distinct_terms: cap,
        ..cfg(1, 2)
    };
    // 50 lines x (3 words + 2 bigrams) = 250 distinct n-grams.
    let e = TfidfVectorizer::new(capped(Some(100)))
        .unwrap()
        .fit(&docs)
        .map(|_| ())
        .unwrap_err();
    assert!(
        matches!(&e, Error::InvalidInput(m) if m.contains("max_distinct_terms = 100")),
        "{e}"
    );
    for cap in [Some(250), None] {
        let mut v = TfidfVectorizer::new(capped(cap)).unwrap();
        v.fit(&docs).unwrap();
        assert_eq!(v.n_features().unwrap(), 250);
    }
    // Old files (no such field) load with the default cap.
    let c: TfidfConfig = serde_json::from_str(r#"{"ngram_range": [1, 2]}"#).unwrap();
    assert_eq!(c.max_distinct_terms, Some(DEFAULT_MAX_DISTINCT_TERMS));
}

#[test]
fn bad_configs() {
    for (c, field) in [
        (
            TfidfConfig {
                max_distinct_terms: Some(0),
                ..cfg(1, 1)
            },
            "max_distinct_terms",
        ),
        (cfg(3, 1), "ngram_range"),
        (cfg(0, 1), "ngram_range"),
        (
            TfidfConfig {
                max_features: Some(0),
                ..cfg(1, 1)
            },
            "max_features",
        ),
        (
            TfidfConfig {
                min_df: DfBound::Count(5),
                max_df: DfBound::Count(2),
                ..cfg(1, 1)
            },
            "min_df",
        ),
        (
            TfidfConfig {
                min_df: DfBound::Fraction(0.9),
                max_df: DfBound::Fraction(0.2),
                ..cfg(1, 1)
            },
            "min_df",
        ),
        (
            TfidfConfig {
                max_df: DfBound::Fraction(1.5),
                ..cfg(1, 1)
            },
            "max_df",
        ),
    ] {
        match TfidfVectorizer::new(c) {
            Err(Error::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn not_fitted_and_empty() {
    let v = TfidfVectorizer::new(cfg(1, 1)).unwrap();
    assert!(matches!(v.transform(&["a"]), Err(Error::NotFitted { .. })));
    let mut v = TfidfVectorizer::new(TfidfConfig::default()).unwrap();
    assert!(matches!(v.fit(&[] as &[&str]), Err(Error::InvalidInput(_))));
    assert!(matches!(
        v.fit(&["", "  ", "the of"]),
        Err(Error::InvalidInput(_))
    ));
}

#[test]
fn df_bound_json() {
    let c: TfidfConfig = serde_json::from_str(r#"{"min_df": 2, "max_df": 1.0}"#).unwrap();
    assert_eq!(
        (c.min_df, c.max_df),
        (DfBound::Count(2), DfBound::Fraction(1.0))
    );
    let c: TfidfConfig = serde_json::from_str(r#"{"max_df": {"fraction": 1}}"#).unwrap();
    assert_eq!(c.max_df, DfBound::Fraction(1.0));
    assert!(serde_json::from_str::<TfidfConfig>(r#"{"min_dff": 2}"#).is_err());
    let c: TfidfConfig = serde_json::from_str(r#"{"norm": null}"#).unwrap();
    assert_eq!(c.norm, Norm::None);
    assert!(serde_json::from_str::<TfidfConfig>(r#"{"norm": "l3"}"#).is_err());
    let back: TfidfConfig = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
    assert_eq!(back, c);
    let json = serde_json::to_value(TfidfConfig::default()).unwrap();
    assert_eq!(json["max_df"], serde_json::json!({"fraction": 1.0}));
    assert_eq!(json["min_df"], serde_json::json!(1));
}

#[test]
fn batch_rows_of_repeated_masked_lines_equal_single_rows() {
    // Lines differ only in masked parts, so the batch path shares rows between them.
    let texts: Vec<String> = (0..600)
        .map(|i| match i % 3 {
            0 => format!("Connection refused to 10.0.0.{} after {i} retries", i % 250),
            1 => format!("Disk full on /var/data{i} ERROR code {}", i * 7),
            _ => format!("user{} logged in from host-{i}", i % 5),
        })
        .collect();
    let mut v = TfidfVectorizer::new(with_pre(1, 3)).unwrap();
    v.fit(&texts).unwrap();
    let batch = v.transform(&texts).unwrap();
    assert_eq!(batch.n_rows, texts.len());
    for (i, t) in texts.iter().enumerate() {
        let one = v.transform(&[t]).unwrap();
        assert_eq!(batch.row(i), one.row(0), "row {i}");
    }
}

#[test]
fn transform_with_unseen_rows_equal_transform_and_shares_equal_single_calls() {
    // Both go through one body; with a preprocessor, repeated masked forms share a row and a
    // share, which must equal what a lone call gives.
    let texts: Vec<String> = (0..600)
        .map(|i| match i % 4 {
            0 => format!("Connection refused to 10.0.0.{} after {i} retries", i % 250),
            1 => format!("Disk full on /var/data{i} ERROR code {}", i * 7),
            2 => format!("never seen words quux{} frobnicate", i % 3),
            _ => format!("user{} logged in from host-{i}", i % 5),
        })
        .chain((0..40).map(|i| format!("connection refused by novel daemon mode {}", i % 2)))
        .collect();
    for config in [with_pre(1, 3), cfg(1, 2)] {
        let mut v = TfidfVectorizer::new(config).unwrap();
        v.fit(&texts[..300]).unwrap();
        let (m, shares) = v.transform_with_unseen(&texts).unwrap();
        assert_eq!(m, v.transform(&texts).unwrap());
        assert_eq!(shares.len(), texts.len());
        assert!(shares.iter().any(|&s| s > 0.0) && shares.iter().any(|&s| s < 1.0));
        for (i, t) in texts.iter().enumerate().step_by(7) {
            let (one, share) = v.transform_with_unseen(&[t]).unwrap();
            assert_eq!(one.row(0), m.row(i), "row {i}");
            assert_eq!(share[0].to_bits(), shares[i].to_bits(), "share {i}");
        }
    }
}

#[test]
fn fitting_grouped_lines_equals_fitting_every_line() {
    let texts: Vec<String> = (0..900)
        .map(|i| match i % 4 {
            0 => format!("Connection refused to 10.0.0.{} after {i} retries", i % 250),
            1 => format!("Disk full on node{} ERROR code {}", i % 3, i * 7),
            2 => format!("user{} logged in from host-{i}", i % 11),
            _ => "heartbeat ok".to_owned(),
        })
        .collect();
    let configs = [
        with_pre(1, 3),
        TfidfConfig {
            min_df: DfBound::Count(3),
            max_df: DfBound::Fraction(0.5),
            ..with_pre(1, 2)
        },
        TfidfConfig {
            max_features: Some(7),
            sublinear_tf: true,
            ..with_pre(1, 3)
        },
    ];
    for c in configs {
        let mut grouped = TfidfVectorizer::new(c.clone()).unwrap();
        grouped.fit(&texts).unwrap();
        let p = Preprocessor::new(c.preprocessor.clone().unwrap()).unwrap();
        let mut each = TfidfVectorizer::new(TfidfConfig {
            preprocessor: None,
            ..c.clone()
        })
        .unwrap();
        each.fit_tokens(&p.tokens_batch(&texts)).unwrap();
        assert_eq!(
            grouped.feature_names().unwrap(),
            each.feature_names().unwrap()
        );
        assert_eq!(grouped.idf().unwrap(), each.idf().unwrap());
        let mut ft = TfidfVectorizer::new(c).unwrap();
        assert_eq!(
            ft.fit_transform(&texts).unwrap(),
            grouped.transform(&texts).unwrap()
        );
    }
}

#[test]
fn transform_parallel_equals_sequential() {
    let texts: Vec<String> = (0..1000)
        .map(|i| format!("err{} code{} disk full", i % 7, i % 13))
        .collect();
    let mut v = TfidfVectorizer::new(cfg(1, 3)).unwrap();
    let a = v.fit_transform(&texts).unwrap();
    let seq: Vec<CsrMatrix> = texts.iter().map(|t| v.transform(&[t]).unwrap()).collect();
    for (i, s) in seq.iter().enumerate() {
        assert_eq!(a.row(i), s.row(0));
    }
}

/// A line tokenised once and weighted by another vectoriser that tokenises alike gets exactly
/// the row and unseen share that vectoriser's own `transform_with_unseen` gives (bit for bit),
/// with a preprocessor, without one, and for lines with unknown and no tokens.
#[test]
fn shared_tokens_give_the_rows_of_transform_with_unseen() {
    let corpus = [
        "Connection refused to 10.0.0.1:5432 after 3 retries",
        "disk quota exceeded on /var/lib/db1",
        "worker 7 timed out waiting for lock on table orders",
        "OOMKilled: container api-7f9 exceeded memory limit",
    ];
    let lines = [
        "Connection refused to 10.9.9.9:6432 after 12 retries",
        "disk quota exceeded on /home while worker 3 waited",
        "entirely novel words nobody saw",
        "",
        "   ",
        "Disk QUOTA exceeded exceeded exceeded",
        "épuisé: quota dépassé sur /var",
    ];
    for pre in [true, false] {
        let cfg_of = |lo, hi, sublinear| TfidfConfig {
            sublinear_tf: sublinear,
            ..if pre { with_pre(lo, hi) } else { cfg(lo, hi) }
        };
        let mut a = TfidfVectorizer::new(cfg_of(1, 2, true)).unwrap();
        a.fit(&corpus).unwrap();
        let mut b = TfidfVectorizer::new(cfg_of(1, 3, false)).unwrap();
        b.fit(&corpus[1..]).unwrap();
        assert!(a.tokenises_like(&b) && b.tokenises_like(&a));
        for line in lines {
            let tokens = a.line_tokens(line);
            for v in [&a, &b] {
                let ((idx, val), unseen) = v.row_with_unseen(&tokens).unwrap();
                let (x, u) = v.transform_with_unseen(&[line]).unwrap();
                assert_eq!((idx.as_slice(), val.as_slice()), x.row(0), "{line}");
                assert_eq!(unseen.to_bits(), u[0].to_bits(), "{line}");
            }
            let listed: Vec<&str> = tokens.iter().collect();
            match a.preprocessor() {
                Some(p) => assert_eq!(listed, p.tokens(line)),
                None => assert_eq!(listed, line.split_whitespace().collect::<Vec<_>>()),
            }
        }
    }
    let with = TfidfVectorizer::new(with_pre(1, 1)).unwrap();
    let without = TfidfVectorizer::new(cfg(1, 1)).unwrap();
    assert!(!with.tokenises_like(&without));
    let mut cased = with_pre(1, 1);
    if let Some(p) = cased.preprocessor.as_mut() {
        p.lowercase = false;
    }
    assert!(!with.tokenises_like(&TfidfVectorizer::new(cased).unwrap()));
    let unfitted = TfidfVectorizer::new(cfg(1, 1)).unwrap();
    let err = unfitted
        .row_with_unseen(&unfitted.line_tokens("a b"))
        .unwrap_err();
    assert!(matches!(err, Error::NotFitted { .. }), "{err}");
}

/// Tokenising counts once per line through `line_tokens`, and once per distinct line in a batch.
#[test]
fn tokenisations_are_counted_per_line() {
    let mut v = TfidfVectorizer::new(with_pre(1, 1)).unwrap();
    v.fit(&["disk full", "disk quota"]).unwrap();
    let before = super::tokenised();
    v.line_tokens("disk full on 10.0.0.1");
    assert_eq!(super::tokenised() - before, 1);
    v.transform(&["disk 1 full", "disk 2 full", "other"])
        .unwrap();
    assert_eq!(super::tokenised() - before, 3);
}
