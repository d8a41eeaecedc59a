//! The resolver's cascade, rule, metrics and persistence tests (the knowledge base's and the
//! rule matcher's own tests sit next to them).

use crate::classify::TextClassifier;
use crate::error::Error;
use crate::index::TextIndex;
use crate::models::Artifact;

use super::answer::Method;
use super::config::{Mode, ResolverConfig};
use super::knowledge::KnowledgeBase;
use super::metrics::Metrics;
use super::resolver::Resolver;
use super::rules::Rules;

/// Nine errors, three per remedy: enough for a classifier to tell them apart.
fn three_remedies() -> ([&'static str; 9], [&'static str; 9]) {
    (
        [
            "connection refused to db 10.0.0.1:5432",
            "connection refused to db 10.0.0.2:5432 after retry",
            "db connection refused by host",
            "disk quota exceeded on /var/lib",
            "no space left on device /dev/sda1",
            "disk full while writing /tmp/x",
            "certificate has expired for api.example.com",
            "x509 certificate expired",
            "tls handshake failed: certificate expired",
        ],
        [
            "restart_db",
            "restart_db",
            "restart_db",
            "free_disk",
            "free_disk",
            "free_disk",
            "renew_cert",
            "renew_cert",
            "renew_cert",
        ],
    )
}

#[test]
fn classifier_stage_answers_and_travels_with_the_resolver() {
    let (errors, labels) = three_remedies();
    let mut c = TextClassifier::new(crate::classify::ClassifierConfig::default()).unwrap();
    let mut r = Resolver::new(ResolverConfig {
        classifier_threshold: 0.0,
        ..Default::default()
    })
    .unwrap();
    let unfitted = r.set_classifier(c.clone()).unwrap_err();
    assert_eq!(unfitted.code(), "NotFitted");
    c.fit(&errors, &labels).unwrap();
    r.set_classifier(c).unwrap();
    let res = r
        .resolve("disk quota exceeded on /home", Mode::Auto)
        .unwrap();
    assert_eq!(res.method, Method::MlPrediction);
    assert_eq!(res.solution.as_deref(), Some("free_disk"));
    assert!(res.reliable);
    assert_eq!(res.predictions[0].label, "free_disk");
    assert!((res.predictions[0].probability - res.confidence).abs() < 1e-12);
    assert!(res.predictions.len() <= 3 && res.predictions.len() >= 2);
    let strict = Resolver::from_bytes(&r.to_bytes().unwrap()).unwrap();
    let again = strict
        .resolve("disk quota exceeded on /home", Mode::Classifier)
        .unwrap();
    assert_eq!(again.solution, res.solution);
    assert!((again.confidence - res.confidence).abs() < 1e-12);
    // Above a threshold it cannot reach, the prediction is still the (unreliable) answer.
    let mut high = Resolver::new(ResolverConfig {
        classifier_threshold: 1.0,
        ..Default::default()
    })
    .unwrap();
    high.set_classifier(strict.classifier().unwrap().clone())
        .unwrap();
    let low = high.resolve("certificate expired", Mode::Auto).unwrap();
    assert_eq!(low.method, Method::MlPrediction);
    assert!(!low.reliable);
}

fn rules() -> Rules {
    Rules::from_json(
        r#"{"rules": [
            {"name": "disk", "pattern": "no space left|disk (quota|full)", "solution": "free disk space"},
            {"pattern": "connection refused", "solution": "start the service"},
            {"name": "any-conn", "pattern": "connection", "solution": "check the network"}
        ]}"#,
    )
    .unwrap()
}

#[test]
fn first_rule_in_file_order_wins_case_insensitively() {
    let r = rules();
    assert_eq!(r.len(), 3);
    assert_eq!(r.rules()[1].name, "rule 2");
    let (i, rule) = r
        .first_match("ERROR: Connection REFUSED by 10.0.0.1")
        .unwrap();
    assert_eq!((i, rule.solution.as_str()), (1, "start the service"));
    assert_eq!(r.first_match("connection reset").unwrap().0, 2);
    assert_eq!(r.first_match("Disk FULL on /var").unwrap().1.name, "disk");
    assert!(r.first_match("all good").is_none());
    assert!(Rules::default().first_match("anything").is_none());
}

#[test]
fn json_list_toml_and_round_trip_agree() {
    let list = Rules::from_json(
        r#"[{"name": "disk", "pattern": "disk full", "solution": "free disk space"}]"#,
    )
    .unwrap();
    let toml = Rules::from_toml(
        "[[rules]]\nname = \"disk\"\npattern = \"disk full\"\nsolution = \"free disk space\"\n",
    )
    .unwrap();
    assert_eq!(list, toml);
    let json = serde_json::to_string(&rules()).unwrap();
    let back: Rules = serde_json::from_str(&json).unwrap();
    assert_eq!(back, rules());
}

#[test]
fn bad_rules_name_the_rule() {
    let e = Rules::from_json(
        r#"[{"name": "ok", "pattern": "a", "solution": "x"}, {"name": "broken", "pattern": "(unclosed", "solution": "y"}]"#,
    )
    .unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("rule 2") && msg.contains("broken"), "{msg}");
    assert_eq!(e.code(), "InvalidInput");
    let e = Rules::from_json(r#"[{"pattern": "a", "solution": ""}]"#).unwrap_err();
    assert!(e.to_string().contains("empty solution"), "{e}");
    let e = Rules::from_json(r#"[{"pattern": "a", "solution": "x", "extra": 1}]"#).unwrap_err();
    assert!(e.to_string().contains("rules JSON"), "{e}");
    assert!(Rules::from_toml("[[rules]]\npattern = 3").is_err());
    // A pattern whose compiled form is huge is refused instead of eating memory.
    assert!(Rules::from_json(r#"[{"pattern": "\\w{1000}{1000}", "solution": "x"}]"#).is_err());
}

#[test]
fn metrics_count_and_expose() {
    let m = Metrics::default();
    m.record_resolution(Method::ExactMatch, 1.0, true, false, 3e-6);
    m.record_resolution(Method::SimilarityMatch, 0.82, true, false, 40e-6);
    m.record_resolution(Method::MlPrediction, 0.55, false, true, 2.0);
    m.record_resolution(Method::NoMatch, 0.0, false, false, 1e-6);
    m.record_error();
    m.record_outcome(Method::SimilarityMatch, true);
    m.record_outcome(Method::SimilarityMatch, false);
    m.record_outcome(Method::SimilarityMatch, true);
    let s = m.snapshot();
    assert_eq!(s.total, 4);
    assert_eq!(s.resolutions["ml_prediction"], 1);
    assert_eq!((s.unreliable, s.errors), (2, 1));
    let sim = s.outcomes["similarity_match"];
    assert_eq!((sim.success, sim.failure), (2, 1));
    assert!((sim.success_rate().unwrap() - 2.0 / 3.0).abs() < 1e-12);
    assert_eq!(s.outcomes["exact_match"].success_rate(), None);
    assert_eq!(s.latency_seconds.count, 4);
    assert_eq!(s.latency_seconds.buckets[0], (5e-6, 2));
    assert_eq!(
        s.latency_seconds.buckets.last().unwrap().1,
        3,
        "2 s is above the 1 s bucket"
    );
    assert_eq!(s.confidence.count, 3, "no_match carries no confidence");
    assert!((s.confidence.sum - 2.37).abs() < 1e-12);
    let text = s.to_prometheus();
    assert!(
        text.contains("faultlens_resolutions_total{method=\"exact_match\"} 1\n"),
        "{text}"
    );
    assert!(text.contains("faultlens_resolve_latency_seconds_bucket{le=\"+Inf\"} 4\n"));
    assert!(
        text.contains(
            "faultlens_outcomes_total{method=\"similarity_match\",result=\"failure\"} 1\n"
        )
    );
    assert!(text.contains("# TYPE faultlens_resolve_confidence histogram\n"));
    m.reset();
    assert_eq!(m.snapshot().total, 0);
    assert_eq!(m.snapshot().latency_seconds.sum, 0.0);
}

#[test]
fn method_names_round_trip() {
    for m in Method::ALL {
        assert_eq!(Method::parse(m.as_str()).unwrap(), m);
    }
    assert!(Method::parse("magic").is_err());
}

fn resolver() -> Resolver {
    let mut r = Resolver::new(ResolverConfig::default()).unwrap();
    r.set_rules(rules());
    r.add_knowledge(
        &[
            "psycopg2.OperationalError: could not connect to server on host 10.0.0.1 port 5432",
            "HikariPool-1 - Connection is not available, request timed out after 30000ms",
            "x509: certificate has expired or is not yet valid",
            "kube-proxy failed to sync iptables rules",
        ],
        &[
            "restart_database_pool",
            "restart_database_pool",
            "renew_tls_certificate",
            "restart_kube_proxy",
        ],
    )
    .unwrap();
    r
}

#[test]
fn cascade_stages_thresholds_and_modes() {
    let r = resolver();
    let a = r
        .resolve("Disk quota exceeded on /var", Mode::Auto)
        .unwrap();
    assert_eq!(
        (a.method, a.solution.as_deref(), a.confidence),
        (Method::ExactMatch, Some("free disk space"), 1.0)
    );
    assert_eq!(a.rule.as_deref(), Some("disk"));
    assert!(
        a.reliable && a.similar.is_empty(),
        "later stages do not run"
    );

    let b = r
        .resolve(
            "psycopg2.OperationalError: could not connect to server on host 10.9.9.9 port 6432",
            Mode::Auto,
        )
        .unwrap();
    assert_eq!(b.method, Method::SimilarityMatch);
    assert_eq!(b.solution.as_deref(), Some("restart_database_pool"));
    assert!((b.confidence - 1.0).abs() < 1e-9 && b.reliable);
    assert_eq!(b.similar[0].id, 0);

    // Nothing above a threshold: the most confident answer, marked unreliable.
    let c = r.resolve("iptables sync slow", Mode::Auto).unwrap();
    assert_eq!(c.method, Method::SimilarityMatch);
    assert!(
        !c.reliable && c.confidence < 0.7 && c.confidence > 0.0,
        "{c:?}"
    );
    assert_eq!(c.solution.as_deref(), Some("restart_kube_proxy"));

    let d = r.resolve("the flux capacitor hummed", Mode::Auto).unwrap();
    assert_eq!(
        (d.method, d.solution, d.confidence, d.reliable),
        (Method::NoMatch, None, 0.0, false)
    );

    // Method preference: similarity only, even though a rule would match.
    let e = r
        .resolve(
            "kube-proxy failed to sync iptables rules: connection refused",
            Mode::Similarity,
        )
        .unwrap();
    assert_eq!(e.method, Method::SimilarityMatch);
    let f = r
        .resolve("kube-proxy: connection refused", Mode::Rules)
        .unwrap();
    assert_eq!(
        (f.method, f.solution.as_deref()),
        (Method::ExactMatch, Some("start the service"))
    );
    assert!(f.similar.is_empty());

    let m = r.metrics();
    assert_eq!(m.total, 6);
    assert_eq!(m.resolutions["exact_match"], 2);
    assert_eq!(m.resolutions["no_match"], 1);
    assert_eq!(m.unreliable, 2);
}

#[test]
fn rule_below_a_raised_exact_threshold_is_a_fallback() {
    // exact_threshold 1.0 always lets rules answer; the cascade still treats it as a threshold.
    let mut r = Resolver::new(ResolverConfig {
        similarity_threshold: 0.99,
        ..Default::default()
    })
    .unwrap();
    r.set_rules(rules());
    let a = r.resolve("connection refused", Mode::Auto).unwrap();
    assert!(a.reliable);
    assert_eq!(a.method, Method::ExactMatch);
}

#[test]
fn bad_input_is_an_error_and_the_resolver_stays_usable() {
    let r = resolver();
    for bad in ["", "   \n"] {
        assert_eq!(
            r.resolve(bad, Mode::Auto).unwrap_err().code(),
            "InvalidInput"
        );
    }
    let huge = "x".repeat(10 << 20);
    let e = r.resolve(&huge, Mode::Auto).unwrap_err();
    assert!(e.to_string().contains("max_text_bytes"), "{e}");
    let e = r.resolve("disk full", Mode::Classifier).unwrap_err();
    assert!(e.to_string().contains("no classifier"), "{e}");
    assert!(Mode::parse("magic").is_err());
    let empty = Resolver::default();
    let e = empty.resolve("disk full", Mode::Auto).unwrap_err();
    assert!(e.to_string().contains("no stage configured"), "{e}");
    let e = r.resolve_batch(&["disk full", ""], Mode::Auto).unwrap_err();
    assert!(e.to_string().contains("text 1"), "{e}");
    assert_eq!(r.metrics().errors, 5);
    assert_eq!(
        r.resolve("disk full", Mode::Auto).unwrap().method,
        Method::ExactMatch
    );
    assert!(r.add_knowledge(&["a"], &["x", "y"]).is_err());
    for (field, cfg) in [
        (
            "similarity_threshold",
            ResolverConfig {
                similarity_threshold: 1.5,
                ..Default::default()
            },
        ),
        (
            "top_k",
            ResolverConfig {
                top_k: 0,
                ..Default::default()
            },
        ),
    ] {
        match Resolver::new(cfg).unwrap_err() {
            Error::InvalidConfig { field: f, .. } => assert_eq!(f, field),
            other => panic!("{other}"),
        }
    }
}

#[test]
fn batch_equals_single_calls() {
    let r = resolver();
    let texts: Vec<String> = (0..600)
        .map(|i| match i % 3 {
            0 => format!(
                "HikariPool-{i} - Connection is not available, request timed out after {i}ms"
            ),
            1 => format!("disk full on node{i}"),
            _ => format!("unrelated message {i}"),
        })
        .collect();
    let batch = r.resolve_batch(&texts, Mode::Auto).unwrap();
    for (t, b) in texts.iter().zip(&batch) {
        let one = r.resolve(t, Mode::Auto).unwrap();
        assert_eq!(
            (one.method, &one.solution, one.confidence),
            (b.method, &b.solution, b.confidence)
        );
    }
}

#[test]
fn feedback_learns_and_counts_by_method() {
    let r = resolver();
    let text = "OrderService: ledger lock wait exceeded on shard";
    assert_eq!(r.resolve(text, Mode::Auto).unwrap().method, Method::NoMatch);
    r.record_outcome(text, "raise_lock_timeout", true).unwrap();
    assert_eq!(r.knowledge_size(), 5);
    // The vocabulary is the one fitted first, so only known words count; the pair is found.
    let again = r
        .resolve(
            "OrderService: ledger lock wait exceeded on shard",
            Mode::Similarity,
        )
        .unwrap();
    assert_eq!(again.similar[0].solution, "raise_lock_timeout");
    r.record_outcome("disk full", "free disk space", false)
        .unwrap();
    r.resolve("disk full", Mode::Auto).unwrap();
    r.record_outcome("disk full", "free disk space", true)
        .unwrap();
    let m = r.metrics();
    assert_eq!(m.outcomes["no_match"].success, 1);
    assert_eq!(m.outcomes["exact_match"].success, 1);
    assert_eq!(r.outcomes().len(), 3);
    assert!(r.record_outcome("x", " ", true).is_err());
}

#[test]
fn saves_and_loads_as_one_artifact() {
    let r = resolver();
    let bytes = r.to_bytes().unwrap();
    let back = Resolver::from_bytes(&bytes).unwrap();
    assert_eq!(back.rules(), r.rules());
    assert_eq!(back.knowledge_size(), 4);
    let t = "HikariPool-2 - Connection is not available, request timed out after 5ms";
    assert_eq!(
        back.resolve(t, Mode::Auto).unwrap().solution,
        r.resolve(t, Mode::Auto).unwrap().solution
    );
}

#[test]
fn knowledge_jsonl_errors_name_the_line() {
    let dir = std::env::temp_dir().join(format!("faultlens-kb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("kb.jsonl");
    std::fs::write(
        &p,
        "{\"error\": \"disk full\", \"solution\": \"expand\"}\n\n{not json}\n{\"error\": \"x\"}\n",
    )
    .unwrap();
    let e = KnowledgeBase::read_jsonl(&p, false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 3"), "{e}");
    let (errors, _, skipped) = KnowledgeBase::read_jsonl(&p, true).unwrap();
    assert_eq!((errors.len(), skipped), (1, 2));
    let r = Resolver::default();
    assert_eq!(r.load_knowledge(&p, true).unwrap(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn text_index_pairs() -> (Vec<&'static str>, Vec<Option<String>>) {
    let errors = vec![
        "connection refused to postgres on port 5432",
        "disk quota exceeded on /var/lib/data",
        "certificate has expired for api.example.com",
        "worker timed out waiting for lock on table orders",
    ];
    let sols = ["restart_db", "free_disk", "renew_cert", "kill_lock"]
        .iter()
        .map(|s| Some((*s).to_owned()))
        .collect();
    (errors, sols)
}

#[test]
fn outcomes_are_bounded_by_max_outcomes() {
    let r = Resolver::new(ResolverConfig {
        max_outcomes: 3,
        ..Default::default()
    })
    .unwrap();
    for i in 0..5 {
        r.record_outcome(&format!("error {i}"), "fix", i % 2 == 0)
            .unwrap();
    }
    let kept: Vec<String> = r.outcomes().into_iter().map(|o| o.text).collect();
    assert_eq!(kept, ["error 2", "error 3", "error 4"]);
    assert_eq!(
        r.metrics()
            .outcomes
            .values()
            .map(|c| c.success + c.failure)
            .sum::<u64>(),
        5
    );
}

#[test]
fn a_tfidf_text_index_is_the_knowledge_and_learns() {
    let ix = TextIndex::new(Default::default()).unwrap();
    let (errors, sols) = text_index_pairs();
    ix.add(&errors, Some(sols)).unwrap();
    let mut r = Resolver::default();
    r.add_knowledge(&["unrelated old pair"], &["old"]).unwrap();
    r.set_knowledge_index(&ix).unwrap();
    assert_eq!(
        r.knowledge_size(),
        4,
        "the index replaces the knowledge base"
    );
    assert!(!r.knowledge_is_embedded());
    let res = r
        .resolve("connection refused to postgres on port 6543", Mode::Auto)
        .unwrap();
    assert_eq!(res.method, Method::SimilarityMatch);
    assert_eq!(res.solution.as_deref(), Some("restart_db"));
    assert_eq!(res.similar[0].error, errors[0]);
    assert!(res.reliable && res.confidence > 0.7);
    // The resolver holds a copy: the caller's index is untouched by what the resolver learns.
    r.add_knowledge(&["queue consumer lag above limit"], &["scale_consumers"])
        .unwrap();
    r.resolve("queue consumer lag above limit", Mode::Auto)
        .unwrap();
    r.record_outcome("kafka broker not available", "restart_broker", true)
        .unwrap();
    assert_eq!((r.knowledge_size(), ix.len()), (6, 4));
    let back = Resolver::from_bytes(&r.to_bytes().unwrap()).unwrap();
    assert_eq!(back.knowledge_size(), 6);
    let again = back
        .resolve("queue consumer lag above limit", Mode::Similarity)
        .unwrap();
    assert_eq!(again.solution.as_deref(), Some("scale_consumers"));
    // Embeddings are for indexes of external embeddings only.
    let e = back
        .resolve_embedded("x", &[0.1; 512], Mode::Similarity)
        .unwrap_err();
    assert!(e.to_string().contains("call resolve"), "{e}");
    let e = back
        .add_knowledge_embedded(&["x"], &["y"], &[0.1; 512])
        .unwrap_err();
    assert!(e.to_string().contains("add_knowledge"), "{e}");
}

#[test]
fn an_index_of_external_embeddings_resolves_by_embedding() {
    use crate::index::{Embedding, TextIndexConfig};
    let ix = TextIndex::new(TextIndexConfig {
        embedding: Embedding::External { dim: 3 },
        ..Default::default()
    })
    .unwrap();
    let (errors, sols) = text_index_pairs();
    let vecs = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0];
    ix.add_embedded(&errors, &vecs, Some(sols)).unwrap();
    let mut r = Resolver::default();
    r.set_knowledge_index(&ix).unwrap();
    assert!(r.knowledge_is_embedded());
    let res = r
        .resolve_embedded("anything", &[0.0, 0.1, 0.99], Mode::Auto)
        .unwrap();
    assert_eq!(res.method, Method::SimilarityMatch);
    assert_eq!(res.solution.as_deref(), Some("renew_cert"));
    let e = r.resolve("anything", Mode::Auto).unwrap_err();
    assert!(e.to_string().contains("resolve_embedded"), "{e}");
    let e = r.add_knowledge(&["a"], &["b"]).unwrap_err();
    assert!(e.to_string().contains("add_knowledge_embedded"), "{e}");
    let e = r
        .resolve_embedded("x", &[1.0, 0.0], Mode::Auto)
        .unwrap_err();
    assert!(matches!(e, Error::Dimension { .. }), "{e}");
    assert_eq!(
        r.add_knowledge_embedded(&["new"], &["fix_new"], &[0.0, -1.0, 0.0])
            .unwrap(),
        5
    );
    let batch = r
        .resolve_batch_embedded(
            &["a", "b"],
            &[0.0, -1.0, 0.0, 1.0, 0.0, 0.0],
            Mode::Similarity,
        )
        .unwrap();
    let sols: Vec<_> = batch.iter().map(|b| b.solution.as_deref()).collect();
    assert_eq!(sols, [Some("fix_new"), Some("restart_db")]);
    assert!(
        r.resolve_batch_embedded(&["a", "b"], &[0.0; 5], Mode::Auto)
            .is_err()
    );
    // Feedback is counted but cannot be learned without a vector.
    r.record_outcome("anything", "renew_cert", true).unwrap();
    assert_eq!(r.knowledge_size(), 5);
    let back = Resolver::from_bytes(&r.to_bytes().unwrap()).unwrap();
    assert!(back.knowledge_is_embedded());
    assert_eq!(back.knowledge_size(), 5);
}

#[test]
fn a_failed_similarity_answer_also_lowers_the_classifier_for_that_error() {
    let (errors, labels) = three_remedies();
    let mut c = TextClassifier::new(crate::classify::ClassifierConfig::default()).unwrap();
    c.fit(&errors, &labels).unwrap();
    // The similarity stage never answers on its own here: the classifier does, after it.
    let build = || {
        let mut r = Resolver::new(ResolverConfig {
            similarity_threshold: 1.0,
            classifier_threshold: 0.0,
            ..Default::default()
        })
        .unwrap();
        r.add_knowledge(&errors, &labels).unwrap();
        r.set_classifier(c.clone()).unwrap();
        r
    };
    let text = "disk quota exceeded on /var/lib";
    let fresh = build().resolve(text, Mode::Auto).unwrap();
    assert_eq!(
        (fresh.method, fresh.solution.as_deref()),
        (Method::MlPrediction, Some("free_disk"))
    );
    let r = build();
    // A similarity answer (below its threshold: the best guess) that failed.
    let guess = r.resolve(text, Mode::Similarity).unwrap();
    assert_eq!(
        (guess.method, guess.solution.as_deref(), guess.reliable),
        (Method::SimilarityMatch, Some("free_disk"), false)
    );
    r.record_outcome(text, "free_disk", false).unwrap();
    let after = r.resolve(text, Mode::Auto).unwrap();
    assert_eq!(after.method, Method::MlPrediction);
    // The past error matched exactly (similarity 1): its failure counts in full.
    assert!(
        (after.confidence - fresh.confidence / 2.0).abs() < 1e-9,
        "{} vs {}",
        after.confidence,
        fresh.confidence
    );
    // Another error with another remedy is untouched.
    let other = "x509 certificate expired";
    assert_eq!(
        r.resolve(other, Mode::Auto).unwrap().confidence,
        build().resolve(other, Mode::Auto).unwrap().confidence
    );
}

/// The knowledge base and the classifier preprocess alike by default, so `resolve` tokenises a
/// line once for both; when their preprocessing differs (here only by a custom mask that never
/// matches, so every token and every answer stays the same) each stage tokenises on its own.
#[test]
fn a_line_is_tokenised_once_when_the_stages_preprocess_alike() {
    use crate::text::MaskRule;
    use crate::vectorize::tokenised;
    let (errors, labels) = three_remedies();
    let mut c = TextClassifier::new(crate::classify::ClassifierConfig::default()).unwrap();
    c.fit(&errors, &labels).unwrap();
    // The similarity stage never answers (nor learns the queries): every Auto call reaches the
    // classifier.
    let config = ResolverConfig {
        similarity_threshold: 1.0,
        learn_from_feedback: false,
        ..Default::default()
    };
    let mut apart_config = config.clone();
    if let Some(p) = apart_config.knowledge_vectorizer.preprocessor.as_mut() {
        p.custom_masks.push(MaskRule {
            pattern: "zqzqzq".into(),
            placeholder: "<zq>".into(),
        });
    }
    let build = |config: &ResolverConfig| {
        let mut r = Resolver::new(config.clone()).unwrap();
        r.add_knowledge(&errors, &labels).unwrap();
        r.set_classifier(c.clone()).unwrap();
        r
    };
    let (shared, apart) = (build(&config), build(&apart_config));
    // Classifier first, knowledge after: `add_knowledge` works the sharing out.
    let mut late = Resolver::new(config.clone()).unwrap();
    late.set_classifier(c.clone()).unwrap();
    late.add_knowledge(&errors, &labels).unwrap();
    let call = |r: &Resolver, text: &str, mode: Mode| {
        let before = tokenised();
        let mut res = r.resolve(text, mode).unwrap();
        res.elapsed_us = 0;
        (res, tokenised() - before)
    };
    let texts = [
        "disk quota exceeded on /home",
        "Connection refused by db 10.9.9.9 on retry",
        "expired certificate during handshake with the proxy",
        "something nobody has seen before",
    ];
    for round in 0..2 {
        for text in texts {
            let (a, n_shared) = call(&shared, text, Mode::Auto);
            let (b, n_apart) = call(&apart, text, Mode::Auto);
            assert!(!a.predictions.is_empty(), "{text}: the classifier ran");
            assert_eq!((n_shared, n_apart), (1, 2), "{text}");
            assert_eq!(a, b, "{text}");
            assert_eq!(call(&late, text, Mode::Auto), (a, 1), "{text}");
            for mode in [Mode::Similarity, Mode::Classifier] {
                let (a, n_shared) = call(&shared, text, mode);
                let (b, n_apart) = call(&apart, text, mode);
                assert_eq!((n_shared, n_apart), (1, 1), "{text} {mode:?}");
                assert_eq!(a, b, "{text} {mode:?}");
            }
        }
        // The second round with outcomes recorded on both stages' answers: still the same
        // answers in all three.
        for text in texts {
            for r in [&shared, &apart, &late] {
                let sim = r.resolve(text, Mode::Similarity).unwrap();
                r.record_outcome(text, sim.solution.as_deref().unwrap_or("x"), false)
                    .unwrap();
                let auto = r.resolve(text, Mode::Auto).unwrap();
                r.record_outcome(text, auto.solution.as_deref().unwrap_or("x"), round == 0)
                    .unwrap();
            }
        }
    }
    // A loaded resolver works the sharing out again, and saves its feedback back unchanged.
    let bytes = shared.to_bytes().unwrap();
    let back = Resolver::from_bytes(&bytes).unwrap();
    assert_eq!(back.to_bytes().unwrap(), bytes);
    for text in texts {
        assert_eq!(
            call(&back, text, Mode::Auto),
            call(&shared, text, Mode::Auto)
        );
        assert_eq!(call(&back, text, Mode::Auto).1, 1);
    }
    // A TF-IDF text index as the knowledge: it tokenises on its own, and so does the classifier.
    let mut indexed = build(&config);
    let (index_texts, payloads) = text_index_pairs();
    let index = TextIndex::new(Default::default()).unwrap();
    index.add(&index_texts, Some(payloads)).unwrap();
    indexed.set_knowledge_index(&index).unwrap();
    let (res, _) = call(&indexed, texts[0], Mode::Auto);
    assert_eq!(res, call(&indexed, texts[0], Mode::Auto).0);
    let before = tokenised();
    indexed.resolve(texts[0], Mode::Classifier).unwrap();
    assert_eq!(tokenised() - before, 1);
}
