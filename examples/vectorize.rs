//! Fit a TF-IDF vectoriser on log lines (one per line on stdin, or the bundled errors) and show
//! each line's strongest n-grams. Run: `cargo run --example vectorize < some.log`.

use std::io::{BufRead, IsTerminal};

use faultlens::{TfidfConfig, TfidfVectorizer};

fn main() -> faultlens::Result<()> {
    let piped: Vec<String> = if std::io::stdin().is_terminal() {
        Vec::new()
    } else {
        std::io::stdin()
            .lock()
            .lines()
            .map_while(Result::ok)
            .filter(|l| !l.trim().is_empty())
            .collect()
    };
    let lines = if piped.is_empty() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/errors.jsonl");
        std::fs::read_to_string(&path)?
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["error"].as_str().map(str::to_owned))
            .collect()
    } else {
        piped
    };
    let mut v = TfidfVectorizer::new(TfidfConfig {
        ngram_range: (1, 3),
        sublinear_tf: true,
        ..Default::default()
    })?;
    let x = v.fit_transform(&lines)?;
    let names = v.feature_names()?;
    println!(
        "{} lines, {} features, {} non-zeros",
        x.n_rows,
        x.n_cols,
        x.nnz()
    );
    for (i, line) in lines.iter().enumerate().take(5) {
        let (idx, val) = x.row(i);
        let mut pairs: Vec<(f64, &str)> = val
            .iter()
            .zip(idx)
            .map(|(&w, &j)| (w, names[j as usize].as_str()))
            .collect();
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
        let top: Vec<String> = pairs
            .iter()
            .take(4)
            .map(|(w, n)| format!("{n} ({w:.2})"))
            .collect();
        println!("{line}\n  {}", top.join(", "));
    }
    Ok(())
}
