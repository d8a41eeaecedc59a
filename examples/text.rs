//! Preprocess log lines: tokens, processed text and templates.
//! Run: `cargo run --example text -- "Connection refused to 10.0.0.7:5432"` (or pipe lines on stdin).

use std::io::BufRead;

use faultlens::{Preprocessor, PreprocessorConfig};

fn main() -> faultlens::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `--cases FILE`: print each case of a JSON list [{name, config, text}] with its outputs.
    if args.first().map(String::as_str) == Some("--cases") {
        let body = std::fs::read_to_string(&args[1])?;
        let mut cases: Vec<serde_json::Value> = serde_json::from_str(&body)
            .map_err(|e| faultlens::Error::InvalidInput(e.to_string()))?;
        for case in &mut cases {
            let config: PreprocessorConfig = serde_json::from_value(case["config"].clone())
                .map_err(|e| faultlens::Error::InvalidInput(e.to_string()))?;
            let p = Preprocessor::new(config)?;
            let text = case["text"].as_str().unwrap_or_default().to_owned();
            let t = p.template(&text);
            case["tokens"] = serde_json::json!(p.tokens(&text));
            case["masked"] = serde_json::json!(t.masked);
            case["template_id"] = serde_json::json!(t.id);
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&cases).unwrap_or_default()
        );
        return Ok(());
    }
    let p = Preprocessor::default();
    let lines: Vec<String> = if args.is_empty() {
        std::io::stdin()
            .lock()
            .lines()
            .map_while(Result::ok)
            .collect()
    } else {
        args
    };
    for line in &lines {
        let t = p.template(line);
        println!(
            "{line}\n  tokens:   {:?}\n  template: {} [{}]",
            p.tokens(line),
            t.masked,
            t.id
        );
    }
    Ok(())
}
