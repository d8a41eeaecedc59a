//! Structure-aware fuzzing of every artifact kind's model file: decode the JSON payload, mutate it
//! (numbers to extremes, arrays truncated / duplicated / emptied, fields removed or retyped),
//! write it back in a valid envelope **with a recomputed checksum**, and load it. The CRC is not
//! a signature, so this is what a file from elsewhere can hold. Every case must be either a clean
//! error or an object that works (predict / resolve / search / push) and whose re-save loads;
//! never a panic, an abort or a hang (each case runs on its own thread under a deadline).
//!
//! `make test` runs a fixed seed and a bounded number of cases per kind; `make fuzz` runs it with
//! a fresh `PROPTEST_RNG_SEED` and `PROPTEST_CASES` (docs/reliability.md). Mutations that found
//! bugs are kept as plain tests at the end of this file (`regression_*`).

use std::sync::OnceLock;
use std::time::Duration;

use faultlens::drift::{AdwinConfig, PageHinkleyConfig};
use faultlens::index::{IndexConfig, SearchOptions, TextIndexConfig};
use faultlens::resolve::{Mode, Resolver, ResolverConfig, Rules};
use faultlens::{
    Adwin, Artifact, ClassifierConfig, Event, KlDriftConfig, KlDriftDetector, PageHinkley,
    Preprocessor, SimilarityIndex, TextClassifier, TextIndex, TfidfConfig, TfidfVectorizer,
    WindowAggregator, WindowConfig,
};
use proptest::prelude::*;
use serde_json::{Number, Value};

const HEADER_LEN: usize = 24;
/// Longest a single case may take (load, use, re-save) before it counts as a hang.
const DEADLINE: Duration = Duration::from_secs(60);

fn cases(default: u32) -> ProptestConfig {
    let n = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    let seeded = std::env::var_os("PROPTEST_RNG_SEED").is_some();
    let config = ProptestConfig {
        cases: n,
        // Failures are kept as plain regression tests below, not in a file next to this one.
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    ProptestConfig {
        rng_seed: if seeded {
            config.rng_seed
        } else {
            proptest::test_runner::RngSeed::Fixed(0x005E_EDF2)
        },
        ..config
    }
}

// ---------------------------------------------------------------------------------------------
// One trained sample per kind.

const TEXTS: [&str; 8] = [
    "disk full on /dev/sda1",
    "connection refused 10.0.0.1:5432",
    "disk quota exceeded for user 42",
    "connection reset by peer",
    "out of memory: killed process 1234",
    "no space left on device",
    "tcp connection timed out",
    "oom killer invoked",
];
const LABELS: [&str; 8] = [
    "disk", "network", "disk", "network", "memory", "disk", "network", "memory",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Preprocessor,
    Tfidf,
    ClassifierLogistic,
    ClassifierNb,
    SimilarityIndex,
    TextIndex,
    Resolver,
    Window,
    KlDrift,
    Adwin,
    PageHinkley,
}

fn classifier(model: &str) -> TextClassifier {
    let config: ClassifierConfig =
        serde_json::from_value(serde_json::json!({"model": model})).unwrap();
    let mut c = TextClassifier::new(config).unwrap();
    // Each text three times with a varying suffix: enough rows per class for the default folds.
    let texts: Vec<String> = (0..3)
        .flat_map(|i| TEXTS.iter().map(move |t| format!("{t} n{i}")))
        .collect();
    let labels: Vec<&str> = (0..3).flat_map(|_| LABELS).collect();
    c.fit(&texts, &labels).unwrap();
    c
}

fn text_index() -> TextIndex {
    let config: TextIndexConfig =
        serde_json::from_value(serde_json::json!({"embedding": {"type": "tfidf", "dim": 16}}))
            .unwrap();
    let idx = TextIndex::new(config).unwrap();
    let payloads: Vec<Option<String>> = LABELS.iter().map(|l| Some((*l).to_owned())).collect();
    idx.add(&TEXTS, Some(payloads)).unwrap();
    idx
}

fn build(kind: Kind) -> Vec<u8> {
    match kind {
        Kind::Preprocessor => Preprocessor::default().to_bytes(),
        Kind::Tfidf => {
            let mut v = TfidfVectorizer::new(TfidfConfig {
                ngram_range: (1, 2),
                ..Default::default()
            })
            .unwrap();
            v.fit(&TEXTS).unwrap();
            v.to_bytes()
        }
        Kind::ClassifierLogistic => classifier("logistic").to_bytes(),
        Kind::ClassifierNb => classifier("naive_bayes").to_bytes(),
        Kind::SimilarityIndex => {
            let idx = SimilarityIndex::new(IndexConfig {
                exact_below: 2,
                ..IndexConfig::new(4)
            })
            .unwrap();
            let ids: Vec<u64> = (0..6).collect();
            let vectors: Vec<f32> = (0..24).map(|i| ((i * 7) % 5) as f32 - 1.5).collect();
            let payloads = (0..6).map(|i| Some(format!("{{\"n\": {i}}}"))).collect();
            idx.add(&ids, &vectors, Some(payloads)).unwrap();
            idx.to_bytes()
        }
        Kind::TextIndex => text_index().to_bytes(),
        Kind::Resolver => {
            let mut r = Resolver::new(ResolverConfig::default()).unwrap();
            r.set_rules(
                Rules::from_json(
                    r#"[{"name": "disk", "pattern": "disk (full|quota)", "solution": "expand"}]"#,
                )
                .unwrap(),
            );
            r.add_knowledge(&TEXTS, &LABELS).unwrap();
            r.set_classifier(classifier("logistic")).unwrap();
            r.to_bytes()
        }
        Kind::Window => {
            let mut w = WindowAggregator::new(WindowConfig {
                threshold: 2,
                allowed_lateness_ms: Some(500),
                window_ms: 1000,
                ..Default::default()
            })
            .unwrap();
            let events: Vec<Event<'_>> = (0..30)
                .map(|i| {
                    Event::new(i * 40, ["api", "db"][i as usize % 2], "/pay", "E1")
                        .message("db pool exhausted")
                        .trace_id("t1")
                })
                .collect();
            w.push_batch(&events);
            w.to_bytes()
        }
        Kind::KlDrift => {
            let baseline: Vec<f64> = (0..300).map(|i| f64::from(i % 17) / 17.0).collect();
            let mut d = KlDriftDetector::from_baseline(
                &baseline,
                KlDriftConfig {
                    window: 40,
                    calibration_resamples: 100,
                    ..Default::default()
                },
            )
            .unwrap();
            let scores: Vec<f64> = (0..60).map(|i| f64::from(i % 5) / 5.0).collect();
            d.add_many(&scores, Some(1.0)).unwrap();
            d.to_bytes()
        }
        Kind::Adwin => {
            let mut a = Adwin::new(AdwinConfig::default()).unwrap();
            let xs: Vec<f64> = (0..300).map(|i| f64::from(i % 13) / 13.0).collect();
            a.update_many(&xs).unwrap();
            a.to_bytes()
        }
        Kind::PageHinkley => {
            let mut p = PageHinkley::new(PageHinkleyConfig::default()).unwrap();
            let xs: Vec<f64> = (0..100).map(|i| f64::from(i % 7)).collect();
            p.update_many(&xs).unwrap();
            p.to_bytes()
        }
    }
    .unwrap()
}

fn sample(kind: Kind) -> &'static Value {
    static SAMPLES: OnceLock<std::sync::Mutex<Vec<(Kind, &'static Value)>>> = OnceLock::new();
    let m = SAMPLES.get_or_init(Default::default);
    let mut m = m.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, v)) = m.iter().find(|(k, _)| *k == kind) {
        return v;
    }
    let bytes = build(kind);
    let env: Value = serde_json::from_slice(&bytes[HEADER_LEN..]).unwrap();
    let v: &'static Value = Box::leak(Box::new(env));
    m.push((kind, v));
    v
}

/// A model file around `envelope`, with a correct length and checksum.
fn frame(envelope: &Value) -> Vec<u8> {
    let payload = serde_json::to_vec(envelope).unwrap();
    let mut out = b"FAULTLNS".to_vec();
    out.extend_from_slice(&faultlens::models::FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    out
}

// ---------------------------------------------------------------------------------------------
// Mutations.

/// One edit: which node (an index into every node of the payload, in document order), what to do
/// to it, and a parameter.
#[derive(Clone, Debug)]
struct Mutation {
    node: prop::sample::Index,
    op: u8,
    param: u16,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    (any::<prop::sample::Index>(), 0u8..4, any::<u16>()).prop_map(|(node, op, param)| Mutation {
        node,
        op,
        param,
    })
}

fn extreme_number(param: u16) -> Value {
    let f = |x: f64| Number::from_f64(x).map_or(Value::Null, Value::Number);
    match param % 18 {
        0 => Value::from(0),
        1 => Value::from(-1),
        2 => Value::from(1),
        3 => Value::from(2),
        4 => f(0.5),
        5 => f(-0.5),
        6 => f(1e308),
        7 => f(-1e308),
        8 => f(5e-324),
        9 => Value::from(i64::MAX),
        10 => Value::from(i64::MIN),
        11 => Value::from(u64::MAX),
        12 => Value::from(1u64 << 31),
        13 => Value::from(1u64 << 40),
        14 => Value::from((1u64 << 53) + 1),
        15 => Value::from(1u64 << 63),
        16 => f(-0.0),
        _ => f(1.7e308),
    }
}

fn retyped(param: u16) -> Value {
    match param % 8 {
        0 => Value::Null,
        1 => Value::Bool(true),
        2 => Value::from("NaN"),
        3 => Value::Array(Vec::new()),
        4 => Value::Object(Default::default()),
        5 => Value::from(-1),
        6 => Value::from(""),
        _ => extreme_number(param / 8),
    }
}

fn odd_string(param: u16) -> Value {
    match param % 6 {
        0 => Value::from(""),
        1 => Value::from("x"),
        2 => Value::from("\u{0}"),
        3 => Value::from("(((("),
        4 => Value::from("x".repeat(10_000)),
        _ => Value::from("📦\u{202e}"),
    }
}

/// How many nodes `v` holds, itself included.
fn count_nodes(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count_nodes).sum(),
        Value::Object(m) => m.values().map(count_nodes).sum(),
        _ => 0,
    }
}

/// The path (object keys / array positions) to the `n`-th node of `v` in document order (the
/// root is 0), left in `here`; `n` counts down as nodes are passed. Walks to one node only: the
/// samples hold thousands, and listing every path per edit cost more than loading the file.
fn path_to_nth(v: &Value, n: &mut usize, here: &mut Vec<PathStep>) -> bool {
    if *n == 0 {
        return true;
    }
    *n -= 1;
    match v {
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                here.push(PathStep::Index(i));
                if path_to_nth(x, n, here) {
                    return true;
                }
                here.pop();
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                here.push(PathStep::Key(k.clone()));
                if path_to_nth(x, n, here) {
                    return true;
                }
                here.pop();
            }
        }
        _ => {}
    }
    false
}

#[derive(Clone, Debug)]
enum PathStep {
    Key(String),
    Index(usize),
}

fn node_mut<'a>(mut v: &'a mut Value, path: &[PathStep]) -> Option<&'a mut Value> {
    for step in path {
        v = match step {
            PathStep::Key(k) => v.get_mut(k.as_str())?,
            PathStep::Index(i) => v.get_mut(*i)?,
        };
    }
    Some(v)
}

/// Applies `m` and says what it did (`path: before -> after`), for the failure message.
fn apply(payload: &mut Value, m: &Mutation) -> String {
    let mut path = Vec::new();
    path_to_nth(payload, &mut m.node.index(count_nodes(payload)), &mut path);
    let Some(node) = node_mut(payload, &path) else {
        return String::new();
    };
    let brief = |v: &Value| v.to_string().chars().take(80).collect::<String>();
    let before = brief(node);
    let p = m.param;
    if m.op == 3 {
        *node = retyped(p);
    } else {
        match node {
            Value::Number(_) => *node = extreme_number(p.wrapping_add(u16::from(m.op) * 7)),
            Value::Array(a) => match (m.op, a.len()) {
                (_, 0) => a.push(extreme_number(p)),
                (0, n) => a.truncate(usize::from(p) % n),
                (1, n) => {
                    let x = a[usize::from(p) % n].clone();
                    a.insert(usize::from(p / 3) % (n + 1), x);
                }
                (_, n) if p.is_multiple_of(3) => a.swap(0, n - 1),
                _ => a.clear(),
            },
            Value::Object(o) => {
                let keys: Vec<String> = o.keys().cloned().collect();
                if m.op == 0 || keys.is_empty() {
                    o.insert("zz_unknown".into(), Value::from(1));
                } else {
                    o.remove(&keys[usize::from(p) % keys.len()]);
                }
            }
            Value::String(_) => *node = odd_string(p),
            Value::Bool(b) => *b = !*b,
            Value::Null => *node = extreme_number(p),
        }
    }
    let at: Vec<String> = path
        .iter()
        .map(|step| match step {
            PathStep::Key(k) => k.clone(),
            PathStep::Index(i) => i.to_string(),
        })
        .collect();
    format!("{}: {before} -> {}", at.join("."), brief(node))
}

// ---------------------------------------------------------------------------------------------
// Loading and using.

/// Loads `bytes` as the kind's type; when that succeeds, uses the object and checks that its
/// re-save loads (right after loading and again after use). `Ok` holds whether it was accepted.
fn exercise(kind: Kind, bytes: &[u8]) -> Result<bool, String> {
    fn resave<T: Artifact>(x: &T, when: &str) -> Result<(), String> {
        let b = x
            .to_bytes()
            .map_err(|e| format!("accepted object cannot be saved {when}: {e}"))?;
        T::from_bytes(&b).map_err(|e| format!("re-save {when} does not load: {e}"))?;
        Ok(())
    }
    fn loaded<T: Artifact>(bytes: &[u8]) -> Option<T> {
        T::from_bytes(bytes).ok()
    }
    let probe = [
        "disk full again",
        "connection refused",
        "",
        "unseen words only",
    ];
    match kind {
        Kind::Preprocessor => {
            let Some(p) = loaded::<Preprocessor>(bytes) else {
                return Ok(false);
            };
            resave(&p, "after load")?;
            for t in probe {
                let _ = p.tokens(t);
                let _ = p.template(t);
                let _ = p.process(t);
            }
        }
        Kind::Tfidf => {
            let Some(v) = loaded::<TfidfVectorizer>(bytes) else {
                return Ok(false);
            };
            resave(&v, "after load")?;
            if let Ok(x) = v.transform(&probe)
                && x.data.iter().any(|x| !x.is_finite())
            {
                return Err("transform made a non-finite value".into());
            }
            let _ = v.feature_names();
        }
        Kind::ClassifierLogistic | Kind::ClassifierNb => {
            let Some(c) = loaded::<TextClassifier>(bytes) else {
                return Ok(false);
            };
            resave(&c, "after load")?;
            if let Ok(rows) = c.predict_proba(&probe) {
                for r in rows {
                    let sum: f64 = r.iter().sum();
                    if r.iter().any(|p| !(0.0..=1.0).contains(p)) || (sum - 1.0).abs() > 1e-6 {
                        return Err(format!("predict_proba gave {r:?}"));
                    }
                }
            }
            let _ = c.predict_many(&probe);
        }
        Kind::SimilarityIndex => {
            let Some(idx) = loaded::<SimilarityIndex>(bytes) else {
                return Ok(false);
            };
            resave(&idx, "after load")?;
            let d = idx.dim();
            let q: Vec<f32> = (0..d).map(|i| i as f32 * 0.25 - 0.5).collect();
            let _ = idx.search_one(&q, 3, &SearchOptions::default());
            let exact = SearchOptions {
                exact: true,
                ..Default::default()
            };
            let _ = idx.search_one(&q, 3, &exact);
            let _ = idx.add(&[1000], &q, None);
            let _ = idx.remove(&[0]);
            let _ = idx.compact();
            resave(&idx, "after use")?;
        }
        Kind::TextIndex => {
            let Some(idx) = loaded::<TextIndex>(bytes) else {
                return Ok(false);
            };
            resave(&idx, "after load")?;
            let _ = idx.search("disk full", 3, &SearchOptions::default());
            let _ = idx.add(&["a new disk error"], None);
            let _ = idx.remove(&[0]);
            resave(&idx, "after use")?;
        }
        Kind::Resolver => {
            let Some(r) = loaded::<Resolver>(bytes) else {
                return Ok(false);
            };
            resave(&r, "after load")?;
            for t in probe {
                for mode in [Mode::Auto, Mode::Rules, Mode::Similarity, Mode::Classifier] {
                    if let Ok(res) = r.resolve(t, mode)
                        && !(0.0..=1.0).contains(&res.confidence)
                    {
                        return Err(format!("resolve gave confidence {}", res.confidence));
                    }
                }
            }
            let _ = r.add_knowledge(&["a new error"], &["a fix"]);
            resave(&r, "after use")?;
        }
        Kind::Window => {
            let Some(mut w) = loaded::<WindowAggregator>(bytes) else {
                return Ok(false);
            };
            resave(&w, "after load")?;
            let events: Vec<Event<'_>> = [0i64, 500, 1200, 1300, i64::MAX, i64::MIN]
                .iter()
                .map(|&t| Event::new(t, "api", "/pay", "E1").message("m"))
                .collect();
            let _ = w.push_batch(&events);
            let _ = w.advance(2000);
            resave(&w, "after use")?;
            let _ = w.flush();
            let _ = w.stats();
            resave(&w, "after flush")?;
        }
        Kind::KlDrift => {
            let Some(mut d) = loaded::<KlDriftDetector>(bytes) else {
                return Ok(false);
            };
            resave(&d, "after load")?;
            let scores: Vec<f64> = (0..50).map(|i| f64::from(i % 9) / 9.0).collect();
            let _ = d.add_many(&scores, Some(2.0));
            let _ = d.status();
            resave(&d, "after use")?;
        }
        Kind::Adwin => {
            let Some(mut a) = loaded::<Adwin>(bytes) else {
                return Ok(false);
            };
            resave(&a, "after load")?;
            let xs: Vec<f64> = (0..100).map(|i| f64::from(i % 3)).collect();
            let _ = a.update_many(&xs);
            let _ = (a.estimation(), a.variance(), a.width());
            resave(&a, "after use")?;
        }
        Kind::PageHinkley => {
            let Some(mut p) = loaded::<PageHinkley>(bytes) else {
                return Ok(false);
            };
            resave(&p, "after load")?;
            let xs: Vec<f64> = (0..100).map(|i| f64::from(i % 3)).collect();
            let _ = p.update_many(&xs);
            resave(&p, "after use")?;
            // `reset()` is checked in `page_hinkley_reset_resaves`.
        }
    }
    Ok(true)
}

/// Mutates `kind`'s sample with `edits`, frames it with a recomputed checksum and runs
/// [`exercise`] on its own thread: a panic or a case over [`DEADLINE`] is a failure.
fn run_case(kind: Kind, edits: &[Mutation]) -> Result<bool, String> {
    let mut envelope = sample(kind).clone();
    let mut applied = Vec::new();
    if let Some(payload) = envelope.get_mut("payload") {
        for m in edits {
            applied.push(apply(payload, m));
        }
    }
    let bytes = frame(&envelope);
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = std::thread::spawn(move || {
        let r = std::panic::catch_unwind(|| exercise(kind, &bytes));
        let _ = tx.send(r);
    });
    let payload = || {
        let p = envelope.get("payload").unwrap_or(&Value::Null);
        format!(
            "{}\nedits: {}",
            serde_json::to_string(p).unwrap_or_default(),
            applied.join("; ")
        )
    };
    let short = |s: String| match s.rsplit_once("\nedits: ") {
        Some((p, e)) => format!("{}\nedits: {e}", p.chars().take(4000).collect::<String>()),
        None => s,
    };
    match rx.recv_timeout(DEADLINE) {
        Ok(Ok(r)) => {
            let _ = worker.join();
            r.map_err(|e| format!("{kind:?}: {e}\npayload: {}", short(payload())))
        }
        Ok(Err(panic)) => {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            Err(format!(
                "{kind:?}: panic: {what}\npayload: {}",
                short(payload())
            ))
        }
        Err(_) => Err(format!(
            "{kind:?}: no answer within {DEADLINE:?} (a hang)\npayload: {}",
            short(payload())
        )),
    }
}

macro_rules! fuzz_kind {
    ($($(#[$attr:meta])* $name:ident => $kind:expr, $n:expr;)*) => {
        $(
            proptest! {
                #![proptest_config(cases($n))]
                $(#[$attr])*
                #[test]
                fn $name(edits in prop::collection::vec(mutation(), 1..4)) {
                    if let Err(e) = run_case($kind, &edits) {
                        prop_assert!(false, "{}", e);
                    }
                }
            }
        )*
    };
}

fuzz_kind! {
    payload_preprocessor => Kind::Preprocessor, 64;
    payload_tfidf => Kind::Tfidf, 64;
    payload_classifier_logistic => Kind::ClassifierLogistic, 48;
    payload_classifier_naive_bayes => Kind::ClassifierNb, 48;
    payload_similarity_index => Kind::SimilarityIndex, 64;
    payload_text_index => Kind::TextIndex, 48;
    payload_resolver => Kind::Resolver, 32;
    payload_window => Kind::Window, 64;
    payload_kl_drift => Kind::KlDrift, 48;
    payload_adwin => Kind::Adwin, 64;
    payload_page_hinkley => Kind::PageHinkley, 64;
}

/// The unmutated samples load, work and re-save: a failing fuzz case is the mutation's doing.
#[test]
fn unmutated_samples_round_trip() {
    for kind in [
        Kind::Preprocessor,
        Kind::Tfidf,
        Kind::ClassifierLogistic,
        Kind::ClassifierNb,
        Kind::SimilarityIndex,
        Kind::TextIndex,
        Kind::Resolver,
        Kind::Window,
        Kind::KlDrift,
        Kind::Adwin,
        Kind::PageHinkley,
    ] {
        assert_eq!(run_case(kind, &[]), Ok(true), "{kind:?}");
    }
}

/// A reset Page-Hinkley detector holds a running minimum of +inf, which JSON has no number for:
/// it used to be written as `null` and the file did not load.
#[test]
fn page_hinkley_reset_resaves() {
    let mut p = PageHinkley::from_bytes(&frame(sample(Kind::PageHinkley))).unwrap();
    p.reset();
    PageHinkley::from_bytes(&p.to_bytes().unwrap()).unwrap();
}

/// Mutations that found bugs, kept as plain tests (the shrunk field edits).
#[test]
fn regression_text_index_next_id_at_the_top_of_u64() {
    // `next_id = u64::MAX` loaded, and the next `add` overflowed computing the new ids.
    for next in [u64::MAX, u64::MAX - 1] {
        let mut env = sample(Kind::TextIndex).clone();
        env["payload"]["next_id"] = Value::from(next);
        let idx = TextIndex::from_bytes(&frame(&env)).unwrap();
        let e = idx.add(&["one more disk error"], None).unwrap_err();
        assert_eq!(e.code(), "InvalidInput", "{e}");
        assert!(e.to_string().contains("no ids left"), "{e}");
        assert!(exercise(Kind::TextIndex, &frame(&env)).unwrap());
    }
}

#[test]
fn regression_duplicates_and_bad_numbers_are_refused_on_load() {
    let corrupt = |kind: Kind, edit: &dyn Fn(&mut Value)| {
        let mut env = sample(kind).clone();
        edit(&mut env["payload"]);
        let bytes = frame(&env);
        let e = match kind {
            Kind::Tfidf => TfidfVectorizer::from_bytes(&bytes).map(drop),
            Kind::ClassifierLogistic => TextClassifier::from_bytes(&bytes).map(drop),
            Kind::Window => WindowAggregator::from_bytes(&bytes).map(drop),
            _ => unreachable!(),
        }
        .unwrap_err();
        assert_eq!(e.code(), "Corrupt", "{kind:?}: {e}");
        e.to_string()
    };
    // TF-IDF: a duplicated feature, a negative idf, a duplicated token.
    let m = corrupt(Kind::Tfidf, &|p| {
        let f = p["vocab"]["features"][0].clone();
        p["vocab"]["features"][1] = f;
    });
    assert!(m.contains("stored twice"), "{m}");
    let m = corrupt(Kind::Tfidf, &|p| p["vocab"]["idf"][0] = Value::from(-1.0));
    assert!(m.contains("idf"), "{m}");
    let m = corrupt(Kind::Tfidf, &|p| {
        let t = p["vocab"]["tokens"][0].clone();
        p["vocab"]["tokens"][1] = t;
    });
    assert!(m.contains("token"), "{m}");
    // Classifier: a duplicated class label.
    let m = corrupt(Kind::ClassifierLogistic, &|p| {
        let c = p["fitted"]["classes"][0].clone();
        p["fitted"]["classes"][1] = c;
    });
    assert!(m.contains("stored twice"), "{m}");
    // Window: a key held twice, a zero count.
    let m = corrupt(Kind::Window, &|p| {
        let k = p["keys"][0].clone();
        p["keys"].as_array_mut().unwrap().push(k);
    });
    assert!(m.contains("twice"), "{m}");
    let m = corrupt(Kind::Window, &|p| {
        p["keys"][0]["times"][0][1] = Value::from(0)
    });
    assert!(m.contains("count"), "{m}");
}

#[test]
fn regression_similarity_index_tuning_out_of_range() {
    // A saved tuning of `at_nodes = usize::MAX` overflowed the next add's "tune again once
    // doubled" check; an `ef` no tuning can choose is refused too.
    let env = sample(Kind::SimilarityIndex).clone();
    assert!(
        env["payload"].get("tuning").is_some(),
        "the sample has a graph and so a saved tuning"
    );
    for (field, value) in [
        ("at_nodes", Value::from(u64::MAX)),
        ("ef", Value::from(u64::MAX)),
    ] {
        let mut env = env.clone();
        env["payload"]["tuning"][field] = value;
        let e = SimilarityIndex::from_bytes(&frame(&env)).unwrap_err();
        assert_eq!(e.code(), "Corrupt", "{field}: {e}");
    }
    let mut env = env.clone();
    env["payload"]["tuning"]["at_nodes"] = Value::from(u64::from(u32::MAX));
    assert!(exercise(Kind::SimilarityIndex, &frame(&env)).unwrap());
}

#[test]
fn regression_magnitudes_no_update_can_reach_are_refused_on_load() {
    // Each was accepted, then its use overflowed to NaN or infinity: an ADWIN total of 1.7e308
    // (the re-save after use no longer loaded), classifier weights of 1.7e308 (NaN
    // probabilities, a NaN resolver confidence), a Page-Hinkley mean beyond any stream value.
    let refused = |kind: Kind, edit: &dyn Fn(&mut Value)| {
        let mut env = sample(kind).clone();
        edit(&mut env["payload"]);
        let bytes = frame(&env);
        let e = match kind {
            Kind::Adwin => Adwin::from_bytes(&bytes).map(drop),
            Kind::PageHinkley => PageHinkley::from_bytes(&bytes).map(drop),
            Kind::ClassifierNb | Kind::ClassifierLogistic => {
                TextClassifier::from_bytes(&bytes).map(drop)
            }
            Kind::Resolver => Resolver::from_bytes(&bytes).map(drop),
            Kind::TextIndex => TextIndex::from_bytes(&bytes).map(drop),
            _ => unreachable!(),
        }
        .unwrap_err();
        assert_eq!(e.code(), "Corrupt", "{kind:?}: {e}");
        assert_eq!(exercise(kind, &bytes), Ok(false), "{kind:?}");
        e.to_string()
    };
    let m = refused(Kind::Adwin, &|p| p["total"] = Value::from(1.7e308));
    assert!(m.contains("beyond"), "{m}");
    refused(Kind::Adwin, &|p| {
        p["levels"][1]["totals"][0] = Value::from(-1e300);
    });
    refused(Kind::PageHinkley, &|p| p["mean"] = Value::from(1.7e308));
    refused(Kind::ClassifierNb, &|p| {
        p["fitted"]["linear"]["intercept"][0] = Value::from(1.7e308);
    });
    refused(Kind::ClassifierLogistic, &|p| {
        p["fitted"]["linear"]["support"]["weight"][0] = Value::from(-1.7e308);
    });
    refused(Kind::Resolver, &|p| {
        p["classifier"]["fitted"]["linear"]["support"]["weight"][0] = Value::from(1.7e308);
    });
    // A text id stored twice matched the index's count, and the copy vanished on load: the
    // re-save then did not load.
    let m = refused(Kind::TextIndex, &|p| {
        let first = p["texts"][0][0].clone();
        p["texts"][1][0] = first;
    });
    assert!(m.contains("stored twice"), "{m}");
}

#[test]
fn regression_kl_counts_at_the_top_of_u64_saturate() {
    // `n_seen = out_of_range = u64::MAX` loaded; the next batch wrapped `n_seen` to below the
    // window's length, a state whose re-save did not load.
    let mut env = sample(Kind::KlDrift).clone();
    env["payload"]["n_seen"] = Value::from(u64::MAX);
    env["payload"]["out_of_range"] = Value::from(u64::MAX);
    let bytes = frame(&env);
    let mut d = KlDriftDetector::from_bytes(&bytes).unwrap();
    d.add_many(&[0.5; 50], Some(2.0)).unwrap();
    let again = KlDriftDetector::from_bytes(&d.to_bytes().unwrap()).unwrap();
    assert_eq!(again.status().unwrap().n_seen, u64::MAX);
    assert_eq!(exercise(Kind::KlDrift, &bytes), Ok(true));
}
