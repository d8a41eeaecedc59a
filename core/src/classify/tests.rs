use super::calibrate::platt;
use super::classifier::TextClassifier;
use super::config::{ClassifierConfig, ModelKind, default_classifier_tfidf};
use super::design::{Design, check_training};
use super::evaluate::mcnemar_p_value;
use super::linear::{Linear, Link, argmax, softmax_in_place};
use super::progress::Reporter;
use super::report::ClassificationReport;
use super::solvers::fit_logistic;
use crate::error::Error;
use crate::models::Artifact;
use crate::vectorize::{TfidfConfig, TfidfVectorizer};

fn toy() -> (Vec<String>, Vec<String>) {
    let mut t = Vec::new();
    let mut l = Vec::new();
    for i in 0..30 {
        t.push(format!("disk full on volume vol{i} no space left"));
        l.push("disk".to_owned());
        t.push(format!("connection refused to host h{i} port 5432"));
        l.push("net".to_owned());
        t.push(format!("out of memory killed process p{i} oom"));
        l.push("oom".to_owned());
    }
    (t, l)
}

fn cfg(model: ModelKind) -> ClassifierConfig {
    ClassifierConfig {
        model,
        ..Default::default()
    }
}

#[test]
fn every_model_learns_the_toy_set() {
    let (t, l) = toy();
    for m in [
        ModelKind::Logistic,
        ModelKind::NaiveBayes,
        ModelKind::LinearSvm,
        ModelKind::Auto,
    ] {
        let mut c = TextClassifier::new(cfg(m)).unwrap();
        c.fit(&t, &l).unwrap();
        assert_eq!(c.classes().unwrap(), ["disk", "net", "oom"]);
        let p = c.predict_one("no space left on disk volume").unwrap();
        assert_eq!(p.label, "disk", "{m}");
        assert!(p.confidence > 0.5, "{m}: {p:?}");
        assert!(!p.explanation.is_empty());
        let proba = c
            .predict_proba(&["connection refused", "oom killed"])
            .unwrap();
        for row in &proba {
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        }
        assert_eq!(argmax(&proba[0]), 1, "{m}");
        assert_eq!(c.score(&t, &l).unwrap(), 1.0, "{m}");
        let info = c.training_info().unwrap();
        assert_ne!(info.model, ModelKind::Auto);
        assert_eq!(info.n_samples, 90);
        if m == ModelKind::Auto {
            assert_eq!(info.cv_scores.len(), 3);
        }
        assert!(!c.baseline_confidences().is_empty(), "{m}");
    }
}

#[test]
fn logistic_converges_to_tol() {
    let (t, l) = toy();
    let mut c = TextClassifier::new(ClassifierConfig {
        c: 1.0,
        tol: 1e-8,
        max_iter: 2000,
        holdout: 0.0,
        ..Default::default()
    })
    .unwrap();
    c.fit(&t, &l).unwrap();
    let info = c.training_info().unwrap();
    assert!(info.converged, "{info:?}");
}

#[test]
fn support_layout_solution_is_a_stationary_point_of_the_objective() {
    // The solver's gradient is hand-written; check its optimum against central differences
    // of the objective computed independently (through `scores_into`).
    let (mut t, mut l) = toy();
    for (text, label) in [
        ("error on disk and connection", "disk"),
        ("error connection oom", "net"),
        ("oom error disk", "oom"),
        ("disk error", "net"),
    ] {
        t.push(text.to_owned());
        l.push(label.to_owned());
    }
    let x = TfidfVectorizer::new(default_classifier_tfidf())
        .unwrap()
        .fit_transform(&t)
        .unwrap();
    let (classes, y) = check_training(&t, &l, None).unwrap();
    let d = Design::new(x, y, classes.len());
    let (train, _) = d.subset(&d.all());
    let c = 3.0;
    let s = fit_logistic(&train, c, 5000, 1e-10, &mut Reporter(None));
    assert!(s.converged);
    let sp = s.linear.support.as_ref().unwrap();
    let nf = train.x.n_cols;
    assert!(sp.classes.len() < nf * 3, "support should be partial");
    assert!((0..nf).any(|f| sp.range(f).len() > 1));
    let w_total: f64 = train.w.iter().sum();
    let objective = |lin: &Linear| -> f64 {
        let sp = lin.support.as_ref().unwrap();
        let mut loss = 0.0;
        let mut sc = vec![0.0; 3];
        for i in 0..train.x.n_rows {
            let (idx, val) = train.x.row(i);
            lin.scores_into(idx, val, &mut sc);
            softmax_in_place(&mut sc);
            loss -= train.w[i] * sc[train.y[i]].ln();
        }
        let mut reg: f64 = sp.weight.iter().map(|w| w * w).sum();
        for f in 0..nf {
            reg += (3 - sp.range(f).len()) as f64 * sp.rest[f] * sp.rest[f];
        }
        loss / w_total + 0.5 * reg / (c * w_total)
    };
    let h = 1e-6;
    let n_sup = sp.weight.len();
    let mut worst = 0.0f64;
    for p in 0..n_sup + nf + 3 {
        let probe = |delta: f64| {
            let mut lin = s.linear.clone();
            let sp = lin.support.as_mut().unwrap();
            if p < n_sup {
                sp.weight[p] += delta;
            } else if p < n_sup + nf {
                sp.rest[p - n_sup] += delta;
            } else {
                lin.intercept[p - n_sup - nf] += delta;
            }
            objective(&lin)
        };
        let g = (probe(h) - probe(-h)) / (2.0 * h);
        worst = worst.max(g.abs());
    }
    assert!(
        worst < 1e-6,
        "largest numerical gradient entry at the optimum: {worst:e}"
    );
}

#[test]
fn dedup_gives_the_same_model_as_repetition() {
    // Doubling the data doubles the weights, not the rows.
    let (mut t, mut l) = toy();
    t.extend(t.clone());
    l.extend(l.clone());
    let x = TfidfVectorizer::new(TfidfConfig::default())
        .unwrap()
        .fit_transform(&t)
        .unwrap();
    let (classes, y) = check_training(&t, &l, None).unwrap();
    let d = Design::new(x, y, classes.len());
    assert_eq!(d.n_groups, 90);
    let (train, map) = d.subset(&d.all());
    assert_eq!(train.w.iter().sum::<f64>(), 180.0);
    assert_eq!(map.len(), 180);
}

#[test]
fn stratified_folds_cover_everything_once() {
    let (t, l) = toy();
    let x = TfidfVectorizer::new(TfidfConfig::default())
        .unwrap()
        .fit_transform(&t)
        .unwrap();
    let (classes, y) = check_training(&t, &l, None).unwrap();
    let d = Design::new(x, y, classes.len());
    let folds = d.folds(5, 7);
    let mut all: Vec<usize> = folds.concat();
    all.sort_unstable();
    assert_eq!(all, (0..90).collect::<Vec<_>>());
    for f in &folds {
        assert_eq!(f.len(), 18);
        for c in 0..3 {
            assert_eq!(f.iter().filter(|&&i| d.y[i] == c).count(), 6);
        }
    }
    assert_eq!(folds, d.folds(5, 7));
    assert_ne!(folds, d.folds(5, 8));
}

#[test]
fn platt_recovers_a_known_sigmoid() {
    // Scores with P(y=1|s) = 1/(1+exp(-2s)) i.e. a=-2, b=0, sampled deterministically.
    let mut s = Vec::new();
    let mut pos = Vec::new();
    for i in 0..2000 {
        let x = -3.0 + 6.0 * (i as f64) / 2000.0;
        let p = 1.0 / (1.0 + (-2.0 * x).exp());
        // Deterministic "sampling": position within a cycle of 100.
        let u = ((i * 37) % 100) as f64 / 100.0 + 0.005;
        s.push(x);
        pos.push(u < p);
    }
    let (a, b) = platt(&s, &pos, &vec![1.0; s.len()]);
    assert!((a + 2.0).abs() < 0.3, "a = {a}");
    assert!(b.abs() < 0.2, "b = {b}");
}

#[test]
fn svm_calibration_keeps_rare_classes_ranked() {
    // Classes with one line each cannot be calibrated per class (held out whole in their
    // fold); the shared temperature keeps the SVM's own ranking, so they stay learnable.
    let (mut t, mut l) = toy();
    for (i, w) in ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"]
        .iter()
        .enumerate()
    {
        t.push(format!("rare {w} failure code{i}"));
        l.push(format!("rare_{w}"));
    }
    let mut c = TextClassifier::new(cfg(ModelKind::LinearSvm)).unwrap();
    c.fit(&t, &l).unwrap();
    assert!(matches!(
        c.fitted.as_ref().unwrap().link,
        Link::Temperature { .. }
    ));
    for w in ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"] {
        assert_eq!(
            c.predict(&[format!("rare {w} failure")]).unwrap()[0],
            format!("rare_{w}")
        );
    }
    assert_eq!(c.score(&t, &l).unwrap(), 1.0);
}

#[test]
fn mcnemar_values() {
    // Exact: b=0, c=10 → 2 * 0.5^10.
    assert!((mcnemar_p_value(0, 10) - 2.0 * 0.5f64.powi(10)).abs() < 1e-12);
    assert_eq!(mcnemar_p_value(5, 5), 1.0);
    assert_eq!(mcnemar_p_value(0, 0), 1.0);
    // Chi-squared with correction: b=10, c=30 → (|10-30|-1)^2/40 = 9.025, p ≈ 0.002663.
    assert!((mcnemar_p_value(10, 30) - 0.002663).abs() < 1e-5);
}

#[test]
fn report_matches_hand_counts() {
    let t = ["a", "a", "b", "b", "c"];
    let p = ["a", "b", "b", "b", "a"];
    let r = ClassificationReport::from_labels(&t, &p).unwrap();
    assert_eq!(r.labels, ["a", "b", "c"]);
    assert!((r.accuracy - 0.6).abs() < 1e-12);
    assert_eq!(
        r.confusion,
        vec![vec![1, 1, 0], vec![0, 2, 0], vec![1, 0, 0]]
    );
    let a = &r.per_class[0];
    assert!((a.precision - 0.5).abs() < 1e-12 && (a.recall - 0.5).abs() < 1e-12);
    let b = &r.per_class[1];
    assert!((b.precision - 2.0 / 3.0).abs() < 1e-12 && (b.recall - 1.0).abs() < 1e-12);
    assert_eq!(r.per_class[2].f1, 0.0);
    let f1b = 0.8;
    assert!((r.macro_f1 - (0.5 + f1b) / 3.0).abs() < 1e-12);
    assert!((r.weighted_f1 - (0.5 * 2.0 + f1b * 2.0) / 5.0).abs() < 1e-12);
    let text = r.to_string();
    assert!(
        text.contains("macro avg") && text.contains("confusion"),
        "{text}"
    );
}

#[test]
fn naive_bayes_partial_fit_adds_up() {
    let (t, l) = toy();
    let mut once = TextClassifier::new(cfg(ModelKind::NaiveBayes)).unwrap();
    once.fit(&t, &l).unwrap();
    let mut inc = once.clone();
    // The vocabulary stays as fitted: the new class is learnt from known words.
    let new_texts = vec!["refused oom volume"; 20];
    inc.partial_fit(&new_texts, &vec!["fire"; 20]).unwrap();
    assert_eq!(inc.classes().unwrap(), ["disk", "net", "oom", "fire"]);
    assert_eq!(inc.predict(&["volume refused oom"]).unwrap(), ["fire"]);
    assert_eq!(inc.predict(&["disk full on volume"]).unwrap(), ["disk"]);
    assert_eq!(inc.training_info().unwrap().n_samples, 110);
    let mut lr = TextClassifier::new(cfg(ModelKind::Logistic)).unwrap();
    lr.fit(&t, &l).unwrap();
    let e = lr.partial_fit(&["x"], &["disk"]).unwrap_err();
    assert!(e.to_string().contains("naive_bayes"), "{e}");
}

#[test]
fn bad_input_is_named() {
    let mut c = TextClassifier::new(ClassifierConfig::default()).unwrap();
    let e = c.predict(&["x"]).unwrap_err();
    assert!(matches!(e, Error::NotFitted { .. }), "{e}");
    let e = c.fit(&["a", "b"], &["x"]).unwrap_err();
    assert!(e.to_string().contains("differ in length"), "{e}");
    let e = c.fit(&["a", "b"], &["x", "x"]).unwrap_err();
    assert!(e.to_string().contains("only one class"), "{e}");
    let e = c.fit(&["a", "b"], &["x", ""]).unwrap_err();
    assert!(e.to_string().contains("label 1 is empty"), "{e}");
    let e = c.fit::<&str, &str>(&[], &[]).unwrap_err();
    assert!(e.to_string().contains("no training"), "{e}");
    for (field, cfg) in [
        (
            "c",
            ClassifierConfig {
                c: f64::NAN,
                ..Default::default()
            },
        ),
        (
            "alpha",
            ClassifierConfig {
                alpha: 0.0,
                ..Default::default()
            },
        ),
        (
            "threshold",
            ClassifierConfig {
                threshold: 1.5,
                ..Default::default()
            },
        ),
        (
            "cv_folds",
            ClassifierConfig {
                cv_folds: 1,
                ..Default::default()
            },
        ),
        (
            "holdout",
            ClassifierConfig {
                holdout: f64::INFINITY,
                ..Default::default()
            },
        ),
    ] {
        match TextClassifier::new(cfg).unwrap_err() {
            Error::InvalidConfig { field: f, .. } => assert_eq!(f, field),
            e => panic!("{e}"),
        }
    }
}

#[test]
fn repeated_texts_in_a_batch_get_the_probabilities_of_a_lone_call() {
    let (t, l) = toy();
    for m in [
        ModelKind::Logistic,
        ModelKind::NaiveBayes,
        ModelKind::LinearSvm,
    ] {
        let mut c = TextClassifier::new(cfg(m)).unwrap();
        c.fit(&t, &l).unwrap();
        // Verbatim repeats, repeats after masking (other numbers), and distinct lines,
        // interleaved: batch rows are shared, and must equal one-text calls bit for bit.
        let q = [
            "disk full on /dev/sda1",
            "connection refused 10.0.0.1",
            "disk full on /dev/sda1",
            "connection refused 10.0.0.2",
            "nothing like the training set",
            "disk full on /dev/sda1",
        ];
        let batch = c.predict_proba(&q).unwrap();
        let flat = c.predict_proba_flat(&q).unwrap();
        let k = c.classes().unwrap().len();
        assert_eq!(flat.len(), q.len() * k);
        for (i, text) in q.iter().enumerate() {
            let lone = c.predict_proba(&[text]).unwrap().remove(0);
            assert_eq!(batch[i], lone, "{m} row {i}");
            assert_eq!(&flat[i * k..(i + 1) * k], lone.as_slice());
            // The confidence is the top class probability discounted for novelty.
            let one = c.predict_one(text).unwrap();
            assert!(one.confidence <= lone.iter().copied().fold(0.0, f64::max));
            assert_eq!(c.predict_many(&q).unwrap()[i], one);
        }
        assert_eq!(c.predict(&q).unwrap().len(), q.len());
    }
}

#[test]
fn round_trip_keeps_probabilities() {
    let (t, l) = toy();
    let mut c = TextClassifier::new(cfg(ModelKind::LinearSvm)).unwrap();
    c.fit(&t, &l).unwrap();
    let back = TextClassifier::from_bytes(&c.to_bytes().unwrap()).unwrap();
    assert_eq!(back, c);
    let q = ["disk full", "refused"];
    assert_eq!(
        back.predict_proba(&q).unwrap(),
        c.predict_proba(&q).unwrap()
    );
    assert_eq!(
        back.predict_one("disk full").unwrap(),
        c.predict_one("disk full").unwrap()
    );
}

#[test]
fn is_send_sync_clone() {
    fn check<T: Send + Sync + Clone>() {}
    check::<TextClassifier>();
}
