//! Error text → remedy on the bundled data (examples/data/errors.jsonl): pick a model by
//! cross-validation, evaluate it on held-out lines, explain one prediction, and A/B-test it
//! against naive Bayes. `cargo run --release --example classify`
use faultlens::classify::ModelKind;
use faultlens::{Artifact, ClassifierConfig, TextClassifier, compare, evaluate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let body = std::fs::read_to_string(root.join("examples/data/errors.jsonl"))?;
    let mut texts = Vec::new();
    let mut labels = Vec::new();
    for line in body.lines() {
        let v: serde_json::Value = serde_json::from_str(line)?;
        texts.push(v["error"].as_str().unwrap_or_default().to_owned());
        labels.push(v["solution"].as_str().unwrap_or_default().to_owned());
    }
    // Every 4th line is held out.
    let (mut tr_t, mut tr_l, mut te_t, mut te_l) = (vec![], vec![], vec![], vec![]);
    for (i, (t, l)) in texts.iter().zip(&labels).enumerate() {
        if i % 4 == 3 {
            te_t.push(t.clone());
            te_l.push(l.clone());
        } else {
            tr_t.push(t.clone());
            tr_l.push(l.clone());
        }
    }
    let mut auto = TextClassifier::new(ClassifierConfig {
        model: ModelKind::Auto,
        cv_folds: 3,
        ..Default::default()
    })?;
    let mut cb = |stage: &str, done: usize, total: usize| {
        if stage == "cv" {
            eprint!("\rcross-validation {done}/{total}");
        }
    };
    auto.fit_with_progress(&tr_t, &tr_l, Some(&mut cb))?;
    eprintln!();
    let info = auto.training_info()?;
    for s in &info.cv_scores {
        println!(
            "cv {:12} accuracy {:.3} macro-F1 {:.3}",
            s.model.name(),
            s.accuracy,
            s.macro_f1
        );
    }
    println!(
        "chosen: {} ({} samples, {} distinct)\n",
        info.model, info.n_samples, info.n_distinct
    );
    println!("{}", evaluate(&auto, &te_t, &te_l)?);

    let p =
        auto.predict_one("Container api-7f9c was OOMKilled (exit code 137), memory limit 512Mi")?;
    println!(
        "predict_one: {} (confidence {:.2}, reliable: {})",
        p.label, p.confidence, p.reliable
    );
    for (ngram, w) in &p.explanation {
        println!("  because of {ngram:?} ({w:+.3})");
    }

    let mut nb = TextClassifier::new(ClassifierConfig {
        model: ModelKind::NaiveBayes,
        ..Default::default()
    })?;
    nb.fit(&tr_t, &tr_l)?;
    println!(
        "\nA = naive_bayes, B = {}:\n{}",
        info.model,
        compare(&nb, &auto, &te_t, &te_l)?
    );
    let bytes = auto.to_bytes()?;
    println!("\nmodel file: {} KiB", bytes.len() / 1024);
    Ok(())
}
