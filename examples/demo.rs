//! `make demo`: the main job end to end on the bundled data (examples/data/errors.jsonl).
//! At this stage: preprocess and vectorise real error lines, show tokens and templates, the top
//! n-grams, the nearest past error for a few new ones, and the model file round trip.

use std::collections::HashMap;
use std::time::Instant;

use faultlens::{Artifact, Preprocessor, TfidfConfig, TfidfVectorizer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let body = std::fs::read_to_string(root.join("examples/data/errors.jsonl"))?;
    let rows: Vec<serde_json::Value> = body
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let errors: Vec<&str> = rows.iter().filter_map(|r| r["error"].as_str()).collect();
    let solutions: Vec<&str> = rows.iter().filter_map(|r| r["solution"].as_str()).collect();
    println!(
        "faultlens {} demo: {} past errors with their remedies\n",
        faultlens::VERSION,
        errors.len()
    );

    println!("== 1. preprocessing: tokens and templates");
    let pre = Preprocessor::default();
    for line in errors.iter().take(4) {
        let t = pre.template(line);
        println!(
            "  {line}\n    tokens:   {}\n    template: {} [{}]",
            pre.tokens(line).join(" "),
            t.masked,
            t.id
        );
    }
    let templates: std::collections::HashSet<String> = pre
        .template_batch(&errors)
        .into_iter()
        .map(|t| t.id)
        .collect();
    println!(
        "  {} lines collapse to {} templates\n",
        errors.len(),
        templates.len()
    );

    println!("== 2. TF-IDF, word 1..3-grams");
    let config = TfidfConfig {
        ngram_range: (1, 3),
        sublinear_tf: true,
        min_df: faultlens::DfBound::Count(2),
        ..Default::default()
    };
    let mut vectorizer = TfidfVectorizer::new(config)?;
    let started = Instant::now();
    let x = vectorizer.fit_transform(&errors)?;
    println!(
        "  fitted in {:.1} ms: {} features, matrix {}x{} with {} non-zeros",
        started.elapsed().as_secs_f64() * 1e3,
        vectorizer.n_features()?,
        x.n_rows,
        x.n_cols,
        x.nnz()
    );
    let names = vectorizer.feature_names()?;
    let mut weight = vec![0.0; names.len()];
    for (&j, &v) in x.indices.iter().zip(&x.data) {
        weight[j as usize] += v;
    }
    let mut top: Vec<usize> = (0..names.len())
        .filter(|&j| names[j].contains(' '))
        .collect();
    top.sort_by(|&a, &b| weight[b].total_cmp(&weight[a]));
    println!("  top n-grams by total weight:");
    for &j in top.iter().take(8) {
        println!("    {:6.2}  {}", weight[j], names[j]);
    }

    println!("\n== 3. similarity: the nearest past error for new ones");
    let new_errors = [
        "psycopg2.OperationalError: could not connect to server: Connection refused. Is the server running on host 10.9.8.7 and accepting TCP/IP connections on port 5432?",
        "Container search-abc12 was OOMKilled (exit code 137), memory limit 1024Mi",
        "dial tcp: lookup payments.svc.cluster.local on 10.0.0.10:53: no such host",
        "결제 서버 인증 실패: 사용자 payments 비밀번호 오류",
    ];
    let q = vectorizer.transform(&new_errors)?;
    for (i, e) in new_errors.iter().enumerate() {
        let (best, score) = (0..x.n_rows)
            .map(|j| (j, q.cosine(i, &x, j)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or((0, 0.0));
        println!(
            "  {e}\n    -> {:.3} like \"{}\"\n       remedy: {}",
            score, errors[best], solutions[best]
        );
    }
    let (a, b) = (
        new_errors[0],
        errors
            .iter()
            .find(|e| e.contains("HikariPool"))
            .copied()
            .unwrap_or(""),
    );
    println!(
        "  similarity of two different database errors: {:.3}",
        vectorizer.similarity(a, b)?
    );

    println!("\n== 4. model file");
    let path = std::env::temp_dir().join(format!("faultlens-demo-{}.flm", std::process::id()));
    vectorizer.save(&path)?;
    let info = faultlens::models::inspect(&path)?;
    let reloaded = TfidfVectorizer::load(&path)?;
    println!(
        "  saved {} ({} bytes, kind {}, format v{}); reloaded model equal: {}",
        path.display(),
        std::fs::metadata(&path)?.len(),
        info.kind,
        info.format_version,
        reloaded == vectorizer
    );
    std::fs::remove_file(&path)?;

    let mut per_remedy: HashMap<&str, usize> = HashMap::new();
    for s in &solutions {
        *per_remedy.entry(s).or_default() += 1;
    }
    println!(
        "\n{} remedies in the knowledge base; classification, resolver, drift and incidents come with the next capabilities.",
        per_remedy.len()
    );
    Ok(())
}
